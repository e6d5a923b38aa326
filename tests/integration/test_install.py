"""An installable tool: `cmake --install` puts the binary, tenken(1), bash and zsh completion,
the contrib units and the example partner configs in place; `cpack -G DEB` builds a Debian
package whose control data, file list and extracted binary are checked with dpkg-deb; the units
and the crontab line name the installed binary; the manual page and --help carry the same
options; every example config validates once the files it names exist (and a group-readable
credential file is refused). Uses the build directory under test (TENKEN_BUILD_DIR)."""
import gzip
import json
import os
import re
import shutil
import stat
import subprocess
import tempfile

from tkharness import Results

BUILD = os.environ.get("TENKEN_BUILD_DIR", os.getcwd())
SOURCE = os.environ.get("TENKEN_SOURCE_DIR", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def registered_probes(binary):
    """The probes the binary registers (`tenken probes`): one example config each."""
    p = subprocess.run([binary, "probes"], capture_output=True, text=True, timeout=60)
    return [l.split()[0] for l in p.stdout.splitlines() if l.strip()]

COMMANDS = ["scan", "gate", "validate", "checklist", "probes", "rules", "demo", "history", "diff", "verify",
            "report", "key", "feed"]


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=kw.pop("timeout", 300), **kw)


def options(text):
    return set(re.findall(r"(?:^|[\s\[,(|])(--[a-z][a-z-]+)", text))


def listed_commands(binary):
    top = run([binary, "--help"]).stdout
    block = re.search(r"^commands:\n(.*?)\n\n", top, re.S | re.M).group(1)
    return [l.split()[0] for l in block.splitlines() if l.split()[0] != "version"]


def help_options(binary):
    global COMMANDS
    COMMANDS = listed_commands(binary)
    out = {}
    for c in COMMANDS:
        p = run([binary, c, "--help"])
        out[c] = options(p.stdout)
    return out


def check_manpage(r, page, binary, where):
    r.check(page.startswith(".\\\"") and ".TH TENKEN 1" in page, "%s: tenken(1) is a man page" % where)
    helps = help_options(binary)
    all_help = set().union(*helps.values())
    # every option of every command's --help is in the manual, under that command
    for c in COMMANDS:
        sec = page.split(".SS tenken %s\n" % c, 1)
        body = sec[1].split(".SS ", 1)[0] if len(sec) == 2 else ""
        missing = helps[c] - options(body.replace("\\-", "-"))
        r.check(body and not missing, "%s: man page section for %s has every --help option (missing %s)"
                % (where, c, sorted(missing)))
    # and every option the manual names is one some --help prints
    extra = options(page.replace("\\-", "-")) - all_help - {"--help"}
    r.check(not extra, "%s: every option in the man page exists in --help (extra: %s)" % (where, sorted(extra)))
    man = shutil.which("man")
    if man:
        with tempfile.NamedTemporaryFile("w", suffix=".1", delete=False) as f:
            f.write(page)
        p = run([man, "-l", f.name], env=dict(os.environ, MANWIDTH="100", MAN_KEEP_FORMATTING="0"))
        os.unlink(f.name)
        r.check(p.returncode == 0 and "tenken gate" in p.stdout and "--inventory" in p.stdout.replace("‐", "-"),
                "%s: man -l renders tenken(1) (rc %d %s)" % (where, p.returncode, p.stderr[-200:]))
    else:
        print("skip: man not installed: rendering not checked")


def check_units(r, root, bindir_in_unit, where):
    svc = open(os.path.join(root, "share/tenken/contrib/systemd/tenken-scan.service")).read()
    cron = open(os.path.join(root, "share/tenken/contrib/tenken.cron")).read()
    execs = re.findall(r"^ExecStart=(\S+)", svc, re.M)
    r.check(execs == [bindir_in_unit + "/tenken"], "%s: the unit's ExecStart names the installed binary %s (%s)"
            % (where, bindir_in_unit + "/tenken", execs))
    r.check(bindir_in_unit + "/tenken gate" in cron and "/usr/local/bin" not in cron.replace(bindir_in_unit, ""),
            "%s: the crontab line names the installed binary" % where)
    r.check("SuccessExitStatus=1 3" in svc and os.path.exists(os.path.join(root, "share/tenken/contrib/systemd/tenken-scan.timer")),
            "%s: service and timer installed" % where)
    verify = shutil.which("systemd-analyze")
    unit_dir = os.path.join(root, "share/tenken/contrib/systemd")
    if not verify:
        print("skip: systemd-analyze not installed: units not verified")
    elif not os.path.exists(bindir_in_unit + "/tenken"):
        print("skip: %s/tenken is not on this host (extracted package): systemd-analyze verify not run" % bindir_in_unit)
    else:
        # checks the unit files' syntax and that ExecStart is an executable at that path
        p = run([verify, "verify", "--man=no", os.path.join(unit_dir, "tenken-scan.service"),
                 os.path.join(unit_dir, "tenken-scan.timer")])
        r.check(p.returncode == 0, "%s: systemd-analyze verify accepts the service and timer (%s)" % (where, p.stderr.strip()))


