#!/usr/bin/env python3
"""Raw-packet TFTP client for owltftpd's integration tests.

Runs named scenarios against a live server, with the packets of
tftpwire.py (RFC 1350, 2347 OACK):

    python3 rawtftp.py SCENARIO HOST PORT [args]

Each scenario prints what it checks ("ok: ..." / "FAIL: ...") and exits 0
when every check passed, 1 when one failed, 2 on a usage error.  Every
socket operation has a timeout and every loop is bounded, so a scenario
always ends.  Standard library only.
"""

import argparse
import os
import select
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tftpwire import (  # noqa: E402
    OP_ACK, OP_DATA, OP_ERROR, OP_OACK, OP_RRQ, OP_WRQ, OPNAMES, ack, b,
    data, error, oack, parse, request, rrq, wire_block, wrq)

# Upper bound on any one scenario's network wait.
MAX_SCENARIO_SECONDS = 120


class Failure(Exception):
    """A check failed; the message says which and why."""


class TftpError(Exception):
    """The server answered with an ERROR packet."""

    def __init__(self, code, msg):
        Exception.__init__(self, "ERROR %d %r" % (code, msg))
        self.code = code
        self.msg = msg


# ---------------------------------------------------------------- netascii

def to_netascii(src):
    """Local text to the netascii wire form: LF -> CR LF, CR -> CR NUL."""
    out = bytearray()
    for c in src:
        if c == 0x0A:
            out += b"\r\n"
        elif c == 0x0D:
            out += b"\r\0"
        else:
            out.append(c)
    return bytes(out)


# ---------------------------------------------------------------- session

class Session:
    """One client socket talking to one server; tracks the server's TID."""

    def __init__(self, host, port, timeout=2.0):
        info = socket.getaddrinfo(host, port, 0, socket.SOCK_DGRAM)[0]
        self.family = info[0]
        self.server = info[4]
        self.host = self.server[0]
        self.sock = socket.socket(self.family, socket.SOCK_DGRAM)
        self.sock.bind(("::" if self.family == socket.AF_INET6
                        else "0.0.0.0", 0))
        self.sock.settimeout(timeout)
        self.timeout = timeout
        self.tid = None
        self.log = []            # (time, direction, text), for diagnostics
        self.strays = []         # packets from addresses other than the TID

    def close(self):
        self.sock.close()

    def send_req(self, raw):
        """Send to the server's listen address (requests)."""
        self.sock.sendto(raw, self.server)
        self.log.append((time.monotonic(), ">", str(parse(raw))[:60]))

    def send(self, raw):
        """Send to the transfer's TID."""
        if self.tid is None:
            raise Failure("no server TID yet")
        self.sock.sendto(raw, self.tid)
        self.log.append((time.monotonic(), ">", str(parse(raw))[:60]))

    def recv_any(self, timeout=None):
        """Next datagram as (Packet, addr), or None on timeout."""
        t = self.timeout if timeout is None else timeout
        if t <= 0:
            t = 0.001
        self.sock.settimeout(t)
        try:
            raw, addr = self.sock.recvfrom(70000)
        except socket.timeout:
            return None
        p = parse(raw)
        self.log.append((time.monotonic(), "<", str(p)[:60]))
        return p, addr

    def recv(self, timeout=None):
        """Next packet from the TID (learning it from the first reply).

        The reply must come from the address the request went to.  Packets
        from any other address:port are recorded in strays and skipped.
        """
        t = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + t
        for _ in range(10000):
            left = deadline - time.monotonic()
            got = self.recv_any(left)
            if got is None:
                return None
            p, addr = got
            if addr[0] != self.host:
                raise Failure("reply came from %s, request was sent to %s"
                              % (addr[0], self.host))
            if self.tid is None:
                if addr[1] == self.server[1]:
                    raise Failure("reply came from the listen port %d, "
                                  "not a new TID" % addr[1])
                self.tid = addr
            if addr[:2] != self.tid[:2]:
                self.strays.append((p, addr))
                continue
            return p
        raise Failure("too many stray packets")

    def quiet(self, seconds):
        """Packets from the TID (or anyone) within seconds; [] is silence."""
        got = []
        deadline = time.monotonic() + seconds
        for _ in range(100000):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            r = self.recv_any(left)
            if r is None:
                break
            got.append(r)
        return got

    def history(self):
        t0 = self.log[0][0] if self.log else 0
        return "\n".join("  %7.3f %s %s" % (t - t0, d, s)
                         for t, d, s in self.log[-40:])


# ---------------------------------------------------------------- transfers

class Download:
    """Result of get(): the bytes and what was seen on the way."""

    def __init__(self):
        self.data = b""
        self.oack = None         # Packet or None
        self.blksize = 512
        self.windowsize = 1
        self.blocks = 0
        self.after_65535 = None  # wire number of the block after 65535
        self.dups = 0            # DATA received that was not the next one


def get(s, name, mode="octet", opts=(), wrap_to=0, deadline=60.0,
        max_bytes=1 << 30):
    """Download name; raises TftpError for an ERROR reply, Failure else."""
    end = time.monotonic() + deadline
    r = Download()
    s.send_req(rrq(name, mode, opts))
    p = s.recv(5.0)
    if p is None:
        raise Failure("no reply to RRQ within 5 s")
    if p.op == OP_ERROR:
        raise TftpError(p.code, p.msg)
    if p.op == OP_OACK:
        r.oack = p
        o = p.optdict()
        r.blksize = int(o.get("blksize", 512))
        r.windowsize = int(o.get("windowsize", 1))
        if "rollover" in o:
            wrap_to = int(o["rollover"])
        s.send(ack(0))
        p = None
    elif p.op != OP_DATA:
        raise Failure("unexpected first reply %s" % p)
    n = 1                       # absolute block number wanted next
    inwin = 0                   # blocks since our last ACK
    last_ack = 0
    mismatch = 0
    silent = 0
    chunks = []
    for _ in range(10000000):
        if time.monotonic() > end:
            raise Failure("download not finished after %.0f s" % deadline)
        if p is None:
            p = s.recv(3.0)
        if p is None:
            silent += 1
            if silent > 4:
                raise Failure("server silent, block %d never came" % n)
            s.send(ack(wire_block(last_ack, wrap_to)))
            inwin = 0
            continue
        silent = 0
        if p.op == OP_ERROR:
            raise TftpError(p.code, p.msg)
        if p.op != OP_DATA or p.bad:
            raise Failure("unexpected packet during download: %s" % p)
        want = wire_block(n, wrap_to)
        if p.block != want:
            r.dups += 1
            if n == 0x10000 and r.after_65535 is None:
                r.after_65535 = p.block
            mismatch += 1
            if mismatch > 200:
                raise Failure("expected DATA %d (absolute block %d), "
                              "keep getting DATA %d" % (want, n, p.block))
            # Out of order or repeated: re-ACK what we have (RFC 7440).
            if p.block != wire_block(n - 1, wrap_to):
                s.send(ack(wire_block(last_ack, wrap_to)))
                inwin = 0
            p = None
            continue
        mismatch = 0
        if n == 0x10000:
            r.after_65535 = p.block
        if len(p.payload) > r.blksize:
            raise Failure("DATA %d carries %d bytes, blksize is %d"
                          % (p.block, len(p.payload), r.blksize))
        chunks.append(p.payload)
        r.blocks = n
        inwin += 1
        last = len(p.payload) < r.blksize
        if last or inwin >= r.windowsize:
            s.send(ack(p.block))
            last_ack = n
            inwin = 0
        n += 1
        if n * r.blksize > max_bytes + r.blksize:
            raise Failure("more data than max_bytes")
        p = None
        if last:
            r.data = b"".join(chunks)
            return r
    raise Failure("loop bound reached")


def put(s, name, content, mode="octet", opts=(), stop_after=None,
        error_after=None, deadline=60.0, wrap_to=0):
    """Upload content (sent as is: pre-encode netascii yourself).

    stop_after=N: after N blocks are ACKed, go silent and return.
    error_after=N: after N blocks are ACKed, send ERROR 0 and return.
    Returns the OACK Packet or None.  Raises TftpError on an ERROR.
    """
    end = time.monotonic() + deadline
    s.send_req(wrq(name, mode, opts))
    p = s.recv(5.0)
    if p is None:
        raise Failure("no reply to WRQ within 5 s")
    if p.op == OP_ERROR:
        raise TftpError(p.code, p.msg)
    blksize, windowsize, theoack = 512, 1, None
    if p.op == OP_OACK:
        theoack = p
        o = p.optdict()
        blksize = int(o.get("blksize", 512))
        windowsize = int(o.get("windowsize", 1))
        if "rollover" in o:
            wrap_to = int(o["rollover"])
    elif not (p.op == OP_ACK and p.block == 0):
        raise Failure("unexpected reply to WRQ: %s" % p)
    nblocks = len(content) // blksize + 1
    acked = 0
    tries = 0
    for _ in range(10000000):
        if time.monotonic() > end:
            raise Failure("upload not finished after %.0f s" % deadline)
        if acked >= nblocks:
            return theoack
        if stop_after is not None and acked >= stop_after:
            return theoack
        if error_after is not None and acked >= error_after:
            s.send(error(0, "test client gives up"))
            return theoack
        top = min(nblocks, acked + windowsize)
        if stop_after is not None:
            top = min(top, stop_after)
        if error_after is not None:
            top = min(top, error_after)
        for n in range(acked + 1, top + 1):
            s.send(data(wire_block(n, wrap_to),
                        content[(n - 1) * blksize:n * blksize]))
        want = wire_block(top, wrap_to)
        for _ in range(1000):
            p = s.recv(3.0)
            if p is None:
                break
            if p.op == OP_ERROR:
                raise TftpError(p.code, p.msg)
            if p.op != OP_ACK:
                raise Failure("unexpected packet during upload: %s" % p)
            if p.block == want:
                break
            # An earlier block: slide back to just after it.
            for back in range(acked + 1, top):
                if wire_block(back, wrap_to) == p.block:
                    acked = back
                    break
        if p is None:
            tries += 1
            if tries > 4:
                raise Failure("no ACK for block %d" % top)
            continue
        tries = 0
        if p.block == want:
            acked = top
    raise Failure("loop bound reached")


