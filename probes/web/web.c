/*
 * web.c - probe "web": the partner's web and API surface as a browser or an
 * attacker first sees it, with a small fixed number of GET/HEAD/OPTIONS
 * requests per configured URL, each through the per-host politeness budget.
 *
 * Config: {"urls": ["https://api.acme.test/login"], "ca_file": "ca.pem",
 *          "timeout_s": 10, "exposure_paths": true, "security_txt": true}
 *
 * Per URL (WEB_REQUESTS_MAX requests at most):
 *   1. GET the URL: security headers (CSP frame-ancestors / X-Frame-Options,
 *      X-Content-Type-Options, Referrer-Policy), Set-Cookie flags, Server.
 *   2. GET with Origin: an arbitrary origin, then Origin: null: is either
 *      reflected in Access-Control-Allow-Origin with credentials allowed?
 *   3. OPTIONS: does Allow list TRACE (heuristic: advertised, not sent)?
 *   4. GET a path that cannot exist: does the error page name versions or
 *      carry a stack trace?
 *   5. GET the origin's "/": a directory listing?
 *   5a. GET https://HOST[:PORT]/.well-known/security.txt, and /security.txt
 *      when that is 404/410 (RFC 9116; always HTTPS: an http:// URL's host
 *      on port 443): parsed by securitytxt.c into "security_txt" facts.
 *      404/410 on both: observed absent. A timeout, TLS error, 5xx, redirect
 *      (not followed) or other transport failure: "security_txt.valid" is
 *      unobserved, so its rule is incomplete, never pass. Off with
 *      "security_txt": false (no facts: items 9 / card 8 go back to manual).
 *   6. GET well-known administration and debug paths (/.git/HEAD, /.env,
 *      /server-status, /server-info, /nginx_status, /actuator, /actuator/env,
 *      /phpinfo.php): each recognised by its content, never by status alone.
 * Emits "web" (1, 4, 5), "web_cors" (2, 3) and "web_exposure" (6) per URL;
 * a request that fails makes an error observation for the kinds it feeds, so
 * those items are incomplete, never pass.
 */
#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "httpreq.h"
#include "probe.h"
#include "securitytxt.h"

#define WEB_BODY_MAX (256 * 1024)
#define WEB_HEADERS_MAX (64 * 1024)
#define WEB_REQUESTS_MAX 16
#define WEB_ORIGIN_PROBE "https://tenken-cors-check.invalid"

struct web_cfg {
	char **urls;
	size_t nurls;
	char *ca_file;
	int timeout_ms;
	bool exposure_paths;
	bool security_txt;
};

struct web_resp {
	long status;
	struct tk_buf headers; /* the last response's header block */
	struct tk_buf body; /* its first WEB_BODY_MAX bytes */
	bool body_cut;
};

static void web_free(void *state)
{
	struct web_cfg *c = state;
	if (!c)
		return;
	tk_strv_free(c->urls);
	free(c->ca_file);
	free(c);
}

