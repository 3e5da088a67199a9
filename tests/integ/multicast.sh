#!/bin/bash
# multicast.sh -- RFC 2090 multicast downloads on a private network.
#
# Topology (all in network namespaces this script creates, named
# owmcPID-*): the server's namespace holds a bridge (10.77.0.1/24,
# multicast snooping off, so the bridge floods every group) and four
# client namespaces hang off it by veth pairs (10.77.0.11 .. .14), each
# with a route for 224.0.0.0/4.  The server runs in the server namespace;
# owlctl reaches it from here through the control socket in $T.
#
#  0. topology: a datagram sent to a pool group in the server namespace
#     reaches every client namespace (else the network, not the server,
#     is broken: stop).
#  1. one atftp client (--option multicast): byte-exact; its OACK names
#     a group of the pool with mc=1; mcast_sessions and mcast_blocks grow
#     and a bystander in another namespace, joined to every group of the
#     pool, sees every block arrive on the group from the server, with
#     the configured TTL.
#  2. one file, three clients: a slow raw master (windowsize 4, 10 ms per
#     ACK), then once it holds 200 blocks a raw late joiner (with tsize)
#     and atftp.  All three byte-exact, one session (same group, same
#     server TID), the late joiner joined mid-stream and was made master
#     later, atftp too; meanwhile tftp-hpa fetches the same file by plain
#     unicast and another file gets a group of its own; counters:
#     mcast_sessions +2, mcast_clients +4, mcast_master_changes >= 2.
#  3. the master vanishes mid-transfer (timeout_ms 300, retries 3): the
#     server times it out (logged result=timeout) and makes the next
#     client master; that one is gone too (it vanishes when made master)
#     and is timed out in turn; the two clients after it still get the
#     whole file.  3b: a master that quits with an ERROR hands over at
#     once (logged peer_error, nothing times out).
#  4. unicast is unaffected: a plain download during case 2 (above) and
#     after; a netascii request, an IPv6 client (if the kernel has IPv6),
#     a file of 65536 blocks get no multicast in the OACK (65535 blocks
#     still do); with enable = false a request with multicast gets an
#     OACK without it and the raw client falls back to unicast.
#  5. workers = 2 (and interface = "br0"): SO_REUSEPORT spreads the
#     clients of one file over both workers, yet they form one session
#     (the worker that owns the file serves them all): four overlapping
#     clients share one group and TID, twelve downloads from fresh ports
#     all come from one TID, and mcast_handoffs grows.
#  6. shutdown during a session: master and waiting client both get an
#     ERROR, nobody is made master on the way out, exit status 0.
#  7. a reload during a session: the draining worker's session goes on,
#     the new worker's session starts in the other half of the slot's
#     groups (another group), both files arrive byte-exact.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"

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

# The bystander: joins every group of the pool on port MC_PORT and
# counts what arrives on each, until STOPFILE exists or SECONDS pass:
# one "GROUP from=ADDR:PORT packets=N data=D blocks=B ttl=T[,T...]" line
# per group and sender seen.  Written once, used for the topology check and to
# see DATA on the wire.
cat > "$T/sniff.py" <<'PYEOF'
import os, select, socket, struct, sys, time
local, lo, hi, port, stop, secs, ready = sys.argv[1:8]
IP_RECVTTL = getattr(socket, "IP_RECVTTL", 12)     # Linux values
IP_TTL = getattr(socket, "IP_TTL", 2)
first = struct.unpack("!I", socket.inet_aton(lo))[0]
last = struct.unpack("!I", socket.inet_aton(hi))[0]
socks = {}
for a in range(first, last + 1):
    grp = socket.inet_ntoa(struct.pack("!I", a))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Room for a whole file's DATA: on a busy machine this process may
    # not run for a while, and a full buffer drops (root may force it).
    try:
        s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)   # SO_RCVBUFFORCE
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind((grp, int(port)))     # this group's datagrams only
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                 socket.inet_aton(grp) + socket.inet_aton(local))
    s.setsockopt(socket.IPPROTO_IP, IP_RECVTTL, 1)
    socks[s] = grp
