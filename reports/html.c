/*
 * html.c - renderer "html": one self-contained report.html for the bank's
 * reviewer, who reads it first, and the auditor, who files it.
 *
 * Order (reviewer first): the verdict and counts; the items that need action
 * (fail, incomplete, waived), each with its targets, the plain-language
 * reason (the rule's title), the observed facts as labelled fields, the
 * remediation and the seed passage behind the rule; items that pass with
 * warnings; the manual items as a compact list asking for the partner's
 * answer; the trend. Then, folded on screen (<details>) and opened in print:
 * the full checklist table and the per-target detail. Internal references
 * (seed file names, rules/ paths, hashes) are in the appendix only.
 *
 * One language per report (--lang ja|en). No network fetches: inline CSS and
 * SVG, no scripts. All report text is escaped. The first error stops the
 * rendering (TRY).
 */
#define _GNU_SOURCE /* memmem */
#include "report.h"
#include "rutil.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define TRY(x)                                  \
	do {                                    \
		if ((rc = (x)) != TK_OK)        \
			goto out;               \
	} while (0)

#define TARGETS_PER_RULE 5          /* targets shown per rule in an action card */
#define FINDINGS_PER_TARGET 60      /* findings shown per target in the detail */
#define MAX_TARGETS_DETAIL 400      /* targets in the per-target detail */

struct html {
	struct tk_buf *out;
	const cJSON *report;
	const struct tk_r_index *ix;
	const struct tk_render_opts *opts;
	const char *lang;
	bool en;
	cJSON *detailed;   /* rule ids already detailed in an action card -> item no */
	bool notes;        /* the checklist table has a 備考 column */
};

static const char *const statuses[] = {"fail", "waived", "incomplete", "manual", "not_applicable", "pass_warn", "pass"};
static const char *const colours[] = {"#c62828", "#8e24aa", "#ef6c00", "#1565c0", "#9e9e9e", "#9e9d24", "#2e7d32"};

static const char css[] =
    "*{box-sizing:border-box}"
    "body{font-family:'Noto Sans CJK JP','Hiragino Sans','Yu Gothic',Meiryo,sans-serif;margin:0;padding:16px 24px;"
    "color:#212121;background:#fff;font-size:13px;line-height:1.45;max-width:1200px}"
    "html[lang=ja] body{line-break:strict;overflow-wrap:anywhere}"
    "html[lang=en] body{word-break:normal;overflow-wrap:normal;hyphens:none}"
    ".tok{overflow-wrap:anywhere}"
    "h1{font-size:20px;margin:0 0 6px}h2{font-size:16px;border-bottom:2px solid #37474f;padding-bottom:2px;"
    "margin:18px 0 8px}h3{font-size:14px;margin:10px 0 4px}h4{font-size:13px;margin:8px 0 2px}"
    "table{border-collapse:collapse;width:100%}th,td{border:1px solid #b0bec5;padding:2px 5px;vertical-align:top;"
    "text-align:left}th{background:#eceff1;font-weight:600}"
    ".pre{white-space:pre-line}"
    ".mono{font-family:monospace;font-size:11px}"
    ".b{display:inline-block;padding:0 6px;border-radius:3px;color:#fff;font-weight:600;font-size:12px;"
    "white-space:nowrap}"
    ".s-fail{background:#c62828}.s-waived{background:#8e24aa}.s-incomplete{background:#ef6c00}"
    ".s-manual{background:#1565c0}.s-not_applicable{background:#9e9e9e}.s-pass{background:#2e7d32}"
    ".s-pass_warn{background:#9e9d24}.s-warn{background:#f9a825;color:#212121}.s-error{background:#ef6c00}"
    ".verdict{font-size:16px;margin:6px 0}.counts span{margin-right:10px;white-space:nowrap}"
    ".meta{width:auto}.meta th{white-space:nowrap}"
    ".card{border:1px solid #b0bec5;border-left:6px solid #c62828;padding:4px 10px;margin:8px 0;"
    "break-inside:avoid-page}"
    ".card.c-incomplete{border-left-color:#ef6c00}.card.c-waived{border-left-color:#8e24aa}"
    ".card.c-pass_warn{border-left-color:#9e9d24}"
    ".rule{margin:6px 0 8px}.rule p{margin:2px 0}.sev{color:#555;font-size:12px}"
    "table.tg td:first-child{width:24%}"
    ".ev .f{display:inline-block;margin:0 12px 0 0}.ev .k{color:#546e7a;font-size:11px;margin-right:3px}"
    ".ev .k::after{content:\":\"}"
    ".basis{color:#37474f;font-size:12px}.ask{color:#0d47a1;font-weight:700}.contra{color:#b71c1c;font-weight:700}"
    "table.small{font-size:12px}table.cl{font-size:11px;table-layout:fixed}"
    "details{margin:8px 0}summary{font-weight:600;cursor:pointer}"
    "svg{max-width:100%;height:auto}.note{color:#555;font-size:12px}"
    "@page{size:A4;margin:10mm 9mm}"
    "@media print{body{padding:0;font-size:8.2px;line-height:1.22;max-width:none}table.cl,table.small{font-size:7.2px}"
    "h2{font-size:12px;margin:10px 0 4px}h3{font-size:10px;margin:6px 0 2px}h4{font-size:9px;margin:4px 0 1px}"
    ".b{font-size:8px;padding:0 3px}.ev .k{font-size:7.5px}.basis,.note,.sev{font-size:8px}.card{padding:2px "
    "6px;margin:5px 0}"
    "th,td{padding:1px 3px}.verdict{font-size:12px}.mono{font-size:7px}"
    "thead{display:table-header-group}tr{break-inside:avoid}h2,h3,h4{break-after:avoid}"
    "details::details-content{content-visibility:visible!important;display:block!important}"
    "summary{list-style:none}summary::-webkit-details-marker{display:none}"
    "*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}";

static int put(struct html *h, const char *s)
{
	return tk_buf_puts(h->out, s);
}

static int esc(struct html *h, const char *s)
{
	return tk_r_xml(h->out, s);
}

static const char *L(const struct html *h, const char *ja, const char *en)
{
	return h->en ? en : ja;
}

/* The item's display status: "pass_warn" for a pass whose findings include warnings. */
static const char *item_status(const cJSON *it)
{
	const char *st = tk_r_str(it, "status");
	if (strcmp(st, "pass") == 0 && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "with_warnings")))
		return "pass_warn";
	return st;
}

static const char *status_label(const struct html *h, const char *st)
{
	if (strcmp(st, "pass_warn") == 0)
		return L(h, "適合（注意あり）", "pass with warnings");
	return tk_r_status_label(st, h->lang);
}

static int badge(struct html *h, const char *st)
{
	int rc;
	TRY(put(h, "<span class=\"b s-"));
	TRY(esc(h, st));
	TRY(put(h, "\">"));
	TRY(esc(h, status_label(h, st)));
	TRY(put(h, "</span>"));
out:
	return rc;
}

/* "2026-12-07 12:37 JST (03:37 UTC)" from an RFC 3339 UTC time; s itself when unparsable. */
static void jst_utc(const struct html *h, const char *s, char *buf, size_t size)
{
	time_t t;
	struct tm j, u;
	char a[32], b[16];
	if (tk_parse_time(s, &t) != TK_OK) {
		snprintf(buf, size, "%s", s);
		return;
	}
	time_t tj = t + 9 * 3600;
	gmtime_r(&tj, &j);
	gmtime_r(&t, &u);
	strftime(a, sizeof(a), "%Y-%m-%d %H:%M:%S", &j);
	strftime(b, sizeof(b), "%H:%M:%S", &u);
	snprintf(buf, size, h->en ? "%s JST (%s UTC)" : "%s JST（%s UTC）", a, b);
	if (u.tm_mday != j.tm_mday) {
		char d[32];
		strftime(d, sizeof(d), "%Y-%m-%d %H:%M:%S", &u);
		snprintf(buf, size, h->en ? "%s JST (%s UTC)" : "%s JST（%s UTC）", a, d);
	}
}

static bool is_time(const char *s)
{
	time_t t;
	return strlen(s) == 20 && s[10] == 'T' && s[19] == 'Z' && tk_parse_time(s, &t) == TK_OK;
}

/* The unit a field's name implies, in the report's language ("" when none). */
static const char *unit_of(const struct html *h, const char *key)
{
	size_t n = strlen(key);
	if (strcmp(key, "max_age") == 0 || (n > 2 && strcmp(key + n - 2, "_s") == 0))
		return L(h, " 秒", " s");
	if (n > 3 && strcmp(key + n - 3, "_ms") == 0)
		return " ms";
	if (strstr(key, "days"))
		return L(h, " 日", " days");
	if (strstr(key, "bits"))
		return " bits";
	return "";
}

