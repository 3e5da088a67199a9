#!/bin/bash
# window.sh -- RFC 7440 windows: atftp with windowsize 1, 4, 16, 64 and
# blksize 1468 on 1 MiB and 3 MiB files (cmp); the raw client checks
# that a window of 4 is sent and then the server waits, that an ACK of an
# earlier block slides the window back, that duplicate and stale ACKs
# bring no duplicate DATA (window and lock-step), and windowsize clamping.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"

need_cmd atftp python3

mkfile "$ROOT/m1.bin" 1048576
mkfile "$ROOT/m3.bin" 3145728
mkfile "$ROOT/w.bin" $((100 * 512 + 100))
mkfile "$ROOT/s.bin" $((10 * 512 + 7))

# The raw checks wait for "silence" after each window; a floor above
# that wait keeps the adapted retransmit timeout out of them.
write_conf 'windowsize_max = 32' 'rto_min_ms = 5000'
start_server

for f in m1.bin m3.bin; do
	for w in 1 4 16 64; do
		atftp_window "$f" "$w" 1468
	done
done

check "the log records each window size (64 clamped to windowsize_max 32)"
for w in 1 4 16 32; do
	wait_xfer m3.bin "opts=\"[^\"]*windowsize=${w}[ \"].*result=ok" 1 5
done

check "raw: windowsize 4 -- send 4, wait; slide back; duplicate ACKs"
raw window 127.0.0.1 "$PORT" w.bin --expect "$ROOT/w.bin" --windowsize 4 ||
    fail "window scenario (4) failed"

check "raw: windowsize 16 -- the same with a larger window"
raw window 127.0.0.1 "$PORT" w.bin --expect "$ROOT/w.bin" --windowsize 16 ||
    fail "window scenario (16) failed"

check "raw: lock-step, duplicate ACKs resend nothing (Sorcerer's Apprentice)"
raw dupack 127.0.0.1 "$PORT" s.bin --expect "$ROOT/s.bin" ||
    fail "dupack scenario failed"

check "raw: windowsize 64 asked, clamped to 32, 3 MiB at blksize 1468"
raw get 127.0.0.1 "$PORT" m3.bin --opt windowsize=64 --opt blksize=1468 \
    --expect "$ROOT/m3.bin" --expect-oack windowsize=32 \
    --expect-oack blksize=1468 || fail "raw get failed"

check "raw: windowsize 7 with a file that ends mid-window"
raw get 127.0.0.1 "$PORT" s.bin --opt windowsize=7 --expect "$ROOT/s.bin" \
    --expect-oack windowsize=7 || fail "raw get failed"

check "raw: windowsize 5 with a file of exactly 10 full blocks (empty last)"
mkfile "$ROOT/ten.bin" 5120
raw get 127.0.0.1 "$PORT" ten.bin --opt windowsize=5 \
    --expect "$ROOT/ten.bin" || fail "raw get failed"

check "on a clean link no block of m1.bin or m3.bin was sent twice (dup=0)"
bad=$(grep -a 'xfer end' "$LOG" | grep -a 'file=m[13].bin' | grep -av ' dup=0 ')
n=$(grep -a 'xfer end' "$LOG" | grep -ac 'file=m[13].bin .* dup=0 ')
[ -z "$bad" ] && [ "$n" -ge 9 ] && ok "$n transfers, dup=0" ||
    fail "want dup=0 on every one ($n had it): $bad"

check "no transfer of this script retransmitted or failed"
bad=$(grep -a 'xfer end' "$LOG" | grep -av 'result=ok' |
    grep -av 'result=peer_error')
[ -z "$bad" ] && ok || fail "unexpected results: $bad"

# Stop-and-wait reads ahead (readahead.h): far fewer file reads than
# DATA blocks.  tftp-hpa's 512-byte blocks: 6145 of them for m3.bin.
check "stop-and-wait: one file read serves many blocks (read-ahead)"
reads0=$(ctl_val total.file_reads stats)
data0=$(ctl_val total.data_out stats)
fills0=$(ctl_val total.readahead_fills stats)
rm -f "$OUT/m3.hpa"
hpa_get m3.bin "$OUT/m3.hpa" > "$T/client.out" 2>&1 ||
    fail "tftp exited with $?: $(tail -n 3 "$T/client.out")"
same "$ROOT/m3.bin" "$OUT/m3.hpa"
_sent_m3() {
	[ $(($(ctl_val total.data_out stats) - data0)) -ge 6145 ] &&
	    [ "$(ctl_val total.readahead_fills stats)" != "$fills0" ]
}
wait_for 10 _sent_m3 || fail "stats never showed the 6145 blocks"
reads=$(($(ctl_val total.file_reads stats) - reads0))
fills=$(($(ctl_val total.readahead_fills stats) - fills0))
# 3 MiB in 32 KiB reads: 96 (a few more if a buffer straddles).
[ "$reads" -ge 96 ] && [ "$reads" -le 110 ] && [ "$fills" = "$reads" ] &&
    ok "$reads reads, $fills of them read-ahead, for 6145 blocks" ||
    fail "want 96-110 read-ahead reads for 6145 blocks: $reads reads, $fills fills"

check "server still running"
alive && ok || fail "server died"

finish
