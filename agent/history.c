/*
 * history.c - the stored history of scans (see history.h).
 *
 * Why SQLite for the index: history, trend and diff queries must stay fast
 * with hundreds of partners and years of daily scans (300 x 365 = 110k rows);
 * a (partner, seq) primary key answers them by index range scan, and SQLite's
 * journal gives the atomic, crash-safe update the chain needs, in one file,
 * with no server. The reports themselves stay plain files (the evidence an
 * auditor reads); the index can be rebuilt from them, it is not the evidence.
 *
 * Signature envelope (<seq>.json.sig, JSON): schema "tenken.sig/1", alg
 * "Ed25519", partner, seq, run_id, report_sha256, previous_sha256,
 * key_fingerprint, public_key (base64 raw 32 bytes), signature (base64).
 * The signed message is the text
 *   "tenken.sig/1\n<partner>\n<seq>\n<report_sha256>\n<previous_sha256>\n"
 * so the signature binds the content, the position and the chain link.
 *
 * Compression: reports are stored as <seq>.json.gz (gzip through zlib, level
 * 1: a patch scan's report shrinks ~10x in tens of ms). report_sha256, the
 * chain link and the signature are over the uncompressed report.json bytes
 * exactly as written to --out, so a reviewer's copy of report.json checks
 * against the history, the compressor's version or level never matters, and
 * reports stored before compression (<seq>.json, uncompressed) verify
 * unchanged. The envelope is <file>.sig beside either form.
 */
#include "history.h"
#include "signer.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define SIG_SCHEMA "tenken.sig/1"
#define MAX_REPORT_BYTES ((size_t)256 << 20)
#define ROT_SCHEMA "tenken.keyrot/1"
#define MAX_ROT 64

/* One record of the key log key/rotations/NNNNNN.txt (see docs/desk.md). */
struct rotation {
	long long n;
	char at[40], sha[65], file[32];
	cJSON *heads; /* {partner: the last seq signed with the old key} */
};

struct tk_history {
	char *dir;
	sqlite3 *db;
	struct tk_signer *signer;  /* opened for storing (create) or on first signature */
	struct tk_pubkey cur;      /* the key in force: the one new reports are signed with */
	struct tk_pubkey keys[MAX_ROT + 1]; /* key 0 (the first), then each rotation's new key */
	struct rotation rots[MAX_ROT];
	int nrot;
	struct tk_buf keylog_problems; /* FAIL lines about key/rotations, for verify */
	bool in_tx;
	int setup_lock;  /* fd holding the set-up flock while opening, else -1 */
};

static bool is_seq_name(const char *name, long long *seq);
static int desk_items_insert(struct tk_history *h, const char *partner, long long seq, const cJSON *report,
			     struct tk_err *err);
static int index_insert(struct tk_history *h, const char *partner, long long seq, const char *sha, const char *prev,
			const char *rel, const cJSON *report, struct tk_err *err);
static bool env_sig(const cJSON *env, struct tk_pubkey *k, unsigned char sig[TK_SIG_MAX], size_t *siglen);
static void sig_message(struct tk_buf *b, const char *partner, long long seq, const char *sha, const char *prev);
static const char *jstr(const cJSON *o, const char *k);

int tk_history_state_dir(const char *opt, char **out, struct tk_err *err)
{
	const char *e;
	char buf[PATH_MAX];
	*out = NULL;
	if (opt && *opt)
		*out = strdup(opt);
	else if ((e = getenv("TENKEN_STATE_DIR")) && *e)
		*out = strdup(e);
	else if ((e = getenv("XDG_STATE_HOME")) && *e == '/') {
		snprintf(buf, sizeof(buf), "%s/tenken", e);
		*out = strdup(buf);
	} else if ((e = getenv("HOME")) && *e) {
		snprintf(buf, sizeof(buf), "%s/.local/state/tenken", e);
		*out = strdup(buf);
	} else
		return tk_seterr(err, TK_ERR_USAGE, "no state directory: set --state DIR, TENKEN_STATE_DIR or HOME");
	return *out ? TK_OK : tk_seterr(err, TK_ERR_NOMEM, "out of memory");
}

/* ---- key ---- */

/*
 * Fault injection for the crash tests (like SQLite's test hooks): when the
 * named variable holds a number of milliseconds, pause there so a test can
 * kill the process at exactly this point. Unset in production: no effect.
 */
static void test_pause(const char *var)
{
	const char *v = getenv(var);
	long long ms;
	if (v && tk_parse_ll(v, 1, 600000, &ms) == TK_OK) {
		fprintf(stderr, "tenken: test pause: %s\n", var);
		usleep((useconds_t)(ms * 1000));
	}
}

int tk_history_pubkey(struct tk_history *h, char **pem, char fp[80], struct tk_err *err)
{
	memcpy(fp, h->cur.fp, 80);
	return tk_pubkey_pem(&h->cur, pem, err);
}

/* ---- the key log: rotations (desk; see docs/desk.md "Signing key") ---- */

static char *b64(const unsigned char *p, size_t n);

static bool same_key(const struct tk_pubkey *a, const struct tk_pubkey *b)
{
	return a->len == b->len && a->len > 0 && strcmp(a->alg, b->alg) == 0 && memcmp(a->raw, b->raw, a->len) == 0;
}

/* The index of k among the known keys (0 = the first), or -1. */
static int key_index(const struct tk_history *h, const struct tk_pubkey *k)
{
	int i;
	for (i = 0; i <= h->nrot; i++)
		if (same_key(&h->keys[i], k))
			return i;
	return -1;
}

/* The key that must have signed scan seq of partner: key i after rotation i
 * when seq is beyond the partner's head recorded in rotation i. */
static int key_for(const struct tk_history *h, const char *partner, long long seq)
{
	int i, k = 0;
	for (i = 0; i < h->nrot; i++) {
		const cJSON *hd = partner ? cJSON_GetObjectItemCaseSensitive(h->rots[i].heads, partner) : NULL;
		if (seq > (cJSON_IsNumber(hd) ? (long long)hd->valuedouble : 0))
			k = i + 1;
	}
	return k;
}

