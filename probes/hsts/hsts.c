/*
 * hsts.c - probe "hsts": does each HTTPS URL send a valid Strict-Transport-
 * Security header (RFC 6797), and does plain HTTP redirect to HTTPS?
 *
 * Config:  {"urls": ["https://api.acme.test:9443/"], "resolve": {"api.acme.test": "127.0.0.1"},
 *           "ca_file": "ca.pem", "check_http_redirect": true, "http_port": 80,
 *           "request_timeout_s": 10, "client_cert": "client.pem", "client_key": "client.key"}
 * client_cert/client_key (PEM files, both or neither): presented to servers
 * that require a client certificate (mTLS APIs); a server that demands one
 * when none is configured is an error naming that, never a verdict.
 * Emits one observation of kind "hsts" per URL (or an error observation).
 */
#include "hsts.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpreq.h"
#include "probe.h"
#include "url.h"

#define HSTS_MAX_HEADER_BYTES (64 * 1024)
#define HSTS_MAX_AGE_CAP 9007199254740992ULL /* 2^53: exact in JSON numbers */

/* ---- RFC 6797 parser ---- */

static bool is_tchar(unsigned char c)
{
	return isalnum(c) || strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static void skip_lws(const char *s, size_t len, size_t *i)
{
	while (*i < len && (s[*i] == ' ' || s[*i] == '\t'))
		(*i)++;
}

static bool set_invalid(struct tk_hsts *out, const char *why)
{
	out->valid = false;
	snprintf(out->why, sizeof(out->why), "%s", why);
	return false;
}

void tk_hsts_parse(const char *s, size_t len, struct tk_hsts *out)
{
	size_t i = 0;
	bool seen_max_age = false, seen_sub = false, seen_preload = false;
	memset(out, 0, sizeof(*out));
	for (;;) {
		char name[64], value[128];
		size_t nlen = 0, vlen = 0;
		bool has_value = false, quoted = false;
		skip_lws(s, len, &i);
		if (i >= len)
			break;
		if (s[i] == ';') { /* empty directive */
			i++;
			continue;
		}
		while (i < len && is_tchar((unsigned char)s[i])) {
			if (nlen + 1 >= sizeof(name)) {
				set_invalid(out, "directive name too long");
				return;
			}
			name[nlen++] = (char)tolower((unsigned char)s[i++]);
		}
		name[nlen] = '\0';
		if (nlen == 0) {
			set_invalid(out, "expected a directive name");
			return;
		}
		skip_lws(s, len, &i);
		if (i < len && s[i] == '=') {
			has_value = true;
			i++;
			skip_lws(s, len, &i);
			if (i < len && s[i] == '"') {
				quoted = true;
				i++;
				while (i < len && s[i] != '"') {
					if (s[i] == '\\' && i + 1 < len)
						i++;
					if (vlen + 1 >= sizeof(value)) {
						set_invalid(out, "directive value too long");
						return;
					}
					value[vlen++] = s[i++];
				}
				if (i >= len) {
					set_invalid(out, "unterminated quoted-string");
					return;
				}
				i++; /* closing quote */
			} else {
				while (i < len && is_tchar((unsigned char)s[i])) {
					if (vlen + 1 >= sizeof(value)) {
						set_invalid(out, "directive value too long");
						return;
					}
					value[vlen++] = s[i++];
				}
			}
			value[vlen] = '\0';
			skip_lws(s, len, &i);
		}
		if (i < len && s[i] != ';') {
			set_invalid(out, "unexpected character after a directive");
			return;
		}
		if (strcmp(name, "max-age") == 0) {
			size_t k;
			unsigned long long v = 0;
			if (seen_max_age) {
				set_invalid(out, "max-age appears more than once");
				return;
			}
			seen_max_age = true;
			if (!has_value || vlen == 0) {
				set_invalid(out, "max-age without a value");
				return;
			}
			for (k = 0; k < vlen; k++) {
				if (!isdigit((unsigned char)value[k])) {
					set_invalid(out, "max-age is not a number of seconds");
					return;
				}
				v = v > HSTS_MAX_AGE_CAP / 10 ? HSTS_MAX_AGE_CAP : v * 10 + (unsigned)(value[k] - '0');
				if (v > HSTS_MAX_AGE_CAP)
					v = HSTS_MAX_AGE_CAP;
			}
			(void)quoted;
			out->max_age = v;
		} else if (strcmp(name, "includesubdomains") == 0) {
			if (seen_sub) {
				set_invalid(out, "includeSubDomains appears more than once");
				return;
			}
			if (has_value) {
				set_invalid(out, "includeSubDomains takes no value");
				return;
			}
			seen_sub = true;
			out->include_subdomains = true;
		} else if (strcmp(name, "preload") == 0) {
			/* Not in RFC 6797 (an unknown directive there); recorded for the preload list. */
			if (!seen_preload && !has_value)
				out->preload = true;
			seen_preload = true;
		}
		/* other directives: ignored (RFC 6797 6.1) */
		if (i < len && s[i] == ';')
			i++;
	}
	if (!seen_max_age) {
		set_invalid(out, "no max-age directive");
		out->include_subdomains = out->preload = false;
		return;
	}
	out->valid = true;
}

/* ---- probe ---- */

struct hsts_cfg {
	char **urls;
	size_t nurls;
	struct curl_slist *resolve; /* "host:port:addr" entries */
	char **resolve_names;
	char **resolve_addrs;
	size_t nresolve;
	char *ca_file;
	char *client_cert, *client_key; /* PEM files for mTLS servers, or NULL */
	bool check_http;
	long http_port;
	long timeout_ms;
};

/* One transfer: the HTTPS fetch of a URL, or the plain-HTTP redirect check (httpreq.h, tk_http_multi). */
struct hsts_xfer {
	const char *url;       /* borrowed */
	bool insecure;         /* second try without verification */
	struct tk_http_req req;
	struct tk_buf headers; /* the header block of the last response */
	struct tk_buf body;    /* max 0: the transfer stops at the first body byte */
};

static void hsts_free(void *state)
{
	struct hsts_cfg *c = state;
	if (!c)
		return;
	tk_strv_free(c->urls);
	tk_strv_free(c->resolve_names);
	tk_strv_free(c->resolve_addrs);
	curl_slist_free_all(c->resolve);
	free(c->ca_file);
	free(c->client_cert);
	free(c->client_key);
	free(c);
}

/* Split an http(s) URL into scheme, host (no brackets) and port. */
static int url_parts(const char *url, bool *https, char *host, size_t hsize, long *port)
{
	CURLU *u = curl_url();
	char *h = NULL, *p = NULL, *sch = NULL;
	int rc = TK_ERR_PARSE;
	if (!u)
		return TK_ERR_NOMEM;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
		goto out;
	if (curl_url_get(u, CURLUPART_SCHEME, &sch, 0) != CURLUE_OK || curl_url_get(u, CURLUPART_HOST, &h, 0) ||
	    curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT))
		goto out;
	if (strcmp(sch, "https") != 0 && strcmp(sch, "http") != 0)
		goto out;
	*https = strcmp(sch, "https") == 0;
	if (h[0] == '[') {
		size_t l = strlen(h);
		if (l < 3 || l - 2 >= hsize)
			goto out;
		memcpy(host, h + 1, l - 2);
		host[l - 2] = '\0';
	} else if (tk_strlcpy(host, h, hsize)) {
		goto out;
	}
	*port = strtol(p, NULL, 10);
	rc = TK_OK;
out:
	curl_free(h);
	curl_free(p);
	curl_free(sch);
	curl_url_cleanup(u);
	return rc;
}

