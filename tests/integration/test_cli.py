"""The command line: the listing subcommands and --help (checklist list/show, probes, rules,
version, usage errors); --help and the README agree (commands, options, exit codes and their
order, the inventory's output folder, history, demo options); what scan/gate print after the
summary (one line per failing or incomplete target with its reason, the files written) and the
progress line on a terminal (a pty); validate's file, checklist and URL checks; `history`
without a partner; the demo (a history of its own, stable targets: diff between two runs shows
no churn)."""
import json
import os
import pty
import random
import re
import select
import shutil
import subprocess
import time

from hostile import Hostile
from tkharness import (SOURCE_DIR, TENKEN, HTTPServer, Results, TestCA, rmtree, run_tenken, tmpdir,
                       write_json)


def rand_addr():
    """A random loopback address in 127.16.0.0/16 (the range for this area's tests)."""
    return "127.16.%d.%d" % (random.randint(1, 254), random.randint(1, 254))


def hsts_cfg(path, pid, urls, resolve, timeout=5):
    return write_json(path, {"partner": {"id": pid, "name": pid}, "probes": {"hsts": {
        "urls": urls, "resolve": resolve, "ca_file": "ca.pem", "check_http_redirect": False,
        "request_timeout_s": timeout}}})


def test_help_matches_readme(r):
    readme = open(os.path.join(SOURCE_DIR, "README.md"), encoding="utf-8").read()
    rc, top, _ = run_tenken("--help")
    block = re.search(r"^commands:\n(.*?)\n\n", top, re.S | re.M).group(1)
    help_cmds = {l.split()[0] for l in block.splitlines()} - {"version"}
    usage = re.search(r"## Using it\n\n(.*?)\n\n", readme, re.S).group(1)
    readme_cmds = set()
    readme_lines = {}
    for line in usage.splitlines():
        words = line.split()
        if len(words) < 2 or words[0] != "tenken":
            continue
        if "|" in line.split("(")[0] and words[1] not in ("checklist",):   # "tenken key show | history | ..."
            readme_cmds |= {"key"} | {w for w in line.split("(")[0].split() if w in help_cmds}
        else:
            readme_cmds.add(words[1])
            readme_lines[words[1]] = line
    r.check(readme_cmds == help_cmds, "README usage block and tenken --help list the same commands "
            "(only README: %s, only --help: %s)" % (sorted(readme_cmds - help_cmds), sorted(help_cmds - readme_cmds)))
    for cmd, line in sorted(readme_lines.items()):
        _, h, _ = run_tenken(cmd, "--help")
        opts = set(re.findall(r"--[a-z][a-z-]+", line))
        r.check(opts <= set(re.findall(r"--[a-z][a-z-]+", h)),
                "README's %s options exist in its --help (unknown: %s)" % (cmd, sorted(opts - set(re.findall(r"--[a-z][a-z-]+", h)))))
    _, demo_help, _ = run_tenken("demo", "--help")
    demo_opts = set(re.findall(r"--[a-z][a-z-]+", demo_help.split("\n\n")[0])) - {"--help"}
    r.check(demo_opts == set(re.findall(r"--[a-z][a-z-]+", readme_lines.get("demo", ""))),
            "README's demo line has exactly demo's options (%s vs %s)" % (sorted(demo_opts), readme_lines.get("demo")))
    # the history commands' spelling
    _, hh, _ = run_tenken("history", "--help")
    spelled = re.search(r"usage: (tenken history \S+)", hh).group(1)
    r.check(("    " + spelled + " ") in readme, "README spells the history command as --help does (%s)" % spelled)
    # exit codes: every code of gate --help in the README's table, and the inventory order
    _, gh, _ = run_tenken("gate", "--help")
    codes = set(re.findall(r"^  (\d)  ", gh, re.M))
    table = set(re.findall(r"^\| (\d) \|", readme, re.M))
    r.check(codes == table == {"0", "1", "2", "3", "4", "5"}, "exit codes 0-5 in gate --help and the README table (%s, %s)"
            % (sorted(codes), sorted(table)))
    order_help = re.search(r"most serious partner's code, ([\d over]+)", gh).group(1).split(" over ")
    m = re.search(r"most serious one\s+among partners: (.*?)\.", readme, re.S)
    order_readme = re.findall(r"(?:^|over )\**(\d)", m.group(1)) if m else []
    r.check(order_help == order_readme == ["1", "2", "4", "3", "0"],
            "inventory exit-code order agrees: --help %s, README %s" % (order_help, order_readme))
    r.check("OUT/<config file name" in gh and "OUT/<config file name" in readme,
            "the inventory's output folder is OUT/<config file name> in both")


