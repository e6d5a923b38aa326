#!/usr/bin/env python3
"""Probe "legacy", native engine, against real listeners on 127.0.0.2-127.0.0.5 and ::1:
TELNET, FTP (pyftpdlib, a real server, plus a listener offering AUTH TLS), SMTP with and
without STARTTLS, rlogin/rsh/rexec, rpcbind and NFS over ONC RPC, TFTP over UDP, and a
closed, a silent and a garbage-sending port, each classified within its deadline."""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tkharness import Results, read_json, rmtree, run_tenken, tmpdir, write_json, free_port  # noqa: E402
import legacysrv as L  # noqa: E402


def ipv6_ok():
    try:
        s = socket.socket(socket.AF_INET6)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


def main():
    R = Results()
    work = tmpdir()
    servers = []
    try:
        A, B, C, D = "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"
        telnet = L.TCPServer(A, L.telnet_handler)
        ftp_tls = L.TCPServer(A, L.ftp_handler_factory(auth_tls=True, anonymous=False), port=0)
        servers += [telnet, ftp_tls]
        real_ftpd = None
        if L.pyftpdlib_available():
            os.mkdir(os.path.join(work, "ftproot"))
            real_ftpd = L.RealFTPD(A, free_port(A), os.path.join(work, "ftproot"))
            ftp_anon_port = real_ftpd.port
        else:
            ftp_anon = L.TCPServer(A, L.ftp_handler_factory(auth_tls=False, anonymous=True))
            servers.append(ftp_anon)
            ftp_anon_port = ftp_anon.port
        smtp_plain = L.TCPServer(B, L.smtp_handler_factory(False))
        smtp_tls = L.TCPServer(B, L.smtp_handler_factory(True))
        silent = L.TCPServer(B, L.silent_handler)
        garbage = L.TCPServer(B, L.garbage_handler)
        closed_port = free_port(B)
        rlogin = L.TCPServer(C, L.rproto_handler_factory(4, b"\x01rlogind: Permission denied.\r\n"))
        rsh = L.TCPServer(C, L.rproto_handler_factory(4, b"\x01Permission denied.\n"))
        rexec = L.TCPServer(C, L.rproto_handler_factory(4, b"\x01Login incorrect.\n"))
        rpcbind = L.TCPServer(C, L.rpc_handler_factory("rpcbind"))
        nfs = L.TCPServer(C, L.rpc_handler_factory("nfs"))
        tftp = L.TFTPServer(C)
        udp_closed = free_port(C)
        ssh_like = L.TCPServer(D, lambda c: c.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"))
        servers += [smtp_plain, smtp_tls, silent, garbage, rlogin, rsh, rexec, rpcbind, nfs, tftp, ssh_like]
        v6 = ipv6_ok()
        if v6:
            tel6 = L.TCPServer("::1", L.telnet_handler)
            servers.append(tel6)

        tcp_ports = sorted({telnet.port, ftp_tls.port, ftp_anon_port, smtp_plain.port, smtp_tls.port, silent.port,
                            garbage.port, closed_port, rlogin.port, rsh.port, rexec.port, rpcbind.port, nfs.port,
                            ssh_like.port} | ({tel6.port} if v6 else set()))
        ports = tcp_ports + ["%d/udp" % tftp.port, "%d/udp" % udp_closed]
        hosts = [A, B, C, D] + (["::1"] if v6 else [])
        sec = {"hosts": hosts, "ports": ports, "engine": "native", "try_anonymous_ftp": True,
               "banner_timeout_ms": 800, "reply_timeout_ms": 2000, "connect_timeout_ms": 1000,
               "udp_timeout_ms": 1000, "per_host_rate": 200, "max_concurrency": 32,
               "port_hints": {str(rlogin.port): "rlogin", str(rsh.port): "rsh", str(rexec.port): "rexec",
                              str(rpcbind.port): "rpcbind", str(nfs.port): "nfs"}}
        cfg = write_json(os.path.join(work, "partner.json"), {
            "partner": {"id": "legacy-it", "name": "legacy integration"},
            "probes": {"legacy": sec}})
        out = os.path.join(work, "out")
        t0 = time.time()
        rc, so, se = run_tenken("scan", "--config", cfg, "--out", out)
        elapsed = time.time() - t0
        R.check(rc == 0, "scan exits 0 (rc=%d, stderr=%s)" % (rc, se.strip()[:300]))
        # Bound: the silent port waits banner (0.8 s) and is then given up; everything runs in parallel.
        R.check(elapsed < 12, "scan finished within its deadlines (%.1f s)" % elapsed)
        rep = read_json(os.path.join(out, "report.json"))
        obs = [o for o in rep["observations"] if o.get("probe") == "legacy"]

        def svc(host, port, transport="tcp"):
            t = ("[%s]:%d/%s" if ":" in host else "%s:%d/%s") % (host, port, transport)
            m = [o for o in obs if o["kind"] == "legacy_service" and o["target"] == t]
            return m[0] if m else {}

        def hostobs(h):
            m = [o for o in obs if o["kind"] == "legacy_host" and o["target"] == h]
            return m[0] if m else {}

        def findings(rule, target):
            return [f["status"] for f in rep["findings"] if f["rule"] == rule and f["target"] == target]

        t = svc(A, telnet.port)
        R.check(t.get("protocol") == "telnet" and t.get("identified_by") == "telnet-iac-negotiation",
                "TELNET identified by IAC negotiation: %s" % t)
        R.check("DO TERMINAL-TYPE" in t.get("telnet_options", []) and "WILL ECHO" in t.get("telnet_options", []),
                "TELNET options recorded")
        R.check("login:" in t.get("banner", ""), "TELNET banner has the login prompt (after our refusals)")
        R.check("\\xff" not in t.get("banner", "x\\xff"), "TELNET banner has IAC sequences removed")
        f = svc(A, ftp_anon_port)
        R.check(f.get("protocol") == "ftp", "FTP (%s) identified: %s" % ("pyftpdlib" if real_ftpd else "listener", f))
        R.check(f.get("ftp_anonymous_login") is True, "anonymous FTP login detected")
        R.check(f.get("ftp_auth_tls") is False, "FTP without AUTH TLS detected")
        f2 = svc(A, ftp_tls.port)
        R.check(f2.get("protocol") == "ftp" and f2.get("ftp_auth_tls") is True, "FTP offering AUTH TLS in FEAT: %s" % f2)
        R.check(f2.get("ftp_anonymous_login") is False, "anonymous login refused (530) recorded as false")
        s1, s2 = svc(B, smtp_plain.port), svc(B, smtp_tls.port)
        R.check(s1.get("protocol") == "smtp" and s1.get("smtp_starttls") is False, "SMTP without STARTTLS: %s" % s1)
        R.check(s2.get("protocol") == "smtp" and s2.get("smtp_starttls") is True, "SMTP with STARTTLS")
        si = svc(B, silent.port)
        R.check(si.get("protocol") == "unknown" and si.get("identified_by") == "silent" and si.get("silent") is True,
                "silent port: open, unknown, silent: %s" % si)
        g = svc(B, garbage.port)
        R.check(g.get("protocol") == "unknown" and g.get("identified_by") == "unrecognised-banner",
                "garbage port: unrecognised banner: %s" % g)
        R.check("\\x17" in g.get("banner", "") and "\x1b" not in g.get("banner", "\x1b"),
                "garbage banner control characters escaped")
        R.check(svc(B, closed_port) == {}, "closed port has no service observation")
        hb = hostobs(B)
        R.check(closed_port in hb.get("closed_ports", []), "closed port listed as closed on %s" % B)
        R.check(silent.port in hb.get("open_ports", []) and garbage.port in hb.get("open_ports", []),
                "silent and garbage ports listed as open")
        for srv, name in ((rlogin, "rlogin"), (rsh, "rsh"), (rexec, "rexec")):
            o = svc(C, srv.port)
            R.check(o.get("protocol") == name and o.get("r_status_byte") == 1 and
                    o.get("identified_by") == "r-protocol-status-byte", "%s identified by status byte: %s" % (name, o))
        rb = svc(C, rpcbind.port)
        progs = {p.get("name") for p in rb.get("rpc_programs", [])}
        R.check(rb.get("protocol") == "rpcbind" and {"portmapper", "nfs", "mountd"} <= progs,
                "rpcbind dump lists portmapper, nfs, mountd: %s" % rb)
        n = svc(C, nfs.port)
        R.check(n.get("protocol") == "nfs" and n.get("rpc_accept_stat") == 0, "NFS NULL call answered: %s" % n)
        tf = svc(C, tftp.port, "udp")
        R.check(tf.get("protocol") == "tftp" and tftp.requests >= 1, "TFTP read request answered: %s" % tf)
        hc = hostobs(C)
        R.check(udp_closed in hc.get("closed_ports", []), "closed UDP port seen via ICMP port unreachable")
        hd = hostobs(D)
        R.check(hd.get("remote_operation_count") == 0 and hd.get("open", 0) >= 1, "clean host: no remote services: %s" % hd)
        R.check(svc(D, ssh_like.port).get("protocol") == "ssh", "SSH banner identified as ssh")
        ha = hostobs(A)
        R.check(ha.get("remote_operation_count") == 3, "host A: 3 remote-operation services (telnet, 2x ftp)")
        if v6:
            t6 = svc("::1", tel6.port)
            R.check(t6.get("protocol") == "telnet", "TELNET over IPv6 (::1): %s" % t6)
        # judgements
        R.check(findings("LEGACY-HOST-REMOTE-OPERATION", A) == ["fail"], "rule: host A fails")
        R.check(findings("LEGACY-HOST-REMOTE-OPERATION", D) == ["pass"], "rule: clean host D passes")
        R.check(findings("LEGACY-FTP-ANONYMOUS", "%s:%d/tcp" % (A, ftp_anon_port)) == ["fail"], "rule: anonymous FTP fails")
        R.check(findings("LEGACY-FTP-ANONYMOUS", "%s:%d/tcp" % (A, ftp_tls.port)) == ["pass"], "rule: no anonymous FTP passes")
        R.check(findings("LEGACY-FTP-NO-AUTH-TLS", "%s:%d/tcp" % (A, ftp_tls.port)) == ["pass"], "rule: AUTH TLS passes")
        R.check(findings("LEGACY-SMTP-NO-STARTTLS", "%s:%d/tcp" % (B, smtp_plain.port)) == ["fail"], "rule: SMTP w/o STARTTLS fails")
        R.check(findings("LEGACY-SMTP-NO-STARTTLS", "%s:%d/tcp" % (B, smtp_tls.port)) == ["pass"], "rule: SMTP STARTTLS passes")
        R.check(findings("LEGACY-REMOTE-OPERATION-SERVICE", "%s:%d/tcp" % (C, rlogin.port)) == ["fail"], "rule: rlogin fails")
        item27 = [i for i in rep["items"] if i["no"] == 27]
        R.check(item27 and item27[0]["status"] == "fail", "FISC item 27 fails")

        # Politeness: per-host rate and per-host concurrency are honoured.
        E = "127.0.0.9"
        closed20 = []
        while len(closed20) < 20:
            p = free_port(E)
            if p not in closed20:
                closed20.append(p)
        cfg = write_json(os.path.join(work, "rate.json"), {"partner": {"id": "r", "name": "r"}, "probes": {"legacy": {
            "hosts": [E], "ports": closed20, "per_host_rate": 10, "connect_timeout_ms": 1000}}})
        t0 = time.time()
        rc, so, se = run_tenken("scan", "--config", cfg, "--out", os.path.join(work, "rate"))
        el = time.time() - t0
        h = [o for o in read_json(os.path.join(work, "rate", "report.json"))["observations"] if o["kind"] == "legacy_host"]
        R.check(rc == 0 and h and h[0]["closed"] == 20 and 1.7 <= el < 6,
                "per_host_rate 10/s: 20 closed ports take about 2 s (%.2f s)" % el)
        peak = {"now": 0, "max": 0}
        import threading
        lock = threading.Lock()

        def counting(c):
            with lock:
                peak["now"] += 1
                peak["max"] = max(peak["max"], peak["now"])
            try:
                while c.recv(64):  # silent until the scanner gives up and closes
                    pass
            finally:
                with lock:
                    peak["now"] -= 1
        cs = [L.TCPServer(E, counting) for _ in range(6)]
        servers += cs
        cfg = write_json(os.path.join(work, "conc.json"), {"partner": {"id": "r", "name": "r"}, "probes": {"legacy": {
            "hosts": [E], "ports": [x.port for x in cs], "per_host_concurrency": 2, "per_host_rate": 0,
            "banner_timeout_ms": 300}}})
        t0 = time.time()
        rc, so, se = run_tenken("scan", "--config", cfg, "--out", os.path.join(work, "conc"))
        el = time.time() - t0
        # Each silent port holds its connection for the 300 ms banner wait: 6 ports, 2 at a time
        # is 3 rounds (>= 0.9 s); unbounded would be one round. The server-side peak lags closes.
        R.check(rc == 0 and sum(x.conns for x in cs) == 6 and 0.85 <= el < 5 and peak["max"] <= 4,
                "per_host_concurrency 2: 6 silent ports in 3 rounds (%.2f s, server-side peak %d)" % (el, peak["max"]))

        # The process-wide politeness budget ("scan" section) bounds the probe too.
        cfg = write_json(os.path.join(work, "budget.json"), {"partner": {"id": "r", "name": "r"},
                         "scan": {"max_connections_per_host": 2},
                         "probes": {"legacy": {"hosts": [E], "ports": [x.port for x in cs], "banner_timeout_ms": 300}}})
        t0 = time.time()
        rc, so, se = run_tenken("scan", "--config", cfg, "--out", os.path.join(work, "budget"))
        el = time.time() - t0
        R.check(rc == 0 and 0.85 <= el < 5, "scan.max_connections_per_host 2: 6 silent ports in 3 rounds (%.2f s)" % el)

        # The probe deadline cuts a slow scan short: the host gets an error, never a clean summary.
        cfg = write_json(os.path.join(work, "dl.json"), {"partner": {"id": "r", "name": "r"},
                         "scan": {"probe_timeout_s": 1},
                         "probes": {"legacy": {"hosts": [E], "ports": [x.port for x in cs], "banner_timeout_ms": 5000,
                                               "per_host_concurrency": 1}}})
        t0 = time.time()
        rc, so, se = run_tenken("scan", "--config", cfg, "--out", os.path.join(work, "dl"))
        el = time.time() - t0
        ob = read_json(os.path.join(work, "dl", "report.json"))["observations"]
        R.check(rc == 3 and el < 4 and any(o["kind"] == "error" and o["target"] == E for o in ob) and
                not any(o["kind"] == "legacy_host" for o in ob),
                "deadline: incomplete host reported as error, scan exits 3 in %.1f s" % el)

        # Config errors name the file and the JSON path.
        bad = write_json(os.path.join(work, "bad.json"), {"partner": {"id": "x", "name": "x"},
                                                          "probes": {"legacy": {"hosts": [A], "ports": [21, 70000]}}})
        rc, so, se = run_tenken("scan", "--config", bad, "--out", os.path.join(work, "o2"))
        R.check(rc == 2 and "probes.legacy.ports[1]" in se and "bad.json" in se, "bad port named in error: %s" % se.strip())
        bad = write_json(os.path.join(work, "bad2.json"), {"partner": {"id": "x", "name": "x"},
                                                           "probes": {"legacy": {"hosts": ["10.0.0.0/8"]}}})
        rc, so, se = run_tenken("scan", "--config", bad, "--out", os.path.join(work, "o3"))
        R.check(rc == 2 and "probes.legacy.hosts[0]" in se, "oversized CIDR refused: %s" % se.strip())
    finally:
        for s in servers:
            s.stop()
        if 'real_ftpd' in dir() and real_ftpd:
            real_ftpd.stop()
        rmtree(work)
    R.finish()


if __name__ == "__main__":
    main()
