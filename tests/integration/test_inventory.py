"""Many partners from cron: --inventory with bounded parallelism, a summary line per partner,
the worst exit code overall, a lock against overlapping runs, a global deadline, SIGTERM
writing a partial report, and the per-host politeness budget (never more connections in
flight to one host than allowed)."""
import os
import shutil
import signal
import ssl
import subprocess
import threading
import time

from hostile import Hostile
from tkharness import (TENKEN, HTTPServer, Results, TestCA, read_json, rmtree, run_tenken, tmpdir,
                       write_json)


def hsts_partner(path, pid, urls, resolve, timeout=5, extra=None):
    cfg = {"partner": {"id": pid, "name": pid}, "probes": {"hsts": {
        "urls": urls, "resolve": resolve, "ca_file": "ca.pem", "check_http_redirect": False,
        "request_timeout_s": timeout}}}
    if extra:
        cfg.update(extra)
    return write_json(path, cfg)


class KernelPeak:
    """Samples, every 10 ms, how many established TCP sockets go to addr:port (the kernel's view
    of the client side; the server's own sockets have the client as their destination)."""

    def __init__(self, addr, port):
        self.filter, self.peak, self.samples = "dst %s:%d" % (addr, port), 0, 0
        self.stop_ev = threading.Event()

    def _loop(self):
        while not self.stop_ev.is_set():
            out = subprocess.run(["ss", "-Htn", "state", "established", self.filter], capture_output=True,
                                 text=True).stdout
            self.peak = max(self.peak, len([l for l in out.splitlines() if l.strip()]))
            self.samples += 1
            time.sleep(0.01)

    def __enter__(self):
        self.t = threading.Thread(target=self._loop, daemon=True)
        self.t.start()
        return self

    def __exit__(self, *a):
        self.stop_ev.set()
        self.t.join()


