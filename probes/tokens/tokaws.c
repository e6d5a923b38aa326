/*
 * tokaws.c - encryption at rest of a partner's AWS data stores, through the
 * cloud probe's AWS client. Read-only API calls: rds DescribeDBInstances,
 * dynamodb ListTables/DescribeTable, s3 ListBuckets/GetBucketEncryption,
 * kms ListKeys/DescribeKey/GetKeyRotationStatus.
 */
#include "tokaws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "awsxml.h"

#define AWS_MAX_BODY (8u << 20)
#define AWS_MAX_ITEMS 1000
#define AWS_MAX_PAGES 50

int tk_tokaws_configure(const struct tk_cfgctx *cc, long long idx, const char *ep, struct tk_aws_account **out,
			struct tk_err *err)
{
	char ap[600];
	tk_path_key(ap, sizeof(ap), ep, "account");
	return tk_aws_cloud_account(cc, idx, ap, out, err); /* the cloud probe's declared interface (aws.h) */
}

struct aws_run {
	struct tk_aws_account *a;
	struct tk_runctx *ctx;
	cJSON *errors;
	long long unencrypted, rotation_off;
	int failed, tried;
	struct tk_err first;
};

static void svc_error(struct aws_run *r, const char *svc, const struct tk_err *e)
{
	char line[1200];
	snprintf(line, sizeof(line), "%s: %s", svc, e->msg);
	cJSON_AddItemToArray(r->errors, cJSON_CreateString(line));
	if (!r->first.rc)
		r->first = *e;
}

static int tmo(struct aws_run *r)
{
	int ms = tk_run_remaining_ms(r->ctx, 60000);
	return ms > 0 ? ms : 1;
}

/* A JSON-protocol call (DynamoDB, KMS): 200 with a JSON object, else an error. */
static int json_call(struct aws_run *r, const char *svc, const char *target, const char *body, cJSON **out,
		     struct tk_err *err)
{
	struct tk_buf resp;
	long st = 0;
	int rc;
	const char *ct = strcmp(svc, "dynamodb") == 0 ? "application/x-amz-json-1.0" : "application/x-amz-json-1.1";
	*out = NULL;
	tk_buf_init(&resp, AWS_MAX_BODY);
	rc = tk_aws_request(r->a, svc, "POST", "/", ct, target, body, strlen(body), tmo(r), &st, &resp, err);
	if (rc == TK_OK && st != 200) {
		char msg[600], code[128];
		tk_aws_error_describe(st, resp.data, resp.len, msg, sizeof(msg), code, sizeof(code));
		rc = tk_seterr(err, st == 401 || st == 403 ? TK_ERR_AUTH : TK_ERR_PROTOCOL, "%s %s: %s", svc, target,
			       msg);
	} else if (rc == TK_OK && !(*out = cJSON_ParseWithLength(resp.data ? resp.data : "", resp.len))) {
		rc = tk_seterr(err, TK_ERR_PROTOCOL, "%s %s: response is not JSON", svc, target);
	}
	tk_buf_free(&resp);
	return rc;
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void run_rds(struct aws_run *r, cJSON *obs)
{
	cJSON *arr = cJSON_AddArrayToObject(obs, "rds_instances");
	char marker[1024] = "";
	int page;
	r->tried++;
	for (page = 0; page < AWS_MAX_PAGES; page++) {
		struct tk_xml_node *doc = NULL;
		const struct tk_xml_node *m;
		struct tk_err e = {0};
		char params[1200] = "";
		const char *next;
		if (marker[0]) {
			char *enc = tk_uri_encode(marker, false);
			snprintf(params, sizeof(params), "&Marker=%s", enc ? enc : "");
			free(enc);
		}
		if (tk_aws_query(r->a, "rds", "2014-10-31", "DescribeDBInstances", params, tmo(r), &doc, &e)) {
			svc_error(r, "rds", &e);
			r->failed++;
			return;
		}
		for (m = tk_xml_find(doc, "DescribeDBInstancesResult/DBInstances/DBInstance");
		     m && cJSON_GetArraySize(arr) < AWS_MAX_ITEMS; m = tk_xml_next_same(m)) {
			const char *id = tk_xml_text(m, "DBInstanceIdentifier"),
				   *enc = tk_xml_text(m, "StorageEncrypted");
			bool on = enc && strcmp(enc, "true") == 0;
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "id", id ? id : "?");
			cJSON_AddBoolToObject(o, "storage_encrypted", on);
			if (tk_xml_text(m, "Engine"))
				cJSON_AddStringToObject(o, "engine", tk_xml_text(m, "Engine"));
			cJSON_AddItemToArray(arr, o);
			r->unencrypted += !on;
		}
		next = tk_xml_text(doc, "DescribeDBInstancesResult/Marker");
		if (!next || !*next || tk_strlcpy(marker, next, sizeof(marker))) {
			tk_xml_free(doc);
			break;
		}
		tk_xml_free(doc);
	}
}

