/*
 * test_tokens_stores.c - the tokens probe on stores built here: a file tree
 * (JSON, YAML, .env, an excluded .bak, a binary), SQLite databases (sampled
 * rows, BLOB envelopes, a WITHOUT ROWID table) and truncated or corrupt
 * databases. Every planted secret is checked absent from the output.
 */
#include "testutil.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "privs.h"
#include "probe.h"
#include "run.h"
#include "tokmake.h"

extern const struct tk_probe tk_probe_tokens;

#define MAX_SECRETS 64
static char *secrets[MAX_SECRETS];
static size_t nsecrets;
static unsigned char key[32];

static const char *plant(char *s)
{
	assert_non_null(s);
	assert_true(nsecrets < MAX_SECRETS);
	secrets[nsecrets++] = s;
	return s;
}

static const char *rand_tok(const char *prefix)
{
	unsigned char r[24];
	char *b, *o;
	RAND_bytes(r, sizeof(r));
	b = tk_make_b64(r, sizeof(r), 1);
	o = malloc(strlen(prefix) + strlen(b) + 1);
	snprintf(o, strlen(prefix) + strlen(b) + 1, "%s%s", prefix, b);
	free(b);
	return plant(o);
}

static const char *b64_plant(unsigned char *b, size_t n)
{
	char *t = tk_make_b64(b, n, 0);
	free(b);
	return plant(t);
}

/* No secret, nor any 8-byte piece of one, may appear in the text. */
static void assert_no_leak(const char *text)
{
	size_t i, k;
	for (i = 0; i < nsecrets; i++) {
		size_t l = strlen(secrets[i]);
		for (k = 0; k + 8 <= l; k++) {
			char piece[9];
			memcpy(piece, secrets[i] + k, 8);
			piece[8] = '\0';
			if (strstr(text, piece))
				fail_msg("secret %zu leaked (piece at offset %zu)", i, k);
		}
	}
}

static cJSON *scan(const char *dir, const char *cfg_text, struct tk_err *err, int *rc_out)
{
	cJSON *root = tk_test_json(cfg_text), *obs = NULL;
	struct tk_cfgctx cc = {"partner.json", dir, "probes.tokens", root};
	void *state = NULL;
	int rc = tk_probe_tokens.configure(root, &cc, &state, err);
	if (rc == TK_OK) {
		rc = tk_run_probe_inline(&tk_probe_tokens, state, 20000, &obs, err);
		tk_probe_tokens.free_state(state);
	}
	cJSON_Delete(root);
	*rc_out = rc;
	return obs;
}

static const cJSON *find_obs(const cJSON *obs, const char *target, const char *kind)
{
	const cJSON *o;
	cJSON_ArrayForEach(o, obs)
	{
		const cJSON *t = cJSON_GetObjectItem(o, "target"), *k = cJSON_GetObjectItem(o, "kind");
		if (strcmp(t->valuestring, target) == 0 && strcmp(k->valuestring, kind) == 0)
			return o;
	}
	fail_msg("no %s observation for %s", kind, target);
	return NULL;
}

static int num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItem(o, k);
	assert_non_null(v);
	return v->valueint;
}

static const cJSON *hit_at(const cJSON *o, const char *list, const char *where)
{
	const cJSON *h;
	cJSON_ArrayForEach(h, cJSON_GetObjectItem(o, list))
		if (strcmp(cJSON_GetObjectItem(h, "where")->valuestring, where) == 0)
			return h;
	fail_msg("no %s entry at %s", list, where);
	return NULL;
}