open(ready, "w").close()
seen = {}               # (group, source) -> [packets, data, blocks, ttls]
end = time.monotonic() + float(secs)
while time.monotonic() < end and not os.path.exists(stop):
    r, _, _ = select.select(list(socks), [], [], 0.05)
    for s in r:
        raw, anc, _, src = s.recvmsg(70000, 64)
        st = seen.setdefault((socks[s], src), [0, 0, set(), set()])
        st[0] += 1
        for level, kind, val in anc:
            if level == socket.IPPROTO_IP and kind == IP_TTL:
                st[3].add(int.from_bytes(val[:4], sys.byteorder))
        if len(raw) >= 4 and raw[:2] == b"\0\3":
            st[1] += 1
            st[2].add(struct.unpack("!H", raw[2:4])[0])
for (g, src), (n, d, b, t) in sorted(seen.items()):
    print("%s from=%s:%d packets=%d data=%d blocks=%d ttl=%s"
          % (g, src[0], src[1], n, d, len(b),
             ",".join(str(x) for x in sorted(t))))
PYEOF

SNIFF_PID=
# sniff_start I: a bystander in client namespace I (not a TFTP client).
sniff_start() {
	rm -f "$T/sniff.stop" "$T/sniff.ready"
	in_ns "$1" "$PYTHON_EXE" "$T/sniff.py" "10.77.0.1$1" "$POOL_LO" \
	    "$POOL_HI" "$MC_PORT" "$T/sniff.stop" 25 "$T/sniff.ready" \
	    > "$T/sniff.out" 2>&1 &
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
	timeout -k 2 10 ip netns exec "$NS_S" "$PYTHON_EXE" -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0))
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
for _ in range(3):
    s.sendto(b"\0\3\0\1topology", (sys.argv[2], int(sys.argv[3])))
    time.sleep(0.05)' "$SRV" "$POOL_LO" "$MC_PORT" || fail "sender failed"
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

# ================================================================ server

# lib.sh's clients talk to 127.0.0.1: ours run in the client namespaces.
LISTEN="listen = [ \"$SRV\" ]"
nlisten=1
if [ "$HAVE_V6" = 1 ]; then
	LISTEN="listen = [ \"$SRV\", \"$SRV6\" ]"
	nlisten=2
fi
write_conf "$LISTEN" 'workers = 1' 'timeout_ms = 300' 'retries = 3' \
    "$MC_CONF" "audit_file = \"$T/audit.json\""
NLISTEN=$nlisten start_server

# ================================================================ case 1
echo "=== 1: one atftp client"
check "1: atftp --option multicast downloads one.bin (300000 bytes) byte-exact"
snap
sniff_start 4
atftp_start at1 1 one.bin
reap "$AT_PID"
rc=$?
atftp_done at1 "$rc" "$ROOT/one.bin"
check "1: atftp was the master client from the start (mc=1)"
grep -qE "multicast: $POOL_RE,$MC_PORT,1" "$T/at1.out" &&
    ok "$(grep -m1 'received OACK' "$T/at1.out")" ||
    fail "no mc=1: $(grep 'OACK' "$T/at1.out" | head -n 2)"
