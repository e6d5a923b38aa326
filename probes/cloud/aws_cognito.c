/*
 * aws_cognito.c - AWS posture check: Cognito user pools, the partner's
 * end-user authentication (FISC 32; rules/rules/cloud_userpool.json).
 *
 * Observation "cloud_userpool" per account (target "aws:NAME"), in the
 * account's region:
 *   user_pools, user_pool_names;
 *   user_pools_mfa_off / _mfa_optional / _mfa_on (MfaConfiguration) with names;
 *   min_password_length (the shortest Policies.PasswordPolicy.MinimumLength)
 *   and user_pool_password_lengths ("name: N");
 *   user_pools_without_risk_based_auth (UserPoolAddOns.AdvancedSecurityMode
 *   not ENFORCED; absent = OFF) with names ("name: MODE").
 * Calls (JSON 1.1): cognito-idp:ListUserPools (NextToken, bounded) and
 * cognito-idp:DescribeUserPool per pool (at most COG_MAX_POOLS).
 * A failed call marks the fields it feeds unobserved (cloud_unobs). A pool
 * whose answer lacks a field is unknown for that field, never counted as good.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloudaws.h"

#define COG_TARGET "AWSCognitoIdentityProviderService."
#define COG_MAX_NAMES 100
#define COG_MAX_POOLS 300
#define COG_MAX_PAGES 20
#define COG_MAX_TOKEN 4096

struct pool {
	char *id;
	char *name; /* escaped, bounded */
};

struct cog_tally {
	long n, off, optional, on, mfa_unknown, len_unknown, weak_risk;
	long long min_len; /* -1: none seen */
	cJSON *names, *offn, *optn, *lens, *riskn;
};

static void add_line(cJSON *arr, const char *s)
{
	if (cJSON_GetArraySize(arr) < COG_MAX_NAMES)
		cJSON_AddItemToArray(arr, cJSON_CreateString(s));
}

/* ListUserPools over NextToken pages: ids and names into *pools (*n of them, at most COG_MAX_POOLS). */
static int list_pools(struct tk_aws_account *aws, struct tk_runctx *ctx, const char *region, struct pool *pools,
		      long *n, long *total, struct tk_err *err)
{
	char *next = NULL;
	int pages = 0, rc = TK_OK;
	*n = *total = 0;
	for (;;) {
		cJSON *req = cJSON_CreateObject(), *doc = NULL;
		const cJSON *list, *p, *nt;
		char *body;
		cJSON_AddNumberToObject(req, "MaxResults", 60);
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
		rc = cloud_aws_json(aws, ctx, region, "cognito-idp", "POST", "/", COG_TARGET "ListUserPools",
				    "ListUserPools", body, &doc, err);
		free(body);
		if (rc)
			break;
		pages++;
		if (!cJSON_IsArray(list = cJSON_GetObjectItemCaseSensitive(doc, "UserPools"))) {
			rc = tk_seterr(err, TK_ERR_PROTOCOL, "cognito-idp ListUserPools (%s): no UserPools array", region);
			cJSON_Delete(doc);
			break;
		}
		cJSON_ArrayForEach(p, list)
		{
			const cJSON *id = cJSON_GetObjectItemCaseSensitive(p, "Id"),
				    *nm = cJSON_GetObjectItemCaseSensitive(p, "Name");
			(*total)++;
			if (!cJSON_IsString(id) || !*id->valuestring || strlen(id->valuestring) > 55) {
				rc = tk_seterr(err, TK_ERR_PROTOCOL, "cognito-idp ListUserPools (%s): a pool without a usable Id",
					       region);
				break;
			}
			if (*n >= COG_MAX_POOLS)
				continue;
			if (!cJSON_IsString(nm))
				nm = id;
			pools[*n].id = strdup(id->valuestring);
			pools[*n].name = tk_escape_bytes(nm->valuestring, strlen(nm->valuestring), 200);
			if (!pools[*n].id || !pools[*n].name) {
				free(pools[*n].id);
				free(pools[*n].name);
				rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
				break;
			}
			(*n)++;
		}
		nt = cJSON_GetObjectItemCaseSensitive(doc, "NextToken");
		if (!rc)
			rc = cloud_next_page(cJSON_IsString(nt) ? nt->valuestring : NULL, COG_MAX_TOKEN, pages,
					     COG_MAX_PAGES, false, "cognito-idp ListUserPools", &next, err);
		cJSON_Delete(doc);
		if (rc || !next)
			break;
	}
	free(next);
	return rc;
}