# ---------------------------------------------------------------- helpers

class Checker:
    def __init__(self):
        self.failed = 0

    def ok(self, what):
        print("ok: %s" % what)
        sys.stdout.flush()

    def fail(self, what):
        print("FAIL: %s" % what)
        sys.stdout.flush()
        self.failed += 1

    def expect(self, cond, what, detail=""):
        if cond:
            self.ok(what)
        else:
            self.fail(what + (": " + detail if detail else ""))
        return cond


def parse_opts(items):
    out = []
    for it in items or []:
        if "=" not in it:
            raise SystemExit("option %r is not name=value" % it)
        k, v = it.split("=", 1)
        out.append((k, v))
    return out


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


def end_transfer(s):
    """End a transfer we do not want to finish (client ERROR, quietly)."""
    if s.tid is not None:
        s.send(error(0, "test client done"))


def refused(c, a, what, e):
    """The server ended request what with the ERROR e: a pass when
    --expect-error lists its code, a failure otherwise."""
    if a.expect_error is None:
        c.fail("%s: server sent ERROR %d %r" % (what, e.code, e.msg))
        return
    c.expect(e.code in a.expect_error, "%s refused with ERROR %d %r"
             % (what, e.code, e.msg), "want a code in %s" % (a.expect_error,))


def data_blocks(pkts):
    return [p.block for p, _ in pkts if p.op == OP_DATA]


def download_rest(s, p, limit, blksize=512):
    """Lock-step from p, the DATA just received and not yet ACKed, to the
    short block: ACK each block; the next must be the one after it.  At
    most limit more blocks.  Returns the payloads from p on; raises
    Failure when the next block does not come."""
    n = p.block
    got = bytearray(p.payload)
    for _ in range(limit):
        if len(p.payload) < blksize:
            break
        s.send(ack(n))
        p = s.recv(3.0)
        if p is None or p.op != OP_DATA or p.block != wire_block(n + 1, 0):
            raise Failure("ACK %d brought %s, not DATA %d" % (n, p, n + 1))
        n += 1
        got += p.payload
    s.send(ack(n))
    return bytes(got)


def download_after_ack0(s, limit):
    """ACK 0 (to an OACK, or to nothing yet), then download_rest from
    DATA 1."""
    s.send(ack(0))
    p = s.recv(3.0)
    if p is None or p.op != OP_DATA or p.block != 1:
        raise Failure("expected DATA 1, got %s" % p)
    return download_rest(s, p, limit)


# ---------------------------------------------------------------- scenarios

def sc_get(a, c):
    """Download a file; check content, OACK, wrap and source address."""
    s = Session(a.host, a.port)
    try:
        r = get(s, a.name, a.mode, parse_opts(a.opt), wrap_to=a.wrap,
                deadline=a.deadline)
    except TftpError as e:
        refused(c, a, "RRQ %r" % a.name, e)
        return
    if a.expect_error is not None:
        c.fail("RRQ %r should be refused with ERROR %s, but %d bytes came"
               % (a.name, a.expect_error, len(r.data)))
        return
    print("got %d bytes in %d blocks, blksize %d, windowsize %d, from %s%s"
          % (len(r.data), r.blocks, r.blksize, r.windowsize,
             s.tid[0], ", " + str(r.oack) if r.oack else ""))
    c.ok("replies came from %s" % a.host)
    if a.out:
        with open(a.out, "wb") as f:
            f.write(r.data)
    if a.expect:
        want = read_file(a.expect)
        if a.netascii_of:
            want = to_netascii(want)
        c.expect(r.data == want, "content equals %s%s" % (
            a.expect, " (netascii wire form)" if a.netascii_of else ""),
            "got %d bytes, want %d" % (len(r.data), len(want)))
    for kv in a.expect_oack or []:
        k, v = kv.split("=", 1)
        got = r.oack.optdict().get(k.lower()) if r.oack else None
        c.expect(got == v, "OACK has %s=%s" % (k, v), "got %r" % got)
    if a.check_wrap is not None:
        c.expect(r.after_65535 == a.check_wrap,
                 "block after 65535 is %d" % a.check_wrap,
                 "it was %r (blocks: %d)" % (r.after_65535, r.blocks))


def sc_put(a, c):
    """Upload a file (optionally netascii-encoded, cut short, or aborted)."""
    content = read_file(a.file)
    if a.encode_netascii:
        content = to_netascii(content)
    s = Session(a.host, a.port)
    try:
        o = put(s, a.name, content, a.mode, parse_opts(a.opt),
                stop_after=a.stop_after, error_after=a.error_after,
                deadline=a.deadline)
    except TftpError as e:
        refused(c, a, "WRQ %r" % a.name, e)
        return
    if a.expect_error is not None:
        c.fail("WRQ %r should have ended with ERROR %s but did not"
               % (a.name, a.expect_error))
        return
    what = "complete"
    if a.stop_after is not None:
        what = "went silent after %d blocks" % a.stop_after
    if a.error_after is not None:
        what = "sent ERROR after %d blocks" % a.error_after
    c.ok("upload of %r (%d bytes) %s%s" % (a.name, len(content), what,
                                            ", " + str(o) if o else ""))


def sc_probe(a, c):
    """Send one request, print the first reply (or NONE) on one line."""
    s = Session(a.host, a.port)
    op = OP_WRQ if a.op == "wrq" else OP_RRQ
    s.send_req(request(op, a.name, a.mode, parse_opts(a.opt)))
    p = s.recv(a.wait / 1000.0)
    if p is None:
        print("NONE")
        return
    print(str(p))
    if p.bad:
        c.fail("malformed reply: %s" % p.bad)
    if p.op in (OP_OACK, OP_DATA, OP_ACK) and not a.keep:
        end_transfer(s)


