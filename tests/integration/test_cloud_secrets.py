#!/usr/bin/env python3
"""Issue 13: cloud endpoints that echo what they received must not put any
credential into report.json, report.html, logs or the signed history.

The echoing endpoints are a fake on purpose: no real provider (and no
emulator) echoes a client secret, a bearer token or a signed assertion back,
but a misconfigured gateway or a hostile partner can. Every planted secret and
every 8-byte piece of it is looked for in every file tenken wrote (the output
directory and the whole state directory) and in its stdout/stderr.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from tkharness import check, finish  # noqa: E402

TENKEN = os.environ.get("TENKEN_BIN", "./tenken")
AK = "AKIAECHOECHOECHO0001"
SK = "echoSecret/With+Chars=0123456789abcdefGH"
AZ_SECRET = "azure~echo~secret~Value~0042"
AZ_TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.eyJhdWQiOiJncmFwaCJ9.Qz7xKp2LmW9vRt4Yb8Nc3Hd6Jf"
GG_TOKEN = "ya29.a0Zq9XkW7pLm3Rt8Vb2Nc5Hd4Jf6Gs1Qw0Ey"
SEEN = {"assertion": None}



class Echo(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def send(self, status, body, ctype="application/json"):
        b = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)

    def echo_text(self, body):
        hdrs = "".join("%s: %s\n" % (k, v) for k, v in self.headers.items())
        return "you sent %s %s\n%s\n%s" % (self.command, self.path, hdrs, body)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0") or 0)).decode("latin-1")
        if self.path.endswith("/oauth2/v2.0/token"):
            form = dict(urllib.parse.parse_qsl(body))
            if self.path.startswith("/ok/"):
                return self.send(200, json.dumps({"access_token": AZ_TOKEN, "token_type": "Bearer"}))
            return self.send(400, json.dumps({"error": "invalid_client", "error_description":
                                              "AADSTS7000215: " + self.echo_text(body) + " secret was "
                                              + form.get("client_secret", "")}))
        if self.path.startswith("/google/token"):
            form = dict(urllib.parse.parse_qsl(body))
            SEEN["assertion"] = form.get("assertion")
            if self.path.startswith("/google/token-ok"):
                return self.send(200, json.dumps({"access_token": GG_TOKEN, "token_type": "Bearer"}))
            # the signed assertion, echoed after 200 bytes of padding (an old cut at 120/300 bytes would
            # have kept a piece of it)
            return self.send(400, json.dumps({"error": "invalid_grant", "error_description":
                                              "x" * 200 + " assertion " + form.get("assertion", "")}))
        # AWS: the Authorization header (with the access key id) and the body, past the old 120-byte cut
        if "xml" in self.headers.get("X-Amz-Target", "") or self.headers.get("X-Amz-Target"):
            return self.send(400, json.dumps({"__type": "AccessDeniedException", "message":
                                              "p" * 150 + self.echo_text(body)}), "application/x-amz-json-1.1")
        msg = ("q" * 150 + " " + self.echo_text(body) + " key " + AK).replace("&", "&amp;").replace("<", "&lt;")
        return self.send(403, '<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error>'
                         '<Type>Sender</Type><Code>AccessDenied</Code><Message>%s</Message></Error>'
                         '<RequestId>0f1e2d3c</RequestId></ErrorResponse>' % msg, "text/xml")

    def do_GET(self):
        msg = self.echo_text("")
        if self.path.startswith("/v1.0/"):
            return self.send(403, json.dumps({"error": {"code": "Authorization_RequestDenied", "message": msg}}))
        return self.send(403, json.dumps({"error": {"code": 403, "status": "PERMISSION_DENIED", "message": msg}}))


def pieces(secret):
    return {secret[i:i + 8] for i in range(0, max(1, len(secret) - 7))}


def grep_tree(root, secrets):
    hits = []
    for d, _, files in os.walk(root):
        for fn in files:
            p = os.path.join(d, fn)
            try:
                with open(p, "rb") as f:
                    data = f.read()
            except OSError:
                continue
            for s in secrets:
                for pc in pieces(s):
                    if pc.encode() in data:
                        at = data.index(pc.encode())
                        hits.append((p, s[:4] + "…", pc, data[max(0, at - 60):at + 20]))
                        break
    return hits


def main():
    tmp = tempfile.mkdtemp(prefix="tenken-cloudsec-")
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    ep = "http://127.0.0.1:%d" % srv.server_address[1]
    try:
        gdir = os.path.join(tmp, "g")
        os.makedirs(gdir)
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out",
                        os.path.join(gdir, "key.pem")], check=True, capture_output=True)
        with open(os.path.join(gdir, "key.pem")) as kf:
            pem = kf.read()
        sa = {"type": "service_account", "private_key_id": "ab12", "private_key": pem,
              "client_email": "audit@acme.iam.gserviceaccount.com", "token_uri": ep + "/google/token"}
        with open(os.path.join(gdir, "sa.json"), "w") as f:
            json.dump(sa, f)
        os.chmod(os.path.join(gdir, "sa.json"), 0o600)
        sa_ok = dict(sa, token_uri=ep + "/google/token-ok")
        with open(os.path.join(gdir, "sa-ok.json"), "w") as f:
            json.dump(sa_ok, f)
        os.chmod(os.path.join(gdir, "sa-ok.json"), 0o600)
        accounts = [
            {"provider": "aws", "name": "echo", "endpoint": ep, "max_retries": 0},
            {"provider": "azure", "name": "az-token", "tenant": "t1", "client_id": "c1", "secret_env": "AZ_SECRET",
             "login_endpoint": ep, "graph_endpoint": ep},
            {"provider": "azure", "name": "az-graph", "tenant": "t1", "client_id": "c1", "secret_env": "AZ_SECRET",
             "login_endpoint": ep + "/ok", "graph_endpoint": ep},
            {"provider": "google", "name": "gg-token", "service_account_file": os.path.join(gdir, "sa.json"),
             "subject": "admin@acme.test", "directory_endpoint": ep},
            {"provider": "google", "name": "gg-dir", "service_account_file": os.path.join(gdir, "sa-ok.json"),
             "subject": "admin@acme.test", "directory_endpoint": ep},
        ]
        cfg = {"partner": {"id": "acme", "name": "Acme"}, "probes": {"cloud": {"accounts": accounts}}}
        with open(os.path.join(tmp, "partner.json"), "w") as f:
            json.dump(cfg, f)
        state = os.path.join(tmp, "state")
        out = os.path.join(tmp, "out")
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({"AWS_ACCESS_KEY_ID": AK, "AWS_SECRET_ACCESS_KEY": SK, "AZ_SECRET": AZ_SECRET,
                    "TENKEN_STATE_DIR": state})
        r = subprocess.run([TENKEN, "scan", "-c", os.path.join(tmp, "partner.json"), "-o", out, "--state", state,
                            "--format", "json,html,sarif,csv", "-v"],
                           capture_output=True, text=True, env=env, timeout=120)
        if r.returncode == 2 and "--format" in r.stderr:
            r = subprocess.run([TENKEN, "scan", "-c", os.path.join(tmp, "partner.json"), "-o", out, "--state",
                                state, "-v"], capture_output=True, text=True, env=env, timeout=120)
        with open(os.path.join(out, "report.json")) as f:
            rep = json.load(f)
        errs = {o["target"]: o.get("message", "") for o in rep["observations"] if o["kind"] == "error"}
        check(len(errs) == 5, "every echoing account is an error (5 targets)", (errs, r.stderr[-800:]))
        check("AADSTS7000215" in errs.get("azure:az-token", "")
              and "invalid_grant" in errs.get("google:gg-token", "")
              and "Authorization_RequestDenied" in errs.get("azure:az-graph", "")
              and "PERMISSION_DENIED" in errs.get("google:gg-dir", "")
              and "403" in errs.get("aws:echo", ""), "the errors still say what went wrong", errs)
        check(all("[redacted sha256:" in m for m in errs.values()), "the errors say a credential was redacted", errs)
        check(bool(SEEN["assertion"]), "the google token endpoint received an assertion")
        secrets = [AK, SK, AZ_SECRET, urllib.parse.quote(AZ_SECRET, safe=""), AZ_TOKEN, GG_TOKEN,
                   SEEN["assertion"] or "", (SEEN["assertion"] or "..").split(".")[-1], pem.splitlines()[1]]
        secrets = [s for s in secrets if len(s) >= 8]
        files = []
        for d, _, fs in os.walk(tmp):
            if os.path.abspath(d).startswith(gdir):
                continue
            files += [os.path.join(d, x) for x in fs if x != "partner.json"]
        check(any(p.endswith("report.html") for p in files) and any(p.startswith(state) for p in files),
              "reports and the state directory were written", files)
        hits = grep_tree(out, secrets) + grep_tree(state, secrets)
        check(not hits,
              "no secret, nor any 8-byte piece of one, in any output or state file (%d files)" % len(files), hits[:10])
        text = r.stdout + r.stderr
        leaked = [s[:4] for s in secrets if any(pc in text for pc in pieces(s))]
        check(not leaked, "no secret piece on stdout/stderr", leaked)
    finally:
        srv.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


if __name__ == "__main__":
    sys.exit(main())
