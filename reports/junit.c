/*
 * junit.c - renderer "junit": one <testcase> per checklist item, for CI
 * systems that read JUnit XML. fail -> <failure>, incomplete -> <error>,
 * manual / not_applicable / waived -> <skipped> with the reason, pass -> empty.
 */
#include "report.h"
#include "rutil.h"

#include <stdio.h>
#include <string.h>

#define JUNIT_MAX_FINDINGS 200

#define TRY(x)                           \
	do {                             \
		if ((rc = (x)) != TK_OK) \
			goto out;        \
	} while (0)

static int attr(struct tk_buf *b, const char *name, const char *v)
{
	int rc;
	TRY(tk_buf_printf(b, " %s=\"", name));
	TRY(tk_r_xml(b, v));
	TRY(tk_buf_puts(b, "\""));
out:
	return rc;
}

/* One <testcase> for an item. The first error stops it (TRY). */
static int testcase(struct tk_buf *out, const cJSON *it, const struct tk_r_item_text *t, const char *lang,
		    const char *cl)
{
	const char *st = tk_r_str(it, "status");
	char no[32], tcname[1024], cls[512];
	int rc = TK_OK;

	tk_item_no_str(cJSON_GetObjectItemCaseSensitive(it, "no"), no, sizeof(no));
	snprintf(tcname, sizeof(tcname), "%s %s", no,
		 strcmp(lang, "en") == 0 && *tk_r_str(it, "goal_en") ? tk_r_str(it, "goal_en") : tk_r_str(it, "goal"));
	snprintf(cls, sizeof(cls), "%s.%s", cl,
		 strcmp(lang, "en") == 0 && *tk_r_str(it, "chapter_en") ? tk_r_str(it, "chapter_en")
									: tk_r_str(it, "chapter"));
	TRY(tk_buf_puts(out, "    <testcase"));
	TRY(attr(out, "classname", cls));
	TRY(attr(out, "name", tcname));
	TRY(tk_buf_puts(out, " time=\"0\">\n"));
	if (strcmp(st, "fail") == 0) {
		TRY(tk_buf_puts(out, "      <failure type=\"fail\""));
		TRY(attr(out, "message", t->issues));
		TRY(tk_buf_puts(out, ">"));
		TRY(tk_r_xml(out, t->status_text));
		TRY(tk_buf_puts(out, "\n"));
		TRY(tk_r_xml(out, t->plan));
		TRY(tk_buf_puts(out, "</failure>\n"));
	} else if (strcmp(st, "incomplete") == 0) {
		TRY(tk_buf_puts(out, "      <error type=\"incomplete\""));
		TRY(attr(out, "message", t->issues));
		TRY(tk_buf_puts(out, ">"));
		TRY(tk_r_xml(out, t->status_text));
		TRY(tk_buf_puts(out, "</error>\n"));
	} else if (strcmp(st, "pass") != 0) {
		char msg[256];
		snprintf(msg, sizeof(msg), "%s: %s", st, tk_r_status_label(st, lang));
		TRY(tk_buf_puts(out, "      <skipped"));
		TRY(attr(out, "message", msg));
		TRY(tk_buf_puts(out, ">"));
		TRY(tk_r_xml(out, t->status_text));
		TRY(tk_buf_puts(out, "</skipped>\n"));
	}
	if (strcmp(st, "pass") == 0) {
		TRY(tk_buf_puts(out, "      <system-out>"));
		TRY(tk_r_xml(out, t->status_text));
		TRY(tk_buf_puts(out, "</system-out>\n"));
	}
	if (strcmp(st, "pass") == 0 && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "with_warnings"))) {
		/* passes, with warnings: JUnit has no such state; the warnings go to system-err */
		TRY(tk_buf_puts(out, "      <system-err>"));
		TRY(tk_r_xml(out, t->issues));
		TRY(tk_buf_puts(out, "</system-err>\n"));
	}
	TRY(tk_buf_puts(out, "    </testcase>\n"));
