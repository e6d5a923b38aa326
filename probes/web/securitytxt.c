/* securitytxt.c - the bounded RFC 9116 security.txt parser (see securitytxt.h). */
#include "securitytxt.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "tk.h"

/* NONE: unsigned; HEADERS..SIGNATURE: inside a cleartext signature; AFTER: past it; IGNORE: past it, reported */
enum pgp_state { PGP_NONE, PGP_HEADERS, PGP_BODY, PGP_SIGNATURE, PGP_AFTER, PGP_IGNORE };

static void add_error(struct tk_sectxt *s, unsigned line, const char *fmt, ...)
{
	va_list ap;
	if (s->nerrors >= TK_SECTXT_ERRORS_MAX) {
		s->errors_more++;
		return;
	}
	s->errors[s->nerrors].line = line;
	va_start(ap, fmt);
	vsnprintf(s->errors[s->nerrors].msg, sizeof(s->errors[0].msg), fmt, ap);
	va_end(ap);
	s->nerrors++;
}

static bool line_is(const char *p, size_t n, const char *lit)
{
	size_t l = strlen(lit);
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--; /* armor lines may carry trailing white space */
	return n == l && memcmp(p, lit, l) == 0;
}

/* A URI scheme ("mailto:", "https:", "tel:") at the start of v; its length (without ':') or 0. */
static size_t uri_scheme(const char *v, size_t n)
{
	size_t i = 0;
	if (!n || !isalpha((unsigned char)v[0]))
		return 0;
	while (i < n && (isalnum((unsigned char)v[i]) || v[i] == '+' || v[i] == '-' || v[i] == '.'))
		i++;
	return i < n && v[i] == ':' && i + 1 < n ? i : 0;
}

static void field(struct tk_sectxt *s, unsigned ln, const char *name, size_t nl, const char *v, size_t vl,
		  time_t now)
{
	if (nl == 7 && strncasecmp(name, "Contact", 7) == 0) {
		size_t sl = uri_scheme(v, vl);
		if (vl == 0)
			add_error(s, ln, "Contact is empty");
		else if (sl == 0)
			add_error(s, ln, "Contact is not a URI (e.g. mailto:, https:, tel:)");
		else if (sl == 4 && strncasecmp(v, "http", 4) == 0)
			add_error(s, ln, "Contact is an http: URI (RFC 9116 2.5.3: web URIs must be https)");
		else
			s->contact_count++;
	} else if (nl == 7 && strncasecmp(name, "Expires", 7) == 0) {
		char buf[64];
		time_t t;
		s->expires_count++;
		if (s->expires_count > 1) {
			add_error(s, ln, "a second Expires (RFC 9116 2.5.5: exactly once)");
			s->expires_ok = false;
			return;
		}
		if (vl == 0 || vl >= sizeof(buf)) {
			add_error(s, ln, "Expires is not an RFC 3339 date-time");
			return;
		}
		memcpy(buf, v, vl);
		buf[vl] = '\0';
		if (vl <= 10 || (buf[10] != 'T' && buf[10] != 't') || tk_parse_time(buf, &t) != TK_OK) {
			add_error(s, ln, "Expires is not an RFC 3339 date-time");
			return;
		}
		s->expires_ok = true;
		s->expires = (long long)t;
		s->expired = t <= now;
		if (s->expired)
			add_error(s, ln, "Expires is in the past");
	}
	/* other fields (Encryption, Policy, Canonical, ...) are not judged */
}

/* One logical line (no line end); st the signature framing state. */
static void line(struct tk_sectxt *s, unsigned ln, const char *p, size_t n, enum pgp_state *st, time_t now)
{
	const char *colon, *v;
	size_t nl, vl, i;
	if (*st == PGP_HEADERS) {
		if (n == 0)
			*st = PGP_BODY; /* the blank line ends the armor headers ("Hash: SHA256") */
		return;
	}
	if (*st == PGP_SIGNATURE) {
		if (line_is(p, n, "-----END PGP SIGNATURE-----"))
			*st = PGP_AFTER;
		return;
	}
	if (*st == PGP_BODY) {
		if (line_is(p, n, "-----BEGIN PGP SIGNATURE-----")) {
			*st = PGP_SIGNATURE;
			return;
		}
		if (n >= 2 && p[0] == '-' && p[1] == ' ') {
			p += 2; /* dash-escaped (RFC 4880 7.1) */
			n -= 2;
		}
	}
	if (n == 0 || p[0] == '#')
		return;
	if (*st == PGP_NONE && s->lines == 0 && line_is(p, n, "-----BEGIN PGP SIGNED MESSAGE-----")) {
		*st = PGP_HEADERS;
		s->pgp_signed = true;
		return;
	}
	if (*st == PGP_AFTER) {
		add_error(s, ln, "content after the signature (ignored)");
		*st = PGP_IGNORE; /* reported once; fields outside the signed part are never read */
		return;
	}
	if (*st == PGP_IGNORE)
		return;
	s->lines++;
	colon = memchr(p, ':', n);
	if (!colon || colon == p) {
		add_error(s, ln, "not a \"Field: value\" line");
		return;
	}
	nl = (size_t)(colon - p);
	for (i = 0; i < nl; i++)
		if (!isalnum((unsigned char)p[i]) && p[i] != '-') {
			add_error(s, ln, "field name is not a token");
			return;
		}
	v = colon + 1;
	vl = n - nl - 1;
	while (vl && (*v == ' ' || *v == '\t')) {
		v++;
		vl--;
	}
	while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
		vl--;
	field(s, ln, p, nl, v, vl, now);
}

void tk_sectxt_parse(const char *data, size_t len, time_t now, struct tk_sectxt *out)
{
	enum pgp_state st = PGP_NONE;
	size_t off = 0;
	unsigned ln = 0;
	bool too_large = len > TK_SECTXT_MAX, binary;
	memset(out, 0, sizeof(*out));
	if (too_large) {
		add_error(out, 0, "larger than %u bytes: not read", (unsigned)TK_SECTXT_MAX);
		len = 0;
	}
	binary = data && len && memchr(data, '\0', len) != NULL;
	if (binary) {
		add_error(out, 0, "binary content (a NUL byte): not a text file");
		len = 0;
	}
	while (data && off < len) {
		const char *p = data + off, *eol = memchr(p, '\n', len - off);
		size_t n = eol ? (size_t)(eol - p) : len - off;
		off += n + (eol ? 1 : 0);
		ln++;
		if (n && p[n - 1] == '\r')
			n--;
		if (n > TK_SECTXT_LINE_MAX) {
			add_error(out, ln, "line longer than %u bytes (skipped)", (unsigned)TK_SECTXT_LINE_MAX);
			continue;
		}
		line(out, ln, p, n, &st, now);
	}
	if (st == PGP_HEADERS || st == PGP_BODY || st == PGP_SIGNATURE)
		add_error(out, ln, "OpenPGP signed message is not complete");
	if (!too_large && !binary) {
		if (out->contact_count == 0)
			add_error(out, 0, "no Contact (RFC 9116 2.5.3: required)");
		if (out->expires_count == 0)
			add_error(out, 0, "no Expires (RFC 9116 2.5.5: required)");
	}
	if (out->expires_count != 1)
		out->expires_ok = false;
	if (!out->expires_ok)
		out->expired = false;
	out->valid = !too_large && !binary && out->contact_count > 0 && out->expires_ok && !out->expired;
}
