#!/usr/bin/env python3
"""checksrc catches what it promises: each rule on a file that breaks it, none on a clean one."""
import os
import subprocess
import sys
import tempfile

SRC = os.environ.get("TENKEN_SOURCE_DIR") or os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHECK = os.path.join(SRC, "scripts", "checksrc.py")
passed = failed = 0


def run(name, text):
    d = tempfile.mkdtemp()
    p = os.path.join(d, name)
    with open(p, "w") as f:
        f.write(text)
    return subprocess.run([sys.executable, CHECK, p], capture_output=True, text=True).stdout


def expect(what, out, rule):
    global passed, failed
    ok = (rule in out) if rule else ("BANNED" not in out and "LONGLINE" not in out and "HEADER" not in out
                                     and "TRAILING" not in out and "INDENT" not in out)
    print(("ok   " if ok else "FAIL ") + what + ("" if ok else ": " + out))
    passed, failed = (passed + 1, failed) if ok else (passed, failed + 1)


expect("strcpy is banned", run("a.c", "void f(char *b)\n{\n\tstrcpy(b, \"x\");\n}\n"), "BANNED: strcpy")
expect("sprintf is banned (snprintf is not)", run("a.c", "void f(char *b)\n{\n\tsprintf(b, \"x\");\n}\n"), "BANNED: sprintf")
expect("atoi is banned", run("a.c", "int f(void)\n{\n\treturn atoi(\"1\");\n}\n"), "BANNED: atoi")
expect("a banned name in a comment or string is not code",
       run("a.c", "/* strcpy( */\nconst char *s = \"atoi(\";\nint f(void)\n{\n\treturn snprintf(0, 0, \"\");\n}\n"), None)
expect("a 160-column code line is too long", run("a.c", "int x = " + "1 + " * 40 + "1;\n"), "LONGLINE")
expect("a long message string may overflow",
       run("a.c", "void f(void)\n{\n\t\t\t\tlog(\"%s\", \"" + "x" * 150 + "\");\n}\n"), None)
expect("trailing white space", run("a.c", "int x; \n"), "TRAILING")
expect("spaces where the file indents with tabs", run("a.c", "void f(void)\n{\n\tint a;\n        int b;\n}\n"), "INDENT")
expect("a header opens with its name and purpose", run("x.h", "#ifndef X\n#define X\n#endif\n"), "HEADER")
expect("a header with its comment passes", run("x.h", "/* x.h - the x things. */\n#ifndef X\n#define X\n#endif\n"), None)
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
