#!/usr/bin/env python3
"""tokens probe end to end: stores built here (files, SQLite, a real
redis-server on loopback with a password), tokens signed and encrypted here
with the openssl CLI, then `tenken scan`; every output and log is searched for
every planted secret and any 8-character piece of one."""
import base64, hashlib, hmac, json, os, secrets, shutil, socket, sqlite3, ssl, subprocess, sys, tempfile, time
from tkharness import check, finish  # noqa: E402

BIN = os.environ.get("TENKEN_BIN", "build/tenken")
planted = []


def plant(s):
    planted.append(s)
    return s


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def openssl(args, data=b""):
    return subprocess.run(["openssl"] + args, input=data, capture_output=True, check=True).stdout


def jwt_rs256(keyfile, header, payload):
    si = b64u(json.dumps(header).encode()) + "." + b64u(json.dumps(payload).encode())
    sig = openssl(["dgst", "-sha256", "-sign", keyfile], si.encode())
    return si + "." + b64u(sig)


def aes128cbc(key, iv, pt):
    return openssl(["enc", "-aes-128-cbc", "-K", key.hex(), "-iv", iv.hex()], pt)


def fernet(key32, pt):
    iv = os.urandom(16)
    body = b"\x80" + int(time.time()).to_bytes(8, "big") + iv + aes128cbc(key32[16:], iv, pt)
    return base64.urlsafe_b64encode(body + hmac.new(key32[:16], body, hashlib.sha256).digest()).decode()


def jwe_a128cbc_hs256(key32, pt):
    hdr = b64u(b'{"alg":"dir","enc":"A128CBC-HS256"}')
    iv = os.urandom(16)
    ct = aes128cbc(key32[16:], iv, pt)
    aad = hdr.encode()
    al = (len(aad) * 8).to_bytes(8, "big")
    tag = hmac.new(key32[:16], aad + iv + ct + al, hashlib.sha256).digest()[:16]
    return ".".join([hdr, "", b64u(iv), b64u(ct), b64u(tag)])


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def resp(sock, *args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    sock.sendall(out)
    data = b""
    while not data.endswith(b"\r\n"):
        data += sock.recv(65536)
    return data


def start_redis(tmp, password):
    for _ in range(10):
        port = free_port()
        p = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--requirepass", password,
                              "--save", "", "--appendonly", "no", "--dir", tmp, "--protected-mode", "yes"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=1)
                return p, port, s
            except OSError:
                if p.poll() is not None:
                    break
                time.sleep(0.05)
        p.kill()
        p.wait()
    raise RuntimeError("redis-server did not start")


def run_scan(tmp, cfg, outdir, env_extra):
    path = os.path.join(tmp, "partner.json")
    with open(path, "w") as f:
        json.dump(cfg, f)
    env = dict(os.environ)
    env.pop("REDIS_PASSWORD", None)
    env.update(env_extra)
    r = subprocess.run([BIN, "scan", "-c", path, "-o", outdir, "--lang", "en", "-v"], capture_output=True, env=env,
                       timeout=90)
    with open(os.path.join(outdir, "report.json")) as f:
        rep = json.load(f)
    return r, rep


def obs_for(rep, target, kind="token_store"):
    for o in rep["observations"]:
        if o["target"] == target and o["kind"] == kind:
            return o
    return None


def finding(rep, rule, target):
    for f in rep["findings"]:
        if f.get("rule") == rule and f.get("target") == target:
            return f.get("status")
    return None


def leak_check(name, texts):
    for label, text in texts:
        for s in planted:
            hit = None
            for i in range(0, max(1, len(s) - 7)):
                if s[i:i + 8] in text:
                    hit = i
                    break
            check(hit is None, f"{name}: no secret in {label}", f"(a secret's piece at offset {hit})")


def make_ca(d, name):
    ca, cakey = os.path.join(d, name + "-ca.pem"), os.path.join(d, name + "-ca.key")
    openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", cakey,
             "-out", ca, "-days", "1", "-subj", "/CN=" + name + " test CA"])
    return ca, cakey


