/*
 * patch.h - the patch probe's public interface for the rest of tenken (the
 * agent's `feed update` command). Everything else in probes/patch/ is the
 * probe's own; code outside the folder includes this header only.
 */
#ifndef TK_PATCH_H
#define TK_PATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "tk.h"

/* The feed formats the probe reads ("debian-tracker", "nvd", "osv"). */
bool tk_patch_feed_format_known(const char *format);

/*
 * Check a downloaded feed body with the probe's own loader (complete,
 * well-formed, of the format); *records is how many records it holds
 * (packages, CVEs or OSV records). Nothing is kept. name names the feed in
 * errors. Returns TK_OK or the loader's error.
 */
int tk_patch_feed_check(const char *format, const char *name, const char *data, size_t len, size_t *records,
			struct tk_err *err);

struct tk_feed_fetch {
	const char *url;
	const char *ca_file;           /* NULL: the system store */
	const char *if_none_match;     /* the last ETag, or NULL */
	const char *if_modified_since; /* the last Last-Modified, or NULL */
	long timeout_s;                /* every attempt and wait together */
};

struct tk_feed_fetched {
	long status;              /* 200, 304, or what the server said */
	char etag[512];           /* of the last response ("" when none) */
	char last_modified[128];
};

/*
 * Download a feed into body (its max bounds it) through the one request helper
 * (agent/httpreq.h and its retry policy: 2 retries on transport
 * failures and 429/5xx, within timeout_s; https redirects followed, at most
 * 5; the *_proxy environment). TK_OK with got->status when an answer came
 * (any status); TK_ERR_LIMIT over the bound, TK_ERR_NET with "truncated
 * download" when the body was shorter than announced, other errors as
 * tk_http_call_ex.
 */
int tk_patch_feed_fetch(const struct tk_feed_fetch *f, struct tk_buf *body, struct tk_feed_fetched *got,
			struct tk_err *err);

#endif
