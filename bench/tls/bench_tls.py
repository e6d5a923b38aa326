#!/usr/bin/env python3
"""TLS probe benchmark and peer agreement, in one run, on loopback only.

  agree   for each server configuration, the accepted (protocol, suite) sets of
          tenken, sslscan, nmap --script ssl-enum-ciphers and testssl.sh, and
          their differences
  speed   full assessment of one legacy-configured `openssl s_server`: wall time
          (median of --runs) and TCP connections (counted by a relay in a
          separate, untimed run) per tool
  speed3  full assessment at the DEFAULT politeness budget of three server implementations
          (openssl s_server, nginx, gnutls-serv; legacy-leaning configurations) beside
          sslscan and nmap (and testssl.sh once with --testssl-once): medians of --runs and
          ratios; runs in a private network namespace (gnutls-serv binds every interface)
  scale   N endpoints (127.0.0.1 .. 127.0.0.N, one s_server each) in one
          tenken scan: wall time and peak RSS

usage: bench/tls/bench_tls.py [--tenken build/tenken] [--only agree,speed,scale]
                              [--runs 5] [--endpoints 200] [--no-testssl]
Needs: openssl, sslscan, nmap, testssl (Debian packages). Prints a summary;
writes nothing outside a temporary directory. Servers, certificates and the peer
scanners' readers are the integration test's (tests/integration/tlspeers.py), so
the bench and test_tls_peers start and read them the same way.
"""
import argparse
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
os.environ.setdefault("TENKEN_SOURCE_DIR", SRC)

import tlspeers as tp  # noqa: E402  (after sys.path and TENKEN_SOURCE_DIR are set)

_PKI = {}


def pki(d, ec=False):
    """A leaf for 127.0.0.1 from the test's PKI (root + intermediate), one PKI per directory."""
    if d not in _PKI:
        _PKI[d] = tp.PKI(os.path.join(d, "pki"))
    name = "ec" if ec else "rsa"
    pem = _PKI[d].p(name + ".pem")
    return (pem, _PKI[d].p(name + ".key")) if os.path.exists(pem) else _PKI[d].issue(name, name, days=60)


CONFIGS = {
    "tls13-only": ["-tls1_3"],
    "tls12-aead": ["-tls1_2", "-cipher", "ECDHE+AESGCM:ECDHE+CHACHA20"],
    "legacy": ["-cipher", "ALL:@SECLEVEL=0"],
    "server-pref": ["-tls1_2", "-serverpref", "-cipher", "ECDHE-RSA-AES256-GCM-SHA384:AES128-SHA:ECDHE-RSA-AES128-GCM-SHA256"],
}


class Relay:
    """Counts TCP connections: listens on 127.0.0.1, forwards each to the target."""

    def __init__(self, port):
        self.target = port
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(512)
        self.port = self.sock.getsockname()[1]
        self.count = 0
        self.alive = True
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        while self.alive:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.count += 1
            threading.Thread(target=self.pipe, args=(c,), daemon=True).start()

    def pipe(self, c):
        try:
            u = socket.create_connection(("127.0.0.1", self.target))
        except OSError:
            c.close()
            return

        def one(a, b):
            try:
                while True:
                    x = a.recv(65536)
                    if not x:
                        break
                    b.sendall(x)
            except OSError:
                pass
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        t = threading.Thread(target=one, args=(u, c), daemon=True)
        t.start()
        one(c, u)
        t.join(5)
        c.close()
        u.close()

    def close(self):
        self.alive = False
        self.sock.close()


# ---- tools: each returns {(version_key, code)} ----

