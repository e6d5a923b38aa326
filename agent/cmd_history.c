/*
 * cmd_history.c - the history subcommands: key show, history, diff, verify,
 * report. They read the state directory that scan and gate write (see
 * history.h); --state DIR or TENKEN_STATE_DIR picks it.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "history.h"
#include "tsa.h"
#include "report.h"
#include "rules.h"


static const struct option common_long[] = {
	{"state", required_argument, NULL, 'S'}, {"format", required_argument, NULL, 'f'},
	{"scan", required_argument, NULL, 's'},  {"out", required_argument, NULL, 'o'},
	{"lang", required_argument, NULL, 'L'},  {"limit", required_argument, NULL, 'n'},
	{"verbose", no_argument, NULL, 'v'},     {"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0}};

struct hopts {
	const char *state, *format, *scan, *out, *lang;
	long long limit;
	int nargs;
	char *args[4];
};

/* Parse the common options; returns -1 to go on, else an exit code. */
static int parse(int argc, char **argv, const char *usage, int min_args, int max_args, struct hopts *o)
{
	int c;
	memset(o, 0, sizeof(*o));
	o->lang = "ja";
	optind = 1;
	while ((c = getopt_long(argc, argv, "S:f:s:o:L:n:vh", common_long, NULL)) != -1) {
		switch (c) {
		case 'S': o->state = optarg; break;
		case 'f': o->format = optarg; break;
		case 's': o->scan = optarg; break;
		case 'o': o->out = optarg; break;
		case 'L': o->lang = optarg; break;
		case 'n':
			if (tk_parse_ll(optarg, 1, 1000000, &o->limit)) {
				fputs("tenken: --limit must be a positive number\n", stderr);
				return TK_EXIT_USAGE;
			}
			break;
		case 'v': tk_log_set_level(TK_LOG_INFO); break;
		case 'h': fputs(usage, stdout); return TK_EXIT_OK;
		default: fputs(usage, stderr); return TK_EXIT_USAGE;
		}
	}
	for (; optind < argc; optind++) {
		if (o->nargs >= max_args || o->nargs >= 4) {
			fprintf(stderr, "tenken: unexpected argument \"%s\"\n%s", argv[optind], usage);
			return TK_EXIT_USAGE;
		}
		o->args[o->nargs++] = argv[optind];
	}
	if (o->nargs < min_args) {
		fputs(usage, stderr);
		return TK_EXIT_USAGE;
	}
	if (strcmp(o->lang, "ja") != 0 && strcmp(o->lang, "en") != 0) {
		fputs("tenken: --lang must be ja or en\n", stderr);
		return TK_EXIT_USAGE;
	}
	return -1;
}

static int open_history(const struct hopts *o, bool create, struct tk_history **h)
{
	struct tk_err err = {0};
	char *dir = NULL;
	int rc;
	if ((rc = tk_history_state_dir(o->state, &dir, &err)) || (rc = tk_history_open(dir, create, h, &err))) {
		fprintf(stderr, "tenken: %s\n", err.msg);
		free(dir);
		return rc == TK_ERR_NOTFOUND || rc == TK_ERR_USAGE ? TK_EXIT_USAGE
		       : rc == TK_ERR_VERIFY				   ? TK_EXIT_FAIL
									   : TK_EXIT_ERROR;
	}
	free(dir);
	return TK_EXIT_OK;
}

