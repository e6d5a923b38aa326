"""Renderers: report.json against docs/report.schema.json, checklist.csv (BOM,
RFC 4180, the checklist's columns), junit.xml (XML parse), report.sarif (SARIF
2.1.0 required structure, baseline against the previous stored scan),
report.html (structure, escaping, no external fetches, and a real render in
headless Chromium). All against a partner served on loopback."""
import csv
import html.parser
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reportlib as rl  # noqa: E402

R = rl.Results()
FORMATS = "json,html,csv,sarif,junit"
COLS_JA = ["通番", "区分", "セキュリティ対応目標", "対象者", "現在の対応状況", "課題認識", "課題への対応計画", "関連規定",
           "関連規定箇所", "備考"]
COLS_EN = ["No.", "Chapter", "Security objective", "Target party", "Current status", "Issues identified",
           "Remediation plan", "Related rules", "Related rule sections", "Remarks"]


def scan(p, out, state, *extra):
    r = rl.run(["scan", "--config", p.config, "--out", out, "--state", state, "--format", FORMATS, "--quiet"] +
               list(extra))
    R.check(r.returncode == 0, "scan %s exits 0 (got %d: %s)" % (" ".join(extra), r.returncode, r.stderr.strip()))
    return out


def check_schema(out):
    schema = rl.load_json(os.path.join(rl.SRC, "docs", "report.schema.json"))
    rep = rl.load_json(os.path.join(out, "report.json"))
    errs = rl.validate(rep, schema)
    R.check(not errs, "report.json validates against docs/report.schema.json %s" % errs[:3])
    bad = json.loads(json.dumps(rep))
    del bad["run_id"]
    bad["items"][0]["status"] = "passed"
    errs = rl.validate(bad, schema)
    R.check(any("run_id" in e for e in errs) and any("passed" in e for e in errs),
            "the schema check rejects a report without run_id and with an unknown status")
    return rep


def check_csv(out, rep, cols):
    data = open(os.path.join(out, "checklist.csv"), "rb").read()
    R.check(data.startswith(b"\xef\xbb\xbf"), "checklist.csv starts with the UTF-8 BOM")
    text = data[3:].decode("utf-8")
    R.check("\r\n" in text, "checklist.csv uses CRLF record ends")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    R.check(rows[0] == cols, "checklist.csv header is the checklist's columns %r" % rows[0][:3])
    R.check(len(rows) == 1 + len(rep["items"]) == 45, "checklist.csv has one row per item (%d)" % (len(rows) - 1))
    R.check(all(len(r) == 10 for r in rows), "every CSV record has 10 fields")
    R.check([r[0] for r in rows[1:]] == [str(i["no"]) for i in rep["items"]], "rows are in checklist order")
    return rows


def check_junit(out, rep):
    root = ET.parse(os.path.join(out, "junit.xml")).getroot()
    R.check(root.tag == "testsuites", "junit.xml root is <testsuites>")
    suites = root.findall("testsuite")
    R.check(len(suites) == 1, "one <testsuite>")
    cases = suites[0].findall("testcase")
    R.check(len(cases) == len(rep["items"]) == 44, "one <testcase> per item (%d)" % len(cases))
    fails = [c for c in cases if c.find("failure") is not None]
    skipped = [c for c in cases if c.find("skipped") is not None]
    want_fail = sorted(str(i["no"]) for i in rep["items"] if i["status"] == "fail")
    R.check(sorted(c.get("name").split()[0] for c in fails) == want_fail and want_fail == ["30", "37"],
            "failing items 30 and 37 have <failure> (%s)" % [c.get("name")[:8] for c in fails])
    R.check(len(skipped) == sum(1 for i in rep["items"] if i["status"] in ("manual", "not_applicable", "waived")),
            "manual / not-applicable items are <skipped> (%d)" % len(skipped))
    R.check(all(c.find("skipped").get("message", "").startswith("manual") for c in skipped),
            "skipped messages say manual")
    R.check(suites[0].get("tests") == "44" and suites[0].get("failures") == str(len(fails)) and
            suites[0].get("skipped") == str(len(skipped)), "testsuite counts match the testcases")
    f30 = [c for c in fails if c.get("name").startswith("30 ")][0].find("failure")
    R.check("HSTS-MAX-AGE-SHORT" in f30.get("message") and "api.weak.test" in f30.get("message"),
            "the failure message names the failing rule and target")
    props = {p.get("name"): p.get("value") for p in suites[0].iter("property")}
    R.check(props.get("run_id") == rep["run_id"] and props.get("rules_sha256") == rep["tool"]["rules_sha256"],
            "junit properties carry run_id and the rule-set SHA-256")


