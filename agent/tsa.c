/*
 * tsa.c - RFC 3161 timestamp tokens for stored reports (see tsa.h).
 *
 * Request: TS_REQ over SHA-256(report bytes), a random 64-bit nonce,
 * certReq true (the token carries the TSA certificate). The response is
 * verified before it is stored (status granted, signature by a certificate
 * chaining to ca_file with extendedKeyUsage timeStamping, imprint, nonce).
 * POSTed through the one request helper (httpreq.h): one retry on a
 * transport failure, 429 or 5xx, all of it inside timeout_s; 64 KiB bound.
 */
#include "tsa.h"

#include <errno.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "httpreq.h"

#define TSA_MAX_RESPONSE (64 * 1024)
#define TSA_MAX_RETRIES 50 /* pending tokens retried per stored scan */
#define TSA_HTTP_RETRIES 1 /* per request, inside timeout_s (httpreq.h) */

struct tsa_conf {
	char url[1024];
	char ca_file[PATH_MAX];
	long timeout_s;
};

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : "";
}

/* Load <state>/tsa.json; TK_ERR_NOTFOUND when there is none. */
static int conf_load(const char *state, struct tsa_conf *c, struct tk_err *err)
{
	char path[PATH_MAX], *text = NULL;
	size_t len;
	cJSON *j = NULL;
	const cJSON *t;
	int rc;
	memset(c, 0, sizeof(*c));
	c->timeout_s = 10;
	snprintf(path, sizeof(path), "%s/tsa.json", state);
	if (access(path, F_OK) != 0)
		return tk_seterr(err, TK_ERR_NOTFOUND, "%s: no TSA configured", path);
	if ((rc = tk_read_file(path, 1 << 16, &text, &len, err)))
		return rc;
	j = cJSON_ParseWithLength(text, len);
	free(text);
	if (!j) {
		return tk_seterr(err, TK_ERR_CONFIG, "%s: not valid JSON", path);
	}
	if (strncmp(jstr(j, "url"), "http://", 7) != 0 && strncmp(jstr(j, "url"), "https://", 8) != 0) {
		rc = tk_seterr(err, TK_ERR_CONFIG, "%s: url: an http:// or https:// URL is required", path);
		goto out;
	}
	if (!*jstr(j, "ca_file")) {
		rc = tk_seterr(err, TK_ERR_CONFIG, "%s: ca_file: the CA of the TSA's certificate is required", path);
		goto out;
	}
	t = cJSON_GetObjectItemCaseSensitive(j, "timeout_s");
	if (t && (!cJSON_IsNumber(t) || t->valuedouble < 1 || t->valuedouble > 60)) {
		rc = tk_seterr(err, TK_ERR_CONFIG, "%s: timeout_s: 1..60 seconds", path);
		goto out;
	}
	if (t)
		c->timeout_s = (long)t->valuedouble;
	if (tk_strlcpy(c->url, jstr(j, "url"), sizeof(c->url))) {
		rc = tk_seterr(err, TK_ERR_CONFIG, "%s: url: too long", path);
		goto out;
	}
	if (jstr(j, "ca_file")[0] == '/')
		rc = tk_strlcpy(c->ca_file, jstr(j, "ca_file"), sizeof(c->ca_file));
	else
		rc = snprintf(c->ca_file, sizeof(c->ca_file), "%s/%s", state, jstr(j, "ca_file")) >=
			     (int)sizeof(c->ca_file)
			 ? TK_ERR_LIMIT
			 : TK_OK;
	if (rc)
		rc = tk_seterr(err, TK_ERR_CONFIG, "%s: ca_file: path too long", path);
out:
	cJSON_Delete(j);
	return rc;
}

static int db_exec(sqlite3 *db, const char *sql, struct tk_err *err)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int rc = tk_seterr(err, TK_ERR_IO, "index: %s", msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return rc;
	}
	return TK_OK;
}

static int ensure_table(sqlite3 *db, struct tk_err *err)
{
	return db_exec(db,
		       "CREATE TABLE IF NOT EXISTS desk_tsa(partner TEXT NOT NULL, seq INTEGER NOT NULL, state TEXT NOT NULL,"
		       " attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT, last_attempt TEXT,"
		       " PRIMARY KEY(partner, seq)) WITHOUT ROWID;",
		       err);
}

/* The last OpenSSL error as text (or fallback). */
static void ossl_reason(char *buf, size_t size, const char *fallback)
{
	unsigned long e = ERR_get_error();
	if (e)
		ERR_error_string_n(e, buf, size);
	else
		snprintf(buf, size, "%s", fallback);
	ERR_clear_error();
}

