#!/usr/bin/env python3
"""The tls and hsts probes against real TLS servers from Debian packages, compared with sslscan,
nmap ssl-enum-ciphers and testssl.sh (one configuration: it is slow).

Servers (configs in a temp dir, foreground, loopback of a private network namespace the test makes
for itself with `unshare -n`, since gnutls-serv cannot bind one address):
  openssl s_server  TLS 1.3 only, TLS_AES_128_CCM_SHA256 only, self-signed certificate
  gnutls-serv       TLS 1.3 only, TLS_AES_128_CCM_8_SHA256 only, expired certificate (priority string)
  gnutls-serv       TLS 1.0-1.3 legacy priority string (CBC, static RSA, DHE)
  nginx             dual RSA (expired) + ECDSA (valid), TLS 1.2+1.3; the same TLS 1.3 only;
                    SNI required (ssl_reject_handshake); interleaved server order AES128 > CHACHA20 > AES256;
                    incomplete chain; client certificate required; a valid certificate expiring in 9 days
  haproxy           ECDSA, TLS 1.2+1.3 (compared with testssl.sh too); client certificate required (hsts)
A fake only where no real server can represent the case (said at each): a TLS 1.2 responder that
sends no Certificate message (certificate unreadable) and one that cuts its ServerHello short.
"""
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tlspeers as tp  # noqa: E402
from tkharness import check, finish  # noqa: E402

TENKEN = os.environ.get("TENKEN_BIN", "./tenken")


class FakeTLS12:
    """Fake, because no real server omits its Certificate with a certificate suite or cuts its
    ServerHello: mode "nocert" answers a TLS 1.2 hello offering 0xC02F with ServerHello +
    ServerHelloDone (no Certificate); mode "truncated" sends a record header announcing 100 bytes,
    20 of them, and closes."""

    def __init__(self, mode):
        self.mode = mode
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            try:
                c.settimeout(3)
                self.serve(c)
            except (OSError, struct.error, IndexError):
                pass
            finally:
                c.close()

    def serve(self, c):
        data = b""
        while len(data) < 5 or len(data) < 5 + struct.unpack(">H", data[3:5])[0]:
            chunk = c.recv(65536)
            if not chunk:
                return
            data += chunk
        if data[0] != 22:  # SSLv2 or anything else: close
            return
        if self.mode == "truncated":
            c.sendall(b"\x16\x03\x03\x00\x64" + b"\x02\x00\x00\x60\x03\x03" + os.urandom(14))
            return
        body = data[5:]
        ver = struct.unpack(">H", body[4:6])[0]
        p = 4 + 2 + 32
        p += 1 + body[p]
        n = struct.unpack(">H", body[p:p + 2])[0]
        offered = [struct.unpack(">H", body[p + 2 + i:p + 4 + i])[0] for i in range(0, n, 2)]
        if ver != 0x0303 or 0xC02F not in offered or b"\x00\x2b" in body[p + 2 + n:p + 2 + n + 0]:
            c.sendall(bytes([21, 3, 3, 0, 2, 2, 40]))
            return
        sh = struct.pack(">H", 0x0303) + os.urandom(32) + b"\x00" + struct.pack(">HB", 0xC02F, 0)
        hs = b"\x02" + struct.pack(">I", len(sh))[1:] + sh + b"\x0e\x00\x00\x00"
        c.sendall(bytes([22]) + struct.pack(">HH", 0x0303, len(hs)) + hs)

    def close(self):
        self.sock.close()


def tenken(d, tag, tls=None, hsts=None, gate=False, tailoring=None):
    cfg = {"partner": {"id": "peers", "name": "peers"}, "checklist": "fisc-api-2018", "probes": {},
           "scan": {"max_connections_per_host": 64, "connections_per_second_per_host": 100000}}
    if tls:
        cfg["probes"]["tls"] = dict({"connection_timeout_s": 5, "timeout_s": 120}, **tls)
    if hsts:
        cfg["probes"]["hsts"] = hsts
    cp = os.path.join(d, "%s.json" % tag)
    with open(cp, "w") as f:
        json.dump(cfg, f)
    out = os.path.join(d, "out-" + tag)
    argv = [TENKEN, "gate" if gate else "scan", "-c", cp, "-o", out, "--format", "json", "--quiet"]
    if tailoring:
        tp_ = os.path.join(d, "%s-tailoring.json" % tag)
        with open(tp_, "w") as f:
            json.dump(tailoring, f)
        argv += ["-t", tp_]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=180)
    try:
        rep = json.load(open(os.path.join(out, "report.json")))
    except (OSError, ValueError):
        print("tenken %s: exit %d: %s" % (tag, r.returncode, r.stderr[-2000:]))
        raise
    return r.returncode, rep


