/*
 * tls.c - probe "tls": what a TLS endpoint accepts and what it presents.
 *
 * For each endpoint: protocol versions SSL 2.0 .. TLS 1.3 (hand-built
 * ClientHellos, independent of the local OpenSSL's policy), every accepted
 * cipher suite per version by "offer all, remove the chosen one, repeat"
 * (one connection per accepted suite plus one per version), the server's
 * preference (one more connection per version), key-exchange groups, and one
 * full OpenSSL handshake (security level 0) for the certificate chain,
 * validation, hostname, OCSP staple and client-certificate request.
 * Endpoints run in parallel on a small pool of worker threads.
 *
 * Config: {"endpoints": ["127.0.0.1:8443", "api.acme.test@127.0.0.1:9443", "[::1]:8443",
 *                        {"host": "127.0.0.1", "port": 2525, "sni": "mx.acme.test", "starttls": "smtp"}],
 *          "ca_file": "ca.pem", "connection_timeout_s": 5, "parallel": 32, "sslv2": true, "groups": true}
 * ("timeout_s", the whole probe's deadline, belongs to the agent.)
 * Emits one observation of kind "endpoint" per endpoint (or an error observation).
 *
 * Profile grading: the TLS profiles in rules/profiles/tls-*.json are loaded at
 * configure time and each endpoint's accepted set is compared with them
 * ("profiles": one entry per profile with its violations); the rules decide
 * which profile is required and what a violation means.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../rules/data.h"
#include "budget.h"
#include "probe.h"
#include "tls_hello.h"
#include "tls_suites.h"

#define TLS_MAX_ENDPOINTS 4096
#define TLS_MAX_PARALLEL 256
#define TLS_RECV_MAX (TK_FLIGHT_MAX_HS + 8192)

enum starttls { ST_NONE, ST_SMTP, ST_FTP };

struct tls_ep {
	char *label;      /* as configured (target name) */
	char *sni;        /* NULL: none */
	char host[256];   /* address or resolvable name, no brackets */
	char port[8];
	enum starttls starttls;
};

struct tls_cfg {
	struct tls_ep *eps;
	size_t neps;
	char *ca_file;
	int timeout_ms;
	int parallel;
	bool sslv2, groups;
	cJSON *profiles; /* array of profile objects (from rules/profiles/tls-*.json) */
};

static void tls_free(void *state)
{
	struct tls_cfg *c = state;
	size_t i;
	if (!c)
		return;
	for (i = 0; i < c->neps; i++) {
		free(c->eps[i].label);
		free(c->eps[i].sni);
	}
	free(c->eps);
	free(c->ca_file);
	cJSON_Delete(c->profiles);
	free(c);
}

/* "[name@]host:port", host may be "[v6]". */
static int parse_endpoint(const char *s, struct tls_ep *ep, const struct tk_cfgctx *cc, const char *path,
			  struct tk_err *err)
{
	const char *at = strchr(s, '@'), *h = s, *why;
	unsigned port;
	if (at) {
		size_t nl = (size_t)(at - s);
		if (nl == 0 || nl > 253)
			return tk_cfg_err(err, cc, path, "SNI name before '@' is empty or longer than 253 bytes");
		if (!(ep->sni = strndup(s, nl)))
			return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		h = at + 1;
	}
	if (tk_parse_hostport(h, ep->host, sizeof(ep->host), &port, &why))
		return tk_cfg_err(err, cc, path, "\"%s\": %s", s, why);
	snprintf(ep->port, sizeof(ep->port), "%u", port);
	return TK_OK;
}

static int parse_endpoint_obj(const cJSON *o, struct tls_ep *ep, const struct tk_cfgctx *cc, const char *path,
			      struct tk_err *err)
{
	static const char *const keys[] = {"host", "port", "sni", "starttls", NULL};
	const char *host = NULL, *sni = NULL, *st = NULL;
	long long port = 0;
	char p[600];
	int rc;
	if ((rc = tk_cfg_check_keys(o, keys, cc, path, err)) ||
	    (rc = tk_cfg_string(o, "host", true, &host, cc, path, err)) ||
	    (rc = tk_cfg_int(o, "port", true, 1, 65535, &port, cc, path, err)) ||
	    (rc = tk_cfg_string(o, "sni", false, &sni, cc, path, err)) ||
	    (rc = tk_cfg_string(o, "starttls", false, &st, cc, path, err)))
		return rc;
	if (tk_strlcpy(ep->host, host[0] == '[' ? host + 1 : host, sizeof(ep->host)) || !ep->host[0]) {
		tk_path_key(p, sizeof(p), path, "host");
		return tk_cfg_err(err, cc, p, "host is empty or too long");
	}
	if (host[0] == '[') {
		char *rb = strchr(ep->host, ']');
		if (rb)
			*rb = '\0';
	}
	snprintf(ep->port, sizeof(ep->port), "%lld", port);
	if (sni && !(ep->sni = strdup(sni)))
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	if (st) {
		tk_path_key(p, sizeof(p), path, "starttls");
		if (strcmp(st, "smtp") == 0)
			ep->starttls = ST_SMTP;
		else if (strcmp(st, "ftp") == 0)
			ep->starttls = ST_FTP;
		else
			return tk_cfg_err(err, cc, p, "\"%s\": expected \"smtp\" or \"ftp\"", st);
	}
	return TK_OK;
}

static int load_profiles(struct tls_cfg *c, struct tk_err *err)
{
	struct tk_dataset ds;
	size_t i;
	int rc;
	memset(&ds, 0, sizeof(ds));
	if ((rc = tk_dataset_open(&ds, err)))
		return rc;
	c->profiles = cJSON_CreateArray();
	for (i = 0; i < ds.n; i++) {
		const struct tk_datafile *f = &ds.files[i];
		cJSON *doc, *p;
		if (strncmp(f->name, "profiles/tls-", 13) != 0)
			continue;
		doc = cJSON_ParseWithLength((const char *)f->data, f->len);
		if (!doc || !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(doc, "profiles"))) {
			cJSON_Delete(doc);
			tk_dataset_close(&ds);
			return tk_seterr(err, TK_ERR_CONFIG, "rules/%s: expected {\"profiles\": [...]}", f->name);
		}
		cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(doc, "profiles"))
		{
			if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(p, "id"))) {
				cJSON_Delete(doc);
				tk_dataset_close(&ds);
				return tk_seterr(err, TK_ERR_CONFIG, "rules/%s: profiles[]: \"id\" missing", f->name);
			}
			cJSON_AddItemToArray(c->profiles, cJSON_Duplicate(p, true));
		}
		cJSON_Delete(doc);
	}
	tk_dataset_close(&ds);
	return TK_OK;
}

