/* test_reports_csv.c - the attestation CSV parser, CSV/XML escaping, and a
 * CSV write -> parse round trip of awkward text. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "csvparse.h"
#include "report.h"
#include "rutil.h"

static cJSON *parse_ok(const char *s)
{
	cJSON *rows = NULL;
	struct tk_err err = {0};
	assert_int_equal(tk_csv_parse("t.csv", s, strlen(s), &rows, &err), TK_OK);
	return rows;
}

static const char *cell(const cJSON *rows, int r, int c)
{
	return cJSON_GetArrayItem(cJSON_GetArrayItem(rows, r), c)->valuestring;
}

static void test_parse_basic(void **state)
{
	cJSON *rows = parse_ok("\xEF\xBB\xBF" "a,b,c\r\n1,\"x, y\",\"say \"\"hi\"\"\"\r\n2,\"multi\r\nline\",\r\n");
	(void)state;
	assert_int_equal(cJSON_GetArraySize(rows), 3);
	assert_string_equal(cell(rows, 0, 0), "a");
	assert_string_equal(cell(rows, 1, 1), "x, y");
	assert_string_equal(cell(rows, 1, 2), "say \"hi\"");
	assert_string_equal(cell(rows, 2, 1), "multi\r\nline");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetArrayItem(rows, 2)), 3);
	assert_string_equal(cell(rows, 2, 2), "");
	cJSON_Delete(rows);
	rows = parse_ok("only\nlf\n\nno-final-newline");
	assert_int_equal(cJSON_GetArraySize(rows), 3);
	assert_string_equal(cell(rows, 2, 0), "no-final-newline");
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

static void test_roundtrip(void **state)
{
	const char *texts[] = {"plain", "comma, inside", "quote \" inside", "line\nbreak", "\"\"", "", "日本語、カンマ,",
			       NULL};
	struct tk_buf b;
	cJSON *rows;
	size_t i;
	(void)state;
	tk_buf_init(&b, 1 << 20);
	for (i = 0; texts[i]; i++) {
		if (i)
			tk_buf_puts(&b, ",");
		assert_int_equal(tk_r_csv(&b, texts[i]), TK_OK);
	}
	tk_buf_puts(&b, "\r\n");
	rows = parse_ok(b.data);
	assert_int_equal(cJSON_GetArraySize(rows), 1);
	for (i = 0; texts[i]; i++)
		assert_string_equal(cell(rows, 0, (int)i), texts[i]);
	cJSON_Delete(rows);
	tk_buf_free(&b);
}

static void test_xml_escape(void **state)
{
	struct tk_buf b;
	(void)state;
	tk_buf_init(&b, 1 << 16);
	assert_int_equal(tk_r_xml(&b, "<a href=\"x\">&'</a>\x01\x1f\ttab\nnl"), TK_OK);
	assert_string_equal(b.data, "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;\ttab\nnl");
	tk_buf_free(&b);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_basic),   cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_roundtrip),     cmocka_unit_test(test_xml_escape),
		cmocka_unit_test(test_waivers_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
