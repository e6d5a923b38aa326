/*
 * legacyfp.c - the fingerprint state machine of the "legacy" probe (see
 * legacyfp.h). Every parse here reads a transcript the peer controls: all
 * indexing is bounded by rxlen, replies are bounded by the caller's buffer.
 */
#include "legacyfp.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

enum {
	S_GREET = 0,
	S_TELNET_MORE,
	S_FTP_FEAT,
	S_DISAMBIG,
	S_FTP_AUTH,
	S_FTP_USER,
	S_FTP_PASS,
	S_SMTP_EHLO,
	S_RPROTO,
	S_RPC,
	S_REDIS_PING,
	S_REDIS_INFO,
	S_MEMCACHED,
	S_PG_STARTUP,
	S_MYSQL_AUTH,
	S_MYSQL_SWITCH,
	S_BYE,
	S_DONE
};

#define TELNET_IAC 255
#define TELNET_DONT 254
#define TELNET_DO 253
#define TELNET_WONT 252
#define TELNET_WILL 251
#define TELNET_SB 250
#define TELNET_SE 240

#define RPC_XID 0x746b6e31u /* "tkn1" */
#define TK_LG_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const char *const proto_names[LG_P_COUNT] = {
	"unknown", "telnet", "ftp", "smtp", "rlogin", "rsh", "rexec", "rpcbind", "nfs", "rpc", "tftp", "ssh", "http",
	"redis", "memcached", "postgresql", "mysql",
};

static const char *const auth_names[] = {"unknown", "none", "required", "refused"};

const char *lg_auth_name(enum lg_auth a)
{
	return (unsigned)a < TK_LG_ARRAY_LEN(auth_names) ? auth_names[a] : "unknown";
}

bool lg_proto_datastore(enum lg_proto p)
{
	return p == LG_P_REDIS || p == LG_P_MEMCACHED || p == LG_P_POSTGRESQL || p == LG_P_MYSQL;
}

const char *lg_proto_name(enum lg_proto p)
{
	return (unsigned)p < LG_P_COUNT ? proto_names[p] : "unknown";
}

bool lg_proto_remote_operation(enum lg_proto p)
{
	switch (p) {
	case LG_P_TELNET: case LG_P_FTP: case LG_P_RLOGIN: case LG_P_RSH: case LG_P_REXEC:
	case LG_P_RPCBIND: case LG_P_NFS: case LG_P_TFTP:
		return true;
	default:
		return false;
	}
}

void lg_fp_init(struct lg_fp *f, uint16_t port, bool try_anonymous)
{
	memset(f, 0, sizeof(*f));
	f->port = port;
	f->try_anonymous = try_anonymous;
	f->greet_ms = 2500;
	f->stage_ms = 3000;
	f->r_status = -1;
	f->rpc_reply_stat = f->rpc_accept_stat = -1;
	f->how = "";
	f->ds_login = true;
	f->hint = lg_port_hint(port);
}

enum lg_proto lg_port_hint(uint16_t port)
{
	switch (port) {
	case 512: return LG_P_REXEC;
	case 513: return LG_P_RLOGIN;
	case 514: return LG_P_RSH;
	case 111: return LG_P_RPCBIND;
	case 2049: return LG_P_NFS;
	case 6379: return LG_P_REDIS;
	case 11211: return LG_P_MEMCACHED;
	case 5432: return LG_P_POSTGRESQL;
	default: return LG_P_UNKNOWN;
	}
}

static bool ci_contains(const unsigned char *p, size_t n, const char *needle)
{
	size_t nl = strlen(needle), i, k;
	if (nl == 0 || n < nl)
		return nl == 0;
	for (i = 0; i + nl <= n; i++) {
		for (k = 0; k < nl; k++)
			if (toupper(p[i + k]) != toupper((unsigned char)needle[k]))
				break;
		if (k == nl)
			return true;
	}
	return false;
}

/*
 * An FTP/SMTP-style reply (RFC 959 4.2, RFC 5321 4.2) starting at p: returns
 * its code when complete (*end = one past its last line), 0 when more bytes
 * are needed, -1 when it is not such a reply.
 */
static int reply_code(const unsigned char *p, size_t n, size_t *end)
{
	size_t i = 0;
	int code;
	bool multi;
	if (n < 4)
		return (n > 0 && !isdigit(p[0])) ? -1 : 0;
	if (!isdigit(p[0]) || !isdigit(p[1]) || !isdigit(p[2]) || (p[3] != ' ' && p[3] != '-' && p[3] != '\r'))
		return -1;
	code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
	multi = p[3] == '-';
	for (;;) {
		const unsigned char *nl = memchr(p + i, '\n', n - i);
		size_t ls = i;
		if (!nl)
			return 0;
		i = (size_t)(nl - p) + 1;
		if (!multi || (ls > 0 && n - ls >= 4 && memcmp(p + ls, p, 3) == 0 && p[ls + 3] == ' ')) {
			*end = i;
			return code;
		}
		if (i >= n)
			return 0;
	}
}

static bool telnet_neg_cmd(unsigned char c)
{
	return c >= TELNET_WILL && c <= TELNET_DONT;
}

