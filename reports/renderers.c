/* renderers.c - the list of renderers and rendering into a directory. */
#include <stdio.h>
#include <string.h>

#include "report.h"

extern const struct tk_renderer tk_renderer_json;
extern const struct tk_renderer tk_renderer_html;
extern const struct tk_renderer tk_renderer_csv;
extern const struct tk_renderer tk_renderer_sarif;
extern const struct tk_renderer tk_renderer_junit;

const struct tk_renderer *const tk_renderers[] = {
	&tk_renderer_json,
	&tk_renderer_html,
	&tk_renderer_csv,
	&tk_renderer_sarif,
	&tk_renderer_junit,
	NULL,
};

const struct tk_renderer *tk_renderer_find(const char *name)
{
	size_t i;
	for (i = 0; tk_renderers[i]; i++)
		if (strcmp(tk_renderers[i]->name, name) == 0)
			return tk_renderers[i];
	return NULL;
}

int tk_formats_validate(const char *formats, struct tk_err *err)
{
	const char *p = formats;
	while (p && *p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		char name[32];
		if (n == 0 || n >= sizeof(name))
			return tk_seterr(err, TK_ERR_USAGE, "--format: empty or overlong format name");
		memcpy(name, p, n);
		name[n] = '\0';
		if (!tk_renderer_find(name)) {
			char list[256] = "";
			size_t l = 0, i;
			for (i = 0; tk_renderers[i]; i++)
				l += (size_t)snprintf(list + l, sizeof(list) - l, "%s%s", i ? "," : "",
						      tk_renderers[i]->name);
			return tk_seterr(err, TK_ERR_USAGE, "--format: unknown format \"%s\" (known: %s)", name, list);
		}
		p = comma ? comma + 1 : NULL;
	}
	return TK_OK;
}

int tk_render_formats(const cJSON *report, const char *formats, const char *dir,
		      const struct tk_render_opts *opts, struct tk_err *err)
{
	const char *p = formats;
	int rc;
	if ((rc = tk_formats_validate(formats, err)))
		return rc;
	while (p && *p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		char name[32], path[4096];
		const struct tk_renderer *r;
		struct tk_buf b;
		int64_t t0;
		memcpy(name, p, n);
		name[n] = '\0';
		r = tk_renderer_find(name);
		tk_buf_init(&b, (size_t)1 << 30);
		t0 = tk_now_ms();
		/* the caller rendered report.json already (for the history): the same bytes, not printed twice */
		if (opts && opts->json && opts->json->data && strcmp(r->name, "json") == 0) {
			rc = tk_buf_append(&b, opts->json->data, opts->json->len);
			if (rc)
				tk_seterr(err, rc, "out of memory");
		} else
			rc = r->render(report, opts, &b, err);
		tk_log(TK_LOG_INFO, "rendered %s in %lld ms (%zu bytes)", r->file_name, (long long)(tk_now_ms() - t0),
		       b.len);
		if (rc == TK_OK) {
			snprintf(path, sizeof(path), "%s/%s", dir, r->file_name);
			rc = tk_write_file_atomic(path, b.data ? b.data : "", b.len, 0644, err);
		}
		tk_buf_free(&b);
		if (rc)
			return rc;
		p = comma ? comma + 1 : NULL;
	}
	return TK_OK;
}
