/*
 * report.h - the report document (report.json's content) and the renderers
 * that turn it into files. Renderers never judge: they only present.
 */
#ifndef TK_REPORT_H
#define TK_REPORT_H

#include <cjson/cJSON.h>
#include <time.h>
#include "exitcode.h"
#include "rules.h"
#include "run.h"

/* tenken.report/2: rule texts once in "rules" (findings refer by id), a
 * finding's evidence holds the facts its rule judged and "observation"
 * indexes observations[]. tenken.report/3: an observation may group like
 * facts in "entries" (keyed by "entry_key"; the patch probe: one observation
 * per source package, one entry per CVE), and a finding on an entry names it
 * with "entry". Readers accept /1 (texts on each finding) and /2 too. */
#define TK_REPORT_SCHEMA "tenken.report/3"
#define TK_REPORT_SCHEMA_V1 "tenken.report/1"

struct tk_report_input {
	const cJSON *partner;              /* config's "partner" object */
	const char *config_file;
	const char *config_sha256;
	const struct tk_checklist *checklist;
	const struct tk_ruleset *rules;
	const struct tk_tailoring *tailoring;  /* may be NULL */
	const struct tk_dataset *data;
	const struct tk_probe_run *runs;
	size_t nruns;
	time_t started, finished;
	bool interrupted;                  /* stopped by a signal */
	const char *lang;                  /* "ja" | "en" */
	const char *mode;                  /* "scan" | "gate" */
};

/* Build the whole report: observations, findings, items, summary, gate. The
 * runs' observations move into the report (each run keeps an empty array). */
int tk_report_build(const struct tk_report_input *in, cJSON **out, struct tk_err *err);

/* Gate exit codes: enum tk_exit, defined next to the CLI (agent/exitcode.h). */

struct tk_render_opts {
	const char *lang;            /* "ja" (default) | "en" */
	const cJSON *history;        /* past scans of this partner for trends; may be NULL */
	const cJSON *previous;       /* the previous report, for baselines; may be NULL */
	const struct tk_buf *json;   /* report.json as the json renderer made it (written as is); may be NULL */
};

struct tk_renderer {
	const char *name;        /* --format name */
	const char *file_name;   /* written into the output directory */
	int (*render)(const cJSON *report, const struct tk_render_opts *opts, struct tk_buf *out,
		      struct tk_err *err);
};

extern const struct tk_renderer *const tk_renderers[];
const struct tk_renderer *tk_renderer_find(const char *name);
/* Check a comma-separated --format list; error names the bad one. */
int tk_formats_validate(const char *formats, struct tk_err *err);
/* Render each format in the list into dir (atomic writes). */
int tk_render_formats(const cJSON *report, const char *formats, const char *dir,
		      const struct tk_render_opts *opts, struct tk_err *err);

/* Waivers and attestation are applied in rules/ (waivers.h, attestation.h); renderers only show them. */

#endif
