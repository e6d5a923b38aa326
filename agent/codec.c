/*
 * codec.c - the one implementation of each small codec every room shares: base64 (standard and
 * URL alphabets), RFC 3339 / ISO 8601 timestamps, RFC 3986 percent-encoding, and XML character
 * references. Parsers take (ptr, len) and bound their output.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tk.h"

/* ---- base64 (RFC 4648) ---- */

static int b64_val(unsigned char c, enum tk_b64_alpha a)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-' && a != TK_B64_STD)
		return 62;
	if (c == '_' && a != TK_B64_STD)
		return 63;
	if (c == '+' && a != TK_B64_URL)
		return 62;
	if (c == '/' && a != TK_B64_URL)
		return 63;
	return -1;
}

bool tk_b64_decode(const char *s, size_t n, enum tk_b64_alpha alpha, unsigned char *out, size_t cap,
		   size_t *outlen)
{
	size_t i, o = 0, pad = 0;
	unsigned acc = 0;
	int bits = 0;
	bool saw_url = false, saw_std = false;
	while (n > 0 && s[n - 1] == '=') {
		n--;
		pad++;
	}
	if (pad > 2 || n % 4 == 1 || (pad && (n + pad) % 4 != 0))
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		int v = b64_val(c, alpha);
		if (v < 0)
			return false;
		if (c == '-' || c == '_')
			saw_url = true;
		if (c == '+' || c == '/')
			saw_std = true;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= cap)
				return false;
			out[o++] = (unsigned char)((acc >> bits) & 0xff);
		}
	}
	if (saw_url && saw_std)
		return false; /* mixed alphabets: not base64 of anything */
	/* Leftover bits must be zero in canonical encodings; tolerate as decoders do. */
	*outlen = o;
	return true;
}

char *tk_b64_encode(const unsigned char *p, size_t n, enum tk_b64_alpha alpha)
{
	static const char std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	static const char url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const char *tab = alpha == TK_B64_URL ? url : std;
	size_t i, o = 0;
	char *s;
	if (n > (SIZE_MAX - 1) / 4 * 3 - 3 || !(s = malloc(4 * ((n + 2) / 3) + 1)))
		return NULL;
	for (i = 0; i + 2 < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
		s[o++] = tab[v >> 18];
		s[o++] = tab[(v >> 12) & 63];
		s[o++] = tab[(v >> 6) & 63];
		s[o++] = tab[v & 63];
	}
	if (i < n) {
		unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0u);
		s[o++] = tab[v >> 18];
		s[o++] = tab[(v >> 12) & 63];
		if (i + 1 < n)
			s[o++] = tab[(v >> 6) & 63];
		if (alpha != TK_B64_URL) {
			if (i + 1 >= n)
				s[o++] = '=';
			s[o++] = '=';
		}
	}
	s[o] = '\0';
	return s;
}

/* ---- time ---- */

void tk_rfc3339(time_t t, char out[32])
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int tk_parse_time(const char *s, time_t *out)
{
	struct tm tm;
	int n = 0, y, mo, d, h = 0, mi = 0, se = 0;
	long off = 0;
	const char *p;
	time_t t;
	if (!s || sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
		return TK_ERR_PARSE;
	p = s + 10;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		int m = 0;
		if (sscanf(p + 1, "%2d:%2d:%2d%n", &h, &mi, &se, &m) != 3 || m != 8)
			return TK_ERR_PARSE;
		p += 9;
		if (*p == '.') {
			p++;
			if (!isdigit((unsigned char)*p))
				return TK_ERR_PARSE;
			while (isdigit((unsigned char)*p))
				p++;
		}
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			int oh, om, k = 0;
			if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &k) != 2 || k != 5 || oh > 23 || om > 59)
				return TK_ERR_PARSE;
			off = (oh * 3600L + om * 60L) * (*p == '+' ? 1 : -1);
			p += 6;
		} else {
			return TK_ERR_PARSE; /* a time without a zone is ambiguous: RFC 3339 requires one */
		}
	}
	if (*p || y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
		return TK_ERR_PARSE;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return TK_ERR_PARSE;
	*out = t - off;
	return TK_OK;
}

/* ---- RFC 3986 percent-encoding ---- */

char *tk_uri_encode(const char *s, bool keep_slash)
{
	size_t n = strlen(s), i, o = 0;
	char *out = malloc(n * 3 + 1);
	static const char hex[] = "0123456789ABCDEF";
	if (!out)
		return NULL;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return out;
}

/* ---- XML character references ---- */

static size_t utf8_put(unsigned long cp, char out[4])
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

size_t tk_xml_entity(const char *s, size_t n, char out[4], size_t *outlen)
{
	static const struct {
		const char *name;
		char c;
	} ents[] = {{"lt;", '<'}, {"gt;", '>'}, {"amp;", '&'}, {"quot;", '"'}, {"apos;", '\''}};
	size_t k, j;
	unsigned long cp = 0;
	bool hex;
	*outlen = 0;
	if (n < 3 || s[0] != '&')
		return 0;
	for (k = 0; k < TK_ARRAY_LEN(ents); k++) {
		size_t el = strlen(ents[k].name);
		if (n - 1 >= el && memcmp(s + 1, ents[k].name, el) == 0) {
			out[0] = ents[k].c;
			*outlen = 1;
			return el + 1;
		}
	}
	if (s[1] != '#')
		return 0;
	hex = s[2] == 'x';
	for (j = hex ? 3 : 2; j < n && j < 13 && s[j] != ';'; j++) {
		int d;
		char c = s[j];
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (hex && c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (hex && c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return 0;
		cp = cp * (hex ? 16 : 10) + (unsigned long)d;
		if (cp > 0x10FFFF)
			return 0;
	}
	if (j >= n || s[j] != ';' || j == (hex ? 3u : 2u) || cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	*outlen = utf8_put(cp, out);
	return j + 1;
}

/* ---- host:port ---- */

int tk_parse_hostport(const char *s, char *host, size_t hostsz, unsigned *port, const char **why)
{
	const char *h = s, *colon;
	size_t hl;
	long long p;
	*why = NULL;
	if (!s || !*s) {
		*why = "expected host:port";
		return TK_ERR_PARSE;
	}
	if (*h == '[') {
		const char *rb = strchr(h, ']');
		if (!rb || rb[1] != ':') {
			*why = "expected [IPv6]:port";
			return TK_ERR_PARSE;
		}
		hl = (size_t)(rb - h - 1);
		h++;
		colon = rb + 1;
	} else {
		colon = strrchr(h, ':');
		if (!colon || strchr(h, ':') != colon) {
			*why = "expected host:port (an IPv6 address in brackets)";
			return TK_ERR_PARSE;
		}
		hl = (size_t)(colon - h);
	}
	if (hl == 0 || hl >= hostsz) {
		*why = "host is empty or too long";
		return TK_ERR_PARSE;
	}
	if (tk_parse_ll(colon + 1, -999999999, 999999999, &p)) {
		*why = "port is not a number";
		return TK_ERR_PARSE;
	}
	if (p < 1 || p > 65535) {
		*why = "port out of range (1-65535)";
		return TK_ERR_PARSE;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (unsigned)p;
	return TK_OK;
}
