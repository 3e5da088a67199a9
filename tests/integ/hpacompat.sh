#!/bin/sh
# hpacompat.sh -- owltftpd next to in.tftpd (tftpd-hpa) itself.  For each
# /etc/default/tftpd-hpa below, in.tftpd runs with the command line
# Debian's init script builds from it, and owltftpd with what
# owltftpd-migrate makes of it, each on a loopback port and a copy of
# the same root, where every file holds its own path.  A table of names
# (with a realistic tftp-hpa remap file: r, rg, ri, e, s, a, a~, G, P,
# \i, \x, \U, \L, \1) is asked of both, for reads and for writes, and
# every answer -- the file served, or the ERROR code -- must be the
# same; so must the roots after the uploads (names, modes, contents).
# This checks remap_file, permission_check, uploads = "existing" and the
# converter together.  Skipped (77) without /usr/sbin/in.tftpd.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"

HPA=/usr/sbin/in.tftpd
if [ ! -x "$HPA" ]; then
	echo "SKIP: $TEST_NAME needs $HPA (apt-get install tftpd-hpa)" >&2
	exit 77
fi
need_cmd python3 ss
MIGRATE=${OWLTFTPD_MIGRATE:-$(dirname "$OWLTFTPD")/owltftpd-migrate}
NAMEMAP=$TESTS_SRCDIR/namemap.py
HPA_PID=
HPORT=

hpa_stop() {
	if [ -n "$HPA_PID" ]; then
		kill -s TERM "$HPA_PID" 2>/dev/null
		wait_for 3 exited "$HPA_PID" ||
		    kill -s KILL "$HPA_PID" 2>/dev/null
		wait "$HPA_PID" 2>/dev/null
		HPA_PID=
	fi
}
trap 'rc=$?; hpa_stop; (exit $rc); cleanup' EXIT

# ---------------------------------------------------------------- the root
TPL=$T/tpl
mkdir -p "$TPL"
for f in plain.txt a.txt pxe/cfg/default pxe/cfg/01-52-54-00-12-34-56 \
    grub2/grub.cfg efi/bootx64.efi static/aa static/a clients/127.0.0.1 \
    hexmap/7F000001 up/ABC legacy/x legacy/y private/secret mode640.txt \
    mode604.txt sub/mode600.txt w.bin ro.bin incoming/x; do
	mkdir -p "$TPL/$(dirname "$f")"
	echo "$f" > "$TPL/$f"
done
chmod -R u=rwX,go=rX "$TPL"
chmod 640 "$TPL/mode640.txt"
chmod 604 "$TPL/mode604.txt"
chmod 600 "$TPL/sub/mode600.txt"
chmod 666 "$TPL/w.bin"
chmod 644 "$TPL/ro.bin"

MAP=$T/tftp.remap
cat > "$MAP" <<'EOF'
# A tftp-hpa remap file such as PXE sites keep
rg \\ /				# DOS paths
r ^/				# one leading slash
ri ^pxelinux\.cfg/(.*) pxe/cfg/\1
r ^(boot/)?grub/(.*) grub2/\2
ri ^efi/boot/(.*)$ efi/\L\1
e ^static/
r ^client$ clients/\i
r ^hex$ hexmap/\x
rG ^upcase/(.*)$ up/\U\1
rP ^incoming/(.*) up/\1
a \.\.
a ^private/ Go\ away
rs ^old/(.*) legacy/\1
r ^legacy/x$ legacy/y
rg aa a
a~ ^[-a-zA-Z0-9_./]+$
EOF

cat > "$T/reads" <<'EOF'
plain.txt
/plain.txt
\\plain.txt
//plain.txt
pxelinux.cfg/default
PXELINUX.CFG/default
\\pxelinux.cfg\\01-52-54-00-12-34-56
grub/grub.cfg
boot/grub/grub.cfg
EFI/BOOT/BOOTX64.EFI
static/aa
client
hex
upcase/abc
incoming/x
private/secret
a/../plain.txt
old/x
old/y
aaaa.txt
missing.txt
with space.txt
mode640.txt
mode604.txt
sub/mode600.txt
EOF
cat > "$T/writes" <<'EOF'
w.bin
ro.bin
new.bin
incoming/in.bin
\\up\\dos.bin
private/x.bin
sub/mode600.txt
nodir/x.bin
EOF

# ---------------------------------------------------------------- servers
# defaults OPTIONS [DIRECTORY]: $T/defaults for in.tftpd on $HPORT.
defaults() {
	cat > "$T/defaults" <<EOF
TFTP_USERNAME="root"
TFTP_DIRECTORY="${2:-$T/hpa}"
TFTP_ADDRESS="127.0.0.1:$HPORT"
TFTP_OPTIONS="$1"
EOF
}

# Listening on $HPORT: that socket is in.tftpd's own (ss -p), not some
# other program's that made in.tftpd exit.
_hpa_listening() {
	ss -Hlunp "sport = :$HPORT" 2>/dev/null | grep -q "pid=$HPA_PID,"
}

_hpa_settled() {
	_hpa_listening || exited "$HPA_PID"
}