static int tls_configure(const cJSON *sec, const struct tk_cfgctx *cc, void **state, struct tk_err *err)
{
	static const char *const keys[] = {"endpoints", "ca_file", "connection_timeout_s", "parallel", "sslv2", "groups",
					   NULL};
	struct tls_cfg *c = calloc(1, sizeof(*c));
	const cJSON *arr = NULL, *e;
	const char *ca = NULL;
	long long tmo = 5, par = 32;
	char p[512], ip[600];
	size_t i = 0;
	int rc;
	*state = NULL;
	if (!c)
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	c->sslv2 = c->groups = true;
	if ((rc = tk_cfg_check_keys(sec, keys, cc, cc->path, err)) ||
	    (rc = tk_cfg_array(sec, "endpoints", true, &arr, cc, cc->path, err)) ||
	    (rc = tk_cfg_string(sec, "ca_file", false, &ca, cc, cc->path, err)) ||
	    (rc = tk_cfg_int(sec, "connection_timeout_s", false, 1, 120, &tmo, cc, cc->path, err)) ||
	    (rc = tk_cfg_int(sec, "parallel", false, 1, TLS_MAX_PARALLEL, &par, cc, cc->path, err)) ||
	    (rc = tk_cfg_bool(sec, "sslv2", false, &c->sslv2, cc, cc->path, err)) ||
	    (rc = tk_cfg_bool(sec, "groups", false, &c->groups, cc, cc->path, err)))
		goto fail;
	c->timeout_ms = (int)tmo * 1000;
	c->parallel = (int)par;
	tk_path_key(p, sizeof(p), cc->path, "endpoints");
	if (cJSON_GetArraySize(arr) > TLS_MAX_ENDPOINTS) {
		rc = tk_cfg_err(err, cc, p, "more than %d endpoints", TLS_MAX_ENDPOINTS);
		goto fail;
	}
	if (!(c->eps = calloc((size_t)cJSON_GetArraySize(arr), sizeof(*c->eps)))) {
		rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		goto fail;
	}
	cJSON_ArrayForEach(e, arr)
	{
		struct tls_ep *ep = &c->eps[i];
		tk_path_idx(ip, sizeof(ip), p, i);
		c->neps = ++i;
		if (cJSON_IsString(e))
			rc = parse_endpoint(e->valuestring, ep, cc, ip, err);
		else if (cJSON_IsObject(e))
			rc = parse_endpoint_obj(e, ep, cc, ip, err);
		else
			rc = tk_cfg_err(err, cc, ip, "expected \"[name@]host:port\" or an object");
		if (rc)
			goto fail;
		if (cJSON_IsString(e)) {
			ep->label = strdup(e->valuestring);
		} else {
			char l[600];
			snprintf(l, sizeof(l), "%s%s%s%s%s:%s%s%s", ep->sni ? ep->sni : "", ep->sni ? "@" : "",
				 strchr(ep->host, ':') ? "[" : "", ep->host, strchr(ep->host, ':') ? "]" : "", ep->port,
				 ep->starttls ? "/" : "", ep->starttls == ST_SMTP ? "smtp" : ep->starttls == ST_FTP ? "ftp" : "");
			ep->label = strdup(l);
		}
		if (!ep->label) {
			rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
			goto fail;
		}
	}
	if (ca && !(c->ca_file = tk_cfg_resolve(cc, ca))) {
		rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		goto fail;
	}
	if (c->ca_file && access(c->ca_file, R_OK) != 0) {
		tk_path_key(ip, sizeof(ip), cc->path, "ca_file");
		rc = tk_cfg_err(err, cc, ip, "cannot read \"%s\": %s", c->ca_file, strerror(errno));
		goto fail;
	}
	if ((rc = load_profiles(c, err)))
		goto fail;
	*state = c;
	return TK_OK;
fail:
	tls_free(c);
	return rc;
}

static int tls_targets(const void *state, cJSON *list)
{
	const struct tls_cfg *c = state;
	size_t i;
	for (i = 0; i < c->neps; i++)
		cJSON_AddItemToArray(list, cJSON_CreateString(c->eps[i].label));
	return TK_OK;
}

/* ---- connections ---- */

struct scan {
	const struct tls_cfg *cfg;
	const struct tls_ep *ep;
	struct tk_runctx *ctx;
	SSL_CTX *sctx;        /* shared by the workers (SSL_new is thread-safe) */
	X509_STORE *store;    /* the trust store, loaded once per run */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char addrstr[INET6_ADDRSTRLEN];
	unsigned conns;
	unsigned timeouts;    /* hellos the server never answered within the connection timeout */
	struct tk_flight *fl;
	uint8_t *rbuf;
	/* certificates of the first TLS <= 1.2 flight, for when OpenSSL cannot handshake */
	uint8_t *rawcerts[TK_FLIGHT_MAX_CERTS];
	size_t rawcert_len[TK_FLIGHT_MAX_CERTS], nrawcerts;
	bool raw_cert_request, raw_ocsp;
	char err[512];
};

static int64_t conn_deadline(const struct scan *s)
{
	int ms = tk_run_remaining_ms(s->ctx, s->cfg->timeout_ms);
	return tk_now_ms() + ms;
}

static int wait_fd(int fd, short ev, int64_t deadline)
{
	for (;;) {
		struct pollfd pfd = {fd, ev, 0};
		int64_t left = deadline - tk_now_ms();
		int r;
		if (left <= 0)
			return TK_ERR_TIMEOUT;
		r = poll(&pfd, 1, left > 200 ? 200 : (int)left);
		if (r > 0)
			return TK_OK;
		if (r < 0 && errno != EINTR)
			return TK_ERR_IO;
	}
}

static int send_all(int fd, const void *p, size_t n, int64_t deadline)
{
	const uint8_t *b = p;
	while (n > 0) {
		ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
		if (w > 0) {
			b += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
			int rc = wait_fd(fd, POLLOUT, deadline);
			if (rc)
				return rc;
			continue;
		}
		return TK_ERR_NET;
	}
	return TK_OK;
}

/* Read one line-oriented reply (SMTP/FTP): returns when the final line "NNN " arrives. */
static int read_reply(int fd, char *buf, size_t cap, int64_t deadline, int *code)
{
	size_t len = 0;
	for (;;) {
		ssize_t r;
		char *line = buf, *nl;
		int rc;
		buf[len] = '\0';
		while ((nl = strstr(line, "\r\n")) || (nl = strchr(line, '\n'))) {
			if (nl - line >= 4 && line[3] == ' ') {
				long long v;
				char num[4] = {line[0], line[1], line[2], 0};
				if (tk_parse_ll(num, 100, 599, &v))
					return TK_ERR_PROTOCOL;
				*code = (int)v;
				return TK_OK;
			}
			line = nl + (*nl == '\r' ? 2 : 1);
		}
		if (len + 1 >= cap)
			return TK_ERR_LIMIT;
		if ((rc = wait_fd(fd, POLLIN, deadline)))
			return rc;
		r = recv(fd, buf + len, cap - 1 - len, 0);
		if (r <= 0) {
			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			return TK_ERR_PROTOCOL;
		}
		len += (size_t)r;
	}
}

static int do_starttls(struct scan *s, int fd, int64_t deadline)
{
	char buf[4096];
	int code = 0, rc;
	if ((rc = read_reply(fd, buf, sizeof(buf), deadline, &code)))
		return rc;
	if (code != 220)
		return TK_ERR_PROTOCOL;
	if (s->ep->starttls == ST_SMTP) {
		if ((rc = send_all(fd, "EHLO tenken.invalid\r\n", 21, deadline)) ||
		    (rc = read_reply(fd, buf, sizeof(buf), deadline, &code)))
			return rc;
		if (code != 250)
			return TK_ERR_PROTOCOL;
		if ((rc = send_all(fd, "STARTTLS\r\n", 10, deadline)) ||
		    (rc = read_reply(fd, buf, sizeof(buf), deadline, &code)))
			return rc;
		return code == 220 ? TK_OK : TK_ERR_PROTOCOL;
	}
	if ((rc = send_all(fd, "AUTH TLS\r\n", 10, deadline)) || (rc = read_reply(fd, buf, sizeof(buf), deadline, &code)))
		return rc;
	return code == 234 ? TK_OK : TK_ERR_PROTOCOL;
}

/* Close a connection from open_conn and give its slot back to the per-host budget. */
static void close_conn(struct scan *s, int fd)
{
	close(fd);
	tk_budget_release(s->addrstr);
}

