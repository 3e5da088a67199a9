#!/bin/bash
# origin.sh -- the origin cache (issue 15) in front of a real nginx,
# started by the test on loopback (originlib.sh):
# (a) a miss is fetched once and served byte-exact (tftp-hpa, curl,
#     busybox, rawtftp.py), tsize in the OACK is the file's size on a
#     miss and on a hit; repeated requests make no second origin GET;
#     a file in a subdirectory; a file the origin lacks -> ERROR 1, and
#     root is not consulted for a path under an origin's prefix; the
#     cached copy sits at cache_dir/data/<16 hex>/PATH, tmp/ is empty;
# (b) single flight: 20 concurrent curl clients for one uncached 8 MiB
#     file (sent by nginx at 4 MiB/s, so they overlap the fetch) cause
#     exactly one origin GET and every copy verifies;
# (c) a dynamic origin (pxelinux.cfg -> nginx /dyn/, which echoes
#     X-TFTP-Client and X-TFTP-File): per-client content, fetched on
#     every request (ttl 0);
# (d) owlctl cache list shows the cached files; owlctl cache purge PATH
#     removes one ("purged N") and the next request refetches it;
#     owlctl stats has the origin/cache counters;
# (e) restart: a new server on the same cache_dir serves the cached
#     files with nginx stopped; a miss is then refused (ERROR 0 "origin:
#     unreachable") within a bound;
# (f) revalidation (cache_ttl = 1): a file changed on the origin -> the
#     first request after the ttl gets the old content (stale while
#     revalidating), a later one the new; an unchanged file revalidates
#     with a conditional GET answered 304 and is still served; with the
#     origin down, stale copies are served and "unreachable, serving
#     cached copies" is logged once;
# (g) eviction: cache_max_bytes = 3 MiB, four 1 MB files fetched one
#     after another (the first one used again before the fourth): the
#     least recently used one is evicted (a new request refetches it),
#     the others are not, data/ holds <= 3 MiB.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
CLIENT_TIMEOUT=${CLIENT_TIMEOUT:-60}
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"
. "$TESTS_SRCDIR/originlib.sh"

need_cmd curl tftp python3 sha256sum
need_nginx
py_resolve
HAVE_BB=
busybox --list 2>/dev/null | grep -qx tftp && HAVE_BB=1

# What the origin serves: $WWW/tftp/ is the "/" origin, the same files
# rate-limited under /slow/tftp/ for the "slow" origin.
WWW=$T/www
mkdir -p "$WWW/tftp/sub/dir" || exit 99
mkfile "$WWW/tftp/a.bin" 100000
mkfile "$WWW/tftp/b.bin" 70001
mkfile "$WWW/tftp/sub/dir/c.bin" 1500
mkfile "$WWW/tftp/big.bin" 8388608		# 8 MiB, single flight
for i in 1 2 3 4; do
	mkfile "$WWW/tftp/e$i.bin" 1000000	# eviction: 4 x 1 MB > 3 MiB
done
printf 'revalidate me: version 1\n' > "$WWW/tftp/r1.txt"
printf 'unchanged all along\n' > "$WWW/tftp/r2.txt"
# Old mtimes: a changed file then gets a new ETag and Last-Modified even
# within the same second.
touch -d @1600000000 "$WWW/tftp/r1.txt" "$WWW/tftp/r2.txt"
chmod -R a+rX "$WWW"
# In root but not on the origin: must not be served (ERROR 1).
mkfile "$ROOT/local-only.bin" 1000
mkdir -p "$ROOT/pxelinux.cfg" && printf 'from root\n' > "$ROOT/pxelinux.cfg/01-cc"

start_nginx "$WWW"
NG=$NGINX_PORT
U=http://127.0.0.1:$NG
CACHE=$T/cache
FETCH_WAIT=20000	# ms a raw probe waits for the first reply to a miss

