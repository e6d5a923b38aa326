/*
 * tokens.c - probe "tokens": are OAuth tokens and passwords stored at rest
 * in plaintext? Reads file trees, SQLite databases and Redis, read-only and
 * bounded, and reports where each credential is, what kind it is, its
 * lifetime and a fingerprint - never the value.
 *
 * Config: {"stores": [
 *    {"type": "files", "path": "conf/", "include": ["*.json"], "exclude": ["*.bak"]},
 *    {"type": "sqlite", "path": "data/app.db", "max_rows": 1000},
 *    {"type": "redis", "address": "127.0.0.1:6379", "password_env": "REDIS_PASSWORD",
 *     "username": "u", "tls": false, "ca_file": "ca.pem", "db": 0, "max_keys": 10000},
 *    {"type": "aws", "account": 0}],   (probes.cloud.accounts[0], through aws.h)
 *  "bank_token_patterns": [{"name": "bank access token", "prefix": "bk_at_"},
 *                          {"name": "bank refresh token", "pattern": "bk_rt_[A-Za-z0-9]{32}"}],
 *  "token_keys": ["session_blob"], "password_keys": ["secret_pin"],
 *  "max_file_bytes": 33554432, "max_total_bytes": 4294967296, "max_files": 200000,
 *  "threads": 1, "max_listed": 200}
 * Emits one observation of kind "token_store" per files/sqlite/redis store and one of kind
 * "storage_encryption" per aws store (or an error observation).
 */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "probe.h"
#include "redisstore.h"
#include "tokaws.h"
#include "tokscan.h"

#define TOK_MAX_DEPTH 32
#define TOK_BINARY_SNIFF 8192
#define TOK_JSON_MAX (8 << 20)

enum store_type { ST_FILES, ST_SQLITE, ST_REDIS, ST_AWS };

struct tok_store {
	enum store_type type;
	char *label;      /* target name: "files:conf/" */
	char *path;       /* resolved path (files, sqlite) */
	char *shown;      /* path as configured, for evidence */
	char **include, **exclude;
	size_t ninclude, nexclude;
	long long max_rows;
	struct tk_redis_cfg redis;
	long long account;
	struct tk_aws_account *aws;
};

struct tok_cfg {
	struct tok_store *stores;
	size_t nstores;
	struct tk_tokrules rules;
	long long max_file_bytes, max_total_bytes, max_files, threads, max_listed;
};

static void store_free(struct tok_store *s)
{
	free(s->label);
	free(s->path);
	free(s->shown);
	tk_strv_free(s->include);
	tk_strv_free(s->exclude);
	tk_redis_cfg_free(&s->redis);
	tk_aws_account_free(s->aws);
}

static void tok_free(void *state)
{
	struct tok_cfg *c = state;
	size_t i;
	if (!c)
		return;
	for (i = 0; i < c->nstores; i++)
		store_free(&c->stores[i]);
	free(c->stores);
	tk_tokrules_free(&c->rules);
	free(c);
}

/* Normalise a configured key name the way tokscan compares them. */
static char *norm_key(const char *k)
{
	size_t n = strlen(k), i, o = 0;
	char *out = malloc(n + 1);
	if (!out)
		return NULL;
	for (i = 0; i < n; i++) {
		char ch = k[i];
		if (ch == '_' || ch == '-' || ch == ' ')
			continue;
		out[o++] = (char)(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
	}
	out[o] = '\0';
	return out;
}

static int norm_keys(char **v, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++) {
		char *k = norm_key(v[i]);
		if (!k)
			return TK_ERR_NOMEM;
		free(v[i]);
		v[i] = k;
	}
	return TK_OK;
}

static int configure_bank(struct tok_cfg *c, const cJSON *sec, const struct tk_cfgctx *cc, struct tk_err *err)
{
	static const char *const keys[] = {"name", "prefix", "pattern", NULL};
	const cJSON *arr = NULL, *e;
	char p[512], ep[600];
	size_t i = 0;
	int rc;
	if ((rc = tk_cfg_array(sec, "bank_token_patterns", false, &arr, cc, cc->path, err)) || !arr)
		return rc;
	tk_path_key(p, sizeof(p), cc->path, "bank_token_patterns");
	if (!(c->rules.bank = calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(*c->rules.bank))))
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	cJSON_ArrayForEach(e, arr)
	{
		struct tk_bank_pattern *b = &c->rules.bank[i];
		const char *name = NULL, *prefix = NULL, *pattern = NULL;
		tk_path_idx(ep, sizeof(ep), p, i);
		if (!cJSON_IsObject(e))
			return tk_cfg_err(err, cc, ep, "expected {\"name\": ..., \"prefix\": ...}");
		if ((rc = tk_cfg_check_keys(e, keys, cc, ep, err)) ||
		    (rc = tk_cfg_string(e, "name", true, &name, cc, ep, err)) ||
		    (rc = tk_cfg_string(e, "prefix", false, &prefix, cc, ep, err)) ||
		    (rc = tk_cfg_string(e, "pattern", false, &pattern, cc, ep, err)))
			return rc;
		if (!prefix && !pattern)
			return tk_cfg_err(err, cc, ep, "needs \"prefix\" or \"pattern\"");
		if (prefix && strlen(prefix) < 2)
			return tk_cfg_err(err, cc, ep, "prefix: at least 2 characters");
		b->name = strdup(name);
		b->prefix = prefix ? strdup(prefix) : NULL;
		c->rules.nbank = ++i;
		if (!b->name || (prefix && !b->prefix))
			return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		if (pattern) {
			if (regcomp(&b->re, pattern, REG_EXTENDED) != 0)
				return tk_cfg_err(err, cc, ep, "pattern: not a POSIX extended regular expression");
			b->has_re = true;
		}
	}
	return TK_OK;
}

