#!/usr/bin/env python3
"""tenken scan with the patch probe on the fixture partner (tests/data/patch):
the expected verdict for every package of the test inventory, the EOL
judgements, the grace period as a tailoring parameter, and a malformed feed
(error with the byte offset, scan incomplete, nothing crashes)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

TENKEN = os.environ.get("TENKEN_BIN", "tenken")
SRC = os.environ.get("TENKEN_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
FIX = os.path.join(SRC, "tests", "data", "patch")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tkharness import expand_finding  # noqa: E402  (report/2: rule texts and evidence paths)
from tkharness import check, finish  # noqa: E402



def scan(workdir, config, tailoring=None, checklist="fisc-api-2018"):
    out = os.path.join(workdir, "out-%d" % len(os.listdir(workdir)))
    cmd = [TENKEN, "scan", "-c", config, "-o", out, "-q", "-l", checklist]
    if tailoring:
        cmd += ["-t", tailoring]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    rep = None
    if os.path.exists(os.path.join(out, "report.json")):
        with open(os.path.join(out, "report.json")) as f:
            rep = json.load(f)
    return r, rep


def status_of(rep, rule, target):
    st = [f["status"] for f in rep["findings"] if f["rule"] == rule and f["target"] == target]
    return st[0] if len(st) == 1 else ("missing" if not st else "duplicate %r" % st)


def finding(rep, rule, target):
    for f in rep["findings"]:
        if f["rule"] == rule and f["target"] == target:
            return expand_finding(rep, f)
    return {}


def item(rep, no):
    for it in rep["items"]:
        if it["no"] == no:
            return it
    return {}


def main():
    tmp = tempfile.mkdtemp(prefix="tenken-patch-")
    try:
        work = os.path.join(tmp, "partner")
        shutil.copytree(FIX, work)
        runs = os.path.join(tmp, "runs")
        os.mkdir(runs)
        cfg = os.path.join(work, "partner.json")
        r, rep = scan(runs, cfg)
        check(r.returncode == 3 and rep is not None, "scan runs; exit 3 (incomplete) because old1's release has no feed data", r.stderr[-500:])
        if rep is None:
            return
        errs = [(f["rule"], f["target"]) for f in rep["findings"] if f["status"] == "error"]
        check(errs == [("PATCH-INVENTORY-UNJUDGED", "old1")],
              "the only error: old1's packages (PATCH-INVENTORY-UNJUDGED), not its OS judgement", errs)
        S = lambda rule, t: status_of(rep, rule, t)
        # vulnerable and fixable, score >= 7.0: fail with the evidence the checklist needs
        f = finding(rep, "PATCH-MISSING-SEVERE", "app1/openssl/CVE-2024-5535")
        check(f.get("status") == "fail", "openssl CVE-2024-5535 (NVD 9.1, Debian urgency low) fails", f)
        ev = f.get("evidence", {})
        check(ev.get("package") == "openssl" and ev.get("installed") == "3.0.11-1~deb12u2"
              and ev.get("fixed") == "3.0.14-1~deb12u2" and ev.get("cve") == "CVE-2024-5535"
              and ev.get("score") == 9.1 and ev.get("vector") == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:H"
              and ev.get("score_source") == "nvd:nvd@nist.gov" and ev.get("feed") == "debian-tracker",
              "evidence: package, installed, fixed, CVE, score, vector, source", ev)
        check(ev.get("urgency") == "low" and len(ev.get("scores") or []) == 2
              and ev["scores"][1]["score"] == 4.8,
              "evidence shows both the distribution's urgency and every CVSS score", ev.get("scores"))
        check(ev.get("severity") == "critical" and ev.get("jvn_level") == "III", "severity shown as CVSS v3 name and JVN level")
        check(sorted(ev.get("binaries") or []) == ["libssl3", "openssl"], "binary packages of the source are listed", ev.get("binaries"))
        check(S("PATCH-MISSING-SEVERE", "app1/pillow/CVE-2023-50447") == "fail",
              "pillow (Source: pillow (9.4.0-1.1), binary python3-pil) judged by source version: fails")
        # fixable below the threshold: not a failure, a warning
        check(S("PATCH-MISSING-SEVERE", "app1/openssl/CVE-2023-5678") == "pass", "openssl CVE-2023-5678 (5.3) passes the level-III rule")
        check(S("PATCH-MISSING-BELOW-THRESHOLD", "app1/openssl/CVE-2023-5678") == "warn", "... and warns under the below-threshold rule")
        # vulnerable, no fix released: own rule, warn, never pass, never dropped
        f = finding(rep, "PATCH-NO-FIX", "app1/curl/CVE-2024-2398")
        check(f.get("status") == "warn", "curl CVE-2024-2398 (open, no fix) is a PATCH-NO-FIX warning", f)
        check(f.get("evidence", {}).get("score") == 8.6 and f["evidence"].get("score_source") == "osv:DEBIAN-CVE-2024-2398",
              "... scored from the OSV record's CVSS vector (8.6)")
        check(S("PATCH-MISSING-SEVERE", "app1/curl/CVE-2024-2398") == "missing", "... and not judged by the fixable rules")
        # unscored CVE: own rule
        check(S("PATCH-UNSCORED", "app1/glibc/CVE-2024-33599") == "warn"
              and S("PATCH-MISSING-SEVERE", "app1/glibc/CVE-2024-33599") == "missing",
              "glibc CVE-2024-33599 (no score anywhere) is PATCH-UNSCORED, not a pass")
        # unimportant
        check(S("PATCH-NO-FIX-UNIMPORTANT", "app1/tar/CVE-2005-2541") == "warn"
              and S("PATCH-NO-FIX", "app1/tar/CVE-2005-2541") == "missing",
              "tar CVE-2005-2541 (urgency unimportant) is its own info warning")
        # fixed, not affected, not installed, empty releases: no per-CVE finding, counted
        for t in ["app1/bash/CVE-2022-3715", "app1/curl/CVE-2023-38545", "app1/zlib/CVE-2023-45853",
                  "app1/exim4/CVE-2023-42115", "app1/sudo/CVE-2023-7090"]:
            check(not [x for x in rep["findings"] if x["target"] == t],
                  "no finding for %s (fixed / not affected / removed / no release data)" % t)
        h = finding(rep, "PATCH-INVENTORY-UNJUDGED", "app1").get("evidence", {})
        check(h.get("fixed") == 2 and h.get("not_affected") == 1 and h.get("vulnerable_fixable") == 5
              and h.get("vulnerable_unfixed") == 2,
              "host summary counts: 2 fixed, 1 not affected, 5 fixable, 2 unfixed", h)
        # rpm host against OSV (Rocky) with rpm version comparison
        f = finding(rep, "PATCH-MISSING-SEVERE", "db1/openssl/CVE-2024-5535")
        check(f.get("status") == "fail" and f["evidence"].get("fixed") == "1:3.0.7-28.el9_4"
              and "openssl-libs" in (f["evidence"].get("binaries") or []),
              "db1 openssl-libs 1:3.0.7-24.el9 < 1:3.0.7-28.el9_4 (Rocky OSV) fails, one finding for the source openssl", f)
        check(not [x for x in rep["findings"] if x["target"] == "db1/openssl-libs/CVE-2024-5535"],
              "... no second finding keyed by the binary package")
        check(not [x for x in rep["findings"] if x["target"].startswith("db1/bash/")],
              "db1 bash 5.1.8-9.el9 >= fixed 5.1.8-6.el9: no finding")
        # CPEs (nmap-found software) against NVD configurations
        check(S("PATCH-NO-FIX", "app1/apache:http_server/CVE-2021-41773") == "warn",
              "app1 apache http_server 2.4.49 matches CVE-2021-41773 (no fixed version in NVD: PATCH-NO-FIX)")
        check(S("PATCH-MISSING-SEVERE", "app1/openssl:openssl/CVE-2024-5535") == "fail",
              "app1 openssl 1.1.1k (CPE) vs NVD range <1.1.1za: fails")
        # Alpine: apk installed db, origin as the source, apk version ordering (OSV Alpine ecosystem)
        f = finding(rep, "PATCH-MISSING-SEVERE", "alp1/openssl/CVE-2024-5535")
        check(f.get("status") == "fail" and f["evidence"].get("binaries") == ["libcrypto3"],
              "alp1 openssl (origin of libcrypto3) 3.1.4-r1 < 3.1.6-r0 (Alpine OSV): fails", f)
        check(not [x for x in rep["findings"] if x["target"].startswith("alp1/musl/")],
              "alp1 musl 1.2.4_git20230717-r4 >= fixed -r3: no finding")
        check(S("OS-END-OF-SUPPORT", "alp1") == "fail", "Alpine 3.19 is past end of support (2025-11-01)")
        # CPEs from an nmap -oX report (CPE 2.2 URIs), deduplicated against the config's CPE 2.3 names
        f = finding(rep, "PATCH-MISSING-SEVERE", "app1/openbsd:openssh/CVE-2023-38408")
        check(f.get("status") == "fail" and f["evidence"].get("fixed") == "9.3",
              "nmap's cpe:/a:openbsd:openssh:8.2p1 vs NVD range <9.3: fails, fixed 9.3", f)
        check(len([x for x in rep["findings"] if x["target"] == "app1/apache:http_server/CVE-2021-41773"]) == 1,
              "apache found both in cpes and by nmap is judged once")
        # end of support
        f = finding(rep, "OS-END-OF-SUPPORT", "old1")
        check(f.get("status") == "fail" and f["evidence"].get("end_of_support") == "2024-06-30",
              "Debian 10 is past its end of support (LTS end 2024-06-30)", f)
        check(S("OS-END-OF-SUPPORT", "app1") == "pass" and S("OS-SECURITY-SUPPORT-REDUCED", "app1") == "warn",
              "Debian 12 is supported (LTS to 2028-06-30) but past regular security support")
        check(S("OS-END-OF-SUPPORT", "db1") == "pass", "Rocky 9 is supported")
        check(S("SW-END-OF-SUPPORT", "app1/cpe:2.3:a:openssl:openssl:1.1.1k:*:*:*:*:*:*:*") == "fail",
              "OpenSSL 1.1.1k (CPE) is past end of support")
        f = finding(rep, "PATCH-INVENTORY-UNJUDGED", "old1")
        check(f.get("status") == "error" and "no loaded feed has data for debian 10" in f["evidence"].get("message", ""),
              "old1: no tracker data for buster -> cannot judge: error (incomplete), never pass", f)
        it = item(rep, 27)
        check(it.get("status") == "fail", "FISC item 27 fails", it.get("status"))
        r2, rep2 = scan(runs, cfg, checklist="cashless-card-2019")
        check(rep2 is not None and item(rep2, 26).get("status") == "fail", "card item 26 fails")

        # grace period: db1's fix was published 2024-11-13 (Rocky OSV); 740 days before as_of
        f = finding(rep, "PATCH-MISSING-SEVERE", "db1/openssl/CVE-2024-5535")
        check(f.get("evidence", {}).get("fix_published") == "2024-11-13", "fix date and age are in the evidence", f.get("evidence"))
        # a DSA (OSV) speaks for two CVEs: both judged; its date dates the tracker's identical fix
        f = finding(rep, "PATCH-MISSING-SEVERE", "app1/openssl/CVE-2024-5535").get("evidence", {})
        check(f.get("fix_published") == "2024-09-03" and f.get("fix_published_from") == "DSA-5764-1",
              "tracker fix dated by the DSA naming the same fixed version", f)
        f = finding(rep, "PATCH-UNSCORED", "app1/openssl/CVE-2024-6119")
        check(f.get("status") == "warn" and f["evidence"].get("record") == "DSA-5764-1",
              "second CVE of the DSA is judged too (no score anywhere: PATCH-UNSCORED)", f)
        check("fix_published" not in finding(rep, "PATCH-MISSING-SEVERE", "app1/pillow/CVE-2023-50447").get("evidence", {"fix_published": None}) or finding(rep, "PATCH-MISSING-SEVERE", "app1/pillow/CVE-2023-50447")["evidence"].get("fix_published") is None, "the pillow fix has no known date")
        tl = os.path.join(work, "tailoring.json")

        def tailored(params):
            with open(tl, "w") as fh:
                json.dump({"name": "t", "rules": {"PATCH-MISSING-SEVERE": {"params": params}}}, fh)
            return scan(runs, cfg, tailoring=tl)[1]

        rep3 = tailored({"grace_days": 1000})
        check(rep3 is not None and status_of(rep3, "PATCH-MISSING-SEVERE", "db1/openssl/CVE-2024-5535") == "pass"
              and status_of(rep3, "PATCH-MISSING-SEVERE", "app1/openssl/CVE-2024-5535") == "pass",
              "grace_days 1000: fixes released 740 (db1) and 811 (app1, DSA) days ago are within grace")
        check(rep3 is not None and status_of(rep3, "PATCH-MISSING-SEVERE", "app1/pillow/CVE-2023-50447") == "fail",
              "... a fix with an unknown release date still fails (conservative)")
        rep4 = tailored({"grace_days": 30})
        check(rep4 is not None and status_of(rep4, "PATCH-MISSING-SEVERE", "db1/openssl/CVE-2024-5535") == "fail"
              and status_of(rep4, "PATCH-MISSING-SEVERE", "app1/openssl/CVE-2024-5535") == "fail",
              "grace_days 30: the old fixes fail")
        rep5 = tailored({"min_score": 9.5})
        check(rep5 is not None and status_of(rep5, "PATCH-MISSING-SEVERE", "app1/openssl/CVE-2024-5535") == "pass"
              and status_of(rep5, "PATCH-MISSING-SEVERE", "app1/openbsd:openssh/CVE-2023-38408") == "fail",
              "min_score 9.5: the 9.1 CVE passes, the 9.8 openssh one still fails")

        # malformed feed: clear error with offset, previous feeds still used, scan incomplete
        with open(os.path.join(work, "feeds", "nvd", "page-0002.json"), "w") as fh:
            fh.write('{"vulnerabilities": [{"cve": {"id": "CVE-2024-0001", "metrics": {]}}]}')
        r5, rep5 = scan(runs, cfg)
        errs = [f for f in (rep5 or {}).get("findings", []) if f["status"] == "error" and f["target"] == "app1"]
        msg = errs[0]["evidence"]["message"] if errs else ""
        check(r5.returncode == 3, "malformed NVD page: scan exits 3 (incomplete)", r5.returncode)
        check("feeds/nvd/page-0002.json: malformed JSON at byte offset 65 of 70: expected a string" in msg, "... error names the file and the byte offset", msg)
        check(rep5 is not None and status_of(rep5, "PATCH-UNSCORED", "app1/openssl/CVE-2024-5535") == "warn",
              "... the other feeds' findings are still reported (the tracker's openssl CVE, now without NVD's score: unscored)")
        check(rep5 is not None and not [x for x in rep5["findings"] if str((x.get("evidence") or {}).get("score_source", "")).startswith("nvd:")
                                        or x["target"].startswith("app1/apache:")],
              "... and nothing from the failed NVD feed is used, not even its first, valid page (all or nothing)", "")
        os.unlink(os.path.join(work, "feeds", "nvd", "page-0002.json"))

        # config errors name the file and JSON path
        bad = json.load(open(cfg))
        bad["probes"]["patch"]["feeds"][1]["format"] = "nvd-1.1"
        badp = os.path.join(work, "bad.json")
        json.dump(bad, open(badp, "w"))
        r6 = subprocess.run([TENKEN, "validate", "-c", badp], capture_output=True, text=True, timeout=30)
        check(r6.returncode == 2 and "probes.patch.feeds[1].format" in r6.stderr,
              "unknown feed format: config error naming probes.patch.feeds[1].format", r6.stderr)
        bad = json.load(open(cfg))
        del bad["probes"]["patch"]["inventories"][1]["os_release"]
        json.dump(bad, open(badp, "w"))
        r7 = subprocess.run([TENKEN, "validate", "-c", badp], capture_output=True, text=True, timeout=30)
        check(r7.returncode == 2 and "probes.patch.inventories[1]" in r7.stderr,
              "inventory without an OS: config error naming probes.patch.inventories[1]", r7.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
    finish()
