/* data.h - rule, checklist and profile data: embedded, or from TENKEN_DATA_DIR. */
#ifndef TK_DATA_H
#define TK_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include "tk.h"

struct tk_datafile {
	const char *name;           /* relative to rules/, e.g. "checklists/fisc-api-2018.json" */
	const unsigned char *data;
	size_t len;
};

/* Generated at build time from rules/{checklists,rules,profiles,tables}/ *.json. */
extern const struct tk_datafile tk_embedded_data[];

/*
 * The data set in use: the embedded one, or the files under $TENKEN_DATA_DIR
 * (same layout as rules/) when that is set. Loaded once; read-only after.
 */
struct tk_dataset {
	struct tk_datafile *files; /* sorted by name */
	size_t n;
	char origin[512];          /* "embedded" or the directory */
	char sha256[65];           /* over every name and content, in order */
	bool owned;
};

int tk_dataset_open(struct tk_dataset *ds, struct tk_err *err);
void tk_dataset_close(struct tk_dataset *ds);
/* Find one file by relative name; NULL if absent. */
const struct tk_datafile *tk_dataset_get(const struct tk_dataset *ds, const char *name);
/*
 * One file of the data set in use, copied: malloc'd, NUL-terminated (a tk_data_read_fn for
 * the probes' config context, agent/probe.h). TK_ERR_NOTFOUND when absent.
 */
int tk_dataset_read(const char *name, char **text, size_t *len, struct tk_err *err);
/* SHA-256 (hex) over the files whose name starts with prefix. */
void tk_dataset_hash(const struct tk_dataset *ds, const char *prefix, char out[65]);

#endif
