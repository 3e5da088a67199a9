#!/bin/bash
# ctl.sh -- the control socket and owlctl: status keys; stats totals
# equal exactly what the test transferred (kv, json, prometheus, per
# worker sums); stats reset; workers; transfers shows a live transfer
# with its peer, file, op and options; version, help, errors and exit
# codes (0 ok, 1 error reply, 2 no server / usage); a second server on
# the same control socket or pid file refuses to start and leaves the
# first alone; stale files of a SIGKILLed master do not block a start;
# control_owner/group/mode decide who may connect (run as nobody); the
# Prometheus endpoint (metrics_listen); log_file reopened by owlctl
# reopen and SIGUSR1.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"

need_cmd curl python3
py_resolve

SIZES="1 511 512 513 70000 1048576"
for n in $SIZES; do
	mkfile "$ROOT/f$n.bin" "$n"
done
mkfile "$ROOT/big.bin" 1000000

# stall FILE OUTFILE: in the background, a client (rawtftp.py stall)
# that asks for FILE with blksize 1024 and windowsize 2, ACKs the OACK
# and the first window, then goes silent for up to 20 s (until
# $T/stall.stop exists), then sends ERROR 0.  It writes "port N" (its
# own) and "state ..." to OUTFILE.  Sets STALL_PID.
stall() {
	rm -f "$T/stall.stop"
	timeout -k 2 30 "$PYTHON_EXE" "$RAWTFTP" stall 127.0.0.1 "$PORT" "$1" \
	    --stop "$T/stall.stop" > "$2" 2>&1 &
	STALL_PID=$!
}

# as_nobody CMD...: run CMD as nobody:nogroup with no other groups.
as_nobody() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"
}

# ---------------------------------------------------------------- help
check "owlctl -h, --help, -V, --version: stdout, exit 0; a bad flag: stderr, exit 2"
f0=$FAILS
for a in -h --help; do
	out=$("$OWLCTL" $a 2>/dev/null) || fail "owlctl $a exited $?"
	printf '%s\n' "$out" | grep -q '^usage: owlctl' ||
	    fail "owlctl $a printed no usage on stdout"
	printf '%s\n' "$out" | grep -q 'reload' ||
	    fail "owlctl $a does not list the commands"
done
for a in -V --version; do
	out=$("$OWLCTL" $a 2>/dev/null) || fail "owlctl $a exited $?"
	printf '%s\n' "$out" | grep -qE '^owlctl [0-9]' ||
	    fail "owlctl $a printed '$out'"
done
out=$("$OWLCTL" --bogus 2>&1 >/dev/null)
rc=$?
[ $rc -eq 2 ] && printf '%s\n' "$out" | grep -q '^usage' ||
    fail "owlctl --bogus: exit $rc, stderr '$out'"
[ "$FAILS" -eq "$f0" ] && ok

check "owltftpd -h: every command-line setting with a one-line description"
out=$("$OWLTFTPD" -h 2>/dev/null)
rc=$?
f0=$FAILS
[ $rc -eq 0 ] || fail "exit $rc"
for flag in blksize-max group listen port root uploads user \
    windowsize-max workers; do
	printf '%s\n' "$out" | grep -qE "^  --$flag [A-Z].* [a-z]{3,}" ||
	    fail "no described --$flag line"
done
for flag in -c -F -t -V -v; do
	printf '%s\n' "$out" | grep -qE "^  $flag[ ,].* [a-z]{3,}" ||
	    fail "no described $flag line"
done
[ "$FAILS" -eq "$f0" ] && ok

write_conf
start_server
MASTER=$SERVER_PID

