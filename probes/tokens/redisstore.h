/*
 * redisstore.h - the Redis token store: a read-only RESP2 client (optionally
 * over TLS) that walks keys with SCAN under a key budget and reads strings
 * (GET) and hashes (HGETALL) for tokens and passwords.
 */
#ifndef TK_REDISSTORE_H
#define TK_REDISSTORE_H

#include <stdbool.h>

#include "probe.h"
#include "tokscan.h"

struct tk_redis_cfg {
	char *address;        /* "host:port" as configured ("[::1]:6379" for IPv6) */
	char *host, *port;
	char *password_env;   /* name of the variable holding the password, or NULL */
	char *username;       /* ACL user (Redis 6+), or NULL */
	char *match;          /* SCAN MATCH pattern, default "*" */
	char *ca_file;        /* TLS: CA bundle; NULL = system default */
	bool tls, tls_verify;
	long long db, max_keys, max_value_bytes, timeout_ms;
};

int tk_redis_configure(struct tk_redis_cfg *c, const cJSON *e, const struct tk_cfgctx *cc, const char *path,
		       struct tk_err *err);
void tk_redis_cfg_free(struct tk_redis_cfg *c);

struct tk_redis_stats {
	long long keys;     /* keys read */
	long long skipped;  /* other types, or values over the size bound */
	long long oversize; /* string values over max_value_bytes, not read (also in skipped) */
	bool complete;      /* SCAN finished within the key budget and deadline */
	char why[160];      /* when not complete: which bound stopped the walk */
};

/* where: "key <name>" / "key <name> field <f>", long runs redacted to fingerprints. */
typedef void (*tk_redis_hit_fn)(void *u, const char *where, const struct tk_hit *h);

int tk_redis_scan(const struct tk_redis_cfg *c, const struct tk_tokrules *r, struct tk_runctx *ctx,
		  tk_redis_hit_fn fn, void *u, struct tk_redis_stats *st, struct tk_err *err);

#endif
