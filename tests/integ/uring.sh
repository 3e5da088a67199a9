#!/bin/bash
# uring.sh -- io_backend = "uring" with 2 workers: downloads with
# tftp-hpa, curl and atftp (octet; blksize 512, 1468 and 8192; windowsize
# 1 and 16; a 33 MiB file whose block numbers roll over; IPv6 ::1 where
# the host has it), an upload, a stranger's packet gets ERROR 5, an
# oversize datagram is refused, and a SIGHUP during a paced download
# keeps it going while only the new generation takes requests (the old
# workers' ring receives were cancelled).  owlctl stats must show the
# ring carrying the traffic: uring_enters and uring_cqes grew,
# recvmmsg_calls and sendmmsg_calls stayed 0.  A kernel that refuses
# io_uring makes this a SKIP (77), after checking the fallback line.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"

need_cmd curl tftp atftp python3 cmp
py_resolve

HAVE_V6=
if python3 -c 'import socket; socket.socket(socket.AF_INET6,
    socket.SOCK_DGRAM).bind(("::1", 0))' 2>/dev/null; then
	HAVE_V6=1
fi

mkfile "$ROOT/small.bin" 3000
mkfile "$ROOT/m1.bin" $((1048576 + 7))
mkfile "$ROOT/m3.bin" 3145728
mkfile "$ROOT/paced.bin" $((800 * 512 + 11))	# 8 s at 10 ms an ACK
mkfile "$T/up.bin" 200000
NNEW=24
for i in $(seq $NNEW); do
	mkfile "$ROOT/new-$i.bin" $((600 + i))
done

if [ -n "$HAVE_V6" ]; then
	NLISTEN=2
	write_conf 'io_backend = "uring"' 'uploads = "create"' \
	    'listen = [ "127.0.0.1", "::1" ]'
else
	write_conf 'io_backend = "uring"' 'uploads = "create"'
fi
start_server

check "the workers run the ring, or the refusal is said in one line"
if grep -aq 'io_uring unavailable' "$LOG"; then
	line=$(grep -a -m1 'io_uring unavailable' "$LOG")
	[[ $line == *'io_uring unavailable ('*'): using recvmmsg/sendmmsg' ]] ||
	    fail "malformed fallback line: $line"
	curl_get small.bin "$OUT/small.bin" && same "$ROOT/small.bin" \
	    "$OUT/small.bin"
	[ "$FAILS" -eq 0 ] || die "the fallback does not serve"
	stop_server
	echo "SKIP: $TEST_NAME: no io_uring here: ${line#*unavailable }" >&2
	exit 77
fi
_ring_lines_are() {
	[ "$(grep -ac 'io_uring: multishot recvmsg' "$LOG")" -ge "$1" ]
}
wait_for 5 _ring_lines_are 2 && ok || fail "not every worker runs the ring"

check "tftp-hpa: octet, lock-step"
hpa_get m1.bin "$OUT/hpa.bin" > "$T/c.out" 2>&1 ||
    fail "tftp exited with $?: $(tail -n 3 "$T/c.out")"
same "$ROOT/m1.bin" "$OUT/hpa.bin"

for b in 512 1468 8192; do
	check "curl: blksize $b"
	curl_get m1.bin "$OUT/curl-$b.bin" --tftp-blksize $b ||
	    fail "curl exited with $?"
	same "$ROOT/m1.bin" "$OUT/curl-$b.bin"
done

for w in 1 16; do
	for b in 1468 8192; do
		atftp_window m3.bin "$w" "$b"
	done
done

check "curl: 33 MiB at blksize 512 (block numbers roll over)"
mkfile "$ROOT/big.bin" $((33 * 1048576))
CLIENT_TIMEOUT=120 curl_get big.bin "$OUT/big.bin" || fail "curl exited with $?"
same "$ROOT/big.bin" "$OUT/big.bin"
rm -f "$ROOT/big.bin" "$OUT/big.bin"

if [ -n "$HAVE_V6" ]; then
	check "curl over IPv6 (::1), blksize 1468"
	P6=$(listen_port '[::1]')
	tmo curl -sS --tftp-blksize 1468 -o "$OUT/v6.bin" \
	    "tftp://[::1]:$P6/m1.bin" || fail "curl exited with $?"
	same "$ROOT/m1.bin" "$OUT/v6.bin"
fi

check "upload with tftp-hpa"
hpa_put "$T/up.bin" up.bin > "$T/c.out" 2>&1 ||
    fail "tftp exited with $?: $(tail -n 3 "$T/c.out")"
wait_xfer up.bin 'op=wrq.*result=ok' 1 5
same "$T/up.bin" "$ROOT/up.bin"

check "a stranger's packet to a transfer gets ERROR 5"
before=$(stat_total error_sent_unknown_tid)
raw wrongtid 127.0.0.1 "$PORT" m1.bin --expect "$ROOT/m1.bin" ||
    fail "wrongtid scenario failed"
after=$(stat_total error_sent_unknown_tid)
[ "$after" -gt "$before" ] && ok "error_sent_unknown_tid $before -> $after" ||
    fail "error_sent_unknown_tid $before -> $after"

