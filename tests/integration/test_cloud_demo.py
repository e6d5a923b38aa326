#!/usr/bin/env python3
"""`tenken demo` includes a cloud account: an in-process fake IAM endpoint on
127.0.0.1 whose root has no MFA. The scan must find exactly that."""
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile

TENKEN = os.environ.get("TENKEN_BIN", "./tenken")
passed = failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok   " + name)
    else:
        failed += 1
        print("FAIL %s: %s" % (name, str(detail)[:1500]))


def main():
    tmp = tempfile.mkdtemp(prefix="tenken-cloud-demo-")
    try:
        out = os.path.join(tmp, "demo")
        r = subprocess.run([TENKEN, "demo", "--out", out], capture_output=True, text=True, timeout=120)
        check("demo runs", r.returncode == 0, r.stdout[-800:] + r.stderr[-800:])
        with open(os.path.join(out, "partner.json")) as f:
            cfg = json.load(f)
        acct = cfg["probes"]["cloud"]["accounts"][0]
        check("demo config: aws account on loopback", acct["provider"] == "aws"
              and acct["endpoint"].startswith("http://127.0.0.1:"), acct)
        mode = stat.S_IMODE(os.stat(os.path.join(out, acct["credentials_file"])).st_mode)
        check("demo credentials file is mode 600", mode == 0o600, oct(mode))
        with open(os.path.join(out, "report", "report.json")) as f:
            raw = f.read()
        rep = json.loads(raw)
        f = {x["rule"]: x["status"] for x in rep["findings"] if x["target"] == "aws:demo-prod"}
        check("demo root without MFA fails", f.get("CLOUD-ROOT-NO-MFA") == "fail", f)
        check("demo root access key fails", f.get("CLOUD-ROOT-ACCESS-KEYS") == "fail", f)
        check("demo console user without MFA fails", f.get("CLOUD-CONSOLE-USER-NO-MFA") == "fail", f)
        check("demo root used 5 days ago warns", f.get("CLOUD-ROOT-RECENT-USE") == "warn", f)
        check("demo has no root-login alert rule: warns", f.get("CLOUD-ROOT-NO-LOGIN-ALERT") == "warn", f)
        users = [o for o in rep["observations"] if o["kind"] == "cloud_users"]
        check("demo: dev-tanaka lacks MFA, ops-admin has it",
              users and users[0].get("console_users_without_mfa_names") == ["dev-tanaka"], users)
        check("demo: the made-up secret key is not in the report", "demo/secret/not/a/real/key" not in raw
              and "AKIADEMODEMODEMO0000" not in raw + r.stdout + r.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except Exception:
        import traceback
        traceback.print_exc()
        failed += 1
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)