/*
 * Connect (non-blocking, with the deadline) within the per-host politeness
 * budget, do STARTTLS if configured. Close with close_conn().
 */
static int open_conn(struct scan *s, int *out)
{
	int64_t deadline = conn_deadline(s);
	int fd, rc, one = 1;
	*out = -1;
	if (tk_run_cancelled(s->ctx))
		return TK_ERR_CANCELLED;
	if ((rc = tk_budget_acquire(s->addrstr, deadline))) {
		snprintf(s->err, sizeof(s->err), "no connection slot for %s within the timeout (politeness budget)",
			 s->addrstr);
		return rc;
	}
	fd = socket(s->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		tk_budget_release(s->addrstr);
		return TK_ERR_NET;
	}
	s->conns++;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&s->addr, s->addrlen) != 0) {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);
		if (errno != EINPROGRESS) {
			snprintf(s->err, sizeof(s->err), "connect: %s", strerror(errno));
			close_conn(s, fd);
			return TK_ERR_NET;
		}
		if ((rc = wait_fd(fd, POLLOUT, deadline))) {
			snprintf(s->err, sizeof(s->err), "connect: timed out");
			close_conn(s, fd);
			return rc;
		}
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
		if (soerr) {
			snprintf(s->err, sizeof(s->err), "connect: %s", strerror(soerr));
			close_conn(s, fd);
			return TK_ERR_NET;
		}
	}
	if (s->ep->starttls && (rc = do_starttls(s, fd, deadline))) {
		snprintf(s->err, sizeof(s->err), "STARTTLS (%s) refused or failed: %s",
			 s->ep->starttls == ST_SMTP ? "smtp" : "ftp", tk_rc_name(rc));
		close_conn(s, fd);
		return rc;
	}
	*out = fd;
	return TK_OK;
}

/*
 * One raw hello: connect, send, read the server's first flight into s->fl.
 * TK_OK means we got an answer (s->fl->state says which); a refused
 * handshake (alert, close, garbage) is TK_OK too. Errors: connect failures.
 */
static int raw_hello(struct scan *s, const struct tk_hello_opts *o)
{
	uint8_t hello[TK_HELLO_MAX + 5];
	size_t hlen = 0, got = 0;
	int64_t deadline;
	int fd = -1, rc;
	memset(s->fl, 0, offsetof(struct tk_flight, hs));
	s->fl->state = TK_FLIGHT_MORE;
	if ((rc = tk_tls_build_client_hello(o, hello, sizeof(hello), &hlen)))
		return rc;
	if ((rc = open_conn(s, &fd)))
		return rc;
	deadline = conn_deadline(s);
	if ((rc = send_all(fd, hello, hlen, deadline)))
		goto out_ok;
	for (;;) {
		ssize_t r;
		if (got >= TLS_RECV_MAX)
			break;
		if (wait_fd(fd, POLLIN, deadline)) {
			if (got == 0)
				s->timeouts++; /* silence, not a refusal: the answer for this hello is uncertain */
			break;
		}
		r = recv(fd, s->rbuf + got, TLS_RECV_MAX - got, 0);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
		if (tk_tls_parse_flight(s->rbuf, got, s->fl) != TK_FLIGHT_MORE)
			break;
	}
out_ok:
	close_conn(s, fd);
	return TK_OK;
}

/* ---- enumeration ---- */

struct verres {
	uint16_t version;
	bool accepted;
	uint16_t order[400];   /* accepted suites in the order the server picked them */
	uint16_t group[400];   /* kx group (ECDHE) per accepted suite */
	unsigned dh_bits[400];
	size_t n;
	const char *preference; /* "server", "client", "single", "none", "indeterminate" */
	uint32_t ssl2_specs[TK_FLIGHT_MAX_SSL2_SPECS];
	size_t nssl2;
	bool secure_reneg;
	/* TLS 1.3: groups learnt from HelloRetryRequests while enumerating suites */
	uint16_t gfound[32], grem[32];
	size_t ngfound, ngrem;
	bool groups_done; /* every group the server has is in gfound */
};

static bool hello_is_for(const struct tk_flight *f, uint16_t v)
{
	return f->hello && (f->state == TK_FLIGHT_DONE || f->state == TK_FLIGHT_MORE) && f->version == v;
}

static void keep_raw_certs(struct scan *s)
{
	size_t i;
	if (s->nrawcerts || s->fl->ncerts == 0)
		return;
	for (i = 0; i < s->fl->ncerts && i < TK_FLIGHT_MAX_CERTS; i++) {
		s->rawcerts[i] = malloc(s->fl->cert_len[i]);
		if (!s->rawcerts[i])
			break;
		memcpy(s->rawcerts[i], s->fl->hs + s->fl->cert_off[i], s->fl->cert_len[i]);
		s->rawcert_len[i] = s->fl->cert_len[i];
		s->nrawcerts++;
	}
}

/* Drop code c from list l of n entries; returns whether it was there. */
static bool drop(uint16_t *l, size_t *n, uint16_t c)
{
	size_t i;
	for (i = 0; i < *n && l[i] != c; i++)
		;
	if (i == *n)
		return false;
	memmove(l + i, l + i + 1, (*n - i - 1) * sizeof(uint16_t));
	(*n)--;
	return true;
}

/*
 * Would a server that honours the client's order have picked `order`, given
 * that hello k offered the remaining suites ascending (k even) or descending
 * (k odd)? Then each pick is the lowest, resp. highest, remaining accepted code.
 */
static bool looks_client_ordered(const uint16_t *order, size_t n)
{
	uint16_t left[400];
	size_t k, i, nl = n;
	memcpy(left, order, n * sizeof(uint16_t));
	for (k = 0; k < n; k++) {
		uint16_t want = left[0];
		for (i = 1; i < nl; i++)
			if ((k % 2 == 0) ? left[i] < want : left[i] > want)
				want = left[i];
		if (order[k] != want)
			return false;
		drop(left, &nl, want);
	}
	return true;
}

/*
 * Every suite version v accepts: offer all, drop the one chosen, repeat; the
 * offer order alternates ascending/descending so that the picks themselves
 * tell server from client preference (one extra hello only when two suites
 * leave it open). TLS 1.3 hellos carry no key share: the HelloRetryRequest
 * names the server's group too, which is dropped from the next offer, so the
 * group enumeration rides along.
 */