def tls_section(tmp):
    """Redis over TLS: verified against the test CA; a wrong CA is a TLS error."""
    ca, cakey = make_ca(tmp, "good")
    other, _ = make_ca(tmp, "other")
    key, csr, crt, ext = (os.path.join(tmp, n) for n in ("srv.key", "srv.csr", "srv.pem", "ext.cnf"))
    openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", csr,
             "-subj", "/CN=127.0.0.1"])
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    openssl(["x509", "-req", "-in", csr, "-CA", ca, "-CAkey", cakey, "-CAcreateserial", "-out", crt, "-days", "1",
             "-extfile", ext])
    proc = None
    for _ in range(10):
        port = free_port()
        proc = subprocess.Popen(["redis-server", "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1",
                                 "--tls-cert-file", crt, "--tls-key-file", key, "--tls-ca-cert-file", ca,
                                 "--tls-auth-clients", "no", "--save", "", "--appendonly", "no", "--dir", tmp],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ctx = ssl.create_default_context(cafile=ca)
        s = None
        for _ in range(100):
            try:
                s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=2), server_hostname="127.0.0.1")
                break
            except (OSError, ssl.SSLError):
                if proc.poll() is not None:
                    break
                time.sleep(0.05)
        if s:
            break
        proc.kill()
        proc.wait()
        proc = None
    if not proc:
        check(False, "redis TLS server starts")
        return
    try:
        tok = plant(secrets.token_urlsafe(32))
        resp(s, "HSET", "oauth:client:9", "refresh_token", tok)
        s.close()
        store = {"type": "redis", "address": f"127.0.0.1:{port}", "tls": True, "ca_file": os.path.basename(ca)}
        cfg = {"partner": {"id": "p", "name": "p"}, "probes": {"tokens": {"stores": [store]}}}
        out = os.path.join(tmp, "out-tls")
        r, rep = run_scan(tmp, cfg, out, {})
        o = obs_for(rep, f"redis:127.0.0.1:{port}")
        check(o is not None and o["tls"] is True and o["plaintext_count"] == 1, "redis TLS: observed over TLS",
              rep["observations"])
        store["ca_file"] = os.path.basename(other)
        r2, rep2 = run_scan(tmp, cfg, os.path.join(tmp, "out-tls2"), {})
        e = obs_for(rep2, f"redis:127.0.0.1:{port}", "error")
        check(e is not None and e["error"] == "tls", "redis TLS: wrong CA is a TLS error", rep2["observations"])
        texts = [("tls stdout", r.stdout.decode(errors="replace")), ("tls stderr", r.stderr.decode(errors="replace"))]
        with open(os.path.join(out, "report.json")) as f:
            texts.append(("tls report", f.read()))
        leak_check("tls", texts)
    finally:
        proc.kill()
        proc.wait()


