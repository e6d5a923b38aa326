/* azure.c - Microsoft Graph: Global Administrators and MFA registration (see azure.h). */
#include "azure.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloudaws.h" /* cloud_unobs */
#include "tk.h"       /* tk_uri_encode */

#define AZ_MAX_BODY (16u << 20)
#define AZ_MAX_PAGES 2000
#define AZ_MAX_SUBSCRIPTIONS 100
#define AZ_MAX_ITEMS 10000
#define AZ_MAX_NAMES 100
#define AZ_DIAG_API "2021-05-01-preview"
#define AZ_PRICING_API "2024-01-01"

const char *const tk_azure_account_keys[] = {"tenant", "client_id", "secret_env", "graph_endpoint",
					     "login_endpoint", "ca_file", "proxy", "request_timeout_s",
					     "subscriptions", "arm_endpoint", NULL};

struct tk_azure_account {
	char *tenant, *client_id, *secret_env, *secret;
	char *graph, *login, *ca_file;
	char *proxy;
	char *arm;            /* Azure Resource Manager endpoint (no trailing slash) */
	char **subs;          /* subscription ids (posture), NULL-terminated or NULL */
	size_t nsubs;
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
	free(a->arm);
	tk_strv_free(a->subs);
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

/* 8-4-4-4-12 hexadecimal digits */
static bool is_guid(const char *s)
{
	static const int groups[] = {8, 4, 4, 4, 12};
	for (size_t g = 0; g < 5; g++) {
		for (int i = 0; i < groups[g]; i++, s++)
			if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') || (*s >= 'A' && *s <= 'F')))
				return false;
		if (*s != (g == 4 ? '\0' : '-'))
			return false;
		if (g < 4)
			s++;
	}
	return true;
}

int tk_azure_account_parse(const cJSON *acct, const struct tk_cfgctx *cc, const char *path,
			   struct tk_azure_account **out, struct tk_err *err)
{
	struct tk_azure_account *a = calloc(1, sizeof(*a));
	const char *tenant = NULL, *cid = NULL, *senv = NULL, *graph = "https://graph.microsoft.com",
		   *login = "https://login.microsoftonline.com", *ca = NULL, *sv, *proxy = "",
		   *arm = "https://management.azure.com";
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
	    (rc = tk_cfg_int(acct, "request_timeout_s", false, 1, 600, &tmo, cc, path, err)) ||
	    (rc = tk_cfg_string(acct, "arm_endpoint", false, &arm, cc, path, err)) ||
	    (rc = tk_cfg_id_list(acct, "subscriptions", AZ_MAX_SUBSCRIPTIONS, is_guid, true,
				 "a subscription id (a GUID such as 00000000-0000-0000-0000-000000000000)", &a->subs,
				 &a->nsubs, cc, path, err)))
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
	if (strncmp(arm, "http://", 7) && strncmp(arm, "https://", 8)) {
		tk_path_key(p, sizeof(p), path, "arm_endpoint");
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
	    !(a->proxy = strdup(proxy)) || !(a->arm = no_slash(arm))) {
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
	tk_api_init(api, name, origin, token, a->ca_file, a->proxy, a->timeout_ms, deadline, cancelled, arg);
	api->secrets = secrets;
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

/* ---- posture (ARM): Activity Log export and Defender for Cloud plans ---- */

bool tk_azure_has_posture(const struct tk_azure_account *a)
{
	return a->nsubs > 0;
}

/* An ARM list page {"value": [...], "nextLink"}: each element appended (duplicated) to the array arg. */
static int arm_list_page(const char *p, size_t len, void *arg, char **next, struct tk_err *err)
{
	cJSON *all = arg, *j = cJSON_ParseWithLength(p, len);
	const cJSON *v = j ? cJSON_GetObjectItemCaseSensitive(j, "value") : NULL, *e, *nl;
	int rc = TK_OK;
	*next = NULL;
	if (!cJSON_IsObject(j) || !cJSON_IsArray(v)) {
		rc = tk_seterr(err, TK_ERR_PARSE, "expected a JSON object with a \"value\" array");
		goto out;
	}
	cJSON_ArrayForEach(e, v)
	{
		if (!cJSON_IsObject(e)) {
			rc = tk_seterr(err, TK_ERR_PARSE, "\"value\" holds something that is not an object");
			goto out;
		}
		if (cJSON_GetArraySize(all) >= AZ_MAX_ITEMS) {
			rc = tk_seterr(err, TK_ERR_LIMIT, "more than %d items", AZ_MAX_ITEMS);
			goto out;
		}
		cJSON_AddItemToArray(all, cJSON_Duplicate(e, true));
	}
	nl = cJSON_GetObjectItemCaseSensitive(j, "nextLink");
	if (cJSON_IsString(nl) && *nl->valuestring && !(*next = strdup(nl->valuestring)))
		rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
out:
	cJSON_Delete(j);
	return rc;
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) && *v->valuestring ? v->valuestring : NULL;
}

/* o.key = v, escaped and bounded (names from the partner's answer). */
static void add_escaped(cJSON *o, const char *key, const char *v)
{
	char *e = tk_escape_bytes(v, strlen(v), 200);
	cJSON_AddStringToObject(o, key, e ? e : "");
	free(e);
}

/* "a: b" (or "a" when b is NULL), escaped, appended to arr while it is short. */
static void add_name(cJSON *arr, const char *a, const char *b)
{
	char line[700];
	char *ea = tk_escape_bytes(a, strlen(a), 200), *eb = b ? tk_escape_bytes(b, strlen(b), 400) : NULL;
	snprintf(line, sizeof(line), "%s%s%s", ea ? ea : "", eb ? ": " : "", eb ? eb : "");
	if (cJSON_GetArraySize(arr) < AZ_MAX_NAMES)
		cJSON_AddItemToArray(arr, cJSON_CreateString(line));
	free(ea);
	free(eb);
}

/*
 * A subscription diagnostic setting exports the Activity Log when it has a
 * destination (storage account, Log Analytics workspace, event hub, partner)
 * and the Administrative and Security categories are enabled (or the
 * "allLogs" category group). *desc gets "name -> destinations; categories".
 */
static bool diag_exports(const cJSON *ds, char *desc, size_t size)
{
	const cJSON *pr = cJSON_GetObjectItemCaseSensitive(ds, "properties"), *l;
	bool adm = false, sec = false, dest;
	char cats[200] = "";
	size_t cl = 0;
	const char *st = jstr(pr, "storageAccountId"), *ws = jstr(pr, "workspaceId"),
		   *eh = jstr(pr, "eventHubAuthorizationRuleId"), *mp = jstr(pr, "marketplacePartnerId");
	dest = st || ws || eh || mp;
	cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(pr, "logs"))
	{
		const char *c = jstr(l, "category"), *g = jstr(l, "categoryGroup");
		if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(l, "enabled")) || (!c && !g))
			continue;
		if (g && strcmp(g, "allLogs") == 0)
			adm = sec = true;
		if (c && strcmp(c, "Administrative") == 0)
			adm = true;
		if (c && strcmp(c, "Security") == 0)
			sec = true;
		if (cl < sizeof(cats) - 1)
			cl += (size_t)snprintf(cats + cl, sizeof(cats) - cl, "%s%s", cl ? "," : "", c ? c : g);
	}
	snprintf(desc, size, "%s%s%s%s%s; %s", jstr(ds, "name") ? jstr(ds, "name") : "(unnamed)",
		 st ? " -> storage" : "", ws ? " -> workspace" : "", eh ? " -> event hub" : "", mp ? " -> partner" : "",
		 cl ? cats : "no category enabled");
	return dest && adm && sec;
}

