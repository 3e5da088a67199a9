#!/bin/bash
# confine.sh -- nothing outside the root is ever served: a sentinel file
# next to the root is asked for through "..", backslashes, absolute
# paths, symlinks (to it, to /etc/passwd, to a directory outside) and
# names with control characters; each gets ERROR 1 or 2 and never a byte
# of it.  Leading "/" and backslash paths to files inside the root work,
# as does a symlink that stays inside.  Client names are escaped in the
# log.  With user = "nobody" the workers really run as nobody (checked in
# /proc), so a root-only (0600) file is refused; with chroot = true the
# workers' root directory is the served root.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"

need_cmd python3 tftp

SECRET="SENTINEL-$$-do-not-serve"
echo "$SECRET" > "$T/sentinel"
chmod 644 "$T/sentinel"
mkdir -p "$T/outside"
echo "$SECRET" > "$T/outside/file"
mkfile "$ROOT/in.bin" 3000
mkdir -p "$ROOT/sub/deeper"
mkfile "$ROOT/sub/deep.bin" 1500
mkfile "$ROOT/sub/deeper/deepest.bin" 700
ln -s "$T/sentinel" "$ROOT/link-out"
ln -s /etc/passwd "$ROOT/link-passwd"
ln -s ../../sentinel "$ROOT/sub/link-up"
ln -s "$T/outside" "$ROOT/dirlink"
ln -s in.bin "$ROOT/link-in"
ln -s ../in.bin "$ROOT/sub/link-in-up"

write_conf 'uploads = "overwrite"' 'permission_check = false'
start_server

# refused NAME [CODES-GLOB]: the raw RRQ gets ERROR 1 or 2, never data.
refused() {
	local name=$1 codes=${2:-[12]}
	check "refused: $(printf '%q' "$name")"
	probe rrq "$name" octet
	expect_reply "ERROR $codes*"
}

refused "../sentinel"
refused '..\sentinel'
refused "/../sentinel"
refused "a/../../sentinel"
refused "sub/../../sentinel"
refused "sub/deeper/../../../sentinel"
refused '\..\sentinel'
refused "./../sentinel"
refused "..//sentinel"
refused "../outside/file"
refused "../../../../../../../../etc/passwd"
refused '..\..\..\..\..\..\etc\passwd'
refused "$T/sentinel"
refused "/$T/sentinel"
refused "/etc/passwd"
refused "//etc/passwd"
refused "link-out"
refused "link-passwd"
refused "sub/link-up"
refused "dirlink/file"
refused "/dirlink/file"
refused "sub/../link-out"
refused $'in.bin\n'
refused $'\x01in.bin'
refused $'in\x1b[31m.bin'
refused $'sub/\rdeep.bin'
refused $'\x7f'
refused "%2e%2e/sentinel"
refused ".."
refused "../"
refused "." '*'
refused "/" '*'
refused "sub" '*'
refused "sub/" '*'

check "refused with options too (tsize must not leak the size)"
probe rrq "../sentinel" octet tsize=0 blksize=1024
expect_reply "ERROR [12]*"
probe rrq "link-out" octet tsize=0
expect_reply "ERROR [12]*"

check "refused in netascii mode too"
probe rrq "../sentinel" netascii
expect_reply "ERROR [12]*"

check "tftp-hpa get ../sentinel and link-out: error, nothing received"
for n in ../sentinel link-out '..\sentinel'; do
	rm -f "$OUT/hpa"
	m=$(hpa_get "$n" "$OUT/hpa" 2>&1)
	[[ $m == *"Error code "[12]* ]] || fail "tftp-hpa said: $m"
	if grep -qs "$SECRET" "$OUT/hpa"; then
		fail "the sentinel came through as $n"
	fi
done
ok "tftp-hpa refused"

# Uploads must not escape either (uploads = "overwrite" here).
evil() {
	check "upload refused: $1"
	raw put 127.0.0.1 "$PORT" "$1" "$ROOT/in.bin" \
	    --expect-error 0,1,2,3,4,5,6,7,8 > "$T/raw.out" &&
	    ok "$(tail -n 1 "$T/raw.out" | sed 's/^ok: //')" ||
	    fail "not refused: $(cat "$T/raw.out")"
}
evil "../evil"
evil '..\evil'
evil "sub/../../evil"
evil "dirlink/evil"
evil "../outside/evil"
evil "sub/link-up"
check "upload to link-out (a symlink to the sentinel): outside untouched"
if raw put 127.0.0.1 "$PORT" link-out "$ROOT/in.bin" \
    --expect-error 0,1,2,3,4,5,6,7,8 > /dev/null; then
	echo "    refused"
else
	echo "    accepted (so it must have replaced the link inside the root)"
fi
check "after the upload attempts: the sentinel is intact, nothing outside"
[ "$(cat "$T/sentinel")" = "$SECRET" ] && ok "sentinel intact" ||
    fail "the sentinel was changed"
for f in "$T/evil" "$T/outside/evil"; do
	[ ! -e "$f" ] || fail "$f was created"
done
no_temp_files "$T"

