#!/usr/bin/env python3
"""fwcap.py -- read the TFTP side of a firmware boot from two captures.

usage: fwcap.py --server ADDR --root DIR CTRL.pcap [DATA.pcap]

CTRL.pcap holds every TFTP packet but DATA, whole (tcpdump -s 1600 with
"udp[8:2] != 3"); DATA.pcap holds only the first bytes of each DATA
packet (tcpdump -s 64 with "udp[8:2] == 3"), enough for the block
number.  Prints, per client address, in order:

  req CLIENT FILE asked=K=V,... oack=K=V,...|oack=none end=HOW
  err FROM CODE MESSAGE           an ERROR packet (FROM: server or client)
  data CLIENT FILE sent=N dup=D badbytes=B
                                  DATA packets seen, how many carried a
                                  block already sent in that transfer, and
                                  how many did not start with the file's
                                  bytes at that block's offset
  stall CLIENT FILE gaps=N seconds=S longest=S after=B next=B
                                  pauses of a second or more between
                                  the server's DATA packets of a transfer
                                  (a lost datagram waiting for a timer):
                                  how many, their sum, and the longest,
                                  with the last block before it and the
                                  first block after it

Options are lower-cased and sorted; a tsize in the OACK that equals the
size of FILE under DIR prints as tsize=SIZE, so the expected lines do
not change with the payload.  A request repeated from the same client
port (a retransmitted RRQ) is printed once.
"""
import mmap
import os
import struct
import sys


def packets(path):
    """(src, sport, dst, dport, payload, ts) for each UDP/IPv4 packet."""
    with open(path, "rb") as f:
        hdr = f.read(24)
        if len(hdr) < 24:
            return
        magic = struct.unpack("<I", hdr[:4])[0]
        if magic in (0xa1b2c3d4, 0xa1b23c4d):
            end = "<"
        else:
            end = ">"
        linktype = struct.unpack(end + "I", hdr[20:24])[0]
        while True:
            rh = f.read(16)
            if len(rh) < 16:
                return
            sec, frac, incl, orig = struct.unpack(end + "IIII", rh)
            data = f.read(incl)
            if linktype == 1:           # Ethernet
                if len(data) < 14:
                    continue
                etype = struct.unpack("!H", data[12:14])[0]
                off = 14
                if etype == 0x8100:
                    etype = struct.unpack("!H", data[16:18])[0]
                    off = 18
                if etype != 0x0800:
                    continue
                ip = data[off:]
            elif linktype == 113:       # Linux cooked
                ip = data[16:]
            else:
                continue
            if len(ip) < 20 or ip[9] != 17:
                continue
            ihl = (ip[0] & 15) * 4
            src = ".".join(str(b) for b in ip[12:16])
            dst = ".".join(str(b) for b in ip[16:20])
            udp = ip[ihl:]
            if len(udp) < 8:
                continue
            sport, dport = struct.unpack("!HH", udp[:4])
            yield src, sport, dst, dport, udp[8:], sec + frac / 1e6


STALL_S = 1.0       # a pause between DATA packets worth reporting


def opts_of(fields):
    out = {}
    for k, v in zip(fields[0::2], fields[1::2]):
        out[k.decode("latin-1").lower()] = v.decode("latin-1")
    return out


def fmt(opts, size):
    parts = []
    for k in sorted(opts):
        v = opts[k]
        if k == "tsize" and size is not None and v == str(size) and v != "0":
            v = "SIZE"
        parts.append("%s=%s" % (k, v))
    return ",".join(parts) or "-"


