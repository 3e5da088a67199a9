#!/usr/bin/env python3
"""Write the seed corpora of the fuzz harnesses (tests/fuzz/corpus/<harness>/).

Run from anywhere: python3 tests/fuzz/mkcorpus.py.  It rewrites the
generated seeds and leaves any other file in the corpus directories alone,
so a seed added by hand (or kept from a fuzzing run) stays.  The requests
marked "captured" are byte for byte what the named client sent to a UDP
socket on 127.0.0.1 (Debian 12 packages).
"""

import os
import re
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "corpus")

RRQ, WRQ, DATA, ACK, ERROR, OACK = 1, 2, 3, 4, 5, 6


def z(*strings):
    """NUL-terminated strings, concatenated."""
    out = b""
    for s in strings:
        out += (s.encode() if isinstance(s, str) else s) + b"\0"
    return out


def req(op, file, mode, *pairs):
    return struct.pack(">H", op) + z(file, mode, *pairs)


# Requests captured from real clients.
CAPTURED = {
    "curl-rrq": req(RRQ, "pxelinux.0", "octet", "tsize", "0",
                    "blksize", "512", "timeout", "1"),
    "curl-rrq-blksize": req(RRQ, "boot/vmlinuz", "octet", "tsize", "0",
                            "blksize", "1468", "timeout", "1"),
    "curl-wrq": req(WRQ, "up/hostname", "octet", "tsize", "3",
                    "blksize", "512", "timeout", "1"),
    "tftp-hpa-rrq": req(RRQ, "grub/grub.cfg", "octet"),
    "tftp-hpa-netascii": req(RRQ, "motd.txt", "netascii"),
    "tftp-hpa-wrq": req(WRQ, "upload.bin", "netascii"),
    "atftp-rrq-opts": req(RRQ, "images/disk.img", "octet", "tsize", "0",
                          "timeout", "3", "blksize", "8192",
                          "windowsize", "16"),
    "atftp-wrq": req(WRQ, "in/file.bin", "octet", "tsize", "3"),
    "busybox-rrq": req(RRQ, "EFI/BOOT/BOOTX64.EFI", "octet",
                       "blksize", "1024", "tsize", "0"),
}

# Hand-made requests: firmware quirks and edge values.
MADE = {
    "uefi-padded": req(RRQ, "bootx64.efi", "octet", "blksize", "1468")
    + b"\0\0\0",
    "uefi-trailing-junk": req(RRQ, "grubx64.efi\x01\x7f", "octet"),
    "pxe-backslash": req(RRQ, "pxelinux.cfg\\default", "octet",
                         "tsize", "0"),
    "utimeout-rollover": req(RRQ, "f", "octet", "utimeout", "250000",
                             "rollover", "1", "windowsize", "64"),
    "upper-repeat": req(RRQ, "f", "OCTET", "BLKSIZE", "65464",
                        "blksize", "8", "WindowSize", "65535"),
    "bad-values": req(RRQ, "f", "octet", "blksize", "7",
                      "timeout", "256", "windowsize", "0"),
    "huge-number": req(WRQ, "f", "octet", "tsize",
                       "99999999999999999999"),
    "unknown-opt": req(RRQ, "f", "mail", "multicast", "", "x", "y"),
    "multicast": req(RRQ, "f", "octet", "multicast", "", "blksize", "1024",
                     "tsize", "0"),
    "many-opts": req(RRQ, "f", "octet",
                     *[s for i in range(34) for s in ("o%d" % i, str(i))]),
    "dotdot": req(RRQ, "../../etc/passwd", "octet"),
    "no-nul": b"\0\1file\0octet",
}

OTHER_PKTS = {
    "data-short": struct.pack(">HH", DATA, 1) + b"hello, world\n",
    "data-512": struct.pack(">HH", DATA, 65535) + bytes(range(256)) * 2,
    "ack": struct.pack(">HH", ACK, 7),
    "ack-trailing": struct.pack(">HH", ACK, 0) + b"\0junk",
    "error": struct.pack(">HH", ERROR, 1) + z("File not found"),
    "error-format": struct.pack(">HH", ERROR, 0) + z("%n%s%x%n"),
    "error-no-nul": struct.pack(">HH", ERROR, 8) + b"Option negotiation",
    "error-empty": struct.pack(">HH", ERROR, 3),
    "oack": struct.pack(">H", OACK) + z("blksize", "1468", "tsize",
                                        "1234567", "windowsize", "16"),
    "oack-padded": struct.pack(">H", OACK) + z("timeout", "1") + b"\0\0",
    "bad-opcode": struct.pack(">H", 7) + b"xx",
    "short": b"\0",
}