static void keylog_fail(struct tk_history *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void keylog_fail(struct tk_history *h, const char *fmt, ...)
{
	char line[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	tk_buf_printf(&h->keylog_problems, "FAIL key log: %s\n", line);
}

/* "alg b64" fields of a record into a key. */
static bool rec_key(const char *alg, const char *kb64, struct tk_pubkey *k)
{
	unsigned char raw[TK_PUB_MAX];
	size_t got = 0;
	return alg && kb64 && tk_b64_decode(kb64, strlen(kb64), TK_B64_STD, raw, sizeof(raw), &got) &&
	       tk_pubkey_set(k, alg, raw, got, NULL) == TK_OK;
}

/* A detached base64 signature file beside a record, checked with k. */
static bool rec_sig_ok(const char *path, const struct tk_pubkey *k, const char *text, size_t len)
{
	char *sb = NULL;
	size_t sl = 0, got = 0;
	unsigned char sig[TK_SIG_MAX];
	bool ok;
	if (tk_read_file(path, 4096, &sb, &sl, NULL) != TK_OK)
		return false;
	while (sl > 0 && (sb[sl - 1] == '\n' || sb[sl - 1] == '\r'))
		sb[--sl] = '\0';
	ok = tk_b64_decode(sb, sl, TK_B64_STD, sig, sizeof(sig), &got) && tk_pubkey_verify(k, text, len, sig, got);
	free(sb);
	return ok;
}

/* Parse and check key/rotations/000001.txt, 000002.txt, ... Each must be
 * signed by the key in force before it (.sig) and by the key it installs
 * (.newsig), and link to the previous record's SHA-256. The first record that
 * fails stops the log there: keys it would install are not trusted. */
static int load_keylog(struct tk_history *h, struct tk_err *err)
{
	char dir[PATH_MAX], path[PATH_MAX + 32], prev[65] = "-";
	int i;
	snprintf(dir, sizeof(dir), "%s/key/rotations", h->dir);
	for (i = 0; i < MAX_ROT; i++) { /* a reload starts over */
		cJSON_Delete(h->rots[i].heads);
		h->rots[i].heads = NULL;
	}
	h->nrot = 0;
	h->keylog_problems.len = 0;
	for (i = 1; i <= MAX_ROT; i++) {
		struct rotation *r = &h->rots[i - 1];
		struct tk_pubkey oldk, newk;
		const char *f[10] = {0};
		static const char *names[] = {"seq",	"rotated_at", "previous",	 "old_alg",	 "old_key",
					      "old_fingerprint", "new_alg", "new_key", "new_fingerprint", NULL};
		char *text = NULL, *line, *save = NULL, *copy = NULL;
		size_t len = 0;
		unsigned char d[32];
		long long n = 0;
		int k;
		snprintf(path, sizeof(path), "%s/%06d.txt", dir, i);
		if (access(path, F_OK) != 0)
			break;
		if (tk_read_file(path, (size_t)16 << 20, &text, &len, err) != TK_OK) {
			keylog_fail(h, "%s: %s", path, err->msg);
			break;
		}
		memset(r, 0, sizeof(*r));
		r->heads = cJSON_CreateObject();
		snprintf(r->file, sizeof(r->file), "%06d.txt", i);
		tk_sha256(text, len, d);
		tk_hex(d, 32, r->sha);
		if (!(copy = strdup(text)) || !r->heads) {
			free(text);
			free(copy);
			return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		}
		line = strtok_r(copy, "\n", &save);
		if (!line || strcmp(line, ROT_SCHEMA) != 0) {
			keylog_fail(h, "%s: not a %s record", path, ROT_SCHEMA);
			goto stop;
		}
		while ((line = strtok_r(NULL, "\n", &save))) {
			char *sp = strchr(line, ' ');
			if (!sp)
				continue;
			*sp = '\0';
			if (strcmp(line, "head") == 0) {
				char *tab = strchr(sp + 1, '\t');
				long long hs;
				if (tab && (*tab = '\0', tk_parse_ll(sp + 1, 0, LLONG_MAX, &hs) == TK_OK))
					cJSON_AddNumberToObject(r->heads, tab + 1, (double)hs);
				continue;
			}
			for (k = 0; names[k]; k++)
				if (strcmp(line, names[k]) == 0)
					f[k] = sp + 1;
		}
		for (k = 0; names[k]; k++)
			if (!f[k]) {
				keylog_fail(h, "%s: field %s missing", path, names[k]);
				goto stop;
			}
		if (tk_parse_ll(f[0], 1, MAX_ROT, &n) != TK_OK || n != i) {
			keylog_fail(h, "%s: says it is rotation %s, expected %d (records renumbered or removed)", path, f[0],
				    i);
			goto stop;
		}
		if (!rec_key(f[3], f[4], &oldk) || !rec_key(f[6], f[7], &newk) || strcmp(oldk.fp, f[5]) != 0 ||
		    strcmp(newk.fp, f[8]) != 0) {
			keylog_fail(h, "%s: a key or its fingerprint is malformed", path);
			goto stop;
		}
		if (strcmp(f[2], prev) != 0) {
			keylog_fail(h, "%s: links to previous record %.16s…, the previous record is %.16s…", path, f[2],
				    prev);
			goto stop;
		}
		if (i > 1 && !same_key(&oldk, &h->keys[i - 1])) {
			keylog_fail(h, "%s: the old key %s is not the key rotation %d installed (%s)", path, oldk.fp, i - 1,
				    h->keys[i - 1].fp);
			goto stop;
		}
		snprintf(path, sizeof(path), "%s/%06d.sig", dir, i);
		if (!rec_sig_ok(path, &oldk, text, len)) {
			keylog_fail(h, "rotation %d: signature by the old key %s missing or invalid (%s)", i, oldk.fp, path);
			goto stop;
		}
		snprintf(path, sizeof(path), "%s/%06d.newsig", dir, i);
		if (!rec_sig_ok(path, &newk, text, len)) {
			keylog_fail(h, "rotation %d: signature by the new key %s missing or invalid (%s)", i, newk.fp, path);
			goto stop;
		}
		r->n = n;
		tk_strlcpy(r->at, f[1], sizeof(r->at));
		if (i == 1)
			h->keys[0] = oldk;
		h->keys[i] = newk;
		h->nrot = i;
		tk_strlcpy(prev, r->sha, sizeof(prev));
		free(copy);
		free(text);
		continue;
stop:
		cJSON_Delete(r->heads);
		r->heads = NULL;
		free(copy);
		free(text);
		break;
	}
	return TK_OK;
}

/* The public key of a token signer, cached as "alg b64" in key/signing.pub so
 * that reading the history needs neither the token nor its PIN. */
static void cache_pub(struct tk_history *h)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8], *kb = b64(h->cur.raw, h->cur.len);
	struct tk_buf b;
	tk_buf_init(&b, 4096);
	snprintf(path, sizeof(path), "%s/key/signing.pub", h->dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (kb && tk_buf_printf(&b, "%s %s\n", h->cur.alg, kb) == TK_OK) {
		char kdir[PATH_MAX];
		snprintf(kdir, sizeof(kdir), "%s/key", h->dir);
		if (mkdir(kdir, 0700) == 0 || errno == EEXIST) {
			unlink(tmp);
			if (tk_write_file_new(tmp, b.data, b.len, 0600, NULL) == TK_OK && rename(tmp, path) != 0)
				unlink(tmp);
		}
	}
	free(kb);
	tk_buf_free(&b);
}

static bool read_cached_pub(struct tk_history *h)
{
	char path[PATH_MAX], *text = NULL, *sp;
	size_t len;
	bool ok = false;
	snprintf(path, sizeof(path), "%s/key/signing.pub", h->dir);
	if (tk_read_file(path, 4096, &text, &len, NULL) != TK_OK)
		return false;
	while (len > 0 && (text[len - 1] == '\n'))
		text[--len] = '\0';
	if ((sp = strchr(text, ' '))) {
		*sp = '\0';
		ok = rec_key(text, sp + 1, &h->cur);
	}
	free(text);
	return ok;
}

/* Which key is in force and, for storing, the signer itself. */
static int open_signer(struct tk_history *h, bool create, struct tk_err *err)
{
	char cfg[PATH_MAX];
	bool has_cfg;
	snprintf(cfg, sizeof(cfg), "%s/signing.json", h->dir);
	has_cfg = access(cfg, F_OK) == 0;
	/* a token is opened when first used to sign (tk_history_signer_ready): reading, or
	 * rebuilding the index, needs neither the token nor its PIN */
	if ((!has_cfg && (create || h->nrot == 0)) || (has_cfg && h->nrot == 0 && !read_cached_pub(h))) {
		int rc = tk_signer_open_state(h->dir, create, &h->signer, err);
		if (rc)
			return rc;
		h->cur = *tk_signer_pub(h->signer);
		if (has_cfg)
			cache_pub(h);
	} else if (h->nrot > 0)
		h->cur = h->keys[h->nrot];
	if (h->nrot > 0 && !same_key(&h->cur, &h->keys[h->nrot])) {
		if (create)
			return tk_seterr(err, TK_ERR_VERIFY,
					 "the signing key (%s, %s) is not the key that the last rotation "
					 "(key/rotations/%06d.txt) put in force (%s): nothing is signed with it",
					 h->signer ? tk_signer_where(h->signer) : "signing.json", h->cur.fp, h->nrot,
					 h->keys[h->nrot].fp);
		keylog_fail(h, "the configured signing key %s is not the key the last rotation put in force (%s)",
			    h->cur.fp, h->keys[h->nrot].fp);
	}
	if (h->nrot == 0)
		h->keys[0] = h->cur;
	if (create && h->keylog_problems.len)
		tk_log(TK_LOG_WARN, "history: the key log is broken (tenken verify names it); signing with the key in force %s",
		       h->cur.fp);
	return TK_OK;
}

/* Under the write lock: a rotation committed by another process since this
 * history was opened puts a new key in force; pick it up before signing. */
static int refresh_keys(struct tk_history *h, struct tk_err *err)
{
	char path[PATH_MAX];
	int i;
	snprintf(path, sizeof(path), "%s/key/rotations/%06d.txt", h->dir, h->nrot + 1);
	if (h->nrot >= MAX_ROT || access(path, F_OK) != 0)
		return TK_OK;
	for (i = 0; i < MAX_ROT; i++) {
		cJSON_Delete(h->rots[i].heads);
		h->rots[i].heads = NULL;
	}
	h->nrot = 0;
	h->keylog_problems.len = 0;
	tk_signer_close(h->signer);
	h->signer = NULL;
	tk_log(TK_LOG_INFO, "history: the signing key was rotated by another process; using the new key");
	if (load_keylog(h, err) != TK_OK || open_signer(h, true, err) != TK_OK)
		return err->rc ? err->rc : TK_ERR_VERIFY;
	return TK_OK;
}

/* The signer, opened on first use; it must hold the key in force. */
static int need_signer(struct tk_history *h, struct tk_err *err)
{
	int rc;
	if (h->signer)
		return TK_OK;
	if ((rc = tk_signer_open_state(h->dir, false, &h->signer, err)))
		return rc;
	if (!same_key(tk_signer_pub(h->signer), &h->cur)) {
		rc = tk_seterr(err, TK_ERR_VERIFY,
			       "the signing key (%s, %s) is not the key in force (%s%s): nothing is signed with it "
			       "(change keys with tenken key rotate)",
			       tk_signer_where(h->signer), tk_signer_pub(h->signer)->fp, h->cur.fp,
			       h->nrot ? ", put in force by the last rotation" : "");
		tk_signer_close(h->signer);
		h->signer = NULL;
	}
	return rc;
}

int tk_history_signer_ready(struct tk_history *h, struct tk_err *err)
{
	return need_signer(h, err);
}

/* ---- open / close ---- */

static int db_exec(struct tk_history *h, const char *sql, struct tk_err *err)
{
	char *msg = NULL;
	if (sqlite3_exec(h->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int rc = tk_seterr(err, sqlite3_errcode(h->db) == SQLITE_BUSY ? TK_ERR_LOCKED : TK_ERR_IO,
				   "%s/index.sqlite: %s", h->dir, msg ? msg : sqlite3_errmsg(h->db));
		sqlite3_free(msg);
		return rc;
	}
	return TK_OK;
}

int tk_history_open(const char *state_dir, bool create, struct tk_history **out, struct tk_err *err)
{
	struct tk_history *h = calloc(1, sizeof(*h));
	char path[PATH_MAX];
	int rc;
	*out = NULL;
	if (!h || !(h->dir = strdup(state_dir))) {
		free(h);
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	}
	h->setup_lock = -1;
	if (create && (rc = tk_mkdirs(state_dir, 0700, err)))
		goto fail;
	snprintf(path, sizeof(path), "%s/index.sqlite", state_dir);
	if (!create && access(path, F_OK) != 0) {
		char rp[PATH_MAX];
		snprintf(rp, sizeof(rp), "%s/reports", state_dir);
		if (access(rp, F_OK) == 0)
			rc = tk_seterr(err, TK_ERR_VERIFY,
				       "%s: the index is missing but %s holds stored reports "
				       "(tenken history --reindex rebuilds it from the files)",
				       path, rp);
		else
			rc = tk_seterr(err, TK_ERR_NOTFOUND, "%s: no history here (no scan has been stored)", path);
		goto fail;
	}
	if (create) {
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600); /* the index is not world-readable */
		if (fd >= 0)
			close(fd);
	}
	/* Serialise set-up across processes: the WAL switch, the schema and the key
	 * on a fresh state directory are not all covered by SQLite's busy handler. */
	if (create) {
		char lpath[PATH_MAX];
		snprintf(lpath, sizeof(lpath), "%s/.setup.lock", state_dir);
		h->setup_lock = open(lpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (h->setup_lock < 0 || flock(h->setup_lock, LOCK_EX) != 0) {
			rc = tk_seterr(err, TK_ERR_IO, "%s: %s", lpath, strerror(errno));
			goto fail;
		}
	}
	if (sqlite3_open_v2(path, &h->db, SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0), NULL) !=
	    SQLITE_OK) {
		rc = tk_seterr(err, TK_ERR_IO, "%s: %s", path, h->db ? sqlite3_errmsg(h->db) : "cannot open");
		goto fail;
	}
	sqlite3_busy_timeout(h->db, 60000);
	if ((rc = db_exec(h, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", err)) ||
	    (rc = db_exec(h,
			  "CREATE TABLE IF NOT EXISTS scans("
			  " partner TEXT NOT NULL, seq INTEGER NOT NULL, run_id TEXT NOT NULL, mode TEXT,"
			  " checklist TEXT, started_at TEXT, finished_at TEXT, verdict TEXT, complete INTEGER,"
			  " n_pass INTEGER, n_fail INTEGER, n_incomplete INTEGER, n_manual INTEGER,"
			  " n_not_applicable INTEGER, n_waived INTEGER, sha256 TEXT NOT NULL, prev_sha256 TEXT,"
			  " file TEXT NOT NULL, key_fp TEXT, PRIMARY KEY(partner, seq)) WITHOUT ROWID;"
			  "CREATE INDEX IF NOT EXISTS scans_run ON scans(run_id);",
			  err)))
		goto fail;
	/* desk: each scan's per-item statuses, so the portfolio reads the index, not every report */
	if ((rc = db_exec(h,
			  "CREATE TABLE IF NOT EXISTS desk_items(partner TEXT NOT NULL, seq INTEGER NOT NULL,"
			  " items TEXT NOT NULL, extra TEXT, PRIMARY KEY(partner, seq)) WITHOUT ROWID;",
			  err)))
		goto fail;
	tk_buf_init(&h->keylog_problems, 1 << 20);
	if ((rc = load_keylog(h, err)) || (rc = open_signer(h, create, err)))
		goto fail;
	if (h->setup_lock >= 0) {
		close(h->setup_lock); /* releases the lock */
		h->setup_lock = -1;
	}
	*out = h;
	return TK_OK;
fail:
	tk_history_close(h);
	return rc;
}

void tk_history_close(struct tk_history *h)
{
	if (!h)
		return;
	if (h->in_tx)
		sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(h->db);
	if (h->setup_lock >= 0)
		close(h->setup_lock);
	tk_signer_close(h->signer);
	for (int i = 0; i < MAX_ROT; i++)
		cJSON_Delete(h->rots[i].heads);
	tk_buf_free(&h->keylog_problems);
	free(h->dir);
	free(h);
}

/* A directory name for a partner id: the id when it is plain, else a hash. */
static void partner_dir(const struct tk_history *h, const char *partner, char *out, size_t size)
{
	size_t i, n = strlen(partner);
	bool plain = n > 0 && n <= 64 && partner[0] != '.';
	for (i = 0; i < n && plain; i++)
		if (!isalnum((unsigned char)partner[i]) && partner[i] != '-' && partner[i] != '_' && partner[i] != '.')
			plain = false;
	if (plain)
		snprintf(out, size, "%s/reports/%s", h->dir, partner);
	else {
		unsigned char d[32];
		char hex[65];
		tk_sha256(partner, n, d);
		tk_hex(d, 32, hex);
		snprintf(out, size, "%s/reports/x-%.24s", h->dir, hex);
	}
}

/* ---- the files are the evidence; the index follows them ---- */

/* A stored report as its files say: read, hashed, its signature checked. */
struct signed_file {
	long long seq;
	bool has_report, has_sig, sig_ok;     /* sig_ok: signed by a key of the key log, envelope well-formed */
	char actual[65];                      /* SHA-256 of the report file */
	char signed_sha[65], prev[65], run_id[64], partner[512];
	long long signed_seq;
	cJSON *report;                        /* parsed report (NULL when not JSON) */
	char name[40];                        /* the stored file's name: <seq>.json.gz, or an older <seq>.json */
};

static void signed_file_free(struct signed_file *f)
{
	cJSON_Delete(f->report);
	f->report = NULL;
}

static void read_signed(struct tk_history *h, const char *dir, long long seq, struct signed_file *f)
{
	char path[PATH_MAX + 32], sigpath[PATH_MAX + 40], *text = NULL;
	size_t len;
	struct tk_err e = {0};
	memset(f, 0, sizeof(*f));
	f->seq = seq;
	snprintf(f->name, sizeof(f->name), "%08lld.json.gz", seq);
	snprintf(path, sizeof(path), "%s/%s", dir, f->name);
	if (access(path, F_OK) != 0) {
		snprintf(f->name, sizeof(f->name), "%08lld.json", seq);
		snprintf(path, sizeof(path), "%s/%s", dir, f->name);
	}
	snprintf(sigpath, sizeof(sigpath), "%s.sig", path);
	if (tk_history_read_report(path, &text, &len, &e) == TK_OK) {
		unsigned char dg[32];
		f->has_report = true;
		tk_sha256(text, len, dg);
		tk_hex(dg, 32, f->actual);
		f->report = cJSON_ParseWithLength(text, len);
		free(text);
		text = NULL;
	}
	if (tk_read_file(sigpath, 1 << 16, &text, &len, &e) == TK_OK) {
		cJSON *env = cJSON_ParseWithLength(text, len);
		const cJSON *sq = cJSON_GetObjectItemCaseSensitive(env, "seq");
		struct tk_pubkey k;
		unsigned char sig[TK_SIG_MAX];
		size_t sl;
		f->has_sig = true;
		/* any key of the key log: verify checks which one had to sign this position */
		if (env && strcmp(jstr(env, "schema"), SIG_SCHEMA) == 0 && cJSON_IsNumber(sq) &&
		    env_sig(env, &k, sig, &sl) &&
		    key_index(h, &k) >= 0) {
			struct tk_buf msg;
			tk_buf_init(&msg, 1 << 16);
			f->signed_seq = (long long)sq->valuedouble;
			sig_message(&msg, jstr(env, "partner"), f->signed_seq, jstr(env, "report_sha256"),
				    jstr(env, "previous_sha256"));
			f->sig_ok = msg.data && tk_pubkey_verify(&k, msg.data, msg.len, sig, sl);
			tk_buf_free(&msg);
			tk_strlcpy(f->signed_sha, jstr(env, "report_sha256"), sizeof(f->signed_sha));
			tk_strlcpy(f->prev, jstr(env, "previous_sha256"), sizeof(f->prev));
			tk_strlcpy(f->run_id, jstr(env, "run_id"), sizeof(f->run_id));
			tk_strlcpy(f->partner, jstr(env, "partner"), sizeof(f->partner));
		}
		cJSON_Delete(env);
		free(text);
	}
}

/* The seqs named by <seq>.json or <seq>.json.sig in dir, above floor, ascending. */
static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return x < y ? -1 : x > y;
}

static int file_seqs(const char *dir, long long floor, long long **out, size_t *n, struct tk_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t cap = 0;
	*out = NULL;
	*n = 0;
	if (!d)
		return errno == ENOENT ? TK_OK : tk_seterr(err, TK_ERR_IO, "%s: %s", dir, strerror(errno));
	while ((de = readdir(d))) {
		char name[64];
		size_t l = strlen(de->d_name);
		long long s;
		size_t i;
		bool dup = false;
		if (l >= sizeof(name))
			continue;
		memcpy(name, de->d_name, l + 1);
		if (l > 4 && strcmp(name + l - 4, ".sig") == 0)
			name[l - 4] = '\0';
		if (!is_seq_name(name, &s) || s <= floor)
			continue;
		for (i = 0; i < *n && !dup; i++)
			dup = (*out)[i] == s;
		if (dup)
			continue;
		if (*n == cap) {
			long long *nv = realloc(*out, (cap = cap ? cap * 2 : 16) * sizeof(**out));
			if (!nv) {
				closedir(d);
				free(*out);
				*out = NULL;
				*n = 0;
				return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
			}
			*out = nv;
		}
		(*out)[(*n)++] = s;
	}
	closedir(d);
	if (*n)
		qsort(*out, *n, sizeof(**out), cmp_ll);
	return TK_OK;
}

/* Bring link (the index's tip) up to the files: adopt verifying reports that
 * chain on, remove an unsigned leftover of an interrupted write at tip+1, and
 * put the next seq beyond every file present. */
static int catch_up(struct tk_history *h, const char *partner, struct tk_history_link *link, struct tk_err *err)
{
	char dir[PATH_MAX];
	long long *seqs = NULL, maxseq;
	size_t n = 0, i;
	int rc;
	partner_dir(h, partner, dir, sizeof(dir));
	if ((rc = file_seqs(dir, link->prev_seq, &seqs, &n, err)))
		return rc;
	for (i = 0; i < n; i++) {
		struct signed_file f;
		char rel[PATH_MAX + 32];
		if (seqs[i] != link->prev_seq + 1)
			break;
		read_signed(h, dir, seqs[i], &f);
		if (f.has_report && !f.has_sig && i == n - 1) {
			/* killed between writing the report and its signature: never signed */
			char path[PATH_MAX + 48];
			snprintf(path, sizeof(path), "%s/%s", dir, f.name);
			tk_log(TK_LOG_WARN, "history: %s: removing an unsigned report left by an interrupted write", path);
			unlink(path);
			signed_file_free(&f);
			n--;
			break;
		}
		if (!f.has_report || !f.sig_ok || !f.report || strcmp(f.actual, f.signed_sha) != 0 ||
		    strcmp(f.partner, partner) != 0 || f.signed_seq != seqs[i] ||
		    strcmp(f.prev, link->prev_sha256) != 0) {
			signed_file_free(&f);
			break;
		}
		snprintf(rel, sizeof(rel), "%s/%s", dir + strlen(h->dir) + 1, f.name);
		rc = index_insert(h, partner, seqs[i], f.actual, f.prev, rel, f.report, err);
		if (!rc)
			rc = desk_items_insert(h, partner, seqs[i], f.report, err);
		signed_file_free(&f);
		if (rc)
			goto out;
		tk_log(TK_LOG_WARN, "history: partner %s: scan #%lld was in the files but not in the index; indexed it again",
		       partner, seqs[i]);
		link->prev_seq = seqs[i];
		tk_strlcpy(link->prev_sha256, f.actual, sizeof(link->prev_sha256));
		tk_strlcpy(link->prev_run_id, f.run_id, sizeof(link->prev_run_id));
		tk_strlcpy(link->prev_file, rel, sizeof(link->prev_file));
	}
	maxseq = n ? seqs[n - 1] : 0;
	if (maxseq > link->prev_seq)
		tk_log(TK_LOG_WARN,
		       "history: partner %s: files up to #%lld exist beyond the index's #%lld and do not chain on; "
		       "they are kept (run tenken verify %s)",
		       partner, maxseq, link->prev_seq, partner);
	link->seq = (maxseq > link->prev_seq ? maxseq : link->prev_seq) + 1;
out:
	free(seqs);
	return rc;
}

/* ---- storing ---- */

int tk_history_begin(struct tk_history *h, const char *partner, struct tk_history_link *link, struct tk_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;
	memset(link, 0, sizeof(*link));
	if ((rc = db_exec(h, "BEGIN IMMEDIATE", err)))
		return rc;
	h->in_tx = true;
	if ((rc = refresh_keys(h, err)))
		goto fail;
	if (sqlite3_prepare_v2(h->db, "SELECT seq, sha256, run_id, file FROM scans WHERE partner=? ORDER BY seq DESC LIMIT 1",
			       -1, &st, NULL) != SQLITE_OK) {
		rc = tk_seterr(err, TK_ERR_IO, "index: %s", sqlite3_errmsg(h->db));
		goto fail;
	}
	sqlite3_bind_text(st, 1, partner, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		link->prev_seq = sqlite3_column_int64(st, 0);
		tk_strlcpy(link->prev_sha256, (const char *)sqlite3_column_text(st, 1), sizeof(link->prev_sha256));
		tk_strlcpy(link->prev_run_id, (const char *)sqlite3_column_text(st, 2), sizeof(link->prev_run_id));
		tk_strlcpy(link->prev_file, (const char *)sqlite3_column_text(st, 3), sizeof(link->prev_file));
	}
	sqlite3_finalize(st);
	st = NULL;
	/* The files, not only the index, decide the next number: an index restored
	 * from an older copy (or deleted) must never lead to a signed report being
	 * overwritten. Signed reports beyond the index that verify and chain onto
	 * its tip are taken back into it; anything else is skipped over (and
	 * verify names it). */
	if ((rc = catch_up(h, partner, link, err)))
		goto fail;
	sqlite3_finalize(st);
	return TK_OK;
fail:
	sqlite3_finalize(st);
	tk_history_abort(h);
	return rc;
}

void tk_history_abort(struct tk_history *h)
{
	if (h && h->in_tx) {
		sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
		h->in_tx = false;
	}
}

/* ---- compression ---- */

/* gzip (zlib level 1) of in into *out (malloc'd, caller frees). */
static int gzip_bytes(const char *in, size_t len, unsigned char **out, size_t *olen, struct tk_err *err)
{
	z_stream z;
	uLong cap;
	int zr;
	*out = NULL;
	*olen = 0;
	memset(&z, 0, sizeof(z));
	/* windowBits 15 + 16: the gzip container, readable by gunzip and python's gzip */
	if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return tk_seterr(err, TK_ERR_NOMEM, "zlib: cannot initialise deflate");
	cap = deflateBound(&z, (uLong)len);
	if (!(*out = malloc(cap))) {
		deflateEnd(&z);
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory compressing the report");
	}
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	z.next_out = *out;
	z.avail_out = (uInt)cap;
	zr = deflate(&z, Z_FINISH);
	*olen = z.total_out;
	deflateEnd(&z);
	if (zr != Z_STREAM_END) {
		free(*out);
		*out = NULL;
		return tk_seterr(err, TK_ERR_INTERNAL, "zlib: deflate did not finish (%d)", zr);
	}
	return TK_OK;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

int tk_history_read_report(const char *path, char **text, size_t *len, struct tk_err *err)
{
	char *raw = NULL, *buf = NULL;
	size_t rlen, cap = 0, used = 0;
	z_stream z;
	int rc = TK_OK, zr = Z_OK;

	*text = NULL;
	*len = 0;
	if ((rc = tk_read_file(path, MAX_REPORT_BYTES, &raw, &rlen, err)))
		return rc;
	if (!ends_with(path, ".gz")) {
		*text = raw;
		*len = rlen;
		return TK_OK;
	}
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 15 + 16) != Z_OK) {
		free(raw);
		return tk_seterr(err, TK_ERR_NOMEM, "zlib: cannot initialise inflate");
	}
	z.next_in = (Bytef *)raw;
	z.avail_in = (uInt)rlen;
	while (zr == Z_OK) {
		if (used + 1 >= cap) {
			size_t ncap = cap ? cap * 2 : rlen * 8 + 4096;
			char *nb;
			if (cap >= MAX_REPORT_BYTES + 1) {
				rc = tk_seterr(err, TK_ERR_LIMIT, "%s: larger than %zu bytes uncompressed", path,
					       (size_t)MAX_REPORT_BYTES);
				goto out;
			}
			if (ncap > MAX_REPORT_BYTES + 1)
				ncap = MAX_REPORT_BYTES + 1;
			if (!(nb = realloc(buf, ncap))) {
				rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
				goto out;
			}
			buf = nb;
			cap = ncap;
		}
		z.next_out = (Bytef *)buf + used;
		z.avail_out = (uInt)(cap - 1 - used);
		zr = inflate(&z, Z_NO_FLUSH);
		used = z.total_out;
		if (zr == Z_BUF_ERROR && z.avail_out == 0)
			zr = Z_OK;
	}
	if (zr != Z_STREAM_END || z.avail_in != 0) {
		rc = tk_seterr(err, TK_ERR_PARSE, "%s: not a complete gzip stream (zlib %d at compressed byte %lu)", path, zr,
			       (unsigned long)z.total_in);
		goto out;
	}
	buf[used] = '\0';
	*len = used;
	*text = buf;
	buf = NULL;
out:
	inflateEnd(&z);
	free(raw);
	free(buf);
	return rc;
}

static void sig_message(struct tk_buf *b, const char *partner, long long seq, const char *sha, const char *prev)
{
	tk_buf_printf(b, "%s\n%s\n%lld\n%s\n%s\n", SIG_SCHEMA, partner, seq, sha, prev);
}

static char *b64(const unsigned char *p, size_t n)
{
	return tk_b64_encode(p, n, TK_B64_STD);
}

/* A signature envelope's key and signature (any supported algorithm). */
static bool env_sig(const cJSON *env, struct tk_pubkey *k, unsigned char sig[TK_SIG_MAX], size_t *siglen)
{
	const char *sb = jstr(env, "signature");
	*siglen = 0;
	return rec_key(jstr(env, "alg"), jstr(env, "public_key"), k) &&
	       tk_b64_decode(sb, strlen(sb), TK_B64_STD, sig, TK_SIG_MAX, siglen) && *siglen > 0;
}

static int count_of(const cJSON *report, const char *status)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(report, "summary"), "items"), status);
	return cJSON_IsNumber(c) ? c->valueint : 0;
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : "";
}

