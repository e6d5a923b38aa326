/*
 * test_patch_versions.c - dpkg, rpm and apk version comparison.
 * dpkg: the vectors of dpkg's lib/dpkg/t/t-version.c plus Debian policy
 * orderings; rpm: every active case of rpm's tests/rpmvercmp.at.
 * (The 100,000-pair differential test against dpkg is
 * tests/integration/test_patch_dpkg_diff.py.)
 */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "dpkgver.h"
#include "rpmver.h"
#include "vulnfeed.h"

static int sgn(int x)
{
	return (x > 0) - (x < 0);
}

static int dcmp(const char *a, const char *b)
{
	bool bad = true;
	int r = tk_dpkgver_cmp(a, b, &bad);
	assert_false(bad);
	return sgn(r);
}

static bool dparses(const char *s, bool *warned)
{
	struct tk_dpkgver v;
	const char *why;
	int r = tk_dpkgver_parse(s, strlen(s), &v, &why);
	if (warned)
		*warned = v.warned;
	return r == 0;
}

/* lib/dpkg/t/t-version.c test_version_parse(): equalities after parsing. */
static void test_dpkg_published_parse(void **state)
{
	struct tk_dpkgver v;
	const char *why;
	bool w;
	(void)state;
	assert_int_equal(dcmp("0", "0:0"), 0);
	assert_int_equal(dcmp("0:0-0", "0-0"), 0);
	assert_int_equal(dcmp("0:0.0-0.0", "0.0-0.0"), 0);
	assert_int_equal(dcmp("1:0", "1:0"), 0);
	assert_int_equal(dcmp("1:0", "0"), 1);
	assert_int_equal(tk_dpkgver_parse("5:1", 3, &v, &why), 0);
	assert_int_equal(v.epoch, 5);
	/* multiple hyphens: the last one starts the revision */
	assert_int_equal(tk_dpkgver_parse("0:0-0-0", 7, &v, &why), 0);
	assert_int_equal(v.vlen, 3);
	assert_memory_equal(v.ver, "0-0", 3);
	assert_int_equal(v.rlen, 1);
	/* multiple colons: the first one ends the epoch */
	assert_int_equal(tk_dpkgver_parse("0:0:0-0", 7, &v, &why), 0);
	assert_memory_equal(v.ver, "0:0", 3);
	assert_int_equal(tk_dpkgver_parse("0:0-0:0-0", 9, &v, &why), 0);
	assert_memory_equal(v.ver, "0-0:0", 5);
	/* valid characters */
	assert_true(dparses("0:09azAZ.-+~:-0", &w));
	assert_false(w);
	assert_true(dparses("0:0-azAZ09.+~", &w));
	assert_false(w);
	/* leading and trailing blanks */
	assert_int_equal(dcmp("  \t0:0-1", "0-1"), 0);
	assert_int_equal(dcmp("0:0-1\t  ", "0-1"), 0);
	/* errors */
	assert_false(dparses("", NULL));
	assert_false(dparses("  ", NULL));
	assert_false(dparses("0:", NULL));
	assert_false(dparses("0:0 0-1", NULL));
	assert_false(dparses("-1:0-1", NULL));
	assert_false(dparses("999999999999999999999999:0-1", NULL));
	assert_false(dparses("a:0-0", NULL));
	assert_false(dparses("A:0-0", NULL));
	assert_false(dparses("-0", NULL));
	assert_false(dparses("0:-0", NULL));
	/* dpkg 1.21 (this machine's) refuses an empty revision; newer dpkg accepts "0:0-" */
	assert_false(dparses("0:0-", NULL));
	/* warnings (dpkg compares anyway) */
	assert_true(dparses("0:abc3-0", &w));
	assert_true(w);
	{
		const char *bad = "!#@$%&/|\\<>()[]{};,_=*^'";
		char s[8];
		size_t k;
		for (k = 0; bad[k]; k++) {
			snprintf(s, sizeof(s), "0:0%ca-0", bad[k]);
			assert_true(dparses(s, &w));
			assert_true(w);
			snprintf(s, sizeof(s), "0:0-0%c", bad[k]);
			assert_true(dparses(s, &w));
			assert_true(w);
		}
	}
	assert_true(dparses("0:0-0:0", &w));
	assert_true(w);
}

