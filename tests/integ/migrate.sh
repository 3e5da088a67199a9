#!/bin/sh
# migrate.sh -- owltftpd-migrate turns /etc/default/tftpd-hpa into an
# owltftpd.conf that owltftpd -t accepts: Debian's default file, richer
# ones (-c -p -u -U -B -R -m -T -l -4 -v, without --secure), the
# addresses Debian uses (":69", "[::]:69") and others, the shell syntax
# of the file, in.tftpd's own option parsing (abbreviations, clusters),
# and what in.tftpd would refuse to start with (exit 1).  Whether the
# converted server serves what in.tftpd serves: hpacompat.sh.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"

MIGRATE=${OWLTFTPD_MIGRATE:-$(dirname "$OWLTFTPD")/owltftpd-migrate}
[ -x "$MIGRATE" ] || die "no owltftpd-migrate at $MIGRATE"
MAP=$T/tftp.remap
printf '# tftp-hpa remap file\nrg \\\\ /\nri ^pxelinux\\.cfg/(.*) pxe/\\1\n' \
    > "$MAP"
# A user that exists here: Debian's "tftp" once tftpd-hpa is installed.
TUSER=tftp
getent passwd tftp > /dev/null || TUSER=nobody

# defaults NAME USER DIR ADDRESS OPTIONS: write $T/NAME as Debian's
# postinst writes it.
defaults() {
	cat > "$T/$1" <<EOF
# /etc/default/tftpd-hpa

TFTP_USERNAME="$2"
TFTP_DIRECTORY="$3"
TFTP_ADDRESS="$4"
TFTP_OPTIONS="$5"
EOF
}

# convert NAME: owltftpd-migrate $T/NAME > $T/NAME.conf, which must work.
convert() {
	if ! "$MIGRATE" "$T/$1" > "$T/$1.conf" 2> "$T/$1.err"; then
		fail "owltftpd-migrate $1 failed: $(cat "$T/$1.err")"
		return 1
	fi
}

# has NAME LINE...: the converted NAME has each LINE (a whole line).
has() {
	local f=$T/$1.conf l
	shift
	for l in "$@"; do
		grep -qxF -- "$l" "$f" || {
			fail "no line '$l' in:"$'\n'"$(cat "$f")"
			return 1
		}
	done
	ok
}

# lacks NAME REGEX: no line of the converted NAME matches REGEX.
lacks() {
	! grep -qE -- "$2" "$T/$1.conf" && ok ||
	    fail "a line matches '$2': $(grep -E -- "$2" "$T/$1.conf")"
}

# valid NAME: owltftpd -t accepts the converted NAME.
valid() {
	local out
	if out=$("$OWLTFTPD" -t -c "$T/$1.conf" 2>&1); then
		ok "owltftpd -t: $out"
	else
		fail "owltftpd -t -c $1.conf: $out"$'\n'"$(cat "$T/$1.conf")"
	fi
}

# refused WHY OPTIONS...: in.tftpd would not start: exit 1 saying WHY.
refused() {
	local why=$1
	shift
	defaults bad "$TUSER" "$ROOT" "$@"
	if "$MIGRATE" "$T/bad" > "$T/bad.out" 2> "$T/bad.err"; then
		fail "accepted: $(cat "$T/bad.out")"
	elif ! grep -q -- "$why" "$T/bad.err"; then
		fail "stderr lacks '$why': $(cat "$T/bad.err")"
	else
		ok "refused: $(cat "$T/bad.err")"
	fi
}

# ---------------------------------------------------------------- Debian
check "Debian's default file"
defaults debian tftp /srv/tftp :69 --secure
convert debian && has debian 'root = "/srv/tftp";' 'chroot = true;' \
    'user = "tftp";' 'listen = [ "0.0.0.0:69", "[::]:69" ];' \
    'uploads = "existing";' 'permission_check = true;' 'umask = "000";'
lacks debian '^(remap|remap_file|blksize_max|port_range) '
if [ -d /srv/tftp ] && getent passwd tftp > /dev/null; then
	check "owltftpd -t accepts Debian's default file, converted"
	valid debian
fi
check "the same with this test's root and user: owltftpd -t accepts it"
defaults debian2 "$TUSER" "$ROOT" :69 --secure
convert debian2 && valid debian2

# ---------------------------------------------------------------- rich
check "a richer file: -c -p -u -U 022 -B 1468 -R -m -T -l -4 -v"
defaults rich nobody "$ROOT" :69 "-c -p -u $TUSER -U 022 -B 1468 \
-R 4096:32767 -m $MAP -T 1000000 -l -4 -v"
convert rich && has rich "root = \"$ROOT\";" "user = \"$TUSER\";" \
    'listen = [ "0.0.0.0:69" ];' 'uploads = "overwrite";' \
    'permission_check = false;' 'umask = "022";' 'blksize_max = 1468;' \
    'timeout_ms = 1000;' 'port_range = "4096:32767";' \
    "remap_file = \"$MAP\";" 'remap_backslash = false;'
check "without --secure: names must begin with the directory (remap rules)"
has rich 'remap = (' \
    "  { match = \"^${ROOT//./\\\\.}/\"; replace = \"\"; last = true; }," \
    '  { match = "^"; action = "deny"; }'