check "an oversize datagram is refused (bad_packet), the server answers on"
before=$(stat_total bad_packet)
python3 - "$PORT" <<'EOF' || fail "cannot send the oversize datagram"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(b"\x00\x01big.bin\x00octet\x00" + b"x" * 65400,
    ("127.0.0.1", int(sys.argv[1])))
EOF
wait_for 3 _stat_is bad_packet $((before + 1)) &&
    ok "bad_packet $before -> $((before + 1))" ||
    fail "bad_packet $before -> $(stat_total bad_packet)"
curl_get small.bin "$OUT/small2.bin" || fail "curl exited with $?"
same "$ROOT/small.bin" "$OUT/small2.bin"

check "the ring carried the traffic (before the reload)"
s=$(ctl stats) || fail "owlctl stats failed"
en=$(kv_get "$s" total.uring_enters)
cq=$(kv_get "$s" total.uring_cqes)
rm_=$(kv_get "$s" total.recvmmsg_calls)
sm=$(kv_get "$s" total.sendmmsg_calls)
[ "${en:-0}" -gt 100 ] && [ "${cq:-0}" -gt 1000 ] && [ "$rm_" = 0 ] &&
    [ "$sm" = 0 ] &&
    ok "uring_enters=$en uring_cqes=$cq recvmmsg_calls=$rm_ sendmmsg_calls=$sm" ||
    fail "uring_enters=$en uring_cqes=$cq recvmmsg_calls=$rm_ sendmmsg_calls=$sm"

# Paced downloads on both workers (balance spreads them) keep both old
# workers alive, each with its listen socket
# shared with its successor: a receive left armed there would take some
# of the new requests.
check "SIGHUP during paced downloads: they complete, only new workers serve"
# paced_pids: the workers serving paced.bin, one a line.
paced_pids() {
	ctl -r transfers 2>/dev/null | awk -F'[.=]' '
	    $1 == "transfer" && $3 == "pid" { pid[$2] = $4 }
	    $1 == "transfer" && $3 == "file" && $4 == "paced" { p[$2] = 1 }
	    END { for (k in p) print pid[k] }' | sort -u
}
_paced_on() {
	[ "$(paced_pids | grep -c .)" -ge "$1" ]
}
old=$(ctl_workers | awk '{ print $2 }')
slow=
for i in 1 2 3 4; do
	slow_get paced.bin "$OUT/paced$i.bin" 10 > "$T/slow$i.out" 2>&1 &
	slow="$slow $!"
	sleep 0.2
done
wait_for 3 _paced_on 2 ||
    fail "the paced downloads are not on both workers: $(paced_pids)"
kill -HUP "$SERVER_PID"
wait_for 10 grep -aq 'reload: generation 2 serving' "$LOG" ||
    fail "generation 2 does not serve: $(ctl_workers)"
for i in $(seq $NNEW); do
	curl_get "new-$i.bin" "$OUT/new-$i.bin" || fail "curl new-$i exited $?"
	cmp -s "$ROOT/new-$i.bin" "$OUT/new-$i.bin" || fail "new-$i differs"
done
alive_old=0
for p in $old; do
	! exited "$p" && alive_old=$((alive_old + 1))
done
[ "$alive_old" -eq 2 ] && ok "both old workers lived through the requests" ||
    fail "only $alive_old old workers alive during the new requests"
i=0
for p in $slow; do
	i=$((i + 1))
	wait "$p" || fail "paced download $i failed: $(cat "$T/slow$i.out")"
	same "$ROOT/paced.bin" "$OUT/paced$i.bin"
done
wait_xfer "new-$NNEW.bin" 'result=ok' 1 5
bad=
for p in $old; do
	if grep -a "^owltftpd\[$p\]:" "$LOG" | grep -aq 'file=new-'; then
		bad="$bad $p"
	fi
done
n=$(grep -a 'xfer end' "$LOG" | grep -ac 'file=new-')
[ -z "$bad" ] && [ "$n" -ge "$NNEW" ] &&
    ok "$n new transfers, none by the old workers ($(echo $old))" ||
    fail "old workers$bad served new requests ($n new transfers)"
wait_for 10 _workers_gen_are 2 2 || fail "old workers still listed"

check "after the reload the ring still carries everything"
s=$(ctl stats) || fail "owlctl stats failed"
en2=$(kv_get "$s" total.uring_enters)
rm_=$(kv_get "$s" total.recvmmsg_calls)
sm=$(kv_get "$s" total.sendmmsg_calls)
[ "${en2:-0}" -gt "$en" ] && [ "$rm_" = 0 ] && [ "$sm" = 0 ] &&
    ok "uring_enters $en -> $en2, recvmmsg_calls=$rm_ sendmmsg_calls=$sm" ||
    fail "uring_enters $en -> $en2, recvmmsg_calls=$rm_ sendmmsg_calls=$sm"

check "no warning from the ring"
w=$(grep -a 'io_uring:' "$LOG" | grep -av 'multishot recvmsg, linked')
[ -z "$w" ] && ok || fail "$w"

finish
