#!/usr/bin/env python3
"""Integration test of the "tls" probe against real TLS servers on loopback.

Starts `openssl s_server` in several configurations (certificates generated
here, at test time) plus a tiny raw-TLS responder written below for what the
local OpenSSL cannot serve (SSL 3.0, 3DES, RC4, export), runs `tenken scan`
once over all of them, and checks the observations and findings.
Python standard library only; loopback only.
"""
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from tkharness import check, finish  # noqa: E402

TENKEN = os.environ.get("TENKEN_BIN", "./tenken")


def free_port(family=socket.AF_INET, addr="127.0.0.1"):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.bind((addr, 0))
    p = s.getsockname()[1]
    s.close()
    return p


def run(*args, **kw):
    return subprocess.run(list(args), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)


def make_pki(d):
    """CA, good leaf, expired leaf, 1024-bit SHA-1 leaf, client-auth CA. All via the openssl CLI."""
    def p(n):
        return os.path.join(d, n)
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", p("ca.key"), "-out", p("ca.pem"),
        "-days", "30", "-subj", "/CN=tenken test CA", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    with open(p("ext.cnf"), "w") as f:
        f.write("subjectAltName=DNS:api.acme.test,IP:127.0.0.1,IP:::1\nbasicConstraints=CA:FALSE\n")

    def leaf(name, bits, md, days=20):
        run("openssl", "req", "-newkey", "rsa:%d" % bits, "-nodes", "-keyout", p(name + ".key"), "-out", p(name + ".csr"),
            "-subj", "/CN=api.acme.test")
        run("openssl", "x509", "-req", "-in", p(name + ".csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key"),
            "-CAcreateserial", "-out", p(name + ".pem"), "-days", str(days), "-" + md, "-extfile", p("ext.cnf"))
    leaf("good", 2048, "sha256")
    # an OCSP response for the good certificate (status "unknown": an empty index), for stapling
    open(p("ocsp_index.txt"), "w").close()
    run("openssl", "ocsp", "-index", p("ocsp_index.txt"), "-rsigner", p("ca.pem"), "-rkey", p("ca.key"),
        "-CA", p("ca.pem"), "-issuer", p("ca.pem"), "-cert", p("good.pem"), "-respout", p("ocsp.der"), "-ndays", "1")
    leaf("weak", 1024, "sha1")
    # expired: `openssl ca` with explicit dates
    os.makedirs(p("ca_db"), exist_ok=True)
    open(p("ca_db/index.txt"), "w").close()
    with open(p("ca.cnf"), "w") as f:
        f.write("""[ca]
default_ca = c
[c]
database = %s
new_certs_dir = %s
serial = %s
default_md = sha256
policy = pol
copy_extensions = none
x509_extensions = ext
[pol]
commonName = supplied
[ext]
subjectAltName = DNS:api.acme.test,IP:127.0.0.1
""" % (p("ca_db/index.txt"), p("ca_db"), p("ca_db/serial")))
    with open(p("ca_db/serial"), "w") as f:
        f.write("1000\n")
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", p("expired.key"), "-out", p("expired.csr"),
        "-subj", "/CN=api.acme.test")
    run("openssl", "ca", "-batch", "-config", p("ca.cnf"), "-cert", p("ca.pem"), "-keyfile", p("ca.key"),
        "-in", p("expired.csr"), "-out", p("expired.pem"), "-startdate", "20200101000000Z",
        "-enddate", "20200201000000Z", "-notext")


