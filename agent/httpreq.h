/*
 * httpreq.h - the one libcurl request helper of tenken: the cloud clients
 * (AWS SigV4 in aws.c, the bearer-token APIs of Azure and Google), the web
 * probe (web.c), `tenken feed update` (through probes/patch/feedcheck.c),
 * the core's RFC 3161 timestamp requests (tsa.c) and webhook alerts
 * (notify.c), and, side by side (tk_http_multi), the hsts probe. One retry
 * policy:
 *
 *   retried   transport failures (refused, reset, nothing received, a
 *             truncated body...), HTTP 429, 500, 502, 503, 504, and answers
 *             the caller's retry_answer accepts (AWS throttling codes in a 400);
 *   not       timeouts (the time is spent), TLS failures of verification or
 *             certificates, a reply that is not HTTP (garbage: the same server
 *             sends the same garbage), bodies over the buffer's bound, other
 *             statuses;
 *   back-off  Retry-After seconds when the server sends it (at most 10 s),
 *             else 100 ms doubling per attempt up to 5 s, 50-100 % jitter;
 *   bounds    at most max_retries retries and never past timeout_ms overall
 *             (a wait that would cross it ends the call: the last answer or
 *             error stands); each attempt is cut at attempt_timeout_ms;
 *             cancellation checked between attempts and during waits.
 *
 * How many retries is the caller's: the cloud clients 2-4; the web and hsts
 * probes 0 (a fixed number of requests per URL is a promise to the partner);
 * feed update 2; the TSA 1 (inside timeout_s); a webhook alert 2 (inside the
 * notify run's deadline_s).
 * No redirects unless follow_redirects (then https only, at most 5), http/https
 * only, the per-host politeness budget (agent/curlbudget.h), bounded bodies. A
 * non-2xx answer's body and any error text are scrubbed of `secrets`, the
 * bearer and credential shapes (scrub.h) before the caller sees them.
 */
#ifndef TK_HTTPREQ_H
#define TK_HTTPREQ_H

#include <stdbool.h>
#include <stddef.h>

#include "tk.h"

struct curl_slist;

struct tk_http_req {
	const char *method;        /* "GET", "POST" or another verb */
	const char *url;
	const char *what;          /* names the endpoint in error texts (NULL: none) */
	const char *bearer;        /* Authorization: Bearer ... (never logged) or NULL */
	const char *content_type;  /* NULL: none sent */
	const char *accept;        /* NULL: none sent */
	const char *const *headers; /* more "Name: value" lines, NULL-terminated, or NULL */
	const char *body;
	size_t body_len;
	const char *ca_file;       /* NULL: system store */
	const char *proxy;         /* NULL or "": none */
	int timeout_ms;            /* every attempt and wait together */
	int attempt_timeout_ms;    /* one attempt (0: timeout_ms) */
	int max_retries;
	/* before each attempt: append per-attempt headers (a signature over a fresh date) */
	int (*prepare)(void *arg, struct curl_slist **headers, struct tk_err *err);
	void *prepare_arg;
	/* an answer that is not 429/5xx but must be retried (e.g. AWS "Throttling" in a 400) */
	bool (*retry_answer)(long status, const struct tk_buf *resp, void *arg);
	void *retry_arg;
	bool (*cancelled)(void *);
	void *cancel_arg;
	/* credentials this request carries (NULL-terminated, borrowed; the bearer is added) */
	const char *const *secrets;
	/* ---- optional (zero: off) ---- */
	struct tk_buf *resp_headers; /* the last response's header block, what fits its max */
	bool body_cut_ok;          /* a body over resp->max: keep the first max bytes, TK_OK, info->body_cut */
	bool follow_redirects;     /* https redirects only, at most 5 */
	bool env_proxy;            /* the *_proxy environment (not for localhost) instead of `proxy` */
	bool accept_encoding;      /* offer gzip/deflate */
	bool insecure;             /* no certificate verification (grading only: say so in the evidence) */
	const char *client_cert, *client_key; /* PEM files for mTLS, or NULL */
	const char *user_agent;    /* NULL: "tenken/VERSION (compliance scan)" */
	const struct curl_slist *resolve; /* CURLOPT_RESOLVE "host:port:addr" entries, or NULL */
};

/* What tk_http_call_ex saw of the last attempt. */
struct tk_http_info {
	long status;       /* 0: no HTTP answer */
	bool body_cut;     /* body_cut_ok and the body was longer than resp->max */
	int curl_code;     /* CURLcode of the last attempt */
	long os_errno;     /* CURLINFO_OS_ERRNO (ECONNREFUSED tells "closed" from "error") */
	long long content_length; /* the announced length, -1 unknown */
	int attempts;
	bool headers_cut;  /* resp_headers was too small for the header block */
};

/*
 * TK_OK when an answer arrived (any status, the last one after the retries:
 * check *status); resp (initialised by the caller, its max bounds the body)
 * holds its body. Errors: TK_ERR_TIMEOUT, TK_ERR_NET, TK_ERR_TLS, TK_ERR_LIMIT,
 * TK_ERR_CANCELLED, TK_ERR_NOMEM, or what prepare returned.
 */
int tk_http_call(const struct tk_http_req *r, long *status, struct tk_buf *resp, struct tk_err *err);
/* The same, telling more of the last attempt (info may be NULL). Also TK_ERR_PROTOCOL (not HTTP). */
int tk_http_call_ex(const struct tk_http_req *r, struct tk_http_info *info, struct tk_buf *resp, struct tk_err *err);

/* One request of tk_http_multi: req and resp borrowed, the rest filled in. */
struct tk_http_job {
	const struct tk_http_req *req; /* bearer, prepare and cancelled are not used here */
	struct tk_buf *resp;
	struct tk_http_info info;
	int rc; /* as tk_http_call_ex */
	struct tk_err err;
};

/*
 * Run n jobs side by side on the libcurl multi interface, each under the same
 * policy as tk_http_call_ex (its timeout from when the run starts). The
 * per-host budget is non-blocking: a connect that finds no slot free waits
 * its turn (not an attempt). cancelled (may be NULL) ends the run: unfinished
 * jobs get TK_ERR_CANCELLED. Returns TK_OK, or TK_ERR_NOMEM (jobs unfinished).
 */
int tk_http_multi(struct tk_http_job *jobs, size_t n, bool (*cancelled)(void *), void *cancel_arg);

/* The back-off before retry `attempt` (0-based) given a Retry-After of retry_after_s (0: none); tested. */
int tk_http_backoff_ms(int attempt, long retry_after_s, unsigned jitter_byte);

#endif
