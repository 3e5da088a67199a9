#!/bin/bash
# stop.sh -- stopping the server.
# Graceful (SIGQUIT, owlctl stop graceful): 16 downloads in flight
# (paced clients, blksize 512, windowsize 1, ~5 s each) all complete
# byte-exact, a new request is not served, status says stopping=yes
# meanwhile, and the master exits 0 once they are done.  Fast (SIGTERM,
# owlctl stop, owlctl stop now): the master exits 0 within 3 s with
# downloads and an upload in flight, every client gets an ERROR at once
# (and a curl download fails), no upload temp file remains.  drain_timeout = 2 bounds a graceful stop and the
# retirement of a reloaded worker held up by a client that never ACKs.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"

need_cmd curl python3 cmp
py_resolve

BIG=262144		# 512 blocks of 512 bytes
DELAY=10		# ms before each ACK: a download takes >= 5 s
NLOAD=16
mkfile "$ROOT/big.bin" $BIG
mkfile "$ROOT/curl.bin" 20000000
mkfile "$ROOT/small.bin" 3000
mkfile "$T/upload.bin" 300000

# load N LABEL: N paced downloads of big.bin in the background into
# $OUT/LABEL-i (messages in $T/LABEL-i.err); pids in LOADPIDS.
load() {
	local i
	LOADPIDS=
	for i in $(seq 1 "$1"); do
		slow_get big.bin "$OUT/$2-$i" $DELAY > "$T/$2-$i.err" 2>&1 &
		LOADPIDS="$LOADPIDS $!"
	done
}

_live_ge() {
	[ "$(ctl -r transfers 2>/dev/null | grep -c '\.file=big\.bin$')" \
	    -ge "$1" ]
}

# in_flight N: wait until owlctl transfers lists N downloads of big.bin.
in_flight() {
	if wait_for 10 _live_ge "$1"; then
		ok "$1 downloads in flight"
	else
		fail "only $(ctl -r transfers | grep -c '\.file=big\.bin$')\
 of $1 downloads in flight"
	fi
}

# load_results N LABEL: wait for LOADPIDS; NOK complete and identical,
# NERR ended by an ERROR from the server, NFAIL failed otherwise, NDIFF
# corrupt.
load_results() {
	local p i=0 rc
	NOK=0
	NERR=0
	NFAIL=0
	NDIFF=0
	for p in $LOADPIDS; do
		i=$((i + 1))
		wait "$p"
		rc=$?
		if [ $rc -eq 1 ] && grep -q '^ERROR ' "$T/$2-$i.err"; then
			NERR=$((NERR + 1))
		elif [ $rc -ne 0 ]; then
			NFAIL=$((NFAIL + 1))
		elif cmp -s "$ROOT/big.bin" "$OUT/$2-$i"; then
			NOK=$((NOK + 1))
		else
			NDIFF=$((NDIFF + 1))
		fi
	done
}

# graceful HOW LABEL: a graceful stop by HOW (QUIT or owlctl) with
# NLOAD downloads in flight.
graceful() {
	local how=$1 label=$2 kids r rc t0
	write_conf
	start_server
	kids=$(workers 2)
	check "graceful stop ($how): $NLOAD paced downloads in flight"
	load $NLOAD "$label"
	in_flight $NLOAD
	check "graceful stop ($how): accepted, status says stopping=yes"
	t0=$(now_ms)
	if [ "$how" = QUIT ]; then
		kill -s QUIT "$SERVER_PID"
		ok "SIGQUIT sent"
	else
		r=$(ctl stop graceful)
		rc=$?
		[ $rc -eq 0 ] && [ "$(kv_get "$r" stopping)" = graceful ] &&
		    ok "owlctl stop graceful: $r" || fail "exit $rc: $r"
	fi
	_stopping() { [ "$(ctl_val stopping status)" = yes ]; }
	if wait_for 2 _stopping; then
		ok "status: stopping=yes"
	else
		fail "status: stopping=$(ctl_val stopping status)"
	fi
	check "graceful stop ($how): the master waits for the downloads"
	if alive && _live_ge $NLOAD; then
		ok "alive, all $NLOAD downloads still running"
	else
		fail "master alive: $(alive && echo yes || echo no), downloads\
 listed: $(ctl -r transfers | grep -c '\.file=big\.bin$')"
	fi
	check "graceful stop ($how): a new request is not served"
	probeq rrq small.bin octet --wait 1000
	if ! alive || ! _live_ge 1; then
		fail "the downloads ended before the probe was over: no test"
	elif [ "$REPLY" = NONE ] || [[ $REPLY == ERROR* ]]; then
		ok "reply: $REPLY"
	else
		fail "a request after the stop got '$REPLY'"
	fi
	check "graceful stop ($how): all $NLOAD downloads complete byte-exact"
	load_results $NLOAD "$label"
	[ $NOK -eq $NLOAD ] && ok "$NOK of $NLOAD identical" ||
	    fail "$NOK identical, $NERR got an ERROR ($(cat "$T/$label"-*.err |
	    grep -m1 ERROR)), $NFAIL failed, $NDIFF differ"
	check "graceful stop ($how): the master exits 0 once they are done"
	if wait_for 20 exited "$SERVER_PID"; then
		ok "exited $(($(now_ms) - t0)) ms after the stop"
	else
		fail "still running 20 s after the downloads ended"
	fi
	grep -aq 'graceful stop' "$LOG" || fail "no 'graceful stop' logged"
	grep -aq 'drain timeout\|killing them' "$LOG" &&
	    fail "cut short: $(grep -a 'drain timeout\|killing them' "$LOG")"
	stop_server QUIT
	for k in $kids; do
		exited "$k" || fail "worker $k still running"
	done
}

