#!/bin/bash
# abuse.sh -- limits and hostile clients.
#
# request_rate/request_burst: a burst from one address:port gets exactly
# request_burst answers, the rest is dropped without a word and counted
# in rate_limited; 1/rate s later one more request is served; another
# address is unaffected.  max_transfers_per_client: K silent transfers
# from one address, the K+1th request gets ERROR 0 (client_limited),
# another address is served; finished uploads (dallying to re-ACK a lost
# final ACK) do not count against their client, and give their slot to a
# new request once they have dallied two timeouts (not sooner).  max_transfers: 2 workers, 4 in all, the
# excess gets ERROR 0 "server busy" (server_busy).  Amplification guard:
# a client that never answers (a spoofed RRQ) gets only the OACK, or
# only DATA 1, at most retries+1 times, never a window.  Hostile input
# not in hostile.sh: ERROR datagrams of 0-3 bytes and a 60 KB ERROR full
# of %n%s%x to a live transfer, an RRQ with 200 long unknown options
# (an OACK that would not fit), ".."/"..\"/absolute/"//"/symlink/
# control-character names for uploads, concurrent requests from one
# address:port (one answer), a request repeated after its first answer
# was lost (that answer again, at once, from the same TID; a burst of
# copies gets no more), a flood from many addresses and ports after which the
# counters add up and normal clients are served.  Last, the server runs
# under valgrind for a short hostile phase: no "definitely lost" block
# and no error in the master or any worker.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"

need_cmd python3 curl

REAL_OWLTFTPD=$OWLTFTPD
SRC=$T/src
mkdir "$SRC"
mkfile "$SRC/up.bin" 3000
mkfile "$ROOT/f.bin" 5000
mkfile "$ROOT/big.bin" 1048576
mkfile "$ROOT/t.bin" $((12 * 512 + 7))
mkfile "$ROOT/dup.bin" $((9 * 512 + 100))

# held_lines: the "req N:"/"then A:" lines of the hold scenario in $T/hold.
held_count() {
	grep -cE "$1" "$T/hold"
}

# no_crash: the server is alive with the workers it started with.
no_crash() {
	check "the server is running with the same workers (none died)"
	alive || fail "server died"
	local w1
	w1=$(workers | sort | tr '\n' ' ')
	[ "$W0" = "$w1" ] && ok "workers $w1" ||
	    fail "workers changed from '$W0' to '$w1' (a worker died?)"
	if grep -aEi 'killed by signal|exited with code|assert|sanitizer' \
	    "$LOG"; then
		fail "the log reports a crash"
	fi
}

# ================================================================ request_rate
echo "=== request_rate = 1, request_burst = 5"
write_conf 'request_rate = 1' 'request_burst = 5' 'workers = 2'
start_server

check "a burst of 12 from one address:port: exactly 5 answered;" \
    "1.2 s later (one token) 1 of 2 more"
raw burst 127.0.0.1 "$PORT" missing --src 127.0.0.1 --count 12 --wait 400 \
    --expect 5 --pause 0.8 --again 2 --expect-again 1 ||
    fail "burst scenario failed"
check "rate_limited counts the 8 dropped requests, not refused or rrq"
expect_stat rate_limited 8
expect_stat rrq 6
expect_stat refused 6		# the 6 answered: ERROR 1, file not found
check "another address is unaffected: 5 of 5 answered"
raw burst 127.0.0.1 "$PORT" missing2 --src 127.0.0.2 --count 5 --wait 1000 \
    --expect 5 || fail "127.0.0.2 was limited"
check "the drops are logged (rate-limited log)"
n=$(grep -ac 'refused: over request_rate' "$LOG")
[ "$n" -ge 1 ] && [ "$n" -le 8 ] && ok "$n log lines" ||
    fail "$n 'over request_rate' log lines (want 1..8)"
check "a normal download from 127.0.0.3 works"
raw xget 127.0.0.1 "$PORT" f.bin --src 127.0.0.3 --expect "$ROOT/f.bin" \
    > /dev/null || fail "download failed"