/* Temporary files of writes a kill interrupted; we hold the partner's
 * write lock, so no live write of this partner can be among them. */
static void remove_leftovers(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char p[PATH_MAX];
	if (!d)
		return;
	while ((de = readdir(d)))
		if (strstr(de->d_name, ".json.tmp.") || strstr(de->d_name, ".json.sig.tmp.") ||
		    strstr(de->d_name, ".json.gz.tmp.") || strstr(de->d_name, ".json.gz.sig.tmp.")) {
			if (snprintf(p, sizeof(p), "%s/%s", dir, de->d_name) < (int)sizeof(p))
				unlink(p);
		}
	closedir(d);
}

/* desk: the compact per-item record of one report (see tk_history_item_record). */
static int desk_items_insert(struct tk_history *h, const char *partner, long long seq, const cJSON *report,
			     struct tk_err *err)
{
	char *items = NULL, *extra = NULL;
	sqlite3_stmt *st = NULL;
	int rc;
	if ((rc = tk_history_item_record(report, &items, &extra, err)))
		return rc;
	if (sqlite3_prepare_v2(h->db, "INSERT OR REPLACE INTO desk_items(partner, seq, items, extra) VALUES(?,?,?,?)", -1,
			       &st, NULL) != SQLITE_OK) {
		rc = tk_seterr(err, TK_ERR_IO, "index: %s", sqlite3_errmsg(h->db));
		goto out;
	}
	sqlite3_bind_text(st, 1, partner, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, seq);
	sqlite3_bind_text(st, 3, items, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, extra, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = tk_seterr(err, TK_ERR_IO, "index: %s", sqlite3_errmsg(h->db));
out:
	sqlite3_finalize(st);
	free(items);
	cJSON_free(extra);
	return rc;
}

static int index_insert(struct tk_history *h, const char *partner, long long seq, const char *sha, const char *prev,
			const char *rel, const cJSON *report, struct tk_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc = TK_OK;
	if (sqlite3_prepare_v2(h->db,
			       "INSERT INTO scans(partner, seq, run_id, mode, checklist, started_at, finished_at, verdict,"
			       " complete, n_pass, n_fail, n_incomplete, n_manual, n_not_applicable, n_waived, sha256,"
			       " prev_sha256, file, key_fp) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
			       -1, &st, NULL) != SQLITE_OK) {
		rc = tk_seterr(err, TK_ERR_IO, "index: %s", sqlite3_errmsg(h->db));
		goto out;
	}
	sqlite3_bind_text(st, 1, partner, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, seq);
	sqlite3_bind_text(st, 3, jstr(report, "run_id"), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, jstr(report, "mode"), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, jstr(cJSON_GetObjectItemCaseSensitive(report, "checklist"), "id"), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, jstr(report, "started_at"), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, jstr(report, "finished_at"), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, jstr(cJSON_GetObjectItemCaseSensitive(report, "gate"), "verdict"), -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 9, cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(report, "complete")));
	sqlite3_bind_int(st, 10, count_of(report, "pass"));
	sqlite3_bind_int(st, 11, count_of(report, "fail"));
	sqlite3_bind_int(st, 12, count_of(report, "incomplete"));
	sqlite3_bind_int(st, 13, count_of(report, "manual"));
	sqlite3_bind_int(st, 14, count_of(report, "not_applicable"));
	sqlite3_bind_int(st, 15, count_of(report, "waived"));
	sqlite3_bind_text(st, 16, sha, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 17, prev, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 18, rel, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 19, h->cur.fp, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = tk_seterr(err, TK_ERR_IO, "index: %s", sqlite3_errmsg(h->db));
		goto out;
	}
out:
	sqlite3_finalize(st);
	return rc;
}