static int hex_to_bin(const char *hex, unsigned char out[32])
{
	size_t i;
	if (strlen(hex) != 64)
		return TK_ERR_PARSE;
	for (i = 0; i < 32; i++) {
		unsigned v;
		char b[3] = {hex[2 * i], hex[2 * i + 1], 0};
		char *end;
		v = (unsigned)strtoul(b, &end, 16);
		if (*end)
			return TK_ERR_PARSE;
		out[i] = (unsigned char)v;
	}
	return TK_OK;
}

static X509_STORE *load_store(const char *ca_file, struct tk_err *err)
{
	X509_STORE *st = X509_STORE_new();
	if (!st || X509_STORE_load_file(st, ca_file) != 1) {
		char why[256];
		ossl_reason(why, sizeof(why), "cannot load");
		X509_STORE_free(st);
		tk_seterr(err, TK_ERR_CONFIG, "%s: cannot load the TSA CA: %s", ca_file, why);
		return NULL;
	}
	return st;
}

static void gen_time_of(TS_RESP *resp, char out[32])
{
	const ASN1_GENERALIZEDTIME *g = TS_TST_INFO_get_time(TS_RESP_get_tst_info(resp));
	struct tm tm;
	out[0] = '\0';
	if (g && ASN1_TIME_to_tm(g, &tm) == 1)
		strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Verify a parsed response: signature chain (timeStamping), imprint, and
 * (when req is set) nonce and the other request fields. */
static int verify_resp(TS_RESP *resp, TS_REQ *req, const unsigned char digest[32], const char *ca_file,
		       struct tk_err *err)
{
	TS_VERIFY_CTX *ctx = req ? TS_REQ_to_TS_VERIFY_CTX(req, NULL) : TS_VERIFY_CTX_new();
	X509_STORE *st = NULL;
	unsigned char *imp = NULL;
	char why[256];
	int rc = TK_OK;
	if (!ctx)
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	if (!(st = load_store(ca_file, err))) {
		rc = TK_ERR_CONFIG;
		goto out;
	}
	TS_VERIFY_CTX_set_store(ctx, st); /* owned by ctx */
	if (req)
		TS_VERIFY_CTX_add_flags(ctx, TS_VFY_SIGNATURE);
	else {
		if (!(imp = OPENSSL_malloc(32))) {
			rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
			goto out;
		}
		memcpy(imp, digest, 32);
		TS_VERIFY_CTX_set_imprint(ctx, imp, 32); /* owned by ctx */
		TS_VERIFY_CTX_set_flags(ctx, TS_VFY_VERSION | TS_VFY_SIGNATURE | TS_VFY_IMPRINT);
	}
	if (TS_RESP_verify_response(ctx, resp) != 1) {
		ossl_reason(why, sizeof(why), "verification failed");
		rc = tk_seterr(err, TK_ERR_VERIFY, "%s", why);
	}
out:
	TS_VERIFY_CTX_free(ctx);
	return rc;
}

/* Ask the TSA for a token over digest; on success the DER response is in *der. */
static int request_token(const struct tsa_conf *c, const unsigned char digest[32], unsigned char **der, size_t *dlen,
			 struct tk_err *err)
{
	TS_REQ *req = TS_REQ_new();
	TS_MSG_IMPRINT *mi = TS_MSG_IMPRINT_new();
	X509_ALGOR *alg = X509_ALGOR_new();
	ASN1_INTEGER *nonce = NULL;
	TS_RESP *resp = NULL;
	unsigned char *qder = NULL, rnd[8];
	const unsigned char *pp;
	int qlen, rc = TK_OK;
	struct tk_buf b;
	struct tk_http_info info;
	struct tk_http_req hr;
	char what[1100];
	BIGNUM *bn = NULL;

	*der = NULL;
	*dlen = 0;
	tk_buf_init(&b, TSA_MAX_RESPONSE);
	if (!req || !mi || !alg || RAND_bytes(rnd, sizeof(rnd)) != 1 || !(bn = BN_bin2bn(rnd, sizeof(rnd), NULL)) ||
	    !(nonce = BN_to_ASN1_INTEGER(bn, NULL)) ||
	    X509_ALGOR_set0(alg, OBJ_nid2obj(NID_sha256), V_ASN1_NULL, NULL) != 1 ||
	    TS_MSG_IMPRINT_set_algo(mi, alg) != 1 || TS_MSG_IMPRINT_set_msg(mi, (unsigned char *)digest, 32) != 1 ||
	    TS_REQ_set_version(req, 1) != 1 || TS_REQ_set_msg_imprint(req, mi) != 1 ||
	    TS_REQ_set_nonce(req, nonce) != 1 || TS_REQ_set_cert_req(req, 1) != 1 ||
	    (qlen = i2d_TS_REQ(req, &qder)) <= 0) {
		rc = tk_seterr(err, TK_ERR_INTERNAL, "cannot build the timestamp request");
		goto out;
	}
	/* the one request helper (httpreq.h): one retry on a transport failure, 429 or 5xx, never past timeout_s */
	snprintf(what, sizeof(what), "TSA %s", c->url);
	memset(&hr, 0, sizeof(hr));
	hr.method = "POST";
	hr.url = c->url;
	hr.what = what;
	hr.content_type = "application/timestamp-query";
	hr.accept = "application/timestamp-reply";
	hr.body = (const char *)qder;
	hr.body_len = (size_t)qlen;
	hr.timeout_ms = (int)(c->timeout_s * 1000);
	hr.max_retries = TSA_HTTP_RETRIES;
	hr.env_proxy = true; /* as before: the *_proxy environment (never for localhost) */
	if ((rc = tk_http_call_ex(&hr, &info, &b, err))) {
		if (rc == TK_ERR_LIMIT)
			tk_seterr(err, rc, "TSA %s: response larger than 64 KiB", c->url);
		else if (rc == TK_ERR_TIMEOUT)
			tk_seterr(err, rc, "TSA %s: Timeout: no token within timeout_s (%ld s)", c->url, c->timeout_s);
		if (rc != TK_ERR_TIMEOUT && rc != TK_ERR_NOMEM) /* TLS, not HTTP, too large: unreachable, as before */
			rc = err->rc = TK_ERR_NET;
		goto out;
	}
	if (info.status != 200) {
		rc = tk_seterr(err, TK_ERR_PROTOCOL, "TSA %s: HTTP status %ld", c->url, info.status);
		goto out;
	}
	pp = (const unsigned char *)b.data;
	if (!b.data || !(resp = d2i_TS_RESP(NULL, &pp, (long)b.len)) || pp != (const unsigned char *)b.data + b.len) {
		rc = tk_seterr(err, TK_ERR_PARSE, "TSA %s: the response is not a DER TimeStampResp (%zu bytes)", c->url, b.len);
		goto out;
	}
	if (ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(TS_RESP_get_status_info(resp))) > 1) {
		rc = tk_seterr(err, TK_ERR_PROTOCOL, "TSA %s: request rejected (PKIStatus %ld)", c->url,
			       ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(TS_RESP_get_status_info(resp))));
		goto out;
	}
	if ((rc = verify_resp(resp, req, digest, c->ca_file, err))) {
		tk_err_prefix(err, "TSA %s: token rejected", c->url);
		goto out;
	}
	*der = (unsigned char *)b.data;
	*dlen = b.len;
	b.data = NULL;