static void test_files(void **state)
{
	char *dir = tk_test_tmpdir(), path[4096], text[16384], hdr[256], pl[512];
	EVP_PKEY *rsa = EVP_RSA_gen(2048);
	char *jwt_rs = NULL, *jwt_short = NULL, *jwt_noexp = NULL, *fern = NULL, *jwe = NULL, *vault = NULL;
	unsigned char *gcm;
	size_t gl;
	const char *opaque, *bank, *pw, *gcm64;
	long long now = (long long)time(NULL);
	struct tk_err err = {0};
	const cJSON *o, *h;
	cJSON *obs;
	char *dump;
	int rc;
	FILE *f;
	(void)state;
	nsecrets = 0;
	snprintf(path, sizeof(path), "%s/conf/sub", dir);
	assert_int_equal(tk_mkdirs(path, 0700, &err), TK_OK);
	snprintf(pl, sizeof(pl), "{\"iss\":\"https://as.test\",\"iat\":%lld,\"exp\":%lld,\"scope\":\"read\"}", now,
		 now + 7200);
	assert_int_equal(tk_make_jwt("{\"alg\":\"RS256\",\"typ\":\"at+jwt\"}", pl, NULL, 0, rsa, &jwt_rs), TK_OK);
	snprintf(pl, sizeof(pl), "{\"iat\":%lld,\"exp\":%lld,\"nonce\":\"n\"}", now, now + 300);
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"HS256\"}");
	assert_int_equal(tk_make_jwt(hdr, pl, key, 32, NULL, &jwt_short), TK_OK);
	assert_int_equal(tk_make_jwt(hdr, "{\"sub\":\"svc\",\"token_use\":\"refresh\"}", key, 32, NULL, &jwt_noexp),
			 TK_OK);
	plant(jwt_rs);
	plant(jwt_short);
	plant(jwt_noexp);
	assert_int_equal(tk_make_fernet(key, "t1", 2, (unsigned long long)now, &fern), TK_OK);
	assert_int_equal(tk_make_jwe(key, "t2", 2, &jwe), TK_OK);
	assert_int_equal(tk_make_vault(key, "t3", 2, &vault), TK_OK);
	plant(fern);
	plant(jwe);
	plant(vault);
	assert_int_equal(tk_make_aesgcm(key, "t4-long-enough-token", 20, &gcm, &gl), TK_OK);
	gcm64 = b64_plant(gcm, gl);
	opaque = rand_tok("");
	bank = rand_tok("bk_at_");
	pw = plant(strdup("Tr0ub4dor&3-horse"));

	snprintf(text, sizeof(text),
		 "{\n \"access_token\": \"%s\",\n \"id_token\": \"%s\",\n \"svc\": {\"refresh_token\": \"%s\"},\n"
		 " \"cache\": [{\"refresh_token\": \"%s\", \"expires_in\": 86400}],\n"
		 " \"encrypted_token\": \"%s\",\n \"backup_token\": \"%s\",\n \"token_type\": \"Bearer\",\n"
		 " \"blob\": \"{\\\"refresh_token\\\": \\\"%s\\\"}\"\n}\n",
		 jwt_rs, jwt_short, jwt_noexp, opaque, fern, jwe, rand_tok("E"));
	free(tk_test_write(dir, "conf/a.json", text));
	snprintf(text, sizeof(text), "oauth:\n  sealed_token: %s\n  db_password: \"%s\"\n  user_password: "
		 "\"$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW\"\n", vault, pw);
	free(tk_test_write(dir, "conf/sub/b.yaml", text));
	snprintf(text, sizeof(text), "# bank\nBANK_TOKEN=%s\nENC_CODE=ENC(%s)\n", bank, gcm64);
	free(tk_test_write(dir, "conf/c.env", text));
	snprintf(text, sizeof(text), "access_token=%s\n", opaque);
	free(tk_test_write(dir, "conf/old.env.bak", text)); /* excluded */
	free(tk_test_write(dir, "conf/notes.txt", text));   /* not included */
	snprintf(path, sizeof(path), "%s/conf/blob.env", dir);
	f = fopen(path, "wb");
	fwrite("\0\0\0\0", 1, 4, f);
	fprintf(f, "access_token=%s\n", opaque);
	fclose(f);

	obs = scan(dir,
		   "{\"stores\": [{\"type\": \"files\", \"path\": \"conf/\", \"include\": [\"*.json\", \"*.env\", "
		   "\"*.yaml\"], \"exclude\": [\"*.bak\"]}], \"bank_token_patterns\": [{\"name\": \"bank access "
		   "token\", \"prefix\": \"bk_at_\"}]}",
		   &err, &rc);
	assert_int_equal(rc, TK_OK);
	o = find_obs(obs, "files:conf/", "token_store");
	assert_int_equal(num(o, "files_listed"), 4);
	assert_int_equal(num(o, "files_scanned"), 3);
	assert_int_equal(num(o, "files_skipped_binary"), 1);
	assert_int_equal(num(o, "plaintext_count"), 6);
	assert_int_equal(num(o, "encrypted_count"), 4);
	assert_int_equal(num(o, "plaintext_password_count"), 1);
	/* a JSON document inside a string member: found, with the member's line */
	h = hit_at(o, "plaintext_tokens", "a.json:9");
	assert_string_equal(cJSON_GetObjectItem(h, "kind")->valuestring, "refresh token");
	assert_int_equal(num(o, "hashed_password_count"), 1);
	h = hit_at(o, "plaintext_tokens", "a.json:2");
	assert_string_equal(cJSON_GetObjectItem(h, "kind")->valuestring, "JWT access token");
	assert_int_equal(num(h, "lifetime_s"), 7200);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(h, "jwt"), "alg")->valuestring, "RS256");
	h = hit_at(o, "plaintext_tokens", "a.json:3");
	assert_string_equal(cJSON_GetObjectItem(h, "kind")->valuestring, "JWT ID token");
	assert_int_equal(num(h, "lifetime_s"), 300);
	h = hit_at(o, "plaintext_tokens", "a.json:4");
	assert_string_equal(cJSON_GetObjectItem(h, "kind")->valuestring, "JWT refresh token");
	assert_null(cJSON_GetObjectItem(h, "lifetime_s"));
	assert_string_equal(cJSON_GetObjectItem(h, "lifetime_basis")->valuestring, "no-exp");
	h = hit_at(o, "plaintext_tokens", "a.json:5");
	assert_int_equal(num(h, "lifetime_s"), 86400);
	h = hit_at(o, "plaintext_tokens", "c.env:2");
	assert_string_equal(cJSON_GetObjectItem(h, "kind")->valuestring, "bank access token");
	h = hit_at(o, "encrypted_values", "a.json:6");
	assert_string_equal(cJSON_GetObjectItem(h, "envelope")->valuestring, "fernet");
	h = hit_at(o, "encrypted_values", "a.json:7");
	assert_string_equal(cJSON_GetObjectItem(h, "envelope")->valuestring, "jwe");
	h = hit_at(o, "encrypted_values", "sub/b.yaml:2");
	assert_string_equal(cJSON_GetObjectItem(h, "envelope")->valuestring, "vault-transit");
	h = hit_at(o, "encrypted_values", "c.env:3");
	assert_string_equal(cJSON_GetObjectItem(h, "envelope")->valuestring, "raw-aead");
	hit_at(o, "plaintext_passwords", "sub/b.yaml:3");
	dump = cJSON_PrintUnformatted(obs);
	assert_no_leak(dump);
	free(dump);
	cJSON_Delete(obs);
	/* a byte budget smaller than the tree: reported incomplete, never over budget */
	obs = scan(dir, "{\"stores\": [{\"type\": \"files\", \"path\": \"conf/\"}], \"max_total_bytes\": 1024, "
			"\"threads\": 2}", &err, &rc);
	assert_int_equal(rc, TK_OK);
	o = find_obs(obs, "files:conf/", "token_store");
	assert_false(cJSON_IsTrue(cJSON_GetObjectItem(o, "complete")));
	assert_true(num(o, "files_scanned") < 6);
	cJSON_Delete(obs);
	/* a file over max_file_bytes is read up to the bound and counted */
	obs = scan(dir, "{\"stores\": [{\"type\": \"files\", \"path\": \"conf/a.json\"}], \"max_file_bytes\": 1024}",
		   &err, &rc);
	assert_int_equal(rc, TK_OK);
	o = find_obs(obs, "files:conf/a.json", "token_store");
	assert_int_equal(num(o, "files_truncated"), 1);
	assert_int_equal(num(o, "bytes_scanned"), 1024);
	cJSON_Delete(obs);
	EVP_PKEY_free(rsa);
	tk_test_rmtree(dir);
	free(dir);
	while (nsecrets)
		free(secrets[--nsecrets]);
}