lacks rich '^chroot'
grep -q '^# NOTE: --verbose' "$T/rich.conf" && ok || fail "no note for -v"
check "owltftpd -t accepts the richer file, converted"
valid rich

check "the same with --secure and long options"
defaults rich2 nobody "$ROOT" "[::]:69" "--secure --create --permissive \
--user=$TUSER --umask=027 --blocksize 1468 --port-range=4096:32767 \
--map-file=$MAP --retransmit 250000 --listen --verbose --verbosity=3"
convert rich2 && has rich2 "root = \"$ROOT\";" 'chroot = true;' \
    'listen = [ "[::]:69", "0.0.0.0:69" ];' 'umask = "027";' \
    'timeout_ms = 250;' "remap_file = \"$MAP\";"
valid rich2

check "a relative --map-file is read from the root (in.tftpd's chdir)"
defaults rel "$TUSER" "$ROOT" :69 "-s -m tftp.remap"
cp "$MAP" "$ROOT/tftp.remap"
convert rel && has rel "remap_file = \"$ROOT/tftp.remap\";" && valid rel

# ---------------------------------------------------------------- options
check "getopt as in.tftpd: clusters, abbreviations, -U022, later -u wins"
defaults opts "$TUSER" "$ROOT" :69 "--sec -cp -U002 -u root -u $TUSER -6"
convert opts && has opts 'chroot = true;' 'uploads = "overwrite";' \
    'permission_check = false;' 'umask = "002";' "user = \"$TUSER\";" \
    'listen = [ "[::]:69" ];' && valid opts

check "--create, --umask 022, no --permissive: a note (new files refused)"
defaults um "$TUSER" "$ROOT" :69 "-s -c -U 022"
convert um && has um 'uploads = "overwrite";' 'permission_check = true;' \
    'umask = "022";'
grep -q 'NOTE: --create with --umask 022' "$T/um.conf" && ok ||
    fail "no note about the umask"

check "what owltftpd lacks gets a NOTE: -r, -t, -L, unknown options"
defaults notes "$TUSER" "$ROOT" :69 "-s -r blksize -r tsize -t 300 -L -q"
convert notes
for n in 'refuse blksize, tsize' 'timeout is for inetd' 'foreground' \
    'does not know and ignores: -q'; do
	grep -q -- "NOTE: .*$n" "$T/notes.conf" && ok "note: $n" ||
	    fail "no note '$n'"
done
valid notes

# ---------------------------------------------------------------- addresses
while read -r addr opts want; do
	[ "$opts" = - ] && opts=
	check "--address '$addr' $opts -> listen = $want"
	defaults addr "$TUSER" "$ROOT" "$addr" "-s $opts"
	convert addr && has addr "listen = $want;"
done <<'EOF'
:69 - [ "0.0.0.0:69", "[::]:69" ]
:69 -4 [ "0.0.0.0:69" ]
:69 -6 [ "[::]:69" ]
[::]:69 - [ "[::]:69", "0.0.0.0:69" ]
[::]:69 -6 [ "[::]:69" ]
[::1]:1069 - [ "[::1]:1069" ]
0.0.0.0:69 - [ "0.0.0.0:69" ]
127.0.0.1 - [ "127.0.0.1:69" ]
127.0.0.1:tftp - [ "127.0.0.1:69" ]
127.0.0.1:0x45 - [ "127.0.0.1:69" ]
EOF

# ---------------------------------------------------------------- shell
check "the file is read as sh reads it"
cat > "$T/sh" <<EOF
# comment
export TFTP_USERNAME='$TUSER'   # trailing comment
TFTP_DIRECTORY="$ROOT"
TFTP_ADDRESS=127.0.0.1:69
TFTP_OPTIONS="--secure \\
  --create"
RUN_DAEMON="yes"
EOF
convert sh && has sh "user = \"$TUSER\";" 'chroot = true;' \
    'listen = [ "127.0.0.1:69" ];' 'uploads = "overwrite";'
grep -q 'NOTE: .*RUN_DAEMON is not used' "$T/sh.conf" && ok ||
    fail "no note for RUN_DAEMON"
check "an expansion is not done, but noted"
printf 'TFTP_USERNAME=%s\nTFTP_DIRECTORY=%s\nTFTP_ADDRESS=:69\n%s\n' \
    "$TUSER" "$ROOT" 'TFTP_OPTIONS="$SECURE -c"' > "$T/exp"
convert exp
grep -q 'NOTE: TFTP_OPTIONS uses a shell expansion' "$T/exp.conf" && ok ||
    fail "no note for \$SECURE"

# ---------------------------------------------------------------- refused
check "what in.tftpd refuses to start with is refused"
refused 'blocksize' :69 "-s -B 100"
refused 'bad timeout' :69 "-s -T 9999"
refused 'port range' :69 "-s -R 5000:4000"
refused 'invalid umask' :69 "-s -U 09"
refused 'multiple -m' :69 "-s -m a -m b"
refused 'unknown option for -r' :69 "-s -r bogus"
refused 'exactly one directory' :69 "-s $ROOT"
refused 'enclosed in \[\]' ::1:69 "-s"
refused 'not in address family AF_INET$' "[::]:69" "-s -4"
refused 'cannot resolve local bind port' 127.0.0.1:0 "-s"
check "a missing file is an error"
"$MIGRATE" "$T/nosuch" > /dev/null 2>&1 && fail "exit 0" || ok

finish
