/*
 * aws_rds.c - AWS posture check: RDS DB instances and manual snapshots, AWS
 * Backup plans (FISC 26, 30, 31; rules/rules/cloud_database.json).
 *
 * Observation "cloud_database" per account (target "aws:NAME"), in the
 * account's region:
 *   db_instances; db_instances_public, db_instances_unencrypted,
 *   db_instances_backup_off (BackupRetentionPeriod 0) with *_names;
 *   min_backup_retention_days and db_backup_retention ("id: N days"), read
 *   replicas (db_read_replicas) left out of both backup fields;
 *   db_snapshots (manual), db_snapshots_public (restore shared with "all")
 *   with db_snapshots_public_names; backup_plans with backup_plan_names.
 * Calls: rds:DescribeDBInstances, rds:DescribeDBSnapshots,
 * rds:DescribeDBSnapshotAttributes (Query, 2014-10-31, paged with Marker),
 * backup:ListBackupPlans (REST-JSON GET /backup/plans/, paged with nextToken).
 * A failed call (denied, throttled, 5xx, malformed, timeout) marks the fields
 * it feeds unobserved (cloud_unobs): their rules become errors, never pass.
 * Lists are bounded (RDS_MAX_NAMES); so are pages and snapshots read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "awsxml.h"
#include "cloudaws.h"

#define RDS_VERSION "2014-10-31"
#define RDS_MAX_NAMES 100
#define RDS_MAX_PAGES 50
#define RDS_MAX_SNAPSHOTS 500 /* attributes read for at most this many manual snapshots */
#define RDS_MAX_TOKEN 2000

static void add_name(cJSON *arr, const char *s)
{
	char *e;
	if (cJSON_GetArraySize(arr) >= RDS_MAX_NAMES)
		return;
	e = tk_escape_bytes(s ? s : "", s ? strlen(s) : 0, 256);
	cJSON_AddItemToArray(arr, cJSON_CreateString(e ? e : ""));
	free(e);
}

/* The page's Marker encoded for the next request into *out (NULL: last page). */
struct rds_tally {
	long n, pub, unenc, off, replicas;
	long pub_unknown, enc_unknown, ret_unknown;
	long long min_ret; /* -1: none seen */
	cJSON *pubn, *unencn, *offn, *ret;
};

static void tally_instance(struct rds_tally *t, const struct tk_xml_node *m)
{
	const char *id = tk_xml_text(m, "DBInstanceIdentifier"), *pa = tk_xml_text(m, "PubliclyAccessible");
	const char *se = tk_xml_text(m, "StorageEncrypted"), *br = tk_xml_text(m, "BackupRetentionPeriod");
	long long ret;
	char line[400];
	char *e;
	t->n++;
	if (!id)
		id = "(no DBInstanceIdentifier)";
	if (pa && strcmp(pa, "true") == 0) {
		t->pub++;
		add_name(t->pubn, id);
	} else if (!pa || strcmp(pa, "false") != 0) {
		t->pub_unknown++;
	}
	if (se && strcmp(se, "false") == 0) {
		t->unenc++;
		add_name(t->unencn, id);
	} else if (!se || strcmp(se, "true") != 0) {
		t->enc_unknown++;
	}
	/* a read replica is restored from its source's backups: AWS keeps its retention 0 by default */
	if (tk_xml_text(m, "ReadReplicaSourceDBInstanceIdentifier") ||
	    tk_xml_text(m, "ReadReplicaSourceDBClusterIdentifier")) {
		t->replicas++;
		return;
	}
	if (!br || tk_parse_ll(br, 0, 100000, &ret)) {
		t->ret_unknown++;
		return;
	}
	if (ret == 0) {
		t->off++;
		add_name(t->offn, id);
	}
	if (t->min_ret < 0 || ret < t->min_ret)
		t->min_ret = ret;
	if (cJSON_GetArraySize(t->ret) < RDS_MAX_NAMES) {
		e = tk_escape_bytes(id, strlen(id), 256);
		snprintf(line, sizeof(line), "%s: %lld days", e ? e : "", ret);
		free(e);
		cJSON_AddItemToArray(t->ret, cJSON_CreateString(line));
	}
}

