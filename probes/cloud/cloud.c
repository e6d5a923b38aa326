/*
 * cloud.c - probe "cloud": MFA on cloud root and administrator accounts.
 *
 * Config: {"accounts": [
 *   {"provider": "aws", "name": "prod", "endpoint": ..., "region": ..., "credentials_file": ...,
 *    "profile": ..., "role_arn": ..., "external_id": ...},          (API, see aws.h)
 *   {"provider": "aws", "credential_report": "exports/credential-report.csv"},   (offline)
 *   {"provider": "azure", "tenant": ..., "client_id": ..., "secret_env": ...}    (see azure.h)
 *   {"provider": "azure", "graph_export": "exports/graph.json"},                 (offline)
 *   {"provider": "google", "service_account_file": ..., "subject": ...}          (see google.h)
 *   {"provider": "google", "directory_export": "exports/directory.json"}]}       (offline)
 *
 * Observations (one per account and kind; target "aws:NAME", "azure:TENANT", "google:NAME"):
 *   cloud_root   (AWS) root MFA on/off and hardware/virtual, root access keys, root last use
 *   cloud_users  (AWS) IAM users with a console password and no MFA
 *   cloud_admins (Azure Global Administrators, Google super administrators) without MFA / 2SV
 *   cloud_posture (AWS) CloudTrail, GuardDuty; cloud_posture_azure (Activity Log export, Defender
 *   plans: "subscriptions"), cloud_posture_google (Data Access audit logs: "projects")
 * Offline evidence carries "evidence_source": "partner_supplied" and the file's SHA-256.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aws.h"
#include "awsxml.h"
#include "azure.h"
#include "cloudjson.h"
#include "credreport.h"
#include "cloudaws.h"
#include "google.h"
#include "probe.h"

#define CLOUD_MAX_EXPORT (32u << 20)
#define CLOUD_MAX_NAMES 100

enum provider { P_AWS, P_AZURE, P_GOOGLE };

struct cloud_acct {
	enum provider provider;
	char *target;
	char *export_file;   /* offline evidence (resolved path) */
	char *export_shown;  /* as configured */
	char *alert_region;  /* AWS: where EventBridge rules for root sign-in are looked for */
	struct tk_aws_account *aws;
	struct tk_azure_account *az;
	struct tk_google_account *gg;
};

struct cloud_cfg {
	struct cloud_acct *a;
	size_t n;
};

static const char *provider_name(enum provider p)
{
	return p == P_AWS ? "aws" : p == P_AZURE ? "azure" : "google";
}

static void cloud_free(void *state)
{
	struct cloud_cfg *c = state;
	size_t i;
	if (!c)
		return;
	for (i = 0; i < c->n; i++) {
		free(c->a[i].target);
		free(c->a[i].export_file);
		free(c->a[i].export_shown);
		free(c->a[i].alert_region);
		tk_aws_account_free(c->a[i].aws);
		tk_azure_account_free(c->a[i].az);
		tk_google_account_free(c->a[i].gg);
	}
	free(c->a);
	free(c);
}

/* Merge key lists for the unknown-key check. */
static int check_keys2(const cJSON *obj, const char *const *common, const char *const *prov,
		       const struct tk_cfgctx *cc, const char *path, struct tk_err *err)
{
	const char *all[64];
	size_t n = 0, i;
	for (i = 0; common[i] && n < 63; i++)
		all[n++] = common[i];
	for (i = 0; prov[i] && n < 63; i++)
		all[n++] = prov[i];
	all[n] = NULL;
	return tk_cfg_check_keys(obj, all, cc, path, err);
}

/* Only name/provider/<export key> may accompany an offline export. */
static int offline_only(const cJSON *obj, const char *export_key, const struct tk_cfgctx *cc, const char *path,
			struct tk_err *err)
{
	const cJSON *e;
	cJSON_ArrayForEach(e, obj)
	{
		if (strcmp(e->string, "provider") && strcmp(e->string, "name") && strcmp(e->string, export_key)) {
			char p[700];
			tk_path_key(p, sizeof(p), path, e->string);
			return tk_cfg_err(err, cc, p,
					  "\"%s\" is offline evidence: API settings cannot be combined with it (use a "
					  "second account entry)",
					  export_key);
		}
	}
	return TK_OK;
}

