/*
 * evaluate.c - observations x rules -> findings; findings x checklist -> items.
 *
 * A finding is one rule judged on one observation (or an error when the
 * rule's probe could not observe the target). Item status:
 *   not_applicable  tailored out (with its justification)
 *   fail            any evaluated rule mapped to the item failed
 *   incomplete      no failure, but a mapped rule's probe errored
 *   pass            at least one mapped rule that covers the whole item was
 *                   evaluated and none failed
 *   manual          no mapped rule was evaluated: the partner must answer;
 *                   or only rules with "covers": "part" passed or warned
 *                   (reason_code "partial_evidence": their findings are shown,
 *                   and the partner must still answer for the rest)
 * A rule with effect "warn" produces "warn" findings, which count as
 * evaluated but never fail an item. A "covers": "part" rule that fails
 * fails its items like any other.
 *
 * Unobserved fields: an observation may carry "unobserved": {"FIELD": "why"}
 * naming fields the probe tried and failed to observe (a denied or throttled
 * call, a malformed answer, stale evidence). A rule whose `when` or
 * `fail_when` reads such a field is not judged: it becomes an "error"
 * finding naming the field and the reason, so its items are incomplete,
 * never pass and never "not configured". (`when` first: a rule that does
 * not apply for an observed reason is skipped as before.)
 * A rule's optional "incomplete_when" (a condition, after "when", before
 * "fail_when") is the one rule-data mechanism for "not observed": evidence
 * missing (a certificate that could not be read) or present but not to be
 * relied on (a stale credential report). When it holds the finding is
 * "error" (the items go incomplete) with the facts it read, and as its
 * message the text at "incomplete_reason" (a path) or else the rule's title.
 * A rule may have incomplete_when alone (no fail_when): it then passes
 * whenever the evidence can be relied on. Unknown is never pass.
 *
 * Entries (tenken.report/3): an observation may group many like facts as
 * "entries": [{...}, ...] with "entry_key": "FIELD" (the patch probe: one
 * observation per source package, one entry per CVE). Each entry is judged
 * as an observation of its own whose fields are the entry's, else the
 * observation's (facts common to every entry are stated once on the
 * observation); its target is the observation's target + "/" + the entry's
 * FIELD, and its findings carry "entry": its index besides "observation".
 * An entry's field replaces the observation's whole (objects such as
 * "unobserved" are not merged: a writer puts such a field on one level only).
 */
#include "rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *str_field(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The facts the rule judged (its when / incomplete_when / fail_when paths) as they were
 * observed. The rule's further evidence paths (package, versions, ...) are
 * not copied: the finding names its observation (findings[].observation,
 * an index into observations[]) and the catalogue lists the paths. */
static cJSON *evidence_of(const struct tk_rule *r, const cJSON *obs)
{
	cJSON *paths = cJSON_CreateArray(), *ev = cJSON_CreateObject();
	const cJSON *p;
	if (r->when)
		tk_cond_paths(r->when, paths);
	if (r->incomplete_when)
		tk_cond_paths(r->incomplete_when, paths);
	if (r->fail_when)
		tk_cond_paths(r->fail_when, paths);
	cJSON_ArrayForEach(p, paths)
	{
		const cJSON *v = tk_json_path(obs, p->valuestring);
		if (!cJSON_GetObjectItemCaseSensitive(ev, p->valuestring))
			cJSON_AddItemToObject(ev, p->valuestring, v ? cJSON_Duplicate(v, true) : cJSON_CreateNull());
	}
	cJSON_Delete(paths);
	return ev;
}

/* A finding carries what differs per finding; the rule's texts are in the
 * report's rules catalogue (tk_rules_catalogue), once. items keeps only the
 * report's checklist. */
static cJSON *new_finding(const struct tk_rule *r, const char *status, const char *target, const char *checklist,
			  int obs_index, int entry)
{
	cJSON *f = cJSON_CreateObject(), *items = cJSON_CreateObject();
	const cJSON *mine = cJSON_GetObjectItemCaseSensitive(r->items, checklist);
	cJSON_AddStringToObject(f, "rule", r->id);
	cJSON_AddStringToObject(f, "status", status);
	cJSON_AddStringToObject(f, "target", target ? target : "");
	cJSON_AddItemToObject(items, checklist, mine ? cJSON_Duplicate(mine, true) : cJSON_CreateArray());
	cJSON_AddItemToObject(f, "items", items);
	if (obs_index >= 0)
		cJSON_AddNumberToObject(f, "observation", obs_index);
	if (entry >= 0)
		cJSON_AddNumberToObject(f, "entry", entry);
	return f;
}