static void print_json(const cJSON *j)
{
	char *s = cJSON_Print(j);
	if (s)
		puts(s);
	cJSON_free(s);
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

/* Take "--NAME" (and its value when want_value) out of argv before the
 * common parser sees it; returns true when present. *value: the borrowed value. */
static bool take_opt(int *argc, char **argv, const char *name, bool want_value, const char **value, int *bad)
{
	size_t nl = strlen(name);
	int i, j, k;
	bool found = false;
	for (i = 1; i < *argc; i++) {
		int used = 0;
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strncmp(argv[i], "--", 2) != 0 || strncmp(argv[i] + 2, name, nl) != 0)
			continue;
		if (argv[i][2 + nl] == '\0') {
			used = 1;
			if (want_value) {
				if (i + 1 >= *argc) {
					*bad = 1;
					return false;
				}
				*value = argv[i + 1];
				used = 2;
			}
		} else if (argv[i][2 + nl] == '=' && want_value) {
			*value = argv[i] + 3 + nl;
			used = 1;
		} else
			continue;
		found = true;
		for (k = 0; k < used; k++) {
			for (j = i; j + 1 < *argc; j++)
				argv[j] = argv[j + 1];
			(*argc)--;
		}
		i--;
	}
	return found;
}

/* ---- key show ---- */

int tk_cmd_key(int argc, char **argv)
{
	static const char usage[] =
		"usage: tenken key show [--state DIR]\n"
		"       tenken key rotate --to CONFIG [--state DIR]\n\n"
		"show: prints the public key every new report is signed with (PEM), its\n"
		"fingerprint and the key log (each earlier key and when it was rotated away).\n"
		"Without <state>/signing.json the key is an Ed25519 file, created on first\n"
		"use (0600); signing.json may name a key in a PKCS#11 token instead.\n\n"
		"rotate: CONFIG is a signing.json naming the new key, e.g.\n"
		"  {\"signing_key\": \"pkcs11:token=tenken;object=history;type=private\",\n"
		"   \"module\": \"/usr/lib/softhsm/libsofthsm2.so\", \"pin_file\": \"secret/pin\"}\n"
		"(paths relative to the state directory). Appends a record to the key log\n"
		"signed by the old and the new key, naming every partner's newest scan; later\n"
		"scans are signed by the new key and verify names where the key changed.\n"
		"Installs CONFIG as <state>/signing.json; a default key file is removed.\n";
	struct hopts o;
	struct tk_history *h = NULL;
	struct tk_err err = {0};
	char *pem = NULL, fp[80];
	const char *to = NULL;
	int bad = 0;
	bool has_to = take_opt(&argc, argv, "to", true, &to, &bad);
	cJSON *keys = NULL, *k;
	int rc;
	if (bad) {
		fputs("tenken: --to needs a CONFIG file\n", stderr);
		return TK_EXIT_USAGE;
	}
	rc = parse(argc, argv, usage, 1, 1, &o);
	if (rc >= 0)
		return rc;
	if (strcmp(o.args[0], "rotate") == 0) {
		if (!has_to) {
			fputs("tenken: key rotate needs --to CONFIG\n", stderr);
			return TK_EXIT_USAGE;
		}
		if ((rc = open_history(&o, true, &h)))
			return rc;
		rc = tk_history_rotate(h, to, stdout, &err);
		tk_history_close(h);
		if (rc) {
			fprintf(stderr, "tenken: key rotate: %s\n", err.msg);
			return rc == TK_ERR_USAGE || rc == TK_ERR_CONFIG ? TK_EXIT_USAGE : TK_EXIT_ERROR;
		}
		return TK_EXIT_OK;
	}
	if (strcmp(o.args[0], "show") != 0 || has_to) {
		fputs(usage, stderr);
		return TK_EXIT_USAGE;
	}
	if ((rc = open_history(&o, true, &h)))
		return rc;
	if (tk_history_pubkey(h, &pem, fp, &err) || tk_history_keys(h, &keys, &err)) {
		fprintf(stderr, "tenken: %s\n", err.msg);
		free(pem);
		tk_history_close(h);
		return TK_EXIT_ERROR;
	}
	printf("%sfingerprint: %s\n", pem, fp);
	if (cJSON_GetArraySize(keys) > 1)
		cJSON_ArrayForEach(k, keys) printf("key %d: %s %s%s%s\n", jint(k, "index"), jstr(k, "fingerprint"),
						   jstr(k, "alg"), *jstr(k, "rotated_at") ? ", in force since " : "",
						   jstr(k, "rotated_at"));
	cJSON_Delete(keys);
	free(pem);
	tk_history_close(h);
	return TK_EXIT_OK;
}

