#!/usr/bin/env python3
"""Probe "cloud" (AWS): RDS, AWS Backup and Cognito checks (observations
cloud_database and cloud_userpool; rules/rules/cloud_database.json and
cloud_userpool.json) against moto, started and driven with the helpers of
test_cloud_moto.py.

Against moto (one server, one region per case; moto's authentication off
except in the denied case):
  bad   (us-east-1): a publicly accessible, unencrypted instance with backup
        retention 0, a manual snapshot shared with "all", no backup plan, a user
        pool with MFA OFF and minimum password length 6 -> the RDS and user-pool
        rules fail, FISC 26/30/31/32 (card 25/29/30/31) fail;
  good  (us-west-2): private, encrypted, retention 14, a private snapshot, a
        backup plan, a pool with MFA ON, length 12, advanced security ENFORCED
        -> they pass, items 31 and 32 pass;
  none  (eu-west-1): no user pools -> the user-pool rules do not apply (their
        `when` user_pools > 0 does not hold: no finding at all, item 32 stays
        "manual"/not_configured, not a pass); tailored min_user_pools 1 ->
        CLOUD-USERPOOL-MISSING fails;
  denied (moto authentication on, the auditor's policy denies rds:*,
        cognito-idp:* and backup:*) -> errors naming the call, items 31/32
        incomplete, exit 3. (backup's ListBackupPlans is a signed REST GET:
        moto 5.2 answers it SignatureDoesNotMatch before any policy is read, as
        it does GuardDuty's - see test_cloud_moto.py; an error either way.)
Not representable in moto: throttling, 5xx, malformed answers and a stalled endpoint. A small fake
(below) answers only the rds, cognito-idp and backup endpoints (the account's
"endpoints" override; IAM and the rest stay on moto); each canned answer is
first fed to botocore's own response parser, which must read it as the same
error (or find no data in it), so the fake says what AWS would say. Paging
(ap-southeast-1): 101 instances and 61 pools, the bad ones on second pages.
"""
import http.server
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_cloud_moto import findings, items, obs, scan  # noqa: E402
from tkharness import check, finish  # noqa: E402

TENKEN = os.environ.get("TENKEN_BIN", "./tenken")

RDS_THROTTLED = (400, "text/xml", b'<ErrorResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><Error>'
                 b'<Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error>'
                 b'<RequestId>fake-1</RequestId></ErrorResponse>')
RDS_MALFORMED = (200, "text/xml", b'<DescribeDBInstancesResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/">'
                 b'<DescribeDBInstancesResult><DBInstances><DBInstance><DBInstanceIdentifier>x')
JSON_THROTTLED = (400, "application/x-amz-json-1.1",
                  b'{"__type":"TooManyRequestsException","message":"Too many requests"}')
JSON_MALFORMED = (200, "application/x-amz-json-1.1", b'{"UserPools": [{"Id": "us-east-1_x"')
STALL = ("stall", None, 4)
REST_5XX = (503, "application/json", b'{"message":"Service Unavailable"}')


def botocore_reads(service, op, answer):
    """What botocore's parser makes of a canned answer: ('error', code) or ('unparsable', msg)."""
    import botocore.session
    from botocore.parsers import ResponseParserError, create_parser
    model = botocore.session.get_session().get_service_model(service)
    opm = model.operation_model(op)
    status, _, body = answer
    resp = {"status_code": status, "headers": {}, "body": body}
    try:
        out = create_parser(model.metadata["protocol"]).parse(resp, opm.output_shape)
    except ResponseParserError as e:
        return ("unparsable", str(e)[:80])
    if "Error" in out and out["Error"].get("Code"):
        return ("error", out["Error"]["Code"])
    # botocore's JSON parser keeps an unparsable body as {"message": body}: no data members
    return ("parsed", sorted(k for k in out if k != "ResponseMetadata"))


class Fake(http.server.BaseHTTPRequestHandler):
    answers = {}

    def _answer(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        auth = self.headers.get("Authorization", "")
        svc = next((s for s in ("rds", "cognito-idp", "backup") if "/%s/aws4_request" % s in auth), None)
        status, ctype, body = self.answers.get(svc, (404, "text/plain", b"no such service here"))
        if status == "stall":  # say nothing for longer than the account's request_timeout_s
            time.sleep(body)
            return
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *a):
        pass


