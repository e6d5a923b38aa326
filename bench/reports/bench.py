#!/usr/bin/env python3
"""Benchmark of tenken's reports and history (python3 stdlib only).

1. HTML rendering of a 44-item report with 1,000 findings: `tenken report
   PARTNER --format html` on a stored report (end to end: process start,
   index query, JSON parse, trend query, render, atomic write). Goal < 100 ms.
2. `history`, `diff` and the HTML trend over 300 partners x 365 daily scans
   (109,500 index rows). Goal < 1 s each.
The sqlite3 CLI running the same index query is shown beside as the floor.

The history is generated here into a temporary directory (removed at the
end): a real scan of a loopback partner gives the report template, which is
widened to 1,000 findings; 365 daily reports for each partner are written
(hard links to a few templates for partners other than the measured one)
and indexed with the schema tenken creates. Signatures are not generated:
verify is not part of these figures.

usage: bench.py [--tenken build/tenken] [--runs 15] [--partners 300] [--days 365]
"""
import argparse
import copy
import datetime
import hashlib
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))


def timed(cmd, runs, env=None):
    """Median/min/max wall milliseconds, and the median CPU (user+sys) milliseconds of the child:
    the wall time on a shared machine mostly measures the other jobs."""
    ts, cpu = [], []
    for _ in range(runs):
        t = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        _, status, ru = os.wait4(p.pid, 0)
        ts.append((time.perf_counter() - t) * 1000)
        cpu.append((ru.ru_utime + ru.ru_stime) * 1000)
        err = p.stderr.read()
        p.stderr.close()
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit("failed: %s\n%s" % (" ".join(cmd), err.decode()))
    return statistics.median(ts), min(ts), max(ts), statistics.median(cpu)


def widen(rep, n):
    """Clone findings until there are n, on distinct targets, mixing statuses."""
    base = [f for f in rep["findings"]]
    out = []
    i = 0
    while len(out) < n:
        f = copy.deepcopy(base[i % len(base)])
        host = i // len(base)
        f["target"] = "https://api-%03d.partner.test/" % host
        if host % 7 == 3 and f["status"] == "pass":
            f["status"] = "fail"
        out.append(f)
        i += 1
    rep["findings"] = out
    for it in rep["items"]:
        if it["status"] == "fail":
            it["findings"] = sorted({f["rule"] for f in out if f["status"] == "fail"})
    return rep


