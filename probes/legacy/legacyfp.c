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

static const char *const proto_names[LG_P_COUNT] = {
	"unknown", "telnet", "ftp", "smtp", "rlogin", "rsh", "rexec", "rpcbind", "nfs", "rpc", "tftp", "ssh", "http",
};

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
	f->hint = port == 512 ? LG_P_REXEC : port == 513 ? LG_P_RLOGIN : port == 514 ? LG_P_RSH
		: port == 111 ? LG_P_RPCBIND : port == 2049 ? LG_P_NFS : LG_P_UNKNOWN;
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
		if (ev == LG_EV_EOF)
			return finish(f, LG_P_UNKNOWN, "closed-without-banner");
		return LG_WAIT;
	}
	f->banner_off = 0;
	f->banner_len = rxlen;
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
	if (code > 0) {
		f->banner_len = end;
		f->greeting_said_ftp = ci_contains(rx, end, "FTP");
		f->greeting_said_smtp = ci_contains(rx, end, "SMTP");
		f->ftp_greeting_code = code;
		if (code == 220 && f->greeting_said_smtp && !f->greeting_said_ftp)
			return send_stage(f, S_SMTP_EHLO, rxlen, PUTS("EHLO tenken.invalid\r\n"), outlen);
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
	return finish(f, LG_P_UNKNOWN, "unrecognised-banner");
}

enum lg_act lg_fp_step(struct lg_fp *f, enum lg_ev ev, const unsigned char *rx, size_t rxlen,
		       unsigned char *out, size_t outsize, size_t *outlen)
{
	const unsigned char *r;
	size_t rn, end = 0;
	int code;
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
		if (rn == 0)
			return ev == LG_EV_DATA ? LG_WAIT : finish(f, LG_P_UNKNOWN, "silent");
		f->banner_off = f->stage_off;
		f->banner_len = rn;
		if (r[0] == 0 || r[0] == 1) {
			f->r_status = r[0];
			/* rlogind/rshd/rexecd: "\0" (go on) or "\1" + message + "\n" (RFC 1282, rexecd(8)) */
			if (r[0] == 1 && ev == LG_EV_DATA && !memchr(r, '\n', rn) && rn < 256)
				return LG_WAIT;
			return finish(f, p, "r-protocol-status-byte");
		}
		return finish(f, LG_P_UNKNOWN, "unrecognised-reply");
	}
	case S_RPC: {
		uint32_t rec;
		if (rn < 4)
			return ev == LG_EV_DATA ? LG_WAIT : finish(f, LG_P_UNKNOWN, rn ? "unrecognised-reply" : "silent");
		f->banner_off = f->stage_off;
		f->banner_len = 0;
		rec = rd32(r) & 0x7fffffffu;
		if (ev == LG_EV_DATA && rn < 4 + (size_t)rec && rec <= 65536)
			return LG_WAIT;
		if (!lg_rpc_parse_reply(f, r, rn, RPC_XID, f->hint == LG_P_RPCBIND))
			return finish(f, LG_P_UNKNOWN, "unrecognised-reply");
		if (f->hint == LG_P_RPCBIND)
			return finish(f, LG_P_RPCBIND, "rpc-portmap-dump");
		if (f->rpc_accept_stat == 0 || f->rpc_accept_stat == 2) /* SUCCESS, PROG_MISMATCH */
			return finish(f, LG_P_NFS, "rpc-nfs-null");
		return finish(f, LG_P_RPC, "rpc-reply");
	}
	default:
		break;
	}
	/* FTP/SMTP dialog stages: wait for one complete reply. */
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
		if (code == 250) {
			f->smtp_esmtp = true;
			ehlo_lines(f, r, end);
		}
		return bye(f, rxlen, out, outsize, outlen);
	default:
		return finish(f, f->proto, NULL);
	}
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