stop_server

# ================================================================ per client
echo "=== max_transfers_per_client = 3 (one worker)"
write_conf 'max_transfers_per_client = 3' 'workers = 1' \
    'timeout_ms = 3000' 'retries = 3'
start_server

check "3 silent transfers from 127.0.0.1 held, the 4th refused, 127.0.0.2" \
    "served"
raw hold 127.0.0.1 "$PORT" big.bin --src 127.0.0.1 --count 4 \
    --then 127.0.0.2 > "$T/hold" 2>&1
sed 's/^/    /' "$T/hold"
[ "$(held_count '^req [123]: DATA 1 ')" -eq 3 ] &&
    ok "requests 1-3: DATA 1" || fail "requests 1-3 not all served"
grep -qE '^req 4: ERROR 0 ' "$T/hold" &&
    ok "request 4: $(grep '^req 4' "$T/hold")" ||
    fail "request 4 got $(grep '^req 4' "$T/hold")"
grep -qE '^then 127.0.0.2: DATA 1 ' "$T/hold" && ok "127.0.0.2 served" ||
    fail "127.0.0.2 got $(grep '^then' "$T/hold")"
expect_stat client_limited 1
expect_stat refused 1
check "the refusal is logged"
grep -aq 'refused: too many transfers from your address' "$LOG" && ok ||
    fail "no 'refused: too many transfers from your address' in the log"
check "once they end, 127.0.0.1 is served again"
wait_for 5 _stat_is xfer_peer_error 4 || true
probe rrq f.bin octet
expect_reply "DATA 1 *"
stop_server

# A finished upload stays (dallies) 8 s to re-ACK a repeated last DATA;
# it must not count as one of its client's transfers then, and once it
# has dallied two timeouts (2 s here) its slot goes to a new request.
echo "=== uploads one after another: max_transfers_per_client = 2," \
    "max_transfers = 2 (one worker)"
write_conf 'uploads = "create"' \
    'permission_check = false' 'max_transfers_per_client = 2' \
    'max_transfers = 2' 'workers = 1' 'timeout_ms = 1000'
start_server
# seq_put I: upload up.bin as seq-I.bin; fails the check unless stored.
seq_put() {
	local out
	out=$(hpa_put "$SRC/up.bin" "seq-$1.bin" 2>&1)
	if [ -n "$out" ] || ! cmp -s "$SRC/up.bin" "$ROOT/seq-$1.bin"; then
		fail "upload $1: ${out:-the file differs or is missing}"
	fi
}
check "2 uploads in a row from 127.0.0.1: both stored (the next check" \
    "shows they no longer count against the client once they dally)"
f0=$FAILS
seq_put 1
seq_put 2
[ "$FAILS" -ne "$f0" ] || ok
expect_stat client_limited 0
check "a 3rd at once: both slots dally for less than 2 s, 'server busy'"
out=$(hpa_put "$SRC/up.bin" seq-3.bin 2>&1)
case $out in
*"server busy"*) ok "$out" ;;
*) fail "want 'server busy', got: ${out:-success}" ;;
esac
check "2.2 s later, 2 more: each takes the slot of an upload that has" \
    "dallied 2 s"
sleep 2.2
f0=$FAILS
seq_put 4
seq_put 5
[ "$FAILS" -ne "$f0" ] || ok
expect_stat client_limited 0
expect_stat server_busy 1
stop_server

# ================================================================ max_transfers
echo "=== max_transfers = 4, workers = 2"
write_conf 'max_transfers = 4' 'workers = 2' 'timeout_ms = 3000' \
    'retries = 3'
start_server
workers 2 > /dev/null

check "20 silent transfers asked for: 2 per worker, the rest 'server busy'"
raw hold 127.0.0.1 "$PORT" big.bin --src 127.0.0.1 --count 20 \
    --then 127.0.0.2 > "$T/hold" 2>&1
