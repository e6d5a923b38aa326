/* test_hsts_parse.c - RFC 6797 6.1 parsing of Strict-Transport-Security values. */
#include "testutil.h"

#include <string.h>

#include "hsts.h"

static struct tk_hsts parse(const char *v)
{
	struct tk_hsts h;
	tk_hsts_parse(v, strlen(v), &h);
	return h;
}

static void test_basic(void **state)
{
	struct tk_hsts h = parse("max-age=31536000; includeSubDomains; preload");
	(void)state;
	assert_true(h.valid);
	assert_int_equal(h.max_age, 31536000);
	assert_true(h.include_subdomains);
	assert_true(h.preload);
}

static void test_case_and_whitespace(void **state)
{
	struct tk_hsts h = parse("  MAX-AGE = 600 ;INCLUDESUBDOMAINS  ");
	(void)state;
	assert_true(h.valid);
	assert_int_equal(h.max_age, 600);
	assert_true(h.include_subdomains);
	assert_false(h.preload);
}

static void test_quoted_max_age(void **state)
{
	struct tk_hsts h = parse("max-age=\"31536000\"");
	(void)state;
	assert_true(h.valid);
	assert_int_equal(h.max_age, 31536000);
}

static void test_missing_max_age(void **state)
{
	struct tk_hsts h = parse("includeSubDomains; preload");
	(void)state;
	assert_false(h.valid);
	assert_non_null(strstr(h.why, "max-age"));
	assert_false(h.include_subdomains);
}

static void test_duplicate_directive_invalid(void **state)
{
	(void)state;
	assert_false(parse("max-age=1; max-age=2").valid);
	assert_false(parse("max-age=1; includeSubDomains; includesubdomains").valid);
}

static void test_unknown_directives_ignored(void **state)
{
	struct tk_hsts h = parse("foo=bar; max-age=100; baz; qux=\"a;b\"");
	(void)state;
	assert_true(h.valid);
	assert_int_equal(h.max_age, 100);
}

/* A peer bug: "max-age=300 0" or a following directive's digits glued on. */
static void test_no_digit_gluing(void **state)
{
	(void)state;
	assert_false(parse("max-age=300 0").valid);
	assert_false(parse("max-age=300x; includeSubDomains").valid);
	assert_false(parse("max-age=-5").valid);
	assert_false(parse("max-age=").valid);
	assert_false(parse("max-age").valid);
	struct tk_hsts h = parse("max-age=300;includeSubDomains2=1");
	assert_true(h.valid);
	assert_int_equal(h.max_age, 300);
	assert_false(h.include_subdomains);
}

static void test_huge_saturates(void **state)
{
	struct tk_hsts h = parse("max-age=99999999999999999999999999999");
	(void)state;
	assert_true(h.valid);
	assert_int_equal(h.max_age, 9007199254740992ULL);
}

static void test_garbage(void **state)
{
	(void)state;
	assert_false(parse("\"").valid);
	assert_false(parse("max-age=\"10").valid);
	assert_false(parse("=10").valid);
	assert_false(parse("").valid);
	assert_true(parse(";;max-age=0;;").valid);
	assert_int_equal(parse("max-age=0").max_age, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_case_and_whitespace),
		cmocka_unit_test(test_quoted_max_age),
		cmocka_unit_test(test_missing_max_age),
		cmocka_unit_test(test_duplicate_directive_invalid),
		cmocka_unit_test(test_unknown_directives_ignored),
		cmocka_unit_test(test_no_digit_gluing),
		cmocka_unit_test(test_huge_saturates),
		cmocka_unit_test(test_garbage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
