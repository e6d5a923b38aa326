"""The history's signing key off the host (docs/desk.md "Signing key: file or
PKCS#11 token"): a real SoftHSM2 token in a temporary token directory
(softhsm2-util), key pairs generated on it with pkcs11-tool (opensc), tenken
signing through the token (p11-kit + C_Sign), key rotation recorded in the
key log, verify across rotations, the auditor bundle's verify.sh (openssl CLI
only, in a clean directory), tampering and the token's failure modes."""
import base64
import glob
import gzip
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reportlib as rl  # noqa: E402

R = rl.Results()
MODULE = "/usr/lib/softhsm/libsofthsm2.so"
PIN = "73915246"


class Token:
    """A SoftHSM2 token in its own directory (SOFTHSM2_CONF), two key pairs:
    P-256 "history" (id 01) and Ed25519 "hist-ed" (id 02)."""

    def __init__(self, d):
        self.dir = d
        os.makedirs(os.path.join(d, "tokens"))
        self.conf = os.path.join(d, "softhsm2.conf")
        with open(self.conf, "w") as f:
            f.write("directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n" % d)
        self.env = {"SOFTHSM2_CONF": self.conf}
        if os.environ.get("ASAN_OPTIONS"):
            # SoftHSM2's own leak in C_SignInit for EdDSA keys (softhsm2-lsan.supp says which):
            # full stacks so that the suppression can see the module, nothing else suppressed
            self.env["ASAN_OPTIONS"] = os.environ["ASAN_OPTIONS"] + ":fast_unwind_on_malloc=0"
            self.env["LSAN_OPTIONS"] = "suppressions=" + os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                                     "softhsm2-lsan.supp")
        e = dict(os.environ, **self.env)
        subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", "tenken", "--so-pin", "12345678",
                        "--pin", PIN], env=e, check=True, capture_output=True)
        for label, kid, kt in (("history", "01", "EC:prime256v1"), ("hist-ed", "02", "EC:edwards25519")):
            subprocess.run(["pkcs11-tool", "--module", MODULE, "--token-label", "tenken", "--login", "--pin", PIN,
                            "--keypairgen", "--key-type", kt, "--label", label, "--id", kid],
                           env=e, check=True, capture_output=True)


def write_pin(state, pin=PIN, mode=0o600):
    os.makedirs(os.path.join(state, "secret"), exist_ok=True)
    p = os.path.join(state, "secret", "pin")
    with open(p, "w") as f:
        f.write(pin + "\n")
    os.chmod(p, mode)
    return p


def signing_config(path, obj="history", token="tenken", pin_file="secret/pin"):
    with open(path, "w") as f:
        json.dump({"signing_key": "pkcs11:token=%s;object=%s;type=private" % (token, obj), "module": MODULE,
                   "pin_file": pin_file}, f)
    return path


def scan(p, state, out, env):
    return rl.run(["scan", "--config", p.config, "--out", out, "--state", state, "--format", "json", "--quiet"],
                  env=env)


def envelope(state, pid, seq):
    return json.load(open(glob.glob(os.path.join(state, "reports", pid, "%08d.json*.sig" % seq))[0]))


def stored_files(state):
    return sorted(glob.glob(os.path.join(state, "reports", "*", "*")))


def index_rows(state):
    db = sqlite3.connect(os.path.join(state, "index.sqlite"))
    n = db.execute("SELECT COUNT(*) FROM scans").fetchone()[0]
    db.close()
    return n


def sign_ed25519(keyfile, msg, tmp):
    m = os.path.join(tmp, "forge.msg")
    with open(m, "wb") as f:
        f.write(msg)
    out = subprocess.run(["openssl", "pkeyutl", "-sign", "-inkey", keyfile, "-rawin", "-in", m], check=True,
                         capture_output=True).stdout
    return base64.b64encode(out).decode()


def raw_pub(keyfile):
    der = subprocess.run(["openssl", "pkey", "-in", keyfile, "-pubout", "-outform", "DER"], check=True,
                         capture_output=True).stdout
    return der[-32:]