/* ---- history ---- */

int tk_cmd_history(int argc, char **argv)
{
	static const char usage[] = "usage: tenken history [PARTNER] [--state DIR] [--limit N] [--format text|json]\n"
				    "       tenken history --heads [--state DIR]\n"
				    "       tenken history --reindex [--state DIR]\n\n"
				    "Lists the partner's stored scans and gate runs, oldest first: sequence\n"
				    "number, start time, mode, verdict, item counts, run id, report SHA-256.\n"
				    "Without PARTNER: the partners with stored scans (count, latest scan).\n"
				    "--heads prints every partner's newest scan (seq, SHA-256, timestamps) as\n"
				    "JSON for another system to keep; 'tenken verify --heads FILE' later\n"
				    "detects the deletion of the newest scans against it.\n"
				    "--reindex rebuilds the index from the stored files: every report whose\n"
				    "signature verifies with this agent's key (exit 1 when a file was skipped).\n";
	struct hopts o;
	struct tk_history *h = NULL;
	struct tk_err err = {0};
	cJSON *rows = NULL;
	const cJSON *r;
	const char *unused = NULL;
	int bad = 0;
	bool heads = take_opt(&argc, argv, "heads", false, &unused, &bad);
	bool reindex = take_opt(&argc, argv, "reindex", false, &unused, &bad);
	int rc = parse(argc, argv, usage, 0, heads || reindex ? 0 : 1, &o);
	if (rc >= 0)
		return rc;
	if (heads) {
		if ((rc = open_history(&o, false, &h)))
			return rc;
		if (tk_history_heads(h, &rows, &err)) {
			fprintf(stderr, "tenken: %s\n", err.msg);
			tk_history_close(h);
			return TK_EXIT_ERROR;
		}
		print_json(rows);
		cJSON_Delete(rows);
		tk_history_close(h);
		return TK_EXIT_OK;
	}
	if (reindex) {
		int ni = 0, ns = 0;
		if ((rc = open_history(&o, true, &h)))
			return rc;
		rc = tk_history_reindex(h, stdout, &ni, &ns, &err);
		tk_history_close(h);
		if (rc) {
			fprintf(stderr, "tenken: history --reindex: %s\n", err.msg);
			return TK_EXIT_ERROR;
		}
		printf("reindexed: %d report%s indexed, %d skipped\n", ni, ni == 1 ? "" : "s", ns);
		return ns ? TK_EXIT_FAIL : TK_EXIT_OK;
	}
	if (o.format && strcmp(o.format, "text") != 0 && strcmp(o.format, "json") != 0) {
		fputs("tenken: --format must be text or json\n", stderr);
		return TK_EXIT_USAGE;
	}
	if ((rc = open_history(&o, false, &h)))
		return rc;
	if (o.nargs == 0) {
		if (tk_history_partner_summary(h, &rows, &err)) {
			fprintf(stderr, "tenken: %s\n", err.msg);
			tk_history_close(h);
			return TK_EXIT_ERROR;
		}
		if (o.format && strcmp(o.format, "json") == 0)
			print_json(rows);
		else if (cJSON_GetArraySize(rows) == 0)
			fputs("tenken: no stored scans in this state directory\n", stderr);
		else {
			printf("%-32s %6s %8s  %-20s  %s\n", "PARTNER", "SCANS", "LAST", "STARTED", "VERDICT");
			cJSON_ArrayForEach(r, rows)
			    printf("%-32s %6d %8d  %-20s  %s\n", jstr(r, "partner"), jint(r, "scans"),
				   jint(r, "last_seq"), jstr(r, "last_started_at"), jstr(r, "last_verdict"));
		}
		cJSON_Delete(rows);
		tk_history_close(h);
		return TK_EXIT_OK;
	}
	if (tk_history_list(h, o.args[0], 0, (int)o.limit, &rows, &err)) {
		fprintf(stderr, "tenken: %s\n", err.msg);
		tk_history_close(h);
		return TK_EXIT_ERROR;
	}
	if (cJSON_GetArraySize(rows) == 0) {
		fprintf(stderr, "tenken: partner %s: no stored scans\n", o.args[0]);
		rc = TK_EXIT_USAGE;
	} else if (o.format && strcmp(o.format, "json") == 0)
		print_json(rows);
	else {
		printf("%6s  %-20s  %-4s  %-10s  %4s %4s %4s %4s %4s %4s  %-36s  %s\n", "SEQ", "STARTED", "MODE", "VERDICT",
		       "FAIL", "PASS", "INC", "MAN", "NA", "WVD", "RUN", "SHA256");
		cJSON_ArrayForEach(r, rows)
		{
			const cJSON *c = cJSON_GetObjectItemCaseSensitive(r, "items");
			printf("%6d  %-20s  %-4s  %-10s  %4d %4d %4d %4d %4d %4d  %-36s  %.16s\n", jint(r, "seq"),
			       jstr(r, "started_at"), jstr(r, "mode"), jstr(r, "verdict"), jint(c, "fail"),
			       jint(c, "pass"), jint(c, "incomplete"), jint(c, "manual"), jint(c, "not_applicable"),
			       jint(c, "waived"), jstr(r, "run_id"), jstr(r, "sha256"));
		}
	}
	cJSON_Delete(rows);
	tk_history_close(h);
	return rc;
}

