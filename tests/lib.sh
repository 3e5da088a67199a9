# lib.sh -- shared helpers for owltftpd's integration scripts (bash).
#
# A script does:
#	[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
#	. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"
#	need_cmd curl
#	write_conf 'uploads = "create"'
#	start_server
#	check "what"; ...; ok / fail "why"
#	finish
#
# Environment: OWLTFTPD (the built daemon), TESTS_SRCDIR (tests/ in the
# source tree).  KEEP=1 keeps the work directory for a post-mortem.
# IO_BACKEND=uring runs every server write_conf configures with that
# io_backend (IO_BACKEND=uring make check: the suite on the ring).
# Exit status: 0 pass, 1 fail, 77 skip (a client is missing), 99 hard error.

set -u

if [ -z "${TESTS_SRCDIR:-}" ]; then
	TESTS_SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
fi
if [ -z "${OWLTFTPD:-}" ]; then
	echo "OWLTFTPD is not set (run through make check)" >&2
	exit 99
fi
if [ ! -x "$OWLTFTPD" ]; then
	echo "OWLTFTPD=$OWLTFTPD is not an executable" >&2
	exit 99
fi

TEST_NAME=$(basename "$0" .sh)
RAWTFTP=$TESTS_SRCDIR/rawtftp.py
CLIENT_TIMEOUT=${CLIENT_TIMEOUT:-30}	# seconds, for every client run
START_TIMEOUT=10			# seconds to wait for "listening on"
# Seconds to wait for exit after a signal: a guard against a hang, not a
# speed check (a loaded CI disk has stalled an unlink for seconds).
STOP_TIMEOUT=20

T=$(mktemp -d "${TMPDIR:-/tmp}/owltftpd-$TEST_NAME.XXXXXX") || exit 99
chmod 755 "$T"		# workers may run as nobody and must reach root/
ROOT=$T/root
mkdir "$ROOT" && chmod 755 "$ROOT" || exit 99
CONF=$T/owltftpd.conf
OUT=$T/out		# where clients write downloads
mkdir "$OUT" || exit 99

SERVER_PID=
LOG=$T/server.0.log
: > "$LOG"
PORT=
NSTART=0
FAILS=0
CHECKS=0
CUR="setup"

# ---------------------------------------------------------------- reporting

# check NAME: start a named check.
check() {
	CUR=$*
	CHECKS=$((CHECKS + 1))
	echo "--- $TEST_NAME: $CUR"
}

ok() {
	echo "ok: ${1:-$CUR}"
}

# fail WHY: record a failed check, show the server log's tail, go on.
fail() {
	FAILS=$((FAILS + 1))
	echo "FAIL: $TEST_NAME: $CUR: $*" >&2
	if [ -s "$LOG" ]; then
		echo "    last lines of the server log ($LOG):" >&2
		tail -n 25 "$LOG" | sed 's/^/    | /' >&2
	fi
}

# die WHY: fail and stop the script.
die() {
	fail "$@"
	echo "FAIL: $TEST_NAME: stopping after a fatal failure" >&2
	exit 1
}

# finish: stop a running server (asserting a clean exit) and give the verdict.
finish() {
	if [ -n "$SERVER_PID" ]; then
		stop_server
	fi
	echo "=== $TEST_NAME: $CHECKS checks, $FAILS failed"
	if [ "$FAILS" -ne 0 ]; then
		exit 1
	fi
	exit 0
}

# need_cmd CMD...: skip the whole script (77) if a client is missing.
need_cmd() {
	local c
	for c in "$@"; do
		if [ "$c" = busybox-tftp ]; then
			if ! command -v busybox >/dev/null 2>&1 ||
			    ! busybox --list 2>/dev/null | grep -qx tftp; then
				echo "SKIP: $TEST_NAME needs busybox with the" \
				    "tftp applet, not installed" >&2
				exit 77
			fi
			continue
		fi
		if ! command -v "$c" >/dev/null 2>&1; then
			echo "SKIP: $TEST_NAME needs '$c', not installed" >&2
			exit 77
		fi
	done
}

# ---------------------------------------------------------------- time, procs

now_ms() {
	local t=${EPOCHREALTIME/[.,]/}
	echo $((t / 1000))
}