static int web_configure(const cJSON *sec, const struct tk_cfgctx *cc, void **state, struct tk_err *err)
{
	static const char *const keys[] = {"urls", "ca_file", "timeout_s", "exposure_paths", "security_txt", NULL};
	struct web_cfg *c = calloc(1, sizeof(*c));
	const char *ca = NULL;
	long long tmo = 10;
	size_t i;
	int rc;
	*state = NULL;
	if (!c)
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	c->exposure_paths = true;
	c->security_txt = true;
	if ((rc = tk_cfg_check_keys(sec, keys, cc, cc->path, err)) ||
	    (rc = tk_cfg_strings(sec, "urls", true, &c->urls, &c->nurls, cc, cc->path, err)) ||
	    (rc = tk_cfg_string(sec, "ca_file", false, &ca, cc, cc->path, err)) ||
	    (rc = tk_cfg_int(sec, "timeout_s", false, 1, 120, &tmo, cc, cc->path, err)) ||
	    (rc = tk_cfg_bool(sec, "exposure_paths", false, &c->exposure_paths, cc, cc->path, err)) ||
	    (rc = tk_cfg_bool(sec, "security_txt", false, &c->security_txt, cc, cc->path, err)))
		goto out;
	for (i = 0; i < c->nurls; i++) {
		char p[600];
		CURLU *u = curl_url();
		char *scheme = NULL;
		tk_path_idx(p, sizeof(p), cc->path, i);
		p[sizeof(p) - 1] = '\0';
		if (!u || curl_url_set(u, CURLUPART_URL, c->urls[i], 0) != CURLUE_OK ||
		    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
		    (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0)) {
			curl_free(scheme);
			curl_url_cleanup(u);
			rc = tk_cfg_err(err, cc, p, "\"%s\": expected an http:// or https:// URL", c->urls[i]);
			goto out;
		}
		curl_free(scheme);
		curl_url_cleanup(u);
	}
	if (ca && !(c->ca_file = tk_cfg_resolve(cc, ca))) {
		rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		goto out;
	}
	c->timeout_ms = (int)tmo * 1000;
	*state = c;
	c = NULL;
out:
	web_free(c);
	return rc;
}

/* ---- one request (httpreq.h: no retries, the fixed budget per URL is a promise) ---- */

static bool run_cancelled(void *ctx)
{
	return tk_run_cancelled(ctx);
}

/* method GET/HEAD/OPTIONS on url; r filled. TK_OK when any HTTP response came back. */
static int request(const struct web_cfg *c, struct tk_runctx *ctx, const char *method, const char *url,
		   const char *origin, struct web_resp *r, struct tk_err *err)
{
	struct tk_http_req q;
	struct tk_http_info info;
	const char *hdrs[2] = {NULL, NULL};
	char oh[300], what[1100];
	int tmo = tk_run_remaining_ms(ctx, c->timeout_ms), rc;
	memset(r, 0, sizeof(*r));
	tk_buf_init(&r->headers, WEB_HEADERS_MAX);
	tk_buf_init(&r->body, WEB_BODY_MAX);
	if (tmo <= 0)
		return tk_seterr(err, TK_ERR_TIMEOUT, "no time left for %s %s", method, url);
	if (origin) {
		snprintf(oh, sizeof(oh), "Origin: %s", origin);
		hdrs[0] = oh;
	}
	snprintf(what, sizeof(what), "%s %s", method, url);
	memset(&q, 0, sizeof(q));
	q.method = method;
	q.url = url;
	q.what = what;
	q.headers = hdrs;
	q.ca_file = c->ca_file;
	q.timeout_ms = tmo;
	q.max_retries = 0;
	q.cancelled = run_cancelled;
	q.cancel_arg = ctx;
	q.resp_headers = &r->headers;
	q.body_cut_ok = true;
	rc = tk_http_call_ex(&q, &info, &r->body, err);
	r->status = info.status;
	r->body_cut = info.body_cut;
	return rc;
}

static void resp_free(struct web_resp *r)
{
	tk_buf_free(&r->headers);
	tk_buf_free(&r->body);
}

/* The value of the first header `name` (case-insensitive) into out; false when absent. */
static bool header(const struct web_resp *r, const char *name, char *out, size_t size)
{
	const char *p = r->headers.data;
	size_t nl = strlen(name);
	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		if (len > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1;
			size_t vl = len - nl - 1;
			while (vl && (*v == ' ' || *v == '\t')) {
				v++;
				vl--;
			}
			while (vl && (v[vl - 1] == '\r' || v[vl - 1] == ' '))
				vl--;
			if (vl >= size)
				vl = size - 1;
			memcpy(out, v, vl);
			out[vl] = '\0';
			return true;
		}
		p = eol ? eol + 1 : NULL;
	}
	return false;
}

