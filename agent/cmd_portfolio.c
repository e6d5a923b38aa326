/*
 * cmd_portfolio.c - tenken portfolio: every partner in the history at a
 * glance (docs/desk.md). Reads the history's SQLite index (the newest scan
 * of each partner with its per-item record, and a short trend), never every
 * report file: only a partner whose newest scan predates the per-item index
 * has that one report read. Writes portfolio.json (the model) and
 * portfolio.html (reports/portfolio.c) into --out.
 *
 * Fail closed: a partner whose newest scan is older than --stale-days, or
 * whose timestamp cannot be read, is flagged stale; its last verdict is shown
 * but never counts as current evidence ("current_verdict" is "stale").
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "history.h"
#include "portfolio.h"
#include "report.h"
#include "rules.h"

#define TREND_N 30
#define WAIVER_SOON_DAYS 30
#define TOP_FAILING 10

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

static const char *status_word(char c)
{
	switch (c) {
	case 'p': return "pass";
	case 'f': return "fail";
	case 'i': return "incomplete";
	case 'm': return "manual";
	case 'n': return "not_applicable";
	case 'w': return "waived";
	default: return "unknown";
	}
}

/* Per checklist: the item order (first seen), goals, and failure counts. */
struct clinfo {
	char id[128];
	cJSON *items;   /* array of item numbers (strings), in order */
	cJSON *goals;   /* no -> goal in lang (from the data set; {} when unknown) */
	cJSON *fails;   /* no -> number of partners failing it */
	int partners;
};

static struct clinfo *cl_get(struct clinfo **cls, size_t *n, const char *id, struct tk_dataset *ds, bool have_ds,
			     const char *lang)
{
	size_t i;
	struct clinfo *c, *nc;
	for (i = 0; i < *n; i++)
		if (strcmp((*cls)[i].id, id) == 0)
			return &(*cls)[i];
	if (!(nc = realloc(*cls, (*n + 1) * sizeof(**cls))))
		return NULL;
	*cls = nc;
	c = &nc[(*n)++];
	memset(c, 0, sizeof(*c));
	tk_strlcpy(c->id, id, sizeof(c->id));
	c->items = cJSON_CreateArray();
	c->goals = cJSON_CreateObject();
	c->fails = cJSON_CreateObject();
	if (have_ds) {
		struct tk_checklist *cl = NULL;
		struct tk_err e = {0};
		const cJSON *it;
		if (tk_checklist_load(ds, id, &cl, &e) == TK_OK) {
			cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(cl->doc, "items"))
			{
				char no[32];
				const char *g = strcmp(lang, "en") == 0 && *jstr(it, "goal_en") ? jstr(it, "goal_en")
												: jstr(it, "goal");
				tk_item_no_str(cJSON_GetObjectItemCaseSensitive(it, "no"), no, sizeof(no));
				if (!cJSON_GetObjectItemCaseSensitive(c->goals, no))
					cJSON_AddStringToObject(c->goals, no, g);
			}
			tk_checklist_free(cl);
		}
	}
	return c;
}

/* Days from now until an expiry date "YYYY-MM-DD[...]"; false if unreadable. */
static bool days_until(const char *expires, time_t now, long *days)
{
	time_t t;
	char buf[40];
	if (strlen(expires) == 10) {
		snprintf(buf, sizeof(buf), "%sT00:00:00Z", expires);
		expires = buf;
	}
	if (tk_parse_time(expires, &t) != TK_OK)
		return false;
	{
		long long d = (long long)t - (long long)now; /* floor division */
		*days = (long)(d >= 0 ? d / 86400 : -((-d + 86399) / 86400));
	}
	return true;
}

static int cmp_fail(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
	int d = jint(y, "fail") - jint(x, "fail");
	return d ? d : strcmp(jstr(x, "no"), jstr(y, "no"));
}

static int cmp_days(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
	int d = jint(x, "days_left") - jint(y, "days_left");
	return d ? d : strcmp(jstr(x, "partner"), jstr(y, "partner"));
}

