/* checklist.c - checklists as data: rules/checklists/<id>.json */
#include "rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char **tk_checklist_ids(const struct tk_dataset *ds)
{
	static const char prefix[] = "checklists/";
	const size_t plen = sizeof(prefix) - 1;
	char **ids = calloc(ds->n + 1, sizeof(*ids));
	size_t i, k = 0;
	if (!ids)
		return NULL;
	for (i = 0; i < ds->n; i++) {
		const char *name = ds->files[i].name;
		size_t l = strlen(name);
		if (strncmp(name, prefix, plen) != 0 || l <= plen + 5)
			continue;
		if (!(ids[k++] = strndup(name + plen, l - plen - 5))) {
			tk_strv_free(ids);
			return NULL;
		}
	}
	return ids;
}

void tk_item_no_str(const cJSON *no, char *buf, size_t size)
{
	if (cJSON_IsNumber(no))
		snprintf(buf, size, "%d", no->valueint);
	else if (cJSON_IsString(no))
		snprintf(buf, size, "%s", no->valuestring);
	else
		snprintf(buf, size, "?");
}

bool tk_item_no_equal(const cJSON *a, const cJSON *b)
{
	if (cJSON_IsNumber(a) && cJSON_IsNumber(b))
		return a->valuedouble == b->valuedouble;
	if (cJSON_IsString(a) && cJSON_IsString(b))
		return strcmp(a->valuestring, b->valuestring) == 0;
	return false;
}

bool tk_item_no_is(const cJSON *n, const char *no)
{
	if (cJSON_IsNumber(n)) {
		long long v = 0;
		const char *p = no;
		if (!*p)
			return false;
		for (; *p; p++) {
			if (*p < '0' || *p > '9' || v > 100000000)
				return false;
			v = v * 10 + (*p - '0');
		}
		return (double)v == n->valuedouble;
	}
	return cJSON_IsString(n) && strcmp(n->valuestring, no) == 0;
}

bool tk_finding_maps(const cJSON *f, const char *checklist, const char *no)
{
	const cJSON *n;
	cJSON_ArrayForEach(n, cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(f, "items"), checklist))
	{
		if (tk_item_no_is(n, no))
			return true;
	}
	return false;
}

const char *tk_report_checklist_id(const cJSON *report)
{
	return tk_json_str(cJSON_GetObjectItemCaseSensitive(report, "checklist"), "id");
}

const cJSON *tk_checklist_item(const struct tk_checklist *cl, const cJSON *no)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(cl->doc, "items"))
	{
		if (tk_item_no_equal(cJSON_GetObjectItemCaseSensitive(it, "no"), no))
			return it;
	}
	return NULL;
}

/*
 * A checklist may carry its own mapping, {"mapping": {"RULE-ID": [item numbers]}}, so that a new
 * checklist (a bank's own, a revision) is one data file. Here: its shape and that every item
 * exists; tk_ruleset_load checks the rule ids.
 */
static int check_mapping(const struct tk_checklist *cl, const char *name, struct tk_err *err)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(cl->doc, "mapping"), *r, *no;
	if (!m)
		return TK_OK;
	if (!cJSON_IsObject(m))
		return tk_seterr(err, TK_ERR_CONFIG, "%s: mapping: expected {rule id: [item numbers]}", name);
	cJSON_ArrayForEach(r, m)
	{
		if (!cJSON_IsArray(r) || cJSON_GetArraySize(r) == 0)
			return tk_seterr(err, TK_ERR_CONFIG, "%s: mapping.%s: expected a non-empty array of item numbers",
					 name, r->string);
		cJSON_ArrayForEach(no, r) if (!tk_checklist_item(cl, no))
		{
			char buf[64];
			tk_item_no_str(no, buf, sizeof(buf));
			return tk_seterr(err, TK_ERR_CONFIG, "%s: mapping.%s: no item %s in this checklist", name,
					 r->string, buf);
		}
	}
	return TK_OK;
}

bool tk_checklist_has_mapping(const struct tk_checklist *cl)
{
	return cl && cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(cl->doc, "mapping"));
}

int tk_checklist_load(const struct tk_dataset *ds, const char *id, struct tk_checklist **out,
		      struct tk_err *err)
{
	static const char *const req[] = {"chapter", "goal", "party", NULL};
	struct tk_checklist *cl = NULL;
	const struct tk_datafile *f;
	const cJSON *items, *it;
	char name[300];
	unsigned char h[32];
	int rc = TK_OK, i = 0;
	*out = NULL;
	snprintf(name, sizeof(name), "checklists/%s.json", id);
	if (strchr(id, '/') || !(f = tk_dataset_get(ds, name)))
		return tk_seterr(err, TK_ERR_NOTFOUND, "unknown checklist \"%s\" (see `tenken checklist list`)", id);
	if (!(cl = calloc(1, sizeof(*cl))) || !(cl->id = strdup(id))) {
		rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		goto out;
	}
	cl->doc = cJSON_ParseWithLength((const char *)f->data, f->len);
	if (!cl->doc) {
		rc = tk_seterr(err, TK_ERR_PARSE, "%s: malformed JSON near byte %ld", name,
			       (long)(cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() - (const char *)f->data : 0));
		goto out;
	}
	{
		/* The title is printed by `checklist list/show` and every report: ja required, en optional. */
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(cl->doc, "title");
		const cJSON *ja = cJSON_GetObjectItemCaseSensitive(t, "ja"), *en = cJSON_GetObjectItemCaseSensitive(t, "en");
		if (!cJSON_IsObject(t) || !cJSON_IsString(ja) || !*ja->valuestring || (en && !cJSON_IsString(en))) {
			rc = tk_seterr(err, TK_ERR_CONFIG, "%s: title: expected {\"ja\": \"...\", \"en\": \"...\"}", name);
			goto out;
		}
	}
	items = cJSON_GetObjectItemCaseSensitive(cl->doc, "items");
	if (!cJSON_IsArray(items) || cJSON_GetArraySize(items) == 0) {
		rc = tk_seterr(err, TK_ERR_CONFIG, "%s: items: expected a non-empty array", name);
		goto out;
	}
	cJSON_ArrayForEach(it, items)
	{
		const cJSON *no = cJSON_GetObjectItemCaseSensitive(it, "no");
		size_t k;
		if (!cJSON_IsNumber(no) || no->valueint != i + 1) {
			rc = tk_seterr(err, TK_ERR_CONFIG, "%s: items[%d].no: expected %d", name, i, i + 1);
			goto out;
		}
		for (k = 0; req[k]; k++) {
			const cJSON *s = cJSON_GetObjectItemCaseSensitive(it, req[k]);
			if (!cJSON_IsString(s) || !*s->valuestring) {
				rc = tk_seterr(err, TK_ERR_CONFIG, "%s: items[%d].%s: expected a non-empty string",
					       name, i, req[k]);
				goto out;
			}
		}
		i++;
	}
	if ((rc = check_mapping(cl, name, err)))
		goto out;
	tk_sha256(f->data, f->len, h);
	tk_hex(h, 32, cl->sha256);
	*out = cl;
	cl = NULL;
out:
	tk_checklist_free(cl);
	return rc;
}

void tk_checklist_free(struct tk_checklist *cl)
{
	if (!cl)
		return;
	cJSON_Delete(cl->doc);
	free(cl->id);
	free(cl);
}
