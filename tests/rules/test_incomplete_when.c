/*
 * test_incomplete_when.c - a rule's "incomplete_when": an observation that
 * lacks the evidence the rule needs makes the rule "error" (its items
 * incomplete, with the observation's reason), never pass; a failure elsewhere
 * still fails the item.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "rules.h"

static char *dir;
static const char *const probes[] = {"p", NULL};

static const char *checklist_json =
	"{\"id\": \"t1\", \"title\": {\"ja\": \"テスト\", \"en\": \"Test\"}, \"items\": ["
	"{\"no\": 1, \"chapter\": \"c\", \"goal\": \"g1\", \"party\": \"API接続先\"},"
	"{\"no\": 2, \"chapter\": \"c\", \"goal\": \"g2\", \"party\": \"API接続先\"}]}";

/* C judges a certificate; it needs one. F fails on v > 100, item 2 only. */
static const char *rules_json =
	"{\"rules\": ["
	"{\"id\": \"C\", \"probe\": \"p\", \"kind\": \"k\", \"title\": {\"ja\": \"t\", \"en\": \"t\"},"
	" \"incomplete_when\": {\"not\": {\"path\": \"cert.present\", \"eq\": true}}, \"incomplete_reason\": \"cert.error\","
	" \"fail_when\": {\"path\": \"cert.expired\", \"eq\": true}, \"severity\": \"high\", \"items\": {\"t1\": [1, 2]},"
	" \"remediation\": {\"ja\": \"直す\", \"en\": \"fix it\"}, \"basis\": \"seed\"},"
	"{\"id\": \"F\", \"probe\": \"p\", \"kind\": \"k\", \"title\": {\"ja\": \"t\", \"en\": \"t\"},"
	" \"fail_when\": {\"path\": \"v\", \"gt\": 100}, \"severity\": \"high\", \"items\": {\"t1\": [2]},"
	" \"remediation\": {\"ja\": \"直す\", \"en\": \"fix it\"}, \"basis\": \"seed\"}"
	"]}";

static int setup(void **state)
{
	char p[1024];
	(void)state;
	dir = tk_test_tmpdir();
	snprintf(p, sizeof(p), "%s/checklists", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/rules", dir);
	mkdir(p, 0755);
	free(tk_test_write(dir, "checklists/t1.json", checklist_json));
	free(tk_test_write(dir, "rules/r.json", rules_json));
	setenv("TENKEN_DATA_DIR", dir, 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unsetenv("TENKEN_DATA_DIR");
	tk_test_rmtree(dir);
	free(dir);
	return 0;
}

static const char *status_of(const cJSON *items, int no)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, items) if (cJSON_GetObjectItemCaseSensitive(it, "no")->valueint ==
					  no) return cJSON_GetObjectItemCaseSensitive(it, "status")
	    ->valuestring;
	fail_msg("no item %d", no);
	return NULL;
}

static void run(const char *obs_json, cJSON **findings, cJSON **items)
{
	struct tk_dataset ds;
	struct tk_checklist *cl = NULL;
	struct tk_ruleset *rs = NULL;
	struct tk_eval_input in = {0};
	struct tk_err err = {0};
	cJSON *obs = tk_test_json(obs_json);
	assert_int_equal(tk_dataset_open(&ds, &err), TK_OK);
	assert_int_equal(tk_checklist_load(&ds, "t1", &cl, &err), TK_OK);
	if (tk_ruleset_load(&ds, probes, &rs, &err) != TK_OK)
		fail_msg("%s", err.msg);
	in.rules = rs;
	in.checklist = cl;
	in.observations = obs;
	in.lang = "en";
	assert_int_equal(tk_evaluate(&in, findings, items, &err), TK_OK);
	cJSON_Delete(obs);
	tk_ruleset_free(rs);
	tk_checklist_free(cl);
	tk_dataset_close(&ds);
}

static void test_missing_evidence_is_incomplete(void **state)
{
	cJSON *f, *it;
	const cJSON *c;
	(void)state;
	run("[{\"probe\": \"p\", \"target\": \"a\", \"kind\": \"k\", \"v\": 1,"
	    " \"cert\": {\"present\": false, \"error\": \"handshake failed: no shared cipher\"}}]", &f, &it);
	c = cJSON_GetArrayItem(f, 0);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(c, "rule")->valuestring, "C");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(c, "status")->valuestring, "error");
	assert_string_equal(tk_json_path(c, "evidence.message")->valuestring, "handshake failed: no shared cipher");
	assert_string_equal(status_of(it, 1), "incomplete");
	assert_string_equal(status_of(it, 2), "incomplete");
	cJSON_Delete(f);
	cJSON_Delete(it);
	/* a failure of another rule still fails the item it maps to */
	run("[{\"probe\": \"p\", \"target\": \"a\", \"kind\": \"k\", \"v\": 500, \"cert\": {}}]", &f, &it);
	assert_string_equal(status_of(it, 1), "incomplete");
	assert_string_equal(status_of(it, 2), "fail");
	assert_string_equal(tk_json_path(cJSON_GetArrayItem(f, 0), "evidence.message")->valuestring,
			    "the evidence this rule needs was not observed");
	cJSON_Delete(f);
	cJSON_Delete(it);
	/* evidence present: judged as usual */
	run("[{\"probe\": \"p\", \"target\": \"a\", \"kind\": \"k\", \"v\": 1, \"cert\": {\"present\": true, "
	    "\"expired\": true}}]",
	    &f, &it);
	assert_string_equal(status_of(it, 1), "fail");
	cJSON_Delete(f);
	cJSON_Delete(it);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_missing_evidence_is_incomplete, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
