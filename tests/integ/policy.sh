#!/bin/bash
# policy.sh -- who may do what, and where replies come from.
#
# read_acl/write_acl: the raw client binds 127.0.0.1, .2, .3 and .5 as
# its source; refused requests get ERROR 2, create nothing and count in
# acl_denied, error_sent_access and refused; the first matching rule
# wins and a non-empty list refuses a client no rule matches.
# remap: a PXE-style path rewritten into a subdirectory, \i giving every
# client its own file, a deny rule (ERROR 2, remap_denied), "last", rules
# for reads only and for writes only, and the built-ins (a trailing run
# of non-printable bytes stripped, backslashes, lowercase when on).
# unique_root = "ip": root/ADDRESS/NAME first, root/NAME as the fallback
# for reads, uploads into root/ADDRESS/.
# port_range: the TID port of many transfers (both workers) is in LO:HI;
# a one-port range for two workers: what happens is logged.
# single_port: every reply comes from the listen port; curl, atftp
# (windowsize 16) and tftp-hpa download and upload through it.
# blksize from the MTU: server and client in a private network namespace
# whose lo has MTU 1500 (then 9000): blksize 8192 is granted as 1468
# (8968) without blksize_max, as 8192 with blksize_max = 65464.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"

need_cmd python3 curl tftp atftp

NS=
REAL_OWLTFTPD=$OWLTFTPD
policy_cleanup() {
	if [ -n "$NS" ]; then
		ip netns del "$NS" 2>/dev/null
	fi
}
trap 'rc=$?; policy_cleanup; (exit $rc); cleanup' EXIT

SRC=$T/src
mkdir "$SRC"
mkfile "$SRC/up.bin" 3000
mkfile "$SRC/up2.bin" 2500
mkfile "$SRC/big.bin" 300000

# xget_ok LABEL NAME EXPECT [XGET ARGS...]: a raw download must succeed
# with the content of EXPECT.
xget_ok() {
	local label=$1 name=$2 want=$3 out
	shift 3
	check "$label"
	out=$(raw xget 127.0.0.1 "$PORT" "$name" --expect "$want" "$@" 2>&1)
	if [ $? -eq 0 ]; then
		ok "$label: $(echo "$out" | grep -m1 '^tid=')"
	else
		fail "$(echo "$out" | grep -E 'FAIL|ERROR' | head -n 3)"
	fi
}

# refused_from SRC OP NAME GLOB: a request from SRC gets a reply
# matching GLOB (an ERROR).
refused_from() {
	check "$2 $(printf '%q' "$3") from $1 -> $4"
	probe_from "$1" "$2" "$3" octet
	expect_reply "$4"
}

# ================================================================ ACLs
echo "=== read_acl / write_acl"
mkfile "$ROOT/f.bin" 5000
write_conf 'uploads = "create"' 'permission_check = false' \
    'read_acl = [ "allow 127.0.0.1", "deny 127.0.0.2/32" ]' \
    'write_acl = [ "deny 127.0.0.2", "allow 127.0.0.0/30", "deny all" ]'
start_server

xget_ok "read_acl: 127.0.0.1 (allow) may read" f.bin "$ROOT/f.bin" \
    --src 127.0.0.1
check "read_acl: curl from 127.0.0.1 may read"
curl_get f.bin "$OUT/acl-curl" || fail "curl exited with $?"
same "$ROOT/f.bin" "$OUT/acl-curl"
refused_from 127.0.0.2 rrq f.bin "ERROR 2 *"
refused_from 127.0.0.3 rrq f.bin "ERROR 2 *"	# no rule matches: refused
check "read_acl: the refusal is logged (result=refused code=2)"
wait_xfer f.bin 'result=refused code=2' 2 5

check "write_acl: 127.0.0.1 may upload"
raw xput 127.0.0.1 "$PORT" w1.bin "$SRC/up.bin" --src 127.0.0.1 \
    > /dev/null || fail "upload from 127.0.0.1 failed"
