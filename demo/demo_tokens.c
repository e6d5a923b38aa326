/*
 * demo_tokens.c - the demo partner's token store: a config directory and an
 * SQLite database holding plaintext tokens (a JWT access token valid for two
 * hours, refresh tokens, a bank-format token, a password) beside tokens kept
 * encrypted (Fernet, JWE, Vault transit layout, AES-GCM, Tink), all built
 * here with fresh random keys. Nothing listens: the stores are files.
 */
#include <openssl/rand.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "demo.h"
#include "tokmake.h"

static char *rand_token(const char *prefix, size_t nbytes)
{
	unsigned char r[64];
	char *b, *o;
	size_t l;
	if (nbytes > sizeof(r) || RAND_bytes(r, (int)nbytes) != 1 || !(b = tk_make_b64(r, nbytes, 1)))
		return NULL;
	l = strlen(prefix) + strlen(b) + 1;
	if ((o = malloc(l)))
		snprintf(o, l, "%s%s", prefix, b);
	free(b);
	return o;
}

static int write_text(const char *dir, const char *name, const char *text, struct tk_err *err)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return tk_write_file_atomic(path, text, strlen(text), 0600, err);
}

static int make_db(const char *path, const unsigned char key[32], struct tk_err *err)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char *plain_rt = NULL, *fern = NULL, *plain_rt2 = NULL;
	unsigned char *gcm = NULL, *tink = NULL;
	size_t gl = 0, tl = 0;
	int rc = TK_ERR_INTERNAL;
	remove(path);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_exec(db,
			 "CREATE TABLE oauth_tokens(id INTEGER PRIMARY KEY, user_id INTEGER, refresh_token TEXT,"
			 " access_token_enc BLOB, expires_in INTEGER);"
			 "CREATE TABLE users(id INTEGER PRIMARY KEY, login TEXT, password_hash TEXT);"
			 "CREATE TABLE legacy_users(id INTEGER PRIMARY KEY, login TEXT, password TEXT);"
			 "INSERT INTO users(login, password_hash) VALUES('alice', "
			 "'$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW');",
			 NULL, NULL, NULL) != SQLITE_OK)
		goto out;
	if (!(plain_rt = rand_token("", 32)) || !(plain_rt2 = rand_token("", 32)) ||
	    tk_make_fernet(key, "rt-demo-refresh-0001", 20, (unsigned long long)time(NULL), &fern) ||
	    tk_make_aesgcm(key, "at-demo-access-0001", 19, &gcm, &gl) ||
	    tk_make_tink(key, 0x2a2a2a2a, "at-demo-access-0002", 19, &tink, &tl))
		goto out;
	if (sqlite3_prepare_v2(db, "INSERT INTO oauth_tokens(user_id, refresh_token, access_token_enc, expires_in)"
				   " VALUES(?, ?, ?, ?)", -1, &st, NULL) != SQLITE_OK)
		goto out;
	/* row 1: refresh token in plaintext beside an AES-GCM-encrypted access token */
	sqlite3_bind_int(st, 1, 1);
	sqlite3_bind_text(st, 2, plain_rt, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, gcm, (int)gl, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, 3600);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto out;
	sqlite3_reset(st);
	/* row 2: both encrypted (Fernet, Tink) */
	sqlite3_bind_int(st, 1, 2);
	sqlite3_bind_text(st, 2, fern, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, tink, (int)tl, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, 3600);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto out;
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(db, "INSERT INTO legacy_users(login, password) VALUES('bob', ?)", -1, &st, NULL) !=
	    SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, plain_rt2 + 20, -1, SQLITE_STATIC); /* a random password, stored as is */
	if (sqlite3_step(st) != SQLITE_DONE)
		goto out;
	rc = TK_OK;
out:
	if (rc)
		tk_seterr(err, rc, "%s: cannot build the demo database: %s", path, db ? sqlite3_errmsg(db) : "?");
	sqlite3_finalize(st);
	sqlite3_close(db);
	free(plain_rt);
	free(plain_rt2);
	free(fern);
	free(gcm);
	free(tink);
	return rc;
}

