/* rutil.c - helpers the renderers share (see rutil.h). */
#include "rutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>

#include "rules.h"

const char *tk_r_str(const cJSON *o, const char *key)
{
	return tk_json_str(o, key);
}

int tk_r_int(const cJSON *o, const char *key, int dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? v->valueint : dflt;
}

const char *tk_r_i18n(const cJSON *o, const char *key, const char *lang)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	const char *s;
	if (cJSON_IsString(v))
		return v->valuestring;
	s = tk_r_str(v, lang);
	if (!*s)
		s = tk_r_str(v, "en");
	if (!*s)
		s = tk_r_str(v, "ja");
	return s;
}

const char *tk_r_lang(const char *lang)
{
	return lang && strcmp(lang, "en") == 0 ? "en" : "ja";
}

static const struct {
	const char *status, *ja, *en;
} labels[] = {
	{"pass", "適合", "pass"},
	{"fail", "不適合", "fail"},
	{"incomplete", "判定不能", "incomplete"},
	{"manual", "要回答", "needs answer"},
	{"not_applicable", "対象外", "not applicable"},
	{"waived", "例外承認", "waived"},
	{"warn", "注意", "warn"},
	{"error", "エラー", "error"},
};

const char *tk_r_status_label(const char *status, const char *lang)
{
	size_t i;
	for (i = 0; i < TK_ARRAY_LEN(labels); i++)
		if (strcmp(labels[i].status, status) == 0)
			return strcmp(tk_r_lang(lang), "en") == 0 ? labels[i].en : labels[i].ja;
	return status;
}

int tk_r_xml(struct tk_buf *b, const char *s)
{
	const char *run = s;
	int rc = TK_OK;
	if (!s)
		return TK_OK;
	for (; *s && rc == TK_OK; s++) {
		const char *rep = NULL;
		unsigned char c = (unsigned char)*s;
		switch (c) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default:
			if (c < 0x20 && c != '\t' && c != '\n')
				rep = c == '\r' ? "" : "";
			break;
		}
		if (rep) {
			if (s > run)
				rc = tk_buf_append(b, run, (size_t)(s - run));
			if (rc == TK_OK && *rep)
				rc = tk_buf_puts(b, rep);
			run = s + 1;
		}
	}
	if (rc == TK_OK && s > run)
		rc = tk_buf_append(b, run, (size_t)(s - run));
	return rc;
}

int tk_r_csv(struct tk_buf *b, const char *s)
{
	int rc;
	bool formula;
	if (!s)
		s = "";
	/* A cell starting with = + - @ (or TAB, CR) is a formula to Excel and
	 * LibreOffice (CSV injection, OWASP): prefixed with ' so it stays text.
	 * Every cell of every CSV tenken writes goes through here; the attestation
	 * reader (rules/attestation.c) drops the prefix again. */
	formula = s[0] && strchr("=+-@\t\r", s[0]) != NULL;
	if (!formula && !strpbrk(s, ",\"\r\n"))
		return tk_buf_puts(b, s);
	rc = tk_buf_puts(b, formula ? "\"'" : "\"");
	for (; *s && rc == TK_OK; s++)
		rc = *s == '"' ? tk_buf_puts(b, "\"\"") : tk_buf_append(b, s, 1);
	if (rc == TK_OK)
		rc = tk_buf_puts(b, "\"");
	return rc;
}

bool tk_r_finding_maps(const cJSON *f, const char *cl, const char *no)
{
	return tk_finding_maps(f, cl, no);
}

const char *tk_r_checklist_id(const cJSON *report)
{
	return tk_report_checklist_id(report);
}

const cJSON *tk_r_rule_of(const cJSON *report, const cJSON *f)
{
	return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(report, "rules"), tk_r_str(f, "rule"));
}

const char *tk_r_f_title(const cJSON *report, const cJSON *f, const char *lang)
{
	const cJSON *r = tk_r_rule_of(report, f);
	if (r)
		return tk_r_i18n(r, "title", tk_r_lang(lang));
	if (cJSON_GetObjectItemCaseSensitive(f, "title_i18n"))
		return tk_r_i18n(f, "title_i18n", tk_r_lang(lang));
	return tk_r_str(f, "title");
}