static void exec_sql(sqlite3 *db, const char *sql)
{
	char *e = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &e) != SQLITE_OK)
		fail_msg("sql: %s", e);
}

static void bind_blob_and_step(sqlite3 *db, const char *sql, const unsigned char *b, size_t n)
{
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_blob(st, 1, b, (int)n, SQLITE_TRANSIENT);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

static void bind_text_and_step(sqlite3 *db, const char *sql, const char *t)
{
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, t, -1, SQLITE_TRANSIENT);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

static char *make_db(const char *dir)
{
	char *path = malloc(strlen(dir) + 16);
	sqlite3 *db;
	unsigned char *b;
	size_t bl;
	int i;
	char hdr[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}", pl[256], *jwt = NULL, sql[512];
	long long now = (long long)time(NULL);
	snprintf(path, strlen(dir) + 16, "%s/app.db", dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	exec_sql(db, "CREATE TABLE sessions(id INTEGER PRIMARY KEY, refresh_token TEXT, expires_in INTEGER);"
		     "CREATE TABLE vault(id INTEGER PRIMARY KEY, access_token_enc BLOB, kms BLOB, esdk BLOB,"
		     " tink BLOB, note TEXT);"
		     "CREATE TABLE users(login TEXT PRIMARY KEY, password TEXT, password_hash TEXT) WITHOUT ROWID;"
		     "CREATE TABLE \"odd \"\"name\"(payload TEXT);"
		     "CREATE TABLE sparse(id INTEGER PRIMARY KEY, note TEXT, access_token TEXT);");
	/* eight rows without a token, then one: per-column sampling still reaches it */
	for (i = 0; i < 8; i++)
		exec_sql(db, "INSERT INTO sparse(note) VALUES('nothing to see in this row')");
	bind_text_and_step(db, "INSERT INTO sparse(access_token) VALUES(?)", rand_tok(""));
	/* ten plaintext refresh tokens: max_rows 5 samples five */
	for (i = 0; i < 10; i++)
		bind_text_and_step(db, "INSERT INTO sessions(refresh_token, expires_in) VALUES(?, 2592000)",
				   rand_tok(""));
	assert_int_equal(tk_make_aesgcm(key, "at-1-plaintext-token", 20, &b, &bl), TK_OK);
	b[0] = 0x07;
	bind_blob_and_step(db, "INSERT INTO vault(access_token_enc) VALUES(?)", b, bl);
	free(b);
	assert_int_equal(tk_make_kms_blob(key, "at-2", 4, &b, &bl), TK_OK);
	bind_blob_and_step(db, "INSERT INTO vault(kms) VALUES(?)", b, bl);
	free(b);
	assert_int_equal(tk_make_esdk(key, "at-3", 4, &b, &bl), TK_OK);
	bind_blob_and_step(db, "INSERT INTO vault(esdk) VALUES(?)", b, bl);
	free(b);
	assert_int_equal(tk_make_tink(key, 7, "at-4", 4, &b, &bl), TK_OK);
	bind_blob_and_step(db, "INSERT INTO vault(tink) VALUES(?)", b, bl);
	free(b);
	/* plain English in a text column: nothing to report */
	bind_text_and_step(db, "INSERT INTO vault(note) VALUES(?)", "rotated the signing key on Monday, see ticket");
	bind_text_and_step(db, "INSERT INTO users VALUES('alice', ?, NULL)", plant(strdup("s3cret-Passw0rd!")));
	bind_text_and_step(db, "INSERT INTO users VALUES('bob', NULL, ?)",
			   "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA");
	snprintf(pl, sizeof(pl), "{\"iat\":%lld,\"exp\":%lld}", now, now + 1800);
	assert_int_equal(tk_make_jwt(hdr, pl, key, 32, NULL, &jwt), TK_OK);
	plant(jwt);
	snprintf(sql, sizeof(sql), "{\"access_token\": \"%s\"}", jwt);
	bind_text_and_step(db, "INSERT INTO \"odd \"\"name\"(payload) VALUES(?)", sql);
	sqlite3_close(db);
	return path;
}

static void test_sqlite(void **state)
{
	char *dir = tk_test_tmpdir(), *db, cfg[1024];
	struct tk_err err = {0};
	const cJSON *o, *h;
	cJSON *obs;
	char *dump;
	int rc;
	(void)state;
	nsecrets = 0;
	db = make_db(dir);
	snprintf(cfg, sizeof(cfg), "{\"stores\": [{\"type\": \"sqlite\", \"path\": \"app.db\", \"max_rows\": 5}]}");
	obs = scan(dir, cfg, &err, &rc);
	assert_int_equal(rc, TK_OK);
	o = find_obs(obs, "sqlite:app.db", "token_store");
	assert_int_equal(num(o, "tables"), 5);
	/* 5 sampled refresh tokens + the JWT in JSON + the sparse column's token */
	assert_int_equal(num(o, "plaintext_count"), 7);
	hit_at(o, "plaintext_tokens", "sparse.access_token rowid=9");
	assert_int_equal(num(o, "encrypted_count"), 4);
	assert_int_equal(num(o, "unknown_count"), 0);
	assert_int_equal(num(o, "plaintext_password_count"), 1);
	assert_int_equal(num(o, "hashed_password_count"), 1);
	h = hit_at(o, "plaintext_tokens", "sessions.refresh_token rowid=3");
	assert_int_equal(num(h, "lifetime_s"), 2592000);
	h = hit_at(o, "plaintext_tokens", "odd \"name.payload rowid=1");
	assert_int_equal(num(h, "lifetime_s"), 1800);
	assert_string_equal(cJSON_GetObjectItem(hit_at(o, "encrypted_values", "vault.access_token_enc rowid=1"),
						"envelope")->valuestring, "raw-aead");
	assert_string_equal(
	    cJSON_GetObjectItem(hit_at(o, "encrypted_values", "vault.kms rowid=2"), "envelope")->valuestring,
	    "aws-kms");
	assert_string_equal(
	    cJSON_GetObjectItem(hit_at(o, "encrypted_values", "vault.esdk rowid=3"), "envelope")->valuestring,
	    "aws-encryption-sdk");
	assert_string_equal(
	    cJSON_GetObjectItem(hit_at(o, "encrypted_values", "vault.tink rowid=4"), "envelope")->valuestring, "tink");
	hit_at(o, "plaintext_passwords", "users.password");
	dump = cJSON_PrintUnformatted(obs);
	assert_no_leak(dump);
	free(dump);
	cJSON_Delete(obs);
	free(db);
	tk_test_rmtree(dir);
	free(dir);
	while (nsecrets)
		free(secrets[--nsecrets]);
}

static void test_sqlite_broken(void **state)
{
	char *dir = tk_test_tmpdir(), *db, path[4096], *data = NULL;
	size_t len = 0;
	struct tk_err err = {0};
	const cJSON *o;
	cJSON *obs;
	FILE *f;
	int rc;
	(void)state;
	nsecrets = 0;
	db = make_db(dir);
	assert_int_equal(tk_read_file(db, 1 << 24, &data, &len, &err), TK_OK);
	/* truncated to half a page */
	snprintf(path, sizeof(path), "%s/trunc.db", dir);
	f = fopen(path, "wb");
	fwrite(data, 1, 2048, f);
	fclose(f);
	/* header intact, every page after the first overwritten */
	snprintf(path, sizeof(path), "%s/corrupt.db", dir);
	f = fopen(path, "wb");
	fwrite(data, 1, 100, f);
	{
		size_t i;
		for (i = 100; i < len; i++)
			fputc((int)((i * 131) & 0xff), f);
	}
	fclose(f);
	free(tk_test_write(dir, "text.db", "this is not a database at all, just some words\n"));
	free(tk_test_write(dir, "empty.db", ""));
	obs = scan(dir,
		   "{\"stores\": [{\"type\": \"sqlite\", \"path\": \"trunc.db\"}, {\"type\": \"sqlite\", \"path\": "
		   "\"corrupt.db\"}, {\"type\": \"sqlite\", \"path\": \"text.db\"}, {\"type\": \"sqlite\", \"path\": "
		   "\"empty.db\"}, {\"type\": \"sqlite\", \"path\": \"missing.db\"}, {\"type\": \"files\", \"path\": "
		   "\"nowhere/\"}]}",
		   &err, &rc);
	assert_int_equal(rc, TK_OK);
	o = find_obs(obs, "sqlite:trunc.db", "error");
	o = find_obs(obs, "sqlite:corrupt.db", "error");
	assert_non_null(strstr(cJSON_GetObjectItem(o, "message")->valuestring, "corrupt.db"));
	o = find_obs(obs, "sqlite:text.db", "error");
	assert_non_null(strstr(cJSON_GetObjectItem(o, "message")->valuestring, "not an SQLite 3 database"));
	find_obs(obs, "sqlite:empty.db", "error");
	o = find_obs(obs, "sqlite:missing.db", "error");
	assert_string_equal(cJSON_GetObjectItem(o, "error")->valuestring, "notfound");
	find_obs(obs, "files:nowhere/", "error");
	cJSON_Delete(obs);
	free(data);
	free(db);
	tk_test_rmtree(dir);
	free(dir);
	while (nsecrets)
		free(secrets[--nsecrets]);
}

static void test_config_errors(void **state)
{
	struct tk_err err = {0};
	cJSON *obs;
	int rc;
	(void)state;
	obs = scan("/tmp", "{\"stores\": [{\"type\": \"files\", \"path\": \"x\"}, {\"type\": \"ftp\"}]}", &err, &rc);
	assert_int_equal(rc, TK_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "partner.json: probes.tokens.stores[1].type: unknown store type"));
	cJSON_Delete(obs);
	obs = scan("/tmp", "{\"stores\": [{\"type\": \"redis\", \"address\": \"127.0.0.1:70000\"}]}", &err, &rc);
	assert_int_equal(rc, TK_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "probes.tokens.stores[0].address"));
	obs = scan("/tmp", "{\"stores\": [], \"bank_token_patterns\": [{\"name\": \"x\"}]}", &err, &rc);
	assert_int_equal(rc, TK_ERR_CONFIG);
	obs = scan("/tmp", "{\"stores\": [{\"type\": \"files\", \"path\": \"x\"}], \"bank_token_patterns\": "
			   "[{\"name\": \"x\", \"pattern\": \"([a-z\"}]}", &err, &rc);
	assert_int_equal(rc, TK_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "bank_token_patterns[0]"));
}

