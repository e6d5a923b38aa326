/*
 * legacy.c - probe "legacy": remote-operation services (TELNET, rlogin, rsh,
 * rexec, FTP, NFS/rpcbind, TFTP), SMTP and data stores (Redis, memcached,
 * PostgreSQL, MySQL/MariaDB) reachable on the partner's hosts.
 *
 * Config: {"hosts": ["127.0.0.5", "127.0.1.0/30", "::1", "ftp.example.test"],
 *          "ports": "default" | "all" | [21, 23, "8000-8100", "69/udp"],
 *          "engine": "native" | "nmap", "try_anonymous_ftp": true,
 *          "max_concurrency": 64, "per_host_concurrency": 0, "per_host_rate": 0,
 *          "connect_timeout_ms": 2000, "banner_timeout_ms": 2500, "reply_timeout_ms": 3000,
 *          "udp_timeout_ms": 2000, "nmap_path": "nmap", "nmap_timeout_s": 300,
 *          "datastore_login_check": true, "port_hints": {"40513": "rlogin"}}
 *
 * Native engine: one epoll loop, non-blocking connects, many sockets in
 * flight bounded by max_concurrency, by the process-wide per-host politeness
 * budget (budget.h: the config's "scan" section, default 8 connections and 50
 * new connections/s per host) and, when set, by this probe's tighter
 * per_host_concurrency and per_host_rate (0 = budget only); each open TCP port is
 * fingerprinted on the same connection (legacyfp.c); UDP ports get a TFTP
 * read request. nmap engine (nmap.c): nmap -sT -sV -oX - under a deadline
 * (argv, no shell), then the native fingerprint on nmap's open TCP ports.
 * Evidence that could not be had (deadline, unprobeable ports, no answer at
 * all, a reply cut short) becomes an error observation, never a clean result.
 *
 * Emits "legacy_service" per open port (target "host:port/tcp") and
 * "legacy_host" per host (target = the host as configured, CIDR expanded).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* IP_RECVERR */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "budget.h"
#include "legacy.h"

enum cstate { C_FREE, C_CONNECTING, C_DIALOG, C_UDP };

struct lg_conn {
	enum cstate st;
	int fd;
	struct lg_host *h;
	struct lg_port p;
	int64_t deadline, cap;
	struct lg_fp fp;
	unsigned char *rx;
	size_t rxlen;
};

static void lg_free(void *state)
{
	struct lg_cfg *c = state;
	size_t i;
	if (!c)
		return;
	for (i = 0; i < c->nhosts; i++) {
		free(c->hosts[i].label);
		free(c->hosts[i].nmap_ports);
		free(c->hosts[i].nmap);
		cJSON_Delete(c->hosts[i].open_ports);
		cJSON_Delete(c->hosts[i].closed_ports);
		cJSON_Delete(c->hosts[i].filtered_ports);
		cJSON_Delete(c->hosts[i].services);
		cJSON_Delete(c->hosts[i].remote);
		cJSON_Delete(c->hosts[i].datastores);
	}
	free(c->hosts);
	free(c->ports);
	free(c->nmap_path);
	free(c);
}

/* ---- configuration ---- */

static int add_host(struct lg_cfg *c, size_t *cap, const char *label, const struct sockaddr_storage *sa,
		    socklen_t sl, bool is_name)
{
	struct lg_host *h;
	if (c->nhosts >= LG_MAX_ADDRESSES)
		return TK_ERR_LIMIT;
	if (c->nhosts == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		struct lg_host *nh = realloc(c->hosts, nc * sizeof(*nh));
		if (!nh)
			return TK_ERR_NOMEM;
		c->hosts = nh;
		*cap = nc;
	}
	h = &c->hosts[c->nhosts];
	memset(h, 0, sizeof(*h));
	if (!(h->label = strdup(label)))
		return TK_ERR_NOMEM;
	c->nhosts++;
	h->is_name = is_name;
	if (sa) {
		h->sa = *sa;
		h->salen = sl;
		if (sa->ss_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, h->addr, sizeof(h->addr));
		else
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, h->addr, sizeof(h->addr));
	}
	return TK_OK;
}

static bool valid_hostname(const char *s)
{
	size_t n = strlen(s), i;
	if (n == 0 || n > 253 || s[0] == '-' || s[0] == '.')
		return false;
	for (i = 0; i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
		      ch == '.' || ch == '_'))
			return false;
	}
	return true;
}

