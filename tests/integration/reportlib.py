"""Shared helpers for the report/history integration tests (python3 stdlib only).

A loopback partner for the hsts probe: a CA and two HTTPS servers made with
the openssl CLI, api.good.test on 127.0.0.1 and api.weak.test on 127.0.0.2,
plus plain HTTP on one port number on both addresses. The weak site's
behaviour can be changed between scans (fix()) so history has real changes.
"""
import http.server
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading

BIN = os.environ.get("TENKEN_BIN", "build/tenken")
SRC = os.environ.get("TENKEN_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))


from tkharness import Results  # noqa: E402,F401  (the one harness)


def run(args, env=None, timeout=120, check=None):
    e = dict(os.environ)
    if env:
        e.update(env)
    p = subprocess.run([BIN] + args, capture_output=True, text=True, env=e, timeout=timeout)
    return p


def _openssl(args, cwd):
    subprocess.run(["openssl"] + args, cwd=cwd, check=True, capture_output=True)


def make_pki(d):
    _openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key",
              "-out", "ca.pem", "-days", "2", "-subj", "/CN=tenken test CA",
              "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"], d)
    for name in ("api.good.test", "api.weak.test"):
        _openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", name + ".key",
                  "-out", name + ".csr", "-subj", "/CN=" + name], d)
        with open(os.path.join(d, name + ".ext"), "w") as f:
            f.write("subjectAltName=DNS:%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n" % name)
        _openssl(["x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                  "-out", name + ".pem", "-days", "2", "-extfile", name + ".ext"], d)


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        site = self.server.site
        if self.server.plain:
            if site.redirect:
                self.send_response(301)
                self.send_header("Location", site.https_url)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = b"plain"
        else:
            body = b"ok"
        self.send_response(200)
        if not self.server.plain and site.hsts:
            self.send_header("Strict-Transport-Security", site.hsts)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # the probe closes after the headers (and kills interrupt it): not an error here


class Site:
    def __init__(self, name, addr, hsts, redirect):
        self.name, self.addr, self.hsts, self.redirect = name, addr, hsts, redirect
        self.https_url = None


class Partner:
    """Loopback partner; use as a context manager."""

    def __init__(self, partner_id="acme-pay"):
        self.id = partner_id
        self.dir = tempfile.mkdtemp(prefix="tenken-rep-")
        self.servers = []
        self.sites = [Site("api.good.test", "127.0.0.1", "max-age=63072000; includeSubDomains", True),
                      Site("api.weak.test", "127.0.0.2", "max-age=300", False)]

    def __enter__(self):
        make_pki(self.dir)
        for s in self.sites:
            srv = _Server((s.addr, 0), _Handler)
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(os.path.join(self.dir, s.name + ".pem"), os.path.join(self.dir, s.name + ".key"))
            srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
            srv.site, srv.plain = s, False
            s.https_url = "https://%s:%d/" % (s.name, srv.server_address[1])
            self._start(srv)
        for _ in range(50):
            try:
                a = _Server(("127.0.0.1", 0), _Handler)
                port = a.server_address[1]
                b = _Server(("127.0.0.2", port), _Handler)
            except OSError:
                a.server_close()
                continue
            break
        self.http_port = port
        for srv, s in ((a, self.sites[0]), (b, self.sites[1])):
            srv.site, srv.plain = s, True
            self._start(srv)
        self.config = os.path.join(self.dir, "partner.json")
        with open(self.config, "w") as f:
            json.dump({"partner": {"id": self.id, "name": "テスト<ペイ> & Co."},
                       "checklist": "fisc-api-2018",
                       "probes": {"hsts": {"urls": [s.https_url for s in self.sites],
                                           "resolve": {s.name: s.addr for s in self.sites},
                                           "http_port": self.http_port, "ca_file": "ca.pem",
                                           "request_timeout_s": 5}}}, f, ensure_ascii=False)
        return self

    def _start(self, srv):
        t = threading.Thread(target=srv.serve_forever, daemon=True)
        t.start()
        self.servers.append(srv)

    def fix(self):
        """Make the weak site good: its findings become resolved."""
        self.sites[1].hsts = "max-age=63072000; includeSubDomains"
        self.sites[1].redirect = True

    def break_(self):
        self.sites[1].hsts = "max-age=300"
        self.sites[1].redirect = False

    def __exit__(self, *a):
        for s in self.servers:
            s.shutdown()
            s.server_close()
        shutil.rmtree(self.dir, ignore_errors=True)


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


# ---- a small JSON Schema (draft 2020-12 subset) validator ----
def validate(inst, schema, root=None, path="$"):
    """Returns a list of error strings. Supports $ref (#/$defs/...), type,
    required, properties, additionalProperties, items, enum, const, pattern,
    minimum, maximum, minItems, minLength, anyOf, oneOf."""
    import re
    root = root or schema
    errs = []
    if "$ref" in schema:
        ref = schema["$ref"]
        node = root
        for part in ref.lstrip("#/").split("/"):
            node = node[part]
        return validate(inst, node, root, path)
    t = schema.get("type")
    if t is not None:
        types = t if isinstance(t, list) else [t]
        ok = False
        for ty in types:
            if ty == "object" and isinstance(inst, dict): ok = True
            elif ty == "array" and isinstance(inst, list): ok = True
            elif ty == "string" and isinstance(inst, str): ok = True
            elif ty == "integer" and isinstance(inst, int) and not isinstance(inst, bool): ok = True
            elif ty == "number" and isinstance(inst, (int, float)) and not isinstance(inst, bool): ok = True
            elif ty == "boolean" and isinstance(inst, bool): ok = True
            elif ty == "null" and inst is None: ok = True
        if not ok:
            return ["%s: expected %s, got %s" % (path, t, type(inst).__name__)]
    if "enum" in schema and inst not in schema["enum"]:
        errs.append("%s: %r not in %r" % (path, inst, schema["enum"]))
    if "const" in schema and inst != schema["const"]:
        errs.append("%s: %r != %r" % (path, inst, schema["const"]))
    if isinstance(inst, str):
        if "pattern" in schema and not re.search(schema["pattern"], inst):
            errs.append("%s: %r does not match %s" % (path, inst, schema["pattern"]))
        if "minLength" in schema and len(inst) < schema["minLength"]:
            errs.append("%s: shorter than %d" % (path, schema["minLength"]))
    if isinstance(inst, (int, float)) and not isinstance(inst, bool):
        if "minimum" in schema and inst < schema["minimum"]:
            errs.append("%s: %r < %r" % (path, inst, schema["minimum"]))
        if "maximum" in schema and inst > schema["maximum"]:
            errs.append("%s: %r > %r" % (path, inst, schema["maximum"]))
    if isinstance(inst, dict):
        for k in schema.get("required", []):
            if k not in inst:
                errs.append("%s: missing required %r" % (path, k))
        props = schema.get("properties", {})
        for k, v in inst.items():
            if k in props:
                errs += validate(v, props[k], root, "%s.%s" % (path, k))
            elif schema.get("additionalProperties") is False:
                errs.append("%s: unexpected property %r" % (path, k))
            elif isinstance(schema.get("additionalProperties"), dict):
                errs += validate(v, schema["additionalProperties"], root, "%s.%s" % (path, k))
    if isinstance(inst, list):
        if "minItems" in schema and len(inst) < schema["minItems"]:
            errs.append("%s: fewer than %d items" % (path, schema["minItems"]))
        if "items" in schema:
            for i, v in enumerate(inst):
                errs += validate(v, schema["items"], root, "%s[%d]" % (path, i))
    if "anyOf" in schema:
        if not any(not validate(inst, s, root, path) for s in schema["anyOf"]):
            errs.append("%s: matches none of anyOf" % path)
    if "oneOf" in schema:
        n = sum(1 for s in schema["oneOf"] if not validate(inst, s, root, path))
        if n != 1:
            errs.append("%s: matches %d of oneOf" % (path, n))
    return errs


# ---- headless Chromium ----
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--enable-logging=stderr", "--v=0"]


def chromium_binary():
    for b in ("chromium", "chromium-browser"):
        p = shutil.which(b)
        if p:
            return p
    return None


def chromium_screenshot(html_path, png_path, width=1400, height=2000):
    """Render a local file to PNG; returns (ok, console_lines, stderr)."""
    profile = tempfile.mkdtemp(prefix="tenken-chromium-")
    try:
        p = subprocess.run([chromium_binary()] + CHROMIUM_FLAGS +
                           ["--user-data-dir=" + profile, "--screenshot=" + png_path,
                            "--window-size=%d,%d" % (width, height), "file://" + os.path.abspath(html_path)],
                           capture_output=True, text=True, timeout=90)
        console = [l for l in p.stderr.splitlines() if ":CONSOLE" in l or "Refused to" in l]
        return os.path.exists(png_path) and os.path.getsize(png_path) > 0, console, p.stderr
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def chromium_pdf(html_path, pdf_path):
    """Print a local file to PDF; returns (page count, set of MediaBox strings)."""
    import re
    profile = tempfile.mkdtemp(prefix="tenken-chromium-")
    try:
        subprocess.run([chromium_binary()] + CHROMIUM_FLAGS +
                       ["--user-data-dir=" + profile, "--no-pdf-header-footer", "--print-to-pdf=" + pdf_path,
                        "file://" + os.path.abspath(html_path)], capture_output=True, text=True, timeout=90)
        data = open(pdf_path, "rb").read() if os.path.exists(pdf_path) else b""
        boxes = {tuple(round(float(x)) for x in m.split()) for m in re.findall(rb"/MediaBox\s*\[([^\]]*)\]", data)}
        pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
        return pages, boxes
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def png_pixels(path):
    """Decode an 8-bit RGB/RGBA non-interlaced PNG: (width, height, rows of bytes, bytes per pixel)."""
    import struct
    import zlib
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, w = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and ctype in (2, 6) and interlace == 0, "unsupported PNG"
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        ft = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ft == 1:
                line[i] = (line[i] + a) & 255
            elif ft == 2:
                line[i] = (line[i] + b) & 255
            elif ft == 3:
                line[i] = (line[i] + ((a + b) >> 1)) & 255
            elif ft == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pr) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, rows, bpp


def png_stats(path, step=4):
    """(fraction of sampled pixels that are not near-white, number of distinct sampled colours)."""
    w, h, rows, bpp = png_pixels(path)
    colours, dark, total = set(), 0, 0
    for y in range(0, h, step):
        r = rows[y]
        for x in range(0, w, step):
            px = r[x * bpp:x * bpp + 3]
            colours.add(px)
            total += 1
            if min(px) < 230:
                dark += 1
    return dark / max(total, 1), len(colours)
