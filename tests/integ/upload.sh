#!/bin/bash
# upload.sh -- WRQ.  uploads = "off" (the default) refuses with ERROR 2
# and creates nothing; "create" takes uploads of 0, 512, 513 bytes and
# 1 MiB from tftp-hpa, atftp, curl -T and busybox -p (cmp on the server),
# refuses an existing name with ERROR 6 leaving it untouched, applies the
# umask and max_upload_size (by tsize: ERROR 3; without tsize: the upload
# is cut off, nothing kept); "overwrite" replaces files atomically: an
# upload that goes silent or sends an ERROR leaves the old content and no
# .owltftpd.* temp file once the server gives up.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"

need_cmd tftp atftp curl busybox-tftp python3

SIZES="0 512 513 1048576"
SRC=$T/src
mkdir "$SRC"
for n in $SIZES; do
	mkfile "$SRC/u$n.bin" "$n"
done
mkfile "$SRC/big.bin" 1200000
mkfile "$SRC/new.bin" 200000
MAXUP=1100000

# ---------------------------------------------------------------- off
write_conf 'timeout_ms = 200' 'retries = 2'
start_server

check "uploads off (default): WRQ -> ERROR 2, no file"
probe wrq off.bin octet
expect_reply "ERROR 2*"
probe wrq off2.bin octet tsize=512 blksize=1024
expect_reply "ERROR 2*"
m=$(hpa_put "$SRC/u512.bin" off3.bin 2>&1)
[[ $m == *"Error code 2"* ]] && ok "tftp-hpa: $m" ||
    fail "tftp-hpa should report Error code 2, said: $m"
curl_put "$SRC/u512.bin" off4.bin 2>/dev/null && fail "curl -T succeeded"
[ -z "$(ls -A "$ROOT")" ] || fail "files appeared: $(ls -A "$ROOT")"
stop_server

# ---------------------------------------------------------------- create
write_conf 'uploads = "create"' \
    'permission_check = false' "max_upload_size = $MAXUP" \
    'timeout_ms = 200' 'retries = 2'
start_server

# put_check LABEL SRC REMOTE CMD...: upload and compare on the server.
put_check() {
	local label=$1 src=$2 remote=$3 rc
	shift 3
	check "$label: put $(basename "$src") as $remote"
	"$@" "$src" "$remote" > "$T/client.out" 2>&1
	rc=$?
	if [ $rc -ne 0 ]; then
		fail "$label exited with $rc: $(tail -n 3 "$T/client.out")"
	fi
	same "$src" "$ROOT/$remote"
}
curl_noopt() { curl_put "$1" "$2" --tftp-no-options; }
for n in $SIZES; do
	put_check tftp-hpa "$SRC/u$n.bin" "hpa-$n.bin" hpa_put
	put_check atftp "$SRC/u$n.bin" "atftp-$n.bin" atftp_put
	if [ "$n" -ne 0 ]; then
		# curl 7.88 sends tsize and rejects an OACK with tsize=0.
		put_check curl "$SRC/u$n.bin" "curl-$n.bin" curl_put
	fi
	put_check curl-no-options "$SRC/u$n.bin" "curlno-$n.bin" curl_noopt
	put_check busybox "$SRC/u$n.bin" "bb-$n.bin" bb_put
done

mkdir "$ROOT/sub"
put_check "curl, into a subdirectory" "$SRC/u513.bin" sub/x.bin curl_put
atftp_1468() { atftp_put "$1" "$2" --option "blksize 1468"; }
bb_8192() { bb_put "$1" "$2" -b 8192; }
put_check "atftp blksize 1468" "$SRC/u1048576.bin" atftp-1468.bin atftp_1468
put_check "busybox -b 8192" "$SRC/u1048576.bin" bb-8192.bin bb_8192

check "raw upload with windowsize 8 and blksize 1000"
raw put 127.0.0.1 "$PORT" raw-w8.bin "$SRC/u1048576.bin" \
    --opt windowsize=8 --opt blksize=1000 || fail "raw put failed"
same "$SRC/u1048576.bin" "$ROOT/raw-w8.bin"

check "uploaded files get mode 644 (umask 022)"
m=$(stat -c %a "$ROOT/hpa-512.bin")
[ "$m" = 644 ] && ok "mode $m" || fail "mode is $m"

check "create: an existing name -> ERROR 6, file untouched"
cp "$SRC/u513.bin" "$ROOT/exists.bin"
probe wrq exists.bin octet
expect_reply "ERROR 6*"
m=$(hpa_put "$SRC/u512.bin" exists.bin 2>&1)
[[ $m == *"Error code 6"* ]] && ok "tftp-hpa: $m" ||
    fail "tftp-hpa should report Error code 6, said: $m"
curl_put "$SRC/u512.bin" exists.bin 2>/dev/null && fail "curl -T succeeded"
same "$SRC/u513.bin" "$ROOT/exists.bin"

