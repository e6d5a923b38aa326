#!/usr/bin/env python3
"""checksrc: the project's own source rules, in the spirit of curl's scripts/checksrc.pl.

Checked over every tracked-or-present .c/.h under agent/ probes/ rules/ reports/ demo/ tests/:
  BANNED     strcpy strcat sprintf vsprintf gets atoi atol atoll strtok (use snprintf, bounded
             copies, strtol/strtoll with end checks, strtok_r or a length-carrying parser)
  LONGLINE   a line over 120 columns (tabs count as 8, as in .clang-format), except where the
             overflow is a string literal of 40+ characters (a user-visible message stays
             greppable, as in Linux).
  TRAILING   trailing white space
  INDENT     a line indented with spaces where the code indents with tabs (spaces after tabs
             for alignment are fine)
  HEADER     a header (.h) in agent/ probes/ rules/ reports/ demo/ must open with a comment
             "/* <name>.h - what it is" so a reader knows what it declares (ownership is stated
             in the comments of the declarations that hand out memory)
Comments and string literals are ignored for BANNED. Usage: checksrc.py [FILE...]
Prints one line per problem (FILE:LINE: RULE: text) and 'N passed, M failed'.
"""
import os
import re
import sys

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIRS = ["agent", "probes", "rules", "reports", "demo", "tests"]
BANNED = re.compile(r"\b(strcpy|strcat|sprintf|vsprintf|gets|atoi|atol|atoll|strtok)\s*\(")
LIMIT = 120
LONGSTR = re.compile(r'"(?:[^"\\]|\\.){40,}"')


def strip_comments_and_strings(text):
    """Blank out comments, string and character literals, keeping line structure."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(c + " " * (min(j, n) - i - 1) + (c if j < n else ""))
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def width(line):
    return len(line.expandtabs(8))


def check(path, rel, problems):
    text = open(path, encoding="utf-8", errors="replace").read()
    lines = text.split("\n")
    code = strip_comments_and_strings(text).split("\n")
    for no, (line, cline) in enumerate(zip(lines, code), 1):
        m = BANNED.search(cline)
        if m:
            problems.append("%s:%d: BANNED: %s()" % (rel, no, m.group(1)))
        if width(line) > LIMIT:
            s = LONGSTR.search(line)
            if not (s and width(line[:s.start()]) < LIMIT):
                problems.append("%s:%d: LONGLINE: %d columns" % (rel, no, width(line)))
        if line != line.rstrip():
            problems.append("%s:%d: TRAILING: white space at the end" % (rel, no))
        if line.startswith("        ") and not rel.startswith("tests/") and "\t" in text[:4000]:
            problems.append("%s:%d: INDENT: spaces where the file indents with tabs" % (rel, no))
    if rel.endswith(".h") and not rel.startswith("tests/"):
        name = os.path.basename(rel)
        if not re.match(r"/\*\s*\n?\s*\*?\s*" + re.escape(name) + r"\s+-\s+\S", text):
            problems.append("%s:1: HEADER: does not open with \"/* %s - what it declares\"" % (rel, name))


def main(argv):
    files = argv[1:]
    if not files:
        for d in DIRS:
            for root, _, names in os.walk(os.path.join(SRC, d)):
                for n in sorted(names):
                    if n.endswith((".c", ".h")):
                        files.append(os.path.join(root, n))
    problems = []
    for f in sorted(files):
        check(f, os.path.relpath(f, SRC), problems)
    for p in problems:
        print(p)
    print("%d passed, %d failed" % (len(files) - len({p.split(":")[0] for p in problems}),
                                    len({p.split(":")[0] for p in problems})))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