# ---------------------------------------------------------------- status
check "owlctl status: version, pid, generation, listen, workers"
st=$(ctl -r status)
rc=$?
echo "$st" | sed 's/^/    /'
want_version=$("$OWLTFTPD" -V | awk '{ print $2 }')
bad=
for kv in "version=$want_version" "pid=$MASTER" generation=1 reloads=0 \
    "listen.port=$PORT" "listen.0=127.0.0.1:$PORT" workers.configured=2 \
    workers.alive=2 stopping=no "config=$CONF"; do
	[ "$(kv_get "$st" "${kv%%=*}")" = "${kv#*=}" ] || bad="$bad $kv"
done
[ $rc -eq 0 ] && [ -z "$bad" ] && ok "status has all of them" ||
    fail "exit $rc; wrong or missing:$bad"
printf '%s\n' "$st" | grep -q '^reload\.error=' &&
    fail "reload.error without a reload"

check "owlctl version"
v=$(ctl version)
[ "$(kv_get "$v" version)" = "$want_version" ] &&
    [ "$(kv_get "$v" protocol)" = OWLCTL1 ] && ok "$(echo $v)" ||
    fail "got: $v"

check "owlctl help lists every command"
h=$(ctl help)
rc=$?
bad=
for c in help reload reopen stats status stop transfers version workers; do
	printf '%s\n' "$h" | grep -qE "^$c( |$)" || bad="$bad $c"
done
[ $rc -eq 0 ] && [ -z "$bad" ] && ok || fail "exit $rc; missing:$bad"

check "an unknown command: exit 1 and a message"
ctl no-such-command > "$T/o" 2> "$T/e"
rc=$?
[ $rc -eq 1 ] && grep -q 'unknown command' "$T/e" && ok "$(cat "$T/e")" ||
    fail "exit $rc: $(cat "$T/o" "$T/e")"
check "bad arguments: stats bogus, stop bogus -> exit 1, server stays"
ctl stats bogus > /dev/null 2>&1
rc1=$?
ctl stop bogus > /dev/null 2>&1
rc2=$?
sleep 0.2
[ $rc1 -eq 1 ] && [ $rc2 -eq 1 ] && alive && ok ||
    fail "stats bogus: $rc1, stop bogus: $rc2, alive: $(alive && echo y)"
check "no server at the socket: exit 2; no command: exit 2"
"$OWLCTL" -s "$T/no-such.sock" status > /dev/null 2> "$T/e"
rc1=$?
"$OWLCTL" -s "$CTL_SOCK" > /dev/null 2>&1
rc2=$?
[ $rc1 -eq 2 ] && [ $rc2 -eq 2 ] && ok "$(cat "$T/e")" ||
    fail "no socket: exit $rc1, no command: exit $rc2"

# ---------------------------------------------------------------- stats
check "owlctl stats: exact totals after downloads of known sizes"
N=0
SUM=0
BLOCKS=0
for n in $SIZES; do
	for k in 1 2; do
		rawq get 127.0.0.1 "$PORT" "f$n.bin" --expect "$ROOT/f$n.bin" \
		    > "$T/raw.out" 2>&1 || fail "get f$n.bin: $(cat "$T/raw.out")"
		N=$((N + 1))
		SUM=$((SUM + n))
		BLOCKS=$((BLOCKS + n / 512 + 1))
	done
