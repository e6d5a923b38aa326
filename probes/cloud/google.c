/* google.c - Admin SDK Directory super admins and 2SV, service-account JWT (see google.h). */
#include "google.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cloudaws.h" /* cloud_unobs */
#include "tk.h"       /* tk_uri_encode */

#define GG_MAX_KEYFILE (64 * 1024)
#define GG_MAX_BODY (16u << 20)
#define GG_MAX_PAGES 2000
#define GG_MAX_PROJECTS 100
#define GG_MAX_NAMES 100

const char *const tk_google_account_keys[] = {"service_account_file", "subject", "customer", "directory_endpoint",
					      "token_endpoint", "ca_file", "proxy", "request_timeout_s",
					      "projects", "resource_manager_endpoint", NULL};

struct tk_google_account {
	char *client_email, *subject, *customer;
	EVP_PKEY *key;
	char *directory, *token_uri, *ca_file;
	char *proxy;
	char *crm;            /* Cloud Resource Manager endpoint (no trailing slash) */
	char **projects;      /* project ids (posture), NULL-terminated or NULL */
	size_t nprojects;
	int timeout_ms;
};

void tk_google_account_free(struct tk_google_account *a)
{
	if (!a)
		return;
	free(a->client_email);
	free(a->subject);
	free(a->customer);
	EVP_PKEY_free(a->key);
	free(a->directory);
	free(a->token_uri);
	free(a->ca_file);
	free(a->proxy);
	free(a->crm);
	tk_strv_free(a->projects);
	free(a);
}

const char *tk_google_account_domain(const struct tk_google_account *a)
{
	const char *at = strchr(a->subject, '@');
	return at ? at + 1 : a->subject; /* the domain names the target */
}

static char *no_slash(const char *u)
{
	char *s = strdup(u);
	size_t l = s ? strlen(s) : 0;
	while (l > 0 && s[l - 1] == '/')
		s[--l] = '\0';
	return s;
}

static bool is_url(const char *u)
{
	return strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0;
}

static int load_key_file(struct tk_google_account *a, const char *file, const char *shown, const char **token_uri_out,
			 cJSON **doc_out, struct tk_err *err)
{
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	cJSON *j = NULL;
	const cJSON *em, *pk, *tu, *ty;
	BIO *b = NULL;
	int rc;
	*doc_out = NULL;
	if (stat(file, &st) != 0)
		return tk_seterr(err, TK_ERR_IO, "%s: cannot read the service account key file", shown);
	if (st.st_mode & 077)
		return tk_seterr(err, TK_ERR_CONFIG,
				 "%s: refusing a service account key file that group or others may access (mode %04o); "
				 "run chmod 600 on it",
				 shown, (unsigned)(st.st_mode & 07777));
	if ((rc = tk_read_file(file, GG_MAX_KEYFILE, &text, &len, err)))
		return rc;
	j = cJSON_ParseWithLength(text, len);
	OPENSSL_cleanse(text, len);
	free(text);
	if (!j) {
		return tk_seterr(err, TK_ERR_PARSE, "%s: not JSON (expected a service account key file)", shown);
	}
	ty = cJSON_GetObjectItemCaseSensitive(j, "type");
	em = cJSON_GetObjectItemCaseSensitive(j, "client_email");
	pk = cJSON_GetObjectItemCaseSensitive(j, "private_key");
	tu = cJSON_GetObjectItemCaseSensitive(j, "token_uri");
	if ((ty && (!cJSON_IsString(ty) || strcmp(ty->valuestring, "service_account") != 0)) || !cJSON_IsString(em) ||
	    !cJSON_IsString(pk)) {
		rc = tk_seterr(err, TK_ERR_CONFIG, "%s: expected a service_account key with client_email and private_key",
			       shown);
		goto out;
	}
	if (!(b = BIO_new_mem_buf(pk->valuestring, -1)) ||
	    !(a->key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL)) || EVP_PKEY_get_base_id(a->key) != EVP_PKEY_RSA) {
		rc = tk_seterr(err, TK_ERR_CONFIG, "%s: private_key is not an RSA private key in PEM", shown);
		goto out;
	}
	if (!(a->client_email = strdup(em->valuestring))) {
		rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		goto out;
	}
	*token_uri_out = cJSON_IsString(tu) ? tu->valuestring : NULL;
	rc = TK_OK;