static int enum_version(struct scan *s, uint16_t v, struct verres *vr)
{
	size_t nall, i, nrem = 0, ng;
	const struct tk_suite *all = tk_suites(&nall);
	const uint16_t *dg = tk_tls_default_groups(true, &ng);
	uint16_t *rem = calloc(nall, sizeof(uint16_t)), *offer = calloc(nall, sizeof(uint16_t));
	struct tk_hello_opts o;
	int rc = TK_OK;
	memset(vr, 0, sizeof(*vr));
	vr->version = v;
	vr->preference = "none";
	if (!rem || !offer) {
		rc = TK_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < nall; i++) {
		bool t13 = (all[i].flags & TK_SUITE_TLS13) != 0;
		if (all[i].code == 0x0000 || t13 != (v == TK_TLS13))
			continue;
		if (v == TK_SSL3 && (all[i].flags & (TK_SUITE_AEAD)))
			continue;
		rem[nrem++] = all[i].code;
	}
	memset(&o, 0, sizeof(o));
	o.version = v;
	o.sni = s->ep->sni;
	o.key_share = false;
	o.status_request = true;
	if (v == TK_SSL2) {
		o.suites = rem;
		o.nsuites = 1;
		if ((rc = raw_hello(s, &o)))
			goto out;
		if (s->fl->hello && s->fl->version == TK_SSL2) {
			vr->accepted = true;
			vr->nssl2 = s->fl->nssl2_specs;
			memcpy(vr->ssl2_specs, s->fl->ssl2_specs, sizeof(vr->ssl2_specs));
		}
		goto out;
	}
	if (v == TK_TLS13) {
		vr->ngrem = ng < TK_ARRAY_LEN(vr->grem) ? ng : TK_ARRAY_LEN(vr->grem);
		memcpy(vr->grem, dg, vr->ngrem * sizeof(uint16_t));
	}
	while (nrem > 0 && vr->n < TK_ARRAY_LEN(vr->order)) {
		bool desc = vr->n % 2 == 1, reduced = v == TK_TLS13 && vr->ngrem < ng;
		for (i = 0; i < nrem; i++)
			offer[i] = desc ? rem[nrem - 1 - i] : rem[i];
		o.suites = offer;
		o.nsuites = nrem;
		o.groups = v == TK_TLS13 && vr->ngrem ? vr->grem : NULL;
		o.ngroups = v == TK_TLS13 ? vr->ngrem : 0;
		if (vr->groups_done) {
			o.groups = NULL;
			o.ngroups = 0;
		}
		if ((rc = raw_hello(s, &o)))
			goto out;
		if (!hello_is_for(s->fl, v) && reduced && !vr->groups_done) {
			/*
			 * Did the suites run out, or the groups we still offer? Ask with the suites
			 * already accepted and the same groups: a new group means the suites ran
			 * out (and is the first step of the group enumeration anyway).
			 */
			struct tk_hello_opts q = o;
			q.suites = vr->order;
			q.nsuites = vr->n;
			if ((rc = raw_hello(s, &q)))
				goto out;
			if (hello_is_for(s->fl, v) && s->fl->group && drop(vr->grem, &vr->ngrem, s->fl->group)) {
				if (vr->ngfound < TK_ARRAY_LEN(vr->gfound))
					vr->gfound[vr->ngfound++] = s->fl->group;
				break;
			}
			vr->groups_done = true; /* every group the server has is known; offer all from here */
			continue;
		}
		if (!hello_is_for(s->fl, v))
			break;
		vr->accepted = true;
		if (s->fl->secure_renegotiation)
			vr->secure_reneg = true;
		if (v != TK_TLS13) {
			keep_raw_certs(s);
			s->raw_cert_request |= s->fl->cert_request;
			s->raw_ocsp |= s->fl->ocsp_stapled;
		} else if (s->fl->group && !vr->groups_done && drop(vr->grem, &vr->ngrem, s->fl->group) &&
			   vr->ngfound < TK_ARRAY_LEN(vr->gfound)) {
			vr->gfound[vr->ngfound++] = s->fl->group;
		}
		if (v == TK_TLS13 && vr->ngrem == 0)
			vr->groups_done = true;
		if (!drop(rem, &nrem, s->fl->suite)) { /* chose what we did not offer: stop, do not loop */
			snprintf(s->err, sizeof(s->err), "%s: server chose suite 0x%04X which was not offered",
				 tk_tls_version_label(v), s->fl->suite);
			break;
		}
		vr->order[vr->n] = s->fl->suite;
		vr->group[vr->n] = s->fl->group;
		vr->dh_bits[vr->n] = s->fl->dh_bits;
		vr->n++;
	}
	if (vr->n == 1) {
		vr->preference = "single";
	} else if (vr->n >= 2 && !looks_client_ordered(vr->order, vr->n)) {
		vr->preference = "server";
	} else if (vr->n >= 3) {
		vr->preference = "client";
	} else if (vr->n == 2) {
		/* Two suites picked low-then-high fit both: offer them high-first once. */
		uint16_t two[2] = {vr->order[1], vr->order[0]};
		o.suites = two;
		o.nsuites = 2;
		o.groups = NULL;
		o.ngroups = 0;
		if ((rc = raw_hello(s, &o)))
			goto out;
		if (hello_is_for(s->fl, v) && s->fl->suite == vr->order[0])
			vr->preference = "server";
		else if (hello_is_for(s->fl, v) && s->fl->suite == vr->order[1])
			vr->preference = "client";
		else
			vr->preference = "indeterminate";
	}
out:
	free(rem);
	free(offer);
	return rc;
}

/*
 * Groups: offer all, remove the chosen, repeat (TLS 1.3 by HelloRetryRequest,
 * continuing from what the suite enumeration learnt; earlier versions by the
 * ServerKeyExchange of an ECDHE suite).
 */
static int enum_groups(struct scan *s, const struct verres *vr, cJSON *out)
{
	size_t ng, i, nrem;
	const uint16_t *dg = tk_tls_default_groups(vr->version == TK_TLS13, &ng);
	uint16_t rem[32], suites[400];
	size_t ns = 0;
	struct tk_hello_opts o;
	int rc;
	for (i = 0; i < vr->n; i++) {
		const struct tk_suite *su = tk_suite_by_code(vr->order[i]);
		if (vr->version == TK_TLS13 || (su && strncmp(su->kx, "ECDH", 4) == 0))
			suites[ns++] = vr->order[i];
	}
	if (ns == 0)
		return TK_OK;
	if (vr->version == TK_TLS13) {
		for (i = 0; i < vr->ngfound; i++)
			cJSON_AddItemToArray(out, cJSON_CreateString(tk_tls_group_name(vr->gfound[i])));
		if (vr->groups_done)
			return TK_OK;
		nrem = vr->ngrem;
		memcpy(rem, vr->grem, nrem * sizeof(uint16_t));
	} else {
		nrem = ng < TK_ARRAY_LEN(rem) ? ng : TK_ARRAY_LEN(rem);
		memcpy(rem, dg, nrem * sizeof(uint16_t));
	}
	memset(&o, 0, sizeof(o));
	o.version = vr->version;
	o.sni = s->ep->sni;
	o.suites = suites;
	o.nsuites = ns;
	o.key_share = false; /* TLS 1.3: the server names its group in a HelloRetryRequest */
	while (nrem > 0) {
		o.groups = rem;
		o.ngroups = nrem;
		if ((rc = raw_hello(s, &o)))
			return rc;
		if (!hello_is_for(s->fl, vr->version) || s->fl->group == 0 || !drop(rem, &nrem, s->fl->group))
			break;
		cJSON_AddItemToArray(out, cJSON_CreateString(tk_tls_group_name(s->fl->group)));
	}
	return TK_OK;
}

/* ---- certificate ---- */

static void name_str(const X509_NAME *n, char *out, size_t cap)
{
	BIO *b = BIO_new(BIO_s_mem());
	int len;
	out[0] = '\0';
	if (!b)
		return;
	X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
	len = BIO_read(b, out, (int)cap - 1);
	out[len > 0 ? len : 0] = '\0';
	BIO_free(b);
}

static void add_time(cJSON *o, const char *key, const ASN1_TIME *t)
{
	struct tm tm;
	char buf[64];
	if (t && ASN1_TIME_to_tm(t, &tm)) {
		snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
			 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
		cJSON_AddStringToObject(o, key, buf);
	}
}

static const char *key_type(EVP_PKEY *k)
{
	switch (EVP_PKEY_get_base_id(k)) {
	case EVP_PKEY_RSA: return "RSA";
	case EVP_PKEY_RSA_PSS: return "RSA-PSS";
	case EVP_PKEY_EC: return "EC";
	case EVP_PKEY_DSA: return "DSA";
	case EVP_PKEY_ED25519: return "Ed25519";
	case EVP_PKEY_ED448: return "Ed448";
	default: return "other";
	}
}