def main():
    args = sys.argv[1:]
    server, root = None, None
    files = []
    i = 0
    while i < len(args):
        if args[i] == "--server":
            server = args[i + 1]
            i += 2
        elif args[i] == "--root":
            root = args[i + 1]
            i += 2
        else:
            files.append(args[i])
            i += 1
    if server is None or not files:
        sys.exit(__doc__)

    events = []     # (ts, order, kind, data)
    xfers = {}      # (client, cport) -> transfer record
    for src, sport, dst, dport, p, ts in packets(files[0]):
        if len(p) < 2:
            continue
        op = struct.unpack("!H", p[:2])[0]
        if op in (1, 2) and dst == server and dport == 69:
            fields = p[2:].split(b"\0")
            name = fields[0].decode("latin-1")
            key = (src, sport)
            if key in xfers and xfers[key]["file"] == name:
                continue        # a retransmitted request
            opts = opts_of(fields[2:-1])
            size = None
            if root:
                try:
                    size = os.stat(os.path.join(root, name.lstrip("/"))).st_size
                except OSError:
                    pass
            x = {"client": src, "file": name, "asked": opts, "oack": None,
                 "size": size, "end": "none", "sent": 0, "dup": 0,
                 "seen": set(), "top": 0, "ts": ts,
                 "op": "rrq" if op == 1 else "wrq"}
            xfers[key] = x
            events.append((ts, len(events), "req", x))
        elif op == 6 and src == server:
            x = xfers.get((dst, dport))
            if x is not None and x["oack"] is None:
                x["oack"] = opts_of(p[2:].split(b"\0")[:-1])
        elif op == 5:
            code = struct.unpack("!H", p[2:4])[0] if len(p) >= 4 else -1
            msg = p[4:].split(b"\0")[0].decode("latin-1")
            who = "server" if src == server else "client"
            peer = (dst, dport) if who == "server" else (src, sport)
            x = xfers.get(peer)
            if x is not None and x["end"] == "none":
                x["end"] = "%s-error-%d" % (who, code)
            events.append((ts, len(events), "err",
                           "%s %s %d %s" % (who, peer[0], code, msg)))
    if len(files) > 1:
        for src, sport, dst, dport, p, ts in packets(files[1]):
            if src != server or len(p) < 4:
                continue
            op, blk = struct.unpack("!HH", p[:4])
            if op != 3:
                continue
            x = xfers.get((dst, dport))
            if x is None:
                continue
            if "data" not in x:
                x["data"], x["bad"] = None, 0
                x["blksize"] = int((x["oack"] or {}).get("blksize", 512))
                if root:
                    try:
                        with open(os.path.join(root, x["file"].lstrip("/")),
                                  "rb") as f:
                            x["data"] = mmap.mmap(f.fileno(), 0,
                                                  access=mmap.ACCESS_READ)
                    except (OSError, ValueError):
                        pass
            # The absolute block: the one nearest the highest so far
            # with this wire number (wrap to 0 or to 1 alike).
            top = x["top"]
            cand = (top & ~0xffff) | blk
            best = min((c for c in (cand - 0x10000, cand, cand + 0x10000)
                        if c >= 0), key=lambda c: abs(c - top))
            x["sent"] += 1
            # A pause before this block: what a stall cost, and where.
            last = x.get("last_ts")
            if last is not None and ts - last >= STALL_S:
                gap = ts - last
                x["gaps"] = x.get("gaps", 0) + 1
                x["gap_s"] = x.get("gap_s", 0.0) + gap
                if gap > x.get("longest", (0.0,))[0]:
                    x["longest"] = (gap, x["last_blk"], best)
            x["last_ts"], x["last_blk"] = ts, best
            # The captured start of the block must be the file's bytes
            # at its offset: a block resent with the wrong number (or
            # after the wrap, from the wrong place) shows here.
            if x["data"] is not None and best > 0:
                off = (best - 1) * x["blksize"]
                got = p[4:]
                if x["data"][off:off + len(got)] != got:
                    x["bad"] += 1
            if best in x["seen"]:
                x["dup"] += 1
            else:
                x["seen"].add(best)
            if best > top:
                x["top"] = best
    for ts, _, kind, d in sorted(events, key=lambda e: (e[0], e[1])):
        if kind == "req":
            oack = "none" if d["oack"] is None else fmt(d["oack"], d["size"])
            print("req %s %s %s asked=%s oack=%s end=%s" % (
                d["client"], d["op"], d["file"], fmt(d["asked"], d["size"]),
                oack, d["end"]))
        else:
            print("err " + d)
    if len(files) > 1:
        for ts, _, kind, d in sorted(events, key=lambda e: (e[0], e[1])):
            if kind == "req" and d["sent"]:
                print("data %s %s sent=%d dup=%d badbytes=%d" % (
                    d["client"], d["file"], d["sent"], d["dup"],
                    d.get("bad", 0)))
        for ts, _, kind, d in sorted(events, key=lambda e: (e[0], e[1])):
            if kind == "req" and d.get("gaps"):
                gap, after, nxt = d["longest"]
                print("stall %s %s gaps=%d seconds=%.1f longest=%.1f "
                      "after=%d next=%d" % (d["client"], d["file"],
                                            d["gaps"], d["gap_s"], gap,
                                            after, nxt))


if __name__ == "__main__":
    main()
