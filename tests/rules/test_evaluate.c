/*
 * test_evaluate.c - findings and item statuses (fail / pass / incomplete /
 * manual / not_applicable), tailoring, and rule validation, on a small data
 * set loaded through TENKEN_DATA_DIR.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rulefixture.h"
#include "rules.h"

static const char *const probes[] = {"p", "q", NULL};

static const char *checklist_json =
	"{\"id\": \"t1\", \"title\": {\"ja\": \"テスト\", \"en\": \"Test\"}, \"items\": ["
	"{\"no\": 1, \"chapter\": \"c\", \"goal\": \"g1\", \"party\": \"API接続先\"},"
	"{\"no\": 2, \"chapter\": \"c\", \"goal\": \"g2\", \"party\": \"API接続先\"},"
	"{\"no\": 3, \"chapter\": \"c\", \"goal\": \"g3\", \"party\": \"API接続先\"},"
	"{\"no\": 4, \"chapter\": \"c\", \"goal\": \"g4\", \"party\": \"API接続先\"},"
	"{\"no\": 5, \"chapter\": \"c\", \"goal\": \"g5\", \"party\": \"共通\"},"
	"{\"no\": 6, \"chapter\": \"c\", \"goal\": \"g6\", \"party\": \"共通\"},"
	"{\"no\": 7, \"chapter\": \"c\", \"goal\": \"g7\", \"party\": \"共通\"}]}";

#define RULE(id, probe, kind, cond, items, extra)                                            \
	"{\"id\": \"" id "\", \"probe\": \"" probe "\", \"kind\": \"" kind "\","                \
	" \"title\": {\"ja\": \"t\", \"en\": \"t\"},"                                          \
	" \"fail_when\": " cond ", \"severity\": \"high\", \"items\": {\"t1\": " items "},"     \
	" \"remediation\": {\"ja\": \"直す\", \"en\": \"fix it\"}, \"basis\": \"seed\"" extra "}"

static const char *rules_json =
	"{\"rules\": ["
	RULE("A", "p", "k", "{\"path\": \"v\", \"gt\": {\"param\": \"limit\"}}", "[1]",
	     ", \"params\": {\"limit\": 10}") ","
	RULE("B", "p", "k", "{\"path\": \"v\", \"gt\": 1000}", "[1, 2]", "") ","
	RULE("C", "q", "k", "{\"path\": \"v\", \"gt\": 1000}", "[3, 6]", "") ","
	RULE("D", "p", "other", "{\"path\": \"v\", \"gt\": 1000}", "[4]", "") ","
	RULE("W", "p", "k", "{\"path\": \"v\", \"gt\": 0}", "[6]", ", \"effect\": \"warn\"") ","
	RULE("E", "p", "k", "{\"path\": \"v\", \"gt\": 0}", "[]", "") ","
	RULE("U", "p", "u", "{\"path\": \"x\", \"eq\": \"bad\"}", "[4]",
	     ", \"when\": {\"path\": \"on\", \"eq\": true}") ","
	RULE("P", "p", "k", "{\"path\": \"v\", \"gt\": 0}", "[7]", ", \"effect\": \"warn\", \"covers\": \"part\"") ","
	RULE("Q", "p", "k", "{\"path\": \"v\", \"gt\": 1000}", "[2, 7]", ", \"covers\": \"part\"")
	"]}";

static const char *observations_json =
	"[{\"probe\": \"p\", \"target\": \"t1\", \"kind\": \"k\", \"v\": 50},"
	" {\"probe\": \"q\", \"target\": \"t2\", \"kind\": \"error\", \"error\": \"timeout\", \"message\": \"no answer\"}]";

static int load(struct tk_fixture *w, const char *tailoring, struct tk_err *err)
{
	*w = tk_fx;
	return tk_fixture_load(w, "t1", tailoring, err);
}

static void evaluate(struct tk_fixture *w)
{
	tk_fixture_eval(w, observations_json);
}

static char *findings_of(const struct tk_fixture *w, const char *no)
{
	return cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(tk_fixture_item(w, no), "findings"));
}

static void test_item_statuses(void **state)
{
	struct tk_fixture w;
	struct tk_err err = {0};
	char *s;
	(void)state;
	assert_int_equal(load(&w, NULL, &err), TK_OK);
	evaluate(&w);
	assert_int_equal(cJSON_GetArraySize(w.items), 7);
	/* 1: A fails (50 > 10), B passes -> fail, behind it only A */
	assert_string_equal(tk_fixture_status(&w, "1"), "fail");
	s = findings_of(&w, "1");
	assert_string_equal(s, "[\"A\"]");
	free(s);
	/* 2: only B, which passes */
	assert_string_equal(tk_fixture_status(&w, "2"), "pass");
	/* 3: C's probe q errored on its target -> incomplete */
	assert_string_equal(tk_fixture_status(&w, "3"), "incomplete");
	s = findings_of(&w, "3");
	assert_string_equal(s, "[\"C\"]");
	free(s);
	/* 4: D's kind was never observed -> manual with a reason */
	assert_string_equal(tk_fixture_status(&w, "4"), "manual");
	assert_non_null(
	    strstr(tk_json_str(tk_fixture_item(&w, "4"), "reason"), "not configured"));
	/* 5: no rule maps to it -> manual */
	assert_string_equal(tk_fixture_status(&w, "5"), "manual");
	assert_non_null(
	    strstr(tk_json_str(tk_fixture_item(&w, "5"), "reason"), "no rule covers"));
	assert_string_equal(tk_json_str(tk_fixture_item(&w, "5"), "reason_code"), "no_rule");
	assert_string_equal(tk_json_str(tk_fixture_item(&w, "4"), "reason_code"),
			    "not_configured");
	/* 6: C errored, W warned: an error and no failure -> incomplete */
	assert_string_equal(tk_fixture_status(&w, "6"), "incomplete");
	tk_fixture_unload(&w);
}