/* ---- diff ---- */

/* Non-passing findings keyed "rule\ttarget" -> status. */
static cJSON *problem_set(const cJSON *report)
{
	cJSON *set = cJSON_CreateObject();
	const cJSON *f;
	cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(report, "findings"))
	{
		char key[2048];
		if (strcmp(jstr(f, "status"), "pass") == 0)
			continue;
		snprintf(key, sizeof(key), "%s\t%s", jstr(f, "rule"), jstr(f, "target"));
		if (!cJSON_GetObjectItemCaseSensitive(set, key))
			cJSON_AddStringToObject(
			    set, key, cJSON_GetObjectItemCaseSensitive(f, "waiver") ? "waived" : jstr(f, "status"));
	}
	return set;
}

static cJSON *finding_entry(const char *key, const char *status)
{
	cJSON *o = cJSON_CreateObject();
	const char *tab = strchr(key, '\t');
	char rule[1024];
	snprintf(rule, sizeof(rule), "%.*s", tab ? (int)(tab - key) : (int)strlen(key), key);
	cJSON_AddStringToObject(o, "rule", rule);
	cJSON_AddStringToObject(o, "target", tab ? tab + 1 : "");
	cJSON_AddStringToObject(o, "status", status);
	return o;
}

int tk_cmd_diff(int argc, char **argv)
{
	static const char usage[] =
		"usage: tenken diff PARTNER [A B] [--state DIR] [--format text|json]\n\n"
		"Compares two stored scans of the partner (sequence numbers or run ids;\n"
		"default: the last two): new, resolved and unchanged problem findings\n"
		"(fail, warn, error), and the checklist items whose status changed.\n";
	struct hopts o;
	struct tk_history *h = NULL;
	struct tk_err err = {0};
	cJSON *a = NULL, *b = NULL, *sa = NULL, *sb = NULL, *out = NULL, *nw, *res, *unch, *items;
	const cJSON *x, *ia;
	long long qa = -1, qb = 0, seqa = 0, seqb = 0;
	int rc = parse(argc, argv, usage, 1, 3, &o);
	if (rc >= 0)
		return rc;
	if (o.nargs == 2) {
		fputs("tenken: diff takes both A and B, or neither\n", stderr);
		return TK_EXIT_USAGE;
	}
	if (o.format && strcmp(o.format, "text") != 0 && strcmp(o.format, "json") != 0) {
		fputs("tenken: --format must be text or json\n", stderr);
		return TK_EXIT_USAGE;
	}
	if ((rc = open_history(&o, false, &h)))
		return rc;
	rc = TK_EXIT_USAGE;
	if (o.nargs == 3 && (tk_history_find(h, o.args[0], o.args[1], &qa, &err) ||
			     tk_history_find(h, o.args[0], o.args[2], &qb, &err))) {
		fprintf(stderr, "tenken: %s\n", err.msg);
		goto out;
	}
	if (tk_history_load(h, o.args[0], qa, &a, &seqa, &err) || tk_history_load(h, o.args[0], qb, &b, &seqb, &err)) {
		fprintf(stderr, "tenken: %s%s\n", err.msg, o.nargs == 1 ? " (diff needs two stored scans)" : "");
		goto out;
	}
	sa = problem_set(a);
	sb = problem_set(b);
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "partner", o.args[0]);
	cJSON_AddNumberToObject(out, "a", (double)seqa);
	cJSON_AddNumberToObject(out, "b", (double)seqb);
	cJSON_AddStringToObject(out, "a_run_id", jstr(a, "run_id"));
	cJSON_AddStringToObject(out, "b_run_id", jstr(b, "run_id"));
	nw = cJSON_AddArrayToObject(out, "new");
	res = cJSON_AddArrayToObject(out, "resolved");
	unch = cJSON_AddArrayToObject(out, "unchanged");
	items = cJSON_AddArrayToObject(out, "items_changed");
	cJSON_ArrayForEach(x, sb)
	{
		const cJSON *pa = cJSON_GetObjectItemCaseSensitive(sa, x->string);
		cJSON_AddItemToArray(pa ? unch : nw, finding_entry(x->string, x->valuestring));
	}
	cJSON_ArrayForEach(x, sa) if (!cJSON_GetObjectItemCaseSensitive(sb, x->string))
		cJSON_AddItemToArray(res, finding_entry(x->string, x->valuestring));
	cJSON_ArrayForEach(ia, cJSON_GetObjectItemCaseSensitive(a, "items"))
	{
		const cJSON *ib;
		cJSON_ArrayForEach(ib, cJSON_GetObjectItemCaseSensitive(b, "items"))
		{
			char na[32], nb[32];
			tk_item_no_str(cJSON_GetObjectItemCaseSensitive(ia, "no"), na, sizeof(na));
			tk_item_no_str(cJSON_GetObjectItemCaseSensitive(ib, "no"), nb, sizeof(nb));
			if (strcmp(na, nb) != 0)
				continue;
			if (strcmp(jstr(ia, "status"), jstr(ib, "status")) != 0) {
				cJSON *c = cJSON_CreateObject();
				cJSON_AddStringToObject(c, "no", na);
				cJSON_AddStringToObject(c, "goal", jstr(ib, "goal"));
				cJSON_AddStringToObject(c, "from", jstr(ia, "status"));
				cJSON_AddStringToObject(c, "to", jstr(ib, "status"));
				cJSON_AddItemToArray(items, c);
			}
			break;
		}
	}
	if (o.format && strcmp(o.format, "json") == 0)
		print_json(out);
	else {
		const char *sec[] = {"new", "resolved", "unchanged"};
		size_t i;
		printf("diff %s: scan #%lld (%s) -> scan #%lld (%s)\n", o.args[0], seqa, jstr(a, "started_at"), seqb,
		       jstr(b, "started_at"));
		for (i = 0; i < 3; i++) {
			const cJSON *arr = cJSON_GetObjectItemCaseSensitive(out, sec[i]);
			printf("%s findings: %d\n", sec[i], cJSON_GetArraySize(arr));
			cJSON_ArrayForEach(x, arr)
				printf("  %c %-28s %-8s %s\n", i == 0 ? '+' : i == 1 ? '-' : '=', jstr(x, "rule"), jstr(x, "status"),
				       jstr(x, "target"));
		}
		printf("items changed: %d\n", cJSON_GetArraySize(items));
		cJSON_ArrayForEach(x, items)
			printf("  %4s %s -> %s  %s\n", jstr(x, "no"), jstr(x, "from"), jstr(x, "to"), jstr(x, "goal"));
	}
	rc = TK_EXIT_OK;
