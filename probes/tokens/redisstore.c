/*
 * redisstore.c - read-only Redis walk for the tokens probe. Commands sent:
 * AUTH, SELECT, SCAN, TYPE, STRLEN, GET, HGETALL - nothing that writes.
 */
#include "redisstore.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "net.h"
#include "resp.h"

struct rconn {
	int fd;
	SSL_CTX *sctx;
	SSL *ssl;
	struct tk_buf in;
	const struct tk_redis_cfg *c;
	struct tk_runctx *ctx;
	struct tk_net_peer peer; /* the connected peer (its budget slot) */
};

void tk_redis_cfg_free(struct tk_redis_cfg *c)
{
	if (!c)
		return;
	free(c->address);
	free(c->host);
	free(c->port);
	free(c->password_env);
	free(c->username);
	free(c->match);
	free(c->ca_file);
	memset(c, 0, sizeof(*c));
}

int tk_redis_configure(struct tk_redis_cfg *c, const cJSON *e, const struct tk_cfgctx *cc, const char *path,
		       struct tk_err *err)
{
	static const char *const keys[] = {"type", "address", "password_env", "username", "match", "tls",
					   "tls_verify", "ca_file", "db", "max_keys", "max_value_bytes",
					   "timeout_s", NULL};
	const char *addr = NULL, *pe = NULL, *user = NULL, *match = "*", *ca = NULL, *why;
	char host[256], portstr[8];
	unsigned port;
	long long tmo = 10;
	char ap[600];
	int rc;
	memset(c, 0, sizeof(*c));
	c->tls_verify = true;
	c->max_keys = 10000;
	c->max_value_bytes = 1 << 20;
	if ((rc = tk_cfg_check_keys(e, keys, cc, path, err)) ||
	    (rc = tk_cfg_string(e, "address", true, &addr, cc, path, err)) ||
	    (rc = tk_cfg_string(e, "password_env", false, &pe, cc, path, err)) ||
	    (rc = tk_cfg_string(e, "username", false, &user, cc, path, err)) ||
	    (rc = tk_cfg_string(e, "match", false, &match, cc, path, err)) ||
	    (rc = tk_cfg_string(e, "ca_file", false, &ca, cc, path, err)) ||
	    (rc = tk_cfg_bool(e, "tls", false, &c->tls, cc, path, err)) ||
	    (rc = tk_cfg_bool(e, "tls_verify", false, &c->tls_verify, cc, path, err)) ||
	    (rc = tk_cfg_int(e, "db", false, 0, 10000, &c->db, cc, path, err)) ||
	    (rc = tk_cfg_int(e, "max_keys", false, 1, 100000000, &c->max_keys, cc, path, err)) ||
	    (rc = tk_cfg_int(e, "max_value_bytes", false, 64, 512LL << 20, &c->max_value_bytes, cc, path, err)) ||
	    (rc = tk_cfg_int(e, "timeout_s", false, 1, 600, &tmo, cc, path, err)))
		return rc;
	c->timeout_ms = tmo * 1000;
	tk_path_key(ap, sizeof(ap), path, "address");
	if (tk_parse_hostport(addr, host, sizeof(host), &port, &why))
		return tk_cfg_err(err, cc, ap, "\"%s\": %s, e.g. 127.0.0.1:6379", addr, why);
	snprintf(portstr, sizeof(portstr), "%u", port);
	c->address = strdup(addr);
	c->port = strdup(portstr);
	c->host = strdup(host);
	c->match = strdup(match);
	c->password_env = pe ? strdup(pe) : NULL;
	c->username = user ? strdup(user) : NULL;
	c->ca_file = ca ? tk_cfg_resolve(cc, ca) : NULL;
	if (!c->address || !c->port || !c->host || !c->match || (pe && !c->password_env) || (user && !c->username) ||
	    (ca && !c->ca_file))
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	return TK_OK;
}

static int op_timeout(struct rconn *k)
{
	int ms = tk_run_remaining_ms(k->ctx, (int)k->c->timeout_ms);
	return ms > 0 ? ms : 1;
}