/* DescribeDBInstances over all pages into t. */
static int rds_instances(struct tk_aws_account *aws, struct tk_runctx *ctx, struct rds_tally *t, struct tk_err *err)
{
	char *marker = NULL;
	int pages = 0, rc = TK_OK;
	for (;;) {
		struct tk_xml_node *doc = NULL;
		const struct tk_xml_node *res, *m;
		char params[RDS_MAX_TOKEN * 3 + 64];
		snprintf(params, sizeof(params), "&MaxRecords=100%s%s", marker ? "&Marker=" : "", marker ? marker : "");
		free(marker);
		marker = NULL;
		if ((rc = tk_aws_query(aws, "rds", RDS_VERSION, "DescribeDBInstances", params,
				       tk_run_remaining_ms(ctx, 60000), &doc, err)))
			break;
		pages++;
		if (!(res = tk_xml_find(doc, "DescribeDBInstancesResult"))) {
			rc = tk_seterr(err, TK_ERR_PROTOCOL, "rds DescribeDBInstances: no DescribeDBInstancesResult");
		} else {
			for (m = tk_xml_find(res, "DBInstances/DBInstance"); m; m = tk_xml_next_same(m))
				tally_instance(t, m);
			rc = cloud_next_page(tk_xml_text(res, "Marker"), RDS_MAX_TOKEN, pages, RDS_MAX_PAGES, true,
					     "rds DescribeDBInstances", &marker, err);
		}
		tk_xml_free(doc);
		if (rc || !marker)
			break;
	}
	free(marker);
	return rc;
}

/* Is snapshot `id` restorable by everyone (attribute restore has the value "all")? 1 yes, 0 no. */
static int rds_snapshot_public(struct tk_aws_account *aws, struct tk_runctx *ctx, const char *id, int *pub,
			       struct tk_err *err)
{
	struct tk_xml_node *doc = NULL;
	const struct tk_xml_node *res, *a, *v;
	char params[700];
	char *enc = tk_uri_encode(id, false);
	int rc;
	*pub = 0;
	if (!enc)
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	snprintf(params, sizeof(params), "&DBSnapshotIdentifier=%s", enc);
	free(enc);
	if ((rc = tk_aws_query(aws, "rds", RDS_VERSION, "DescribeDBSnapshotAttributes", params,
			       tk_run_remaining_ms(ctx, 60000), &doc, err)))
		return rc;
	res = tk_xml_find(doc, "DescribeDBSnapshotAttributesResult/DBSnapshotAttributesResult");
	if (!res) {
		tk_xml_free(doc);
		return tk_seterr(err, TK_ERR_PROTOCOL, "rds DescribeDBSnapshotAttributes: no DBSnapshotAttributesResult");
	}
	for (a = tk_xml_find(res, "DBSnapshotAttributes/DBSnapshotAttribute"); a; a = tk_xml_next_same(a)) {
		const char *nm = tk_xml_text(a, "AttributeName");
		if (!nm || strcmp(nm, "restore") != 0)
			continue;
		for (v = tk_xml_find(a, "AttributeValues/AttributeValue"); v; v = tk_xml_next_same(v))
			if (v->text && strcmp(v->text, "all") == 0)
				*pub = 1;
	}
	tk_xml_free(doc);
	return TK_OK;
}

/*
 * Manual DB snapshots (DescribeDBSnapshots SnapshotType=manual) and, for each
 * (at most RDS_MAX_SNAPSHOTS), whether it is shared publicly. *checked counts
 * the snapshots whose attributes were read.
 */