bad=
ndata=0
nbusy=0
for tp in $(sed -n 's/.* tid=\([0-9]*\)$/\1/p' "$T/hold" | sort -u); do
	nt=$(grep -c " tid=$tp\$" "$T/hold")
	nd=$(grep -E "^(req [0-9]+|then [0-9.]+): DATA 1 " "$T/hold" |
	    grep -c " tid=$tp\$")
	nb=$(grep -E ": ERROR 0 server busy tid=$tp\$" "$T/hold" | wc -l)
	echo "    worker port $tp: $nt requests, $nd served, $nb busy"
	want=$((nt < 2 ? nt : 2))
	[ "$nd" -eq "$want" ] && [ $((nd + nb)) -eq "$nt" ] ||
	    bad="$bad port $tp: $nd served and $nb busy of $nt;"
	ndata=$((ndata + nd))
	nbusy=$((nbusy + nb))
done
none=$(grep -c ': NONE' "$T/hold")
[ -z "$bad" ] && [ "$none" -eq 0 ] && [ "$ndata" -le 4 ] &&
    ok "$ndata served, $nbusy busy" ||
    fail "$bad $none unanswered, $ndata served: $(head -n 25 "$T/hold")"
check "server_busy counts the $nbusy refusals (refused too)"
expect_stat server_busy "$nbusy"
expect_stat refused "$nbusy"
expect_stat error_sent_undef "$nbusy"
check "the refusal is logged"
grep -aq 'refused: server busy' "$LOG" && ok ||
    fail "no 'refused: server busy' in the log"
stop_server

# ================================================================ hostile
echo "=== amplification guard and hostile input"
RETRIES=3
mkdir "$T/outside" "$ROOT/sub"
mkfile "$T/outside/target.txt" 100
cp "$T/outside/target.txt" "$T/target.orig"
ln -s "$T/outside" "$ROOT/out-link"
ln -s "$T/outside/target.txt" "$ROOT/file-link"
write_conf 'uploads = "create"' \
    'permission_check = false' 'timeout_ms = 100' "retries = $RETRIES" \
    'workers = 2'
start_server
W0=$(workers 2 | sort | tr '\n' ' ')

check "amplification: RRQ windowsize 64 blksize 8192, never answered:" \
    "only the OACK"
raw amp 127.0.0.1 "$PORT" big.bin --opt windowsize=64 --opt blksize=8192 \
    --opt tsize=0 --retries $RETRIES --listen 2.5 --max-packet 100 ||
    fail "amp scenario failed"
check "amplification: RRQ without options, never answered: only DATA 1"
raw amp 127.0.0.1 "$PORT" big.bin --retries $RETRIES --listen 2.5 \
    --max-packet 516 || fail "amp scenario failed"
check "amplification: both transfers timed out (logged)"
wait_xfer big.bin 'result=timeout' 2 5
check "amplification: no DATA beyond block 1 was ever sent"
expect_stat data_out $((RETRIES + 1))

check "ERRORs of 0-3 bytes and a 60 KB %n%s%x ERROR to a live transfer"
raw tinyerr 127.0.0.1 "$PORT" t.bin --expect "$ROOT/t.bin" ||
    fail "tinyerr scenario failed"
check "the huge ERROR ended the transfer (result=peer_error)"
wait_xfer t.bin 'result=peer_error' 1 5
check "the log is escaped: no raw ESC, BEL or CR, no line over 2 KB"
if LC_ALL=C grep -aq $'[\x1b\x07\r]' "$LOG"; then
	fail "raw control bytes in the log: $(LC_ALL=C grep -an \
	    $'[\x1b\x07\r]' "$LOG" | head -n 2 | cat -v)"
else
	ok "no raw control bytes"
fi
long=$(awk 'length($0) > 2048' "$LOG" | wc -l)
[ "$long" -eq 0 ] && ok "no long line" || fail "$long log lines over 2 KB"

check "RRQ with 200 unknown 250-byte options: the OACK has known ones only"
raw manyopts 127.0.0.1 "$PORT" f.bin --count 200 --namelen 250 ||
    fail "manyopts scenario failed"
