#!/bin/bash
# multicast-unicast.sh -- requests multicast cannot serve get unicast
# (mclib.sh's network): a netascii request, an IPv6 client (if the kernel
# has IPv6), a file of 65536 blocks get no multicast in the OACK (65535
# blocks still do), and the multicast client falls back to unicast; with
# enable = false a request with multicast gets an OACK without it, the
# raw client falls back to unicast and no multicast counter moves.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"
. "$TESTS_SRCDIR/mclib.sh"

mc_server

echo "=== unicast alongside multicast"
check "a netascii request with multicast gets an OACK without it"
probe_ns 1 rrq one.bin netascii multicast= blksize=1024
oack_has blksize=1024 && oack_lacks multicast
check "an IPv6 client asking for multicast gets an OACK without it"
if [ "$HAVE_V6" = 1 ]; then
	REPLY=$(in_ns 1 "$PYTHON_EXE" "$RAWTFTP" probe "$SRV6" "$PORT" rrq \
	    one.bin octet multicast= blksize=1024 2>&1)
	oack_has blksize=1024 && oack_lacks multicast
	in_ns 1 "$PYTHON_EXE" "$RAWTFTP" get "$SRV6" "$PORT" one.bin \
	    --opt multicast= --opt blksize=1024 --expect "$ROOT/one.bin" \
	    > "$T/v6.out" 2>&1 && ok "IPv6 download with multicast asked" ||
	    fail "$(grep FAIL "$T/v6.out" | head -n 3)"
else
	ok "(no IPv6 in this kernel: not checked)"
fi
check "a file of 65535 blocks (blksize 8) still gets multicast"
probe_ns 1 rrq b65535.bin octet multicast= blksize=8
oack_has blksize=8 && [[ $REPLY =~ multicast=$POOL_RE,$MC_PORT,1 ]] ||
    fail "no multicast=GROUP,$MC_PORT,1 in '$REPLY'"
check "a file of 65536 blocks (blksize 8) is served by unicast"
probe_ns 1 rrq b65536.bin octet multicast= blksize=8
oack_has blksize=8 && oack_lacks multicast
check "the multicast client falls back to unicast for the 65536-block file"
in_ns 2 "$PYTHON_EXE" "$MCAST" get "$SRV" "$PORT" b65536.bin --blksize 8 \
    --windowsize 16 --unicast-ok --expect "$ROOT/b65536.bin" \
    --out "$OUT/u65536" --timeout 25 > "$T/u65536.out" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && [ "$(field u65536 mode)" = unicast ]; then
	ok "$(summary u65536)"
else
	fail "exit $rc: $(grep -E '^(FAIL|mcastclient)' "$T/u65536.out")"
fi
stop_server

check "with enable = false, multicast is not in the OACK"
write_conf "listen = [ \"$SRV\" ]" 'workers = 1' \
    "${MC_CONF/enable = true/enable = false}"
start_server
snap
probe_ns 1 rrq one.bin octet multicast= blksize=1024 tsize=0
oack_has blksize=1024 tsize=300000 && oack_lacks multicast
check "with enable = false the multicast client gets one.bin by unicast"
in_ns 1 "$PYTHON_EXE" "$MCAST" get "$SRV" "$PORT" one.bin --blksize 1024 \
    --unicast-ok --expect "$ROOT/one.bin" --out "$OUT/u1" --timeout 20 \
    > "$T/u1.out" 2>&1
rc=$?
[ "$rc" -eq 0 ] && [ "$(field u1 mode)" = unicast ] &&
    [ "$(field u1 from_group)" = 0 ] && ok "$(summary u1)" ||
    fail "exit $rc: $(grep -E '^(FAIL|mcastclient)' "$T/u1.out")"
check "with enable = false no multicast counter moves"
delta_is mcast_sessions 0
delta_is mcast_blocks 0
stop_server

finish
