"""History: signed, hash-chained storage of every scan and gate run; the
history/diff/verify/report/key subcommands; tampering (edit, delete, swap,
re-sign with another key) named by verify; kills at random points during a
scan leave a verifiable history; waivers and self-attestation."""
import base64
import csv
import gzip
import io
import json
import os
import random
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reportlib as rl  # noqa: E402

R = rl.Results()


def scan(p, state, out, *extra, cmd="scan", formats="json"):
    return rl.run([cmd, "--config", p.config, "--out", out, "--state", state, "--format", formats, "--quiet"] +
                  list(extra))


def verify(state, what):
    return rl.run(["verify", what, "--state", state])


def copy_state(state, name):
    d = state + "-" + name
    shutil.copytree(state, d)
    return d


def gunzip(path):
    """A stored report's bytes (the history keeps <seq>.json.gz; older histories <seq>.json)."""
    data = open(path, "rb").read()
    return gzip.decompress(data) if path.endswith(".gz") else data


def reports_dir(state, partner):
    return os.path.join(state, "reports", partner)


def resign_with_other_key(state, partner, seq, tmp):
    key = os.path.join(tmp, "other.pem")
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", key], check=True, capture_output=True)
    der = subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-outform", "DER"], check=True,
                         capture_output=True).stdout
    sigp = os.path.join(reports_dir(state, partner), "%08d.json.gz.sig" % seq)
    env = json.load(open(sigp))
    msg = "tenken.sig/1\n%s\n%d\n%s\n%s\n" % (env["partner"], env["seq"], env["report_sha256"], env["previous_sha256"])
    mp = os.path.join(tmp, "msg")
    open(mp, "w").write(msg)
    sig = subprocess.run(["openssl", "pkeyutl", "-sign", "-inkey", key, "-rawin", "-in", mp], check=True,
                         capture_output=True).stdout
    env["public_key"] = base64.b64encode(der[-32:]).decode()
    env["signature"] = base64.b64encode(sig).decode()
    env["key_fingerprint"] = "SHA256:other"
    json.dump(env, open(sigp, "w"))


