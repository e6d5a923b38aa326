"""The web probe's security.txt check (RFC 9116) against real nginx over HTTPS: one nginx, one
server block per case on its own port of a random 127.x address, with a certificate from a CA made
here with the openssl CLI. Cases: a good file, an expired one, none (404 on both paths), only the
/security.txt fallback, an HTML page answered with 200, and a 503 (unobserved: incomplete, never
pass). Also a plain http:// URL whose host has no HTTPS (refused on 443): incomplete. Judged by
WEB-SECURITYTXT-MISSING on FISC item 9 and card item 8. Skipped when nginx is not installed."""
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone

from tkharness import Results, TestCA, free_port, read_json, run_tenken, write_json

R = Results()
RULE = "WEB-SECURITYTXT-MISSING"


def rfc3339(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def wait_port(a, p, proc, secs=15):
    end = time.time() + secs
    while time.time() < end and proc.poll() is None:
        try:
            socket.create_connection((a, p), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def site(d, name, files, extra=""):
    root = os.path.join(d, name)
    os.makedirs(os.path.join(root, ".well-known"))
    with open(os.path.join(root, "index.html"), "w") as f:
        f.write("<html>ok</html>\n")
    for rel, text in files.items():
        with open(os.path.join(root, rel), "w") as f:
            f.write(text)
    return root, extra


def start_nginx(d, a, cert, key, sites):
    servers, ports = "", {}
    for name, (root, extra) in sites.items():
        p = free_port(a)
        ports[name] = p
        servers += ("server { listen %s:%d ssl; ssl_certificate %s; ssl_certificate_key %s; root %s;\n"
                    "%s }\n" % (a, p, cert, key, root, extra))
    for dp, dn, fn in os.walk(d):
        os.chmod(dp, 0o755)
        for n in fn:
            os.chmod(os.path.join(dp, n), 0o644)
    conf = os.path.join(d, "nginx.conf")
    with open(conf, "w") as f:
        # no mime.types: nginx answers every file with its default_type, text/plain, as RFC 9116 asks
        f.write("daemon off; master_process off; pid %s/nginx.pid; error_log %s/error.log;\n"
                "events { worker_connections 64; }\n"
                "http { access_log off; client_body_temp_path %s/tmp; proxy_temp_path %s/tmp;\n"
                "fastcgi_temp_path %s/tmp; uwsgi_temp_path %s/tmp; scgi_temp_path %s/tmp;\n"
                "types { text/html html; } default_type text/plain;\n%s }\n" % ((d,) * 7 + (servers,)))
    proc = subprocess.Popen(["nginx", "-p", d, "-c", conf], cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for p in ports.values():
        if not wait_port(a, p, proc):
            err = proc.stderr.read(2000) if proc.poll() is not None else b""
            proc.kill()
            raise RuntimeError("nginx did not start: %s" % err.decode(errors="replace"))
    return proc, ports


def scan(tmp, name, urls, ca, checklist=None):
    cfg = {"partner": {"id": "sectxt-" + name, "name": name}, "scan": {"probe_timeout_s": 120},
           "probes": {"web": {"urls": urls, "timeout_s": 5, "ca_file": ca, "exposure_paths": False}}}
    path = write_json(os.path.join(tmp, name + ".json"), cfg)
    out = os.path.join(tmp, name + "-out")
    args = ["gate", "--config", path, "--out", out]
    if checklist:
        args += ["--checklist", checklist]
    rc, so, se = run_tenken(*args, timeout=200)
    return rc, read_json(os.path.join(out, "report.json"))


def finding(rep):
    return next((f for f in rep["findings"] if f["rule"] == RULE), None)


def sectxt_obs(rep):
    o = next((o for o in rep["observations"] if o["kind"] == "web"), None)
    return (o or {}).get("security_txt", {}), (o or {}).get("unobserved", {})


def item(rep, no):
    return next(i for i in rep["items"] if i["no"] == no)


def test_nginx(r, tmp):
    if not shutil.which("nginx") and not os.path.exists("/usr/sbin/nginx"):
        print("skip: nginx is not installed")
        sys.exit(77)
    a = "127.%d.%d.%d" % (random.randint(19, 250), random.randint(0, 250), random.randint(2, 250))
    ca = TestCA(tmp)
    cert, key = ca.issue(a)
    now = datetime.now(timezone.utc)
    good = "# security contact\r\nContact: mailto:security@acme.test\r\nExpires: %s\r\n" % rfc3339(now + timedelta(days=200))
    expired = "Contact: mailto:security@acme.test\nExpires: %s\n" % rfc3339(now - timedelta(days=3))
    d = tempfile.mkdtemp(dir=tmp)
    sites = {
        "good": site(d, "good", {".well-known/security.txt": good}),
        "expired": site(d, "expired", {".well-known/security.txt": expired}),
        "missing": site(d, "missing", {}),
        "fallback": site(d, "fallback", {"security.txt": good}),
        "html": site(d, "html", {"index.html": "<html>soft 404</html>\n"},
                     "location = /.well-known/security.txt { default_type text/html; try_files /index.html =404; }"),
        "unavailable": site(d, "unavailable", {}, "location = /.well-known/security.txt { return 503; }"),
    }
    proc, ports = start_nginx(d, a, cert, key, sites)
    try:
        url = lambda n: "https://%s:%d/" % (a, ports[n])
        rc, rep = scan(tmp, "good", [url("good")], ca.ca_file)
        st, un = sectxt_obs(rep)
        f = finding(rep)
        r.check(f and f["status"] == "pass", "good security.txt: %s passes" % RULE, f)
        r.check(st.get("present") is True and st.get("contact_count") == 1 and st.get("expired") is False
                and st.get("errors") == [] and st.get("url", "").endswith("/.well-known/security.txt"),
                "good: present, 1 contact, not expired, no errors, from /.well-known/", st)
        # the rule covers part of item 9 ("covers": "part"): the evidence is attached, the item is
        # never a pass on it alone — the partner still answers for the rest of the item
        r.check(item(rep, 9)["status"] == "manual" and item(rep, 9).get("reason_code") == "partial_evidence"
                and RULE in item(rep, 9)["findings"],
                "good: FISC item 9 stays manual with the security.txt evidence attached (never pass on it alone)",
                item(rep, 9))

        rc, rep = scan(tmp, "good-card", [url("good")], ca.ca_file, checklist="cashless-card-2019")
        r.check(item(rep, 8)["status"] == "manual" and item(rep, 8).get("reason_code") == "partial_evidence"
                and RULE in item(rep, 8)["rules"],
                "good: card item 8 is judged by the same rule", item(rep, 8))

        rc, rep = scan(tmp, "expired", [url("expired")], ca.ca_file)
        st, un = sectxt_obs(rep)
        f = finding(rep)
        r.check(f and f["status"] == "warn", "expired security.txt: %s warns" % RULE, f)
        r.check(st.get("present") is True and st.get("expired") is True and st.get("valid") is False
                and any(e["line"] == 2 and "past" in e["message"] for e in st.get("errors", [])),
                "expired: present, expired, the error names line 2", st)

        rc, rep = scan(tmp, "missing", [url("missing")], ca.ca_file)
        st, un = sectxt_obs(rep)
        f = finding(rep)
        r.check(f and f["status"] == "warn", "no security.txt (404 on both paths): %s warns (observed absent)" % RULE, f)
        r.check(st.get("present") is False and not un, "missing: present false, nothing unobserved", (st, un))

        rc, rep = scan(tmp, "fallback", [url("fallback")], ca.ca_file)
        st, un = sectxt_obs(rep)
        r.check(finding(rep)["status"] == "pass" and st.get("url", "").endswith("/security.txt")
                and "well-known" not in st.get("url", ""), "only /security.txt: the fallback is read and passes", st)

        rc, rep = scan(tmp, "html", [url("html")], ca.ca_file)
        st, un = sectxt_obs(rep)
        r.check(finding(rep)["status"] == "warn" and st.get("content_type_text_plain") is False,
                "an HTML page answered with 200 is not a security.txt (warn)", st)

        rc, rep = scan(tmp, "unavailable", [url("unavailable")], ca.ca_file)
        st, un = sectxt_obs(rep)
        f = finding(rep)
        r.check(f and f["status"] == "error" and "security_txt.valid" in un and "503" in un["security_txt.valid"],
                "503: unobserved, %s is an error, never pass" % RULE, (f, un))
        # the sites send no security headers, so other web rules fail: exit 1 wins over 3, never 0
        r.check(item(rep, 9)["status"] == "incomplete" and rc in (1, 3), "503: item 9 incomplete, gate not passed (rc %d)" % rc,
                item(rep, 9))

        # an http:// URL: security.txt is read over HTTPS from the same host on 443, where nothing listens
        plain = free_port(a)
        srv = subprocess.Popen([sys.executable, "-m", "http.server", "--bind", a, str(plain)], cwd=d,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_port(a, plain, srv)
            rc, rep = scan(tmp, "plain", ["http://%s:%d/" % (a, plain)], ca.ca_file)
            st, un = sectxt_obs(rep)
            f = finding(rep)
            r.check(f and f["status"] == "error" and ("https://%s/" % a) in st.get("fetch_error", ""),
                    "http:// target: fetched from https://HOST/ (443), refused: error, never pass", (f, st))
        finally:
            srv.kill()
            srv.wait()
    finally:
        proc.kill()
        proc.wait()


with tempfile.TemporaryDirectory() as tmp:
    os.chmod(tmp, 0o755)
    R.run(lambda r: test_nginx(r, tmp))
R.finish()
