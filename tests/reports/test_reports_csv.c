/* test_reports_csv.c - CSV/XML escaping and a CSV write -> parse (rules/csvparse.c)
 * round trip of awkward text. The parsers' own tests: tests/rules/test_waivers.c. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "csvparse.h"
#include "report.h"
#include "rutil.h"

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
	rows = tk_test_csv(b.data);
	assert_int_equal(cJSON_GetArraySize(rows), 1);
	for (i = 0; texts[i]; i++)
		assert_string_equal(tk_test_cell(rows, 0, (int)i), texts[i]);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_xml_escape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
