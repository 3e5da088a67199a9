#!/bin/bash
# soak.sh -- 2000 concurrent transfers against workers = 2.  The server
# starts with a soft RLIMIT_NOFILE of 512 and max_transfers = 4096 (2048
# a worker), so it must raise the limit (each worker's "Max open files"
# soft limit must reach max_transfers).
# tests/soakclient.py (one process, one socket per transfer) runs a mix
# of RRQs and WRQs (distinct names) with windowsize 1 and 16 and blksize
# 512, 1468 and 8192 on files of about 64 KiB, holds every transfer at its
# first answer until all 2000 are admitted (owlctl stats must then show
# transfers.active >= 2000), then lets them run: zero failures, every
# download's sha256 right, every upload byte-exact on the server's root.
# Each worker's RSS (VmRSS) at the peak and after stays under a bound
# derived below, and each worker has as many descriptors open after the
# run as before it.  Then, past its limits: max_transfers = 100 (50 a
# worker) and 300 requests at once: the excess gets ERROR 0 "server busy"
# promptly, total.refused counts them, the admitted ones complete and the
# server stays up.  Last, uploads only, with one worker: max_transfers =
# 600, started under a soft limit of 512 open files, 580 concurrent
# uploads must all succeed.  SOAK_COUNT overrides 2000.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"

need_cmd python3 sha256sum
SOAK=$TESTS_SRCDIR/soakclient.py
COUNT=${SOAK_COUNT:-2000}
MAXT=4096		# max_transfers (all workers) for the soak
SOFT=512		# soft RLIMIT_NOFILE the server starts with
NFILES=8
KIB=1024

HARD=$(ulimit -Hn)
if [ "$HARD" != unlimited ] && [ "$HARD" -lt $((COUNT + 256)) ]; then
	echo "SKIP: $TEST_NAME: the hard RLIMIT_NOFILE ($HARD) cannot fit" \
	    "$COUNT client sockets" >&2
	exit 77
fi
OLD_SOFT=$(ulimit -Sn)

GETS=()
for i in $(seq 0 $((NFILES - 1))); do
	mkfile "$ROOT/soak-src-$i.bin" $((64 * KIB + i * 333))
	GETS+=(--get "soak-src-$i.bin")
done

# start_low: start the server under a soft RLIMIT_NOFILE of $SOFT, then
# give this shell (and the soak client) its limit back.
start_low() {
	ulimit -Sn "$SOFT" || die "cannot lower RLIMIT_NOFILE to $SOFT"
	start_server
	ulimit -Sn "$OLD_SOFT"
}

# worker_pids: the live workers, from owlctl.
worker_pids() {
	ctl_workers | awk 'NF { print $2 }'
}

rss_kb() {
	awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status" 2>/dev/null
}

nfds() {
	local fds=("/proc/$1/fd/"*)
	echo "${#fds[@]}"
}

# fd_targets PID: what each descriptor of PID points at, sorted.
fd_targets() {
	local f
	for f in "/proc/$1/fd/"*; do
		readlink "$f"
	done 2>/dev/null | sort
}

nofile_soft() {
	awk '/^Max open files/ { print $4 }' "/proc/$1/limits" 2>/dev/null
}

# soak NAME ARGS...: run the soak client with --hold in the background;
# its output in $T/NAME.out, the hold files in $T/NAME.hold.
soak_start() {
	local name=$1
	shift
	mkdir -p "$T/$name.hold"
	timeout -k 2 120 python3 "$SOAK" 127.0.0.1 "$PORT" --root "$ROOT" \
	    "${GETS[@]}" --hold "$T/$name.hold" --manifest "$T/$name.manifest" \
	    "$@" > "$T/$name.out" 2>&1 &
	SOAK_PID=$!
}

soak_wait_ready() {
	wait_for "${2:-40}" test -e "$T/$1.hold/ready"
}

