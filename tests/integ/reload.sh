#!/bin/bash
# reload.sh -- reload without dropping transfers.
# (a) 104 curl downloads of a 4 MiB file at blksize 512 (lock-step, so
#     they take seconds) are in flight (seen in owlctl transfers) when
#     "owlctl reload" switches to a config with another root and
#     blksize_max = 1024: every download completes byte-exact; a request
#     after the reload gets OACK blksize=1024 and files of the new root
#     only; status says generation 2; the old workers drain and exit
#     (owlctl workers ends with generation 2 only).  SIGHUP does the same
#     with 24 downloads in flight (generation 3, blksize_max = 1400).
# (b) a config with an unknown key: owlctl reload exits 1 naming
#     FILE:LINE, the server keeps the old config and workers, status
#     shows reload.error; a syntax error through SIGHUP likewise; a good
#     config then reloads and clears reload.error.
# (c) owlctl stats totals never go back across a reload and equal
#     exactly what the test transferred (rrq, xfer_ok, bytes_out,
#     errors sent), old generations' counters included.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# 104 lock-step 4 MiB downloads at once on 2 cores, and a datagram lost
# to a full socket buffer costs curl's negotiated timeout (6 s, which the
# server keeps, RFC 2349): on a loaded machine they have taken 30 s.
CLIENT_TIMEOUT=${CLIENT_TIMEOUT:-90}
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"

need_cmd curl python3 cmp
py_resolve

NLOAD=104		# downloads in flight at the owlctl reload
NHUP=24			# downloads in flight at the SIGHUP
BIG=4194304		# 4 MiB: 8192 lock-step blocks, seconds per download
ROOT2=$T/root2
ROOT3=$T/root3
mkdir "$ROOT2" "$ROOT3" && chmod 755 "$ROOT2" "$ROOT3" || exit 99
mkfile "$ROOT/big.bin" $BIG
cp "$ROOT/big.bin" "$ROOT2/big.bin"
printf 'old root\n' > "$ROOT/which.txt"
printf 'new root\n' > "$ROOT2/which.txt"
printf 'third root\n' > "$ROOT3/which.txt"
mkfile "$ROOT/old-only.bin" 3000
mkfile "$ROOT2/new-only.bin" 70000
mkfile "$ROOT3/third.bin" 30000

# What the test asked for, to compare with owlctl stats.
EXP_RRQ=0	# read requests sent
EXP_OK=0	# downloads completed
EXP_BYTES=0	# DATA payload bytes of those (no loss on loopback)
EXP_ERR=0	# ERROR packets the server sent
EXP_NOTFOUND=0	# of which ERROR 1

# got SIZE: account one completed download of SIZE bytes.
got() {
	EXP_RRQ=$((EXP_RRQ + 1))
	EXP_OK=$((EXP_OK + 1))
	EXP_BYTES=$((EXP_BYTES + $1))
}

# stat_of KEY: total.KEY from owlctl stats (fresh from the workers).
stat_of() {
	kv_get "$STATS" "total.$1"
}