def check_sarif(out, rep, expect_baseline=None):
    s = rl.load_json(os.path.join(out, "report.sarif"))
    R.check(s.get("version") == "2.1.0" and "sarif-2.1.0" in s.get("$schema", ""), "SARIF version 2.1.0 with $schema")
    run = s["runs"][0]
    drv = run["tool"]["driver"]
    R.check(drv["name"] == "tenken" and drv.get("version"), "tool.driver name/version")
    ids = [r["id"] for r in drv["rules"]]
    R.check(len(ids) == len(set(ids)) and all(r.get("shortDescription", {}).get("text") for r in drv["rules"]),
            "driver.rules have unique ids and descriptions")
    tax = run["taxonomies"][0]
    R.check(tax["name"] == "fisc-api-2018" and len(tax["taxa"]) == 44, "the checklist is a taxonomy of 44 taxa")
    R.check({"name": "fisc-api-2018"} in drv.get("supportedTaxonomies", []), "driver.supportedTaxonomies names it")
    taxa = {t["id"] for t in tax["taxa"]}
    res = run["results"]
    cur = [r for r in res if r.get("baselineState") != "absent"]
    R.check(len(cur) == len(rep["findings"]), "one result per finding (%d)" % len(cur))
    ok = True
    for r in res:
        ok &= "ruleId" in r and r["ruleId"] in ids and ids[r["ruleIndex"]] == r["ruleId"]
        ok &= r["kind"] in ("pass", "fail", "open") and r["level"] in ("none", "note", "warning", "error")
        ok &= bool(r["message"]["text"]) and len(r["partialFingerprints"]["tenken/v1"]) == 32
        ok &= all(t["id"] in taxa and t["toolComponent"]["name"] == "fisc-api-2018" for t in r["taxa"])
        ok &= (r["kind"] != "fail") == (r["level"] == "none")  # SARIF: level other than none only with kind fail
    R.check(ok, "every result has ruleId/ruleIndex, kind, level, message, fingerprint, taxa")
    kinds = sorted({r["kind"] for r in cur})
    want = sorted({"pass" if f["status"] == "pass" else "fail" if f["status"] in ("fail", "warn") else "open"
                   for f in rep["findings"]})
    R.check(kinds == want, "result kinds follow the findings (%s)" % kinds)
    R.check(sum(1 for r in cur if r["kind"] == "fail") == sum(1 for f in rep["findings"] if f["status"] in ("fail", "warn")),
            "one fail-kind result per failing finding")
    if expect_baseline is None:
        R.check(all("baselineState" not in r for r in res), "no baselineState without a previous scan")
    else:
        states = {}
        for r in res:
            states.setdefault(r.get("baselineState"), []).append(r)
        R.check(expect_baseline(states), "baselineState as expected (%s)" %
                {k: len(v) for k, v in states.items()})
    return s