/* Sort a cJSON array in place with cmp (detaches and re-adds the elements). */
static int sort_array(cJSON *arr, int (*cmp)(const void *, const void *))
{
	int n = cJSON_GetArraySize(arr), i;
	cJSON **v;
	if (n < 2)
		return TK_OK;
	if (!(v = malloc((size_t)n * sizeof(*v))))
		return TK_ERR_NOMEM;
	for (i = n - 1; i >= 0; i--)
		v[i] = cJSON_DetachItemFromArray(arr, i);
	qsort(v, (size_t)n, sizeof(*v), cmp);
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, v[i]);
	free(v);
	return TK_OK;
}

/* Build the portfolio model (see docs/desk.md "portfolio.json"). */
static int build_model(struct tk_history *h, const char *lang, long stale_h, time_t now, const char *link_prefix,
		       cJSON **out, struct tk_err *err)
{
	cJSON *rows = NULL, *m = NULL, *parr, *carr, *top, *soon, *tot;
	const cJSON *r;
	struct clinfo *cls = NULL;
	size_t ncl = 0, i;
	struct tk_dataset ds;
	bool have_ds = tk_dataset_open(&ds, err) == TK_OK;
	char ts[32];
	int rc, from_reports = 0, nstale = 0, npass = 0, nfail = 0, ninc = 0;

	*out = NULL;
	if ((rc = tk_history_portfolio(h, TREND_N, &rows, err)))
		goto out;
	m = cJSON_CreateObject();
	tk_rfc3339(now, ts);
	cJSON_AddStringToObject(m, "schema", "tenken.portfolio/1");
	cJSON_AddStringToObject(m, "generated_at", ts);
	cJSON_AddStringToObject(m, "lang", lang);
	cJSON_AddNumberToObject(m, "stale_after_hours", (double)stale_h);
	cJSON_AddNumberToObject(m, "waiver_window_days", WAIVER_SOON_DAYS);
	tot = cJSON_AddObjectToObject(m, "totals");
	carr = cJSON_AddArrayToObject(m, "checklists");
	top = cJSON_AddArrayToObject(m, "top_failing");
	soon = cJSON_AddArrayToObject(m, "waivers_expiring");
	parr = cJSON_AddArrayToObject(m, "partners");

	cJSON_ArrayForEach(r, rows)
	{
		cJSON *p = cJSON_CreateObject(), *items, *inc, *tr, *pts;
		const cJSON *extra = cJSON_GetObjectItemCaseSensitive(r, "extra"), *w, *t;
		cJSON *loaded_extra = NULL;
		const char *rec = jstr(r, "record"), *verdict = jstr(r, "verdict");
		char *rec_owned = NULL, *xs = NULL, *link = NULL;
		struct clinfo *c;
		time_t fin;
		bool stale;
		int first = -1, last = 0;

		cJSON_AddItemToArray(parr, p);
		cJSON_AddStringToObject(p, "partner", jstr(r, "partner"));
		cJSON_AddStringToObject(p, "checklist", jstr(r, "checklist"));
		cJSON_AddNumberToObject(p, "seq", jint(r, "seq"));
		cJSON_AddStringToObject(p, "run_id", jstr(r, "run_id"));
		cJSON_AddStringToObject(p, "finished_at", jstr(r, "finished_at"));
		cJSON_AddStringToObject(p, "verdict", verdict);
		cJSON_AddBoolToObject(p, "complete", cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "complete")));
		cJSON_AddItemToObject(p, "counts", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(r, "items"), true));
		if (tk_parse_time(jstr(r, "finished_at"), &fin) == TK_OK) {
			double age = difftime(now, fin) / 3600.0;
			cJSON_AddNumberToObject(p, "age_hours", (double)(long long)(age * 10) / 10);
			stale = age > (double)stale_h;
		} else {
			cJSON_AddNullToObject(p, "age_hours");
			stale = true; /* an unreadable timestamp is no evidence of freshness */
		}
		cJSON_AddBoolToObject(p, "stale", stale);
		cJSON_AddStringToObject(p, "current_verdict", stale ? "stale" : verdict);
		nstale += stale;
		if (!stale) {
			npass += strcmp(verdict, "pass") == 0;
			nfail += strcmp(verdict, "fail") == 0;
			ninc += strcmp(verdict, "incomplete") == 0;
		}
		/* link to the newest stored report */
		if (*jstr(r, "file")) {
			const char *base = link_prefix ? link_prefix : tk_history_dir(h);
			size_t n = strlen(base) + strlen(jstr(r, "file")) + 2;
			if ((link = malloc(n)))
				snprintf(link, n, "%s%s%s", base, base[0] && base[strlen(base) - 1] == '/' ? "" : "/", jstr(r, "file"));
		}
		cJSON_AddStringToObject(p, "report", link ? link : "");
		free(link);
		/* the per-item record: from the index, else (older scans) from the report */
		if (cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(r, "record"))) {
			cJSON *rep = NULL;
			struct tk_err e = {0};
			from_reports++;
			if (tk_history_load(h, jstr(r, "partner"), jint(r, "seq"), &rep, NULL, &e) == TK_OK &&
			    tk_history_item_record(rep, &rec_owned, &xs, &e) == TK_OK) {
				rec = rec_owned;
				loaded_extra = cJSON_Parse(xs);
				extra = loaded_extra;
			} else {
				rec = "";
				cJSON_AddStringToObject(p, "record_error", e.msg);
			}
			cJSON_Delete(rep);
		}
		c = cl_get(&cls, &ncl, jstr(r, "checklist"), &ds, have_ds, lang);
		if (!c) {
			free(rec_owned);
			cJSON_free(xs);
			cJSON_Delete(loaded_extra);
			rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
			goto out;
		}
		c->partners++;
		items = cJSON_AddObjectToObject(p, "items");
		while (rec && *rec) {
			const char *semi = strchr(rec, ';'), *eq = strchr(rec, '=');
			size_t len = semi ? (size_t)(semi - rec) : strlen(rec);
			char no[32];
			if (eq && (size_t)(eq - rec) < len && (size_t)(eq - rec) < sizeof(no) && eq + 1 < rec + len) {
				const char *st = status_word(eq[1]);
				cJSON *cnt;
				snprintf(no, sizeof(no), "%.*s", (int)(eq - rec), rec);
				cJSON_AddStringToObject(items, no, st);
				/* the item order of the checklist: first time seen */
				if (!(cnt = cJSON_GetObjectItemCaseSensitive(c->fails, no))) {
					cJSON_AddItemToArray(c->items, cJSON_CreateString(no));
					cnt = cJSON_AddNumberToObject(c->fails, no, 0);
				}
				if (!stale && strcmp(st, "fail") == 0)
					cJSON_SetNumberValue(cnt, cnt->valuedouble + 1);
			}
			rec = semi ? semi + 1 : NULL;
		}
		inc = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(extra, "incomplete"), true);
		cJSON_AddItemToObject(p, "incomplete", inc ? inc : cJSON_CreateObject());
		cJSON_AddNumberToObject(p, "expired_waivers", jint(extra, "expired_waivers"));
		cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(extra, "waivers"))
		{
			long days;
			cJSON *o;
			if (!days_until(jstr(w, "expires"), now, &days) || days > WAIVER_SOON_DAYS)
				continue;
			o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "partner", jstr(r, "partner"));
			cJSON_AddStringToObject(o, "id", jstr(w, "id"));
			cJSON_AddStringToObject(o, "target", jstr(w, "target"));
			cJSON_AddStringToObject(o, "expires", jstr(w, "expires"));
			cJSON_AddNumberToObject(o, "days_left", (double)days);
			cJSON_AddItemToArray(soon, o);
		}
		/* trend: problems (fail + incomplete items) over the last scans */
		tr = cJSON_AddObjectToObject(p, "trend");
		pts = cJSON_AddArrayToObject(tr, "points");
		cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(r, "trend"))
		{
			int v = jint(t, "fail") + jint(t, "incomplete");
			cJSON *pt = cJSON_CreateObject();
			cJSON_AddNumberToObject(pt, "seq", jint(t, "seq"));
			cJSON_AddStringToObject(pt, "verdict", jstr(t, "verdict"));
			cJSON_AddNumberToObject(pt, "problems", v);
			cJSON_AddItemToArray(pts, pt);
			if (first < 0)
				first = v;
			last = v;
		}
		cJSON_AddStringToObject(tr, "direction",
					cJSON_GetArraySize(pts) < 2 ? "new"
					: last < first		    ? "improving"
					: last > first		    ? "worsening"
								    : "steady");
		free(rec_owned);
		cJSON_free(xs);
		cJSON_Delete(loaded_extra);
	}
	/* checklists and the items failing across most partners */
	for (i = 0; i < ncl; i++) {
		cJSON *o = cJSON_CreateObject();
		const cJSON *no;
		cJSON_AddStringToObject(o, "id", cls[i].id);
		cJSON_AddNumberToObject(o, "partners", cls[i].partners);
		cJSON_AddItemToObject(o, "items", cls[i].items);
		cJSON_AddItemToObject(o, "goals", cls[i].goals);
		cls[i].items = cls[i].goals = NULL;
		cJSON_AddItemToArray(carr, o);
		cJSON_ArrayForEach(no, cls[i].fails)
		{
			cJSON *t;
			if (no->valueint == 0)
				continue;
			t = cJSON_CreateObject();
			cJSON_AddStringToObject(t, "checklist", cls[i].id);
			cJSON_AddStringToObject(t, "no", no->string);
			cJSON_AddStringToObject(t, "goal", jstr(cJSON_GetObjectItemCaseSensitive(o, "goals"), no->string));
			cJSON_AddNumberToObject(t, "fail", no->valueint);
			cJSON_AddNumberToObject(t, "of", cls[i].partners);
			cJSON_AddItemToArray(top, t);
		}
	}
	if (sort_array(top, cmp_fail) || sort_array(soon, cmp_days)) {
		rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		goto out;
	}
	while (cJSON_GetArraySize(top) > TOP_FAILING)
		cJSON_DeleteItemFromArray(top, TOP_FAILING);
	cJSON_AddNumberToObject(tot, "partners", cJSON_GetArraySize(parr));
	cJSON_AddNumberToObject(tot, "pass", npass);
	cJSON_AddNumberToObject(tot, "fail", nfail);
	cJSON_AddNumberToObject(tot, "incomplete", ninc);
	cJSON_AddNumberToObject(tot, "stale", nstale);
	cJSON_AddNumberToObject(tot, "read_from_reports", from_reports);
	*out = m;
	m = NULL;
