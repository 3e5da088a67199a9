#!/bin/bash
# diskfull.sh -- uploads never lose data.  With uploads = "overwrite" and
# an existing file of known content:
# (1) file-size limit: RLIMIT_FSIZE = 200000 set on the running workers
#     with prlimit; a 1 MiB upload (raw, then tftp-hpa) gets ERROR 3, the
#     temporary file is gone, the old content is intact, the workers are
#     alive (SIGXFSZ ignored) and serve the next requests; uploads under
#     the limit still work;
# (2) a worker killed with SIGKILL in the middle of a slow upload: the
#     old content is intact, the master respawns the worker and removes
#     the dead worker's .owltftpd.* file, the next upload works;
# (3) a full filesystem: the root is a 512 KiB tmpfs; a 1 MiB upload gets
#     ERROR 3, no temporary file is left (an upload that needs the freed
#     space then fits) and the old content is intact.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"

need_cmd python3 tftp prlimit

SMALL=
diskfull_cleanup() {
	if [ -n "$SMALL" ]; then
		umount -l "$SMALL" 2>/dev/null
	fi
}
trap 'rc=$?; diskfull_cleanup; (exit $rc); cleanup' EXIT

SRC=$T/src
mkdir "$SRC"
mkfile "$SRC/1m.bin" 1048576
mkfile "$SRC/150k.bin" 150000
mkfile "$SRC/350k.bin" 350000

# victim DIR: (re)create DIR/victim.bin with known content.
victim() {
	mkfile "$1/victim.bin" 100000
	cp "$1/victim.bin" "$T/victim.orig"
}

# ================================================================ fsize
echo "=== RLIMIT_FSIZE = 200000 on the workers"
victim "$ROOT"
write_conf 'uploads = "overwrite"' \
    'permission_check = false' 'timeout_ms = 300' 'retries = 2' \
    'workers = 2'
start_server
W0=$(workers 2 | sort | tr '\n' ' ')
check "prlimit --fsize=200000 on workers $W0"
for w in $W0; do
	prlimit --pid "$w" --fsize=200000 ||
	    die "prlimit on worker $w failed"
	lim=$(prlimit --pid "$w" --fsize --noheadings -o SOFT | tr -d ' ')
	[ "$lim" = 200000 ] && ok "worker $w: FSIZE $lim" ||
	    fail "worker $w: FSIZE is '$lim'"
done

check "a 1 MiB upload over victim.bin gets ERROR 3"
raw put 127.0.0.1 "$PORT" victim.bin "$SRC/1m.bin" --expect-error 3 ||
    fail "the upload was not refused with ERROR 3"
check "the server logged the failed upload (result=error code=3)"
wait_xfer victim.bin 'op=wrq .*result=error code=3' 1 10
check "the old content is intact, no temporary file"
same "$T/victim.orig" "$ROOT/victim.bin"
no_temp_files "$ROOT"

check "tftp-hpa: a 1 MiB upload over victim.bin reports Error code 3"
m=$(hpa_put "$SRC/1m.bin" victim.bin 2>&1)
[[ $m == *"Error code 3"* ]] && ok "tftp-hpa: $m" ||
    fail "tftp-hpa should report Error code 3, said: $m"
wait_xfer victim.bin 'op=wrq .*result=error code=3' 2 10
same "$T/victim.orig" "$ROOT/victim.bin"
no_temp_files "$ROOT"

check "a new 1 MiB file gets ERROR 3 and does not appear"
raw put 127.0.0.1 "$PORT" new.bin "$SRC/1m.bin" --expect-error 3 ||
    fail "the upload was not refused with ERROR 3"
wait_xfer new.bin 'op=wrq .*result=error code=3' 1 10
[ ! -e "$ROOT/new.bin" ] && ok "no new.bin" ||
    fail "new.bin exists ($(stat -c %s "$ROOT/new.bin") bytes)"
no_temp_files "$ROOT"

check "the workers are alive (SIGXFSZ ignored): same PIDs"
W1=$(workers | sort | tr '\n' ' ')
[ "$W0" = "$W1" ] && ok "workers $W1" ||
    fail "workers changed from '$W0' to '$W1'"
grep -aEi 'killed by signal|SIGXFSZ|exited with' "$LOG" &&
    fail "the log reports a worker death"
check "the next requests are served: a 150000-byte upload, a download"
raw put 127.0.0.1 "$PORT" victim.bin "$SRC/150k.bin" ||
    fail "upload under the limit failed"
same "$SRC/150k.bin" "$ROOT/victim.bin"
raw get 127.0.0.1 "$PORT" victim.bin --expect "$SRC/150k.bin" > /dev/null ||
    fail "download failed"
check "counters: xfer_error and error_sent_disk_full count the 3 failures"
expect_stat xfer_error 3
expect_stat error_sent_disk_full 3
stop_server