static const char *sig_hash(X509 *x)
{
	int md = NID_undef, pk = NID_undef, bits = 0;
	uint32_t fl = 0;
	if (!X509_get_signature_info(x, &md, &pk, &bits, &fl) || md == NID_undef)
		return "unknown";
	return OBJ_nid2sn(md);
}

static cJSON *cert_json(X509 *x)
{
	cJSON *o = cJSON_CreateObject();
	EVP_PKEY *k = X509_get0_pubkey(x);
	unsigned char *der = NULL, md[32];
	char buf[1024], hex[65];
	int dl = i2d_X509(x, &der);
	name_str(X509_get_subject_name(x), buf, sizeof(buf));
	cJSON_AddStringToObject(o, "subject", buf);
	name_str(X509_get_issuer_name(x), buf, sizeof(buf));
	cJSON_AddStringToObject(o, "issuer", buf);
	add_time(o, "not_before", X509_get0_notBefore(x));
	add_time(o, "not_after", X509_get0_notAfter(x));
	if (k) {
		cJSON_AddStringToObject(o, "key_type", key_type(k));
		cJSON_AddNumberToObject(o, "key_bits", EVP_PKEY_get_bits(k));
		if (EVP_PKEY_get_base_id(k) == EVP_PKEY_EC && EVP_PKEY_get_group_name(k, buf, sizeof(buf), NULL))
			cJSON_AddStringToObject(o, "curve", buf);
	}
	cJSON_AddStringToObject(o, "signature_algorithm", OBJ_nid2ln(X509_get_signature_nid(x)));
	cJSON_AddStringToObject(o, "signature_hash", sig_hash(x));
	cJSON_AddBoolToObject(o, "self_signed", X509_check_issued(x, x) == X509_V_OK);
	if (dl > 0) {
		tk_sha256(der, (size_t)dl, md);
		tk_hex(md, 32, hex);
		cJSON_AddStringToObject(o, "sha256", hex);
	}
	OPENSSL_free(der);
	return o;
}

static int client_cert_cb(SSL *ssl, X509 **x, EVP_PKEY **k)
{
	bool *asked = SSL_get_app_data(ssl);
	(void)x;
	(void)k;
	if (asked)
		*asked = true;
	return 0; /* no certificate to send */
}

/* Everything about the certificate, from an OpenSSL handshake or (fallback) the raw flight. */
static void assess_certificate(struct scan *s, cJSON *obs, uint16_t best)
{
	SSL_CTX *sctx = s->sctx;
	SSL *ssl = NULL;
	STACK_OF(X509) *chain = NULL, *own = NULL;
	X509_STORE *store = NULL;
	X509_STORE_CTX *vctx = NULL;
	X509 *leaf = NULL;
	cJSON *c = cJSON_AddObjectToObject(obs, "certificate"), *arr;
	bool asked = false, handshake = false;
	const unsigned char *ocsp = NULL;
	long ocsplen = -1;
	const char *name = s->ep->sni ? s->ep->sni : s->ep->host;
	int fd = -1, i, days = 0, secs = 0;

	if (!sctx)
		goto out;
	/*
	 * The raw TLS <= 1.2 flights already carried the chain as served, any
	 * CertificateRequest and any stapled OCSP status (the hellos ask for one):
	 * only a server without such a flight (TLS 1.3 only) needs a full handshake.
	 */
	if (best >= TK_TLS10 && s->nrawcerts == 0 && open_conn(s, &fd) == TK_OK && (ssl = SSL_new(sctx))) {
		int r;
		SSL_set_max_proto_version(ssl, best >= TK_TLS13 ? TLS1_3_VERSION : best == TK_TLS12 ? TLS1_2_VERSION
							: best == TK_TLS11 ? TLS1_1_VERSION : TLS1_VERSION);
		int flags = fcntl(fd, F_GETFL);
		fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
		{
			int ms = tk_run_remaining_ms(s->ctx, s->cfg->timeout_ms);
			struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
			setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
			setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		}
		SSL_set_app_data(ssl, &asked);
		if (s->ep->sni)
			SSL_set_tlsext_host_name(ssl, s->ep->sni);
		SSL_set_tlsext_status_type(ssl, TLSEXT_STATUSTYPE_ocsp);
		SSL_set_fd(ssl, fd);
		r = SSL_connect(ssl);
		handshake = r == 1;
		if (!handshake) {
			unsigned long e = ERR_peek_last_error();
			char eb[256];
			ERR_error_string_n(e, eb, sizeof(eb));
			cJSON_AddStringToObject(c, "handshake_error", e ? eb : "connection closed");
		} else {
			/* TLS 1.3: a CertificateRequest arrives before Finished; post-handshake ones are not seen. */
			cJSON_AddStringToObject(c, "handshake_version", SSL_get_version(ssl));
			cJSON_AddStringToObject(c, "handshake_suite", SSL_CIPHER_standard_name(SSL_get_current_cipher(ssl)));
			{
				int nid = SSL_get_negotiated_group(ssl);
				if (nid != NID_undef && nid != 0) {
					const char *gn = SSL_group_to_name(ssl, nid);
					if (gn)
						cJSON_AddStringToObject(c, "handshake_group", gn);
				}
			}
		}
		ocsplen = SSL_get_tlsext_status_ocsp_resp(ssl, &ocsp);
		chain = SSL_get_peer_cert_chain(ssl);
		ERR_clear_error();
	}
	if (!chain || sk_X509_num(chain) == 0) {
		/* Fall back to the Certificate message of a raw TLS <= 1.2 flight (SSLv3-only, odd suites). */
		own = sk_X509_new_null();
		for (i = 0; own && (size_t)i < s->nrawcerts; i++) {
			const unsigned char *p = s->rawcerts[i];
			X509 *x = d2i_X509(NULL, &p, (long)s->rawcert_len[i]);
			if (x && !sk_X509_push(own, x))
				X509_free(x);
		}
		chain = own;
		cJSON_AddStringToObject(c, "source", "raw-handshake");
	} else {
		cJSON_AddStringToObject(c, "source", "openssl-handshake");
	}
	cJSON_AddBoolToObject(obs, "client_cert_requested", asked || s->raw_cert_request);
	cJSON_AddBoolToObject(obs, "ocsp_stapled", (ocsp && ocsplen > 0) || s->raw_ocsp);
	if (!chain || sk_X509_num(chain) == 0) {
		cJSON_AddBoolToObject(c, "present", 0);
		goto out;
	}
	cJSON_AddBoolToObject(c, "present", 1);
	leaf = sk_X509_value(chain, 0);
	arr = cJSON_AddArrayToObject(c, "chain");
	for (i = 0; i < sk_X509_num(chain); i++)
		cJSON_AddItemToArray(arr, cert_json(sk_X509_value(chain, i)));
	{
		EVP_PKEY *k = X509_get0_pubkey(leaf);
		bool sha1 = false;
		if (k) {
			cJSON_AddStringToObject(c, "key_type", key_type(k));
			cJSON_AddNumberToObject(c, "key_bits", EVP_PKEY_get_bits(k));
		}
		cJSON_AddStringToObject(c, "signature_algorithm", OBJ_nid2ln(X509_get_signature_nid(leaf)));
		cJSON_AddStringToObject(c, "signature_hash", sig_hash(leaf));
		/* SHA-1/MD5 anywhere the client must check a signature (self-signed roots are not checked). */
		for (i = 0; i < sk_X509_num(chain); i++) {
			X509 *x = sk_X509_value(chain, i);
			const char *h = sig_hash(x);
			if (X509_check_issued(x, x) != X509_V_OK &&
			    (strcmp(h, "SHA1") == 0 || strcmp(h, "MD5") == 0 || strcmp(h, "MD2") == 0))
				sha1 = true;
		}
		cJSON_AddBoolToObject(c, "weak_signature_hash", sha1);
	}
	if (ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(leaf))) {
		if (days < 0 || (days == 0 && secs < 0))
			days = days - (secs < 0 ? 1 : 0);
		cJSON_AddNumberToObject(c, "days_to_expiry", days);
		cJSON_AddBoolToObject(c, "expired", days < 0 || (days == 0 && secs < 0));
	}
	add_time(c, "not_after", X509_get0_notAfter(leaf));
	/* validation */
	store = s->store;
	vctx = X509_STORE_CTX_new();
	if (vctx) {
		int ok = store != NULL;
		cJSON_AddStringToObject(c, "trust_store", s->cfg->ca_file ? "ca_file" : "system");
		if (ok && X509_STORE_CTX_init(vctx, store, leaf, chain)) {
			int v;
			X509_STORE_CTX_set_purpose(vctx, X509_PURPOSE_SSL_SERVER);
			v = X509_verify_cert(vctx);
			cJSON_AddBoolToObject(c, "verified", v == 1);
			if (v != 1)
				cJSON_AddStringToObject(c, "verify_error",
							X509_verify_cert_error_string(X509_STORE_CTX_get_error(vctx)));
		} else {
			cJSON_AddBoolToObject(c, "verified", 0);
			cJSON_AddStringToObject(c, "verify_error", "cannot load the trust store");
		}
	}
	{
		unsigned char ipb[16];
		int m;
		if (inet_pton(AF_INET, name, ipb) == 1 || inet_pton(AF_INET6, name, ipb) == 1)
			m = X509_check_ip_asc(leaf, name, 0);
		else
			m = X509_check_host(leaf, name, 0, 0, NULL);
		cJSON_AddStringToObject(c, "hostname_checked", name);
		cJSON_AddBoolToObject(c, "hostname_match", m == 1);
	}
