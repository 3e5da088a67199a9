#!/bin/bash
# deb.sh -- the Debian package, end to end: build it with
# dpkg-buildpackage -us -uc -b, check it with lintian (no errors), install
# it in a throwaway Debian 12 root (debootstrap minbase, entered with
# chroot), start the service there through its init script on 127.0.0.1
# at a port the kernel picks (never port 69: the chroot shares the
# host's network), fetch a file with curl, reload, stop, purge, and check
# that nothing of the package is left (the owltftpd user and group stay,
# as Debian policy has it).
#
# Run as root from anywhere: bash tests/package/deb.sh.  The work goes
# to build-deb/ in the source tree (DEB_WORK to change it; KEEP=1 keeps
# the chroot).  Exit status: 0 pass, 1 fail, 77 skip (not root, or
# debootstrap cannot build a root here), 99 hard error.
set -u

SRC=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${DEB_WORK:-$SRC/build-deb}
SUITE=bookworm
MIRROR=${DEB_MIRROR:-http://deb.debian.org/debian}
R=			# the chroot, once made
MASTER=			# the master the test started (host PID)
FAILS=0
T0=$(date +%s)

say() { echo "deb: $*"; }
fail() { FAILS=$((FAILS + 1)); echo "deb: FAIL: $*" >&2; }
skip() { echo "deb: SKIP: $*"; exit 77; }
hard() { echo "deb: ERROR: $*" >&2; exit 99; }
elapsed() { echo "$(($(date +%s) - T0)) s"; }

[ "$(id -u)" -eq 0 ] || skip "needs root (chroot, package installation)"
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8

# ---------------------------------------------------------------- tools

need=
for p in dpkg-dev:dpkg-buildpackage debhelper:dh lintian:lintian \
    debootstrap:debootstrap curl:curl pkgconf:pkg-config \
    libevent-dev:/usr/include/event2/event.h \
    libconfig-dev:/usr/include/libconfig.h check:/usr/include/check.h \
    libssl-dev:/usr/include/openssl/ssl.h; do
	pkg=${p%%:*} what=${p#*:}
	case $what in
	/*) [ -e "$what" ] ;;
	*) command -v "$what" > /dev/null 2>&1 ;;
	esac || need="$need $pkg"
done
if [ -n "$need" ]; then
	say "installing$need"
	# shellcheck disable=SC2086
	apt-get install -y --no-install-recommends $need > "$WORK.apt.log" 2>&1 ||
	    { apt-get update > /dev/null 2>&1 &&
	    apt-get install -y --no-install-recommends $need \
	    > "$WORK.apt.log" 2>&1; } || {
		tail -n 20 "$WORK.apt.log"
		case $need in
		*debootstrap*) skip "cannot install$need" ;;
		*) hard "cannot install$need" ;;
		esac
	}
fi

# ---------------------------------------------------------------- build

rm -rf "$WORK" && mkdir -p "$WORK/src" || hard "cannot make $WORK"
# The tracked files and any new ones, not the build trees (.gitignore).
if git -C "$SRC" rev-parse --git-dir > /dev/null 2>&1; then
	(cd "$SRC" && git ls-files -z -co --exclude-standard |
	    tar --null -T - -cf -) | tar -C "$WORK/src" -xf - ||
	    hard "cannot copy the source"
else
	tar -C "$SRC" --exclude='./build*' --exclude=./.git -cf - . |
	    tar -C "$WORK/src" -xf - || hard "cannot copy the source"
fi
say "dpkg-buildpackage -us -uc -b"
if ! (cd "$WORK/src" && dpkg-buildpackage -us -uc -b) > "$WORK/build.log" 2>&1
then
	tail -n 40 "$WORK/build.log"
	fail "dpkg-buildpackage failed (log: $WORK/build.log)"
	exit 1
fi
grep -E '^(PASS|FAIL|ERROR|SKIP): ' "$WORK/build.log" | tr '\n' ' ' |
    sed 's/^/deb: unit suites in the build: /; s/ $/\n/'
DEB=$(ls "$WORK"/owltftpd_*.deb 2>/dev/null | head -n 1)
CHANGES=$(ls "$WORK"/owltftpd_*.changes 2>/dev/null | head -n 1)
[ -n "$DEB" ] && [ -n "$CHANGES" ] || { fail "no .deb or .changes"; exit 1; }
say "built $(basename "$DEB") ($(elapsed))"

say "lintian"
lintian --pedantic "$CHANGES" > "$WORK/lintian.log" 2>&1
sed 's/^/deb:   /' "$WORK/lintian.log"
if grep -q '^E: ' "$WORK/lintian.log"; then
	fail "lintian reports errors"
else
	echo "deb: ok: lintian: no errors" \
	    "($(grep -c '^W: ' "$WORK/lintian.log") warnings)"
fi

# ---------------------------------------------------------------- chroot

cleanup() {
	local rc=$? p
	if [ -n "$R" ]; then
		# Only what this test started inside the chroot: the master
		# and its workers (the master's children).
		if [ -n "$MASTER" ] && [ -d "/proc/$MASTER" ]; then
			for p in $(cat "/proc/$MASTER/task/$MASTER/children" \
			    2>/dev/null) "$MASTER"; do
				kill -KILL "$p" 2>/dev/null
			done
		fi
		if mountpoint -q "$R/proc"; then
			umount "$R/proc" || umount -l "$R/proc"
		fi
		if mountpoint -q "$R/proc"; then
			echo "deb: $R/proc still mounted: keeping $R" >&2
		elif [ "${KEEP:-}" != 1 ]; then
			rm -rf "$R"
		fi
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM

R=$WORK/root
say "debootstrap --variant=minbase $SUITE"
if ! debootstrap --variant=minbase "$SUITE" "$R" "$MIRROR" \
    > "$WORK/debootstrap.log" 2>&1; then
	tail -n 20 "$WORK/debootstrap.log"
	skip "debootstrap cannot build a $SUITE root here"
fi
say "root ready ($(elapsed))"
mount --bind /proc "$R/proc" || hard "cannot bind-mount /proc"

# in_root CMD...: run CMD in the chroot with a clean environment.
in_root() {
	chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	    LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}

# Every path in the root, but those that installing packages with apt
# and dpkg changes by itself (its state and caches, the logs, adduser's
# lock /run/adduser).
snapshot() {
	(cd "$R" && find . -xdev \
	    \( -path ./proc -o -path ./var/lib/dpkg -o -path ./var/lib/apt \
	    -o -path ./var/cache -o -path ./var/log/apt -o -path ./tmp \
	    -o -path ./var/tmp -o -path ./dev \) -prune -o -print |
	    grep -v -e '^\./var/log/dpkg\.log$' \
	    -e '^\./var/log/alternatives\.log$' \
	    -e '^\./etc/\(passwd\|group\|shadow\|gshadow\)-$' \
	    -e '^\./etc/ld\.so\.cache$' -e '^\./run/adduser$' | sort)
}

# The dependencies first (from the archive, like any install), then the
# package, with invoke-rc.d told not to start it: the configuration
# still says port 69 of every address, and this root shares the host's
# network.
[ ! -e "$R/usr/sbin/policy-rc.d" ] ||
    hard "the new root already has a policy-rc.d"
in_root apt-get update > "$WORK/apt-root.log" 2>&1 ||
    { tail -n 20 "$WORK/apt-root.log"; skip "apt-get update in the root failed"; }
snapshot > "$WORK/before.list"
printf '#!/bin/sh\nexit 101\n' > "$R/usr/sbin/policy-rc.d"
chmod 755 "$R/usr/sbin/policy-rc.d"
cp "$DEB" "$R/tmp/" || hard "cannot copy the package"
say "apt-get install ./$(basename "$DEB")"
if ! in_root apt-get install -y --no-install-recommends \
    "/tmp/$(basename "$DEB")" >> "$WORK/apt-root.log" 2>&1; then
	tail -n 30 "$WORK/apt-root.log"
	fail "the package does not install"
	exit 1
fi
rm -f "$R/usr/sbin/policy-rc.d" "$R/tmp/$(basename "$DEB")"
say "installed ($(elapsed))"

# ---------------------------------------------------------------- checks

check_path() {	# check_path TEST PATH WHAT
	if [ "$1" "$R$2" ]; then
		echo "deb: ok: $2: $3"
	else
		fail "$2: not $3"
	fi
}
check_path -x /usr/sbin/owltftpd "the daemon"
check_path -x /usr/sbin/owlctl "owlctl"
check_path -x /etc/init.d/owltftpd "the init script"
check_path -f /lib/systemd/system/owltftpd.service "the unit"
check_path -f /etc/default/owltftpd "the defaults file"
check_path -f /etc/logrotate.d/owltftpd "the logrotate snippet"
check_path -d /srv/tftp "the default root"
check_path -f /usr/share/man/man8/owltftpd.8.gz "owltftpd(8)"
ls "$R"/etc/rc2.d/S??owltftpd > /dev/null 2>&1 && echo "deb: ok: enabled in runlevel 2 (update-rc.d)" || fail "no /etc/rc2.d/S??owltftpd"
grep -qx /etc/owltftpd/owltftpd.conf "$R/var/lib/dpkg/info/owltftpd.conffiles" &&
    echo "deb: ok: /etc/owltftpd/owltftpd.conf is a conffile" ||
    fail "/etc/owltftpd/owltftpd.conf is not a conffile"
OWL_UID=$(in_root id -u owltftpd 2>/dev/null)
case $OWL_UID in
''|0|*[!0-9]*) fail "no system user owltftpd ($OWL_UID)" ;;
*) echo "deb: ok: system user owltftpd, uid $OWL_UID" ;;
esac
in_root owltftpd -t -v 2>/dev/null | grep -qx 'user = "owltftpd";' &&
    echo "deb: ok: the packaged binary and config default to user owltftpd" ||
    fail "the default user is not owltftpd"
[ ! -e "$R/run/owltftpd/owltftpd.pid" ] &&
    echo "deb: ok: not started during the install (policy-rc.d)" ||
    fail "the service started during the install"

# The test's settings: the loopback, a port the kernel picks, a log
# file to show on failure.
cat >> "$R/etc/owltftpd/owltftpd.conf" <<'EOF'

# deb.sh: never port 69 here, the root shares the host's network.
listen = "127.0.0.1";
port = 0;
workers = 2;
log_file = "/var/log/owltftpd/owltftpd.log";
EOF
echo "served from the package" > "$R/srv/tftp/hello.txt"
chmod 644 "$R/srv/tftp/hello.txt"

show_log() {
	[ -f "$R/var/log/owltftpd/owltftpd.log" ] &&
	    tail -n 20 "$R/var/log/owltftpd/owltftpd.log" | sed 's/^/deb:   | /'
}

# initd ACTION: the init script in the root; output shown, status in RC.
initd() {
	in_root timeout 60 /etc/init.d/owltftpd "$1" > "$WORK/initd.out" 2>&1
	RC=$?
	sed "s/^/deb:   init $1: /" "$WORK/initd.out"
}

# status_val KEY: from owlctl status in the root.
status_val() {
	in_root owlctl -r status 2>/dev/null | sed -n "s/^$1=//p" | head -n 1
}

initd start
if [ "$RC" -ne 0 ]; then
	show_log
	fail "init script start exited $RC"
	exit 1
fi
MASTER=$(status_val pid)
# owlctl names the master by the PID it has here (no PID namespace).
[ -n "$MASTER" ] && [ "$(cat "$R/run/owltftpd/owltftpd.pid" 2>/dev/null)" = "$MASTER" ] &&
    [ "$(readlink "/proc/$MASTER/root")" = "$R" ] &&
    echo "deb: ok: master $MASTER runs in the root, named by /run/owltftpd/owltftpd.pid" ||
    fail "no master in the root (owlctl: '$MASTER')"
WORKERS=$(cat "/proc/$MASTER/task/$MASTER/children" 2>/dev/null)
n=0
for w in $WORKERS; do
	u=$(awk '/^Uid:/ { print $2 }' "/proc/$w/status" 2>/dev/null)
	[ "$u" = "$OWL_UID" ] && n=$((n + 1))
done
[ "$n" -eq 2 ] && echo "deb: ok: 2 workers run as owltftpd" ||
    fail "want 2 workers as uid $OWL_UID, have: $WORKERS"
initd status
[ "$RC" -eq 0 ] && echo "deb: ok: status 0 while running" ||
    fail "status exited $RC while running"

PORT=$(status_val listen.port)
case $PORT in
''|0|69|*[!0-9]*) fail "listen port '$PORT'"; PORT= ;;
esac
fetch() {
	rm -f "$WORK/hello.out"
	curl -s --max-time 20 -o "$WORK/hello.out" \
	    "tftp://127.0.0.1:$PORT/hello.txt" &&
	    cmp -s "$WORK/hello.out" "$R/srv/tftp/hello.txt"
}
if [ -n "$PORT" ] && fetch; then
	echo "deb: ok: curl fetched hello.txt from 127.0.0.1:$PORT"
else
	show_log
	fail "curl could not fetch hello.txt from 127.0.0.1:$PORT"
fi

initd reload
gen=$(status_val generation)
[ "$RC" -eq 0 ] && [ "$gen" = 2 ] &&
    echo "deb: ok: reload: exit 0, generation 2" ||
    fail "reload exited $RC, generation '$gen'"
[ -n "$PORT" ] && fetch && echo "deb: ok: served after the reload" ||
    fail "not served after the reload"

initd stop
gone=1
for _ in $(seq 100); do
	gone=1
	for p in $MASTER $WORKERS; do
		[ -d "/proc/$p" ] && gone=0
	done
	[ $gone -eq 1 ] && break
	sleep 0.1
done
[ "$RC" -eq 0 ] && [ $gone -eq 1 ] && [ ! -e "$R/run/owltftpd/owltftpd.pid" ] &&
    echo "deb: ok: stop: master and workers gone, pid file removed" ||
    fail "stop exited $RC; left: $(for p in $MASTER $WORKERS; do [ -d /proc/$p ] && echo $p; done | xargs)"
[ $gone -eq 1 ] && MASTER=
initd status
[ "$RC" -eq 3 ] && echo "deb: ok: status 3 once stopped" ||
    fail "status exited $RC once stopped"

# ---------------------------------------------------------------- purge

rm -f "$R/srv/tftp/hello.txt"	# the administrator's file, not the package's
say "apt-get purge owltftpd"
if ! in_root apt-get purge -y owltftpd >> "$WORK/apt-root.log" 2>&1; then
	tail -n 20 "$WORK/apt-root.log"
	fail "purge failed"
fi
in_root apt-get autoremove --purge -y >> "$WORK/apt-root.log" 2>&1
[ -z "$(in_root dpkg-query -W -f '${db:Status-Abbrev}' owltftpd 2>/dev/null | tr -d ' ')" ] ||
    [ "$(in_root dpkg-query -W -f '${db:Status-Abbrev}' owltftpd 2>/dev/null | tr -d ' ')" = un ] &&
    echo "deb: ok: dpkg no longer knows owltftpd" ||
    fail "dpkg still lists owltftpd: $(in_root dpkg -l owltftpd | tail -n 1)"
[ ! -e "$R/usr/sbin/policy-rc.d" ] || fail "a policy-rc.d was left in the root"
snapshot > "$WORK/after.list"
left=$(comm -13 "$WORK/before.list" "$WORK/after.list")
lost=$(comm -23 "$WORK/before.list" "$WORK/after.list")
if [ -z "$left$lost" ]; then
	echo "deb: ok: purge left nothing: the root's files are those before the install"
else
	fail "purge left or removed files: left: $(echo $left) removed: $(echo $lost)"
fi
in_root getent passwd owltftpd > /dev/null &&
    echo "deb: ok: the owltftpd user is kept after purge (Debian policy)"

# ---------------------------------------------------------------- systemd
# The unit's sandbox, scored offline, then for real: systemd as PID 1 in
# a container (systemd-nspawn, its own network namespace, so the
# packaged configuration's port 69 is the container's) with the package
# installed again.  A container that cannot boot here skips this part
# (said below) rather than failing the test.

score=$(systemd-analyze security --offline=true \
    "$WORK/src/debian/owltftpd.service" 2>/dev/null |
    sed -n 's/^.*Overall exposure level for [^:]*: \([0-9.]*\).*$/\1/p')
if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'; then
	echo "deb: ok: systemd-analyze security --offline=true: $score (at most 2.0)"
elif [ -n "$score" ]; then
	fail "systemd-analyze security --offline=true: $score, above 2.0"
else
	echo "deb: systemd-analyze cannot score the unit here: not checked"
fi

UNIT_CHECK_SERVICE='[Unit]
Description=owltftpd package test (tests/package/unit-check.sh)
After=owltftpd.service multi-user.target

[Service]
Type=oneshot
ExecStart=/root/unit-check.sh
TimeoutStartSec=200

[Install]
WantedBy=multi-user.target'

unit_in_container() {
	local out
	[ -n "$R" ] && [ -d "$R/etc" ] || return 1
	out=$R/root/unit-check.out
	if ! command -v systemd-nspawn > /dev/null 2>&1 &&
	    ! apt-get install -y --no-install-recommends systemd-container \
	    > "$WORK/apt-nspawn.log" 2>&1; then
		echo "deb: SKIP (systemd part): no systemd-nspawn"
		return 0
	fi
	printf '#!/bin/sh\nexit 101\n' > "$R/usr/sbin/policy-rc.d"
	chmod 755 "$R/usr/sbin/policy-rc.d"
	cp "$DEB" "$R/tmp/"
	say "apt-get install systemd curl ./$(basename "$DEB") (for the container)"
	if ! in_root apt-get install -y --no-install-recommends systemd \
	    systemd-sysv curl "/tmp/$(basename "$DEB")" \
	    >> "$WORK/apt-root.log" 2>&1; then
		rm -f "$R/usr/sbin/policy-rc.d"
		tail -n 20 "$WORK/apt-root.log"
		fail "cannot install systemd and the package in the root"
		return 1
	fi
	rm -f "$R/usr/sbin/policy-rc.d" "$R/tmp/$(basename "$DEB")"
	install -m 755 "$SRC/tests/package/unit-check.sh" "$R/root/unit-check.sh"
	printf '%s\n' "$UNIT_CHECK_SERVICE" \
	    > "$R/etc/systemd/system/unit-check.service"
	ln -sf /etc/systemd/system/unit-check.service \
	    "$R/etc/systemd/system/multi-user.target.wants/unit-check.service"
	echo owltest > "$R/etc/hostname"
	umount "$R/proc" || return 1
	say "systemd-nspawn --boot --private-network"
	# --keep-unit --register=no: no system bus or machined here.
	timeout -k 10 240 systemd-nspawn -q -D "$R" --boot --private-network \
	    --keep-unit --register=no --console=pipe < /dev/null \
	    > "$WORK/nspawn.log" 2>&1
	mount --bind /proc "$R/proc"
	if [ ! -s "$out" ] || ! grep -q '^RESULT: ' "$out"; then
		tail -n 15 "$WORK/nspawn.log" | sed 's/^/deb:   | /'
		echo "deb: SKIP (systemd part): the container did not boot or" \
		    "run the check (log: $WORK/nspawn.log)"
		return 0
	fi
	grep -E '^(ok|BAD): |^RESULT: |Overall exposure' "$out" |
	    sed 's/^/deb:   unit: /'
	if grep -q '^RESULT: [0-9]* ok, 0 bad$' "$out"; then
		echo "deb: ok: the packaged unit under systemd ($(elapsed))"
	else
		grep -vE '^(ok|BAD|RESULT): ' "$out" | tail -n 40 |
		    sed 's/^/deb:   | /'
		fail "the packaged unit under systemd: $(grep '^RESULT' "$out")"
	fi
}
unit_in_container

say "$FAILS failed checks ($(elapsed))"
[ "$FAILS" -eq 0 ]