SCHEMA = ("CREATE TABLE scans( partner TEXT NOT NULL, seq INTEGER NOT NULL, run_id TEXT NOT NULL, mode TEXT,"
          " checklist TEXT, started_at TEXT, finished_at TEXT, verdict TEXT, complete INTEGER,"
          " n_pass INTEGER, n_fail INTEGER, n_incomplete INTEGER, n_manual INTEGER,"
          " n_not_applicable INTEGER, n_waived INTEGER, sha256 TEXT NOT NULL, prev_sha256 TEXT,"
          " file TEXT NOT NULL, key_fp TEXT, PRIMARY KEY(partner, seq)) WITHOUT ROWID;"
          "CREATE INDEX scans_run ON scans(run_id);")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tenken", default=os.environ.get("TENKEN_BIN", os.path.join(SRC, "build", "tenken")))
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--partners", type=int, default=300)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--findings", type=int, default=1000)
    ap.add_argument("--keep", help="keep the generated state in this directory (for profiling)")
    a = ap.parse_args()
    os.environ["TENKEN_BIN"] = a.tenken
    import reportlib as rl

    tmp = a.keep or tempfile.mkdtemp(prefix="tenken-bench-")
    os.makedirs(tmp, exist_ok=True)
    try:
        state = os.path.join(tmp, "state")
        with rl.Partner("p000") as p:
            r = rl.run(["scan", "--config", p.config, "--out", os.path.join(tmp, "o"), "--state", state,
                        "--format", "json", "--quiet"])
            if r.returncode != 0:
                raise SystemExit(r.stderr)
        rep = json.load(open(os.path.join(tmp, "o", "report.json")))
        shutil.rmtree(os.path.join(state, "reports"))
        os.remove(os.path.join(state, "index.sqlite"))
        for ext in ("-wal", "-shm"):
            if os.path.exists(os.path.join(state, "index.sqlite" + ext)):
                os.remove(os.path.join(state, "index.sqlite" + ext))
        t0 = time.perf_counter()
        big = widen(copy.deepcopy(rep), a.findings)
        fixed = copy.deepcopy(big)
        for f in fixed["findings"][: len(fixed["findings"]) // 3]:
            f["status"] = "pass"
        templates = []
        for k, doc in enumerate((big, fixed)):
            path = os.path.join(tmp, "tmpl%d.json" % k)
            data = (json.dumps(doc, ensure_ascii=False, indent="\t") + "\n").encode()
            open(path, "wb").write(data)
            templates.append((path, hashlib.sha256(data).hexdigest(), doc))
        db = sqlite3.connect(os.path.join(state, "index.sqlite"))
        db.executescript("PRAGMA journal_mode=WAL;" + SCHEMA)
        start = datetime.datetime(2025, 1, 1, 2, 0, 0)
        rows = []
        for pi in range(a.partners):
            pid = "p%03d" % pi
            d = os.path.join(state, "reports", pid)
            os.makedirs(d)
            prev = ""
            for day in range(a.days):
                path, sha, doc = templates[(day // 30) % 2]
                name = "%08d.json" % (day + 1)
                os.link(path, os.path.join(d, name))
                s = doc["summary"]["items"]
                ts = (start + datetime.timedelta(days=day)).strftime("%Y-%m-%dT%H:%M:%SZ")
                rows.append((pid, day + 1, "run-%s-%d" % (pid, day + 1), "scan", "fisc-api-2018", ts, ts,
                             doc["gate"]["verdict"], 1, s["pass"], s["fail"], s["incomplete"], s["manual"],
                             s["not_applicable"], s.get("waived", 0), sha, prev, "reports/%s/%s" % (pid, name), ""))
                prev = sha
        db.executemany("INSERT INTO scans VALUES(%s)" % ",".join("?" * 19), rows)
        db.commit()
        db.close()
        gen = time.perf_counter() - t0
        print("generated %d partners x %d scans (%d rows, report %d findings, %d KiB) in %.1f s" %
              (a.partners, a.days, len(rows), len(big["findings"]),
               os.path.getsize(templates[0][0]) // 1024, gen))

        env = dict(os.environ, TENKEN_STATE_DIR=state)
        out = os.path.join(tmp, "out")
        mid = "p%03d" % (a.partners // 2)
        # real Ed25519 signatures for the measured partner, so verify can be timed too
        t1 = time.perf_counter()
        key = os.path.join(state, "key", "ed25519.pem")
        der = subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-outform", "DER"], check=True,
                             capture_output=True).stdout
        import base64
        pub = base64.b64encode(der[-32:]).decode()
        fp = "SHA256:" + hashlib.sha256(der[-32:]).hexdigest()
        prev = ""
        for day in range(a.days):
            _, sha, _ = templates[(day // 30) % 2]
            msg = "tenken.sig/1\n%s\n%d\n%s\n%s\n" % (mid, day + 1, sha, prev)
            mp = os.path.join(tmp, "msg")
            with open(mp, "w") as f:
                f.write(msg)
            sig = subprocess.run(["openssl", "pkeyutl", "-sign", "-inkey", key, "-rawin", "-in", mp],
                                 check=True, capture_output=True).stdout
            env_doc = {"schema": "tenken.sig/1", "alg": "Ed25519", "partner": mid, "seq": day + 1, "run_id": "",
                       "report_sha256": sha, "previous_sha256": prev, "key_fingerprint": fp, "public_key": pub,
                       "signature": base64.b64encode(sig).decode()}
            with open(os.path.join(state, "reports", mid, "%08d.json.sig" % (day + 1)), "w") as f:
                json.dump(env_doc, f)
            prev = sha
        print("signed %d reports of %s in %.1f s" % (a.days, mid, time.perf_counter() - t1))
        T = a.tenken
        results = [
            ("html: report --format html (1,000 findings, trend of 365)", [T, "report", mid, "--format", "html", "--out", out], 100),
            ("html+csv+sarif+junit re-render", [T, "report", mid, "--format", "html,csv,sarif,junit", "--out", out], None),
            ("history PARTNER (365 of %d rows)" % len(rows), [T, "history", mid], 1000),
            ("history PARTNER --format json", [T, "history", mid, "--format", "json"], 1000),
            ("diff PARTNER (last two, 1,000 findings each)", [T, "diff", mid], 1000),
            ("diff PARTNER 1 365", [T, "diff", mid, "1", str(a.days)], 1000),
            ("verify PARTNER (365 signed reports, %d MiB hashed)" % (a.days * os.path.getsize(templates[0][0]) >> 20),
             [T, "verify", mid], None),
            ("sqlite3 CLI: the same history query (floor)",
             ["sqlite3", os.path.join(state, "index.sqlite"),
              "SELECT seq, started_at, verdict, n_fail FROM scans WHERE partner='%s' ORDER BY seq" % mid], None),
        ]
        print("load average: %.2f %.2f %.2f (2 cores shared with other jobs)" % os.getloadavg())
        print("%-58s %9s %9s %9s %9s %8s" % ("command", "median", "min", "max", "cpu", "goal"))
        failed = False
        for name, cmd, goal in results:
            if cmd[0] == "sqlite3" and not shutil.which("sqlite3"):
                continue
            med, lo, hi, cpu = timed(cmd, a.runs, env)
            ok = goal is None or med < goal
            failed |= not ok
            print("%-58s %7.1fms %7.1fms %7.1fms %7.1fms %8s%s" % (name, med, lo, hi, cpu, "<%dms" % goal if goal else "-",
                                                                  "" if ok else "  MISSED"))
        inner = {}
        for _ in range(a.runs):
            p = subprocess.run([T, "report", mid, "--format", "html,csv,sarif,junit", "--out", out, "--verbose"],
                               capture_output=True, text=True, env=env)
            for line in p.stderr.splitlines():
                if "rendered " in line:
                    w = line.split("rendered ", 1)[1].split()
                    inner.setdefault(w[0], []).append(int(w[2]))
        for name in sorted(inner):
            med = statistics.median(inner[name])
            goal = 100 if name == "report.html" else None
            failed |= goal is not None and med >= goal
            print("%-58s %7.1fms %7.1fms %7.1fms %9s %8s" % ("  render alone: " + name, med, min(inner[name]),
                                                             max(inner[name]), "", "<%dms" % goal if goal else "-"))
        return 1 if failed else 0
    finally:
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