check "the same with the known options after the 32 kept pairs"
raw manyopts 127.0.0.1 "$PORT" f.bin --count 200 --namelen 250 \
    --before 150 || fail "manyopts scenario failed"

check "concurrent requests from one address:port: one transfer"
d0=$(stat_total dup_request)
raw samesrc 127.0.0.1 "$PORT" dup.bin f.bin --expect "$ROOT/dup.bin" \
    --copies 5 || fail "samesrc scenario failed"
expect_stat dup_request $((d0 + 6))

check "a repeated request before any ACK: the lost first answer again"
raw rerequest 127.0.0.1 "$PORT" f.bin --expect "$ROOT/f.bin" ||
    fail "rerequest scenario (RRQ) failed"
raw rerequest 127.0.0.1 "$PORT" rereq-up.bin --wrq --expect "$SRC/up.bin" ||
    fail "rerequest scenario (WRQ) failed"
wait_for 5 test -e "$ROOT/rereq-up.bin" && cmp -s "$SRC/up.bin" \
    "$ROOT/rereq-up.bin" && ok "the upload is byte-exact" ||
    fail "rereq-up.bin missing or different"

# Upload names that must never create anything.  An absolute name is
# documented as a path inside the root (owltftpd(8)); those below name
# directories that exist only outside it.
echo "=== hostile upload names (uploads = \"create\")"
touch "$T/marker"
before=$(cd "$ROOT" && find . | sort)
for name in "../evil.bin" '..\evil.bin' "sub/../../evil.bin" \
    'sub\..\..\evil.bin' "$T/outside/abs.bin" "//$T/outside/dbl.bin" \
    "/..//evil.bin" "out-link/sym.bin" "out-link/../evil.bin" \
    "file-link" $'ctl\x01name.bin' $'ctl\nname.bin' \
    $'esc\x1b[2Jname.bin' $'sub/\x7fdel.bin' ".owltftpd.abc123" \
    "sub/.owltftpd.abc123"; do
	check "WRQ $(printf '%q' "$name"): refused"
	probe wrq "$name" octet
	expect_reply "ERROR *" ||
	    raw put 127.0.0.1 "$PORT" "$name" "$SRC/up.bin" > /dev/null 2>&1
done
check "WRQ /owlt-abs-$$.bin: stored in the root (documented), not in /"
raw put 127.0.0.1 "$PORT" "/owlt-abs-$$.bin" "$SRC/up.bin" > /dev/null ||
    fail "upload failed"
same "$SRC/up.bin" "$ROOT/owlt-abs-$$.bin"
if [ -e "/owlt-abs-$$.bin" ]; then
	fail "/owlt-abs-$$.bin was created outside the root"
	rm -f "/owlt-abs-$$.bin"
fi
rm -f "$ROOT/owlt-abs-$$.bin"
check "nothing was created inside or outside the root"
after=$(cd "$ROOT" && find . | sort)
[ "$before" = "$after" ] && ok "root unchanged" ||
    fail "root changed: $(diff <(echo "$before") <(echo "$after") |
	grep '^[<>]' | cat -v | tr '\n' ' ')"
new=$(find "$T" -newer "$T/marker" \( -name '*evil*' -o -name 'abs.bin' \
    -o -name 'dbl.bin' -o -name 'sym.bin' \) 2>/dev/null)
[ -z "$new" ] && [ "$(ls "$T/outside")" = target.txt ] &&
    ok "outside unchanged" || fail "created: $new $(ls "$T/outside")"
cmp -s "$T/target.orig" "$T/outside/target.txt" ||
    fail "the symlink's target was modified"
check "client file names are logged escaped"
grep -aqF 'ctl\x01name.bin' "$LOG" && grep -aqF 'esc\x1b[2Jname.bin' \
    "$LOG" && ok || fail "no escaped ctl\\x01name.bin / esc\\x1b... in the log"
