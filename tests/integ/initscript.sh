#!/bin/bash
# initscript.sh -- conf/owltftpd.init drives the daemon (no -F), once with
# start-stop-daemon (when installed) and once in plain shell: start
# detaches a master that the pid file names and owlctl reaches; status
# is 0 while it runs; a download works; reload raises the generation and
# serves the new root, and a broken config is refused by reload while the
# server goes on; a second start (by the script or by hand) adds no
# master; stop ends master and workers and removes the pid file; status
# is 3 after it; a pid file naming a dead PID reads as status 1 and does
# not block a start; restart replaces the master; a master killed with
# SIGKILL leaves a pid file and socket that do not block the next start.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"

need_cmd curl timeout

INIT=$TESTS_SRCDIR/../conf/owltftpd.init
PIDF=$T/owltftpd.pid
INIT_TIMEOUT=60		# seconds, for every run of the init script
DEADLINE=10		# seconds for a master (and its workers) to go away
MASTERS=		# every master this script saw started, for cleanup

[ -r "$INIT" ] || { echo "no $INIT" >&2; exit 99; }
[ -x "$OWLCTL" ] || { echo "OWLCTL=$OWLCTL is not an executable" >&2; exit 99; }

mkdir "$T/root2" && chmod 755 "$T/root2" || exit 99
echo "served from the first root" > "$ROOT/hello.txt"
echo "served from the second root, after the reload" > "$T/root2/hello.txt"
# The daemon logs to syslog until log_file is open; lib.sh shows $LOG's
# tail on a failure.
LOG=$T/daemon.log
: > "$LOG"
write_conf "log_file = \"$LOG\""

# ---------------------------------------------------------------- helpers

# initd ACTION: run the init script with sh (POSIX, as init would) on our
# daemon and config; output in $T/initd.out, status in RC.
initd() {
	timeout -k 2 "$INIT_TIMEOUT" env -u PIDFILE DAEMON="$OWLTFTPD" \
	    OWLCTL="$OWLCTL" \
	    CONFIG="$CONF" OWLTFTPD_DEFAULTS="$T/default" USE_SSD="$USE_SSD" \
	    STOP_TIMEOUT=10 START_TIMEOUT=10 sh "$INIT" "$1" \
	    > "$T/initd.out" 2>&1 < /dev/null
	RC=$?
	sed "s/^/    init $1: /" "$T/initd.out"
}

# expect_rc WANT: the last initd run exited WANT.
expect_rc() {
	if [ "$RC" -eq "$1" ]; then
		ok "$CUR: exit $RC"
		return 0
	fi
	fail "init script exited $RC, want $1: $(cat "$T/initd.out")"
	return 1
}

# pidfile_pid: the PID in the pid file, or nothing.
pidfile_pid() {
	local p=
	[ -r "$PIDF" ] && read -r p < "$PIDF" 2>/dev/null
	case $p in
	''|*[!0-9]*) ;;
	*) echo "$p" ;;
	esac
}

# stat_field PID N: field N of /proc/PID/stat counted after the name
# (1 state, 2 ppid, 3 pgrp, 4 session).
stat_field() {
	local line
	read -r line 2>/dev/null < "/proc/$1/stat" || return 1
	line=${line##*) }
	echo "$line" | awk -v n="$2" '{ print $n }'
}

# masters: live owltftpd processes running our config whose parent is
# not one of them, one PID a line.
masters() {
	local f p all="" pp
	# -z: the arguments are NUL-terminated lines, -x: one is $CONF.
	for f in $(grep -lzxF -- "$CONF" /proc/[0-9]*/cmdline 2>/dev/null); do
		p=${f#/proc/}
		p=${p%/cmdline}
		if [ "$(cat "/proc/$p/comm" 2>/dev/null)" = owltftpd ] &&
		    ! exited "$p"; then
			all="$all $p"
		fi
	done
	for p in $all; do
		pp=$(stat_field "$p" 2)
		case " $all " in
		*" $pp "*) ;;
		*) echo "$p" ;;
		esac
	done
}