static int add_resolve(struct hsts_cfg *c, const char *host, long port)
{
	size_t i;
	for (i = 0; i < c->nresolve; i++) {
		char entry[600];
		struct curl_slist *n;
		if (strcasecmp(c->resolve_names[i], host) != 0)
			continue;
		snprintf(entry, sizeof(entry), "%s:%ld:%s%s%s", host, port,
			 strchr(c->resolve_addrs[i], ':') ? "[" : "", c->resolve_addrs[i],
			 strchr(c->resolve_addrs[i], ':') ? "]" : "");
		if (!(n = curl_slist_append(c->resolve, entry)))
			return TK_ERR_NOMEM;
		c->resolve = n;
	}
	return TK_OK;
}

/* client_cert and client_key: both or neither, each readable (resolved against the config's directory). */
static int client_files(struct hsts_cfg *c, const char *cert, const char *key, const struct tk_cfgctx *cc,
			struct tk_err *err)
{
	const char *names[2] = {"client_cert", "client_key"};
	char **dst[2] = {&c->client_cert, &c->client_key};
	const char *src[2] = {cert, key};
	char p[600];
	int i;
	if (!cert != !key) {
		tk_path_key(p, sizeof(p), cc->path, cert ? "client_key" : "client_cert");
		return tk_cfg_err(err, cc, p, "missing: client_cert and client_key go together");
	}
	for (i = 0; cert && i < 2; i++) {
		if (!(*dst[i] = tk_cfg_resolve(cc, src[i])))
			return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		if (access(*dst[i], R_OK) != 0) {
			tk_path_key(p, sizeof(p), cc->path, names[i]);
			return tk_cfg_err(err, cc, p, "cannot read \"%s\": %s", *dst[i], strerror(errno));
		}
	}
	return TK_OK;
}

