/* awsxml.c - the bounded XML reader (see awsxml.h). */
#include "awsxml.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct xp {
	const char *p;
	size_t len, i;
	size_t nodes;
	struct tk_err *err;
};

static const char *find_seq(const char *h, size_t hl, const char *n, size_t nl)
{
	size_t i;
	for (i = 0; hl >= nl && i <= hl - nl; i++)
		if (h[i] == n[0] && memcmp(h + i, n, nl) == 0)
			return h + i;
	return NULL;
}

static bool is_name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
	       c == '-' || c == '.' || c == ':' || c >= 0x80;
}

static int fail(struct xp *x, const char *what)
{
	return tk_seterr(x->err, TK_ERR_PARSE, "XML: %s at byte %zu", what, x->i);
}

void tk_xml_free(struct tk_xml_node *n)
{
	/* iterative over siblings, recursive over children (depth is bounded) */
	while (n) {
		struct tk_xml_node *next = n->next;
		tk_xml_free(n->child);
		free(n->name);
		free(n->text);
		free(n);
		n = next;
	}
}

static int text_append(struct tk_xml_node *n, const char *s, size_t len)
{
	if (n->text_len + len + 1 > n->text_cap) {
		size_t cap = n->text_cap ? n->text_cap : 16;
		char *t;
		while (cap < n->text_len + len + 1)
			cap *= 2;
		if (!(t = realloc(n->text, cap)))
			return TK_ERR_NOMEM;
		n->text = t;
		n->text_cap = cap;
	}
	memcpy(n->text + n->text_len, s, len);
	n->text_len += len;
	n->text[n->text_len] = '\0';
	return TK_OK;
}

/* Decode text from x->i up to the next '<' into n. */
static int read_text(struct xp *x, struct tk_xml_node *n)
{
	while (x->i < x->len && x->p[x->i] != '<') {
		size_t start = x->i;
		while (x->i < x->len && x->p[x->i] != '<' && x->p[x->i] != '&')
			x->i++;
		if (n && x->i > start && text_append(n, x->p + start, x->i - start))
			return tk_seterr(x->err, TK_ERR_NOMEM, "out of memory");
		if (x->i < x->len && x->p[x->i] == '&') {
			char buf[4];
			size_t blen = 0, used = tk_xml_entity(x->p + x->i, x->len - x->i, buf, &blen);
			if (!used)
				return fail(x, "unknown entity or bad character reference");
			if (n && text_append(n, buf, blen))
				return tk_seterr(x->err, TK_ERR_NOMEM, "out of memory");
			x->i += used;
		}
	}
	return TK_OK;
}

/* Skip <?...?>, <!--...-->, <!DOCTYPE ...>; x->i at '<'. Returns 1 if skipped. */
static int skip_misc(struct xp *x)
{
	const char *s = x->p + x->i;
	size_t rest = x->len - x->i;
	const char *end;
	if (rest >= 2 && s[1] == '?') {
		end = find_seq(s, rest, "?>", 2);
		if (!end)
			return -fail(x, "unterminated processing instruction");
		x->i += (size_t)(end - s) + 2;
		return 1;
	}
	if (rest >= 4 && memcmp(s, "<!--", 4) == 0) {
		end = find_seq(s + 4, rest - 4, "-->", 3);
		if (!end)
			return -fail(x, "unterminated comment");
		x->i += (size_t)(end - s) + 3;
		return 1;
	}
	if (rest >= 9 && memcmp(s, "<!DOCTYPE", 9) == 0) {
		end = memchr(s, '>', rest);
		if (!end || memchr(s, '[', (size_t)(end - s)))
			return -fail(x, "DOCTYPE with an internal subset is not accepted");
		x->i += (size_t)(end - s) + 1;
		return 1;
	}
	return 0;
}

static int read_name(struct xp *x, char **out)
{
	size_t start = x->i, colon = (size_t)-1;
	while (x->i < x->len && is_name_char((unsigned char)x->p[x->i])) {
		if (x->p[x->i] == ':')
			colon = x->i;
		x->i++;
	}
	if (x->i == start || x->i - start > 256)
		return fail(x, "bad element name");
	if (colon != (size_t)-1)
		start = colon + 1;
	if (x->i == start)
		return fail(x, "bad element name");
	*out = strndup(x->p + start, x->i - start);
	return *out ? TK_OK : tk_seterr(x->err, TK_ERR_NOMEM, "out of memory");
}

/* Skip attributes up to '>' or '/>'; sets *empty. */
static int skip_attrs(struct xp *x, bool *empty)
{
	*empty = false;
	while (x->i < x->len) {
		char c = x->p[x->i];
		if (c == '"' || c == '\'') {
			const char *end = memchr(x->p + x->i + 1, c, x->len - x->i - 1);
			if (!end)
				return fail(x, "unterminated attribute value");
			x->i = (size_t)(end - x->p) + 1;
			continue;
		}
		if (c == '<')
			return fail(x, "'<' inside a tag");
		if (c == '/' && x->i + 1 < x->len && x->p[x->i + 1] == '>') {
			*empty = true;
			x->i += 2;
			return TK_OK;
		}
		if (c == '>') {
			x->i++;
			return TK_OK;
		}
		x->i++;
	}
	return fail(x, "unterminated tag");
}