/* Runs last: as root it drops every capability (as tenken does before probes run). */
static void test_unreadable(void **state)
{
	char *dir = tk_test_tmpdir(), *p;
	struct tk_err err = {0};
	const cJSON *o;
	cJSON *obs;
	int rc;
	(void)state;
	free(tk_test_write(dir, "a.env", "ACCESS_TOKEN=Zq8Xk2pLm4Nn7Rr1Tt5Vv9\n"));
	p = tk_test_write(dir, "b.env", "REFRESH_TOKEN=Qw3Er5Ty7Ui9Op1As3Df5\n");
	assert_int_equal(chmod(p, 0), 0);
	if (geteuid() == 0)
		assert_int_equal(tk_drop_privileges(&err), TK_OK);
	obs = scan(dir, "{\"stores\": [{\"type\": \"files\", \"path\": \".\"}]}", &err, &rc);
	assert_int_equal(rc, TK_OK);
	o = find_obs(obs, "files:.", "token_store");
	assert_int_equal(num(o, "files_unreadable"), 1);
	assert_int_equal(num(o, "plaintext_count"), 1);
	assert_false(cJSON_IsTrue(cJSON_GetObjectItem(o, "complete")));
	cJSON_Delete(obs);
	chmod(p, 0600);
	free(p);
	tk_test_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_sqlite),
		cmocka_unit_test(test_sqlite_broken),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_unreadable), /* last: drops capabilities */
	};
	RAND_bytes(key, sizeof(key));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
