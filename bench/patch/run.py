#!/usr/bin/env python3
"""Benchmark of the patch probe (see docs/patch.md "Figures").

Generates, in a temporary directory (nothing is committed):
  - a dpkg status file with 2,000 installed binary packages (~1,400 sources),
  - a Debian-security-tracker-shaped JSON feed with >= 50,000 CVE entries
    (package -> CVE -> releases{bookworm, bullseye, sid}) over 20,000 source
    packages, with resolved / fixed_version "0" / open / undetermined /
    unimportant entries in realistic proportions,
  - NVD CVE API 2.0 pages carrying a CVSS v3.1 vector for every CVE,
  - the same tracker data in debsecan's own format (zlib "VERSION 1").
Runs `tenken scan` (tracker only, and tracker + NVD) and, if installed,
`debsecan --suite bookworm` offline on the same data (file:// source), each
REPEAT times, and prints median wall time, the probe's own load+match time
(report.json probes[].duration_ms), peak RSS, and whether the two tools found
the same vulnerable (package, CVE) pairs.

usage: bench/patch/run.py [--tenken build/tenken] [--repeat 5] [--entries 60000] [--keep DIR]
"""
import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zlib

RELEASES = ["bookworm", "bullseye", "sid"]


def ver(rng):
    v = "%d.%d.%d" % (rng.randint(0, 9), rng.randint(0, 40), rng.randint(0, 20))
    if rng.random() < 0.1:
        v = "%d:%s" % (rng.randint(1, 3), v)
    if rng.random() < 0.1:
        v += "~rc%d" % rng.randint(1, 3)
    return v + "-%d" % rng.randint(1, 5)


def bump(rng, v, up):
    """A Debian security-style version just above (or below) v."""
    if up:
        return v + "+deb12u%d" % rng.randint(1, 9)
    base, _, rev = v.rpartition("-")
    return "%s-%d" % (base, max(0, int(rev) - 1)) if int(rev) > 1 else base + "~pre1-1"


