/* httpreq.c - the one libcurl request helper and its retry policy (see httpreq.h). */
#include "httpreq.h"

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "curlbudget.h"
#include "scrub.h"

#define MAX_BACKOFF_MS 5000
#define MAX_RETRY_AFTER_S 10

struct hstate {
	const struct tk_http_req *r;
	struct tk_buf *resp;
	long retry_after;
	bool cut;
};

static size_t on_body(char *data, size_t size, size_t n, void *userp)
{
	struct hstate *h = userp;
	size_t len = size * n, room = h->resp->max - h->resp->len;
	if (h->r->body_cut_ok && len > room) {
		h->cut = true;
		if (room)
			tk_buf_append(h->resp, data, room);
		return 0; /* enough read: the transfer stops (CURLE_WRITE_ERROR, expected) */
	}
	return tk_buf_append(h->resp, data, len) == TK_OK ? len : 0;
}

static size_t on_header(char *data, size_t size, size_t n, void *userp)
{
	struct hstate *h = userp;
	struct tk_buf *hb = h->r->resp_headers;
	size_t len = size * n;
	if (hb) {
		if (len >= 5 && strncmp(data, "HTTP/", 5) == 0)
			tk_buf_reset(hb); /* keep only the last response's headers (after 1xx, redirects) */
		if (hb->len + len <= hb->max)
			tk_buf_append(hb, data, len);
	}
	if (len > 12 && strncasecmp(data, "Retry-After:", 12) == 0) {
		long long v = 0;
		size_t i = 12;
		while (i < len && data[i] == ' ')
			i++;
		while (i < len && data[i] >= '0' && data[i] <= '9' && v < 100000)
			v = v * 10 + (data[i++] - '0');
		h->retry_after =
		    v > 0 && v < 3600 ? (long)v : 0; /* an HTTP date is not honoured: the default back-off */
	}
	return len;
}

int tk_http_backoff_ms(int attempt, long retry_after_s, unsigned jitter_byte)
{
	int b;
	if (retry_after_s > 0)
		return (int)(retry_after_s > MAX_RETRY_AFTER_S ? MAX_RETRY_AFTER_S : retry_after_s) * 1000;
	b = 100 << (attempt < 6 ? attempt : 6);
	if (b > MAX_BACKOFF_MS)
		b = MAX_BACKOFF_MS;
	return b / 2 + (int)((unsigned)(b / 2) * (jitter_byte & 0xFF) / 255u); /* 50-100 % */
}

static bool retry_transport(CURLcode c)
{
	switch (c) {
	case CURLE_OPERATION_TIMEDOUT:        /* the time is spent */
	case CURLE_WRITE_ERROR:               /* over the body bound */
	case CURLE_PEER_FAILED_VERIFICATION:  /* TLS: a retry cannot fix these */
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_WEIRD_SERVER_REPLY:        /* not HTTP: the same server sends the same again */
	case CURLE_FILESIZE_EXCEEDED:
	case CURLE_TOO_MANY_REDIRECTS:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_OUT_OF_MEMORY:
		return false;
	default:
		return true;
	}
}

static bool retry_status(long st)
{
	return st == 429 || st == 500 || st == 502 || st == 503 || st == 504;
}

static int transport_error(const struct tk_http_req *r, CURLcode c, const char *ebuf, const struct tk_buf *resp,
			   struct tk_err *err)
{
	const char *w = r->what ? r->what : "", *sep = r->what ? ": " : "";
	int code = TK_ERR_NET;
	if (c == CURLE_WRITE_ERROR)
		return tk_seterr(err, TK_ERR_LIMIT, "%s%sresponse larger than %zu bytes", w, sep, resp->max);
	if (c == CURLE_PARTIAL_FILE)
		return tk_seterr(err, TK_ERR_NET, "%s%struncated download (%zu bytes received: %s)", w, sep, resp->len,
				 ebuf[0] ? ebuf : curl_easy_strerror(c));
	if (c == CURLE_OPERATION_TIMEDOUT)
		code = TK_ERR_TIMEOUT;
	else if (c == CURLE_PEER_FAILED_VERIFICATION || c == CURLE_SSL_CONNECT_ERROR || c == CURLE_SSL_CACERT_BADFILE ||
		 c == CURLE_SSL_CERTPROBLEM || c == CURLE_SSL_CIPHER)
		code = TK_ERR_TLS;
	else if (c == CURLE_WEIRD_SERVER_REPLY || c == CURLE_UNSUPPORTED_PROTOCOL || c == CURLE_TOO_MANY_REDIRECTS)
		code = TK_ERR_PROTOCOL;
	else if (c == CURLE_FILESIZE_EXCEEDED || c == CURLE_OUT_OF_MEMORY)
		code = TK_ERR_LIMIT;
	return tk_seterr(err, code, "%s%s%s", w, sep, ebuf[0] ? ebuf : curl_easy_strerror(c));
}

