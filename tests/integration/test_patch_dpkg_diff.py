#!/usr/bin/env python3
"""Differential test: tenken's dpkg version comparison against dpkg's own.

100,000 generated version pairs are compared by tenken (probes/patch/dpkgver.c) and
by libdpkg's dpkg_version_compare() - the function `dpkg --compare-versions`
calls - in one small driver built here; a random sample of the pairs is also
run through the `dpkg --compare-versions` binary itself, to tie libdpkg to
the dpkg on this machine. Zero disagreements allowed, including on which
strings dpkg refuses to parse.
"""
import os
import random
import shutil
import subprocess
import sys
import tempfile
from tkharness import check, finish  # noqa: E402

SRC = os.environ.get("TENKEN_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
N_PAIRS = 100000
N_BINARY_SAMPLE = 1500



UP_CHARS = "0123456789" * 3 + "abcxyzABZ" + "..." + "++" + "~~~" + "-" + ":"
REV_CHARS = "0123456789" * 3 + "abdeuz" + ".." + "+" + "~~"


def rand_part(rng, chars, lo, hi):
    return "".join(rng.choice(chars) for _ in range(rng.randint(lo, hi)))


def gen_version(rng):
    v = ""
    r = rng.random()
    if r < 0.15:
        v += str(rng.choice([0, 1, 2, 3, 10, 99])) + ":"
    elif r < 0.17:
        v += rng.choice(["", "a", "-1", "00"]) + ":"  # invalid epochs
    # upstream: mostly starts with a digit
    if rng.random() < 0.95:
        v += str(rng.randint(0, 20))
    v += rand_part(rng, UP_CHARS if ":" in v else UP_CHARS.replace(":", ""), 0, 8)
    if rng.random() < 0.6:
        v += "-" + rand_part(rng, REV_CHARS, 0 if rng.random() < 0.1 else 1, 6)
    if rng.random() < 0.01:
        v += rng.choice([" x", "\t"])  # embedded blank
    return v


def mutate(rng, v):
    if not v:
        return v
    i = rng.randrange(len(v))
    op = rng.random()
    if op < 0.3:
        return v[:i] + rng.choice("0123456789~+.a") + v[i + 1:]
    if op < 0.5:
        return v[:i] + "0" + v[i:]
    if op < 0.7:
        return v + rng.choice(["~", "~rc1", "+b1", ".0", "0", "a", "-1"])
    if op < 0.85:
        return v[:i]
    return v


def pairs(rng, n):
    out = []
    while len(out) < n:
        a = gen_version(rng)
        r = rng.random()
        if r < 0.35:
            b = mutate(rng, a)
        elif r < 0.4:
            b = a
        else:
            b = gen_version(rng)
        if not a.strip() or not b.strip() or " " in a.strip() or " " in b.strip():
            # the driver splits on the first space; blanks inside are tested via tabs
            a, b = a.replace(" ", "\t"), b.replace(" ", "\t")
        if " " in a or " " in b or "\n" in a + b:
            continue
        out.append((a, b))
    return out


def main():
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    check(cc is not None, "a C compiler is available")
    if not cc:
        return
    tmp = tempfile.mkdtemp(prefix="tenken-dpkgdiff-")
    try:
        exe = os.path.join(tmp, "driver")
        build = subprocess.run([cc, "-O2", "-I", os.path.join(SRC, "probes", "patch"), "-I", os.path.join(SRC, "agent"),
                                os.path.join(SRC, "tests", "integration", "patch", "dpkg_diff_driver.c"),
                                os.path.join(SRC, "probes", "patch", "dpkgver.c"), "-ldpkg", "-o", exe],
                               capture_output=True, text=True)
        check(build.returncode == 0, "driver builds against libdpkg (Debian package libdpkg-dev)", build.stderr[-2000:])
        if build.returncode != 0:
            return
        rng = random.Random(20261123)
        ps = pairs(rng, N_PAIRS)
        check(len(ps) == N_PAIRS, "generated %d pairs" % N_PAIRS)
        data = "".join("%s %s\n" % p for p in ps)
        res = subprocess.run([exe], input=data, capture_output=True, text=True, timeout=120)
        lines = res.stdout.splitlines()
        check(res.returncode == 0 and len(lines) == len(ps), "driver answered every pair",
              "rc=%d lines=%d" % (res.returncode, len(lines)))
        disagree, refused, compared, lt, gt, eq = [], 0, 0, 0, 0, 0
        dpkg_sign = {}
        for (a, b), ln in zip(ps, lines):
            f = ln.split()
            if f[0] == "E":
                refused += 1
                if f[1] != "bad":
                    disagree.append((a, b, "dpkg refuses, tenken parses"))
                continue
            ours, theirs = int(f[0]), int(f[1])
            compared += 1
            dpkg_sign[(a, b)] = theirs
            lt += theirs < 0
            gt += theirs > 0
            eq += theirs == 0
            if ours != theirs:
                disagree.append((a, b, "tenken %d, dpkg %d" % (ours, theirs)))
            elif len(f) > 2:
                disagree.append((a, b, "tenken flags as unparsable, dpkg compares"))
        print("pairs: %d compared (%d <, %d =, %d >), %d refused by dpkg" % (compared, lt, eq, gt, refused))
        check(not disagree, "zero disagreements with libdpkg over %d pairs" % len(ps),
              "; ".join("%r vs %r: %s" % d for d in disagree[:10]))
        check(lt > 1000 and gt > 1000 and eq > 1000 and refused > 100, "the pairs exercise every outcome")
        dpkg = shutil.which("dpkg")
        check(dpkg is not None, "dpkg is installed")
        if dpkg:
            # arguments starting with '-' would be taken for options by dpkg's command line
            sample = rng.sample(sorted(p for p in dpkg_sign if not p[0].startswith("-") and not p[1].startswith("-")),
                                N_BINARY_SAMPLE)
            bad = []
            for a, b in sample:
                r_lt = subprocess.run([dpkg, "--compare-versions", a, "lt", b], capture_output=True).returncode
                if r_lt == 0:
                    s = -1
                elif r_lt != 1:
                    s = "exit %d" % r_lt
                else:
                    r_eq = subprocess.run([dpkg, "--compare-versions", a, "eq", b], capture_output=True).returncode
                    s = 0 if r_eq == 0 else 1 if r_eq == 1 else "exit %d" % r_eq
                if s != dpkg_sign[(a, b)]:
                    bad.append((a, b, s, dpkg_sign[(a, b)]))
            check(not bad, "`dpkg --compare-versions` agrees with libdpkg on %d sampled pairs" % len(sample),
                  repr(bad[:5]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
    finish()
