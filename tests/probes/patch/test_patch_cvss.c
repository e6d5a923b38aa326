/*
 * test_patch_cvss.c - CVSS base scores against published values: the
 * examples of FIRST's "CVSS v3.1 Examples" document (CVE, vector, base
 * score as printed there) and NVD v2 base scores.
 */
#include "testutil.h"

#include <string.h>

#include "cvss.h"

static double score(const char *v)
{
	struct tk_cvss c;
	const char *why = NULL;
	if (tk_cvss_parse(v, strlen(v), &c, &why) != 0)
		fail_msg("%s: %s", v, why);
	return c.base;
}

static void test_v31_first_examples(void **state)
{
	static const struct {
		const char *cve, *vec;
		double want;
	} v[] = {
		{"CVE-2013-1937 phpMyAdmin XSS", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1},
		{"CVE-2013-0375 MySQL", "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N", 6.4},
		{"CVE-2014-3566 POODLE", "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N", 3.1},
		{"CVE-2012-1516 VMware", "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 9.9},
		{"CVE-2009-0783 Tomcat", "CVSS:3.1/AV:L/AC:L/PR:H/UI:N/S:U/C:L/I:L/A:L", 4.2},
		{"CVE-2012-0384 Cisco IOS", "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 8.8},
		{"CVE-2015-1098 iWork", "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 7.8},
		{"CVE-2014-0160 Heartbleed", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 7.5},
		{"CVE-2014-6271 Shellshock", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8},
		{"CVE-2014-0224 OpenSSL CCS", "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:N", 7.4},
		{"CVE-2012-5376 Chrome IPC", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:H/I:H/A:H", 9.6},
		{"CVE-2016-1645 Chrome", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 8.8},
		{"CVE-2016-0128 Badlock", "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:H/I:H/A:N", 6.8},
		{"CVE-2014-2005 Sophos", "CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 6.8},
		{"CVE-2010-0467 Joomla", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:L/I:N/A:N", 5.8},
		{"CVE-2012-1342 Cisco ASA", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:N/I:L/A:N", 5.8},
		{"all none", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0},
		{"scope changed max", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0},
		{"NVD CVE-2023-5678", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L", 5.3},
		{"NVD CVE-2024-5535", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:H", 9.1},
		{"NVD CVE-2023-50447", "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H", 8.1},
		{"NVD CVE-2022-3715", "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8},
		{"temporal metrics ignored", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/RL:O/RC:C", 9.8},
		{"any order", "CVSS:3.1/S:U/AV:N/C:H/AC:L/I:H/PR:N/A:H/UI:N", 9.8},
	};
	size_t k;
	(void)state;
	for (k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
		double s = score(v[k].vec);
		if ((int)(s * 10 + 0.5) != (int)(v[k].want * 10 + 0.5))
			fail_msg("%s (%s): %.1f, published %.1f", v[k].cve, v[k].vec, s, v[k].want);
	}
}

static void test_v30(void **state)
{
	(void)state;
	assert_true(score("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H") == 9.8);
	assert_true(score("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:C/C:L/I:L/A:N") == 7.2);
	assert_true(score("CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N") == 6.1);
}

static void test_roundup31(void **state)
{
	(void)state;
	/* CVSS v3.1 specification, Appendix A */
	assert_true(tk_cvss_roundup31(4.000000000000001) == 4.0);
	assert_true(tk_cvss_roundup31(4.02) == 4.1);
	assert_true(tk_cvss_roundup31(4.0) == 4.0);
	assert_true(tk_cvss_roundup31(9.999) == 10.0);
}

static void test_v2_nvd(void **state)
{
	static const struct {
		const char *vec;
		double want;
	} v[] = {
		{"AV:N/AC:L/Au:N/C:P/I:N/A:N", 5.0},  {"AV:N/AC:L/Au:N/C:C/I:C/A:C", 10.0},
		{"AV:N/AC:M/Au:N/C:P/I:P/A:P", 6.8},  {"AV:N/AC:L/Au:N/C:P/I:P/A:P", 7.5},
		{"AV:L/AC:L/Au:N/C:C/I:C/A:C", 7.2},  {"AV:N/AC:M/Au:N/C:N/I:P/A:N", 4.3},
		{"AV:N/AC:H/Au:N/C:P/I:N/A:N", 2.6},  {"AV:L/AC:L/Au:N/C:P/I:N/A:N", 2.1},
		{"AV:N/AC:L/Au:S/C:P/I:P/A:P", 6.5},  {"AV:N/AC:M/Au:N/C:C/I:C/A:C", 9.3},
		{"AV:L/AC:M/Au:N/C:C/I:C/A:C", 6.9},  {"(AV:N/AC:L/Au:N/C:N/I:N/A:P)", 5.0},
		{"AV:N/AC:L/Au:N/C:N/I:N/A:N", 0.0},  {"AV:N/AC:L/Au:N/C:P/I:P/A:P/E:POC/RL:OF/RC:C", 7.5},
	};
	size_t k;
	(void)state;
	for (k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
		double s = score(v[k].vec);
		if ((int)(s * 10 + 0.5) != (int)(v[k].want * 10 + 0.5))
			fail_msg("%s: %.1f, published %.1f", v[k].vec, s, v[k].want);
	}
}

static void test_v40_validated_not_scored(void **state)
{
	struct tk_cvss c;
	const char *why;
	const char *ok = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N";
	const char *missing = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N";
	(void)state;
	assert_int_equal(tk_cvss_parse(ok, strlen(ok), &c, &why), 0);
	assert_int_equal(c.version, TK_CVSS_V40);
	assert_true(c.base < 0);
	assert_int_equal(tk_cvss_parse(missing, strlen(missing), &c, &why), -1);
}

static void test_invalid(void **state)
{
	static const char *const bad[] = {
		"", "CVSS:3.1/", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",          /* missing A */
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/A:H",                     /* duplicate */
		"CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",                         /* bad value */
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/",                        /* trailing slash */
		"CVSS:3.2/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",                         /* unknown version */
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/ZZ:1",                    /* unknown metric */
		"AV:N/AC:L/Au:N/C:P/I:P", "(AV:N/AC:L/Au:N/C:P/I:P/A:P", "AV:N/AC:L/Au:Q/C:P/I:P/A:P",
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:HH/I:H/A:H", "CVSS:3.1/AV:N//AC:L",
	};
	size_t k;
	(void)state;
	for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		struct tk_cvss c;
		const char *why = NULL;
		if (tk_cvss_parse(bad[k], strlen(bad[k]), &c, &why) != -1 || !why)
			fail_msg("accepted: \"%s\"", bad[k]);
	}
}

static void test_levels(void **state)
{
	(void)state;
	assert_string_equal(tk_cvss_severity(0.0), "none");
	assert_string_equal(tk_cvss_severity(3.9), "low");
	assert_string_equal(tk_cvss_severity(4.0), "medium");
	assert_string_equal(tk_cvss_severity(6.9), "medium");
	assert_string_equal(tk_cvss_severity(7.0), "high");
	assert_string_equal(tk_cvss_severity(9.0), "critical");
	assert_string_equal(tk_cvss_jvn_level(7.0), "III");
	assert_string_equal(tk_cvss_jvn_level(6.9), "II");
	assert_string_equal(tk_cvss_jvn_level(4.0), "II");
	assert_string_equal(tk_cvss_jvn_level(3.9), "I");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v31_first_examples), cmocka_unit_test(test_v30), cmocka_unit_test(test_roundup31),
		cmocka_unit_test(test_v2_nvd), cmocka_unit_test(test_v40_validated_not_scored),
		cmocka_unit_test(test_invalid), cmocka_unit_test(test_levels),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
