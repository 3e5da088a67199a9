#!/bin/bash
# respawn.sh -- a worker killed with SIGKILL during 16 paced downloads is
# logged and replaced in its slot at once (new pid, same slot, in owlctl
# workers, within a deadline); every request sent right after the kill
# is answered within 2 s; exactly the downloads it served fail, those on
# the other worker complete byte-exact; the new worker serves new
# requests on the slot's listen socket.  Killing one slot's young worker
# again and again is a crash loop: "respawning in N ms" doubles, and
# while the slot waits its requests go to the other worker (every one
# answered within 2 s).  A worker that exits with the fatal code (its
# root is gone) is not respawned, the master runs on with the other, no
# request is left unanswered, a reload brings the slot back.  A server
# whose root does not exist refuses to start (status 1, the reason)
# without forking a worker.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"

need_cmd curl python3 cmp
py_resolve

NLOAD=16
BIG=524288		# 1024 blocks of 512 bytes, paced: ~6 s each (at ~3 s a
			# loaded ASan run once saw them end before the kill)
mkfile "$ROOT/big.bin" $BIG
mkfile "$ROOT/small.bin" 5000

write_conf
start_server
MASTER=$SERVER_PID

check "two workers of generation 1"
wait_for_workers 1 2 5 && ok "$(ctl_workers | tr '\n' ';')" ||
    fail "workers: $(ctl_workers | tr '\n' ';')"

# pid_in_slot SLOT: the pid owlctl workers lists for SLOT (first one).
pid_in_slot() {
	ctl_workers | awk -v s="$1" '$1 == s { print $2; exit }'
}

# _slot_respawned SLOT OLDPID: SLOT has a running worker other than OLDPID.
_slot_respawned() {
	ctl_workers | awk -v s="$1" -v o="$2" '
	    $1 == s && $2 != o && $4 == "running" { f = 1 } END { exit !f }'
}

# ---------------------------------------------------------------- kill -9
check "kill -9 a worker with transfers in flight"
pids=
for i in $(seq 1 $NLOAD); do
	slow_get big.bin "$OUT/k-$i" 5 > "$T/k-$i.err" 2>&1 &
	pids="$pids $!"
done
_live_ge() {
	[ "$(ctl -r transfers 2>/dev/null | grep -c '\.file=big\.bin$')" \
	    -ge "$1" ]
}
wait_for 10 _live_ge $NLOAD || fail "not all $NLOAD downloads in flight"
XF=$(ctl -r transfers)
VICTIM=$(kv_get "$XF" transfer.0.pid)
SLOT=$(kv_get "$XF" transfer.0.worker)
nvictim=$(printf '%s\n' "$XF" | grep -c "^transfer\.[0-9]*\.pid=$VICTIM\$")
OTHER=$(ctl_workers | awk -v v="$VICTIM" '$2 != v { print $2; exit }')
OSLOT=$(ctl_workers | awk -v v="$VICTIM" '$2 != v { print $1; exit }')
if [ -n "$VICTIM" ] && [ -n "$SLOT" ] && [ "$VICTIM" != "$MASTER" ] &&
    children_of "$MASTER" | grep -qx "$VICTIM"; then
	kill -s KILL "$VICTIM"
	ok "killed worker[$SLOT] pid $VICTIM with $nvictim of $NLOAD\
 transfers; worker[$OSLOT] pid $OTHER has the rest"
else
	die "no worker to kill (transfers: $(echo $XF | head -c 300))"
fi

check "every request sent right after the kill is answered within 2 s"
# probes ASK: 12 requests from 12 source ports at once, each waiting 2 s
# for an answer; sets NNONE to the unanswered ones.
probes() {
	local i pids=
	rm -f "$T"/probe-*.out
	for i in $(seq 1 12); do
		rawq probe 127.0.0.1 "$PORT" rrq small.bin octet --wait "$1" \
		    > "$T/probe-$i.out" 2>&1 &
		pids="$pids $!"
	done
	wait $pids
	NNONE=$(cat "$T"/probe-*.out | grep -c '^NONE$')
}
probes 2000
[ "$NNONE" -eq 0 ] && ok "12 of 12 answered" ||
    fail "$NNONE of 12 requests got no answer within 2 s of the kill"

check "a new worker appears in slot $SLOT (new pid) within 5 s"
if wait_for 5 _slot_respawned "$SLOT" "$VICTIM"; then
	NEW=$(pid_in_slot "$SLOT")
	ok "slot $SLOT: pid $VICTIM -> $NEW"
else
	fail "owlctl workers: $(ctl_workers | tr '\n' ';')"
	NEW=
fi
check "owlctl workers: still 2 workers, generation 1; the other untouched"
wait_for_workers 1 2 3 || fail "workers: $(ctl_workers | tr '\n' ';')"
[ "$(pid_in_slot "$OSLOT")" = "$OTHER" ] &&
    ok "worker[$OSLOT] still pid $OTHER" ||
    fail "worker[$OSLOT] changed: $(ctl_workers | tr '\n' ';')"

