/*
 * cli.c - option parsing and terminal output for scan and gate (the
 * pipeline itself is scan.c), and the listing commands: checklist, probes,
 * rules. validate is cmd_validate.c, --inventory cmd_inventory.c.
 */
#include "cli.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report.h"
#include "scan.h"

/* A bounded line: appends stop at the end and the cut is marked "…". */
struct line {
	char buf[512];
	size_t len, max;    /* max <= sizeof(buf) - 4: room for the ellipsis */
	bool cut;
};

static void line_init(struct line *l, size_t max)
{
	l->len = 0;
	l->max = max < sizeof(l->buf) - 4 ? max : sizeof(l->buf) - 4;
	l->cut = false;
	l->buf[0] = '\0';
}

__attribute__((format(printf, 2, 3))) static void line_add(struct line *l, const char *fmt, ...)
{
	va_list ap;
	int w;
	if (l->cut)
		return;
	va_start(ap, fmt);
	w = vsnprintf(l->buf + l->len, l->max + 1 - l->len, fmt, ap);
	va_end(ap);
	if (w >= 0 && (size_t)w <= l->max - l->len) {
		l->len += (size_t)w;
		return;
	}
	/* Cut: back up to a UTF-8 character boundary, then mark it. */
	l->len = l->max;
	while (l->len > 0 && ((unsigned char)l->buf[l->len] & 0xC0) == 0x80)
		l->len--;
	memcpy(l->buf + l->len, "…", sizeof("…"));
	l->len += sizeof("…") - 1;
	l->cut = true;
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : "";
}

static int jint(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? v->valueint : 0;
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
		"                         OUT/<config file name without .json>/; one summary line\n"
		"                         per partner\n"
		"      --parallel N       partners scanned at once (default 4)\n"
		"      --deadline S       global deadline for the inventory (default: none);\n"
		"                         partners not finished by then are reported incomplete\n"
		"      --host-connections N  at most N connections in flight per host (default 8)\n"
		"      --host-rate R      at most R new connections per second per host (default 50)\n"
		"                         (single scans take these from the config's \"scan\" section)\n"
		"  -q, --quiet            no summary on stdout (errors still go to stderr)\n"
		"  -v, --verbose          log progress to stderr (without it, a terminal shows a\n"
		"                         one-line progress display during long runs)\n"
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
		       "  with --inventory: the most serious partner's code, 1 over 2 over 4 over 3 over 0\n"
		     : "  0  the scan completed, whatever it found\n"
		       "  2  usage or config error (nothing was scanned)\n"
		       "  3  the scan could not complete (a probe errored or timed out);\n"
		       "     the report is written with complete: false\n"
		       "  4  tenken itself failed (e.g. cannot write the report)\n"
		       "  5  another run holds the inventory's lock\n"
		       "  with --inventory: the most serious partner's code, 2 over 4 over 3 over 0\n");
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
		const char *goal = jstr(it, "goal");
		const cJSON *f;
		char no[32];
		struct line rules;
		size_t cut = utf8_prefix(goal, 28);
		tk_item_no_str(cJSON_GetObjectItemCaseSensitive(it, "no"), no, sizeof(no));
		line_init(&rules, 120);
		cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(it, "findings"))
		{
			if (cJSON_IsString(f))
				line_add(&rules, "%s%s", rules.len ? " " : "", f->valuestring);
		}
		printf("  %3s  %-14s %.*s%s%s%s\n", no, jstr(it, "status"), (int)cut, goal, goal[cut] ? "…" : "",
		       rules.len ? "  <- " : "", rules.buf);
	}
}

static void print_summary(const cJSON *report)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(report, "summary"), "items");
	printf("tenken: %s / %s: %d items: %d fail, %d pass, %d incomplete, %d manual, %d not applicable; "
	       "verdict %s; complete %s\n",
	       jstr(cJSON_GetObjectItemCaseSensitive(report, "partner"), "id"),
	       jstr(cJSON_GetObjectItemCaseSensitive(report, "checklist"), "id"), jint(s, "total"), jint(s, "fail"),
	       jint(s, "pass"), jint(s, "incomplete"), jint(s, "manual"), jint(s, "not_applicable"),
	       jstr(cJSON_GetObjectItemCaseSensitive(report, "gate"), "verdict"),
	       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(report, "complete")) ? "yes" : "no");
}