# _totals_bad: set BAD to what differs from the expected totals.
# bytes_out includes retransmitted DATA: exact when total.retrans is 0,
# else within 512 bytes per retransmission (all big downloads are 512).
_totals_bad() {
	local k v want retrans bytes
	BAD=
	STATS=$(ctl stats) || { BAD="owlctl stats failed"; return 1; }
	for k in rrq:$EXP_RRQ xfer_ok:$EXP_OK errors_sent:$EXP_ERR \
	    error_sent_not_found:$EXP_NOTFOUND wrq:0 xfer_failed:0; do
		v=$(stat_of "${k%%:*}")
		want=${k#*:}
		[ "$v" = "$want" ] ||
		    BAD="$BAD total.${k%%:*}=$v (want $want);"
	done
	retrans=$(stat_of retrans)
	bytes=$(stat_of bytes_out)
	if [ "$retrans" = 0 ]; then
		[ "$bytes" = "$EXP_BYTES" ] ||
		    BAD="$BAD total.bytes_out=$bytes (want $EXP_BYTES);"
	elif [ -z "$bytes" ] || [ "$bytes" -lt "$EXP_BYTES" ] ||
	    [ "$bytes" -gt $((EXP_BYTES + 512 * retrans)) ]; then
		BAD="$BAD total.bytes_out=$bytes (want $EXP_BYTES + at most"
		BAD="$BAD 512 x $retrans retransmissions);"
	fi
	[ -z "$BAD" ]
}

# check_totals WHEN: the totals equal the expected ones exactly (given
# 3 s for a client's last ACK to be counted).
check_totals() {
	check "(c) owlctl stats totals exact $1"
	if wait_for 3 _totals_bad; then
		ok "rrq=$EXP_RRQ xfer_ok=$EXP_OK bytes_out=$(stat_of \
		    bytes_out) errors_sent=$EXP_ERR retrans=$(stat_of retrans)"
	else
		fail "$BAD"
	fi
}

# snap: total.rrq and total.bytes_out now, as "RRQ BYTES".
snap() {
	STATS=$(ctl stats) || { echo "0 0"; return; }
	echo "$(stat_of rrq) $(stat_of bytes_out)"
}

# not_less BEFORE AFTER: each number of AFTER >= the one in BEFORE.
not_less() {
	local b a
	read -r -a b <<< "$1"
	read -r -a a <<< "$2"
	[ "${#a[@]}" -eq 2 ] && [ "${#b[@]}" -eq 2 ] &&
	    [ "${a[0]}" -ge "${b[0]}" ] && [ "${a[1]}" -ge "${b[1]}" ]
}

# live_big: how many big.bin downloads owlctl transfers lists.  One
# owlctl call may take at most 3 s (it answers in well under a second):
# a stuck one must not use up the whole wait while the downloads run
# out; what it printed on stderr is kept for the failure message.
live_big() {
	CTL_TIMEOUT=3 ctl -r transfers 2>> "$T/ctl.err" |
	    grep -c '^transfer\.[0-9]*\.file=big\.bin$'
}

_live_big_is() {
	[ "$(live_big)" -ge "$1" ]
}

# live_file NAME: how many downloads of NAME owlctl transfers lists.
live_file() {
	CTL_TIMEOUT=3 ctl -r transfers 2>> "$T/ctl.err" |
	    grep -c "^transfer\.[0-9]*\.file=$(re_escape "$1")\$"
}

_live_is() {
	[ "$(live_file "$2")" -ge "$1" ]
}

# load N DIR LABEL: start N curl downloads of big.bin (blksize 512) into
# $OUT/LABEL-i; their pids go to LOADPIDS.
load() {
	local i
	LOADPIDS=
	for i in $(seq 1 "$1"); do
		curl_get big.bin "$OUT/$3-$i" --tftp-blksize 512 \
		    > "$T/$3-$i.err" 2>&1 &
		LOADPIDS="$LOADPIDS $!"
	done
}

# finish_load N WANT LABEL: wait for LOADPIDS, compare every download
# with WANT, account the good ones.
finish_load() {
	local p i=0 nbad=0 ncmp=0
	for p in $LOADPIDS; do
		i=$((i + 1))
		if ! wait "$p"; then
			nbad=$((nbad + 1))
			[ $nbad -gt 3 ] ||
			    echo "    $3-$i: curl failed: $(tail -n 2 \
				"$T/$3-$i.err")" >&2
			continue
		fi
		if cmp -s "$2" "$OUT/$3-$i"; then
			got $BIG
		else
			ncmp=$((ncmp + 1))
			[ $ncmp -gt 3 ] || echo "    $3-$i differs:" \
			    "$(cmp "$2" "$OUT/$3-$i" 2>&1 | head -n 1)" >&2
		fi
	done
	if [ $nbad -eq 0 ] && [ $ncmp -eq 0 ]; then
		ok "all $1 downloads complete and byte-exact"
	else
		EXP_RRQ=$((EXP_RRQ + nbad + ncmp))
		fail "$nbad of $1 curl downloads failed, $ncmp differ;" \
		    "not-ok transfers in the log:" \
		    "$(xfer_lines big.bin | grep -v result=ok | head -n 5)"
	fi
}

# no_bad_exits: no worker exited with an error or was killed.
no_bad_exits() {
	local bad
	bad=$(grep -aE 'exited with code|killed by signal' "$LOG")
	[ -z "$bad" ] && ok "$CUR: workers exited cleanly" ||
	    fail "unclean worker exits: $bad"
}

write_conf
start_server
MASTER=$SERVER_PID

check "status before any reload: generation=1"
g=$(ctl_val generation status)
[ "$g" = 1 ] && ok || fail "generation=$g"

# ---------------------------------------------------------------- (a)
check "(a) $NLOAD downloads of a 4 MiB file at blksize 512 in flight"
load $NLOAD "$ROOT" a
if wait_for 15 _live_big_is $NLOAD; then
	ok "owlctl transfers lists $(live_big) big.bin downloads"
else
	fail "owlctl transfers lists only $(live_big) of $NLOAD;" \
	    "owlctl's stderr: $(tail -n 3 "$T/ctl.err" 2>/dev/null |
	    tr '\n' ' ')"
