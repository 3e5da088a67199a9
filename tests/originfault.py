#!/usr/bin/env python3
"""An HTTP/1.1 origin that misbehaves on purpose, for owltftpd's origin
cache tests (tests/integ/origin-faults.sh, started by originlib.sh's
start_faultorigin).

    python3 originfault.py --dir DIR [--port N] [--parent PID]
        [--lifetime S] [--conn-timeout S] [--count-delay S]

It listens on 127.0.0.1 (port 0 = any free port) and prints
"listening on 127.0.0.1:PORT" on stdout once it accepts connections.
What it does depends on the path (GET and HEAD; every response but /long-keepalive's carries
"Connection: close"; the connection is closed after it):

    /ok/NAME          NAME's bytes from DIR, Content-Length, ETag (a hash
                      of the content), Last-Modified (its mtime); 304 when
                      If-None-Match names that ETag; 404 if there is none
    /count/NAME       as /ok/NAME, after --count-delay seconds (default 2):
                      concurrent requests pile up, for single-flight tests
    /404 /410 /401 /403 /500 /503
                      that status, a short body
    /slow             reads the request, never answers; ends when the
                      client closes (or after --conn-timeout)
    /drip             200 with Content-Length 3600, then 1 byte a second
    /short            Content-Length 1000, sends 500 bytes, closes
    /long             Content-Length 500, sends 1000 bytes in one write,
                      closes
    /long-keepalive   the same without "Connection: close" (the surplus
                      is still on the connection when the body is done)
    /redirect-loop    302 to itself
    /redirect/N[/NAME]
                      302 to /redirect/N-1/NAME ... /redirect/1/NAME
                      redirects to /ok/NAME: N hops (NAME defaults to
                      redirect.bin)
    /big              Content-Length 64 MiB, that much data (0x5a bytes)
    /__stats          JSON {"PATH": number of GETs, ...} for every path
                      asked so far (itself excluded); HEAD is not counted
    anything else     404

Every connection has a read timeout and a total deadline (--conn-timeout,
default 60 s).  The server exits when the process --parent (default: its
parent) is gone, or after --lifetime seconds (default 600): a test that
dies cannot leave it behind.  Standard library only.
"""

import argparse
import email.utils
import hashlib
import json
import os
import socket
import socketserver
import sys
import threading
import time

MAX_HEAD = 65536
BIG = 64 << 20

STATUS_TEXT = {
    200: "OK", 302: "Found", 304: "Not Modified", 400: "Bad Request",
    401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    405: "Method Not Allowed", 410: "Gone", 500: "Internal Server Error",
    503: "Service Unavailable",
}

ARGS = None
STATS = {}
STATS_LOCK = threading.Lock()


def count(path):
    with STATS_LOCK:
        STATS[path] = STATS.get(path, 0) + 1


class Conn:
    """One client connection: the parsed request and ways to answer."""

    def __init__(self, sock):
        self.sock = sock
        self.deadline = time.monotonic() + ARGS.conn_timeout
        sock.settimeout(min(ARGS.conn_timeout, 10.0))
        self.method = None
        self.path = None
        self.headers = {}

    def read_request(self):
        buf = b""
        while b"\r\n\r\n" not in buf:
            if len(buf) > MAX_HEAD or time.monotonic() > self.deadline:
                return False
            try:
                chunk = self.sock.recv(4096)
            except socket.timeout:
                return False
            if not chunk:
                return False
            buf += chunk
        head = buf.split(b"\r\n\r\n", 1)[0].decode("latin-1")
        lines = head.split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3:
            return False
        self.method, target, _ = parts
        if target.startswith("http://"):       # absolute form
            rest = target[len("http://"):]
            target = "/" + rest.split("/", 1)[1] if "/" in rest else "/"
        self.path = target.split("?", 1)[0]
        for ln in lines[1:]:
            if ":" in ln:
                k, v = ln.split(":", 1)
                self.headers[k.strip().lower()] = v.strip()
        return True

    def send(self, data):
        self.sock.sendall(data)

    def head(self, code, headers=(), length=None, close=True):
        out = ["HTTP/1.1 %d %s" % (code, STATUS_TEXT.get(code, "Status")),
               "Date: " + email.utils.formatdate(usegmt=True),
               "Server: originfault"]
        if close:
            out.append("Connection: close")
        if length is not None:
            out.append("Content-Length: %d" % length)
        out += ["%s: %s" % kv for kv in headers]
        self.send(("\r\n".join(out) + "\r\n\r\n").encode("latin-1"))

    def reply(self, code, body=b"", headers=()):
        self.head(code, headers, len(body))
        if self.method != "HEAD":
            self.send(body)

    def base(self):
        return "http://127.0.0.1:%d" % self.sock.getsockname()[1]

    def wait_for_close(self):
        """Answer nothing until the client closes or the deadline."""
        self.sock.settimeout(0.5)
        while time.monotonic() < self.deadline:
            try:
                if not self.sock.recv(4096):
                    return
            except socket.timeout:
                continue
            except OSError:
                return