static int hsts_configure(const cJSON *sec, const struct tk_cfgctx *cc, void **state, struct tk_err *err)
{
	static const char *const keys[] = {"urls", "resolve", "ca_file", "check_http_redirect", "http_port",
					   "request_timeout_s", "client_cert", "client_key", NULL};
	struct hsts_cfg *c = calloc(1, sizeof(*c));
	const char *ca = NULL, *ccert = NULL, *ckey = NULL;
	const cJSON *res = NULL, *e;
	long long port = 80, tmo = 10;
	char p[512];
	size_t i;
	int rc;
	*state = NULL;
	if (!c)
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	c->check_http = true;
	if ((rc = tk_cfg_check_keys(sec, keys, cc, cc->path, err)) ||
	    (rc = tk_cfg_strings(sec, "urls", true, &c->urls, &c->nurls, cc, cc->path, err)) ||
	    (rc = tk_cfg_string(sec, "ca_file", false, &ca, cc, cc->path, err)) ||
	    (rc = tk_cfg_bool(sec, "check_http_redirect", false, &c->check_http, cc, cc->path, err)) ||
	    (rc = tk_cfg_int(sec, "http_port", false, 1, 65535, &port, cc, cc->path, err)) ||
	    (rc = tk_cfg_int(sec, "request_timeout_s", false, 1, 600, &tmo, cc, cc->path, err)) ||
	    (rc = tk_cfg_string(sec, "client_cert", false, &ccert, cc, cc->path, err)) ||
	    (rc = tk_cfg_string(sec, "client_key", false, &ckey, cc, cc->path, err)) ||
	    (rc = client_files(c, ccert, ckey, cc, err)))
		goto fail;
	c->http_port = (long)port;
	c->timeout_ms = (long)tmo * 1000;
	if (ca && !(c->ca_file = tk_cfg_resolve(cc, ca))) {
		rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		goto fail;
	}
	if ((res = cJSON_GetObjectItemCaseSensitive(sec, "resolve"))) {
		size_t n = (size_t)cJSON_GetArraySize(res);
		tk_path_key(p, sizeof(p), cc->path, "resolve");
		if (!cJSON_IsObject(res)) {
			rc = tk_cfg_err(err, cc, p, "expected {\"name\": \"address\"}");
			goto fail;
		}
		c->resolve_names = calloc(n + 1, sizeof(char *));
		c->resolve_addrs = calloc(n + 1, sizeof(char *));
		if (!c->resolve_names || !c->resolve_addrs) {
			rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
			goto fail;
		}
		cJSON_ArrayForEach(e, res)
		{
			char ep[600];
			tk_path_key(ep, sizeof(ep), p, e->string);
			if (!cJSON_IsString(e) || !*e->valuestring || strpbrk(e->valuestring, " /[]")) {
				rc = tk_cfg_err(err, cc, ep, "expected an IP address");
				goto fail;
			}
			c->resolve_names[c->nresolve] = strdup(e->string);
			c->resolve_addrs[c->nresolve++] = strdup(e->valuestring);
		}
	}
	for (i = 0; i < c->nurls; i++) {
		char host[256];
		bool https;
		long uport;
		tk_path_idx(p, sizeof(p), cc->path, 0);
		tk_path_key(p, sizeof(p), cc->path, "urls");
		{
			char ip[560], why[128];
			tk_path_idx(ip, sizeof(ip), p, i);
			if (tk_url_check(c->urls[i], why, sizeof(why)) != TK_OK && strstr(why, "out of range")) {
				rc = tk_cfg_err(err, cc, ip, "\"%s\": %s", c->urls[i], why);
				goto fail;
			}
			if (url_parts(c->urls[i], &https, host, sizeof(host), &uport) != TK_OK) {
				rc = tk_cfg_err(err, cc, ip, "\"%s\" is not an http(s) URL", c->urls[i]);
				goto fail;
			}
			if (!https) {
				rc = tk_cfg_err(err, cc, ip, "HSTS is only meaningful on https:// URLs");
				goto fail;
			}
		}
		if ((rc = add_resolve(c, host, uport)) || (rc = add_resolve(c, host, c->http_port)))
			goto fail;
	}
	*state = c;
	return TK_OK;
fail:
	hsts_free(c);
	return rc;
}

