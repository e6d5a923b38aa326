/*
 * capparse.c - see capparse.h. Decoders read only within caplen; the stream
 * reader never copies a secret anywhere but into tk_fingerprint().
 */
#include "capparse.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "tk.h"

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

bool tk_cap_linktype_supported(int lt)
{
	switch (lt) {
	case TK_LINKTYPE_NULL: case TK_LINKTYPE_ETHERNET: case TK_LINKTYPE_RAW: case 12: case 14:
	case TK_LINKTYPE_LOOP: case TK_LINKTYPE_LINUX_SLL: case TK_LINKTYPE_IPV4: case TK_LINKTYPE_IPV6:
	case TK_LINKTYPE_LINUX_SLL2:
		return true;
	default:
		return false;
	}
}

const char *tk_cap_linktype_name(int lt)
{
	switch (lt) {
	case TK_LINKTYPE_NULL: return "null";
	case TK_LINKTYPE_ETHERNET: return "ethernet";
	case TK_LINKTYPE_RAW: case 12: case 14: return "raw";
	case TK_LINKTYPE_LOOP: return "loop";
	case TK_LINKTYPE_LINUX_SLL: return "linux-sll";
	case TK_LINKTYPE_IPV4: return "ipv4";
	case TK_LINKTYPE_IPV6: return "ipv6";
	case TK_LINKTYPE_LINUX_SLL2: return "linux-sll2";
	default: return "unsupported";
	}
}

static enum tk_cap_dec decode_tcp(const uint8_t *p, size_t n, size_t iplen_payload, struct tk_cap_pkt *o)
{
	size_t off;
	if (n < 20)
		return TK_CAP_TRUNCATED;
	off = (size_t)(p[12] >> 4) * 4;
	if (off < 20)
		return TK_CAP_MALFORMED;
	if (iplen_payload < off)
		return TK_CAP_MALFORMED;
	if (n < off)
		return TK_CAP_TRUNCATED;
	o->sport = be16(p);
	o->dport = be16(p + 2);
	o->seq = be32(p + 4);
	o->flags = p[13];
	o->payload = p + off;
	/* The IP length bounds the payload (Ethernet padding is not data); the capture may be shorter. */
	o->plen = iplen_payload - off;
	if (o->plen > n - off)
		o->plen = n - off;
	return TK_CAP_TCP;
}

static enum tk_cap_dec decode_ip(const uint8_t *p, size_t n, struct tk_cap_pkt *o)
{
	if (n < 1)
		return TK_CAP_TRUNCATED;
	if ((p[0] >> 4) == 4) {
		size_t ihl, tot;
		if (n < 20)
			return TK_CAP_TRUNCATED;
		ihl = (size_t)(p[0] & 0x0f) * 4;
		tot = be16(p + 2);
		if (ihl < 20 || tot < ihl)
			return TK_CAP_MALFORMED;
		if (n < ihl)
			return TK_CAP_TRUNCATED;
		if ((be16(p + 6) & 0x3fff) != 0) /* MF or a fragment offset */
			return TK_CAP_FRAGMENT;
		if (p[9] != 6)
			return TK_CAP_NOT_TCP;
		o->af = 4;
		memset(o->src, 0, sizeof(o->src));
		memset(o->dst, 0, sizeof(o->dst));
		memcpy(o->src, p + 12, 4);
		memcpy(o->dst, p + 16, 4);
		return decode_tcp(p + ihl, n - ihl, tot - ihl, o);
	}
	if ((p[0] >> 4) == 6) {
		size_t off = 40, plen;
		uint8_t nh;
		int hops = 0;
		if (n < 40)
			return TK_CAP_TRUNCATED;
		plen = be16(p + 4);
		nh = p[6];
		o->af = 6;
		memcpy(o->src, p + 8, 16);
		memcpy(o->dst, p + 24, 16);
		while (nh != 6) {
			size_t el;
			if (nh == 44)
				return TK_CAP_FRAGMENT;
			if (nh != 0 && nh != 43 && nh != 60)
				return TK_CAP_NOT_TCP;
			if (++hops > 8)
				return TK_CAP_MALFORMED;
			if (n < off + 2)
				return TK_CAP_TRUNCATED;
			el = ((size_t)p[off + 1] + 1) * 8;
			nh = p[off];
			off += el;
			if (off > 40 + plen)
				return TK_CAP_MALFORMED;
		}
		if (n < off)
			return TK_CAP_TRUNCATED;
		if (40 + plen < off)
			return TK_CAP_MALFORMED;
		return decode_tcp(p + off, n - off, 40 + plen - off, o);
	}
	return TK_CAP_MALFORMED;
}

