/*
 * dpkgver.h - Debian version strings ([epoch:]upstream[-revision]) parsed and
 * compared exactly as dpkg does (lib/dpkg/parsehelp.c parseversion(),
 * lib/dpkg/version.c dpkg_version_compare()): '~' sorts before everything,
 * even the end of the string; letters sort before other non-digits.
 */
#ifndef TK_DPKGVER_H
#define TK_DPKGVER_H

#include <stdbool.h>
#include <stddef.h>

/* A parsed version; the spans point into the caller's string. */
struct tk_dpkgver {
	unsigned long epoch;
	const char *ver;   /* upstream version, not NUL-terminated */
	size_t vlen;
	const char *rev;   /* revision ("" when none) */
	size_t rlen;
	bool warned;       /* dpkg would warn (bad characters, no leading digit) but still compares */
};

/*
 * Parse s[0..len). Leading/trailing blanks are ignored as dpkg does. Returns
 * 0, or -1 with a static message in *why (empty, embedded blank, bad epoch,
 * empty upstream version) - the cases where dpkg refuses the version.
 */
int tk_dpkgver_parse(const char *s, size_t len, struct tk_dpkgver *out, const char **why);
/* <0, 0, >0 as dpkg_version_compare(). */
int tk_dpkgver_cmp_parsed(const struct tk_dpkgver *a, const struct tk_dpkgver *b);
/*
 * Compare two NUL-terminated version strings. An unparsable version sorts
 * before every valid one (and equal to another unparsable one); *bad (may be
 * NULL) is set when either side did not parse.
 */
int tk_dpkgver_cmp(const char *a, const char *b, bool *bad);

#endif