if LC_ALL=C grep -aq $'[\x01\x1b]' "$LOG"; then
	fail "raw control bytes in the log"
fi

check "after all that: downloads work (raw, curl)"
raw get 127.0.0.1 "$PORT" f.bin --expect "$ROOT/f.bin" > /dev/null ||
    fail "raw download failed"
curl_get f.bin "$OUT/f-curl" || fail "curl exited with $?"
same "$ROOT/f.bin" "$OUT/f-curl"
no_crash
stop_server

# ================================================================ flood
echo "=== a flood from 16 addresses x 16 ports"
write_conf 'workers = 2' 'request_rate = 20' 'request_burst = 6' \
    'max_transfers_per_client = 3' 'timeout_ms = 200' 'retries = 1'
start_server
W0=$(workers 2 | sort | tr '\n' ' ')
check "256 RRQs from 127.0.0.2-17, never answered"
out=$(raw spoof 127.0.0.1 "$PORT" f.bin --addrs 2:17 --ports 16 --wait 3000)
echo "    $out"
kv() { echo "$out" | sed -n "s/.*[ ]*$1=\([0-9]*\).*/\1/p" | head -n 1; }
sent=$(kv sent)
data=$(kv data)
errs=$(kv errors)
silent=$(kv silent)
[ "${sent:-0}" -eq 256 ] && ok "sent 256" || fail "spoof: $out"
check "the counters add up"
_flood_done() {
	[ "$(stat_total xfer_timeout)" = "$(stat_total rrq)" ]
}
wait_for 10 _flood_done || fail "not every accepted transfer timed out"
S=$(ctl stats)
for k in rrq rate_limited client_limited server_busy dup_request \
    xfer_timeout refused errors_sent; do
	eval "c_$k=\$(kv_get \"\$S\" total.$k)"
done
echo "    rrq=$c_rrq rate_limited=$c_rate_limited" \
    "client_limited=$c_client_limited server_busy=$c_server_busy" \
    "dup_request=$c_dup_request xfer_timeout=$c_xfer_timeout"
[ $((c_rrq + c_rate_limited + c_client_limited + c_server_busy +
    c_dup_request)) -eq "$sent" ] &&
    ok "rrq + rate_limited + client_limited + server_busy + dup_request" \
	"= $sent sent" ||
    fail "the counters do not add up to $sent"
[ "$c_rrq" -eq "$data" ] && ok "rrq = $data clients that got DATA 1" ||
    fail "rrq $c_rrq, DATA 1 seen by $data clients"
[ $((c_client_limited + c_server_busy)) -eq "$errs" ] &&
    ok "client_limited + server_busy = $errs clients that got an ERROR" ||
    fail "$errs clients got an ERROR"
[ "$c_rate_limited" -eq "$silent" ] &&
    ok "rate_limited = $silent clients that got nothing" ||
    fail "$silent clients got nothing, rate_limited $c_rate_limited"
[ "$c_rate_limited" -gt 0 ] && [ "$c_client_limited" -gt 0 ] &&
    ok "both limits were hit" || fail "a limit was never hit"
[ "$c_xfer_timeout" -eq "$c_rrq" ] && ok "every transfer timed out" ||
    fail "xfer_timeout $c_xfer_timeout, rrq $c_rrq"
check "after the flood: normal clients are served"
raw get 127.0.0.1 "$PORT" f.bin --expect "$ROOT/f.bin" > /dev/null ||
    fail "raw download failed"
curl_get f.bin "$OUT/f-curl2" || fail "curl exited with $?"
same "$ROOT/f.bin" "$OUT/f-curl2"
no_crash
stop_server

# ================================================================ valgrind
echo "=== a short hostile phase under valgrind"
if ! command -v valgrind > /dev/null 2>&1; then
	echo "note: valgrind is not installed, the leak check is skipped"
	finish