fi
BEFORE=$(snap)
XF=$(ctl -r transfers)
done_min=$(printf '%s\n' "$XF" | sed -n 's/^transfer\.[0-9]*\.bytes=//p' |
    sort -n | head -n 1)
done_max=$(printf '%s\n' "$XF" | sed -n 's/^transfer\.[0-9]*\.bytes=//p' |
    sort -n | tail -n 1)
echo "    before the reload: bytes done per download $done_min..$done_max" \
    "of $BIG"

check "(a) owlctl reload with root = root2, blksize_max = 1024: exit 0"
write_conf "root = \"$ROOT2\"" 'blksize_max = 1024'
out=$(ctl reload 2>&1)
rc=$?
[ $rc -eq 0 ] && [ "$(kv_get "$out" generation)" = 2 ] &&
    ok "owlctl reload: $out" || fail "exit $rc: $out"
inflight=$(live_big)
AFTER=$(snap)

check "(a) the downloads are still in flight right after the reload"
[ "$inflight" -gt 0 ] && ok "$inflight of $NLOAD still running" ||
    fail "no big.bin transfer listed after the reload: the reload came" \
    "too late to test anything (or dropped them)"

check "(c) totals right after the reload are not below those before"
not_less "$BEFORE" "$AFTER" && ok "rrq bytes_out: $BEFORE -> $AFTER" ||
    fail "rrq bytes_out went from '$BEFORE' to '$AFTER'"

check "(a) status: generation=2, reloads=1, no reload.error"
st=$(ctl -r status)
[ "$(kv_get "$st" generation)" = 2 ] && [ "$(kv_get "$st" reloads)" = 1 ] &&
    ! printf '%s\n' "$st" | grep -q '^reload\.error=' &&
    ok || fail "status: $(echo $st)"

check "(a) owlctl workers: the old generation drains, generation 2 runs"
ws=$(ctl_workers)
echo "$ws" | sed 's/^/    slot pid gen state: /'
n1=$(echo "$ws" | awk '$3 == 1' | grep -c .)
n1d=$(echo "$ws" | awk '$3 == 1 && $4 == "draining"' | grep -c .)
n2=$(echo "$ws" | awk '$3 == 2' | grep -c .)
if [ "$n2" -eq 2 ] && [ "$n1" -eq "$n1d" ]; then
	ok "$n2 workers of generation 2, $n1 draining of generation 1"
else
	fail "want 2 of generation 2 and generation 1 only draining"
fi

check "(a) after the reload: OACK blksize clamped to 1024, new root served"
rawq get 127.0.0.1 "$PORT" new-only.bin --opt blksize=8192 \
    --expect-oack blksize=1024 --expect "$ROOT2/new-only.bin" \
    > "$T/raw.out" 2>&1 && ok "$(grep OACK "$T/raw.out")" ||
    fail "$(cat "$T/raw.out")"
got 70000
rm -f "$OUT/which"
curl_get which.txt "$OUT/which" > /dev/null 2>&1
got "$(stat -c %s "$ROOT2/which.txt")"
same "$ROOT2/which.txt" "$OUT/which"
wait_xfer new-only.bin 'opts="blksize=1024.*result=ok'