static void run_dynamodb(struct aws_run *r, cJSON *obs)
{
	cJSON *arr = cJSON_AddArrayToObject(obs, "dynamodb_tables");
	char start[1200] = "";
	int page;
	r->tried++;
	for (page = 0; page < AWS_MAX_PAGES; page++) {
		cJSON *lt = NULL, *names, *n, *req = cJSON_CreateObject();
		struct tk_err e = {0};
		char *body;
		const char *last;
		if (start[0])
			cJSON_AddStringToObject(req, "ExclusiveStartTableName", start);
		body = cJSON_PrintUnformatted(req);
		cJSON_Delete(req);
		if (json_call(r, "dynamodb", "DynamoDB_20120810.ListTables", body ? body : "{}", &lt, &e)) {
			free(body);
			svc_error(r, "dynamodb", &e);
			r->failed++;
			return;
		}
		free(body);
		names = cJSON_GetObjectItemCaseSensitive(lt, "TableNames");
		cJSON_ArrayForEach(n, names)
		{
			cJSON *dt = NULL, *o, *dreq;
			const cJSON *sse;
			char *db;
			const char *status, *type;
			bool on;
			if (!cJSON_IsString(n) || cJSON_GetArraySize(arr) >= AWS_MAX_ITEMS || tk_run_cancelled(r->ctx))
				continue;
			dreq = cJSON_CreateObject();
			cJSON_AddStringToObject(dreq, "TableName", n->valuestring);
			db = cJSON_PrintUnformatted(dreq);
			cJSON_Delete(dreq);
			o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "name", n->valuestring);
			if (json_call(r, "dynamodb", "DynamoDB_20120810.DescribeTable", db ? db : "{}", &dt, &e)) {
				cJSON_AddStringToObject(o, "error", e.msg);
				cJSON_AddItemToArray(arr, o);
				free(db);
				continue;
			}
			free(db);
			sse = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(dt, "Table"),
							       "SSEDescription");
			status = jstr(sse, "Status");
			type = jstr(sse, "SSEType");
			/* No SSEDescription: encrypted with an AWS owned key (DynamoDB encrypts every table). */
			on = !sse || (status && (strcmp(status, "ENABLED") == 0 || strcmp(status, "ENABLING") == 0 ||
						 strcmp(status, "UPDATING") == 0));
			cJSON_AddStringToObject(o, "sse", !sse ? "AWS_OWNED_KEY" : type ? type : status ? status : "?");
			cJSON_AddBoolToObject(o, "encrypted", on);
			cJSON_AddItemToArray(arr, o);
			r->unencrypted += !on;
			cJSON_Delete(dt);
		}
		last = jstr(lt, "LastEvaluatedTableName");
		if (!last || tk_strlcpy(start, last, sizeof(start))) {
			cJSON_Delete(lt);
			break;
		}
		cJSON_Delete(lt);
	}
}

static void run_s3(struct aws_run *r, cJSON *obs)
{
	cJSON *arr = cJSON_AddArrayToObject(obs, "s3_buckets");
	struct tk_buf resp;
	struct tk_xml_node *doc = NULL;
	const struct tk_xml_node *b;
	struct tk_err e = {0};
	long st = 0;
	r->tried++;
	tk_buf_init(&resp, AWS_MAX_BODY);
	if (tk_aws_request(r->a, "s3", "GET", "/", NULL, NULL, NULL, 0, tmo(r), &st, &resp, &e) || st != 200 ||
	    tk_xml_parse(resp.data ? resp.data : "", resp.len, &doc, &e)) {
		if (!e.rc) {
			char msg[600], code[128];
			tk_aws_error_describe(st, resp.data, resp.len, msg, sizeof(msg), code, sizeof(code));
			tk_seterr(&e, st == 403 ? TK_ERR_AUTH : TK_ERR_PROTOCOL, "s3 ListBuckets: %s", msg);
		}
		svc_error(r, "s3", &e);
		r->failed++;
		tk_buf_free(&resp);
		return;
	}
	for (b = tk_xml_find(doc, "Buckets/Bucket");
	     b && cJSON_GetArraySize(arr) < AWS_MAX_ITEMS && !tk_run_cancelled(r->ctx); b = tk_xml_next_same(b)) {
		const char *name = tk_xml_text(b, "Name");
		char *enc, path[1200], msg[600], code[128];
		struct tk_xml_node *ed = NULL;
		cJSON *o;
		if (!name || !*name)
			continue;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", name);
		enc = tk_uri_encode(name, false);
		snprintf(path, sizeof(path), "/%s?encryption=", enc ? enc : "");
		free(enc);
		tk_buf_reset(&resp);
		if (tk_aws_request(r->a, "s3", "GET", path, NULL, NULL, NULL, 0, tmo(r), &st, &resp, &e)) {
			cJSON_AddStringToObject(o, "error", e.msg);
		} else if (st == 200 && tk_xml_parse(resp.data ? resp.data : "", resp.len, &ed, &e) == TK_OK) {
			const char *alg = tk_xml_text(ed, "Rule/ApplyServerSideEncryptionByDefault/SSEAlgorithm");
			cJSON_AddBoolToObject(o, "default_encryption", alg != NULL);
			if (alg)
				cJSON_AddStringToObject(o, "algorithm", alg);
			r->unencrypted += alg == NULL;
			tk_xml_free(ed);
		} else {
			tk_aws_error_describe(st, resp.data, resp.len, msg, sizeof(msg), code, sizeof(code));
			if (strcmp(code, "ServerSideEncryptionConfigurationNotFoundError") == 0) {
				cJSON_AddBoolToObject(o, "default_encryption", 0);
				r->unencrypted++;
			} else {
				cJSON_AddStringToObject(o, "error", msg);
			}
		}
		cJSON_AddItemToArray(arr, o);
	}
	tk_xml_free(doc);
	tk_buf_free(&resp);
}

