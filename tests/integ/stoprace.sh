#!/bin/bash
# stoprace.sh -- a fast stop's SIGTERM that reaches a worker while it is
# already leaving does not kill it.
#
# The master tells a worker to stop over the channel and then sends it
# SIGTERM too.  If the signal lands after the worker has freed its
# signal events (which puts the default action back) and before it
# exits, the worker dies of it and the master logs "killed by signal
# 15".  That window is microseconds wide, so strace widens it: a first
# run counts the worker's rt_sigaction calls (the last four are the
# teardown's, restoring SIGTERM first); the second run delays those
# four by 300 ms each and the master's kill() by 500 ms, so the
# SIGTERM lands inside the window every time.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"

need_cmd strace

REAL_OWLTFTPD=$OWLTFTPD
cat > "$T/traced-owltftpd" <<EOF2
#!/bin/sh
exec strace -f -qq -o "\$STRACE_OUT" -e trace=rt_sigaction,kill \$STRACE_INJECT $REAL_OWLTFTPD "\$@"
EOF2
chmod 755 "$T/traced-owltftpd"
OWLTFTPD=$T/traced-owltftpd
write_conf 'workers = 1'

# traced_run OUT [INJECT...]: start the server under strace (trace in
# OUT), wait for its worker, stop the master with SIGTERM and wait for
# it.  Sets WPID (the worker) and RC (the master's exit status).
traced_run() {
	local out=$1 master
	shift
	export STRACE_OUT=$out STRACE_INJECT="$*"
	start_server
	# SERVER_PID is strace; the master is its child.
	wait_for 10 grep -aq 'worker\[0\]: started, pid' "$LOG" ||
	    die "the worker did not start"
	WPID=$(sed -n 's/.*worker\[0\]: started, pid \([0-9]*\).*/\1/p' \
	    "$LOG" | head -n 1)
	master=$(children_of "$SERVER_PID")
	[ -n "$master" ] || die "no master under strace"
	kill -s TERM "$master"
	wait_for 30 exited "$SERVER_PID" || die "the master did not exit"
	wait "$SERVER_PID"
	RC=$?
	SERVER_PID=
}

check "a plain run: count the worker's rt_sigaction calls"
traced_run "$T/count.trace"
# strace pads the PIDs of its lines to one width: a space or more.
n=$(grep -Ec "^$WPID +rt_sigaction\(" "$T/count.trace")
if [ "$RC" -eq 0 ] && [ "$n" -ge 4 ]; then
	ok "worker $WPID made $n calls; exit status $RC"
else
	die "exit status $RC, $n rt_sigaction calls by worker '$WPID'"
fi
check "the teardown's four calls restore SIGTERM, SIGINT, SIGQUIT, SIGHUP"
last=$(grep -E "^$WPID +rt_sigaction\(" "$T/count.trace" | tail -n 4 |
    sed 's/.*rt_sigaction(\(SIG[A-Z]*\).*/\1/' | tr '\n' ' ')
[ "$last" = "SIGTERM SIGINT SIGQUIT SIGHUP " ] && ok "$last" ||
    die "the last four calls are '$last': the counting no longer fits"

check "the SIGTERM lands while the worker is leaving: it exits by itself"
traced_run "$T/race.trace" \
    -e inject=rt_sigaction:delay_exit=300000:when=$((n - 3))+ \
    -e inject=kill:delay_enter=500000
# The injection hit the worker's restore of SIGTERM, and the master's
# kill() came after it: else this run proved nothing.
grep -Eq "^$WPID +rt_sigaction\(SIGTERM, \{sa_handler=SIG_DFL.*\(DELAYED\)" \
    "$T/race.trace" || die "the restore of SIGTERM was not delayed"
grep -q "kill($WPID, SIGTERM" "$T/race.trace" ||
    die "the master sent the worker no SIGTERM"
if grep -aq 'killed by signal' "$LOG"; then
	fail "$(grep -a 'killed by signal' "$LOG")"
elif ! grep -aq "worker\[0\] pid $WPID exited" "$LOG"; then
	fail "no 'worker[0] pid $WPID exited' in the log"
else
	ok "$(grep -a "pid $WPID exited" "$LOG")"
fi
[ "$RC" -eq 0 ] || fail "the master exited with $RC"

finish