int tk_history_commit(struct tk_history *h, const char *partner, const struct tk_history_link *link,
		      const char *bytes, size_t len, const cJSON *report, char **stored_path, struct tk_err *err)
{
	char dir[PATH_MAX], path[PATH_MAX], sigpath[PATH_MAX + 8], rel[PATH_MAX], sha[65];
	unsigned char d[32], sig[TK_SIG_MAX];
	size_t siglen = 0;
	struct tk_buf msg;
	unsigned char *gz = NULL;
	size_t gzlen = 0;
	cJSON *env = NULL;
	char *s = NULL, *sb64 = NULL, *pb64 = NULL;
		int rc;

	if (stored_path)
		*stored_path = NULL;
	tk_buf_init(&msg, 1 << 16);

	if (!h->in_tx) {
		rc = tk_seterr(err, TK_ERR_INTERNAL, "history: commit without begin");
		goto out;
	}
	partner_dir(h, partner, dir, sizeof(dir));
	if ((rc = tk_mkdirs(dir, 0700, err)))
		goto out;
	remove_leftovers(dir);
	if (snprintf(path, sizeof(path), "%s/%08lld.json.gz", dir, link->seq) >= (int)sizeof(path)) {
		rc = tk_seterr(err, TK_ERR_LIMIT, "%s: path too long", dir);
		goto out;
	}
	snprintf(sigpath, sizeof(sigpath), "%s.sig", path);
	snprintf(rel, sizeof(rel), "%s", path + strlen(h->dir) + 1);
	tk_sha256(bytes, len, d);
	tk_hex(d, 32, sha);
	if ((rc = gzip_bytes(bytes, len, &gz, &gzlen, err)))
		goto out;

	sig_message(&msg, partner, link->seq, sha, link->prev_sha256);
	if ((rc = need_signer(h, err)) || (rc = tk_signer_sign(h->signer, msg.data, msg.len, sig, &siglen, err))) {
		tk_err_prefix(err, "cannot sign the report (nothing was stored)");
		goto out;
	}
	sb64 = b64(sig, siglen);
	pb64 = b64(h->cur.raw, h->cur.len);
	env = cJSON_CreateObject();
	cJSON_AddStringToObject(env, "schema", SIG_SCHEMA);
	cJSON_AddStringToObject(env, "alg", h->cur.alg);
	cJSON_AddStringToObject(env, "partner", partner);
	cJSON_AddNumberToObject(env, "seq", (double)link->seq);
	cJSON_AddStringToObject(env, "run_id", jstr(report, "run_id"));
	cJSON_AddStringToObject(env, "report_sha256", sha);
	cJSON_AddStringToObject(env, "previous_sha256", link->prev_sha256);
	cJSON_AddStringToObject(env, "key_fingerprint", h->cur.fp);
	cJSON_AddStringToObject(env, "public_key", pb64 ? pb64 : "");
	cJSON_AddStringToObject(env, "signature", sb64 ? sb64 : "");
	if (!sb64 || !pb64 || !(s = cJSON_Print(env))) {
		rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* Report first, then its signature, then the index row. Neither file ever
	 * replaces an existing one. A kill before the row commits leaves files that
	 * the next scan indexes (signed and chaining on) or removes (never signed). */
	if ((rc = tk_write_file_new(path, gz, gzlen, 0600, err)) ||
	    (rc = tk_write_file_new(sigpath, s, strlen(s), 0600, err))) {
		tk_err_prefix(err, "history: a signed report is never replaced");
		goto out;
	}
	test_pause("TENKEN_TEST_PAUSE_BEFORE_INDEX");
	if ((rc = index_insert(h, partner, link->seq, sha, link->prev_sha256, rel, report, err)))
		goto out;
	if ((rc = desk_items_insert(h, partner, link->seq, report, err)))
		goto out;
	if ((rc = db_exec(h, "COMMIT", err)))
		goto out;
	h->in_tx = false;
	if (stored_path)
		*stored_path = strdup(path);
out:
	if (rc)
		tk_history_abort(h);
	cJSON_Delete(env);
	cJSON_free(s);
	free(sb64);
	free(pb64);
	tk_buf_free(&msg);
	free(gz);
	return rc;
}

/* ---- queries ---- */

/* An index path must stay under the state directory. */
static bool safe_rel(const char *rel)
{
	return rel && *rel && rel[0] != '/' && !strstr(rel, "..");
}

static cJSON *row_json(sqlite3_stmt *st)
{
	static const char *const names[] = {"pass", "fail", "incomplete", "manual", "not_applicable", "waived"};
	cJSON *o = cJSON_CreateObject(), *items;
	int i;
	cJSON_AddNumberToObject(o, "seq", (double)sqlite3_column_int64(st, 0));
	cJSON_AddStringToObject(o, "run_id", (const char *)sqlite3_column_text(st, 1));
	cJSON_AddStringToObject(o, "mode", (const char *)sqlite3_column_text(st, 2));
	cJSON_AddStringToObject(o, "checklist", (const char *)sqlite3_column_text(st, 3));
	cJSON_AddStringToObject(o, "started_at", (const char *)sqlite3_column_text(st, 4));
	cJSON_AddStringToObject(o, "finished_at", (const char *)sqlite3_column_text(st, 5));
	cJSON_AddStringToObject(o, "verdict", (const char *)sqlite3_column_text(st, 6));
	cJSON_AddBoolToObject(o, "complete", sqlite3_column_int(st, 7));
	items = cJSON_AddObjectToObject(o, "items");
	for (i = 0; i < 6; i++)
		cJSON_AddNumberToObject(items, names[i], sqlite3_column_int(st, 8 + i));
	cJSON_AddStringToObject(o, "sha256", (const char *)sqlite3_column_text(st, 14));
	cJSON_AddStringToObject(o, "file", (const char *)sqlite3_column_text(st, 15));
	return o;
}

#define ROW_COLS                                                                                               \
	"seq, run_id, mode, checklist, started_at, finished_at, verdict, complete, n_pass, n_fail, n_incomplete," \
	" n_manual, n_not_applicable, n_waived, sha256, file, prev_sha256, key_fp"

int tk_history_list(struct tk_history *h, const char *partner, long long up_to_seq, int limit, cJSON **rows,
		    struct tk_err *err)
{
	sqlite3_stmt *st = NULL;
	cJSON *arr = cJSON_CreateArray();
	int r;
	*rows = NULL;
	if (sqlite3_prepare_v2(h->db,
			       "SELECT * FROM (SELECT " ROW_COLS " FROM scans WHERE partner=? AND seq<=? ORDER BY seq DESC"
			       " LIMIT ?) ORDER BY seq",
			       -1, &st, NULL) != SQLITE_OK) {
		cJSON_Delete(arr);
		return tk_seterr(err, TK_ERR_IO, "index: %s", sqlite3_errmsg(h->db));
	}
	sqlite3_bind_text(st, 1, partner, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, up_to_seq > 0 ? up_to_seq : LLONG_MAX);
	sqlite3_bind_int(st, 3, limit > 0 ? limit : -1);
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		cJSON_AddItemToArray(arr, row_json(st));
	sqlite3_finalize(st);
	if (r != SQLITE_DONE) {
		cJSON_Delete(arr);
		return tk_seterr(err, TK_ERR_IO, "index: %s", sqlite3_errmsg(h->db));
	}
	*rows = arr;
	return TK_OK;
}

int tk_history_partner_summary(struct tk_history *h, cJSON **rows, struct tk_err *err)
{
	sqlite3_stmt *st = NULL;
	cJSON *arr = cJSON_CreateArray();
	int r;
	*rows = NULL;
	if (!arr)
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	if (sqlite3_prepare_v2(h->db,
			       "SELECT s.partner, c.n, s.seq, s.started_at, s.verdict FROM scans s JOIN"
			       " (SELECT partner, COUNT(*) AS n, MAX(seq) AS m FROM scans GROUP BY partner) c"
			       " ON s.partner=c.partner AND s.seq=c.m ORDER BY s.partner",
			       -1, &st, NULL) != SQLITE_OK) {
		cJSON_Delete(arr);
		return tk_seterr(err, TK_ERR_IO, "index: %s", sqlite3_errmsg(h->db));
	}
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		cJSON *o = cJSON_CreateObject();
		const unsigned char *t;
		cJSON_AddStringToObject(o, "partner", (const char *)sqlite3_column_text(st, 0));
		cJSON_AddNumberToObject(o, "scans", (double)sqlite3_column_int64(st, 1));
		cJSON_AddNumberToObject(o, "last_seq", (double)sqlite3_column_int64(st, 2));
		t = sqlite3_column_text(st, 3);
		cJSON_AddStringToObject(o, "last_started_at", t ? (const char *)t : "");
		t = sqlite3_column_text(st, 4);
		cJSON_AddStringToObject(o, "last_verdict", t ? (const char *)t : "");
		cJSON_AddItemToArray(arr, o);
	}
	sqlite3_finalize(st);
	if (r != SQLITE_DONE) {
		cJSON_Delete(arr);
		return tk_seterr(err, TK_ERR_IO, "index: %s", sqlite3_errmsg(h->db));
	}
	*rows = arr;
	return TK_OK;
}

