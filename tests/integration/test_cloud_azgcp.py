#!/usr/bin/env python3
"""Probe "cloud": Azure posture (Activity Log export, Defender for Cloud plans)
and Google posture (Data Access audit logs) against a FAKE Azure Resource
Manager, Microsoft identity platform, Graph, Google token endpoint, Directory
and Cloud Resource Manager on 127.0.0.1.

Why a fake: there is no emulator for Azure Resource Manager or Google Cloud
Resource Manager on this machine (moto covers AWS only). The fake answers with
the documented response shapes, copied from the providers' published examples:

  Subscription Diagnostic Settings - List (2021-05-01-preview):
    https://learn.microsoft.com/en-us/rest/api/monitor/subscription-diagnostic-settings/list?tabs=HTTP
    (Azure/azure-rest-api-specs specification/monitor/resource-manager/Microsoft.Insights/preview/
     2021-05-01-preview/examples/listSubscriptionDiagnosticSettings.json)
  Pricings - List (2024-01-01):
    https://learn.microsoft.com/en-us/rest/api/defenderforcloud/pricings/list
    (Azure/azure-rest-api-specs specification/security/resource-manager/Microsoft.Security/stable/
     2024-01-01/examples/Pricings/ListPricings_example.json)
  ARM error body {"error": {"code": "AuthorizationFailed", "message": ...}}:
    https://learn.microsoft.com/en-us/azure/azure-resource-manager/troubleshooting/error-codes
  Policy with auditConfigs (google.iam.v1.AuditConfig example policy):
    https://cloud.google.com/billing/reference/rpc/google.iam.v1  (AuditConfig), REST names
    per https://cloud.google.com/resource-manager/reference/rest/v1/projects/getIamPolicy
  Google error body {"error": {"code": 403, "message", "status": "PERMISSION_DENIED"}}:
    https://cloud.google.com/apis/design/errors

The fake checks what it can of the client: the client-credentials form and the
scope of each token (Graph vs ARM), the RS256 JWT signature (openssl), that the
posture JWT has the cloud-platform.read-only scope and no "sub", the bearer
token per API, the api-version of each ARM call and the getIamPolicy body.
"""
import base64
import copy
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from tkharness import check, finish  # noqa: E402

TENKEN = os.environ.get("TENKEN_BIN", "./tenken")
AZ_SECRET = "azgcp~client~secret~value~0042"
AZ_CLIENT = "22222222-3333-4444-5555-666666666666"
GRAPH_TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.FAKE-AZGCP-GRAPH-TOKEN"
ARM_TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.FAKE-AZGCP-ARM-TOKEN"
DIR_TOKEN = "ya29.FAKE-AZGCP-DIRECTORY-TOKEN-0001"
CRM_TOKEN = "ya29.FAKE-AZGCP-CRM-TOKEN-0002"
SECRETS = [AZ_SECRET, GRAPH_TOKEN, ARM_TOKEN, DIR_TOKEN, CRM_TOKEN]
SUB_A = "fb9f25f9-5785-4510-a38f-a62f188eb9f8"
SUB_B = "20ff7fc3-e762-44dd-bd96-b71116dcdc23"
SA_EMAIL = "tenken-audit@acme-prod.iam.gserviceaccount.com"
DIR_SCOPE = "https://www.googleapis.com/auth/admin.directory.user.readonly"
CRM_SCOPE = "https://www.googleapis.com/auth/cloud-platform.read-only"

# ---- documented examples (see the module docstring for the sources) ----
DIAG_EXAMPLE = {"value": [{
    "id": "subscriptions/fb9f25f9-5785-4510-a38f-a62f188eb9f8/providers/AzureResourceManager/diagnosticSettings/ds4",
    "type": None, "name": "ds4",
    "properties": {
        "storageAccountId": "/subscriptions/fb9f25f9-5785-4510-a38f-a62f188eb9f8/resourceGroups/apptest/providers/"
                            "Microsoft.Storage/storageAccounts/appteststorage1",
        "workspaceId": "/subscriptions/fb9f25f9-5785-4510-a38f-a62f188eb9f8/resourceGroups/apptest/providers/"
                       "Microsoft.OperationalInsights/workspaces/test1",
        "eventHubAuthorizationRuleId": "/subscriptions/fb9f25f9-5785-4510-a38f-a62f188eb9f8/resourceGroups/apptest/"
                                       "providers/microsoft.eventhub/namespaces/mynamespace/eventhubs/myeventhub/"
                                       "authorizationrules/myrule",
        "logs": [{"categoryGroup": "allLogs", "enabled": True}]}}]}


