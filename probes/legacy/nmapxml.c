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

int tk_nmapxml_parse(const char *p, size_t len, struct tk_nmap_result **out, struct tk_err *err)
{
	struct tk_nmap_result *r = calloc(1, sizeof(*r));
	const char *end = p + len, *cur = p;
	struct tk_nmap_host *host = NULL;
	struct tk_nmap_port *port = NULL;
	bool in_service = false, in_cpe = false, in_nmaprun = false;
	const char *cpe_start = NULL;
	size_t total_ports = 0;
	struct tag t;
	int rc = TK_OK;

	*out = NULL;
	if (!r)
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	while (cur < end) {
		const char *lt = memchr(cur, '<', (size_t)(end - cur)), *gt;
		if (!lt)
			break;
		if (in_cpe && port && cpe_start) {
			if (port->ncpe < TK_NMAP_MAX_CPE) {
				decode(cpe_start, (size_t)(lt - cpe_start), port->cpe[port->ncpe], sizeof(port->cpe[0]));
				if (port->cpe[port->ncpe][0])
					port->ncpe++;
			}
			in_cpe = false;
			cpe_start = NULL;
		}
		if (end - lt >= 4 && memcmp(lt, "<!--", 4) == 0) {
			const char *c = find(lt + 4, end, "-->");
			if (!c)
				break;
			cur = c + 3;
			continue;
		}
		if (end - lt >= 9 && memcmp(lt, "<![CDATA[", 9) == 0) {
			const char *c = find(lt + 9, end, "]]>");
			if (!c)
				break;
			cur = c + 3;
			continue;
		}
		if (end - lt >= 2 && (lt[1] == '?' || lt[1] == '!')) {
			gt = memchr(lt, '>', (size_t)(end - lt));
			if (!gt)
				break;
			cur = gt + 1;
			continue;
		}
		/* A tag: find its '>' outside quotes. */
		{
			const char *q = lt + 1;
			char quote = 0;
			gt = NULL;
			for (; q < end; q++) {
				if (quote) {
					if (*q == quote)
						quote = 0;
				} else if (*q == '"' || *q == '\'') {
					quote = *q;
				} else if (*q == '>') {
					gt = q;
					break;
				} else if (*q == '<') {
					break;
				}
			}
			if (!gt) {
				if (q >= end)
					break; /* truncated */
				cur = q;   /* stray '<': resynchronise */
				continue;
			}
		}
		cur = gt + 1;
		if (!parse_tag(lt + 1, (size_t)(gt - lt - 1), &t))
			continue; /* malformed tag: skip it */
		if (t.end) {
			if (strcmp(t.name, "host") == 0) {
				host = NULL;
				port = NULL;
			} else if (strcmp(t.name, "port") == 0) {
				port = NULL;
				in_service = false;
			} else if (strcmp(t.name, "service") == 0) {
				in_service = false;
			} else if (strcmp(t.name, "nmaprun") == 0 && in_nmaprun) {
				r->complete = true;
			}
			continue;
		}
		if (strcmp(t.name, "nmaprun") == 0) {
			in_nmaprun = true;
		} else if (strcmp(t.name, "host") == 0) {
			if (r->nhosts >= TK_NMAP_MAX_HOSTS) {
				r->truncated = true;
				host = NULL;
				continue;
			}
			if (r->nhosts == r->cap) {
				size_t nc = r->cap ? r->cap * 2 : 16;
				struct tk_nmap_host *nh = realloc(r->hosts, nc * sizeof(*nh));
				if (!nh) {
					rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
					goto fail;
				}
				r->hosts = nh;
				r->cap = nc;
			}
			host = &r->hosts[r->nhosts++];
			memset(host, 0, sizeof(*host));
			port = NULL;
			if (t.empty)
				host = NULL;
		} else if (strcmp(t.name, "status") == 0 && host) {
			set(host->status, sizeof(host->status), attr(&t, "state"));
		} else if (strcmp(t.name, "address") == 0 && host) {
			const char *at = attr(&t, "addrtype");
			if (at && (strcmp(at, "ipv4") == 0 || strcmp(at, "ipv6") == 0) && !host->addr[0]) {
				set(host->addr, sizeof(host->addr), attr(&t, "addr"));
				set(host->addrtype, sizeof(host->addrtype), at);
			}
		} else if (strcmp(t.name, "port") == 0 && host) {
			long long pid;
			const char *ps = attr(&t, "portid");
			port = NULL;
			in_service = false;
			if (!ps || tk_parse_ll(ps, 1, 65535, &pid))
				continue;
			if (total_ports >= TK_NMAP_MAX_PORTS_TOTAL) {
				r->truncated = true;
				continue;
			}
			if (host->nports == host->cap) {
				size_t nc = host->cap ? host->cap * 2 : 8;
				struct tk_nmap_port *np = realloc(host->ports, nc * sizeof(*np));
				if (!np) {
					rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
					goto fail;
				}
				host->ports = np;
				host->cap = nc;
			}
			port = &host->ports[host->nports++];
			total_ports++;
			memset(port, 0, sizeof(*port));
			port->portid = (uint16_t)pid;
			set(port->proto, sizeof(port->proto), attr(&t, "protocol"));
			if (t.empty)
				port = NULL;
		} else if (strcmp(t.name, "state") == 0 && port) {
			set(port->state, sizeof(port->state), attr(&t, "state"));
		} else if (strcmp(t.name, "service") == 0 && port) {
			const char *conf = attr(&t, "conf");
			long long cv = 0;
			set(port->service, sizeof(port->service), attr(&t, "name"));
			set(port->product, sizeof(port->product), attr(&t, "product"));
			set(port->version, sizeof(port->version), attr(&t, "version"));
			set(port->extrainfo, sizeof(port->extrainfo), attr(&t, "extrainfo"));
			set(port->method, sizeof(port->method), attr(&t, "method"));
			if (conf && tk_parse_ll(conf, 0, 10, &cv) == TK_OK)
				port->conf = (int)cv;
			in_service = !t.empty;
		} else if (strcmp(t.name, "cpe") == 0 && port && in_service && !t.empty) {
			in_cpe = true;
			cpe_start = cur;
		} else if (strcmp(t.name, "finished") == 0) {
			set(r->exit_status, sizeof(r->exit_status), attr(&t, "exit"));
		}
	}
	*out = r;
	return TK_OK;
fail:
	tk_nmap_result_free(r);
	return rc;
}
