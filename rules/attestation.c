/*
 * attestation.c - the partner's self-attestation (--attestation FILE) applied
 * to a built report; the caller then recounts (verdict.c, self_declared).
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
#include "attestation.h"
#include "csvparse.h"
#include "rules.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

int tk_attestation_parse(const char *file, const char *text, size_t len, cJSON **rows, struct tk_err *err)
{
	const cJSON *row;
	int rc, line;

	if ((rc = tk_csv_parse(file, text, len, rows, err)))
		return rc;
	row = (*rows)->child;
	if (!row || cJSON_GetArraySize(row) < 7 ||
	    (strcmp(row->child->valuestring, "通番") != 0 && strcmp(row->child->valuestring, "No.") != 0)) {
		rc = tk_seterr(err, TK_ERR_PARSE,
			       "%s: record 1: expected the checklist header (通番, 区分, ... as written by --format csv)", file);
		goto fail;
	}
	for (row = row->next, line = 2; row; row = row->next, line++) {
		if (cJSON_GetArraySize(row) < 7) {
			rc = tk_seterr(err, TK_ERR_PARSE, "%s: record %d: %d fields, expected 10", file, line,
				       cJSON_GetArraySize(row));
			goto fail;
		}
	}
	return TK_OK;
fail:
	cJSON_Delete(*rows);
	*rows = NULL;
	return rc;
}

/* A cell as the partner wrote it: the ' that tk_r_csv puts before a formula-like cell is not part of the text. */
static const char *cell(const cJSON *row, int i)
{
	const char *s = cJSON_GetArrayItem(row, i)->valuestring;
	return s[0] == '\'' && s[1] && strchr("=+-@\t\r", s[1]) ? s + 1 : s;
}

/* The contradiction between the partner's claim and tenken's status st of item it, into msg ("" when none). */
static void contradiction(const char *claim, const char *st, const cJSON *it, char *msg, size_t size)
{
	msg[0] = '\0';
	if (strcmp(claim, "implemented") == 0 && (strcmp(st, "fail") == 0 || strcmp(st, "waived") == 0)) {
		size_t l = 0;
		const cJSON *r;
		l += (size_t)snprintf(msg + l, size - l, "the partner declares this implemented, but tenken's checks fail:");
		cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(it, "findings"))
			if (l < size - 80)
				l += (size_t)snprintf(msg + l, size - l, " %s", r->valuestring);
	} else if (strcmp(claim, "not_implemented") == 0 && strcmp(st, "pass") == 0) {
		snprintf(msg, size, "the partner declares this not implemented, but tenken's checks pass");
	} else if (strcmp(claim, "not_applicable") == 0 && (strcmp(st, "fail") == 0 || strcmp(st, "pass") == 0)) {
		snprintf(msg, size, "the partner declares this not applicable, but tenken observed it (%s)", st);
	}
}

int tk_attestation_apply(cJSON *report, const char *file, struct tk_err *err)
{
	char *text = NULL, sha[65];
	size_t len;
	unsigned char d[32];
	cJSON *rows = NULL, *sec = NULL, *unknown;
	const cJSON *row;
	int rc, answers = 0, contradictions = 0;

	if ((rc = tk_read_file(file, TK_ATTEST_MAX_BYTES, &text, &len, err)))
		return rc;
	tk_sha256(text, len, d);
	tk_hex(d, 32, sha);
	rc = tk_attestation_parse(file, text, len, &rows, err);
	free(text);
	if (rc)
		return rc;
	sec = cJSON_CreateObject();
	unknown = cJSON_CreateArray();
	if (!sec || !unknown) {
		cJSON_Delete(unknown);
		rc = TK_ERR_NOMEM;
		goto out;
	}
	cJSON_AddStringToObject(sec, "file", file);
	cJSON_AddStringToObject(sec, "sha256", sha);
	for (row = rows->child->next; row; row = row->next) {
		const char *no = cell(row, 0), *answer = cell(row, 4), *plan = cell(row, 6), *claim;
		cJSON *it, *att;
		char msg[1024];
		if (!*answer || is_tenken_text(answer))
			continue;
		if (!(it = find_item(report, no))) {
			cJSON_AddItemToArray(unknown, cJSON_CreateString(no));
			continue;
		}
		claim = claim_of(answer);
		att = cJSON_CreateObject();
		cJSON_AddStringToObject(att, "answer", answer);
		if (*plan && !is_tenken_text(plan) && !is_rule_line(plan))
			cJSON_AddStringToObject(att, "plan", plan);
		cJSON_AddBoolToObject(att, "self_declared", true);
		cJSON_AddStringToObject(att, "claim", claim);
		contradiction(claim, tk_json_str(it, "status"), it, msg, sizeof(msg));
		if (*msg) {
			cJSON_AddStringToObject(att, "contradiction", msg);
			contradictions++;
		}
		tk_json_set(it, "attestation", att);
		answers++;
	}
	cJSON_AddNumberToObject(sec, "answers", answers);
	cJSON_AddNumberToObject(sec, "contradictions", contradictions);
	cJSON_AddItemToObject(sec, "unknown_items", unknown);
	if ((rc = tk_json_set(report, "attestation", sec)) == TK_OK)
		sec = NULL;
out:
	cJSON_Delete(sec);
	cJSON_Delete(rows);
	return rc;
}