static int parse_host(struct lg_cfg *c, size_t *cap, const char *s, const struct tk_cfgctx *cc, const char *path,
		      struct tk_err *err)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	const char *slash = strchr(s, '/');
	char a[INET6_ADDRSTRLEN + 8];
	int rc;
	memset(&ss, 0, sizeof(ss));
	if (slash) {
		long long bits;
		size_t al = (size_t)(slash - s);
		if (al >= sizeof(a))
			return tk_cfg_err(err, cc, path, "\"%s\" is not an address or CIDR range", s);
		memcpy(a, s, al);
		a[al] = '\0';
		if (inet_pton(AF_INET, a, &s4->sin_addr) == 1) {
			uint32_t base, n, i;
			if (tk_parse_ll(slash + 1, 16, 32, &bits))
				return tk_cfg_err(err, cc, path, "\"%s\": IPv4 prefix must be /16 to /32", s);
			n = bits == 32 ? 1u : 1u << (32 - bits);
			base = ntohl(s4->sin_addr.s_addr) & (bits == 32 ? 0xffffffffu : ~(n - 1));
			for (i = 0; i < n; i++) {
				char lbl[INET_ADDRSTRLEN];
				s4->sin_family = AF_INET;
				s4->sin_addr.s_addr = htonl(base + i);
				inet_ntop(AF_INET, &s4->sin_addr, lbl, sizeof(lbl));
				if ((rc = add_host(c, cap, lbl, &ss, sizeof(*s4), false)) == TK_ERR_LIMIT)
					return tk_cfg_err(err, cc, path, "more than %d addresses in total",
							  LG_MAX_ADDRESSES);
				else if (rc)
					return tk_seterr(err, rc, "out of memory");
			}
			return TK_OK;
		}
		if (inet_pton(AF_INET6, a, &s6->sin6_addr) == 1) {
			struct sockaddr_in6 base6;
			uint32_t n, i;
			if (tk_parse_ll(slash + 1, 112, 128, &bits))
				return tk_cfg_err(err, cc, path, "\"%s\": IPv6 prefix must be /112 to /128", s);
			n = 1u << (128 - bits);
			s6->sin6_addr.s6_addr[14] &= (unsigned char)(n > 256 ? ~((n >> 8) - 1) : 0xff);
			if (n > 256)
				s6->sin6_addr.s6_addr[15] = 0;
			else
				s6->sin6_addr.s6_addr[15] &= (unsigned char)~(n - 1);
			base6 = *s6; /* s6 points into ss, which each iteration overwrites */
			for (i = 0; i < n; i++) {
				struct sockaddr_in6 x = base6;
				unsigned v = (unsigned)x.sin6_addr.s6_addr[14] << 8 | x.sin6_addr.s6_addr[15];
				char lbl[INET6_ADDRSTRLEN];
				v += i;
				x.sin6_family = AF_INET6;
				x.sin6_addr.s6_addr[14] = (unsigned char)(v >> 8);
				x.sin6_addr.s6_addr[15] = (unsigned char)v;
				inet_ntop(AF_INET6, &x.sin6_addr, lbl, sizeof(lbl));
				memcpy(&ss, &x, sizeof(x));
				if ((rc = add_host(c, cap, lbl, &ss, sizeof(x), false)) == TK_ERR_LIMIT)
					return tk_cfg_err(err, cc, path, "more than %d addresses in total",
							  LG_MAX_ADDRESSES);
				else if (rc)
					return tk_seterr(err, rc, "out of memory");
			}
			return TK_OK;
		}
		return tk_cfg_err(err, cc, path, "\"%s\" is not an address or CIDR range", s);
	}
	if (inet_pton(AF_INET, s, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		rc = add_host(c, cap, s, &ss, sizeof(*s4), false);
	} else if (inet_pton(AF_INET6, s, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		rc = add_host(c, cap, s, &ss, sizeof(*s6), false);
	} else if (valid_hostname(s)) {
		rc = add_host(c, cap, s, NULL, 0, true);
	} else {
		return tk_cfg_err(err, cc, path, "\"%s\" is not a host name, address or CIDR range", s);
	}
	if (rc == TK_ERR_LIMIT)
		return tk_cfg_err(err, cc, path, "more than %d addresses in total", LG_MAX_ADDRESSES);
	return rc ? tk_seterr(err, rc, "out of memory") : TK_OK;
}

static const struct lg_port default_ports[] = {
	{21, false}, {23, false}, {25, false}, {111, false}, {512, false},
	{513, false}, {514, false}, {2049, false}, {3306, false}, {5432, false}, {6379, false},
	{11211, false}, {69, true},
};

static int parse_ports(struct lg_cfg *c, const cJSON *sec, const struct tk_cfgctx *cc, struct tk_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(sec, "ports"), *e;
	unsigned char *seen = NULL;
	char p[512], ip[560];
	size_t idx = 0, i;
	int rc = TK_OK;
	tk_path_key(p, sizeof(p), cc->path, "ports");
	if (!v || (cJSON_IsString(v) && strcmp(v->valuestring, "default") == 0)) {
		if (!(c->ports = malloc(sizeof(default_ports))))
			return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		memcpy(c->ports, default_ports, sizeof(default_ports));
		c->nports = TK_ARRAY_LEN(default_ports);
		return TK_OK;
	}
	if (cJSON_IsString(v) && strcmp(v->valuestring, "all") == 0) {
		if (!(c->ports = malloc(65535 * sizeof(*c->ports))))
			return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		for (i = 0; i < 65535; i++) {
			c->ports[i].port = (uint16_t)(i + 1);
			c->ports[i].udp = false;
		}
		c->nports = 65535;
		return TK_OK;
	}
	if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0)
		return tk_cfg_err(err, cc, p, "expected \"default\", \"all\" or a non-empty list of ports");
	if (!(seen = calloc(2 * 65536, 1)) || !(c->ports = malloc(2 * 65536 * sizeof(*c->ports)))) {
		free(seen);
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	}
	cJSON_ArrayForEach(e, v)
	{
		long long lo, hi;
		bool udp = false;
		tk_path_idx(ip, sizeof(ip), p, idx++);
		if (cJSON_IsNumber(e)) {
			if (e->valuedouble != (double)(long long)e->valuedouble || e->valuedouble < 1 ||
			    e->valuedouble > 65535) {
				rc = tk_cfg_err(err, cc, ip, "port %g out of range 1-65535", e->valuedouble);
				goto out;
			}
			lo = hi = (long long)e->valuedouble;
		} else if (cJSON_IsString(e)) {
			char buf[32], *dash, *sl;
			if (tk_strlcpy(buf, e->valuestring, sizeof(buf))) {
				rc = tk_cfg_err(err, cc, ip, "port specification too long");
				goto out;
			}
			if ((sl = strchr(buf, '/'))) {
				*sl++ = '\0';
				if (strcmp(sl, "udp") == 0)
					udp = true;
				else if (strcmp(sl, "tcp") != 0) {
					rc = tk_cfg_err(err, cc, ip, "\"%s\": transport must be tcp or udp",
							e->valuestring);
					goto out;
				}
			}
			if ((dash = strchr(buf, '-')))
				*dash++ = '\0';
			if (tk_parse_ll(buf, 1, 65535, &lo) || tk_parse_ll(dash ? dash : buf, 1, 65535, &hi) ||
			    hi < lo) {
				rc = tk_cfg_err(err, cc, ip, "\"%s\" is not a port or range within 1-65535", e->valuestring);
				goto out;
			}
		} else {
			rc = tk_cfg_err(err, cc, ip, "expected a port number or a string such as \"8000-8100\" or \"69/udp\"");
			goto out;
		}
		for (; lo <= hi; lo++) {
			size_t k = (size_t)lo * 2 + (udp ? 1 : 0);
			if (seen[k])
				continue;
			seen[k] = 1;
			c->ports[c->nports].port = (uint16_t)lo;
			c->ports[c->nports].udp = udp;
			c->nports++;
		}
	}
out:
	free(seen);
	return rc;
}

