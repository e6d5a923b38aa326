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

#endif
