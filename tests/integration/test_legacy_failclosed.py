#!/usr/bin/env python3
"""Probe "legacy" fails closed: every way its evidence can go missing makes the items it feeds
`incomplete` (gate exit 3) with the reason, never `pass`.

The peers here are stand-ins written for the case (a real daemon cannot be told to cut its reply
in the middle, or to drop SYNs on loopback): a listener whose accept queue is full (the kernel
then drops SYNs: the port looks filtered), and listeners that stop inside a reply. The real
daemons are in test_legacy_daemons.py and test_legacy_datastores.py; the deadline and nmap
failures are in test_legacy_scan.py and test_legacy_nmap.py."""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tkharness import Results, free_port, read_json, rmtree, run_tenken, tmpdir, write_json  # noqa: E402
import debdaemons as D  # noqa: E402
import legacysrv as L  # noqa: E402


def gate(work, name, host, ports, **kw):
    sec = {"hosts": [host], "ports": ports, "banner_timeout_ms": 500, "reply_timeout_ms": 800,
           "connect_timeout_ms": 700}
    sec.update(kw)
    cfg = write_json(os.path.join(work, name + ".json"), {"partner": {"id": "fc-" + name, "name": name},
                                                           "probes": {"legacy": sec}})
    rc, so, se = run_tenken("gate", "--config", cfg, "--out", os.path.join(work, name))
    return rc, read_json(os.path.join(work, name, "report.json"))


def item(rep, no):
    m = [i for i in rep["items"] if i["no"] == no]
    return m[0]["status"] if m else None


def errors(rep):
    return [o.get("message", "") for o in rep["observations"] if o["kind"] == "error"]


def sends_then_closes(data):
    def h(c):
        c.sendall(data)
        time.sleep(0.05)
        c.close()
    return h


def sends_then_waits(data):
    def h(c):
        c.sendall(data)
        c.settimeout(5)
        try:
            while c.recv(256):
                pass
        except OSError:
            pass
    return h


def client_first(reply):
    """Waits for the client's request, answers `reply`, closes."""
    def h(c):
        c.settimeout(5)
        try:
            c.recv(256)
            c.sendall(reply)
            time.sleep(0.05)
        except OSError:
            pass
        c.close()
    return h


