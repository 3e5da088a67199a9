#!/bin/bash
# tmpclean.sh -- no temporary upload file outlives the process that
# wrote it, and nothing else is ever removed.  With uploads = "create":
# (1) startup: a planted .owltftpd.<dead pid>.XXXXXX (in the root and in
#     a subdirectory) is removed and logged; one of a live pid (this
#     script's), a look-alike (.owltftpd-notmine), an old pid-less name
#     and a symlink named like a temporary file stay, and the symlink's
#     target outside the root is untouched;
# (2) RRQ and WRQ for names with a .owltftpd. component get ERROR 1 or 2
#     (a read used to serve a partial upload);
# (3) uploads that stall after 10 blocks have temporary files named
#     after their workers; kill -9 of every worker: within a generous
#     bound no temporary file is left, the master logged each removal,
#     and the respawned workers take a new upload;
# (4) a crash of the whole server (kill -9 of the master and the workers
#     mid-upload) leaves the files; the next start removes them.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"

need_cmd python3 cmp find
py_resolve

NUP=4			# stalled uploads per round
SWEEP_TIMEOUT=20	# seconds for temporary files to go (noisy machines)

SRC=$T/src
mkdir "$SRC" "$ROOT/sub"
mkfile "$SRC/150k.bin" 153600
mkfile "$SRC/small.bin" 3000

# tmp_files: the temporary-looking regular files under the root.
tmp_files() {
	find "$ROOT" -type f -name '.owltftpd.*' 2>/dev/null | sort
}

_no_tmp() {
	[ -z "$(tmp_files)" ]
}

_ntmp_is() {
	[ "$(tmp_files | grep -c .)" -eq "$1" ]
}

# dead_pid: the pid of a process that has exited and been reaped.
dead_pid() {
	local p
	sh -c 'exit 0' &
	p=$!
	wait "$p"
	echo "$p"
}

# stall_uploads PREFIX: NUP uploads at once, half into sub/, each going
# silent after 10 blocks with a 20 s timeout (the server keeps waiting).
stall_uploads() {
	local i name pids= p bad=0
	for i in $(seq 1 $NUP); do
		name=$1-$i.bin
		[ $((i % 2)) -eq 0 ] && name=sub/$name
		rawq put 127.0.0.1 "$PORT" "$name" "$SRC/150k.bin" \
		    --stop-after 10 --opt timeout=20 > "$T/put-$1-$i.out" 2>&1 &
		pids="$pids $!"
	done
	for p in $pids; do
		wait "$p" || bad=$((bad + 1))
	done
	[ $bad -eq 0 ] || fail "$bad stalled uploads failed to start:" \
	    "$(cat "$T"/put-"$1"-*.out | grep -v '^ok' | head -n 3)"
}

# worker_pids: the pids owlctl lists, each checked to be our child.
worker_pids() {
	local p kids
	kids=$(children_of "$SERVER_PID")
	for p in $(ctl_workers | awk '{ print $2 }'); do
		printf '%s\n' "$kids" | grep -qx "$p" && echo "$p"
	done
}

conf_args=('uploads = "create"' 'permission_check = false'
    'timeout_ms = 300' 'retries = 2'
    'rto_min_ms = 20000' 'workers = 2')

# ================================================================ startup
echo "=== startup removes what dead processes left"
DEAD=$(dead_pid)
if kill -0 "$DEAD" 2>/dev/null; then
	die "pid $DEAD was given out again; cannot plant a dead pid's file"
fi
printf partial > "$ROOT/.owltftpd.$DEAD.AbC123"
printf partial > "$ROOT/sub/.owltftpd.$DEAD.XyZ789"
printf mine > "$ROOT/.owltftpd.$$.LiVe12"	# $$: this script, alive
printf mine > "$ROOT/.owltftpd-notmine"
printf old > "$ROOT/.owltftpd.abc123"		# older versions' form
printf outside > "$T/outside.txt"
ln -s "$T/outside.txt" "$ROOT/.owltftpd.$DEAD.LnK123"
write_conf "${conf_args[@]}"
start_server

check "startup: the dead pid $DEAD's two temporary files are removed"
_dead_gone() {
	[ ! -e "$ROOT/.owltftpd.$DEAD.AbC123" ] &&
	    [ ! -e "$ROOT/sub/.owltftpd.$DEAD.XyZ789" ]
}
wait_for 10 _dead_gone && ok ||
    fail "left: $(ls -a "$ROOT" "$ROOT/sub" | tr '\n' ' ')"
check "startup: the removals are logged"
n=$(grep -ac "removed stale temporary file .*\.owltftpd\.$DEAD\." "$LOG")
[ "$n" -eq 2 ] && ok "$(grep -a -m1 'removed stale temporary file' "$LOG")" ||
    fail "want 2 'removed stale temporary file' lines for pid $DEAD, got $n"
check "startup: a live pid's file, a look-alike, an old name, a symlink stay"
r=0
for f in ".owltftpd.$$.LiVe12" .owltftpd-notmine .owltftpd.abc123; do
	[ -f "$ROOT/$f" ] || { fail "$f was removed"; r=1; }
done
[ -L "$ROOT/.owltftpd.$DEAD.LnK123" ] || { fail "the symlink was removed"; r=1; }
[ "$(cat "$T/outside.txt" 2>/dev/null)" = outside ] ||
    { fail "the symlink's target outside the root was changed"; r=1; }