check "log: the kill and the respawn"
grep -aq "worker\[$SLOT\] pid $VICTIM killed by signal 9" "$LOG" &&
    grep -aq "worker\[$SLOT\] respawning now" "$LOG" &&
    ok "$(grep -a "worker\[$SLOT\] pid $VICTIM killed" "$LOG")" ||
    fail "want 'worker[$SLOT] pid $VICTIM killed by signal 9' and" \
    "'worker[$SLOT] respawning now'"

check "transfers of the surviving worker complete byte-exact"
nfail=0
ndiff=0
i=0
for p in $pids; do
	i=$((i + 1))
	if ! wait "$p"; then
		nfail=$((nfail + 1))
		continue
	fi
	cmp -s "$ROOT/big.bin" "$OUT/k-$i" || ndiff=$((ndiff + 1))
done
nok=$((NLOAD - nfail - ndiff))
if [ $ndiff -eq 0 ] && [ $nfail -eq "$nvictim" ]; then
	ok "$nok complete and identical, $nfail failed (the killed\
 worker had $nvictim)"
else
	fail "$nok ok, $nfail failed, $ndiff corrupt; the killed worker had\
 $nvictim: $(cat "$T"/k-*.err | sort | uniq -c | head -n 3)"
fi
wait_xfer big.bin 'result=ok' $((NLOAD - nvictim)) 5

check "service continues: 16 downloads after the respawn, some on the new worker"
# par_gets N: N raw downloads of small.bin at once; sets NBAD.
par_gets() {
	local i p pids=
	NBAD=0
	for i in $(seq 1 "$1"); do
		rawq get 127.0.0.1 "$PORT" small.bin --expect "$ROOT/small.bin" \
		    > "$T/raw-$i.out" 2>&1 &
		pids="$pids $!"
	done
	i=0
	for p in $pids; do
		i=$((i + 1))
		wait "$p" && continue
		NBAD=$((NBAD + 1))
		[ $NBAD -gt 2 ] || sed 's/^/    /' "$T/raw-$i.out"
	done
}
par_gets 16
[ $NBAD -eq 0 ] && ok "16 of 16 downloads identical" ||
    fail "$NBAD of 16 downloads failed"
if [ -n "$NEW" ]; then
	wait_xfer small.bin 'result=ok' 16 5
	nnew=$(xfer_lines small.bin | grep -ac "^owltftpd\[$NEW\]:")
	[ "$nnew" -gt 0 ] && ok "the new worker pid $NEW served $nnew" ||
	    fail "the respawned worker pid $NEW served none of 16 (its" \
	    "listen socket is not the slot's)"
fi

