/*
 * scan.c - the scan pipeline (scan.h): load the config and the rule data,
 * open privileged resources, drop privileges, run the probes, build the
 * report document, apply waivers and attestation, render the formats and
 * store the report in the signed history. The caller gets the document.
 */
#include "scan.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attestation.h"
#include "budget.h"
#include "config.h"
#include "history.h"
#include "notify.h"
#include "privs.h"
#include "report.h"
#include "tsa.h"
#include "waivers.h"

static void on_signal(int sig)
{
	(void)sig;
	tk_stop_requested = 1;
}

void tk_scan_install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* Names of the registered probes, for rule validation (filled once; scans may run in threads). */
static const char *probe_name_list[TK_MAX_PROBES + 1];

static void fill_probe_names(void)
{
	size_t i;
	for (i = 0; tk_probes[i] && i < TK_MAX_PROBES; i++)
		probe_name_list[i] = tk_probes[i]->name;
	probe_name_list[i] = NULL;
}

static const char **probe_names(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, fill_probe_names);
	return probe_name_list;
}

void tk_loaded_free(struct tk_loaded *l)
{
	tk_tailoring_free(l->tailoring);
	tk_ruleset_free(l->rules);
	tk_checklist_free(l->checklist);
	tk_dataset_close(&l->data);
	memset(l, 0, sizeof(*l));
}

int tk_load_all(struct tk_loaded *l, const char *checklist, const char *origin, const char *tailoring,
		struct tk_err *err)
{
	int rc;
	memset(l, 0, sizeof(*l));
	if ((rc = tk_dataset_open(&l->data, err)))
		return rc;
	if ((rc = tk_checklist_load(&l->data, checklist, &l->checklist, err))) {
		if (rc == TK_ERR_NOTFOUND && origin) {
			char msg[sizeof(err->msg)];
			snprintf(msg, sizeof(msg), "%s", err->msg);
			tk_seterr(err, rc, "%s: %s", origin, msg);
		}
		return rc;
	}
	if ((rc = tk_ruleset_load(&l->data, probe_names(), &l->rules, err)))
		return rc;
	if (tailoring) {
		if ((rc = tk_tailoring_load(tailoring, &l->tailoring, err)) ||
		    (rc = tk_tailoring_apply(l->tailoring, l->rules, l->checklist, err)))
			return rc;
	}
	return TK_OK;
}

/* Check --waivers and --attestation before scanning, so a bad file costs no scan. */
static int precheck_inputs(const struct tk_scan_opts *o, struct tk_err *err)
{
	char *text = NULL;
	size_t len;
	cJSON *doc = NULL;
	int rc = TK_OK;
	if (o->waivers) {
		if ((rc = tk_read_file(o->waivers, TK_WAIVERS_MAX_BYTES, &text, &len, err)) ||
		    (rc = tk_waivers_parse(o->waivers, text, len, &doc, err)))
			goto out;
		cJSON_Delete(doc);
		doc = NULL;
		free(text);
		text = NULL;
	}
	if (o->attestation) {
		if ((rc = tk_read_file(o->attestation, TK_ATTEST_MAX_BYTES, &text, &len, err)) ||
		    (rc = tk_attestation_parse(o->attestation, text, len, &doc, err)))
			goto out;
	}
out:
	cJSON_Delete(doc);
	free(text);
	return rc;
}

/*
 * Store the report in the history and render it: take the partner's write
 * lock, link the report to the previous stored one, render every format
 * (HTML with the trend from the history, SARIF with the previous report as
 * baseline), then store report.json's exact bytes, signed.
 */
