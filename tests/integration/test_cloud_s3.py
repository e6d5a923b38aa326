#!/usr/bin/env python3
"""Probe "cloud" (AWS), S3 posture (probes/cloud/aws_s3.c; rules/rules/cloud_storage.json)
against moto (moto.server.ThreadedMotoServer on a random 127.17.x.y address).

Moto authenticates (SigV4) and authorises (IAM policies) every request here, so
"denied" is moto's own policy evaluation of a user without s3:GetBucketVersioning.

A small forwarding responder sits in front of moto for S3 and S3 Control. It
passes every request through to moto unchanged (the SigV4 Host header
included), except:
  - GET /BUCKET?policyStatus: moto 5.2 does not implement GetBucketPolicyStatus
    (it answers a ListBucketResult). The responder answers it from moto's own
    stored bucket policy (IsPublic: an Allow statement for Principal "*" without a
    Condition), and the test parses that answer with botocore's S3 parser first.
  - injected faults moto cannot produce: a throttling 503 SlowDown, a 500 of
    S3 Control, a malformed XML body, a silent answer (timeout), and a
    malformed ListBuckets; each fake body is checked against botocore's parser.
So the fake is only: the policyStatus answer and the faults, said here.
"""
import http.client
import http.server
import json
import os
import random
import shutil
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_cloud_moto import POSTURE_READ, TENKEN, findings, items, obs, scan  # noqa: E402
from tkharness import check, finish  # noqa: E402

ACCOUNT = "123456789012"
READ = ["s3:ListAllMyBuckets", "s3:GetAccountPublicAccessBlock", "s3:GetBucketPublicAccessBlock",
        "s3:GetBucketPolicyStatus", "s3:GetBucketAcl", "s3:GetBucketVersioning", "s3:GetEncryptionConfiguration",
        "s3:GetBucketTagging", "s3:GetBucketLocation", "sts:GetCallerIdentity"]
# moto 5.2's own action names for two of them (s3/responses.py ACTION_MAP): both PublicAccessBlock
# reads are "s3:GetPublicAccessBlock", ?encryption falls to its DEFAULT "s3:ListBucket"
MOTO_NAMES = ["s3:GetPublicAccessBlock", "s3:ListBucket"]
# what the cloud probe reads besides S3 (the other checks judge items 26 and 30 too)
BASE = [a for a in POSTURE_READ if not a.startswith("s3:")]
# moto 5.2 rejects botocore's own SigV4 signature on AWS Backup's REST GET (SignatureDoesNotMatch,
# also with boto3 itself) once authentication is on: item 31's backup-plan rule would be an error
# for moto's reason, not the S3 check's, so these scans tailor it out (test_cloud_rds.py tests it).
NO_BACKUP_RULE = {"disable_rules": ["CLOUD-NO-BACKUP-PLAN"]}
RULES = ["CLOUD-S3-PUBLIC-BUCKET", "CLOUD-S3-ACCOUNT-BPA-OFF", "CLOUD-S3-UNVERSIONED", "CLOUD-S3-UNENCRYPTED",
         "CLOUD-S3-UNCLASSIFIED"]


def policy_public(doc):
    for st in (doc or {}).get("Statement", []):
        p = st.get("Principal")
        if st.get("Effect") == "Allow" and not st.get("Condition") and (p == "*" or (isinstance(p, dict) and (
                p.get("AWS") == "*" or p.get("AWS") == ["*"]))):
            return True
    return False


