/* ruleset.c - rules as data: rules/rules/ *.json, validated on load. */
#include "rules.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const rule_keys[] = {"id", "probe", "kind", "title", "description", "when", "fail_when",
					"params", "severity", "effect", "items", "remediation", "basis",
					"evidence", "incomplete_when", "incomplete_reason", "covers", NULL};
static const char *const severities[] = {"info", "low", "medium", "high", "critical", NULL};

static bool in_list(const char *s, const char *const *list)
{
	size_t i;
	for (i = 0; list && list[i]; i++)
		if (strcmp(s, list[i]) == 0)
			return true;
	return false;
}

static int check_i18n(const cJSON *rule, const char *key, bool required, const char *where,
		      struct tk_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(rule, key), *s;
	static const char *const langs[] = {"ja", "en"};
	size_t i;
	if (!v)
		return required ? tk_seterr(err, TK_ERR_CONFIG, "%s: %s: missing ({\"ja\": ..., \"en\": ...})",
					    where, key)
				: TK_OK;
	if (!cJSON_IsObject(v))
		return tk_seterr(err, TK_ERR_CONFIG, "%s: %s: expected {\"ja\": ..., \"en\": ...}", where, key);
	for (i = 0; i < 2; i++) {
		s = cJSON_GetObjectItemCaseSensitive(v, langs[i]);
		if (!cJSON_IsString(s) || !*s->valuestring)
			return tk_seterr(err, TK_ERR_CONFIG, "%s: %s.%s: expected a non-empty string", where, key,
					 langs[i]);
	}
	return TK_OK;
}

/* The data set's checklists, loaded once for all the rules of a load (each
 * load parses and hashes the checklist: 80 rules x 2 checklists cost 8 % of a
 * 2,000-package scan's instructions before). */
struct cl_cache {
	char **ids;
	struct tk_checklist **cl;
};

static void cl_cache_free(struct cl_cache *c)
{
	size_t i;
	for (i = 0; c->ids && c->ids[i]; i++)
		tk_checklist_free(c->cl[i]);
	free(c->cl);
	tk_strv_free(c->ids);
	c->ids = NULL;
	c->cl = NULL;
}

static int cl_cache_open(struct cl_cache *c, const struct tk_dataset *ds, struct tk_err *err)
{
	size_t i, n = 0;
	int rc;
	if (c->ids)
		return TK_OK;
	if (!(c->ids = tk_checklist_ids(ds)))
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	while (c->ids[n])
		n++;
	if (!(c->cl = calloc(n + 1, sizeof(*c->cl)))) {
		cl_cache_free(c);
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	}
	for (i = 0; i < n; i++)
		if ((rc = tk_checklist_load(ds, c->ids[i], &c->cl[i], err))) {
			cl_cache_free(c);
			return rc;
		}
	return TK_OK;
}

static int rule_validate(const cJSON *rule, const char *where0, const char *const *probes,
			 const struct tk_dataset *ds, struct cl_cache *cache, struct tk_err *err);

int tk_rule_validate(const cJSON *rule, const char *where0, const char *const *probes,
		     const struct tk_dataset *ds, struct tk_err *err)
{
	struct cl_cache cache = {NULL, NULL};
	int rc = rule_validate(rule, where0, probes, ds, &cache, err);
	cl_cache_free(&cache);
	return rc;
}