out:
	tk_buf_free(&b);
	OPENSSL_free(qder);
	TS_RESP_free(resp);
	TS_REQ_free(req);
	TS_MSG_IMPRINT_free(mi);
	X509_ALGOR_free(alg);
	ASN1_INTEGER_free(nonce);
	BN_free(bn);
	return rc;
}

/* Stamp one stored scan: read its file, ask, store <file>.tsr, record. */
static int stamp_one(struct tk_history *h, const struct tsa_conf *c, const char *partner, long long seq,
		     struct tk_err *err)
{
	sqlite3 *db = tk_history_db(h);
	sqlite3_stmt *st = NULL;
	char path[PATH_MAX], tsr[PATH_MAX + 8], now[32], sha[65] = "";
	unsigned char digest[32], *der = NULL;
	size_t dlen = 0;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT file, sha256 FROM scans WHERE partner=? AND seq=?", -1, &st, NULL) != SQLITE_OK)
		return tk_seterr(err, TK_ERR_IO, "index: %s", sqlite3_errmsg(db));
	sqlite3_bind_text(st, 1, partner, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, seq);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return tk_seterr(err, TK_ERR_NOTFOUND, "partner %s: no scan #%lld", partner, seq);
	}
	snprintf(path, sizeof(path), "%s/%s", tk_history_dir(h), (const char *)sqlite3_column_text(st, 0));
	tk_strlcpy(sha, (const char *)sqlite3_column_text(st, 1), sizeof(sha));
	sqlite3_finalize(st);
	st = NULL;
	snprintf(tsr, sizeof(tsr), "%s.tsr", path);
	/* the token covers the hash the index and the signature name */
	if (hex_to_bin(sha, digest))
		return tk_seterr(err, TK_ERR_PARSE, "partner %s scan #%lld: bad SHA-256 in the index", partner, seq);
	rc = request_token(c, digest, &der, &dlen, err);
	if (rc == TK_OK)
		rc = tk_write_file_atomic(tsr, der, dlen, 0600, err);
	free(der);
	tk_rfc3339(time(NULL), now);
	if (sqlite3_prepare_v2(db,
			       "INSERT INTO desk_tsa(partner, seq, state, attempts, last_error, last_attempt)"
			       " VALUES(?1,?2,?3,1,?4,?5) ON CONFLICT(partner, seq) DO UPDATE SET state=?3,"
			       " attempts=attempts+1, last_error=?4, last_attempt=?5",
			       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, partner, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, seq);
		sqlite3_bind_text(st, 3, rc ? "pending" : "ok", -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, rc ? err->msg : "", -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, now, -1, SQLITE_STATIC);
		sqlite3_step(st);
	}
	sqlite3_finalize(st);
	return rc;
}