def check_examples(r, binary, examples, where):
    PROBES = registered_probes(binary)
    names = sorted(f[:-5] for f in os.listdir(examples) if f.endswith(".json"))
    r.check(names == sorted(PROBES + ["full"]), "%s: one example per probe plus full.json (%s)" % (where, names))
    for n in names:
        with open(os.path.join(examples, n + ".json")) as f:
            cfg = json.load(f)
        probes = set(cfg["probes"])
        r.check(probes == ({n} if n != "full" else set(PROBES)), "%s: %s.json configures %s" % (where, n, sorted(probes)))
    with tempfile.TemporaryDirectory() as tmp:
        # the files the examples name, made real (absolute /var/lib/tenken paths moved into tmp)
        for n in names:
            text = open(os.path.join(examples, n + ".json")).read().replace("/var/lib/tenken/", tmp + "/var/")
            with open(os.path.join(tmp, n + ".json"), "w") as f:
                f.write(text)
        p = run([binary, "validate", "--config", os.path.join(tmp, "full.json")])
        r.check(p.returncode == 2 and ("does not exist" in p.stderr or "cannot read" in p.stderr),
                "%s: full.json without its files: exit 2 naming the missing ones (%s)" % (where, p.stderr.strip()[:200]))
        os.makedirs(os.path.join(tmp, "captures"))
        with open(os.path.join(tmp, "captures/partner-dmz.pcap"), "wb") as f:   # an empty pcap (LINKTYPE_ETHERNET)
            f.write(bytes.fromhex("d4c3b2a1020004000000000000000000ffff000001000000"))
        os.makedirs(os.path.join(tmp, "inventories/app1"))
        with open(os.path.join(tmp, "inventories/app1/status"), "w") as f:
            f.write("Package: openssl\nStatus: install ok installed\nArchitecture: amd64\nVersion: 3.0.15-1~deb12u1\n\n")
        with open(os.path.join(tmp, "inventories/app1/os-release"), "w") as f:
            f.write('ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n')
        os.makedirs(os.path.join(tmp, "var/feeds/nvd"))
        with open(os.path.join(tmp, "var/feeds/debian.json"), "w") as f:
            f.write("{}")
        os.makedirs(os.path.join(tmp, "secrets"))
        cred = os.path.join(tmp, "secrets/aws-credentials")
        with open(cred, "w") as f:
            f.write("[audit]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = not-a-real-secret\n")
        os.chmod(cred, 0o600)
        os.makedirs(os.path.join(tmp, "mirror/conf"))
        subprocess.run(["python3", "-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('create table t(a)'); c.commit()",
                        os.path.join(tmp, "mirror/app.db")], check=True)
        for n in names:
            p = run([binary, "validate", "--config", os.path.join(tmp, n + ".json")])
            r.check(p.returncode == 0 and "valid" in p.stdout, "%s: example %s.json validates (%d %s)"
                    % (where, n, p.returncode, p.stderr.strip()[:300]))
        os.chmod(cred, 0o640)
        p = run([binary, "validate", "--config", os.path.join(tmp, "cloud.json")])
        r.check(p.returncode == 2 and "credentials_file" in p.stderr and "0640" in p.stderr,
                "%s: a group-readable credentials file is refused, naming the field and mode (%s)"
                % (where, p.stderr.strip()[:200]))


def check_completion(r, root, binary, where):
    bash_file = os.path.join(root, "share/bash-completion/completions/tenken")
    zsh_file = os.path.join(root, "share/zsh/vendor-completions/_tenken")
    r.check(os.path.exists(bash_file) and os.path.exists(zsh_file), "%s: bash and zsh completion installed" % where)
    script = ('source "%s"; COMP_WORDS=("%s" gate --inv); COMP_CWORD=2; _tenken; echo "${COMPREPLY[*]}";'
              ' COMP_WORDS=("%s" ""); COMP_CWORD=1; _tenken; echo "${COMPREPLY[*]}";'
              ' COMP_WORDS=("%s" scan --); COMP_CWORD=2; _tenken; echo "${COMPREPLY[*]}"') % (bash_file, binary, binary, binary)
    p = run(["bash", "-c", script])
    lines = p.stdout.splitlines() + ["", "", ""]
    r.check(lines[0].split() == ["--inventory"], "%s: bash completes 'gate --inv' to --inventory (%r)" % (where, lines[0]))
    r.check(set(COMMANDS) <= set(lines[1].split()), "%s: bash completes every command (%r)" % (where, lines[1]))
    scan_help = options(run([binary, "scan", "--help"]).stdout)
    r.check(set(lines[2].split()) == scan_help, "%s: bash completes exactly scan's --help options" % where)
    zsh = shutil.which("zsh")
    if zsh:
        p = run([zsh, "-n", zsh_file])
        r.check(p.returncode == 0 and open(zsh_file).readline().startswith("#compdef tenken"),
                "%s: the zsh completion parses (zsh -n) and declares #compdef tenken (%s)" % (where, p.stderr.strip()))
        # Run it for real in an interactive-less zsh: compinit, then ask for the commands via _tenken's list.
        script = ('fpath=(%s $fpath); autoload -U compinit; compinit -u -d %s/zcd;'
                  ' out=$(%s --help | sed -n "/^commands:/,/^$/{s/^  \\([a-z][a-z-]*\\)  *\\(.*\\)/\\1:\\2/p}");'
                  ' print -l ${(f)out} | cut -d: -f1') % (os.path.dirname(zsh_file), tempfile.gettempdir(), binary)
        p = run([zsh, "-f", "-c", script])
        r.check(set(COMMANDS) <= set(p.stdout.split()), "%s: the zsh completion's command extraction lists every command" % where)
    else:
        print("skip: zsh not installed: zsh completion not checked")