/* Parse one element starting at '<name'. */
static int parse_elem(struct xp *x, int depth, struct tk_xml_node **out)
{
	struct tk_xml_node *n, **tail;
	bool empty;
	int rc;
	*out = NULL;
	if (depth > TK_XML_MAX_DEPTH)
		return fail(x, "elements nested too deeply");
	if (++x->nodes > TK_XML_MAX_NODES)
		return tk_seterr(x->err, TK_ERR_LIMIT, "XML: more than %d elements", TK_XML_MAX_NODES);
	if (!(n = calloc(1, sizeof(*n))))
		return tk_seterr(x->err, TK_ERR_NOMEM, "out of memory");
	x->i++; /* '<' */
	if ((rc = read_name(x, &n->name)) || (rc = skip_attrs(x, &empty)))
		goto fail;
	if (text_append(n, "", 0)) {
		rc = tk_seterr(x->err, TK_ERR_NOMEM, "out of memory");
		goto fail;
	}
	if (empty) {
		*out = n;
		return TK_OK;
	}
	tail = &n->child;
	for (;;) {
		int s;
		if ((rc = read_text(x, n)))
			goto fail;
		if (x->i >= x->len) {
			rc = fail(x, "unexpected end of document");
			goto fail;
		}
		if (x->len - x->i >= 9 && memcmp(x->p + x->i, "<![CDATA[", 9) == 0) {
			const char *end = find_seq(x->p + x->i + 9, x->len - x->i - 9, "]]>", 3);
			if (!end) {
				rc = fail(x, "unterminated CDATA");
				goto fail;
			}
			if (text_append(n, x->p + x->i + 9, (size_t)(end - (x->p + x->i + 9)))) {
				rc = tk_seterr(x->err, TK_ERR_NOMEM, "out of memory");
				goto fail;
			}
			x->i = (size_t)(end - x->p) + 3;
			continue;
		}
		if ((s = skip_misc(x)) < 0) {
			rc = -s;
			goto fail;
		}
		if (s > 0)
			continue;
		if (x->i + 1 < x->len && x->p[x->i + 1] == '/') {
			char *close = NULL;
			size_t at = x->i;
			x->i += 2;
			if ((rc = read_name(x, &close)))
				goto fail;
			if (strcmp(close, n->name) != 0) {
				free(close);
				x->i = at;
				rc = fail(x, "mismatched closing tag");
				goto fail;
			}
			free(close);
			while (x->i < x->len && (x->p[x->i] == ' ' || x->p[x->i] == '\t' || x->p[x->i] == '\r' ||
						 x->p[x->i] == '\n'))
				x->i++;
			if (x->i >= x->len || x->p[x->i] != '>') {
				rc = fail(x, "bad closing tag");
				goto fail;
			}
			x->i++;
			*out = n;
			return TK_OK;
		}
		if ((rc = parse_elem(x, depth + 1, tail)))
			goto fail;
		tail = &(*tail)->next;
	}
fail:
	tk_xml_free(n);
	return rc;
}

int tk_xml_parse(const char *p, size_t len, struct tk_xml_node **root, struct tk_err *err)
{
	struct xp x = {p, len, 0, 0, err};
	int rc, s;
	*root = NULL;
	if (memchr(p, '\0', len)) {
		x.i = (size_t)((const char *)memchr(p, '\0', len) - p);
		return fail(&x, "NUL byte (not allowed in XML)");
	}
	if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		x.i = 3;
	for (;;) {
		while (x.i < len && (p[x.i] == ' ' || p[x.i] == '\t' || p[x.i] == '\r' || p[x.i] == '\n'))
			x.i++;
		if (x.i >= len)
			return fail(&x, "no root element");
		if (p[x.i] != '<')
			return fail(&x, "text before the root element");
		if ((s = skip_misc(&x)) < 0)
			return -s;
		if (s == 0)
			break;
	}
	if ((rc = parse_elem(&x, 1, root)))
		return rc;
	while (x.i < len) {
		if (p[x.i] == '<') {
			if ((s = skip_misc(&x)) < 0) {
				rc = -s;
				goto bad;
			}
			if (s > 0)
				continue;
		}
		if (p[x.i] != ' ' && p[x.i] != '\t' && p[x.i] != '\r' && p[x.i] != '\n') {
			rc = fail(&x, "content after the root element");
			goto bad;
		}
		x.i++;
	}
	return TK_OK;
bad:
	tk_xml_free(*root);
	*root = NULL;
	return rc;
}

const struct tk_xml_node *tk_xml_find(const struct tk_xml_node *n, const char *path)
{
	const char *p = path;
	while (n && *p) {
		const char *slash = strchr(p, '/');
		size_t l = slash ? (size_t)(slash - p) : strlen(p);
		const struct tk_xml_node *c;
		for (c = n->child; c; c = c->next)
			if (strlen(c->name) == l && memcmp(c->name, p, l) == 0)
				break;
		n = c;
		p += l;
		if (*p == '/')
			p++;
	}
	return n;
}

const char *tk_xml_text(const struct tk_xml_node *n, const char *path)
{
	const struct tk_xml_node *f = tk_xml_find(n, path);
	return f ? f->text : NULL;
}

const struct tk_xml_node *tk_xml_next_same(const struct tk_xml_node *n)
{
	const struct tk_xml_node *c;
	if (!n)
		return NULL;
	for (c = n->next; c; c = c->next)
		if (strcmp(c->name, n->name) == 0)
			return c;
	return NULL;
}
