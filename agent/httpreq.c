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
	bool cut, headers_cut;
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
		else
			h->headers_cut = true;
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
	if (r->resolve)
		curl_easy_setopt(e, CURLOPT_RESOLVE, r->resolve);
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
		struct hstate hs = {r, resp, 0, false, false};
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
		info->headers_cut = hs.headers_cut;
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
			else {
				scrub(r, rc, 0, resp, err); /* the text is logged now: no secret in it */
				tk_log(TK_LOG_DEBUG, "%s; retrying", err ? err->msg : "transport error");
			}
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

/* ---- the multi variant ---- */

struct mslot {
	struct tk_http_job *job;
	CURL *e;
	struct curl_slist *hl;
	struct hstate hs;
	struct tk_curlbudget sb;
	char ebuf[CURL_ERROR_SIZE];
	int64_t deadline, not_before;
	int attempt;
	bool running, done;
};

static int mslot_start(CURLM *m, struct mslot *s)
{
	const struct tk_http_req *r = s->job->req;
	int64_t left = s->deadline - tk_now_ms();
	s->hs = (struct hstate){r, s->job->resp, 0, false, false};
	s->ebuf[0] = '\0';
	tk_buf_reset(s->job->resp);
	if (r->resp_headers)
		tk_buf_reset(r->resp_headers);
	s->hl = add_headers(r, NULL, NULL);
	setup(s->e, r, s->hl, &s->hs, s->ebuf,
	      r->attempt_timeout_ms > 0 && r->attempt_timeout_ms < left ? r->attempt_timeout_ms : left);
	curl_easy_setopt(s->e, CURLOPT_PRIVATE, s);
	tk_curlbudget_attach(s->e, &s->sb, 0, true);
	if (curl_multi_add_handle(m, s->e) != CURLM_OK)
		return TK_ERR_NOMEM;
	s->running = true;
	return TK_OK;
}

/* The attempt of s ended with c: done, deferred, or a retry scheduled. */
static void mslot_end(CURLM *m, struct mslot *s, CURLcode c)
{
	struct tk_http_job *j = s->job;
	const struct tk_http_req *r = j->req;
	curl_off_t clen = -1;
	long st = 0;
	bool retry, answered = false;
	curl_multi_remove_handle(m, s->e);
	curl_slist_free_all(s->hl);
	s->hl = NULL;
	s->running = false;
	if (s->sb.deferred) { /* no budget slot at connect time: not an attempt, again in a moment */
		tk_curlbudget_release_all(&s->sb);
		s->not_before = tk_now_ms() + 20;
		return;
	}
	tk_curlbudget_release_all(&s->sb);
	j->info.attempts = ++s->attempt;
	j->info.curl_code = (int)c;
	j->info.body_cut = s->hs.cut;
	j->info.headers_cut = s->hs.headers_cut;
	curl_easy_getinfo(s->e, CURLINFO_OS_ERRNO, &j->info.os_errno);
	curl_easy_getinfo(s->e, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &clen);
	j->info.content_length = (long long)clen;
	if (c != CURLE_OK && !(c == CURLE_WRITE_ERROR && s->hs.cut)) {
		j->info.status = 0;
		j->rc = transport_error(r, c, s->ebuf, j->resp, &j->err);
		retry = retry_transport(c);
	} else {
		curl_easy_getinfo(s->e, CURLINFO_RESPONSE_CODE, &st);
		j->info.status = st;
		answered = st >= 100;
		j->rc = answered ? TK_OK
				 : tk_seterr(&j->err, TK_ERR_PROTOCOL, "%s%sno HTTP response", r->what ? r->what : "",
					     r->what ? ": " : "");
		retry = answered &&
			(retry_status(st) || (r->retry_answer && r->retry_answer(st, j->resp, r->retry_arg)));
	}
	if (retry && s->attempt <= r->max_retries) {
		int wait = tk_http_backoff_ms(s->attempt - 1, s->hs.retry_after, (unsigned)(tk_now_ms() & 0xFF));
		if (tk_now_ms() + wait < s->deadline) {
			s->not_before = tk_now_ms() + wait;
			return;
		}
	}
	s->done = true;
	scrub(r, j->rc, j->info.status, j->resp, &j->err);
}

static void mslot_timeout(struct mslot *s)
{
	const char *w = s->job->req->what;
	s->job->rc = tk_seterr(&s->job->err, TK_ERR_TIMEOUT, "%s%sno answer within %d ms", w ? w : "", w ? ": " : "",
			       s->job->req->timeout_ms);
}

int tk_http_multi(struct tk_http_job *jobs, size_t n, bool (*cancelled)(void *), void *cancel_arg)
{
	CURLM *m = curl_multi_init();
	struct mslot *sl = calloc(n ? n : 1, sizeof(*sl));
	size_t i, left = n;
	int rc = TK_OK, running = 0;
	int64_t t0 = tk_now_ms();
	if (!m || !sl) {
		rc = TK_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		memset(&jobs[i].info, 0, sizeof(jobs[i].info));
		jobs[i].info.content_length = -1;
		jobs[i].rc = TK_OK;
		jobs[i].err.msg[0] = '\0';
		sl[i].job = &jobs[i];
		sl[i].deadline = t0 + jobs[i].req->timeout_ms;
		if (!(sl[i].e = curl_easy_init())) {
			rc = TK_ERR_NOMEM;
			goto out;
		}
	}
	while (left > 0) {
		CURLMsg *msg;
		int q;
		int64_t now = tk_now_ms();
		if (cancelled && cancelled(cancel_arg))
			break;
		for (i = 0; i < n; i++) {
			struct mslot *s = &sl[i];
			if (s->done || s->running || now < s->not_before)
				continue;
			if (now >= s->deadline) { /* the last answer stands; none: a timeout */
				if (s->attempt == 0 || s->sb.deferred)
					mslot_timeout(s);
				s->done = true;
				left--;
				continue;
			}
			if ((rc = mslot_start(m, s)))
				goto out;
		}
		curl_multi_perform(m, &running);
		while ((msg = curl_multi_info_read(m, &q))) {
			struct mslot *s = NULL;
			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
			mslot_end(m, s, msg->data.result);
			if (s->done)
				left--;
		}
		if (left > 0)
			curl_multi_poll(m, NULL, 0, running ? 100 : 10, NULL);
	}
out:
	for (i = 0; sl && i < n; i++) {
		if (!sl[i].done && sl[i].job) {
			if (rc == TK_OK)
				sl[i].job->rc = tk_seterr(&sl[i].job->err, TK_ERR_CANCELLED, "%s%scancelled",
							  jobs[i].req->what ? jobs[i].req->what : "",
							  jobs[i].req->what ? ": " : "");
			else
				sl[i].job->rc = TK_ERR_NOMEM;
		}
		if (sl[i].e) {
			if (sl[i].running)
				curl_multi_remove_handle(m, sl[i].e);
			curl_easy_cleanup(sl[i].e);
		}
		curl_slist_free_all(sl[i].hl);
	}
	if (m)
		curl_multi_cleanup(m);
	for (i = 0; sl && i < n; i++)
		tk_curlbudget_release_all(&sl[i].sb);
	free(sl);
	return rc;
}