/* Record the option negotiations in rx[from..rxlen) and build the refusals. */
static size_t telnet_refuse(struct lg_fp *f, const unsigned char *rx, size_t rxlen, unsigned char *out,
			    size_t outsize)
{
	size_t i = 0, o = 0;
	while (i < rxlen) {
		if (rx[i] == TELNET_IAC && i + 1 < rxlen) {
			unsigned char cmd = rx[i + 1];
			if (telnet_neg_cmd(cmd)) {
				unsigned char opt;
				if (i + 2 >= rxlen)
					break;
				opt = rx[i + 2];
				if (f->telnet_nopts < LG_FP_MAX_TELNET_OPTS) {
					f->telnet_cmd[f->telnet_nopts] = cmd;
					f->telnet_opt[f->telnet_nopts] = opt;
					f->telnet_nopts++;
					if ((cmd == TELNET_DO || cmd == TELNET_WILL) && o + 3 <= outsize) {
						out[o++] = TELNET_IAC;
						out[o++] = cmd == TELNET_DO ? TELNET_WONT : TELNET_DONT;
						out[o++] = opt;
					}
				}
				i += 3;
				continue;
			}
			i += 2;
			continue;
		}
		i++;
	}
	return o;
}

static bool looks_telnet(const unsigned char *rx, size_t n)
{
	size_t i, lim = n < 64 ? n : 64;
	for (i = 0; i + 1 < lim; i++)
		if (rx[i] == TELNET_IAC && telnet_neg_cmd(rx[i + 1]))
			return true;
	return false;
}

static size_t put(unsigned char *out, size_t outsize, const char *s, size_t n)
{
	if (n > outsize)
		n = outsize;
	memcpy(out, s, n);
	return n;
}

#define PUTS(s) put(out, outsize, (s), sizeof(s) - 1)

static void be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t rd32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* An ONC RPC v2 CALL (RFC 5531) with AUTH_NULL, framed with a TCP record mark. */
static size_t rpc_call(unsigned char *out, size_t outsize, uint32_t prog, uint32_t vers, uint32_t proc)
{
	uint32_t w[10] = {RPC_XID, 0, 2, prog, vers, proc, 0, 0, 0, 0};
	size_t i;
	if (outsize < 44)
		return 0;
	be32(out, 0x80000000u | 40u);
	for (i = 0; i < 10; i++)
		be32(out + 4 + 4 * i, w[i]);
	return 44;
}

bool lg_rpc_parse_reply(struct lg_fp *f, const unsigned char *p, size_t n, uint32_t xid, bool dump)
{
	size_t i = 4, rec;
	uint32_t vlen;
	if (n < 4 + 12)
		return false;
	rec = rd32(p) & 0x7fffffffu;
	if (rec < 12)
		return false;
	if (n > 4 + rec)
		n = 4 + rec;
	if (rd32(p + 4) != xid || rd32(p + 8) != 1) /* xid, REPLY */
		return false;
	f->rpc_reply_stat = (int)rd32(p + 12);
	i = 16;
	if (f->rpc_reply_stat != 0) /* MSG_DENIED: still an RPC server */
		return f->rpc_reply_stat == 1;
	if (f->rpc_reply_stat != 0 || n < i + 8)
		return true;
	vlen = rd32(p + i + 4); /* verifier: flavor, opaque<400> */
	if (vlen > 400)
		return true;
	i += 8 + ((vlen + 3u) & ~3u);
	if (n < i + 4)
		return true;
	f->rpc_accept_stat = (int)rd32(p + i);
	i += 4;
	if (!dump || f->rpc_accept_stat != 0)
		return true;
	/* pmaplist: { bool value_follows; mapping } ... */
	while (n >= i + 4 && rd32(p + i) == 1) {
		if (n < i + 20) {
			f->rpc_truncated = true;
			break;
		}
		if (f->rpc_nprogs >= LG_FP_MAX_RPC_PROGS) {
			f->rpc_truncated = true;
			break;
		}
		f->rpc_progs[f->rpc_nprogs].prog = rd32(p + i + 4);
		f->rpc_progs[f->rpc_nprogs].vers = rd32(p + i + 8);
		f->rpc_progs[f->rpc_nprogs].prot = rd32(p + i + 12);
		f->rpc_progs[f->rpc_nprogs].port = rd32(p + i + 16);
		f->rpc_nprogs++;
		i += 20;
	}
	if (n < i + 4)
		f->rpc_truncated = true;
	return true;
}

static enum lg_act finish(struct lg_fp *f, enum lg_proto p, const char *how)
{
	if (p != LG_P_UNKNOWN || f->proto == LG_P_UNKNOWN)
		f->proto = p;
	if (how)
		f->how = how;
	f->stage = S_DONE;
	f->wait_ms = 0;
	return LG_DONE;
}

static enum lg_act send_stage(struct lg_fp *f, int stage, size_t rxlen, size_t n, size_t *outlen)
{
	f->stage = stage;
	f->stage_off = rxlen;
	f->wait_ms = f->stage_ms;
	*outlen = n;
	return LG_SEND;
}

static enum lg_act bye(struct lg_fp *f, size_t rxlen, unsigned char *out, size_t outsize, size_t *outlen)
{
	enum lg_act a = send_stage(f, S_BYE, rxlen, PUTS("QUIT\r\n"), outlen);
	f->wait_ms = 500;
	return a;
}

/* Send raw bytes that end the dialog (a protocol's own goodbye), then wait briefly. */
static enum lg_act bye_raw(struct lg_fp *f, size_t rxlen, size_t n, size_t *outlen)
{
	enum lg_act a = send_stage(f, S_BYE, rxlen, n, outlen);
	f->wait_ms = 200;
	return a;
}

