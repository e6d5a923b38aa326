/*
 * attestation.h - the partner's self-attestation (--attestation FILE): the
 * checklist CSV as filled in by the partner, recorded on each item as
 * self-declared and compared with tenken's status (attestation.c).
 * Judging, so it lives in rules/; reports/ only renders the result.
 */
#ifndef TK_ATTESTATION_H
#define TK_ATTESTATION_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include "tk.h"

#define TK_ATTEST_MAX_BYTES ((size_t)8 << 20)

/* Parse an attestation CSV (rows as arrays of strings) and check its header and
 * record widths; errors name the file and the record (or the CSV line). */
int tk_attestation_parse(const char *file, const char *text, size_t len, cJSON **rows, struct tk_err *err);
/* Read `file` and record its answers on the report's items (report.attestation, items' attestation). */
int tk_attestation_apply(cJSON *report, const char *file, struct tk_err *err);

#endif