/*
 * One line per target that fails or could not be observed, with the reason:
 * the failing rules, or the error and its message (timed out, denied, ...).
 * A target that both fails and is incomplete gets both lines. Waived
 * failures are not listed (they do not fail the gate).
 */
static void print_targets(const cJSON *report)
{
	cJSON *fail = cJSON_CreateObject(), *inc = cJSON_CreateObject(), *x;
	const cJSON *f;
	if (!fail || !inc)
		goto out;
	cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(report, "findings"))
	{
		const char *st = jstr(f, "status"), *target = jstr(f, "target");
		const cJSON *ev = cJSON_GetObjectItemCaseSensitive(f, "evidence");
		if (strcmp(st, "fail") == 0 && !cJSON_GetObjectItemCaseSensitive(f, "waiver")) {
			cJSON *rules = cJSON_GetObjectItemCaseSensitive(fail, target);
			const cJSON *r;
			bool seen = false;
			if (!rules)
				rules = cJSON_AddArrayToObject(fail, target);
			cJSON_ArrayForEach(r, rules) seen = seen || strcmp(r->valuestring, jstr(f, "rule")) == 0;
			if (rules && !seen)
				cJSON_AddItemToArray(rules, cJSON_CreateString(jstr(f, "rule")));
		} else if (strcmp(st, "error") == 0 && !cJSON_GetObjectItemCaseSensitive(inc, target)) {
			cJSON *o = cJSON_AddObjectToObject(inc, target);
			cJSON_AddStringToObject(o, "probe", jstr(f, "probe"));
			cJSON_AddStringToObject(o, "error", jstr(ev, "error"));
			cJSON_AddStringToObject(o, "message", jstr(ev, "message"));
		}
	}
	/* Errors no rule judged (e.g. an error for a kind no enabled rule reads) still made the
	 * scan incomplete: list their targets too. */
	cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(report, "observations"))
	{
		const char *target = jstr(f, "target");
		cJSON *have = cJSON_GetObjectItemCaseSensitive(inc, target);
		if (strcmp(jstr(f, "kind"), "error") != 0)
			continue;
		if (have) {
			/* report /2 findings name their rule, not the probe: take it from the observation */
			if (!*jstr(have, "probe"))
				cJSON_ReplaceItemInObjectCaseSensitive(have, "probe",
								       cJSON_CreateString(jstr(f, "probe")));
			continue;
		}
		x = cJSON_AddObjectToObject(inc, target);
		cJSON_AddStringToObject(x, "probe", jstr(f, "probe"));
		cJSON_AddStringToObject(x, "error", jstr(f, "error"));
		cJSON_AddStringToObject(x, "message", jstr(f, "message"));
	}
	if (!fail->child && !inc->child)
		goto out;
	printf("tenken: failing and incomplete targets:\n");
	cJSON_ArrayForEach(x, fail)
	{
		struct line l;
		const cJSON *r;
		int n = cJSON_GetArraySize(x);
		line_init(&l, 200);
		cJSON_ArrayForEach(r, x) line_add(&l, "%s%s", r == x->child ? "" : ", ", r->valuestring);
		printf("  fail        %s: %d rule%s fail: %s\n", x->string, n, n == 1 ? "" : "s", l.buf);
	}
	cJSON_ArrayForEach(x, inc)
	{
		struct line l;
		line_init(&l, 200);
		line_add(&l, "%s", jstr(x, "message"));
		printf("  incomplete  %s%s(%s): %s: %s\n", *x->string ? x->string : "", *x->string ? " " : "",
		       jstr(x, "probe"), jstr(x, "error"), l.buf);
	}
out:
	cJSON_Delete(fail);
	cJSON_Delete(inc);
}

static void print_files(char **files)
{
	size_t i;
	if (!files || !files[0])
		return;
	printf("tenken: files written:\n");
	for (i = 0; files[i]; i++)
		printf("  %s%s\n", files[i], files[i + 1] ? "" : "  (history copy, signed)");
}

