/*
 * tokscan.h - find stored tokens and passwords in values and text, and say
 * whether each is plaintext, encrypted (a recognised envelope), or unknown.
 * Hits carry a fingerprint and metadata only, never the value.
 */
#ifndef TK_TOKSCAN_H
#define TK_TOKSCAN_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#include "envelope.h"
#include "jwt.h"

struct tk_bank_pattern {
	char *name;     /* e.g. "bank access token" */
	char *prefix;   /* literal prefix, or NULL */
	regex_t re;     /* POSIX ERE on the whole value when has_re */
	bool has_re;
};

struct tk_tokrules {
	char **token_keys;      /* extra key names (normalised: lower case, no '_' '-') */
	size_t ntoken_keys;
	char **password_keys;
	size_t npassword_keys;
	struct tk_bank_pattern *bank;
	size_t nbank;
};

enum tk_hit_class {
	TK_HIT_PLAIN_TOKEN,
	TK_HIT_ENCRYPTED,
	TK_HIT_UNKNOWN,         /* opaque binary under a token key: ciphertext or random token */
	TK_HIT_PLAIN_PASSWORD,
	TK_HIT_HASHED_PASSWORD,
};

struct tk_hit {
	enum tk_hit_class cls;
	char kind[64];          /* "JWT access token", "refresh token", bank name, "password" */
	char key[64];           /* the key/column the value was under ("" for free text) */
	long long lifetime;     /* seconds, -1 unknown */
	const char *lifetime_basis; /* "exp-iat", "expires_in", "no-exp", "unknown" */
	char fp[24];            /* tk_fingerprint of the value */
	bool is_jwt;
	struct tk_jwt jwt;
	struct tk_envelope env; /* for TK_HIT_ENCRYPTED */
	size_t line;            /* 1-based line in text; 0 when not applicable */
};

typedef void (*tk_hit_fn)(void *u, const struct tk_hit *h);

/* Key names: what a key says its value is. */
enum tk_key_class { TK_KEY_NONE, TK_KEY_ACCESS, TK_KEY_REFRESH, TK_KEY_ID, TK_KEY_CODE, TK_KEY_TOKEN,
		    TK_KEY_PASSWORD };
enum tk_key_class tk_tok_key_class(const struct tk_tokrules *r, const char *key, size_t klen);
/* The key marks encrypted content ("encrypted_token", "enc", "ciphertext", ...). */
bool tk_tok_key_enc_hint(const char *key, size_t klen);

/*
 * Classify one value found under key (klen may be 0). expires_in: a sibling
 * lifetime in seconds, or -1. Returns true and fills *h when the value is a
 * token, password or envelope worth reporting.
 */
bool tk_tok_classify(const struct tk_tokrules *r, const char *key, size_t klen, const char *v, size_t vlen,
		     long long expires_in, struct tk_hit *h);
/* The same for raw bytes (a database BLOB that is not text). */
bool tk_tok_classify_bin(const struct tk_tokrules *r, const char *key, size_t klen, const unsigned char *v,
			 size_t vlen, struct tk_hit *h);

/*
 * Scan text line by line: key/value pairs (JSON members, YAML, .env,
 * properties, query strings) and free-standing JWTs, JWEs, Fernet tokens,
 * Vault ciphertexts, "Bearer" tokens and bank-format tokens. Calls fn per hit.
 * Returns the number of hits.
 */
size_t tk_tok_scan_text(const struct tk_tokrules *r, const char *buf, size_t len, tk_hit_fn fn, void *u);

/*
 * Scan a JSON document: every string member is classified under its key,
 * with a sibling "expires_in" as its lifetime; lines are located in the text.
 * Returns -1 when buf is not JSON (scan it as text then), else the hit count.
 */
long tk_tok_scan_json(const struct tk_tokrules *r, const char *buf, size_t len, tk_hit_fn fn, void *u);

void tk_tokrules_free(struct tk_tokrules *r);

/* Open a partner's SQLite database as untrusted input (read-only, defensive,
 * untrusted schema, hard limits; see tokens.c). */
struct sqlite3;
struct tk_err;
int tk_sqlite_open_untrusted(const char *path, struct sqlite3 **out, struct tk_err *err);

/* open(rel) beneath the directory rootfd, following no symbolic link on the
 * way (openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS, else openat per component). */
int tk_open_beneath(int rootfd, const char *rel, int flags);

#endif
