/* cloudjson.c - Graph and Directory administrator lists, and the bearer-API HTTP helper. */
#include "cloudjson.h"
#include "curlbudget.h"
#include "scrub.h"

#include "budget.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

void tk_admins_clear(struct tk_admins *a)
{
	size_t i;
	if (!a)
		return;
	for (i = 0; i < a->n; i++) {
		free(a->v[i].id);
		free(a->v[i].name);
		free(a->v[i].methods);
	}
	free(a->v);
	memset(a, 0, sizeof(*a));
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int jbool(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsBool(v) ? cJSON_IsTrue(v) : -1;
}

static struct tk_admin *admin_add(struct tk_admins *a, const char *id, const char *name, struct tk_err *err)
{
	struct tk_admin *u;
	if (a->n >= TK_ADMINS_MAX) {
		tk_seterr(err, TK_ERR_LIMIT, "more than %d administrators", TK_ADMINS_MAX);
		return NULL;
	}
	if (a->n == a->cap) {
		size_t nc = a->cap ? a->cap * 2 : 16;
		struct tk_admin *nv = realloc(a->v, nc * sizeof(*nv));
		if (!nv) {
			tk_seterr(err, TK_ERR_NOMEM, "out of memory");
			return NULL;
		}
		a->v = nv;
		a->cap = nc;
	}
	u = &a->v[a->n];
	memset(u, 0, sizeof(*u));
	u->mfa = u->enforced = u->capable = -1;
	u->id = id ? tk_escape_bytes(id, strlen(id), 256) : NULL;
	u->name = name ? tk_escape_bytes(name, strlen(name), 256) : NULL;
	if ((id && !u->id) || (name && !u->name)) {
		free(u->id);
		free(u->name);
		tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		return NULL;
	}
	a->n++;
	return u;
}

static cJSON *parse_obj(const char *p, size_t len, const char *what, struct tk_err *err)
{
	cJSON *j = cJSON_ParseWithLength(p, len);
	if (!j) {
		const char *at = cJSON_GetErrorPtr();
		size_t off = at && at >= p && at <= p + len ? (size_t)(at - p) : 0;
		tk_seterr(err, TK_ERR_PARSE, "%s: malformed JSON near byte %zu", what, off);
		return NULL;
	}
	return j;
}

/* "value" of a Graph page, or the array itself. */
static const cJSON *graph_values(const cJSON *page)
{
	if (cJSON_IsArray(page))
		return page;
	return cJSON_GetObjectItemCaseSensitive(page, "value");
}

static int next_of(const cJSON *page, const char *key, char **next, struct tk_err *err)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(page, key);
	if (!next)
		return TK_OK;
	*next = NULL;
	if (!n || cJSON_IsNull(n))
		return TK_OK;
	if (!cJSON_IsString(n) || !*n->valuestring || strlen(n->valuestring) > 4000)
		return tk_seterr(err, TK_ERR_PARSE, "%s: expected a non-empty string of at most 4000 bytes", key);
	if (!(*next = strdup(n->valuestring)))
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	return TK_OK;
}

static int members_from(const cJSON *vals, struct tk_admins *out, struct tk_err *err)
{
	const cJSON *m;
	size_t i = 0;
	if (!cJSON_IsArray(vals))
		return tk_seterr(err, TK_ERR_PARSE, "Graph members: \"value\" is not an array");
	cJSON_ArrayForEach(m, vals)
	{
		const char *type = jstr(m, "@odata.type"), *id = jstr(m, "id"), *upn = jstr(m, "userPrincipalName");
		if (!cJSON_IsObject(m) || !id)
			return tk_seterr(err, TK_ERR_PARSE, "Graph members: value[%zu]: expected an object with an id", i);
		i++;
		if ((type && strcmp(type, "#microsoft.graph.user") != 0) || (!type && !upn)) {
			out->non_users++;
			continue;
		}
		if (!admin_add(out, id, upn ? upn : jstr(m, "displayName"), err))
			return err ? err->rc : TK_ERR_NOMEM;
	}
	return TK_OK;
}