soak_finish() {
	touch "$T/$1.hold/go"
	wait "$SOAK_PID"
	SOAK_RC=$?
}

soak_val() {
	kv_get "$(cat "$T/$1.out")" "$2"
}

_idle() {
	[ "$(ctl_val transfers.active stats)" = 0 ]
}

# ---------------------------------------------------------------- soak
write_conf 'uploads = "create"' \
    'permission_check = false' "max_transfers = $MAXT" 'retries = 10' \
    'log_level = "info"'
start_low

check "workers raised RLIMIT_NOFILE from $SOFT to fit max_transfers = $MAXT"
wait_for_workers 1 2 || fail "owlctl does not list 2 workers"
PIDS=$(worker_pids)
for p in $PIDS; do
	s=$(nofile_soft "$p")
	echo "    worker $p: Max open files soft $s"
	if [ -z "$s" ] || { [ "$s" != unlimited ] && [ "$s" -lt "$MAXT" ]; }
	then
		fail "worker $p: soft RLIMIT_NOFILE $s < max_transfers $MAXT"
	fi
done
ok

check "idle: RSS and descriptors of each worker"
declare -A RSS0 FD0
for p in $PIDS; do
	RSS0[$p]=$(rss_kb "$p")
	FD0[$p]=$(nfds "$p")
	fd_targets "$p" > "$T/fds-before.$p"
	echo "    worker $p: VmRSS ${RSS0[$p]} kB, ${FD0[$p]} descriptors"
done
ok
ok0=$(ctl_val total.xfer_ok stats)
fail0=$(ctl_val total.xfer_failed stats)
ret0=$(ctl_val total.retrans stats)
tmo0=$(ctl_val total.xfer_timeout stats)

check "$COUNT transfers (RRQ and WRQ, window 1/16, blksize 512/1468/8192)" \
    "all in flight at once"
T0=$(now_ms)
soak_start soak --count "$COUNT" --upload-size $((64 * KIB)) \
    --upload-prefix soak-up- --deadline 80
if ! soak_wait_ready soak 40; then
	fail "the soak client did not get $COUNT answers: $(cat "$T/soak.out")"
fi
STATS=$(ctl -r stats)
active=$(kv_get "$STATS" transfers.active)
echo "    at the peak: transfers.active=$active ($(cat "$T/soak.hold/ready"))"
declare -A RSS1 FD1 ACT1
for i in 0 1 2 3; do
	p=$(kv_get "$STATS" "worker.$i.pid")
	[ -n "$p" ] || continue
	ACT1[$p]=$(kv_get "$STATS" "worker.$i.active")
	RSS1[$p]=$(rss_kb "$p")
	FD1[$p]=$(nfds "$p")
	echo "    worker $p: ${ACT1[$p]} transfers, VmRSS ${RSS1[$p]} kB," \
	    "${FD1[$p]} descriptors, soft limit $(nofile_soft "$p")"
done
if [ "${active:-0}" -ge "$COUNT" ]; then
	ok "transfers.active=$active"
else
	fail "transfers.active=${active:-?} at the peak, want >= $COUNT"
fi
soak_finish soak
MS=$(($(now_ms) - T0))

check "soak: zero failures, every download's sha256 right"
grep -v '^ok\.' "$T/soak.out" | sed 's/^/    /'
n_ok=$(soak_val soak ok)
n_fail=$(soak_val soak failed)
if [ "$SOAK_RC" -ne 0 ] || [ "${n_fail:-1}" -ne 0 ] ||
    [ "${n_ok:-0}" -ne "$COUNT" ]; then
	fail "soak client status $SOAK_RC, ok=$n_ok failed=$n_fail of" \
	    "$COUNT; first: $(grep -m 1 '^FAIL' "$T/soak.out")"
else
	ok "$n_ok transfers ok in $MS ms"
fi

