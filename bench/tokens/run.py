#!/usr/bin/env python3
"""Benchmark for the tokens probe, with secretlint side by side.

1. Throughput: a generated tree of mixed files (JSON, YAML, .env, logs, text;
   default 1 GiB) scanned by `tenken scan` with threads=1 and threads=N
   (all cores); median of --runs runs, MB/s = bytes scanned / wall time.
   secretlint is timed on a --secretlint-mb slice of the same tree.
2. Detection: a labelled corpus, one value per file: plaintext tokens
   (JWTs with and without exp, opaque tokens under OAuth keys, bank-format,
   GitHub-format), encrypted values (Fernet, JWE, Vault transit, AES-GCM under
   enc:, Tink/ESDK/KMS base64) and look-alikes (UUIDs, digests, placeholders,
   error codes, token_type, base64 images, non-JWT dotted strings). Recall and
   precision of "this file stores a plaintext token" for tenken and secretlint.

Generated data lives under --work (default /tmp/tenken-bench-tokens) and is
never committed. Usage:
  python3 bench/tokens/run.py --tenken build/tenken [--size-mb 1024] [--runs 3]
      [--secretlint /path/to/node_modules/.bin/secretlint]
"""
import argparse, resource, base64, hashlib, hmac, json, os, random, secrets, shutil, statistics, subprocess, sys, time

def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

