#!/usr/bin/env python3
"""Benchmark: tenken's cloud probe against the AWS CLI and botocore, side by side,
on the same fake IAM endpoint on 127.0.0.1 (the one tests/integration/test_cloud.py
uses: real IAM XML, every SigV4 signature verified).

Each tool does the work the probe needs for one account: GetAccountSummary,
GenerateCredentialReport, GetCredentialReport, ListVirtualMFADevices (2 pages);
tenken also calls EventBridge ListRules, judges the rules and writes its report.
Prints medians and ratios.

usage: bench/cloud/run.py [--runs N] [--tenken build/tenken]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration"))
import test_cloud as fake  # noqa: E402

BOTO = r'''
import sys, botocore.session
s = botocore.session.get_session()
iam = s.create_client("iam", endpoint_url=sys.argv[1], region_name="us-east-1")
iam.get_account_summary()
iam.generate_credential_report()
iam.get_credential_report()
list(iam.get_paginator("list_virtual_mfa_devices").paginate(AssignmentStatus="Assigned"))
'''


def timed(argv, env):
    t0 = time.monotonic()
    r = subprocess.run(argv, env=env, capture_output=True, text=True)
    dt = time.monotonic() - t0
    if r.returncode not in (0,):
        sys.exit("failed: %s\n%s%s" % (" ".join(argv[:3]), r.stdout[-500:], r.stderr[-500:]))
    return dt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--tenken", default=os.path.join(HERE, "..", "..", "build", "tenken"))
    a = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), fake.Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    ep = "http://127.0.0.1:%d" % srv.server_address[1]
    tmp = tempfile.mkdtemp(prefix="tenken-bench-cloud-")
    report = fake.cred_report("false", "true", fake.iso(10), [("u%d" % i, "true", "false") for i in range(200)])
    sc = {"mfa": True, "report": report, "vmfa_pages": [["alice"], ["root"]]}
    env = {"PATH": "/usr/bin:/bin", "HOME": tmp, "AWS_ACCESS_KEY_ID": fake.BASE_AK,
           "AWS_SECRET_ACCESS_KEY": fake.BASE_SK, "AWS_CONFIG_FILE": os.path.join(tmp, "none"),
           "AWS_SHARED_CREDENTIALS_FILE": os.path.join(tmp, "none"), "AWS_EC2_METADATA_DISABLED": "true",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_PAGER": ""}
    cfg = os.path.join(tmp, "partner.json")
    with open(cfg, "w") as f:
        json.dump({"partner": {"id": "bench", "name": "bench"},
                   "probes": {"cloud": {"accounts": [{"provider": "aws", "endpoint": ep}]}}}, f)
    tools = {
        "tenken scan (probe + rules + report)": [a.tenken, "scan", "-c", cfg, "-o", os.path.join(tmp, "out"), "-q"],
        "aws CLI (4 commands)": None,
        "botocore (1 process, 4 calls)": ["/usr/bin/python3", "-c", BOTO, ep],
    }
    cli = [["iam", "get-account-summary"], ["iam", "generate-credential-report"], ["iam", "get-credential-report"],
           ["iam", "list-virtual-mfa-devices", "--assignment-status", "Assigned"]]
    times = {k: [] for k in tools}
    calls = {}
    for i in range(a.runs):
        for name, argv in tools.items():
            fake.FAKE.reset(dict(sc))
            if argv is None:
                t = sum(timed(["/usr/bin/aws", *c, "--endpoint-url", ep, "--output", "json"], env) for c in cli)
            else:
                t = timed(argv, env)
            times[name].append(t)
            calls[name] = sum(1 for c in fake.FAKE.calls if not c.startswith("events@"))  # one log per request
            if fake.FAKE.errors:
                sys.exit("signature errors: %s" % fake.FAKE.errors)
    base = statistics.median(times["tenken scan (probe + rules + report)"])
    print("cloud probe benchmark: %d runs each, fake IAM on %s, credential report of 201 rows" % (a.runs, ep))
    print("%-40s %10s %10s %8s" % ("tool", "median s", "requests", "ratio"))
    for name in tools:
        m = statistics.median(times[name])
        print("%-40s %10.3f %10d %7.2fx" % (name, m, calls[name], m / base))
    srv.shutdown()


if __name__ == "__main__":
    main()