static bool icontains(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	for (; hay && *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return true;
	return false;
}

/* ---- checks ---- */

static void add_cookies(cJSON *o, const struct web_resp *r)
{
	cJSON *arr = cJSON_AddArrayToObject(o, "cookies");
	const char *p = r->headers.data;
	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		if (len > 11 && strncasecmp(p, "Set-Cookie:", 11) == 0) {
			char line[1024], name[128] = "", *eq;
			cJSON *ck = cJSON_CreateObject();
			size_t k = len < sizeof(line) - 1 ? len : sizeof(line) - 1;
			memcpy(line, p, k);
			line[k] = '\0';
			eq = strchr(line + 11, '=');
			if (eq) {
				const char *s = line + 11;
				while (*s == ' ')
					s++;
				snprintf(name, sizeof(name), "%.*s", (int)(eq - s), s);
			}
			cJSON_AddStringToObject(ck, "name", name); /* the value is a secret: never kept */
			cJSON_AddBoolToObject(ck, "secure", icontains(line, "; secure"));
			cJSON_AddBoolToObject(ck, "httponly", icontains(line, "; httponly"));
			cJSON_AddBoolToObject(ck, "samesite", icontains(line, "; samesite="));
			cJSON_AddBoolToObject(ck, "samesite_none", icontains(line, "; samesite=none"));
			cJSON_AddItemToArray(arr, ck);
		}
		p = eol ? eol + 1 : NULL;
	}
}

/*
 * "Apache/2.4.57", "nginx/1.22.1", "lighttpd/1.4.69", "PHP/8.2.7": a product token (letters, '-', '_';
 * at least two) after a space, '>', '(', '"' or the start, then '/', digits, '.', a digit. URLs such as
 * "www.w3.org/1999/xhtml" do not match (dots in the token, no dotted version).
 */
static bool version_in(const char *s)
{
	const char *start = s, *p;
	for (p = s; p && *p; p++) {
		const char *t = p, *v = p + 1;
		size_t n = 0;
		if (*p != '/')
			continue;
		while (t > start && (isalpha((unsigned char)t[-1]) || t[-1] == '-' || t[-1] == '_')) {
			t--;
			n++;
		}
		if (n < 2 || (t > start && t[-1] != ' ' && t[-1] != '>' && t[-1] != '(' && t[-1] != '"'))
			continue;
		if (!isdigit((unsigned char)*v))
			continue;
		while (isdigit((unsigned char)*v))
			v++;
		if (*v == '.' && isdigit((unsigned char)v[1]))
			return true;
	}
	return false;
}

static void main_checks(cJSON *o, const struct web_resp *r)
{
	char v[1024];
	bool xfo = header(r, "X-Frame-Options", v, sizeof(v)), fa = false;
	cJSON_AddNumberToObject(o, "status", r->status);
	if (header(r, "Content-Security-Policy", v, sizeof(v)))
		fa = icontains(v, "frame-ancestors");
	cJSON_AddBoolToObject(o, "x_frame_options", xfo);
	cJSON_AddBoolToObject(o, "csp_frame_ancestors", fa);
	cJSON_AddBoolToObject(o, "framing_protected", xfo || fa);
	cJSON_AddBoolToObject(o, "nosniff",
			      header(r, "X-Content-Type-Options", v, sizeof(v)) && icontains(v, "nosniff"));
	cJSON_AddBoolToObject(o, "referrer_policy", header(r, "Referrer-Policy", v, sizeof(v)));
	if (header(r, "Server", v, sizeof(v))) {
		char *e = tk_escape_bytes(v, strlen(v), 120);
		cJSON_AddStringToObject(o, "server", e ? e : "");
		free(e);
		cJSON_AddBoolToObject(o, "server_version_disclosed", version_in(v));
	} else {
		cJSON_AddBoolToObject(o, "server_version_disclosed", false);
	}
	add_cookies(o, r);
	{
		const cJSON *ck;
		bool weak = false;
		cJSON_ArrayForEach(ck, cJSON_GetObjectItemCaseSensitive(o, "cookies"))
		{
			weak |= !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ck, "secure")) ||
				!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ck, "httponly")) ||
				!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ck, "samesite"));
		}
		cJSON_AddBoolToObject(o, "cookie_flags_missing", weak);
	}
}

