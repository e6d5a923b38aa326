/*
 * html.c - renderer "html": one self-contained report.html for the bank's
 * reviewers. No network fetches: inline CSS and SVG only, no scripts.
 * Japanese by default, English with --lang en. Sections: summary (partner,
 * checklist, scan time, counts by status, gate verdict, audit evidence),
 * trend (item statuses over the partner's stored scans, inline SVG), the
 * checklist (every item, in the checklist's own columns), per-target detail,
 * probes. Print CSS lays it out on A4 landscape. All text is escaped.
 */
#include "report.h"
#include "rutil.h"

#include <stdio.h>
#include <string.h>

#define HTML_MAX_FINDINGS_PER_CELL 50

static const char *const statuses[] = {"fail", "waived", "incomplete", "manual", "not_applicable", "pass"};
static const char *const colours[] = {"#c62828", "#8e24aa", "#ef6c00", "#1565c0", "#9e9e9e", "#2e7d32"};

static const char css[] =
	"*{box-sizing:border-box}"
	"body{font-family:'Noto Sans CJK JP','Hiragino Sans','Yu Gothic',Meiryo,sans-serif;margin:0;padding:16px 24px;"
	"color:#212121;background:#fff;font-size:13px;line-height:1.45}"
	"h1{font-size:20px;margin:0 0 8px}h2{font-size:16px;border-bottom:2px solid #37474f;padding-bottom:2px;"
	"margin:20px 0 8px}h3{font-size:14px;margin:12px 0 4px}"
	"table{border-collapse:collapse;width:100%}th,td{border:1px solid #b0bec5;padding:3px 5px;vertical-align:top;"
	"text-align:left}th{background:#eceff1;font-weight:600}"
	"td.pre{white-space:pre-line;word-break:break-word}"
	".meta th{width:14em}.mono{font-family:monospace;font-size:11px;word-break:break-all}"
	".b{display:inline-block;padding:0 6px;border-radius:3px;color:#fff;font-weight:600;font-size:12px;"
	"white-space:nowrap}"
	".s-fail{background:#c62828}.s-waived{background:#8e24aa}.s-incomplete{background:#ef6c00}"
	".s-manual{background:#1565c0}.s-not_applicable{background:#9e9e9e}.s-pass{background:#2e7d32}"
	".s-warn{background:#f9a825}.s-error{background:#ef6c00}"
	"tr.r-manual td{background:#e3f2fd}tr.r-fail td{background:#ffebee}tr.r-waived td{background:#f3e5f5}"
	"tr.r-incomplete td{background:#fff3e0}"
	".ask{color:#0d47a1;font-weight:700}.contra{color:#b71c1c;font-weight:700}"
	".counts span{margin-right:10px}.verdict{font-size:16px}"
	"table.cl{font-size:12px;table-layout:fixed}"
	"table.cl col.c0{width:3%}table.cl col.c1{width:8%}table.cl col.c2{width:11%}table.cl col.c3{width:5%}"
	"table.cl col.c4{width:22%}table.cl col.c5{width:14%}table.cl col.c6{width:14%}table.cl col.c7{width:7%}"
	"table.cl col.c8{width:6%}table.cl col.c9{width:10%}"
	"svg{max-width:100%;height:auto}"
	"@page{size:A4 landscape;margin:10mm}"
	"@media print{body{padding:0;font-size:10px}table.cl{font-size:9px}thead{display:table-header-group}"
	"tr{page-break-inside:avoid;break-inside:avoid}h2{page-break-after:avoid;break-after:avoid}"
	"section.targets{page-break-before:always;break-before:page}"
	"*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}";

static int esc(struct tk_buf *b, const char *s)
{
	return tk_r_xml(b, s);
}

static int badge(struct tk_buf *b, const char *status, const char *lang)
{
	int rc = tk_buf_puts(b, "<span class=\"b s-");
	rc = rc ? rc : esc(b, status);
	rc = rc ? rc : tk_buf_puts(b, "\">");
	rc = rc ? rc : esc(b, tk_r_status_label(status, lang));
	return rc ? rc : tk_buf_puts(b, "</span>");
}

