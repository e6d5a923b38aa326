/* csvparse.h - a bounded RFC 4180 CSV parser (for --attestation files). */
#ifndef TK_CSVPARSE_H
#define TK_CSVPARSE_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include "tk.h"

#define TK_CSV_MAX_ROWS 10000
#define TK_CSV_MAX_FIELDS 64
#define TK_CSV_MAX_FIELD ((size_t)64 << 10)

/* Parse (p, len) into an array of rows, each an array of strings. A UTF-8
 * BOM is skipped; CRLF or LF ends a record; quoted fields may hold commas,
 * quotes ("") and line breaks. Errors name the line (name: line N: ...). */
int tk_csv_parse(const char *name, const char *p, size_t len, cJSON **rows, struct tk_err *err);

#endif