static void error_page_checks(cJSON *o, const struct web_resp *r)
{
	static const char *const traces[] = {"Traceback (most recent call last)",
					     "\tat java.",
					     "at org.springframework",
					     "Exception in thread",
					     "Stack trace:",
					     "Fatal error:</b>",
					     "Whitelabel Error Page",
					     "DEBUG = True",
					     "Werkzeug Debugger",
					     NULL};
	const char *b = r->body.data ? r->body.data : "";
	size_t i;
	bool trace = false;
	cJSON_AddNumberToObject(o, "error_status", r->status);
	for (i = 0; traces[i]; i++)
		trace |= strstr(b, traces[i]) != NULL;
	cJSON_AddBoolToObject(o, "error_page_stack_trace", trace);
	cJSON_AddBoolToObject(o, "error_page_version", version_in(b));
}

static bool dir_listing(const struct web_resp *r)
{
	const char *b = r->body.data ? r->body.data : "";
	return r->status == 200 && (strstr(b, "<title>Index of /") || strstr(b, "<h1>Index of /") ||
				    strstr(b, "<title>Directory listing for /"));
}

/* The exposure paths and how each is recognised by what it returns. */
static const struct exposure {
	const char *path;
	const char *what;
	const char *needle1, *needle2; /* either in the body (needle2 may be NULL) */
} exposures[] = {
    {"/.git/HEAD", "git repository (.git/HEAD)", "ref: refs/", NULL},
    {"/.env", "environment file (.env)", "DB_PASSWORD=", "APP_KEY="},
    {"/server-status", "server status page", "Apache Server Status", "Server-Status"},
    {"/server-info", "Apache server information", "Apache Server Information", NULL},
    {"/nginx_status", "nginx stub_status", "Active connections:", NULL},
    {"/actuator", "Spring Boot actuator index", "\"_links\"", NULL},
    {"/actuator/env", "Spring Boot actuator environment", "propertySources", NULL},
    {"/phpinfo.php", "phpinfo()", "phpinfo()", "PHP Version"},
};

/* origin ("scheme://host[:port]") of url into out; false when it has none. */
static bool origin_of(const char *url, char *out, size_t size)
{
	const char *s = strstr(url, "://"), *slash;
	if (!s)
		return false;
	slash = strchr(s + 3, '/');
	snprintf(out, size, "%.*s", (int)(slash ? (size_t)(slash - url) : strlen(url)), url);
	return true;
}

/* https://HOST[:PORT]PATH for url (an http:// URL's host on the default port) into out; false on failure. */
static bool https_url(const char *url, const char *path, char *out, size_t size)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *s = NULL;
	bool ok = false;
	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    (strcmp(scheme, "https") == 0 || curl_url_set(u, CURLUPART_PORT, NULL, 0) == CURLUE_OK) &&
	    curl_url_set(u, CURLUPART_SCHEME, "https", 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_PATH, path, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_QUERY, NULL, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_USER, NULL, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_PASSWORD, NULL, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_URL, &s, 0) == CURLUE_OK)
		ok = (size_t)snprintf(out, size, "%s", s) < size;
	curl_free(s);
	curl_free(scheme);
	curl_url_cleanup(u);
	return ok;
}