static char *account_id_of_arn(const char *arn)
{
	/* arn:aws:iam::123456789012:role/NAME */
	const char *p = arn;
	int colons = 0;
	while (*p && colons < 4)
		if (*p++ == ':')
			colons++;
	if (colons == 4) {
		const char *e = strchr(p, ':');
		if (e && e > p)
			return strndup(p, (size_t)(e - p));
	}
	return NULL;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

static int cloud_configure(const cJSON *sec, const struct tk_cfgctx *cc, void **state, struct tk_err *err)
{
	static const char *const keys[] = {"accounts", NULL};
	static const char *const common[] = {"provider", "name", NULL};
	static const char *const common_aws[] = {"provider", "name", "alert_region", NULL};
	struct cloud_cfg *c = calloc(1, sizeof(*c));
	const cJSON *accts = NULL, *acct;
	char p[600], ap[600];
	size_t i = 0, j;
	int rc;
	*state = NULL;
	if (!c)
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	if ((rc = tk_cfg_check_keys(sec, keys, cc, cc->path, err)) ||
	    (rc = tk_cfg_array(sec, "accounts", true, &accts, cc, cc->path, err)))
		goto fail;
	tk_path_key(p, sizeof(p), cc->path, "accounts");
	if (!(c->a = calloc((size_t)cJSON_GetArraySize(accts) + 1, sizeof(*c->a)))) {
		rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		goto fail;
	}
	cJSON_ArrayForEach(acct, accts)
	{
		struct cloud_acct *a = &c->a[c->n];
		const char *prov = NULL, *name = NULL, *exp = NULL;
		const char *export_key;
		char tgt[600], *derived = NULL;
		tk_path_idx(ap, sizeof(ap), p, i++);
		if (!cJSON_IsObject(acct)) {
			rc = tk_cfg_err(err, cc, ap, "expected an object");
			goto fail;
		}
		c->n++;
		if ((rc = tk_cfg_string(acct, "provider", true, &prov, cc, ap, err)) ||
		    (rc = tk_cfg_string(acct, "name", false, &name, cc, ap, err)))
			goto fail;
		if (strcmp(prov, "aws") == 0) {
			a->provider = P_AWS;
			export_key = "credential_report";
			rc = cJSON_GetObjectItemCaseSensitive(acct, export_key)
				     ? offline_only(acct, export_key, cc, ap, err)
				     : check_keys2(acct, common_aws, tk_aws_account_keys, cc, ap, err);
		} else if (strcmp(prov, "azure") == 0) {
			a->provider = P_AZURE;
			export_key = "graph_export";
			rc = cJSON_GetObjectItemCaseSensitive(acct, export_key)
				     ? offline_only(acct, export_key, cc, ap, err)
				     : check_keys2(acct, common, tk_azure_account_keys, cc, ap, err);
		} else if (strcmp(prov, "google") == 0) {
			a->provider = P_GOOGLE;
			export_key = "directory_export";
			rc = cJSON_GetObjectItemCaseSensitive(acct, export_key)
				     ? offline_only(acct, export_key, cc, ap, err)
				     : check_keys2(acct, common, tk_google_account_keys, cc, ap, err);
		} else {
			char pp[700];
			tk_path_key(pp, sizeof(pp), ap, "provider");
			rc = tk_cfg_err(err, cc, pp, "\"%s\": expected \"aws\", \"azure\" or \"google\"", prov);
			goto fail;
		}
		if (rc)
			goto fail;
		if ((rc = tk_cfg_string(acct, export_key, false, &exp, cc, ap, err)))
			goto fail;
		if (exp) {
			if ((rc = tk_cfg_resolve_shown(cc, exp, &a->export_file, &a->export_shown, err)))
				goto fail;
			if (access(a->export_file, R_OK) != 0) {
				char pp[700];
				tk_path_key(pp, sizeof(pp), ap, export_key);
				rc = tk_cfg_err(err, cc, pp, "cannot read %s", exp);
				goto fail;
			}
		} else if (a->provider == P_AWS) {
			const cJSON *r = cJSON_GetObjectItemCaseSensitive(acct, "role_arn");
			const char *ar = "us-east-1";
			if ((rc = tk_aws_account_parse(acct, cc, ap, &a->aws, err)) ||
			    (rc = tk_cfg_string(acct, "alert_region", false, &ar, cc, ap, err)))
				goto fail;
			if (!*ar || strspn(ar, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(ar)) {
				char pp[700];
				tk_path_key(pp, sizeof(pp), ap, "alert_region");
				rc = tk_cfg_err(err, cc, pp, "\"%s\" is not an AWS region name", ar);
				goto fail;
			}
			if (!(a->alert_region = strdup(ar))) {
				rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
				goto fail;
			}
			if (cJSON_IsString(r))
				derived = account_id_of_arn(r->valuestring);
			if (!derived && cJSON_GetObjectItemCaseSensitive(acct, "credentials_file")) {
				const cJSON *pr = cJSON_GetObjectItemCaseSensitive(acct, "profile");
				derived = strdup(cJSON_IsString(pr) ? pr->valuestring : "default");
			} else if (!derived) {
				derived = strdup("env");
			}
		} else if (a->provider == P_AZURE) {
			if ((rc = tk_azure_account_parse(acct, cc, ap, &a->az, err)))
				goto fail;
			derived = strdup(tk_azure_account_tenant(a->az));
		} else {
			if ((rc = tk_google_account_parse(acct, cc, ap, &a->gg, err)))
				goto fail;
			derived = strdup(tk_google_account_domain(a->gg));
		}
		snprintf(tgt, sizeof(tgt), "%s:%s", provider_name(a->provider),
			 name ? name : exp ? base_name(exp) : derived ? derived : "account");
		free(derived);
		for (j = 0; j + 1 < c->n; j++) {
			if (strcmp(c->a[j].target, tgt) == 0) {
				size_t l = strlen(tgt);
				snprintf(tgt + l, sizeof(tgt) - l, "#%zu", i - 1);
				break;
			}
		}
		if (!(a->target = strdup(tgt))) {
			rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
			goto fail;
		}
	}
	*state = c;
	return TK_OK;
fail:
	cloud_free(c);
	return rc;
}

/* ---- helpers ---- */

static bool ctx_cancelled(void *arg)
{
	return tk_run_cancelled(arg);
}

static void emit_kind_error(struct tk_runctx *ctx, const char *target, const char *kind, int rc, const char *msg)
{
	cJSON *o = tk_obs_new(ctx, "error", target);
	cJSON_AddStringToObject(o, "error", tk_rc_name(rc));
	cJSON_AddStringToObject(o, "message", msg);
	cJSON_AddStringToObject(o, "for_kind", kind);
	tk_emit(ctx, o);
}

static void add_evidence_file(cJSON *o, const struct cloud_acct *a, const char *data, size_t len)
{
	unsigned char d[32];
	char hex[65];
	tk_sha256(data, len, d);
	tk_hex(d, 32, hex);
	cJSON_AddStringToObject(o, "evidence_source", "partner_supplied");
	cJSON_AddStringToObject(o, "evidence_file", a->export_shown);
	cJSON_AddStringToObject(o, "evidence_sha256", hex);
}

/*
 * Mark a field the probe tried and failed to observe (rules/evaluate.c: the
 * rules that read it become errors, their items incomplete, with this reason).
 * The first reason for a field wins.
 */
void cloud_unobs(cJSON *o, const char *field, const char *why)
{
	cJSON *u = cJSON_GetObjectItemCaseSensitive(o, "unobserved");
	if (!u)
		u = cJSON_AddObjectToObject(o, "unobserved");
	if (u && !cJSON_GetObjectItemCaseSensitive(u, field))
		cJSON_AddStringToObject(u, field, why && *why ? why : "not observed");
}

static void add_time(cJSON *o, const char *key, time_t t)
{
	char buf[32];
	tk_rfc3339(t, buf);
	cJSON_AddStringToObject(o, key, buf);
}

/* ---- AWS ---- */

struct aws_summary {
	int mfa_enabled;   /* -1 unknown */
	int keys_present;  /* -1 unknown */
};

/* Standard base64 as AWS sends it (line breaks and spaces tolerated) appended to out. */
static int base64_decode(const char *in, size_t len, struct tk_buf *out)
{
	struct tk_buf clean;
	unsigned char *bin = NULL;
	size_t i, n = 0;
	int rc = TK_ERR_PARSE;
	tk_buf_init(&clean, len + 1);
	for (i = 0; i < len; i++)
		if (in[i] != ' ' && in[i] != '\n' && in[i] != '\r' && in[i] != '\t' &&
		    tk_buf_append(&clean, in + i, 1)) {
			rc = TK_ERR_NOMEM;
			goto out;
		}
	if (!(bin = malloc(clean.len / 4 * 3 + 3))) {
		rc = TK_ERR_NOMEM;
		goto out;
	}
	if (tk_b64_decode(clean.data ? clean.data : "", clean.len, TK_B64_STD, bin, clean.len / 4 * 3 + 3, &n))
		rc = tk_buf_append(out, (const char *)bin, n) ? TK_ERR_NOMEM : TK_OK;
out:
	free(bin);
	tk_buf_free(&clean);
	return rc;
}

static int aws_summary(struct tk_aws_account *a, struct tk_runctx *ctx, struct aws_summary *s, struct tk_err *err)
{
	struct tk_xml_node *doc = NULL;
	const struct tk_xml_node *e;
	int rc;
	s->mfa_enabled = s->keys_present = -1;
	if ((rc = tk_aws_query(a, "iam", "2010-05-08", "GetAccountSummary", "", tk_run_remaining_ms(ctx, 60000), &doc,
			       err)))
		return rc;
	e = tk_xml_find(doc, "GetAccountSummaryResult/SummaryMap/entry");
	for (; e; e = tk_xml_next_same(e)) {
		const char *k = tk_xml_text(e, "key"), *v = tk_xml_text(e, "value");
		long long n;
		if (!k || !v || tk_parse_ll(v, 0, 1LL << 40, &n))
			continue;
		if (strcmp(k, "AccountMFAEnabled") == 0)
			s->mfa_enabled = n > 0;
		else if (strcmp(k, "AccountAccessKeysPresent") == 0)
			s->keys_present = n > 0;
	}
	tk_xml_free(doc);
	if (s->mfa_enabled < 0)
		return tk_seterr(err, TK_ERR_PROTOCOL, "iam GetAccountSummary: no AccountMFAEnabled in the SummaryMap");
	return TK_OK;
}

/* Generate (polling until COMPLETE), then get and decode the report. */
static int aws_credential_report(struct tk_aws_account *a, struct tk_runctx *ctx, struct tk_buf *csv,
				 char generated[64], struct tk_err *err)
{
	int delay = 200, rc;
	struct tk_xml_node *doc = NULL;
	const char *content, *fmt, *gt;
	for (;;) {
		const char *state;
		if ((rc = tk_aws_query(a, "iam", "2010-05-08", "GenerateCredentialReport", "",
				       tk_run_remaining_ms(ctx, 60000), &doc, err)))
			return rc;
		state = tk_xml_text(doc, "GenerateCredentialReportResult/State");
		if (!state) {
			tk_xml_free(doc);
			return tk_seterr(err, TK_ERR_PROTOCOL, "iam GenerateCredentialReport: no State in the response");
		}
		if (strcmp(state, "COMPLETE") == 0)
			break;
		if (strcmp(state, "STARTED") && strcmp(state, "INPROGRESS")) {
			char *s = tk_escape_bytes(state, strlen(state), 64);
			tk_seterr(err, TK_ERR_PROTOCOL, "iam GenerateCredentialReport: unexpected State %s", s ? s : "");
			free(s);
			tk_xml_free(doc);
			return TK_ERR_PROTOCOL;
		}
		tk_xml_free(doc);
		doc = NULL;
		if (tk_run_cancelled(ctx) || tk_run_remaining_ms(ctx, 0) < delay + 1000)
			return tk_seterr(err, TK_ERR_TIMEOUT, "iam GenerateCredentialReport: still %s at the deadline",
					 state);
		for (int slept = 0; slept < delay && !tk_run_cancelled(ctx); slept += 50)
			usleep(50 * 1000);
		delay = delay * 2 > 2000 ? 2000 : delay * 2;
	}
	tk_xml_free(doc);
	doc = NULL;
	if ((rc = tk_aws_query(a, "iam", "2010-05-08", "GetCredentialReport", "", tk_run_remaining_ms(ctx, 60000),
			       &doc, err)))
		return rc;
	content = tk_xml_text(doc, "GetCredentialReportResult/Content");
	fmt = tk_xml_text(doc, "GetCredentialReportResult/ReportFormat");
	gt = tk_xml_text(doc, "GetCredentialReportResult/GeneratedTime");
	snprintf(generated, 64, "%s", gt && strlen(gt) < 40 ? gt : "");
	if (!content)
		rc = tk_seterr(err, TK_ERR_PROTOCOL, "iam GetCredentialReport: no Content in the response");
	else if (fmt && strcmp(fmt, "text/csv") != 0)
		rc = tk_seterr(err, TK_ERR_PROTOCOL, "iam GetCredentialReport: ReportFormat is not text/csv");
	else if (base64_decode(content, strlen(content), csv))
		rc = tk_seterr(err, TK_ERR_PROTOCOL, "iam GetCredentialReport: Content is not base64");
	tk_xml_free(doc);
	return rc;
}

/* Does root have a virtual MFA device? 1 yes, 0 no; pages with Marker. */
static int aws_root_virtual(struct tk_aws_account *a, struct tk_runctx *ctx, int *is_virtual, int *pages,
			    struct tk_err *err)
{
	char *marker = NULL;
	int rc = TK_OK;
	*is_virtual = 0;
	*pages = 0;
	for (;;) {
		struct tk_xml_node *doc = NULL;
		const struct tk_xml_node *res, *m;
		const char *trunc, *mk;
		char params[2048];
		snprintf(params, sizeof(params), "&AssignmentStatus=Assigned&MaxItems=100%s%s", marker ? "&Marker=" : "",
			 marker ? marker : "");
		free(marker);
		marker = NULL;
		if ((rc = tk_aws_query(a, "iam", "2010-05-08", "ListVirtualMFADevices", params,
				       tk_run_remaining_ms(ctx, 60000), &doc, err)))
			break;
		(*pages)++;
		res = tk_xml_find(doc, "ListVirtualMFADevicesResult");
		for (m = tk_xml_find(res, "VirtualMFADevices/member"); m; m = tk_xml_next_same(m)) {
			const char *arn = tk_xml_text(m, "User/Arn"), *sn = tk_xml_text(m, "SerialNumber");
			size_t l;
			if (arn && (l = strlen(arn)) >= 5 && strcmp(arn + l - 5, ":root") == 0)
				*is_virtual = 1;
			if (sn && (l = strlen(sn)) >= 24 && strcmp(sn + l - 24, "/root-account-mfa-device") == 0)
				*is_virtual = 1;
		}
		trunc = tk_xml_text(res, "IsTruncated");
		mk = tk_xml_text(res, "Marker");
		if (trunc && strcmp(trunc, "true") == 0) {
			if (!mk || !*mk) {
				rc = tk_seterr(err, TK_ERR_PROTOCOL, "iam ListVirtualMFADevices: IsTruncated without a Marker");
			} else if (*pages >= 1000) {
				rc = tk_seterr(err, TK_ERR_LIMIT, "iam ListVirtualMFADevices: more than 1000 pages");
			} else if (!(marker = tk_uri_encode(mk, false))) {
				rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
			}
		}
		tk_xml_free(doc);
		if (rc || !marker)
			break;
	}
	free(marker);
	return rc;
}

/* Does an EventBridge pattern match activity by root (detail.userIdentity.type contains "Root")? */
static bool root_pattern(const char *pattern)
{
	cJSON *j = cJSON_Parse(pattern);
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "detail"), "userIdentity"), "type");
	const cJSON *e;
	bool hit = false;
	cJSON_ArrayForEach(e, t) if (cJSON_IsString(e) && strcmp(e->valuestring, "Root") == 0) hit = true;
	cJSON_Delete(j);
	return hit;
}