static void test_finding_fields(void **state)
{
	struct tk_fixture w;
	struct tk_err err = {0};
	const cJSON *f, *a = NULL;
	int n = 0;
	(void)state;
	assert_int_equal(load(&w, NULL, &err), TK_OK);
	evaluate(&w);
	cJSON_ArrayForEach(f, w.findings)
	{
		n++;
		if (strcmp(cJSON_GetObjectItemCaseSensitive(f, "rule")->valuestring, "A") == 0)
			a = f;
	}
	/* A, B, W, E, P, Q judge the one p/k observation; C gets an error finding */
	assert_int_equal(n, 7);
	assert_non_null(a);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(a, "status")->valuestring, "fail");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(a, "target")->valuestring, "t1");
	/* the rule's texts are not repeated on the finding: they are in the catalogue */
	assert_null(cJSON_GetObjectItemCaseSensitive(a, "severity"));
	assert_null(cJSON_GetObjectItemCaseSensitive(a, "remediation"));
	assert_null(cJSON_GetObjectItemCaseSensitive(a, "title"));
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(a, "observation")->valueint, 0);
	{
		cJSON *cat = tk_rules_catalogue(w.rs);
		const cJSON *ra = cJSON_GetObjectItemCaseSensitive(cat, "A");
		assert_non_null(ra);
		assert_string_equal(cJSON_GetObjectItemCaseSensitive(ra, "severity")->valuestring, "high");
		assert_string_equal(
		    cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(ra, "remediation"), "en")
			->valuestring,
		    "fix it");
		assert_string_equal(cJSON_GetObjectItemCaseSensitive(ra, "effect")->valuestring, "fail");
		cJSON_Delete(cat);
	}
	/* evidence: the facts the rule judged */
	assert_int_equal(
	    cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(a, "evidence"), "v")->valueint, 50);
	assert_int_equal(
	    cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(a, "items"), "t1"), 0)
		->valueint,
	    1);
	tk_fixture_unload(&w);
}