same "$SRC/up.bin" "$ROOT/w1.bin"
check "write_acl: 127.0.0.3 (allow 127.0.0.0/30) may upload"
raw xput 127.0.0.1 "$PORT" w3.bin "$SRC/up2.bin" --src 127.0.0.3 \
    > /dev/null || fail "upload from 127.0.0.3 failed"
same "$SRC/up2.bin" "$ROOT/w3.bin"
# First match wins: 127.0.0.2 is inside 127.0.0.0/30 but the deny comes
# first; 127.0.0.5 only matches "deny all".
refused_from 127.0.0.2 wrq w2.bin "ERROR 2 *"
refused_from 127.0.0.5 wrq w5.bin "ERROR 2 *"
check "write_acl: an upload refused by the ACL sends no ACK, creates nothing"
raw xput 127.0.0.1 "$PORT" w2b.bin "$SRC/up.bin" --src 127.0.0.2 \
    --expect-error 2 > /dev/null || fail "not refused with ERROR 2"
left=$(find "$ROOT" -name 'w2*' -o -name 'w5*' -o -name '.owltftpd.*')
[ -z "$left" ] && ok "nothing created" || fail "created: $left"

check "counters: acl_denied=5 (3 writes, 2 reads), error_sent_access=5"
expect_stat acl_denied 5
expect_stat error_sent_access 5
expect_stat refused 5
stop_server

