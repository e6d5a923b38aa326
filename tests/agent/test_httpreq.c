/*
 * test_httpreq.c - the one request helper's retry policy (httpreq.h) against
 * tk_httpd on 127.0.0.1: what is retried and how often, Retry-After, the
 * overall bound, and the scrubbed error body; and, with a socket responder
 * (tk_httpd's serve callback: no real server misbehaves on cue), a slow
 * server, garbage, a truncated body, a reset then an answer, 503 then 200,
 * the body cap and the header block of tk_http_call_ex.
 */
#include "testutil.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "budget.h"
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

/* ---- a socket responder: what each connection gets, by its number ---- */

enum act { ACT_OK, ACT_SLOW, ACT_GARBAGE, ACT_SHORT, ACT_CLOSE, ACT_503, ACT_BIG };

struct responder {
	enum act first, rest; /* the first connection, then every other */
	atomic_uint conns;
};

static void read_request(int fd)
{
	char buf[4096];
	size_t n = 0;
	while (n < sizeof(buf) - 1) {
		ssize_t k = recv(fd, buf + n, sizeof(buf) - 1 - n, 0);
		if (k <= 0)
			return;
		n += (size_t)k;
		buf[n] = '\0';
		if (strstr(buf, "\r\n\r\n"))
			return;
	}
}

static void say(int fd, const char *s)
{
	size_t n = strlen(s);
	while (n) {
		ssize_t k = send(fd, s, n, MSG_NOSIGNAL);
		if (k <= 0)
			return;
		s += k;
		n -= (size_t)k;
	}
}