def test_cmake_install(r):
    with tempfile.TemporaryDirectory() as tmp:
        prefix = os.path.join(tmp, "prefix")
        p = run(["cmake", "--install", BUILD, "--prefix", prefix])
        r.check(p.returncode == 0, "cmake --install --prefix (%s)" % p.stderr[-300:])
        binary = os.path.join(prefix, "bin/tenken")
        r.check(os.access(binary, os.X_OK) and run([binary, "version"]).stdout.startswith("tenken "),
                "cmake --install: bin/tenken runs")
        page = gzip.open(os.path.join(prefix, "share/man/man1/tenken.1.gz")).read().decode()
        check_manpage(r, page, binary, "cmake --install")
        check_units(r, prefix, os.path.join(prefix, "bin"), "cmake --install")
        check_completion(r, prefix, binary, "cmake --install")
        check_examples(r, binary, os.path.join(prefix, "share/tenken/examples"), "cmake --install")


def test_deb(r):
    if not shutil.which("cpack") or not shutil.which("dpkg-deb"):
        print("skip: cpack or dpkg-deb missing: the Debian package is not built")
        return
    with tempfile.TemporaryDirectory() as tmp:
        p = run(["cpack", "-G", "DEB", "-B", os.path.join(tmp, "pkg"), "--config",
                 os.path.join(BUILD, "CPackConfig.cmake")], cwd=BUILD, timeout=600)
        debs = [f for f in os.listdir(os.path.join(tmp, "pkg")) if f.endswith(".deb")] if p.returncode == 0 else []
        r.check(len(debs) == 1, "cpack -G DEB builds one package (%s)" % (p.stdout[-300:] + p.stderr[-300:]))
        if not debs:
            return
        deb = os.path.join(tmp, "pkg", debs[0])
        info = run(["dpkg-deb", "-I", deb]).stdout
        fields = dict(re.findall(r"^ (\w[\w-]*): (.*)$", info, re.M))
        r.check(fields.get("Package") == "tenken" and fields.get("Architecture"), "deb: Package tenken (%s)" % fields.get("Package"))
        deps = fields.get("Depends", "")
        r.check(all(d in deps for d in ("libcurl4", "libssl3", "libcjson1", "libsqlite3-0")),
                "deb: Depends from dpkg-shlibdeps names the libraries (%s)" % deps)
        listing = run(["dpkg-deb", "-c", deb]).stdout
        for path in ("./usr/bin/tenken", "./usr/share/man/man1/tenken.1.gz",
                     "./usr/share/bash-completion/completions/tenken", "./usr/share/zsh/vendor-completions/_tenken",
                     "./usr/share/tenken/contrib/systemd/tenken-scan.service", "./usr/share/tenken/examples/full.json"):
            r.check(re.search(r"\s" + re.escape(path) + r"$", listing, re.M) is not None, "deb contains %s" % path)
        mode = re.search(r"^(\S+) (\S+)\s+\d+ [\d-]+ [\d:]+ \./usr/bin/tenken$", listing, re.M)
        r.check(mode and mode.group(1) == "-rwxr-xr-x" and mode.group(2) == "root/root",
                "deb: /usr/bin/tenken is root-owned 0755 (%s)" % (mode.group(0) if mode else None))
        root = os.path.join(tmp, "root")
        r.check(run(["dpkg-deb", "-x", deb, root]).returncode == 0, "dpkg-deb -x")
        binary = os.path.join(root, "usr/bin/tenken")
        p = run([binary, "probes"])
        r.check(p.returncode == 0 and registered_probes(binary) == registered_probes(os.path.join(BUILD, "tenken")),
                "deb: the extracted /usr/bin/tenken runs and lists the build's probes")
        check_units(r, os.path.join(root, "usr"), "/usr/bin", "deb")
        page = gzip.open(os.path.join(root, "usr/share/man/man1/tenken.1.gz")).read().decode()
        r.check("setcap cap_net_raw+ep /usr/bin/tenken" in page.replace("\\-", "-"),
                "deb: the manual's setcap line names /usr/bin/tenken")
        check_examples(r, binary, os.path.join(root, "usr/share/tenken/examples"), "deb")


def main():
    r = Results()
    r.run(test_cmake_install)
    r.run(test_deb)
    r.finish()


if __name__ == "__main__":
    main()
