#!/bin/bash
# bench/origin.sh: a file served from an HTTP origin's cache against the
# same file served from the local root, by the same owltftpd, in one run.
#
#   bench/origin.sh [--reps N] [--duration S] [--clients "16 128"]
#                   [--windows "1 16"] [--size BYTES] [--owltftpd PATH]
#                   [--owlbench PATH] [--out DIR]
#
# nginx (started here, on loopback, with its own config) is the origin;
# the cached file is fetched once before the runs, so every cell measures
# serving, not fetching.  The cells alternate local/origin (the order
# flips each repetition); the summary gives medians of throughput and
# server CPU-s/GB and the ratio origin/local.  Talks to 127.0.0.1 only;
# every run is bounded by owlbench's --duration and --max-time.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
reps=5
duration=2
clients="16 128"
windows="1 16"
size=1048576
owltftpd=
owlbench=
out=

while [ $# -gt 0 ]; do
	case $1 in
	--reps) reps=$2; shift ;;
	--duration) duration=$2; shift ;;
	--clients) clients=$2; shift ;;
	--windows) windows=$2; shift ;;
	--size) size=$2; shift ;;
	--owltftpd) owltftpd=$2; shift ;;
	--owlbench) owlbench=$2; shift ;;
	--out) out=$2; shift ;;
	-h|--help) sed -n '2,14p' "$0"; exit 0 ;;
	*) echo "origin.sh: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done
[ -n "$owltftpd" ] || owltftpd=$top/build/src/owltftpd
[ -n "$owlbench" ] || owlbench=$top/build/bench/owlbench
[ -n "$out" ] || out=$here/results/origin-$(date +%Y-%m-%d-%H%M)
for p in "$owltftpd" "$owlbench"; do
	[ -x "$p" ] || { echo "origin.sh: $p: not built (make, make bench/owlbench)" >&2; exit 2; }
done
command -v nginx > /dev/null || [ -x /usr/sbin/nginx ] ||
    { echo "origin.sh: nginx is missing (apt-get install nginx-light)" >&2; exit 2; }
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

W=$(mktemp -d /tmp/owl-origin-bench.XXXXXX)
chmod 755 "$W"
mkdir -p "$W/www" "$W/root/o" "$W/cache" "$out"
ngx_pid= owl_pid=
cleanup() {
	[ -n "$owl_pid" ] && kill "$owl_pid" 2> /dev/null
	[ -n "$ngx_pid" ] && kill "$ngx_pid" 2> /dev/null
	wait 2> /dev/null
	rm -rf "$W"
}
trap cleanup EXIT

free_port() {
	python3 -c 'import socket,sys; s=socket.socket(socket.AF_INET, int(sys.argv[1])); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' "$1"
}

head -c "$size" /dev/urandom > "$W/www/file"
cp "$W/www/file" "$W/root/file"		# local
cp "$W/www/file" "$W/root/o/file"	# what owlbench verifies origin reads by
chmod -R a+rX "$W"
hport=$(free_port 1)
tport=$(free_port 2)
cat > "$W/nginx.conf" <<NGX
worker_processes 1;
daemon off;
pid $W/nginx.pid;
error_log $W/nginx.err;
events { worker_connections 256; }
http {
	access_log $W/access.log;
	client_body_temp_path $W; proxy_temp_path $W; fastcgi_temp_path $W;
	uwsgi_temp_path $W; scgi_temp_path $W;
	server { listen 127.0.0.1:$hport; root $W/www; }
}
NGX
"$NGINX" -c "$W/nginx.conf" -p "$W" & ngx_pid=$!
cat > "$W/owl.conf" <<CONF
root = "$W/root";
listen = "127.0.0.1:$tport";
user = "nobody";
pid_file = "";
control_socket = "";
origins = ( { prefix = "o"; url = "http://127.0.0.1:$hport/"; } );
cache_dir = "$W/cache";
cache_ttl = 86400;
log_level = "warning";
CONF
"$owltftpd" -F -c "$W/owl.conf" 2> "$W/owl.log" & owl_pid=$!
for i in $(seq 50); do
	curl -s -o "$W/warm" "tftp://127.0.0.1:$tport/o/file" && break
	sleep 0.1
done
cmp -s "$W/warm" "$W/file" 2>/dev/null || cmp -s "$W/warm" "$W/www/file" ||
    { echo "origin.sh: the origin's file was not served" >&2; cat "$W/owl.log" >&2; exit 1; }

host=$(uname -n) cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)
echo "# origin.sh $(date -u +%FT%TZ) on $host ($(nproc) cores,$cpu)" | tee "$out/summary.txt"
echo "# file $size bytes, blksize 1468, $reps reps x ${duration}s, medians" | tee -a "$out/summary.txt"
: > "$out/runs.jsonl"
run() {	# name file clients window
	"$owlbench" -p "$tport" -r "$W/root" -f "$2" -c "$3" -w "$4" \
	    -d "$duration" --max-time 60 --pid "$owl_pid" --label "$1 c$3 w$4" -q |
	    tee -a "$out/runs.jsonl"
}
for c in $clients; do
	for w in $windows; do
		for r in $(seq "$reps"); do
			if [ $((r % 2)) = 1 ]; then
				run local file "$c" "$w" > /dev/null
				run origin o/file "$c" "$w" > /dev/null
			else
				run origin o/file "$c" "$w" > /dev/null
				run local file "$c" "$w" > /dev/null
			fi
		done
	done
done
python3 - "$out/runs.jsonl" <<'PY' | tee -a "$out/summary.txt"
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
cells = {}
for r in rows:
    name, c, w = r["label"].split()
    cells.setdefault((c, w), {}).setdefault(name, []).append(r)
print("| clients | window | local MB/s | origin MB/s | origin/local | local CPU-s/GB | origin CPU-s/GB | failed |")
print("|---|---|---|---|---|---|---|---|")
for (c, w), d in sorted(cells.items(), key=lambda k: (int(k[0][0][1:]), int(k[0][1][1:]))):
    m = {k: statistics.median(x["mbps"] for x in v) for k, v in d.items()}
    g = {k: statistics.median(x["server_cpu_per_gb"] for x in v) for k, v in d.items()}
    f = sum(x["failed"] + x["f_verify"] for v in d.values() for x in v)
    print(f"| {c[1:]} | {w[1:]} | {m['local']:.0f} | {m['origin']:.0f} | "
          f"{m['origin'] / m['local']:.3f} | {g['local']:.2f} | {g['origin']:.2f} | {f} |")
PY
fetches=$(grep -c 'GET /file ' "$W/access.log")
echo "# origin GETs during the whole run: $fetches (1 expected: the warm-up)" | tee -a "$out/summary.txt"