/*
 * Enabled EventBridge rules in a->alert_region whose pattern matches root
 * activity (the guideline: root logins notify management). Names into `names`.
 */
static int aws_root_alerts(struct cloud_acct *a, struct tk_runctx *ctx, cJSON *names, struct tk_err *err)
{
	struct tk_buf resp;
	char *next = NULL;
	int pages = 0, rc = TK_OK;
	tk_buf_init(&resp, 8u << 20);
	for (;;) {
		cJSON *req = cJSON_CreateObject(), *doc = NULL;
		const cJSON *r, *nt;
		char *body;
		long st = 0;
		cJSON_AddNumberToObject(req, "Limit", 100);
		if (next)
			cJSON_AddStringToObject(req, "NextToken", next);
		body = cJSON_PrintUnformatted(req);
		cJSON_Delete(req);
		free(next);
		next = NULL;
		if (!body) {
			rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
			break;
		}
		rc = tk_aws_request_in(a->aws, a->alert_region, "events", "POST", "/", "application/x-amz-json-1.1",
				       "AWSEvents.ListRules", body, strlen(body), tk_run_remaining_ms(ctx, 60000), &st,
				       &resp, err);
		free(body);
		if (rc) {
			tk_err_prefix(err, "events ListRules");
			break;
		}
		if (st != 200) {
			char msg[900], code[128];
			tk_aws_error_describe(st, resp.data ? resp.data : "", resp.len, msg, sizeof(msg), code,
					      sizeof(code));
			rc = tk_seterr(err, st == 400 || st == 403 ? TK_ERR_AUTH : TK_ERR_PROTOCOL,
				       "events ListRules (%s): %s", a->alert_region, msg);
			break;
		}
		if (!(doc = cJSON_ParseWithLength(resp.data ? resp.data : "", resp.len)) ||
		    !cJSON_IsArray(r = cJSON_GetObjectItemCaseSensitive(doc, "Rules"))) {
			cJSON_Delete(doc);
			rc = tk_seterr(err, TK_ERR_PROTOCOL, "events ListRules: the response has no Rules array");
			break;
		}
		{
			const cJSON *rule;
			cJSON_ArrayForEach(rule, r)
			{
				const cJSON *nm = cJSON_GetObjectItemCaseSensitive(rule, "Name"),
					    *stt = cJSON_GetObjectItemCaseSensitive(rule, "State"),
					    *pat = cJSON_GetObjectItemCaseSensitive(rule, "EventPattern");
				if (cJSON_IsString(nm) && cJSON_IsString(stt) &&
				    strcmp(stt->valuestring, "ENABLED") == 0 && cJSON_IsString(pat) &&
				    root_pattern(pat->valuestring) && cJSON_GetArraySize(names) < CLOUD_MAX_NAMES) {
					char *esc = tk_escape_bytes(nm->valuestring, strlen(nm->valuestring), 256);
					cJSON_AddItemToArray(names, cJSON_CreateString(esc ? esc : ""));
					free(esc);
				}
			}
		}
		nt = cJSON_GetObjectItemCaseSensitive(doc, "NextToken");
		if (cJSON_IsString(nt) && *nt->valuestring && strlen(nt->valuestring) < 4096)
			next = strdup(nt->valuestring);
		cJSON_Delete(doc);
		if (!next)
			break;
		if (++pages >= 100) {
			rc = tk_seterr(err, TK_ERR_LIMIT, "events ListRules: more than 100 pages");
			break;
		}
	}
	free(next);
	tk_buf_free(&resp);
	return rc;
}