fi
if grep -aq '__asan_init\|__lsan_init' "$REAL_OWLTFTPD"; then
	# ASan and valgrind do not mix; LeakSanitizer already checked every
	# phase above (stop_server fails on a sanitizer report in the log).
	echo "note: a sanitizer build: LeakSanitizer replaces valgrind here"
	finish
fi
cat > "$T/vg-owltftpd" <<EOF
#!/bin/sh
exec valgrind --leak-check=full --error-exitcode=99 --trace-children=yes \
    --log-file=$T/vg.%p.log $REAL_OWLTFTPD "\$@"
EOF
chmod 755 "$T/vg-owltftpd"
OWLTFTPD=$T/vg-owltftpd
START_TIMEOUT=60
STOP_TIMEOUT=30
write_conf 'uploads = "create"' \
    'permission_check = false' 'timeout_ms = 300' 'retries = 2' \
    'workers = 2'
start_server
W0=$(workers 2 | sort | tr '\n' ' ')
check "valgrind: hostile traffic"
RAW_TIMEOUT=60
raw tinyerr 127.0.0.1 "$PORT" t.bin --expect "$ROOT/t.bin" --quiet 2000 \
    > /dev/null || fail "tinyerr under valgrind failed"
raw manyopts 127.0.0.1 "$PORT" f.bin > /dev/null || fail "manyopts failed"
raw samesrc 127.0.0.1 "$PORT" dup.bin f.bin --expect "$ROOT/dup.bin" \
    --quiet 1000 > /dev/null || fail "samesrc failed"
for name in "../evil.bin" $'ctl\x01x' "out-link/sym.bin" \
    "$(head -c 600 /dev/zero | tr '\0' a)"; do
	probe wrq "$name" octet --wait 3000
done
raw spoof 127.0.0.1 "$PORT" f.bin --addrs 2:5 --ports 8 --wait 3000 \
    > /dev/null
raw put 127.0.0.1 "$PORT" vg-up.bin "$SRC/up.bin" > /dev/null ||
    fail "upload under valgrind failed"
# Windowed: several blocks of one upload in a receive batch (one writev).
raw put 127.0.0.1 "$PORT" vg-upw.bin "$ROOT/big.bin" --opt windowsize=16 \
    --opt blksize=1468 > /dev/null || fail "windowed upload failed"
cmp -s "$ROOT/big.bin" "$ROOT/vg-upw.bin" || fail "vg-upw.bin differs"
raw rerequest 127.0.0.1 "$PORT" vg-rereq.bin --wrq --expect "$SRC/up.bin" \
    --within 10000 > /dev/null || fail "repeated WRQ failed"
raw get 127.0.0.1 "$PORT" f.bin --expect "$ROOT/f.bin" > /dev/null ||
    fail "download under valgrind failed"
# SIGTERM ends the silent transfers still live: that path is checked too.
no_crash
stop_server
OWLTFTPD=$REAL_OWLTFTPD
check "valgrind: no 'definitely lost' and no error in any process"
ls "$T"/vg.*.log > /dev/null 2>&1 || fail "no valgrind log"
for f in "$T"/vg.*.log; do
	[ -e "$f" ] || continue
	if grep -qE 'definitely lost: [1-9]|Invalid (read|write)|uninitialised|ERROR SUMMARY: [1-9]' "$f"; then
		fail "$(basename "$f"): $(grep -E 'definitely lost|Invalid|uninit|ERROR SUMMARY' "$f" |
		    head -n 4 | tr '\n' ' ')"
		sed -n 1,60p "$f" | sed 's/^/    | /' >&2
	elif ! grep -qE 'ERROR SUMMARY: 0 errors' "$f" ||
	    ! grep -qE 'definitely lost: 0 bytes|no leaks are possible' "$f"; then
		fail "$(basename "$f"): no clean leak or error summary:" \
		    "$(tail -n 5 "$f" | tr '\n' ' ')"
	else
		ok "$(basename "$f"): clean$(grep -q 'syscall: 437' "$f" &&
		    echo ' (unhandled syscall 437 = openat2: the fallback was used)')"
	fi
done

finish
