/*
 * azure.h - Microsoft Graph: Global Administrator members and their MFA
 * registration. OAuth2 client-credentials token from
 * LOGIN/TENANT/oauth2/v2.0/token (scope GRAPH/.default).
 * Account keys: tenant, client_id, secret_env (name of the environment
 * variable holding the client secret), graph_endpoint (default
 * https://graph.microsoft.com), login_endpoint (default
 * https://login.microsoftonline.com), ca_file, request_timeout_s.
 *
 * Posture (issue 17), when "subscriptions" lists subscription ids: a token for
 * ARM_ENDPOINT/.default (arm_endpoint, default https://management.azure.com)
 * by the same client credentials, then for each subscription
 *   GET /subscriptions/ID/providers/Microsoft.Insights/diagnosticSettings?api-version=2021-05-01-preview
 *   GET /subscriptions/ID/providers/Microsoft.Security/pricings?api-version=2024-01-01
 * Least privilege: Reader (or Security Reader + Monitoring Reader) on each subscription.
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

/* True when the account lists subscriptions (a posture observation is due). */
bool tk_azure_has_posture(const struct tk_azure_account *a);
/*
 * Fill observation o (kind cloud_posture_azure): subscriptions,
 * activity_log_exported (every subscription has a diagnostic setting with a
 * destination and Administrative + Security enabled), activity_log_settings,
 * subscriptions_without_activity_log_export, defender_plans ([{subscription,
 * plan, tier, sub_plan}]), defender_free_plans. What could not be read is
 * marked with cloud_unobs() (a subscription known not to export still fails).
 */
void tk_azure_posture(struct tk_azure_account *a, int timeout_ms, bool (*cancelled)(void *), void *arg, cJSON *o);

#endif
