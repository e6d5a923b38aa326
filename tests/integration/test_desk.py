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
        rep = json.loads(read_stored(os.path.join(state, f)))
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


class TSA:
    """A real RFC 3161 TSA on loopback: `openssl ts -reply` (a test CA, a TSA
    certificate with extendedKeyUsage critical timeStamping) behind a small
    http.server responder. mode: "ok", "500", "garbage"; stop() = down."""

    CNF = """[ tsa ]
default_tsa = tsa_config1
[ tsa_config1 ]
dir = {d}
serial = {d}/tsaserial
crypto_device = builtin
signer_cert = {d}/tsa.pem
certs = {d}/tsa-ca.pem
signer_key = {d}/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""

    def __init__(self, d):
        import http.server
        import random
        import subprocess
        import threading
        self.d, self.mode, self.hits = d, "ok", 0
        os.makedirs(d, exist_ok=True)

        def ossl(*a):
            subprocess.run(["openssl"] + list(a), cwd=d, check=True, capture_output=True)
        ossl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "tsa-ca.key",
             "-out", "tsa-ca.pem", "-days", "30", "-subj", "/CN=tenken test TSA CA",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        open(os.path.join(d, "tsa.ext"), "w").write(
            "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\n")
        ossl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "tsa.key",
             "-out", "tsa.csr", "-subj", "/CN=tenken test TSA")
        ossl("x509", "-req", "-in", "tsa.csr", "-CA", "tsa-ca.pem", "-CAkey", "tsa-ca.key", "-CAcreateserial",
             "-out", "tsa.pem", "-days", "30", "-extfile", "tsa.ext")
        open(os.path.join(d, "tsaserial"), "w").write("01\n")
        open(os.path.join(d, "tsa.cnf"), "w").write(self.CNF.format(d=d))
        tsa, lock = self, threading.Lock()

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                tsa.hits += 1
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if tsa.mode == "slow":
                    import time as _t
                    _t.sleep(30)
                if tsa.mode == "500":
                    self.send_response(500)
                    self.end_headers()
                    return
                if tsa.mode == "503once":  # one 503, then answers (a retry within the request gets the token)
                    tsa.mode = "ok"
                    self.send_response(503)
                    self.end_headers()
                    return
                if tsa.mode == "garbage":
                    out = b"\x30\x03\x02\x01\x00" + b"x" * 10
                else:
                    with lock:
                        q, r = os.path.join(d, "q.tsq"), os.path.join(d, "r.tsr")
                        open(q, "wb").write(body)
                        subprocess.run(["openssl", "ts", "-reply", "-config", os.path.join(d, "tsa.cnf"),
                                        "-queryfile", q, "-out", r], check=True, capture_output=True)
                        out = open(r, "rb").read()
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)
        for _ in range(50):
            addr = "127.17.%d.%d" % (random.randint(0, 255), random.randint(1, 254))
            try:
                self.srv = http.server.ThreadingHTTPServer((addr, 0), H)
                break
            except OSError:
                continue
        self.url = "http://%s:%d/tsa" % self.srv.server_address
        self.thread = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.thread.start()
        self.up = True

    def configure(self, state, url=None, timeout_s=5):
        os.makedirs(state, exist_ok=True)
        json.dump({"url": url or self.url, "ca_file": os.path.join(self.d, "tsa-ca.pem"), "timeout_s": timeout_s},
                  open(os.path.join(state, "tsa.json"), "w"))

    def stop(self):
        if self.up:
            self.srv.shutdown()
            self.srv.server_close()
            self.up = False


def stored(state, pid, seq):
    """The stored report file of scan seq: <seq>.json.gz since the history compresses, else .json."""
    base = os.path.join(state, "reports", pid, "%08d.json" % seq)
    return base + ".gz" if os.path.exists(base + ".gz") or not os.path.exists(base) else base


def read_stored(path):
    import gzip
    with open(path, "rb") as f:
        data = f.read()
    return gzip.decompress(data) if path.endswith(".gz") else data


def test_tsa(p, tmp):
    import subprocess
    tsa = TSA(os.path.join(tmp, "tsa"))
    try:
        state = os.path.join(tmp, "tsa-state")
        tsa.configure(state)
        r = scan(p, state, os.path.join(tmp, "t1"))
        f1 = stored(state, p.id, 1)
        R.check(r.returncode in (0, 1) and os.path.exists(f1 + ".tsr"), "a stored report gets its token beside it (.tsr)")
        # the token is what `openssl ts -verify` accepts for the report as signed (uncompressed)
        plain1 = os.path.join(tmp, "00000001.json")
        with open(plain1, "wb") as out:
            out.write(read_stored(f1))
        v = subprocess.run(["openssl", "ts", "-verify", "-in", f1 + ".tsr", "-data", plain1, "-CAfile",
                            os.path.join(tsa.d, "tsa-ca.pem")], capture_output=True, text=True)
        R.check(v.returncode == 0 and "Verification: OK" in v.stdout, "openssl ts -verify accepts the stored token")
        v = rl.run(["verify", p.id, "--state", state])
        R.check(v.returncode == 0 and "scan #1: trusted timestamp 20" in v.stdout, "verify checks the token: " + v.stdout[-200:])

        # TSA down at scan time: the scan still stores; the missing token is recorded and verify says so
        tsa.stop()
        r = scan(p, state, os.path.join(tmp, "t2"))
        f2 = stored(state, p.id, 2)
        R.check(r.returncode in (0, 1) and os.path.exists(f2) and not os.path.exists(f2 + ".tsr"),
                "TSA unreachable: the scan still stores its report (exit %d), without a token" % r.returncode)
        R.check("no token" in r.stderr and "retried on the next run" in r.stderr, "the scan warns: " + r.stderr[-300:])
        v = rl.run(["verify", p.id, "--state", state])
        R.check(v.returncode == 1 and "scan #2: timestamp token missing" in v.stdout and "1 attempt" in v.stdout,
                "verify reports the missing token with the reason, never silently: " + v.stdout[-300:])
        # a TSA that answers 500, then garbage
        tsa2 = TSA(os.path.join(tmp, "tsa2"))
        try:
            tsa2.configure(state)
            tsa2.mode = "500"
            h0 = tsa2.hits
            r = scan(p, state, os.path.join(tmp, "t3"))
            R.check(r.returncode in (0, 1) and "HTTP status 500" in r.stderr, "TSA returns 500: recorded, scan unaffected")
            R.check(tsa2.hits - h0 == 4, "each token request is retried once on a 500 (scans #3 and pending #2: "
                    "%d requests, 4 expected)" % (tsa2.hits - h0))
            tsa2.mode = "slow"
            tsa2.configure(state, timeout_s=2)
            import time
            t0 = time.time()
            r = scan(p, state, os.path.join(tmp, "t3s"))
            took = time.time() - t0
            R.check(r.returncode in (0, 1) and "Timeout" in r.stderr and took < 25,
                    "a TSA that stalls is bounded by timeout_s: the scan stored in %.1f s" % took)
            tsa2.configure(state)
            tsa2.mode = "garbage"
            r = scan(p, state, os.path.join(tmp, "t4"))
            R.check(r.returncode in (0, 1) and "not a DER TimeStampResp" in r.stderr, "TSA returns garbage: rejected, recorded")
            v = rl.run(["verify", p.id, "--state", state])
            R.check(v.returncode == 1 and "scan #3: timestamp token missing" in v.stdout and
                    "scan #5: timestamp token missing" in v.stdout, "verify names both scans without tokens")
            # back up: the next scan stamps itself and the pending ones
            tsa2.mode = "503once"
            r = scan(p, state, os.path.join(tmp, "t5"))
            have = [os.path.exists(stored(state, p.id, i) + ".tsr") for i in range(1, 7)]
            R.check(all(have[1:]), "TSA back (its first answer a 503, retried): the next run stores its own token and "
                    "retries the pending ones (%s)" % have)
        finally:
            tsa2.stop()
        # tokens from the first TSA no longer chain to the configured CA: named, not ignored
        v = rl.run(["verify", p.id, "--state", state])
        R.check(v.returncode == 1 and "scan #1: timestamp token invalid" in v.stdout and "scan #2: trusted timestamp" in v.stdout,
                "a token from another TSA (not chaining to ca_file) is invalid; the retried ones verify")
        tsa2.configure(state)
        # a tampered token and a token for another report
        s2 = state + "-t"
        shutil.copytree(state, s2)
        t5 = stored(s2, p.id, 6) + ".tsr"
        b = bytearray(open(t5, "rb").read())
        b[-40] ^= 0xff
        open(t5, "wb").write(bytes(b))
        shutil.copy(stored(s2, p.id, 2) + ".tsr", stored(s2, p.id, 3) + ".tsr")
        os.unlink(stored(s2, p.id, 4) + ".tsr")
        v = rl.run(["verify", p.id, "--state", s2])
        R.check(v.returncode == 1 and "scan #6: timestamp token invalid" in v.stdout, "a modified token is invalid")
        R.check("scan #3: timestamp token invalid" in v.stdout, "another report's token does not cover this report")
        R.check("scan #4: timestamp token missing" in v.stdout, "a deleted token is reported missing")
        # no TSA configured: verify says the reports carry no trusted time
        plain = os.path.join(tmp, "tsa-none")
        scan(p, plain, os.path.join(tmp, "t6"))
        v = rl.run(["verify", p.id, "--state", plain])
        R.check(v.returncode == 0 and "no TSA configured" in v.stdout, "without a TSA verify notes the absence of trusted time")
        bad = os.path.join(tmp, "tsa-bad")
        os.makedirs(bad)
        json.dump({"url": "ftp://x", "ca_file": "x.pem"}, open(os.path.join(bad, "tsa.json"), "w"))
        r = scan(p, bad, os.path.join(tmp, "t7"))
        v = rl.run(["verify", p.id, "--state", bad])
        R.check(r.returncode in (0, 1) and "url" in r.stderr and v.returncode == 1 and "timestamp token missing" in v.stdout,
                "a broken tsa.json: scan stores, warns naming the field; verify fails on the missing token")
    finally:
        tsa.stop()


def test_export(p, tmp):
    import subprocess
    import tarfile
    tsa = TSA(os.path.join(tmp, "etsa"))
    try:
        state = os.path.join(tmp, "exp-state")
        tsa.configure(state)
        for i in range(3):
            scan(p, state, os.path.join(tmp, "e%d" % i))
    finally:
        tsa.stop()
    bundle = os.path.join(tmp, "bundle.tar.gz")
    r = rl.run(["export", p.id, "--out", bundle, "--state", state])
    R.check(r.returncode == 0 and os.path.exists(bundle), "export writes the bundle: " + r.stdout + r.stderr)
    names = tarfile.open(bundle).getnames()
    root = "tenken-export-" + p.id
    want = ["VERIFY.md", "verify.sh", "MANIFEST", "MANIFEST.sig", "chain.tsv", "hashes.tsv", "keys/agent.pub.pem",
            "tsa/tsa-ca.pem", "reports/00000003.json", "reports/00000003.json.sig", "reports/00000003.json.tsr",
            "data/checklists/fisc-api-2018.json"]
    R.check(all(root + "/" + w in names for w in want), "the bundle holds reports, signatures, tokens, chain, key, TSA CA, "
            "checklist data, VERIFY.md (missing: %s)" % [w for w in want if root + "/" + w not in names])
    clean_env = {"PATH": "/usr/bin:/bin", "HOME": tmp, "LC_ALL": "C"}

    def unpack(name):
        d = os.path.join(tmp, name)
        os.makedirs(d)
        subprocess.run(["tar", "xzf", bundle, "-C", d], check=True)
        return os.path.join(d, root)

    def run_script(d):
        return subprocess.run(["sh", os.path.join(d, "verify.sh")], cwd=os.path.dirname(d), env=clean_env,
                              capture_output=True, text=True, timeout=120)
    d = unpack("clean")
    R.check(subprocess.run(["sh", "-c", "command -v tenken"], env=clean_env).returncode != 0,
            "the clean environment has no tenken binary on PATH")
    v = run_script(d)
    R.check(v.returncode == 0 and "VERIFIED: %s, 3 reports" % p.id in v.stdout, "verify.sh (openssl only) passes: " +
            v.stdout[-600:] + v.stderr[-300:])
    R.check(v.stdout.count("RFC 3161 timestamp") == 3 and "rule set = data/rules/" in v.stdout and
            "checklist fisc-api-2018 = data/checklists" in v.stdout,
            "verify.sh checked 3 tokens, the rule-set hash and the checklist hash")
    md = open(os.path.join(d, "VERIFY.md")).read()
    R.check("```sh\n#!/bin/sh" in md and open(os.path.join(d, "verify.sh")).read() in md, "VERIFY.md carries the script")

    # tampering: each breaks verify.sh, each named
    d = unpack("edited")
    f = os.path.join(d, "reports", "00000002.json")
    t = open(f, encoding="utf-8").read().replace('"pass"', '"PASS"', 1)
    open(f, "w", encoding="utf-8").write(t)
    v = run_script(d)
    R.check(v.returncode == 1 and "scan #2: report SHA-256" in v.stdout and "(modified)" in v.stdout,
            "an edited report fails verify.sh: " + "".join(l + "\n" for l in v.stdout.splitlines() if l.startswith("FAIL")))
    # ... even when the attacker also rewrites MANIFEST and chain.tsv (no key to re-sign)
    import hashlib
    sha = hashlib.sha256(open(f, "rb").read()).hexdigest()
    m = open(os.path.join(d, "MANIFEST")).read().splitlines()
    m = [("%s  %s" % (sha, l.split("  ", 1)[1])) if l.endswith("reports/00000002.json") else l for l in m]
    open(os.path.join(d, "MANIFEST"), "w").write("\n".join(m) + "\n")
    v = run_script(d)
    R.check(v.returncode == 1 and "MANIFEST signature invalid" in v.stdout, "rewriting MANIFEST breaks its signature")

    d = unpack("removed")
    os.unlink(os.path.join(d, "reports", "00000002.json"))
    v = run_script(d)
    R.check(v.returncode == 1 and "reports/00000002.json: listed in MANIFEST but missing" in v.stdout,
            "a removed report fails verify.sh")
    d = unpack("removed-all")
    for suf in ("", ".sig", ".tsr"):
        os.unlink(os.path.join(d, "reports", "00000002.json" + suf))
    lines = [l for l in open(os.path.join(d, "chain.tsv")) if not l.startswith("2\t")]
    open(os.path.join(d, "chain.tsv"), "w").write("".join(lines))
    v = run_script(d)
    R.check(v.returncode == 1 and "missing from the chain (removed)" in v.stdout,
            "a report removed with its chain line: the sequence gap is named")

    d = unpack("swapped")
    a, b = (os.path.join(d, "reports", "%08d.json.sig" % i) for i in (1, 2))
    ta, tb = open(a).read(), open(b).read()
    open(a, "w").write(tb)
    open(b, "w").write(ta)
    v = run_script(d)
    R.check(v.returncode == 1 and "(swapped)" in v.stdout, "swapped signatures fail verify.sh")

    d = unpack("token")
    tk = os.path.join(d, "reports", "00000003.json.tsr")
    shutil.copy(os.path.join(d, "reports", "00000001.json.tsr"), tk)
    v = run_script(d)
    R.check(v.returncode == 1 and "scan #3: timestamp token invalid" in v.stdout, "another report's token fails")

    r = rl.run(["export", p.id, "--out", os.path.join(tmp, "b2.tar.gz"), "--state", state, "--from", "2999"])
    R.check(r.returncode == 2 and "time range" in r.stderr, "an empty --from/--to range is a usage error")
    r = rl.run(["export", p.id, "--out", os.path.join(tmp, "b3.tar.gz"), "--state", state, "--from", "2000",
                "--to", "2999"])
    R.check(r.returncode == 0 and "3 reports" in r.stdout, "--from/--to bound the exported scans")


class Receiver:
    """A webhook receiver on a random 127.17.x.y: mode "ok" (200), "500", "slow" (sleeps 30 s)."""

    def __init__(self):
        import http.server
        import random
        import threading
        self.mode, self.bodies = "ok", []
        rec = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if rec.mode == "slow":
                    import time as _t
                    _t.sleep(30)
                if rec.mode in ("500", "404"):
                    self.send_response(int(rec.mode))
                    self.end_headers()
                    return
                rec.bodies.append((self.path, self.headers.get("Content-Type"), body))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")
        for _ in range(50):
            try:
                self.srv = http.server.ThreadingHTTPServer(
                    ("127.17.%d.%d" % (random.randint(0, 255), random.randint(1, 254)), 0), H)
                break
            except OSError:
                continue
        self.addr = self.srv.server_address
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def texts(self):
        return [json.loads(b)["text"] for _, _, b in self.bodies]

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()


def free_port(addr):
    import socket
    s = socket.socket()
    s.bind((addr, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_notify(p, tmp):
    import random
    import socket
    import stat
    import subprocess
    import time
    d = os.path.join(tmp, "notify")
    os.makedirs(d)
    rec = Receiver()
    token = "T0KEN-%d-SECRET" % random.randint(10**8, 10**9)
    url_file = os.path.join(d, "webhook-url")
    open(url_file, "w").write("http://%s:%d/services/%s\n" % (rec.addr[0], rec.addr[1], token))
    os.chmod(url_file, 0o600)
    # syslog: a unix datagram socket we read
    slog = os.path.join(d, "log.sock")
    ss = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ss.bind(slog)
    ss.settimeout(0.2)

    def syslog_lines():
        out = []
        while True:
            try:
                out.append(ss.recv(4096).decode())
            except socket.timeout:
                return out
    # SMTP: aiosmtpd with STARTTLS (throwaway cert) and AUTH
    import tkharness
    smtp_addr = "127.17.%d.%d" % (random.randint(0, 255), random.randint(1, 254))
    ca = tkharness.TestCA(d)  # throwaway CA + a server certificate for the SMTP address
    smtp_cert, smtp_key = ca.issue(smtp_addr)
    mail_dir = os.path.join(d, "mail")
    os.makedirs(mail_dir)
    pw = "pw-%d" % random.randint(10**8, 10**9)
    pw_file = os.path.join(d, "smtp-password")
    open(pw_file, "w").write(pw + "\n")
    os.chmod(pw_file, 0o600)
    port = free_port(smtp_addr)
    smtpd = None
    if os.path.exists("/usr/bin/python3") and subprocess.run(["/usr/bin/python3", "-c", "import aiosmtpd"]).returncode == 0:
        smtpd = subprocess.Popen(["/usr/bin/python3", os.path.join(os.path.dirname(os.path.abspath(__file__)), "desk_smtpd.py"),
                                  smtp_addr, str(port), smtp_cert, smtp_key, "tenken", pw, mail_dir],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        R.check(smtpd.stdout.readline().strip() == "ready", "aiosmtpd (STARTTLS + AUTH) started")
    else:
        print("SKIP e-mail channel: python3-aiosmtpd (Debian) is not installed")
    try:
        notify = {"webhook": {"url_file": "webhook-url", "timeout_s": 2},
                  "syslog": {"socket": slog, "facility": "local3"},
                  "deadline_s": 15}
        if smtpd:
            notify["email"] = {"smtp_url": "smtp://%s:%d" % (smtp_addr, port), "from": "tenken@bank.test",
                               "to": ["desk@bank.test"], "username": "tenken", "password_file": "smtp-password",
                               "ca_file": os.path.join(d, "ca.pem"), "timeout_s": 10}
        cfg = json.load(open(p.config))
        cfg["partner"]["id"] = "notify-pay"
        cfg["notify"] = notify
        cfg["probes"]["hsts"]["ca_file"] = os.path.join(p.dir, "ca.pem")
        conf = os.path.join(d, "partner.json")
        json.dump(cfg, open(conf, "w"))
        state = os.path.join(d, "state")

        def nscan(name):
            t0 = time.time()
            r = rl.run(["scan", "--config", conf, "--out", os.path.join(d, name), "--state", state, "--format", "json",
                        "--quiet"])
            return r, time.time() - t0
        p.break_()
        r, _ = nscan("s1")
        texts = rec.texts()
        R.check(r.returncode in (0, 1) and len(texts) == 2 and all("newly failing" in t and "notify-pay" in t for t in texts),
                "first failing scan: one webhook alert per newly failing item (%s)" % texts)
        R.check(all(ct == "application/json" and path.endswith(token) for path, ct, _ in rec.bodies),
                "webhook: JSON POST with a text field (Slack/Teams shape) to the secret URL")
        sl = syslog_lines()
        R.check(len(sl) == 2 and all(x.startswith("<156>") and "tenken[" in x and "newly failing" in x for x in sl),
                "syslog: the same 2 alerts, facility local3 severity warning (%s)" % sl[:1])
        if smtpd:
            time.sleep(0.5)
            mails = sorted(os.listdir(mail_dir))
            if not mails:
                db = sqlite3.connect(os.path.join(state, "index.sqlite"))
                print(db.execute("SELECT channel, state, last_error FROM desk_alerts").fetchall())
                db.close()
            body = open(os.path.join(mail_dir, mails[0]), "rb").read().decode() if mails else ""
            R.check(len(mails) == 2 and "X-Tls: yes" in body and "Subject: [tenken] notify-pay: item" in body,
                    "e-mail: 2 messages over SMTP after STARTTLS with AUTH (%d)" % len(mails))
        r, _ = nscan("s2")
        R.check(len(rec.texts()) == 2 and not syslog_lines(), "an unchanged second scan raises nothing (no repeats)")
        p.fix()
        r, _ = nscan("s3")
        R.check(len(rec.texts()) == 4 and all("resolved" in t for t in rec.texts()[2:]), "fixed: one resolved alert per item")
        # the receiver fails: the scan is unaffected, the failure recorded, delivered on the next run
        p.break_()
        rec.mode = "500"
        r, took = nscan("s4")
        R.check(r.returncode in (0, 1) and took < 40 and "HTTP status 500" in r.stderr and "retried on the next run" in r.stderr,
                "webhook 500: the scan completes (exit %d, %.1f s), the failure is logged and recorded" % (r.returncode, took))
        db = sqlite3.connect(os.path.join(state, "index.sqlite"))
        pend = db.execute("SELECT count(*), max(attempts) FROM desk_alerts WHERE state='pending' AND channel='webhook'").fetchone()
        R.check(pend[0] == 2 and pend[1] == 3, "2 webhook alerts pending after 3 attempts each (%s)" % (pend,))
        # a 4xx is not retried in the run (the same POST would fail the same way): one more attempt each, pending
        rec.mode = "404"
        r, _ = nscan("s4b")
        pend = db.execute("SELECT count(*), min(attempts), max(attempts) FROM desk_alerts"
                          " WHERE state='pending' AND channel='webhook'").fetchone()
        R.check(r.returncode in (0, 1) and "HTTP status 404" in r.stderr and pend == (2, 4, 4),
                "webhook 404: one attempt per alert in this run, still pending (%s)" % (pend,))
        rec.mode = "slow"
        r, took = nscan("s5")
        R.check(r.returncode in (0, 1) and took < 60, "a receiver that stalls: the scan is bounded (%.1f s)" % took)
        rec.mode = "ok"
        rec.srv.shutdown()
        rec.srv.server_close()
        r, took = nscan("s6")
        R.check(r.returncode in (0, 1) and "Couldn't connect" in r.stderr, "a receiver that is down: recorded, scan unaffected")
        rec2_addr = rec.addr
        rec = Receiver.__new__(Receiver)
        Receiver.__init__(rec)
        open(url_file, "w").write("http://%s:%d/services/%s\n" % (rec.addr[0], rec.addr[1], token))
        nc = os.path.join(d, "notify.json")
        json.dump(dict(notify, stale_hours=48), open(nc, "w"))
        n = rl.run(["notify", "--config", nc, "--state", state])
        R.check(n.returncode == 0 and len(rec.texts()) == 2 and all("newly failing" in t for t in rec.texts()),
                "tenken notify delivers the pending alerts once the receiver is back (%s)" % rec.texts())
        n = rl.run(["notify", "--config", nc, "--state", state])
        R.check(n.returncode == 0 and len(rec.texts()) == 2, "and never again")
        # stale and verify failures
        later = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3 * 86400))
        f = stored(state, "notify-pay", 2)
        os.chmod(f, 0o600)
        open(f, "a").write(" ")
        n = rl.run(["notify", "--config", nc, "--state", state, "--now", later])
        t = rec.texts()[2:]
        R.check(any("scan stale" in x for x in t) and any("verify fails" in x for x in t) and len(t) == 2,
                "tenken notify: a stale scan and a failing verify each raise one alert (%s)" % t)
        n = rl.run(["notify", "--config", nc, "--state", state, "--now", later])
        R.check(len(rec.texts()) == 4, "stale and verify alerts are not repeated")
        syslog_lines()
        # the endpoint goes down (items become incomplete) and a waiver has expired
        down = dict(cfg)
        down["probes"] = json.loads(json.dumps(cfg["probes"]))
        down["probes"]["hsts"]["urls"] = ["https://api.good.test:1/"]
        down["probes"]["hsts"]["http_port"] = 1
        json.dump(down, open(conf, "w"))
        wf = os.path.join(d, "waivers.json")
        json.dump({"waivers": [{"id": "W-OLD", "rule": "HSTS-MAX-AGE-SHORT", "target": "https://api.weak.test:*",
                                "justification": "x", "approver": "CISO", "expires": "2001-01-01"}]}, open(wf, "w"))
        r = rl.run(["scan", "--config", conf, "--out", os.path.join(d, "s-down"), "--state", state, "--format", "json",
                    "--quiet"])
        t = rec.texts()[4:]
        R.check(r.returncode == 3 and sum("became incomplete" in x for x in t) == 2 and
                all("Couldn't connect" in x for x in t if "became incomplete" in x),
                "endpoint down: one 'became incomplete' alert per item, with the reason (%s)" % t[:1])
        json.dump(cfg, open(conf, "w"))
        r = rl.run(["scan", "--config", conf, "--out", os.path.join(d, "s-w"), "--state", state, "--format", "json",
                    "--quiet", "--waivers", wf])
        t = rec.texts()[6:]
        R.check(sum("waiver W-OLD expired" in x for x in t) == 1, "an expired waiver raises one alert (%s)" % t)
        n0 = len(rec.texts())
        # secrets
        os.chmod(url_file, 0o644)
        p.fix()
        r, _ = nscan("s7")
        R.check("mode 0644 refused" in r.stderr and len(rec.texts()) == n0,
                "a webhook URL file with mode 0644 is refused, named in the log")
        os.chmod(url_file, 0o600)
        leaked = [os.path.join(dp, fn) for dp, _, fns in os.walk(state) for fn in fns
                  if token.encode() in open(os.path.join(dp, fn), "rb").read() or pw.encode() in open(os.path.join(dp, fn), "rb").read()]
        R.check(not leaked and token not in r.stderr, "the webhook token and SMTP password appear in no report, index or log (%s)" % leaked)
        bad = dict(cfg)
        bad["notify"] = {"webhook": {"url": "http://x"}}
        json.dump(bad, open(os.path.join(d, "bad.json"), "w"))
        r = rl.run(["validate", "--config", os.path.join(d, "bad.json")])
        R.check(r.returncode == 2 and "notify.webhook.url: unknown key" in r.stderr, "a bad notify section is a config error: " + r.stderr)
        rec.stop()
    finally:
        ss.close()
        if smtpd:
            smtpd.kill()
            smtpd.wait()


def main():
    tmp = tempfile.mkdtemp(prefix="tenken-desk-")
    only = set(sys.argv[1:])
    try:
        with rl.Partner("acme-pay") as p, rl.Partner("beta-bank-link") as q:
            if not only or "heads" in only:
                test_heads(p, q, tmp)
            if not only or "portfolio" in only:
                test_portfolio(p, q, tmp)
            if not only or "tsa" in only:
                test_tsa(p, tmp)
            if not only or "export" in only:
                test_export(p, tmp)
            if not only or "notify" in only:
                test_notify(p, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    R.finish()


if __name__ == "__main__":
    main()
