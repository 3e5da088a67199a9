#!/bin/bash
# origin-fleet.sh -- a fleet of three owltftpd nodes (issue 15) in front of
# one nginx origin: nodes on 127.0.0.2, .3 and .4 (127.0.0.1 with distinct
# ports if those cannot be bound), each with its own cache_dir, control
# socket and pid file.  100 curl clients, all started together (34, 33
# and 33 per node), ask for the same uncached 32 MiB file at blksize 65464;
# nginx sends it at 4 MiB/s (its /slow/ location), so every node's clients
# arrive while its fetch is under way.  Every client's sha256 must match,
# nginx must log exactly 3 GETs for the file (one per node: single
# flight), each node's cache holds the file, each node's log has its
# clients' transfers, and each node stops cleanly.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# 100 lock-step 32 MiB downloads after an 8 s fetch, on 2 shared cores.
CLIENT_TIMEOUT=${CLIENT_TIMEOUT:-180}
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"
. "$TESTS_SRCDIR/originlib.sh"

need_cmd curl sha256sum python3
need_nginx

# The issue's numbers; FLEET_CLIENTS / FLEET_SIZE make a quick run to
# debug the test itself.
NCLIENTS=${FLEET_CLIENTS:-100}
SIZE=${FLEET_SIZE:-33554432}		# 32 MiB
WWW=$T/www
mkdir -p "$WWW/tftp" || exit 99
mkfile "$WWW/tftp/fleet.bin" $SIZE
chmod -R a+rX "$WWW"
WANT=$(sha "$WWW/tftp/fleet.bin")
start_nginx "$WWW"
U=http://127.0.0.1:$NGINX_PORT
URI=/slow/tftp/fleet.bin

ADDRS="127.0.0.2 127.0.0.3 127.0.0.4"
if ! python3 -c 'import socket
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).bind(("127.0.0.2", 0))' \
    2>/dev/null; then
	echo "note: cannot bind 127.0.0.2: three nodes on 127.0.0.1"
	ADDRS="127.0.0.1 127.0.0.1 127.0.0.1"
fi

# The nodes: NODE_ADDR, NODE_PORT, NODE_PID, NODE_LOG, NODE_CACHE by index.
declare -a NODE_ADDR NODE_PORT NODE_PID NODE_LOG NODE_CACHE
i=0
for a in $ADDRS; do
	i=$((i + 1))
	CONF=$T/node$i.conf
	NODE_CACHE[i]=$T/cache$i
	write_conf "listen = [ \"$a\" ]" "pid_file = \"$T/node$i.pid\"" \
	    "control_socket = \"$T/node$i.sock\"" 'workers = 2' \
	    'log_level = "info"' \
	    "origins = ( { prefix = \"/\"; url = \"$U/slow/tftp/\"; } )" \
	    "cache_dir = \"${NODE_CACHE[i]}\"" 'cache_ttl = 300' \
	    'origin_timeout_ms = 60000'
	[ $i -eq 1 ] && conf_accepted
	start_server
	NODE_ADDR[i]=$a
	NODE_PORT[i]=$PORT
	NODE_PID[i]=$SERVER_PID
	NODE_LOG[i]=$LOG
	# originlib.sh's cleanup stops every node if the script dies.
	EXTRA_PIDS="$EXTRA_PIDS $SERVER_PID"
	SERVER_PID=
done
NNODES=$i

check "$NCLIENTS curl clients on $NNODES nodes, one uncached $SIZE-byte file: every sha256 matches"
t0=$(now_ms)
pids=
for c in $(seq 1 $NCLIENTS); do
	n=$(( (c - 1) % NNODES + 1 ))
	(
		tmo curl -sS --tftp-blksize 65464 \
		    "tftp://${NODE_ADDR[n]}:${NODE_PORT[n]}/fleet.bin" \
		    2> "$OUT/err.$c" | sha256sum > "$OUT/sum.$c"
		echo "${PIPESTATUS[0]}" > "$OUT/rc.$c"
	) &
	pids="$pids $!"
done
# Only the clients: nginx is a background job of this shell too.
for p in $pids; do
	wait "$p"
done
ms=$(($(now_ms) - t0))
f0=$FAILS
bad=0
for c in $(seq 1 $NCLIENTS); do
	rc=$(cat "$OUT/rc.$c" 2>/dev/null)
	sum=$(awk '{ print $1 }' "$OUT/sum.$c" 2>/dev/null)
	if [ "$rc" != 0 ] || [ "$sum" != "$WANT" ]; then
		bad=$((bad + 1))
		[ $bad -le 5 ] && echo "    client $c (node" \
		    "$(( (c - 1) % NNODES + 1 ))): curl exit '$rc'," \
		    "sha256 '${sum:0:16}', $(head -c 200 "$OUT/err.$c")" >&2
	fi
done
[ $bad -eq 0 ] || fail "$bad of $NCLIENTS clients got no or a wrong copy"
[ "$FAILS" -eq "$f0" ] && ok "$NCLIENTS copies verified in $ms ms"

check "nginx logged exactly $NNODES GETs for the file: one per node"
wait_origin_gets "$URI" "$NNODES" 5
n=$(origin_gets "$URI")
[ "$n" -eq "$NNODES" ] && ok "$n GETs" ||
    fail "$n GETs for $URI, want $NNODES: $(origin_log_lines "$URI" |
	head -n 8)"

check "every node's cache holds the file; every node served its clients"
f0=$FAILS
for i in $(seq 1 $NNODES); do
	f=$(cache_data_files "${NODE_CACHE[i]}" fleet.bin)
	if [ -z "$f" ] || [ "$(sha "$f")" != "$WANT" ]; then
		fail "node $i: cache has '${f:-nothing}'"
	fi
	LOG=${NODE_LOG[i]}
	want=$(( (NCLIENTS - i) / NNODES + 1 ))
	wait_xfer fleet.bin 'op=rrq .*result=ok' "$want" 10 > /dev/null
done
[ "$FAILS" -eq "$f0" ] && ok

# Stop each node through lib.sh's stop_server: exit 0, no worker left.
for i in $(seq 1 $NNODES); do
	SERVER_PID=${NODE_PID[i]}
	LOG=${NODE_LOG[i]}
	stop_server
	EXTRA_PIDS=$(printf '%s\n' $EXTRA_PIDS | grep -vx "${NODE_PID[i]}")
done
finish