# ================================================================ remap
echo "=== remap rules and built-ins"
rm -rf "${ROOT:?}"/*
mkdir -p "$ROOT/pxe/cfg" "$ROOT/clients/127.0.0.1" \
    "$ROOT/clients/127.0.0.2" "$ROOT/incoming" "$ROOT/pub" "$ROOT/boot"
mkfile "$ROOT/pxe/cfg/01-aa-bb" 700
mkfile "$ROOT/clients/127.0.0.1/boot.txt" 1001
mkfile "$ROOT/clients/127.0.0.2/boot.txt" 1002
mkfile "$ROOT/pub/x.bin" 900
mkfile "$ROOT/secret.txt" 100
mkfile "$ROOT/boot/menu.cfg" 600
mkfile "$ROOT/pxelinux.0" 4000
# Rule 2 is "last": without it rule 3 would deny every clients/ path.
write_conf 'uploads = "create"' \
    'permission_check = false' 'remap_lowercase = true' \
    'remap_strip_nonprint = true' 'remap = (
  { match = "^/?pxelinux\\.cfg/(.*)$"; replace = "pxe/cfg/\\1";
    op = "read"; },
  { match = "^per-client/(.*)$"; replace = "clients/\\i/\\1";
    last = true; },
  { match = "^clients/"; action = "deny"; },
  { match = "^secret"; action = "deny"; },
  { match = "^up/(.*)$"; replace = "incoming/\\1"; op = "write"; },
  { match = "^up/(.*)$"; replace = "pub/\\1"; op = "read"; } )'
start_server

xget_ok "remap: pxelinux.cfg/01-aa-bb is served from pxe/cfg/" \
    pxelinux.cfg/01-aa-bb "$ROOT/pxe/cfg/01-aa-bb"
xget_ok "remap: /pxelinux.cfg/01-AA-BB (leading slash, upper case)" \
    /PXELINUX.CFG/01-AA-BB "$ROOT/pxe/cfg/01-aa-bb"
xget_ok "remap \\i: per-client/boot.txt from 127.0.0.1" per-client/boot.txt \
    "$ROOT/clients/127.0.0.1/boot.txt" --src 127.0.0.1
xget_ok "remap \\i: per-client/boot.txt from 127.0.0.2 (its own file)" \
    per-client/boot.txt "$ROOT/clients/127.0.0.2/boot.txt" --src 127.0.0.2
refused_from 127.0.0.1 rrq clients/127.0.0.2/boot.txt "ERROR 2 *"
refused_from 127.0.0.1 rrq secret.txt "ERROR 2 *"
refused_from 127.0.0.1 rrq SECRET.TXT "ERROR 2 *"	# lowercased first
refused_from 127.0.0.1 wrq secret-upload.bin "ERROR 2 *"
check "remap: the deny rule's refusal is logged (result=refused code=2)"
wait_xfer secret.txt 'result=refused code=2' 1 5

check "remap per op: WRQ up/new.bin is stored as incoming/new.bin"
raw xput 127.0.0.1 "$PORT" up/new.bin "$SRC/up.bin" > /dev/null ||
    fail "upload failed"
same "$SRC/up.bin" "$ROOT/incoming/new.bin"
[ ! -e "$ROOT/pub/new.bin" ] && [ ! -e "$ROOT/up" ] ||
    fail "the upload also went elsewhere: $(ls "$ROOT/pub" "$ROOT" | tr '\n' ' ')"
xget_ok "remap per op: RRQ up/x.bin reads pub/x.bin" up/x.bin \
    "$ROOT/pub/x.bin"
refused_from 127.0.0.1 rrq up/new.bin "ERROR 1 *"  # reads see pub/ only
check "remap per op: a read-only rule does not rewrite a WRQ"
probe_from 127.0.0.1 wrq pxelinux.cfg/zz octet
expect_reply "ERROR *"
[ ! -e "$ROOT/pxe/cfg/zz" ] && ok "pxe/cfg/zz not created" ||
    fail "the WRQ was rewritten into pxe/cfg/zz"

xget_ok "built-in lowercase: BOOT/Menu.CFG" BOOT/Menu.CFG \
    "$ROOT/boot/menu.cfg"
xget_ok "built-in backslash: boot\\menu.cfg" 'boot\menu.cfg' \
    "$ROOT/boot/menu.cfg"
xget_ok "built-in strip: pxelinux.0 + \\x01\\x1f\\x7f (control bytes)" \
    $'pxelinux.0\x01\x1f\x7f' "$ROOT/pxelinux.0"
xget_ok "built-in strip: pxelinux.0 + \\x01\\xff (non-printable bytes)" \
    $'pxelinux.0\x01\xff' "$ROOT/pxelinux.0"
# Not trailing, so not stripped: a control byte inside a name is refused.
refused_from 127.0.0.1 rrq $'pxe\x01linux.0' "ERROR 2 *"

check "counters: remap_denied=4, error_sent_access=5 (4 + the control byte)"
expect_stat remap_denied 4
expect_stat error_sent_access 5
expect_stat acl_denied 0
stop_server

# ================================================================ unique_root
echo "=== unique_root = \"ip\""
rm -rf "${ROOT:?}"/*
mkdir "$ROOT/127.0.0.1" "$ROOT/127.0.0.2"
mkfile "$ROOT/x.txt" 1500
mkfile "$ROOT/127.0.0.1/x.txt" 1600
mkfile "$ROOT/only-base.txt" 1700
mkfile "$ROOT/pxelinux.0" 2000
mkdir "$ROOT/sub"
mkfile "$ROOT/sub/x.txt" 1800
write_conf 'uploads = "create"' 'permission_check = false' 'unique_root = "ip"'
start_server

xget_ok "unique_root: 127.0.0.1 gets root/127.0.0.1/x.txt" x.txt \
    "$ROOT/127.0.0.1/x.txt" --src 127.0.0.1
xget_ok "unique_root: 127.0.0.2 (no x.txt of its own) falls back to root" \
    x.txt "$ROOT/x.txt" --src 127.0.0.2
xget_ok "unique_root: 127.0.0.3 (no directory) falls back to root" \
    x.txt "$ROOT/x.txt" --src 127.0.0.3
xget_ok "unique_root: 127.0.0.1 reads only-base.txt from root" \
    only-base.txt "$ROOT/only-base.txt" --src 127.0.0.1
# The default built-ins: only backslash; trailing control bytes are
# not stripped (such a name is refused), nothing is lowercased.
refused_from 127.0.0.1 rrq $'pxelinux.0\x01\x02' "ERROR *"
refused_from 127.0.0.1 rrq PXELINUX.0 "ERROR 1 *"
xget_ok "unique_root with the default built-ins: sub\\x.txt (backslash)" \
    'sub\x.txt' "$ROOT/sub/x.txt"
check "unique_root: an upload from 127.0.0.1 goes to root/127.0.0.1/"
raw xput 127.0.0.1 "$PORT" new.bin "$SRC/up.bin" --src 127.0.0.1 \
    > /dev/null || fail "upload failed"
same "$SRC/up.bin" "$ROOT/127.0.0.1/new.bin"
check "unique_root: an upload from 127.0.0.2 goes to root/127.0.0.2/"
raw xput 127.0.0.1 "$PORT" new.bin "$SRC/up2.bin" --src 127.0.0.2 \
    > /dev/null || fail "upload failed"
same "$SRC/up2.bin" "$ROOT/127.0.0.2/new.bin"
check "unique_root: nothing was written to root/new.bin"
[ ! -e "$ROOT/new.bin" ] && ok || fail "root/new.bin exists"
xget_ok "unique_root: 127.0.0.2 reads back its own new.bin" new.bin \
    "$SRC/up2.bin" --src 127.0.0.2
refused_from 127.0.0.3 wrq new.bin "ERROR *"  # root/127.0.0.3/ missing
check "unique_root: the refused upload created nothing"
[ ! -e "$ROOT/127.0.0.3" ] && [ ! -e "$ROOT/new.bin" ] && ok ||
    fail "created: $(ls "$ROOT")"
# Through the root fallback one client must not read another's files.
refused_from 127.0.0.2 rrq 127.0.0.1/x.txt "ERROR 2 *"
stop_server

# ================================================================ port_range
echo "=== port_range"
rm -rf "${ROOT:?}"/*
mkfile "$ROOT/p.bin" 1200
LO=$((20000 + ($$ * 7) % 30000))
HI=$((LO + 9))
write_conf 'uploads = "create"' \
    'permission_check = false' "port_range = \"$LO:$HI\"" 'workers = 2'
start_server
workers 2 > /dev/null

check "port_range $LO:$HI: 24 downloads from fresh ports, both workers"
raw tids 127.0.0.1 "$PORT" p.bin --expect "$ROOT/p.bin" --count 24 \
    --range "$LO:$HI" --distinct 2 || fail "tids scenario failed"
check "port_range: an upload's TID port is in $LO:$HI"
out=$(raw xput 127.0.0.1 "$PORT" pr.bin "$SRC/up.bin" 2>&1)
tid=$(echo "$out" | sed -n 's/.* TID \([0-9]*\).*/\1/p')
[ -n "$tid" ] && [ "$tid" -ge "$LO" ] && [ "$tid" -le "$HI" ] &&
    ok "TID $tid" || fail "TID '${tid}': $out"