# ================================================================ kill -9
echo "=== SIGKILL of the worker in the middle of an upload"
victim "$ROOT"
# The client asks for timeout=20, which the server keeps (RFC 2349), so
# the paused upload stays alive for seconds; rto_min_ms would do the same
# for a client that asked for none.
write_conf 'uploads = "overwrite"' \
    'permission_check = false' 'timeout_ms = 300' 'retries = 2' \
    'workers = 2' 'rto_min_ms = 20000'
start_server
W0=$(workers 2 | sort | tr '\n' ' ')
check "a slow upload: 10 blocks, then the client pauses (timeout 20 s)"
raw put 127.0.0.1 "$PORT" victim.bin "$SRC/150k.bin" --stop-after 10 \
    --opt timeout=20 > /dev/null || fail "raw put failed"
tmp=$(find "$ROOT" -maxdepth 1 -name '.owltftpd.*')
[ -n "$tmp" ] && ok "temp file $(basename "$tmp") exists" ||
    fail "no temporary file during the upload"
check "kill -9 the worker that holds the temporary file"
victim_pid=
for p in $(pid_with_file '\.owltftpd\.'); do
	case " $W0 " in
	*" $p "*) victim_pid=$p ;;
	esac
done
if [ -z "$victim_pid" ]; then
	fail "no worker has the temporary file open"
else
	kill -s KILL "$victim_pid" && ok "killed worker $victim_pid"
fi
check "the old content is intact"
same "$T/victim.orig" "$ROOT/victim.bin"
check "the master respawns the worker"
_respawned() {
	local w
	w=$(children_of "$SERVER_PID" | sort | tr '\n' ' ')
	[ "$(echo $w | wc -w)" -eq 2 ] && [[ " $w " != *" $victim_pid "* ]]
}
if wait_for 10 _respawned; then
	ok "workers now $(children_of "$SERVER_PID" | sort | tr '\n' ' ')"
else
	fail "workers: $(children_of "$SERVER_PID" | tr '\n' ' ')"
fi
alive || fail "the master died"
grep -aE "pid $victim_pid .*(signal|killed)" "$LOG" | head -n 1 |
    sed 's/^/    log: /'
check "the master removes the killed worker's temporary file"
_no_stale() {
	[ -z "$(find "$ROOT" -maxdepth 1 -name '.owltftpd.*')" ]
}
wait_for 20 _no_stale
no_temp_files "$ROOT"
grep -aq "removed stale temporary file .*\.owltftpd\.$victim_pid\." "$LOG" ||
    fail "no 'removed stale temporary file' line for pid $victim_pid"
check "the next upload over victim.bin works"
raw put 127.0.0.1 "$PORT" victim.bin "$SRC/150k.bin" ||
    fail "upload after the respawn failed"
same "$SRC/150k.bin" "$ROOT/victim.bin"
no_temp_files "$ROOT"
stop_server

# ================================================================ tmpfs
echo "=== a full filesystem: root on a 512 KiB tmpfs"
mkdir "$T/small"
if ! mount -t tmpfs -o size=512k,mode=755 tmpfs "$T/small" \
    2> "$T/mount.err"; then
	echo "cannot mount a tmpfs: $(cat "$T/mount.err")" >&2
	if [ "$FAILS" -ne 0 ]; then
		finish
	fi
	echo "SKIP: $TEST_NAME: the full-filesystem checks need" \
	    "'mount -t tmpfs' (every other check passed)" >&2
	exit 77
fi
SMALL=$T/small
victim "$SMALL"
write_conf "root = \"$SMALL\"" 'uploads = "overwrite"' \
    'permission_check = false' 'timeout_ms = 300' \
    'retries = 2' 'workers = 2'
start_server
check "a 1 MiB upload onto the 512 KiB filesystem gets ERROR 3"
raw put 127.0.0.1 "$PORT" victim.bin "$SRC/1m.bin" --expect-error 3 ||
    fail "the upload was not refused with ERROR 3"
wait_xfer victim.bin 'op=wrq .*result=error code=3' 1 10
check "the old content is intact, no temporary file"
same "$T/victim.orig" "$SMALL/victim.bin"
no_temp_files "$SMALL"
check "the space is free again: a 350000-byte upload fits beside the old file"
df -k "$SMALL" | tail -n 1 | sed 's/^/    df: /'
raw put 127.0.0.1 "$PORT" victim.bin "$SRC/350k.bin" ||
    fail "the upload failed (space still taken?)"
same "$SRC/350k.bin" "$SMALL/victim.bin"
no_temp_files "$SMALL"
check "the server is alive and serves downloads"
raw get 127.0.0.1 "$PORT" victim.bin --expect "$SRC/350k.bin" > /dev/null ||
    fail "download failed"
stop_server
umount "$SMALL" && SMALL=

finish