static enum lg_act ftp_after_auth(struct lg_fp *f, size_t rxlen, unsigned char *out, size_t outsize, size_t *outlen)
{
	if (f->try_anonymous)
		return send_stage(f, S_FTP_USER, rxlen, PUTS("USER anonymous\r\n"), outlen);
	return bye(f, rxlen, out, outsize, outlen);
}

static void feat_lines(struct lg_fp *f, const unsigned char *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		const unsigned char *nl = memchr(p + i, '\n', n - i);
		size_t le = nl ? (size_t)(nl - p) : n;
		if (ci_contains(p + i, le - i, "AUTH") && ci_contains(p + i, le - i, "TLS"))
			f->ftp_auth_tls = true;
		i = le + 1;
	}
}

static void ehlo_lines(struct lg_fp *f, const unsigned char *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		const unsigned char *nl = memchr(p + i, '\n', n - i);
		size_t le = nl ? (size_t)(nl - p) : n;
		if (le - i >= 12 && ci_contains(p + i + 4, le - i - 4, "STARTTLS"))
			f->smtp_starttls = true;
		i = le + 1;
	}
}

/* ---- data stores (Redis, memcached, PostgreSQL, MySQL/MariaDB): never a query, never data ---- */

static void set_version(struct lg_fp *f, const unsigned char *p, size_t n)
{
	size_t i, o = 0;
	for (i = 0; i < n && o + 1 < sizeof(f->ds_version); i++)
		if (p[i] >= 0x20 && p[i] < 0x7f)
			f->ds_version[o++] = (char)p[i];
	f->ds_version[o] = '\0';
}

static enum lg_act ds_done(struct lg_fp *f, enum lg_proto p, const char *how, enum lg_auth a, const char *auth_how)
{
	f->ds_auth = a;
	f->ds_auth_how = auth_how;
	return finish(f, p, how);
}

/* PostgreSQL StartupMessage v3.0 as user "postgres" to database "postgres" (no password is ever sent). */
static size_t pg_startup(unsigned char *out, size_t outsize)
{
	static const char params[] = "user\0postgres\0database\0postgres\0application_name\0tenken\0";
	size_t n = 8 + sizeof(params); /* sizeof includes the terminating NUL of the list */
	if (outsize < n)
		return 0;
	be32(out, (uint32_t)n);
	be32(out + 4, 196608u);
	memcpy(out + 8, params, sizeof(params));
	return n;
}

/*
 * A MySQL/MariaDB initial packet at rx: 1 = a handshake (v10) or an error
 * packet, complete; 0 = could be, wait; -1 = not MySQL.
 */
static int mysql_greeting(struct lg_fp *f, enum lg_ev ev, const unsigned char *rx, size_t rxlen)
{
	size_t len, i;
	if (rxlen < 5 || rx[3] != 0 || (rx[4] != 0x0a && rx[4] != 0xff))
		return -1;
	len = (size_t)rx[0] | (size_t)rx[1] << 8 | (size_t)rx[2] << 16;
	if (len < 3 || len > 4096)
		return -1;
	if (rxlen < 4 + len) {
		if (ev == LG_EV_DATA)
			return 0;
		f->truncated = "MySQL handshake packet cut short";
		return -1;
	}
	if (rx[4] == 0xff) /* ERR: code, message (e.g. 1130 host not allowed) */
		return 1;
	for (i = 5; i < 4 + len && rx[i] != 0; i++)
		if (rx[i] < 0x20 || rx[i] >= 0x7f)
			return -1;
	/* version NUL, thread id (4), scramble part 1 (8), filler (1), capabilities (2) */
	return i < 4 + len && i + 1 + 4 + 8 + 1 + 2 <= 4 + len ? 1 : -1;
}

static enum lg_act mysql_login(struct lg_fp *f, const unsigned char *rx, size_t rxlen, unsigned char *out,
			       size_t outsize, size_t *outlen)
{
	static const char plugin[] = "mysql_native_password";
	const uint32_t caps =
	    0x1u | 0x200u | 0x8000u | 0x80000u; /* LONG_PASSWORD PROTOCOL_41 SECURE_CONN PLUGIN_AUTH */
	size_t vlen = strnlen((const char *)rx + 5, rxlen - 5), o;
	f->proto = LG_P_MYSQL;
	f->how = "mysql-handshake";
	f->banner_off = 5;
	f->banner_len = rx[4] == 0xff ? rxlen - 5 : vlen;
	if (rx[4] == 0xff) {
		f->ds_error_code = rx[5] | rx[6] << 8;
		return ds_done(f, LG_P_MYSQL, NULL, LG_AUTH_REFUSED, "mysql-error-before-handshake");
	}
	set_version(f, rx + 5, vlen);
	/* capability flags (lower half) after version NUL, thread id, scramble, filler */
	if (!f->ds_login || !((rx[5 + vlen + 1 + 13] | rx[5 + vlen + 1 + 14] << 8) & 0x200) || outsize < 96)
		return ds_done(f, LG_P_MYSQL, NULL, LG_AUTH_UNKNOWN,
			       f->ds_login ? "mysql-no-protocol-41" : "login-not-tried");
	/* HandshakeResponse41: empty user name, empty auth response; no database. */
	o = 4;
	out[o++] = (unsigned char)caps;
	out[o++] = (unsigned char)(caps >> 8);
	out[o++] = (unsigned char)(caps >> 16);
	out[o++] = (unsigned char)(caps >> 24);
	memcpy(out + o, "\0\0\0\1", 4); /* max packet 16 MB (little-endian) */
	o += 4;
	out[o++] = 0x21; /* utf8 */
	memset(out + o, 0, 23);
	o += 23;
	out[o++] = 0; /* user "" */
	out[o++] = 0; /* auth response length 0 */
	memcpy(out + o, plugin, sizeof(plugin));
	o += sizeof(plugin);
	out[0] = (unsigned char)(o - 4);
	out[1] = 0;
	out[2] = 0;
	out[3] = 1; /* sequence */
	return send_stage(f, S_MYSQL_AUTH, rxlen, o, outlen);
}

