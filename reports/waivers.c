/*
 * waivers.c - post-processing of a built report: the bank's waivers
 * (--waivers FILE) and the partner's self-attestation (--attestation FILE),
 * then a recount of the summary and the gate verdict.
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
 *
 * Attestation: the checklist CSV (csv.c's format) as filled in by the
 * partner. Column 1 is 通番, column 5 現在の対応状況 (the answer), column 7
 * 課題への対応計画. Cells still holding tenken's own text are ignored. Each
 * answer is recorded on its item as self-declared; the claim is read from
 * the answer's first words (a heuristic: 対応済/実施済/はい/yes/implemented...
 * = implemented; 未対応/未実施/対応予定/対応中/一部/いいえ/no/not... = not
 * implemented; 該当なし/対象外/N/A/- = not applicable; see claim_of) and compared with tenken's status:
 * "implemented" on a failing item, or "not implemented" on a passing one, is
 * flagged as a contradiction.
 */
#include "report.h"
#include "csvparse.h"
#include "rutil.h"

#include <ctype.h>
#include <fnmatch.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WAIVERS_MAX_BYTES ((size_t)4 << 20)
#define ATTEST_MAX_BYTES ((size_t)8 << 20)

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
	const char *target = tk_r_str(w, "target");
	if (rule && strcmp(rule->valuestring, tk_r_str(f, "rule")) != 0)
		return false;
	if (item) {
		char no[32];
		tk_item_no_str(item, no, sizeof(no));
		if (!tk_r_finding_maps(f, cl, no))
			return false;
	}
	return fnmatch(*target ? target : "*", tk_r_str(f, "target"), 0) == 0;
}

static time_t waiver_end(const cJSON *w)
{
	const char *e = tk_r_str(w, "expires");
	time_t t = 0;
	tk_parse_time(e, &t);
	return strlen(e) == 10 ? t + 86400 : t;
}

static cJSON *waiver_ref(const cJSON *w, int index)
{
	cJSON *o = cJSON_CreateObject();
	char id[32];
	snprintf(id, sizeof(id), "waivers[%d]", index);
	cJSON_AddStringToObject(o, "id", *tk_r_str(w, "id") ? tk_r_str(w, "id") : id);
	if (cJSON_GetObjectItemCaseSensitive(w, "rule"))
		cJSON_AddStringToObject(o, "rule", tk_r_str(w, "rule"));
	if (cJSON_GetObjectItemCaseSensitive(w, "item"))
		cJSON_AddItemToObject(o, "item", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(w, "item"), true));
	cJSON_AddStringToObject(o, "target", *tk_r_str(w, "target") ? tk_r_str(w, "target") : "*");
	cJSON_AddStringToObject(o, "justification", tk_r_str(w, "justification"));
	cJSON_AddStringToObject(o, "approver", tk_r_str(w, "approver"));
	cJSON_AddStringToObject(o, "expires", tk_r_str(w, "expires"));
	return o;
}

static void replace(cJSON *o, const char *k, cJSON *v)
{
	if (cJSON_GetObjectItemCaseSensitive(o, k))
		cJSON_ReplaceItemInObjectCaseSensitive(o, k, v);
	else
		cJSON_AddItemToObject(o, k, v);
}

static bool has_id(const cJSON *arr, const char *id)
{
	const cJSON *x;
	cJSON_ArrayForEach(x, arr) if (strcmp(tk_r_str(x, "id"), id) == 0) return true;
	return false;
}