static int regdetails_from(const cJSON *vals, struct tk_admins *admins, struct tk_err *err)
{
	const cJSON *d;
	size_t i = 0;
	if (!cJSON_IsArray(vals))
		return tk_seterr(err, TK_ERR_PARSE, "Graph userRegistrationDetails: \"value\" is not an array");
	cJSON_ArrayForEach(d, vals)
	{
		const char *id = jstr(d, "id");
		size_t k;
		if (!cJSON_IsObject(d) || !id)
			return tk_seterr(err, TK_ERR_PARSE,
					 "Graph userRegistrationDetails: value[%zu]: expected an object with an id", i);
		i++;
		for (k = 0; k < admins->n; k++) {
			struct tk_admin *u = &admins->v[k];
			const cJSON *meth, *e;
			struct tk_buf mb;
			if (!u->id || strcasecmp(u->id, id) != 0)
				continue;
			u->mfa = jbool(d, "isMfaRegistered");
			u->capable = jbool(d, "isMfaCapable");
			meth = cJSON_GetObjectItemCaseSensitive(d, "methodsRegistered");
			tk_buf_init(&mb, 512);
			cJSON_ArrayForEach(e, meth)
			{
				if (cJSON_IsString(e) && tk_buf_printf(&mb, "%s%s", mb.len ? "," : "", e->valuestring))
					break;
			}
			free(u->methods);
			u->methods = mb.data ? tk_escape_bytes(mb.data, mb.len, 512) : NULL;
			tk_buf_free(&mb);
		}
	}
	return TK_OK;
}

int tk_graph_members_parse(const char *p, size_t len, struct tk_admins *out, char **next_link, struct tk_err *err)
{
	cJSON *j = parse_obj(p, len, "Graph members", err);
	int rc;
	if (next_link)
		*next_link = NULL;
	if (!j)
		return TK_ERR_PARSE;
	if (!cJSON_IsObject(j))
		rc = tk_seterr(err, TK_ERR_PARSE, "Graph members: expected an object");
	else if (!(rc = members_from(graph_values(j), out, err)))
		rc = next_of(j, "@odata.nextLink", next_link, err);
	cJSON_Delete(j);
	return rc;
}

int tk_graph_regdetails_parse(const char *p, size_t len, struct tk_admins *admins, char **next_link,
			      struct tk_err *err)
{
	cJSON *j = parse_obj(p, len, "Graph userRegistrationDetails", err);
	int rc;
	if (next_link)
		*next_link = NULL;
	if (!j)
		return TK_ERR_PARSE;
	if (!cJSON_IsObject(j))
		rc = tk_seterr(err, TK_ERR_PARSE, "Graph userRegistrationDetails: expected an object");
	else if (!(rc = regdetails_from(graph_values(j), admins, err)))
		rc = next_of(j, "@odata.nextLink", next_link, err);
	cJSON_Delete(j);
	return rc;
}

int tk_graph_export_parse(const char *p, size_t len, struct tk_admins *out, struct tk_err *err)
{
	cJSON *j = parse_obj(p, len, "Graph export", err);
	const cJSON *m, *r;
	int rc;
	if (!j)
		return TK_ERR_PARSE;
	m = cJSON_GetObjectItemCaseSensitive(j, "members");
	r = cJSON_GetObjectItemCaseSensitive(j, "userRegistrationDetails");
	if (!cJSON_IsObject(j) || !m || !r)
		rc = tk_seterr(err, TK_ERR_PARSE,
			       "Graph export: expected {\"members\": ..., \"userRegistrationDetails\": ...}");
	else if (!(rc = members_from(graph_values(m), out, err)))
		rc = regdetails_from(graph_values(r), out, err);
	cJSON_Delete(j);
	return rc;
}

static int directory_users_from(const cJSON *users, struct tk_admins *out, struct tk_err *err)
{
	const cJSON *u;
	size_t i = 0;
	if (!users)
		return TK_OK; /* an empty page has no "users" */
	if (!cJSON_IsArray(users))
		return tk_seterr(err, TK_ERR_PARSE, "Directory users: \"users\" is not an array");
	cJSON_ArrayForEach(u, users)
	{
		struct tk_admin *a;
		const char *email = jstr(u, "primaryEmail");
		if (!cJSON_IsObject(u) || (!email && !jstr(u, "id")))
			return tk_seterr(err, TK_ERR_PARSE, "Directory users: users[%zu]: expected a user object", i);
		i++;
		if (jbool(u, "isAdmin") != 1)
			continue; /* super administrators only */
		if (!(a = admin_add(out, jstr(u, "id"), email, err)))
			return err ? err->rc : TK_ERR_NOMEM;
		a->mfa = jbool(u, "isEnrolledIn2Sv");
		a->enforced = jbool(u, "isEnforcedIn2Sv");
	}
	return TK_OK;
}

