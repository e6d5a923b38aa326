"""Hostile files around the agent (issue 13): a FIFO where tenken expects a regular file never blocks it.

A FIFO named *.json in an inventory directory, a FIFO as --config, --tailoring or --waivers: each is
refused at once (O_NONBLOCK open, then fstat: not a regular file), named in the error, and the other
partners are still scanned; the inventory's lock does not stay taken; SIGTERM and --deadline hold.
(A FIFO in the history is in test_reports_history.py, in stores and captures in test_tokens_hostile.py
and test_capture.py.)
"""
import os
import signal
import socket
import subprocess
import time

from tkharness import TENKEN, Results, rmtree, tmpdir, write_json


def partner(d, pid):
    os.makedirs(os.path.join(d, "store-" + pid), exist_ok=True)
    return {"partner": {"id": pid, "name": pid}, "probes": {"tokens": {"stores": [
        {"type": "files", "path": os.path.join(d, "store-" + pid)}]}}}


def run(args, timeout=90):
    t0 = time.monotonic()
    p = subprocess.run([TENKEN] + args, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr, time.monotonic() - t0


def main():
    r = Results()
    work = tmpdir()
    try:
        inv = os.path.join(work, "inventory")
        os.makedirs(inv)
        write_json(os.path.join(inv, "good.json"), partner(work, "good"))
        os.mkfifo(os.path.join(inv, "evil.json"))
        state = os.path.join(work, "state")
        try:
            rc, so, se, secs = run(["gate", "--inventory", inv, "--out", os.path.join(work, "o1"), "--state", state,
                                    "--deadline", "60"])
            r.check(secs < 45, "a FIFO in the inventory does not block the run (%.1f s)" % secs)
            r.check("evil.json" in se + so and "not a regular file" in se + so,
                    "the FIFO is named and refused: %s" % (se + so).strip()[-300:])
            r.check(os.path.exists(os.path.join(work, "o1", "good", "report.json")),
                    "the other partner is still scanned")
            r.check(rc not in (0, 1, 3), "the inventory's exit code says a partner could not be read (%d)" % rc)
        except subprocess.TimeoutExpired:
            r.check(False, "a FIFO in the inventory does not block the run (killed after 90 s)")
        # the lock was released: a second run starts and ends
        try:
            rc2, so2, se2, secs2 = run(["gate", "--inventory", inv, "--out", os.path.join(work, "o2"), "--state",
                                        state, "--deadline", "60"])
            r.check(rc2 != 5 and secs2 < 45, "a later run is not locked out (exit %d, %.1f s)" % (rc2, secs2))
        except subprocess.TimeoutExpired:
            r.check(False, "a later run is not locked out")
        # a FIFO as --config, --tailoring, --waivers
        cfg = write_json(os.path.join(work, "good.json"), partner(work, "solo"))
        fifo = os.path.join(work, "fifo.json")
        os.mkfifo(fifo)
        for what, args in (("--config", ["--config", fifo]),
                           ("--tailoring", ["--config", cfg, "--tailoring", fifo]),
                           ("--waivers", ["--config", cfg, "--waivers", fifo])):
            try:
                rc, so, se, secs = run(["scan"] + args + ["--out", os.path.join(work, "o-" + what[2:]), "--state",
                                                          state, "--quiet"], timeout=60)
                r.check(rc == 2 and "not a regular file" in se and secs < 30,
                        "a FIFO as %s: usage/config error at once (exit %d, %.1f s): %s" % (what, rc, secs,
                                                                                           se.strip()[-160:]))
            except subprocess.TimeoutExpired:
                r.check(False, "a FIFO as %s returns" % what)
        # SIGTERM while an inventory is running ends it (the handler is installed before configs are read)
        slow = os.path.join(work, "slow")
        os.makedirs(slow)
        # partners that stay busy: their HTTPS endpoint accepts and never answers (a listening socket
        # nobody reads), so the run is still going when the signal arrives, however fast the machine
        silent = socket.socket()
        silent.bind(("127.0.0.1", 0))
        silent.listen(64)
        for i in range(6):
            write_json(os.path.join(slow, "p%d.json" % i), {
                "partner": {"id": "p%d" % i, "name": "p%d" % i},
                "probes": {"hsts": {"urls": ["https://127.0.0.1:%d/" % silent.getsockname()[1]],
                                    "check_http_redirect": False, "timeout_s": 20}}})
        p = subprocess.Popen([TENKEN, "scan", "--inventory", slow, "--out", os.path.join(work, "o3"), "--state",
                              state, "--parallel", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(0.5)
        t_sig = time.monotonic()
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=30)
            err = p.stderr.read().decode(errors="replace")
            # handled (not the default action): tenken stops in order and says so
            r.check(p.returncode > 0 and time.monotonic() - t_sig < 15,
                    "SIGTERM ends an inventory run in order, promptly (exit %d, %.1f s): %s"
                    % (p.returncode, time.monotonic() - t_sig, err.strip()[-200:]))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            r.check(False, "SIGTERM ends an inventory run")
    finally:
        rmtree(work)
    r.finish()


if __name__ == "__main__":
    main()