static void sectxt_facts(cJSON *st, const struct web_resp *r, time_t now)
{
	struct tk_sectxt p;
	cJSON *errs;
	char ct[256] = "";
	unsigned i;
	bool text_plain;
	tk_sectxt_parse(r->body.data, r->body_cut ? TK_SECTXT_MAX + 1 : r->body.len, now, &p);
	text_plain = header(r, "Content-Type", ct, sizeof(ct)) && strncasecmp(ct, "text/plain", 10) == 0 &&
		     (ct[10] == '\0' || ct[10] == ';' || ct[10] == ' ');
	cJSON_AddBoolToObject(st, "content_type_text_plain", text_plain);
	cJSON_AddBoolToObject(st, "pgp_signed", p.pgp_signed);
	cJSON_AddNumberToObject(st, "contact_count", p.contact_count);
	cJSON_AddNumberToObject(st, "expires_count", p.expires_count);
	if (p.expires_ok) {
		char t[32];
		tk_rfc3339((time_t)p.expires, t);
		cJSON_AddStringToObject(st, "expires", t);
	} else {
		cJSON_AddNullToObject(st, "expires");
	}
	cJSON_AddBoolToObject(st, "expired", p.expired);
	errs = cJSON_AddArrayToObject(st, "errors");
	if (!text_plain) {
		/* RFC 9116 3: text/plain. A soft-404 HTML page answered with 200 is not a security.txt */
		cJSON *x = cJSON_CreateObject();
		cJSON_AddNumberToObject(x, "line", 0);
		cJSON_AddStringToObject(x, "message", "Content-Type is not text/plain");
		cJSON_AddItemToArray(errs, x);
	}
	for (i = 0; i < p.nerrors; i++) {
		cJSON *x = cJSON_CreateObject();
		cJSON_AddNumberToObject(x, "line", p.errors[i].line);
		cJSON_AddStringToObject(x, "message", p.errors[i].msg);
		cJSON_AddItemToArray(errs, x);
	}
	if (p.errors_more)
		cJSON_AddNumberToObject(st, "errors_more", p.errors_more);
	cJSON_AddBoolToObject(st, "valid", p.valid && text_plain);
}

/*
 * 5a: security.txt (RFC 9116) into o's "security_txt"; up to 2 requests, counted in *requests.
 * A fetch that does not tell present from absent marks "security_txt.valid" unobserved.
 */
static void security_txt(const struct web_cfg *c, struct tk_runctx *ctx, const char *url, cJSON *o, int *requests)
{
	static const char *const paths[] = {"/.well-known/security.txt", "/security.txt"};
	cJSON *st = cJSON_AddObjectToObject(o, "security_txt");
	char u[1024], why[1400] = "";
	size_t i;
	cJSON_AddBoolToObject(st, "checked", true);
	for (i = 0; i < TK_ARRAY_LEN(paths); i++) {
		struct web_resp r;
		struct tk_err e = {0};
		int rc;
		if (!https_url(url, paths[i], u, sizeof(u))) {
			snprintf(why, sizeof(why), "no https URL for security.txt from %s", url);
			break;
		}
		if (*requests >= WEB_REQUESTS_MAX) {
			snprintf(why, sizeof(why), "request budget (%d) spent before %s", WEB_REQUESTS_MAX, u);
			break;
		}
		rc = request(c, ctx, "GET", u, NULL, &r, &e);
		(*requests)++;
		if (rc) {
			snprintf(why, sizeof(why), "%s: %s", tk_rc_name(rc), e.msg);
		} else if (r.status >= 200 && r.status <= 299) {
			cJSON_AddStringToObject(st, "url", u);
			cJSON_AddNumberToObject(st, "status", r.status);
			cJSON_AddBoolToObject(st, "present", true);
			sectxt_facts(st, &r, time(NULL));
		} else if (r.status == 404 || r.status == 410) {
			resp_free(&r);
			continue; /* absent here: the fallback path, then observed absent */
		} else {
			bool redirect = r.status >= 300 && r.status <= 399;
			snprintf(why, sizeof(why), "GET %s: HTTP %ld (%s)", u, r.status,
				 redirect ? "redirect not followed" : "neither a file nor absent");
		}
		resp_free(&r);
		break;
	}
	if (why[0]) {
		cJSON *un = cJSON_GetObjectItemCaseSensitive(o, "unobserved");
		if (!un)
			un = cJSON_AddObjectToObject(o, "unobserved");
		cJSON_AddStringToObject(st, "fetch_error", why);
		cJSON_AddStringToObject(un, "security_txt.valid", why);
	} else if (i == TK_ARRAY_LEN(paths)) {
		cJSON_AddBoolToObject(st, "present", false);
		cJSON_AddNumberToObject(st, "status", 404); /* or 410, on both paths */
		cJSON_AddNumberToObject(st, "contact_count", 0);
		cJSON_AddBoolToObject(st, "expired", false);
		cJSON_AddBoolToObject(st, "valid", false);
	}
}

