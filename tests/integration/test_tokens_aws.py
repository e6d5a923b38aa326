#!/usr/bin/env python3
"""tokens probe, aws store: a fake AWS endpoint on loopback answers RDS
DescribeDBInstances (paged), DynamoDB ListTables/DescribeTable, S3
ListBuckets/GetBucketEncryption and KMS ListKeys/DescribeKey/
GetKeyRotationStatus; the store reads them through the cloud probe's AWS
client (requests must be SigV4-signed with the configured key) and the rules
judge encryption at rest and key rotation. The secret key never appears."""
import json, os, secrets, shutil, subprocess, sys, tempfile, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse
from tkharness import check, finish  # noqa: E402

BIN = os.environ.get("TENKEN_BIN", "build/tenken")
KEY_ID = "AKIA" + secrets.token_hex(8).upper()
SECRET = secrets.token_urlsafe(30)
calls = []
mode = {"rotation": False, "rds_fail": False}


RDS_NS = "http://rds.amazonaws.com/doc/2014-10-31/"


def rds_page(marker):
    if marker == "":
        insts = [("orders-db", "true"), ("legacy-db", "false")]
        nxt = "<Marker>page2</Marker>"
    else:
        insts = [("tokens-db", "true")]
        nxt = ""
    items = "".join(f"<DBInstance><DBInstanceIdentifier>{i}</DBInstanceIdentifier><Engine>postgres</Engine>"
                    f"<StorageEncrypted>{e}</StorageEncrypted></DBInstance>" for i, e in insts)
    return (f'<DescribeDBInstancesResponse xmlns="{RDS_NS}"><DescribeDBInstancesResult><DBInstances>{items}'
            f'</DBInstances>{nxt}</DescribeDBInstancesResult><ResponseMetadata><RequestId>r1</RequestId>'
            f'</ResponseMetadata></DescribeDBInstancesResponse>')


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, status, body, ctype):
        b = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(b)))
        self.send_header("x-amzn-RequestId", "req-1")
        self.end_headers()
        self.wfile.write(b)

    def signed(self):
        a = self.headers.get("Authorization", "")
        ok = a.startswith(f"AWS4-HMAC-SHA256 Credential={KEY_ID}/") and "Signature=" in a
        if not ok:
            self.send(403, '{"__type":"UnrecognizedClientException","message":"bad signature"}',
                      "application/x-amz-json-1.1")
        return ok

    def do_GET(self):
        u = urlparse(self.path)
        calls.append(("GET", u.path, u.query))
        if not self.signed():
            return
        if u.path == "/":
            self.send(200, '<ListAllMyBucketsResult><Buckets><Bucket><Name>tok-plain</Name></Bucket>'
                           '<Bucket><Name>tok-kms</Name></Bucket></Buckets></ListAllMyBucketsResult>', "application/xml")
        elif u.path == "/tok-kms" and u.query.startswith("encryption"):
            self.send(200, '<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault>'
                           '<SSEAlgorithm>aws:kms</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule>'
                           '</ServerSideEncryptionConfiguration>', "application/xml")
        elif u.path == "/tok-plain" and u.query.startswith("encryption"):
            self.send(404, '<Error><Code>ServerSideEncryptionConfigurationNotFoundError</Code><Message>The server '
                           'side encryption configuration was not found</Message></Error>', "application/xml")
        else:
            self.send(404, "<Error><Code>NoSuchBucket</Code><Message>no</Message></Error>", "application/xml")

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n).decode()
        target = self.headers.get("X-Amz-Target", "")
        calls.append(("POST", target, body))
        if not self.signed():
            return
        if not target:
            form = parse_qs(body)
            if form.get("Action") == ["DescribeDBInstances"]:
                if mode["rds_fail"]:
                    self.send(403, f'<ErrorResponse xmlns="{RDS_NS}"><Error><Type>Sender</Type><Code>AccessDenied'
                                   '</Code><Message>not authorized</Message></Error></ErrorResponse>', "text/xml")
                else:
                    self.send(200, rds_page(form.get("Marker", [""])[0]), "text/xml")
                return
            self.send(400, "<Error><Code>InvalidAction</Code><Message>?</Message></Error>", "text/xml")
            return
        j = json.loads(body or "{}")
        ct = "application/x-amz-json-1.0" if target.startswith("DynamoDB") else "application/x-amz-json-1.1"
        if target == "DynamoDB_20120810.ListTables":
            self.send(200, json.dumps({"TableNames": ["sessions", "audit", "old"]}), ct)
        elif target == "DynamoDB_20120810.DescribeTable":
            t = j["TableName"]
            sse = {"sessions": {"Status": "ENABLED", "SSEType": "KMS"}, "audit": None,
                   "old": {"Status": "DISABLED"}}[t]
            table = {"TableName": t}
            if sse:
                table["SSEDescription"] = sse
            self.send(200, json.dumps({"Table": table}), ct)
        elif target == "TrentService.ListKeys":
            self.send(200, json.dumps({"Keys": [{"KeyId": k} for k in ("k-cust", "k-aws", "k-asym")],
                                       "Truncated": False}), ct)
        elif target == "TrentService.DescribeKey":
            k = j["KeyId"]
            md = {"k-cust": ("CUSTOMER", "SYMMETRIC_DEFAULT"), "k-aws": ("AWS", "SYMMETRIC_DEFAULT"),
                  "k-asym": ("CUSTOMER", "RSA_2048")}[k]
            self.send(200, json.dumps({"KeyMetadata": {"KeyId": k, "KeyManager": md[0], "KeySpec": md[1],
                                                       "KeyState": "Enabled"}}), ct)
        elif target == "TrentService.GetKeyRotationStatus":
            self.send(200, json.dumps({"KeyRotationEnabled": mode["rotation"]}), ct)
        else:
            self.send(400, json.dumps({"__type": "UnknownOperationException"}), ct)