def main():
    R = Results()
    work = tmpdir()
    servers, socks = [], []
    try:
        # 1. Filtered: a listener with a full accept queue drops further SYNs (connect times out).
        A = D.random_loopback()
        full = socket.socket()
        full.bind((A, 0))
        full.listen(0)
        fport = full.getsockname()[1]
        socks.append(full)
        for _ in range(3):
            c = socket.socket()
            c.setblocking(False)
            c.connect_ex((A, fport))
            socks.append(c)
        time.sleep(0.2)
        rc, rep = gate(work, "filtered", A, [fport])
        hosts = [o for o in rep["observations"] if o["kind"] == "legacy_host"]
        R.check(rc == 3 and not hosts and any("no port answered" in m for m in errors(rep)) and
                item(rep, 27) == "incomplete",
                "every port filtered (host down or unreachable): no host summary, item 27 incomplete, exit 3: "
                "rc=%d %s" % (rc, errors(rep)))
        # Filtered next to a port that answered (closed): a firewall's drop, evidence of not reachable.
        closed = free_port(A)
        rc, rep = gate(work, "filtered-closed", A, [fport, closed])
        hosts = [o for o in rep["observations"] if o["kind"] == "legacy_host"]
        R.check(rc == 0 and hosts and hosts[0]["filtered"] == 1 and hosts[0]["closed"] == 1 and
                item(rep, 27) == "pass",
                "one port filtered, one refused: the host answered, filtered counts as unreachable: rc=%d %s" %
                (rc, hosts[0] if hosts else errors(rep)))

        # 2. Connection refused everywhere: the host answered (RST) -> a clean, complete pass.
        rc, rep = gate(work, "refused", A, [closed])
        R.check(rc == 0 and item(rep, 27) == "pass", "refused: complete pass (rc=%d)" % rc)

        # 3. A reply cut short (EOF inside the greeting reply): the port's rules are incomplete.
        B = D.random_loopback()
        cut = L.TCPServer(B, sends_then_closes(b"250-first line\r\n250-second li"))
        servers.append(cut)
        rc, rep = gate(work, "cut", B, [cut.port])
        t = "%s:%d/tcp" % (B, cut.port)
        st = [f["status"] for f in rep["findings"] if f["target"] == t]
        R.check(rc == 3 and "error" in st and "pass" not in st and item(rep, 27) == "incomplete" and
                any("cut short" in m for m in errors(rep)),
                "truncated greeting: error finding, item 27 incomplete, exit 3: rc=%d %s %s" % (rc, st, errors(rep)))
        hb = [f["status"] for f in rep["findings"] if f["rule"] == "LEGACY-HOST-REMOTE-OPERATION"]
        R.check(hb == [], "a host with a port whose evidence is missing gets no host-level pass: %s" % hb)

        # 4. SMTP that never answers EHLO: whether it offers STARTTLS is unknown -> incomplete.
        mute = L.TCPServer(B, sends_then_waits(b"220 mx.tenken.test ESMTP ready\r\n"))
        servers.append(mute)
        rc, rep = gate(work, "smtp-mute", B, [mute.port])
        t = "%s:%d/tcp" % (B, mute.port)
        fs = {}
        for f in rep["findings"]:
            if f["target"] == t:
                fs.setdefault(f["rule"], []).append(f["status"])
        R.check(rc == 3 and "LEGACY-SMTP-NO-STARTTLS" in fs and "pass" not in fs["LEGACY-SMTP-NO-STARTTLS"] and
                item(rep, 30) == "incomplete" and any("EHLO" in m for m in errors(rep)),
                "SMTP silent after the greeting: STARTTLS rule error, item 30 incomplete: rc=%d %s" % (rc, fs))

        # 5. A data store whose reply is cut short (hinted Redis port answering "+PON" and closing).
        redis_cut = L.TCPServer(B, client_first(b"+PON"))
        servers.append(redis_cut)
        rc, rep = gate(work, "redis-cut", B, [redis_cut.port], port_hints={str(redis_cut.port): "redis"})
        R.check(rc == 3 and item(rep, 30) == "incomplete" and any("Redis reply cut short" in m for m in errors(rep)),
                "Redis reply cut short: item 30 incomplete, exit 3: rc=%d %s" % (rc, errors(rep)))

        # 6. A 220 greeting that never finishes its line is FTP (fail), not an unrecognised banner.
        ftp_long = L.TCPServer(B, sends_then_waits(b"220 " + b"A" * 5000))
        servers.append(ftp_long)
        rc, rep = gate(work, "ftp-long", B, [ftp_long.port])
        o = [x for x in rep["observations"] if x["kind"] == "legacy_service"]
        R.check(rc == 1 and o and o[0]["protocol"] == "ftp" and o[0]["identified_by"] == "220-unterminated-greeting",
                "4096+ byte 220 greeting without a newline: FTP, gate fails: rc=%d %s" % (rc, o[0] if o else o))

        # 7. FTP where anonymous login was not tried: the anonymous rule gives no verdict (never pass).
        ftp = L.TCPServer(B, L.ftp_handler_factory(auth_tls=False, anonymous=True))
        servers.append(ftp)
        rc, rep = gate(work, "ftp-notried", B, [ftp.port], try_anonymous_ftp=False)
        st = [f["status"] for f in rep["findings"] if f["rule"] == "LEGACY-FTP-ANONYMOUS"]
        R.check(rc == 1 and st == [], "anonymous FTP not tried: no LEGACY-FTP-ANONYMOUS verdict (was pass): %s" % st)
    finally:
        for s in servers:
            s.stop()
        for s in socks:
            s.close()
        rmtree(work)
    R.finish()


if __name__ == "__main__":
    main()