check "(a) after the reload: a file only in the old root is not found"
probeq rrq old-only.bin octet
EXP_RRQ=$((EXP_RRQ + 1))
EXP_ERR=$((EXP_ERR + 1))
EXP_NOTFOUND=$((EXP_NOTFOUND + 1))
expect_reply 'ERROR 1*'

check "(a) every one of the $NLOAD downloads completes byte-exact"
finish_load $NLOAD "$ROOT/big.bin" a

check "(a) old workers exit: owlctl workers shows generation 2 only"
if wait_for_workers 2 2 10; then
	ok "$(ctl_workers | awk '{ print $2 "/gen" $3 }' | tr '\n' ' ')"
else
	fail "workers: $(ctl_workers | tr '\n' ';')"
fi
no_bad_exits
check "(a) master still the same process"
[ "$(ctl_val pid status)" = "$MASTER" ] && alive && ok ||
    fail "status pid $(ctl_val pid status), started $MASTER"

check_totals "after the owlctl reload (generation 1 retired)"

# ---------------------------------------------------------------- SIGHUP
check "SIGHUP reload with $NHUP downloads in flight"
load $NHUP "$ROOT2" h
wait_for 10 _live_big_is $NHUP &&
    ok "$(live_big) big.bin downloads in flight" ||
    fail "only $(live_big) of $NHUP in flight"
# And one paced download (137 blocks, 100 ms apart: 14 s), still running
# when the new generation serves however fast the machine moves big.bin
# (a sanitizer build's new workers have taken longer to start than the
# 24 downloads took to finish).
slow_get new-only.bin "$OUT/hup-slow" 100 > "$T/hup-slow.out" 2>&1 &
SLOWPID=$!
wait_for 5 _live_is 1 new-only.bin || fail "the paced download did not start"
BEFORE=$(snap)
write_conf "root = \"$ROOT3\"" 'blksize_max = 1400'
kill -s HUP "$MASTER"
_gen_is() { [ "$(ctl_val generation status)" = "$1" ]; }
check "SIGHUP: status says generation=3"
wait_for 5 _gen_is 3 && ok || fail "generation=$(ctl_val generation status)"
inflight=$(( $(live_big) + $(live_file new-only.bin) ))
AFTER=$(snap)
[ "$inflight" -gt 0 ] && echo "    $inflight still in flight after SIGHUP" ||
    fail "no download in flight after SIGHUP (reload came too late)"
check "SIGHUP: the paced download started before it completes, whole"
if wait "$SLOWPID" && cmp -s "$OUT/hup-slow" "$ROOT2/new-only.bin"; then
	got 70000
	ok
else
	fail "$(tail -n 2 "$T/hup-slow.out")"
fi
check "(c) totals after SIGHUP not below those before"
not_less "$BEFORE" "$AFTER" && ok "rrq bytes_out: $BEFORE -> $AFTER" ||
    fail "rrq bytes_out went from '$BEFORE' to '$AFTER'"

check "SIGHUP: new requests see blksize_max = 1400 and the third root"
rawq get 127.0.0.1 "$PORT" third.bin --opt blksize=8192 \
    --expect-oack blksize=1400 --expect "$ROOT3/third.bin" \
    > "$T/raw.out" 2>&1 && ok "$(grep OACK "$T/raw.out")" ||
    fail "$(cat "$T/raw.out")"
got 30000
probeq rrq new-only.bin octet
EXP_RRQ=$((EXP_RRQ + 1))
EXP_ERR=$((EXP_ERR + 1))
EXP_NOTFOUND=$((EXP_NOTFOUND + 1))
expect_reply 'ERROR 1*'

check "SIGHUP: all $NHUP downloads complete byte-exact"
finish_load $NHUP "$ROOT2/big.bin" h
check "SIGHUP: the generation 2 workers exit, generation 3 remains"
wait_for_workers 3 2 10 && ok "$(ctl_workers | tr '\n' ';')" ||
    fail "workers: $(ctl_workers | tr '\n' ';')"
no_bad_exits
check_totals "after SIGHUP (generations 1 and 2 retired)"

