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
#include "probe.h" /* tk_cfgctx */
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

/*
 * The optional list of ids at acct.key (Azure "subscriptions", Google
 * "projects"): at most max, each accepted by valid() (else the error names
 * the element's path and says `expected`), none twice (compared ignoring
 * case when fold). *out NULL-terminated (tk_strv_free), *n its length;
 * absent: *out NULL, *n 0.
 */
int tk_cfg_id_list(const cJSON *acct, const char *key, size_t max, bool (*valid)(const char *), bool fold,
		   const char *expected, char ***out, size_t *n, const struct tk_cfgctx *cc, const char *path,
		   struct tk_err *err);

/* HTTP for the bearer-token APIs: httpreq.h (the one request helper). */

/*
 * A bearer-token JSON API as tk_api_pages() calls it (Graph, Azure Resource
 * Manager, the Admin SDK Directory, Cloud Resource Manager). All borrowed.
 */
struct tk_api {
	const char *name;            /* "Graph", "ARM", "Directory", ...: names the API in errors */
	const char *origin;          /* a next link must stay on this origin (scheme, host, port) */
	const char *bearer;          /* the access token (scrubbed from errors) */
	const char *const *secrets;  /* more credentials to scrub (NULL-terminated) or NULL */
	const char *ca_file, *proxy;
	int call_timeout_ms;         /* one call, its retries included, at most */
	int64_t deadline;            /* tk_now_ms() clock: no call starts after it */
	bool (*cancelled)(void *);
	void *cancel_arg;
};

/* Fill *api (every field; secrets NULL: set it after when the calls carry more credentials). */
void tk_api_init(struct tk_api *api, const char *name, const char *origin, const char *bearer, const char *ca_file,
		 const char *proxy, int call_timeout_ms, int64_t deadline, bool (*cancelled)(void *), void *cancel_arg);

/* How a page names the next one: a full URL (Graph/ARM "@odata.nextLink", "nextLink") or a token
 * (Google "nextPageToken", sent back as &pageToken=). */
enum tk_page_next { TK_NEXT_LINK, TK_NEXT_TOKEN };

/* One page's body: consume it; *next = the next link or token (malloc'd) or NULL at the end. */
typedef int (*tk_page_fn)(const char *p, size_t len, void *arg, char **next, struct tk_err *err);

/*
 * `method` url (with `body` as application/json when not NULL), then each next
 * page, at most max_pages, bodies at most max_body bytes. Errors name the API,
 * `what` and the page: TK_ERR_AUTH (401/403), TK_ERR_NOTFOUND (404), TK_ERR_NET
 * (429/5xx after the retries, transport), TK_ERR_TIMEOUT (deadline),
 * TK_ERR_LIMIT (more pages), TK_ERR_PROTOCOL (other status; a next link that
 * leaves api->origin is not followed), or what fn returned.
 */
int tk_api_pages(const struct tk_api *api, const char *what, const char *method, const char *url, const char *body,
		 enum tk_page_next style, int max_pages, size_t max_body, tk_page_fn fn, void *arg, struct tk_err *err);

/*
 * POST an OAuth 2.0 token request (application/x-www-form-urlencoded `form`)
 * to url with api's TLS, proxy, time and cancellation settings (api->secrets:
 * what the form carries, scrubbed from errors); *token = the access_token
 * (malloc'd; the caller wipes and frees it). `who` names the request in
 * errors: TK_ERR_AUTH (400/401/403), TK_ERR_NET (429/5xx, transport),
 * TK_ERR_TIMEOUT, TK_ERR_PROTOCOL. The one token POST of Azure and Google.
 */
int tk_oauth_token_post(const struct tk_api *api, const char *url, const char *form, size_t form_len, const char *who,
			char **token, struct tk_err *err);

/*
 * One line for an error answer: "HTTP 403 CODE: message" from {"error": {"status"
 * or "code", "message"}} (Graph, ARM, Google) or {"error", "error_description"}
 * (OAuth), escaped and bounded; else "HTTP 403 with a body that is not an error".
 */
void tk_api_error_describe(long status, const struct tk_buf *b, char *out, size_t size);

/*
 * The access_token of an OAuth 2.0 token response body (RFC 6749 5.1) into
 * *token (malloc'd; the caller wipes and frees it). The parsed copy is wiped.
 * `who` names the endpoint in errors; the token never appears in them.
 */
int tk_oauth_access_token(const struct tk_buf *resp, const char *who, char **token, struct tk_err *err);
/* True when url has the same scheme, host and port as base (paging links must not leave the API). */
bool tk_url_same_origin(const char *url, const char *base);

#endif
