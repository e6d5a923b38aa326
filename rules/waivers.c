/*
 * waivers.c - the bank's waivers (--waivers FILE) applied to a built report;
 * the caller then recounts the summary and the gate verdict (verdict.c).
 *
 * Waivers file (JSON):
 *   {"waivers": [{"id": "W-1", "rule": "HSTS-MAX-AGE-SHORT" | "item": 30,
 *                 "target": "https://api.weak.example:443/", (an fnmatch glob; default: every target)
 *                 "justification": "...", "approver": "...", "expires": "2027-03-31"}]}
 * A waiver matches a failing finding by rule id, or by a checklist item the
 * finding maps to (in the report's checklist), and by target glob. A plain
 * date in "expires" means valid through that day (UTC). A matched finding
 * keeps status "fail" and gains "waiver"; an item whose failing findings are
 * all waived becomes "waived" (never "pass"); the gate does not fail on it.
 * An expired waiver is not applied: the finding still fails, and the item
 * and report.waivers.expired say which waiver expired and when.
 */
#include "waivers.h"
#include "rules.h"

#include <fnmatch.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int werr(struct tk_err *err, const char *file, int i, const char *field, const char *what)
{
	return tk_seterr(err, TK_ERR_CONFIG, "%s: waivers[%d]%s%s: %s", file, i, *field ? "." : "", field, what);
}

int tk_waivers_parse(const char *file, const char *text, size_t len, cJSON **out, struct tk_err *err)
{
	cJSON *doc = cJSON_ParseWithLength(text, len), *arr;
	const cJSON *w, *k;
	int i = 0, rc = TK_OK;
	static const char *const allowed[] = {"id",       "rule",    "item", "target", "justification",
					      "approver", "expires", NULL};
	*out = NULL;
	if (!doc)
		return tk_seterr(
		    err, TK_ERR_PARSE, "%s: not valid JSON (near byte %zu)", file,
		    cJSON_GetErrorPtr() && cJSON_GetErrorPtr() >= text ? (size_t)(cJSON_GetErrorPtr() - text) : 0);
	arr = cJSON_GetObjectItemCaseSensitive(doc, "waivers");
	if (!cJSON_IsArray(arr)) {
		cJSON_Delete(doc);
		return tk_seterr(err, TK_ERR_CONFIG, "%s: waivers: must be an array", file);
	}
	cJSON_ArrayForEach(w, arr)
	{
		const cJSON *rule = cJSON_GetObjectItemCaseSensitive(w, "rule"), *item = cJSON_GetObjectItemCaseSensitive(w, "item");
		const cJSON *target = cJSON_GetObjectItemCaseSensitive(w, "target");
		const char *req[] = {"justification", "approver", "expires"};
		time_t t;
		size_t j;
		if (!cJSON_IsObject(w)) {
			rc = werr(err, file, i, "", "must be an object");
			break;
		}
		cJSON_ArrayForEach(k, w)
		{
			bool ok = false;
			for (j = 0; allowed[j]; j++)
				ok = ok || strcmp(allowed[j], k->string) == 0;
			if (!ok) {
				rc = werr(err, file, i, k->string, "unknown field");
				break;
			}
		}
		if (rc)
			break;
		if (!rule == !item) {
			rc = werr(err, file, i, "", "needs exactly one of \"rule\" or \"item\"");
			break;
		}
		if (rule && (!cJSON_IsString(rule) || !*rule->valuestring)) {
			rc = werr(err, file, i, "rule", "must be a non-empty string");
			break;
		}
		if (item && !cJSON_IsNumber(item) && !cJSON_IsString(item)) {
			rc = werr(err, file, i, "item", "must be an item number");
			break;
		}
		if (target && (!cJSON_IsString(target) || !*target->valuestring)) {
			rc = werr(err, file, i, "target", "must be a non-empty glob");
			break;
		}
		for (j = 0; j < 3 && rc == TK_OK; j++) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(w, req[j]);
			if (!cJSON_IsString(v) || !*v->valuestring)
				rc = werr(err, file, i, req[j], "required (a non-empty string)");
		}
		if (rc)
			break;
		if (tk_parse_time(cJSON_GetObjectItemCaseSensitive(w, "expires")->valuestring, &t) != TK_OK) {
			rc = werr(err, file, i, "expires", "not a date (YYYY-MM-DD or RFC 3339 UTC)");
			break;
		}
		i++;
	}
	if (rc) {
		cJSON_Delete(doc);
		return rc;
	}
	*out = doc;
	return TK_OK;
}

static bool waiver_matches(const cJSON *w, const cJSON *f, const char *cl)
{
	const cJSON *rule = cJSON_GetObjectItemCaseSensitive(w, "rule"), *item = cJSON_GetObjectItemCaseSensitive(w, "item");
	const char *target = tk_json_str(w, "target");
	if (rule && strcmp(rule->valuestring, tk_json_str(f, "rule")) != 0)
		return false;
	if (item) {
		char no[32];
		tk_item_no_str(item, no, sizeof(no));
		if (!tk_finding_maps(f, cl, no))
			return false;
	}
	return fnmatch(*target ? target : "*", tk_json_str(f, "target"), 0) == 0;
}

