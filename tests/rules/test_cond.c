/* test_cond.c - the rule condition language: validation and evaluation. */
#include "testutil.h"

#include <string.h>

#include "rules.h"

static const char *obs_text = "{\"probe\": \"tls\", \"target\": \"h:443\", \"kind\": \"endpoint\","
			      " \"protocols\": {\"tls1_0\": true, \"tls1_2\": true, \"tls1_3\": false},"
			      " \"max_age\": 300, \"name\": \"api.acme.test\", \"tags\": [\"a\", \"b\"],"
			      " \"suites\": [{\"name\": \"TLS_RSA_WITH_3DES_EDE_CBC_SHA\", \"bits\": 112}, {\"name\": "
			      "\"TLS_AES_128_GCM_SHA256\", \"bits\": 128}],"
			      " \"empty\": [], \"nothing\": null}";

static bool eval(const char *cond_text)
{
	cJSON *obs = tk_test_json(obs_text), *cond = tk_test_json(cond_text);
	cJSON *params = tk_test_json("{\"min\": 31536000, \"weak\": 128, \"names\": [\"x\", \"api.acme.test\"]}");
	struct tk_err err = {0};
	bool r;
	if (tk_cond_validate(cond, params, "t", &err) != TK_OK)
		fail_msg("valid condition rejected: %s: %s", cond_text, err.msg);
	r = tk_cond_eval(cond, obs, params);
	cJSON_Delete(obs);
	cJSON_Delete(cond);
	cJSON_Delete(params);
	return r;
}

static void invalid(const char *cond_text, const char *msg)
{
	cJSON *cond = tk_test_json(cond_text), *params = tk_test_json("{\"min\": 1}");
	struct tk_err err = {0};
	assert_int_equal(tk_cond_validate(cond, params, "rules/x.json", &err), TK_ERR_CONFIG);
	if (!strstr(err.msg, msg))
		fail_msg("expected \"%s\" in \"%s\"", msg, err.msg);
	cJSON_Delete(cond);
	cJSON_Delete(params);
}

static void test_comparisons(void **state)
{
	(void)state;
	assert_true(eval("{\"path\": \"protocols.tls1_0\", \"eq\": true}"));
	assert_false(eval("{\"path\": \"protocols.tls1_3\", \"eq\": true}"));
	assert_true(eval("{\"path\": \"max_age\", \"lt\": {\"param\": \"min\"}}"));
	assert_false(eval("{\"path\": \"max_age\", \"ge\": {\"param\": \"min\"}}"));
	assert_true(eval("{\"path\": \"max_age\", \"le\": 300}"));
	assert_false(eval("{\"path\": \"max_age\", \"gt\": 300}"));
	assert_true(eval("{\"path\": \"name\", \"ne\": \"other\"}"));
	assert_true(eval("{\"path\": \"name\", \"in\": {\"param\": \"names\"}}"));
	assert_false(eval("{\"path\": \"name\", \"in\": [\"a\", \"b\"]}"));
	assert_true(eval("{\"path\": \"name\", \"prefix\": \"api.\"}"));
	assert_true(eval("{\"path\": \"name\", \"contains\": \"acme\"}"));
	assert_true(eval("{\"path\": \"tags\", \"contains\": \"b\"}"));
	assert_false(eval("{\"path\": \"tags\", \"contains\": \"c\"}"));
	assert_true(eval("{\"path\": \"suites.1.bits\", \"eq\": 128}"));
	/* number vs string never compares */
	assert_false(eval("{\"path\": \"name\", \"lt\": 5}"));
}

static void test_missing_fields(void **state)
{
	(void)state;
	assert_false(eval("{\"path\": \"nosuch\", \"eq\": 1}"));
	assert_false(eval("{\"path\": \"nosuch\", \"ne\": 1}"));
	assert_true(eval("{\"path\": \"nosuch\", \"exists\": false}"));
	assert_true(eval("{\"path\": \"nothing\", \"exists\": false}"));
	assert_true(eval("{\"path\": \"name\", \"exists\": true}"));
	assert_false(eval("{\"path\": \"protocols.tls1_0.deeper\", \"eq\": true}"));
}