cJSON *tk_rules_catalogue(const struct tk_ruleset *rs)
{
	cJSON *cat = cJSON_CreateObject();
	size_t i;
	static const char *const copy[] = {"title", "remediation", "basis", "evidence", NULL};
	if (!cat)
		return NULL;
	for (i = 0; i < rs->n; i++) {
		const struct tk_rule *r = &rs->rules[i];
		cJSON *e;
		size_t k;
		if (!r->enabled || cJSON_GetObjectItemCaseSensitive(cat, r->id))
			continue;
		e = cJSON_AddObjectToObject(cat, r->id);
		for (k = 0; copy[k]; k++) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->json, copy[k]);
			if (v)
				cJSON_AddItemToObject(e, copy[k], cJSON_Duplicate(v, true));
		}
		cJSON_AddStringToObject(e, "severity", r->severity);
		cJSON_AddStringToObject(e, "effect", r->effect == TK_EFFECT_WARN ? "warn" : "fail");
		cJSON_AddStringToObject(e, "probe", r->probe);
		cJSON_AddStringToObject(e, "kind", r->kind);
		cJSON_AddStringToObject(e, "file", r->file);
		if (cJSON_GetArraySize(r->params) > 0)
			cJSON_AddItemToObject(e, "params", cJSON_Duplicate(r->params, true));
	}
	return cat;
}

/* Has this rule already got an error finding for target? */
static bool has_error(const cJSON *findings, const char *rule, const char *target)
{
	const cJSON *f;
	cJSON_ArrayForEach(f, findings)
	{
		if (strcmp(str_field(f, "rule"), rule) == 0 && strcmp(str_field(f, "status"), "error") == 0 &&
		    strcmp(str_field(f, "target"), target) == 0)
			return true;
	}
	return false;
}

/* incomplete_when holds: an "error" finding with the observation's reason; true when added. */
static bool incomplete_when_holds(const struct tk_rule *r, const cJSON *o, const char *target, const char *checklist,
				  int oi, int ej, cJSON *findings)
{
	const cJSON *rp = cJSON_GetObjectItemCaseSensitive(r->json, "incomplete_reason"), *why;
	cJSON *f, *ev;
	if (!r->incomplete_when || !tk_cond_eval(r->incomplete_when, o, r->params))
		return false;
	/* the observation's own reason (incomplete_reason, a path), else the rule's title says what is wrong */
	why = cJSON_IsString(rp) ? tk_json_path(o, rp->valuestring) : NULL;
	if (!cJSON_IsString(why) && !rp)
		why = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r->json, "title"), "en");
	f = new_finding(r, "error", target, checklist, oi, ej);
	ev = evidence_of(r, o);
	cJSON_AddStringToObject(ev, "error", "incomplete");
	cJSON_AddStringToObject(ev, "message", cJSON_IsString(why) ? why->valuestring
							   : "the evidence this rule needs was not observed");
	cJSON_AddItemToObject(f, "evidence", ev);
	cJSON_AddItemToArray(findings, f);
	return true;
}

/* The reason a field cond reads is unobserved on obs (NULL: all observed); *field names it. */
static const char *unobserved_in(const cJSON *cond, const cJSON *obs, const char **field)
{
	const cJSON *un = cJSON_GetObjectItemCaseSensitive(obs, "unobserved"), *p;
	cJSON *paths;
	const char *why = NULL;
	if (!cond || !cJSON_IsObject(un) || !un->child)
		return NULL;
	paths = cJSON_CreateArray();
	tk_cond_paths(cond, paths);
	cJSON_ArrayForEach(p, paths)
	{
		const cJSON *w = cJSON_GetObjectItemCaseSensitive(un, p->valuestring);
		if (w) {
			*field = w->string; /* owned by obs */
			why = cJSON_IsString(w) ? w->valuestring : "not observed";
			break;
		}
	}
	cJSON_Delete(paths);
	return why;
}

static cJSON *unobserved_finding(const struct tk_rule *r, const char *target, const char *field, const char *why,
				 const char *checklist, int oi, int ej)
{
	cJSON *f = new_finding(r, "error", target, checklist, oi, ej);
	cJSON *ev = cJSON_AddObjectToObject(f, "evidence");
	char msg[1200];
	snprintf(msg, sizeof(msg), "%s not observed: %s", field, why);
	cJSON_AddStringToObject(ev, "error", "unobserved");
	cJSON_AddStringToObject(ev, "field", field);
	cJSON_AddStringToObject(ev, "message", msg);
	return f;
}

