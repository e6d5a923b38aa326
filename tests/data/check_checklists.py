#!/usr/bin/env python3
"""Check the transcribed checklists in rules/checklists/ against the seed documents.

Usage: check_checklists.py [SEED_DIR]
SEED_DIR defaults to <repo>/../shared/seeds, where <repo> is two levels above this script.
Exits 0 when every check passes, 1 otherwise.
"""
import json
import os
import re
import sys

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SEEDS = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "..", "shared", "seeds")
CHECKLISTS = os.path.join(REPO, "rules", "checklists")

COLUMNS_JA = ["通番", "区分", "セキュリティ対応目標", "対象者", "現在の対応状況", "課題認識",
              "課題への対応計画", "関連規定", "関連規定箇所", "備考"]

SPECS = {
    "fisc-api-2018.json": {
        "id": "fisc-api-2018", "source": "000_a5d42fff3acc4f78.txt", "count": 44,
        "link": "card_no", "parties": {"API接続先", "共通", "金融機関"},
        "chapters": ["情報・セキュリティ管理態勢", "外部委託管理", "金融機関・API接続先の協力体制",
                     "コンピュータ設備管理", "オフィス設備管理", "システム開発・運用管理",
                     "サービスシステムのセキュリティ機能", "APIセキュリティ機能", "API利用セキュリティ"],
    },
    "cashless-card-2019.json": {
        "id": "cashless-card-2019", "source": "003_0bf22327ed957ceb.txt", "count": 43,
        "link": "fisc_no", "parties": {"API接続先", "共通", "カード会社"},
        "chapters": ["情報・セキュリティ管理態勢", "外部委託管理", "カード会社・API接続先の協力体制",
                     "コンピュータ設備管理", "オフィス設備管理", "システム開発・運用管理",
                     "サービスシステムのセキュリティ機能", "APIセキュリティ機能", "API利用セキュリティ"],
    },
}
REQUIRED = ["no", "chapter", "chapter_en", "goal", "goal_en", "party", "party_en", "related"]

passed = 0
failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what)


def squash(s):
    return re.sub(r"\s+", "", s)


def seed_text(name):
    with open(os.path.join(SEEDS, name), encoding="utf-8") as fh:
        raw = fh.read()
    # whitespace removed; a second form also drops list bullets ("- ") at line starts
    unbulleted = "\n".join(re.sub(r"^\s*-\s+", "", ln) for ln in raw.splitlines())
    return squash(raw), squash(unbulleted)


def expected_link(spec, no):
    if spec["link"] == "card_no":       # FISC n -> card n (n < 8), none (n = 8), n - 1 (n >= 9)
        return no if no < 8 else (None if no == 8 else no - 1)
    return no if no < 8 else no + 1      # card n -> FISC n (n < 8), n + 1 (n >= 8)


def check_file(fname, spec):
    path = os.path.join(CHECKLISTS, fname)
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except (OSError, ValueError) as exc:
        check(False, "%s: cannot load (%s)" % (fname, exc))
        return
    seed, seed_nb = seed_text(spec["source"])
    check(doc.get("id") == spec["id"], "%s: id" % fname)
    check(doc.get("source") == spec["source"], "%s: source" % fname)
    for key in ("title", "publisher"):
        v = doc.get(key) or {}
        check(bool(v.get("ja")) and bool(v.get("en")), "%s: %s needs ja and en" % (fname, key))
    check(bool(doc.get("version")), "%s: version" % fname)
    cols = doc.get("columns") or {}
    check(cols.get("ja") == COLUMNS_JA, "%s: columns.ja" % fname)
    check(len(cols.get("en") or []) == len(COLUMNS_JA), "%s: columns.en length" % fname)
    for c in cols.get("ja") or []:
        check(squash(c) in seed, "%s: column %r not in seed" % (fname, c))

    items = doc.get("items") or []
    check(len(items) == spec["count"], "%s: %d items, expected %d" % (fname, len(items), spec["count"]))
    check([it.get("no") for it in items] == list(range(1, spec["count"] + 1)),
          "%s: items not numbered 1..%d" % (fname, spec["count"]))
    chapters = [squash(c) for c in spec["chapters"]]
    last_ch = 0
    seen = set()
    for it in items:
        no = it.get("no")
        tag = "%s item %s" % (fname, no)
        for key in REQUIRED + [spec["link"]]:
            check(key in it, "%s: missing %s" % (tag, key))
        for key in ("chapter", "chapter_en", "goal", "goal_en", "party", "party_en"):
            check(isinstance(it.get(key), str) and it.get(key).strip() != "", "%s: empty %s" % (tag, key))
        goal = it.get("goal") or ""
        check(squash(goal) in seed, "%s: goal not found in seed: %s" % (tag, goal))
        if "goal_list" in it:
            check(squash(it["goal_list"]) in seed, "%s: goal_list not found in seed" % tag)
        ch = squash(it.get("chapter") or "")
        check(ch in seed, "%s: chapter not found in seed" % tag)
        if ch in chapters:
            idx = chapters.index(ch) + 1
            check(idx >= last_ch, "%s: chapter out of order" % tag)
            last_ch = idx
            seen.add(idx)
        else:
            check(False, "%s: unknown chapter %r" % (tag, it.get("chapter")))
        party = squash(it.get("party") or "")
        check(party in spec["parties"], "%s: unexpected party %r" % (tag, it.get("party")))
        check(it.get(spec["link"], "missing") == expected_link(spec, no),
              "%s: %s should be %r" % (tag, spec["link"], expected_link(spec, no)))
        related = it.get("related")
        check(isinstance(related, list), "%s: related must be a list" % tag)
        for r in related or []:
            check(all(squash(t) in seed or _in_other_seeds(t) for t in r.split()),
                  "%s: related %r not found in the seeds" % (tag, r))
        if spec["link"] == "fisc_no":
            notes = it.get("notes")
            check(isinstance(notes, list), "%s: notes must be a list" % tag)
            for n in notes or []:
                m = re.match(r"^注(\d+) (.+)$", n, re.S)
                check(m is not None, "%s: note must start with 注N: %r" % (tag, n[:20]))
                if m:
                    check(squash(m.group(2)) in seed_nb, "%s: note 注%s not found in seed" % (tag, m.group(1)))
        if "unverified" in it:
            print("NOTE: %s unverified: %s" % (tag, it["unverified"]))
    check(seen == set(range(1, 10)), "%s: expected all 9 chapters, got %s" % (fname, sorted(seen)))


_OTHER = None


def _in_other_seeds(token):
    """Related standards may come from 001 (the 2023 mapping to the 11th-edition standards)."""
    global _OTHER
    if _OTHER is None:
        _OTHER = seed_text("001_f92e5dad6321ac6e.txt")[0]
    return squash(token) in _OTHER


def main():
    if not os.path.isdir(SEEDS):
        print("seed directory not found: %s" % SEEDS)
        return 2
    for fname, spec in SPECS.items():
        check_file(fname, spec)
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