def run_tenken(tenken, d, port, tag, ca=None, endpoints=None, timeout=600, rate=100000, hsts=False):
    eps = endpoints or ["127.0.0.1:%d" % port]
    cfg = {"partner": {"id": "bench", "name": "bench"}, "checklist": "fisc-api-2018",
           "probes": {"tls": {"endpoints": eps, "timeout_s": 600, "connection_timeout_s": 10, "parallel": 64}}}
    if hsts:  # the full assessment includes the HSTS probe's HTTPS request (s_server -www answers it)
        cfg["probes"]["hsts"] = {"urls": ["https://127.0.0.1:%d/" % port], "check_http_redirect": False}
    if rate:  # None: the default per-host politeness budget (8 in flight, 50 new connections/s)
        cfg["scan"] = {"max_connections_per_host": 64, "connections_per_second_per_host": rate}
    if ca:
        cfg["probes"]["tls"]["ca_file"] = ca
    cp = os.path.join(d, "tk-%s.json" % tag)
    with open(cp, "w") as f:
        json.dump(cfg, f)
    out = os.path.join(d, "tk-%s" % tag)
    subprocess.run([tenken, "scan", "-c", cp, "-o", out, "--format", "json", "--quiet"], timeout=timeout,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return json.load(open(os.path.join(out, "report.json")))


def tenken_set(rep):
    """Union of the accepted sets of the report's TLS endpoint observations."""
    s = set()
    for o in rep["observations"]:
        if o.get("probe") == "tls" and o.get("kind") == "endpoint":
            s |= tp.tenken_set(o)
    return s


def run_sslscan(d, port, tag):
    return tp.sslscan_set(d, "127.0.0.1", port, tag)


def run_nmap(d, port, tag):
    return tp.nmap_set(d, "127.0.0.1", port, tag)


def run_testssl(d, port, tag):
    return tp.testssl_set(d, "127.0.0.1", port, tag)


def agree(args, d, tools):
    rsa = pki(d)
    srv = tp.Daemons(d)
    results = {}
    try:
        for name, sargs in CONFIGS.items():
            port = srv.s_server(*rsa, sargs)
            sets = {"tenken": tenken_set(run_tenken(args.tenken, d, port, "agree-" + name))}
            for t, fn in tools.items():
                sets[t] = fn(d, port, "agree-" + name)
            results[name] = sets
            report(name, sets)
        # SSL 3.0 with 3DES/RC4/export: a raw responder (the local OpenSSL cannot serve these)
        from test_tls import RawTLSServer
        raw = RawTLSServer(0x0300, [0x000A, 0x0005, 0x0003])
        try:
            sets = {"tenken": tenken_set(run_tenken(args.tenken, d, raw.port, "agree-ssl3raw"))}
            for t, fn in tools.items():
                sets[t] = fn(d, raw.port, "agree-ssl3raw")
            results["ssl3-raw"] = sets
            report("ssl3-raw (SSL 3.0: 3DES, RC4, export)", sets)
        finally:
            raw.close()
    finally:
        srv.stop()
    return results


def report(name, sets):
    ref = sets["tenken"]
    print("\n[%s] tenken: %d protocol(s), %d (protocol, suite) pairs" %
          (name, len([p for p in ref if p[1] is None]), len([p for p in ref if p[1] is not None])))
    for t, s in sets.items():
        if t == "tenken":
            continue
        miss, extra = ref - s, s - ref
        print("  %-8s %s" % (t, "AGREES" if not miss and not extra else "DIFFERS"))
        if miss:
            print("           only tenken: " + tp.fmt(miss))
        if extra:
            print("           only %s: %s" % (t, tp.fmt(extra)))
    sys.stdout.flush()


def timed(cmd_fn, runs):
    ts = []
    for _ in range(runs):
        t0 = time.monotonic()
        cmd_fn()
        ts.append(time.monotonic() - t0)
    return statistics.median(ts)


def speed(args, d, tools):
    rsa = pki(d)
    srv = tp.Daemons(d)
    try:
        port = srv.s_server(*rsa, CONFIGS["legacy"] + ["-www"])
        rep = run_tenken(args.tenken, d, port, "speed-probe")
        o = [x for x in rep["observations"] if x.get("kind") == "endpoint"][0]
        pairs = o["accepted_suites"]
        versions = 6
        rows = []
        runners = {"tenken": lambda p, tag: run_tenken(args.tenken, d, p, tag, hsts=True),
                   "tenken*": lambda p, tag: run_tenken(args.tenken, d, p, tag, rate=None, hsts=True)}
        runners.update(tools)
        for t, fn in runners.items():
            n = 1 if t == "testssl" else args.runs
            own = t.startswith("tenken")
            wall = timed(lambda: fn(port, "speed-" + t) if own else fn(d, port, "speed-" + t), n)
            relay = Relay(port)
            if own:
                fn(relay.port, "count-" + t)
            else:
                fn(d, relay.port, "count-" + t)
            time.sleep(0.3)
            relay.close()
            rows.append((t, wall, relay.count, n))
        print("\nFull assessment (tenken: tls + hsts probes) of one legacy s_server (ALL:@SECLEVEL=0, TLS 1.0-1.3): "
              "%d accepted (protocol, suite) pairs" % pairs)
        print("  %-8s %10s %12s %6s" % ("tool", "wall (s)", "connections", "runs"))
        for t, w, c, n in rows:
            print("  %-8s %10.3f %12d %6d" % (t, w, c, n))
        tk = [r for r in rows if r[0] == "tenken"][0]
        fast = [r[1] for r in rows if r[0] in ("sslscan", "nmap")]
        if fast:
            print("  tenken vs faster of sslscan/nmap: %.1fx faster (target >= 3x)" % (min(fast) / tk[1]))
        ts = [r[1] for r in rows if r[0] == "testssl"]
        if ts:
            print("  tenken vs testssl.sh: %.1fx faster (target >= 20x)" % (ts[0] / tk[1]))
        print("  tenken connections %d vs budget pairs + versions + 10 = %d" % (tk[2], pairs + versions + 10))
        print("  tenken: per-host politeness budget lifted (64 in flight, 100000/s);"
              " tenken*: the default budget (8 in flight, 50 new connections/s per host)")
    finally:
        srv.stop()


def scale(args, d):
    ec = pki(d, ec=True)
    srv = tp.Daemons(d)
    n = args.endpoints
    eps = []
    try:
        for i in range(1, n + 1):
            addr = "127.0.0.%d" % i
            port = srv.s_server(*ec, ["-cipher", "ECDHE+AESGCM:ECDHE+CHACHA20:ECDHE+AES", "-no_tls1_1", "-no_tls1"], addr=addr)
            eps.append("%s:%d" % (addr, port))
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        t0 = time.monotonic()
        rep = run_tenken(args.tenken, d, 0, "scale", endpoints=eps)
        wall = time.monotonic() - t0
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        ok = len([o for o in rep["observations"] if o.get("kind") == "endpoint"])
        conns = sum(o.get("connections", 0) for o in rep["observations"] if o.get("kind") == "endpoint")
        print("\n%d endpoints on 127.0.0.1..127.0.0.%d (one s_server each, ECDSA P-256, TLS 1.2+1.3):" % (n, n))
        print("  observed %d/%d, %d TCP connections, wall %.2f s, tenken peak RSS %.1f MiB%s" %
              (ok, n, conns, wall, peak / 1024.0, "" if peak > before else " (<= an earlier child's peak)"))
    finally:
        srv.stop()


def speed3(args, d):
    """Three implementations, default budget, side by side with sslscan and nmap."""
    if not tp.in_netns():
        argv = [sys.executable, os.path.abspath(__file__)] + sys.argv[1:]
        rc = tp.reexec_in_netns(argv)
        if rc is None:
            print("speed3: needs a network namespace (unshare -n)")
        return
    rsa, ec = pki(d), pki(d, ec=True)
    dm = tp.Daemons(d)
    try:
        servers = {
            "openssl s_server (ALL:@SECLEVEL=0, TLS 1.0-1.3)":
                dm.s_server(*rsa, ["-cipher", "ALL:@SECLEVEL=0", "-www"]),
            "nginx 1.22 (TLS 1.0-1.3, HIGH:MEDIUM:@SECLEVEL=0, RSA+ECDSA)":
                dm.nginx([("n", "ssl_certificate %s; ssl_certificate_key %s; ssl_certificate %s; ssl_certificate_key %s; "
                          "ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3; ssl_ciphers HIGH:MEDIUM:@SECLEVEL=0; "
                          "location / { return 200 ok; }" % (rsa + ec), False)])["n"],
            "gnutls-serv 3.7 (NORMAL + TLS 1.0/1.1, CBC, RSA, DHE)":
                dm.gnutls(*rsa, "NORMAL:+VERS-TLS1.0:+VERS-TLS1.1:+AES-128-CBC:+AES-256-CBC:+SHA1:+RSA:+DHE-RSA"),
        }
        rows = []
        for name, port in servers.items():
            def tk():
                run_tenken(args.tenken, d, port, "s3", rate=None, hsts=True)
            rep = run_tenken(args.tenken, d, port, "s3-probe", rate=None, hsts=True)
            o = [x for x in rep["observations"] if x.get("kind") == "endpoint"][0]
            t = {"tenken": timed(tk, args.runs),
                 "sslscan": timed(lambda: run_sslscan(d, port, "s3"), args.runs),
                 "nmap": timed(lambda: run_nmap(d, port, "s3"), args.runs)}
            if args.testssl_once and not rows:
                t["testssl"] = timed(lambda: run_testssl(d, port, "s3"), 1)
            rows.append((name, o.get("accepted_suites"), o.get("connections"), o.get("duration_ms"), t))
        print("\nFull assessment at the default politeness budget (8 in flight, burst %s, then 50/s per host); "
              "medians of %d runs; tenken = tls + hsts probes, wall time of `tenken scan`" % ("160", args.runs))
        print("| server | pairs | tenken conns | tenken probe ms | tenken s | sslscan s | nmap s | faster peer / tenken |")
        print("|---|---|---|---|---|---|---|---|")
        for name, pairs, conns, ms, t in rows:
            fast = min(t["sslscan"], t["nmap"])
            print("| %s | %s | %s | %s | %.3f | %.3f | %.3f | %.2f |" % (name, pairs, conns, ms, t["tenken"], t["sslscan"],
                                                                 t["nmap"], fast / t["tenken"]))
            if "testssl" in t:
                print("|   testssl.sh 3.0.8 `-p -E` (1 run) on the same server | | | | | | %.1f s | %.1f |"
                      % (t["testssl"], t["testssl"] / t["tenken"]))
        sys.stdout.flush()
    finally:
        dm.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tenken", default=os.path.join(SRC, "build", "tenken"))
    ap.add_argument("--only", default="agree,speed,scale")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--endpoints", type=int, default=200)
    ap.add_argument("--no-testssl", action="store_true")
    ap.add_argument("--testssl-once", action="store_true", help="speed3: time testssl.sh once on the first server")
    args = ap.parse_args()
    tools = {}
    if shutil.which("sslscan"):
        tools["sslscan"] = run_sslscan
    if shutil.which("nmap"):
        tools["nmap"] = run_nmap
    if shutil.which("testssl") and not args.no_testssl:
        tools["testssl"] = run_testssl
    d = tempfile.mkdtemp(prefix="tenken-bench-tls-")
    try:
        only = args.only.split(",")
        # scale first: its peak-RSS reading is only clean before other children ran
        if "scale" in only:
            scale(args, d)
        if "agree" in only:
            agree(args, d, tools)
        if "speed" in only:
            speed(args, d, tools)
        if "speed3" in only:
            speed3(args, d)
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
