#!/bin/bash
# multicast-session.sh -- one multicast session, RFC 2090, on the private
# network of mclib.sh.
#  1. one atftp client (--option multicast): byte-exact; its OACK names a
#     group of the pool with mc=1; mcast_sessions and mcast_blocks grow
#     and a bystander in another namespace, joined to every group of the
#     pool, sees every block arrive on the group from the server, with
#     the configured TTL; the log and the audit event name the group.
#  2. one file, three clients: a slow raw master (windowsize 4, 10 ms per
#     ACK), then once it holds 200 blocks a raw late joiner (with tsize)
#     and atftp.  All three byte-exact, one session (same group, same
#     server TID), the late joiner joined mid-stream and was made master
#     later, atftp too; meanwhile tftp-hpa fetches the same file by plain
#     unicast and another file gets a group of its own; counters:
#     mcast_sessions +2, mcast_clients +4, mcast_master_changes >= 2.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"
. "$TESTS_SRCDIR/mclib.sh"

mc_server

echo "=== one atftp client"
check "atftp --option multicast downloads one.bin (300000 bytes) byte-exact"
snap
sniff_start 4
atftp_start at1 1 one.bin
reap "$AT_PID"
rc=$?
atftp_done at1 "$rc" "$ROOT/one.bin"
check "atftp was the master client from the start (mc=1)"
grep -qE "multicast: $POOL_RE,$MC_PORT,1" "$T/at1.out" &&
    ok "$(grep -m1 'received OACK' "$T/at1.out")" ||
    fail "no mc=1: $(grep 'OACK' "$T/at1.out" | head -n 2)"
check "counters: mcast_sessions +1, mcast_clients +1, mcast_blocks >= 293"
delta_is mcast_sessions 1
delta_is mcast_clients 1
delta_ge mcast_blocks "$(nblocks "$ROOT/one.bin" 1024)"
delta_is mcast_master_changes 0
check "a bystander joined to the pool saw all 293 blocks on the group, from the server"
sniff_stop
grp=$(grep -m1 -oE "multicast: $POOL_RE" "$T/at1.out")
grp=${grp#multicast: }
line=$(grep "^$grp from=$SRV:" "$T/sniff.out")
nb=$(echo "$line" | sed -n 's/.* blocks=\([0-9]*\).*/\1/p')
[ -n "$grp" ] && [ "${nb:-0}" -eq 293 ] && ok "$line" ||
    fail "group '$grp': bystander saw: $(cat "$T/sniff.out")"
check "the group's DATA has the configured TTL ($MC_TTL)"
[[ $line == *" ttl=$MC_TTL" ]] && ok "${line##* }" ||
    fail "want ttl=$MC_TTL: $line"
check "the transfer is logged as ok with multicast in its options"
wait_xfer one.bin 'peer=10\.77\.0\.11:.*result=ok' 1 5
check "the audit event names the group in options.multicast"
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

echo "=== a slow master, a late joiner and atftp on one file"
NB=$(nblocks "$ROOT/big.bin" 1024)
snap
check "a slow raw master (windowsize 4, 10 ms per ACK) starts big.bin"
mc_start m2 1 big.bin --blksize 1024 --windowsize 4 --ack-delay-ms 10 \
    --expect "$ROOT/big.bin" --timeout 25
P_M=$MC_PID
wait_blocks m2 200 && ok "the master holds $(cat "$T/m2.prog") blocks"
check "a raw late joiner (10.77.0.12), then atftp (10.77.0.13) join"
mc_start j2 2 big.bin --blksize 1024 --tsize --expect "$ROOT/big.bin" \
    --timeout 25
P_J=$MC_PID
wait_blocks j2 1 && ok "the late joiner receives the group"
atftp_start at2 3 big.bin
P_A=$AT_PID
check "meanwhile tftp-hpa in 10.77.0.14 fetches big.bin by plain unicast"
in_ns 4 tftp -l -m binary "$SRV" "$PORT" -c get big.bin "$OUT/hpa2" \
    > "$T/hpa2.out" 2>&1 || fail "tftp exited with $?: $(cat "$T/hpa2.out")"
same "$ROOT/big.bin" "$OUT/hpa2"
check "meanwhile one.bin, fetched with multicast from 10.77.0.14, gets a session of its own"
mc_fetch o2 4 one.bin
check "the master gets big.bin (1 MiB, 1025 blocks) byte-exact"
reap "$P_M"
mc_done m2 $? "$ROOT/big.bin"
check "the late joiner gets big.bin byte-exact"
reap "$P_J"
mc_done j2 $? "$ROOT/big.bin"
check "atftp gets big.bin byte-exact"
reap "$P_A"
atftp_done at2 $? "$ROOT/big.bin"
check "one session: the master and the joiner had the same group and server TID"
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
check "the master was master from the start and ACKed every block itself"
[ "$(field m2 master_at)" = 0 ] && [ "$(field m2 final_ack)" = "$NB" ] &&
    ok "master_at=0 final_ack=$NB" || fail "$(summary m2)"
check "the late joiner came in mid-stream and was made master later"
fb=$(field j2 first_group_block)
ma=$(field j2 master_at)
[ "${fb:-0}" -gt 1 ] 2>/dev/null && [ "$ma" != never ] &&
    [ "${ma%%,*}" -gt 0 ] 2>/dev/null && [ "$(field j2 final_ack)" = "$NB" ] &&
    ok "first group block $fb, made master holding $ma blocks" ||
    fail "$(summary j2)"
check "the OACK that made it master named the group and port in full"
want="${g1%:*},$MC_PORT,0;${g1%:*},$MC_PORT,1"
[ "$(field j2 mc_values)" = "$want" ] && ok "multicast=${want//;/ then }" ||
    fail "want the values $want, got $(field j2 mc_values)"
check "atftp was made master (a second OACK with mc=1) and ACKed the last block"
grep -q 'received OACK <mc = 1>' "$T/at2.out" &&
    grep -q "sent ACK <block: $NB>" "$T/at2.out" && ok ||
    fail "$(grep -E 'OACK|sent ACK <block: [0-9]*>$' "$T/at2.out" | tail -n 3)"
check "counters: 2 sessions (big.bin, one.bin), 4 clients, >= 2 master changes"
delta_is mcast_sessions 2
delta_is mcast_clients 4
delta_ge mcast_master_changes 2
delta_ge mcast_blocks $((NB + $(nblocks "$ROOT/one.bin" 1024)))
check "the log has 3 multicast transfers of big.bin ending ok, and a unicast one"
wait_xfer big.bin 'opts="[^"]*multicast[^"]*".*result=ok' 3 5
wait_xfer big.bin 'peer=10\.77\.0\.14:.*result=ok' 1 5
if xfer_lines big.bin | grep 'peer=10\.77\.0\.14:' | grep -q multicast; then
	fail "the unicast download is logged with multicast:" \
	    "$(xfer_lines big.bin | grep 'peer=10\.77\.0\.14:')"
fi

stop_server

finish
