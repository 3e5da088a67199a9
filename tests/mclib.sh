# mclib.sh -- the private network of the multicast-*.sh tests, sourced
# after lib.sh.
#
# Topology (all in network namespaces this file creates, named
# owmcPID-*): the server's namespace holds a bridge (10.77.0.1/24,
# multicast snooping off, so the bridge floods every group) and four
# client namespaces hang off it by veth pairs (10.77.0.11 .. .14), each
# with a route for 224.0.0.0/4 (and fd77::/64 addresses when the kernel
# has IPv6).  The server runs in the server namespace; owlctl reaches it
# from here through the control socket in $T.
#
# Sourcing it builds the network and checks it: a datagram sent to a
# pool group in the server namespace must reach the client namespaces
# (else the network, not the server, is broken: stop).  Then it offers
# the clients (mcastclient.py, atftp, rawtftp.py) in a client namespace,
# the counter deltas, and mc_server, the server most cases use.

need_cmd python3 atftp tftp ip
py_resolve

MCAST=$TESTS_SRCDIR/mcastclient.py
REAL_OWLTFTPD=$OWLTFTPD
SRV=10.77.0.1				# the server, on the bridge
POOL_LO=239.255.77.1
POOL_HI=239.255.77.20
MC_PORT=1758
POOL_RE='239\.255\.77\.([1-9]|1[0-9]|20)'
# TTL 4, not the kernel's default of 1, so that the bystander can see
# the setting applied (a bridge does not route: the TTL arrives as sent).
MC_TTL=4
MC_CONF="multicast = { enable = true; address_range = \"$POOL_LO-$POOL_HI\";
    port = $MC_PORT; ttl = $MC_TTL; interface = \"\"; }"
COUNTERS="mcast_sessions mcast_clients mcast_blocks mcast_master_changes
    mcast_handoffs"

P=owmc$$-				# every namespace we create
NS_S=${P}s
NSS=()					# namespaces created, for cleanup
BG=()					# background clients, for cleanup

mc_cleanup() {
	local p n
	for p in "${BG[@]}"; do
		exited "$p" || kill -s TERM "$p" 2>/dev/null
	done
	for n in "${NSS[@]}"; do
		ip netns del "$n" 2>/dev/null
	done
}
trap 'rc=$?; mc_cleanup; (exit $rc); cleanup' EXIT

mc_skip() {
	echo "SKIP: multicast: needs network namespaces ($*)" >&2
	exit 77
}

# ================================================================ topology

# ns_client I: the name of client namespace I (address 10.77.0.1I).
ns_client() {
	echo "${P}c$1"
}

# add_ns NAME: create a namespace with lo up, remembered for cleanup.
add_ns() {
	ip netns add "$1" 2>"$T/netns.err" ||
	    mc_skip "ip netns add: $(head -n 1 "$T/netns.err")"
	NSS+=("$1")
	ip -n "$1" link set lo up || mc_skip "cannot bring lo up in $1"
}

add_ns "$NS_S"
ip -n "$NS_S" link add br0 type bridge mcast_snooping 0 2>"$T/netns.err" ||
    mc_skip "bridge: $(head -n 1 "$T/netns.err")"
ip -n "$NS_S" addr add "$SRV/24" dev br0 &&
    ip -n "$NS_S" link set br0 up &&
    ip -n "$NS_S" route add 224.0.0.0/4 dev br0 ||
    mc_skip "cannot configure the bridge"
for i in 1 2 3 4; do
	c=$(ns_client "$i")
	add_ns "$c"
	# Both ends are created inside our namespaces: no name in the
	# root namespace is ever taken.
	ip -n "$NS_S" link add "v$i" type veth peer name eth0 netns "$c" \
	    2>"$T/netns.err" || mc_skip "veth: $(head -n 1 "$T/netns.err")"
	ip -n "$NS_S" link set "v$i" master br0 &&
	    ip -n "$NS_S" link set "v$i" up &&
	    ip -n "$c" addr add "10.77.0.1$i/24" dev eth0 &&
	    ip -n "$c" link set eth0 up &&
	    ip -n "$c" route add 224.0.0.0/4 dev eth0 ||
	    mc_skip "cannot configure the veth pair of $c"
done
# IPv6 too if the kernel has it (nodad: usable at once), for the one
# check that an IPv6 client is served by unicast.
SRV6=fd77::1
HAVE_V6=1
ip -n "$NS_S" addr add "$SRV6/64" dev br0 nodad 2>/dev/null || HAVE_V6=0
for i in 1 2 3 4; do
	[ "$HAVE_V6" = 1 ] || break
	ip -n "$(ns_client "$i")" addr add "fd77::1$i/64" dev eth0 nodad \
	    2>/dev/null || HAVE_V6=0
done

