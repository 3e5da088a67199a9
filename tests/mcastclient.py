#!/usr/bin/env python3
"""Raw RFC 2090 (TFTP multicast option) client for owltftpd's tests.

    python3 mcastclient.py get SERVER PORT FILE --out PATH
        [--blksize N] [--windowsize N] [--tsize] [--expect PATH]
        [--ack-delay-ms N] [--vanish-after N] [--error-after N]
        [--progress FILE] [--timeout S] [--src ADDR] [--ack-timeout S]
        [--unicast-ok]
    python3 mcastclient.py sniff LOCAL PORT --first GROUP --last GROUP
        --stop FILE --ready FILE [--seconds S]
    python3 mcastclient.py send LOCAL GROUP PORT [--count N]

sniff and send are the test network's own check (a bystander that counts
what reaches the groups, and a sender of a few datagrams); get is the
client, described here.

get sends an RRQ (octet) with the option multicast="" (and blksize,
windowsize, tsize when given), then plays an RFC 2090 client:

  * the OACK's multicast=ADDR,PORT,MC names the group; the client joins
    it on the interface that faces the server and receives the group's
    DATA (only from the server's transfer address:port, the TID of the
    OACK; anything else is counted as a stray and ignored);
  * blocks are recorded in any order; the file is complete once the
    short block (the last one) and every block before it are present;
  * while master (MC=1) it ACKs the block just before its first hole:
    at once on becoming master, after each window of DATA, and again
    when the server goes quiet; a non-master never sends anything;
  * a later OACK (multicast=ADDR,PORT,MC, empty fields meaning
    "unchanged") switches the group and/or the master role;
  * it ends when it has every block and, as master, has ACKed the last
    one.  A non-master with every block waits to be made master, as an
    RFC client does.

--ack-delay-ms N  waits N ms before each ACK (a slow master, so that a
                  transfer lasts long enough for others to join)
--progress FILE   keeps FILE holding the number of distinct blocks held
--vanish-after N  as master with at least N blocks, go silent and exit 3
                  (a master that disappears mid-transfer)
--error-after N   as master with at least N blocks, send ERROR 0 and exit
                  4 (a master that gives up mid-transfer)
--unicast-ok      an OACK without multicast (the server serves this
                  request by unicast) is not a failure: the file is then
                  fetched by plain RFC 1350/7440 unicast

Prints one summary line ("mcastclient: ok ..." or "mcastclient: FAIL
..."), and "FAIL: why" lines for failures.  Exit status: 0 the file is
complete (and byte-exact with --expect), 1 a failure (ERROR from the
server, bad packet, content mismatch), 2 the --timeout deadline passed,
3 vanished on purpose, 4 sent an ERROR on purpose.  Every wait is
bounded by the deadline.  Standard library only.
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
    OP_DATA, OP_ERROR, OP_OACK, Packet, ack, data, error, rrq, wire_block)

PROGRESS_EVERY = 0.05   # s between --progress updates
SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)     # Linux


class Fail(Exception):
    """The transfer failed; the message says why."""


class Deadline(Exception):
    """The overall --timeout passed."""


def parse_mc(value, old):
    """multicast=ADDR,PORT,MC -> (addr, port, mc).

    RFC 2090 lets a later OACK leave ADDR and PORT empty ("unchanged");
    old is the (addr, port) in force, or None before the first one.
    """
    f = value.split(",")
    if len(f) != 3 or f[2] not in ("0", "1"):
        raise Fail("malformed multicast option %r" % value)
    addr, port = f[0], f[1]
    if not addr or not port:
        if old is None:
            raise Fail("first multicast option %r lacks the group" % value)
        addr = addr or old[0]
        port = port or str(old[1])
    try:
        first_octet = socket.inet_aton(addr)[0]
        port = int(port)
    except (OSError, ValueError):
        raise Fail("malformed multicast option %r" % value)
    if first_octet & 0xF0 != 0xE0:         # 224.0.0.0/4
        raise Fail("multicast option %r: %s is not a multicast address"
                   % (value, addr))
    if not 0 < port < 65536:
        raise Fail("multicast option %r: bad port" % value)
    return addr, port, int(f[2])


# ---------------------------------------------------------------- the client

class Client:
    def __init__(self, a):
        self.a = a
        self.t0 = time.monotonic()
        self.end = self.t0 + a.timeout
        self.server = (socket.gethostbyname(a.server), a.port)
        self.u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.u.bind((a.src or "0.0.0.0", 0))
        self.g = None               # the group socket
        self.group = None           # (addr, port) joined
        self.groups = []            # every group joined, for the summary
        self.local = None           # interface address the group is on
        self.tid = None             # server's transfer (addr, port)
        self.blksize = 512
        self.windowsize = 1
        self.tsize = None
        self.blocks = {}            # block number -> payload; its keys
                                    # are the bitmap of blocks held
        self.last = None            # number of the short (final) block
        self.contig = 0             # every block 1..contig is held
        self.master = False
        self.master_at = []         # distinct blocks held on each mc=1
        self.oacks = 0
        self.mc_values = []         # every multicast option value received
        self.from_group = 0         # DATA packets taken from the group
        self.from_unicast = 0       # DATA packets taken by unicast
        self.first_group = None     # first block number seen on the group
        self.strays = 0             # packets from anyone but the TID
        self.acked = None           # last ACK sent
        self.acks = 0
        self.window_end = 0         # block that completes the window
        self.last_ack_time = 0.0
        self.done = False
        self.mode = "multicast"
        self.progress_time = 0.0
        self.progress_count = -1
        self.first_data = None      # a DATA that answered the RRQ itself

    # ------------------------------------------------------------ helpers

    def left(self):
        t = self.end - time.monotonic()
        if t <= 0:
            raise Deadline()
        return t

    def elapsed(self):
        return time.monotonic() - self.t0

    def interface_address(self):
        """Our address on the interface that faces the server.

        A connected UDP socket asks the routing table, sends nothing.
        """
        if self.a.src:
            return self.a.src
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.connect(self.server)
            return s.getsockname()[0]
        finally:
            s.close()

    def join(self, addr, port):
        """Receive addr:port: bind it (shared) and join on our interface."""
        if self.group == (addr, port):
            return
        self.leave()
        g = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        g.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Bound to the group address, the socket gets that group's
        # datagrams only (not every group the host has joined).
        g.bind((addr, port))
        self.local = self.interface_address()
        mreq = socket.inet_aton(addr) + socket.inet_aton(self.local)
        g.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
        self.g = g
        self.group = (addr, port)
        self.groups.append("%s:%d" % self.group)

    def leave(self):
        if self.g is not None:
            try:
                mreq = socket.inet_aton(self.group[0]) + \
                    socket.inet_aton(self.local)
                self.g.setsockopt(socket.IPPROTO_IP,
                                  socket.IP_DROP_MEMBERSHIP, mreq)
            except OSError:
                pass
            self.g.close()
        self.g = None
        self.group = None

    def progress(self, force=False):
        """Publish the count of distinct blocks (atomically, throttled)."""
        if not self.a.progress or len(self.blocks) == self.progress_count:
            return
        now = time.monotonic()
        if not force and now - self.progress_time < PROGRESS_EVERY:
            return
        tmp = self.a.progress + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % len(self.blocks))
        os.replace(tmp, self.a.progress)
        self.progress_time = now
        self.progress_count = len(self.blocks)

    def complete(self):
        return self.last is not None and self.contig >= self.last

    # ------------------------------------------------------------ sending

    def send_ack(self, n):
        """ACK n to the TID: "send me n+1 on" (a window of them)."""
        if self.a.ack_delay_ms:
            time.sleep(self.a.ack_delay_ms / 1000.0)
        self.u.sendto(ack(n), self.tid)
        self.acked = n
        self.acks += 1
        self.window_end = n + self.windowsize
        self.last_ack_time = time.monotonic()
        if self.last is not None and n == self.last and self.complete():
            self.done = True

    def maybe_vanish(self):
        """--vanish-after / --error-after: a master that leaves early."""
        if not self.master:
            return
        n = self.a.vanish_after
        if n is not None and len(self.blocks) >= n:
            self.progress(force=True)
            print("mcastclient: vanished as master with %d blocks "
                  "(acked %s) after %.2fs"
                  % (len(self.blocks), self.acked, self.elapsed()))
            sys.stdout.flush()
            os._exit(3)     # no ERROR, no cleanup: gone
        n = self.a.error_after
        if n is not None and len(self.blocks) >= n:
            self.progress(force=True)
            self.u.sendto(error(0, "mcastclient quits"), self.tid)
            print("mcastclient: sent ERROR as master with %d blocks "
                  "(acked %s) after %.2fs"
                  % (len(self.blocks), self.acked, self.elapsed()))
            sys.stdout.flush()
            os._exit(4)

    # ------------------------------------------------------------ receiving

    def wait(self, timeout):
        """Next (raw, addr, from_group) within timeout s, or None."""
        socks = [self.u] + ([self.g] if self.g is not None else [])
        r, _, _ = select.select(socks, [], [], max(0.0, timeout))
        if not r:
            return None
        s = r[0]
        raw, addr = s.recvfrom(70000)
        return raw, addr, s is self.g

    def on_data(self, n, payload, from_group):
        if len(payload) > self.blksize:
            raise Fail("DATA %d carries %d bytes, blksize is %d"
                       % (n, len(payload), self.blksize))
        if n == 0:
            raise Fail("DATA with block number 0")
        if from_group:
            self.from_group += 1
            if self.first_group is None:
                self.first_group = n
        else:
            self.from_unicast += 1
        if len(payload) < self.blksize:
            if self.last is not None and self.last != n:
                raise Fail("two short blocks: %d and %d" % (self.last, n))
            self.last = n
        elif self.last is not None and n > self.last:
            raise Fail("DATA %d after the final block %d" % (n, self.last))
        if n not in self.blocks:
            self.blocks[n] = payload
            while self.contig + 1 in self.blocks:
                self.contig += 1
        elif self.blocks[n] != payload:
            raise Fail("DATA %d came twice with different content" % n)
        self.progress()
        if not self.master:
            return
        self.maybe_vanish()
        # The window is over when its final block (or the file's) came,
        # or when what we hold reaches past it; then ask for the rest.
        if n >= self.window_end or n == self.last or \
                self.contig >= self.window_end:
            self.send_ack(self.contig)

    def on_oack(self, opts):
        self.oacks += 1
        if self.oacks == 1:
            self.blksize = int(opts.get("blksize", "512"))
            self.windowsize = int(opts.get("windowsize", "1"))
            if "tsize" in opts:
                self.tsize = int(opts["tsize"])
        if "multicast" not in opts:
            if self.oacks == 1:
                self.mode = "unicast"
                return
            raise Fail("a later OACK without multicast: %r" % opts)
        self.mc_values.append(opts["multicast"])
        addr, port, mc = parse_mc(opts["multicast"], self.group)
        self.join(addr, port)
        if mc == 1:
            # Becoming master: ask for the first block we lack (ACK the
            # one before it); holding everything, ACK the last and end.
            # The same OACK again means our ACK was lost: ACK again.
            if not self.master:
                self.master_at.append(len(self.blocks))
            self.master = True
            self.maybe_vanish()
            self.send_ack(self.contig)
        else:
            self.master = False

    def handle(self, raw, addr, from_group):
        p = Packet(raw)
        if addr != self.tid:
            self.strays += 1
            return
        if p.bad and p.op in (None, OP_DATA, OP_ERROR, OP_OACK):
            raise Fail("unparseable packet from the server: %s" % p)
        if p.op == OP_ERROR:
            raise Fail("server sent ERROR %d %s" % (p.code, p.msg))
        if p.op == OP_OACK:
            if from_group:
                raise Fail("OACK arrived on the group, not by unicast")
            self.on_oack(p.optdict())
        elif p.op == OP_DATA:
            self.on_data(p.block, p.payload, from_group)
        else:
            raise Fail("unexpected opcode %d from the server" % p.op)

    # ------------------------------------------------------------ the run

    def request(self):
        """Send the RRQ; the first answer from the server sets the TID."""
        opts = [("multicast", "")]
        if self.a.blksize:
            opts.append(("blksize", str(self.a.blksize)))
        if self.a.windowsize:
            opts.append(("windowsize", str(self.a.windowsize)))
        if self.a.tsize:
            opts.append(("tsize", "0"))
        req = rrq(self.a.file, "octet", opts)
        for _ in range(5):
            self.u.sendto(req, self.server)
            until = time.monotonic() + min(2.0, self.left())
            while time.monotonic() < until:
                got = self.wait(until - time.monotonic())
                if got is None:
                    break
                raw, addr, _ = got
                if addr[0] != self.server[0]:
                    self.strays += 1
                    continue
                if addr[1] == self.server[1]:
                    raise Fail("reply from the listen port %d, not a "
                               "transfer port" % addr[1])
                self.tid = addr
                p = Packet(raw)
                if p.op == OP_DATA and not p.bad:
                    # No OACK at all: the server ignored every option.
                    self.mode = "unicast"
                    self.first_data = raw
                    return
                if p.op not in (OP_OACK, OP_ERROR):
                    raise Fail("first reply is not an OACK: %r" % raw[:32])
                self.handle(raw, addr, False)
                return
        raise Fail("no answer to the RRQ")

    def run_multicast(self):
        while not self.done:
            if self.master:
                quiet = self.a.ack_timeout - \
                    (time.monotonic() - self.last_ack_time)
                if quiet <= 0:
                    # Nothing moved: ask again (a lost ACK or DATA).
                    self.send_ack(self.contig)
                    continue
            else:
                quiet = 1.0
            got = self.wait(min(quiet, self.left()))
            if got is not None:
                self.handle(*got)

    def run_unicast(self):
        """The server declined multicast: RFC 1350/7440 by unicast."""
        if self.a.vanish_after is not None or \
                self.a.error_after is not None:
            raise Fail("--vanish-after and --error-after need multicast")
        self.master = True
        if self.first_data is None:
            self.send_ack(0)        # the OACK is acknowledged with ACK 0
        got = None
        if self.first_data is not None:
            got = (self.first_data, self.tid, False)
        while not self.done:
            if got is None:
                quiet = self.a.ack_timeout - \
                    (time.monotonic() - self.last_ack_time)
                if quiet <= 0:
                    self.send_ack(self.contig)
                    continue
                got = self.wait(min(quiet, self.left()))
                if got is None:
                    continue
            raw, addr, _ = got
            got = None
            p = Packet(raw)
            if addr != self.tid:
                self.strays += 1
                continue
            if p.bad or p.op not in (OP_DATA, OP_ERROR):
                raise Fail("unexpected packet in a unicast transfer")
            if p.op == OP_ERROR:
                raise Fail("server sent ERROR %d %s" % (p.code, p.msg))
            # Unicast block numbers wrap after 65535: only the next one
            # in order is taken; a gap is mended by the silence timer.
            absolute = self.contig + 1
            if p.block == wire_block(absolute, 0):
                self.on_data(absolute, p.payload, False)

    def run(self):
        self.request()
        if self.mode == "unicast":
            if not self.a.unicast_ok:
                raise Fail("the OACK has no multicast option")
            self.run_unicast()
        else:
            self.run_multicast()
        self.progress(force=True)

    def content(self):
        return b"".join(self.blocks[n] for n in range(1, self.last + 1))

    def summary(self, verdict):
        master = ",".join(str(n) for n in self.master_at) or "never"
        return ("mcastclient: %s file=%s mode=%s group=%s tid=%s "
                "blksize=%d windowsize=%d blocks=%d last=%s "
                "from_group=%d from_unicast=%d first_group_block=%s "
                "master_at=%s final_ack=%s acks=%d oacks=%d mc_values=%s "
                "strays=%d time=%.2fs"
                % (verdict, self.a.file, self.mode,
                   ",".join(self.groups) or "-",
                   "%s:%d" % self.tid if self.tid else "-",
                   self.blksize, self.windowsize, len(self.blocks),
                   self.last, self.from_group, self.from_unicast,
                   self.first_group, master, self.acked, self.acks,
                   self.oacks, ";".join(self.mc_values) or "-",
                   self.strays, self.elapsed()))

    def abort(self):
        """Tell the server we give up (a polite client ends with ERROR)."""
        if self.tid is not None:
            try:
                self.u.sendto(error(0, "mcastclient gives up"), self.tid)
            except OSError:
                pass


def check_content(c, a):
    """Write --out, compare with --expect; returns a failure or None."""
    got = c.content()
    if a.out:
        with open(a.out, "wb") as f:
            f.write(got)
    if c.tsize is not None and c.tsize != len(got):
        return "tsize was %d, received %d bytes" % (c.tsize, len(got))
    if a.expect:
        with open(a.expect, "rb") as f:
            want = f.read()
        if got != want:
            at = next((i for i in range(min(len(got), len(want)))
                       if got[i] != want[i]), min(len(got), len(want)))
            return ("content differs from %s: %d bytes received, %d "
                    "expected, first difference at byte %d (block %d)"
                    % (a.expect, len(got), len(want), at,
                       at // c.blksize + 1))
    return None


def cmd_get(a):
    c = Client(a)
    try:
        c.run()
    except Fail as e:
        c.abort()
        print("FAIL: %s" % e)
        print(c.summary("FAIL"))
        return 1
    except Deadline:
        c.abort()
        c.progress(force=True)
        print("FAIL: not finished within %.0f s (master=%s, have %d "
              "blocks, first hole %d, last %s)"
              % (a.timeout, c.master, len(c.blocks), c.contig + 1, c.last))
        print(c.summary("FAIL"))
        return 2
    except OSError as e:
        print("FAIL: socket error: %s" % e)
        print(c.summary("FAIL"))
        return 1
    finally:
        c.leave()
    why = check_content(c, a)
    if why:
        print("FAIL: %s" % why)
        print(c.summary("FAIL"))
        return 1
    print(c.summary("ok"))
    return 0


# ---------------------------------------------------------------- bystander

def cmd_sniff(a):
    """A bystander, not a TFTP client: joins every group from --first to
    --last on PORT (on the interface of address LOCAL) and counts what
    arrives on each, until --stop exists or --seconds pass; touches
    --ready once joined.  Prints one line per group and sender seen:
    "GROUP from=ADDR:PORT packets=N data=D blocks=B ttl=T[,T...]"."""
    ip_recvttl = getattr(socket, "IP_RECVTTL", 12)     # Linux values
    ip_ttl = getattr(socket, "IP_TTL", 2)
    first = struct.unpack("!I", socket.inet_aton(a.first))[0]
    last = struct.unpack("!I", socket.inet_aton(a.last))[0]
    socks = {}
    for n in range(first, last + 1):
        grp = socket.inet_ntoa(struct.pack("!I", n))
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Room for a whole file's DATA: on a busy machine this process
        # may not run for a while, and a full buffer drops (root may
        # force it).
        try:
            s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 8 << 20)
        except OSError:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        s.bind((grp, a.port))     # this group's datagrams only
        s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                     socket.inet_aton(grp) + socket.inet_aton(a.local))
        s.setsockopt(socket.IPPROTO_IP, ip_recvttl, 1)
        socks[s] = grp
    open(a.ready, "w").close()
    seen = {}           # (group, source) -> [packets, data, blocks, ttls]
    end = time.monotonic() + a.seconds
    while time.monotonic() < end and not os.path.exists(a.stop):
        r, _, _ = select.select(list(socks), [], [], 0.05)
        for s in r:
            raw, anc, _, src = s.recvmsg(70000, 64)
            st = seen.setdefault((socks[s], src), [0, 0, set(), set()])
            st[0] += 1
            for level, kind, val in anc:
                if level == socket.IPPROTO_IP and kind == ip_ttl:
                    st[3].add(int.from_bytes(val[:4], sys.byteorder))
            p = Packet(raw)
            if p.op == OP_DATA and p.block is not None:
                st[1] += 1
                st[2].add(p.block)
    for (g, src), (n, d, blocks, ttls) in sorted(seen.items()):
        print("%s from=%s:%d packets=%d data=%d blocks=%d ttl=%s"
              % (g, src[0], src[1], n, d, len(blocks),
                 ",".join(str(x) for x in sorted(ttls))))
    return 0


def cmd_send(a):
    """DATA 1 "topology" --count times to GROUP:PORT from LOCAL (TTL 1),
    50 ms apart: what a bystander must see for the network to carry
    multicast at all."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((a.local, 0))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
    for _ in range(a.count):
        s.sendto(data(1, b"topology"), (a.group, a.port))
        time.sleep(0.05)
    return 0