/* The request of x (max_retries 0: one observation per URL, as before the shared helper). */
static void setup_req(const struct hsts_cfg *c, struct hsts_xfer *x, const struct tk_runctx *ctx)
{
	long tmo = tk_run_remaining_ms(ctx, (int)c->timeout_ms);
	tk_buf_reset(&x->headers);
	tk_buf_reset(&x->body);
	memset(&x->req, 0, sizeof(x->req));
	x->req.method = "GET";
	x->req.url = x->url;
	x->req.timeout_ms = tmo > 0 ? (int)tmo : 1;
	x->req.max_retries = 0;
	x->req.ca_file = c->ca_file;
	x->req.client_cert = c->client_cert;
	x->req.client_key = c->client_key;
	x->req.resolve = c->resolve;
	x->req.insecure = x->insecure;
	x->req.resp_headers = &x->headers;
	x->req.body_cut_ok = true;
}

/* Find the value of the first header named `name` in a raw block; counts all. */
static const char *find_header(const struct tk_buf *hb, const char *name, size_t *vlen, int *count)
{
	const char *p = hb->data, *end = hb->data + hb->len, *first = NULL;
	size_t nl = strlen(name);
	*count = 0;
	while (p && p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol ? eol : end;
		if ((size_t)(le - p) > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1, *ve = le;
			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			if (!first) {
				first = v;
				*vlen = (size_t)(ve - v);
			}
			(*count)++;
		}
		p = eol ? eol + 1 : NULL;
	}
	return first;
}

struct url_result {
	cJSON *obs;
	bool https_done, http_done;
};

/* The error class of a failed transfer. */
static int curl_class(CURLcode cr)
{
	switch (cr) {
	case CURLE_OPERATION_TIMEDOUT:
		return TK_ERR_TIMEOUT;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
		return TK_ERR_TLS;
	case CURLE_OUT_OF_MEMORY: /* libcurl's answer to a header line over its 100 KiB cap */
	case CURLE_WRITE_ERROR:   /* our header callback refused more than HSTS_MAX_HEADER_BYTES */
	case CURLE_FILESIZE_EXCEEDED:
		return TK_ERR_LIMIT;
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return TK_ERR_PROTOCOL;
	default:
		return TK_ERR_NET;
	}
}