def test_history(p, tmp):
    state = os.path.join(tmp, "state")
    outs = [os.path.join(tmp, "h%d" % i) for i in range(4)]
    r1 = scan(p, state, outs[0])
    r2 = scan(p, state, outs[1])
    p.fix()
    r3 = scan(p, state, outs[2])
    r4 = scan(p, state, outs[3], cmd="gate")
    p.break_()
    R.check([r.returncode for r in (r1, r2, r3, r4)] == [0, 0, 0, 0], "three scans and a passing gate run")
    keyf = os.path.join(state, "key", "ed25519.pem")
    R.check(stat.S_IMODE(os.stat(keyf).st_mode) == 0o600, "the agent key was created with 0600")
    R.check(stat.S_IMODE(os.stat(os.path.join(state, "index.sqlite")).st_mode) == 0o600, "the index is 0600")
    k = rl.run(["key", "show", "--state", state])
    rep4 = rl.load_json(os.path.join(outs[3], "report.json"))
    R.check(k.returncode == 0 and "BEGIN PUBLIC KEY" in k.stdout and
            rep4["history"]["key_fingerprint"] in k.stdout, "key show prints the public key and its fingerprint")
    R.check("PRIVATE" not in k.stdout, "key show never prints the private key")
    h = rl.run(["history", p.id, "--state", state, "--format", "json"])
    rows = json.loads(h.stdout) if h.returncode == 0 else []
    R.check([r["seq"] for r in rows] == [1, 2, 3, 4] and [r["mode"] for r in rows] == ["scan"] * 3 + ["gate"],
            "history lists every scan and the gate run, in order")
    R.check([r["items"]["fail"] for r in rows] == [2, 2, 0, 0], "history carries item counts")
    ht = rl.run(["history", p.id, "--state", state])
    R.check(ht.returncode == 0 and len(ht.stdout.strip().splitlines()) == 5 and rep4["run_id"] in ht.stdout,
            "history text output: header plus one line per scan")
    # the chain: each report links to the previous stored report's SHA-256
    import hashlib
    # stored gzip-compressed; the signature and the chain cover the uncompressed bytes
    files = [os.path.join(reports_dir(state, p.id), "%08d.json.gz" % i) for i in (1, 2, 3, 4)]
    shas = [hashlib.sha256(gunzip(f)).hexdigest() for f in files]
    links = [json.loads(gunzip(f))["previous_report"] for f in files]
    R.check(links[0] is None and [l["sha256"] for l in links[1:]] == shas[:3], "each report links to the previous one's SHA-256")
    R.check(gunzip(files[3]) == open(os.path.join(outs[3], "report.json"), "rb").read(),
            "the stored report is report.json as written")
    v = verify(state, p.id)
    R.check(v.returncode == 0 and "4 reports" in v.stdout, "verify passes on an untouched history")
    v = verify(state, files[1])
    R.check(v.returncode == 0, "verify FILE passes on an untouched report")
    v = verify(state, os.path.join(outs[3], "report.json"))
    R.check(v.returncode == 0 and "stored scan #4" in v.stdout, "verify FILE on --out's report.json uses the stored signature")
    copy = os.path.join(tmp, "copy.json")
    open(copy, "wb").write(open(os.path.join(outs[3], "report.json"), "rb").read().replace(b'"complete":true', b'"complete":false'))
    v = verify(state, copy)
    R.check(v.returncode == 1 and "modified" in v.stdout, "verify FILE on an edited copy of report.json: modified")

    d = rl.run(["diff", p.id, "2", "3", "--state", state, "--format", "json"])
    dj = json.loads(d.stdout) if d.returncode == 0 else {}
    R.check(sorted(x["rule"] for x in dj.get("resolved", [])) ==
            ["HSTS-MAX-AGE-SHORT", "HSTS-NO-SUBDOMAINS", "HTTP-NO-HTTPS-REDIRECT"] and not dj.get("new"),
            "diff 2 3: three resolved findings, none new")
    R.check(sorted((x["no"], x["from"], x["to"]) for x in dj.get("items_changed", [])) ==
            [("30", "fail", "pass"), ("37", "fail", "pass")], "diff 2 3: items 30 and 37 went fail -> pass")
    d = rl.run(["diff", p.id, "1", "2", "--state", state, "--format", "json"])
    dj = json.loads(d.stdout) if d.returncode == 0 else {}
    R.check(len(dj.get("unchanged", [])) == 3 and not dj.get("new") and not dj.get("resolved") and
            not dj.get("items_changed"), "diff 1 2: three unchanged findings")
    d = rl.run(["diff", p.id, "--state", state, "--format", "json"])
    dj = json.loads(d.stdout) if d.returncode == 0 else {}
    R.check(dj.get("a") == 3 and dj.get("b") == 4, "diff defaults to the last two scans")
    d = rl.run(["diff", p.id, rows[1]["run_id"], rows[2]["run_id"], "--state", state])
    R.check(d.returncode == 0 and "resolved findings: 3" in d.stdout and "30 fail -> pass" in d.stdout,
            "diff by run id, text output")
    d = rl.run(["diff", p.id, "1", "99", "--state", state])
    R.check(d.returncode == 2, "diff with an unknown scan is a usage error")

    rr = os.path.join(tmp, "rerender")
    r = rl.run(["report", p.id, "--scan", "1", "--format", "json,csv,html,sarif", "--out", rr, "--state", state])
    R.check(r.returncode == 0, "report re-renders a stored scan")
    R.check(open(os.path.join(rr, "report.json"), "rb").read() == gunzip(files[0]),
            "re-rendered report.json is the stored file byte for byte")
    rows_csv = list(csv.reader(io.StringIO(open(os.path.join(rr, "checklist.csv"), encoding="utf-8-sig").read(),
                                           newline="")))
    R.check(len(rows_csv) == 45 and "HSTS-MAX-AGE-SHORT" in rows_csv[30][5], "re-rendered CSV is scan #1's")
    r = rl.run(["report", p.id, "--scan", "3", "--format", "sarif,html", "--out", rr, "--state", state])
    s = rl.load_json(os.path.join(rr, "report.sarif"))
    R.check(r.returncode == 0 and any(x.get("baselineState") == "updated" for x in s["runs"][0]["results"]),
            "re-rendered SARIF of scan #3 has scan #2 as its baseline")
    R.check(open(os.path.join(rr, "report.html"), encoding="utf-8").read().count("<g><title>") == 3,
            "re-rendered HTML trend stops at that scan")
    return state