# started: the pid file must name a live master, detached from us, that
# owlctl reaches; sets MPID (and PORT from owlctl status).
started() {
	local f0=$FAILS ppid sid st n
	MPID=
	if ! wait_for 5 _pidfile_live; then
		fail "pid file $PIDF holds '$(cat "$PIDF" 2>/dev/null)', not" \
		    "a live process"
		return 1
	fi
	MPID=$(pidfile_pid)
	MASTERS="$MASTERS $MPID"
	ppid=$(stat_field "$MPID" 2)
	sid=$(stat_field "$MPID" 4)
	[ "$ppid" != $$ ] ||
	    fail "master $MPID is a child of the test script"
	[ "$sid" = "$MPID" ] ||
	    fail "master $MPID did not detach: session $sid, not its own"
	[ "$(cat "/proc/$MPID/comm" 2>/dev/null)" = owltftpd ] ||
	    fail "pid $MPID is $(cat "/proc/$MPID/comm" 2>/dev/null), not owltftpd"
	st=$(ctl status 2>&1)
	[ "$(kv_get "$st" pid)" = "$MPID" ] ||
	    fail "owlctl status does not name pid $MPID: $st"
	PORT=$(kv_get "$st" listen.port)
	case $PORT in
	''|*[!0-9]*|0) fail "no listen.port in owlctl status: $st" ;;
	esac
	n=$(masters | grep -c .)
	[ "$n" -eq 1 ] || fail "$n masters run our config: $(masters | xargs)"
	[ "$FAILS" -eq "$f0" ] &&
	    ok "master $MPID (parent $ppid, own session), port $PORT"
}

_nchildren_is() {
	[ "$(children_of "$1" | grep -c .)" -eq "$2" ]
}

_pidfile_live() {
	local p
	p=$(pidfile_pid)
	[ -n "$p" ] && ! exited "$p"
}

# gone PID...: each process has exited (bounded wait).
gone() {
	local p r=0
	for p in "$@"; do
		if ! wait_for "$DEADLINE" exited "$p"; then
			fail "process $p still running"
			r=1
		fi
	done
	return $r
}

generation() {
	ctl_val generation status
}

_generation_is() {
	[ "$(generation)" = "$1" ]
}

# get_hello WANT-FILE: download hello.txt and compare with WANT-FILE.
get_hello() {
	rm -f "$OUT/hello.txt"
	if ! curl_get hello.txt "$OUT/hello.txt" > "$T/curl.out" 2>&1; then
		fail "curl: $(cat "$T/curl.out")"
		return 1
	fi
	same "$1" "$OUT/hello.txt"
}

# Only PIDs this script started: masters it saw, and their workers.
initscript_cleanup() {
	local rc=$? p kids
	for p in $MASTERS; do
		exited "$p" && continue
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = owltftpd ] || continue
		kids=$(children_of "$p")
		kill -s TERM "$p" 2>/dev/null
		wait_for 5 exited "$p" || kill -s KILL "$p" 2>/dev/null
		for k in $kids; do
			wait_for 3 exited "$k" || kill -s KILL "$k" 2>/dev/null
		done
	done
	(exit "$rc")
	cleanup
}
trap initscript_cleanup EXIT

# ---------------------------------------------------------------- the unit
# systemd is not PID 1 here: check what the unit promises about failures.
UNIT=$TESTS_SRCDIR/../conf/owltftpd.service
check "the systemd unit reloads synchronously and sees a failed start"
f0=$FAILS
grep -qx 'ExecReload=/usr/sbin/owlctl reload' "$UNIT" ||
    fail "ExecReload is not 'owlctl reload': $(grep ExecReload "$UNIT")"
grep -q 'kill.*HUP' "$UNIT" && fail "the unit still reloads with SIGHUP"
# Type=forking: the starting process's status is the start's outcome.
grep -qx 'Type=forking' "$UNIT" && grep -qx 'PIDFile=/run/owltftpd.pid' \
    "$UNIT" && ! grep -q '^ExecStart=.* -F' "$UNIT" ||
    fail "the unit does not run the daemon as Type=forking with its pid file"