out:
	BIO_free(b);
	if (cJSON_IsString(pk))
		OPENSSL_cleanse(pk->valuestring, strlen(pk->valuestring));
	if (rc) {
		cJSON_Delete(j);
		return rc;
	}
	*doc_out = j;
	return TK_OK;
}

/* A project id: 6 to 30 of [a-z0-9-], a letter first, no hyphen last (domain-scoped "example.com:id" too). */
static bool is_project_id(const char *s)
{
	const char *colon = strrchr(s, ':'), *id = colon ? colon + 1 : s;
	size_t n = strlen(id);
	if (colon && (colon == s || strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-.") != (size_t)(colon - s)))
		return false;
	return n >= 6 && n <= 30 && id[0] >= 'a' && id[0] <= 'z' && id[n - 1] != '-' &&
	       strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

int tk_google_account_parse(const cJSON *acct, const struct tk_cfgctx *cc, const char *path,
			    struct tk_google_account **out, struct tk_err *err)
{
	struct tk_google_account *a = calloc(1, sizeof(*a));
	const char *file = NULL, *subject = NULL, *customer = "my_customer", *dir = "https://admin.googleapis.com",
		   *tok = NULL, *ca = NULL, *file_tok = NULL, *proxy = "",
		   *crm = "https://cloudresourcemanager.googleapis.com";
	long long tmo = 30;
	cJSON *doc = NULL;
	char p[700], *full = NULL;
	int rc;
	*out = NULL;
	if (!a)
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	if ((rc = tk_cfg_string(acct, "service_account_file", true, &file, cc, path, err)) ||
	    (rc = tk_cfg_string(acct, "subject", true, &subject, cc, path, err)) ||
	    (rc = tk_cfg_string(acct, "customer", false, &customer, cc, path, err)) ||
	    (rc = tk_cfg_string(acct, "directory_endpoint", false, &dir, cc, path, err)) ||
	    (rc = tk_cfg_string(acct, "token_endpoint", false, &tok, cc, path, err)) ||
	    (rc = tk_cfg_string(acct, "ca_file", false, &ca, cc, path, err)) ||
	    (rc = tk_cfg_string(acct, "proxy", false, &proxy, cc, path, err)) ||
	    (rc = tk_cfg_int(acct, "request_timeout_s", false, 1, 600, &tmo, cc, path, err)) ||
	    (rc = tk_cfg_string(acct, "resource_manager_endpoint", false, &crm, cc, path, err)) ||
	    (rc = tk_cfg_id_list(acct, "projects", GG_MAX_PROJECTS, is_project_id, false,
				 "a project id (6 to 30 lowercase letters, digits and hyphens, starting with a letter)",
				 &a->projects, &a->nprojects, cc, path, err)))
		goto fail;
	if (!is_url(crm)) {
		tk_path_key(p, sizeof(p), path, "resource_manager_endpoint");
		rc = tk_cfg_err(err, cc, p, "expected an http:// or https:// URL");
		goto fail;
	}
	tk_path_key(p, sizeof(p), path, "subject");
	if (!strchr(subject, '@')) {
		rc = tk_cfg_err(err, cc, p, "expected the e-mail address of an administrator");
		goto fail;
	}
	if (!is_url(dir) || (tok && !is_url(tok))) {
		tk_path_key(p, sizeof(p), path, is_url(dir) ? "token_endpoint" : "directory_endpoint");
		rc = tk_cfg_err(err, cc, p, "expected an http:// or https:// URL");
		goto fail;
	}
	tk_path_key(p, sizeof(p), path, "service_account_file");
	if (!(full = tk_cfg_resolve(cc, file))) {
		rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		goto fail;
	}
	if ((rc = load_key_file(a, full, file, &file_tok, &doc, err))) {
		tk_err_prefix(err, "%s: %s", cc->file, p);
		err->rc = rc = TK_ERR_CONFIG;
		goto fail;
	}
	if (!tok)
		tok = file_tok && is_url(file_tok) ? file_tok : "https://oauth2.googleapis.com/token";
	a->timeout_ms = (int)tmo * 1000;
	if (!(a->subject = strdup(subject)) || !(a->customer = tk_uri_encode(customer, false)) ||
	    !(a->directory = no_slash(dir)) || !(a->token_uri = strdup(tok)) ||
	    (ca && !(a->ca_file = tk_cfg_resolve(cc, ca))) ||
	    !(a->proxy = strdup(proxy)) || !(a->crm = no_slash(crm))) {
		rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		goto fail;
	}
	cJSON_Delete(doc);
	free(full);
	*out = a;
	return TK_OK;
fail:
	cJSON_Delete(doc);
	free(full);
	tk_google_account_free(a);
	return rc;
}

static char *b64url(const unsigned char *p, size_t n)
{
	return tk_b64_encode(p, n, TK_B64_URL);
}

int tk_google_jwt(const struct tk_google_account *a, const char *scope, const char *subject, time_t now, char **jwt,
		  struct tk_err *err)
{
	static const char header[] = "{\"alg\":\"RS256\",\"typ\":\"JWT\"}";
	cJSON *claims = cJSON_CreateObject();
	char *cj = NULL, *h64 = NULL, *c64 = NULL, *s64 = NULL;
	unsigned char *sig = NULL;
	size_t siglen = 0;
	struct tk_buf si;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int rc = TK_OK;
	*jwt = NULL;
	tk_buf_init(&si, 64 * 1024);
	if (!claims || !md) {
		rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		goto out;
	}
	cJSON_AddStringToObject(claims, "iss", a->client_email);
	cJSON_AddStringToObject(claims, "scope", scope);
	cJSON_AddStringToObject(claims, "aud", a->token_uri);
	cJSON_AddNumberToObject(claims, "iat", (double)now);
	cJSON_AddNumberToObject(claims, "exp", (double)(now + 3600));
	if (subject)
		cJSON_AddStringToObject(claims, "sub", subject);
	if (!(cj = cJSON_PrintUnformatted(claims)) ||
	    !(h64 = b64url((const unsigned char *)header, sizeof(header) - 1)) ||
	    !(c64 = b64url((const unsigned char *)cj, strlen(cj))) || tk_buf_printf(&si, "%s.%s", h64, c64)) {
		rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, a->key) != 1 ||
	    EVP_DigestSign(md, NULL, &siglen, (const unsigned char *)si.data, si.len) != 1 ||
	    !(sig = malloc(siglen)) ||
	    EVP_DigestSign(md, sig, &siglen, (const unsigned char *)si.data, si.len) != 1 ||
	    !(s64 = b64url(sig, siglen)) || tk_buf_printf(&si, ".%s", s64)) {
		rc = tk_seterr(err, TK_ERR_VERIFY, "cannot sign the service account JWT");
		goto out;
	}
	*jwt = tk_buf_steal(&si);
out:
	cJSON_Delete(claims);
	EVP_MD_CTX_free(md);
	free(cj);
	free(h64);
	free(c64);
	free(s64);
	free(sig);
	tk_buf_free(&si);
	return rc;
}

/* The API as the pager calls it, with `token`. */
static void gg_api(const struct tk_google_account *a, const char *name, const char *origin, const char *token,
		   int64_t deadline, bool (*cancelled)(void *), void *arg, struct tk_api *api)
{
	tk_api_init(api, name, origin, token, a->ca_file, a->proxy, a->timeout_ms, deadline, cancelled, arg);
}

/*
 * A token for `scope` through the JWT bearer grant, acting as `subject`
 * (domain-wide delegation: the Directory) or as the service account itself
 * (subject NULL: Cloud Resource Manager). The one token request of Google.
 */
static int get_token(struct tk_google_account *a, const char *scope, const char *subject, int64_t deadline,
		     bool (*cancelled)(void *), void *arg, char **token, struct tk_err *err)
{
	struct tk_buf body;
	struct tk_api api;
	char *jwt = NULL, *seg[2] = {NULL, NULL}, who[1200];
	const char *secrets[5] = {NULL};
	int rc;
	*token = NULL;
	tk_buf_init(&body, 64 * 1024);
	snprintf(who, sizeof(who), "Google token for %s%s%s", a->client_email, subject ? " acting as " : "",
		 subject ? subject : "");
	if ((rc = tk_google_jwt(a, scope, subject, time(NULL), &jwt, err)))
		goto out;
	if (tk_buf_printf(&body, "grant_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Agrant-type%%3Ajwt-bearer&assertion=%s",
			  jwt)) {
		rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		goto out;
	}
	{
		/* the signed assertion, and each of its three parts (an echo may cut it) */
		const char *dot1 = strchr(jwt, '.'), *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
		if (dot1 && dot2) {
			seg[0] = strndup(jwt, (size_t)(dot1 - jwt));
			seg[1] = strndup(dot1 + 1, (size_t)(dot2 - dot1 - 1));
		}
		secrets[0] = jwt;
		secrets[1] = dot2 ? dot2 + 1 : "";
		secrets[2] = seg[1] ? seg[1] : "";
		secrets[3] = seg[0] ? seg[0] : "";
		secrets[4] = NULL;
	}
	gg_api(a, "Google token", a->token_uri, NULL, deadline, cancelled, arg, &api);
	api.secrets = secrets;
	rc = tk_oauth_token_post(&api, a->token_uri, body.data, body.len, who, token, err);
out:
	if (body.data)
		OPENSSL_cleanse(body.data, body.len);
	free(seg[0]);
	free(seg[1]);
	if (jwt) {
		OPENSSL_cleanse(jwt, strlen(jwt)); /* the assertion buys a token for an hour */
		free(jwt);
	}
	tk_buf_free(&body);
	return rc;
}

static int users_page(const char *p, size_t len, void *arg, char **next, struct tk_err *err)
{
	return tk_directory_users_parse(p, len, arg, next, err);
}

int tk_google_super_admins(struct tk_google_account *a, int timeout_ms, bool (*cancelled)(void *), void *arg,
			   struct tk_admins *out, struct tk_err *err)
{
	int64_t deadline = tk_now_ms() + timeout_ms;
	char *token = NULL, url[2048];
	struct tk_api api;
	int rc;
	if ((rc = get_token(a, TK_GOOGLE_SCOPE, a->subject, deadline, cancelled, arg, &token, err)))
		return rc;
	snprintf(url, sizeof(url), "%s/admin/directory/v1/users?customer=%s&query=isAdmin%%3Dtrue&maxResults=500",
		 a->directory, a->customer);
	gg_api(a, "Directory", a->directory, token, deadline, cancelled, arg, &api);
	rc = tk_api_pages(&api, "users", "GET", url, NULL, TK_NEXT_TOKEN, GG_MAX_PAGES, GG_MAX_BODY, users_page, out,
			  err);
	OPENSSL_cleanse(token, strlen(token));
	free(token);
	return rc;
}

/* ---- posture (Cloud Resource Manager): Data Access audit logs ---- */

bool tk_google_has_posture(const struct tk_google_account *a)
{
	return a->nprojects > 0;
}

/* A getIamPolicy answer (a Policy object): kept in *arg. */
static int policy_page(const char *p, size_t len, void *arg, char **next, struct tk_err *err)
{
	cJSON **out = arg, *j = cJSON_ParseWithLength(p, len);
	const cJSON *ac = j ? cJSON_GetObjectItemCaseSensitive(j, "auditConfigs") : NULL;
	*next = NULL;
	if (!cJSON_IsObject(j) || (ac && !cJSON_IsArray(ac))) {
		cJSON_Delete(j);
		return tk_seterr(err, TK_ERR_PARSE, "expected a Policy object (auditConfigs an array)");
	}
	*out = j;
	return TK_OK;
}

static void add_line(cJSON *arr, const char *text)
{
	char *e = tk_escape_bytes(text, strlen(text), 500);
	if (e && cJSON_GetArraySize(arr) < GG_MAX_NAMES)
		cJSON_AddItemToArray(arr, cJSON_CreateString(e));
	free(e);
}

/*
 * The project's own auditConfigs: which of ADMIN_READ, DATA_READ, DATA_WRITE
 * the allServices entry enables (bit 1, 2, 4), and its exempted members.
 * Malformed entries: TK_ERR_PARSE.
 */
static int audit_types(const char *project, const cJSON *pol, unsigned *bits, cJSON *exempt, size_t *nexempt,
		       struct tk_err *err)
{
	static const char *const types[] = {"ADMIN_READ", "DATA_READ", "DATA_WRITE"};
	const cJSON *ac, *lc, *m;
	*bits = 0;
	cJSON_ArrayForEach(ac, cJSON_GetObjectItemCaseSensitive(pol, "auditConfigs"))
	{
		const cJSON *svc = cJSON_GetObjectItemCaseSensitive(ac, "service"),
			    *lcs = cJSON_GetObjectItemCaseSensitive(ac, "auditLogConfigs");
		if (!cJSON_IsString(svc) || (lcs && !cJSON_IsArray(lcs)))
			return tk_seterr(err, TK_ERR_PARSE, "auditConfigs: an entry without service or with "
							    "auditLogConfigs that is not an array");
		if (strcmp(svc->valuestring, "allServices") != 0)
			continue;
		cJSON_ArrayForEach(lc, lcs)
		{
			const cJSON *lt = cJSON_GetObjectItemCaseSensitive(lc, "logType");
			if (!cJSON_IsString(lt))
				return tk_seterr(err, TK_ERR_PARSE, "auditLogConfigs: an entry without logType");
			for (unsigned t = 0; t < 3; t++)
				if (strcmp(lt->valuestring, types[t]) == 0)
					*bits |= 1u << t;
			cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(lc, "exemptedMembers"))
			{
				char line[700];
				if (!cJSON_IsString(m))
					continue;
				(*nexempt)++;
				snprintf(line, sizeof(line), "%s %s: %.400s", project, lt->valuestring, m->valuestring);
				add_line(exempt, line);
			}
		}
	}
	return TK_OK;
}

void tk_google_posture(struct tk_google_account *a, int timeout_ms, bool (*cancelled)(void *), void *arg, cJSON *o)
{
	static const char *const types[] = {"ADMIN_READ", "DATA_READ", "DATA_WRITE"};
	int64_t deadline = tk_now_ms() + timeout_ms;
	char *token = NULL, first_err[sizeof(((struct tk_err *)0)->msg)] = "";
	struct tk_err err = {0};
	struct tk_api api;
	cJSON *projects = cJSON_AddArrayToObject(o, "projects");
	cJSON *missing = cJSON_CreateArray(), *exempt = cJSON_CreateArray(), *errors = cJSON_CreateArray();
	size_t bad = 0, unknown = 0, nexempt = 0;
	for (size_t i = 0; i < a->nprojects; i++)
		cJSON_AddItemToArray(projects, cJSON_CreateString(a->projects[i]));
	cJSON_AddStringToObject(o, "security_command_center",
				"not read: Security Command Center findings need organization-level access");
	if (get_token(a, TK_GOOGLE_POSTURE_SCOPE, NULL, deadline, cancelled, arg, &token, &err)) {
		cJSON_AddStringToObject(o, "posture_error", err.msg);
		cloud_unobs(o, "data_access_audit_logs", err.msg);
		cloud_unobs(o, "audit_exempted_members", err.msg);
		goto out;
	}
	gg_api(a, "Resource Manager", a->crm, token, deadline, cancelled, arg, &api);
	for (size_t i = 0; i < a->nprojects; i++) {
		char url[2600], what[200];
		cJSON *pol = NULL;
		unsigned bits = 0;
		snprintf(url, sizeof(url), "%s/v1/projects/%s:getIamPolicy", a->crm, a->projects[i]);
		snprintf(what, sizeof(what), "getIamPolicy of project %s", a->projects[i]);
		if (tk_api_pages(&api, what, "POST", url, "{\"options\":{\"requestedPolicyVersion\":3}}", TK_NEXT_LINK, 1,
				 GG_MAX_BODY, policy_page, &pol, &err) ||
		    audit_types(a->projects[i], pol, &bits, exempt, &nexempt, &err)) {
			if (pol)
				tk_err_prefix(&err, "Resource Manager %s", what);
			unknown++;
			if (!*first_err)
				snprintf(first_err, sizeof(first_err), "%s", err.msg);
			add_line(errors, err.msg);
			cJSON_Delete(pol);
			continue;
		}
		if (bits != 7) {
			char line[300];
			size_t l = (size_t)snprintf(line, sizeof(line), "%s: not enabled for allServices:",
						    a->projects[i]);
			for (unsigned t = 0; t < 3; t++)
				if (!(bits & (1u << t)) && l < sizeof(line))
					l += (size_t)snprintf(line + l, sizeof(line) - l, " %s", types[t]);
			bad++;
			add_line(missing, line);
		}
		cJSON_Delete(pol);
	}
	if (token) {
		OPENSSL_cleanse(token, strlen(token));
		free(token);
		token = NULL;
	}
	if (bad) /* a project known not to log fails whatever the others say */
		cJSON_AddBoolToObject(o, "data_access_audit_logs", false);
	else if (unknown)
		cloud_unobs(o, "data_access_audit_logs", first_err);
	else
		cJSON_AddBoolToObject(o, "data_access_audit_logs", true);
	if (unknown)
		cloud_unobs(o, "audit_exempted_members", first_err);
	else
		cJSON_AddNumberToObject(o, "audit_exempted_members", (double)nexempt);
out:
	cJSON_AddItemToObject(o, "projects_without_data_access_audit_logs", missing);
	cJSON_AddItemToObject(o, "audit_exempted_members_names", exempt);
	if (cJSON_GetArraySize(errors))
		cJSON_AddItemToObject(o, "audit_errors", errors);
	else
		cJSON_Delete(errors);
}