static void respond(void *arg, int fd)
{
	struct responder *rs = arg;
	unsigned n = atomic_fetch_add(&rs->conns, 1);
	enum act a = n == 0 ? rs->first : rs->rest;
	read_request(fd);
	switch (a) {
	case ACT_OK:
		say(fd, "HTTP/1.1 200 OK\r\nX-Probe: yes\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n");
		break;
	case ACT_SLOW:
		sleep(3);
		say(fd, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n");
		break;
	case ACT_GARBAGE:
		say(fd, "\x01\x02 this is not HTTP at all\r\n\r\n");
		break;
	case ACT_SHORT:
		say(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\nonly a part");
		break;
	case ACT_CLOSE:
		break; /* nothing at all: curl's "empty reply" */
	case ACT_503:
		say(fd, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 5\r\nConnection: close\r\n\r\nbusy\n");
		break;
	case ACT_BIG: {
		char body[5000];
		memset(body, 'b', sizeof(body) - 1);
		body[sizeof(body) - 1] = '\0';
		say(fd, "HTTP/1.1 200 OK\r\nContent-Length: 4999\r\nConnection: close\r\n\r\n");
		say(fd, body);
		break;
	}
	}
}

static struct tk_httpd *responder_at(const char *addr, struct responder *rs, enum act first, enum act rest)
{
	struct tk_httpd_config hc;
	struct tk_httpd *h = NULL;
	struct tk_err err = {0};
	rs->first = first;
	rs->rest = rest;
	atomic_init(&rs->conns, 0);
	memset(&hc, 0, sizeof(hc));
	hc.addr = addr;
	hc.serve = respond;
	hc.serve_arg = rs;
	assert_int_equal(tk_httpd_start(&hc, &h, &err), TK_OK);
	return h;
}

static struct tk_httpd *responder(struct responder *rs, enum act first, enum act rest)
{
	return responder_at("127.0.0.1", rs, first, rest);
}

static void req_at(struct tk_http_req *r, char *url, size_t size, const char *addr, struct tk_httpd *h, int retries,
		   int timeout_ms);

static void req_for(struct tk_http_req *r, char *url, size_t size, struct tk_httpd *h, int retries, int timeout_ms)
{
	req_at(r, url, size, "127.0.0.1", h, retries, timeout_ms);
}

static void req_at(struct tk_http_req *r, char *url, size_t size, const char *addr, struct tk_httpd *h, int retries,
		   int timeout_ms)
{
	snprintf(url, size, "http://%s:%d/x", addr, tk_httpd_port(h));
	memset(r, 0, sizeof(*r));
	r->method = "GET";
	r->url = url;
	r->what = "t";
	r->timeout_ms = timeout_ms;
	r->max_retries = retries;
}

static void test_policy_on_misbehaviour(void **state)
{
	static const struct {
		enum act first, rest;
		int rc;
		long status;
		unsigned conns;
		const char *msg;
	} cases[] = {
	    {ACT_GARBAGE, ACT_GARBAGE, TK_ERR_PROTOCOL, 0, 1, NULL}, /* not HTTP: not retried */
	    {ACT_SHORT, ACT_SHORT, TK_ERR_NET, 0, 3, "truncated download"}, /* transport: retried, then reported */
	    {ACT_CLOSE, ACT_OK, TK_OK, 200, 2, NULL},                  /* reset once, then the answer */
	    {ACT_503, ACT_OK, TK_OK, 200, 2, NULL},                    /* unavailable once, then the answer */
	    {ACT_BIG, ACT_BIG, TK_ERR_LIMIT, 0, 1, "larger than"},     /* over the bound: not retried */
	};
	size_t i;
	(void)state;
	for (i = 0; i < TK_ARRAY_LEN(cases); i++) {
		struct responder rs;
		struct tk_httpd *h = responder(&rs, cases[i].first, cases[i].rest);
		struct tk_http_req r;
		struct tk_http_info info;
		struct tk_buf resp;
		struct tk_err err = {0};
		char url[64];
		int rc;
		tk_buf_init(&resp, 4096);
		req_for(&r, url, sizeof(url), h, 2, 20000);
		rc = tk_http_call_ex(&r, &info, &resp, &err);
		if (rc != cases[i].rc || info.status != cases[i].status || atomic_load(&rs.conns) != cases[i].conns ||
		    (cases[i].msg && !strstr(err.msg, cases[i].msg)))
			fail_msg("case %zu: rc %d status %ld after %u connections (%s); expected rc %d status %ld, %u",
				 i, rc, info.status, atomic_load(&rs.conns), err.msg, cases[i].rc, cases[i].status,
				 cases[i].conns);
		assert_int_equal(info.attempts, (int)cases[i].conns);
		tk_buf_free(&resp);
		tk_httpd_stop(h);
	}
}

static void test_slow_is_bounded(void **state)
{
	struct responder rs;
	struct tk_httpd *h = responder(&rs, ACT_SLOW, ACT_SLOW);
	struct tk_http_req r;
	struct tk_buf resp;
	struct tk_err err = {0};
	char url[64];
	long st = 0;
	int64_t t0 = tk_now_ms();
	(void)state;
	tk_buf_init(&resp, 4096);
	req_for(&r, url, sizeof(url), h, 5, 700);
	/* the time is spent: a timeout is not retried, and the call ends at its bound */
	assert_int_equal(tk_http_call(&r, &st, &resp, &err), TK_ERR_TIMEOUT);
	assert_true(tk_now_ms() - t0 < 2500);
	assert_int_equal(atomic_load(&rs.conns), 1);
	/* per-attempt bound inside a longer overall one: still one attempt */
	t0 = tk_now_ms();
	r.timeout_ms = 20000;
	r.attempt_timeout_ms = 500;
	assert_int_equal(tk_http_call(&r, &st, &resp, &err), TK_ERR_TIMEOUT);
	assert_true(tk_now_ms() - t0 < 2500);
	tk_buf_free(&resp);
	tk_httpd_stop(h);
}

static void test_body_cap_and_headers(void **state)
{
	struct responder rs;
	struct tk_httpd *h = responder(&rs, ACT_BIG, ACT_OK);
	struct tk_http_req r;
	struct tk_http_info info;
	struct tk_buf resp, hb;
	struct tk_err err = {0};
	char url[64];
	(void)state;
	tk_buf_init(&resp, 1000);
	tk_buf_init(&hb, 4096);
	req_for(&r, url, sizeof(url), h, 2, 20000);
	r.body_cut_ok = true;
	r.resp_headers = &hb;
	/* the first 1000 bytes are kept and the transfer stops: an answer, not an error */
	assert_int_equal(tk_http_call_ex(&r, &info, &resp, &err), TK_OK);
	assert_int_equal(info.status, 200);
	assert_true(info.body_cut);
	assert_int_equal(resp.len, 1000);
	assert_int_equal(atomic_load(&rs.conns), 1);
	assert_non_null(strstr(hb.data, "Content-Length: 4999"));
	/* HEAD: no body, the header block of that answer only */
	r.method = "HEAD";
	assert_int_equal(tk_http_call_ex(&r, &info, &resp, &err), TK_OK);
	assert_false(info.body_cut);
	assert_int_equal(resp.len, 0);
	assert_non_null(strstr(hb.data, "X-Probe: yes"));
	assert_null(strstr(hb.data, "4999"));
	tk_buf_free(&resp);
	tk_buf_free(&hb);
	tk_httpd_stop(h);
}

static void test_multi(void **state)
{
	struct responder r503, rgarb, rslow, rok;
	struct tk_httpd *h[4];
	struct tk_http_req q[5];
	struct tk_http_job jobs[5];
	struct tk_buf resp[5];
	char url[5][64], a[4][32];
	unsigned base = (unsigned)(tk_now_ms() % 200) + 20;
	int64_t t0;
	int maxc;
	double rate;
	size_t i;
	(void)state;
	/* a host each (the budget is per host address), a random 127.x for this test run */
	for (i = 0; i < 4; i++)
		snprintf(a[i], sizeof(a[i]), "127.%u.%u.%u", base, (unsigned)(getpid() % 250), (unsigned)(i + 2));
	h[0] = responder_at(a[0], &r503, ACT_503, ACT_OK);
	h[1] = responder_at(a[1], &rgarb, ACT_GARBAGE, ACT_GARBAGE);
	h[2] = responder_at(a[2], &rslow, ACT_SLOW, ACT_SLOW);
	h[3] = responder_at(a[3], &rok, ACT_SLOW, ACT_SLOW);
	req_at(&q[0], url[0], sizeof(url[0]), a[0], h[0], 2, 20000);
	req_at(&q[1], url[1], sizeof(url[1]), a[1], h[1], 2, 20000);
	req_at(&q[2], url[2], sizeof(url[2]), a[2], h[2], 2, 1500);
	/* two jobs to one host with one connection allowed: the second waits its turn, no attempt lost */
	req_at(&q[3], url[3], sizeof(url[3]), a[3], h[3], 0, 20000);
	req_at(&q[4], url[4], sizeof(url[4]), a[3], h[3], 0, 20000);
	memset(jobs, 0, sizeof(jobs));
	for (i = 0; i < 5; i++) {
		tk_buf_init(&resp[i], 4096);
		jobs[i].req = &q[i];
		jobs[i].resp = &resp[i];
	}
	tk_budget_get(&maxc, &rate);
	tk_budget_set(1, 0);
	t0 = tk_now_ms();
	assert_int_equal(tk_http_multi(jobs, 5, NULL, NULL), TK_OK);
	tk_budget_set(maxc, rate);
	assert_int_equal(jobs[0].rc, TK_OK); /* 503, then 200: retried by the same policy */
	assert_int_equal(jobs[0].info.status, 200);
	assert_int_equal(jobs[0].info.attempts, 2);
	assert_int_equal(jobs[1].rc, TK_ERR_PROTOCOL); /* garbage: not retried */
	assert_int_equal(atomic_load(&rgarb.conns), 1);
	assert_int_equal(jobs[2].rc, TK_ERR_TIMEOUT); /* slow: bounded, not retried */
	assert_int_equal(atomic_load(&rslow.conns), 1);
	assert_int_equal(jobs[3].rc, TK_OK);
	assert_int_equal(jobs[4].rc, TK_OK);
	assert_int_equal(jobs[3].info.attempts + jobs[4].info.attempts, 2);
	/* the slow host's two jobs ran one after the other (3 s each), the rest beside them */
	assert_true(tk_now_ms() - t0 >= 6000);
	assert_true(tk_now_ms() - t0 < 8500);
	for (i = 0; i < 5; i++)
		tk_buf_free(&resp[i]);
	for (i = 0; i < 4; i++)
		tk_httpd_stop(h[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff),          cmocka_unit_test(test_retried_statuses),
		cmocka_unit_test(test_retry_after_and_bound), cmocka_unit_test(test_transport_error),
		cmocka_unit_test(test_error_body_scrubbed),
		cmocka_unit_test(test_policy_on_misbehaviour), cmocka_unit_test(test_slow_is_bounded),
		cmocka_unit_test(test_body_cap_and_headers), cmocka_unit_test(test_multi),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