cat > "$T/ns-owltftpd" <<EOF
#!/bin/sh
exec ip netns exec $NS_S $REAL_OWLTFTPD "\$@"
EOF
chmod 755 "$T/ns-owltftpd"
OWLTFTPD=$T/ns-owltftpd

# in_ns I CMD...: run CMD in client namespace I, bounded in time.
in_ns() {
	local c
	c=$(ns_client "$1")
	shift
	timeout -k 2 "$CLIENT_TIMEOUT" ip netns exec "$c" "$@"
}

SNIFF_PID=
# sniff_start I: a bystander (mcastclient.py sniff, not a TFTP client) in
# client namespace I: joined to every group of the pool on MC_PORT, it
# counts what arrives on each, until sniff_stop: one "GROUP
# from=ADDR:PORT packets=N data=D blocks=B ttl=T[,T...]" line per group
# and sender seen, in $T/sniff.out.
sniff_start() {
	rm -f "$T/sniff.stop" "$T/sniff.ready"
	in_ns "$1" "$PYTHON_EXE" "$MCAST" sniff "10.77.0.1$1" "$MC_PORT" \
	    --first "$POOL_LO" --last "$POOL_HI" --stop "$T/sniff.stop" \
	    --ready "$T/sniff.ready" --seconds 25 > "$T/sniff.out" 2>&1 &
	SNIFF_PID=$!
	BG+=("$SNIFF_PID")
	wait_for 5 test -e "$T/sniff.ready" ||
	    fail "the bystander did not start: $(cat "$T/sniff.out")"
}

# sniff_stop: stop the bystander, its report in $T/sniff.out.
sniff_stop() {
	touch "$T/sniff.stop"
	wait_for 5 exited "$SNIFF_PID" || kill -s TERM "$SNIFF_PID"
	wait "$SNIFF_PID"
}
echo "=== topology: $NS_S (bridge $SRV/24) and 4 client namespaces"
check "0: a datagram to $POOL_LO:$MC_PORT from the server namespace reaches client namespaces"
ok_ns=0
for i in 2 4; do
	sniff_start "$i"
	timeout -k 2 10 ip netns exec "$NS_S" "$PYTHON_EXE" "$MCAST" send \
	    "$SRV" "$POOL_LO" "$MC_PORT" --count 3 || fail "sender failed"
	sleep 0.1	# a bridge delivers at once; this is ample
	sniff_stop
	grep -q "^$POOL_LO from=$SRV:[0-9]* packets=3 " "$T/sniff.out" &&
	    ok_ns=$((ok_ns + 1))
done
[ "$ok_ns" -eq 2 ] && ok "multicast flows over the bridge" ||
    die "the test network carries no multicast: $(cat "$T/sniff.out")"
# ================================================================ helpers

mkfile "$ROOT/one.bin" 300000			# 293 blocks of 1024
mkfile "$ROOT/big.bin" 1048576			# 1025 blocks, the last empty
mkfile "$ROOT/v.bin" 600000			# 586 blocks
mkfile "$ROOT/w2.bin" 400000			# 391 blocks
mkfile "$ROOT/s5.bin" 20000			# 20 blocks
mkfile "$ROOT/b65535.bin" $((65534 * 8 + 7))	# 65535 blocks of 8
mkfile "$ROOT/b65536.bin" $((65535 * 8))	# 65536 blocks of 8

# nblocks FILE BLKSIZE: blocks of a transfer of FILE (the last is short).
nblocks() {
	echo $(($(stat -c %s "$1") / $2 + 1))
}

declare -A SNAP
# snap: remember the multicast counters, for delta (below).
snap() {
	local c
	for c in $COUNTERS; do
		SNAP[$c]=$(stat_total "$c")
		[ -n "${SNAP[$c]}" ] || SNAP[$c]=0
	done
}

# delta NAME: how much counter NAME grew since snap.
delta() {
	local v
	v=$(stat_total "$1")
	echo $((${v:-0} - ${SNAP[$1]}))
}

_delta_ge() {
	[ "$(delta "$1")" -ge "$2" ]
}

_delta_is() {
	[ "$(delta "$1")" -eq "$2" ]
}

# delta_ge NAME MIN: counter NAME grew by MIN or more (waits 3 s at most,
# the workers report counters on request).
delta_ge() {
	if wait_for 3 _delta_ge "$1" "$2"; then
		ok "$1 +$(delta "$1") (>= $2)"
		return 0
	fi
	fail "$1 grew by $(delta "$1"), want >= $2"
	return 1
}

# delta_is NAME N: counter NAME grew by exactly N.
delta_is() {
	if wait_for 3 _delta_is "$1" "$2"; then
		ok "$1 +$2"
		return 0
	fi
	fail "$1 grew by $(delta "$1"), want $2"
	return 1
}

