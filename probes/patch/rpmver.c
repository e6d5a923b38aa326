/*
 * rpmver.c - rpmvercmp() over length-carrying spans, and EVR comparison.
 */
#include "rpmver.h"

#include <string.h>

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_alnum(int c)
{
	return is_digit(c) || is_alpha(c);
}

int tk_rpmvercmp(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t i = 0, j = 0;
	if (alen == blen && memcmp(a, b, alen) == 0)
		return 0;
#define A(k) ((k) < alen ? (unsigned char)a[k] : 0)
#define B(k) ((k) < blen ? (unsigned char)b[k] : 0)
	while (A(i) || B(j)) {
		size_t s1, s2, n1, n2;
		int isnum, rc;
		while (A(i) && !is_alnum(A(i)) && A(i) != '~' && A(i) != '^')
			i++;
		while (B(j) && !is_alnum(B(j)) && B(j) != '~' && B(j) != '^')
			j++;
		if (A(i) == '~' || B(j) == '~') {
			if (A(i) != '~')
				return 1;
			if (B(j) != '~')
				return -1;
			i++;
			j++;
			continue;
		}
		if (A(i) == '^' || B(j) == '^') {
			if (!A(i))
				return -1;
			if (!B(j))
				return 1;
			if (A(i) != '^')
				return 1;
			if (B(j) != '^')
				return -1;
			i++;
			j++;
			continue;
		}
		if (!(A(i) && B(j)))
			break;
		s1 = i;
		s2 = j;
		if (is_digit(A(i))) {
			while (A(i) && is_digit(A(i)))
				i++;
			while (B(j) && is_digit(B(j)))
				j++;
			isnum = 1;
		} else {
			while (A(i) && is_alpha(A(i)))
				i++;
			while (B(j) && is_alpha(B(j)))
				j++;
			isnum = 0;
		}
		if (s1 == i)
			return -1; /* cannot happen, as in rpm */
		if (s2 == j)
			return isnum ? 1 : -1;
		if (isnum) {
			while (s1 < i && a[s1] == '0')
				s1++;
			while (s2 < j && b[s2] == '0')
				s2++;
			if (i - s1 > j - s2)
				return 1;
			if (j - s2 > i - s1)
				return -1;
		}
		n1 = i - s1;
		n2 = j - s2;
		rc = memcmp(a + s1, b + s2, n1 < n2 ? n1 : n2);
		if (rc == 0 && n1 != n2)
			rc = n1 < n2 ? -1 : 1;
		if (rc)
			return rc < 0 ? -1 : 1;
	}
	if (!A(i) && !B(j))
		return 0;
	return !A(i) ? -1 : 1;
#undef A
#undef B
}

struct evr {
	const char *e, *v, *r;
	size_t el, vl, rl;
};

static void split_evr(const char *s, struct evr *o)
{
	const char *p, *colon = NULL, *dash = NULL;
	memset(o, 0, sizeof(*o));
	for (p = s; *p && is_digit((unsigned char)*p); p++)
		;
	if (*p == ':') {
		colon = p;
		o->e = s;
		o->el = (size_t)(p - s);
		s = p + 1;
	}
	(void)colon;
	dash = strrchr(s, '-');
	o->v = s;
	o->vl = dash ? (size_t)(dash - s) : strlen(s);
	if (dash) {
		o->r = dash + 1;
		o->rl = strlen(dash + 1);
	}
}

int tk_rpm_evrcmp(const char *a, const char *b)
{
	struct evr x, y;
	int rc;
	split_evr(a, &x);
	split_evr(b, &y);
	{
		const char *ex = x.el ? x.e : "0", *ey = y.el ? y.e : "0";
		if ((rc = tk_rpmvercmp(ex, x.el ? x.el : 1, ey, y.el ? y.el : 1)))
			return rc;
	}
	if ((rc = tk_rpmvercmp(x.v, x.vl, y.v, y.vl)))
		return rc;
	if (x.r && y.r)
		return tk_rpmvercmp(x.r, x.rl, y.r, y.rl);
	return 0;
}
