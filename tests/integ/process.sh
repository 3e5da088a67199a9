#!/bin/bash
# process.sh -- the process side: "owltftpd -t" on good and broken
# configs (exit status, "FILE:LINE:" messages); a broken config stops
# startup; workers = 3 gives three worker children; a killed worker is
# replaced; IPv6 "[::1]" (curl, tftp-hpa -6, raw); a listen on 127.0.0.2
# answers from 127.0.0.2 and two listen addresses each answer from their
# own; SIGTERM and SIGINT end master and workers with status 0 promptly,
# also with transfers in flight; command-line options beat the file.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"

need_cmd python3 curl tftp

mkfile "$ROOT/p.bin" 40000
mkfile "$ROOT/slow.bin" 200000

# ---------------------------------------------------------------- -t
check "owltftpd -t: a good config is valid (exit 0)"
write_conf 'uploads = "create"' \
    'permission_check = false' 'blksize_max = 1468' 'windowsize_max = 16' \
    'timeout_ms = 500' 'retries = 3' 'max_upload_size = 1000000' \
    'umask = "022"' 'upload_fsync = false' 'max_transfers = 100'
timeout 10 "$OWLTFTPD" -t -c "$CONF" > "$T/t.out" 2>&1
rc=$?
[ $rc -eq 0 ] && ok || fail "exit $rc: $(cat "$T/t.out")"

# bad_conf LINE-OF-ERROR DESCRIPTION: $T/bad.conf must be refused by -t
# with a message naming the file and line.
bad_conf() {
	local line=$1 rc
	check "owltftpd -t: $2 -> non-zero, '$T/bad.conf:$line:'"
	timeout 10 "$OWLTFTPD" -t -c "$T/bad.conf" > "$T/t.out" 2>&1
	rc=$?
	[ $rc -ne 0 ] || fail "exit status 0 for a broken config"
	if grep -qF "$T/bad.conf:$line:" "$T/t.out"; then
		ok "exit $rc: $(head -n 1 "$T/t.out")"
	else
		fail "no '$T/bad.conf:$line:' in: $(cat "$T/t.out")"
	fi
}
printf 'root = "%s";\nport = 0;\nworkers = 2\nlisten = [ "127.0.0.1" ;\n' \
    "$ROOT" > "$T/bad.conf"
bad_conf 4 "syntax error on line 4"
printf 'root = "%s";\nport = 0;\n\nblksize_max = 65465;\n' "$ROOT" > "$T/bad.conf"
bad_conf 4 "blksize_max = 65465 (above 65464) on line 4"
printf 'root = "%s";\nuploads = "sometimes";\n' "$ROOT" > "$T/bad.conf"
bad_conf 2 "uploads = \"sometimes\" on line 2"
printf 'root = "%s";\nport = 0;\nwindowsize_max = 0;\n' "$ROOT" > "$T/bad.conf"
bad_conf 3 "windowsize_max = 0 on line 3"
printf '# comment\nroot = "%s";\nlisten = [ "not an address" ];\n' "$ROOT" \
    > "$T/bad.conf"
bad_conf 3 "a listen entry that is no address on line 3"

check "a broken config stops startup: non-zero exit, nothing listens"
printf 'root = "%s";\nport = 0;\nblksize_max = 65465;\n' "$ROOT" > "$T/bad.conf"
timeout 10 "$OWLTFTPD" -F -c "$T/bad.conf" > "$T/t.out" 2>&1
rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] && ok "exit $rc: $(head -n 1 "$T/t.out")" ||
    fail "exit status $rc"
grep -q 'listening on' "$T/t.out" && fail "it started listening"

# ---------------------------------------------------------------- workers
write_conf 'workers = 3'
start_server
check "workers = 3: three worker processes, children of the master"
ws=$(workers 3)
n=$(echo "$ws" | grep -c .)
[ "$n" -eq 3 ] && ok "workers: $(echo $ws)" || fail "$n workers: $(echo $ws)"

check "every worker answers (one download per source port, 12 tries)"
for i in $(seq 1 12); do
	raw get 127.0.0.1 "$PORT" p.bin --expect "$ROOT/p.bin" > "$T/raw.out" ||
	    fail "download $i: $(cat "$T/raw.out")"
done
wait_xfer p.bin 'result=ok' 12 5
used=$(xfer_lines p.bin | sed -n 's/.*\[\([0-9]*\)\]: worker.*/\1/p' |
    sort -u | wc -l)
echo "    transfers were served by $used distinct worker pids"

check "a killed worker is replaced"
victim=$(echo "$ws" | head -n 1)
kill -s KILL "$victim"
_replaced() {
	local now
	now=$(children_of "$SERVER_PID")
	[ "$(echo "$now" | grep -c .)" -eq 3 ] && ! echo "$now" | grep -qx "$victim"
}
if wait_for 10 _replaced; then
	ok "worker $victim replaced: $(echo $(children_of "$SERVER_PID"))"
else
	fail "workers now: $(echo $(children_of "$SERVER_PID"))"
fi
raw get 127.0.0.1 "$PORT" p.bin --expect "$ROOT/p.bin" > /dev/null ||
    fail "download after the respawn failed"

check "SIGTERM: master and all three workers exit 0, none killed"
stop_server TERM
stopped_on_its_own

# ---------------------------------------------------------------- signals
write_conf 'uploads = "overwrite"' 'permission_check = false'
start_server
check "SIGINT with a download and an upload in flight: exit 0, promptly"
cp "$ROOT/p.bin" "$ROOT/target.bin"
raw put 127.0.0.1 "$PORT" target.bin "$ROOT/slow.bin" --stop-after 3 \
    --opt timeout=30 > /dev/null || fail "raw put failed"
