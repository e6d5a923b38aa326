/* test_waivers.c - the inputs applied in rules/: the attestation CSV parser and
 * header check, the waivers file validator, and waivers/attestation applied to a
 * report document (expiry, waived items, contradictions). */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attestation.h"
#include "csvparse.h"
#include "rules.h"
#include "waivers.h"

static void test_parse_basic(void **state)
{
	cJSON *rows = tk_test_csv("\xEF\xBB\xBF" "a,b,c\r\n1,\"x, y\",\"say \"\"hi\"\"\"\r\n2,\"multi\r\nline\",\r\n");
	(void)state;
	assert_int_equal(cJSON_GetArraySize(rows), 3);
	assert_string_equal(tk_test_cell(rows, 0, 0), "a");
	assert_string_equal(tk_test_cell(rows, 1, 1), "x, y");
	assert_string_equal(tk_test_cell(rows, 1, 2), "say \"hi\"");
	assert_string_equal(tk_test_cell(rows, 2, 1), "multi\r\nline");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetArrayItem(rows, 2)), 3);
	assert_string_equal(tk_test_cell(rows, 2, 2), "");
	cJSON_Delete(rows);
	rows = tk_test_csv("only\nlf\n\nno-final-newline");
	assert_int_equal(cJSON_GetArraySize(rows), 3);
	assert_string_equal(tk_test_cell(rows, 2, 0), "no-final-newline");
	cJSON_Delete(rows);
}


static void test_parse_errors(void **state)
{
	struct tk_err err = {0};
	cJSON *rows = NULL;
	const char *bad[] = {"a,\"open\r\nstill open", "a,b\"c", "a,\"q\"x", NULL};
	const char *want[] = {"line 1: unterminated", "line 1: quote inside", "line 1: text after", NULL};
	size_t i;
	char *big;
	(void)state;
	for (i = 0; bad[i]; i++) {
		memset(&err, 0, sizeof(err));
		assert_int_not_equal(tk_csv_parse("t.csv", bad[i], strlen(bad[i]), &rows, &err), TK_OK);
		assert_null(rows);
		assert_non_null(strstr(err.msg, want[i]));
		assert_non_null(strstr(err.msg, "t.csv"));
	}
	/* a field over the bound is refused, not truncated */
	big = malloc(TK_CSV_MAX_FIELD + 10);
	memset(big, 'x', TK_CSV_MAX_FIELD + 9);
	big[TK_CSV_MAX_FIELD + 9] = '\0';
	assert_int_equal(tk_csv_parse("t.csv", big, strlen(big), &rows, &err), TK_ERR_LIMIT);
	assert_non_null(strstr(err.msg, "field longer"));
	free(big);
}


static void test_waivers_parse(void **state)
{
	struct tk_err err = {0};
	cJSON *doc = NULL;
	const char *ok =
	    "{\"waivers\":[{\"rule\":\"R\",\"justification\":\"j\",\"approver\":\"a\",\"expires\":\"2030-01-01\"}]}";
	const char *both = "{\"waivers\":[{\"rule\":\"R\",\"item\":3,\"justification\":\"j\",\"approver\":\"a\","
			   "\"expires\":\"2030-01-01\"}]}";
	const char *unknown = "{\"waivers\":[{\"rule\":\"R\",\"justification\":\"j\",\"approver\":\"a\",\"expires\":"
			      "\"2030-01-01\",\"x\":1}]}";
	(void)state;
	assert_int_equal(tk_waivers_parse("w.json", ok, strlen(ok), &doc, &err), TK_OK);
	cJSON_Delete(doc);
	assert_int_equal(tk_waivers_parse("w.json", both, strlen(both), &doc, &err), TK_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "w.json: waivers[0]"));
	assert_int_equal(tk_waivers_parse("w.json", unknown, strlen(unknown), &doc, &err), TK_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "waivers[0].x: unknown field"));
	assert_int_equal(tk_waivers_parse("w.json", "[", 1, &doc, &err), TK_ERR_PARSE);
}


static void test_attestation_parse(void **state)
{
	struct tk_err err = {0};
	cJSON *rows = NULL;
	const char *noheader = "1,x,a,b,c,d,e\n";
	const char *narrow = "通番,区分,a,b,c,d,e\n1,x,a,b,c,d,e\n2,x,a\n";
	(void)state;
	assert_int_equal(tk_attestation_parse("a.csv", noheader, strlen(noheader), &rows, &err), TK_ERR_PARSE);
	assert_null(rows);
	assert_non_null(strstr(err.msg, "a.csv: record 1: expected the checklist header"));
	assert_int_equal(tk_attestation_parse("a.csv", narrow, strlen(narrow), &rows, &err), TK_ERR_PARSE);
	assert_null(rows);
	assert_non_null(strstr(err.msg, "a.csv: record 3: 3 fields, expected 10"));
	assert_int_not_equal(tk_attestation_parse("a.csv", "a,\"x", 4, &rows, &err), TK_OK);
	assert_non_null(strstr(err.msg, "a.csv: line 1"));
}