[ $r -ne 0 ] || ok

# ================================================================ names
echo "=== temporary names are never read nor written by clients"
for name in ".owltftpd.$$.LiVe12" "/.owltftpd.$$.LiVe12" \
    "\\.owltftpd.$$.LiVe12" ".owltftpd.abc123" ".owltftpd.$DEAD.LnK123" \
    "sub/.owltftpd.$DEAD.XyZ789" ".owltftpd.$$.LiVe12/x"; do
	check "RRQ $name: ERROR 1 or 2"
	probeq rrq "$name" octet
	expect_reply "ERROR [12] *"
done
for name in ".owltftpd.$$.NeW123" "sub/.owltftpd.$$.NeW123" \
    ".owltftpd.$$.LiVe12"; do
	check "WRQ $name: ERROR 1 or 2"
	probeq wrq "$name" octet
	expect_reply "ERROR [12] *"
done
check "the refused requests changed nothing"
[ "$(cat "$ROOT/.owltftpd.$$.LiVe12")" = mine ] &&
    [ ! -e "$ROOT/.owltftpd.$$.NeW123" ] &&
    [ ! -e "$ROOT/sub/.owltftpd.$$.NeW123" ] && ok ||
    fail "root: $(ls -a "$ROOT" "$ROOT/sub" | tr '\n' ' ')"
rm -f "$ROOT/.owltftpd.$$.LiVe12" "$ROOT/.owltftpd-notmine" \
    "$ROOT/.owltftpd.abc123" "$ROOT/.owltftpd.$DEAD.LnK123"

# ================================================================ kill -9
echo "=== kill -9 of the workers in the middle of uploads"
check "$NUP uploads stall after 10 blocks, each with a temporary file"
stall_uploads k
wait_for 5 _ntmp_is $NUP && ok "$(tmp_files | xargs -n1 basename |
    tr '\n' ' ')" || fail "want $NUP temporary files, have: $(tmp_files)"
W=$(worker_pids | sort | tr '\n' ' ')
check "each temporary file names its worker (workers: $W)"
r=0
for f in $(tmp_files); do
	p=$(basename "$f")
	p=${p#.owltftpd.}
	p=${p%%.*}
	case " $W " in
	*" $p "*) ;;
	*) fail "$f names pid $p, not a worker"; r=1 ;;
	esac
done
[ $r -ne 0 ] || ok
check "kill -9 every worker"
L0=$(wc -l < "$LOG")
[ -n "$W" ] || die "no worker to kill"
for p in $W; do
	[ "$p" != "$SERVER_PID" ] && kill -s KILL "$p"
done
ok "killed $W"
check "within ${SWEEP_TIMEOUT}s no temporary file is left"
wait_for "$SWEEP_TIMEOUT" _no_tmp
no_temp_files "$ROOT"
check "log: the master removed each one"
n=$(tail -n +"$((L0 + 1))" "$LOG" | grep -ac 'removed stale temporary file')
[ "$n" -eq $NUP ] && ok "$n removals logged" ||
    fail "want $NUP 'removed stale temporary file' lines, got $n"
alive || die "the master died"

check "the respawned workers take a new upload"
_respawned() {
	local w
	w=$(worker_pids | sort | tr '\n' ' ')
	[ "$(echo $w | wc -w)" -eq 2 ] && for p in $W; do
		[[ " $w " != *" $p "* ]] || return 1
	done
}
wait_for 10 _respawned || fail "workers: $(ctl_workers | tr '\n' ';')"
for i in 1 2 3 4; do
	rawq put 127.0.0.1 "$PORT" "after-$i.bin" "$SRC/small.bin" \
	    > /dev/null || fail "upload after-$i.bin failed"
done
same "$SRC/small.bin" "$ROOT/after-4.bin"
no_temp_files "$ROOT"

# ================================================================ crash
echo "=== a crash of the whole server: the next start cleans up"
check "$NUP uploads stall, then kill -9 of the master and its workers"
stall_uploads c
wait_for 5 _ntmp_is $NUP || fail "want $NUP temporary files: $(tmp_files)"
W=$(children_of "$SERVER_PID" | tr '\n' ' ')
# The workers may stay zombies a while (a slow init): dead all the same.
{
	kill -s KILL "$SERVER_PID" $W
	for p in $SERVER_PID $W; do
		wait_for 10 exited "$p" || fail "pid $p still running"
	done
	wait "$SERVER_PID"
} 2> /dev/null
SERVER_PID=
_ntmp_is $NUP && ok "$NUP temporary files left behind by the crash" ||
    fail "want $NUP temporary files after the crash: $(tmp_files)"
start_server
check "restart: within ${SWEEP_TIMEOUT}s no temporary file is left"
wait_for "$SWEEP_TIMEOUT" _no_tmp
no_temp_files "$ROOT"
check "log: the new master removed each one"
n=$(grep -ac 'removed stale temporary file' "$LOG")
[ "$n" -eq $NUP ] && ok "$n removals logged" ||
    fail "want $NUP 'removed stale temporary file' lines, got $n"
check "uploads work after the restart"
rawq put 127.0.0.1 "$PORT" sub/final.bin "$SRC/150k.bin" > /dev/null ||
    fail "upload failed"
same "$SRC/150k.bin" "$ROOT/sub/final.bin"
no_temp_files "$ROOT"

finish