int tk_history_find(struct tk_history *h, const char *partner, const char *id, long long *seq, struct tk_err *err)
{
	sqlite3_stmt *st = NULL;
	long long n;
	*seq = 0;
	if (tk_parse_ll(id, 1, LLONG_MAX, &n) == TK_OK) {
		*seq = n;
		return TK_OK;
	}
	if (sqlite3_prepare_v2(h->db, "SELECT seq FROM scans WHERE partner=? AND run_id=?", -1, &st, NULL) != SQLITE_OK)
		return tk_seterr(err, TK_ERR_IO, "index: %s", sqlite3_errmsg(h->db));
	sqlite3_bind_text(st, 1, partner, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		*seq = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (!*seq)
		return tk_seterr(err, TK_ERR_NOTFOUND, "partner %s: no stored scan \"%s\" (see tenken history %s)", partner,
				 id, partner);
	return TK_OK;
}

int tk_history_load(struct tk_history *h, const char *partner, long long seq, cJSON **report, long long *seq_out,
		    struct tk_err *err)
{
	sqlite3_stmt *st = NULL;
	char path[PATH_MAX], *text = NULL;
	size_t len;
	int rc;
	*report = NULL;
	if (seq > 0)
		rc = sqlite3_prepare_v2(h->db, "SELECT seq, file FROM scans WHERE partner=? AND seq=?", -1, &st, NULL);
	else
		rc = sqlite3_prepare_v2(h->db, "SELECT seq, file FROM scans WHERE partner=? ORDER BY seq DESC LIMIT 1 OFFSET ?",
					-1, &st, NULL);
	if (rc != SQLITE_OK)
		return tk_seterr(err, TK_ERR_IO, "index: %s", sqlite3_errmsg(h->db));
	sqlite3_bind_text(st, 1, partner, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, seq > 0 ? seq : -seq);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return tk_seterr(err, TK_ERR_NOTFOUND, "partner %s: no stored scan %s%lld", partner,
				 seq > 0 ? "#" : "offset ", seq > 0 ? seq : -seq);
	}
	if (seq_out)
		*seq_out = sqlite3_column_int64(st, 0);
	if (!safe_rel((const char *)sqlite3_column_text(st, 1))) {
		sqlite3_finalize(st);
		return tk_seterr(err, TK_ERR_VERIFY, "%s/index.sqlite: partner %s: a file path leaves the state directory",
				 h->dir, partner);
	}
	snprintf(path, sizeof(path), "%s/%s", h->dir, (const char *)sqlite3_column_text(st, 1));
	sqlite3_finalize(st);
	if ((rc = tk_history_read_report(path, &text, &len, err)))
		return rc;
	*report = cJSON_ParseWithLength(text, len);
	free(text);
	if (!*report)
		return tk_seterr(err, TK_ERR_PARSE, "%s: not valid JSON", path);
	return TK_OK;
}

/* ---- verification ---- */

struct vrow {
	long long seq;
	char sha[65], file[PATH_MAX], run_id[64], finished[40];
	char actual[65];   /* hash of the file as found, "" when missing */
	bool present;
	char unreadable[256];  /* present but cannot be read (e.g. a damaged .gz) */
};

static void problem(FILE *out, int *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void problem(FILE *out, int *n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (out) {
		fputs("FAIL ", out);
		vfprintf(out, fmt, ap);
		fputc('\n', out);
	}
	va_end(ap);
	(*n)++;
}

/* Check one report's signature envelope; returns the number of problems. */
static int check_sig(struct tk_history *h, const char *sigpath, const char *label, const char *partner, long long seq,
		     const char *actual_sha, const char *expect_prev, FILE *out)
{
	char *text = NULL;
	size_t len;
	cJSON *env = NULL;
	struct tk_buf msg;
	struct tk_pubkey k;
	unsigned char sig[TK_SIG_MAX];
	size_t sl = 0;
	int n = 0, ki, want;
	struct tk_err e = {0};
	const cJSON *seqj;

	tk_buf_init(&msg, 1 << 16);
	if (tk_read_file(sigpath, 1 << 16, &text, &len, &e) != TK_OK) {
		problem(out, &n, "%s: signature missing: %s", label, e.msg);
		goto out;
	}
	env = cJSON_ParseWithLength(text, len);
	seqj = cJSON_GetObjectItemCaseSensitive(env, "seq");
	if (!env || strcmp(jstr(env, "schema"), SIG_SCHEMA) != 0 || !cJSON_IsNumber(seqj) ||
	    !env_sig(env, &k, sig, &sl)) {
		problem(out, &n, "%s: signature file %s is malformed", label, sigpath);
		goto out;
	}
	sig_message(&msg, jstr(env, "partner"), (long long)seqj->valuedouble, jstr(env, "report_sha256"),
		    jstr(env, "previous_sha256"));
	/* the key that had to sign this position: the key log decides (any of its keys when unknown) */
	ki = key_index(h, &k);
	want = partner && seq > 0 ? key_for(h, partner, seq) : ki;
	if (ki < 0) {
		if (tk_pubkey_verify(&k, msg.data, msg.len, sig, sl))
			problem(out, &n,
				"%s: re-signed with another key: signed by %s, a key no rotation of this agent announced "
				"(the key in force is %s)",
				label, k.fp, h->keys[want < 0 ? h->nrot : want].fp);
		else
			problem(out, &n, "%s: signature invalid and made with a foreign key %s", label, k.fp);
		goto out;
	}
	if (ki != want) {
		problem(out, &n, "%s: signed by %s (key %d), but key %d (%s) was in force for this scan", label, k.fp, ki,
			want, h->keys[want].fp);
		goto out;
	}
	if (!tk_pubkey_verify(&k, msg.data, msg.len, sig, sl)) {
		problem(out, &n, "%s: signature invalid (the signature envelope was modified)", label);
		goto out;
	}
	if (actual_sha && strcmp(jstr(env, "report_sha256"), actual_sha) != 0)
		problem(out, &n, "%s: modified: content SHA-256 %.16s… does not match the signed %.16s…", label, actual_sha,
			jstr(env, "report_sha256"));
	if (partner && strcmp(jstr(env, "partner"), partner) != 0)
		problem(out, &n, "%s: signed for partner \"%s\", stored under \"%s\"", label, jstr(env, "partner"), partner);
	if (seq > 0 && (long long)seqj->valuedouble != seq)
		problem(out, &n, "%s: reordered: the signature says this is scan #%lld", label,
			(long long)seqj->valuedouble);
	if (expect_prev && strcmp(jstr(env, "previous_sha256"), expect_prev) != 0)
		problem(out, &n, "%s: chain broken: signed link to previous %.16s… but the previous stored report is %.16s…",
			label, jstr(env, "previous_sha256"), *expect_prev ? expect_prev : "(none)");
out:
	cJSON_Delete(env);
	free(text);
	tk_buf_free(&msg);
	return n;
}

/* Name where the key changed: rotations from+1..to fall just before scan v. */
static void key_change_notes(const struct tk_history *h, const char *partner, int from, int to, const struct vrow *v,
			     FILE *out)
{
	int r;
	for (r = from + 1; out && r <= to; r++)
		fprintf(out, "note key changed at scan #%lld (%s): %s → %s (rotation %d at %s, key/rotations/%s)\n", v->seq,
			v->finished[0] ? v->finished : v->run_id, h->keys[r - 1].fp, h->keys[r].fp, r,
			h->rots[r - 1].at,
			h->rots[r - 1].file);
	(void)partner;
}

static bool is_seq_name(const char *name, long long *seq)
{
	char digits[32];
	size_t n = strlen(name), suffix = ends_with(name, ".json.gz") ? 8 : 5;
	if (n < suffix + 1 || n > suffix + 20 || (!ends_with(name, ".json") && suffix == 5))
		return false;
	memcpy(digits, name, n - suffix);
	digits[n - suffix] = '\0';
	return tk_parse_ll(digits, 1, LLONG_MAX, seq) == TK_OK;
}

int tk_history_verify(struct tk_history *h, const char *partner, FILE *out, int *nreports, struct tk_err *err)
{
	sqlite3_stmt *st = NULL;
	struct vrow *rows = NULL;
	size_t nrows = 0, cap = 0, i, j;
	char dir[PATH_MAX];
	DIR *d;
	struct dirent *de;
	int problems = 0, r;

	if (nreports)
		*nreports = 0;
	if (sqlite3_prepare_v2(h->db, "SELECT seq, sha256, file, run_id, finished_at FROM scans WHERE partner=? ORDER BY seq", -1, &st,
			       NULL) != SQLITE_OK)
		return tk_seterr(err, TK_ERR_IO, "index: %s", sqlite3_errmsg(h->db));
	sqlite3_bind_text(st, 1, partner, -1, SQLITE_STATIC);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct vrow *v;
		if (nrows == cap) {
			struct vrow *nr = realloc(rows, (cap = cap ? cap * 2 : 64) * sizeof(*rows));
			if (!nr) {
				sqlite3_finalize(st);
				free(rows);
				return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
			}
			rows = nr;
		}
		v = &rows[nrows++];
		memset(v, 0, sizeof(*v));
		v->seq = sqlite3_column_int64(st, 0);
		tk_strlcpy(v->sha, (const char *)sqlite3_column_text(st, 1), sizeof(v->sha));
		if (safe_rel((const char *)sqlite3_column_text(st, 2)))
			snprintf(v->file, sizeof(v->file), "%s/%s", h->dir, (const char *)sqlite3_column_text(st, 2));
		else
			snprintf(v->file, sizeof(v->file), "%s/(unsafe path in index)", h->dir);
		tk_strlcpy(v->run_id, (const char *)sqlite3_column_text(st, 3), sizeof(v->run_id));
		if (sqlite3_column_text(st, 4))
			tk_strlcpy(v->finished, (const char *)sqlite3_column_text(st, 4), sizeof(v->finished));
	}
	sqlite3_finalize(st);
	if (nrows == 0) {
		long long *seqs = NULL;
		size_t nf = 0;
		free(rows);
		partner_dir(h, partner, dir, sizeof(dir));
		if (file_seqs(dir, 0, &seqs, &nf, NULL) == TK_OK && nf > 0) {
			problem(out, &problems,
				"%s: the index and the files disagree: %zu stored report%s (up to #%lld) but no index row "
				"(a lost or older index? tenken history --reindex rebuilds it from the files)",
				dir, nf, nf == 1 ? "" : "s", seqs[nf - 1]);
			free(seqs);
			return tk_seterr(err, TK_ERR_VERIFY, "partner %s: the index has lost its scans", partner);
		}
		free(seqs);
		return tk_seterr(err, TK_ERR_NOTFOUND, "partner %s: no stored scans in %s", partner, h->dir);
	}
	/* the key log itself: each rotation signed by the key before it */
	if (h->keylog_problems.len) {
		const char *p;
		if (out)
			fputs(h->keylog_problems.data, out);
		for (p = h->keylog_problems.data; (p = strchr(p, '\n')); p++)
			problems++;
	}
	/* hash every file as found */
	for (i = 0; i < nrows; i++) {
		char *text = NULL;
		size_t len;
		struct tk_err e = {0};
		if (tk_history_read_report(rows[i].file, &text, &len, &e) == TK_OK) {
			unsigned char dg[32];
			tk_sha256(text, len, dg);
			tk_hex(dg, 32, rows[i].actual);
			rows[i].present = true;
			free(text);
		} else if (access(rows[i].file, F_OK) == 0) {
			tk_strlcpy(rows[i].unreadable, e.msg, sizeof(rows[i].unreadable));
		}
	}
	for (i = 0; i < nrows; i++) {
		struct vrow *v = &rows[i];
		char label[128];
		const char *expect_prev = i > 0 ? rows[i - 1].sha : "";
		int before = problems;
		snprintf(label, sizeof(label), "scan #%lld (%s)", v->seq, v->run_id);
		key_change_notes(h, partner, i > 0 ? key_for(h, partner, rows[i - 1].seq) : 0,
				 key_for(h, partner, v->seq), v, out);
		if (i > 0 && v->seq != rows[i - 1].seq + 1)
			problem(out, &problems, "scan #%lld..#%lld: removed: missing from the index and the chain",
				rows[i - 1].seq + 1, v->seq - 1);
		else if (i == 0 && v->seq != 1)
			problem(out, &problems, "scan #1..#%lld: removed: missing from the index and the chain", v->seq - 1);
		if (!v->present && v->unreadable[0]) {
			problem(out, &problems, "%s: modified: %s cannot be read: %s", label, v->file, v->unreadable);
			continue;
		}
		if (!v->present) {
			problem(out, &problems, "%s: removed: %s is missing", label, v->file);
			continue;
		}
		if (strcmp(v->actual, v->sha) != 0) {
			bool moved = false;
			for (j = 0; j < nrows; j++)
				if (j != i && strcmp(rows[j].sha, v->actual) == 0) {
					problem(out, &problems, "%s: reordered: %s holds the report of scan #%lld", label,
						v->file, rows[j].seq);
					moved = true;
				}
			if (!moved)
				problem(out, &problems, "%s: modified: %s has SHA-256 %.16s…, the index recorded %.16s…", label,
					v->file, v->actual, v->sha);
		}
		{
			bool moved = false;
			for (j = 0; j < nrows && strcmp(v->actual, v->sha) != 0; j++)
				moved = moved || (j != i && strcmp(rows[j].sha, v->actual) == 0);
			char sigpath[PATH_MAX + 8];
			/* a moved report's content cannot match this position's signature: said once above */
			snprintf(sigpath, sizeof(sigpath), "%s.sig", v->file);
			problems +=
			    check_sig(h, sigpath, label, partner, v->seq, moved ? NULL : v->actual, expect_prev, out);
		}
		if (out && problems == before)
			fprintf(out, "ok   %s %.16s…\n", label, v->actual);
	}
	if (out) {
		int rr, kl = key_for(h, partner, rows[nrows - 1].seq);
		for (rr = kl + 1; rr <= h->nrot; rr++)
			fprintf(out,
				"note key rotated after scan #%lld (rotation %d at %s): %s → %s; no scan of %s signed with it "
				"yet\n",
				rows[nrows - 1].seq, rr, h->rots[rr - 1].at, h->keys[rr - 1].fp, h->keys[rr].fp,
				partner);
	}
	/* unindexed files: the next seq is an interrupted write; anything else was cut from the index */
	partner_dir(h, partner, dir, sizeof(dir));
	if ((d = opendir(dir))) {
		while ((de = readdir(d))) {
			long long s;
			bool known = false;
			if (!is_seq_name(de->d_name, &s))
				continue;
			for (i = 0; i < nrows && !known; i++)
				known = rows[i].seq == s;
			if (known)
				continue;
			if (s == rows[nrows - 1].seq + 1) {
				if (out)
					fprintf(out,
						"note %s/%s: unindexed (an interrupted write, or an index one scan behind); the "
						"next scan indexes it if it is signed and chains on\n",
						dir, de->d_name);
			} else
				problem(out, &problems,
					"%s/%s: the index and the files disagree: the file exists but no index row names it "
					"(an index restored from an older copy? tenken history --reindex rebuilds it from the files)",
					dir, de->d_name);
		}
		closedir(d);
	}
	if (nreports)
		*nreports = (int)nrows;
	free(rows);
	return problems ? tk_seterr(err, TK_ERR_VERIFY, "partner %s: %d problem%s found", partner, problems,
				    problems == 1 ? "" : "s")
			: TK_OK;
}

