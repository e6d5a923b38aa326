#!/usr/bin/env python3
"""A history written before tenken.report/2 and before compression stays readable and verifiable.

tests/data/history-v1/ was written by the previous tenken (uncompressed <seq>.json,
tenken.report/1 with the rule texts on each finding; see its README). This test copies it,
then: verify PARTNER / verify FILE / history / report / diff read it; a new scan (report/2,
stored as <seq>.json.gz) chains onto it and the mixed chain verifies; the signature covers the
uncompressed report.json bytes (gunzip -> SHA-256 == report_sha256 == sha of --out's
report.json); tampering inside the .gz and a truncated .gz are named by verify.
"""
import gzip
import hashlib
import json
import os
import random
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tkharness  # noqa: E402
from tkharness import HTTPServer, Results, TestCA, read_json, rmtree, tmpdir, write_json  # noqa: E402

SRC = os.environ.get("TENKEN_SOURCE_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
FIXTURE = os.path.join(SRC, "tests", "data", "history-v1")


class Run:
    def __init__(self, rc, out, err):
        self.returncode, self.stdout, self.stderr = rc, out, err


def run_tenken(*args):
    return Run(*tkharness.run_tenken(*args))


def copy_state(work):
    state = os.path.join(work, "state")
    shutil.copytree(FIXTURE, state, ignore=shutil.ignore_patterns("README.md"))
    # the fixture's key is named for what it is (a throwaway test key); tenken looks for key/ed25519.pem
    os.rename(os.path.join(state, "key", "THROWAWAY-TEST-KEY-ed25519.pem"), os.path.join(state, "key", "ed25519.pem"))
    for root, dirs, files in os.walk(state):
        os.chmod(root, 0o700)
        for f in files:
            os.chmod(os.path.join(root, f), 0o600)
    return state


def sha(b):
    return hashlib.sha256(b).hexdigest()


def main():
    R = Results()
    work = tmpdir()
    servers = []
    try:
        state = copy_state(work)
        pdir = os.path.join(state, "reports", "acme-v1")
        old2 = open(os.path.join(pdir, "00000002.json"), "rb").read()
        R.check(json.loads(old2)["schema"] == "tenken.report/1", "the fixture is an old-format report")

        p = run_tenken("verify", "acme-v1", "--state", state)
        R.check(p.returncode == 0 and "2 reports" in p.stdout, "verify reads the old history (%d: %s%s)"
                % (p.returncode, p.stdout[-300:], p.stderr[-300:]))
        p = run_tenken("verify", os.path.join(pdir, "00000002.json"), "--state", state)
        R.check(p.returncode == 0, "verify FILE on an old report (%d: %s)" % (p.returncode, p.stdout + p.stderr))
        p = run_tenken("history", "acme-v1", "--state", state)
        R.check(p.returncode == 0 and p.stdout.count("\n") >= 2, "history lists the old scans")

        out = os.path.join(work, "old-out")
        p = run_tenken("report", "acme-v1", "--format", "json,html,csv,sarif,junit", "--out", out, "--state", state)
        R.check(p.returncode == 0, "report re-renders an old scan (%d: %s)" % (p.returncode, p.stderr[-300:]))
        R.check(open(os.path.join(out, "report.json"), "rb").read() == old2, "... report.json is the stored bytes")
        html = open(os.path.join(out, "report.html"), encoding="utf-8").read()
        R.check("HSTSのmax-ageが短い" in html and "max-age" in html,
                "... the HTML shows an old finding's title and evidence (from the finding itself)")
        csv = open(os.path.join(out, "checklist.csv"), encoding="utf-8-sig").read()
        R.check("max-ageを閾値" in csv, "... the CSV shows the old finding's remediation")
        sarif = read_json(os.path.join(out, "report.sarif"))
        rules = {r["id"]: r for r in sarif["runs"][0]["tool"]["driver"]["rules"]}
        R.check(rules.get("HSTS-MAX-AGE-SHORT", {}).get("help", {}).get("text", "").startswith("max-age"),
                "... SARIF rule help from the old finding")

        # a new scan chains onto the old history, stored compressed
        ca = TestCA(work)
        weak = HTTPServer("127.0.0.2", cert=ca.issue("weak.test"), headers=[("Strict-Transport-Security", "max-age=600")])
        good = HTTPServer("127.0.0.1", cert=ca.issue("good.test"),
                          headers=[("Strict-Transport-Security", "max-age=63072000; includeSubDomains")])
        servers += [weak, good]
        cfg = write_json(os.path.join(work, "p.json"), {
            "partner": {"id": "acme-v1", "name": "旧形式テスト"},
            "probes": {"hsts": {"urls": ["https://good.test:%d/" % good.port, "https://weak.test:%d/" % weak.port],
                                "resolve": {"good.test": "127.0.0.1", "weak.test": "127.0.0.2"},
                                "ca_file": os.path.join(work, "ca.pem"), "request_timeout_s": 5}}})
        nout = os.path.join(work, "new-out")
        p = run_tenken("scan", "-c", cfg, "-o", nout, "--state", state, "-q")
        R.check(p.returncode == 0, "a new scan into the old history (%d: %s)" % (p.returncode, p.stderr[-300:]))
        gz = os.path.join(pdir, "00000003.json.gz")
        R.check(os.path.exists(gz) and not os.path.exists(os.path.join(pdir, "00000003.json")),
                "the new report is stored compressed (00000003.json.gz)")
        raw = gzip.decompress(open(gz, "rb").read())
        outjson = open(os.path.join(nout, "report.json"), "rb").read()
        env = read_json(gz + ".sig")
        R.check(raw == outjson, "gunzip of the stored report is --out's report.json byte for byte")
        R.check(env["report_sha256"] == sha(raw) and env["previous_sha256"] == sha(old2),
                "the signature covers the uncompressed bytes and links to the old report's SHA-256")
        R.check(json.loads(raw)["schema"] == "tenken.report/3", "the new report is tenken.report/3")
        R.check(os.path.getsize(gz) * 3 < len(raw), "compressed to under a third (%d -> %d bytes)" % (len(raw), os.path.getsize(gz)))
        p = run_tenken("verify", "acme-v1", "--state", state)
        R.check(p.returncode == 0 and "3 reports" in p.stdout, "the mixed chain (2 old + 1 compressed) verifies (%s%s)"
                % (p.stdout[-400:], p.stderr[-200:]))
        p = run_tenken("verify", gz, "--state", state)
        R.check(p.returncode == 0, "verify FILE on a compressed report (%s)" % (p.stdout + p.stderr)[-300:])
        p = run_tenken("verify", os.path.join(nout, "report.json"), "--state", state)
        R.check(p.returncode == 0, "verify FILE on --out's report.json finds the stored scan (%s)" % (p.stdout + p.stderr)[-300:])
        p = run_tenken("diff", "acme-v1", "2", "3", "--state", state)
        R.check(p.returncode == 0, "diff between an old and a new report (%d: %s)" % (p.returncode, p.stderr[-300:]))
        out3 = os.path.join(work, "out3")
        p = run_tenken("report", "acme-v1", "--format", "json,sarif", "--out", out3, "--state", state)
        R.check(p.returncode == 0 and open(os.path.join(out3, "report.json"), "rb").read() == raw,
                "report of a compressed scan writes the uncompressed stored bytes")
        sar = read_json(os.path.join(out3, "report.sarif"))
        # the new servers listen on other ports than the fixture's, so every target is new and the
        # old failures are "absent": their text comes from the old report's own finding fields
        absent = [r for r in sar["runs"][0]["results"] if r.get("baselineState") == "absent"]
        R.check(sar["runs"][0]["properties"]["baselineCompared"] and absent
                and all("HSTSのmax-ageが短い" in r["message"]["text"] for r in absent if r["ruleId"] == "HSTS-MAX-AGE-SHORT"),
                "SARIF baseline against the old-format previous scan (%d absent)" % len(absent))

        # tampering inside the compressed file: same JSON shape, one value changed
        doc = json.loads(raw)
        doc["started_at"] = "2020-01-01T00:00:00Z"
        saved = open(gz, "rb").read()
        with open(gz, "wb") as f:
            f.write(gzip.compress(json.dumps(doc).encode()))
        p = run_tenken("verify", "acme-v1", "--state", state)
        R.check(p.returncode == 1 and "modified" in p.stdout, "a recompressed edited report is named modified (%s)"
                % p.stdout[-300:])
        with open(gz, "wb") as f:
            f.write(saved[:len(saved) // 2])
        p = run_tenken("verify", "acme-v1", "--state", state)
        R.check(p.returncode == 1 and "cannot be read" in p.stdout and "not a complete gzip stream" in p.stdout,
                "a truncated .gz is named (modified, cannot be read), not a crash (%d: %s)"
                % (p.returncode, p.stdout[-300:]))
        with open(gz, "wb") as f:
            f.write(bytes(random.Random(7).getrandbits(8) for _ in range(4096)))
        p = run_tenken("verify", "acme-v1", "--state", state)
        R.check(p.returncode == 1, "garbage in place of the .gz is a problem (%d)" % p.returncode)
        with open(gz, "wb") as f:
            f.write(saved)
        p = run_tenken("verify", "acme-v1", "--state", state)
        R.check(p.returncode == 0, "restored: verifies again")
    finally:
        for s in servers:
            s.stop()
        rmtree(work)
    R.finish()


if __name__ == "__main__":
    main()