def pricing(name, tier, **extra):
    props = {"pricingTier": tier, "freeTrialRemainingTime": "PT0S", "enforce": "False",
             "resourcesCoverageStatus": "FullyCovered" if tier == "Standard" else "NotCovered"}
    if tier == "Standard":
        props["enablementTime"] = "2023-03-01T12:42:42.1921106Z"
    props.update(extra)
    return {"id": "/subscriptions/20ff7fc3-e762-44dd-bd96-b71116dcdc23/providers/Microsoft.Security/pricings/" + name,
            "name": name, "type": "Microsoft.Security/pricings", "properties": props}


# ListPricings_example.json: AppServices, OpenSourceRelationalDatabases and the deprecated KubernetesService and
# ContainerRegistry on Free, the rest Standard.
PRICINGS_EXAMPLE = {"value": [
    pricing("VirtualMachines", "Standard", subPlan="P2"), pricing("SqlServers", "Standard"),
    pricing("AppServices", "Free"), pricing("StorageAccounts", "Standard", subPlan="DefenderForStorageV2"),
    pricing("SqlServerVirtualMachines", "Standard"),
    pricing("KubernetesService", "Free", deprecated=True, replacedBy=["Containers"]),
    pricing("ContainerRegistry", "Free", deprecated=True, replacedBy=["Containers"]),
    pricing("KeyVaults", "Standard"), pricing("Dns", "Standard"), pricing("Arm", "Standard"),
    pricing("OpenSourceRelationalDatabases", "Free"), pricing("Containers", "Standard"),
    pricing("CloudPosture", "Standard")]}

# google.iam.v1 AuditConfig example policy (JSON names as the REST API sends them)
POLICY_EXAMPLE = {"version": 1, "etag": "BwWWja0YfJA=",
                  "bindings": [{"role": "roles/owner", "members": ["user:mike@example.com"]}],
                  "auditConfigs": [
                      {"service": "allServices",
                       "auditLogConfigs": [{"logType": "DATA_READ", "exemptedMembers": ["user:jose@example.com"]},
                                           {"logType": "DATA_WRITE"}, {"logType": "ADMIN_READ"}]},
                      {"service": "sampleservice.googleapis.com",
                       "auditLogConfigs": [{"logType": "DATA_READ"},
                                           {"logType": "DATA_WRITE",
                                            "exemptedMembers": ["user:aliya@example.com"]}]}]}

ARM_DENIED = {"error": {"code": "AuthorizationFailed",
                        "message": "The client '00000000-0000-0000-0000-000000000000' with object id "
                                   "'00000000-0000-0000-0000-000000000000' does not have authorization to perform "
                                   "action 'Microsoft.Insights/diagnosticSettings/read' over scope "
                                   "'/subscriptions/%s' or the scope is invalid." % SUB_A}}
ARM_THROTTLED = {"error": {"code": "TooManyRequests", "message": "Too many requests. Retry after some time."}}
GG_DENIED = {"error": {"code": 403, "message": "The caller does not have permission", "status": "PERMISSION_DENIED"}}
GG_THROTTLED = {"error": {"code": 429, "message": "Quota exceeded", "status": "RESOURCE_EXHAUSTED"}}


class Fake:
    def __init__(self):
        self.sc = {}
        self.calls = []
        self.errors = []
        self.lock = threading.Lock()

    def reset(self, sc):
        with self.lock:
            self.sc = sc
            self.calls = []
            self.errors = []

    def log(self, what):
        with self.lock:
            self.calls.append(what)


FAKE = Fake()
GOOGLE = {}


