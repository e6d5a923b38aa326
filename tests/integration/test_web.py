"""The web probe against real web servers from Debian's packages (nginx, apache2, lighttpd),
each started here on loopback twice: configured badly and configured well. Every finding the bad
configuration should raise is checked, and that the good one raises none; then the ways evidence
goes missing (nothing listening, a server that stalls, a connection cut mid-check) are incomplete,
never pass. A server is skipped, with the reason printed, when its package is missing."""
import os
import random
import shutil
import socket
import subprocess
import tempfile
import threading
import time

from tkharness import Results, free_port, read_json, run_tenken, write_json

R = Results()


def addr():
    return "127.%d.%d.%d" % (random.randint(19, 250), random.randint(0, 250), random.randint(2, 250))


def wait_port(a, p, proc, secs=15):
    end = time.time() + secs
    while time.time() < end and proc.poll() is None:
        try:
            socket.create_connection((a, p), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def docroot(d, listing):
    root = os.path.join(d, "www")
    os.makedirs(os.path.join(root, ".git"))
    os.makedirs(os.path.join(root, "files"))
    with open(os.path.join(root, ".git", "HEAD"), "w") as f:
        f.write("ref: refs/heads/main\n")
    with open(os.path.join(root, "files", "a.txt"), "w") as f:
        f.write("a\n")
    if not listing:
        with open(os.path.join(root, "index.html"), "w") as f:
            f.write("<html><body>ok</body></html>\n")
    for dp, dn, fn in os.walk(d):
        os.chmod(dp, 0o755)
        for n in fn:
            os.chmod(os.path.join(dp, n), 0o644)
    os.chmod(d, 0o755)
    return root


class Server:
    def __init__(self, argv, a, p, cwd):
        self.addr, self.port = a, p
        self.proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if not wait_port(a, p, self.proc):
            err = self.proc.stderr.read(2000) if self.proc.poll() is not None else b""
            self.stop()
            raise RuntimeError("%s did not start: %s" % (argv[0], err.decode(errors="replace")))

    @property
    def url(self):
        return "http://%s:%d/app/" % (self.addr, self.port)

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def nginx(d, bad):
    a, p = addr(), None
    root = docroot(d, bad)
    os.makedirs(os.path.join(root, "app"))
    with open(os.path.join(root, "app", "index.html"), "w") as f:
        f.write("<html>app</html>\n")
    p = free_port(a)
    extra = ("server_tokens on; autoindex on;\n"
             "location = /nginx_status { stub_status; }\n"
             "add_header Access-Control-Allow-Origin $http_origin always;\n"
             "add_header Access-Control-Allow-Credentials true always;\n"
             "add_header Set-Cookie \"sid=s3cr3t-session; Path=/\" always;\n") if bad else (
             "server_tokens off;\n"
             "location ~ /\\. { return 404; }\n"
             "add_header X-Frame-Options DENY always; add_header X-Content-Type-Options nosniff always;\n"
             "add_header Referrer-Policy no-referrer always;\n"
             "add_header Set-Cookie \"sid=s3cr3t-session; Path=/; Secure; HttpOnly; SameSite=Lax\" always;\n")
    conf = os.path.join(d, "nginx.conf")
    with open(conf, "w") as f:
        f.write("daemon off; master_process off; pid %s/nginx.pid; error_log %s/error.log;\n"
                "events { worker_connections 64; }\n"
                "http { access_log off; client_body_temp_path %s/tmp; proxy_temp_path %s/tmp;\n"
                "fastcgi_temp_path %s/tmp; uwsgi_temp_path %s/tmp; scgi_temp_path %s/tmp;\n"
                "server { listen %s:%d; root %s;\n%s } }\n" % ((d,) * 7 + (a, p, root, extra)))
    return Server(["nginx", "-p", d, "-c", conf], a, p, d)


def apache(d, bad):
    a, p = addr(), None
    root = docroot(d, bad)
    os.makedirs(os.path.join(root, "app"))
    with open(os.path.join(root, "app", "index.html"), "w") as f:
        f.write("<html>app</html>\n")
    p = free_port(a)
    mods = "/usr/lib/apache2/modules"
    load = "".join("LoadModule %s_module %s/mod_%s.so\n" % (m, mods, m) for m in
                   ("mpm_event", "authz_core", "dir", "mime", "autoindex", "status", "info", "headers", "alias"))
    extra = ("ServerTokens Full\nServerSignature On\nTraceEnable on\n"
             "<Directory %s>\nOptions +Indexes\nRequire all granted\n</Directory>\n"
             "<Location /server-status>\nSetHandler server-status\n</Location>\n"
             "<Location /server-info>\nSetHandler server-info\n</Location>\n"
             "Header always set Set-Cookie \"sid=s3cr3t-session; Path=/; HttpOnly\"\n" % root) if bad else (
             "ServerTokens Prod\nServerSignature Off\nTraceEnable off\n"
             "<Directory %s>\nOptions -Indexes\nRequire all granted\n</Directory>\n"
             "<DirectoryMatch \"/\\.\">\nRequire all denied\n</DirectoryMatch>\n"
             "Header always set X-Frame-Options DENY\nHeader always set X-Content-Type-Options nosniff\n"
             "Header always set Referrer-Policy no-referrer\n"
             "Header always set Content-Security-Policy \"frame-ancestors 'none'\"\n" % root)
    conf = os.path.join(d, "apache2.conf")
    with open(conf, "w") as f:
        f.write("%sServerRoot %s\nListen %s:%d\nServerName tenken.test\nPidFile %s/apache2.pid\n"
                "ErrorLog %s/error.log\nMutex file:%s default\nUser www-data\nGroup www-data\n"
                "TypesConfig /etc/mime.types\nDocumentRoot %s\nDirectoryIndex index.html\n%s"
                % (load, d, a, p, d, d, d, root, extra))
    return Server(["apache2", "-f", conf, "-DFOREGROUND"], a, p, d)


def lighttpd(d, bad):
    a, p = addr(), None
    root = docroot(d, bad)
    os.makedirs(os.path.join(root, "app"))
    with open(os.path.join(root, "app", "index.html"), "w") as f:
        f.write("<html>app</html>\n")
    p = free_port(a)
    extra = ('server.modules += ("mod_status", "mod_dirlisting")\nstatus.status-url = "/server-status"\n'
             'dir-listing.activate = "enable"\n') if bad else (
             'server.tag = ""\nserver.modules += ("mod_setenv", "mod_access")\n'
             'url.access-deny = ("~", ".inc")\n$HTTP["url"] =~ "^/\\." { url.access-deny = ("") }\n'
             'setenv.add-response-header = ("X-Frame-Options" => "DENY", "X-Content-Type-Options" => "nosniff",'
             ' "Referrer-Policy" => "no-referrer")\n')
    conf = os.path.join(d, "lighttpd.conf")
    with open(conf, "w") as f:
        f.write('server.document-root = "%s"\nserver.bind = "%s"\nserver.port = %d\n'
                'server.pid-file = "%s/lighttpd.pid"\nserver.errorlog = "%s/error.log"\n'
                'index-file.names = ("index.html")\nmimetype.assign = (".html" => "text/html")\n%s'
                % (root, a, p, d, d, extra))
    return Server(["lighttpd", "-D", "-f", conf], a, p, d)


def scan(tmp, name, urls, timeout_s=5):
    # security.txt is fetched over HTTPS only; these servers are plain HTTP: test_web_securitytxt.py checks it
    cfg = {"partner": {"id": "web-" + name, "name": name}, "scan": {"probe_timeout_s": 120},
           "probes": {"web": {"urls": urls, "timeout_s": timeout_s, "security_txt": False}}}
    path = write_json(os.path.join(tmp, name + ".json"), cfg)
    out = os.path.join(tmp, name + "-out")
    rc, so, se = run_tenken("gate", "--config", path, "--out", out, timeout=200)
    rep = read_json(os.path.join(out, "report.json"))
    with open(os.path.join(out, "report.json")) as f:
        text = f.read()
    return rc, rep, text


def statuses(rep):
    return {f["rule"]: f["status"] for f in rep["findings"]}


EXPECT_BAD = {
    "nginx": {"WEB-FRAMING-UNPROTECTED": "fail", "WEB-COOKIE-FLAGS": "fail", "WEB-CORS-ANY-ORIGIN-CREDENTIALS": "fail",
              "WEB-CORS-NULL-ORIGIN": "fail", "WEB-EXPOSED-ADMIN-PATH": "fail", "WEB-DIRECTORY-LISTING": "fail",
              "WEB-VERSION-DISCLOSED": "warn", "WEB-NOSNIFF-MISSING": "fail"},
    "apache2": {"WEB-FRAMING-UNPROTECTED": "fail", "WEB-COOKIE-FLAGS": "fail", "WEB-EXPOSED-ADMIN-PATH": "fail",
                "WEB-DIRECTORY-LISTING": "fail", "WEB-VERSION-DISCLOSED": "warn", "WEB-TRACE-ADVERTISED": "warn",
                "WEB-CORS-ANY-ORIGIN-CREDENTIALS": "pass"},
    "lighttpd": {"WEB-FRAMING-UNPROTECTED": "fail", "WEB-EXPOSED-ADMIN-PATH": "fail", "WEB-DIRECTORY-LISTING": "fail",
                 "WEB-VERSION-DISCLOSED": "warn", "WEB-CORS-ANY-ORIGIN-CREDENTIALS": "pass"},
}
EXPOSED_BAD = {"nginx": {"/.git/HEAD", "/nginx_status"}, "apache2": {"/.git/HEAD", "/server-status", "/server-info"},
               "lighttpd": {"/.git/HEAD", "/server-status"}}


def test_servers(r, tmp):
    for name, start in (("nginx", nginx), ("apache2", apache), ("lighttpd", lighttpd)):
        binary = {"nginx": "nginx", "apache2": "apache2", "lighttpd": "lighttpd"}[name]
        if not shutil.which(binary) and not os.path.exists("/usr/sbin/" + binary):
            print("skip: %s is not installed" % name)
            continue
        for bad in (True, False):
            d = tempfile.mkdtemp(dir=tmp)
            srv = start(d, bad)
            try:
                rc, rep, text = scan(tmp, "%s-%s" % (name, "bad" if bad else "good"), [srv.url])
                st = statuses(rep)
                label = "%s %s" % (name, "badly configured" if bad else "well configured")
                if bad:
                    r.check(rc == 1, "%s: the gate fails (exit %d)" % (label, rc))
                    for rule, want in EXPECT_BAD[name].items():
                        r.check(st.get(rule) == want, "%s: %s is %s (got %s)" % (label, rule, want, st.get(rule)))
                    exp = next(o for o in rep["observations"] if o["kind"] == "web_exposure")
                    got = {x["path"] for x in exp["exposed"]}
                    r.check(got == EXPOSED_BAD[name], "%s: exposed paths %s (got %s)" % (label, sorted(EXPOSED_BAD[name]), sorted(got)))
                else:
                    bad_ones = {k: v for k, v in st.items() if v not in ("pass",) and k != "WEB-REFERRER-POLICY-MISSING"}
                    r.check(rc == 0 and not bad_ones, "%s: the gate passes, no finding (exit %d, %s)" % (label, rc, bad_ones))
                r.check("s3cr3t-session" not in text, "%s: the cookie's value never reaches the report" % label)
            finally:
                srv.stop()


class Stall:
    """A fake: accepts and answers the first N requests, then stalls (nothing real misbehaves on cue)."""

    def __init__(self, answer_first):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port, self.n, self.answer_first, self.stop_ev = self.sock.getsockname()[1], 0, answer_first, threading.Event()
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self):
        self.sock.settimeout(0.2)
        while not self.stop_ev.is_set():
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            self.n += 1
            if self.n <= self.answer_first:
                c.recv(65536)
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
                c.close()
            else:
                threading.Timer(20, c.close).start()

    def stop(self):
        self.stop_ev.set()
        self.sock.close()


