#!/bin/bash
# options.sh -- option negotiation (RFC 2347/2348/2349/7440, utimeout,
# rollover) seen on the wire with the raw client: what the OACK carries,
# clamps to blksize_max/windowsize_max, ERROR 8 for bad values, tsize on
# RRQ (octet and netascii; any value asks for the size, "tsize enable"
# as atftp's manual writes it) and WRQ (checked strictly; max_upload_size
# -> ERROR 3), no OACK
# without accepted options, nothing sent between OACK and ACK 0; then
# real clients asking for options, and the UEFI "tsize probe" sequence.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"

need_cmd python3 tftp atftp curl busybox-tftp

BLKMAX=1428
WINMAX=16
MAXUP=100000

mkfile "$ROOT/f.bin" 70000
cp "$ROOT/f.bin" "$ROOT/silent.bin"
: > "$ROOT/empty.bin"
# Text with LF line ends and one bare CR: netascii grows it by one byte
# per LF (CR LF) and per CR (CR NUL).
printf 'line one\nline two\r bare CR\n\nlast line\n' > "$ROOT/text.txt"
for i in $(seq 1 200); do
	echo "netascii filler line $i"
done >> "$ROOT/text.txt"
TEXT_SIZE=$(stat -c %s "$ROOT/text.txt")
TEXT_NA=$((TEXT_SIZE + $(tr -cd '\n\r' < "$ROOT/text.txt" | wc -c)))
F_SIZE=70000

write_conf "blksize_max = $BLKMAX" "windowsize_max = $WINMAX" \
    'uploads = "create"' \
    'permission_check = false' "max_upload_size = $MAXUP" 'timeout_ms = 300' \
    'retries = 2'
start_server

check "no options: DATA 1 directly, no OACK"
probe rrq f.bin octet
expect_reply "DATA 1 len=512"

check "only unknown options: ignored, DATA 1 directly (no empty OACK)"
probe rrq f.bin octet foo=bar x-vendor=1
expect_reply "DATA 1 len=512"

check "unknown option next to blksize: OACK echoes blksize only"
probe rrq f.bin octet foo=bar blksize=1024
oack_has blksize=1024 && oack_lacks foo

check "blksize 8 (the minimum) accepted"
probe rrq f.bin octet blksize=8
oack_has blksize=8

check "blksize 1024 accepted as is"
probe rrq f.bin octet blksize=1024
oack_has blksize=1024

check "blksize $BLKMAX (= blksize_max) accepted as is"
probe rrq f.bin octet blksize=$BLKMAX
oack_has blksize=$BLKMAX

check "blksize 65464 clamped to blksize_max $BLKMAX"
probe rrq f.bin octet blksize=65464
oack_has blksize=$BLKMAX

check "blksize 65465 (above the RFC range) clamped, not refused"
probe rrq f.bin octet blksize=65465
oack_has blksize=$BLKMAX

check "option names are case-insensitive (BlkSize)"
probe rrq f.bin octet BlkSize=1024
expect_reply "OACK [Bb][Ll][Kk][Ss][Ii][Zz][Ee]=1024"

for v in 7 0 abc -1 ''; do
	check "blksize '$v' -> ERROR 8"
	probe rrq f.bin octet "blksize=$v"
	expect_reply "ERROR 8*"
done

check "tsize=0 on an RRQ: OACK tsize is the file size ($F_SIZE)"
probe rrq f.bin octet tsize=0
oack_has tsize=$F_SIZE

check "tsize on an empty file: tsize=0"
probe rrq empty.bin octet tsize=0
oack_has tsize=0

check "tsize in netascii: the translated size ($TEXT_NA, file $TEXT_SIZE)"
probe rrq text.txt netascii tsize=0
oack_has tsize=$TEXT_NA

check "tsize with blksize: both in the OACK"
probe rrq f.bin octet blksize=1024 tsize=0
oack_has blksize=1024 tsize=$F_SIZE

# On a read the client's tsize carries nothing (RFC 2349: it sends 0):
# atftp's manual has users write --option "tsize enable".
for v in enable -1 ''; do
	check "tsize '$v' on an RRQ: OACK tsize is the file size ($F_SIZE)"
	probe rrq f.bin octet "tsize=$v"
	oack_has tsize=$F_SIZE
done

check "atftp --option 'tsize enable' (as its manual says): downloads"
rm -f "$OUT/atftp-tsize-enable"
atftp_get f.bin "$OUT/atftp-tsize-enable" --option "tsize enable" \
    > "$T/client.out" 2>&1 ||
    fail "atftp exited with $?: $(tail -n 3 "$T/client.out")"
same "$ROOT/f.bin" "$OUT/atftp-tsize-enable"

