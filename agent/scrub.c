/* scrub.c - credentials out of server text before any truncation (see scrub.h). */
#include "scrub.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tk.h"

#define SCRUB_MAX (64u << 20)

static const char *find(const char *h, size_t hl, const char *n, size_t nl)
{
	size_t i;
	if (nl == 0 || hl < nl)
		return NULL;
	for (i = 0; i + nl <= hl; i++)
		if (h[i] == n[0] && memcmp(h + i, n, nl) == 0)
			return h + i;
	return NULL;
}

/* the working copies held the credentials: wipe before freeing */
static void wipe(struct tk_buf *b)
{
	if (b->data)
		OPENSSL_cleanse(b->data, b->len);
	tk_buf_free(b);
}

static int put_redacted(struct tk_buf *o, const char *s, size_t n)
{
	char fp[24], r[48];
	tk_fingerprint(s, n, fp);
	snprintf(r, sizeof(r), "[redacted %s]", fp);
	return tk_buf_append(o, r, strlen(r));
}

/* Replace every occurrence of needle in *b (a NUL-free view of len bytes). */
static int replace_all(struct tk_buf *b, const char *needle, size_t nl)
{
	struct tk_buf o;
	size_t i = 0;
	const char *d = b->data ? b->data : "";
	bool hit = false;
	if (nl < 4 || b->len < nl)
		return TK_OK;
	tk_buf_init(&o, SCRUB_MAX);
	while (i < b->len) {
		const char *p = i + nl <= b->len ? find(d + i, b->len - i, needle, nl) : NULL;
		if (!p) {
			if (tk_buf_append(&o, d + i, b->len - i))
				goto nomem;
			break;
		}
		hit = true;
		if (tk_buf_append(&o, d + i, (size_t)(p - (d + i))) || put_redacted(&o, needle, nl))
			goto nomem;
		i = (size_t)(p - d) + nl;
	}
	if (!hit) {
		tk_buf_free(&o);
		return TK_OK;
	}
	wipe(b);
	*b = o;
	return TK_OK;
nomem:
	tk_buf_free(&o);
	return TK_ERR_NOMEM;
}

static char *url_encode(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s), i, k = 0;
	char *o = malloc(n * 3 + 1);
	if (!o)
		return NULL;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
			o[k++] = (char)c;
		} else {
			o[k++] = '%';
			o[k++] = hex[c >> 4];
			o[k++] = hex[c & 15];
		}
	}
	o[k] = '\0';
	return o;
}

static bool tokch(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '+' || c == '/' ||
	       c == '=';
}

static bool b64urlch(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '_';
}

static size_t span(const char *p, size_t n, bool (*ok)(char))
{
	size_t i = 0;
	while (i < n && ok(p[i]))
		i++;
	return i;
}

static bool upalnum(char c)
{
	return isupper((unsigned char)c) || isdigit((unsigned char)c);
}

static bool keych(char c)
{
	return isalnum((unsigned char)c) || c == '/' || c == '+';
}

/* Credential-named keys whose value is redacted (matched case-insensitively, whole word). */
static const char *const key_names[] = {
	"client_secret", "client_assertion", "assertion", "access_token", "refresh_token", "id_token",
	"password", "passwd", "secret", "secret_access_key", "aws_secret_access_key", "SecretAccessKey",
	"SessionToken", "aws_session_token", "security_token", "X-Amz-Security-Token", "Signature",
	"private_key", "api_key", "apikey", "token", "Credential", NULL};

/*
 * A credential-named key at p (p is at a word start): the offset of its value
 * and the value's length, or false.
 */
static bool key_value(const char *p, size_t n, size_t *voff, size_t *vlen)
{
	size_t k;
	for (k = 0; key_names[k]; k++) {
		size_t kl = strlen(key_names[k]), i;
		if (kl >= n || strncasecmp(p, key_names[k], kl) != 0)
			continue;
		i = kl;
		if (isalnum((unsigned char)p[i]) || p[i] == '_')
			continue; /* a longer word */
		/* separators: =  ":"  ": "  ':  >  (XML) */
		if (p[i] == '"' || p[i] == '\'')
			i++;
		while (i < n && p[i] == ' ')
			i++;
		if (i < n && (p[i] == '=' || p[i] == ':' || p[i] == '>')) {
			bool xml = p[i] == '>';
			i++;
			while (i < n && p[i] == ' ')
				i++;
			if (!xml && i < n && (p[i] == '"' || p[i] == '\''))
				i++;
			if (n - i >= 9 && strncmp(p + i, "[redacted", 9) == 0)
				return false; /* already replaced */
			*voff = i;
			*vlen = 0;
			while (i < n && p[i] != '&' && p[i] != '"' && p[i] != '\'' && p[i] != '<' && p[i] != ',' &&
			       p[i] != ';' && p[i] != '}' && p[i] != ' ' && p[i] != '\n' && p[i] != '\r' &&
			       p[i] != '\t') {
				i++;
				(*vlen)++;
			}
			return *vlen >= 4;
		}
	}
	return false;
}