/* The request headers of one attempt after prepare's: bearer, Accept, Content-Type, the caller's. */
static struct curl_slist *add_headers(const struct tk_http_req *r, const char *auth, struct curl_slist *hl)
{
	struct curl_slist *t;
	char ct[300], ac[300];
	size_t i;
	if (auth && (t = curl_slist_append(hl, auth)))
		hl = t;
	if (r->accept) {
		snprintf(ac, sizeof(ac), "Accept: %s", r->accept);
		if ((t = curl_slist_append(hl, ac)))
			hl = t;
	}
	snprintf(ct, sizeof(ct), "Content-Type:%s%s", r->content_type ? " " : "",
		 r->content_type ? r->content_type : ""); /* "Content-Type:" drops curl's default */
	if ((t = curl_slist_append(hl, ct)))
		hl = t;
	for (i = 0; r->headers && r->headers[i]; i++)
		if ((t = curl_slist_append(hl, r->headers[i])))
			hl = t;
	if ((t = curl_slist_append(hl, "Expect:")))
		hl = t;
	return hl;
}

/* Every option of one attempt of at most per ms. */
static void setup(CURL *e, const struct tk_http_req *r, struct curl_slist *hl, struct hstate *hs, char *ebuf,
		  int64_t per)
{
	curl_easy_reset(e);
	curl_easy_setopt(e, CURLOPT_URL, r->url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hl);
	if (strcmp(r->method, "GET") == 0) {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	} else if (strcmp(r->method, "HEAD") == 0) {
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	} else {
		if (strcmp(r->method, "POST") != 0)
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
		if (r->body || strcmp(r->method, "POST") == 0) {
			curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body ? r->body : "");
			curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(r->body ? r->body_len : 0));
		}
	}
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, hs);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, hs);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)per);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)(per < 10000 ? per : 10000));
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, r->follow_redirects ? 1L : 0L);
	if (r->follow_redirects) {
		curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "https");
		curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
	}
	if (r->env_proxy)
		curl_easy_setopt(e, CURLOPT_NOPROXY, "localhost,127.0.0.1,::1");
	else
		curl_easy_setopt(e, CURLOPT_PROXY, r->proxy ? r->proxy : "");
	if (r->accept_encoding)
		curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_USERAGENT,
			 r->user_agent ? r->user_agent : "tenken/" TENKEN_VERSION " (compliance scan)");
	if (r->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, r->ca_file);
	if (r->client_cert) {
		curl_easy_setopt(e, CURLOPT_SSLCERT, r->client_cert);
		curl_easy_setopt(e, CURLOPT_SSLKEY, r->client_key);
	}
	if (r->insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
}

/* Wait ms, or less when cancelled. */
static void pause_ms(const struct tk_http_req *r, int wait)
{
	while (wait > 0 && !(r->cancelled && r->cancelled(r->cancel_arg))) {
		int s = wait > 50 ? 50 : wait;
		usleep((useconds_t)s * 1000);
		wait -= s;
	}
}

static void scrub(const struct tk_http_req *r, int rc, long status, struct tk_buf *resp, struct tk_err *err)
{
	const char *list[16];
	size_t n = 0, k;
	for (k = 0; r->secrets && r->secrets[k] && n < 14; k++)
		list[n++] = r->secrets[k];
	if (r->bearer)
		list[n++] = r->bearer;
	list[n] = NULL;
	if (rc && err)
		tk_scrub_inplace(err->msg, sizeof(err->msg), list);
	if (!rc && (status < 200 || status > 299))
		tk_scrub_buf(resp, list); /* an error body may echo what was sent */
}

int tk_http_call(const struct tk_http_req *r, long *status, struct tk_buf *resp, struct tk_err *err)
{
	struct tk_http_info info;
	int rc = tk_http_call_ex(r, &info, resp, err);
	*status = info.status;
	return rc;
}

