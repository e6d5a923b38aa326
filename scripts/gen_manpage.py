#!/usr/bin/env python3
"""Generate tenken(1) from one source: the binary's own --help texts, placed into
docs/man/tenken.1.in (the hand-written NAME, DESCRIPTION, ENVIRONMENT, FILES parts).

usage: gen_manpage.py TENKEN_BINARY TEMPLATE OUTPUT(.1 or .1.gz) VERSION
"""
import gzip
import re
import subprocess
import sys

# Commands whose --help is shown under COMMANDS, in this order; "key show" etc. are
# reached through their first word.
COMMANDS = ["scan", "gate", "validate", "checklist", "probes", "rules", "demo", "history", "diff",
            "verify", "report", "key", "feed"]


def help_text(binary, *args):
    p = subprocess.run([binary] + list(args) + ["--help"], capture_output=True, text=True, timeout=60)
    if p.returncode != 0 or not p.stdout.strip():
        sys.exit("gen_manpage: %s %s --help failed (%d): %s" % (binary, " ".join(args), p.returncode, p.stderr))
    return p.stdout.rstrip("\n")


def roff_escape(line):
    line = line.replace("\\", "\\e")
    if line.startswith(".") or line.startswith("'"):
        line = "\\&" + line
    return line


def verbatim(text):
    return ".nf\n" + "\n".join(roff_escape(l) for l in text.split("\n")) + "\n.fi"


def main():
    binary, template, output, version = sys.argv[1:5]
    top = help_text(binary)
    m = re.search(r"^commands:\n(.*?)\n\n", top, re.S | re.M)
    if not m:
        sys.exit("gen_manpage: no commands: block in tenken --help")
    listed = [l.split()[0] for l in m.group(1).splitlines()]
    # every command --help lists gets its section (the order: COMMANDS first, then the rest)
    commands = [c for c in COMMANDS if c in listed] + [c for c in listed if c not in COMMANDS + ["version"]]
    summary = []
    for line in m.group(1).splitlines():
        name, desc = line.split(None, 1)
        summary.append(".TP\n.B %s\n%s" % (name, roff_escape(desc)))
    sections = []
    for c in commands:
        sections.append(".SS tenken %s\n%s" % (c, verbatim(help_text(binary, c))))
    with open(template, encoding="utf-8") as f:
        page = f.read()
    page = (page.replace("@VERSION@", version)
                .replace("@COMMAND_LIST@", "\n".join(summary))
                .replace("@COMMAND_HELP@", "\n".join(sections)))
    data = page.encode("utf-8")
    if output.endswith(".gz"):
        with open(output, "wb") as f:
            # mtime 0: the same input gives the same bytes (reproducible package)
            with gzip.GzipFile(filename="", mode="wb", fileobj=f, compresslevel=9, mtime=0) as g:
                g.write(data)
    else:
        with open(output, "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