/* test_version_compare() of t-version.c and policy 5.6.12 orderings. */
static void test_dpkg_ordering(void **state)
{
	static const struct {
		const char *a, *b;
		int want;
	} v[] = {
	    {"0-0", "0-00", 0},
	    {"00-0", "0-0", 0},
	    {"1:2-3", "1:2-3", 0},
	    {"0:0-0", "1:0-0", -1},
	    {"0:a-0", "0:b-0", -1},
	    {"0:0-a", "0:0-b", -1},
	    /* '~' sorts before anything, even the end */
	    {"1.0~rc1", "1.0", -1},
	    {"1.0~~", "1.0~~a", -1},
	    {"1.0~~a", "1.0~", -1},
	    {"1.0~", "1.0", -1},
	    {"1.0", "1.0a", -1},
	    {"1.0a", "1.0+", -1},
	    {"1.0+", "1.0.", -1},
	    {"1:1.0", "2.0", 1},
	    {"1.0-1", "1.0-1+deb12u1", -1},
	    {"2.36-9+deb12u4", "2.36-9+deb12u7", -1},
	    {"3.0.11-1~deb12u2", "3.0.13-1~deb12u1", -1},
	    {"3.0.13-1~deb12u1", "3.0.13-1", -1},
	    {"1.2.3", "1.2.3-0", 0},
	    {"1.10", "1.9", 1},
	    {"1.001", "1.1", 0},
	    {"7.88.1-10+deb12u5", "7.88.1-10+deb12u4", 1},
	    {"1:1.2.13.dfsg-1", "1.2.13.dfsg-2", 1},
	    {"9.4.0-1.1", "9.4.0-1.1+deb12u1", -1},
	    {"1.34+dfsg-1.2+deb12u1", "1.34+dfsg-1.2", 1},
	    {"2.30-1", "2.30-1ubuntu1", -1},
	};
	size_t k;
	(void)state;
	for (k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
		if (dcmp(v[k].a, v[k].b) != v[k].want || dcmp(v[k].b, v[k].a) != -v[k].want)
			fail_msg("%s vs %s: want %d", v[k].a, v[k].b, v[k].want);
	}
}

static void test_dpkg_unparsable_sorts_first(void **state)
{
	bool bad = false;
	(void)state;
	assert_true(tk_dpkgver_cmp("a:1", "0.1", &bad) < 0);
	assert_true(bad);
	assert_int_equal(tk_dpkgver_cmp("", "", &bad), 0);
}

/* rpm tests/rpmvercmp.at (every active RPMVERCMP line). */
static void test_rpm_published(void **state)
{
	static const struct {
		const char *a, *b;
		int want;
	} v[] = {
	    {"1.0", "1.0", 0},
	    {"1.0", "2.0", -1},
	    {"2.0", "1.0", 1},
	    {"2.0.1", "2.0.1", 0},
	    {"2.0", "2.0.1", -1},
	    {"2.0.1", "2.0", 1},
	    {"2.0.1a", "2.0.1a", 0},
	    {"2.0.1a", "2.0.1", 1},
	    {"2.0.1", "2.0.1a", -1},
	    {"5.5p1", "5.5p1", 0},
	    {"5.5p1", "5.5p2", -1},
	    {"5.5p2", "5.5p1", 1},
	    {"5.5p10", "5.5p10", 0},
	    {"5.5p1", "5.5p10", -1},
	    {"5.5p10", "5.5p1", 1},
	    {"10xyz", "10.1xyz", -1},
	    {"10.1xyz", "10xyz", 1},
	    {"xyz10", "xyz10", 0},
	    {"xyz10", "xyz10.1", -1},
	    {"xyz10.1", "xyz10", 1},
	    {"xyz.4", "xyz.4", 0},
	    {"xyz.4", "8", -1},
	    {"8", "xyz.4", 1},
	    {"xyz.4", "2", -1},
	    {"2", "xyz.4", 1},
	    {"5.5p2", "5.6p1", -1},
	    {"5.6p1", "5.5p2", 1},
	    {"5.6p1", "6.5p1", -1},
	    {"6.5p1", "5.6p1", 1},
	    {"6.0.rc1", "6.0", 1},
	    {"6.0", "6.0.rc1", -1},
	    {"10b2", "10a1", 1},
	    {"10a2", "10b2", -1},
	    {"1.0aa", "1.0aa", 0},
	    {"1.0a", "1.0aa", -1},
	    {"1.0aa", "1.0a", 1},
	    {"10.0001", "10.0001", 0},
	    {"10.0001", "10.1", 0},
	    {"10.1", "10.0001", 0},
	    {"10.0001", "10.0039", -1},
	    {"10.0039", "10.0001", 1},
	    {"4.999.9", "5.0", -1},
	    {"5.0", "4.999.9", 1},
	    {"20101121", "20101121", 0},
	    {"20101121", "20101122", -1},
	    {"20101122", "20101121", 1},
	    {"2_0", "2_0", 0},
	    {"2.0", "2_0", 0},
	    {"2_0", "2.0", 0},
	    {"a", "a", 0},
	    {"a+", "a+", 0},
	    {"a+", "a_", 0},
	    {"a_", "a+", 0},
	    {"+a", "+a", 0},
	    {"+a", "_a", 0},
	    {"_a", "+a", 0},
	    {"+_", "+_", 0},
	    {"_+", "+_", 0},
	    {"_+", "_+", 0},
	    {"+", "_", 0},
	    {"_", "+", 0},
	    {"1.0~rc1", "1.0~rc1", 0},
	    {"1.0~rc1", "1.0", -1},
	    {"1.0", "1.0~rc1", 1},
	    {"1.0~rc1", "1.0~rc2", -1},
	    {"1.0~rc2", "1.0~rc1", 1},
	    {"1.0~rc1~git123", "1.0~rc1~git123", 0},
	    {"1.0~rc1~git123", "1.0~rc1", -1},
	    {"1.0~rc1", "1.0~rc1~git123", 1},
	    {"1.0^", "1.0^", 0},
	    {"1.0^", "1.0", 1},
	    {"1.0", "1.0^", -1},
	    {"1.0^git1", "1.0^git1", 0},
	    {"1.0^git1", "1.0", 1},
	    {"1.0", "1.0^git1", -1},
	    {"1.0^git1", "1.0^git2", -1},
	    {"1.0^git2", "1.0^git1", 1},
	    {"1.0^git1", "1.01", -1},
	    {"1.01", "1.0^git1", 1},
	    {"1.0^20160101", "1.0^20160101", 0},
	    {"1.0^20160101", "1.0.1", -1},
	    {"1.0.1", "1.0^20160101", 1},
	    {"1.0^20160101^git1", "1.0^20160101^git1", 0},
	    {"1.0^20160102", "1.0^20160101^git1", 1},
	    {"1.0^20160101^git1", "1.0^20160102", -1},
	    {"1.0~rc1^git1", "1.0~rc1^git1", 0},
	    {"1.0~rc1^git1", "1.0~rc1", 1},
	    {"1.0~rc1", "1.0~rc1^git1", -1},
	    {"1.0^git1~pre", "1.0^git1~pre", 0},
	    {"1.0^git1", "1.0^git1~pre", 1},
	    {"1.0^git1~pre", "1.0^git1", -1},
	    /* documented oddities (commented out upstream, RhBug:811992) */
	    {"1b.fc17", "1b.fc17", 0},
	    {"1b.fc17", "1.fc17", -1},
	    {"1.fc17", "1b.fc17", 1},
	    {"1g.fc17", "1g.fc17", 0},
	    {"1g.fc17", "1.fc17", 1},
	    {"1.fc17", "1g.fc17", -1},
	};
	size_t k;
	(void)state;
	for (k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
		int r = tk_rpmvercmp(v[k].a, strlen(v[k].a), v[k].b, strlen(v[k].b));
		if (r != v[k].want)
			fail_msg("rpmvercmp(%s, %s) = %d, want %d", v[k].a, v[k].b, r, v[k].want);
	}
}