/* One value as text: strings as they are (times also in JST), booleans as
 * yes/no, arrays of scalars joined, objects as "k=v" pairs. */
static int value_text(struct html *h, const char *key, const cJSON *v)
{
	char buf[96];
	int rc = TK_OK;
	const cJSON *x;
	if (cJSON_IsString(v)) {
		if (is_time(v->valuestring)) {
			jst_utc(h, v->valuestring, buf, sizeof(buf));
			return esc(h, buf);
		}
		TRY(put(h, "<span class=\"tok\">"));
		TRY(esc(h, v->valuestring));
		return put(h, "</span>");
	}
	if (cJSON_IsBool(v))
		return esc(h, cJSON_IsTrue(v) ? L(h, "はい", "yes") : L(h, "いいえ", "no"));
	if (cJSON_IsNumber(v)) {
		if (v->valuedouble == (double)(long long)v->valuedouble)
			snprintf(buf, sizeof(buf), "%lld%s", (long long)v->valuedouble, unit_of(h, key));
		else
			snprintf(buf, sizeof(buf), "%g%s", v->valuedouble, unit_of(h, key));
		return esc(h, buf);
	}
	if (cJSON_IsNull(v))
		return esc(h, L(h, "（未観測）", "(not observed)"));
	cJSON_ArrayForEach(x, v)
	{
		TRY(put(h, x == v->child ? "" : ", "));
		if (cJSON_IsObject(v)) {
			TRY(esc(h, x->string));
			TRY(put(h, "="));
		}
		if (cJSON_IsObject(x) || cJSON_IsArray(x)) {
			char *s = cJSON_PrintUnformatted(x);
			rc = esc(h, s ? s : "");
			cJSON_free(s);
			if (rc)
				goto out;
		} else {
			TRY(value_text(h, x->string ? x->string : key, x));
		}
	}
out:
	return rc;
}

/* Nested records (arrays of objects, objects of objects) stay in report.json. */
static bool nested(const cJSON *v)
{
	const cJSON *x;
	if (!cJSON_IsArray(v) && !cJSON_IsObject(v))
		return false;
	cJSON_ArrayForEach(x, v) if (cJSON_IsArray(x) || cJSON_IsObject(x)) return true;
	return false;
}

/* Labelled fields of an evidence object, inline ("label: value"); nulls and
 * nested records left out (nulls shown only when every field is null). */
static int fields(struct html *h, const cJSON *obj, int max)
{
	const cJSON *e;
	int rc = TK_OK, n = 0, nonnull = 0;
	cJSON_ArrayForEach(e, obj) if (!cJSON_IsNull(e)) nonnull++;
	TRY(put(h, "<span class=\"ev\">"));
	cJSON_ArrayForEach(e, obj)
	{
		if ((cJSON_IsNull(e) && nonnull) || nested(e) || n >= max)
			continue;
		TRY(put(h, "<span class=\"f\"><span class=\"k\">"));
		TRY(esc(h, e->string));
		TRY(put(h, "</span>"));
		TRY(value_text(h, e->string, e));
		TRY(put(h, "</span> "));
		n++;
	}
	TRY(put(h, "</span>"));
out:
	return rc;
}

/* Length of the UTF-8 character at p and whether it is Japanese (CJK,
 * kana, full-width forms, CJK punctuation). */
static size_t u8char(const char *p, bool *cjk)
{
	const unsigned char *u = (const unsigned char *)p;
	unsigned cp;
	size_t n;
	if (u[0] < 0x80) {
		*cjk = false;
		return 1;
	}
	n = u[0] >= 0xf0 ? 4 : u[0] >= 0xe0 ? 3 : 2;
	cp = n == 2 ? (u[0] & 0x1fu) : n == 3 ? (u[0] & 0x0fu) : (u[0] & 0x07u);
	for (size_t i = 1; i < n; i++) {
		if ((u[i] & 0xc0) != 0x80) {
			*cjk = false;
			return 1;
		}
		cp = (cp << 6) | (u[i] & 0x3fu);
	}
	*cjk = (cp >= 0x3000 && cp <= 0x9fff) || (cp >= 0xff00 && cp <= 0xffef) || (cp >= 0xf900 && cp <= 0xfaff);
	return n;
}

/*
 * English text from a Japanese reference, for --lang en: 通番 -> "item",
 * 注 -> "note", 、 -> ", "; quotations (「…」『…』) and parentheses holding
 * Japanese are left out (the Japanese report and report.json keep them);
 * short identifiers such as 続4 are kept; other Japanese runs are dropped.
 */
static void english_only(const char *in, struct tk_buf *b)
{
	const char *p = in;
	while (*p) {
		bool cjk;
		size_t n;
		if (strncmp(p, "通番", 6) == 0) {
			tk_buf_puts(b, "item ");
			p += 6;
			continue;
		}
		if (strncmp(p, "注", 3) == 0) {
			tk_buf_puts(b, "note ");
			p += 3;
			continue;
		}
		if (strncmp(p, "、", 3) == 0 || strncmp(p, "，", 3) == 0) {
			tk_buf_puts(b, ", ");
			p += 3;
			continue;
		}
		if (strncmp(p, "「", 3) == 0 || strncmp(p, "『", 3) == 0 || strncmp(p, "（", 3) == 0 || *p == '(') {
			const char *close = strncmp(p, "「", 3) == 0   ? "」"
					    : strncmp(p, "『", 3) == 0 ? "』"
					    : strncmp(p, "（", 3) == 0 ? "）"
								       : ")";
			const char *e = strstr(p, close), *q;
			bool any = strncmp(p, "「", 3) == 0 || strncmp(p, "『", 3) == 0;
			for (q = p + (*p == '(' ? 1 : 3); e && q < e && !any;) {
				q += u8char(q, &any);
				any = any && strncmp(q - 3, "注", 3) != 0;
			}
			if (e && any) {
				p = e + strlen(close);
				continue;
			}
			if (strncmp(p, "（", 3) == 0) {
				tk_buf_puts(b, "(");
				p += 3;
				continue;
			}
		}
		if (strncmp(p, "）", 3) == 0) {
			tk_buf_puts(b, ")");
			p += 3;
			continue;
		}
		n = u8char(p, &cjk);
		if (cjk) {
			/* a run of Japanese: kept only when short and followed by a digit (an identifier) */
			const char *q = p;
			size_t chars = 0;
			bool c2 = true;
			while (*q && c2) {
				size_t m = u8char(q, &c2);
				if (c2) {
					q += m;
					chars++;
				}
			}
			if (chars <= 2 && *q >= '0' && *q <= '9')
				tk_buf_append(b, p, (size_t)(q - p));
			p = q;
			continue;
		}
		tk_buf_append(b, p, n);
		p += n;
	}
}

/* Does s hold Japanese text? */
static bool has_cjk(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		bool c;
		i += u8char(s + i, &c);
		if (c)
			return true;
	}
	return false;
}

/* The item references of a Japanese passage, in English: "item 26 (note 3)". */
static void refs_of(const char *p, size_t n, struct tk_buf *b)
{
	const char *end = p + n;
	while (p < end) {
		const char *q = p + 6;
		if ((size_t)(end - p) > 6 && strncmp(p, "通番", 6) == 0 && *q >= '0' && *q <= '9') {
			tk_buf_puts(b, ", item ");
			while (q < end && *q >= '0' && *q <= '9')
				tk_buf_append(b, q++, 1);
			p = q;
			continue;
		}
		if ((size_t)(end - p) > 3 && strncmp(p, "注", 3) == 0 && p[3] >= '0' && p[3] <= '9') {
			tk_buf_puts(b, " (note ");
			for (q = p + 3; q < end && *q >= '0' && *q <= '9'; q++)
				tk_buf_append(b, q, 1);
			tk_buf_puts(b, ")");
			p = q;
			continue;
		}
		p++;
	}
}

/*
 * A rule's basis for the reader: seed file names replaced by the documents'
 * titles. In English, a ";"-separated part that quotes Japanese becomes the
 * document's title and its item references; English parts stay as written.
 */
