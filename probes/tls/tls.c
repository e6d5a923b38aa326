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
 * Profile grading is not done here: the probe reports facts (protocols,
 * suites with their classes, groups, certificates with key sizes, DH sizes)
 * and the rules engine grades them against rules/profiles/tls-*.json
 * (rules/tlsprofile.c); the probe includes nothing from rules/.
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

#include "net.h"
#include "probe.h"
#include "tls_hello.h"
#include "tls_suites.h"

#define TLS_MAX_ENDPOINTS 4096
#define TLS_MAX_PARALLEL 256
#define TLS_RECV_MAX (TK_FLIGHT_MAX_HS + 8192)
#define TLS_MAX_CHAINS 4 /* distinct certificate chains kept per endpoint */

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

/* A host given as an address gets no SNI; a name is sent as SNI (RFC 6066 forbids literals). */
static bool is_ip_literal(const char *h)
{
	unsigned char b[16];
	return inet_pton(AF_INET, h, b) == 1 || inet_pton(AF_INET6, h, b) == 1;
}

static int tls_configure(const cJSON *sec, const struct tk_cfgctx *cc, void **state, struct tk_err *err)
{
	static const char *const keys[] = {"endpoints", "ca_file", "connection_timeout_s", "parallel", "sslv2",
					   "groups",    NULL};
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
				 ep->starttls ? "/" : "",
				 ep->starttls == ST_SMTP  ? "smtp"
				 : ep->starttls == ST_FTP ? "ftp"
							  : "");
			ep->label = strdup(l);
		}
		if (!ep->label) {
			rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
			goto fail;
		}
		if (!ep->sni && !is_ip_literal(ep->host) && !(ep->sni = strdup(ep->host))) {
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
	*state = c;
	return TK_OK;
fail:
	tls_free(c);
	return rc;
}

/* ---- connections ---- */

struct pool;
static X509_STORE *trust_store(struct pool *p);

struct scan {
	const struct tls_cfg *cfg;
	const struct tls_ep *ep;
	struct tk_runctx *ctx;
	SSL_CTX *sctx;        /* shared by the workers (SSL_new is thread-safe) */
	struct pool *pool;    /* the run's shared state: trust_store() */
	struct tk_net_peer peer; /* the address scanned; peer.host keys the politeness budget */
	unsigned conns;
	unsigned timeouts;    /* hellos the server never answered within the connection timeout */
	struct tk_flight *fl;
	uint8_t *rbuf;
	/* each distinct chain the TLS <= 1.2 flights carried (dual RSA/ECDSA servers: two), owned */
	STACK_OF(X509) *chains[TLS_MAX_CHAINS];
	char chain_via[TLS_MAX_CHAINS][96]; /* how it was obtained: "tls1_2 TLS_ECDHE_ECDSA_..." */
	size_t nchains;
	bool raw_cert_request, raw_ocsp;
	bool sni_rejected; /* some hello was answered with an unrecognized_name alert */
	unsigned truncated;  /* answers that stopped (closed) in the middle of a record or message */
	char truncated_why[160];
	char err[512];
};

static int64_t conn_deadline(const struct scan *s)
{
	int ms = tk_run_remaining_ms(s->ctx, s->cfg->timeout_ms);
	return tk_now_ms() + ms;
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
		if ((rc = tk_net_wait(fd, POLLIN, deadline)))
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
		if ((rc = tk_net_send_all(fd, "EHLO tenken.invalid\r\n", 21, deadline)) ||
		    (rc = read_reply(fd, buf, sizeof(buf), deadline, &code)))
			return rc;
		if (code != 250)
			return TK_ERR_PROTOCOL;
		if ((rc = tk_net_send_all(fd, "STARTTLS\r\n", 10, deadline)) ||
		    (rc = read_reply(fd, buf, sizeof(buf), deadline, &code)))
			return rc;
		return code == 220 ? TK_OK : TK_ERR_PROTOCOL;
	}
	if ((rc = tk_net_send_all(fd, "AUTH TLS\r\n", 10, deadline)) ||
	    (rc = read_reply(fd, buf, sizeof(buf), deadline, &code)))
		return rc;
	return code == 234 ? TK_OK : TK_ERR_PROTOCOL;
}