def main():
    r = Results()
    work = tmpdir()
    servers = []
    try:
        ca = TestCA(work)
        good = HTTPServer("127.0.0.60", cert=ca.issue("good.test"), headers=[("Strict-Transport-Security", "max-age=63072000")])
        weak = HTTPServer("127.0.0.61", cert=ca.issue("weak.test"), headers=[("Strict-Transport-Security", "max-age=60")])
        silent = Hostile("127.0.0.62", "silent")
        servers += [good, weak, silent]
        res = {"good.test": "127.0.0.60", "weak.test": "127.0.0.61", "silent.test": "127.0.0.62"}
        inv = os.path.join(work, "inventory")
        os.makedirs(inv)
        shutil.copy(os.path.join(work, "ca.pem"), inv)
        hsts_partner(os.path.join(inv, "a-good.json"), "a-good", ["https://good.test:%d/" % good.port], res)
        hsts_partner(os.path.join(inv, "b-weak.json"), "b-weak", ["https://weak.test:%d/" % weak.port], res)
        hsts_partner(os.path.join(inv, "c-down.json"), "c-down", ["https://silent.test:%d/" % silent.port], res, timeout=2)
        write_json(os.path.join(inv, "d-broken.json"), {"partner": {"id": "d-broken", "name": "x"}, "probes": {"hsts": {"urls": []}}})
        with open(os.path.join(inv, "notes.txt"), "w") as f:
            f.write("not a config\n")

        out = os.path.join(work, "out")
        t0 = time.time()
        rc, so, se = run_tenken("gate", "--inventory", inv, "--out", out, "--parallel", "3")
        lines = [l for l in so.splitlines() if l.startswith("tenken: ")]
        r.check(rc == 1, "inventory gate: worst exit code is 1 (a partner fails) (got %d: %s)" % (rc, se.strip()))
        r.check(sum(1 for l in lines if "verdict" in l or "no report" in l) == 4, "one summary line per partner:\n" + so)
        r.check(any(l.startswith("tenken: a-good (a-good): verdict pass") for l in lines), "a-good passes")
        r.check(any(l.startswith("tenken: b-weak (b-weak): verdict fail") for l in lines), "b-weak fails")
        r.check(any(l.startswith("tenken: c-down (c-down): verdict incomplete") for l in lines), "c-down incomplete")
        r.check(any("d-broken: exit 2" in l for l in lines) and "probes.hsts.urls: must not be empty" in se,
                "d-broken: config error named, others still scanned")
        r.check(os.path.exists(os.path.join(out, "a-good", "report.json"))
                and read_json(os.path.join(out, "b-weak", "report.json"))["partner"]["id"] == "b-weak",
                "reports under OUT/<name>/")
        r.check("4 partners" in so and "exit 1" in so, "an overall summary line")
        r.check(time.time() - t0 < 40, "inventory finished promptly (%.1fs)" % (time.time() - t0))

        # the lock: a second run of the same inventory exits 5 at once
        slow_inv = os.path.join(work, "slow")
        os.makedirs(slow_inv)
        shutil.copy(os.path.join(work, "ca.pem"), slow_inv)
        hsts_partner(os.path.join(slow_inv, "slow.json"), "slow", ["https://silent.test:%d/" % silent.port], res, timeout=6)
        first = subprocess.Popen([TENKEN, "scan", "--inventory", slow_inv, "--out", os.path.join(work, "o1")],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.0)
        t1 = time.time()
        rc2, so2, se2 = run_tenken("scan", "--inventory", slow_inv, "--out", os.path.join(work, "o2"))
        r.check(rc2 == 5 and "another tenken run" in se2 and time.time() - t1 < 5,
                "overlapping run: exit 5 with a clear message, promptly (%d: %s)" % (rc2, se2.strip()))
        first.wait(timeout=30)

        # the global deadline stops a slow inventory
        hsts_partner(os.path.join(slow_inv, "slow.json"), "slow", ["https://silent.test:%d/" % silent.port], res, timeout=60,
                     extra={"scan": {"probe_timeout_s": 120}})
        t2 = time.time()
        rc3, so3, se3 = run_tenken("scan", "--inventory", slow_inv, "--out", os.path.join(work, "o3"), "--deadline", "2")
        el = time.time() - t2
        rep = read_json(os.path.join(work, "o3", "slow", "report.json"))
        r.check(rc3 == 3 and el < 12, "global deadline: stops in time (%.1fs), exit 3 (got %d)" % (el, rc3))
        r.check(rep["complete"] is False and "interrupted" in rep, "the partial report says complete: false")

        # SIGTERM on a single scan: stops within seconds, partial report written
        cfg = hsts_partner(os.path.join(work, "term.json"), "term", ["https://silent.test:%d/" % silent.port], res, timeout=60,
                           extra={"scan": {"probe_timeout_s": 120}})
        p = subprocess.Popen([TENKEN, "scan", "--config", cfg, "--out", os.path.join(work, "o4")],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.0)
        t3 = time.time()
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=30)
        rep = read_json(os.path.join(work, "o4", "report.json"))
        r.check(time.time() - t3 < 8 and p.returncode == 3, "SIGTERM: exits 3 within seconds (%.1fs)" % (time.time() - t3))
        r.check(rep["complete"] is False and rep["interrupted"], "SIGTERM: partial report, complete: false")

        # politeness: 24 URLs on one host, budget 2 connections -> the host never sees more than 2
        busy_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        busy_ctx.load_cert_chain(*ca.issue("busy.test"))
        counting = Hostile("127.0.0.63", "tls_slow_ok", busy_ctx)
        servers.append(counting)
        urls = ["https://busy.test:%d/p%d" % (counting.port, i) for i in range(24)]
        cfg = hsts_partner(os.path.join(work, "busy.json"), "busy", urls, {"busy.test": "127.0.0.63"},
                           extra={"scan": {"max_connections_per_host": 2, "connections_per_second_per_host": 1000}})
        # Concurrency as the kernel sees tenken's own sockets (ss: established, to the server's
        # address and port), never the server's count, which notices closes late under load.
        with KernelPeak("127.0.0.63", counting.port) as kp:
            rc5, so5, se5 = run_tenken("scan", "--config", cfg, "--out", os.path.join(work, "o5"))
        r.check(rc5 == 0 and counting.accepted == 24, "24 requests answered (%d, exit %d: %s)" % (counting.accepted, rc5, se5.strip()))
        r.check(kp.samples > 0 and kp.peak <= 2,
                "the kernel saw at most 2 of tenken's connections to the host at once (peak %d over %d samples)"
                % (kp.peak, kp.samples))
        counting.accepted = counting.peak = 0
        cfg = hsts_partner(os.path.join(work, "busy.json"), "busy", urls, {"busy.test": "127.0.0.63"},
                           extra={"scan": {"max_connections_per_host": 8, "connections_per_second_per_host": 1000}})
        with KernelPeak("127.0.0.63", counting.port) as kp:
            run_tenken("scan", "--config", cfg, "--out", os.path.join(work, "o6"))
        r.check(kp.peak <= 8, "with a budget of 8 the kernel never sees more than 8 (peak %d)" % kp.peak)
        r.check(kp.peak > 2, "and the budget is used: more than 2 at once (peak %d)" % kp.peak)
    finally:
        for s in servers:
            s.stop()
        rmtree(work)
    r.finish()


if __name__ == "__main__":
    main()