check "port_range: the workers' sockets are bound inside $LO:$HI"
bad=
for w in $(workers); do
	for p in $(ss -Huanp 2>/dev/null | grep "pid=$w," |
	    awk '{ n = split($4, a, ":"); print a[n] }'); do
		[ "$p" = "$PORT" ] && continue
		if [ "$p" -lt "$LO" ] || [ "$p" -gt "$HI" ]; then
			bad="$bad $w:$p"
		fi
	done
done
[ -z "$bad" ] && ok "all transfer sockets in range" ||
    fail "sockets outside the range:$bad"
stop_server

check "port_range smaller than 2 x workers is a configuration error"
P1=$((HI + 1))
write_conf "port_range = \"$P1:$((P1 + 2))\"" 'workers = 2'
out=$("$OWLTFTPD" -t -c "$CONF" 2>&1) && fail "-t accepted it: $out" ||
    { echo "$out" | grep -q 'port_range: 3 ports for 2 workers' &&
    ok "$out" || fail "unclear message: $out"; }

check "ports of the range taken by others: the start fails and says why"
# Four ports for two workers; something else holds three of them.  A
# start is committed only when every worker is ready, so one worker
# without a port fails the whole start (status 1, the reason) instead of
# serving half the port.
write_conf "port_range = \"$P1:$((P1 + 3))\"" 'workers = 2'
raw holdports 0.0.0.0 "$P1" --count 3 --seconds 30 > "$T/holder.out" &
HOLDER=$!
wait_for 5 grep -q held "$T/holder.out" || fail "could not hold the ports"
out=$(timeout -k 2 20 "$OWLTFTPD" -F -c "$CONF" 2>&1 < /dev/null)
rc=$?
[ $rc -eq 1 ] && ok "status 1" || fail "status $rc, want 1"
echo "$out" | grep -q "cannot start: $CONF: port_range: $P1:$((P1 + 3)): no free port" &&
    ok "$(echo "$out" | grep -m1 'cannot start')" ||
    fail "no 'cannot start: ... port_range: ... no free port': $out"