static int basis_text(struct html *h, const char *basis)
{
	const cJSON *srcs =
	    cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(h->report, "sources"), "sources");
	struct tk_buf b;
	const char *p = basis;
	int rc;
	tk_buf_init(&b, 1 << 20);
	while (*p) {
		const char *semi = strchr(p, ';'), *end = semi ? semi : p + strlen(p), *q = p;
		const cJSON *s, *hit = NULL;
		while (*q == ' ')
			q++;
		cJSON_ArrayForEach(s, srcs) if (strncmp(q, s->string, strlen(s->string)) == 0) hit = s;
		if (memmem(q, (size_t)(end - q), "rules/", 6)) {
			/* a path into rules/ (e.g. a table) is an internal reference: appendix only */
			p = semi ? semi + 1 : end;
			continue;
		}
		if (b.len)
			tk_buf_puts(&b, "; ");
		if (hit) {
			tk_buf_puts(&b, tk_r_i18n(hit, h->lang, h->lang));
			q += strlen(hit->string);
		}
		if (h->en && has_cjk(q, (size_t)(end - q))) {
			size_t at = b.len;
			refs_of(q, (size_t)(end - q), &b);
			if (!hit && b.len > at) {
				/* no document named in this part: drop the leading ", " / " " */
				size_t cut = b.data[at] == ',' ? 2 : b.data[at] == ' ' ? 1 : 0;
				memmove(b.data + at, b.data + at + cut, b.len - at - cut + 1);
				b.len -= cut;
			} else if (!hit && b.len >= 2) {
				b.len -= 2;   /* nothing to say for this part: undo "; " */
				b.data[b.len] = '\0';
			}
		} else {
			if (hit)
				tk_buf_puts(&b, " ");
			while (q < end && *q == ' ')
				q++;
			tk_buf_append(&b, q, (size_t)(end - q));
		}
		p = semi ? semi + 1 : end;
	}
	rc = esc(h, b.data ? b.data : "");
	tk_buf_free(&b);
	return rc;
}

/* ---- summary ---- */

static int sec_header(struct html *h)
{
	const cJSON *r = h->report, *partner = cJSON_GetObjectItemCaseSensitive(r, "partner");
	const cJSON *clj = cJSON_GetObjectItemCaseSensitive(r, "checklist"),
		    *gate = cJSON_GetObjectItemCaseSensitive(r, "gate");
	const cJSON *counts = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r, "summary"), "items");
	const char *v = tk_r_str(gate, "verdict");
	char buf[512], t1[96], t2[96];
	int rc, passw = tk_r_int(counts, "pass_with_warnings", 0);
	size_t k;

	TRY(put(h, "<header>\n<h1>"));
	TRY(esc(h, L(h, "tenken 点検レポート", "tenken compliance report")));
	TRY(put(h, "</h1>\n<p class=\"verdict\">"));
	TRY(esc(h, L(h, "ゲート判定: ", "Gate verdict: ")));
	TRY(badge(h, strcmp(v, "fail") == 0 ? "fail" : strcmp(v, "pass") == 0 ? "pass" : "incomplete"));
	snprintf(buf, sizeof(buf), h->en ? " exit code %d. %s" : "（終了コード %d）。%s", tk_r_int(gate, "exit_code", -1),
		 strcmp(v, "fail") == 0 ? L(h, "不適合の項目があります。下の「要対応の項目」を確認してください。",
					    "At least one item fails: see \"Items that need action\" below.")
		 : strcmp(v, "incomplete") == 0
			 ? L(h, "観測できなかった対象があり、判定を完了できません。", "Some targets could not be observed: the verdict is not final.")
			 : L(h, "自動点検で不適合の項目はありません。", "No automatically checked item fails."));
	TRY(esc(h, buf));
	TRY(put(h, "</p>\n<p class=\"counts\">"));
	for (k = 0; k < TK_ARRAY_LEN(statuses); k++) {
		int n = strcmp(statuses[k], "pass_warn") == 0 ? passw
			: strcmp(statuses[k], "pass") == 0  ? tk_r_int(counts, "pass", 0) - passw
							    : tk_r_int(counts, statuses[k], 0);
		TRY(put(h, "<span>"));
		TRY(badge(h, statuses[k]));
		TRY(tk_buf_printf(h->out, " %d</span>", n));
	}
	TRY(tk_buf_printf(h->out, "<span>%s %d</span></p>\n", L(h, "合計", "total"), tk_r_int(counts, "total", 0)));
	TRY(put(h, "<table class=\"meta small\">\n<tr><th>"));
	TRY(esc(h, L(h, "API接続先", "Partner")));
	TRY(put(h, "</th><td>"));
	snprintf(buf, sizeof(buf), "%s (%s)", tk_r_str(partner, "name"), tk_r_str(partner, "id"));
	TRY(esc(h, buf));
	TRY(put(h, "</td></tr>\n<tr><th>"));
	TRY(esc(h, L(h, "チェックリスト", "Checklist")));
	TRY(put(h, "</th><td>"));
	snprintf(buf, sizeof(buf), "%s (%s)", tk_r_i18n(clj, "title", h->lang), tk_r_str(clj, "version"));
	TRY(esc(h, buf));
	TRY(put(h, "</td></tr>\n<tr><th>"));
	TRY(esc(h, L(h, "点検日時", "Scanned")));
	TRY(put(h, "</th><td>"));
	jst_utc(h, tk_r_str(r, "started_at"), t1, sizeof(t1));
	jst_utc(h, tk_r_str(r, "finished_at"), t2, sizeof(t2));
	snprintf(buf, sizeof(buf), "%s — %s%s", t1, t2,
		 cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "complete")) ? ""
		 : h->en ? " (INCOMPLETE: not every target was observed)"
			 : "（未完了: 観測できなかった対象があります）");
	TRY(esc(h, buf));
	TRY(put(h, "</td></tr>\n<tr><th>"));
	TRY(esc(h, L(h, "種別", "Mode")));
	TRY(put(h, "</th><td>"));
	TRY(esc(h, strcmp(tk_r_str(r, "mode"), "gate") == 0 ? L(h, "接続前ゲート (gate)", "pre-go-live gate")
							     : L(h, "定期点検 (scan)", "scan")));
	TRY(put(h, "</td></tr>\n</table>\n</header>\n"));
out:
	return rc;
}

/* The item's findings that are not a plain pass, grouped by rule, in an action card. */
static int card_rules(struct html *h, const cJSON *it, size_t slot)
{
	const size_t *mine = h->ix->by_item[slot];
	size_t n = h->ix->nby_item[slot], i, j;
	cJSON *done = cJSON_CreateObject(), *same = cJSON_CreateObject();
	const cJSON *g, *t;
	char no[32];
	int rc = TK_OK;

	tk_item_no_str(cJSON_GetObjectItemCaseSensitive(it, "no"), no, sizeof(no));
	for (i = 0; i < n; i++) {
		const struct tk_r_finding *fx = &h->ix->f[mine[i]];
		const cJSON *f = fx->f;
		size_t shown = 0, total = 0;
		const char *seen_in;
		if (strcmp(fx->status, "pass") == 0 || cJSON_GetObjectItemCaseSensitive(done, fx->rule))
			continue;
		cJSON_AddTrueToObject(done, fx->rule);
		seen_in = tk_r_str(h->detailed, fx->rule);
		if (*seen_in) {
			/* detailed under an earlier item: one line for all of them, below */
			if (!cJSON_GetObjectItemCaseSensitive(same, seen_in))
				cJSON_AddArrayToObject(same, seen_in);
			cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(same, seen_in),
					     cJSON_CreateString(tk_r_f_title(h->report, f, h->lang)));
			continue;
		}
		TRY(put(h, "<div class=\"rule\"><p><b>"));
		TRY(esc(h, tk_r_f_title(h->report, f, h->lang)));
		TRY(put(h, "</b> "));
		TRY(badge(h, fx->status));
		TRY(tk_buf_printf(h->out, " <span class=\"sev\">%s ", L(h, "重要度:", "severity:")));
		TRY(esc(h, tk_r_f_str(h->report, f, "severity")));
		TRY(put(h, "</span></p>\n"));
		cJSON_AddStringToObject(h->detailed, fx->rule, no);
		TRY(tk_buf_printf(h->out, "<table class=\"tg small\"><thead><tr><th>%s</th><th>%s</th></tr></thead><tbody>\n",
				  L(h, "対象", "Target"), L(h, "観測事実", "Observed facts")));
		for (j = i; j < n; j++) {
			const struct tk_r_finding *gx = &h->ix->f[mine[j]];
			cJSON *ev;
			if (strcmp(gx->rule, fx->rule) != 0 || strcmp(gx->status, "pass") == 0)
				continue;
			total++;
			if (shown >= TARGETS_PER_RULE)
				continue;
			shown++;
			TRY(put(h, "<tr><td class=\"tok\">"));
			TRY(esc(h, gx->target));
			if (strcmp(gx->status, fx->status) != 0) {
				TRY(put(h, " "));
				TRY(badge(h, gx->status));
			}
			if (cJSON_GetObjectItemCaseSensitive(gx->f, "waiver")) {
				const cJSON *w = cJSON_GetObjectItemCaseSensitive(gx->f, "waiver");
				char buf[512];
				snprintf(buf, sizeof(buf),
					 h->en ? " [waived: %s, approved by %s, until %s]"
					       : "【例外承認: %s（承認者 %s、期限 %s）】",
					 tk_r_str(w, "justification"), tk_r_str(w, "approver"), tk_r_str(w, "expires"));
				TRY(esc(h, buf));
			}
			TRY(put(h, "</td><td>"));
			ev = tk_r_evidence(h->report, gx->f, h->ix->obs, h->ix->nobs);
			if (strcmp(gx->status, "error") == 0) {
				TRY(esc(h, L(h, "観測できませんでした: ", "Could not be observed: ")));
				TRY(esc(h, tk_r_str(ev, "message")));
				cJSON_Delete(ev);
			} else {
				rc = fields(h, ev, 16);
				cJSON_Delete(ev);
				if (rc)
					goto out;
			}
			TRY(put(h, "</td></tr>\n"));
		}
		TRY(put(h, "</tbody></table>\n"));
		if (total > shown)
			TRY(tk_buf_printf(h->out, "<p class=\"note\">%s %zu %s</p>\n", L(h, "他", "and"), total - shown,
					  L(h, "件の対象は「対象別の詳細」と report.json を参照。", "more targets: see the per-target detail and report.json.")));
		TRY(tk_buf_printf(h->out, "<p><b>%s</b> ", L(h, "対応:", "Remediation:")));
		TRY(esc(h, tk_r_f_remediation(h->report, f, h->lang)));
		TRY(tk_buf_printf(h->out, "</p>\n<p class=\"basis\"><b>%s</b> ", L(h, "根拠:", "Basis:")));
		TRY(basis_text(h, tk_r_f_str(h->report, f, "basis")));
		TRY(put(h, "</p></div>\n"));
	}
	cJSON_ArrayForEach(g, same)
	{
		TRY(put(h, "<p class=\"note\">"));
		TRY(tk_buf_printf(h->out, h->en ? "Also found here, with the targets and facts shown under item " : "通番 "));
		TRY(esc(h, g->string));
		TRY(put(h, h->en ? ": " : " と同じ対象・観測事実で次も該当: "));
		cJSON_ArrayForEach(t, g)
		{
			TRY(put(h, t == g->child ? "" : h->en ? "; " : "、"));
			TRY(esc(h, t->valuestring));
		}
		TRY(put(h, "</p>\n"));
	}
