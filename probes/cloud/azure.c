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

/* The API as the pager calls it, for `origin` with `token`. */
static void az_api(const struct tk_azure_account *a, const char *name, const char *origin, const char *token,
		   const char *const *secrets, int64_t deadline, bool (*cancelled)(void *), void *arg,
		   struct tk_api *api)
{
	memset(api, 0, sizeof(*api));
	api->name = name;
	api->origin = origin;
	api->bearer = token;
	api->secrets = secrets;
	api->ca_file = a->ca_file;
	api->proxy = a->proxy;
	api->call_timeout_ms = a->timeout_ms;
	api->deadline = deadline;
	api->cancelled = cancelled;
	api->cancel_arg = arg;
}

/* One client-credentials token for `scopestr` (Graph or ARM "/.default"): the one token request of Azure. */
static int get_token(struct tk_azure_account *a, const char *scopestr, int64_t deadline, bool (*cancelled)(void *),
		     void *arg, char **token, struct tk_err *err)
{
	struct tk_buf body;
	char url[2048], who[1400], *cid = NULL, *sec = NULL, *scope = NULL;
	const char *secrets[3] = {a->secret, NULL, NULL};
	struct tk_api api;
	int rc;
	*token = NULL;
	tk_buf_init(&body, 16384);
	snprintf(url, sizeof(url), "%s/%s/oauth2/v2.0/token", a->login, a->tenant);
	snprintf(who, sizeof(who), "Azure token for client %s in tenant %s (scope %s)", a->client_id, a->tenant,
		 scopestr);
	cid = tk_uri_encode(a->client_id, false);
	sec = tk_uri_encode(a->secret, false);
	scope = tk_uri_encode(scopestr, false);
	if (!cid || !sec || !scope ||
	    tk_buf_printf(&body, "client_id=%s&client_secret=%s&scope=%s&grant_type=client_credentials", cid, sec,
			  scope)) {
		rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		goto out;
	}
	secrets[1] = sec;
	az_api(a, "Azure token", url, NULL, secrets, deadline, cancelled, arg, &api);
	rc = tk_oauth_token_post(&api, url, body.data, body.len, who, token, err);
out:
	if (body.data)
		OPENSSL_cleanse(body.data, body.len);
	if (sec) {
		OPENSSL_cleanse(sec, strlen(sec));
		free(sec);
	}
	free(cid);
	free(scope);
	tk_buf_free(&body);
	return rc;
}

static int members_page(const char *p, size_t len, void *arg, char **next, struct tk_err *err)
{
	return tk_graph_members_parse(p, len, arg, next, err);
}

static int details_page(const char *p, size_t len, void *arg, char **next, struct tk_err *err)
{
	return tk_graph_regdetails_parse(p, len, arg, next, err);
}

int tk_azure_global_admins(struct tk_azure_account *a, int timeout_ms, bool (*cancelled)(void *), void *arg,
			   struct tk_admins *out, struct tk_err *err)
{
	int64_t deadline = tk_now_ms() + timeout_ms;
	const char *secrets[2] = {a->secret, NULL};
	char *token = NULL, url[2048], scope[1100];
	struct tk_api api;
	int rc;
	snprintf(scope, sizeof(scope), "%s/.default", a->graph);
	if ((rc = get_token(a, scope, deadline, cancelled, arg, &token, err)))
		return rc;
	snprintf(url, sizeof(url), "%s/v1.0/directoryRoles(roleTemplateId='%s')/members", a->graph,
		 TK_AZURE_GLOBAL_ADMIN_TEMPLATE);
	az_api(a, "Graph", a->graph, token, secrets, deadline, cancelled, arg, &api);
	rc = tk_api_pages(&api, "Global Administrator members", "GET", url, NULL, TK_NEXT_LINK, AZ_MAX_PAGES,
			  AZ_MAX_BODY, members_page, out, err);
	if (!rc && out->n > 0) {
		snprintf(url, sizeof(url), "%s/v1.0/reports/authenticationMethods/userRegistrationDetails", a->graph);
		rc = tk_api_pages(&api, "userRegistrationDetails", "GET", url, NULL, TK_NEXT_LINK, AZ_MAX_PAGES,
				  AZ_MAX_BODY, details_page, out, err);
	}
	OPENSSL_cleanse(token, strlen(token));
	free(token);
	return rc;
}
