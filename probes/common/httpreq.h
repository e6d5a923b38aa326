/*
 * httpreq.h - the one libcurl request helper of the cloud clients (AWS SigV4
 * in aws.c, the bearer-token APIs of Azure and Google in cloudjson.c /
 * azure.c / google.c), with one retry policy:
 *
 *   retried   transport failures (refused, reset, nothing received...), HTTP
 *             429, 500, 502, 503, 504, and answers the caller's retry_answer
 *             accepts (AWS throttling codes in a 400 body);
 *   not       timeouts (the time is spent), TLS verification failures, bodies
 *             over the buffer's bound, other statuses;
 *   back-off  Retry-After seconds when the server sends it (at most 10 s),
 *             else 100 ms doubling per attempt up to 5 s, 50-100 % jitter;
 *   bounds    at most max_retries retries and never past timeout_ms overall
 *             (a wait that would cross it ends the call); each attempt is cut
 *             at attempt_timeout_ms; cancellation checked between attempts.
 *
 * No redirects, http/https only, the per-host politeness budget
 * (agent/curlbudget.h), bounded bodies. A non-2xx answer's body and any error
 * text are scrubbed of `secrets`, the bearer and credential shapes (scrub.h)
 * before the caller sees them.
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
};

/*
 * TK_OK when an answer arrived (any status, the last one after the retries:
 * check *status); resp (initialised by the caller, its max bounds the body)
 * holds its body. Errors: TK_ERR_TIMEOUT, TK_ERR_NET, TK_ERR_TLS, TK_ERR_LIMIT,
 * TK_ERR_CANCELLED, TK_ERR_NOMEM, or what prepare returned.
 */
int tk_http_call(const struct tk_http_req *r, long *status, struct tk_buf *resp, struct tk_err *err);

/* The back-off before retry `attempt` (0-based) given a Retry-After of retry_after_s (0: none); tested. */
int tk_http_backoff_ms(int attempt, long retry_after_s, unsigned jitter_byte);

#endif
