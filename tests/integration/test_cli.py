"""The listing subcommands and --help: checklist list/show (text and JSON), probes, rules,
version, and usage errors (exit 2)."""
import json

from tkharness import Results, run_tenken


def main():
    r = Results()
    for cmd in (["scan"], ["gate"], ["validate"], ["checklist"], ["probes"], ["rules"], ["demo"]):
        rc, so, se = run_tenken(*(cmd + ["--help"]))
        r.check(rc == 0 and "usage: tenken " + cmd[0] in so, "%s --help" % cmd[0])
    rc, so, se = run_tenken("gate", "--help")
    r.check(all(("  %d  " % c) in so for c in (0, 1, 2, 3, 4)), "gate --help documents exit codes 0-4")
    rc, so, se = run_tenken("--help")
    r.check(rc == 0 and "exit codes" in so, "tenken --help")
    rc, so, se = run_tenken("bogus")
    r.check(rc == 2 and "unknown command" in se, "unknown command: exit 2")
    rc, so, se = run_tenken()
    r.check(rc == 2, "no command: exit 2")
    rc, so, se = run_tenken("version")
    r.check(rc == 0 and so.startswith("tenken "), "version")

    rc, so, se = run_tenken("checklist", "list")
    r.check(rc == 0 and "fisc-api-2018" in so and "cashless-card-2019" in so and "44 items" in so and "43 items" in so,
            "checklist list")
    rc, so, se = run_tenken("checklist", "list", "--format", "json")
    lst = json.loads(so)
    r.check({c["id"]: c["items"] for c in lst} == {"fisc-api-2018": 44, "cashless-card-2019": 43}, "checklist list --format json")
    for cid, n in (("fisc-api-2018", 44), ("cashless-card-2019", 43)):
        rc, so, se = run_tenken("checklist", "show", cid, "--format", "json")
        doc = json.loads(so)
        ok = rc == 0 and doc["id"] == cid and len(doc["items"]) == n
        ok = ok and all(all(k in it for k in ("no", "chapter", "goal", "party")) for it in doc["items"])
        ok = ok and [it["no"] for it in doc["items"]] == list(range(1, n + 1))
        r.check(ok, "checklist show %s --format json: %d items with no/chapter/goal/party" % (cid, n))
    rc, so, se = run_tenken("checklist", "show", "fisc-api-2018")
    r.check(rc == 0 and "27 [システム開発・運用管理] (API接続先) システムやネットワークに対する脆弱性対策を実施する。" in so,
            "checklist show (text) prints item 27 verbatim")
    rc, so, se = run_tenken("checklist", "show", "nosuch")
    r.check(rc == 2 and "unknown checklist" in se, "checklist show nosuch: exit 2")

    rc, so, se = run_tenken("probes")
    r.check(rc == 0 and so.startswith("") and "hsts" in so, "probes lists hsts")
    rc, so, se = run_tenken("rules", "--checklist", "cashless-card-2019")
    r.check(rc == 0 and "HSTS-MISSING" in so and "cashless-card-2019:29,36" in so and "fisc-api-2018" not in so,
            "rules --checklist maps to that checklist's items only")
    rc, so, se = run_tenken("rules", "--format", "json")
    rules = json.loads(so)
    r.check(all(set(x["items"]) == {"fisc-api-2018", "cashless-card-2019"} for x in rules)
            and all(x["title"]["ja"] and x["title"]["en"] and x["remediation"]["ja"] and x["basis"] for x in rules),
            "every rule has both checklists, ja/en titles, remediation and basis (%d rules)" % len(rules))
    r.finish()


if __name__ == "__main__":
    main()