/* "port_hints": {"40513": "rlogin"}: which client-first probe a silent port gets. */
static int parse_hints(struct lg_cfg *c, const cJSON *sec, const struct tk_cfgctx *cc, struct tk_err *err)
{
	static const struct {
		const char *n;
		enum lg_proto p;
	} names[] = {{"rexec", LG_P_REXEC}, {"rlogin", LG_P_RLOGIN}, {"rsh", LG_P_RSH}, {"rpcbind", LG_P_RPCBIND},
		     {"nfs", LG_P_NFS}, {"redis", LG_P_REDIS}, {"memcached", LG_P_MEMCACHED},
		     {"postgresql", LG_P_POSTGRESQL}};
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(sec, "port_hints"), *e;
	char p[512], ep[600];
	tk_path_key(p, sizeof(p), cc->path, "port_hints");
	if (!v)
		return TK_OK;
	if (!cJSON_IsObject(v))
		return tk_cfg_err(err, cc, p, "expected {\"PORT\": \"rlogin\"|\"rsh\"|\"rexec\"|\"rpcbind\"|\"nfs\"|"
					      "\"redis\"|\"memcached\"|\"postgresql\"}");
	cJSON_ArrayForEach(e, v)
	{
		long long port;
		size_t k;
		tk_path_key(ep, sizeof(ep), p, e->string);
		if (tk_parse_ll(e->string, 1, 65535, &port))
			return tk_cfg_err(err, cc, ep, "key must be a port number 1-65535");
		if (c->nhints >= TK_ARRAY_LEN(c->hint_port))
			return tk_cfg_err(err, cc, ep, "at most %zu port hints", TK_ARRAY_LEN(c->hint_port));
		for (k = 0; k < TK_ARRAY_LEN(names); k++)
			if (cJSON_IsString(e) && strcmp(e->valuestring, names[k].n) == 0)
				break;
		if (k == TK_ARRAY_LEN(names))
			return tk_cfg_err(err, cc, ep, "expected \"rlogin\", \"rsh\", \"rexec\", \"rpcbind\", \"nfs\", "
					  "\"redis\", \"memcached\" or \"postgresql\"");
		c->hint_port[c->nhints] = (uint16_t)port;
		c->hint_proto[c->nhints++] = names[k].p;
	}
	return TK_OK;
}

static int lg_configure(const cJSON *sec, const struct tk_cfgctx *cc, void **state, struct tk_err *err)
{
	static const char *const keys[] = {"hosts", "ports", "engine", "try_anonymous_ftp", "max_concurrency",
					   "per_host_concurrency", "per_host_rate", "connect_timeout_ms",
					   "banner_timeout_ms", "reply_timeout_ms", "udp_timeout_ms", "nmap_path",
					   "nmap_timeout_s", "port_hints", "datastore_login_check", NULL};
	struct lg_cfg *c = calloc(1, sizeof(*c));
	char **hosts = NULL;
	const char *engine = "native", *np = "nmap";
	size_t nh = 0, i, cap = 0;
	char p[512], ip[560];
	int rc;
	*state = NULL;
	if (!c)
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	c->try_anon = false;
	c->ds_login = true;
	c->maxc = 64;
	c->per_host_c = 0; /* 0: only the process-wide budget ("scan" section) applies */
	c->rate = 0;
	c->connect_ms = 2000;
	c->banner_ms = 2500;
	c->reply_ms = 3000;
	c->udp_ms = 2000;
	c->nmap_timeout_s = 300;
	if ((rc = tk_cfg_check_keys(sec, keys, cc, cc->path, err)) ||
	    (rc = tk_cfg_strings(sec, "hosts", true, &hosts, &nh, cc, cc->path, err)) ||
	    (rc = tk_cfg_string(sec, "engine", false, &engine, cc, cc->path, err)) ||
	    (rc = tk_cfg_bool(sec, "try_anonymous_ftp", false, &c->try_anon, cc, cc->path, err)) ||
	    (rc = tk_cfg_bool(sec, "datastore_login_check", false, &c->ds_login, cc, cc->path, err)) ||
	    (rc = tk_cfg_int(sec, "max_concurrency", false, 1, 16384, &c->maxc, cc, cc->path, err)) ||
	    (rc = tk_cfg_int(sec, "per_host_concurrency", false, 0, 16384, &c->per_host_c, cc, cc->path, err)) ||
	    (rc = tk_cfg_int(sec, "per_host_rate", false, 0, 1000000, &c->rate, cc, cc->path, err)) ||
	    (rc = tk_cfg_int(sec, "connect_timeout_ms", false, 50, 60000, &c->connect_ms, cc, cc->path, err)) ||
	    (rc = tk_cfg_int(sec, "banner_timeout_ms", false, 50, 60000, &c->banner_ms, cc, cc->path, err)) ||
	    (rc = tk_cfg_int(sec, "reply_timeout_ms", false, 50, 60000, &c->reply_ms, cc, cc->path, err)) ||
	    (rc = tk_cfg_int(sec, "udp_timeout_ms", false, 50, 60000, &c->udp_ms, cc, cc->path, err)) ||
	    (rc = tk_cfg_string(sec, "nmap_path", false, &np, cc, cc->path, err)) ||
	    (rc = tk_cfg_int(sec, "nmap_timeout_s", false, 1, 86400, &c->nmap_timeout_s, cc, cc->path, err)))
		goto fail;
	tk_path_key(p, sizeof(p), cc->path, "engine");
	if (strcmp(engine, "nmap") == 0)
		c->use_nmap = true;
	else if (strcmp(engine, "native") != 0) {
		rc = tk_cfg_err(err, cc, p, "\"%s\": expected \"native\" or \"nmap\"", engine);
		goto fail;
	}
	if (!(c->nmap_path = strdup(np))) {
		rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		goto fail;
	}
	tk_path_key(p, sizeof(p), cc->path, "hosts");
	for (i = 0; i < nh; i++) {
		tk_path_idx(ip, sizeof(ip), p, i);
		if ((rc = parse_host(c, &cap, hosts[i], cc, ip, err)))
			goto fail;
	}
	if ((rc = parse_ports(c, sec, cc, err)) || (rc = parse_hints(c, sec, cc, err)))
		goto fail;
	tk_strv_free(hosts);
	*state = c;
	return TK_OK;
fail:
	tk_strv_free(hosts);
	lg_free(c);
	return rc;
}

/* ---- observations ---- */

static const char *telnet_opt_name(unsigned o)
{
	switch (o) {
	case 0: return "BINARY";
	case 1: return "ECHO";
	case 3: return "SUPPRESS-GO-AHEAD";
	case 5: return "STATUS";
	case 24: return "TERMINAL-TYPE";
	case 31: return "NAWS";
	case 32: return "TERMINAL-SPEED";
	case 33: return "TOGGLE-FLOW-CONTROL";
	case 34: return "LINEMODE";
	case 35: return "X-DISPLAY-LOCATION";
	case 36: return "ENVIRON";
	case 37: return "AUTHENTICATION";
	case 38: return "ENCRYPT";
	case 39: return "NEW-ENVIRON";
	default: return NULL;
	}
}

static const char *rpc_prog_name(uint32_t p)
{
	switch (p) {
	case 100000: return "portmapper";
	case 100003: return "nfs";
	case 100005: return "mountd";
	case 100021: return "nlockmgr";
	case 100024: return "status";
	case 100227: return "nfs_acl";
	default: return NULL;
	}
}

static void host_list_add(cJSON **list, size_t count, int port)
{
	if (count > LG_LIST_MAX)
		return;
	if (!*list)
		*list = cJSON_CreateArray();
	cJSON_AddItemToArray(*list, cJSON_CreateNumber(port));
}

