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
from tkharness import check, finish  # noqa: E402

TENKEN = os.environ.get("TENKEN_BIN", "./tenken")


def main():
    tmp = tempfile.mkdtemp(prefix="tenken-cloud-demo-")
    try:
        out = os.path.join(tmp, "demo")
        r = subprocess.run([TENKEN, "demo", "--out", out], capture_output=True, text=True, timeout=120)
        check(r.returncode == 0, "demo runs", r.stdout[-800:] + r.stderr[-800:])
        with open(os.path.join(out, "partner.json")) as f:
            cfg = json.load(f)
        acct = cfg["probes"]["cloud"]["accounts"][0]
        check(acct["provider"] == "aws"
              and acct["endpoint"].startswith("http://127.0.0.1:"), "demo config: aws account on loopback", acct)
        mode = stat.S_IMODE(os.stat(os.path.join(out, acct["credentials_file"])).st_mode)
        check(mode == 0o600, "demo credentials file is mode 600", oct(mode))
        with open(os.path.join(out, "report", "report.json")) as f:
            raw = f.read()
        rep = json.loads(raw)
        f = {x["rule"]: x["status"] for x in rep["findings"] if x["target"] == "aws:demo-prod"}
        check(f.get("CLOUD-ROOT-NO-MFA") == "fail", "demo root without MFA fails", f)
        check(f.get("CLOUD-ROOT-ACCESS-KEYS") == "fail", "demo root access key fails", f)
        check(f.get("CLOUD-CONSOLE-USER-NO-MFA") == "fail", "demo console user without MFA fails", f)
        check(f.get("CLOUD-ROOT-RECENT-USE") == "warn", "demo root used 5 days ago warns", f)
        check(f.get("CLOUD-ROOT-NO-LOGIN-ALERT") == "warn", "demo has no root-login alert rule: warns", f)
        users = [o for o in rep["observations"] if o["kind"] == "cloud_users"]
        check(users and users[0].get("console_users_without_mfa_names") == ["dev-tanaka"],
              "demo: dev-tanaka lacks MFA, ops-admin has it", users)
        check("demo/secret/not/a/real/key" not in raw
              and "AKIADEMODEMODEMO0000" not in raw + r.stdout + r.stderr, "demo: the made-up secret key is not in the report")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except Exception:
        import traceback
        traceback.print_exc()
        check(False, "the test itself raised (traceback above)")
    finish()
