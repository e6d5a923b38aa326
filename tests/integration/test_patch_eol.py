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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tkharness import expand_finding  # noqa: E402
from tkharness import check, finish  # noqa: E402

TENKEN = os.environ.get("TENKEN_BIN", "tenken")
SRC = os.environ.get("TENKEN_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))



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
        check(not missing, "%s: every released major is in the table" % osid, missing)
    for e in t["os"]:
        tag = "%s %s" % (e["id"], e["version"])
        if not (e.get("source", "").startswith("https://") and e.get("end") and "verified" in e):
            check(False, tag + ": has end, https source and a verified flag", e)
        if e.get("verified") is False and "unverified" not in e.get("note", ""):
            check(False, tag + ": unverified entry says so in its note", e)
    check(True, "every entry has end, source, verified flag; unverified ones say so")

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
        x = [expand_finding(rep, y) for y in rep["findings"] if y["rule"] == rule and y["target"] == target]
        return x[0] if x else {}
    w = f("OS-END-OF-SUPPORT", "wheezy")
    check(w.get("status") == "fail" and w["evidence"].get("end_of_support") == "2018-05-31"
          and w["evidence"].get("eol_verified") is True,
          "Debian 7: OS-END-OF-SUPPORT fails (LTS end 2018-05-31, verified)", w)
    check(f("OS-END-OF-SUPPORT-UNKNOWN", "wheezy").get("status") == "pass", "Debian 7 is no longer 'unknown'")
    check(f("OS-END-OF-SUPPORT", "squeeze").get("status") == "fail",
          "Debian 6.0 (VERSION_ID 6.0) matches the '6' entry and fails")
    check(f("OS-END-OF-SUPPORT", "ol9").get("status") == "pass", "Oracle Linux 9 is known and supported in 2026")
    check(f("OS-END-OF-SUPPORT-UNKNOWN", "suse").get("status") == "warn",
          "an OS outside the table warns unknown (never passes)")


if __name__ == "__main__":
    main()
    finish()
