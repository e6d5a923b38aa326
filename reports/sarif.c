/*
 * sarif.c - renderer "sarif": SARIF 2.1.0 for code-scanning style gates.
 *
 * One run; tool.driver.rules lists each rule seen in the report (id, name,
 * descriptions, help = remediation, default level from severity) with
 * relationships to the checklist items it maps to; the checklist is
 * published as a taxonomy (run.taxonomies, one taxon per item). Every
 * finding is a result: kind pass / fail / open (the probe could not
 * observe), level from severity for failures ("none" otherwise: SARIF
 * allows a level only on kind fail),
 * partialFingerprints "tenken/v1" = SHA-256(rule "\n" target) (stable across
 * scans), and baselineState against the previous stored report when one is
 * given (new / unchanged / updated; failures that disappeared are emitted as
 * "absent" results).
 */
#include "report.h"
#include "rutil.h"

#include <stdio.h>
#include <string.h>

static const char *level_of(const char *status, const char *severity)
{
	if (strcmp(status, "pass") == 0)
		return "none";
	if (strcmp(status, "warn") == 0)
		return "warning";
	if (strcmp(status, "error") == 0)
		return "none"; /* SARIF 3.27.10: a level other than none requires kind fail */
	if (strcmp(severity, "critical") == 0 || strcmp(severity, "high") == 0)
		return "error";
	if (strcmp(severity, "low") == 0 || strcmp(severity, "info") == 0)
		return "note";
	return "warning";
}

static const char *kind_of(const char *status)
{
	if (strcmp(status, "pass") == 0)
		return "pass";
	if (strcmp(status, "fail") == 0 || strcmp(status, "warn") == 0)
		return "fail";
	return "open";
}

static cJSON *text(const char *s)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "text", s ? s : "");
	return o;
}

/* report: the document f belongs to (the current or the previous scan). */
static cJSON *result_of(const cJSON *report, const struct tk_r_index *ix, const cJSON *f, const char *cl,
			int rule_index, const char *lang, const cJSON *prev_kinds)
{
	cJSON *r = cJSON_CreateObject(), *loc, *ll, *pf, *taxa, *props;
	const cJSON *n;
	const char *st = tk_r_str(f, "status");
	char fp[33], msg[2048];
	tk_r_finding_fp(f, fp);
	cJSON_AddStringToObject(r, "ruleId", tk_r_str(f, "rule"));
	cJSON_AddNumberToObject(r, "ruleIndex", rule_index);
	cJSON_AddStringToObject(r, "kind", kind_of(st));
	cJSON_AddStringToObject(r, "level", level_of(st, tk_r_f_str(report, f, "severity")));
	snprintf(msg, sizeof(msg), "%s: %s (%s)%s%s", tk_r_status_label(st, lang), tk_r_f_title(report, f, lang),
		 tk_r_str(f, "target"), *tk_r_str(f, "error") ? ": " : "", tk_r_str(f, "error"));
	cJSON_AddItemToObject(r, "message", text(msg));
	loc = cJSON_AddArrayToObject(r, "locations");
	ll = cJSON_CreateObject();
	{
		cJSON *lla = cJSON_AddArrayToObject(ll, "logicalLocations"), *l = cJSON_CreateObject();
		cJSON_AddStringToObject(l, "fullyQualifiedName", tk_r_str(f, "target"));
		cJSON_AddStringToObject(l, "kind", "resource");
		cJSON_AddItemToArray(lla, l);
	}
	cJSON_AddItemToArray(loc, ll);
	pf = cJSON_AddObjectToObject(r, "partialFingerprints");
	cJSON_AddStringToObject(pf, "tenken/v1", fp);
	if (prev_kinds) {
		const cJSON *pk = cJSON_GetObjectItemCaseSensitive(prev_kinds, fp);
		cJSON_AddStringToObject(r, "baselineState",
					!pk ? "new" : strcmp(pk->valuestring, kind_of(st)) == 0 ? "unchanged" : "updated");
	}
	taxa = cJSON_AddArrayToObject(r, "taxa");
	cJSON_ArrayForEach(n, cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(f, "items"), cl))
	{
		cJSON *t = cJSON_CreateObject(), *tc;
		char no[32];
		tk_item_no_str(n, no, sizeof(no));
		cJSON_AddStringToObject(t, "id", no);
		tc = cJSON_AddObjectToObject(t, "toolComponent");
		cJSON_AddStringToObject(tc, "name", cl);
		cJSON_AddItemToArray(taxa, t);
	}
	props = cJSON_AddObjectToObject(r, "properties");
	cJSON_AddStringToObject(props, "tenkenStatus", st);
	cJSON_AddStringToObject(props, "severity", tk_r_f_str(report, f, "severity"));
	cJSON_AddStringToObject(props, "probe", tk_r_f_str(report, f, "probe"));
	if (cJSON_GetObjectItemCaseSensitive(f, "evidence"))
		cJSON_AddItemToObject(props, "evidence",
				      tk_r_evidence(report, f, ix ? ix->obs : NULL, ix ? ix->nobs : 0));
	if (cJSON_GetObjectItemCaseSensitive(f, "waiver")) {
		cJSON *sup = cJSON_AddArrayToObject(r, "suppressions"), *s = cJSON_CreateObject();
		const cJSON *w = cJSON_GetObjectItemCaseSensitive(f, "waiver");
		char j[1024];
		snprintf(j, sizeof(j), "%s (approver: %s, expires: %s)", tk_r_str(w, "justification"),
			 tk_r_str(w, "approver"), tk_r_str(w, "expires"));
		cJSON_AddStringToObject(s, "kind", "external");
		cJSON_AddStringToObject(s, "status", "accepted");
		cJSON_AddStringToObject(s, "justification", j);
		cJSON_AddItemToArray(sup, s);
	}
	return r;
}

