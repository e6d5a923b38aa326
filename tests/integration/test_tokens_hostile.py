#!/usr/bin/env python3
"""Hostile token stores (issue 13, issue 12 "fail closed"): every way the tokens probe can lose
evidence makes the items it feeds (FISC 36 and 30) incomplete, names why, and the gate exits 3;
a tiny SQLite file cannot exhaust memory (RSS of the tenken child measured with os.wait4); a FIFO
in a store does not block; a directory swapped for a symlink mid-walk is not followed.

Everything here is built by the test: files, real SQLite databases (python's sqlite3 module, the
system library), a FIFO, permissions. The symlink swap uses tenken's test hook
TENKEN_TEST_TOKENS_AFTER_LIST (runs a command after the walk has listed a directory) so that the
race is deterministic.
"""
import json
import os
import resource
import random
import shutil
import socket
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time
from tkharness import check, finish  # noqa: E402

BIN = os.environ.get("TENKEN_BIN", "build/tenken")
TOKEN = "ya29.a0AfB_" + "Q" * 60  # a Google-style opaque access token, never a real one


def gate(tmp, name, stores, env=None, extra=None, timeout=120):
    """Run `tenken gate` on one partner with these token stores; returns (exit, report, maxrss_kb, secs)."""
    cfg = {"partner": {"id": "p-" + name, "name": name}, "probes": {"tokens": dict({"stores": stores}, **(extra or {}))}}
    path = os.path.join(tmp, name + ".json")
    with open(path, "w") as f:
        json.dump(cfg, f)
    out = os.path.join(tmp, "out-" + name)
    e = dict(os.environ)
    e.update(env or {})
    t0 = time.monotonic()
    p = subprocess.Popen([BIN, "gate", "-c", path, "-o", out, "--lang", "en", "--state", os.path.join(tmp, "state"),
                          "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e, cwd=tmp)
    deadline = time.monotonic() + timeout
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            p.kill()
            pid, status, ru = os.wait4(p.pid, 0)
            break
        time.sleep(0.05)
    secs = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    err = p.stderr.read().decode(errors="replace")
    rep = None
    try:
        with open(os.path.join(out, "report.json")) as f:
            rep = json.load(f)
    except (OSError, ValueError):
        pass
    return p.returncode, rep, ru.ru_maxrss, secs, err


def item(rep, no):
    for it in rep["items"]:
        if it.get("no") == no:
            return it
    return None


def errors_of(rep):
    return [o for o in rep["observations"] if o["probe"] == "tokens" and o["kind"] == "error"]


def store_obs(rep):
    return [o for o in rep["observations"] if o["probe"] == "tokens" and o["kind"] == "token_store"]


def fails_closed(what, rc, rep, reason_words):
    """The items the store feeds are incomplete, the gate exits 3, an error names the reason."""
    if not check(rep is not None, what + ": a report was written", rc):
        return
    i36, i30 = item(rep, 36), item(rep, 30)
    errs = errors_of(rep)
    msgs = " | ".join(e["message"] for e in errs)
    check(rc == 3 and i36["status"] == "incomplete" and i30["status"] == "incomplete",
          what + ": items 36 and 30 incomplete, gate exit 3",
          (rc, i36 and i36["status"], i30 and i30["status"], msgs))
    check(errs and all(any(w in e["message"] for w in reason_words) for e in errs),
          what + ": the reason is named (%s)" % msgs[:160], msgs)


def sqlite_db(path, script, rows=()):
    c = sqlite3.connect(path)
    c.executescript(script)
    for sql, args in rows:
        c.execute(sql, args)
    c.commit()
    c.close()


def main():
    tmp = tempfile.mkdtemp(prefix="tenken-tokhostile-")
    try:
        # --- a clean store passes (the control) ---
        os.makedirs(os.path.join(tmp, "clean"))
        with open(os.path.join(tmp, "clean", "app.json"), "w") as f:
            f.write('{"name": "nothing secret here"}\n')
        rc, rep, _, _, err = gate(tmp, "clean", [{"type": "files", "path": "clean/"}])
        check(rc == 0 and item(rep, 36)["status"] == "pass", "control: a clean files store passes (exit 0)",
              (rc, err, rep and item(rep, 36)))

        # --- 1. a plaintext token beyond max_file_bytes (default 32 MiB) ---
        d = os.path.join(tmp, "big")
        os.makedirs(d)
        with open(os.path.join(d, "dump.log"), "w") as f:
            line = "x" * 1023 + "\n"
            for _ in range(33 * 1024):
                f.write(line)
            f.write('access_token="%s"\n' % TOKEN)
        rc, rep, _, _, _ = gate(tmp, "big", [{"type": "files", "path": "big/"}])
        o = store_obs(rep)[0] if rep else {}
        check(o.get("files_truncated") == 1 and o.get("complete") is False,
              "oversize file: files_truncated 1, complete false", o)
        fails_closed("oversize file", rc, rep, ["max_file_bytes"])

        # --- 2. depth bound ---
        deep = os.path.join(tmp, "deep")
        p = deep
        for i in range(40):
            p = os.path.join(p, "d")
        os.makedirs(p)
        with open(os.path.join(p, "t.env"), "w") as f:
            f.write("ACCESS_TOKEN=%s\n" % TOKEN)
        rc, rep, _, _, _ = gate(tmp, "deep", [{"type": "files", "path": "deep/"}])
        fails_closed("directories deeper than the bound", rc, rep, ["deeper than"])

        # --- 3. permission denied (tenken drops CAP_DAC_OVERRIDE, so even root is refused) ---
        pd = os.path.join(tmp, "perm")
        os.makedirs(os.path.join(pd, "locked"))
        with open(os.path.join(pd, "secret.env"), "w") as f:
            f.write("ACCESS_TOKEN=%s\n" % TOKEN)
        os.chmod(os.path.join(pd, "secret.env"), 0)
        os.chmod(os.path.join(pd, "locked"), 0)
        rc, rep, _, _, _ = gate(tmp, "perm", [{"type": "files", "path": "perm/"}])
        o = store_obs(rep)[0] if rep else {}
        check(o.get("files_unreadable") == 2, "permission denied: file and directory counted unreadable", o)
        fails_closed("permission denied", rc, rep, ["unreadable"])
        os.chmod(os.path.join(pd, "locked"), 0o700)

        # --- 4. a FIFO in a files store, and a FIFO as the SQLite store: no hang ---
        fd = os.path.join(tmp, "fifo")
        os.makedirs(fd)
        os.mkfifo(os.path.join(fd, "tokens.json"))
        rc, rep, _, secs, _ = gate(tmp, "fifo", [{"type": "files", "path": "fifo/"},
                                                 {"type": "sqlite", "path": "fifo/tokens.json"}], timeout=60)
        check(secs < 50 and rep is not None, "FIFO: the scan returns (%.1f s)" % secs, rc)
        fails_closed("FIFO in the store", rc, rep, ["unreadable", "not a regular file"])

        # --- 5. the SQLite memory bomb of issue 13 ---
        bomb = os.path.join(tmp, "bomb.db")
        # the same schema as issue 13's file; the column is added after the rows (SQLite would evaluate the
        # expression on INSERT: 1.4 GB, and on Linux a forked child starts with its parent's peak RSS)
        c = sqlite3.connect(bomb)
        c.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, note TEXT)")
        for i in range(5):
            c.execute("INSERT INTO t(note) VALUES (?)", ("row %d" % i,))
        c.commit()
        c.execute("ALTER TABLE t ADD COLUMN g TEXT GENERATED ALWAYS AS (hex(zeroblob(490000000)))")
        c.commit()
        c.close()
        print("     (the test process's own peak RSS: %d KiB)" % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        check(os.path.getsize(bomb) <= 16384, "bomb: the file is small (%d bytes)" % os.path.getsize(bomb))
        rc, rep, rss, secs, err = gate(tmp, "bomb", [{"type": "sqlite", "path": "bomb.db"}])
        print("     SQLite bomb: maxrss %d KiB, %.2f s, exit %d" % (rss, secs, rc))
        check(rss < 160 * 1024, "bomb: peak RSS of tenken stays under 160 MiB (%d KiB)" % rss)
        check(secs < 30, "bomb: done in under 30 s (%.1f s)" % secs)
        check(rep is not None and store_obs(rep) and store_obs(rep)[0]["complete"] is True,
              "bomb: the generated column is not evaluated; the store is read (exit %d)" % rc, err)

        # the same expression in a STORED column written by the attacker is a real 980 MB value: refused by
        # SQLITE_LIMIT_LENGTH; here a 5 MiB text value stands for any value over the 4 MiB bound
        big = os.path.join(tmp, "bigval.db")
        sqlite_db(big, "CREATE TABLE s(id INTEGER PRIMARY KEY, v TEXT);",
                  [("INSERT INTO s(v) VALUES (?)", ("A" * (5 << 20),))])
        rc, rep, rss, secs, _ = gate(tmp, "bigval", [{"type": "sqlite", "path": "bigval.db"}])
        print("     SQLite 5 MiB value: maxrss %d KiB" % rss)
        fails_closed("SQLite value over the 4 MiB bound", rc, rep, ["too big", "could not be read"])

        # --- 6. SQLite rows bound (values per column) ---
        many = os.path.join(tmp, "many.db")
        sqlite_db(many, "CREATE TABLE k(id INTEGER PRIMARY KEY, note TEXT);",
                  [("INSERT INTO k(note) VALUES (?)", ("note %d" % i,)) for i in range(11)])
        rc, rep, _, _, _ = gate(tmp, "many", [{"type": "sqlite", "path": "many.db", "max_rows": 10}])
        fails_closed("SQLite column over max_rows", rc, rep, ["max_rows"])
        rc, rep, _, _, _ = gate(tmp, "many11", [{"type": "sqlite", "path": "many.db", "max_rows": 11}])
        check(rc == 0, "SQLite column of exactly max_rows values is complete (exit %d)" % rc)

        # --- 7. SQLite malformed, encrypted (no header), locked ---
        mal = os.path.join(tmp, "mal.db")
        shutil.copyfile(many, mal)
        with open(mal, "r+b") as f:
            f.seek(4096)
            f.write(os.urandom(4096))
        rc, rep, _, _, _ = gate(tmp, "mal", [{"type": "sqlite", "path": "mal.db"}])
        fails_closed("SQLite malformed", rc, rep, ["malformed", "could not be read", "not a database", "schema"])
        enc = os.path.join(tmp, "enc.db")
        with open(enc, "wb") as f:
            f.write(os.urandom(8192))
        rc, rep, _, _, _ = gate(tmp, "enc", [{"type": "sqlite", "path": "enc.db"}])
        fails_closed("SQLite encrypted (SQLCipher-like)", rc, rep, ["not an SQLite 3 database"])
        lk = os.path.join(tmp, "locked.db")
        shutil.copyfile(many, lk)
        holder = sqlite3.connect(lk, isolation_level=None, timeout=0)
        holder.execute("PRAGMA journal_mode=DELETE")
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("INSERT INTO k(note) VALUES ('pending')")
        try:
            rc, rep, _, _, _ = gate(tmp, "locked", [{"type": "sqlite", "path": "locked.db"}])
            fails_closed("SQLite locked by a writer", rc, rep, ["locked", "could not be read", "schema"])
        finally:
            holder.execute("ROLLBACK")
            holder.close()

        # --- 8. the walk race: a listed directory swapped for a symlink (deterministic test hook) ---
        race = os.path.join(tmp, "race")
        outside = os.path.join(tmp, "outside")
        os.makedirs(os.path.join(race, "sub"))
        os.makedirs(outside)
        with open(os.path.join(race, "sub", "ok.json"), "w") as f:
            f.write('{"a": 1}\n')
        with open(os.path.join(outside, "ok.json"), "w") as f:  # the same name as the listed file
            f.write('{"access_token": "%s"}\n' % TOKEN)
        swap = "rm -rf '%s' && ln -s '%s' '%s'" % (os.path.join(race, "sub"), outside, os.path.join(race, "sub"))
        rc, rep, _, _, err = gate(tmp, "race", [{"type": "files", "path": "race/"}],
                                  env={"TENKEN_TEST_TOKENS_AFTER_LIST": swap})
        check(os.path.islink(os.path.join(race, "sub")), "walk race: the hook ran (the directory is now a symlink)",
              err)
        text = json.dumps(rep) if rep else ""
        o = store_obs(rep)[0] if rep else {}
        check(rep is not None and o.get("plaintext_count", 0) == 0 and TOKEN[:20] not in text,
              "walk race: nothing outside the configured tree was read", o)
        fails_closed("walk race", rc, rep, ["unreadable"])
        # --- 9. Redis down, Redis silent (timeout); and the per-host politeness budget ---
        addr = "127.14.%d.%d" % (random.randint(1, 250), random.randint(2, 250))
        silent = socket.socket()
        silent.bind((addr, 0))
        silent.listen(8)  # accepts (kernel backlog), never answers
        sport = silent.getsockname()[1]
        closed = socket.socket()
        closed.bind((addr, 0))
        cport = closed.getsockname()[1]
        closed.close()  # nothing listens there: refused
        try:
            rc, rep, _, secs, _ = gate(tmp, "rdown", [{"type": "redis", "address": "%s:%d" % (addr, cport)}])
            fails_closed("Redis down (connection refused)", rc, rep, ["connect", "refused"])
            rc, rep, _, secs, _ = gate(tmp, "rsilent", [{"type": "redis", "address": "%s:%d" % (addr, sport),
                                                         "timeout_s": 2}])
            fails_closed("Redis silent (timeout)", rc, rep, ["timeout", "no reply"])
            check(secs < 30, "Redis silent: bounded by its timeout (%.1f s)" % secs)
            # four stores on one host at one new connection per second: the budget spaces them (>= 3 s), so the
            # Redis store's connections are inside the per-host politeness budget (a lower bound: load-proof)
            stores = [{"type": "redis", "address": "%s:%d" % (addr, cport), "match": "k%d*" % i} for i in range(4)]
            cfgx = {"partner": {"id": "p-budget", "name": "budget"},
                    "scan": {"connections_per_second_per_host": 1, "connections_burst_per_host": 1},
                    "probes": {"tokens": {"stores": stores}}}
            path = os.path.join(tmp, "budget.json")
            with open(path, "w") as f:
                json.dump(cfgx, f)
            t0 = time.monotonic()
            r = subprocess.run([BIN, "scan", "-c", path, "-o", os.path.join(tmp, "out-budget"), "--quiet",
                                "--state", os.path.join(tmp, "state")], capture_output=True, timeout=120)
            el = time.monotonic() - t0
            check(el >= 2.8 and r.returncode == 3,
                  "Redis connects take the per-host budget: 4 connects at 1/s took %.1f s (>= 2.8)" % el, r.stderr[-300:])
        finally:
            silent.close()
    finally:
        for root, dirs, files in os.walk(tmp):
            for x in dirs:
                try:
                    os.chmod(os.path.join(root, x), 0o700)
                except OSError:
                    pass
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


if __name__ == "__main__":
    sys.exit(main())