int tk_directory_users_parse(const char *p, size_t len, struct tk_admins *out, char **next_token,
			     struct tk_err *err)
{
	cJSON *j = parse_obj(p, len, "Directory users", err);
	int rc;
	if (next_token)
		*next_token = NULL;
	if (!j)
		return TK_ERR_PARSE;
	if (!cJSON_IsObject(j))
		rc = tk_seterr(err, TK_ERR_PARSE, "Directory users: expected an object");
	else if (!(rc = directory_users_from(cJSON_GetObjectItemCaseSensitive(j, "users"), out, err)))
		rc = next_of(j, "nextPageToken", next_token, err);
	cJSON_Delete(j);
	return rc;
}

int tk_directory_export_parse(const char *p, size_t len, struct tk_admins *out, struct tk_err *err)
{
	cJSON *j = parse_obj(p, len, "Directory export", err);
	const cJSON *e;
	int rc = TK_OK;
	if (!j)
		return TK_ERR_PARSE;
	if (cJSON_IsObject(j)) {
		rc = directory_users_from(cJSON_GetObjectItemCaseSensitive(j, "users"), out, err);
	} else if (cJSON_IsArray(j)) {
		const cJSON *first = cJSON_GetArrayItem(j, 0);
		if (first && cJSON_GetObjectItemCaseSensitive(first, "kind") &&
		    cJSON_IsString(cJSON_GetObjectItemCaseSensitive(first, "kind")) &&
		    strcmp(cJSON_GetObjectItemCaseSensitive(first, "kind")->valuestring, "admin#directory#users") ==
			0) {
			cJSON_ArrayForEach(e, j)
			{
				if ((rc = directory_users_from(cJSON_GetObjectItemCaseSensitive(e, "users"), out, err)))
					break;
			}
		} else {
			rc = directory_users_from(j, out, err);
		}
	} else {
		rc = tk_seterr(err, TK_ERR_PARSE, "Directory export: expected a users page, pages or users");
	}
	cJSON_Delete(j);
	return rc;
}

