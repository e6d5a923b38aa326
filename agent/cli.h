/*
 * cli.h - the tenken command line: exit codes, scan options, subcommands.
 * Option parsing and terminal output live in cli.c; the scan pipeline the
 * commands call is scan.c (scan.h); --inventory is cmd_inventory.c.
 */
#ifndef TK_CLI_H
#define TK_CLI_H

#include <stdbool.h>

#include "exitcode.h" /* enum tk_exit: the process exit codes */
/* Options of one scan or gate run; every pointer is borrowed from the caller. */
struct tk_scan_opts {
	const char *config;
	const char *out_dir;
	const char *checklist;     /* overrides the config's */
	const char *tailoring;
	const char *formats;       /* "json,html,..." */
	const char *lang;
	bool gate;
	bool allow_incomplete;
	bool quiet;
	bool print_items;          /* per-item summary on stdout (demo) */
	bool progress;             /* one-line progress display on stderr (a TTY, without -v) */
	const char *state_dir;     /* history; NULL: TENKEN_STATE_DIR or the XDG default */
	const char *waivers;       /* the bank's waivers file (JSON) */
	const char *attestation;   /* the partner's filled-in checklist CSV */
	const char *notify_file;   /* inventory mode: DIR/notify.json (alerts; a partner's "notify" wins) */
	bool budget_from_cli;      /* inventory mode: ignore configs' politeness values */
	/* inventory mode */
	const char *inventory;     /* directory of partner configs */
	int parallel;              /* partners scanned at once */
	int deadline_s;            /* global deadline for the whole inventory */
	int host_conns;
	double host_rate;
};

/* A single scan or gate from the command line: runs it (scan.h) and prints
 * the summary, the failing and incomplete targets and the files written.
 * Returns the process exit code. */
int tk_cli_scan_run(const struct tk_scan_opts *o);

int tk_cmd_scan(int argc, char **argv, bool gate);
int tk_cmd_checklist(int argc, char **argv);
int tk_cmd_probes(int argc, char **argv);
int tk_cmd_rules(int argc, char **argv);
int tk_cmd_validate(int argc, char **argv);   /* cmd_validate.c */
int tk_cmd_demo(int argc, char **argv);       /* demo/demo.c */
int tk_cmd_feed(int argc, char **argv);
int tk_cmd_key(int argc, char **argv);        /* cmd_history.c */
int tk_cmd_history(int argc, char **argv);
int tk_cmd_diff(int argc, char **argv);
int tk_cmd_verify(int argc, char **argv);
int tk_cmd_report(int argc, char **argv);
int tk_cmd_portfolio(int argc, char **argv); /* cmd_portfolio.c */
int tk_cmd_export(int argc, char **argv);    /* cmd_export.c */
int tk_cmd_notify(int argc, char **argv);    /* cmd_notify.c */
/* Scan every *.json config in o->inventory (see agent/cmd_inventory.c). */
int tk_inventory_run(const struct tk_scan_opts *o);

#endif