static void test_tailoring_changes_outcomes(void **state)
{
	struct tk_fixture w;
	struct tk_err err = {0};
	(void)state;
	assert_int_equal(load(&w,
			      "{\"name\": \"Bank X\", \"rules\": {\"A\": {\"params\": {\"limit\": 100}}},"
			      " \"not_applicable\": [{\"checklist\": \"t1\", \"item\": 5, \"justification\": \"no mobile app\"}],"
			      " \"add_items\": [{\"checklist\": \"t1\", \"no\": \"B-1\", \"chapter\": \"独自確認項目\", \"goal\": \"bank own\", \"party\": \"API接続先\"}],"
			      " \"map\": [{\"rule\": \"E\", \"checklist\": \"t1\", \"items\": [\"B-1\"]}],"
			      " \"disable_rules\": [\"C\"]}",
			      &err),
			 TK_OK);
	evaluate(&w);
	/* A's limit raised to 100: 50 passes now */
	assert_string_equal(tk_fixture_status(&w, "1"), "pass");
	assert_string_equal(tk_fixture_status(&w, "5"), "not_applicable");
	assert_string_equal(tk_json_str(tk_fixture_item(&w, "5"), "justification"),
			    "no mobile app");
	/* C disabled: item 3 has no evaluated rule -> manual; item 6 only W's warning -> pass */
	assert_string_equal(tk_fixture_status(&w, "3"), "manual");
	assert_string_equal(tk_fixture_status(&w, "6"), "pass");
	assert_int_equal(tk_json_path(tk_fixture_item(&w, "6"), "counts.warn")->valueint, 1);
	/* ... told apart from a clean pass */
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(tk_fixture_item(&w, "6"), "with_warnings")));
	assert_null(cJSON_GetObjectItemCaseSensitive(tk_fixture_item(&w, "1"), "with_warnings"));
	/* the bank's own item, mapped to E (which fails) */
	assert_int_equal(cJSON_GetArraySize(w.items), 8);
	assert_string_equal(tk_fixture_status(&w, "B-1"), "fail");
	tk_fixture_unload(&w);
}

/* A field the probe tried and failed to observe: the rules that read it are
 * errors (items incomplete, with the reason), never pass and never manual. */
