/*
 * test_httpreq.c - the one request helper's retry policy (httpreq.h) against
 * tk_httpd on 127.0.0.1: what is retried and how often, Retry-After, the
 * overall bound, and the scrubbed error body.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpreq.h"
#include "localsrv.h"

static struct tk_httpd *serve(int status, const char *headers, const char *body)
{
	struct tk_httpd_config hc;
	struct tk_httpd *h = NULL;
	struct tk_err err = {0};
	memset(&hc, 0, sizeof(hc));
	hc.addr = "127.0.0.1";
	hc.status = status;
	hc.headers = headers;
	hc.body = body;
	assert_int_equal(tk_httpd_start(&hc, &h, &err), TK_OK);
	return h;
}

static int call(struct tk_httpd *h, const char *bearer, int retries, int timeout_ms, long *st, struct tk_buf *resp,
		struct tk_err *err)
{
	struct tk_http_req r;
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", tk_httpd_port(h));
	memset(&r, 0, sizeof(r));
	r.method = "GET";
	r.url = url;
	r.what = "test";
	r.bearer = bearer;
	r.timeout_ms = timeout_ms;
	r.max_retries = retries;
	return tk_http_call(&r, st, resp, err);
}

static void test_backoff(void **state)
{
	int b;
	(void)state;
	b = tk_http_backoff_ms(0, 0, 0);
	assert_int_equal(b, 50);
	b = tk_http_backoff_ms(0, 0, 255);
	assert_int_equal(b, 100);
	b = tk_http_backoff_ms(3, 0, 255);
	assert_int_equal(b, 800);
	b = tk_http_backoff_ms(12, 0, 255);
	assert_int_equal(b, 5000); /* capped */
	assert_int_equal(tk_http_backoff_ms(0, 3, 0), 3000);  /* Retry-After honoured */
	assert_int_equal(tk_http_backoff_ms(0, 99, 0), 10000); /* ... up to 10 s */
}

static void test_retried_statuses(void **state)
{
	static const struct {
		int status, requests;
	} cases[] = {{503, 3}, {429, 3}, {500, 3}, {502, 3}, {504, 3}, {404, 1}, {403, 1}, {400, 1}, {200, 1}};
	size_t i;
	(void)state;
	for (i = 0; i < TK_ARRAY_LEN(cases); i++) {
		struct tk_httpd *h = serve(cases[i].status, NULL, "x");
		struct tk_buf resp;
		struct tk_err err = {0};
		long st = 0;
		tk_buf_init(&resp, 1 << 16);
		/* after the retries the last answer stands: TK_OK with its status */
		assert_int_equal(call(h, NULL, 2, 20000, &st, &resp, &err), TK_OK);
		assert_int_equal(st, cases[i].status);
		if ((int)tk_httpd_requests(h) != cases[i].requests)
			fail_msg("HTTP %d: %u requests, expected %d", cases[i].status, tk_httpd_requests(h),
				 cases[i].requests);
		tk_buf_free(&resp);
		tk_httpd_stop(h);
	}
}

static void test_retry_after_and_bound(void **state)
{
	struct tk_httpd *h = serve(503, "Retry-After: 1\r\n", "busy");
	struct tk_buf resp;
	struct tk_err err = {0};
	long st = 0;
	int64_t t0;
	(void)state;
	tk_buf_init(&resp, 1 << 16);
	t0 = tk_now_ms();
	assert_int_equal(call(h, NULL, 1, 20000, &st, &resp, &err), TK_OK);
	assert_true(tk_now_ms() - t0 >= 1000); /* waited the server's second */
	assert_int_equal(tk_httpd_requests(h), 2);
	/* a wait that would cross the overall bound ends the call with the last answer */
	t0 = tk_now_ms();
	assert_int_equal(call(h, NULL, 10, 500, &st, &resp, &err), TK_OK);
	assert_int_equal(st, 503);
	assert_true(tk_now_ms() - t0 < 5000);
	tk_buf_free(&resp);
	tk_httpd_stop(h);
}

static void test_transport_error(void **state)
{
	struct tk_httpd *h = serve(200, NULL, "x");
	struct tk_buf resp;
	struct tk_err err = {0};
	struct tk_http_req r;
	char url[64];
	long st = 0;
	(void)state;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", tk_httpd_port(h));
	tk_httpd_stop(h); /* nothing listens there now */
	tk_buf_init(&resp, 1 << 16);
	memset(&r, 0, sizeof(r));
	r.method = "GET";
	r.url = url;
	r.what = "down";
	r.timeout_ms = 20000;
	r.max_retries = 2;
	assert_int_equal(tk_http_call(&r, &st, &resp, &err), TK_ERR_NET);
	assert_int_equal(st, 0);
	assert_non_null(strstr(err.msg, "down: "));
	tk_buf_free(&resp);
}

static void test_error_body_scrubbed(void **state)
{
	struct tk_httpd *h = serve(401, NULL, "{\"error\": \"you sent Bearer Zx9kQ2mW7pLr4tVb and my-other-secret-1\"}");
	struct tk_buf resp;
	struct tk_err err = {0};
	struct tk_http_req r;
	const char *secrets[] = {"my-other-secret-1", NULL};
	char url[64];
	long st = 0;
	(void)state;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", tk_httpd_port(h));
	tk_buf_init(&resp, 1 << 16);
	memset(&r, 0, sizeof(r));
	r.method = "GET";
	r.url = url;
	r.bearer = "Zx9kQ2mW7pLr4tVb";
	r.secrets = secrets;
	r.timeout_ms = 20000;
	assert_int_equal(tk_http_call(&r, &st, &resp, &err), TK_OK);
	assert_int_equal(st, 401);
	assert_null(strstr(resp.data, "Zx9kQ2mW"));
	assert_null(strstr(resp.data, "other-secret"));
	assert_non_null(strstr(resp.data, "[redacted sha256:"));
	tk_buf_free(&resp);
	tk_httpd_stop(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff),          cmocka_unit_test(test_retried_statuses),
		cmocka_unit_test(test_retry_after_and_bound), cmocka_unit_test(test_transport_error),
		cmocka_unit_test(test_error_body_scrubbed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
