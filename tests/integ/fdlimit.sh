#!/bin/bash
# fdlimit.sh -- the open files limit (RLIMIT_NOFILE).
#
# Started with soft 256 / hard 1024 and without CAP_SYS_RESOURCE, the
# master cannot raise the hard limit: it raises the soft one to the hard
# one, its workers inherit it, and one line at start says the limit in
# effect ("open files limit 1024 (wanted N)").
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"

need_cmd python3 prlimit

REAL_OWLTFTPD=$OWLTFTPD

# limited SOFT HARD: from now on start_server runs the daemon under
# these limits, without CAP_SYS_RESOURCE where setpriv can drop it (so
# root cannot raise the hard limit, as in a container).
limited() {
	local drop=
	if command -v setpriv > /dev/null 2>&1 &&
	    setpriv --bounding-set=-sys_resource true 2> /dev/null; then
		drop="setpriv --bounding-set=-sys_resource"
	fi
	cat > "$T/limited" <<EOF
#!/bin/sh
exec prlimit --nofile=$1:$2 $drop "$REAL_OWLTFTPD" "\$@"
EOF
	chmod 755 "$T/limited"
	OWLTFTPD=$T/limited
}

# nofile PID: "SOFT HARD" of the process's open files limit.
nofile() {
	awk '/^Max open files/ { print $4, $5 }' "/proc/$1/limits" 2>/dev/null
}

# has_sys_resource PID: the process may raise its hard limits.
has_sys_resource() {
	local eff
	eff=$(awk '$1 == "CapEff:" { print $2 }' "/proc/$1/status")
	[ $(((16#$eff >> 24) & 1)) -eq 1 ]
}

# ================================================================ raise
echo "=== soft 256, hard 1024: the soft limit goes up to the hard one"
# Two workers' shares of 2000 transfers want 2 * 1000 + 512.
WANT=2512
write_conf 'max_transfers = 2000' 'workers = 2' 'log_level = "info"'
limited 256 1024
start_server
read -r -a W <<< "$(workers 2 | tr '\n' ' ')"

check "the master and both workers run with 1024/1024"
if has_sys_resource "$SERVER_PID"; then
	# Cannot happen where setpriv works; then root may raise both.
	echo "note: CAP_SYS_RESOURCE could not be dropped; hard may rise"
	want_soft=$WANT
else
	want_soft=1024
fi
f0=$FAILS
for p in "$SERVER_PID" "${W[@]}"; do
	lim=$(nofile "$p")
	[ "${lim%% *}" = "$want_soft" ] ||
	    fail "pid $p: open files limit '$lim', want soft $want_soft"
done
[ ${#W[@]} -eq 2 ] || fail "${#W[@]} workers, want 2"
[ "$FAILS" -ne "$f0" ] || ok "soft $want_soft in master and workers"

check "one line at start says the limit in effect"
n=$(grep -ac "open files limit $want_soft (wanted $WANT)" "$LOG")
[ "$n" -eq 1 ] && ok "$(grep -a 'open files limit' "$LOG")" ||
    fail "$n lines 'open files limit $want_soft (wanted $WANT)';" \
	"log: $(grep -a 'open files' "$LOG")"

check "after a reload: the new workers have it too, and no second line"
kill -HUP "$SERVER_PID"
wait_for 10 _workers_gen_are 2 2 || fail "no generation 2 after SIGHUP"
f0=$FAILS
for p in $(ctl_workers | awk '$3 == 2 { print $2 }'); do
	lim=$(nofile "$p")
	[ "${lim%% *}" = "$want_soft" ] ||
	    fail "new worker $p: open files limit '$lim'"
done
n=$(grep -ac 'open files limit [0-9]* (wanted' "$LOG")
[ "$n" -eq 1 ] || fail "$n 'open files limit' lines after a reload"
[ "$FAILS" -ne "$f0" ] || ok
stop_server
OWLTFTPD=$REAL_OWLTFTPD

finish
