/*
 * portfolio.c - the portfolio page (see portfolio.h). No scripts, no network
 * fetches: inline CSS and SVG only, every text escaped. Sections: totals,
 * partners (verdict, age, stale flag, incomplete evidence, trend sparkline,
 * link to the newest report), the items failing across most partners,
 * waivers expiring soon, and one partners x items matrix per checklist.
 */
#include "portfolio.h"
#include "rutil.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct w {
	struct tk_buf *b;
	int rc;
};

static void put(struct w *w, const char *s)
{
	if (!w->rc)
		w->rc = tk_buf_puts(w->b, s);
}

static void pf(struct w *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void pf(struct w *w, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(tmp) && !w->rc)
		w->rc = TK_ERR_LIMIT;
	put(w, tmp);
}

static void esc(struct w *w, const char *s)
{
	if (!w->rc)
		w->rc = tk_r_xml(w->b, s);
}

static const char *L(const char *lang, const char *ja, const char *en)
{
	return strcmp(lang, "en") == 0 ? en : ja;
}

static const char css[] =
	"*{box-sizing:border-box}"
	"body{font-family:'Noto Sans CJK JP','Hiragino Sans','Yu Gothic',Meiryo,sans-serif;margin:0;padding:16px 24px;"
	"color:#212121;background:#fff;font-size:13px;line-height:1.4}"
	"h1{font-size:20px;margin:0 0 8px}h2{font-size:16px;border-bottom:2px solid #37474f;padding-bottom:2px;"
	"margin:20px 0 8px}"
	"table{border-collapse:collapse}th,td{border:1px solid #b0bec5;padding:2px 5px;text-align:left;vertical-align:top}"
	"th{background:#eceff1;font-weight:600}"
	".tiles span{display:inline-block;margin:0 10px 8px 0;padding:6px 12px;border-radius:4px;color:#fff;"
	"font-weight:700;font-size:15px}"
	".b{display:inline-block;padding:0 6px;border-radius:3px;color:#fff;font-weight:600;font-size:12px;white-space:nowrap}"
	".s-fail{background:#c62828}.s-waived{background:#8e24aa}.s-incomplete{background:#ef6c00}"
	".s-manual{background:#1565c0}.s-not_applicable{background:#9e9e9e}.s-pass{background:#2e7d32}"
	".s-stale{background:#5d4037}.s-unknown{background:#000}.s-total{background:#37474f}"
	"table.mx{font-size:10px}table.mx td{padding:0;width:14px;height:14px;text-align:center;color:#fff;"
	"font-weight:700}table.mx th{font-size:10px;padding:1px 3px;white-space:nowrap}"
	"table.mx td.p{background:#2e7d32}table.mx td.f{background:#c62828}table.mx td.i{background:#ef6c00}"
	"table.mx td.m{background:#1565c0}table.mx td.n{background:#bdbdbd}table.mx td.w{background:#8e24aa}"
	"table.mx td.x{background:#fff}"
	"tr.stale td{background:#efebe9}.small{font-size:11px;color:#455a64}.num{text-align:right}"
	".legend span{margin-right:10px}";

static const char *const statuses[] = {"pass", "fail", "incomplete", "manual", "not_applicable", "waived"};

static const char *status_label(const char *s, const char *lang)
{
	if (strcmp(s, "stale") == 0)
		return L(lang, "古い(要再検査)", "stale");
	return tk_r_status_label(s, lang);
}

static void badge(struct w *w, const char *status, const char *lang)
{
	put(w, "<span class=\"b s-");
	esc(w, status);
	put(w, "\">");
	esc(w, status_label(status, lang));
	put(w, "</span>");
}

