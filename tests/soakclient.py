#!/usr/bin/env python3
"""Many concurrent TFTP transfers from one process, for the soak test.

    python3 soakclient.py HOST PORT --root DIR --get NAME [--get NAME]...
        --count N [--wrq-share PCT] [--upload-size BYTES]
        [--blksizes 512,1468,8192] [--windows 1,16] [--hold DIR]
        [--manifest FILE] [--expect-busy] [--deadline S]

Transfer i is an RRQ or a WRQ (every transfer whose index falls in the
--wrq-share percent), with a blksize and a windowsize taken in turn from
--blksizes and --windows (so every combination occurs); 512 with window 1
sends no option at all, the others ask for blksize, windowsize and tsize.
Downloads fetch the --get files in turn and are checked against the
sha256 of the file under --root; uploads send --upload-size bytes (plus
up to 1 KiB more, so the last block varies) as PREFIXNNNNN.bin, and the
ones that completed are listed as "sha256  name" lines in --manifest, for
sha256sum -c on the server's root.

One UDP socket per transfer, all driven by one selectors loop; each
transfer has its own retransmit timer (--timeout-ms, doubling, at most
--retries times), follows the server's TID, acknowledges a window after
its last block or a gap (RFC 7440) and answers a repeated DATA once per
burst.  With --hold DIR the client holds every transfer at its first
answer until all requests are answered (so all are in flight at once),
writes DIR/ready ("admitted=N refused=M"), and goes on when DIR/go
exists (or after --hold-max seconds).  --expect-busy counts an
"ERROR 0 server busy" answer as a refusal, not a failure.

Prints key=value results (ok, failed, refused, latencies, elapsed) and
one "FAIL: ..." line per failed transfer (the first 20); exits 0 when no
transfer failed, 1 otherwise, 77 when RLIMIT_NOFILE cannot fit the
sockets.  Every loop is bounded by --deadline.  Standard library only.
"""

import argparse
import hashlib
import heapq
import os
import resource
import selectors
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tftpwire import (  # noqa: E402
    OP_ACK, OP_DATA, OP_ERROR, OP_OACK, OP_RRQ, OP_WRQ, Packet, ack, data,
    nearest_block, request)

RECV_BATCH = 64         # datagrams read per readable socket per wakeup
DALLY = 2.0             # seconds a finished download re-ACKs a repeat

# Transfer states.
REQ, HELD, RUN, DALLYING, DONE, FAILED, REFUSED = range(7)


class Xfer:
    __slots__ = ("idx", "op", "name", "blksize", "window", "opts", "sock",
                 "server", "tid", "state", "timer_seq", "rto", "tries",
                 "t_req", "t_first", "t_end", "first", "why", "size",
                 "sha", "buf", "expect", "since_ack", "reack", "data",
                 "nblocks", "acked", "last_sent", "retrans")

    def __init__(self, idx, op, name, blksize, window):
        self.idx = idx
        self.op = op
        self.name = name
        self.blksize = blksize
        self.window = window
        self.opts = []
        self.sock = None
        self.server = None
        self.tid = None
        self.state = REQ
        self.timer_seq = 0
        self.rto = 0.0
        self.tries = 0
        self.t_req = self.t_first = self.t_end = None
        self.first = None       # the held first answer
        self.why = ""
        self.size = 0
        self.sha = None
        self.buf = None
        self.expect = 1         # RRQ: next absolute block wanted
        self.since_ack = 0
        self.reack = False
        self.data = None        # WRQ: the bytes to send
        self.nblocks = 0
        self.acked = 0          # WRQ: highest block acknowledged
        self.last_sent = 0
        self.retrans = 0


