#!/usr/bin/env python3
"""Probe "legacy" against the real daemons from Debian packages, started here on loopback:
openbsd-inetd running inetutils-telnetd and rsh-server's in.rexecd, in.rlogind and in.rshd (on
their fixed ports 23/512/513/514 at a random 127.x.y.z of their own), vsftpd (anonymous, and
with AUTH TLS), exim4 (with and without STARTTLS), tftpd-hpa, and rpcbind (in a private network
namespace: its TCP socket cannot be bound to one address). NFS needs the kernel's nfsd, which is
skipped with the reason printed when the kernel does not offer it.

Second FTP server: vsftpd, proftpd and pure-ftpd all conflict with each other in Debian
(Provides/Conflicts: ftp-server), so only vsftpd is installed; pyftpdlib (python3-pyftpdlib) is
the second real FTP server, in test_legacy_scan.py."""
import os
import socket
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tkharness import TENKEN, Results, TestCA, read_json, rmtree, run_tenken, tmpdir, write_json  # noqa: E402
import debdaemons as D  # noqa: E402


class Hang:
    """A listener that accepts and then neither answers nor closes (a stand-in with no real
    equivalent: the contrast case for the rexec heuristic)."""

    def __init__(self, addr, port):
        self.s = socket.socket()
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.s.bind((addr, port))
        self.s.listen(8)
        self.conns = []
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        while True:
            try:
                c, _ = self.s.accept()
            except OSError:
                return
            self.conns.append(c)

    def stop(self):
        self.s.close()
        for c in self.conns:
            c.close()


def scan(work, name, hosts, ports, **kw):
    sec = {"hosts": hosts, "ports": ports, "banner_timeout_ms": 1000, "reply_timeout_ms": 4000,
           "udp_timeout_ms": 1500}
    sec.update(kw)
    cfg = write_json(os.path.join(work, name + ".json"), {"partner": {"id": "legacy-" + name, "name": name},
                                                           "probes": {"legacy": sec}})
    out = os.path.join(work, name)
    rc, so, se = run_tenken("gate", "--config", cfg, "--out", out)
    return rc, se, read_json(os.path.join(out, "report.json"))


def services(rep):
    return {o["target"]: o for o in rep["observations"] if o["kind"] == "legacy_service"}


def statuses(rep, target):
    st = {}
    for f in rep["findings"]:
        if f["target"] == target:
            st.setdefault(f["rule"], []).append(f["status"])
    return st