out:
	ERR_clear_error();
	if (ssl) {
		SSL_set_quiet_shutdown(ssl, 1);
		SSL_free(ssl);
	}
	if (fd >= 0)
		close_conn(s, fd);
	if (own)
		sk_X509_pop_free(own, X509_free);
	X509_STORE_CTX_free(vctx);
}

/* ---- profiles ---- */

static const char *verif(const cJSON *o)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "verification");
	return cJSON_IsString(v) ? v->valuestring : "UNCONFIRMED";
}

/*
 * The label of one field of a profile section: "<field>_verification" when
 * the section has it (facts of one section can be sourced differently), or
 * the section's own "verification" (by_version: {"ssl2": LABEL} for protocols).
 */
static const char *verif_of(const cJSON *o, const char *field)
{
	char k[64];
	const cJSON *v;
	snprintf(k, sizeof(k), "%s_verification", field);
	v = cJSON_GetObjectItemCaseSensitive(o, k);
	if (cJSON_IsString(v))
		return v->valuestring;
	v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "verification_by_version"), field);
	return cJSON_IsString(v) ? v->valuestring : verif(o);
}

static bool str_in(const cJSON *arr, const char *s)
{
	const cJSON *e;
	cJSON_ArrayForEach(e, arr) if (cJSON_IsString(e) && strcmp(e->valuestring, s) == 0) return true;
	return false;
}

static void violation(cJSON *list, const char *fact, const char *detail, const char *v)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "fact", fact);
	cJSON_AddStringToObject(o, "detail", detail);
	cJSON_AddStringToObject(o, "verification", v);
	cJSON_AddItemToArray(list, o);
}

static const char *const class_names[] = {"null", "anon", "export", "rc4", "3des", "des", "cbc", "no_fs", "md5"};

static bool suite_has_class(const struct tk_suite *su, const char *cls)
{
	if (strcmp(cls, "null") == 0) return su->flags & TK_SUITE_NULL;
	if (strcmp(cls, "anon") == 0) return su->flags & TK_SUITE_ANON;
	if (strcmp(cls, "export") == 0) return su->flags & TK_SUITE_EXPORT;
	if (strcmp(cls, "rc4") == 0) return su->flags & TK_SUITE_RC4;
	if (strcmp(cls, "3des") == 0) return su->flags & TK_SUITE_3DES;
	if (strcmp(cls, "des") == 0) return su->flags & TK_SUITE_DES;
	if (strcmp(cls, "cbc") == 0) return su->flags & TK_SUITE_CBC;
	if (strcmp(cls, "no_fs") == 0) return !(su->flags & TK_SUITE_FS);
	if (strcmp(cls, "md5") == 0) return su->flags & TK_SUITE_MD5;
	return false;
}

static void grade(const cJSON *prof, const struct verres *vrs, size_t nv, const cJSON *cert, unsigned min_dh,
		  cJSON *out)
{
	cJSON *r = cJSON_CreateObject(), *viol = cJSON_CreateArray(), *und = cJSON_CreateArray();
	const cJSON *protos = cJSON_GetObjectItemCaseSensitive(prof, "protocols");
	const cJSON *suites = cJSON_GetObjectItemCaseSensitive(prof, "suites");
	const cJSON *forb = cJSON_GetObjectItemCaseSensitive(prof, "forbidden_classes");
	const cJSON *cp = cJSON_GetObjectItemCaseSensitive(prof, "certificate");
	const cJSON *dh = cJSON_GetObjectItemCaseSensitive(prof, "min_dh_bits");
	char d[256];
	size_t i, j;
	cJSON_AddStringToObject(r, "id", cJSON_GetObjectItemCaseSensitive(prof, "id")->valuestring);
	for (i = 0; i < nv; i++) {
		const char *vk = tk_tls_version_key(vrs[i].version);
		const cJSON *vs = cJSON_GetObjectItemCaseSensitive(suites, vk);
		const cJSON *allowed = cJSON_GetObjectItemCaseSensitive(vs, "allowed");
		const cJSON *complete = cJSON_GetObjectItemCaseSensitive(vs, "complete");
		if (!vrs[i].accepted)
			continue;
		if (protos && !str_in(cJSON_GetObjectItemCaseSensitive(protos, "allowed"), vk)) {
			snprintf(d, sizeof(d), "%s accepted; not allowed by the profile", tk_tls_version_label(vrs[i].version));
			violation(viol, "protocols", d, verif_of(protos, vk));
			continue; /* suites of a forbidden version are moot */
		}
		for (j = 0; j < vrs[i].n; j++) {
			const struct tk_suite *su = tk_suite_by_code(vrs[i].order[j]);
			const cJSON *c;
			bool forbidden = false;
			if (!su)
				continue;
			cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(forb, "classes"))
			{
				if (cJSON_IsString(c) && suite_has_class(su, c->valuestring)) {
					snprintf(d, sizeof(d), "%s: %s is %s", vk, su->iana, c->valuestring);
					violation(viol, "forbidden_classes", d, verif(forb));
					forbidden = true;
					break;
				}
			}
			if (forbidden || !allowed || str_in(allowed, su->iana))
				continue;
			snprintf(d, sizeof(d), "%s: %s", vk, su->iana);
			if (cJSON_IsTrue(complete)) {
				char dd[300];
				snprintf(dd, sizeof(dd), "%s is not in the profile's list", d);
				violation(viol, "suites", dd, verif(vs));
			} else {
				cJSON_AddItemToArray(und, cJSON_CreateString(d));
			}
		}
	}
	if (cp && cert && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cert, "present"))) {
		const cJSON *kt = cJSON_GetObjectItemCaseSensitive(cert, "key_type");
		const cJSON *kb = cJSON_GetObjectItemCaseSensitive(cert, "key_bits");
		const cJSON *mr = cJSON_GetObjectItemCaseSensitive(cp, "min_rsa_bits");
		const cJSON *me = cJSON_GetObjectItemCaseSensitive(cp, "min_ec_bits");
		if (cJSON_IsString(kt) && cJSON_IsNumber(kb)) {
			if (strncmp(kt->valuestring, "RSA", 3) == 0 && cJSON_IsNumber(mr) && kb->valuedouble < mr->valuedouble) {
				snprintf(d, sizeof(d), "RSA key of %d bits (< %d)", kb->valueint, mr->valueint);
				violation(viol, "certificate.key", d, verif_of(cp, "min_rsa_bits"));
			}
			if (strcmp(kt->valuestring, "EC") == 0 && cJSON_IsNumber(me) && kb->valuedouble < me->valuedouble) {
				snprintf(d, sizeof(d), "EC key of %d bits (< %d)", kb->valueint, me->valueint);
				violation(viol, "certificate.key", d, verif_of(cp, "min_ec_bits"));
			}
		}
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cp, "sha1_forbidden")) &&
		    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cert, "weak_signature_hash")))
			violation(viol, "certificate.signature", "SHA-1 (or weaker) signature in the chain",
				  verif_of(cp, "sha1_forbidden"));
	}
	if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(dh, "value")) && min_dh > 0 &&
	    min_dh < (unsigned)cJSON_GetObjectItemCaseSensitive(dh, "value")->valueint) {
		snprintf(d, sizeof(d), "DHE group of %u bits", min_dh);
		violation(viol, "min_dh_bits", d, verif(dh));
	}
	cJSON_AddBoolToObject(r, "conforms", cJSON_GetArraySize(viol) == 0);
	cJSON_AddItemToObject(r, "violations", viol);
	cJSON_AddItemToObject(r, "undetermined", und);
	cJSON_AddItemToArray(out, r);
}