def test_terminal(r):
    work = tmpdir()
    servers = []
    try:
        ca = TestCA(work)
        a_good, a_weak, a_silent = rand_addr(), rand_addr(), rand_addr()
        good = HTTPServer(a_good, cert=ca.issue("good.test"), headers=[("Strict-Transport-Security", "max-age=63072000")])
        weak = HTTPServer(a_weak, cert=ca.issue("weak.test"), headers=[("Strict-Transport-Security", "max-age=60")])
        silent = Hostile(a_silent, "silent")
        servers += [good, weak, silent]
        res = {"good.test": a_good, "weak.test": a_weak, "silent.test": a_silent}
        urls = ["https://good.test:%d/" % good.port, "https://weak.test:%d/" % weak.port,
                "https://silent.test:%d/" % silent.port]
        cfg = hsts_cfg(os.path.join(work, "p.json"), "term", urls, res, timeout=2)
        out, state = os.path.join(work, "out"), os.path.join(work, "state")
        rc, so, se = run_tenken("gate", "--config", cfg, "--out", out, "--state", state, "--format", "json,html")
        lines = so.splitlines()
        r.check(rc == 1, "gate: a failing target wins over an incomplete one: exit 1 (%d %s)" % (rc, se.strip()[-200:]))
        fail = [l for l in lines if l.startswith("  fail ")]
        inc = [l for l in lines if l.startswith("  incomplete ")]
        r.check(len(fail) == 1 and urls[1] in fail[0] and "HSTS-MAX-AGE-SHORT" in fail[0],
                "one fail line naming the weak target and its rule: %s" % fail)
        r.check(len(inc) == 1 and urls[2] in inc[0] and "(hsts)" in inc[0] and "timeout" in inc[0].lower(),
                "one incomplete line naming the silent target and that it timed out: %s" % inc)
        r.check(not any(urls[0] in l for l in fail + inc), "the good target is not listed")
        i_sum = next(i for i, l in enumerate(lines) if l.startswith("tenken: term / "))
        i_tg = lines.index("tenken: failing and incomplete targets:")
        i_files = lines.index("tenken: files written:")
        r.check(i_sum < i_tg < i_files, "order: summary, targets, files written")
        files = [l.split()[0] for l in lines[i_files + 1:] if l.startswith("  ")]
        r.check(files[:2] == [os.path.join(out, "report.json"), os.path.join(out, "report.html")]
                and files[2].startswith(state) and all(os.path.exists(f) for f in files),
                "files written lists report.json, report.html and the history copy, all existing: %s" % files)
        rc, so, se = run_tenken("gate", "--config", cfg, "--out", out, "--state", state, "--quiet")
        r.check(rc == 1 and so == "", "--quiet prints nothing on stdout")

        # --inventory summarises from the scan's report document, not from report.json on disk:
        # with --format html no report.json is written, and the line still has the verdict
        inv = os.path.join(work, "inv")
        os.makedirs(inv)
        shutil.copy(os.path.join(work, "ca.pem"), inv)
        hsts_cfg(os.path.join(inv, "weak.json"), "weak", [urls[1]], res)
        rc, so, se = run_tenken("gate", "--inventory", inv, "--out", os.path.join(work, "io"), "--state", state,
                                "--format", "html")
        r.check(rc == 1 and "tenken: weak (weak): verdict fail, 2 fail" in so
                and not os.path.exists(os.path.join(work, "io", "weak", "report.json"))
                and os.path.exists(os.path.join(work, "io", "weak", "report.html")),
                "inventory line from the in-memory report (no report.json written): %s" % so.strip()[:300])

        # a terminal: a progress line on stderr while the silent target keeps the scan waiting
        cfg_slow = hsts_cfg(os.path.join(work, "slow.json"), "slow", [urls[2]], res, timeout=4)
        master, slave = pty.openpty()
        p = subprocess.Popen([TENKEN, "scan", "--config", cfg_slow, "--out", os.path.join(work, "o2"), "--state", state],
                             stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL)
        os.close(slave)
        tty_out = b""
        deadline = time.time() + 60
        while time.time() < deadline:
            rd, _, _ = select.select([master], [], [], 0.5)
            if rd:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                tty_out += chunk
            elif p.poll() is not None:
                break
        so2 = p.communicate(timeout=60)[0].decode()
        os.close(master)
        text = tty_out.decode(errors="replace")
        r.check(p.returncode == 3 and "probes done; running: hsts" in text and "\r\x1b[K" in text,
                "on a TTY without -v: a progress line naming the running probe (rc %d, %r)" % (p.returncode, text[-200:]))
        r.check(text.endswith("\r\x1b[K"), "the progress line is cleared at the end (%r)" % text[-20:])
        rc, so, se = run_tenken("scan", "--config", cfg_slow, "--out", os.path.join(work, "o3"), "--state", state)
        r.check(rc == 3 and "running:" not in se, "not a TTY: no progress line")
    finally:
        for s in servers:
            s.stop()
        rmtree(work)