def main():
    R = Results()
    work = tmpdir()
    os.chmod(work, 0o755)
    ds = []
    try:
        if os.geteuid() != 0:
            print("SKIP: needs root (daemons drop to their own users; inetd and rpcbind run in namespaces)")
            sys.exit(77)
        need = ["/usr/sbin/inetd", "/usr/sbin/in.rexecd", "/usr/sbin/in.rlogind", "/usr/sbin/in.rshd",
                "/usr/sbin/telnetd", "/usr/sbin/vsftpd", "/usr/sbin/exim4", "/usr/sbin/in.tftpd", "/usr/sbin/rpcbind"]
        missing = [n for n in need if not os.access(n, os.X_OK)]
        if missing:
            print("SKIP: not installed: %s (scripts/debian-packages.txt lists them)" % ", ".join(missing))
            sys.exit(77)
        ca = TestCA(work)
        cert = ca.issue("ftp.tenken.test")

        # r-services and TELNET on their fixed ports, at a random address of their own.
        RA = D.random_loopback(ports=(23, 512, 513, 514))
        ind = D.inetd(work, RA, [("telnet", "/usr/sbin/telnetd telnetd"), ("exec", "/usr/sbin/in.rexecd in.rexecd"),
                                 ("login", "/usr/sbin/in.rlogind in.rlogind"), ("shell", "/usr/sbin/in.rshd in.rshd")],
                      512)
        ds.append(ind)
        R.check(ind.ok, "openbsd-inetd started on %s %s" % (RA, ind.logtext()))
        rc, se, rep = scan(work, "rsvc", [RA], [23, 512, 513, 514])
        sv = services(rep)

        def s(port, host=RA):
            return sv.get("%s:%d/tcp" % (host, port), {})
        R.check(rc == 1, "gate fails on TELNET and the r-services (rc=%d %s)" % (rc, se.strip()[:200]))
        R.check(s(23).get("protocol") == "telnet" and s(23).get("identified_by") == "telnet-iac-negotiation",
                "inetutils-telnetd: telnet by IAC negotiation: %s" % s(23))
        R.check(s(512).get("protocol") == "rexec" and s(512).get("identified_by") == "r-protocol-closed-after-request"
                and s(512).get("heuristic") is True and s(512).get("remote_operation") is True,
                "in.rexecd: rexec, closed after the request (heuristic, marked): %s" % s(512))
        R.check(s(513).get("protocol") == "rlogin" and s(513).get("identified_by") == "r-protocol-status-byte" and
                s(513).get("r_status_byte") == 1, "in.rlogind: rlogin by its status byte: %s" % s(513))
        R.check(s(514).get("protocol") == "rsh" and s(514).get("identified_by") == "r-service-closed-without-reply"
                and s(514).get("heuristic") is True, "in.rshd: rsh, closed at once (heuristic, marked): %s" % s(514))
        for p in (23, 512, 513, 514):
            t = "%s:%d/tcp" % (RA, p)
            R.check(statuses(rep, t).get("LEGACY-REMOTE-OPERATION-SERVICE") == ["fail"],
                    "LEGACY-REMOTE-OPERATION-SERVICE fails on %s" % t)
        items = {i["no"]: i["status"] for i in rep["items"]}
        R.check(items.get(27) == "fail" and items.get(26) == "fail", "FISC items 27 and 26 fail: %s" % items.get(27))

        # Contrast: on port 512, a listener that accepts and never answers nor closes is not rexec.
        HB = D.random_loopback(ports=(512,))
        hang = Hang(HB, 512)
        ds.append(hang)
        rc, se, rep = scan(work, "hang", [HB], [512], banner_timeout_ms=500, reply_timeout_ms=800)
        h = services(rep).get("%s:512/tcp" % HB, {})
        R.check(h.get("protocol") == "unknown" and h.get("silent") is True and h.get("heuristic") is False and rc == 0,
                "a listener that never answers nor closes on 512: unknown, silent (warn): rc=%d %s" % (rc, h))

        # FTP, SMTP, TFTP on one random address.
        A = D.random_loopback()
        ftp_anon = D.vsftpd(work, A, anonymous=True)
        ds.append(ftp_anon)  # each one stopped in the finally block even if a later start fails
        ftp_tls = D.vsftpd(work, A, anonymous=False, tls_cert=cert)
        ds.append(ftp_tls)
        smtp = D.exim(work, A)
        ds.append(smtp)
        smtp_tls = D.exim(work, A, starttls_cert=cert)
        ds.append(smtp_tls)
        tftp, tftp_port = D.tftpd(work, A)
        ds.append(tftp)
        for d in (ftp_anon, ftp_tls, smtp, smtp_tls):
            R.check(d.ok, "%s started on %s:%d %s" % (d.name, A, d.port, "" if d.ok else d.logtext()))
        rc, se, rep = scan(work, "ftpsmtp", [A], [ftp_anon.port, ftp_tls.port, smtp.port, smtp_tls.port,
                                                  "%d/udp" % tftp_port], try_anonymous_ftp=True)
        sv = services(rep)
        fa, ft, sm, st = s(ftp_anon.port, A), s(ftp_tls.port, A), s(smtp.port, A), s(smtp_tls.port, A)
        R.check(fa.get("protocol") == "ftp" and fa.get("ftp_anonymous_login") is True and fa.get("ftp_auth_tls") is False,
                "vsftpd anonymous: ftp, anonymous login, no AUTH TLS: %s" % fa)
        R.check(ft.get("protocol") == "ftp" and ft.get("ftp_auth_tls") is True and ft.get("ftp_anonymous_login") is False,
                "vsftpd ssl_enable: ftp, AUTH TLS offered, anonymous refused: %s" % ft)
        R.check(sm.get("protocol") == "smtp" and sm.get("smtp_starttls") is False and "Exim" in sm.get("banner", ""),
                "exim4 without TLS: smtp, no STARTTLS: %s" % sm)
        R.check(st.get("protocol") == "smtp" and st.get("smtp_starttls") is True, "exim4 with TLS: STARTTLS: %s" % st)
        tf = sv.get("%s:%d/udp" % (A, tftp_port), {})
        R.check(tf.get("protocol") == "tftp", "tftpd-hpa: tftp: %s" % tf)

        def one(port, rule, transport="tcp"):
            return statuses(rep, "%s:%d/%s" % (A, port, transport)).get(rule)
        R.check(one(ftp_anon.port, "LEGACY-FTP-ANONYMOUS") == ["fail"], "anonymous vsftpd fails LEGACY-FTP-ANONYMOUS")
        R.check(one(ftp_tls.port, "LEGACY-FTP-ANONYMOUS") == ["pass"], "vsftpd without anonymous passes it")
        R.check(one(ftp_anon.port, "LEGACY-FTP-NO-AUTH-TLS") == ["fail"] and
                one(ftp_tls.port, "LEGACY-FTP-NO-AUTH-TLS") == ["pass"], "AUTH TLS rule: fail / pass")
        R.check(one(smtp.port, "LEGACY-SMTP-NO-STARTTLS") == ["fail"] and
                one(smtp_tls.port, "LEGACY-SMTP-NO-STARTTLS") == ["pass"], "STARTTLS rule: fail / pass")
        R.check(one(tftp_port, "LEGACY-REMOTE-OPERATION-SERVICE", "udp") == ["fail"], "TFTP fails")
        R.check(not [o for o in rep["observations"] if o["kind"] == "error"], "no evidence gaps")

        # rpcbind binds its TCP socket to every address (-h only narrows UDP; with -h it also crashes here
        # with a double free): run it and tenken in a private network namespace that has only lo.
        script = os.path.join(work, "rpc.sh")
        out = os.path.join(work, "rpc")
        cfg = write_json(os.path.join(work, "rpc.json"), {"partner": {"id": "legacy-rpc", "name": "rpc"},
                                                          "probes": {"legacy": {"hosts": ["127.0.0.1"],
                                                                                "ports": [111, 2049]}}})
        with open(script, "w") as f:
            f.write("set -e\nip link set lo up\nmount -t tmpfs tmpfs /run\nmkdir -p /run/rpcbind\n"
                    "/usr/sbin/rpcbind -f & RP=$!\n"
                    "for i in $(seq 50); do ss -ltn | grep -q ':111 ' && break; sleep 0.1; done\n"
                    "set +e\n\"$1\" gate --config \"$2\" --out \"$3\"; echo $? > \"$3.rc\"\n"
                    "kill $RP; wait $RP\n")
        r = subprocess.run(["unshare", "-n", "-m", "--fork", "--kill-child", "sh", script, TENKEN, cfg, out],
                           capture_output=True, text=True, timeout=120)
        R.check(os.path.exists(out + ".rc"), "rpcbind scan ran in its namespace: %s" % r.stderr[-300:])
        if os.path.exists(out + ".rc"):
            rep = read_json(os.path.join(out, "report.json"))
            rb = services(rep).get("127.0.0.1:111/tcp", {})
            names = {p.get("name") for p in rb.get("rpc_programs", [])}
            R.check(rb.get("protocol") == "rpcbind" and "portmapper" in names and rb.get("remote_operation") is True,
                    "rpcbind: identified by its DUMP, lists portmapper: %s" % rb)
        if "nfsd" not in open("/proc/filesystems").read():
            print("SKIP (NFS): the kernel offers no nfsd here (nfsd is not in /proc/filesystems); "
                  "NFS is covered by the ONC RPC listener in test_legacy_scan.py")
    finally:
        for d in ds:
            try:
                d.stop()
            except Exception as e:
                print("stop: %s" % e)
        rmtree(work)
    R.finish()


if __name__ == "__main__":
    main()