int tk_report_apply_waivers(cJSON *report, const char *file, time_t now, struct tk_err *err)
{
	char *text = NULL, sha[65];
	size_t len;
	unsigned char d[32];
	cJSON *doc = NULL, *sec, *applied, *expired, *f, *it;
	const char *cl = tk_r_checklist_id(report);
	int rc;

	if ((rc = tk_read_file(file, WAIVERS_MAX_BYTES, &text, &len, err)))
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
	replace(report, "waivers", sec);

	cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(report, "findings"))
	{
		const cJSON *w;
		int idx = 0;
		if (strcmp(tk_r_str(f, "status"), "fail") != 0)
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
				if (!has_id(expired, tk_r_str(ref, "id")))
					cJSON_AddItemToArray(expired, cJSON_Duplicate(ref, true));
				cJSON_AddItemToArray(arr, ref);
				idx++;
				continue;
			}
			if (!has_id(applied, tk_r_str(ref, "id")))
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
			if (strcmp(tk_r_str(f, "status"), "fail") != 0 || !tk_r_finding_maps(f, cl, no))
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
				if (!has_id(exp, tk_r_str(x, "id")))
					cJSON_AddItemToArray(exp, cJSON_Duplicate(x, true));
			}
		}
		if (exp)
			replace(it, "expired_waivers", exp);
		if (strcmp(tk_r_str(it, "status"), "fail") == 0 && nfail > 0 && nwaived == nfail) {
			replace(it, "status", cJSON_CreateString("waived"));
			replace(it, "waiver", cJSON_Duplicate(first, true));
		}
	}
	cJSON_Delete(doc);
	return TK_OK;
}

/* ---- attestation ---- */

static bool starts_with_any(const char *s, const char *const *words)
{
	size_t i;
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	for (i = 0; words[i]; i++)
		if (strncasecmp(s, words[i], strlen(words[i])) == 0)
			return true;
	return false;
}

/* "implemented" | "not_implemented" | "not_applicable" | "unclear" */
static const char *claim_of(const char *answer)
{
	static const char *const no[] = {"未対応", "未実施", "未整備", "未導入", "対応予定", "対応中", "実施予定", "検討中",
					 "計画中", "一部", "いいえ", "否", "not ", "no ", "no,", "no.", "partial",
					 "planned", "×", NULL};
	static const char *const na[] = {"該当なし", "該当しない", "対象外", "n/a", "not applicable", NULL};
	static const char *const yes[] = {"対応済", "実施済", "整備済", "導入済", "済", "はい", "実施している",
					  "対応している", "yes", "implemented", "done", "compliant", "○", "◯", NULL};
	const char *t = answer;
	while (*t == ' ' || *t == '\t' || *t == '\n' || *t == '\r')
		t++;
	if (strcmp(t, "-") == 0 || strcasecmp(t, "na") == 0)
		return "not_applicable";
	if (strcasecmp(t, "no") == 0)
		return "not_implemented";
	if (starts_with_any(t, na))
		return "not_applicable";
	if (starts_with_any(t, no))
		return "not_implemented";
	if (starts_with_any(t, yes))
		return "implemented";
	return "unclear";
}

/* tenken's own 課題への対応計画 text: lines "RULE-ID: remediation". */
static bool is_rule_line(const char *s)
{
	size_t n = 0;
	if (!(*s >= 'A' && *s <= 'Z'))
		return false;
	while ((s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= '0' && s[n] <= '9') || s[n] == '-' || s[n] == '_')
		n++;
	return n >= 3 && s[n] == ':' && s[n + 1] == ' ';
}

static bool is_tenken_text(const char *s)
{
	static const char *const ours[] = {"【自動点検", "【要回答】", "【対象外】", "[Automated check", "[Needs the partner",
					   "[Not applicable]", NULL};
	return starts_with_any(s, ours);
}

static cJSON *find_item(cJSON *report, const char *no)
{
	cJSON *it;
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(report, "items"))
	{
		char s[32];
		tk_item_no_str(cJSON_GetObjectItemCaseSensitive(it, "no"), s, sizeof(s));
		if (strcmp(s, no) == 0)
			return it;
	}
	return NULL;
}

