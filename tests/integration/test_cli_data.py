"""`tenken rules` and `tenken checklist list` on data sets they once crashed on, loaded with
TENKEN_DATA_DIR: five checklists, one with 200 items (rules printed a fixed stack buffer past its
end), and a checklist without a title (checklist list dereferenced NULL). Run under the ASan build
too (scripts/test.sh runs every integration test against it), where the overflow aborts."""
import json
import os
import shutil
import tempfile

from tkharness import SOURCE_DIR, Results, run_tenken


def make_data(tmp, extra):
    """A copy of rules/ data with the extra checklists {id: doc}; every rule maps every item of
    each extra checklist (the longest ITEMS column tenken can be asked to print)."""
    data = os.path.join(tmp, "data")
    for sub in ("checklists", "rules", "profiles", "tables"):
        shutil.copytree(os.path.join(SOURCE_DIR, "rules", sub), os.path.join(data, sub))
    for cid, doc in extra.items():
        with open(os.path.join(data, "checklists", cid + ".json"), "w") as f:
            json.dump(doc, f, ensure_ascii=False)
    for name in os.listdir(os.path.join(data, "rules")):
        path = os.path.join(data, "rules", name)
        with open(path) as f:
            doc = json.load(f)
        for rule in doc["rules"]:
            for cid, cl in extra.items():
                rule["items"][cid] = [it["no"] for it in cl["items"]]
        with open(path, "w") as f:
            json.dump(doc, f, ensure_ascii=False)
    return data


def checklist(cid, n, title=True):
    doc = {"id": cid, "items": [{"no": i, "chapter": "第%d章" % i, "goal": "目標%d" % i, "party": "API接続先"}
                                for i in range(1, n + 1)]}
    if title:
        doc["title"] = {"ja": "試験用 %s" % cid, "en": "test %s" % cid}
    return doc


def test_rules_long_items(r):
    with tempfile.TemporaryDirectory() as tmp:
        extra = {"big-200": checklist("big-200", 200), "c3": checklist("c3", 30), "c4": checklist("c4", 40)}
        env = {"TENKEN_DATA_DIR": make_data(tmp, extra)}
        rc, so, se = run_tenken("rules", env=env)
        r.check(rc == 0 and "HSTS-MISSING" in so, "rules with 5 checklists (one of 200 items): exit 0 (rc %d, %s)"
                % (rc, se.strip()[-300:]))
        line = next((l for l in so.splitlines() if l.startswith("HSTS-MISSING ")), "")
        r.check("big-200:1,2,3" in line and line.rstrip().endswith("…"),
                "rules: a too-long ITEMS column is cut and marked with an ellipsis: %s" % line[-80:])
        rc, so, se = run_tenken("rules", "--checklist", "big-200", env=env)
        line = next((l for l in so.splitlines() if l.startswith("HSTS-MISSING ")), "")
        r.check(rc == 0 and "big-200:1,2," in line, "rules --checklist big-200: exit 0")
        rc, so, se = run_tenken("rules", "--format", "json", env=env)
        rules = json.loads(so) if rc == 0 else []
        r.check(rules and all(len(x["items"]["big-200"]) == 200 for x in rules),
                "rules --format json keeps all 200 items (no cut)")


def test_checklist_without_title(r):
    with tempfile.TemporaryDirectory() as tmp:
        extra = {"notitle": checklist("notitle", 3, title=False)}
        env = {"TENKEN_DATA_DIR": make_data(tmp, extra)}
        rc, so, se = run_tenken("checklist", "list", env=env)
        r.check(rc in (0, 4) and "notitle" in se and "title" in se and "fisc-api-2018" in so,
                "checklist list: a checklist without a title is an error naming file and field, the others "
                "are listed (rc %d, stderr %s)" % (rc, se.strip()[-200:]))
        rc, so, se = run_tenken("checklist", "show", "notitle", env=env)
        r.check(rc == 2 and "checklists/notitle.json: title" in se, "checklist show notitle: exit 2 naming the field")
        rc, so, se = run_tenken("checklist", "list", "--format", "json", env=env)
        r.check("notitle" in se and rc != 0 and rc < 128, "checklist list --format json: no crash (rc %d)" % rc)


def main():
    r = Results()
    r.run(test_rules_long_items)
    r.run(test_checklist_without_title)
    r.finish()


if __name__ == "__main__":
    main()
