"""Real TLS servers from Debian packages (openssl s_server, gnutls-serv, nginx, haproxy), started on
loopback with configurations in a temporary directory, and the peer scanners (sslscan, nmap
ssl-enum-ciphers, testssl.sh) whose accepted (protocol, suite) sets tenken is compared with.
Shared by tests/integration/test_tls_peers.py and bench/tls/bench_tls.py. Python standard library only.

gnutls-serv cannot bind to an address (it listens on every interface), so it is only started inside
a network namespace of our own (in_netns()): there "every interface" is the namespace's loopback.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import time
import xml.etree.ElementTree as ET

from tkharness import free_port  # the harness's one free_port, used here and as tlspeers.free_port

SRC = os.environ.get("TENKEN_SOURCE_DIR") or os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VKEY = {"SSLv2": "ssl2", "SSLv3": "ssl3", "TLSv1.0": "tls1_0", "TLSv1.1": "tls1_1", "TLSv1.2": "tls1_2",
        "TLSv1.3": "tls1_3"}


def load_table():
    """IANA name -> code point, from the generated suite table."""
    t = {}
    for line in open(os.path.join(SRC, "probes", "tls", "tls_suites_table.inc"), encoding="utf-8"):
        m = re.match(r'\{0x([0-9A-F]{4}), "([^"]+)"', line)
        if m:
            t[m.group(2)] = int(m.group(1), 16)
    return t


TABLE = load_table()
NAME = {v: k for k, v in TABLE.items()}


def in_netns():
    """True when this process runs in a network namespace with nothing but loopback."""
    return os.environ.get("TK_NETNS") == "1"


def reexec_in_netns(argv):
    """Run argv (this script) again in a new network namespace with loopback up; returns its exit
    code, or None when namespaces are not available here."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return None
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True)
    flags = ["-n"] if probe.returncode == 0 else ["-rn"]
    if subprocess.run(["unshare"] + flags + ["true"], capture_output=True).returncode != 0:
        return None
    env = dict(os.environ, TK_NETNS="1")
    return subprocess.run(["unshare"] + flags + ["sh", "-c", 'ip link set lo up && exec "$@"', "sh"] + argv,
                          env=env).returncode


