#!/usr/bin/env python3
"""Summarize a bench/compare.sh results directory.

Reads runs.jsonl (one owlbench JSON line per run, tagged with server, file,
rep), hold.jsonl and strace.jsonl when present, and writes summary.md,
summary.json and gnuplot charts (PNG) next to them.
"""
import json
import os
import re
import statistics
import subprocess
import sys

SERVERS = ["reflector", "owltftpd", "tftpd-hpa", "atftpd", "dnsmasq"]
PEERS = ["tftpd-hpa", "atftpd", "dnsmasq"]
FILES = {"f1m": "1 MiB", "f32m": "32 MiB", "s64k": "64 KiB x256"}
FILE_BYTES = {"f1m": 1048576, "f32m": 33554432, "s64k": 65536}


def load(path):
    rows = []
    if os.path.exists(path):
        with open(path) as fp:
            for line in fp:
                line = line.strip()
                if line:
                    try:
                        rows.append(json.loads(line))
                    except ValueError:
                        pass
    return rows


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, nd=0):
    if x is None:
        return "–"
    if nd == 0:
        return f"{x:,.0f}"
    return f"{x:,.{nd}f}"


def cell_key(r):
    return (r.get("op", "RRQ"), r["file"], r["clients"], r["blksize"], r["windowsize"])