echo "$out" | grep -qE 'respawning (now|in)' &&
    fail "a worker was respawned: $(echo "$out" | grep -m1 respawning)"
kill "$HOLDER" 2>/dev/null
wait "$HOLDER" 2>/dev/null

# ================================================================ single_port
echo "=== single_port = true"
rm -rf "${ROOT:?}"/*
mkfile "$ROOT/s.bin" 200000
mkfile "$ROOT/s2.bin" 70001
write_conf 'uploads = "create"' \
    'permission_check = false' 'single_port = true' 'workers = 2'
start_server

xget_ok "single_port: raw download, every reply from the listen port" \
    s.bin "$ROOT/s.bin" --single-port
xget_ok "single_port: raw download with windowsize 16, blksize 1024" \
    s.bin "$ROOT/s.bin" --single-port --opt windowsize=16 --opt blksize=1024 \
    --expect-oack windowsize=16
check "single_port: two raw downloads at once"
raw xget 127.0.0.1 "$PORT" s.bin --expect "$ROOT/s.bin" --single-port \
    > "$T/sp1.out" 2>&1 &
p1=$!
raw xget 127.0.0.1 "$PORT" s2.bin --expect "$ROOT/s2.bin" --single-port \
    --opt windowsize=16 > "$T/sp2.out" 2>&1 &
p2=$!
wait $p1 && wait $p2 && ok "both complete" ||
    fail "$(grep -h FAIL "$T/sp1.out" "$T/sp2.out" | head -n 3)"
check "single_port: raw upload, every reply from the listen port"
raw xput 127.0.0.1 "$PORT" sp-raw.bin "$SRC/big.bin" --single-port \
    --opt windowsize=16 > /dev/null || fail "raw upload failed"
same "$SRC/big.bin" "$ROOT/sp-raw.bin"

# client_check LABEL CMD...: run a real client, which must exit 0.
client_check() {
	local label=$1
	shift
	check "single_port: $label"
	"$@" > "$T/client.out" 2>&1 ||
	    fail "$label exited with $?: $(tail -n 3 "$T/client.out")"
}
client_check "curl download" curl_get s.bin "$OUT/sp-curl"
same "$ROOT/s.bin" "$OUT/sp-curl"
client_check "tftp-hpa download" hpa_get s.bin "$OUT/sp-hpa"
same "$ROOT/s.bin" "$OUT/sp-hpa"
client_check "atftp download, windowsize 16" atftp_get s.bin \
    "$OUT/sp-atftp" --option "windowsize 16" --option "blksize 1428"
same "$ROOT/s.bin" "$OUT/sp-atftp"
client_check "curl upload" curl_put "$SRC/big.bin" sp-curl.bin
same "$SRC/big.bin" "$ROOT/sp-curl.bin"
client_check "tftp-hpa upload" hpa_put "$SRC/big.bin" sp-hpa.bin
same "$SRC/big.bin" "$ROOT/sp-hpa.bin"
client_check "atftp upload, windowsize 16" atftp_put "$SRC/big.bin" \
    sp-atftp.bin --option "windowsize 16"
same "$SRC/big.bin" "$ROOT/sp-atftp.bin"
check "single_port: the log records windowsize=16 for atftp's transfers"
wait_xfer s.bin 'opts="[^"]*windowsize=16.*result=ok' 2 5
check "single_port: the workers opened no transfer socket"
n=0
for w in $(workers); do
	n=$((n + $(ss -Huanp 2>/dev/null | grep "pid=$w," |
	    grep -vc ":$PORT ")))
done
[ "$n" -eq 0 ] && ok "only the listen port" ||
    fail "$n UDP sockets besides the listen port: $(ss -Huanp |
	grep owltftpd | head -n 4)"
stop_server

# ================================================================ MTU
echo "=== blksize from the interface MTU (private network namespace)"
NSNAME=owlt$$-mtu
if ! ip netns add "$NSNAME" 2>"$T/netns.err"; then
	echo "cannot create a network namespace: $(cat "$T/netns.err")" >&2
	if [ "$FAILS" -ne 0 ]; then
		finish
	fi
	echo "SKIP: $TEST_NAME: the MTU checks need 'ip netns add'" \
	    "(every other check passed)" >&2
	exit 77
fi
NS=$NSNAME
# Some sandboxes let a namespace be made but not entered.
if ! ip netns exec "$NS" ip link set lo up 2>"$T/netns.err"; then
	echo "cannot enter the network namespace: $(cat "$T/netns.err")" >&2
	if [ "$FAILS" -ne 0 ]; then
		finish
	fi
	echo "SKIP: $TEST_NAME: the MTU checks need 'ip netns exec'" \
	    "(every other check passed)" >&2
	exit 77
fi
cat > "$T/ns-owltftpd" <<EOF
#!/bin/sh
exec ip netns exec $NS $REAL_OWLTFTPD "\$@"
EOF
chmod 755 "$T/ns-owltftpd"
OWLTFTPD=$T/ns-owltftpd
mkfile "$ROOT/m.bin" 100000

# ns_raw SCENARIO ARGS...: the raw client inside the namespace.
ns_raw() {
	timeout -k 2 60 ip netns exec "$NS" python3 "$RAWTFTP" "$@"
}
# mtu_case MTU BLKSIZE_MAX(or "") ASK WANT
mtu_case() {
	local mtu=$1 bmax=$2 ask=$3 want=$4
	ip netns exec "$NS" ip link set lo mtu "$mtu" ||
	    die "cannot set the MTU of lo in $NS"
	if [ -n "$bmax" ]; then
		write_conf "blksize_max = $bmax"
	else
		write_conf
	fi
	start_server
	check "MTU $mtu, blksize_max ${bmax:-unset}: blksize $ask -> $want"
	REPLY=$(ns_raw probe 127.0.0.1 "$PORT" rrq m.bin octet \
	    "blksize=$ask" 2>&1)
	oack_has "blksize=$want"
	check "MTU $mtu, blksize_max ${bmax:-unset}: download, no block" \
	    "above $want"
	ns_raw get 127.0.0.1 "$PORT" m.bin --opt "blksize=$ask" \
	    --expect "$ROOT/m.bin" --expect-oack "blksize=$want" > "$T/ns.out" \
	    2>&1 && ok "$(grep -m1 '^got' "$T/ns.out")" ||
	    fail "$(grep FAIL "$T/ns.out" | head -n 3)"
	stop_server
}
mtu_case 1500 "" 8192 1468
mtu_case 1500 "" 1000 1000
mtu_case 1500 65464 8192 8192
mtu_case 9000 "" 65464 8968
OWLTFTPD=$REAL_OWLTFTPD

finish
