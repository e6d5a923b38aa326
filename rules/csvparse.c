/* csvparse.c - a bounded RFC 4180 CSV parser (see csvparse.h). */
#include "csvparse.h"

#include <stdbool.h>
#include <string.h>

static int end_field(cJSON *row, struct tk_buf *f, const char *name, size_t line, struct tk_err *err)
{
	cJSON *s;
	if (cJSON_GetArraySize(row) >= TK_CSV_MAX_FIELDS)
		return tk_seterr(err, TK_ERR_LIMIT, "%s: line %zu: more than %d fields", name, line, TK_CSV_MAX_FIELDS);
	s = cJSON_CreateString(f->data ? f->data : "");
	if (!s || !cJSON_AddItemToArray(row, s)) {
		cJSON_Delete(s);
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	}
	tk_buf_reset(f);
	return TK_OK;
}

int tk_csv_parse(const char *name, const char *p, size_t len, cJSON **rows, struct tk_err *err)
{
	cJSON *out = cJSON_CreateArray(), *row = NULL;
	struct tk_buf f;
	size_t i = 0, line = 1, qline = 0;
	bool quoted = false, after_quote = false, any = false;
	int rc = TK_OK;

	*rows = NULL;
	tk_buf_init(&f, TK_CSV_MAX_FIELD);
	if (!out)
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		i = 3;
	for (; i <= len && rc == TK_OK; i++) {
		char c = i < len ? p[i] : '\0';
		bool eof = i == len;
		if (!row && !eof) {
			if (cJSON_GetArraySize(out) >= TK_CSV_MAX_ROWS) {
				rc = tk_seterr(err, TK_ERR_LIMIT, "%s: line %zu: more than %d records", name, line,
					       TK_CSV_MAX_ROWS);
				break;
			}
			row = cJSON_CreateArray();
			any = false;
		}
		if (quoted) {
			if (eof) {
				rc = tk_seterr(err, TK_ERR_PARSE, "%s: line %zu: unterminated quoted field", name,
					       qline);
				break;
			}
			if (c == '"') {
				if (i + 1 < len && p[i + 1] == '"') {
					rc = tk_buf_append(&f, "\"", 1);
					i++;
				} else {
					quoted = false;
					after_quote = true;
				}
			} else {
				if (c == '\n')
					line++;
				rc = tk_buf_append(&f, &c, 1);
			}
			if (rc == TK_ERR_LIMIT)
				tk_seterr(err, rc, "%s: line %zu: field longer than %zu bytes", name, line, TK_CSV_MAX_FIELD);
			continue;
		}
		if (eof || c == '\n' || (c == '\r' && i + 1 < len && p[i + 1] == '\n')) {
			if (row && (any || f.len > 0 || cJSON_GetArraySize(row) > 0 || after_quote)) {
				if ((rc = end_field(row, &f, name, line, err)))
					break;
				cJSON_AddItemToArray(out, row);
			} else
				cJSON_Delete(row);
			row = NULL;
			after_quote = false;
			if (c == '\r')
				i++;
			line++;
			continue;
		}
		any = true;
		if (c == ',') {
			rc = end_field(row, &f, name, line, err);
			after_quote = false;
		} else if (c == '"' && f.len == 0 && !after_quote) {
			quoted = true;
			qline = line;
		} else if (after_quote) {
			rc = tk_seterr(err, TK_ERR_PARSE, "%s: line %zu: text after a closing quote", name, line);
		} else if (c == '"') {
			rc = tk_seterr(err, TK_ERR_PARSE, "%s: line %zu: quote inside an unquoted field", name, line);
		} else {
			rc = tk_buf_append(&f, &c, 1);
			if (rc == TK_ERR_LIMIT)
				tk_seterr(err, rc, "%s: line %zu: field longer than %zu bytes", name, line, TK_CSV_MAX_FIELD);
		}
	}
	cJSON_Delete(row);
	tk_buf_free(&f);
	if (rc) {
		cJSON_Delete(out);
		return rc;
	}
	*rows = out;
	return TK_OK;
}
