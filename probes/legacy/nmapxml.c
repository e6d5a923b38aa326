/*
 * nmapxml.c - see nmapxml.h. One pass over the bytes: markup is recognised
 * tag by tag, attributes are decoded into fixed buffers (longer values are
 * cut), and only the elements tenken needs change the result.
 */
#include "nmapxml.h"

#include <stdlib.h>
#include <string.h>

struct attr {
	char name[32];
	char value[256];
};

#define MAX_ATTRS 16

struct tag {
	char name[32];
	bool end, empty;
	int nattrs;
	struct attr attrs[MAX_ATTRS];
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_name(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
	       c == '-' || c == ':' || c == '.';
}

/* Decode character data s[0..n) (entities, char refs) into out (bounded, NUL-terminated). */
static void decode(const char *s, size_t n, char *out, size_t size)
{
	size_t i = 0, o = 0;
	while (i < n && o + 1 < size) {
		if (s[i] == '&') {
			char u[4];
			size_t ul = 0, used = tk_xml_entity(s + i, n - i, u, &ul);
			if (used && o + ul < size) {
				memcpy(out + o, u, ul);
				o += ul;
				i += used;
				continue;
			}
		}
		out[o++] = s[i++];
	}
	out[o] = '\0';
}

static void copy_name(const char *s, size_t n, char *out, size_t size)
{
	if (n >= size)
		n = size - 1;
	memcpy(out, s, n);
	out[n] = '\0';
}

/* Parse the markup between '<' and '>' (exclusive): p[0..n). */
static bool parse_tag(const char *p, size_t n, struct tag *t)
{
	size_t i = 0, s;
	memset(t, 0, sizeof(*t));
	if (i < n && p[i] == '/') {
		t->end = true;
		i++;
	}
	s = i;
	while (i < n && is_name(p[i]))
		i++;
	if (i == s)
		return false;
	copy_name(p + s, i - s, t->name, sizeof(t->name));
	if (n > 0 && p[n - 1] == '/') {
		t->empty = true;
		n--;
	}
	while (i < n) {
		size_t ns, ne, vs;
		char q;
		while (i < n && is_space(p[i]))
			i++;
		if (i >= n)
			break;
		ns = i;
		while (i < n && is_name(p[i]))
			i++;
		ne = i;
		if (ne == ns)
			return false;
		while (i < n && is_space(p[i]))
			i++;
		if (i >= n || p[i] != '=')
			return false;
		i++;
		while (i < n && is_space(p[i]))
			i++;
		if (i >= n || (p[i] != '"' && p[i] != '\''))
			return false;
		q = p[i++];
		vs = i;
		while (i < n && p[i] != q)
			i++;
		if (i >= n)
			return false;
		if (t->nattrs < MAX_ATTRS) {
			struct attr *a = &t->attrs[t->nattrs++];
			copy_name(p + ns, ne - ns, a->name, sizeof(a->name));
			decode(p + vs, i - vs, a->value, sizeof(a->value));
		}
		i++;
	}
	return true;
}

static const char *attr(const struct tag *t, const char *name)
{
	int i;
	for (i = 0; i < t->nattrs; i++)
		if (strcmp(t->attrs[i].name, name) == 0)
			return t->attrs[i].value;
	return NULL;
}

static void set(char *dst, size_t size, const char *v)
{
	if (v)
		tk_strlcpy(dst, v, size);
}

void tk_nmap_result_free(struct tk_nmap_result *r)
{
	size_t i;
	if (!r)
		return;
	for (i = 0; i < r->nhosts; i++)
		free(r->hosts[i].ports);
	free(r->hosts);
	free(r);
}

static const char *find(const char *p, const char *end, const char *needle)
{
	size_t nl = strlen(needle);
	while (p && p + nl <= end) {
		const char *q = memchr(p, needle[0], (size_t)(end - p));
		if (!q || q + nl > end)
			return NULL;
		if (memcmp(q, needle, nl) == 0)
			return q;
		p = q + 1;
	}
	return NULL;
}

/* Reader state while walking the document. */
struct px {
	struct tk_nmap_result *r;
	struct tk_nmap_host *host;
	struct tk_nmap_port *port;
	bool in_service, in_cpe, in_nmaprun;
	const char *cpe_start;
	size_t total_ports;
};

/*
 * The next tag at or after cur: 1 = a tag between *lt and *gt; 0 = skipped
 * something (comment, CDATA, declaration, stray '<'), go on from *next;
 * -1 = no more tags, or the input is truncated.
 */
static int next_tag(const char *cur, const char *end, const char **lt, const char **gt, const char **next)
{
	const char *l = memchr(cur, '<', (size_t)(end - cur)), *q, *c;
	char quote = 0;
	if (!l)
		return -1;
	*lt = l;
	if (end - l >= 4 && memcmp(l, "<!--", 4) == 0) {
		if (!(c = find(l + 4, end, "-->")))
			return -1;
		*next = c + 3;
		return 0;
	}
	if (end - l >= 9 && memcmp(l, "<![CDATA[", 9) == 0) {
		if (!(c = find(l + 9, end, "]]>")))
			return -1;
		*next = c + 3;
		return 0;
	}
	if (end - l >= 2 && (l[1] == '?' || l[1] == '!')) {
		if (!(c = memchr(l, '>', (size_t)(end - l))))
			return -1;
		*next = c + 1;
		return 0;
	}
	/* A tag: find its '>' outside quotes. */
	for (q = l + 1; q < end; q++) {
		if (quote) {
			if (*q == quote)
				quote = 0;
		} else if (*q == '"' || *q == '\'') {
			quote = *q;
		} else if (*q == '>') {
			*gt = q;
			*next = q + 1;
			return 1;
		} else if (*q == '<') {
			break;
		}
	}
	if (q >= end)
		return -1; /* truncated */
	*next = q;         /* stray '<': resynchronise */
	return 0;
}

static void end_tag(struct px *x, const struct tag *t)
{
	if (strcmp(t->name, "host") == 0) {
		x->host = NULL;
		x->port = NULL;
	} else if (strcmp(t->name, "port") == 0) {
		x->port = NULL;
		x->in_service = false;
	} else if (strcmp(t->name, "service") == 0) {
		x->in_service = false;
	} else if (strcmp(t->name, "nmaprun") == 0 && x->in_nmaprun) {
		x->r->complete = true;
	}
}

static int open_host(struct px *x, const struct tag *t)
{
	struct tk_nmap_result *r = x->r;
	x->port = NULL;
	x->host = NULL;
	if (r->nhosts >= TK_NMAP_MAX_HOSTS) {
		r->truncated = true;
		return TK_OK;
	}
	if (r->nhosts == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 16;
		struct tk_nmap_host *nh = realloc(r->hosts, nc * sizeof(*nh));
		if (!nh)
			return TK_ERR_NOMEM;
		r->hosts = nh;
		r->cap = nc;
	}
	x->host = &r->hosts[r->nhosts++];
	memset(x->host, 0, sizeof(*x->host));
	if (t->empty)
		x->host = NULL;
	return TK_OK;
}

static int open_port(struct px *x, const struct tag *t)
{
	struct tk_nmap_host *host = x->host;
	long long pid;
	const char *ps = attr(t, "portid");
	x->port = NULL;
	x->in_service = false;
	if (!ps || tk_parse_ll(ps, 1, 65535, &pid))
		return TK_OK;
	if (x->total_ports >= TK_NMAP_MAX_PORTS_TOTAL) {
		x->r->truncated = true;
		return TK_OK;
	}
	if (host->nports == host->cap) {
		size_t nc = host->cap ? host->cap * 2 : 8;
		struct tk_nmap_port *np = realloc(host->ports, nc * sizeof(*np));
		if (!np)
			return TK_ERR_NOMEM;
		host->ports = np;
		host->cap = nc;
	}
	x->port = &host->ports[host->nports++];
	x->total_ports++;
	memset(x->port, 0, sizeof(*x->port));
	x->port->portid = (uint16_t)pid;
	set(x->port->proto, sizeof(x->port->proto), attr(t, "protocol"));
	if (t->empty)
		x->port = NULL;
	return TK_OK;
}

static void open_service(struct px *x, const struct tag *t)
{
	struct tk_nmap_port *port = x->port;
	const char *conf = attr(t, "conf");
	long long cv = 0;
	set(port->service, sizeof(port->service), attr(t, "name"));
	set(port->product, sizeof(port->product), attr(t, "product"));
	set(port->version, sizeof(port->version), attr(t, "version"));
	set(port->extrainfo, sizeof(port->extrainfo), attr(t, "extrainfo"));
	set(port->method, sizeof(port->method), attr(t, "method"));
	if (conf && tk_parse_ll(conf, 0, 10, &cv) == TK_OK)
		port->conf = (int)cv;
	x->in_service = !t->empty;
}

/* A start tag; cur is just past it (where a <cpe>'s text begins). */
static int start_tag(struct px *x, const struct tag *t, const char *cur)
{
	if (strcmp(t->name, "nmaprun") == 0) {
		x->in_nmaprun = true;
	} else if (strcmp(t->name, "host") == 0) {
		return open_host(x, t);
	} else if (strcmp(t->name, "status") == 0 && x->host) {
		set(x->host->status, sizeof(x->host->status), attr(t, "state"));
	} else if (strcmp(t->name, "address") == 0 && x->host) {
		const char *at = attr(t, "addrtype");
		if (at && (strcmp(at, "ipv4") == 0 || strcmp(at, "ipv6") == 0) && !x->host->addr[0]) {
			set(x->host->addr, sizeof(x->host->addr), attr(t, "addr"));
			set(x->host->addrtype, sizeof(x->host->addrtype), at);
		}
	} else if (strcmp(t->name, "port") == 0 && x->host) {
		return open_port(x, t);
	} else if (strcmp(t->name, "state") == 0 && x->port) {
		set(x->port->state, sizeof(x->port->state), attr(t, "state"));
	} else if (strcmp(t->name, "service") == 0 && x->port) {
		open_service(x, t);
	} else if (strcmp(t->name, "cpe") == 0 && x->port && x->in_service && !t->empty) {
		x->in_cpe = true;
		x->cpe_start = cur;
	} else if (strcmp(t->name, "finished") == 0) {
		set(x->r->exit_status, sizeof(x->r->exit_status), attr(t, "exit"));
	}
	return TK_OK;
}

/* The text of an open <cpe> element ends at lt. */
static void close_cpe(struct px *x, const char *lt)
{
	struct tk_nmap_port *port = x->port;
	if (x->in_cpe && port && x->cpe_start && port->ncpe < TK_NMAP_MAX_CPE) {
		decode(x->cpe_start, (size_t)(lt - x->cpe_start), port->cpe[port->ncpe], sizeof(port->cpe[0]));
		if (port->cpe[port->ncpe][0])
			port->ncpe++;
	}
	x->in_cpe = false;
	x->cpe_start = NULL;
}

int tk_nmapxml_parse(const char *p, size_t len, struct tk_nmap_result **out, struct tk_err *err)
{
	struct px x;
	const char *end = p + len, *cur = p;
	struct tag t;

	*out = NULL;
	memset(&x, 0, sizeof(x));
	if (!(x.r = calloc(1, sizeof(*x.r))))
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	while (cur < end) {
		const char *lt = NULL, *gt = NULL, *next = NULL;
		int k = next_tag(cur, end, &lt, &gt, &next);
		if (lt && x.in_cpe)
			close_cpe(&x, lt);
		if (k < 0)
			break;
		cur = next;
		if (k == 0 || !parse_tag(lt + 1, (size_t)(gt - lt - 1), &t))
			continue; /* skipped, or a malformed tag */
		if (t.end)
			end_tag(&x, &t);
		else if (start_tag(&x, &t, cur) != TK_OK) {
			tk_nmap_result_free(x.r);
			return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		}
	}
	*out = x.r;
	return TK_OK;
}
