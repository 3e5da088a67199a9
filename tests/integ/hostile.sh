#!/bin/bash
# hostile.sh -- bad input never hurts the server.  The raw client sends
# truncated packets (0..3 bytes), requests without NULs, unknown opcodes,
# unknown modes and "mail", 1000 option pairs, 10 KB option values, a
# 60 KB file name, random garbage; a stranger's packet to a live transfer
# port gets ERROR 5 while the transfer completes; a repeated RRQ from the
# same port starts no second transfer; a client that goes silent gets the
# same DATA retransmitted, then nothing (bounded, logged as
# result=timeout); a hundred silent clients and a burst of requests.
# Afterwards the server still serves normal downloads, is still running,
# and no worker died (same worker PIDs, nothing in the log).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"

need_cmd python3 curl tftp

mkfile "$ROOT/h.bin" 5000
mkfile "$ROOT/t.bin" $((30 * 512 + 1))
mkfile "$ROOT/dup.bin" $((20 * 512 + 3))
mkfile "$ROOT/silent.bin" 2000
mkfile "$ROOT/flood.bin" 2000
RETRIES=3

# rto_min_ms: once a transfer has a round trip, its retransmit timeout
# adapts down to this floor; the wrong-TID check listens for quiet
# periods longer than timeout_ms, so keep the adapted timeout above them.
write_conf 'timeout_ms = 100' "retries = $RETRIES" 'rto_min_ms = 2000'
start_server
W0=$(workers 2 | sort | tr '\n' ' ')
echo "workers: $W0"

check "malformed and abusive requests (raw hostile scenario)"
raw hostile 127.0.0.1 "$PORT" h.bin --expect "$ROOT/h.bin" ||
    fail "hostile scenario failed"

check "special files in the root are refused promptly, never block"
mkfifo "$ROOT/fifo"
mkdir "$ROOT/adir"
specials="fifo adir"
if mknod "$ROOT/zero" c 1 5 2>/dev/null; then
	specials="$specials zero"
fi
for n in $specials; do
	t0=$(now_ms)
	probe rrq "$n" octet --wait 3000
	dt=$(($(now_ms) - t0))
	[[ $REPLY == "ERROR "* ]] && [ $dt -lt 2000 ] &&
	    ok "$n: $REPLY (${dt} ms)" ||
	    fail "$n: want an ERROR within 2 s, got '$REPLY' after ${dt} ms"
done
raw get 127.0.0.1 "$PORT" h.bin --expect "$ROOT/h.bin" > /dev/null ||
    fail "the next download failed"

check "wrong TID: a stranger gets ERROR 5, the transfer completes"
raw wrongtid 127.0.0.1 "$PORT" t.bin --expect "$ROOT/t.bin" ||
    fail "wrongtid scenario failed"
wait_xfer t.bin 'result=ok' 1 5

check "duplicate RRQ from the same port: no second transfer"
raw duprrq 127.0.0.1 "$PORT" dup.bin --expect "$ROOT/dup.bin" ||
    fail "duprrq scenario failed"
wait_xfer dup.bin 'result=ok' 1 5

check "silent client: same DATA resent at most $RETRIES times, then stop"
t0=$(now_ms)
raw silent 127.0.0.1 "$PORT" silent.bin --retries $RETRIES --silence 2 \
    --limit 15 || fail "silent scenario failed"
check "silent client: the server logged result=timeout (bounded time)"
wait_xfer silent.bin 'op=rrq .*result=timeout' 1 10
line=$(xfer_lines silent.bin | grep 'result=timeout' | head -n 1)
ms=$(echo "$line" | sed -n 's/.* ms=\([0-9]*\) .*/\1/p')
re=$(echo "$line" | sed -n 's/.* retrans=\([0-9]*\) .*/\1/p')
echo "    $line"
[ "${re:-x}" = "$RETRIES" ] && ok "retrans=$re" ||
    fail "want retrans=$RETRIES, logged retrans=${re:-?}"
[ -n "$ms" ] && [ "$ms" -lt 10000 ] && ok "gave up after ${ms} ms" ||
    fail "ms=${ms:-?}: not bounded by 10 s"

check "a hundred silent clients and a burst of 1000 bad requests"
raw flood 127.0.0.1 "$PORT" flood.bin --clients 100 --burst 1000 ||
    fail "flood scenario failed"
check "all hundred silent transfers time out and are logged"
wait_xfer flood.bin 'result=timeout' 100 15

check "after all that: curl and tftp-hpa downloads still work"
curl_get h.bin "$OUT/curl" || fail "curl exited with $?"
same "$ROOT/h.bin" "$OUT/curl"
hpa_get h.bin "$OUT/hpa" > /dev/null 2>&1
same "$ROOT/h.bin" "$OUT/hpa"

check "the server is running with the same workers (none died)"
alive || fail "server died"
W1=$(workers | sort | tr '\n' ' ')
[ "$W0" = "$W1" ] && ok "workers $W1" ||
    fail "workers changed from '$W0' to '$W1' (a worker died?)"
if grep -aEi 'killed by signal|exited with code|assert|sanitizer|fatal' \
    "$LOG"; then
	fail "the log reports a crash"
else
	ok "no crash in the log"
fi

finish