class RawTLSServer:
    """Answers ClientHellos like a legacy server OpenSSL here cannot be: SSL 3.0 only,
    suites in its own preference order (3DES, RC4, export). ServerHello, then close."""

    def __init__(self, version, suites, ssl2_specs=None):
        self.version, self.suites, self.ssl2_specs = version, suites, ssl2_specs
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.hellos = 0
        self.stop = False
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            try:
                c.settimeout(2)
                self.serve(c)
            except OSError:
                pass
            finally:
                c.close()

    def serve(self, c):
        data = b""

        def need():
            if len(data) < 5:
                return True
            if data[0] & 0x80:
                return len(data) < 2 + (((data[0] & 0x7f) << 8) | data[1])
            return len(data) < 5 + struct.unpack(">H", data[3:5])[0]
        while need():
            chunk = c.recv(65536)
            if not chunk:
                return
            data += chunk
        if data[0] & 0x80 and self.ssl2_specs and data[2] == 1:
            # SSLv2 SERVER-HELLO: no session hit, X.509 type, version 2, a fake 2-byte "certificate"
            specs = b"".join(struct.pack(">I", x)[1:] for x in self.ssl2_specs)
            msg = struct.pack(">BBBHHHH", 4, 0, 1, 2, 2, len(specs), 16) + b"\xde\xad" + specs + os.urandom(16)
            c.sendall(struct.pack(">H", 0x8000 | len(msg)) + msg)
            return
        if data[0] != 22:  # SSLv2 or junk: just close
            return
        self.hellos += 1
        body = data[5:]
        ver = struct.unpack(">H", body[4:6])[0]
        p = 4 + 2 + 32
        p += 1 + body[p]
        n = struct.unpack(">H", body[p:p + 2])[0]
        offered = [struct.unpack(">H", body[p + 2 + i:p + 4 + i])[0] for i in range(0, n, 2)]
        pick = next((s for s in self.suites if s in offered), None)
        if ver != self.version or pick is None:
            c.sendall(bytes([21, 3, 0, 0, 2, 2, 40]))  # fatal handshake_failure
            return
        sh = struct.pack(">H", self.version) + os.urandom(32) + b"\x00" + struct.pack(">HB", pick, 0)
        hs = b"\x02" + struct.pack(">I", len(sh))[1:] + sh
        done = b"\x0e\x00\x00\x00"
        c.sendall(bytes([22]) + struct.pack(">HH", self.version, len(hs) + len(done)) + hs + done)

    def close(self):
        self.stop = True
        self.sock.close()


class StartTLSServer:
    """A minimal SMTP (EHLO/STARTTLS) or FTP (AUTH TLS) server that upgrades to TLS with Python's ssl module."""

    def __init__(self, kind, cert, key):
        import ssl
        self.kind = kind
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        self.ctx.load_cert_chain(cert, key)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.upgrades = 0
        self.stop = False
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def serve(self, c):
        try:
            c.settimeout(3)
            f = c.makefile("rb")
            if self.kind == "smtp":
                c.sendall(b"220-mx.acme.test ESMTP\r\n220 ready\r\n")
                if not f.readline().upper().startswith(b"EHLO"):
                    return
                c.sendall(b"250-mx.acme.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n")
                if f.readline().strip().upper() != b"STARTTLS":
                    return
                c.sendall(b"220 go ahead\r\n")
            else:
                c.sendall(b"220 ftp ready\r\n")
                if f.readline().strip().upper() != b"AUTH TLS":
                    return
                c.sendall(b"234 AUTH TLS ok\r\n")
            self.upgrades += 1
            t = self.ctx.wrap_socket(c, server_side=True)
            t.close()
        except OSError:
            pass
        finally:
            c.close()

    def close(self):
        self.stop = True
        self.sock.close()