check "the sentinel text never left the server (no byte count for it)"
if grep -a 'xfer end' "$LOG" | grep -a 'result=ok' | grep -aq sentinel; then
	fail "a transfer involving 'sentinel' ended ok"
else
	ok
fi

# served NAME FILE: a raw download of NAME equals FILE.
served() {
	check "served: $(printf '%q' "$1")"
	raw get 127.0.0.1 "$PORT" "$1" --expect "$2" || fail "not served"
}
served "in.bin" "$ROOT/in.bin"
served "/in.bin" "$ROOT/in.bin"
served "/sub/deep.bin" "$ROOT/sub/deep.bin"
served 'sub\deep.bin' "$ROOT/sub/deep.bin"
served '\sub\deeper\deepest.bin' "$ROOT/sub/deeper/deepest.bin"

check "an inner '..' (sub/deeper/../deep.bin): served intact or refused"
probe rrq "sub/deeper/../deep.bin" octet
if [[ $REPLY == "ERROR "[12]* ]]; then
	ok "refused (every '..' is): $REPLY"
else
	raw get 127.0.0.1 "$PORT" "sub/deeper/../deep.bin" \
	    --expect "$ROOT/sub/deep.bin" || fail "wrong answer"
fi
served "link-in" "$ROOT/in.bin"
served "sub/link-in-up" "$ROOT/in.bin"

check "tftp-hpa get /sub/deep.bin (leading slash)"
hpa_get /sub/deep.bin "$OUT/deep" > /dev/null 2>&1
same "$ROOT/sub/deep.bin" "$OUT/deep"

check "the log escapes control characters in file names"
_escaped_x01() {
	grep -a 'xfer end' "$LOG" | grep -a 'file=[^ ]*\\[^ ]*in\.bin '
}
if wait_for 5 _escaped_x01 >/dev/null; then
	ok "the \\x01 name is logged escaped: $(_escaped_x01 | head -n 1 |
	    sed 's/.*file=//; s/ .*//')"
else
	fail "no escaped xfer end line for the \\x01 name"
fi
if LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$LOG"; then
	fail "raw control characters in the log: $(LC_ALL=C grep -an \
	    $'[\x01-\x08\x0b-\x1f\x7f]' "$LOG" | cat -v | head -n 3)"
else
	ok "no raw control characters anywhere in the log"
fi

stop_server

# ---------------------------------------------------------------- nobody
# The unprivileged part needs a root that nobody can reach (a TMPDIR
# under /root would not do); that is a property of this machine.
if command -v setpriv > /dev/null 2>&1 &&
    ! setpriv --reuid nobody --regid nogroup --clear-groups \
    test -r "$ROOT/in.bin" 2>/dev/null; then
	echo "SKIP (the user = nobody part only): nobody cannot read" \
	    "$ROOT; set TMPDIR to a world-searchable directory" >&2
	finish
fi
mkfile "$ROOT/secret600.bin" 100
chmod 600 "$ROOT/secret600.bin"
write_conf 'user = "nobody"'
start_server

NOBODY_UID=$(id -u nobody)
check "workers=2 running as nobody (uid $NOBODY_UID), master as root"
ws=$(workers 2)
[ "$(echo "$ws" | grep -c .)" -eq 2 ] || fail "workers: '$ws'"
for w in $ws; do
	uids=$(awk '$1 == "Uid:" { print $2, $3, $4, $5 }' "/proc/$w/status")
	gids=$(awk '$1 == "Gid:" { print $2, $3, $4, $5 }' "/proc/$w/status")
	groups=$(awk '$1 == "Groups:" { $1 = ""; print }' "/proc/$w/status")
	echo "    worker $w: Uid $uids; Gid $gids; Groups$groups"
	[ "$uids" = "$NOBODY_UID $NOBODY_UID $NOBODY_UID $NOBODY_UID" ] ||
	    fail "worker $w uids (real eff saved fs) are $uids"
	for g in $gids $groups; do
		[ "$g" != 0 ] || fail "worker $w still has group 0 ($gids /$groups)"
	done
done
[ "$(proc_uid "$SERVER_PID")" = 0 ] || fail "master is not root"
ok "uids checked"

check "a root-only (0600) file is refused: ERROR 2"
probe rrq secret600.bin octet
expect_reply "ERROR 2*"
check "a world-readable file is served to the unprivileged worker"
raw get 127.0.0.1 "$PORT" in.bin --expect "$ROOT/in.bin" || fail "not served"
refused "../sentinel"
refused "link-passwd"
stop_server

# ---------------------------------------------------------------- chroot
write_conf 'user = "nobody"' 'chroot = true'
start_server
check "chroot = true: each worker's root directory is the served root"
for w in $(workers 2); do
	r=$(readlink "/proc/$w/root")
	[ "$r" = "$(cd "$ROOT" && pwd -P)" ] || fail "worker $w root is '$r'"
done
ok
served "/sub/deep.bin" "$ROOT/sub/deep.bin"
refused "../sentinel"
refused "link-out"
refused "dirlink/file"

finish
