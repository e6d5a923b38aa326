#!/usr/bin/env python3
"""`tenken feed update` against a loopback HTTP server started here:
first download, conditional re-download (If-None-Match / If-Modified-Since ->
304), a changed feed, a truncated transfer, malformed JSON, an HTTP error and
an oversized body - the previous feed must survive every failure, and no
temporary file is left behind."""
import hashlib
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from tkharness import check, finish  # noqa: E402

TENKEN = os.environ.get("TENKEN_BIN", "tenken")



FEED_V1 = json.dumps({"openssl": {"CVE-2024-5535": {"releases": {"bookworm": {
    "status": "resolved", "fixed_version": "3.0.14-1~deb12u2", "urgency": "low"}}}}}).encode()
FEED_V2 = json.dumps({"openssl": {"CVE-2024-5535": {"releases": {"bookworm": {
    "status": "resolved", "fixed_version": "3.0.14-1~deb12u2", "urgency": "low"}}}},
    "curl": {"CVE-2024-2398": {"releases": {"bookworm": {"status": "open"}}}}}).encode()

state = {"body": FEED_V1, "etag": '"v1"', "lm": "Mon, 23 Nov 2026 10:00:00 GMT", "log": []}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_GET(self):
        state["log"].append((self.path, self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since")))
        if self.path == "/debian.json":
            if self.headers.get("If-None-Match") == state["etag"]:
                self.send_response(304)
                self.send_header("ETag", state["etag"])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = state["body"]
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("ETag", state["etag"])
            self.send_header("Last-Modified", state["lm"])
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path == "/truncated.json":
            body = FEED_V2
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        elif self.path == "/malformed.json":
            body = b'{"openssl": {"CVE-2024-5535": {"releases": {"bookworm": {"status": resolved}}}}}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path == "/big.json":
            body = b'{"x": "' + b"a" * (2 << 20) + b'"}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            body = b"server error"
            self.send_response(500)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)


def main():
    class Server(http.server.ThreadingHTTPServer):
        def handle_error(self, request, client_address):
            pass  # tenken aborting an oversized body resets the connection: expected

    srv = Server(("127.0.0.1", 0), Handler)
    port = srv.server_address[1]
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    tmp = tempfile.mkdtemp(prefix="tenken-feed-")
    base = "http://127.0.0.1:%d" % port
    out = os.path.join(tmp, "feeds", "debian.json")
    os.makedirs(os.path.dirname(out))

    def update(path, fmt="debian-tracker", extra=()):
        return subprocess.run([TENKEN, "feed", "update", "--format", fmt, "--url", base + path, "--out", out,
                               "--timeout", "20"] + list(extra), capture_output=True, text=True, timeout=60)

    def content():
        with open(out, "rb") as f:
            return f.read()

    try:
        r = update("/debian.json")
        check(r.returncode == 0, "first download succeeds", r.stderr)
        check(os.path.exists(out) and content() == FEED_V1, "file holds the served feed")
        meta = json.load(open(out + ".meta.json"))
        check(meta.get("etag") == '"v1"' and meta.get("last_modified") == state["lm"]
              and meta.get("sha256") == hashlib.sha256(FEED_V1).hexdigest() and meta.get("records") == 1,
              "meta keeps ETag, Last-Modified and SHA-256", meta)
        check(state["log"][-1][1] is None and state["log"][-1][2] is None, "first request was unconditional")
        mtime = os.stat(out).st_mtime_ns
        r = update("/debian.json")
        check(state["log"][-1][1] == '"v1"' and state["log"][-1][2] == state["lm"],
              "second request sends If-None-Match and If-Modified-Since", state["log"][-1])
        check(r.returncode == 0 and "not modified" in r.stdout
              and os.stat(out).st_mtime_ns == mtime and content() == FEED_V1, "304: exit 0, file untouched", r.stdout + r.stderr)
        state.update(body=FEED_V2, etag='"v2"')
        r = update("/debian.json")
        check(r.returncode == 0 and content() == FEED_V2, "changed feed replaces the file", r.stderr)
        r = update("/truncated.json")
        check(r.returncode == 3 and "truncated download" in r.stderr and "kept the previous" in r.stderr
              and content() == FEED_V2,
              "truncated transfer: exit 3, clear message, previous feed kept", r.stderr)
        r = update("/malformed.json")
        check(r.returncode == 3 and "malformed JSON at byte offset 67 of 80" in r.stderr and content() == FEED_V2,
              "malformed JSON: exit 3, byte offset named, previous feed kept", r.stderr)
        r = update("/debian.json", fmt="nvd")
        check(r.returncode == 3 and "vulnerabilities" in r.stderr and content() == FEED_V2,
              "wrong format (tracker JSON as nvd): rejected, previous kept", r.stderr)
        r = update("/error")
        check(r.returncode == 3 and "HTTP 500" in r.stderr and content() == FEED_V2, "HTTP 500: exit 3, previous kept",
              r.stderr)
        r = update("/big.json", extra=["--max-mb", "1"])
        check(r.returncode == 3 and "--max-mb" in r.stderr
              and content() == FEED_V2, "body over --max-mb: exit 3, previous kept", r.stderr)
        left = [f for f in os.listdir(os.path.dirname(out)) if f not in ("debian.json", "debian.json.meta.json")]
        check(not left, "no temporary files left", left)
        r = subprocess.run([TENKEN, "feed", "update", "--url", "ftp://127.0.0.1/x", "--out", out, "--format", "osv"],
                           capture_output=True, text=True, timeout=30)
        check(r.returncode == 2, "non-http URL is a usage error", r.stderr)
    finally:
        srv.shutdown()
        srv.server_close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
    finish()
