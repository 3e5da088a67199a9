#!/usr/bin/env python3
"""Ask a TFTP server for a list of names and print what each resolved to.

    python3 namemap.py HOST PORT NAMESFILE [--op rrq|wrq]

NAMESFILE has one name a line (Python escapes such as \\x5c allowed, so a
name may hold a backslash or a space; blank lines and lines starting
with '#' are skipped).  For each name one line is printed:

    NAME -> CONTENT       the file's content (its first line), for a read
    NAME -> ok            an upload that completed
    NAME -> ERROR CODE    the server refused

Test roots give every file distinct content (its own path), so two
servers resolved a name to the same file exactly when the lines match.
The error message is left out: servers word them differently.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rawtftp  # noqa: E402


def names(path):
    with open(path, "rb") as f:
        for line in f:
            line = line.rstrip(b"\n")
            if not line or line.startswith(b"#"):
                continue
            yield line.decode("unicode_escape").encode("latin-1")


def resolve(host, port, name, op):
    s = rawtftp.Session(host, port)
    try:
        if op == "wrq":
            rawtftp.put(s, name, b"uploaded " + name + b"\n", deadline=10)
            return "ok"
        r = rawtftp.get(s, name, deadline=10)
        return r.data.split(b"\n", 1)[0].decode("latin-1")
    except rawtftp.TftpError as e:
        return "ERROR %d" % e.code
    except rawtftp.Failure as e:
        return "FAIL %s" % e
    finally:
        s.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("names")
    p.add_argument("--op", choices=("rrq", "wrq"), default="rrq")
    a = p.parse_args()
    for n in names(a.names):
        shown = n.decode("latin-1").encode("unicode_escape").decode()
        print("%s -> %s" % (shown, resolve(a.host, a.port, n, a.op)))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
