#!/usr/bin/env python3
"""Probe "cloud" against fake AWS IAM/STS, Microsoft Graph, Google token and
Directory endpoints on 127.0.0.1 that speak the providers' wire formats.

The fake IAM/STS endpoint checks every SigV4 signature (its own stdlib
implementation) and is validated with real clients: the AWS CLI and botocore
(Debian awscli, python3-botocore, run with /usr/bin/python3).
"""
import base64
import hashlib
import hmac
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from tkharness import check, finish  # noqa: E402

TENKEN = os.environ.get("TENKEN_BIN", "./tenken")
SYS_PY = "/usr/bin/python3"
AWS_CLI = "/usr/bin/aws"

BASE_AK = "AKIAFAKEBASEKEY00001"
BASE_SK = "baseSecret/with+chars=0123456789abcdefABCD"
SESS_AK = "ASIAFAKESESSION00002"
SESS_SK = "sessionSecretKey/abcdefghijklmnopqrstuvw"
SESS_TOKEN = "IQoJb3JpZ2luX2VjEFAKE//////////SESSIONTOKEN+xyz=="
EXTERNAL_ID = "bank-ext-7f3a"
ROLE_ARN = "arn:aws:iam::123456789012:role/BankAudit"
AZ_SECRET = "azure~client~secret~value~0001"
AZ_TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.FAKE-GRAPH-BEARER-TOKEN"
GG_TOKEN = "ya29.FAKE-GOOGLE-ACCESS-TOKEN-0123456789"
SECRETS = [BASE_AK, BASE_SK, SESS_AK, SESS_SK, SESS_TOKEN, AZ_SECRET, AZ_TOKEN, GG_TOKEN]

IAM_NS = "https://iam.amazonaws.com/doc/2010-05-08/"
CR_HEADER = ("user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"
             "password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,"
             "access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,"
             "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
             "access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,"
             "cert_1_last_rotated,cert_2_active,cert_2_last_rotated")



def iso(days_ago):
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - days_ago * 86400))


def cred_report(root_mfa, root_key1, root_pw_used, users):
    rows = [CR_HEADER,
            "<root_account>,arn:aws:iam::123456789012:root,2020-01-01T00:00:00+00:00,not_supported,%s,"
            "not_supported,not_supported,%s,%s,2020-01-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,"
            "false,N/A,false,N/A" % (root_pw_used, root_mfa, root_key1)]
    for name, pw, mfa in users:
        rows.append("%s,arn:aws:iam::123456789012:user/%s,2021-01-01T00:00:00+00:00,%s,%s,N/A,N/A,%s,"
                    "false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"
                    % (name, name, pw, iso(3) if pw.lower() == "true" else "N/A", mfa))
    return "\n".join(rows) + "\n"


