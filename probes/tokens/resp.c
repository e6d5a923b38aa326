/* resp.c - RESP2 reply parser (bounded) and command encoder. */
#include "resp.h"

#include <stdlib.h>
#include <string.h>

struct rp {
	const char *p;
	size_t len, off, max_bulk;
	size_t elems;
};

/* Read a CRLF-terminated line starting at off; returns its length or an error. */
static int read_line(struct rp *r, const char **line, size_t *ll)
{
	const char *s = r->p + r->off;
	size_t left = r->len - r->off, i;
	for (i = 0; i + 1 < left; i++) {
		if (s[i] == '\r') {
			if (s[i + 1] != '\n')
				return TK_ERR_PARSE;
			*line = s;
			*ll = i;
			r->off += i + 2;
			return TK_OK;
		}
		if (s[i] == '\n')
			return TK_ERR_PARSE;
		if (i > 65536)
			return TK_ERR_LIMIT; /* no header or simple string is this long */
	}
	return left > 65538 ? TK_ERR_LIMIT : TK_RESP_INCOMPLETE;
}

static int parse_int(const char *s, size_t n, long long *out)
{
	long long v = 0;
	size_t i = 0;
	int neg = 0;
	if (n == 0 || n > 20)
		return TK_ERR_PARSE;
	if (s[0] == '-') {
		neg = 1;
		i = 1;
		if (n == 1)
			return TK_ERR_PARSE;
	}
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return TK_ERR_PARSE;
		if (v > (9223372036854775807LL - (s[i] - '0')) / 10)
			return TK_ERR_PARSE;
		v = v * 10 + (s[i] - '0');
	}
	*out = neg ? -v : v;
	return TK_OK;
}

static int parse_value(struct rp *r, int depth, struct tk_resp **out)
{
	const char *line;
	size_t ll;
	long long n;
	int rc;
	struct tk_resp *v;
	char t;
	*out = NULL;
	if (depth > TK_RESP_MAX_DEPTH)
		return TK_ERR_LIMIT;
	if (r->off >= r->len)
		return TK_RESP_INCOMPLETE;
	if ((rc = read_line(r, &line, &ll)))
		return rc;
	if (ll == 0)
		return TK_ERR_PARSE;
	t = line[0];
	if (!(v = calloc(1, sizeof(*v))))
		return TK_ERR_NOMEM;
	v->type = t;
	switch (t) {
	case '+':
	case '-':
		if (!(v->str = malloc(ll))) {
			rc = TK_ERR_NOMEM;
			break;
		}
		memcpy(v->str, line + 1, ll - 1);
		v->str[ll - 1] = '\0';
		v->len = ll - 1;
		break;
	case ':':
		rc = parse_int(line + 1, ll - 1, &v->integer);
		break;
	case '$':
		if ((rc = parse_int(line + 1, ll - 1, &n)))
			break;
		if (n == -1) {
			v->is_null = 1;
			break;
		}
		if (n < 0) {
			rc = TK_ERR_PARSE;
			break;
		}
		if ((unsigned long long)n > r->max_bulk) {
			rc = TK_ERR_LIMIT;
			break;
		}
		if (r->len - r->off < (size_t)n + 2) {
			rc = TK_RESP_INCOMPLETE;
			break;
		}
		if (r->p[r->off + (size_t)n] != '\r' || r->p[r->off + (size_t)n + 1] != '\n') {
			rc = TK_ERR_PARSE;
			break;
		}
		if (!(v->str = malloc((size_t)n + 1))) {
			rc = TK_ERR_NOMEM;
			break;
		}
		memcpy(v->str, r->p + r->off, (size_t)n);
		v->str[n] = '\0';
		v->len = (size_t)n;
		r->off += (size_t)n + 2;
		break;
	case '*':
		if ((rc = parse_int(line + 1, ll - 1, &n)))
			break;
		if (n == -1) {
			v->is_null = 1;
			break;
		}
		if (n < 0) {
			rc = TK_ERR_PARSE;
			break;
		}
		/* each element needs at least 3 bytes: bound the count by what can follow */
		if ((unsigned long long)n > TK_RESP_MAX_ELEMS || r->elems + (size_t)n > TK_RESP_MAX_ELEMS) {
			rc = TK_ERR_LIMIT;
			break;
		}
		if ((size_t)n > (r->len - r->off) / 3 + 1) {
			rc = TK_RESP_INCOMPLETE;
			break;
		}
		r->elems += (size_t)n;
		if (n > 0 && !(v->elems = calloc((size_t)n, sizeof(*v->elems)))) {
			rc = TK_ERR_NOMEM;
			break;
		}
		for (; v->n < (size_t)n; v->n++)
			if ((rc = parse_value(r, depth + 1, &v->elems[v->n])))
				break;
		break;
	default:
		rc = TK_ERR_PARSE;
	}
	if (rc) {
		tk_resp_free(v);
		return rc;
	}
	*out = v;
	return TK_OK;
}

int tk_resp_parse(const char *p, size_t len, size_t max_bulk, struct tk_resp **out, size_t *used)
{
	struct rp r = {p, len, 0, max_bulk, 0};
	int rc = parse_value(&r, 0, out);
	*used = rc == TK_OK ? r.off : 0;
	return rc;
}

void tk_resp_free(struct tk_resp *r)
{
	size_t i;
	if (!r)
		return;
	for (i = 0; i < r->n; i++)
		tk_resp_free(r->elems[i]);
	free(r->elems);
	free(r->str);
	free(r);
}

int tk_resp_command(struct tk_buf *b, int argc, const char *const *argv, const size_t *lens)
{
	int i, rc;
	if ((rc = tk_buf_printf(b, "*%d\r\n", argc)))
		return rc;
	for (i = 0; i < argc; i++) {
		size_t l = lens ? lens[i] : strlen(argv[i]);
		if ((rc = tk_buf_printf(b, "$%zu\r\n", l)) || (rc = tk_buf_append(b, argv[i], l)) ||
		    (rc = tk_buf_puts(b, "\r\n")))
			return rc;
	}
	return TK_OK;
}
