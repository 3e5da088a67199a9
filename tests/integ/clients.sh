#!/bin/bash
# clients.sh -- downloads with every Debian client: tftp-hpa, atftp, curl
# (default, --tftp-blksize 1468 and 8192, --tftp-no-options) and busybox
# tftp (-b), of files of 0, 1, 511, 512, 513 bytes and 1 MiB; each result
# compared byte for byte, and each transfer found in the log as result=ok.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"

need_cmd tftp atftp curl busybox-tftp python3

SIZES="0 1 511 512 513 1048576"
for n in $SIZES; do
	mkfile "$ROOT/f$n.bin" "$n"
done

write_conf
start_server

declare -A NGET		# downloads attempted, per file

# run_get LABEL FILE CMD...: run a download into $OUT/LABEL-FILE and compare.
run_get() {
	local label=$1 f=$2 dst rc
	shift 2
	dst=$OUT/$label-$f
	rm -f "$dst"
	check "$label: get $f"
	NGET[$f]=$((${NGET[$f]:-0} + 1))
	"$@" "$f" "$dst" > "$T/client.out" 2>&1
	rc=$?
	if [ "$rc" -ne 0 ]; then
		fail "$label exited with status $rc for $f:" \
		    "$(tail -n 5 "$T/client.out")"
		return
	fi
	same "$ROOT/$f" "$dst"
}

hpa() { hpa_get "$1" "$2"; }
atftp_plain() { atftp_get "$1" "$2"; }
atftp_1468() { atftp_get "$1" "$2" --option "blksize 1468"; }
atftp_tsize() { atftp_get "$1" "$2" --option "tsize 0"; }
curl_plain() { curl_get "$1" "$2"; }
curl_1468() { curl_get "$1" "$2" --tftp-blksize 1468; }
curl_8192() { curl_get "$1" "$2" --tftp-blksize 8192; }
curl_noopt() { curl_get "$1" "$2" --tftp-no-options; }
bb_plain() { bb_get "$1" "$2"; }
bb_1468() { bb_get "$1" "$2" -b 1468; }
bb_8192() { bb_get "$1" "$2" -b 8192; }

for n in $SIZES; do
	f=f$n.bin
	run_get tftp-hpa "$f" hpa
	run_get atftp "$f" atftp_plain
	run_get atftp-blksize1468 "$f" atftp_1468
	run_get atftp-tsize "$f" atftp_tsize
	# curl 7.88 sends tsize=0 by default and rejects an OACK saying
	# tsize=0, so the empty file is fetched without options.
	if [ "$n" -ne 0 ]; then
		run_get curl "$f" curl_plain
		run_get curl-blksize1468 "$f" curl_1468
		run_get curl-blksize8192 "$f" curl_8192
	fi
	run_get curl-no-options "$f" curl_noopt
	run_get busybox "$f" bb_plain
	run_get busybox-b1468 "$f" bb_1468
	run_get busybox-b8192 "$f" bb_8192
done

# Concurrency: the transfers of a worker share one socket, demultiplexed
# by peer address; 24 clients at once must each get their own bytes.
check "24 concurrent downloads (curl, atftp, busybox; 1 MiB and 513 B)"
pids=
for i in $(seq 1 8); do
	curl_get f1048576.bin "$OUT/par-curl-$i" --tftp-blksize $((500 + i * 100)) \
	    > /dev/null 2>&1 &
	pids="$pids $!"
	atftp_get f1048576.bin "$OUT/par-atftp-$i" --option "blksize 1468" \
	    > /dev/null 2>&1 &
	pids="$pids $!"
	bb_get f513.bin "$OUT/par-bb-$i" > /dev/null 2>&1 &
	pids="$pids $!"
done
nbad=0
for p in $pids; do
	wait "$p" || nbad=$((nbad + 1))
done
[ $nbad -eq 0 ] || fail "$nbad of 24 concurrent clients failed"
for i in $(seq 1 8); do
	same "$ROOT/f1048576.bin" "$OUT/par-curl-$i"
	same "$ROOT/f1048576.bin" "$OUT/par-atftp-$i"
	same "$ROOT/f513.bin" "$OUT/par-bb-$i"
done
NGET[f1048576.bin]=$((${NGET[f1048576.bin]} + 16))
NGET[f513.bin]=$((${NGET[f513.bin]} + 8))

check "raw: 1 MiB at the largest blksize, 65464 (64 KiB datagrams)"
raw get 127.0.0.1 "$PORT" f1048576.bin --opt blksize=65464 \
    --expect "$ROOT/f1048576.bin" --expect-oack blksize=65464 ||
    fail "raw get failed"
NGET[f1048576.bin]=$((${NGET[f1048576.bin]} + 1))

check "the log has one 'xfer end ... result=ok' per download"
for n in $SIZES; do
	wait_xfer "f$n.bin" 'op=rrq .*result=ok' "${NGET[f$n.bin]}" 10
	bad=$(xfer_lines "f$n.bin" | grep -v 'result=ok')
	[ -z "$bad" ] || fail "not ok: $bad"
done

check "the log line reports bytes=1048576 and mode=octet for the 1 MiB file"
if xfer_lines f1048576.bin | grep -q 'mode=octet.*bytes=1048576'; then
	ok
else
	fail "no such line: $(xfer_lines f1048576.bin | head -n 2)"
fi

check "a missing file: tftp-hpa, atftp and curl all fail, nothing written"
rm -f "$OUT/missing"
# tftp-hpa exits 0 even on an ERROR; it prints "Error code N: ...".
m=$(hpa_get no-such-file "$OUT/missing-h" 2>&1)
case $m in
*"Error code 1"*) ok "tftp-hpa: $m" ;;
*) fail "tftp-hpa should report Error code 1, said: $m" ;;
esac
curl_get no-such-file "$OUT/missing" 2>/dev/null && fail "curl succeeded"
atftp_get no-such-file "$OUT/missing-a" >/dev/null 2>&1 &&
    fail "atftp succeeded"
r=$(raw probe 127.0.0.1 "$PORT" rrq no-such-file octet)
case $r in
"ERROR 1 "*|"ERROR 1") ok "raw: $r" ;;
*) fail "want ERROR 1 (file not found), got: $r" ;;
esac

check "server still running"
alive && ok || fail "server died"

finish
