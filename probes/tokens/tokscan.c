/*
 * tokscan.c - token and password classification over values and text.
 *
 * Judgement order for a value under a key:
 *  1. a recognised encrypted envelope (envelope.c)      -> encrypted
 *  2. a decodable JWS JWT                                -> plaintext token
 *  3. a bank-format token (configured prefix / pattern)  -> plaintext token
 *  4. a token-shaped value under an OAuth-shaped key     -> plaintext token,
 *     unless it decodes to >= 44 bytes of binary (could be nonce+ct+tag)
 *                                                        -> unknown
 *  5. under a password-shaped key: a known hash format   -> hashed password,
 *     otherwise a password-shaped value                  -> plaintext password
 */
#include "tokscan.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tk.h"

#define KEY_NORM_MAX 128
#define TOKEN_MIN_LEN 16
#define TOKEN_MAX_LEN 8192
#define JSON_MAX_DEPTH 64

/* lower case without '_', '-', '.', ' ' */
static size_t key_norm(const char *k, size_t kl, char *out, size_t cap)
{
	size_t i, o = 0;
	for (i = 0; i < kl && o + 1 < cap; i++) {
		unsigned char c = (unsigned char)k[i];
		if (c == '_' || c == '-' || c == ' ' || c == '"' || c == '\'')
			continue;
		out[o++] = (char)tolower(c);
	}
	out[o] = '\0';
	return o;
}

static bool ends_with(const char *s, size_t n, const char *suf)
{
	size_t l = strlen(suf);
	return n >= l && memcmp(s + n - l, suf, l) == 0;
}

static bool in_list(char **list, size_t n, const char *s)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

/* One pass: does the key contain a stem every credential key name below has? */
static bool maybe_credential_key(const char *k, size_t n)
{
	static const char stems[][4] = {"tok", "cod", "pas", "pwd", "bea", "aut"};
	size_t i, j;
	for (i = 0; i + 3 <= n; i++)
		for (j = 0; j < TK_ARRAY_LEN(stems); j++)
			if (k[i] == stems[j][0] && k[i + 1] == stems[j][1] && k[i + 2] == stems[j][2])
				return true;
	return false;
}

enum tk_key_class tk_tok_key_class(const struct tk_tokrules *r, const char *key, size_t klen)
{
	char n[KEY_NORM_MAX], *last;
	size_t nl;
	if (!key || klen == 0)
		return TK_KEY_NONE;
	nl = key_norm(key, klen, n, sizeof(n));
	/* For dotted or colon paths (properties, Redis keys) judge the last named segment. */
	last = n;
	{
		char *p;
		for (p = n; *p; p++)
			if ((*p == ':' || *p == '/') && p[1] && !isdigit((unsigned char)p[1]))
				last = p + 1;
	}
	nl = strlen(last);
	if (!(r && (r->ntoken_keys || r->npassword_keys)) && !maybe_credential_key(last, nl))
		return TK_KEY_NONE;
	if (r && in_list(r->token_keys, r->ntoken_keys, last))
		return TK_KEY_TOKEN;
	if (r && in_list(r->password_keys, r->npassword_keys, last))
		return TK_KEY_PASSWORD;
	if (strstr(last, "refreshtoken"))
		return TK_KEY_REFRESH;
	if (strstr(last, "accesstoken"))
		return TK_KEY_ACCESS;
	if (strstr(last, "idtoken"))
		return TK_KEY_ID;
	if (strcmp(last, "code") == 0 || strstr(last, "authorizationcode") || strstr(last, "authcode") ||
	    strstr(last, "authzcode"))
		return TK_KEY_CODE;
	if (ends_with(last, nl, "token") || ends_with(last, nl, "tokens") || strstr(last, "bearer") ||
	    strcmp(last, "authorization") == 0)
		return TK_KEY_TOKEN;
	if (strstr(last, "password") || strstr(last, "passwd") || strcmp(last, "pwd") == 0 ||
	    strcmp(last, "pass") == 0 || strcmp(last, "passphrase") == 0 || ends_with(last, nl, "pwd"))
		return TK_KEY_PASSWORD;
	return TK_KEY_NONE;
}