const char *tk_r_f_remediation(const cJSON *report, const cJSON *f, const char *lang)
{
	const cJSON *r = tk_r_rule_of(report, f);
	if (r)
		return tk_r_i18n(r, "remediation", tk_r_lang(lang));
	if (cJSON_GetObjectItemCaseSensitive(f, "remediation_i18n"))
		return tk_r_i18n(f, "remediation_i18n", tk_r_lang(lang));
	return tk_r_str(f, "remediation");
}

const char *tk_r_f_str(const cJSON *report, const cJSON *f, const char *key)
{
	const char *s = tk_r_str(f, key);
	return *s ? s : tk_r_str(tk_r_rule_of(report, f), key);
}

cJSON *tk_r_evidence(const cJSON *report, const cJSON *f, const cJSON *const *obs, size_t nobs)
{
	const cJSON *ev = cJSON_GetObjectItemCaseSensitive(f, "evidence"),
		    *oi = cJSON_GetObjectItemCaseSensitive(f, "observation"),
		    *ej = cJSON_GetObjectItemCaseSensitive(f, "entry");
	const cJSON *o = NULL, *e = NULL, *p;
	cJSON *out = ev ? cJSON_Duplicate(ev, true) : cJSON_CreateObject();
	bool err = strcmp(tk_r_str(f, "status"), "error") == 0;
	if (!out || !cJSON_IsNumber(oi) || oi->valuedouble < 0)
		return out;
	if (obs)
		o = (size_t)oi->valuedouble < nobs ? obs[(size_t)oi->valuedouble] : NULL;
	else
		o = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(report, "observations"), oi->valueint);
	if (!o || err)
		return out;
	/* report/3: the finding judged entry f.entry of its observation; its fields, else the observation's */
	if (cJSON_IsNumber(ej) && ej->valuedouble >= 0)
		e = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, "entries"), ej->valueint);
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(tk_r_rule_of(report, f), "evidence"))
	{
		const cJSON *v;
		if (!cJSON_IsString(p) || cJSON_GetObjectItemCaseSensitive(out, p->valuestring))
			continue;
		v = e ? tk_json_path(e, p->valuestring) : NULL;
		if (!v)
			v = tk_json_path(o, p->valuestring);
		cJSON_AddItemToObject(out, p->valuestring, v ? cJSON_Duplicate(v, true) : cJSON_CreateNull());
	}
	return out;
}

void tk_r_finding_fp(const cJSON *f, char out[33])
{
	struct tk_buf b;
	unsigned char h[32];
	char hex[65];
	tk_buf_init(&b, 1 << 20);
	tk_buf_puts(&b, tk_r_str(f, "rule"));
	tk_buf_puts(&b, "\n");
	tk_buf_puts(&b, tk_r_str(f, "target"));
	tk_sha256(b.data ? b.data : "", b.len, h);
	tk_buf_free(&b);
	tk_hex(h, 32, hex);
	memcpy(out, hex, 32);
	out[32] = '\0';
}

/* "key=value; ..." from a finding's evidence, at most max bytes. */
static void evidence_line(struct tk_buf *b, const struct tk_r_index *ix, const cJSON *f, size_t max)
{
	const cJSON *e;
	size_t start = b->len;
	bool first = true;
	cJSON *all = tk_r_evidence(ix->report, f, ix->obs, ix->nobs);
	cJSON_ArrayForEach(e, all)
	{
		char *v;
		if (cJSON_IsNull(e))
			continue;
		v = cJSON_PrintUnformatted(e);
		tk_buf_printf(b, "%s%s=%s", first ? "" : "; ", e->string, v ? v : "?");
		free(v);
		first = false;
		if (b->len - start > max) {
			/* cut on a UTF-8 boundary */
			size_t cut = start + max;
			while (cut > start && ((unsigned char)b->data[cut] & 0xc0) == 0x80)
				cut--;
			b->len = cut;
			b->data[cut] = '\0';
			tk_buf_puts(b, "…");
			break;
		}
	}
	cJSON_Delete(all);
}

static char *steal_or_empty(struct tk_buf *b)
{
	char *s = tk_buf_steal(b);
	return s ? s : tk_strdup("");
}

