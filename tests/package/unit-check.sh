#!/bin/bash
# unit-check.sh -- run by deb.sh inside a systemd-nspawn container (its
# own network namespace, systemd as PID 1) where the package is
# installed: the packaged, sandboxed owltftpd.service must start (with
# its ExecStartPre check), serve on port 69, log to the journal through
# syslog, serve metrics, reload synchronously and report a reload that
# cannot work, take uploads where the owltftpd user may write, stop with
# nothing left; and the README.Debian drop-in that runs the master as
# root must serve from a chroot.  Results: /root/unit-check.out, last
# line "RESULT: N ok, M bad"; the container powers off at the end.
exec > /root/unit-check.out 2>&1
trap 'echo "RESULT: $nok ok, $nbad bad"; systemctl poweroff --no-block' EXIT
nok=0 nbad=0
ok() { echo "ok: $*"; nok=$((nok + 1)); }
bad() { echo "BAD: $*"; nbad=$((nbad + 1)); }
conf=/etc/owltftpd/owltftpd.conf
cp "$conf" /root/conf.orig

# field KEY PID: a line of /proc/PID/status.
field() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$2/status"; }
owl_uid=$(id -u owltftpd)
# fetch NAME [CURL-OPTION...]: download NAME from port 69, compare.
fetch() {
	local name=$1
	shift
	rm -f /tmp/got
	curl -s --max-time 20 "$@" -o /tmp/got "tftp://127.0.0.1/$name" &&
	    cmp -s /tmp/got "/srv/tftp/$name"
}
journal_has() {
	journalctl -q -u owltftpd --no-pager | grep -q -- "$1"
}

echo "hello from the packaged unit" > /srv/tftp/hello.txt
head -c 4194304 /dev/urandom > /srv/tftp/big.bin

# ---- started at boot, with the packaged configuration
if systemctl is-active -q owltftpd; then
	ok "started at boot (enabled by the package)"
else
	systemctl status owltftpd --no-pager
	bad "not active after boot"
	systemctl start owltftpd
fi
main=$(systemctl show -p MainPID --value owltftpd)
[ -n "$main" ] && [ "$main" = "$(cat /run/owltftpd/owltftpd.pid 2>/dev/null)" ] &&
    ok "MainPID $main is the pid file's" || bad "MainPID '$main' vs the pid file"
grep -E '^(Uid|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' "/proc/$main/status"
[ "$(field Uid "$main")" = "$owl_uid" ] && ok "master runs as owltftpd" ||
    bad "master uid $(field Uid "$main")"
[ "$(field CapEff "$main")" = 0000000000000400 ] &&
    [ "$(field CapBnd "$main")" = 0000000000000400 ] &&
    ok "capabilities: CAP_NET_BIND_SERVICE only" || bad "capabilities"
[ "$(field NoNewPrivs "$main")" = 1 ] && [ "$(field Seccomp "$main")" = 2 ] &&
    ok "no_new_privs and a seccomp filter" || bad "no_new_privs/seccomp"
n=0
for w in $(cat "/proc/$main/task/$main/children"); do
	[ "$(field Uid "$w")" = "$owl_uid" ] && n=$((n + 1))
done
[ "$n" -ge 1 ] && ok "$n workers as owltftpd" || bad "no workers"
fetch hello.txt && ok "curl from port 69" || bad "curl from port 69"
fetch big.bin --tftp-blksize 8192 && ok "4 MiB at blksize 8192" ||
    bad "4 MiB at blksize 8192"
# Syslog after the master detached (PrivateDevices= keeps /dev/log).
sleep 0.5
journal_has 'started [0-9]* workers' && ok "syslog reaches the journal" ||
    bad "no 'started N workers' in the journal"
owlctl status > /dev/null && ok "owlctl status (root)" || bad "owlctl status"

# ---- log and audit files, metrics (these take a restart), uploads
# (a reload)
cat >> "$conf" <<'EOF'
log_file = "/var/log/owltftpd/owltftpd.log";
audit_file = "/var/log/owltftpd/audit.log";
metrics_listen = "127.0.0.1:9169";
EOF
systemctl restart owltftpd && ok "systemctl restart" || bad "systemctl restart"
main=$(systemctl show -p MainPID --value owltftpd)
mkdir -p /srv/tftp/incoming && chown owltftpd:owltftpd /srv/tftp/incoming
echo 'uploads = "create";' >> "$conf"
systemctl reload owltftpd && ok "systemctl reload" || bad "systemctl reload"
[ "$(owlctl -r status | sed -n 's/^generation=//p')" = 2 ] &&
    ok "generation 2" || bad "generation $(owlctl -r status | grep generation)"
