#!/usr/bin/env python3
"""Which room may include which: the rules of docs/ARCHITECTURE.md, checked.

Every quoted #include in agent/, probes/, rules/, reports/ and demo/ is resolved to
the header it names (header names are unique in the tree, so the bare names the
build uses are unambiguous; a relative path is resolved from the including file)
and judged against the room it lives in. Tests (tests/) may include anything.
Prints one line per violation and the closing 'N passed, M failed' line.
"""
import os
import re
import sys

SRC = os.environ.get("TENKEN_SOURCE_DIR") or os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROOTS = ["agent", "probes", "rules", "reports", "demo"]
COMMANDS = re.compile(r"^agent/(main\.c|cli[^/]*\.[ch]|cmd_[^/]*\.[ch]|scan[^/]*\.[ch])$")
# rules/ headers of judging steps that reports/ may not call (it renders their result).
JUDGING_INPUTS = {"rules/waivers.h", "rules/attestation.h", "rules/csvparse.h"}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)

# Known violations being removed; each must still occur (a stale entry fails too).
EXCEPTIONS = {
}


def room(path):
    """The room a file belongs to."""
    if COMMANDS.match(path):
        return "commands"
    top = path.split("/")[0]
    if top == "probes":
        parts = path.split("/")
        if len(parts) == 2:
            return "probes/registry"
        return "probes/" + parts[1]
    return top


def public_probe_header(path):
    """A probe's public header is probes/<p>/<p>.h; common/ headers are shared by probes only."""
    parts = path.split("/")
    return len(parts) == 3 and parts[0] == "probes" and parts[2] == parts[1] + ".h"


def allowed(src_room, hdr):
    """True when a file of src_room may include header path hdr."""
    hr = room(hdr)
    if hr == "agent":
        return True                     # the core library: everyone may use it
    if src_room == "agent":
        return False                    # the core knows no probe, rule, report or command
    if src_room == "rules":
        return hr == "rules"
    if src_room == "reports":
        # reports render, never judge: applying waivers and attestation is rules/' job
        return hr in ("rules", "reports") and hdr not in JUDGING_INPUTS
    if src_room == "probes/registry":
        return False
    if src_room.startswith("probes/"):
        return hr == src_room or hr == "probes/common"
    if src_room in ("commands", "demo"):
        if hr.startswith("probes/"):
            return public_probe_header(hdr) or (src_room == "demo" and hr == "probes/common")
        return hr in ("rules", "reports", "commands", "demo")
    return False


def main():
    files, headers = [], {}
    for root in ROOTS:
        for d, _, names in os.walk(os.path.join(SRC, root)):
            for n in sorted(names):
                rel = os.path.relpath(os.path.join(d, n), SRC)
                if n.endswith((".c", ".h", ".inc")):
                    files.append(rel)
                if n.endswith((".h", ".inc")):
                    headers.setdefault(n, []).append(rel)
    passed = failed = 0
    for n, where in sorted(headers.items()):
        if len(where) > 1:
            print("FAIL header name %s is not unique: %s" % (n, ", ".join(where)))
            failed += 1
    seen = set()
    for f in sorted(files):
        text = open(os.path.join(SRC, f), encoding="utf-8", errors="replace").read()
        for inc in INCLUDE.findall(text):
            if "/" in inc:
                hdr = os.path.normpath(os.path.join(os.path.dirname(f), inc))
            else:
                same = os.path.join(os.path.dirname(f), inc)
                hdr = same if os.path.exists(os.path.join(SRC, same)) else (headers.get(inc) or [None])[0]
            if hdr is None:
                continue                # generated or system header found elsewhere
            if allowed(room(f), hdr):
                passed += 1
            elif (f, hdr) in EXCEPTIONS:
                seen.add((f, hdr))
                passed += 1
            else:
                print("FAIL %s (%s) may not include %s (%s)" % (f, room(f), hdr, room(hdr)))
                failed += 1
    for k, why in EXCEPTIONS.items():
        if k not in seen:
            print("FAIL stale exception %s -> %s (%s): remove it from tests/arch/check_includes.py" % (k[0], k[1], why))
            failed += 1
        else:
            print("note known exception %s -> %s: %s" % (k[0], k[1], why))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
