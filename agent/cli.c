/* cli.c - scan, gate, validate, checklist, probes, rules. */
#include "cli.h"

#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "budget.h"
#include "config.h"
#include "csvparse.h"
#include "history.h"
#include "privs.h"
#include "report.h"

#define DEFAULT_CHECKLIST "fisc-api-2018"

static void on_signal(int sig)
{
	(void)sig;
	tk_stop_requested = 1;
}

static void install_signals(void)
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

static void scan_usage(FILE *f, bool gate)
{
	fprintf(f,
		"usage: tenken %s --config FILE --out DIR [--checklist ID] [--tailoring FILE]\n"
		"       [--format json,html,csv,sarif,junit] [--lang ja|en] [--state DIR]\n"
		"       [--waivers FILE] [--attestation FILE]%s [--quiet] [--verbose]\n"
		"       tenken %s --inventory DIR --out DIR [--parallel N] [--deadline SECONDS]\n"
		"       [--host-connections N] [--host-rate R] [same options]\n"
		"\n"
		"%s"
		"  -c, --config FILE      partner config (JSON)\n"
		"  -o, --out DIR          output directory (created); report.json is written there\n"
		"  -l, --checklist ID     fisc-api-2018 or cashless-card-2019 (default: the config's,\n"
		"                         else fisc-api-2018)\n"
		"  -t, --tailoring FILE   the bank's tailoring: disable rules, change parameters,\n"
		"                         mark items not applicable, add the bank's own items\n"
		"  -f, --format LIST      report formats, comma-separated (default: json)\n"
		"      --lang ja|en       language of titles and remediation (default: ja)\n"
		"      --state DIR        history directory (default: $TENKEN_STATE_DIR, else\n"
		"                         $XDG_STATE_HOME/tenken or ~/.local/state/tenken); every\n"
		"                         run is stored there, signed and hash-chained\n"
		"      --waivers FILE     the bank's waivers (JSON): a waived failure is reported\n"
		"                         as waived and does not fail the gate; expired ones do not apply\n"
		"      --attestation FILE the partner's filled-in checklist CSV (--format csv's\n"
		"                         columns): answers are recorded as self-declared and\n"
		"                         contradictions with the evidence are flagged\n"
		"%s"
		"  -i, --inventory DIR    scan every partner config (*.json) in DIR; reports go to\n"
		"                         OUT/<partner id>/; one summary line per partner\n"
		"      --parallel N       partners scanned at once (default 4)\n"
		"      --deadline S       global deadline for the inventory (default: none);\n"
		"                         partners not finished by then are reported incomplete\n"
		"      --host-connections N  at most N connections in flight per host (default 8)\n"
		"      --host-rate R      at most R new connections per second per host (default 50)\n"
		"                         (single scans take these from the config's \"scan\" section)\n"
		"  -q, --quiet            no summary on stdout\n"
		"  -v, --verbose          log progress to stderr\n"
		"      --syslog           also log to syslog (facility daemon); never secrets\n"
		"\n"
		"exit codes:\n"
		"%s",
		gate ? "gate" : "scan", gate ? " [--allow-incomplete]" : "", gate ? "gate" : "scan",
		gate ? "The pre-go-live gate: scans, writes the report, and sets the exit code\n"
		       "from the verdict.\n\n"
		     : "Runs the probes the config enables and writes the report.\n\n",
		gate ? "      --allow-incomplete exit 0/1 by the verdict even if a probe errored\n" : "",
		gate ? "  0  no checklist item fails (every probe completed); waived items do not fail\n"
		       "  1  at least one checklist item fails\n"
		       "  2  usage or config error (nothing was scanned)\n"
		       "  3  the scan could not complete (a probe errored or timed out) and\n"
		       "     nothing failed; --allow-incomplete turns this into 0\n"
		       "  4  tenken itself failed (e.g. cannot write the report)\n"
		       "  5  another run holds the inventory's lock\n"
		       "  with --inventory: the worst partner's code (1 over 3 over 0)\n"
		     : "  0  the scan completed, whatever it found\n"
		       "  2  usage or config error (nothing was scanned)\n"
		       "  3  the scan could not complete (a probe errored or timed out);\n"
		       "     the report is written with complete: false\n"
		       "  4  tenken itself failed (e.g. cannot write the report)\n"
		       "  5  another run holds the inventory's lock\n");
}