out:
	cJSON_Delete(done);
	cJSON_Delete(same);
	return rc;
}

static int card(struct html *h, const cJSON *it, size_t slot)
{
	const char *st = item_status(it);
	const cJSON *att = cJSON_GetObjectItemCaseSensitive(it, "attestation"),
		    *w = cJSON_GetObjectItemCaseSensitive(it, "waiver");
	const cJSON *x;
	char no[32], buf[1024];
	int rc;

	tk_item_no_str(cJSON_GetObjectItemCaseSensitive(it, "no"), no, sizeof(no));
	TRY(tk_buf_printf(h->out, "<section class=\"card c-%s\" id=\"act-", st));
	TRY(esc(h, no));
	TRY(tk_buf_printf(h->out, "\">\n<h3>%s ", L(h, "通番", "Item")));
	TRY(esc(h, no));
	TRY(put(h, " — "));
	TRY(esc(h, h->en && *tk_r_str(it, "goal_en") ? tk_r_str(it, "goal_en") : tk_r_str(it, "goal")));
	TRY(put(h, " "));
	TRY(badge(h, st));
	TRY(put(h, "</h3>\n"));
	if (w) {
		snprintf(buf, sizeof(buf), h->en ? "Waived: %s (approved by %s, until %s). The gate lets this item through."
						 : "例外承認: %s（承認者 %s、期限 %s）。ゲートはこの項目で不合格にしません。",
			 tk_r_str(w, "justification"), tk_r_str(w, "approver"), tk_r_str(w, "expires"));
		TRY(put(h, "<p>"));
		TRY(esc(h, buf));
		TRY(put(h, "</p>\n"));
	}
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(it, "expired_waivers"))
	{
		snprintf(buf, sizeof(buf),
			 h->en ? "Waiver %s expired on %s: not applied."
			       : "例外承認 %s は %s に期限切れ: 適用していません。",
			 tk_r_str(x, "id"), tk_r_str(x, "expires"));
		TRY(put(h, "<p class=\"contra\">"));
		TRY(esc(h, buf));
		TRY(put(h, "</p>\n"));
	}
	if (att && *tk_r_str(att, "contradiction")) {
		snprintf(buf, sizeof(buf), h->en ? "The partner declared: \"%s\", which contradicts the evidence below."
						 : "接続先の自己申告「%s」は下の証跡と矛盾します。",
			 tk_r_str(att, "answer"));
		TRY(put(h, "<p class=\"contra\">"));
		TRY(esc(h, buf));
		TRY(put(h, "</p>\n"));
	}
	if (slot < h->ix->nitems)
		TRY(card_rules(h, it, slot));
	TRY(put(h, "</section>\n"));
out:
	return rc;
}

static size_t slot_of(const struct html *h, const cJSON *it)
{
	char no[32];
	size_t k;
	tk_item_no_str(cJSON_GetObjectItemCaseSensitive(it, "no"), no, sizeof(no));
	for (k = 0; k < h->ix->nitems; k++)
		if (strcmp(h->ix->item_no[k], no) == 0)
			return k;
	return h->ix->nitems;
}

/* Items that need action first, then those that pass with warnings. */
static int sec_actions(struct html *h)
{
	static const char *const order[] = {"fail", "incomplete", "waived"};
	const cJSON *it;
	size_t k;
	int rc = TK_OK, n = 0, nw = 0;

	TRY(tk_buf_printf(h->out, "<section class=\"actions\">\n<h2>%s</h2>\n",
			  L(h, "要対応の項目（不適合・判定不能・例外承認）", "Items that need action (fail, incomplete, waived)")));
	for (k = 0; k < TK_ARRAY_LEN(order); k++)
		cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(h->report, "items"))
		{
			if (strcmp(tk_r_str(it, "status"), order[k]) != 0)
				continue;
			n++;
			TRY(card(h, it, slot_of(h, it)));
		}
	if (!n) {
		TRY(put(h, "<p>"));
		TRY(esc(h, L(h, "ありません。", "None.")));
		TRY(put(h, "</p>\n"));
	}
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(h->report, "items")) if (strcmp(item_status(it),
												"pass_warn") == 0) nw++;
	if (nw) {
		TRY(tk_buf_printf(h->out, "<h2>%s</h2>\n<p class=\"note\">%s</p>\n",
				  L(h, "適合（注意あり）の項目", "Items that pass with warnings"),
				  L(h, "不適合ではありませんが、注意事項（警告）があります。", "Not failures, but each has warnings to look at.")));
		cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(h->report, "items"))
		{
			if (strcmp(item_status(it), "pass_warn") == 0)
				TRY(card(h, it, slot_of(h, it)));
		}
	}
	TRY(put(h, "</section>\n"));
out:
	return rc;
}