out:
	for (i = 0; i < ncl; i++) {
		cJSON_Delete(cls[i].items);
		cJSON_Delete(cls[i].goals);
		cJSON_Delete(cls[i].fails);
	}
	free(cls);
	if (have_ds)
		tk_dataset_close(&ds);
	cJSON_Delete(rows);
	cJSON_Delete(m);
	return rc;
}

int tk_cmd_portfolio(int argc, char **argv)
{
	static const char usage[] =
		"usage: tenken portfolio --out DIR [--state DIR] [--lang ja|en] [--stale-days N]\n"
		"                        [--link-prefix URL] [--now TIME]\n\n"
		"Every partner in the history at a glance: portfolio.html and portfolio.json\n"
		"in DIR. A partners x items matrix per checklist (latest status of each\n"
		"item), each partner's verdict, the age of its last scan (stale beyond\n"
		"--stale-days, default 2, flagged), incomplete evidence with its reason, the\n"
		"items failing across most partners, waivers expiring within 30 days, each\n"
		"partner's trend over its last 30 scans, a link to its newest stored report\n"
		"(under --link-prefix instead of the state directory when given).\n"
		"Reads the history's index, not every report.\n";
	static const struct option lo[] = {{"state", required_argument, NULL, 'S'},
					   {"out", required_argument, NULL, 'o'},
					   {"lang", required_argument, NULL, 'L'},
					   {"stale-days", required_argument, NULL, 'd'},
					   {"link-prefix", required_argument, NULL, 'l'},
					   {"now", required_argument, NULL, 'N'},
					   {"help", no_argument, NULL, 'h'},
					   {NULL, 0, NULL, 0}};
	const char *state = NULL, *outdir = NULL, *lang = "ja", *link = NULL;
	long long stale_days = 2;
	time_t now = time(NULL);
	struct tk_history *h = NULL;
	struct tk_err err = {0};
	struct tk_buf html;
	cJSON *model = NULL;
	char *dir = NULL, *json = NULL, path[PATH_MAX];
	int c, rc = TK_EXIT_ERROR;

	optind = 1;
	while ((c = getopt_long(argc, argv, "S:o:L:d:l:N:h", lo, NULL)) != -1) {
		switch (c) {
		case 'S': state = optarg; break;
		case 'o': outdir = optarg; break;
		case 'L': lang = optarg; break;
		case 'l': link = optarg; break;
		case 'd':
			if (tk_parse_ll(optarg, 1, 3650, &stale_days)) {
				fputs("tenken: --stale-days must be 1..3650\n", stderr);
				return TK_EXIT_USAGE;
			}
			break;
		case 'N':
			if (tk_parse_time(optarg, &now)) {
				fputs("tenken: --now must be an RFC 3339 time (2026-01-31T00:00:00Z)\n", stderr);
				return TK_EXIT_USAGE;
			}
			break;
		case 'h': fputs(usage, stdout); return TK_EXIT_OK;
		default: fputs(usage, stderr); return TK_EXIT_USAGE;
		}
	}
	if (!outdir || optind < argc) {
		fputs(usage, stderr);
		return TK_EXIT_USAGE;
	}
	if (strcmp(lang, "ja") != 0 && strcmp(lang, "en") != 0) {
		fputs("tenken: --lang must be ja or en\n", stderr);
		return TK_EXIT_USAGE;
	}
	tk_buf_init(&html, (size_t)512 << 20);
	if (tk_history_state_dir(state, &dir, &err) || tk_history_open(dir, false, &h, &err)) {
		fprintf(stderr, "tenken: %s\n", err.msg);
		rc = TK_EXIT_USAGE;
		goto out;
	}
	if (build_model(h, lang, (long)stale_days * 24, now, link, &model, &err) || tk_mkdirs(outdir, 0755, &err) ||
	    tk_portfolio_html(model, &html, &err)) {
		fprintf(stderr, "tenken: portfolio: %s\n", err.msg);
		goto out;
	}
	if (!(json = cJSON_PrintUnformatted(model))) {
		fputs("tenken: portfolio: out of memory\n", stderr);
		goto out;
	}
	snprintf(path, sizeof(path), "%s/portfolio.json", outdir);
	if (tk_write_file_atomic(path, json, strlen(json), 0644, &err)) {
		fprintf(stderr, "tenken: %s\n", err.msg);
		goto out;
	}
	snprintf(path, sizeof(path), "%s/portfolio.html", outdir);
	if (tk_write_file_atomic(path, html.data, html.len, 0644, &err)) {
		fprintf(stderr, "tenken: %s\n", err.msg);
		goto out;
	}
	{
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(model, "totals");
		printf("tenken: portfolio of %d partners (%d pass, %d fail, %d incomplete, %d stale) written to %s\n",
		       jint(t, "partners"), jint(t, "pass"), jint(t, "fail"), jint(t, "incomplete"), jint(t, "stale"),
		       outdir);
	}
	rc = TK_EXIT_OK;
out:
	cJSON_free(json);
	cJSON_Delete(model);
	tk_buf_free(&html);
	tk_history_close(h);
	free(dir);
	return rc;
}