int tk_report_apply_attestation(cJSON *report, const char *file, struct tk_err *err)
{
	char *text = NULL, sha[65];
	size_t len;
	unsigned char d[32];
	cJSON *rows = NULL, *sec, *unknown;
	const cJSON *row;
	int rc, answers = 0, contradictions = 0, line = 0;

	if ((rc = tk_read_file(file, ATTEST_MAX_BYTES, &text, &len, err)))
		return rc;
	tk_sha256(text, len, d);
	tk_hex(d, 32, sha);
	rc = tk_csv_parse(file, text, len, &rows, err);
	free(text);
	if (rc)
		return rc;
	row = rows->child;
	if (!row || cJSON_GetArraySize(row) < 7 ||
	    (strcmp(row->child->valuestring, "通番") != 0 && strcmp(row->child->valuestring, "No.") != 0)) {
		cJSON_Delete(rows);
		return tk_seterr(err, TK_ERR_PARSE,
				 "%s: record 1: expected the checklist header (通番, 区分, ... as written by --format csv)", file);
	}
	sec = cJSON_CreateObject();
	cJSON_AddStringToObject(sec, "file", file);
	cJSON_AddStringToObject(sec, "sha256", sha);
	unknown = cJSON_CreateArray();
	for (row = row->next, line = 2; row; row = row->next, line++) {
		const char *no, *answer, *plan;
		cJSON *it, *att;
		const char *claim, *st;
		char msg[1024] = "";
		if (cJSON_GetArraySize(row) < 7) {
			cJSON_Delete(rows);
			cJSON_Delete(sec);
			cJSON_Delete(unknown);
			return tk_seterr(err, TK_ERR_PARSE, "%s: record %d: %d fields, expected 10", file, line,
					 cJSON_GetArraySize(row));
		}
		no = cJSON_GetArrayItem(row, 0)->valuestring;
		answer = cJSON_GetArrayItem(row, 4)->valuestring;
		plan = cJSON_GetArrayItem(row, 6)->valuestring;
		/* the ' that tk_r_csv puts before a formula-like cell is not part of the text */
		if (answer[0] == '\'' && answer[1] && strchr("=+-@\t\r", answer[1]))
			answer++;
		if (plan[0] == '\'' && plan[1] && strchr("=+-@\t\r", plan[1]))
			plan++;
		if (!*answer || is_tenken_text(answer))
			continue;
		if (!(it = find_item(report, no))) {
			cJSON_AddItemToArray(unknown, cJSON_CreateString(no));
			continue;
		}
		claim = claim_of(answer);
		st = tk_r_str(it, "status");
		att = cJSON_CreateObject();
		cJSON_AddStringToObject(att, "answer", answer);
		if (*plan && !is_tenken_text(plan) && !is_rule_line(plan))
			cJSON_AddStringToObject(att, "plan", plan);
		cJSON_AddBoolToObject(att, "self_declared", true);
		cJSON_AddStringToObject(att, "claim", claim);
		if (strcmp(claim, "implemented") == 0 && (strcmp(st, "fail") == 0 || strcmp(st, "waived") == 0)) {
			size_t l = 0;
			const cJSON *r;
			l += (size_t)snprintf(msg + l, sizeof(msg) - l,
					      "the partner declares this implemented, but tenken's checks fail:");
			cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(it, "findings"))
				if (l < sizeof(msg) - 80)
					l += (size_t)snprintf(msg + l, sizeof(msg) - l, " %s", r->valuestring);
		} else if (strcmp(claim, "not_implemented") == 0 && strcmp(st, "pass") == 0) {
			snprintf(msg, sizeof(msg), "the partner declares this not implemented, but tenken's checks pass");
		} else if (strcmp(claim, "not_applicable") == 0 &&
			   (strcmp(st, "fail") == 0 || strcmp(st, "pass") == 0)) {
			snprintf(msg, sizeof(msg), "the partner declares this not applicable, but tenken observed it (%s)", st);
		}
		if (*msg) {
			cJSON_AddStringToObject(att, "contradiction", msg);
			contradictions++;
		}
		replace(it, "attestation", att);
		answers++;
	}
	cJSON_AddNumberToObject(sec, "answers", answers);
	cJSON_AddNumberToObject(sec, "contradictions", contradictions);
	cJSON_AddItemToObject(sec, "unknown_items", unknown);
	replace(report, "attestation", sec);
	cJSON_Delete(rows);
	return TK_OK;
}