def moto_auth(ep, on):
    urllib.request.urlopen(urllib.request.Request(ep + "/moto-api/reset-auth", data=b"0" if on else b"inf",
                                                  method="POST", headers={"Content-Type": "text/plain"})).read()


def setup_bad(kw):
    import boto3
    rds = boto3.client("rds", **kw)
    rds.create_db_instance(DBInstanceIdentifier="bad-db", Engine="postgres", DBInstanceClass="db.t3.micro",
                           AllocatedStorage=20, MasterUsername="admin", MasterUserPassword="Secret-Pass-123",
                           PubliclyAccessible=True, StorageEncrypted=False, BackupRetentionPeriod=0)
    rds.create_db_snapshot(DBSnapshotIdentifier="bad-snap", DBInstanceIdentifier="bad-db")
    rds.modify_db_snapshot_attribute(DBSnapshotIdentifier="bad-snap", AttributeName="restore", ValuesToAdd=["all"])
    boto3.client("cognito-idp", **kw).create_user_pool(
        PoolName="bad-pool", MfaConfiguration="OFF", Policies={"PasswordPolicy": {"MinimumLength": 6}})


def setup_good(kw):
    import boto3
    rds = boto3.client("rds", **kw)
    rds.create_db_instance(DBInstanceIdentifier="good-db", Engine="postgres", DBInstanceClass="db.t3.micro",
                           AllocatedStorage=20, MasterUsername="admin", MasterUserPassword="Secret-Pass-123",
                           PubliclyAccessible=False, StorageEncrypted=True, BackupRetentionPeriod=14)
    # a read replica: restored from its source's backups, left out of the backup checks
    rds.create_db_instance_read_replica(DBInstanceIdentifier="good-db-replica", SourceDBInstanceIdentifier="good-db",
                                        PubliclyAccessible=False)
    rds.create_db_snapshot(DBSnapshotIdentifier="good-snap", DBInstanceIdentifier="good-db")
    rds.modify_db_snapshot_attribute(DBSnapshotIdentifier="good-snap", AttributeName="restore",
                                     ValuesToAdd=["111122223333"])
    boto3.client("backup", **kw).create_backup_plan(BackupPlan={"BackupPlanName": "daily", "Rules": [
        {"RuleName": "daily", "TargetBackupVaultName": "Default", "ScheduleExpression": "cron(0 5 ? * * *)",
         "Lifecycle": {"DeleteAfterDays": 35}}]})
    cog = boto3.client("cognito-idp", **kw)
    pid = cog.create_user_pool(PoolName="good-pool", Policies={"PasswordPolicy": {"MinimumLength": 12}},
                               UserPoolAddOns={"AdvancedSecurityMode": "ENFORCED"})["UserPool"]["Id"]
    cog.set_user_pool_mfa_config(UserPoolId=pid, SoftwareTokenMfaConfiguration={"Enabled": True},
                                 MfaConfiguration="ON")


def setup_many(kw):
    """101 instances (two DescribeDBInstances pages of 100) and 61 user pools (two ListUserPools pages
    of 60); the public instance and the MFA-OFF pool come last, on the second pages."""
    import boto3
    rds = boto3.client("rds", **kw)
    for i in range(101):
        rds.create_db_instance(DBInstanceIdentifier="db-%03d" % i, Engine="postgres", DBInstanceClass="db.t3.micro",
                               AllocatedStorage=20, MasterUsername="admin", MasterUserPassword="Secret-Pass-123",
                               PubliclyAccessible=i == 100, StorageEncrypted=True, BackupRetentionPeriod=14)
    cog = boto3.client("cognito-idp", **kw)
    for i in range(61):
        cog.create_user_pool(PoolName="pool-%02d" % i, MfaConfiguration="OFF" if i == 60 else "OPTIONAL",
                             Policies={"PasswordPolicy": {"MinimumLength": 10}})


def status(f, rule):
    return f.get(rule, {}).get("status")


def card_items(tmp, name, env):
    """The same partner (config written by scan()) judged against the card checklist."""
    d = os.path.join(tmp, name)
    out = os.path.join(d, "out-card")
    subprocess.run([TENKEN, "scan", "-c", os.path.join(d, "partner.json"), "-o", out, "--lang", "en",
                    "--checklist", "cashless-card-2019"], capture_output=True, text=True, env=env, timeout=180)
    with open(os.path.join(out, "report.json")) as f:
        return items(json.load(f))