static void test_unobserved_fields(void **state)
{
	struct tk_fixture w;
	struct tk_err err = {0};
	const cJSON *f;
	int nu = 0, na = 0;
	(void)state;
	assert_int_equal(load(&w, NULL, &err), TK_OK);
	tk_fixture_eval(&w, "[{\"probe\": \"p\", \"target\": \"t3\", \"kind\": \"k\", \"v\": 5,"
			 "  \"unobserved\": {\"v\": \"iam ListThings: HTTP 403 AccessDenied\"}},"
			 " {\"probe\": \"p\", \"target\": \"t4\", \"kind\": \"u\", \"on\": false,"
			 "  \"unobserved\": {\"x\": \"denied\"}},"
			 " {\"probe\": \"p\", \"target\": \"t5\", \"kind\": \"u\", \"on\": true,"
			 "  \"unobserved\": {\"x\": \"events ListRules: throttled after 4 retries\"}}]");
	/* v was 5 (A would pass: 5 <= 10) but is flagged unobserved: A and B are errors */
	assert_string_equal(tk_fixture_status(&w, "1"), "incomplete");
	assert_string_equal(tk_fixture_status(&w, "2"), "incomplete");
	/* U: t4 does not apply (on is observed false), t5 is an error -> item 4 incomplete, not manual */
	assert_string_equal(tk_fixture_status(&w, "4"), "incomplete");
	cJSON_ArrayForEach(f, w.findings)
	{
		const char *rule = cJSON_GetObjectItemCaseSensitive(f, "rule")->valuestring;
		const cJSON *ev = cJSON_GetObjectItemCaseSensitive(f, "evidence");
		if (strcmp(rule, "U") == 0) {
			nu++;
			assert_string_equal(cJSON_GetObjectItemCaseSensitive(f, "target")->valuestring, "t5");
			assert_string_equal(cJSON_GetObjectItemCaseSensitive(f, "status")->valuestring, "error");
			assert_string_equal(cJSON_GetObjectItemCaseSensitive(ev, "field")->valuestring, "x");
			assert_non_null(
			    strstr(cJSON_GetObjectItemCaseSensitive(ev, "message")->valuestring, "throttled"));
		} else if (strcmp(rule, "A") == 0) {
			na++;
			assert_string_equal(cJSON_GetObjectItemCaseSensitive(f, "status")->valuestring, "error");
			assert_non_null(
			    strstr(cJSON_GetObjectItemCaseSensitive(ev, "message")->valuestring, "403 AccessDenied"));
		}
	}
	assert_int_equal(nu, 1);
	assert_int_equal(na, 1);
	tk_fixture_unload(&w);

	/* an unobserved field no rule reads changes nothing */
	assert_int_equal(load(&w, NULL, &err), TK_OK);
	tk_fixture_eval(&w, "[{\"probe\": \"p\", \"target\": \"t3\", \"kind\": \"k\", \"v\": 5,"
			 "  \"unobserved\": {\"zzz\": \"denied\"}}]");
	assert_string_equal(tk_fixture_status(&w, "1"), "pass");
	assert_string_equal(tk_fixture_status(&w, "4"), "manual");
	tk_fixture_unload(&w);
}

/* "covers": "part": evidence shown, never a pass on its own; a failure still fails */
static void test_covers_part(void **state)
{
	struct tk_fixture w;
	struct tk_err err = {0};
	const cJSON *it;
	char *s;
	(void)state;
	assert_int_equal(load(&w, NULL, &err), TK_OK);
	evaluate(&w);
	/* 2: B (whole) passes beside Q (part) -> pass */
	assert_string_equal(tk_fixture_status(&w, "2"), "pass");
	/* 7: only part rules: P warns, Q passes -> manual, evidence attached, warnings told */
	it = tk_fixture_item(&w, "7");
	assert_string_equal(tk_fixture_status(&w, "7"), "manual");
	assert_string_equal(tk_json_str(it, "reason_code"), "partial_evidence");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "with_warnings")));
	s = findings_of(&w, "7");
	assert_string_equal(s, "[\"P\",\"Q\"]");
	free(s);
	tk_fixture_unload(&w);
	/* a part rule that fails fails the item */
	assert_int_equal(load(&w, "{\"rules\": {\"P\": {\"effect\": \"fail\"}}}", &err), TK_OK);
	evaluate(&w);
	assert_string_equal(tk_fixture_status(&w, "7"), "fail");
	tk_fixture_unload(&w);
}

