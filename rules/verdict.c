/*
 * verdict.c - the gate verdict and the counts of a report, computed in one
 * place. The report builder (reports/report.c), the post-processing of
 * waivers and attestation (rules/waivers.c, rules/attestation.c) and the CLI's exit code
 * (agent/cli.c) all use these functions; nothing else decides a verdict.
 *
 *   fail        at least one item fails (a waived item does not)
 *   incomplete  nothing fails but the scan is not complete
 *   pass        otherwise
 */
#include "rules.h"

#include <string.h>

static const char *const item_statuses[TK_VERDICT_NSTATUS] = {"pass", "fail", "incomplete", "manual",
								"not_applicable", "waived"};
static const char *const finding_statuses[4] = {"pass", "fail", "warn", "error"};

void tk_verdict_compute(const cJSON *report, struct tk_verdict *v)
{
	const cJSON *it;
	size_t i;
	memset(v, 0, sizeof(*v));
	v->complete = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(report, "complete"));
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(report, "items"))
	{
		const char *st = tk_json_str(it, "status");
		v->total++;
		for (i = 0; i < TK_VERDICT_NSTATUS; i++)
			if (strcmp(st, item_statuses[i]) == 0)
				v->items[i]++;
		if (strcmp(st, "pass") == 0 && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "with_warnings")))
			v->pass_with_warnings++;
		if (cJSON_GetObjectItemCaseSensitive(it, "attestation"))
			v->self_declared++;
	}
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(report, "findings"))
	{
		const char *st = tk_json_str(it, "status");
		for (i = 0; i < 4; i++)
			if (strcmp(st, finding_statuses[i]) == 0)
				v->findings[i]++;
	}
	if (v->items[1] > 0) {
		v->verdict = "fail";
		v->gate = TK_GATE_FAIL;
	} else if (!v->complete) {
		v->verdict = "incomplete";
		v->gate = TK_GATE_INCOMPLETE;
	} else {
		v->verdict = "pass";
		v->gate = TK_GATE_PASS;
	}
}

int tk_verdict_apply(cJSON *report)
{
	struct tk_verdict v;
	cJSON *sum = cJSON_GetObjectItemCaseSensitive(report, "summary"), *o, *g;
	size_t i;
	int rc;

	tk_verdict_compute(report, &v);
	if (!sum && (rc = tk_json_set(report, "summary", sum = cJSON_CreateObject())))
		return rc;
	o = cJSON_CreateObject();
	if (!o)
		return TK_ERR_NOMEM;
	for (i = 0; i < TK_VERDICT_NSTATUS; i++)
		cJSON_AddNumberToObject(o, item_statuses[i], v.items[i]);
	cJSON_AddNumberToObject(o, "total", v.total);
	cJSON_AddNumberToObject(o, "pass_with_warnings", v.pass_with_warnings);
	if (cJSON_GetObjectItemCaseSensitive(report, "attestation"))
		cJSON_AddNumberToObject(o, "self_declared", v.self_declared);
	if ((rc = tk_json_set(sum, "items", o)))
		return rc;
	o = cJSON_CreateObject();
	if (!o)
		return TK_ERR_NOMEM;
	for (i = 0; i < 4; i++)
		cJSON_AddNumberToObject(o, finding_statuses[i], v.findings[i]);
	if ((rc = tk_json_set(sum, "findings", o)))
		return rc;
	g = cJSON_CreateObject();
	if (!g)
		return TK_ERR_NOMEM;
	cJSON_AddStringToObject(g, "verdict", v.verdict);
	cJSON_AddNumberToObject(g, "exit_code", (int)v.gate);
	if (v.items[5] > 0)
		cJSON_AddNumberToObject(g, "waived_items", v.items[5]);
	return tk_json_set(report, "gate", g);
}

int tk_verdict_exit(const cJSON *report, bool gate_mode, bool allow_incomplete)
{
	struct tk_verdict v;
	tk_verdict_compute(report, &v);
	if (!gate_mode)
		return v.complete ? TK_GATE_PASS : TK_GATE_INCOMPLETE;
	if (v.gate == TK_GATE_INCOMPLETE && allow_incomplete)
		return TK_GATE_PASS;
	return (int)v.gate;
}