static void run_kms(struct aws_run *r, cJSON *obs)
{
	cJSON *arr = cJSON_AddArrayToObject(obs, "kms_keys");
	char marker[1200] = "";
	int page;
	r->tried++;
	for (page = 0; page < AWS_MAX_PAGES; page++) {
		cJSON *lk = NULL, *k, *req = cJSON_CreateObject();
		struct tk_err e = {0};
		char *body;
		const char *next;
		if (marker[0])
			cJSON_AddStringToObject(req, "Marker", marker);
		body = cJSON_PrintUnformatted(req);
		cJSON_Delete(req);
		if (json_call(r, "kms", "TrentService.ListKeys", body ? body : "{}", &lk, &e)) {
			free(body);
			svc_error(r, "kms", &e);
			r->failed++;
			return;
		}
		free(body);
		cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(lk, "Keys"))
		{
			const char *id = jstr(k, "KeyId");
			cJSON *dk = NULL, *rs = NULL, *o, *q;
			const cJSON *md, *en;
			char *qb;
			const char *mgr, *spec, *state;
			if (!id || cJSON_GetArraySize(arr) >= AWS_MAX_ITEMS || tk_run_cancelled(r->ctx))
				continue;
			q = cJSON_CreateObject();
			cJSON_AddStringToObject(q, "KeyId", id);
			qb = cJSON_PrintUnformatted(q);
			cJSON_Delete(q);
			if (json_call(r, "kms", "TrentService.DescribeKey", qb ? qb : "{}", &dk, &e)) {
				o = cJSON_CreateObject();
				cJSON_AddStringToObject(o, "key_id", id);
				cJSON_AddStringToObject(o, "error", e.msg);
				cJSON_AddItemToArray(arr, o);
				free(qb);
				continue;
			}
			md = cJSON_GetObjectItemCaseSensitive(dk, "KeyMetadata");
			mgr = jstr(md, "KeyManager");
			spec = jstr(md, "KeySpec");
			state = jstr(md, "KeyState");
			/* rotation applies to enabled, customer-managed, symmetric keys */
			if (!mgr || strcmp(mgr, "CUSTOMER") != 0 || (spec && strcmp(spec, "SYMMETRIC_DEFAULT") != 0) ||
			    (state && strcmp(state, "Enabled") != 0)) {
				cJSON_Delete(dk);
				free(qb);
				continue;
			}
			o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "key_id", id);
			if (json_call(r, "kms", "TrentService.GetKeyRotationStatus", qb, &rs, &e)) {
				cJSON_AddStringToObject(o, "error", e.msg);
			} else {
				en = cJSON_GetObjectItemCaseSensitive(rs, "KeyRotationEnabled");
				cJSON_AddBoolToObject(o, "rotation_enabled", cJSON_IsTrue(en));
				r->rotation_off += !cJSON_IsTrue(en);
			}
			cJSON_AddItemToArray(arr, o);
			cJSON_Delete(dk);
			cJSON_Delete(rs);
			free(qb);
		}
		next = jstr(lk, "NextMarker");
		if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(lk, "Truncated")) || !next ||
		    tk_strlcpy(marker, next, sizeof(marker))) {
			cJSON_Delete(lk);
			break;
		}
		cJSON_Delete(lk);
	}
}

static bool ctx_cancelled(void *arg)
{
	return tk_run_cancelled(arg);
}

int tk_tokaws_run(struct tk_aws_account *a, struct tk_runctx *ctx, cJSON *obs, struct tk_err *err)
{
	struct aws_run r;
	memset(&r, 0, sizeof(r));
	r.a = a;
	r.ctx = ctx;
	r.errors = cJSON_CreateArray();
	tk_aws_account_set_cancel(a, ctx_cancelled, ctx);
	run_rds(&r, obs);
	run_dynamodb(&r, obs);
	run_s3(&r, obs);
	run_kms(&r, obs);
	cJSON_AddNumberToObject(obs, "unencrypted_count", (double)r.unencrypted);
	cJSON_AddNumberToObject(obs, "kms_rotation_off_count", (double)r.rotation_off);
	cJSON_AddItemToObject(obs, "errors", r.errors);
	cJSON_AddBoolToObject(obs, "complete", r.failed == 0 && !tk_run_cancelled(ctx));
	if (r.failed == r.tried) {
		*err = r.first;
		return r.first.rc ? r.first.rc : TK_ERR_NET;
	}
	return TK_OK;
}