static void tally_pool(struct cog_tally *t, const struct pool *p, const cJSON *up)
{
	const cJSON *mfa = cJSON_GetObjectItemCaseSensitive(up, "MfaConfiguration");
	const cJSON *len = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(up, "Policies"), "PasswordPolicy"),
	    "MinimumLength");
	const cJSON *addons = cJSON_GetObjectItemCaseSensitive(up, "UserPoolAddOns");
	const cJSON *asm_ = cJSON_GetObjectItemCaseSensitive(addons, "AdvancedSecurityMode");
	const char *mode = cJSON_IsString(asm_) ? asm_->valuestring : "OFF";
	char line[300];
	if (cJSON_IsString(mfa) && strcmp(mfa->valuestring, "OFF") == 0) {
		t->off++;
		add_line(t->offn, p->name);
	} else if (cJSON_IsString(mfa) && strcmp(mfa->valuestring, "OPTIONAL") == 0) {
		t->optional++;
		add_line(t->optn, p->name);
	} else if (cJSON_IsString(mfa) && strcmp(mfa->valuestring, "ON") == 0) {
		t->on++;
	} else {
		t->mfa_unknown++;
	}
	if (cJSON_IsNumber(len) && len->valuedouble >= 0 && len->valuedouble <= 1000) {
		long long l = (long long)len->valuedouble;
		if (t->min_len < 0 || l < t->min_len)
			t->min_len = l;
		snprintf(line, sizeof(line), "%s: %lld", p->name, l);
		add_line(t->lens, line);
	} else {
		t->len_unknown++;
	}
	/* risk-based authentication acts only in ENFORCED mode (AUDIT records, OFF does nothing) */
	if (strcmp(mode, "ENFORCED") != 0) {
		char *m = tk_escape_bytes(mode, strlen(mode), 40);
		t->weak_risk++;
		snprintf(line, sizeof(line), "%s: %s", p->name, m ? m : "");
		free(m);
		add_line(t->riskn, line);
	}
}