done
probeq rrq no-such-file.bin octet
expect_reply 'ERROR 1*'
# want KEY=VALUE...: the kv totals in $S match; sets BAD.
want() {
	local kv
	BAD=
	for kv in "$@"; do
		[ "$(kv_get "$S" "total.${kv%%=*}")" = "${kv#*=}" ] ||
		    BAD="$BAD total.${kv%%=*}=$(kv_get "$S" \
			"total.${kv%%=*}") (want ${kv#*=});"
	done
	[ -z "$BAD" ]
}
_stats_are() {
	S=$(ctl stats) || return 1
	want "$@"
}
# _stats_exact RRQ OK SUM BLOCKS [KEY=VALUE...]: the totals count RRQ
# requests, OK complete downloads of SUM bytes in BLOCKS DATA packets
# (plain RRQs, blksize 512).  A loaded box may make the server resend:
# each resend is one more DATA (data_out = BLOCKS + retrans) of at most
# 512 bytes, so bytes_out is SUM exactly when retrans is 0.
_stats_exact() {
	local rrq=$1 okn=$2 sum=$3 blocks=$4 r b d u
	shift 4
	S=$(ctl stats) || return 1
	want "rrq=$rrq" "xfer_ok=$okn" "$@" || return 1
	r=$(kv_get "$S" total.retrans)
	b=$(kv_get "$S" total.bytes_out)
	d=$(kv_get "$S" total.data_out)
	u=$(kv_get "$S" total.data_dup)
	[ "$d" = $((blocks + r)) ] ||
	    BAD="$BAD total.data_out=$d (want $blocks + retrans $r);"
	# Each block once, the rest counted as duplicates, whatever the cause.
	[ "$d" = $((blocks + u)) ] ||
	    BAD="$BAD total.data_out=$d (want $blocks + data_dup $u);"
	if [ "$r" = 0 ]; then
		[ "$b" = "$sum" ] || BAD="$BAD total.bytes_out=$b (want $sum);"
	elif [ "$b" -lt "$sum" ] || [ "$b" -gt $((sum + 512 * r)) ]; then
		BAD="$BAD total.bytes_out=$b (want $sum + <= 512 x $r resent);"
	fi
	[ -z "$BAD" ]
}
if wait_for 3 _stats_exact $((N + 1)) $N $SUM $BLOCKS errors_sent=1 \
    error_sent_not_found=1 wrq=0 xfer_failed=0 bytes_in=0 opt_blksize=0; then
	ok "rrq=$((N + 1)) xfer_ok=$N bytes_out=$(kv_get "$S" \
	    total.bytes_out) (files: $SUM) data_out=$(kv_get "$S" \
	    total.data_out) retrans=$(kv_get "$S" total.retrans) errors_sent=1"
else
	fail "$BAD"