static int rule_validate(const cJSON *rule, const char *where0, const char *const *probes,
			 const struct tk_dataset *ds, struct cl_cache *cache, struct tk_err *err)
{
	const cJSON *v, *e, *params;
	char where[512];
	char **ids;
	int rc = TK_OK;
	size_t i;

	if (!cJSON_IsObject(rule))
		return tk_seterr(err, TK_ERR_CONFIG, "%s: a rule must be an object", where0);
	v = cJSON_GetObjectItemCaseSensitive(rule, "id");
	if (!cJSON_IsString(v) || !*v->valuestring)
		return tk_seterr(err, TK_ERR_CONFIG, "%s: id: expected a non-empty string", where0);
	for (i = 0; v->valuestring[i]; i++) {
		char ch = v->valuestring[i];
		if (!(isupper((unsigned char)ch) || isdigit((unsigned char)ch) || ch == '-'))
			return tk_seterr(err, TK_ERR_CONFIG, "%s: id: \"%s\" must use A-Z, 0-9 and '-'", where0,
					 v->valuestring);
	}
	snprintf(where, sizeof(where), "%s (rule %s)", where0, v->valuestring);
	cJSON_ArrayForEach(e, rule) if (!in_list(e->string, rule_keys)) return tk_seterr(
		err, TK_ERR_CONFIG, "%s: %s: unknown key", where, e->string);

	v = cJSON_GetObjectItemCaseSensitive(rule, "probe");
	if (!cJSON_IsString(v))
		return tk_seterr(err, TK_ERR_CONFIG, "%s: probe: expected a string", where);
	if (probes && !in_list(v->valuestring, probes))
		return tk_seterr(err, TK_ERR_CONFIG, "%s: probe: no probe named \"%s\"", where, v->valuestring);
	v = cJSON_GetObjectItemCaseSensitive(rule, "kind");
	if (!cJSON_IsString(v) || !*v->valuestring)
		return tk_seterr(err, TK_ERR_CONFIG, "%s: kind: expected the observation kind (a string)", where);
	if ((rc = check_i18n(rule, "title", true, where, err)) ||
	    (rc = check_i18n(rule, "description", false, where, err)) ||
	    (rc = check_i18n(rule, "remediation", true, where, err)))
		return rc;
	v = cJSON_GetObjectItemCaseSensitive(rule, "severity");
	if (!cJSON_IsString(v) || !in_list(v->valuestring, severities))
		return tk_seterr(err, TK_ERR_CONFIG, "%s: severity: expected info, low, medium, high or critical",
				 where);
	v = cJSON_GetObjectItemCaseSensitive(rule, "effect");
	if (cJSON_IsString(v) && strcmp(v->valuestring, "incomplete") == 0)
		return tk_seterr(err, TK_ERR_CONFIG, "%s: effect: %s", where, TK_OLD_EFFECT_INCOMPLETE);
	if (v && (!cJSON_IsString(v) || (strcmp(v->valuestring, "fail") && strcmp(v->valuestring, "warn"))))
		return tk_seterr(err, TK_ERR_CONFIG, "%s: effect: expected \"fail\" or \"warn\"", where);
	v = cJSON_GetObjectItemCaseSensitive(rule, "covers");
	if (v && (!cJSON_IsString(v) || (strcmp(v->valuestring, "whole") && strcmp(v->valuestring, "part"))))
		return tk_seterr(err, TK_ERR_CONFIG,
				 "%s: covers: expected \"whole\" (the default) or \"part\" (the evidence answers part "
				 "of the items; the partner's answer is still needed)",
				 where);
	v = cJSON_GetObjectItemCaseSensitive(rule, "basis");
	if (!cJSON_IsString(v) || !*v->valuestring)
		return tk_seterr(err, TK_ERR_CONFIG, "%s: basis: expected the seed passage that justifies the rule",
				 where);
	params = cJSON_GetObjectItemCaseSensitive(rule, "params");
	if (params && !cJSON_IsObject(params))
		return tk_seterr(err, TK_ERR_CONFIG, "%s: params: expected an object", where);
	if ((v = cJSON_GetObjectItemCaseSensitive(rule, "when"))) {
		char w[600];
		snprintf(w, sizeof(w), "%s: when", where);
		if ((rc = tk_cond_validate(v, params, w, err)))
			return rc;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(rule, "incomplete_when"))) {
		char w[600];
		snprintf(w, sizeof(w), "%s: incomplete_when", where);
		if ((rc = tk_cond_validate(v, params, w, err)))
			return rc;
	}
	v = cJSON_GetObjectItemCaseSensitive(rule, "incomplete_reason");
	if (v && (!cJSON_IsString(v) || !*v->valuestring))
		return tk_seterr(err, TK_ERR_CONFIG, "%s: incomplete_reason: expected the path of the reason", where);
	v = cJSON_GetObjectItemCaseSensitive(rule, "fail_when");
	{
		char w[600];
		snprintf(w, sizeof(w), "%s: fail_when", where);
		if (!v && !cJSON_GetObjectItemCaseSensitive(rule, "incomplete_when"))
			return tk_seterr(err, TK_ERR_CONFIG, "%s: missing (a rule needs fail_when, incomplete_when or both)", w);
		if (v && (rc = tk_cond_validate(v, params, w, err)))
			return rc;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(rule, "evidence"))) {
		if (!cJSON_IsArray(v))
			return tk_seterr(err, TK_ERR_CONFIG, "%s: evidence: expected an array of field paths", where);
		cJSON_ArrayForEach(e, v) if (!cJSON_IsString(e)) return tk_seterr(
			err, TK_ERR_CONFIG, "%s: evidence: expected an array of field paths", where);
	}

	/*
	 * items: an entry for every checklist in the data set that does not carry its own
	 * mapping (and none for one that does: one source of truth), numbers that exist
	 */
	v = cJSON_GetObjectItemCaseSensitive(rule, "items");
	if (v && !cJSON_IsObject(v))
		return tk_seterr(err, TK_ERR_CONFIG, "%s: items: expected {checklist id: [item numbers]}", where);
	if (ds) {
		if ((rc = cl_cache_open(cache, ds, err)))
			return rc;
		ids = cache->ids;
		for (i = 0; ids[i]; i++) {
			const struct tk_checklist *cl = cache->cl[i];
			const cJSON *arr = cJSON_GetObjectItemCaseSensitive(v, ids[i]);
			if (tk_checklist_has_mapping(cl)) {
				if (arr)
					return tk_seterr(err, TK_ERR_CONFIG,
							 "%s: items.%s: checklists/%s.json carries its own mapping; map "
							 "the rule there, not here",
							 where, ids[i], ids[i]);
				continue;
			}
			if (!cJSON_IsArray(arr))
				return tk_seterr(err, TK_ERR_CONFIG,
						 "%s: items.%s: missing (map the rule to every checklist that has no "
						 "mapping of its own)",
						 where, ids[i]);
			cJSON_ArrayForEach(e, arr)
			{
				if (!cJSON_IsNumber(e) || !tk_checklist_item(cl, e)) {
					char no[64];
					tk_item_no_str(e, no, sizeof(no));
					return tk_seterr(err, TK_ERR_CONFIG, "%s: items.%s: no item %s in that checklist",
							 where, ids[i], no);
				}
			}
		}
		if (v)
			cJSON_ArrayForEach(e, v) if (!in_list(e->string, (const char *const *)ids)) return tk_seterr(
			    err, TK_ERR_CONFIG, "%s: items.%s: unknown checklist", where, e->string);
	}
	return rc;
}

