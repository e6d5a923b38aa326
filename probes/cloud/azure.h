/*
 * azure.h - Microsoft Graph: Global Administrator members and their MFA
 * registration. OAuth2 client-credentials token from
 * LOGIN/TENANT/oauth2/v2.0/token (scope GRAPH/.default).
 * Account keys: tenant, client_id, secret_env (name of the environment
 * variable holding the client secret), graph_endpoint (default
 * https://graph.microsoft.com), login_endpoint (default
 * https://login.microsoftonline.com), ca_file, request_timeout_s.
 */
#ifndef TK_AZURE_H
#define TK_AZURE_H

#include <cjson/cJSON.h>

#include "cloudjson.h"
#include "probe.h"

#define TK_AZURE_GLOBAL_ADMIN_TEMPLATE "62e90394-69f5-4237-9190-012177145e10"

struct tk_azure_account;
extern const char *const tk_azure_account_keys[];

int tk_azure_account_parse(const cJSON *acct, const struct tk_cfgctx *cc, const char *path,
			   struct tk_azure_account **out, struct tk_err *err);
void tk_azure_account_free(struct tk_azure_account *a);
const char *tk_azure_account_tenant(const struct tk_azure_account *a);
/* Token, then members (paged), then registration details (paged), joined into out. */
int tk_azure_global_admins(struct tk_azure_account *a, int timeout_ms, bool (*cancelled)(void *), void *arg,
			   struct tk_admins *out, struct tk_err *err);

#endif