def jwt(payload, alg="HS256"):
    h = b64u(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    p = b64u(json.dumps(payload).encode())
    sig = hmac.new(b"k" * 32, (h + "." + p).encode(), hashlib.sha256).digest()
    return h + "." + p + "." + b64u(sig)

def fernet_like(rng):
    # real Fernet layout (AES-CBC ciphertext replaced by random blocks: the layout is what is recognised)
    body = b"\x80" + int(time.time()).to_bytes(8, "big") + os.urandom(16) + os.urandom(16 * rng.randint(1, 4))
    return base64.urlsafe_b64encode(body + hmac.new(b"s" * 16, body, hashlib.sha256).digest()).decode()

def jwe_like():
    h = b64u(b'{"alg":"dir","enc":"A256GCM"}')
    return ".".join([h, "", b64u(os.urandom(12)), b64u(os.urandom(40)), b64u(os.urandom(16))])

def esdk_like():
    b = b"\x02\x04\x78" + os.urandom(32) + b"\x00\x00" + b"\x00\x01" + b"\x00\x07raw-aes" + b"\x00\x02ab" + \
        b"\x00\x3c" + os.urandom(60) + b"\x02" + (4096).to_bytes(4, "big") + os.urandom(48) + os.urandom(64)
    return base64.b64encode(b).decode()

def make_values(rng):
    now = int(time.time())
    pos = [
        ("jwt-1h+", lambda: ("access_token", jwt({"iat": now, "exp": now + 7200, "scope": "x"}))),
        ("jwt-noexp", lambda: ("id_token", jwt({"sub": "u", "nonce": "n"}))),
        ("opaque-refresh", lambda: ("refresh_token", secrets.token_urlsafe(32))),
        ("opaque-access", lambda: ("accessToken", secrets.token_hex(20))),
        ("bank", lambda: ("token", "bk_at_" + secrets.token_urlsafe(24))),
        ("github", lambda: ("access_token", "ghp_" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") for _ in range(36)))),
        ("auth-code", lambda: ("code", secrets.token_urlsafe(24))),
    ]
    enc = [
        ("fernet", lambda: ("refresh_token", fernet_like(rng))),
        ("jwe", lambda: ("access_token", jwe_like())),
        ("vault", lambda: ("access_token", "vault:v1:" + base64.b64encode(os.urandom(48)).decode())),
        ("enc-gcm", lambda: ("refresh_token", "enc:" + base64.b64encode(os.urandom(60)).decode())),
        ("esdk", lambda: ("access_token", esdk_like())),
        ("tink", lambda: ("refresh_token", base64.b64encode(b"\x01" + os.urandom(4) + os.urandom(60)).decode())),
    ]
    neg = [
        ("uuid", lambda: ("request_id", "%08x-%04x-4%03x-a%03x-%012x" % (rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(12), rng.getrandbits(12), rng.getrandbits(48)))),
        ("sha256", lambda: ("checksum", hashlib.sha256(os.urandom(8)).hexdigest())),
        ("placeholder", lambda: ("access_token", "${ACCESS_TOKEN}")),
        ("token-type", lambda: ("token_type", "Bearer")),
        ("error-code", lambda: ("code", "E%04d" % rng.randint(0, 9999))),
        ("image", lambda: ("avatar", base64.b64encode(os.urandom(300)).decode())),
        ("dotted", lambda: ("version", "eyJ.not.a.jwt." + secrets.token_hex(6))),
        ("token-url", lambda: ("token_url", "https://auth.example.test/oauth/token")),
        ("sentence", lambda: ("description", "the access token is refreshed every hour by the worker")),
        ("csrf", lambda: ("csrf_token", secrets.token_urlsafe(32))),
        ("git-sha", lambda: ("commit", hashlib.sha1(os.urandom(8)).hexdigest())),
        ("session-id", lambda: ("session_id", secrets.token_urlsafe(32))),
    ]
    return pos, enc, neg

def write_item(path, key, val, fmt):
    with open(path, "w") as f:
        if fmt == "json":
            json.dump({"service": "api", key: val, "expires_in": 7200}, f, indent=2)
        elif fmt == "yaml":
            f.write(f"service: api\n{key}: {val}\n")
        elif fmt == "env":
            f.write(f"SERVICE=api\n{key.upper()}={val}\n")
        else:
            f.write(f"2026-01-01T00:00:00Z INFO saved {key}={val} for client 42\n")

def build_corpus(d, n_per, seed):
    rng = random.Random(seed)
    pos, enc, neg = make_values(rng)
    labels = {}
    i = 0
    for group, label in ((pos, "plaintext"), (enc, "encrypted"), (neg, "other")):
        for cls, fn in group:
            for _ in range(n_per):
                fmt = rng.choice(["json", "yaml", "env", "log"])
                name = f"item{i:05d}.{fmt}"
                k, v = fn()
                write_item(os.path.join(d, name), k, v, fmt)
                labels[name] = (label, cls)
                i += 1
    return labels

def build_tree(d, size_mb, seed):
    rng = random.Random(seed)
    now = int(time.time())
    words = "account balance transfer merchant settlement request response latency status ok error retry".split()
    chunks = []
    for kind in ("json", "yaml", "env", "log", "txt"):
        lines = []
        for j in range(9000):
            w = " ".join(rng.choice(words) for _ in range(8))
            if j % 500 == 0:
                lines.append(f'access_token={jwt({"iat": now, "exp": now + 7200})}')
            elif kind == "json":
                lines.append(f'  "field{j}": "{w}",')
            elif kind == "yaml":
                lines.append(f"field{j}: {w}")
            elif kind == "env":
                lines.append(f"FIELD_{j}={w.replace(' ', '_')}")
            else:
                lines.append(f"2026-01-01T00:00:{j % 60:02d}Z INFO {w} id={rng.getrandbits(32):08x}")
        body = "\n".join(lines) + "\n"
        if kind == "json":
            body = "{\n" + body + '  "end": true\n}\n'
        chunks.append((kind, body.encode()))
    total, i = 0, 0
    target = size_mb << 20
    while total < target:
        kind, body = chunks[i % len(chunks)]
        sub = os.path.join(d, f"d{i // 200:03d}")
        os.makedirs(sub, exist_ok=True)
        with open(os.path.join(sub, f"f{i:05d}.{kind}"), "wb") as f:
            f.write(body)
        total += len(body)
        i += 1
    return total, i

def tenken_scan(tenken, work, path, threads, max_listed=100000):
    cfg = {"partner": {"id": "bench", "name": "bench"},
           "probes": {"tokens": {"timeout_s": 3600, "threads": threads, "max_listed": max_listed,
                                 "max_files": 10000000,
                                 "stores": [{"type": "files", "path": path}],
                                 "bank_token_patterns": [{"name": "bank access token", "prefix": "bk_at_"}]}}}
    cp = os.path.join(work, f"cfg-{threads}.json")
    with open(cp, "w") as f:
        json.dump(cfg, f)
    out = os.path.join(work, f"out-{threads}")
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    subprocess.run([tenken, "scan", "-c", cp, "-o", out, "-q"], check=False, stdout=subprocess.DEVNULL)
    dt = time.monotonic() - t0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    global last_cpu
    last_cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    with open(os.path.join(out, "report.json")) as f:
        rep = json.load(f)
    obs = [o for o in rep["observations"] if o["probe"] == "tokens"][0]
    return dt, obs

last_cpu = 0.0

def secretlint_scan(sl, d):
    t0 = time.monotonic()
    outp = d.rstrip("/") + ".secretlint.json"
    r = subprocess.run([sl, "--format", "json", "--output", outp, "--secretlintrc",
                        os.path.join(d, "..", ".secretlintrc.json"), "**/*"], capture_output=True, cwd=d)
    dt = time.monotonic() - t0
    try:
        with open(outp) as f:
            res = json.load(f)
    except (OSError, json.JSONDecodeError):
        sys.exit("secretlint output is not JSON: " + r.stderr.decode()[:500])
    flagged = {os.path.basename(x["filePath"]) for x in res if x.get("messages")}
    return dt, flagged

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tenken", default="build/tenken")
    ap.add_argument("--secretlint", default=shutil.which("secretlint"))
    ap.add_argument("--work", default="/tmp/tenken-bench-tokens")
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--secretlint-mb", type=int, default=64)
    ap.add_argument("--per-class", type=int, default=100)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    with open(os.path.join(a.work, ".secretlintrc.json"), "w") as f:
        json.dump({"rules": [{"id": "@secretlint/secretlint-rule-preset-recommend"}]}, f)
    cores = os.cpu_count() or 1

    # ---- detection ----
    corpus = os.path.join(a.work, "corpus")
    os.makedirs(corpus)
    labels = build_corpus(corpus, a.per_class, a.seed)
    _, obs = tenken_scan(a.tenken, a.work, corpus, 1)
    t_plain = {h["where"].split(":")[0] for h in obs["plaintext_tokens"]}
    t_enc = {h["where"].split(":")[0] for h in obs["encrypted_values"]}
    results = {"tenken": t_plain}
    if a.secretlint:
        _, results["secretlint"] = secretlint_scan(a.secretlint, corpus)
    print(f"== detection: {len(labels)} files, {a.per_class} per class (plaintext token = positive)")
    for tool, flagged in results.items():
        tp = sum(1 for n, (l, _) in labels.items() if l == "plaintext" and n in flagged)
        fp = sum(1 for n, (l, _) in labels.items() if l != "plaintext" and n in flagged)
        fn = sum(1 for n, (l, _) in labels.items() if l == "plaintext" and n not in flagged)
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        print(f"{tool:11s} recall {rec:.3f}  precision {prec:.3f}  (tp {tp}, fp {fp}, fn {fn})")
        per = {}
        for n, (l, c) in labels.items():
            per.setdefault((l, c), [0, 0])
            per[(l, c)][0] += n in flagged
            per[(l, c)][1] += 1
        print("   flagged per class: " + ", ".join(f"{c}={k}/{t}" for (l, c), (k, t) in per.items() if k or l == "plaintext"))
    enc_total = sum(1 for l, _ in labels.values() if l == "encrypted")
    enc_ok = sum(1 for n, (l, _) in labels.items() if l == "encrypted" and n in t_enc)
    print(f"tenken recognises encrypted envelopes: {enc_ok}/{enc_total}")

    # ---- throughput ----
    tree = os.path.join(a.work, "tree")
    os.makedirs(tree)
    total, nfiles = build_tree(tree, a.size_mb, a.seed)
    subprocess.run(["cat"] + [os.path.join(r, f) for r, _, fs in os.walk(tree) for f in fs][:1], stdout=subprocess.DEVNULL)
    print(f"== throughput: {nfiles} files, {total / 1e6:.0f} MB, {a.runs} runs each (median)")
    tenken_rates = {}
    for th in sorted({1, cores}):
        times, cpus = [], []
        for _ in range(a.runs):
            dt, obs = tenken_scan(a.tenken, a.work, tree, th, max_listed=10)
            times.append(dt)
            cpus.append(last_cpu)
        med, cpu = statistics.median(times), statistics.median(cpus)
        tenken_rates[th] = obs["bytes_scanned"] / 1e6 / med
        print(f"tenken threads={th}: {med:.2f} s wall, {tenken_rates[th]:.0f} MB/s; CPU {cpu:.2f} s = "
              f"{obs['bytes_scanned'] / 1e6 / cpu:.0f} MB per CPU-second (plaintext tokens found {obs['plaintext_count']})")
    print(f"load average during the runs: {os.getloadavg()[0]:.1f} on {cores} cores (other jobs share them)")
    if a.secretlint:
        slice_dir = os.path.join(a.work, "slice")
        os.makedirs(slice_dir)
        got = 0
        for r, _, fs in sorted(os.walk(tree)):
            for f in sorted(fs):
                if got >= a.secretlint_mb << 20:
                    break
                p = os.path.join(r, f)
                shutil.copy(p, slice_dir)
                got += os.path.getsize(p)
        dt, _ = secretlint_scan(a.secretlint, slice_dir)
        t1, _ = tenken_scan(a.tenken, a.work, slice_dir, 1, max_listed=10)
        print(f"secretlint on a {got / 1e6:.0f} MB slice: {dt:.2f} s, {got / 1e6 / dt:.1f} MB/s; "
              f"tenken threads=1 on the same slice: {t1:.2f} s, {got / 1e6 / t1:.0f} MB/s; ratio {dt / t1:.1f}x")

if __name__ == "__main__":
    main()