void cloud_aws_cognito(struct tk_aws_account *aws, struct tk_runctx *ctx, const char *target, const char *region)
{
	struct tk_err err = {0};
	struct pool *pools = calloc(COG_MAX_POOLS, sizeof(*pools));
	struct cog_tally t = {0};
	cJSON *o = tk_obs_new(ctx, "cloud_userpool", target);
	long n = 0, total = 0, described = 0, i;
	int rc;
	char why[1200];
	t.min_len = -1;
	t.names = cJSON_CreateArray();
	t.offn = cJSON_CreateArray();
	t.optn = cJSON_CreateArray();
	t.lens = cJSON_CreateArray();
	t.riskn = cJSON_CreateArray();
	cJSON_AddStringToObject(o, "provider", "aws");
	cJSON_AddStringToObject(o, "evidence_source", "api");
	cJSON_AddStringToObject(o, "region", region);
	if (!pools) {
		cloud_unobs(o, "user_pools", "out of memory");
		goto out;
	}
	if ((rc = list_pools(aws, ctx, region, pools, &n, &total, &err))) {
		cJSON_AddStringToObject(o, "userpool_error", err.msg);
		cloud_unobs(o, "user_pools", err.msg);
		goto out;
	}
	for (i = 0; i < n; i++) {
		cJSON *req = cJSON_CreateObject(), *doc = NULL;
		char *body;
		add_line(t.names, pools[i].name);
		cJSON_AddStringToObject(req, "UserPoolId", pools[i].id);
		body = cJSON_PrintUnformatted(req);
		cJSON_Delete(req);
		if (!body) {
			rc = tk_seterr(&err, TK_ERR_NOMEM, "out of memory");
			break;
		}
		rc = cloud_aws_json(aws, ctx, region, "cognito-idp", "POST", "/", COG_TARGET "DescribeUserPool",
				    "DescribeUserPool", body, &doc, &err);
		free(body);
		if (rc)
			break; /* a denial or an outage repeats for every pool: the rest stay unknown */
		if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(doc, "UserPool"))) {
			rc = tk_seterr(&err, TK_ERR_PROTOCOL, "cognito-idp DescribeUserPool (%s): no UserPool object",
				       region);
			cJSON_Delete(doc);
			break;
		}
		tally_pool(&t, &pools[i], cJSON_GetObjectItemCaseSensitive(doc, "UserPool"));
		cJSON_Delete(doc);
		described++;
	}
	cJSON_AddNumberToObject(o, "user_pools", (double)total);
	cJSON_AddItemToObject(o, "user_pool_names", t.names);
	cJSON_AddNumberToObject(o, "user_pools_described", (double)described);
	cJSON_AddNumberToObject(o, "user_pools_mfa_off", (double)t.off);
	cJSON_AddItemToObject(o, "user_pools_mfa_off_names", t.offn);
	cJSON_AddNumberToObject(o, "user_pools_mfa_optional", (double)t.optional);
	cJSON_AddItemToObject(o, "user_pools_mfa_optional_names", t.optn);
	cJSON_AddNumberToObject(o, "user_pools_mfa_on", (double)t.on);
	cJSON_AddItemToObject(o, "user_pool_password_lengths", t.lens);
	cJSON_AddNumberToObject(o, "user_pools_without_risk_based_auth", (double)t.weak_risk);
	cJSON_AddItemToObject(o, "user_pools_without_risk_based_auth_names", t.riskn);
	t.names = t.offn = t.optn = t.lens = t.riskn = NULL;
	if (t.min_len >= 0)
		cJSON_AddNumberToObject(o, "min_password_length", (double)t.min_len);
	/* what was not described (a failed call, the bound) is unknown: never a pass */
	if (described < total) {
		if (rc) {
			cJSON_AddStringToObject(o, "userpool_error", err.msg);
			snprintf(why, sizeof(why), "%ld of %ld user pool(s) not described: %s", total - described, total,
				 err.msg);
		} else {
			snprintf(why, sizeof(why), "%ld of %ld user pool(s) not described (at most %d are)",
				 total - described, total, COG_MAX_POOLS);
		}
		if (t.off == 0)
			cloud_unobs(o, "user_pools_mfa_off", why);
		if (t.optional == 0)
			cloud_unobs(o, "user_pools_mfa_optional", why);
		cloud_unobs(o, "min_password_length", why);
		if (t.weak_risk == 0)
			cloud_unobs(o, "user_pools_without_risk_based_auth", why);
	}
	if (t.mfa_unknown) {
		snprintf(why, sizeof(why), "cognito-idp DescribeUserPool: %ld pool(s) without an OFF/OPTIONAL/ON MfaConfiguration",
			 t.mfa_unknown);
		if (t.off == 0)
			cloud_unobs(o, "user_pools_mfa_off", why);
		if (t.optional == 0)
			cloud_unobs(o, "user_pools_mfa_optional", why);
	}
	if (t.len_unknown) {
		snprintf(why, sizeof(why), "cognito-idp DescribeUserPool: %ld pool(s) without Policies.PasswordPolicy.MinimumLength",
			 t.len_unknown);
		cloud_unobs(o, "min_password_length", why);
	}
out:
	tk_emit(ctx, o);
	for (i = 0; pools && i < n; i++) {
		free(pools[i].id);
		free(pools[i].name);
	}
	free(pools);
	cJSON_Delete(t.names);
	cJSON_Delete(t.offn);
	cJSON_Delete(t.optn);
	cJSON_Delete(t.lens);
	cJSON_Delete(t.riskn);
}
