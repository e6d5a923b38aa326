/*
 * tls_suites.h - the TLS cipher-suite table: IANA code point and name,
 * OpenSSL's name (NULL when the local OpenSSL does not implement it), the
 * key exchange, authentication, bulk cipher and MAC, and a classification.
 * Generated from data by scripts/gen_tls_suites.py (see its header).
 */
#ifndef TK_TLS_SUITES_H
#define TK_TLS_SUITES_H

#include <stddef.h>
#include <stdint.h>

enum tk_suite_flag {
	TK_SUITE_TLS13 = 1 << 0,  /* a TLS 1.3 suite (only valid in TLS 1.3) */
	TK_SUITE_NULL = 1 << 1,   /* no encryption */
	TK_SUITE_ANON = 1 << 2,   /* no server authentication */
	TK_SUITE_EXPORT = 1 << 3, /* export-grade (40/56-bit, 512/1024-bit kx) */
	TK_SUITE_RC4 = 1 << 4,
	TK_SUITE_3DES = 1 << 5,   /* 64-bit block: SWEET32 */
	TK_SUITE_DES = 1 << 6,    /* single DES */
	TK_SUITE_CBC = 1 << 7,
	TK_SUITE_AEAD = 1 << 8,
	TK_SUITE_FS = 1 << 9,     /* forward secrecy (ephemeral key exchange) */
	TK_SUITE_PSK = 1 << 10,
	TK_SUITE_MD5 = 1 << 11,   /* HMAC-MD5 */
};

struct tk_suite {
	uint16_t code;
	const char *iana;
	const char *openssl; /* NULL: not implemented by the local OpenSSL at build time */
	const char *kx;      /* RSA, DHE, ECDHE, DH, ECDH, PSK, SRP, ..., "any" (TLS 1.3) */
	const char *auth;    /* RSA, ECDSA, DSS, anon, PSK, ..., "any" */
	const char *enc;     /* AES_128_GCM, 3DES_EDE_CBC, RC4_128, NULL, ... */
	const char *mac;     /* SHA, SHA256, SHA384, MD5, AEAD */
	unsigned flags;
};

/* The whole table, sorted by code point. */
const struct tk_suite *tk_suites(size_t *n);
/* Look a code point up; NULL when unknown. */
const struct tk_suite *tk_suite_by_code(uint16_t code);
/* Look an IANA name up (exact); NULL when unknown. */
const struct tk_suite *tk_suite_by_name(const char *iana);
/* "weak": NULL, anonymous, export, RC4, DES or 3DES. */
int tk_suite_is_weak(const struct tk_suite *s);

#endif