def test_validate(r):
    work = tmpdir()
    try:
        write_json(os.path.join(work, "cl.json"), {"partner": {"id": "v", "name": "v"}, "checklist": "nosuch",
                                                   "probes": {"tls": {"endpoints": ["127.0.0.1:443"]}}})
        rc, so, se = run_tenken("validate", "--config", os.path.join(work, "cl.json"))
        r.check(rc == 2 and "cl.json: checklist: unknown checklist \"nosuch\"" in se,
                "unknown checklist id names the file and JSON path: %s" % se.strip())
        rc, so, se = run_tenken("scan", "--config", os.path.join(work, "cl.json"), "--out", os.path.join(work, "o"))
        r.check(rc == 2 and "cl.json: checklist: unknown checklist" in se, "scan: the same message, exit 2")
        for name, probes, field in (
                ("hsts", {"hsts": {"urls": ["https://api.example.test:70000/"]}}, "probes.hsts.urls[0]"),
                ("cloud", {"cloud": {"accounts": [{"provider": "aws", "name": "a", "endpoint": "http://127.0.0.1:70000"}]}},
                 "probes.cloud.accounts[0].endpoint"),
                ("tls", {"tls": {"endpoints": ["api.example.test:70000"]}}, "probes.tls.endpoints[0]")):
            write_json(os.path.join(work, name + ".json"), {"partner": {"id": "v", "name": "v"}, "probes": probes})
            rc, so, se = run_tenken("validate", "--config", os.path.join(work, name + ".json"))
            r.check(rc == 2 and field in se and "70000" in se and re.search(r"port (70000 )?out of range", se),
                    "%s: a URL with port 70000 says port out of range, naming %s: %s" % (name, field, se.strip()))
        # referenced files: missing, unreadable, a credential readable by others
        os.makedirs(os.path.join(work, "inv"))
        for f in ("status", "os-release", "unreadable"):
            with open(os.path.join(work, "inv", f), "w") as fh:
                fh.write("Package: x\nStatus: install ok installed\nVersion: 1\n\n" if f != "os-release" else "ID=debian\nVERSION_ID=\"12\"\n")
        os.chmod(os.path.join(work, "inv", "unreadable"), 0)
        write_json(os.path.join(work, "files.json"), {"partner": {"id": "v", "name": "v"}, "probes": {
            "patch": {"inventories": [{"host": "a", "dpkg_status": "inv/status", "os_release": "inv/missing-os-release"}],
                      "feeds": [{"format": "debian-tracker", "path": "inv/unreadable"}]},
            "tokens": {"stores": [{"type": "files", "path": "nosuchdir/"}]}}})
        rc, so, se = run_tenken("validate", "--config", os.path.join(work, "files.json"))
        can_read_anyway = os.access(os.path.join(work, "inv", "unreadable"), os.R_OK)   # root reads mode 000
        if can_read_anyway:
            print("note: running as root: a mode-000 file is readable; the unreadable case is not checked")
        r.check(rc == 2 and "probes.patch.inventories[0].os_release: inv/missing-os-release: does not exist" in se
                and "probes.tokens.stores[0].path: nosuchdir/: does not exist" in se
                and (can_read_anyway or "probes.patch.feeds[0].path: inv/unreadable: not readable" in se)
                and ("2 problems" if can_read_anyway else "3 problems") in se,
                "validate lists every missing or unreadable file with its JSON path:\n" + se)
        goog = os.path.join(work, "sa.json")
        with open(goog, "w") as fh:
            json.dump({"type": "service_account", "client_email": "a@b.iam.gserviceaccount.com",
                       "private_key": "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n",
                       "token_uri": "https://oauth2.googleapis.com/token"}, fh)
        os.chmod(goog, 0o644)
        write_json(os.path.join(work, "g.json"), {"partner": {"id": "v", "name": "v"}, "probes": {"cloud": {"accounts": [
            {"provider": "google", "service_account_file": "sa.json", "subject": "admin@example.test"}]}}})
        rc, so, se = run_tenken("validate", "--config", os.path.join(work, "g.json"))
        r.check(rc == 2 and "service_account_file" in se and ("0644" in se or "group or other" in se),
                "a credential file readable by group/other is an error: %s" % se.strip()[-300:])
    finally:
        rmtree(work)


