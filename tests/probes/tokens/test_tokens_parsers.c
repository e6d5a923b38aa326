/*
 * test_tokens_parsers.c - JWT decoding (tokens signed here with OpenSSL),
 * envelope recognition (values encrypted here), look-alikes that must not
 * pass as encrypted, key-name classification, and the RESP2 parser.
 */
#include "testutil.h"

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "jwt.h"
#include "resp.h"
#include "tokmake.h"
#include "tokscan.h"

static unsigned char key[32];

__attribute__((noinline)) static char *jwt_with(const char *hdr, const char *payload, EVP_PKEY *pk)
{
	char *t = NULL;
	assert_int_equal(tk_make_jwt(hdr, payload, key, sizeof(key), pk, &t), TK_OK);
	return t;
}

static void test_jwt_hs256_lifetime(void **state)
{
	struct tk_jwt j;
	char why[64];
	char *t = jwt_with("{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}",
			   "{\"iss\":\"https://as.test\",\"iat\":1700000000,\"exp\":1700007200,\"scope\":\"a b\"}", NULL);
	(void)state;
	assert_int_equal(tk_jwt_decode(t, strlen(t), &j, why, sizeof(why)), 0);
	assert_string_equal(j.alg, "HS256");
	assert_string_equal(j.typ, "at+jwt");
	assert_string_equal(j.iss, "https://as.test");
	assert_true(j.has_scope);
	assert_int_equal(tk_jwt_lifetime(&j), 7200);
	free(t);
}

static void test_jwt_rs256_es256(void **state)
{
	EVP_PKEY *rsa = EVP_RSA_gen(2048), *ec = EVP_EC_gen("P-256");
	struct tk_jwt j;
	char *t;
	size_t sl;
	(void)state;
	assert_non_null(rsa);
	assert_non_null(ec);
	t = jwt_with("{\"alg\":\"RS256\"}", "{\"iat\":100,\"nbf\":100,\"exp\":400,\"nonce\":\"n\"}", rsa);
	assert_int_equal(tk_jwt_decode(t, strlen(t), &j, NULL, 0), 0);
	assert_string_equal(j.alg, "RS256");
	assert_true(j.has_nonce);
	assert_int_equal(tk_jwt_lifetime(&j), 300);
	/* the RSA signature is 256 bytes: check it really is one */
	sl = strlen(t) - (size_t)(strrchr(t, '.') - t) - 1;
	assert_int_equal(sl, 342);
	free(t);
	t = jwt_with("{\"alg\":\"ES256\"}", "{\"sub\":\"x\"}", ec);
	assert_int_equal(tk_jwt_decode(t, strlen(t), &j, NULL, 0), 0);
	assert_false(j.has_exp);
	assert_int_equal(tk_jwt_lifetime(&j), -1);
	sl = strlen(t) - (size_t)(strrchr(t, '.') - t) - 1;
	assert_int_equal(sl, 86); /* r||s, 64 bytes */
	free(t);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ec);
}

static void test_jwt_rejects(void **state)
{
	struct tk_jwt j;
	char why[80];
	char *t = jwt_with("{\"alg\":\"HS256\"}", "{\"exp\":5}", NULL);
	char buf[2048];
	(void)state;
	/* four parts */
	snprintf(buf, sizeof(buf), "%s.AAAA", t);
	assert_int_equal(tk_jwt_decode(buf, strlen(buf), &j, why, sizeof(why)), -1);
	/* payload not JSON */
	assert_int_equal(tk_jwt_decode("eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln", 36, &j, why, sizeof(why)), -1);
	assert_string_equal(why, "payload is not base64url JSON");
	/* header without alg */
	assert_int_equal(tk_jwt_decode("eyJ0eXAiOiJKV1QifQ.e30.c2ln", 26, &j, why, sizeof(why)), -1);
	/* standard-alphabet signature */
	snprintf(buf, sizeof(buf), "%s+/", t);
	assert_int_equal(tk_jwt_decode(buf, strlen(buf), &j, why, sizeof(why)), -1);
	/* truncated inside the header */
	assert_int_equal(tk_jwt_decode(t, 10, &j, why, sizeof(why)), -1);
	free(t);
}

