/*
 * test_incomplete_when.c - a rule's "incomplete_when", the one rule-data
 * mechanism for "not observed": an observation that lacks the evidence the
 * rule needs, or whose evidence is not to be relied on (stale), makes the rule
 * "error" (its items incomplete, with the observation's reason or the rule's
 * title), never pass; a failure elsewhere still fails the item. The dropped
 * spelling "effect": "incomplete" is a load error naming file, rule and field.
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "rulefixture.h"
#include "rules.h"

static const char *const probes[] = {"p", NULL};

static const char *checklist_json =
	"{\"id\": \"t1\", \"title\": {\"ja\": \"テスト\", \"en\": \"Test\"}, \"items\": ["
	"{\"no\": 1, \"chapter\": \"c\", \"goal\": \"g1\", \"party\": \"API接続先\"},"
	"{\"no\": 2, \"chapter\": \"c\", \"goal\": \"g2\", \"party\": \"API接続先\"},"
	"{\"no\": 3, \"chapter\": \"c\", \"goal\": \"g3\", \"party\": \"API接続先\"}]}";

#define TAIL " \"remediation\": {\"ja\": \"直す\", \"en\": \"fix it\"}, \"basis\": \"seed\"}"

/* C judges a certificate; it needs one. F fails on v > 100, item 2 only. S: evidence older than
 * max_age is not to be relied on (incomplete_when alone, no fail_when), item 3. */
static const char *rules_json =
	"{\"rules\": ["
	"{\"id\": \"C\", \"probe\": \"p\", \"kind\": \"k\", \"title\": {\"ja\": \"t\", \"en\": \"t\"},"
	" \"incomplete_when\": {\"not\": {\"path\": \"cert.present\", \"eq\": true}}, \"incomplete_reason\": \"cert.error\","
	" \"fail_when\": {\"path\": \"cert.expired\", \"eq\": true}, \"severity\": \"high\", \"items\": {\"t1\": [1, 2]},"
	TAIL ","
	"{\"id\": \"F\", \"probe\": \"p\", \"kind\": \"k\", \"title\": {\"ja\": \"t\", \"en\": \"t\"},"
	" \"fail_when\": {\"path\": \"v\", \"gt\": 100}, \"severity\": \"high\", \"items\": {\"t1\": [2]}," TAIL ","
	"{\"id\": \"S\", \"probe\": \"p\", \"kind\": \"s\", \"title\": {\"ja\": \"古い\", \"en\": \"The report is stale\"},"
	" \"incomplete_when\": {\"path\": \"age\", \"gt\": {\"param\": \"max_age\"}}, \"params\": {\"max_age\": 24},"
	" \"severity\": \"medium\", \"items\": {\"t1\": [3]}," TAIL
	"]}";

static void run(const char *tailoring, const char *obs_json)
{
	struct tk_err err = {0};
	if (tk_fixture_load(&tk_fx, "t1", tailoring, &err) != TK_OK)
		fail_msg("%s", err.msg);
	tk_fixture_eval(&tk_fx, obs_json);
}

static const cJSON *finding(const char *rule)
{
	const cJSON *f;
	cJSON_ArrayForEach(f, tk_fx.findings) if (strcmp(tk_json_str(f, "rule"), rule) == 0) return f;
	fail_msg("no finding of %s", rule);
	return NULL;
}

static void test_missing_evidence_is_incomplete(void **state)
{
	const cJSON *c;
	(void)state;
	run(NULL, "[{\"probe\": \"p\", \"target\": \"a\", \"kind\": \"k\", \"v\": 1,"
		  " \"cert\": {\"present\": false, \"error\": \"handshake failed: no shared cipher\"}}]");
	c = finding("C");
	assert_string_equal(tk_json_str(c, "status"), "error");
	assert_string_equal(tk_json_path(c, "evidence.message")->valuestring, "handshake failed: no shared cipher");
	assert_string_equal(tk_fixture_status(&tk_fx, "1"), "incomplete");
	assert_string_equal(tk_fixture_status(&tk_fx, "2"), "incomplete");
	tk_fixture_unload(&tk_fx);
	/* a failure of another rule still fails the item it maps to */
	run(NULL, "[{\"probe\": \"p\", \"target\": \"a\", \"kind\": \"k\", \"v\": 500, \"cert\": {}}]");
	assert_string_equal(tk_fixture_status(&tk_fx, "1"), "incomplete");
	assert_string_equal(tk_fixture_status(&tk_fx, "2"), "fail");
	assert_string_equal(tk_json_path(finding("C"), "evidence.message")->valuestring,
			    "the evidence this rule needs was not observed");
	tk_fixture_unload(&tk_fx);
	/* evidence present: judged as usual */
	run(NULL, "[{\"probe\": \"p\", \"target\": \"a\", \"kind\": \"k\", \"v\": 1, \"cert\": {\"present\": true, "
		  "\"expired\": true}}]");
	assert_string_equal(tk_fixture_status(&tk_fx, "1"), "fail");
	tk_fixture_unload(&tk_fx);
}