def resign(state, pid, seq, keyfile, tmp):
    """What an intruder holding keyfile does: re-sign scan seq's envelope with it."""
    sp = glob.glob(os.path.join(state, "reports", pid, "%08d.json*.sig" % seq))[0]
    env = json.load(open(sp))
    msg = ("tenken.sig/1\n%s\n%d\n%s\n%s\n" % (pid, seq, env["report_sha256"], env["previous_sha256"])).encode()
    pub = raw_pub(keyfile)
    env.update(alg="Ed25519", public_key=base64.b64encode(pub).decode(), signature=sign_ed25519(keyfile, msg, tmp),
               key_fingerprint="SHA256:" + hashlib.sha256(pub).hexdigest())
    os.chmod(sp, 0o600)
    with open(sp, "w") as f:
        json.dump(env, f, indent=1)


def no_secret_anywhere(state, outs, what):
    """The PIN is in the pin file only; no private key is in any file of the state directory."""
    hits = []
    for root, _, files in os.walk(state):
        for n in files:
            fp = os.path.join(root, n)
            if fp.endswith(os.path.join("secret", "pin")):
                continue
            b = open(fp, "rb").read()
            if n.endswith(".gz"):
                b = gzip.decompress(b)
            if PIN.encode() in b or b"PRIVATE KEY" in b:
                hits.append(fp)
    hits += [("output", o[:80]) for o in outs if PIN in o]
    R.check(not hits, "%s: neither the PIN nor a private key in any file or output (%s)" % (what, hits[:3]))


def test_token_from_start(p, tok, tmp):
    state = os.path.join(tmp, "st-token")
    os.makedirs(state)
    write_pin(state)
    signing_config(os.path.join(state, "signing.json"))
    outs = []
    for i in range(2):
        r = scan(p, state, os.path.join(tmp, "a%d" % i), tok.env)
        outs += [r.stdout, r.stderr]
        R.check(r.returncode in (0, 1), "scan %d signs through the token (exit %d): %s" % (i + 1, r.returncode,
                                                                                             r.stderr[-300:]))
    env = envelope(state, p.id, 2)
    R.check(env["alg"] == "ECDSA-P256-SHA256" and len(base64.b64decode(env["public_key"])) == 65,
            "the envelope names ECDSA P-256 and the token's public point: %s" % env["alg"])
    R.check(not os.path.exists(os.path.join(state, "key", "ed25519.pem")),
            "no key file was created: the key never touches the disk")
    v = rl.run(["verify", p.id, "--state", state])  # no SOFTHSM2_CONF: verify needs neither token nor PIN
    outs += [v.stdout, v.stderr]
    R.check(v.returncode == 0 and "2 reports, signatures and chain intact" in v.stdout,
            "verify passes without the token (public key from key/signing.pub): " + v.stdout[-300:] + v.stderr[-300:])
    k = rl.run(["key", "show", "--state", state], env=tok.env)
    R.check(k.returncode == 0 and env["key_fingerprint"] in k.stdout and "BEGIN PUBLIC KEY" in k.stdout,
            "key show prints the token key's PEM and fingerprint")
    no_secret_anywhere(state, outs, "token from the start")

    # the token's failure modes: a clear error, nothing written to the history
    before, rows = stored_files(state), index_rows(state)
    cases = [("wrong PIN", lambda: write_pin(state, "00000000"), "wrong PIN"),
             ("PIN file 0644", lambda: write_pin(state, PIN, 0o644), "mode 0644 refused"),
             ("missing token", lambda: (write_pin(state), signing_config(os.path.join(state, "signing.json"),
                                                                          token="nope")), "no token matches"),
             ("missing object", lambda: signing_config(os.path.join(state, "signing.json"), obj="nope"),
              "no private key object matches"),
             ("missing module", lambda: json.dump({"signing_key": "pkcs11:token=tenken;object=history;type=private",
                                                   "module": "/nonexistent/p11.so", "pin_file": "secret/pin"},
                                                  open(os.path.join(state, "signing.json"), "w")),
              "cannot load the PKCS#11 module")]
    for name, setup, want in cases:
        setup()
        r = scan(p, state, os.path.join(tmp, "bad"), tok.env)
        R.check(r.returncode not in (0, 1) and want in r.stderr and PIN not in r.stderr + r.stdout,
                "%s: scan refused with a clear error (exit %d): %s" % (name, r.returncode, r.stderr.strip()[-200:]))
        R.check(stored_files(state) == before and index_rows(state) == rows, "%s: nothing written to history" % name)
    write_pin(state)
    signing_config(os.path.join(state, "signing.json"))
    r = scan(p, state, os.path.join(tmp, "a3"), tok.env)
    R.check(r.returncode in (0, 1) and index_rows(state) == rows + 1, "with the right PIN again, the scan stores")