class Soak:
    def __init__(self, a):
        self.a = a
        self.sel = selectors.DefaultSelector()
        self.timers = []        # heap of (due, seq, xfer)
        self.seq = 0
        self.xfers = []
        self.live = 0           # transfers not yet DONE/FAILED/REFUSED
        self.pending_req = 0    # transfers still waiting for an answer
        self.late_errors = 0    # ERRORs to a finished download's re-ACK
        self.busy_latency = []
        self.first_latency = []
        self.sent = 0
        self.received = 0

    # ------------------------------------------------------------ setup

    def build(self):
        a = self.a
        info = socket.getaddrinfo(a.host, a.port, 0, socket.SOCK_DGRAM)[0]
        family, server = info[0], info[4]
        files = []
        for name in a.get:
            with open(os.path.join(a.root, name), "rb") as f:
                body = f.read()
            files.append((name, len(body), hashlib.sha256(body).digest()))
        pool = os.urandom(a.upload_size + 1024 + 65536)
        nwrq = a.count * a.wrq_share // 100
        combos = [(b, w) for b in a.blksizes for w in a.windows]
        for i in range(a.count):
            blk, win = combos[i % len(combos)]
            # Spread the WRQs evenly over the indices.
            is_wrq = (i * nwrq) // a.count != ((i + 1) * nwrq) // a.count
            if is_wrq:
                name = "%s%05d.bin" % (a.upload_prefix, i)
                x = Xfer(i, OP_WRQ, name, blk, win)
                size = a.upload_size + (i * 131) % 1024
                off = (i * 4099) % 65536
                x.data = pool[off:off + size]
                x.size = size
                x.nblocks = size // blk + 1
            else:
                name, size, sha = files[i % len(files)]
                x = Xfer(i, OP_RRQ, name, blk, win)
                x.size = size
                x.sha = sha
                x.buf = bytearray()
            if blk != 512 or win != 1:
                x.opts = [("blksize", blk), ("windowsize", win),
                          ("tsize", x.size if is_wrq else 0)]
            s = socket.socket(family, socket.SOCK_DGRAM)
            s.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", 0))
            s.setblocking(False)
            x.sock = s
            x.server = server
            self.sel.register(s, selectors.EVENT_READ, x)
            self.xfers.append(x)
        self.live = len(self.xfers)
        self.pending_req = len(self.xfers)

    # ------------------------------------------------------------ timers

    def arm(self, x, now, fresh=True):
        if fresh:
            x.rto = self.a.timeout_ms / 1000.0
            x.tries = 0
        self.seq += 1
        x.timer_seq = self.seq
        heapq.heappush(self.timers, (now + x.rto, self.seq, x))

    def disarm(self, x):
        x.timer_seq = 0

    def run_timers(self, now, holding):
        n = 0
        while self.timers and self.timers[0][0] <= now and n < 10000:
            _, seq, x = heapq.heappop(self.timers)
            n += 1
            if seq != x.timer_seq:
                continue
            if x.state == DALLYING:
                self.finish(x, DONE, now)
                continue
            if x.state == HELD:
                continue
            x.tries += 1
            if x.tries > self.a.retries:
                self.finish(x, FAILED, now, "timed out in state %s after "
                            "%d tries (expect %d, acked %d)" % (
                                x.state, x.tries - 1, x.expect, x.acked))
                continue
            x.rto = min(x.rto * 2, 4.0)
            x.retrans += 1
            if x.state == REQ:
                self.send(x, request(x.op, x.name, "octet", x.opts),
                          x.server)
            elif x.op == OP_RRQ:
                self.send_ack(x, x.expect - 1)
            else:
                self.send_blocks(x, x.acked + 1, x.last_sent)
            self.arm(x, now, fresh=False)

    # ------------------------------------------------------------ i/o

    def send(self, x, pkt, addr):
        try:
            x.sock.sendto(pkt, addr)
            self.sent += 1
        except (BlockingIOError, InterruptedError):
            pass        # the timer resends
        except OSError as e:
            self.finish(x, FAILED, time.monotonic(), "sendto: %s" % e)

    def send_ack(self, x, block):
        self.send(x, ack(block), x.tid)

    def send_blocks(self, x, first, last):
        for n in range(first, min(last, x.nblocks) + 1):
            off = (n - 1) * x.blksize
            self.send(x, data(n, x.data[off:off + x.blksize]), x.tid)
        x.last_sent = max(x.last_sent, min(last, x.nblocks))

    def finish(self, x, state, now, why=""):
        """End a transfer: DONE, FAILED or REFUSED; close its socket."""
        if x.state in (DONE, FAILED, REFUSED):
            return
        if x.state == REQ:
            self.pending_req -= 1
        x.state = state
        x.why = why
        x.t_end = now
        x.buf = None
        x.first = None
        self.disarm(x)
        self.live -= 1
        try:
            self.sel.unregister(x.sock)
        except (KeyError, ValueError):
            pass
        x.sock.close()

    # ------------------------------------------------------------ protocol

    def readable(self, x, now, holding):
        for _ in range(RECV_BATCH):
            if x.state in (DONE, FAILED, REFUSED):
                return
            try:
                pkt, src = x.sock.recvfrom(65536)
            except (BlockingIOError, InterruptedError):
                break
            except OSError as e:
                self.finish(x, FAILED, now, "recvfrom: %s" % e)
                return
            self.received += 1
            if src[0] != x.server[0]:
                continue
            if x.tid is None:
                x.tid = src
                x.t_first = now
                self.first_latency.append(now - x.t_req)
            elif src != x.tid:
                continue        # a stranger: not ours
            self.packet(x, pkt, now, holding)
        if x.reack and x.state in (RUN, DALLYING):
            self.send_ack(x, x.expect - 1)
        x.reack = False

    def packet(self, x, pkt, now, holding):
        if len(pkt) < 4:
            self.finish(x, FAILED, now, "short packet %r" % pkt)
            return
        p = Packet(pkt)
        if p.op == OP_ERROR:
            arg, msg = p.code, p.msg
            if x.state == DALLYING:
                # The download is complete and checked; the server ended
                # it before our re-ACK of a repeated last block came.
                self.late_errors += 1
                return
            if x.state == REQ and arg == 0 and "busy" in msg and \
                    self.a.expect_busy:
                self.busy_latency.append(now - x.t_req)
                self.finish(x, REFUSED, now, "ERROR %d %s" % (arg, msg))
            else:
                self.finish(x, FAILED, now, "ERROR %d %s in state %d" % (
                    arg, msg, x.state))
            return
        if x.state == REQ:
            self.pending_req -= 1
            if holding:
                x.first = p
                x.state = HELD
                self.disarm(x)
                return
            x.state = RUN
            self.start(x, p, now)
            return
        if x.state == HELD:
            return              # the server's retransmission of the first
        if x.op == OP_RRQ:
            self.rrq_packet(x, p, now)
        else:
            self.wrq_packet(x, p, now)

    def start(self, x, p, now):
        """The first answer (OACK, DATA 1 or ACK 0), maybe after a hold."""
        if p.op == OP_OACK:
            o = p.optdict()
            want = dict((k, str(v)) for k, v in x.opts)
            for k in ("blksize", "windowsize"):
                if o.get(k) != want.get(k):
                    self.finish(x, FAILED, now, "OACK %s=%s, asked %s" % (
                        k, o.get(k), want.get(k)))
                    return
            if "tsize" in o and int(o["tsize"]) != x.size:
                self.finish(x, FAILED, now, "OACK tsize=%s, file has %d" % (
                    o["tsize"], x.size))
                return
            if x.op == OP_RRQ:
                self.send_ack(x, 0)
                self.arm(x, now)
            else:
                self.send_blocks(x, 1, x.window)
                self.arm(x, now)
            return
        if x.opts:
            self.finish(x, FAILED, now, "options asked, got %s" % p)
            return
        if x.op == OP_WRQ and p.op == OP_ACK and p.block == 0:
            self.send_blocks(x, 1, x.window)
            self.arm(x, now)
            return
        if x.op == OP_RRQ:
            self.rrq_packet(x, p, now)
        else:
            self.wrq_packet(x, p, now)

    def rrq_packet(self, x, p, now):
        if p.op == OP_OACK:
            x.reack = True      # our ACK 0 was lost
            return
        if p.op != OP_DATA:
            self.finish(x, FAILED, now, "RRQ got opcode %d" % p.op)
            return
        n = nearest_block(x.expect, p.block)
        if n != x.expect:
            x.reack = True      # a repeat or a gap: say where we are
            return
        payload = p.payload
        if x.state == DALLYING:
            x.reack = True
            return
        x.buf += payload
        x.expect += 1
        x.since_ack += 1
        if len(payload) < x.blksize:
            self.send_ack(x, n)
            x.reack = False
            got = bytes(x.buf)
            if len(got) != x.size or hashlib.sha256(got).digest() != x.sha:
                self.finish(x, FAILED, now, "%s: got %d bytes, sha256 %s "
                            "differs" % (x.name, len(got),
                                         hashlib.sha256(got).hexdigest()))
                return
            x.buf = None
            x.state = DALLYING
            self.seq += 1
            x.timer_seq = self.seq
            heapq.heappush(self.timers, (now + DALLY, self.seq, x))
            return
        if x.since_ack >= x.window:
            self.send_ack(x, n)
            x.since_ack = 0
            x.reack = False
        self.arm(x, now)

    def wrq_packet(self, x, p, now):
        if p.op == OP_OACK:
            return              # a repeat; the timer resends DATA 1
        if p.op != OP_ACK:
            self.finish(x, FAILED, now, "WRQ got opcode %d" % p.op)
            return
        n = nearest_block(x.acked, p.block)
        if n <= x.acked or n > x.last_sent:
            return              # stale or duplicate: the timer resends
        gap = n < x.last_sent
        x.acked = n
        if n == x.nblocks:
            self.finish(x, DONE, now)
            return
        if gap:
            # The server reports a gap (RFC 7440): resend after it.
            self.send_blocks(x, n + 1, n + x.window)
        else:
            self.send_blocks(x, x.last_sent + 1, n + x.window)
        self.arm(x, now)

    # ------------------------------------------------------------ run

    def release(self, now):
        for x in self.xfers:
            if x.state == HELD:
                x.state = RUN
                self.start(x, x.first, now)
                x.first = None

    def loop(self, until, holding=False, stop=None):
        """Serve sockets and timers until stop() or the time until."""
        while True:
            now = time.monotonic()
            if now >= until or (stop is not None and stop()):
                return
            wait = min(until - now, 0.05)
            if self.timers:
                wait = max(0.0, min(wait, self.timers[0][0] - now))
            for key, _ in self.sel.select(wait):
                self.readable(key.data, time.monotonic(), holding)
            self.run_timers(time.monotonic(), holding)

    def main(self):
        a = self.a
        t0 = time.monotonic()
        deadline = t0 + a.deadline
        holding = a.hold is not None
        for x in self.xfers:
            x.t_req = time.monotonic()
            self.send(x, request(x.op, x.name, "octet", x.opts),
                      x.server)
            self.arm(x, x.t_req)
        t_sent = time.monotonic()
        if holding:
            self.loop(deadline, True, lambda: self.pending_req == 0)
            held = sum(1 for x in self.xfers if x.state == HELD)
            refused = sum(1 for x in self.xfers if x.state == REFUSED)
            print("held=%d" % held)
            print("refused_at_hold=%d" % refused)
            print("hold_reached_s=%.3f" % (time.monotonic() - t0),
                  flush=True)
            tmp = os.path.join(a.hold, "ready.tmp")
            with open(tmp, "w") as f:
                f.write("admitted=%d refused=%d\n" % (held, refused))
            os.rename(tmp, os.path.join(a.hold, "ready"))
            go = os.path.join(a.hold, "go")
            self.loop(min(deadline, time.monotonic() + a.hold_max), True,
                      lambda: os.path.exists(go))
            self.release(time.monotonic())
        t_run = time.monotonic()
        self.loop(deadline, False, lambda: self.live == 0)
        t_end = time.monotonic()
        for x in self.xfers:
            if x.state not in (DONE, FAILED, REFUSED):
                self.finish(x, FAILED, t_end, "unfinished at the deadline "
                            "(state %d)" % x.state)
        return t0, t_sent, t_run, t_end

    def report(self, times):
        t0, t_sent, t_run, t_end = times
        xs = self.xfers
        ok = [x for x in xs if x.state == DONE]
        failed = [x for x in xs if x.state == FAILED]
        refused = [x for x in xs if x.state == REFUSED]

        def ms(v):
            return "%.0f" % (1000 * v) if v is not None else "-"

        out = [
            "transfers=%d" % len(xs),
            "rrq=%d" % sum(1 for x in xs if x.op == OP_RRQ),
            "wrq=%d" % sum(1 for x in xs if x.op == OP_WRQ),
            "ok=%d" % len(ok),
            "ok_rrq=%d" % sum(1 for x in ok if x.op == OP_RRQ),
            "ok_wrq=%d" % sum(1 for x in ok if x.op == OP_WRQ),
            "failed=%d" % len(failed),
            "refused=%d" % len(refused),
            "bytes=%d" % sum(x.size for x in ok),
            "client_retrans=%d" % sum(x.retrans for x in xs),
            "late_errors=%d" % self.late_errors,
            "datagrams_sent=%d" % self.sent,
            "datagrams_received=%d" % self.received,
            "first_reply_max_ms=%s" % ms(max(self.first_latency)
                                         if self.first_latency else None),
            "busy_reply_max_ms=%s" % ms(max(self.busy_latency)
                                        if self.busy_latency else None),
            "requests_sent_ms=%s" % ms(t_sent - t0),
            "run_ms=%s" % ms(t_end - t_run),
            "elapsed_ms=%s" % ms(t_end - t0),
        ]
        for b in self.a.blksizes:
            for w in self.a.windows:
                n = sum(1 for x in ok if x.blksize == b and x.window == w)
                out.append("ok.blksize%d.window%d=%d" % (b, w, n))
        print("\n".join(out))
        if self.a.manifest:
            with open(self.a.manifest, "w") as f:
                for x in ok:
                    if x.op == OP_WRQ:
                        f.write("%s  %s\n" % (
                            hashlib.sha256(x.data).hexdigest(), x.name))
        for x in failed[:20]:
            print("FAIL: %s %s blksize=%d window=%d: %s" % (
                "RRQ" if x.op == OP_RRQ else "WRQ", x.name, x.blksize,
                x.window, x.why))
        sys.stdout.flush()
        return 1 if failed else 0