/* What the rules judge: an observation, or one entry of it seen through a view. */
struct unit {
	const cJSON *o;      /* the observation, or the entry's view (fields of the entry, else the observation's) */
	const char *probe, *kind, *target;
	int oi, ej;          /* observation index, entry index (-1: none) */
	cJSON *view;         /* owned: references only */
	char *vtarget;       /* owned: target of an entry */
};

static void units_free(struct unit *u, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++) {
		cJSON_Delete(u[i].view);
		free(u[i].vtarget);
	}
	free(u);
}

/* A view of entry e of o: references to e's fields, then to o's fields e lacks (never "entries"). */
static cJSON *entry_view(const cJSON *o, const cJSON *e)
{
	cJSON *v = cJSON_CreateObject();
	const cJSON *k;
	if (!v)
		return NULL;
	cJSON_ArrayForEach(k, e)
	{
		if (k->string && !cJSON_AddItemReferenceToObject(v, k->string, (cJSON *)k))
			goto fail;
	}
	cJSON_ArrayForEach(k, o)
	{
		if (!k->string || strcmp(k->string, "entries") == 0 || strcmp(k->string, "entry_key") == 0 ||
		    cJSON_GetObjectItemCaseSensitive(e, k->string))
			continue;
		if (!cJSON_AddItemReferenceToObject(v, k->string, (cJSON *)k))
			goto fail;
	}
	return v;
fail:
	cJSON_Delete(v);
	return NULL;
}

static int build_units(const cJSON *observations, struct unit **out, size_t *nout)
{
	struct unit *u = NULL;
	size_t n = 0, cap = 0;
	const cJSON *o;
	int oi = -1;
	*out = NULL;
	*nout = 0;
	cJSON_ArrayForEach(o, observations)
	{
		const cJSON *entries = cJSON_GetObjectItemCaseSensitive(o, "entries"), *e;
		const char *key = str_field(o, "entry_key");
		int ej = -1;
		bool grouped = cJSON_IsArray(entries) && key && strcmp(str_field(o, "kind") ? str_field(o, "kind") : "",
									 "error") != 0;
		oi++;
		if (!grouped) {
			entries = NULL;
			e = NULL;
		} else {
			e = entries->child;
			if (!e)
				continue; /* nothing grouped: nothing to judge */
		}
		do {
			struct unit *x;
			if (n == cap) {
				size_t nc = cap ? cap * 2 : 256;
				struct unit *nu = realloc(u, nc * sizeof(*nu));
				if (!nu)
					goto nomem;
				u = nu;
				cap = nc;
			}
			x = &u[n];
			memset(x, 0, sizeof(*x));
			x->oi = oi;
			x->ej = -1;
			n++;
			if (!grouped) {
				x->o = o;
				x->target = str_field(o, "target");
			} else {
				const char *t = str_field(o, "target"), *k;
				size_t len;
				ej++;
				x->ej = ej;
				if (!(x->view = entry_view(o, e)))
					goto nomem;
				x->o = x->view;
				k = str_field(e, key);
				len = strlen(t ? t : "") + strlen(k ? k : "") + 2;
				if (!(x->vtarget = malloc(len)))
					goto nomem;
				snprintf(x->vtarget, len, "%s/%s", t ? t : "", k ? k : "");
				x->target = x->vtarget;
			}
			x->probe = str_field(x->o, "probe");
			x->kind = str_field(x->o, "kind");
		} while (grouped && (e = e->next));
	}
	*out = u;
	*nout = n;
	return TK_OK;
nomem:
	units_free(u, n);
	return TK_ERR_NOMEM;
}

