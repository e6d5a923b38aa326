/*
 * aws_s3.c - S3 posture of an AWS account (FISC 26, 29, 30, 31): one
 * "cloud_storage" observation per account.
 *
 * Account: S3 Control GetPublicAccessBlock (the account id from STS
 * GetCallerIdentity). Per bucket (ListBuckets, at most S3_MAX_BUCKETS):
 * GetBucketLocation when ListBuckets names no BucketRegion, then
 * GetPublicAccessBlock, GetBucketPolicyStatus, GetBucketAcl,
 * GetBucketVersioning, GetBucketEncryption and GetBucketTagging.
 *
 * "Not configured" answers are observations: NoSuchPublicAccessBlockConfiguration
 * (nothing blocked), NoSuchBucketPolicy (no policy, not public by policy),
 * ServerSideEncryptionConfigurationNotFoundError (no default encryption),
 * NoSuchTagSet (no tags). Anything else (denied, throttled after the retries,
 * 5xx, redirects, malformed XML, timeouts) marks the summary fields it feeds
 * with cloud_unobs(): their rules become errors, never passes.
 *
 * Summary fields: account_bpa_all (bool), buckets, public_buckets (+_count),
 * unversioned_buckets, unencrypted_buckets, unclassified_buckets (each a list
 * of at most S3_MAX_NAMES names and a _count), classification_tag. A _count
 * is unobserved when it is 0 and some bucket could not be read for it; when
 * it is above 0 it stands (a lower bound) and _incomplete says what was missed.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "awsxml.h"
#include "cloudaws.h"

#define S3_MAX_BUCKETS 1000
#define S3_MAX_PAGES 10
#define S3_MAX_NAMES 100
#define S3_MAX_XML (4u << 20)
#define S3_CALL_MS 60000

#define ALL_USERS "http://acs.amazonaws.com/groups/global/AllUsers"
#define AUTH_USERS "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
#define SSE_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:_-" /* "AES256", "aws:kms:dsse" */

enum s3_ans { S3_OK, S3_ABSENT, S3_FAIL };

/* A summary field: the bucket names it lists and whether every bucket was observed for it. */
struct s3_sum {
	const char *field;
	cJSON *names;
	int count;
	const char *why; /* first reason a bucket was not observed, or NULL */
	char whybuf[600];
};

static void sum_add(struct s3_sum *s, const char *name)
{
	s->count++;
	if (cJSON_GetArraySize(s->names) < S3_MAX_NAMES)
		cJSON_AddItemToArray(s->names, cJSON_CreateString(name));
}

static void sum_unobs(struct s3_sum *s, const char *bucket, const char *why)
{
	if (s->why)
		return;
	snprintf(s->whybuf, sizeof(s->whybuf), "bucket %.255s: %.300s", bucket, why);
	s->why = s->whybuf;
}

static void sum_emit(cJSON *o, struct s3_sum *s)
{
	char key[80];
	cJSON_AddItemToObject(o, s->field, s->names);
	s->names = NULL;
	snprintf(key, sizeof(key), "%s_count", s->field);
	if (s->why && s->count == 0) {
		cloud_unobs(o, key, s->why); /* none seen, but not every bucket was seen */
		return;
	}
	cJSON_AddNumberToObject(o, key, s->count); /* at least this many: a failure stands without the rest */
	if (s->why) {
		snprintf(key, sizeof(key), "%s_incomplete", s->field);
		cJSON_AddStringToObject(o, key, s->why);
	}
}

static bool region_ok(const char *r)
{
	return r && *r && strlen(r) < 40 && strspn(r, "abcdefghijklmnopqrstuvwxyz0123456789-") == strlen(r);
}