void tk_tsa_after_commit(struct tk_history *h, const char *partner)
{
	struct tsa_conf c;
	struct tk_err err = {0};
	sqlite3 *db = tk_history_db(h);
	sqlite3_stmt *st = NULL;
	long long newest = 0;
	struct pend {
		char partner[256];
		long long seq;
	} *pend = NULL;
	int n = 0, i, rc;

	rc = conf_load(tk_history_dir(h), &c, &err);
	if (rc == TK_ERR_NOTFOUND)
		return;
	if (rc) {
		tk_log(TK_LOG_WARN, "timestamp: %s: the stored report has no timestamp token", err.msg);
		/* still record what is owed, so verify names it */
		c.url[0] = '\0';
	}
	if (ensure_table(db, &err)) {
		tk_log(TK_LOG_WARN, "timestamp: %s", err.msg);
		return;
	}
	if (sqlite3_prepare_v2(db, "SELECT max(seq) FROM scans WHERE partner=?", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, partner, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			newest = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	st = NULL;
	if (newest <= 0)
		return;
	/* owed from now on: recorded before the attempt, so a kill leaves it pending */
	if (sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO desk_tsa(partner, seq, state, last_error) VALUES(?,?,'pending',?)",
			       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, partner, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, newest);
		sqlite3_bind_text(st, 3, rc ? err.msg : "not yet requested", -1, SQLITE_TRANSIENT);
		sqlite3_step(st);
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc)
		return;
	/* the newest first, then older pending ones (a TSA outage earlier) */
	if (!(pend = calloc(TSA_MAX_RETRIES + 1, sizeof(*pend))))
		return;
	tk_strlcpy(pend[0].partner, partner, sizeof(pend[0].partner));
	pend[0].seq = newest;
	n = 1;
	if (sqlite3_prepare_v2(
		db, "SELECT partner, seq FROM desk_tsa WHERE state='pending' ORDER BY last_attempt, partner, seq", -1,
		&st, NULL) == SQLITE_OK)
		while (n < TSA_MAX_RETRIES + 1 && sqlite3_step(st) == SQLITE_ROW) {
			const char *p = (const char *)sqlite3_column_text(st, 0);
			long long s = sqlite3_column_int64(st, 1);
			if (strcmp(p, partner) == 0 && s == newest)
				continue;
			tk_strlcpy(pend[n].partner, p, sizeof(pend[n].partner));
			pend[n++].seq = s;
		}
	sqlite3_finalize(st);
	for (i = 0; i < n; i++) {
		struct tk_err e = {0};
		int r = stamp_one(h, &c, pend[i].partner, pend[i].seq, &e);
		if (r == TK_OK)
			tk_log(TK_LOG_INFO, "timestamp: partner %s scan #%lld: token stored", pend[i].partner, pend[i].seq);
		else {
			tk_log(TK_LOG_WARN, "timestamp: partner %s scan #%lld: no token (%s); recorded, retried on the next run",
			       pend[i].partner, pend[i].seq, e.msg);
			if (r == TK_ERR_NET || r == TK_ERR_TIMEOUT)
				break; /* the TSA is unreachable: the rest waits for the next run */
		}
	}
	free(pend);
}

int tk_tsa_verify_token(const char *tsr_path, const char *sha_hex, const char *ca_file, char gen_time[32],
			struct tk_err *err)
{
	char *text = NULL;
	size_t len;
	const unsigned char *pp;
	TS_RESP *resp = NULL;
	unsigned char digest[32];
	int rc;
	if (gen_time)
		gen_time[0] = '\0';
	if (hex_to_bin(sha_hex, digest))
		return tk_seterr(err, TK_ERR_PARSE, "bad SHA-256");
	if ((rc = tk_read_file(tsr_path, TSA_MAX_RESPONSE, &text, &len, err)))
		return rc;
	pp = (const unsigned char *)text;
	if (!(resp = d2i_TS_RESP(NULL, &pp, (long)len)) || pp != (const unsigned char *)text + len) {
		rc = tk_seterr(err, TK_ERR_PARSE, "%s: not a DER TimeStampResp", tsr_path);
		goto out;
	}
	if ((rc = verify_resp(resp, NULL, digest, ca_file, err)))
		goto out;
	if (gen_time)
		gen_time_of(resp, gen_time);
out:
	TS_RESP_free(resp);
	free(text);
	return rc;
}

int tk_tsa_verify(struct tk_history *h, const char *partner, FILE *out)
{
	struct tsa_conf c;
	struct tk_err err = {0};
	sqlite3 *db = tk_history_db(h);
	sqlite3_stmt *st = NULL;
	int problems = 0, ntok = 0, nrows = 0, crc;
	bool have_table;

	crc = conf_load(tk_history_dir(h), &c, &err);
	if (crc && crc != TK_ERR_NOTFOUND) {
		fprintf(out, "FAIL timestamps: %s\n", err.msg);
		problems++;
	}
	have_table =
	    sqlite3_table_column_metadata(db, NULL, "desk_tsa", "state", NULL, NULL, NULL, NULL, NULL) == SQLITE_OK;
	if (sqlite3_prepare_v2(db,
			       have_table ? "SELECT s.seq, s.file, s.sha256, t.state, t.attempts, t.last_error FROM scans AS s"
					    " LEFT JOIN desk_tsa AS t ON t.partner=s.partner AND t.seq=s.seq"
					    " WHERE s.partner=? ORDER BY s.seq"
					  : "SELECT seq, file, sha256, NULL, 0, NULL FROM scans WHERE partner=? ORDER BY seq",
			       -1, &st, NULL) != SQLITE_OK) {
		fprintf(out, "FAIL timestamps: index: %s\n", sqlite3_errmsg(db));
		return problems + 1;
	}
	sqlite3_bind_text(st, 1, partner, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		long long seq = sqlite3_column_int64(st, 0);
		const char *file = (const char *)sqlite3_column_text(st, 1),
			   *sha = (const char *)sqlite3_column_text(st, 2);
		const char *state = (const char *)sqlite3_column_text(st, 3),
			   *why = (const char *)sqlite3_column_text(st, 5);
		char tsr[PATH_MAX + 8], gt[32];
		struct tk_err e = {0};
		nrows++;
		snprintf(tsr, sizeof(tsr), "%s/%s.tsr", tk_history_dir(h), file ? file : "");
		if (access(tsr, F_OK) == 0) {
			ntok++;
			if (crc)
				fprintf(out, "FAIL scan #%lld: timestamp token present but uncheckable: no usable tsa.json (ca_file)\n",
					seq), problems++;
			else if (tk_tsa_verify_token(tsr, sha ? sha : "", c.ca_file, gt, &e) == TK_OK)
				fprintf(out, "ok   scan #%lld: trusted timestamp %s (RFC 3161, TSA certificate verified)\n", seq, gt);
			else
				fprintf(out, "FAIL scan #%lld: timestamp token invalid: %s\n", seq, e.msg), problems++;
		} else if (state) {
			fprintf(out, "FAIL scan #%lld: timestamp token missing: %s (%d attempt%s; retried on the next scan)\n", seq,
				why && *why ? why : "not obtained", sqlite3_column_int(st, 4),
				sqlite3_column_int(st, 4) == 1 ? "" : "s");
			problems++;
		} else if (crc == TK_OK) {
			fprintf(out, "FAIL scan #%lld: timestamp token missing (no token was requested: stored before the TSA was"
				     " configured, or its record was removed)\n",
				seq);
			problems++;
		}
	}
	sqlite3_finalize(st);
	if (crc == TK_ERR_NOTFOUND && ntok == 0 && nrows > 0)
		fprintf(out, "note no TSA configured (%s/tsa.json): these reports carry no trusted timestamp\n",
			tk_history_dir(h));
	return problems;
}
