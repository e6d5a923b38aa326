/*
 * tokmake.h - build real tokens and envelopes with OpenSSL: signed JWTs and
 * values encrypted in each envelope format envelope.c recognises. Used by
 * the demo partner and the tests (never by a scan).
 */
#ifndef TK_TOKMAKE_H
#define TK_TOKMAKE_H

#include <openssl/evp.h>
#include <stddef.h>

/* base64url without padding (url=1) or standard base64 with padding; malloc'd. */
char *tk_make_b64(const unsigned char *p, size_t n, int url);

/*
 * Compact JWS: header and payload JSON as given. pkey NULL: HS256 with
 * hmac_key; otherwise RS256 (RSA key) or ES256 (P-256 key) signed by pkey.
 */
int tk_make_jwt(const char *header_json, const char *payload_json, const unsigned char *hmac_key, size_t hkl,
		EVP_PKEY *pkey, char **out);

/* AES-256-GCM: nonce(12) || ciphertext || tag(16). */
int tk_make_aesgcm(const unsigned char key[32], const void *pt, size_t n, unsigned char **out, size_t *outlen);
/* Fernet token (key: 16 signing + 16 encryption bytes), timestamp ts. */
int tk_make_fernet(const unsigned char key[32], const void *pt, size_t n, unsigned long long ts, char **out);
/* JWE compact, alg "dir", enc "A256GCM". */
int tk_make_jwe(const unsigned char key[32], const void *pt, size_t n, char **out);
/* Vault transit layout: "vault:v1:" + base64(nonce || ct || tag). */
int tk_make_vault(const unsigned char key[32], const void *pt, size_t n, char **out);
/* Tink AES-GCM with TINK output prefix: 0x01 || key id(4) || nonce || ct || tag. */
int tk_make_tink(const unsigned char key[32], unsigned key_id, const void *pt, size_t n, unsigned char **out,
		 size_t *outlen);
/* AWS Encryption SDK message, format version 2, suite 0x0478, one raw-AES data key, framed body. */
int tk_make_esdk(const unsigned char key[32], const void *pt, size_t n, unsigned char **out, size_t *outlen);
/* A KMS-CiphertextBlob-shaped value: 01 02 02 00 header, key reference, AES-GCM of pt. */
int tk_make_kms_blob(const unsigned char key[32], const void *pt, size_t n, unsigned char **out, size_t *outlen);

#endif
