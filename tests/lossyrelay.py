#!/usr/bin/env python3
"""Lossy UDP relay between TFTP clients and a TFTP server, for tests.

    python3 lossyrelay.py --server-port P [--port R] [--drop PCT]
        [--dup PCT] [--reorder PCT] [--seed N] [--duration S] ...

Listens on HOST:R (127.0.0.1; R = 0 picks a free port, printed alone on
the first line of standard output, which is then flushed).  Every client
address gets its own upstream socket toward the server's listen port.
The server answers from a transfer port of its own (its TID); the relay
follows it: what the server sends from TID port S to the upstream socket
of client C goes back to C from a relay-side socket created for the pair
(C, S), so the client sees the TID change just as with a real server, and
what C later sends to that socket goes to S.  Datagrams from the server's
listen port itself go back from the relay's listen socket.

In both directions a datagram is dropped with probability --drop,
otherwise also sent a second time (after 0..--max-delay ms) with
probability --dup, and held back by a random 1..--max-delay ms with
probability --reorder (so later datagrams overtake it).  Each direction
draws from its own generator seeded from --seed, so a run is reproducible
as far as the arrival order of datagrams is.

The relay reads just enough TFTP to find the two ends of a transfer:
--spare-handshake passes the requests, the server's first datagram from
a TID and the client's first answer to it untouched; --spare-last does the
same for the short last DATA block and the ACKs of it.  Some clients
cannot survive loss there (atftp 0.8 aborts on a repeated OACK, curl 7.88
sends the wrong bytes after one and retransmits its last DATA only after
5 s or more), and the tests use these to put loss where they mean to.
--drop-last-ack N drops the first N ACKs of each transfer's last block,
to make a lost final ACK happen on purpose.  --max-redrops N lets no
datagram of a transfer (the same opcode and block, one direction) be
dropped more than N times in a row: curl 7.88 counts each repeat of the
ACK it already answered as a retry and gives up an upload after four.

The relay exits after --duration seconds, on SIGTERM, SIGINT or SIGHUP,
and prints its statistics as key=value lines (c2s.* from clients to the
server, s2c.* back); SIGUSR1 prints them without exiting.  --trace FILE
writes one line per datagram and what became of it.  Every loop is
bounded in time.  Standard library only.
"""

import argparse
import errno
import heapq
import os
import random
import selectors
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tftpwire import (  # noqa: E402
    OP_ACK, OP_DATA, OP_ERROR, OP_OACK, OPNAMES, Packet)

BATCH = 256             # datagrams read per readable socket per wakeup
BUFSZ = 65536
SOCKBUF = 4 << 20       # so the relay itself loses nothing it should not


class Dir:
    """Counters and the random generator of one direction."""

    def __init__(self, name, seed):
        self.name = name
        self.rng = random.Random(seed)
        self.received = 0
        self.forwarded = 0      # datagrams handed to the kernel
        self.dropped = 0        # by chance
        self.dropped_last_ack = 0   # by --drop-last-ack
        self.duplicated = 0
        self.reordered = 0
        self.spared = 0         # passed untouched (--spare-*)
        self.redrop_spared = 0  # passed: dropped --max-redrops times
        self.send_errors = 0
        self.bytes = 0

    def lines(self):
        out = []
        for k in ("received", "forwarded", "dropped", "dropped_last_ack",
                  "duplicated", "reordered", "spared", "redrop_spared",
                  "send_errors", "bytes"):
            out.append("%s.%s=%d" % (self.name, k, getattr(self, k)))
        return out


class Pair:
    """A client and one server TID: the relay-side socket the client
    talks to, and what the relay learnt of the transfer."""

    def __init__(self, sock):
        self.sock = sock
        self.blksize = 512
        self.answered = False   # the client has sent to this TID
        self.last = None        # block number of the short last DATA
        self.last_acks_dropped = 0
        self.redrops = {}       # direction -> (opcode+block, drops in a row)