# ---- SigV4 verification (independent stdlib implementation) ----
def sigv4_ok(method, path, headers, body, secrets):
    auth = headers.get("Authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return False, "no SigV4 Authorization"
    parts = dict(p.strip().split("=", 1) for p in auth[len("AWS4-HMAC-SHA256 "):].split(","))
    ak, date, region, service, term = parts["Credential"].split("/")
    sk = secrets.get(ak)
    if sk is None:
        return False, "InvalidClientTokenId"
    if ak == SESS_AK and headers.get("X-Amz-Security-Token") != SESS_TOKEN:
        return False, "bad session token"
    signed = parts["SignedHeaders"].split(";")
    u = urllib.parse.urlsplit(path)
    canon_uri = urllib.parse.quote(u.path or "/", safe="/~")
    pairs = sorted(tuple((p.split("=", 1) + [""])[:2]) for p in u.query.split("&")) if u.query else []
    canon_q = "&".join("%s=%s" % kv for kv in pairs)
    canon_h = "".join("%s:%s\n" % (h, " ".join(headers.get(h, "").split())) for h in signed)
    creq = "\n".join([method, canon_uri, canon_q, canon_h, parts["SignedHeaders"],
                      hashlib.sha256(body).hexdigest()])
    sts = "\n".join(["AWS4-HMAC-SHA256", headers.get("X-Amz-Date", ""),
                     "/".join([date, region, service, term]), hashlib.sha256(creq.encode()).hexdigest()])
    k = ("AWS4" + sk).encode()
    for m in (date, region, service, "aws4_request"):
        k = hmac.new(k, m.encode(), hashlib.sha256).digest()
    sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(sig, parts["Signature"]):
        return False, "SignatureDoesNotMatch"
    if "host" not in signed or "x-amz-date" not in signed:
        return False, "host/x-amz-date unsigned"
    return True, service


class Fake:
    """Scenario state shared with the handler."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset({})

    def reset(self, sc):
        with self.lock:
            self.sc = sc
            self.calls = []
            self.throttled = 0
            self.proxied = 0
            self.generate_calls = 0
            self.errors = []

    def log(self, what):
        with self.lock:
            self.calls.append(what)

    def count(self, what):
        with self.lock:
            return sum(1 for c in self.calls if c == what)


FAKE = Fake()


def xml_error(code, message, typ="Sender", ns=IAM_NS):
    return ('<ErrorResponse xmlns="%s">\n  <Error>\n    <Type>%s</Type>\n    <Code>%s</Code>\n'
            '    <Message>%s</Message>\n  </Error>\n  <RequestId>4c2f1e2a-0000-4000-8000-00000000abcd</RequestId>\n'
            '</ErrorResponse>\n' % (ns, typ, code, message))


def xml_ok(action, result, ns=IAM_NS):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<%sResponse xmlns="%s">\n  <%sResult>\n%s\n  </%sResult>\n'
            '  <ResponseMetadata>\n    <RequestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestId>\n'
            '  </ResponseMetadata>\n</%sResponse>\n' % (action, ns, action, result, action, action))


EC2_CLEAN = {"DescribeSecurityGroups": "<securityGroupInfo/>", "DescribeNetworkAcls": "<networkAclSet/>",
             "DescribeSnapshots": "<snapshotSet/>",
             "GetEbsEncryptionByDefault": "<ebsEncryptionByDefault>true</ebsEncryptionByDefault>"}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def handle(self):
        try:
            super().handle()
        except ConnectionError:
            pass  # a client that gave up (oversized body, deadline)

    def send(self, status, body, ctype="text/xml", extra=None):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", "7a62c49f-347e-4fc4-9331-6e8eEXAMPLE")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        try:
            self.wfile.write(data)
        except (ConnectionError, BrokenPipeError):
            pass  # the client stopped reading (the oversized-body test)

    def body(self):
        n = int(self.headers.get("Content-Length", "0") or 0)
        return self.rfile.read(n) if n else b""

    def do_POST(self):
        body = self.body()
        if self.path.endswith("/oauth2/v2.0/token"):
            return self.azure_token(body)
        if self.path == "/google/token":
            return self.google_token(body)
        return self.aws(body)

    def do_GET(self):
        gpath = urllib.parse.urlsplit(self.path).path  # absolute-form through the proxy
        if gpath.startswith("/detector"):  # GuardDuty (REST-JSON)
            if self.path.startswith("http://"):
                FAKE.proxied += 1
            if gpath == "/detector":
                return self.send(200, json.dumps({"detectorIds": ["12abc34d567e8fa901bc2d34e56789f0"]}),
                                 "application/json")
            return self.send(200, json.dumps({"status": FAKE.sc.get("guardduty", "ENABLED")}), "application/json")
        if gpath == "/backup/plans/":  # AWS Backup (REST-JSON; tested against moto in test_cloud_rds.py)
            return self.send(200, json.dumps({"BackupPlansList": [{"BackupPlanName": "daily"}]}), "application/json")
        if self.path.startswith("/v1.0/"):
            return self.graph()
        if self.path.startswith("/admin/directory/v1/users"):
            return self.directory()
        if self.path.startswith("/?") or self.path == "/":
            return self.aws(b"")
        if gpath in ("/", "/v20180820/configuration/publicAccessBlock"):  # S3 (aws_s3.c), proxied too
            return self.aws(b"")
        self.send(404, "not found", "text/plain")

    # ---- AWS ----
    def aws(self, body):
        sc = FAKE.sc
        if self.path.startswith("http://"):
            FAKE.proxied += 1
        target = self.headers.get("X-Amz-Target")
        form = {} if target else dict(urllib.parse.parse_qsl(body.decode() if body else
                                                               urllib.parse.urlsplit(self.path).query))
        action = target or form.get("Action", "")
        FAKE.log(action)
        secrets = {BASE_AK: BASE_SK, SESS_AK: SESS_SK}
        ok, why = sigv4_ok(self.command, self.path, self.headers, body, secrets)
        if not ok:
            FAKE.errors.append(why)
            code = "InvalidClientTokenId" if why == "InvalidClientTokenId" else "SignatureDoesNotMatch"
            return self.send(403, xml_error(code, "The request signature we calculated does not match (%s)" % why))
        ak = self.headers["Authorization"].split("Credential=")[1].split("/")[0]
        if action == "AssumeRole":
            if form.get("RoleArn") != ROLE_ARN or form.get("ExternalId") != sc.get("external_id", EXTERNAL_ID):
                return self.send(403, xml_error(
                    "AccessDenied", "User: arn:aws:iam::999999999999:user/bank is not authorized to perform: "
                    "sts:AssumeRole on resource: %s" % ROLE_ARN, ns="https://sts.amazonaws.com/doc/2011-06-15/"))
            res = ("    <AssumedRoleUser>\n      <AssumedRoleId>AROA3XFRBF535PLBIFPI4:%s</AssumedRoleId>\n"
                   "      <Arn>arn:aws:sts::123456789012:assumed-role/BankAudit/%s</Arn>\n    </AssumedRoleUser>\n"
                   "    <Credentials>\n      <AccessKeyId>%s</AccessKeyId>\n"
                   "      <SecretAccessKey>%s</SecretAccessKey>\n      <SessionToken>%s</SessionToken>\n"
                   "      <Expiration>%s</Expiration>\n    </Credentials>\n    <PackedPolicySize>6</PackedPolicySize>"
                   % (form.get("RoleSessionName"), form.get("RoleSessionName"), SESS_AK, SESS_SK, SESS_TOKEN,
                      time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))))
            return self.send(200, xml_ok("AssumeRole", res, "https://sts.amazonaws.com/doc/2011-06-15/"))
        if sc.get("require_session") and ak != SESS_AK:
            return self.send(403, xml_error("AccessDenied", "base credentials may only call sts:AssumeRole"))
        # S3 posture (aws_s3.c, tested in test_cloud_s3.py): an account with Block Public Access on, no buckets
        if action == "GetCallerIdentity":
            return self.send(200, xml_ok("GetCallerIdentity", "    <Arn>arn:aws:sts::123456789012:user/bank</Arn>\n"
                                         "    <UserId>AIDAEXAMPLE</UserId>\n    <Account>123456789012</Account>",
                                         "https://sts.amazonaws.com/doc/2011-06-15/"))
        if self.command == "GET" and urllib.parse.urlsplit(self.path).path == "/v20180820/configuration/publicAccessBlock":
            FAKE.log("GetPublicAccessBlock")
            return self.send(200, "<PublicAccessBlockConfiguration>" + "".join(
                "<%s>true</%s>" % (k, k) for k in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy",
                                                   "RestrictPublicBuckets")) + "</PublicAccessBlockConfiguration>")
        if self.command == "GET" and "max-buckets" in form:
            FAKE.log("ListBuckets")
            return self.send(200, "<ListAllMyBucketsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                             "<Owner><ID>1234</ID></Owner><Buckets></Buckets></ListAllMyBucketsResult>")
        if action == "AWSEvents.ListRules":
            region = self.headers["Authorization"].split("Credential=")[1].split("/")[2]
            FAKE.log("events@" + region)
            if sc.get("events_throttle"):
                return self.send(400, json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}),
                                 "application/x-amz-json-1.1")
            if sc.get("events_403"):
                return self.send(400, json.dumps({"__type": "AccessDeniedException", "Message": "User: arn:aws:sts::"
                                                  "123456789012:assumed-role/BankAudit/x is not authorized to perform:"
                                                  " events:ListRules"}), "application/x-amz-json-1.1")
            req = json.loads(body or b"{}")
            pages = sc.get("event_rules", [[]])
            idx = int(req["NextToken"].split("-")[1]) if req.get("NextToken") else 0
            rules = []
            for name, state, pattern in pages[idx]:
                rules.append({"Name": name, "Arn": "arn:aws:events:us-east-1:123456789012:rule/" + name,
                              "State": state, "EventPattern": json.dumps(pattern), "EventBusName": "default"})
            out = {"Rules": rules}
            if idx + 1 < len(pages):
                out["NextToken"] = "tok-%d" % (idx + 1)
            return self.send(200, json.dumps(out), "application/x-amz-json-1.1")
        if action == "GetAccountSummary":
            if FAKE.throttled < sc.get("throttle", 0):
                FAKE.throttled += 1
                return self.send(400, xml_error("Throttling", "Rate exceeded"))
            if sc.get("stall"):
                time.sleep(sc["stall"])
                return
            if sc.get("huge"):
                return self.send(200, "<GetAccountSummaryResponse>" + "<x>" + "a" * (9 << 20) + "</x>"
                                 "</GetAccountSummaryResponse>")
            if sc.get("summary_403"):
                return self.send(403, xml_error(
                    "AccessDenied", "User: arn:aws:sts::123456789012:assumed-role/BankAudit/tenken-audit is not "
                    "authorized to perform: iam:GetAccountSummary on resource: *"))
            if sc.get("malformed"):
                return self.send(200, "<GetAccountSummaryResponse xmlns=\"%s\"><GetAccountSummaryResult><SummaryMap>"
                                 "<entry><key>AccountMFAEnabled</key><value>1</val" % IAM_NS)
            entries = [("Users", 2), ("AccountMFAEnabled", 1 if sc["mfa"] else 0),
                       ("AccountAccessKeysPresent", 1 if sc.get("keys_present") else 0), ("Groups", 1),
                       ("MFADevicesInUse", 1), ("AccountSigningCertificatesPresent", 0)]
            res = "    <SummaryMap>\n" + "".join(
                "      <entry>\n        <key>%s</key>\n        <value>%d</value>\n      </entry>\n" % e
                for e in entries) + "    </SummaryMap>"
            return self.send(200, xml_ok("GetAccountSummary", res))
        if action == "GenerateCredentialReport":
            FAKE.generate_calls += 1
            state = "COMPLETE" if FAKE.generate_calls > sc.get("report_polls", 0) else (
                "STARTED" if FAKE.generate_calls == 1 else "INPROGRESS")
            res = ("    <Description>No report exists. Starting a new report generation task</Description>\n"
                   "    <State>%s</State>" % state)
            return self.send(200, xml_ok("GenerateCredentialReport", res))
        if action == "GetCredentialReport":
            if FAKE.generate_calls <= sc.get("report_polls", 0):
                return self.send(410, xml_error("ReportInProgress", "Report generation in progress"))
            content = base64.b64encode(sc["report"].encode()).decode()
            content = "\n".join(content[i:i + 76] for i in range(0, len(content), 76))
            gen = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - sc.get("report_age_s", 0)))
            res = ("    <Content>%s</Content>\n    <ReportFormat>text/csv</ReportFormat>\n"
                   "    <GeneratedTime>%s</GeneratedTime>" % (content, gen))
            if sc.get("report_truncated"):
                return self.send(200, xml_ok("GetCredentialReport", res)[:-60])
            return self.send(200, xml_ok("GetCredentialReport", res))
        if action.endswith("CloudTrail_20131101.DescribeTrails"):
            trails = sc.get("trails", [{"Name": "org", "TrailARN": "arn:aws:cloudtrail:us-east-1:123456789012:trail/org",
                                        "IsMultiRegionTrail": True, "LogFileValidationEnabled": True,
                                        "HomeRegion": "us-east-1"}])
            return self.send(200, json.dumps({"trailList": trails}), "application/x-amz-json-1.1")
        if action.endswith("CloudTrail_20131101.GetTrailStatus"):
            return self.send(200, json.dumps({"IsLogging": True}), "application/x-amz-json-1.1")
        if action == "GetAccountPasswordPolicy":
            if sc.get("no_pw_policy"):
                return self.send(404, xml_error("NoSuchEntity", "The Password Policy with domain name 123456789012 "
                                                "cannot be found."))
            return self.send(200, xml_ok("GetAccountPasswordPolicy", (
                "    <PasswordPolicy>\n      <MinimumPasswordLength>%d</MinimumPasswordLength>\n"
                "      <PasswordReusePrevention>24</PasswordReusePrevention>\n    </PasswordPolicy>")
                % sc.get("pw_min", 14)))
        # RDS and Cognito answer "nothing here" (their checks are tested against moto in test_cloud_rds.py)
        if action in ("DescribeDBInstances", "DescribeDBSnapshots"):
            what = "DBInstances" if action == "DescribeDBInstances" else "DBSnapshots"
            return self.send(200, xml_ok(action, "    <%s/>" % what, "http://rds.amazonaws.com/doc/2014-10-31/"))
        if action == "AWSCognitoIdentityProviderService.ListUserPools":
            return self.send(200, json.dumps({"UserPools": []}), "application/x-amz-json-1.1")
        if action == "ListVirtualMFADevices" and sc.get("vmfa_403"):
            return self.send(403, xml_error("AccessDenied", "User: arn:aws:sts::123456789012:assumed-role/BankAudit/x"
                                            " is not authorized to perform: iam:ListVirtualMFADevices"))
        if action == "ListVirtualMFADevices":
            pages = sc.get("vmfa_pages", [[]])
            marker = form.get("Marker")
            idx = int(marker.split("-")[1]) if marker else 0
            members = ""
            for who in pages[idx]:
                arn = "arn:aws:iam::123456789012:root" if who == "root" else "arn:aws:iam::123456789012:user/" + who
                serial = "arn:aws:iam::123456789012:mfa/" + ("root-account-mfa-device" if who == "root" else who)
                members += ("      <member>\n        <SerialNumber>%s</SerialNumber>\n        <User>\n"
                            "          <UserId>AIDA%s</UserId>\n          <Arn>%s</Arn>\n"
                            "          <CreateDate>2020-01-01T00:00:00Z</CreateDate>\n        </User>\n"
                            "        <EnableDate>2021-01-01T00:00:00Z</EnableDate>\n      </member>\n"
                            % (serial, who.upper(), arn))
            trunc = idx + 1 < len(pages)
            res = ("    <VirtualMFADevices>\n%s    </VirtualMFADevices>\n    <IsTruncated>%s</IsTruncated>%s"
                   % (members, "true" if trunc else "false",
                      "\n    <Marker>page-%d-&amp;x=y</Marker>" % (idx + 1) if trunc else ""))
            return self.send(200, xml_ok("ListVirtualMFADevices", res))
        if action in EC2_CLEAN:  # EC2 posture (aws_ec2.c) of a clean account; judged in test_cloud_ec2.py
            return self.send(200, '<?xml version="1.0" encoding="UTF-8"?>\n<%sResponse xmlns="http://ec2.amazonaws'
                             '.com/doc/2016-11-15/"><requestId>r-1</requestId>%s</%sResponse>'
                             % (action, EC2_CLEAN[action], action))
        return self.send(400, xml_error("InvalidAction", "Could not find operation %s for version 2010-05-08"
                                        % action))

    # ---- Azure ----
    def azure_token(self, body):
        form = dict(urllib.parse.parse_qsl(body.decode()))
        FAKE.log("azure_token")
        if (form.get("grant_type") != "client_credentials" or form.get("client_secret") != AZ_SECRET
                or form.get("client_id") != "11111111-2222-3333-4444-555555555555"
                or not form.get("scope", "").endswith("/.default")):
            return self.send(401, json.dumps({
                "error": "invalid_client",
                "error_description": "AADSTS7000215: Invalid client secret provided."}), "application/json")
        return self.send(200, json.dumps({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
                                          "access_token": AZ_TOKEN}), "application/json")

    def graph(self):
        base = "http://127.0.0.1:%d" % self.server.server_address[1]
        if self.headers.get("Authorization") != "Bearer " + AZ_TOKEN:
            return self.send(401, json.dumps({"error": {"code": "InvalidAuthenticationToken",
                                                        "message": "Access token is empty."}}), "application/json")
        p = self.path
        FAKE.log("graph " + p)
        if "/directoryRoles(roleTemplateId='62e90394-69f5-4237-9190-012177145e10')/members" in p:
            if FAKE.sc.get("foreign_link"):
                return self.send(200, json.dumps({"@odata.nextLink": "http://127.0.0.2:%d/v1.0/steal"
                                                  % self.server.server_address[1], "value": []}),
                                 "application/json")
            if "skiptoken" not in p:
                page = {"@odata.context": base + "/v1.0/$metadata#directoryObjects",
                        "@odata.nextLink": base + "/v1.0/directoryRoles(roleTemplateId='62e90394-69f5-4237-9190-"
                                                  "012177145e10')/members?$skiptoken=X%27abc%27",
                        "value": [{"@odata.type": "#microsoft.graph.user", "id": "u-1",
                                   "userPrincipalName": "ceo@acme.test", "displayName": "CEO"},
                                  {"@odata.type": "#microsoft.graph.servicePrincipal", "id": "sp-1",
                                   "displayName": "automation"}]}
            else:
                page = {"value": [{"@odata.type": "#microsoft.graph.user", "id": "u-2",
                                   "userPrincipalName": "admin@acme.test"}]}
            return self.send(200, json.dumps(page), "application/json")
        if "/reports/authenticationMethods/userRegistrationDetails" in p:
            if "skiptoken" not in p:
                page = {"@odata.nextLink": base + "/v1.0/reports/authenticationMethods/userRegistrationDetails"
                                                  "?$skiptoken=p2",
                        "value": [{"id": "u-1", "userPrincipalName": "ceo@acme.test", "isAdmin": True,
                                   "isMfaCapable": False, "isMfaRegistered": False, "methodsRegistered": []},
                                  {"id": "u-9", "userPrincipalName": "staff@acme.test", "isMfaRegistered": False}]}
            else:
                page = {"value": [{"id": "u-2", "userPrincipalName": "admin@acme.test", "isMfaCapable": True,
                                   "isMfaRegistered": True,
                                   "methodsRegistered": ["microsoftAuthenticatorPush", "fido2"]}]}
            return self.send(200, json.dumps(page), "application/json")
        return self.send(404, json.dumps({"error": {"code": "Request_ResourceNotFound", "message": "no"}}),
                         "application/json")

    # ---- Google ----
    def google_token(self, body):
        form = dict(urllib.parse.parse_qsl(body.decode()))
        FAKE.log("google_token")
        why = verify_jwt(form)
        if why:
            FAKE.errors.append(why)
            return self.send(400, json.dumps({"error": "invalid_grant", "error_description": why}),
                             "application/json")
        return self.send(200, json.dumps({"access_token": GG_TOKEN, "expires_in": 3599, "token_type": "Bearer"}),
                         "application/json")

    def directory(self):
        if self.headers.get("Authorization") != "Bearer " + GG_TOKEN:
            return self.send(401, json.dumps({"error": {"code": 401, "message": "Invalid Credentials",
                                                        "status": "UNAUTHENTICATED"}}), "application/json")
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
        FAKE.log("directory " + q.get("pageToken", ""))
        if q.get("customer") != "my_customer" or q.get("query") != "isAdmin=true":
            return self.send(400, json.dumps({"error": {"code": 400, "message": "bad query",
                                                        "status": "INVALID_ARGUMENT"}}), "application/json")
        if not q.get("pageToken"):
            page = {"kind": "admin#directory#users", "nextPageToken": "tok/2+==",
                    "users": [{"kind": "admin#directory#user", "id": "1", "primaryEmail": "root@acme.test",
                               "isAdmin": True, "isEnrolledIn2Sv": True, "isEnforcedIn2Sv": True},
                              {"kind": "admin#directory#user", "id": "2", "primaryEmail": "ops@acme.test",
                               "isAdmin": True, "isEnrolledIn2Sv": False, "isEnforcedIn2Sv": False}]}
        elif q["pageToken"] == "tok/2+==":
            page = {"kind": "admin#directory#users",
                    "users": [{"kind": "admin#directory#user", "id": "3", "primaryEmail": "it@acme.test",
                               "isAdmin": True, "isEnrolledIn2Sv": True, "isEnforcedIn2Sv": False}]}
        else:
            return self.send(400, json.dumps({"error": {"code": 400, "message": "bad pageToken"}}),
                             "application/json")
        return self.send(200, json.dumps(page), "application/json")


GOOGLE = {}


def b64url_dec(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def verify_jwt(form):
    if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
        return "bad grant_type"
    parts = form.get("assertion", "").split(".")
    if len(parts) != 3:
        return "not a JWT"
    header = json.loads(b64url_dec(parts[0]))
    claims = json.loads(b64url_dec(parts[1]))
    if header.get("alg") != "RS256":
        return "alg"
    if (claims.get("iss") != "tenken-audit@acme-prod.iam.gserviceaccount.com" or claims.get("sub") != "admin@acme.test"
            or claims.get("scope") != "https://www.googleapis.com/auth/admin.directory.user.readonly"
            or claims.get("aud") != GOOGLE["token_url"] or not (0 < claims["exp"] - claims["iat"] <= 3600)):
        return "claims " + json.dumps(claims)
    d = GOOGLE["dir"]
    with open(os.path.join(d, "input"), "wb") as f:
        f.write((parts[0] + "." + parts[1]).encode())
    with open(os.path.join(d, "sig"), "wb") as f:
        f.write(b64url_dec(parts[2]))
    r = subprocess.run(["openssl", "dgst", "-sha256", "-verify", os.path.join(d, "pub.pem"), "-signature",
                        os.path.join(d, "sig"), os.path.join(d, "input")], capture_output=True)
    return None if r.returncode == 0 else "signature does not verify"


# ---- running tenken ----
def write(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def scan(tmp, name, accounts, env_extra=None, timeout_s=None, tailoring=None):
    d = os.path.join(tmp, name)
    os.makedirs(d, exist_ok=True)
    cfg = {"partner": {"id": "acme", "name": "Acme"}, "probes": {"cloud": {"accounts": accounts}}}
    if timeout_s:
        cfg["probes"]["cloud"]["timeout_s"] = timeout_s
    write(os.path.join(d, "partner.json"), json.dumps(cfg))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(env_extra or {})
    argv = [TENKEN, "scan", "-c", os.path.join(d, "partner.json"), "-o", os.path.join(d, "out"), "--lang", "en", "-v"]
    if tailoring:
        write(os.path.join(d, "tailoring.json"), json.dumps(tailoring))
        argv += ["--tailoring", os.path.join(d, "tailoring.json")]
    r = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=90)
    rep = None
    path = os.path.join(d, "out", "report.json")
    raw = ""
    if os.path.exists(path):
        with open(path) as f:
            raw = f.read()
        rep = json.loads(raw)
    return r, rep, raw + r.stdout + r.stderr


def findings(rep, target=None):
    return {f["rule"]: f for f in (rep or {}).get("findings", []) if target is None or f["target"] == target}


def obs(rep, kind, target=None):
    for o in (rep or {}).get("observations", []):
        if o["kind"] == kind and (target is None or o["target"] == target):
            return o
    return {}


def no_secrets(name, text):
    leaked = [s for s in SECRETS if s in text]
    check(not leaked, name + ": no secret in report or logs", leaked)


def main():
    tmp = tempfile.mkdtemp(prefix="tenken-cloud-")
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = srv.server_address[1]
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    ep = "http://127.0.0.1:%d" % port
    try:
        os.makedirs(os.path.join(tmp, "aws"))
        credfile = os.path.join(tmp, "aws", "credentials")
        write(credfile, "[default]\naws_access_key_id = AKIAWRONGWRONGWRONG0\naws_secret_access_key = nope\n\n"
                        "# the bank's audit user\n[audit]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
                        % (BASE_AK, BASE_SK), 0o600)
        root_mfa_off = cred_report("false", "true", iso(10),
                                   [("alice", "true", "false"), ("bob", "TRUE", "TRUE"), ("ci-bot", "false", "false")])
        env_creds = {"AWS_ACCESS_KEY_ID": BASE_AK, "AWS_SECRET_ACCESS_KEY": BASE_SK}

        # 1. AssumeRole with external id, INI profile, report polled until COMPLETE, root without MFA.
        FAKE.reset({"mfa": False, "keys_present": True, "report": root_mfa_off, "report_polls": 2,
                    "require_session": True})
        acct = {"provider": "aws", "name": "prod", "endpoint": ep, "region": "ap-northeast-1",
                "credentials_file": credfile, "profile": "audit", "role_arn": ROLE_ARN, "external_id": EXTERNAL_ID}
        r, rep, text = scan(tmp, "nomfa", [acct])
        f = findings(rep)
        check(r.returncode == 0, "root no MFA: scan completes", text[-1500:])
        check(FAKE.count("AssumeRole") == 1, "root no MFA: AssumeRole called once", FAKE.calls)
        check(not FAKE.errors, "root no MFA: signatures all verified", FAKE.errors)
        check(FAKE.generate_calls == 3, "root no MFA: report polled until COMPLETE", FAKE.generate_calls)
        check(f.get("CLOUD-ROOT-NO-MFA", {}).get("status") == "fail", "root no MFA: CLOUD-ROOT-NO-MFA fails", f)
        check(f.get("CLOUD-ROOT-ACCESS-KEYS", {}).get("status") == "fail",
              "root keys: CLOUD-ROOT-ACCESS-KEYS fails")
        check(f.get("CLOUD-ROOT-RECENT-USE", {}).get("status") == "warn",
              "root used 10 days ago: CLOUD-ROOT-RECENT-USE warns")
        check(f.get("CLOUD-ROOT-NO-LOGIN-ALERT", {}).get("status") == "warn"
              and FAKE.count("events@us-east-1") == 1,
              "no EventBridge rule for root: CLOUD-ROOT-NO-LOGIN-ALERT warns, asked in us-east-1", (f.get("CLOUD-ROOT-NO-LOGIN-ALERT"), FAKE.calls))
        o = obs(rep, "cloud_root")
        check(o.get("root_mfa_enabled") is False and o.get("root_mfa_type") == "none"
              and o.get("root_last_used_days") == 10 and o.get("evidence_source") == "api"
              and o.get("target") == "aws:prod", "root no MFA: observation facts", o)
        u = obs(rep, "cloud_users")
        check(u.get("console_users_without_mfa_names") == ["alice"] and u.get("console_users") == 2,
              "console users without MFA: alice only (bob TRUE, ci-bot has no password)", u)
        check(f.get("CLOUD-CONSOLE-USER-NO-MFA", {}).get("status") == "fail", "CLOUD-CONSOLE-USER-NO-MFA fails")
        items = {i["no"]: i["status"] for i in rep["items"]} if rep else {}
        check(items.get(22) == "fail" and items.get(11) == "fail"
              and items.get(21) == "fail", "FISC items 22, 11, 21 fail", items)
        check(o.get("access_key", "").startswith("sha256:"), "key fingerprint shown, not the key", o)
        no_secrets("root no MFA", text)

        # 2. Env credentials, throttling then success, virtual MFA on page 2 of ListVirtualMFADevices.
        root_pat = {"detail-type": ["AWS Console Sign In via CloudTrail", "AWS API Call via CloudTrail"],
                    "detail": {"userIdentity": {"type": ["Root"]}}}
        FAKE.reset({"mfa": True, "throttle": 2,
                    "report": cred_report("true", "false", "no_information", [("bob", "true", "true")]),
                    "vmfa_pages": [["alice"], ["root"]],
                    "event_rules": [[("old-root-alert", "DISABLED", root_pat),
                                     ("s3-alerts", "ENABLED", {"source": ["aws.s3"]})],
                                    [("root-login-to-ceo", "ENABLED", root_pat)]]})
        r, rep, text = scan(tmp, "virtual", [{"provider": "aws", "endpoint": ep}], env_creds)
        f = findings(rep)
        o = obs(rep, "cloud_root")
        check(r.returncode == 0 and FAKE.throttled == 2
              and FAKE.count("GetAccountSummary") == 3, "throttled twice then success", (FAKE.calls, text[-800:]))
        check(o.get("root_mfa_type") == "virtual"
              and FAKE.count("ListVirtualMFADevices") == 2, "virtual MFA found on the second page (Marker)", o)
        check(f.get("CLOUD-ROOT-VIRTUAL-MFA", {}).get("status") == "warn"
              and f.get("CLOUD-ROOT-NO-MFA", {}).get("status") == "pass",
              "virtual MFA: CLOUD-ROOT-VIRTUAL-MFA warns, NO-MFA passes", f)
        check("CLOUD-ROOT-RECENT-USE" not in f
              and f.get("CLOUD-ROOT-ACCESS-KEYS", {}).get("status") == "pass", "root never used: no recent-use finding, keys pass", f)
        check(o.get("target") == "aws:env", "target for environment credentials", o.get("target"))
        check(o.get("root_login_alert") is True and o.get("root_login_alert_rules") == ["root-login-to-ceo"]
              and f.get("CLOUD-ROOT-NO-LOGIN-ALERT", {}).get("status") == "pass",
              "root alert rule found on the second ListRules page (disabled one ignored)", o)
        no_secrets("virtual", text)

        # 2d. A bank's tailoring: virtual MFA fails, a 5-day window for root use.
        FAKE.reset({"mfa": True, "report": cred_report("true", "false", iso(10), []), "vmfa_pages": [["root"]]})
        r, rep, text = scan(tmp, "tailored", [{"provider": "aws", "endpoint": ep}], env_creds,
                            tailoring={"name": "bank", "rules": {
                                "CLOUD-ROOT-VIRTUAL-MFA": {"effect": "fail", "severity": "medium"},
                                "CLOUD-ROOT-RECENT-USE": {"params": {"window_days": 5}}}})
        f = findings(rep)
        check(f.get("CLOUD-ROOT-VIRTUAL-MFA", {}).get("status") == "fail"
              and f.get("CLOUD-ROOT-RECENT-USE", {}).get("status") == "pass",
              "tailoring: virtual MFA fails, 10-day-old root use passes a 5-day window", (f.keys(), r.stderr[-500:]))

        # 2a. Session credentials from the environment (AWS_SESSION_TOKEN is sent and signed).
        FAKE.reset({"mfa": False, "report": root_mfa_off, "require_session": True, "events_403": True})
        sess_env = {"AWS_ACCESS_KEY_ID": SESS_AK, "AWS_SECRET_ACCESS_KEY": SESS_SK, "AWS_SESSION_TOKEN": SESS_TOKEN}
        r, rep, text = scan(tmp, "session", [{"provider": "aws", "endpoint": ep}], sess_env)
        check(obs(rep, "cloud_root").get("root_mfa_enabled") is False
              and not FAKE.errors, "session token from the environment", (FAKE.errors, text[-600:]))
        o = obs(rep, "cloud_root")
        fa = findings(rep).get("CLOUD-ROOT-NO-LOGIN-ALERT", {})
        it = {i["no"]: i for i in rep["items"]}
        check("AccessDeniedException" in o.get("root_login_alert_error", "") and "root_login_alert" not in o
              and fa.get("status") == "error" and "events ListRules" in fa.get("evidence", {}).get("message", "")
              and "AccessDeniedException" in fa.get("evidence", {}).get("message", "")
              and rep["complete"] is False and it[24]["status"] == "incomplete",
              "events:ListRules denied: the rule is an error naming the call and code, the scan incomplete", (fa, it.get(24)))
        no_secrets("session", text)

        # 2c. Throttled beyond max_retries: an error naming Throttling.
        FAKE.reset({"mfa": True, "throttle": 10})
        r, rep, text = scan(tmp, "throttled", [{"provider": "aws", "endpoint": ep, "max_retries": 1}], env_creds)
        e = obs(rep, "error")
        check("Throttling" in e.get("message", "")
              and FAKE.count("GetAccountSummary") == 2, "throttling beyond max_retries: error names Throttling", (e, FAKE.calls))

        # 2b. Through an HTTP proxy (the fake answers absolute-form requests; the name is never resolved).
        FAKE.reset({"mfa": False, "report": root_mfa_off})
        r, rep, text = scan(tmp, "proxy", [{"provider": "aws", "name": "via-proxy", "endpoint": "http://iam.proxied.test",
                                            "proxy": ep}], env_creds)
        check(r.returncode == 0 and FAKE.proxied > 0
              and not FAKE.errors and obs(rep, "cloud_root").get("root_mfa_enabled") is False, "proxy: requests reach the API through the proxy",
              (FAKE.proxied, FAKE.errors, text[-600:]))

        # 3. Hardware MFA (no virtual device for root), not_supported root cells in mixed case.
        FAKE.reset({"mfa": True, "report": cred_report("TRUE", "FALSE", "N/A", []).replace("not_supported",
                                                                                             "NOT_SUPPORTED"),
                    "vmfa_pages": [["alice", "bob"]]})
        r, rep, text = scan(tmp, "hardware", [{"provider": "aws", "endpoint": ep, "alert_region": "ap-northeast-1"}],
                            env_creds)
        check(FAKE.count("events@ap-northeast-1") == 1, "alert_region: ListRules signed for ap-northeast-1",
              FAKE.calls)
        o = obs(rep, "cloud_root")
        f = findings(rep)
        check(o.get("root_mfa_type") == "hardware" and o.get("root_password_enabled") == "not_supported"
              and f.get("CLOUD-ROOT-VIRTUAL-MFA", {}).get("status") == "pass", "hardware MFA", o)
        check(f.get("CLOUD-CONSOLE-USER-NO-MFA", {}).get("status") == "pass",
              "no console users: CLOUD-CONSOLE-USER-NO-MFA passes", f)

        # 4. A 403 AccessDenied is an error finding naming the code; the items stay incomplete.
        FAKE.reset({"mfa": True, "summary_403": True})
        r, rep, text = scan(tmp, "denied", [{"provider": "aws", "endpoint": ep}], env_creds)
        f = findings(rep)
        e = obs(rep, "error")
        items = {i["no"]: i["status"] for i in rep["items"]} if rep else {}
        check(items.get(22) == "incomplete" and items.get(21) == "incomplete", "403: items 22 and 21 incomplete",
              items)
        check("AccessDenied" in e.get("message", "")
              and "GetAccountSummary" in e.get("message", "") and e.get("error") == "auth", "403: error names AccessDenied and the action", e)
        check(f.get("CLOUD-ROOT-NO-MFA", {}).get("status") == "error", "403: rules report error", f)

        # 4b. A stalled endpoint: the probe deadline (timeout_s) ends the call; the scan still finishes.
        FAKE.reset({"mfa": True, "stall": 20})
        t0 = time.monotonic()
        r, rep, text = scan(tmp, "stall", [{"provider": "aws", "endpoint": ep}], env_creds, timeout_s=2)
        e = obs(rep, "error")
        check(time.monotonic() - t0 < 10
              and e.get("error") == "timeout", "stalled endpoint: timeout error within the deadline", (time.monotonic() - t0, e, text[-600:]))
        it = {i["no"]: i for i in rep["items"]}
        check(r.returncode == 3
              and all(it[n]["status"] == "incomplete" for n in (22, 21, 11, 24)), "stalled endpoint: items 22, 21, 11, 24 incomplete (not manual), exit 3", (r.returncode, it.get(22)))

        # 4b'. Endpoint down (nothing listens): a net error, the items incomplete, exit 3.
        import socket
        sk = socket.socket()
        sk.bind(("127.0.0.1", 0))
        dead = "http://127.0.0.1:%d" % sk.getsockname()[1]
        sk.close()
        r, rep, text = scan(tmp, "down", [{"provider": "aws", "endpoint": dead, "max_retries": 1}], env_creds)
        e = obs(rep, "error")
        it = {i["no"]: i for i in rep["items"]}
        check(e.get("error") == "net"
              and it[22]["status"] == "incomplete" and r.returncode == 3, "endpoint down: net error, item 22 incomplete, exit 3", (e, it.get(22), r.returncode))

        # 4c. An oversized body is cut off at the bound.
        FAKE.reset({"mfa": True, "huge": True})
        r, rep, text = scan(tmp, "huge", [{"provider": "aws", "endpoint": ep}], env_creds)
        e = obs(rep, "error")
        check(e.get("error") == "limit" and "larger than" in e.get("message", ""), "oversized body: limit error", e)

        # 5. A malformed body.
        FAKE.reset({"mfa": True, "malformed": True})
        r, rep, text = scan(tmp, "malformed", [{"provider": "aws", "endpoint": ep}], env_creds)
        e = obs(rep, "error")
        check(e.get("error") == "protocol"
              and "malformed" in e.get("message", "") and "byte" in e.get("message", ""), "malformed XML: protocol error with offset", e)

        # 6. Wrong external id: AssumeRole refused.
        FAKE.reset({"mfa": True, "external_id": "something-else", "require_session": True})
        r, rep, text = scan(tmp, "extid", [acct])
        e = obs(rep, "error")
        check(e.get("error") == "auth"
              and "AssumeRole" in e.get("message", "") and FAKE.count("GetAccountSummary") == 0, "AssumeRole refused: auth error naming AssumeRole", e)
        no_secrets("extid", text)

        # 7. A group-readable credentials file is refused at configure time.
        loose = os.path.join(tmp, "aws", "loose")
        write(loose, "[audit]\naws_access_key_id = %s\naws_secret_access_key = %s\n" % (BASE_AK, BASE_SK), 0o640)
        r, rep, text = scan(tmp, "loose", [dict(acct, credentials_file=loose)])
        check(r.returncode == 2 and "chmod 600" in r.stderr
              and "accounts[0].credentials_file" in r.stderr, "group-readable credentials refused (exit 2)", r.stderr)
        no_secrets("loose", text)

        # 7b. Config errors name the file and the JSON path.
        r, rep, text = scan(tmp, "typo", [{"provider": "aws", "endpoit": ep}], env_creds)
        check(r.returncode == 2 and "probes.cloud.accounts[0].endpoit" in r.stderr, "unknown key named by path",
              r.stderr)
        r, rep, text = scan(tmp, "gcp", [{"provider": "gcp"}])
        check(r.returncode == 2 and "accounts[0].provider" in r.stderr, "unknown provider named by path", r.stderr)
        r, rep, text = scan(tmp, "noexport", [{"provider": "aws", "credential_report": "missing.csv"}])
        check(r.returncode == 2
              and "accounts[0].credential_report: cannot read missing.csv" in r.stderr, "missing export named by path", r.stderr)
        r, rep, text = scan(tmp, "nosecret", [{"provider": "azure", "tenant": "t", "client_id": "c",
                                               "secret_env": "TENKEN_NO_SUCH_VAR"}])
        check(r.returncode == 2 and "TENKEN_NO_SUCH_VAR" in r.stderr, "azure: missing secret variable named",
              r.stderr)

        # 7b. Fail closed (the fake stands in where moto cannot: root MFA on; see test_cloud_moto.py).
        # ListVirtualMFADevices denied: the device type is unknown -> CLOUD-ROOT-VIRTUAL-MFA is an error,
        # even when a bank tailors it to fail (it must never pass on unknown), item 22 incomplete.
        FAKE.reset({"mfa": True, "report": cred_report("true", "false", iso(200), []), "vmfa_403": True,
                    "event_rules": [[{"Name": "r", "State": "ENABLED", "EventPattern": json.dumps(
                        {"detail": {"userIdentity": {"type": ["Root"]}}})}]]})
        r, rep, text = scan(tmp, "vmfa-denied", [{"provider": "aws", "endpoint": ep}], env_creds,
                            tailoring={"rules": {"CLOUD-ROOT-VIRTUAL-MFA": {"effect": "fail"}}})
        f = findings(rep)
        it = {i["no"]: i for i in rep["items"]}
        vm = f.get("CLOUD-ROOT-VIRTUAL-MFA", {})
        check(vm.get("status") == "error"
              and "ListVirtualMFADevices" in vm.get("evidence", {}).get("message", "")
              and "AccessDenied" in vm.get("evidence", {}).get("message", "")
              and it[22]["status"] == "incomplete" and r.returncode == 3, "fail closed: ListVirtualMFADevices denied -> CLOUD-ROOT-VIRTUAL-MFA error naming the call and code,"
              " item 22 incomplete, exit 3", (vm, it.get(22), r.returncode))
        # Throttled beyond the retries on ListRules: an error naming Throttling, item 24 incomplete.
        FAKE.reset({"mfa": False, "report": cred_report("false", "false", iso(200), []), "events_throttle": True})
        r, rep, text = scan(tmp, "events-throttled", [{"provider": "aws", "endpoint": ep, "max_retries": 1}], env_creds)
        la = findings(rep).get("CLOUD-ROOT-NO-LOGIN-ALERT", {})
        check(la.get("status") == "error" and "ThrottlingException" in la.get("evidence", {}).get("message", "")
              and r.returncode == 3,
              "fail closed: ListRules throttled out -> CLOUD-ROOT-NO-LOGIN-ALERT error naming the code, exit 3", (la, r.returncode))
        # A stale report (GeneratedTime 30 hours ago; default maximum 24 hours) -> incomplete, exit 3;
        # tailored to 48 hours -> judged.
        FAKE.reset({"mfa": True, "report": cred_report("true", "false", iso(200), [("carol", "true", "true")]),
                    "report_age_s": 30 * 3600, "vmfa_pages": [[]],
                    "event_rules": [[{"Name": "r", "State": "ENABLED", "EventPattern": json.dumps(
                        {"detail": {"userIdentity": {"type": ["Root"]}}})}]]})
        r, rep, text = scan(tmp, "stale", [{"provider": "aws", "endpoint": ep}], env_creds)
        st = findings(rep).get("CLOUD-CREDENTIAL-REPORT-STALE", {})
        it = {i["no"]: i for i in rep["items"]}
        check(st.get("status") == "error" and it[22]["status"] == "incomplete"
              and r.returncode == 3 and st.get("evidence", {}).get("credential_report_age_hours") == 30, "fail closed: 30-hour-old credential report -> CLOUD-CREDENTIAL-REPORT-STALE error, item 22 "
              "incomplete, exit 3",
              (st, it.get(22), r.returncode))
        r, rep, text = scan(tmp, "stale-tailored", [{"provider": "aws", "endpoint": ep}], env_creds,
                            tailoring={"rules": {"CLOUD-CREDENTIAL-REPORT-STALE": {"params": {"max_age_hours": 48}}}})
        it = {i["no"]: i for i in rep["items"]}
        check(findings(rep).get("CLOUD-CREDENTIAL-REPORT-STALE", {}).get("status") == "pass"
              and it[22]["status"] == "pass" and r.returncode == 0,
              "stale tailored to 48 hours: judged, item 22 passes, exit 0", (it.get(22), r.returncode, text[-400:]))
        # Credential hygiene: an access key rotated in 2021 and never used, a console password set in 2021 and
        # never used -> CLOUD-CREDENTIALS-UNUSED fails, CLOUD-ACCESS-KEY-OLD warns; no password policy fails.
        old_rows = cred_report("true", "false", iso(200), []) + \
            "dave,arn:aws:iam::123456789012:user/dave,2021-01-01T00:00:00+00:00,true,no_information," \
            "2021-01-02T00:00:00+00:00,N/A,true,true,2021-01-03T00:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A," \
            "false,N/A,false,N/A\n"
        FAKE.reset({"mfa": True, "report": old_rows, "vmfa_pages": [[]], "no_pw_policy": True})
        r, rep, text = scan(tmp, "hygiene", [{"provider": "aws", "endpoint": ep}], env_creds)
        f = findings(rep)
        u = obs(rep, "cloud_users")
        check(f.get("CLOUD-CREDENTIALS-UNUSED", {}).get("status") == "fail"
              and any(x.startswith("dave key 1:") for x in u.get("unused_active_access_keys", []))
              and any(x.startswith("dave:") for x in u.get("unused_console_passwords", [])),
              "hygiene: unused password and key -> CLOUD-CREDENTIALS-UNUSED fails naming them", u)
        check(f.get("CLOUD-ACCESS-KEY-OLD", {}).get("status") == "warn" and u.get("oldest_active_access_key_days", 0) > 1000,
              "hygiene: key rotated 2021 -> CLOUD-ACCESS-KEY-OLD warns", u)
        check(f.get("CLOUD-PASSWORD-POLICY-WEAK", {}).get("status") == "fail",
              "hygiene: no password policy (NoSuchEntity) -> CLOUD-PASSWORD-POLICY-WEAK fails", f.get("CLOUD-PASSWORD-POLICY-WEAK"))
        r, rep, text = scan(tmp, "hygiene-tailored", [{"provider": "aws", "endpoint": ep}], env_creds,
                            tailoring={"rules": {"CLOUD-CREDENTIALS-UNUSED": {"params": {"unused_days": 100000}}}})
        check(findings(rep).get("CLOUD-CREDENTIALS-UNUSED", {}).get("status") == "pass",
              "hygiene: tailored unused_days -> passes")

        # A truncated GetCredentialReport answer: the users rule is an error, never a pass.
        FAKE.reset({"mfa": False, "report": cred_report("false", "false", iso(200), []), "report_truncated": True})
        r, rep, text = scan(tmp, "truncated", [{"provider": "aws", "endpoint": ep}], env_creds)
        cu = findings(rep).get("CLOUD-CONSOLE-USER-NO-MFA", {})
        check(cu.get("status") == "error" and "GetCredentialReport" in cu.get("evidence", {}).get("message", "")
              and r.returncode == 3,
              "fail closed: truncated XML -> CLOUD-CONSOLE-USER-NO-MFA error (malformed), exit 3", cu)
        # A credential-report row with an unquoted comma (one more cell than the header).
        bad = cred_report("true", "false", iso(200), [("bob", "true", "true")]) + \
            "al,ice,arn:aws:iam::123456789012:user/al,ice,2021-01-01T00:00:00+00:00,true,N/A,N/A,N/A,false," \
            "false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"
        FAKE.reset({"mfa": True, "report": bad, "vmfa_pages": [[]]})
        r, rep, text = scan(tmp, "comma", [{"provider": "aws", "endpoint": ep}], env_creds)
        cu = findings(rep).get("CLOUD-CONSOLE-USER-NO-MFA", {})
        it = {i["no"]: i for i in rep["items"]}
        check(cu.get("status") == "error" and "cells where the header has" in cu.get("evidence", {}).get("message", "")
              and it[22]["status"] != "pass" and it[11]["status"] != "pass" and r.returncode == 3,
              "fail closed: unquoted comma -> CLOUD-CONSOLE-USER-NO-MFA error, items 22 and 11 not pass", (cu, it.get(22)))

        # 8. Offline credential report.
        write(os.path.join(tmp, "cr.csv"), root_mfa_off)
        r, rep, text = scan(tmp, "offline", [{"provider": "aws", "credential_report": os.path.join(tmp, "cr.csv")}])
        o = obs(rep, "cloud_root")
        f = findings(rep)
        check(o.get("evidence_source") == "partner_supplied"
              and len(o.get("evidence_sha256", "")) == 64 and o.get("root_mfa_enabled") is False, "offline: partner_supplied evidence with sha256", o)
        check(f.get("CLOUD-ROOT-NO-MFA", {}).get("status") == "fail", "offline: root without MFA fails")
        # Offline with root MFA on: the device type is unknown -> VIRTUAL-MFA error; a bare CSV has no
        # generation time -> STALE error; the JSON of `aws iam get-credential-report` carries it.
        mfa_on = cred_report("true", "false", iso(200), [("bob", "true", "true")])
        write(os.path.join(tmp, "cr-on.csv"), mfa_on)
        r, rep, text = scan(tmp, "offline-on", [{"provider": "aws", "credential_report": os.path.join(tmp, "cr-on.csv")}])
        f = findings(rep)
        check(f.get("CLOUD-ROOT-VIRTUAL-MFA", {}).get("status") == "error"
              and "offline evidence" in f["CLOUD-ROOT-VIRTUAL-MFA"]["evidence"].get("message", "")
              and f.get("CLOUD-CREDENTIAL-REPORT-STALE", {}).get("status") == "error" and r.returncode == 3, "offline: root MFA type unknown -> CLOUD-ROOT-VIRTUAL-MFA error (not pass); bare CSV age unknown -> "
              "STALE error; exit 3",
              ({k: v.get("status") for k, v in f.items()}, r.returncode))
        write(os.path.join(tmp, "cr-on.json"), json.dumps({
            "Content": base64.b64encode(mfa_on.encode()).decode(), "ReportFormat": "text/csv",
            "GeneratedTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 3600))}))
        r, rep, text = scan(tmp, "offline-json", [{"provider": "aws", "credential_report": os.path.join(tmp, "cr-on.json")}])
        f = findings(rep)
        check(f.get("CLOUD-CREDENTIAL-REPORT-STALE", {}).get("status") == "pass"
              and f.get("CLOUD-CONSOLE-USER-NO-MFA", {}).get("status") == "pass",
              "offline: aws CLI JSON with GeneratedTime -> STALE passes, users judged", {k: v.get("status") for k, v in f.items()})
        r, rep, text = scan(tmp, "offline-mixed", [{"provider": "aws", "credential_report": "cr.csv",
                                                     "role_arn": ROLE_ARN}])
        check(r.returncode == 2
              and "role_arn" in r.stderr, "offline export with API settings is a config error", r.stderr)

        # 9. Azure: token, members (2 pages, a service principal), registration details (2 pages).
        FAKE.reset({})
        az = {"provider": "azure", "tenant": "acme.onmicrosoft.com", "client_id": "11111111-2222-3333-4444-555555555555",
              "secret_env": "AZURE_SECRET", "graph_endpoint": ep, "login_endpoint": ep}
        r, rep, text = scan(tmp, "azure", [az], {"AZURE_SECRET": AZ_SECRET})
        o = obs(rep, "cloud_admins")
        f = findings(rep)
        check(o.get("admins") == 2
              and o.get("admins_without_mfa_names") == ["ceo@acme.test"] and o.get("non_user_members") == 1, "azure: two global admins over two pages, one without MFA", o)
        check(f.get("CLOUD-ADMIN-NO-MFA", {}).get("status") == "fail", "azure: CLOUD-ADMIN-NO-MFA fails", f)
        check(sum(1 for c in FAKE.calls if "userRegistrationDetails" in c) == 2, "azure: registration details paged",
              FAKE.calls)
        no_secrets("azure", text)
        r, rep, text = scan(tmp, "azure-bad", [az], {"AZURE_SECRET": "wrong"})
        e = obs(rep, "error")
        check(e.get("error") == "auth"
              and "invalid_client" in e.get("message", "") and "wrong" not in e.get("message", ""), "azure: bad secret is an auth error with the AADSTS code", e)
        FAKE.reset({"foreign_link": True})
        r, rep, text = scan(tmp, "azure-foreign", [az], {"AZURE_SECRET": AZ_SECRET})
        e = obs(rep, "error")
        check("not followed" in e.get("message", "")
              and not any("steal" in c for c in FAKE.calls), "azure: a nextLink to another origin is not followed", (e, FAKE.calls))
        graph_export = {"members": {"value": [{"@odata.type": "#microsoft.graph.user", "id": "a",
                                               "userPrincipalName": "ga@acme.test"}]},
                        "userRegistrationDetails": [{"id": "a", "isMfaRegistered": True}]}
        write(os.path.join(tmp, "graph.json"), json.dumps(graph_export))
        r, rep, text = scan(tmp, "azure-offline", [{"provider": "azure", "graph_export": os.path.join(tmp, "graph.json")}])
        o = obs(rep, "cloud_admins")
        check(o.get("evidence_source") == "partner_supplied"
              and findings(rep).get("CLOUD-ADMIN-NO-MFA", {}).get("status") == "pass", "azure offline: passes, partner_supplied", o)
        # A Global Administrator with no registration record: MFA unknown -> error, never pass.
        graph_export["members"]["value"].append({"@odata.type": "#microsoft.graph.user", "id": "b",
                                                 "userPrincipalName": "ga2@acme.test"})
        write(os.path.join(tmp, "graph2.json"), json.dumps(graph_export))
        r, rep, text = scan(tmp, "azure-unknown", [{"provider": "azure", "graph_export": os.path.join(tmp, "graph2.json")}])
        am = findings(rep).get("CLOUD-ADMIN-NO-MFA", {})
        check(am.get("status") == "error" and "no MFA registration record" in am.get("evidence", {}).get("message", "")
              and r.returncode == 3,
              "fail closed: an admin without a registration record -> CLOUD-ADMIN-NO-MFA error, exit 3", am)

        # 10. Google: RS256 JWT verified with openssl, Directory paged with nextPageToken.
        gdir = os.path.join(tmp, "google")
        os.makedirs(gdir)
        GOOGLE["dir"] = gdir
        GOOGLE["token_url"] = ep + "/google/token"
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out",
                        os.path.join(gdir, "key.pem")], check=True, capture_output=True)
        subprocess.run(["openssl", "pkey", "-in", os.path.join(gdir, "key.pem"), "-pubout", "-out",
                        os.path.join(gdir, "pub.pem")], check=True, capture_output=True)
        with open(os.path.join(gdir, "key.pem")) as kf:
            pem = kf.read()
        SECRETS.append(pem.splitlines()[1])
        sa = {"type": "service_account", "project_id": "acme-prod", "private_key_id": "0123abcd",
              "private_key": pem, "client_email": "tenken-audit@acme-prod.iam.gserviceaccount.com",
              "client_id": "1000", "token_uri": GOOGLE["token_url"]}
        write(os.path.join(gdir, "sa.json"), json.dumps(sa), 0o600)
        FAKE.reset({})
        gg = {"provider": "google", "service_account_file": os.path.join(gdir, "sa.json"), "subject": "admin@acme.test",
              "directory_endpoint": ep}
        r, rep, text = scan(tmp, "google", [gg])
        o = obs(rep, "cloud_admins")
        f = findings(rep)
        check(FAKE.count("google_token") == 1 and not FAKE.errors, "google: token granted for a valid RS256 JWT",
              FAKE.errors)
        check(o.get("admins") == 3
              and o.get("admins_without_mfa_names") == ["ops@acme.test"]
              and o.get("admins_2sv_not_enforced_names") == ["ops@acme.test", "it@acme.test"], "google: three super admins over two pages", o)
        check(f.get("CLOUD-ADMIN-NO-MFA", {}).get("status") == "fail"
              and f.get("CLOUD-ADMIN-2SV-NOT-ENFORCED", {}).get("status") == "warn", "google: fail and not-enforced warning", f)
        check(o.get("target") == "google:acme.test", "google: target is the domain", o.get("target"))
        no_secrets("google", text)
        os.chmod(os.path.join(gdir, "sa.json"), 0o644)
        r, rep, text = scan(tmp, "google-loose", [gg])
        check(r.returncode == 2 and "chmod 600" in r.stderr, "google: world-readable key file refused", r.stderr)
        write(os.path.join(tmp, "dir.json"), json.dumps([
            {"kind": "admin#directory#users", "users": [{"primaryEmail": "a@acme.test", "isAdmin": True,
                                                         "isEnrolledIn2Sv": True, "isEnforcedIn2Sv": True}]},
            {"kind": "admin#directory#users", "users": [{"primaryEmail": "b@acme.test", "isAdmin": False,
                                                         "isEnrolledIn2Sv": False}]}]))
        r, rep, text = scan(tmp, "google-offline", [{"provider": "google", "directory_export": os.path.join(tmp, "dir.json")}])
        o = obs(rep, "cloud_admins")
        check(o.get("admins") == 1
              and findings(rep).get("CLOUD-ADMIN-NO-MFA", {}).get("status") == "pass", "google offline: non-admins ignored, passes", o)

        # 11. Real clients read the fake IAM/STS endpoint.
        if not (os.path.exists(AWS_CLI) and os.path.exists(SYS_PY)):
            check(False, "awscli and python3-botocore installed", "apt-get install awscli python3-botocore")
            return
        cenv = {"PATH": "/usr/bin:/bin", "HOME": tmp, "AWS_ACCESS_KEY_ID": BASE_AK, "AWS_SECRET_ACCESS_KEY": BASE_SK,
                "AWS_CONFIG_FILE": os.path.join(tmp, "none"), "AWS_SHARED_CREDENTIALS_FILE": os.path.join(tmp, "none"),
                "AWS_EC2_METADATA_DISABLED": "true", "AWS_DEFAULT_REGION": "us-east-1", "AWS_PAGER": ""}
        FAKE.reset({"mfa": False, "keys_present": True, "report": root_mfa_off, "vmfa_pages": [["alice"], ["root"]],
                    "throttle": 1})

        def cli(*args):
            p = subprocess.run([AWS_CLI, *args, "--endpoint-url", ep, "--output", "json"], capture_output=True,
                               text=True, env=cenv, timeout=60)
            return p.returncode, p.stdout, p.stderr

        rc, out, err = cli("iam", "get-account-summary")
        check(rc == 0
              and json.loads(out or "{}").get("SummaryMap", {}).get("AccountMFAEnabled") == 0, "aws CLI: get-account-summary (after a Throttling retry)", out + err)
        rc, out, err = cli("iam", "list-virtual-mfa-devices")
        arns = [d["User"]["Arn"] for d in json.loads(out or "{}").get("VirtualMFADevices", [])]
        check(rc == 0 and arns == [
            "arn:aws:iam::123456789012:user/alice", "arn:aws:iam::123456789012:root"], "aws CLI: list-virtual-mfa-devices follows Marker", out + err)
        rc, out, err = cli("iam", "generate-credential-report")
        check(rc == 0 and json.loads(out or "{}").get("State") == "COMPLETE", "aws CLI: generate-credential-report",
              out + err)
        FAKE.sc["event_rules"] = [[("a", "ENABLED", {"source": ["aws.s3"]})], [("b", "ENABLED", {"source": ["x"]})]]
        rc, out, err = cli("events", "list-rules")
        check(rc == 0
              and [x["Name"] for x in json.loads(out or "{}").get("Rules", [])] == ["a", "b"], "aws CLI: events list-rules (JSON protocol, NextToken)", out + err)
        rc, out, err = cli("sts", "assume-role", "--role-arn", ROLE_ARN, "--role-session-name", "cli",
                           "--external-id", EXTERNAL_ID)
        check(rc == 0
              and json.loads(out or "{}").get("Credentials", {}).get("AccessKeyId") == SESS_AK, "aws CLI: sts assume-role", out + err)
        script = r'''
import json, sys, botocore.session
from botocore.exceptions import ClientError
s = botocore.session.get_session()
iam = s.create_client("iam", endpoint_url=sys.argv[1], region_name="us-east-1")
out = {}
rep = iam.get_credential_report()
out["report_root"] = rep["Content"].decode().splitlines()[1].split(",")[0]
out["format"] = rep["ReportFormat"]
out["summary_mfa"] = iam.get_account_summary()["SummaryMap"]["AccountMFAEnabled"]
pages = list(iam.get_paginator("list_virtual_mfa_devices").paginate())
out["pages"] = len(pages)
try:
    iam.list_users()
except ClientError as e:
    out["error_code"] = e.response["Error"]["Code"]
    out["error_msg"] = e.response["Error"]["Message"]
print(json.dumps(out))
'''
        p = subprocess.run([SYS_PY, "-c", script, ep], capture_output=True, text=True, env=cenv, timeout=60)
        try:
            b = json.loads(p.stdout)
        except ValueError:
            b = {}
        check(b.get("report_root") == "<root_account>"
              and b.get("format") == "text/csv", "botocore: credential report decoded", p.stdout + p.stderr)
        check(b.get("summary_mfa") == 0 and b.get("pages") == 2, "botocore: summary, paginator over Marker", b)
        check(b.get("error_code") == "InvalidAction"
              and "ListUsers" in b.get("error_msg", ""), "botocore: reads the fake's error body", b)
        check(not FAKE.errors, "fake endpoint verified the real clients' signatures", FAKE.errors)
    finally:
        srv.shutdown()
        srv.server_close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except Exception as exc:  # a crash is a failure, reported
        import traceback
        traceback.print_exc()
        check(False, "the test itself raised (traceback above)")
    finish()