int tk_history_verify_file(struct tk_history *h, const char *path, FILE *out, struct tk_err *err)
{
	char *text = NULL, sha[65], sigpath[PATH_MAX + 8], stored[PATH_MAX];
	size_t len;
	unsigned char dg[32];
	cJSON *rep = NULL;
	int problems = 0, rc;
	sqlite3_stmt *st = NULL;
	const char *partner;
	long long seq = 0;
	char indexed_sha[65] = "";

	if ((rc = tk_history_read_report(path, &text, &len, err)))
		return rc;
	tk_sha256(text, len, dg);
	tk_hex(dg, 32, sha);
	rep = cJSON_ParseWithLength(text, len);
	free(text);
	if (!rep) {
		/* still say whether it matches its signature: an edit usually breaks the JSON too */
		problem(out, &problems, "%s: not valid JSON", path);
		snprintf(sigpath, sizeof(sigpath), "%s.sig", path);
		problems += check_sig(h, sigpath, path, NULL, 0, sha, NULL, out);
		goto out;
	}
	partner = jstr(cJSON_GetObjectItemCaseSensitive(rep, "partner"), "id");
	stored[0] = '\0';
	if (sqlite3_prepare_v2(h->db, "SELECT seq, sha256, file FROM scans WHERE partner=? AND run_id=?", -1, &st,
			       NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, partner, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, jstr(rep, "run_id"), -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			seq = sqlite3_column_int64(st, 0);
			tk_strlcpy(indexed_sha, (const char *)sqlite3_column_text(st, 1), sizeof(indexed_sha));
			if (safe_rel((const char *)sqlite3_column_text(st, 2)))
				snprintf(stored, sizeof(stored), "%s/%s", h->dir,
					 (const char *)sqlite3_column_text(st, 2));
		}
		sqlite3_finalize(st);
	}
	/* the signature beside the file, else (a copy such as --out's report.json) the stored one */
	snprintf(sigpath, sizeof(sigpath), "%s.sig", path);
	if (access(sigpath, F_OK) != 0 && stored[0])
		snprintf(sigpath, sizeof(sigpath), "%s.sig", stored);
	problems += check_sig(h, sigpath, path, *partner ? partner : NULL, seq, sha, NULL, out);
	if (seq > 0 && strcmp(indexed_sha, sha) != 0)
		problem(out, &problems, "%s: modified: differs from stored scan #%lld of %s", path, seq, partner);
	else if (seq > 0 && out && problems == 0)
		fprintf(out, "ok   %s: stored scan #%lld of %s, signature valid\n", path, seq, partner);
	else if (seq == 0 && out)
		fprintf(out, "note %s: run %s is not in this history's index\n", path, jstr(rep, "run_id"));
out:
	cJSON_Delete(rep);
	return problems
		   ? tk_seterr(err, TK_ERR_VERIFY, "%s: %d problem%s found", path, problems, problems == 1 ? "" : "s")
		   : TK_OK;
}

/* ---- head anchoring (desk; see history.h) ---- */

int tk_history_partners(struct tk_history *h, cJSON **out, struct tk_err *err)
{
	sqlite3_stmt *st = NULL;
	cJSON *arr = cJSON_CreateArray();
	int r;
	*out = NULL;
	if (!arr)
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	if (sqlite3_prepare_v2(h->db, "SELECT DISTINCT partner FROM scans ORDER BY partner", -1, &st, NULL) != SQLITE_OK) {
		cJSON_Delete(arr);
		return tk_seterr(err, TK_ERR_IO, "index: %s", sqlite3_errmsg(h->db));
	}
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		cJSON_AddItemToArray(arr, cJSON_CreateString((const char *)sqlite3_column_text(st, 0)));
	sqlite3_finalize(st);
	if (r != SQLITE_DONE) {
		cJSON_Delete(arr);
		return tk_seterr(err, TK_ERR_IO, "index: %s", sqlite3_errmsg(h->db));
	}
	*out = arr;
	return TK_OK;
}

int tk_history_heads(struct tk_history *h, cJSON **out, struct tk_err *err)
{
	sqlite3_stmt *st = NULL;
	cJSON *doc = cJSON_CreateObject(), *arr;
	char now[32];
	int r;
	*out = NULL;
	if (!doc)
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	tk_rfc3339(time(NULL), now);
	cJSON_AddStringToObject(doc, "schema", "tenken.heads/1");
	cJSON_AddStringToObject(doc, "exported_at", now);
	cJSON_AddStringToObject(doc, "key_fingerprint", h->cur.fp);
	arr = cJSON_AddArrayToObject(doc, "partners");
	/* the newest row of each partner: a (partner, seq) primary-key lookup each */
	if (sqlite3_prepare_v2(h->db,
			       "SELECT s.partner, s.seq, s.sha256, s.run_id, s.started_at, s.finished_at, s.verdict"
			       " FROM (SELECT partner, max(seq) AS m FROM scans GROUP BY partner) AS t"
			       " JOIN scans AS s ON s.partner=t.partner AND s.seq=t.m ORDER BY s.partner",
			       -1, &st, NULL) != SQLITE_OK) {
		cJSON_Delete(doc);
		return tk_seterr(err, TK_ERR_IO, "index: %s", sqlite3_errmsg(h->db));
	}
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "partner", (const char *)sqlite3_column_text(st, 0));
		cJSON_AddNumberToObject(o, "seq", (double)sqlite3_column_int64(st, 1));
		cJSON_AddStringToObject(o, "sha256", (const char *)sqlite3_column_text(st, 2));
		cJSON_AddStringToObject(o, "run_id", (const char *)sqlite3_column_text(st, 3));
		cJSON_AddStringToObject(o, "started_at", (const char *)sqlite3_column_text(st, 4));
		cJSON_AddStringToObject(o, "finished_at", (const char *)sqlite3_column_text(st, 5));
		cJSON_AddStringToObject(o, "verdict", (const char *)sqlite3_column_text(st, 6));
		cJSON_AddItemToArray(arr, o);
	}
	sqlite3_finalize(st);
	if (r != SQLITE_DONE) {
		cJSON_Delete(doc);
		return tk_seterr(err, TK_ERR_IO, "index: %s", sqlite3_errmsg(h->db));
	}
	*out = doc;
	return TK_OK;
}

