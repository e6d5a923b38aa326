#!/usr/bin/env python3
"""Probe "legacy" with "engine": "nmap": tenken runs the real nmap (-sT -sV -oX -) against
listeners on 127.0.0.6 and must report the same open ports, service names, products and
CPEs as nmap's own XML (read here with xml.etree); with nmap missing it falls back to the
native scanner and says so once."""
import os
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tkharness import Results, read_json, rmtree, run_tenken, tmpdir, write_json, free_port  # noqa: E402
import legacysrv as L  # noqa: E402

H = "127.0.0.6"


def main():
    R = Results()
    if not shutil.which("nmap"):
        print("nmap is not installed (Debian package nmap): cannot test the nmap engine")
        R.check(False, "nmap available")
        R.finish()
    work = tmpdir()
    servers, ftpd = [], None
    try:
        telnet = L.TCPServer(H, L.telnet_handler)
        smtp = L.TCPServer(H, L.smtp_handler_factory(False))
        servers += [telnet, smtp]
        if L.pyftpdlib_available():
            os.mkdir(os.path.join(work, "root"))
            ftpd = L.RealFTPD(H, free_port(H), os.path.join(work, "root"))
            ftp_port = ftpd.port
        else:
            f = L.TCPServer(H, L.ftp_handler_factory(False, True, b"220 (vsFTPd 3.0.3)\r\n"))
            servers.append(f)
            ftp_port = f.port
        closed = free_port(H)
        ports = sorted([telnet.port, smtp.port, ftp_port, closed])
        xml = subprocess.run(["nmap", "-sT", "-sV", "-Pn", "-n", "-oX", "-", "-p", ",".join(map(str, ports)), H],
                             capture_output=True, timeout=120).stdout
        root = ET.fromstring(xml)
        want = {}
        for p in root.iter("port"):
            st = p.find("state").get("state")
            svc = p.find("service")
            want[int(p.get("portid"))] = (st, svc.get("name") if svc is not None else None,
                                          svc.get("product") if svc is not None else None,
                                          [c.text for c in svc.findall("cpe")] if svc is not None else [])
        R.check(want.get(ftp_port, ("",))[0] == "open" and want.get(closed, ("",))[0] == "closed",
                "nmap itself sees the FTP port open and the closed port closed")

        cfg = write_json(os.path.join(work, "p.json"), {
            "partner": {"id": "nmap-it", "name": "nmap"},
            "probes": {"legacy": {"hosts": [H], "ports": ports, "engine": "nmap", "try_anonymous_ftp": True,
                                  "nmap_timeout_s": 120, "banner_timeout_ms": 800}}})
        out = os.path.join(work, "out")
        rc, so, se = run_tenken("scan", "--config", cfg, "--out", out)
        R.check(rc == 0, "scan with engine nmap exits 0 (%d: %s)" % (rc, se.strip()[:300]))
        rep = read_json(os.path.join(out, "report.json"))
        svcs = {o["port"]: o for o in rep["observations"] if o.get("kind") == "legacy_service"}
        host = [o for o in rep["observations"] if o.get("kind") == "legacy_host"]
        opened = {p for p, v in want.items() if v[0] == "open"}
        R.check(set(svcs) == opened, "open ports agree with nmap: %s vs %s" % (sorted(svcs), sorted(opened)))
        for p in sorted(opened):
            o = svcs.get(p, {})
            n = o.get("nmap", {})
            R.check(o.get("engine") == "nmap" and n.get("service") == want[p][1] and
                    n.get("product") == want[p][2] and o.get("cpe", []) == want[p][3],
                    "port %d: service/product/CPE as nmap says (%s)" % (p, o.get("nmap")))
        R.check(svcs.get(telnet.port, {}).get("protocol") == "telnet", "TELNET protocol")
        R.check(svcs.get(ftp_port, {}).get("ftp_anonymous_login") is True,
                "native fingerprint enriches nmap's result (anonymous FTP)")
        R.check(host and host[0].get("closed") == 1 and host[0].get("ports_scanned") == 4,
                "host summary: 4 scanned, 1 closed (%s)" % (host[0] if host else None))
        if ftpd:
            R.check(any(c.startswith("cpe:/a:giampaolo_rodola:pyftpdlib") for c in svcs.get(ftp_port, {}).get("cpe", [])),
                    "pyftpdlib CPE kept for the patch probe")

        # IPv4 and IPv6 hosts in one section: nmap runs once per family, both are reported.
        try:
            tel6 = L.TCPServer("::1", L.telnet_handler)
            servers.append(tel6)
        except OSError:
            tel6 = None
        if tel6:
            cfg3 = write_json(os.path.join(work, "p3.json"), {
                "partner": {"id": "nmap-it", "name": "nmap"},
                "probes": {"legacy": {"hosts": [H, "::1"], "ports": [telnet.port, tel6.port], "engine": "nmap",
                                      "banner_timeout_ms": 800}}})
            rc, so, se = run_tenken("scan", "--config", cfg3, "--out", os.path.join(work, "out3"))
            rep = read_json(os.path.join(work, "out3", "report.json"))
            got = {(o["address"], o["port"], o["engine"], o["protocol"]) for o in rep["observations"]
                   if o.get("kind") == "legacy_service"}
            want3 = {(H, telnet.port, "nmap", "telnet"), ("::1", tel6.port, "nmap", "telnet")}
            R.check(rc == 0 and want3 <= got, "nmap engine over IPv4 and IPv6 hosts: %s" % sorted(got))

        # An nmap that overruns its deadline is killed; one that writes hostile or truncated XML is
        # not believed: both fall back to the native scanner.
        hang = os.path.join(work, "nmap-hang")
        with open(hang, "w") as f:
            f.write("#!%s\nimport time\ntime.sleep(120)\n" % sys.executable)
        bad = os.path.join(work, "nmap-bad")
        with open(bad, "w") as f:
            f.write("#!%s\nimport sys\nsys.stdout.write('<?xml version=\"1.0\"?><nmaprun><host><address addr=\"%s\" "
                    "addrtype=\"ipv4\"/><ports><port protocol=\"tcp\" portid=\"1\"><state state=\"open\"/>"
                    "<service name=\"x\"><cpe>' + 'A' * 100000)\n" % (sys.executable, H))
        os.chmod(hang, 0o755)
        os.chmod(bad, 0o755)
        for fake, what in ((hang, "hanging"), (bad, "truncated-XML")):
            cfgf = write_json(os.path.join(work, "pf.json"), {
                "partner": {"id": "nmap-it", "name": "nmap"},
                "probes": {"legacy": {"hosts": [H], "ports": ports, "engine": "nmap", "nmap_path": fake,
                                      "nmap_timeout_s": 2, "banner_timeout_ms": 800}}})
            t0 = time.time()
            rc, so, se = run_tenken("scan", "--config", cfgf, "--out", os.path.join(work, "outf"))
            el = time.time() - t0
            repf = read_json(os.path.join(work, "outf", "report.json"))
            svf = {o["port"]: o for o in repf["observations"] if o.get("kind") == "legacy_service"}
            R.check(rc == 0 and set(svf) == opened and all(o["engine"] == "native" for o in svf.values()) and
                    el < 8 and "using the native scanner" in se,
                    "%s nmap: native fallback in %.1f s (%s)" % (what, el, se.strip()[:120]))
            hf = [o for o in repf["observations"] if o.get("kind") == "legacy_host"]
            R.check(hf and all(o.get("nmap_fallback", "").startswith("nmap failed") for o in hf),
                    "%s nmap: the host observation records the fallback: %s" % (what, [o.get("nmap_fallback") for o in hf]))

        # nmap missing: fall back to the native scanner, and say so once.
        cfg2 = write_json(os.path.join(work, "p2.json"), {
            "partner": {"id": "nmap-it", "name": "nmap"},
            "probes": {"legacy": {"hosts": [H], "ports": ports, "engine": "nmap",
                                  "nmap_path": "/nonexistent/nmap", "banner_timeout_ms": 800}}})
        rc, so, se = run_tenken("scan", "--config", cfg2, "--out", os.path.join(work, "out2"))
        rep = read_json(os.path.join(work, "out2", "report.json"))
        sv2 = {o["port"]: o for o in rep["observations"] if o.get("kind") == "legacy_service"}
        R.check(rc == 0 and set(sv2) == opened and all(o["engine"] == "native" for o in sv2.values()),
                "missing nmap: native fallback finds the same open ports")
        R.check(len([l for l in se.splitlines() if "nmap" in l]) == 1 and "not found" in se, "missing nmap logged once: %r" % se.strip())
        hosts2 = [o for o in rep["observations"] if o.get("kind") == "legacy_host"]
        R.check(hosts2 and all("not found" in o.get("nmap_fallback", "") for o in hosts2),
                "the report says why the native engine ran (nmap_fallback): %s" % [o.get("nmap_fallback") for o in hosts2])
    finally:
        for s in servers:
            s.stop()
        if ftpd:
            ftpd.stop()
        rmtree(work)
    R.finish()


if __name__ == "__main__":
    main()