def test_rotation(p, q, tok, tmp):
    state = os.path.join(tmp, "st-rot")
    for i in range(2):
        scan(p, state, os.path.join(tmp, "r%d" % i), tok.env)
    scan(q, state, os.path.join(tmp, "rq"), tok.env)
    oldkey = os.path.join(tmp, "stolen-ed25519.pem")  # a copy of the file key, as a backup or an intruder keeps it
    shutil.copy(os.path.join(state, "key", "ed25519.pem"), oldkey)
    old_fp = envelope(state, p.id, 2)["key_fingerprint"]
    write_pin(state)
    cfg = signing_config(os.path.join(tmp, "to-token.json"))
    r = rl.run(["key", "rotate", "--to", cfg, "--state", state], env=tok.env)
    R.check(r.returncode == 0 and "rotated: %s →" % old_fp in r.stdout and "rotation 1" in r.stdout,
            "key rotate from the file key to the token key: " + r.stdout + r.stderr)
    R.check(not os.path.exists(os.path.join(state, "key", "ed25519.pem")) and "removed the old key file" in r.stdout,
            "the old key file is removed from the host")
    rec = open(os.path.join(state, "key", "rotations", "000001.txt")).read()
    R.check(rec.startswith("tenken.keyrot/1\n") and "old_fingerprint %s\n" % old_fp in rec and
            "head 2\t%s\n" % p.id in rec and "head 1\t%s\n" % q.id in rec,
            "the rotation record names the old key and each partner's last scan under it")
    new_fp = [l.split(" ", 1)[1] for l in rec.splitlines() if l.startswith("new_fingerprint ")][0]
    r = scan(p, state, os.path.join(tmp, "r3"), tok.env)
    R.check(r.returncode in (0, 1) and envelope(state, p.id, 3)["key_fingerprint"] == new_fp,
            "the scan after the rotation is signed by the token key")
    v = rl.run(["verify", p.id, "--state", state])
    R.check(v.returncode == 0 and ("note key changed at scan #3") in v.stdout and "%s → %s" % (old_fp, new_fp)
            in v.stdout and "rotation 1" in v.stdout,
            "verify accepts the rotated chain and names where the key changed: " + v.stdout[-500:] + v.stderr[-200:])
    v = rl.run(["verify", q.id, "--state", state])
    R.check(v.returncode == 0 and "note key rotated after scan #1" in v.stdout,
            "a partner not scanned since: verify says the key rotated after its last scan: " + v.stdout[-300:])
    # a second rotation: token P-256 -> token Ed25519 (CKM_EDDSA)
    cfg2 = signing_config(os.path.join(tmp, "to-ed.json"), obj="hist-ed")
    r = rl.run(["key", "rotate", "--to", cfg2, "--state", state], env=tok.env)
    R.check(r.returncode == 0 and "rotation 2" in r.stdout, "a second rotation to the token's Ed25519 key: " +
            r.stdout + r.stderr)
    r = scan(p, state, os.path.join(tmp, "r4"), tok.env)
    env4 = envelope(state, p.id, 4)
    R.check(r.returncode in (0, 1) and env4["alg"] == "Ed25519" and env4["key_fingerprint"] != new_fp,
            "scan #4 is signed by the token's Ed25519 key (CKM_EDDSA)")
    k = rl.run(["key", "show", "--state", state], env=tok.env)
    R.check(k.stdout.count("\nkey ") == 3 and old_fp in k.stdout and new_fp in k.stdout,
            "key show lists the three keys of the log: " + k.stdout[-400:])
    v = rl.run(["verify", p.id, "--state", state])
    R.check(v.returncode == 0 and v.stdout.count("note key changed") == 2,
            "verify passes across two rotations: " + v.stdout[-400:] + v.stderr[-200:])
    no_secret_anywhere(state, [], "after rotation")
    # the index rebuilt from the files: reports signed by every key of the log are taken back
    for n in ("index.sqlite", "index.sqlite-wal", "index.sqlite-shm"):
        if os.path.exists(os.path.join(state, n)):
            os.unlink(os.path.join(state, n))
    r = rl.run(["history", "--reindex", "--state", state])
    v = rl.run(["verify", p.id, "--state", state])
    R.check(r.returncode == 0 and "5 reports indexed, 0 skipped" in r.stdout and v.returncode == 0,
            "history --reindex takes back the reports of all three keys; verify passes: " + r.stdout[-300:] +
            r.stderr[-200:] + v.stdout[-600:] + v.stderr[-300:])

    # the bundle of a rotated chain, checked by verify.sh with the openssl CLI only
    bundle = os.path.join(tmp, "rot-bundle.tar.gz")
    r = rl.run(["export", p.id, "--out", bundle, "--state", state], env=tok.env)
    R.check(r.returncode == 0, "export of a rotated chain (MANIFEST signed by the token): " + r.stderr[-300:])
    root = "tenken-export-" + p.id
    names = tarfile.open(bundle).getnames()
    want = ["keys/key-0.pub.pem", "keys/key-1.pub.pem", "keys/key-2.pub.pem", "keys/rotations/000001.txt",
            "keys/rotations/000001.sig", "keys/rotations/000002.newsig"]
    R.check(all(root + "/" + w in names for w in want), "the bundle holds the key log (missing: %s)" %
            [w for w in want if root + "/" + w not in names])
    clean_env = {"PATH": "/usr/bin:/bin", "HOME": tmp, "LC_ALL": "C"}

    def unpack(name):
        d = os.path.join(tmp, name)
        os.makedirs(d)
        subprocess.run(["tar", "xzf", bundle, "-C", d], check=True)
        return os.path.join(d, root)

    def run_script(d):
        return subprocess.run(["sh", os.path.join(d, "verify.sh")], cwd=os.path.dirname(d), env=clean_env,
                              capture_output=True, text=True, timeout=120)
    d = unpack("b-clean")
    v = run_script(d)
    R.check(v.returncode == 0 and "VERIFIED: %s, 4 reports" % p.id in v.stdout and
            "note key changed at scan #3" in v.stdout and "note key changed at scan #4" in v.stdout and
            "key rotation 1 at" in v.stdout and "after scan #2 of %s" % p.id in v.stdout,
            "verify.sh (openssl only) verifies the rotated chain and names both changes: " + v.stdout[-900:] +
            v.stderr[-300:])

    def fails(d, want, what):
        v = run_script(d)
        R.check(v.returncode == 1 and want in v.stdout, "%s: verify.sh fails naming it: %s" % (
            what, "".join(l + "\n" for l in v.stdout.splitlines() if l.startswith("FAIL"))[-400:]))
    # scan #3 re-signed by the old (stolen) file key, MANIFEST not re-signable
    d = unpack("b-oldkey")
    sp = os.path.join(d, "reports", "00000003.json.sig")
    e = json.load(open(sp))
    msg = ("tenken.sig/1\n%s\n3\n%s\n%s\n" % (p.id, e["report_sha256"], e["previous_sha256"])).encode()
    e.update(alg="Ed25519", public_key=base64.b64encode(raw_pub(oldkey)).decode(),
             signature=sign_ed25519(oldkey, msg, tmp))
    json.dump(e, open(sp, "w"), indent=1)
    fails(d, "scan #3: signed with a key that is not keys/key-1.pub.pem", "scan #3 signed by the old key")
    # a rotation record edited (its head moved): both signatures break
    d = unpack("b-rec")
    t = os.path.join(d, "keys", "rotations", "000001.txt")
    text = open(t).read()
    R.check("head 2\t%s\n" % p.id in text, "the bundled rotation record names scan #2 as the last under the old key")
    open(t, "w").write(text.replace("head 2\t", "head 3\t"))
    fails(d, "key rotation 1: not signed by the old key", "an edited rotation record")
    # the report after the rotation edited
    d = unpack("b-edit")
    f = os.path.join(d, "reports", "00000003.json")
    text = open(f).read()
    open(f, "w").write(text.replace('"pass"', '"PASS"', 1))
    fails(d, "scan #3: report SHA-256", "an edited report after the rotation")
    R.check(len(text) > 1000, "the edited report was a real report")

    # the same attacks on the host: verify fails and names them
    resign(state, p.id, 3, oldkey, tmp)
    v = rl.run(["verify", p.id, "--state", state])
    R.check(v.returncode == 1 and "scan #3" in v.stdout and "but key 1 (%s) was in force" % new_fp in v.stdout,
            "scan #3 re-signed with the old key after the rotation fails verify: " + v.stdout[-400:])
    intruder = os.path.join(tmp, "intruder.pem")
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", intruder], check=True, capture_output=True)
    resign(state, p.id, 4, intruder, tmp)
    v = rl.run(["verify", p.id, "--state", state])
    R.check(v.returncode == 1 and "scan #4" in v.stdout and "a key no rotation of this agent announced" in v.stdout,
            "scan #4 signed by an unannounced key fails verify: " + v.stdout[-400:])
    # a forged rotation record: the intruder appends rotation 3 to its own key, signed by itself
    rot = os.path.join(state, "key", "rotations")
    shutil.copy(os.path.join(rot, "000002.txt"), os.path.join(rot, "000003.txt"))
    open(os.path.join(rot, "000003.sig"), "w").write("AAAA\n")
    v = rl.run(["verify", p.id, "--state", state])
    R.check(v.returncode == 1 and "FAIL key log:" in v.stdout, "a forged rotation record fails verify: " +
            v.stdout[-300:])
    r = scan(p, state, os.path.join(tmp, "r5"), tok.env)
    R.check(r.returncode in (0, 1) and "key log" in r.stderr and envelope(state, p.id, 5)["key_fingerprint"] ==
            env4["key_fingerprint"], "a scan still signs with the key in force and warns that the key log is broken: " +
            r.stderr[-200:])