static void test_b64(void **state)
{
	unsigned char out[16];
	size_t ol;
	(void)state;
	assert_true(tk_b64_decode("aGVsbG8", 7, TK_B64_URL, out, sizeof(out), &ol));
	assert_int_equal(ol, 5);
	assert_memory_equal(out, "hello", 5);
	assert_true(tk_b64_decode("aGVsbG8=", 8, TK_B64_STD, out, sizeof(out), &ol));
	assert_false(tk_b64_decode("aGVsbG8==", 9, TK_B64_STD, out, sizeof(out), &ol));
	assert_false(tk_b64_decode("a", 1, TK_B64_ANY, out, sizeof(out), &ol));
	assert_false(tk_b64_decode("a-b+", 4, TK_B64_ANY, out, sizeof(out), &ol)); /* mixed alphabets */
	assert_false(tk_b64_decode("aGVsbG8gd29ybGQgaGVsbG8gd29ybGQ", 31, TK_B64_URL, out, 4, &ol)); /* cap */
}

static void expect_env(const char *text, enum tk_env_kind k, bool heur)
{
	struct tk_envelope e;
	assert_true(tk_envelope_text(text, strlen(text), false, &e));
	assert_int_equal(e.kind, k);
	assert_int_equal(e.heuristic, heur);
}

static void expect_bin(const unsigned char *b, size_t n, enum tk_env_kind k)
{
	struct tk_envelope e;
	char *t;
	assert_true(tk_envelope_binary(b, n, false, &e));
	assert_int_equal(e.kind, k);
	/* and the same bytes as standard base64 text */
	t = tk_make_b64(b, n, 0);
	assert_true(tk_envelope_text(t, strlen(t), false, &e));
	assert_int_equal(e.kind, k);
	free(t);
}

static void test_envelopes_real(void **state)
{
	char *t;
	unsigned char *b;
	size_t bl;
	struct tk_envelope e;
	(void)state;
	assert_int_equal(tk_make_jwe(key, "secret-token-1", 14, &t), TK_OK);
	expect_env(t, TK_ENV_JWE, false);
	assert_true(tk_envelope_text(t, strlen(t), false, &e));
	assert_string_equal(e.detail, "alg=dir enc=A256GCM");
	free(t);
	assert_int_equal(tk_make_fernet(key, "secret-token-2", 14, 1700000000ULL, &t), TK_OK);
	expect_env(t, TK_ENV_FERNET, false);
	free(t);
	assert_int_equal(tk_make_vault(key, "secret-token-3", 14, &t), TK_OK);
	expect_env(t, TK_ENV_VAULT, false);
	free(t);
	assert_int_equal(tk_make_esdk(key, "secret-token-4", 14, &b, &bl), TK_OK);
	expect_bin(b, bl, TK_ENV_ESDK);
	free(b);
	assert_int_equal(tk_make_kms_blob(key, "secret-token-5", 14, &b, &bl), TK_OK);
	expect_bin(b, bl, TK_ENV_KMS);
	free(b);
	assert_int_equal(tk_make_tink(key, 0x01020304, "secret-token-6", 14, &b, &bl), TK_OK);
	expect_bin(b, bl, TK_ENV_TINK);
	free(b);
	/* raw AES-GCM: only under an encryption marker or a marked key */
	assert_int_equal(tk_make_aesgcm(key, "secret-token-7-long-enough", 26, &b, &bl), TK_OK);
	b[0] = 0x02; /* keep the Tink/KMS prefixes out of this case */
	assert_true(tk_envelope_binary(b, bl, true, &e));
	assert_int_equal(e.kind, TK_ENV_RAW_AEAD);
	assert_true(e.heuristic);
	assert_false(tk_envelope_binary(b, bl, false, &e));
	t = tk_make_b64(b, bl, 0);
	{
		char wrapped[512];
		snprintf(wrapped, sizeof(wrapped), "ENC(%s)", t);
		expect_env(wrapped, TK_ENV_RAW_AEAD, true);
		snprintf(wrapped, sizeof(wrapped), "enc:%s", t);
		expect_env(wrapped, TK_ENV_RAW_AEAD, true);
	}
	free(t);
	free(b);
}