probe --host 127.0.0.1 rrq slow.bin octet timeout=30 --keep
[[ $REPLY == OACK* ]] || fail "download did not start: $REPLY"
wait_for 5 eval '[ -n "$(find "$ROOT" -name ".owltftpd.*")" ]' ||
    fail "no temp file for the upload in flight"
stop_server INT
stopped_on_its_own
check "SIGINT: the aborted upload left the old file and no temp file"
same "$ROOT/p.bin" "$ROOT/target.bin"
no_temp_files "$ROOT"

start_server
check "SIGTERM with a transfer in flight: exit 0, promptly, no temp file"
raw put 127.0.0.1 "$PORT" target.bin "$ROOT/slow.bin" --stop-after 3 \
    --opt timeout=30 > /dev/null || fail "raw put failed"
stop_server TERM
stopped_on_its_own
same "$ROOT/p.bin" "$ROOT/target.bin"
no_temp_files "$ROOT"

# ---------------------------------------------------------------- addresses
write_conf 'listen = [ "127.0.0.2" ]'
start_server
check "listen 127.0.0.2: logged as such; replies come from 127.0.0.2"
grep -q "listening on 127.0.0.2:$PORT" "$LOG" && ok "logged" ||
    fail "no 'listening on 127.0.0.2:$PORT'"
raw get 127.0.0.2 "$PORT" p.bin --expect "$ROOT/p.bin" ||
    fail "raw download from 127.0.0.2 failed"
raw get 127.0.0.2 "$PORT" p.bin --opt blksize=1024 --opt tsize=0 \
    --expect "$ROOT/p.bin" || fail "raw download (OACK) from 127.0.0.2 failed"
check "listen 127.0.0.2: nothing answers on 127.0.0.1:$PORT"
probe --host 127.0.0.1 rrq p.bin octet --wait 500
expect_reply NONE
stop_server

write_conf 'listen = [ "127.0.0.1", "127.0.0.2" ]'
NLISTEN=2 start_server
P1=$(listen_port 127.0.0.1)
P2=$(listen_port 127.0.0.2)
check "two listen addresses: each answers from its own address"
echo "    127.0.0.1:$P1 127.0.0.2:$P2"
raw get 127.0.0.1 "$P1" p.bin --expect "$ROOT/p.bin" || fail "127.0.0.1"
raw get 127.0.0.2 "$P2" p.bin --expect "$ROOT/p.bin" || fail "127.0.0.2"
stop_server

check "IPv6 [::1]"
if python3 -c 'import socket; s = socket.socket(socket.AF_INET6,
    socket.SOCK_DGRAM); s.bind(("::1", 0))' 2>/dev/null; then
	write_conf 'listen = [ "[::1]" ]'
	start_server
	grep -q "listening on \[::1\]:$PORT" "$LOG" && ok "logged" ||
	    fail "no 'listening on [::1]:$PORT'"
	check "IPv6: curl tftp://[::1]:$PORT/p.bin"
	tmo curl -sS -g -o "$OUT/v6-curl" "tftp://[::1]:$PORT/p.bin" ||
	    fail "curl exited with $?"
	same "$ROOT/p.bin" "$OUT/v6-curl"
	check "IPv6: tftp-hpa -6"
	tmo tftp -6 -l -m binary ::1 "$PORT" -c get p.bin "$OUT/v6-hpa" \
	    > /dev/null 2>&1
	same "$ROOT/p.bin" "$OUT/v6-hpa"
	check "IPv6: raw client, replies from ::1, with options"
	raw get ::1 "$PORT" p.bin --opt blksize=1428 --opt tsize=0 \
	    --expect "$ROOT/p.bin" --expect-oack tsize=40000 ||
	    fail "raw IPv6 download failed"
	wait_xfer p.bin 'peer=\[?::1\]?:[0-9]+ .*result=ok' 3 5
	stop_server
else
	echo "SKIP (this check only): ::1 is not available here" >&2
	ok "skipped: no ::1"
fi

# ---------------------------------------------------------------- CLI
mkdir "$T/other"
echo "the wrong root" > "$T/other/p.bin"
write_conf "root = \"$T/other\"" 'uploads = "off"' 'workers = 3' \
    'blksize_max = 8192' 'windowsize_max = 64' 'permission_check = false'
start_server --root "$ROOT" --uploads create --workers 1 \
    --blksize-max 1024 --windowsize-max 2
check "CLI --root beats the file's root"
raw get 127.0.0.1 "$PORT" p.bin --expect "$ROOT/p.bin" ||
    fail "served from the file's root, not --root"
check "CLI --workers 1 beats workers = 3"
n=$(workers 1 | grep -c .)
[ "$n" -eq 1 ] && ok || fail "$n workers"
check "CLI --uploads create beats uploads = \"off\""
raw put 127.0.0.1 "$PORT" cli-up.bin "$ROOT/p.bin" || fail "upload refused"
same "$ROOT/p.bin" "$ROOT/cli-up.bin"
check "CLI --blksize-max 1024 and --windowsize-max 2 beat the file"
probe rrq p.bin octet blksize=8192 windowsize=64
oack_has blksize=1024 windowsize=2
stop_server

check "CLI --listen and --port beat the file's listen and port"
write_conf 'listen = [ "127.0.0.1" ]' 'port = 0'
start_server --listen 127.0.0.2 --port 0
grep -q "listening on 127.0.0.2:$PORT" "$LOG" && ok ||
    fail "$(grep 'listening on' "$LOG")"
raw get 127.0.0.2 "$PORT" p.bin --expect "$ROOT/p.bin" || fail "no answer"
stop_server

finish