/* Load data, checklist, rules, tailoring for a checklist id. */
struct loaded {
	struct tk_dataset data;
	struct tk_checklist *checklist;
	struct tk_ruleset *rules;
	struct tk_tailoring *tailoring;
};

static void loaded_free(struct loaded *l)
{
	tk_tailoring_free(l->tailoring);
	tk_ruleset_free(l->rules);
	tk_checklist_free(l->checklist);
	tk_dataset_close(&l->data);
	memset(l, 0, sizeof(*l));
}

static int load_all(struct loaded *l, const char *checklist, const char *tailoring, struct tk_err *err)
{
	int rc;
	memset(l, 0, sizeof(*l));
	if ((rc = tk_dataset_open(&l->data, err)) ||
	    (rc = tk_checklist_load(&l->data, checklist, &l->checklist, err)) ||
	    (rc = tk_ruleset_load(&l->data, probe_names(), &l->rules, err)))
		return rc;
	if (tailoring) {
		if ((rc = tk_tailoring_load(tailoring, &l->tailoring, err)) ||
		    (rc = tk_tailoring_apply(l->tailoring, l->rules, l->checklist, err)))
			return rc;
	}
	return TK_OK;
}

static size_t utf8_prefix(const char *s, size_t max_chars)
{
	size_t i = 0, chars = 0;
	while (s[i] && chars < max_chars) {
		unsigned char c = (unsigned char)s[i];
		i += c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
		chars++;
	}
	return i;
}

static void print_items(const cJSON *report)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(report, "items"))
	{
		const char *goal = cJSON_GetObjectItemCaseSensitive(it, "goal")->valuestring;
		const char *st = cJSON_GetObjectItemCaseSensitive(it, "status")->valuestring;
		const cJSON *f;
		char no[32], rules[256] = "";
		size_t l = 0, cut = utf8_prefix(goal, 28);
		tk_item_no_str(cJSON_GetObjectItemCaseSensitive(it, "no"), no, sizeof(no));
		cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(it, "findings"))
		{
			if (l < sizeof(rules) - 2)
				l += (size_t)snprintf(rules + l, sizeof(rules) - l, "%s%s", l ? " " : "", f->valuestring);
		}
		printf("  %3s  %-14s %.*s%s%s%s\n", no, st, (int)cut, goal, goal[cut] ? "…" : "", l ? "  <- " : "",
		       rules);
	}
}

static void print_summary(const cJSON *report, const char *out_dir)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(report, "summary"), "items");
	const cJSON *g = cJSON_GetObjectItemCaseSensitive(report, "gate");
	printf("tenken: %s / %s: %d items: %d fail, %d pass, %d incomplete, %d manual, %d not applicable; "
	       "verdict %s; complete %s\n",
	       cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(report, "partner"), "id")->valuestring,
	       cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(report, "checklist"), "id")->valuestring,
	       cJSON_GetObjectItemCaseSensitive(s, "total")->valueint, cJSON_GetObjectItemCaseSensitive(s, "fail")->valueint,
	       cJSON_GetObjectItemCaseSensitive(s, "pass")->valueint,
	       cJSON_GetObjectItemCaseSensitive(s, "incomplete")->valueint,
	       cJSON_GetObjectItemCaseSensitive(s, "manual")->valueint,
	       cJSON_GetObjectItemCaseSensitive(s, "not_applicable")->valueint,
	       cJSON_GetObjectItemCaseSensitive(g, "verdict")->valuestring,
	       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(report, "complete")) ? "yes" : "no");
	printf("tenken: report written to %s/report.json\n", out_dir);
}