def by_target(rep):
    obs = {o.get("target"): o for o in rep["observations"]}
    st = {}
    for f in rep["findings"]:
        st[(f.get("target"), f.get("rule"))] = f
    return obs, st


def item_status(rep, no):
    for it in rep["items"]:
        if it.get("no") == no:
            return it.get("status")
    return None


T0 = time.monotonic()


def stamp(what):
    print("[%6.1fs] %s" % (time.monotonic() - T0, what))
    sys.stdout.flush()


def compare(name, tk, peers):
    for tool, s in peers.items():
        miss, extra = tk - s, s - tk
        check(not miss and not extra, "%s: tenken vs %s differ: only tenken: [%s] only %s: [%s]" %
              (name, tool, tp.fmt(miss), tool, tp.fmt(extra)))


def hsts_checks(d, dm, pki, ca, client, ports):
    """5. hsts: closed HTTP is said to be closed; an HTTP port that never answers is incomplete;
    client_cert/client_key against a haproxy that requires client certificates."""
    sts = '  http-after-response set-header Strict-Transport-Security "max-age=31536000; includeSubDomains"\n'
    mtls = dm.haproxy(pki.combined("rsa_good"), "ssl-min-ver TLSv1.2", bind_extra="ca-file %s verify required" % ca,
                      frontend_extra=sts)
    url = "https://127.0.0.1:%d/" % mtls
    closed = tp.free_port()
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # connections complete in the backlog, nothing ever answers
    try:
        base = {"urls": [url], "ca_file": ca, "request_timeout_s": 3}
        # no client certificate configured: the demand is named, incomplete (never a verdict)
        rc, h = tenken(d, "hsts-nocert", hsts=dict(base, http_port=closed), gate=True)
        o = [x for x in h["observations"] if x.get("probe") == "hsts"][0]
        check(o.get("kind") == "error" and "client certificate" in o.get("message", "") and rc == 3,
              "mTLS without client_cert: exit %d, %s" % (rc, o.get("message")))
        # with the client certificate: header read, verified, effective; HTTP closed is said
        cert, key = client
        rc, h = tenken(d, "hsts-cert", hsts=dict(base, http_port=closed, client_cert=cert, client_key=key), gate=True)
        o = [x for x in h["observations"] if x.get("probe") == "hsts"][0]
        _, st = by_target(h)
        check(o.get("effective") is True and o.get("status_code") == 200, "mTLS with client_cert: HSTS read: %s" %
              {k: o.get(k) for k in ("kind", "message", "status_code", "effective")})
        check(o.get("http", {}).get("state") == "closed" and o.get("http_closed") is True
              and "http_redirects_to_https" not in o, "closed HTTP is said: %s" % o.get("http"))
        check(st.get((url, "HTTP-NO-HTTPS-REDIRECT"), {}).get("status") == "pass", "closed HTTP: nothing to redirect")
        check(rc == 0, "mTLS + HSTS + closed HTTP: gate exit %d" % rc)
        # an HTTP port that accepts and never answers: the redirect question stays open
        rc, h = tenken(d, "hsts-silent", hsts=dict(base, http_port=silent.getsockname()[1], client_cert=cert,
                                                   client_key=key), gate=True)
        o = [x for x in h["observations"] if x.get("probe") == "hsts"][0]
        _, st = by_target(h)
        check(o.get("http", {}).get("state") == "error" and
              st.get((url, "HTTP-NO-HTTPS-REDIRECT"), {}).get("status") == "error" and rc == 3,
              "silent HTTP port: incomplete (exit %d): %s" % (rc, o.get("http")))
        # a bad client_cert path is a config error naming the field
        r = subprocess.run([TENKEN, "scan", "-c", write_cfg(d, "hsts-badcert", {"hsts": dict(
            base, client_cert=os.path.join(d, "nope.pem"), client_key=key)}), "-o", os.path.join(d, "x"), "--quiet"],
            capture_output=True, text=True, timeout=60)
        check(r.returncode == 2 and "client_cert" in r.stderr, "missing client_cert file: exit %d %s" %
              (r.returncode, r.stderr.strip()[:200]))
    finally:
        silent.close()


