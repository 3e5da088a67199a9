#!/bin/bash
# multicast-reload.sh -- a reload during a multicast session: the
# draining worker's session goes on, the new worker's session starts in
# the other half of the slot's groups (another group), both files arrive
# byte-exact (mclib.sh's network).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"
. "$TESTS_SRCDIR/mclib.sh"

echo "=== a reload during a session"
write_conf "listen = [ \"$SRV\" ]" 'workers = 1' "$MC_CONF"
start_server
check "a slow master on big.bin, then a reload"
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
check "a new client of one.bin gets a group of the new worker's half"
mc_fetch o7 2 one.bin
check "the draining session finishes big.bin on its own group"
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