out:
	return rc;
}

static int render_junit_ix(const cJSON *report, const struct tk_r_index *ix, const struct tk_render_opts *opts,
			struct tk_buf *out,
			struct tk_err *err)
{
	const char *lang = tk_r_lang(opts ? opts->lang : NULL), *cl = tk_r_checklist_id(report);
	const cJSON *partner = cJSON_GetObjectItemCaseSensitive(report, "partner"), *it;
	int total = 0, failures = 0, errors = 0, skipped = 0, rc;
	char name[512];

	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(report, "items"))
	{
		const char *st = tk_r_str(it, "status");
		total++;
		if (strcmp(st, "fail") == 0)
			failures++;
		else if (strcmp(st, "incomplete") == 0)
			errors++;
		else if (strcmp(st, "pass") != 0)
			skipped++;
	}
	snprintf(name, sizeof(name), "tenken %s / %s", tk_r_str(partner, "id"), cl);
	TRY(tk_buf_puts(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites"));
	TRY(attr(out, "name", name));
	TRY(tk_buf_printf(out, " tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"%d\">\n", total,
				     failures, errors, skipped));
	TRY(tk_buf_puts(out, "  <testsuite"));
	TRY(attr(out, "name", name));
	TRY(tk_buf_printf(out, " tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"%d\"", total, failures,
				     errors, skipped));
	TRY(attr(out, "timestamp", tk_r_str(report, "started_at")));
	TRY(attr(out, "hostname", tk_r_str(partner, "id")));
	TRY(tk_buf_puts(out, ">\n    <properties>\n"));
	{
		const char *props[][2] = {
			{"run_id", tk_r_str(report, "run_id")},
			{"partner", tk_r_str(partner, "id")},
			{"checklist", cl},
			{"checklist_sha256", tk_r_str(cJSON_GetObjectItemCaseSensitive(report, "checklist"), "sha256")},
			{"rules_sha256", tk_r_str(cJSON_GetObjectItemCaseSensitive(report, "tool"), "rules_sha256")},
			{"tool_version", tk_r_str(cJSON_GetObjectItemCaseSensitive(report, "tool"), "version")},
			{"verdict", tk_r_str(cJSON_GetObjectItemCaseSensitive(report, "gate"), "verdict")},
		};
		size_t i;
		for (i = 0; i < TK_ARRAY_LEN(props) && rc == TK_OK; i++) {
			rc = tk_buf_puts(out, "      <property");
			TRY(attr(out, "name", props[i][0]));
			TRY(attr(out, "value", props[i][1]));
			TRY(tk_buf_puts(out, "/>\n"));
		}
	}
	TRY(tk_buf_puts(out, "    </properties>\n"));
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(report, "items"))
	{
		struct tk_r_item_text t;
		TRY(tk_r_item_text(ix, it, lang, JUNIT_MAX_FINDINGS, &t));
		rc = testcase(out, it, &t, lang, cl);
		tk_r_item_text_free(&t);
		if (rc)
			goto out;
	}
	TRY(tk_buf_puts(out, "  </testsuite>\n</testsuites>\n"));
out:
	if (rc)
		return tk_seterr(err, rc, "junit.xml: %s", tk_strerror(rc));
	return TK_OK;
}

static int render_junit(const cJSON *report, const struct tk_render_opts *opts, struct tk_buf *out,
		       struct tk_err *err)
{
	struct tk_r_index ix;
	int rc;
	if (tk_r_index_build(report, &ix))
		return tk_seterr(err, TK_ERR_NOMEM, "junit.xml: out of memory");
	rc = render_junit_ix(report, &ix, opts, out, err);
	tk_r_index_free(&ix);
	return rc;
}

const struct tk_renderer tk_renderer_junit = {
	.name = "junit",
	.file_name = "junit.xml",
	.render = render_junit,
};