def int_list(text):
    return [int(v) for v in text.split(",")]


def raise_nofile(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= need:
        return True
    if hard != resource.RLIM_INFINITY and hard < need:
        return False
    resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
    return True


def main(argv):
    ap = argparse.ArgumentParser(prog="soakclient.py",
                                 description="concurrent TFTP transfers")
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--root", required=True,
                    help="the server's root, to check downloads against")
    ap.add_argument("--get", action="append", required=True,
                    help="a file under --root to download (repeatable)")
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--wrq-share", type=int, default=50, help="percent")
    ap.add_argument("--upload-size", type=int, default=65536)
    ap.add_argument("--upload-prefix", default="soak-up-")
    ap.add_argument("--blksizes", type=int_list, default=[512, 1468, 8192])
    ap.add_argument("--windows", type=int_list, default=[1, 16])
    ap.add_argument("--timeout-ms", type=int, default=1000)
    ap.add_argument("--retries", type=int, default=8)
    ap.add_argument("--hold", metavar="DIR")
    ap.add_argument("--hold-max", type=float, default=10.0)
    ap.add_argument("--manifest")
    ap.add_argument("--expect-busy", action="store_true")
    ap.add_argument("--deadline", type=float, default=60.0)
    a = ap.parse_args(argv)

    if not raise_nofile(a.count + 64):
        print("SKIP: RLIMIT_NOFILE cannot reach %d open files" %
              (a.count + 64))
        return 77
    s = Soak(a)
    s.build()
    return s.report(s.main())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
