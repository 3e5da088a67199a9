#!/bin/sh
# permission.sh -- permission_check, tftpd-hpa's policy without
# --permissive (on by default): only world-readable files are served, only
# world-writable ones replaced, and a new file is created only when umask
# leaves it world-writable.  Each refusal is ERROR 2 with the reason in
# the xfer end line and the audit event, and counts in perm_denied.  A
# chmod is seen by a file already in the open-file cache.  uploads =
# "existing" replaces files but never creates one.  permission_check =
# false lets the workers' own rights decide.  (The same rules against
# in.tftpd itself: migrate.sh.)
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"

AUDIT=$T/audit.json

# refused NAME OP REASON: the last xfer end line for NAME says REASON.
refused() {
	wait_xfer "$1" "op=$2 .*result=refused code=2 reason=permission detail=\"$3\""
}

for f in pub.bin group.bin owner.bin; do
	echo "content of $f" > "$ROOT/$f"
done
chmod 644 "$ROOT/pub.bin"
chmod 640 "$ROOT/group.bin"
chmod 600 "$ROOT/owner.bin"
echo "writable" > "$ROOT/w.bin" && chmod 666 "$ROOT/w.bin"
echo "protected" > "$ROOT/ro.bin" && chmod 664 "$ROOT/ro.bin"
echo "upload" > "$T/up.bin"

# ---------------------------------------------------------------- reads
write_conf "audit_file = \"$AUDIT\"" 'uploads = "existing"' \
    'umask = "000"'
start_server

check "a world-readable file is served"
raw get 127.0.0.1 "$PORT" pub.bin --expect "$ROOT/pub.bin" ||
    fail "pub.bin (644) was not served"

for f in group.bin owner.bin; do
	check "$f ($(stat -c %a "$ROOT/$f")): ERROR 2, not world-readable"
	raw get 127.0.0.1 "$PORT" "$f" --expect-error 2 || fail "not refused"
	refused "$f" rrq "not world-readable"
done

check "netascii reads are checked too"
raw get 127.0.0.1 "$PORT" owner.bin --mode netascii --expect-error 2 ||
    fail "not refused"

check "a chmod o-r is seen once the cached entry is rechecked (1 s)"
raw get 127.0.0.1 "$PORT" pub.bin --expect "$ROOT/pub.bin" || fail "get"
chmod 640 "$ROOT/pub.bin"
sleep 1.2
raw get 127.0.0.1 "$PORT" pub.bin --expect-error 2 || fail "still served"
chmod 644 "$ROOT/pub.bin"

# ---------------------------------------------------------------- writes
check "uploads = existing: a world-writable file is replaced"
raw put 127.0.0.1 "$PORT" w.bin "$T/up.bin" || fail "upload refused"
same "$T/up.bin" "$ROOT/w.bin"
check "umask 000: the replaced file is world-writable again, as in tftpd-hpa"
[ "$(stat -c %a "$ROOT/w.bin")" = 666 ] && ok ||
    fail "mode $(stat -c %a "$ROOT/w.bin")"
raw put 127.0.0.1 "$PORT" w.bin "$T/up.bin" || fail "second upload refused"

check "a file others may not write (664) is not replaced"
raw put 127.0.0.1 "$PORT" ro.bin "$T/up.bin" --expect-error 2 ||
    fail "not refused"
refused ro.bin wrq "not world-writable"
grep -qx protected "$ROOT/ro.bin" && ok || fail "ro.bin changed"

check "uploads = existing never creates: a new name is ERROR 1"
raw put 127.0.0.1 "$PORT" new.bin "$T/up.bin" --expect-error 1 ||
    fail "not refused with ERROR 1"
[ ! -e "$ROOT/new.bin" ] && ok || fail "new.bin was created"

check "counters: perm_denied=5, refused=6"
expect_stat perm_denied 5
expect_stat refused 6

check "the audit event of a refusal names the reason"
python3 - "$AUDIT" <<'EOF' && ok || fail "audit events lack the reason"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
want = {("group.bin", "rrq", "permission", "not world-readable"),
        ("ro.bin", "wrq", "permission", "not world-writable")}
got = {(e["file"], e["op"], e.get("reason"), e.get("detail")) for e in ev
       if e["event"] == "refused" and "detail" in e}
assert want <= got, got
assert all(e.get("reason") for e in ev if e["event"] == "refused"), ev
assert not [e for e in ev if e["event"] == "transfer" and "reason" in e]
EOF
stop_server

# ---------------------------------------------------------------- creates
check "uploads = overwrite, umask 022: new files are created 644 (no warning)"
write_conf 'uploads = "overwrite"'
start_server
grep -q 'every new file is refused' "$LOG" && fail "a warning at start"
raw put 127.0.0.1 "$PORT" new.bin "$T/up.bin" > /dev/null ||
    fail "the upload of new.bin was refused"
[ "$(stat -c %a "$ROOT/new.bin" 2>/dev/null)" = 644 ] && ok ||
    fail "new.bin: mode $(stat -c %a "$ROOT/new.bin" 2>&1)"
check "umask 022: the new 644 file may not be replaced (not world-writable)"
raw put 127.0.0.1 "$PORT" new.bin "$T/up.bin" --expect-error 2 ||
    fail "replacing a 644 file was not refused"
refused new.bin wrq "not world-writable"
rm -f "$ROOT/new.bin"
stop_server

check "umask 000: new files are created 666 and may be replaced"
write_conf 'uploads = "overwrite"' 'umask = "000"'
start_server
grep -q 'every new file is refused' "$LOG" && fail "warning with umask 000"
raw put 127.0.0.1 "$PORT" new.bin "$T/up.bin" || fail "create refused"
[ "$(stat -c %a "$ROOT/new.bin")" = 666 ] && ok ||
    fail "mode $(stat -c %a "$ROOT/new.bin")"
raw put 127.0.0.1 "$PORT" new.bin "$T/up.bin" || fail "replace refused"
stop_server

# ---------------------------------------------------------------- off
check "permission_check = false: the workers' rights decide"
write_conf 'permission_check = false' 'uploads = "overwrite"'
start_server
raw get 127.0.0.1 "$PORT" owner.bin --expect "$ROOT/owner.bin" ||
    fail "owner.bin (600) not served to a root worker"
raw put 127.0.0.1 "$PORT" ro.bin "$T/up.bin" || fail "ro.bin not replaced"
raw put 127.0.0.1 "$PORT" other.bin "$T/up.bin" || fail "create refused"
[ "$(stat -c %a "$ROOT/other.bin")" = 644 ] && ok ||
    fail "mode $(stat -c %a "$ROOT/other.bin")"
expect_stat perm_denied 0

finish