static bool bucket_ok(const char *b)
{
	size_t n = b ? strlen(b) : 0;
	return n >= 3 && n <= 255 &&
	       strspn(b, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") == n;
}

/*
 * One GET of S3 (account_id NULL: path-style bucket call) or S3 Control; the
 * 200 answer parsed into *doc. S3_ABSENT when the error code is `absent`
 * (an observed "not configured"); S3_FAIL with the reason in why.
 */
static enum s3_ans s3_get(struct tk_aws_account *aws, struct tk_runctx *ctx, const char *region,
			  const char *account_id, const char *path, const char *op, const char *absent,
			  struct tk_xml_node **doc, char *why, size_t why_size)
{
	struct tk_err err = {0};
	struct tk_buf resp;
	long st = 0;
	enum s3_ans ans = S3_FAIL;
	int rc, ms = tk_run_remaining_ms(ctx, S3_CALL_MS);
	*doc = NULL;
	tk_buf_init(&resp, S3_MAX_XML);
	if (tk_run_cancelled(ctx) || ms <= 0) {
		snprintf(why, why_size, "s3 %s (%s): the scan's time ran out", op, region);
		goto out;
	}
	rc = account_id ? tk_aws_s3control_request(aws, region, account_id, "GET", path, ms, &st, &resp, &err)
			: tk_aws_request_in(aws, region, "s3", "GET", path, NULL, NULL, NULL, 0, ms, &st, &resp, &err);
	if (rc) {
		snprintf(why, why_size, "s3 %s (%s): %s", op, region, err.msg);
	} else if (st != 200) {
		char msg[900], code[128];
		tk_aws_error_describe(st, resp.data ? resp.data : "", resp.len, msg, sizeof(msg), code, sizeof(code));
		if (absent && st >= 400 && st < 500 && strcmp(code, absent) == 0)
			ans = S3_ABSENT;
		else
			snprintf(why, why_size, "s3 %s (%s): %s", op, region, msg);
	} else if (tk_xml_parse(resp.data ? resp.data : "", resp.len, doc, &err)) {
		snprintf(why, why_size, "s3 %s (%s): malformed response: %s", op, region, err.msg);
	} else {
		ans = S3_OK;
	}
out:
	tk_buf_free(&resp);
	return ans;
}

/* "true"/"false" of element `name` under a PublicAccessBlockConfiguration; absent is false (AWS's default). */
static bool xml_true(const struct tk_xml_node *doc, const char *name)
{
	const char *t = tk_xml_text(doc, name);
	return t && strcmp(t, "true") == 0;
}

static const char *const bpa_flags[4][2] = {{"BlockPublicAcls", "block_public_acls"},
					     {"IgnorePublicAcls", "ignore_public_acls"},
					     {"BlockPublicPolicy", "block_public_policy"},
					     {"RestrictPublicBuckets", "restrict_public_buckets"}};

/* A PublicAccessBlock answer (or its absence) as {"block_public_acls": bool, ...}; *all when all four. */
static cJSON *bpa_json(const struct tk_xml_node *doc, bool *all)
{
	cJSON *b = cJSON_CreateObject();
	*all = true;
	for (size_t i = 0; i < 4; i++) {
		bool v = doc && xml_true(doc, bpa_flags[i][0]);
		cJSON_AddBoolToObject(b, bpa_flags[i][1], v);
		*all = *all && v;
	}
	return b;
}

/* What the account-level block says: -1 unobserved, else 0/1 per flag. */
struct s3_block {
	int ignore_acls, restrict_public;
};

static void s3_account(struct tk_aws_account *aws, struct tk_runctx *ctx, const char *region, cJSON *o,
		       struct s3_block *blk)
{
	char id[16], why[1200], path[] = "/v20180820/configuration/publicAccessBlock";
	struct tk_err err = {0};
	struct tk_xml_node *doc = NULL;
	enum s3_ans a;
	bool all;
	blk->ignore_acls = blk->restrict_public = -1;
	if (tk_aws_account_id(aws, tk_run_remaining_ms(ctx, S3_CALL_MS), id, &err)) {
		cJSON_AddStringToObject(o, "account_bpa_error", err.msg);
		cloud_unobs(o, "account_bpa_all", err.msg);
		return;
	}
	a = s3_get(aws, ctx, region, id, path, "GetPublicAccessBlock (account)", "NoSuchPublicAccessBlockConfiguration",
		   &doc, why, sizeof(why));
	if (a == S3_FAIL) {
		cJSON_AddStringToObject(o, "account_bpa_error", why);
		cloud_unobs(o, "account_bpa_all", why);
		return;
	}
	cJSON_AddItemToObject(o, "account_bpa", bpa_json(doc, &all));
	cJSON_AddBoolToObject(o, "account_bpa_configured", a == S3_OK);
	cJSON_AddBoolToObject(o, "account_bpa_all", all);
	blk->ignore_acls = doc && xml_true(doc, "IgnorePublicAcls");
	blk->restrict_public = doc && xml_true(doc, "RestrictPublicBuckets");
	tk_xml_free(doc);
}

/* The region of a bucket: ListBuckets' BucketRegion, else GetBucketLocation. */
static bool bucket_region(struct tk_aws_account *aws, struct tk_runctx *ctx, const char *region,
			  const struct tk_xml_node *b, const char *name, char *out, size_t size, char *why,
			  size_t why_size)
{
	const char *r = tk_xml_text(b, "BucketRegion");
	struct tk_xml_node *doc = NULL;
	char path[300];
	if (region_ok(r)) {
		snprintf(out, size, "%s", r);
		return true;
	}
	snprintf(path, sizeof(path), "/%s?location", name);
	if (s3_get(aws, ctx, region, NULL, path, "GetBucketLocation", NULL, &doc, why, why_size) != S3_OK)
		return false;
	/* <LocationConstraint>: the root element itself; empty means us-east-1, "EU" eu-west-1 */
	r = doc->text;
	if (!*r)
		r = "us-east-1";
	else if (strcmp(r, "EU") == 0)
		r = "eu-west-1";
	if (!region_ok(r)) {
		snprintf(why, why_size, "s3 GetBucketLocation (%s): not a region name in the answer", region);
		tk_xml_free(doc);
		return false;
	}
	snprintf(out, size, "%s", r);
	tk_xml_free(doc);
	return true;
}

enum { SUM_PUBLIC, SUM_UNVERSIONED, SUM_UNENCRYPTED, SUM_UNCLASSIFIED, SUM_N };

/* One bucket: its record in *rec, its names in the summaries. */
static void s3_bucket(struct tk_aws_account *aws, struct tk_runctx *ctx, const char *region,
		      const struct tk_xml_node *b, const char *name, const struct s3_block *acct, cJSON *rec,
		      struct s3_sum *sum)
{
	struct tk_xml_node *doc = NULL;
	char br[48], path[300], why[1200];
	const char *tag = tk_aws_account_s3_tag(aws);
	int policy_public = -1, acl_public = -1, ignore_acls = -1, restrict_public = -1;
	enum s3_ans a;
	bool all;

	if (!bucket_region(aws, ctx, region, b, name, br, sizeof(br), why, sizeof(why))) {
		cJSON_AddStringToObject(rec, "error", why);
		for (size_t i = 0; i < SUM_N; i++)
			sum_unobs(&sum[i], name, why);
		return;
	}
	cJSON_AddStringToObject(rec, "region", br);

	/* Block Public Access of the bucket */
	snprintf(path, sizeof(path), "/%s?publicAccessBlock", name);
	a = s3_get(aws, ctx, br, NULL, path, "GetPublicAccessBlock", "NoSuchPublicAccessBlockConfiguration", &doc, why,
		   sizeof(why));
	if (a == S3_FAIL) {
		cJSON_AddStringToObject(rec, "bpa_error", why);
	} else {
		cJSON_AddItemToObject(rec, "bpa", bpa_json(doc, &all));
		cJSON_AddBoolToObject(rec, "bpa_all", all);
		ignore_acls = doc && xml_true(doc, "IgnorePublicAcls");
		restrict_public = doc && xml_true(doc, "RestrictPublicBuckets");
	}
	tk_xml_free(doc);

	/* Is the bucket policy public (AWS's own evaluation)? */
	snprintf(path, sizeof(path), "/%s?policyStatus", name);
	a = s3_get(aws, ctx, br, NULL, path, "GetBucketPolicyStatus", "NoSuchBucketPolicy", &doc, why, sizeof(why));
	if (a == S3_FAIL) {
		cJSON_AddStringToObject(rec, "policy_error", why);
		sum_unobs(&sum[SUM_PUBLIC], name, why);
	} else if (a == S3_ABSENT) {
		policy_public = 0;
		cJSON_AddBoolToObject(rec, "policy_public", false);
		cJSON_AddBoolToObject(rec, "policy", false);
	} else {
		const char *p = tk_xml_text(doc, "IsPublic");
		if (!p || (strcmp(p, "true") != 0 && strcmp(p, "false") != 0)) {
			snprintf(why, sizeof(why), "s3 GetBucketPolicyStatus (%s): no IsPublic in the answer", br);
			cJSON_AddStringToObject(rec, "policy_error", why);
			sum_unobs(&sum[SUM_PUBLIC], name, why);
		} else {
			policy_public = strcmp(p, "true") == 0;
			cJSON_AddBoolToObject(rec, "policy_public", policy_public);
		}
	}
	tk_xml_free(doc);

	/* ACL grants to everyone or to any AWS user */
	snprintf(path, sizeof(path), "/%s?acl", name);
	if (s3_get(aws, ctx, br, NULL, path, "GetBucketAcl", NULL, &doc, why, sizeof(why)) != S3_OK) {
		cJSON_AddStringToObject(rec, "acl_error", why);
		sum_unobs(&sum[SUM_PUBLIC], name, why);
	} else if (!tk_xml_find(doc, "AccessControlList")) {
		snprintf(why, sizeof(why), "s3 GetBucketAcl (%s): no AccessControlList in the answer", br);
		cJSON_AddStringToObject(rec, "acl_error", why);
		sum_unobs(&sum[SUM_PUBLIC], name, why);
	} else {
		cJSON *grants = cJSON_CreateArray();
		const struct tk_xml_node *g;
		acl_public = 0;
		for (g = tk_xml_find(doc, "AccessControlList/Grant"); g; g = tk_xml_next_same(g)) {
			const char *uri = tk_xml_text(g, "Grantee/URI"), *perm = tk_xml_text(g, "Permission");
			const char *who = !uri ? NULL : strcmp(uri, ALL_USERS) == 0 ? "AllUsers"
						    : strcmp(uri, AUTH_USERS) == 0 ? "AuthenticatedUsers"
										     : NULL;
			char line[80];
			if (!who)
				continue;
			acl_public = 1;
			snprintf(line, sizeof(line), "%s:%.40s", who, perm && strlen(perm) < 40 ? perm : "?");
			if (cJSON_GetArraySize(grants) < 16)
				cJSON_AddItemToArray(grants, cJSON_CreateString(line));
		}
		cJSON_AddItemToObject(rec, "acl_public_grants", grants);
	}
	tk_xml_free(doc);

	/*
	 * Public: a public policy not restricted by RestrictPublicBuckets, or a
	 * public ACL grant not ignored by IgnorePublicAcls (bucket or account).
	 * A grant whose blocking could not be read counts as public: the grant is
	 * observed, its neutralisation is not.
	 */
	{
		bool restricted = restrict_public == 1 || acct->restrict_public == 1;
		bool ignored = ignore_acls == 1 || acct->ignore_acls == 1;
		bool pub = (policy_public == 1 && !restricted) || (acl_public == 1 && !ignored);
		if (policy_public >= 0 && acl_public >= 0) {
			cJSON_AddBoolToObject(rec, "public", pub);
			if (pub)
				sum_add(&sum[SUM_PUBLIC], name);
		} else if (pub) {
			cJSON_AddBoolToObject(rec, "public", true);
			sum_add(&sum[SUM_PUBLIC], name);
		}
	}

	/* Versioning: "Enabled", "Suspended" or never configured (no Status) */
	snprintf(path, sizeof(path), "/%s?versioning", name);
	if (s3_get(aws, ctx, br, NULL, path, "GetBucketVersioning", NULL, &doc, why, sizeof(why)) != S3_OK) {
		cJSON_AddStringToObject(rec, "versioning_error", why);
		sum_unobs(&sum[SUM_UNVERSIONED], name, why);
	} else if (strcmp(doc->name, "VersioningConfiguration") != 0 &&
		   strcmp(doc->name, "GetBucketVersioningResponse") != 0) { /* AWS's root; moto 5.2's */
		snprintf(why, sizeof(why), "s3 GetBucketVersioning (%s): the answer is not a VersioningConfiguration", br);
		cJSON_AddStringToObject(rec, "versioning_error", why);
		sum_unobs(&sum[SUM_UNVERSIONED], name, why);
	} else {
		const char *s = tk_xml_text(doc, "Status");
		bool on = s && strcmp(s, "Enabled") == 0;
		const char *shown = on ? "Enabled" : s && strcmp(s, "Suspended") == 0 ? "Suspended" : "Off";
		cJSON_AddStringToObject(rec, "versioning", shown);
		if (!on)
			sum_add(&sum[SUM_UNVERSIONED], name);
	}
	tk_xml_free(doc);

	/* Default encryption */
	snprintf(path, sizeof(path), "/%s?encryption", name);
	a = s3_get(aws, ctx, br, NULL, path, "GetBucketEncryption", "ServerSideEncryptionConfigurationNotFoundError",
		   &doc, why, sizeof(why));
	if (a == S3_FAIL) {
		cJSON_AddStringToObject(rec, "encryption_error", why);
		sum_unobs(&sum[SUM_UNENCRYPTED], name, why);
	} else {
		const char *alg = a == S3_OK ? tk_xml_text(doc, "Rule/ApplyServerSideEncryptionByDefault/SSEAlgorithm")
					     : NULL;
		if (alg && *alg && strlen(alg) < 40 && strspn(alg, SSE_CHARS) == strlen(alg)) {
			cJSON_AddStringToObject(rec, "encryption", alg);
		} else if (a == S3_OK) {
			snprintf(why, sizeof(why), "s3 GetBucketEncryption (%s): no SSEAlgorithm in the answer", br);
			cJSON_AddStringToObject(rec, "encryption_error", why);
			sum_unobs(&sum[SUM_UNENCRYPTED], name, why);
		} else {
			cJSON_AddNullToObject(rec, "encryption");
			sum_add(&sum[SUM_UNENCRYPTED], name);
		}
	}
	tk_xml_free(doc);

	/* Data classification tag */
	snprintf(path, sizeof(path), "/%s?tagging", name);
	a = s3_get(aws, ctx, br, NULL, path, "GetBucketTagging", "NoSuchTagSet", &doc, why, sizeof(why));
	if (a == S3_FAIL) {
		cJSON_AddStringToObject(rec, "tagging_error", why);
		sum_unobs(&sum[SUM_UNCLASSIFIED], name, why);
	} else {
		const struct tk_xml_node *t;
		const char *val = NULL;
		for (t = a == S3_OK ? tk_xml_find(doc, "TagSet/Tag") : NULL; t; t = tk_xml_next_same(t)) {
			const char *k = tk_xml_text(t, "Key");
			if (k && strcmp(k, tag) == 0) {
				val = tk_xml_text(t, "Value");
				break;
			}
		}
		if (val && *val) {
			char *esc = tk_escape_bytes(val, strlen(val), 256);
			cJSON_AddStringToObject(rec, "classification", esc ? esc : "");
			free(esc);
		} else {
			cJSON_AddNullToObject(rec, "classification");
			sum_add(&sum[SUM_UNCLASSIFIED], name);
		}
	}
	tk_xml_free(doc);
}

void cloud_aws_s3(struct tk_aws_account *aws, struct tk_runctx *ctx, const char *target, const char *region)
{
	cJSON *o = tk_obs_new(ctx, "cloud_storage", target), *list = cJSON_CreateArray();
	struct s3_sum sum[SUM_N] = {
		{.field = "public_buckets"},
		{.field = "unversioned_buckets"},
		{.field = "unencrypted_buckets"},
		{.field = "unclassified_buckets"},
	};
	struct s3_block acct;
	char token[1100] = "", path[1300], why[1200];
	const char *list_why = NULL;
	int n = 0, pages = 0;
	bool more = false;

	for (size_t i = 0; i < SUM_N; i++)
		sum[i].names = cJSON_CreateArray();
	cJSON_AddStringToObject(o, "provider", "aws");
	cJSON_AddStringToObject(o, "evidence_source", "api");
	cJSON_AddStringToObject(o, "region", region);
	cJSON_AddStringToObject(o, "classification_tag", tk_aws_account_s3_tag(aws));
	s3_account(aws, ctx, region, o, &acct);

	do {
		struct tk_xml_node *doc = NULL;
		const struct tk_xml_node *b;
		const char *next;
		char *enc = *token ? tk_uri_encode(token, false) : NULL;
		if (*token && !enc) {
			list_why = "out of memory";
			break;
		}
		snprintf(path, sizeof(path), "/?max-buckets=1000%s%s", enc ? "&continuation-token=" : "",
			 enc ? enc : "");
		free(enc);
		if (s3_get(aws, ctx, region, NULL, path, "ListBuckets", NULL, &doc, why, sizeof(why)) != S3_OK) {
			list_why = why;
			break;
		}
		if (strcmp(doc->name, "ListAllMyBucketsResult") != 0) {
			snprintf(why, sizeof(why), "s3 ListBuckets (%s): the answer is not a ListAllMyBucketsResult", region);
			list_why = why;
			tk_xml_free(doc);
			break;
		}
		for (b = tk_xml_find(doc, "Buckets/Bucket"); b; b = tk_xml_next_same(b)) {
			const char *name = tk_xml_text(b, "Name");
			cJSON *rec;
			if (n >= S3_MAX_BUCKETS) {
				more = true;
				break;
			}
			n++;
			rec = cJSON_CreateObject();
			if (!bucket_ok(name)) {
				char *esc = tk_escape_bytes(name ? name : "", name ? strlen(name) : 0, 80);
				snprintf(why, sizeof(why), "s3 ListBuckets (%s): bucket name %s is not a valid S3 bucket name",
					 region, esc ? esc : "?");
				free(esc);
				cJSON_AddStringToObject(rec, "error", why);
				for (size_t i = 0; i < SUM_N; i++)
					sum_unobs(&sum[i], "?", why);
			} else {
				cJSON_AddStringToObject(rec, "name", name);
				s3_bucket(aws, ctx, region, b, name, &acct, rec, sum);
			}
			cJSON_AddItemToArray(list, rec);
		}
		next = tk_xml_text(doc, "ContinuationToken");
		if (next && *next && strlen(next) < sizeof(token) && !more) {
			snprintf(token, sizeof(token), "%s", next);
		} else {
			if (next && *next)
				more = true;
			token[0] = '\0';
		}
		tk_xml_free(doc);
		if (*token && ++pages >= S3_MAX_PAGES) {
			more = true;
			break;
		}
	} while (*token && !tk_run_cancelled(ctx));

	if (more) {
		snprintf(why, sizeof(why), "more than %d buckets (or %d ListBuckets pages): the rest was not examined",
			 S3_MAX_BUCKETS, S3_MAX_PAGES);
		list_why = why;
	} else if (!list_why && tk_run_cancelled(ctx)) {
		list_why = "the scan was cancelled";
	}
	if (list_why) {
		cJSON_AddStringToObject(o, "list_buckets_error", list_why);
		cloud_unobs(o, "buckets", list_why);
		for (size_t i = 0; i < SUM_N; i++)
			if (!sum[i].why)
				sum_unobs(&sum[i], "*", list_why);
	} else {
		cJSON_AddNumberToObject(o, "buckets", n);
	}
	cJSON_AddItemToObject(o, "bucket_details", list);
	for (size_t i = 0; i < SUM_N; i++)
		sum_emit(o, &sum[i]);
	tk_emit(ctx, o);
}
