/*
 * csv.c - renderer "csv": the checklist in its own columns (通番, 区分,
 * セキュリティ対応目標, 対象者, 現在の対応状況, 課題認識, 課題への対応計画,
 * 関連規定, 関連規定箇所, 備考), one row per item. UTF-8 with a BOM so Excel
 * reads Japanese correctly; RFC 4180 quoting and CRLF line ends. The same
 * format is read back by --attestation (see waivers.c).
 */
#include "report.h"
#include "rutil.h"

#include <stdio.h>
#include <string.h>

#define CSV_MAX_FINDINGS_PER_CELL 200

#define TRY(x)                           \
	do {                             \
		if ((rc = (x)) != TK_OK) \
			goto out;        \
	} while (0)

/* One record: the item's 10 fields. The first error stops it (TRY). */
static int csv_row(struct tk_buf *out, const cJSON *it, const struct tk_r_item_text *t, const char *lang)
{
	const char *en = strcmp(lang, "en") == 0 ? "_en" : "";
	char no[32], k_ch[16], k_goal[16], k_party[16];
	const char *fields[10];
	size_t i;
	int rc = TK_OK;
	snprintf(k_ch, sizeof(k_ch), "chapter%s", en);
	snprintf(k_goal, sizeof(k_goal), "goal%s", en);
	snprintf(k_party, sizeof(k_party), "party%s", en);
	tk_item_no_str(cJSON_GetObjectItemCaseSensitive(it, "no"), no, sizeof(no));
	fields[0] = no;
	fields[1] = *tk_r_str(it, k_ch) ? tk_r_str(it, k_ch) : tk_r_str(it, "chapter");
	fields[2] = *tk_r_str(it, k_goal) ? tk_r_str(it, k_goal) : tk_r_str(it, "goal");
	fields[3] = *tk_r_str(it, k_party) ? tk_r_str(it, k_party) : tk_r_str(it, "party");
	fields[4] = t->status_text;
	fields[5] = t->issues;
	fields[6] = t->plan;
	fields[7] = t->related;
	fields[8] = t->related_sections;
	fields[9] = t->remarks;
	for (i = 0; i < 10; i++) {
		if (i)
			TRY(tk_buf_puts(out, ","));
		TRY(tk_r_csv(out, fields[i]));
	}
	TRY(tk_buf_puts(out, "\r\n"));
out:
	return rc;
}

static int render_csv_ix(const cJSON *report, const struct tk_r_index *ix, const struct tk_render_opts *opts,
			 struct tk_buf *out, struct tk_err *err)
{
	const char *lang = tk_r_lang(opts ? opts->lang : NULL);
	const cJSON *cols = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(report, "checklist"), "columns"), lang);
	const cJSON *c, *it;
	int rc;

	if (cJSON_GetArraySize(cols) != 10)
		return tk_seterr(err, TK_ERR_PARSE, "report.json: checklist.columns.%s: expected 10 columns", lang);
	TRY(tk_buf_puts(out, "\xEF\xBB\xBF"));
	cJSON_ArrayForEach(c, cols)
	{
		if (c != cols->child)
			TRY(tk_buf_puts(out, ","));
		TRY(tk_r_csv(out, cJSON_IsString(c) ? c->valuestring : ""));
	}
	TRY(tk_buf_puts(out, "\r\n"));
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(report, "items"))
	{
		struct tk_r_item_text t;
		TRY(tk_r_item_text(ix, it, lang, CSV_MAX_FINDINGS_PER_CELL, &t));
		rc = csv_row(out, it, &t, lang);
		tk_r_item_text_free(&t);
		if (rc)
			goto out;
	}
out:
	if (rc)
		return tk_seterr(err, rc, "checklist.csv: %s", tk_strerror(rc));
	return TK_OK;
}

static int render_csv(const cJSON *report, const struct tk_render_opts *opts, struct tk_buf *out,
		       struct tk_err *err)
{
	struct tk_r_index ix;
	int rc;
	if (tk_r_index_build(report, &ix))
		return tk_seterr(err, TK_ERR_NOMEM, "checklist.csv: out of memory");
	rc = render_csv_ix(report, &ix, opts, out, err);
	tk_r_index_free(&ix);
	return rc;
}

const struct tk_renderer tk_renderer_csv = {
	.name = "csv",
	.file_name = "checklist.csv",
	.render = render_csv,
};