/* report/3 entries: each entry judged on its own fields, else the observation's; target and entry index */
static void test_entries(void **state)
{
	struct tk_fixture w;
	struct tk_err err = {0};
	const cJSON *f;
	int na = 0;
	(void)state;
	assert_int_equal(load(&w, NULL, &err), TK_OK);
	tk_fixture_eval(&w, "[{\"probe\": \"p\", \"target\": \"h/pkg\", \"kind\": \"k\", \"entry_key\": \"id\","
			 "  \"v\": 50, \"entries\": [{\"id\": \"e1\", \"v\": 5}, {\"id\": \"e2\"}]},"
			 " {\"probe\": \"p\", \"target\": \"h/none\", \"kind\": \"k\", \"entry_key\": \"id\","
			 "  \"v\": 50, \"entries\": []}]");
	cJSON_ArrayForEach(f, w.findings)
	{
		const char *target = cJSON_GetObjectItemCaseSensitive(f, "target")->valuestring;
		const char *st = cJSON_GetObjectItemCaseSensitive(f, "status")->valuestring;
		const cJSON *ev = cJSON_GetObjectItemCaseSensitive(f, "evidence");
		assert_null(strstr(target, "h/none")); /* no entries: nothing judged */
		assert_int_equal(cJSON_GetObjectItemCaseSensitive(f, "observation")->valueint, 0);
		if (strcmp(cJSON_GetObjectItemCaseSensitive(f, "rule")->valuestring, "A") != 0)
			continue;
		na++;
		if (strcmp(target, "h/pkg/e1") == 0) {
			/* the entry's own v (5 <= 10) */
			assert_string_equal(st, "pass");
			assert_int_equal(cJSON_GetObjectItemCaseSensitive(f, "entry")->valueint, 0);
			assert_int_equal(cJSON_GetObjectItemCaseSensitive(ev, "v")->valueint, 5);
		} else {
			/* e2 has no v: the observation's (50 > 10) */
			assert_string_equal(target, "h/pkg/e2");
			assert_string_equal(st, "fail");
			assert_int_equal(cJSON_GetObjectItemCaseSensitive(f, "entry")->valueint, 1);
			assert_int_equal(cJSON_GetObjectItemCaseSensitive(ev, "v")->valueint, 50);
		}
	}
	assert_int_equal(na, 2);
	assert_string_equal(tk_fixture_status(&w, "1"), "fail");
	tk_fixture_unload(&w);
}

static void tailoring_error(const char *text, const char *msg)
{
	struct tk_fixture w;
	struct tk_err err = {0};
	assert_int_equal(load(&w, text, &err), TK_ERR_CONFIG);
	if (!strstr(err.msg, msg))
		fail_msg("expected \"%s\" in \"%s\"", msg, err.msg);
	tk_fixture_unload(&w);
}

static void test_tailoring_errors(void **state)
{
	(void)state;
	tailoring_error("{\"disable_rules\": [\"NOPE\"]}", "tailor.json: disable_rules: no rule \"NOPE\"");
	tailoring_error("{\"rules\": {\"A\": {\"params\": {\"limti\": 3}}}}", "tailor.json: rules.A.params.limti: the rule has no such parameter");
	tailoring_error("{\"rules\": {\"A\": {\"params\": {\"limit\": \"3\"}}}}", "rules.A.params.limit: wrong type");
	tailoring_error("{\"rules\": {\"A\": {\"severity\": \"extreme\"}}}", "rules.A.severity");
	tailoring_error("{\"not_applicable\": [{\"checklist\": \"t1\", \"item\": 99, \"justification\": \"x\"}]}", "not_applicable[0].item: no such item");
	tailoring_error("{\"not_applicable\": [{\"checklist\": \"t1\", \"item\": 1}]}", "not_applicable[0].justification");
	tailoring_error("{\"map\": [{\"rule\": \"A\", \"checklist\": \"t1\", \"items\": [42]}]}", "map[0].items: no item 42");
	tailoring_error("{\"add_items\": [{\"checklist\": \"t1\", \"no\": \"1\", \"chapter\": \"c\", \"goal\": \"g\"}]}", "add_items[0].party");
	tailoring_error("{\"disabled\": []}", "tailor.json.disabled: unknown key");
	/* the dropped spelling: one mechanism (incomplete_when), and the error says how to convert */
	tailoring_error("{\"rules\": {\"A\": {\"effect\": \"incomplete\"}}}",
			"tailor.json: rules.A.effect: \"incomplete\" is no longer an effect: it was folded into \"incomplete_when\"");
	tailoring_error("{\"map\": {}", "tailor.json: malformed JSON");
}