def opt_seed(op, blksize_max, windowsize_max, max_upload, fsize, strings):
    """fuzz_opt input: the 12-byte header, then NUL-separated strings."""
    flags = 1 if op == WRQ else 0
    hdr = struct.pack(">BHHI", flags, blksize_max, windowsize_max,
                      max_upload) + fsize.to_bytes(3, "big")
    return hdr + b"\0".join(s.encode() for s in strings)


def req_strings(pkt):
    return [s.decode("latin-1") for s in pkt[2:].rstrip(b"\0").split(b"\0")]


def write(harness, name, data):
    d = os.path.join(CORPUS, harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    for name, pkt in list(CAPTURED.items()) + list(MADE.items()) + \
            list(OTHER_PKTS.items()):
        write("fuzz_pkt", name, pkt)

    limits = [(1468, 16, 0, 4096), (65464, 64, 1 << 20, 0xffffff),
              (512, 1, 3, 1)]
    for i, (name, pkt) in enumerate(list(CAPTURED.items()) +
                                    list(MADE.items())):
        if pkt[1] not in (RRQ, WRQ) or name == "no-nul":
            continue
        b, w, u, s = limits[i % len(limits)]
        write("fuzz_opt", name, opt_seed(pkt[1], b, w, u, s,
                                         req_strings(pkt)))
    edges = [
        ("blksize", ["7", "8", "512", "1468", "65464", "65465",
                     "000000000000000000001", "+1", ""]),
        ("windowsize", ["0", "1", "65535", "65536"]),
        ("timeout", ["0", "1", "255", "256"]),
        ("utimeout", ["9999", "10000", "255000000", "255000001"]),
        ("rollover", ["0", "1", "2"]),
        ("tsize", ["0", "18446744073709551615", "18446744073709551616"]),
    ]
    for opt, values in edges:
        strings = ["file", "octet"]
        for v in values:
            strings += [opt, v]
        write("fuzz_opt", "edge-" + opt,
              opt_seed(WRQ, 1468, 16, 1 << 20, 1, strings[:4]))
        write("fuzz_opt", "edge-" + opt + "-all",
              opt_seed(RRQ, 1468, 16, 0, 1, strings))
    write("fuzz_opt", "utimeout-after-timeout",
          opt_seed(RRQ, 1432, 8, 0, 99, ["f", "octet", "timeout", "5",
                                         "utimeout", "10000"]))
    write("fuzz_opt", "zero-limits",
          opt_seed(WRQ, 0, 0, 0, 0, ["f", "octet", "blksize", "65464",
                                     "windowsize", "100"]))

    for name, text in {
        "lines": b"\x07hello\nworld\n",
        "crlf-wire": b"\x01line one\r\nline two\r\n",
        "cr-nul": b"\x02a\r\0b\r\0\r\n",
        "cr-at-end": b"\x03trailing\r",
        "cr-cr-lf": b"\x04x\r\r\ny\r\rz",
        "binary": b"\x05" + bytes(range(32)) + b"\r\n\r\0\n\r",
    }.items():
        write("fuzz_netascii", name, text)

    def remap_seed(flags, name, client, *rules):
        """fuzz_remap input: flags, name, client, (regex, repl, flags)..."""
        strings = [name, client]
        for regex, repl, fl in rules:
            strings += [regex, repl, chr(fl)]
        return bytes([flags]) + z(*strings)

    RW = 3
    for name, seed in {
        "pxe-mac": remap_seed(0x0c, "pxelinux.cfg/01-AA-bb-cc-dd-ee-ff",
                              "192.0.2.7"),
        "uefi-junk": remap_seed(0x0c, "EFI\\BOOT\\BOOTX64.EFI\x01\x7f",
                                "2001:db8::1"),
        "tftpboot-prefix": remap_seed(0x1c, "/tftpboot//Images/A.IMG",
                                      "10.0.0.1"),
        "dotdot": remap_seed(0x0c, "boot/../../etc/shadow", "::1"),
        "upload": remap_seed(0x0d, "xxfirmware.bin", "198.51.100.2"),
        "upload-exe": remap_seed(0x0d, "setup.EXE", "198.51.100.2"),
        "no-client": remap_seed(0x0e, "abcabd", ""),
        "rule-rewrite": remap_seed(0x0c, "Boot/Kernel", "192.0.2.9",
                                   ("^boot/(.*)$", "os/\\i/\\1", RW | 8),
                                   ("[A-Z]", "_", RW | 32)),
        "rule-deny": remap_seed(0x01, "secret/key", "192.0.2.9",
                                ("^secret/", "", RW | 4)),
        "rule-empty-match": remap_seed(0x00, "aaa", "c",
                                       ("b*", "<\\0>", RW | 32)),
        "rule-bad": remap_seed(0x00, "x", "c", ("(", "y", RW),
                               ("x", "\\q", RW), ("x", "\\9", RW),
                               ("x", "y", 0x08), ("x", "", 0x40 | RW)),
        "rule-last": remap_seed(0x00, "abc", "c", ("a", "b", RW | 16),
                                ("b", "c", RW)),
        "rule-bound": remap_seed(0x00, "a" * 40, "c",
                                 ("(a|aa){2,20}", "\\1\\1\\1", RW | 32)),
    }.items():
        write("fuzz_remap", name, seed)

    sample = os.path.join(TOP, "conf", "owltftpd.conf")
    with open(sample, "rb") as f:
        text = f.read()
    write("fuzz_conf", "sample.conf", text)
    keys = re.findall(rb"^#([a-z_]+) = (.*)$", text, re.M)
    write("fuzz_conf", "sample-uncommented.conf",
          re.sub(rb"^#([a-z_]+ = )", rb"\1", text, flags=re.M))
    for key, value in keys:
        write("fuzz_conf", "key-" + key.decode(),
              key + b" = " + value + b"\n")
        # The same key from the command line: text NUL key NUL value.
        write("fuzz_conf", "set-" + key.decode(),
              b"\0" + key + b"\0" + value.rstrip(b";").strip(b'"'))
    for name, text in {
        "listen-list": b'listen = [ "127.0.0.1:6969", "[::1]", "::" ];\n',
        "int64": b"max_upload_size = 8589934592L;\nport = 0x45;\n",
        "too-big-int": b"max_upload_size = 8589934592;\n",
        "wrong-type": b'port = "69";\nchroot = 1;\n',
        "unknown-key": b"no_such_key = 1;\n",
        "group": b"tftp = { root = \"/srv\"; };\n",
        "multicast": b'multicast = { enable = true; address_range ='
                     b' "239.255.0.1-239.255.0.9"; port = 1758; ttl = 4;'
                     b' interface = "eth0"; };\n',
        "multicast-bad": b'multicast = { address_range = "10.0.0.1";'
                         b' enabled = 1; };\nmulticast = 1;\n',
        "set-multicast": b"\0multicast.port\0" b"1759",
        "syntax-error": b'root = "/srv/tftp"\nport = ;\n',
        "comments": b"/* c */ // c\n# c\nworkers = 2; /* unterminated",
        "octal": b'umask = "0777";\ncontrol_mode = "8";\n',
        "escapes": b'root = "/srv/\\x01\\"q\\\\";\n',
        "set-listen": b'listen = "0.0.0.0";\0listen\0[::1]:69',
        "set-missing-value": b"\0root",
        "acl": b'read_acl = [ "allow 192.0.2.0/24", "allow 2001:db8::/32",'
               b' "deny all" ];\nwrite_acl = "deny all";\n',
        "acl-bad": b'read_acl = [ "allow 192.0.2.0/33", "permit ::1" ];\n',
        "remap": b'remap = (\n'
                 b'  { match = "^/?pxelinux\\\\.cfg/(.*)";'
                 b' replace = "pxe/cfg/\\\\1"; op = "read"; },\n'
                 b'  { match = "\\\\.\\\\."; action = "deny"; },\n'
                 b'  { match = "^(.*)$"; replace = "clients/\\\\i/\\\\1";'
                 b' op = "write"; last = true; icase = true;'
                 b' global = false; }\n);\n'
                 b"remap_strip_nonprint = true;\nremap_lowercase = true;\n",
        "remap-bad": b'remap = ( { match = "("; }, { replace = "x"; },'
                     b' { match = "a"; replace = "\\\\9"; op = "up"; } );\n',
        "origins": b'origins = (\n'
                   b'  { prefix = "/"; url = "http://127.0.0.1:8080/tftp"; },\n'
                   b'  { prefix = "pxelinux.cfg/"; url = "http://[::1]/cfg/";'
                   b' dynamic = true; ttl = 5; max_bytes = 65536; }\n);\n'
                   b'cache_dir = "/var/cache/owltftpd";\n'
                   b'cache_max_bytes = 1073741824;\ncache_ttl = 300;\n'
                   b'origin_timeout_ms = 1500;\n',
        "origins-bad": b'origins = ( { prefix = "a/../b"; url = "ftp://x"; },'
                       b' { url = "http://"; ttl = -5; colour = 1; },'
                       b' "x", { prefix = "/"; url = "https://h/"; } );\n',
    }.items():
        write("fuzz_conf", name, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
