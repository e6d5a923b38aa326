/*
 * jsontok.c - pull tokenizer for JSON over a buffer (see jsontok.h).
 */
#include "jsontok.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tk_jt_fail(struct tk_jt *t, const char *what)
{
	if (t->i >= t->len)
		return tk_seterr(t->err, TK_ERR_PARSE,
				 "%s: malformed JSON: input ends early at byte offset %zu (truncated?)", t->name, t->len);
	return tk_seterr(t->err, TK_ERR_PARSE, "%s: malformed JSON at byte offset %zu of %zu: %s", t->name, t->i,
			 t->len, what);
}

void tk_jt_ws(struct tk_jt *t)
{
	while (t->i < t->len && (t->p[t->i] == ' ' || t->p[t->i] == '\t' || t->p[t->i] == '\n' || t->p[t->i] == '\r'))
		t->i++;
}

int tk_jt_peek(struct tk_jt *t)
{
	tk_jt_ws(t);
	return t->i < t->len ? (unsigned char)t->p[t->i] : -1;
}

int tk_jt_hex4(struct tk_jt *t, unsigned *out)
{
	unsigned v = 0;
	size_t k;
	if (t->i + 4 > t->len)
		return tk_jt_fail(t, "bad \\u escape");
	for (k = 0; k < 4; k++) {
		char c = t->p[t->i + k];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return tk_jt_fail(t, "bad \\u escape");
	}
	t->i += 4;
	*out = v;
	return TK_OK;
}

/*
 * A string at t->i (after whitespace). Decoded into out (cap bytes incl.
 * NUL) when out is non-NULL; *too_long set when it did not fit (the string
 * is still consumed).
 */
/*
 * The end of a run of plain string characters from i: the first '"', '\\'
 * or control character (< 0x20), or len. Eight bytes at a time (SWAR): a
 * word holds a stop byte when one of its bytes is zero after xor with '"' or
 * '\\', or is below 0x20; the byte loop then finds which. Strings are most
 * of a feed's bytes: this was a fifth of a 2,000-package scan's instructions.
 */
static size_t plain_run(const char *p, size_t i, size_t len)
{
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
	while (i + 8 <= len) {
		uint64_t w, q, b;
		memcpy(&w, p + i, 8);
		q = w ^ (ones * '"');
		b = w ^ (ones * '\\');
		if ((((q - ones) & ~q) | ((b - ones) & ~b) | ((w - ones * 0x20) & ~w)) & highs)
			break;
		i += 8;
	}
	while (i < len && (unsigned char)p[i] >= 0x20 && p[i] != '"' && p[i] != '\\')
		i++;
	return i;
}