/*
 * One JSON-protocol (target != NULL) or REST-JSON call; the answer parsed into
 * *out. Errors name the call, the HTTP status and the AWS error code.
 */
int cloud_aws_json(struct tk_aws_account *aws, struct tk_runctx *ctx, const char *region, const char *svc,
		   const char *method, const char *path, const char *target, const char *op, const char *body,
		   cJSON **out, struct tk_err *err)
{
	struct tk_buf resp;
	long st = 0;
	int rc;
	*out = NULL;
	tk_buf_init(&resp, 8u << 20);
	rc = tk_aws_request_in(aws, region, svc, method, path, target ? "application/x-amz-json-1.1" : NULL, target,
			       body, body ? strlen(body) : 0, tk_run_remaining_ms(ctx, 60000), &st, &resp, err);
	if (rc) {
		tk_err_prefix(err, "%s %s (%s)", svc, op, region);
	} else if (st != 200) {
		char msg[900], code[128];
		tk_aws_error_describe(st, resp.data ? resp.data : "", resp.len, msg, sizeof(msg), code, sizeof(code));
		rc = tk_seterr(err,
			       st == 429 || st >= 500 || strstr(code, "Throttl") ? TK_ERR_NET
			       : st == 400 || st == 401 || st == 403		   ? TK_ERR_AUTH
										   : TK_ERR_PROTOCOL,
			       "%s %s (%s): %s", svc, op, region, msg);
	} else if (!(*out = cJSON_ParseWithLength(resp.data ? resp.data : "", resp.len)) || !cJSON_IsObject(*out)) {
		cJSON_Delete(*out);
		*out = NULL;
		rc = tk_seterr(err, TK_ERR_PROTOCOL, "%s %s (%s): the answer is not a JSON object", svc, op, region);
	}
	tk_buf_free(&resp);
	return rc;
}

int cloud_next_page(const char *tok, size_t max_len, int pages, int max_pages, bool encode, const char *call,
		    char **out, struct tk_err *err)
{
	*out = NULL;
	if (!tok || !*tok)
		return TK_OK;
	if (strlen(tok) > max_len)
		return tk_seterr(err, TK_ERR_PROTOCOL, "%s: a next-page token longer than %zu bytes", call, max_len);
	if (pages >= max_pages)
		return tk_seterr(err, TK_ERR_LIMIT, "%s: more than %d pages", call, max_pages);
	if (!(*out = encode ? tk_uri_encode(tok, false) : strdup(tok)))
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	return TK_OK;
}

static bool jtrue(const cJSON *o, const char *k)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, k));
}

/*
 * Logging kept for investigation (FISC 23, 35): CloudTrail trails (shadow
 * trails of the organisation included); a multi-region trail that is logging
 * and reports no delivery error, and whether it validates its log files.
 */
static void aws_cloudtrail(struct cloud_acct *a, struct tk_runctx *ctx, const char *region, cJSON *o)
{
	struct tk_err err = {0};
	cJSON *doc = NULL, *names = cJSON_CreateArray();
	const cJSON *t;
	bool delivering = false, validated = false;
	int n = 0;
	if (cloud_aws_json(a->aws, ctx, region, "cloudtrail", "POST", "/",
		     "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.DescribeTrails", "DescribeTrails",
		     "{\"includeShadowTrails\": true}", &doc, &err)) {
		cJSON_AddStringToObject(o, "cloudtrail_error", err.msg);
		cloud_unobs(o, "multi_region_logging_trail", err.msg);
		cloud_unobs(o, "log_file_validation", err.msg);
		cJSON_Delete(names);
		return;
	}
	cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(doc, "trailList"))
	{
		const cJSON *nm = cJSON_GetObjectItemCaseSensitive(t, "TrailARN"),
			    *hr = cJSON_GetObjectItemCaseSensitive(t, "HomeRegion");
		char body[1200];
		cJSON *stt = NULL, *req;
		char *b;
		n++;
		if (!jtrue(t, "IsMultiRegionTrail") || !cJSON_IsString(nm))
			continue;
		req = cJSON_CreateObject();
		cJSON_AddStringToObject(req, "Name", nm->valuestring);
		b = cJSON_PrintUnformatted(req);
		cJSON_Delete(req);
		snprintf(body, sizeof(body), "%s", b ? b : "{}");
		free(b);
		if (cloud_aws_json(a->aws, ctx,
			     cJSON_IsString(hr) && strspn(hr->valuestring, "abcdefghijklmnopqrstuvwxyz0123456789-") ==
							   strlen(hr->valuestring) && *hr->valuestring
				     ? hr->valuestring
				     : region,
			     "cloudtrail", "POST", "/", "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.GetTrailStatus",
			     "GetTrailStatus", body, &stt, &err)) {
			cJSON_AddStringToObject(o, "cloudtrail_error", err.msg);
			cloud_unobs(o, "multi_region_logging_trail", err.msg);
			cloud_unobs(o, "log_file_validation", err.msg);
			break;
		}
		{
			const cJSON *de = cJSON_GetObjectItemCaseSensitive(stt, "LatestDeliveryError");
			bool delivers = jtrue(stt, "IsLogging") && !(cJSON_IsString(de) && *de->valuestring);
			char *esc = tk_escape_bytes(nm->valuestring, strlen(nm->valuestring), 300);
			char line[400];
			snprintf(line, sizeof(line), "%s (%s%s)", esc ? esc : "",
				 delivers ? "logging" : "not delivering",
				 jtrue(t, "LogFileValidationEnabled") ? ", log file validation" : "");
			free(esc);
			if (cJSON_GetArraySize(names) < CLOUD_MAX_NAMES)
				cJSON_AddItemToArray(names, cJSON_CreateString(line));
			if (delivers) {
				delivering = true;
				validated |= jtrue(t, "LogFileValidationEnabled");
			}
		}
		cJSON_Delete(stt);
	}
	cJSON_Delete(doc);
	cJSON_AddNumberToObject(o, "trails", n);
	cJSON_AddItemToObject(o, "multi_region_trails", names);
	cJSON_AddBoolToObject(o, "multi_region_logging_trail", delivering);
	if (delivering)
		cJSON_AddBoolToObject(o, "log_file_validation", validated);
}

