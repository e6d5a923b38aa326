"""The monitoring desk (docs/desk.md): head anchoring (history --heads,
verify --heads), the portfolio page, trusted time (RFC 3161 tokens from a
local TSA), the auditor bundle, alerts on change. Real loopback partners
(reportlib.Partner), a real TSA made with `openssl ts`, headless Chromium."""
import json
import os
import shutil
import sqlite3
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reportlib as rl  # noqa: E402

R = rl.Results()


def scan(p, state, out, *extra):
    return rl.run(["scan", "--config", p.config, "--out", out, "--state", state, "--format", "json", "--quiet"] +
                  list(extra))


def delete_newest(state, partner):
    """What an intruder with the host's disk does: remove the newest scan's
    files and its index row; re-sign nothing. The chain that is left is intact."""
    db = sqlite3.connect(os.path.join(state, "index.sqlite"))
    seq, f = db.execute("SELECT seq, file FROM scans WHERE partner=? ORDER BY seq DESC LIMIT 1", (partner,)).fetchone()
    db.execute("DELETE FROM scans WHERE partner=? AND seq=?", (partner, seq))
    for t in [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table' AND name LIKE 'desk_%'")]:
        db.execute("DELETE FROM %s WHERE partner=? AND seq=?" % t, (partner, seq))
    db.commit()
    db.close()
    for suffix in ("", ".sig", ".tsr"):
        try:
            os.unlink(os.path.join(state, f + suffix))
        except FileNotFoundError:
            pass
    return seq


def test_heads(p, q, tmp):
    state = os.path.join(tmp, "heads-state")
    for i in range(3):
        R.check(scan(p, state, os.path.join(tmp, "h%d" % i)).returncode in (0, 1), "scan %d of %s stored" % (i, p.id))
    R.check(scan(q, state, os.path.join(tmp, "hq")).returncode in (0, 1), "scan of %s stored" % q.id)
    r = rl.run(["history", "--heads", "--state", state])
    R.check(r.returncode == 0, "history --heads exits 0: " + r.stderr)
    doc = json.loads(r.stdout)
    heads = {x["partner"]: x for x in doc["partners"]}
    R.check(doc["schema"] == "tenken.heads/1" and set(heads) == {p.id, q.id}, "heads document lists both partners")
    R.check(heads[p.id]["seq"] == 3 and len(heads[p.id]["sha256"]) == 64 and heads[p.id]["finished_at"],
            "head of %s: seq 3, its SHA-256 and timestamp" % p.id)
    db = sqlite3.connect(os.path.join(state, "index.sqlite"))
    sha3 = db.execute("SELECT sha256 FROM scans WHERE partner=? AND seq=3", (p.id,)).fetchone()[0]
    db.close()
    R.check(heads[p.id]["sha256"] == sha3, "the head hash is the stored report's hash")
    hf = os.path.join(tmp, "heads.json")
    open(hf, "w").write(r.stdout)
    v = rl.run(["verify", "--heads", hf, "--state", state])
    R.check(v.returncode == 0 and "verified: 2 partners" in v.stdout, "verify --heads passes on an untouched history: " + v.stdout[-300:])

    # the attack: delete the newest scan, index row and files; re-sign nothing
    s2 = state + "-cut"
    shutil.copytree(state, s2)
    delete_newest(s2, p.id)
    v = rl.run(["verify", p.id, "--state", s2])
    R.check(v.returncode == 0, "without the anchor the cut history still verifies (the gap the anchor closes)")
    v = rl.run(["verify", "--heads", hf, "--state", s2])
    R.check(v.returncode == 1 and ("partner %s: newest scans removed" % p.id) in v.stdout and "#3" in v.stdout and
            "ends at #2" in v.stdout, "verify --heads fails naming the partner whose newest scan was deleted: " + v.stdout)
    R.check(("ok   partner %s: anchored head" % q.id) in v.stdout, "the other partner's head still verifies")
    v = rl.run(["verify", "--heads", hf, q.id, "--state", s2])
    R.check(v.returncode == 0, "verify --heads FILE PARTNER checks only that partner")

    # delete, then scan again: the same seq with another hash
    R.check(scan(p, s2, os.path.join(tmp, "h-again")).returncode in (0, 1), "a new scan after the cut")
    v = rl.run(["verify", "--heads", hf, "--state", s2])
    R.check(v.returncode == 1 and "history rewritten: scan #3" in v.stdout, "a replaced newest scan: history rewritten")

    # every scan of a partner removed
    s3 = state + "-all"
    shutil.copytree(state, s3)
    db = sqlite3.connect(os.path.join(s3, "index.sqlite"))
    db.execute("DELETE FROM scans WHERE partner=?", (q.id,))
    db.commit()
    db.close()
    shutil.rmtree(os.path.join(s3, "reports", q.id))
    v = rl.run(["verify", "--heads", hf, "--state", s3])
    R.check(v.returncode == 1 and ("partner %s: every scan removed" % q.id) in v.stdout, "a partner removed entirely is named")

    # bad anchor files: usage errors naming the problem
    bad = os.path.join(tmp, "bad-heads.json")
    open(bad, "w").write('{"schema":"tenken.heads/1","partners":[{"partner":"x","seq":0,"sha256":"ab"}]}')
    v = rl.run(["verify", "--heads", bad, "--state", state])
    R.check(v.returncode == 2 and "partners[0]" in v.stderr, "a malformed heads file: exit 2 naming the entry")
    v = rl.run(["verify", "--heads", "--state", state])
    R.check(v.returncode == 2, "verify --heads without a FILE is a usage error")
    return state


def test_portfolio(p, q, tmp):
    import datetime
    state = os.path.join(tmp, "pf-state")
    today = datetime.datetime.now(datetime.timezone.utc)
    # p: two scans, weak site broken (fails); q: its failures waived until 10 days from now
    p.break_()
    for i in range(2):
        scan(p, state, os.path.join(tmp, "pf-p%d" % i))
    wf = os.path.join(tmp, "pf-waivers.json")
    soon = (today + datetime.timedelta(days=10)).strftime("%Y-%m-%d")
    json.dump({"waivers": [
        {"id": "W-SOON", "rule": "HSTS-MAX-AGE-SHORT", "target": "https://api.weak.test:*",
         "justification": "migration", "approver": "CISO", "expires": soon},
        {"id": "W-LATER", "rule": "HTTP-NO-HTTPS-REDIRECT", "target": "https://api.weak.test:*",
         "justification": "x", "approver": "CISO", "expires": "2099-12-31"}]}, open(wf, "w"))
    scan(q, state, os.path.join(tmp, "pf-q"), "--waivers", wf)
    # r: its endpoint is down (a closed loopback port): incomplete, with the reason
    cfg = json.load(open(q.config))
    cfg["partner"]["id"] = "down-corp"
    cfg["probes"]["hsts"]["urls"] = ["https://api.good.test:1/"]
    cfg["probes"]["hsts"]["http_port"] = 1
    rc = os.path.join(q.dir, "down.json")
    json.dump(cfg, open(rc, "w"))
    r = rl.run(["scan", "--config", rc, "--out", os.path.join(tmp, "pf-r"), "--state", state, "--format", "json", "--quiet"])
    R.check(r.returncode == 3, "a partner whose endpoint is down scans incomplete (exit %d)" % r.returncode)
    # s: scanned 5 days ago (its index time moved back; no clock games with the scanner)
    cfg["partner"]["id"] = "old-scan-inc"
    json.dump(cfg, open(rc, "w"))
    rl.run(["scan", "--config", rc, "--out", os.path.join(tmp, "pf-s"), "--state", state, "--format", "json", "--quiet"])
    db = sqlite3.connect(os.path.join(state, "index.sqlite"))
    old = (today - datetime.timedelta(days=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    db.execute("UPDATE scans SET finished_at=?, started_at=? WHERE partner='old-scan-inc'", (old, old))
    db.commit()

    out = os.path.join(tmp, "pf-out")
    r = rl.run(["portfolio", "--state", state, "--out", out, "--lang", "en", "--stale-days", "2"])
    R.check(r.returncode == 0 and "portfolio of 4 partners" in r.stdout, "portfolio renders 4 partners: " + r.stdout + r.stderr)
    m = json.load(open(os.path.join(out, "portfolio.json")))
    ps = {x["partner"]: x for x in m["partners"]}
    R.check(m["schema"] == "tenken.portfolio/1" and set(ps) == {p.id, q.id, "down-corp", "old-scan-inc"},
            "portfolio.json lists every partner in the history")
    R.check(m["totals"]["read_from_reports"] == 0, "every partner's items came from the index, no report was read")
    # the matrix equals each stored newest report's item statuses
    same = True
    for pid, x in ps.items():
        f = db.execute("SELECT file FROM scans WHERE partner=? ORDER BY seq DESC LIMIT 1", (pid,)).fetchone()[0]
        rep = json.load(open(os.path.join(state, f)))
        want = {str(i["no"]): i["status"] for i in rep["items"]}
        same = same and want == x["items"] and x["verdict"] == rep["gate"]["verdict"]
        R.check(x["report"] == os.path.join(state, f) and os.path.exists(x["report"]), "%s links to its newest report" % pid)
    R.check(same, "matrix cells and verdicts equal the newest stored reports")
    R.check(ps[p.id]["verdict"] == "fail" and ps[p.id]["seq"] == 2 and len(ps[p.id]["trend"]["points"]) == 2,
            "%s: fail, newest scan #2, a trend over 2 scans" % p.id)
    R.check(ps["down-corp"]["verdict"] == "incomplete" and ps["down-corp"]["incomplete"] and
            all(v and v != "no evidence" for v in ps["down-corp"]["incomplete"].values()),
            "an incomplete partner lists its incomplete items with the reason: %s" %
            list(ps["down-corp"]["incomplete"].items())[:1])
    R.check(ps["old-scan-inc"]["stale"] and ps["old-scan-inc"]["current_verdict"] == "stale" and
            ps["old-scan-inc"]["age_hours"] >= 119 and not ps[p.id]["stale"],
            "a partner last scanned 5 days ago is flagged stale (age %.0f h); fresh ones are not" % ps["old-scan-inc"]["age_hours"])
    R.check(m["totals"]["stale"] == 1 and m["totals"]["fail"] == 1 and m["totals"]["incomplete"] == 1,
            "totals: a stale partner's verdict is not counted as current: %s" % m["totals"])
    ws = [(w["partner"], w["id"]) for w in m["waivers_expiring"]]
    R.check(ws == [(q.id, "W-SOON")] and m["waivers_expiring"][0]["days_left"] in (9, 10),
            "waivers expiring within 30 days: W-SOON only (%s)" % m["waivers_expiring"])
    top = m["top_failing"]
    R.check(top and top[0]["fail"] >= 1 and str(top[0]["no"]) in [k for k, v in ps[p.id]["items"].items() if v == "fail"],
            "the items failing across most partners come from the failing partners: %s" % top[:2])
    R.check(all(v != "fail" for v in ps[q.id]["items"].values()), "waived items do not count as failing")

    # an index without the per-item rows (a history from before them): read from the newest report instead
    db.execute("DELETE FROM desk_items WHERE partner=?", (p.id,))
    db.commit()
    db.close()
    out2 = os.path.join(tmp, "pf-out2")
    r = rl.run(["portfolio", "--state", state, "--out", out2, "--lang", "en", "--stale-days", "2"])
    m2 = json.load(open(os.path.join(out2, "portfolio.json")))
    R.check(m2["totals"]["read_from_reports"] == 1 and
            {x["partner"]: x["items"] for x in m2["partners"]}[p.id] == ps[p.id]["items"],
            "without its index record a partner's items are read from its newest report, same result")

    html = open(os.path.join(out, "portfolio.html"), encoding="utf-8").read()
    R.check("<script" not in html and "Content-Security-Policy" in html and p.id in html and "W-SOON" in html,
            "portfolio.html: no scripts, a CSP, the partners and the expiring waiver")
    r = rl.run(["portfolio", "--state", state, "--out", os.path.join(tmp, "pf-ja")])
    R.check(r.returncode == 0 and "取引先" in open(os.path.join(tmp, "pf-ja", "portfolio.html"), encoding="utf-8").read(),
            "--lang ja (the default) renders Japanese labels")
    r = rl.run(["portfolio", "--state", os.path.join(tmp, "nothing"), "--out", os.path.join(tmp, "pf-x")])
    R.check(r.returncode == 2, "portfolio over a missing history is a usage error")
    if not rl.chromium_binary():
        print("SKIP headless Chromium screenshot: chromium is not installed")
        return
    png = os.path.join(os.environ.get("TENKEN_BUILD_DIR", tmp), "desk-portfolio.png")
    ok, console, _ = rl.chromium_screenshot(os.path.join(out, "portfolio.html"), png, width=1400, height=1100)
    R.check(ok and not console, "headless Chromium renders portfolio.html without console errors (%s) %s" % (png, console))
    if ok:
        st = rl.png_stats(png)
        print("screenshot stats: %s" % (st,))


def main():
    tmp = tempfile.mkdtemp(prefix="tenken-desk-")
    only = set(sys.argv[1:])
    try:
        with rl.Partner("acme-pay") as p, rl.Partner("beta-bank-link") as q:
            if not only or "heads" in only:
                test_heads(p, q, tmp)
            if not only or "portfolio" in only:
                test_portfolio(p, q, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    R.finish()


if __name__ == "__main__":
    main()