int tk_r_index_build(const cJSON *report, struct tk_r_index *ix)
{
	const cJSON *f, *it, *n;
	size_t i, j;
	memset(ix, 0, sizeof(*ix));
	ix->report = report;
	ix->cl = tk_r_checklist_id(report);
	ix->nf = (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(report, "findings"));
	ix->nitems = (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(report, "items"));
	ix->f = calloc(ix->nf + 1, sizeof(*ix->f));
	ix->item_no = calloc(ix->nitems + 1, sizeof(*ix->item_no));
	ix->by_item = calloc(ix->nitems + 1, sizeof(*ix->by_item));
	ix->nby_item = calloc(ix->nitems + 1, sizeof(*ix->nby_item));
	ix->nobs = (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(report, "observations"));
	ix->obs = calloc(ix->nobs + 1, sizeof(*ix->obs));
	if (!ix->f || !ix->item_no || !ix->by_item || !ix->nby_item || !ix->obs)
		goto nomem;
	i = 0;
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(report, "observations"))
		if (i < ix->nobs)
			ix->obs[i++] = it;
	i = 0;
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(report, "items"))
		tk_item_no_str(cJSON_GetObjectItemCaseSensitive(it, "no"), ix->item_no[i++], 32);
	i = 0;
	cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(report, "findings"))
	{
		struct tk_r_finding *x = &ix->f[i];
		x->f = f;
		x->status = tk_r_str(f, "status");
		x->rule = tk_r_str(f, "rule");
		x->target = tk_r_str(f, "target");
		x->basis = tk_r_f_str(report, f, "basis");
		cJSON_ArrayForEach(
		    n, cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(f, "items"), ix->cl))
		{
			for (j = 0; j < ix->nitems; j++) {
				size_t *grown;
				if (!tk_item_no_is(n, ix->item_no[j]))
					continue;
				grown = realloc(ix->by_item[j], (ix->nby_item[j] + 1) * sizeof(size_t));
				if (!grown)
					goto nomem;
				ix->by_item[j] = grown;
				ix->by_item[j][ix->nby_item[j]++] = i;
				break;
			}
		}
		i++;
	}
	return TK_OK;
nomem:
	tk_r_index_free(ix);
	return TK_ERR_NOMEM;
}

void tk_r_index_free(struct tk_r_index *ix)
{
	size_t i;
	if (!ix)
		return;
	for (i = 0; ix->by_item && i < ix->nitems; i++)
		free(ix->by_item[i]);
	free(ix->by_item);
	free(ix->nby_item);
	free(ix->item_no);
	free(ix->f);
	free(ix->obs);
	memset(ix, 0, sizeof(*ix));
}

/* 関連規定 / 関連規定箇所: "規定 箇所" split at the first space, line by line. */
static void related_text(const cJSON *item, struct tk_buf *rel, struct tk_buf *sec)
{
	const cJSON *x;
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(item, "related"))
	{
		const char *r = cJSON_IsString(x) ? x->valuestring : "", *sp = strchr(r, ' ');
		if (sp) {
			tk_buf_printf(rel, "%s%.*s", rel->len ? "\n" : "", (int)(sp - r), r);
			tk_buf_printf(sec, "%s%s", sec->len ? "\n" : "", sp + 1);
		} else {
			tk_buf_printf(rel, "%s%s", rel->len ? "\n" : "", r);
			tk_buf_printf(sec, "%s-", sec->len ? "\n" : "");
		}
	}
}

/* A manual item's reason in the report's language (from reason_code; report/1: the English text). */
static const char *reason_text(const cJSON *item, bool en)
{
	const char *code = tk_r_str(item, "reason_code");
	if (strcmp(code, "no_rule") == 0)
		return en ? "no rule covers this item: the partner's answer is needed"
			  : "この項目を判定するルールはありません。API接続先の回答が必要です。";
	if (strcmp(code, "not_configured") == 0)
		return en ? "no mapped rule was evaluated (its probes were not configured): the partner's answer is needed"
			  : "対応するルールのプローブが設定されていないため判定していません。API接続先の回答が必要です。";
	if (strcmp(code, "partial_evidence") == 0)
		return en ? "the evidence answers part of this item (see its findings): the partner's answer is needed "
			    "for the rest"
			  : "自動点検の証跡はこの項目の一部のみを裏付けます（検出事項を参照）。残りはAPI接続先の回答が必要です。";
	return tk_r_str(item, "reason");
}

