#!/bin/bash
# origin-tls.sh -- HTTPS origins (issue 15) against nginx on loopback,
# with a throwaway CA made here by the openssl CLI and a server
# certificate for 127.0.0.1 and localhost (subjectAltName IP:127.0.0.1,
# DNS:localhost):
#   - tls_verify = false is logged at start, naming its origin;
#   - no ca_file (the system's CAs, which do not know ours): ERROR 0
#     "origin: TLS: certificate verify failed (...)", and nothing cached;
#   - ca_file = our CA but the URL's address is not the certificate's
#     (127.0.0.2): ERROR 0 "origin: TLS: ... (IP address mismatch)";
#   - ca_file = our CA: a 2 MiB file arrives byte-exact (curl);
#   - tls_verify = false: served (curl), byte-exact;
#   - https:// to a plain HTTP port, and a ca_file that is not there:
#     ERROR 0 "origin: TLS: <reason>"; to a closed port: "origin:
#     unreachable", as over plain HTTP;
#   - a host name (localhost) is checked against the certificate's
#     DNS:localhost and sent as SNI;
#   - an http:// origin that redirects to https:// is followed, checked
#     against the rule's ca_file, and served;
#   - the origins sharing a ca_file share one SSL_CTX, made again once
#     the file changes.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"

. "$TESTS_SRCDIR/originlib.sh"

need_cmd curl python3 openssl
need_nginx
if ! "$NGINX_BIN" -V 2>&1 | grep -q -- --with-http_ssl_module; then
	echo "SKIP: $TEST_NAME needs nginx with the ssl module" >&2
	exit 77
fi

# A server built --without-tls refuses https:// when it reads it.
write_conf 'origins = ( { prefix = "/"; url = "https://127.0.0.1/"; } )'
if "$OWLTFTPD" -t -c "$CONF" 2>&1 | grep -q 'not supported by this build'
then
	echo "SKIP: $TEST_NAME: owltftpd was built without TLS" >&2
	exit 77
fi

PKI=$T/pki
WWW=$T/www
NG=$NGINX_DIR
CACHE=$T/cache
mkdir -p "$PKI" "$WWW" "$NG" && chmod 755 "$WWW" "$NG" || exit 99
mkfile "$WWW/big.bin" 2097152
chmod 644 "$WWW/big.bin"

# tmo CMD...: CMD bounded by CLIENT_TIMEOUT.
tmo() {
	timeout -k 2 "$CLIENT_TIMEOUT" "$@"
}

# ---------------------------------------------------------------- PKI

# A CA and a server certificate signed by it, for the address only: the
# host check must match an IP SAN, not a name.
make_pki() {
	printf '%s\n' 'basicConstraints = critical, CA:FALSE' \
	    'keyUsage = critical, digitalSignature, keyEncipherment' \
	    'extendedKeyUsage = serverAuth' \
	    'subjectAltName = IP:127.0.0.1, DNS:localhost' > "$PKI/server.ext"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -keyout "$PKI/ca.key" -out "$PKI/ca.pem" -days 2 \
	    -subj "/CN=owltftpd $TEST_NAME CA" \
	    -addext 'basicConstraints = critical, CA:TRUE' \
	    -addext 'keyUsage = critical, keyCertSign, cRLSign' &&
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -keyout "$PKI/server.key" -out "$PKI/server.csr" \
	    -subj "/CN=127.0.0.1" &&
	openssl x509 -req -in "$PKI/server.csr" -CA "$PKI/ca.pem" \
	    -CAkey "$PKI/ca.key" -set_serial 2 -days 2 \
	    -extfile "$PKI/server.ext" -out "$PKI/server.pem"
}

# ---------------------------------------------------------------- nginx

