# originlib.sh -- HTTP origins for owltftpd's origin cache tests (issue 15),
# sourced after lib.sh:
#	. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"
#	. "$TESTS_SRCDIR/originlib.sh"
#	need_nginx
#	start_nginx "$T/www"		# NGINX_PORT, NGINX_PID
#	origin_gets /tftp/a.bin		# GETs nginx logged for that URI
#	start_faultorigin "$T/faultfiles"	# FAULT_PORT, FAULT_PID
#
# nginx runs in the foreground (daemon off, its master is NGINX_PID) on
# 127.0.0.1:NGINX_PORT with its own config, logs and temp directories in
# $T/nginx; its access log ($NGINX_ACCESS) has one line a request:
#	METHOD URI STATUS BYTES inm=IF-NONE-MATCH ims=IF-MODIFIED-SINCE
#	    client=X-TFTP-CLIENT file=X-TFTP-FILE ruri=REQUEST-URI
# (URI decoded and normalised, "-" for a header that was not sent), so a
# test can count GETs per URI, conditional requests and 304s.  Locations:
#	/        DOCROOT, etag on (ETag "mtime-size", Last-Modified; 304 on a
#	         matching If-None-Match / If-Modified-Since)
#	/slow/   DOCROOT too, sent at 4 MiB/s (limit_rate): a fetch that lasts
#	         seconds, so that concurrent requests overlap it
#	/dyn/    200 "client=<X-TFTP-Client> file=<X-TFTP-File>\n": dynamic
#	         per-client content
#	/__ping  200 "pong" (readiness; not a file)
# Everything started here is stopped at exit by lib.sh's cleanup, which
# this file extends (origin_cleanup runs first).

ORIGINFAULT=$TESTS_SRCDIR/originfault.py
NGINX_BIN=${NGINX_BIN:-}
NGINX_PID=
NGINX_PORT=
NGINX_DIR=$T/nginx
NGINX_ACCESS=$NGINX_DIR/access.log
NGINX_ERROR=$NGINX_DIR/error.log
FAULT_PID=
FAULT_PORT=
FAULT_OUT=$T/originfault.out
# Other processes a test started (extra owltftpd nodes): stopped at exit.
EXTRA_PIDS=
# Filesystems a test mounted (a small tmpfs cache_dir): unmounted at exit.
ORIGIN_MOUNTS=

# need_nginx: skip the whole script (77) if nginx is not installed.  It
# is looked for on PATH and in /usr/sbin (not on a non-root PATH).  curl
# is needed too (start_nginx asks nginx whether it is up).
need_nginx() {
	need_cmd curl
	if [ -z "$NGINX_BIN" ]; then
		NGINX_BIN=$(command -v nginx 2>/dev/null)
		[ -n "$NGINX_BIN" ] || NGINX_BIN=/usr/sbin/nginx
	fi
	if [ ! -x "$NGINX_BIN" ]; then
		echo "SKIP: $TEST_NAME needs nginx (Debian: nginx-light)" \
		    "as the HTTP origin, not installed" >&2
		exit 77
	fi
}

# _nginx_conf DOCROOT PORT: write $NGINX_DIR/nginx.conf.
_nginx_conf() {
	local user=
	[ "$(id -u)" -eq 0 ] && user='user root root;'
	cat > "$NGINX_DIR/nginx.conf" <<EOF
# written by $TEST_NAME (originlib.sh)
$user
daemon off;
master_process on;
worker_processes 1;
pid $NGINX_DIR/nginx.pid;
error_log $NGINX_ERROR info;
events { worker_connections 512; }
http {
	default_type application/octet-stream;
	client_body_temp_path $NGINX_DIR/body;
	proxy_temp_path $NGINX_DIR/proxy;
	fastcgi_temp_path $NGINX_DIR/fastcgi;
	uwsgi_temp_path $NGINX_DIR/uwsgi;
	scgi_temp_path $NGINX_DIR/scgi;
	log_format owl '\$request_method \$uri \$status \$body_bytes_sent'
	    ' inm=\$http_if_none_match ims=\$http_if_modified_since'
	    ' client=\$http_x_tftp_client file=\$http_x_tftp_file'
	    ' ruri=\$request_uri';
	access_log $NGINX_ACCESS owl;
	keepalive_timeout 10;
	sendfile on;
	etag on;
	if_modified_since exact;
	server {
		listen 127.0.0.1:$2;
		server_name localhost;
		root $1;
		location / {
		}
		location /slow/ {
			alias $1/;
			limit_rate 4m;
		}
		location /dyn/ {
			default_type text/plain;
			return 200 "client=\$http_x_tftp_client file=\$http_x_tftp_file\n";
		}
		location = /__ping {
			access_log off;
			default_type text/plain;
			return 200 "pong\n";
		}
	}
}
EOF
}

_nginx_up() {
	exited "$NGINX_PID" && return 0
	[ "$(curl -s --max-time 2 "http://127.0.0.1:$NGINX_PORT/__ping" \
	    2>/dev/null)" = pong ]
}

