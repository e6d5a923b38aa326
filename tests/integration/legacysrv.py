"""Loopback servers that speak the legacy protocols for the legacy/capture tests
(python3 standard library only; loopback addresses only)."""
import os
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time


class TCPServer:
    """Accepts on (addr, port) and runs handler(conn) per connection in a thread."""

    def __init__(self, addr, handler, port=0):
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        self.sock = socket.socket(fam, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((addr, port))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.addr = addr
        self.handler = handler
        self.stopped = False
        self.conns = 0
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while not self.stopped:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns += 1
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        try:
            c.settimeout(10)
            self.handler(c)
        except OSError:
            pass
        finally:
            try:
                c.close()
            except OSError:
                pass

    def stop(self):
        self.stopped = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def readline(c, limit=4096):
    buf = b""
    while not buf.endswith(b"\n") and len(buf) < limit:
        b = c.recv(1)
        if not b:
            break
        buf += b
    return buf


# ---- TELNET (RFC 854): negotiate, then a login prompt ----
IAC, DONT, DO, WONT, WILL = 255, 254, 253, 252, 251


def telnet_handler(c):
    c.sendall(bytes([IAC, DO, 24, IAC, WILL, 1, IAC, WILL, 3]))
    c.settimeout(2)
    try:
        c.recv(512)  # the client's answers
    except OSError:
        pass
    c.sendall(b"\r\nDebian GNU/Linux 12\r\nlogin: ")
    try:
        while True:
            d = c.recv(512)
            if not d:
                break
            if b"\r" in d or b"\n" in d:
                c.sendall(b"\r\nPassword: ")
    except OSError:
        pass


# ---- FTP (RFC 959, RFC 2389 FEAT, RFC 4217 AUTH TLS) ----
def ftp_handler_factory(auth_tls, anonymous, greeting=b"220 tenken test FTP server ready\r\n"):
    def h(c):
        c.sendall(greeting)
        user = None
        while True:
            line = readline(c)
            if not line:
                return
            cmd = line.strip().split(b" ", 1)
            verb = cmd[0].upper()
            arg = cmd[1] if len(cmd) > 1 else b""
            if verb == b"FEAT":
                c.sendall(b"211-Features:\r\n MDTM\r\n SIZE\r\n" + (b" AUTH TLS\r\n PBSZ\r\n PROT\r\n" if auth_tls else b"") + b"211 End\r\n")
            elif verb == b"AUTH":
                c.sendall(b"234 AUTH TLS successful\r\n" if auth_tls else b"500 AUTH not understood\r\n")
                if auth_tls:
                    return
            elif verb == b"USER":
                user = arg
                c.sendall(b"331 Please specify the password.\r\n")
            elif verb == b"PASS":
                if anonymous and user in (b"anonymous", b"ftp"):
                    c.sendall(b"230 Login successful.\r\n")
                else:
                    c.sendall(b"530 Login incorrect.\r\n")
            elif verb == b"QUIT":
                c.sendall(b"221 Goodbye.\r\n")
                return
            else:
                c.sendall(b"500 Unknown command.\r\n")
    return h


# ---- SMTP (RFC 5321, RFC 3207 STARTTLS) ----
def smtp_handler_factory(starttls):
    def h(c):
        c.sendall(b"220 mail.test ESMTP Postfix\r\n")
        while True:
            line = readline(c)
            if not line:
                return
            verb = line.strip().split(b" ", 1)[0].upper()
            if verb == b"EHLO":
                c.sendall(b"250-mail.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n" + (b"250-STARTTLS\r\n" if starttls else b"") + b"250 8BITMIME\r\n")
            elif verb == b"QUIT":
                c.sendall(b"221 2.0.0 Bye\r\n")
                return
            else:
                c.sendall(b"502 5.5.2 Error: command not recognized\r\n")
    return h


def silent_handler(c):
    c.settimeout(30)
    try:
        while c.recv(512):
            pass
    except OSError:
        pass


def garbage_handler(c):
    c.sendall(bytes([0x17, 0x03, 0x99, 0x00, 0x1b, 0x5b, 0x32, 0x4a, 0x07]) + b"\x00garbage\x01\xfe\n")
    time.sleep(1)


# ---- r-services: client-first; the server answers one status byte ----
def rproto_handler_factory(fields, reply):
    def h(c):
        buf = b""
        while buf.count(b"\0") < fields:
            d = c.recv(512)
            if not d:
                return
            buf += d
        c.sendall(reply)
        time.sleep(0.5)
    return h


# ---- ONC RPC over TCP (RFC 5531, RFC 1833 portmapper) ----
def rpc_handler_factory(kind):
    def h(c):
        hdr = c.recv(4)
        if len(hdr) < 4:
            return
        n = struct.unpack(">I", hdr)[0] & 0x7fffffff
        body = b""
        while len(body) < n:
            d = c.recv(n - len(body))
            if not d:
                return
            body += d
        xid, mtype, rpcvers, prog, vers, proc = struct.unpack(">6I", body[:24])
        rep = struct.pack(">IIIII", xid, 1, 0, 0, 0)  # REPLY, MSG_ACCEPTED, verf AUTH_NULL len 0
        if kind == "rpcbind" and prog == 100000 and proc == 4:
            rep += struct.pack(">I", 0)  # SUCCESS
            for p, v, t, port in ((100000, 2, 6, 111), (100003, 3, 6, 2049), (100005, 3, 17, 20048)):
                rep += struct.pack(">5I", 1, p, v, t, port)
            rep += struct.pack(">I", 0)
        elif kind == "nfs" and prog == 100003:
            rep += struct.pack(">I", 0)
        else:
            rep += struct.pack(">I", 1)  # PROG_UNAVAIL
        c.sendall(struct.pack(">I", 0x80000000 | len(rep)) + rep)
        time.sleep(0.3)
    return h


class TFTPServer:
    """Answers every read request with ERROR 1 (file not found) from a new port (RFC 1350)."""

    def __init__(self, addr):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((addr, 0))
        self.port = self.sock.getsockname()[1]
        self.addr = addr
        self.requests = 0
        self.stopped = False
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self):
        while not self.stopped:
            try:
                data, peer = self.sock.recvfrom(1024)
            except OSError:
                return
            if len(data) >= 2 and data[:2] == b"\x00\x01":
                self.requests += 1
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.bind((self.addr, 0))
                s.sendto(b"\x00\x05\x00\x01File not found\x00", peer)
                s.close()

    def stop(self):
        self.stopped = True
        self.sock.close()


def pyftpdlib_python():
    """An interpreter that has pyftpdlib (Debian python3-pyftpdlib installs it for /usr/bin/python3)."""
    for py in (sys.executable, "/usr/bin/python3"):
        try:
            if os.path.exists(py) and subprocess.run([py, "-c", "import pyftpdlib"], stdout=subprocess.DEVNULL,
                                                     stderr=subprocess.DEVNULL, timeout=20).returncode == 0:
                return py
        except (OSError, subprocess.TimeoutExpired):
            pass
    return None


def pyftpdlib_available():
    return pyftpdlib_python() is not None


class RealFTPD:
    """pyftpdlib (Debian python3-pyftpdlib): a real FTP server, anonymous read-only on a temp dir."""

    def __init__(self, addr, port, root):
        self.port = port
        self.proc = subprocess.Popen([pyftpdlib_python(), "-m", "pyftpdlib", "-i", addr, "-p", str(port), "-d", root],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection((addr, port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("pyftpdlib did not start")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
