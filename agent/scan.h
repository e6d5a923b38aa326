/*
 * scan.h - the scan pipeline behind `scan`, `gate`, `--inventory` and the
 * demo: config -> probes -> report document -> waivers/attestation ->
 * renders + the signed history. No option parsing and no summary printing
 * (cli.c does both); errors go to stderr as "tenken: ..." lines.
 */
#ifndef TK_SCAN_H
#define TK_SCAN_H

#include <cjson/cJSON.h>

#include "cli.h"
#include "rules.h"

/* The outcome of one scan. Everything in it is owned by the caller and
 * released by tk_scan_result_free. */
struct tk_scan_result {
	int exit_code;        /* enum tk_exit */
	cJSON *report;        /* the report document as stored; NULL when no report was made */
	char **files;         /* NULL-terminated: every file written (formats, then the history copy) */
};

/* Run one scan or gate (o->config, o->out_dir); returns res->exit_code. */
int tk_scan_run(const struct tk_scan_opts *o, struct tk_scan_result *res);
/* SIGTERM/SIGINT request a stop (tk_stop_requested); SIGPIPE ignored. Idempotent: the CLI calls it
 * before any config is read, so that a stop is honoured in every phase. */
void tk_scan_install_signals(void);
void tk_scan_result_free(struct tk_scan_result *res);

/* Data, checklist, rules and tailoring for one checklist id (validate, rules). */
struct tk_loaded {
	struct tk_dataset data;
	struct tk_checklist *checklist;
	struct tk_ruleset *rules;
	struct tk_tailoring *tailoring;
};
/* origin: where the checklist id came from ("partner.json: checklist",
 * "--checklist"), prefixed to an unknown-checklist error; may be NULL. */
int tk_load_all(struct tk_loaded *l, const char *checklist, const char *origin, const char *tailoring,
		struct tk_err *err);
void tk_loaded_free(struct tk_loaded *l);

#define TK_DEFAULT_CHECKLIST "fisc-api-2018"

#endif