/* 備考: status, reason, the rules mapped to the item, the basis of each, self-declaration, notes. */
static void remarks_text(const struct tk_r_index *ix, const cJSON *item, const size_t *mine, size_t nmine, bool en,
			 struct tk_buf *rem)
{
	const cJSON *x, *rules = cJSON_GetObjectItemCaseSensitive(item, "rules");
	cJSON *bases = cJSON_CreateObject();
	size_t k;
	tk_buf_printf(rem, "status=%s%s", tk_r_str(item, "status"),
		      cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(item, "with_warnings")) ? " (with_warnings)" : "");
	if (*reason_text(item, en))
		tk_buf_printf(rem, "\n%s", reason_text(item, en));
	if (cJSON_GetArraySize(rules) > 0) {
		tk_buf_puts(rem, en ? "\nrules: " : "\nルール: ");
		cJSON_ArrayForEach(x, rules)
		    tk_buf_printf(rem, "%s%s", x == rules->child ? "" : ", ", cJSON_IsString(x) ? x->valuestring : "");
	}
	for (k = 0; k < nmine; k++) {
		const struct tk_r_finding *fx = &ix->f[mine[k]];
		if (!*fx->basis || cJSON_GetObjectItemCaseSensitive(bases, fx->rule))
			continue;
		cJSON_AddTrueToObject(bases, fx->rule);
		tk_buf_printf(rem, en ? "\nbasis (%s): %s" : "\n根拠 (%s): %s", fx->rule, fx->basis);
	}
	cJSON_Delete(bases);
	if (cJSON_GetObjectItemCaseSensitive(item, "attestation"))
		tk_buf_puts(rem, en ? "\nself-declared answer imported from the partner's checklist"
				    : "\n自己申告（接続先記入のチェックリストより）");
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(item, "notes"))
		if (cJSON_IsString(x))
			tk_buf_printf(rem, "\n%s", x->valuestring);
}

int tk_r_item_text(const struct tk_r_index *ix, const cJSON *item, const char *lang, size_t max_findings,
		   struct tk_r_item_text *out)
{
	const cJSON *report = ix->report;
	const char *st = tk_r_str(item, "status");
	size_t k, slot = ix->nitems, nmine = 0;
	const size_t *mine = NULL;
	bool en = strcmp(tk_r_lang(lang), "en") == 0;
	struct tk_buf s, iss, plan, rem, rel, sec;
	const cJSON *f, *x, *att = cJSON_GetObjectItemCaseSensitive(item, "attestation");
	const cJSON *wv = cJSON_GetObjectItemCaseSensitive(item, "waiver");
	char no[32];
	size_t nshown = 0, npass = 0, nfail = 0, nerr = 0, nfaillisted = 0;
	cJSON *seen_rules = cJSON_CreateObject();

	memset(out, 0, sizeof(*out));
	tk_item_no_str(cJSON_GetObjectItemCaseSensitive(item, "no"), no, sizeof(no));
	for (k = 0; k < ix->nitems; k++)
		if (strcmp(ix->item_no[k], no) == 0) {
			slot = k;
			break;
		}
	if (slot < ix->nitems) {
		mine = ix->by_item[slot];
		nmine = ix->nby_item[slot];
	}
	tk_buf_init(&s, 1 << 24);
	tk_buf_init(&iss, 1 << 24);
	tk_buf_init(&plan, 1 << 24);
	tk_buf_init(&rem, 1 << 20);
	tk_buf_init(&rel, 1 << 16);
	tk_buf_init(&sec, 1 << 16);

