#!/bin/bash
# origin-faults.sh -- the origin cache (issue 15) against a misbehaving
# origin, tests/originfault.py: every fault of a miss gets the spec's
# ERROR (read exactly with rawtftp.py) within a bound and leaves no
# cache entry (nothing under cache_dir/data for that path, tmp/ empty):
#   404, 410 -> ERROR 1 "File not found"; 401, 403 -> ERROR 2 "Access
#   violation"; 500, 503 -> ERROR 0 "origin: HTTP 5xx"; a redirect loop
#   -> ERROR 0 "origin: too many redirects" (5 hops are followed, 6 are
#   too many); a body shorter / longer than Content-Length -> ERROR 0
#   "origin: body shorter|longer than Content-Length" (longer: with the
#   connection closed after it, and kept open); a closed port ->
#   ERROR 0 "origin: unreachable"; a dynamic origin's body over its
#   max_bytes (Content-Length 5000 > 1000; 64 MiB > 1 MiB) -> ERROR 0
#   "origin: file too large", one within it is served;
# a redirect chain of 2 is followed and served; single flight: 10
# concurrent clients on a slow (2 s) answer -> one origin GET;
# with origin_timeout_ms = 1500: an origin that never answers, and one
# that drips a byte a second -> ERROR 0 "origin: timed out" in < 10 s
# (a guard against a hang, not a speed check); origin stopped after a
# file was cached -> that file still served, a miss refused ("origin:
# unreachable") within the bound.
# A full disk: cache_dir on a 1 MiB tmpfs; a 2 MiB file -> ERROR 0
# "cache: disk full", nothing left in data/ or tmp/, the cached files
# still served and a file that fits is then fetched (the space was
# freed).  Skipped, with a note, where a tmpfs cannot be mounted.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"
. "$TESTS_SRCDIR/originlib.sh"

need_cmd curl python3 sha256sum
py_resolve

FILES=$T/faultfiles
mkdir -p "$FILES" || exit 99
mkfile "$FILES/r.bin" 3000		# the end of the redirect chains
mkfile "$FILES/keep.bin" 200000		# cached, then the origin stops
mkfile "$FILES/sf.bin" 300000		# single flight
mkfile "$FILES/small.bin" 900		# dynamic, within max_bytes
mkfile "$FILES/big.bin" 5000		# dynamic, over max_bytes
mkfile "$FILES/other.bin" 1000		# a miss once the origin is down
mkfile "$FILES/huge.bin" 2097152	# over the 1 MiB tmpfs cache_dir
mkfile "$FILES/fits.bin" 400000		# fits once huge.bin's space is freed
start_faultorigin "$FILES"
F=http://127.0.0.1:$FAULT_PORT
CLOSED=$(closed_port) || die "no closed loopback port found"
CACHE=$T/cache
BOUND_MS=10000		# a refusal must come sooner: a guard against a hang
FETCH_WAIT=20000	# ms a raw probe waits for the first reply