def scan(tmp, name, port, env_extra=None):
    cfg = {"partner": {"id": "p", "name": "p"}, "checklist": "cashless-card-2019",
           "probes": {"cloud": {"accounts": [{"provider": "aws", "name": "prod",
                                              "endpoint": f"http://127.0.0.1:{port}", "region": "ap-northeast-1"}]},
                      "tokens": {"stores": [{"type": "aws", "account": 0}]}}}
    # only the tokens probe runs: the cloud section is there for the account
    path = os.path.join(tmp, name + ".json")
    with open(path, "w") as f:
        json.dump(cfg, f)
    out = os.path.join(tmp, name)
    env = dict(os.environ, AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET)
    for k in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        env.pop(k, None)
    env.update(env_extra or {})
    r = subprocess.run([BIN, "scan", "-c", path, "-o", out, "-v"], capture_output=True, env=env, timeout=120)
    with open(os.path.join(out, "report.json")) as f:
        text = f.read()
    return r, json.loads(text), text


def main():
    tmp = tempfile.mkdtemp(prefix="tenken-tokens-aws-")
    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    port = srv.server_address[1]
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    try:
        r, rep, text = scan(tmp, "a", port)
        o = [x for x in rep["observations"] if x["probe"] == "tokens"]
        check(len(o) == 1 and o[0]["kind"] == "storage_encryption", "one observation", o)
        o = o[0] if o else {}
        rds = {i["id"]: i["storage_encrypted"] for i in o.get("rds_instances", [])}
        check(rds == {"orders-db": True, "legacy-db": False, "tokens-db": True}, "rds paged and read", rds)
        ddb = {t["name"]: t["encrypted"] for t in o.get("dynamodb_tables", [])}
        check(ddb == {"sessions": True, "audit": True, "old": False}, "dynamodb SSE", ddb)
        s3 = {b["name"]: b["default_encryption"] for b in o.get("s3_buckets", [])}
        check(s3 == {"tok-plain": False, "tok-kms": True}, "s3 default encryption", s3)
        kms = {k["key_id"]: k.get("rotation_enabled") for k in o.get("kms_keys", [])}
        check(kms == {"k-cust": False}, "kms: only the customer symmetric key", kms)
        check(o.get("unencrypted_count") == 3 and o.get("kms_rotation_off_count") == 1, "counts", o)
        st = {(f["rule"], f["target"]): f["status"] for f in rep["findings"]}
        check(st.get(("TOKENS-CLOUD-STORAGE-UNENCRYPTED", "aws:account[0]")) == "fail", "storage rule fails", st)
        check(st.get(("TOKENS-KMS-ROTATION-OFF", "aws:account[0]")) == "fail", "rotation rule fails", st)
        check(all(c for c in calls), "every request signed")
        leak = [l for l, t in (("report", text), ("stdout", r.stdout.decode()), ("stderr", r.stderr.decode()))
                if any(SECRET[i:i + 8] in t for i in range(len(SECRET) - 7))]
        check(not leak, "secret key not in outputs", leak)

        # rotation on, RDS denied: the rotation rule passes, RDS is listed as an error, the store still judged
        mode.update(rotation=True, rds_fail=True)
        r, rep, text = scan(tmp, "b", port)
        o = [x for x in rep["observations"] if x["probe"] == "tokens"][0]
        st = {}
        for f in rep["findings"]:
            st.setdefault((f["rule"], f["target"]), []).append(f["status"])
        check("pass" in st.get(("TOKENS-KMS-ROTATION-OFF", "aws:account[0]"), []), "rotation rule passes on its evidence",
              st)
        check(any("rds" in e and "AccessDenied" in e for e in o.get("errors", [])), "rds error listed", o.get("errors"))
        check(o.get("complete") is False, "incomplete when a service fails")
        # fail closed (issue 12): what RDS would have listed is unknown, so item 30 cannot pass
        it30 = [i for i in rep["items"] if i["no"] == 29][0]  # card checklist: 29 (FISC 30)
        errs = [x for x in rep["observations"] if x["probe"] == "tokens" and x["kind"] == "error"]
        check(it30["status"] in ("incomplete", "fail") and errs and "AccessDenied" in errs[0]["message"] and
              "error" in st.get(("TOKENS-CLOUD-STORAGE-UNENCRYPTED", "aws:account[0]"), [])
              and errs[0].get("for_kind") == "storage_encryption",
              "a denied service: the storage rule is error (item 29/FISC 30 never passes; it fails here on S3), naming it", (it30["status"], r.returncode, errs))

        # wrong key: every service refused -> an error observation of class auth
        r, rep, text = scan(tmp, "c", port, {"AWS_ACCESS_KEY_ID": "AKIAWRONGWRONGWRONG"})
        e = [x for x in rep["observations"] if x["probe"] == "tokens"]
        check(e and e[0]["kind"] == "error" and e[0]["error"] == "auth", "refused everywhere: auth error", e)

        # config: an account index that does not exist names the field
        cfgp = os.path.join(tmp, "bad.json")
        with open(cfgp, "w") as f:
            json.dump({"partner": {"id": "p", "name": "p"},
                       "probes": {"tokens": {"stores": [{"type": "aws", "account": 3}]}}}, f)
        r = subprocess.run([BIN, "validate", "-c", cfgp], capture_output=True)
        check(r.returncode == 2 and
              b"probes.tokens.stores[0].account" in r.stderr, "missing account is a config error", r.stderr)
    finally:
        srv.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


if __name__ == "__main__":
    sys.exit(main())