check "upload into a missing directory is refused, nothing created"
probe wrq nodir/x.bin octet
expect_reply "ERROR *"
[ ! -e "$ROOT/nodir" ] || fail "nodir was created"

check "max_upload_size $MAXUP: WRQ with a larger tsize -> ERROR 3"
probe wrq toobig.bin octet tsize=$((MAXUP + 1))
expect_reply "ERROR 3*"
curl_put "$SRC/big.bin" toobig.bin 2>/dev/null && fail "curl -T succeeded"
[ ! -e "$ROOT/toobig.bin" ] || fail "toobig.bin exists"

check "max_upload_size: tsize exactly at the limit is accepted"
probe wrq atlimit.bin octet tsize=$MAXUP
oack_has tsize=$MAXUP

check "max_upload_size: an upload without tsize is cut off with ERROR 3"
raw put 127.0.0.1 "$PORT" toobig2.bin "$SRC/big.bin" --expect-error 3 ||
    fail "the oversized upload was not refused with ERROR 3"
check "max_upload_size: tftp-hpa (no tsize) oversized upload refused"
m=$(hpa_put "$SRC/big.bin" toobig3.bin 2>&1)
[[ $m == *"Error code 3"* ]] && ok "tftp-hpa: $m" ||
    fail "tftp-hpa should report Error code 3, said: $m"
for f in toobig2.bin toobig3.bin atlimit.bin; do
	wait_xfer "$f" 'op=wrq' 1 10
	[ ! -e "$ROOT/$f" ] || fail "$f exists ($(stat -c %s "$ROOT/$f") bytes)"
done
no_temp_files "$ROOT"
stop_server

# ---------------------------------------------------------------- overwrite
rm -rf "${ROOT:?}"/*
write_conf 'uploads = "overwrite"' \
    'permission_check = false' 'timeout_ms = 200' 'retries = 2' \
    'umask = "027"'
start_server

check "overwrite: tftp-hpa, atftp, curl, busybox replace existing files"
for c in hpa atftp curl bb; do
	cp "$SRC/u513.bin" "$ROOT/ow-$c.bin"
	put_check "overwrite $c" "$SRC/u1048576.bin" "ow-$c.bin" "${c}_put"
	put_check "overwrite $c (shrink)" "$SRC/u512.bin" "ow-$c.bin" \
	    "${c}_put"
done

check "overwrite: a new file gets mode 640 (umask 027)"
put_check "new file" "$SRC/u512.bin" fresh.bin curl_put
m=$(stat -c %a "$ROOT/fresh.bin")
[ "$m" = 640 ] && ok "mode $m" || fail "mode is $m"

# atomic LABEL RAWPUT-ARGS...: the old victim must survive.
atomic() {
	local label=$1
	shift
	mkfile "$ROOT/victim.bin" 100000
	cp "$ROOT/victim.bin" "$T/victim.orig"
	check "atomic: $label"
	raw put 127.0.0.1 "$PORT" victim.bin "$SRC/new.bin" "$@" ||
	    fail "raw put failed"
	same "$T/victim.orig" "$ROOT/victim.bin"
}

atomic "client goes silent after 10 blocks" --stop-after 10
check "atomic: while the upload hangs, a temp file exists in the target dir"
tmp=$(find "$ROOT" -maxdepth 1 -name '.owltftpd.*')
[ -n "$tmp" ] && ok "temp: $tmp" ||
    fail "no .owltftpd.* file during the upload"
check "atomic: the server gives up (result=timeout), old content intact"
wait_xfer victim.bin 'op=wrq .*result=timeout' 1 10
same "$T/victim.orig" "$ROOT/victim.bin"
no_temp_files "$ROOT"

atomic "client sends ERROR after 10 blocks" --error-after 10
check "atomic: the transfer ends (client ERROR), old content intact"
wait_xfer victim.bin 'op=wrq .*result=peer_error' 1 10
same "$T/victim.orig" "$ROOT/victim.bin"
no_temp_files "$ROOT"

check "atomic: stopping the server mid-upload keeps the old file"
mkfile "$ROOT/victim.bin" 100000
cp "$ROOT/victim.bin" "$T/victim.orig"
raw put 127.0.0.1 "$PORT" victim.bin "$SRC/new.bin" --stop-after 5 \
    --opt timeout=20 || fail "raw put failed"
stop_server
same "$T/victim.orig" "$ROOT/victim.bin"
no_temp_files "$ROOT"
start_server

check "overwrite: a complete raw upload replaces the victim"
raw put 127.0.0.1 "$PORT" victim.bin "$SRC/new.bin" || fail "raw put failed"
same "$SRC/new.bin" "$ROOT/victim.bin"
no_temp_files "$ROOT"

check "server still running"
alive && ok || fail "server died"

finish
