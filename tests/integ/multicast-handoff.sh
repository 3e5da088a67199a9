#!/bin/bash
# multicast-handoff.sh -- workers = 2 (and interface = "br0"):
# SO_REUSEPORT spreads the clients of one file over both workers, yet they
# form one session (the worker that owns the file serves them all): four
# overlapping clients share one group and TID, twelve downloads from fresh
# ports all come from one TID, and mcast_handoffs grows (mclib.sh's
# network).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"
. "$TESTS_SRCDIR/mclib.sh"

echo "=== two workers"
# The interface named, this time, rather than taken from the request.
write_conf "listen = [ \"$SRV\" ]" 'workers = 2' 'timeout_ms = 300' \
    'retries = 3' "${MC_CONF/interface = \"\"/interface = \"br0\"}"
start_server
workers 2 > /dev/null
snap
check "four clients of w2.bin at once with two workers: all byte-exact"
# The first one is slow and the others start once it is under way, so
# that all four overlap: whichever worker SO_REUSEPORT gives a request
# to, the file's owner serves it.
pids=()
for i in 1 2 3 4; do
	if [ "$i" = 1 ]; then
		mc_start w51 1 w2.bin --blksize 1024 --ack-delay-ms 6 \
		    --expect "$ROOT/w2.bin" --timeout 25
		pids+=("$MC_PID")
		wait_blocks w51 20
		continue
	fi
	mc_start "w5$i" "$i" w2.bin --blksize 1024 --expect "$ROOT/w2.bin" \
	    --timeout 25
	pids+=("$MC_PID")
done
for i in 1 2 3 4; do
	reap "${pids[$((i - 1))]}"
	mc_done "w5$i" $? "$ROOT/w2.bin"
done
check "one session: all four had the same group and server TID, one was master first"
views=$(for i in 1 2 3 4; do
	echo "$(field "w5$i" group)<-$(field "w5$i" tid)"
done | sort -u)
firsts=$(for i in 1 2 3 4; do
	v=$(field "w5$i" mc_values)
	echo "${v%%;*}"
done | sed -n 's/.*,//p' | sort | tr -d '\n')
[ "$(echo "$views" | wc -l)" -eq 1 ] && [ "$firsts" = 0001 ] &&
    ok "$views, first OACKs mc=$firsts" ||
    fail "groups<-TIDs: $(echo "$views" | tr '\n' ' '); first mc values: $firsts"
delta_is mcast_sessions 1
delta_is mcast_clients 4
check "12 downloads from fresh ports: one TID (the owner's), requests handed over"
tids=
for n in 1 2 3 4 5 6 7 8 9 10 11 12; do
	i=$(((n - 1) % 4 + 1))
	in_ns "$i" "$PYTHON_EXE" "$MCAST" get "$SRV" "$PORT" s5.bin \
	    --blksize 1024 --expect "$ROOT/s5.bin" --timeout 10 \
	    > "$T/s5.out" 2>&1 || fail "download $n: $(tail -n 2 "$T/s5.out")"
	tids="$tids $(sed -n 's/.* tid=\([^ ]*\) .*/\1/p' "$T/s5.out")"
done
ntid=$(echo "$tids" | tr ' ' '\n' | grep . | sort -u | wc -l)
first=${tids# }
[ "$ntid" -eq 1 ] && ok "all 12 from ${first%% *}" || fail "$ntid TIDs:$tids"
# SO_REUSEPORT picks a worker by hashing the client's port: 12 fresh
# ports all landing on the owner has a chance of 1 in 4096.
delta_ge mcast_handoffs 1
stop_server

finish
