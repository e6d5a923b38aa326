/*
 * apkver.c - apk-tools' version ordering (see apkver.h).
 */
#include "apkver.h"

#include <stdbool.h>
#include <string.h>

enum apk_cls { APK_PRE = 0, APK_END = 1, APK_REV = 2, APK_POST = 3, APK_LETTER = 4, APK_DIGIT = 5 };

struct apk_tok {
	enum apk_cls cls;
	unsigned long long num;
	const char *s;  /* digits, for zero-prefixed comparison */
	size_t n;
};

/* Next token of an apk version at *p. */
static struct apk_tok apk_next(const char **p, bool first)
{
	static const char *const pre[] = {"alpha", "beta", "pre", "rc", NULL};
	static const char *const post[] = {"cvs", "svn", "git", "hg", "p", NULL};
	struct apk_tok t = {APK_END, 0, NULL, 0};
	const char *s = *p;
	size_t k;
	(void)first;
	if (*s == '.' && s[1] >= '0' && s[1] <= '9')
		s++;
	if (*s >= '0' && *s <= '9') {
		t.cls = APK_DIGIT;
		t.s = s;
		while (*s >= '0' && *s <= '9') {
			if (t.num < 1000000000000000ULL)
				t.num = t.num * 10 + (unsigned)(*s - '0');
			s++;
		}
		t.n = (size_t)(s - t.s);
	} else if ((*s >= 'a' && *s <= 'z') && !(s[1] >= 'a' && s[1] <= 'z')) {
		t.cls = APK_LETTER;
		t.num = (unsigned char)*s++;
	} else if (*s == '_') {
		s++;
		t.cls = APK_POST;
		t.num = 99;
		for (k = 0; pre[k]; k++)
			if (strncmp(s, pre[k], strlen(pre[k])) == 0) {
				t.cls = APK_PRE;
				t.num = k;
				s += strlen(pre[k]);
				break;
			}
		if (t.cls == APK_POST)
			for (k = 0; post[k]; k++)
				if (strncmp(s, post[k], strlen(post[k])) == 0) {
					t.num = k;
					s += strlen(post[k]);
					break;
				}
		/* the suffix number becomes part of the value */
		{
			unsigned long long n = 0;
			while (*s >= '0' && *s <= '9') {
				if (n < 1000000000ULL)
					n = n * 10 + (unsigned)(*s - '0');
				s++;
			}
			t.num = t.num * 10000000000ULL + n;
		}
	} else if (*s == '-' && s[1] == 'r') {
		s += 2;
		t.cls = APK_REV;
		while (*s >= '0' && *s <= '9') {
			if (t.num < 1000000000000000ULL)
				t.num = t.num * 10 + (unsigned)(*s - '0');
			s++;
		}
	} else if (*s) {
		/* unknown character: skip it and compare the rest */
		s++;
		*p = s;
		return apk_next(p, first);
	}
	*p = s;
	return t;
}

int tk_apk_vercmp(const char *a, const char *b)
{
	bool first = true;
	int guard = 0;
	while (guard++ < 4096) {
		struct apk_tok x = apk_next(&a, first), y = apk_next(&b, first);
		if (x.cls != y.cls)
			return x.cls < y.cls ? -1 : 1;
		if (x.cls == APK_END)
			return 0;
		if (x.cls == APK_DIGIT && !first && ((x.n > 1 && x.s[0] == '0') || (y.n > 1 && y.s[0] == '0'))) {
			/* zero-prefixed components compare as decimal fractions */
			size_t n = x.n < y.n ? x.n : y.n;
			int c = memcmp(x.s, y.s, n);
			if (c)
				return c < 0 ? -1 : 1;
			if (x.n != y.n)
				return x.n < y.n ? -1 : 1;
		} else if (x.num != y.num) {
			return x.num < y.num ? -1 : 1;
		}
		first = false;
	}
	return 0;
}