struct tk_rule *tk_ruleset_find(const struct tk_ruleset *rs, const char *id)
{
	size_t i;
	for (i = 0; rs && i < rs->n; i++)
		if (strcmp(rs->rules[i].id, id) == 0)
			return &rs->rules[i];
	return NULL;
}

/*
 * Checklists that carry their own mapping (checked by tk_checklist_load for shape and items):
 * every rule id must exist; each rule gains items.<checklist>.
 */
static int apply_checklist_mappings(const struct tk_dataset *ds, struct tk_ruleset *rs, struct tk_err *err)
{
	char **ids = tk_checklist_ids(ds);
	int rc = TK_OK;
	size_t i;
	if (!ids)
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	for (i = 0; ids[i] && rc == TK_OK; i++) {
		struct tk_checklist *cl = NULL;
		const cJSON *m, *r;
		if ((rc = tk_checklist_load(ds, ids[i], &cl, err)))
			break;
		m = cJSON_GetObjectItemCaseSensitive(cl->doc, "mapping");
		cJSON_ArrayForEach(r, m)
		{
			struct tk_rule *rule = tk_ruleset_find(rs, r->string);
			cJSON *copy;
			if (!rule) {
				rc = tk_seterr(err, TK_ERR_CONFIG, "checklists/%s.json: mapping.%s: unknown rule", ids[i],
					       r->string);
				break;
			}
			if (!(copy = cJSON_Duplicate(r, true)) || !cJSON_AddItemToObject(rule->items, ids[i], copy)) {
				cJSON_Delete(copy);
				rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
				break;
			}
		}
		tk_checklist_free(cl);
	}
	tk_strv_free(ids);
	return rc;
}