static int render_and_store(cJSON *report, const struct tk_scan_opts *o, struct tk_history *h, const char *partner,
			    char **stored_out, struct tk_err *err)
{
	struct tk_history_link link;
	struct tk_render_opts ro;
	struct tk_buf json;
	cJSON *trend = NULL, *prev = NULL, *cur, *pr;
	char *stored = NULL, *pem = NULL, fp[80];
	int rc;

	tk_buf_init(&json, (size_t)1 << 30);
	if ((rc = tk_history_begin(h, partner, &link, err)))
		goto out;
	if ((rc = tk_history_pubkey(h, &pem, fp, err)))
		goto out;
	if (link.prev_seq > 0) {
		pr = cJSON_CreateObject();
		cJSON_AddNumberToObject(pr, "seq", (double)link.prev_seq);
		cJSON_AddStringToObject(pr, "run_id", link.prev_run_id);
		cJSON_AddStringToObject(pr, "sha256", link.prev_sha256);
		cJSON_AddStringToObject(pr, "file", link.prev_file);
	} else
		pr = cJSON_CreateNull();
	cJSON_AddItemToObject(report, "previous_report", pr);
	cur = cJSON_AddObjectToObject(report, "history");
	cJSON_AddNumberToObject(cur, "seq", (double)link.seq);
	cJSON_AddStringToObject(cur, "key_fingerprint", fp);
	if ((rc = tk_history_list(h, partner, 0, 365, &trend, err)))
		goto out;
	cur = cJSON_CreateObject();
	cJSON_AddNumberToObject(cur, "seq", (double)link.seq);
	cJSON_AddStringToObject(cur, "started_at",
				cJSON_GetObjectItemCaseSensitive(report, "started_at")->valuestring);
	cJSON_AddItemToObject(cur, "items", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(
							 cJSON_GetObjectItemCaseSensitive(report, "summary"), "items"),
						 true));
	cJSON_AddItemToArray(trend, cur);
	if (link.prev_seq > 0 && tk_history_load(h, partner, link.prev_seq, &prev, NULL, err) != TK_OK) {
		tk_log(TK_LOG_WARN, "history: previous report unreadable (%s): SARIF has no baseline", err->msg);
		prev = NULL;
	}
	memset(&ro, 0, sizeof(ro));
	ro.lang = o->lang;
	ro.history = trend;
	ro.previous = prev;
	if ((rc = tk_renderer_find("json")->render(report, &ro, &json, err)))
		goto out;
	ro.json = &json;
	if ((rc = tk_render_formats(report, o->formats, o->out_dir, &ro, err)))
		goto out;
	if ((rc = tk_history_commit(h, partner, &link, json.data, json.len, report, &stored, err)))
		goto out;
	tk_log(TK_LOG_INFO, "history: stored as scan #%lld: %s", link.seq, stored);
	tk_tsa_after_commit(h, partner); /* trusted time (desk): never fails the scan */
	*stored_out = stored;
	stored = NULL;
out:
	if (rc)
		tk_history_abort(h);
	tk_buf_free(&json);
	cJSON_Delete(trend);
	cJSON_Delete(prev);
	free(stored);
	free(pem);
	return rc;
}

/* ---- the progress line (a TTY, without -v): which probes are still running ---- */
struct progress {
	int64_t last_ms;
	bool shown;
};

static void show_progress(void *arg, const struct tk_probe_run *runs, const bool *done, size_t n, int64_t elapsed_ms)
{
	struct progress *p = arg;
	char line[160];
	size_t i, ndone = 0, len;
	int w;
	/* Only for runs long enough to wonder about, at most twice a second. */
	if (elapsed_ms < 1500 || elapsed_ms - p->last_ms < 500)
		return;
	p->last_ms = elapsed_ms;
	for (i = 0; i < n; i++)
		ndone += done[i];
	if (ndone == n)
		return;
	w = snprintf(line, sizeof(line), "tenken: %lld s, %zu/%zu probes done; running:", (long long)(elapsed_ms / 1000),
		     ndone, n);
	len = w > 0 ? (size_t)w : 0;
	for (i = 0; i < n && len < sizeof(line); i++) {
		if (done[i])
			continue;
		if (len + strlen(runs[i].probe->name) + 2 >= 72) {
			len += (size_t)snprintf(line + len, sizeof(line) - len, " …");
			break;
		}
		len += (size_t)snprintf(line + len, sizeof(line) - len, " %s", runs[i].probe->name);
	}
	fprintf(stderr, "\r\033[K%s", line);
	fflush(stderr);
	p->shown = true;
}