/*
 * Did the TLS layer end the transfer because of the client certificate?
 * TLS 1.3: alert certificate_required (116); TLS 1.2 servers send
 * handshake_failure or bad_certificate after their CertificateRequest.
 */
static bool client_cert_demanded(const char *msg)
{
	return strstr(msg, "certificate required") || strstr(msg, "alert bad certificate") ||
	       strstr(msg, "CERTIFICATE_REQUIRED");
}

static void record_https(cJSON *o, const struct hsts_xfer *x, const struct tk_http_job *j)
{
	const char *v;
	size_t vlen = 0;
	int count = 0;
	struct tk_hsts h;
	char *esc;
	cJSON_AddNumberToObject(o, "status_code", (double)j->info.status);
	cJSON_AddBoolToObject(o, "tls_verified", !x->insecure);
	v = find_header(&x->headers, "Strict-Transport-Security", &vlen, &count);
	cJSON_AddNumberToObject(o, "sts_headers", count);
	if (!v) {
		cJSON_AddBoolToObject(o, "present", 0);
		cJSON_AddBoolToObject(o, "valid", 0);
		cJSON_AddBoolToObject(o, "effective", 0);
		return;
	}
	esc = tk_escape_bytes(v, vlen, 256);
	cJSON_AddStringToObject(o, "header", esc ? esc : "");
	free(esc);
	tk_hsts_parse(v, vlen, &h);
	cJSON_AddBoolToObject(o, "present", 1);
	cJSON_AddBoolToObject(o, "valid", h.valid);
	if (!h.valid) {
		cJSON_AddStringToObject(o, "parse_error", h.why);
	} else {
		cJSON_AddNumberToObject(o, "max_age", (double)h.max_age);
		cJSON_AddBoolToObject(o, "include_subdomains", h.include_subdomains);
		cJSON_AddBoolToObject(o, "preload", h.preload);
	}
	/* RFC 6797 8.1: a UA ignores STS received over a connection with TLS errors. */
	cJSON_AddBoolToObject(o, "effective", h.valid && !x->insecure && h.max_age > 0);
}

static void record_http(cJSON *o, const struct hsts_xfer *x, const struct tk_http_job *j)
{
	cJSON *r = cJSON_AddObjectToObject(o, "http");
	long code = j->info.status;
	const char *lv;
	char *loc = NULL;
	int count = 0;
	size_t vlen, llen = 0;
	cJSON_AddStringToObject(r, "url", x->url);
	if (j->rc != TK_OK) {
		bool refused = j->info.curl_code == CURLE_COULDNT_CONNECT && j->info.os_errno == ECONNREFUSED;
		cJSON_AddBoolToObject(r, "reachable", 0);
		cJSON_AddStringToObject(r, "error", j->err.msg);
		/*
		 * Refused: nothing listens on plain HTTP, so there is nothing to redirect
		 * ("closed", not "redirects"). Anything else (timeout, reset, garbage) leaves
		 * the question open: "error", and the redirect rule goes incomplete.
		 */
		cJSON_AddStringToObject(r, "state", refused ? "closed" : "error");
		cJSON_AddBoolToObject(o, "http_closed", refused);
		return;
	}
	cJSON_AddBoolToObject(r, "reachable", 1);
	cJSON_AddStringToObject(r, "state", "open");
	cJSON_AddBoolToObject(o, "http_closed", 0);
	cJSON_AddNumberToObject(r, "status_code", (double)code);
	/* Read Location from the header block: the transfer stops before the body. */
	if ((lv = find_header(&x->headers, "Location", &llen, &count))) {
		loc = tk_escape_bytes(lv, llen, 512);
		cJSON_AddStringToObject(r, "location", loc ? loc : "");
	}
	find_header(&x->headers, "Strict-Transport-Security", &vlen, &count);
	/* RFC 6797 8.1: STS over plain HTTP is ignored; recorded so reviewers see it. */
	cJSON_AddBoolToObject(r, "sts_sent_over_http_ignored", count > 0);
	cJSON_AddBoolToObject(o, "http_redirects_to_https",
			      code >= 300 && code < 400 && loc && strncasecmp(loc, "https://", 8) == 0);
	free(loc);
}