	/* 現在の対応状況 */
	if (strcmp(st, "manual") == 0)
		tk_buf_puts(&s, en ? "[Needs the partner's answer] tenken has no automated check for this item."
				   : "【要回答】自動点検の対象外です。API接続先の回答が必要です。");
	else if (strcmp(st, "not_applicable") == 0)
		tk_buf_printf(&s, "%s%s", en ? "[Not applicable] " : "【対象外】",
			      *tk_r_str(item, "justification") ? tk_r_str(item, "justification")
							       : tk_r_str(item, "reason"));
	else if (strcmp(st, "pass") == 0 && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(item, "with_warnings")))
		tk_buf_puts(&s, en ? "[Automated check: pass with warnings]" : "【自動点検: 適合（注意あり）】");
	else
		tk_buf_printf(&s, en ? "[Automated check: %s]" : "【自動点検: %s】", tk_r_status_label(st, lang));
	for (k = 0; k < nmine; k++) {
		const struct tk_r_finding *fx = &ix->f[mine[k]];
		const char *fs = fx->status;
		f = fx->f;
		if (strcmp(fs, "pass") == 0 || strcmp(fs, "warn") == 0)
			npass++;
		else if (strcmp(fs, "fail") == 0)
			nfail++;
		else
			nerr++;
		if (nshown < max_findings) {
			tk_buf_printf(&s, "\n- %s %s @ %s: ", tk_r_status_label(fs, lang), fx->rule, fx->target);
			evidence_line(&s, ix, f, 240);
			nshown++;
		}
		if (strcmp(fs, "pass") != 0) {
			if (nfaillisted < max_findings) {
				tk_buf_printf(&iss, "%s[%s] %s %s — %s (%s)", iss.len ? "\n" : "",
					      tk_r_status_label(fs, lang), fx->rule, tk_r_f_title(report, f, lang),
					      fx->target, tk_r_f_str(report, f, "severity"));
				if (cJSON_GetObjectItemCaseSensitive(f, "waiver"))
					tk_buf_printf(&iss, en ? " [waived]" : "【例外承認】");
				if (*tk_r_str(f, "error"))
					tk_buf_printf(&iss, ": %s", tk_r_str(f, "error"));
				nfaillisted++;
			}
			if (strcmp(fs, "fail") == 0 || strcmp(fs, "warn") == 0) {
				const char *rule = fx->rule;
				if (!cJSON_GetObjectItemCaseSensitive(seen_rules, rule)) {
					const char *r = tk_r_f_remediation(report, f, lang);
					cJSON_AddTrueToObject(seen_rules, rule);
					tk_buf_printf(&plan, "%s%s: %s", plan.len ? "\n" : "", rule, r);
				}
			}
		}
	}
	if (nshown < npass + nfail + nerr)
		tk_buf_printf(&s, en ? "\n(+%zu more findings in report.json)" : "\n（他 %zu 件は report.json を参照）",
			      npass + nfail + nerr - nshown);
	if (nfaillisted < nfail + nerr)
		tk_buf_printf(&iss, en ? "\n(+%zu more)" : "\n（他 %zu 件）", nfail + nerr - nfaillisted);
	if (strcmp(st, "incomplete") == 0 && *tk_r_str(item, "reason"))
		tk_buf_printf(&iss, "%s%s", iss.len ? "\n" : "", tk_r_str(item, "reason"));
	if (wv)
		tk_buf_printf(&s, en ? "\n[Waived] %s — approved by %s, expires %s" : "\n【例外承認】%s（承認者: %s、期限: %s）",
			      tk_r_str(wv, "justification"), tk_r_str(wv, "approver"), tk_r_str(wv, "expires"));
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(item, "expired_waivers"))
		tk_buf_printf(&s, en ? "\n[Waiver expired on %s: no longer applied] %s" : "\n【例外承認の期限切れ %s: 適用せず】%s",
			      tk_r_str(x, "expires"), tk_r_str(x, "justification"));
	if (att) {
		tk_buf_printf(&s, en ? "\n[Self-declared by the partner] %s" : "\n【自己申告】%s", tk_r_str(att, "answer"));
		if (*tk_r_str(att, "contradiction"))
			tk_buf_printf(&iss, en ? "%s[Contradiction] %s" : "%s【矛盾】%s", iss.len ? "\n" : "",
				      tk_r_str(att, "contradiction"));
		if (*tk_r_str(att, "plan"))
			tk_buf_printf(&plan, en ? "%s[Partner's plan] %s" : "%s【接続先の計画】%s", plan.len ? "\n" : "",
				      tk_r_str(att, "plan"));
	}

	related_text(item, &rel, &sec);
	remarks_text(ix, item, mine, nmine, en, &rem);
	cJSON_Delete(seen_rules);

	out->status_text = steal_or_empty(&s);
	out->issues = steal_or_empty(&iss);
	out->plan = steal_or_empty(&plan);
	out->remarks = steal_or_empty(&rem);
	out->related = steal_or_empty(&rel);
	out->related_sections = steal_or_empty(&sec);
	tk_buf_free(&s);
	tk_buf_free(&iss);
	tk_buf_free(&plan);
	tk_buf_free(&rem);
	tk_buf_free(&rel);
	tk_buf_free(&sec);
	if (!out->status_text || !out->issues || !out->plan || !out->remarks || !out->related ||
	    !out->related_sections) {
		tk_r_item_text_free(out);
		return TK_ERR_NOMEM;
	}
	return TK_OK;
}

void tk_r_item_text_free(struct tk_r_item_text *t)
{
	if (!t)
		return;
	free(t->status_text);
	free(t->issues);
	free(t->plan);
	free(t->remarks);
	free(t->related);
	free(t->related_sections);
	memset(t, 0, sizeof(*t));
}
