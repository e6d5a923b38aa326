#!/usr/bin/env python3
"""Benchmarks of the legacy and capture probes against nmap and tcpdump (loopback only).

  python3 bench/legacy/run.py [--tenken build/tenken] [--only agree,full,many,capture] [--packets N]

  agree    open ports found by tenken (native) == open ports found by `nmap -sT`, 8 loopback hosts
  full     1-65535 on one loopback host: tenken vs `nmap -sT -T4 -p-` (one run each, ratio)
  many     default legacy ports on 1,000 loopback addresses (target: < 10 s)
  capture  read a generated capture of >= 1M packets: tenken vs `tcpdump -r FILE -w /dev/null`
           (median of 3, packets/s)

Generated data goes to a temporary directory and is removed.
"""
import argparse
import json
import os
import random
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration"))
import pcapgen as G  # noqa: E402


def listeners(addr, ports, speak=b"220 bench ready\r\n"):
    socks = []
    for p in ports:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((addr, p))
        except OSError:
            s.close()
            continue
        s.listen(64)
        socks.append(s)

    def serve(s):
        while True:
            try:
                c, _ = s.accept()
            except OSError:
                return
            try:
                c.sendall(speak)
                c.close()
            except OSError:
                pass
    for s in socks:
        threading.Thread(target=serve, args=(s,), daemon=True).start()
    return socks


def close_all(socks):
    for s in socks:
        try:
            s.close()
        except OSError:
            pass


def tenken_scan(tk, work, name, section, probe="legacy"):
    cfg = os.path.join(work, name + ".json")
    with open(cfg, "w") as f:
        # Loopback only: lift the process-wide per-host politeness budget (defaults 8 conns, 50/s).
        json.dump({"partner": {"id": "bench", "name": "bench"}, "probes": {probe: section},
                   "scan": {"max_connections_per_host": 1024, "connections_per_second_per_host": 100000}}, f)
    out = os.path.join(work, name + "-out")
    t0 = time.monotonic()
    p = subprocess.run([tk, "scan", "--config", cfg, "--out", out, "--quiet"], capture_output=True, text=True)
    dt = time.monotonic() - t0
    with open(os.path.join(out, "report.json")) as f:
        rep = json.load(f)
    shutil.rmtree(out, ignore_errors=True)
    return dt, rep, p.returncode


def nmap_open(args):
    t0 = time.monotonic()
    p = subprocess.run(["nmap"] + args + ["-oX", "-"], capture_output=True, text=True)
    dt = time.monotonic() - t0
    import xml.etree.ElementTree as ET
    root = ET.fromstring(p.stdout)
    found = set()
    for h in root.iter("host"):
        a = h.find("address").get("addr")
        for port in h.iter("port"):
            if port.find("state").get("state") == "open":
                found.add((a, int(port.get("portid"))))
    return dt, found


FAST = {"per_host_rate": 0, "max_concurrency": 2048, "per_host_concurrency": 2048,
        "banner_timeout_ms": 500, "reply_timeout_ms": 500, "connect_timeout_ms": 1000}


def bench_agree(tk, work):
    rng = random.Random(7)
    hosts = ["127.0.20.%d" % i for i in range(1, 9)]
    socks, opened = [], set()
    for h in hosts:
        ports = rng.sample(range(20000, 21000), rng.randint(0, 12))
        s = listeners(h, ports)
        socks += s
        opened |= {(h, x.getsockname()[1]) for x in s}
    try:
        sec = dict(FAST, hosts=hosts, ports=["20000-20999"])
        dt, rep, rc = tenken_scan(tk, work, "agree", sec)
        mine = {(o["address"], o["port"]) for o in rep["observations"] if o.get("kind") == "legacy_service"}
        ndt, theirs = nmap_open(["-sT", "-Pn", "-n", "-T4", "-p", "20000-20999"] + hosts)
    finally:
        close_all(socks)
    print("agree: %d hosts x 1000 ports, %d listeners: tenken %d open (%.2f s), nmap -sT %d open (%.2f s): %s"
          % (len(hosts), len(opened), len(mine), dt, len(theirs), ndt,
             "IDENTICAL" if mine == theirs == opened else "DIFFERENT tenken-only=%s nmap-only=%s" %
             (sorted(mine - theirs)[:5], sorted(theirs - mine)[:5])))


