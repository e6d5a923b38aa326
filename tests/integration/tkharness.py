"""Shared helpers for tenken's integration tests (python3 standard library only).

Servers started here listen on loopback addresses only.
"""
import http.server
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import traceback

TENKEN = os.environ.get("TENKEN_BIN", os.path.join(os.getcwd(), "tenken"))
SOURCE_DIR = os.environ.get("TENKEN_SOURCE_DIR", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


class Results:
    """The one harness of the integration tests: counts checks and prints the closing
    'N passed, M failed' line. One argument order everywhere: check(cond, what, detail=None)."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, cond, what, detail=None):
        if not isinstance(what, str):  # the old (what, cond) order would pass on any description
            raise TypeError("check(cond, what, detail): 'what' must be the description, got %r" % (what,))
        if cond:
            self.passed += 1
            print("ok   " + what)
        else:
            self.failed += 1
            print("FAIL " + what + (": " + str(detail)[:2000] if detail not in (None, "") else ""))
        return cond

    def run(self, fn):
        try:
            fn(self)
        except Exception:
            self.failed += 1
            print("FAIL %s raised:" % fn.__name__)
            traceback.print_exc()

    def finish(self):
        print("%d passed, %d failed" % (self.passed, self.failed))
        sys.exit(1 if self.failed or not self.passed else 0)


# A module-level harness for tests written as plain functions.
RESULTS = Results()


def check(cond, what, detail=None):
    return RESULTS.check(cond, what, detail)


def finish():
    RESULTS.finish()


def openssl(*args, cwd=None):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class TestCA:
    """A throwaway CA made with the openssl CLI in a temporary directory."""

    def __init__(self, workdir):
        self.dir = workdir
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "ca.key", "-out", "ca.pem", "-days", "30", "-subj", "/CN=tenken test CA", cwd=workdir)
        self.ca_file = os.path.join(workdir, "ca.pem")

    def issue(self, name, days=30):
        key, csr, crt, ext = name + ".key", name + ".csr", name + ".pem", name + ".ext"
        with open(os.path.join(self.dir, ext), "w") as f:
            san = ("IP:" if name.replace(".", "").isdigit() or ":" in name else "DNS:") + name
            f.write("subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n" % san)
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
                "-out", csr, "-subj", "/CN=" + name, cwd=self.dir)
        openssl("x509", "-req", "-in", csr, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", crt, "-days", str(days), "-extfile", ext, cwd=self.dir)
        return os.path.join(self.dir, crt), os.path.join(self.dir, key)


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        cfg = self.server.tk_cfg
        self.server.tk_hits += 1
        self.send_response(cfg.get("status", 200))
        for k, v in cfg.get("headers", []):
            self.send_header(k, v)
        body = b"ok\n"
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


class HTTPServer:
    """An HTTP or HTTPS server on a loopback address answering every GET the same way."""

    def __init__(self, addr="127.0.0.1", port=0, status=200, headers=(), cert=None):
        family = socket.AF_INET6 if ":" in addr else socket.AF_INET

        class S(http.server.ThreadingHTTPServer):
            address_family = family
            daemon_threads = True

        self.httpd = S((addr, port), _Handler)
        self.httpd.tk_cfg = {"status": status, "headers": list(headers)}
        self.httpd.tk_hits = 0
        if cert:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(cert[0], cert[1])
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def hits(self):
        return self.httpd.tk_hits

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def free_port(addr="127.0.0.1"):
    s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
    s.bind((addr, 0))
    p = s.getsockname()[1]
    s.close()
    return p


def run_tenken(*args, timeout=120, env=None):
    e = dict(os.environ)
    if env:
        e.update(env)
    p = subprocess.run([TENKEN] + list(args), capture_output=True, text=True, timeout=timeout, env=e)
    return p.returncode, p.stdout, p.stderr


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, ensure_ascii=False, indent=1)
    return path


def read_json(path):
    with open(path) as f:
        return json.load(f)


def tmpdir():
    return tempfile.mkdtemp(prefix="tenken-it-")


def rmtree(d):
    shutil.rmtree(d, ignore_errors=True)


def json_path(obj, path):
    """A dotted path into an observation (what the rules' "path" means); None when missing."""
    for part in path.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return None
        obj = obj[part]
    return obj


def expand_finding(rep, f):
    """A finding of tenken.report/2 read as a reviewer does: the rule's texts from the report's
    rules catalogue (title in ja, remediation, basis, severity, probe) and the evidence with the
    rule's evidence paths read from the finding's observation (report/3: from its entry
    observations[i].entries[f.entry] first, else the observation). A /1 finding is returned as is."""
    rule = rep.get("rules", {}).get(f.get("rule"))
    if rule is None:
        return f
    x = dict(f)
    x["title"] = rule["title"]["ja"]
    x["title_i18n"] = rule["title"]
    x["remediation"] = rule["remediation"]["ja"]
    x["remediation_i18n"] = rule["remediation"]
    for k in ("basis", "severity", "probe"):
        x[k] = rule.get(k)
    ev = dict(f.get("evidence", {}))
    oi = f.get("observation")
    if isinstance(oi, int) and oi < len(rep.get("observations", [])) and rep["observations"][oi].get("kind") != "error":
        o = rep["observations"][oi]
        ej = f.get("entry")
        e = o["entries"][ej] if isinstance(ej, int) and ej < len(o.get("entries") or []) else None
        for p in rule.get("evidence", []):
            if p not in ev:
                v = json_path(e, p) if e is not None else None
                ev[p] = v if v is not None else json_path(o, p)
    x["evidence"] = ev
    return x