int tk_cli_scan_run(const struct tk_scan_opts *o)
{
	struct tk_scan_result res;
	int rc = tk_scan_run(o, &res);
	if (res.report && !o->quiet) {
		if (o->print_items)
			print_items(res.report);
		print_summary(res.report);
		print_targets(res.report);
		print_files(res.files);
	}
	fflush(stdout);
	tk_scan_result_free(&res);
	return rc;
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
	bool verbose = false;
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
		case 'v':
			tk_log_set_level(TK_LOG_INFO);
			verbose = true;
			break;
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
	/* SIGTERM/SIGINT request a stop in every phase, config loading included
	 * (every file is opened non-blocking, so no phase can wait forever) */
	tk_scan_install_signals();
	o.progress = !verbose && !o.quiet && isatty(STDERR_FILENO);
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
				cJSON_AddNumberToObject(
				    o, "items", cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(cl->doc, "items")));
				cJSON_AddItemToArray(arr, o);
			} else {
				printf("%-20s %2d items  %s\n", cl->id,
				       cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(cl->doc, "items")),
				       jstr(title, "ja"));
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
			printf("%s  %s\n", cl->id, jstr(cJSON_GetObjectItemCaseSensitive(cl->doc, "title"), "ja"));
			cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(cl->doc, "items"))
			{
				char no[32];
				tk_item_no_str(cJSON_GetObjectItemCaseSensitive(it, "no"), no, sizeof(no));
				printf("%3s [%s] (%s) %s\n     %s\n", no, jstr(it, "chapter"), jstr(it, "party"),
				       jstr(it, "goal"), jstr(it, "goal_en"));
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
static int print_coverage(const struct tk_loaded *l, bool json)
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
		printf("%-6s %-24s %s%s\n", no, probes.len ? probes.data : "-",
		       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(row, "in_part")) ? "(in part) " : "",
		       rules.len ? rules.data : "(the partner's answer)");
		tk_buf_free(&probes);
		tk_buf_free(&rules);
	}
	printf("\n%s: %d of %d items judged with evidence\n", l->checklist->id,
	       cJSON_GetObjectItemCaseSensitive(cov, "judged")->valueint,
	       cJSON_GetObjectItemCaseSensitive(cov, "total")->valueint);
	if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(cov, "judged_in_part")) > 0) {
		const cJSON *n;
		printf("  of them in part (evidence shown; the partner answers for the rest):");
		cJSON_ArrayForEach(n, cJSON_GetObjectItemCaseSensitive(cov, "judged_in_part"))
		{
			char no[32];
			tk_item_no_str(n, no, sizeof(no));
			printf(" %s", no);
		}
		putchar('\n');
	}
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
	struct tk_loaded l;
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
	if (tk_load_all(&l, checklist ? checklist : TK_DEFAULT_CHECKLIST, checklist ? "--checklist" : NULL, tailoring,
			&err)) {
		fprintf(stderr, "tenken: %s\n", err.msg);
		tk_loaded_free(&l);
		return TK_EXIT_USAGE;
	}
	if (coverage) {
		int rc = print_coverage(&l, strcmp(format, "json") == 0);
		tk_loaded_free(&l);
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
				cJSON_AddItemToObject(
				    only, checklist,
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
			struct line items;
			/* Bounded: a long mapping (e.g. a bank's 200-item checklist) is cut with "…";
			 * --format json has it whole. */
			line_init(&items, 160);
			cJSON_ArrayForEach(cl, r->items)
			{
				const cJSON *no;
				if (checklist && strcmp(cl->string, checklist) != 0)
					continue;
				line_add(&items, "%s%s:", items.len ? "  " : "", cl->string);
				cJSON_ArrayForEach(no, cl)
				{
					char s[32];
					tk_item_no_str(no, s, sizeof(s));
					line_add(&items, "%s%s", no == cl->child ? "" : ",", s);
				}
			}
			printf("%-28s %-8s %-8s %-6s %s%s\n", r->id, r->probe, r->severity,
			       r->effect == TK_EFFECT_WARN ? "warn" : "fail",
			       items.buf, r->enabled ? "" : "  (disabled)");
		}
	}
	tk_loaded_free(&l);
	return TK_EXIT_OK;
}
