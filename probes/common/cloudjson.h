/*
 * cloudjson.h - administrator lists from Microsoft Graph and the Google
 * Admin SDK Directory API (live pages or a partner's JSON export), and a
 * small bounded HTTPS helper for the bearer-token APIs.
 *
 * Graph:  GET /v1.0/directoryRoles(roleTemplateId='62e90394-...')/members
 *         {"value": [{"@odata.type": "#microsoft.graph.user", "id", "userPrincipalName"}, ...],
 *          "@odata.nextLink": URL}
 *         GET /v1.0/reports/authenticationMethods/userRegistrationDetails
 *         {"value": [{"id", "isMfaRegistered", "isMfaCapable", "methodsRegistered": [...]}], ...}
 * Directory: GET /admin/directory/v1/users?customer=my_customer&query=isAdmin=true
 *         {"users": [{"primaryEmail", "isAdmin", "isEnrolledIn2Sv", "isEnforcedIn2Sv"}], "nextPageToken"}
 */
#ifndef TK_CLOUDJSON_H
#define TK_CLOUDJSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "httpreq.h"
#include "tk.h"

#define TK_ADMINS_MAX 100000

struct tk_admin {
	char *id;          /* Graph object id / Google id */
	char *name;        /* userPrincipalName / primaryEmail (escaped, bounded) */
	int mfa;           /* 1 registered/enrolled, 0 not, -1 unknown */
	int enforced;      /* Google isEnforcedIn2Sv: 1, 0; -1 unknown or not applicable */
	int capable;       /* Graph isMfaCapable: 1, 0, -1 */
	char *methods;     /* Graph methodsRegistered joined by ',' (may be NULL) */
};

struct tk_admins {
	struct tk_admin *v;
	size_t n, cap;
	size_t non_users;  /* role members that are not users (service principals, groups) */
};

void tk_admins_clear(struct tk_admins *a);

/* One page of directoryRoles/.../members: users appended; *next_link malloc'd or NULL. */
int tk_graph_members_parse(const char *p, size_t len, struct tk_admins *out, char **next_link,
			   struct tk_err *err);
/* One page of userRegistrationDetails: fills mfa/capable/methods of admins already listed. */
int tk_graph_regdetails_parse(const char *p, size_t len, struct tk_admins *admins, char **next_link,
			      struct tk_err *err);
/*
 * A partner's Graph export: {"members": PAGE-or-ARRAY, "userRegistrationDetails": PAGE-or-ARRAY}
 * (a PAGE is a Graph response object with "value").
 */
int tk_graph_export_parse(const char *p, size_t len, struct tk_admins *out, struct tk_err *err);
/* One Directory users page: super admins (isAdmin true) appended; *next_token malloc'd or NULL. */
int tk_directory_users_parse(const char *p, size_t len, struct tk_admins *out, char **next_token,
			     struct tk_err *err);
/* A partner's Directory export: one users page, an array of pages, or an array of users. */
int tk_directory_export_parse(const char *p, size_t len, struct tk_admins *out, struct tk_err *err);

/* HTTP for the bearer-token APIs: httpreq.h (the one request helper). */

/*
 * The access_token of an OAuth 2.0 token response body (RFC 6749 5.1) into
 * *token (malloc'd; the caller wipes and frees it). The parsed copy is wiped.
 * `who` names the endpoint in errors; the token never appears in them.
 */
int tk_oauth_access_token(const struct tk_buf *resp, const char *who, char **token, struct tk_err *err);
/* True when url has the same scheme, host and port as base (paging links must not leave the API). */
bool tk_url_same_origin(const char *url, const char *base);

#endif