/* One complete MySQL packet at r: its payload length, or -1 when incomplete. */
static long mysql_packet(const unsigned char *r, size_t rn)
{
	size_t len;
	if (rn < 4)
		return -1;
	len = (size_t)r[0] | (size_t)r[1] << 8 | (size_t)r[2] << 16;
	return rn >= 4 + len ? (long)len : -1;
}

static enum lg_act mysql_reply(struct lg_fp *f, enum lg_ev ev, const unsigned char *r, size_t rn, size_t rxlen,
			       unsigned char *out, size_t outsize, size_t *outlen)
{
	long len = mysql_packet(r, rn);
	if (len < 0) {
		if (ev == LG_EV_DATA)
			return LG_WAIT;
		f->truncated = rn ? "MySQL login reply cut short" : "no reply to the MySQL login";
		return finish(f, LG_P_MYSQL, NULL);
	}
	if (len >= 1 && r[4] == 0x00) { /* OK: logged in with an empty user and password */
		static const unsigned char quit[] = {1, 0, 0, 0, 1};
		f->ds_auth = LG_AUTH_NONE;
		f->ds_auth_how = "mysql-empty-login-ok";
		memcpy(out, quit, sizeof(quit));
		return bye_raw(f, rxlen, sizeof(quit), outlen);
	}
	if (len >= 3 && r[4] == 0xff) {
		f->ds_error_code = r[5] | r[6] << 8;
		if (len >= 9 && r[7] == '#') {
			memcpy(f->ds_sqlstate, r + 8, 5);
			f->ds_sqlstate[5] = '\0';
		}
		return ds_done(f, LG_P_MYSQL, NULL, f->ds_error_code == 1045 ? LG_AUTH_REQUIRED : LG_AUTH_REFUSED,
			       "mysql-empty-login-error");
	}
	if (len >= 1 && r[4] == 0xfe && f->stage == S_MYSQL_AUTH && outsize >= 4) {
		/* AuthSwitchRequest: answer with an empty auth response, next sequence number */
		out[0] = out[1] = out[2] = 0;
		out[3] = (unsigned char)(r[3] + 1);
		return send_stage(f, S_MYSQL_SWITCH, rxlen, 4, outlen);
	}
	/* AuthMoreData and the like: the server wants a credential */
	return ds_done(f, LG_P_MYSQL, NULL, LG_AUTH_REQUIRED, "mysql-auth-continues");
}

/* Complete PostgreSQL backend messages from r; stops at ReadyForQuery or an error. */
static enum lg_act pg_reply(struct lg_fp *f, enum lg_ev ev, const unsigned char *r, size_t rn, size_t rxlen,
			    unsigned char *out, size_t outsize, size_t *outlen)
{
	size_t i = 0;
	while (rn - i >= 5) {
		unsigned char t = r[i];
		uint32_t ml = rd32(r + i + 1);
		const unsigned char *b = r + i + 5;
		size_t bl;
		if (ml < 4 || ml > 65536 || !(t == 'R' || t == 'E' || t == 'S' || t == 'K' || t == 'N' || t == 'Z'))
			return i == 0 ? finish(f, LG_P_UNKNOWN, "unrecognised-reply")
				      : finish(f, LG_P_POSTGRESQL, NULL);
		if (i == 0 && t != 'R' && t != 'E')
			return finish(f, LG_P_UNKNOWN, "unrecognised-reply");
		if (rn - i < 1 + (size_t)ml)
			break;
		bl = ml - 4;
		f->proto = LG_P_POSTGRESQL;
		f->how = "postgresql-startup";
		if (t == 'R' && bl >= 4) {
			uint32_t code = rd32(b);
			if (code != 0)
				return ds_done(f, LG_P_POSTGRESQL, NULL, LG_AUTH_REQUIRED, "postgresql-auth-request");
			f->ds_auth = LG_AUTH_NONE; /* AuthenticationOk with no password: trust */
			f->ds_auth_how = "postgresql-authentication-ok";
		} else if (t == 'S' && bl > 15 && memcmp(b, "server_version", 15) == 0) {
			set_version(f, b + 15, strnlen((const char *)b + 15, bl - 15));
		} else if (t == 'E') {
			size_t k = 0;
			while (k < bl && b[k]) { /* fields: type byte, string */
				size_t sl = strnlen((const char *)b + k + 1, bl - k - 1);
				if (b[k] == 'C' && sl == 5) {
					memcpy(f->ds_sqlstate, b + k + 1, 5);
					f->ds_sqlstate[5] = '\0';
				}
				k += sl + 2;
			}
			if (f->ds_auth == LG_AUTH_NONE)
				return finish(f, LG_P_POSTGRESQL, NULL);
			/* 28000: no pg_hba.conf entry for us (refused before authentication) */
			return ds_done(f, LG_P_POSTGRESQL, NULL,
				       strcmp(f->ds_sqlstate, "28000") == 0   ? LG_AUTH_REFUSED
				       : strcmp(f->ds_sqlstate, "28P01") == 0 ? LG_AUTH_REQUIRED
									      : LG_AUTH_UNKNOWN,
				       "postgresql-error-response");
		} else if (t == 'Z') {
			static const unsigned char term[] = {'X', 0, 0, 0, 4};
			if (outsize < sizeof(term))
				return finish(f, LG_P_POSTGRESQL, NULL);
			memcpy(out, term, sizeof(term));
			return bye_raw(f, rxlen, sizeof(term), outlen);
		}
		i += 1 + ml;
	}
	if (ev == LG_EV_DATA)
		return LG_WAIT;
	if (f->proto != LG_P_POSTGRESQL || f->ds_auth == LG_AUTH_UNKNOWN)
		f->truncated = rn ? "PostgreSQL reply cut short" : "no reply to the PostgreSQL startup message";
	return finish(f, f->proto, NULL);
}

