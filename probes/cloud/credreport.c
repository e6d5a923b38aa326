/* credreport.c - the IAM credential report CSV (see credreport.h). */
#include "credreport.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws.h"

enum col {
	C_USER,
	C_ARN,
	C_PW_ENABLED,
	C_PW_LAST_USED,
	C_MFA,
	C_K1_ACTIVE,
	C_K1_LAST_USED,
	C_K2_ACTIVE,
	C_K2_LAST_USED,
	C_CREATED,
	C_PW_CHANGED,
	C_K1_ROTATED,
	C_K2_ROTATED,
	C_COUNT
};

static const char *const col_names[C_COUNT] = {
	"user", "arn", "password_enabled", "password_last_used", "mfa_active", "access_key_1_active",
	"access_key_1_last_used_date", "access_key_2_active", "access_key_2_last_used_date", "user_creation_time",
	"password_last_changed", "access_key_1_last_rotated", "access_key_2_last_rotated"};

const char *tk_cr_val_name(enum tk_cr_val v)
{
	switch (v) {
	case TK_CR_TRUE: return "true";
	case TK_CR_FALSE: return "false";
	case TK_CR_NOT_SUPPORTED: return "not_supported";
	case TK_CR_NA: return "N/A";
	case TK_CR_NO_INFO: return "no_information";
	case TK_CR_OTHER: return "other";
	case TK_CR_MISSING: break;
	}
	return "missing";
}

enum tk_cr_val tk_cr_classify(const char *s)
{
	if (!s)
		return TK_CR_MISSING;
	if (strcasecmp(s, "true") == 0)
		return TK_CR_TRUE;
	if (strcasecmp(s, "false") == 0)
		return TK_CR_FALSE;
	if (strcasecmp(s, "not_supported") == 0)
		return TK_CR_NOT_SUPPORTED;
	if (strcasecmp(s, "N/A") == 0)
		return TK_CR_NA;
	if (strcasecmp(s, "no_information") == 0)
		return TK_CR_NO_INFO;
	return TK_CR_OTHER;
}

void tk_credreport_free(struct tk_credreport *r)
{
	size_t i;
	if (!r)
		return;
	for (i = 0; i < r->n; i++) {
		free(r->users[i].user);
		free(r->users[i].arn);
		free(r->users[i].password_last_used);
		free(r->users[i].key1_last_used);
		free(r->users[i].key2_last_used);
	}
	free(r->users);
	free(r);
}

/* One CSV record: cells into cells[] (malloc'd, NUL-terminated), *ncells. */
struct csv {
	const char *p;
	size_t len, i;
	size_t line;
};

static void free_cells(char **cells, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		free(cells[i]);
}

static int read_record(struct csv *c, char **cells, size_t *ncells, struct tk_err *err)
{
	struct tk_buf cell;
	size_t start_line = c->line;
	int rc = TK_OK;
	*ncells = 0;
	tk_buf_init(&cell, TK_CR_MAX_CELL);
	for (;;) {
		bool quoted = false;
		tk_buf_reset(&cell);
		if (tk_buf_append(&cell, "", 0)) {
			rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
			goto fail;
		}
		if (c->i < c->len && c->p[c->i] == '"') {
			quoted = true;
			c->i++;
			for (;;) {
				if (c->i >= c->len) {
					rc = tk_seterr(err, TK_ERR_PARSE, "credential report line %zu: unterminated quoted cell",
						       start_line);
					goto fail;
				}
				if (c->p[c->i] == '"') {
					if (c->i + 1 < c->len && c->p[c->i + 1] == '"') {
						rc = tk_buf_append(&cell, "\"", 1);
						c->i += 2;
					} else {
						c->i++;
						break;
					}
				} else {
					if (c->p[c->i] == '\n')
						c->line++;
					rc = tk_buf_append(&cell, c->p + c->i, 1);
					c->i++;
				}
				if (rc)
					goto cell_limit;
			}
		}
		while (c->i < c->len && c->p[c->i] != ',' && c->p[c->i] != '\n' && c->p[c->i] != '\r') {
			if (quoted) {
				rc = tk_seterr(err, TK_ERR_PARSE, "credential report line %zu: text after a quoted cell",
					       c->line);
				goto fail;
			}
			if ((rc = tk_buf_append(&cell, c->p + c->i, 1)))
				goto cell_limit;
			c->i++;
		}
		if (*ncells >= TK_CR_MAX_COLS) {
			rc = tk_seterr(err, TK_ERR_LIMIT, "credential report line %zu: more than %d columns", c->line,
				       TK_CR_MAX_COLS);
			goto fail;
		}
		if (!(cells[(*ncells)++] = tk_buf_steal(&cell))) {
			rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
			goto fail;
		}
		if (c->i < c->len && c->p[c->i] == ',') {
			c->i++;
			continue;
		}
		if (c->i < c->len && c->p[c->i] == '\r')
			c->i++;
		if (c->i < c->len && c->p[c->i] == '\n')
			c->i++;
		c->line++;
		break;
	}
	tk_buf_free(&cell);
	return TK_OK;
cell_limit:
	rc = tk_seterr(err, rc, "credential report line %zu: a cell exceeds %d bytes", c->line, TK_CR_MAX_CELL);
fail:
	tk_buf_free(&cell);
	free_cells(cells, *ncells);
	*ncells = 0;
	return rc;
}

