#!/bin/bash
# multicast-ipv6.sh -- IPv6 clients with multicast.address_range6 get
# an IPv6 group, IPv4 clients of the same file an IPv4 one (mclib.sh's
# network; skipped checks when the kernel has no IPv6).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"
. "$TESTS_SRCDIR/mclib.sh"

echo "=== IPv6 clients with multicast.address_range6"
if [ "$HAVE_V6" = 1 ]; then
	MC6_RE='ff15::77:[0-9a-f]+'
	write_conf "listen = [ \"$SRV\", \"$SRV6\" ]" 'workers = 1' \
	    "${MC_CONF/address_range =/address_range6 = \"ff15::77:1-ff15::77:8\"; address_range =}"
	NLISTEN=2 start_server
	snap
	for i in 1 2; do
		ip -n "$(ns_client "$i")" -6 route add ff15::/16 dev eth0 \
		    2>/dev/null
	done
	check "atftp over IPv6 gets one.bin from an IPv6 group, byte-exact"
	rm -f "$OUT/at6"
	in_ns 1 atftp --trace --option "multicast" --option "blksize 1024" \
	    -g -r one.bin -l "$OUT/at6" "$SRV6" "$PORT" > "$T/at6.out" 2>&1
	rc=$?
	[ "$rc" -eq 0 ] || fail "atftp exited with $rc:" \
	    "$(grep -v DATA "$T/at6.out" | tail -n 3)"
	same "$ROOT/one.bin" "$OUT/at6"
	grep -qE "received OACK <.*multicast: $MC6_RE,$MC_PORT,1" \
	    "$T/at6.out" && ok "$(grep -m1 'received OACK' "$T/at6.out")" ||
	    fail "no IPv6 group in the OACK: $(grep -m1 OACK "$T/at6.out")"
	check "the DATA went to the group: mcast_blocks >= 293, one session"
	delta_is mcast_sessions 1
	delta_ge mcast_blocks "$(nblocks "$ROOT/one.bin" 1024)"
	check "an IPv4 client of the same file meanwhile gets an IPv4 group"
	probe_ns 2 rrq one.bin octet multicast= blksize=1024
	[[ $REPLY =~ multicast=$POOL_RE,$MC_PORT,1 ]] && ok "$REPLY" ||
	    fail "want multicast=GROUP,$MC_PORT,1 in '$REPLY'"
	stop_server
else
	check "IPv6 multicast"
	ok "(no IPv6 in this kernel: not checked)"
fi

finish