def main():
    tmp = tempfile.mkdtemp(prefix="tenken-tokens-")
    redis = None
    try:
        key = os.path.join(tmp, "signer.pem")
        openssl(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key])
        now = int(time.time())
        k32 = os.urandom(32)
        at_long = plant(jwt_rs256(key, {"alg": "RS256", "typ": "at+jwt"},
                                  {"iss": "https://as.partner.test", "iat": now, "exp": now + 7200, "scope": "x"}))
        at_short = plant(jwt_rs256(key, {"alg": "RS256"}, {"iat": now, "exp": now + 600}))
        rt_opaque = plant(secrets.token_urlsafe(32))
        bank = plant("bk_at_" + secrets.token_urlsafe(24))
        pw = plant("Plain-Pa55word-" + secrets.token_hex(4))
        redis_pw = plant("redis-" + secrets.token_hex(12))
        f1, j1 = plant(fernet(k32, b"refresh-1")), plant(jwe_a128cbc_hs256(k32, b"access-1"))

        conf = os.path.join(tmp, "conf")
        os.makedirs(conf)
        with open(os.path.join(conf, "oauth.json"), "w") as f:
            json.dump({"access_token": at_long, "refresh_token": rt_opaque, "expires_in": 7200,
                       "sealed": {"refresh_token": f1, "access_token": j1}}, f, indent=2)
        with open(os.path.join(conf, "app.env"), "w") as f:
            f.write(f"BANK_TOKEN={bank}\nADMIN_PASSWORD={pw}\n")
        with open(os.path.join(conf, "old.json.bak"), "w") as f:
            f.write(json.dumps({"access_token": at_long}))
        clean = os.path.join(tmp, "clean")
        os.makedirs(clean)
        with open(os.path.join(clean, "sealed.json"), "w") as f:
            json.dump({"access_token": plant(jwe_a128cbc_hs256(k32, b"a2")),
                       "refresh_token": plant(fernet(k32, b"r2"))}, f)

        os.makedirs(os.path.join(tmp, "data"))
        db = sqlite3.connect(os.path.join(tmp, "data", "app.db"))
        db.execute("CREATE TABLE tokens(id INTEGER PRIMARY KEY, access_token TEXT, refresh_token TEXT, expires_in INT)")
        db.execute("INSERT INTO tokens(access_token, refresh_token, expires_in) VALUES(?,?,?)",
                   (at_short, plant(secrets.token_urlsafe(32)), 600))
        db.execute("INSERT INTO tokens(access_token, refresh_token, expires_in) VALUES(?,?,?)",
                   (plant(fernet(k32, b"a3")), plant(jwe_a128cbc_hs256(k32, b"r3")), 600))
        db.commit()
        db.close()
        with open(os.path.join(tmp, "data", "app.db"), "rb") as f:
            whole = f.read()
        with open(os.path.join(tmp, "data", "broken.db"), "wb") as f:
            f.write(whole[:len(whole) // 2 + 7])

        redis, port, s = start_redis(tmp, redis_pw)
        resp(s, "AUTH", redis_pw)
        resp(s, "SET", "oauth:access_token:1", at_long)
        resp(s, "HSET", "session:42", "access_token", plant(secrets.token_urlsafe(32)), "refresh_token",
             plant(fernet(k32, b"r4")), "expires_in", "3600")
        resp(s, "HSET", "user:7", "login", "carol", "password", plant("Carol-" + secrets.token_hex(6)))
        resp(s, "SET", "cache:sealed_token", plant(jwe_a128cbc_hs256(k32, b"a5")))
        tok_key = plant(secrets.token_urlsafe(24))
        resp(s, "SET", "revoked:" + tok_key, "1")
        resp(s, "RPUSH", "queue", "job")
        s.close()

        cfg = {"partner": {"id": "p", "name": "p"}, "checklist": "cashless-card-2019",
               "probes": {"tokens": {"stores": [
                   {"type": "files", "path": "conf/", "include": ["*.json", "*.env"], "exclude": ["*.bak"]},
                   {"type": "sqlite", "path": "data/app.db"},
                   {"type": "redis", "address": f"127.0.0.1:{port}", "password_env": "REDIS_PASSWORD"},
                   {"type": "files", "path": "clean/"},
                   {"type": "sqlite", "path": "data/broken.db"}],
                   "bank_token_patterns": [{"name": "bank access token", "prefix": "bk_at_"}]}}}
        out = os.path.join(tmp, "out")
        r, rep = run_scan(tmp, cfg, out, {"REDIS_PASSWORD": redis_pw})
        check(r.returncode in (0, 3), "scan exits 0 or 3", str(r.returncode))

        o = obs_for(rep, "files:conf/")
        check(o is not None, "files store observed")
        if o:
            check(o["plaintext_count"] == 3, "files: plaintext count", o["plaintext_count"])
            check(o["encrypted_count"] == 2, "files: encrypted count", o["encrypted_count"])
            check(o["plaintext_password_count"] == 1, "files: password")
            w = {h["where"]: h for h in o["plaintext_tokens"]}
            check(w.get("oauth.json:2", {}).get("lifetime_s") == 7200, "files: JWT at oauth.json:2", w)
            check(w.get("app.env:1", {}).get("kind") == "bank access token", "files: bank token at app.env:1")
            check(o["files_listed"] == 2, "files: .bak excluded", o["files_listed"])
        check(finding(rep, "TOKENS-PLAINTEXT-LONG-LIVED", "files:conf/") == "fail",
              "files: long-lived rule fails")
        check(finding(rep, "TOKENS-PLAINTEXT-PASSWORD", "files:conf/") == "fail", "files: password rule fails")
        check(finding(rep, "TOKENS-PLAINTEXT-LONG-LIVED", "files:clean/") == "pass", "clean store passes")
        oc = obs_for(rep, "files:clean/")
        check(oc and oc["plaintext_count"] == 0 and oc["encrypted_count"] == 2, "clean store counts", oc)

        o = obs_for(rep, "sqlite:data/app.db")
        check(o is not None, "sqlite observed")
        if o:
            check(o["plaintext_count"] == 2, "sqlite: plaintext", o["plaintext_count"])
            check(o["encrypted_count"] == 2, "sqlite: encrypted", o["encrypted_count"])
            w = {h["where"]: h for h in o["plaintext_tokens"]}
            check(w.get("tokens.access_token rowid=1", {}).get("lifetime_s") == 600, "sqlite: short JWT lifetime", w)
        # 600 s tokens only: below the one-hour threshold
        check(finding(rep, "TOKENS-PLAINTEXT-LONG-LIVED", "sqlite:data/app.db") == "pass", "sqlite: short-lived tokens pass")

        target = f"redis:127.0.0.1:{port}"
        o = obs_for(rep, target)
        check(o is not None, "redis observed", json.dumps(rep["observations"])[:500])
        if o:
            check(o["keys_scanned"] == 5 and o["keys_skipped"] == 1, "redis: keys", (o["keys_scanned"], o["keys_skipped"]))
            check(o["plaintext_count"] == 2, "redis: plaintext", o["plaintext_count"])
            check(o["encrypted_count"] == 2, "redis: encrypted", o["encrypted_count"])
            check(o["plaintext_password_count"] == 1, "redis: password")
            w = {h["where"]: h for h in o["plaintext_tokens"]}
            check(w.get("key oauth:access_token:1", {}).get("lifetime_s") == 7200, "redis: JWT under its key", w)
            check(w.get("key session:42 field access_token", {}).get("lifetime_s") == 3600,
                  "redis: hash field with expires_in", w)
            check(o["complete"] is True, "redis: complete")
        check(finding(rep, "TOKENS-PLAINTEXT-LONG-LIVED", target) == "fail", "redis: rule fails")

        e = obs_for(rep, "sqlite:data/broken.db", "error")
        check(e is not None and "broken.db" in e["message"], "truncated db: clear error", e)

        texts = [("stdout", r.stdout.decode(errors="replace")), ("stderr", r.stderr.decode(errors="replace"))]
        for root, _, files in os.walk(out):
            for fn in files:
                with open(os.path.join(root, fn), errors="replace") as f:
                    texts.append((fn, f.read()))
        leak_check("scan", texts)

        # wrong password and missing variable: errors that name the cause, no password in them
        out2 = os.path.join(tmp, "out2")
        cfg["probes"]["tokens"]["stores"] = [cfg["probes"]["tokens"]["stores"][2]]  # the redis store
        wrong = plant("wrong-" + secrets.token_hex(10))
        r2, rep2 = run_scan(tmp, cfg, out2, {"REDIS_PASSWORD": wrong})
        e = obs_for(rep2, target, "error")
        check(e is not None and e["error"] == "auth", "bad password: auth error", e)
        out3 = os.path.join(tmp, "out3")
        r3, rep3 = run_scan(tmp, cfg, out3, {})
        e = obs_for(rep3, target, "error")
        check(e is not None and "REDIS_PASSWORD" in e["message"], "unset variable named", e)
        texts = [("stdout2", r2.stdout.decode(errors="replace")), ("stderr2", r2.stderr.decode(errors="replace"))]
        with open(os.path.join(out2, "report.json")) as f:
            texts.append(("report2", f.read()))
        leak_check("bad password", texts)

        # key budget: two keys read, the walk is reported incomplete and the warn rule fires
        out4 = os.path.join(tmp, "out4")
        # strings over max_value_bytes (the JWT, the JWE) are skipped (STRLEN), the walk goes on;
        # skipped: those two and the list; read: the two hashes and the short string
        out5 = os.path.join(tmp, "out5")
        cfg["probes"]["tokens"]["stores"][0]["max_value_bytes"] = 100
        r5, rep5 = run_scan(tmp, cfg, out5, {"REDIS_PASSWORD": redis_pw})
        o = obs_for(rep5, target)
        check(o is not None and o["keys_skipped"] == 3
              and o["keys_scanned"] == 3, "large string skipped", o and (o["keys_scanned"], o["keys_skipped"]))
        # issue 13: a value not read because of a bound is evidence cut short: incomplete, with the reason
        check(o is not None and o["complete"] is False and o["keys_over_max_value_bytes"] == 2
              and "max_value_bytes" in o.get("incomplete_reason", ""),
              "values over max_value_bytes make the store incomplete", o)
        e = obs_for(rep5, target, "error")
        check(e is not None and e.get("for_kind") == "token_store" and "max_value_bytes" in e["message"],
              "bound hit: an error names it for the token_store rules", e)
        del cfg["probes"]["tokens"]["stores"][0]["max_value_bytes"]
        cfg["probes"]["tokens"]["stores"][0]["max_keys"] = 2
        r4, rep4 = run_scan(tmp, cfg, out4, {"REDIS_PASSWORD": redis_pw})
        o = obs_for(rep4, target)
        check(o is not None and o["keys_scanned"] + o["keys_skipped"] == 2
              and o["complete"] is False, "key budget honoured", o)
        check(finding(rep4, "TOKENS-STORE-INCOMPLETE", target) == "warn", "incomplete store warns")
        tls_section(tmp)
    finally:
        if redis:
            redis.kill()
            redis.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


if __name__ == "__main__":
    sys.exit(main())