def sc_oackwait(a, c):
    """After an OACK the server sends nothing new until ACK 0."""
    want = read_file(a.expect)
    s = Session(a.host, a.port)
    s.send_req(rrq(a.name, "octet", parse_opts(a.opt)))
    p = s.recv(5.0)
    if not c.expect(p is not None and p.op == OP_OACK, "RRQ with options "
                    "gets an OACK", "got %s" % p):
        return
    later = s.quiet(a.quiet / 1000.0)
    others = [q for q, _ in later if q.raw != p.raw]
    c.expect(not others, "no DATA before ACK 0 (%d ms; %d OACK repeats)"
             % (a.quiet, len(later) - len(others)),
             "got %s" % ", ".join(str(q) for q in others))
    s.send(ack(0))
    q = s.recv(3.0)
    if not c.expect(q is not None and q.op == OP_DATA and q.block == 1,
                    "ACK 0 brings DATA 1", "got %s" % q):
        return
    blksize = int(p.optdict().get("blksize", 512))
    got = download_rest(s, q, len(want) // blksize + 3, blksize)
    c.expect(got == want, "the rest of the transfer is intact",
             "got %d bytes, want %d" % (len(got), len(want)))


def recv_blocks(s, count, timeout=2.0):
    """Exactly count DATA packets (or fewer on timeout) -> list of Packet."""
    out = []
    for _ in range(count):
        p = s.recv(timeout)
        if p is None:
            break
        out.append(p)
    return out


def sc_window(a, c):
    """RFC 7440: window, slide back on an earlier ACK, no dup-ACK resend."""
    want = read_file(a.expect)
    w = a.windowsize
    bs = 512
    nblocks = len(want) // bs + 1
    if nblocks < 4 * w + 2:
        raise SystemExit("file too small for the window scenario")
    s = Session(a.host, a.port)
    s.send_req(rrq(a.name, "octet", [("blksize", bs), ("windowsize", w),
                                     ("timeout", a.timeout)]))
    p = s.recv(5.0)
    if not c.expect(p is not None and p.op == OP_OACK
                    and p.optdict().get("windowsize") == str(w),
                    "OACK windowsize=%d" % w, "got %s" % p):
        end_transfer(s)
        return
    quiet = a.quiet / 1000.0

    def window_is(first, what):
        got = recv_blocks(s, w)
        blocks = [q.block if q.op == OP_DATA else str(q) for q in got]
        exp = list(range(first, first + w))
        ok = blocks == exp and all(
            q.payload == want[(q.block - 1) * bs:q.block * bs] for q in got)
        extra = s.quiet(quiet)
        c.expect(ok and not extra, what,
                 "got blocks %s then %s, want %s then silence" %
                 (blocks, [str(q) for q, _ in extra], exp))
        return ok and not extra

    s.send(ack(0))
    window_is(1, "ACK 0: DATA 1..%d, then the server waits" % w)
    # Slide back: ACK an earlier block of the window.
    back = max(1, w // 2)
    s.send(ack(back))
    window_is(back + 1, "ACK %d (inside the window): resumes with DATA "
              "%d..%d" % (back, back + 1, back + w))
    top = back + w
    # Duplicate ACK of the window's end: one window, not two.
    s.send(ack(top))
    s.send(ack(top))
    window_is(top + 1, "ACK %d twice: DATA %d..%d once, no duplicates"
              % (top, top + 1, top + w))
    top += w
    # A stale ACK (below the highest acknowledged block) changes nothing.
    s.send(ack(top - w - 1))
    extra = s.quiet(quiet)
    c.expect(not extra, "stale ACK %d (below the highest ACK %d) sends "
             "nothing" % (top - w - 1, top - w),
             "got %s" % [str(q) for q, _ in extra])
    # Finish the transfer window by window.
    n = top
    got_data = bytearray(want[:top * bs])
    s.send(ack(top))
    for _ in range(nblocks + 10):
        q = s.recv(3.0)
        if q is None:
            c.fail("transfer stalled after block %d" % n)
            return
        if q.op != OP_DATA:
            c.fail("unexpected %s" % q)
            return
        if q.block != n + 1:
            c.fail("DATA %d out of order (want %d)" % (q.block, n + 1))
            return
        n += 1
        got_data += q.payload
        if len(q.payload) < bs:
            s.send(ack(n))
            break
        if (n - top) % w == 0:
            s.send(ack(n))
    c.expect(bytes(got_data) == want, "rest of the file arrives intact "
             "(%d blocks)" % n, "got %d bytes, want %d"
             % (len(got_data), len(want)))


def sc_dupack(a, c):
    """Lock-step (no window): a duplicate ACK never resends DATA."""
    want = read_file(a.expect)
    s = Session(a.host, a.port)
    s.send_req(rrq(a.name, "octet", [("timeout", a.timeout)]))
    p = s.recv(5.0)
    if p is not None and p.op == OP_OACK:
        s.send(ack(0))
        p = s.recv(3.0)
    if not c.expect(p is not None and p.op == OP_DATA and p.block == 1,
                    "DATA 1", "got %s" % p):
        return
    quiet = a.quiet / 1000.0
    got = bytearray(p.payload)
    n = 1
    for _ in range(len(want) // 512 + 3):
        s.send(ack(n))
        q = s.recv(3.0)
        if q is None or q.op != OP_DATA or q.block != n + 1:
            c.fail("ACK %d should bring DATA %d, got %s" % (n, n + 1, q))
            return
        got += q.payload
        n += 1
        if n in (2, 3):
            # Sorcerer's Apprentice: repeat the previous ACK twice.
            s.send(ack(n - 1))
            s.send(ack(n - 1))
            extra = s.quiet(quiet)
            c.expect(not extra, "duplicate ACK %d x2 after DATA %d: no "
                     "DATA resent" % (n - 1, n),
                     "got %s" % [str(x) for x, _ in extra])
        if len(q.payload) < 512:
            s.send(ack(n))
            break
    c.expect(bytes(got) == want, "file intact", "got %d bytes, want %d"
             % (len(got), len(want)))


def sc_wrongtid(a, c):
    """A packet from a stranger to a live transfer's port: ERROR 5 to
    the stranger; the real transfer goes on."""
    want = read_file(a.expect)
    s = Session(a.host, a.port)
    s.send_req(rrq(a.name, "octet", [("timeout", a.timeout)]))
    p = s.recv(5.0)
    if p is None or p.op != OP_OACK:
        c.fail("no OACK: %s" % p)
        return
    s.send(ack(0))
    p = s.recv(3.0)
    if not c.expect(p is not None and p.op == OP_DATA and p.block == 1,
                    "transfer started (DATA 1)", "got %s" % p):
        return
    stranger = Session(a.host, a.port)
    stranger.sock.sendto(ack(1), s.tid)
    got = stranger.recv_any(3.0)
    sp = got[0] if got else None
    c.expect(sp is not None and sp.op == OP_ERROR and sp.code == 5,
             "stranger's ACK to the transfer port gets ERROR 5",
             "got %s" % sp)
    if got:
        c.expect(got[1][:2] == s.tid[:2], "ERROR 5 comes from the transfer "
                 "port", "came from %s" % (got[1],))
    stranger.sock.sendto(data(1, b"x" * 10), s.tid)
    stranger.quiet(0.3)
    extra = s.quiet(0.3)
    c.expect(not extra, "the real client saw nothing of it",
             "got %s" % [str(q) for q, _ in extra])
    got_data = download_rest(s, p, len(want) // 512 + 3)
    c.expect(got_data == want, "the real transfer completes intact",
             "got %d bytes" % len(got_data))
    stranger.close()


def sc_duprrq(a, c):
    """A repeated RRQ from the same address:port starts nothing new."""
    want = read_file(a.expect)
    quiet = a.quiet / 1000.0
    s = Session(a.host, a.port)
    req = rrq(a.name, "octet", [("timeout", a.timeout)])
    s.send_req(req)
    p = s.recv(5.0)
    if p is None or p.op != OP_OACK:
        c.fail("no OACK: %s" % p)
        return
    s.send_req(req)
    extra = s.quiet(quiet)
    c.expect(not extra, "RRQ repeated before ACK 0: no second OACK",
             "got %s" % [str(q) for q, _ in extra])
    s.send(ack(0))
    p = s.recv(3.0)
    if not c.expect(p is not None and p.op == OP_DATA and p.block == 1,
                    "ACK 0 brings DATA 1", "got %s" % p):
        return
    s.send_req(req)
    extra = s.quiet(quiet)
    c.expect(not extra, "RRQ repeated mid-transfer: nothing sent",
             "got %s" % [str(q) for q, _ in extra])
    got_data = download_rest(s, p, len(want) // 512 + 3)
    c.expect(got_data == want, "the one transfer completes intact",
             "got %d bytes" % len(got_data))
    extra = s.quiet(quiet)
    c.expect(not extra, "nothing after the final ACK",
             "got %s" % [str(q) for q, _ in extra])


def sc_silent(a, c):
    """The client never ACKs: the server resends the same DATA, then stops."""
    s = Session(a.host, a.port)
    s.send_req(rrq(a.name, "octet", parse_opts(a.opt)))
    t0 = time.monotonic()
    p = s.recv(5.0)
    if p is not None and p.op == OP_OACK and a.no_ack0:
        # Before any answer the server has no round trip to adapt to:
        # the OACK is resent on the asked timeout.
        print("%s; silence from the start" % p)
    elif p is not None and p.op == OP_OACK:
        print("%s; sending ACK 0, then silence" % p)
        s.send(ack(0))
        t0 = time.monotonic()
        p = s.recv(5.0)
    want_op = OP_OACK if a.no_ack0 else OP_DATA
    if not c.expect(p is not None and p.op == want_op and
                    (want_op == OP_OACK or p.block == 1),
                    "%s arrives" % ("OACK" if a.no_ack0 else "DATA 1"),
                    "got %s" % p):
        return
    datas = [(0.0, p)]
    errors = []
    others = []
    end = t0 + a.limit
    last = t0
    for _ in range(1000):
        left = min(end - time.monotonic(), a.silence)
        if left <= 0:
            break
        r = s.recv(left)
        if r is None:
            break
        last = time.monotonic()
        if r.op == want_op:
            datas.append((last - t0, r))
        elif r.op == OP_ERROR:
            errors.append(r)
        else:
            others.append(r)
    stopped = time.monotonic() < end
    print("DATA sent %d times at %s s; then %s" % (
        len(datas), ", ".join("%.2f" % t for t, _ in datas),
        ", ".join(str(e) for e in errors) or "nothing"))
    c.expect(all(d.raw == p.raw for _, d in datas),
             "every resend is the same DATA 1")
    c.expect(len(datas) >= 2, "the server retransmits DATA 1",
             "sent only once")
    c.expect(len(datas) <= a.retries + 1,
             "at most retries+1 = %d sends" % (a.retries + 1),
             "sent %d times" % len(datas))
    c.expect(not others, "nothing else sent", "got %s" % others)
    c.expect(all(e.raw == errors[0].raw for e in errors)
             and not [d for t, d in datas if t > last - t0 + 0.001],
             "after giving up the server is silent")
    c.expect(stopped, "gave up within %.0f s" % a.limit,
             "still sending at %.1f s" % (last - t0))
    if len(datas) >= 2:
        first = datas[1][0]
        if a.first_min is not None:
            c.expect(first >= a.first_min, "first resend after >= %.2f s"
                     % a.first_min, "it came after %.3f s" % first)
        if a.first_max is not None:
            c.expect(first <= a.first_max, "first resend after <= %.2f s"
                     % a.first_max, "it came after %.3f s" % first)


def sc_clienterr(a, c):
    """UEFI style: RRQ with tsize, the client answers the OACK with
    ERROR 8; the server ends the transfer quietly."""
    s = Session(a.host, a.port)
    s.send_req(rrq(a.name, "octet", parse_opts(a.opt)))
    p = s.recv(5.0)
    if not c.expect(p is not None and p.op == OP_OACK, "OACK",
                    "got %s" % p):
        return
    if a.size is not None:
        c.expect(p.optdict().get("tsize") == str(a.size),
                 "OACK tsize=%d" % a.size, "got %s" % p)
    s.send(error(8, "tsize only"))
    extra = s.quiet(a.quiet / 1000.0)
    c.expect(not extra, "after the client's ERROR 8 the server sends "
             "nothing (%d ms)" % a.quiet,
             "got %s" % [str(q) for q, _ in extra])


def sc_hostile(a, c):
    """Malformed and abusive requests to the listen port.  Each gets a
    well-formed ERROR, a sane answer, or nothing; then a normal download
    still works."""
    name = b(a.name)
    big_opts = [("x%d" % i, "1") for i in range(1000)]
    ten_k = "A" * 10240
    cases = [
        # label, datagram, expectation, allowed error codes.
        # none: no reply at all; none_or_error: nothing or an ERROR;
        # error: an ERROR (code in the list); data: DATA 1;
        # any: DATA 1, a sane OACK or an ERROR; maybe: any or nothing.
        ("empty datagram", b"", "none_or_error", None),
        ("1-byte datagram", b"\x00", "none_or_error", None),
        ("2-byte RRQ opcode only", b"\x00\x01", "none_or_error", None),
        ("3-byte RRQ", b"\x00\x01a", "none_or_error", None),
        ("RRQ without any NUL", b"\x00\x01" + name + b"octet",
         "none_or_error", None),
        ("RRQ without the mode's NUL", b"\x00\x01" + name + b"\0octet",
         "none_or_error", None),
        ("RRQ with empty name", rrq(b""), "none_or_error", None),
        ("unknown opcode 7", struct.pack("!H", 7) + name + b"\0octet\0",
         "none_or_error", None),
        ("unknown opcode 0xffff", b"\xff\xff" + name + b"\0octet\0",
         "none_or_error", None),
        ("opcode 0", b"\x00\x00" + name + b"\0octet\0", "none_or_error",
         None),
        ("DATA to the listen port", data(1, b"hello"), "none_or_error",
         None),
        ("ACK to the listen port", ack(1), "none_or_error", None),
        ("ERROR to the listen port", error(0, "x"), "none", None),
        ("OACK to the listen port", oack([("blksize", "512")]),
         "none_or_error", None),
        ("unknown mode 'binary'", rrq(name, "binary"), "error", (0, 4)),
        ("mode 'mail'", rrq(name, "mail"), "error", (0, 4)),
        ("mode 'MAIL'", rrq(name, "MAIL"), "error", (0, 4)),
        ("empty mode", rrq(name, ""), "error", (0, 4)),
        ("mode case-insensitive 'OcTeT'", rrq(name, "OcTeT"), "data", None),
        ("option name without value",
         b"\x00\x01" + name + b"\0octet\0blksize\0", "maybe", (0, 4, 8)),
        ("1000 unknown option pairs", rrq(name, "octet", big_opts), "any",
         (0, 4, 8)),
        ("10 KB value of an unknown option",
         rrq(name, "octet", [("x", ten_k), ("blksize", "1024")]), "any",
         (0, 4, 8)),
        ("10 KB blksize value", rrq(name, "octet", [("blksize", "9" * 10240)]),
         "any", (8,)),
        ("10 KB tsize value", rrq(name, "octet", [("tsize", "1" * 10240)]),
         "any", (0, 8)),
        ("10 KB windowsize value",
         rrq(name, "octet", [("windowsize", "1" * 10240)]), "any", (8,)),
        ("negative blksize", rrq(name, "octet", [("blksize", "-512")]),
         "error", (8,)),
        ("blksize with trailing junk",
         rrq(name, "octet", [("blksize", "512x")]), "error", (8,)),
        ("60 KB file name", rrq(b"a" * 61440), "none_or_error", None),
        ("60 KB name made of ../", rrq(b"../" * 20480), "none_or_error",
         None),
        ("64 KB of random bytes", b"\x00\x01" + os.urandom(65000),
         "none_or_error", None),
        ("trailing garbage after the options",
         rrq(name, "octet") + b"junk", "maybe", None),
        ("WRQ while uploads are off", wrq(b"upload-attempt"), "error", (2,)),
    ]
    for label, dgram, expect, codes in cases:
        s = Session(a.host, a.port)
        try:
            s.sock.sendto(dgram, s.server)
        except OSError as e:
            c.fail("%s: cannot send (%s)" % (label, e))
            s.close()
            continue
        first = s.recv_any(a.wait / 1000.0)
        got = [first] if first else []
        if first:
            got += s.quiet(0.05)
        replies = [p for p, _ in got]
        first = replies[0] if replies else None
        desc = ", ".join(str(p) for p in replies[:3]) or "nothing"
        ok = True
        why = ""
        for p, addr in got:
            if p.bad:
                ok, why = False, "malformed reply %s" % p.bad
        if ok and expect == "none":
            ok = not replies
            why = "must not answer, got %s" % desc
        elif ok and expect == "none_or_error":
            ok = all(p.op == OP_ERROR for p in replies)
            why = "only ERROR or nothing allowed, got %s" % desc
            if ok and replies and codes:
                ok = first.code in codes
        elif ok and expect == "error":
            ok = first is not None and first.op == OP_ERROR and (
                codes is None or first.code in codes)
            why = "want ERROR %s, got %s" % (codes, desc)
        elif ok and expect == "data":
            ok = first is not None and first.op == OP_DATA and \
                first.block == 1
            why = "want DATA 1, got %s" % desc
        elif ok and expect in ("any", "maybe"):
            if first is None:
                ok = expect == "maybe"
            else:
                ok = first.op in (OP_DATA, OP_OACK) or (
                    first.op == OP_ERROR and (codes is None or
                                              first.code in codes))
            why = "want DATA 1, OACK or ERROR %s, got %s" % (codes, desc)
            if ok and first is not None and first.op == OP_OACK:
                o = first.optdict()
                leaked = [k for k in o if k.startswith("x")]
                if leaked:
                    ok, why = False, "OACK echoes unknown options %s" % \
                        leaked[:5]
                if "blksize" in o and not 8 <= int(o["blksize"]) <= 65464:
                    ok, why = False, "OACK blksize %s" % o["blksize"]
                if "windowsize" in o and not \
                        1 <= int(o["windowsize"]) <= 65535:
                    ok, why = False, "OACK windowsize %s" % o["windowsize"]
        c.expect(ok, "%s -> %s" % (label, desc), why)
        if first is not None and first.op in (OP_DATA, OP_OACK):
            s.tid = got[0][1]
            end_transfer(s)
        s.close()
    # The server must still serve.
    if a.expect:
        want = read_file(a.expect)
        s = Session(a.host, a.port)
        try:
            r = get(s, a.name)
            c.expect(r.data == want, "after all that, a normal download "
                     "works", "got %d bytes" % len(r.data))
        except (TftpError, Failure) as e:
            c.fail("after all that, a normal download fails: %s" % e)


def sc_flood(a, c):
    """Many clients at once that ask and then never answer, plus a burst
    of requests for a missing file from one port."""
    socks = []
    try:
        for i in range(a.clients):
            s = Session(a.host, a.port)
            s.send_req(rrq(a.name, "octet"))
            socks.append(s)
        first = 0
        for s in socks:
            p = s.recv(5.0)
            if p is not None and p.op == OP_DATA and p.block == 1:
                first += 1
        c.expect(first == a.clients, "%d silent clients each got DATA 1"
                 % a.clients, "only %d did" % first)
        burst = Session(a.host, a.port)
        for i in range(a.burst):
            burst.send_req(rrq("no-such-file-%d" % i, "octet"))
        errors = 0
        for p, _ in burst.quiet(1.0):
            if p.op == OP_ERROR:
                errors += 1
        c.expect(errors > 0, "a burst of %d requests for missing files is "
                 "answered (%d ERROR seen)" % (a.burst, errors),
                 "no ERROR came back")
        burst.close()
    finally:
        for s in socks:
            s.close()


SCENARIOS = {
    "flood": sc_flood,
    "get": sc_get,
    "put": sc_put,
    "probe": sc_probe,
    "oackwait": sc_oackwait,
    "window": sc_window,
    "dupack": sc_dupack,
    "wrongtid": sc_wrongtid,
    "duprrq": sc_duprrq,
    "silent": sc_silent,
    "clienterr": sc_clienterr,
    "hostile": sc_hostile,
}


# ---------------------------------------------------------------- policy,
# abuse and limits scenarios (tests/integ/policy.sh, abuse.sh, diskfull.sh)

class SrcSession(Session):
    """A Session bound to a chosen source address (any 127.0.0.x works on
    Linux loopback).  With listen_tid the server's TID must be its listen
    port (single_port): replies from any other port are strays."""

    def __init__(self, host, port, src=None, listen_tid=False, timeout=2.0):
        Session.__init__(self, host, port, timeout)
        if src:
            self.sock.close()
            self.sock = socket.socket(self.family, socket.SOCK_DGRAM)
            self.sock.bind((src, 0))
            self.sock.settimeout(timeout)
        if listen_tid:
            self.tid = self.server

    def local_port(self):
        return self.sock.getsockname()[1]


def port_range_arg(text):
    lo, hi = text.split(":", 1)
    return int(lo), int(hi)


def first_reply(s, wait):
    """The first datagram to s within wait seconds as (Packet, addr)."""
    return s.recv_any(wait)


def sc_xget(a, c):
    """Download (like get) from a chosen source address; optionally the
    replies must come from the listen port (single_port) or from a TID
    port within --tid-range.  Prints tid=PORT."""
    s = SrcSession(a.host, a.port, a.src, a.single_port)
    try:
        r = get(s, b(a.name), a.mode, parse_opts(a.opt), deadline=a.deadline)
    except TftpError as e:
        refused(c, a, "RRQ %r from %s" % (a.name, a.src or "any"), e)
        return
    print("tid=%d got %d bytes, blksize %d, windowsize %d%s" % (
        s.tid[1], len(r.data), r.blksize, r.windowsize,
        ", " + str(r.oack) if r.oack else ""))
    if a.expect_error is not None:
        c.fail("RRQ %r should be refused with ERROR %s, %d bytes came"
               % (a.name, a.expect_error, len(r.data)))
        return
    if a.single_port:
        c.expect(not s.strays, "every reply came from the listen port %d"
                 % a.port, "also from %s" % sorted(set(
                     ad[1] for _, ad in s.strays)))
    if a.tid_range:
        lo, hi = a.tid_range
        c.expect(lo <= s.tid[1] <= hi, "TID port %d is in %d:%d"
                 % (s.tid[1], lo, hi))
    if a.out:
        with open(a.out, "wb") as f:
            f.write(r.data)
    if a.expect:
        want = read_file(a.expect)
        c.expect(r.data == want, "content equals %s" % a.expect,
                 "got %d bytes, want %d" % (len(r.data), len(want)))
    for kv in a.expect_oack or []:
        k, v = kv.split("=", 1)
        got = r.oack.optdict().get(k.lower()) if r.oack else None
        c.expect(got == v, "OACK has %s=%s" % (k, v), "got %r" % got)


def sc_xput(a, c):
    """Upload (like put) from a chosen source address, optionally through
    the listen port (single_port)."""
    content = read_file(a.file)
    s = SrcSession(a.host, a.port, a.src, a.single_port)
    try:
        o = put(s, b(a.name), content, "octet", parse_opts(a.opt),
                stop_after=a.stop_after, deadline=a.deadline)
    except TftpError as e:
        refused(c, a, "WRQ %r from %s" % (a.name, a.src or "any"), e)
        return
    if a.expect_error is not None:
        c.fail("WRQ %r should have ended with ERROR %s but did not"
               % (a.name, a.expect_error))
        return
    c.ok("upload of %r (%d bytes) from %s, TID %d%s%s" % (
        a.name, len(content), a.src or "any", s.tid[1],
        " (stopped after %d blocks)" % a.stop_after
        if a.stop_after is not None else "", ", " + str(o) if o else ""))
    if a.single_port:
        c.expect(not s.strays, "every reply came from the listen port %d"
                 % a.port, "also from %s" % sorted(set(
                     ad[1] for _, ad in s.strays)))


def sc_xprobe(a, c):
    """probe from a chosen source address: one request, the first reply
    (or NONE) on one line; the transfer is then ended."""
    s = SrcSession(a.host, a.port, a.src)
    op = OP_WRQ if a.op == "wrq" else OP_RRQ
    s.send_req(request(op, b(a.name), a.mode, parse_opts(a.opt)))
    p = s.recv(a.wait / 1000.0)
    if p is None:
        print("NONE")
        return
    print(str(p))
    if p.bad:
        c.fail("malformed reply: %s" % p.bad)
    if p.op in (OP_OACK, OP_DATA, OP_ACK):
        end_transfer(s)


def sc_tids(a, c):
    """count downloads of a small file, each from a fresh port: print the
    distinct TID ports seen; with --range each must be inside it."""
    want = read_file(a.expect)
    ports = {}
    for i in range(a.count):
        s = SrcSession(a.host, a.port, a.src)
        try:
            r = get(s, a.name)
        except (TftpError, Failure) as e:
            c.fail("download %d failed: %s" % (i + 1, e))
            s.close()
            continue
        if r.data != want:
            c.fail("download %d: %d bytes, want %d" % (i + 1, len(r.data),
                                                       len(want)))
        ports[s.tid[1]] = ports.get(s.tid[1], 0) + 1
        s.close()
    print("tid ports: %s" % " ".join("%d(x%d)" % kv
                                     for kv in sorted(ports.items())))
    c.expect(sum(ports.values()) == a.count, "%d downloads complete"
             % a.count, "only %d" % sum(ports.values()))
    if a.range:
        lo, hi = a.range
        out = [p for p in ports if not lo <= p <= hi]
        c.expect(not out, "every TID port is in %d:%d" % (lo, hi),
                 "outside: %s" % out)
    if a.distinct is not None:
        c.expect(len(ports) == a.distinct, "%d distinct TID ports (one per "
                 "worker)" % a.distinct, "saw %d" % len(ports))


def sc_burst(a, c):
    """count requests back to back from one socket (one address and
    port) for a missing file; count the answers.  Prints answered=N.
    With --again M: after --pause seconds, M more from the same socket."""
    s = SrcSession(a.host, a.port, a.src)
    for i in range(a.count):
        s.send_req(rrq("%s-%d" % (a.name, i)))
    got = s.quiet(a.wait / 1000.0)
    answered = len(got)
    kinds = {}
    for p, _ in got:
        kinds[str(p)] = kinds.get(str(p), 0) + 1
    print("answered=%d of %d: %s" % (answered, a.count, ", ".join(
        "%s x%d" % kv for kv in sorted(kinds.items())) or "nothing"))
    if a.expect is not None:
        c.expect(answered == a.expect, "exactly %d of %d requests answered"
                 % (a.expect, a.count), "%d were" % answered)
    if a.again:
        time.sleep(a.pause)
        for i in range(a.again):
            s.send_req(rrq("%s-again-%d" % (a.name, i)))
        later = len(s.quiet(a.wait / 1000.0))
        print("after %.2f s: answered=%d of %d" % (a.pause, later, a.again))
        if a.expect_again is not None:
            c.expect(later == a.expect_again, "after %.2f s exactly %d of "
                     "%d more requests answered" % (a.pause, a.expect_again,
                                                   a.again),
                     "%d were" % later)
    s.close()


def sc_hold(a, c):
    """count RRQs, each from a fresh port of --src, answered by nobody:
    print one line per request ("req N: REPLY tid=PORT"); then, while
    they are all still held, optional --then requests from other
    addresses ("then ADDR: REPLY tid=PORT"); then end every live
    transfer with a client ERROR."""
    socks = []
    try:
        for i in range(a.count):
            s = SrcSession(a.host, a.port, a.src)
            socks.append(s)
            s.send_req(rrq(a.name, "octet", parse_opts(a.opt)))
            got = first_reply(s, a.wait / 1000.0)
            if got is None:
                print("req %d: NONE" % (i + 1))
                continue
            p, addr = got
            s.tid = addr
            print("req %d: %s tid=%d" % (i + 1, p, addr[1]))
        for src in a.then or []:
            s = SrcSession(a.host, a.port, src)
            socks.append(s)
            s.send_req(rrq(a.name, "octet", parse_opts(a.opt)))
            got = first_reply(s, a.wait / 1000.0)
            if got is None:
                print("then %s: NONE" % src)
                continue
            p, addr = got
            s.tid = addr
            print("then %s: %s tid=%d" % (src, p, addr[1]))
        sys.stdout.flush()
        if a.hold > 0:
            time.sleep(a.hold)
    finally:
        for s in socks:
            if s.tid is not None:
                try:
                    end_transfer(s)
                except OSError:
                    pass
            s.close()


def sc_amp(a, c):
    """Amplification guard: an RRQ from a client that never answers (as
    a spoofed one would).  Every datagram that arrives within --listen
    seconds is counted: with options only the OACK (the same bytes each
    time), without options only DATA 1; at most retries+1 of them, and
    at most one final ERROR."""
    s = SrcSession(a.host, a.port, a.src)
    opts = parse_opts(a.opt)
    s.send_req(rrq(a.name, "octet", opts))
    got = s.quiet(a.listen)
    pkts = [p for p, _ in got]
    errs = [p for p in pkts if p.op == OP_ERROR]
    main = [p for p in pkts if p.op != OP_ERROR]
    total = sum(len(p.raw) for p in pkts)
    print("%d datagrams, %d bytes: %s" % (len(pkts), total, ", ".join(
        str(p) for p in pkts[:12])))
    want_op = OP_OACK if opts else OP_DATA
    if not c.expect(main and main[0].op == want_op, "the first reply is %s"
                    % ("the OACK" if opts else "DATA 1"),
                    "got %s" % (main[0] if main else "nothing")):
        return
    first = main[0]
    c.expect(all(p.raw == first.raw for p in main),
             "every non-ERROR datagram is the same %s (%d bytes)"
             % (OPNAMES[want_op], len(first.raw)),
             "got %s" % [str(p) for p in main if p.raw != first.raw][:5])
    c.expect(not [p for p in main if p.op == OP_DATA] or not opts,
             "no DATA before the client's first ACK",
             "%d DATA packets" % len([p for p in main if p.op == OP_DATA]))
    if not opts:
        c.expect(all(p.op == OP_DATA and p.block == 1 for p in main),
                 "only DATA 1 (no window opened)",
                 "blocks %s" % [p.block for p in main])
    c.expect(len(main) <= a.retries + 1, "%d sends <= retries+1 = %d"
             % (len(main), a.retries + 1), "%d sends" % len(main))
    c.expect(len(errs) <= 1, "at most one final ERROR (%d)" % len(errs),
             "%d ERRORs" % len(errs))
    bound = (a.retries + 1) * len(first.raw) + \
        sum(len(e.raw) for e in errs[:1])
    c.expect(total <= bound, "%d bytes sent <= (retries+1) x %d + the "
             "final ERROR = %d" % (total, len(first.raw), bound))
    c.expect(len(first.raw) <= a.max_packet, "the packet (%d bytes) is at "
             "most %d bytes" % (len(first.raw), a.max_packet))


def sc_tinyerr(a, c):
    """ERROR packets of 0-3 bytes, then a huge ERROR full of format
    directives and control bytes, to a live download.  The short ones
    are dropped (the transfer goes on), the huge one ends it."""
    want = read_file(a.expect)
    s = SrcSession(a.host, a.port)
    s.send_req(rrq(a.name, "octet", [("timeout", a.timeout)]))
    p = s.recv(5.0)
    if p is not None and p.op == OP_OACK:
        s.send(ack(0))
        p = s.recv(5.0)
    if not c.expect(p is not None and p.op == OP_DATA and p.block == 1,
                    "transfer started (DATA 1)", "got %s" % p):
        return
    got = bytearray(p.payload)
    n = 1
    for label, dgram in (("0-byte", b""), ("1-byte", b"\x00"),
                         ("2-byte ERROR opcode", b"\x00\x05"),
                         ("3-byte ERROR", b"\x00\x05\x00")):
        s.sock.sendto(dgram, s.tid)
        s.send(ack(n))
        q = s.recv(3.0)
        if not c.expect(q is not None and q.op == OP_DATA and
                        q.block == n + 1, "%s datagram to the transfer is "
                        "dropped: ACK %d brings DATA %d" % (label, n, n + 1),
                        "got %s" % q):
            return
        got += q.payload
        n += 1
    msg = (b"%n%s%x%p" * 7000)[:a.size]
    msg = b"\x1b[31m\r\n%n%s\x07" + msg[20:]
    big = struct.pack("!HH", OP_ERROR, 0) + msg + b"\0"
    s.sock.sendto(big, s.tid)
    print("sent a %d-byte ERROR with %%n%%s%%x%%p and control bytes"
          % len(big))
    extra = s.quiet(a.quiet / 1000.0)
    c.expect(not extra, "after the huge ERROR the server sends nothing "
             "(%d ms)" % a.quiet, "got %s" % [str(x) for x, _ in extra][:4])
    c.expect(bytes(got) == want[:len(got)], "the %d blocks received were "
             "intact" % n)


def sc_manyopts(a, c):
    """An RRQ whose unknown options would make an OACK that fits no
    packet: count options with namelen-byte names, the known ones after
    the first --before of them.  The OACK must carry only known options
    and be well formed."""
    opts = [("x%03d" % i + "y" * (a.namelen - 4), "1")
            for i in range(a.count)]
    known = [("blksize", "1024"), ("tsize", "0"), ("timeout", "3"),
             ("windowsize", "4")]
    opts = opts[:a.before] + known + opts[a.before:]
    req = rrq(a.name, "octet", opts)
    s = SrcSession(a.host, a.port)
    s.send_req(req)
    print("sent a %d-byte RRQ with %d options" % (len(req), len(opts)))
    p = s.recv(3.0)
    if p is None:
        c.ok("no answer (dropped)")
        return
    print(str(p)[:200])
    if p.op == OP_ERROR:
        c.expect(not p.bad and p.code in (0, 4, 8), "ERROR %d %s"
                 % (p.code, p.msg), "bad ERROR %s" % p)
        return
    if p.op == OP_DATA and p.block == 1 and not p.bad:
        c.ok("DATA 1: every option ignored")
        end_transfer(s)
        return
    if not c.expect(p.op == OP_OACK and not p.bad, "a well-formed OACK",
                    "got %s" % p):
        return
    names = [k.lower() for k, _ in p.opts]
    c.expect(set(names) <= {"blksize", "tsize", "timeout", "windowsize",
                            "utimeout", "rollover"},
             "the OACK (%d bytes) carries only known options: %s"
             % (len(p.raw), " ".join(names)),
             "unknown: %s" % [x for x in names if x.startswith("x")][:3])
    c.expect(len(p.raw) <= 512, "the OACK is at most 512 bytes",
             "%d bytes" % len(p.raw))
    end_transfer(s)


def sc_samesrc(a, c):
    """Concurrent requests from one address:port, all in one go: RRQ
    NAME x copies, a WRQ and an RRQ for another name.  Exactly one
    transfer starts (one TID, one first reply); it completes intact."""
    want = read_file(a.expect)
    s = SrcSession(a.host, a.port)
    req = rrq(a.name, "octet", [("timeout", a.timeout)])
    s.send_req(req)
    for _ in range(a.copies - 1):
        s.send_req(req)
    s.send_req(wrq("samesrc-upload.bin"))
    s.send_req(rrq(a.other, "octet"))
    got = s.quiet(a.quiet / 1000.0)
    tids = set(ad[:2] for _, ad in got)
    print("replies: %s" % ", ".join("%s from %d" % (p, ad[1])
                                    for p, ad in got[:10]))
    if not c.expect(len(got) == 1 and got[0][0].op == OP_OACK,
                    "%d requests in one go: one OACK, nothing else "
                    "(%d ms)" % (a.copies + 2, a.quiet),
                    "%d replies from %d TIDs" % (len(got), len(tids))):
        if not got:
            return
    s.tid = got[0][1]
    data_ = download_after_ack0(s, len(want) // 512 + 2)
    c.expect(data_ == want, "the one transfer completes intact",
             "got %d bytes" % len(data_))
    extra = s.quiet(a.quiet / 1000.0)
    c.expect(not extra, "no second transfer afterwards",
             "got %s" % [str(x) for x, _ in extra][:4])


def sc_rerequest(a, c):
    """A client that lost the server's first answer asks again: an RRQ
    (or with --wrq a WRQ) with timeout=5, the OACK ignored as if lost, the
    same request again from the same port after --gap ms.  The OACK must
    come again from the same TID within --within ms, long before the
    server's own 5 s timer; a burst of --burst more copies right after
    gets nothing more.  Then the transfer completes intact."""
    s = SrcSession(a.host, a.port)
    opts = [("timeout", "5")]
    req = (wrq if a.wrq else rrq)(a.name, "octet", opts)
    s.send_req(req)
    first = s.recv(3.0)
    if not c.expect(first is not None and first.op == OP_OACK,
                    "the first answer is an OACK", "got %s" % first):
        return
    tid = s.tid
    time.sleep(a.gap / 1000.0)
    t0 = time.monotonic()
    s.send_req(req)
    again = s.recv(a.within / 1000.0)
    ms = (time.monotonic() - t0) * 1000
    if not c.expect(again is not None and again.op == OP_OACK and
                    s.tid == tid,
                    "the repeated request got the OACK again from the same "
                    "TID (%d ms, the server's timer is 5 s)" % ms,
                    "got %s after %d ms" % (again, ms)):
        return
    for _ in range(a.burst):
        s.send_req(req)
    extra = s.quiet(0.3)
    c.expect(not extra, "a burst of %d more copies: no more answers"
             % a.burst, "got %s" % [str(x) for x, _ in extra][:4])
    want = read_file(a.expect)
    if a.wrq:
        n = 0
        for off in range(0, len(want) + 1, 512):
            n += 1
            s.send(data(n, want[off:off + 512]))
            p = s.recv(3.0)
            if p is None or p.op != OP_ACK or p.block != n:
                c.fail("expected ACK %d, got %s" % (n, p))
                return
        c.expect(True, "the upload was acknowledged to the end", "")
        return
    got = download_after_ack0(s, len(want) // 512)
    c.expect(got == want, "the transfer completes intact",
             "got %d bytes of %d" % (len(got), len(want)))


def sc_spoof(a, c):
    """A flood as if from spoofed sources: an RRQ from each of --ports
    ports on each of --addrs addresses (127.0.0.A..B), never answered.
    Prints sent=, answered=, data=, errors=, silent=."""
    lo, hi = port_range_arg(a.addrs)
    socks = []
    sent = 0
    try:
        for i in range(lo, hi + 1):
            for _ in range(a.ports):
                s = SrcSession(a.host, a.port, "127.0.0.%d" % i)
                socks.append(s)
                s.send_req(rrq(a.name, "octet"))
                sent += 1
        deadline = time.monotonic() + a.wait / 1000.0
        data_, errors, silent = 0, 0, 0
        for s in socks:
            got = s.recv_any(max(0.001, deadline - time.monotonic()))
            if got is None:
                silent += 1
            elif got[0].op == OP_DATA:
                data_ += 1
            elif got[0].op == OP_ERROR:
                errors += 1
        print("sent=%d answered=%d data=%d errors=%d silent=%d"
              % (sent, data_ + errors, data_, errors, silent))
    finally:
        for s in socks:
            s.close()


MORE_SCENARIOS = {
    "xget": sc_xget,
    "xput": sc_xput,
    "xprobe": sc_xprobe,
    "tids": sc_tids,
    "burst": sc_burst,
    "hold": sc_hold,
    "amp": sc_amp,
    "tinyerr": sc_tinyerr,
    "manyopts": sc_manyopts,
    "samesrc": sc_samesrc,
    "rerequest": sc_rerequest,
    "spoof": sc_spoof,
}
SCENARIOS.update(MORE_SCENARIOS)


# ---------------------------------------------------------------- clients
# the shell scripts once carried inline (lib.sh slow_get, ctl.sh stall,
# audit.sh, fdlimit.sh, the port holders of policy.sh and failsafe.sh)

def sc_slowget(a, c):
    """A paced download from 127.0.0.1, so that a transfer is reliably
    still running seconds later: RRQ NAME (octet; options default to
    blksize=512), then wait --delay ms before each ACK; the file goes to
    OUT.  Exit 0 when complete, 1 on an ERROR from the server (printed
    "ERROR code message"), 2 when the server goes silent (5 resends of
    the last ACK, 1 s apart) or after 60 s."""
    s = SrcSession(a.host, a.port, "127.0.0.1", timeout=1.0)
    s.send_req(rrq(a.name, "octet", parse_opts(a.opt or ["blksize=512"])))
    blksize, want, chunks, last, tries = 512, 1, [], None, 0
    end = time.monotonic() + 60
    while time.monotonic() < end:
        got = s.recv_any(1.0)
        if got is None:
            tries += 1
            if tries > 5 or last is None:
                print("timeout waiting for block %d" % want)
                raise SystemExit(2)
            s.send(last)
            continue
        p, addr = got
        if s.tid is None:
            s.tid = addr
        if addr != s.tid:
            continue
        tries = 0
        if p.op == OP_ERROR:
            print("ERROR %s %s" % (p.code, p.msg))
            raise SystemExit(1)
        if p.op == OP_OACK and want == 1 and not chunks:
            blksize = int(p.optdict().get("blksize", "512"))
            last = ack(0)
            s.send(last)
            continue
        if p.op != OP_DATA:
            continue
        if p.block != wire_block(want, 0):
            if last is not None:
                s.send(last)
            continue
        chunks.append(p.payload)
        time.sleep(a.delay / 1000.0)
        last = ack(p.block)
        s.send(last)
        want += 1
        if len(p.payload) < blksize:
            with open(a.out, "wb") as f:
                f.write(b"".join(chunks))
            return
    print("not finished after 60 s")
    raise SystemExit(2)


def sc_stall(a, c):
    """A download that stalls: RRQ NAME from 127.0.0.1 with blksize
    1024, windowsize 2 and timeout 30; ACK the OACK and the first window,
    take the second window's first block, then go silent until the file
    --stop exists (20 s at most) and end with ERROR 0.  Prints "port N"
    (its own port) and "state stalled after block N" on the way."""
    s = SrcSession(a.host, a.port, "127.0.0.1", timeout=5.0)
    print("port %d" % s.local_port(), flush=True)
    s.send_req(rrq(a.name, "octet", [("blksize", 1024), ("windowsize", 2),
                                     ("timeout", 30)]))
    p = s.recv(5.0)
    if p is None:
        raise Failure("no answer to the RRQ")
    print("got opcode %s" % p.op, flush=True)
    s.send(ack(0))
    for _ in (1, 2):
        if s.recv(5.0) is None:
            raise Failure("the first window did not come")
    s.send(ack(2))
    p = s.recv(5.0)
    if p is None or p.op != OP_DATA:
        raise Failure("ACK 2 brought %s" % p)
    print("state stalled after block %d" % p.block, flush=True)
    end = time.monotonic() + 20
    while time.monotonic() < end and not os.path.exists(a.stop):
        time.sleep(0.05)
    s.send(error(0, "done"))


# Names the audit log must escape to stay JSON: a quote and a backslash,
# control bytes, invalid UTF-8, valid UTF-8, and 250 control bytes.
ODD_NAMES = (b'q"uo\\te', b"ctl\x01\x1b\x7f", b"bad\xff\xfe\xc3",
             b"ok\xc3\xa9", b"\x01" * 250)


def sc_oddnames(a, c):
    """RRQs for names the audit log must escape (ODD_NAMES), none of
    which exists: each is refused with an ERROR."""
    s = Session(a.host, a.port)
    for name in ODD_NAMES:
        s.send_req(rrq(name))
        got = s.recv_any(2.0)
        p = got[0] if got else None
        c.expect(p is not None and p.op == OP_ERROR,
                 "RRQ %r refused with an ERROR" % name[:20], "got %s" % p)


def sc_percap(a, c):
    """With max_transfers_per_client = 1: a download of NAME held at
    DATA 1, then a request for OTHER from the same address is refused
    with ERROR 0; the held one then ends with a client ERROR whose
    message has quotes and an invalid byte."""
    held = Session(a.host, a.port, timeout=5.0)
    held.send_req(rrq(a.name))
    p = held.recv(5.0)
    if not c.expect(p is not None and p.op == OP_DATA and p.block == 1,
                    "%s: DATA 1, not acknowledged" % a.name, "got %s" % p):
        return
    other = Session(a.host, a.port, timeout=5.0)
    other.send_req(rrq(a.other))
    got = other.recv_any(5.0)
    q = got[0] if got else None
    c.expect(q is not None and q.op == OP_ERROR and q.code == 0,
             "meanwhile %s from the same address: ERROR 0" % a.other,
             "got %s" % q)
    held.send(error(0, b'changed "my" mind\xff'))


def tally(seen):
    return ", ".join("%s x%d" % kv for kv in sorted(seen.items()))


def say(p):
    """What a load scenario counts a reply as."""
    if p.op == OP_ERROR:
        return "ERROR %s %s" % (p.code, p.msg)
    return {OP_DATA: "DATA", OP_ACK: "ACK", OP_OACK: "OACK"}.get(
        p.op, "op %s" % p.op)


def sc_manyget(a, c):
    """Download FMT % i for i < COUNT (one block each), CONC at a time
    from one process; a request unanswered for a second is sent again,
    up to 4 times (a new port may meet the server's transfer of its last
    user).  Prints the tally of outcomes ("ok x400")."""
    seen, live, todo = {}, {}, list(range(a.count))
    server = (a.host, a.port)
    end = time.monotonic() + 90
    while (todo or live) and time.monotonic() < end:
        while todo and len(live) < a.conc:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("127.0.0.1", 0))
            r = rrq(a.fmt % todo.pop(0))
            s.sendto(r, server)
            live[s] = [r, time.monotonic() + 1, 0]
        r, _, _ = select.select(list(live), [], [], 0.2)
        for s in r:
            raw, addr = s.recvfrom(70000)
            p = parse(raw)
            what = say(p)
            if p.op == OP_DATA:
                s.sendto(ack(1), addr)
                what = "ok" if len(p.payload) < 512 else "DATA too long"
            seen[what] = seen.get(what, 0) + 1
            del live[s]
            s.close()
        for s, v in list(live.items()):
            if v[1] > time.monotonic():
                continue
            if v[2] < 4:
                s.sendto(v[0], server)
                v[1], v[2] = time.monotonic() + 1, v[2] + 1
                continue
            seen["NONE"] = seen.get("NONE", 0) + 1
            del live[s]
            s.close()
    print(tally(seen))


def sc_manyhold(a, c):
    """COUNT requests (OP, for FMT % i), each from its own socket,
    answered by nobody until the file RELEASE exists (60 s at most);
    then those that started are ended with ERROR.  Prints the tally of
    the first answers ("ACK x40") as soon as all came."""
    seen, held = {}, []
    op = OP_WRQ if a.op == "wrq" else OP_RRQ
    for i in range(a.count):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.settimeout(5.0)
        s.sendto(request(op, a.fmt % i), (a.host, a.port))
        try:
            raw, addr = s.recvfrom(70000)
            what = say(parse(raw))
        except socket.timeout:
            what = "NONE"
        seen[what] = seen.get(what, 0) + 1
        if what in ("DATA", "ACK", "OACK"):
            held.append((s, addr))
        else:
            s.close()
    print(tally(seen), flush=True)
    end = time.monotonic() + 60
    while not os.path.exists(a.release) and time.monotonic() < end:
        time.sleep(0.05)
    for s, addr in held:
        s.sendto(error(0, "done"), addr)
        s.close()


def sc_reqflood(a, c):
    """RRQs for FMT % i at about 1000 a second for SECONDS seconds, from
    8 sockets.  Prints "sent N: " and the tally of the answers."""
    socks = []
    for _ in range(8):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.setblocking(False)
        socks.append(s)
    seen, n, t0 = {}, 0, time.monotonic()
    while time.monotonic() - t0 < a.seconds:
        socks[n % 8].sendto(rrq(a.fmt % n), (a.host, a.port))
        n += 1
        time.sleep(0.001)
        for s in socks:
            try:
                while True:
                    what = say(parse(s.recv(70000)))
                    seen[what] = seen.get(what, 0) + 1
            except BlockingIOError:
                pass
    print("sent %d: %s" % (n, tally(seen)))


def sc_holdports(a, c):
    """Not a TFTP client: hold --count UDP ports from PORT on (0: any
    free one) at HOST, so that the server cannot bind them; print "held"
    and the ports, then keep them --seconds."""
    held = []
    for i in range(a.count):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((a.host, a.port + i if a.port else 0))
        held.append(s)
    print("held %s" % " ".join(str(s.getsockname()[1]) for s in held),
          flush=True)
    time.sleep(a.seconds)


SHELL_SCENARIOS = {
    "holdports": sc_holdports,
    "slowget": sc_slowget,
    "stall": sc_stall,
    "oddnames": sc_oddnames,
    "percap": sc_percap,
    "manyget": sc_manyget,
    "manyhold": sc_manyhold,
    "reqflood": sc_reqflood,
}
SCENARIOS.update(SHELL_SCENARIOS)
# Scenarios whose output a script reads whole: no header line.
BARE_SCENARIOS = ("probe", "slowget", "manyget", "manyhold", "reqflood",
                  "holdports")


def add_shell_parsers(new):
    """The CLI of SHELL_SCENARIOS; new(name, doc) adds HOST and PORT."""
    p = new("slowget", "a paced download (lib.sh slow_get)")
    p.add_argument("name")
    p.add_argument("out")
    p.add_argument("delay", type=int, help="ms before each ACK")
    p.add_argument("opt", nargs="*", help="option name=value")

    p = new("stall", "a download that stalls after 3 blocks")
    p.add_argument("name")
    p.add_argument("--stop", required=True, help="file that ends it")

    new("oddnames", "names the audit log must escape, each refused")

    p = new("percap", "a held download; a second request is refused")
    p.add_argument("name")
    p.add_argument("other")

    p = new("manyget", "many one-block downloads, some at a time")
    p.add_argument("fmt", help="name with %%d")
    p.add_argument("count", type=int)
    p.add_argument("conc", type=int)

    p = new("manyhold", "many requests held open until a file exists")
    p.add_argument("op", choices=("rrq", "wrq"))
    p.add_argument("fmt", help="name with %%d")
    p.add_argument("count", type=int)
    p.add_argument("release", help="file that ends them")

    p = new("holdports", "hold UDP ports the server wants")
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--seconds", type=float, required=True)

    p = new("reqflood", "requests at about 1000 a second")
    p.add_argument("fmt", help="name with %%d")
    p.add_argument("seconds", type=float)


def add_more_parsers(sub):
    """The CLI of MORE_SCENARIOS."""
    def new(name, doc):
        p = sub.add_parser(name, help=doc)
        p.add_argument("host")
        p.add_argument("port", type=int)
        return p

    p = new("xget", "download from a chosen source address")
    p.add_argument("name")
    p.add_argument("--src", help="source address to bind")
    p.add_argument("--single-port", action="store_true",
                   help="replies must come from the listen port")
    p.add_argument("--tid-range", type=port_range_arg, help="LO:HI")
    p.add_argument("--mode", default="octet")
    p.add_argument("--opt", action="append", help="option name=value")
    p.add_argument("--out")
    p.add_argument("--expect", help="file the content must equal")
    p.add_argument("--expect-oack", action="append", help="name=value")
    p.add_argument("--expect-error", type=int_list)
    p.add_argument("--deadline", type=float, default=60.0)

    p = new("xput", "upload from a chosen source address")
    p.add_argument("name")
    p.add_argument("file")
    p.add_argument("--src")
    p.add_argument("--single-port", action="store_true")
    p.add_argument("--opt", action="append")
    p.add_argument("--stop-after", type=int)
    p.add_argument("--expect-error", type=int_list)
    p.add_argument("--deadline", type=float, default=60.0)

    p = new("xprobe", "probe from a chosen source address")
    p.add_argument("op", choices=("rrq", "wrq"))
    p.add_argument("name")
    p.add_argument("mode")
    p.add_argument("opt", nargs="*", help="name=value")
    p.add_argument("--src")
    p.add_argument("--wait", type=int, default=2000, help="ms")

    p = new("tids", "TID ports of many downloads")
    p.add_argument("name")
    p.add_argument("--expect", required=True)
    p.add_argument("--count", type=int, default=40)
    p.add_argument("--src")
    p.add_argument("--range", type=port_range_arg, help="LO:HI")
    p.add_argument("--distinct", type=int,
                   help="how many distinct TID ports must be seen")

    p = new("burst", "back-to-back requests from one address:port")
    p.add_argument("name", help="a missing file (a prefix)")
    p.add_argument("--src")
    p.add_argument("--count", type=int, default=10)
    p.add_argument("--wait", type=int, default=1000, help="ms")
    p.add_argument("--expect", type=int, help="answers wanted")
    p.add_argument("--pause", type=float, default=0.0,
                   help="s before the --again requests")
    p.add_argument("--again", type=int, default=0,
                   help="more requests from the same socket after --pause")
    p.add_argument("--expect-again", type=int)

    p = new("hold", "hold silent downloads open")
    p.add_argument("name")
    p.add_argument("--src")
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--opt", action="append")
    p.add_argument("--then", action="append",
                   help="one more request from this address")
    p.add_argument("--wait", type=int, default=2000, help="ms per reply")
    p.add_argument("--hold", type=float, default=0.0, help="s")

    p = new("amp", "amplification guard")
    p.add_argument("name")
    p.add_argument("--src")
    p.add_argument("--opt", action="append")
    p.add_argument("--retries", type=int, required=True)
    p.add_argument("--listen", type=float, default=4.0, help="s")
    p.add_argument("--max-packet", type=int, default=65468)

    p = new("tinyerr", "tiny and huge ERRORs to a live transfer")
    p.add_argument("name")
    p.add_argument("--expect", required=True)
    p.add_argument("--size", type=int, default=61440)
    p.add_argument("--timeout", type=int, default=5, help="option, s")
    p.add_argument("--quiet", type=int, default=1500, help="ms")

    p = new("manyopts", "an OACK that would not fit")
    p.add_argument("name")
    p.add_argument("--count", type=int, default=200)
    p.add_argument("--namelen", type=int, default=250)
    p.add_argument("--before", type=int, default=20,
                   help="unknown options before the known ones")

    p = new("samesrc", "concurrent requests from one address:port")
    p.add_argument("name")
    p.add_argument("other", help="another existing file")
    p.add_argument("--expect", required=True)
    p.add_argument("--copies", type=int, default=5)
    p.add_argument("--timeout", type=int, default=5, help="option, s")
    p.add_argument("--quiet", type=int, default=600, help="ms")

    p = new("rerequest", "a repeated request gets the lost answer again")
    p.add_argument("name")
    p.add_argument("--expect", required=True,
                   help="the file's content (the upload's, with --wrq)")
    p.add_argument("--wrq", action="store_true")
    p.add_argument("--gap", type=int, default=400, help="ms")
    p.add_argument("--within", type=int, default=2500, help="ms")
    p.add_argument("--burst", type=int, default=3)

    p = new("spoof", "a flood from many addresses and ports")
    p.add_argument("name")
    p.add_argument("--addrs", default="2:17", help="A:B for 127.0.0.A-B")
    p.add_argument("--ports", type=int, default=16)
    p.add_argument("--wait", type=int, default=2000, help="ms")


def int_list(text):
    return tuple(int(x) for x in text.split(","))


def build_parser():
    ap = argparse.ArgumentParser(
        prog="rawtftp.py",
        description="Raw-packet TFTP test client (scenarios: %s)"
        % ", ".join(sorted(SCENARIOS)))
    sub = ap.add_subparsers(dest="scenario", required=True)

    def new(name, doc):
        p = sub.add_parser(name, help=doc)
        p.add_argument("host")
        p.add_argument("port", type=int)
        return p

    p = new("get", "download and check")
    p.add_argument("name")
    p.add_argument("--mode", default="octet")
    p.add_argument("--opt", action="append", help="option name=value")
    p.add_argument("--out")
    p.add_argument("--expect", help="file the content must equal")
    p.add_argument("--netascii-of", action="store_true",
                   help="compare with the netascii wire form of --expect")
    p.add_argument("--expect-oack", action="append", help="name=value")
    p.add_argument("--expect-error", type=int_list,
                   help="codes, comma-separated: the RRQ must be refused")
    p.add_argument("--wrap", type=int, default=0,
                   help="block number after 65535 without rollover option")
    p.add_argument("--check-wrap", type=int)
    p.add_argument("--deadline", type=float, default=60.0)

    p = new("put", "upload")
    p.add_argument("name")
    p.add_argument("file")
    p.add_argument("--mode", default="octet")
    p.add_argument("--opt", action="append")
    p.add_argument("--encode-netascii", action="store_true")
    p.add_argument("--stop-after", type=int)
    p.add_argument("--error-after", type=int)
    p.add_argument("--expect-error", type=int_list)
    p.add_argument("--deadline", type=float, default=60.0)

    p = new("probe", "one request, print the first reply")
    p.add_argument("op", choices=("rrq", "wrq"))
    p.add_argument("name")
    p.add_argument("mode")
    p.add_argument("opt", nargs="*", help="name=value")
    p.add_argument("--wait", type=int, default=2000, help="ms")
    p.add_argument("--keep", action="store_true",
                   help="do not end the transfer with an ERROR")

    p = new("oackwait", "nothing after OACK until ACK 0")
    p.add_argument("name")
    p.add_argument("--expect", required=True)
    p.add_argument("--opt", action="append")
    p.add_argument("--quiet", type=int, default=600, help="ms")

    p = new("window", "RFC 7440 window behaviour")
    p.add_argument("name")
    p.add_argument("--expect", required=True)
    p.add_argument("--windowsize", type=int, default=4)
    p.add_argument("--timeout", type=int, default=5, help="option, s")
    p.add_argument("--quiet", type=int, default=500, help="ms")

    p = new("dupack", "no resend on duplicate ACK")
    p.add_argument("name")
    p.add_argument("--expect", required=True)
    p.add_argument("--timeout", type=int, default=5, help="option, s")
    p.add_argument("--quiet", type=int, default=500, help="ms")

    p = new("wrongtid", "stranger gets ERROR 5")
    p.add_argument("name")
    p.add_argument("--expect", required=True)
    p.add_argument("--timeout", type=int, default=5, help="option, s")

    p = new("duprrq", "repeated RRQ is ignored")
    p.add_argument("name")
    p.add_argument("--expect", required=True)
    p.add_argument("--timeout", type=int, default=5, help="option, s")
    p.add_argument("--quiet", type=int, default=500, help="ms")

    p = new("silent", "client never ACKs")
    p.add_argument("name")
    p.add_argument("--retries", type=int, required=True)
    p.add_argument("--silence", type=float, default=3.0,
                   help="s of silence that counts as stopped")
    p.add_argument("--limit", type=float, default=15.0, help="s")
    p.add_argument("--opt", action="append", help="option name=value")
    p.add_argument("--no-ack0", action="store_true",
                   help="silent: never answer the OACK")
    p.add_argument("--first-min", type=float,
                   help="s: the first resend may not come earlier")
    p.add_argument("--first-max", type=float,
                   help="s: the first resend may not come later")

    p = new("clienterr", "client ERROR after OACK")
    p.add_argument("name")
    p.add_argument("--opt", action="append")
    p.add_argument("--size", type=int)
    p.add_argument("--quiet", type=int, default=1500, help="ms")

    p = new("flood", "many silent clients and a request burst")
    p.add_argument("name")
    p.add_argument("--clients", type=int, default=100)
    p.add_argument("--burst", type=int, default=1000)

    p = new("hostile", "malformed requests")
    p.add_argument("name", help="an existing file")
    p.add_argument("--expect", help="its content")
    p.add_argument("--wait", type=int, default=300, help="ms per case")
    add_more_parsers(sub)
    add_shell_parsers(new)
    return ap


def main(argv):
    a = build_parser().parse_args(argv)
    c = Checker()
    if a.scenario not in BARE_SCENARIOS:
        print("rawtftp %s %s:%d" % (a.scenario, a.host, a.port))
    start = time.monotonic()
    try:
        SCENARIOS[a.scenario](a, c)
    except Failure as e:
        c.fail(str(e))
    except TftpError as e:
        c.fail("unexpected %s" % e)
    except OSError as e:
        c.fail("socket error: %s" % e)
    if time.monotonic() - start > MAX_SCENARIO_SECONDS:
        c.fail("scenario took %.0f s" % (time.monotonic() - start))
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
