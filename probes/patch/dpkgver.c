/*
 * dpkgver.c - Debian version comparison, the algorithm of dpkg's
 * verrevcmp() over length-carrying spans (see dpkgver.h).
 */
#include "dpkgver.h"

#include <limits.h>
#include <string.h>

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* dpkg's order(): digits 0, letters themselves, '~' -1, end 0, others c+256. */
static int order(int c)
{
	if (is_digit(c))
		return 0;
	if (is_alpha(c))
		return c;
	if (c == '~')
		return -1;
	if (c)
		return c + 256;
	return 0;
}

static int verrevcmp(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t i = 0, j = 0;
#define AC (i < alen ? (unsigned char)a[i] : 0)
#define BC (j < blen ? (unsigned char)b[j] : 0)
	while (i < alen || j < blen) {
		int first_diff = 0;
		while ((AC && !is_digit(AC)) || (BC && !is_digit(BC))) {
			int ac = order(AC), bc = order(BC);
			if (ac != bc)
				return ac - bc;
			i++;
			j++;
		}
		while (AC == '0')
			i++;
		while (BC == '0')
			j++;
		while (is_digit(AC) && is_digit(BC)) {
			if (!first_diff)
				first_diff = AC - BC;
			i++;
			j++;
		}
		if (is_digit(AC))
			return 1;
		if (is_digit(BC))
			return -1;
		if (first_diff)
			return first_diff;
		/* an embedded NUL ends the string for dpkg */
		if ((i < alen && !a[i]) || (j < blen && !b[j]))
			break;
	}
#undef AC
#undef BC
	return 0;
}

int tk_dpkgver_parse(const char *s, size_t len, struct tk_dpkgver *out, const char **why)
{
	const char *end, *colon, *hyphen, *p;
	size_t i;
	memset(out, 0, sizeof(*out));
	out->rev = "";
	*why = NULL;
	while (len > 0 && is_blank((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len > 0 && is_blank((unsigned char)s[len - 1]))
		len--;
	if (len == 0)
		return *why = "version string is empty", -1;
	if (memchr(s, '\0', len))
		return *why = "version string has an embedded NUL", -1;
	for (i = 0; i < len; i++)
		if (is_blank((unsigned char)s[i]))
			return *why = "version string has embedded spaces", -1;
	end = s + len;
	colon = memchr(s, ':', len);
	if (colon) {
		/* strtol() semantics, as dpkg: an optional sign, then digits */
		unsigned long e = 0;
		bool neg = false;
		p = s;
		if (p < colon && (*p == '+' || *p == '-')) {
			neg = *p == '-';
			p++;
		}
		if (p == colon)
			return *why = "epoch in version is empty", -1;
		for (; p < colon; p++) {
			if (!is_digit((unsigned char)*p))
				return *why = "epoch in version is not number", -1;
			if (e > (unsigned long)INT_MAX / 10 ||
			    e * 10 + (unsigned long)(*p - '0') > (unsigned long)INT_MAX)
				return *why = "epoch in version is too big", -1;
			e = e * 10 + (unsigned long)(*p - '0');
		}
		if (neg && e > 0)
			return *why = "epoch in version is negative", -1;
		out->epoch = e;
		s = colon + 1;
	}
	hyphen = NULL;
	for (p = s; p < end; p++)
		if (*p == '-')
			hyphen = p;
	out->ver = s;
	out->vlen = (size_t)((hyphen ? hyphen : end) - s);
	if (hyphen) {
		out->rev = hyphen + 1;
		out->rlen = (size_t)(end - hyphen - 1);
	}
	if (out->vlen == 0)
		return *why = "version number is empty", -1;
	/* dpkg 1.21 (Debian 12) refuses "1.0-"; later dpkg accepts it as an empty revision */
	if (hyphen && out->rlen == 0)
		return *why = "revision number is empty", -1;
	if (!is_digit((unsigned char)out->ver[0]))
		out->warned = true;
	for (i = 0; i < out->vlen; i++) {
		int c = (unsigned char)out->ver[i];
		if (!is_digit(c) && !is_alpha(c) && !strchr(".-+~:", c))
			out->warned = true;
	}
	for (i = 0; i < out->rlen; i++) {
		int c = (unsigned char)out->rev[i];
		if (!is_digit(c) && !is_alpha(c) && !strchr(".+~", c))
			out->warned = true;
	}
	return 0;
}

int tk_dpkgver_cmp_parsed(const struct tk_dpkgver *a, const struct tk_dpkgver *b)
{
	int rc;
	if (a->epoch > b->epoch)
		return 1;
	if (a->epoch < b->epoch)
		return -1;
	if ((rc = verrevcmp(a->ver, a->vlen, b->ver, b->vlen)))
		return rc;
	return verrevcmp(a->rev, a->rlen, b->rev, b->rlen);
}

int tk_dpkgver_cmp(const char *a, const char *b, bool *bad)
{
	struct tk_dpkgver va, vb;
	const char *why;
	int ea = tk_dpkgver_parse(a, strlen(a), &va, &why);
	int eb = tk_dpkgver_parse(b, strlen(b), &vb, &why);
	if (bad)
		*bad = ea || eb;
	if (ea || eb)
		return ea && eb ? 0 : (ea ? -1 : 1);
	return tk_dpkgver_cmp_parsed(&va, &vb);
}