/* A Redis bulk string "$<n>\r\n<data>\r\n" at r: its data (NULL while incomplete). */
static const unsigned char *redis_bulk(const unsigned char *r, size_t rn, size_t *dl)
{
	const unsigned char *nl = rn > 1 && r[0] == '$' ? memchr(r, '\n', rn) : NULL;
	size_t n = 0, i;
	if (!nl)
		return NULL;
	for (i = 1; r + i < nl && isdigit(r[i]) && n < 1000000; i++)
		n = n * 10 + (size_t)(r[i] - '0');
	i = (size_t)(nl - r) + 1;
	if (rn < i + n)
		return NULL;
	*dl = n;
	return r + i;
}

static enum lg_act redis_reply(struct lg_fp *f, enum lg_ev ev, const unsigned char *r, size_t rn, size_t rxlen,
			       unsigned char *out, size_t outsize, size_t *outlen)
{
	const unsigned char *nl = memchr(r, '\n', rn);
	if (f->stage == S_REDIS_INFO) {
		size_t dl = 0, i;
		const unsigned char *d = redis_bulk(r, rn, &dl);
		if (!d && ev == LG_EV_DATA && rn < 6000)
			return LG_WAIT;
		for (i = 0; d && i + 14 <= dl; i++)
			if ((i == 0 || d[i - 1] == '\n') && memcmp(d + i, "redis_version:", 14) == 0) {
				const unsigned char *e = memchr(d + i + 14, '\r', dl - i - 14);
				set_version(f, d + i + 14, e ? (size_t)(e - d - i - 14) : 0);
			}
		return finish(f, LG_P_REDIS, NULL);
	}
	if (!nl) {
		if (ev == LG_EV_DATA && rn < 512)
			return LG_WAIT;
		if (rn)
			f->truncated = "Redis reply cut short";
		return finish(f, LG_P_UNKNOWN, rn ? "unrecognised-reply" : "silent");
	}
	f->banner_off = f->stage_off;
	f->banner_len = (size_t)(nl - r) + 1;
	f->proto = LG_P_REDIS;
	f->how = "redis-ping";
	if (rn >= 5 && memcmp(r, "+PONG", 5) == 0) {
		f->ds_auth = LG_AUTH_NONE;
		f->ds_auth_how = "redis-pong-without-auth";
		return send_stage(f, S_REDIS_INFO, rxlen, PUTS("INFO server\r\n"), outlen);
	}
	if (rn >= 7 && memcmp(r, "-NOAUTH", 7) == 0)
		return ds_done(f, LG_P_REDIS, NULL, LG_AUTH_REQUIRED, "redis-noauth");
	if (rn >= 7 && memcmp(r, "-DENIED", 7) == 0) /* protected mode */
		return ds_done(f, LG_P_REDIS, NULL, LG_AUTH_REFUSED, "redis-denied");
	f->proto = LG_P_UNKNOWN;
	return finish(f, LG_P_UNKNOWN, "unrecognised-reply");
}

static enum lg_act memcached_reply(struct lg_fp *f, enum lg_ev ev, const unsigned char *r, size_t rn)
{
	const unsigned char *nl = memchr(r, '\n', rn);
	if (!nl) {
		if (ev == LG_EV_DATA && rn < 512)
			return LG_WAIT;
		if (rn)
			f->truncated = "memcached reply cut short";
		return finish(f, LG_P_UNKNOWN, rn ? "unrecognised-reply" : "silent");
	}
	f->banner_off = f->stage_off;
	f->banner_len = (size_t)(nl - r) + 1;
	if (rn >= 8 && memcmp(r, "VERSION ", 8) == 0) {
		set_version(f, r + 8, (size_t)(nl - r) - 8);
		return ds_done(f, LG_P_MEMCACHED, "memcached-version", LG_AUTH_NONE, "memcached-version-without-auth");
	}
	if (rn >= 28 && memcmp(r, "CLIENT_ERROR unauthenticated", 28) == 0)
		return ds_done(f, LG_P_MEMCACHED, "memcached-version", LG_AUTH_REQUIRED, "memcached-unauthenticated");
	return finish(f, LG_P_UNKNOWN, "unrecognised-reply");
}