/* Manual items: a compact list that asks for the partner's answer. */
static int sec_manual(struct html *h)
{
	const cJSON *it;
	int rc = TK_OK, n = 0;
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(h->report, "items")) if (strcmp(tk_r_str(it, "status"),
												"manual") == 0) n++;
	if (!n)
		return TK_OK;
	TRY(tk_buf_printf(h->out, "<section class=\"manual\">\n<h2>%s%d%s</h2>\n<p class=\"ask\">",
			  L(h, "接続先の回答が必要な項目（", "Items that need the partner's answer ("), n,
			  L(h, "）", ")")));
	TRY(esc(h, L(h, "次の項目は自動点検の対象外です。API接続先の回答（対応状況と根拠資料）を求めてください。",
		     "tenken cannot check these items: ask the partner for its answer (what it does, and the document "
		     "that shows it).")));
	TRY(tk_buf_printf(h->out,
			  "</p>\n<table class=\"small\"><thead><tr><th style=\"width:4em\">%s</th><th>%s</th><th "
			  "style=\"width:22%%\">%s</th><th style=\"width:30%%\">%s</th></tr></thead><tbody>\n",
			  L(h, "通番", "No."), L(h, "セキュリティ対応目標", "Security objective"), L(h, "理由", "Why"),
			  L(h, "接続先の回答", "Partner's answer")));
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(h->report, "items"))
	{
		const cJSON *att = cJSON_GetObjectItemCaseSensitive(it, "attestation");
		const char *code = tk_r_str(it, "reason_code");
		char no[32];
		if (strcmp(tk_r_str(it, "status"), "manual") != 0)
			continue;
		tk_item_no_str(cJSON_GetObjectItemCaseSensitive(it, "no"), no, sizeof(no));
		TRY(put(h, "<tr><td>"));
		TRY(esc(h, no));
		TRY(put(h, "</td><td>"));
		TRY(esc(h, h->en && *tk_r_str(it, "goal_en") ? tk_r_str(it, "goal_en") : tk_r_str(it, "goal")));
		TRY(put(h, "</td><td>"));
		TRY(esc(h, strcmp(code, "partial_evidence") == 0
				   ? L(h, "一部のみ自動点検（証跡あり）", "checked in part (evidence attached)")
			   : strcmp(code, "not_configured") == 0 || (!*code && strstr(tk_r_str(it, "reason"), "not configured"))
				   ? L(h, "該当するプローブが未設定", "the probes that check it were not configured")
				   : L(h, "自動点検の対象外", "no automated check covers it")));
		TRY(put(h, "</td><td>"));
		if (att) {
			TRY(esc(h, L(h, "自己申告: ", "self-declared: ")));
			TRY(esc(h, tk_r_str(att, "answer")));
		} else {
			TRY(put(h, "<span class=\"ask\">"));
			TRY(esc(h, L(h, "（未回答）", "(no answer yet)")));
			TRY(put(h, "</span>"));
		}
		TRY(put(h, "</td></tr>\n"));
	}
	TRY(put(h, "</tbody></table>\n</section>\n"));
out:
	return rc;
}

/* ---- trend ---- */

static int trend_count(const cJSON *h, const char *st)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(h, "items");
	if (strcmp(st, "pass_warn") == 0)
		return tk_r_int(c, "pass_with_warnings", 0);
	if (strcmp(st, "pass") == 0)
		return tk_r_int(c, "pass", 0) - tk_r_int(c, "pass_with_warnings", 0);
	return tk_r_int(c, st, 0);
}

/* "MM-DD HH:MM:SS" in JST: bars of the same day are told apart by their time. */
static void bar_label(const char *started, char *buf, size_t size, bool with_date)
{
	time_t t;
	struct tm j;
	if (tk_parse_time(started, &t) != TK_OK) {
		snprintf(buf, size, "%.10s", started);
		return;
	}
	t += 9 * 3600;
	gmtime_r(&t, &j);
	strftime(buf, size, with_date ? "%Y-%m-%d %H:%M:%S" : "%m-%d %H:%M:%S", &j);
}

static int trend_bar(struct html *h, const cJSON *e, double x, double bw, double scale, int base)
{
	char when[96];
	double y = base;
	size_t k;
	int rc;
	jst_utc(h, tk_r_str(e, "started_at"), when, sizeof(when));
	TRY(put(h, "<g><title>"));
	if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(e, "seq")))
		TRY(tk_buf_printf(h->out, "#%lld ", (long long)cJSON_GetObjectItemCaseSensitive(e, "seq")->valuedouble));
	TRY(esc(h, when));
	for (k = 0; k < TK_ARRAY_LEN(statuses); k++)
		TRY(tk_buf_printf(h->out, "%s%s %d", k ? ", " : ": ", status_label(h, statuses[k]),
				  trend_count(e, statuses[k])));
	TRY(put(h, "</title>"));
	for (k = 0; k < TK_ARRAY_LEN(statuses); k++) {
		double hh = trend_count(e, statuses[k]) * scale;
		if (hh <= 0)
			continue;
		y -= hh;
		TRY(tk_buf_printf(h->out, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\"/>", x + bw * 0.1, y,
				  bw * 0.8 > 0.5 ? bw * 0.8 : 0.5, hh, colours[k]));
	}
	TRY(put(h, "</g>\n"));
out:
	return rc;
}

static int trend_svg(struct html *h, const cJSON *history)
{
	const int W = 760, H = 200, L0 = 40, R = 10, T = 10, Bm = 44;
	int n = cJSON_GetArraySize(history), i = 0, maxv = 1, rc = TK_OK;
	const cJSON *e;
	size_t k;
	double bw;

	cJSON_ArrayForEach(e, history)
	{
		int tot = 0;
		for (k = 0; k < TK_ARRAY_LEN(statuses); k++)
			tot += trend_count(e, statuses[k]);
		if (tot > maxv)
			maxv = tot;
	}
	bw = (double)(W - L0 - R) / (n ? n : 1);
	TRY(tk_buf_printf(h->out,
			  "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
			  "role=\"img\" aria-label=\"",
			  W, H + 24, W, H + 24));
	TRY(esc(h, L(h, "項目状態の推移", "Item status trend")));
	TRY(tk_buf_printf(h->out,
			  "\">\n<rect width=\"%d\" height=\"%d\" fill=\"#fafafa\"/>\n<line x1=\"%d\" y1=\"%d\" "
			  "x2=\"%d\" y2=\"%d\" stroke=\"#607d8b\"/>\n"
			  "<text x=\"%d\" y=\"%d\" font-size=\"10\" text-anchor=\"end\">%d</text><text x=\"%d\" "
			  "y=\"%d\" font-size=\"10\" text-anchor=\"end\">0</text>\n",
			  W, H + 24, L0, H - Bm, W - R, H - Bm, L0 - 4, T + 8, maxv, L0 - 4, H - Bm));
	cJSON_ArrayForEach(e, history)
	{
		double x = L0 + i * bw;
		TRY(trend_bar(h, e, x, bw, (double)(H - Bm - T) / maxv, H - Bm));
		/* every bar labelled when few (date and time: same-day runs differ), else first and last */
		if (n <= 10 || i == 0 || i == n - 1) {
			char d[48];
			const cJSON *seq = cJSON_GetObjectItemCaseSensitive(e, "seq");
			bar_label(tk_r_str(e, "started_at"), d, sizeof(d), n <= 3);
			if (cJSON_IsNumber(seq) && n <= 10) /* runs within one second still differ */
				snprintf(d + strlen(d), sizeof(d) - strlen(d), " #%lld", (long long)seq->valuedouble);
			TRY(tk_buf_printf(h->out, "<text x=\"%.2f\" y=\"%d\" font-size=\"9\" text-anchor=\"middle\">",
					  x + bw / 2, H - Bm + 12 + (n > 10 ? 0 : (i % 2) * 11)));
			TRY(esc(h, d));
			TRY(put(h, "</text>\n"));
		}
		i++;
	}
	for (k = 0; k < TK_ARRAY_LEN(statuses); k++) {
		int lx = L0 + (int)k * 102;
		TRY(tk_buf_printf(h->out,
				  "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/><text x=\"%d\" "
				  "y=\"%d\" font-size=\"10\">",
				  lx, H - 6, colours[k], lx + 13, H + 3));
		TRY(esc(h, status_label(h, statuses[k])));
		TRY(put(h, "</text>\n"));
	}
	TRY(put(h, "</svg>\n"));
out:
	return rc;
}

static int sec_trend(struct html *h)
{
	const cJSON *hist = h->opts ? h->opts->history : NULL;
	cJSON *one = NULL;
	int rc;
	TRY(tk_buf_printf(h->out, "<section class=\"trend\">\n<h2>%s</h2>\n",
			  L(h, "項目状態の推移（保存済みの点検、時刻は JST）", "Item statuses over the stored scans (times in JST)")));
	if (!hist || cJSON_GetArraySize(hist) == 0) {
		cJSON *e = cJSON_CreateObject();
		one = cJSON_CreateArray();
		cJSON_AddItemToArray(one, e);
		cJSON_AddStringToObject(e, "started_at", tk_r_str(h->report, "started_at"));
		cJSON_AddItemToObject(
		    e, "items",
		    cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(
					cJSON_GetObjectItemCaseSensitive(h->report, "summary"), "items"),
				    true));
		hist = one;
	}
	TRY(trend_svg(h, hist));
	TRY(put(h, "</section>\n"));
out:
	cJSON_Delete(one);
	return rc;
}

/* ---- the full checklist (folded) ---- */

