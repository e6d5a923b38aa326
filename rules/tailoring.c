/*
 * tailoring.c - a bank's risk-based changes, as data:
 * {
 *   "name": "...",
 *   "disable_rules": ["RULE-ID", ...],
 *   "rules": {"RULE-ID": {"params": {...}, "severity": "high", "effect": "fail"}},
 *   "not_applicable": [{"checklist": ID, "item": 8, "justification": "..."}],
 *   "add_items": [{"checklist": ID, "no": "B-1", "chapter": ..., "goal": ..., "party": ...}],
 *   "map": [{"rule": "RULE-ID", "checklist": ID, "items": ["B-1", 30]}]
 * }
 */
#include "rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int need_string(const cJSON *o, const char *key, const char *where, struct tk_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!cJSON_IsString(v) || !*v->valuestring)
		return tk_seterr(err, TK_ERR_CONFIG, "%s.%s: expected a non-empty string", where, key);
	return TK_OK;
}

static int check_keys(const cJSON *o, const char *const *allowed, const char *where, struct tk_err *err)
{
	const cJSON *e;
	if (!cJSON_IsObject(o))
		return tk_seterr(err, TK_ERR_CONFIG, "%s: expected an object", where);
	cJSON_ArrayForEach(e, o)
	{
		size_t i;
		bool ok = false;
		for (i = 0; allowed[i]; i++)
			if (strcmp(e->string, allowed[i]) == 0)
				ok = true;
		if (!ok)
			return tk_seterr(err, TK_ERR_CONFIG, "%s.%s: unknown key", where, e->string);
	}
	return TK_OK;
}

static bool item_no_ok(const cJSON *no)
{
	return (cJSON_IsNumber(no) && no->valuedouble == (double)no->valueint && no->valueint > 0) ||
	       (cJSON_IsString(no) && *no->valuestring);
}

static int validate(const char *name, const cJSON *doc, struct tk_err *err)
{
	static const char *const top[] = {"name", "description", "disable_rules", "rules", "not_applicable",
					  "add_items", "map", NULL};
	static const char *const rule_keys[] = {"params", "severity", "effect", NULL};
	static const char *const na_keys[] = {"checklist", "item", "justification", NULL};
	static const char *const add_keys[] = {"checklist", "no", "chapter", "goal", "party", "chapter_en",
					       "goal_en", "party_en", "related", NULL};
	static const char *const map_keys[] = {"rule", "checklist", "items", NULL};
	const cJSON *v, *e;
	char w[512];
	int rc, i;

	snprintf(w, sizeof(w), "%s", name);
	if ((rc = check_keys(doc, top, w, err)))
		return rc;
	if ((v = cJSON_GetObjectItemCaseSensitive(doc, "disable_rules"))) {
		if (!cJSON_IsArray(v))
			return tk_seterr(err, TK_ERR_CONFIG, "%s: disable_rules: expected an array of rule ids", name);
		i = 0;
		cJSON_ArrayForEach(e, v)
		{
			if (!cJSON_IsString(e))
				return tk_seterr(err, TK_ERR_CONFIG, "%s: disable_rules[%d]: expected a rule id", name, i);
			i++;
		}
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(doc, "rules"))) {
		if (!cJSON_IsObject(v))
			return tk_seterr(err, TK_ERR_CONFIG, "%s: rules: expected {rule id: changes}", name);
		cJSON_ArrayForEach(e, v)
		{
			const cJSON *p;
			snprintf(w, sizeof(w), "%s: rules.%s", name, e->string);
			if ((rc = check_keys(e, rule_keys, w, err)))
				return rc;
			if ((p = cJSON_GetObjectItemCaseSensitive(e, "params")) && !cJSON_IsObject(p))
				return tk_seterr(err, TK_ERR_CONFIG, "%s.params: expected an object", w);
		}
	}
	i = 0;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(doc, "not_applicable"))
	{
		snprintf(w, sizeof(w), "%s: not_applicable[%d]", name, i++);
		if ((rc = check_keys(e, na_keys, w, err)) || (rc = need_string(e, "checklist", w, err)) ||
		    (rc = need_string(e, "justification", w, err)))
			return rc;
		if (!item_no_ok(cJSON_GetObjectItemCaseSensitive(e, "item")))
			return tk_seterr(err, TK_ERR_CONFIG, "%s.item: expected an item number", w);
	}
	i = 0;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(doc, "add_items"))
	{
		snprintf(w, sizeof(w), "%s: add_items[%d]", name, i++);
		if ((rc = check_keys(e, add_keys, w, err)) || (rc = need_string(e, "checklist", w, err)) ||
		    (rc = need_string(e, "chapter", w, err)) || (rc = need_string(e, "goal", w, err)) ||
		    (rc = need_string(e, "party", w, err)))
			return rc;
		if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "no")))
			return tk_seterr(err, TK_ERR_CONFIG,
					 "%s.no: expected a string (the bank's own numbering, e.g. \"B-1\")", w);
	}
	i = 0;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(doc, "map"))
	{
		const cJSON *items, *n;
		snprintf(w, sizeof(w), "%s: map[%d]", name, i++);
		if ((rc = check_keys(e, map_keys, w, err)) || (rc = need_string(e, "rule", w, err)) ||
		    (rc = need_string(e, "checklist", w, err)))
			return rc;
		items = cJSON_GetObjectItemCaseSensitive(e, "items");
		if (!cJSON_IsArray(items) || cJSON_GetArraySize(items) == 0)
			return tk_seterr(err, TK_ERR_CONFIG, "%s.items: expected a non-empty array", w);
		cJSON_ArrayForEach(n, items) if (!item_no_ok(n)) return tk_seterr(
			err, TK_ERR_CONFIG, "%s.items: expected item numbers", w);
	}
	for (v = doc->child; v; v = v->next) {
		static const char *const arrays[] = {"not_applicable", "add_items", "map"};
		size_t k;
		for (k = 0; k < 3; k++)
			if (strcmp(v->string, arrays[k]) == 0 && !cJSON_IsArray(v))
				return tk_seterr(err, TK_ERR_CONFIG, "%s: %s: expected an array", name, v->string);
	}
	return TK_OK;
}