def test_missing_evidence(r, tmp):
    rc, rep, _ = scan(tmp, "dead", ["http://127.0.0.1:%d/" % free_port()], timeout_s=2)
    item = {i["no"]: i["status"] for i in rep["items"]}
    r.check(rc == 3 and item[40] == "incomplete" and item[37] == "incomplete",
            "nothing listening: items 37 and 40 incomplete, exit 3 (rc %d)" % rc)
    for first, kind in ((0, "web"), (4, "web_cors"), (7, "web_exposure")):
        s = Stall(first)
        try:
            t0 = time.time()
            rc, rep, _ = scan(tmp, "stall%d" % first, ["http://127.0.0.1:%d/" % s.port], timeout_s=2)
            rules = {"web": ["WEB-FRAMING-UNPROTECTED", "WEB-DIRECTORY-LISTING", "WEB-COOKIE-FLAGS"],
                     "web_cors": ["WEB-CORS-ANY-ORIGIN-CREDENTIALS", "WEB-CORS-NULL-ORIGIN", "WEB-TRACE-ADVERTISED"],
                     "web_exposure": ["WEB-EXPOSED-ADMIN-PATH"]}[kind]
            st = statuses(rep)
            got = {k: st.get(k) for k in rules}
            # the fake's answers lack security headers, so other rules may fail (exit 1 wins over 3)
            r.check(rc in (1, 3) and all(v == "error" for v in got.values()),
                    "server stalls after %d answers: the %s rules are errors (incomplete), none passes (rc %d, %s)"
                    % (first, kind, rc, got))
            r.check(time.time() - t0 < 60, "and the scan ends within its deadline (%.1f s)" % (time.time() - t0))
        finally:
            s.stop()


with tempfile.TemporaryDirectory() as tmp:
    os.chmod(tmp, 0o755)
    R.run(lambda r: test_servers(r, tmp))
    R.run(lambda r: test_missing_evidence(r, tmp))
R.finish()