/* Threat detection (FISC 20): an ENABLED GuardDuty detector in `region`. */
static void aws_guardduty(struct cloud_acct *a, struct tk_runctx *ctx, const char *region, cJSON *o)
{
	struct tk_err err = {0};
	cJSON *doc = NULL;
	const cJSON *id;
	bool enabled = false;
	cJSON_AddStringToObject(o, "guardduty_region", region);
	if (cloud_aws_json(a->aws, ctx, region, "guardduty", "GET", "/detector", NULL, "ListDetectors", NULL, &doc,
			   &err)) {
		cJSON_AddStringToObject(o, "guardduty_error", err.msg);
		cloud_unobs(o, "guardduty_enabled", err.msg);
		return;
	}
	cJSON_ArrayForEach(id, cJSON_GetObjectItemCaseSensitive(doc, "detectorIds"))
	{
		char path[300];
		cJSON *d = NULL;
		if (!cJSON_IsString(id) || strspn(id->valuestring, "abcdefghijklmnopqrstuvwxyz0123456789") !=
						       strlen(id->valuestring) || strlen(id->valuestring) > 200)
			continue;
		snprintf(path, sizeof(path), "/detector/%s", id->valuestring);
		if (cloud_aws_json(a->aws, ctx, region, "guardduty", "GET", path, NULL, "GetDetector", NULL, &d,
				   &err)) {
			cJSON_AddStringToObject(o, "guardduty_error", err.msg);
			cloud_unobs(o, "guardduty_enabled", err.msg);
			cJSON_Delete(doc);
			return;
		}
		{
			const cJSON *stv = cJSON_GetObjectItemCaseSensitive(d, "status");
			if (cJSON_IsString(stv) && strcmp(stv->valuestring, "ENABLED") == 0)
				enabled = true;
		}
		cJSON_Delete(d);
	}
	cJSON_AddNumberToObject(o, "guardduty_detectors",
				cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "detectorIds")));
	cJSON_AddBoolToObject(o, "guardduty_enabled", enabled);
	cJSON_Delete(doc);
}

static void aws_posture(struct cloud_acct *a, struct tk_runctx *ctx)
{
	cJSON *o = tk_obs_new(ctx, "cloud_posture", a->target);
	const char *region = tk_aws_account_region(a->aws);
	cJSON_AddStringToObject(o, "provider", "aws");
	cJSON_AddStringToObject(o, "evidence_source", "api");
	cJSON_AddStringToObject(o, "region", region);
	aws_cloudtrail(a, ctx, region, o);
	aws_guardduty(a, ctx, region, o);
	tk_emit(ctx, o);
	for (const cloud_aws_check_fn *f = cloud_aws_checks; *f && !tk_run_cancelled(ctx); f++)
		(*f)(a->aws, ctx, a->target, region);
}

static void tri_json(cJSON *o, const char *key, enum tk_cr_val v)
{
	cJSON_AddStringToObject(o, key, tk_cr_val_name(v));
}

struct aged {
	char *what;
	long days;
};

static int aged_cmp(const void *a, const void *b)
{
	const struct aged *x = a, *y = b;
	return x->days < y->days ? 1 : x->days > y->days ? -1 : 0;
}

/* The largest `days` into o[key_days] and the 20 largest "who: N days" into o[key_list]. */
static void aged_emit(cJSON *o, const char *key_days, const char *key_list, struct aged *v, size_t n)
{
	cJSON *arr = cJSON_CreateArray();
	size_t i;
	qsort(v, n, sizeof(*v), aged_cmp);
	cJSON_AddNumberToObject(o, key_days, n ? (double)v[0].days : 0);
	for (i = 0; i < n && i < 20; i++) {
		char line[600];
		snprintf(line, sizeof(line), "%s: %ld days", v[i].what ? v[i].what : "", v[i].days);
		cJSON_AddItemToArray(arr, cJSON_CreateString(line));
	}
	cJSON_AddItemToObject(o, key_list, arr);
	for (i = 0; i < n; i++)
		free(v[i].what);
}

static long days_since(time_t now, time_t t)
{
	return t >= now ? 0 : (long)((now - t) / 86400);
}

/*
 * Credential hygiene of IAM users from the report (CIS AWS 1.12 and 1.14):
 * console passwords and active access keys unused for long (never used: since
 * the password was set / the key created), and the age of active keys.
 */
static void aws_hygiene(const struct tk_credreport *r, cJSON *users)
{
	time_t now = time(NULL);
	size_t i, cap = r ? r->n * 2 + 1 : 1, npw = 0, nku = 0, nka = 0, unknown = 0;
	struct aged *pw = calloc(cap, sizeof(*pw)), *ku = calloc(cap, sizeof(*ku)), *ka = calloc(cap, sizeof(*ka));
	if (!pw || !ku || !ka) {
		free(pw);
		free(ku);
		free(ka);
		cloud_unobs(users, "longest_unused_console_password_days", "out of memory");
		return;
	}
	for (i = 0; r && i < r->n; i++) {
		const struct tk_cr_user *u = &r->users[i];
		if (u->is_root)
			continue;
		if (u->password_enabled == TK_CR_TRUE) {
			time_t last = u->password_last_used_t ? u->password_last_used_t
				      : u->password_changed_t ? u->password_changed_t
								 : u->created_t;
			if (!last) {
				unknown++;
			} else {
				pw[npw].what = strdup(u->user ? u->user : "");
				pw[npw++].days = days_since(now, last);
			}
		}
		for (int k = 1; k <= 2; k++) {
			enum tk_cr_val act = k == 1 ? u->key1_active : u->key2_active;
			time_t rot = k == 1 ? u->key1_rotated_t : u->key2_rotated_t;
			time_t used = k == 1 ? u->key1_last_used_t : u->key2_last_used_t;
			char who[600];
			if (act != TK_CR_TRUE)
				continue;
			if (!rot)
				rot = u->created_t;
			if (!rot) {
				unknown++;
				continue;
			}
			snprintf(who, sizeof(who), "%s key %d", u->user ? u->user : "", k);
			ka[nka].what = strdup(who);
			ka[nka++].days = days_since(now, rot);
			ku[nku].what = strdup(who);
			ku[nku++].days = days_since(now, used ? used : rot);
		}
	}
	aged_emit(users, "longest_unused_console_password_days", "unused_console_passwords", pw, npw);
	aged_emit(users, "longest_unused_active_access_key_days", "unused_active_access_keys", ku, nku);
	aged_emit(users, "oldest_active_access_key_days", "oldest_active_access_keys", ka, nka);
	if (unknown) {
		char why[200];
		snprintf(why, sizeof(why),
			 "%zu console password(s) or active access key(s) have no date in the credential report", unknown);
		cloud_unobs(users, "longest_unused_console_password_days", why);
		cloud_unobs(users, "longest_unused_active_access_key_days", why);
		cloud_unobs(users, "oldest_active_access_key_days", why);
	}
	free(pw);
	free(ku);
	free(ka);
}