# wait_for SECONDS CMD...: poll CMD every 50 ms until it succeeds or the
# deadline passes (then return 1).
wait_for() {
	local end
	end=$(($(now_ms) + $1 * 1000))
	shift
	while :; do
		if "$@"; then
			return 0
		fi
		if [ "$(now_ms)" -ge "$end" ]; then
			return 1
		fi
		sleep 0.05
	done
}

# proc_state PID: its state letter (R, S, Z, ...) or nothing if gone.
proc_state() {
	local line
	read -r line 2>/dev/null < "/proc/$1/stat" || return 0
	line=${line##*) }
	echo "${line%% *}"
}

# exited PID: true if the process is gone or a zombie.
exited() {
	local s
	s=$(proc_state "$1")
	[ -z "$s" ] || [ "$s" = Z ]
}

# children_of PID: live (non-zombie) children, one PID a line.
children_of() {
	local f line rest pid st ppid
	for f in /proc/[0-9]*/stat; do
		read -r line 2>/dev/null < "$f" || continue
		pid=${line%% *}
		rest=${line##*) }
		st=${rest%% *}
		rest=${rest#* }
		ppid=${rest%% *}
		if [ "$ppid" = "$1" ] && [ "$st" != Z ]; then
			echo "$pid"
		fi
	done
}

# proc_uid PID: real uid of a process.
proc_uid() {
	awk '$1 == "Uid:" { print $2 }' "/proc/$1/status" 2>/dev/null
}

# ---------------------------------------------------------------- config

conf_key() {
	local k=${1%%[=:]*}
	echo "${k//[[:space:]]/}"
}

# write_conf [SETTING]...: write $CONF with the test defaults, each
# SETTING ("key = value") replacing the default of the same key.
write_conf() {
	local d a k skip
	{
		echo "# written by $TEST_NAME"
		for d in "root = \"$ROOT\"" 'listen = [ "127.0.0.1" ]' \
		    'port = 0' 'workers = 2' 'user = "root"' \
		    'log_level = "debug"' "pid_file = \"$T/owltftpd.pid\"" \
		    "control_socket = \"$T/control.sock\"" \
		    ${IO_BACKEND:+"io_backend = \"$IO_BACKEND\""}; do
			k=$(conf_key "$d")
			skip=
			for a in "$@"; do
				[ "$(conf_key "$a")" = "$k" ] && skip=1
			done
			[ -n "$skip" ] || echo "$d;"
		done
		for a in "$@"; do
			echo "${a%;};"
		done
	} > "$CONF"
}

# ---------------------------------------------------------------- server

# listening_count: number of "listening on" lines in the current log.
listening_count() {
	grep -ac 'listening on ' "$LOG"
}

# listen_port [ADDR]: the port the server reported for ADDR (default: the
# first "listening on" line).  ADDR as logged: 127.0.0.1 or [::1].
listen_port() {
	local line
	if [ $# -eq 0 ]; then
		line=$(grep -a -m1 'listening on ' "$LOG")
	else
		line=$(grep -aF "listening on $1:" "$LOG" | head -n 1)
	fi
	line=${line#*listening on }
	line=${line%%[!0-9.:\[\]a-fA-F]*}
	echo "${line##*:}"
}

server_ready() {
	if exited "$SERVER_PID"; then
		return 0	# no point waiting longer
	fi
	[ "$(listening_count)" -ge "$NLISTEN" ]
}

# start_server [ARGS...]: start "$OWLTFTPD -F -c $CONF ARGS" in the
# background, logging to a fresh $LOG, and wait (with a deadline) for
# NLISTEN (default 1) "listening on" lines; sets SERVER_PID and PORT.
# SIGINT and SIGQUIT are reset to their defaults first (a background job
# of a script would otherwise inherit them ignored).
start_server() {
	NSTART=$((NSTART + 1))
	LOG=$T/server.$NSTART.log
	NLISTEN=${NLISTEN:-1}
	python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
signal.signal(signal.SIGQUIT, signal.SIG_DFL)
os.execv(sys.argv[1], sys.argv[1:])' "$OWLTFTPD" -F -c "$CONF" "$@" \
	    > "$LOG" 2>&1 < /dev/null &
	SERVER_PID=$!
	if ! wait_for "$START_TIMEOUT" server_ready; then
		die "server (pid $SERVER_PID) did not log 'listening on'" \
		    "within ${START_TIMEOUT}s"
	fi
	if exited "$SERVER_PID"; then
		local rc
		wait "$SERVER_PID"
		rc=$?
		SERVER_PID=
		die "server exited with status $rc at startup"
	fi
	PORT=$(listen_port)
	case $PORT in
	''|*[!0-9]*|0)
		die "cannot read the port from the 'listening on' line" ;;
	esac
	echo "server pid $SERVER_PID listening on port $PORT (log $LOG)"
}

# workers: the server's worker processes, waiting (bounded) until there
# are N of them when N is given.
workers() {
	if [ $# -gt 0 ]; then
		wait_for 5 _nworkers_is "$1" || true
	fi
	children_of "$SERVER_PID"
}

_nworkers_is() {
	[ "$(children_of "$SERVER_PID" | wc -l)" -eq "$1" ]
}

# stop_server [SIGNAL]: send SIGNAL (TERM) to our server only, wait for it
# with a deadline and assert exit status 0 and no worker left behind.
# Sets STOP_MS to how long the exit took.
stop_server() {
	local sig=${1:-TERM} pid=$SERVER_PID kids k rc t0 f0=$FAILS
	[ -n "$pid" ] || return 0
	check "stop the server with SIG$sig: exit 0, no worker left"
	kids=$(children_of "$pid")
	STOP_LINE=$(wc -l < "$LOG")
	t0=$(now_ms)
	kill -s "$sig" "$pid" 2>/dev/null
	if ! wait_for "$STOP_TIMEOUT" exited "$pid"; then
		fail "server did not exit within ${STOP_TIMEOUT}s of SIG$sig"
		kill -s KILL "$pid" 2>/dev/null
	fi
	STOP_MS=$(($(now_ms) - t0))
	wait "$pid"
	rc=$?
	SERVER_PID=
	if [ "$rc" -ne 0 ]; then
		fail "server exited with status $rc after SIG$sig (want 0)"
	fi
	for k in $kids; do
		if ! wait_for 10 exited "$k"; then
			fail "worker $k still running after the master exited"
			kill -s KILL "$k" 2>/dev/null
		fi
	done
	# A sanitizer build reports through stderr, which is our log.
	if grep -aqE 'Sanitizer|runtime error:' "$LOG"; then
		fail "sanitizer report in the log: $(grep -aE \
		    'Sanitizer|runtime error:' "$LOG" | head -n 3)"
	fi
	[ "$FAILS" -ne "$f0" ] || ok "exit status 0 after ${STOP_MS} ms"
	return 0
}

# stopped_on_its_own: after a fast stop, every worker left by itself:
# the master's SIGKILL safety net (5 s) was not needed and no worker
# died of a signal.  This, not a wall-clock bound, is what "promptly"
# means here: the machines that run the tests are shared and noisy.
# Only the log since the stop counts (STOP_LINE, set by stop_server).
stopped_on_its_own() {
	local since
	since=$(tail -n +"$((${STOP_LINE:-0} + 1))" "$LOG")
	if grep -aqE 'did not stop in time|killed by signal' <<< "$since"; then
		fail "a worker had to be killed: $(grep -aE \
		    'did not stop in time|killed by signal' <<< "$since" |
		    head -n 2)"
		return 1
	fi
	ok "the workers left by themselves (exit after ${STOP_MS:-?} ms)"
}

# alive: the server we started is still running.
alive() {
	[ -n "$SERVER_PID" ] && ! exited "$SERVER_PID"
}

cleanup() {
	local rc=$? k kids
	if [ -n "$SERVER_PID" ]; then
		kids=$(children_of "$SERVER_PID")
		kill -s TERM "$SERVER_PID" 2>/dev/null
		wait_for 3 exited "$SERVER_PID" ||
		    kill -s KILL "$SERVER_PID" 2>/dev/null
		for k in $kids; do
			wait_for 2 exited "$k" || kill -s KILL "$k" 2>/dev/null
		done
		wait "$SERVER_PID" 2>/dev/null
	fi
	if [ -n "${KEEP:-}" ]; then
		echo "work directory kept: $T" >&2
	else
		rm -rf "$T"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

# ---------------------------------------------------------------- files, logs

# mkfile PATH SIZE: SIZE random bytes.
mkfile() {
	head -c "$2" /dev/urandom > "$1"
}

# same A B: assert byte equality (cmp), reporting sizes on a mismatch.
same() {
	if [ ! -e "$2" ]; then
		fail "$2 does not exist"
		return 1
	fi
	if ! cmp -s "$1" "$2"; then
		fail "$2 ($(stat -c %s "$2") bytes) differs from $1" \
		    "($(stat -c %s "$1") bytes): $(cmp "$1" "$2" 2>&1 | head -n 1)"
		return 1
	fi
	ok "$CUR: identical ($(stat -c %s "$1") bytes)"
}

# re_escape STRING: STRING as an extended-regex literal.
re_escape() {
	printf '%s' "$1" | sed 's/[][\.*^$?+(){}|/]/\\&/g'
}

# xfer_lines NAME: the "xfer end" lines of the current log for file NAME.
xfer_lines() {
	grep -a 'xfer end' "$LOG" |
	    grep -aE "file=\"?$(re_escape "$1")\"?( |$)"
}

_xfer_count_ge() {
	[ "$(xfer_lines "$1" | grep -acE "$2")" -ge "$3" ]
}

# wait_xfer NAME [REGEX [COUNT [SECONDS]]]: wait until COUNT (1) "xfer end"
# lines for NAME match REGEX (e.g. 'result=ok'); fail if they do not.
wait_xfer() {
	local name=$1 re=${2:-.} n=${3:-1} secs=${4:-10}
	if wait_for "$secs" _xfer_count_ge "$name" "$re" "$n"; then
		ok "log: xfer end file=$name $re"
		return 0
	fi
	fail "log has no (or fewer than $n) 'xfer end' line for $name" \
	    "matching '$re' within ${secs}s; lines: $(xfer_lines "$name")"
	return 1
}

# no_temp_files DIR: assert no .owltftpd.* temp file remains under DIR.
no_temp_files() {
	local left
	left=$(find "$1" -name '.owltftpd.*' 2>/dev/null)
	if [ -n "$left" ]; then
		fail "temporary files left behind: $left"
		rm -f $left	# so later checks do not trip over them
		return 1
	fi
	ok "$CUR: no .owltftpd.* temp file left"
}

# ---------------------------------------------------------------- clients

# tmo CMD...: run a client with the standard bound on its run time.
tmo() {
	timeout -k 2 "$CLIENT_TIMEOUT" "$@"
}

# raw SCENARIO ARGS...: the raw-packet client (HOST PORT come in ARGS).
raw() {
	timeout -k 2 "${RAW_TIMEOUT:-90}" python3 "$RAWTFTP" "$@"
}

# hpa_get REMOTE LOCAL [MODE]: tftp-hpa download (binary unless MODE).
hpa_get() {
	tmo tftp -l -m "${3:-binary}" 127.0.0.1 "$PORT" -c get "$1" "$2"
}

# hpa_put LOCAL REMOTE [MODE]
hpa_put() {
	tmo tftp -l -m "${3:-binary}" 127.0.0.1 "$PORT" -c put "$1" "$2"
}

# atftp_get REMOTE LOCAL [ATFTP OPTIONS...]
atftp_get() {
	local r=$1 l=$2
	shift 2
	tmo atftp "$@" -g -r "$r" -l "$l" 127.0.0.1 "$PORT"
}

# atftp_put LOCAL REMOTE [ATFTP OPTIONS...]
atftp_put() {
	local l=$1 r=$2
	shift 2
	tmo atftp "$@" -p -l "$l" -r "$r" 127.0.0.1 "$PORT"
}

# atftp_window NAME W B: a check that atftp downloads root/NAME with
# windowsize W and blksize B intact.
atftp_window() {
	local out=$OUT/$1-w$2-b$3
	check "atftp windowsize $2 blksize $3: $1"
	rm -f "$out"
	atftp_get "$1" "$out" --option "windowsize $2" --option "blksize $3" \
	    > "$T/client.out" 2>&1 ||
	    fail "atftp exited with $?: $(tail -n 3 "$T/client.out")"
	same "$ROOT/$1" "$out"
}

# curl_get REMOTE LOCAL [CURL OPTIONS...]
curl_get() {
	local r=$1 l=$2
	shift 2
	tmo curl -sS "$@" -o "$l" "tftp://127.0.0.1:$PORT/$r"
}

# curl_put LOCAL REMOTE [CURL OPTIONS...]
curl_put() {
	local l=$1 r=$2
	shift 2
	tmo curl -sS "$@" -T "$l" "tftp://127.0.0.1:$PORT/$r"
}

# bb_get REMOTE LOCAL [BUSYBOX TFTP OPTIONS...]
bb_get() {
	local r=$1 l=$2
	shift 2
	tmo busybox tftp "$@" -g -r "$r" -l "$l" 127.0.0.1 "$PORT"
}

# bb_put LOCAL REMOTE [BUSYBOX TFTP OPTIONS...]
bb_put() {
	local l=$1 r=$2
	shift 2
	tmo busybox tftp "$@" -p -l "$l" -r "$r" 127.0.0.1 "$PORT"
}

# probe [--host H] OP NAME MODE [OPT=VAL]...: one raw request to the
# server; sets REPLY to the first answer ("OACK blksize=512 tsize=3",
# "DATA 1 len=512", "ERROR 8 message", "NONE").  The probe ends any
# transfer it started with a client ERROR.
probe() {
	local host=127.0.0.1
	if [ "${1:-}" = --host ]; then
		host=$2
		shift 2
	fi
	REPLY=$(raw probe "$host" "$PORT" "$@" 2>&1)
}

# expect_reply GLOB: assert REPLY matches the shell pattern GLOB.
expect_reply() {
	# shellcheck disable=SC2053
	if [[ $REPLY == $1 ]]; then
		ok "$CUR: $REPLY"
		return 0
	fi
	fail "want '$1', got '$REPLY'"
	return 1
}

# oack_has KEY=VALUE...: assert REPLY is an OACK carrying each KEY=VALUE.
oack_has() {
	local kv r=0
	if [[ $REPLY != OACK* ]]; then
		fail "want an OACK with $*, got '$REPLY'"
		return 1
	fi
	for kv in "$@"; do
		if [[ " ${REPLY#OACK} " != *" $kv "* ]]; then
			fail "OACK lacks $kv: '$REPLY'"
			r=1
		fi
	done
	[ $r -ne 0 ] || ok "$CUR: $REPLY"
	return $r
}

# oack_lacks KEY...: assert the OACK in REPLY does not carry KEY.
oack_lacks() {
	local k
	for k in "$@"; do
		if [[ " ${REPLY#OACK} " == *" $k="* ]]; then
			fail "OACK must not carry $k: '$REPLY'"
			return 1
		fi
	done
	ok "$CUR: no $* in '$REPLY'"
}

# ---------------------------------------------------------------- owlctl

# The control client; make check exports OWLCTL, else it sits next to
# the daemon.
OWLCTL=${OWLCTL:-$(dirname "$OWLTFTPD")/owlctl}
CTL_SOCK=${CTL_SOCK:-$T/control.sock}
CTL_TIMEOUT=${CTL_TIMEOUT:-20}	# seconds, for every owlctl run

# ctl ARGS...: run owlctl on $CTL_SOCK with a bounded run time; its exit
# status is owlctl's (0 ok, 1 error reply, 2 cannot connect or usage).
ctl() {
	timeout -k 2 "$CTL_TIMEOUT" "$OWLCTL" -s "$CTL_SOCK" "$@"
}

# kv_get TEXT KEY: the value of the first "KEY=value" line of TEXT.
kv_get() {
	printf '%s\n' "$1" | sed -n "s/^$(re_escape "$2")=//p" | head -n 1
}

# ctl_val KEY COMMAND...: KEY from the raw (-r) answer to COMMAND; empty
# if owlctl fails or the key is missing.
ctl_val() {
	local key=$1 out
	shift
	out=$(ctl -r "$@" 2>/dev/null) || return 1
	kv_get "$out" "$key"
}

# ctl_workers: "slot pid generation state" per worker, one a line.
ctl_workers() {
	ctl -r workers 2>/dev/null | awk -F'[.=]' '
	    $1 == "worker" { v[$2, $3] = $4; if (!($2 in seen)) {
		seen[$2] = 1; order[n++] = $2 } }
	    END { for (i = 0; i < n; i++) { k = order[i]
		print v[k, "slot"], v[k, "pid"], v[k, "generation"],
		    v[k, "state"] } }'
}

# _workers_gen_are GEN N: exactly N workers, all of generation GEN.
_workers_gen_are() {
	local w
	w=$(ctl_workers) || return 1
	[ "$(printf '%s\n' "$w" | grep -c .)" -eq "$2" ] &&
	    [ -z "$(printf '%s\n' "$w" | awk -v g="$1" 'NF && $3 != g')" ]
}

# wait_for_workers GEN N [SECONDS]: wait (bounded, default 10 s) until
# owlctl workers lists exactly N workers, all of generation GEN.
wait_for_workers() {
	wait_for "${3:-10}" _workers_gen_are "$1" "$2"
}

# py_resolve: set PYTHON_EXE to the interpreter python3 really runs; a
# version manager's shim can cost a second per start on a busy box, so
# scripts that start many Python clients call this once.
py_resolve() {
	[ -n "${PYTHON_EXE:-}" ] && return 0
	PYTHON_EXE=$(python3 -c 'import sys; print(sys.executable)' \
	    2>/dev/null)
	[ -n "$PYTHON_EXE" ] && [ -x "$PYTHON_EXE" ] || PYTHON_EXE=python3
}

# slow_get NAME OUT DELAY_MS [OPT=VALUE...]: a paced download (rawtftp.py
# slowget), so that a transfer is reliably still running seconds later
# on any machine: RRQ NAME (octet, options default blksize=512), then
# wait DELAY_MS before each ACK; the file goes to OUT.  Exit 0 when
# complete, 1 on an ERROR from the server (printed as "ERROR code
# message"), 2 when the server goes silent (5 resends of the last ACK,
# 1 s apart) or after 60 s.
slow_get() {
	timeout -k 2 70 "${PYTHON_EXE:-python3}" "$RAWTFTP" slowget 127.0.0.1 \
	    "$PORT" "$@"
}

# ---------------------------------------------------------------- counters,
# source addresses (policy.sh, abuse.sh, diskfull.sh)

# stat_total NAME: total.NAME from "owlctl stats" (the workers are asked
# for fresh counters first); empty if owlctl fails.
stat_total() {
	local s
	s=$(ctl stats 2>/dev/null) || return 1
	kv_get "$s" "total.$1"
}

_stat_is() {
	[ "$(stat_total "$1")" = "$2" ]
}

# expect_stat NAME VALUE [SECONDS]: wait (bounded, default 3 s) until
# total.NAME is VALUE; ok or fail with the value seen.
expect_stat() {
	if wait_for "${3:-3}" _stat_is "$1" "$2"; then
		ok "total.$1=$2"
		return 0
	fi
	fail "total.$1 is $(stat_total "$1"), want $2"
	return 1
}

# probe_from SRC OP NAME MODE [OPT=VAL]...: probe (above) with the
# request sent from source address SRC (any 127.0.0.x on loopback).
probe_from() {
	local src=$1
	shift
	REPLY=$(raw xprobe 127.0.0.1 "$PORT" --src "$src" "$@" 2>&1 |
	    sed 1d | tr '\n' ' ')
	REPLY=${REPLY% }
}

# pid_with_file PATTERN: the PIDs (one a line) of processes that have a
# file whose path matches the extended regex PATTERN open.
pid_with_file() {
	local d p
	for d in /proc/[0-9]*/fd; do
		p=${d#/proc/}
		p=${p%/fd}
		if ls -l "$d" 2>/dev/null | grep -qE -- "$1"; then
			echo "$p"
		fi
	done
}

# rawq ARGS...: raw, through PYTHON_EXE (see py_resolve).
rawq() {
	timeout -k 2 "${RAW_TIMEOUT:-90}" "${PYTHON_EXE:-python3}" "$RAWTFTP" "$@"
}

# probeq ARGS...: probe, through PYTHON_EXE; sets REPLY.
probeq() {
	local host=127.0.0.1
	if [ "${1:-}" = --host ]; then
		host=$2
		shift 2
	fi
	REPLY=$(rawq probe "$host" "$PORT" "$@" 2>&1)
}