static void kind_error(struct tk_runctx *ctx, const char *target, const char *kind, int rc, const char *msg)
{
	cJSON *o = tk_obs_new(ctx, "error", target);
	cJSON_AddStringToObject(o, "for_kind", kind);
	cJSON_AddStringToObject(o, "error", tk_rc_name(rc));
	cJSON_AddStringToObject(o, "message", msg);
	tk_emit(ctx, o);
}

static void scan_url(const struct web_cfg *c, struct tk_runctx *ctx, const char *url)
{
	struct web_resp r;
	struct tk_err e = {0};
	char origin[512], u[1024], v[512];
	cJSON *o, *cors, *exp, *found;
	int requests = 0, rc;
	size_t i;
	bool refl, null_ok, cred;
	if (!origin_of(url, origin, sizeof(origin))) {
		tk_emit_error(ctx, url, TK_ERR_CONFIG, "no origin in %s", url);
		return;
	}
	/* 1: the URL itself; without it nothing about this URL can be judged */
	rc = request(c, ctx, "GET", url, NULL, &r, &e);
	requests++;
	if (rc) {
		resp_free(&r);
		tk_emit_error(ctx, url, rc, "%s", e.msg);
		return;
	}
	o = tk_obs_new(ctx, "web", url);
	cJSON_AddStringToObject(o, "url", url);
	main_checks(o, &r);
	resp_free(&r);
	/* 4: an error page, 5: the origin's root */
	snprintf(u, sizeof(u), "%s/tenken-%08x-does-not-exist", origin, (unsigned)(tk_now_ms() & 0xffffffff));
	rc = request(c, ctx, "GET", u, NULL, &r, &e);
	requests++;
	if (rc == TK_OK)
		error_page_checks(o, &r);
	resp_free(&r);
	if (rc == TK_OK) {
		snprintf(u, sizeof(u), "%s/", origin);
		rc = request(c, ctx, "GET", u, NULL, &r, &e);
		requests++;
		if (rc == TK_OK)
			cJSON_AddBoolToObject(o, "directory_listing", dir_listing(&r));
		resp_free(&r);
	}
	if (rc) {
		cJSON_Delete(o); /* part of what "web" rules read is missing: all of them are incomplete */
		tk_emit_error(ctx, url, rc, "%s", e.msg);
		return;
	}
	if (c->security_txt)
		security_txt(c, ctx, url, o, &requests);
	tk_emit(ctx, o);

	/* 2, 3: CORS and TRACE */
	cors = tk_obs_new(ctx, "web_cors", url);
	cJSON_AddStringToObject(cors, "url", url);
	rc = request(c, ctx, "GET", url, WEB_ORIGIN_PROBE, &r, &e);
	requests++;
	refl =
	    rc == TK_OK && header(&r, "Access-Control-Allow-Origin", v, sizeof(v)) && strcmp(v, WEB_ORIGIN_PROBE) == 0;
	cred =
	    rc == TK_OK && header(&r, "Access-Control-Allow-Credentials", v, sizeof(v)) && strcasecmp(v, "true") == 0;
	resp_free(&r);
	if (rc == TK_OK) {
		cJSON_AddBoolToObject(cors, "arbitrary_origin_reflected", refl);
		cJSON_AddBoolToObject(cors, "arbitrary_origin_with_credentials", refl && cred);
		rc = request(c, ctx, "GET", url, "null", &r, &e);
		requests++;
		null_ok =
		    rc == TK_OK && header(&r, "Access-Control-Allow-Origin", v, sizeof(v)) && strcmp(v, "null") == 0;
		cred = rc == TK_OK && header(&r, "Access-Control-Allow-Credentials", v, sizeof(v)) &&
		       strcasecmp(v, "true") == 0;
		resp_free(&r);
		cJSON_AddBoolToObject(cors, "null_origin_with_credentials", null_ok && cred);
	}
	if (rc == TK_OK) {
		rc = request(c, ctx, "OPTIONS", url, NULL, &r, &e);
		requests++;
		cJSON_AddBoolToObject(cors, "trace_advertised",
				      rc == TK_OK && header(&r, "Allow", v, sizeof(v)) && icontains(v, "TRACE"));
		resp_free(&r);
	}
	if (rc) {
		cJSON_Delete(cors);
		kind_error(ctx, url, "web_cors", rc, e.msg);
	} else {
		tk_emit(ctx, cors);
	}

	/* 6: exposure paths (once per origin would be enough; kept per URL for a simple, fixed budget) */
	if (!c->exposure_paths) {
		kind_error(ctx, url, "web_exposure", TK_ERR_UNSUPPORTED,
			   "administration and debug paths not checked (probes.web.exposure_paths is false)");
		return;
	}
	exp = tk_obs_new(ctx, "web_exposure", url);
	cJSON_AddStringToObject(exp, "origin", origin);
	found = cJSON_AddArrayToObject(exp, "exposed");
	for (i = 0, rc = TK_OK; i < TK_ARRAY_LEN(exposures) && rc == TK_OK && requests < WEB_REQUESTS_MAX; i++) {
		const char *b;
		snprintf(u, sizeof(u), "%s%s", origin, exposures[i].path);
		rc = request(c, ctx, "GET", u, NULL, &r, &e);
		requests++;
		b = r.body.data ? r.body.data : "";
		if (rc == TK_OK && r.status == 200 &&
		    (strstr(b, exposures[i].needle1) || (exposures[i].needle2 && strstr(b, exposures[i].needle2)))) {
			cJSON *x = cJSON_CreateObject();
			cJSON_AddStringToObject(x, "path", exposures[i].path);
			cJSON_AddStringToObject(x, "what", exposures[i].what);
			cJSON_AddItemToArray(found, x);
		}
		resp_free(&r);
	}
	cJSON_AddNumberToObject(exp, "paths_checked", (double)i);
	cJSON_AddBoolToObject(exp, "any_exposed", cJSON_GetArraySize(found) > 0);
	if (rc) {
		cJSON_Delete(exp);
		kind_error(ctx, url, "web_exposure", rc, e.msg);
	} else {
		tk_emit(ctx, exp);
	}
}

static int web_run(void *state, struct tk_runctx *ctx, struct tk_err *err)
{
	const struct web_cfg *c = state;
	size_t i;
	(void)err;
	for (i = 0; i < c->nurls && !tk_run_cancelled(ctx); i++)
		scan_url(c, ctx, c->urls[i]);
	return TK_OK;
}

TK_PROBE_TARGET_STRINGS(web_targets, struct web_cfg, urls, nurls)

const struct tk_probe tk_probe_web = {
    .name = "web",
    .summary = "Web and API surface: security headers, cookie flags, CORS, TRACE, exposed admin/debug paths, "
	       "directory listing, leaky error pages",
    .configure = web_configure,
    .targets = web_targets,
    .run = web_run,
    .free_state = web_free,
};