out:
	cJSON_Delete(a);
	cJSON_Delete(b);
	cJSON_Delete(sa);
	cJSON_Delete(sb);
	cJSON_Delete(out);
	tk_history_close(h);
	return rc;
}

/* ---- verify ---- */

/* verify --heads FILE [PARTNER]: each anchored partner's chain, and its head. */
static int verify_heads(const struct hopts *o, const char *file, const char *only)
{
	struct tk_history *h = NULL;
	struct tk_err err = {0};
	char *text = NULL;
	size_t len;
	cJSON *doc = NULL;
	const cJSON *p, *arr;
	int problems = 0, checked = 0, rc;

	if (tk_read_file(file, 16 << 20, &text, &len, &err)) {
		fprintf(stderr, "tenken: --heads: %s\n", err.msg);
		return TK_EXIT_USAGE;
	}
	doc = cJSON_ParseWithLength(text, len);
	free(text);
	arr = cJSON_GetObjectItemCaseSensitive(doc, "partners");
	if (!doc || strcmp(jstr(doc, "schema"), "tenken.heads/1") != 0 || !cJSON_IsArray(arr)) {
		fprintf(stderr, "tenken: %s: not a heads document (schema tenken.heads/1 with a partners array)\n", file);
		cJSON_Delete(doc);
		return TK_EXIT_USAGE;
	}
	cJSON_ArrayForEach(p, arr)
	{
		const cJSON *seq = cJSON_GetObjectItemCaseSensitive(p, "seq");
		const char *id = jstr(p, "partner"), *sha = jstr(p, "sha256");
		if (!*id || !cJSON_IsNumber(seq) || seq->valuedouble < 1 || strlen(sha) != 64) {
			fprintf(stderr, "tenken: %s: partners[%d]: needs partner, seq >= 1 and a 64-hex sha256\n", file, checked);
			cJSON_Delete(doc);
			return TK_EXIT_USAGE;
		}
		checked++;
	}
	if ((rc = open_history(o, false, &h))) {
		cJSON_Delete(doc);
		return rc;
	}
	checked = 0;
	cJSON_ArrayForEach(p, arr)
	{
		const char *id = jstr(p, "partner");
		int nr = 0;
		if (only && strcmp(only, id) != 0)
			continue;
		checked++;
		printf("partner %s:\n", id);
		rc = tk_history_verify(h, id, stdout, &nr, &err);
		if (rc != TK_OK && rc != TK_ERR_NOTFOUND) {
			printf("FAIL partner %s: %s\n", id, err.msg);
			problems++;
		}
		if (rc == TK_OK || rc == TK_ERR_VERIFY)
			problems += tk_tsa_verify(h, id, stdout);
		problems +=
		    tk_history_check_head(h, id, (long long)cJSON_GetObjectItemCaseSensitive(p, "seq")->valuedouble,
					  jstr(p, "sha256"), stdout);
	}
	if (only && checked == 0) {
		printf("FAIL partner %s: not in the heads document %s\n", only, file);
		problems++;
	}
	/* partners in the history the anchor does not know: said, not failed */
	if (!only) {
		cJSON *ids = NULL;
		const cJSON *x;
		if (tk_history_partners(h, &ids, &err) == TK_OK)
			cJSON_ArrayForEach(x, ids)
			{
				bool known = false;
				cJSON_ArrayForEach(p, arr) known =
				    known || strcmp(jstr(p, "partner"), x->valuestring) == 0;
				if (!known)
					printf("note partner %s: in the history but not in %s (added after the anchor)\n",
					       x->valuestring, file);
			}
		cJSON_Delete(ids);
	}
	tk_history_close(h);
	cJSON_Delete(doc);
	if (problems) {
		fprintf(stderr, "tenken: verify --heads: %d problem%s found\n", problems, problems == 1 ? "" : "s");
		return TK_EXIT_FAIL;
	}
	printf("verified: %d partner%s against the anchored heads in %s\n", checked, checked == 1 ? "" : "s", file);
	return TK_EXIT_OK;
}