static int meta_row(struct tk_buf *b, const char *k, const char *v, bool mono)
{
	int rc = tk_buf_puts(b, "<tr><th>");
	rc = rc ? rc : esc(b, k);
	rc = rc ? rc : tk_buf_puts(b, mono ? "</th><td class=\"mono\">" : "</th><td>");
	rc = rc ? rc : esc(b, v);
	return rc ? rc : tk_buf_puts(b, "</td></tr>\n");
}

static int count_of(const cJSON *counts, const char *status)
{
	return tk_r_int(counts, status, 0);
}

/* Stacked bars of item statuses, one bar per stored scan (oldest left). */
static int trend_svg(struct tk_buf *b, const cJSON *history, const char *lang)
{
	const int W = 760, H = 220, L = 40, R = 10, T = 10, Bm = 40;
	int n = cJSON_GetArraySize(history), i = 0, maxv = 1, rc = TK_OK;
	double bw;
	const cJSON *h;
	bool en = strcmp(lang, "en") == 0;
	size_t k;

	cJSON_ArrayForEach(h, history)
	{
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(h, "items");
		int tot = 0;
		for (k = 0; k < TK_ARRAY_LEN(statuses); k++)
			tot += count_of(c, statuses[k]);
		if (tot > maxv)
			maxv = tot;
	}
	if (n == 0) {
		rc = tk_buf_printf(b, "<p>%s</p>\n", en ? "No stored scans yet." : "保存済みの点検はまだありません。");
		return rc;
	}
	bw = (double)(W - L - R) / n;
	rc = tk_buf_printf(b,
			   "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
			   "role=\"img\" aria-label=\"%s\">\n<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#fafafa\"/>\n",
			   W, H + 24, W, H + 24, en ? "Item status trend" : "項目状態の推移", W, H + 24);
	rc = rc ? rc : tk_buf_printf(b, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#607d8b\"/>\n", L, H - Bm,
				     W - R, H - Bm);
	rc = rc ? rc : tk_buf_printf(b, "<text x=\"%d\" y=\"%d\" font-size=\"10\" text-anchor=\"end\">%d</text>\n", L - 4,
				     T + 8, maxv);
	rc = rc ? rc : tk_buf_printf(b, "<text x=\"%d\" y=\"%d\" font-size=\"10\" text-anchor=\"end\">0</text>\n", L - 4,
				     H - Bm);
	cJSON_ArrayForEach(h, history)
	{
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(h, "items");
		double y = H - Bm, x = L + i * bw;
		if (rc)
			break;
		rc = tk_buf_puts(b, "<g><title>");
		rc = rc ? rc : esc(b, tk_r_str(h, "started_at"));
		for (k = 0; k < TK_ARRAY_LEN(statuses) && rc == TK_OK; k++)
			rc = tk_buf_printf(b, " %s=%d", statuses[k], count_of(c, statuses[k]));
		rc = rc ? rc : tk_buf_puts(b, "</title>");
		for (k = 0; k < TK_ARRAY_LEN(statuses) && rc == TK_OK; k++) {
			double hh = (double)count_of(c, statuses[k]) * (H - Bm - T) / maxv;
			if (hh <= 0)
				continue;
			y -= hh;
			rc = tk_buf_printf(b, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\"/>", x + bw * 0.1,
					   y, bw * 0.8 > 0.5 ? bw * 0.8 : 0.5, hh, colours[k]);
		}
		rc = rc ? rc : tk_buf_puts(b, "</g>\n");
		if (rc == TK_OK && (i == 0 || i == n - 1)) {
			char d[11];
			snprintf(d, sizeof(d), "%.10s", tk_r_str(h, "started_at"));
			rc = tk_buf_printf(b, "<text x=\"%.2f\" y=\"%d\" font-size=\"10\" text-anchor=\"%s\">", x + bw / 2,
					   H - Bm + 14, i == 0 && n > 1 ? "start" : "end");
			rc = rc ? rc : esc(b, d);
			rc = rc ? rc : tk_buf_puts(b, "</text>\n");
		}
		i++;
	}
	for (k = 0; k < TK_ARRAY_LEN(statuses) && rc == TK_OK; k++) {
		int lx = L + (int)k * 115;
		rc = tk_buf_printf(b, "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/>", lx, H - 8, colours[k]);
		rc = rc ? rc : tk_buf_printf(b, "<text x=\"%d\" y=\"%d\" font-size=\"11\">", lx + 14, H + 1);
		rc = rc ? rc : esc(b, tk_r_status_label(statuses[k], lang));
		rc = rc ? rc : tk_buf_puts(b, "</text>\n");
	}
	rc = rc ? rc : tk_buf_puts(b, "</svg>\n");
	return rc;
}