static void test_rule_validation(void **state)
{
	struct tk_dataset ds;
	struct tk_err err = {0};
	struct {
		const char *rule, *msg;
	} cases[] = {
	    {RULE("lower", "p", "k", "{\"path\": \"v\", \"eq\": 1}", "[1]", ""), "must use A-Z"},
	    {RULE("X", "nosuch", "k", "{\"path\": \"v\", \"eq\": 1}", "[1]", ""), "probe: no probe named \"nosuch\""},
	    {RULE("X", "p", "k", "{\"path\": \"v\", \"eq\": 1}", "[99]", ""), "items.t1: no item 99"},
	    {RULE("X", "p", "k", "{\"path\": \"v\", \"lt\": {\"param\": \"m\"}}", "[1]", ""),
	     "unknown parameter \"m\""},
	    {RULE("X", "p", "k", "{\"path\": \"v\", \"eq\": 1}", "[1]", ", \"effect\": \"maybe\""),
	     "(rule X): effect: expected \"fail\" or \"warn\""},
	    {RULE("X", "p", "k", "{\"path\": \"v\", \"eq\": 1}", "[1]", ", \"effect\": \"incomplete\""),
	     "(rule X): effect: \"incomplete\" is no longer an effect: it was folded into \"incomplete_when\" (rename "
	     "\"fail_when\" to \"incomplete_when\" and delete \"effect\""},
	    {RULE("X", "p", "k", "{\"path\": \"v\", \"eq\": 1}", "[1]", ", \"colour\": 1"), "colour: unknown key"},
	    {RULE("X", "p", "k", "{\"path\": \"v\", \"eq\": 1}", "[1]", ", \"covers\": \"most\""),
	     "(rule X): covers: expected \"whole\" (the default) or \"part\""},
	    {"{\"id\": \"X\", \"probe\": \"p\", \"kind\": \"k\", \"title\": {\"ja\": \"t\"}, \"fail_when\": {\"path\": "
	     "\"v\", \"eq\": 1},"
	     " \"severity\": \"high\", \"items\": {\"t1\": [1]}, \"remediation\": {\"ja\": \"r\", \"en\": \"r\"}, "
	     "\"basis\": \"b\"}",
	     "title.en"},
	    {"{\"id\": \"X\", \"probe\": \"p\", \"kind\": \"k\", \"title\": {\"ja\": \"t\", \"en\": \"t\"}, "
	     "\"fail_when\": {\"path\": \"v\", \"eq\": 1},"
	     " \"severity\": \"high\", \"items\": {}, \"remediation\": {\"ja\": \"r\", \"en\": \"r\"}, \"basis\": "
	     "\"b\"}",
	     "items.t1: missing (map the rule to every checklist that has no mapping of its own)"},
	};
	size_t i;
	(void)state;
	assert_int_equal(tk_dataset_open(&ds, &err), TK_OK);
	for (i = 0; i < TK_ARRAY_LEN(cases); i++) {
		cJSON *r = tk_test_json(cases[i].rule);
		assert_int_equal(tk_rule_validate(r, "rules/x.json: rules[0]", probes, &ds, &err), TK_ERR_CONFIG);
		if (!strstr(err.msg, cases[i].msg) || !strstr(err.msg, "rules/x.json: rules[0]"))
			fail_msg("case %zu: expected \"%s\" in \"%s\"", i, cases[i].msg, err.msg);
		cJSON_Delete(r);
	}
	tk_dataset_close(&ds);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_item_statuses),
	    cmocka_unit_test(test_finding_fields),
	    cmocka_unit_test(test_tailoring_changes_outcomes),
	    cmocka_unit_test(test_tailoring_errors),
	    cmocka_unit_test(test_rule_validation),
	    cmocka_unit_test(test_unobserved_fields),
	    cmocka_unit_test(test_entries),
	    cmocka_unit_test(test_covers_part),
	};
	tk_fx_spec = (struct tk_fixture_spec){checklist_json, rules_json, probes};
	return cmocka_run_group_tests(tests, tk_fixture_group_setup, tk_fixture_group_teardown);
}