/* Check --waivers and --attestation before scanning, so a bad file costs no scan. */
static int precheck_inputs(const struct tk_scan_opts *o, struct tk_err *err)
{
	char *text = NULL;
	size_t len;
	cJSON *doc = NULL;
	int rc = TK_OK;
	if (o->waivers) {
		if ((rc = tk_read_file(o->waivers, (size_t)4 << 20, &text, &len, err)) ||
		    (rc = tk_waivers_parse(o->waivers, text, len, &doc, err)))
			goto out;
		cJSON_Delete(doc);
		doc = NULL;
		free(text);
		text = NULL;
	}
	if (o->attestation) {
		if ((rc = tk_read_file(o->attestation, (size_t)8 << 20, &text, &len, err)) ||
		    (rc = tk_csv_parse(o->attestation, text, len, &doc, err)))
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
			    struct tk_err *err)
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
	if ((rc = tk_render_formats(report, o->formats, o->out_dir, &ro, err)))
		goto out;
	if ((rc = tk_renderer_find("json")->render(report, &ro, &json, err)))
		goto out;
	if ((rc = tk_history_commit(h, partner, &link, json.data, json.len, report, &stored, err)))
		goto out;
	tk_log(TK_LOG_INFO, "history: stored as scan #%lld: %s", link.seq, stored);
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

int tk_cli_scan_run(const struct tk_scan_opts *o)
{
	struct tk_history *hist = NULL;
	char *state_dir = NULL;
	struct tk_config *cfg = NULL;
	struct loaded l;
	struct tk_err err = {0};
	struct tk_report_input in;
	cJSON *report = NULL;
	const char *checklist;
	int rc, exit_code = TK_EXIT_ERROR;
	size_t i;

	memset(&l, 0, sizeof(l));
	if ((rc = tk_formats_validate(o->formats, &err))) {
		fprintf(stderr, "tenken: %s\n", err.msg);
		return TK_EXIT_USAGE;
	}
	if ((rc = tk_config_load(o->config, tk_probes, &cfg, &err))) {
		fprintf(stderr, "tenken: %s\n", err.msg);
		return rc == TK_ERR_NOMEM ? TK_EXIT_ERROR : TK_EXIT_USAGE;
	}
	checklist = o->checklist ? o->checklist : cfg->checklist ? cfg->checklist : DEFAULT_CHECKLIST;
	if ((rc = load_all(&l, checklist, o->tailoring, &err))) {
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
	    (rc = tk_history_open(state_dir, true, &hist, &err))) {
		fprintf(stderr, "tenken: history: %s\n", err.msg);
		exit_code = rc == TK_ERR_USAGE ? TK_EXIT_USAGE : TK_EXIT_ERROR;
		goto out;
	}
	install_signals();
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
	memset(&in, 0, sizeof(in));
	in.started = time(NULL);
	for (i = 0; i < cfg->nruns; i++)
		tk_log(TK_LOG_INFO, "probe %s: starting (timeout %d s)", cfg->runs[i].probe->name,
		       cfg->runs[i].timeout_ms / 1000);
	if ((rc = tk_run_probes(cfg->runs, cfg->nruns, &err))) {
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
	if (o->waivers && (rc = tk_report_apply_waivers(report, o->waivers, in.finished, &err))) {
		fprintf(stderr, "tenken: %s\n", err.msg);
		goto out;
	}
	if (o->attestation && (rc = tk_report_apply_attestation(report, o->attestation, &err))) {
		fprintf(stderr, "tenken: %s\n", err.msg);
		goto out;
	}
	tk_report_recount(report);
	if ((rc = render_and_store(report, o, hist, cfg->partner_id, &err))) {
		fprintf(stderr, "tenken: %s\n", err.msg);
		goto out;
	}
	if (!o->quiet) {
		if (o->print_items)
			print_items(report);
		print_summary(report, o->out_dir);
	}
	{
		const cJSON *g = cJSON_GetObjectItemCaseSensitive(report, "gate");
		const char *verdict = cJSON_GetObjectItemCaseSensitive(g, "verdict")->valuestring;
		bool complete = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(report, "complete"));
		if (o->gate) {
			if (strcmp(verdict, "fail") == 0)
				exit_code = TK_EXIT_FAIL;
			else if (!complete && !o->allow_incomplete)
				exit_code = TK_EXIT_INCOMPLETE;
			else
				exit_code = TK_EXIT_OK;
		} else {
			exit_code = complete ? TK_EXIT_OK : TK_EXIT_INCOMPLETE;
		}
	}
out:
	cJSON_Delete(report);
	tk_history_close(hist);
	free(state_dir);
	loaded_free(&l);
	tk_config_free(cfg);
	return exit_code;
}

static const struct option scan_long[] = {
	{"config", required_argument, NULL, 'c'},   {"out", required_argument, NULL, 'o'},
	{"checklist", required_argument, NULL, 'l'}, {"tailoring", required_argument, NULL, 't'},
	{"format", required_argument, NULL, 'f'},   {"lang", required_argument, NULL, 'L'},
	{"allow-incomplete", no_argument, NULL, 'A'}, {"quiet", no_argument, NULL, 'q'},
	{"verbose", no_argument, NULL, 'v'},        {"help", no_argument, NULL, 'h'},
	{"inventory", required_argument, NULL, 'i'}, {"parallel", required_argument, NULL, 'P'},
	{"deadline", required_argument, NULL, 'D'}, {"host-connections", required_argument, NULL, 'H'},
	{"host-rate", required_argument, NULL, 'R'}, {"syslog", no_argument, NULL, 'S'},
	{"state", required_argument, NULL, 1001},   {"waivers", required_argument, NULL, 1002},
	{"attestation", required_argument, NULL, 1003},
	{NULL, 0, NULL, 0}};

static int int_opt(const char *name, const char *v, long long min, long long max, long long *out)
{
	if (tk_parse_ll(v, min, max, out) != TK_OK) {
		fprintf(stderr, "tenken: --%s: expected an integer from %lld to %lld, got \"%s\"\n", name, min, max, v);
		return -1;
	}
	return 0;
}

int tk_cmd_scan(int argc, char **argv, bool gate)
{
	struct tk_scan_opts o;
	int c;
	memset(&o, 0, sizeof(o));
	o.gate = gate;
	o.formats = "json";
	o.lang = "ja";
	o.parallel = 4;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:o:l:t:f:qvhi:", scan_long, NULL)) != -1) {
		long long v;
		switch (c) {
		case 'i': o.inventory = optarg; break;
		case 'S': tk_log_syslog("tenken"); break;
		case 'P':
			if (int_opt("parallel", optarg, 1, 256, &v))
				return TK_EXIT_USAGE;
			o.parallel = (int)v;
			break;
		case 'D':
			if (int_opt("deadline", optarg, 1, 7 * 86400, &v))
				return TK_EXIT_USAGE;
			o.deadline_s = (int)v;
			break;
		case 'H':
			if (int_opt("host-connections", optarg, 1, 1024, &v))
				return TK_EXIT_USAGE;
			o.host_conns = (int)v;
			break;
		case 'R':
			if (int_opt("host-rate", optarg, 1, 100000, &v))
				return TK_EXIT_USAGE;
			o.host_rate = (double)v;
			break;
		case 'c': o.config = optarg; break;
		case 'o': o.out_dir = optarg; break;
		case 'l': o.checklist = optarg; break;
		case 't': o.tailoring = optarg; break;
		case 'f': o.formats = optarg; break;
		case 'L': o.lang = optarg; break;
		case 1001: o.state_dir = optarg; break;
		case 1002: o.waivers = optarg; break;
		case 1003: o.attestation = optarg; break;
		case 'A':
			if (!gate) {
				fputs("tenken: --allow-incomplete is a gate option\n", stderr);
				return TK_EXIT_USAGE;
			}
			o.allow_incomplete = true;
			break;
		case 'q': o.quiet = true; break;
		case 'v': tk_log_set_level(TK_LOG_INFO); break;
		case 'h': scan_usage(stdout, gate); return TK_EXIT_OK;
		default: scan_usage(stderr, gate); return TK_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tenken: unexpected argument \"%s\"\n", argv[optind]);
		return TK_EXIT_USAGE;
	}
	if (o.inventory && o.config) {
		fputs("tenken: use --config or --inventory, not both\n", stderr);
		return TK_EXIT_USAGE;
	}
	if (o.inventory && o.out_dir) {
		if (strcmp(o.lang, "ja") != 0 && strcmp(o.lang, "en") != 0) {
			fputs("tenken: --lang must be ja or en\n", stderr);
			return TK_EXIT_USAGE;
		}
		return tk_inventory_run(&o);
	}
	if (!o.config || !o.out_dir) {
		fprintf(stderr, "tenken: %s needs --config FILE (or --inventory DIR) and --out DIR\n", gate ? "gate" : "scan");
		scan_usage(stderr, gate);
		return TK_EXIT_USAGE;
	}
	if (strcmp(o.lang, "ja") != 0 && strcmp(o.lang, "en") != 0) {
		fputs("tenken: --lang must be ja or en\n", stderr);
		return TK_EXIT_USAGE;
	}
	return tk_cli_scan_run(&o);
}

