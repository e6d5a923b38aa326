#!/usr/bin/env python3
"""The end-of-support table (rules/tables/eol.json): every released Debian,
Ubuntu LTS and RHEL-family major is listed with a source, every entry says
whether its date was verified (an unverified one says why in its note), and
a scan of an old release (Debian 7, missing before) fails OS-END-OF-SUPPORT
instead of warning "unknown"."""
import json
import os
import subprocess
import sys
import tempfile

TENKEN = os.environ.get("TENKEN_BIN", "tenken")
SRC = os.environ.get("TENKEN_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))

passed = 0
failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("ok   " + name)
    else:
        failed += 1
        print("FAIL " + name + (": " + str(detail)[:600] if detail else ""))


EXPECTED = {
    "debian": ["1.1", "1.2", "1.3", "2.0", "2.1", "2.2", "3.0", "3.1", "4.0", "5.0", "6", "7", "8", "9", "10", "11", "12", "13"],
    "ubuntu": ["6.06", "8.04", "10.04", "12.04", "14.04", "16.04", "18.04", "20.04", "22.04", "24.04", "26.04"],
    "rhel": ["2.1", "3", "4", "5", "6", "7", "8", "9", "10"],
    "centos": ["3", "4", "5", "6", "7", "8"],
    "rocky": ["8", "9", "10"],
    "almalinux": ["8", "9", "10"],
    "ol": ["3", "4", "5", "6", "7", "8", "9", "10"],
}


def main():
    with open(os.path.join(SRC, "rules", "tables", "eol.json")) as f:
        t = json.load(f)
    have = {}
    for e in t["os"]:
        have.setdefault(e["id"], []).append(e["version"])
    for osid, versions in EXPECTED.items():
        missing = [v for v in versions if v not in have.get(osid, [])]
        check("%s: every released major is in the table" % osid, not missing, missing)
    for e in t["os"]:
        tag = "%s %s" % (e["id"], e["version"])
        if not (e.get("source", "").startswith("https://") and e.get("end") and "verified" in e):
            check(tag + ": has end, https source and a verified flag", False, e)
        if e.get("verified") is False and "unverified" not in e.get("note", ""):
            check(tag + ": unverified entry says so in its note", False, e)
    check("every entry has end, source, verified flag; unverified ones say so", True)

    tmp = tempfile.mkdtemp(prefix="tenken-patch-eol-")
    cfg = {"partner": {"id": "eol", "name": "eol"},
           "probes": {"patch": {"as_of": "2026-11-23", "inventories": [
               {"host": "wheezy", "cpes": ["cpe:2.3:a:gnu:bash:4.2:*:*:*:*:*:*:*"], "os": {"id": "debian", "version_id": "7"}},
               {"host": "squeeze", "cpes": ["cpe:2.3:a:gnu:bash:4.1:*:*:*:*:*:*:*"], "os": {"id": "debian", "version_id": "6.0"}},
               {"host": "ol9", "cpes": ["cpe:2.3:a:gnu:bash:5.1:*:*:*:*:*:*:*"], "os": {"id": "ol", "version_id": "9.4"}},
               {"host": "suse", "cpes": ["cpe:2.3:a:gnu:bash:5.1:*:*:*:*:*:*:*"], "os": {"id": "opensuse-leap", "version_id": "15.5"}}]}}}
    p = os.path.join(tmp, "c.json")
    with open(p, "w") as f:
        json.dump(cfg, f)
    r = subprocess.run([TENKEN, "scan", "-c", p, "-o", os.path.join(tmp, "o"), "-q", "-l", "fisc-api-2018"],
                       capture_output=True, text=True, timeout=60)
    rep = json.load(open(os.path.join(tmp, "o", "report.json")))

    def f(rule, target):
        x = [y for y in rep["findings"] if y["rule"] == rule and y["target"] == target]
        return x[0] if x else {}
    w = f("OS-END-OF-SUPPORT", "wheezy")
    check("Debian 7: OS-END-OF-SUPPORT fails (LTS end 2018-05-31, verified)",
          w.get("status") == "fail" and w["evidence"].get("end_of_support") == "2018-05-31"
          and w["evidence"].get("eol_verified") is True, w)
    check("Debian 7 is no longer 'unknown'", f("OS-END-OF-SUPPORT-UNKNOWN", "wheezy").get("status") == "pass")
    check("Debian 6.0 (VERSION_ID 6.0) matches the '6' entry and fails",
          f("OS-END-OF-SUPPORT", "squeeze").get("status") == "fail")
    check("Oracle Linux 9 is known and supported in 2026", f("OS-END-OF-SUPPORT", "ol9").get("status") == "pass")
    check("an OS outside the table warns unknown (never passes)",
          f("OS-END-OF-SUPPORT-UNKNOWN", "suse").get("status") == "warn")


if __name__ == "__main__":
    main()
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)