# ---------------------------------------------------------------- (b)
PIDS3=$(ctl_workers | awk '{ print $2 }' | sort | tr '\n' ' ')
check "(b) owlctl reload of a config with an unknown key: exit 1, FILE:LINE"
write_conf 'blksize_max = 512'
echo 'no_such_key = 17;' >> "$CONF"
line=$(wc -l < "$CONF")
ctl reload > "$T/ctl.out" 2> "$T/ctl.err"
rc=$?
if [ $rc -eq 1 ] && grep -qF "$CONF:$line:" "$T/ctl.err"; then
	ok "exit 1: $(cat "$T/ctl.err")"
else
	fail "exit $rc, stdout '$(cat "$T/ctl.out")'," \
	    "stderr '$(cat "$T/ctl.err")' (want exit 1 and '$CONF:$line:')"
fi
check "(b) log: 'reload failed' with FILE:LINE"
grep -aq "reload failed.*$CONF:$line:" "$LOG" && ok ||
    fail "no 'reload failed ... $CONF:$line:' in the log"

check "(b) status: generation still 3, reload.error names FILE:LINE"
st=$(ctl -r status)
err=$(kv_get "$st" reload.error)
[ "$(kv_get "$st" generation)" = 3 ] && [[ $err == *"$CONF:$line:"* ]] &&
    ok "reload.error=$err" || fail "status: $(echo $st)"

check "(b) the old config keeps serving (blksize 1400, third root)"
rawq get 127.0.0.1 "$PORT" third.bin --opt blksize=8192 \
    --expect-oack blksize=1400 --expect "$ROOT3/third.bin" \
    > "$T/raw.out" 2>&1 && ok "$(grep OACK "$T/raw.out")" ||
    fail "$(cat "$T/raw.out")"
got 30000
check "(b) the workers were not replaced"
now=$(ctl_workers | awk '{ print $2 }' | sort | tr '\n' ' ')
[ "$now" = "$PIDS3" ] && ok "pids $now" || fail "pids $PIDS3 -> $now"

check "(b) SIGHUP with a syntax error: logged with FILE:LINE, nothing changes"
write_conf 'blksize_max = 512'
echo 'windowsize_max = ;' >> "$CONF"
line=$(wc -l < "$CONF")
kill -s HUP "$MASTER"
_hup_failed() {
	grep -aq "reload failed.*$CONF:$line:" "$LOG"
}
wait_for 5 _hup_failed && ok "$(grep -a "reload failed.*$CONF:$line:" \
    "$LOG" | tail -n 1)" || fail "no 'reload failed ... $CONF:$line:' logged"
st=$(ctl -r status)
err=$(kv_get "$st" reload.error)
[ "$(kv_get "$st" generation)" = 3 ] && [[ $err == *"$CONF:$line:"* ]] ||
    fail "status after the bad SIGHUP: $(echo $st)"
now=$(ctl_workers | awk '{ print $2 }' | sort | tr '\n' ' ')
[ "$now" = "$PIDS3" ] || fail "workers replaced: $PIDS3 -> $now"
curl_get which.txt "$OUT/which3" > /dev/null 2>&1
got "$(stat -c %s "$ROOT3/which.txt")"
same "$ROOT3/which.txt" "$OUT/which3"

check "(b) a fixed config then reloads (generation 4), reload.error cleared"
write_conf "root = \"$ROOT3\"" 'blksize_max = 512'
out=$(ctl reload 2>&1)
rc=$?
st=$(ctl -r status)
[ $rc -eq 0 ] && [ "$(kv_get "$st" generation)" = 4 ] &&
    ! printf '%s\n' "$st" | grep -q '^reload\.error=' &&
    ok "$out" || fail "exit $rc ($out); status: $(echo $st)"
rawq get 127.0.0.1 "$PORT" third.bin --opt blksize=8192 \
    --expect-oack blksize=512 --expect "$ROOT3/third.bin" \
    > "$T/raw.out" 2>&1 || fail "$(cat "$T/raw.out")"
got 30000
wait_for_workers 4 2 10 || fail "workers: $(ctl_workers | tr '\n' ';')"

check_totals "at the end (generations 1 to 3 retired)"

check "server still running"
alive && ok || fail "server died"

finish