check "soak: every upload byte-exact on the server's root"
n_wrq=$(soak_val soak wrq)
n_man=$(grep -c . "$T/soak.manifest")
if [ "$n_man" -ne "${n_wrq:-0}" ]; then
	fail "$n_man uploads completed, $n_wrq were sent"
fi
if (cd "$ROOT" && sha256sum -c --quiet "$T/soak.manifest") \
    > "$T/sha.out" 2>&1; then
	ok "$n_man uploads match their sha256"
else
	fail "sha256sum -c: $(head -n 5 "$T/sha.out")"
fi
no_temp_files "$ROOT"

check "soak: the server counted every transfer ok, none failed"
# A download's final ACK lost in an overflowing socket buffer (this runs
# on a loaded 2-core machine) leaves the server resending to a client
# that has finished and gone (the soak client dallies 2 s to answer a
# resent last block, but a loaded worker's timeout can be longer): with
# retries = 10 the server gives up on it after 11 timeouts, each at most
# 8 x timeout_ms (8 s), so up to 88 s after the client left.  That is a
# server-side timeout for a transfer the client completed, so it is
# allowed, rarely, and only as a timeout: never a failure of any other
# kind, and never more than a handful.
if ! wait_for 100 _idle; then
	fail "transfers.active still $(ctl_val transfers.active stats)" \
	    "100 s after the run"
	ctl -r transfers | head -n 20 | sed 's/^/    /'
fi
ok1=$(ctl_val total.xfer_ok stats)
fail1=$(ctl_val total.xfer_failed stats)
tmo1=$(ctl_val total.xfer_timeout stats)
ret1=$(ctl_val total.retrans stats)
echo "    total.xfer_ok +$((ok1 - ok0)), total.xfer_failed" \
    "+$((fail1 - fail0)) (timeouts +$((tmo1 - tmo0))), total.retrans" \
    "+$((ret1 - ret0))"
if [ $((ok1 - ok0 + tmo1 - tmo0)) -ne "$COUNT" ] ||
    [ $((fail1 - fail0)) -ne $((tmo1 - tmo0)) ] ||
    [ $((tmo1 - tmo0)) -gt 5 ]; then
	fail "want xfer_ok +$COUNT (or a few lost final ACKs as timeouts)" \
	    "and no other failure"
else
	ok
fi

# RSS bound.  What a worker holds per transfer is its struct xfer (under
# 1 KiB, in a pool calloc'ed at start whose untouched pages are not
# resident), a timer-heap slot and a descriptor or two; file data goes
# through the shared receive buffers (64 x 64 KiB) and the 4 MiB send
# arena, touched as they fill.  So: the idle RSS, plus 8 MiB for those
# buffers, plus 4 KiB per transfer the worker had at the peak (four
# times the struct, for allocator and libevent overhead).
check "soak: RSS of each worker under idle + 8 MiB + 4 KiB per transfer"
for p in $PIDS; do
	r2=$(rss_kb "$p")
	b=$((RSS0[$p] + 8 * 1024 + 4 * ${ACT1[$p]:-$MAXT}))
	echo "    worker $p: VmRSS idle ${RSS0[$p]} kB, peak ${RSS1[$p]:-?} kB" \
	    "(${ACT1[$p]:-?} transfers), after $r2 kB; bound $b kB"
	if [ -z "${RSS1[$p]:-}" ] || [ "${RSS1[$p]}" -gt "$b" ] ||
	    [ -z "$r2" ] || [ "$r2" -gt "$b" ]; then
		fail "worker $p: RSS above the bound $b kB"
	fi
done
ok

# The worker's open-file cache keeps recently served files open for the
# next reader (read-only descriptors of the soak-src-*.bin files, at most
# one each); anything else that was not there before is a leak.
check "soak: no descriptor leak (each worker's descriptors before = after," \
    "apart from its open-file cache)"