static enum tk_cap_dec by_ethertype(uint16_t et, const uint8_t *p, size_t n, struct tk_cap_pkt *o)
{
	if (et == 0x0800 || et == 0x86DD)
		return decode_ip(p, n, o);
	return TK_CAP_NOT_TCP;
}

enum tk_cap_dec tk_cap_decode(int lt, const uint8_t *p, size_t n, struct tk_cap_pkt *o)
{
	memset(o, 0, sizeof(*o));
	switch (lt) {
	case TK_LINKTYPE_ETHERNET: {
		size_t off = 12;
		uint16_t et;
		int tags = 0;
		if (n < 14)
			return TK_CAP_TRUNCATED;
		et = be16(p + off);
		off += 2;
		while ((et == 0x8100 || et == 0x88A8 || et == 0x9100) && tags++ < 2) {
			if (n < off + 4)
				return TK_CAP_TRUNCATED;
			et = be16(p + off + 2);
			off += 4;
		}
		return by_ethertype(et, p + off, n - off, o);
	}
	case TK_LINKTYPE_LINUX_SLL:
		if (n < 16)
			return TK_CAP_TRUNCATED;
		return by_ethertype(be16(p + 14), p + 16, n - 16, o);
	case TK_LINKTYPE_LINUX_SLL2:
		if (n < 20)
			return TK_CAP_TRUNCATED;
		return by_ethertype(be16(p), p + 20, n - 20, o);
	case TK_LINKTYPE_RAW: case 12: case 14: case TK_LINKTYPE_IPV4: case TK_LINKTYPE_IPV6:
		return decode_ip(p, n, o);
	case TK_LINKTYPE_NULL: case TK_LINKTYPE_LOOP: {
		uint32_t fam;
		if (n < 4)
			return TK_CAP_TRUNCATED;
		/* NULL: host byte order of the capturing machine; LOOP: network order. Accept both. */
		fam = be32(p);
		if (lt == TK_LINKTYPE_NULL && (fam & 0xffff) == 0)
			fam = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
		if (fam == 2 || fam == 10 || fam == 24 || fam == 28 || fam == 30)
			return decode_ip(p + 4, n - 4, o);
		return TK_CAP_NOT_TCP;
	}
	default:
		return TK_CAP_UNSUPPORTED;
	}
}

/* ---- conversation reader ---- */

struct xb {
	char *s;
	size_t n, size;
};

static void xputs(struct xb *x, const char *s)
{
	while (*s && x->n + 1 < x->size)
		x->s[x->n++] = *s++;
	x->s[x->n] = '\0';
}

/* Append bytes with control and non-ASCII bytes escaped. */
static void xesc(struct xb *x, const uint8_t *p, size_t n, size_t max)
{
	size_t i;
	for (i = 0; i < n && i < max; i++) {
		char t[8];
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\') {
			t[0] = (char)p[i];
			t[1] = '\0';
		} else {
			snprintf(t, sizeof(t), "\\x%02x", p[i]);
		}
		xputs(x, t);
	}
	if (n > max)
		xputs(x, "...");
}

static void redacted(struct xb *x, const uint8_t *secret, size_t n, char fp_out[24])
{
	char fp[24];
	tk_fingerprint(secret, n, fp);
	xputs(x, "<redacted ");
	xputs(x, fp);
	xputs(x, ">");
	if (fp_out && !fp_out[0])
		memcpy(fp_out, fp, sizeof(fp));
}

static struct tk_cap_finding *add(struct tk_cap_finding *out, int max, int *count, const char *proto,
				  const char *what, bool cred, bool legacy)
{
	struct tk_cap_finding *f = NULL;
	if (*count < max) {
		f = &out[*count];
		memset(f, 0, sizeof(*f));
		snprintf(f->protocol, sizeof(f->protocol), "%s", proto);
		snprintf(f->what, sizeof(f->what), "%s", what);
		f->credential = cred;
		f->legacy = legacy;
	}
	(*count)++;
	return f;
}