static enum lg_act ds_step(struct lg_fp *f, enum lg_ev ev, const unsigned char *rx, size_t rxlen,
			   unsigned char *out, size_t outsize, size_t *outlen)
{
	const unsigned char *r = rx + f->stage_off;
	size_t rn = rxlen - f->stage_off;
	switch (f->stage) {
	case S_REDIS_PING: case S_REDIS_INFO:
		return redis_reply(f, ev, r, rn, rxlen, out, outsize, outlen);
	case S_MEMCACHED:
		return memcached_reply(f, ev, r, rn);
	case S_PG_STARTUP:
		return pg_reply(f, ev, r, rn, rxlen, out, outsize, outlen);
	default:
		return mysql_reply(f, ev, r, rn, rxlen, out, outsize, outlen);
	}
}

static enum lg_act client_first(struct lg_fp *f, size_t rxlen, unsigned char *out, size_t outsize,
				size_t *outlen)
{
	static const char rexec_req[] = "0\0\0\0"; /* no stderr port; empty user, password, command */
	static const char rlogin_req[] = "\0tenken\0tenken\0dumb/9600";
	static const char rsh_req[] = "0\0tenken\0tenken\0true";
	f->silent = true;
	switch (f->hint) {
	case LG_P_REXEC:
		return send_stage(f, S_RPROTO, rxlen, put(out, outsize, rexec_req, sizeof(rexec_req)), outlen);
	case LG_P_RLOGIN:
		return send_stage(f, S_RPROTO, rxlen, put(out, outsize, rlogin_req, sizeof(rlogin_req)), outlen);
	case LG_P_RSH:
		return send_stage(f, S_RPROTO, rxlen, put(out, outsize, rsh_req, sizeof(rsh_req)), outlen);
	case LG_P_RPCBIND:
		return send_stage(f, S_RPC, rxlen, rpc_call(out, outsize, 100000, 2, 4), outlen);
	case LG_P_NFS:
		return send_stage(f, S_RPC, rxlen, rpc_call(out, outsize, 100003, 3, 0), outlen);
	case LG_P_REDIS:
		return send_stage(f, S_REDIS_PING, rxlen, PUTS("PING\r\n"), outlen);
	case LG_P_MEMCACHED:
		return send_stage(f, S_MEMCACHED, rxlen, PUTS("version\r\n"), outlen);
	case LG_P_POSTGRESQL:
		return send_stage(f, S_PG_STARTUP, rxlen, pg_startup(out, outsize), outlen);
	default:
		return finish(f, LG_P_UNKNOWN, "silent");
	}
}

static enum lg_act greet(struct lg_fp *f, enum lg_ev ev, const unsigned char *rx, size_t rxlen,
			 unsigned char *out, size_t outsize, size_t *outlen)
{
	size_t end = 0;
	int code;
	if (rxlen == 0) {
		if (ev == LG_EV_TIMEOUT)
			return client_first(f, rxlen, out, outsize, outlen);
		if (ev == LG_EV_EOF && (f->hint == LG_P_REXEC || f->hint == LG_P_RLOGIN || f->hint == LG_P_RSH)) {
			/* Debian's in.rshd closes at once on a client from an unprivileged source port,
			 * before any request: a heuristic, only on the r-service's port or a hint. */
			f->heuristic = true;
			return finish(f, f->hint, "r-service-closed-without-reply");
		}
		if (ev == LG_EV_EOF)
			return finish(f, LG_P_UNKNOWN, "closed-without-banner");
		return LG_WAIT;
	}
	f->banner_off = 0;
	f->banner_len = rxlen;
	/* First: a MySQL handshake carries binary capability bytes that may look like IAC. */
	switch (mysql_greeting(f, ev, rx, rxlen)) {
	case 1:
		return mysql_login(f, rx, rxlen, out, outsize, outlen);
	case 0:
		return LG_WAIT;
	default:
		break;
	}
	if (looks_telnet(rx, rxlen)) {
		size_t n = telnet_refuse(f, rx, rxlen, out, outsize);
		f->proto = LG_P_TELNET;
		f->how = "telnet-iac-negotiation";
		if (n == 0 && ev == LG_EV_DATA && rxlen < 64)
			return LG_WAIT; /* a negotiation cut short, or only refusals so far */
		if (n == 0 || ev == LG_EV_EOF)
			return finish(f, LG_P_TELNET, NULL);
		send_stage(f, S_TELNET_MORE, rxlen, n, outlen);
		f->wait_ms = 1000;
		return LG_SEND;
	}
	if (rxlen >= 4 && memcmp(rx, "SSH-", 4) == 0)
		return finish(f, LG_P_SSH, "ssh-version-string");
	if (rxlen >= 5 && memcmp(rx, "HTTP/", 5) == 0)
		return finish(f, LG_P_HTTP, "http-status-line");
	code = reply_code(rx, rxlen, &end);
	if (code == 0 && ev == LG_EV_DATA && rxlen < 4096)
		return LG_WAIT;
	if (code == 0 && rxlen >= 4 && memcmp(rx, "220", 3) == 0) {
		/* A 220 greeting that never finishes its line (4096+ bytes, or cut by EOF or the
		 * wait): still FTP (or SMTP when it says so); nothing more can be asked of it. */
		bool smtp = ci_contains(rx, rxlen, "SMTP") && !ci_contains(rx, rxlen, "FTP");
		f->banner_len = rxlen;
		f->ftp_greeting_code = 220;
		return finish(f, smtp ? LG_P_SMTP : LG_P_FTP, "220-unterminated-greeting");
	}
	if (code > 0) {
		f->banner_len = end;
		f->greeting_said_ftp = ci_contains(rx, end, "FTP");
		f->greeting_said_smtp = ci_contains(rx, end, "SMTP");
		f->ftp_greeting_code = code;
		if (code == 220 && f->greeting_said_smtp && !f->greeting_said_ftp) {
			f->proto = LG_P_SMTP; /* until EHLO says more */
			f->how = "smtp-220-greeting";
			return send_stage(f, S_SMTP_EHLO, rxlen, PUTS("EHLO tenken.invalid\r\n"), outlen);
		}
		if (code == 220)
			return send_stage(f, S_FTP_FEAT, rxlen, PUTS("FEAT\r\n"), outlen);
		if (f->greeting_said_ftp)
			return finish(f, LG_P_FTP, "ftp-reply-greeting");
		if (f->greeting_said_smtp)
			return finish(f, LG_P_SMTP, "smtp-reply-greeting");
		return finish(f, LG_P_UNKNOWN, "unrecognised-reply-code");
	}
	/* Something else: wait for a line (or a bounded amount), then call it unrecognised. */
	if (ev == LG_EV_DATA && !memchr(rx, '\n', rxlen) && rxlen < 128)
		return LG_WAIT;
	if (code == 0)
		f->truncated = "greeting reply cut short";
	return finish(f, LG_P_UNKNOWN, "unrecognised-banner");
}