f0=$FAILS
for p in $PIDS; do
	fd_targets "$p" > "$T/fds-after.$p"
	n=$(grep -c . "$T/fds-after.$p")
	cached=$(grep -c "^$ROOT/soak-src-[0-9]*\.bin\$" "$T/fds-after.$p")
	dups=$(grep "^$ROOT/soak-src-" "$T/fds-after.$p" | uniq -d)
	echo "    worker $p: ${FD0[$p]} before, ${FD1[$p]:-?} at the peak," \
	    "$n after ($cached of them cached files)"
	grep -v "^$ROOT/soak-src-[0-9]*\.bin\$" "$T/fds-after.$p" \
	    > "$T/fds-after-nc.$p"
	if ! cmp -s "$T/fds-before.$p" "$T/fds-after-nc.$p"; then
		fail "worker $p: descriptors differ (< before, > after): $(diff \
		    "$T/fds-before.$p" "$T/fds-after-nc.$p" | grep '^[<>]' |
		    head -n 5 | tr '\n' ' ')"
	elif [ "$cached" -gt "$NFILES" ] || [ -n "$dups" ]; then
		fail "worker $p: $cached cached descriptors for $NFILES files"
	fi
done
[ "$FAILS" -ne "$f0" ] || ok

check "server still running after the soak"
alive && ok || fail "server died"
stop_server

# ---------------------------------------------------------------- busy
BUSY_MAX=100		# 50 a worker
BUSY_N=300
write_conf 'uploads = "create"' \
    'permission_check = false' "max_transfers = $BUSY_MAX" \
    'retries = 10' 'log_level = "info"'
start_server
wait_for_workers 1 2 || fail "owlctl does not list 2 workers"
ref0=$(ctl_val total.refused stats)
busy0=$(ctl_val total.server_busy stats)

check "past its limits: $BUSY_N requests at once, max_transfers =" \
    "$BUSY_MAX ($((BUSY_MAX / 2)) a worker)"
f0=$FAILS
soak_start busy --count "$BUSY_N" --upload-size $((16 * KIB)) \
    --upload-prefix busy-up- --expect-busy --deadline 60
if ! soak_wait_ready busy 20; then
	fail "the soak client did not get $BUSY_N answers: $(cat \
	    "$T/busy.out")"
fi
STATS=$(ctl -r stats)
active=$(kv_get "$STATS" transfers.active)
refused=$(kv_get "$STATS" total.refused)
echo "    at the peak: $(cat "$T/busy.hold/ready"), transfers.active=$active" \
    "total.refused=$((refused - ref0))"
held=$(sed -n 's/.*admitted=\([0-9]*\).*/\1/p' "$T/busy.hold/ready")
for i in 0 1; do
	a=$(kv_get "$STATS" "worker.$i.active")
	echo "    worker $(kv_get "$STATS" "worker.$i.pid"): $a transfers"
	[ "${a:-0}" -le $((BUSY_MAX / 2)) ] ||
	    fail "worker $i runs $a transfers, above its share" \
	    "$((BUSY_MAX / 2))"
done
[ "${active:-0}" -eq "${held:-0}" ] ||
    fail "transfers.active=$active, the client holds $held"
[ "$FAILS" -ne "$f0" ] || ok
soak_finish busy
grep -v '^ok\.' "$T/busy.out" | sed 's/^/    /'

check "past its limits: the excess got ERROR 0 'server busy', promptly"
n_ok=$(soak_val busy ok)
n_ref=$(soak_val busy refused)
n_fail=$(soak_val busy failed)
lat=$(soak_val busy busy_reply_max_ms)
if [ "${n_ref:-0}" -lt $((BUSY_N - 2 * BUSY_MAX)) ]; then
	fail "only ${n_ref:-0} refused, want >= $((BUSY_N - 2 * BUSY_MAX))"
elif [ "${lat:-99999}" -gt 1000 ]; then
	fail "the slowest 'server busy' came after $lat ms"
else
	ok "$n_ref refused, the slowest answer after $lat ms"