/* 関連規定: each standard with its sections, paired in one line (glossed in English). */
static int related_cell(struct html *h, const cJSON *it)
{
	const cJSON *x,
	    *gl = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(h->report, "sources"), "related");
	int rc = TK_OK;
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(it, "related"))
	{
		const char *r = cJSON_IsString(x) ? x->valuestring : "", *sp = strchr(r, ' ');
		char name[256];
		const char *gloss;
		snprintf(name, sizeof(name), "%.*s", sp ? (int)(sp - r) : (int)strlen(r), r);
		gloss = tk_r_str(cJSON_GetObjectItemCaseSensitive(gl, name), "en");
		TRY(put(h, x == cJSON_GetObjectItemCaseSensitive(it, "related")->child ? "" : "<br>"));
		TRY(esc(h, h->en && *gloss ? gloss : name));
		if (sp && h->en) {
			struct tk_buf e;
			tk_buf_init(&e, 1 << 16);
			english_only(sp + 1, &e);
			TRY(put(h, ": "));
			rc = esc(h, e.data ? e.data : "");
			tk_buf_free(&e);
			if (rc)
				goto out;
		} else if (sp) {
			TRY(put(h, "　"));
			TRY(esc(h, sp + 1));
		}
	}
out:
	return rc;
}

/* 課題認識 and 課題への対応計画 of one item, once per rule; an item with an
 * action card refers to it for the remediation instead of repeating it. */
static int issue_cells(struct html *h, size_t slot, const char *carded)
{
	cJSON *seen = cJSON_CreateObject();
	struct tk_buf plan;
	size_t i;
	int rc = TK_OK;
	tk_buf_init(&plan, 1 << 22);
	TRY(put(h, "<td>"));
	for (i = 0; slot < h->ix->nitems && i < h->ix->nby_item[slot]; i++) {
		const struct tk_r_finding *fx = &h->ix->f[h->ix->by_item[slot][i]];
		size_t j, cnt = 0;
		if (strcmp(fx->status, "pass") == 0 || cJSON_GetObjectItemCaseSensitive(seen, fx->rule))
			continue;
		cJSON_AddTrueToObject(seen, fx->rule);
		for (j = i; j < h->ix->nby_item[slot]; j++) {
			const struct tk_r_finding *gx = &h->ix->f[h->ix->by_item[slot][j]];
			cnt += strcmp(gx->rule, fx->rule) == 0 && strcmp(gx->status, "pass") != 0;
		}
		TRY(put(h, cJSON_GetArraySize(seen) > 1 ? "<br>" : ""));
		TRY(badge(h, fx->status));
		TRY(put(h, " "));
		TRY(esc(h, tk_r_f_title(h->report, fx->f, h->lang)));
		TRY(tk_buf_printf(h->out, h->en ? " (%zu target%s)" : "（%zu 対象）", cnt,
				  cnt == 1 && h->en ? ""
				  : h->en           ? "s"
						    : ""));
		if (strcmp(fx->status, "fail") == 0 || strcmp(fx->status, "warn") == 0)
			tk_buf_printf(&plan, "%s%s", plan.len ? "\n" : "",
				      tk_r_f_remediation(h->report, fx->f, h->lang));
	}
	TRY(put(h, "</td><td class=\"pre\">"));
	if (carded && plan.len) {
		char ref[128];
		snprintf(ref, sizeof(ref), h->en ? "See item %s under \"Items that need action\"." : "「要対応の項目」通番 %s を参照。", carded);
		TRY(esc(h, ref));
	} else {
		TRY(esc(h, plan.data ? plan.data : ""));
	}
	TRY(put(h, "</td>"));
out:
	tk_buf_free(&plan);
	cJSON_Delete(seen);
	return rc;
}

static int checklist_row(struct html *h, const cJSON *it)
{
	const char *st = item_status(it);
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(it, "counts"),
		    *att = cJSON_GetObjectItemCaseSensitive(it, "attestation"), *x;
	size_t slot = slot_of(h, it);
	char no[32], buf[256];
	int rc;
	tk_item_no_str(cJSON_GetObjectItemCaseSensitive(it, "no"), no, sizeof(no));
	TRY(tk_buf_printf(h->out, "<tr class=\"r-%s\" id=\"item-", st));
	TRY(esc(h, no));
	TRY(put(h, "\"><td>"));
	TRY(esc(h, no));
	TRY(put(h, "</td><td>"));
	TRY(esc(h, h->en && *tk_r_str(it, "chapter_en") ? tk_r_str(it, "chapter_en") : tk_r_str(it, "chapter")));
	TRY(put(h, "</td><td>"));
	TRY(esc(h, h->en && *tk_r_str(it, "goal_en") ? tk_r_str(it, "goal_en") : tk_r_str(it, "goal")));
	TRY(put(h, "</td><td>"));
	TRY(esc(h, h->en && *tk_r_str(it, "party_en") ? tk_r_str(it, "party_en") : tk_r_str(it, "party")));
	TRY(put(h, "</td><td>"));
	TRY(badge(h, st));
	if (strcmp(st, "manual") == 0 && !att) {
		TRY(put(h, " <span class=\"ask\">"));
		TRY(esc(h, L(h, "接続先の回答が必要", "Partner's answer required")));
		TRY(put(h, "</span>"));
	} else if (strcmp(st, "not_applicable") == 0) {
		TRY(put(h, " "));
		TRY(esc(h, tk_r_str(it, "justification")));
	} else if (strcmp(st, "manual") != 0) {
		snprintf(buf, sizeof(buf),
			 h->en ? " %d fail, %d warn, %d pass, %d not observed"
			       : " 不適合 %d・注意 %d・適合 %d・観測不能 %d 件",
			 tk_r_int(c, "fail", 0), tk_r_int(c, "warn", 0), tk_r_int(c, "pass", 0),
			 tk_r_int(c, "error", 0));
		TRY(esc(h, buf));
	}
	if (att) {
		TRY(put(h, "<br><span class=\"ask\">"));
		TRY(esc(h, L(h, "自己申告: ", "self-declared: ")));
		TRY(esc(h, tk_r_str(att, "answer")));
		TRY(put(h, "</span>"));
		if (*tk_r_str(att, "contradiction")) {
			TRY(put(h, " <span class=\"contra\">"));
			TRY(esc(h, L(h, "証跡と矛盾", "contradicts the evidence")));
			TRY(put(h, "</span>"));
		}
	}
	TRY(put(h, "</td>"));
	{
		static const char *const carded[] = {"fail", "incomplete", "waived", "pass_warn"};
		size_t k;
		bool has = false;
		for (k = 0; k < TK_ARRAY_LEN(carded); k++)
			has = has || strcmp(st, carded[k]) == 0;
		TRY(issue_cells(h, slot, has ? no : NULL));
	}
	TRY(put(h, "<td>"));
	TRY(related_cell(h, it));
	TRY(put(h, "</td>"));
	if (h->notes) {
		TRY(put(h, "<td class=\"pre\">"));
		cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(it, "notes")) if (cJSON_IsString(x))
		{
			TRY(esc(h, x->valuestring));
			TRY(put(h, "\n"));
		}
		TRY(put(h, "</td>"));
	}
	TRY(put(h, "</tr>\n"));
out:
	return rc;
}

/* Does any item carry notes (備考)? English reports leave the Japanese-only notes out. */
static bool has_notes(const struct html *h)
{
	const cJSON *it;
	if (h->en)
		return false;
	cJSON_ArrayForEach(
	    it, cJSON_GetObjectItemCaseSensitive(
		    h->report, "items")) if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(it, "notes")) >
					     0) return true;
	return false;
}

static int sec_checklist(struct html *h)
{
	const cJSON *cols = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(h->report, "checklist"), "columns"),
	    h->lang);
	static const int with_notes[] = {3, 8, 16, 7, 12, 16, 10, 16, 12};
	static const int without[] = {3, 10, 19, 9, 12, 17, 11, 19, 0};
	const int *width;
	const cJSON *it;
	int rc, k;
	h->notes = has_notes(h);
	width = h->notes ? with_notes : without;
	TRY(tk_buf_printf(h->out, "<section class=\"checklist\">\n<details>\n<summary>%s%d%s</summary>\n",
			  L(h, "チェックリスト全項目（", "The whole checklist ("),
			  cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(h->report, "items")), L(h, "）", ")")));
	TRY(put(h, "<table class=\"cl\"><colgroup>"));
	for (k = 0; k < (h->notes ? 9 : 8); k++)
		TRY(tk_buf_printf(h->out, "<col style=\"width:%d%%\">", width[k]));
	TRY(put(h, "</colgroup><thead><tr>"));
	/* the checklist's own columns; 関連規定 and 関連規定箇所 paired in one cell; 備考 only when there are notes */
	for (k = 0; k < 10; k++) {
		const cJSON *c = cJSON_GetArrayItem(cols, k);
		if (k == 8 || (k == 9 && !h->notes))
			continue;
		TRY(put(h, "<th>"));
		TRY(esc(h, cJSON_IsString(c) ? c->valuestring : ""));
		if (k == 7) {
			const cJSON *c8 = cJSON_GetArrayItem(cols, 8);
			TRY(put(h, h->en ? " / " : "／"));
			TRY(esc(h, cJSON_IsString(c8) ? c8->valuestring : ""));
		}
		TRY(put(h, "</th>"));
	}
	TRY(put(h, "</tr></thead>\n<tbody>\n"));
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(h->report, "items"))
		TRY(checklist_row(h, it));
	TRY(put(h, "</tbody></table>\n"));
	if (h->en && !h->notes) {
		TRY(put(h, "<p class=\"note\">"));
		TRY(esc(h, "Section identifiers of the FISC guidelines (such as 続4) are kept as the standard writes them; "
			   "the Japanese report and checklist.csv carry the section titles and the card checklist's notes."));
		TRY(put(h, "</p>\n"));
	}
	TRY(put(h, "</details>\n</section>\n"));
