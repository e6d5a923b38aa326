#!/usr/bin/env python3
"""`tenken demo`'s token store: plaintext and encrypted tokens are both found,
the token rules fail where they should, and no value the demo stored (read
back here from its files and database) appears in the report or the output."""
import json, os, shutil, sqlite3, subprocess, sys, tempfile
from tkharness import check, finish  # noqa: E402

BIN = os.environ.get("TENKEN_BIN", "build/tenken")


def stored_values(d):
    vals = []
    conf = os.path.join(d, "tokens", "conf")
    for fn in ("oauth-cache.json", "oauth-sealed.json"):
        with open(os.path.join(conf, fn)) as f:
            vals += [v for k, v in json.load(f).items() if isinstance(v, str) and len(v) > 16]
    with open(os.path.join(conf, "app.env")) as f:
        for line in f:
            k, _, v = line.strip().partition("=")
            if len(v) > 16:
                vals.append(v)
    db = sqlite3.connect(os.path.join(d, "tokens", "app.db"))
    for t, c in (("oauth_tokens", "refresh_token"), ("legacy_users", "password")):
        vals += [r[0] for r in db.execute(f"SELECT {c} FROM {t}") if r[0]]
    db.close()
    return vals


def main():
    tmp = tempfile.mkdtemp(prefix="tenken-tokens-demo-")
    try:
        d = os.path.join(tmp, "demo")
        r = subprocess.run([BIN, "demo", "--out", d], capture_output=True, timeout=120)
        check(r.returncode == 0, "demo runs", r.stderr.decode()[-400:])
        with open(os.path.join(d, "report", "report.json")) as f:
            text = f.read()
        rep = json.loads(text)
        obs = {o["target"]: o for o in rep["observations"] if o["probe"] == "tokens"}
        f = obs.get("files:tokens/conf/")
        s = obs.get("sqlite:tokens/app.db")
        check(f and f["plaintext_count"] == 3 and f["encrypted_count"] == 4, "demo files store", f)
        check(s and s["plaintext_count"] == 1 and s["encrypted_count"] == 3
              and s["plaintext_password_count"] == 1, "demo sqlite store", s)
        envs = sorted(e["envelope"] for o in obs.values() for e in o.get("encrypted_values", []))
        check(envs == sorted(["jwe", "vault-transit", "fernet", "raw-aead", "raw-aead",
                                                "fernet", "tink"]), "demo envelopes", envs)
        st = {(x["rule"], x["target"]): x["status"] for x in rep["findings"]}
        check(st.get(("TOKENS-PLAINTEXT-LONG-LIVED", "files:tokens/conf/")) == "fail", "demo long-lived rule fails")
        check(st.get(("TOKENS-PLAINTEXT-PASSWORD", "sqlite:tokens/app.db")) == "fail", "demo password rule fails")
        vals = stored_values(d)
        check(len(vals) >= 10, "demo stored values read back", len(vals))
        outputs = [("report.json", text), ("stdout", r.stdout.decode(errors="replace")),
                   ("stderr", r.stderr.decode(errors="replace"))]
        for label, out in outputs:
            leaks = [i for i, v in enumerate(vals) if any(v[k:k + 8] in out for k in range(len(v) - 7))]
            check(not leaks, f"no demo value in {label}", leaks)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


if __name__ == "__main__":
    sys.exit(main())