/* Does the HTTPS transfer's failure call for a second, unverified try (to read the header anyway)? */
static bool verify_failed(const struct tk_http_job *j)
{
	return j->rc != TK_OK &&
	       (j->info.curl_code == CURLE_PEER_FAILED_VERIFICATION || j->info.curl_code == CURLE_SSL_CACERT_BADFILE);
}

/* Record the HTTPS transfer's header, or its error (naming a demanded client certificate). */
static void https_result(const struct hsts_cfg *c, const struct hsts_xfer *x, const struct tk_http_job *j,
			 struct url_result *r)
{
	if (j->rc == TK_OK && j->info.headers_cut) {
		cJSON_AddStringToObject(r->obs, "error", "the response headers exceed the limit (100 KiB per line, 64 KiB in all)");
		cJSON_AddNumberToObject(r->obs, "curl_code", CURLE_WRITE_ERROR);
	} else if (j->rc != TK_OK) {
		if (client_cert_demanded(j->err.msg))
			cJSON_AddStringToObject(r->obs, "error", c->client_cert
				? "the server refused the configured client certificate (client_cert)"
				: "the server requires a client certificate (mTLS): configure client_cert and client_key");
		else if (curl_class((CURLcode)j->info.curl_code) == TK_ERR_LIMIT)
			cJSON_AddStringToObject(r->obs, "error",
						"the response headers exceed the limit (100 KiB per line, 64 KiB in all)");
		else
			cJSON_AddStringToObject(r->obs, "error", j->err.msg);
		cJSON_AddNumberToObject(r->obs, "curl_code", j->info.curl_code);
	} else {
		record_https(r->obs, x, j);
	}
	r->https_done = true;
}

/* Emit each URL's observation, or an error saying what is missing. */
static void emit_results(struct hsts_cfg *c, struct tk_runctx *ctx, struct url_result *res)
{
	size_t i;
	for (i = 0; i < c->nurls; i++) {
		cJSON *o = res[i].obs;
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "error");
		res[i].obs = NULL;
		if (!res[i].https_done) {
			cJSON_Delete(o);
			tk_emit_error(ctx, c->urls[i], TK_ERR_TIMEOUT, "no HTTPS response before the deadline");
		} else if (e) {
			const cJSON *cc = cJSON_GetObjectItemCaseSensitive(o, "curl_code");
			int cls = curl_class(cc ? (CURLcode)cc->valueint : CURLE_OK);
			tk_emit_error(ctx, c->urls[i], cls, "%s", e->valuestring);
			cJSON_Delete(o);
		} else {
			if (!res[i].http_done) {
				cJSON *h = cJSON_AddObjectToObject(o, "http");
				cJSON_AddStringToObject(h, "state", "error");
				cJSON_AddStringToObject(h, "error", "no plain-HTTP response before the deadline");
			}
			tk_emit(ctx, o);
		}
	}
}

static bool run_cancelled(void *ctx)
{
	return tk_run_cancelled(ctx);
}

/*
 * Every URL's HTTPS fetch and plain-HTTP check side by side (tk_http_multi), then, for
 * HTTPS fetches that failed verification, a second pass unverified to grade the header.
 */