def main(d):
    runs = load(os.path.join(d, "runs.jsonl"))
    hold = load(os.path.join(d, "hold.jsonl"))
    strace = load(os.path.join(d, "strace.jsonl"))
    machine = open(os.path.join(d, "machine.txt")).read() if os.path.exists(
        os.path.join(d, "machine.txt")) else ""

    cells = {}
    order = []
    for r in runs:
        if "clients" not in r:
            continue
        k = cell_key(r)
        if k not in cells:
            cells[k] = {}
            order.append(k)
        cells[k].setdefault(r["server"], []).append(r)

    seen = {s for v in cells.values() for s in v}
    # owltftpd's variants (owltftpd-uring, owltftpd-1worker...) after it
    servers = [s for s in SERVERS if s in seen]
    variants = sorted(s for s in seen if s not in SERVERS)
    if "owltftpd" in servers:
        i = servers.index("owltftpd") + 1
        servers[i:i] = variants
    else:
        servers += variants
    summary = {"machine": machine, "cells": []}
    for k in order:
        op, f, c, b, w = k
        entry = {"op": op, "file": f, "clients": c, "blksize": b, "windowsize": w,
                 "servers": {}}
        for s, rs in cells[k].items():
            entry["servers"][s] = {
                "runs": len(rs),
                "mbps": med([r.get("mbps") for r in rs]),
                "tps": med([r.get("tps") for r in rs]),
                "cpu_per_gb": med([r.get("server_cpu_per_gb") for r in rs
                                   if r.get("server_cpu_per_gb", -1) >= 0]),
                "own_cpu_per_gb": med([r.get("own_cpu_per_gb") for r in rs]),
                "own_cpu_frac": med([r["own_cpu"] / r["elapsed"] for r in rs
                                     if r.get("elapsed")]),
                "p50_ms": med([r.get("p50_ms") for r in rs]),
                "p99_ms": med([r.get("p99_ms") for r in rs]),
                "failed": sum(r.get("failed", 0) for r in rs),
                "retrans": med([r.get("retrans") for r in rs]),
                "req_retrans": med([r.get("req_retrans") for r in rs]),
                "req_retrans_max": max([r.get("req_retrans", 0) for r in rs]),
                "no_windowsize": sum(r.get("no_windowsize", 0) for r in rs),
                "started": sum(r.get("started", 0) for r in rs),
                "no_blksize": sum(r.get("no_blksize", 0) for r in rs),
                "died": sum(r.get("server_died", 0) for r in rs),
                "upload_bad": sum(r.get("upload_bad", 0) for r in rs),
            }
        sv = entry["servers"]
        metric = "tps" if f == "s64k" else "mbps"
        owl = sv.get("owltftpd", {}).get(metric)
        ceil = sv.get("reflector", {}).get(metric)
        best, bestname = None, None
        for p in PEERS:
            v = sv.get(p, {}).get(metric)
            if v is not None and (best is None or v > best):
                best, bestname = v, p
        entry["metric"] = metric
        entry["owl_vs_ceiling"] = owl / ceil if owl and ceil else None
        entry["owl_vs_best_peer"] = owl / best if owl and best else None
        entry["best_peer"] = bestname
        summary["cells"].append(entry)

    # strace: syscalls per DATA block
    summary["strace"] = []
    for r in strace:
        st = os.path.join(d, r.get("strace_file", ""))
        calls = None
        top = []
        if os.path.exists(st):
            for line in open(st):
                m = re.match(r"\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(\d+)?\s*total", line)
                if m:
                    calls = int(m.group(1))
                m2 = re.match(r"\s*([\d.]+)\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?([a-z_0-9]+)\s*$", line)
                if m2 and m2.group(3) != "total":
                    top.append((int(m2.group(2)), m2.group(3)))
        top.sort(reverse=True)
        blk = r.get("blksize", 1468) or 512
        # blocks per 1 MiB file at the granted blksize (the bench asks 1468)
        granted = 512 if r.get("no_blksize") else blk
        blocks = r.get("ok", 0) * (1048576 // granted + 1)
        win = 1 if r.get("no_windowsize") else r.get("windowsize_req", 1)
        summary["strace"].append({
            "server": r["server"], "windowsize_req": r.get("windowsize_req"),
            "windowsize_granted": win,
            "ok": r.get("ok"), "failed": r.get("failed"), "calls": calls,
            "data_blocks": blocks,
            "per_block": calls / blocks if calls and blocks else None,
            "top": [f"{n} {name}" for n, name in top[:6]],
        })
    summary["hold"] = hold
    summary["syscalls"] = syscall_rows(load(os.path.join(d, "syscalls.jsonl")))
    summary["stopwait"] = stopwait_rows(summary["cells"])

    with open(os.path.join(d, "summary.json"), "w") as fp:
        json.dump(summary, fp, indent=1)

    md = []
    md.append("### Machine\n")
    md.append("```\n" + machine.strip() + "\n```\n")
    md.append("### Throughput (median of the repetitions)\n")
    md.append("MB/s (10^6 bytes per second, verified payload); for the 64 KiB many-files "
              "case transfers/s. `ceil` is owlbench's reflector. "
              "`w→1`: the server ignored windowsize (no windowsize in most OACKs) and ran stop-and-wait. "
              "`F n`: n failed transfers over all repetitions. `†`: the server died.\n")
    hdr = "| op | file | clients | blksize | win | " + " | ".join(
        "ceil" if s == "reflector" else s for s in servers) + " | owl/ceil | owl/best peer |"
    md.append(hdr)
    md.append("|" + "---|" * (5 + len(servers) + 2))
    for e in summary["cells"]:
        row = [e["op"], FILES.get(e["file"], e["file"]), str(e["clients"]),
               str(e["blksize"]), str(e["windowsize"])]
        for s in servers:
            v = e["servers"].get(s)
            if v is None:
                row.append("n/a")
                continue
            t = fmt(v[e["metric"]], 0 if e["metric"] == "mbps" else 0)
            if e["metric"] == "tps":
                t += "/s"
            # most transfers ran without the window: the server ignores it
            if e["windowsize"] > 1 and v["no_windowsize"] * 2 > max(v["started"], 1):
                t += " w→1"
            if v["failed"]:
                t += f" F{v['failed']}"
            if v["died"]:
                t += " †"
            row.append(t)
        row.append(fmt(e["owl_vs_ceiling"], 2))
        row.append(fmt(e["owl_vs_best_peer"], 2) + (f" ({e['best_peer']})" if e["best_peer"] else ""))
        md.append("| " + " | ".join(row) + " |")
    md.append("")
    md.append("### Server CPU seconds per GB (median; cgroup accounting)\n")
    md.append("| op | file | clients | blksize | win | " + " | ".join(
        "ceil" if s == "reflector" else s for s in servers) + " | owlbench own |")
    md.append("|" + "---|" * (5 + len(servers) + 1))
    for e in summary["cells"]:
        row = [e["op"], FILES.get(e["file"], e["file"]), str(e["clients"]),
               str(e["blksize"]), str(e["windowsize"])]
        for s in servers:
            v = e["servers"].get(s)
            row.append(fmt(v["cpu_per_gb"], 2) if v else "n/a")
        own = e["servers"].get("owltftpd", {})
        row.append(f"{fmt(own.get('own_cpu_per_gb'), 2)} ({fmt((own.get('own_cpu_frac') or 0) * 100)}% core)"
                   if own else "–")
        md.append("| " + " | ".join(row) + " |")
    md.append("")
    many = [e for e in summary["cells"] if e["clients"] == 512]
    if many:
        md.append("### Requests the clients had to retransmit (512 clients start at once; "
                  "median per run, max over runs)\n")
        md.append("| cell | " + " | ".join(servers) + " |")
        md.append("|" + "---|" * (1 + len(servers)))
    for e in many:
        if e["clients"] != 512:
            continue
        row = [f"{e['op']} {FILES.get(e['file'], e['file'])} b{e['blksize']} w{e['windowsize']}"]
        for s in servers:
            v = e["servers"].get(s)
            row.append(f"{fmt(v['req_retrans'])} (max {v['req_retrans_max']})" if v else "n/a")
        md.append("| " + " | ".join(row) + " |")
    md.append("")
    if summary["strace"]:
        md.append("### Syscalls per DATA block (separate run under `strace -c -f`: "
                  "1 MiB, 128 clients, blksize 1468, 128 transfers; not a speed figure)\n")
        md.append("| server | windowsize asked | granted | transfers ok | syscalls | DATA blocks | per block | top syscalls |")
        md.append("|---|---|---|---|---|---|---|---|")
        for t in summary["strace"]:
            md.append(f"| {t['server']} | {t['windowsize_req']} | {t['windowsize_granted']} | "
                      f"{t['ok']} | {fmt(t['calls'])} | {fmt(t['data_blocks'])} | "
                      f"{fmt(t['per_block'], 2)} | {', '.join(t['top'][:4])} |")
        md.append("")
    if summary["stopwait"]:
        md.append("### Stop-and-wait A/B (issue 14): each owltftpd against dnsmasq\n")
        md.append("Ratios of medians from the tables above. `2nd worker`: CPU-s/GB with 2 "
                  "workers over the same backend with 1 (target ≤ 1.10). Targets: "
                  "throughput ≥ 1.20× dnsmasq, CPU-s/GB ≤ 0.85× dnsmasq.\n")
        md.append("| clients | server | MB/s | × dnsmasq | CPU-s/GB | × dnsmasq | 2nd worker |")
        md.append("|---|---|---|---|---|---|---|")
        for r in summary["stopwait"]:
            md.append(f"| {r['clients']} | {r['server']} | {fmt(r['mbps'])} | {fmt(r['thr_ratio'], 2)} | "
                      f"{fmt(r['cpu'], 2)} | {fmt(r['cpu_ratio'], 2)} | {fmt(r['second_worker'], 2)} |")
        md.append("")
    if summary["syscalls"]:
        md.append("### System calls per DATA block (perf stat on the server's processes; "
                  "1 MiB, blksize 1468, windowsize 1, 4 transfers per client; not a speed run)\n")
        md.append("`owl`: owltftpd's own counters per DATA block (owlctl stats): recvmmsg, "
                  "sendmmsg, file reads, io_uring_enter.\n")
        md.append("| server | clients | transfers ok | DATA blocks | syscalls | per block | top | owl: recv / send / read / uring |")
        md.append("|---|---|---|---|---|---|---|---|")
        for t in summary["syscalls"]:
            md.append(f"| {t['server']} | {t['clients']} | {t['ok']} | {fmt(t['blocks'])} | "
                      f"{fmt(t['calls'])} | {fmt(t['per_block'], 2)} | {', '.join(t['top'])} | "
                      f"{t['owl'] or '–'} |")
        md.append("")
    if hold:
        md.append("### Concurrent transfers held (1 MiB, windowsize 1, 20 s)\n")
        md.append("| server | clients | ok | failed | cut at deadline | request retransmits | MB/s |")
        md.append("|---|---|---|---|---|---|---|")
        for h in hold:
            md.append(f"| {h.get('server')} | {h.get('clients')} | {h.get('ok')} | {h.get('failed')} | "
                      f"{h.get('cut')} | {h.get('req_retrans')} | {fmt(h.get('mbps'))} |")
        md.append("")
    with open(os.path.join(d, "summary.md"), "w") as fp:
        fp.write("\n".join(md) + "\n")
    print("\n".join(md))
    charts(d, summary, servers)


def syscall_rows(rows):
    out = []
    for r in rows:
        perf = r.get("perf", {})
        blk = r.get("blksize") or 1468
        blocks = r.get("ok", 0) * (FILE_BYTES.get(r.get("file"), 1048576) // blk + 1)
        calls = perf.get("sys_enter")
        top = sorted(((v, k.replace("sys_enter_", "")) for k, v in perf.items()
                      if k != "sys_enter"), reverse=True)
        owl = ""
        b, a = r.get("owl_before") or {}, r.get("owl_after") or {}
        if a.get("data_out") is not None and b.get("data_out") is not None:
            n = a["data_out"] - b["data_out"]
            def per(k):
                if a.get(k) is None or b.get(k) is None or not n:
                    return "–"
                return f"{(a[k] - b[k]) / n:.3f}"
            owl = " / ".join(per(k) for k in ("recvmmsg_calls", "sendmmsg_calls",
                                              "file_reads", "uring_enters"))
        out.append({"server": r["server"], "clients": r.get("clients"), "ok": r.get("ok"),
                    "blocks": blocks, "calls": calls,
                    "per_block": calls / blocks if calls and blocks else None,
                    "top": [f"{k} {v / blocks:.2f}" for v, k in top[:4] if v and blocks],
                    "owl": owl})
    return out


def stopwait_rows(cells):
    out = []
    for e in cells:
        if e["op"] != "RRQ" or e["windowsize"] != 1 or e["file"] != "f1m":
            continue
        sv = e["servers"]
        dns = sv.get("dnsmasq", {})
        for s in sorted(sv):
            if not s.startswith("owltftpd"):
                continue
            v = sv[s]
            one = None
            if not s.endswith("-1worker"):
                one = sv.get(s + "-1worker", {}).get("cpu_per_gb")
            out.append({
                "clients": e["clients"], "server": s, "mbps": v.get("mbps"),
                "cpu": v.get("cpu_per_gb"),
                "thr_ratio": v["mbps"] / dns["mbps"] if v.get("mbps") and dns.get("mbps") else None,
                "cpu_ratio": (v["cpu_per_gb"] / dns["cpu_per_gb"]
                              if v.get("cpu_per_gb") and dns.get("cpu_per_gb") else None),
                "second_worker": v["cpu_per_gb"] / one if one and v.get("cpu_per_gb") else None,
            })
    return out


def charts(d, summary, servers):
    combos = {}
    for e in summary["cells"]:
        if e["op"] != "RRQ":
            continue
        combos.setdefault((e["file"], e["blksize"], e["windowsize"]), []).append(e)
    for (f, b, w), es in combos.items():
        clients = sorted({e["clients"] for e in es})
        if len(clients) < 2:
            continue
        metric = es[0]["metric"]
        dat = os.path.join(d, f"chart-{f}-b{b}-w{w}.dat")
        with open(dat, "w") as fp:
            fp.write("# clients " + " ".join(f"{s}_{m}" for s in servers for m in ("thr", "cpu")) + "\n")
            for c in clients:
                e = next(x for x in es if x["clients"] == c)
                vals = []
                for s in servers:
                    v = e["servers"].get(s, {})
                    vals.append(fmt_num(v.get(metric)))
                    vals.append(fmt_num(v.get("cpu_per_gb")))
                fp.write(f"{c} " + " ".join(vals) + "\n")
        unit = "transfers/s" if metric == "tps" else "MB/s"
        for kind, col0, ylabel in (("throughput", 2, unit), ("cpu", 3, "server CPU-s per GB")):
            png = os.path.join(d, f"{kind}-{f}-b{b}-w{w}.png")
            plots = []
            for i, s in enumerate(servers):
                plots.append(f"'{dat}' using 1:{col0 + 2 * i} with linespoints lw 2 title '{s}'")
            title = f"{FILES.get(f, f)}, blksize {b}, windowsize {w}: {ylabel}"
            script = (
                "set terminal pngcairo size 720,420 font 'sans,10'\n" if has_cairo() else
                "set terminal png size 720,420\n")
            script += (f"set output '{png}'\nset title \"{title}\"\nset logscale x 2\n"
                       f"set xlabel 'concurrent clients'\nset ylabel '{ylabel}'\n"
                       "set key outside right\nset grid\nset datafile missing '?'\n"
                       "set yrange [0:*]\nset xrange [0.8:700]\nset xtics (1,16,128,512)\n"
                       "plot " + ", ".join(plots) + "\n")
            try:
                subprocess.run(["gnuplot"], input=script.encode(), check=False,
                               stderr=subprocess.DEVNULL)
            except OSError:
                return


_cairo = None


def has_cairo():
    global _cairo
    if _cairo is None:
        try:
            r = subprocess.run(["gnuplot", "-e", "set terminal"], capture_output=True)
            _cairo = b"pngcairo" in r.stdout + r.stderr
        except OSError:
            _cairo = False
    return _cairo


def fmt_num(x):
    return "?" if x is None else f"{x:.3f}"


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
