/*
 * resp.h - a bounded parser for RESP2 replies (the Redis protocol) and an
 * encoder for commands. Replies come from the network: every length, count
 * and nesting level is checked against a limit before anything is allocated.
 */
#ifndef TK_RESP_H
#define TK_RESP_H

#include <stddef.h>

#include "tk.h"

#define TK_RESP_MAX_DEPTH 8
#define TK_RESP_MAX_ELEMS 1000000
#define TK_RESP_INCOMPLETE (-1) /* returned when more bytes are needed */

enum tk_resp_type { TK_RESP_SIMPLE = '+', TK_RESP_ERROR = '-', TK_RESP_INT = ':', TK_RESP_BULK = '$',
		    TK_RESP_ARRAY = '*' };

struct tk_resp {
	char type;               /* enum tk_resp_type */
	long long integer;       /* TK_RESP_INT */
	char *str;               /* simple, error, bulk (NUL-terminated, may contain NULs) */
	size_t len;
	int is_null;             /* $-1 or *-1 */
	struct tk_resp **elems;  /* TK_RESP_ARRAY */
	size_t n;
};

/*
 * Parse one reply from p (len bytes). max_bulk bounds each bulk string.
 * Returns TK_OK with *out and *used (bytes consumed), TK_RESP_INCOMPLETE
 * when p holds only part of a reply, TK_ERR_PARSE for malformed input,
 * TK_ERR_LIMIT when a bound is exceeded.
 */
int tk_resp_parse(const char *p, size_t len, size_t max_bulk, struct tk_resp **out, size_t *used);
void tk_resp_free(struct tk_resp *r);

/* Append a command as a RESP array of bulk strings. */
int tk_resp_command(struct tk_buf *b, int argc, const char *const *argv, const size_t *lens);

#endif