int tk_cmd_validate(int argc, char **argv)
{
	static const struct option lo[] = {{"config", required_argument, NULL, 'c'},
					   {"tailoring", required_argument, NULL, 't'},
					   {"checklist", required_argument, NULL, 'l'},
					   {"help", no_argument, NULL, 'h'},
					   {NULL, 0, NULL, 0}};
	const char *config = NULL, *tailoring = NULL, *checklist = NULL;
	struct tk_config *cfg = NULL;
	struct tk_err err = {0};
	struct loaded l;
	int c, rc;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:t:l:h", lo, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 't': tailoring = optarg; break;
		case 'l': checklist = optarg; break;
		case 'h':
			puts("usage: tenken validate --config FILE [--tailoring FILE] [--checklist ID]\n\n"
			     "Checks a partner config (every probe section) and optionally a tailoring\n"
			     "file, without scanning. Exit 0 when valid, 2 with a message naming the\n"
			     "file and JSON path otherwise.");
			return TK_EXIT_OK;
		default: return TK_EXIT_USAGE;
		}
	}
	if (!config) {
		fputs("tenken: validate needs --config FILE\n", stderr);
		return TK_EXIT_USAGE;
	}
	if ((rc = tk_config_load(config, tk_probes, &cfg, &err))) {
		fprintf(stderr, "tenken: %s\n", err.msg);
		return TK_EXIT_USAGE;
	}
	if (!checklist)
		checklist = cfg->checklist ? cfg->checklist : DEFAULT_CHECKLIST;
	if ((rc = load_all(&l, checklist, tailoring, &err))) {
		fprintf(stderr, "tenken: %s\n", err.msg);
		loaded_free(&l);
		tk_config_free(cfg);
		return TK_EXIT_USAGE;
	}
	printf("%s: valid (partner %s, checklist %s, %zu probe%s:", config, cfg->partner_id, checklist, cfg->nruns,
	       cfg->nruns == 1 ? "" : "s");
	for (size_t i = 0; i < cfg->nruns; i++)
		printf(" %s", cfg->runs[i].probe->name);
	printf(")\n");
	loaded_free(&l);
	tk_config_free(cfg);
	return TK_EXIT_OK;
}