int tk_history_check_head(struct tk_history *h, const char *partner, long long seq, const char *sha256, FILE *out)
{
	sqlite3_stmt *st = NULL;
	long long newest = 0;
	char at[65] = "";
	int n = 0;
	if (sqlite3_prepare_v2(h->db, "SELECT max(seq) FROM scans WHERE partner=?", -1, &st, NULL) != SQLITE_OK) {
		problem(out, &n, "partner %s: index unreadable: %s", partner, sqlite3_errmsg(h->db));
		return n;
	}
	sqlite3_bind_text(st, 1, partner, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		newest = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(h->db, "SELECT sha256 FROM scans WHERE partner=? AND seq=?", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, partner, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, seq);
		if (sqlite3_step(st) == SQLITE_ROW)
			tk_strlcpy(at, (const char *)sqlite3_column_text(st, 0), sizeof(at));
		sqlite3_finalize(st);
	}
	if (newest == 0)
		problem(out, &n, "partner %s: every scan removed: the anchored head is scan #%lld (%.16s…), the history has none",
			partner, seq, sha256);
	else if (newest < seq)
		problem(out, &n,
			"partner %s: newest scans removed: the anchored head is scan #%lld (%.16s…), the history ends at #%lld",
			partner, seq, sha256, newest);
	else if (!*at)
		problem(out, &n, "partner %s: anchored scan #%lld (%.16s…) is missing from the index", partner, seq, sha256);
	else if (strcmp(at, sha256) != 0)
		problem(out, &n, "partner %s: history rewritten: scan #%lld has SHA-256 %.16s…, the anchored head says %.16s…",
			partner, seq, at, sha256);
	else if (out)
		fprintf(out, "ok   partner %s: anchored head scan #%lld %.16s… present (history ends at #%lld)\n", partner,
			seq, sha256, newest);
	return n;
}

/* ---- per-item index for the portfolio (desk; see history.h) ---- */

const char *tk_history_dir(const struct tk_history *h)
{
	return h->dir;
}

int tk_history_sign(struct tk_history *h, const void *msg, size_t len, char **out, size_t *outlen, struct tk_err *err)
{
	unsigned char sig[TK_SIG_MAX];
	size_t sl = 0;
	int rc;
	*out = NULL;
	*outlen = 0;
	if ((rc = need_signer(h, err)) || (rc = tk_signer_sign(h->signer, msg, len, sig, &sl, err)))
		return rc;
	if (!(*out = b64(sig, sl)))
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	*outlen = strlen(*out);
	return TK_OK;
}

sqlite3 *tk_history_db(struct tk_history *h)
{
	return h->db;
}

static char status_letter(const char *s)
{
	static const char *const names[] = {"pass", "fail", "incomplete", "manual", "not_applicable", "waived"};
	static const char letters[] = "pfimnw";
	size_t i;
	for (i = 0; i < 6; i++)
		if (strcmp(s, names[i]) == 0)
			return letters[i];
	return '?';
}

static void item_no(const cJSON *no, char *buf, size_t size)
{
	size_t i;
	if (cJSON_IsNumber(no))
		snprintf(buf, size, "%d", no->valueint);
	else if (cJSON_IsString(no))
		snprintf(buf, size, "%s", no->valuestring);
	else
		snprintf(buf, size, "?");
	for (i = 0; buf[i]; i++) /* the separators of the record never appear in a number */
		if (buf[i] == '=' || buf[i] == ';')
			buf[i] = '_';
}

/* Why an incomplete item could not be judged: its first errored finding. */
static void incomplete_reason(const cJSON *report, const cJSON *item, char *buf, size_t size)
{
	const cJSON *rid, *f;
	snprintf(buf, size, "no evidence");
	cJSON_ArrayForEach(rid, cJSON_GetObjectItemCaseSensitive(item, "findings"))
	{
		if (!cJSON_IsString(rid))
			continue;
		cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(report, "findings"))
		{
			const cJSON *ev = cJSON_GetObjectItemCaseSensitive(f, "evidence");
			if (strcmp(jstr(f, "rule"), rid->valuestring) != 0 || strcmp(jstr(f, "status"), "error") != 0)
				continue;
			snprintf(buf, size, "%s: %s%s%s", rid->valuestring, jstr(ev, "error"),
				 *jstr(ev, "message") ? ": " : "", jstr(ev, "message"));
			return;
		}
		snprintf(buf, size, "%s: not observed", rid->valuestring);
		return;
	}
}

int tk_history_item_record(const cJSON *report, char **items, char **extra, struct tk_err *err)
{
	struct tk_buf b;
	cJSON *x = cJSON_CreateObject(), *inc, *wv;
	const cJSON *it, *w, *wvs = cJSON_GetObjectItemCaseSensitive(report, "waivers");
	*items = NULL;
	*extra = NULL;
	tk_buf_init(&b, 1 << 20);
	if (!x)
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	inc = cJSON_AddObjectToObject(x, "incomplete");
	wv = cJSON_AddArrayToObject(x, "waivers");
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(report, "items"))
	{
		char no[32];
		const char *st = jstr(it, "status");
		item_no(cJSON_GetObjectItemCaseSensitive(it, "no"), no, sizeof(no));
		if (tk_buf_printf(&b, "%s%s=%c", b.len ? ";" : "", no, status_letter(st))) {
			tk_buf_free(&b);
			cJSON_Delete(x);
			return tk_seterr(err, TK_ERR_LIMIT, "report: too many items for the index record");
		}
		if (strcmp(st, "incomplete") == 0) {
			char why[512];
			incomplete_reason(report, it, why, sizeof(why));
			cJSON_AddStringToObject(inc, no, why);
		}
	}
	cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(wvs, "applied"))
	{
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "id", jstr(w, "id"));
		cJSON_AddStringToObject(o, "target", jstr(w, "target"));
		cJSON_AddStringToObject(o, "expires", jstr(w, "expires"));
		cJSON_AddItemToArray(wv, o);
	}
	cJSON_AddNumberToObject(x, "expired_waivers", cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(wvs, "expired")));
	{
		cJSON *ex = cJSON_AddArrayToObject(x, "expired_ids");
		cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(wvs, "expired"))
			cJSON_AddItemToArray(ex, cJSON_CreateString(jstr(w, "id")));
	}
	*extra = cJSON_PrintUnformatted(x);
	cJSON_Delete(x);
	*items = tk_buf_steal(&b);
	if (!*items) /* a report without items: an empty record */
		*items = strdup("");
	if (!*items || !*extra) {
		free(*items);
		cJSON_free(*extra);
		*items = *extra = NULL;
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	}
	return TK_OK;
}