# ---------------------------------------------------------------- backoff
check "repeated crashes of slot $SLOT: at once, then 100, 200, ... 1600 ms"
# A worker that served 5 s is not crash-looping: its death is answered
# at once and starts the count afresh.
_old_enough() {
	[ "$(ctl -r workers 2>/dev/null | awk -F'[.=]' -v p="$NEW" '
	    $3 == "pid" && $4 == p { i = $2 }
	    $3 == "uptime" { up[$2] = $4 }
	    END { print (i in up) ? up[i] : 0 }')" -ge 6 ]
}
wait_for 10 _old_enough || fail "slot $SLOT's worker not 6 s old in 10 s"
n0=$(grep -ac "worker\[$SLOT\] respawning" "$LOG")
# Each successor is killed as soon as the master logs it ready, not after
# asking owlctl (which waits for every worker's answer): on a loaded host
# that took seconds, and a worker killed 5 s after its start rightly
# counts as no crash loop.
_ready_re="master: worker\[$SLOT\] pid [0-9]* generation [0-9]* ready"
_ready_more() {
	[ "$(grep -ac "$_ready_re" "$LOG")" -gt "$1" ]
}
cur=$NEW
for n in 1 2 3 4 5 6; do
	if [ -z "$cur" ] || ! children_of "$MASTER" | grep -qx "$cur"; then
		fail "no worker in slot $SLOT to kill (round $n)"
		break
	fi
	r0=$(grep -ac "$_ready_re" "$LOG")
	kill -s KILL "$cur"
	if ! wait_for 5 _ready_more "$r0"; then
		fail "slot $SLOT not respawned within 5 s after kill $n"
		break
	fi
	cur=$(grep -a "$_ready_re" "$LOG" | tail -n 1 |
	    sed 's/.* pid \([0-9]*\) generation.*/\1/')
done
delays=$(grep -a "worker\[$SLOT\] respawning" "$LOG" | tail -n +$((n0 + 1)) |
    sed 's/.*respawning now.*/0/; s/.*respawning in \([0-9]*\) ms.*/\1/' |
    tr '\n' ' ')
[ "$delays" = "0 100 200 400 800 1600 " ] && ok "delays: $delays" ||
    fail "respawn delays for slot $SLOT: '$delays' (want 0 100 200 400" \
    "800 1600: the first at once, then each double the last)"

check "while slot $SLOT waits 3.2 s to respawn, every request is answered"
kill -s KILL "$cur"
_waiting() {
	grep -aq "worker\[$SLOT\] respawning in 3200 ms" "$LOG"
}
wait_for 3 _waiting || fail "no 'respawning in 3200 ms' for slot $SLOT"
probes 2000
[ "$NNONE" -eq 0 ] && ok "12 of 12 answered during the wait" ||
    fail "$NNONE of 12 requests got no answer within 2 s: the waiting" \
    "slot's listen socket still takes its share"
wait_for 6 _slot_respawned "$SLOT" "$cur" ||
    fail "slot $SLOT not respawned after its 3.2 s wait"
cur=$(pid_in_slot "$SLOT")
rawq get 127.0.0.1 "$PORT" small.bin --expect "$ROOT/small.bin" \
    > /dev/null 2>&1 || fail "a download after the respawn failed"
check "the other slot was never respawned"
[ "$(pid_in_slot "$OSLOT")" = "$OTHER" ] &&
    ! grep -aq "worker\[$OSLOT\] respawning" "$LOG" && ok ||
    fail "worker[$OSLOT]: $(grep -a "worker\[$OSLOT\]" "$LOG" | tail -n 3)"
rawq get 127.0.0.1 "$PORT" small.bin --expect "$ROOT/small.bin" \
    > /dev/null 2>&1 || fail "a download after the crashes failed"

# ---------------------------------------------------------------- fatal
check "a worker that cannot open its root exits fatally: not respawned"
mv "$ROOT" "$T/root.away" || exit 99
FOTHER=$(pid_in_slot "$SLOT")	# survives; slot $OSLOT goes fatal
kill -s KILL "$OTHER"
_fatal_logged() {
	grep -aq "worker\[$OSLOT\] failed fatally: not respawning" "$LOG"
}
if wait_for 5 _fatal_logged; then
	ok "$(grep -a "worker\[$OSLOT\] failed fatally" "$LOG")"
else
	fail "no 'worker[$OSLOT] failed fatally: not respawning' in the log"
fi
sleep 2		# time for a (wrong) second respawn
nstart=$(grep -ac "worker\[$OSLOT\] started" "$LOG")
nfatal=$(grep -ac "worker\[$OSLOT\] failed fatally" "$LOG")
[ "$nstart" -eq 2 ] && [ "$nfatal" -eq 1 ] &&
    ok "slot $OSLOT started twice (initial + one respawn), fatal once" ||
    fail "slot $OSLOT: $nstart starts, $nfatal fatal exits (want 2, 1)"
grep -aq "worker\[$OSLOT\] pid [0-9]* exited with code 2" "$LOG" ||
    fail "no 'worker[$OSLOT] ... exited with code 2' in the log"

check "with slot $OSLOT fatal the master runs on with one worker"
ws=$(ctl_workers)
alive && [ "$(echo "$ws" | grep -c .)" -eq 1 ] &&
    [ "$(pid_in_slot "$SLOT")" = "$FOTHER" ] &&
    [ "$(ctl_val workers.alive status)" = 1 ] && ok "workers: $ws" ||
    fail "alive: $(alive && echo yes || echo no); workers: $ws"

check "with slot $OSLOT fatal, every request is still answered (none lost)"
# The surviving worker still holds the (moved) root open.  A request
# the kernel hands to the fatal slot's socket must not vanish.
probes 1500
[ "$NNONE" -eq 0 ] && ok "12 of 12 requests answered" ||
    fail "$NNONE of 12 requests got no reply within 1.5 s: the fatal" \
    "slot's listen socket still takes its share of the requests"

check "a reload with the root back brings slot $OSLOT back"
mv "$T/root.away" "$ROOT" || exit 99
out=$(ctl reload 2>&1) || fail "owlctl reload: $out"
wait_for_workers 2 2 10 && ok "$(ctl_workers | tr '\n' ';')" ||
    fail "workers: $(ctl_workers | tr '\n' ';')"
par_gets 8
[ $NBAD -eq 0 ] || fail "$NBAD of 8 downloads failed after the reload"

stop_server

# ---------------------------------------------------------------- no root
check "a root that does not exist: the start is refused, no worker forked"
write_conf "root = \"$T/no-such-root\""
NSTART=$((NSTART + 1))
LOG=$T/server.$NSTART.log
t0=$(now_ms)
timeout -k 2 10 "$OWLTFTPD" -F -c "$CONF" > "$LOG" 2>&1 < /dev/null
rc=$?
ms=$(($(now_ms) - t0))
if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
	fail "the master was still running after 10 s (respawn loop?)"
elif [ $rc -ne 1 ]; then
	fail "status $rc, want 1: an init system would take this for a" \
	    "clean stop"
else
	ok "the master exited after $ms ms with status 1"
fi
grep -aq "$CONF: root: $T/no-such-root: No such file or directory" \
    "$LOG" || fail "the reason is not in the log (want '$CONF: root:" \
    "$T/no-such-root: No such file or directory')"
grep -aq 'worker\[[0-9]*\] started' "$LOG" &&
    fail "a worker was forked: $(grep -a 'started' "$LOG" | head -n 2)"
[ -e "$T/owltftpd.pid" ] && fail "pid file left behind"
[ -e "$T/control.sock" ] && fail "control socket left behind"

finish
