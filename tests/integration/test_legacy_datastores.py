#!/usr/bin/env python3
"""Probe "legacy": exposed data stores, against the real servers from Debian packages
(redis-server, memcached, postgresql, mariadb-server), each started here in a temporary
directory on a random loopback address, with and without authentication. Each must be
identified by what it says, its authentication verdict must be right, and nothing may be
read: the servers' own counters show that no data command ran."""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tkharness import Results, read_json, rmtree, run_tenken, tmpdir, write_json  # noqa: E402
import debdaemons as D  # noqa: E402


def main():
    R = Results()
    work = tmpdir()
    os.chmod(work, 0o755)
    ds = []
    try:
        if os.geteuid() != 0:
            print("SKIP: needs root (daemons drop to their own users; inetd and rpcbind run in namespaces)")
            sys.exit(77)
        missing = [n for n in ("redis-server", "memcached", "mariadbd", D.PG_BIN + "/postgres") if not D.which(n)]
        if missing:
            print("SKIP: not installed: %s (scripts/debian-packages.txt lists them)" % ", ".join(missing))
            sys.exit(77)
        A = D.random_loopback()
        B = D.random_loopback(ports=(6379,))
        def started(d):
            ds.append(d)  # stopped in the finally block even when a later start fails
            return d
        redis_open = started(D.redis(work, A))
        redis_auth = started(D.redis(work, A, password="tenken-test-password"))
        mc_open = started(D.memcached(work, A))
        mc_auth = started(D.memcached(work, A, auth=True))
        pg_trust = started(D.postgresql(work, A, trust=True))
        pg_scram = started(D.postgresql(work, A, trust=False))
        my_open = started(D.mariadb(work, A, skip_grants=True))
        my_auth = started(D.mariadb(work, A, skip_grants=False))
        # Redis on its well-known port at its own address: found through the default port list.
        redis_default = D.Daemon("redis-6379", ["redis-server", "--port", "6379", "--bind", B, "--save", "",
                                                "--dir", work, "--protected-mode", "no", "--logfile", ""],
                                 B, 6379, work)
        ds.append(redis_default)
        for d in ds:
            R.check(d.ok, "%s started on %s:%d %s" % (d.name, d.addr, d.port, "" if d.ok else d.logtext()))
        # Data that must never be read.
        subprocess.run(["redis-cli", "-h", A, "-p", str(redis_open.port), "SET", "secret-key", "secret-value"],
                       capture_output=True, check=True)
        subprocess.run(["redis-cli", "-h", A, "-p", str(redis_open.port), "CONFIG", "RESETSTAT"],
                       capture_output=True, check=True)

        hints = {str(redis_open.port): "redis", str(redis_auth.port): "redis", str(mc_open.port): "memcached",
                 str(mc_auth.port): "memcached", str(pg_trust.port): "postgresql", str(pg_scram.port): "postgresql"}
        ports = [d.port for d in ds if d.addr == A]
        cfg = write_json(os.path.join(work, "partner.json"), {
            "partner": {"id": "legacy-ds", "name": "legacy data stores"},
            "probes": {"legacy": {"hosts": [A], "ports": ports, "banner_timeout_ms": 700,
                                  "reply_timeout_ms": 3000, "port_hints": hints}}})
        out = os.path.join(work, "out")
        rc, so, se = run_tenken("gate", "--config", cfg, "--out", out)
        R.check(rc == 1, "gate fails (exposed data stores): rc=%d %s" % (rc, se.strip()[:300]))
        rep = read_json(os.path.join(out, "report.json"))
        obs = {o["target"]: o for o in rep["observations"] if o["kind"] == "legacy_service"}
        errs = [o for o in rep["observations"] if o["kind"] == "error"]

        def svc(d):
            return obs.get("%s:%d/tcp" % (d.addr, d.port), {})

        def finding(rule, d):
            t = "%s:%d/tcp" % (d.addr, d.port)
            return [f["status"] for f in rep["findings"] if f["rule"] == rule and f["target"] == t]

        expect = [(redis_open, "redis", "none", "redis-ping"), (redis_auth, "redis", "required", "redis-ping"),
                  (mc_open, "memcached", "none", "memcached-version"),
                  (mc_auth, "memcached", "required", "memcached-version"),
                  (pg_trust, "postgresql", "none", "postgresql-startup"),
                  (pg_scram, "postgresql", "required", "postgresql-startup"),
                  (my_open, "mysql", "none", "mysql-handshake"), (my_auth, "mysql", "refused", "mysql-handshake")]
        for d, proto, auth, how in expect:
            o = svc(d)
            R.check(o.get("protocol") == proto and o.get("datastore") is True and o.get("identified_by") == how and
                    o.get("datastore_auth") == auth and o.get("evidence_complete") is True,
                    "%s: %s, auth %s, by %s: %s" % (d.name, proto, auth, how, {k: o.get(k) for k in (
                        "protocol", "identified_by", "datastore_auth", "datastore_auth_evidence",
                        "datastore_version", "evidence_missing")}))
            R.check(finding("LEGACY-DATASTORE-EXPOSED", d) == ["fail"], "%s: exposure fails" % d.name)
            R.check(finding("LEGACY-DATASTORE-NO-AUTH", d) == ["fail" if auth == "none" else "pass"],
                    "%s: no-auth rule %s" % (d.name, "fails" if auth == "none" else "passes"))
        R.check(svc(redis_open).get("datastore_version", "").count(".") >= 1, "Redis version read from INFO server")
        R.check(svc(mc_open).get("datastore_version", "").count(".") >= 1, "memcached version read")
        R.check(svc(pg_trust).get("datastore_version", "").startswith("15"), "PostgreSQL server_version read")
        R.check("MariaDB" in svc(my_open).get("datastore_version", ""), "MariaDB version from the handshake")
        R.check(svc(my_auth).get("datastore_error_code") == 1130,
                "MariaDB with no user for this host: refused in the greeting (1130) before authentication")
        R.check(not errs, "no evidence gaps: %s" % errs)
        items = {i["no"]: i["status"] for i in rep["items"]}
        R.check(items.get(30) == "fail" and items.get(26) == "fail", "FISC items 26 and 30 fail: %s" % items)
        # Nothing was read: Redis ran only PING and INFO (its own command statistics).
        st = subprocess.run(["redis-cli", "-h", A, "-p", str(redis_open.port), "INFO", "commandstats"],
                            capture_output=True, text=True).stdout
        cmds = sorted(l.split(":")[0][len("cmdstat_"):] for l in st.splitlines() if l.startswith("cmdstat_"))
        R.check(set(cmds) <= {"ping", "info", "config|resetstat"} and "ping" in cmds,
                "Redis saw only PING/INFO (and the test's own INFO/CONFIG): %s" % cmds)

        # Redis on 6379 found through the default port list (no hints).
        cfg = write_json(os.path.join(work, "default.json"), {
            "partner": {"id": "legacy-ds2", "name": "legacy data stores"},
            "probes": {"legacy": {"hosts": [B], "ports": "default", "banner_timeout_ms": 700}}})
        rc, so, se = run_tenken("gate", "--config", cfg, "--out", os.path.join(work, "out2"))
        rep2 = read_json(os.path.join(work, "out2", "report.json"))
        o = [x for x in rep2["observations"] if x.get("target") == "%s:6379/tcp" % B]
        R.check(rc == 1 and o and o[0].get("protocol") == "redis" and o[0].get("datastore_auth") == "none",
                "Redis on 6379 found with the default port list: %s" % (o[0] if o else rep2["observations"]))

        # A MariaDB user for any host with a password: the empty login is refused with 1045 (required).
        r = subprocess.run(["mariadb", "--no-defaults", "--socket=" + os.path.join(my_auth.workdir, my_auth.name, "sock"),
                            "-u", "root", "-e", "CREATE USER 'app'@'%' IDENTIFIED BY 'tenken-pw-not-used'"],
                           capture_output=True, text=True)
        R.check(r.returncode == 0, "MariaDB user created: %s" % r.stderr.strip())
        cfg = write_json(os.path.join(work, "login.json"), {
            "partner": {"id": "legacy-ds4", "name": "legacy data stores"},
            "probes": {"legacy": {"hosts": [A], "ports": [my_auth.port], "banner_timeout_ms": 700}}})
        rc, so, se = run_tenken("gate", "--config", cfg, "--out", os.path.join(work, "out4"))
        o = [x for x in read_json(os.path.join(work, "out4", "report.json"))["observations"]
             if x.get("kind") == "legacy_service"]
        R.check(rc == 1 and o and o[0].get("datastore_auth") == "required" and o[0].get("datastore_error_code") == 1045,
                "MariaDB: empty login refused with 1045 -> auth required: %s" % (o[0] if o else o))

        # datastore_login_check false: MySQL's authentication is not tested -> that port is incomplete.
        cfg = write_json(os.path.join(work, "nologin.json"), {
            "partner": {"id": "legacy-ds3", "name": "legacy data stores"},
            "probes": {"legacy": {"hosts": [A], "ports": [my_auth.port], "banner_timeout_ms": 700,
                                  "datastore_login_check": False}}})
        rc, so, se = run_tenken("gate", "--config", cfg, "--out", os.path.join(work, "out3"))
        rep3 = read_json(os.path.join(work, "out3", "report.json"))
        t = "%s:%d/tcp" % (A, my_auth.port)
        st3 = {}
        for f in rep3["findings"]:
            if f["target"] == t:
                st3.setdefault(f["rule"], []).append(f["status"])
        R.check(rc == 1 and st3.get("LEGACY-DATASTORE-EXPOSED") == ["fail", "error"] and
                st3.get("LEGACY-DATASTORE-NO-AUTH") == ["error"] and "LEGACY-HOST-REMOTE-OPERATION" not in st3,
                "login not tried: exposure fails, no-auth rule is an error (incomplete), never pass: %s" % st3)
    finally:
        for d in ds:
            try:
                d.stop()
            except Exception as e:  # keep stopping the others
                print("stop %s: %s" % (d.name, e))
        rmtree(work)
    R.finish()


if __name__ == "__main__":
    main()