def test_rotation_during_scan(p, tok, tmp):
    """A scan that opened the history before a rotation stores after it: it must
    pick up the new key under the write lock (never sign with the old key past
    the recorded head)."""
    import socket
    import time
    state = os.path.join(tmp, "st-race")
    scan(p, state, os.path.join(tmp, "c0"), tok.env)
    write_pin(state)
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts, never answers: the scan waits out its request timeout
    cfg = json.load(open(p.config))
    cfg["probes"]["hsts"].update(urls=["https://api.good.test:%d/" % silent.getsockname()[1]], request_timeout_s=4)
    slow = os.path.join(tmp, "slow.json")
    json.dump(cfg, open(slow, "w"))
    shutil.copy(os.path.join(os.path.dirname(p.config), "ca.pem"), os.path.join(tmp, "ca.pem"))
    e = dict(os.environ, **tok.env)
    proc = subprocess.Popen([rl.BIN, "scan", "--config", slow, "--out", os.path.join(tmp, "c1"), "--state", state,
                             "--format", "json", "--quiet"], env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    time.sleep(1.0)
    r = rl.run(["key", "rotate", "--to", signing_config(os.path.join(tmp, "race.json")), "--state", state],
               env=tok.env)
    out, err = proc.communicate(timeout=120)
    silent.close()
    R.check(r.returncode == 0 and proc.returncode in (0, 1, 3), "rotation while a scan runs: both finish (%d, %d) %s" %
            (r.returncode, proc.returncode, (r.stderr + err)[-300:]))
    env = envelope(state, p.id, 2)
    v = rl.run(["verify", p.id, "--state", state])
    R.check(env["alg"] == "ECDSA-P256-SHA256" and v.returncode == 0 and "note key changed at scan #2" in v.stdout,
            "the scan stored after the rotation carries the new key, and verify passes: " + v.stdout[-300:] +
            v.stderr[-200:])


def main():
    for tool in ("softhsm2-util", "pkcs11-tool"):
        if not shutil.which(tool):
            print("FAIL %s missing (scripts/debian-packages.txt: softhsm2, opensc)" % tool)
            sys.exit(1)
    tmp = tempfile.mkdtemp(prefix="tenken-p11-")
    only = set(sys.argv[1:])
    try:
        tok = Token(os.path.join(tmp, "hsm"))
        with rl.Partner("acme-pay") as p, rl.Partner("beta-bank-link") as q:
            if not only or "token" in only:
                test_token_from_start(p, tok, tmp)
            if not only or "rotation" in only:
                test_rotation(p, q, tok, tmp)
            if not only or "race" in only:
                test_rotation_during_scan(p, tok, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    R.finish()


if __name__ == "__main__":
    main()
