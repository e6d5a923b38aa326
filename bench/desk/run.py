"""Portfolio benchmark (docs/desk.md): a state directory with P partners x D
daily scans (default 1,000 x 365), generated here at bench time, never
committed, then `tenken portfolio` timed over it.

The state directory is made the way tenken makes it (`tenken key show`
creates the index schema and the key); the rows are then written straight
into the index (scans + desk_items), as 365,000 real scans would leave them:
this measures the portfolio's reads, not the scanning. The newest report of
each partner is not written (the portfolio only links to it).

usage: python3 bench/desk/run.py [--tenken build/tenken] [--partners 1000] [--days 365] [--keep DIR] [--runs 3]
"""
import argparse
import datetime
import hashlib
import json
import os
import random
import shutil
import sqlite3
import subprocess
import tempfile
import time

LETTERS = "pfimnw"


def generate(tenken, state, partners, days, checklists):
    subprocess.run([tenken, "key", "show", "--state", state], check=True, capture_output=True)
    db = sqlite3.connect(os.path.join(state, "index.sqlite"))
    db.execute("PRAGMA synchronous=OFF")
    rnd = random.Random(16)
    start = datetime.datetime(2025, 12, 8, 2, 0, 0, tzinfo=datetime.timezone.utc)
    scans, items = [], []
    for pi in range(partners):
        pid = "partner-%04d" % pi
        cl_id, nos = checklists[pi % 7 == 6]
        weak = [n for n in nos if rnd.random() < 0.08]
        last_day = days - 1 if pi % 20 else days - 1 - rnd.randint(3, 20)  # 5% stale
        prev = ""
        for d in range(days):
            if d > last_day:
                break
            seq = d + 1
            t = start + datetime.timedelta(days=d, minutes=pi % 60)
            st = {}
            for n in nos:
                r = rnd.random()
                if n in weak and r < 0.6:
                    st[n] = "f"
                elif r < 0.02:
                    st[n] = "i"
                elif n % 5 == 0:
                    st[n] = "m"
                elif n % 11 == 0:
                    st[n] = "n"
                else:
                    st[n] = "p"
            nf = sum(1 for v in st.values() if v == "f")
            ni = sum(1 for v in st.values() if v == "i")
            verdict = "fail" if nf else "incomplete" if ni else "pass"
            sha = hashlib.sha256(("%s/%d" % (pid, seq)).encode()).hexdigest()
            ts = t.strftime("%Y-%m-%dT%H:%M:%SZ")
            scans.append((pid, seq, "run-%s-%d" % (pid, seq), "scan", cl_id, ts, ts, verdict, int(ni == 0),
                          sum(1 for v in st.values() if v == "p"), nf, ni,
                          sum(1 for v in st.values() if v == "m"), sum(1 for v in st.values() if v == "n"), 0,
                          sha, prev, "reports/%s/%08d.json" % (pid, seq), "SHA256:bench"))
            inc = {str(n): "tls.protocols: timeout: no answer within 10 s" for n, v in st.items() if v == "i"}
            waivers = []
            if pi % 50 == 0:
                exp = (start + datetime.timedelta(days=days + pi % 40)).strftime("%Y-%m-%d")
                waivers = [{"id": "W-%d" % pi, "target": "hsts.max_age", "expires": exp}]
            items.append((pid, seq, ";".join("%d=%s" % (n, st[n]) for n in nos),
                          json.dumps({"incomplete": inc, "waivers": waivers, "expired_waivers": 0})))
            prev = sha
        if len(scans) > 50000:
            flush(db, scans, items)
    flush(db, scans, items)
    db.commit()
    db.close()
    return (start + datetime.timedelta(days=days - 1, hours=6)).strftime("%Y-%m-%dT%H:%M:%SZ")


def flush(db, scans, items):
    db.executemany("INSERT INTO scans VALUES(%s)" % ",".join("?" * 19), scans)
    db.executemany("INSERT INTO desk_items(partner, seq, items, extra) VALUES(?,?,?,?)", items)
    scans.clear()
    items.clear()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tenken", default="build/tenken")
    ap.add_argument("--partners", type=int, default=1000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--keep", help="generate into (or reuse) this directory and keep it")
    a = ap.parse_args()
    tenken = os.path.abspath(a.tenken)
    cls = []
    for cid in ("fisc-api-2018", "cashless-card-2019"):
        d = json.loads(subprocess.run([tenken, "checklist", "show", cid, "--format", "json"], check=True,
                                      capture_output=True, text=True).stdout)
        cls.append((cid, [i["no"] for i in d["items"] if isinstance(i["no"], int)]))
    tmp = tempfile.mkdtemp(prefix="tenken-bench-desk-")
    state = a.keep or os.path.join(tmp, "state")
    try:
        now_file = os.path.join(state, ".bench-now")
        if not os.path.exists(now_file):
            t0 = time.time()
            now = generate(tenken, state, a.partners, a.days, cls)
            open(now_file, "w").write(now)
            print("generated %d partners x %d scans in %.1f s (%s, index %.0f MB)" %
                  (a.partners, a.days, time.time() - t0, state,
                   os.path.getsize(os.path.join(state, "index.sqlite")) / 1e6))
        now = open(now_file).read()
        out = os.path.join(tmp, "out")
        times = []
        for _ in range(a.runs):
            t0 = time.time()
            p = subprocess.run([tenken, "portfolio", "--state", state, "--out", out, "--now", now, "--lang", "en"],
                               capture_output=True, text=True)
            times.append(time.time() - t0)
            if p.returncode != 0:
                raise SystemExit("portfolio failed: " + p.stderr)
        print(p.stdout.strip())
        print("portfolio.html %.1f MB, portfolio.json %.1f MB" %
              (os.path.getsize(os.path.join(out, "portfolio.html")) / 1e6,
               os.path.getsize(os.path.join(out, "portfolio.json")) / 1e6))
        print("portfolio wall time over %d runs: best %.2f s, median %.2f s, worst %.2f s" %
              (len(times), min(times), sorted(times)[len(times) // 2], max(times)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