# nginx_conf HTTPS_PORT HTTP_PORT: TLS on 127.0.0.1 and 127.0.0.2 (the
# certificate holds only the first) and ::1, the files under /v/, /s/,
# /i/, /m/ and /d/ (one URL an origin: the cache is keyed by URL);
# plain HTTP on 127.0.0.1 redirects every request to the same path over
# TLS.  The access log has "METHOD URI STATUS sni=SNI".
nginx_conf() {
	local user="" v6=""
	[ "$(id -u)" -eq 0 ] && user='user nobody nogroup;'
	# localhost may resolve to ::1 first (/etc/hosts): listen there too.
	[ -n "$HAVE_V6" ] && v6="listen [::1]:$1 ssl;"
	cat > "$NG/nginx.conf" <<EOF
# written by $TEST_NAME
$user
daemon off;
master_process on;
worker_processes 1;
pid $NG/nginx.pid;
error_log $NGINX_ERROR info;
events { worker_connections 64; }
http {
	default_type application/octet-stream;
	client_body_temp_path $NG/body;
	proxy_temp_path $NG/proxy;
	fastcgi_temp_path $NG/fastcgi;
	uwsgi_temp_path $NG/uwsgi;
	scgi_temp_path $NG/scgi;
	log_format sni '\$request_method \$uri \$status sni=\$ssl_server_name';
	access_log $NGINX_ACCESS sni;
	server {
		listen 127.0.0.1:$1 ssl;
		listen 127.0.0.2:$1 ssl;
		$v6
		ssl_certificate $PKI/server.pem;
		ssl_certificate_key $PKI/server.key;
		location /v/ { alias $WWW/; }
		location /s/ { alias $WWW/; }
		location /i/ { alias $WWW/; }
		location /m/ { alias $WWW/; }
		location /d/ { alias $WWW/; }
		location = /__ping { return 200 "pong\n"; }
	}
	server {
		listen 127.0.0.1:$2;
		location / { return 302 https://127.0.0.1:$1\$request_uri; }
	}
}
EOF
}

nginx_up() {
	exited "$NGINX_PID" && return 0
	[ "$(curl -s --max-time 2 --cacert "$PKI/ca.pem" \
	    "https://127.0.0.1:$NGINX_PORT/__ping" 2>/dev/null)" = pong ]
}

HAVE_V6=
python3 -c 'import socket
socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null && HAVE_V6=1

# tls_nginx_conf PORT: TLS on PORT, plain HTTP (redirecting) on PORT + 1.
tls_nginx_conf() {
	NGINX_HTTP_PORT=$(($1 + 1))
	nginx_conf "$1" "$NGINX_HTTP_PORT"
}

# start_nginx: on two free ports (others tried if taken); sets
# NGINX_PORT (TLS), NGINX_HTTP_PORT and NGINX_PID.
start_nginx() {
	nginx_launch tls_nginx_conf nginx_up
	echo "nginx pid $NGINX_PID: https on $NGINX_PORT," \
	    "http on $NGINX_HTTP_PORT"
}



# ---------------------------------------------------------------- setup

check "a CA and a certificate for IP:127.0.0.1 (openssl CLI)"
make_pki > "$PKI/openssl.log" 2>&1 ||
    die "openssl failed: $(tail -n 5 "$PKI/openssl.log")"
ok

start_nginx
U=https://127.0.0.1:$NGINX_PORT
# A port nothing listens on: bound, then closed again.
CLOSED_PORT=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
write_conf "cache_dir = \"$CACHE\"" 'origin_timeout_ms = 5000' \
    "origins = (
	{ prefix = \"v\"; url = \"$U/v/\"; ca_file = \"$PKI/ca.pem\"; },
	{ prefix = \"s\"; url = \"$U/s/\"; },
	{ prefix = \"i\"; url = \"$U/i/\"; tls_verify = false; },
	{ prefix = \"m\"; url = \"https://127.0.0.2:$NGINX_PORT/m/\";
	  ca_file = \"$PKI/ca.pem\"; },
	{ prefix = \"r\"; url = \"http://127.0.0.1:$NGINX_HTTP_PORT/v/\";
	  ca_file = \"$PKI/ca.pem\"; },
	{ prefix = \"p\"; url = \"https://127.0.0.1:$NGINX_HTTP_PORT/p/\";
	  ca_file = \"$PKI/ca.pem\"; },
	{ prefix = \"n\"; url = \"$U/n/\"; ca_file = \"$T/none.pem\"; },
	{ prefix = \"c\"; url = \"https://127.0.0.1:$CLOSED_PORT/c/\"; },
	{ prefix = \"d\"; url = \"https://localhost:$NGINX_PORT/d/\";
	  ca_file = \"$PKI/ca.pem\"; }
)"
start_server

# ---------------------------------------------------------------- checks

check "tls_verify = false is logged as a warning naming its origin"
if grep -aF "tls_verify = false" "$LOG" | grep -aqF "$U/i/"; then
	ok
else
	fail "no warning naming $U/i/ in the log"
fi

# probe NAME: the first reply to an RRQ of NAME, on one line.
probe() {
	tmo python3 "$RAWTFTP" probe 127.0.0.1 "$PORT" rrq "$1" octet \
	    --wait 8000 2>&1
}

check "system CAs only: ERROR 0 'origin: TLS: certificate verify failed'"
reply=$(probe s/big.bin)
echo "reply: $reply"
case $reply in
"ERROR 0 origin: TLS: certificate verify failed"*) ok ;;
*) fail "got '$reply'" ;;
esac
text=${reply#ERROR 0 }
[ ${#text} -lt 100 ] || fail "the ERROR text is ${#text} bytes long"
n=$(find "$CACHE/data" -type f 2>/dev/null | wc -l)
if [ "$n" -eq 0 ]; then
	ok "nothing under cache_dir/data"
else
	fail "$n files under $CACHE/data: $(find "$CACHE/data" -type f)"
fi

check "ca_file, but the URL's address is not the certificate's: refused"
reply=$(probe m/big.bin)
echo "reply: $reply"
case $reply in
"ERROR 0 origin: TLS: certificate verify failed (IP address mismatch)")
	ok ;;
*) fail "got '$reply'" ;;
esac

check "https:// to a plain HTTP port: ERROR 0 'origin: TLS: <reason>'"
reply=$(probe p/big.bin)
echo "reply: $reply"
case $reply in
"ERROR 0 origin: TLS: "?*) ok ;;
*) fail "got '$reply'" ;;
esac

check "a ca_file that is not there: ERROR 0 'origin: TLS: cannot read ca_file'"
reply=$(probe n/big.bin)
echo "reply: $reply"
case $reply in
"ERROR 0 origin: TLS: cannot read ca_file: No such file or directory") ok ;;
*) fail "got '$reply'" ;;
esac

check "https:// to a closed port: ERROR 0 'origin: unreachable', not TLS"
reply=$(probe c/big.bin)
echo "reply: $reply"
if [ "$reply" = "ERROR 0 origin: unreachable" ]; then
	ok
else
	fail "got '$reply'"
fi

check "ca_file = our CA: curl gets the 2 MiB file byte-exact"
tmo curl -sS -o "$OUT/v.bin" "tftp://127.0.0.1:$PORT/v/big.bin" ||
    fail "curl exited $?"
same "$WWW/big.bin" "$OUT/v.bin"

check "tls_verify = false: served byte-exact"
tmo curl -sS -o "$OUT/i.bin" "tftp://127.0.0.1:$PORT/i/big.bin" ||
    fail "curl exited $?"
same "$WWW/big.bin" "$OUT/i.bin"

check "a host name: checked against DNS:localhost, sent as SNI"
tmo curl -sS -o "$OUT/d.bin" "tftp://127.0.0.1:$PORT/d/big.bin" ||
    fail "curl exited $?"
same "$WWW/big.bin" "$OUT/d.bin"
grep -aq "^GET /d/big.bin 200 sni=localhost$" "$NG/access.log" ||
    fail "nginx logged no SNI localhost: $(grep -a /d/ "$NG/access.log")"

check "an http:// origin redirecting to https:// is followed and checked"
tmo curl -sS -o "$OUT/r.bin" "tftp://127.0.0.1:$PORT/r/big.bin" ||
    fail "curl exited $?"
same "$WWW/big.bin" "$OUT/r.bin"
grep -aq "^GET /v/big.bin 302 " "$NG/access.log" ||
    fail "nginx logged no redirect: $(tail -n 3 "$NG/access.log")"

check "one SSL_CTX per (ca_file, verify), made again when ca_file changes"
made() {
	grep -acF "TLS context made (ca_file \"$PKI/ca.pem\", verified)" "$LOG"
}
n=$(made)
[ "$n" -eq 1 ] || fail "made $n times for the fetches of 5 origins"
mkfile "$WWW/small.bin" 1000
chmod 644 "$WWW/small.bin"
touch -d '+1 second' "$PKI/ca.pem"
tmo curl -sS -o "$OUT/small.bin" "tftp://127.0.0.1:$PORT/v/small.bin" ||
    fail "curl exited $?"
same "$WWW/small.bin" "$OUT/small.bin"
n=$(made)
[ "$n" -eq 2 ] || fail "made $n times in all after ca_file changed (want 2)"

finish