# hpa_start OPTIONS [DIRECTORY]: in.tftpd as the init script runs it
# (in the foreground), on a free port: a port taken makes it exit, and
# another is tried.
hpa_start() {
	local try
	for try in 1 2 3 4 5 6 7 8; do
		HPORT=$((20000 + RANDOM % 40000))
		defaults "$@"
		# shellcheck disable=SC2086
		( . "$T/defaults"
		  exec "$HPA" -L --listen --user $TFTP_USERNAME \
		      --address $TFTP_ADDRESS $TFTP_OPTIONS $TFTP_DIRECTORY ) \
		    > "$T/hpa.log" 2>&1 &
		HPA_PID=$!
		if wait_for 5 _hpa_settled && _hpa_listening; then
			echo "in.tftpd pid $HPA_PID on port $HPORT"
			return 0
		fi
		hpa_stop
	done
	die "in.tftpd did not start: $(cat "$T/hpa.log")"
}

# owl_start [ROOT]: owltftpd from the converted $T/defaults, with this
# test's pid file and control socket, on any port.
owl_start() {
	if ! "$MIGRATE" "$T/defaults" > "$T/conv.conf" 2> "$T/conv.err"; then
		die "owltftpd-migrate: $(cat "$T/conv.err")"
	fi
	cat > "$CONF" <<EOF
@include "$T/conv.conf"
pid_file = "$T/owltftpd.pid";
control_socket = "$T/control.sock";
log_level = "debug";
workers = 2;
EOF
	start_server --listen 127.0.0.1:0 ${1:+--root "$1"}
}

# both OPTIONS: fresh roots, both servers started.
both() {
	rm -rf "$T/hpa" "$T/owl"
	cp -a "$TPL" "$T/hpa"
	cp -a "$TPL" "$T/owl"
	hpa_start "$1"
	owl_start "$T/owl"
}

stop_both() {
	hpa_stop
	stop_server
}

# same_answers OP NAMES: the table asked of both servers, compared.
same_answers() {
	local op=$1 names=$2
	timeout -k 2 120 python3 "$NAMEMAP" 127.0.0.1 "$HPORT" "$names" \
	    --op "$op" > "$T/hpa.$op" 2>&1
	timeout -k 2 120 python3 "$NAMEMAP" 127.0.0.1 "$PORT" "$names" \
	    --op "$op" > "$T/owl.$op" 2>&1
	if cmp -s "$T/hpa.$op" "$T/owl.$op"; then
		ok "$(wc -l < "$T/hpa.$op") names, same answers:"$'\n'"$(
		    sed 's/^/    /' "$T/hpa.$op")"
	else
		fail "answers differ (in.tftpd | owltftpd):"$'\n'"$(
		    diff -y -W 140 "$T/hpa.$op" "$T/owl.$op")"
	fi
}

# tree DIR: every file with its mode and content, for comparing roots.
tree() {
	(cd "$1" && find . -type f ! -name '.owltftpd.*' -printf '%P %m ' \
	    -exec head -c 64 {} \; | sort)
}

# same_trees [modes]: the two roots hold the same files (and modes).
same_trees() {
	tree "$T/hpa" > "$T/hpa.tree"
	tree "$T/owl" > "$T/owl.tree"
	if [ "${1:-}" != modes ]; then
		sed -i 's/ [0-7]* / /' "$T/hpa.tree" "$T/owl.tree"
	fi
	if cmp -s "$T/hpa.tree" "$T/owl.tree"; then
		ok "roots alike ($(wc -l < "$T/hpa.tree") files)"
	else
		fail "roots differ (in.tftpd | owltftpd):"$'\n'"$(
		    diff -y -W 140 "$T/hpa.tree" "$T/owl.tree")"
	fi
}

# ---------------------------------------------------------------- Debian's
# Debian's default options plus a map file: uploads replace world-writable
# files only.
check "--secure -m MAP: reads"
both "--secure --map-file $MAP"
same_answers rrq "$T/reads"
check "--secure -m MAP: writes (no --create: existing world-writable only)"
same_answers wrq "$T/writes"
check "--secure -m MAP: the roots after the uploads, modes included"
same_trees modes
stop_both

check "--secure --create -m MAP: writes create world-writable files"
both "--secure --create -m $MAP"
same_answers wrq "$T/writes"
same_trees modes
check "--secure --create -m MAP: reads after the uploads"
same_answers rrq "$T/reads"
stop_both

# ---------------------------------------------------------------- rich
check "-s -c -p -U 022 -B 1468 -R 4096:32767 -m MAP -T 1000000 -l -4 -v"
both "-s -c -p -U 022 -B 1468 -R 4096:32767 -m $MAP -T 1000000 -l -4 -v"
same_answers rrq "$T/reads"
same_answers wrq "$T/writes"
# A replaced file keeps its mode under in.tftpd (written in place) and
# gets 666 & ~umask under owltftpd (renamed over): contents only.
same_trees
check "-B 1468: both grant blksize 1468 to a client asking 8192"
for p in "$HPORT" "$PORT"; do
	r=$(raw probe 127.0.0.1 "$p" rrq plain.txt octet blksize=8192 2>&1)
	case $r in
	*blksize=1468*) ok "port $p: $r" ;;
	*) fail "port $p: $r" ;;
	esac
done
stop_both

# ---------------------------------------------------------------- no -s
# Without --secure in.tftpd takes absolute names under its directory;
# reads only, so both serve the one root.  (in.tftpd's test is a string
# prefix, so it also looks up $T/tplx/...: owltftpd-migrate says so.)
check "no --secure, one directory: absolute names under it"
cat > "$T/abs" <<EOF
$T/tpl/plain.txt
$T/tpl/pxe/cfg/default
$T/tpl/mode640.txt
$T/tpl/nosuch
plain.txt
/etc/hostname
$T/tpl/../tpl/plain.txt
EOF
hpa_start "" "$T/tpl"
owl_start
same_answers rrq "$T/abs"
stop_both

finish