static int rds_snapshots(struct tk_aws_account *aws, struct tk_runctx *ctx, long *n, long *npub, long *checked,
			 cJSON *names, struct tk_err *err)
{
	char *marker = NULL;
	int pages = 0, rc = TK_OK;
	*n = *npub = *checked = 0;
	for (;;) {
		struct tk_xml_node *doc = NULL;
		const struct tk_xml_node *res, *m;
		char params[RDS_MAX_TOKEN * 3 + 64];
		snprintf(params, sizeof(params), "&SnapshotType=manual&MaxRecords=100%s%s", marker ? "&Marker=" : "",
			 marker ? marker : "");
		free(marker);
		marker = NULL;
		if ((rc = tk_aws_query(aws, "rds", RDS_VERSION, "DescribeDBSnapshots", params,
				       tk_run_remaining_ms(ctx, 60000), &doc, err)))
			break;
		pages++;
		if (!(res = tk_xml_find(doc, "DescribeDBSnapshotsResult"))) {
			rc = tk_seterr(err, TK_ERR_PROTOCOL, "rds DescribeDBSnapshots: no DescribeDBSnapshotsResult");
		} else {
			for (m = tk_xml_find(res, "DBSnapshots/DBSnapshot"); m && !rc; m = tk_xml_next_same(m)) {
				const char *id = tk_xml_text(m, "DBSnapshotIdentifier");
				int pub = 0;
				(*n)++;
				if (!id || !*id || strlen(id) > 255) {
					rc = tk_seterr(err, TK_ERR_PROTOCOL,
						       "rds DescribeDBSnapshots: a snapshot without a usable DBSnapshotIdentifier");
				} else if (*checked >= RDS_MAX_SNAPSHOTS || tk_run_cancelled(ctx)) {
					continue; /* counted, not checked: the caller reports it */
				} else if (!(rc = rds_snapshot_public(aws, ctx, id, &pub, err))) {
					(*checked)++;
					if (pub) {
						(*npub)++;
						add_name(names, id);
					}
				} else if (rc == TK_ERR_NOTFOUND && strstr(err->msg, "DBSnapshotNotFound")) {
					(*n)--; /* deleted since it was listed */
					rc = TK_OK;
					memset(err, 0, sizeof(*err));
				}
			}
			if (!rc)
				rc = cloud_next_page(tk_xml_text(res, "Marker"), RDS_MAX_TOKEN, pages, RDS_MAX_PAGES,
						     true, "rds DescribeDBSnapshots", &marker, err);
		}
		tk_xml_free(doc);
		if (rc || !marker)
			break;
	}
	free(marker);
	return rc;
}

/* AWS Backup plans in the region (ListBackupPlans over nextToken pages). */
static int backup_plans(struct tk_aws_account *aws, struct tk_runctx *ctx, const char *region, long *n,
			cJSON *names, struct tk_err *err)
{
	char *token = NULL;
	int pages = 0, rc = TK_OK;
	*n = 0;
	for (;;) {
		char path[RDS_MAX_TOKEN * 3 + 64];
		cJSON *doc = NULL;
		const cJSON *list, *p, *nt;
		snprintf(path, sizeof(path), "/backup/plans/?maxResults=100%s%s", token ? "&nextToken=" : "",
			 token ? token : "");
		free(token);
		token = NULL;
		if ((rc = cloud_aws_json(aws, ctx, region, "backup", "GET", path, NULL, "ListBackupPlans", NULL, &doc,
					 err)))
			break;
		pages++;
		list = cJSON_GetObjectItemCaseSensitive(doc, "BackupPlansList");
		if (list && !cJSON_IsArray(list)) {
			rc = tk_seterr(err, TK_ERR_PROTOCOL, "backup ListBackupPlans (%s): BackupPlansList is not an array",
				       region);
		} else {
			cJSON_ArrayForEach(p, list)
			{
				const cJSON *nm = cJSON_GetObjectItemCaseSensitive(p, "BackupPlanName");
				(*n)++;
				add_name(names, cJSON_IsString(nm) ? nm->valuestring : "(no BackupPlanName)");
			}
			nt = cJSON_GetObjectItemCaseSensitive(doc, "NextToken");
			rc = cloud_next_page(cJSON_IsString(nt) ? nt->valuestring : NULL, RDS_MAX_TOKEN, pages,
					     RDS_MAX_PAGES, true, "backup ListBackupPlans", &token, err);
		}
		cJSON_Delete(doc);
		if (rc || !token)
			break;
	}
	free(token);
	return rc;
}

