"""Hostile partners: each misbehaving server costs at most its deadline, memory stays bounded,
an error observation names what went wrong, and the well-behaved target is still scanned.

The same servers are scanned by the hsts probe (HTTPS), the tls probe (raw handshakes) and the
legacy probe (banners): accepts and never speaks; one byte a second; a multi-gigabyte header;
closes mid-handshake; a TLS alert storm; a certificate chain of 100 certificates; an endless
redirect loop; garbage instead of TLS. (The cloud probe's 5xx-then-malformed API is in
test_cloud.py.)
"""
import os
import resource
import ssl
import subprocess
import time

from hostile import Hostile
from tkharness import TENKEN, HTTPServer, Results, TestCA, openssl, read_json, rmtree, tmpdir, write_json


def long_chain(ca, work, n=100):
    """A leaf certificate served with n intermediates (made with the openssl CLI)."""
    prev_crt, prev_key = "ca.pem", "ca.key"
    chain = []
    for i in range(n):
        key, crt = "int%d.key" % i, "int%d.pem" % i
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
                "-out", "int.csr", "-subj", "/CN=intermediate %d" % i, cwd=work)
        with open(os.path.join(work, "int.ext"), "w") as f:
            f.write("basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n")
        openssl("x509", "-req", "-in", "int.csr", "-CA", prev_crt, "-CAkey", prev_key, "-CAcreateserial",
                "-out", crt, "-days", "5", "-extfile", "int.ext", cwd=work)
        chain.insert(0, crt)
        prev_crt, prev_key = crt, key
    with open(os.path.join(work, "leaf.ext"), "w") as f:
        f.write("subjectAltName=DNS:chain.test\n")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "leaf.key",
            "-out", "leaf.csr", "-subj", "/CN=chain.test", cwd=work)
    openssl("x509", "-req", "-in", "leaf.csr", "-CA", prev_crt, "-CAkey", prev_key, "-CAcreateserial",
            "-out", "leaf.pem", "-days", "5", "-extfile", "leaf.ext", cwd=work)
    with open(os.path.join(work, "fullchain.pem"), "w") as out:
        for name in ["leaf.pem"] + chain:
            with open(os.path.join(work, name)) as f:
                out.write(f.read())
    return os.path.join(work, "fullchain.pem"), os.path.join(work, "leaf.key")