# nginx_launch CONF_FN UP_FN [PORT]: start nginx with the nginx.conf
# that "CONF_FN PORT" writes into $NGINX_DIR, on PORT or on a random one
# (others tried while the port is taken), until "UP_FN" says it answers;
# sets NGINX_PORT and NGINX_PID, or dies with nginx's last words.
nginx_launch() {
	local conf_fn=$1 up_fn=$2 want=${3:-} _
	need_nginx
	[ -n "$NGINX_PID" ] && stop_nginx
	mkdir -p "$NGINX_DIR" || die "cannot create $NGINX_DIR"
	chmod 755 "$NGINX_DIR"
	: >> "$NGINX_ACCESS"
	for _ in 1 2 3 4 5 6 7 8; do
		NGINX_PORT=${want:-$((20000 + RANDOM % 40000))}
		"$conf_fn" "$NGINX_PORT"
		: > "$NGINX_ERROR"
		"$NGINX_BIN" -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" \
		    -e "$NGINX_ERROR" < /dev/null > "$NGINX_DIR/stdout" 2>&1 &
		NGINX_PID=$!
		if wait_for 10 "$up_fn" && ! exited "$NGINX_PID"; then
			return 0
		fi
		wait_for 5 exited "$NGINX_PID" ||
		    kill -s KILL "$NGINX_PID" 2>/dev/null
		wait "$NGINX_PID" 2>/dev/null
		NGINX_PID=
		if [ -n "$want" ] ||
		    ! grep -q 'Address already in use' "$NGINX_ERROR"; then
			break
		fi
	done
	die "nginx did not start: $(tail -n 5 "$NGINX_ERROR" \
	    "$NGINX_DIR/stdout" 2>/dev/null)"
}

# start_nginx DOCROOT [PORT]: nginx serving DOCROOT on 127.0.0.1:PORT
# (default: a random free one, another tried if it is taken); sets
# NGINX_PORT and NGINX_PID.  The access log is kept across restarts (a
# restart on the same PORT keeps the origin's URL, hence the cache keys).
start_nginx() {
	NGINX_DOCROOT=$1
	chmod 755 "$NGINX_DOCROOT"
	nginx_launch _nginx_docroot_conf _nginx_up "${2:-}"
	echo "nginx pid $NGINX_PID on 127.0.0.1:$NGINX_PORT" \
	    "(docroot $NGINX_DOCROOT, access log $NGINX_ACCESS)"
}

_nginx_docroot_conf() {
	_nginx_conf "$NGINX_DOCROOT" "$1"
}

# stop_nginx: stop our nginx (SIGTERM to its master: fast shutdown), wait
# for it (bounded).  The access log stays.
stop_nginx() {
	[ -n "$NGINX_PID" ] || return 0
	kill -s TERM "$NGINX_PID" 2>/dev/null
	if ! wait_for 10 exited "$NGINX_PID"; then
		echo "nginx $NGINX_PID did not stop in 10 s: SIGKILL" >&2
		kill -s KILL "$NGINX_PID" 2>/dev/null
	fi
	wait "$NGINX_PID" 2>/dev/null
	NGINX_PID=
	# Its worker may outlive the master for a moment: wait for the port.
	wait_for 5 _port_closed "$NGINX_PORT" || true
}