static void test_rpm_evr(void **state)
{
	(void)state;
	assert_int_equal(tk_rpm_evrcmp("1:3.0.7-24.el9", "1:3.0.7-28.el9_4"), -1);
	assert_int_equal(tk_rpm_evrcmp("1:3.0.7-24.el9", "3.0.9-1.el9"), 1);   /* epoch wins */
	assert_int_equal(tk_rpm_evrcmp("0:1.0-1", "1.0-1"), 0);              /* missing epoch = 0 */
	assert_int_equal(tk_rpm_evrcmp("1.0", "1.0-5"), 0);                  /* no release: any */
	assert_int_equal(tk_rpm_evrcmp("5.1.8-9.el9", "5.1.8-6.el9"), 1);
	assert_int_equal(tk_rpm_evrcmp("2.34-100.el9_4.2", "2.34-100.el9_4.10"), -1);
}

static void test_apk(void **state)
{
	static const struct {
		const char *a, *b;
		int want;
	} v[] = {
		{"1.2.3-r0", "1.2.3-r1", -1}, {"1.2.3_rc1", "1.2.3", -1}, {"1.2.3", "1.2.3_p1", -1},
		{"1.2.3a", "1.2.3", 1}, {"1.2", "1.2.1", -1}, {"1.10", "1.9", 1}, {"3.0.13-r0", "3.1.4-r1", -1},
		{"1.2.3_alpha", "1.2.3_beta", -1}, {"1.2.3_beta2", "1.2.3_rc1", -1}, {"1.0-r1", "1.0_p1", -1},
		{"2.4.58-r0", "2.4.58-r0", 0}, {"1.36.1-r15", "1.36.1-r2", 1},
	};
	size_t k;
	(void)state;
	for (k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
		if (tk_apk_vercmp(v[k].a, v[k].b) != v[k].want || tk_apk_vercmp(v[k].b, v[k].a) != -v[k].want)
			fail_msg("apk %s vs %s: want %d", v[k].a, v[k].b, v[k].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dpkg_published_parse), cmocka_unit_test(test_dpkg_ordering),
		cmocka_unit_test(test_dpkg_unparsable_sorts_first), cmocka_unit_test(test_rpm_published),
		cmocka_unit_test(test_rpm_evr), cmocka_unit_test(test_apk),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