static void print_wrapped_json(const cJSON *j)
{
	char *s = cJSON_Print(j);
	if (s) {
		puts(s);
		free(s);
	}
}

int tk_cmd_checklist(int argc, char **argv)
{
	struct tk_dataset ds;
	struct tk_err err = {0};
	const char *format = "text";
	int rc = TK_EXIT_OK, c;
	static const struct option lo[] = {{"format", required_argument, NULL, 'f'},
					   {"help", no_argument, NULL, 'h'},
					   {NULL, 0, NULL, 0}};
	optind = 1;
	while ((c = getopt_long(argc, argv, "f:h", lo, NULL)) != -1) {
		if (c == 'f')
			format = optarg;
		else if (c == 'h') {
			puts("usage: tenken checklist list [--format text|json]\n"
			     "       tenken checklist show ID [--format text|json]\n\n"
			     "The checklists tenken knows, transcribed from the source documents, and\n"
			     "their items (no, chapter, goal, party, English glosses, related standards).");
			return TK_EXIT_OK;
		} else
			return TK_EXIT_USAGE;
	}
	if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0) {
		fputs("tenken: --format must be text or json\n", stderr);
		return TK_EXIT_USAGE;
	}
	if (optind >= argc || (strcmp(argv[optind], "list") != 0 && strcmp(argv[optind], "show") != 0)) {
		fputs("usage: tenken checklist list | show ID [--format text|json]\n", stderr);
		return TK_EXIT_USAGE;
	}
	if (tk_dataset_open(&ds, &err)) {
		fprintf(stderr, "tenken: %s\n", err.msg);
		return TK_EXIT_ERROR;
	}
	if (strcmp(argv[optind], "list") == 0) {
		char **ids = tk_checklist_ids(&ds);
		cJSON *arr = cJSON_CreateArray();
		for (size_t i = 0; ids && ids[i]; i++) {
			struct tk_checklist *cl = NULL;
			const cJSON *title;
			if (tk_checklist_load(&ds, ids[i], &cl, &err)) {
				fprintf(stderr, "tenken: %s\n", err.msg);
				rc = TK_EXIT_ERROR;
				continue;
			}
			title = cJSON_GetObjectItemCaseSensitive(cl->doc, "title");
			if (strcmp(format, "json") == 0) {
				cJSON *o = cJSON_CreateObject();
				cJSON_AddStringToObject(o, "id", cl->id);
				cJSON_AddItemToObject(o, "title", cJSON_Duplicate(title, true));
				cJSON_AddNumberToObject(o, "items",
							cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(cl->doc, "items")));
				cJSON_AddItemToArray(arr, o);
			} else {
				printf("%-20s %2d items  %s\n", cl->id,
				       cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(cl->doc, "items")),
				       cJSON_GetObjectItemCaseSensitive(title, "ja")->valuestring);
			}
			tk_checklist_free(cl);
		}
		if (strcmp(format, "json") == 0)
			print_wrapped_json(arr);
		cJSON_Delete(arr);
		tk_strv_free(ids);
	} else {
		struct tk_checklist *cl = NULL;
		const cJSON *it;
		if (optind + 1 >= argc) {
			fputs("tenken: checklist show needs an ID (see `tenken checklist list`)\n", stderr);
			rc = TK_EXIT_USAGE;
		} else if (tk_checklist_load(&ds, argv[optind + 1], &cl, &err)) {
			fprintf(stderr, "tenken: %s\n", err.msg);
			rc = TK_EXIT_USAGE;
		} else if (strcmp(format, "json") == 0) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "id", cl->id);
			cJSON_AddItemToObject(o, "title", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(cl->doc, "title"), true));
			cJSON_AddItemToObject(o, "source", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(cl->doc, "source"), true));
			cJSON_AddStringToObject(o, "sha256", cl->sha256);
			cJSON_AddItemToObject(o, "items", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(cl->doc, "items"), true));
			print_wrapped_json(o);
			cJSON_Delete(o);
		} else {
			printf("%s  %s\n", cl->id,
			       cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(cl->doc, "title"), "ja")->valuestring);
			cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(cl->doc, "items"))
			{
				char no[32];
				tk_item_no_str(cJSON_GetObjectItemCaseSensitive(it, "no"), no, sizeof(no));
				printf("%3s [%s] (%s) %s\n     %s\n", no,
				       cJSON_GetObjectItemCaseSensitive(it, "chapter")->valuestring,
				       cJSON_GetObjectItemCaseSensitive(it, "party")->valuestring,
				       cJSON_GetObjectItemCaseSensitive(it, "goal")->valuestring,
				       cJSON_IsString(cJSON_GetObjectItemCaseSensitive(it, "goal_en"))
					       ? cJSON_GetObjectItemCaseSensitive(it, "goal_en")->valuestring
					       : "");
			}
		}
		tk_checklist_free(cl);
	}
	tk_dataset_close(&ds);
	return rc;
}

