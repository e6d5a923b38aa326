/*
 * cmd_notify.c - tenken notify: the desk's periodic sweep (cron, after an
 * inventory run): stale scans and verify failures over every partner of the
 * history become alerts; every pending alert is delivered (see notify.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "history.h"
#include "notify.h"
#include "report.h"

int tk_cmd_notify(int argc, char **argv)
{
	static const char usage[] =
		"usage: tenken notify --config NOTIFY.json [--state DIR] [--no-verify] [--now TIME]\n\n"
		"Raises alerts for partners whose newest scan is older than stale_hours and\n"
		"for histories that fail verify, then delivers every pending alert (webhook,\n"
		"syslog, e-mail as NOTIFY.json configures; see docs/desk.md). Each transition\n"
		"is alerted once; failed deliveries stay pending for the next run.\n"
		"exit codes: 0 everything delivered, 1 deliveries still pending, 2 usage\n";
	static const struct option lo[] = {
	    {"state", required_argument, NULL, 'S'}, {"config", required_argument, NULL, 'c'},
	    {"no-verify", no_argument, NULL, 'V'},   {"now", required_argument, NULL, 'N'},
	    {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0}};
	const char *state = NULL, *conf = NULL;
	bool verify = true;
	time_t now = time(NULL);
	struct tk_history *h = NULL;
	struct tk_err err = {0};
	char *dir = NULL, *text = NULL, *base = NULL;
	size_t len;
	cJSON *cfg = NULL;
	int c, rc = TK_EXIT_USAGE, pending;
	optind = 1;
	while ((c = getopt_long(argc, argv, "S:c:VN:h", lo, NULL)) != -1) {
		switch (c) {
		case 'S': state = optarg; break;
		case 'c': conf = optarg; break;
		case 'V': verify = false; break;
		case 'N':
			if (tk_parse_time(optarg, &now)) {
				fputs("tenken: --now must be an RFC 3339 time\n", stderr);
				return TK_EXIT_USAGE;
			}
			break;
		case 'h': fputs(usage, stdout); return TK_EXIT_OK;
		default: fputs(usage, stderr); return TK_EXIT_USAGE;
		}
	}
	if (!conf || optind < argc) {
		fputs(usage, stderr);
		return TK_EXIT_USAGE;
	}
	if (tk_read_file(conf, 1 << 20, &text, &len, &err)) {
		fprintf(stderr, "tenken: %s\n", err.msg);
		goto out;
	}
	if (!(cfg = cJSON_ParseWithLength(text, len))) {
		fprintf(stderr, "tenken: %s: not valid JSON\n", conf);
		goto out;
	}
	if (tk_notify_validate(cfg, conf, &err)) {
		fprintf(stderr, "tenken: %s\n", err.msg);
		goto out;
	}
	if (tk_history_state_dir(state, &dir, &err) || tk_history_open(dir, false, &h, &err)) {
		fprintf(stderr, "tenken: %s\n", err.msg);
		goto out;
	}
	base = tk_dirname(conf);
	pending = tk_notify_sweep(h, cfg, base, verify, now, stdout);
	if (pending < 0) {
		fprintf(stderr, "tenken: notify: the index is not writable\n");
		rc = TK_EXIT_ERROR;
	} else {
		printf("tenken: notify: %d deliver%s pending\n", pending, pending == 1 ? "y" : "ies");
		rc = pending ? TK_EXIT_FAIL : TK_EXIT_OK;
	}
out:
	tk_history_close(h);
	cJSON_Delete(cfg);
	free(text);
	free(dir);
	free(base);
	return rc;
}
