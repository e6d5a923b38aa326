"""The monitoring desk (docs/desk.md): head anchoring (history --heads,
verify --heads), the portfolio page, trusted time (RFC 3161 tokens from a
local TSA), the auditor bundle, alerts on change. Real loopback partners
(reportlib.Partner), a real TSA made with `openssl ts`, headless Chromium."""
import json
import os
import shutil
import sqlite3
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reportlib as rl  # noqa: E402

R = rl.Results()


def scan(p, state, out, *extra):
    return rl.run(["scan", "--config", p.config, "--out", out, "--state", state, "--format", "json", "--quiet"] +
                  list(extra))


def delete_newest(state, partner):
    """What an intruder with the host's disk does: remove the newest scan's
    files and its index row; re-sign nothing. The chain that is left is intact."""
    db = sqlite3.connect(os.path.join(state, "index.sqlite"))
    seq, f = db.execute("SELECT seq, file FROM scans WHERE partner=? ORDER BY seq DESC LIMIT 1", (partner,)).fetchone()
    db.execute("DELETE FROM scans WHERE partner=? AND seq=?", (partner, seq))
    for t in [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table' AND name LIKE 'desk_%'")]:
        db.execute("DELETE FROM %s WHERE partner=? AND seq=?" % t, (partner, seq))
    db.commit()
    db.close()
    for suffix in ("", ".sig", ".tsr"):
        try:
            os.unlink(os.path.join(state, f + suffix))
        except FileNotFoundError:
            pass
    return seq


def test_heads(p, q, tmp):
    state = os.path.join(tmp, "heads-state")
    for i in range(3):
        R.check(scan(p, state, os.path.join(tmp, "h%d" % i)).returncode in (0, 1), "scan %d of %s stored" % (i, p.id))
    R.check(scan(q, state, os.path.join(tmp, "hq")).returncode in (0, 1), "scan of %s stored" % q.id)
    r = rl.run(["history", "--heads", "--state", state])
    R.check(r.returncode == 0, "history --heads exits 0: " + r.stderr)
    doc = json.loads(r.stdout)
    heads = {x["partner"]: x for x in doc["partners"]}
    R.check(doc["schema"] == "tenken.heads/1" and set(heads) == {p.id, q.id}, "heads document lists both partners")
    R.check(heads[p.id]["seq"] == 3 and len(heads[p.id]["sha256"]) == 64 and heads[p.id]["finished_at"],
            "head of %s: seq 3, its SHA-256 and timestamp" % p.id)
    db = sqlite3.connect(os.path.join(state, "index.sqlite"))
    sha3 = db.execute("SELECT sha256 FROM scans WHERE partner=? AND seq=3", (p.id,)).fetchone()[0]
    db.close()
    R.check(heads[p.id]["sha256"] == sha3, "the head hash is the stored report's hash")
    hf = os.path.join(tmp, "heads.json")
    open(hf, "w").write(r.stdout)
    v = rl.run(["verify", "--heads", hf, "--state", state])
    R.check(v.returncode == 0 and "verified: 2 partners" in v.stdout, "verify --heads passes on an untouched history: " + v.stdout[-300:])

    # the attack: delete the newest scan, index row and files; re-sign nothing
    s2 = state + "-cut"
    shutil.copytree(state, s2)
    delete_newest(s2, p.id)
    v = rl.run(["verify", p.id, "--state", s2])
    R.check(v.returncode == 0, "without the anchor the cut history still verifies (the gap the anchor closes)")
    v = rl.run(["verify", "--heads", hf, "--state", s2])
    R.check(v.returncode == 1 and ("partner %s: newest scans removed" % p.id) in v.stdout and "#3" in v.stdout and
            "ends at #2" in v.stdout, "verify --heads fails naming the partner whose newest scan was deleted: " + v.stdout)
    R.check(("ok   partner %s: anchored head" % q.id) in v.stdout, "the other partner's head still verifies")
    v = rl.run(["verify", "--heads", hf, q.id, "--state", s2])
    R.check(v.returncode == 0, "verify --heads FILE PARTNER checks only that partner")

    # delete, then scan again: the same seq with another hash
    R.check(scan(p, s2, os.path.join(tmp, "h-again")).returncode in (0, 1), "a new scan after the cut")
    v = rl.run(["verify", "--heads", hf, "--state", s2])
    R.check(v.returncode == 1 and "history rewritten: scan #3" in v.stdout, "a replaced newest scan: history rewritten")

    # every scan of a partner removed
    s3 = state + "-all"
    shutil.copytree(state, s3)
    db = sqlite3.connect(os.path.join(s3, "index.sqlite"))
    db.execute("DELETE FROM scans WHERE partner=?", (q.id,))
    db.commit()
    db.close()
    shutil.rmtree(os.path.join(s3, "reports", q.id))
    v = rl.run(["verify", "--heads", hf, "--state", s3])
    R.check(v.returncode == 1 and ("partner %s: every scan removed" % q.id) in v.stdout, "a partner removed entirely is named")

    # bad anchor files: usage errors naming the problem
    bad = os.path.join(tmp, "bad-heads.json")
    open(bad, "w").write('{"schema":"tenken.heads/1","partners":[{"partner":"x","seq":0,"sha256":"ab"}]}')
    v = rl.run(["verify", "--heads", bad, "--state", state])
    R.check(v.returncode == 2 and "partners[0]" in v.stderr, "a malformed heads file: exit 2 naming the entry")
    v = rl.run(["verify", "--heads", "--state", state])
    R.check(v.returncode == 2, "verify --heads without a FILE is a usage error")
    return state


def main():
    tmp = tempfile.mkdtemp(prefix="tenken-desk-")
    only = set(sys.argv[1:])
    try:
        with rl.Partner("acme-pay") as p, rl.Partner("beta-bank-link") as q:
            if not only or "heads" in only:
                test_heads(p, q, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    R.finish()


if __name__ == "__main__":
    main()