/* runs[0].tool.driver.rules: every rule with a finding, in first-seen order;
 * index maps rule id -> its position. Returns the number of rules. */
static int driver_rules(const cJSON *report, const char *cl, const char *lang, cJSON *rules, cJSON *index)
{
	const cJSON *f;
	int nrules = 0;
	cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(report, "findings"))
	{
		const char *id = tk_r_str(f, "rule");
		cJSON *r, *rel, *cfg, *props;
		const cJSON *n;
		if (cJSON_GetObjectItemCaseSensitive(index, id))
			continue;
		cJSON_AddNumberToObject(index, id, nrules++);
		r = cJSON_CreateObject();
		cJSON_AddStringToObject(r, "id", id);
		cJSON_AddStringToObject(r, "name", id);
		cJSON_AddItemToObject(r, "shortDescription", text(tk_r_f_title(report, f, lang)));
		cJSON_AddItemToObject(r, "fullDescription", text(tk_r_f_title(report, f, "en")));
		cJSON_AddItemToObject(r, "help", text(tk_r_f_remediation(report, f, lang)));
		cfg = cJSON_AddObjectToObject(r, "defaultConfiguration");
		cJSON_AddStringToObject(cfg, "level", level_of("fail", tk_r_f_str(report, f, "severity")));
		props = cJSON_AddObjectToObject(r, "properties");
		cJSON_AddStringToObject(props, "severity", tk_r_f_str(report, f, "severity"));
		cJSON_AddStringToObject(props, "probe", tk_r_f_str(report, f, "probe"));
		cJSON_AddStringToObject(props, "basis", tk_r_f_str(report, f, "basis"));
		rel = cJSON_AddArrayToObject(r, "relationships");
		cJSON_ArrayForEach(n,
				   cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(f, "items"), cl))
		{
			cJSON *x = cJSON_CreateObject(), *t = cJSON_AddObjectToObject(x, "target"), *tc, *k;
			char no[32];
			tk_item_no_str(n, no, sizeof(no));
			cJSON_AddStringToObject(t, "id", no);
			tc = cJSON_AddObjectToObject(t, "toolComponent");
			cJSON_AddStringToObject(tc, "name", cl);
			k = cJSON_AddArrayToObject(x, "kinds");
			cJSON_AddItemToArray(k, cJSON_CreateString("relevant"));
			cJSON_AddItemToArray(rel, x);
		}
		cJSON_AddItemToArray(rules, r);
	}

	return nrules;
}