check "WRQ tsize 'enable' -> ERROR 8 (an upload's size is checked)"
probe wrq enable-upload.bin octet tsize=enable
expect_reply "ERROR 8*"
[ ! -e "$ROOT/enable-upload.bin" ] || fail "enable-upload.bin was created"

check "timeout 1 and 255 accepted"
probe rrq f.bin octet timeout=1
oack_has timeout=1
probe rrq f.bin octet timeout=255
oack_has timeout=255

for v in 0 256 x; do
	check "timeout '$v' -> ERROR 8"
	probe rrq f.bin octet "timeout=$v"
	expect_reply "ERROR 8*"
done

check "utimeout 500000 accepted"
probe rrq f.bin octet utimeout=500000
oack_has utimeout=500000

for v in 9999 255000001; do
	check "utimeout $v (out of range): ERROR 8 or not acknowledged"
	probe rrq f.bin octet "utimeout=$v"
	if [[ $REPLY == "ERROR 8"* ]]; then
		ok "$REPLY"
	else
		[[ $REPLY == OACK* || $REPLY == DATA* ]] ||
		    fail "want ERROR 8, an OACK or DATA 1, got '$REPLY'"
		[[ $REPLY == OACK* ]] && oack_lacks utimeout
		[[ $REPLY == DATA* ]] && ok "not acknowledged: $REPLY"
	fi
done

check "windowsize 4 accepted"
probe rrq f.bin octet windowsize=4
oack_has windowsize=4

check "windowsize 64 clamped to windowsize_max $WINMAX"
probe rrq f.bin octet windowsize=64
oack_has windowsize=$WINMAX

check "windowsize 65535 clamped to windowsize_max $WINMAX"
probe rrq f.bin octet windowsize=65535
oack_has windowsize=$WINMAX

for v in 0 65536 abc; do
	if [ "$v" = 65536 ]; then
		check "windowsize 65536 (above the range) -> ERROR 8 or clamped"
	else
		check "windowsize '$v' -> ERROR 8"
	fi
	probe rrq f.bin octet "windowsize=$v"
	if [ "$v" = 65536 ] && [[ $REPLY == OACK* ]]; then
		# Above the RFC 7440 range: refusing and clamping are both fine.
		oack_has windowsize=$WINMAX
	else
		expect_reply "ERROR 8*"
	fi
done

check "rollover 0 and 1 accepted"
probe rrq f.bin octet rollover=0
oack_has rollover=0
probe rrq f.bin octet rollover=1
oack_has rollover=1

check "rollover 2: ERROR 8 or not acknowledged"
probe rrq f.bin octet rollover=2
if [[ $REPLY == "ERROR 8"* ]]; then
	ok "$REPLY"
elif [[ $REPLY == OACK* ]]; then
	oack_lacks rollover
else
	expect_reply "DATA 1 len=512"
fi

check "every option at once"
probe rrq f.bin octet blksize=1024 tsize=0 timeout=3 windowsize=8 rollover=0
oack_has blksize=1024 tsize=$F_SIZE timeout=3 windowsize=8 rollover=0

check "WRQ tsize above max_upload_size ($MAXUP) -> ERROR 3, no file"
probe wrq big-upload.bin octet tsize=$((MAXUP + 1))
expect_reply "ERROR 3*"
[ ! -e "$ROOT/big-upload.bin" ] || fail "big-upload.bin was created"

check "WRQ tsize within max_upload_size: OACK tsize echoed"
probe wrq small-upload.bin octet tsize=$MAXUP blksize=1024
oack_has tsize=$MAXUP blksize=1024

check "WRQ without options: ACK 0"
probe wrq small-upload2.bin octet
expect_reply "ACK 0"

check "the aborted probe uploads left no file and no temp file"
wait_xfer small-upload2.bin 'op=wrq' 1 5
[ ! -e "$ROOT/small-upload.bin" ] || fail "small-upload.bin exists"
[ ! -e "$ROOT/small-upload2.bin" ] || fail "small-upload2.bin exists"
no_temp_files "$ROOT"

check "after an OACK nothing is sent until ACK 0 (OACK repeats allowed)"
raw oackwait 127.0.0.1 "$PORT" f.bin --expect "$ROOT/f.bin" \
    --opt blksize=1024 --opt tsize=0 --opt timeout=2 --quiet 1200 ||
    fail "oackwait scenario failed"

check "raw download with blksize 1000 and windowsize 3: content intact"
raw get 127.0.0.1 "$PORT" f.bin --opt blksize=1000 --opt windowsize=3 \
    --expect "$ROOT/f.bin" --expect-oack blksize=1000 \
    --expect-oack windowsize=3 || fail "raw get failed"