int tk_cmd_verify(int argc, char **argv)
{
	static const char usage[] =
		"usage: tenken verify PARTNER|FILE [--state DIR]\n\n"
		"Checks the partner's stored reports: each signature against this agent's\n"
		"key, each file against the index, and the hash chain. Names each problem:\n"
		"modified, removed, reordered, re-signed with another key. With a FILE\n"
		"(a stored report, its .sig beside it) checks that one report.\n"
		"exit codes: 0 verified, 1 a problem was found, 2 usage, 4 internal error\n\n"
		"       tenken verify --heads FILE [PARTNER] [--state DIR]\n"
		"checks every partner in FILE (from 'tenken history --heads', kept elsewhere)\n"
		"or only PARTNER: its chain as above, and that the anchored newest scan is\n"
		"still there with the same hash (deleting the newest scans is detected).\n";
	struct hopts o;
	struct tk_history *h = NULL;
	struct tk_err err = {0};
	struct stat sb;
	const char *heads_file = NULL;
	int bad = 0;
	bool heads = take_opt(&argc, argv, "heads", true, &heads_file, &bad);
	int n = 0, rc;
	if (bad) {
		fputs("tenken: --heads needs a FILE\n", stderr);
		return TK_EXIT_USAGE;
	}
	rc = parse(argc, argv, usage, heads ? 0 : 1, 1, &o);
	if (rc >= 0)
		return rc;
	if (heads)
		return verify_heads(&o, heads_file, o.nargs ? o.args[0] : NULL);
	if ((rc = open_history(&o, false, &h)))
		return rc;
	if (stat(o.args[0], &sb) == 0 && S_ISREG(sb.st_mode))
		rc = tk_history_verify_file(h, o.args[0], stdout, &err);
	else {
		int tp;
		rc = tk_history_verify(h, o.args[0], stdout, &n, &err);
		/* trusted time (desk): every scan's RFC 3161 token */
		if ((rc == TK_OK || rc == TK_ERR_VERIFY) && (tp = tk_tsa_verify(h, o.args[0], stdout)) > 0 &&
		    rc == TK_OK)
			rc = tk_seterr(&err, TK_ERR_VERIFY, "partner %s: %d timestamp problem%s found", o.args[0], tp,
				       tp == 1 ? "" : "s");
	}
	tk_history_close(h);
	if (rc == TK_OK) {
		if (n)
			printf("verified: %s: %d report%s, signatures and chain intact\n", o.args[0], n, n == 1 ? "" : "s");
		else
			printf("verified: %s\n", o.args[0]);
		return TK_EXIT_OK;
	}
	fprintf(stderr, "tenken: verify: %s\n", err.msg);
	return rc == TK_ERR_VERIFY ? TK_EXIT_FAIL : rc == TK_ERR_NOTFOUND ? TK_EXIT_USAGE : TK_EXIT_ERROR;
}