static void test_boolean_logic(void **state)
{
	(void)state;
	assert_true(eval("{\"any\": [{\"path\": \"protocols.tls1_3\", \"eq\": true}, {\"path\": \"protocols.tls1_0\", "
			 "\"eq\": true}]}"));
	assert_false(eval("{\"all\": [{\"path\": \"protocols.tls1_3\", \"eq\": true}, {\"path\": \"protocols.tls1_0\", "
			  "\"eq\": true}]}"));
	assert_true(eval("{\"not\": {\"path\": \"protocols.tls1_3\", \"eq\": true}}"));
	assert_true(eval(
	    "{\"all\": [{\"not\": {\"any\": [{\"path\": \"x\", \"eq\": 1}]}}, {\"path\": \"max_age\", \"eq\": 300}]}"));
}

static void test_quantifiers(void **state)
{
	(void)state;
	assert_true(eval("{\"path\": \"suites\", \"some\": {\"path\": \"bits\", \"lt\": {\"param\": \"weak\"}}}"));
	assert_false(eval("{\"path\": \"suites\", \"every\": {\"path\": \"bits\", \"ge\": {\"param\": \"weak\"}}}"));
	assert_true(eval("{\"path\": \"suites\", \"every\": {\"path\": \"name\", \"prefix\": \"TLS_\"}}"));
	assert_false(eval("{\"path\": \"empty\", \"some\": {\"path\": \"x\", \"exists\": true}}"));
	assert_true(eval("{\"path\": \"empty\", \"every\": {\"path\": \"x\", \"exists\": true}}"));
	assert_false(eval("{\"path\": \"nosuch\", \"some\": {\"path\": \"x\", \"exists\": false}}"));
}

static void test_validation_errors(void **state)
{
	(void)state;
	invalid("[]", "rules/x.json: condition: a condition must be an object");
	invalid("{\"path\": \"a\"}", "\"path\" without an operator");
	invalid("{\"path\": \"a\", \"eq\": 1, \"ne\": 2}", "more than one operator");
	invalid("{\"path\": \"a\", \"equals\": 1}", "unknown operator \"equals\"");
	invalid("{\"path\": \"a\", \"lt\": {\"param\": \"nosuch\"}}", "unknown parameter \"nosuch\"");
	invalid("{\"path\": \"a\", \"in\": 3}", "condition.in: expected an array");
	invalid("{\"path\": \"a\", \"exists\": 1}", "expected true or false");
	invalid("{\"any\": []}", "condition.any: expected a non-empty array");
	invalid("{\"all\": [{\"path\": \"a\", \"eq\": 1}, {\"bogus\": 1}]}",
		"condition.all[1]: expected one of all, any, not, path");
	invalid("{\"not\": {\"path\": \"a\"}, \"path\": \"b\"}", "\"not\" must be the only key");
	invalid("{\"path\": \"s\", \"some\": {\"path\": \"x\", \"gt\": {\"param\": \"zz\"}}}",
		"condition.some.gt: unknown parameter \"zz\"");
}

static void test_deep_nesting_rejected(void **state)
{
	struct tk_buf b;
	int i;
	cJSON *c, *p = tk_test_json("{}");
	struct tk_err err = {0};
	(void)state;
	tk_buf_init(&b, 1 << 20);
	for (i = 0; i < 100; i++)
		tk_buf_puts(&b, "{\"not\": ");
	tk_buf_puts(&b, "{\"path\": \"a\", \"eq\": 1}");
	for (i = 0; i < 100; i++)
		tk_buf_puts(&b, "}");
	c = tk_test_json(b.data);
	assert_int_equal(tk_cond_validate(c, p, "x", &err), TK_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "nested too deeply"));
	cJSON_Delete(c);
	cJSON_Delete(p);
	tk_buf_free(&b);
}

static void test_paths_collected(void **state)
{
	cJSON *c = tk_test_json("{\"any\": [{\"path\": \"a.b\", \"eq\": 1}, {\"not\": {\"path\": \"c\", \"eq\": 2}}, "
				"{\"path\": \"a.b\", \"ne\": 3}]}");
	cJSON *paths = cJSON_CreateArray();
	(void)state;
	tk_cond_paths(c, paths);
	assert_int_equal(cJSON_GetArraySize(paths), 2);
	assert_string_equal(cJSON_GetArrayItem(paths, 0)->valuestring, "a.b");
	assert_string_equal(cJSON_GetArrayItem(paths, 1)->valuestring, "c");
	cJSON_Delete(c);
	cJSON_Delete(paths);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_comparisons),     cmocka_unit_test(test_missing_fields),
		cmocka_unit_test(test_boolean_logic),   cmocka_unit_test(test_quantifiers),
		cmocka_unit_test(test_validation_errors), cmocka_unit_test(test_deep_nesting_rejected),
		cmocka_unit_test(test_paths_collected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
