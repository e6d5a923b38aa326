"""Real daemons from Debian packages for the legacy probe's integration tests.

Every daemon is started by the test, in the foreground, with a configuration in a
temporary directory, on a loopback address chosen at random (127.x.y.z) so that
parallel runs never collide, and stopped in the caller's finally block (stop()).
Daemons that must use a fixed port (r-services on 512-514, TELNET on 23) get a
random address of their own. Nothing here uses a daemon's global configuration.
"""
import os
import random
import shutil
import socket
import subprocess
import time

PG_BIN = "/usr/lib/postgresql/15/bin"


def which(*names):
    for n in names:
        p = shutil.which(n) or (n if os.path.isabs(n) and os.access(n, os.X_OK) else None)
        if p:
            return p
    return None


def random_loopback(ports=()):
    """A random 127.x.y.z (x in 64-191) on which the given TCP ports are free."""
    for _ in range(200):
        a = "127.%d.%d.%d" % (random.randint(64, 191), random.randint(0, 255), random.randint(2, 254))
        ok = True
        for p in ports:
            s = socket.socket()
            try:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind((a, p))
            except OSError:
                ok = False
            finally:
                s.close()
        if ok:
            return a
    raise RuntimeError("no free random loopback address")


def free_port(addr):
    s = socket.socket()
    s.bind((addr, 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_tcp(addr, port, proc=None, timeout=30.0):
    end = time.time() + timeout
    while time.time() < end:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            socket.create_connection((addr, port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.1)
    return False


class Daemon:
    """A foreground daemon process; stop() kills it (and its process group) by pid."""

    def __init__(self, name, argv, addr, port, workdir, env=None, user=None, wait=True, log=True):
        self.name, self.addr, self.port, self.workdir = name, addr, port, workdir
        self.logpath = os.path.join(workdir, name + ".log")
        pre = []
        if user:
            pre = ["setpriv", "--reuid=" + user, "--regid=" + user, "--init-groups", "--"]
        self.log = open(self.logpath, "wb")
        self.proc = subprocess.Popen(pre + argv, stdout=self.log, stderr=subprocess.STDOUT, cwd=workdir,
                                     env=env, start_new_session=True)
        self.ok = wait_tcp(addr, port, self.proc) if wait else True

    def logtext(self):
        try:
            with open(self.logpath, "rb") as f:
                return f.read()[-2000:].decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, 15)
            except OSError:
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait(10)
        self.log.close()


def chown_tree(path, user):
    import pwd
    pw = pwd.getpwnam(user)
    for root, dirs, files in os.walk(path):
        os.chown(root, pw.pw_uid, pw.pw_gid)
        for f in files:
            os.chown(os.path.join(root, f), pw.pw_uid, pw.pw_gid)


# ---- data stores ----

def redis(workdir, addr, password=None):
    port = free_port(addr)
    d = os.path.join(workdir, "redis-%d" % port)
    os.mkdir(d)
    argv = ["redis-server", "--port", str(port), "--bind", addr, "--dir", d, "--save", "", "--appendonly", "no",
            "--daemonize", "no", "--protected-mode", "no", "--logfile", ""]
    if password:
        argv += ["--requirepass", password]
    return Daemon("redis-%d" % port, argv, addr, port, workdir)


def memcached(workdir, addr, auth=False):
    port = free_port(addr)
    argv = ["memcached", "-l", addr, "-p", str(port), "-U", "0", "-u", "memcache", "-m", "8"]
    if auth:
        af = os.path.join(workdir, "memcached-auth-%d" % port)
        with open(af, "w") as f:
            f.write("tenken:secret-not-used\n")
        os.chmod(af, 0o644)
        argv += ["-Y", af]
    return Daemon("memcached-%d" % port, argv, addr, port, workdir)


def postgresql(workdir, addr, trust):
    """initdb in a temporary directory (as the postgres user), then postgres in the foreground."""
    port = free_port(addr)
    d = os.path.join(workdir, "pg-%d" % port)
    os.mkdir(d)
    chown_tree(d, "postgres")
    auth = ["--auth=trust"] if trust else ["--auth-local=trust", "--auth-host=scram-sha-256"]
    r = subprocess.run(["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--",
                        PG_BIN + "/initdb", "-D", os.path.join(d, "data"), "-U", "postgres", "--no-sync"] + auth,
                       capture_output=True, text=True, cwd=d)
    if r.returncode != 0:
        raise RuntimeError("initdb failed: " + r.stderr[-500:])
    return Daemon("pg-%d" % port, [PG_BIN + "/postgres", "-D", os.path.join(d, "data"), "-k", d, "-h", addr,
                                   "-p", str(port), "-c", "fsync=off"], addr, port, workdir, user="postgres")


def mariadb(workdir, addr, skip_grants):
    """mariadb-install-db in a temporary directory, then mariadbd in the foreground (as mysql)."""
    port = free_port(addr)
    d = os.path.join(workdir, "maria-%d" % port)
    os.mkdir(d)
    # a private tmpdir: two bootstraps at once (another suite on the machine) otherwise collide on
    # /tmp/#sql-temptable-* ("Unknown table 'mysql.tmp_proxies_priv'")
    tmp = os.path.join(d, "tmp")
    os.mkdir(tmp)
    chown_tree(d, "mysql")
    r = subprocess.run(["mariadb-install-db", "--no-defaults", "--user=mysql", "--datadir=" + os.path.join(d, "data"),
                        "--tmpdir=" + tmp, "--auth-root-authentication-method=socket", "--skip-test-db"],
                       capture_output=True, text=True, cwd=d)
    if r.returncode != 0:
        raise RuntimeError("mariadb-install-db failed: " + (r.stdout + r.stderr)[-800:])
    argv = ["mariadbd", "--no-defaults", "--user=mysql", "--datadir=" + os.path.join(d, "data"), "--tmpdir=" + tmp,
            "--socket=" + os.path.join(d, "sock"), "--pid-file=" + os.path.join(d, "pid"),
            "--bind-address=" + addr, "--port=" + str(port), "--skip-name-resolve", "--innodb-buffer-pool-size=8M",
            "--skip-log-bin", "--log-error=" + os.path.join(d, "err.log")]
    if skip_grants:
        argv.append("--skip-grant-tables")
    return Daemon("maria-%d" % port, argv, addr, port, workdir)


# ---- remote-operation services ----

def inetd(workdir, addr, lines, first_port):
    """openbsd-inetd in the foreground (-d) with our own inetd.conf, each service bound to addr.
    It runs in a private mount namespace with its own /run, so it never touches the host's
    /run/inetd.pid. lines: [(service or port, "/path/to/daemon argv0 args...")]."""
    conf = os.path.join(workdir, "inetd-%s.conf" % addr)
    with open(conf, "w") as f:
        for svc, cmd in lines:
            f.write("%s:%s stream tcp nowait root %s\n" % (addr, svc, cmd))
    argv = ["unshare", "-m", "sh", "-c", "mount -t tmpfs tmpfs /run && exec /usr/sbin/inetd -d \"$0\"", conf]
    return Daemon("inetd-%s" % addr, argv, addr, first_port, workdir)


def vsftpd(workdir, addr, anonymous, tls_cert=None):
    """vsftpd in the foreground; without anonymous, local (PAM) logins are on, else it refuses to start."""
    port = free_port(addr)
    d = os.path.join(workdir, "vsftpd-%d" % port)
    os.makedirs(os.path.join(d, "empty"))
    os.makedirs(os.path.join(d, "anon"))
    os.chmod(os.path.join(d, "anon"), 0o555)
    conf = ["listen=YES", "listen_ipv6=NO", "listen_address=" + addr, "listen_port=%d" % port, "background=NO",
            "anonymous_enable=%s" % ("YES" if anonymous else "NO"), "anon_root=" + os.path.join(d, "anon"),
            "local_enable=%s" % ("NO" if anonymous else "YES"), "write_enable=NO", "secure_chroot_dir=" + os.path.join(d, "empty"),
            "ftp_username=ftp", "nopriv_user=nobody", "seccomp_sandbox=NO", "xferlog_enable=NO",
            "vsftpd_log_file=" + os.path.join(d, "log"), "pasv_enable=NO", "connect_from_port_20=NO"]
    if tls_cert:
        conf += ["ssl_enable=YES", "rsa_cert_file=" + tls_cert[0], "rsa_private_key_file=" + tls_cert[1],
                 "allow_anon_ssl=YES", "force_local_logins_ssl=NO", "force_anon_logins_ssl=NO"]
    path = os.path.join(d, "vsftpd.conf")
    with open(path, "w") as f:
        f.write("\n".join(conf) + "\n")
    return Daemon("vsftpd-%d" % port, ["/usr/sbin/vsftpd", path], addr, port, workdir)


def exim(workdir, addr, starttls_cert=None):
    """exim4 -bd on addr:port with a minimal configuration in workdir (-C); accepts no mail."""
    port = free_port(addr)
    d = os.path.join(workdir, "exim-%d" % port)
    os.makedirs(os.path.join(d, "spool"))
    chown_tree(d, "Debian-exim")
    conf = ["primary_hostname = mail.tenken.test", "local_interfaces = <; %s" % addr,
            "daemon_smtp_ports = %d" % port, "spool_directory = " + os.path.join(d, "spool"),
            "log_file_path = " + os.path.join(d, "%slog"), "exim_user = Debian-exim", "exim_group = Debian-exim",
            "never_users = root", "acl_smtp_rcpt = acl_rcpt", "host_lookup =", "rfc1413_hosts ="]
    if starttls_cert:
        os.chmod(starttls_cert[1], 0o644)
        conf += ["tls_advertise_hosts = *", "tls_certificate = " + starttls_cert[0],
                 "tls_privatekey = " + starttls_cert[1]]
    else:
        conf += ["tls_advertise_hosts ="]
    conf += ["begin acl", "acl_rcpt:", "  deny message = tenken test: no mail accepted"]
    path = os.path.join(d, "exim.conf")
    with open(path, "w") as f:
        f.write("\n".join(conf) + "\n")
    os.chmod(path, 0o644)
    return Daemon("exim-%d" % port, ["/usr/sbin/exim4", "-bdf", "-C", path], addr, port, workdir)


def tftpd(workdir, addr):
    port = free_port(addr)
    d = os.path.join(workdir, "tftp-%d" % port)
    os.mkdir(d)
    return Daemon("tftpd-%d" % port, ["/usr/sbin/in.tftpd", "-L", "-a", "%s:%d" % (addr, port), "-s", d, "-u", "tftp"],
                  addr, port, workdir, wait=False), port