check "1: counters: mcast_sessions +1, mcast_clients +1, mcast_blocks >= 293"
delta_is mcast_sessions 1
delta_is mcast_clients 1
delta_ge mcast_blocks "$(nblocks "$ROOT/one.bin" 1024)"
delta_is mcast_master_changes 0
check "1: a bystander joined to the pool saw all 293 blocks on the group, from the server"
sniff_stop
grp=$(grep -m1 -oE "multicast: $POOL_RE" "$T/at1.out")
grp=${grp#multicast: }
line=$(grep "^$grp from=$SRV:" "$T/sniff.out")
nb=$(echo "$line" | sed -n 's/.* blocks=\([0-9]*\).*/\1/p')
[ -n "$grp" ] && [ "${nb:-0}" -eq 293 ] && ok "$line" ||
    fail "group '$grp': bystander saw: $(cat "$T/sniff.out")"
check "1: the group's DATA has the configured TTL ($MC_TTL)"
[[ $line == *" ttl=$MC_TTL" ]] && ok "${line##* }" ||
    fail "want ttl=$MC_TTL: $line"
check "1: the transfer is logged as ok with multicast in its options"
wait_xfer one.bin 'peer=10\.77\.0\.11:.*result=ok' 1 5
check "1: the audit event names the group in options.multicast"
audit_mc() {
	python3 - "$T/audit.json" "$POOL_RE,$MC_PORT,1" <<'PY'
import json, re, sys
want = re.compile(sys.argv[2] + "$")
for line in open(sys.argv[1]):
    ev = json.loads(line)
    if ev.get("event") == "transfer" and ev.get("file") == "one.bin" \
            and ev.get("result") == "ok":
        mc = ev.get("options", {}).get("multicast", "")
        if want.match(mc):
            print("options=%s" % json.dumps(ev["options"]))
            sys.exit(0)
sys.exit(1)
PY
}
if wait_for 5 audit_mc > /dev/null; then
	ok "$(audit_mc)"
else
	fail "no ok transfer of one.bin with options.multicast in" \
	    "$(grep -a one.bin "$T/audit.json" | head -n 2)"
fi

# ================================================================ case 2
echo "=== 2: a slow master, a late joiner and atftp on one file"
NB=$(nblocks "$ROOT/big.bin" 1024)
snap
check "2: a slow raw master (windowsize 4, 10 ms per ACK) starts big.bin"
mc_start m2 1 big.bin --blksize 1024 --windowsize 4 --ack-delay-ms 10 \
    --expect "$ROOT/big.bin" --timeout 25
P_M=$MC_PID
wait_blocks m2 200 && ok "the master holds $(cat "$T/m2.prog") blocks"
check "2: a raw late joiner (10.77.0.12), then atftp (10.77.0.13) join"
mc_start j2 2 big.bin --blksize 1024 --tsize --expect "$ROOT/big.bin" \
    --timeout 25
P_J=$MC_PID
wait_blocks j2 1 && ok "the late joiner receives the group"
atftp_start at2 3 big.bin
P_A=$AT_PID
check "4: meanwhile tftp-hpa in 10.77.0.14 fetches big.bin by plain unicast"
in_ns 4 tftp -l -m binary "$SRV" "$PORT" -c get big.bin "$OUT/hpa2" \
    > "$T/hpa2.out" 2>&1 || fail "tftp exited with $?: $(cat "$T/hpa2.out")"
same "$ROOT/big.bin" "$OUT/hpa2"
check "2: meanwhile one.bin, fetched with multicast from 10.77.0.14, gets a session of its own"
mc_fetch o2 4 one.bin
check "2: the master gets big.bin (1 MiB, 1025 blocks) byte-exact"
reap "$P_M"
mc_done m2 $? "$ROOT/big.bin"
check "2: the late joiner gets big.bin byte-exact"
reap "$P_J"
mc_done j2 $? "$ROOT/big.bin"
check "2: atftp gets big.bin byte-exact"
reap "$P_A"
atftp_done at2 $? "$ROOT/big.bin"
check "2: one session: the master and the joiner had the same group and server TID"
g1=$(field m2 group)
g2=$(field j2 group)
t1=$(field m2 tid)
t2=$(field j2 tid)
[[ $g1 =~ ^$POOL_RE:$MC_PORT$ ]] && [ "$g1" = "$g2" ] && [ "$t1" = "$t2" ] &&
    ok "group $g1, TID $t1" ||
    fail "master: group $g1 TID $t1; joiner: group $g2 TID $t2"
grep -qF "multicast: ${g1%:*},$MC_PORT,0" "$T/at2.out" &&
    ok "atftp was told the same group, as a waiting client (mc=0)" ||
    fail "atftp's OACK: $(grep -m1 'received OACK' "$T/at2.out")"
g3=$(field o2 group)
[[ $g3 =~ ^$POOL_RE:$MC_PORT$ ]] && [ "$g3" != "$g1" ] &&
    ok "one.bin went to $g3" || fail "one.bin's group is '$g3'"
check "2: the master was master from the start and ACKed every block itself"
[ "$(field m2 master_at)" = 0 ] && [ "$(field m2 final_ack)" = "$NB" ] &&
    ok "master_at=0 final_ack=$NB" || fail "$(summary m2)"
check "2: the late joiner came in mid-stream and was made master later"
fb=$(field j2 first_group_block)
ma=$(field j2 master_at)
[ "${fb:-0}" -gt 1 ] 2>/dev/null && [ "$ma" != never ] &&
    [ "${ma%%,*}" -gt 0 ] 2>/dev/null && [ "$(field j2 final_ack)" = "$NB" ] &&
    ok "first group block $fb, made master holding $ma blocks" ||
    fail "$(summary j2)"
check "2: the OACK that made it master named the group and port in full"
want="${g1%:*},$MC_PORT,0;${g1%:*},$MC_PORT,1"
[ "$(field j2 mc_values)" = "$want" ] && ok "multicast=${want//;/ then }" ||
    fail "want the values $want, got $(field j2 mc_values)"
check "2: atftp was made master (a second OACK with mc=1) and ACKed the last block"
grep -q 'received OACK <mc = 1>' "$T/at2.out" &&
    grep -q "sent ACK <block: $NB>" "$T/at2.out" && ok ||
    fail "$(grep -E 'OACK|sent ACK <block: [0-9]*>$' "$T/at2.out" | tail -n 3)"
check "2: counters: 2 sessions (big.bin, one.bin), 4 clients, >= 2 master changes"
delta_is mcast_sessions 2
delta_is mcast_clients 4
delta_ge mcast_master_changes 2
delta_ge mcast_blocks $((NB + $(nblocks "$ROOT/one.bin" 1024)))
check "2: the log has 3 multicast transfers of big.bin ending ok, and a unicast one"
wait_xfer big.bin 'opts="[^"]*multicast[^"]*".*result=ok' 3 5
wait_xfer big.bin 'peer=10\.77\.0\.14:.*result=ok' 1 5
if xfer_lines big.bin | grep 'peer=10\.77\.0\.14:' | grep -q multicast; then
	fail "the unicast download is logged with multicast:" \
	    "$(xfer_lines big.bin | grep 'peer=10\.77\.0\.14:')"
fi

# ================================================================ case 3
echo "=== 3: the master vanishes, the next one is silent, the rest finish"
NB=$(nblocks "$ROOT/v.bin" 1024)
snap
check "3: a raw master (10.77.0.11) that vanishes holding 400 of $NB blocks"
mc_start m3 1 v.bin --blksize 1024 --windowsize 2 --ack-delay-ms 12 \
    --vanish-after 400 --timeout 25
P_M=$MC_PID
wait_blocks m3 40 && ok "the master holds $(cat "$T/m3.prog") blocks"
# Next in line: a client gone by the time its turn comes (it vanishes
# as soon as it is made master), then a raw client and atftp.
mc_start s3 4 v.bin --blksize 1024 --vanish-after 1 --timeout 25
P_S=$MC_PID
wait_blocks s3 1
mc_start j3 2 v.bin --blksize 1024 --expect "$ROOT/v.bin" --timeout 25
P_J=$MC_PID
wait_blocks j3 1
atftp_start at3 3 v.bin
P_A=$AT_PID
reap "$P_M"
rc=$?
[ "$rc" -eq 3 ] && ok "$(tail -n 1 "$T/m3.out")" ||
    fail "the master exited with $rc, not 3 (vanished): $(tail -n 2 \
    "$T/m3.out")"
check "3: the next client (10.77.0.14) is made master after the timeout and vanishes too"
reap "$P_S"
rc=$?
[ "$rc" -eq 3 ] && ok "$(tail -n 1 "$T/s3.out")" ||
    fail "it exited with $rc, not 3 (made master, vanished):" \
    "$(tail -n 2 "$T/s3.out")"
check "3: the raw client after it (10.77.0.12) is made master and gets v.bin byte-exact"
reap "$P_J"
mc_done j3 $? "$ROOT/v.bin"
ma=$(field j3 master_at)
[ "$ma" != never ] && [ "${ma%%,*}" -gt 0 ] 2>/dev/null &&
    ok "made master holding $ma blocks" ||
    fail "the client was not made master after the others: $(summary j3)"
check "3: atftp (10.77.0.13) gets v.bin byte-exact"
reap "$P_A"
atftp_done at3 $? "$ROOT/v.bin"
check "3: both vanished clients' transfers end as timeouts in the log, the others ok"
wait_xfer v.bin 'peer=10\.77\.0\.11:.*result=timeout' 1 5
wait_xfer v.bin 'peer=10\.77\.0\.14:.*result=timeout' 1 5
wait_xfer v.bin 'peer=10\.77\.0\.1[23]:.*result=ok' 2 5
check "3: counters: one session, 4 clients, >= 3 master changes"
delta_is mcast_sessions 1
delta_is mcast_clients 4
delta_ge mcast_master_changes 3

echo "=== 3b: the master quits with an ERROR"
NB=$(nblocks "$ROOT/one.bin" 1024)
snap
check "3b: a raw master sends ERROR holding 150 of $NB blocks"
mc_start m3b 1 one.bin --blksize 1024 --ack-delay-ms 5 --error-after 150 \
    --timeout 20
P_M=$MC_PID
wait_blocks m3b 20
mc_start j3b 2 one.bin --blksize 1024 --expect "$ROOT/one.bin" --timeout 20
P_J=$MC_PID
reap "$P_M"
rc=$?
[ "$rc" -eq 4 ] && ok "$(tail -n 1 "$T/m3b.out")" ||
    fail "the master exited with $rc, not 4 (sent ERROR):" \
    "$(tail -n 2 "$T/m3b.out")"
check "3b: the other client is made master and gets one.bin byte-exact"
reap "$P_J"
mc_done j3b $? "$ROOT/one.bin"
[ "$(field j3b master_at)" != never ] && ok "master_at=$(field j3b master_at)" ||
    fail "never made master: $(summary j3b)"
check "3b: the quitter is logged as peer_error, nothing timed out"
wait_xfer one.bin 'peer=10\.77\.0\.11:.*result=peer_error' 1 5
wait_xfer one.bin 'peer=10\.77\.0\.12:.*result=ok' 1 5
if xfer_lines one.bin | grep -q 'result=timeout'; then
	fail "a transfer timed out: $(xfer_lines one.bin | grep timeout)"
fi
delta_is mcast_master_changes 1

# ================================================================ case 4
echo "=== 4: unicast alongside multicast"
check "4: the raw client without multicast gets big.bin after all this"
in_ns 4 "$PYTHON_EXE" "$RAWTFTP" get "$SRV" "$PORT" big.bin \
    --opt blksize=1024 --expect "$ROOT/big.bin" > "$T/raw4.out" 2>&1 &&
    ok "raw get" || fail "$(grep FAIL "$T/raw4.out" | head -n 3)"
# probe_ns I ARGS...: rawtftp.py probe from client namespace I; sets REPLY.
probe_ns() {
	local i=$1
	shift
	REPLY=$(in_ns "$i" "$PYTHON_EXE" "$RAWTFTP" probe "$SRV" "$PORT" \
	    "$@" 2>&1)
}
check "4: a netascii request with multicast gets an OACK without it"
probe_ns 1 rrq one.bin netascii multicast= blksize=1024
oack_has blksize=1024 && oack_lacks multicast
check "4: an IPv6 client asking for multicast gets an OACK without it"
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
check "4: a file of 65535 blocks (blksize 8) still gets multicast"
probe_ns 1 rrq b65535.bin octet multicast= blksize=8
oack_has blksize=8 && [[ $REPLY =~ multicast=$POOL_RE,$MC_PORT,1 ]] ||
    fail "no multicast=GROUP,$MC_PORT,1 in '$REPLY'"
check "4: a file of 65536 blocks (blksize 8) is served by unicast"
probe_ns 1 rrq b65536.bin octet multicast= blksize=8
oack_has blksize=8 && oack_lacks multicast
check "4: the multicast client falls back to unicast for the 65536-block file"
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

check "4: with enable = false, multicast is not in the OACK"
write_conf "listen = [ \"$SRV\" ]" 'workers = 1' \
    "${MC_CONF/enable = true/enable = false}"
start_server
snap
probe_ns 1 rrq one.bin octet multicast= blksize=1024 tsize=0
oack_has blksize=1024 tsize=300000 && oack_lacks multicast
check "4: with enable = false the multicast client gets one.bin by unicast"
in_ns 1 "$PYTHON_EXE" "$MCAST" get "$SRV" "$PORT" one.bin --blksize 1024 \
    --unicast-ok --expect "$ROOT/one.bin" --out "$OUT/u1" --timeout 20 \
    > "$T/u1.out" 2>&1
rc=$?
[ "$rc" -eq 0 ] && [ "$(field u1 mode)" = unicast ] &&
    [ "$(field u1 from_group)" = 0 ] && ok "$(summary u1)" ||
    fail "exit $rc: $(grep -E '^(FAIL|mcastclient)' "$T/u1.out")"
check "4: with enable = false no multicast counter moves"
delta_is mcast_sessions 0
delta_is mcast_blocks 0
stop_server

# ================================================================ case 4b
echo "=== 4b: IPv6 clients with multicast.address_range6"
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
	check "4b: atftp over IPv6 gets one.bin from an IPv6 group, byte-exact"
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
	check "4b: the DATA went to the group: mcast_blocks >= 293, one session"
	delta_is mcast_sessions 1
	delta_ge mcast_blocks "$(nblocks "$ROOT/one.bin" 1024)"
	check "4b: an IPv4 client of the same file meanwhile gets an IPv4 group"
	probe_ns 2 rrq one.bin octet multicast= blksize=1024
	[[ $REPLY =~ multicast=$POOL_RE,$MC_PORT,1 ]] && ok "$REPLY" ||
	    fail "want multicast=GROUP,$MC_PORT,1 in '$REPLY'"
	stop_server
else
	check "4b: IPv6 multicast"
	ok "(no IPv6 in this kernel: not checked)"
fi

# ================================================================ case 5
echo "=== 5: two workers"
# The interface named, this time, rather than taken from the request.
write_conf "listen = [ \"$SRV\" ]" 'workers = 2' 'timeout_ms = 300' \
    'retries = 3' "${MC_CONF/interface = \"\"/interface = \"br0\"}"
start_server
workers 2 > /dev/null
snap
check "5: four clients of w2.bin at once with two workers: all byte-exact"
# The first one is slow and the others start once it is under way, so
# that all four overlap: whichever worker SO_REUSEPORT gives a request
# to, the file's owner serves it.
pids=()
for i in 1 2 3 4; do
	if [ "$i" = 1 ]; then
		mc_start w51 1 w2.bin --blksize 1024 --ack-delay-ms 6 \
		    --expect "$ROOT/w2.bin" --timeout 25
		pids+=("$MC_PID")
		wait_blocks w51 20
		continue
	fi
	mc_start "w5$i" "$i" w2.bin --blksize 1024 --expect "$ROOT/w2.bin" \
	    --timeout 25
	pids+=("$MC_PID")
done
for i in 1 2 3 4; do
	reap "${pids[$((i - 1))]}"
	mc_done "w5$i" $? "$ROOT/w2.bin"
done
check "5: one session: all four had the same group and server TID, one was master first"
views=$(for i in 1 2 3 4; do
	echo "$(field "w5$i" group)<-$(field "w5$i" tid)"
done | sort -u)
firsts=$(for i in 1 2 3 4; do
	v=$(field "w5$i" mc_values)
	echo "${v%%;*}"
done | sed -n 's/.*,//p' | sort | tr -d '\n')
[ "$(echo "$views" | wc -l)" -eq 1 ] && [ "$firsts" = 0001 ] &&
    ok "$views, first OACKs mc=$firsts" ||
    fail "groups<-TIDs: $(echo "$views" | tr '\n' ' '); first mc values: $firsts"
delta_is mcast_sessions 1
delta_is mcast_clients 4
check "5: 12 downloads from fresh ports: one TID (the owner's), requests handed over"
tids=
for n in 1 2 3 4 5 6 7 8 9 10 11 12; do
	i=$(((n - 1) % 4 + 1))
	in_ns "$i" "$PYTHON_EXE" "$MCAST" get "$SRV" "$PORT" s5.bin \
	    --blksize 1024 --expect "$ROOT/s5.bin" --timeout 10 \
	    > "$T/s5.out" 2>&1 || fail "download $n: $(tail -n 2 "$T/s5.out")"
	tids="$tids $(sed -n 's/.* tid=\([^ ]*\) .*/\1/p' "$T/s5.out")"
done
ntid=$(echo "$tids" | tr ' ' '\n' | grep . | sort -u | wc -l)
first=${tids# }
[ "$ntid" -eq 1 ] && ok "all 12 from ${first%% *}" || fail "$ntid TIDs:$tids"
# SO_REUSEPORT picks a worker by hashing the client's port: 12 fresh
# ports all landing on the owner has a chance of 1 in 4096.
delta_ge mcast_handoffs 1
stop_server

# ================================================================ case 6
echo "=== 6: shutdown during a session"
write_conf "listen = [ \"$SRV\" ]" 'workers = 1' "$MC_CONF"
start_server
check "6: a slow master and a waiting client on big.bin"
mc_start m6 1 big.bin --blksize 1024 --ack-delay-ms 10 --timeout 20
P_M=$MC_PID
wait_blocks m6 50
mc_start j6 2 big.bin --blksize 1024 --timeout 20
P_J=$MC_PID
wait_blocks j6 1 && ok "both in the session"
stop_server
check "6: both clients got an ERROR from the server, nobody was made master"
for c in m6 j6; do
	if [ "$c" = m6 ]; then reap "$P_M"; else reap "$P_J"; fi
	rc=$?
	if [ "$rc" -eq 1 ] && grep -q '^FAIL: server sent ERROR' "$T/$c.out"; then
		ok "$c: $(grep -m1 '^FAIL: server sent ERROR' "$T/$c.out")"
	else
		fail "$c exited with $rc: $(tail -n 2 "$T/$c.out")"
	fi
done
[ "$(field j6 master_at)" = never ] && ok "j6 never master" ||
    fail "j6 was made master during the shutdown: $(summary j6)"
re='peer=10\.77\.0\.12:.*multicast=[^ ]*,0".*result=aborted'
xfer_lines big.bin | grep -q "$re" &&
    ok "logged as aborted while waiting (mc=0)" ||
    fail "the waiting client's line: $(xfer_lines big.bin |
	grep 'peer=10\.77\.0\.12:')"

# ================================================================ case 7
echo "=== 7: a reload during a session"
write_conf "listen = [ \"$SRV\" ]" 'workers = 1' "$MC_CONF"
start_server
check "7: a slow master on big.bin, then a reload"
mc_start m7 1 big.bin --blksize 1024 --ack-delay-ms 10 \
    --expect "$ROOT/big.bin" --timeout 25
P_M=$MC_PID
wait_blocks m7 50 && ok "the master holds $(cat "$T/m7.prog") blocks"
ctl reload > /dev/null || fail "reload failed"
_gen2_serving() {
	ctl_workers | grep -q '^[0-9]* [0-9]* 2 running$'
}
wait_for 10 _gen2_serving && ok "$(ctl_workers | tr '\n' ';')" ||
    fail "no worker of generation 2: $(ctl_workers | tr '\n' ';')"
check "7: a new client of one.bin gets a group of the new worker's half"
mc_fetch o7 2 one.bin
check "7: the draining session finishes big.bin on its own group"
reap "$P_M"
mc_done m7 $? "$ROOT/big.bin"
g1=$(field m7 group)
g2=$(field o7 group)
# 20 groups, one worker: generation 1 starts at the first, 2 at the 11th.
[ "$g1" = "$POOL_LO:$MC_PORT" ] && [ "$g2" = "239.255.77.11:$MC_PORT" ] &&
    ok "generation 1: $g1, generation 2: $g2" ||
    fail "generation 1: $g1, generation 2: $g2"
stop_server

finish