static int hsts_run(void *state, struct tk_runctx *ctx, struct tk_err *err)
{
	struct hsts_cfg *c = state;
	struct hsts_xfer *xs = NULL;
	struct tk_http_job *jobs = NULL;
	struct url_result *res = NULL;
	char **http_urls = NULL;
	size_t nx = c->nurls * 2, i, nj = 0, *map = NULL;
	int rc = TK_OK;

	xs = calloc(nx, sizeof(*xs));
	jobs = calloc(nx, sizeof(*jobs));
	map = calloc(nx, sizeof(*map));
	res = calloc(c->nurls, sizeof(*res));
	http_urls = calloc(c->nurls + 1, sizeof(char *));
	if (!xs || !jobs || !map || !res || !http_urls) {
		rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < nx; i++) {
		tk_buf_init(&xs[i].headers, HSTS_MAX_HEADER_BYTES);
		tk_buf_init(&xs[i].body, 0);
	}
	for (i = 0; i < c->nurls; i++) {
		struct hsts_xfer *hx = &xs[2 * i], *px = &xs[2 * i + 1];
		char host[256];
		bool https;
		long port;
		res[i].obs = tk_obs_new(ctx, "hsts", c->urls[i]);
		cJSON_AddStringToObject(res[i].obs, "url", c->urls[i]);
		hx->url = c->urls[i];
		setup_req(c, hx, ctx);
		res[i].http_done = !c->check_http;
		if (c->check_http && url_parts(c->urls[i], &https, host, sizeof(host), &port) == TK_OK) {
			size_t l = strlen(host) + 32;
			if (!(http_urls[i] = malloc(l))) {
				rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
				goto out;
			}
			snprintf(http_urls[i], l, strchr(host, ':') ? "http://[%s]:%ld/" : "http://%s:%ld/", host,
				 c->http_port);
			px->url = http_urls[i];
			setup_req(c, px, ctx);
		}
	}
	for (i = 0; i < nx; i++)
		if (xs[i].url) {
			jobs[nj].req = &xs[i].req;
			jobs[nj].resp = &xs[i].body;
			map[nj++] = i;
		}
	if (tk_http_multi(jobs, nj, run_cancelled, ctx) != TK_OK) {
		rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* results; verification failures are recorded and queued for the unverified pass */
	{
		size_t again = 0;
		for (i = 0; i < nj; i++) {
			struct hsts_xfer *x = &xs[map[i]];
			struct url_result *r = &res[map[i] / 2];
			if (jobs[i].rc == TK_ERR_CANCELLED)
				continue;
			if (map[i] % 2) {
				record_http(r->obs, x, &jobs[i]);
				r->http_done = true;
			} else if (verify_failed(&jobs[i])) {
				cJSON_AddStringToObject(r->obs, "tls_error", jobs[i].err.msg);
				x->insecure = true;
				setup_req(c, x, ctx);
				jobs[again].req = &x->req;
				jobs[again].resp = &x->body;
				map[again++] = map[i];
			} else {
				https_result(c, x, &jobs[i], r);
			}
		}
		if (again && !tk_run_cancelled(ctx)) {
			if (tk_http_multi(jobs, again, run_cancelled, ctx) != TK_OK) {
				rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
				goto out;
			}
			for (i = 0; i < again; i++)
				if (jobs[i].rc != TK_ERR_CANCELLED)
					https_result(c, &xs[map[i]], &jobs[i], &res[map[i] / 2]);
		}
	}
	if (tk_run_cancelled(ctx))
		rc = tk_seterr(err, TK_ERR_TIMEOUT, "deadline reached with transfers in flight");
	emit_results(c, ctx, res);
out:
	for (i = 0; xs && i < nx; i++) {
		tk_buf_free(&xs[i].headers);
		tk_buf_free(&xs[i].body);
	}
	for (i = 0; res && i < c->nurls; i++)
		cJSON_Delete(res[i].obs);
	for (i = 0; http_urls && i < c->nurls; i++)
		free(http_urls[i]);
	free(http_urls);
	free(xs);
	free(jobs);
	free(map);
	free(res);
	return rc;
}

TK_PROBE_TARGET_STRINGS(hsts_targets, struct hsts_cfg, urls, nurls)

const struct tk_probe tk_probe_hsts = {
	.name = "hsts",
	.summary = "HTTPS URLs: Strict-Transport-Security by RFC 6797, and HTTP-to-HTTPS redirects",
	.configure = hsts_configure,
	.targets = hsts_targets,
	.run = hsts_run,
	.free_state = hsts_free,
};
