#!/usr/bin/env python3
"""`tenken demo`'s token store: plaintext and encrypted tokens are both found,
the token rules fail where they should, and no value the demo stored (read
back here from its files and database) appears in the report or the output."""
import json, os, shutil, sqlite3, subprocess, sys, tempfile

BIN = os.environ.get("TENKEN_BIN", "build/tenken")
passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {name} {detail}")


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
        check("demo runs", r.returncode == 0, r.stderr.decode()[-400:])
        with open(os.path.join(d, "report", "report.json")) as f:
            text = f.read()
        rep = json.loads(text)
        obs = {o["target"]: o for o in rep["observations"] if o["probe"] == "tokens"}
        f = obs.get("files:tokens/conf/")
        s = obs.get("sqlite:tokens/app.db")
        check("demo files store", f and f["plaintext_count"] == 3 and f["encrypted_count"] == 4, f)
        check("demo sqlite store", s and s["plaintext_count"] == 1 and s["encrypted_count"] == 3
              and s["plaintext_password_count"] == 1, s)
        envs = sorted(e["envelope"] for o in obs.values() for e in o.get("encrypted_values", []))
        check("demo envelopes", envs == sorted(["jwe", "vault-transit", "fernet", "raw-aead", "raw-aead",
                                                "fernet", "tink"]), envs)
        st = {(x["rule"], x["target"]): x["status"] for x in rep["findings"]}
        check("demo long-lived rule fails", st.get(("TOKENS-PLAINTEXT-LONG-LIVED", "files:tokens/conf/")) == "fail")
        check("demo password rule fails", st.get(("TOKENS-PLAINTEXT-PASSWORD", "sqlite:tokens/app.db")) == "fail")
        vals = stored_values(d)
        check("demo stored values read back", len(vals) >= 10, len(vals))
        outputs = [("report.json", text), ("stdout", r.stdout.decode(errors="replace")),
                   ("stderr", r.stderr.decode(errors="replace"))]
        for label, out in outputs:
            leaks = [i for i, v in enumerate(vals) if any(v[k:k + 8] in out for k in range(len(v) - 7))]
            check(f"no demo value in {label}", not leaks, leaks)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