# fast HOW LABEL: a fast stop by HOW (TERM, "stop", "stop now") with
# downloads and an upload in flight.
fast() {
	local how=$1 label=$2 kids r rc t0 ms
	write_conf 'uploads = "create"' 'permission_check = false'
	start_server
	kids=$(workers 2)
	check "fast stop ($how): $NLOAD downloads and an upload in flight"
	load $NLOAD "$label"
	rawq put 127.0.0.1 "$PORT" "up-$label.bin" "$T/upload.bin" \
	    --stop-after 3 --opt timeout=30 > "$T/put.out" 2>&1 ||
	    fail "raw put: $(cat "$T/put.out")"
	in_flight $NLOAD
	[ -n "$(find "$ROOT" -name '.owltftpd.*')" ] ||
	    fail "no temp file for the upload in flight"
	curl_get curl.bin "$OUT/$label-curl" --tftp-blksize 512 \
	    > "$T/$label-curl.err" 2>&1 &
	CURLPID=$!
	_curl_live() { ctl -r transfers | grep -q '\.file=curl\.bin$'; }
	wait_for 5 _curl_live || fail "the curl download is not in flight"
	check "fast stop ($how): the master exits, no worker needs killing"
	STOP_LINE=$(wc -l < "$LOG")
	t0=$(now_ms)
	case $how in
	TERM)	kill -s TERM "$SERVER_PID" ;;
	*)	r=$(ctl $how)
		rc=$?
		[ $rc -eq 0 ] && [ "$(kv_get "$r" stopping)" = now ] ||
		    fail "owlctl $how: exit $rc: $r" ;;
	esac
	# A bound against a hang only: that the downloads were cut rather
	# than drained is checked below (every client got an ERROR).
	if wait_for 20 exited "$SERVER_PID"; then
		STOP_MS=$(($(now_ms) - t0))
		stopped_on_its_own
	else
		fail "still running 20 s after the stop"
	fi
	grep -aq 'fast stop' "$LOG" || fail "no 'fast stop' logged"
	stop_server TERM
	for k in $kids; do
		exited "$k" || fail "worker $k still running"
	done
	check "fast stop ($how): every client gets an ERROR at once, curl fails"
	load_results $NLOAD "$label"
	wait "$CURLPID"
	rc=$?
	ms=$(($(now_ms) - t0))
	[ $NERR -eq $NLOAD ] && [ $rc -ne 0 ] &&
	    ok "$NERR of $NLOAD: $(head -n 1 "$T/$label-1.err"); curl: exit\
 $rc $(tail -n 1 "$T/$label-curl.err"); all within $ms ms" ||
	    fail "$NERR of $NLOAD got an ERROR, $NFAIL failed otherwise\
 ($(head -n 1 "$T/$label-1.err")), $NOK completed; curl exit $rc; the\
 last ended $ms ms after the stop"
	check "fast stop ($how): no upload temp file left, nothing published"
	no_temp_files "$ROOT"
	[ ! -e "$ROOT/up-$label.bin" ] || fail "the cut upload was published"
}

graceful QUIT gq
graceful owlctl go
fast TERM ft
fast stop fs
fast "stop now" fn

# ---------------------------------------------------------------- drain_timeout
write_conf 'drain_timeout = 2'
start_server
# stall: an RRQ with timeout=30 answered with an OACK that the client
# never acknowledges: the transfer would live for minutes.
check "drain_timeout 2: a reloaded worker with a stalled client exits in ~2 s"
probeq rrq big.bin octet timeout=30 blksize=512 --keep
[[ $REPLY == OACK* ]] || fail "no OACK: $REPLY"
stalled=$(ctl -r transfers | sed -n 's/^transfer\.0\.pid=//p')
[ -n "$stalled" ] || fail "owlctl transfers does not list the stalled one"
t0=$(now_ms)
ctl reload > /dev/null || fail "owlctl reload failed"
if [ -n "$stalled" ] && wait_for 20 exited "$stalled"; then
	ms=$(($(now_ms) - t0))
	# Not before drain_timeout; how long after is the machine's business
	# (the log below says the drain timer ended it).
	[ $ms -ge 1500 ] &&
	    ok "the old worker $stalled exited after $ms ms" ||
	    fail "the old worker $stalled exited after $ms ms (want ~2000)"
else
	fail "the old worker $stalled still runs 20 s after the reload"
fi
wait_for_workers 2 2 3 || fail "workers: $(ctl_workers | tr '\n' ';')"
grep -aq 'drain timeout: ending 1 transfers' "$LOG" &&
    ok "log: $(grep -a 'drain timeout' "$LOG" | head -n 1)" ||
    fail "no 'drain timeout: ending 1 transfers' in the log"
grep -aq 'killing them' "$LOG" && fail "the master had to SIGKILL"

check "drain_timeout 2: a graceful stop with a stalled client ends in ~2 s"
probeq rrq big.bin octet timeout=30 blksize=512 --keep
[[ $REPLY == OACK* ]] || fail "no OACK: $REPLY"
kids=$(children_of "$SERVER_PID")
t0=$(now_ms)
kill -s QUIT "$SERVER_PID"
if wait_for 20 exited "$SERVER_PID"; then
	ms=$(($(now_ms) - t0))
	[ $ms -ge 1500 ] &&
	    ok "the master exited after $ms ms" ||
	    fail "the master exited after $ms ms (want ~2000)"
else
	fail "the master still runs 20 s after SIGQUIT"
fi
[ "$(grep -ac 'drain timeout: ending 1 transfers' "$LOG")" -eq 2 ] ||
    fail "no second 'drain timeout: ending 1 transfers' in the log"
grep -aq 'killing them' "$LOG" && fail "the master had to SIGKILL"
stop_server QUIT
for k in $kids; do
	exited "$k" || fail "worker $k still running"
done

finish