static void target_of(const struct lg_host *h, const struct lg_port *p, char *out, size_t size)
{
	snprintf(out, size, strchr(h->label, ':') ? "[%s]:%u/%s" : "%s:%u/%s", h->label, p->port,
		 p->udp ? "udp" : "tcp");
}

static const struct lg_nmapinfo *nmap_info(const struct lg_host *h, const struct lg_port *p)
{
	size_t i;
	for (i = 0; i < h->nnmap; i++)
		if (h->nmap[i].p.port == p->port && h->nmap[i].p.udp == p->udp)
			return &h->nmap[i];
	return NULL;
}

static enum lg_proto proto_from_nmap(const char *s)
{
	static const struct {
		const char *n;
		enum lg_proto p;
	} map[] = {{"telnet", LG_P_TELNET}, {"ftp", LG_P_FTP}, {"smtp", LG_P_SMTP}, {"login", LG_P_RLOGIN},
		   {"shell", LG_P_RSH}, {"exec", LG_P_REXEC}, {"rpcbind", LG_P_RPCBIND}, {"nfs", LG_P_NFS},
		   {"tftp", LG_P_TFTP}, {"ssh", LG_P_SSH}, {"http", LG_P_HTTP}, {"redis", LG_P_REDIS},
		   {"memcache", LG_P_MEMCACHED}, {"memcached", LG_P_MEMCACHED}, {"postgresql", LG_P_POSTGRESQL},
		   {"mysql", LG_P_MYSQL}};
	size_t i;
	for (i = 0; i < TK_ARRAY_LEN(map); i++)
		if (strcmp(s, map[i].n) == 0)
			return map[i].p;
	return LG_P_UNKNOWN;
}

static void add_telnet_fields(cJSON *o, const struct lg_fp *f)
{
	static const char *const cmds[] = {"WILL", "WONT", "DO", "DONT"};
	cJSON *a = cJSON_AddArrayToObject(o, "telnet_options");
	int i;
	for (i = 0; i < f->telnet_nopts; i++) {
		const char *nm = telnet_opt_name(f->telnet_opt[i]);
		char s[48];
		if (nm)
			snprintf(s, sizeof(s), "%s %s", cmds[f->telnet_cmd[i] - 251], nm);
		else
			snprintf(s, sizeof(s), "%s %u", cmds[f->telnet_cmd[i] - 251], f->telnet_opt[i]);
		cJSON_AddItemToArray(a, cJSON_CreateString(s));
	}
}

static void add_rpc_fields(cJSON *o, const struct lg_fp *f)
{
	int i;
	if (f->rpc_reply_stat >= 0) {
		cJSON_AddNumberToObject(o, "rpc_reply_stat", f->rpc_reply_stat);
		if (f->rpc_accept_stat >= 0)
			cJSON_AddNumberToObject(o, "rpc_accept_stat", f->rpc_accept_stat);
	}
	if (f->rpc_nprogs <= 0)
		return;
	cJSON *a = cJSON_AddArrayToObject(o, "rpc_programs");
	for (i = 0; i < f->rpc_nprogs; i++) {
		cJSON *e = cJSON_CreateObject();
		const char *nm = rpc_prog_name(f->rpc_progs[i].prog);
		cJSON_AddNumberToObject(e, "program", f->rpc_progs[i].prog);
		if (nm)
			cJSON_AddStringToObject(e, "name", nm);
		cJSON_AddNumberToObject(e, "version", f->rpc_progs[i].vers);
		cJSON_AddStringToObject(e, "transport", f->rpc_progs[i].prot == 17 ? "udp" : "tcp");
		cJSON_AddNumberToObject(e, "port", f->rpc_progs[i].port);
		cJSON_AddItemToArray(a, e);
	}
	if (f->rpc_truncated)
		cJSON_AddBoolToObject(o, "rpc_programs_truncated", 1);
}

static void add_datastore_fields(cJSON *o, const struct lg_fp *f)
{
	cJSON_AddStringToObject(o, "datastore_auth", lg_auth_name(f->ds_auth));
	if (f->ds_auth_how)
		cJSON_AddStringToObject(o, "datastore_auth_evidence", f->ds_auth_how);
	if (f->ds_version[0])
		cJSON_AddStringToObject(o, "datastore_version", f->ds_version);
	if (f->ds_error_code)
		cJSON_AddNumberToObject(o, "datastore_error_code", f->ds_error_code);
	if (f->ds_sqlstate[0])
		cJSON_AddStringToObject(o, "datastore_sqlstate", f->ds_sqlstate);
}

static void add_nmap_fields(cJSON *o, const struct lg_nmapinfo *ni)
{
	cJSON *n = cJSON_AddObjectToObject(o, "nmap");
	cJSON *cpe = cJSON_AddArrayToObject(o, "cpe");
	int i;
	cJSON_AddStringToObject(n, "service", ni->service);
	if (ni->product[0])
		cJSON_AddStringToObject(n, "product", ni->product);
	if (ni->version[0])
		cJSON_AddStringToObject(n, "version", ni->version);
	for (i = 0; i < ni->ncpe; i++)
		cJSON_AddItemToArray(cpe, cJSON_CreateString(ni->cpe[i]));
}

/*
 * Why the evidence about this open port is not whole (NULL: it is): the
 * dialog was cut inside a reply, SMTP never answered EHLO, a data store's
 * authentication was not learnt. The caller then emits an error observation
 * for the port, which makes the items its rules feed incomplete.
 */
static const char *evidence_gap(const struct lg_fp *f, enum lg_proto proto)
{
	if (f->truncated)
		return f->truncated;
	if (proto == LG_P_SMTP && f->proto == LG_P_SMTP && !f->smtp_ehlo_answered)
		return "SMTP did not answer EHLO: whether it offers STARTTLS is unknown";
	if (lg_proto_datastore(proto) && f->ds_auth == LG_AUTH_UNKNOWN)
		return f->ds_auth_how && strcmp(f->ds_auth_how, "login-not-tried") == 0
			       ? "data store reached; whether it requires authentication was not tested "
				 "(datastore_login_check is false)"
			       : "data store reached; whether it requires authentication could not be learnt";
	return NULL;
}