/* Facts from the credential report (root row and users) into the two observations. */
static void aws_report_facts(const struct tk_credreport *r, cJSON *root, cJSON *users, const struct aws_summary *s)
{
	time_t now = time(NULL), last = 0;
	size_t i, nconsole = 0, nbad = 0, nusers = 0;
	cJSON *names = cJSON_CreateArray();
	if (r && r->root >= 0) {
		const struct tk_cr_user *u = &r->users[r->root];
		bool k1 = u->key1_active == TK_CR_TRUE, k2 = u->key2_active == TK_CR_TRUE;
		/* "no key" only when both cells say so; a missing column or junk is unknown */
		bool k1_no = u->key1_active == TK_CR_FALSE || u->key1_active == TK_CR_NA ||
			     u->key1_active == TK_CR_NOT_SUPPORTED;
		bool k2_no = u->key2_active == TK_CR_FALSE || u->key2_active == TK_CR_NA ||
			     u->key2_active == TK_CR_NOT_SUPPORTED;
		cJSON_AddBoolToObject(root, "root_in_credential_report", 1);
		tri_json(root, "root_report_mfa_active", u->mfa_active);
		tri_json(root, "root_password_enabled", u->password_enabled);
		tri_json(root, "root_access_key_1_active", u->key1_active);
		tri_json(root, "root_access_key_2_active", u->key2_active);
		if (k1 || k2 || (k1_no && k2_no))
			cJSON_AddBoolToObject(root, "root_access_keys_active", k1 || k2);
		if (u->password_last_used)
			cJSON_AddStringToObject(root, "root_password_last_used", u->password_last_used);
		if (u->key1_last_used)
			cJSON_AddStringToObject(root, "root_access_key_1_last_used", u->key1_last_used);
		if (u->key2_last_used)
			cJSON_AddStringToObject(root, "root_access_key_2_last_used", u->key2_last_used);
		last = u->password_last_used_t;
		if (u->key1_last_used_t > last)
			last = u->key1_last_used_t;
		if (u->key2_last_used_t > last)
			last = u->key2_last_used_t;
		if (last) {
			add_time(root, "root_last_used", last);
			cJSON_AddNumberToObject(root, "root_last_used_days",
						last > now ? 0 : (double)((now - last) / 86400));
		} else {
			cJSON_AddStringToObject(root, "root_last_used", "never (no date in the report)");
		}
		if (s->mfa_enabled < 0 && (u->mfa_active == TK_CR_TRUE || u->mfa_active == TK_CR_FALSE)) {
			cJSON_AddBoolToObject(root, "root_mfa_enabled", u->mfa_active == TK_CR_TRUE);
			cJSON_AddStringToObject(root, "root_mfa_source", "credential report");
		} else if (s->mfa_enabled < 0) {
			char why[200];
			snprintf(why, sizeof(why), "the credential report's <root_account> row has mfa_active \"%s\"",
				 tk_cr_val_name(u->mfa_active));
			cloud_unobs(root, "root_mfa_enabled", why);
		}
	} else if (r) {
		cJSON_AddBoolToObject(root, "root_in_credential_report", 0);
		cloud_unobs(root, "root_last_used_days", "the credential report has no <root_account> row");
		if (s->mfa_enabled < 0)
			cloud_unobs(root, "root_mfa_enabled", "the credential report has no <root_account> row");
	}
	if (!cJSON_GetObjectItemCaseSensitive(root, "root_access_keys_active") && s->keys_present >= 0)
		cJSON_AddBoolToObject(root, "root_access_keys_active", s->keys_present); /* present, activity unknown */
	else if (!cJSON_GetObjectItemCaseSensitive(root, "root_access_keys_active"))
		cloud_unobs(root, "root_access_keys_active",
		      "neither the credential report's <root_account> row nor GetAccountSummary says whether root has "
		      "active access keys");
	if (r && r->n > 0 && r->users[0].password_enabled == TK_CR_MISSING)
		cloud_unobs(users, "console_users_without_mfa",
		      "the credential report has no password_enabled column: console users cannot be told apart");
	for (i = 0; r && i < r->n; i++) {
		const struct tk_cr_user *u = &r->users[i];
		if (u->is_root)
			continue;
		nusers++;
		/* a password_enabled cell that is neither true nor false counts as a console user */
		if (u->password_enabled == TK_CR_FALSE || u->password_enabled == TK_CR_NA ||
		    u->password_enabled == TK_CR_NOT_SUPPORTED || u->password_enabled == TK_CR_MISSING)
			continue;
		nconsole++;
		if (u->mfa_active != TK_CR_TRUE) {
			nbad++;
			if (cJSON_GetArraySize(names) < CLOUD_MAX_NAMES)
				cJSON_AddItemToArray(names, cJSON_CreateString(u->user ? u->user : ""));
		}
	}
	cJSON_AddNumberToObject(users, "users", (double)nusers);
	cJSON_AddNumberToObject(users, "console_users", (double)nconsole);
	cJSON_AddNumberToObject(users, "console_users_without_mfa", (double)nbad);
	cJSON_AddItemToObject(users, "console_users_without_mfa_names", names);
	aws_hygiene(r, users);
}

/*
 * The account password policy (GetAccountPasswordPolicy) into users:
 * password_policy false when the account has none (NoSuchEntity), else its
 * minimum length and reuse prevention; a failed call leaves them unobserved.
 */
static void aws_password_policy(struct tk_aws_account *a, struct tk_runctx *ctx, cJSON *users)
{
	struct tk_xml_node *doc = NULL;
	struct tk_err err = {0};
	const char *v;
	long long n;
	int rc = tk_aws_query(a, "iam", "2010-05-08", "GetAccountPasswordPolicy", "", tk_run_remaining_ms(ctx, 60000),
			      &doc, &err);
	if (rc && (rc == TK_ERR_NOTFOUND || strstr(err.msg, "NoSuchEntity"))) {
		cJSON_AddBoolToObject(users, "password_policy", 0);
		return;
	}
	if (rc) {
		cJSON_AddStringToObject(users, "password_policy_error", err.msg);
		cloud_unobs(users, "password_policy", err.msg);
		return;
	}
	cJSON_AddBoolToObject(users, "password_policy", 1);
	v = tk_xml_text(doc, "GetAccountPasswordPolicyResult/PasswordPolicy/MinimumPasswordLength");
	if (v && tk_parse_ll(v, 0, 1000, &n) == TK_OK)
		cJSON_AddNumberToObject(users, "password_min_length", (double)n);
	else
		cloud_unobs(users, "password_min_length", "iam GetAccountPasswordPolicy: no MinimumPasswordLength");
	v = tk_xml_text(doc, "GetAccountPasswordPolicyResult/PasswordPolicy/PasswordReusePrevention");
	cJSON_AddNumberToObject(users, "password_reuse_prevention",
				v && tk_parse_ll(v, 0, 1000, &n) == TK_OK ? (double)n : 0); /* absent: no prevention */
	tk_xml_free(doc);
}

/*
 * The credential report's age (rule CLOUD-CREDENTIAL-REPORT-STALE judges it
 * against a tailorable maximum). `generated` is the report's GeneratedTime,
 * or NULL/"" with `why` saying why it is not known.
 */
static void add_report_age(cJSON *users, const char *generated, const char *why)
{
	time_t t = 0, now = time(NULL);
	if (generated && *generated && tk_parse_time(generated, &t) == TK_OK) {
		cJSON_AddStringToObject(users, "credential_report_generated", generated);
		cJSON_AddNumberToObject(users, "credential_report_age_hours",
					t >= now ? 0 : (double)((now - t) / 3600));
	} else if (generated && *generated) {
		char msg[200];
		char *e = tk_escape_bytes(generated, strlen(generated), 64);
		snprintf(msg, sizeof(msg), "the credential report's GeneratedTime \"%s\" is not a date", e ? e : "");
		free(e);
		cloud_unobs(users, "credential_report_age_hours", msg);
	} else {
		cloud_unobs(users, "credential_report_age_hours", why);
	}
}