/* A report with two failing findings on item 5 (one per target) and a passing item 6. */
static cJSON *report_doc(void)
{
	return tk_test_json("{\"complete\":true,\"checklist\":{\"id\":\"cl\"},"
			    "\"findings\":[{\"rule\":\"R-A\",\"target\":\"https://a.example/\",\"status\":\"fail\","
			    "\"items\":{\"cl\":[5]}},{\"rule\":\"R-B\",\"target\":\"https://b.example/\",\"status\":\"fail\","
			    "\"items\":{\"cl\":[5]}}],\"items\":[{\"no\":5,\"status\":\"fail\",\"findings\":[\"R-A\",\"R-B\"]},"
			    "{\"no\":6,\"status\":\"pass\"}]}");
}

static const cJSON *nth(const cJSON *r, const char *arr, int i)
{
	return cJSON_GetArrayItem(cJSON_GetObjectItem(r, arr), i);
}

static void test_waivers_apply(void **state)
{
	char *dir = tk_test_tmpdir(), *f;
	struct tk_err err = {0};
	cJSON *r = report_doc();
	struct tk_verdict v;
	(void)state;
	/* one waiver by item and target glob (in date), one by rule that expired before now */
	f = tk_test_write(dir, "w.json",
			  "{\"waivers\":[{\"id\":\"W-1\",\"item\":5,\"target\":\"https://a.*\",\"justification\":\"j\","
			  "\"approver\":\"a\",\"expires\":\"2030-01-01\"},{\"id\":\"W-2\",\"rule\":\"R-B\","
			  "\"justification\":\"j\",\"approver\":\"a\",\"expires\":\"2020-01-01\"}]}");
	assert_int_equal(tk_waivers_apply(r, f, 1700000000, &err), TK_OK);
	free(f);
	assert_non_null(cJSON_GetObjectItem(nth(r, "findings", 0), "waiver"));
	assert_null(cJSON_GetObjectItem(nth(r, "findings", 1), "waiver"));
	/* R-B still fails (its waiver expired): item 5 stays failing and says which waiver expired */
	assert_string_equal(tk_json_str(nth(r, "items", 0), "status"), "fail");
	assert_non_null(cJSON_GetObjectItem(nth(r, "items", 0), "expired_waivers"));
	tk_verdict_compute(r, &v);
	assert_int_equal(v.gate, TK_GATE_FAIL);
	cJSON_Delete(r);
	/* every failing finding waived and in date: the item is waived (never pass), the gate passes */
	r = report_doc();
	f = tk_test_write(dir, "w2.json",
			  "{\"waivers\":[{\"item\":5,\"justification\":\"j\",\"approver\":\"a\",\"expires\":\"2030-01-01\"}]}");
	assert_int_equal(tk_waivers_apply(r, f, 1700000000, &err), TK_OK);
	free(f);
	assert_string_equal(tk_json_str(nth(r, "items", 0), "status"), "waived");
	tk_verdict_compute(r, &v);
	assert_int_equal(v.gate, TK_GATE_PASS);
	assert_int_equal(v.items[5], 1);
	/* the waivers file and the field are named in the error */
	f = tk_test_write(dir, "bad.json", "{\"waivers\":[{\"rule\":\"R\"}]}");
	assert_int_equal(tk_waivers_apply(r, f, 1700000000, &err), TK_ERR_CONFIG);
	free(f);
	assert_non_null(strstr(err.msg, "bad.json: waivers[0].justification: required"));
	cJSON_Delete(r);
	tk_test_rmtree(dir);
	free(dir);
}

static void test_attestation_apply(void **state)
{
	char *dir = tk_test_tmpdir(), *f;
	struct tk_err err = {0};
	cJSON *r = report_doc();
	const cJSON *att;
	(void)state;
	f = tk_test_write(dir, "a.csv",
			  "通番,区分,a,b,現在の対応状況,d,計画\n5,x,a,b,対応済み,d,\n6,x,a,b,未対応,d,来期\n"
			  "99,x,a,b,はい,d,\n7,x,a,b,,d,\n");
	assert_int_equal(tk_attestation_apply(r, f, &err), TK_OK);
	free(f);
	att = cJSON_GetObjectItem(nth(r, "items", 0), "attestation");
	assert_string_equal(tk_json_str(att, "claim"), "implemented");
	assert_non_null(strstr(tk_json_str(att, "contradiction"), "checks fail: R-A R-B"));
	att = cJSON_GetObjectItem(nth(r, "items", 1), "attestation");
	assert_string_equal(tk_json_str(att, "claim"), "not_implemented");
	assert_string_equal(tk_json_str(att, "plan"), "来期");
	att = cJSON_GetObjectItem(r, "attestation");
	assert_int_equal(cJSON_GetObjectItem(att, "answers")->valueint, 2);
	assert_int_equal(cJSON_GetObjectItem(att, "contradictions")->valueint, 2);
	assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(att, "unknown_items"), 0)->valuestring, "99");
	cJSON_Delete(r);
	tk_test_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_basic),   cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_waivers_parse), cmocka_unit_test(test_attestation_parse),
		cmocka_unit_test(test_waivers_apply), cmocka_unit_test(test_attestation_apply),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