static void host_lists_add(struct lg_host *h, const struct lg_port *p, enum lg_proto proto)
{
	char s[64];
	if (!h->open_ports)
		h->open_ports = cJSON_CreateArray();
	if (!h->services)
		h->services = cJSON_CreateArray();
	if (!h->remote)
		h->remote = cJSON_CreateArray();
	if (!h->datastores)
		h->datastores = cJSON_CreateArray();
	if (cJSON_GetArraySize(h->open_ports) < 4096)
		cJSON_AddItemToArray(h->open_ports, cJSON_CreateNumber(p->port));
	if (cJSON_GetArraySize(h->services) >= 4096)
		return;
	snprintf(s, sizeof(s), "%s@%u/%s", lg_proto_name(proto), p->port, p->udp ? "udp" : "tcp");
	cJSON_AddItemToArray(h->services, cJSON_CreateString(s));
	if (lg_proto_remote_operation(proto))
		cJSON_AddItemToArray(h->remote, cJSON_CreateString(s));
	if (lg_proto_datastore(proto))
		cJSON_AddItemToArray(h->datastores, cJSON_CreateString(s));
}

/* An error observation for one port: only the per-port rules lack this evidence. */
static void emit_gap(struct tk_runctx *ctx, const char *target, enum lg_proto proto, const char *gap)
{
	char msg[512];
	cJSON *o = tk_obs_new(ctx, "error", target);
	if (!o)
		return;
	snprintf(msg, sizeof(msg), "evidence incomplete for %s (%s): %s", target, lg_proto_name(proto), gap);
	cJSON_AddStringToObject(o, "error", tk_rc_name(TK_ERR_PROTOCOL));
	cJSON_AddStringToObject(o, "message", msg);
	cJSON_AddStringToObject(o, "for_kind", "legacy_service");
	tk_emit(ctx, o);
}

/* Record an open port with what the fingerprint (or the UDP probe) found. */
static void record_service(struct tk_runctx *ctx, struct lg_cfg *c, struct lg_host *h, const struct lg_port *p,
			   const struct lg_fp *f, const unsigned char *rx, size_t rxlen)
{
	char target[400];
	unsigned char ban[LG_BANNER_MAX * 2];
	size_t bl;
	char *esc;
	cJSON *o;
	const struct lg_nmapinfo *ni = nmap_info(h, p);
	enum lg_proto proto = f->proto;
	const char *how = f->how && *f->how ? f->how : "unknown", *gap;

	target_of(h, p, target, sizeof(target));
	if (proto == LG_P_UNKNOWN && ni && ni->service[0] && proto_from_nmap(ni->service) != LG_P_UNKNOWN) {
		proto = proto_from_nmap(ni->service);
		how = "nmap-service-detection";
	}
	gap = evidence_gap(f, proto);
	h->nopen++;
	h->ngaps += gap != NULL;
	host_lists_add(h, p, proto);
	if (gap && proto == LG_P_UNKNOWN) {
		/* Cut short before it said what it is: no verdict of "not a remote-operation service". */
		emit_gap(ctx, target, proto, gap);
		return;
	}
	o = tk_obs_new(ctx, "legacy_service", target);
	cJSON_AddStringToObject(o, "host", h->label);
	cJSON_AddStringToObject(o, "address", h->addr);
	cJSON_AddNumberToObject(o, "port", p->port);
	cJSON_AddStringToObject(o, "transport", p->udp ? "udp" : "tcp");
	cJSON_AddStringToObject(o, "state", "open");
	cJSON_AddStringToObject(o, "protocol", lg_proto_name(proto));
	cJSON_AddStringToObject(o, "identified_by", how);
	cJSON_AddBoolToObject(o, "heuristic", f->heuristic || proto != f->proto);
	cJSON_AddStringToObject(o, "engine", c->use_nmap && h->nmap ? "nmap" : "native");
	cJSON_AddBoolToObject(o, "remote_operation", lg_proto_remote_operation(proto));
	cJSON_AddBoolToObject(o, "datastore", lg_proto_datastore(proto));
	cJSON_AddBoolToObject(o, "silent", f->silent && f->proto == LG_P_UNKNOWN);
	cJSON_AddBoolToObject(o, "evidence_complete", gap == NULL);
	if (gap)
		cJSON_AddStringToObject(o, "evidence_missing", gap);
	bl = lg_fp_banner(f, rx, rxlen, ban, sizeof(ban));
	if (bl > 0 && (esc = tk_escape_bytes(ban, bl, LG_BANNER_MAX))) {
		cJSON_AddStringToObject(o, "banner", esc);
		free(esc);
	}
	if (proto == LG_P_TELNET && f->telnet_nopts > 0)
		add_telnet_fields(o, f);
	if (proto == LG_P_FTP) {
		cJSON_AddBoolToObject(o, "ftp_feat", f->ftp_feat);
		if (f->ftp_auth_known)
			cJSON_AddBoolToObject(o, "ftp_auth_tls", f->ftp_auth_tls);
		cJSON_AddBoolToObject(o, "ftp_anonymous_checked", f->ftp_anon_checked);
		if (f->ftp_anon_checked)
			cJSON_AddBoolToObject(o, "ftp_anonymous_login", f->ftp_anonymous);
	}
	if (proto == LG_P_SMTP && f->proto == LG_P_SMTP && f->smtp_ehlo_answered) {
		cJSON_AddBoolToObject(o, "smtp_esmtp", f->smtp_esmtp);
		cJSON_AddBoolToObject(o, "smtp_starttls", f->smtp_starttls);
	}
	if (f->r_status >= 0)
		cJSON_AddNumberToObject(o, "r_status_byte", f->r_status);
	add_rpc_fields(o, f);
	if (lg_proto_datastore(proto))
		add_datastore_fields(o, f);
	if (ni)
		add_nmap_fields(o, ni);
	tk_emit(ctx, o);
	if (gap)
		emit_gap(ctx, target, proto, gap);
}