/* What the calls of one posture check could not read: the first reason, and all of them (bounded). */
struct az_errs {
	char first[sizeof(((struct tk_err *)0)->msg)];
	cJSON *all;
};

static void errs_add(struct az_errs *e, const char *msg)
{
	if (!*e->first)
		snprintf(e->first, sizeof(e->first), "%s", msg);
	if (cJSON_GetArraySize(e->all) < AZ_MAX_NAMES)
		cJSON_AddItemToArray(e->all, cJSON_CreateString(msg));
}

/* Every element of GET ARM/subscriptions/SUB/providers/PROVIDER?api-version=VERSION (all pages), or NULL
 * with the reason in e. */
static cJSON *arm_list(struct tk_api *api, const struct tk_azure_account *a, const char *sub, const char *provider,
		       const char *version, const char *label, struct az_errs *e)
{
	struct tk_err err = {0};
	char url[2600], what[200];
	cJSON *all = cJSON_CreateArray();
	snprintf(url, sizeof(url), "%s/subscriptions/%s/providers/%s?api-version=%s", a->arm, sub, provider, version);
	snprintf(what, sizeof(what), "%s of subscription %s", label, sub);
	if (!all ||
	    tk_api_pages(api, what, "GET", url, NULL, TK_NEXT_LINK, 50, AZ_MAX_BODY, arm_list_page, all, &err)) {
		errs_add(e, all ? err.msg : "out of memory");
		cJSON_Delete(all);
		return NULL;
	}
	return all;
}

