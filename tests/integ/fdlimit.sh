#!/bin/bash
# fdlimit.sh -- the open files limit (RLIMIT_NOFILE).
#
# Started with soft 256 / hard 1024 and without CAP_SYS_RESOURCE, the
# master cannot raise the hard limit: it raises the soft one to the hard
# one, its workers inherit it, and one line at start says the limit in
# effect ("open files limit 1024 (wanted N)").
#
# Under soft = hard = 128 (nothing to raise), each worker's open-file
# cache keeps at most a quarter of the limit (32 files): a download load
# over 400 distinct files on two workers is served in full, and uploads
# and files never read before still are after it.  With one worker, its
# cache full of idle files and uploads taking the remaining descriptors,
# further uploads close cached files to get theirs (fcache_evicted); held
# downloads of distinct files until nothing is left: the rest get ERROR 0
# "server busy" (never "Undefined error"), counted in fd_refused; a
# 2.5 s flood of such refusals logs at most ten lines a second
# ("suppressed").  After every load each worker's descriptors other than
# cached files are the ones it had idle.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"

need_cmd python3 prlimit

REAL_OWLTFTPD=$OWLTFTPD

# limited SOFT HARD: from now on start_server runs the daemon under
# these limits, without CAP_SYS_RESOURCE where setpriv can drop it (so
# root cannot raise the hard limit, as in a container).
limited() {
	local drop=
	if command -v setpriv > /dev/null 2>&1 &&
	    setpriv --bounding-set=-sys_resource true 2> /dev/null; then
		drop="setpriv --bounding-set=-sys_resource"
	fi
	cat > "$T/limited" <<EOF
#!/bin/sh
exec prlimit --nofile=$1:$2 $drop "$REAL_OWLTFTPD" "\$@"
EOF
	chmod 755 "$T/limited"
	OWLTFTPD=$T/limited
}

# nofile PID: "SOFT HARD" of the process's open files limit.
nofile() {
	awk '/^Max open files/ { print $4, $5 }' "/proc/$1/limits" 2>/dev/null
}