out:
	return rc;
}

/* ---- per-target detail (folded) ---- */

static int observed_facts(struct html *h, const char *target)
{
	const cJSON *o;
	int rc = TK_OK;
	cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(h->report, "observations"))
	{
		cJSON *facts;
		const cJSON *k;
		if (strcmp(tk_r_str(o, "target"), target) != 0)
			continue;
		facts = cJSON_CreateObject();
		cJSON_ArrayForEach(k, o)
		{
			if (cJSON_IsObject(k) || strcmp(k->string, "target") == 0 || strcmp(k->string, "probe") == 0 ||
			    strcmp(k->string, "kind") == 0)
				continue;
			cJSON_AddItemToObject(facts, k->string, cJSON_Duplicate(k, true));
		}
		TRY(tk_buf_printf(h->out, "<p class=\"note\">%s (%s)</p>", L(h, "観測値", "Observed"),
				  tk_r_str(o, "probe")));
		rc = fields(h, facts, 16);
		cJSON_Delete(facts);
		if (rc)
			goto out;
	}
out:
	return rc;
}

/* A target's findings: problems as rows with the facts judged; passes on one line. */
static int target_findings(struct html *h, const cJSON *list)
{
	const cJSON *x;
	int rc = TK_OK, n = 0, npass = 0;
	bool table = false;
	cJSON_ArrayForEach(x, list)
	{
		if (strcmp(tk_r_str(x, "status"), "pass") == 0 && !cJSON_GetObjectItemCaseSensitive(x, "waiver")) {
			npass++;
			continue;
		}
		if (n++ >= FINDINGS_PER_TARGET)
			break;
		if (!table) {
			TRY(tk_buf_printf(h->out,
					  "<table class=\"small\"><thead><tr><th style=\"width:38%%\">%s</th><th "
					  "style=\"width:9em\">%s</th><th>%s</th></tr></thead><tbody>\n",
					  L(h, "ルール", "Rule"), L(h, "結果", "Result"),
					  L(h, "判定に使った事実", "Facts judged")));
			table = true;
		}
		TRY(put(h, "<tr><td>"));
		TRY(esc(h, tk_r_f_title(h->report, x, h->lang)));
		TRY(put(h, "</td><td>"));
		TRY(badge(h, cJSON_GetObjectItemCaseSensitive(x, "waiver") ? "waived" : tk_r_str(x, "status")));
		TRY(put(h, "</td><td>"));
		if (strcmp(tk_r_str(x, "status"), "error") == 0)
			TRY(esc(h, tk_r_str(cJSON_GetObjectItemCaseSensitive(x, "evidence"), "message")));
		else
			TRY(fields(h, cJSON_GetObjectItemCaseSensitive(x, "evidence"), 12));
		TRY(put(h, "</td></tr>\n"));
	}
	if (table)
		TRY(put(h, "</tbody></table>\n"));
	if (npass) {
		TRY(put(h, "<p class=\"note\">"));
		TRY(badge(h, "pass"));
		TRY(put(h, " "));
		cJSON_ArrayForEach(x, list)
		{
			if (strcmp(tk_r_str(x, "status"), "pass") != 0 || cJSON_GetObjectItemCaseSensitive(x, "waiver"))
				continue;
			TRY(esc(h, tk_r_f_title(h->report, x, h->lang)));
			TRY(put(h, --npass ? "; " : ""));
		}
		TRY(put(h, "</p>\n"));
	}
out:
	return rc;
}

static int sec_targets(struct html *h)
{
	cJSON *targets = cJSON_CreateObject();
	const cJSON *f, *tg;
	int rc, n = 0;
	cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(h->report, "findings"))
	{
		const char *t = tk_r_str(f, "target");
		cJSON *arr = cJSON_GetObjectItemCaseSensitive(targets, t);
		if (!arr)
			arr = cJSON_AddArrayToObject(targets, t);
		cJSON_AddItemReferenceToArray(arr, (cJSON *)f);
	}
	TRY(tk_buf_printf(h->out, "<section class=\"targets\">\n<details>\n<summary>%s%d%s</summary>\n",
			  L(h, "対象別の詳細（", "Per-target detail ("), cJSON_GetArraySize(targets), L(h, "）", ")")));
	cJSON_ArrayForEach(tg, targets)
	{
		if (n++ >= MAX_TARGETS_DETAIL) {
			TRY(tk_buf_printf(h->out, "<p class=\"note\">%s</p>\n",
					  L(h, "残りの対象は report.json を参照してください。", "The remaining targets are in report.json.")));
			break;
		}
		TRY(put(h, "<h4 class=\"tok\">"));
		TRY(esc(h, *tg->string ? tg->string : L(h, "（対象なし）", "(no target)")));
		TRY(put(h, "</h4>\n"));
		TRY(observed_facts(h, tg->string));
		TRY(target_findings(h, tg));
	}
	TRY(put(h, "</details>\n</section>\n"));
out:
	cJSON_Delete(targets);
	return rc;
}

/* ---- appendix: internal references and audit evidence ---- */

static int meta_row(struct html *h, const char *k, const char *v)
{
	int rc;
	TRY(put(h, "<tr><th>"));
	TRY(esc(h, k));
	TRY(put(h, "</th><td class=\"mono tok\">"));
	TRY(esc(h, v));
	TRY(put(h, "</td></tr>\n"));
out:
	return rc;
}

static int appendix_audit(struct html *h)
{
	const cJSON *r = h->report, *tool = cJSON_GetObjectItemCaseSensitive(r, "tool"),
		    *prev = cJSON_GetObjectItemCaseSensitive(r, "previous_report");
	const cJSON *wv = cJSON_GetObjectItemCaseSensitive(r, "waivers"),
		    *a = cJSON_GetObjectItemCaseSensitive(r, "attestation");
	char buf[512];
	int rc;
	TRY(tk_buf_printf(h->out, "<h3>%s</h3>\n<table class=\"meta small\">\n", L(h, "監査用の証跡", "Audit evidence")));
	TRY(meta_row(h, L(h, "実行ID", "Run ID"), tk_r_str(r, "run_id")));
	TRY(meta_row(h, L(h, "開始・終了 (UTC)", "Start, end (UTC)"), tk_r_str(r, "started_at")));
	TRY(meta_row(h, "", tk_r_str(r, "finished_at")));
	snprintf(buf, sizeof(buf), "tenken %s (%s)", tk_r_str(tool, "version"), tk_r_str(tool, "data_origin"));
	TRY(meta_row(h, L(h, "ツール", "Tool"), buf));
	TRY(meta_row(h, L(h, "ルールセット SHA-256", "Rule set SHA-256"), tk_r_str(tool, "rules_sha256")));
	TRY(meta_row(h, L(h, "チェックリスト SHA-256", "Checklist data SHA-256"),
		     tk_r_str(cJSON_GetObjectItemCaseSensitive(r, "checklist"), "sha256")));
	snprintf(buf, sizeof(buf), "%s sha256:%s", tk_r_str(cJSON_GetObjectItemCaseSensitive(r, "config"), "file"),
		 tk_r_str(cJSON_GetObjectItemCaseSensitive(r, "config"), "sha256"));
	TRY(meta_row(h, L(h, "設定", "Config"), buf));
	if (cJSON_GetObjectItemCaseSensitive(r, "tailoring")) {
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(r, "tailoring");
		snprintf(buf, sizeof(buf), "%s %s sha256:%s", tk_r_str(t, "name"), tk_r_str(t, "file"),
			 tk_r_str(t, "sha256"));
		TRY(meta_row(h, L(h, "テーラリング", "Tailoring"), buf));
	}
	if (cJSON_IsObject(prev)) {
		snprintf(buf, sizeof(buf), "#%d %s sha256:%s", tk_r_int(prev, "seq", 0), tk_r_str(prev, "run_id"),
			 tk_r_str(prev, "sha256"));
		TRY(meta_row(h, L(h, "前回レポート", "Previous report"), buf));
	} else if (prev) {
		TRY(meta_row(h, L(h, "前回レポート", "Previous report"), L(h, "なし（初回）", "none (first stored scan)")));
	}
	if (cJSON_GetObjectItemCaseSensitive(r, "history")) {
		const cJSON *hi = cJSON_GetObjectItemCaseSensitive(r, "history");
		snprintf(buf, sizeof(buf), "#%d %s", tk_r_int(hi, "seq", 0), tk_r_str(hi, "key_fingerprint"));
		TRY(meta_row(h, L(h, "履歴（署名鍵）", "History (signing key)"), buf));
	}
	if (wv) {
		snprintf(buf, sizeof(buf), h->en ? "%s: %d applied, %d expired (not applied)" : "%s: 適用 %d 件、期限切れ %d 件（適用せず）",
			 tk_r_str(wv, "file"), cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(wv, "applied")),
			 cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(wv, "expired")));
		TRY(meta_row(h, L(h, "例外承認", "Waivers"), buf));
	}
	if (a) {
		snprintf(buf, sizeof(buf),
			 h->en ? "%s (sha256 %.16s…): %d answers, %d contradictions"
			       : "%s（sha256 %.16s…）: 回答 %d 件、矛盾 %d 件",
			 tk_r_str(a, "file"), tk_r_str(a, "sha256"), tk_r_int(a, "answers", 0),
			 tk_r_int(a, "contradictions", 0));
		TRY(meta_row(h, L(h, "自己申告", "Self-attestation"), buf));
	}
	TRY(meta_row(h, L(h, "形式", "Format"), tk_r_str(r, "schema")));
	TRY(put(h, "</table>\n"));