/* The target as scanned: the scalar facts of its observations (e.g. status
 * codes, certificate fingerprints, versions), at most 40 per observation. */
static int observed_facts(struct tk_buf *b, const cJSON *report, const char *target, bool en)
{
	const cJSON *o;
	int rc = TK_OK;
	cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(report, "observations"))
	{
		const cJSON *k;
		int n = 0;
		if (strcmp(tk_r_str(o, "target"), target) != 0)
			continue;
		rc = rc ? rc : tk_buf_printf(b, "<p class=\"mono\">%s ", en ? "observed:" : "観測値:");
		cJSON_ArrayForEach(k, o)
		{
			char *v;
			if (cJSON_IsObject(k) || cJSON_IsArray(k) || strcmp(k->string, "target") == 0 || n >= 40)
				continue;
			v = cJSON_PrintUnformatted(k);
			rc = rc ? rc : tk_buf_puts(b, n ? "; " : "");
			rc = rc ? rc : esc(b, k->string);
			rc = rc ? rc : tk_buf_puts(b, "=");
			rc = rc ? rc : esc(b, v ? v : "");
			cJSON_free(v);
			n++;
		}
		rc = rc ? rc : tk_buf_puts(b, "</p>\n");
	}
	return rc;
}

static int cell(struct tk_buf *b, const char *s)
{
	int rc = tk_buf_puts(b, "<td class=\"pre\">");
	rc = rc ? rc : esc(b, s);
	return rc ? rc : tk_buf_puts(b, "</td>");
}