static void emit_host(struct tk_runctx *ctx, struct lg_cfg *c, struct lg_host *h)
{
	cJSON *o;
	size_t nrem;
	if (h->failed)
		return;
	if (h->nmap_missing) {
		tk_emit_error(ctx, h->label, TK_ERR_NET, "nmap did not report %s (host timeout?)", h->addr);
		return;
	}
	if (h->next < h->nports || h->inflight > 0) {
		tk_emit_error(ctx, h->label, TK_ERR_TIMEOUT,
			      "scan stopped by the deadline: %zu of %zu ports done", h->next, h->nports);
		return;
	}
	if (h->nerrors > 0) {
		/* Ports that could not be probed at all: no evidence about them, never a clean host. */
		tk_emit_error(ctx, h->label, TK_ERR_NET, "%zu of %zu ports could not be probed (last error: %s)",
			      h->nerrors, h->nports, h->last_errno ? strerror(h->last_errno) : "unknown");
		return;
	}
	if (h->nports > 0 && h->nopen == 0 && h->nclosed == 0) {
		/* Nothing answered at all: a host that is down looks exactly like this. */
		tk_emit_error(ctx, h->label, TK_ERR_TIMEOUT,
			      "no port answered (%zu filtered, %zu open|filtered UDP): host down or unreachable",
			      h->nfiltered, h->nopenfiltered);
		return;
	}
	o = tk_obs_new(ctx, "legacy_host", h->label);
	nrem = h->remote ? (size_t)cJSON_GetArraySize(h->remote) : 0;
	cJSON_AddStringToObject(o, "host", h->label);
	cJSON_AddStringToObject(o, "address", h->addr);
	cJSON_AddStringToObject(o, "engine", c->use_nmap && h->nmap ? "nmap" : "native");
	if (c->nmap_fallback[0])
		cJSON_AddStringToObject(o, "nmap_fallback", c->nmap_fallback);
	cJSON_AddNumberToObject(o, "ports_scanned", (double)h->nports);
	cJSON_AddNumberToObject(o, "open", (double)h->nopen);
	cJSON_AddNumberToObject(o, "closed", (double)h->nclosed);
	cJSON_AddNumberToObject(o, "filtered", (double)h->nfiltered);
	cJSON_AddNumberToObject(o, "open_filtered_udp", (double)h->nopenfiltered);
	cJSON_AddNumberToObject(o, "errors", (double)h->nerrors);
	cJSON_AddNumberToObject(o, "ports_with_missing_evidence", (double)h->ngaps);
	cJSON_AddItemToObject(o, "open_ports", h->open_ports ? h->open_ports : cJSON_CreateArray());
	cJSON_AddItemToObject(o, "services", h->services ? h->services : cJSON_CreateArray());
	cJSON_AddItemToObject(o, "remote_operation_services", h->remote ? h->remote : cJSON_CreateArray());
	cJSON_AddNumberToObject(o, "remote_operation_count", (double)nrem);
	cJSON_AddNumberToObject(o, "datastore_count", h->datastores ? cJSON_GetArraySize(h->datastores) : 0);
	cJSON_AddItemToObject(o, "datastore_services", h->datastores ? h->datastores : cJSON_CreateArray());
	h->open_ports = h->services = h->remote = h->datastores = NULL;
	if (h->closed_ports) {
		cJSON_AddItemToObject(o, "closed_ports", h->closed_ports);
		h->closed_ports = NULL;
	}
	if (h->filtered_ports) {
		cJSON_AddItemToObject(o, "filtered_ports", h->filtered_ports);
		h->filtered_ports = NULL;
	}
	tk_emit(ctx, o);
}

/* ---- the event loop ---- */

struct lg_loop {
	struct lg_cfg *c;
	struct tk_runctx *ctx;
	int ep;
	struct lg_conn *conns;
	size_t nconns, active;
	size_t *freelist, nfree;
	size_t rr;
};

static void conn_close(struct lg_loop *L, struct lg_conn *k)
{
	if (k->fd >= 0)
		close(k->fd); /* closing the only descriptor also removes it from the epoll set */
	k->fd = -1;
	k->h->inflight--;
	tk_budget_release(k->h->addr);
	k->st = C_FREE;
	L->active--;
	L->freelist[L->nfree++] = (size_t)(k - L->conns);
}

void lg_mark_closed(struct lg_host *h, const struct lg_port *p)
{
	h->nclosed++;
	host_list_add(&h->closed_ports, h->nclosed, p->port);
}

void lg_mark_filtered(struct lg_host *h, const struct lg_port *p)
{
	h->nfiltered++;
	host_list_add(&h->filtered_ports, h->nfiltered, p->port);
}

static void dialog_act(struct lg_loop *L, struct lg_conn *k, enum lg_ev ev)
{
	unsigned char out[512];
	size_t olen = 0;
	enum lg_act a = lg_fp_step(&k->fp, ev, k->rx, k->rxlen, out, sizeof(out), &olen);
	int64_t now = tk_now_ms();
	if (a == LG_SEND) {
		ssize_t w = send(k->fd, out, olen, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			a = lg_fp_step(&k->fp, LG_EV_EOF, k->rx, k->rxlen, out, sizeof(out), &olen);
			if (a != LG_DONE) {
				/* Send failed: take what we know. */
				record_service(L->ctx, L->c, k->h, &k->p, &k->fp, k->rx, k->rxlen);
				conn_close(L, k);
				return;
			}
		} else {
			k->deadline = now + k->fp.wait_ms;
			if (k->deadline > k->cap)
				k->deadline = k->cap;
			return;
		}
	}
	if (a == LG_WAIT)
		return;
	record_service(L->ctx, L->c, k->h, &k->p, &k->fp, k->rx, k->rxlen);
	conn_close(L, k);
}

static void start_dialog(struct lg_loop *L, struct lg_conn *k)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u64 = (uint64_t)(k - L->conns)};
	int64_t now = tk_now_ms();
	size_t olen, i;
	unsigned char out[8];
	k->st = C_DIALOG;
	k->rxlen = 0;
	if (!k->rx && !(k->rx = malloc(LG_RX_MAX))) {
		k->h->nerrors++;
		k->h->last_errno = ENOMEM;
		conn_close(L, k);
		return;
	}
	lg_fp_init(&k->fp, k->p.port, L->c->try_anon);
	k->fp.ds_login = L->c->ds_login;
	k->fp.greet_ms = (int)L->c->banner_ms;
	k->fp.stage_ms = (int)L->c->reply_ms;
	for (i = 0; i < L->c->nhints; i++)
		if (L->c->hint_port[i] == k->p.port)
			k->fp.hint = L->c->hint_proto[i];
	lg_fp_step(&k->fp, LG_EV_START, k->rx, 0, out, sizeof(out), &olen);
	k->deadline = now + k->fp.wait_ms;
	k->cap = now + LG_SERVICE_CAP_MS;
	epoll_ctl(L->ep, EPOLL_CTL_MOD, k->fd, &ev);
}

static void udp_done(struct lg_loop *L, struct lg_conn *k, bool reply)
{
	if (reply) {
		struct lg_fp f;
		lg_fp_init(&f, k->p.port, false);
		f.proto = LG_P_TFTP;
		f.how = "tftp-reply";
		f.banner_len = 0;
		f.banner_off = 0;
		record_service(L->ctx, L->c, k->h, &k->p, &f, k->rx, 0);
	} else {
		k->h->nopenfiltered++;
	}
	conn_close(L, k);
}