static void test_envelope_lookalikes(void **state)
{
	unsigned char r[64], *b;
	size_t bl;
	char *t, buf[1024];
	struct tk_envelope e;
	(void)state;
	/* random opaque token bytes: no structure, no envelope */
	RAND_bytes(r, sizeof(r));
	r[0] = 0x42;
	t = tk_make_b64(r, 32, 1);
	assert_false(tk_envelope_text(t, strlen(t), false, &e));
	free(t);
	/* a JWS (3 parts) is not a JWE */
	assert_int_equal(tk_make_jwt("{\"alg\":\"HS256\"}", "{}", key, 32, NULL, &t), TK_OK);
	assert_false(tk_envelope_text(t, strlen(t), false, &e));
	free(t);
	/* five parts whose header lacks "enc" */
	assert_false(tk_envelope_text("eyJhbGciOiJkaXIifQ..AAAA.AAAA.AAAA", 34, false, &e));
	/* Fernet with the wrong version byte, and with a cut-off HMAC */
	assert_int_equal(tk_make_fernet(key, "x", 1, 1700000000ULL, &t), TK_OK);
	{
		unsigned char raw[256];
		size_t rl;
		assert_true(tk_b64_decode(t, strlen(t), TK_B64_URL, raw, sizeof(raw), &rl));
		raw[0] = 0x81;
		assert_false(tk_envelope_binary(raw, rl, false, &e));
		raw[0] = 0x80;
		assert_true(tk_envelope_binary(raw, rl, false, &e));
		assert_false(tk_envelope_binary(raw, rl - 5, false, &e));
		/* timestamp in 1970 */
		memset(raw + 1, 0, 8);
		assert_false(tk_envelope_binary(raw, rl, false, &e));
	}
	free(t);
	/* Vault prefix with a too-short body */
	assert_false(tk_envelope_text("vault:v1:AAAA", 13, false, &e));
	/* ESDK header with an unknown suite, and truncated before the EDK count */
	assert_int_equal(tk_make_esdk(key, "x", 1, &b, &bl), TK_OK);
	b[2] = 0x77;
	assert_false(tk_envelope_binary(b, bl, false, &e));
	b[2] = 0x78;
	assert_false(tk_envelope_binary(b, 36, false, &e));
	free(b);
	/* text is never Tink */
	snprintf(buf, sizeof(buf), "\x01hello world, this is plain text and nothing else");
	assert_false(tk_envelope_binary((unsigned char *)buf, strlen(buf), false, &e));
}

static void test_key_classes(void **state)
{
	struct tk_tokrules r;
	char *extra[] = {"sessionblob", NULL};
	(void)state;
	memset(&r, 0, sizeof(r));
	r.token_keys = extra;
	r.ntoken_keys = 1;
	assert_int_equal(tk_tok_key_class(&r, "access_token", 12), TK_KEY_ACCESS);
	assert_int_equal(tk_tok_key_class(&r, "refreshToken", 12), TK_KEY_REFRESH);
	assert_int_equal(tk_tok_key_class(&r, "spring.oauth.id-token", 21), TK_KEY_ID);
	assert_int_equal(tk_tok_key_class(&r, "code", 4), TK_KEY_CODE);
	assert_int_equal(tk_tok_key_class(&r, "oauth:access_token:42", 21), TK_KEY_ACCESS);
	assert_int_equal(tk_tok_key_class(&r, "DB_PASSWORD", 11), TK_KEY_PASSWORD);
	assert_int_equal(tk_tok_key_class(&r, "session_blob", 12), TK_KEY_TOKEN);
	assert_int_equal(tk_tok_key_class(&r, "token_type", 10), TK_KEY_NONE);
	assert_int_equal(tk_tok_key_class(&r, "country_code", 12), TK_KEY_NONE);
	assert_true(tk_tok_key_enc_hint("access_token_enc", 16));
	assert_true(tk_tok_key_enc_hint("encryptedToken", 14));
	assert_false(tk_tok_key_enc_hint("reference", 9));
}