_port_closed() {
	! (exec 3<> "/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# origin_log_lines URI: the access log lines (any method) for URI.
origin_log_lines() {
	awk -v u="$1" '$2 == u' "$NGINX_ACCESS" 2>/dev/null
}

# origin_gets URI: how many GET requests for URI nginx logged (a line is
# written when a request ends).
origin_gets() {
	awk -v u="$1" '$1 == "GET" && $2 == u { n++ } END { print n + 0 }' \
	    "$NGINX_ACCESS" 2>/dev/null || echo 0
}

# origin_cond_gets URI [STATUS]: GETs for URI that carried If-None-Match
# or If-Modified-Since (and were answered STATUS, if given).
origin_cond_gets() {
	awk -v u="$1" -v st="${2:-}" '$1 == "GET" && $2 == u &&
	    (st == "" || $3 == st) &&
	    ($0 !~ / inm=- / || $0 !~ / ims=- /) { n++ } END { print n + 0 }' \
	    "$NGINX_ACCESS" 2>/dev/null || echo 0
}

_origin_gets_is() {
	[ "$(origin_gets "$1")" -eq "$2" ]
}

# wait_origin_gets URI N [SECONDS]: wait (bounded, default 5 s) until
# nginx logged exactly N GETs for URI.
wait_origin_gets() {
	wait_for "${3:-5}" _origin_gets_is "$1" "$2"
}

# ---------------------------------------------------------------- faults

_fault_up() {
	exited "$FAULT_PID" && return 0
	grep -q '^listening on ' "$FAULT_OUT" 2>/dev/null
}

# start_faultorigin DIR [PORT]: tests/originfault.py serving DIR's files
# (at /ok/NAME) on 127.0.0.1:PORT (default any free port: it binds port
# 0 and says which); sets FAULT_PORT, FAULT_PID.  It exits by itself if
# this script dies (it watches our PID) or after 600 s.
start_faultorigin() {
	local dir=$1 port=${2:-0} line
	[ -n "$FAULT_PID" ] && stop_faultorigin
	py_resolve
	: > "$FAULT_OUT"
	"$PYTHON_EXE" "$ORIGINFAULT" --dir "$dir" --port "$port" \
	    --parent $$ --lifetime 600 ${FAULT_ARGS:-} \
	    > "$FAULT_OUT" 2>&1 < /dev/null &
	FAULT_PID=$!
	if ! wait_for 10 _fault_up || exited "$FAULT_PID"; then
		die "originfault.py did not start: $(cat "$FAULT_OUT")"
	fi
	line=$(grep -m1 '^listening on ' "$FAULT_OUT")
	FAULT_PORT=${line##*:}
	echo "originfault.py pid $FAULT_PID on 127.0.0.1:$FAULT_PORT"
}

# stop_faultorigin: stop it (SIGTERM), bounded.
stop_faultorigin() {
	[ -n "$FAULT_PID" ] || return 0
	kill -s TERM "$FAULT_PID" 2>/dev/null
	wait_for 5 exited "$FAULT_PID" || kill -s KILL "$FAULT_PID" 2>/dev/null
	wait "$FAULT_PID" 2>/dev/null
	FAULT_PID=
}

# fault_stats: originfault.py's GET counters, JSON {"PATH": N, ...}.
fault_stats() {
	timeout 10 curl -s "http://127.0.0.1:$FAULT_PORT/__stats"
}

# fault_gets PATH: how many GETs originfault.py counted for PATH.
fault_gets() {
	fault_stats | python3 -c 'import json, sys
print(json.load(sys.stdin).get(sys.argv[1], 0))' "$1" 2>/dev/null || echo "?"
}

# closed_port: a loopback TCP port nothing listens on (connect refused).
closed_port() {
	local p _
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		p=$((20000 + RANDOM % 40000))
		if _port_closed "$p"; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# ---------------------------------------------------------------- helpers

# sha FILE: its sha256 (hex).
sha() {
	sha256sum < "$1" | awk '{ print $1 }'
}

# cache_data_files CACHE_DIR NAME: the cached copies of tftp path NAME
# (cache_dir/data/<16 hex>/NAME), one a line.
cache_data_files() {
	[ -d "$1/data" ] || return 0
	find "$1/data" -type f -path "$1/data/*/$2" 2>/dev/null
}

# cache_data_bytes CACHE_DIR: total bytes of the files under data/.
cache_data_bytes() {
	if [ ! -d "$1/data" ]; then
		echo 0
		return
	fi
	find "$1/data" -type f -printf '%s\n' 2>/dev/null |
	    awk '{ n += $1 } END { print n + 0 }'
}

_no_entry() {
	[ -z "$(cache_data_files "$1" "$2")" ] &&
	    [ -z "$(find "$1/tmp" -type f 2>/dev/null)" ]
}

# no_cache_entry CACHE_DIR NAME: assert nothing of NAME is under data/
# and nothing is left in tmp/ (waiting up to 3 s for an aborted
# download's temp file to go).
no_cache_entry() {
	local f t
	wait_for 3 _no_entry "$1" "$2"
	f=$(cache_data_files "$1" "$2")
	t=$(find "$1/tmp" -type f 2>/dev/null)
	if [ -n "$f" ] || [ -n "$t" ]; then
		fail "cache entry left for $2: ${f:-none}; tmp: ${t:-empty}"
		return 1
	fi
	ok "$CUR: no cache entry for $2, tmp/ empty"
}

# conf_accepted: the written configuration passes owltftpd -t (a check).
conf_accepted() {
	local out
	check "the daemon accepts the origin configuration (owltftpd -t)"
	out=$("$OWLTFTPD" -t -c "${1:-$CONF}" 2>&1) && ok "$out" ||
	    fail "owltftpd -t rejects it: $out"
}

# ---------------------------------------------------------------- cleanup

origin_cleanup() {
	local p
	for p in $EXTRA_PIDS; do
		kill -s TERM "$p" 2>/dev/null
	done
	for p in $EXTRA_PIDS; do
		wait_for 5 exited "$p" || kill -s KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	EXTRA_PIDS=
	stop_faultorigin
	stop_nginx
	for p in $ORIGIN_MOUNTS; do
		umount -l "$p" 2>/dev/null
	done
	ORIGIN_MOUNTS=
}

# lib.sh's cleanup, kept as _lib_cleanup; ours runs first, then it (with
# the exit status it would have seen).
eval "_lib_$(declare -f cleanup)"
cleanup() {
	local rc=$?
	origin_cleanup
	(exit "$rc")
	_lib_cleanup
}