static int render_sarif(const cJSON *report, const struct tk_render_opts *opts, struct tk_buf *out,
			struct tk_err *err)
{
	const char *lang = tk_r_lang(opts ? opts->lang : NULL), *cl = tk_r_checklist_id(report);
	const cJSON *clj = cJSON_GetObjectItemCaseSensitive(report, "checklist");
	const cJSON *f, *it;
	cJSON *doc = cJSON_CreateObject(), *runs, *run, *tool, *driver, *rules, *results, *taxonomies, *tax, *taxa,
	      *index = cJSON_CreateObject(), *prev_kinds = NULL, *cur = cJSON_CreateObject(), *o, *inv;
	char *s;
	int nrules = 0, rc = TK_OK;
	struct tk_r_index ix;

	if (tk_r_index_build(report, &ix)) {
		cJSON_Delete(doc);
		cJSON_Delete(index);
		cJSON_Delete(cur);
		return tk_seterr(err, TK_ERR_NOMEM, "report.sarif: out of memory");
	}

	cJSON_AddStringToObject(doc, "$schema", "https://json.schemastore.org/sarif-2.1.0.json");
	cJSON_AddStringToObject(doc, "version", "2.1.0");
	runs = cJSON_AddArrayToObject(doc, "runs");
	run = cJSON_CreateObject();
	cJSON_AddItemToArray(runs, run);
	tool = cJSON_AddObjectToObject(run, "tool");
	driver = cJSON_AddObjectToObject(tool, "driver");
	cJSON_AddStringToObject(driver, "name", "tenken");
	cJSON_AddStringToObject(driver, "version", tk_r_str(cJSON_GetObjectItemCaseSensitive(report, "tool"), "version"));
	cJSON_AddStringToObject(driver, "semanticVersion",
				tk_r_str(cJSON_GetObjectItemCaseSensitive(report, "tool"), "version"));
	o = cJSON_AddArrayToObject(driver, "supportedTaxonomies");
	{
		cJSON *ref = cJSON_CreateObject();
		cJSON_AddStringToObject(ref, "name", cl);
		cJSON_AddItemToArray(o, ref);
	}
	rules = cJSON_AddArrayToObject(driver, "rules");

	nrules = driver_rules(report, cl, lang, rules, index);

