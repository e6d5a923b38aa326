/*
 * credreport.h - the AWS IAM credential report (CSV, RFC 4180), from
 * GetCredentialReport (base64-decoded) or a partner's export. Columns are
 * found by header name; the root row's user is "<root_account>"; boolean
 * cells are true/false/not_supported/N/A/no_information in any case.
 * Every row must have exactly as many cells as the header (RFC 4180 quoting;
 * a row with more or fewer cells is an error naming the line, never guessed).
 * Bounded: rows, columns and cell sizes; errors name the line.
 */
#ifndef TK_CREDREPORT_H
#define TK_CREDREPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "tk.h"

#define TK_CR_MAX_ROWS 100000
#define TK_CR_MAX_COLS 64
#define TK_CR_MAX_CELL 4096

enum tk_cr_val {
	TK_CR_MISSING = 0,   /* no such column */
	TK_CR_TRUE,
	TK_CR_FALSE,
	TK_CR_NOT_SUPPORTED, /* e.g. the root row's password_enabled */
	TK_CR_NA,
	TK_CR_NO_INFO,
	TK_CR_OTHER          /* a value that is none of the above (a date, or junk) */
};

struct tk_cr_user {
	char *user;
	char *arn;
	bool is_root;
	enum tk_cr_val password_enabled, mfa_active, key1_active, key2_active;
	/* last-use cells: the raw text (escaped, bounded) and the parsed time when it is a date */
	char *password_last_used, *key1_last_used, *key2_last_used;
	time_t password_last_used_t, key1_last_used_t, key2_last_used_t; /* 0: not a date */
	/* user_creation_time, password_last_changed, access_key_{1,2}_last_rotated (0: absent / not a date) */
	time_t created_t, password_changed_t, key1_rotated_t, key2_rotated_t;
};

struct tk_credreport {
	struct tk_cr_user *users;
	size_t n;
	long root;           /* index of the root row, -1 when absent */
};

int tk_credreport_parse(const char *p, size_t len, struct tk_credreport **out, struct tk_err *err);
void tk_credreport_free(struct tk_credreport *r);
const char *tk_cr_val_name(enum tk_cr_val v);
/* Classify one cell (case-insensitive). */
enum tk_cr_val tk_cr_classify(const char *s);

#endif
