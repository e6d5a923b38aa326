/* test_url.c - the one URL check for configs: schemes, hosts, and ports out of range named as such. */
#include "testutil.h"

#include <string.h>

#include "tk.h"
#include "url.h"

static void test_ok(void **state)
{
	char why[128];
	(void)state;
	assert_int_equal(tk_url_check("https://api.example.test/", why, sizeof(why)), TK_OK);
	assert_int_equal(tk_url_check("http://127.0.0.1:65535", why, sizeof(why)), TK_OK);
	assert_int_equal(tk_url_check("https://[::1]:8443/x?y#z", why, sizeof(why)), TK_OK);
	assert_int_equal(tk_url_check("https://api.example.test:1/", why, sizeof(why)), TK_OK);
}

static void test_port_out_of_range(void **state)
{
	char why[128];
	(void)state;
	assert_int_equal(tk_url_check("https://api.example.test:70000/", why, sizeof(why)), TK_ERR_CONFIG);
	assert_string_equal(why, "port 70000 out of range (1-65535)");
	assert_int_equal(tk_url_check("http://127.0.0.1:65536", why, sizeof(why)), TK_ERR_CONFIG);
	assert_string_equal(why, "port 65536 out of range (1-65535)");
	assert_int_equal(tk_url_check("https://[::1]:99999/", why, sizeof(why)), TK_ERR_CONFIG);
	assert_string_equal(why, "port 99999 out of range (1-65535)");
	assert_int_equal(tk_url_check("https://h:0/", why, sizeof(why)), TK_ERR_CONFIG);
	assert_string_equal(why, "port 0 out of range (1-65535)");
	/* digits beyond any integer: still "out of range", never a wrapped number */
	assert_int_equal(tk_url_check("https://h:99999999999999999999999/", why, sizeof(why)), TK_ERR_CONFIG);
	assert_non_null(strstr(why, "out of range"));
}

static void test_not_http(void **state)
{
	char why[128];
	(void)state;
	assert_int_equal(tk_url_check("ftp://h/", why, sizeof(why)), TK_ERR_CONFIG);
	assert_string_equal(why, "not an http(s) URL");
	assert_int_equal(tk_url_check("https://:8443/", why, sizeof(why)), TK_ERR_CONFIG);
	assert_int_equal(tk_url_check("", why, sizeof(why)), TK_ERR_CONFIG);
	assert_int_equal(tk_url_check("https://h:12ab/", why, sizeof(why)), TK_ERR_CONFIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ok),
		cmocka_unit_test(test_port_out_of_range),
		cmocka_unit_test(test_not_http),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