static int configure_store(struct tok_store *s, const cJSON *e, const struct tk_cfgctx *cc, const char *ep,
			   struct tk_err *err)
{
	static const char *const fkeys[] = {"type", "path", "include", "exclude", NULL};
	static const char *const skeys[] = {"type", "path", "max_rows", NULL};
	static const char *const akeys[] = {"type", "account", NULL};
	const char *type = NULL, *path = NULL;
	char lab[1200];
	int rc;
	if (!cJSON_IsObject(e))
		return tk_cfg_err(err, cc, ep, "expected a store object with \"type\"");
	if ((rc = tk_cfg_string(e, "type", true, &type, cc, ep, err)))
		return rc;
	s->max_rows = 1000;
	if (strcmp(type, "files") == 0) {
		s->type = ST_FILES;
		if ((rc = tk_cfg_check_keys(e, fkeys, cc, ep, err)) ||
		    (rc = tk_cfg_string(e, "path", true, &path, cc, ep, err)) ||
		    (rc = tk_cfg_strings(e, "include", false, &s->include, &s->ninclude, cc, ep, err)) ||
		    (rc = tk_cfg_strings(e, "exclude", false, &s->exclude, &s->nexclude, cc, ep, err)))
			return rc;
		snprintf(lab, sizeof(lab), "files:%s", path);
	} else if (strcmp(type, "sqlite") == 0) {
		s->type = ST_SQLITE;
		if ((rc = tk_cfg_check_keys(e, skeys, cc, ep, err)) ||
		    (rc = tk_cfg_string(e, "path", true, &path, cc, ep, err)) ||
		    (rc = tk_cfg_int(e, "max_rows", false, 1, 10000000, &s->max_rows, cc, ep, err)))
			return rc;
		snprintf(lab, sizeof(lab), "sqlite:%s", path);
	} else if (strcmp(type, "redis") == 0) {
		s->type = ST_REDIS;
		if ((rc = tk_redis_configure(&s->redis, e, cc, ep, err)))
			return rc;
		snprintf(lab, sizeof(lab), "redis:%s", s->redis.address);
	} else if (strcmp(type, "aws") == 0) {
		s->type = ST_AWS;
		if ((rc = tk_cfg_check_keys(e, akeys, cc, ep, err)) ||
		    (rc = tk_cfg_int(e, "account", true, 0, 1000, &s->account, cc, ep, err)) ||
		    (rc = tk_tokaws_configure(cc, s->account, ep, &s->aws, err)))
			return rc;
		snprintf(lab, sizeof(lab), "aws:account[%lld]", s->account);
	} else {
		char tp[640];
		tk_path_key(tp, sizeof(tp), ep, "type");
		return tk_cfg_err(err, cc, tp, "unknown store type \"%s\" (files, sqlite, redis, aws)", type);
	}
	if (path && !*path) {
		char pp[640];
		tk_path_key(pp, sizeof(pp), ep, "path");
		return tk_cfg_err(err, cc, pp, "empty path");
	}
	if (!(s->label = strdup(lab)))
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	return path ? tk_cfg_resolve_shown(cc, path, &s->path, &s->shown, err) : TK_OK;
}

static int tok_configure(const cJSON *sec, const struct tk_cfgctx *cc, void **state, struct tk_err *err)
{
	static const char *const keys[] = {"stores", "bank_token_patterns", "token_keys", "password_keys",
					   "max_file_bytes", "max_total_bytes", "max_files", "threads",
					   "max_listed", NULL};
	struct tok_cfg *c = calloc(1, sizeof(*c));
	const cJSON *stores = NULL, *e;
	char p[512], ep[600];
	size_t i = 0;
	int rc;
	*state = NULL;
	if (!c)
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	c->max_file_bytes = 32LL << 20;
	c->max_total_bytes = 4LL << 30;
	c->max_files = 200000;
	c->threads = 1;
	c->max_listed = 200;
	if ((rc = tk_cfg_check_keys(sec, keys, cc, cc->path, err)) ||
	    (rc = tk_cfg_array(sec, "stores", true, &stores, cc, cc->path, err)) ||
	    (rc = tk_cfg_strings(sec, "token_keys", false, &c->rules.token_keys, &c->rules.ntoken_keys, cc,
				 cc->path, err)) ||
	    (rc = tk_cfg_strings(sec, "password_keys", false, &c->rules.password_keys, &c->rules.npassword_keys,
				 cc, cc->path, err)) ||
	    (rc = tk_cfg_int(sec, "max_file_bytes", false, 1024, 1LL << 30, &c->max_file_bytes, cc, cc->path, err)) ||
	    (rc = tk_cfg_int(sec, "max_total_bytes", false, 1024, 1LL << 40, &c->max_total_bytes, cc, cc->path,
			     err)) ||
	    (rc = tk_cfg_int(sec, "max_files", false, 1, 10000000, &c->max_files, cc, cc->path, err)) ||
	    (rc = tk_cfg_int(sec, "threads", false, 1, 64, &c->threads, cc, cc->path, err)) ||
	    (rc = tk_cfg_int(sec, "max_listed", false, 0, 100000, &c->max_listed, cc, cc->path, err)) ||
	    (rc = configure_bank(c, sec, cc, err)))
		goto fail;
	if ((rc = norm_keys(c->rules.token_keys, c->rules.ntoken_keys)) ||
	    (rc = norm_keys(c->rules.password_keys, c->rules.npassword_keys))) {
		tk_seterr(err, rc, "out of memory");
		goto fail;
	}
	tk_path_key(p, sizeof(p), cc->path, "stores");
	if (!(c->stores = calloc((size_t)cJSON_GetArraySize(stores), sizeof(*c->stores)))) {
		rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		goto fail;
	}
	cJSON_ArrayForEach(e, stores)
	{
		tk_path_idx(ep, sizeof(ep), p, i);
		c->nstores = ++i;
		if ((rc = configure_store(&c->stores[i - 1], e, cc, ep, err)))
			goto fail;
	}
	*state = c;
	return TK_OK;
fail:
	tok_free(c);
	return rc;
}

/* ---- results of one store ---- */

struct tok_res {
	pthread_mutex_t mu;
	long long max_listed;
	long long plain, enc, unknown, pw_plain, pw_hashed;
	cJSON *a_plain, *a_enc, *a_unknown, *a_pw;
	bool listed_truncated;
};

static void res_init(struct tok_res *r, long long max_listed)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->mu, NULL);
	r->max_listed = max_listed;
	r->a_plain = cJSON_CreateArray();
	r->a_enc = cJSON_CreateArray();
	r->a_unknown = cJSON_CreateArray();
	r->a_pw = cJSON_CreateArray();
}

static void res_free(struct tok_res *r)
{
	pthread_mutex_destroy(&r->mu);
	cJSON_Delete(r->a_plain);
	cJSON_Delete(r->a_enc);
	cJSON_Delete(r->a_unknown);
	cJSON_Delete(r->a_pw);
}

