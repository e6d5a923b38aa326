"""The command layer's rooms: the commands (agent/cli.c, agent/scan.c, agent/cmd_*.c, agent/main.c)
and the demo (demo/*.c) include from probes/ only a probe's public header (probes/<probe>/<probe>.h)
or the registry; cmd_inventory.c runs scans through scan.h and calls nothing in cli.c (no
cli.c <-> cmd_inventory.c circle); the exit codes are defined once, in agent/exitcode.h (beside cli.h; reports/ may not include the commands)."""
import glob
import os
import re

from tkharness import SOURCE_DIR, Results


def includes(path):
    return re.findall(r'^\s*#\s*include\s+"([^"]+)"', open(path, encoding="utf-8").read(), re.M)


def main():
    r = Results()
    probe_headers = {}
    for h in glob.glob(os.path.join(SOURCE_DIR, "probes", "*", "*.h")):
        folder = os.path.basename(os.path.dirname(h))
        probe_headers[os.path.basename(h)] = folder
    public = {"%s.h" % d for d in os.listdir(os.path.join(SOURCE_DIR, "probes"))}
    files = (glob.glob(os.path.join(SOURCE_DIR, "agent", "cmd_*.c")) + glob.glob(os.path.join(SOURCE_DIR, "demo", "*.c"))
             + [os.path.join(SOURCE_DIR, "agent", f) for f in ("cli.c", "scan.c", "main.c")])
    for f in sorted(files):
        bad = [i for i in includes(f) if i in probe_headers and i not in public]
        r.check(not bad, "%s includes no probe-internal header (%s)" % (os.path.relpath(f, SOURCE_DIR), bad))
    inv = open(os.path.join(SOURCE_DIR, "agent", "cmd_inventory.c")).read()
    cli_funcs = set(re.findall(r"^(?:int|void|static int|static void)\s+\**(tk_\w+)\(", open(os.path.join(SOURCE_DIR, "agent", "cli.c")).read(), re.M))
    used = sorted(f for f in cli_funcs if re.search(r"\b%s\(" % f, inv))
    r.check(not used and '#include "scan.h"' in inv, "cmd_inventory.c calls nothing defined in cli.c (%s)" % used)
    defs = []
    for f in glob.glob(os.path.join(SOURCE_DIR, "*", "**", "*.h"), recursive=True):
        if re.search(r"TK_EXIT_OK\s*=", open(f, encoding="utf-8").read()):
            defs.append(os.path.relpath(f, SOURCE_DIR))
    r.check(defs == ["agent/exitcode.h"] and '#include "exitcode.h"' in open(os.path.join(SOURCE_DIR, "agent", "cli.h")).read(),
            "the exit codes are defined once, in agent/exitcode.h beside cli.h, which includes it (%s)" % defs)
    r.finish()


if __name__ == "__main__":
    main()
