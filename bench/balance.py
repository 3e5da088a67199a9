#!/usr/bin/env python3
"""bench/balance.py -- how new transfers spread over owltftpd's workers.

usage: bench/balance.py [--owltftpd PATH] [--owlctl PATH] [--workers W]
                        [--clients "4 8 16"] [--reps R] [--one-address]

Starts owltftpd on 127.0.0.1 (a free port, its own root and control
socket under a temporary directory), then, R times per client count N,
sends N read requests at once, each from its own socket bound to its own
loopback address (127.0.0.2 ... 127.0.0.N+1; --one-address: all from
127.0.0.2, different ports), and reads which worker started each from
the per-worker rrq counters (owlctl stats).  Prints, per N, how many
batches put more than ceil(N/W) + 1 on one worker (issue 14's target),
the worst such count, and the first batches' split.  Measures, asserts
nothing; ends the server it started, by PID.  Loopback only, bounded:
N <= 250 requests per batch, R batches.
"""
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def arg(name, default):
    if name in sys.argv:
        return sys.argv[sys.argv.index(name) + 1]
    return default


owltftpd = arg("--owltftpd", os.path.join(top, "build/src/owltftpd"))
owlctl = arg("--owlctl", os.path.join(top, "build/src/owlctl"))
workers = int(arg("--workers", "2"))
counts = [min(int(n), 250) for n in arg("--clients", "4 8 16").split()]
reps = int(arg("--reps", "20"))
one_address = "--one-address" in sys.argv


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def per_worker(ctl):
    out = subprocess.run([owlctl, "-s", ctl, "-r", "stats"],
                         capture_output=True, text=True, timeout=10).stdout
    w = {}
    for line in out.splitlines():
        key, _, val = line.partition("=")
        p = key.split(".")
        if p[0] == "worker" and len(p) == 3 and p[2] in ("rrq", "slot"):
            w.setdefault(p[1], {})[p[2]] = int(val)
    return {v["slot"]: v.get("rrq", 0) for v in w.values() if "slot" in v}


def batch(n, port, ctl):
    socks = []
    for i in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.2" if one_address else "127.0.0.%d" % (2 + i), 0))
        socks.append(s)
    before = per_worker(ctl)
    for s in socks:
        s.sendto(b"\0\1f.bin\0octet\0", ("127.0.0.1", port))
    time.sleep(0.3)         # every request read, none answered by us
    after = per_worker(ctl)
    for s in socks:
        s.close()
    return [after[k] - before.get(k, 0) for k in sorted(after)]


def main():
    tmp = tempfile.mkdtemp(prefix="owl-balance.")
    os.mkdir(os.path.join(tmp, "root"))
    with open(os.path.join(tmp, "root", "f.bin"), "wb") as f:
        f.write(os.urandom(1 << 20))
    port, ctl = free_port(), os.path.join(tmp, "ctl.sock")
    with open(os.path.join(tmp, "c.conf"), "w") as f:
        f.write('listen = [ "127.0.0.1:%d" ];\nroot = "%s/root";\n'
                'workers = %d;\ncontrol_socket = "%s";\n'
                'pid_file = "%s/pid";\nlog_level = "warning";\n'
                % (port, tmp, workers, ctl, tmp))
    srv = subprocess.Popen([owltftpd, "-F", "-c", os.path.join(tmp, "c.conf")],
                           stderr=subprocess.DEVNULL)
    try:
        for _ in range(50):
            if os.path.exists(ctl) and per_worker(ctl):
                break
            time.sleep(0.1)
        for n in counts:
            cap = math.ceil(n / workers) + 1
            over, worst, splits = 0, 0, []
            for _ in range(reps):
                c = batch(n, port, ctl)
                splits.append(c)
                over += max(c) > cap
                worst = max(worst, max(c))
                time.sleep(0.2)
            print("workers=%d clients=%d %s: %d of %d batches put more than "
                  "%d on one worker; worst %d; first splits %s" % (
                      workers, n, "one address" if one_address else
                      "distinct addresses", over, reps, cap, worst,
                      splits[:5]))
    finally:
        srv.send_signal(signal.SIGTERM)
        srv.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