static time_t waiver_end(const cJSON *w)
{
	const char *e = tk_json_str(w, "expires");
	time_t t = 0;
	tk_parse_time(e, &t);
	return strlen(e) == 10 ? t + 86400 : t;
}

static cJSON *waiver_ref(const cJSON *w, int index)
{
	cJSON *o = cJSON_CreateObject();
	char id[32];
	snprintf(id, sizeof(id), "waivers[%d]", index);
	cJSON_AddStringToObject(o, "id", *tk_json_str(w, "id") ? tk_json_str(w, "id") : id);
	if (cJSON_GetObjectItemCaseSensitive(w, "rule"))
		cJSON_AddStringToObject(o, "rule", tk_json_str(w, "rule"));
	if (cJSON_GetObjectItemCaseSensitive(w, "item"))
		cJSON_AddItemToObject(o, "item", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(w, "item"), true));
	cJSON_AddStringToObject(o, "target", *tk_json_str(w, "target") ? tk_json_str(w, "target") : "*");
	cJSON_AddStringToObject(o, "justification", tk_json_str(w, "justification"));
	cJSON_AddStringToObject(o, "approver", tk_json_str(w, "approver"));
	cJSON_AddStringToObject(o, "expires", tk_json_str(w, "expires"));
	return o;
}

static bool has_id(const cJSON *arr, const char *id)
{
	const cJSON *x;
	cJSON_ArrayForEach(x, arr) if (strcmp(tk_json_str(x, "id"), id) == 0) return true;
	return false;
}

int tk_waivers_apply(cJSON *report, const char *file, time_t now, struct tk_err *err)
{
	char *text = NULL, sha[65];
	size_t len;
	unsigned char d[32];
	cJSON *doc = NULL, *sec, *applied, *expired, *f, *it;
	const char *cl = tk_report_checklist_id(report);
	int rc;

	if ((rc = tk_read_file(file, TK_WAIVERS_MAX_BYTES, &text, &len, err)))
		return rc;
	rc = tk_waivers_parse(file, text, len, &doc, err);
	tk_sha256(text, len, d);
	tk_hex(d, 32, sha);
	free(text);
	if (rc)
		return rc;
	sec = cJSON_CreateObject();
	cJSON_AddStringToObject(sec, "file", file);
	cJSON_AddStringToObject(sec, "sha256", sha);
	applied = cJSON_AddArrayToObject(sec, "applied");
	expired = cJSON_AddArrayToObject(sec, "expired");
	tk_json_set(report, "waivers", sec);

	cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(report, "findings"))
	{
		const cJSON *w;
		int idx = 0;
		if (strcmp(tk_json_str(f, "status"), "fail") != 0)
			continue;
		cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(doc, "waivers"))
		{
			cJSON *ref;
			if (!waiver_matches(w, f, cl)) {
				idx++;
				continue;
			}
			ref = waiver_ref(w, idx);
			if (waiver_end(w) <= now) {
				cJSON *arr = cJSON_GetObjectItemCaseSensitive(f, "expired_waivers");
				if (!arr)
					arr = cJSON_AddArrayToObject(f, "expired_waivers");
				if (!has_id(expired, tk_json_str(ref, "id")))
					cJSON_AddItemToArray(expired, cJSON_Duplicate(ref, true));
				cJSON_AddItemToArray(arr, ref);
				idx++;
				continue;
			}
			if (!has_id(applied, tk_json_str(ref, "id")))
				cJSON_AddItemToArray(applied, cJSON_Duplicate(ref, true));
			cJSON_AddItemToObject(f, "waiver", ref);
			break;
		}
	}
	/* items: waived when every failing finding mapped to them is waived */
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(report, "items"))
	{
		char no[32];
		int nfail = 0, nwaived = 0;
		const cJSON *first = NULL;
		cJSON *exp = NULL;
		tk_item_no_str(cJSON_GetObjectItemCaseSensitive(it, "no"), no, sizeof(no));
		cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(report, "findings"))
		{
			const cJSON *x;
			if (strcmp(tk_json_str(f, "status"), "fail") != 0 || !tk_finding_maps(f, cl, no))
				continue;
			nfail++;
			if (cJSON_GetObjectItemCaseSensitive(f, "waiver")) {
				nwaived++;
				if (!first)
					first = cJSON_GetObjectItemCaseSensitive(f, "waiver");
			}
			cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(f, "expired_waivers"))
			{
				if (!exp)
					exp = cJSON_CreateArray();
				if (!has_id(exp, tk_json_str(x, "id")))
					cJSON_AddItemToArray(exp, cJSON_Duplicate(x, true));
			}
		}
		if (exp)
			tk_json_set(it, "expired_waivers", exp);
		if (strcmp(tk_json_str(it, "status"), "fail") == 0 && nfail > 0 && nwaived == nfail) {
			tk_json_set(it, "status", cJSON_CreateString("waived"));
			tk_json_set(it, "waiver", cJSON_Duplicate(first, true));
		}
	}
	cJSON_Delete(doc);
	return TK_OK;
}