/* Record one hit found at `where` (no secret in it). Thread-safe. */
static void res_add(struct tok_res *r, const char *where, const struct tk_hit *h)
{
	cJSON *arr, *o;
	long long *cnt;
	switch (h->cls) {
	case TK_HIT_PLAIN_TOKEN: arr = r->a_plain; cnt = &r->plain; break;
	case TK_HIT_ENCRYPTED: arr = r->a_enc; cnt = &r->enc; break;
	case TK_HIT_UNKNOWN: arr = r->a_unknown; cnt = &r->unknown; break;
	case TK_HIT_PLAIN_PASSWORD: arr = r->a_pw; cnt = &r->pw_plain; break;
	default: arr = NULL; cnt = &r->pw_hashed; break;
	}
	pthread_mutex_lock(&r->mu);
	(*cnt)++;
	if (!arr) {
		pthread_mutex_unlock(&r->mu);
		return;
	}
	if (cJSON_GetArraySize(arr) >= r->max_listed) {
		r->listed_truncated = true;
		pthread_mutex_unlock(&r->mu);
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "where", where);
	cJSON_AddStringToObject(o, "kind", h->kind);
	if (h->key[0])
		cJSON_AddStringToObject(o, "key", h->key);
	cJSON_AddStringToObject(o, "fingerprint", h->fp);
	if (h->cls == TK_HIT_PLAIN_TOKEN) {
		if (h->lifetime >= 0)
			cJSON_AddNumberToObject(o, "lifetime_s", (double)h->lifetime);
		cJSON_AddStringToObject(o, "lifetime_basis", h->lifetime_basis);
		if (h->is_jwt) {
			cJSON *j = cJSON_AddObjectToObject(o, "jwt");
			cJSON_AddStringToObject(j, "alg", h->jwt.alg);
			if (h->jwt.typ[0])
				cJSON_AddStringToObject(j, "typ", h->jwt.typ);
			if (h->jwt.iss[0])
				cJSON_AddStringToObject(j, "iss", h->jwt.iss);
			if (h->jwt.has_iat)
				cJSON_AddNumberToObject(j, "iat", (double)h->jwt.iat);
			if (h->jwt.has_exp)
				cJSON_AddNumberToObject(j, "exp", (double)h->jwt.exp);
		}
	} else if (h->cls == TK_HIT_ENCRYPTED) {
		cJSON_AddStringToObject(o, "envelope", tk_envelope_name(h->env.kind));
		cJSON_AddBoolToObject(o, "heuristic", h->env.heuristic);
		if (h->env.detail[0])
			cJSON_AddStringToObject(o, "detail", h->env.detail);
	}
	cJSON_AddItemToArray(arr, o);
	pthread_mutex_unlock(&r->mu);
}

static void res_emit(struct tok_res *r, cJSON *obs)
{
	cJSON_AddNumberToObject(obs, "plaintext_count", (double)r->plain);
	cJSON_AddNumberToObject(obs, "encrypted_count", (double)r->enc);
	cJSON_AddNumberToObject(obs, "unknown_count", (double)r->unknown);
	cJSON_AddNumberToObject(obs, "plaintext_password_count", (double)r->pw_plain);
	cJSON_AddNumberToObject(obs, "hashed_password_count", (double)r->pw_hashed);
	cJSON_AddItemToObject(obs, "plaintext_tokens", r->a_plain);
	cJSON_AddItemToObject(obs, "encrypted_values", r->a_enc);
	cJSON_AddItemToObject(obs, "unknown_values", r->a_unknown);
	cJSON_AddItemToObject(obs, "plaintext_passwords", r->a_pw);
	cJSON_AddBoolToObject(obs, "listed_truncated", r->listed_truncated);
	r->a_plain = r->a_enc = r->a_unknown = r->a_pw = NULL;
}

/*
 * Evidence cut short (a bound, the deadline, an unreadable part): the store's
 * token_store rules become "error" findings, so the items they feed are
 * incomplete unless something fails. The reason names the bound.
 */
static void emit_cut_short(struct tk_runctx *ctx, const char *target, int rc, const char *msg)
{
	cJSON *o = tk_obs_new(ctx, "error", target);
	cJSON_AddStringToObject(o, "error", tk_rc_name(rc));
	cJSON_AddStringToObject(o, "message", msg);
	cJSON_AddStringToObject(o, "for_kind", "token_store");
	tk_emit(ctx, o);
}

/* ---- files ---- */

struct file_job {
	const struct tok_cfg *c;
	const struct tok_store *s;
	struct tk_runctx *ctx;
	struct tok_res *res;
	char **files; /* relative paths */
	size_t nfiles, cap;
	atomic_size_t next;
	atomic_llong bytes, scanned, binary, oversize, unreadable;
	atomic_bool budget_hit;
	bool walk_truncated;
	long long too_deep, name_too_long;
	int rootfd; /* the configured directory; every open is beneath it */
};

static bool glob_any(char **pats, size_t n, const char *rel, const char *base)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (fnmatch(pats[i], base, 0) == 0 || fnmatch(pats[i], rel, 0) == 0)
			return true;
	return false;
}

static int add_file(struct file_job *j, const char *rel)
{
	if (j->nfiles == j->cap) {
		size_t nc = j->cap ? j->cap * 2 : 256;
		char **nf = realloc(j->files, nc * sizeof(char *));
		if (!nf)
			return TK_ERR_NOMEM;
		j->files = nf;
		j->cap = nc;
	}
	if (!(j->files[j->nfiles] = strdup(rel)))
		return TK_ERR_NOMEM;
	j->nfiles++;
	return TK_OK;
}

/*
 * Test hook (like SQLite's fault injection; unset in production: no effect):
 * TENKEN_TEST_TOKENS_AFTER_LIST holds a shell command run once after the walk
 * has listed a tree and before any file is read, so that a test can swap a
 * listed directory for a symlink at exactly that point.
 */
static void test_hook_after_list(void)
{
	const char *cmd = getenv("TENKEN_TEST_TOKENS_AFTER_LIST");
	if (cmd && *cmd) {
		fprintf(stderr, "tenken: test hook: TENKEN_TEST_TOKENS_AFTER_LIST\n");
		if (system(cmd) != 0)
			fprintf(stderr, "tenken: test hook command failed\n");
	}
}

/*
 * Open rel beneath the directory rootfd without following any symbolic link
 * on the way (a listed directory swapped for a symlink must not lead outside
 * the configured tree): openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS where the
 * kernel has it, else one openat(O_NOFOLLOW) per component.
 */
int tk_open_beneath(int rootfd, const char *rel, int flags)
{
#ifdef SYS_openat2
	struct open_how how;
	long r;
	memset(&how, 0, sizeof(how));
	how.flags = (unsigned long long)(flags | O_CLOEXEC | O_NOFOLLOW);
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
	r = syscall(SYS_openat2, rootfd, rel, &how, sizeof(how));
	if (r >= 0 || (errno != ENOSYS && errno != EPERM))
		return (int)r;
#endif
	{
		char comp[4096];
		const char *p = rel, *slash;
		int fd = dup(rootfd), nfd;
		if (fd < 0)
			return -1;
		while ((slash = strchr(p, '/'))) {
			size_t n = (size_t)(slash - p);
			if (n == 0 || n >= sizeof(comp) || (n == 2 && p[0] == '.' && p[1] == '.')) {
				close(fd);
				errno = EXDEV;
				return -1;
			}
			memcpy(comp, p, n);
			comp[n] = '\0';
			nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			close(fd);
			if (nfd < 0)
				return -1;
			fd = nfd;
			p = slash + 1;
		}
		if (strcmp(p, "..") == 0) {
			close(fd);
			errno = EXDEV;
			return -1;
		}
		nfd = openat(fd, p, flags | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		return nfd;
	}
}

/* Walk the tree from the directory descriptor dfd (opened beneath the root,
 * never through a symlink); rel is dfd's path relative to the root. */
static int walk_dir(struct file_job *j, int dfd, const char *rel, int depth)
{
	DIR *d;
	struct dirent *de;
	int rc = TK_OK;
	if (depth > TOK_MAX_DEPTH) {
		j->too_deep++; /* not read: the store is incomplete */
		close(dfd);
		return TK_OK;
	}
	if (!(d = fdopendir(dfd))) {
		close(dfd);
		if (depth > 0)
			atomic_fetch_add(&j->unreadable, 1);
		return depth == 0 ? TK_ERR_IO : TK_OK;
	}
	while ((de = readdir(d)) && rc == TK_OK) {
		char relp[4096];
		struct stat st;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 || strcmp(de->d_name, ".git") == 0)
			continue;
		if ((long long)j->nfiles >= j->c->max_files || tk_run_cancelled(j->ctx)) {
			j->walk_truncated = true;
			break;
		}
		if (snprintf(relp, sizeof(relp), "%s%s%s", rel, rel[0] ? "/" : "", de->d_name) >= (int)sizeof(relp)) {
			j->name_too_long++;
			continue;
		}
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			atomic_fetch_add(&j->unreadable, 1);
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			/* O_NOFOLLOW|O_DIRECTORY: swapped for a symlink since fstatat -> refused */
			int cfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (cfd < 0)
				atomic_fetch_add(&j->unreadable, 1);
			else
				rc = walk_dir(j, cfd, relp, depth + 1);
		} else if (S_ISREG(st.st_mode)) {
			/* symlinks are not followed: they may leave the configured tree */
			if ((!j->s->ninclude || glob_any(j->s->include, j->s->ninclude, relp, de->d_name)) &&
			    !glob_any(j->s->exclude, j->s->nexclude, relp, de->d_name))
				rc = add_file(j, relp);
		}
	}
	closedir(d);
	return rc;
}

