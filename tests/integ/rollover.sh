#!/bin/bash
# rollover.sh -- block numbers past 65535: a 33 MiB file at blksize 512
# (67584 full blocks and an empty last one) downloaded with curl,
# tftp-hpa and atftp (cmp); the raw client checks which block number
# follows 65535 with rollover=1 (1), rollover=0 (0) and no option (0);
# uploads of the same file with curl -T and with the raw client
# (rollover=1) wrap too.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"

need_cmd curl tftp atftp python3

SIZE=$((33 * 1024 * 1024))
mkfile "$ROOT/big.bin" $SIZE
mkdir "$ROOT/up"

write_conf 'uploads = "create"' 'permission_check = false'
start_server

# First the upload: curl asks for timeout=6, so the server dallies 12 s
# after the last ACK before it logs the end; the downloads run meanwhile.
check "curl -T upload of 33 MiB at blksize 512 (DATA numbers wrap)"
curl_put "$ROOT/big.bin" up/curl.bin --tftp-blksize 512 ||
    fail "curl exited with $?"
same "$ROOT/big.bin" "$ROOT/up/curl.bin"

check "curl --tftp-blksize 512, 33 MiB"
curl_get big.bin "$OUT/curl" --tftp-blksize 512 || fail "curl exited with $?"
same "$ROOT/big.bin" "$OUT/curl"

check "tftp-hpa (512, no options), 33 MiB"
hpa_get big.bin "$OUT/hpa" > "$T/client.out" 2>&1 ||
    fail "tftp exited with $?: $(tail -n 3 "$T/client.out")"
same "$ROOT/big.bin" "$OUT/hpa"

check "atftp (512), 33 MiB"
atftp_get big.bin "$OUT/atftp" > "$T/client.out" 2>&1 ||
    fail "atftp exited with $?: $(tail -n 3 "$T/client.out")"
same "$ROOT/big.bin" "$OUT/atftp"
rm -f "$OUT/curl" "$OUT/hpa" "$OUT/atftp"

check "raw: rollover=1 -- the block after 65535 is 1"
raw get 127.0.0.1 "$PORT" big.bin --opt blksize=512 --opt rollover=1 \
    --opt windowsize=16 --expect-oack rollover=1 --check-wrap 1 \
    --expect "$ROOT/big.bin" || fail "rollover=1 download failed"

check "raw: rollover=0 -- the block after 65535 is 0"
raw get 127.0.0.1 "$PORT" big.bin --opt blksize=512 --opt rollover=0 \
    --opt windowsize=16 --expect-oack rollover=0 --check-wrap 0 \
    --expect "$ROOT/big.bin" || fail "rollover=0 download failed"

check "raw: no rollover option -- the block after 65535 is 0"
raw get 127.0.0.1 "$PORT" big.bin --opt windowsize=16 --wrap 0 \
    --check-wrap 0 --expect "$ROOT/big.bin" ||
    fail "default-wrap download failed"

check "the log: every 33 MiB download ended ok with bytes=$SIZE"
wait_xfer big.bin "op=rrq .*bytes=$SIZE .*result=ok" 6 10

check "the log: the curl upload ended ok"
wait_xfer up/curl.bin "op=wrq .*bytes=$SIZE .*result=ok" 1 20

check "raw upload of 33 MiB with rollover=1"
raw put 127.0.0.1 "$PORT" up/raw.bin "$ROOT/big.bin" --opt rollover=1 \
    --opt blksize=512 --opt windowsize=8 || fail "raw upload failed"
wait_xfer up/raw.bin "op=wrq .*result=ok" 1 10
same "$ROOT/big.bin" "$ROOT/up/raw.bin"
no_temp_files "$ROOT"

check "server still running"
alive && ok || fail "server died"

finish