static void test_classify_values(void **state)
{
	struct tk_hit h;
	(void)state;
	/* placeholders and references are not stored credentials */
	assert_false(tk_tok_classify(NULL, "access_token", 12, "${ACCESS_TOKEN}", 15, -1, &h));
	assert_false(tk_tok_classify(NULL, "access_token", 12, "xxxxxxxxxxxxxxxxxxxx", 20, -1, &h));
	assert_false(tk_tok_classify(NULL, "password", 8, "********", 8, -1, &h));
	/* hashes are hashed */
	assert_true(tk_tok_classify(NULL, "password", 8, "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
				    59, -1, &h));
	assert_int_equal(h.cls, TK_HIT_HASHED_PASSWORD);
	assert_true(tk_tok_classify(NULL, "pwd", 3, "correct horse battery", 21, -1, &h));
	assert_int_equal(h.cls, TK_HIT_PLAIN_PASSWORD);
	/* short passwords count too; short values under other keys do not */
	assert_true(tk_tok_classify(NULL, "password", 8, "hunter2", 7, -1, &h));
	assert_int_equal(h.cls, TK_HIT_PLAIN_PASSWORD);
	assert_false(tk_tok_classify(NULL, "access_token", 12, "abc123", 6, -1, &h));
	/* 64 random bytes under a token key: ciphertext or a random token - unknown, not plaintext */
	{
		unsigned char r[64];
		char *t;
		RAND_bytes(r, sizeof(r));
		r[0] = 0x42;
		r[1] = 0x00; /* not text */
		t = tk_make_b64(r, sizeof(r), 0);
		assert_true(tk_tok_classify(NULL, "refresh_token", 13, t, strlen(t), -1, &h));
		assert_int_equal(h.cls, TK_HIT_UNKNOWN);
		free(t);
		assert_true(tk_tok_classify_bin(NULL, "access_token", 12, r, sizeof(r), &h));
		assert_int_equal(h.cls, TK_HIT_UNKNOWN);
		/* the same bytes under a column that says it is encrypted: raw AEAD (heuristic) */
		assert_true(tk_tok_classify_bin(NULL, "access_token_enc", 16, r, sizeof(r), &h));
		assert_int_equal(h.cls, TK_HIT_ENCRYPTED);
		assert_int_equal(h.env.kind, TK_ENV_RAW_AEAD);
	}
	/* "Bearer <token>" judges the token part */
	assert_true(tk_tok_classify(NULL, "Authorization", 13, "Bearer Zq8Xk2pLm4Nn7Rr1Tt5Vv", 28, -1, &h));
	assert_int_equal(h.cls, TK_HIT_PLAIN_TOKEN);
	/* an opaque token with a sibling lifetime */
	assert_true(tk_tok_classify(NULL, "refresh_token", 13, "Zq8Xk2pLm4Nn7Rr1Tt5Vv", 21, 86400, &h));
	assert_int_equal(h.cls, TK_HIT_PLAIN_TOKEN);
	assert_int_equal(h.lifetime, 86400);
	assert_string_equal(h.kind, "refresh token");
}

static int collect_n;
static size_t collect_lines[16];
static void collect(void *u, const struct tk_hit *h)
{
	(void)u;
	if (collect_n < 16)
		collect_lines[collect_n] = h->line;
	collect_n++;
}

static void test_scan_text_hits(void **state)
{
	static const char text[] =
		"# comment\n"
		"access_token: Zq8Xk2pLm4Nn7Rr1Tt5Vv9\n"
		"2026-01-01 GET /cb?code=Ab3dEf6hIj9kLm2nOp5q&state=x\n"
		"Authorization: Bearer Qw3Er5Ty7Ui9Op1As3Df5\n"
		"password=\n"
		"token_type=Bearer\n"
		"stored vault:v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA for user 1\n";
	(void)state;
	collect_n = 0;
	assert_int_equal(tk_tok_scan_text(NULL, text, sizeof(text) - 1, collect, NULL), 4);
	assert_int_equal(collect_lines[3], 7);
	assert_int_equal(collect_lines[0], 2);
	assert_int_equal(collect_lines[1], 3);
	assert_int_equal(collect_lines[2], 4);
}

static long long got_lifetime[8];
static void collect_lifetime(void *u, const struct tk_hit *h)
{
	(void)u;
	if (collect_n < 8)
		got_lifetime[collect_n] = h->lifetime;
	collect_n++;
}

