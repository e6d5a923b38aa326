#!/usr/bin/env python3
"""tenken scan with the patch probe on REAL upstream feed files
(tests/data/patch/upstream/, unmodified, provenance in PROVENANCE): the
Debian tracker excerpt with "releases": [], AlmaLinux / Rocky OSV advisories
that list their CVEs in "related", a CVE-less AlmaLinux bug-fix advisory,
Ubuntu USN / UBUNTU-CVE records (one withdrawn), and an NVD per-CVE file (a
bare cve object). The host inventories are written by this test (they
describe the host under test; no upstream file can stand for them).

Then the fail-closed matrix: every way the evidence can be missing makes
FISC item 27 (and card item 26) incomplete, exit 3, never pass."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tkharness import expand_finding  # noqa: E402
from tkharness import check, finish  # noqa: E402

TENKEN = os.environ.get("TENKEN_BIN", "tenken")
SRC = os.environ.get("TENKEN_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
UP = os.path.join(SRC, "tests", "data", "patch", "upstream")
AS_OF = "2026-11-23"



def dpkg_entry(pkg, version, source=None):
    s = "Package: %s\nStatus: install ok installed\nArchitecture: amd64\n" % pkg
    if source:
        s += "Source: %s\n" % source
    return s + "Version: %s\nDescription: test entry\n\n" % version


def rpm_line(name, version, release, source, epoch="(none)"):
    return "%s\t%s\t%s\t%s\tx86_64\t%s\n" % (name, epoch, version, release, source)


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


class Partner:
    def __init__(self, root):
        self.root = root
        self.n = 0

    def scan(self, inventories, feeds, extra=None, checklist="fisc-api-2018"):
        self.n += 1
        cfg = {"partner": {"id": "upstream", "name": "upstream fixtures"},
               "probes": {"patch": dict({"as_of": AS_OF, "inventories": inventories, "feeds": feeds}, **(extra or {}))}}
        p = os.path.join(self.root, "partner-%d.json" % self.n)
        with open(p, "w") as f:
            json.dump(cfg, f)
        out = os.path.join(self.root, "out-%d" % self.n)
        r = subprocess.run([TENKEN, "scan", "-c", p, "-o", out, "-q", "-l", checklist],
                           capture_output=True, text=True, timeout=120)
        rep = None
        if os.path.exists(os.path.join(out, "report.json")):
            with open(os.path.join(out, "report.json")) as f:
                rep = json.load(f)
        return r, rep


def findings(rep, rule=None, prefix=""):
    # report/2: a finding's evidence holds the facts its rule judged; the rule's further evidence
    # paths are read from its observation (expand_finding, as the renderers do)
    return [expand_finding(rep, f) for f in (rep or {}).get("findings", [])
            if (rule is None or f["rule"] == rule) and f["target"].startswith(prefix)]


def item(rep, no):
    for it in (rep or {}).get("items", []):
        if it["no"] == no:
            return it
    return {}


def vuln_targets(rep, prefix):
    return sorted({f["target"] for f in findings(rep, prefix=prefix)
                   if f["rule"].startswith("PATCH-") and f["rule"] != "PATCH-INVENTORY-UNJUDGED"})


def main():
    tmp = tempfile.mkdtemp(prefix="tenken-patch-up-")
    try:
        feeds = os.path.join(tmp, "feeds")
        shutil.copytree(UP, feeds)
        # feed files' age is judged from their mtime (no .meta.json here): make them fresh as of AS_OF
        t_asof = time.mktime(time.strptime(AS_OF, "%Y-%m-%d"))
        for d, _, fs in os.walk(feeds):
            for f in fs:
                os.utime(os.path.join(d, f), (t_asof - 86400, t_asof - 86400))
        P = Partner(tmp)
        TRK = {"format": "debian-tracker", "path": "feeds/debian/debian.json"}
        NVD = {"format": "nvd", "path": "feeds/nvd/"}
        ALMA = {"format": "osv", "path": "feeds/osv-alma/"}
        ROCKY = {"format": "osv", "path": "feeds/osv-rocky/"}
        UBU = {"format": "osv", "path": "feeds/osv-ubuntu/"}

        # ---- 1. Debian tracker with "releases": [] for an installed source ----
        write(os.path.join(tmp, "deb12/status"),
              dpkg_entry("chromium", "90.0.4430.212-1")
              + dpkg_entry("chromium-browser-l10n", "1.0-1", source="chromium-browser")
              + dpkg_entry("sope4.9-libxml", "5.8.0-1", source="sope"))
        write(os.path.join(tmp, "deb12/os-release"), 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n')
        deb = {"host": "deb12", "dpkg_status": "deb12/status", "os_release": "deb12/os-release"}
        r, rep = P.scan([deb], [TRK])
        errs = findings(rep, "PATCH-INVENTORY-UNJUDGED")
        check(rep is not None and [f["status"] for f in errs] == ["pass"],
              "tracker with chromium-browser \"releases\": [] loads (no error finding)", [f.get("evidence") for f in errs])
        check(r.returncode == 0, "... scan complete (exit 0)", (r.returncode, r.stderr[-300:]))
        check(vuln_targets(rep, "deb12/chromium/") == ["deb12/chromium/CVE-2022-0456"],
              "... chromium 90 vs bookworm fix 98.0.4758.80-1: a finding for CVE-2022-0456", vuln_targets(rep, "deb12/"))
        check(vuln_targets(rep, "deb12/sope/") == ["deb12/sope/CVE-2025-53603"],
              "... sope 5.8.0-1 vs 5.8.0-1+deb12u1: a finding for CVE-2025-53603", vuln_targets(rep, "deb12/"))
        check(vuln_targets(rep, "deb12/chromium-browser/") == [], "... chromium-browser (no release data) has no finding")
        f = [x for x in findings(rep, prefix="deb12/chromium/CVE-2022-0456") if x["status"] != "pass"]
        ev = f[0]["evidence"] if f else {}
        check(ev.get("feed_file") == "feeds/debian/debian.json" and ev.get("feed") == "debian-tracker",
              "evidence names the feed file, not only \"debian-tracker\"", ev)

        # a truncated tracker (the same real file cut in the middle of the sope entry): all or nothing
        with open(os.path.join(UP, "debian", "debian.json"), "rb") as fh:
            data = fh.read()
        cut = data.index(b'"sope"') + 40
        write(os.path.join(tmp, "trunc/debian.json"), data[:cut].decode())
        os.utime(os.path.join(tmp, "trunc/debian.json"), (t_asof, t_asof))
        r, rep = P.scan([deb], [{"format": "debian-tracker", "path": "trunc/debian.json"}])
        e = findings(rep, "PATCH-INVENTORY-UNJUDGED", "deb12")
        check(r.returncode == 3 and e and e[0]["status"] == "error"
              and "trunc/debian.json" in e[0]["evidence"]["message"] and "truncated" in e[0]["evidence"]["message"],
              "truncated tracker: an error naming the file and 'truncated', exit 3",
              (r.returncode, e))
        check(vuln_targets(rep, "deb12/") == [],
              "... and NO finding from the part read before the error (chromium came before the cut)", vuln_targets(rep, "deb12/"))
        check(item(rep, 27).get("status") == "incomplete", "... item 27 incomplete, not pass", item(rep, 27).get("status"))

        # ---- 2. AlmaLinux: CVEs in "related", rpm binaries of one source, NVD per-CVE file, ALBA ----
        write(os.path.join(tmp, "alma9/rpm-qa.txt"),
              rpm_line("avahi", "0.8", "15.el9", "avahi-0.8-15.el9.src.rpm")
              + rpm_line("avahi-libs", "0.8", "15.el9", "avahi-0.8-15.el9.src.rpm")
              + rpm_line("libtiff", "4.4.0", "1.el9", "libtiff-4.4.0-1.el9.src.rpm"))
        alma9 = {"host": "alma9", "rpm_qa": "alma9/rpm-qa.txt", "os": {"id": "almalinux", "version_id": "9.3"}}
        write(os.path.join(tmp, "alma8/rpm-qa.txt"),
              rpm_line("krb5-libs", "1.18.2", "13.el8", "krb5-1.18.2-13.el8.src.rpm"))
        alma8 = {"host": "alma8", "rpm_qa": "alma8/rpm-qa.txt", "os": {"id": "almalinux", "version_id": "8.10"}}
        r, rep = P.scan([alma9], [ALMA, NVD])
        check(r.returncode == 0, "alma scan complete (exit 0)", (r.returncode, r.stderr[-300:],
              [f["evidence"] for f in findings(rep) if f["status"] == "error"]))
        libtiff = vuln_targets(rep, "alma9/libtiff/")
        check(len(libtiff) == 10 and all("/CVE-2022-" in t for t in libtiff),
              "ALSA-2022:8194 (10 CVEs in related): 10 findings keyed by CVE", libtiff)
        check(not [f for f in findings(rep) if "ALSA-" in f["target"]], "... none keyed ALSA-...")
        avahi = vuln_targets(rep, "alma9/avahi")
        check(avahi == ["alma9/avahi/CVE-2023-%d" % n for n in range(38469, 38474)],
              "avahi + avahi-libs (one source): one finding per CVE (5), not 10", avahi)
        fs = [x for x in findings(rep, prefix="alma9/avahi/CVE-2023-38469")]
        sev = [x for x in fs if x["rule"] == "PATCH-MISSING-SEVERE"]
        sev_ev = sev[0]["evidence"] if sev else {}
        check(sev_ev.get("score") == 5.5 and sev_ev.get("score_source") == "nvd:nvd@nist.gov",
              "... the NVD per-CVE file's score is joined (5.5, nvd@nist.gov Primary)", sev_ev)
        check(sorted(sev_ev.get("binaries") or []) == ["avahi", "avahi-libs"],
              "... binaries avahi and avahi-libs in the evidence", sev_ev.get("binaries"))
        check(sev_ev.get("record") == "ALSA-2024:2433"
              and sev_ev.get("feed_file") == "feeds/osv-alma/ALSA-2024_2433.json", "... record and feed file named", sev_ev)
        h = [x for x in findings(rep, "PATCH-INVENTORY-UNJUDGED", "alma9")]
        feeds_sum = (h[0]["evidence"].get("feeds") if h else None) or []
        check(any(s.get("bugfix_advisories_skipped") == 1 for s in feeds_sum),
              "ALBA-2021:4378 (bug fix, no CVE) is counted as a skipped bug-fix advisory in the feed summary", feeds_sum)
        r, rep = P.scan([alma8], [ALMA])
        check(vuln_targets(rep, "alma8/") == [],
              "... krb5-libs older than the ALBA's fix is NOT a vulnerability (no finding)", vuln_targets(rep, "alma8/"))
        e = findings(rep, "PATCH-INVENTORY-UNJUDGED", "alma8")
        check(e and e[0]["status"] == "error" and "no loaded feed has data" in e[0]["evidence"]["message"],
              "... and with no security data for AlmaLinux 8 the host is not judged: error (incomplete), never pass", e)

        # ---- 3. Rocky: a 10-CVE advisory with one record-level severity ----
        write(os.path.join(tmp, "rocky8/rpm-qa.txt"),
              rpm_line("java-11-openjdk", "11.0.12.0.7", "0.el8_4", "java-11-openjdk-11.0.12.0.7-0.el8_4.src.rpm", epoch="1")
              + rpm_line("java-11-openjdk-headless", "11.0.12.0.7", "0.el8_4", "java-11-openjdk-11.0.12.0.7-0.el8_4.src.rpm", epoch="1"))
        rocky8 = {"host": "rocky8", "rpm_qa": "rocky8/rpm-qa.txt", "os": {"id": "rocky", "version_id": "8.4"}}
        r, rep = P.scan([rocky8], [ROCKY])
        jt = vuln_targets(rep, "rocky8/java-11-openjdk/")
        check(len(jt) == 10
              and all("/CVE-2021-" in t for t in jt), "RLSA-2021:3891 (10 CVEs in related): 10 findings keyed by CVE", jt)
        srcs = {(f.get("evidence") or {}).get("score_source") for f in findings(rep, prefix="rocky8/")}
        check("osv:RLSA-2021:3891" not in srcs and len(findings(rep, "PATCH-UNSCORED", "rocky8/")) == 10,
              "... the record-level CVSS vector is not given to each of its 10 CVEs (unscored)", srcs)

        # ---- 4. Ubuntu: USN whose upstream is UBUNTU-CVE-..., and a withdrawn record ----
        write(os.path.join(tmp, "u22/status"), dpkg_entry("libwayland-client0", "1.20.0-1", source="wayland"))
        write(os.path.join(tmp, "u22/os-release"), 'ID=ubuntu\nVERSION_ID="22.04"\nVERSION_CODENAME=jammy\n')
        write(os.path.join(tmp, "u14/status"), dpkg_entry("tpp", "1.3.1-2"))
        write(os.path.join(tmp, "u14/os-release"), 'ID=ubuntu\nVERSION_ID="14.04"\n')
        u22 = {"host": "u22", "dpkg_status": "u22/status", "os_release": "u22/os-release"}
        u14 = {"host": "u14", "dpkg_status": "u14/status", "os_release": "u14/os-release"}
        r, rep = P.scan([u22, u14], [UBU])
        wt = vuln_targets(rep, "u22/")
        check(wt == ["u22/wayland/CVE-2021-3782"],
              "USN-5614-1 (upstream UBUNTU-CVE-2021-3782) and UBUNTU-CVE-2021-3782: one CVE, one finding", wt)
        f = [x for x in findings(rep, prefix="u22/wayland/CVE-2021-3782") if x["rule"] == "PATCH-MISSING-SEVERE"]
        check(f and f[0]["evidence"].get("score") is not None, "... scored (the per-CVE record's CVSS vector)", f)
        check(vuln_targets(rep, "u14/") == [], "withdrawn UBUNTU-CVE-2013-2208: tpp 1.3.1-2 < 1.3.1-3 gives no finding",
              vuln_targets(rep, "u14/"))
        e = findings(rep, "PATCH-INVENTORY-UNJUDGED", "u14")
        check(e and e[0]["status"] == "error",
              "... (the withdrawn record is the only one for 14.04: the host cannot be judged: error, not pass)", e)

        # ---- 5. fail closed: each way evidence can be missing -> items 27/26 incomplete, exit 3 ----
        write(os.path.join(tmp, "ok9/rpm-qa.txt"), rpm_line("avahi", "0.8", "20.el9", "avahi-0.8-20.el9.src.rpm"))
        ok9 = {"host": "ok9", "rpm_qa": "ok9/rpm-qa.txt", "os": {"id": "almalinux", "version_id": "9.3"}}
        r, rep = P.scan([ok9], [ALMA])
        check(r.returncode == 0 and item(rep, 27).get("status") == "pass",
              "baseline: a patched AlmaLinux 9 host: item 27 pass, exit 0", (r.returncode, item(rep, 27)))

        os.makedirs(os.path.join(tmp, "unreadable/x.json"), exist_ok=True)  # a directory where a file must be
        write(os.path.join(tmp, "garbage/rpm-qa.txt"), "this is not rpm -qa output\n")
        write(os.path.join(tmp, "badver/status"), dpkg_entry("chromium", "x:90.0-1") + dpkg_entry("sope4.9-libxml", "5.8.0-1+deb12u1", source="sope"))
        write(os.path.join(tmp, "stale/ALSA-2024_2433.json"), open(os.path.join(UP, "osv-alma", "ALSA-2024_2433.json")).read())
        old = t_asof - 30 * 86400
        os.utime(os.path.join(tmp, "stale/ALSA-2024_2433.json"), (old, old))
        cases = [
            ("feed file missing", [ok9], [{"format": "osv", "path": "nowhere/"}], None, "nowhere"),
            ("feed file unreadable", [ok9], [{"format": "osv", "path": "unreadable/"}], None, "x.json"),
            ("feed malformed (truncated real tracker)", [deb], [{"format": "debian-tracker", "path": "trunc/debian.json"}], None, "truncated"),
            ("feed stale (30 days > max_feed_age_days 7)", [ok9], [{"format": "osv", "path": "stale/"}], None, "stale feed"),
            ("unknown OS", [dict(ok9, os={"id": "opensuse-leap", "version_id": "15.5"})], [ALMA], None, "opensuse-leap"),
            ("inventory missing", [dict(ok9, rpm_qa="nothere/rpm-qa.txt")], [ALMA], None, "nothere"),
            ("inventory malformed", [dict(ok9, rpm_qa="garbage/rpm-qa.txt")], [ALMA], None, "garbage/rpm-qa.txt"),
            ("installed version not comparable (dpkg refuses epoch 'x')", [dict(deb, dpkg_status="badver/status")], [TRK], None, "cannot be compared"),
            ("no feed data for the release", [dict(ok9, os={"id": "almalinux", "version_id": "10.0"})], [ALMA], None, "no loaded feed has data"),
        ]
        for name, invs, fds, extra, needle in cases:
            for cl, no in (("fisc-api-2018", 27), ("cashless-card-2019", 26)):
                r, rep = P.scan(invs, fds, extra, checklist=cl)
                it = item(rep, no)
                msgs = " | ".join(f["evidence"].get("message", "") for f in findings(rep) if f["status"] == "error")
                check(r.returncode == 3 and it.get("status") == "incomplete" and needle in msgs,
                      "fail closed [%s]: %s item %d incomplete, exit 3, reason given" % (name, cl, no),
                      (r.returncode, it.get("status"), msgs[:400], r.stderr[-300:]))
        # staleness is tailorable
        r, rep = P.scan([ok9], [{"format": "osv", "path": "stale/"}], {"max_feed_age_days": 60})
        check(r.returncode == 0 and item(rep, 27).get("status") == "pass",
              "max_feed_age_days 60: the 30-day-old feed is accepted (item 27 pass)", (r.returncode, item(rep, 27)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
    finish()