static void set_timeouts(struct rconn *k)
{
	int ms = op_timeout(k);
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	setsockopt(k->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(k->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int rconnect(struct rconn *k, struct tk_err *err)
{
	unsigned char ipbuf[16];
	bool is_ip = inet_pton(AF_INET, k->c->host, ipbuf) == 1 || inet_pton(AF_INET6, k->c->host, ipbuf) == 1;
	int rc, fl;
	/* the shared connect helper: takes a slot of the per-host politeness budget
	 * (released in rclose by tk_net_close), bounded by the scan deadline */
	k->fd = -1;
	if ((rc = tk_net_resolve(k->c->host, k->c->port, &k->peer, err)))
		return rc;
	if ((rc = tk_net_connect(&k->peer, tk_now_ms() + op_timeout(k), &k->fd, err))) {
		k->fd = -1;
		tk_err_prefix(err, "%s", k->c->address);
		return rc;
	}
	/* blocking I/O with SO_RCVTIMEO/SO_SNDTIMEO from here on */
	if ((fl = fcntl(k->fd, F_GETFL)) >= 0)
		(void)fcntl(k->fd, F_SETFL, fl & ~O_NONBLOCK);
	set_timeouts(k);
	if (!k->c->tls)
		return TK_OK;
	if (!(k->sctx = SSL_CTX_new(TLS_client_method())) || !(k->ssl = SSL_new(k->sctx)))
		return tk_seterr(err, TK_ERR_TLS, "%s: cannot create a TLS context", k->c->address);
	SSL_CTX_set_min_proto_version(k->sctx, TLS1_2_VERSION);
	if (k->c->tls_verify) {
		if (k->c->ca_file ? SSL_CTX_load_verify_locations(k->sctx, k->c->ca_file, NULL) != 1
				  : SSL_CTX_set_default_verify_paths(k->sctx) != 1)
			return tk_seterr(err, TK_ERR_TLS, "%s: cannot load the CA file", k->c->address);
		SSL_set_verify(k->ssl, SSL_VERIFY_PEER, NULL);
		if (is_ip)
			X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(k->ssl), k->c->host);
		else
			SSL_set1_host(k->ssl, k->c->host);
	}
	if (!is_ip) /* RFC 6066: no SNI for address literals */
		SSL_set_tlsext_host_name(k->ssl, k->c->host);
	SSL_set_fd(k->ssl, k->fd);
	if (SSL_connect(k->ssl) != 1) {
		unsigned long e = ERR_get_error();
		char eb[256];
		ERR_error_string_n(e, eb, sizeof(eb));
		return tk_seterr(err, TK_ERR_TLS, "%s: TLS handshake failed: %s", k->c->address, eb);
	}
	return TK_OK;
}

static void rclose(struct rconn *k)
{
	if (k->ssl) {
		SSL_shutdown(k->ssl);
		SSL_free(k->ssl);
	}
	SSL_CTX_free(k->sctx);
	if (k->fd >= 0)
		tk_net_close(&k->peer, k->fd); /* gives the budget slot back */
	k->fd = -1;
	tk_buf_free(&k->in);
}

static int rsend(struct rconn *k, int argc, const char *const *argv, const size_t *lens, struct tk_err *err)
{
	struct tk_buf b;
	size_t off = 0;
	int rc;
	tk_buf_init(&b, 1 << 20);
	if ((rc = tk_resp_command(&b, argc, argv, lens))) {
		tk_buf_free(&b);
		return tk_seterr(err, rc, "command too long");
	}
	set_timeouts(k);
	while (off < b.len) {
		ssize_t n = k->ssl ? SSL_write(k->ssl, b.data + off, (int)(b.len - off))
				   : send(k->fd, b.data + off, b.len - off, MSG_NOSIGNAL);
		if (n <= 0) {
			if (!k->ssl && n < 0 && errno == EINTR)
				continue;
			tk_buf_free(&b);
			return tk_seterr(err, TK_ERR_NET, "%s: send failed", k->c->address);
		}
		off += (size_t)n;
	}
	tk_buf_free(&b);
	return TK_OK;
}

/* Read one reply; a "-ERR" reply is returned as a reply (caller decides). */
static int rrecv(struct rconn *k, struct tk_resp **out, struct tk_err *err)
{
	char chunk[16384];
	for (;;) {
		size_t used = 0;
		ssize_t n;
		int rc = k->in.len ? tk_resp_parse(k->in.data, k->in.len, (size_t)k->c->max_value_bytes, out, &used)
				   : TK_RESP_INCOMPLETE;
		if (rc == TK_OK) {
			memmove(k->in.data, k->in.data + used, k->in.len - used);
			k->in.len -= used;
			k->in.data[k->in.len] = '\0';
			return TK_OK;
		}
		if (rc == TK_ERR_LIMIT)
			return tk_seterr(err, TK_ERR_LIMIT, "%s: reply exceeds the size bound", k->c->address);
		if (rc != TK_RESP_INCOMPLETE)
			return tk_seterr(err, TK_ERR_PROTOCOL, "%s: malformed RESP reply", k->c->address);
		if (tk_run_cancelled(k->ctx))
			return tk_seterr(err, TK_ERR_TIMEOUT, "%s: deadline reached", k->c->address);
		set_timeouts(k);
		n = k->ssl ? SSL_read(k->ssl, chunk, sizeof(chunk)) : recv(k->fd, chunk, sizeof(chunk), 0);
		if (n < 0 && !k->ssl && errno == EINTR)
			continue;
		if (n <= 0)
			return tk_seterr(err, n == 0 ? TK_ERR_PROTOCOL : TK_ERR_TIMEOUT, "%s: %s", k->c->address,
					 n == 0 ? "connection closed" : "no reply before the timeout");
		if (tk_buf_append(&k->in, chunk, (size_t)n))
			return tk_seterr(err, TK_ERR_LIMIT, "%s: reply exceeds the size bound", k->c->address);
	}
}

static int rcall(struct rconn *k, int argc, const char *const *argv, const size_t *lens, struct tk_resp **out,
		 struct tk_err *err)
{
	int rc;
	*out = NULL;
	if ((rc = rsend(k, argc, argv, lens, err)) || (rc = rrecv(k, out, err)))
		return rc;
	return TK_OK;
}

static bool tokch(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
	       c == '+' || c == '/' || c == '=' || c == '.' || c == '~';
}

/* Printable form of a key or field: runs of 16+ token characters become fingerprints. */
static void redact(const char *s, size_t n, char *out, size_t cap)
{
	size_t i = 0, o = 0;
	out[0] = '\0';
	while (i < n && o + 32 < cap) {
		size_t a = i;
		while (i < n && tokch((unsigned char)s[i]))
			i++;
		if (i - a >= 16) {
			char fp[24];
			tk_fingerprint(s + a, i - a, fp);
			o += (size_t)snprintf(out + o, cap - o, "{%s}", fp);
		} else if (i > a) {
			size_t l = i - a;
			memcpy(out + o, s + a, l);
			o += l;
		}
		if (i < n && !tokch((unsigned char)s[i])) {
			unsigned char c = (unsigned char)s[i++];
			if (c >= 0x20 && c < 0x7f)
				out[o++] = (char)c;
			else
				o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
		}
		out[o] = '\0';
	}
	if (i < n && o + 4 < cap) {
		memcpy(out + o, "...", 4);
	}
}

struct vctx {
	tk_redis_hit_fn fn;
	void *u;
	const char *where;
};

static void on_text_hit(void *u, const struct tk_hit *h)
{
	struct vctx *v = u;
	v->fn(v->u, v->where, h);
}

static void judge_value(const struct tk_tokrules *r, const char *key, size_t kl, const char *v, size_t vl,
			long long exp, const char *where, tk_redis_hit_fn fn, void *u)
{
	struct tk_hit h;
	struct vctx vc = {fn, u, where};
	if (!tk_is_text((const unsigned char *)v, vl)) {
		if (tk_tok_classify_bin(r, key, kl, (const unsigned char *)v, vl, &h))
			fn(u, where, &h);
		return;
	}
	if (tk_tok_classify(r, key, kl, v, vl, exp, &h)) {
		fn(u, where, &h);
		return;
	}
	if (vl > 16 && tk_tok_scan_json(r, v, vl, on_text_hit, &vc) < 0)
		tk_tok_scan_text(r, v, vl, on_text_hit, &vc);
}

static bool is_err(const struct tk_resp *r)
{
	return r && r->type == TK_RESP_ERROR;
}

static int reply_error(const struct tk_redis_cfg *c, const char *what, const struct tk_resp *r, int cls,
		       struct tk_err *err)
{
	char *e = tk_escape_bytes(r && r->str ? r->str : "", r && r->str ? r->len : 0, 200);
	int rc = tk_seterr(err, cls, "%s: %s: %s", c->address, what, e ? e : "");
	free(e);
	return rc;
}

static int read_key(struct rconn *k, const struct tk_tokrules *r, const char *key, size_t kl, tk_redis_hit_fn fn,
		    void *u, struct tk_redis_stats *st, struct tk_err *err)
{
	const char *argv[2];
	size_t lens[2];
	struct tk_resp *t = NULL, *v = NULL;
	char shown[600], where[1400];
	int rc;
	argv[0] = "TYPE";
	argv[1] = key;
	lens[0] = 4;
	lens[1] = kl;
	redact(key, kl, shown, sizeof(shown));
	snprintf(where, sizeof(where), "key %s", shown);
	/* the key name itself may be a stored credential */
	{
		struct vctx vc = {fn, u, where};
		tk_tok_scan_text(r, key, kl, on_text_hit, &vc);
	}
	if ((rc = rcall(k, 2, argv, lens, &t, err)))
		goto out;
	if (t->type != TK_RESP_SIMPLE) {
		st->skipped++;
		goto out;
	}
	if (strcmp(t->str, "string") == 0) {
		/* STRLEN first: a value over the bound is skipped, not read */
		argv[0] = "STRLEN";
		lens[0] = 6;
		if ((rc = rcall(k, 2, argv, lens, &v, err)))
			goto out;
		if (v->type != TK_RESP_INT || v->integer > k->c->max_value_bytes) {
			st->skipped++;
			if (v->type == TK_RESP_INT)
				st->oversize++;
			goto out;
		}
		tk_resp_free(v);
		v = NULL;
		argv[0] = "GET";
		lens[0] = 3;
		rc = rcall(k, 2, argv, lens, &v, err);
		if (rc == TK_ERR_LIMIT) {
			/* too large to read: drop the connection state by reconnecting is costly; stop here */
			goto out;
		}
		if (rc)
			goto out;
		st->keys++;
		if (v->type == TK_RESP_BULK && !v->is_null)
			judge_value(r, key, kl, v->str, v->len, -1, where, fn, u);
	} else if (strcmp(t->str, "hash") == 0) {
		size_t i;
		long long exp = -1;
		argv[0] = "HGETALL";
		lens[0] = 7;
		if ((rc = rcall(k, 2, argv, lens, &v, err)))
			goto out;
		st->keys++;
		if (v->type != TK_RESP_ARRAY)
			goto out;
		for (i = 0; i + 1 < v->n; i += 2) {
			const struct tk_resp *f = v->elems[i], *val = v->elems[i + 1];
			long long x;
			if (f->str && val->str && strcmp(f->str, "expires_in") == 0 &&
			    tk_parse_ll(val->str, 0, 1000000000000LL, &x) == TK_OK)
				exp = x;
		}
		for (i = 0; i + 1 < v->n; i += 2) {
			const struct tk_resp *f = v->elems[i], *val = v->elems[i + 1];
			char fs[300], w2[1800];
			if (!f->str || !val->str)
				continue;
			redact(f->str, f->len, fs, sizeof(fs));
			snprintf(w2, sizeof(w2), "%s field %s", where, fs);
			judge_value(r, f->str, f->len, val->str, val->len, exp, w2, fn, u);
		}
	} else {
		st->skipped++; /* lists, sets, streams: not read */
	}
out:
	tk_resp_free(t);
	tk_resp_free(v);
	return rc;
}

int tk_redis_scan(const struct tk_redis_cfg *c, const struct tk_tokrules *r, struct tk_runctx *ctx,
		  tk_redis_hit_fn fn, void *u, struct tk_redis_stats *st, struct tk_err *err)
{
	struct rconn k;
	struct tk_resp *rep = NULL;
	char cursor[32] = "0";
	const char *pw = NULL;
	int rc;
	memset(&k, 0, sizeof(k));
	k.fd = -1;
	k.c = c;
	k.ctx = ctx;
	tk_buf_init(&k.in, (size_t)c->max_value_bytes * 2 + 65536);
	st->complete = false;
	if (c->password_env && (!(pw = getenv(c->password_env)) || !*pw)) {
		/* checked before connecting: a missing secret sends nothing */
		rc = tk_seterr(err, TK_ERR_CONFIG, "%s: environment variable %s (password_env) is not set", c->address,
			       c->password_env);
		goto out;
	}
	if ((rc = rconnect(&k, err)))
		goto out;
	if (c->password_env) {
		const char *argv[3];
		int argc = 0;
		argv[argc++] = "AUTH";
		if (c->username)
			argv[argc++] = c->username;
		argv[argc++] = pw;
		if ((rc = rcall(&k, argc, argv, NULL, &rep, err)))
			goto out;
		if (is_err(rep)) {
			rc = reply_error(c, "AUTH refused", rep, TK_ERR_AUTH, err);
			goto out;
		}
		tk_resp_free(rep);
		rep = NULL;
	}
	if (c->db) {
		char db[24];
		const char *argv[2] = {"SELECT", db};
		snprintf(db, sizeof(db), "%lld", c->db);
		if ((rc = rcall(&k, 2, argv, NULL, &rep, err)))
			goto out;
		if (is_err(rep)) {
			rc = reply_error(c, "SELECT refused", rep, TK_ERR_PROTOCOL, err);
			goto out;
		}
		tk_resp_free(rep);
		rep = NULL;
	}
	do {
		const char *argv[6] = {"SCAN", cursor, "MATCH", c->match, "COUNT", "100"};
		const struct tk_resp *keys;
		size_t i;
		if ((rc = rcall(&k, 6, argv, NULL, &rep, err)))
			goto out;
		if (is_err(rep)) {
			rc = reply_error(c, "SCAN refused", rep, rep->str && strncmp(rep->str, "NOAUTH", 6) == 0
								      ? TK_ERR_AUTH : TK_ERR_PROTOCOL, err);
			goto out;
		}
		if (rep->type != TK_RESP_ARRAY || rep->n != 2 || rep->elems[0]->type != TK_RESP_BULK ||
		    !rep->elems[0]->str || rep->elems[0]->len >= sizeof(cursor) ||
		    rep->elems[1]->type != TK_RESP_ARRAY) {
			rc = tk_seterr(err, TK_ERR_PROTOCOL, "%s: unexpected SCAN reply", c->address);
			goto out;
		}
		memcpy(cursor, rep->elems[0]->str, rep->elems[0]->len + 1);
		keys = rep->elems[1];
		for (i = 0; i < keys->n; i++) {
			const struct tk_resp *key = keys->elems[i];
			if (st->keys + st->skipped >= c->max_keys || tk_run_cancelled(ctx)) {
				snprintf(st->why, sizeof(st->why), "%s",
					 tk_run_cancelled(ctx) ? "the deadline passed before every key was read"
							       : "max_keys reached before every key was read");
				goto done;
			}
			if (key->type != TK_RESP_BULK || !key->str)
				continue;
			if ((rc = read_key(&k, r, key->str, key->len, fn, u, st, err))) {
				if (rc != TK_ERR_LIMIT)
					goto out;
				snprintf(st->why, sizeof(st->why), "a value over max_value_bytes ended the walk");
				goto done; /* a value over the bound: the stream is now out of step */
			}
		}
		tk_resp_free(rep);
		rep = NULL;
	} while (strcmp(cursor, "0") != 0);
	st->complete = true;
done:
	rc = TK_OK;
out:
	tk_resp_free(rep);
	rclose(&k);
	return rc;
}