static void instances_obs(cJSON *o, struct rds_tally *t, int rc, const char *msg)
{
	static const char *const fields[] = {"db_instances", "db_instances_public", "db_instances_unencrypted",
					     "db_instances_backup_off", "min_backup_retention_days", NULL};
	char why[200];
	if (rc) {
		cJSON_AddStringToObject(o, "rds_error", msg);
		for (size_t i = 0; fields[i]; i++)
			cloud_unobs(o, fields[i], msg);
		return;
	}
	cJSON_AddNumberToObject(o, "db_instances", (double)t->n);
	cJSON_AddNumberToObject(o, "db_instances_public", (double)t->pub);
	cJSON_AddItemToObject(o, "db_instances_public_names", t->pubn);
	cJSON_AddNumberToObject(o, "db_instances_unencrypted", (double)t->unenc);
	cJSON_AddItemToObject(o, "db_instances_unencrypted_names", t->unencn);
	cJSON_AddNumberToObject(o, "db_instances_backup_off", (double)t->off);
	cJSON_AddItemToObject(o, "db_instances_backup_off_names", t->offn);
	cJSON_AddItemToObject(o, "db_backup_retention", t->ret);
	cJSON_AddNumberToObject(o, "db_read_replicas", (double)t->replicas);
	t->pubn = t->unencn = t->offn = t->ret = NULL;
	if (t->min_ret >= 0)
		cJSON_AddNumberToObject(o, "min_backup_retention_days", (double)t->min_ret);
	/* an instance whose answer lacks a field is unknown for that field: never counted as good */
	if (t->pub == 0 && t->pub_unknown) {
		snprintf(why, sizeof(why), "rds DescribeDBInstances: %ld instance(s) without PubliclyAccessible true/false",
			 t->pub_unknown);
		cloud_unobs(o, "db_instances_public", why);
	}
	if (t->unenc == 0 && t->enc_unknown) {
		snprintf(why, sizeof(why), "rds DescribeDBInstances: %ld instance(s) without StorageEncrypted true/false",
			 t->enc_unknown);
		cloud_unobs(o, "db_instances_unencrypted", why);
	}
	if (t->ret_unknown) {
		snprintf(why, sizeof(why), "rds DescribeDBInstances: %ld instance(s) without a BackupRetentionPeriod",
			 t->ret_unknown);
		cloud_unobs(o, "min_backup_retention_days", why);
		if (t->off == 0)
			cloud_unobs(o, "db_instances_backup_off", why);
	}
}

void cloud_aws_rds(struct tk_aws_account *aws, struct tk_runctx *ctx, const char *target, const char *region)
{
	struct tk_err err = {0};
	struct rds_tally t = {0};
	cJSON *o = tk_obs_new(ctx, "cloud_database", target);
	cJSON *snapn = cJSON_CreateArray(), *plann = cJSON_CreateArray();
	long nsnap = 0, npub = 0, checked = 0, nplans = 0;
	int rc;
	t.min_ret = -1;
	t.pubn = cJSON_CreateArray();
	t.unencn = cJSON_CreateArray();
	t.offn = cJSON_CreateArray();
	t.ret = cJSON_CreateArray();
	cJSON_AddStringToObject(o, "provider", "aws");
	cJSON_AddStringToObject(o, "evidence_source", "api");
	cJSON_AddStringToObject(o, "region", region);

	rc = rds_instances(aws, ctx, &t, &err);
	instances_obs(o, &t, rc, err.msg);

	memset(&err, 0, sizeof(err));
	rc = rds_snapshots(aws, ctx, &nsnap, &npub, &checked, snapn, &err);
	if (rc && npub == 0) {
		cJSON_AddStringToObject(o, "snapshot_error", err.msg);
		cloud_unobs(o, "db_snapshots", err.msg);
		cloud_unobs(o, "db_snapshots_public", err.msg);
	} else {
		if (rc)
			cJSON_AddStringToObject(o, "snapshot_error", err.msg);
		cJSON_AddNumberToObject(o, "db_snapshots", (double)nsnap);
		cJSON_AddNumberToObject(o, "db_snapshots_checked", (double)checked);
		cJSON_AddNumberToObject(o, "db_snapshots_public", (double)npub);
		cJSON_AddItemToObject(o, "db_snapshots_public_names", snapn);
		snapn = NULL;
		if (npub == 0 && checked < nsnap) {
			char why[200];
			snprintf(why, sizeof(why), "rds: %ld of %ld manual snapshot(s) not checked (at most %d are)",
				 nsnap - checked, nsnap, RDS_MAX_SNAPSHOTS);
			cloud_unobs(o, "db_snapshots_public", why);
		}
	}

	memset(&err, 0, sizeof(err));
	if ((rc = backup_plans(aws, ctx, region, &nplans, plann, &err))) {
		cJSON_AddStringToObject(o, "backup_error", err.msg);
		cloud_unobs(o, "backup_plans", err.msg);
	} else {
		cJSON_AddNumberToObject(o, "backup_plans", (double)nplans);
		cJSON_AddItemToObject(o, "backup_plan_names", plann);
		plann = NULL;
	}
	tk_emit(ctx, o);
	cJSON_Delete(snapn);
	cJSON_Delete(plann);
	cJSON_Delete(t.pubn);
	cJSON_Delete(t.unencn);
	cJSON_Delete(t.offn);
	cJSON_Delete(t.ret);
}