bool tk_tok_key_enc_hint(const char *key, size_t klen)
{
	char n[KEY_NORM_MAX];
	size_t nl, i;
	static const char *const marks[] = {"encrypted", "cipher", "sealed", "wrapped", "kms", "crypt"};
	if (!key || !klen)
		return false;
	nl = key_norm(key, klen, n, sizeof(n));
	for (i = 0; i < TK_ARRAY_LEN(marks); i++)
		if (strstr(n, marks[i]))
			return true;
	/* "enc" only as a whole segment of the original key: enc_token, token.enc */
	for (i = 0; i + 3 <= klen; i++) {
		if ((key[i] != 'e' && key[i] != 'E') || strncasecmp(key + i, "enc", 3) != 0)
			continue;
		if ((i == 0 || !isalnum((unsigned char)key[i - 1])) &&
		    (i + 3 == klen || !isalnum((unsigned char)key[i + 3]) || isupper((unsigned char)key[i + 3])))
			return true;
	}
	(void)nl;
	return false;
}

static inline bool alnum_ascii(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static inline bool tok_char(unsigned char c)
{
	return alnum_ascii(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '+' || c == '/' || c == '=';
}

/* A credential-shaped string: long enough, token alphabet, not a placeholder. */
static bool token_like(const char *v, size_t n)
{
	size_t i, digits = 0, upper = 0, lower = 0;
	bool seen[256] = {false};
	size_t distinct = 0;
	if (n < TOKEN_MIN_LEN || n > TOKEN_MAX_LEN)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		if (!tok_char(c))
			return false;
		digits += isdigit(c) != 0;
		upper += isupper(c) != 0;
		lower += islower(c) != 0;
		if (!seen[c]) {
			seen[c] = true;
			distinct++;
		}
	}
	if (distinct < 8)
		return false; /* xxxxxxxx..., 0000..., placeholders */
	return digits > 0 || (upper > 0 && lower > 0);
}

static bool password_like(const char *v, size_t n)
{
	size_t i, stars = 0;
	static const char *const skip[] = {"null", "none", "true", "false", "nil", "undefined"};
	if (n == 0 || n > 256)
		return false;
	for (i = 0; i < TK_ARRAY_LEN(skip); i++)
		if (n == strlen(skip[i]) && strncasecmp(v, skip[i], n) == 0)
			return false;
	if ((n >= 2 && v[0] == '$' && (v[1] == '{' || v[1] == '(')) || (n >= 2 && v[0] == '{' && v[1] == '{') ||
	    (n >= 2 && v[0] == '%' && v[1] == '(') || (v[0] == '<' && v[n - 1] == '>'))
		return false; /* a reference to somewhere else, not a stored password */
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c < 0x20 || c == 0x7f)
			return false;
		stars += c == '*' || c == 'x' || c == 'X';
	}
	return stars != n;
}

static bool all_hex(const char *v, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)v[i]))
			return false;
	return true;
}

/* A known password-hash encoding (modular crypt, LDAP schemes, frameworks, bare digests). */
static bool hash_like(const char *v, size_t n)
{
	static const char *const pre[] = {"$2a$", "$2b$", "$2y$", "$2x$", "$argon2", "$scrypt$", "$7$", "$1$",
					   "$5$", "$6$", "$y$", "$pbkdf2", "$sha1$", "pbkdf2_sha", "pbkdf2:",
					   "scrypt:", "argon2", "bcrypt$", "sha1$", "md5$", "{SSHA}", "{SHA}",
					   "{SSHA256}", "{SSHA512}", "{CRYPT}", "{bcrypt}", "{pbkdf2}", "{scrypt}",
					   "{argon2}", "{sha256}", "{MD5}", "{SMD5}"};
	size_t i;
	unsigned char tmp[128];
	size_t tl;
	for (i = 0; i < TK_ARRAY_LEN(pre); i++) {
		size_t l = strlen(pre[i]);
		if (n > l + 8 && strncasecmp(v, pre[i], l) == 0)
			return true;
	}
	if ((n == 32 || n == 40 || n == 64 || n == 96 || n == 128) && all_hex(v, n))
		return true; /* a bare digest: hashed (unsalted digests are weak, but not plaintext) */
	if ((n == 44 || n == 88) && tk_b64_decode(v, n, TK_B64_ANY, tmp, sizeof(tmp), &tl) && (tl == 32 || tl == 64))
		return true;
	return false;
}