/* The trend as a small inline SVG polyline of problems (fail + incomplete). */
static void sparkline(struct w *w, const cJSON *points)
{
	const cJSON *p;
	int n = cJSON_GetArraySize(points), i = 0, max = 1;
	cJSON_ArrayForEach(p, points) if (tk_r_int(p, "problems", 0) > max) max = tk_r_int(p, "problems", 0);
	put(w, "<svg width=\"90\" height=\"18\" viewBox=\"0 0 90 18\"><polyline fill=\"none\" stroke=\"#c62828\" "
	       "stroke-width=\"1.5\" points=\"");
	cJSON_ArrayForEach(p, points)
	{
		double x = n > 1 ? 88.0 * i / (n - 1) + 1 : 45, y = 17 - 16.0 * tk_r_int(p, "problems", 0) / max;
		pf(w, "%s%.1f,%.1f", i ? " " : "", x, y);
		i++;
	}
	put(w, "\"/></svg>");
}

static void totals(struct w *w, const cJSON *m, const char *lang)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(m, "totals");
	put(w, "<div class=\"tiles\">");
	pf(w, "<span class=\"s-total\">%s %d</span>", L(lang, "取引先", "partners"), tk_r_int(t, "partners", 0));
	pf(w, "<span class=\"s-fail\">%s %d</span>", status_label("fail", lang), tk_r_int(t, "fail", 0));
	pf(w, "<span class=\"s-incomplete\">%s %d</span>", status_label("incomplete", lang),
	   tk_r_int(t, "incomplete", 0));
	pf(w, "<span class=\"s-stale\">%s %d</span>", status_label("stale", lang), tk_r_int(t, "stale", 0));
	pf(w, "<span class=\"s-pass\">%s %d</span>", status_label("pass", lang), tk_r_int(t, "pass", 0));
	put(w, "</div>\n");
	pf(w, "<p class=\"small\">%s: ", L(lang, "生成日時", "generated"));
	esc(w, tk_r_str(m, "generated_at"));
	pf(w, " / %s %d %s</p>\n", L(lang, "最終検査からの経過がこれを超えると古い扱い:", "stale after"),
	   tk_r_int(m, "stale_after_hours", 0), L(lang, "時間", "hours"));
}

/* Worst first: stale, fail, incomplete, then pass; then by id. */
static int rank(const cJSON *p)
{
	const char *v = tk_r_str(p, "current_verdict");
	return strcmp(v, "fail") == 0 ? 0 : strcmp(v, "stale") == 0 ? 1 : strcmp(v, "incomplete") == 0 ? 2 : 3;
}

static void partners_table(struct w *w, const cJSON *m, const char *lang)
{
	const cJSON *p;
	int r;
	pf(w, "<h2 id=\"partners\">%s</h2>\n<table class=\"partners\"><thead><tr><th>%s</th><th>%s</th><th>%s</th>"
	      "<th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr></thead><tbody>\n",
	   L(lang, "取引先一覧", "Partners"), L(lang, "取引先", "partner"), L(lang, "判定", "verdict"),
	   L(lang, "最終検査", "last scan"), L(lang, "経過(時間)", "age (h)"), L(lang, "不合格/未確認", "fail/incomplete"),
	   L(lang, "未確認の根拠", "incomplete evidence"), L(lang, "推移", "trend"), L(lang, "報告書", "report"));
	for (r = 0; r < 4; r++)
		cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(m, "partners"))
		{
			const cJSON *c = cJSON_GetObjectItemCaseSensitive(p, "counts"), *inc, *age, *tr;
			int k = 0;
			if (rank(p) != r)
				continue;
			pf(w, "<tr%s><td>", cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "stale")) ? " class=\"stale\"" : "");
			esc(w, tk_r_str(p, "partner"));
			put(w, "</td><td>");
			badge(w, tk_r_str(p, "current_verdict"), lang);
			if (strcmp(tk_r_str(p, "current_verdict"), tk_r_str(p, "verdict")) != 0) {
				pf(w, " <span class=\"small\">(%s: ", L(lang, "最終判定", "last verdict"));
				esc(w, status_label(tk_r_str(p, "verdict"), lang));
				put(w, ")</span>");
			}
			put(w, "</td><td class=\"small\">");
			esc(w, tk_r_str(p, "finished_at"));
			pf(w, " #%d</td>", tk_r_int(p, "seq", 0));
			age = cJSON_GetObjectItemCaseSensitive(p, "age_hours");
			if (cJSON_IsNumber(age))
				pf(w, "<td class=\"num\">%.1f</td>", age->valuedouble);
			else
				pf(w, "<td>%s</td>", L(lang, "不明", "unknown"));
			pf(w, "<td class=\"num\">%d / %d</td><td class=\"small\">", tk_r_int(c, "fail", 0),
			   tk_r_int(c, "incomplete", 0));
			cJSON_ArrayForEach(inc, cJSON_GetObjectItemCaseSensitive(p, "incomplete"))
			{
				if (k++ == 3) {
					pf(w, "… (+%d)", cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(p, "incomplete")) - 3);
					break;
				}
				put(w, "<div>");
				esc(w, inc->string);
				put(w, ": ");
				esc(w, cJSON_IsString(inc) ? inc->valuestring : "");
				put(w, "</div>");
			}
			if (*tk_r_str(p, "record_error")) {
				put(w, "<div>");
				esc(w, tk_r_str(p, "record_error"));
				put(w, "</div>");
			}
			put(w, "</td><td>");
			tr = cJSON_GetObjectItemCaseSensitive(p, "trend");
			sparkline(w, cJSON_GetObjectItemCaseSensitive(tr, "points"));
			put(w, " <span class=\"small\">");
			esc(w, tk_r_str(tr, "direction"));
			put(w, "</span></td><td>");
			if (*tk_r_str(p, "report")) {
				put(w, "<a href=\"");
				esc(w, tk_r_str(p, "report"));
				put(w, "\">JSON</a>");
			}
			put(w, "</td></tr>\n");
		}
	put(w, "</tbody></table>\n");
}

