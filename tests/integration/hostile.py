"""Misbehaving servers on loopback for the hostile-partner tests (python3 stdlib only).

Each server runs in a thread, accepts on a loopback address, and misbehaves
in one way. stop() closes everything.
"""
import os
import socket
import ssl
import threading
import time


class Hostile:
    def __init__(self, addr, behaviour, context=None, port=0):
        self.sock = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((addr, port))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.behaviour = behaviour
        self.context = context
        self.stopping = False
        self.conns = []
        self.accepted = 0
        self.active = 0      # connections being served now
        self.peak = 0        # the most served at once
        self.count_lock = threading.Lock()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            self.conns.append(c)
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        with self.count_lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
        try:
            getattr(self, "_" + self.behaviour)(c)
        except (OSError, ssl.SSLError, ValueError):
            pass
        finally:
            with self.count_lock:
                self.active -= 1

    # accepts and never speaks
    def _silent(self, c):
        while not self.stopping:
            time.sleep(0.2)

    # one byte a second, forever
    def _trickle(self, c):
        msg = b"HTTP/1.1 200 OK\r\n" + b"X" * 100000
        for b in msg:
            if self.stopping:
                return
            c.send(bytes([b]))
            time.sleep(1)

    # reads a little, then closes in the middle of the TLS handshake
    def _close_mid_handshake(self, c):
        c.recv(5)
        c.close()

    # answers the ClientHello with endless TLS alert records
    def _alert_storm(self, c):
        c.recv(4096)
        alert = bytes([0x15, 0x03, 0x03, 0x00, 0x02, 0x01, 0x00])  # warning close_notify
        burst = alert * 2000
        while not self.stopping:
            c.sendall(burst)

    # garbage bytes forever, as fast as the peer reads
    def _garbage(self, c):
        chunk = os.urandom(65536)
        while not self.stopping:
            c.sendall(chunk)

    # TLS, then an HTTP response whose header never ends (gigabytes if read)
    def _huge_header(self, c):
        s = self.context.wrap_socket(c, server_side=True)
        s.recv(4096)
        s.sendall(b"HTTP/1.1 200 OK\r\nX-Pad: ")
        chunk = b"A" * 65536
        sent = 0
        while not self.stopping and sent < (4 << 30):
            s.sendall(chunk)
            sent += len(chunk)

    # TLS, then a redirect to itself
    def _redirect_loop(self, c):
        s = self.context.wrap_socket(c, server_side=True)
        s.recv(4096)
        s.sendall(b"HTTP/1.1 302 Found\r\nLocation: /again\r\nContent-Length: 0\r\n\r\n")
        s.close()

    # TLS with whatever certificate chain the context carries, then a normal answer
    def _tls_ok(self, c):
        s = self.context.wrap_socket(c, server_side=True)
        s.recv(4096)
        s.sendall(b"HTTP/1.1 200 OK\r\nStrict-Transport-Security: max-age=63072000\r\nContent-Length: 0\r\n\r\n")
        s.close()

    # TLS, holds each request 150 ms, then a normal answer (for counting concurrency)
    def _tls_slow_ok(self, c):
        s = self.context.wrap_socket(c, server_side=True)
        s.recv(4096)
        time.sleep(0.15)
        s.sendall(b"HTTP/1.1 200 OK\r\nStrict-Transport-Security: max-age=63072000\r\nContent-Length: 0\r\n"
                  b"Connection: close\r\n\r\n")
        s.close()

    def stop(self):
        self.stopping = True
        try:
            self.sock.close()
        except OSError:
            pass
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass
