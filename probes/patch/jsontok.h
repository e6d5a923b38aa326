/*
 * jsontok.h - a pull tokenizer for JSON (RFC 8259) over a caller's buffer:
 * no DOM, so a large feed costs only what the caller keeps. Used by the
 * Debian tracker and NVD readers (vulnfeed.c). Errors are TK_ERR_PARSE in
 * t->err naming t->name and the byte offset ("input ends early ... (truncated?)"
 * when the buffer ends inside a value).
 *
 * The tokenizer borrows the buffer (p, len) and the error (err); it owns
 * nothing. Depth is bounded by TK_JT_MAX_DEPTH in tk_jt_skip().
 */
#ifndef TK_JSONTOK_H
#define TK_JSONTOK_H

#include <stdbool.h>
#include <stddef.h>
#include "tk.h"

#define TK_JT_MAX_DEPTH 64

struct tk_jt {
	const char *p;
	size_t len, i;
	const char *name;
	struct tk_err *err;
};

/* Record a parse error at the current offset; returns TK_ERR_PARSE. */
int tk_jt_fail(struct tk_jt *t, const char *what);
/* Skip whitespace. */
void tk_jt_ws(struct tk_jt *t);
/* The next non-blank byte (not consumed), or -1 at the end. */
int tk_jt_peek(struct tk_jt *t);
int tk_jt_hex4(struct tk_jt *t, unsigned *out);
/* A string, decoded into out[cap] when out is non-NULL; *too_long when it did not fit (still consumed). */
int tk_jt_string(struct tk_jt *t, char *out, size_t cap, bool *too_long);
/* Iterate an object: *first = true at '{'; 1 with the key decoded, 0 at '}', -1 with *rc on error. */
int tk_jt_member(struct tk_jt *t, bool *first, char *key, size_t cap, bool *too_long, int *rc);
int tk_jt_literal(struct tk_jt *t, const char *lit);
/* Skip one value (depth: the nesting so far). */
int tk_jt_skip(struct tk_jt *t, int depth);
/* A string value into buf, or skip a non-string (then *is_str false). */
int tk_jt_str_or_skip(struct tk_jt *t, char *buf, size_t cap, bool *is_str, bool *too_long);
/* Iterate an array: *first = true at '['; 1 when an element follows, 0 at ']', -1 with *rc on error. */
int tk_jt_elem(struct tk_jt *t, bool *first, int *rc);
/* A number (*is_num false and the value skipped when it is not one). */
int tk_jt_number(struct tk_jt *t, double *out, bool *is_num);
/* true -> *out true; anything else is skipped as "not true". */
int tk_jt_bool(struct tk_jt *t, bool *out);

#endif
