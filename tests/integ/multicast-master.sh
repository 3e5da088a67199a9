#!/bin/bash
# multicast-master.sh -- the master role changes hands (mclib.sh's network).
#  1. the master vanishes mid-transfer (timeout_ms 300, retries 3): the
#     server times it out (logged result=timeout) and makes the next
#     client master; that one is gone too (it vanishes when made master)
#     and is timed out in turn; the two clients after it still get the
#     whole file.
#  2. a master that quits with an ERROR hands over at once (logged
#     peer_error, nothing times out).
#  3. after all this a plain unicast download still works.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"
. "$TESTS_SRCDIR/mclib.sh"

mc_server

echo "=== the master vanishes, the next one is silent, the rest finish"
NB=$(nblocks "$ROOT/v.bin" 1024)
snap
check "a raw master (10.77.0.11) that vanishes holding 400 of $NB blocks"
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
check "the next client (10.77.0.14) is made master after the timeout and vanishes too"
reap "$P_S"
rc=$?
[ "$rc" -eq 3 ] && ok "$(tail -n 1 "$T/s3.out")" ||
    fail "it exited with $rc, not 3 (made master, vanished):" \
    "$(tail -n 2 "$T/s3.out")"
check "the raw client after it (10.77.0.12) is made master and gets v.bin byte-exact"
reap "$P_J"
mc_done j3 $? "$ROOT/v.bin"
ma=$(field j3 master_at)
[ "$ma" != never ] && [ "${ma%%,*}" -gt 0 ] 2>/dev/null &&
    ok "made master holding $ma blocks" ||
    fail "the client was not made master after the others: $(summary j3)"
check "atftp (10.77.0.13) gets v.bin byte-exact"
reap "$P_A"
atftp_done at3 $? "$ROOT/v.bin"
check "both vanished clients' transfers end as timeouts in the log, the others ok"
wait_xfer v.bin 'peer=10\.77\.0\.11:.*result=timeout' 1 5
wait_xfer v.bin 'peer=10\.77\.0\.14:.*result=timeout' 1 5
wait_xfer v.bin 'peer=10\.77\.0\.1[23]:.*result=ok' 2 5
check "counters: one session, 4 clients, >= 3 master changes"
delta_is mcast_sessions 1
delta_is mcast_clients 4
delta_ge mcast_master_changes 3

echo "=== the master quits with an ERROR"
NB=$(nblocks "$ROOT/one.bin" 1024)
snap
check "a raw master sends ERROR holding 150 of $NB blocks"
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
check "the other client is made master and gets one.bin byte-exact"
reap "$P_J"
mc_done j3b $? "$ROOT/one.bin"
[ "$(field j3b master_at)" != never ] && ok "master_at=$(field j3b master_at)" ||
    fail "never made master: $(summary j3b)"
check "the quitter is logged as peer_error, nothing timed out"
wait_xfer one.bin 'peer=10\.77\.0\.11:.*result=peer_error' 1 5
wait_xfer one.bin 'peer=10\.77\.0\.12:.*result=ok' 1 5
if xfer_lines one.bin | grep -q 'result=timeout'; then
	fail "a transfer timed out: $(xfer_lines one.bin | grep timeout)"
fi
delta_is mcast_master_changes 1

check "the raw client without multicast gets big.bin after the handovers"
in_ns 4 "$PYTHON_EXE" "$RAWTFTP" get "$SRV" "$PORT" big.bin \
    --opt blksize=1024 --expect "$ROOT/big.bin" > "$T/raw4.out" 2>&1 &&
    ok "raw get" || fail "$(grep FAIL "$T/raw4.out" | head -n 3)"
stop_server

finish