int tk_history_portfolio(struct tk_history *h, int trend_n, cJSON **out, struct tk_err *err)
{
	sqlite3_stmt *st = NULL, *tr = NULL, *nx = NULL;
	char *last = NULL;
	cJSON *arr = cJSON_CreateArray();
	int r, rc = TK_OK;
	*out = NULL;
	if (!arr)
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	/* Partners by skip-scan over the (partner, seq) key: a few pages per partner,
	 * never the whole table (365,000 rows need not be read for 1,000 newest). */
	if (sqlite3_prepare_v2(h->db, "SELECT partner FROM scans WHERE partner > ? ORDER BY partner LIMIT 1", -1, &nx,
			       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(h->db,
			       "SELECT s.partner, s.seq, s.run_id, s.mode, s.checklist, s.started_at, s.finished_at, s.verdict,"
			       " s.complete, s.n_pass, s.n_fail, s.n_incomplete, s.n_manual, s.n_not_applicable, s.n_waived,"
			       " s.sha256, s.file, s.prev_sha256, s.key_fp, d.items, d.extra"
			       " FROM scans AS s LEFT JOIN desk_items AS d ON d.partner=s.partner AND d.seq=s.seq"
			       " WHERE s.partner=? ORDER BY s.seq DESC LIMIT 1",
			       -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(h->db,
			       "SELECT * FROM (SELECT seq, finished_at, verdict, n_fail, n_incomplete FROM scans"
			       " WHERE partner=? ORDER BY seq DESC LIMIT ?) ORDER BY seq",
			       -1, &tr, NULL) != SQLITE_OK) {
		rc = tk_seterr(err, TK_ERR_IO, "index: %s", sqlite3_errmsg(h->db));
		goto out;
	}
	sqlite3_bind_text(nx, 1, "", -1, SQLITE_STATIC);
	while ((r = sqlite3_step(nx)) == SQLITE_ROW) {
		cJSON *o, *items, *trend;
		char *cur = tk_strdup((const char *)sqlite3_column_text(nx, 0));
		free(last);
		last = cur;
		sqlite3_reset(nx);
		sqlite3_bind_text(nx, 1, last, -1, SQLITE_STATIC);
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, last, -1, SQLITE_STATIC);
		if (!last || sqlite3_step(st) != SQLITE_ROW) {
			rc = tk_seterr(err, TK_ERR_IO, "index: %s", sqlite3_errmsg(h->db));
			goto out;
		}
		o = cJSON_CreateObject();
		static const char *const names[] = {"pass", "fail", "incomplete", "manual", "not_applicable", "waived"};
		const char *partner = (const char *)sqlite3_column_text(st, 0);
		const char *rec = (const char *)sqlite3_column_text(st, 19),
			   *extra = (const char *)sqlite3_column_text(st, 20);
		int i;
		cJSON_AddStringToObject(o, "partner", partner);
		cJSON_AddNumberToObject(o, "seq", (double)sqlite3_column_int64(st, 1));
		cJSON_AddStringToObject(o, "run_id", (const char *)sqlite3_column_text(st, 2));
		cJSON_AddStringToObject(o, "mode", (const char *)sqlite3_column_text(st, 3));
		cJSON_AddStringToObject(o, "checklist", (const char *)sqlite3_column_text(st, 4));
		cJSON_AddStringToObject(o, "started_at", (const char *)sqlite3_column_text(st, 5));
		cJSON_AddStringToObject(o, "finished_at", (const char *)sqlite3_column_text(st, 6));
		cJSON_AddStringToObject(o, "verdict", (const char *)sqlite3_column_text(st, 7));
		cJSON_AddBoolToObject(o, "complete", sqlite3_column_int(st, 8));
		items = cJSON_AddObjectToObject(o, "items");
		for (i = 0; i < 6; i++)
			cJSON_AddNumberToObject(items, names[i], sqlite3_column_int(st, 9 + i));
		cJSON_AddStringToObject(o, "sha256", (const char *)sqlite3_column_text(st, 15));
		cJSON_AddStringToObject(o, "file", safe_rel((const char *)sqlite3_column_text(st, 16))
							    ? (const char *)sqlite3_column_text(st, 16)
							    : "");
		if (rec)
			cJSON_AddStringToObject(o, "record", rec);
		else
			cJSON_AddNullToObject(o, "record");
		cJSON_AddItemToObject(o, "extra", extra ? cJSON_Parse(extra) : cJSON_CreateNull());
		trend = cJSON_AddArrayToObject(o, "trend");
		sqlite3_reset(tr);
		sqlite3_bind_text(tr, 1, partner, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(tr, 2, trend_n > 0 ? trend_n : 1);
		while (sqlite3_step(tr) == SQLITE_ROW) {
			cJSON *t = cJSON_CreateObject();
			cJSON_AddNumberToObject(t, "seq", (double)sqlite3_column_int64(tr, 0));
			cJSON_AddStringToObject(t, "finished_at", (const char *)sqlite3_column_text(tr, 1));
			cJSON_AddStringToObject(t, "verdict", (const char *)sqlite3_column_text(tr, 2));
			cJSON_AddNumberToObject(t, "fail", sqlite3_column_int(tr, 3));
			cJSON_AddNumberToObject(t, "incomplete", sqlite3_column_int(tr, 4));
			cJSON_AddItemToArray(trend, t);
		}
		cJSON_AddItemToArray(arr, o);
	}
	if (r != SQLITE_DONE)
		rc = tk_seterr(err, TK_ERR_IO, "index: %s", sqlite3_errmsg(h->db));
out:
	sqlite3_finalize(nx);
	sqlite3_finalize(st);
	sqlite3_finalize(tr);
	free(last);
	if (rc)
		cJSON_Delete(arr);
	else
		*out = arr;
	return rc;
}

/* ---- rebuilding the index from the files ---- */

int tk_history_reindex(struct tk_history *h, FILE *out, int *nindexed, int *nskipped, struct tk_err *err)
{
	char rdir[PATH_MAX];
	DIR *d = NULL;
	struct dirent *de;
	int rc;
	*nindexed = *nskipped = 0;
	if ((rc = db_exec(h, "BEGIN IMMEDIATE", err)))
		return rc;
	h->in_tx = true;
	if ((rc = db_exec(h, "DELETE FROM scans", err)) || (rc = db_exec(h, "DELETE FROM desk_items", err)))
		goto out;
	snprintf(rdir, sizeof(rdir), "%s/reports", h->dir);
	if (!(d = opendir(rdir)) && errno != ENOENT) {
		rc = tk_seterr(err, TK_ERR_IO, "%s: %s", rdir, strerror(errno));
		goto out;
	}
	while (d && (de = readdir(d))) {
		char dir[PATH_MAX];
		long long *seqs = NULL;
		size_t n = 0, i;
		if (de->d_name[0] == '.' || snprintf(dir, sizeof(dir), "%s/%s", rdir, de->d_name) >= (int)sizeof(dir))
			continue;
		if ((rc = file_seqs(dir, 0, &seqs, &n, err)))
			goto out;
		for (i = 0; i < n; i++) {
			struct signed_file f;
			char pdir[PATH_MAX], rel[PATH_MAX + 32];
			const char *why = NULL;
			read_signed(h, dir, seqs[i], &f);
			if (f.sig_ok)
				partner_dir(h, f.partner, pdir, sizeof(pdir));
			if (!f.has_report)
				why = "the report file is missing";
			else if (!f.has_sig)
				why = "no signature (never signed: an interrupted write)";
			else if (!f.sig_ok)
				why = "the signature does not verify with a key of this agent's key log";
			else if (f.signed_seq != seqs[i] || strcmp(pdir, dir) != 0)
				why = "signed for another position (partner or sequence number)";
			if (why) {
				(*nskipped)++;
				if (out)
					fprintf(out, "skip %s/%s: %s\n", dir, f.name, why);
				signed_file_free(&f);
				continue;
			}
			if (!f.report) /* modified into non-JSON: indexed by its signed hash, so verify names it */
				f.report = cJSON_CreateObject();
			if (!cJSON_GetObjectItemCaseSensitive(f.report, "run_id"))
				cJSON_AddStringToObject(f.report, "run_id", f.run_id);
			snprintf(rel, sizeof(rel), "reports/%s/%s", de->d_name, f.name);
			/* the signed hash, not the file's: a modified file stays a finding for verify */
			rc = index_insert(h, f.partner, seqs[i], f.signed_sha, f.prev, rel, f.report, err);
			if (!rc && cJSON_GetObjectItemCaseSensitive(f.report, "items"))
				rc = desk_items_insert(h, f.partner, seqs[i], f.report, err);
			signed_file_free(&f);
			if (rc) {
				free(seqs);
				goto out;
			}
			(*nindexed)++;
			if (out)
				fprintf(out, "ok   %s #%lld\n", f.partner, seqs[i]);
		}
		free(seqs);
	}
	rc = db_exec(h, "COMMIT", err);
	if (!rc)
		h->in_tx = false;
out:
	if (d)
		closedir(d);
	if (rc)
		tk_history_abort(h);
	return rc;
}

/* ---- key rotation (desk; see history.h) ---- */

int tk_history_rotate(struct tk_history *h, const char *config_path, FILE *out, struct tk_err *err)
{
	struct tk_signer *ns = NULL;
	struct tk_buf rec;
	sqlite3_stmt *st = NULL;
	char dir[PATH_MAX], path[PATH_MAX + 32], cfg[PATH_MAX], tmp[PATH_MAX + 8], now[32], *ob = NULL, *nb = NULL,
	    *sb = NULL, *pem = NULL, *ctext = NULL;
	unsigned char sig[TK_SIG_MAX];
	size_t sl = 0, clen = 0;
	const struct tk_pubkey *nk;
	bool old_default_file;
	int rc, n = h->nrot + 1, r;
	struct rotation *ro;

	tk_buf_init(&rec, (size_t)16 << 20);
	if (n > MAX_ROT)
		return tk_seterr(err, TK_ERR_LIMIT, "the key log holds %d rotations already", MAX_ROT);
	if ((rc = need_signer(h, err)))
		return rc;
	snprintf(cfg, sizeof(cfg), "%s/signing.json", h->dir);
	old_default_file = access(cfg, F_OK) != 0;
	if ((rc = tk_read_file(config_path, 1 << 16, &ctext, &clen, err)) ||
	    (rc = tk_signer_open_config(config_path, h->dir, &ns, err)))
		goto out;
	nk = tk_signer_pub(ns);
	if (key_index(h, nk) >= 0) {
		rc = tk_seterr(err, TK_ERR_USAGE, "%s: key %s was already used by this history: rotate to a new key",
			       config_path, nk->fp);
		goto out;
	}
	if ((rc = db_exec(h, "BEGIN IMMEDIATE", err)))
		goto out;
	h->in_tx = true;
	tk_rfc3339(time(NULL), now);
	ob = b64(h->cur.raw, h->cur.len);
	nb = b64(nk->raw, nk->len);
	tk_buf_printf(&rec, "%s\nseq %d\nrotated_at %s\nprevious %s\nold_alg %s\nold_key %s\nold_fingerprint %s\n",
		      ROT_SCHEMA, n, now, n > 1 ? h->rots[n - 2].sha : "-", h->cur.alg, ob ? ob : "", h->cur.fp);
	tk_buf_printf(&rec, "new_alg %s\nnew_key %s\nnew_fingerprint %s\n", nk->alg, nb ? nb : "", nk->fp);
	/* every partner's newest scan: later scans must carry the new key */
	if (sqlite3_prepare_v2(h->db, "SELECT partner, MAX(seq) FROM scans GROUP BY partner ORDER BY partner", -1, &st,
			       NULL) != SQLITE_OK) {
		rc = tk_seterr(err, TK_ERR_IO, "index: %s", sqlite3_errmsg(h->db));
		goto out;
	}
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		const char *p = (const char *)sqlite3_column_text(st, 0);
		if (!p || strpbrk(p, "\t\n")) {
			rc = tk_seterr(err, TK_ERR_VERIFY, "index: a partner id with a tab or newline");
			goto out;
		}
		tk_buf_printf(&rec, "head %lld\t%s\n", (long long)sqlite3_column_int64(st, 1), p);
	}
	if (!ob || !nb || !rec.data || rec.len >= rec.max - 1) {
		rc = tk_seterr(err, TK_ERR_NOMEM, "rotation record: out of memory or too large");
		goto out;
	}
	snprintf(dir, sizeof(dir), "%s/key/rotations", h->dir);
	if ((rc = tk_mkdirs(dir, 0700, err)))
		goto out;
	/* the signatures first (a record without them is no rotation), the record last */
	{
		static const char *const ext[] = {"sig", "newsig", "pem"};
		for (r = 0; r < 3; r++) {
			snprintf(path, sizeof(path), "%s/%06d.%s", dir, n, ext[r]);
			unlink(path); /* left by an interrupted rotation: its record was never written */
		}
	}
	if ((rc = tk_signer_sign(h->signer, rec.data, rec.len, sig, &sl, err)) || !(sb = b64(sig, sl)))
		goto signfail;
	snprintf(path, sizeof(path), "%s/%06d.sig", dir, n);
	{
		char line[256];
		snprintf(line, sizeof(line), "%s\n", sb);
		if ((rc = tk_write_file_new(path, line, strlen(line), 0600, err)))
			goto out;
		free(sb);
		sb = NULL;
		if ((rc = tk_signer_sign(ns, rec.data, rec.len, sig, &sl, err)) || !(sb = b64(sig, sl)))
			goto signfail;
		snprintf(line, sizeof(line), "%s\n", sb);
		snprintf(path, sizeof(path), "%s/%06d.newsig", dir, n);
		if ((rc = tk_write_file_new(path, line, strlen(line), 0600, err)))
			goto out;
	}
	snprintf(path, sizeof(path), "%s/%06d.pem", dir, n);
	if ((rc = tk_pubkey_pem(nk, &pem, err)) || (rc = tk_write_file_new(path, pem, strlen(pem), 0600, err)))
		goto out;
	snprintf(path, sizeof(path), "%s/%06d.txt", dir, n);
	if ((rc = tk_write_file_new(path, rec.data, rec.len, 0600, err)))
		goto out;
	/* the new key in force: signing.json replaced atomically */
	snprintf(tmp, sizeof(tmp), "%s.tmp", cfg);
	unlink(tmp);
	if ((rc = tk_write_file_new(tmp, ctext, clen, 0600, err)))
		goto out;
	if (rename(tmp, cfg) != 0) {
		rc = tk_seterr(err, TK_ERR_IO, "%s: %s (the rotation is recorded; install %s as %s to finish it)", cfg,
			       strerror(errno), config_path, cfg);
		goto out;
	}
	ro = &h->rots[n - 1];
	memset(ro, 0, sizeof(*ro));
	ro->n = n;
	ro->heads = cJSON_CreateObject();
	tk_strlcpy(ro->at, now, sizeof(ro->at));
	{
		unsigned char d[32];
		tk_sha256(rec.data, rec.len, d);
		tk_hex(d, 32, ro->sha);
	}
	snprintf(ro->file, sizeof(ro->file), "%06d.txt", n);
	h->keys[n] = *nk;
	h->nrot = n;
	if (out)
		fprintf(out, "rotated: %s → %s (rotation %d at %s, %s)\n", h->cur.fp, nk->fp, n, now, path);
	h->cur = *nk;
	tk_signer_close(h->signer);
	h->signer = ns;
	ns = NULL;
	cache_pub(h);
	if ((rc = db_exec(h, "COMMIT", err)))
		goto out;
	h->in_tx = false;
	if (old_default_file) {
		/* a key file left behind would let whoever reads the disk sign a competing rotation */
		snprintf(path, sizeof(path), "%s/key/ed25519.pem", h->dir);
		if (unlink(path) == 0 && out)
			fprintf(out, "removed the old key file %s (backups of it must be destroyed too)\n", path);
	}
	goto out;
signfail:
	if (!rc)
		rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	tk_err_prefix(err, "rotation not recorded");
out:
	if (rc)
		tk_history_abort(h);
	/* a new rotation's heads are re-read from the file on the next open */
	if (!rc && h->rots[n - 1].heads) {
		cJSON_Delete(h->rots[n - 1].heads);
		h->rots[n - 1].heads = NULL;
		h->nrot = 0;
		h->keylog_problems.len = 0;
		load_keylog(h, err);
	}
	sqlite3_finalize(st);
	tk_signer_close(ns);
	tk_buf_free(&rec);
	free(ob);
	free(nb);
	free(sb);
	free(pem);
	free(ctext);
	return rc;
}

int tk_history_keys(struct tk_history *h, cJSON **out, struct tk_err *err)
{
	int i;
	*out = cJSON_CreateArray();
	for (i = 0; *out && i <= h->nrot; i++) {
		cJSON *k = cJSON_CreateObject();
		char *pem = NULL;
		int rc = tk_pubkey_pem(&h->keys[i], &pem, err);
		if (rc) {
			cJSON_Delete(k);
			cJSON_Delete(*out);
			*out = NULL;
			return rc;
		}
		cJSON_AddNumberToObject(k, "index", i);
		cJSON_AddStringToObject(k, "alg", h->keys[i].alg);
		cJSON_AddStringToObject(k, "fingerprint", h->keys[i].fp);
		cJSON_AddStringToObject(k, "pem", pem);
		free(pem);
		if (i > 0) {
			char p[PATH_MAX + 32];
			snprintf(p, sizeof(p), "%s/key/rotations/%06d", h->dir, i);
			cJSON_AddStringToObject(k, "record", p);
			cJSON_AddStringToObject(k, "rotated_at", h->rots[i - 1].at);
		}
		cJSON_AddItemToArray(*out, k);
	}
	return *out ? TK_OK : tk_seterr(err, TK_ERR_NOMEM, "out of memory");
}