static int add_file(struct tk_scan_result *res, size_t *n, char *path)
{
	char **v;
	if (!path || !(v = realloc(res->files, (*n + 2) * sizeof(*v)))) {
		free(path);
		return TK_ERR_NOMEM;
	}
	res->files = v;
	v[(*n)++] = path;
	v[*n] = NULL;
	return TK_OK;
}

/* The files a successful render wrote: one per --format, in its order. */
static int list_outputs(const struct tk_scan_opts *o, struct tk_scan_result *res, size_t *n)
{
	const char *p = o->formats;
	while (p && *p) {
		const char *comma = strchr(p, ',');
		size_t l = comma ? (size_t)(comma - p) : strlen(p);
		char name[32];
		const struct tk_renderer *r;
		snprintf(name, sizeof(name), "%.*s", (int)(l < sizeof(name) ? l : sizeof(name) - 1), p);
		if ((r = tk_renderer_find(name)) && add_file(res, n, tk_path_join(o->out_dir, r->file_name)))
			return TK_ERR_NOMEM;
		p = comma ? comma + 1 : NULL;
	}
	return TK_OK;
}

void tk_scan_result_free(struct tk_scan_result *res)
{
	if (!res)
		return;
	cJSON_Delete(res->report);
	tk_strv_free(res->files);
	memset(res, 0, sizeof(*res));
}

