"""A real SMTP server for the desk's alert tests: aiosmtpd (Debian's
python3-aiosmtpd), STARTTLS required (throwaway cert), AUTH required after
TLS (user/password given on the command line). Each message received is
written to OUTDIR/N.eml. Runs in the foreground until killed.

usage: /usr/bin/python3 desk_smtpd.py HOST PORT CERT KEY USER PASSWORD OUTDIR
"""
import os
import ssl
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

host, port, cert, key, user, password, outdir = sys.argv[1:8]
count = [0]


class Handler:
    async def handle_DATA(self, server, session, envelope):
        count[0] += 1
        with open(os.path.join(outdir, "%d.eml" % count[0]), "wb") as f:
            f.write(b"X-Tls: %s\r\nX-Rcpt: %s\r\n" % (b"yes" if session.ssl else b"no",
                                                        ",".join(envelope.rcpt_tos).encode()))
            f.write(envelope.content if isinstance(envelope.content, bytes) else envelope.content.encode())
        return "250 OK"


def auth(server, session, envelope, mechanism, data):
    ok = isinstance(data, LoginPassword) and data.login.decode() == user and data.password.decode() == password
    return AuthResult(success=ok)


ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(cert, key)
c = Controller(Handler(), hostname=host, port=int(port), tls_context=ctx, require_starttls=True,
               auth_required=True, auth_require_tls=True, authenticator=auth)
c.start()
print("ready", flush=True)
try:
    while True:
        time.sleep(1)
finally:
    c.stop()