/* Cheap reset; the fingerprint and the key text are filled by hit_finish on a hit only. */
static void hit_init(struct tk_hit *h)
{
	h->cls = TK_HIT_PLAIN_TOKEN;
	h->kind[0] = h->key[0] = h->fp[0] = '\0';
	h->lifetime = -1;
	h->lifetime_basis = "unknown";
	h->is_jwt = false;
	h->line = 0;
	memset(&h->env, 0, sizeof(h->env));
}

static bool hit_finish(struct tk_hit *h, const char *key, size_t klen, const void *v, size_t vlen)
{
	size_t i, o = 0;
	tk_fingerprint(v, vlen, h->fp);
	/* key names are printable in practice; anything else becomes '?' */
	for (i = 0; key && i < klen && o + 1 < sizeof(h->key); i++) {
		unsigned char c = (unsigned char)key[i];
		h->key[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	h->key[o] = '\0';
	return true;
}

static const char *key_kind_name(enum tk_key_class kc)
{
	switch (kc) {
	case TK_KEY_ACCESS: return "access token";
	case TK_KEY_REFRESH: return "refresh token";
	case TK_KEY_ID: return "ID token";
	case TK_KEY_CODE: return "authorization code";
	case TK_KEY_PASSWORD: return "password";
	default: return "token";
	}
}

static bool bank_match(const struct tk_tokrules *r, const char *v, size_t n, const char **name)
{
	size_t i;
	for (i = 0; r && i < r->nbank; i++) {
		const struct tk_bank_pattern *b = &r->bank[i];
		if (b->prefix) {
			size_t pl = strlen(b->prefix);
			if (n > pl + 7 && memcmp(v, b->prefix, pl) == 0) {
				*name = b->name;
				return true;
			}
		}
		if (b->has_re && n < 4096) {
			char tmp[4096];
			regmatch_t m;
			memcpy(tmp, v, n);
			tmp[n] = '\0';
			if (regexec(&b->re, tmp, 1, &m, 0) == 0 && m.rm_so == 0 && (size_t)m.rm_eo == n) {
				*name = b->name;
				return true;
			}
		}
	}
	return false;
}

static bool ci_contains(const char *h, const char *n)
{
	size_t hl = strlen(h), nl = strlen(n), i;
	for (i = 0; i + nl <= hl; i++)
		if (strncasecmp(h + i, n, nl) == 0)
			return true;
	return false;
}

static void set_jwt_kind(struct tk_hit *h, enum tk_key_class kc)
{
	const char *k;
	if (ci_contains(h->jwt.use, "refresh") || kc == TK_KEY_REFRESH)
		k = "JWT refresh token";
	else if (strcasecmp(h->jwt.typ, "at+jwt") == 0 || strcasecmp(h->jwt.use, "access") == 0 ||
		 strcasecmp(h->jwt.use, "bearer") == 0 || kc == TK_KEY_ACCESS)
		k = "JWT access token";
	else if (h->jwt.has_nonce || kc == TK_KEY_ID || strcasecmp(h->jwt.use, "id") == 0)
		k = "JWT ID token";
	else if (kc == TK_KEY_CODE)
		k = "JWT authorization code";
	else if (h->jwt.has_scope)
		k = "JWT access token";
	else
		k = "JWT";
	snprintf(h->kind, sizeof(h->kind), "%s", k);
	h->lifetime = tk_jwt_lifetime(&h->jwt);
	if (h->lifetime >= 0)
		h->lifetime_basis = "exp-iat";
	else if (!h->jwt.has_exp)
		h->lifetime_basis = "no-exp";
}

static bool judge_password(struct tk_hit *h, const char *key, size_t klen, const char *v, size_t vlen)
{
	if (hash_like(v, vlen))
		h->cls = TK_HIT_HASHED_PASSWORD;
	else if (password_like(v, vlen))
		h->cls = TK_HIT_PLAIN_PASSWORD;
	else
		return false;
	snprintf(h->kind, sizeof(h->kind), "password");
	return hit_finish(h, key, klen, v, vlen);
}

bool tk_tok_classify(const struct tk_tokrules *r, const char *key, size_t klen, const char *v, size_t vlen,
		     long long expires_in, struct tk_hit *h)
{
	enum tk_key_class kc;
	bool hint, bearer;
	const char *bank = NULL;
	unsigned char bin[8192];
	size_t bl = 0;
	hit_init(h);
	if (vlen == 0)
		return false;
	/* "Bearer <token>" under an Authorization-like key: judge the token part. */
	bearer = vlen > 7 && strncasecmp(v, "Bearer ", 7) == 0;
	if (bearer) {
		v += 7;
		vlen -= 7;
	}
	if (!bearer && (vlen < 8 || memchr(v, ' ', vlen))) {
		/* too short or with spaces: no token or envelope, though maybe a password */
		if (tk_tok_key_class(r, key, klen) != TK_KEY_PASSWORD)
			return false;
		return judge_password(h, key, klen, v, vlen);
	}
	if (vlen < 8)
		return false;
	kc = tk_tok_key_class(r, key, klen);
	if (bearer && kc == TK_KEY_NONE)
		kc = TK_KEY_ACCESS;
	hint = tk_tok_key_enc_hint(key, klen);
	if (tk_envelope_text(v, vlen, hint, &h->env)) {
		h->cls = TK_HIT_ENCRYPTED;
		snprintf(h->kind, sizeof(h->kind), "%s", kc == TK_KEY_NONE ? "encrypted value" : key_kind_name(kc));
		return hit_finish(h, key, klen, v, vlen);
	}
	if (vlen >= 20 && v[0] == 'e' && v[1] == 'y' && tk_jwt_decode(v, vlen, &h->jwt, NULL, 0) == 0) {
		h->cls = TK_HIT_PLAIN_TOKEN;
		h->is_jwt = true;
		set_jwt_kind(h, kc);
		if (h->lifetime < 0 && h->jwt.has_exp && expires_in >= 0) {
			h->lifetime = expires_in;
			h->lifetime_basis = "expires_in";
		}
		return hit_finish(h, key, klen, v, vlen);
	}
	if (bank_match(r, v, vlen, &bank)) {
		h->cls = TK_HIT_PLAIN_TOKEN;
		snprintf(h->kind, sizeof(h->kind), "%s", bank);
	} else if (kc != TK_KEY_NONE && kc != TK_KEY_PASSWORD && token_like(v, vlen)) {
		if (tk_b64_decode(v, vlen, TK_B64_ANY, bin, sizeof(bin), &bl) && bl >= 44 && !tk_is_text(bin, bl)) {
			h->cls = TK_HIT_UNKNOWN;
			snprintf(h->kind, sizeof(h->kind), "%s", key_kind_name(kc));
			return hit_finish(h, key, klen, v, vlen);
		}
		h->cls = TK_HIT_PLAIN_TOKEN;
		snprintf(h->kind, sizeof(h->kind), "%s", key_kind_name(kc));
	} else if (kc == TK_KEY_PASSWORD) {
		return judge_password(h, key, klen, v, vlen);
	} else {
		return false;
	}
	if (expires_in >= 0) {
		h->lifetime = expires_in;
		h->lifetime_basis = "expires_in";
	}
	return hit_finish(h, key, klen, v, vlen);
}

bool tk_tok_classify_bin(const struct tk_tokrules *r, const char *key, size_t klen, const unsigned char *v,
			 size_t vlen, struct tk_hit *h)
{
	enum tk_key_class kc = tk_tok_key_class(r, key, klen);
	hit_init(h);
	if (tk_envelope_binary(v, vlen, tk_tok_key_enc_hint(key, klen), &h->env)) {
		h->cls = TK_HIT_ENCRYPTED;
		snprintf(h->kind, sizeof(h->kind), "%s", kc == TK_KEY_NONE ? "encrypted value" : key_kind_name(kc));
		return hit_finish(h, key, klen, v, vlen);
	}
	if (kc == TK_KEY_PASSWORD && (vlen == 16 || vlen == 20 || vlen == 32 || vlen == 48 || vlen == 64)) {
		h->cls = TK_HIT_HASHED_PASSWORD; /* a raw digest */
		snprintf(h->kind, sizeof(h->kind), "password");
		return hit_finish(h, key, klen, v, vlen);
	}
	if (kc != TK_KEY_NONE && vlen >= 16) {
		h->cls = TK_HIT_UNKNOWN;
		snprintf(h->kind, sizeof(h->kind), "%s", key_kind_name(kc));
		return hit_finish(h, key, klen, v, vlen);
	}
	return false;
}

/* ---- text scanning ---- */

static inline bool key_char(unsigned char c)
{
	return alnum_ascii(c) || c == '_' || c == '-' || c == '.' || c == ':' || c == '/';
}

static bool has_bytes(const char *s, size_t n, const char *pat, size_t pl)
{
	const char *p = s, *end = s + n;
	while ((size_t)(end - p) >= pl && (p = memchr(p, pat[0], (size_t)(end - p) - pl + 1))) {
		if (memcmp(p, pat, pl) == 0)
			return true;
		p++;
	}
	return false;
}

/* Find a number after "expires_in" on this line, or -1. */
static long long line_expires_in(const char *s, size_t n)
{
	static const char *const names[] = {"expires_in", "expiresIn", "expires-in"};
	size_t i, k;
	if (n < 10 || !has_bytes(s, n, "xpires", 6))
		return -1;
	for (k = 0; k < TK_ARRAY_LEN(names); k++) {
		size_t l = strlen(names[k]);
		for (i = 0; i + l < n; i++) {
			if (memcmp(s + i, names[k], l) == 0) {
				size_t j = i + l;
				long long v = 0;
				int d = 0;
				while (j < n &&
				       (s[j] == '"' || s[j] == '\'' || s[j] == ' ' || s[j] == ':' || s[j] == '='))
					j++;
				while (j < n && isdigit((unsigned char)s[j]) && d < 12) {
					v = v * 10 + (s[j++] - '0');
					d++;
				}
				if (d > 0)
					return v;
			}
		}
	}
	return -1;
}

struct span {
	size_t a, b;
};

static void emit(tk_hit_fn fn, void *u, struct tk_hit *h, size_t line, size_t *count)
{
	h->line = line;
	fn(u, h);
	(*count)++;
}

/* Free-standing credentials in a run of token characters outside key/value pairs. */
static void scan_run(const struct tk_tokrules *r, const char *s, size_t n, size_t line, bool after_bearer,
		     tk_hit_fn fn, void *u, size_t *count)
{
	struct tk_hit h;
	const char *bank = NULL;
	if (n < TOKEN_MIN_LEN)
		return;
	/* trim trailing dots (end of sentence) */
	while (n > 0 && s[n - 1] == '.')
		n--;
	if ((n > 20 && memcmp(s, "eyJ", 3) == 0) || (n > 40 && memcmp(s, "gAAAAA", 6) == 0) ||
	    (n > 9 && memcmp(s, "vault:v", 7) == 0)) {
		if (tk_tok_classify(r, after_bearer ? "access_token" : NULL, after_bearer ? 12 : 0, s, n, -1, &h)) {
			if (!after_bearer)
				h.key[0] = '\0';
			emit(fn, u, &h, line, count);
		}
		return;
	}
	if (bank_match(r, s, n, &bank) || (after_bearer && token_like(s, n))) {
		if (tk_tok_classify(r, "access_token", 12, s, n, -1, &h)) {
			h.key[0] = '\0';
			if (after_bearer && !bank)
				snprintf(h.kind, sizeof(h.kind), "bearer token");
			emit(fn, u, &h, line, count);
		}
	}
}

struct textbuf {
	const char *buf;
	size_t len;
};

static size_t indent_of(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i;
}

/*
 * YAML and similar: "expires_in: N" on a neighbouring line of the same block
 * (same indentation, at most 10 lines away, not past a less indented line).
 */
static long long block_expires_in(const struct textbuf *tb, const char *line, size_t n)
{
	size_t ind = indent_of(line, n);
	int dir;
	if (!tb)
		return -1;
	for (dir = -1; dir <= 1; dir += 2) {
		const char *p = line;
		int k;
		for (k = 0; k < 10; k++) {
			const char *ls, *le;
			size_t ll, li;
			if (dir < 0) {
				if (p <= tb->buf)
					break;
				le = p - 1; /* the '\n' ending the previous line */
				ls = le;
				while (ls > tb->buf && ls[-1] != '\n')
					ls--;
			} else {
				const char *nl = memchr(p, '\n', (size_t)(tb->buf + tb->len - p));
				if (!nl)
					break;
				ls = nl + 1;
				le = memchr(ls, '\n', (size_t)(tb->buf + tb->len - ls));
				if (!le)
					le = tb->buf + tb->len;
			}
			ll = (size_t)(le - ls);
			li = indent_of(ls, ll);
			if (li < ll) {
				if (li < ind)
					break; /* left the block */
				if (li == ind && (ll - li >= 10) && (memcmp(ls + li, "expires_in", 10) == 0 ||
								   memcmp(ls + li, "expiresIn", 9) == 0)) {
					long long e = line_expires_in(ls, ll);
					if (e >= 0)
						return e;
				}
			}
			p = ls;
		}
	}
	return -1;
}

static void scan_line(const struct tk_tokrules *r, const struct textbuf *tb, const char *s, size_t n, size_t line,
		      tk_hit_fn fn, void *u, size_t *count)
{
	struct span used[32];
	size_t nused = 0, i = 0, k;
	long long exp = line_expires_in(s, n);
	/* pass 1: key/value pairs */
	while (i < n) {
		size_t ks, ke, vs, ve, j;
		char q = 0;
		struct tk_hit h;
		if (s[i] == '"' || s[i] == '\'') {
			q = s[i];
			ks = i + 1;
			j = ks;
			while (j < n && key_char((unsigned char)s[j]))
				j++;
			if (j >= n || s[j] != q) {
				i++;
				continue;
			}
			ke = j;
			j++;
		} else if (key_char((unsigned char)s[i]) && (i == 0 || !key_char((unsigned char)s[i - 1]))) {
			ks = i;
			j = i;
			while (j < n && key_char((unsigned char)s[j]) && s[j] != ':')
				j++;
			ke = j;
		} else {
			i++;
			continue;
		}
		while (j < n && (s[j] == ' ' || s[j] == '\t'))
			j++;
		if (j >= n || (s[j] != ':' && s[j] != '=') || ke == ks) {
			i = ke > i ? ke : i + 1;
			continue;
		}
		j++;
		while (j < n && (s[j] == ' ' || s[j] == '\t'))
			j++;
		if (j < n && (s[j] == '"' || s[j] == '\'')) {
			char vq = s[j];
			vs = j + 1;
			ve = vs;
			while (ve < n && s[ve] != vq) {
				if (s[ve] == '\\' && ve + 1 < n)
					ve++;
				ve++;
			}
			i = ve < n ? ve + 1 : n;
		} else {
			vs = j;
			ve = vs;
			while (ve < n && s[ve] != ' ' && s[ve] != '\t' && s[ve] != ',' && s[ve] != ';' &&
			       s[ve] != '&' && s[ve] != '}' && s[ve] != ']' && s[ve] != '#' && s[ve] != '\r')
				ve++;
			/* "Authorization: Bearer xyz": take the second word too */
			if (ve - vs == 6 && strncasecmp(s + vs, "Bearer", 6) == 0 && ve < n && s[ve] == ' ') {
				ve++;
				while (ve < n && tok_char((unsigned char)s[ve]))
					ve++;
			}
			i = ve;
		}
		if (ve > n)
			ve = n;
		if (ve > vs && tk_tok_classify(r, s + ks, ke - ks, s + vs, ve - vs, exp, &h)) {
			if (h.cls == TK_HIT_PLAIN_TOKEN && h.lifetime < 0 && !h.is_jwt) {
				long long be = block_expires_in(tb, s, n);
				if (be >= 0) {
					h.lifetime = be;
					h.lifetime_basis = "expires_in";
				}
			}
			emit(fn, u, &h, line, count);
			if (nused < TK_ARRAY_LEN(used)) {
				used[nused].a = vs;
				used[nused++].b = ve;
			}
		}
		if (i <= ks)
			i = ks + 1;
	}
	/* pass 2: free-standing tokens outside the values already judged */
	i = 0;
	while (i < n) {
		size_t a, b;
		bool inside = false, bearer;
		if (!tok_char((unsigned char)s[i]) && s[i] != ':') {
			i++;
			continue;
		}
		a = i;
		while (i < n && (tok_char((unsigned char)s[i]) || (s[i] == ':' && i - a < 12)))
			i++;
		b = i;
		for (k = 0; k < nused; k++)
			if (a < used[k].b && b > used[k].a)
				inside = true;
		if (inside)
			continue;
		bearer = a >= 7 && (s[a - 7] == 'B' || s[a - 7] == 'b') && strncasecmp(s + a - 7, "Bearer ", 7) == 0;
		scan_run(r, s + a, b - a, line, bearer, fn, u, count);
	}
}

size_t tk_tok_scan_text(const struct tk_tokrules *r, const char *buf, size_t len, tk_hit_fn fn, void *u)
{
	size_t off = 0, line = 1, count = 0;
	struct textbuf tb = {buf, len};
	while (off < len) {
		const char *nl = memchr(buf + off, '\n', len - off);
		size_t end = nl ? (size_t)(nl - buf) : len;
		size_t ll = end - off;
		if (ll > 1 << 20)
			ll = 1 << 20; /* a single line this long is judged on its first MiB */
		scan_line(r, &tb, buf + off, ll, line, fn, u, &count);
		off = end + 1;
		line++;
	}
	return count;
}

/* ---- JSON ---- */

struct jctx {
	const struct tk_tokrules *r;
	const char *buf;
	size_t len;
	tk_hit_fn fn;
	void *u;
	size_t count;
};

static size_t line_of(const struct jctx *c, const char *v, size_t vl)
{
	const char *p = NULL, *q;
	size_t line = 1;
	if (vl >= 8 && vl <= c->len) {
		/* first occurrence of the value's text (JSON escapes aside) */
		const char *s = c->buf, *end = c->buf + c->len;
		while (s + vl <= end && (q = memchr(s, v[0], (size_t)(end - s - vl + 1)))) {
			if (memcmp(q, v, vl) == 0) {
				p = q;
				break;
			}
			s = q + 1;
		}
	}
	if (!p)
		return 0;
	for (q = c->buf; q < p; q++)
		line += *q == '\n';
	return line;
}

static long long obj_expires_in(const cJSON *obj)
{
	static const char *const names[] = {"expires_in", "expiresIn", "expires-in", "ttl"};
	size_t i;
	for (i = 0; i < TK_ARRAY_LEN(names); i++) {
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(obj, names[i]);
		long long v;
		if (cJSON_IsNumber(e) && e->valuedouble >= 0 && e->valuedouble < 1e12)
			return (long long)e->valuedouble;
		if (cJSON_IsString(e) && tk_parse_ll(e->valuestring, 0, 1000000000000LL, &v) == TK_OK)
			return v;
	}
	return -1;
}

struct embed {
	struct jctx *c;
	size_t line;
};

static void on_embedded(void *u, const struct tk_hit *h)
{
	struct embed *e = u;
	struct tk_hit copy = *h;
	copy.line = e->line;
	e->c->fn(e->c->u, &copy);
	e->c->count++;
}

static void walk(struct jctx *c, const cJSON *node, const char *key, long long exp, int depth)
{
	const cJSON *ch;
	if (depth > JSON_MAX_DEPTH)
		return;
	if (cJSON_IsString(node) && node->valuestring) {
		struct tk_hit h;
		size_t vl = strlen(node->valuestring);
		if (tk_tok_classify(c->r, key, key ? strlen(key) : 0, node->valuestring, vl, exp, &h)) {
			emit(c->fn, c->u, &h, line_of(c, node->valuestring, vl), &c->count);
		} else if (vl > 2 && (node->valuestring[0] == '{' || strchr(node->valuestring, '\n'))) {
			/* JSON or text embedded in a string: scan it as text; hits get the line of the string */
			/* the string is JSON-escaped in the file: look for the escaped form of its start */
			char esc[160];
			size_t k, el = 0;
			struct embed e;
			for (k = 0; k < vl && el + 2 < sizeof(esc) && el < 96; k++) {
				char vc = node->valuestring[k];
				if (vc == '"' || vc == '\\') {
					esc[el++] = '\\';
					esc[el++] = vc;
				} else if (vc == '\n') {
					esc[el++] = '\\';
					esc[el++] = 'n';
				} else {
					esc[el++] = vc;
				}
			}
			e.c = c;
			e.line = line_of(c, esc, el);
			tk_tok_scan_text(c->r, node->valuestring, vl, on_embedded, &e);
		}
		return;
	}
	if (cJSON_IsObject(node)) {
		long long e = obj_expires_in(node);
		cJSON_ArrayForEach(ch, node)
			walk(c, ch, ch->string, e, depth + 1);
	} else if (cJSON_IsArray(node)) {
		cJSON_ArrayForEach(ch, node)
			walk(c, ch, key, exp, depth + 1);
	}
}

long tk_tok_scan_json(const struct tk_tokrules *r, const char *buf, size_t len, tk_hit_fn fn, void *u)
{
	struct jctx c = {r, buf, len, fn, u, 0};
	size_t i = 0;
	cJSON *j;
	while (i < len && isspace((unsigned char)buf[i]))
		i++;
	if (i >= len || (buf[i] != '{' && buf[i] != '['))
		return -1;
	if (!(j = cJSON_ParseWithLength(buf, len)))
		return -1;
	walk(&c, j, NULL, -1, 0);
	cJSON_Delete(j);
	return (long)c.count;
}

void tk_tokrules_free(struct tk_tokrules *r)
{
	size_t i;
	if (!r)
		return;
	tk_strv_free(r->token_keys);
	tk_strv_free(r->password_keys);
	for (i = 0; i < r->nbank; i++) {
		free(r->bank[i].name);
		free(r->bank[i].prefix);
		if (r->bank[i].has_re)
			regfree(&r->bank[i].re);
	}
	free(r->bank);
	memset(r, 0, sizeof(*r));
}