out:
	return rc;
}

/* The seed file names a basis cites ("NNN_<hex>.txt"), comma-separated. */
static int source_files(struct html *h, const char *basis)
{
	const char *p = basis;
	int rc = TK_OK, n = 0;
	while ((p = strstr(p, ".txt"))) {
		const char *q = p;
		while (q > basis && ((q[-1] >= '0' && q[-1] <= '9') || (q[-1] >= 'a' && q[-1] <= 'f') || q[-1] == '_'))
			q--;
		if (p - q >= 5) {
			char name[64];
			snprintf(name, sizeof(name), "%.*s", (int)(p - q + 4), q);
			TRY(put(h, n++ ? ", " : ""));
			TRY(esc(h, name));
		}
		p += 4;
	}
out:
	return rc;
}

/* Rules with a finding in this report: id, source file, the basis as written (seed file names). */
static int appendix_rules(struct html *h)
{
	cJSON *seen = cJSON_CreateObject();
	const cJSON *f, *s;
	int rc;
	TRY(tk_buf_printf(h->out,
			  "<h3>%s</h3>\n<table class=\"small\"><thead><tr><th style=\"width:22%%\">%s</th><th "
			  "style=\"width:16%%\">%s</th><th>%s</th></tr></thead><tbody>\n",
			  L(h, "ルールと根拠（内部参照）", "Rules and their basis (internal references)"),
			  L(h, "ルールID", "Rule id"), L(h, "定義ファイル", "Defined in"),
			  L(h, "根拠の原典ファイル", "Source files of its basis")));
	cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(h->report, "findings"))
	{
		const char *id = tk_r_str(f, "rule"), *file = tk_r_str(tk_r_rule_of(h->report, f), "file");
		char path[300];
		if (cJSON_GetObjectItemCaseSensitive(seen, id))
			continue;
		cJSON_AddTrueToObject(seen, id);
		TRY(put(h, "<tr><td class=\"mono tok\">"));
		TRY(esc(h, id));
		TRY(put(h, "</td><td class=\"mono tok\">"));
		snprintf(path, sizeof(path), "%s%s", *file ? "rules/" : "", file);
		TRY(esc(h, path));
		TRY(put(h, "</td><td class=\"mono tok\">"));
		TRY(source_files(h, tk_r_f_str(h->report, f, "basis")));
		TRY(put(h, "</td></tr>\n"));
	}
	TRY(put(h, "</tbody></table>\n"));
	s = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(h->report, "sources"), "sources");
	if (s) {
		TRY(tk_buf_printf(h->out, "<h3>%s</h3>\n<table class=\"small\"><tbody>\n", L(h, "原典ファイル", "Source documents")));
		cJSON_ArrayForEach(f, s)
		{
			TRY(put(h, "<tr><td class=\"mono\" style=\"width:22%\">"));
			TRY(esc(h, f->string));
			TRY(put(h, "</td><td>"));
			TRY(esc(h, tk_r_i18n(f, h->lang, h->lang)));
			TRY(put(h, "</td></tr>\n"));
		}
		TRY(put(h, "</tbody></table>\n"));
	}
out:
	cJSON_Delete(seen);
	return rc;
}

static int appendix_probes(struct html *h)
{
	const cJSON *c;
	int rc;
	TRY(tk_buf_printf(
	    h->out,
	    "<h3>%s</h3>\n<table "
	    "class=\"small\"><thead><tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr></thead><tbody>\n",
	    L(h, "プローブと点検対象", "Probes and targets as scanned"), L(h, "プローブ", "Probe"),
	    L(h, "状態", "Status"), L(h, "所要時間", "Duration"), L(h, "対象数", "Targets")));
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(h->report, "probes"))
	{
		TRY(put(h, "<tr><td>"));
		TRY(esc(h, tk_r_str(c, "name")));
		TRY(put(h, "</td><td>"));
		TRY(esc(h, tk_r_str(c, "status")));
		if (*tk_r_str(c, "error")) {
			TRY(put(h, ": "));
			TRY(esc(h, tk_r_str(c, "error")));
		}
		/* the targets themselves are the headings of the per-target detail */
		TRY(tk_buf_printf(h->out, "</td><td>%d ms</td><td>%d</td></tr>\n", tk_r_int(c, "duration_ms", 0),
				  cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(c, "targets"))));
	}
	TRY(put(h, "</tbody></table>\n"));
out:
	return rc;
}

static int sec_appendix(struct html *h)
{
	int rc;
	TRY(tk_buf_printf(h->out, "<section class=\"appendix\">\n<h2>%s</h2>\n", L(h, "付録", "Appendix")));
	TRY(appendix_audit(h));
	TRY(appendix_probes(h));
	TRY(appendix_rules(h));
	TRY(put(h, "</section>\n"));
out:
	return rc;
}

static int render_html_ix(const cJSON *report, const struct tk_r_index *ix, const struct tk_render_opts *opts,
			  struct tk_buf *out, struct tk_err *err)
{
	struct html h = {.out = out, .report = report, .ix = ix, .opts = opts};
	const cJSON *partner = cJSON_GetObjectItemCaseSensitive(report, "partner");
	char title[512];
	int rc;

	h.lang = tk_r_lang(opts ? opts->lang : NULL);
	h.en = strcmp(h.lang, "en") == 0;
	h.detailed = cJSON_CreateObject();
	if (!h.detailed)
		return tk_seterr(err, TK_ERR_NOMEM, "report.html: out of memory");
	TRY(tk_buf_printf(out,
			  "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n"
			  "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n"
			  "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src "
			  "'unsafe-inline'; img-src data:\">\n<title>",
			  h.lang));
	snprintf(title, sizeof(title), "%s %s — %s", L(&h, "tenken 点検レポート:", "tenken report:"), tk_r_str(partner, "id"),
		 tk_r_checklist_id(report));
	TRY(esc(&h, title));
	TRY(tk_buf_printf(out, "</title>\n<style>%s</style>\n</head>\n<body>\n", css));
	TRY(sec_header(&h));
	TRY(sec_actions(&h));
	TRY(sec_manual(&h));
	TRY(sec_trend(&h));
	TRY(sec_checklist(&h));
	TRY(sec_targets(&h));
	TRY(sec_appendix(&h));
	TRY(put(&h, "</body>\n</html>\n"));
out:
	cJSON_Delete(h.detailed);
	if (rc)
		return tk_seterr(err, rc, "report.html: %s", tk_strerror(rc));
	return TK_OK;
}

static int render_html(const cJSON *report, const struct tk_render_opts *opts, struct tk_buf *out, struct tk_err *err)
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