int tk_tailoring_parse(const char *name, const char *text, size_t len, struct tk_tailoring **out,
		       struct tk_err *err)
{
	struct tk_tailoring *t = NULL;
	unsigned char h[32];
	int rc = TK_OK;
	*out = NULL;
	if (!(t = calloc(1, sizeof(*t))) || !(t->file = strdup(name))) {
		rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		goto out;
	}
	t->doc = cJSON_ParseWithLength(text, len);
	if (!t->doc) {
		const char *ep = cJSON_GetErrorPtr();
		long off = ep && ep >= text && ep <= text + len ? (long)(ep - text) : 0;
		rc = tk_seterr(err, TK_ERR_CONFIG, "%s: malformed JSON near byte %ld", name, off);
		goto out;
	}
	if ((rc = validate(name, t->doc, err)))
		goto out;
	tk_sha256(text, len, h);
	tk_hex(h, 32, t->sha256);
	*out = t;
	t = NULL;
out:
	tk_tailoring_free(t);
	return rc;
}

int tk_tailoring_load(const char *path, struct tk_tailoring **out, struct tk_err *err)
{
	char *text = NULL;
	size_t len = 0;
	int rc = tk_read_file(path, 4u << 20, &text, &len, err);
	if (rc == TK_OK)
		rc = tk_tailoring_parse(path, text, len, out, err);
	else
		err->rc = rc = TK_ERR_CONFIG;
	free(text);
	return rc;
}

void tk_tailoring_free(struct tk_tailoring *t)
{
	if (!t)
		return;
	cJSON_Delete(t->doc);
	free(t->file);
	free(t);
}

static bool same_type(const cJSON *a, const cJSON *b)
{
	return (cJSON_IsNumber(a) && cJSON_IsNumber(b)) || (cJSON_IsString(a) && cJSON_IsString(b)) ||
	       (cJSON_IsBool(a) && cJSON_IsBool(b)) || (cJSON_IsArray(a) && cJSON_IsArray(b));
}