def bench_full(tk, work):
    h = "127.0.21.1"
    rng = random.Random(3)
    socks = listeners(h, rng.sample(range(1025, 65535), 20))
    try:
        sec = dict(FAST, hosts=[h], ports="all")
        dt, rep, rc = tenken_scan(tk, work, "full", sec)
        host = [o for o in rep["observations"] if o.get("kind") == "legacy_host"][0]
        ndt, theirs = nmap_open(["-sT", "-T4", "-Pn", "-n", "-p-", h])
    finally:
        close_all(socks)
    print("full: 1-65535 on %s: tenken %.2f s (%d open, %d closed), nmap -sT -T4 -p- %.2f s (%d open): "
          "ratio tenken/nmap = %.2f" % (h, dt, host["open"], host["closed"], ndt, len(theirs), dt / ndt))


def bench_many(tk, work):
    hosts = ["127.30.%d.%d" % (i // 250, i % 250 + 1) for i in range(1000)]
    sec = dict(FAST, hosts=hosts, ports="default", udp_timeout_ms=1000)
    dt, rep, rc = tenken_scan(tk, work, "many", sec)
    n = len([o for o in rep["observations"] if o.get("kind") == "legacy_host"])
    print("many: default legacy ports (12 TCP + 69/udp) on %d loopback addresses: %.2f s (%d host summaries) %s"
          % (len(hosts), dt, n, "< 10 s OK" if dt < 10 else ">= 10 s: MISSED"))


def gen_capture(path, npackets):
    """Ethernet capture: HTTP flows (some with access_token=), FTP logins; handshake and FIN each."""
    rng = random.Random(1)
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, G.LT_ETHERNET))
        n, flow = 0, 0
        while n < npackets:
            flow += 1
            cli = "10.%d.%d.%d" % (flow >> 16 & 255, flow >> 8 & 255, flow & 255)
            kind = flow % 10
            c = G.Conv(cli, "10.255.0.1", 1024 + flow % 60000, 80 if kind < 8 else 21).syn()
            if kind < 7:
                c.c(b"GET /static/%d.css HTTP/1.1\r\nHost: www\r\n\r\n" % flow).s(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            elif kind == 7:
                c.c(b"GET /api?access_token=tok%d HTTP/1.1\r\nHost: api\r\n\r\n" % flow).s(b"HTTP/1.1 200 OK\r\n\r\n")
            else:
                c.s(b"220 ftp\r\n").c(b"USER u%d\r\n" % flow).s(b"331 pw\r\n").c(b"PASS p%d\r\n" % rng.randint(0, 1 << 30))
            c.fin()
            for p in c.pkts:
                fr = G.link(G.LT_ETHERNET, p)
                f.write(struct.pack("<IIII", 1795400000 + n // 1000, n % 1000 * 1000, len(fr), len(fr)) + fr)
                n += 1


def bench_capture(tk, work, npackets):
    path = os.path.join(work, "big.pcap")
    gen_capture(path, npackets)
    size = os.path.getsize(path)
    tt, td = [], []
    for _ in range(3):
        dt, rep, rc = tenken_scan(tk, work, "cap", {"files": [path], "max_flows": 1 << 20}, probe="capture")
        tt.append(dt)
        t0 = time.monotonic()
        subprocess.run(["tcpdump", "-r", path, "-w", "/dev/null"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        td.append(time.monotonic() - t0)
    summ = [o for o in rep["observations"] if o.get("kind") == "capture_file"][0]
    mt, md = statistics.median(tt), statistics.median(td)
    print("capture: %d packets, %.0f MB, %d flows, %d findings: tenken %.2f s (%.0f packets/s), "
          "tcpdump -r -w /dev/null %.2f s (%.0f packets/s): ratio tenken/tcpdump time = %.2f (median of 3)"
          % (summ["packets"], size / 1e6, summ["flows"], summ["findings"], mt, summ["packets"] / mt, md,
             summ["packets"] / md, mt / md))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tenken", default=os.path.join(HERE, "..", "..", "build", "tenken"))
    ap.add_argument("--only", default="agree,full,many,capture")
    ap.add_argument("--packets", type=int, default=1000000)
    a = ap.parse_args()
    tk = os.path.abspath(a.tenken)
    work = tempfile.mkdtemp(prefix="tenken-bench-legacy-")
    try:
        for name in a.only.split(","):
            {"agree": lambda: bench_agree(tk, work), "full": lambda: bench_full(tk, work),
             "many": lambda: bench_many(tk, work), "capture": lambda: bench_capture(tk, work, a.packets)}[name]()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