/* ---- one endpoint ---- */

static int resolve(struct scan *s)
{
	struct addrinfo hints, *res = NULL;
	int r;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((r = getaddrinfo(s->ep->host, s->ep->port, &hints, &res)) != 0 || !res) {
		snprintf(s->err, sizeof(s->err), "cannot resolve \"%s\": %s", s->ep->host, gai_strerror(r));
		return TK_ERR_NET;
	}
	memcpy(&s->addr, res->ai_addr, res->ai_addrlen);
	s->addrlen = res->ai_addrlen;
	if (res->ai_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)res->ai_addr)->sin_addr, s->addrstr, sizeof(s->addrstr));
	else
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)res->ai_addr)->sin6_addr, s->addrstr, sizeof(s->addrstr));
	freeaddrinfo(res);
	return TK_OK;
}

struct pool {
	const struct tls_cfg *cfg;
	struct tk_runctx *ctx;
	SSL_CTX *sctx;
	X509_STORE *store;
	atomic_size_t next;
};

static void scan_endpoint(const struct pool *pl, const struct tls_ep *ep)
{
	const struct tls_cfg *cfg = pl->cfg;
	struct tk_runctx *ctx = pl->ctx;
	static const uint16_t versions[] = {TK_SSL2, TK_SSL3, TK_TLS10, TK_TLS11, TK_TLS12, TK_TLS13};
	struct scan s;
	struct verres *vrs = calloc(TK_ARRAY_LEN(versions), sizeof(*vrs));
	cJSON *obs = NULL, *protos, *suites, *weak, *groups, *legacy, *profs;
	int64_t t0 = tk_now_ms();
	unsigned min_dh = 0;
	uint16_t best = 0;
	size_t i, j, nv = 0, nfs = 0, ntotal = 0;
	int rc = TK_OK;
	bool any = false;

	memset(&s, 0, sizeof(s));
	s.cfg = cfg;
	s.ep = ep;
	s.ctx = ctx;
	s.sctx = pl->sctx;
	s.store = pl->store;
	s.fl = malloc(sizeof(*s.fl));
	s.rbuf = malloc(TLS_RECV_MAX);
	if (!vrs || !s.fl || !s.rbuf) {
		tk_emit_error(ctx, ep->label, TK_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = resolve(&s))) {
		tk_emit_error(ctx, ep->label, rc, "%s", s.err);
		goto out;
	}
	/* A refused connect (on the first hello or later) is an error, not "no TLS". */
	for (i = 0; i < TK_ARRAY_LEN(versions); i++) {
		if (versions[i] == TK_SSL2 && !cfg->sslv2)
			continue;
		if ((rc = enum_version(&s, versions[i], &vrs[nv])))
			break;
		if (vrs[nv].accepted) {
			any = true;
			if (versions[i] >= TK_TLS10 || !best)
				best = versions[i];
		}
		nv++;
	}
	if (rc) {
		tk_emit_error(ctx, ep->label, rc, "%s:%s: %s", s.addrstr, ep->port,
			      rc == TK_ERR_CANCELLED ? "deadline reached during the scan" : s.err[0] ? s.err : tk_rc_name(rc));
		goto out;
	}
	if (!any && s.timeouts > 0) {
		/* Silence is not a refusal: without one answer, "no TLS" would be a guess. */
		tk_emit_error(ctx, ep->label, TK_ERR_TIMEOUT,
			      "%s:%s: %u of %u ClientHellos got no answer within the connection timeout", s.addrstr,
			      ep->port, s.timeouts, s.conns);
		goto out;
	}
	obs = tk_obs_new(ctx, "endpoint", ep->label);
	cJSON_AddStringToObject(obs, "endpoint", ep->label);
	cJSON_AddStringToObject(obs, "address", s.addrstr);
	cJSON_AddNumberToObject(obs, "port", strtol(ep->port, NULL, 10));
	if (ep->sni)
		cJSON_AddStringToObject(obs, "sni", ep->sni);
	cJSON_AddStringToObject(obs, "starttls", ep->starttls == ST_SMTP ? "smtp" : ep->starttls == ST_FTP ? "ftp" : "none");
	cJSON_AddBoolToObject(obs, "tls", any);
	protos = cJSON_AddObjectToObject(obs, "protocols");
	legacy = cJSON_AddArrayToObject(obs, "legacy_protocols");
	suites = cJSON_AddObjectToObject(obs, "suites");
	weak = cJSON_AddArrayToObject(obs, "weak_suites");
	{
		cJSON *classes = cJSON_CreateObject(), *nofs = cJSON_CreateArray();
		size_t counts[TK_ARRAY_LEN(class_names)] = {0};
		for (i = 0; i < nv; i++) {
			const struct verres *vr = &vrs[i];
			const char *vk = tk_tls_version_key(vr->version);
			cJSON *vo, *acc;
			cJSON_AddBoolToObject(protos, vk, vr->accepted);
			if (vr->accepted && vr->version <= TK_TLS11)
				cJSON_AddItemToArray(legacy, cJSON_CreateString(vk));
			if (!vr->accepted)
				continue;
			vo = cJSON_AddObjectToObject(suites, vk);
			acc = cJSON_AddArrayToObject(vo, "accepted");
			if (vr->version == TK_SSL2) {
				for (j = 0; j < vr->nssl2; j++) {
					char b[16];
					snprintf(b, sizeof(b), "0x%06X", (unsigned)vr->ssl2_specs[j]);
					cJSON_AddItemToArray(acc, cJSON_CreateString(b));
				}
				cJSON_AddStringToObject(vo, "preference", "n/a");
				continue;
			}
			cJSON_AddStringToObject(vo, "preference", vr->preference);
			if (vr->secure_reneg)
				cJSON_AddBoolToObject(vo, "secure_renegotiation", 1);
			for (j = 0; j < vr->n; j++) {
				const struct tk_suite *su = tk_suite_by_code(vr->order[j]);
				cJSON *so = cJSON_CreateObject(), *cl = cJSON_AddArrayToObject(so, "classes");
				char code[8];
				size_t k;
				snprintf(code, sizeof(code), "0x%04X", vr->order[j]);
				cJSON_AddStringToObject(so, "name", su ? su->iana : "unknown");
				cJSON_AddStringToObject(so, "code", code);
				if (su) {
					if (su->openssl)
						cJSON_AddStringToObject(so, "openssl", su->openssl);
					cJSON_AddStringToObject(so, "kx", su->kx);
					cJSON_AddStringToObject(so, "auth", su->auth);
					cJSON_AddStringToObject(so, "enc", su->enc);
					cJSON_AddStringToObject(so, "mac", su->mac);
					if (su->flags & TK_SUITE_AEAD)
						cJSON_AddItemToArray(cl, cJSON_CreateString("aead"));
					for (k = 0; k < TK_ARRAY_LEN(class_names); k++) {
						if (suite_has_class(su, class_names[k])) {
							cJSON_AddItemToArray(cl, cJSON_CreateString(class_names[k]));
							counts[k]++;
						}
					}
					if (tk_suite_is_weak(su)) {
						char w[200];
						snprintf(w, sizeof(w), "%s %s", vk, su->iana);
						cJSON_AddItemToArray(weak, cJSON_CreateString(w));
					}
					if (su->flags & TK_SUITE_FS)
						nfs++;
					else {
						char w[200];
						snprintf(w, sizeof(w), "%s %s", vk, su->iana);
						cJSON_AddItemToArray(nofs, cJSON_CreateString(w));
					}
				}
				ntotal++;
				if (vr->group[j])
					cJSON_AddStringToObject(so, "group", tk_tls_group_name(vr->group[j]));
				if (vr->dh_bits[j]) {
					cJSON_AddNumberToObject(so, "dh_bits", vr->dh_bits[j]);
					if (!min_dh || vr->dh_bits[j] < min_dh)
						min_dh = vr->dh_bits[j];
				}
				cJSON_AddItemToArray(acc, so);
			}
		}
		for (j = 0; j < TK_ARRAY_LEN(class_names); j++)
			cJSON_AddNumberToObject(classes, class_names[j], (double)counts[j]);
		cJSON_AddItemToObject(obs, "suite_classes", classes);
		cJSON_AddItemToObject(obs, "no_fs_suites", nofs);
	}
	cJSON_AddNumberToObject(obs, "accepted_suites", (double)ntotal);
	cJSON_AddStringToObject(obs, "forward_secrecy", ntotal == 0 ? "n/a" : nfs == ntotal ? "all" : nfs ? "some" : "none");
	if (min_dh)
		cJSON_AddNumberToObject(obs, "min_dh_bits", min_dh);
	groups = cJSON_AddArrayToObject(obs, "groups");
	if (cfg->groups) {
		/* the newest version with ECDHE/TLS 1.3 suites */
		for (i = nv; i-- > 0;) {
			if (vrs[i].accepted && vrs[i].version >= TK_TLS10 && vrs[i].n > 0) {
				size_t before = (size_t)cJSON_GetArraySize(groups);
				enum_groups(&s, &vrs[i], groups);
				if ((size_t)cJSON_GetArraySize(groups) > before) {
					cJSON_AddStringToObject(obs, "groups_version", tk_tls_version_key(vrs[i].version));
					break;
				}
			}
		}
	}
	if (any)
		assess_certificate(&s, obs, best);
	profs = cJSON_AddArrayToObject(obs, "profiles");
	{
		const cJSON *p;
		cJSON_ArrayForEach(p, cfg->profiles)
			grade(p, vrs, nv, cJSON_GetObjectItemCaseSensitive(obs, "certificate"), min_dh, profs);
	}
	if (s.err[0])
		cJSON_AddStringToObject(obs, "note", s.err);
	cJSON_AddNumberToObject(obs, "connections", s.conns);
	cJSON_AddNumberToObject(obs, "timeouts", s.timeouts);
	cJSON_AddNumberToObject(obs, "duration_ms", (double)(tk_now_ms() - t0));
	tk_emit(ctx, obs);
out:
	for (i = 0; i < s.nrawcerts; i++)
		free(s.rawcerts[i]);
	free(s.fl);
	free(s.rbuf);
	free(vrs);
}