def main():
    try:
        import boto3
        import botocore  # noqa: F401
        from moto.server import ThreadedMotoServer
    except ImportError as e:
        print("FAIL moto, boto3 and botocore are required by this test: %s" % e)
        return 1
    addr = "127.13.%d.%d" % (random.randint(1, 254), random.randint(1, 254))
    srv = ThreadedMotoServer(ip_address=addr, port=0, verbose=False)
    srv.start()
    host, port = srv.get_host_and_port()
    ep = "http://%s:%d" % (host, port)
    fake = http.server.ThreadingHTTPServer((addr, 0), Fake)
    threading.Thread(target=fake.serve_forever, daemon=True).start()
    fep = "http://%s:%d" % (addr, fake.server_address[1])
    tmp = tempfile.mkdtemp(prefix="tenken-rds-")
    rds_rules = ["CLOUD-RDS-PUBLIC", "CLOUD-RDS-SNAPSHOT-PUBLIC", "CLOUD-RDS-UNENCRYPTED", "CLOUD-RDS-BACKUP-OFF",
                 "CLOUD-RDS-BACKUP-SHORT"]
    pool_rules = ["CLOUD-USERPOOL-MFA-OFF", "CLOUD-USERPOOL-MFA-OPTIONAL", "CLOUD-USERPOOL-PASSWORD-SHORT",
                  "CLOUD-USERPOOL-NO-RISK-AUTH"]
    try:
        setup = dict(aws_access_key_id="AKIASETUP00000000001", aws_secret_access_key="setup", endpoint_url=ep)
        setup_bad(dict(setup, region_name="us-east-1"))
        setup_good(dict(setup, region_name="us-west-2"))
        setup_many(dict(setup, region_name="ap-southeast-1"))
        iam = boto3.client("iam", region_name="us-east-1", **setup)
        iam.create_user(UserName="auditor")
        key = iam.create_access_key(UserName="auditor")["AccessKey"]
        iam.put_user_policy(UserName="auditor", PolicyName="read", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "*", "Resource": "*"},
                {"Effect": "Deny", "Action": ["rds:*", "cognito-idp:*", "backup:*"], "Resource": "*"}]}))
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]})
        fresh = {"rules": {"CLOUD-CREDENTIAL-REPORT-STALE": {"params": {"max_age_hours": 10000000}}}}
        acct = {"provider": "aws", "name": "moto", "endpoint": ep, "region": "us-east-1"}

        # 1. The bad account.
        r, rep = scan(tmp, "bad", acct, env, fresh)
        f, db, up = findings(rep), obs(rep, "cloud_database"), obs(rep, "cloud_userpool")
        check(db.get("db_instances") == 1 and db.get("db_instances_public_names") == ["bad-db"]
              and db.get("db_instances_unencrypted") == 1 and db.get("db_instances_backup_off") == 1
              and db.get("min_backup_retention_days") == 0 and db.get("db_snapshots") == 1
              and db.get("db_snapshots_public_names") == ["bad-snap"] and db.get("backup_plans") == 0
              and "unobserved" not in db, "moto bad: cloud_database observed as set up", (db, r.stderr[-500:]))
        check(all(status(f, x) == "fail" for x in rds_rules) and status(f, "CLOUD-NO-BACKUP-PLAN") == "warn",
              "moto bad: every RDS rule fails, no backup plan warns", {x: status(f, x) for x in rds_rules})
        check(up.get("user_pools") == 1 and up.get("user_pools_mfa_off_names") == ["bad-pool"]
              and up.get("min_password_length") == 6 and up.get("user_pools_without_risk_based_auth") == 1,
              "moto bad: cloud_userpool observed (MFA OFF, length 6, advanced security OFF)", up)
        check(status(f, "CLOUD-USERPOOL-MFA-OFF") == "fail" and status(f, "CLOUD-USERPOOL-PASSWORD-SHORT") == "fail"
              and status(f, "CLOUD-USERPOOL-NO-RISK-AUTH") == "warn"
              and status(f, "CLOUD-USERPOOL-MFA-OPTIONAL") == "pass" and "CLOUD-USERPOOL-MISSING" not in f,
              "moto bad: MFA OFF and length 6 fail, no risk-based auth warns", {x: status(f, x) for x in pool_rules})
        it = items(rep)
        check(all(it[n]["status"] == "fail" for n in (26, 30, 31, 32)),
              "moto bad: FISC items 26, 30, 31, 32 fail", {n: it[n]["status"] for n in (26, 30, 31, 32)})
        ci = card_items(tmp, "bad", env)
        check(all(ci[n]["status"] == "fail" for n in (25, 29, 30, 31)),
              "moto bad: card items 25, 29, 30, 31 fail", {n: ci[n]["status"] for n in (25, 29, 30, 31)})
        r, rep = scan(tmp, "bad-tailored", acct, env, {"rules": dict(fresh["rules"], **{
            "CLOUD-USERPOOL-PASSWORD-SHORT": {"params": {"min_length": 6}},
            "CLOUD-RDS-BACKUP-SHORT": {"params": {"min_retention_days": 0}}})})
        f = findings(rep)
        check(status(f, "CLOUD-USERPOOL-PASSWORD-SHORT") == "pass" and status(f, "CLOUD-RDS-BACKUP-SHORT") == "pass"
              and status(f, "CLOUD-RDS-BACKUP-OFF") == "fail",
              "moto bad, tailored min_length 6 / min_retention_days 0: those two pass, backups off still fails",
              {x: status(f, x) for x in ("CLOUD-USERPOOL-PASSWORD-SHORT", "CLOUD-RDS-BACKUP-SHORT")})

        # 2. The good account.
        r, rep = scan(tmp, "good", dict(acct, region="us-west-2"), env, fresh)
        f, db, up = findings(rep), obs(rep, "cloud_database"), obs(rep, "cloud_userpool")
        check(all(status(f, x) == "pass" for x in rds_rules + pool_rules + ["CLOUD-NO-BACKUP-PLAN"])
              and db.get("backup_plan_names") == ["daily"] and db.get("db_read_replicas") == 1
              and db.get("db_backup_retention") == ["good-db: 14 days"] and up.get("user_pools_mfa_on") == 1
              and up.get("min_password_length") == 12,
              "moto good: every RDS, backup and user-pool rule passes",
              ({x: status(f, x) for x in rds_rules + pool_rules}, db, up))
        it = items(rep)
        check(it[31]["status"] == "pass" and it[32]["status"] == "pass", "moto good: FISC 31 and 32 pass",
              (it[31], it[32]))

        # 2b. Paging: the findings are on the second pages (Marker, NextToken).
        r, rep = scan(tmp, "many", dict(acct, region="ap-southeast-1"), env, fresh)
        f, db, up = findings(rep), obs(rep, "cloud_database"), obs(rep, "cloud_userpool")
        check(db.get("db_instances") == 101 and db.get("db_instances_public_names") == ["db-100"]
              and status(f, "CLOUD-RDS-PUBLIC") == "fail",
              "moto paging: 101 instances over two Marker pages, the public one on page 2 fails",
              {k: db.get(k) for k in ("db_instances", "db_instances_public_names", "unobserved")})
        check(up.get("user_pools") == 61 and up.get("user_pools_described") == 61
              and up.get("user_pools_mfa_off") == 1 and up.get("user_pools_mfa_optional") == 60
              and status(f, "CLOUD-USERPOOL-MFA-OFF") == "fail",
              "moto paging: 61 user pools over two NextToken pages, the MFA-OFF one found",
              {k: up.get(k) for k in ("user_pools", "user_pools_described", "user_pools_mfa_off", "unobserved")})

        # 3. No user pools: not applicable (no finding), item 32 left to the partner, unless tailored.
        r, rep = scan(tmp, "none", dict(acct, region="eu-west-1"), env, fresh)
        f, up = findings(rep), obs(rep, "cloud_userpool")
        it = items(rep)
        check(up.get("user_pools") == 0 and not any(x.startswith("CLOUD-USERPOOL-") for x in f)
              and it[32]["status"] == "manual" and it[32].get("reason_code") == "not_configured",
              "moto none: no user pools -> no user-pool finding, item 32 manual (not a pass)", (up, it[32]))
        r, rep = scan(tmp, "none-required", dict(acct, region="eu-west-1"), env, {"rules": dict(
            fresh["rules"], **{"CLOUD-USERPOOL-MISSING": {"params": {"min_user_pools": 1}}})})
        check(status(findings(rep), "CLOUD-USERPOOL-MISSING") == "fail" and items(rep)[32]["status"] == "fail",
              "moto none, tailored min_user_pools 1 -> CLOUD-USERPOOL-MISSING fails item 32", items(rep)[32])

        # 4. Denied by moto's policy evaluation.
        moto_auth(ep, True)
        r, rep = scan(tmp, "denied", acct, env, fresh)
        moto_auth(ep, False)
        f, db, up = findings(rep), obs(rep, "cloud_database"), obs(rep, "cloud_userpool")
        msg = json.dumps([f.get(x, {}).get("evidence") for x in rds_rules + pool_rules])
        it = items(rep)
        check(all(status(f, x) == "error" for x in rds_rules + pool_rules + ["CLOUD-NO-BACKUP-PLAN"])
              and "DescribeDBInstances" in msg and "ListUserPools" in msg and "AccessDenied" in msg,
              "moto denied: every RDS, backup and user-pool rule is an error naming the call and the code",
              ({x: status(f, x) for x in rds_rules + pool_rules}, msg[:600]))
        check(it[31]["status"] == "incomplete" and it[32]["status"] == "incomplete" and r.returncode == 3,
              "moto denied: items 31 and 32 incomplete, exit 3", (it[31]["status"], it[32]["status"], r.returncode))

        # 5. What moto cannot say: throttled, 5xx, malformed (the fake, its answers checked with botocore).
        for svc, op, ans, want in (("rds", "DescribeDBInstances", RDS_THROTTLED, ("error", "Throttling")),
                                   ("rds", "DescribeDBInstances", RDS_MALFORMED, ("unparsable", None)),
                                   ("cognito-idp", "ListUserPools", JSON_THROTTLED,
                                    ("error", "TooManyRequestsException")),
                                   ("cognito-idp", "ListUserPools", JSON_MALFORMED, ("parsed", [])),
                                   ("backup", "ListBackupPlans", REST_5XX, ("error", "503"))):
            got = botocore_reads(svc, op, ans)
            check(got[0] == want[0] and (want[1] is None or got[1] == want[1]),  # ("parsed", []): no UserPools
                  "botocore reads the fake's %s %s answer as %s" % (svc, op, want), got)
        eps = {s: fep for s in ("rds", "cognito-idp", "backup")}
        fa = dict(acct, endpoints=eps, max_retries=1, request_timeout_s=2)
        for name, answers, why in (
                ("throttled", {"rds": RDS_THROTTLED, "cognito-idp": JSON_THROTTLED, "backup": REST_5XX},
                 ("Throttling", "TooManyRequests", "503")),
                ("malformed", {"rds": RDS_MALFORMED, "cognito-idp": JSON_MALFORMED, "backup": JSON_MALFORMED},
                 ("DescribeDBInstances", "ListUserPools", "ListBackupPlans")),
                ("stalled", {"rds": STALL, "cognito-idp": STALL, "backup": STALL},
                 ("DescribeDBInstances", "ListUserPools", "ListBackupPlans"))):
            Fake.answers = answers
            r, rep = scan(tmp, name, fa, env, fresh)
            f, it = findings(rep), items(rep)
            un = dict(obs(rep, "cloud_database").get("unobserved", {}), **obs(rep, "cloud_userpool").get(
                "unobserved", {}))
            check(all(status(f, x) == "error" for x in rds_rules + pool_rules + ["CLOUD-NO-BACKUP-PLAN"])
                  and all(w in json.dumps(un) for w in why),
                  "fake %s: every RDS, backup and user-pool rule an error, the reason named" % name,
                  ({x: status(f, x) for x in rds_rules + pool_rules}, un))
            check(all(it[n]["status"] == "incomplete" for n in (31, 32)) and r.returncode == 3,
                  "fake %s: items 31 and 32 incomplete (never pass), exit 3" % name,
                  ({n: it[n]["status"] for n in (31, 32)}, r.returncode))
    finally:
        fake.shutdown()
        srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


if __name__ == "__main__":
    sys.exit(main())