class Relay:
    def __init__(self, a):
        self.a = a
        self.host = a.host
        self.server = (a.server_host, a.server_port)
        self.sel = selectors.DefaultSelector()
        self.c2s = Dir("c2s", "%s/c2s" % a.seed)
        self.s2c = Dir("s2c", "%s/s2c" % a.seed)
        self.upstream = {}      # client addr -> [socket, last active]
        self.pairs = {}         # (client addr, server addr) -> Pair
        self.later = []         # heap of (due, seq, dir, sock, data, addr)
        self.seq = 0
        self.strays = 0         # datagrams from unexpected addresses
        self.clients = 0
        self.expired = 0
        self.tracef = (open(a.trace, "w", buffering=1) if a.trace
                       else None)
        self.listen = self.new_socket(a.port)
        self.sel.register(self.listen, selectors.EVENT_READ,
                          ("listen", None))

    def new_socket(self, port=0):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for opt in (socket.SO_RCVBUF, socket.SO_SNDBUF):
            try:
                s.setsockopt(socket.SOL_SOCKET, opt, SOCKBUF)
            except OSError:
                pass
        s.bind((self.host, port))
        s.setblocking(False)
        return s

    # ------------------------------------------------------------ sockets

    def upstream_of(self, client, now):
        u = self.upstream.get(client)
        if u is None:
            s = self.new_socket()
            u = [s, now]
            self.upstream[client] = u
            self.sel.register(s, selectors.EVENT_READ, ("up", client))
            self.clients += 1
        u[1] = now
        return u[0]

    def pair_of(self, client, server):
        """The pair, created with its client-facing socket if new."""
        p = self.pairs.get((client, server))
        if p is None:
            s = self.new_socket()
            p = Pair(s)
            self.pairs[(client, server)] = p
            self.sel.register(s, selectors.EVENT_READ,
                              ("face", (client, server)))
        return p

    def expire(self, now):
        """Close the sockets of clients silent for --idle seconds."""
        old = [c for c, u in self.upstream.items()
               if now - u[1] > self.a.idle]
        for c in old:
            s = self.upstream.pop(c)[0]
            self.sel.unregister(s)
            s.close()
            for key in [k for k in self.pairs if k[0] == c]:
                p = self.pairs.pop(key)
                self.sel.unregister(p.sock)
                p.sock.close()
            self.expired += 1

    # ------------------------------------------------------------ tftp

    def fate(self, p, data, first):
        """'spare', 'drop' or None (chance decides) for a datagram of
        pair p; learns the blksize and the last block on the way."""
        a = self.a
        pkt = Packet(data)
        op, block = pkt.op, pkt.block
        if op == OP_OACK:
            try:
                p.blksize = int(pkt.optdict().get("blksize", "512"))
            except ValueError:
                pass
        elif op == OP_DATA and block is not None and \
                len(pkt.payload) < p.blksize:
            p.last = block
            if a.spare_last:
                return "spare"
        elif op == OP_ACK and block is not None and block == p.last:
            if p.last_acks_dropped < a.drop_last_ack:
                p.last_acks_dropped += 1
                return "drop-last-ack"
            if a.spare_last:
                return "spare"
        if first and a.spare_handshake:
            return "spare"
        return None

    # ------------------------------------------------------------ loss

    def capped(self, d, p, data, dropped):
        """Whether --max-redrops spares a datagram chance would drop:
        the same opcode and block of pair p lost that many times in a
        row in direction d.  Keeps the count."""
        if p is None or not self.a.max_redrops:
            return False
        ident = data[:4]
        last, n = p.redrops.get(d.name, (None, 0))
        if not dropped:
            p.redrops[d.name] = (None, 0)
            return False
        if ident == last and n >= self.a.max_redrops:
            p.redrops[d.name] = (None, 0)
            return True
        p.redrops[d.name] = (ident, n + 1 if ident == last else 1)
        return False

    def send(self, d, sock, data, addr, now, up, fate=None, pair=None):
        """Forward one datagram in direction d, maybe lossily."""
        d.received += 1
        a = self.a
        if fate == "spare":
            d.spared += 1
            self.trace(now, d, data, addr, up, "spare")
            self.out(d, sock, data, addr)
            return
        if fate == "drop-last-ack":
            d.dropped_last_ack += 1
            self.trace(now, d, data, addr, up, "drop-last-ack")
            return
        drop = d.rng.random() * 100.0 < a.drop
        if self.capped(d, pair, data, drop):
            d.redrop_spared += 1
            drop = False
        if drop:
            d.dropped += 1
            self.trace(now, d, data, addr, up, "drop")
            return
        dup = d.rng.random() * 100.0 < a.dup
        late = d.rng.random() * 100.0 < a.reorder
        self.trace(now, d, data, addr, up, "late" if late else "pass",
                   dup and "dup" or "")
        if late:
            d.reordered += 1
            self.schedule(now + d.rng.uniform(1.0, a.max_delay) / 1000.0,
                          d, sock, data, addr)
        else:
            self.out(d, sock, data, addr)
        if dup:
            d.duplicated += 1
            self.schedule(now + d.rng.uniform(0.0, a.max_delay) / 1000.0,
                          d, sock, data, addr)

    def trace(self, now, d, data, addr, up, what, extra=""):
        """One line: time, direction, the upstream socket's port (the
        client as the server knows it), destination, packet, fate."""
        if self.tracef is None:
            return
        pkt = Packet(data)
        op = -1 if pkt.op is None else pkt.op
        arg = ""
        if op in (OP_DATA, OP_ACK) and pkt.block is not None:
            arg = " %d" % pkt.block
        elif op == OP_ERROR and pkt.code is not None:
            arg = " %d %r" % (pkt.code, data[4:40])
        self.tracef.write("%.6f %s up=%d to=%s:%d %s%s len=%d %s %s\n" % (
            now, d.name, up.getsockname()[1], addr[0], addr[1],
            OPNAMES.get(op, "op%d" % op), arg, len(data), what, extra))

    def schedule(self, due, d, sock, data, addr):
        self.seq += 1
        heapq.heappush(self.later, (due, self.seq, d, sock, data, addr))

    def out(self, d, sock, data, addr):
        try:
            sock.sendto(data, addr)
            d.forwarded += 1
            d.bytes += len(data)
        except OSError:
            # A full buffer or a socket closed meanwhile: a loss, counted.
            d.send_errors += 1

    def flush_later(self, now):
        n = 0
        while self.later and self.later[0][0] <= now and n < 4096:
            _, _, d, sock, data, addr = heapq.heappop(self.later)
            if sock.fileno() != -1:
                self.out(d, sock, data, addr)
            else:
                d.send_errors += 1
            n += 1

    # ------------------------------------------------------------ input

    def readable(self, sock, kind, what, now):
        a = self.a
        for _ in range(BATCH):
            try:
                data, src = sock.recvfrom(BUFSZ)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:
                if e.errno in (errno.ECONNREFUSED, errno.EHOSTUNREACH):
                    continue
                raise
            if kind == "listen":
                # A client's request (or a datagram to the listen port).
                up = self.upstream_of(src, now)
                self.send(self.c2s, up, data, self.server, now, up,
                          "spare" if a.spare_handshake else None)
            elif kind == "up":
                client = what
                if src[0] != self.server[0]:
                    self.strays += 1
                    continue
                if client in self.upstream:
                    self.upstream[client][1] = now
                if src == self.server:
                    self.send(self.s2c, self.listen, data, client, now,
                              sock)
                    continue
                first = (client, src) not in self.pairs
                p = self.pair_of(client, src)
                self.send(self.s2c, p.sock, data, client, now, sock,
                          self.fate(p, data, first), p)
            else:
                client, server = what
                if src != client:
                    # Someone else wrote to the client's view of the TID.
                    self.strays += 1
                    continue
                p = self.pairs[(client, server)]
                up = self.upstream_of(client, now)
                first = not p.answered
                p.answered = True
                self.send(self.c2s, up, data, server, now, up,
                          self.fate(p, data, first), p)

    # ------------------------------------------------------------ run

    def stats(self):
        lines = self.c2s.lines() + self.s2c.lines()
        lines += ["clients=%d" % self.clients, "tids=%d" % len(self.pairs),
                  "strays=%d" % self.strays, "expired=%d" % self.expired,
                  "pending=%d" % len(self.later)]
        return lines

    def run(self, flags):
        start = time.monotonic()
        end = start + self.a.duration
        next_expire = start + 1.0
        while not flags["stop"]:
            now = time.monotonic()
            if now >= end:
                break
            if flags["dump"]:
                flags["dump"] = False
                print("\n".join(self.stats()), flush=True)
            wait = min(end - now, 0.25)
            if self.later:
                wait = max(0.0, min(wait, self.later[0][0] - now))
            try:
                events = self.sel.select(wait)
            except InterruptedError:
                events = []
            now = time.monotonic()
            for key, _ in events:
                kind, what = key.data
                self.readable(key.fileobj, kind, what, now)
            self.flush_later(time.monotonic())
            if now >= next_expire:
                self.expire(now)
                next_expire = now + 1.0
        # Whatever is still held back leaves now (bounded by the heap).
        self.flush_later(float("inf"))
        print("elapsed=%.3f" % (time.monotonic() - start))
        print("\n".join(self.stats()), flush=True)
        if self.tracef is not None:
            self.tracef.close()