def generate(d, entries, rng):
    n_src = 20000
    srcs = ["src%05d" % i for i in range(n_src)]
    # inventory: 2,000 binaries from 1,400 sources
    inv_srcs = rng.sample(srcs, 1400)
    installed = {s: ver(rng) for s in inv_srcs}
    lines = []
    nbin = 0
    for s in inv_srcs:
        for b in range(1 if nbin >= 2000 - 1 else rng.choice([1, 1, 1, 2, 2, 3])):
            if nbin >= 2000:
                break
            name = s if b == 0 else "%s-bin%d" % (s, b)
            lines.append("Package: %s\nStatus: install ok installed\nPriority: optional\nSection: libs\n"
                         "Installed-Size: %d\nMaintainer: Bench <bench@example.org>\nArchitecture: amd64\n"
                         "Source: %s\nVersion: %s\nDescription: benchmark package %s\n long description line\n"
                         % (name, rng.randint(10, 9000), s, installed[s], name))
            nbin += 1
    while nbin < 2000:  # top up with source-less packages
        name = "extra%04d" % nbin
        v = ver(rng)
        installed[name] = v
        lines.append("Package: %s\nStatus: install ok installed\nArchitecture: all\nVersion: %s\n"
                     "Description: benchmark package\n" % (name, v))
        nbin += 1
    with open(os.path.join(d, "status"), "w") as f:
        f.write("\n".join(lines))
    with open(os.path.join(d, "os-release"), "w") as f:
        f.write('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\nID=debian\n')
    # tracker: entries (package, CVE) pairs; inventory sources get ~15% of them
    tracker = {}
    cves = []
    truth = {"fixable": set(), "open": set()}
    deb = {"vulns": [], "pkgs": []}
    inv_list = list(installed)
    for i in range(entries):
        cve = "CVE-%d-%05d" % (2015 + i % 11, i)
        cves.append(cve)
        s = rng.choice(inv_list) if rng.random() < 0.15 else rng.choice(srcs)
        rels = {}
        r = rng.random()
        inst = installed.get(s)
        for rel in RELEASES:
            if r < 0.60:
                if inst and rel == "bookworm":
                    fixed = bump(rng, inst, rng.random() < 0.4)
                else:
                    fixed = ver(rng)
                rels[rel] = {"status": "resolved", "repositories": {rel: fixed}, "fixed_version": fixed,
                             "urgency": rng.choice(["not yet assigned", "low", "medium", "high"])}
            elif r < 0.70:
                rels[rel] = {"status": "resolved", "repositories": {rel: "1.0-1"}, "fixed_version": "0",
                             "urgency": "not yet assigned"}
            elif r < 0.90:
                rels[rel] = {"status": "open", "repositories": {rel: "1.0-1"}, "urgency": "not yet assigned"}
            elif r < 0.95:
                rels[rel] = {"status": "undetermined", "repositories": {rel: "1.0-1"}, "urgency": "not yet assigned"}
            else:
                rels[rel] = {"status": "open", "repositories": {rel: "1.0-1"}, "urgency": "unimportant"}
        tracker.setdefault(s, {})[cve] = {"description": "Benchmark vulnerability %s in %s." % (cve, s),
                                          "scope": rng.choice(["local", "remote"]), "releases": rels}
        b = rels["bookworm"]
        # debsecan's format for the bookworm suite
        if not (b["status"] == "resolved" and b.get("fixed_version") == "0"):
            vn = len(deb["vulns"])
            deb["vulns"].append("%s,,%s" % (cve, "Benchmark vulnerability"))
            fix = b.get("fixed_version", "") if b["status"] == "resolved" else ""
            urg = {"low": "L", "medium": "M", "high": "H"}.get(b["urgency"], " ")
            deb["pkgs"].append("%s,%d,S%s%s%s,%s," % (s, vn, urg, "R" if tracker[s][cve]["scope"] == "remote" else " ",
                                                       "F" if fix else " ", fix))
    with open(os.path.join(d, "debian.json"), "w") as f:
        json.dump(tracker, f, separators=(",", ":"))
    os.makedirs(os.path.join(d, "nvd"))
    m = ["N", "A", "L", "P"]
    for page in range(0, len(cves), 2000):
        vulns = []
        for cve in cves[page:page + 2000]:
            vec = "CVSS:3.1/AV:%s/AC:%s/PR:%s/UI:%s/S:%s/C:%s/I:%s/A:%s" % (
                rng.choice(m), rng.choice("LH"), rng.choice("NLH"), rng.choice("NR"), rng.choice("UC"),
                rng.choice("HLN"), rng.choice("HLN"), rng.choice("HLN"))
            vulns.append({"cve": {"id": cve, "sourceIdentifier": "cve@mitre.org", "published": "2024-01-01T00:00:00.000",
                                  "lastModified": "2024-06-01T00:00:00.000", "vulnStatus": "Analyzed",
                                  "descriptions": [{"lang": "en", "value": "Benchmark vulnerability %s." % cve}],
                                  "metrics": {"cvssMetricV31": [{"source": "nvd@nist.gov", "type": "Primary",
                                                                 "cvssData": {"version": "3.1", "vectorString": vec}}]}}})
        with open(os.path.join(d, "nvd", "page-%05d.json" % (page // 2000)), "w") as f:
            json.dump({"resultsPerPage": len(vulns), "startIndex": page, "totalResults": len(cves),
                       "format": "NVD_CVE", "version": "2.0", "vulnerabilities": vulns}, f, separators=(",", ":"))
    os.makedirs(os.path.join(d, "debsecan"))
    text = "VERSION 1\n" + "\n".join(deb["vulns"]) + "\n\n" + "\n".join(deb["pkgs"]) + "\n\n\n"
    with open(os.path.join(d, "debsecan", "bookworm"), "wb") as f:
        f.write(zlib.compress(text.encode()))
    for name, feeds in (("tracker", [{"format": "debian-tracker", "path": "debian.json"}]),
                        ("tracker+nvd", [{"format": "debian-tracker", "path": "debian.json"},
                                         {"format": "nvd", "path": "nvd/"}])):
        cfg = {"partner": {"id": "bench", "name": "bench"},
               "probes": {"patch": {"as_of": "2026-11-23",
                                    "inventories": [{"host": "bench1", "dpkg_status": "status",
                                                     "os_release": "os-release"}],
                                    "feeds": feeds}}}
        with open(os.path.join(d, "partner-%s.json" % name), "w") as f:
            json.dump(cfg, f)
    return len(cves), sum(len(v) for v in tracker.values())


CPU = []  # CPU seconds (user + system) of each timed tenken run: transfers across loaded machines


def run_timed(cmd, **kw):
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.monotonic()
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    wall = time.monotonic() - t
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append((ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime))
    # ru_maxrss of children is the max over all children so far: run the biggest first or read /proc
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return r, wall, max(before, after)


def peak_rss_kb(cmd):
    """Peak RSS of one run, measured with a fresh python so earlier children do not count."""
    code = ("import resource,subprocess,sys;subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL,"
            "stderr=subprocess.DEVNULL);print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    r = subprocess.run([sys.executable, "-c", code] + cmd, capture_output=True, text=True)
    return int(r.stdout.strip() or 0)


def stored_bytes(state, rep):
    """Bytes the history keeps for this scan (report file, compressed or not, and its signature)."""
    seq = rep.get("history", {}).get("seq")
    if seq is None:
        return 0
    total = 0
    for root, _, files in os.walk(os.path.join(state, "reports")):
        for f in files:
            if f.startswith("%08d.json" % seq):
                total += os.path.getsize(os.path.join(root, f))
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tenken", default=os.path.join("build", "tenken"))
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--entries", type=int, default=60000)
    ap.add_argument("--keep")
    a = ap.parse_args()
    tenken = os.path.abspath(a.tenken)
    d = a.keep or tempfile.mkdtemp(prefix="tenken-bench-patch-")
    os.makedirs(d, exist_ok=True)
    rng = random.Random(1123)
    t = time.monotonic()
    ncve, nentries = generate(d, a.entries, rng)
    sizes = os.path.getsize(os.path.join(d, "debian.json")) >> 20
    print("generated in %.1f s: 2000 packages, tracker %d CVE entries (%d MiB), NVD %d CVEs in %d pages"
          % (time.monotonic() - t, nentries, sizes, ncve, len(os.listdir(os.path.join(d, "nvd")))))
    results = {}
    for name in ("tracker", "tracker+nvd"):
        walls, probe_ms, report_bytes, hist_bytes = [], [], [], []
        del CPU[:]
        vuln = None
        state = os.path.join(d, "state-%s" % name)
        for i in range(a.repeat):
            out = os.path.join(d, "out-%s-%d" % (name, i))
            # its own history directory: the scan's time includes storing and signing the report
            cmd = [tenken, "scan", "-c", os.path.join(d, "partner-%s.json" % name), "-o", out, "-q",
                   "--state", state]
            r, wall, _ = run_timed(cmd)
            if r.returncode != 0:
                print("tenken failed:", r.stderr[-1000:])
                sys.exit(1)
            rep = json.load(open(os.path.join(out, "report.json")))
            report_bytes.append(os.path.getsize(os.path.join(out, "report.json")))
            hist_bytes.append(stored_bytes(state, rep))
            walls.append(wall)
            probe_ms.append(rep["probes"][0]["duration_ms"])
            vuln = set()
            for o in rep["observations"]:
                if o.get("kind") != "patch_vuln":
                    continue
                # report/3: one observation per source package, one entry per CVE (its fields, else the package's)
                for e in o.get("entries") or [o]:
                    v = dict(o, **e) if e is not o else o
                    vuln.add((v["package"], v["cve"], v["fix_available"]))
            shutil.rmtree(out)
        rss = peak_rss_kb([tenken, "scan", "-c", os.path.join(d, "partner-%s.json" % name), "-o",
                           os.path.join(d, "out-rss"), "-q", "--state", state])
        results[name] = vuln
        print("tenken (%-11s): scan wall median %.3f s (min %.3f), probe load+match median %d ms, peak RSS %.1f MiB, "
              "%d vulnerable (package, CVE): %d fixable, %d without fix"
              % (name, statistics.median(walls), min(walls), statistics.median(probe_ms), rss / 1024, len(vuln),
                 sum(1 for v in vuln if v[2]), sum(1 for v in vuln if not v[2])))
        print("  report.json %d bytes (%.2f MiB; %d findings), stored in the history %d bytes per scan; "
              "scan end to end (probe, rules, report, history): CPU user+sys median %.3f s (min %.3f), "
              "wall median %.3f s; load average %s"
              % (statistics.median(report_bytes), statistics.median(report_bytes) / 1048576, len(rep["findings"]),
                 statistics.median(hist_bytes), statistics.median(CPU), min(CPU), statistics.median(walls),
                 " ".join("%.1f" % x for x in os.getloadavg())))
    if shutil.which("debsecan"):
        walls = []
        out = None
        cmd = ["debsecan", "--suite", "bookworm", "--source", "file://" + os.path.join(d, "debsecan") + "/",
               "--status", os.path.join(d, "status"), "--format", "summary", "--config", "/dev/null",
               "--history", os.path.join(d, "debsecan-history")]
        for i in range(a.repeat):
            r, wall, _ = run_timed(cmd)
            if r.returncode != 0:
                print("debsecan failed:", r.stderr[-1000:])
                break
            walls.append(wall)
            out = r.stdout
        if walls:
            rss = peak_rss_kb(cmd)
            # summary lines: "CVE-... binary (fixed, ...)"; map binaries to sources as the status file does
            src_of = {}
            for para in open(os.path.join(d, "status")).read().split("\n\n"):
                f = dict(l.split(": ", 1) for l in para.splitlines() if ": " in l and not l.startswith(" "))
                if "Package" in f:
                    src_of[f["Package"]] = f.get("Source", f["Package"]).split(" ")[0]
            ds = set()
            for line in out.splitlines():
                parts = line.split(" ", 2)
                if len(parts) >= 2:
                    ds.add((src_of.get(parts[1], parts[1]), parts[0], "(fixed" in line))
            tk = results["tracker"]
            tk_pairs = {(p, c) for p, c, _ in tk}
            ds_pairs = {(p, c) for p, c, _ in ds}
            print("debsecan (tracker data): wall median %.3f s (min %.3f), peak RSS %.1f MiB, %d vulnerable (package, CVE): "
                  "%d fixed-available" % (statistics.median(walls), min(walls), rss / 1024, len(ds_pairs),
                                          sum(1 for v in ds if v[2])))
            print("verdicts: same (package, CVE) pairs: %s; only tenken: %d; only debsecan: %d"
                  % (tk_pairs == ds_pairs, len(tk_pairs - ds_pairs), len(ds_pairs - tk_pairs)))
            fix_tk = {(p, c) for p, c, f in tk if f}
            fix_ds = {(p, c) for p, c, f in ds if f}
            print("fix available: same pairs: %s; only tenken: %d; only debsecan: %d"
                  % (fix_tk == fix_ds, len(fix_tk - fix_ds), len(fix_ds - fix_tk)))
            for x in sorted(tk_pairs ^ ds_pairs)[:5]:
                print("  differs:", x)
    else:
        print("debsecan not installed: skipped (apt-get install debsecan)")
    if not a.keep:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