def test_tamper(state, partner, tmp):
    # edit one byte
    s = copy_state(state, "edit")
    f = os.path.join(reports_dir(s, partner), "00000002.json.gz")
    b = bytearray(gunzip(f))
    i = b.index(b"& Co.")
    b[i + 2] = ord("D")  # one byte, and still valid JSON: only the hashes can tell
    open(f, "wb").write(gzip.compress(bytes(b)))
    v = verify(s, partner)
    R.check(v.returncode == 1 and "scan #2" in v.stdout and "modified" in v.stdout, "edited byte: verify names scan #2 as modified")
    R.check(all("scan #%d" % n not in v.stdout or "ok   scan #%d" % n in v.stdout for n in (1, 3, 4)),
            "edited byte: the other scans still verify")
    v = verify(s, f)
    R.check(v.returncode == 1 and "modified" in v.stdout, "verify FILE names an edited report as modified: " + v.stdout)
    # delete one
    s = copy_state(state, "delete")
    os.remove(os.path.join(reports_dir(s, partner), "00000002.json.gz"))
    v = verify(s, partner)
    R.check(v.returncode == 1 and "scan #2" in v.stdout and "removed" in v.stdout, "deleted report: verify says removed")
    # delete one completely (file, signature and index row)
    s = copy_state(state, "delete-all")
    os.remove(os.path.join(reports_dir(s, partner), "00000003.json.gz"))
    os.remove(os.path.join(reports_dir(s, partner), "00000003.json.gz.sig"))
    db = sqlite3.connect(os.path.join(s, "index.sqlite"))
    db.execute("DELETE FROM scans WHERE seq=3")
    db.commit()
    db.close()
    v = verify(s, partner)
    R.check(v.returncode == 1 and "#3" in v.stdout and "removed" in v.stdout and "chain broken" in v.stdout,
            "report, signature and index row deleted: removed and chain broken")
    # swap two
    s = copy_state(state, "swap")
    d = reports_dir(s, partner)
    for ext in (".json.gz", ".json.gz.sig"):
        a, b2 = os.path.join(d, "00000002" + ext), os.path.join(d, "00000003" + ext)
        os.rename(a, a + ".x")
        os.rename(b2, a)
        os.rename(a + ".x", b2)
    v = verify(s, partner)
    R.check(v.returncode == 1 and "reordered" in v.stdout and "scan #2" in v.stdout and "scan #3" in v.stdout,
            "swapped reports: verify says reordered")
    # re-sign with another key
    s = copy_state(state, "resign")
    resign_with_other_key(s, partner, 3, tmp)
    v = verify(s, partner)
    R.check(v.returncode == 1 and "scan #3" in v.stdout and "re-signed with another key" in v.stdout,
            "re-signed report: verify says re-signed with another key")
    # edit the signed chain link in the envelope
    s = copy_state(state, "envelope")
    sp = os.path.join(reports_dir(s, partner), "00000004.json.gz.sig")
    env = json.load(open(sp))
    env["previous_sha256"] = "0" * 64
    json.dump(env, open(sp, "w"))
    v = verify(s, partner)
    R.check(v.returncode == 1 and "signature invalid" in v.stdout, "edited signature envelope: signature invalid")
    # the untouched original still verifies
    R.check(verify(state, partner).returncode == 0, "the original history still verifies")