/* The FTP/SMTP dialog stages: wait for one complete reply, then decide. */
static enum lg_act ftp_smtp_step(struct lg_fp *f, enum lg_ev ev, size_t rxlen, const unsigned char *r, size_t rn,
				 unsigned char *out, size_t outsize, size_t *outlen)
{
	size_t end = 0;
	int code;
	code = reply_code(r, rn, &end);
	if (code == 0 && ev == LG_EV_DATA)
		return LG_WAIT;
	if (code <= 0) { /* timeout, EOF or not a reply */
		if (f->stage == S_FTP_FEAT || f->stage == S_DISAMBIG) {
			if (f->greeting_said_ftp)
				return finish(f, LG_P_FTP, "ftp-220-greeting");
			if (f->greeting_said_smtp)
				return finish(f, LG_P_SMTP, "smtp-220-greeting");
			return finish(f, LG_P_UNKNOWN, "unrecognised-220-service");
		}
		return finish(f, f->proto, NULL);
	}
	switch (f->stage) {
	case S_FTP_FEAT:
		if (code / 100 == 2) {
			f->proto = LG_P_FTP;
			f->how = "ftp-220-feat";
			f->ftp_feat = true;
			f->ftp_auth_known = true;
			feat_lines(f, r, end);
			return ftp_after_auth(f, rxlen, out, outsize, outlen);
		}
		if (f->greeting_said_ftp) {
			f->proto = LG_P_FTP;
			f->how = "ftp-220-greeting";
			return send_stage(f, S_FTP_AUTH, rxlen, PUTS("AUTH TLS\r\n"), outlen);
		}
		return send_stage(f, S_DISAMBIG, rxlen, PUTS("EHLO tenken.invalid\r\n"), outlen);
	case S_DISAMBIG:
		if (code == 250) {
			f->proto = LG_P_SMTP;
			f->how = "smtp-ehlo";
			f->smtp_esmtp = true;
			f->smtp_ehlo_answered = true;
			ehlo_lines(f, r, end);
			return bye(f, rxlen, out, outsize, outlen);
		}
		f->proto = LG_P_FTP;
		f->how = "ftp-reply-codes";
		return send_stage(f, S_FTP_AUTH, rxlen, PUTS("AUTH TLS\r\n"), outlen);
	case S_FTP_AUTH:
		f->ftp_auth_known = true;
		if (code == 234 || code == 334) {
			/* The server now expects a TLS handshake: stop here (anonymous login left unchecked). */
			f->ftp_auth_tls = true;
			return finish(f, LG_P_FTP, NULL);
		}
		return ftp_after_auth(f, rxlen, out, outsize, outlen);
	case S_FTP_USER:
		f->ftp_anon_checked = true;
		if (code == 230) {
			f->ftp_anonymous = true;
			return bye(f, rxlen, out, outsize, outlen);
		}
		if (code == 331 || code == 332)
			return send_stage(f, S_FTP_PASS, rxlen, PUTS("PASS tenken@example.invalid\r\n"), outlen);
		return bye(f, rxlen, out, outsize, outlen);
	case S_FTP_PASS:
		f->ftp_anonymous = code == 230 || code == 202;
		return bye(f, rxlen, out, outsize, outlen);
	case S_SMTP_EHLO:
		f->proto = LG_P_SMTP;
		f->how = "smtp-220-ehlo";
		f->smtp_ehlo_answered = true;
		if (code == 250) {
			f->smtp_esmtp = true;
			ehlo_lines(f, r, end);
		}
		return bye(f, rxlen, out, outsize, outlen);
	default:
		return finish(f, f->proto, NULL);
	}
}