static void aws_run_api(struct cloud_acct *a, struct tk_runctx *ctx)
{
	struct aws_summary s;
	struct tk_err err = {0}, rerr = {0}, verr = {0}, aerr = {0};
	cJSON *alert_names = NULL;
	int arc;
	struct tk_buf csv;
	struct tk_credreport *r = NULL;
	cJSON *root = NULL, *users = NULL;
	char generated[64] = "", fp[24];
	int is_virtual = 0, pages = 0, rc, rrc, vrc;

	tk_buf_init(&csv, CLOUD_MAX_EXPORT);
	tk_aws_account_set_cancel(a->aws, ctx_cancelled, ctx);
	if ((rc = aws_summary(a->aws, ctx, &s, &err))) {
		tk_emit_error(ctx, a->target, rc, "%s", err.msg);
		goto out;
	}
	rrc = aws_credential_report(a->aws, ctx, &csv, generated, &rerr);
	if (!rrc && (rrc = tk_credreport_parse(csv.data ? csv.data : "", csv.len, &r, &rerr)))
		tk_err_prefix(&rerr, "iam GetCredentialReport");
	vrc = s.mfa_enabled == 1 ? aws_root_virtual(a->aws, ctx, &is_virtual, &pages, &verr) : TK_OK;
	alert_names = cJSON_CreateArray();
	arc = aws_root_alerts(a, ctx, alert_names, &aerr);

	root = tk_obs_new(ctx, "cloud_root", a->target);
	users = tk_obs_new(ctx, "cloud_users", a->target);
	tk_aws_account_key_fingerprint(a->aws, fp);
	cJSON_AddStringToObject(root, "provider", "aws");
	cJSON_AddStringToObject(root, "evidence_source", "api");
	cJSON_AddStringToObject(root, "credentials", tk_aws_account_source(a->aws));
	cJSON_AddStringToObject(root, "access_key", fp);
	cJSON_AddBoolToObject(root, "root_mfa_enabled", s.mfa_enabled == 1);
	cJSON_AddStringToObject(root, "root_mfa_source", "GetAccountSummary");
	if (s.keys_present >= 0)
		cJSON_AddBoolToObject(root, "root_access_keys_present", s.keys_present == 1);
	if (s.mfa_enabled != 1) {
		cJSON_AddStringToObject(root, "root_mfa_type", "none");
	} else if (vrc) {
		cJSON_AddStringToObject(root, "root_mfa_type", "unknown");
		cloud_unobs(root, "root_mfa_type", verr.msg);
	} else
		cJSON_AddStringToObject(root, "root_mfa_type", is_virtual ? "virtual" : "hardware");
	if (vrc)
		cJSON_AddStringToObject(root, "mfa_devices_error", verr.msg);
	else if (pages)
		cJSON_AddNumberToObject(root, "virtual_mfa_pages", pages);
	cJSON_AddStringToObject(root, "root_login_alert_region", a->alert_region);
	if (arc) {
		cJSON_AddStringToObject(root, "root_login_alert_error", aerr.msg);
		cloud_unobs(root, "root_login_alert", aerr.msg);
	} else {
		cJSON_AddBoolToObject(root, "root_login_alert", cJSON_GetArraySize(alert_names) > 0);
		cJSON_AddItemToObject(root, "root_login_alert_rules", alert_names);
		alert_names = NULL;
	}
	if (generated[0])
		cJSON_AddStringToObject(root, "credential_report_generated", generated);
	if (rrc) {
		cJSON_AddStringToObject(root, "credential_report_error", rerr.msg);
		if (s.keys_present >= 0)
			cJSON_AddBoolToObject(root, "root_access_keys_active", s.keys_present == 1);
		else
			cloud_unobs(root, "root_access_keys_active", rerr.msg);
		cloud_unobs(root, "root_last_used_days", rerr.msg);
		emit_kind_error(ctx, a->target, "cloud_users", rrc, rerr.msg);
		cJSON_Delete(users);
		users = NULL;
	} else {
		cJSON_AddStringToObject(users, "provider", "aws");
		cJSON_AddStringToObject(users, "evidence_source", "api");
		aws_report_facts(r, root, users, &s);
		add_report_age(users, generated, "iam GetCredentialReport: the response has no GeneratedTime");
		aws_password_policy(a->aws, ctx, users);
	}
	tk_emit(ctx, root);
	root = NULL;
	if (users)
		tk_emit(ctx, users);
	users = NULL;
	aws_posture(a, ctx);
out:
	cJSON_Delete(alert_names);
	cJSON_Delete(root);
	cJSON_Delete(users);
	tk_credreport_free(r);
	tk_buf_free(&csv);
}

/*
 * An offline credential report: the decoded CSV, or the JSON the AWS CLI
 * prints for `aws iam get-credential-report` ({"Content": base64,
 * "ReportFormat": "text/csv", "GeneratedTime": ...}), which also says when the
 * report was generated. The CSV alone does not: its age is then unobserved.
 */
static int offline_report(const char *data, size_t len, struct tk_buf *csv, char generated[64], struct tk_err *err)
{
	size_t i = 0;
	cJSON *j;
	const cJSON *c, *g, *f;
	int rc = TK_OK;
	generated[0] = '\0';
	while (i < len && (data[i] == ' ' || data[i] == '\n' || data[i] == '\r' || data[i] == '\t'))
		i++;
	if (i >= len || data[i] != '{')
		return tk_buf_append(csv, data, len) ? tk_seterr(err, TK_ERR_LIMIT, "too large") : TK_OK;
	if (!(j = cJSON_ParseWithLength(data, len)))
		return tk_seterr(err, TK_ERR_PARSE, "malformed JSON (expected the output of aws iam get-credential-report)");
	c = cJSON_GetObjectItemCaseSensitive(j, "Content");
	g = cJSON_GetObjectItemCaseSensitive(j, "GeneratedTime");
	f = cJSON_GetObjectItemCaseSensitive(j, "ReportFormat");
	if (!cJSON_IsString(c))
		rc = tk_seterr(err, TK_ERR_PARSE, "no \"Content\" string (expected the output of aws iam get-credential-report)");
	else if (f && (!cJSON_IsString(f) || strcmp(f->valuestring, "text/csv") != 0))
		rc = tk_seterr(err, TK_ERR_PARSE, "ReportFormat is not text/csv");
	else if (base64_decode(c->valuestring, strlen(c->valuestring), csv))
		rc = tk_seterr(err, TK_ERR_PARSE, "Content is not base64");
	if (!rc && cJSON_IsString(g) && strlen(g->valuestring) < 40)
		snprintf(generated, 64, "%s", g->valuestring);
	cJSON_Delete(j);
	return rc;
}

static void aws_run_offline(struct cloud_acct *a, struct tk_runctx *ctx)
{
	struct tk_err err = {0};
	struct tk_credreport *r = NULL;
	struct aws_summary s = {-1, -1};
	struct tk_buf csv;
	char *data = NULL, generated[64] = "";
	size_t len = 0;
	cJSON *root, *users;
	int rc;
	tk_buf_init(&csv, CLOUD_MAX_EXPORT);
	if ((rc = tk_read_file(a->export_file, CLOUD_MAX_EXPORT, &data, &len, &err)) ||
	    (rc = offline_report(data, len, &csv, generated, &err)) ||
	    (rc = tk_credreport_parse(csv.data ? csv.data : "", csv.len, &r, &err))) {
		tk_emit_error(ctx, a->target, rc, "%s: %s", a->export_shown, err.msg);
		goto out;
	}
	root = tk_obs_new(ctx, "cloud_root", a->target);
	users = tk_obs_new(ctx, "cloud_users", a->target);
	cJSON_AddStringToObject(root, "provider", "aws");
	add_evidence_file(root, a, data, len);
	/* the report does not say hardware or virtual: unknown is not "hardware" */
	cJSON_AddStringToObject(root, "root_mfa_type", "unknown");
	cloud_unobs(root, "root_mfa_type",
	      "offline evidence: a credential report does not say whether root's MFA device is virtual or hardware "
	      "(iam:ListVirtualMFADevices through the API does)");
	cJSON_AddStringToObject(users, "provider", "aws");
	add_evidence_file(users, a, data, len);
	aws_report_facts(r, root, users, &s);
	cloud_unobs(users, "password_policy",
	      "offline evidence: a credential report does not carry the account password policy "
	      "(iam:GetAccountPasswordPolicy through the API does)");
	add_report_age(users, generated,
		       "offline evidence: a bare CSV does not say when it was generated (hand over the JSON output of "
		       "aws iam get-credential-report, which has GeneratedTime)");
	if (r->root < 0)
		cJSON_AddStringToObject(root, "note", "the report has no <root_account> row");
	tk_emit(ctx, root);
	tk_emit(ctx, users);
out:
	tk_credreport_free(r);
	tk_buf_free(&csv);
	free(data);
}