# origin_conf TTL [SETTING]...: the config with our three origins.
origin_conf() {
	local ttl=$1
	shift
	write_conf "origins = (
	{ prefix = \"/\"; url = \"$U/tftp/\"; },
	{ prefix = \"slow\"; url = \"$U/slow/tftp/\"; },
	{ prefix = \"pxelinux.cfg\"; url = \"$U/dyn/\"; dynamic = true;
	  ttl = 0; }
)" "cache_dir = \"$CACHE\"" "cache_ttl = $ttl" \
	    'origin_timeout_ms = 10000' "$@"
}

# fetch_ok NAME HOW: download NAME with client HOW (hpa, curl, bb, raw)
# and assert it equals $WWW/tftp/NAME.
fetch_ok() {
	local name=$1 how=$2 out rc
	out=$OUT/${1//\//_}.$2
	rm -f "$out"
	case $how in
	hpa)	hpa_get "$name" "$out" ;;
	curl)	curl_get "$name" "$out" ;;
	bb)	bb_get "$name" "$out" ;;
	raw)	rawq get 127.0.0.1 "$PORT" "$name" --out "$out" \
		    > "$T/raw.out" 2>&1 ;;
	esac
	rc=$?
	[ "$how" = raw ] && [ $rc -ne 0 ] && sed 's/^/    /' "$T/raw.out" >&2
	if [ $rc -ne 0 ]; then
		fail "$how get $name: exit $rc"
		return 1
	fi
	if [ "$(sha "$out")" != "$(sha "$WWW/tftp/$name")" ]; then
		fail "$how get $name: sha256 differs ($(stat -c %s "$out")" \
		    "bytes, want $(stat -c %s "$WWW/tftp/$name"))"
		return 1
	fi
	ok "$how get $name: sha256 matches ($(stat -c %s "$out") bytes)"
}

# gets_are URI N: assert nginx logged exactly N GETs for URI (waiting,
# bounded, for a late log line; then a moment more, for an extra one).
gets_are() {
	wait_origin_gets "$1" "$2" 5
	sleep 0.3
	local n
	n=$(origin_gets "$1")
	if [ "$n" -eq "$2" ]; then
		ok "$CUR: $n origin GET(s) for $1"
		return 0
	fi
	fail "$n origin GETs for $1, want $2: $(origin_log_lines "$1" |
	    head -n 5)"
	return 1
}

origin_conf 300
conf_accepted
start_server

# ---------------------------------------------------------------- (a)
check "a miss is fetched from the origin and served byte-exact (tftp-hpa)"
fetch_ok a.bin hpa
gets_are /tftp/a.bin 1

check "tsize in the OACK is the size, on a miss (b.bin)"
probeq rrq b.bin octet tsize=0 blksize=1428 --wait "$FETCH_WAIT"
oack_has tsize=70001 blksize=1428
check "tsize in the OACK is the size, on a hit (a.bin)"
probeq rrq a.bin octet tsize=0 --wait "$FETCH_WAIT"
oack_has tsize=100000
check "b.bin (cached by the tsize probe) served byte-exact by curl, one GET"
fetch_ok b.bin curl
gets_are /tftp/b.bin 1

check "a second request, by every client, makes no second origin GET"
fetch_ok a.bin hpa
fetch_ok a.bin curl
fetch_ok a.bin raw
[ -n "$HAVE_BB" ] && fetch_ok a.bin bb
fetch_ok b.bin hpa
gets_are /tftp/a.bin 1
gets_are /tftp/b.bin 1

check "a file in a subdirectory of the origin"
fetch_ok sub/dir/c.bin curl
fetch_ok sub/dir/c.bin hpa
gets_are /tftp/sub/dir/c.bin 1

check "a file the origin lacks: ERROR 1 (404), no cache entry"
probeq rrq no-such.bin octet --wait "$FETCH_WAIT"
expect_reply 'ERROR 1 *'
no_cache_entry "$CACHE" no-such.bin
check "root is not consulted under an origin's prefix: local-only.bin -> ERROR 1"
probeq rrq local-only.bin octet --wait "$FETCH_WAIT"
expect_reply 'ERROR 1 *'

check "cache layout: data/<16 hex>/a.bin equals the origin's, meta/ has it, tmp/ empty"
f0=$FAILS
files=$(cache_data_files "$CACHE" a.bin)
if [ "$(printf '%s\n' "$files" | grep -c .)" -ne 1 ]; then
	fail "want one data/*/a.bin, found: '$files'"