/* Start one probe of (h, p); returns false when out of descriptors (retry later). */
static bool launch(struct lg_loop *L, struct lg_host *h, const struct lg_port *p)
{
	struct sockaddr_storage sa = h->sa;
	struct lg_conn *k;
	int fd, r;
	struct epoll_event ev;
	if (sa.ss_family == AF_INET)
		((struct sockaddr_in *)&sa)->sin_port = htons(p->port);
	else
		((struct sockaddr_in6 *)&sa)->sin6_port = htons(p->port);
	fd = socket(sa.ss_family, (p->udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		int e = errno;
		tk_budget_release(h->addr);
		if (e != EMFILE && e != ENFILE && e != ENOBUFS && e != ENOMEM) {
			h->nerrors++;
			h->last_errno = e;
		}
		return !(e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM);
	}
	k = &L->conns[L->freelist[--L->nfree]];
	memset(&k->fp, 0, sizeof(k->fp));
	k->fd = fd;
	k->h = h;
	k->p = *p;
	k->rxlen = 0;
	L->active++;
	h->inflight++;
	memset(&ev, 0, sizeof(ev));
	ev.data.u64 = (uint64_t)(k - L->conns);
	if (p->udp) {
		unsigned char rrq[64];
		size_t n = lg_tftp_rrq(rrq, sizeof(rrq));
		int one = 1;
		if (sa.ss_family == AF_INET)
			setsockopt(fd, SOL_IP, IP_RECVERR, &one, sizeof(one));
		else
			setsockopt(fd, SOL_IPV6, IPV6_RECVERR, &one, sizeof(one));
		k->st = C_UDP;
		k->deadline = tk_now_ms() + L->c->udp_ms;
		ev.events = EPOLLIN;
		epoll_ctl(L->ep, EPOLL_CTL_ADD, fd, &ev);
		if (sendto(fd, rrq, n, 0, (struct sockaddr *)&sa, h->salen) < 0) {
			h->nerrors++;
			h->last_errno = errno;
			conn_close(L, k);
		}
		return true;
	}
	r = connect(fd, (struct sockaddr *)&sa, h->salen);
	if (r == 0) {
		ev.events = EPOLLIN;
		epoll_ctl(L->ep, EPOLL_CTL_ADD, fd, &ev);
		start_dialog(L, k);
		return true;
	}
	if (errno == EINPROGRESS) {
		/* On loopback and near hosts the refusal is often already there: skip the epoll round. */
		int e = 0;
		socklen_t el = sizeof(e);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) == 0 && e == ECONNREFUSED) {
			lg_mark_closed(h, p);
			conn_close(L, k);
			return true;
		}
		k->st = C_CONNECTING;
		k->deadline = tk_now_ms() + L->c->connect_ms;
		ev.events = EPOLLOUT;
		epoll_ctl(L->ep, EPOLL_CTL_ADD, fd, &ev);
		return true;
	}
	if (errno == ECONNREFUSED)
		lg_mark_closed(h, p);
	else if (errno == ENETUNREACH || errno == EHOSTUNREACH || errno == ETIMEDOUT)
		lg_mark_filtered(h, p);
	else {
		h->nerrors++;
		h->last_errno = errno;
	}
	close(fd);
	k->fd = -1;
	conn_close(L, k);
	return true;
}

static void on_event(struct lg_loop *L, struct lg_conn *k, uint32_t events)
{
	if (k->st == C_CONNECTING) {
		int e = 0;
		socklen_t el = sizeof(e);
		if (getsockopt(k->fd, SOL_SOCKET, SO_ERROR, &e, &el) < 0)
			e = errno;
		if (e == 0 && !(events & (EPOLLERR | EPOLLHUP))) {
			start_dialog(L, k);
		} else {
			if (e == ECONNREFUSED || e == 0)
				lg_mark_closed(k->h, &k->p);
			else if (e == ETIMEDOUT || e == EHOSTUNREACH || e == ENETUNREACH)
				lg_mark_filtered(k->h, &k->p);
			else {
				k->h->nerrors++;
				k->h->last_errno = e;
			}
			conn_close(L, k);
		}
		return;
	}
	if (k->st == C_UDP) {
		unsigned char buf[600];
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(k->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		if (n < 0) {
			if (errno == ECONNREFUSED) {
				lg_mark_closed(k->h, &k->p);
				conn_close(L, k);
			} else if (errno != EAGAIN) {
				k->h->nerrors++;
				k->h->last_errno = errno;
				conn_close(L, k);
			}
			return;
		}
		/* TFTP answers from a new port (RFC 1350 4): accept any port of the host. */
		if (from.ss_family == k->h->sa.ss_family &&
		    ((from.ss_family == AF_INET && ((struct sockaddr_in *)&from)->sin_addr.s_addr ==
						       ((struct sockaddr_in *)&k->h->sa)->sin_addr.s_addr) ||
		     (from.ss_family == AF_INET6 && memcmp(&((struct sockaddr_in6 *)&from)->sin6_addr,
							   &((struct sockaddr_in6 *)&k->h->sa)->sin6_addr, 16) == 0)) &&
		    lg_tftp_is_reply(buf, (size_t)n))
			udp_done(L, k, true);
		return;
	}
	if (k->st == C_DIALOG) {
		ssize_t n;
		if (k->rxlen >= LG_RX_MAX) {
			dialog_act(L, k, LG_EV_EOF);
			return;
		}
		n = recv(k->fd, k->rx + k->rxlen, LG_RX_MAX - k->rxlen, MSG_DONTWAIT);
		if (n > 0) {
			k->rxlen += (size_t)n;
			dialog_act(L, k, k->rxlen >= LG_RX_MAX ? LG_EV_EOF : LG_EV_DATA);
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			dialog_act(L, k, LG_EV_EOF);
		}
	}
}

static void on_deadline(struct lg_loop *L, struct lg_conn *k)
{
	switch (k->st) {
	case C_CONNECTING:
		lg_mark_filtered(k->h, &k->p);
		conn_close(L, k);
		break;
	case C_UDP:
		udp_done(L, k, false);
		break;
	case C_DIALOG:
		if (tk_now_ms() >= k->cap) {
			record_service(L->ctx, L->c, k->h, &k->p, &k->fp, k->rx, k->rxlen);
			conn_close(L, k);
		} else {
			dialog_act(L, k, LG_EV_TIMEOUT);
		}
		break;
	default:
		break;
	}
}

/* Pick the next host allowed to start a connection now (round robin). */
static struct lg_host *next_host(struct lg_loop *L, int64_t now_us, bool *pending)
{
	struct lg_cfg *c = L->c;
	size_t i;
	*pending = false;
	for (i = 0; i < c->nhosts; i++) {
		struct lg_host *h = &c->hosts[(L->rr + i) % c->nhosts];
		if (h->failed || h->next >= h->nports)
			continue;
		*pending = true;
		if ((c->per_host_c > 0 && h->inflight >= c->per_host_c) || (c->rate > 0 && now_us < h->next_us))
			continue;
		/* The process-wide politeness budget (shared with every probe and partner) has the last word. */
		if (tk_budget_try_acquire(h->addr) != TK_OK)
			continue;
		L->rr = (L->rr + i + 1) % c->nhosts;
		return h;
	}
	return NULL;
}

static size_t fd_budget(long long want)
{
	struct rlimit rl;
	size_t lim = 1024;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		if (rl.rlim_cur < rl.rlim_max && rl.rlim_cur < (rlim_t)want + 64) {
			rlim_t nw = (rlim_t)want + 64 < rl.rlim_max ? (rlim_t)want + 64 : rl.rlim_max;
			struct rlimit r2 = {nw, rl.rlim_max};
			if (setrlimit(RLIMIT_NOFILE, &r2) == 0)
				rl.rlim_cur = nw;
		}
		lim = rl.rlim_cur == RLIM_INFINITY ? 1u << 20 : (size_t)rl.rlim_cur;
	}
	lim = lim > 64 ? lim - 64 : 1;
	return (size_t)want < lim ? (size_t)want : lim;
}

