/* azure.c - Microsoft Graph: Global Administrators and MFA registration (see azure.h). */
#include "azure.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tk.h" /* tk_uri_encode */

#define AZ_MAX_BODY (16u << 20)
#define AZ_MAX_PAGES 2000

const char *const tk_azure_account_keys[] = {"tenant", "client_id", "secret_env", "graph_endpoint",
					     "login_endpoint", "ca_file", "proxy", "request_timeout_s", NULL};

struct tk_azure_account {
	char *tenant, *client_id, *secret_env, *secret;
	char *graph, *login, *ca_file;
	char *proxy;
	int timeout_ms;
};

void tk_azure_account_free(struct tk_azure_account *a)
{
	if (!a)
		return;
	free(a->tenant);
	free(a->client_id);
	free(a->secret_env);
	if (a->secret) {
		OPENSSL_cleanse(a->secret, strlen(a->secret));
		free(a->secret);
	}
	free(a->graph);
	free(a->login);
	free(a->ca_file);
	free(a->proxy);
	free(a);
}

const char *tk_azure_account_tenant(const struct tk_azure_account *a)
{
	return a->tenant;
}

static char *no_slash(const char *u)
{
	char *s = strdup(u);
	size_t l = s ? strlen(s) : 0;
	while (l > 0 && s[l - 1] == '/')
		s[--l] = '\0';
	return s;
}

int tk_azure_account_parse(const cJSON *acct, const struct tk_cfgctx *cc, const char *path,
			   struct tk_azure_account **out, struct tk_err *err)
{
	struct tk_azure_account *a = calloc(1, sizeof(*a));
	const char *tenant = NULL, *cid = NULL, *senv = NULL, *graph = "https://graph.microsoft.com",
		   *login = "https://login.microsoftonline.com", *ca = NULL, *sv, *proxy = "";
	long long tmo = 30;
	char p[700];
	int rc;
	*out = NULL;
	if (!a)
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	if ((rc = tk_cfg_string(acct, "tenant", true, &tenant, cc, path, err)) ||
	    (rc = tk_cfg_string(acct, "client_id", true, &cid, cc, path, err)) ||
	    (rc = tk_cfg_string(acct, "secret_env", true, &senv, cc, path, err)) ||
	    (rc = tk_cfg_string(acct, "graph_endpoint", false, &graph, cc, path, err)) ||
	    (rc = tk_cfg_string(acct, "login_endpoint", false, &login, cc, path, err)) ||
	    (rc = tk_cfg_string(acct, "ca_file", false, &ca, cc, path, err)) ||
	    (rc = tk_cfg_string(acct, "proxy", false, &proxy, cc, path, err)) ||
	    (rc = tk_cfg_int(acct, "request_timeout_s", false, 1, 600, &tmo, cc, path, err)))
		goto fail;
	tk_path_key(p, sizeof(p), path, "tenant");
	if (!*tenant || strspn(tenant, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") !=
				strlen(tenant)) {
		rc = tk_cfg_err(err, cc, p, "expected a tenant id or domain");
		goto fail;
	}
	if (strncmp(graph, "http://", 7) && strncmp(graph, "https://", 8)) {
		tk_path_key(p, sizeof(p), path, "graph_endpoint");
		rc = tk_cfg_err(err, cc, p, "expected an http:// or https:// URL");
		goto fail;
	}
	if (strncmp(login, "http://", 7) && strncmp(login, "https://", 8)) {
		tk_path_key(p, sizeof(p), path, "login_endpoint");
		rc = tk_cfg_err(err, cc, p, "expected an http:// or https:// URL");
		goto fail;
	}
	tk_path_key(p, sizeof(p), path, "secret_env");
	if (!(sv = getenv(senv)) || !*sv) {
		rc = tk_cfg_err(err, cc, p, "the environment variable %s (the client secret) is not set", senv);
		goto fail;
	}
	a->timeout_ms = (int)tmo * 1000;
	if (!(a->tenant = strdup(tenant)) || !(a->client_id = strdup(cid)) || !(a->secret_env = strdup(senv)) ||
	    !(a->secret = strdup(sv)) || !(a->graph = no_slash(graph)) || !(a->login = no_slash(login)) ||
	    (ca && !(a->ca_file = tk_cfg_resolve(cc, ca))) ||
	    !(a->proxy = strdup(proxy))) {
		rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		goto fail;
	}
	*out = a;
	return TK_OK;
fail:
	tk_azure_account_free(a);
	return rc;
}

/* {"error": {"code", "message"}} or {"error": "x", "error_description": "y"} */
static void graph_error(long st, const struct tk_buf *b, char *out, size_t size)
{
	cJSON *j = b->len ? cJSON_ParseWithLength(b->data, b->len) : NULL;
	const cJSON *e = j ? cJSON_GetObjectItemCaseSensitive(j, "error") : NULL;
	const char *code = NULL, *msg = NULL;
	char *ec = NULL, *em = NULL;
	if (cJSON_IsObject(e)) {
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "code"), *m = cJSON_GetObjectItemCaseSensitive(e, "message");
		code = cJSON_IsString(c) ? c->valuestring : NULL;
		msg = cJSON_IsString(m) ? m->valuestring : NULL;
	} else if (cJSON_IsString(e)) {
		const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "error_description");
		code = e->valuestring;
		msg = cJSON_IsString(d) ? d->valuestring : NULL;
	}
	if (code)
		ec = tk_escape_bytes(code, strlen(code), 100);
	if (msg)
		em = tk_escape_bytes(msg, strlen(msg), 300);
	if (ec)
		snprintf(out, size, "HTTP %ld %s: %s", st, ec, em ? em : "(no message)");
	else
		snprintf(out, size, "HTTP %ld with %s", st,
			 b->len ? "a body that is not a Graph error" : "an empty body");
	free(ec);
	free(em);
	cJSON_Delete(j);
}