fetch hello.txt && ok "served after the reload" || bad "not served after the reload"
curl -s --max-time 10 http://127.0.0.1:9169/metrics | grep -q . &&
    ok "metrics over HTTP" || bad "metrics"
echo "uploaded through the sandbox" > /tmp/up.txt
curl -s --max-time 20 -T /tmp/up.txt tftp://127.0.0.1/incoming/up.txt &&
    cmp -s /tmp/up.txt /srv/tftp/incoming/up.txt &&
    ok "upload into /srv/tftp/incoming" || bad "upload"
curl -s --max-time 20 -T /tmp/up.txt tftp://127.0.0.1/up.txt
[ ! -e /srv/tftp/up.txt ] && ok "no upload into root-owned /srv/tftp" ||
    bad "uploaded into /srv/tftp"
[ -s /var/log/owltftpd/owltftpd.log ] && [ -s /var/log/owltftpd/audit.log ] &&
    ok "log_file and audit_file in /var/log/owltftpd" || bad "log files"
ls -la /run/owltftpd /var/log/owltftpd /srv/tftp/incoming
cp "$conf" /root/conf.good
echo 'workers = ;' >> "$conf"
systemctl reload owltftpd && bad "a broken config reloaded" ||
    ok "a broken config: systemctl reload fails"
cp /root/conf.good "$conf"
echo 'root = "/srv/nowhere";' >> "$conf"
systemctl reload owltftpd && bad "a missing root reloaded" ||
    ok "a missing root: systemctl reload fails"
journal_has 'root: /srv/nowhere: No such file' && ok "the reason is in the journal" ||
    bad "no reason in the journal"
cp /root/conf.good "$conf"
systemctl is-active -q owltftpd && fetch hello.txt &&
    ok "still serving after the failed reloads" || bad "not serving"

# ---- stop
ws=$(cat "/proc/$main/task/$main/children")
systemctl stop owltftpd && ok "systemctl stop" || bad "systemctl stop"
left=
for p in $main $ws; do [ -d "/proc/$p" ] && left="$left $p"; done
[ -z "$left" ] && [ ! -e /run/owltftpd/owltftpd.pid ] &&
    ok "master and workers gone, pid file removed" || bad "left:$left"

# ---- chroot with the root-master drop-in of README.Debian
mkdir -p /etc/systemd/system/owltftpd.service.d
# The drop-in as README.Debian gives it (its indented [Service] block
# that names CAP_SYS_CHROOT).
awk -v RS= '/^    \[Service\]/ && /CAP_SYS_CHROOT/' \
    /usr/share/doc/owltftpd/README.Debian | sed 's/^    //' \
    > /etc/systemd/system/owltftpd.service.d/root.conf
cat /etc/systemd/system/owltftpd.service.d/root.conf
grep -q '^User=$' /etc/systemd/system/owltftpd.service.d/root.conf &&
    ok "the drop-in from README.Debian" || bad "no drop-in in README.Debian"
systemctl daemon-reload
echo 'chroot = true;' >> "$conf"
systemctl start owltftpd && ok "root master, chroot = true: start" ||
    bad "root master: start"
main=$(systemctl show -p MainPID --value owltftpd)
[ "$(field Uid "$main")" = 0 ] && ok "master runs as root" || bad "master uid"
n=0
for w in $(cat "/proc/$main/task/$main/children"); do
	[ "$(field Uid "$w")" = "$owl_uid" ] &&
	    [ "$(readlink "/proc/$w/root")" = /srv/tftp ] && n=$((n + 1))
done
[ "$n" -ge 1 ] && ok "$n workers as owltftpd, chrooted to /srv/tftp" ||
    bad "workers not chrooted as owltftpd"
fetch hello.txt && ok "chroot: served" || bad "chroot: not served"
curl -s --max-time 20 -T /tmp/up.txt tftp://127.0.0.1/incoming/up2.txt &&
    cmp -s /tmp/up.txt /srv/tftp/incoming/up2.txt && ok "chroot: upload" ||
    bad "chroot: upload"
systemctl reload owltftpd && ok "chroot: reload" || bad "chroot: reload"
systemd-analyze security owltftpd --no-pager | tail -n 1
systemctl stop owltftpd && ok "chroot: stop" || bad "chroot: stop"
rm -r /etc/systemd/system/owltftpd.service.d
systemctl daemon-reload
systemd-analyze security owltftpd --no-pager | tail -n 1
journalctl -q -u owltftpd --no-pager | tail -n 30
