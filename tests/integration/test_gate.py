"""tenken gate / scan end to end against real HTTPS servers on loopback.

- a partner whose HSTS is weak: gate exits 1, report lists the failing items
- a partner whose automated items all pass: gate exits 0
- unreachable endpoint: exit 3 (incomplete), 0 with --allow-incomplete
- bad config: exit 2 with file and JSON path in the message
- both checklists, tailoring (item marked not applicable, rule disabled)
"""
import os
import re

from tkharness import (HTTPServer, Results, TestCA, expand_finding, free_port, read_json, rmtree, run_tenken, tmpdir,
                       write_json)

GOOD_HSTS = ("Strict-Transport-Security", "max-age=63072000; includeSubDomains; preload")


def partner(work, urls, http_port, name="gate-test", checklist=None):
    cfg = {"partner": {"id": name, "name": "ゲート試験株式会社"},
           "probes": {"hsts": {"urls": urls, "resolve": {"good.test": "127.0.0.1", "weak.test": "127.0.0.2"},
                               "ca_file": "ca.pem", "http_port": http_port, "request_timeout_s": 5}}}
    if checklist:
        cfg["checklist"] = checklist
    return write_json(os.path.join(work, name + ".json"), cfg)


def main():
    r = Results()
    work = tmpdir()
    servers = []
    try:
        ca = TestCA(work)
        good = HTTPServer("127.0.0.1", cert=ca.issue("good.test"), headers=[GOOD_HSTS])
        weak = HTTPServer("127.0.0.2", cert=ca.issue("weak.test"), headers=[("Strict-Transport-Security", "max-age=600")])
        servers += [good, weak]
        # plain HTTP on one port number on both addresses
        for _ in range(20):
            p = free_port("127.0.0.1")
            try:
                redirect = HTTPServer("127.0.0.1", port=p, status=301,
                                      headers=[("Location", "https://good.test:%d/" % good.port)])
                plain = HTTPServer("127.0.0.2", port=p, status=200)
                servers += [redirect, plain]
                break
            except OSError:
                continue
        http_port = servers[-1].port

        good_url = "https://good.test:%d/" % good.port
        weak_url = "https://weak.test:%d/" % weak.port

        # 1. failing partner -> exit 1
        cfg = partner(work, [good_url, weak_url], http_port, "weak-partner")
        out = os.path.join(work, "out-weak")
        rc, so, se = run_tenken("gate", "--config", cfg, "--out", out)
        r.check(rc == 1, "gate on a weak partner exits 1 (got %d: %s)" % (rc, se.strip()))
        rep = read_json(os.path.join(out, "report.json"))
        items = {i["no"]: i for i in rep["items"]}
        r.check(len(rep["items"]) == 44, "report has every FISC item (44)")
        r.check(items[30]["status"] == "fail" and items[37]["status"] == "fail", "items 30 and 37 fail")
        r.check("HSTS-MAX-AGE-SHORT" in items[30]["findings"] and "HTTP-NO-HTTPS-REDIRECT" in items[30]["findings"],
                "item 30 names the failing rules")
        r.check(items[1]["status"] == "manual", "an item no rule covers is manual")
        r.check(rep["complete"] is True and rep["gate"]["verdict"] == "fail", "complete: true, verdict fail")
        for key in ("schema", "started_at", "finished_at"):
            r.check(key in rep, "report has %s" % key)
        r.check(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", rep["started_at"]) is not None, "started_at is RFC 3339 UTC")
        r.check(rep["tool"]["name"] == "tenken" and rep["partner"]["id"] == "weak-partner"
                and rep["checklist"]["id"] == "fisc-api-2018", "tool, partner, checklist ids")
        f = [expand_finding(rep, f) for f in rep["findings"] if f["rule"] == "HSTS-MAX-AGE-SHORT" and f["status"] == "fail"]
        r.check(len(f) == 1 and f[0]["target"] == weak_url and f[0]["evidence"]["max_age"] == 600
                and f[0]["items"]["fisc-api-2018"] == [30, 37] and f[0]["severity"] == "low" and f[0]["remediation"],
                "the max-age finding carries target, evidence, items, severity, remediation")
        obs = [o for o in rep["observations"] if o["target"] == good_url]
        r.check(len(obs) == 1 and obs[0]["probe"] == "hsts" and obs[0]["max_age"] == 63072000
                and obs[0]["http"]["status_code"] == 301 and obs[0]["http_redirects_to_https"] is True,
                "the good endpoint's observation records max-age and the redirect")

        # 2. all automated items pass -> exit 0
        cfg = partner(work, [good_url], http_port, "good-partner")
        out = os.path.join(work, "out-good")
        rc, so, se = run_tenken("gate", "--config", cfg, "--out", out)
        r.check(rc == 0, "gate on a good partner exits 0 (got %d: %s)" % (rc, se.strip()))
        rep = read_json(os.path.join(out, "report.json"))
        items = {i["no"]: i for i in rep["items"]}
        r.check(items[30]["status"] == "pass" and items[37]["status"] == "pass", "items 30 and 37 pass")
        r.check(sum(1 for i in rep["items"] if i["status"] == "manual") == 42, "the other 42 items are manual")

        # 3. card checklist from the command line: 43 items, numbers 29/36
        out = os.path.join(work, "out-card")
        cfg = partner(work, [good_url, weak_url], http_port, "weak-partner")
        rc, so, se = run_tenken("gate", "--config", cfg, "--out", out, "--checklist", "cashless-card-2019")
        rep = read_json(os.path.join(out, "report.json"))
        items = {i["no"]: i for i in rep["items"]}
        r.check(rc == 1 and len(rep["items"]) == 43 and items[29]["status"] == "fail" and items[36]["status"] == "fail"
                and items[30]["status"] == "manual", "card checklist: 43 items, 29 and 36 fail")

        # 4. unreachable endpoint -> incomplete (3); --allow-incomplete -> 0; scan -> 3
        dead = free_port("127.0.0.1")
        cfg = partner(work, ["https://good.test:%d/" % dead], http_port, "dead-partner")
        out = os.path.join(work, "out-dead")
        rc, so, se = run_tenken("gate", "--config", cfg, "--out", out)
        rep = read_json(os.path.join(out, "report.json"))
        items = {i["no"]: i for i in rep["items"]}
        r.check(rc == 3, "gate with an unreachable endpoint exits 3 (got %d)" % rc)
        r.check(items[30]["status"] == "incomplete" and rep["complete"] is False
                and rep["gate"]["verdict"] == "incomplete", "item 30 incomplete, report complete: false")
        errs = [o for o in rep["observations"] if o["kind"] == "error"]
        r.check(len(errs) == 1 and errs[0]["error"] == "net", "an error observation names the failure (net)")
        rc, so, se = run_tenken("gate", "--config", cfg, "--out", out, "--allow-incomplete")
        r.check(rc == 0, "--allow-incomplete turns incomplete into 0 (got %d)" % rc)

        # 5. tailoring: max-age threshold lowered, redirect rule disabled, item 30 not applicable
        tail = write_json(os.path.join(work, "tailoring.json"), {
            "name": "Test Bank", "disable_rules": ["HTTP-NO-HTTPS-REDIRECT"],
            "rules": {"HSTS-MAX-AGE-SHORT": {"params": {"min_max_age": 600}}},
            "not_applicable": [{"checklist": "fisc-api-2018", "item": 30, "justification": "covered by contract"}]})
        out = os.path.join(work, "out-tailored")
        cfg = partner(work, [good_url, weak_url], http_port, "weak-partner")
        rc, so, se = run_tenken("gate", "--config", cfg, "--out", out, "--tailoring", tail)
        rep = read_json(os.path.join(out, "report.json"))
        items = {i["no"]: i for i in rep["items"]}
        r.check(rc == 0, "tailored gate passes (got %d: %s)" % (rc, se.strip()))
        r.check(items[30]["status"] == "not_applicable" and items[30]["justification"] == "covered by contract",
                "item 30 not applicable with its justification")
        r.check(items[37]["status"] == "pass", "item 37 passes with the tailored threshold")

        # 6. bad configs -> exit 2, message names file and path; nothing is written
        bad = write_json(os.path.join(work, "partner.json"), {
            "partner": {"id": "x", "name": "X"}, "probes": {"hsts": {"urls": [good_url], "http_port": 70000}}})
        out = os.path.join(work, "out-bad")
        rc, so, se = run_tenken("gate", "--config", bad, "--out", out)
        r.check(rc == 2 and "partner.json: probes.hsts.http_port: 70000 out of range" in se,
                "bad config: exit 2 naming file and path (%r)" % se.strip())
        r.check(not os.path.exists(out), "bad config: no output directory created")
        rc, so, se = run_tenken("validate", "--config", bad)
        r.check(rc == 2 and "probes.hsts.http_port" in se, "validate reports the same error")
        rc, so, se = run_tenken("validate", "--config", cfg)
        r.check(rc == 0 and "valid" in so, "validate accepts a good config")
        rc, so, se = run_tenken("gate", "--config", cfg)
        r.check(rc == 2, "gate without --out is a usage error")
        rc, so, se = run_tenken("gate", "--config", cfg, "--out", out, "--tailoring", os.path.join(work, "nope.json"))
        r.check(rc == 2 and "nope.json" in se, "missing tailoring file: exit 2 naming it")
        rc, so, se = run_tenken("scan", "--config", cfg, "--out", out, "--checklist", "nosuch")
        r.check(rc == 2 and "unknown checklist" in se, "unknown checklist: exit 2")
    finally:
        for s in servers:
            s.stop()
        rmtree(work)
    r.finish()


if __name__ == "__main__":
    main()