[ "$FAILS" -eq "$f0" ] && ok

# ---------------------------------------------------------------- scenario

run_scenario() {
	local old ws dead rc

	check "[$MODE] status before any start: 3"
	initd status
	expect_rc 3

	check "[$MODE] start: a detached master, named by the pid file"
	initd start
	expect_rc 0 || { cat "$LOG"; return 1; }
	started || return 1
	wait_for 5 _nchildren_is "$MPID" 2
	ws=$(children_of "$MPID")
	[ "$(echo "$ws" | grep -c .)" -eq 2 ] && ok "workers: $(echo "$ws" | xargs)" ||
	    fail "want 2 workers of $MPID, have: $(echo "$ws" | xargs)"

	check "[$MODE] status while running: 0"
	initd status
	expect_rc 0
	grep -q "$MPID" "$T/initd.out" && ok "names pid $MPID" ||
	    fail "status output does not name $MPID"

	check "[$MODE] a download works"
	get_hello "$ROOT/hello.txt"

	check "[$MODE] reload: generation 1 -> 2, same master, new root served"
	[ "$(generation)" = 1 ] || fail "generation before reload: $(generation)"
	write_conf "log_file = \"$LOG\"" "root = \"$T/root2\""
	initd reload
	expect_rc 0
	if wait_for 10 _generation_is 2; then
		ok "generation 2"
	else
		fail "generation is '$(generation)' 10 s after reload, want 2"
	fi
	[ "$(pidfile_pid)" = "$MPID" ] || fail "pid file changed: $(pidfile_pid)"
	exited "$MPID" && fail "master $MPID died on reload"
	wait_for_workers 2 2 || fail "workers: $(ctl_workers | xargs)"
	check "[$MODE] after the reload, requests see the new root"
	get_hello "$T/root2/hello.txt"

	check "[$MODE] reload with a broken config: refused, server unchanged"
	cp "$CONF" "$T/good.conf"
	echo 'workers = ;' >> "$CONF"
	initd reload
	[ "$RC" -ne 0 ] && ok "exit $RC" || fail "exit 0 for a broken config"
	grep -q "$CONF:" "$T/initd.out" && ok "names $CONF:LINE" ||
	    fail "no '$CONF:' in the output"
	sleep 0.3
	[ "$(generation)" = 2 ] || fail "generation is $(generation), want 2"
	cp "$T/good.conf" "$CONF"
	get_hello "$T/root2/hello.txt"

	check "[$MODE] reload the workers cannot serve: the script fails, says why"
	# The file parses; only the new workers' root is missing.  The
	# script reloads through owlctl, which waits for them.
	write_conf "log_file = \"$LOG\"" "root = \"$T/gone\""
	initd reload
	[ "$RC" -ne 0 ] && ok "exit $RC" || fail "exit 0 for a missing root"
	grep -qF "root: $T/gone: No such file or directory" "$T/initd.out" &&
	    ok "names the root" || fail "the reason is not in the output"
	[ "$(generation)" = 2 ] || fail "generation is $(generation), want 2"
	[ "$(pidfile_pid)" = "$MPID" ] && ! exited "$MPID" ||
	    fail "the master did not survive the failed reload"
	cp "$T/good.conf" "$CONF"
	get_hello "$T/root2/hello.txt"

	check "[$MODE] a second start adds no master"
	initd start
	expect_rc 0
	[ "$(pidfile_pid)" = "$MPID" ] || fail "pid file now $(pidfile_pid)"
	[ "$(masters | xargs)" = "$MPID" ] ||
	    fail "masters running our config: $(masters | xargs)"

	check "[$MODE] a second daemon by hand refuses: pid file locked"
	timeout 10 "$OWLTFTPD" -F -c "$CONF" > "$T/second.out" 2>&1
	rc=$?
	[ $rc -eq 1 ] && ok "exit 1" || fail "exit $rc, want 1"
	grep -q "another owltftpd (pid $MPID)" "$T/second.out" &&
	    ok "$(head -n 1 "$T/second.out")" ||
	    fail "no 'another owltftpd (pid $MPID)': $(cat "$T/second.out")"
	timeout 10 "$OWLTFTPD" -c "$CONF" > "$T/second.out" 2>&1
	rc=$?
	[ $rc -eq 1 ] && ok "without -F too: exit 1" ||
	    fail "without -F: exit $rc, want 1"
	[ "$(masters | xargs)" = "$MPID" ] ||
	    fail "masters running our config: $(masters | xargs)"
	[ "$(pidfile_pid)" = "$MPID" ] || fail "pid file now $(pidfile_pid)"

	check "[$MODE] stop: master and workers gone, pid file and socket removed"
	ws=$(children_of "$MPID")
	initd stop
	expect_rc 0
	# shellcheck disable=SC2086
	gone "$MPID" $ws && ok "master $MPID and workers $(echo "$ws" | xargs) gone"
	[ ! -e "$PIDF" ] && ok "pid file removed" ||
	    fail "pid file left: $(cat "$PIDF")"
	[ ! -e "$CTL_SOCK" ] && ok "control socket removed" ||
	    fail "control socket left"

	check "[$MODE] status after stop: 3; stop again: 0"
	initd status
	expect_rc 3
	initd stop
	expect_rc 0

	check "[$MODE] a pid file naming a dead PID: status 1, start works"
	(exit 0) &
	dead=$!
	wait "$dead"
	exited "$dead" || fail "pid $dead not dead"
	echo "$dead" > "$PIDF"
	initd status
	expect_rc 1
	initd start
	expect_rc 0
	old=$MPID
	started
	[ "$MPID" != "$dead" ] || fail "pid file still names $dead"
	check "[$MODE] a download works after the stale start"
	get_hello "$T/root2/hello.txt"

	check "[$MODE] restart: a new master, the old one gone"
	old=$MPID
	ws=$(children_of "$old")
	initd restart
	expect_rc 0
	# shellcheck disable=SC2086
	gone "$old" $ws && ok "old master $old gone"
	started
	[ "$MPID" != "$old" ] || fail "same master $old after restart"
	[ "$(generation)" = 1 ] || fail "generation $(generation) after restart"

	check "[$MODE] after SIGKILL of the master, its pid file and socket do" \
	    "not block a start"
	old=$MPID
	ws=$(children_of "$old")
	kill -s KILL "$old"
	# Workers see their channel close, drain (nothing running) and exit.
	# shellcheck disable=SC2086
	gone "$old" $ws && ok "master and workers gone"
	[ "$(pidfile_pid)" = "$old" ] && [ -S "$CTL_SOCK" ] &&
	    ok "stale pid file and socket left" ||
	    fail "want a stale pid file ($(pidfile_pid)) and socket"
	initd status
	expect_rc 1
	initd start
	expect_rc 0
	started
	[ "$MPID" != "$old" ] || fail "pid file still names $old"
	get_hello "$T/root2/hello.txt"

	check "[$MODE] final stop"
	ws=$(children_of "$MPID")
	initd stop
	expect_rc 0
	# shellcheck disable=SC2086
	gone "$MPID" $ws && ok "gone"
	[ ! -e "$PIDF" ] || fail "pid file left"
	write_conf "log_file = \"$LOG\""
}

# With start-stop-daemon, PIDFILE comes from the defaults file; in plain
# shell the script reads it from the configuration.
if command -v start-stop-daemon > /dev/null 2>&1; then
	MODE=start-stop-daemon
	USE_SSD=yes
	echo "PIDFILE=$PIDF" > "$T/default"
	run_scenario
else
	echo "start-stop-daemon is not installed: plain shell only"
fi
MODE=shell
USE_SSD=no
: > "$T/default"
run_scenario
finish