def build_parser():
    ap = argparse.ArgumentParser(prog="mcastclient.py",
                                 description="RFC 2090 multicast TFTP "
                                 "test client")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("get", help="download FILE through multicast")
    p.add_argument("server")
    p.add_argument("port", type=int)
    p.add_argument("file")
    p.add_argument("--out", help="where to write the file")
    p.add_argument("--expect", help="file the content must equal")
    p.add_argument("--blksize", type=int)
    p.add_argument("--windowsize", type=int)
    p.add_argument("--tsize", action="store_true", help="ask for tsize")
    p.add_argument("--ack-delay-ms", type=int, default=0)
    p.add_argument("--vanish-after", type=int, metavar="N")
    p.add_argument("--error-after", type=int, metavar="N")
    p.add_argument("--progress", metavar="FILE")
    p.add_argument("--timeout", type=float, default=60.0,
                   help="overall deadline, s")
    p.add_argument("--ack-timeout", type=float, default=1.0,
                   help="s of silence before a master re-ACKs")
    p.add_argument("--src", help="local address to bind")
    p.add_argument("--unicast-ok", action="store_true",
                   help="an OACK without multicast is not a failure")

    p = sub.add_parser("sniff", help="count the DATA sent to the groups")
    p.add_argument("local", help="address of the interface to join on")
    p.add_argument("port", type=int)
    p.add_argument("--first", required=True, help="first group")
    p.add_argument("--last", required=True, help="last group")
    p.add_argument("--stop", required=True, help="file that ends it")
    p.add_argument("--ready", required=True, help="file made once joined")
    p.add_argument("--seconds", type=float, default=25.0)

    p = sub.add_parser("send", help="DATA 1 to a group, TTL 1")
    p.add_argument("local", help="address to send from")
    p.add_argument("group")
    p.add_argument("port", type=int)
    p.add_argument("--count", type=int, default=3)
    return ap


def main(argv):
    a = build_parser().parse_args(argv)
    return {"get": cmd_get, "sniff": cmd_sniff, "send": cmd_send}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
