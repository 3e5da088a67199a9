#!/usr/bin/env python3
"""vmrun.py -- run one QEMU boot under a deadline, its serial console on
stdio, copied to a file; optionally type into the console (U-Boot).

usage: vmrun.py --console FILE --timeout S [--expect RE --send TEXT]...
                [--result FILE] -- qemu-system-x86_64 ARGS...

The console is searched for the lines the test initrd prints:
  OWLFW-MARKER: ...          /init runs (the kernel and initrd arrived)
  OWLFW-CHECKSUM: good|BAD   the verdict on /padding
  OWLFW-POWEROFF             it is about to power off
Each --expect RE (a Python regex on the console text since the previous
match) is waited for in turn, then its --send TEXT is typed one character
at a time ("\\n" is Enter).  After OWLFW-POWEROFF QEMU gets 20 s to exit
before it is terminated; at the deadline it is killed.

Writes key=value lines to --result (and stdout): marker_s, verdict_s,
exit_s (seconds from the start of QEMU), checksum (good, bad, none),
exit (qemu's status, or "killed"), timeout (0/1).  Exit status 0 when
the marker and a good checksum were seen, 1 otherwise.
"""
import os
import re
import select
import signal
import subprocess
import sys
import time


def main():
    args = sys.argv[1:]
    if "--" not in args:
        sys.exit(__doc__)
    cmd = args[args.index("--") + 1:]
    args = args[:args.index("--")]
    console, timeout, result = None, 120.0, None
    dialog = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--console":
            console = args[i + 1]
        elif a == "--timeout":
            timeout = float(args[i + 1])
        elif a == "--result":
            result = args[i + 1]
        elif a == "--expect":
            dialog.append([args[i + 1], None])
        elif a == "--send":
            if not dialog or dialog[-1][1] is not None:
                sys.exit("--send must follow an --expect")
            dialog[-1][1] = args[i + 1].replace("\\n", "\r")
        else:
            sys.exit("unknown argument " + a)
        i += 2
    if console is None:
        sys.exit(__doc__)

    out = open(console, "wb")
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, start_new_session=True)
    fd = p.stdout.fileno()
    os.set_blocking(fd, False)
    text = ""           # the whole console, for the OWLFW lines
    pending = ""        # console since the last dialog match
    typing = ""         # what is left to type
    next_key = 0.0
    res = {"marker_s": "", "verdict_s": "", "exit_s": "",
           "checksum": "none", "exit": "", "timeout": "0"}
    poweroff_at = None
    deadline = t0 + timeout
    killed = False
    while True:
        now = time.monotonic()
        if now >= deadline:
            res["timeout"] = "1"
            break
        if poweroff_at is not None and now - poweroff_at > 20:
            break
        wait = min(deadline - now, 0.05 if typing else 0.5)
        r, _, _ = select.select([fd], [], [], max(wait, 0))
        if r:
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                chunk = b""
            if not chunk:
                p.wait()
                break
            out.write(chunk)
            out.flush()
            s = chunk.decode("latin-1")
            text += s
            pending += s
            now = time.monotonic() - t0
            if not res["marker_s"] and "OWLFW-MARKER:" in text:
                res["marker_s"] = "%.1f" % now
            if not res["verdict_s"]:
                m = re.search(r"OWLFW-CHECKSUM: (good|BAD)", text)
                if m:
                    res["verdict_s"] = "%.1f" % now
                    res["checksum"] = m.group(1).lower()
            if "KVM internal error" in s:
                break           # QEMU stops the VM and waits: give up
            if poweroff_at is None and "OWLFW-POWEROFF" in text:
                poweroff_at = time.monotonic()
            if len(text) > 1 << 20:
                text = text[-(1 << 19):]
        while dialog and not typing:
            m = re.search(dialog[0][0], pending)
            if not m:
                break
            pending = pending[m.end():]
            typing = dialog.pop(0)[1] or ""
        if typing and time.monotonic() >= next_key:
            # One key at a time: the UART has a 16-byte FIFO and a
            # firmware busy loading drops what does not fit.
            try:
                p.stdin.write(typing[0].encode())
                p.stdin.flush()
            except BrokenPipeError:
                typing = ""
            typing = typing[1:]
            next_key = time.monotonic() + 0.01
    if p.poll() is None:
        killed = True
        os.killpg(p.pid, signal.SIGTERM)
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    res["exit_s"] = "%.1f" % (time.monotonic() - t0)
    res["exit"] = "killed" if killed else str(p.returncode)
    lines = "".join("%s=%s\n" % kv for kv in res.items())
    sys.stdout.write(lines)
    if result:
        with open(result, "w") as f:
            f.write(lines)
    ok = res["marker_s"] and res["checksum"] == "good"
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
