"""A new checklist is one data file: a checklist that carries its own mapping
(rule id -> its items) needs no change to any rule file, and every name in
the mapping is checked on load (errors name the file and the field)."""
import json
import os
import shutil
import subprocess
import tempfile

from tkharness import SOURCE_DIR, TENKEN, Results

R = Results()


def data_dir(tmp, mapping, extra_rule_items=None):
    d = os.path.join(tmp, "data")
    shutil.rmtree(d, ignore_errors=True)
    shutil.copytree(os.path.join(SOURCE_DIR, "rules"), d,
                    ignore=shutil.ignore_patterns("*.c", "*.h", "CMakeLists.txt"))
    own = {
        "id": "bank-own-2026",
        "title": {"ja": "当行独自チェックリスト", "en": "The bank's own checklist"},
        "version": "2026-12",
        "source": "bank-internal",
        "columns": {"ja": ["通番", "区分", "セキュリティ対応目標", "対象者", "備考"],
                    "en": ["No.", "Chapter", "Security objective", "Target party", "Remarks"]},
        "items": [
            {"no": 1, "chapter": "通信", "goal": "通信を暗号化する。", "party": "API接続先"},
            {"no": 2, "chapter": "通信", "goal": "HSTSを有効にする。", "party": "API接続先"},
        ],
        "mapping": mapping,
    }
    with open(os.path.join(d, "checklists", "bank-own-2026.json"), "w", encoding="utf-8") as f:
        json.dump(own, f, ensure_ascii=False)
    if extra_rule_items:
        p = os.path.join(d, "rules", "hsts.json")
        doc = json.load(open(p, encoding="utf-8"))
        doc["rules"][0]["items"]["bank-own-2026"] = extra_rule_items
        json.dump(doc, open(p, "w", encoding="utf-8"), ensure_ascii=False)
    return d


def rules(d, *args):
    env = dict(os.environ, TENKEN_DATA_DIR=d)
    return subprocess.run([TENKEN, "rules"] + list(args), env=env, capture_output=True, text=True, timeout=60)


def test_mapping(r):
    with tempfile.TemporaryDirectory() as tmp:
        d = data_dir(tmp, {"HSTS-MISSING": [2], "TLS-LEGACY-PROTOCOL": [1]})
        p = rules(d, "--checklist", "bank-own-2026", "--format", "json")
        r.check(p.returncode == 0, "a checklist with its own mapping loads without touching any rule file (%s)"
                % p.stderr.strip()[:200])
        if p.returncode == 0:
            got = {x["id"]: x.get("items", {}).get("bank-own-2026") for x in json.loads(p.stdout)}
            r.check(got.get("HSTS-MISSING") == [2], "HSTS-MISSING maps to item 2 of the new checklist")
            r.check(got.get("TLS-LEGACY-PROTOCOL") == [1], "TLS-LEGACY-PROTOCOL maps to item 1")
        p = rules(d, "--checklist", "fisc-api-2018", "--format", "json")
        r.check(p.returncode == 0 and "HSTS-MISSING" in p.stdout, "the other checklists keep their mappings")


def test_errors(r):
    with tempfile.TemporaryDirectory() as tmp:
        cases = [
            ({"NO-SUCH-RULE": [1]}, None, "checklists/bank-own-2026.json: mapping.NO-SUCH-RULE: unknown rule"),
            ({"HSTS-MISSING": [9]}, None, "checklists/bank-own-2026.json: mapping.HSTS-MISSING: no item 9"),
            ({"HSTS-MISSING": []}, None, "mapping.HSTS-MISSING: expected a non-empty array"),
            ({"HSTS-MISSING": [2]}, [1], "carries its own mapping"),
        ]
        for mapping, extra, want in cases:
            d = data_dir(tmp, mapping, extra)
            p = rules(d)
            r.check(p.returncode != 0 and want in p.stderr, "rejected with %r (got rc %d: %s)"
                    % (want, p.returncode, p.stderr.strip()[:200]))


R.run(test_mapping)
R.run(test_errors)
R.finish()