class HTMLCheck(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows, self.external, self.scripts, self.svg_rects, self.lang = [], [], 0, 0, None
        self.in_row, self.text = None, []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        if tag == "script":
            self.scripts += 1
        if tag in ("link", "img", "iframe", "object", "embed"):
            self.external.append((tag, a))
        for k in ("src", "href"):
            if k in a and a[k] and not a[k].startswith("#"):
                self.external.append((tag, a))
        if tag == "rect":
            self.svg_rects += 1
        if tag == "tr" and (a.get("id") or "").startswith("item-"):
            self.in_row = [a["id"][5:], a.get("class", ""), ""]
            self.rows.append(self.in_row)

    def handle_endtag(self, tag):
        if tag == "tr":
            self.in_row = None

    def handle_data(self, data):
        self.text.append(data)
        if self.in_row is not None:
            self.in_row[2] += data


def check_html(out, rep, lang):
    raw = open(os.path.join(out, "report.html"), encoding="utf-8").read()
    h = HTMLCheck()
    h.feed(raw)
    R.check(h.lang == lang, "report.html lang=%s" % lang)
    R.check(not h.external and h.scripts == 0, "no external resources and no scripts (%s)" % h.external[:2])
    R.check("url(" not in raw and "@import" not in raw, "no CSS fetches")
    R.check([r[0] for r in h.rows] == [str(i["no"]) for i in rep["items"]], "every item is a row, in order")
    manual = [r for r in h.rows if "r-manual" in r[1]]
    need = "接続先の回答が必要" if lang == "ja" else "Partner's answer required"
    R.check(len(manual) == 42 and all(need in r[2] for r in manual), "manual items say the partner must answer")
    row30 = [r for r in h.rows if r[0] == "30"][0]
    title = "HSTSのmax-ageが短い" if lang == "ja" else "HSTS max-age is below the threshold"
    card30 = raw[raw.find('id="act-30"'):]
    card30 = card30[:card30.find("</section>")]
    R.check("r-fail" in row30[1] and title in row30[2] and "api.weak.test" in card30 and title in card30,
            "item 30 row: fail with the failing rule's title; its action card names the target")
    R.check("テスト&lt;ペイ&gt; &amp; Co." in raw and "テスト<ペイ>" not in raw, "partner name is HTML-escaped")
    R.check("<svg" in raw and h.svg_rects >= 7, "inline SVG trend chart")
    R.check("@page{size:A4" in raw and "@media print" in raw, "print CSS for A4")
    text = "".join(h.text)
    for k in (rep["run_id"], rep["tool"]["rules_sha256"], rep["checklist"]["sha256"]):
        R.check(k in text, "evidence shown: %s…" % k[:12])
    R.check(("観測値" if lang == "ja" else "Observed") in text and "max_age" in text and "sts_headers" in text
            and ('<span class="k">max_age</span>300 ' in raw),
            "per-target detail shows the target as observed, as labelled fields with units")
    cols = COLS_JA if lang == "ja" else COLS_EN
    # 備考 is a column only when the checklist has notes (the card checklist); the FISC one has none
    R.check(all(c in text for c in cols[:9]), "checklist column headings present")
    return raw


def check_chromium(out):
    if not rl.chromium_binary():
        print("SKIP chromium is not installed (apt-get install chromium); HTML browser rendering not checked")
        return
    d = tempfile.mkdtemp(prefix="tenken-png-")
    try:
        # the detector itself: a page that logs an error must be caught
        bad = os.path.join(d, "bad.html")
        with open(bad, "w") as f:
            f.write("<!DOCTYPE html><html><body><p>x</p><script>console.error('detector-check')</script></body></html>")
        ok, console, _ = rl.chromium_screenshot(bad, os.path.join(d, "bad.png"), 400, 300)
        R.check(ok and any("detector-check" in l for l in console), "console-error detector catches a console error")
        blank = os.path.join(d, "blank.html")
        with open(blank, "w") as f:
            f.write("<!DOCTYPE html><html><body></body></html>")
        ok, console, _ = rl.chromium_screenshot(blank, os.path.join(d, "blank.png"), 600, 400)
        frac, ncol = rl.png_stats(os.path.join(d, "blank.png"))
        R.check(ok and frac < 0.001, "blank-page detector: an empty page is blank (%.4f)" % frac)
        png = os.path.join(d, "report.png")
        ok, console, err = rl.chromium_screenshot(os.path.join(out, "report.html"), png, 1200, 1600)
        R.check(ok, "chromium rendered report.html to PNG")
        R.check(not console, "no console errors rendering report.html %s" % console[:2])
        if ok:
            frac, ncol = rl.png_stats(png)
            R.check(frac > 0.05 and ncol >= 8, "the rendered page is not blank (%.3f ink, %d colours)" % (frac, ncol))
        pages, boxes = rl.chromium_pdf(os.path.join(out, "report.html"), os.path.join(d, "report.pdf"))
        R.check(pages >= 2 and boxes == {(0, 0, 595, 842)}, "prints to A4 portrait pages (%d pages, %s)" % (pages, boxes))
    finally:
        shutil.rmtree(d, ignore_errors=True)


def main():
    with rl.Partner() as p:
        state = os.path.join(p.dir, "state")
        out1 = scan(p, os.path.join(p.dir, "o1"), state)
        rep = check_schema(out1)
        rows = check_csv(out1, rep, COLS_JA)
        r30 = [r for r in rows if r[0] == "30"][0]
        R.check(r30[4].startswith("【自動点検: 不適合】") and "max_age=300" in r30[4], "CSV 現在の対応状況 holds the evidence")
        R.check("HSTS-MAX-AGE-SHORT" in r30[5] and "api.weak.test" in r30[5], "CSV 課題認識 holds the failing findings")
        R.check("HTTP-NO-HTTPS-REDIRECT:" in r30[6], "CSV 課題への対応計画 holds the remediation")
        R.check("根拠" in r30[9] and "HSTS-MISSING" in r30[9], "CSV 備考 cites rules and basis")
        r1 = rows[1]
        R.check("要回答" in r1[4] and r1[7] == "FISC-安対基準\n統制基準" and r1[8].startswith("続4"),
                "manual item 1: needs answer; 関連規定 / 関連規定箇所 split (%r, %r)" % (r1[7], r1[8]))
        check_junit(out1, rep)
        s1 = check_sarif(out1, rep, None)
        R.check(sorted({r["kind"] for r in s1["runs"][0]["results"]}) == ["fail", "pass"],
                "the first scan's SARIF has pass and fail results")
        check_html(out1, rep, "ja")
        check_chromium(out1)

        out2 = scan(p, os.path.join(p.dir, "o2"), state, "--lang", "en")
        rep2 = rl.load_json(os.path.join(out2, "report.json"))
        check_csv(out2, rep2, COLS_EN)
        check_html(out2, rep2, "en")
        s2 = check_sarif(out2, rep2, lambda st: set(st) == {"unchanged"})
        p.fix()
        out3 = scan(p, os.path.join(p.dir, "o3"), state)
        rep3 = rl.load_json(os.path.join(out3, "report.json"))
        s3 = check_sarif(out3, rep3, lambda st: set(st) == {"unchanged", "updated"} and
                         sorted(r["ruleId"] for r in st["updated"]) ==
                         ["HSTS-MAX-AGE-SHORT", "HSTS-NO-SUBDOMAINS", "HTTP-NO-HTTPS-REDIRECT"])
        fp2 = sorted(r["partialFingerprints"]["tenken/v1"] for r in s2["runs"][0]["results"])
        fp3 = sorted(r["partialFingerprints"]["tenken/v1"] for r in s3["runs"][0]["results"])
        R.check(fp2 == fp3, "partialFingerprints are stable across scans")
        raw = open(os.path.join(out3, "report.html"), encoding="utf-8").read()
        R.check(raw.count("<g><title>") == 3, "the HTML trend has one bar per stored scan (3)")
        R.check(rep3["previous_report"]["seq"] == 2 and rep3["history"]["seq"] == 3, "report links to scan #2")

        # a different partner in the same state: its previous scans do not leak in
        r = rl.run(["scan", "--config", p.config, "--out", os.path.join(p.dir, "o4"), "--state",
                    os.path.join(p.dir, "state2"), "--format", "sarif", "--quiet"])
        s4 = rl.load_json(os.path.join(p.dir, "o4", "report.sarif"))
        R.check(r.returncode == 0 and all("baselineState" not in x for x in s4["runs"][0]["results"]),
                "a fresh state dir has no baseline")
        # tailoring: item 8 not applicable; the bank's own item "B-1" (a string number) mapped to a rule
        tf = os.path.join(p.dir, "tailoring.json")
        json.dump({"name": "bank <tailoring>",
                   "not_applicable": [{"checklist": "fisc-api-2018", "item": 8, "justification": "連鎖接続なし"}],
                   "add_items": [{"checklist": "fisc-api-2018", "no": "B-1", "chapter": "銀行独自", "goal": "HSTSを有効にする",
                                  "party": "API接続先"}],
                   "map": [{"rule": "HSTS-MISSING", "checklist": "fisc-api-2018", "items": ["B-1"]}]},
                  open(tf, "w", encoding="utf-8"), ensure_ascii=False)
        ot = os.path.join(p.dir, "ot")
        r = rl.run(["scan", "--config", p.config, "--out", ot, "--state", state, "--tailoring", tf, "--format", FORMATS,
                    "--quiet"])
        rept = rl.load_json(os.path.join(ot, "report.json"))
        it = {str(i["no"]): i for i in rept["items"]}
        R.check(r.returncode == 0 and it["8"]["status"] == "not_applicable" and it.get("B-1", {}).get("status") == "pass",
                "tailored scan: item 8 not applicable, bank item B-1 passes (%s)" % r.stderr.strip())
        R.check(not rl.validate(rept, rl.load_json(os.path.join(rl.SRC, "docs", "report.schema.json"))),
                "a tailored report validates against the schema")
        rows = list(csv.reader(io.StringIO(open(os.path.join(ot, "checklist.csv"), encoding="utf-8-sig").read(), newline="")))
        byno = {r_[0]: r_ for r_ in rows[1:]}
        R.check(len(rows) == 46 and all(len(r_) == 10 for r_ in rows) and byno["8"][4].startswith("【対象外】連鎖接続なし") and
                byno["B-1"][4].startswith("【自動点検: 適合】"), "CSV: the n/a reason and the bank's own item")
        root = ET.parse(os.path.join(ot, "junit.xml")).getroot()
        tc = {c.get("name").split()[0]: c for c in root.iter("testcase")}
        R.check(len(tc) == 45 and tc["8"].find("skipped").get("message").startswith("not_applicable") and
                tc["B-1"].find("skipped") is None and tc["B-1"].find("failure") is None,
                "JUnit: not-applicable is skipped, B-1 is a passing testcase")
        sj = rl.load_json(os.path.join(ot, "report.sarif"))
        taxa = {t["id"] for t in sj["runs"][0]["taxonomies"][0]["taxa"]}
        R.check("B-1" in taxa and any(any(t["id"] == "B-1" for t in x["taxa"]) for x in sj["runs"][0]["results"]),
                "SARIF: the bank's item is a taxon and results reference it")
        h = HTMLCheck()
        raw_t = open(os.path.join(ot, "report.html"), encoding="utf-8").read()
        h.feed(raw_t)
        R.check("bank &lt;tailoring&gt;" in raw_t and rept["tailoring"]["sha256"] in raw_t,
                "HTML names the tailoring (escaped) and its SHA-256")
        R.check([r_[0] for r_ in h.rows][-1] == "B-1" and any(r_[0] == "8" and "r-not_applicable" in r_[1] for r_ in h.rows),
                "HTML: rows for the n/a item and the bank's own item")

        # a target that cannot be observed: an error finding -> SARIF kind open, level none
        p.break_()
        cfg = json.load(open(p.config, encoding="utf-8"))
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
        s.close()
        cfg["probes"]["hsts"]["urls"].append("https://api.dead.test:%d/" % dead)
        cfg["probes"]["hsts"]["resolve"]["api.dead.test"] = "127.0.0.1"
        dcfg = os.path.join(p.dir, "dead.json")
        json.dump(cfg, open(dcfg, "w", encoding="utf-8"), ensure_ascii=False)
        r = rl.run(["scan", "--config", dcfg, "--out", os.path.join(p.dir, "o6"), "--state", state, "--format",
                    "json,sarif,csv,junit,html", "--quiet"])
        rep6 = rl.load_json(os.path.join(p.dir, "o6", "report.json"))
        errs = [f for f in rep6["findings"] if f["status"] == "error"]
        R.check(errs, "an unreachable target gives error findings (exit %d)" % r.returncode)
        s6 = check_sarif(os.path.join(p.dir, "o6"), rep6, lambda st: True)
        opens = [x for x in s6["runs"][0]["results"] if x["kind"] == "open"]
        R.check(len(opens) == len(errs) and all(x["level"] == "none" for x in opens),
                "error findings are SARIF kind open with level none (%d)" % len(opens))
        check_csv(os.path.join(p.dir, "o6"), rep6, COLS_JA)
        check_junit(os.path.join(p.dir, "o6"), rep6)
        # fixed site + unreachable target: items 30/37 are incomplete -> JUnit <error>, gate verdict incomplete
        p.fix()
        r = rl.run(["scan", "--config", dcfg, "--out", os.path.join(p.dir, "o7"), "--state", state, "--format",
                    "json,junit,html", "--quiet"])
        rep7 = rl.load_json(os.path.join(p.dir, "o7", "report.json"))
        root = ET.parse(os.path.join(p.dir, "o7", "junit.xml")).getroot()
        errs7 = sorted(c.get("name").split()[0] for c in root.iter("testcase") if c.find("error") is not None)
        R.check(r.returncode == 3 and rep7["gate"]["verdict"] == "incomplete" and errs7 == ["30", "37"] and
                root.get("errors") == "2", "incomplete items are JUnit <error> (%s, exit %d)" % (errs7, r.returncode))
        R.check(not rl.validate(rep7, rl.load_json(os.path.join(rl.SRC, "docs", "report.schema.json"))),
                "an incomplete report validates against the schema")
        r = rl.run(["scan", "--config", p.config, "--out", os.path.join(p.dir, "o5"), "--state", state,
                    "--format", "json,pdf"])
        R.check(r.returncode == 2 and "unknown format \"pdf\"" in r.stderr, "unknown format is a usage error")
    R.finish()


if __name__ == "__main__":
    main()