enum lg_act lg_fp_step(struct lg_fp *f, enum lg_ev ev, const unsigned char *rx, size_t rxlen,
		       unsigned char *out, size_t outsize, size_t *outlen)
{
	const unsigned char *r;
	size_t rn;
	*outlen = 0;
	if (ev == LG_EV_START) {
		f->stage = S_GREET;
		f->wait_ms = f->greet_ms;
		return LG_WAIT;
	}
	if (f->stage == S_GREET)
		return greet(f, ev, rx, rxlen, out, outsize, outlen);
	if (f->stage_off > rxlen)
		return finish(f, f->proto, NULL);
	r = rx + f->stage_off;
	rn = rxlen - f->stage_off;
	switch (f->stage) {
	case S_TELNET_MORE:
		/* Collect the login prompt after our refusals; negotiation continues meanwhile. */
		if (ev == LG_EV_DATA && rn < 64 && !memchr(r, ':', rn))
			return LG_WAIT;
		f->banner_len = rxlen;
		return finish(f, LG_P_TELNET, NULL);
	case S_BYE:
		return ev == LG_EV_DATA && !memchr(r, '\n', rn) ? LG_WAIT : finish(f, f->proto, NULL);
	case S_RPROTO: {
		enum lg_proto p = f->hint;
		if (rn == 0 && ev == LG_EV_EOF) {
			/* Silent through the greeting wait, then closed on our request without a status
			 * byte: what Debian's rexecd/rshd/rlogind do (bad request, unprivileged source
			 * port). A heuristic: only on the r-service's port or a port_hints entry. */
			f->heuristic = true;
			return finish(f, p, "r-protocol-closed-after-request");
		}
		if (rn == 0)
			return ev == LG_EV_DATA ? LG_WAIT : finish(f, LG_P_UNKNOWN, "silent");
		f->banner_off = f->stage_off;
		f->banner_len = rn;
		if (r[0] == 0 || r[0] == 1) {
			f->r_status = r[0];
			/* rlogind/rshd/rexecd: "\0" (go on) or "\1" + message + "\n" (RFC 1282, rexecd(8)) */
			if (r[0] == 1 && ev == LG_EV_DATA && !memchr(r, '\n', rn) && rn < 256)
				return LG_WAIT;
			if (r[0] == 1 && !memchr(r, '\n', rn) && rn < 256)
				f->truncated = "r-protocol error message cut short";
			return finish(f, p, "r-protocol-status-byte");
		}
		return finish(f, LG_P_UNKNOWN, "unrecognised-reply");
	}
	case S_RPC: {
		uint32_t rec;
		if (rn < 4) {
			if (ev == LG_EV_DATA)
				return LG_WAIT;
			if (rn)
				f->truncated = "RPC record mark cut short";
			return finish(f, LG_P_UNKNOWN, rn ? "unrecognised-reply" : "silent");
		}
		f->banner_off = f->stage_off;
		f->banner_len = 0;
		rec = rd32(r) & 0x7fffffffu;
		if (ev == LG_EV_DATA && rn < 4 + (size_t)rec && rec <= 65536)
			return LG_WAIT;
		if (!lg_rpc_parse_reply(f, r, rn, RPC_XID, f->hint == LG_P_RPCBIND)) {
			if (rn < 4 + (size_t)rec && rec <= 65536 && rn < 16)
				f->truncated = "RPC reply cut short";
			return finish(f, LG_P_UNKNOWN, "unrecognised-reply");
		}
		if (f->hint == LG_P_RPCBIND)
			return finish(f, LG_P_RPCBIND, "rpc-portmap-dump");
		if (f->rpc_accept_stat == 0 || f->rpc_accept_stat == 2) /* SUCCESS, PROG_MISMATCH */
			return finish(f, LG_P_NFS, "rpc-nfs-null");
		return finish(f, LG_P_RPC, "rpc-reply");
	}
	case S_REDIS_PING: case S_REDIS_INFO: case S_MEMCACHED: case S_PG_STARTUP: case S_MYSQL_AUTH:
	case S_MYSQL_SWITCH:
		return ds_step(f, ev, rx, rxlen, out, outsize, outlen);
	default:
		break;
	}
	return ftp_smtp_step(f, ev, rxlen, r, rn, out, outsize, outlen);
}

size_t lg_fp_banner(const struct lg_fp *f, const unsigned char *rx, size_t rxlen, unsigned char *out,
		    size_t outsize)
{
	size_t i, o = 0, end;
	if (f->banner_off >= rxlen)
		return 0;
	end = f->banner_off + f->banner_len;
	if (end > rxlen || end < f->banner_off)
		end = rxlen;
	for (i = f->banner_off; i < end && o < outsize; i++) {
		if (rx[i] == TELNET_IAC && i + 1 < end) {
			unsigned char c = rx[i + 1];
			if (c == TELNET_IAC) {
				out[o++] = TELNET_IAC;
				i++;
			} else if (telnet_neg_cmd(c)) {
				i += 2;
			} else if (c == TELNET_SB) {
				i += 2;
				while (i + 1 < end && !(rx[i] == TELNET_IAC && rx[i + 1] == TELNET_SE))
					i++;
				i++;
			} else {
				i++;
			}
			continue;
		}
		out[o++] = rx[i];
	}
	return o;
}

size_t lg_tftp_rrq(unsigned char *out, size_t outsize)
{
	static const char rrq[] = "\0\1tenken-probe-nonexistent\0octet"; /* RFC 1350: opcode 1 */
	return put(out, outsize, rrq, sizeof(rrq));
}

bool lg_tftp_is_reply(const unsigned char *p, size_t n)
{
	/* DATA (3) with block 1, ERROR (5) with a code 0-8, OACK (6; RFC 2347) */
	if (n < 4 || p[0] != 0)
		return false;
	if (p[1] == 3)
		return p[2] == 0 && p[3] == 1;
	if (p[1] == 5)
		return p[2] == 0 && p[3] <= 8;
	return p[1] == 6;
}
