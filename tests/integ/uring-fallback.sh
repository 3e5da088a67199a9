#!/bin/bash
# uring-fallback.sh -- io_backend = "uring" where the ring is refused (the
# test hook OWLTFTPD_TEST_URING_REFUSE stands in for a kernel that says
# no; a build without liburing takes the same path): each worker logs
# one "io_uring unavailable (REASON): using recvmmsg/sendmmsg" line and
# serves with recvmmsg/sendmmsg (recvmmsg_calls grew, uring_enters is 0).
# A value other than mmsg or uring is a configuration error naming the
# file and line.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"

need_cmd curl cmp

mkfile "$ROOT/f.bin" $((200 * 1024 + 3))

check "io_backend = \"epoll\" is refused with the file and line"
write_conf 'io_backend = "epoll"'
out=$("$OWLTFTPD" -t -c "$CONF" 2>&1)
rc=$?
line=$(grep -n '^io_backend' "$CONF" | cut -d: -f1)
[ $rc -ne 0 ] && [[ $out == *"$CONF:$line"* ]] && [[ $out == *io_backend* ]] &&
    ok "exit $rc: $out" || fail "exit $rc, want the error at $CONF:$line: $out"

write_conf 'io_backend = "uring"'
export OWLTFTPD_TEST_URING_REFUSE=1
start_server
unset OWLTFTPD_TEST_URING_REFUSE

check "each worker says once that it falls back, and why"
wait_for 5 eval '[ "$(grep -ac "io_uring unavailable" "$LOG")" -ge 2 ]'
# A build without liburing gives its own reason, before the hook's.
n=$(grep -aE 'io_uring unavailable \((refused by OWLTFTPD_TEST_URING_REFUSE, a test hook|built without liburing)\): using recvmmsg/sendmmsg$' "$LOG" |
    grep -aoc 'worker\[[01]\]')
[ "$n" -eq 2 ] && ok "$n lines" ||
    fail "want 2 lines, got $n: $(grep -a 'io_uring' "$LOG")"

check "it serves through recvmmsg/sendmmsg"
curl_get f.bin "$OUT/f.bin" --tftp-blksize 1468 || fail "curl exited with $?"
same "$ROOT/f.bin" "$OUT/f.bin"
s=$(ctl stats) || fail "owlctl stats failed"
rm_=$(kv_get "$s" total.recvmmsg_calls)
en=$(kv_get "$s" total.uring_enters)
[ "${rm_:-0}" -gt 0 ] && [ "$en" = 0 ] &&
    ok "recvmmsg_calls=$rm_ uring_enters=$en" ||
    fail "recvmmsg_calls=$rm_ uring_enters=$en"

finish