# fault_conf TIMEOUT_MS: the config: "/" is originfault.py, "down" a
# closed port, "dynok" and "dynbig" dynamic origins with size limits.
fault_conf() {
	write_conf "origins = (
	{ prefix = \"/\"; url = \"$F/\"; },
	{ prefix = \"down\"; url = \"http://127.0.0.1:$CLOSED/\"; },
	{ prefix = \"dynok\"; url = \"$F/ok/\"; dynamic = true;
	  max_bytes = 1000; },
	{ prefix = \"dynbig\"; url = \"$F/\"; dynamic = true;
	  max_bytes = 1048576; }
)" "cache_dir = \"$CACHE\"" 'cache_ttl = 300' "origin_timeout_ms = $1"
}

# refused NAME REPLY-GLOB [data-only]: request NAME (rawtftp.py probe),
# assert the first answer matches REPLY-GLOB within BOUND_MS and that no
# cache entry was made for NAME (with data-only, tmp/ is not looked at:
# after a timeout the fetch may still be under way there).
refused() {
	local t0 ms
	t0=$(now_ms)
	probeq rrq "$1" octet --wait "$FETCH_WAIT"
	ms=$(($(now_ms) - t0))
	expect_reply "$2"
	if [ $ms -lt $BOUND_MS ]; then
		ok "$CUR: answered after $ms ms"
	else
		fail "answered after $ms ms (bound $BOUND_MS ms)"
	fi
	if [ "${3:-}" = data-only ]; then
		[ -z "$(cache_data_files "$CACHE" "$1")" ] &&
		    ok "$CUR: nothing in data/ for $1" ||
		    fail "cached: $(cache_data_files "$CACHE" "$1")"
	else
		no_cache_entry "$CACHE" "$1"
	fi
}

# served NAME FILE: rawtftp.py get NAME, content must equal FILE.
served() {
	if rawq get 127.0.0.1 "$PORT" "$1" --expect "$2" --deadline 30 \
	    > "$T/raw.out" 2>&1; then
		ok "$CUR: $1 served, equal to $(basename "$2")"
		return 0
	fi
	fail "$1: $(grep -v '^ok' "$T/raw.out" | head -n 3)"
	return 1
}

fault_conf 10000
conf_accepted
start_server

check "a file the origin has: served (the fault server itself works)"
served ok/r.bin "$FILES/r.bin"
check "404 -> ERROR 1 File not found"
refused 404 'ERROR 1 File not found'
check "410 -> ERROR 1 File not found"
refused 410 'ERROR 1 File not found'
check "a name missing in /ok/ (404) -> ERROR 1 File not found"
refused ok/no-such.bin 'ERROR 1 File not found'
check "401 -> ERROR 2 Access violation"
refused 401 'ERROR 2 Access violation'
check "403 -> ERROR 2 Access violation"
refused 403 'ERROR 2 Access violation'
check "500 -> ERROR 0 origin: HTTP 500"
refused 500 'ERROR 0 origin: HTTP 500'
check "503 -> ERROR 0 origin: HTTP 503"
refused 503 'ERROR 0 origin: HTTP 503'
check "500 again: the same ERROR (nothing cached by the first)"
refused 500 'ERROR 0 origin: HTTP 500'
check "a redirect loop -> ERROR 0 origin: too many redirects"
refused redirect-loop 'ERROR 0 origin: too many redirects'
check "a redirect chain of 2 hops: served"
served redirect/2/r.bin "$FILES/r.bin"
check "a redirect chain of 5 hops (the limit): served"
served redirect/5/r.bin "$FILES/r.bin"
check "a redirect chain of 6 hops -> ERROR 0 origin: too many redirects"
refused redirect/6/r.bin 'ERROR 0 origin: too many redirects'
check "a body shorter than Content-Length -> ERROR 0"
refused short 'ERROR 0 origin: body shorter than Content-Length'
check "a body longer than Content-Length, then the origin closes -> ERROR 0"
refused long 'ERROR 0 origin: body longer than Content-Length'
check "a body longer than Content-Length, the connection kept open -> ERROR 0"
refused long-keepalive 'ERROR 0 origin: body longer than Content-Length'
check "connection refused (a closed port) -> ERROR 0 origin: unreachable"
refused down/x.bin 'ERROR 0 origin: unreachable'
check "dynamic, within max_bytes (900 <= 1000): served"
served dynok/small.bin "$FILES/small.bin"
check "dynamic, Content-Length 5000 > max_bytes 1000 -> ERROR 0 origin: file too large"
refused dynok/big.bin 'ERROR 0 origin: file too large'
check "dynamic, 64 MiB > max_bytes 1 MiB -> ERROR 0 origin: file too large"
refused dynbig/big 'ERROR 0 origin: file too large'

check "single flight: 10 concurrent clients, an answer that takes 2 s, one origin GET"
pids=
for i in $(seq 1 10); do
	rawq get 127.0.0.1 "$PORT" count/sf.bin --expect "$FILES/sf.bin" \
	    --opt blksize=1428 --deadline 30 > "$T/sf.$i.out" 2>&1 &
	pids="$pids $!"
done
f0=$FAILS
i=0
for p in $pids; do
	i=$((i + 1))
	wait "$p" || fail "client $i: $(grep -v '^ok' "$T/sf.$i.out" |
	    head -n 2)"
done
n=$(fault_gets /count/sf.bin)
[ "$n" = 1 ] || fail "$n origin GETs for /count/sf.bin, want 1"
[ "$FAILS" -eq "$f0" ] && ok "10 copies verified, 1 origin GET"

check "the cache holds what was served, nothing of the faults"
f0=$FAILS
for n in ok/r.bin redirect/2/r.bin count/sf.bin; do
	[ -n "$(cache_data_files "$CACHE" "$n")" ] || fail "$n not cached"
done
[ "$FAILS" -eq "$f0" ] && ok "$(cd "$CACHE/data" 2>/dev/null &&
    find . -type f | tr '\n' ' ')"

# ---------------------------------------------------------------- timeouts
stop_server
fault_conf 1500
start_server
check "origin_timeout_ms = 1500, an origin that never answers -> ERROR 0 origin: timed out"
refused slow 'ERROR 0 origin: timed out'
check "origin_timeout_ms = 1500, an origin that drips a byte a second -> ERROR 0 origin: timed out"
refused drip 'ERROR 0 origin: timed out' data-only

check "origin stopped after caching keep.bin: keep.bin still served"
served ok/keep.bin "$FILES/keep.bin"
stop_faultorigin
served ok/keep.bin "$FILES/keep.bin"
check "origin stopped: a miss is refused with ERROR 0 origin: unreachable"
refused ok/other.bin 'ERROR 0 origin: unreachable'
check "origin stopped: the server is still alive and serving"
if alive; then
	served ok/keep.bin "$FILES/keep.bin"
else
	fail "the server is gone"
fi
stop_server

# ---------------------------------------------------------------- disk full
start_faultorigin "$FILES" "$FAULT_PORT"
mkdir "$T/small" || exit 99
if mount -t tmpfs -o size=1m,mode=755 tmpfs "$T/small" 2> "$T/mount.err"
then
	ORIGIN_MOUNTS=$T/small
	CACHE=$T/small/cache
	fault_conf 10000
	start_server
	check "cache_dir on a 1 MiB tmpfs: keep.bin (200000 bytes) cached and served"
	served ok/keep.bin "$FILES/keep.bin"
	check "a 2 MiB file does not fit -> ERROR 0 cache: disk full"
	refused ok/huge.bin 'ERROR 0 cache: disk full'
	df -k "$T/small" | tail -n 1 | sed 's/^/    df: /'
	check "after the full disk: keep.bin still served, a 400000-byte file fits"
	served ok/keep.bin "$FILES/keep.bin"
	served ok/fits.bin "$FILES/fits.bin"
	stop_server
	# shellcheck disable=SC2034 # originlib.sh's cleanup reads it
	umount "$T/small" && ORIGIN_MOUNTS=
else
	echo "note: cannot mount a tmpfs, the disk-full checks are skipped:" \
	    "$(cat "$T/mount.err")" >&2
fi

finish