/* Evidence present but not to be relied on (what effect "incomplete" was for). */
static void test_stale_evidence_is_incomplete(void **state)
{
	const cJSON *s;
	(void)state;
	run(NULL, "[{\"probe\": \"p\", \"target\": \"acct\", \"kind\": \"s\", \"age\": 30}]");
	s = finding("S");
	assert_string_equal(tk_json_str(s, "status"), "error");
	assert_string_equal(tk_json_path(s, "evidence.message")->valuestring, "The report is stale");
	assert_int_equal(tk_json_path(s, "evidence.age")->valueint, 30); /* the facts it read */
	assert_string_equal(tk_fixture_status(&tk_fx, "3"), "incomplete");
	tk_fixture_unload(&tk_fx);
	/* fresh: no fail_when, so it passes */
	run(NULL, "[{\"probe\": \"p\", \"target\": \"acct\", \"kind\": \"s\", \"age\": 2}]");
	assert_string_equal(tk_json_str(finding("S"), "status"), "pass");
	assert_string_equal(tk_fixture_status(&tk_fx, "3"), "pass");
	tk_fixture_unload(&tk_fx);
	/* the bank's threshold (tailoring params) moves the line */
	run("{\"rules\": {\"S\": {\"params\": {\"max_age\": 48}}}}",
	    "[{\"probe\": \"p\", \"target\": \"acct\", \"kind\": \"s\", \"age\": 30}]");
	assert_string_equal(tk_fixture_status(&tk_fx, "3"), "pass");
	tk_fixture_unload(&tk_fx);
	/* an age the probe could not observe is an error naming the field, never a pass */
	run(NULL, "[{\"probe\": \"p\", \"target\": \"acct\", \"kind\": \"s\", \"unobserved\": {\"age\": \"bare CSV\"}}]");
	s = finding("S");
	assert_string_equal(tk_json_str(s, "status"), "error");
	assert_string_equal(tk_json_path(s, "evidence.field")->valuestring, "age");
	assert_string_equal(tk_fixture_status(&tk_fx, "3"), "incomplete");
	tk_fixture_unload(&tk_fx);
}

/* A rule file still using the dropped spelling does not load; the error names file, rule and field. */
static void test_old_spelling_is_a_load_error(void **state)
{
	struct tk_fixture old;
	struct tk_dataset ds;
	struct tk_ruleset *rs = NULL;
	struct tk_err err = {0};
	(void)state;
	tk_fixture_setup(&old, checklist_json,
			 "{\"rules\": [{\"id\": \"OLD\", \"probe\": \"p\", \"kind\": \"s\", \"title\": {\"ja\": \"t\", \"en\": "
			 "\"t\"}, \"fail_when\": {\"path\": \"age\", \"gt\": 24}, \"effect\": \"incomplete\", \"severity\": "
			 "\"medium\", \"items\": {\"t1\": [3]}," TAIL "]}",
			 probes);
	assert_int_equal(tk_dataset_open(&ds, &err), TK_OK);
	assert_int_equal(tk_ruleset_load(&ds, probes, &rs, &err), TK_ERR_CONFIG);
	if (!strstr(err.msg, "rules/r.json: rules[0] (rule OLD): effect: \"incomplete\" is no longer an effect"))
		fail_msg("unexpected: %s", err.msg);
	assert_null(rs);
	tk_dataset_close(&ds);
	tk_fixture_teardown(&old);
	setenv("TENKEN_DATA_DIR", tk_fx.dir, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_missing_evidence_is_incomplete),
		cmocka_unit_test(test_stale_evidence_is_incomplete),
		cmocka_unit_test(test_old_spelling_is_a_load_error),
	};
	tk_fx_spec = (struct tk_fixture_spec){checklist_json, rules_json, probes};
	return cmocka_run_group_tests(tests, tk_fixture_group_setup, tk_fixture_group_teardown);
}