/* ---- report ---- */

static bool has_format(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;
	while (p && *p) {
		const char *comma = strchr(p, ',');
		size_t l = comma ? (size_t)(comma - p) : strlen(p);
		if (l == n && strncmp(p, name, n) == 0)
			return true;
		p = comma ? comma + 1 : NULL;
	}
	return false;
}

int tk_cmd_report(int argc, char **argv)
{
	static const char usage[] =
		"usage: tenken report PARTNER [--scan SEQ|RUN_ID] --format LIST --out DIR [--lang ja|en] [--state DIR]\n\n"
		"Re-renders a stored scan (default: the latest) in the given formats\n"
		"(json,html,csv,sarif,junit). report.json is the stored file byte for byte;\n"
		"the HTML trend covers the scans up to that one, the SARIF baseline is the\n"
		"scan before it.\n";
	struct hopts o;
	struct tk_history *h = NULL;
	struct tk_err err = {0};
	struct tk_render_opts ro;
	cJSON *rep = NULL, *prev = NULL, *trend = NULL;
	long long seq = 0, got = 0;
	int rc = parse(argc, argv, usage, 1, 1, &o);
	if (rc >= 0)
		return rc;
	if (!o.out || !o.format) {
		fputs(usage, stderr);
		return TK_EXIT_USAGE;
	}
	if (tk_formats_validate(o.format, &err)) {
		fprintf(stderr, "tenken: %s\n", err.msg);
		return TK_EXIT_USAGE;
	}
	if ((rc = open_history(&o, false, &h)))
		return rc;
	rc = TK_EXIT_USAGE;
	if (o.scan && tk_history_find(h, o.args[0], o.scan, &seq, &err)) {
		fprintf(stderr, "tenken: %s\n", err.msg);
		goto out;
	}
	if (tk_history_load(h, o.args[0], seq, &rep, &got, &err)) {
		fprintf(stderr, "tenken: %s\n", err.msg);
		goto out;
	}
	rc = TK_EXIT_ERROR;
	if (got > 1 && has_format(o.format, "sarif") && tk_history_load(h, o.args[0], got - 1, &prev, NULL, &err))
		tk_log(TK_LOG_WARN, "previous report unreadable: %s", err.msg);
	if (tk_history_list(h, o.args[0], got, 365, &trend, &err) || tk_mkdirs(o.out, 0755, &err)) {
		fprintf(stderr, "tenken: %s\n", err.msg);
		goto out;
	}
	memset(&ro, 0, sizeof(ro));
	ro.lang = o.lang;
	ro.history = trend;
	ro.previous = prev;
	{
		/* every format but json is rendered; report.json is copied below */
		char fmts[256] = "";
		const char *p = o.format;
		size_t n = 0;
		while (p && *p) {
			const char *comma = strchr(p, ',');
			size_t l = comma ? (size_t)(comma - p) : strlen(p);
			if (!(l == 4 && strncmp(p, "json", 4) == 0) && n + l + 2 < sizeof(fmts))
				n += (size_t)snprintf(fmts + n, sizeof(fmts) - n, "%s%.*s", n ? "," : "", (int)l, p);
			p = comma ? comma + 1 : NULL;
		}
		if (n && tk_render_formats(rep, fmts, o.out, &ro, &err)) {
			fprintf(stderr, "tenken: %s\n", err.msg);
			goto out;
		}
	}
	/* report.json: the stored bytes, not a re-serialisation */
	if (has_format(o.format, "json")) {
		const cJSON *last = cJSON_GetArrayItem(trend, cJSON_GetArraySize(trend) - 1);
		char *dir = NULL, *src = NULL, *text = NULL, dst[4096];
		size_t len;
		if (tk_history_state_dir(o.state, &dir, &err) == TK_OK &&
		    (src = tk_path_join(dir, jstr(last, "file"))) &&
		    tk_history_read_report(src, &text, &len, &err) == TK_OK) {
			snprintf(dst, sizeof(dst), "%s/report.json", o.out);
			tk_write_file_atomic(dst, text, len, 0644, &err);
		}
		free(dir);
		free(src);
		free(text);
	}
	printf("tenken: scan #%lld of %s rendered into %s\n", got, o.args[0], o.out);
	rc = TK_EXIT_OK;
out:
	cJSON_Delete(rep);
	cJSON_Delete(prev);
	cJSON_Delete(trend);
	tk_history_close(h);
	return rc;
}
