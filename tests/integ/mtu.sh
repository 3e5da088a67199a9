#!/bin/bash
# mtu.sh -- windows of DATA larger than the link's MTU.
#
# Two network namespaces this script creates (owmtuPID-s, owmtuPID-c),
# joined by a veth pair with MTU 1280: the server listens on 10.78.0.1,
# the clients run at 10.78.0.2 (and .3).  blksize_max = 8192, above the
# MTU (the default, 0, fits blocks to the MTU: case 2).  A UDP GSO send
# cannot carry segments larger than the MTU (the kernel says EMSGSIZE),
# so such a window must leave one datagram per block, which the kernel
# fragments, as tftpd-hpa and atftpd send them; it used to be dropped,
# window after window, until the transfer timed out, without a word.
#
#  1. the raw client (blksize 4096, windowsize 8) and atftp (the same
#     options) download byte-exact; their lines say dup=0 send_failed=0;
#     one warning names eth0, however many transfers (one worker: it is
#     once per interface and worker); gso_fallback grew, send_failed did
#     not.
#  2. blksize_max = 0: the OACK grants 1248 (1280 - 32) and the windows
#     leave as GSO sends, with no warning.
#  3. the kernel refuses every reply to 10.78.0.3 (a "prohibit" route):
#     the transfer times out and its log line, its audit event and the
#     stats count the refused datagrams (send_failed).
#
# Exits 77 (SKIP) when namespaces or veth pairs cannot be made.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"

need_cmd python3 atftp ip
py_resolve

REAL_OWLTFTPD=$OWLTFTPD
SRV=10.78.0.1
CLI=10.78.0.2
BAD=10.78.0.3			# replies to it are refused by the kernel
MTU=1280
P=owmtu$$-
NS_S=${P}s
NS_C=${P}c
NSS=()

mtu_cleanup() {
	local n
	for n in "${NSS[@]}"; do
		ip netns del "$n" 2>/dev/null
	done
}
trap 'rc=$?; mtu_cleanup; (exit $rc); cleanup' EXIT

mtu_skip() {
	echo "SKIP: mtu: needs network namespaces ($*)" >&2
	exit 77
}

add_ns() {
	ip netns add "$1" 2>"$T/netns.err" ||
	    mtu_skip "ip netns add: $(head -n 1 "$T/netns.err")"
	NSS+=("$1")
	ip -n "$1" link set lo up || mtu_skip "cannot bring lo up in $1"
}

add_ns "$NS_S"
add_ns "$NS_C"
# Both ends are made inside our namespaces: no name in the root one.
ip -n "$NS_S" link add eth0 type veth peer name eth0 netns "$NS_C" \
    2>"$T/netns.err" || mtu_skip "veth: $(head -n 1 "$T/netns.err")"
ip -n "$NS_S" addr add "$SRV/24" dev eth0 &&
    ip -n "$NS_S" link set eth0 mtu "$MTU" up &&
    ip -n "$NS_C" addr add "$CLI/24" dev eth0 &&
    ip -n "$NS_C" addr add "$BAD/24" dev eth0 &&
    ip -n "$NS_C" link set eth0 mtu "$MTU" up ||
    mtu_skip "cannot configure the veth pair"
ip -n "$NS_S" route add prohibit "$BAD/32" 2>"$T/netns.err" ||
    mtu_skip "prohibit route: $(head -n 1 "$T/netns.err")"

cat > "$T/ns-owltftpd" <<EOF
#!/bin/sh
exec ip netns exec $NS_S $REAL_OWLTFTPD "\$@"
EOF
chmod 755 "$T/ns-owltftpd"
OWLTFTPD=$T/ns-owltftpd

# in_c CMD...: run CMD in the client namespace, bounded in time.
in_c() {
	timeout -k 2 "$CLIENT_TIMEOUT" ip netns exec "$NS_C" "$@"
}

AUDIT=$T/audit.json
mkfile "$ROOT/big.bin" $((200 * 1024))
mkfile "$ROOT/small.bin" 3000

# warnings N: how many times the log warned about eth0's MTU.
warnings() {
	grep -a 'eth0' "$LOG" | grep -ac 'MTU'
}

# ================================================================ 1
echo "=== 1. blksize 4096 over an MTU of $MTU: the windows leave as fragments"
# One worker: the warning is once per interface and worker.
write_conf "listen = [ \"$SRV\" ]" 'blksize_max = 8192' 'workers = 1' \
    'windowsize_max = 16' 'timeout_ms = 500' 'retries = 3' \
    "audit_file = \"$AUDIT\""
start_server