bool tk_url_same_origin(const char *url, const char *base)
{
	CURLU *a = curl_url(), *b = curl_url();
	char *as = NULL, *ah = NULL, *ap = NULL, *bs = NULL, *bh = NULL, *bp = NULL;
	bool same = false;
	if (a && b && curl_url_set(a, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_set(b, CURLUPART_URL, base, 0) == CURLUE_OK &&
	    curl_url_get(a, CURLUPART_SCHEME, &as, 0) == CURLUE_OK &&
	    curl_url_get(b, CURLUPART_SCHEME, &bs, 0) == CURLUE_OK &&
	    curl_url_get(a, CURLUPART_HOST, &ah, 0) == CURLUE_OK &&
	    curl_url_get(b, CURLUPART_HOST, &bh, 0) == CURLUE_OK &&
	    curl_url_get(a, CURLUPART_PORT, &ap, CURLU_DEFAULT_PORT) == CURLUE_OK &&
	    curl_url_get(b, CURLUPART_PORT, &bp, CURLU_DEFAULT_PORT) == CURLUE_OK)
		same = strcasecmp(as, bs) == 0 && strcasecmp(ah, bh) == 0 && strcmp(ap, bp) == 0;
	curl_free(as);
	curl_free(ah);
	curl_free(ap);
	curl_free(bs);
	curl_free(bh);
	curl_free(bp);
	curl_url_cleanup(a);
	curl_url_cleanup(b);
	return same;
}

int tk_oauth_access_token(const struct tk_buf *resp, const char *who, char **token, struct tk_err *err)
{
	cJSON *j = cJSON_ParseWithLength(resp->data ? resp->data : "", resp->len);
	const cJSON *t = j ? cJSON_GetObjectItemCaseSensitive(j, "access_token") : NULL;
	int rc = TK_OK;
	*token = NULL;
	if (!cJSON_IsString(t) || !*t->valuestring)
		rc = tk_seterr(err, TK_ERR_PROTOCOL, "%s: the response has no access_token", who);
	else if (!(*token = strdup(t->valuestring)))
		rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	if (cJSON_IsString(t))
		OPENSSL_cleanse(t->valuestring, strlen(t->valuestring));
	cJSON_Delete(j);
	return rc;
}

void tk_api_error_describe(long status, const struct tk_buf *b, char *out, size_t size)
{
	cJSON *j = b->len ? cJSON_ParseWithLength(b->data, b->len) : NULL;
	const cJSON *e = j ? cJSON_GetObjectItemCaseSensitive(j, "error") : NULL, *c = NULL, *m = NULL;
	char *ec = NULL, *em = NULL;
	if (cJSON_IsObject(e)) {
		c = cJSON_GetObjectItemCaseSensitive(e, "status"); /* Google: "PERMISSION_DENIED" (code is a number) */
		if (!cJSON_IsString(c))
			c = cJSON_GetObjectItemCaseSensitive(e, "code"); /* Graph, ARM: "AuthorizationFailed" */
		m = cJSON_GetObjectItemCaseSensitive(e, "message");
	} else if (cJSON_IsString(e)) {
		c = e;
		m = cJSON_GetObjectItemCaseSensitive(j, "error_description");
	}
	if (cJSON_IsString(c))
		ec = tk_escape_bytes(c->valuestring, strlen(c->valuestring), 100);
	if (cJSON_IsString(m))
		em = tk_escape_bytes(m->valuestring, strlen(m->valuestring), 300);
	if (ec || em)
		snprintf(out, size, "HTTP %ld %s: %s", status, ec ? ec : "error", em ? em : "(no message)");
	else
		snprintf(out, size, "HTTP %ld with %s", status,
			 b->len ? "a body that is not an API error" : "an empty body");
	free(ec);
	free(em);
	cJSON_Delete(j);
}

void tk_api_init(struct tk_api *api, const char *name, const char *origin, const char *bearer, const char *ca_file,
		 const char *proxy, int call_timeout_ms, int64_t deadline, bool (*cancelled)(void *), void *cancel_arg)
{
	memset(api, 0, sizeof(*api));
	api->name = name;
	api->origin = origin;
	api->bearer = bearer;
	api->ca_file = ca_file;
	api->proxy = proxy;
	api->call_timeout_ms = call_timeout_ms;
	api->deadline = deadline;
	api->cancelled = cancelled;
	api->cancel_arg = cancel_arg;
}

/* A request of api's settings with `left` ms to go (bearer, body, retries: the caller's). */
static void api_req(const struct tk_api *api, const char *method, const char *url, int left, struct tk_http_req *r)
{
	memset(r, 0, sizeof(*r));
	r->method = method;
	r->url = url;
	r->accept = "application/json";
	r->ca_file = api->ca_file;
	r->proxy = api->proxy;
	r->timeout_ms = left < api->call_timeout_ms ? left : api->call_timeout_ms;
	r->cancelled = api->cancelled;
	r->cancel_arg = api->cancel_arg;
	r->secrets = api->secrets;
}

/* The error class of a non-200 answer (a token endpoint answers a bad grant with 400). */
static int status_rc(long st, bool token)
{
	if (st == 401 || st == 403 || (token && st == 400))
		return TK_ERR_AUTH;
	if (st == 404 && !token)
		return TK_ERR_NOTFOUND;
	return st == 429 || (st >= 500 && st <= 599) ? TK_ERR_NET : TK_ERR_PROTOCOL;
}

/* The URL of the page after `first` named by a page token: first&pageToken=ENC (malloc'd). */
static char *token_url(const char *first, const char *token)
{
	char *enc = tk_uri_encode(token, false), *u = NULL;
	size_t n;
	if (!enc)
		return NULL;
	n = strlen(first) + strlen(enc) + 16;
	if ((u = malloc(n)))
		snprintf(u, n, "%s%cpageToken=%s", first, strchr(first, '?') ? '&' : '?', enc);
	free(enc);
	return u;
}

int tk_api_pages(const struct tk_api *api, const char *what, const char *method, const char *url, const char *body,
		 enum tk_page_next style, int max_pages, size_t max_body, tk_page_fn fn, void *arg, struct tk_err *err)
{
	char *cur = strdup(url), *next = NULL;
	struct tk_buf resp;
	int pages = 0, rc = TK_OK;
	tk_buf_init(&resp, max_body);
	if (!cur)
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	while (cur) {
		struct tk_http_req r;
		long st = 0;
		int left = (int)(api->deadline - tk_now_ms());
		if (left <= 0) {
			rc = tk_seterr(err, TK_ERR_TIMEOUT, "%s %s page %d: deadline reached", api->name, what,
				       pages + 1);
			break;
		}
		api_req(api, method, cur, left, &r);
		r.bearer = api->bearer;
		r.body = body;
		r.body_len = body ? strlen(body) : 0;
		r.content_type = body ? "application/json" : NULL;
		r.max_retries = 4;
		if ((rc = tk_http_call(&r, &st, &resp, err))) {
			tk_err_prefix(err, "%s %s page %d", api->name, what, pages + 1);
			break;
		}
		if (st != 200) {
			char m[600];
			tk_api_error_describe(st, &resp, m, sizeof(m));
			rc = tk_seterr(err, status_rc(st, false), "%s %s page %d: %s", api->name, what, pages + 1, m);
			break;
		}
		if ((rc = fn(resp.data ? resp.data : "", resp.len, arg, &next, err))) {
			tk_err_prefix(err, "%s %s page %d", api->name, what, pages + 1);
			break;
		}
		pages++;
		if (!next) {
			free(cur);
			cur = NULL;
			break;
		}
		if (pages >= max_pages) {
			rc = tk_seterr(err, TK_ERR_LIMIT, "%s %s: more than %d pages", api->name, what, max_pages);
			break;
		}
		if (style == TK_NEXT_LINK) {
			if (!tk_url_same_origin(next, api->origin)) {
				rc = tk_seterr(err, TK_ERR_PROTOCOL,
					       "%s %s page %d: the next link leaves the endpoint %s: not followed", api->name,
					       what, pages, api->origin);
				break;
			}
			free(cur);
			cur = next;
		} else {
			char *u = token_url(url, next);
			free(next);
			if (!u) {
				next = NULL;
				rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
				break;
			}
			free(cur);
			cur = u;
		}
		next = NULL;
	}
	free(cur);
	free(next);
	tk_buf_free(&resp);
	return rc;
}

int tk_oauth_token_post(const struct tk_api *api, const char *url, const char *form, size_t form_len, const char *who,
			char **token, struct tk_err *err)
{
	struct tk_http_req r;
	struct tk_buf resp;
	long st = 0;
	int rc, left = (int)(api->deadline - tk_now_ms());
	*token = NULL;
	if (left <= 0)
		return tk_seterr(err, TK_ERR_TIMEOUT, "%s: deadline reached before the token request", who);
	tk_buf_init(&resp, 1 << 20);
	api_req(api, "POST", url, left, &r);
	r.content_type = "application/x-www-form-urlencoded";
	r.body = form;
	r.body_len = form_len;
	r.max_retries = 3;
	if ((rc = tk_http_call(&r, &st, &resp, err))) {
		tk_err_prefix(err, "%s: token endpoint %s", who, url);
	} else if (st != 200) {
		char m[600];
		tk_api_error_describe(st, &resp, m, sizeof(m));
		rc = tk_seterr(err, status_rc(st, true), "%s: %s", who, m);
	} else {
		rc = tk_oauth_access_token(&resp, who, token, err);
	}
	if (resp.data)
		OPENSSL_cleanse(resp.data, resp.len);
	tk_buf_free(&resp);
	return rc;
}

int tk_cfg_id_list(const cJSON *acct, const char *key, size_t max, bool (*valid)(const char *), bool fold,
		   const char *expected, char ***out, size_t *n, const struct tk_cfgctx *cc, const char *path,
		   struct tk_err *err)
{
	char p[700], q[760];
	int rc;
	*out = NULL;
	*n = 0;
	if ((rc = tk_cfg_strings(acct, key, false, out, n, cc, path, err)))
		return rc;
	tk_path_key(p, sizeof(p), path, key);
	if (*n > max)
		rc = tk_cfg_err(err, cc, p, "at most %zu entries", max);
	for (size_t i = 0; !rc && i < *n; i++) {
		tk_path_idx(q, sizeof(q), p, i);
		if (!valid((*out)[i]))
			rc = tk_cfg_err(err, cc, q, "expected %s", expected);
		for (size_t k = 0; !rc && k < i; k++)
			if ((fold ? strcasecmp((*out)[k], (*out)[i]) : strcmp((*out)[k], (*out)[i])) == 0)
				rc = tk_cfg_err(err, cc, q, "%s is listed twice", (*out)[i]);
	}
	if (rc) {
		tk_strv_free(*out);
		*out = NULL;
		*n = 0;
	}
	return rc;
}