def pct(text):
    v = float(text)
    if not 0.0 <= v <= 100.0:
        raise argparse.ArgumentTypeError("a percentage 0..100: %s" % text)
    return v


def main(argv):
    ap = argparse.ArgumentParser(
        prog="lossyrelay.py",
        description="UDP relay that drops, duplicates and reorders "
        "datagrams between TFTP clients and a server, following the "
        "server's transfer ports.")
    ap.add_argument("--host", default="127.0.0.1",
                    help="address the relay binds (default 127.0.0.1)")
    ap.add_argument("--port", type=int, default=0,
                    help="relay listen port (0: any, printed)")
    ap.add_argument("--server-host", default="127.0.0.1")
    ap.add_argument("--server-port", type=int, required=True)
    ap.add_argument("--drop", type=pct, default=0.0, help="%% dropped")
    ap.add_argument("--dup", type=pct, default=0.0, help="%% duplicated")
    ap.add_argument("--reorder", type=pct, default=0.0,
                    help="%% delayed by 1..--max-delay ms")
    ap.add_argument("--max-delay", type=float, default=8.0,
                    help="ms, for --reorder and --dup (default 8)")
    ap.add_argument("--seed", default="1")
    ap.add_argument("--duration", type=float, default=120.0,
                    help="seconds before the relay exits (default 120)")
    ap.add_argument("--idle", type=float, default=60.0,
                    help="seconds after which a silent client's sockets "
                    "are closed (default 60)")
    ap.add_argument("--spare-handshake", action="store_true",
                    help="never touch a request, the server's first "
                    "datagram from a TID or the client's first answer")
    ap.add_argument("--spare-last", action="store_true",
                    help="never touch the short last DATA or its ACKs")
    ap.add_argument("--max-redrops", type=int, default=0, metavar="N",
                    help="never drop the same datagram (opcode and block) "
                    "of a transfer more than N times in a row in one "
                    "direction (0: no limit)")
    ap.add_argument("--drop-last-ack", type=int, default=0, metavar="N",
                    help="drop the first N ACKs of each last block")
    ap.add_argument("--trace", help="write one line per datagram (what "
                    "became of it) to this file")
    a = ap.parse_args(argv)
    if a.max_delay < 1.0:
        ap.error("--max-delay must be at least 1 ms")

    r = Relay(a)
    print(r.listen.getsockname()[1], flush=True)
    flags = {"stop": False, "dump": False}

    def on_stop(signum, frame):
        flags["stop"] = True

    def on_dump(signum, frame):
        flags["dump"] = True

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_stop)
    signal.signal(signal.SIGUSR1, on_dump)
    r.run(flags)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