def test_demo_history(r):
    work = tmpdir()
    try:
        d = os.path.join(work, "demo")
        base = str(random.randint(20000, 30000))
        env = {"TENKEN_STATE_DIR": os.path.join(work, "real-state")}
        rc, so1, se1 = run_tenken("demo", "--out", d, "--ports", base, env=env, timeout=300)
        rc2, so2, se2 = run_tenken("demo", "--out", d, "--ports", base, env=env, timeout=300)
        r.check(rc == 0 and rc2 == 0, "two demo runs (%d %d %s)" % (rc, rc2, (se1 + se2)[-300:]))
        r.check(not os.path.exists(os.path.join(work, "real-state", "reports")),
                "the demo's history is kept apart from the real one (TENKEN_STATE_DIR untouched)")
        rc, so, se = run_tenken("history", "--state", os.path.join(d, "state"))
        r.check(rc == 0 and re.search(r"^demo-pay\s+2\s+2\s", so, re.M), "history without a partner lists partners:\n" + so)
        rc, so, se = run_tenken("history", "--state", os.path.join(d, "state"), "--format", "json")
        r.check(rc == 0 and [x["partner"] for x in json.loads(so)] == ["demo-pay"], "history --format json lists partners")
        taken = "is taken" in se1 + se2
        rc, so, se = run_tenken("diff", "demo-pay", "--state", os.path.join(d, "state"), "--format", "json")
        dj = json.loads(so) if rc == 0 else {}
        r.check(taken or (dj.get("new") == [] and dj.get("resolved") == [] and dj.get("items_changed") == []
                          and len(dj.get("unchanged", [])) > 10),
                "diff between two demo runs: no new, no resolved findings, no item changes (%d unchanged)"
                % len(dj.get("unchanged", [])))
        if taken:
            print("note: a demo port was taken by another process; churn check not meaningful this run")
        # the demo's lines: no count-like exit line, the rule lists cut with an ellipsis, good/weak legend
        r.check(not re.search(r"\(0 pass, 1 fail, 3 incomplete\)", so2) and "the gate would exit 1: at least one item fails" in so2,
                "the demo's closing line says what the exit code means, not counts")
        r.check("*.good.demo" in so2 and "*.weak.demo" in so2, "the demo says which targets are good and which weak")
        item30 = next((l for l in so2.splitlines() if re.match(r"\s+30\s", l)), "")
        r.check(item30.endswith("…") and len(item30) < 220, "a cut rule list ends with an ellipsis: %s" % item30[-60:])
        weak = [l for l in so2.splitlines() if l.startswith("  fail ")]
        r.check(weak and all(".weak.demo" in l or "127.0.0.3" in l or "aws:" in l or "tokens/" in l for l in weak),
                "every failing demo target is a weak one: %s" % weak)
    finally:
        rmtree(work)