static int get_token(struct tk_azure_account *a, int timeout_ms, bool (*cancelled)(void *), void *arg,
		     char **token, struct tk_err *err)
{
	struct tk_buf body, resp;
	char url[2048], *cid = NULL, *sec = NULL, *scope = NULL, scopebuf[1100];
	const char *secrets[3];
	struct tk_http_req r;
	long st = 0;
	int rc;
	*token = NULL;
	tk_buf_init(&body, 16384);
	tk_buf_init(&resp, 1 << 20);
	snprintf(url, sizeof(url), "%s/%s/oauth2/v2.0/token", a->login, a->tenant);
	snprintf(scopebuf, sizeof(scopebuf), "%s/.default", a->graph);
	cid = tk_uri_encode(a->client_id, false);
	sec = tk_uri_encode(a->secret, false);
	scope = tk_uri_encode(scopebuf, false);
	if (!cid || !sec || !scope ||
	    tk_buf_printf(&body, "client_id=%s&client_secret=%s&scope=%s&grant_type=client_credentials", cid, sec,
			  scope)) {
		rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		goto out;
	}
	memset(&r, 0, sizeof(r));
	r.method = "POST";
	r.accept = "application/json";
	r.url = url;
	r.content_type = "application/x-www-form-urlencoded";
	r.body = body.data;
	r.body_len = body.len;
	r.ca_file = a->ca_file;
	r.proxy = a->proxy;
	r.timeout_ms = timeout_ms < a->timeout_ms ? timeout_ms : a->timeout_ms;
	r.max_retries = 3;
	r.cancelled = cancelled;
	r.cancel_arg = arg;
	secrets[0] = a->secret;
	secrets[1] = sec;
	secrets[2] = NULL;
	r.secrets = secrets;
	if ((rc = tk_http_call(&r, &st, &resp, err))) {
		tk_err_prefix(err, "Azure token endpoint %s", url);
		goto out;
	}
	if (st != 200) {
		char m[600];
		graph_error(st, &resp, m, sizeof(m));
		rc = tk_seterr(err, st == 400 || st == 401 || st == 403 ? TK_ERR_AUTH : TK_ERR_PROTOCOL,
			       "Azure token for client %s in tenant %s: %s", a->client_id, a->tenant, m);
		goto out;
	}
	rc = tk_oauth_access_token(&resp, "Azure token endpoint", token, err);
out:
	if (body.data)
		OPENSSL_cleanse(body.data, body.len);
	if (resp.data)
		OPENSSL_cleanse(resp.data, resp.len);
	if (sec) {
		OPENSSL_cleanse(sec, strlen(sec));
		free(sec);
	}
	free(cid);
	free(scope);
	tk_buf_free(&body);
	tk_buf_free(&resp);
	return rc;
}