int tk_ruleset_load(const struct tk_dataset *ds, const char *const *probes, struct tk_ruleset **out,
		    struct tk_err *err)
{
	static const char prefix[] = "rules/";
	struct cl_cache cache = {NULL, NULL};
	struct tk_ruleset *rs = calloc(1, sizeof(*rs));
	size_t i, cap = 0;
	int rc = TK_OK;
	*out = NULL;
	if (!rs || !(rs->docs = calloc(ds->n + 1, sizeof(*rs->docs)))) {
		rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < ds->n; i++) {
		const struct tk_datafile *f = &ds->files[i];
		const cJSON *arr, *r;
		cJSON *doc;
		int idx = 0;
		if (strncmp(f->name, prefix, sizeof(prefix) - 1) != 0)
			continue;
		doc = cJSON_ParseWithLength((const char *)f->data, f->len);
		if (!doc) {
			const char *ep = cJSON_GetErrorPtr();
			rc = tk_seterr(err, TK_ERR_PARSE, "%s: malformed JSON near byte %ld", f->name,
				       ep ? (long)(ep - (const char *)f->data) : 0L);
			goto out;
		}
		rs->docs[rs->ndocs++] = doc;
		arr = cJSON_GetObjectItemCaseSensitive(doc, "rules");
		if (!cJSON_IsArray(arr)) {
			rc = tk_seterr(err, TK_ERR_CONFIG, "%s: rules: expected an array", f->name);
			goto out;
		}
		cJSON_ArrayForEach(r, arr)
		{
			char where[300];
			struct tk_rule *rule;
			const cJSON *params, *eff;
			snprintf(where, sizeof(where), "%s: rules[%d]", f->name, idx++);
			if ((rc = rule_validate(r, where, probes, ds, &cache, err)))
				goto out;
			if (tk_ruleset_find(rs, cJSON_GetObjectItemCaseSensitive(r, "id")->valuestring)) {
				rc = tk_seterr(err, TK_ERR_CONFIG, "%s: id: duplicate rule id \"%s\"", where,
					       cJSON_GetObjectItemCaseSensitive(r, "id")->valuestring);
				goto out;
			}
			if (rs->n == cap) {
				struct tk_rule *nr;
				cap = cap ? cap * 2 : 32;
				if (!(nr = realloc(rs->rules, cap * sizeof(*nr)))) {
					rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
					goto out;
				}
				rs->rules = nr;
			}
			rule = &rs->rules[rs->n];
			memset(rule, 0, sizeof(*rule));
			rule->json = r;
			rule->id = cJSON_GetObjectItemCaseSensitive(r, "id")->valuestring;
			rule->probe = cJSON_GetObjectItemCaseSensitive(r, "probe")->valuestring;
			rule->kind = cJSON_GetObjectItemCaseSensitive(r, "kind")->valuestring;
			rule->severity = cJSON_GetObjectItemCaseSensitive(r, "severity")->valuestring;
			eff = cJSON_GetObjectItemCaseSensitive(r, "effect");
			rule->effect = eff && strcmp(eff->valuestring, "warn") == 0 ? TK_EFFECT_WARN : TK_EFFECT_FAIL;
			rule->enabled = true;
			eff = cJSON_GetObjectItemCaseSensitive(r, "covers");
			rule->covers_part = cJSON_IsString(eff) && strcmp(eff->valuestring, "part") == 0;
			rule->when = cJSON_GetObjectItemCaseSensitive(r, "when");
			rule->fail_when = cJSON_GetObjectItemCaseSensitive(r, "fail_when");
			rule->incomplete_when = cJSON_GetObjectItemCaseSensitive(r, "incomplete_when");
			params = cJSON_GetObjectItemCaseSensitive(r, "params");
			rule->params = params ? cJSON_Duplicate(params, true) : cJSON_CreateObject();
			rule->items = cJSON_GetObjectItemCaseSensitive(r, "items")
					      ? cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(r, "items"), true)
					      : cJSON_CreateObject();
			snprintf(rule->file, sizeof(rule->file), "%s", f->name);
			rs->n++;
			if (!rule->params || !rule->items) {
				rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
				goto out;
			}
		}
	}
	if ((rc = apply_checklist_mappings(ds, rs, err)))
		goto out;
	tk_dataset_hash(ds, prefix, rs->sha256);
	*out = rs;
	rs = NULL;
out:
	cl_cache_free(&cache);
	tk_ruleset_free(rs);
	return rc;
}

void tk_ruleset_free(struct tk_ruleset *rs)
{
	size_t i;
	if (!rs)
		return;
	for (i = 0; i < rs->n; i++) {
		cJSON_Delete(rs->rules[i].params);
		cJSON_Delete(rs->rules[i].items);
	}
	for (i = 0; i < rs->ndocs; i++)
		cJSON_Delete(rs->docs[i]);
	free(rs->rules);
	free(rs->docs);
	free(rs);
}