def serve_file(c, name):
    if not name or name.startswith("/") or ".." in name.split("/"):
        c.reply(404, b"bad name\n")
        return
    path = os.path.join(ARGS.dir, name)
    try:
        with open(path, "rb") as f:
            body = f.read()
        mtime = os.stat(path).st_mtime
    except OSError:
        c.reply(404, b"no such file\n")
        return
    etag = '"%s"' % hashlib.sha256(body).hexdigest()[:16]
    lm = email.utils.formatdate(mtime, usegmt=True)
    hdr = [("ETag", etag), ("Last-Modified", lm),
           ("Content-Type", "application/octet-stream")]
    inm = c.headers.get("if-none-match")
    if inm is not None and etag in [t.strip() for t in inm.split(",")]:
        c.head(304, hdr)
        return
    c.reply(200, body, hdr)


def handle(c):
    p = c.path
    if c.method not in ("GET", "HEAD"):
        c.reply(405, b"GET only\n")
        return
    if p == "/__stats":
        with STATS_LOCK:
            body = (json.dumps(STATS, sort_keys=True) + "\n").encode()
        c.reply(200, body, [("Content-Type", "application/json")])
        return
    if c.method == "GET":
        count(p)
    if p.startswith("/ok/"):
        serve_file(c, p[4:])
    elif p.startswith("/count/"):
        time.sleep(ARGS.count_delay)
        serve_file(c, p[7:])
    elif p in ("/404", "/410", "/401", "/403", "/500", "/503"):
        c.reply(int(p[1:]), ("status %s\n" % p[1:]).encode())
    elif p == "/slow":
        c.wait_for_close()
    elif p == "/drip":
        c.head(200, [("Content-Type", "application/octet-stream")], 3600)
        for _ in range(3600):
            if time.monotonic() > c.deadline:
                break
            c.send(b"d")
            time.sleep(1.0)
    elif p == "/short":
        c.head(200, [("ETag", '"short"')], 1000)
        c.send(b"s" * 500)
    elif p in ("/long", "/long-keepalive"):
        c.head(200, [("ETag", '"long"')], 500, close=p == "/long")
        if c.method != "HEAD":
            c.send(b"l" * 1000)
    elif p == "/redirect-loop":
        c.reply(302, b"loop\n",
                [("Location", c.base() + "/redirect-loop")])
    elif p.startswith("/redirect/"):
        rest = p[len("/redirect/"):]
        n, _, name = rest.partition("/")
        name = name or "redirect.bin"
        try:
            n = int(n)
        except ValueError:
            c.reply(404, b"bad hop count\n")
            return
        to = "/ok/%s" % name if n <= 1 else "/redirect/%d/%s" % (n - 1, name)
        c.reply(302, b"moved\n", [("Location", c.base() + to)])
    elif p == "/big":
        c.head(200, [("ETag", '"big"')], BIG)
        if c.method == "HEAD":
            return
        chunk = b"\x5a" * 65536
        for _ in range(BIG // len(chunk)):
            if time.monotonic() > c.deadline:
                break
            c.send(chunk)
    else:
        c.reply(404, b"no such path\n")


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        c = Conn(self.request)
        try:
            if c.read_request():
                handle(c)
        except OSError:
            pass            # the client went away: fine for a fault server


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256


def watchdog(parent, lifetime):
    end = time.monotonic() + lifetime
    while True:
        time.sleep(0.5)
        if time.monotonic() > end:
            sys.stderr.write("originfault: lifetime over, exiting\n")
            os._exit(0)
        try:
            os.kill(parent, 0)
        except ProcessLookupError:
            os._exit(0)
        except PermissionError:
            pass
        if os.getppid() == 1 and parent != 1:
            os._exit(0)


def main():
    global ARGS
    ap = argparse.ArgumentParser(description="misbehaving HTTP origin")
    ap.add_argument("--dir", required=True, help="files for /ok/NAME")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--parent", type=int, default=os.getppid())
    ap.add_argument("--lifetime", type=float, default=600.0)
    ap.add_argument("--conn-timeout", type=float, default=60.0)
    ap.add_argument("--count-delay", type=float, default=2.0)
    ARGS = ap.parse_args()
    srv = Server(("127.0.0.1", ARGS.port), Handler)
    threading.Thread(target=watchdog, args=(ARGS.parent, ARGS.lifetime),
                     daemon=True).start()
    print("listening on 127.0.0.1:%d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