check "raw download with blksize 8: content intact"
raw get 127.0.0.1 "$PORT" text.txt --opt blksize=8 \
    --expect "$ROOT/text.txt" --expect-oack blksize=8 || fail "raw get failed"

check "tftp-hpa -v download (tftp-hpa sends no options)"
m=$(tmo tftp -v -l -m binary 127.0.0.1 "$PORT" -c get f.bin "$OUT/hpa-v" 2>&1)
echo "$m" | sed 's/^/    tftp: /'
same "$ROOT/f.bin" "$OUT/hpa-v"
[[ $m == *"Received $F_SIZE bytes"* ]] ||
    fail "tftp -v did not report 'Received $F_SIZE bytes'"

for bs in 512 1024 $BLKMAX 8192 65464; do
	check "curl --tftp-blksize $bs (server max $BLKMAX)"
	rm -f "$OUT/curl-$bs"
	curl_get f.bin "$OUT/curl-$bs" --tftp-blksize "$bs" ||
	    fail "curl exited with $?"
	same "$ROOT/f.bin" "$OUT/curl-$bs"
	check "atftp --option 'blksize $bs' --option 'tsize 0'"
	rm -f "$OUT/atftp-$bs"
	atftp_get f.bin "$OUT/atftp-$bs" --option "blksize $bs" \
	    --option "tsize 0" > "$T/client.out" 2>&1 ||
	    fail "atftp exited with $?: $(tail -n 3 "$T/client.out")"
	same "$ROOT/f.bin" "$OUT/atftp-$bs"
	check "busybox tftp -b $bs"
	rm -f "$OUT/bb-$bs"
	bb_get f.bin "$OUT/bb-$bs" -b "$bs" > "$T/client.out" 2>&1 ||
	    fail "busybox exited with $?: $(tail -n 3 "$T/client.out")"
	same "$ROOT/f.bin" "$OUT/bb-$bs"
done

check "the log shows the clamped blksize for curl's 8192"
if grep -a 'xfer end' "$LOG" | grep -a 'file=f.bin' |
    grep -qa "blksize=$BLKMAX"; then
	ok
else
	fail "no xfer end line with blksize=$BLKMAX"
fi

# The timeout options must be applied, not only echoed: the retransmit
# timeout is the asked time (the server's own timeout_ms is 300 ms here),
# before any round trip and after (RFC 2349: the adapted timeout, floored
# by rto_min_ms, is only for clients that ask for none).
check "timeout=1 applied: the OACK is resent after about 1 s, not 300 ms"
raw silent 127.0.0.1 "$PORT" silent.bin --opt timeout=1 --retries 2 \
    --no-ack0 --first-min 0.9 --first-max 1.8 --silence 2.5 --limit 15 ||
    fail "silent scenario (timeout=1) failed"
check "utimeout=100000 applied: the OACK is resent after about 100 ms"
raw silent 127.0.0.1 "$PORT" silent.bin --opt utimeout=100000 --retries 2 \
    --no-ack0 --first-min 0.08 --first-max 0.25 --silence 1.5 --limit 10 ||
    fail "silent scenario (utimeout=100000) failed"
check "timeout=1 still applied once the ACK 0 round trip is measured"
raw silent 127.0.0.1 "$PORT" silent.bin --opt timeout=1 --retries 2 \
    --first-min 0.9 --first-max 1.8 --silence 2.5 --limit 15 ||
    fail "silent scenario (timeout=1, after ACK 0) failed"
check "no option: the server's timeout_ms (300 ms) is used"
raw silent 127.0.0.1 "$PORT" silent.bin --retries 2 --first-min 0.25 \
    --first-max 0.6 --silence 2 --limit 10 ||
    fail "silent scenario (timeout_ms) failed"

check "UEFI: RRQ tsize+blksize, client answers the OACK with ERROR 8"
raw clienterr 127.0.0.1 "$PORT" f.bin --opt tsize=0 --opt blksize=1468 \
    --size $F_SIZE --quiet 1500 || fail "clienterr scenario failed"
check "UEFI: the transfer ended quietly (result=peer_error, no timeout)"
wait_xfer f.bin 'opts="[^"]*tsize=[^"]*".*result=peer_error' 1 5
if xfer_lines f.bin | grep -q 'result=timeout'; then
	fail "a transfer of f.bin ended in timeout: $(xfer_lines f.bin |
	    grep 'result=timeout')"
fi
check "UEFI: the follow-up RRQ with blksize 1468 is served"
raw get 127.0.0.1 "$PORT" f.bin --opt blksize=1468 --expect "$ROOT/f.bin" \
    --expect-oack blksize=$BLKMAX || fail "follow-up download failed"

check "server still running"
alive && ok || fail "server died"

finish