static void top_failing(struct w *w, const cJSON *m, const char *lang)
{
	const cJSON *t, *arr = cJSON_GetObjectItemCaseSensitive(m, "top_failing");
	pf(w, "<h2 id=\"top\">%s</h2>\n", L(lang, "多くの取引先で不合格の項目", "Items failing across most partners"));
	if (cJSON_GetArraySize(arr) == 0) {
		pf(w, "<p>%s</p>\n", L(lang, "なし", "none"));
		return;
	}
	pf(w, "<table><thead><tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr></thead><tbody>\n",
	   L(lang, "チェックリスト", "checklist"), L(lang, "項番", "item"), L(lang, "不合格の取引先", "partners failing"),
	   L(lang, "目的", "goal"));
	cJSON_ArrayForEach(t, arr)
	{
		put(w, "<tr><td>");
		esc(w, tk_r_str(t, "checklist"));
		put(w, "</td><td>");
		esc(w, tk_r_str(t, "no"));
		pf(w, "</td><td class=\"num\">%d / %d</td><td>", tk_r_int(t, "fail", 0), tk_r_int(t, "of", 0));
		esc(w, tk_r_str(t, "goal"));
		put(w, "</td></tr>\n");
	}
	put(w, "</tbody></table>\n");
}

static void waivers(struct w *w, const cJSON *m, const char *lang)
{
	const cJSON *t, *arr = cJSON_GetObjectItemCaseSensitive(m, "waivers_expiring");
	pf(w, "<h2 id=\"waivers\">%s (%d %s)</h2>\n", L(lang, "期限が近い例外承認", "Waivers expiring soon"),
	   tk_r_int(m, "waiver_window_days", 30), L(lang, "日以内", "days"));
	if (cJSON_GetArraySize(arr) == 0) {
		pf(w, "<p>%s</p>\n", L(lang, "なし", "none"));
		return;
	}
	pf(w, "<table><thead><tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr></thead><tbody>\n",
	   L(lang, "取引先", "partner"), L(lang, "例外", "waiver"), L(lang, "対象", "target"), L(lang, "期限", "expires"),
	   L(lang, "残り日数", "days left"));
	cJSON_ArrayForEach(t, arr)
	{
		put(w, "<tr><td>");
		esc(w, tk_r_str(t, "partner"));
		put(w, "</td><td>");
		esc(w, tk_r_str(t, "id"));
		put(w, "</td><td>");
		esc(w, tk_r_str(t, "target"));
		put(w, "</td><td>");
		esc(w, tk_r_str(t, "expires"));
		pf(w, "</td><td class=\"num\">%d</td></tr>\n", tk_r_int(t, "days_left", 0));
	}
	put(w, "</tbody></table>\n");
}