fi

check "past its limits: total.refused and total.server_busy count them"
refused=$(ctl_val total.refused stats)
busy=$(ctl_val total.server_busy stats)
if [ $((refused - ref0)) -ne "${n_ref:-0}" ] ||
    [ $((busy - busy0)) -ne "${n_ref:-0}" ]; then
	fail "total.refused grew by $((refused - ref0)), total.server_busy" \
	    "by $((busy - busy0)), the client saw $n_ref refusals"
else
	ok "total.refused +$((refused - ref0)), total.server_busy" \
	    "+$((busy - busy0))"
fi

check "past its limits: the admitted ones complete, byte-exact"
if [ "${n_fail:-1}" -ne 0 ] ||
    [ $((n_ok + n_ref)) -ne "$BUSY_N" ] || [ "$n_ok" -gt $((2 * BUSY_MAX)) ]
then
	fail "ok=$n_ok refused=$n_ref failed=$n_fail of $BUSY_N"
fi
n_up=$(find "$ROOT" -name 'busy-up-*' | wc -l)
n_man=$(grep -c . "$T/busy.manifest")
if [ "$n_up" -ne "$n_man" ]; then
	fail "$n_up busy-up-* files on the server, $n_man uploads completed"
elif ! (cd "$ROOT" && sha256sum -c --quiet "$T/busy.manifest") \
    > "$T/sha.out" 2>&1; then
	fail "sha256sum -c: $(head -n 5 "$T/sha.out")"
else
	ok "$n_ok completed ($n_man uploads), $n_up upload files"
fi

check "past its limits: the server stays up and serves"
raw get 127.0.0.1 "$PORT" soak-src-0.bin --expect "$ROOT/soak-src-0.bin" \
    > "$T/raw.out" 2>&1 || fail "a download after the burst: $(cat \
    "$T/raw.out")"
alive && ok || fail "server died"
stop_server

# ---------------------------------------------------------------- uploads
# An upload holds two descriptors (its directory and its temporary
# file): a worker running its share of max_transfers in uploads needs
# about twice as many open files as transfers.  With one worker the
# share is all of max_transfers.
UP_MAX=600
UP_N=580
write_conf 'uploads = "create"' \
    'permission_check = false' "max_transfers = $UP_MAX" \
    'retries = 10' 'log_level = "info"' 'workers = 1'
start_low
wait_for_workers 1 1 || fail "owlctl does not list 1 worker"

check "uploads only: $UP_N at once, one worker, max_transfers = $UP_MAX," \
    "started at $SOFT open files"
soak_start up --count "$UP_N" --wrq-share 100 --upload-size $((4 * KIB)) \
    --upload-prefix up-only- --deadline 60
if ! soak_wait_ready up 20; then
	fail "the soak client did not get $UP_N answers: $(cat "$T/up.out")"
fi
STATS=$(ctl -r stats)
p=$(kv_get "$STATS" worker.0.pid)
echo "    worker $p: $(kv_get "$STATS" worker.0.active) uploads," \
    "$(nfds "$p") descriptors, soft limit $(nofile_soft "$p")"
soak_finish up
grep -v '^ok\.' "$T/up.out" | sed 's/^/    /'
n_ok=$(soak_val up ok)
if [ "$SOAK_RC" -ne 0 ] || [ "${n_ok:-0}" -ne "$UP_N" ]; then
	fail "$n_ok of $UP_N uploads completed: $(grep -m 3 '^FAIL' \
	    "$T/up.out") server: $(grep -a -m 3 -iE 'too many|EMFILE' "$LOG")"
else
	ok "$n_ok uploads"
fi
if ! (cd "$ROOT" && sha256sum -c --quiet "$T/up.manifest") \
    > "$T/sha.out" 2>&1; then
	fail "sha256sum -c: $(head -n 5 "$T/sha.out")"
fi

check "server still running"
alive && ok || fail "server died"

finish