static int tokens_demo_start(struct tk_demo_env *env, cJSON *probes, void **state, struct tk_err *err)
{
	unsigned char key[32], hk[32];
	char dir[4096], conf[4096], hdr[64], payload[512], text[8192];
	char *jwt = NULL, *jwe = NULL, *vault = NULL, *fern = NULL, *rt = NULL, *bank = NULL, *gcm64 = NULL;
	unsigned char *gcm = NULL;
	size_t gl;
	long long now = (long long)time(NULL);
	cJSON *sec, *stores, *s, *arr, *bp;
	int rc;
	*state = NULL;
	snprintf(dir, sizeof(dir), "%s/tokens", env->dir);
	snprintf(conf, sizeof(conf), "%s/tokens/conf", env->dir);
	if ((rc = tk_mkdirs(conf, 0700, err)))
		return rc;
	if (RAND_bytes(key, 32) != 1 || RAND_bytes(hk, 32) != 1)
		return tk_seterr(err, TK_ERR_INTERNAL, "no randomness");
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}");
	snprintf(payload, sizeof(payload),
		 "{\"iss\":\"https://auth.demo-pay.example\",\"sub\":\"user-1\",\"scope\":\"accounts:read\","
		 "\"iat\":%lld,\"exp\":%lld}", now, now + 7200);
	rc = TK_ERR_INTERNAL;
	if (tk_make_jwt(hdr, payload, hk, sizeof(hk), NULL, &jwt) || tk_make_jwe(key, "demo-access", 11, &jwe) ||
	    tk_make_vault(key, "demo-refresh", 12, &vault) ||
	    tk_make_fernet(key, "demo-refresh-2", 14, (unsigned long long)now, &fern) || !(rt = rand_token("", 32)) ||
	    !(bank = rand_token("bk_at_", 24)) || tk_make_aesgcm(key, "demo-code", 9, &gcm, &gl) ||
	    !(gcm64 = tk_make_b64(gcm, gl, 0))) {
		tk_seterr(err, TK_ERR_INTERNAL, "cannot build the demo tokens");
		goto out;
	}
	/* plaintext: the JWT access token (2 h) and a refresh token, as an OAuth client caches them */
	snprintf(text, sizeof(text),
		 "{\n  \"token_type\": \"Bearer\",\n  \"access_token\": \"%s\",\n  \"expires_in\": 7200,\n"
		 "  \"refresh_token\": \"%s\"\n}\n", jwt, rt);
	if ((rc = write_text(conf, "oauth-cache.json", text, err)))
		goto out;
	/* encrypted: the same shape, sealed */
	snprintf(text, sizeof(text),
		 "{\n  \"token_type\": \"Bearer\",\n  \"access_token\": \"%s\",\n  \"expires_in\": 7200,\n"
		 "  \"refresh_token\": \"%s\",\n  \"backup_refresh_token\": \"%s\"\n}\n", jwe, vault, fern);
	if ((rc = write_text(conf, "oauth-sealed.json", text, err)))
		goto out;
	snprintf(text, sizeof(text), "BANK_API_TOKEN=%s\nAUTH_CODE_ENC=enc:%s\nLOG_LEVEL=info\n", bank, gcm64);
	if ((rc = write_text(conf, "app.env", text, err)))
		goto out;
	snprintf(dir, sizeof(dir), "%s/tokens/app.db", env->dir);
	if ((rc = make_db(dir, key, err)))
		goto out;
	sec = cJSON_AddObjectToObject(probes, "tokens");
	stores = cJSON_AddArrayToObject(sec, "stores");
	s = cJSON_CreateObject();
	cJSON_AddStringToObject(s, "type", "files");
	cJSON_AddStringToObject(s, "path", "tokens/conf/");
	arr = cJSON_AddArrayToObject(s, "include");
	cJSON_AddItemToArray(arr, cJSON_CreateString("*.json"));
	cJSON_AddItemToArray(arr, cJSON_CreateString("*.env"));
	arr = cJSON_AddArrayToObject(s, "exclude");
	cJSON_AddItemToArray(arr, cJSON_CreateString("*.bak"));
	cJSON_AddItemToArray(stores, s);
	s = cJSON_CreateObject();
	cJSON_AddStringToObject(s, "type", "sqlite");
	cJSON_AddStringToObject(s, "path", "tokens/app.db");
	cJSON_AddItemToArray(stores, s);
	arr = cJSON_AddArrayToObject(sec, "bank_token_patterns");
	bp = cJSON_CreateObject();
	cJSON_AddStringToObject(bp, "name", "bank access token");
	cJSON_AddStringToObject(bp, "prefix", "bk_at_");
	cJSON_AddItemToArray(arr, bp);
	rc = TK_OK;
out:
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(hk, sizeof(hk));
	free(jwt);
	free(jwe);
	free(vault);
	free(fern);
	free(rt);
	free(bank);
	free(gcm);
	free(gcm64);
	return rc;
}

static void tokens_demo_stop(void *state)
{
	(void)state; /* the store is files in the demo directory: nothing runs */
}

const struct tk_demo_part tk_demo_tokens = {
	.name = "tokens",
	.start = tokens_demo_start,
	.stop = tokens_demo_stop,
};