static int render_html_ix(const cJSON *report, const struct tk_r_index *ix, const struct tk_render_opts *opts,
			struct tk_buf *out,
		       struct tk_err *err)
{
	const char *lang = tk_r_lang(opts ? opts->lang : NULL);
	bool en = strcmp(lang, "en") == 0;
	const cJSON *partner = cJSON_GetObjectItemCaseSensitive(report, "partner");
	const cJSON *clj = cJSON_GetObjectItemCaseSensitive(report, "checklist");
	const cJSON *tool = cJSON_GetObjectItemCaseSensitive(report, "tool");
	const cJSON *gate = cJSON_GetObjectItemCaseSensitive(report, "gate");
	const cJSON *counts = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(report, "summary"), "items");
	const cJSON *cols = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(clj, "columns"), lang);
	const cJSON *it, *f, *c, *prev = cJSON_GetObjectItemCaseSensitive(report, "previous_report");
	cJSON *targets = NULL, *one_hist = NULL;
	const char *cl = tk_r_checklist_id(report);
	char buf[512];
	size_t k;
	int rc;

	rc = tk_buf_printf(out, "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n"
				"<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n"
				"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n<title>",
			   lang);
	snprintf(buf, sizeof(buf), "%s %s — %s", en ? "tenken report:" : "tenken 点検レポート:", tk_r_str(partner, "id"), cl);
	rc = rc ? rc : esc(out, buf);
	rc = rc ? rc : tk_buf_printf(out, "</title>\n<style>%s</style>\n</head>\n<body>\n<header>\n<h1>", css);
	rc = rc ? rc : esc(out, en ? "tenken compliance report" : "tenken 点検レポート");
	rc = rc ? rc : tk_buf_puts(out, "</h1>\n");

	/* ---- summary ---- */
	rc = rc ? rc : tk_buf_printf(out, "<p class=\"verdict\">%s ", en ? "Gate verdict:" : "ゲート判定:");
	{
		const char *v = tk_r_str(gate, "verdict");
		rc = rc ? rc : badge(out, strcmp(v, "fail") == 0 ? "fail" : strcmp(v, "pass") == 0 ? "pass" : "incomplete", lang);
		rc = rc ? rc : tk_buf_puts(out, " <span class=\"mono\">");
		rc = rc ? rc : esc(out, v);
		rc = rc ? rc : tk_buf_printf(out, " (exit %d)</span></p>\n", tk_r_int(gate, "exit_code", -1));
	}
	rc = rc ? rc : tk_buf_puts(out, "<p class=\"counts\">");
	for (k = 0; k < TK_ARRAY_LEN(statuses) && rc == TK_OK; k++) {
		rc = tk_buf_puts(out, "<span>");
		rc = rc ? rc : badge(out, statuses[k], lang);
		rc = rc ? rc : tk_buf_printf(out, " %d</span>", count_of(counts, statuses[k]));
	}
	rc = rc ? rc : tk_buf_printf(out, "<span>%s %d</span></p>\n", en ? "total" : "合計", count_of(counts, "total"));
	rc = rc ? rc : tk_buf_puts(out, "<table class=\"meta\">\n");
	snprintf(buf, sizeof(buf), "%s (%s)", tk_r_str(partner, "name"), tk_r_str(partner, "id"));
	rc = rc ? rc : meta_row(out, en ? "Partner" : "API接続先", buf, false);
	snprintf(buf, sizeof(buf), "%s [%s, %s]", tk_r_i18n(clj, "title", lang), cl, tk_r_str(clj, "version"));
	rc = rc ? rc : meta_row(out, en ? "Checklist" : "チェックリスト", buf, false);
	snprintf(buf, sizeof(buf), "%s — %s (UTC)%s", tk_r_str(report, "started_at"), tk_r_str(report, "finished_at"),
		 cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(report, "complete")) ? "" : en ? " INCOMPLETE" : " 未完了");
	rc = rc ? rc : meta_row(out, en ? "Scan time" : "点検日時", buf, false);
	rc = rc ? rc : meta_row(out, en ? "Mode" : "種別", tk_r_str(report, "mode"), false);
	rc = rc ? rc : meta_row(out, en ? "Run ID" : "実行ID", tk_r_str(report, "run_id"), true);
	snprintf(buf, sizeof(buf), "tenken %s (data: %s)", tk_r_str(tool, "version"), tk_r_str(tool, "data_origin"));
	rc = rc ? rc : meta_row(out, en ? "Tool" : "ツール", buf, false);
	rc = rc ? rc : meta_row(out, en ? "Rule set SHA-256" : "ルールセット SHA-256", tk_r_str(tool, "rules_sha256"), true);
	rc = rc ? rc : meta_row(out, en ? "Checklist data SHA-256" : "チェックリスト SHA-256", tk_r_str(clj, "sha256"), true);
	rc = rc ? rc : meta_row(out, en ? "Config SHA-256" : "設定 SHA-256",
				tk_r_str(cJSON_GetObjectItemCaseSensitive(report, "config"), "sha256"), true);
	if (cJSON_GetObjectItemCaseSensitive(report, "tailoring")) {
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(report, "tailoring");
		snprintf(buf, sizeof(buf), "%s %s (sha256 %s)", tk_r_str(t, "name"), tk_r_str(t, "file"), tk_r_str(t, "sha256"));
		rc = rc ? rc : meta_row(out, en ? "Tailoring" : "テーラリング", buf, true);
	}
	if (prev && cJSON_IsObject(prev)) {
		snprintf(buf, sizeof(buf), "#%d %s sha256:%s", tk_r_int(prev, "seq", 0), tk_r_str(prev, "run_id"),
			 tk_r_str(prev, "sha256"));
		rc = rc ? rc : meta_row(out, en ? "Previous report" : "前回レポート", buf, true);
	} else if (cJSON_GetObjectItemCaseSensitive(report, "previous_report")) {
		rc = rc ? rc : meta_row(out, en ? "Previous report" : "前回レポート", en ? "none (first stored scan)" : "なし（初回）", false);
	}
	{
		const cJSON *w;
		int nw = 0, nx = 0;
		cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(report, "waivers"), "applied"))
			nw++;
		cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(report, "waivers"), "expired"))
			nx++;
		if (cJSON_GetObjectItemCaseSensitive(report, "waivers")) {
			snprintf(buf, sizeof(buf), en ? "%d applied, %d expired (not applied)" : "適用 %d 件、期限切れ %d 件（適用せず）", nw, nx);
			rc = rc ? rc : meta_row(out, en ? "Waivers" : "例外承認", buf, false);
		}
		if (cJSON_GetObjectItemCaseSensitive(report, "attestation")) {
			const cJSON *a = cJSON_GetObjectItemCaseSensitive(report, "attestation");
			snprintf(buf, sizeof(buf), en ? "%s (sha256 %.16s…): %d answers, %d contradictions"
						      : "%s（sha256 %.16s…）: 回答 %d 件、矛盾 %d 件",
				 tk_r_str(a, "file"), tk_r_str(a, "sha256"), tk_r_int(a, "answers", 0), tk_r_int(a, "contradictions", 0));
			rc = rc ? rc : meta_row(out, en ? "Self-attestation" : "自己申告", buf, false);
		}
	}
	rc = rc ? rc : tk_buf_puts(out, "</table>\n</header>\n");

	/* ---- trend ---- */
	rc = rc ? rc : tk_buf_printf(out, "<section class=\"trend\">\n<h2>%s</h2>\n",
				     en ? "Trend of item statuses (stored scans)" : "項目状態の推移（保存済みの点検）");
	if (rc == TK_OK) {
		const cJSON *hist = opts ? opts->history : NULL;
		if (!hist || cJSON_GetArraySize(hist) == 0) {
			cJSON *e;
			one_hist = cJSON_CreateArray();
			e = cJSON_CreateObject();
			cJSON_AddStringToObject(e, "started_at", tk_r_str(report, "started_at"));
			cJSON_AddItemToObject(e, "items", cJSON_Duplicate(counts, true));
			cJSON_AddItemToArray(one_hist, e);
			hist = one_hist;
		}
		rc = trend_svg(out, hist, lang);
	}
	rc = rc ? rc : tk_buf_puts(out, "</section>\n");

	/* ---- checklist ---- */
	rc = rc ? rc : tk_buf_printf(out, "<section class=\"checklist\">\n<h2>%s</h2>\n<p>",
				     en ? "Checklist" : "チェックリスト");
	rc = rc ? rc : esc(out, en ? "Items marked \"needs answer\" have no automated check: the partner must answer them."
				   : "「要回答」の項目は自動点検の対象外です。API接続先の回答が必要です。");
	rc = rc ? rc : tk_buf_puts(out, "</p>\n<table class=\"cl\">\n<colgroup>");
	for (k = 0; k < 10 && rc == TK_OK; k++)
		rc = tk_buf_printf(out, "<col class=\"c%zu\">", k);
	rc = rc ? rc : tk_buf_puts(out, "</colgroup>\n<thead><tr>");
	cJSON_ArrayForEach(c, cols)
	{
		rc = rc ? rc : tk_buf_puts(out, "<th>");
		rc = rc ? rc : esc(out, cJSON_IsString(c) ? c->valuestring : "");
		rc = rc ? rc : tk_buf_puts(out, "</th>");
	}
	rc = rc ? rc : tk_buf_puts(out, "</tr></thead>\n<tbody>\n");
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(report, "items"))
	{
		const char *st = tk_r_str(it, "status");
		const cJSON *att = cJSON_GetObjectItemCaseSensitive(it, "attestation");
		struct tk_r_item_text t;
		char no[32];
		if (rc)
			break;
		tk_item_no_str(cJSON_GetObjectItemCaseSensitive(it, "no"), no, sizeof(no));
		if ((rc = tk_r_item_text(ix, it, lang, HTML_MAX_FINDINGS_PER_CELL, &t)))
			break;
		rc = tk_buf_puts(out, "<tr class=\"r-");
		rc = rc ? rc : esc(out, st);
		rc = rc ? rc : tk_buf_puts(out, "\" id=\"item-");
		rc = rc ? rc : esc(out, no);
		rc = rc ? rc : tk_buf_puts(out, "\"><td>");
		rc = rc ? rc : esc(out, no);
		rc = rc ? rc : tk_buf_puts(out, "</td>");
		rc = rc ? rc : cell(out, en && *tk_r_str(it, "chapter_en") ? tk_r_str(it, "chapter_en") : tk_r_str(it, "chapter"));
		rc = rc ? rc : cell(out, en && *tk_r_str(it, "goal_en") ? tk_r_str(it, "goal_en") : tk_r_str(it, "goal"));
		rc = rc ? rc : cell(out, en && *tk_r_str(it, "party_en") ? tk_r_str(it, "party_en") : tk_r_str(it, "party"));
		rc = rc ? rc : tk_buf_puts(out, "<td class=\"pre\">");
		rc = rc ? rc : badge(out, st, lang);
		if (strcmp(st, "manual") == 0 && !att) {
			rc = rc ? rc : tk_buf_puts(out, " <span class=\"ask\">");
			rc = rc ? rc : esc(out, en ? "Partner's answer required" : "接続先の回答が必要");
			rc = rc ? rc : tk_buf_puts(out, "</span>");
		}
		if (att) {
			rc = rc ? rc : tk_buf_puts(out, " <span class=\"ask\">");
			rc = rc ? rc : esc(out, en ? "self-declared" : "自己申告");
			rc = rc ? rc : tk_buf_puts(out, "</span>");
			if (*tk_r_str(att, "contradiction")) {
				rc = rc ? rc : tk_buf_puts(out, " <span class=\"contra\">");
				rc = rc ? rc : esc(out, en ? "contradicts the evidence" : "証跡と矛盾");
				rc = rc ? rc : tk_buf_puts(out, "</span>");
			}
		}
		rc = rc ? rc : tk_buf_puts(out, "\n");
		rc = rc ? rc : esc(out, t.status_text);
		rc = rc ? rc : tk_buf_puts(out, "</td>");
		rc = rc ? rc : cell(out, t.issues);
		rc = rc ? rc : cell(out, t.plan);
		rc = rc ? rc : cell(out, t.related);
		rc = rc ? rc : cell(out, t.related_sections);
		rc = rc ? rc : cell(out, t.remarks);
		rc = rc ? rc : tk_buf_puts(out, "</tr>\n");
		tk_r_item_text_free(&t);
	}
	rc = rc ? rc : tk_buf_puts(out, "</tbody>\n</table>\n</section>\n");

	/* ---- per-target detail ---- */
	targets = cJSON_CreateObject();
	cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(report, "findings"))
	{
		const char *t = tk_r_str(f, "target");
		cJSON *arr = cJSON_GetObjectItemCaseSensitive(targets, t);
		if (!arr)
			arr = cJSON_AddArrayToObject(targets, t);
		cJSON_AddItemReferenceToArray(arr, (cJSON *)f);
	}
	rc = rc ? rc : tk_buf_printf(out, "<section class=\"targets\">\n<h2>%s</h2>\n", en ? "Per-target detail" : "対象別の詳細");
	{
		const cJSON *tg;
		cJSON_ArrayForEach(tg, targets)
		{
			const cJSON *x;
			rc = rc ? rc : tk_buf_puts(out, "<h3 class=\"mono\">");
			rc = rc ? rc : esc(out, *tg->string ? tg->string : "(no target)");
			rc = rc ? rc : tk_buf_puts(out, "</h3>\n");
			rc = rc ? rc : observed_facts(out, report, tg->string, en);
			rc = rc ? rc : tk_buf_printf(out, "<table><thead><tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr></thead><tbody>\n",
						     en ? "Rule" : "ルール", en ? "Status" : "結果", en ? "Severity" : "重要度",
						     en ? "Items" : "項目", en ? "Evidence" : "証跡");
			cJSON_ArrayForEach(x, tg)
			{
				const cJSON *n;
				char *ev = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(x, "evidence"));
				if (rc)
					break;
				rc = tk_buf_puts(out, "<tr><td class=\"mono\">");
				rc = rc ? rc : esc(out, tk_r_str(x, "rule"));
				rc = rc ? rc : tk_buf_puts(out, "<br>");
				rc = rc ? rc : esc(out, tk_r_i18n(x, "title_i18n", lang));
				rc = rc ? rc : tk_buf_puts(out, "</td><td>");
				rc = rc ? rc : badge(out, cJSON_GetObjectItemCaseSensitive(x, "waiver") ? "waived" : tk_r_str(x, "status"), lang);
				rc = rc ? rc : tk_buf_puts(out, "</td><td>");
				rc = rc ? rc : esc(out, tk_r_str(x, "severity"));
				rc = rc ? rc : tk_buf_puts(out, "</td><td>");
				cJSON_ArrayForEach(n, cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(x, "items"), cl))
				{
					char no[32];
					tk_item_no_str(n, no, sizeof(no));
					rc = rc ? rc : tk_buf_printf(out, "%s", n == cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(x, "items"), cl)->child ? "" : ", ");
					rc = rc ? rc : esc(out, no);
				}
				rc = rc ? rc : tk_buf_puts(out, "</td><td class=\"mono\">");
				rc = rc ? rc : esc(out, ev ? ev : "");
				if (*tk_r_str(x, "error")) {
					rc = rc ? rc : tk_buf_puts(out, "<br>");
					rc = rc ? rc : esc(out, tk_r_str(x, "error"));
				}
				rc = rc ? rc : tk_buf_puts(out, "</td></tr>\n");
				cJSON_free(ev);
			}
			rc = rc ? rc : tk_buf_puts(out, "</tbody></table>\n");
		}
	}
	rc = rc ? rc : tk_buf_puts(out, "</section>\n");

	/* ---- probes (targets as scanned) ---- */
	rc = rc ? rc : tk_buf_printf(out, "<section class=\"probes\">\n<h2>%s</h2>\n<table><thead><tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr></thead><tbody>\n",
				     en ? "Probes and targets as scanned" : "プローブと点検対象", en ? "Probe" : "プローブ",
				     en ? "Status" : "状態", en ? "Duration" : "所要時間", en ? "Targets" : "対象");
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(report, "probes"))
	{
		const cJSON *t;
		rc = rc ? rc : tk_buf_puts(out, "<tr><td>");
		rc = rc ? rc : esc(out, tk_r_str(c, "name"));
		rc = rc ? rc : tk_buf_puts(out, "</td><td>");
		rc = rc ? rc : esc(out, tk_r_str(c, "status"));
		if (*tk_r_str(c, "error")) {
			rc = rc ? rc : tk_buf_puts(out, ": ");
			rc = rc ? rc : esc(out, tk_r_str(c, "error"));
		}
		rc = rc ? rc : tk_buf_printf(out, "</td><td>%d ms</td><td class=\"pre mono\">", tk_r_int(c, "duration_ms", 0));
		cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(c, "targets"))
		{
			char *s = cJSON_IsString(t) ? NULL : cJSON_PrintUnformatted(t);
			rc = rc ? rc : esc(out, cJSON_IsString(t) ? t->valuestring : s ? s : "");
			rc = rc ? rc : tk_buf_puts(out, "\n");
			cJSON_free(s);
		}
		rc = rc ? rc : tk_buf_puts(out, "</td></tr>\n");
	}
	rc = rc ? rc : tk_buf_puts(out, "</tbody></table>\n</section>\n<footer><p class=\"mono\">");
	rc = rc ? rc : esc(out, tk_r_str(report, "schema"));
	rc = rc ? rc : tk_buf_puts(out, "</p></footer>\n</body>\n</html>\n");
	cJSON_Delete(targets);
	cJSON_Delete(one_hist);
	if (rc)
		return tk_seterr(err, rc, "report.html: %s", tk_strerror(rc));
	return TK_OK;
}

static int render_html(const cJSON *report, const struct tk_render_opts *opts, struct tk_buf *out,
		       struct tk_err *err)
{
	struct tk_r_index ix;
	int rc;
	if (tk_r_index_build(report, &ix))
		return tk_seterr(err, TK_ERR_NOMEM, "report.html: out of memory");
	rc = render_html_ix(report, &ix, opts, out, err);
	tk_r_index_free(&ix);
	return rc;
}

const struct tk_renderer tk_renderer_html = {
	.name = "html",
	.file_name = "report.html",
	.render = render_html,
};