def main():
    r = Results()
    work = tmpdir()
    servers = []
    try:
        ca = TestCA(work)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*ca.issue("hostile.test"))
        chain_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        chain_ctx.load_cert_chain(*long_chain(ca, work))

        cases = {
            "silent": Hostile("127.0.0.40", "silent"),
            "trickle": Hostile("127.0.0.41", "trickle"),
            "close_mid_handshake": Hostile("127.0.0.42", "close_mid_handshake"),
            "alert_storm": Hostile("127.0.0.43", "alert_storm"),
            "garbage": Hostile("127.0.0.44", "garbage"),
            "huge_header": Hostile("127.0.0.45", "huge_header", ctx),
            "redirect_loop": Hostile("127.0.0.46", "redirect_loop", ctx),
            "chain100": Hostile("127.0.0.47", "tls_ok", chain_ctx),
        }
        servers += cases.values()
        good = HTTPServer("127.0.0.48", cert=ca.issue("good.test"),
                          headers=[("Strict-Transport-Security", "max-age=63072000")])
        servers.append(good)
        urls, resolve = {}, {}
        for name, s in cases.items():
            host = name.replace("_", "-") + ".test" if name != "chain100" else "chain.test"
            urls[name] = "https://%s:%d/" % (host, s.port)
            resolve[host] = s.sock.getsockname()[0]
        urls["good"] = "https://good.test:%d/" % good.port
        resolve["good.test"] = "127.0.0.48"

        timeout = 4
        tls_eps = {name: "%s:%d" % (resolve[u.split("/")[2].split(":")[0]], int(u.split(":")[2].rstrip("/")))
                   for name, u in urls.items()}
        legacy_hosts = sorted({s.sock.getsockname()[0] for s in cases.values()})
        legacy_ports = sorted({s.port for s in cases.values()})
        cfg = write_json(os.path.join(work, "partner.json"), {
            "partner": {"id": "hostile", "name": "Hostile partner"},
            "probes": {"hsts": {"urls": list(urls.values()), "resolve": resolve, "ca_file": "ca.pem",
                                "check_http_redirect": False, "request_timeout_s": timeout, "timeout_s": 30},
                       "tls": {"endpoints": list(tls_eps.values()), "ca_file": "ca.pem",
                               "connection_timeout_s": 3, "timeout_s": 40},
                       "legacy": {"hosts": legacy_hosts, "ports": legacy_ports, "timeout_s": 40}}})
        out = os.path.join(work, "out")
        t0 = time.time()
        p = subprocess.run([TENKEN, "scan", "--config", cfg, "--out", out], capture_output=True, text=True, timeout=120)
        elapsed = time.time() - t0
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        r.check(p.returncode == 3, "scan of hostile partners exits 3 (incomplete) (got %d: %s)" % (p.returncode, p.stderr.strip()))
        r.check(elapsed < 40, "finished within the probes' deadlines (%.1fs)" % elapsed)
        r.check(peak_kb < 200 * 1024, "peak memory bounded (%d MiB)" % (peak_kb // 1024))
        rep = read_json(os.path.join(out, "report.json"))
        obs = {o["target"]: o for o in rep["observations"] if o["probe"] == "hsts"}
        tls = {}
        for o in rep["observations"]:
            if o["probe"] == "tls":
                tls.setdefault(o["target"], []).append(o)
        r.check(all(p_["status"] in ("ok", "error") for p_ in rep["probes"]) and
                not any(p_["status"] == "timeout" for p_ in rep["probes"]),
                "every probe returned by itself, none abandoned: %s" % [(p_["name"], p_["status"]) for p_ in rep["probes"]])
        # The tls probe: silence is an error (nothing observed); a server that answers every
        # ClientHello with garbage, a close or alerts is observed as not speaking TLS, which fails
        # TLS-NOT-OFFERED. Either way the endpoint can never pass.
        for name in ("silent", "trickle", "close_mid_handshake", "alert_storm", "garbage"):
            found = [o for t, os_ in tls.items() for o in os_ if tls_eps[name] in t]
            fails = [f for f in rep["findings"] if rep["rules"][f["rule"]]["probe"] == "tls" and tls_eps[name] in f["target"]]
            ok = len(found) == 1 and (found[0]["kind"] == "error" or
                                      (found[0]["tls"] is False and
                                       any(f["rule"] == "TLS-NOT-OFFERED" and f["status"] == "fail" for f in fails)))
            ok = ok and not any(f["status"] == "pass" and f["rule"] in ("TLS-NOT-OFFERED", "TLS-PROFILE-NONCONFORMANT")
                                for f in fails)
            r.check(ok, "tls probe, %s: %s" % (name, "error: %s" % found[0].get("error") if found and found[0]["kind"] == "error"
                                                else "observed as no TLS, TLS-NOT-OFFERED fails"))
        good_tls = [o for t, os_ in tls.items() for o in os_ if tls_eps["good"] in t]
        r.check(good_tls and good_tls[0]["kind"] != "error", "tls probe: the well-behaved endpoint is still assessed")
        legacy_hosts_obs = [o for o in rep["observations"] if o["probe"] == "legacy" and o["kind"] == "legacy_host"]
        r.check(len(legacy_hosts_obs) + len([o for o in rep["observations"] if o["probe"] == "legacy" and o["kind"] == "error"])
                >= len(legacy_hosts), "legacy probe: every hostile host got a host summary or an error")
        for name in ("silent", "trickle", "close_mid_handshake", "alert_storm", "garbage", "huge_header"):
            o = obs.get(urls[name], {})
            r.check(o.get("kind") == "error" and o.get("error") in ("timeout", "net", "tls", "limit") and o.get("message"),
                    "%s: error observation (%s: %s)" % (name, o.get("error"), o.get("message")))
        r.check(obs[urls["huge_header"]]["error"] == "limit", "huge header: classified as a limit")
        r.check(obs[urls["silent"]]["error"] == "timeout" and obs[urls["trickle"]]["error"] == "timeout",
                "silent and trickling servers: timeouts")
        o = obs[urls["redirect_loop"]]
        r.check(o["kind"] == "hsts" and o["status_code"] == 302 and o["present"] is False,
                "redirect loop: one response recorded, no loop followed")
        o = obs[urls["chain100"]]
        # the 100 intermediates chain up to the trusted CA: OpenSSL's default depth (100) accepts it
        r.check(o["kind"] == "hsts" and o["max_age"] == 63072000,
                "100-certificate chain: handled (verified %s), header read, no crash" % o.get("tls_verified"))
        o = obs[urls["good"]]
        r.check(o["kind"] == "hsts" and o["effective"] is True and o["max_age"] == 63072000,
                "the well-behaved target is still scanned")
        r.check(cases["huge_header"].accepted >= 1 and cases["trickle"].accepted >= 1, "hostile servers were contacted")
    finally:
        for s in servers:
            s.stop()
        rmtree(work)
    r.finish()


if __name__ == "__main__":
    main()
