"""`tenken rules --coverage`: which checklist items the enabled rules judge with evidence.

The figure is recomputed here from `tenken rules --format json` (every rule's own mapping), so a
coverage that miscounts, drops a probe or counts a disabled rule fails."""
import json
import os
import subprocess
import tempfile

from tkharness import TENKEN, Results

R = Results()


def tenken(*args):
    return subprocess.run([TENKEN] + list(args), capture_output=True, text=True, timeout=60)


def expected(checklist, tailoring=None):
    args = ["rules", "--checklist", checklist, "--format", "json"] + (["--tailoring", tailoring] if tailoring else [])
    rules = json.loads(tenken(*args).stdout)
    items = {}
    for r in rules:
        if not r.get("enabled", True):
            continue
        for no in r["items"].get(checklist) or []:
            items.setdefault(str(no), set()).add(r["probe"])
    return items


def test_counts(r):
    for cl, total in (("fisc-api-2018", 44), ("cashless-card-2019", 43)):
        p = tenken("rules", "--coverage", "--checklist", cl, "--format", "json")
        r.check(p.returncode == 0, "%s: --coverage --format json runs (%s)" % (cl, p.stderr.strip()))
        cov = json.loads(p.stdout)
        want = expected(cl)
        r.check(cov["total"] == total, "%s: %d items in all (got %d)" % (cl, total, cov["total"]))
        r.check(cov["judged"] == len(want), "%s: judged %d = items some rule maps to (%d)" % (cl, cov["judged"], len(want)))
        got = {str(x["no"]): set(x["probes"]) for x in cov["items"] if x["rules"]}
        r.check(got == want, "%s: per-item probes agree with the rules' own mappings" % cl)
        t = tenken("rules", "--coverage", "--checklist", cl)
        r.check("%s: %d of %d items judged with evidence" % (cl, len(want), total) in t.stdout,
                "%s: the text form states the figure" % cl)


def test_disabled_rules_do_not_count(r):
    rules = json.loads(tenken("rules", "--format", "json").stdout)
    cloud = [x["id"] for x in rules if x["probe"] == "cloud"]
    with tempfile.TemporaryDirectory() as d:
        t = os.path.join(d, "t.json")
        json.dump({"name": "no cloud", "disable_rules": cloud}, open(t, "w"))
        p = tenken("rules", "--coverage", "--checklist", "fisc-api-2018", "--format", "json", "--tailoring", t)
        cov = json.loads(p.stdout)
        r.check("cloud" not in cov["items_by_probe"], "a bank that disables every cloud rule sees no cloud coverage")
        r.check(cov["judged"] == len(expected("fisc-api-2018", t)),
                "and the count drops to what the remaining rules map (%d)" % cov["judged"])


R.run(test_counts)
R.run(test_disabled_rules_do_not_count)
R.finish()