check "raw client, blksize 4096, windowsize 8: byte-exact"
in_c "$PYTHON_EXE" "$RAWTFTP" get "$SRV" "$PORT" big.bin \
    --opt blksize=4096 --opt windowsize=8 --expect "$ROOT/big.bin" \
    --expect-oack blksize=4096 --expect-oack windowsize=8 --deadline 20 \
    > "$T/raw1.out" 2>&1 && ok || fail "raw get failed: $(tail -n 3 \
    "$T/raw1.out")"
check "its line: result=ok, nothing sent twice, nothing refused"
wait_xfer big.bin 'result=ok' 1 5
xfer_lines big.bin | grep -q ' dup=0 send_failed=0 ' && ok ||
    fail "want dup=0 send_failed=0: $(xfer_lines big.bin)"

check "atftp --option 'blksize 4096' --option 'windowsize 8': byte-exact"
rm -f "$OUT/atftp-big"
in_c atftp --option "blksize 4096" --option "windowsize 8" -g -r big.bin \
    -l "$OUT/atftp-big" "$SRV" "$PORT" > "$T/atftp.out" 2>&1 ||
    fail "atftp exited with $?: $(tail -n 3 "$T/atftp.out")"
same "$ROOT/big.bin" "$OUT/atftp-big"
wait_xfer big.bin 'result=ok' 2 5

check "one warning names eth0 and its MTU, for both transfers"
n=$(warnings)
[ "$n" = 1 ] && ok "$(grep -a 'eth0' "$LOG" | grep -a 'MTU' | \
    sed 's/^[^:]*: //')" || fail "want 1 warning, got $n"

check "stats: gso_fallback grew, send_failed did not, nothing sent twice"
fb=$(stat_total gso_fallback)
sf=$(stat_total send_failed)
dd=$(stat_total data_dup)
[ "${fb:-0}" -gt 0 ] && [ "$sf" = 0 ] && [ "$dd" = 0 ] &&
    ok "gso_fallback=$fb send_failed=$sf data_dup=$dd" ||
    fail "gso_fallback=$fb send_failed=$sf data_dup=$dd"

# ================================================================ 3
echo "=== 3. replies the kernel refuses are counted (send_failed)"
check "a request from $BAD: every reply refused, the transfer times out"
in_c "$PYTHON_EXE" "$RAWTFTP" xprobe "$SRV" "$PORT" rrq small.bin octet \
    --src "$BAD" --wait 1000 > "$T/bad.out" 2>&1
grep -qx NONE "$T/bad.out" && ok "no answer reached $BAD" ||
    fail "got: $(cat "$T/bad.out")"
wait_xfer small.bin 'result=timeout' 1 15
line=$(xfer_lines small.bin | tail -n 1)
echo "    $line"
n=$(echo "$line" | sed -n 's/.* send_failed=\([0-9]*\) .*/\1/p')
r=$(echo "$line" | sed -n 's/.* retrans=\([0-9]*\) .*/\1/p')
check "its line counts DATA 1 and each resend as refused: send_failed=$((r + 1))"
[ -n "$r" ] && [ "$n" = $((r + 1)) ] && ok ||
    fail "retrans=$r send_failed=$n"
check "its audit event has the same send_failed"
if wait_for 5 grep -q '"file":"small.bin".*"result":"timeout"' "$AUDIT"; then
	grep -a '"file":"small.bin"' "$AUDIT" | tail -n 1 |
	    grep -q "\"send_failed\":$n," && ok ||
	    fail "$(grep -a '"file":"small.bin"' "$AUDIT" | tail -n 1)"
else
	fail "no audit event for small.bin"
fi
check "stats: send_failed counts them (and the ERROR that did not go)"
sf=$(stat_total send_failed)
[ "${sf:-0}" -ge "$n" ] && ok "send_failed=$sf" || fail "send_failed=$sf"
stop_server

# ================================================================ 2
echo "=== 2. blksize_max = 0: blocks fit the MTU, GSO is used"
write_conf "listen = [ \"$SRV\" ]" 'blksize_max = 0' 'windowsize_max = 16'
start_server
check "raw client asks for 4096: granted $((MTU - 32)), byte-exact"
in_c "$PYTHON_EXE" "$RAWTFTP" get "$SRV" "$PORT" big.bin \
    --opt blksize=4096 --opt windowsize=8 --expect "$ROOT/big.bin" \
    --expect-oack blksize=$((MTU - 32)) --deadline 20 \
    > "$T/raw2.out" 2>&1 && ok || fail "raw get failed: $(tail -n 3 \
    "$T/raw2.out")"
check "GSO sends, no fallback, no warning"
gs=$(stat_total gso_sends)
fb=$(stat_total gso_fallback)
[ "${gs:-0}" -gt 0 ] && [ "$fb" = 0 ] && [ "$(warnings)" = 0 ] &&
    ok "gso_sends=$gs gso_fallback=$fb" ||
    fail "gso_sends=$gs gso_fallback=$fb warnings=$(warnings)"
stop_server

finish