static char letter(const char *s)
{
	static const char l[] = "pfimnw";
	size_t i;
	for (i = 0; i < 6; i++)
		if (strcmp(s, statuses[i]) == 0)
			return l[i];
	return 'x';
}

static void matrices(struct w *w, const cJSON *m, const char *lang)
{
	const cJSON *cl, *p, *no;
	size_t i;
	pf(w, "<h2 id=\"matrix\">%s</h2>\n<p class=\"legend\">", L(lang, "取引先 × 項目", "Partners × items"));
	for (i = 0; i < 6; i++) {
		put(w, "<span>");
		badge(w, statuses[i], lang);
		pf(w, " %c</span>", "PFIMNW"[i]);
	}
	put(w, "</p>\n");
	cJSON_ArrayForEach(cl, cJSON_GetObjectItemCaseSensitive(m, "checklists"))
	{
		const cJSON *goals = cJSON_GetObjectItemCaseSensitive(cl, "goals");
		int r;
		put(w, "<h3>");
		esc(w, tk_r_str(cl, "id"));
		pf(w, " (%d %s)</h3>\n<table class=\"mx\"><thead><tr><th></th>", tk_r_int(cl, "partners", 0),
		   L(lang, "取引先", "partners"));
		cJSON_ArrayForEach(no, cJSON_GetObjectItemCaseSensitive(cl, "items"))
		{
			put(w, "<th title=\"");
			esc(w, tk_r_str(goals, no->valuestring));
			put(w, "\">");
			esc(w, no->valuestring);
			put(w, "</th>");
		}
		put(w, "</tr></thead><tbody>\n");
		for (r = 0; r < 4; r++)
			cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(m, "partners"))
			{
				const cJSON *items = cJSON_GetObjectItemCaseSensitive(p, "items");
				if (rank(p) != r || strcmp(tk_r_str(p, "checklist"), tk_r_str(cl, "id")) != 0)
					continue;
				pf(w, "<tr%s><th>", cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "stale")) ? " class=\"stale\"" : "");
				esc(w, tk_r_str(p, "partner"));
				put(w, "</th>");
				cJSON_ArrayForEach(no, cJSON_GetObjectItemCaseSensitive(cl, "items"))
				{
					char c = letter(tk_r_str(items, no->valuestring));
					pf(w, "<td class=\"%c\">%c</td>", c, c == 'x' ? ' ' : c - 32);
				}
				put(w, "</tr>\n");
			}
		put(w, "</tbody></table>\n");
	}
}

int tk_portfolio_html(const cJSON *m, struct tk_buf *out, struct tk_err *err)
{
	struct w w = {out, 0};
	const char *lang = tk_r_lang(tk_r_str(m, "lang"));
	pf(&w,
	   "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n"
	   "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n"
	   "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
	   "img-src data:\">\n<title>%s</title>\n",
	   lang, L(lang, "tenken ポートフォリオ", "tenken portfolio"));
	put(&w, "<style>");
	put(&w, css);
	put(&w, "</style>\n</head>\n<body>\n<header>\n<h1>");
	put(&w, L(lang, "API接続先 ポートフォリオ", "API partner portfolio"));
	put(&w, "</h1>\n");
	totals(&w, m, lang);
	put(&w, "</header>\n");
	partners_table(&w, m, lang);
	top_failing(&w, m, lang);
	waivers(&w, m, lang);
	matrices(&w, m, lang);
	put(&w, "</body>\n</html>\n");
	if (w.rc)
		return tk_seterr(err, w.rc, "portfolio: the page exceeds its size limit");
	return TK_OK;
}