def main():
    r = Results()
    for cmd in (["scan"], ["gate"], ["validate"], ["checklist"], ["probes"], ["rules"], ["demo"]):
        rc, so, se = run_tenken(*(cmd + ["--help"]))
        r.check(rc == 0 and "usage: tenken " + cmd[0] in so, "%s --help" % cmd[0])
    rc, so, se = run_tenken("gate", "--help")
    r.check(all(("  %d  " % c) in so for c in (0, 1, 2, 3, 4)), "gate --help documents exit codes 0-4")
    rc, so, se = run_tenken("--help")
    r.check(rc == 0 and "exit codes" in so, "tenken --help")
    rc, so, se = run_tenken("bogus")
    r.check(rc == 2 and "unknown command" in se, "unknown command: exit 2")
    rc, so, se = run_tenken()
    r.check(rc == 2, "no command: exit 2")
    rc, so, se = run_tenken("version")
    r.check(rc == 0 and so.startswith("tenken "), "version")

    rc, so, se = run_tenken("checklist", "list")
    r.check(rc == 0 and "fisc-api-2018" in so and "cashless-card-2019" in so and "44 items" in so and "43 items" in so,
            "checklist list")
    rc, so, se = run_tenken("checklist", "list", "--format", "json")
    lst = json.loads(so)
    r.check({c["id"]: c["items"] for c in lst} == {"fisc-api-2018": 44, "cashless-card-2019": 43}, "checklist list --format json")
    for cid, n in (("fisc-api-2018", 44), ("cashless-card-2019", 43)):
        rc, so, se = run_tenken("checklist", "show", cid, "--format", "json")
        doc = json.loads(so)
        ok = rc == 0 and doc["id"] == cid and len(doc["items"]) == n
        ok = ok and all(all(k in it for k in ("no", "chapter", "goal", "party")) for it in doc["items"])
        ok = ok and [it["no"] for it in doc["items"]] == list(range(1, n + 1))
        r.check(ok, "checklist show %s --format json: %d items with no/chapter/goal/party" % (cid, n))
    rc, so, se = run_tenken("checklist", "show", "fisc-api-2018")
    r.check(rc == 0 and "27 [システム開発・運用管理] (API接続先) システムやネットワークに対する脆弱性対策を実施する。" in so,
            "checklist show (text) prints item 27 verbatim")
    rc, so, se = run_tenken("checklist", "show", "nosuch")
    r.check(rc == 2 and "unknown checklist" in se, "checklist show nosuch: exit 2")

    rc, so, se = run_tenken("probes")
    r.check(rc == 0 and so.startswith("") and "hsts" in so, "probes lists hsts")
    rc, so, se = run_tenken("rules", "--checklist", "cashless-card-2019")
    r.check(rc == 0 and "HSTS-MISSING" in so and "cashless-card-2019:29,36" in so and "fisc-api-2018" not in so,
            "rules --checklist maps to that checklist's items only")
    rc, so, se = run_tenken("rules", "--format", "json")
    rules = json.loads(so)
    r.check(all(set(x["items"]) == {"fisc-api-2018", "cashless-card-2019"} for x in rules)
            and all(x["title"]["ja"] and x["title"]["en"] and x["remediation"]["ja"] and x["basis"] for x in rules),
            "every rule has both checklists, ja/en titles, remediation and basis (%d rules)" % len(rules))
    r.run(test_help_matches_readme)
    r.run(test_terminal)
    r.run(test_validate)
    r.run(test_demo_history)
    r.finish()


if __name__ == "__main__":
    main()
