/* test_verdict.c - the gate verdict and the counts, decided only in rules/verdict.c. */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "rules.h"

static cJSON *report(const char *items, bool complete)
{
	char text[4096];
	snprintf(text, sizeof(text),
		 "{\"complete\": %s, \"items\": %s, \"findings\": [{\"status\": \"fail\"}, {\"status\": \"warn\"},"
		 " {\"status\": \"warn\"}, {\"status\": \"pass\"}, {\"status\": \"error\"}]}",
		 complete ? "true" : "false", items);
	return tk_test_json(text);
}

static const char *verdict(const cJSON *r)
{
	return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r, "gate"), "verdict")->valuestring;
}

static int count(const cJSON *r, const char *what, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(
		       cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r, "summary"), what), k)
		->valueint;
}

static void test_fail_beats_incomplete(void **state)
{
	cJSON *r = report("[{\"status\": \"fail\"}, {\"status\": \"incomplete\"}, {\"status\": \"pass\"}]", false);
	(void)state;
	assert_int_equal(tk_verdict_apply(r), TK_OK);
	assert_string_equal(verdict(r), "fail");
	assert_int_equal(tk_verdict_exit(r, true, false), 1);
	assert_int_equal(tk_verdict_exit(r, true, true), 1);
	/* a scan's exit code says only whether it completed */
	assert_int_equal(tk_verdict_exit(r, false, false), 3);
	assert_int_equal(count(r, "items", "fail"), 1);
	assert_int_equal(count(r, "items", "total"), 3);
	assert_int_equal(count(r, "findings", "warn"), 2);
	assert_int_equal(count(r, "findings", "error"), 1);
	cJSON_Delete(r);
}

static void test_incomplete_and_allow(void **state)
{
	cJSON *r = report("[{\"status\": \"incomplete\"}, {\"status\": \"manual\"}]", false);
	(void)state;
	assert_int_equal(tk_verdict_apply(r), TK_OK);
	assert_string_equal(verdict(r), "incomplete");
	assert_int_equal(tk_verdict_exit(r, true, false), 3);
	assert_int_equal(tk_verdict_exit(r, true, true), 0);
	cJSON_Delete(r);
}

static void test_waived_does_not_fail(void **state)
{
	cJSON *r = report("[{\"status\": \"waived\"}, {\"status\": \"pass\", \"with_warnings\": true}, {\"status\": \"pass\"},"
			  " {\"status\": \"manual\", \"attestation\": {}}]",
			  true);
	(void)state;
	assert_int_equal(tk_verdict_apply(r), TK_OK);
	assert_string_equal(verdict(r), "pass");
	assert_int_equal(tk_verdict_exit(r, true, false), 0);
	assert_int_equal(
	    cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r, "gate"), "waived_items")->valueint, 1);
	assert_int_equal(count(r, "items", "pass"), 2);
	assert_int_equal(count(r, "items", "pass_with_warnings"), 1);
	/* applying twice replaces, never duplicates */
	assert_int_equal(tk_verdict_apply(r), TK_OK);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, "gate")), 3);
	cJSON_Delete(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fail_beats_incomplete),
		cmocka_unit_test(test_incomplete_and_allow),
		cmocka_unit_test(test_waived_does_not_fail),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