struct file_hit_ctx {
	struct tok_res *res;
	const char *rel;
};

static void on_file_hit(void *u, const struct tk_hit *h)
{
	struct file_hit_ctx *fc = u;
	char where[4200];
	char *e = tk_escape_bytes(fc->rel, strlen(fc->rel), 4000);
	if (h->line)
		snprintf(where, sizeof(where), "%s:%zu", e ? e : "?", h->line);
	else
		snprintf(where, sizeof(where), "%s", e ? e : "?");
	free(e);
	res_add(fc->res, where, h);
}

static void scan_one_file(struct file_job *j, const char *rel, char **buf, size_t *bufcap)
{
	struct file_hit_ctx fc = {j->res, rel};
	struct stat st;
	size_t want, got = 0;
	int fd;
	/* beneath the root's descriptor, no symlink on the way; O_NONBLOCK: a FIFO never blocks */
	fd = tk_open_beneath(j->rootfd, rel, O_RDONLY | O_NONBLOCK | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		atomic_fetch_add(&j->unreadable, 1);
		if (fd >= 0)
			close(fd);
		return;
	}
	want = (size_t)st.st_size;
	if ((long long)want > j->c->max_file_bytes) {
		want = (size_t)j->c->max_file_bytes;
		atomic_fetch_add(&j->oversize, 1);
	}
	if (atomic_fetch_add(&j->bytes, (long long)want) + (long long)want > j->c->max_total_bytes) {
		atomic_fetch_sub(&j->bytes, (long long)want); /* not read: keep bytes_scanned honest */
		atomic_store(&j->budget_hit, true);
		close(fd);
		return;
	}
	if (want + 1 > *bufcap) {
		char *nb = realloc(*buf, want + 1);
		if (!nb) {
			atomic_fetch_add(&j->unreadable, 1);
			close(fd);
			return;
		}
		*buf = nb;
		*bufcap = want + 1;
	}
	while (got < want) {
		ssize_t n = read(fd, *buf + got, want - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	(*buf)[got] = '\0';
	if (memchr(*buf, '\0', got < TOK_BINARY_SNIFF ? got : TOK_BINARY_SNIFF)) {
		atomic_fetch_add(&j->binary, 1);
		return;
	}
	atomic_fetch_add(&j->scanned, 1);
	/* JSON is parsed (keys give context); a document past TOK_JSON_MAX is scanned as text
	 * so that one file cannot cost ten times its size in parse tree. */
	if (got <= TOK_JSON_MAX && tk_tok_scan_json(&j->c->rules, *buf, got, on_file_hit, &fc) >= 0)
		return;
	tk_tok_scan_text(&j->c->rules, *buf, got, on_file_hit, &fc);
}

static void *file_worker(void *arg)
{
	struct file_job *j = arg;
	char *buf = NULL;
	size_t cap = 0;
	for (;;) {
		size_t i = atomic_fetch_add(&j->next, 1);
		if (i >= j->nfiles || tk_run_cancelled(j->ctx) || atomic_load(&j->budget_hit))
			break;
		scan_one_file(j, j->files[i], &buf, &cap);
	}
	free(buf);
	return NULL;
}

static void run_files(const struct tok_cfg *c, const struct tok_store *s, struct tk_runctx *ctx)
{
	struct file_job j;
	struct tok_res res;
	struct stat st;
	pthread_t th[64];
	size_t nth = 0, i;
	cJSON *o;
	int rc;
	memset(&j, 0, sizeof(j));
	j.c = c;
	j.s = s;
	j.ctx = ctx;
	j.rootfd = -1;
	res_init(&res, c->max_listed);
	j.res = &res;
	if (stat(s->path, &st) != 0) {
		tk_emit_error(ctx, s->label, TK_ERR_NOTFOUND, "%s: %s", s->shown, strerror(errno));
		goto out;
	}
	if (S_ISREG(st.st_mode)) {
		/* a single file: its directory is the root */
		const char *slash = strrchr(s->shown, '/');
		rc = add_file(&j, slash ? slash + 1 : s->shown);
		if (rc == TK_OK) {
			char *d = tk_dirname(s->path);
			struct tok_store one = *s;
			one.path = d;
			j.s = &one;
			if (d && (j.rootfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0)
				file_worker(&j);
			else
				atomic_fetch_add(&j.unreadable, 1);
			free(d);
			j.s = s;
		}
	} else {
		int dfd = open(s->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* the configured root may be a symlink */
		rc = TK_ERR_IO;
		if (dfd >= 0 && (j.rootfd = dup(dfd)) >= 0)
			rc = walk_dir(&j, dfd, "", 0);
		else if (dfd >= 0)
			close(dfd);
		test_hook_after_list();
		if (rc) {
			tk_emit_error(ctx, s->label, rc, "%s: cannot read the directory tree", s->shown);
			goto out;
		}
		for (i = 1; i < (size_t)c->threads && i < 64; i++)
			if (pthread_create(&th[nth], NULL, file_worker, &j) == 0)
				nth++;
		file_worker(&j);
		for (i = 0; i < nth; i++)
			pthread_join(th[i], NULL);
	}
	o = tk_obs_new(ctx, "token_store", s->label);
	cJSON_AddStringToObject(o, "store_type", "files");
	cJSON_AddStringToObject(o, "path", s->shown);
	cJSON_AddNumberToObject(o, "files_listed", (double)j.nfiles);
	cJSON_AddNumberToObject(o, "files_scanned", (double)atomic_load(&j.scanned));
	cJSON_AddNumberToObject(o, "files_skipped_binary", (double)atomic_load(&j.binary));
	cJSON_AddNumberToObject(o, "files_truncated", (double)atomic_load(&j.oversize));
	cJSON_AddNumberToObject(o, "files_unreadable", (double)atomic_load(&j.unreadable));
	cJSON_AddNumberToObject(o, "bytes_scanned", (double)atomic_load(&j.bytes));
	cJSON_AddNumberToObject(o, "dirs_too_deep", (double)j.too_deep);
	{
		/* every bound that cut evidence short, named */
		struct tk_buf why;
		long long over = atomic_load(&j.oversize), unr = atomic_load(&j.unreadable);
		bool cancelled =
		    tk_run_cancelled(ctx) || (atomic_load(&j.next) < j.nfiles && !atomic_load(&j.budget_hit));
		tk_buf_init(&why, 2048);
		if (over)
			tk_buf_printf(&why, "; %lld file%s larger than max_file_bytes (%lld) read only up to the bound", over,
				      over == 1 ? "" : "s", c->max_file_bytes);
		if (atomic_load(&j.budget_hit))
			tk_buf_printf(&why, "; max_total_bytes (%lld) reached before every file was read",
				      c->max_total_bytes);
		if (j.walk_truncated && !cancelled)
			tk_buf_printf(&why, "; max_files (%lld) reached: the walk stopped", c->max_files);
		if (cancelled)
			tk_buf_printf(&why, "; the deadline passed before every file was read");
		if (j.too_deep)
			tk_buf_printf(&why, "; %lld director%s deeper than %d levels not read", j.too_deep,
				      j.too_deep == 1 ? "y" : "ies", TOK_MAX_DEPTH);
		if (j.name_too_long)
			tk_buf_printf(&why, "; %lld path%s longer than 4095 bytes not read", j.name_too_long,
				      j.name_too_long == 1 ? "" : "s");
		if (unr)
			tk_buf_printf(&why, "; %lld file%s or director%s unreadable (permission denied, vanished, or not "
					    "a regular file)",
				      unr, unr == 1 ? "" : "s", unr == 1 ? "y" : "ies");
		cJSON_AddBoolToObject(o, "complete", why.len == 0);
		if (why.len)
			cJSON_AddStringToObject(o, "incomplete_reason", why.data + 2);
		res_emit(&res, o);
		tk_emit(ctx, o);
		if (why.len) {
			char msg[1024];
			snprintf(msg, sizeof(msg), "%s: evidence cut short: %s", s->shown, why.data + 2);
			emit_cut_short(ctx, s->label, unr && !over && !j.too_deep ? TK_ERR_IO : TK_ERR_LIMIT, msg);
		}
		tk_buf_free(&why);
	}
out:
	if (j.rootfd >= 0)
		close(j.rootfd);
	for (i = 0; i < j.nfiles; i++)
		free(j.files[i]);
	free(j.files);
	res_free(&res);
}

/* ---- SQLite ---- */

struct sq_hit_ctx {
	struct tok_res *res;
	const char *table, *column;
	long long rowid;
	bool has_rowid;
};

static void on_sq_hit(void *u, const struct tk_hit *h)
{
	struct sq_hit_ctx *sc = u;
	char where[600];
	if (sc->has_rowid)
		snprintf(where, sizeof(where), "%.250s.%.250s rowid=%lld", sc->table, sc->column, sc->rowid);
	else
		snprintf(where, sizeof(where), "%.250s.%.250s", sc->table, sc->column);
	res_add(sc->res, where, h);
}

static int sq_progress(void *u)
{
	return tk_run_cancelled(u) ? 1 : 0;
}

/* Double quotes inside an identifier, for "ident" quoting. */
static int quote_ident(struct tk_buf *b, const char *id)
{
	int rc = tk_buf_puts(b, "\"");
	for (; *id && rc == TK_OK; id++)
		rc = *id == '"' ? tk_buf_puts(b, "\"\"") : tk_buf_append(b, id, 1);
	return rc ? rc : tk_buf_puts(b, "\"");
}

static bool is_expires_col(const char *n)
{
	return n && (strcasecmp(n, "expires_in") == 0 || strcasecmp(n, "expiresin") == 0);
}

static void judge_cell(const struct tok_cfg *c, struct sq_hit_ctx *sc, sqlite3_stmt *st, int k, long long exp)
{
	int t = sqlite3_column_type(st, k), n;
	const void *v;
	struct tk_hit h;
	size_t cl = strlen(sc->column);
	if (t != SQLITE_TEXT && t != SQLITE_BLOB)
		return;
	v = t == SQLITE_TEXT ? (const void *)sqlite3_column_text(st, k) : sqlite3_column_blob(st, k);
	n = sqlite3_column_bytes(st, k);
	if (!v || n <= 0)
		return;
	if (t == SQLITE_BLOB && !tk_is_text(v, (size_t)n)) {
		if (tk_tok_classify_bin(&c->rules, sc->column, cl, v, (size_t)n, &h))
			on_sq_hit(sc, &h);
		return;
	}
	if (tk_tok_classify(&c->rules, sc->column, cl, v, (size_t)n, exp, &h)) {
		h.line = 0;
		on_sq_hit(sc, &h);
	} else if (n > 16 && tk_tok_key_class(&c->rules, sc->column, cl) == TK_KEY_NONE) {
		/* free text or a JSON document in a column */
		if (tk_tok_scan_json(&c->rules, v, (size_t)n, on_sq_hit, sc) < 0)
			tk_tok_scan_text(&c->rules, v, (size_t)n, on_sq_hit, sc);
	}
}

static int prepare_q(sqlite3 *db, struct tk_buf *q, sqlite3_stmt **st)
{
	*st = NULL;
	if (!q->data)
		return TK_ERR_LIMIT;
	return sqlite3_prepare_v2(db, q->data, -1, st, NULL) == SQLITE_OK ? TK_OK : TK_ERR_PARSE;
}

/*
 * Sample every column on its own: up to max_rows text/blob values per column
 * (a sparse column is not starved by rows where it is NULL), each with its
 * rowid and the row's expires_in when the table has one.
 */
static int scan_table(const struct tok_cfg *c, const struct tok_store *s, sqlite3 *db, const char *table,
		      struct tok_res *res, long long *values, long long *cols_cut, struct tk_err *err)
{
	struct tk_buf q;
	sqlite3_stmt *st = NULL;
	char **cols = NULL;
	const char *expcol = NULL;
	bool has_rowid;
	int rc = TK_OK, src, ncol, k;
	tk_buf_init(&q, 1 << 20);
	/* columns, from a zero-row query (no quoting pitfalls of PRAGMA arguments) */
	if (tk_buf_puts(&q, "SELECT * FROM ") || quote_ident(&q, table) || tk_buf_puts(&q, " LIMIT 0") ||
	    prepare_q(db, &q, &st)) {
		rc = tk_seterr(err, TK_ERR_PARSE, "table %.200s: %s", table, sqlite3_errmsg(db));
		goto out;
	}
	ncol = sqlite3_column_count(st);
	if (!(cols = calloc((size_t)ncol + 1, sizeof(char *)))) {
		rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (k = 0; k < ncol; k++) {
		const char *n = sqlite3_column_name(st, k);
		if (!(cols[k] = strdup(n ? n : "?"))) {
			rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
			goto out;
		}
		if (is_expires_col(cols[k]))
			expcol = cols[k];
	}
	sqlite3_finalize(st);
	st = NULL;
	/* VIRTUAL generated columns are computed on read from an expression in the
	 * file's schema: never evaluated (their inputs are read as columns anyway) */
	tk_buf_reset(&q);
	if (tk_buf_puts(&q, "SELECT name FROM pragma_table_xinfo(?) WHERE hidden = 2") == TK_OK &&
	    prepare_q(db, &q, &st) == TK_OK) {
		sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
		while (sqlite3_step(st) == SQLITE_ROW) {
			const char *gn = (const char *)sqlite3_column_text(st, 0);
			for (k = 0; gn && k < ncol; k++)
				if (cols[k] && cols[k][0] && strcmp(cols[k], gn) == 0) {
					if (cols[k] == expcol)
						expcol = NULL;
					cols[k][0] = '\0'; /* "" marks a skipped column */
				}
		}
	}
	sqlite3_finalize(st);
	st = NULL;
	tk_buf_reset(&q);
	/* WITHOUT ROWID tables have no rowid */
	has_rowid = tk_buf_puts(&q, "SELECT rowid FROM ") == TK_OK && quote_ident(&q, table) == TK_OK &&
		    tk_buf_puts(&q, " LIMIT 0") == TK_OK && prepare_q(db, &q, &st) == TK_OK;
	sqlite3_finalize(st);
	st = NULL;
	for (k = 0; k < ncol; k++) { /* the progress handler interrupts at the deadline */
		struct sq_hit_ctx sc = {res, table, cols[k], 0, has_rowid};
		if (cols[k] == expcol || !cols[k][0])
			continue;
		tk_buf_reset(&q);
		if (tk_buf_puts(&q, has_rowid ? "SELECT rowid, " : "SELECT 0, ") || quote_ident(&q, cols[k]) ||
		    (expcol && (tk_buf_puts(&q, ", ") || quote_ident(&q, expcol))) || tk_buf_puts(&q, " FROM ") ||
		    quote_ident(&q, table) || tk_buf_puts(&q, " WHERE typeof(") || quote_ident(&q, cols[k]) ||
		    tk_buf_printf(&q, ") IN ('text', 'blob') LIMIT %lld", s->max_rows + 1) || prepare_q(db, &q, &st)) {
			rc = tk_seterr(err, TK_ERR_PARSE, "table %.200s column %.200s: %s", table, cols[k],
				       sqlite3_errmsg(db));
			goto out;
		}
		long long seen = 0;
		while ((src = sqlite3_step(st)) == SQLITE_ROW) {
			long long exp =
			    expcol && sqlite3_column_type(st, 2) == SQLITE_INTEGER ? sqlite3_column_int64(st, 2) : -1;
			if (++seen > s->max_rows) { /* one more than the bound: the column was cut short */
				(*cols_cut)++;
				src = SQLITE_DONE;
				break;
			}
			sc.rowid = sqlite3_column_int64(st, 0);
			(*values)++;
			judge_cell(c, &sc, st, 1, exp);
		}
		if (src != SQLITE_DONE) {
			rc = tk_seterr(err, src == SQLITE_INTERRUPT ? TK_ERR_CANCELLED : TK_ERR_PARSE,
				       "table %.200s column %.200s: %s", table, cols[k], sqlite3_errmsg(db));
			goto out;
		}
		sqlite3_finalize(st);
		st = NULL;
	}
out:
	sqlite3_finalize(st);
	tk_strv_free(cols);
	tk_buf_free(&q);
	return rc;
}

/*
 * SQLite reads past the end of a short file as zeros, so a truncated database
 * opens and reads as "empty". The header says how big the file must be:
 * page size at offset 16, page count at 28 (valid when the change counter at
 * 24 equals the one at 92). A WAL file may hold pages the main file lacks.
 */
static bool sqlite_truncated(int fd, const char *path, char *why, size_t whysz)
{
	unsigned char h[100];
	struct stat st;
	unsigned long psize, pages;
	char wal[4200];
	if (pread(fd, h, sizeof(h), 0) != (ssize_t)sizeof(h)) {
		snprintf(why, whysz, "shorter than the 100-byte header");
		return true;
	}
	if (fstat(fd, &st) != 0)
		return false;
	psize = (unsigned long)h[16] << 8 | h[17];
	if (psize == 1)
		psize = 65536;
	if (psize < 512 || (psize & (psize - 1))) {
		snprintf(why, whysz, "invalid page size in the header");
		return true;
	}
	if ((unsigned long long)st.st_size % psize != 0) {
		snprintf(why, whysz, "%lld bytes is not a whole number of %lu-byte pages", (long long)st.st_size, psize);
		return true;
	}
	pages = (unsigned long)h[28] << 24 | (unsigned long)h[29] << 16 | (unsigned long)h[30] << 8 | h[31];
	snprintf(wal, sizeof(wal), "%s-wal", path);
	if (memcmp(h + 24, h + 92, 4) == 0 && pages > 0 &&
	    (unsigned long long)st.st_size < (unsigned long long)pages * psize && access(wal, F_OK) != 0) {
		snprintf(why, whysz, "%lld bytes, the header declares %lu pages of %lu bytes", (long long)st.st_size,
			 pages, psize);
		return true;
	}
	return false;
}

/*
 * Open a partner's SQLite file as untrusted input, the way SQLite's own
 * guidance for untrusted databases says (https://sqlite.org/security.html):
 * read-only (immutable when no WAL file is beside it, so no lock is taken and
 * no -shm is created), defensive mode, no trusted schema (no SQL functions with
 * side effects from the schema), no triggers, views or extensions, and hard
 * limits on value, SQL and expression size, so that a tiny file cannot make
 * SQLite build a huge value: TOK_SQ_MAX_VALUE bounds every string or blob,
 * which bounds memory (docs/tokens.md). Generated (VIRTUAL) columns and
 * virtual tables are never evaluated (scan_table, run_sqlite).
 */
#define TOK_SQ_MAX_VALUE (4 << 20)
int tk_sqlite_open_untrusted(const char *path, sqlite3 **out, struct tk_err *err)
{
	sqlite3 *db = NULL;
	char side[4200], *uri = NULL;
	struct stat st;
	bool immutable = true;
	int rc;
	/* a WAL or a hot journal beside it: the file is being written (or was cut
	 * mid-transaction); open normally so SQLite's locks and recovery apply
	 * (a writer holding the lock makes the store incomplete: "locked") */
	if ((snprintf(side, sizeof(side), "%s-wal", path) < (int)sizeof(side) && stat(side, &st) == 0 &&
	     st.st_size > 0) ||
	    (snprintf(side, sizeof(side), "%s-journal", path) < (int)sizeof(side) && stat(side, &st) == 0 &&
	     st.st_size > 0))
		immutable = false;
	*out = NULL;
	/* the URI form: file:<percent-encoded path>?immutable=1 */
	{
		struct tk_buf u;
		const unsigned char *p;
		tk_buf_init(&u, 3 * strlen(path) + 64);
		tk_buf_puts(&u, "file:");
		for (p = (const unsigned char *)path; *p; p++)
			if (isalnum(*p) || strchr("/._-~", *p))
				tk_buf_append(&u, p, 1);
			else
				tk_buf_printf(&u, "%%%02X", *p);
		tk_buf_puts(&u, immutable ? "?mode=ro&immutable=1" : "?mode=ro");
		uri = tk_buf_steal(&u);
		tk_buf_free(&u);
	}
	if (!uri)
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	rc = sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI, NULL);
	free(uri);
	if (rc != SQLITE_OK) {
		rc = tk_seterr(err, TK_ERR_IO, "cannot open read-only: %s", db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return rc;
	}
	sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, (int *)NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, (int *)NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_VIEW, 0, (int *)NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, (int *)NULL);
	sqlite3_limit(db, SQLITE_LIMIT_LENGTH, TOK_SQ_MAX_VALUE);
	sqlite3_limit(db, SQLITE_LIMIT_SQL_LENGTH, 1 << 20);
	sqlite3_limit(db, SQLITE_LIMIT_COLUMN, 2000);
	sqlite3_limit(db, SQLITE_LIMIT_EXPR_DEPTH, 100);
	sqlite3_limit(db, SQLITE_LIMIT_COMPOUND_SELECT, 3);
	sqlite3_limit(db, SQLITE_LIMIT_VDBE_OP, 25000);
	sqlite3_limit(db, SQLITE_LIMIT_FUNCTION_ARG, 8);
	sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0);
	sqlite3_limit(db, SQLITE_LIMIT_LIKE_PATTERN_LENGTH, 50);
	sqlite3_limit(db, SQLITE_LIMIT_TRIGGER_DEPTH, 1);
	sqlite3_busy_timeout(db, 2000);
	/* a small page cache and no memory map: memory stays bounded whatever the file says */
	sqlite3_exec(db, "PRAGMA cache_size=-2048; PRAGMA mmap_size=0;", NULL, NULL, NULL);
	*out = db;
	return TK_OK;
}

static void run_sqlite(const struct tok_cfg *c, const struct tok_store *s, struct tk_runctx *ctx)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	struct tok_res res;
	struct tk_err err = {0};
	char hdr[16], why[160];
	char **tables = NULL;
	bool trunc;
	size_t ntables = 0, i;
	long long rows = 0, cols_cut = 0;
	int fd, src, rc, errors = 0;
	ssize_t hn;
	cJSON *o, *errs = cJSON_CreateArray();
	res_init(&res, c->max_listed);
	if ((rc = tk_open_regular(s->path, 0, &fd, NULL, &err))) {
		/* missing, denied, or a FIFO/device/directory (never waited on) */
		tk_emit_error(ctx, s->label, rc, "%s: unreadable: %s", s->shown, err.msg);
		goto out;
	}
	hn = read(fd, hdr, sizeof(hdr));
	if (hn == (ssize_t)sizeof(hdr) && memcmp(hdr, "SQLite format 3", 16) == 0 &&
	    (trunc = sqlite_truncated(fd, s->path, why, sizeof(why)))) {
		close(fd);
		tk_emit_error(ctx, s->label, TK_ERR_PARSE, "%s: truncated SQLite database: %s", s->shown, why);
		goto out;
	}
	close(fd);
	if (hn != (ssize_t)sizeof(hdr) || memcmp(hdr, "SQLite format 3", 16) != 0) {
		tk_emit_error(ctx, s->label, TK_ERR_PARSE,
			      "%s: not an SQLite 3 database (header missing: truncated, another format, or an encrypted "
			      "database such as SQLCipher)", s->shown);
		goto out;
	}
	if ((rc = tk_sqlite_open_untrusted(s->path, &db, &err))) {
		tk_emit_error(ctx, s->label, rc, "%s: %s", s->shown, err.msg);
		goto out;
	}
	sqlite3_progress_handler(db, 1000, sq_progress, ctx);
	if (sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
				   " AND sql NOT LIKE 'CREATE VIRTUAL%'",
			       -1, &st, NULL) != SQLITE_OK) {
		tk_emit_error(ctx, s->label, TK_ERR_PARSE, "%s: cannot read the schema: %s", s->shown,
			      sqlite3_errmsg(db));
		goto out;
	}
	while ((src = sqlite3_step(st)) == SQLITE_ROW && ntables < 10000) {
		const unsigned char *n = sqlite3_column_text(st, 0);
		char **nt = realloc(tables, (ntables + 2) * sizeof(char *));
		if (!nt)
			break;
		tables = nt;
		tables[ntables] = strdup(n ? (const char *)n : "");
		tables[++ntables] = NULL;
	}
	if (src != SQLITE_ROW && src != SQLITE_DONE) {
		tk_emit_error(ctx, s->label, TK_ERR_PARSE, "%s: cannot read the schema: %s", s->shown,
			      sqlite3_errmsg(db));
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	for (i = 0; i < ntables && !tk_run_cancelled(ctx); i++) {
		if (scan_table(c, s, db, tables[i], &res, &rows, &cols_cut, &err) != TK_OK) {
			cJSON_AddItemToArray(errs, cJSON_CreateString(err.msg));
			errors++;
		}
	}
	if (ntables > 0 && errors == (int)ntables) {
		tk_emit_error(ctx, s->label, TK_ERR_PARSE, "%s: no table could be read (%s)", s->shown, err.msg);
		goto out;
	}
	o = tk_obs_new(ctx, "token_store", s->label);
	cJSON_AddStringToObject(o, "store_type", "sqlite");
	cJSON_AddStringToObject(o, "path", s->shown);
	cJSON_AddNumberToObject(o, "tables", (double)ntables);
	cJSON_AddNumberToObject(o, "values_sampled", (double)rows);
	cJSON_AddNumberToObject(o, "max_rows_per_column", (double)s->max_rows);
	/* A readable "SQLite format 3" header means the file itself is not encrypted. */
	cJSON_AddBoolToObject(o, "file_encrypted", 0);
	cJSON_AddNumberToObject(o, "columns_cut_at_max_rows", (double)cols_cut);
	{
		struct tk_buf cut;
		bool cancelled = tk_run_cancelled(ctx);
		tk_buf_init(&cut, 2048);
		if (cols_cut)
			tk_buf_printf(&cut, "; %lld column%s hold more than max_rows (%lld) text/blob values: the rest "
					    "were not read",
				      cols_cut, cols_cut == 1 ? "" : "s", s->max_rows);
		if (errors)
			tk_buf_printf(&cut, "; %d of %zu tables could not be read (%.300s)", errors, ntables, err.msg);
		if (ntables >= 10000)
			tk_buf_printf(&cut, "; more than 10000 tables: the rest were not read");
		if (cancelled)
			tk_buf_printf(&cut, "; the deadline passed before every table was read");
		cJSON_AddBoolToObject(o, "complete", cut.len == 0);
		if (cut.len)
			cJSON_AddStringToObject(o, "incomplete_reason", cut.data + 2);
		cJSON_AddItemToObject(o, "table_errors", errs);
		errs = NULL;
		res_emit(&res, o);
		tk_emit(ctx, o);
		if (cut.len) {
			char msg[1024];
			snprintf(msg, sizeof(msg), "%s: evidence cut short: %s", s->shown, cut.data + 2);
			emit_cut_short(ctx, s->label,
				       cancelled ? TK_ERR_TIMEOUT
				       : errors  ? TK_ERR_PARSE
						 : TK_ERR_LIMIT,
				       msg);
		}
		tk_buf_free(&cut);
	}
out:
	cJSON_Delete(errs);
	sqlite3_finalize(st);
	sqlite3_close(db);
	tk_strv_free(tables);
	res_free(&res);
}

/* ---- Redis ---- */

struct rd_ctx {
	struct tok_res *res;
};

static void on_redis_hit(void *u, const char *where, const struct tk_hit *h)
{
	struct rd_ctx *rc = u;
	res_add(rc->res, where, h);
}

static void run_redis(const struct tok_cfg *c, const struct tok_store *s, struct tk_runctx *ctx)
{
	struct tok_res res;
	struct tk_redis_stats stats;
	struct rd_ctx rcx;
	struct tk_err err = {0};
	cJSON *o;
	int rc;
	res_init(&res, c->max_listed);
	rcx.res = &res;
	memset(&stats, 0, sizeof(stats));
	rc = tk_redis_scan(&s->redis, &c->rules, ctx, on_redis_hit, &rcx, &stats, &err);
	if (rc != TK_OK) {
		tk_emit_error(ctx, s->label, rc, "%s", err.msg);
		goto out;
	}
	o = tk_obs_new(ctx, "token_store", s->label);
	cJSON_AddStringToObject(o, "store_type", "redis");
	cJSON_AddStringToObject(o, "address", s->redis.address);
	cJSON_AddBoolToObject(o, "tls", s->redis.tls);
	cJSON_AddNumberToObject(o, "keys_scanned", (double)stats.keys);
	cJSON_AddNumberToObject(o, "keys_skipped", (double)stats.skipped);
	cJSON_AddNumberToObject(o, "keys_over_max_value_bytes", (double)stats.oversize);
	cJSON_AddBoolToObject(o, "complete", stats.complete && stats.oversize == 0);
	if (!stats.complete || stats.oversize) {
		char msg[1024];
		snprintf(msg, sizeof(msg), "%s: evidence cut short: %s%s%s", s->redis.address,
			 stats.complete ? "" : stats.why[0] ? stats.why : "the key walk stopped early",
			 !stats.complete && stats.oversize ? "; " : "",
			 stats.oversize ? "values larger than max_value_bytes were not read" : "");
		cJSON_AddStringToObject(o, "incomplete_reason", strchr(msg, ':') + 2);
		res_emit(&res, o);
		tk_emit(ctx, o);
		emit_cut_short(ctx, s->label, tk_run_cancelled(ctx) ? TK_ERR_TIMEOUT : TK_ERR_LIMIT, msg);
		goto out;
	}
	res_emit(&res, o);
	tk_emit(ctx, o);
out:
	res_free(&res);
}

/* ---- AWS: encryption at rest behind the data stores ---- */

static void run_aws(const struct tok_store *s, struct tk_runctx *ctx)
{
	cJSON *o = tk_obs_new(ctx, "storage_encryption", s->label);
	struct tk_err err = {0};
	int rc;
	cJSON_AddStringToObject(o, "store_type", "aws");
	cJSON_AddNumberToObject(o, "account", (double)s->account);
	if ((rc = tk_tokaws_run(s->aws, ctx, o, &err)) != TK_OK) {
		cJSON_Delete(o);
		tk_emit_error(ctx, s->label, rc, "%s", err.msg);
		return;
	}
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "complete"))) {
		/* a service denied or throttled out: what it would have listed is unknown, so
		 * the storage_encryption rules cannot pass (fail closed) */
		char msg[1024];
		const cJSON *e;
		size_t w = (size_t)snprintf(msg, sizeof(msg), "%s: evidence missing:", s->label);
		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(o, "errors"))
			if (cJSON_IsString(e) && w < sizeof(msg))
				w += (size_t)snprintf(msg + w, sizeof(msg) - w, " %s;", e->valuestring);
		if (w < sizeof(msg) && tk_run_cancelled(ctx))
			snprintf(msg + w, sizeof(msg) - w, " the deadline passed");
		tk_emit(ctx, o);
		{
			cJSON *x = tk_obs_new(ctx, "error", s->label);
			cJSON_AddStringToObject(x, "error", tk_rc_name(tk_run_cancelled(ctx) ? TK_ERR_TIMEOUT
									 : strstr(msg, "enied")	  ? TK_ERR_AUTH
												  : TK_ERR_IO));
			cJSON_AddStringToObject(x, "message", msg);
			cJSON_AddStringToObject(x, "for_kind", "storage_encryption");
			tk_emit(ctx, x);
		}
		return;
	}
	tk_emit(ctx, o);
}

static int tok_run(void *state, struct tk_runctx *ctx, struct tk_err *err)
{
	struct tok_cfg *c = state;
	size_t i;
	(void)err;
	for (i = 0; i < c->nstores; i++) {
		const struct tok_store *s = &c->stores[i];
		if (tk_run_cancelled(ctx)) {
			tk_emit_error(ctx, s->label, TK_ERR_TIMEOUT, "not scanned before the deadline");
			continue;
		}
		switch (s->type) {
		case ST_FILES: run_files(c, s, ctx); break;
		case ST_SQLITE: run_sqlite(c, s, ctx); break;
		case ST_REDIS: run_redis(c, s, ctx); break;
		case ST_AWS: run_aws(s, ctx); break;
		}
	}
	return TK_OK;
}

TK_PROBE_TARGETS(tok_targets, struct tok_cfg, stores, nstores, struct tok_store, label)

const struct tk_probe tk_probe_tokens = {
	.name = "tokens",
	.summary = "Token stores (files, SQLite, Redis): plaintext OAuth tokens and passwords; AWS encryption at rest",
	.configure = tok_configure,
	.targets = tok_targets,
	.run = tok_run,
	.free_state = tok_free,
};