/* ---- worker pool ---- */

static void *worker(void *arg)
{
	struct pool *p = arg;
	for (;;) {
		size_t i = atomic_fetch_add(&p->next, 1);
		if (i >= p->cfg->neps)
			break;
		if (tk_run_cancelled(p->ctx)) {
			tk_emit_error(p->ctx, p->cfg->eps[i].label, TK_ERR_CANCELLED, "not scanned: deadline reached");
			continue;
		}
		scan_endpoint(p, &p->cfg->eps[i]);
	}
	return NULL;
}

static int tls_run(void *state, struct tk_runctx *ctx, struct tk_err *err)
{
	struct tls_cfg *c = state;
	struct pool p;
	pthread_t th[TLS_MAX_PARALLEL];
	size_t n = c->neps < (size_t)c->parallel ? c->neps : (size_t)c->parallel, started = 0, i;
	pthread_attr_t attr;
	p.cfg = c;
	p.ctx = ctx;
	atomic_init(&p.next, 0);
	/* One client context and one trust store for every endpoint of the run. */
	p.sctx = SSL_CTX_new(TLS_client_method());
	p.store = X509_STORE_new();
	if (!p.sctx || !p.store) {
		SSL_CTX_free(p.sctx);
		X509_STORE_free(p.store);
		return tk_seterr(err, TK_ERR_NOMEM, "cannot create an OpenSSL context");
	}
	SSL_CTX_set_security_level(p.sctx, 0);
	SSL_CTX_set_min_proto_version(p.sctx, TLS1_VERSION);
	SSL_CTX_set_max_proto_version(p.sctx, TLS1_3_VERSION);
	SSL_CTX_set_cipher_list(p.sctx, "ALL:COMPLEMENTOFALL:@SECLEVEL=0");
	SSL_CTX_set_options(p.sctx, SSL_OP_LEGACY_SERVER_CONNECT);
	SSL_CTX_set_verify(p.sctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_client_cert_cb(p.sctx, client_cert_cb);
	SSL_CTX_set_session_cache_mode(p.sctx, SSL_SESS_CACHE_OFF);
	if ((c->ca_file ? X509_STORE_load_file(p.store, c->ca_file) : X509_STORE_set_default_paths(p.store)) != 1) {
		/* Validation then reports "cannot load the trust store" per endpoint. */
		X509_STORE_free(p.store);
		p.store = NULL;
		ERR_clear_error();
	}
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	for (i = 0; i < n; i++) {
		if (pthread_create(&th[i], &attr, worker, &p) != 0)
			break;
		started++;
	}
	pthread_attr_destroy(&attr);
	if (started == 0) {
		worker(&p);
	}
	for (i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	SSL_CTX_free(p.sctx);
	X509_STORE_free(p.store);
	return TK_OK;
}

const struct tk_probe tk_probe_tls = {
	.name = "tls",
	.summary = "TLS endpoints: protocols, every accepted cipher suite, groups, certificate, graded against profiles",
	.configure = tls_configure,
	.targets = tls_targets,
	.run = tls_run,
	.free_state = tls_free,
};