int tk_cmd_probes(int argc, char **argv)
{
	size_t i;
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		puts("usage: tenken probes\n\nLists the registered probes: the config section name and what it checks.");
		return TK_EXIT_OK;
	}
	if (argc > 1) {
		fprintf(stderr, "tenken: probes takes no arguments\n");
		return TK_EXIT_USAGE;
	}
	for (i = 0; tk_probes[i]; i++)
		printf("%-10s %s\n", tk_probes[i]->name, tk_probes[i]->summary);
	return TK_EXIT_OK;
}

/* o[key] = v, replacing or adding (cJSON's replace alone leaks v when key is absent). */
static void set_field(cJSON *o, const char *key, cJSON *v)
{
	cJSON_DeleteItemFromObjectCaseSensitive(o, key);
	if (!cJSON_AddItemToObject(o, key, v))
		cJSON_Delete(v);
}

/* `tenken rules --coverage`: per item, the rules and probes that judge it; then the count. */
static int print_coverage(const struct loaded *l, bool json)
{
	cJSON *cov = tk_ruleset_coverage(l->rules, l->checklist);
	const cJSON *row, *p;
	if (!cov) {
		fputs("tenken: out of memory\n", stderr);
		return TK_EXIT_ERROR;
	}
	if (json) {
		print_wrapped_json(cov);
		cJSON_Delete(cov);
		return TK_EXIT_OK;
	}
	printf("%-6s %-24s %s\n", "ITEM", "PROBES", "RULES");
	cJSON_ArrayForEach(row, cJSON_GetObjectItemCaseSensitive(cov, "items"))
	{
		char no[32];
		struct tk_buf probes, rules;
		const cJSON *r;
		tk_buf_init(&probes, 256);
		tk_buf_init(&rules, 4096);
		tk_item_no_str(cJSON_GetObjectItemCaseSensitive(row, "no"), no, sizeof(no));
		cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(row, "probes"))
			tk_buf_printf(&probes, "%s%s", probes.len ? "," : "", p->valuestring);
		cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(row, "rules"))
			tk_buf_printf(&rules, "%s%s", rules.len ? " " : "", r->valuestring);
		printf("%-6s %-24s %s\n", no, probes.len ? probes.data : "-",
		       rules.len ? rules.data : "(the partner's answer)");
		tk_buf_free(&probes);
		tk_buf_free(&rules);
	}
	printf("\n%s: %d of %d items judged with evidence\n", l->checklist->id,
	       cJSON_GetObjectItemCaseSensitive(cov, "judged")->valueint,
	       cJSON_GetObjectItemCaseSensitive(cov, "total")->valueint);
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(cov, "items_by_probe"))
	{
		const cJSON *n;
		printf("  %-8s", p->string);
		cJSON_ArrayForEach(n, p) printf(" %s", n->valuestring);
		putchar('\n');
	}
	cJSON_Delete(cov);
	return TK_EXIT_OK;
}