int tk_tailoring_apply(const struct tk_tailoring *t, struct tk_ruleset *rs, struct tk_checklist *cl,
		       struct tk_err *err)
{
	const cJSON *v, *e;
	int i;
	if (!t)
		return TK_OK;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(t->doc, "disable_rules"))
	{
		struct tk_rule *r = tk_ruleset_find(rs, e->valuestring);
		if (!r)
			return tk_seterr(err, TK_ERR_CONFIG, "%s: disable_rules: no rule \"%s\" (see `tenken rules`)",
					 t->file, e->valuestring);
		r->enabled = false;
	}
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(t->doc, "rules"))
	{
		struct tk_rule *r = tk_ruleset_find(rs, v->string);
		const cJSON *p, *s;
		if (!r)
			return tk_seterr(err, TK_ERR_CONFIG, "%s: rules.%s: no such rule (see `tenken rules`)", t->file,
					 v->string);
		cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(v, "params"))
		{
			cJSON *cur = cJSON_GetObjectItemCaseSensitive(r->params, p->string);
			if (!cur)
				return tk_seterr(err, TK_ERR_CONFIG, "%s: rules.%s.params.%s: the rule has no such parameter",
						 t->file, v->string, p->string);
			if (!same_type(cur, p))
				return tk_seterr(err, TK_ERR_CONFIG, "%s: rules.%s.params.%s: wrong type for this parameter",
						 t->file, v->string, p->string);
			cJSON_ReplaceItemInObjectCaseSensitive(r->params, p->string, cJSON_Duplicate(p, true));
		}
		if ((s = cJSON_GetObjectItemCaseSensitive(v, "severity"))) {
			static const char *const sev[] = {"info", "low", "medium", "high", "critical"};
			size_t k;
			bool ok = false;
			for (k = 0; k < 5 && cJSON_IsString(s); k++)
				if (strcmp(s->valuestring, sev[k]) == 0) {
					r->severity = sev[k];
					ok = true;
				}
			if (!ok)
				return tk_seterr(err, TK_ERR_CONFIG, "%s: rules.%s.severity: expected info..critical",
						 t->file, v->string);
		}
		if ((s = cJSON_GetObjectItemCaseSensitive(v, "effect"))) {
			if (cJSON_IsString(s) && strcmp(s->valuestring, "fail") == 0)
				r->effect = TK_EFFECT_FAIL;
			else if (cJSON_IsString(s) && strcmp(s->valuestring, "warn") == 0)
				r->effect = TK_EFFECT_WARN;
			else if (cJSON_IsString(s) && strcmp(s->valuestring, "incomplete") == 0)
				return tk_seterr(err, TK_ERR_CONFIG, "%s: rules.%s.effect: %s", t->file, v->string,
						 TK_OLD_EFFECT_INCOMPLETE);
			else
				return tk_seterr(err, TK_ERR_CONFIG, "%s: rules.%s.effect: expected \"fail\" or \"warn\"",
						 t->file, v->string);
		}
	}
	i = 0;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(t->doc, "add_items"))
	{
		const char *clid = cJSON_GetObjectItemCaseSensitive(e, "checklist")->valuestring;
		cJSON *item;
		if (strcmp(clid, cl->id) != 0) {
			i++;
			continue;
		}
		if (tk_checklist_item(cl, cJSON_GetObjectItemCaseSensitive(e, "no")))
			return tk_seterr(err, TK_ERR_CONFIG, "%s: add_items[%d].no: the checklist already has that item",
					 t->file, i);
		item = cJSON_Duplicate(e, true);
		cJSON_DeleteItemFromObjectCaseSensitive(item, "checklist");
		cJSON_AddBoolToObject(item, "bank_item", 1);
		cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(cl->doc, "items"), item);
		i++;
	}
	i = 0;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(t->doc, "not_applicable"))
	{
		const char *clid = cJSON_GetObjectItemCaseSensitive(e, "checklist")->valuestring;
		if (strcmp(clid, cl->id) == 0 && !tk_checklist_item(cl, cJSON_GetObjectItemCaseSensitive(e, "item")))
			return tk_seterr(err, TK_ERR_CONFIG, "%s: not_applicable[%d].item: no such item in %s", t->file,
					 i, clid);
		i++;
	}
	i = 0;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(t->doc, "map"))
	{
		const char *rid = cJSON_GetObjectItemCaseSensitive(e, "rule")->valuestring;
		const char *clid = cJSON_GetObjectItemCaseSensitive(e, "checklist")->valuestring;
		struct tk_rule *r = tk_ruleset_find(rs, rid);
		cJSON *arr;
		const cJSON *n;
		if (!r)
			return tk_seterr(err, TK_ERR_CONFIG, "%s: map[%d].rule: no rule \"%s\"", t->file, i, rid);
		if (strcmp(clid, cl->id) != 0) {
			i++;
			continue;
		}
		arr = cJSON_GetObjectItemCaseSensitive(r->items, clid);
		if (!arr)
			arr = cJSON_AddArrayToObject(r->items, clid);
		cJSON_ArrayForEach(n, cJSON_GetObjectItemCaseSensitive(e, "items"))
		{
			char no[64];
			if (!tk_checklist_item(cl, n)) {
				tk_item_no_str(n, no, sizeof(no));
				return tk_seterr(err, TK_ERR_CONFIG, "%s: map[%d].items: no item %s in %s", t->file, i,
						 no, clid);
			}
			cJSON_AddItemToArray(arr, cJSON_Duplicate(n, true));
		}
		i++;
	}
	return TK_OK;
}

const char *tk_tailoring_not_applicable(const struct tk_tailoring *t, const char *checklist, const cJSON *no)
{
	const cJSON *e;
	if (!t)
		return NULL;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(t->doc, "not_applicable"))
	{
		const cJSON *it = cJSON_GetObjectItemCaseSensitive(e, "item");
		if (strcmp(cJSON_GetObjectItemCaseSensitive(e, "checklist")->valuestring, checklist) != 0)
			continue;
		if (tk_item_no_equal(it, no))
			return cJSON_GetObjectItemCaseSensitive(e, "justification")->valuestring;
	}
	return NULL;
}