static int judge(const struct tk_eval_input *in, cJSON *findings)
{
	struct unit *units;
	size_t nunits, i, ui;
	int rc = build_units(in->observations, &units, &nunits);
	if (rc)
		return rc;
	for (i = 0; i < in->rules->n; i++) {
		const struct tk_rule *r = &in->rules->rules[i];
		if (!r->enabled)
			continue;
		for (ui = 0; ui < nunits; ui++) {
			const struct unit *un = &units[ui];
			const cJSON *o = un->o;
			const char *probe = un->probe, *kind = un->kind, *target = un->target;
			int oi = un->oi, ej = un->ej;
			cJSON *f;
			if (!probe || !kind || strcmp(probe, r->probe) != 0)
				continue;
			if (strcmp(kind, "error") == 0) {
				const char *fk = str_field(o, "for_kind");
				if ((fk && strcmp(fk, r->kind) != 0) ||
				    has_error(findings, r->id, target ? target : ""))
					continue;
				f = new_finding(r, "error", target, in->checklist->id, oi, ej);
				cJSON *ev = cJSON_AddObjectToObject(f, "evidence");
				cJSON_AddStringToObject(ev, "error",
							str_field(o, "error") ? str_field(o, "error") : "");
				cJSON_AddStringToObject(ev, "message",
							str_field(o, "message") ? str_field(o, "message") : "");
				cJSON_AddItemToArray(findings, f);
				continue;
			}
			if (strcmp(kind, r->kind) != 0)
				continue;
			{
				const char *field = NULL, *why = unobserved_in(r->when, o, &field);
				if (!why && r->when && !tk_cond_eval(r->when, o, r->params))
					continue;
				if (why || (why = unobserved_in(r->incomplete_when, o, &field)) ||
				    (why = unobserved_in(r->fail_when, o, &field))) {
					cJSON_AddItemToArray(findings, unobserved_finding(r, target, field, why,
											  in->checklist->id, oi, ej));
					continue;
				}
			}
			if (incomplete_when_holds(r, o, target, in->checklist->id, oi, ej, findings))
				continue;
			if (r->fail_when && tk_cond_eval(r->fail_when, o, r->params))
				f = new_finding(r, r->effect == TK_EFFECT_WARN ? "warn" : "fail", target,
						in->checklist->id, oi, ej);
			else
				f = new_finding(r, "pass", target, in->checklist->id, oi, ej);
			cJSON_AddItemToObject(f, "evidence", evidence_of(r, o));
			cJSON_AddItemToArray(findings, f);
		}
	}
	units_free(units, nunits);
	return TK_OK;
}

static bool maps_to(const cJSON *items, const char *checklist, const cJSON *no)
{
	const cJSON *n;
	cJSON_ArrayForEach(n, cJSON_GetObjectItemCaseSensitive(items, checklist))
	{
		if (tk_item_no_equal(n, no))
			return true;
	}
	return false;
}

static void add_unique(cJSON *arr, const char *s)
{
	const cJSON *e;
	cJSON_ArrayForEach(e, arr) if (strcmp(e->valuestring, s) == 0) return;
	cJSON_AddItemToArray(arr, cJSON_CreateString(s));
}

/* A finding's fields item_result reads, looked up once (not once per checklist item). */
struct fview {
	const char *status, *rule;
	const cJSON *mine;   /* items.<checklist> */
	bool part;           /* its rule covers part of its items ("covers": "part") */
};