static int dup_cell(char **dst, char **cells, size_t n, long idx)
{
	if (idx < 0 || (size_t)idx >= n)
		return TK_OK;
	*dst = tk_escape_bytes(cells[idx], strlen(cells[idx]), 512);
	return *dst ? TK_OK : TK_ERR_NOMEM;
}

static enum tk_cr_val val_at(char **cells, size_t n, long idx)
{
	if (idx < 0)
		return TK_CR_MISSING;
	if ((size_t)idx >= n)
		return TK_CR_OTHER; /* the column exists but this short row has no cell */
	return tk_cr_classify(cells[idx]);
}

static time_t time_at(char **cells, size_t n, long idx)
{
	time_t t = 0;
	if (idx < 0 || (size_t)idx >= n || tk_parse_time(cells[idx], &t))
		return 0;
	return t;
}

int tk_credreport_parse(const char *p, size_t len, struct tk_credreport **out, struct tk_err *err)
{
	struct csv c = {p, len, 0, 1};
	struct tk_credreport *r = calloc(1, sizeof(*r));
	char *cells[TK_CR_MAX_COLS];
	size_t n = 0, i, cap = 0, ncols;
	long idx[C_COUNT];
	int rc;
	*out = NULL;
	if (!r)
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	r->root = -1;
	if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		c.i = 3;
	if (c.i >= len) {
		rc = tk_seterr(err, TK_ERR_PARSE, "credential report: empty");
		goto fail;
	}
	if ((rc = read_record(&c, cells, &n, err)))
		goto fail;
	ncols = n;
	for (i = 0; i < C_COUNT; i++) {
		size_t k;
		idx[i] = -1;
		for (k = 0; k < n; k++)
			if (strcasecmp(cells[k], col_names[i]) == 0)
				idx[i] = (long)k;
	}
	free_cells(cells, n);
	if (idx[C_USER] < 0 || idx[C_MFA] < 0) {
		rc = tk_seterr(err, TK_ERR_PARSE,
			       "credential report line 1: the header lacks the \"%s\" column (is this a credential report?)",
			       idx[C_USER] < 0 ? "user" : "mfa_active");
		goto fail;
	}
	while (c.i < len) {
		struct tk_cr_user *u;
		size_t line = c.line;
		if ((rc = read_record(&c, cells, &n, err)))
			goto fail;
		if (n == 1 && cells[0][0] == '\0') { /* blank line */
			free_cells(cells, n);
			continue;
		}
		if (r->n >= TK_CR_MAX_ROWS) {
			free_cells(cells, n);
			rc = tk_seterr(err, TK_ERR_LIMIT, "credential report: more than %d users", TK_CR_MAX_ROWS);
			goto fail;
		}
		if (n != ncols) {
			/* An unquoted comma (IAM allows one in a user name) or a cut row shifts every
			 * later column: judging it could hide a console user without MFA. */
			free_cells(cells, n);
			rc = tk_seterr(err, TK_ERR_PARSE,
				       "credential report line %zu: %zu cells where the header has %zu (an unquoted comma "
				       "in a cell, or a cut row): the report cannot be read reliably",
				       line, n, ncols);
			goto fail;
		}
		if (r->n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			struct tk_cr_user *nu = realloc(r->users, nc * sizeof(*nu));
			if (!nu) {
				free_cells(cells, n);
				rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
				goto fail;
			}
			r->users = nu;
			cap = nc;
		}
		u = &r->users[r->n++];
		memset(u, 0, sizeof(*u));
		u->is_root = strcmp(cells[idx[C_USER]], "<root_account>") == 0;
		u->password_enabled = val_at(cells, n, idx[C_PW_ENABLED]);
		u->mfa_active = val_at(cells, n, idx[C_MFA]);
		u->key1_active = val_at(cells, n, idx[C_K1_ACTIVE]);
		u->key2_active = val_at(cells, n, idx[C_K2_ACTIVE]);
		u->password_last_used_t = time_at(cells, n, idx[C_PW_LAST_USED]);
		u->key1_last_used_t = time_at(cells, n, idx[C_K1_LAST_USED]);
		u->key2_last_used_t = time_at(cells, n, idx[C_K2_LAST_USED]);
		u->created_t = time_at(cells, n, idx[C_CREATED]);
		u->password_changed_t = time_at(cells, n, idx[C_PW_CHANGED]);
		u->key1_rotated_t = time_at(cells, n, idx[C_K1_ROTATED]);
		u->key2_rotated_t = time_at(cells, n, idx[C_K2_ROTATED]);
		rc = dup_cell(&u->user, cells, n, idx[C_USER]);
		if (!rc)
			rc = dup_cell(&u->arn, cells, n, idx[C_ARN]);
		if (!rc)
			rc = dup_cell(&u->password_last_used, cells, n, idx[C_PW_LAST_USED]);
		if (!rc)
			rc = dup_cell(&u->key1_last_used, cells, n, idx[C_K1_LAST_USED]);
		if (!rc)
			rc = dup_cell(&u->key2_last_used, cells, n, idx[C_K2_LAST_USED]);
		free_cells(cells, n);
		if (rc) {
			rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
			goto fail;
		}
		if (u->is_root) {
			if (r->root >= 0) {
				rc = tk_seterr(err, TK_ERR_PARSE, "credential report line %zu: a second <root_account> row",
					       line);
				goto fail;
			}
			r->root = (long)(r->n - 1);
		}
	}
	*out = r;
	return TK_OK;
fail:
	tk_credreport_free(r);
	return rc;
}