# has_sys_resource PID: the process may raise its hard limits.
has_sys_resource() {
	local eff
	eff=$(awk '$1 == "CapEff:" { print $2 }' "/proc/$1/status")
	[ $(((16#$eff >> 24) & 1)) -eq 1 ]
}

# ================================================================ raise
echo "=== soft 256, hard 1024: the soft limit goes up to the hard one"
# Two workers' shares of 2000 transfers want 2 * 1000 + 512.
WANT=2512
write_conf 'max_transfers = 2000' 'workers = 2' 'log_level = "info"'
limited 256 1024
start_server
read -r -a W <<< "$(workers 2 | tr '\n' ' ')"

check "the master and both workers run with 1024/1024"
if has_sys_resource "$SERVER_PID"; then
	# Cannot happen where setpriv works; then root may raise both.
	echo "note: CAP_SYS_RESOURCE could not be dropped; hard may rise"
	want_soft=$WANT
else
	want_soft=1024
fi
f0=$FAILS
for p in "$SERVER_PID" "${W[@]}"; do
	lim=$(nofile "$p")
	[ "${lim%% *}" = "$want_soft" ] ||
	    fail "pid $p: open files limit '$lim', want soft $want_soft"
done
[ ${#W[@]} -eq 2 ] || fail "${#W[@]} workers, want 2"
[ "$FAILS" -ne "$f0" ] || ok "soft $want_soft in master and workers"

check "one line at start says the limit in effect"
n=$(grep -ac "open files limit $want_soft (wanted $WANT)" "$LOG")
[ "$n" -eq 1 ] && ok "$(grep -a 'open files limit' "$LOG")" ||
    fail "$n lines 'open files limit $want_soft (wanted $WANT)';" \
	"log: $(grep -a 'open files' "$LOG")"

check "after a reload: the new workers have it too, and no second line"
kill -HUP "$SERVER_PID"
wait_for 10 _workers_gen_are 2 2 || fail "no generation 2 after SIGHUP"
f0=$FAILS
for p in $(ctl_workers | awk '$3 == 2 { print $2 }'); do
	lim=$(nofile "$p")
	[ "${lim%% *}" = "$want_soft" ] ||
	    fail "new worker $p: open files limit '$lim'"
done
n=$(grep -ac 'open files limit [0-9]* (wanted' "$LOG")
[ "$n" -eq 1 ] || fail "$n 'open files limit' lines after a reload"
[ "$FAILS" -ne "$f0" ] || ok
stop_server
OWLTFTPD=$REAL_OWLTFTPD

# ================================================================ exhaustion
LIMIT=128
CACHE=$((LIMIT / 4))

# fdload SCENARIO ARGS...: a load client (rawtftp.py manyget, manyhold
# or reqflood): one process, many sockets, every wait bounded.
fdload() {
	timeout -k 2 100 python3 "$RAWTFTP" "$1" 127.0.0.1 "$PORT" "${@:2}"
}

# fd_split PID: "OTHER CACHED": descriptors of PID other than files
# beneath the root, and those (the open-file cache, here).
fd_split() {
	local f t other=0 cached=0
	for f in "/proc/$1/fd/"*; do
		t=$(readlink "$f") || continue
		case $t in
		"$ROOT"/*) cached=$((cached + 1)) ;;
		*) other=$((other + 1)) ;;
		esac
	done
	echo "$other $cached"
}

# _settled PID IDLE: PID's descriptors other than cached files are IDLE
# again, and it keeps at most CACHE files open.
_settled() {
	local split
	split=$(fd_split "$1")
	[ "${split% *}" -eq "$2" ] && [ "${split#* }" -le "$CACHE" ]
}

# settled PID IDLE: wait (bounded) for _settled, else fail.
settled() {
	if wait_for 20 _settled "$1" "$2"; then
		ok "worker $1: $(fd_split "$1" | awk '{ print $1 \
		    " descriptors as idle, " $2 " cached files" }')"
		return 0
	fi
	fail "worker $1: descriptors (other, cached files) $(fd_split "$1")," \
	    "want $2 other and at most $CACHE cached: $(ls -l "/proc/$1/fd" |
	    awk 'NR > 1 { print $NF }' | sort | uniq -c | sort -rn |
	    head -n 5 | tr '\n' ' ')"
	return 1
}

# A small file per name: one DATA block each.
mkdir "$ROOT/many"
for i in $(seq 0 399); do
	echo "file $i" > "$ROOT/many/f$i"
done
for i in $(seq 0 199); do
	mkfile "$ROOT/many/big$i" 2000
done

echo "=== soft = hard = $LIMIT, two workers: a download load"
write_conf 'uploads = "create"' \
    'permission_check = false' 'workers = 2' 'log_level = "info"'
limited $LIMIT $LIMIT
start_server
read -r -a W <<< "$(workers 2 | tr '\n' ' ')"
sleep 0.5
declare -A IDLE
for p in "${W[@]}"; do
	IDLE[$p]=$(fd_split "$p" | awk '{ print $1 }')
done
echo "idle descriptors: $(for p in "${W[@]}"; do echo -n "$p=${IDLE[$p]} "; \
    done)"

check "400 distinct files, 16 at a time: every download served"
out=$(fdload manyget 'many/f%d' 400 16)
[ "$out" = "ok x400" ] && ok "$out" || fail "$out"

check "then an upload and a file never read before are served"
echo upload > "$T/up.txt"
f0=$FAILS
for i in 1 2 3 4; do
	curl_put "$T/up.txt" "up$i.txt" 2> "$T/curl.err" ||
	    fail "upload $i: $(cat "$T/curl.err")"
	curl_get "many/big$i" "$OUT/big$i" 2> "$T/curl.err" ||
	    fail "download of many/big$i: $(cat "$T/curl.err")"
done
[ "$FAILS" -ne "$f0" ] || ok

check "each worker keeps at most $CACHE cached files, nothing else left"
for p in "${W[@]}"; do
	settled "$p" "${IDLE[$p]}"
done
stop_server

echo "=== soft = hard = $LIMIT, one worker: eviction, then exhaustion"
write_conf 'uploads = "create"' \
    'permission_check = false' 'workers = 1' 'log_level = "info"' \
    'timeout_ms = 5000' 'retries = 3'
start_server
W1=$(workers 1)
sleep 0.5
IDLE1=$(fd_split "$W1" | awk '{ print $1 }')
echo "worker $W1: $IDLE1 descriptors idle"

check "60 distinct downloads: at most $CACHE stay cached"
out=$(fdload manyget 'many/f%d' 60 4)
[ "$out" = "ok x60" ] || fail "$out"
read -r other cached <<< "$(fd_split "$W1")"
[ "$cached" -le "$CACHE" ] && [ "$other" -eq "$IDLE1" ] &&
    ok "$cached cached files" ||
    fail "$cached files cached (want at most $CACHE), $other other" \
	"descriptors (idle: $IDLE1)"

# Enough held uploads (two descriptors each) to need the cached files'.
read -r other cached <<< "$(fd_split "$W1")"
NUP=$(((LIMIT - other - cached) / 2 + cached / 4))
check "$NUP held uploads: the cache gives up idle files, all are taken"
rm -f "$T/release"
fdload manyhold wrq 'held-up%d' "$NUP" "$T/release" > "$T/hold.up" &
HOLD=$!
wait_for 30 test -s "$T/hold.up" || fail "no answer to the uploads"
out=$(cat "$T/hold.up")
[ "$out" = "ACK x$NUP" ] && ok "$out" || fail "$out"
ev=$(stat_total fcache_evicted)
[ "${ev:-0}" -gt 0 ] && ok "fcache_evicted=$ev" ||
    fail "fcache_evicted is '$ev', want > 0"
touch "$T/release"
wait "$HOLD"

check "held downloads of distinct files until none is left: ERROR 0" \
    "'server busy', never 'Undefined error'"
rm -f "$T/release"
fdload manyhold rrq 'many/big%d' 200 "$T/release" > "$T/hold.rrq" &
HOLD=$!
wait_for 60 test -s "$T/hold.rrq" || fail "no answer to the downloads"
out=$(cat "$T/hold.rrq")
nbusy=$(sed -n 's/.*ERROR 0 server busy x\([0-9]*\).*/\1/p' <<< "$out")
case $out in
*Undefined*|*NONE*) fail "$out" ;;
"DATA x"*", ERROR 0 server busy x"*) ok "$out" ;;
*) fail "want DATA then 'server busy', got: $out" ;;
esac
check "fd_refused counts them"
expect_stat fd_refused "${nbusy:-0}"

check "a 2.5 s flood while nothing is left: at most 10 log lines a" \
    "second, the rest 'suppressed'"
l0=$(wc -l < "$LOG")
out=$(fdload reqflood 'many/f%d' 2.5)
echo "    $out"
sleep 1.2
fdload reqflood 'many/f%d' 0.05 > /dev/null	# a new second: the summary
n=$(tail -n +"$((l0 + 1))" "$LOG" | grep -ac 'result=refused')
sup=$(tail -n +"$((l0 + 1))" "$LOG" | grep -ac 'suppressed')
case $out in
*"server busy"*) ;;
*) fail "the flood was not refused 'server busy': $out" ;;
esac
[ "$n" -le 60 ] && [ "$sup" -ge 1 ] &&
    ok "$n refusal lines, $sup 'suppressed' lines" ||
    fail "$n refusal lines (want at most 60), $sup 'suppressed' lines"
check "a warning says why, once"
n=$(grep -ac "out of file descriptors (open files limit $LIMIT)" "$LOG")
[ "$n" -eq 1 ] && ok "$(grep -a 'out of file descriptors' "$LOG")" ||
    fail "$n 'out of file descriptors (open files limit $LIMIT)' lines"
touch "$T/release"
wait "$HOLD"

check "after the load: the worker's descriptors are back to idle"
settled "$W1" "$IDLE1"

check "and it serves again: uploads, new files, netascii"
f0=$FAILS
for i in 5 6; do
	curl_put "$T/up.txt" "up$i.txt" 2> "$T/curl.err" ||
	    fail "upload $i: $(cat "$T/curl.err")"
	curl_get "many/big$((i + 100))" "$OUT/big$i" 2> "$T/curl.err" ||
	    fail "download: $(cat "$T/curl.err")"
done
probe rrq many/f7 netascii
[[ $REPLY == "DATA 1 "* ]] || fail "netascii: $REPLY"
[ "$FAILS" -ne "$f0" ] || ok
no_temp_files "$ROOT"
check "the worker did not die"
[ "$(workers 1)" = "$W1" ] && ok || fail "workers: $(workers)"
stop_server
OWLTFTPD=$REAL_OWLTFTPD

finish