static void test_yaml_block_lifetime(void **state)
{
	static const char yaml[] =
		"clients:\n"
		"  a:\n"
		"    access_token: Zq8Xk2pLm4Nn7Rr1Tt5Vv9\n"
		"    expires_in: 600\n"
		"  b:\n"
		"    refresh_token: Qw3Er5Ty7Ui9Op1As3Df5\n"
		"  expires_in: 900\n"          /* another block: not b's */
		"    token_type: Bearer\n";
	(void)state;
	collect_n = 0;
	assert_int_equal(tk_tok_scan_text(NULL, yaml, sizeof(yaml) - 1, collect_lifetime, NULL), 2);
	assert_int_equal(got_lifetime[0], 600);
	assert_int_equal(got_lifetime[1], -1);
}

/* ---- RESP ---- */

static void test_resp(void **state)
{
	struct tk_resp *r = NULL;
	size_t used;
	static const char scan[] = "*2\r\n$1\r\n0\r\n*2\r\n$3\r\nk:1\r\n$3\r\nk:2\r\n";
	(void)state;
	assert_int_equal(tk_resp_parse(scan, sizeof(scan) - 1, 1024, &r, &used), TK_OK);
	assert_int_equal(used, sizeof(scan) - 1);
	assert_int_equal(r->type, '*');
	assert_int_equal(r->n, 2);
	assert_string_equal(r->elems[1]->elems[1]->str, "k:2");
	tk_resp_free(r);
	/* every proper prefix is incomplete */
	for (used = 0; used < sizeof(scan) - 1; used++) {
		size_t u2;
		assert_int_equal(tk_resp_parse(scan, used, 1024, &r, &u2), TK_RESP_INCOMPLETE);
	}
	assert_int_equal(tk_resp_parse("$-1\r\n", 5, 10, &r, &used), TK_OK);
	assert_true(r->is_null);
	tk_resp_free(r);
	assert_int_equal(tk_resp_parse(":-42\r\n", 6, 10, &r, &used), TK_OK);
	assert_int_equal(r->integer, -42);
	tk_resp_free(r);
	assert_int_equal(tk_resp_parse("-ERR no\r\n", 9, 10, &r, &used), TK_OK);
	assert_string_equal(r->str, "ERR no");
	tk_resp_free(r);
	/* bulk over the bound, absurd counts, bad framing, bad type */
	assert_int_equal(tk_resp_parse("$2000\r\n", 7, 1024, &r, &used), TK_ERR_LIMIT);
	assert_int_equal(tk_resp_parse("*99999999\r\n", 11, 1024, &r, &used), TK_ERR_LIMIT);
	assert_int_equal(tk_resp_parse("$3\r\nabcX\n", 9, 1024, &r, &used), TK_ERR_PARSE);
	assert_int_equal(tk_resp_parse("?x\r\n", 4, 1024, &r, &used), TK_ERR_PARSE);
	assert_int_equal(tk_resp_parse(":12a\r\n", 6, 1024, &r, &used), TK_ERR_PARSE);
	assert_int_equal(tk_resp_parse("*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n", 43, 10, &r,
					&used), TK_ERR_LIMIT);
}

static void test_resp_command(void **state)
{
	struct tk_buf b;
	const char *argv[2] = {"GET", "a\r\nb"};
	(void)state;
	tk_buf_init(&b, 1024);
	assert_int_equal(tk_resp_command(&b, 2, argv, NULL), TK_OK);
	assert_string_equal(b.data, "*2\r\n$3\r\nGET\r\n$4\r\na\r\nb\r\n");
	tk_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jwt_hs256_lifetime), cmocka_unit_test(test_jwt_rs256_es256),
		cmocka_unit_test(test_jwt_rejects),        cmocka_unit_test(test_b64),
		cmocka_unit_test(test_envelopes_real),     cmocka_unit_test(test_envelope_lookalikes),
		cmocka_unit_test(test_key_classes),        cmocka_unit_test(test_classify_values),
		cmocka_unit_test(test_scan_text_hits),     cmocka_unit_test(test_yaml_block_lifetime),
		cmocka_unit_test(test_resp),
		cmocka_unit_test(test_resp_command),
	};
	RAND_bytes(key, sizeof(key));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
