/* json.c - renderer "json": report.json, the document as built, without
 * indentation (a large scan's report is a quarter smaller; `jq .` or
 * `python3 -m json.tool` indent it for reading). */
#include "report.h"

#include <stdlib.h>

static int render_json(const cJSON *report, const struct tk_render_opts *opts, struct tk_buf *out,
		       struct tk_err *err)
{
	char *s = cJSON_PrintUnformatted(report);
	int rc;
	(void)opts;
	if (!s)
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory rendering JSON");
	rc = tk_buf_puts(out, s);
	if (rc == TK_OK)
		rc = tk_buf_puts(out, "\n");
	free(s);
	if (rc)
		return tk_seterr(err, rc, "report.json: %s", tk_strerror(rc));
	return TK_OK;
}

const struct tk_renderer tk_renderer_json = {
	.name = "json",
	.file_name = "report.json",
	.render = render_json,
};