static inline uint8_t lc(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

static bool ci_prefix_n(const uint8_t *p, size_t n, const char *pre, size_t l)
{
	size_t k;
	if (n < l)
		return false;
	for (k = 0; k < l; k++)
		if (lc(p[k]) != lc((uint8_t)pre[k]))
			return false;
	return true;
}

static bool ci_prefix(const uint8_t *p, size_t n, const char *pre)
{
	return ci_prefix_n(p, n, pre, strlen(pre));
}

static const uint8_t *ci_find(const uint8_t *p, size_t n, const char *needle)
{
	size_t l = strlen(needle), i;
	uint8_t f0;
	if (l == 0 || n < l)
		return NULL;
	f0 = lc((uint8_t)needle[0]);
	for (i = 0; i + l <= n; i++)
		if (lc(p[i]) == f0 && ci_prefix_n(p + i, n - i, needle, l))
			return p + i;
	return NULL;
}

static bool iac_neg(const uint8_t *p, size_t n)
{
	size_t i, lim = n < 64 ? n : 64;
	for (i = 0; i + 1 < lim; i++)
		if (p[i] == 255 && p[i + 1] >= 251 && p[i + 1] <= 254)
			return true;
	return false;
}

/* The printable text of a TELNET stream (IAC sequences removed), escaped. */
static void telnet_text(struct xb *x, const uint8_t *p, size_t n, size_t max)
{
	uint8_t t[128];
	size_t i, o = 0;
	for (i = 0; i < n && o < sizeof(t) && o < max; i++) {
		if (p[i] == 255 && i + 1 < n) {
			if (p[i + 1] >= 251 && p[i + 1] <= 254)
				i += 2;
			else if (p[i + 1] == 250) {
				while (i + 1 < n && !(p[i] == 255 && p[i + 1] == 240))
					i++;
				i++;
			} else
				i++;
			continue;
		}
		if (p[i] != '\r' && p[i] != '\n' && p[i] != 0)
			t[o++] = p[i];
		else if (o > 0 && t[o - 1] != ' ')
			t[o++] = ' ';
		/* Stop at the first prompt: what follows may be the server echoing what the user typed. */
		if (p[i] == ':')
			break;
	}
	xesc(x, t, o, max);
}

/* Lines of the client stream: calls fn for each complete line (without CR LF). */
static size_t line_at(const uint8_t *p, size_t n, size_t i, size_t *ll)
{
	const uint8_t *nl = memchr(p + i, '\n', n - i);
	size_t e;
	if (!nl)
		return 0;
	e = (size_t)(nl - p);
	*ll = e - i;
	if (*ll > 0 && p[e - 1] == '\r')
		(*ll)--;
	return e + 1;
}

static void analyze_ftp(const uint8_t *c, size_t cl, struct tk_cap_finding *out, int max, int *count)
{
	size_t i = 0, ll, next;
	const uint8_t *user = NULL;
	size_t ulen = 0;
	bool any = false;
	int lines = 0;
	while (i < cl && (next = line_at(c, cl, i, &ll)) != 0 && lines++ < 10000) {
		const uint8_t *l = c + i;
		if (ll >= 5 && ci_prefix(l, ll, "USER ")) {
			user = l + 5;
			ulen = ll - 5;
		} else if (ll >= 4 && ci_prefix(l, ll, "PASS") && (ll == 4 || l[4] == ' ')) {
			const uint8_t *pw = ll > 5 ? l + 5 : l + ll;
			size_t pl = ll > 5 ? ll - 5 : 0;
			bool anon = user && ((ulen == 9 && ci_prefix(user, ulen, "anonymous")) ||
					     (ulen == 3 && ci_prefix(user, ulen, "ftp")));
			struct tk_cap_finding *f =
			    add(out, max, count, "ftp", anon ? "ftp-anonymous-login" : "ftp-password", !anon && pl > 0,
				true);
			any = true;
			if (f) {
				struct xb x = {f->excerpt, 0, sizeof(f->excerpt)};
				xputs(&x, "USER ");
				if (!user)
					xputs(&x, "(not seen)");
				else if (anon)
					xesc(&x, user, ulen, 16);
				else
					redacted(&x, user, ulen, NULL);
				xputs(&x, " / PASS ");
				if (anon)
					xputs(&x, "<anonymous e-mail, not recorded>");
				else
					redacted(&x, pw, pl, f->fingerprint);
			}
			user = NULL;
		}
		i = next;
	}
	if (!any) {
		struct tk_cap_finding *f = add(out, max, count, "ftp", "ftp-session", false, true);
		if (f)
			snprintf(f->excerpt, sizeof(f->excerpt), "cleartext FTP control connection (no login seen)");
	}
}

/* NUL-terminated fields at p: returns how many (up to max) were complete; starts/lengths out. */
static int nul_fields(const uint8_t *p, size_t n, const uint8_t **s, size_t *l, int max)
{
	size_t i = 0;
	int k = 0;
	while (k < max && i < n) {
		const uint8_t *z = memchr(p + i, 0, n - i);
		if (!z)
			break;
		s[k] = p + i;
		l[k] = (size_t)(z - (p + i));
		k++;
		i = (size_t)(z - p) + 1;
	}
	return k;
}

static bool all_digits(const uint8_t *p, size_t n)
{
	size_t i;
	if (n == 0 || n > 5)
		return false;
	for (i = 0; i < n; i++)
		if (!isdigit(p[i]))
			return false;
	return true;
}

static void token_param(const uint8_t *p, size_t n, const char *name, const char *what, const char *ctx_line,
			struct tk_cap_finding *out, int max, int *count)
{
	size_t nl = strlen(name), i;
	uint8_t f0 = lc((uint8_t)name[0]);
	for (i = 0; i + nl <= n; i++) {
		const uint8_t *v;
		size_t vl = 0;
		struct tk_cap_finding *f;
		if (lc(p[i]) != f0 || !ci_prefix_n(p + i, n - i, name, nl) ||
		    (i > 0 && (isalnum(p[i - 1]) || p[i - 1] == '_')))
			continue;
		v = p + i + nl;
		while (i + nl + vl < n && !strchr("& \r\n\"';,#", v[vl]) && v[vl] != 0)
			vl++;
		if (vl == 0)
			continue;
		f = add(out, max, count, "http", what, true, false);
		if (f) {
			struct xb x = {f->excerpt, 0, sizeof(f->excerpt)};
			xputs(&x, ctx_line);
			xputs(&x, "; ");
			xputs(&x, name);
			redacted(&x, v, vl, f->fingerprint);
		}
		return; /* one per request and parameter */
	}
}

static bool http_method(const uint8_t *p, size_t n, size_t *mlen)
{
	static const char *const m[] = {"GET ", "POST ", "PUT ", "DELETE ", "PATCH ", "HEAD ", "OPTIONS ", NULL};
	size_t k;
	for (k = 0; m[k]; k++)
		if (n >= strlen(m[k]) && memcmp(p, m[k], strlen(m[k])) == 0) {
			*mlen = strlen(m[k]) - 1;
			return true;
		}
	return false;
}

static bool analyze_http(const uint8_t *c, size_t cl, struct tk_cap_finding *out, int max, int *count)
{
	size_t i = 0, mlen;
	int reqs = 0;
	bool seen = false;
	while (i < cl && reqs++ < 1000 && http_method(c + i, cl - i, &mlen)) {
		const uint8_t *req = c + i, *hend;
		size_t rl, hl, body = 0, ll, next, j;
		char ctx_line[120];
		struct xb cx = {ctx_line, 0, sizeof(ctx_line)};
		const uint8_t *tgt, *q;
		size_t tl;
		seen = true;
		hend = (const uint8_t *)ci_find(req, cl - i, "\r\n\r\n");
		hl = hend ? (size_t)(hend - req) + 4 : cl - i;
		if (!line_at(req, hl, 0, &rl))
			rl = hl;
		/* "METHOD /path HTTP/1.1" with the query cut (it may hold tokens) */
		tgt = req + mlen + 1;
		tl = rl > mlen + 1 ? rl - mlen - 1 : 0;
		q = memchr(tgt, ' ', tl);
		if (q)
			tl = (size_t)(q - tgt);
		xesc(&cx, req, mlen, mlen);
		xputs(&cx, " ");
		q = memchr(tgt, '?', tl);
		xesc(&cx, tgt, q ? (size_t)(q - tgt) : tl, 60);
		if (q)
			xputs(&cx, "?...");
		/* headers */
		j = 0;
		while ((next = line_at(req, hl, j, &ll)) != 0) {
			const uint8_t *h = req + j;
			if (ll > 14 && ci_prefix(h, ll, "authorization:")) {
				const uint8_t *v = h + 14;
				size_t vl = ll - 14;
				while (vl && (*v == ' ' || *v == '\t')) {
					v++;
					vl--;
				}
				if (vl > 7 && ci_prefix(v, vl, "bearer ")) {
					struct tk_cap_finding *f =
					    add(out, max, count, "http", "http-bearer-token", true, false);
					if (f) {
						struct xb x = {f->excerpt, 0, sizeof(f->excerpt)};
						xputs(&x, ctx_line);
						xputs(&x, "; Authorization: Bearer ");
						redacted(&x, v + 7, vl - 7, f->fingerprint);
					}
				} else if (vl > 6 && ci_prefix(v, vl, "basic ")) {
					struct tk_cap_finding *f =
					    add(out, max, count, "http", "http-basic-credentials", true, false);
					if (f) {
						struct xb x = {f->excerpt, 0, sizeof(f->excerpt)};
						xputs(&x, ctx_line);
						xputs(&x, "; Authorization: Basic ");
						redacted(&x, v + 6, vl - 6, f->fingerprint);
					}
				}
			} else if (ll > 15 && ci_prefix(h, ll, "content-length:")) {
				long long v = 0;
				size_t k = 15;
				while (k < ll && h[k] == ' ')
					k++;
				for (; k < ll && isdigit(h[k]) && v < (1LL << 40); k++)
					v = v * 10 + (h[k] - '0');
				body = (size_t)v;
			}
			j = next;
		}
		token_param(req, rl, "access_token=", "http-access-token", ctx_line, out, max, count);
		token_param(req, rl, "refresh_token=", "http-refresh-token", ctx_line, out, max, count);
		if (!hend)
			break;
		i += hl;
		if (body > cl - i)
			body = cl - i;
		token_param(c + i, body, "access_token=", "http-access-token", ctx_line, out, max, count);
		token_param(c + i, body, "refresh_token=", "http-refresh-token", ctx_line, out, max, count);
		i += body;
	}
	return seen;
}

int tk_cap_analyze(const uint8_t *c, size_t cl, const uint8_t *s, size_t sl, uint16_t sport,
		   struct tk_cap_finding *out, int max)
{
	int count = 0;
	const uint8_t *fs[4];
	size_t fl[4];
	size_t dummy;
	if (cl == 0 && sl == 0)
		return 0;
	/* TELNET: option negotiation on either side, or the TELNET port with traffic. */
	if (iac_neg(s, sl) || iac_neg(c, cl) || (sport == 23 && (cl || sl))) {
		bool pw = ci_find(s, sl, "assword") != NULL && cl > 0;
		struct tk_cap_finding *f =
		    add(out, max, &count, "telnet", pw ? "telnet-password" : "telnet-session", pw, true);
		if (f) {
			struct xb x = {f->excerpt, 0, sizeof(f->excerpt)};
			xputs(&x, "server: ");
			telnet_text(&x, s, sl, 80);
			if (pw) {
				xputs(&x, " / client keystrokes ");
				redacted(&x, c, cl, f->fingerprint);
			}
		}
		return count;
	}
	/* rlogin (RFC 1282): "\0" local-user "\0" remote-user "\0" terminal/speed "\0" */
	if (cl >= 4 && c[0] == 0 && nul_fields(c + 1, cl - 1, fs, fl, 3) == 3 && memchr(fs[2], '/', fl[2])) {
		bool pw = ci_find(s, sl, "assword") != NULL;
		struct tk_cap_finding *f =
		    add(out, max, &count, "rlogin", pw ? "rlogin-password" : "rlogin-session", pw, true);
		if (f) {
			struct xb x = {f->excerpt, 0, sizeof(f->excerpt)};
			xputs(&x, "rlogin user ");
			redacted(&x, fs[1], fl[1], NULL);
			xputs(&x, " terminal ");
			xesc(&x, fs[2], fl[2], 24);
		}
		return count;
	}
	/* rsh/rexec: stderr-port "\0" user "\0" (user | password) "\0" command "\0" */
	if (cl >= 5 && nul_fields(c, cl, fs, fl, 4) == 4 && all_digits(fs[0], fl[0])) {
		bool rexec = sport == 512;
		struct tk_cap_finding *f = add(out, max, &count, rexec ? "rexec" : "rsh",
					       rexec ? "rexec-password" : "rsh-session", rexec && fl[2] > 0, true);
		if (f) {
			struct xb x = {f->excerpt, 0, sizeof(f->excerpt)};
			char t[64];
			xputs(&x, rexec ? "rexec user " : "rsh local user ");
			redacted(&x, fs[1], fl[1], NULL);
			xputs(&x, rexec ? " password " : " remote user ");
			redacted(&x, fs[2], fl[2], rexec ? f->fingerprint : NULL);
			snprintf(t, sizeof(t), " command (%zu bytes, not recorded)", fl[3]);
			xputs(&x, t);
		}
		return count;
	}
	if (analyze_http(c, cl, out, max, &count))
		return count;
	/* FTP control connection: the FTP port, a 220 greeting, or USER and PASS lines. */
	if (sport == 21 || (sl >= 4 && memcmp(s, "220", 3) == 0 && line_at(c, cl, 0, &dummy) &&
			    (ci_find(c, cl, "USER ") || ci_find(c, cl, "FEAT") || ci_find(c, cl, "AUTH ")) &&
			    !ci_find(c, cl, "EHLO") && !ci_find(c, cl, "HELO")) ||
	    (ci_find(c, cl, "USER ") && ci_find(c, cl, "\nPASS"))) {
		if (!(cl >= 8 && ci_prefix(c, cl, "AUTH TLS")))
			analyze_ftp(c, cl, out, max, &count);
	}
	return count;
}
