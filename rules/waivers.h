/*
 * waivers.h - the bank's waivers (--waivers FILE): approved exceptions with an
 * expiry, applied to a built report's failing findings and items (waivers.c).
 * The caller then recounts with tk_verdict_apply (a waived item never fails
 * the gate). Judging, so it lives in rules/; reports/ only renders the result.
 */
#ifndef TK_WAIVERS_H
#define TK_WAIVERS_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <time.h>
#include "tk.h"

#define TK_WAIVERS_MAX_BYTES ((size_t)4 << 20)

/* Parse and validate a waivers file's text; errors name file, waivers[i].field, or the byte offset. */
int tk_waivers_parse(const char *file, const char *text, size_t len, cJSON **out, struct tk_err *err);
/* Read `file` and apply its waivers to report at time now (report.waivers, findings' waiver, items "waived"). */
int tk_waivers_apply(cJSON *report, const char *file, time_t now, struct tk_err *err);

#endif
