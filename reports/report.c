/* report.c - assemble the report document from a scan's parts. */
#include "report.h"
#include "tlsprofile.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void run_id(char out[37])
{
	unsigned char r[16];
	char hex[33];
	if (RAND_bytes(r, sizeof(r)) != 1)
		memset(r, 0, sizeof(r));
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
	tk_hex(r, 16, hex);
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

_Static_assert((int)TK_GATE_PASS == TK_EXIT_OK && (int)TK_GATE_FAIL == TK_EXIT_FAIL &&
		       (int)TK_GATE_INCOMPLETE == TK_EXIT_INCOMPLETE,
	       "the verdict's gate values are the gate's exit codes");

int tk_report_build(const struct tk_report_input *in, cJSON **out, struct tk_err *err)
{
	cJSON *r = cJSON_CreateObject(), *obs = NULL, *findings = NULL, *items = NULL, *o, *probes;
	const cJSON *it;
	struct tk_eval_input ev;
	char ts[32], id[37];
	bool complete = !in->interrupted;
	size_t i;
	int rc;

	*out = NULL;
	if (!r)
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	obs = cJSON_CreateArray();
	/* Complete means every probe finished and observed every target: an error
	 * observation (a target that could not be observed) makes the scan incomplete. */
	/* The observations move into the report (not copied: a patch scan's are tens of MB as cJSON);
	 * the runs keep empty arrays. */
	for (i = 0; i < in->nruns; i++) {
		cJSON *from = in->runs[i].observations, *next;
		cJSON *mv;
		for (mv = from ? from->child : NULL; mv; mv = next) {
			const cJSON *k = cJSON_GetObjectItemCaseSensitive(mv, "kind");
			next = mv->next;
			if (cJSON_IsString(k) && strcmp(k->valuestring, "error") == 0)
				complete = false;
			cJSON_AddItemToArray(obs, cJSON_DetachItemViaPointer(from, mv));
		}
		if (in->runs[i].status != TK_PROBE_OK)
			complete = false;
	}
	/* Derived facts judged by rules/ (TLS profiles) before the rules read them. */
	if ((rc = tk_tls_profiles_derive(in->data, obs, err))) {
		cJSON_Delete(r);
		cJSON_Delete(obs);
		return rc;
	}
	memset(&ev, 0, sizeof(ev));
	ev.rules = in->rules;
	ev.checklist = in->checklist;
	ev.tailoring = in->tailoring;
	ev.observations = obs;
	ev.lang = in->lang ? in->lang : "ja";
	if ((rc = tk_evaluate(&ev, &findings, &items, err))) {
		cJSON_Delete(r);
		cJSON_Delete(obs);
		return rc;
	}
	/* An error finding (an unobserved field, evidence an "incomplete" rule
	 * rejects) means something the gate needed was not known: not complete. */
	cJSON_ArrayForEach(it, findings)
	{
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(it, "status");
		if (cJSON_IsString(st) && strcmp(st->valuestring, "error") == 0)
			complete = false;
	}

	cJSON_AddStringToObject(r, "schema", TK_REPORT_SCHEMA);
	run_id(id);
	cJSON_AddStringToObject(r, "run_id", id);
	cJSON_AddStringToObject(r, "mode", in->mode ? in->mode : "scan");
	o = cJSON_AddObjectToObject(r, "tool");
	cJSON_AddStringToObject(o, "name", "tenken");
	cJSON_AddStringToObject(o, "version", TENKEN_VERSION);
	cJSON_AddStringToObject(o, "data_origin", in->data->origin);
	cJSON_AddStringToObject(o, "data_sha256", in->data->sha256);
	cJSON_AddStringToObject(o, "rules_sha256", in->rules->sha256);
	cJSON_AddItemToObject(r, "partner", cJSON_Duplicate(in->partner, true));
	o = cJSON_AddObjectToObject(r, "config");
	cJSON_AddStringToObject(o, "file", in->config_file);
	cJSON_AddStringToObject(o, "sha256", in->config_sha256);
	o = cJSON_AddObjectToObject(r, "checklist");
	cJSON_AddStringToObject(o, "id", in->checklist->id);
	cJSON_AddItemToObject(o, "title",
			      cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(in->checklist->doc, "title"), true));
	cJSON_AddItemToObject(o, "version",
			      cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(in->checklist->doc, "version"), true));
	cJSON_AddItemToObject(o, "source",
			      cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(in->checklist->doc, "source"), true));
	cJSON_AddItemToObject(o, "columns",
			      cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(in->checklist->doc, "columns"), true));
	cJSON_AddStringToObject(o, "sha256", in->checklist->sha256);
	if (in->tailoring) {
		o = cJSON_AddObjectToObject(r, "tailoring");
		cJSON_AddStringToObject(o, "file", in->tailoring->file);
		cJSON_AddStringToObject(o, "sha256", in->tailoring->sha256);
		if (cJSON_GetObjectItemCaseSensitive(in->tailoring->doc, "name"))
			cJSON_AddItemToObject(
			    o, "name",
			    cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(in->tailoring->doc, "name"), true));
	}
	tk_rfc3339(in->started, ts);
	cJSON_AddStringToObject(r, "started_at", ts);
	tk_rfc3339(in->finished, ts);
	cJSON_AddStringToObject(r, "finished_at", ts);
	/* A rule whose evidence was missing from an observation (incomplete_when) is an error finding: incomplete too.
	 */
	cJSON_ArrayForEach(it, findings)
	{
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(it, "status");
		if (cJSON_IsString(st) && strcmp(st->valuestring, "error") == 0)
			complete = false;
	}
	cJSON_AddBoolToObject(r, "complete", complete);
	if (in->interrupted)
		cJSON_AddStringToObject(r, "interrupted", "stopped by a signal before every probe finished");

	probes = cJSON_AddArrayToObject(r, "probes");
	for (i = 0; i < in->nruns; i++) {
		cJSON *p = cJSON_CreateObject();
		cJSON_AddStringToObject(p, "name", in->runs[i].probe->name);
		cJSON_AddStringToObject(p, "status", tk_probe_status_name(in->runs[i].status));
		cJSON_AddNumberToObject(p, "duration_ms", (double)in->runs[i].duration_ms);
		cJSON_AddNumberToObject(p, "timeout_ms", in->runs[i].timeout_ms);
		cJSON_AddItemToObject(p, "targets", cJSON_Duplicate(in->runs[i].targets, true));
		if (in->runs[i].status != TK_PROBE_OK)
			cJSON_AddStringToObject(p, "error", in->runs[i].error);
		cJSON_AddItemToArray(probes, p);
	}
	cJSON_AddItemToObject(r, "observations", obs);
	cJSON_AddItemToObject(r, "findings", findings);
	cJSON_AddItemToObject(r, "items", items);

	cJSON_AddItemToObject(r, "rules", tk_rules_catalogue(in->rules));
	{
		/* titles of the seed documents and glosses of related standards, for readers */
		const struct tk_datafile *sf = tk_dataset_get(in->data, "tables/sources.json");
		cJSON *src = sf ? cJSON_ParseWithLength((const char *)sf->data, sf->len) : NULL;
		if (src) {
			cJSON_DeleteItemFromObjectCaseSensitive(src, "_comment");
			cJSON_AddItemToObject(r, "sources", src);
		}
	}
	if ((rc = tk_verdict_apply(r))) {
		cJSON_Delete(r);
		return tk_seterr(err, rc, "out of memory");
	}
	*out = r;
	return TK_OK;
}