fi
SUMX=$(kv_get "$S" total.bytes_out)	# as counted, resends included
check "stats: the workers' rrq and bytes_out add up to the totals"
wsum=$(printf '%s\n' "$S" | awk -F= '
    /^worker\.[0-9]+\.rrq=/ { r += $2 } /^worker\.[0-9]+\.bytes_out=/ { b += $2 }
    END { print r + 0, b + 0 }')
nw=$(printf '%s\n' "$S" | grep -c '^worker\.[0-9]*\.pid=')
[ "$wsum" = "$((N + 1)) $SUMX" ] && [ "$nw" -eq 2 ] &&
    ok "2 workers, sums $wsum" || fail "$nw workers, sums $wsum"

check "stats json is valid JSON with the same totals"
ctl stats json > "$T/stats.json"
rc=$?
if [ $rc -eq 0 ] && python3 -m json.tool "$T/stats.json" > /dev/null 2>&1; then
	j=$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
t = d["total"]
print(t["rrq"], t["bytes_out"], t["xfer_ok"], len(d["workers"]),
      sum(w["stats"]["rrq"] for w in d["workers"]), d["generation"])' \
	    "$T/stats.json" 2>&1)
	[ "$j" = "$((N + 1)) $SUMX $N 2 $((N + 1)) 1" ] &&
	    ok "rrq bytes_out xfer_ok workers sum(rrq) generation: $j" ||
	    fail "json says '$j', want '$((N + 1)) $SUMX $N 2 $((N + 1)) 1'"
else
	fail "exit $rc, not JSON: $(head -c 300 "$T/stats.json")"
fi

check "stats prometheus: owltftpd_rrq_total and per-worker samples"
ctl stats prometheus > "$T/prom"
rc=$?
tot=$(awk '$1 == "owltftpd_rrq_total" { print $2 }' "$T/prom")
wsum=$(awk '$1 ~ /^owltftpd_worker_rrq_total\{/ { s += $2; n++ }
    END { print n + 0, s + 0 }' "$T/prom")
btot=$(awk '$1 == "owltftpd_bytes_out_total" { print $2 }' "$T/prom")
[ $rc -eq 0 ] && [ "$tot" = $((N + 1)) ] && [ "$wsum" = "2 $((N + 1))" ] &&
    [ "$btot" = "$SUMX" ] &&
    grep -q '^# TYPE owltftpd_rrq_total counter$' "$T/prom" &&
    ok "owltftpd_rrq_total $tot; 2 worker samples summing to ${wsum#* }" ||
    fail "exit $rc, total '$tot', worker samples/sum '$wsum', bytes '$btot'"

check "stats reset (after a stats): totals 0, later counts from there"
rawq get 127.0.0.1 "$PORT" f511.bin > /dev/null 2>&1 || fail "get f511.bin"
wait_for 3 _stats_are rrq=$((N + 2)) || fail "before the reset:$BAD"
r=$(ctl stats reset)
rc=$?
[ $rc -eq 0 ] && [ "$(kv_get "$r" reset)" = yes ] || fail "exit $rc: $r"
S=$(ctl stats)
want rrq=0 bytes_out=0 xfer_ok=0 errors_sent=0 data_out=0 ||
    fail "after the reset:$BAD"
rawq get 127.0.0.1 "$PORT" f513.bin > /dev/null 2>&1 || fail "get f513.bin"
wait_for 3 _stats_exact 1 1 513 2 &&
    ok "0 after the reset, then rrq=1 bytes_out=513" ||
    fail "after one download of 513 bytes:$BAD"

# ---------------------------------------------------------------- workers
check "owlctl -r workers: slot, pid, generation, state for each"
ws=$(ctl_workers)
kids=$(children_of "$MASTER" | sort -n | tr '\n' ' ')
got=$(echo "$ws" | awk '{ print $2 }' | sort -n | tr '\n' ' ')
slots=$(echo "$ws" | awk '{ print $1 }' | sort -n | tr '\n' ' ')
bad=$(echo "$ws" | awk '$3 != 1 || $4 != "running"')
[ "$got" = "$kids" ] && [ "$slots" = "0 1 " ] && [ -z "$bad" ] &&
    ok "$(echo "$ws" | tr '\n' ';')" ||
    fail "workers '$(echo "$ws" | tr '\n' ';')', children of the master: $kids"
raw_w=$(ctl -r workers)
for k in uptime active; do
	[ "$(printf '%s\n' "$raw_w" | grep -cE "^worker\.[0-9]+\.$k=[0-9]+$")" \
	    -eq 2 ] || fail "no numeric worker.N.$k for each worker"
done
[ "$(kv_get "$raw_w" workers)" = 2 ] || fail "workers=$(kv_get "$raw_w" workers)"
check "owlctl workers (human): a header and a row per worker"
hw=$(ctl workers)
printf '%s\n' "$hw" | grep -qE '^slot[[:space:]]+pid[[:space:]]+generation' &&
    [ "$(printf '%s\n' "$hw" | grep -cE '^[01][[:space:]]+[0-9]+[[:space:]]+1[[:space:]]')" \
    -eq 2 ] && ok || fail "got: $hw"

# ---------------------------------------------------------------- transfers
check "owlctl transfers shows a live transfer: peer, file, op, options"
stall big.bin "$T/stall.out"
_stalled() { grep -q '^state stalled' "$T/stall.out"; }
wait_for 5 _stalled || fail "the stalling client did not start: $(cat \
    "$T/stall.out")"
cport=$(sed -n 's/^port //p' "$T/stall.out")
x=$(ctl -r transfers)
rc=$?
echo "$x" | sed 's/^/    /'
bad=
for kv in transfers=1 "transfer.0.peer=127.0.0.1:$cport" \
    transfer.0.file=big.bin transfer.0.op=rrq transfer.0.blksize=1024 \
    transfer.0.windowsize=2 transfer.0.total=1000000 \
    transfer.0.state=sending; do
	[ "$(kv_get "$x" "${kv%%=*}")" = "${kv#*=}" ] || bad="$bad $kv"
done
b=$(kv_get "$x" transfer.0.bytes)
[ -n "$b" ] && [ "$b" -ge 2048 ] && [ "$b" -le 4096 ] ||
    bad="$bad bytes=$b (want 2048..4096)"
pid=$(kv_get "$x" transfer.0.pid)
children_of "$MASTER" | grep -qx "$pid" || bad="$bad pid=$pid (no worker)"
[ $rc -eq 0 ] && [ -z "$bad" ] && ok || fail "exit $rc; wrong or missing:$bad"
check "owlctl status and workers count the live transfer (within 3 s)"
_active_is() {
	[ "$(ctl_val transfers.active status)" = 1 ] &&
	    [ "$(ctl -r workers | grep -c '^worker\.[0-9]*\.active=1$')" = 1 ]
}
wait_for 3 _active_is || fail "status: transfers.active=$(ctl_val \
    transfers.active status); workers: $(ctl -r workers | grep active)"
touch "$T/stall.stop"
wait "$STALL_PID"
_no_xfers() { [ "$(ctl_val transfers transfers)" = 0 ]; }
wait_for 3 _no_xfers && ok "and it is gone once the client ends it" ||
    fail "transfers: $(ctl -r transfers | tr '\n' ' ')"

check "prometheus: stats reset does not touch it; a reload keeps one series per slot, none goes back"
# prom_rrq: "TOTAL SLOT0 SLOT1 NSERIES" of owltftpd_*rrq_total.
prom_rrq() {
	ctl stats prometheus 2>/dev/null | awk '
	    $1 == "owltftpd_rrq_total" { t = $2 }
	    $1 ~ /^owltftpd_worker_rrq_total\{/ { n++; v[$1] = $2 }
	    END { print t + 0, v["owltftpd_worker_rrq_total{slot=\"0\"}"] + 0,
		v["owltftpd_worker_rrq_total{slot=\"1\"}"] + 0, n + 0 }'
}
f0=$FAILS
# The reset above was taken at N + 2 requests: Prometheus still counts
# them, owlctl stats does not.
_prom_kept() {
	P0=$(prom_rrq)
	K=$(ctl_val total.rrq stats)
	[ -n "$K" ] && [ "${P0%% *}" = $((K + N + 2)) ]
}
wait_for 3 _prom_kept || fail "owltftpd_rrq_total ${P0%% *}, owlctl" \
    "stats total.rrq $K: want the $((N + 2)) requests before the reset" \
    "still counted in Prometheus"
ctl stats prometheus | grep -q 'pid=\|generation=' &&
    fail "per-worker series still carry pid or generation labels"
ctl reload > /dev/null || fail "owlctl reload failed"
wait_for_workers 2 2 10 || fail "workers: $(ctl_workers | tr '\n' ';')"
rawq get 127.0.0.1 "$PORT" f1.bin > /dev/null 2>&1 || fail "get f1.bin"
_prom_after() {
	P1=$(prom_rrq)
	set -- $P0 $P1
	[ "$5" = $(($1 + 1)) ] && [ "$6" -ge "$2" ] && [ "$7" -ge "$3" ] &&
	    [ "$8" = 2 ] && [ $(($6 + $7)) = "$5" ]
}
wait_for 5 _prom_after ||
    fail "before the reload '$P0', after it and one more download '$P1'" \
    "(total slot0 slot1 series): want total +1, slots never lower," \
    "2 series adding up to the total"
[ "$FAILS" -eq "$f0" ] && ok "before '$P0', after '$P1'"

# ---------------------------------------------------------------- second server
check "a second server on the same control socket refuses to start"
write_conf "pid_file = \"$T/second.pid\""
timeout -k 2 10 "$OWLTFTPD" -F -c "$CONF" > "$T/second.log" 2>&1 < /dev/null
rc=$?
grep -q 'listening on' "$T/second.log" && echo "    (it bound a port first)"
if [ $rc -ne 0 ] && [ $rc -ne 124 ] &&
    grep -qiE "control socket.*$(re_escape "$CTL_SOCK").*(another|running)" \
    "$T/second.log"; then
	ok "exit $rc: $(grep -iE 'control socket' "$T/second.log" | head -n 1)"
else
	fail "exit $rc: $(cat "$T/second.log")"
fi
check "the first server keeps its socket and pid file"
[ "$(ctl_val pid status)" = "$MASTER" ] &&
    [ "$(cat "$T/owltftpd.pid")" = "$MASTER" ] && alive &&
    ok || fail "status pid $(ctl_val pid status), pid file $(cat \
    "$T/owltftpd.pid"), master $MASTER"
[ -e "$T/second.pid" ] && fail "the refused server left $T/second.pid"

check "a second server on the same pid file refuses to start"
write_conf "control_socket = \"$T/second.sock\""
timeout -k 2 10 "$OWLTFTPD" -F -c "$CONF" > "$T/second.log" 2>&1 < /dev/null
rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 124 ] &&
    grep -qE "pid $MASTER.*$(re_escape "$T/owltftpd.pid")|$(re_escape \
    "$T/owltftpd.pid").*$MASTER" "$T/second.log"; then
	ok "exit $rc: $(head -n 1 "$T/second.log")"
else
	fail "exit $rc: $(cat "$T/second.log")"
fi
[ "$(cat "$T/owltftpd.pid")" = "$MASTER" ] && [ ! -e "$T/second.sock" ] &&
    [ "$(ctl_val pid status)" = "$MASTER" ] ||
    fail "pid file '$(cat "$T/owltftpd.pid")', second.sock exists:" \
    "$([ -e "$T/second.sock" ] && echo yes || echo no)"

# ---------------------------------------------------------------- stale files
check "SIGKILL the master: its workers go, the pid file and socket stay"
WK=$(children_of "$MASTER")
kill -s KILL "$MASTER"
{ wait "$MASTER"; } 2>/dev/null
SERVER_PID=
for w in $WK; do
	wait_for 15 exited "$w" || { fail "worker $w still running"; \
	    kill -s KILL "$w"; }
done
[ -e "$T/owltftpd.pid" ] && [ -S "$CTL_SOCK" ] &&
    ok "workers gone; stale pid file and socket present" ||
    fail "stale files missing (pid file: $(ls "$T"))"
check "the stale pid file and socket do not block a new start"
write_conf
start_server
MASTER=$SERVER_PID
[ "$(ctl_val pid status)" = "$MASTER" ] &&
    [ "$(cat "$T/owltftpd.pid")" = "$MASTER" ] && ok "new master $MASTER" ||
    fail "status pid $(ctl_val pid status), pid file $(cat \
    "$T/owltftpd.pid")"
rawq get 127.0.0.1 "$PORT" f513.bin --expect "$ROOT/f513.bin" > /dev/null ||
    fail "download from the new server failed"

stop_server
check "a clean stop removes the pid file and the socket"
[ ! -e "$T/owltftpd.pid" ] && [ ! -e "$CTL_SOCK" ] && ok ||
    fail "left: $(ls "$T")"

# ---------------------------------------------------------------- permissions
# perm_case MODE GROUP WANT: start with control_mode MODE and
# control_group GROUP; nobody's owlctl status must exit WANT.
perm_case() {
	local st rc
	check "control_mode $1, control_group $2: nobody's owlctl exits $3"
	write_conf "control_mode = \"$1\"" "control_group = \"$2\""
	start_server
	st=$(stat -c '%U %G %a' "$CTL_SOCK")
	[ "$st" = "root $2 $1" ] || fail "socket is '$st', want 'root $2 $1'"
	as_nobody timeout -k 2 10 "$NOBODY_OWLCTL" -s "$CTL_SOCK" status \
	    > "$T/o" 2> "$T/e"
	rc=$?
	if [ $rc -eq "$3" ]; then
		ok "exit $rc $(head -n 1 "$T/e")"
	else
		fail "exit $rc (want $3): $(cat "$T/e" "$T/o" | head -n 3)"
	fi
	ctl status > /dev/null || fail "root cannot connect"
	stop_server
}
# nobody runs a copy of owlctl in $T: the build tree may sit where only
# root can enter (a clone under /root).
NOBODY_OWLCTL=$T/owlctl
cp "$OWLCTL" "$NOBODY_OWLCTL" && chmod 755 "$NOBODY_OWLCTL" || exit 99
if [ "$(id -u)" -ne 0 ] || ! command -v setpriv > /dev/null 2>&1; then
	echo "    skipping the permission checks: not root or no setpriv"
elif ! as_nobody test -x "$NOBODY_OWLCTL"; then
	echo "    skipping the permission checks: nobody cannot run" \
	    "$NOBODY_OWLCTL"
else
	perm_case 600 root 2
	perm_case 660 root 2
	perm_case 660 nogroup 0
	perm_case 666 root 0
fi

# ---------------------------------------------------------------- metrics
check "metrics_listen 127.0.0.1:0: the port is logged; /metrics is 200"
write_conf 'metrics_listen = "127.0.0.1:0"' 'stats_interval_ms = 200'
start_server
MPORT=$(sed -n 's/.*metrics on [^,]*, port \([0-9]*\).*/\1/p' "$LOG" |
    head -n 1)
[ -n "$MPORT" ] && [ "$MPORT" != 0 ] && ok "port $MPORT" ||
    die "no 'metrics on ..., port N' line"
for n in 1 513 70000; do
	rawq get 127.0.0.1 "$PORT" "f$n.bin" > /dev/null 2>&1 ||
	    fail "get f$n.bin"
done
# _metrics_say RRQ BYTES: /metrics answers 200 with those totals (BYTES
# plus at most 512 per resend, owltftpd_retrans_total).
_metrics_say() {
	local b r
	code=$(tmo curl -s -o "$T/metrics" -w '%{http_code}' \
	    "http://127.0.0.1:$MPORT/metrics")
	b=$(awk '$1 == "owltftpd_bytes_out_total" { print $2 }' "$T/metrics")
	r=$(awk '$1 == "owltftpd_retrans_total" { print $2 }' "$T/metrics")
	[ "$code" = 200 ] && grep -qx "owltftpd_rrq_total $1" "$T/metrics" &&
	    [ -n "$b" ] && [ -n "$r" ] && [ "$b" -ge "$2" ] &&
	    [ "$b" -le $(($2 + 512 * r)) ]
}
if wait_for 3 _metrics_say 3 70514; then
	ok "200, owltftpd_rrq_total 3, owltftpd_bytes_out_total $(awk \
	    '$1 == "owltftpd_bytes_out_total" { print $2 }' "$T/metrics")\
 (files: 70514)"
else
	fail "HTTP $code; $(grep -E '^owltftpd_(rrq|bytes_out)_total ' \
	    "$T/metrics")"
fi
check "/metrics: per-worker samples add up; another path is 404"
wsum=$(awk '$1 ~ /^owltftpd_worker_rrq_total\{/ { s += $2 } END { print s + 0 }' \
    "$T/metrics")
[ "$wsum" = 3 ] || fail "worker samples sum to $wsum"
code=$(tmo curl -s -o /dev/null -w '%{http_code}' \
    "http://127.0.0.1:$MPORT/other")
[ "$code" = 404 ] && ok "/other: $code" || fail "/other: HTTP $code"
stop_server

# ---------------------------------------------------------------- log_file
check "log_file: lines go to the file"
OWLLOG=$T/owl.log
write_conf "log_file = \"$OWLLOG\""
start_server
rawq get 127.0.0.1 "$PORT" f1.bin > /dev/null 2>&1 || fail "get f1.bin"
_in_log() { grep -aq "$1" "$2" 2>/dev/null; }
wait_for 3 _in_log 'xfer end.*file=f1\.bin' "$OWLLOG" &&
    ok "xfer end line in $OWLLOG" || fail "not in $OWLLOG: $(cat "$OWLLOG")"

# reopen_case HOW: move the log away, reopen with HOW, check old and new.
reopen_case() {
	local moved=$OWLLOG.$1 f=f$2.bin
	check "log_file: moved away, reopened by $1: new lines in a new file"
	mv "$OWLLOG" "$moved"
	if [ "$1" = owlctl ]; then
		ctl reopen > /dev/null || fail "owlctl reopen failed"
	else
		kill -s USR1 "$SERVER_PID"
	fi
	if ! wait_for 3 _in_log 'log files reopened' "$OWLLOG"; then
		fail "no new $OWLLOG with 'log files reopened'"
		return
	fi
	sleep 0.3	# the workers reopen on their channel message
	rawq get 127.0.0.1 "$PORT" "$f" > /dev/null 2>&1 || fail "get $f"
	if wait_for 3 _in_log "xfer end.*file=$f" "$OWLLOG" &&
	    ! grep -aq "file=$f" "$moved"; then
		ok "the download of $f is logged in the new $OWLLOG only"
	else
		fail "new file: $(grep -ac "file=$f" "$OWLLOG") lines," \
		    "moved file: $(grep -ac "file=$f" "$moved") lines"
	fi
}
reopen_case owlctl 511
reopen_case SIGUSR1 513
# Both workers must have reopened: one download per source port until
# each worker has logged one.
check "log_file: every worker writes to the new file"
for _ in $(seq 1 12); do
	rawq get 127.0.0.1 "$PORT" f512.bin > /dev/null 2>&1 || fail "get f512"
done
sleep 0.3
nw=$(grep -a 'xfer end.*file=f512\.bin' "$OWLLOG" |
    sed -n 's/.*owltftpd\[\([0-9]*\)\]: worker.*/\1/p' | sort -u | wc -l)
nold=$(cat "$OWLLOG".owlctl "$OWLLOG".SIGUSR1 | grep -ac 'file=f512\.bin')
[ "$nold" -eq 0 ] && [ "$nw" -eq 2 ] &&
    ok "12 downloads logged by 2 workers in the new file" ||
    fail "$nold lines went to a moved file; $nw workers in the new one"
stop_server

# ---------------------------------------------------------------- reset race
# The workers report every stats_interval_ms; with a long interval the
# master's cache is old, and a reset must still count everything done
# before it.
check "stats_interval_ms 60000: stats reset right after downloads: totals 0"
write_conf 'stats_interval_ms = 60000'
start_server
S=$(ctl stats)
for n in 512 513; do
	rawq get 127.0.0.1 "$PORT" "f$n.bin" > /dev/null 2>&1 ||
	    fail "get f$n.bin"
done
sleep 0.2	# the last ACK has reached the worker
r=$(ctl stats reset)
rc=$?
[ $rc -eq 0 ] && [ "$(kv_get "$r" reset)" = yes ] || fail "exit $rc: $r"
S=$(ctl stats)
want rrq=0 bytes_out=0 xfer_ok=0 errors_sent=0 && ok "all zero" ||
    fail "after the reset:$BAD (the downloads before the reset count)"
check "stats_interval_ms 60000: later counts start from the reset"
for n in 70000 1; do
	rawq get 127.0.0.1 "$PORT" "f$n.bin" > /dev/null 2>&1 ||
	    fail "get f$n.bin"
done
if wait_for 3 _stats_exact 2 2 70001 $((70000 / 512 + 1 + 1)); then
	ok "then rrq=2 bytes_out=70001 xfer_ok=2"
else
	fail "after 2 downloads (70001 bytes):$BAD"
fi
stop_server

finish