else
	key=${files#"$CACHE"/data/}
	key=${key%%/*}
	[[ $key =~ ^[0-9a-f]{16}$ ]] ||
	    fail "data/$key/: not 16 hex digits"
	cmp -s "$files" "$WWW/tftp/a.bin" || fail "$files differs from the origin's"
	[ -e "$CACHE/meta/$key/a.bin" ] || fail "no meta/$key/a.bin"
fi
[ -z "$(find "$CACHE/tmp" -type f 2>/dev/null)" ] ||
    fail "tmp/ is not empty: $(find "$CACHE/tmp" -type f)"
[ "$FAILS" -eq "$f0" ] && ok "$files"

# ---------------------------------------------------------------- (b)
check "single flight: 20 concurrent curl clients, one uncached 8 MiB file, ONE origin GET"
want=$(sha "$WWW/tftp/big.bin")
pids=
for i in $(seq 1 20); do
	tmo curl -sS --tftp-blksize 8192 -o "$OUT/sf.$i" \
	    "tftp://127.0.0.1:$PORT/slow/big.bin" 2> "$OUT/sf.$i.err" &
	pids="$pids $!"
done
f0=$FAILS
i=0
for p in $pids; do
	i=$((i + 1))
	wait "$p" || fail "client $i: curl exit $? $(cat "$OUT/sf.$i.err")"
done
bad=0
for i in $(seq 1 20); do
	[ -e "$OUT/sf.$i" ] && [ "$(sha "$OUT/sf.$i")" = "$want" ] ||
	    bad=$((bad + 1))
done
[ $bad -eq 0 ] || fail "$bad of 20 copies differ from the origin's file"
[ "$FAILS" -eq "$f0" ] && ok "20 copies verified"
gets_are /slow/tftp/big.bin 1
rm -f "$OUT"/sf.*

# ---------------------------------------------------------------- (c)
# dyn_get SRC NAME: download NAME (rawtftp.py xget from source address
# SRC) into $OUT/dyn; sets DYN to its content.
dyn_get() {
	rm -f "$OUT/dyn"
	DYN=
	rawq xget 127.0.0.1 "$PORT" "$2" --src "$1" --out "$OUT/dyn" \
	    > "$T/raw.out" 2>&1 || {
		fail "xget $2 from $1: $(cat "$T/raw.out")"
		return 1
	}
	DYN=$(cat "$OUT/dyn")
}
SRC2=
python3 -c 'import socket
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).bind(("127.0.0.2", 0))' \
    2>/dev/null && SRC2=127.0.0.2
check "dynamic origin: the content names the client (127.0.0.1)"
dyn_get 127.0.0.1 pxelinux.cfg/01-aa &&
    { [ "$DYN" = "client=127.0.0.1 file=pxelinux.cfg/01-aa" ] &&
	ok "'$DYN'" || fail "got '$DYN'"; }
if [ -n "$SRC2" ]; then
	check "dynamic origin: the content names the client (127.0.0.2)"
	dyn_get 127.0.0.2 pxelinux.cfg/01-aa &&
	    { [ "$DYN" = "client=127.0.0.2 file=pxelinux.cfg/01-aa" ] &&
		ok "'$DYN'" || fail "got '$DYN'"; }
else
	echo "note: cannot bind 127.0.0.2: dynamic content from 127.0.0.1 only"
fi
check "dynamic origin: fetched for every request (ttl 0)"
dyn_get 127.0.0.1 pxelinux.cfg/01-aa &&
    { [ "$DYN" = "client=127.0.0.1 file=pxelinux.cfg/01-aa" ] &&
	ok "'$DYN'" || fail "got '$DYN'"; }
gets_are /dyn/01-aa "$([ -n "$SRC2" ] && echo 3 || echo 2)"
check "dynamic origin, curl: another name; root's pxelinux.cfg/01-cc is not used"
out=$(tmo curl -sS "tftp://127.0.0.1:$PORT/pxelinux.cfg/01-cc")
[ "$out" = "client=127.0.0.1 file=pxelinux.cfg/01-cc" ] && ok "'$out'" ||
    fail "got '$out'"

# ---------------------------------------------------------------- (d)
# cache_entry LIST NAME: from LIST ("owlctl -r cache list": files=N,
# file.N.name, .bytes, .age_s, .state, .url), the entry whose name is
# NAME (with or without a leading slash) as "bytes state url", or nothing.
cache_entry() {
	printf '%s\n' "$1" | awk -F= -v n="$2" '
	    { k = $1; v = substr($0, length($1) + 2) }
	    k ~ /^file\.[0-9]+\.name$/ && (v == n || v == "/" n) {
		split(k, a, "."); want = a[2] }
	    { split(k, a, "."); val[a[2], a[3]] = v }
	    END { if (want != "") print val[want, "bytes"], val[want, "state"],
		val[want, "url"] }'
}

check "owlctl cache list: an entry per cached file (name, bytes, age, fresh, url)"
list=$(ctl -r cache list)
rc=$?
echo "$list" | sed 's/^/    /'
f0=$FAILS
[ $rc -eq 0 ] || fail "owlctl cache list: exit $rc"
for kv in a.bin:100000 b.bin:70001 sub/dir/c.bin:1500 slow/big.bin:8388608; do
	n=${kv%%:*}
	e=$(cache_entry "$list" "$n")
	if [ -z "$e" ]; then
		fail "no entry for $n"
		continue
	fi
	read -r bytes state url <<< "$e"
	[ "$bytes" = "${kv#*:}" ] || fail "$n: bytes $bytes, want ${kv#*:}"
	[ "$state" = fresh ] || fail "$n: state '$state', want fresh"
	[[ $url == "$U/"* ]] || fail "$n: url '$url' is not under $U/"
done
[ "$FAILS" -eq "$f0" ] && ok

check "owlctl cache purge a.bin: 'purged N', gone from the list and data/"
out=$(ctl cache purge a.bin)
rc=$?
f0=$FAILS
[ $rc -eq 0 ] && [[ $out =~ purged[\ =][1-9] ]] ||
    fail "exit $rc, output '$out'"
[ -z "$(cache_entry "$(ctl -r cache list)" a.bin)" ] ||
    fail "a.bin still listed"
[ -z "$(cache_data_files "$CACHE" a.bin)" ] ||
    fail "still in data/: $(cache_data_files "$CACHE" a.bin)"
[ -n "$(cache_data_files "$CACHE" b.bin)" ] || fail "b.bin went too"
[ "$FAILS" -eq "$f0" ] && ok "$out"
check "after the purge, a.bin is fetched again (a second origin GET)"
fetch_ok a.bin curl
gets_are /tftp/a.bin 2
gets_are /tftp/b.bin 1

check "owlctl stats has the origin and cache counters"
st=$(ctl stats)
miss=
for k in origin_fetches origin_bytes origin_errors origin_not_modified \
    origin_stale_served cache_hits cache_misses cache_evictions \
    cache_bytes cache_files; do
	printf '%s\n' "$st" | grep -qE "(^|\.)$k=" || miss="$miss $k"
done
[ -z "$miss" ] && ok || fail "missing:$miss"

# ---------------------------------------------------------------- (e)
stop_server
stop_nginx
check "restart on the same cache_dir, nginx stopped: cached files served"
start_server
fetch_ok a.bin hpa
fetch_ok b.bin curl
fetch_ok sub/dir/c.bin raw
check "after the restart, owlctl cache list still has them"
list=$(ctl -r cache list)
f0=$FAILS
for n in a.bin b.bin; do
	[ -n "$(cache_entry "$list" "$n")" ] || fail "no entry for $n: $list"
done
[ "$FAILS" -eq "$f0" ] && ok
check "origin down: a miss is refused with ERROR 0 'origin: unreachable' within 10 s"
t0=$(now_ms)
probeq rrq never-cached.bin octet --wait "$FETCH_WAIT"
ms=$(($(now_ms) - t0))
expect_reply 'ERROR 0 origin: unreachable'
[ $ms -lt 10000 ] && ok "answer after $ms ms" || fail "answer after $ms ms"
no_cache_entry "$CACHE" never-cached.bin
stop_server
start_nginx "$WWW" "$NG"

# ---------------------------------------------------------------- (f)
origin_conf 1
start_server
check "revalidation: r1.txt and r2.txt fetched (cache_ttl = 1)"
fetch_ok r1.txt curl
fetch_ok r2.txt curl
gets_are /tftp/r1.txt 1
cp "$WWW/tftp/r1.txt" "$T/r1.old"
printf 'revalidate me: version 2, longer\n' > "$WWW/tftp/r1.txt.new"
mv "$WWW/tftp/r1.txt.new" "$WWW/tftp/r1.txt"
chmod a+r "$WWW/tftp/r1.txt"
sleep 2
check "r1.txt changed on the origin, ttl over: the first request gets the old content"
rm -f "$OUT/r1"
curl_get r1.txt "$OUT/r1" && cmp -s "$OUT/r1" "$T/r1.old" &&
    ok "stale copy served: $(cat "$OUT/r1")" ||
    fail "got '$(cat "$OUT/r1" 2>/dev/null)', want the old content"
check "r1.txt: a later request (polled, 10 s) gets the new content"
_r1_new() {
	curl_get r1.txt "$OUT/r1" 2>/dev/null &&
	    cmp -s "$OUT/r1" "$WWW/tftp/r1.txt"
}
if wait_for 10 _r1_new; then
	ok "new content: $(cat "$OUT/r1")"
else
	fail "still '$(cat "$OUT/r1" 2>/dev/null)' after 10 s"
fi
check "r1.txt: the revalidation was a conditional GET answered 200"
# Not an exact count: with ttl 1 the polling itself may revalidate again
# (a 304 then).
n=$(origin_cond_gets /tftp/r1.txt 200)
[ "$n" -ge 1 ] && ok "$n" ||
    fail "no conditional GET with 200: $(origin_log_lines /tftp/r1.txt)"

check "r2.txt unchanged, ttl over: served, revalidated with a 304"
sleep 1.2
fetch_ok r2.txt hpa
_cond304() {
	[ "$(origin_cond_gets "$1" 304)" -ge 1 ]
}
if wait_for 10 _cond304 /tftp/r2.txt; then
	ok "$(origin_log_lines /tftp/r2.txt | tail -n 1)"
else
	fail "no conditional GET answered 304: $(origin_log_lines /tftp/r2.txt)"
fi
check "r2.txt still served after the 304"
fetch_ok r2.txt curl
fetch_ok r2.txt raw

check "origin down, ttl over: stale copies served; 'unreachable ... cached copies' logged once"
stop_nginx
sleep 1.2
f0=$FAILS
for k in 1 2 3; do
	fetch_ok r2.txt curl
	sleep 1.1
done
fetch_ok b.bin hpa
# The spec's "origin ... unreachable, serving cached copies"; the
# daemon says "origin URL: unreachable; cached copies are served until
# it answers".  Either, once (not the per-fetch warnings).
n=$(grep -acE 'origin .*unreachable.*cached copies' "$LOG")
[ "$n" -eq 1 ] || fail "logged $n times, want once"
[ "$FAILS" -eq "$f0" ] && ok
stop_server
start_nginx "$WWW" "$NG"

# ---------------------------------------------------------------- (g)
CACHE=$T/cache-evict
origin_conf 300 'cache_max_bytes = 3145728'
start_server
check "eviction: e1, e2, e3 fetched, e1 used again, then e4"
for i in 1 2 3; do
	fetch_ok e$i.bin curl
	sleep 1.1	# distinct use times, whatever their resolution
done
fetch_ok e1.bin hpa
sleep 1.1
fetch_ok e4.bin curl
check "eviction: data/ holds <= 3 MiB (and not nothing)"
_data_fits() {
	local n
	n=$(cache_data_bytes "$CACHE")
	[ "$n" -le 3145728 ] && [ "$n" -ge 2000000 ]
}
wait_for 5 _data_fits && ok "$(cache_data_bytes "$CACHE") bytes" ||
    fail "$(cache_data_bytes "$CACHE") bytes: $(find "$CACHE/data" -type f)"
check "eviction: e2 (least recently used) is gone, e1, e3, e4 are not"
f0=$FAILS
[ -z "$(cache_data_files "$CACHE" e2.bin)" ] || fail "e2.bin still cached"
for i in 1 3 4; do
	[ -n "$(cache_data_files "$CACHE" e$i.bin)" ] ||
	    fail "e$i.bin was evicted"
done
[ "$FAILS" -eq "$f0" ] && ok
check "eviction: e1, e3, e4 served without an origin GET; e2 refetched"
for i in 1 3 4; do
	fetch_ok e$i.bin raw
	gets_are /tftp/e$i.bin 1
done
fetch_ok e2.bin curl
gets_are /tftp/e2.bin 2

finish
