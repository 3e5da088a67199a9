#!/bin/bash
# multicast-stop.sh -- shutdown during a multicast session: master and
# waiting client both get an ERROR, nobody is made master on the way out,
# exit status 0 (mclib.sh's network).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"
. "$TESTS_SRCDIR/mclib.sh"

echo "=== shutdown during a session"
write_conf "listen = [ \"$SRV\" ]" 'workers = 1' "$MC_CONF"
start_server
check "a slow master and a waiting client on big.bin"
mc_start m6 1 big.bin --blksize 1024 --ack-delay-ms 10 --timeout 20
P_M=$MC_PID
wait_blocks m6 50
mc_start j6 2 big.bin --blksize 1024 --timeout 20
P_J=$MC_PID
wait_blocks j6 1 && ok "both in the session"
stop_server
check "both clients got an ERROR from the server, nobody was made master"
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

finish