def b64url_dec(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def verify_jwt(form):
    """The JWT bearer grant: RS256 signature verified with openssl; returns (scope, sub) or an error string."""
    if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
        return "bad grant_type"
    parts = form.get("assertion", "").split(".")
    if len(parts) != 3:
        return "not a JWT"
    header, claims = json.loads(b64url_dec(parts[0])), json.loads(b64url_dec(parts[1]))
    if header.get("alg") != "RS256" or claims.get("iss") != SA_EMAIL or claims.get("aud") != GOOGLE["token_url"] \
            or not (0 < claims["exp"] - claims["iat"] <= 3600):
        return "claims " + json.dumps(claims)
    d = GOOGLE["dir"]
    name = "%d-%d" % (threading.get_ident(), time.monotonic_ns())
    with open(os.path.join(d, name + ".in"), "wb") as f:
        f.write((parts[0] + "." + parts[1]).encode())
    with open(os.path.join(d, name + ".sig"), "wb") as f:
        f.write(b64url_dec(parts[2]))
    r = subprocess.run(["openssl", "dgst", "-sha256", "-verify", os.path.join(d, "pub.pem"), "-signature",
                        os.path.join(d, name + ".sig"), os.path.join(d, name + ".in")], capture_output=True)
    if r.returncode != 0:
        return "signature does not verify"
    return (claims.get("scope"), claims.get("sub"))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def handle(self):
        try:
            super().handle()
        except ConnectionError:
            pass

    def send(self, status, body, ctype="application/json", extra=None):
        data = body if isinstance(body, bytes) else (body if isinstance(body, str) else json.dumps(body)).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        try:
            self.wfile.write(data)
        except (ConnectionError, BrokenPipeError):
            pass

    def body(self):
        n = int(self.headers.get("Content-Length", "0") or 0)
        return self.rfile.read(n) if n else b""

    def base(self):
        return "http://127.0.0.1:%d" % self.server.server_address[1]

    def do_POST(self):
        body = self.body()
        path = urllib.parse.urlsplit(self.path).path
        if path.endswith("/oauth2/v2.0/token"):
            return self.azure_token(body)
        if path == "/google/token":
            return self.google_token(body)
        if path.startswith("/v1/projects/") and path.endswith(":getIamPolicy"):
            return self.get_iam_policy(path[len("/v1/projects/"):-len(":getIamPolicy")], body)
        return self.send(404, {"error": {"code": "NotFound", "message": "no such route " + path}})

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        if u.path.startswith("/graph/v1.0/"):
            return self.graph(u)
        if u.path.startswith("/arm/subscriptions/"):
            return self.arm(u)
        if u.path == "/admin/directory/v1/users":
            return self.directory()
        return self.send(404, {"error": {"code": "NotFound", "message": "no such route " + u.path}})

    # ---- Microsoft identity platform: one token per scope ----
    def azure_token(self, body):
        form = dict(urllib.parse.parse_qsl(body.decode()))
        scope = form.get("scope", "")
        FAKE.log("azure_token " + scope)
        if form.get("grant_type") != "client_credentials" or form.get("client_secret") != AZ_SECRET \
                or form.get("client_id") != AZ_CLIENT:
            return self.send(401, {"error": "invalid_client",
                                   "error_description": "AADSTS7000215: Invalid client secret provided."})
        if scope == self.base() + "/graph/.default":
            return self.send(200, {"token_type": "Bearer", "expires_in": 3599, "access_token": GRAPH_TOKEN})
        if scope == self.base() + "/arm/.default":
            if FAKE.sc.get("arm_token") == "refused":
                return self.send(400, {"error": "invalid_scope",
                                       "error_description": "AADSTS70011: The provided value for scope is not "
                                                            "valid."})
            return self.send(200, {"token_type": "Bearer", "expires_in": 3599, "access_token": ARM_TOKEN})
        FAKE.errors.append("unexpected scope " + scope)
        return self.send(400, {"error": "invalid_scope", "error_description": "AADSTS70011: bad scope " + scope})

    def graph(self, u):
        if self.headers.get("Authorization") != "Bearer " + GRAPH_TOKEN:
            FAKE.errors.append("graph without the Graph token")
            return self.send(401, {"error": {"code": "InvalidAuthenticationToken", "message": "bad token"}})
        if "/members" in u.path:
            return self.send(200, {"value": [{"@odata.type": "#microsoft.graph.user", "id": "u-1",
                                              "userPrincipalName": "admin@acme.test"}]})
        return self.send(200, {"value": [{"id": "u-1", "userPrincipalName": "admin@acme.test", "isMfaCapable": True,
                                          "isMfaRegistered": True, "methodsRegistered": ["fido2"]}]})

    # ---- Azure Resource Manager ----
    def arm(self, u):
        q = dict(urllib.parse.parse_qsl(u.query))
        parts = u.path.split("/")  # '', 'arm', 'subscriptions', ID, 'providers', NS, TYPE
        sub, what = parts[3], "/".join(parts[5:7])
        FAKE.log("arm %s %s %s" % (sub, what, q.get("$skipToken", "")))
        if self.headers.get("Authorization") != "Bearer " + ARM_TOKEN:
            FAKE.errors.append("ARM call without the ARM token")
            return self.send(401, {"error": {"code": "InvalidAuthenticationToken",
                                             "message": "The access token is invalid."}})
        want = {"Microsoft.Insights/diagnosticSettings": "2021-05-01-preview",
                "Microsoft.Security/pricings": "2024-01-01"}.get(what)
        if not want or q.get("api-version") != want:
            FAKE.errors.append("bad ARM call %s api-version %s" % (what, q.get("api-version")))
            return self.send(400, {"error": {"code": "InvalidApiVersionParameter", "message": "bad api-version"}})
        mode = FAKE.sc.get((sub, what), FAKE.sc.get(sub, "good"))
        if mode == "denied":
            return self.send(403, ARM_DENIED)
        if mode == "throttled":
            return self.send(429, ARM_THROTTLED, extra={"Retry-After": "0"})
        if mode == "garbage":
            return self.send(200, "<html><body>Service Unavailable</body></html>", "text/html")
        if mode == "stall":
            time.sleep(4)
            return self.send(200, {"value": []})
        if what == "Microsoft.Insights/diagnosticSettings":
            if mode == "good":  # the documented example, behind a page with a nextLink
                if not q.get("$skipToken"):
                    return self.send(200, {"value": [], "nextLink": self.base() + u.path + "?api-version=" + want
                                           + "&$skipToken=p2"})
                return self.send(200, DIAG_EXAMPLE)
            if mode == "bad":  # a destination, but only the Policy category: Administrative and Security not exported
                d = copy.deepcopy(DIAG_EXAMPLE)
                d["value"][0]["properties"]["logs"] = [{"category": "Administrative", "enabled": False},
                                                       {"category": "Security", "enabled": False},
                                                       {"category": "Policy", "enabled": True}]
                return self.send(200, d)
            if mode == "none":
                return self.send(200, {"value": []})
        else:
            if mode == "good":
                d = copy.deepcopy(PRICINGS_EXAMPLE)
                for p in d["value"]:
                    if p["name"] == "AppServices":
                        p["properties"]["pricingTier"] = "Standard"
                return self.send(200, d)
            return self.send(200, PRICINGS_EXAMPLE)  # "bad": the documented example, AppServices on Free
        return self.send(200, {"value": []})

    # ---- Google ----
    def google_token(self, body):
        form = dict(urllib.parse.parse_qsl(body.decode()))
        got = verify_jwt(form)
        if isinstance(got, str):
            FAKE.errors.append(got)
            return self.send(400, {"error": "invalid_grant", "error_description": got})
        scope, sub = got
        FAKE.log("google_token %s %s" % (scope, sub))
        if scope == DIR_SCOPE and sub == "admin@acme.test":
            return self.send(200, {"access_token": DIR_TOKEN, "expires_in": 3599, "token_type": "Bearer"})
        if scope == CRM_SCOPE and sub is None:
            return self.send(200, {"access_token": CRM_TOKEN, "expires_in": 3599, "token_type": "Bearer"})
        FAKE.errors.append("unexpected token request scope=%s sub=%s" % (scope, sub))
        return self.send(400, {"error": "invalid_scope", "error_description": "bad scope/sub"})

    def directory(self):
        if self.headers.get("Authorization") != "Bearer " + DIR_TOKEN:
            return self.send(401, {"error": {"code": 401, "message": "Invalid Credentials",
                                             "status": "UNAUTHENTICATED"}})
        return self.send(200, {"kind": "admin#directory#users",
                               "users": [{"kind": "admin#directory#user", "id": "1", "primaryEmail": "root@acme.test",
                                          "isAdmin": True, "isEnrolledIn2Sv": True, "isEnforcedIn2Sv": True}]})

    def get_iam_policy(self, project, body):
        FAKE.log("getIamPolicy " + project)
        if self.headers.get("Authorization") != "Bearer " + CRM_TOKEN:
            FAKE.errors.append("getIamPolicy without the cloud-platform token")
            return self.send(401, {"error": {"code": 401, "message": "Invalid Credentials",
                                             "status": "UNAUTHENTICATED"}})
        try:
            req = json.loads(body or b"{}")
        except ValueError:
            req = None
        if not isinstance(req, dict) or req.get("options", {}).get("requestedPolicyVersion") != 3:
            FAKE.errors.append("getIamPolicy body " + repr(body))
        mode = FAKE.sc.get(project, "good")
        if mode == "denied":
            return self.send(403, GG_DENIED)
        if mode == "throttled":
            return self.send(429, GG_THROTTLED, extra={"Retry-After": "0"})
        if mode == "garbage":
            return self.send(200, '{"version": 1, "auditConfigs": {"service": "allServices"}}')
        if mode == "stall":
            time.sleep(4)
            return self.send(200, {"version": 1})
        if mode == "example":  # the documented example: all three types, jose exempted from DATA_READ
            return self.send(200, POLICY_EXAMPLE)
        if mode == "bad":  # no auditConfigs at all: Data Access logs off (the default)
            return self.send(200, {"version": 1, "etag": "BwWWja0YfJA=", "bindings": POLICY_EXAMPLE["bindings"]})
        if mode == "partial":  # ADMIN_READ only
            return self.send(200, {"version": 1, "etag": "BwWWja0YfJA=", "auditConfigs": [
                {"service": "allServices", "auditLogConfigs": [{"logType": "ADMIN_READ"}]}]})
        p = copy.deepcopy(POLICY_EXAMPLE)
        p["auditConfigs"][0]["auditLogConfigs"][0].pop("exemptedMembers")
        return self.send(200, p)


# ---- running tenken ----
def write(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def scan(tmp, name, accounts, checklist=None):
    d = os.path.join(tmp, name)
    os.makedirs(d, exist_ok=True)
    cfg = {"partner": {"id": "acme", "name": "Acme"}, "probes": {"cloud": {"accounts": accounts}}}
    write(os.path.join(d, "partner.json"), json.dumps(cfg))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AZGCP_SECRET"] = AZ_SECRET
    argv = [TENKEN, "scan", "-c", os.path.join(d, "partner.json"), "-o", os.path.join(d, "out"), "--lang", "en", "-v"]
    if checklist:
        argv += ["--checklist", checklist]
    r = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120)
    rep, raw = None, ""
    path = os.path.join(d, "out", "report.json")
    if os.path.exists(path):
        with open(path) as f:
            raw = f.read()
        rep = json.loads(raw)
    return r, rep, raw + r.stdout + r.stderr


def findings(rep):
    return {f["rule"]: f for f in (rep or {}).get("findings", [])}


def obs(rep, kind):
    for o in (rep or {}).get("observations", []):
        if o["kind"] == kind:
            return o
    return {}


def items(rep):
    return {i["no"]: i for i in (rep or {}).get("items", [])}


def st(rep, rule):
    return findings(rep).get(rule, {}).get("status")


def no_secrets(name, text):
    leaked = [s for s in SECRETS if s in text]
    check(not leaked, name + ": no secret or token in the report or logs", leaked)


def azure_tests(tmp, ep):
    az = {"provider": "azure", "tenant": "acme.onmicrosoft.com", "client_id": AZ_CLIENT, "secret_env": "AZGCP_SECRET",
          "login_endpoint": ep, "graph_endpoint": ep + "/graph", "arm_endpoint": ep + "/arm",
          "subscriptions": [SUB_A, SUB_B]}

    # good: both subscriptions export (documented example, after a nextLink page) and run the key plans on Standard
    FAKE.reset({})
    r, rep, text = scan(tmp, "az-good", [az])
    o, it = obs(rep, "cloud_posture_azure"), items(rep)
    check(o.get("activity_log_exported") is True and o.get("provider") == "azure"
          and o.get("subscriptions") == [SUB_A, SUB_B], "azure good: activity_log_exported true over two subscriptions",
          o)
    check(st(rep, "AZURE-ACTIVITY-LOG-NOT-EXPORTED") == "pass" and st(rep, "AZURE-DEFENDER-PLANS-FREE") == "pass",
          "azure good: both Azure rules pass", findings(rep))
    check(it.get(23, {}).get("status") == "pass" and it.get(35, {}).get("status") == "pass"
          and it.get(20, {}).get("status") == "manual" and it.get(20, {}).get("reason_code") == "partial_evidence",
          "azure good: FISC items 23, 35 pass; 20 (Defender covers it in part) manual with the evidence",
          {k: it.get(k, {}).get("status") for k in (20, 23, 35)})
    check(sum(1 for c in FAKE.calls if "diagnosticSettings" in c and c.endswith("p2")) == 2,
          "azure good: diagnosticSettings followed its nextLink in each subscription", FAKE.calls)
    check(any(c.startswith("azure_token") and c.endswith("/arm/.default") for c in FAKE.calls)
          and any(c.startswith("azure_token") and c.endswith("/graph/.default") for c in FAKE.calls)
          and not FAKE.errors, "azure good: one token for Graph, one for ARM (ARM_ENDPOINT/.default), the right bearer "
          "on each call", (FAKE.calls, FAKE.errors))
    check(not any(f.get("rule", "").startswith("CLOUD-TRAIL") or f.get("rule") == "CLOUD-GUARDDUTY-OFF"
                  for f in rep.get("findings", [])), "azure: the AWS cloud_posture rules do not judge Azure evidence",
          [f["rule"] for f in rep.get("findings", [])])
    no_secrets("azure good", text)
    r, rep, text = scan(tmp, "az-good-card", [az], "cashless-card-2019")
    it = items(rep)
    check(all(it.get(k, {}).get("status") == "pass" for k in (22, 34)) and it.get(19, {}).get("status") == "manual",
          "azure good: card items 22, 34 pass, 19 manual (judged in part)",
          {k: it.get(k, {}).get("status") for k in (19, 22, 34)})

    # bad: SUB_B exports Policy only; its pricings are the documented example (AppServices on Free)
    FAKE.reset({SUB_B: "bad"})
    r, rep, text = scan(tmp, "az-bad", [az])
    o, it = obs(rep, "cloud_posture_azure"), items(rep)
    check(o.get("activity_log_exported") is False and o.get("subscriptions_without_activity_log_export") == [SUB_B],
          "azure bad: the subscription without Administrative/Security export is named", o)
    check(st(rep, "AZURE-ACTIVITY-LOG-NOT-EXPORTED") == "fail" and it.get(23, {}).get("status") == "fail"
          and it.get(35, {}).get("status") == "fail", "azure bad: AZURE-ACTIVITY-LOG-NOT-EXPORTED fails items 23, 35",
          findings(rep).get("AZURE-ACTIVITY-LOG-NOT-EXPORTED"))
    check(st(rep, "AZURE-DEFENDER-PLANS-FREE") == "warn" and SUB_B + ": AppServices" in o.get("defender_free_plans", [])
          and SUB_B + ": OpenSourceRelationalDatabases" in o.get("defender_free_plans", []),
          "azure bad: AppServices on Free -> AZURE-DEFENDER-PLANS-FREE warns, Free plans listed", o.get(
              "defender_free_plans"))
    check(r.returncode == 0, "azure bad: the scan completed (exit 0: a failing control is data, not an error)",
          r.returncode)
    FAKE.reset({SUB_A: "none"})
    r, rep, text = scan(tmp, "az-none", [az])
    check(st(rep, "AZURE-ACTIVITY-LOG-NOT-EXPORTED") == "fail",
          "azure: a subscription with no diagnostic setting at all fails", obs(rep, "cloud_posture_azure"))

    # fail closed: 403, 429 (past the retries), garbage, timeout -> error findings, items incomplete, never pass
    for mode, why in (("denied", "AuthorizationFailed"), ("throttled", "TooManyRequests"),
                      ("garbage", "value"), ("stall", "")):
        FAKE.reset({SUB_A: mode})
        acct = dict(az, request_timeout_s=1) if mode == "stall" else az
        r, rep, text = scan(tmp, "az-" + mode, [acct])
        o, it, f = obs(rep, "cloud_posture_azure"), items(rep), findings(rep)
        un = o.get("unobserved", {})
        check("activity_log_exported" in un and "defender_plans" in un and why in un.get("activity_log_exported", "")
              and SUB_A in un.get("activity_log_exported", ""),
              "azure %s: both fields unobserved, the reason names the call and subscription" % mode, un)
        check(f.get("AZURE-ACTIVITY-LOG-NOT-EXPORTED", {}).get("status") == "error"
              and f.get("AZURE-DEFENDER-PLANS-FREE", {}).get("status") == "error"
              and all(it.get(k, {}).get("status") == "incomplete" for k in (20, 23, 35)) and r.returncode == 3,
              "azure %s: rules error, items 20/23/35 incomplete, exit 3" % mode,
              ({k: it.get(k, {}).get("status") for k in (20, 23, 35)}, r.returncode))
        if mode == "throttled":
            check(sum(1 for c in FAKE.calls if c.startswith("arm " + SUB_A)) >= 3,
                  "azure throttled: 429 retried before giving up", FAKE.calls)

    # a subscription known not to export fails even when the other one cannot be read
    FAKE.reset({SUB_A: "denied", SUB_B: "bad"})
    r, rep, text = scan(tmp, "az-mixed", [az])
    check(st(rep, "AZURE-ACTIVITY-LOG-NOT-EXPORTED") == "fail"
          and st(rep, "AZURE-DEFENDER-PLANS-FREE") == "error",
          "azure mixed: known non-export fails; Defender with one subscription unread is an error",
          (findings(rep).get("AZURE-ACTIVITY-LOG-NOT-EXPORTED"), obs(rep, "cloud_posture_azure")))

    # ARM token refused (the app may read Graph, not ARM): posture unobserved, the admins still judged
    FAKE.reset({"arm_token": "refused"})
    r, rep, text = scan(tmp, "az-armtoken", [az])
    o = obs(rep, "cloud_posture_azure")
    check("AADSTS70011" in o.get("posture_error", "") and "activity_log_exported" in o.get("unobserved", {})
          and st(rep, "AZURE-ACTIVITY-LOG-NOT-EXPORTED") == "error" and st(rep, "CLOUD-ADMIN-NO-MFA") == "pass",
          "azure: ARM token refused -> posture rules error, admin MFA still judged", (o, findings(rep)))
    no_secrets("azure arm token refused", text)

    # config: subscription ids validated, no posture without subscriptions
    r, rep, text = scan(tmp, "az-badsub", [dict(az, subscriptions=[SUB_A, "not-a-guid"])])
    check(r.returncode == 2 and "subscriptions[1]" in r.stderr and "GUID" in r.stderr,
          "azure config: a subscription id that is not a GUID is refused, its path named", r.stderr[-400:])
    r, rep, text = scan(tmp, "az-dupsub", [dict(az, subscriptions=[SUB_A, SUB_A.upper()])])
    check(r.returncode == 2 and "twice" in r.stderr, "azure config: a subscription listed twice is refused",
          r.stderr[-400:])
    r, rep, text = scan(tmp, "az-badarm", [dict(az, arm_endpoint="ftp://x")])
    check(r.returncode == 2 and "arm_endpoint" in r.stderr, "azure config: arm_endpoint must be http(s)",
          r.stderr[-400:])
    FAKE.reset({})
    r, rep, text = scan(tmp, "az-nosubs", [{k: v for k, v in az.items() if k != "subscriptions"}])
    check(not obs(rep, "cloud_posture_azure") and not any(c.startswith("arm") for c in FAKE.calls)
          and items(rep).get(23, {}).get("status") == "manual",
          "azure: no subscriptions -> no posture observation, no ARM call, item 23 left to the partner (manual)",
          items(rep).get(23))


def google_tests(tmp, ep):
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
    sa = {"type": "service_account", "project_id": "acme-prod", "private_key_id": "0123abcd", "private_key": pem,
          "client_email": SA_EMAIL, "client_id": "1000", "token_uri": GOOGLE["token_url"]}
    write(os.path.join(gdir, "sa.json"), json.dumps(sa), 0o600)
    gg = {"provider": "google", "service_account_file": os.path.join(gdir, "sa.json"), "subject": "admin@acme.test",
          "directory_endpoint": ep, "resource_manager_endpoint": ep, "projects": ["acme-prod", "acme-data-01"]}

    FAKE.reset({})
    r, rep, text = scan(tmp, "gg-good", [gg])
    o, it = obs(rep, "cloud_posture_google"), items(rep)
    check(o.get("data_access_audit_logs") is True and o.get("audit_exempted_members") == 0
          and o.get("projects") == ["acme-prod", "acme-data-01"], "google good: Data Access logs on in both projects", o)
    check(st(rep, "GCP-DATA-ACCESS-AUDIT-OFF") == "pass" and st(rep, "GCP-AUDIT-EXEMPTED-MEMBERS") == "pass"
          and it.get(23, {}).get("status") == "pass" and it.get(35, {}).get("status") == "pass",
          "google good: rules pass, items 23 and 35 pass", findings(rep))
    check(any(c == "google_token %s None" % CRM_SCOPE for c in FAKE.calls)
          and any(c == "google_token %s admin@acme.test" % DIR_SCOPE for c in FAKE.calls) and not FAKE.errors,
          "google good: posture token is cloud-platform.read-only without sub (RS256 verified), Directory token "
          "acts as the subject", (FAKE.calls, FAKE.errors))
    check("organization-level" in o.get("security_command_center", ""),
          "google: Security Command Center said to be out of reach", o.get("security_command_center"))
    no_secrets("google good", text)

    FAKE.reset({"acme-data-01": "bad"})
    r, rep, text = scan(tmp, "gg-bad", [gg])
    o, it = obs(rep, "cloud_posture_google"), items(rep)
    check(st(rep, "GCP-DATA-ACCESS-AUDIT-OFF") == "fail" and it.get(23, {}).get("status") == "fail"
          and it.get(35, {}).get("status") == "fail" and r.returncode == 0
          and any(s.startswith("acme-data-01: not enabled for allServices: ADMIN_READ DATA_READ DATA_WRITE")
                  for s in o.get("projects_without_data_access_audit_logs", [])),
          "google bad: no auditConfigs -> GCP-DATA-ACCESS-AUDIT-OFF fails items 23, 35, the project named", o)
    FAKE.reset({"acme-prod": "partial"})
    r, rep, text = scan(tmp, "gg-partial", [gg])
    check(st(rep, "GCP-DATA-ACCESS-AUDIT-OFF") == "fail"
          and any("DATA_READ DATA_WRITE" in s for s in obs(rep, "cloud_posture_google").get(
              "projects_without_data_access_audit_logs", [])),
          "google: ADMIN_READ only -> fails naming DATA_READ DATA_WRITE", obs(rep, "cloud_posture_google"))
    FAKE.reset({"acme-prod": "example"})
    r, rep, text = scan(tmp, "gg-example", [gg])
    o = obs(rep, "cloud_posture_google")
    check(st(rep, "GCP-DATA-ACCESS-AUDIT-OFF") == "pass" and st(rep, "GCP-AUDIT-EXEMPTED-MEMBERS") == "warn"
          and o.get("audit_exempted_members_names") == ["acme-prod DATA_READ: user:jose@example.com"],
          "google: the documented example policy passes, jose's exemption warns (the service-specific one ignored)", o)
    r, rep, text = scan(tmp, "gg-example-card", [gg], "cashless-card-2019")
    check(items(rep).get(22, {}).get("status") == "pass" and items(rep).get(34, {}).get("status") == "pass",
          "google example: card items 22 and 34 pass", {k: items(rep).get(k) for k in (22, 34)})

    for mode, why in (("denied", "PERMISSION_DENIED"), ("throttled", "RESOURCE_EXHAUSTED"),
                      ("garbage", "auditConfigs"), ("stall", "")):
        FAKE.reset({"acme-prod": mode})
        acct = dict(gg, request_timeout_s=1) if mode == "stall" else gg
        r, rep, text = scan(tmp, "gg-" + mode, [acct])
        o, it, f = obs(rep, "cloud_posture_google"), items(rep), findings(rep)
        un = o.get("unobserved", {})
        check("data_access_audit_logs" in un and why in un.get("data_access_audit_logs", "")
              and "acme-prod" in un.get("data_access_audit_logs", ""),
              "google %s: data_access_audit_logs unobserved, the reason names the call and project" % mode, un)
        check(f.get("GCP-DATA-ACCESS-AUDIT-OFF", {}).get("status") == "error"
              and f.get("GCP-AUDIT-EXEMPTED-MEMBERS", {}).get("status") == "error"
              and it.get(23, {}).get("status") == "incomplete" and it.get(35, {}).get("status") == "incomplete"
              and r.returncode == 3, "google %s: rules error, items 23/35 incomplete, exit 3" % mode,
              ({k: it.get(k, {}).get("status") for k in (23, 35)}, r.returncode))
    FAKE.reset({"acme-prod": "denied", "acme-data-01": "bad"})
    r, rep, text = scan(tmp, "gg-mixed", [gg])
    check(st(rep, "GCP-DATA-ACCESS-AUDIT-OFF") == "fail",
          "google mixed: a project known not to log fails even when the other cannot be read",
          obs(rep, "cloud_posture_google"))

    r, rep, text = scan(tmp, "gg-badproj", [dict(gg, projects=["acme-prod", "Bad_Project"])])
    check(r.returncode == 2 and "projects[1]" in r.stderr, "google config: a malformed project id is refused, "
          "its path named", r.stderr[-400:])
    r, rep, text = scan(tmp, "gg-badcrm", [dict(gg, resource_manager_endpoint="file:///etc")])
    check(r.returncode == 2 and "resource_manager_endpoint" in r.stderr,
          "google config: resource_manager_endpoint must be http(s)", r.stderr[-400:])


def main():
    tmp = tempfile.mkdtemp(prefix="tenken-azgcp-")
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    ep = "http://127.0.0.1:%d" % srv.server_address[1]
    try:
        azure_tests(tmp, ep)
        google_tests(tmp, ep)
    finally:
        srv.shutdown()
        srv.server_close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except Exception:  # a crash is a failure, reported
        import traceback
        traceback.print_exc()
        check(False, "the test itself raised (traceback above)")
    finish()