def test_kill_loop(p, tmp):
    state = os.path.join(tmp, "killstate")
    out = os.path.join(tmp, "killout")
    t0 = time.monotonic()
    r = scan(p, state, out, formats="json,html,csv,sarif,junit")
    full = time.monotonic() - t0
    R.check(r.returncode == 0, "a full scan for timing (%.3f s)" % full)
    rng = random.Random(int(os.environ.get("TENKEN_TEST_SEED", "8")))
    completed, killed, bad, in_window = 1, 0, [], 0
    for i in range(24):
        e = dict(os.environ)
        proc = subprocess.Popen([rl.BIN, "scan", "--config", p.config, "--out", out, "--state", state, "--format",
                                 "json,html,csv,sarif,junit", "--quiet"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env=e)
        time.sleep(rng.uniform(0.3, 1.1) * full)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        rc = proc.wait()
        if rc == 0:
            completed += 1
        v = verify(state, p.id)
        if v.returncode != 0:
            bad.append((i, v.stdout + v.stderr))
        # killed between writing the files and committing the index row
        if "unindexed" in v.stdout or any(".tmp." in n for n in os.listdir(reports_dir(state, p.id))):
            in_window += 1
    R.check(killed >= 5, "scans were killed mid-run (%d of 24)" % killed)
    R.check(not bad, "verify passes after every kill %s" % (bad[:1],))
    print("     (%d random kills landed while the report was being stored)" % in_window)
    # Deterministic: kill exactly between writing the report files and committing the index row.
    before = json.loads(rl.run(["history", p.id, "--state", state, "--format", "json"]).stdout)
    e = dict(os.environ, TENKEN_TEST_PAUSE_BEFORE_INDEX="20000")
    proc = subprocess.Popen([rl.BIN, "scan", "--config", p.config, "--out", out, "--state", state, "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=e, text=True)
    seen = False
    for _ in range(600):
        line = proc.stderr.readline()
        if "test pause: TENKEN_TEST_PAUSE_BEFORE_INDEX" in line:
            seen = True
            break
        if not line and proc.poll() is not None:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    R.check(seen, "a scan paused between storing its files and indexing them")
    v = verify(state, p.id)
    after = json.loads(rl.run(["history", p.id, "--state", state, "--format", "json"]).stdout)
    R.check(v.returncode == 0 and len(after) == len(before),
            "killed after writing, before indexing: verify passes, the unindexed scan is not in the history")
    r = scan(p, state, out)
    after2 = json.loads(rl.run(["history", p.id, "--state", state, "--format", "json"]).stdout)
    R.check(r.returncode == 0 and len(after2) == len(before) + 1 and verify(state, p.id).returncode == 0,
            "the next scan replaces the leftover and the chain verifies")
    h = json.loads(rl.run(["history", p.id, "--state", state, "--format", "json"]).stdout)
    R.check(len(h) >= completed, "every completed scan is stored (%d stored, %d completed)" % (len(h), completed))
    ok = True
    for row in h:
        try:
            json.loads(gunzip(os.path.join(state, row["file"])))
        except Exception:
            ok = False
    R.check(ok, "every stored report is intact JSON")
    left = [n for n in os.listdir(reports_dir(state, p.id)) if ".tmp." in n]
    print("     (%d temporary files left by the kills)" % len(left))
    open(os.path.join(reports_dir(state, p.id), "00000999.json.gz.tmp.Abc123"), "w").write("{")
    r = scan(p, state, out)
    R.check(r.returncode == 0 and verify(state, p.id).returncode == 0, "a scan after the kills stores and verifies")
    left = [n for n in os.listdir(reports_dir(state, p.id)) if ".tmp." in n]
    R.check(not left, "temporary files of interrupted writes are cleaned up by the next scan (%s)" % left[:2])


def test_concurrent(p, tmp):
    """Eight scans at once into a fresh state dir (four partners, two each): one key, intact chains."""
    import threading
    state = os.path.join(tmp, "cstate")
    res = []

    def go(i):
        cfg = json.load(open(p.config))
        cfg["partner"]["id"] = "par%d" % (i % 4)
        c = os.path.join(tmp, "c%d.json" % i)
        json.dump(cfg, open(c, "w"))
        r = rl.run(["scan", "--config", c, "--out", os.path.join(tmp, "co%d" % i), "--state", state,
                    "--format", "json,html", "--quiet"])
        res.append(r.returncode)
        if r.returncode != 0:
            errs.append(r.stderr.strip()[-400:])
    errs = []
    shutil.copy(os.path.join(p.dir, "ca.pem"), tmp)  # once: a copy racing the scans that read it
    ts = [threading.Thread(target=go, args=(i,)) for i in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    R.check(res == [0] * 8, "eight concurrent scans into a fresh state dir succeed (%s %s)" % (res, errs[:2]))
    fps = set()
    for i in range(8):
        fps.add(rl.load_json(os.path.join(tmp, "co%d" % i, "report.json"))["history"]["key_fingerprint"])
    R.check(len(fps) == 1, "they share one agent key")
    ok = all(verify(state, "par%d" % k).returncode == 0 and
             len(json.loads(rl.run(["history", "par%d" % k, "--state", state, "--format", "json"]).stdout)) == 2
             for k in range(4))
    R.check(ok, "each partner's chain holds both scans and verifies")


def test_waivers(p, tmp):
    state = os.path.join(tmp, "wstate")
    wf = os.path.join(tmp, "waivers.json")
    good = {"waivers": [
        {"id": "W-1", "rule": "HSTS-MAX-AGE-SHORT", "target": "https://api.weak.test:*",
         "justification": "移行中 (migration)", "approver": "CISO 山田", "expires": "2099-12-31"},
        {"id": "W-2", "item": 30, "target": "https://api.weak.test:*", "justification": "redirect in Q3",
         "approver": "CISO", "expires": "2099-12-31"},
        {"id": "W-3", "rule": "HTTP-NO-HTTPS-REDIRECT", "justification": "x", "approver": "y", "expires": "2099-01-01"}]}
    json.dump(good, open(wf, "w"), ensure_ascii=False)
    out = os.path.join(tmp, "w1")
    g = scan(p, state, out, "--waivers", wf, cmd="gate", formats="json,html,junit,sarif,csv")
    rep = rl.load_json(os.path.join(out, "report.json"))
    items = {str(i["no"]): i for i in rep["items"]}
    R.check(g.returncode == 0, "gate with every failure waived exits 0 (got %d)" % g.returncode)
    R.check(items["30"]["status"] == "waived" and items["37"]["status"] == "waived", "waived items show as waived, not pass")
    R.check(rep["summary"]["items"]["waived"] == 2 and rep["summary"]["items"]["fail"] == 0 and
            rep["gate"]["verdict"] == "pass" and rep["gate"].get("waived_items") == 2, "summary and gate count the waived items")
    wids = sorted(w["id"] for w in rep["waivers"]["applied"])
    R.check(wids == ["W-1", "W-2"] and rep["waivers"]["sha256"], "report lists the waivers applied (%s)" % wids)
    R.check(all(f.get("status") == "fail" and f["waiver"]["approver"] for f in rep["findings"] if "waiver" in f),
            "waived findings keep status fail and carry the waiver")
    schema = rl.load_json(os.path.join(rl.SRC, "docs", "report.schema.json"))
    R.check(not rl.validate(rep, schema), "a report with waivers validates against the schema")
    html = open(os.path.join(out, "report.html"), encoding="utf-8").read()
    R.check("例外承認" in html and "CISO 山田" in html, "HTML shows the waiver and its approver")
    import xml.etree.ElementTree as ET
    cases = ET.parse(os.path.join(out, "junit.xml")).getroot().iter("testcase")
    sk = [c.find("skipped").get("message") for c in cases if c.find("skipped") is not None and c.get("name").startswith(("30 ", "37 "))]
    R.check(len(sk) == 2 and all(m.startswith("waived") for m in sk), "JUnit: waived items are skipped as waived")
    s = rl.load_json(os.path.join(out, "report.sarif"))
    sup = [x for x in s["runs"][0]["results"] if x.get("suppressions")]
    R.check(len(sup) == 2 and all(x["suppressions"][0]["status"] == "accepted" for x in sup),
            "SARIF: waived results carry accepted suppressions")

    # expired: no longer applies and the report says so
    exp = {"waivers": [dict(good["waivers"][0], expires="2020-01-01"), dict(good["waivers"][1], expires="2020-01-01")]}
    json.dump(exp, open(wf, "w"))
    out = os.path.join(tmp, "w2")
    g = scan(p, state, out, "--waivers", wf, cmd="gate", formats="json,html")
    rep = rl.load_json(os.path.join(out, "report.json"))
    items = {str(i["no"]): i for i in rep["items"]}
    R.check(g.returncode == 1 and items["30"]["status"] == "fail", "expired waivers do not apply: gate fails")
    R.check(sorted(w["id"] for w in rep["waivers"]["expired"]) == ["W-1", "W-2"] and not rep["waivers"]["applied"] and
            items["30"].get("expired_waivers"), "report and item say which waivers expired")
    R.check("期限切れ" in open(os.path.join(out, "report.html"), encoding="utf-8").read(), "HTML says the waiver expired")
    # partial: one of two failing rules waived -> item still fails
    json.dump({"waivers": [good["waivers"][0]]}, open(wf, "w"))
    g = scan(p, state, os.path.join(tmp, "w3"), "--waivers", wf, cmd="gate")
    R.check(g.returncode == 1, "an item with an unwaived failure still fails the gate")
    # invalid file
    json.dump({"waivers": [{"rule": "X", "justification": "j", "expires": "2099-01-01"}]}, open(wf, "w"))
    g = scan(p, state, os.path.join(tmp, "w4"), "--waivers", wf, cmd="gate")
    R.check(g.returncode == 2 and "waivers[0].approver" in g.stderr, "a waiver without approver: exit 2 naming the field")
    json.dump({"waivers": [dict(good["waivers"][0], expires="next year")]}, open(wf, "w"))
    g = scan(p, state, os.path.join(tmp, "w5"), "--waivers", wf)
    R.check(g.returncode == 2 and "waivers[0].expires" in g.stderr, "a bad expiry date: exit 2 naming the field")


def test_attestation(p, tmp):
    state = os.path.join(tmp, "astate")
    out = os.path.join(tmp, "a0")
    scan(p, state, out, formats="csv")
    text = open(os.path.join(out, "checklist.csv"), encoding="utf-8-sig").read()
    rows = list(csv.reader(io.StringIO(text, newline="")))
    rows[1][4] = "対応済: セキュリティ管理責任者を任命し、規程で範囲を定めている"
    rows[2][4] = "未対応"
    rows[2][6] = "2027年3月までに規程を整備"
    rows[30][4] = "対応済（TLS1.2以上のみ、HSTS設定済み）"
    rows[37][4] = "対応予定（2027年3月）"
    rows[3][4] = "はい"
    rows[3][6] = "2027年3月: 監査で確認予定"
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    af = os.path.join(tmp, "answers.csv")
    open(af, "w", encoding="utf-8-sig", newline="").write(buf.getvalue())
    out = os.path.join(tmp, "a1")
    r = scan(p, state, out, "--attestation", af, formats="json,html,csv")
    rep = rl.load_json(os.path.join(out, "report.json"))
    items = {str(i["no"]): i for i in rep["items"]}
    R.check(r.returncode == 0 and rep["attestation"]["answers"] == 5 and rep["attestation"]["contradictions"] == 1,
            "attestation: five answers, one contradiction (%s)" % rep.get("attestation"))
    a37 = items["37"].get("attestation", {})
    R.check(a37.get("claim") == "not_implemented" and "contradiction" not in a37,
            "「対応予定」 on a failing item is read as not implemented, no contradiction")
    R.check(items["3"].get("attestation", {}).get("plan") == "2027年3月: 監査で確認予定",
            "a partner's plan containing a colon is kept")
    a1 = items["1"].get("attestation", {})
    R.check(items["1"]["status"] == "manual" and a1.get("self_declared") is True and a1.get("claim") == "implemented",
            "a manual item takes the partner's answer, marked self-declared")
    R.check(items["2"].get("attestation", {}).get("plan") == "2027年3月までに規程を整備", "the partner's plan is kept")
    c = items["30"].get("attestation", {}).get("contradiction", "")
    R.check(items["30"]["status"] == "fail" and "HSTS-MAX-AGE-SHORT" in c, "a claim contradicting a failing item is flagged")
    html = open(os.path.join(out, "report.html"), encoding="utf-8").read()
    R.check("自己申告" in html and "証跡と矛盾" in html, "HTML marks self-declared answers and the contradiction")
    rows2 = list(csv.reader(io.StringIO(open(os.path.join(out, "checklist.csv"), encoding="utf-8-sig").read(), newline="")))
    R.check("【自己申告】対応済: セキュリティ管理責任者" in rows2[1][4] and "【矛盾】" in rows2[30][5],
            "CSV carries the self-declared answer and the contradiction")
    schema = rl.load_json(os.path.join(rl.SRC, "docs", "report.schema.json"))
    R.check(not rl.validate(rep, schema), "a report with attestation validates against the schema")
    open(af, "w").write('通番,区分,a,b,c,d,e,f,g,h\r\n1,x,y,z,"unterminated\r\n')
    r = scan(p, state, os.path.join(tmp, "a2"), "--attestation", af)
    R.check(r.returncode == 2 and "line 2" in r.stderr and "unterminated" in r.stderr,
            "a broken attestation CSV: exit 2 naming the line")


def main():
    tmp = tempfile.mkdtemp(prefix="tenken-hist-")
    try:
        with rl.Partner() as p:
            state = test_history(p, tmp)
            test_tamper(state, p.id, tmp)
            test_kill_loop(p, tmp)
            test_concurrent(p, tmp)
            test_waivers(p, tmp)
            test_attestation(p, tmp)
        r = rl.run(["verify", "nobody", "--state", os.path.join(tmp, "empty")])
        R.check(r.returncode == 2, "verify on a missing history is a usage error")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    R.finish()


if __name__ == "__main__":
    main()