typedef int (*page_fn)(const char *p, size_t len, struct tk_admins *ad, char **next, struct tk_err *err);

static int get_paged(struct tk_azure_account *a, const char *token, const char *first_url, page_fn fn,
		     const char *what, int64_t deadline, bool (*cancelled)(void *), void *arg, struct tk_admins *out,
		     struct tk_err *err)
{
	char *url = strdup(first_url), *next = NULL;
	struct tk_buf resp;
	int pages = 0, rc = TK_OK;
	tk_buf_init(&resp, AZ_MAX_BODY);
	while (url) {
		struct tk_http_req r;
		const char *secrets[2] = {a->secret, NULL};
		long st = 0;
		int left = (int)(deadline - tk_now_ms());
		memset(&r, 0, sizeof(r));
		r.method = "GET";
		r.accept = "application/json";
		r.url = url;
		r.bearer = token;
		r.secrets = secrets;
		r.ca_file = a->ca_file;
		r.proxy = a->proxy;
		r.timeout_ms = left < a->timeout_ms ? left : a->timeout_ms;
		r.max_retries = 4;
		r.cancelled = cancelled;
		r.cancel_arg = arg;
		if (left <= 0) {
			rc = tk_seterr(err, TK_ERR_TIMEOUT, "Graph %s: deadline reached after %d pages", what, pages);
			break;
		}
		if ((rc = tk_http_call(&r, &st, &resp, err))) {
			tk_err_prefix(err, "Graph %s", what);
			break;
		}
		if (st != 200) {
			char m[600];
			graph_error(st, &resp, m, sizeof(m));
			rc = tk_seterr(err,
				       st == 401 || st == 403 ? TK_ERR_AUTH
				       : st == 404            ? TK_ERR_NOTFOUND
							      : TK_ERR_PROTOCOL,
				       "Graph %s: %s", what, m);
			break;
		}
		if ((rc = fn(resp.data ? resp.data : "", resp.len, out, &next, err))) {
			tk_err_prefix(err, "Graph %s page %d", what, pages + 1);
			break;
		}
		pages++;
		free(url);
		url = next;
		next = NULL;
		if (url && !tk_url_same_origin(url, a->graph)) {
			rc = tk_seterr(err, TK_ERR_PROTOCOL,
				       "Graph %s: @odata.nextLink leaves the Graph endpoint %s: not followed", what, a->graph);
			break;
		}
		if (url && pages >= AZ_MAX_PAGES) {
			rc = tk_seterr(err, TK_ERR_LIMIT, "Graph %s: more than %d pages", what, AZ_MAX_PAGES);
			break;
		}
	}
	free(url);
	free(next);
	tk_buf_free(&resp);
	return rc;
}

static int members_page(const char *p, size_t len, struct tk_admins *ad, char **next, struct tk_err *err)
{
	return tk_graph_members_parse(p, len, ad, next, err);
}

static int details_page(const char *p, size_t len, struct tk_admins *ad, char **next, struct tk_err *err)
{
	return tk_graph_regdetails_parse(p, len, ad, next, err);
}

int tk_azure_global_admins(struct tk_azure_account *a, int timeout_ms, bool (*cancelled)(void *), void *arg,
			   struct tk_admins *out, struct tk_err *err)
{
	int64_t deadline = tk_now_ms() + timeout_ms;
	char *token = NULL, url[2048];
	int rc;
	if ((rc = get_token(a, timeout_ms, cancelled, arg, &token, err)))
		return rc;
	snprintf(url, sizeof(url), "%s/v1.0/directoryRoles(roleTemplateId='%s')/members", a->graph,
		 TK_AZURE_GLOBAL_ADMIN_TEMPLATE);
	rc = get_paged(a, token, url, members_page, "Global Administrator members", deadline, cancelled, arg, out, err);
	if (!rc && out->n > 0) {
		snprintf(url, sizeof(url), "%s/v1.0/reports/authenticationMethods/userRegistrationDetails", a->graph);
		rc = get_paged(a, token, url, details_page, "userRegistrationDetails", deadline, cancelled, arg, out,
			       err);
	}
	OPENSSL_cleanse(token, strlen(token));
	free(token);
	return rc;
}