def wait_listen(addr, port, timeout=15.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection((addr, port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def sh(*args, cwd=None):
    subprocess.run(list(args), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd)


class PKI:
    """A root CA, an intermediate, and leaves for api.acme.test / 127.0.0.1 (openssl CLI)."""

    def __init__(self, d):
        self.d = d
        os.makedirs(os.path.join(d, "db"), exist_ok=True)
        open(self.p("db/index.txt"), "w").close()
        with open(self.p("db/serial"), "w") as f:
            f.write("1000\n")
        with open(self.p("ca.cnf"), "w") as f:
            f.write("[ca]\ndefault_ca = c\n[c]\ndatabase = %s\nnew_certs_dir = %s\nserial = %s\ndefault_md = sha256\n"
                    "policy = pol\ncopy_extensions = none\nunique_subject = no\n[pol]\ncommonName = supplied\n"
                    "[leaf]\nsubjectAltName = DNS:api.acme.test,IP:127.0.0.1\nbasicConstraints = CA:FALSE\n"
                    "[inter]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\n"
                    % (self.p("db/index.txt"), self.p("db"), self.p("db/serial")))
        sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", self.p("ca.key"), "-out",
           self.p("ca.pem"), "-days", "60", "-subj", "/CN=tenken peers root", "-addext",
           "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        self.issue("inter", "rsa", days=60, ext="inter", cn="tenken peers intermediate")

    def p(self, n):
        return os.path.join(self.d, n)

    def key(self, name, kind):
        if kind == "ec":
            sh("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", self.p(name + ".key"))
        else:
            sh("openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", self.p(name + ".key"))

    def issue(self, name, kind, days=30, expired=False, issuer="ca", ext="leaf", cn="api.acme.test"):
        """Leaf (or intermediate) `name` signed by `issuer`; expired: valid in January 2020 only."""
        self.key(name, kind)
        sh("openssl", "req", "-new", "-key", self.p(name + ".key"), "-out", self.p(name + ".csr"), "-subj", "/CN=" + cn)
        dates = ["-startdate", "20200101000000Z", "-enddate", "20200201000000Z"] if expired else ["-days", str(days)]
        sh("openssl", "ca", "-batch", "-notext", "-config", self.p("ca.cnf"), "-extensions", ext,
           "-cert", self.p(issuer + ".pem"), "-keyfile", self.p(issuer + ".key"), "-in", self.p(name + ".csr"),
           "-out", self.p(name + ".pem"), *dates)
        return self.p(name + ".pem"), self.p(name + ".key")

    def self_signed(self, name, kind="rsa"):
        self.key(name, kind)
        sh("openssl", "req", "-x509", "-new", "-key", self.p(name + ".key"), "-out", self.p(name + ".pem"),
           "-days", "30", "-subj", "/CN=api.acme.test", "-addext", "subjectAltName=DNS:api.acme.test,IP:127.0.0.1")
        return self.p(name + ".pem"), self.p(name + ".key")

    def combined(self, name):
        """cert + key in one file (haproxy)."""
        out = self.p(name + ".combined.pem")
        with open(out, "w") as f:
            f.write(open(self.p(name + ".pem")).read() + open(self.p(name + ".key")).read())
        return out


class Daemons:
    """Processes started in the foreground; stop() kills exactly those."""

    def __init__(self, d):
        self.d, self.procs = d, []

    def spawn(self, argv, addr, port, what):
        log = open(os.path.join(self.d, "%s-%d.log" % (what, port)), "w")
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        self.procs.append(p)
        if not wait_listen(addr, port):
            raise RuntimeError("%s did not start on %s:%d (log: %s)" % (what, addr, port, log.name))
        return port

    def s_server(self, cert, key, args, addr="127.0.0.1"):
        port = free_port(addr)
        return self.spawn(["openssl", "s_server", "-accept", "%s:%d" % (addr, port), "-cert", cert, "-key", key,
                           "-quiet", "-naccept", "1000000"] + args, addr, port, "s_server")

    def gnutls(self, cert, key, priority, extra=()):
        """gnutls-serv listens on every interface: only inside our own network namespace."""
        if not in_netns():
            raise RuntimeError("gnutls-serv binds every interface: run inside a private network namespace")
        port = free_port("127.0.0.1")
        return self.spawn(["gnutls-serv", "-p", str(port), "--x509certfile", cert, "--x509keyfile", key,
                           "--priority", priority, "-q", "--http"] + list(extra), "127.0.0.1", port, "gnutls-serv")

    def nginx(self, servers, addr="127.0.0.1"):
        """servers: [(key, body, default_server)]; blocks with one key share a port. Returns {key: port}."""
        d = os.path.join(self.d, "nginx-%d" % len(self.procs))
        os.makedirs(d, exist_ok=True)
        ports, blocks = {}, []
        for key, body, default in servers:
            if key not in ports:
                ports[key] = free_port(addr)
            blocks.append("  server { listen %s:%d ssl%s; %s }\n" % (addr, ports[key], " default_server" if default else "", body))
        conf = os.path.join(d, "nginx.conf")
        with open(conf, "w") as f:
            f.write("worker_processes 1;\npid %s/nginx.pid;\nerror_log %s/error.log;\ndaemon off;\n"
                    "events { worker_connections 512; }\nhttp {\n  access_log off;\n"
                    "  client_body_temp_path %s/t1; proxy_temp_path %s/t2; fastcgi_temp_path %s/t3;"
                    " uwsgi_temp_path %s/t4; scgi_temp_path %s/t5;\n%s}\n" % ((d,) * 7 + ("".join(blocks),)))
        p = subprocess.Popen(["nginx", "-p", d, "-c", conf], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=open(os.path.join(d, "stderr.log"), "w"))
        self.procs.append(p)
        for port in set(ports.values()):
            if not wait_listen(addr, port):
                raise RuntimeError("nginx did not start on %s:%d: %s" % (addr, port, open(os.path.join(d, "error.log")).read()))
        return ports

    def haproxy(self, combined_pem, bind_opts, addr="127.0.0.1", bind_extra="", frontend_extra=""):
        d = os.path.join(self.d, "haproxy-%d" % len(self.procs))
        os.makedirs(d, exist_ok=True)
        port = free_port(addr)
        conf = os.path.join(d, "haproxy.cfg")
        with open(conf, "w") as f:
            f.write("global\n  maxconn 512\n  ssl-default-bind-options %s\n"
                    "defaults\n  mode http\n  timeout connect 5s\n  timeout client 5s\n  timeout server 5s\n"
                    "frontend f\n  bind %s:%d ssl crt %s %s\n"
                    "  http-request return status 200 content-type text/plain string ok\n%s"
                    % (bind_opts, addr, port, combined_pem, bind_extra, frontend_extra))
        return self.spawn(["haproxy", "-db", "-f", conf], addr, port, "haproxy")

    def stop(self):
        for p in self.procs:
            p.kill()
        for p in self.procs:
            p.wait()
        self.procs = []


# ---- tenken and the peer scanners: accepted {(protocol, code)} plus {(protocol, None)} per protocol ----

def tenken_set(obs):
    s = set()
    for v, e in obs.get("suites", {}).items():
        for c in e.get("accepted", []):
            if isinstance(c, dict):
                s.add((v, int(c["code"], 16)))
    for v, ok in obs.get("protocols", {}).items():
        if ok:
            s.add((v, None))
    return s


def sslscan_set(d, addr, port, tag, sni=None):
    x = os.path.join(d, "sslscan-%s.xml" % tag)
    argv = ["sslscan", "--no-colour", "--xml=" + x] + (["--sni-name=" + sni] if sni else []) + ["%s:%d" % (addr, port)]
    subprocess.run(argv, timeout=300, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    s = set()
    try:
        root = ET.parse(x).getroot()
    except (ET.ParseError, OSError):
        return s
    for p in root.iter("protocol"):
        if p.get("enabled") == "1":
            k = {"ssl2": "ssl2", "ssl3": "ssl3", "tls1.0": "tls1_0", "tls1.1": "tls1_1", "tls1.2": "tls1_2",
                 "tls1.3": "tls1_3"}.get((p.get("type") or "") + (p.get("version") or ""))
            if k:
                s.add((k, None))
    for c in root.iter("cipher"):
        v = VKEY.get(c.get("sslversion"))
        if v and c.get("id"):
            s.add((v, int(c.get("id"), 16)))
    return s


def nmap_set(d, addr, port, tag):
    x = os.path.join(d, "nmap-%s.xml" % tag)
    subprocess.run(["nmap", "-Pn", "-n", "-p", str(port), "--script", "ssl-enum-ciphers", "-oX", x, addr],
                   timeout=300, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    s = set()
    try:
        root = ET.parse(x).getroot()
    except (ET.ParseError, OSError):
        return s
    for t in root.iter("table"):
        v = VKEY.get(t.get("key"))
        if not v:
            continue
        s.add((v, None))
        for e in t.iter("elem"):
            if e.get("key") == "name" and e.text:
                n = e.text.replace("TLS_AKE_WITH_", "TLS_")  # nmap's draft names for TLS 1.3 suites
                if n in TABLE:
                    s.add((v, TABLE[n]))
    return s


def testssl_start(d, addr, port, tag):
    """testssl.sh takes minutes: start it in the background; testssl_set(..., proc=) collects it."""
    j = os.path.join(d, "testssl-%s.json" % tag)
    if os.path.exists(j):
        os.unlink(j)
    return subprocess.Popen(["testssl", "--nodns", "none", "--jsonfile", j, "--warnings", "off", "--color", "0",
                             "-p", "-E", "%s:%d" % (addr, port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def testssl_set(d, addr, port, tag, proc=None, deadline=None):
    """The set testssl.sh found, or None when it did not finish by `deadline` (monotonic)."""
    j = os.path.join(d, "testssl-%s.json" % tag)
    if proc is None:
        proc = testssl_start(d, addr, port, tag)
    try:
        proc.wait(timeout=max(1.0, deadline - time.monotonic()) if deadline else 1200)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None
    s = set()
    try:
        data = json.load(open(j))
    except (OSError, ValueError):
        return s
    pk = {"SSLv2": "ssl2", "SSLv3": "ssl3", "TLS1": "tls1_0", "TLS1_1": "tls1_1", "TLS1_2": "tls1_2", "TLS1_3": "tls1_3"}
    ck = {"ssl2": "ssl2", "ssl3": "ssl3", "tls1": "tls1_0", "tls1_1": "tls1_1", "tls1_2": "tls1_2", "tls1_3": "tls1_3"}
    for e in data:
        i, f = e.get("id", ""), e.get("finding", "")
        if i in pk and f.startswith("offered"):
            s.add((pk[i], None))
        m = re.match(r"cipher-(\w+?)_x([0-9a-f]+)$", i)
        if m and m.group(1) in ck:
            code = int(m.group(2), 16)
            if code <= 0xFFFF:
                s.add((ck[m.group(1)], code))
    return s


def fmt(pairs):
    return ", ".join("%s %s" % (v, NAME.get(c, "0x%04X" % c) if c is not None else "(protocol)")
                     for v, c in sorted(pairs, key=lambda x: (x[0], x[1] or 0)))