class HostileServer:
    """mode "stall": accept, read, never answer; "http": answer any bytes with an HTTP error;
    "flood": answer with an endless stream of bytes."""

    def __init__(self, mode):
        self.mode = mode
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.stop = False
        self.conns = []
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def serve(self, c):
        try:
            c.settimeout(10)
            c.recv(65536)
            if self.mode == "http":
                c.sendall(b"HTTP/1.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                c.close()
            elif self.mode == "flood":
                chunk = b"\x16\x03\x03\x40\x00" + b"\x41" * 16384
                while not self.stop:
                    c.sendall(chunk)
            else:
                time.sleep(10)
        except OSError:
            pass

    def close(self):
        self.stop = True
        self.sock.close()
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass


def wait_listen(port, addr="127.0.0.1", family=socket.AF_INET):
    for _ in range(100):
        try:
            with socket.socket(family, socket.SOCK_STREAM) as s:
                s.connect((addr, port))
                return True
        except OSError:
            time.sleep(0.05)
    return False


def main():
    d = tempfile.mkdtemp(prefix="tenken-tls-")
    procs, raws = [], []
    try:
        make_pki(d)

        def p(n):
            return os.path.join(d, n)

        def server(name, *args, cert="good", addr="127.0.0.1"):
            fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
            for _ in range(5):  # another test may grab the free port first: retry on a new one
                port = free_port(fam, addr)
                acc = "[%s]:%d" % (addr, port) if ":" in addr else "%s:%d" % (addr, port)
                cmd = ["openssl", "s_server", "-accept", acc, "-cert", p(cert + ".pem"), "-key", p(cert + ".key"),
                       "-cert_chain", p("ca.pem"), "-quiet", "-naccept", "100000"] + list(args)
                pr = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)
                procs.append(pr)
                if wait_listen(port, addr, fam) and pr.poll() is None:
                    return port
                pr.kill()
            raise RuntimeError("s_server %s did not start" % name)

        ports = {
            "tls13": server("tls13", "-tls1_3"),
            "aead12": server("aead12", "-tls1_2", "-cipher", "ECDHE+AESGCM:ECDHE+CHACHA20"),
            "legacy": server("legacy", "-no_tls1_3", "-cipher", "AES:CAMELLIA:!aNULL:@SECLEVEL=0"),
            "spref": server("spref", "-tls1_2", "-serverpref", "-cipher",
                            "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA"),
            "cpref": server("cpref", "-tls1_2", "-cipher",
                            "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA"),
            "expired": server("expired", cert="expired"),
            "weak": server("weak", "-cipher", "ALL:@SECLEVEL=0", cert="weak"),
            "mtls": server("mtls", "-Verify", "1", "-CAfile", p("ca.pem")),
            "onegroup": server("onegroup", "-tls1_3", "-groups", "P-384"),
            "ocsp": server("ocsp", "-status_file", p("ocsp.der")),
            # TLS 1.3 only: certificate, client-certificate request and staple come from the OpenSSL handshake
            "mtls13": server("mtls13", "-tls1_3", "-Verify", "1", "-CAfile", p("ca.pem")),
            "ocsp13": server("ocsp13", "-tls1_3", "-status_file", p("ocsp.der")),
        }
        v6 = None
        try:
            v6 = server("v6", "-tls1_3", addr="::1")
        except (RuntimeError, OSError):
            print("note: no IPv6 loopback; [::1] endpoint skipped")
        raw = RawTLSServer(0x0300, [0x000A, 0x0005, 0x0003])
        raws.append(raw)
        raw2 = RawTLSServer(0x0300, [0x0004], ssl2_specs=[0x010080, 0x0700C0])
        raws.append(raw2)
        smtp = StartTLSServer("smtp", p("good.pem"), p("good.key"))
        ftp = StartTLSServer("ftp", p("good.pem"), p("good.key"))
        raws += [smtp, ftp]
        closed = free_port()

        eps = {k: "api.acme.test@127.0.0.1:%d" % v for k, v in ports.items()}
        eps["mismatch"] = "wrong.acme.test@127.0.0.1:%d" % ports["tls13"]
        eps["ssl3"] = "127.0.0.1:%d" % raw.port
        eps["closed"] = "127.0.0.1:%d" % closed
        eps["ssl2"] = "127.0.0.1:%d" % raw2.port
        if v6:
            eps["v6"] = "[::1]:%d" % v6
        eps["smtp"] = "api.acme.test@127.0.0.1:%d/smtp" % smtp.port
        eps["ftp"] = "api.acme.test@127.0.0.1:%d/ftp" % ftp.port
        epl = [v for k, v in eps.items() if k not in ("smtp", "ftp")]
        epl.append({"host": "127.0.0.1", "port": smtp.port, "sni": "api.acme.test", "starttls": "smtp"})
        epl.append({"host": "127.0.0.1", "port": ftp.port, "sni": "api.acme.test", "starttls": "ftp"})
        # many endpoints share 127.0.0.1: lift the per-host politeness budget for this scan
        cfg = {"partner": {"id": "t", "name": "tls test"}, "checklist": "fisc-api-2018",
               "scan": {"max_connections_per_host": 64, "connections_per_second_per_host": 100000},
               "probes": {"tls": {"endpoints": epl, "ca_file": "ca.pem", "timeout_s": 60,
                                  "connection_timeout_s": 3}}}
        with open(p("partner.json"), "w") as f:
            json.dump(cfg, f)
        t0 = time.time()
        r = subprocess.run([TENKEN, "scan", "-c", p("partner.json"), "-o", p("out"), "--format", "json", "--quiet"],
                           capture_output=True, text=True, timeout=120)
        took = time.time() - t0
        check(r.returncode in (0, 1, 3), "scan exit code %d: %s" % (r.returncode, r.stderr[-500:]))
        rep = json.load(open(p("out/report.json")))
        obs = {o["target"]: o for o in rep["observations"] if o.get("probe") == "tls"}
        for x in rep["observations"]:
            if x.get("kind") == "error" and os.environ.get("TK_DEBUG"):
                print("debug:", x)
        fnd = {}
        for f in rep["findings"]:
            fnd.setdefault(f.get("target"), {})[f.get("rule")] = f.get("status")

        def o(k):
            return obs.get(eps[k], {})

        def names(k, v):
            return [s["name"] for s in o(k).get("suites", {}).get(v, {}).get("accepted", [])]

        def st(k, rule):
            return fnd.get(eps[k], {}).get(rule)

        # 1. TLS 1.3 only
        check(o("tls13").get("kind") == "endpoint", "tls13 observed")
        check(o("tls13").get("protocols") == {"ssl2": False, "ssl3": False, "tls1_0": False, "tls1_1": False,
                                              "tls1_2": False, "tls1_3": True}, "tls13 protocols %s" % o("tls13").get("protocols"))
        check(sorted(names("tls13", "tls1_3")) == ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                                    "TLS_CHACHA20_POLY1305_SHA256"], "tls13 suites %s" % names("tls13", "tls1_3"))
        check(st("tls13", "TLS-LEGACY-PROTOCOL") == "pass", "tls13 legacy rule passes")
        check(st("tls13", "TLS-CERT-INVALID") == "pass", "tls13 cert validates against ca_file")
        check(st("tls13", "TLS-HOSTNAME-MISMATCH") == "pass", "tls13 hostname matches")
        check("x25519" in o("tls13").get("groups", []), "tls13 groups %s" % o("tls13").get("groups"))
        check(o("tls13").get("client_cert_requested") is False, "tls13 no client cert request")
        check(o("ocsp").get("ocsp_stapled") is True, "ocsp stapled %s" % o("ocsp").get("ocsp_stapled"))
        check(o("tls13").get("ocsp_stapled") is False, "no staple without -status_file")
        check(o("ocsp13").get("ocsp_stapled") is True, "TLS 1.3 staple seen in the OpenSSL handshake")
        check(o("mtls13").get("client_cert_requested") is True, "TLS 1.3 CertificateRequest seen in the OpenSSL handshake")
        check(o("tls13").get("certificate", {}).get("source") == "openssl-handshake" and
              o("legacy").get("certificate", {}).get("source") == "raw-handshake", "certificate sources")
        check(o("legacy").get("certificate", {}).get("verified") is True, "raw chain validates")
        # fewer groups than TLS 1.3 suites: the enumeration must not lose suites when the groups run out
        check(sorted(names("onegroup", "tls1_3")) == sorted(names("tls13", "tls1_3")), "onegroup suites %s" % names("onegroup", "tls1_3"))
        check(o("onegroup").get("groups") == ["secp384r1"], "onegroup groups %s" % o("onegroup").get("groups"))
        g = o("tls13").get("groups", [])
        check(g[0] == "x25519" and {"secp256r1", "secp384r1", "secp521r1", "x448"} <= set(g) and len(set(g)) == len(g),
              "tls13 groups (OpenSSL's default list, x25519 first) %s" % g)
        # hostname mismatch (same server, other SNI)
        check(st("mismatch", "TLS-HOSTNAME-MISMATCH") == "fail", "mismatch detected")
        check(o("mismatch").get("certificate", {}).get("hostname_checked") == "wrong.acme.test", "mismatch checked name")
        # 2. TLS 1.2 AEAD only
        a = names("aead12", "tls1_2")
        check(set(a) == {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                         "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"}, "aead12 suites %s" % a)
        check(o("aead12").get("forward_secrecy") == "all", "aead12 all FS")
        check(st("aead12", "TLS-WEAK-SUITES") == "pass" and st("aead12", "TLS-NO-FORWARD-SECRECY") == "pass",
              "aead12 suite rules pass")
        prof = {x["id"]: x for x in o("aead12").get("profiles", [])}
        check(prof.get("mozilla-intermediate", {}).get("conforms") is True, "aead12 conforms to mozilla-intermediate")
        check(prof.get("mozilla-modern", {}).get("conforms") is False, "aead12 not mozilla-modern")
        check(prof.get("cryptrec-recommended", {}).get("conforms") is True, "aead12 conforms to cryptrec-recommended")
        check(st("aead12", "TLS-PROFILE-NONCONFORMANT") == "pass", "aead12 profile rule passes")
        # 3. legacy TLS 1.0-1.2 with CBC at security level 0
        lp = o("legacy").get("protocols", {})
        check(lp.get("tls1_0") and lp.get("tls1_1") and lp.get("tls1_2") and not lp.get("tls1_3"), "legacy protocols %s" % lp)
        check("TLS_RSA_WITH_AES_128_CBC_SHA" in names("legacy", "tls1_0"), "legacy tls1_0 has AES128-SHA")
        check(o("legacy").get("suite_classes", {}).get("cbc", 0) > 0, "legacy CBC counted")
        check(st("legacy", "TLS-LEGACY-PROTOCOL") == "fail", "legacy protocol rule fails")
        check(st("legacy", "TLS-NO-FORWARD-SECRECY") == "fail", "legacy no-FS rule fails")
        check(st("legacy", "TLS-PROFILE-NONCONFORMANT") == "fail", "legacy profile rule fails")
        pairs = o("legacy").get("accepted_suites", 0)
        check(0 < o("legacy").get("connections", 10 ** 6) <= pairs + 6 + 10,
              "legacy connections %s <= pairs %s + versions + 10" % (o("legacy").get("connections"), pairs))
        # cross-check the legacy TLS 1.2 set with OpenSSL's own expansion of the server's cipher string
        exp = subprocess.run(["openssl", "ciphers", "-stdname", "-tls1_2", "AES:CAMELLIA:!aNULL:@SECLEVEL=0"],
                             capture_output=True, text=True).stdout
        want = {l.split(" - ")[0].strip() for l in exp.splitlines() if " - " in l and not l.startswith("TLS_AES")
                and not l.startswith("TLS_CHACHA")}
        # the server holds an RSA certificate: DSS/ECDSA-authenticated and PSK/SRP suites cannot be chosen
        want = {w for w in want if not any(x in w for x in ("PSK", "SRP", "_DSS_", "_ECDSA_"))}
        check(set(names("legacy", "tls1_2")) == want,
              "legacy tls1_2 set differs from openssl ciphers: missing %s extra %s" %
              (sorted(want - set(names("legacy", "tls1_2"))), sorted(set(names("legacy", "tls1_2")) - want)))
        # 4. server vs client preference
        check(o("spref").get("suites", {}).get("tls1_2", {}).get("preference") == "server", "spref is server")
        check(names("spref", "tls1_2") == ["TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                                           "TLS_RSA_WITH_AES_128_CBC_SHA"], "spref order %s" % names("spref", "tls1_2"))
        check(o("cpref").get("suites", {}).get("tls1_2", {}).get("preference") == "client", "cpref is client")
        # 5. expired certificate
        c = o("expired").get("certificate", {})
        check(c.get("expired") is True and c.get("days_to_expiry", 0) < -365, "expired cert %s" % c.get("days_to_expiry"))
        check(st("expired", "TLS-CERT-EXPIRED") == "fail", "expired rule fails")
        check(st("expired", "TLS-CERT-INVALID") == "fail" and "expired" in c.get("verify_error", ""),
              "expired fails validation: %s" % c.get("verify_error"))
        check(st("tls13", "TLS-CERT-EXPIRING") == "warn" and 15 <= o("tls13")["certificate"]["days_to_expiry"] <= 20,
              "20-day cert is expiring (<30): a warning by default")
        check(st("tls13", "TLS-CERT-EXPIRY-FAIL-WINDOW") == "pass", "default fail window (0 days) passes a 20-day cert")
        # 6. 1024-bit RSA, SHA-1 signature
        c = o("weak").get("certificate", {})
        check(c.get("key_type") == "RSA" and c.get("key_bits") == 1024, "weak key %s %s" % (c.get("key_type"), c.get("key_bits")))
        check(c.get("signature_hash") == "SHA1", "weak sig hash %s" % c.get("signature_hash"))
        check(st("weak", "TLS-CERT-WEAK-KEY") == "fail" and st("weak", "TLS-CERT-SHA1") == "fail", "weak cert rules fail")
        check(st("tls13", "TLS-CERT-WEAK-KEY") == "pass" and st("tls13", "TLS-CERT-SHA1") == "pass", "good cert rules pass")
        # 7. server demanding a client certificate
        check(o("mtls").get("client_cert_requested") is True, "mtls client cert requested")
        check(o("mtls").get("certificate", {}).get("present") is True, "mtls chain still read")
        # 8. SSL 3.0 with 3DES, RC4, export (raw responder)
        check(o("ssl3").get("protocols", {}).get("ssl3") is True and not o("ssl3").get("protocols", {}).get("tls1_0"),
              "ssl3 protocols %s" % o("ssl3").get("protocols"))
        check(names("ssl3", "ssl3") == ["TLS_RSA_WITH_3DES_EDE_CBC_SHA", "TLS_RSA_WITH_RC4_128_SHA",
                                         "TLS_RSA_EXPORT_WITH_RC4_40_MD5"], "ssl3 suites %s" % names("ssl3", "ssl3"))
        check(o("ssl3").get("suites", {}).get("ssl3", {}).get("preference") == "server", "ssl3 server preference")
        sc = o("ssl3").get("suite_classes", {})
        check(sc.get("3des") == 1 and sc.get("rc4") == 2 and sc.get("export") == 1, "ssl3 classes %s" % sc)
        check(st("ssl3", "TLS-WEAK-SUITES") == "fail" and st("ssl3", "TLS-LEGACY-PROTOCOL") == "fail", "ssl3 rules fail")
        # 8b. SSL 2.0 (raw responder): one CLIENT-HELLO lists every SSLv2 cipher kind
        check(o("ssl2").get("protocols", {}).get("ssl2") is True, "ssl2 detected %s" % o("ssl2").get("protocols"))
        check(o("ssl2").get("suites", {}).get("ssl2", {}).get("accepted") == ["0x010080", "0x0700C0"],
              "ssl2 specs %s" % o("ssl2").get("suites", {}).get("ssl2"))
        check(st("ssl2", "TLS-LEGACY-PROTOCOL") == "fail", "ssl2 legacy rule fails")
        check(o("ssl3").get("protocols", {}).get("ssl2") is False, "ssl3-only responder is not ssl2")
        # each violation carries the verification label of the fact it violates
        def viol(k, pid):
            return [v for x in o(k).get("profiles", []) if x["id"] == pid for v in x["violations"]]
        check([v["verification"] for v in viol("ssl2", "cryptrec-recommended") if "SSL 2.0" in v["detail"]] == ["UNCONFIRMED"],
              "SSL 2.0 prohibition is UNCONFIRMED: %s" % viol("ssl2", "cryptrec-recommended"))
        check([v["verification"] for v in viol("ssl3", "cryptrec-recommended") if "SSL 3.0" in v["detail"]] == ["SECONDARY"],
              "SSL 3.0 prohibition is SECONDARY")
        check([v["verification"] for v in viol("weak", "mozilla-intermediate") if v["fact"] == "certificate.key"] == ["VERIFIED"],
              "Mozilla RSA >= 2048 is VERIFIED: %s" % viol("weak", "mozilla-intermediate"))
        check([v["verification"] for v in viol("weak", "cryptrec-recommended") if v["fact"] == "certificate.signature"] == ["SECONDARY"],
              "CRYPTREC SHA-1 prohibition is SECONDARY")
        # 8c. STARTTLS (SMTP, FTP AUTH TLS)
        for k, srv_ in (("smtp", smtp), ("ftp", ftp)):
            check(o(k).get("starttls") == k, "%s starttls field %s" % (k, o(k).get("starttls")))
            pr = o(k).get("protocols", {})
            check(pr.get("tls1_2") is True and pr.get("tls1_3") is True and not pr.get("tls1_1"), "%s protocols %s" % (k, pr))
            check(o(k).get("certificate", {}).get("verified") is True, "%s certificate verified" % k)
            check(srv_.upgrades == o(k).get("connections"), "%s: every connection upgraded (%d vs %s)" %
                  (k, srv_.upgrades, o(k).get("connections")))
        # 9. closed port: an error, not a clean observation
        errs = [x for x in rep["observations"] if x.get("target") == eps["closed"]]
        check(len(errs) == 1 and errs[0].get("kind") == "error", "closed port gives an error observation: %s" % errs)
        # 10. IPv6
        if v6:
            check(o("v6").get("protocols", {}).get("tls1_3") is True, "IPv6 endpoint scanned")
        check(took < 60, "scan took %.1fs" % took)
        # 10a. tailoring: the bank requires Mozilla modern and warns 10 days before expiry
        with open(p("tailoring.json"), "w") as f:
            json.dump({"name": "bank", "rules": {"TLS-PROFILE-NONCONFORMANT": {"params": {"profile": "mozilla-modern"}},
                                                 "TLS-CERT-EXPIRING": {"params": {"expiry_warn_days": 10}},
                                                 "TLS-CERT-EXPIRY-FAIL-WINDOW": {"params": {"fail_days": 25}}}}, f)
        tcfg = dict(cfg)
        tcfg["probes"] = {"tls": dict(cfg["probes"]["tls"], endpoints=[eps["aead12"], eps["tls13"]])}
        with open(p("tailored.json"), "w") as f:
            json.dump(tcfg, f)
        r = subprocess.run([TENKEN, "scan", "-c", p("tailored.json"), "-t", p("tailoring.json"), "-o", p("tout"),
                            "--format", "json", "--quiet"], capture_output=True, text=True, timeout=60)
        tf = {}
        for f in json.load(open(p("tout/report.json")))["findings"]:
            tf[(f.get("target"), f.get("rule"))] = f.get("status")
        check(tf.get((eps["aead12"], "TLS-PROFILE-NONCONFORMANT")) == "fail", "tailored profile mozilla-modern fails aead12")
        check(tf.get((eps["tls13"], "TLS-PROFILE-NONCONFORMANT")) == "pass", "tailored profile mozilla-modern passes tls13")
        check(tf.get((eps["tls13"], "TLS-CERT-EXPIRING")) == "pass", "tailored 10-day expiry threshold passes a 20-day cert")
        check(tf.get((eps["tls13"], "TLS-CERT-EXPIRY-FAIL-WINDOW")) == "fail", "tailored 25-day fail window fails a 20-day cert")
        # 10b. hostile peers: plaintext HTTP, a flood of bytes, and a server that never answers
        hs = {m: HostileServer(m) for m in ("http", "flood", "stall")}
        raws += list(hs.values())
        hcfg = {"partner": {"id": "t", "name": "tls hostile"}, "checklist": "fisc-api-2018",
                "probes": {"tls": {"endpoints": ["127.0.0.1:%d" % h.port for h in hs.values()],
                                   "timeout_s": 3, "connection_timeout_s": 1, "sslv2": False}}}
        with open(p("hostile.json"), "w") as f:
            json.dump(hcfg, f)
        t0 = time.time()
        r = subprocess.run([TENKEN, "scan", "-c", p("hostile.json"), "-o", p("hout"), "--format", "json", "--quiet"],
                           capture_output=True, text=True, timeout=60)
        took = time.time() - t0
        check(took < 3 + 2 + 2, "hostile scan honours the 3 s deadline (took %.1fs)" % took)
        # the same staller with a deadline long enough for every hello to time out: still an error
        hcfg["probes"]["tls"] = {"endpoints": ["127.0.0.1:%d" % hs["stall"].port], "timeout_s": 20,
                                 "connection_timeout_s": 1, "sslv2": False, "groups": False}
        with open(p("hostile2.json"), "w") as f:
            json.dump(hcfg, f)
        subprocess.run([TENKEN, "scan", "-c", p("hostile2.json"), "-o", p("hout2"), "--format", "json", "--quiet"],
                       capture_output=True, text=True, timeout=60)
        h2 = [x for x in json.load(open(p("hout2/report.json")))["observations"] if x.get("probe") == "tls"]
        check(len(h2) == 1 and h2[0].get("kind") == "error" and h2[0].get("error") == "timeout" and
              "no answer" in h2[0].get("message", ""), "staller within the deadline: timeout error %s" % h2)
        hrep = json.load(open(p("hout/report.json")))
        hobs = {x["target"]: x for x in hrep["observations"] if x.get("probe") == "tls"}
        ho = hobs.get("127.0.0.1:%d" % hs["http"].port, {})
        check(ho.get("kind") == "endpoint" and ho.get("tls") is False and not any(ho.get("protocols", {}).values()),
              "plaintext HTTP: no TLS %s" % ho)
        hf = {x.get("target"): x.get("status") for x in hrep["findings"] if x.get("rule") == "TLS-NOT-OFFERED"}
        check(hf.get("127.0.0.1:%d" % hs["http"].port) == "fail", "plaintext HTTP fails TLS-NOT-OFFERED")
        fo = hobs.get("127.0.0.1:%d" % hs["flood"].port, {})
        check(fo.get("kind") == "endpoint" and fo.get("tls") is False, "flood: bounded, no TLS %s" % str(fo)[:300])
        so = hobs.get("127.0.0.1:%d" % hs["stall"].port, {})
        check(so.get("kind") == "error" and so.get("error") in ("cancelled", "timeout"),
              "stalling server: an error, not 'no TLS': %s" % so)
        # 11. config errors name the JSON path
        bad = dict(cfg)
        bad["probes"] = {"tls": {"endpoints": ["127.0.0.1:1", "a@127.0.0.1:2", "127.0.0.1:70000"]}}
        with open(p("bad.json"), "w") as f:
            json.dump(bad, f)
        r = subprocess.run([TENKEN, "validate", "-c", p("bad.json")], capture_output=True, text=True)
        check(r.returncode == 2 and "probes.tls.endpoints[2]: \"127.0.0.1:70000\": port out of range"  in r.stderr,
              "bad port message: %r" % r.stderr)
        bad["probes"] = {"tls": {"endpoints": [{"host": "127.0.0.1", "port": 25, "starttls": "imap"}]}}
        with open(p("bad.json"), "w") as f:
            json.dump(bad, f)
        r = subprocess.run([TENKEN, "validate", "-c", p("bad.json")], capture_output=True, text=True)
        check(r.returncode == 2 and "probes.tls.endpoints[0].starttls" in r.stderr, "bad starttls message: %r" % r.stderr)
    finally:
        for pr in procs:
            pr.kill()
            pr.wait()
        for rw in raws:
            rw.close()
        shutil.rmtree(d, ignore_errors=True)
    finish()


if __name__ == "__main__":
    sys.exit(main())