	if (opts && opts->previous) {
		prev_kinds = cJSON_CreateObject();
		cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(opts->previous, "findings"))
		{
			char fp[33];
			tk_r_finding_fp(f, fp);
			if (!cJSON_GetObjectItemCaseSensitive(prev_kinds, fp))
				cJSON_AddStringToObject(prev_kinds, fp, kind_of(tk_r_str(f, "status")));
		}
	}
	results = cJSON_AddArrayToObject(run, "results");
	cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(report, "findings"))
	{
		char fp[33];
		tk_r_finding_fp(f, fp);
		if (!cJSON_GetObjectItemCaseSensitive(cur, fp))
			cJSON_AddTrueToObject(cur, fp);
		cJSON_AddItemToArray(
		    results, result_of(report, &ix, f, cl, tk_r_int(index, tk_r_str(f, "rule"), 0), lang, prev_kinds));
	}
	if (opts && opts->previous) {
		/* failures of the previous scan that no longer appear at all */
		cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(opts->previous, "findings"))
		{
			char fp[33];
			cJSON *r;
			tk_r_finding_fp(f, fp);
			if (cJSON_GetObjectItemCaseSensitive(cur, fp) ||
			    strcmp(kind_of(tk_r_str(f, "status")), "fail") != 0)
				continue;
			cJSON_AddTrueToObject(cur, fp);
			if (!cJSON_GetObjectItemCaseSensitive(index, tk_r_str(f, "rule"))) {
				cJSON *rr = cJSON_CreateObject();
				cJSON_AddNumberToObject(index, tk_r_str(f, "rule"), nrules++);
				cJSON_AddStringToObject(rr, "id", tk_r_str(f, "rule"));
				cJSON_AddItemToObject(rr, "shortDescription",
						      text(tk_r_f_title(opts->previous, f, lang)));
				cJSON_AddItemToArray(rules, rr);
			}
			r = result_of(opts->previous, NULL, f, cl, tk_r_int(index, tk_r_str(f, "rule"), 0), lang, NULL);
			cJSON_AddStringToObject(r, "baselineState", "absent");
			cJSON_AddItemToArray(results, r);
		}
	}

	taxonomies = cJSON_AddArrayToObject(run, "taxonomies");
	tax = cJSON_CreateObject();
	cJSON_AddItemToArray(taxonomies, tax);
	cJSON_AddStringToObject(tax, "name", cl);
	cJSON_AddStringToObject(tax, "version", tk_r_str(clj, "version"));
	cJSON_AddStringToObject(tax, "organization", "FISC");
	cJSON_AddItemToObject(tax, "shortDescription", text(tk_r_i18n(clj, "title", lang)));
	cJSON_AddBoolToObject(tax, "isComprehensive", true);
	o = cJSON_AddObjectToObject(tax, "properties");
	cJSON_AddStringToObject(o, "sha256", tk_r_str(clj, "sha256"));
	taxa = cJSON_AddArrayToObject(tax, "taxa");
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(report, "items"))
	{
		cJSON *t = cJSON_CreateObject(), *p;
		char no[32];
		tk_item_no_str(cJSON_GetObjectItemCaseSensitive(it, "no"), no, sizeof(no));
		cJSON_AddStringToObject(t, "id", no);
		cJSON_AddStringToObject(t, "name",
					strcmp(lang, "en") == 0 && *tk_r_str(it, "goal_en") ? tk_r_str(it, "goal_en")
											    : tk_r_str(it, "goal"));
		cJSON_AddItemToObject(t, "shortDescription", text(tk_r_str(it, "goal")));
		cJSON_AddItemToObject(t, "fullDescription", text(tk_r_str(it, "goal_en")));
		p = cJSON_AddObjectToObject(t, "properties");
		cJSON_AddStringToObject(p, "chapter", tk_r_str(it, "chapter"));
		cJSON_AddStringToObject(p, "party", tk_r_str(it, "party"));
		cJSON_AddStringToObject(p, "status", tk_r_str(it, "status"));
		cJSON_AddItemToArray(taxa, t);
	}

	inv = cJSON_AddArrayToObject(run, "invocations");
	o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "executionSuccessful", cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(report, "complete")));
	cJSON_AddStringToObject(o, "startTimeUtc", tk_r_str(report, "started_at"));
	cJSON_AddStringToObject(o, "endTimeUtc", tk_r_str(report, "finished_at"));
	cJSON_AddItemToArray(inv, o);
	o = cJSON_AddObjectToObject(run, "automationDetails");
	{
		char id[512];
		snprintf(id, sizeof(id), "tenken/%s/%s/%s", tk_r_str(cJSON_GetObjectItemCaseSensitive(report, "partner"), "id"),
			 cl, tk_r_str(report, "run_id"));
		cJSON_AddStringToObject(o, "id", id);
		cJSON_AddStringToObject(o, "guid", tk_r_str(report, "run_id"));
	}
	o = cJSON_AddObjectToObject(run, "properties");
	cJSON_AddStringToObject(o, "partner", tk_r_str(cJSON_GetObjectItemCaseSensitive(report, "partner"), "id"));
	cJSON_AddStringToObject(o, "verdict", tk_r_str(cJSON_GetObjectItemCaseSensitive(report, "gate"), "verdict"));
	cJSON_AddStringToObject(o, "rulesSha256", tk_r_str(cJSON_GetObjectItemCaseSensitive(report, "tool"), "rules_sha256"));
	cJSON_AddBoolToObject(o, "baselineCompared", prev_kinds != NULL);

	s = cJSON_Print(doc);
	if (!s)
		rc = tk_seterr(err, TK_ERR_NOMEM, "report.sarif: out of memory");
	else if ((rc = tk_buf_puts(out, s)) || (rc = tk_buf_puts(out, "\n")))
		tk_seterr(err, rc, "report.sarif: %s", tk_strerror(rc));
	cJSON_free(s);
	cJSON_Delete(doc);
	cJSON_Delete(index);
	cJSON_Delete(cur);
	cJSON_Delete(prev_kinds);
	tk_r_index_free(&ix);
	return rc;
}

const struct tk_renderer tk_renderer_sarif = {
	.name = "sarif",
	.file_name = "report.sarif",
	.render = render_sarif,
};