class Front:
    """The forwarding responder (see the module comment): faults[(path_prefix, query)] = (status, body, delay)."""

    def __init__(self, addr, moto_host, moto_port):
        front = self
        self.faults = {}
        self.control = []  # (path, headers) of the S3 Control requests seen

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def answer(self, status, body, ctype="application/xml"):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)

            def do_any(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                path, _, query = self.path.partition("?")
                if path.startswith("/v20180820/"):
                    front.control.append((self.path, dict(self.headers.items())))
                for (pfx, q), (status, fbody, delay) in front.faults.items():
                    if path == pfx and q == query.split("&")[0].split("=")[0]:
                        time.sleep(delay)
                        return self.answer(status, fbody)
                if self.command == "GET" and query == "policyStatus":
                    from moto.s3.models import s3_backends
                    b = s3_backends[ACCOUNT]["aws"].buckets.get(path.strip("/"))
                    if b is None:
                        return self.answer(404, b"<Error><Code>NoSuchBucket</Code><Message>no</Message></Error>")
                    if not b.policy:
                        return self.answer(404, b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>"
                                                b"NoSuchBucketPolicy</Code><Message>The bucket policy does not "
                                                b"exist</Message></Error>")
                    pub = policy_public(json.loads(b.policy))
                    return self.answer(200, ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><PolicyStatus xmlns=\"http:"
                                             "//s3.amazonaws.com/doc/2006-03-01/\"><IsPublic>%s</IsPublic>"
                                             "</PolicyStatus>" % ("true" if pub else "false")).encode())
                c = http.client.HTTPConnection(moto_host, moto_port, timeout=30)
                hdrs = {k: v for k, v in self.headers.items() if k.lower() not in ("connection",)}
                c.request(self.command, self.path, body=body, headers=hdrs)
                r = c.getresponse()
                data = r.read()
                self.send_response(r.status)
                for k, v in r.getheaders():
                    if k.lower() not in ("content-length", "connection", "transfer-encoding", "server", "date"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(data)
                c.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_any

        class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True

        self.srv = S((addr, 0), H)
        self.url = "http://%s:%d" % (addr, self.srv.server_address[1])
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()


def sigv4_matches(front, key):
    """The last S3 Control request: its SignedHeaders and signature as botocore's S3SigV4Auth makes them."""
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    if not front.control:
        return False
    path, hdrs = front.control[-1]
    h = {k.lower(): v for k, v in hdrs.items()}
    authz = h.get("authorization", "")
    try:
        signed = authz.split("SignedHeaders=")[1].split(",")[0].split(";")
        got = authz.split("Signature=")[1]
    except IndexError:
        return False
    if h.get("x-amz-account-id") != ACCOUNT or "x-amz-account-id" not in signed or "/s3/aws4_request" not in authz:
        return False
    req = AWSRequest(method="GET", url=front.url + path, headers={k: h[k] for k in signed})
    auth = S3SigV4Auth(Credentials(key["AccessKeyId"], key["SecretAccessKey"]), "s3", "us-east-1")
    req.context["timestamp"] = h["x-amz-date"]
    return auth.signature(auth.string_to_sign(req, auth.canonical_request(req)), req) == got


def moto_auth(ep, on):
    urllib.request.urlopen(urllib.request.Request(ep + "/moto-api/reset-auth", data=b"0" if on else b"inf",
                                                  method="POST", headers={"Content-Type": "text/plain"})).read()


def main():
    try:
        import boto3
        import botocore.config
        import botocore.exceptions
        from moto.server import ThreadedMotoServer
    except ImportError as e:
        print("FAIL moto (Debian python3-moto) and boto3 are required by this test: %s" % e)
        return 1
    addr = "127.17.%d.%d" % (random.randint(1, 254), random.randint(1, 254))
    srv = ThreadedMotoServer(ip_address=addr, port=0, verbose=False)
    srv.start()
    host, port = srv.get_host_and_port()
    ep = "http://%s:%d" % (host, port)
    front = Front(addr, host, port)
    tmp = tempfile.mkdtemp(prefix="tenken-s3-")
    kw = dict(region_name="us-east-1", aws_access_key_id="AKIASETUP00000000001", aws_secret_access_key="setup")
    norty = botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"})
    try:
        def setup_users():
            iam = boto3.client("iam", endpoint_url=ep, **kw)
            keys = {}
            for user, allow in (("s3-auditor", READ), ("s3-auditor-nover", [a for a in READ
                                                                               if a != "s3:GetBucketVersioning"])):
                iam.create_user(UserName=user)
                keys[user] = iam.create_access_key(UserName=user)["AccessKey"]
                iam.put_user_policy(UserName=user, PolicyName="s3read", PolicyDocument=json.dumps({
                    "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": BASE + MOTO_NAMES + allow, "Resource": "*"}]}))
            return keys

        def env_of(key):
            env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
            env.update({"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]})
            return env

        acct = {"provider": "aws", "name": "s3", "endpoint": ep, "region": "us-east-1",
                "endpoints": {"s3": front.url, "s3-control": front.url}}
        s3 = boto3.client("s3", endpoint_url=ep, **kw)

        # ---- the bad account: no account Block Public Access, a public-policy bucket, a
        # public-read ACL bucket (both unversioned, unencrypted, untagged), one good bucket
        keys = setup_users()
        s3.create_bucket(Bucket="acme-public-policy")
        s3.put_bucket_policy(Bucket="acme-public-policy", Policy=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                                    "Resource": "arn:aws:s3:::acme-public-policy/*"}]}))
        s3.create_bucket(Bucket="acme-public-acl")
        s3.put_bucket_acl(Bucket="acme-public-acl", ACL="public-read")
        s3.create_bucket(Bucket="acme-private-data")
        s3.put_bucket_versioning(Bucket="acme-private-data", VersioningConfiguration={"Status": "Enabled"})
        s3.put_bucket_encryption(Bucket="acme-private-data", ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]})
        s3.put_bucket_tagging(Bucket="acme-private-data", Tagging={"TagSet": [
            {"Key": "DataClassification", "Value": "confidential"}]})

        # the responder's policyStatus answer, read by botocore's own S3 parser
        fs3 = boto3.client("s3", endpoint_url=front.url, config=norty, **kw)
        ps = fs3.get_bucket_policy_status(Bucket="acme-public-policy")
        try:
            fs3.get_bucket_policy_status(Bucket="acme-public-acl")
            code = None
        except botocore.exceptions.ClientError as e:
            code = e.response["Error"]["Code"]
        check(ps.get("PolicyStatus", {}).get("IsPublic") is True and code == "NoSuchBucketPolicy",
              "fake: botocore parses the responder's GetBucketPolicyStatus answers (IsPublic, NoSuchBucketPolicy)",
              (ps, code))

        moto_auth(ep, True)
        r, rep = scan(tmp, "bad", acct, env_of(keys["s3-auditor"]), NO_BACKUP_RULE)
        f, it, o = findings(rep), items(rep), obs(rep, "cloud_storage")
        check(rep is not None and o.get("buckets") == 3 and not o.get("unobserved"),
              "bad: cloud_storage observed for all 3 buckets, nothing unobserved", (r.stderr[-800:], o))
        check(sorted(o.get("public_buckets", [])) == ["acme-public-acl", "acme-public-policy"]
              and o.get("public_buckets_count") == 2,
              "bad: the public-policy and the AllUsers-ACL buckets are public, the private one is not", o)
        check(o.get("account_bpa_all") is False and o.get("account_bpa_configured") is False,
              "bad: account Block Public Access not configured -> account_bpa_all false (observed)", o)
        check(sorted(o.get("unversioned_buckets", [])) == ["acme-public-acl", "acme-public-policy"]
              and sorted(o.get("unencrypted_buckets", [])) == ["acme-public-acl", "acme-public-policy"]
              and sorted(o.get("unclassified_buckets", [])) == ["acme-public-acl", "acme-public-policy"],
              "bad: unversioned, unencrypted, unclassified buckets named", o)
        det = {b.get("name"): b for b in o.get("bucket_details", [])}
        check(det.get("acme-public-acl", {}).get("acl_public_grants") == ["AllUsers:READ"]
              and det.get("acme-private-data", {}).get("encryption") == "aws:kms"
              and det.get("acme-private-data", {}).get("classification") == "confidential"
              and det.get("acme-private-data", {}).get("versioning") == "Enabled",
              "bad: per-bucket details (ACL grant, SSE algorithm, tag value, versioning)", det)
        check(all(f.get(x, {}).get("status") == "fail" for x in RULES[:4])
              and f.get("CLOUD-S3-UNCLASSIFIED", {}).get("status") == "warn",
              "bad: PUBLIC-BUCKET, ACCOUNT-BPA-OFF, UNVERSIONED, UNENCRYPTED fail; UNCLASSIFIED warns",
              {x: f.get(x, {}).get("status") for x in RULES})
        # a warn finding never fails an item (rules/evaluate.c): item 29 is "pass" with_warnings
        check(all(it.get(n, {}).get("status") == "fail" for n in (26, 30, 31))
              and it.get(29, {}).get("with_warnings") is True and it.get(29, {}).get("counts", {}).get("warn") == 1,
              "bad: FISC items 26, 30, 31 fail; 29 carries the classification warning",
              {n: (it.get(n, {}).get("status"), it.get(n, {}).get("with_warnings")) for n in (26, 29, 30, 31)})
        # the same scan judged on the card checklist (FISC n = card n-1)
        d = os.path.join(tmp, "bad")
        rc = subprocess.run([TENKEN, "scan", "-c", os.path.join(d, "partner.json"), "-o", os.path.join(d, "card"),
                             "--lang", "en", "--checklist", "cashless-card-2019"], capture_output=True, text=True,
                            env=env_of(keys["s3-auditor"]), timeout=180)
        with open(os.path.join(d, "card", "report.json")) as fh:
            cit = items(json.load(fh))
        check(all(cit.get(n, {}).get("status") == "fail" for n in (25, 29, 30))
              and cit.get(28, {}).get("with_warnings") is True,
              "bad (card): items 25, 29, 30 fail; 28 warned", (rc.returncode, {n: cit.get(n, {}).get("status")
                                                                              for n in (25, 28, 29, 30)}))

        # moto does not authenticate S3 Control: botocore recomputes the signature of tenken's request
        check(sigv4_matches(front, keys["s3-auditor"]),
              "S3 Control: x-amz-account-id sent and signed; botocore's S3SigV4Auth computes the same signature",
              front.control[-1:])

        # ---- denied by moto's IAM evaluation: no s3:GetBucketVersioning
        r, rep = scan(tmp, "denied", acct, env_of(keys["s3-auditor-nover"]), NO_BACKUP_RULE)
        f, it, o = findings(rep), items(rep), obs(rep, "cloud_storage")
        uv = f.get("CLOUD-S3-UNVERSIONED", {})
        check(uv.get("status") == "error" and "GetBucketVersioning" in json.dumps(uv.get("evidence", {}))
              and "AccessDenied" in json.dumps(uv.get("evidence", {}))
              and it.get(31, {}).get("status") == "incomplete" and r.returncode == 3,
              "denied (moto IAM): GetBucketVersioning AccessDenied -> UNVERSIONED error, item 31 incomplete, exit 3",
              (uv, it.get(31), r.returncode))
        check(f.get("CLOUD-S3-PUBLIC-BUCKET", {}).get("status") == "fail",
              "denied: the rules whose calls were allowed still judge (PUBLIC-BUCKET fails)", f.keys())

        # ---- the good account
        moto_auth(ep, False)
        urllib.request.urlopen(urllib.request.Request(ep + "/moto-api/reset", method="POST")).read()
        keys = setup_users()
        sc = boto3.client("s3control", endpoint_url=ep, **kw)
        sc.meta.events.register("before-sign.s3-control.*", lambda request, **_: setattr(
            request, "url", request.url.replace("//%s." % ACCOUNT, "//")))
        bpa = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
               "RestrictPublicBuckets": True}
        sc.put_public_access_block(AccountId=ACCOUNT, PublicAccessBlockConfiguration=bpa)
        for b, loc, alg in (("acme-good-a", None, "AES256"), ("acme-good-eu", "eu-west-1", "aws:kms")):
            if loc:
                s3.create_bucket(Bucket=b, CreateBucketConfiguration={"LocationConstraint": loc})
            else:
                s3.create_bucket(Bucket=b)
            s3.put_public_access_block(Bucket=b, PublicAccessBlockConfiguration=bpa)
            s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
            s3.put_bucket_encryption(Bucket=b, ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": alg}}]})
            s3.put_bucket_tagging(Bucket=b, Tagging={"TagSet": [{"Key": "DataClass", "Value": "internal"}]})
        good = dict(acct, s3_classification_tag="DataClass")
        moto_auth(ep, True)
        r, rep = scan(tmp, "good", good, env_of(keys["s3-auditor"]), NO_BACKUP_RULE)
        f, it, o = findings(rep), items(rep), obs(rep, "cloud_storage")
        check(all(f.get(x, {}).get("status") == "pass" for x in RULES) and o.get("account_bpa_all") is True
              and o.get("buckets") == 2,
              "good: all five S3 rules pass (BPA on, versioned, encrypted, tagged DataClass)",
              ({x: f.get(x, {}).get("status") for x in RULES}, o))
        det = {b.get("name"): b for b in o.get("bucket_details", [])}
        check(det.get("acme-good-eu", {}).get("region") == "eu-west-1"
              and det.get("acme-good-eu", {}).get("encryption") == "aws:kms",
              "good: the eu-west-1 bucket found by GetBucketLocation and read in its region", det)
        # (items 26 and 30 may carry the EC2 check's warnings: moto's default network ACL allows all)
        # item 29 rests on the tag heuristic alone ("covers": "part"): evidence attached, stays manual
        check(all(it.get(n, {}).get("status") == "pass" for n in (26, 30, 31))
              and it.get(29, {}).get("status") == "manual" and it.get(29, {}).get("reason_code") == "partial_evidence"
              and "CLOUD-S3-UNCLASSIFIED" in it.get(29, {}).get("findings", [])
              and not it.get(29, {}).get("with_warnings") and not it.get(31, {}).get("with_warnings"),
              "good: FISC items 26, 30, 31 pass; 29 manual with the classification evidence attached",
              {n: it.get(n, {}).get("status") for n in (26, 29, 30, 31)})

        # ---- faults moto cannot produce (the responder's), each body checked with botocore first
        slow = (b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code><Message>Please reduce "
                b"your request rate.</Message></Error>", 503)
        broken = (b"<?xml version=\"1.0\"?><Tagging><TagSet><Tag><Key>DataClass</Key>", 200)
        ise = (b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>InternalError</Code><Message>We "
               b"encountered an internal error. Please try again.</Message></Error>", 500)
        front.faults = {("/acme-good-a", "encryption"): (slow[1], slow[0], 0),
                        ("/acme-good-eu", "tagging"): (broken[1], broken[0], 0)}
        moto_auth(ep, False)
        seen = []
        for call in (lambda: fs3.get_bucket_encryption(Bucket="acme-good-a"),
                     lambda: fs3.get_bucket_tagging(Bucket="acme-good-eu")):
            try:
                call()
                seen.append("parsed")
            except botocore.exceptions.ClientError as e:
                seen.append(e.response["Error"]["Code"])
            except botocore.exceptions.ResponseParserError:
                seen.append("unparseable")
        # botocore turns an S3 200 it cannot parse into a generic 500 error (or a parser error)
        check(seen[0] == "SlowDown" and seen[1] in ("unparseable", "500"),
              "fake: botocore reads SlowDown and refuses the broken XML", seen)
        moto_auth(ep, True)
        front.faults[("/v20180820/configuration/publicAccessBlock", "")] = (ise[1], ise[0], 0)
        front.faults[("/acme-good-a", "policyStatus")] = (200, b"", 8)  # silent past request_timeout_s
        faulty = dict(good, max_retries=1, request_timeout_s=2)
        t0 = time.time()
        r, rep = scan(tmp, "faults", faulty, env_of(keys["s3-auditor"]), NO_BACKUP_RULE)
        took = time.time() - t0
        f, it, o = findings(rep), items(rep), obs(rep, "cloud_storage")
        st = {x: f.get(x, {}).get("status") for x in RULES}
        un = o.get("unobserved", {})
        check(st == {"CLOUD-S3-PUBLIC-BUCKET": "error", "CLOUD-S3-ACCOUNT-BPA-OFF": "error",
                     "CLOUD-S3-UNVERSIONED": "pass", "CLOUD-S3-UNENCRYPTED": "error", "CLOUD-S3-UNCLASSIFIED": "error"},
              "faults: timeout -> PUBLIC error, S3 Control 500 -> BPA error, SlowDown -> UNENCRYPTED error, "
              "broken XML -> UNCLASSIFIED error; versioning (answered) still passes", (st, un))
        check("SlowDown" in un.get("unencrypted_buckets_count", "") and "malformed" in
              un.get("unclassified_buckets_count", "") and "InternalError" in un.get("account_bpa_all", ""),
              "faults: each unobserved field names its cause", un)
        check(all(it.get(n, {}).get("status") == "incomplete" for n in (26, 29, 30))
              and it.get(31, {}).get("status") == "pass" and r.returncode == 3,
              "faults: items 26, 29, 30 incomplete (never pass), 31 pass, exit 3",
              ({n: it.get(n, {}).get("status") for n in (26, 29, 30, 31)}, r.returncode))
        check(took < 120, "faults: bounded (retries 1, 2 s per attempt): %.0f s" % took)

        # a malformed ListBuckets: every bucket summary unobserved
        lb = b"<?xml version=\"1.0\"?><ListAllMyBucketsResult><Buckets><Bucket><Name>x"
        front.faults = {("/", "max-buckets"): (200, lb, 0)}
        r, rep = scan(tmp, "badlist", faulty, env_of(keys["s3-auditor"]), NO_BACKUP_RULE)
        f = findings(rep)
        st = {x: f.get(x, {}).get("status") for x in RULES}
        check(all(st[x] == "error" for x in RULES if x != "CLOUD-S3-ACCOUNT-BPA-OFF")
              and st["CLOUD-S3-ACCOUNT-BPA-OFF"] == "pass",
              "malformed ListBuckets: the four bucket rules error (account BPA still judged)", st)
    finally:
        front.srv.shutdown()
        srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