int tk_jt_string(struct tk_jt *t, char *out, size_t cap, bool *too_long)
{
	size_t o = 0;
	if (too_long)
		*too_long = false;
	if (tk_jt_peek(t) != '"')
		return tk_jt_fail(t, "expected a string");
	t->i++;
	for (;;) {
		unsigned char c;
		unsigned cp;
		char enc[4];
		size_t n = 0, k, run = plain_run(t->p, t->i, t->len);
		/* fast path: a run of plain characters, copied at once */
		if (run > t->i) {
			if (out) {
				size_t m = run - t->i;
				if (o + m >= cap) {
					if (too_long && m)
						*too_long = o + m >= cap;
					m = cap > o + 1 ? cap - o - 1 : 0;
				}
				memcpy(out + o, t->p + t->i, m);
				o += m;
			}
			t->i = run;
		}
		if (t->i >= t->len)
			return tk_jt_fail(t, "unterminated string");
		c = (unsigned char)t->p[t->i++];
		if (c == '"')
			break;
		if (c < 0x20)
			return t->i--, tk_jt_fail(t, "control character in a string");
		if (c != '\\') {
			enc[n++] = (char)c;
		} else {
			if (t->i >= t->len)
				return tk_jt_fail(t, "unterminated string");
			c = (unsigned char)t->p[t->i++];
			switch (c) {
			case '"': case '\\': case '/': enc[n++] = (char)c; break;
			case 'b': enc[n++] = '\b'; break;
			case 'f': enc[n++] = '\f'; break;
			case 'n': enc[n++] = '\n'; break;
			case 'r': enc[n++] = '\r'; break;
			case 't': enc[n++] = '\t'; break;
			case 'u':
				if (tk_jt_hex4(t, &cp))
					return t->err->rc;
				if (cp >= 0xD800 && cp <= 0xDBFF && t->i + 6 <= t->len && t->p[t->i] == '\\' &&
				    t->p[t->i + 1] == 'u') {
					unsigned lo;
					t->i += 2;
					if (tk_jt_hex4(t, &lo))
						return t->err->rc;
					if (lo >= 0xDC00 && lo <= 0xDFFF)
						cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				}
				if (cp < 0x80) {
					enc[n++] = (char)cp;
				} else if (cp < 0x800) {
					enc[n++] = (char)(0xC0 | (cp >> 6));
					enc[n++] = (char)(0x80 | (cp & 0x3F));
				} else if (cp < 0x10000) {
					enc[n++] = (char)(0xE0 | (cp >> 12));
					enc[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
					enc[n++] = (char)(0x80 | (cp & 0x3F));
				} else {
					enc[n++] = (char)(0xF0 | (cp >> 18));
					enc[n++] = (char)(0x80 | ((cp >> 12) & 0x3F));
					enc[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
					enc[n++] = (char)(0x80 | (cp & 0x3F));
				}
				break;
			default: t->i--; return tk_jt_fail(t, "bad escape in a string");
			}
		}
		if (!out)
			continue;
		for (k = 0; k < n; k++) {
			if (o + 1 < cap)
				out[o++] = enc[k];
			else if (too_long)
				*too_long = true;
		}
	}
	if (out)
		out[o] = '\0';
	return TK_OK;
}


/* Iterate an object: call with *first = true at '{'; returns 1 with the key decoded, 0 at '}'. */
int tk_jt_member(struct tk_jt *t, bool *first, char *key, size_t cap, bool *too_long, int *rc)
{
	int c;
	*rc = TK_OK;
	if (*first) {
		if (tk_jt_peek(t) != '{') {
			*rc = tk_jt_fail(t, "expected an object");
			return -1;
		}
		t->i++;
		if (tk_jt_peek(t) == '}') {
			t->i++;
			return 0;
		}
		*first = false;
	} else {
		c = tk_jt_peek(t);
		if (c == '}') {
			t->i++;
			return 0;
		}
		if (c != ',') {
			*rc = tk_jt_fail(t, "expected ',' or '}'");
			return -1;
		}
		t->i++;
	}
	if ((*rc = tk_jt_string(t, key, cap, too_long)))
		return -1;
	if (tk_jt_peek(t) != ':') {
		*rc = tk_jt_fail(t, "expected ':'");
		return -1;
	}
	t->i++;
	return 1;
}

int tk_jt_literal(struct tk_jt *t, const char *lit)
{
	size_t n = strlen(lit);
	if (t->i + n > t->len || memcmp(t->p + t->i, lit, n) != 0)
		return tk_jt_fail(t, "invalid literal");
	t->i += n;
	return TK_OK;
}

int tk_jt_skip(struct tk_jt *t, int depth)
{
	int c = tk_jt_peek(t), rc;
	if (depth > TK_JT_MAX_DEPTH)
		return tk_jt_fail(t, "nested too deeply");
	if (c == '"')
		return tk_jt_string(t, NULL, 0, NULL);
	if (c == '{') {
		bool first = true, tl;
		int r;
		while ((r = tk_jt_member(t, &first, NULL, 0, &tl, &rc)) == 1)
			if ((rc = tk_jt_skip(t, depth + 1)))
				return rc;
		return r < 0 ? rc : TK_OK;
	}
	if (c == '[') {
		t->i++;
		if (tk_jt_peek(t) == ']') {
			t->i++;
			return TK_OK;
		}
		for (;;) {
			if ((rc = tk_jt_skip(t, depth + 1)))
				return rc;
			c = tk_jt_peek(t);
			if (c == ']') {
				t->i++;
				return TK_OK;
			}
			if (c != ',')
				return tk_jt_fail(t, "expected ',' or ']'");
			t->i++;
		}
	}
	if (c == 't')
		return tk_jt_literal(t, "true");
	if (c == 'f')
		return tk_jt_literal(t, "false");
	if (c == 'n')
		return tk_jt_literal(t, "null");
	if (c == '-' || (c >= '0' && c <= '9')) {
		size_t st = t->i;
		if (t->p[t->i] == '-')
			t->i++;
		if (t->i >= t->len || !(t->p[t->i] >= '0' && t->p[t->i] <= '9'))
			return tk_jt_fail(t, "invalid number");
		while (t->i < t->len &&
		       ((t->p[t->i] >= '0' && t->p[t->i] <= '9') || t->p[t->i] == '.' || t->p[t->i] == 'e' ||
			t->p[t->i] == 'E' || t->p[t->i] == '+' || t->p[t->i] == '-'))
			t->i++;
		(void)st;
		return TK_OK;
	}
	return tk_jt_fail(t, "expected a value");
}

/* A string value into buf, or skip a non-string (then *is_str false). */
int tk_jt_str_or_skip(struct tk_jt *t, char *buf, size_t cap, bool *is_str, bool *too_long)
{
	*is_str = tk_jt_peek(t) == '"';
	if (*is_str)
		return tk_jt_string(t, buf, cap, too_long);
	*too_long = false;
	return tk_jt_skip(t, 1);
}


/* Iterate an array: *first true at '['; 1 when an element follows, 0 at ']'. */
int tk_jt_elem(struct tk_jt *t, bool *first, int *rc)
{
	int c;
	*rc = TK_OK;
	if (*first) {
		if (tk_jt_peek(t) != '[') {
			*rc = tk_jt_fail(t, "expected an array");
			return -1;
		}
		t->i++;
		*first = false;
		if (tk_jt_peek(t) == ']') {
			t->i++;
			return 0;
		}
		return 1;
	}
	c = tk_jt_peek(t);
	if (c == ']') {
		t->i++;
		return 0;
	}
	if (c != ',') {
		*rc = tk_jt_fail(t, "expected ',' or ']'");
		return -1;
	}
	t->i++;
	return 1;
}

int tk_jt_number(struct tk_jt *t, double *out, bool *is_num)
{
	size_t st;
	char tmp[64];
	int c = tk_jt_peek(t);
	*is_num = c == '-' || (c >= '0' && c <= '9');
	if (!*is_num)
		return tk_jt_skip(t, 1);
	st = t->i;
	if (tk_jt_skip(t, 1))
		return t->err->rc;
	if (t->i - st >= sizeof(tmp)) {
		*is_num = false;
		return TK_OK;
	}
	memcpy(tmp, t->p + st, t->i - st);
	tmp[t->i - st] = '\0';
	*out = strtod(tmp, NULL);
	return TK_OK;
}

/* true/false, anything else skipped as "not true". */
int tk_jt_bool(struct tk_jt *t, bool *out)
{
	int c = tk_jt_peek(t);
	*out = false;
	if (c == 't') {
		*out = true;
		return tk_jt_literal(t, "true");
	}
	return tk_jt_skip(t, 1);
}