# mc_start NAME I ARGS...: mcastclient in client namespace I in the
# background; output in $T/NAME.out, the file in $OUT/NAME, the count of
# blocks held in $T/NAME.prog.  Sets MC_PID.
mc_start() {
	local name=$1 i=$2
	shift 2
	rm -f "$T/$name.prog" "$OUT/$name"
	in_ns "$i" "$PYTHON_EXE" "$MCAST" get "$SRV" "$PORT" "$@" \
	    --out "$OUT/$name" --progress "$T/$name.prog" \
	    > "$T/$name.out" 2>&1 &
	MC_PID=$!
	BG+=("$MC_PID")
}

# atftp_start NAME I FILE: atftp with the multicast option (blksize 1024)
# in client namespace I in the background, traced into $T/NAME.out.
atftp_start() {
	rm -f "$OUT/$1"
	in_ns "$2" atftp --trace --option "multicast" --option "blksize 1024" \
	    -g -r "$3" -l "$OUT/$1" "$SRV" "$PORT" > "$T/$1.out" 2>&1 &
	AT_PID=$!
	BG+=("$AT_PID")
}

_prog_ge() {
	local n
	read -r n 2>/dev/null < "$1" || return 1
	[ "${n:-0}" -ge "$2" ]
}

# wait_blocks NAME N: wait (10 s at most) until client NAME holds N blocks.
wait_blocks() {
	wait_for 10 _prog_ge "$T/$1.prog" "$2" && return 0
	fail "$1 did not reach $2 blocks within 10 s (has" \
	    "$(cat "$T/$1.prog" 2>/dev/null)): $(tail -n 2 "$T/$1.out")"
	return 1
}

# reap PID: the exit status of a background client (it is bounded by
# in_ns's timeout).
reap() {
	wait "$1"
}

# summary NAME: the summary line of mcastclient run NAME.
summary() {
	grep -m1 '^mcastclient: ' "$T/$1.out"
}

# field NAME KEY: KEY=value from the summary of run NAME.
field() {
	summary "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# mc_done NAME RC EXPECT: mcastclient run NAME ended with RC, its file
# must be EXPECT byte for byte, every DATA having come from the group.
mc_done() {
	if [ "$2" -ne 0 ]; then
		fail "$1 exited with $2: $(grep -E '^(FAIL|mcastclient)' \
		    "$T/$1.out" | head -n 3)"
		return 1
	fi
	if [ "$(field "$1" mode)" != multicast ] ||
	    [ "$(field "$1" from_unicast)" != 0 ]; then
		fail "$1 did not get the file by multicast only: $(summary "$1")"
	else
		ok "$1: $(summary "$1")"
	fi
	same "$3" "$OUT/$1"
}

# mc_fetch NAME I FILE: mcastclient in client namespace I gets FILE
# (blksize 1024) in the foreground; then as mc_done.
mc_fetch() {
	in_ns "$2" "$PYTHON_EXE" "$MCAST" get "$SRV" "$PORT" "$3" \
	    --blksize 1024 --expect "$ROOT/$3" --out "$OUT/$1" --timeout 20 \
	    > "$T/$1.out" 2>&1
	mc_done "$1" $? "$ROOT/$3"
}

# atftp_done NAME RC EXPECT: the atftp run NAME ended with RC; its file
# must be EXPECT; the first OACK granted multicast.
atftp_done() {
	if [ "$2" -ne 0 ]; then
		fail "atftp ($1) exited with $2: $(grep -v DATA "$T/$1.out" |
		    tail -n 4)"
	fi
	same "$3" "$OUT/$1"
	if grep -qE "received OACK <.*multicast: $POOL_RE,$MC_PORT,[01]" \
	    "$T/$1.out"; then
		ok "atftp ($1): $(grep -m1 'received OACK' "$T/$1.out")"
	else
		fail "atftp ($1) got no multicast in its OACK:" \
		    "$(grep -m1 'OACK' "$T/$1.out")"
	fi
}

# probe_ns I ARGS...: rawtftp.py probe from client namespace I; sets REPLY.
probe_ns() {
	local i=$1
	shift
	REPLY=$(in_ns "$i" "$PYTHON_EXE" "$RAWTFTP" probe "$SRV" "$PORT" \
	    "$@" 2>&1)
}

# mc_server: start the server most cases use: one worker, quick timeouts
# (timeout_ms 300, retries 3), multicast on, audit events in
# $T/audit.json, listening on $SRV (and $SRV6 with IPv6; lib.sh's
# clients talk to 127.0.0.1, ours run in the client namespaces).
mc_server() {
	local listen="listen = [ \"$SRV\" ]" nlisten=1

	if [ "$HAVE_V6" = 1 ]; then
		listen="listen = [ \"$SRV\", \"$SRV6\" ]"
		nlisten=2
	fi
	write_conf "$listen" 'workers = 1' 'timeout_ms = 300' 'retries = 3' \
	    "$MC_CONF" "audit_file = \"$T/audit.json\""
	NLISTEN=$nlisten start_server
}