/* Credential shapes, one pass. */
static int shapes(const char *d, size_t n, struct tk_buf *o)
{
	size_t i = 0, copied = 0;
	while (i < n) {
		bool word_start = i == 0 || !isalnum((unsigned char)d[i - 1]);
		size_t l, voff, vlen;
		/* PEM private key block */
		if (d[i] == '-' && n - i > 11 && strncmp(d + i, "-----BEGIN ", 11) == 0) {
			const char *e = find(d + i + 11, n - i - 11, "-----", 5);
			if (e && e - (d + i) < 80 && find(d + i, (size_t)(e - (d + i)), "PRIVATE KEY", 11)) {
				const char *end = find(e + 5, n - (size_t)(e + 5 - d), "-----END ", 9);
				const char *close = end ? find(end + 9, n - (size_t)(end + 9 - d), "-----", 5) : NULL;
				l = close ? (size_t)(close + 5 - (d + i)) : n - i;
				goto redact;
			}
		}
		if (word_start) {
			/* Bearer TOKEN: keep the word, redact the token */
			if (n - i > 7 && strncasecmp(d + i, "Bearer ", 7) == 0 &&
			    (l = span(d + i + 7, n - i - 7, tokch)) >= 8) {
				if (tk_buf_append(o, d + copied, i + 7 - copied))
					return TK_ERR_NOMEM;
				copied = i += 7;
				goto redact;
			}
			/* JWT / JWS: eyJ + base64url, then '.' segments */
			if (n - i > 10 && strncmp(d + i, "eyJ", 3) == 0) {
				size_t a = span(d + i, n - i, b64urlch);
				if (a >= 8 && i + a < n && d[i + a] == '.') {
					l = a;
					while (i + l < n && d[i + l] == '.')
						l += 1 + span(d + i + l + 1, n - i - l - 1, b64urlch);
					goto redact;
				}
			}
			/* Google OAuth access token */
			if (n - i > 5 && strncmp(d + i, "ya29.", 5) == 0 &&
			    (l = 5 + span(d + i + 5, n - i - 5, tokch)) >= 13)
				goto redact;
			/* AWS access key id */
			if (n - i >= 20 && isupper((unsigned char)d[i]) && d[i] == 'A' &&
			    (!strncmp(d + i, "AKIA", 4) || !strncmp(d + i, "ASIA", 4) || !strncmp(d + i, "AROA", 4) ||
			     !strncmp(d + i, "AIDA", 4) || !strncmp(d + i, "AGPA", 4) || !strncmp(d + i, "AIPA", 4) ||
			     !strncmp(d + i, "ANPA", 4) || !strncmp(d + i, "ANVA", 4) || !strncmp(d + i, "ABIA", 4) ||
			     !strncmp(d + i, "ACCA", 4))) {
				size_t k = 4;
				while (k < 20 && upalnum(d[i + k]))
					k++;
				if (k == 20 && (i + 20 == n || !upalnum(d[i + 20]))) {
					l = 20;
					goto redact;
				}
			}
			/* credential-named key = value */
			if (key_value(d + i, n - i, &voff, &vlen)) {
				if (tk_buf_append(o, d + copied, i + voff - copied))
					return TK_ERR_NOMEM;
				copied = i += voff;
				l = vlen;
				goto redact;
			}
			/* a 40-character AWS-secret-like run (upper, lower and digit, [A-Za-z0-9/+]) */
			if (keych(d[i]) && (i == 0 || (!keych(d[i - 1]) && d[i - 1] != '='))) {
				size_t k = span(d + i, n - i, keych), j;
				bool up = false, lo = false, dg = false;
				if (k == 40 && (i + k == n || d[i + k] != '=')) {
					for (j = 0; j < k; j++) {
						up |= isupper((unsigned char)d[i + j]) != 0;
						lo |= islower((unsigned char)d[i + j]) != 0;
						dg |= isdigit((unsigned char)d[i + j]) != 0;
					}
					if (up && lo && dg) {
						l = k;
						goto redact;
					}
				}
			}
		}
		i++;
		continue;
redact:
		if (tk_buf_append(o, d + copied, i - copied) || put_redacted(o, d + i, l))
			return TK_ERR_NOMEM;
		i += l;
		copied = i;
	}
	return tk_buf_append(o, d + copied, n - copied);
}

char *tk_scrub_dup(const char *in, size_t len, const char *const *secrets)
{
	struct tk_buf b, o;
	size_t k;
	char *res;
	tk_buf_init(&b, SCRUB_MAX);
	tk_buf_init(&o, SCRUB_MAX);
	if (tk_buf_append(&b, in ? in : "", in ? len : 0))
		goto nomem;
	/* longest first would be ideal; secrets rarely contain each other, and a
	 * replaced one no longer matches a later (shorter) one */
	for (k = 0; secrets && secrets[k]; k++) {
		char *enc;
		if (replace_all(&b, secrets[k], strlen(secrets[k])))
			goto nomem;
		if (!(enc = url_encode(secrets[k])))
			goto nomem;
		if (strcmp(enc, secrets[k]) != 0 && replace_all(&b, enc, strlen(enc))) {
			free(enc);
			goto nomem;
		}
		free(enc);
	}
	if (shapes(b.data ? b.data : "", b.len, &o))
		goto nomem;
	wipe(&b);
	res = o.data ? tk_buf_steal(&o) : strdup("");
	return res;
nomem:
	wipe(&b);
	wipe(&o);
	return NULL;
}

void tk_scrub_inplace(char *msg, size_t size, const char *const *secrets)
{
	char *s;
	if (!msg || !size)
		return;
	s = tk_scrub_dup(msg, strnlen(msg, size), secrets);
	if (!s) {
		snprintf(msg, size, "(message withheld: out of memory while removing credentials)");
		return;
	}
	snprintf(msg, size, "%s", s);
	free(s);
}

void tk_scrub_buf(struct tk_buf *b, const char *const *secrets)
{
	char *s;
	size_t l;
	if (!b || !b->data || !b->len)
		return;
	s = tk_scrub_dup(b->data, b->len, secrets);
	OPENSSL_cleanse(b->data, b->len);
	tk_buf_reset(b);
	if (!s)
		return; /* out of memory: the body is dropped, never kept unscrubbed */
	l = strlen(s);
	if (l > b->max)
		l = b->max;
	if (tk_buf_append(b, s, l))
		tk_buf_reset(b);
	free(s);
}
