#!/bin/bash
# netascii.sh -- netascii both ways.  Downloads: tftp-hpa in ascii mode
# turns the wire form back into the original (LF ends, a bare CR, a CR LF
# pair split across blocks, a binary file full of CR/LF/NUL); the raw
# client sees the exact wire form (LF -> CR LF, CR -> CR NUL) at several
# block and window sizes, and tsize is the wire size.  Uploads: tftp-hpa
# in ascii mode and the raw client sending the wire form leave the
# original LF file on the server.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"

need_cmd tftp python3

# text.txt: LF line ends, a bare CR in the middle and at the very end,
# an empty line, and a line ending exactly at byte 512 so that the CR of
# its CR LF ends DATA 1 and the LF starts DATA 2; then a bare CR placed
# so its CR NUL is split as well.
{
	head -c 511 /dev/zero | tr '\0' a
	printf '\n'
	printf 'second line\n\nthird line with a bare\rCR inside\n'
	for i in $(seq 1 120); do
		echo "filler line number $i of the netascii test file"
	done
	head -c 300 /dev/zero | tr '\0' b
	printf '\rCR NUL pair near a block end\n'
	printf 'last line ends with a bare CR\r'
} > "$ROOT/text.txt"
# binary.bin: random bytes, many CR, LF and NUL among them.
mkfile "$ROOT/binary.bin" 20000

wire_size() {
	local f=$1
	echo $(($(stat -c %s "$f") + $(tr -cd '\n\r' < "$f" | wc -c)))
}

write_conf 'uploads = "create"' 'permission_check = false'
start_server

for f in text.txt binary.bin; do
	check "tftp-hpa mode netascii download of $f equals the original"
	rm -f "$OUT/$f"
	hpa_get "$f" "$OUT/$f" netascii > "$T/client.out" 2>&1 ||
	    fail "tftp exited with $?"
	grep -q 'Error' "$T/client.out" &&
	    fail "tftp said: $(cat "$T/client.out")"
	same "$ROOT/$f" "$OUT/$f"

	check "raw: $f arrives in the exact netascii wire form"
	raw get 127.0.0.1 "$PORT" "$f" --mode netascii \
	    --expect "$ROOT/$f" --netascii-of || fail "raw get failed"

	for o in "blksize=8" "blksize=1000 windowsize=3" "blksize=65464"; do
		check "raw: $f in netascii with $o: exact wire form"
		args=()
		for kv in $o; do
			args+=(--opt "$kv")
		done
		raw get 127.0.0.1 "$PORT" "$f" --mode netascii "${args[@]}" \
		    --expect "$ROOT/$f" --netascii-of || fail "raw get failed"
	done

	check "netascii tsize of $f is the wire size ($(wire_size "$ROOT/$f"))"
	probe rrq "$f" netascii tsize=0
	oack_has "tsize=$(wire_size "$ROOT/$f")"
done

check "mode NETASCII in capitals is netascii too"
raw get 127.0.0.1 "$PORT" text.txt --mode NETASCII --expect "$ROOT/text.txt" \
    --netascii-of || fail "raw get failed"

check "the log says mode=netascii"
wait_xfer text.txt 'op=rrq .*mode=netascii .*result=ok' 5 5

mkdir "$ROOT/up"
for f in text.txt binary.bin; do
	check "tftp-hpa mode netascii upload of $f stores the original"
	hpa_put "$ROOT/$f" "up/hpa-$f" netascii > "$T/client.out" 2>&1 ||
	    fail "tftp exited with $?"
	grep -q 'Error' "$T/client.out" &&
	    fail "tftp said: $(cat "$T/client.out")"
	same "$ROOT/$f" "$ROOT/up/hpa-$f"

	check "raw: netascii wire form of $f uploaded is stored as the original"
	raw put 127.0.0.1 "$PORT" "up/raw-$f" "$ROOT/$f" --mode netascii \
	    --encode-netascii || fail "raw put failed"
	same "$ROOT/$f" "$ROOT/up/raw-$f"

	check "raw: the same with blksize 8 (CR LF split across blocks)"
	raw put 127.0.0.1 "$PORT" "up/raw8-$f" "$ROOT/$f" --mode netascii \
	    --encode-netascii --opt blksize=8 || fail "raw put failed"
	same "$ROOT/$f" "$ROOT/up/raw8-$f"
done
no_temp_files "$ROOT"

# The server logs an upload's end after dallying; wait for all at once.
check "the log: every netascii upload ended ok with mode=netascii"
for f in text.txt binary.bin; do
	for u in hpa raw raw8; do
		wait_xfer "up/$u-$f" 'op=wrq .*mode=netascii .*result=ok' 1 10
	done
done

check "server still running"
alive && ok || fail "server died"

finish
