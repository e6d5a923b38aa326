/* feedcheck.c - patch.h: fetch a feed (httpreq.h) and check its body with the probe's loader. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "httpreq.h"
#include "patch.h"
#include "vulnfeed.h"

bool tk_patch_feed_format_known(const char *format)
{
	return strcmp(format, "debian-tracker") == 0 || strcmp(format, "nvd") == 0 || strcmp(format, "osv") == 0;
}

int tk_patch_feed_check(const char *format, const char *name, const char *data, size_t len, size_t *records,
			struct tk_err *err)
{
	struct tk_vdb db;
	struct tk_vdb_want want;
	struct tk_vdb_stats st;
	int rc;
	*records = 0;
	if (!tk_patch_feed_format_known(format))
		return tk_seterr(err, TK_ERR_USAGE, "unknown feed format \"%s\"", format);
	memset(&want, 0, sizeof(want)); /* keep nothing: only parse */
	memset(&st, 0, sizeof(st));
	tk_vdb_init(&db);
	if (strcmp(format, "debian-tracker") == 0)
		rc = tk_vdb_load_debian(&db, data, len, name, &want, &st, err);
	else if (strcmp(format, "nvd") == 0)
		rc = tk_vdb_load_nvd(&db, data, len, name, &want, &st, err);
	else
		rc = tk_vdb_load_osv(&db, data, len, name, &want, &st, err);
	tk_vdb_clear(&db);
	*records = st.records;
	return rc;
}

/* The first header `name` of the block into out (cut to size), "" when absent. */
static void header_value(const struct tk_buf *hb, const char *name, char *out, size_t size)
{
	const char *p = hb->data, *end = hb->data ? hb->data + hb->len : NULL;
	size_t nl = strlen(name);
	out[0] = '\0';
	while (p && p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *le = eol ? eol : end;
		if ((size_t)(le - p) > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1;
			while (v < le && (*v == ' ' || *v == '\t'))
				v++;
			while (le > v && (le[-1] == '\r' || le[-1] == ' ' || le[-1] == '\t'))
				le--;
			snprintf(out, size, "%.*s", (int)(le - v), v);
			return;
		}
		p = eol ? eol + 1 : NULL;
	}
}

int tk_patch_feed_fetch(const struct tk_feed_fetch *f, struct tk_buf *body, struct tk_feed_fetched *got,
			struct tk_err *err)
{
	struct tk_http_req q;
	struct tk_http_info info;
	struct tk_buf hb;
	char inm[600], ims[200];
	const char *hdrs[3] = {NULL, NULL, NULL};
	size_t n = 0;
	int rc;
	memset(got, 0, sizeof(*got));
	if (f->if_none_match) {
		snprintf(inm, sizeof(inm), "If-None-Match: %s", f->if_none_match);
		hdrs[n++] = inm;
	}
	if (f->if_modified_since) {
		snprintf(ims, sizeof(ims), "If-Modified-Since: %s", f->if_modified_since);
		hdrs[n++] = ims;
	}
	tk_buf_init(&hb, 64 * 1024);
	memset(&q, 0, sizeof(q));
	q.method = "GET";
	q.url = f->url;
	q.what = f->url;
	q.headers = hdrs;
	q.ca_file = f->ca_file;
	q.timeout_ms = f->timeout_s > 2000000 ? 2000000000 : (int)f->timeout_s * 1000;
	q.max_retries = 2;
	q.resp_headers = &hb;
	q.follow_redirects = true;
	q.env_proxy = true;
	q.accept_encoding = true;
	q.user_agent = "tenken/" TENKEN_VERSION " (feed update)";
	rc = tk_http_call_ex(&q, &info, body, err);
	got->status = info.status;
	if (rc == TK_OK) {
		header_value(&hb, "ETag", got->etag, sizeof(got->etag));
		header_value(&hb, "Last-Modified", got->last_modified, sizeof(got->last_modified));
	}
	tk_buf_free(&hb);
	return rc;
}