static void az_activity_log(struct tk_api *api, const struct tk_azure_account *a, cJSON *o)
{
	cJSON *settings = cJSON_CreateArray(), *missing = cJSON_CreateArray();
	struct az_errs e = {.first = "", .all = cJSON_CreateArray()};
	size_t bad = 0, unknown = 0;
	for (size_t i = 0; i < a->nsubs; i++) {
		cJSON *all = arm_list(api, a, a->subs[i], "Microsoft.Insights/diagnosticSettings", AZ_DIAG_API,
				      "diagnosticSettings", &e);
		const cJSON *ds;
		bool ok = false;
		if (!all) {
			unknown++;
			continue;
		}
		cJSON_ArrayForEach(ds, all)
		{
			char desc[500];
			bool ex = diag_exports(ds, desc, sizeof(desc));
			ok |= ex;
			add_name(settings, a->subs[i], desc);
		}
		if (!ok) {
			bad++;
			add_name(missing, a->subs[i], NULL);
		}
		cJSON_Delete(all);
	}
	cJSON_AddItemToObject(o, "activity_log_settings", settings);
	cJSON_AddItemToObject(o, "subscriptions_without_activity_log_export", missing);
	if (cJSON_GetArraySize(e.all))
		cJSON_AddItemToObject(o, "activity_log_errors", e.all);
	else
		cJSON_Delete(e.all);
	if (bad) /* a subscription known not to export fails whatever the others say */
		cJSON_AddBoolToObject(o, "activity_log_exported", false);
	else if (unknown)
		cloud_unobs(o, "activity_log_exported", e.first);
	else
		cJSON_AddBoolToObject(o, "activity_log_exported", true);
}

static void az_defender(struct tk_api *api, const struct tk_azure_account *a, cJSON *o)
{
	cJSON *plans = cJSON_CreateArray(), *free_names = cJSON_CreateArray();
	struct az_errs e = {.first = "", .all = cJSON_CreateArray()};
	for (size_t i = 0; i < a->nsubs; i++) {
		cJSON *all = arm_list(api, a, a->subs[i], "Microsoft.Security/pricings", AZ_PRICING_API,
				      "Defender pricings", &e);
		const cJSON *pr;
		if (!all)
			continue;
		cJSON_ArrayForEach(pr, all)
		{
			const cJSON *props = cJSON_GetObjectItemCaseSensitive(pr, "properties");
			const char *name = jstr(pr, "name"), *tier = jstr(props, "pricingTier"),
				   *sp = jstr(props, "subPlan");
			cJSON *p;
			if (!name || !tier) {
				char m[300];
				snprintf(m, sizeof(m), "ARM Defender pricings of subscription %s: a pricing without name "
						       "or properties.pricingTier", a->subs[i]);
				errs_add(&e, m);
				break;
			}
			if (cJSON_GetArraySize(plans) >= AZ_MAX_ITEMS)
				break;
			p = cJSON_CreateObject();
			cJSON_AddStringToObject(p, "subscription", a->subs[i]);
			add_escaped(p, "plan", name);
			add_escaped(p, "tier", tier);
			if (sp)
				add_escaped(p, "sub_plan", sp);
			if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(props, "deprecated")))
				cJSON_AddBoolToObject(p, "deprecated", true);
			cJSON_AddItemToArray(plans, p);
			if (strcmp(tier, "Standard") != 0)
				add_name(free_names, a->subs[i], name);
		}
		cJSON_Delete(all);
	}
	cJSON_AddItemToObject(o, "defender_free_plans", free_names);
	if (*e.first) {
		cJSON_AddItemToObject(o, "defender_errors", e.all);
		cloud_unobs(o, "defender_plans", e.first);
		cJSON_Delete(plans);
	} else {
		cJSON_Delete(e.all);
		cJSON_AddItemToObject(o, "defender_plans", plans);
	}
}

void tk_azure_posture(struct tk_azure_account *a, int timeout_ms, bool (*cancelled)(void *), void *arg, cJSON *o)
{
	int64_t deadline = tk_now_ms() + timeout_ms;
	const char *secrets[2] = {a->secret, NULL};
	char *token = NULL, scope[1100];
	struct tk_err err = {0};
	struct tk_api api;
	cJSON *subs = cJSON_AddArrayToObject(o, "subscriptions");
	for (size_t i = 0; i < a->nsubs; i++)
		cJSON_AddItemToArray(subs, cJSON_CreateString(a->subs[i]));
	snprintf(scope, sizeof(scope), "%s/.default", a->arm);
	if (get_token(a, scope, deadline, cancelled, arg, &token, &err)) {
		cJSON_AddStringToObject(o, "posture_error", err.msg);
		cloud_unobs(o, "activity_log_exported", err.msg);
		cloud_unobs(o, "defender_plans", err.msg);
		return;
	}
	az_api(a, "ARM", a->arm, token, secrets, deadline, cancelled, arg, &api);
	az_activity_log(&api, a, o);
	az_defender(&api, a, o);
	OPENSSL_cleanse(token, strlen(token));
	free(token);
}