int tk_scan_run(const struct tk_scan_opts *o, struct tk_scan_result *res)
{
	struct tk_history *hist = NULL;
	char *state_dir = NULL, *stored = NULL, origin[1100];
	struct tk_config *cfg = NULL;
	struct tk_loaded l;
	struct tk_err err = {0};
	struct tk_report_input in;
	struct progress prog = {0};
	cJSON *report = NULL;
	const char *checklist;
	int rc, exit_code = TK_EXIT_ERROR;
	size_t i, nfiles = 0;

	memset(res, 0, sizeof(*res));
	memset(&l, 0, sizeof(l));
	/* First: a SIGTERM while loading still ends in a partial report (complete: false), never a
	 * process killed without one. */
	tk_scan_install_signals();
	if ((rc = tk_formats_validate(o->formats, &err))) {
		fprintf(stderr, "tenken: %s\n", err.msg);
		return res->exit_code = TK_EXIT_USAGE;
	}
	if ((rc = tk_config_load(o->config, tk_probes, &cfg, &err))) {
		fprintf(stderr, "tenken: %s\n", err.msg);
		return res->exit_code = rc == TK_ERR_NOMEM ? TK_EXIT_ERROR : TK_EXIT_USAGE;
	}
	checklist = o->checklist ? o->checklist : cfg->checklist ? cfg->checklist : TK_DEFAULT_CHECKLIST;
	snprintf(origin, sizeof(origin), "%s%s", o->checklist ? "--checklist" : cfg->file,
		 o->checklist ? "" : ": checklist");
	if ((rc = tk_load_all(&l, checklist, origin, o->tailoring, &err))) {
		fprintf(stderr, "tenken: %s\n", err.msg);
		exit_code = rc == TK_ERR_NOMEM ? TK_EXIT_ERROR : TK_EXIT_USAGE;
		goto out;
	}
	if ((rc = precheck_inputs(o, &err))) {
		fprintf(stderr, "tenken: %s\n", err.msg);
		exit_code = rc == TK_ERR_NOMEM ? TK_EXIT_ERROR : TK_EXIT_USAGE;
		goto out;
	}
	if ((rc = tk_mkdirs(o->out_dir, 0755, &err))) {
		fprintf(stderr, "tenken: %s\n", err.msg);
		exit_code = TK_EXIT_ERROR;
		goto out;
	}
	if ((rc = tk_history_state_dir(o->state_dir, &state_dir, &err)) ||
	    (rc = tk_history_open(state_dir, true, &hist, &err)) || (rc = tk_history_signer_ready(hist, &err))) {
		fprintf(stderr, "tenken: history: %s\n", err.msg);
		exit_code = rc == TK_ERR_USAGE ? TK_EXIT_USAGE : TK_EXIT_ERROR;
		goto out;
	}
	/* Privileged resources first, in this thread; then no capability is left for any probe thread. */
	for (i = 0; i < cfg->nruns; i++) {
		if (cfg->runs[i].probe->prepare && (rc = cfg->runs[i].probe->prepare(cfg->runs[i].state, &err))) {
			fprintf(stderr, "tenken: probe %s: %s\n", cfg->runs[i].probe->name, err.msg);
			exit_code = rc == TK_ERR_CONFIG ? TK_EXIT_USAGE : TK_EXIT_ERROR;
			goto out;
		}
	}
	if (tk_drop_privileges(&err) != TK_OK)
		tk_log(TK_LOG_WARN, "%s", err.msg);
	if (!o->budget_from_cli)
		tk_budget_set(cfg->host_conns, cfg->host_rate);
	tk_budget_set_burst(cfg->host_burst);
	memset(&in, 0, sizeof(in));
	in.started = time(NULL);
	for (i = 0; i < cfg->nruns; i++)
		tk_log(TK_LOG_INFO, "probe %s: starting (timeout %d s)", cfg->runs[i].probe->name,
		       cfg->runs[i].timeout_ms / 1000);
	rc = tk_run_probes_progress(cfg->runs, cfg->nruns, o->progress ? show_progress : NULL, &prog, &err);
	if (prog.shown)
		fputs("\r\033[K", stderr);
	if (rc) {
		fprintf(stderr, "tenken: %s\n", err.msg);
		goto out;
	}
	for (i = 0; i < cfg->nruns; i++) {
		if (cfg->runs[i].status != TK_PROBE_OK)
			tk_log(TK_LOG_WARN, "probe %s: %s: %s", cfg->runs[i].probe->name,
			       tk_probe_status_name(cfg->runs[i].status), cfg->runs[i].error);
		else
			tk_log(TK_LOG_INFO, "probe %s: done in %lld ms, %d observations", cfg->runs[i].probe->name,
			       (long long)cfg->runs[i].duration_ms, cJSON_GetArraySize(cfg->runs[i].observations));
	}
	in.finished = time(NULL);
	in.partner = cJSON_GetObjectItemCaseSensitive(cfg->doc, "partner");
	in.config_file = cfg->file;
	in.config_sha256 = cfg->sha256;
	in.checklist = l.checklist;
	in.rules = l.rules;
	in.tailoring = l.tailoring;
	in.data = &l.data;
	in.runs = cfg->runs;
	in.nruns = cfg->nruns;
	in.interrupted = tk_stop_requested != 0;
	in.lang = o->lang;
	in.mode = o->gate ? "gate" : "scan";
	if ((rc = tk_report_build(&in, &report, &err))) {
		fprintf(stderr, "tenken: %s\n", err.msg);
		goto out;
	}
	if (o->waivers && (rc = tk_waivers_apply(report, o->waivers, in.finished, &err))) {
		fprintf(stderr, "tenken: %s\n", err.msg);
		goto out;
	}
	if (o->attestation && (rc = tk_attestation_apply(report, o->attestation, &err))) {
		fprintf(stderr, "tenken: %s\n", err.msg);
		goto out;
	}
	if ((rc = tk_verdict_apply(report))) {
		fputs("tenken: out of memory\n", stderr);
		goto out;
	}
	if ((rc = render_and_store(report, o, hist, cfg->partner_id, &stored, &err))) {
		fprintf(stderr, "tenken: %s\n", err.msg);
		goto out;
	}
	/* alerts on change (desk): bounded, never fails the scan */
	tk_notify_after_scan(hist, cfg->partner_id, cJSON_GetObjectItemCaseSensitive(cfg->doc, "notify"), cfg->base_dir,
			     o->notify_file);
	if (list_outputs(o, res, &nfiles)) {
		fputs("tenken: out of memory\n", stderr);
		goto out;
	}
	rc = add_file(res, &nfiles, stored);
	stored = NULL;
	if (rc) {
		fputs("tenken: out of memory\n", stderr);
		goto out;
	}
	exit_code = tk_verdict_exit(report, o->gate, o->allow_incomplete);
	res->report = report;
	report = NULL;
out:
	cJSON_Delete(report);
	free(stored);
	tk_history_close(hist);
	free(state_dir);
	tk_loaded_free(&l);
	tk_config_free(cfg);
	return res->exit_code = exit_code;
}