/* Close a connection from open_conn and give its slot back to the per-host budget. */
static void close_conn(struct scan *s, int fd)
{
	tk_net_close(&s->peer, fd);
}

/*
 * Connect within the per-host politeness budget (agent/net.h) before the
 * connection deadline, do STARTTLS if configured. Close with close_conn().
 */
static int open_conn(struct scan *s, int *out)
{
	int64_t deadline = conn_deadline(s);
	struct tk_err e;
	int fd, rc;
	*out = -1;
	if (tk_run_cancelled(s->ctx))
		return TK_ERR_CANCELLED;
	memset(&e, 0, sizeof(e));
	if ((rc = tk_net_connect(&s->peer, deadline, &fd, &e))) {
		tk_strlcpy(s->err, e.msg, sizeof(s->err));
		return rc;
	}
	s->conns++;
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
	bool closed = false; /* the server ended the connection */
	int64_t deadline;
	int fd = -1, rc;
	memset(s->fl, 0, offsetof(struct tk_flight, hs));
	s->fl->state = TK_FLIGHT_MORE;
	if ((rc = tk_tls_build_client_hello(o, hello, sizeof(hello), &hlen)))
		return rc;
	if ((rc = open_conn(s, &fd)))
		return rc;
	deadline = conn_deadline(s);
	if ((rc = tk_net_send_all(fd, hello, hlen, deadline)))
		goto out_ok;
	for (;;) {
		ssize_t r;
		if (got >= TLS_RECV_MAX)
			break;
		if (tk_net_wait(fd, POLLIN, deadline)) {
			if (got == 0)
				s->timeouts++; /* silence, not a refusal: the answer for this hello is uncertain */
			break;
		}
		r = recv(fd, s->rbuf + got, TLS_RECV_MAX - got, 0);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (r <= 0) {
			closed = true;
			break;
		}
		got += (size_t)r;
		if (tk_tls_parse_flight(s->rbuf, got, s->fl) != TK_FLIGHT_MORE)
			break;
	}
	if (got > 0 && closed && s->fl->state == TK_FLIGHT_MORE && !s->fl->hello) {
		s->truncated++; /* neither an answer nor a refusal: the evidence is cut off */
		snprintf(s->truncated_why, sizeof(s->truncated_why), "%zu bytes, then the connection ended mid-record", got);
	}
out_ok:
	if (s->fl->state == TK_FLIGHT_ALERT && s->fl->alert_desc == 112)
		s->sni_rejected = true; /* unrecognized_name */
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

/* Parse the flight's Certificate message; NULL when it has none or it does not parse. */
static STACK_OF(X509) *flight_chain(const struct tk_flight *f)
{
	STACK_OF(X509) *sk;
	size_t i;
	if (f->ncerts == 0 || !(sk = sk_X509_new_null()))
		return NULL;
	for (i = 0; i < f->ncerts && i < TK_FLIGHT_MAX_CERTS; i++) {
		const unsigned char *p = f->hs + f->cert_off[i];
		X509 *x = d2i_X509(NULL, &p, (long)f->cert_len[i]);
		if (!x || !sk_X509_push(sk, x)) {
			X509_free(x);
			break;
		}
	}
	if (sk_X509_num(sk) == 0) {
		sk_X509_free(sk);
		return NULL;
	}
	return sk;
}

/* Keep chain (owned by the callee from here) unless its leaf is one we already have. */
static void keep_chain(struct scan *s, STACK_OF(X509) *chain, const char *via)
{
	size_t i;
	if (!chain)
		return;
	for (i = 0; i < s->nchains; i++) {
		if (X509_cmp(sk_X509_value(s->chains[i], 0), sk_X509_value(chain, 0)) == 0) {
			sk_X509_pop_free(chain, X509_free);
			return;
		}
	}
	if (s->nchains == TLS_MAX_CHAINS) {
		sk_X509_pop_free(chain, X509_free);
		return;
	}
	s->chains[s->nchains] = chain;
	tk_strlcpy(s->chain_via[s->nchains], via, sizeof(s->chain_via[0]));
	s->nchains++;
}

/* The certificates of a raw TLS <= 1.2 flight: a new leaf (another key type) is kept. */
static void keep_raw_certs(struct scan *s, uint16_t v)
{
	const struct tk_suite *su = tk_suite_by_code(s->fl->suite);
	char via[96];
	if (s->fl->ncerts == 0)
		return;
	snprintf(via, sizeof(via), "%s %s", tk_tls_version_key(v), su ? su->iana : "unknown suite");
	keep_chain(s, flight_chain(s->fl), via);
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
 * The picks fit a server that follows the client's order, but a server whose
 * own order happens to interleave lowest/highest codes (AES128 > CHACHA20 >
 * AES256) picks the same: offer the accepted suites once more, in the reverse
 * of the order seen. Client preference takes the first offered (the last
 * seen), server preference its favourite (the first seen).
 */
static int confirm_preference(struct scan *s, struct tk_hello_opts *o, struct verres *vr)
{
	uint16_t rev[400];
	size_t i;
	int rc;
	for (i = 0; i < vr->n; i++)
		rev[i] = vr->order[vr->n - 1 - i];
	o->suites = rev;
	o->nsuites = vr->n;
	o->groups = NULL;
	o->ngroups = 0;
	if ((rc = raw_hello(s, o)))
		return rc;
	if (hello_is_for(s->fl, vr->version) && s->fl->suite == vr->order[0])
		vr->preference = "server";
	else if (hello_is_for(s->fl, vr->version) && s->fl->suite == vr->order[vr->n - 1])
		vr->preference = "client";
	else
		vr->preference = "indeterminate";
	return TK_OK;
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
			keep_raw_certs(s, v);
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
	if (vr->n == 1)
		vr->preference = "single";
	else if (vr->n >= 2 && !looks_client_ordered(vr->order, vr->n))
		vr->preference = "server";
	else if (vr->n >= 2)
		rc = confirm_preference(s, &o, vr);
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

/* What OpenSSL handshakes saw besides the chain. */
struct hs_result {
	bool asked;       /* CertificateRequest during the handshake */
	bool ocsp;        /* a stapled OCSP response */
	char error[1024]; /* why the last handshake gave no chain */
};

static void set_blocking_timeouts(struct scan *s, int fd)
{
	int ms = tk_run_remaining_ms(s->ctx, s->cfg->timeout_ms);
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/*
 * One full OpenSSL handshake (security level 0) offering what the server
 * accepted: the TLS 1.3 suites it accepted by name (CCM and CCM_8 included,
 * which OpenSSL does not offer by default) and, when sigalgs is set, only
 * that signature-algorithm family (to make a dual-certificate TLS 1.3 server
 * show its other certificate). Returns the peer's chain (owned: the leaf
 * first) or NULL with res->error; *via says how the chain was obtained.
 */
static STACK_OF(X509) *handshake_chain(struct scan *s, uint16_t best, const char *suites13, const char *family,
				       const char *sigalgs, struct hs_result *res, char *via, size_t vcap)
{
	STACK_OF(X509) *out = NULL, *peer;
	const unsigned char *ocsp = NULL;
	SSL *ssl = NULL;
	int fd = -1, i;
	if (open_conn(s, &fd)) {
		snprintf(res->error, sizeof(res->error), "certificate handshake: %s",
			 s->err[0] ? s->err : "connect failed");
		return NULL;
	}
	if (!(ssl = SSL_new(s->sctx))) {
		snprintf(res->error, sizeof(res->error), "certificate handshake: out of memory");
		goto out;
	}
	SSL_set_max_proto_version(ssl, best >= TK_TLS13 ? TLS1_3_VERSION : best == TK_TLS12 ? TLS1_2_VERSION
						: best == TK_TLS11 ? TLS1_1_VERSION : TLS1_VERSION);
	if ((suites13[0] && SSL_set_ciphersuites(ssl, suites13) != 1) ||
	    (sigalgs && SSL_set1_sigalgs_list(ssl, sigalgs) != 1)) {
		snprintf(res->error, sizeof(res->error), "certificate handshake: the local OpenSSL cannot offer %.300s%s%.300s",
			 suites13, sigalgs ? " with " : "", sigalgs ? sigalgs : "");
		goto out;
	}
	set_blocking_timeouts(s, fd);
	SSL_set_app_data(ssl, &res->asked);
	if (s->ep->sni)
		SSL_set_tlsext_host_name(ssl, s->ep->sni);
	SSL_set_tlsext_status_type(ssl, TLSEXT_STATUSTYPE_ocsp);
	SSL_set_fd(ssl, fd);
	if (SSL_connect(ssl) != 1) {
		unsigned long e = ERR_peek_last_error();
		char eb[200];
		ERR_error_string_n(e, eb, sizeof(eb));
		snprintf(res->error, sizeof(res->error), "certificate handshake%s%s failed: %s", family ? " for " : "",
			 family ? family : "", e ? eb : "connection closed");
		goto out;
	}
	if (SSL_get_tlsext_status_ocsp_resp(ssl, &ocsp) > 0 && ocsp)
		res->ocsp = true;
	peer = SSL_get_peer_cert_chain(ssl);
	if (!peer || sk_X509_num(peer) == 0) {
		snprintf(res->error, sizeof(res->error), "certificate handshake: the server sent no certificate");
		goto out;
	}
	out = sk_X509_new_null();
	for (i = 0; out && i < sk_X509_num(peer); i++) {
		X509 *x = sk_X509_value(peer, i);
		if (X509_up_ref(x) && !sk_X509_push(out, x))
			X509_free(x);
	}
	snprintf(via, vcap, "openssl-handshake %s %s%s%s", SSL_get_version(ssl),
		 SSL_CIPHER_standard_name(SSL_get_current_cipher(ssl)), family ? " sigalgs " : "",
		 family ? family : "");
out:
	ERR_clear_error();
	if (ssl) {
		SSL_set_quiet_shutdown(ssl, 1);
		SSL_free(ssl);
	}
	close_conn(s, fd);
	return out;
}

/* SHA-1/MD5 anywhere the client must check a signature (self-signed roots are not checked). */
static bool chain_weak_hash(STACK_OF(X509) *chain)
{
	int i;
	for (i = 0; i < sk_X509_num(chain); i++) {
		X509 *x = sk_X509_value(chain, i);
		const char *h = sig_hash(x);
		if (X509_check_issued(x, x) != X509_V_OK &&
		    (strcmp(h, "SHA1") == 0 || strcmp(h, "MD5") == 0 || strcmp(h, "MD2") == 0))
			return true;
	}
	return false;
}

static void judge_validation(struct scan *s, STACK_OF(X509) *chain, cJSON *c)
{
	X509_STORE_CTX *vctx = X509_STORE_CTX_new();
	X509 *leaf = sk_X509_value(chain, 0);
	const char *name = s->ep->sni ? s->ep->sni : s->ep->host;
	unsigned char ipb[16];
	int m;
	cJSON_AddStringToObject(c, "trust_store", s->cfg->ca_file ? "ca_file" : "system");
	X509_STORE *store = trust_store(s->pool);
	if (vctx && store && X509_STORE_CTX_init(vctx, store, leaf, chain)) {
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
	X509_STORE_CTX_free(vctx);
	if (inet_pton(AF_INET, name, ipb) == 1 || inet_pton(AF_INET6, name, ipb) == 1)
		m = X509_check_ip_asc(leaf, name, 0);
	else
		m = X509_check_host(leaf, name, 0, 0, NULL);
	cJSON_AddStringToObject(c, "hostname_checked", name);
	cJSON_AddBoolToObject(c, "hostname_match", m == 1);
}

/* The facts about one chain as served: leaf key, signatures, expiry, validation, name. */
static cJSON *judge_chain(struct scan *s, STACK_OF(X509) *chain, const char *via)
{
	cJSON *c = cJSON_CreateObject(), *arr;
	X509 *leaf = sk_X509_value(chain, 0);
	EVP_PKEY *k = X509_get0_pubkey(leaf);
	int i, days = 0, secs = 0;
	cJSON_AddBoolToObject(c, "present", 1);
	cJSON_AddStringToObject(c, "source", strncmp(via, "openssl", 7) == 0 ? "openssl-handshake" : "raw-handshake");
	cJSON_AddStringToObject(c, "obtained_by", via);
	arr = cJSON_AddArrayToObject(c, "chain");
	for (i = 0; i < sk_X509_num(chain); i++)
		cJSON_AddItemToArray(arr, cert_json(sk_X509_value(chain, i)));
	if (k) {
		char buf[64];
		cJSON_AddStringToObject(c, "key_type", key_type(k));
		cJSON_AddNumberToObject(c, "key_bits", EVP_PKEY_get_bits(k));
		if (EVP_PKEY_get_base_id(k) == EVP_PKEY_EC && EVP_PKEY_get_group_name(k, buf, sizeof(buf), NULL))
			cJSON_AddStringToObject(c, "curve", buf);
	}
	cJSON_AddStringToObject(c, "signature_algorithm", OBJ_nid2ln(X509_get_signature_nid(leaf)));
	cJSON_AddStringToObject(c, "signature_hash", sig_hash(leaf));
	cJSON_AddBoolToObject(c, "weak_signature_hash", chain_weak_hash(chain));
	if (ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(leaf))) {
		bool expired = days < 0 || (days == 0 && secs < 0);
		if (expired && secs < 0 && days == 0)
			days = -1;
		cJSON_AddNumberToObject(c, "days_to_expiry", days);
		cJSON_AddBoolToObject(c, "expired", expired);
	}
	add_time(c, "not_after", X509_get0_notAfter(leaf));
	judge_validation(s, chain, c);
	return c;
}

static const char *chain_key_family(STACK_OF(X509) *chain)
{
	EVP_PKEY *k = X509_get0_pubkey(sk_X509_value(chain, 0));
	int id = k ? EVP_PKEY_get_base_id(k) : 0;
	return id == EVP_PKEY_EC ? "ECDSA" : id == EVP_PKEY_RSA || id == EVP_PKEY_RSA_PSS ? "RSA"
	       : id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448 ? "EdDSA" : "other";
}

/*
 * TLS 1.3 (encrypted certificates): OpenSSL handshakes offering the accepted
 * suites, first with every signature algorithm, then once per other key
 * family, so that each certificate a dual-certificate server holds is seen.
 */
static void handshake_chains(struct scan *s, uint16_t best, const char *suites13, bool families,
			     struct hs_result *hr)
{
	static const struct {
		const char *family, *sigalgs;
	} fam[] = {
		{"ECDSA", "ECDSA+SHA256:ECDSA+SHA384:ECDSA+SHA512"},
		{"RSA", "rsa_pss_rsae_sha256:rsa_pss_rsae_sha384:rsa_pss_rsae_sha512:rsa_pss_pss_sha256:"
			"rsa_pss_pss_sha384:rsa_pss_pss_sha512:RSA+SHA256:RSA+SHA384:RSA+SHA512"},
		{"EdDSA", "ed25519:ed448"},
	};
	char via[160];
	size_t f, i;
	keep_chain(s, handshake_chain(s, best, suites13, NULL, NULL, hr, via, sizeof(via)), via);
	if (!families || s->nchains == 0)
		return;
	for (f = 0; f < TK_ARRAY_LEN(fam); f++) {
		bool seen = false;
		struct hs_result more = {0};
		for (i = 0; i < s->nchains; i++)
			seen |= strcmp(chain_key_family(s->chains[i]), fam[f].family) == 0;
		if (seen)
			continue;
		keep_chain(
		    s, handshake_chain(s, best, suites13, fam[f].family, fam[f].sigalgs, &more, via, sizeof(via)), via);
		hr->asked |= more.asked;
		hr->ocsp |= more.ocsp;
	}
}

/*
 * Every certificate the server presents: the chains of the raw TLS <= 1.2
 * flights (one per key type the accepted suites asked for), or for a server
 * that speaks only TLS 1.3 the chains of OpenSSL handshakes. Each is judged
 * ("certificates"); "certificate" is the first, or {present: false, error}
 * when none could be read (the certificate rules then go incomplete).
 */
static void assess_certificates(struct scan *s, cJSON *obs, uint16_t best, const struct verres *vrs, size_t nv)
{
	char suites13[1024] = "";
	bool below13 = false;
	struct hs_result hr = {0};
	cJSON *certs;
	size_t i, j, used = 0;
	for (i = 0; i < nv; i++) {
		if (!vrs[i].accepted)
			continue;
		if (vrs[i].version != TK_TLS13) {
			below13 |= vrs[i].version >= TK_SSL3 && vrs[i].n > 0;
			continue;
		}
		for (j = 0; j < vrs[i].n; j++) {
			const struct tk_suite *su = tk_suite_by_code(vrs[i].order[j]);
			int w;
			if (!su)
				continue;
			w = snprintf(suites13 + used, sizeof(suites13) - used, "%s%s", used ? ":" : "", su->iana);
			if (w < 0 || (size_t)w >= sizeof(suites13) - used)
				break;
			used += (size_t)w;
		}
	}
	if (s->sctx && best >= TK_TLS10 && (s->nchains == 0 || !below13))
		handshake_chains(s, best, suites13, !below13 && best == TK_TLS13, &hr);
	cJSON_AddBoolToObject(obs, "client_cert_requested", hr.asked || s->raw_cert_request);
	cJSON_AddBoolToObject(obs, "ocsp_stapled", hr.ocsp || s->raw_ocsp);
	certs = cJSON_AddArrayToObject(obs, "certificates");
	for (i = 0; i < s->nchains; i++)
		cJSON_AddItemToArray(certs, judge_chain(s, s->chains[i], s->chain_via[i]));
	if (s->nchains > 0) {
		cJSON_AddItemToObject(obs, "certificate", cJSON_Duplicate(cJSON_GetArrayItem(certs, 0), true));
	} else {
		cJSON *c = cJSON_AddObjectToObject(obs, "certificate");
		cJSON_AddBoolToObject(c, "present", 0);
		cJSON_AddStringToObject(c, "error", hr.error[0] ? hr.error
					: "no certificate could be read: no flight carried a Certificate message");
	}
}

/* ---- suite classes ---- */

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

/* ---- one endpoint ---- */

static int resolve(struct scan *s)
{
	struct tk_err e;
	int rc;
	memset(&e, 0, sizeof(e));
	if ((rc = tk_net_resolve(s->ep->host, s->ep->port, &s->peer, &e)))
		tk_strlcpy(s->err, e.msg, sizeof(s->err));
	return rc;
}

struct pool {
	const struct tls_cfg *cfg;
	struct tk_runctx *ctx;
	SSL_CTX *sctx;
	X509_STORE *store;     /* NULL when it could not be loaded; read after trust_store() */
	pthread_t loader;      /* loads the store while the hellos run (the system bundle takes ~50 ms) */
	bool loader_started, loader_joined;
	pthread_mutex_t lock;
	atomic_size_t next;
};

static void *load_store(void *arg)
{
	struct pool *p = arg;
	const char *ca = p->cfg->ca_file;
	if (p->store && (ca ? X509_STORE_load_file(p->store, ca) : X509_STORE_set_default_paths(p->store)) != 1) {
		/* Validation then reports "cannot load the trust store" per endpoint. */
		X509_STORE_free(p->store);
		p->store = NULL;
	}
	ERR_clear_error();
	return NULL;
}

/* The trust store, once its loader is done (the first caller joins it). */
static X509_STORE *trust_store(struct pool *p)
{
	pthread_mutex_lock(&p->lock);
	if (p->loader_started && !p->loader_joined) {
		pthread_join(p->loader, NULL);
		p->loader_joined = true;
	}
	pthread_mutex_unlock(&p->lock);
	return p->store;
}

/*
 * Every version in turn (SSL 2.0 .. TLS 1.3). A refused connect, on the first
 * hello or later, is an error, not "no TLS". *best: the newest accepted.
 */
static int enumerate_versions(struct scan *s, struct verres *vrs, size_t *nv, uint16_t *best, bool *any)
{
	static const uint16_t versions[] = {TK_SSL2, TK_SSL3, TK_TLS10, TK_TLS11, TK_TLS12, TK_TLS13};
	size_t i;
	int rc;
	*nv = 0;
	*best = 0;
	*any = false;
	for (i = 0; i < TK_ARRAY_LEN(versions); i++) {
		if (versions[i] == TK_SSL2 && !s->cfg->sslv2)
			continue;
		if ((rc = enum_version(s, versions[i], &vrs[*nv])))
			return rc;
		if (vrs[*nv].accepted) {
			*any = true;
			if (versions[i] >= TK_TLS10 || !*best)
				*best = versions[i];
		}
		(*nv)++;
	}
	return TK_OK;
}

/*
 * No version answered: say why when the answers were not refusals (a name
 * required, truncated flights, silence). True when an error was emitted: the
 * endpoint is unobservable, never "no TLS".
 */
static bool emit_unobservable(struct scan *s)
{
	const struct tls_ep *ep = s->ep;
	if (s->sni_rejected) {
		/* Not "no TLS": the server wants a name it knows before it says anything. */
		if (ep->sni)
			tk_emit_error(s->ctx, ep->label, TK_ERR_PROTOCOL,
				      "%s:%s: the server does not recognise the name \"%s\" (unrecognized_name alert to every "
				      "hello): configure the name the server is known by (name@host:port)",
				      s->peer.host, ep->port, ep->sni);
		else
			tk_emit_error(s->ctx, ep->label, TK_ERR_PROTOCOL,
				      "%s:%s: the server requires a server name (SNI): it answered hellos without one with an "
				      "unrecognized_name alert; configure the name (name@host:port or \"sni\")",
				      s->peer.host, ep->port);
		return true;
	}
	if (s->truncated > 0) {
		tk_emit_error(s->ctx, ep->label, TK_ERR_PROTOCOL,
			      "%s:%s: %u of %u ClientHellos got a truncated answer (%s): TLS support cannot be judged",
			      s->peer.host, ep->port, s->truncated, s->conns, s->truncated_why);
		return true;
	}
	if (s->timeouts > 0) {
		/* Silence is not a refusal: without one answer, "no TLS" would be a guess. */
		tk_emit_error(s->ctx, ep->label, TK_ERR_TIMEOUT,
			      "%s:%s: %u of %u ClientHellos got no answer within the connection timeout", s->peer.host,
			      ep->port, s->timeouts, s->conns);
		return true;
	}
	return false;
}

/* One accepted suite's facts; counts its classes, weak and no-FS lists. */
static cJSON *suite_json(const struct verres *vr, size_t j, const char *vk, size_t *counts, cJSON *weak, cJSON *nofs,
			 size_t *nfs)
{
	const struct tk_suite *su = tk_suite_by_code(vr->order[j]);
	cJSON *so = cJSON_CreateObject(), *cl = cJSON_AddArrayToObject(so, "classes");
	char code[8], w[200];
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
		snprintf(w, sizeof(w), "%s %s", vk, su->iana);
		if (tk_suite_is_weak(su))
			cJSON_AddItemToArray(weak, cJSON_CreateString(w));
		if (su->flags & TK_SUITE_FS)
			(*nfs)++;
		else
			cJSON_AddItemToArray(nofs, cJSON_CreateString(w));
	}
	if (vr->group[j])
		cJSON_AddStringToObject(so, "group", tk_tls_group_name(vr->group[j]));
	if (vr->dh_bits[j])
		cJSON_AddNumberToObject(so, "dh_bits", vr->dh_bits[j]);
	return so;
}

/* protocols, legacy_protocols, suites.<v>, weak_suites, suite_classes, no_fs_suites, accepted_suites, forward_secrecy,
 * min_dh_bits */
static unsigned add_protocols_and_suites(cJSON *obs, const struct verres *vrs, size_t nv)
{
	cJSON *protos = cJSON_AddObjectToObject(obs, "protocols"), *legacy = cJSON_AddArrayToObject(obs, "legacy_protocols");
	cJSON *suites = cJSON_AddObjectToObject(obs, "suites"), *weak = cJSON_AddArrayToObject(obs, "weak_suites");
	cJSON *classes = cJSON_CreateObject(), *nofs = cJSON_CreateArray();
	size_t counts[TK_ARRAY_LEN(class_names)] = {0}, i, j, nfs = 0, ntotal = 0;
	unsigned min_dh = 0;
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
			cJSON_AddItemToArray(acc, suite_json(vr, j, vk, counts, weak, nofs, &nfs));
			ntotal++;
			if (vr->dh_bits[j] && (!min_dh || vr->dh_bits[j] < min_dh))
				min_dh = vr->dh_bits[j];
		}
	}
	for (j = 0; j < TK_ARRAY_LEN(class_names); j++)
		cJSON_AddNumberToObject(classes, class_names[j], (double)counts[j]);
	cJSON_AddItemToObject(obs, "suite_classes", classes);
	cJSON_AddItemToObject(obs, "no_fs_suites", nofs);
	cJSON_AddNumberToObject(obs, "accepted_suites", (double)ntotal);
	cJSON_AddStringToObject(obs, "forward_secrecy",
				ntotal == 0     ? "n/a"
				: nfs == ntotal ? "all"
				: nfs           ? "some"
						: "none");
	if (min_dh)
		cJSON_AddNumberToObject(obs, "min_dh_bits", min_dh);
	return min_dh;
}

/* groups (and groups_version): the newest version with ECDHE/TLS 1.3 suites. */
static void add_groups(struct scan *s, cJSON *obs, const struct verres *vrs, size_t nv)
{
	cJSON *groups = cJSON_AddArrayToObject(obs, "groups");
	size_t i;
	if (!s->cfg->groups)
		return;
	for (i = nv; i-- > 0;) {
		if (vrs[i].accepted && vrs[i].version >= TK_TLS10 && vrs[i].n > 0) {
			size_t before = (size_t)cJSON_GetArraySize(groups);
			enum_groups(s, &vrs[i], groups);
			if ((size_t)cJSON_GetArraySize(groups) > before) {
				cJSON_AddStringToObject(obs, "groups_version", tk_tls_version_key(vrs[i].version));
				return;
			}
		}
	}
}

static void scan_endpoint(const struct pool *pl, const struct tls_ep *ep)
{
	struct tk_runctx *ctx = pl->ctx;
	struct scan s;
	struct verres *vrs = calloc(6, sizeof(*vrs));
	cJSON *obs = NULL;
	int64_t t0 = tk_now_ms();
	uint16_t best = 0;
	size_t i, nv = 0;
	int rc;
	bool any = false;

	memset(&s, 0, sizeof(s));
	s.cfg = pl->cfg;
	s.ep = ep;
	s.ctx = ctx;
	s.sctx = pl->sctx;
	s.pool = (struct pool *)pl;
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
	if ((rc = enumerate_versions(&s, vrs, &nv, &best, &any))) {
		tk_emit_error(ctx, ep->label, rc, "%s:%s: %s", s.peer.host, ep->port,
			      rc == TK_ERR_CANCELLED ? "deadline reached during the scan"
			      : s.err[0]             ? s.err
						     : tk_rc_name(rc));
		goto out;
	}
	if (!any && emit_unobservable(&s))
		goto out;
	obs = tk_obs_new(ctx, "endpoint", ep->label);
	cJSON_AddStringToObject(obs, "endpoint", ep->label);
	cJSON_AddStringToObject(obs, "address", s.peer.host);
	cJSON_AddNumberToObject(obs, "port", strtol(ep->port, NULL, 10));
	if (ep->sni)
		cJSON_AddStringToObject(obs, "sni", ep->sni);
	cJSON_AddStringToObject(obs, "starttls",
				ep->starttls == ST_SMTP  ? "smtp"
				: ep->starttls == ST_FTP ? "ftp"
							 : "none");
	cJSON_AddBoolToObject(obs, "tls", any);
	add_protocols_and_suites(obs, vrs, nv);
	add_groups(&s, obs, vrs, nv);
	if (any)
		assess_certificates(&s, obs, best, vrs, nv);
	if (s.err[0])
		cJSON_AddStringToObject(obs, "note", s.err);
	cJSON_AddNumberToObject(obs, "connections", s.conns);
	cJSON_AddNumberToObject(obs, "timeouts", s.timeouts);
	cJSON_AddNumberToObject(obs, "duration_ms", (double)(tk_now_ms() - t0));
	tk_emit(ctx, obs);
out:
	for (i = 0; i < s.nchains; i++)
		sk_X509_pop_free(s.chains[i], X509_free);
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
	pthread_mutex_init(&p.lock, NULL);
	p.loader_joined = false;
	p.loader_started = pthread_create(&p.loader, NULL, load_store, &p) == 0;
	if (!p.loader_started)
		load_store(&p);
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
	trust_store(&p); /* join the loader even when no endpoint needed it */
	pthread_mutex_destroy(&p.lock);
	SSL_CTX_free(p.sctx);
	X509_STORE_free(p.store);
	return TK_OK;
}

TK_PROBE_TARGETS(tls_targets, struct tls_cfg, eps, neps, struct tls_ep, label)

const struct tk_probe tk_probe_tls = {
	.name = "tls",
	.summary = "TLS endpoints: protocols, every accepted cipher suite, groups, certificate, graded against profiles",
	.configure = tls_configure,
	.targets = tls_targets,
	.run = tls_run,
	.free_state = tls_free,
};