static cJSON *item_result(const struct tk_eval_input *in, const cJSON *item, const struct fview *fv, size_t nf)
{
	static const char *const copy[] = {"no", "chapter", "goal", "party", "chapter_en", "goal_en", "party_en",
					   "related", "bank_item", NULL};
	const cJSON *no = cJSON_GetObjectItemCaseSensitive(item, "no"), *n;
	cJSON *res = cJSON_CreateObject(), *failed = cJSON_CreateArray(), *errored = cJSON_CreateArray();
	cJSON *passed = cJSON_CreateArray(), *mapped = cJSON_CreateArray();
	const char *na = tk_tailoring_not_applicable(in->tailoring, in->checklist->id, no);
	const char *status;
	size_t k, i;
	int nfail = 0, npass = 0, nerr = 0, nwarn = 0, nwhole = 0;

	for (k = 0; copy[k]; k++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(item, copy[k]);
		if (v)
			cJSON_AddItemToObject(res, copy[k], cJSON_Duplicate(v, true));
	}
	for (i = 0; i < in->rules->n; i++) {
		const struct tk_rule *r = &in->rules->rules[i];
		if (r->enabled && maps_to(r->items, in->checklist->id, no))
			add_unique(mapped, r->id);
	}
	for (k = 0; k < nf; k++) {
		const char *st = fv[k].status, *rid = fv[k].rule;
		bool maps = false;
		cJSON_ArrayForEach(n, fv[k].mine) if (tk_item_no_equal(n, no)) maps = true;
		if (!maps)
			continue;
		if (strcmp(st, "fail") == 0) {
			nfail++;
			add_unique(failed, rid);
		} else if (strcmp(st, "error") == 0) {
			nerr++;
			add_unique(errored, rid);
		} else {
			if (strcmp(st, "warn") == 0)
				nwarn++;
			npass++;
			nwhole += !fv[k].part;
			add_unique(passed, rid);
		}
	}
	if (na) {
		status = "not_applicable";
		cJSON_AddStringToObject(res, "justification", na);
		cJSON_AddItemToObject(res, "findings", cJSON_CreateArray());
	} else if (nfail) {
		status = "fail";
		cJSON_AddItemToObject(res, "findings", failed);
		failed = NULL;
	} else if (nerr) {
		status = "incomplete";
		cJSON_AddItemToObject(res, "findings", errored);
		errored = NULL;
	} else if (npass && !nwhole) {
		/* only rules that answer part of the item passed or warned: evidence shown, not a pass */
		status = "manual";
		cJSON_AddItemToObject(res, "findings", passed);
		passed = NULL;
		cJSON_AddStringToObject(res, "reason_code", "partial_evidence");
		cJSON_AddStringToObject(res, "reason", "the evidence answers part of this item (see its findings): "
						       "the partner's answer is needed for the rest");
	} else if (npass) {
		status = "pass";
		cJSON_AddItemToObject(res, "findings", passed);
		passed = NULL;
	} else {
		status = "manual";
		cJSON_AddItemToObject(res, "findings", cJSON_CreateArray());
		/* reason_code lets a renderer say it in the report's language */
		cJSON_AddStringToObject(res, "reason_code",
					cJSON_GetArraySize(mapped) == 0 ? "no_rule" : "not_configured");
		cJSON_AddStringToObject(res, "reason", cJSON_GetArraySize(mapped) == 0
							       ? "no rule covers this item: the partner's answer is needed"
							       : "no mapped rule was evaluated (its probes were not configured): "
								 "the partner's answer is needed");
	}
	cJSON_AddStringToObject(res, "status", status);
	/* a pass whose only problems are warnings is told apart (status stays "pass") */
	if ((strcmp(status, "pass") == 0 || (strcmp(status, "manual") == 0 && npass)) && nwarn > 0)
		cJSON_AddTrueToObject(res, "with_warnings");
	{
		cJSON *c = cJSON_AddObjectToObject(res, "counts");
		cJSON_AddNumberToObject(c, "fail", nfail);
		cJSON_AddNumberToObject(c, "pass", npass - nwarn);
		cJSON_AddNumberToObject(c, "warn", nwarn);
		cJSON_AddNumberToObject(c, "error", nerr);
	}
	cJSON_AddItemToObject(res, "rules", mapped);
	cJSON_Delete(failed);
	cJSON_Delete(errored);
	cJSON_Delete(passed);
	return res;
}

int tk_evaluate(const struct tk_eval_input *in, cJSON **findings_out, cJSON **items_out, struct tk_err *err)
{
	cJSON *findings = cJSON_CreateArray(), *items = cJSON_CreateArray();
	const cJSON *it;
	struct fview *fv;
	const struct tk_rule *last = NULL;
	size_t nf = 0;
	*findings_out = *items_out = NULL;
	if (!findings || !items) {
		cJSON_Delete(findings);
		cJSON_Delete(items);
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	}
	if (judge(in, findings)) {
		cJSON_Delete(findings);
		cJSON_Delete(items);
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	}
	if (!(fv = calloc((size_t)cJSON_GetArraySize(findings) + 1, sizeof(*fv)))) {
		cJSON_Delete(findings);
		cJSON_Delete(items);
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	}
	cJSON_ArrayForEach(it, findings)
	{
		fv[nf].status = str_field(it, "status");
		fv[nf].rule = str_field(it, "rule");
		fv[nf].mine = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(it, "items"),
							      in->checklist->id);
		/* findings of one rule come together: look the rule up when it changes */
		if (fv[nf].rule && (!last || strcmp(last->id, fv[nf].rule) != 0))
			last = tk_ruleset_find(in->rules, fv[nf].rule);
		fv[nf].part = last && last->covers_part;
		nf++;
	}
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(in->checklist->doc, "items"))
		cJSON_AddItemToArray(items, item_result(in, it, fv, nf));
	free(fv);
	*findings_out = findings;
	*items_out = items;
	return TK_OK;
}
