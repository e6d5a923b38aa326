/*
 * google.h - Google Workspace / Cloud Identity super administrators and
 * 2-Step Verification, through the Admin SDK Directory API with a service
 * account's JWT bearer token (RS256, OpenSSL) and domain-wide delegation.
 * Account keys: service_account_file (the JSON key; refused if group/world
 * readable), subject (the admin the service account acts as),
 * customer (default my_customer), directory_endpoint (default
 * https://admin.googleapis.com), token_endpoint (default: the key file's
 * token_uri, else https://oauth2.googleapis.com/token), ca_file,
 * request_timeout_s.
 *
 * Posture (issue 17), when "projects" lists project ids: a token for
 * cloud-platform.read-only as the service account itself (no subject), then
 * for each project POST RESOURCE_MANAGER/v1/projects/ID:getIamPolicy
 * (resource_manager_endpoint, default https://cloudresourcemanager.googleapis.com).
 * Least privilege: roles/iam.securityReviewer, or a custom role with
 * resourcemanager.projects.getIamPolicy, on each project.
 */
#ifndef TK_GOOGLE_H
#define TK_GOOGLE_H

#include <cjson/cJSON.h>
#include <time.h>

#include "cloudjson.h"
#include "probe.h"

#define TK_GOOGLE_SCOPE "https://www.googleapis.com/auth/admin.directory.user.readonly"
#define TK_GOOGLE_POSTURE_SCOPE "https://www.googleapis.com/auth/cloud-platform.read-only"

struct tk_google_account;
extern const char *const tk_google_account_keys[];

int tk_google_account_parse(const cJSON *acct, const struct tk_cfgctx *cc, const char *path,
			    struct tk_google_account **out, struct tk_err *err);
void tk_google_account_free(struct tk_google_account *a);
/* The domain of the subject (the part after '@'): names the target. */
const char *tk_google_account_domain(const struct tk_google_account *a);
/* Build the signed JWT assertion for `scope`, acting as `subject` (NULL: none), at time `now` (malloc'd into *jwt). */
int tk_google_jwt(const struct tk_google_account *a, const char *scope, const char *subject, time_t now, char **jwt,
		  struct tk_err *err);
int tk_google_super_admins(struct tk_google_account *a, int timeout_ms, bool (*cancelled)(void *), void *arg,
			   struct tk_admins *out, struct tk_err *err);

/* True when the account lists projects (a posture observation is due). */
bool tk_google_has_posture(const struct tk_google_account *a);
/*
 * Fill observation o (kind cloud_posture_google): projects,
 * data_access_audit_logs (every project's own policy enables ADMIN_READ,
 * DATA_READ and DATA_WRITE for allServices), projects_without_data_access_audit_logs,
 * audit_exempted_members (+ _names), security_command_center (not read).
 * What could not be read is marked with cloud_unobs() (a project known not to
 * log still fails).
 */
void tk_google_posture(struct tk_google_account *a, int timeout_ms, bool (*cancelled)(void *), void *arg, cJSON *o);

#endif