int tk_http_call_ex(const struct tk_http_req *r, struct tk_http_info *info, struct tk_buf *resp, struct tk_err *err)
{
	int64_t deadline = tk_now_ms() + r->timeout_ms;
	CURL *e = curl_easy_init();
	char *auth = NULL;
	struct tk_curlbudget sb;
	struct tk_http_info dummy;
	int attempt, rc = TK_OK;
	bool answered = false;
	if (!info)
		info = &dummy;
	memset(info, 0, sizeof(*info));
	info->content_length = -1;
	memset(&sb, 0, sizeof(sb));
	if (!e)
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	if (r->bearer) {
		size_t l = strlen(r->bearer) + 32;
		if (!(auth = malloc(l))) {
			curl_easy_cleanup(e);
			return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		}
		snprintf(auth, l, "Authorization: Bearer %s", r->bearer);
	}
	for (attempt = 0;; attempt++) {
		struct curl_slist *hl = NULL;
		struct hstate hs = {r, resp, 0, false};
		char ebuf[CURL_ERROR_SIZE] = "";
		int64_t left = deadline - tk_now_ms(), per;
		CURLcode cres;
		curl_off_t clen = -1;
		long st = 0;
		bool retry;
		if (left <= 0) {
			if (!answered)
				rc = tk_seterr(err, TK_ERR_TIMEOUT, "%s%sno answer within %d ms",
					       r->what ? r->what : "", r->what ? ": " : "", r->timeout_ms);
			break;
		}
		if (r->cancelled && r->cancelled(r->cancel_arg)) {
			rc = tk_seterr(err, TK_ERR_CANCELLED, "%s%scancelled", r->what ? r->what : "",
				       r->what ? ": " : "");
			break;
		}
		if (r->prepare && (rc = r->prepare(r->prepare_arg, &hl, err))) {
			curl_slist_free_all(hl);
			break;
		}
		hl = add_headers(r, auth, hl);
		tk_buf_reset(resp);
		if (r->resp_headers)
			tk_buf_reset(r->resp_headers);
		per = r->attempt_timeout_ms > 0 && r->attempt_timeout_ms < left ? r->attempt_timeout_ms : left;
		setup(e, r, hl, &hs, ebuf, per);
		tk_curlbudget_attach(e, &sb, deadline, false);
		cres = curl_easy_perform(e);
		curl_slist_free_all(hl);
		tk_curlbudget_release_all(&sb);
		info->attempts = attempt + 1;
		info->curl_code = (int)cres;
		info->body_cut = hs.cut;
		curl_easy_getinfo(e, CURLINFO_OS_ERRNO, &info->os_errno);
		curl_easy_getinfo(e, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &clen);
		info->content_length = (long long)clen;
		if (cres != CURLE_OK && !(cres == CURLE_WRITE_ERROR && hs.cut)) {
			answered = false;
			info->status = 0;
			rc = transport_error(r, cres, ebuf, resp, err);
			retry = retry_transport(cres);
		} else {
			curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &st);
			info->status = st;
			answered = st >= 100;
			rc = answered ? TK_OK
				      : tk_seterr(err, TK_ERR_PROTOCOL, "%s%sno HTTP response", r->what ? r->what : "",
						  r->what ? ": " : "");
			retry = answered &&
				(retry_status(st) || (r->retry_answer && r->retry_answer(st, resp, r->retry_arg)));
		}
		if (!retry || attempt >= r->max_retries)
			break;
		{
			int wait = tk_http_backoff_ms(attempt, hs.retry_after, (unsigned)(tk_now_ms() & 0xFF));
			if (tk_now_ms() + wait >= deadline)
				break; /* the last answer (or transport error) stands */
			if (answered)
				tk_log(TK_LOG_INFO, "%s: HTTP %ld (throttled or unavailable), retry %d of %d",
				       r->what ? r->what : "request", st, attempt + 1, r->max_retries);
			else
				tk_log(TK_LOG_DEBUG, "%s; retrying", err ? err->msg : "transport error");
			pause_ms(r, wait);
		}
	}
	scrub(r, rc, info->status, resp, err);
	if (auth) {
		OPENSSL_cleanse(auth, strlen(auth));
		free(auth);
	}
	curl_easy_cleanup(e);
	return rc;
}