/* ---- Azure / Google ---- */

static void admins_obs(struct tk_runctx *ctx, const struct cloud_acct *a, const struct tk_admins *ad, cJSON *o)
{
	cJSON *bad = cJSON_CreateArray(), *unenf = cJSON_CreateArray(), *unknown = cJSON_CreateArray();
	size_t i, nbad = 0, nunenf = 0, nunknown = 0, nunenf_unknown = 0;
	(void)ctx;
	cJSON_AddStringToObject(o, "provider", provider_name(a->provider));
	cJSON_AddStringToObject(o, "role", a->provider == P_AZURE ? "Global Administrator" : "super administrator");
	for (i = 0; i < ad->n; i++) {
		const struct tk_admin *u = &ad->v[i];
		const char *nm = u->name ? u->name : u->id ? u->id : "";
		if (u->mfa == 0) {
			nbad++;
			if (cJSON_GetArraySize(bad) < CLOUD_MAX_NAMES)
				cJSON_AddItemToArray(bad, cJSON_CreateString(nm));
		} else if (u->mfa < 0) {
			nunknown++;
			if (cJSON_GetArraySize(unknown) < CLOUD_MAX_NAMES)
				cJSON_AddItemToArray(unknown, cJSON_CreateString(nm));
		}
		if (a->provider == P_GOOGLE && u->enforced < 0)
			nunenf_unknown++;
		if (a->provider == P_GOOGLE && u->enforced == 0) {
			nunenf++;
			if (cJSON_GetArraySize(unenf) < CLOUD_MAX_NAMES)
				cJSON_AddItemToArray(unenf, cJSON_CreateString(nm));
		}
	}
	if (nbad == 0 && nunknown > 0) {
		char why[300];
		snprintf(why, sizeof(why),
			 "%zu administrator(s) have no MFA registration record (%s): whether they use MFA is unknown",
			 nunknown, a->provider == P_AZURE ? "no userRegistrationDetails row" : "no isEnrolledIn2Sv");
		cloud_unobs(o, "admins_without_mfa", why);
	}
	if (a->provider == P_GOOGLE && nunenf == 0 && nunenf_unknown > 0)
		cloud_unobs(o, "admins_2sv_not_enforced", "an administrator's isEnforcedIn2Sv is missing");
	cJSON_AddNumberToObject(o, "admins", (double)ad->n);
	cJSON_AddNumberToObject(o, "admins_without_mfa", (double)nbad);
	cJSON_AddItemToObject(o, "admins_without_mfa_names", bad);
	cJSON_AddNumberToObject(o, "admins_mfa_unknown", (double)nunknown);
	cJSON_AddItemToObject(o, "admins_mfa_unknown_names", unknown);
	if (a->provider == P_GOOGLE) {
		cJSON_AddNumberToObject(o, "admins_2sv_not_enforced", (double)nunenf);
		cJSON_AddItemToObject(o, "admins_2sv_not_enforced_names", unenf);
	} else {
		cJSON_Delete(unenf);
		cJSON_AddNumberToObject(o, "non_user_members", (double)ad->non_users);
	}
}

static void admins_run(struct cloud_acct *a, struct tk_runctx *ctx)
{
	struct tk_admins ad;
	struct tk_err err = {0};
	char *data = NULL;
	size_t len = 0;
	cJSON *o;
	int rc;
	memset(&ad, 0, sizeof(ad));
	if (a->export_file) {
		rc = tk_read_file(a->export_file, CLOUD_MAX_EXPORT, &data, &len, &err);
		if (!rc)
			rc = a->provider == P_AZURE ? tk_graph_export_parse(data, len, &ad, &err)
						    : tk_directory_export_parse(data, len, &ad, &err);
		if (rc)
			tk_err_prefix(&err, "%s", a->export_shown);
	} else if (a->provider == P_AZURE) {
		rc = tk_azure_global_admins(a->az, tk_run_remaining_ms(ctx, 0), ctx_cancelled, ctx, &ad, &err);
	} else {
		rc = tk_google_super_admins(a->gg, tk_run_remaining_ms(ctx, 0), ctx_cancelled, ctx, &ad, &err);
	}
	if (rc) {
		tk_emit_error(ctx, a->target, rc, "%s", err.msg);
		goto out;
	}
	o = tk_obs_new(ctx, "cloud_admins", a->target);
	if (a->export_file)
		add_evidence_file(o, a, data, len);
	else
		cJSON_AddStringToObject(o, "evidence_source", "api");
	admins_obs(ctx, a, &ad, o);
	tk_emit(ctx, o);
out:
	tk_admins_clear(&ad);
	free(data);
}

/*
 * Azure / Google posture (issue 17) of an API account that lists
 * subscriptions / projects: its own kind per provider (cloud_posture_azure,
 * cloud_posture_google) so that the AWS cloud_posture rules never judge
 * fields another provider does not have.
 */
static void posture_run(struct cloud_acct *a, struct tk_runctx *ctx)
{
	cJSON *o;
	if (a->export_file || (a->provider == P_AZURE && !tk_azure_has_posture(a->az)) ||
	    (a->provider == P_GOOGLE && !tk_google_has_posture(a->gg)) || tk_run_cancelled(ctx))
		return;
	o = tk_obs_new(ctx, a->provider == P_AZURE ? "cloud_posture_azure" : "cloud_posture_google", a->target);
	cJSON_AddStringToObject(o, "provider", provider_name(a->provider));
	cJSON_AddStringToObject(o, "evidence_source", "api");
	if (a->provider == P_AZURE)
		tk_azure_posture(a->az, tk_run_remaining_ms(ctx, 0), ctx_cancelled, ctx, o);
	else
		tk_google_posture(a->gg, tk_run_remaining_ms(ctx, 0), ctx_cancelled, ctx, o);
	tk_emit(ctx, o);
}

static int cloud_run(void *state, struct tk_runctx *ctx, struct tk_err *err)
{
	struct cloud_cfg *c = state;
	size_t i;
	(void)err;
	for (i = 0; i < c->n; i++) {
		struct cloud_acct *a = &c->a[i];
		if (tk_run_cancelled(ctx)) {
			tk_emit_error(ctx, a->target, TK_ERR_CANCELLED, "not checked: the scan was stopped");
			continue;
		}
		if (a->provider == P_AWS && a->export_file)
			aws_run_offline(a, ctx);
		else if (a->provider == P_AWS)
			aws_run_api(a, ctx);
		else {
			admins_run(a, ctx);
			posture_run(a, ctx);
		}
	}
	return TK_OK;
}

TK_PROBE_TARGETS(cloud_targets, struct cloud_cfg, a, n, struct cloud_acct, target)

const struct tk_probe tk_probe_cloud = {
	.name = "cloud",
	.summary = "MFA on AWS root and IAM console users, Azure Global Administrators, Google super admins",
	.configure = cloud_configure,
	.targets = cloud_targets,
	.run = cloud_run,
	.free_state = cloud_free,
};
