"""The TFTP wire format, shared by every Python helper of the tests.

Encoders for RRQ, WRQ, DATA, ACK, ERROR and OACK (RFC 1350, RFC 2347),
a Packet that parses any datagram and says why it does not when it does
not, and the mapping between absolute block numbers and the 16-bit ones
on the wire (with the rollover option's wrap to 0 or 1).  Nothing here
does I/O.  Standard library only.

The helpers import it from their own directory (they run from the build
tree with TESTS_SRCDIR pointing at the sources), so each of them puts
os.path.dirname(__file__) on sys.path first.
"""

import os
import struct

OP_RRQ, OP_WRQ, OP_DATA, OP_ACK, OP_ERROR, OP_OACK = 1, 2, 3, 4, 5, 6
OPNAMES = {OP_RRQ: "RRQ", OP_WRQ: "WRQ", OP_DATA: "DATA", OP_ACK: "ACK",
           OP_ERROR: "ERROR", OP_OACK: "OACK"}


def b(s):
    """Bytes from str (argv strings keep their original bytes) or bytes."""
    if isinstance(s, bytes):
        return s
    return os.fsencode(s)


# ---------------------------------------------------------------- encoding

def request(op, name, mode="octet", opts=()):
    """RRQ/WRQ.  opts: sequence of (name, value) pairs, sent in order;
    a value may be an int."""
    out = struct.pack("!H", op) + b(name) + b"\0" + b(mode) + b"\0"
    for k, v in opts:
        out += b(k) + b"\0" + b(str(v) if isinstance(v, int) else v) + b"\0"
    return out


def rrq(name, mode="octet", opts=()):
    return request(OP_RRQ, name, mode, opts)


def wrq(name, mode="octet", opts=()):
    return request(OP_WRQ, name, mode, opts)


def data(block, payload):
    return struct.pack("!HH", OP_DATA, block & 0xFFFF) + payload


def ack(block):
    return struct.pack("!HH", OP_ACK, block & 0xFFFF)


def error(code, msg=""):
    return struct.pack("!HH", OP_ERROR, code) + b(msg) + b"\0"


def oack(opts):
    out = struct.pack("!H", OP_OACK)
    for k, v in opts:
        out += b(k) + b"\0" + b(str(v)) + b"\0"
    return out


# ---------------------------------------------------------------- decoding

class Packet:
    """A parsed datagram.  Fields depend on op; bad says why the datagram
    is not a well-formed packet a server may send (None when it is)."""

    def __init__(self, raw):
        self.raw = raw
        self.op = None
        self.block = None
        self.payload = b""
        self.code = None
        self.msg = ""
        self.opts = []          # OACK: list of (name, value) in order
        self.bad = None         # why it does not parse, or None
        if len(raw) < 2:
            self.bad = "short (%d bytes)" % len(raw)
            return
        (self.op,) = struct.unpack("!H", raw[:2])
        body = raw[2:]
        if self.op == OP_DATA or self.op == OP_ACK:
            if len(body) < 2:
                self.bad = "short %s" % OPNAMES[self.op]
                return
            (self.block,) = struct.unpack("!H", body[:2])
            self.payload = body[2:]
            if self.op == OP_ACK and self.payload:
                self.bad = "ACK with %d trailing bytes" % len(self.payload)
        elif self.op == OP_ERROR:
            if len(body) < 3 or not body.endswith(b"\0"):
                self.bad = "malformed ERROR"
                if len(body) >= 2:
                    (self.code,) = struct.unpack("!H", body[:2])
                return
            (self.code,) = struct.unpack("!H", body[:2])
            self.msg = body[2:-1].decode("latin-1")
            if b"\0" in body[2:-1]:
                self.bad = "ERROR message with embedded NUL"
        elif self.op == OP_OACK:
            if not body.endswith(b"\0"):
                self.bad = "OACK not NUL-terminated"
                return
            parts = body[:-1].split(b"\0")
            if len(parts) % 2 != 0:
                self.bad = "OACK with odd number of strings"
                return
            for i in range(0, len(parts), 2):
                self.opts.append((parts[i].decode("latin-1"),
                                  parts[i + 1].decode("latin-1")))
        elif self.op in (OP_RRQ, OP_WRQ):
            self.bad = "server sent a request"
        else:
            self.bad = "unknown opcode %d" % self.op

    def optdict(self):
        """The OACK's options by lower-case name."""
        return {k.lower(): v for k, v in self.opts}

    def __str__(self):
        if self.op == OP_DATA:
            return "DATA %d len=%d" % (self.block, len(self.payload))
        if self.op == OP_ACK:
            return "ACK %d" % self.block
        if self.op == OP_ERROR:
            return "ERROR %s %s" % (self.code, self.msg)
        if self.op == OP_OACK:
            return "OACK" + "".join(" %s=%s" % kv for kv in self.opts)
        return "BAD %s %r" % (self.bad, self.raw[:32])


def parse(raw):
    return Packet(raw)


# ---------------------------------------------------------------- blocks

def wire_block(n, wrap_to):
    """Block number on the wire for absolute block n (n >= 0); after
    65535 it wraps to wrap_to (0, or 1 with rollover=1)."""
    if n <= 0xFFFF:
        return n
    if wrap_to == 1:
        return (n - 1) % 0xFFFF + 1
    return n & 0xFFFF


def nearest_block(base, wire):
    """The absolute block number nearest to base that is wire on the
    wire (wrapping to 0): how a client follows numbers past 65535."""
    d = (wire - base) & 0xFFFF
    return base + d if d < 0x8000 else base - (0x10000 - d)
