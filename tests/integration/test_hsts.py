"""The hsts probe against real HTTPS servers sending each interesting header.

none; short max-age; two headers (first wins, RFC 6797 8.1); malformed;
quoted max-age; unknown directive; HSTS sent over plain HTTP (ignored);
untrusted certificate (header read but not effective); a silent server (deadline).
"""
import os
import socket
import threading
import time

from tkharness import HTTPServer, Results, TestCA, read_json, rmtree, run_tenken, tmpdir, write_json

CASES = {
    "none": [],
    "short": [("Strict-Transport-Security", "max-age=300; includeSubDomains")],
    "two": [("Strict-Transport-Security", "max-age=100"), ("Strict-Transport-Security", "max-age=63072000")],
    "malformed": [("Strict-Transport-Security", "max-age=31536000x; includeSubDomains")],
    "quoted": [("Strict-Transport-Security", 'max-age="31536000"; includeSubDomains; foo=bar')],
    "nomaxage": [("Strict-Transport-Security", "includeSubDomains; preload")],
}


def main():
    r = Results()
    work = tmpdir()
    servers = []
    silent = None
    try:
        ca = TestCA(work)
        os.makedirs(os.path.join(work, "other"))
        other_ca = TestCA(os.path.join(work, "other"))
        urls, resolve = {}, {}
        for i, (name, headers) in enumerate(CASES.items()):
            host = "%s.test" % name
            addr = "127.0.0.%d" % (10 + i)
            s = HTTPServer(addr, cert=ca.issue(host), headers=headers)
            servers.append(s)
            urls[name] = "https://%s:%d/" % (host, s.port)
            resolve[host] = addr
        # certificate from a CA the scanner does not trust
        s = HTTPServer("127.0.0.30", cert=other_ca.issue("untrusted.test"),
                       headers=[("Strict-Transport-Security", "max-age=63072000")])
        servers.append(s)
        urls["untrusted"] = "https://untrusted.test:%d/" % s.port
        resolve["untrusted.test"] = "127.0.0.30"
        # plain HTTP beside "short" sends HSTS (ignored) and no redirect
        plain = HTTPServer("127.0.0.11", headers=[("Strict-Transport-Security", "max-age=99999999")])
        servers.append(plain)
        # a server that accepts and never speaks
        silent = socket.socket()
        silent.bind(("127.0.0.31", 0))
        silent.listen(8)
        urls["silent"] = "https://silent.test:%d/" % silent.getsockname()[1]
        resolve["silent.test"] = "127.0.0.31"

        cfg = write_json(os.path.join(work, "partner.json"), {
            "partner": {"id": "hsts-cases", "name": "HSTS cases"},
            "probes": {"hsts": {"urls": list(urls.values()), "resolve": resolve, "ca_file": "ca.pem",
                                "http_port": plain.port, "request_timeout_s": 3}}})
        out = os.path.join(work, "out")
        t0 = time.time()
        rc, so, se = run_tenken("scan", "--config", cfg, "--out", out)
        elapsed = time.time() - t0
        r.check(rc == 3, "scan with a silent endpoint exits 3 (incomplete) (got %d: %s)" % (rc, se.strip()))
        r.check(elapsed < 15, "the silent endpoint costs its request timeout, not more (%.1fs)" % elapsed)
        rep = read_json(os.path.join(out, "report.json"))
        obs = {o["target"]: o for o in rep["observations"]}

        def o(name):
            return obs[urls[name]]

        r.check(o("none")["present"] is False and o("none")["effective"] is False, "none: no HSTS")
        r.check(o("short")["valid"] and o("short")["max_age"] == 300 and o("short")["include_subdomains"],
                "short: max-age 300, includeSubDomains")
        r.check(o("two")["sts_headers"] == 2 and o("two")["max_age"] == 100, "two headers: the first wins (100)")
        r.check(o("malformed")["present"] and not o("malformed")["valid"] and not o("malformed")["effective"]
                and "max-age" in o("malformed")["parse_error"], "malformed: present, invalid, not effective")
        r.check(o("quoted")["valid"] and o("quoted")["max_age"] == 31536000, "quoted max-age, unknown directive ignored")
        r.check(not o("nomaxage")["valid"], "no max-age: invalid")
        u = o("untrusted")
        r.check(u["tls_verified"] is False and u["max_age"] == 63072000 and u["effective"] is False and "tls_error" in u,
                "untrusted certificate: header read, not effective, TLS error recorded")
        h = o("short")["http"]
        r.check(h["reachable"] and h["status_code"] == 200 and h["sts_sent_over_http_ignored"] is True
                and o("short")["http_redirects_to_https"] is False, "HSTS over plain HTTP is recorded as ignored")
        e = obs[urls["silent"]]
        r.check(e["kind"] == "error" and e["error"] == "timeout", "silent endpoint: a timeout error observation")

        def status(rule, name):
            return [f["status"] for f in rep["findings"] if f["rule"] == rule and f["target"] == urls[name]]

        r.check(status("HSTS-MISSING", "none") == ["fail"] and status("HSTS-MISSING", "malformed") == ["fail"]
                and status("HSTS-MISSING", "untrusted") == ["fail"] and status("HSTS-MISSING", "quoted") == ["pass"],
                "HSTS-MISSING judges presence, validity and certificate")
        r.check(status("HSTS-MAX-AGE-SHORT", "short") == ["fail"] and status("HSTS-MAX-AGE-SHORT", "quoted") == ["pass"]
                and status("HSTS-MAX-AGE-SHORT", "none") == [], "HSTS-MAX-AGE-SHORT only judges valid headers")
        r.check(status("HTTP-NO-HTTPS-REDIRECT", "short") == ["fail"], "no redirect on plain HTTP fails")
        r.check(status("HSTS-MISSING", "silent") == ["error"], "the silent endpoint's rules are errors")
        r.check(all(s.hits >= 1 for s in servers[:6]), "every HTTPS server was actually contacted")
    finally:
        for s in servers:
            s.stop()
        if silent:
            silent.close()
        rmtree(work)
    r.finish()


if __name__ == "__main__":
    main()
