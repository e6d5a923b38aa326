#!/usr/bin/env python3
"""Many partners at once (issue 9): N partners x (TLS + legacy ports), each partner on its own
loopback address (127.0.1.1 ... 127.0.1.N), scanned with `tenken scan --inventory`.

Prints total wall time, tenken's peak RSS, and the highest number of concurrent connections any
one host saw, next to the per-host budget, which it must not exceed. Three views of that peak:
  - tenken's own budget accounting (exact: every connection takes and returns a slot);
  - the kernel's view, sampling `ss -tnp` every few ms for sockets tenken holds open, grouped by
    peer address (independent of tenken, but a sample: a lower bound);
  - the servers' count from accept() until their thread finishes (an upper bound: Python threads
    notice a closed connection late, so it overstates concurrency).

Usage: bench/ops/run.py [--tenken build/tenken] [--partners 200] [--parallel 8]
                        [--host-connections 4] [--host-rate 50]
Loopback only; everything is generated in a temporary directory and removed.
"""
import argparse
import json
import os
import resource
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time


class Host:
    """One partner host: a TLS listener and a TELNET-speaking listener, counting concurrency."""

    def __init__(self, addr, ctx):
        self.addr = addr
        self.ctx = ctx
        self.active = self.peak = self.total = 0
        self.lock = threading.Lock()
        self.socks = []
        self.tls_port = self._listen(self._tls)
        self.telnet_port = self._listen(self._telnet)

    def _listen(self, handler):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((self.addr, 0))
        s.listen(256)
        self.socks.append(s)
        threading.Thread(target=self._accept, args=(s, handler), daemon=True).start()
        return s.getsockname()[1]

    def _accept(self, s, handler):
        while True:
            try:
                c, _ = s.accept()
            except OSError:
                return
            with self.lock:
                self.active += 1
                self.total += 1
                self.peak = max(self.peak, self.active)
            threading.Thread(target=self._run, args=(c, handler), daemon=True).start()

    def _run(self, c, handler):
        try:
            c.settimeout(5)
            handler(c)
        except (OSError, ssl.SSLError, ValueError):
            pass
        finally:
            try:
                c.close()
            except OSError:
                pass
            with self.lock:
                self.active -= 1

    def _tls(self, c):
        s = self.ctx.wrap_socket(c, server_side=True)
        s.recv(4096)
        s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")

    def _telnet(self, c):
        c.sendall(bytes([255, 253, 24, 255, 253, 32, 255, 251, 1]) + b"\r\nlogin: ")
        c.recv(1024)

    def stop(self):
        for s in self.socks:
            s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tenken", default=os.path.join(os.path.dirname(__file__), "..", "..", "build", "tenken"))
    ap.add_argument("--partners", type=int, default=200)
    ap.add_argument("--parallel", type=int, default=8)
    ap.add_argument("--host-connections", type=int, default=4)
    ap.add_argument("--host-rate", type=int, default=50)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="tenken-bench-ops-")
    hosts = []
    try:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", "k.pem", "-out", "c.pem", "-days", "2", "-subj", "/CN=bench"],
                       cwd=work, check=True, capture_output=True)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(work, "c.pem"), os.path.join(work, "k.pem"))
        inv = os.path.join(work, "inventory")
        os.makedirs(inv)
        for i in range(a.partners):
            addr = "127.0.%d.%d" % (1 + i // 250, 1 + i % 250)
            h = Host(addr, ctx)
            hosts.append(h)
            cfg = {"partner": {"id": "p%03d" % i, "name": "bench partner %d" % i},
                   "probes": {"tls": {"endpoints": ["%s:%d" % (addr, h.tls_port)]},
                              "legacy": {"hosts": [addr], "ports": [21, 23, 25, 111, 512, 513, 514, 2049,
                                                                    h.telnet_port]}}}
            with open(os.path.join(inv, "p%03d.json" % i), "w") as f:
                json.dump(cfg, f)
        out = os.path.join(work, "out")
        t0 = time.time()
        proc = subprocess.Popen([a.tenken, "scan", "--inventory", inv, "--out", out, "--parallel", str(a.parallel),
                                 "--host-connections", str(a.host_connections), "--host-rate", str(a.host_rate),
                                 "--state", os.path.join(work, "state")],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        kernel_peak, samples = {}, 0
        while proc.poll() is None:
            ss = subprocess.run(["ss", "-tnpH"], capture_output=True, text=True).stdout
            now = {}
            for line in ss.splitlines():
                if "pid=%d," % proc.pid not in line:
                    continue
                peer = line.split()[4].rsplit(":", 1)[0]
                now[peer] = now.get(peer, 0) + 1
            for k, v in now.items():
                kernel_peak[k] = max(kernel_peak.get(k, 0), v)
            samples += 1
        so, se = proc.communicate()
        p = subprocess.CompletedProcess(proc.args, proc.returncode, so, se)
        wall = time.time() - t0
        m = [l for l in so.splitlines() if "peak connections to one host" in l]
        budget_peak = int(m[-1].split("peak connections to one host ")[1].split()[0]) if m else -1
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        complete = sum(1 for i in range(a.partners)
                       if json.load(open(os.path.join(out, "p%03d" % i, "report.json")))["complete"])
        server_peak = max(h.peak for h in hosts)
        kpeak = max(kernel_peak.values()) if kernel_peak else 0
        total = sum(h.total for h in hosts)
        print("partners: %d (TLS + 9 legacy ports each), --parallel %d, budget %d connections and %d/s per host"
              % (a.partners, a.parallel, a.host_connections, a.host_rate))
        print("exit code: %d; complete reports: %d/%d" % (p.returncode, complete, a.partners))
        print("wall time: %.2f s" % wall)
        print("peak RSS of tenken: %.1f MiB" % rss)
        print("connections accepted by the servers: %d" % total)
        print("max concurrent connections to one host (budget %d):" % a.host_connections)
        print("  tenken's budget accounting (exact):            %d" % budget_peak)
        print("  kernel, sockets tenken held (%5d samples):     %d" % (samples, kpeak))
        print("  servers, accept..thread end (upper bound):      %d" % server_peak)
        ok = 0 <= budget_peak <= a.host_connections and kpeak <= a.host_connections
        print("-> %s" % ("within budget" if ok else "OVER BUDGET"))
        if p.returncode not in (0,) or not ok:
            sys.stderr.write(p.stderr[-2000:])
            return 1
        return 0
    finally:
        for h in hosts:
            h.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