def write_cfg(d, tag, probes):
    cp = os.path.join(d, "%s.json" % tag)
    with open(cp, "w") as f:
        json.dump({"partner": {"id": "peers", "name": "peers"}, "checklist": "fisc-api-2018", "probes": probes}, f)
    return cp


def main():
    if not tp.in_netns():
        rc = tp.reexec_in_netns([sys.executable, os.path.abspath(__file__)])
        if rc is None:
            print("SKIP: cannot create a network namespace here (unshare -n); gnutls-serv cannot bind loopback only")
            return 0
        return rc
    missing = [t for t in ("openssl", "gnutls-serv", "nginx", "haproxy", "sslscan", "nmap", "testssl")
               if not tp.shutil.which(t)]
    if missing:
        print("FAIL: missing tools (scripts/debian-packages.txt): %s" % ", ".join(missing))
        return 1
    t0 = time.monotonic()
    d = tempfile.mkdtemp(prefix="tk-tlspeers-")
    pki = tp.PKI(d)
    ss = pki.self_signed("ss")
    rsa_exp = pki.issue("rsa_exp", "rsa", expired=True)
    ec_good = pki.issue("ec_good", "ec", days=60)
    rsa_good = pki.issue("rsa_good", "rsa", days=60)
    rsa9 = pki.issue("rsa9", "rsa", days=9)
    ec_inter = pki.issue("ec_inter", "ec", days=60, issuer="inter")
    client = pki.issue("client", "rsa", days=60, cn="tenken client")
    ca = pki.p("ca.pem")
    dm = tp.Daemons(d)
    fakes = []
    testssl = None
    try:
        ports = {}
        ports["ccm_ossl"] = dm.s_server(*ss, ["-tls1_3", "-ciphersuites", "TLS_AES_128_CCM_SHA256", "-www"])
        ports["ccm8_gnutls"] = dm.gnutls(*rsa_exp, "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-CCM-8")
        ports["legacy_gnutls"] = dm.gnutls(*rsa_good, "NORMAL:+VERS-TLS1.0:+VERS-TLS1.1:+AES-128-CBC:+AES-256-CBC:"
                                           "+SHA1:+RSA:+DHE-RSA")
        def crt(pair):
            return "ssl_certificate %s; ssl_certificate_key %s;" % pair
        common = "location / { return 200 'ok'; }"
        ng = dm.nginx([
            ("dual", crt(rsa_exp) + crt(ec_good) + " ssl_protocols TLSv1.2 TLSv1.3; " + common, False),
            ("dual13", crt(rsa_exp) + crt(ec_good) + " ssl_protocols TLSv1.3; " + common, False),
            ("sni", "ssl_reject_handshake on;", True),
            ("sni", "server_name api.acme.test; " + crt(rsa_good) + " ssl_protocols TLSv1.2 TLSv1.3; " + common, False),
            ("pref", crt(ec_good) + " ssl_protocols TLSv1.2; ssl_prefer_server_ciphers on; ssl_ciphers "
             "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES256-GCM-SHA384; " + common, False),
            ("chain", crt(ec_inter) + " ssl_protocols TLSv1.2 TLSv1.3; " + common, False),
            ("mtls", crt(rsa_good) + " ssl_protocols TLSv1.2; ssl_client_certificate %s; ssl_verify_client on; " % ca
             + common, False),
            ("exp9", "server_name api.acme.test; " + crt(rsa9) + " ssl_protocols TLSv1.2 TLSv1.3; ssl_ciphers "
             "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384; ssl_conf_command Ciphersuites "
             "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384; " + common, False),
        ])
        ports.update(ng)
        ports["haproxy"] = dm.haproxy(pki.combined("ec_good"), "ssl-min-ver TLSv1.2")
        nocert, trunc = FakeTLS12("nocert"), FakeTLS12("truncated")
        fakes += [nocert, trunc]
        ports["nocert"], ports["truncated"] = nocert.port, trunc.port
        refused = tp.free_port()
        ep = {k: "127.0.0.1:%d" % v for k, v in ports.items()}
        ep["sni_named"] = "api.acme.test@127.0.0.1:%d" % ports["sni"]
        ep["refused"] = "127.0.0.1:%d" % refused

        stamp("servers up")
        testssl = tp.testssl_start(d, "127.0.0.1", ports["haproxy"], "haproxy")
        # ---- one scan over every server ----
        _, rep = tenken(d, "all", tls={"endpoints": list(ep.values()), "ca_file": ca})
        obs, st = by_target(rep)
        stamp("scan done")

        def o(k):
            return obs.get(ep[k], {})

        def status(k, rule):
            return st.get((ep[k], rule), {}).get("status")

        # 1. CCM-only TLS 1.3: the certificate handshake offers CCM, the certificate is read and judged
        for k, suite in (("ccm_ossl", "TLS_AES_128_CCM_SHA256"), ("ccm8_gnutls", "TLS_AES_128_CCM_8_SHA256")):
            names = [s["name"] for s in o(k).get("suites", {}).get("tls1_3", {}).get("accepted", [])]
            check(names == [suite], "%s: accepted %s" % (k, names))
            c = o(k).get("certificate", {})
            check(c.get("present") is True and suite in c.get("obtained_by", ""), "%s: certificate read over %s: %s" %
                  (k, suite, json.dumps(c)[:300]))
        check(status("ccm_ossl", "TLS-CERT-INVALID") == "fail", "CCM self-signed: TLS-CERT-INVALID fails")
        check(status("ccm8_gnutls", "TLS-CERT-EXPIRED") == "fail", "CCM_8 gnutls expired: TLS-CERT-EXPIRED fails")
        rc, grep_ = tenken(d, "ccm-gate", tls={"endpoints": [ep["ccm_ossl"]]}, gate=True)
        check(rc == 1 and item_status(grep_, 30) == "fail", "CCM self-signed server fails the gate (exit %d)" % rc)

        # 2. dual certificates: both examined, the expired RSA one fails
        for k in ("dual", "dual13"):
            certs = o(k).get("certificates", [])
            kinds = sorted(c.get("key_type") for c in certs)
            check(kinds == ["EC", "RSA"], "%s: both certificates examined: %s" % (k, kinds))
            check(any(c.get("expired") for c in certs if c.get("key_type") == "RSA"), "%s: RSA one expired" % k)
            check(status(k, "TLS-CERT-EXPIRED") == "fail", "%s: TLS-CERT-EXPIRED fails" % k)

        # 3. interleaved server order is server preference, in the server's order
        pref = o("pref").get("suites", {}).get("tls1_2", {})
        check(pref.get("preference") == "server", "interleaved order read as %s" % pref.get("preference"))
        check([s["name"] for s in pref.get("accepted", [])] ==
              ["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
               "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"], "server order %s" % pref.get("accepted"))

        # 4. SNI required: an error saying so (incomplete), and the named endpoint scans
        e = o("sni")
        check(e.get("kind") == "error" and "requires a server name" in e.get("message", ""),
              "SNI required is said: %s" % e)
        check(o("sni_named").get("tls") is True and o("sni_named").get("certificate", {}).get("hostname_match") is True,
              "named endpoint of the SNI server scanned with its name")

        # incomplete chain
        c = o("chain").get("certificate", {})
        check(status("chain", "TLS-CERT-INVALID") == "fail" and "issuer" in c.get("verify_error", ""),
              "incomplete chain fails validation: %s" % c.get("verify_error"))
        # client certificate required
        check(o("mtls").get("client_cert_requested") is True, "nginx mTLS: client certificate request seen")
        # ECDSA behind haproxy
        check(o("haproxy").get("certificate", {}).get("key_type") == "EC", "haproxy ECDSA certificate")

        # 10. fail closed
        check(o("refused").get("kind") == "error" and o("refused").get("error") == "net", "refused: error net")
        check(o("truncated").get("kind") == "error" and "truncated" in o("truncated").get("message", ""),
              "truncated flight is an error: %s" % o("truncated"))
        c = o("nocert").get("certificate", {})
        check(c.get("present") is False and c.get("error"), "no certificate readable: %s" % c)
        f = st.get((ep["nocert"], "TLS-CERT-EXPIRED"), {})
        check(f.get("status") == "error" and f.get("evidence", {}).get("message"),
              "unreadable certificate: certificate rules are errors with the reason: %s" % f.get("evidence"))
        rc, g = tenken(d, "nocert-gate", tls={"endpoints": [ep["nocert"]]}, gate=True)
        check(item_status(g, 30) in ("incomplete", "fail") and rc in (1, 3) and not g["complete"],
              "unreadable certificate: item 30 %s, exit %d, complete %s" % (item_status(g, 30), rc, g["complete"]))
        rc, g = tenken(d, "sni-gate", tls={"endpoints": [ep["sni"]]}, gate=True)
        check(rc == 3 and item_status(g, 30) == "incomplete", "SNI required: gate exit %d (3), item 30 %s" %
              (rc, item_status(g, 30)))
        rc, g = tenken(d, "trunc-gate", tls={"endpoints": [ep["truncated"]]}, gate=True)
        check(rc == 3 and item_status(g, 30) == "incomplete", "truncated: gate exit %d (3)" % rc)

        # 6. a valid certificate expiring in 9 days warns, passes the gate; a tailored fail window fails it
        ep9 = "api.acme.test@127.0.0.1:%d" % ports["exp9"]
        rc, g = tenken(d, "exp9", tls={"endpoints": [ep9], "ca_file": ca}, gate=True)
        _, s9 = by_target(g)
        check(s9.get((ep9, "TLS-CERT-EXPIRING"), {}).get("status") == "warn", "9 days: TLS-CERT-EXPIRING warns")
        check(rc == 0 and item_status(g, 30) == "pass" and item_status(g, 37) == "pass",
              "9 days: gate exit %d, items 30/37 %s/%s; fails: %s" % (rc, item_status(g, 30), item_status(g, 37),
              [k[1] for k, v in s9.items() if v.get("status") == "fail"]))
        rc, g = tenken(d, "exp9-tailored", tls={"endpoints": [ep9], "ca_file": ca}, gate=True,
                       tailoring={"name": "bank", "rules": {"TLS-CERT-EXPIRY-FAIL-WINDOW": {"params": {"fail_days": 14}}}})
        check(rc == 1 and item_status(g, 30) == "fail", "9 days with a 14-day fail window: exit %d" % rc)

        stamp("gates done")
        # 8. accepted sets agree with sslscan and nmap (gnutls, nginx, haproxy), and testssl.sh once
        for k in ("legacy_gnutls", "dual", "pref", "haproxy"):
            peers = {"sslscan": tp.sslscan_set(d, "127.0.0.1", ports[k], k), "nmap": tp.nmap_set(d, "127.0.0.1", ports[k], k)}
            compare(k, tp.tenken_set(o(k)), peers)
            stamp("peers " + k)
        # testssl.sh (bash) needs 2-5 minutes here on a loaded machine: it ran in the background since the
        # servers came up; TENKEN_TESTSSL_WAIT_S bounds the wait (default 100 s after the start)
        wait_s = float(os.environ.get("TENKEN_TESTSSL_WAIT_S", "100"))
        ts = tp.testssl_set(d, "127.0.0.1", ports["haproxy"], "haproxy", proc=testssl, deadline=T0 + wait_s)
        if ts is None:
            print("SKIP: testssl.sh comparison: not finished %.0f s after the start (set TENKEN_TESTSSL_WAIT_S=600 "
                  "to wait; bench/tls/bench_tls.py --only agree compares it in full)" % wait_s)
        else:
            check(len(ts) > 0, "testssl.sh produced results")
            compare("haproxy", tp.tenken_set(o("haproxy")), {"testssl": ts})
        stamp("testssl.sh")
        print("accepted pairs: " + ", ".join("%s %d" % (k, len([p for p in tp.tenken_set(o(k)) if p[1] is not None]))
                                             for k in ("legacy_gnutls", "dual", "pref", "haproxy")))

        hsts_checks(d, dm, pki, ca, client, ports)
        stamp("hsts done")
    finally:
        if testssl and testssl.poll() is None:
            testssl.kill()
            testssl.wait()
        dm.stop()
        for f in fakes:
            f.close()
        print("elapsed %.1fs" % (time.monotonic() - t0))
    finish()


if __name__ == "__main__":
    sys.exit(main())