static int run_loop(struct lg_cfg *c, struct tk_runctx *ctx, struct tk_err *err)
{
	struct lg_loop L;
	struct epoll_event evs[256];
	size_t i;
	int rc = TK_OK;
	int64_t last_sweep = 0;
	memset(&L, 0, sizeof(L));
	L.c = c;
	L.ctx = ctx;
	L.nconns = fd_budget(c->maxc);
	L.ep = epoll_create1(EPOLL_CLOEXEC);
	L.conns = calloc(L.nconns, sizeof(*L.conns));
	L.freelist = calloc(L.nconns, sizeof(size_t));
	if (L.ep < 0 || !L.conns || !L.freelist) {
		rc = tk_seterr(err, TK_ERR_NOMEM, "cannot set up the scan loop");
		goto out;
	}
	for (i = 0; i < L.nconns; i++) {
		L.conns[i].fd = -1;
		L.freelist[L.nfree++] = L.nconns - 1 - i;
	}
	for (;;) {
		int64_t now = tk_now_ms(), now_us = now * 1000;
		bool pending = false, fdfull = false;
		int n, tmo = 20;
		if (tk_run_cancelled(ctx) || tk_run_remaining_ms(ctx, 0) <= 0)
			break;
		while (L.nfree > 0 && !fdfull) {
			struct lg_host *h = next_host(&L, now_us, &pending);
			if (!h)
				break;
			if (!launch(&L, h, &h->ports[h->next])) {
				fdfull = true;
				break;
			}
			h->next++;
			if (c->rate > 0) {
				int64_t step = 1000000 / c->rate;
				h->next_us = (h->next_us > now_us ? h->next_us : now_us) + step;
			}
		}
		if (!pending) {
			/* next_host returns pending only while scanning: recheck when the pool was full. */
			for (i = 0; i < c->nhosts && !pending; i++)
				if (!c->hosts[i].failed && c->hosts[i].next < c->hosts[i].nports)
					pending = true;
		}
		if (L.active == 0 && !pending)
			break;
		if (L.active == 0)
			tmo = 2;
		n = epoll_wait(L.ep, evs, (int)TK_ARRAY_LEN(evs), L.nfree > 0 && pending ? (c->rate > 0 ? 2 : 0) : tmo);
		for (i = 0; n > 0 && i < (size_t)n; i++) {
			struct lg_conn *k = &L.conns[evs[i].data.u64];
			if (k->st != C_FREE)
				on_event(&L, k, evs[i].events);
		}
		now = tk_now_ms();
		if (now - last_sweep >= 5) {
			last_sweep = now;
			for (i = 0; i < L.nconns; i++)
				if (L.conns[i].st != C_FREE && now >= L.conns[i].deadline)
					on_deadline(&L, &L.conns[i]);
		}
	}
out:
	for (i = 0; L.conns && i < L.nconns; i++)
		if (L.conns[i].st != C_FREE) {
			if (L.conns[i].fd >= 0)
				close(L.conns[i].fd);
			tk_budget_release(L.conns[i].h->addr);
		}
	for (i = 0; L.conns && i < L.nconns; i++)
		free(L.conns[i].rx);
	free(L.conns);
	free(L.freelist);
	if (L.ep >= 0)
		close(L.ep);
	return rc;
}

static int lg_run(void *state, struct tk_runctx *ctx, struct tk_err *err)
{
	struct lg_cfg *c = state;
	size_t i;
	int rc;
	bool nmap_done = false;
	for (i = 0; i < c->nhosts; i++) {
		struct lg_host *h = &c->hosts[i];
		h->ports = c->ports;
		h->nports = c->nports;
		h->next = 0;
		if (h->is_name) {
			struct addrinfo hints, *ai = NULL;
			int g;
			memset(&hints, 0, sizeof(hints));
			hints.ai_socktype = SOCK_STREAM;
			if ((g = getaddrinfo(h->label, NULL, &hints, &ai)) != 0 || !ai) {
				tk_emit_error(ctx, h->label, TK_ERR_NET, "cannot resolve %s: %s", h->label,
					      gai_strerror(g));
				h->failed = true;
				continue;
			}
			memcpy(&h->sa, ai->ai_addr, ai->ai_addrlen);
			h->salen = (socklen_t)ai->ai_addrlen;
			if (ai->ai_family == AF_INET)
				inet_ntop(AF_INET, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, h->addr,
					  sizeof(h->addr));
			else
				inet_ntop(AF_INET6, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, h->addr,
					  sizeof(h->addr));
			freeaddrinfo(ai);
		}
	}
	if ((rc = lg_nmap_engine(c, ctx, &nmap_done, err)))
		return rc;
	if ((rc = run_loop(c, ctx, err)))
		return rc;
	for (i = 0; i < c->nhosts; i++) {
		struct lg_host *h = &c->hosts[i];
		if (nmap_done && !h->failed && h->next >= h->nports) {
			/* Report the full configured port count, not just the fingerprinted ones. */
			h->nports = c->nports;
			h->next = c->nports;
		}
		emit_host(ctx, c, h);
	}
	return TK_OK;
}

TK_PROBE_TARGETS(lg_targets, struct lg_cfg, hosts, nhosts, struct lg_host, label)

const struct tk_probe tk_probe_legacy = {
    .name = "legacy",
    .summary = "Remote-operation services (TELNET, rlogin, rsh, rexec, FTP, NFS, TFTP), SMTP and data stores: connect "
	       "scan and fingerprint (native or nmap)",
    .configure = lg_configure,
    .targets = lg_targets,
    .run = lg_run,
    .free_state = lg_free,
};