int tk_cmd_rules(int argc, char **argv)
{
	static const struct option lo[] = {{"checklist", required_argument, NULL, 'l'},
					   {"format", required_argument, NULL, 'f'},
					   {"tailoring", required_argument, NULL, 't'},
					   {"coverage", no_argument, NULL, 'c'},
					   {"help", no_argument, NULL, 'h'},
					   {NULL, 0, NULL, 0}};
	const char *checklist = NULL, *format = "text", *tailoring = NULL;
	struct loaded l;
	struct tk_err err = {0};
	bool coverage = false;
	int c;
	size_t i;
	optind = 1;
	while ((c = getopt_long(argc, argv, "l:f:t:ch", lo, NULL)) != -1) {
		switch (c) {
		case 'l': checklist = optarg; break;
		case 'f': format = optarg; break;
		case 't': tailoring = optarg; break;
		case 'c': coverage = true; break;
		case 'h':
			puts("usage: tenken rules [--checklist ID] [--tailoring FILE] [--format text|json] [--coverage]\n\n"
			     "Lists every rule: id, probe, severity, and the checklist items it maps to\n"
			     "(for one checklist with --checklist, else for all).\n"
			     "--coverage: for each item of the checklist, the rules and probes that judge it with\n"
			     "evidence, and how many items are judged (the rest need the partner's answer).");
			return TK_EXIT_OK;
		default: return TK_EXIT_USAGE;
		}
	}
	if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0) {
		fputs("tenken: --format must be text or json\n", stderr);
		return TK_EXIT_USAGE;
	}
	if (load_all(&l, checklist ? checklist : DEFAULT_CHECKLIST, tailoring, &err)) {
		fprintf(stderr, "tenken: %s\n", err.msg);
		loaded_free(&l);
		return TK_EXIT_USAGE;
	}
	if (coverage) {
		int rc = print_coverage(&l, strcmp(format, "json") == 0);
		loaded_free(&l);
		return rc;
	}
	if (strcmp(format, "json") == 0) {
		cJSON *arr = cJSON_CreateArray();
		for (i = 0; i < l.rules->n; i++) {
			const struct tk_rule *r = &l.rules->rules[i];
			cJSON *o = cJSON_Duplicate(r->json, true);
			set_field(o, "params", cJSON_Duplicate(r->params, true));
			set_field(o, "items", cJSON_Duplicate(r->items, true));
			cJSON_AddBoolToObject(o, "enabled", r->enabled);
			if (checklist) {
				cJSON *only = cJSON_CreateObject();
				cJSON_AddItemToObject(only, checklist,
						      cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(r->items, checklist), true));
				set_field(o, "items", only);
			}
			cJSON_AddItemToArray(arr, o);
		}
		print_wrapped_json(arr);
		cJSON_Delete(arr);
	} else {
		printf("%-28s %-8s %-8s %-6s %s\n", "RULE", "PROBE", "SEVERITY", "EFFECT", "ITEMS");
		for (i = 0; i < l.rules->n; i++) {
			const struct tk_rule *r = &l.rules->rules[i];
			const cJSON *cl;
			char items[512] = "";
			size_t n = 0;
			cJSON_ArrayForEach(cl, r->items)
			{
				const cJSON *no;
				if (checklist && strcmp(cl->string, checklist) != 0)
					continue;
				n += (size_t)snprintf(items + n, sizeof(items) - n, "%s%s:", n ? "  " : "", cl->string);
				cJSON_ArrayForEach(no, cl)
				{
					char s[32];
					tk_item_no_str(no, s, sizeof(s));
					if (n < sizeof(items) - 40)
						n += (size_t)snprintf(items + n, sizeof(items) - n, "%s%s",
								      no == cl->child ? "" : ",", s);
				}
			}
			printf("%-28s %-8s %-8s %-6s %s%s\n", r->id, r->probe, r->severity,
			       r->effect == TK_EFFECT_WARN ? "warn" : "fail", items, r->enabled ? "" : "  (disabled)");
		}
	}
	loaded_free(&l);
	return TK_EXIT_OK;
}
