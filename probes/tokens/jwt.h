/*
 * jwt.h - decode (never verify) a compact JWS JSON Web Token (RFC 7519/7515)
 * to learn what a stored token is: type, algorithm, issuer and lifetime.
 * Also the base64 decoder the token parsers share.
 */
#ifndef TK_JWT_H
#define TK_JWT_H

#include <stdbool.h>
#include <stddef.h>

#include "tk.h" /* tk_b64_decode */

#define TK_JWT_MAX_LEN (16 * 1024) /* longer strings are not treated as JWTs */

struct tk_jwt {
	char alg[16];       /* header "alg" (escaped, truncated) */
	char typ[32];       /* header "typ", "" when absent */
	char iss[128];      /* payload "iss" (escaped, truncated), "" when absent */
	char use[32];       /* payload token-use hint: "token_use", "typ" (Keycloak), "" */
	bool has_exp, has_iat, has_nbf;
	long long exp, iat, nbf;
	bool has_scope;     /* "scope" or "scp" claim: an access token */
	bool has_nonce;     /* "nonce" claim: an ID token */
};

/*
 * Decode p (len bytes) as header.payload.signature: both first parts must be
 * base64url JSON objects, the header with a string "alg". On success fills
 * *out and returns 0; otherwise returns -1 and puts the reason in why.
 * The signature is not checked (tenken has no keys; it only classifies).
 */
int tk_jwt_decode(const char *p, size_t len, struct tk_jwt *out, char *why, size_t whysz);

/* exp - iat in seconds, or -1 when either is missing or exp < iat. */
long long tk_jwt_lifetime(const struct tk_jwt *j);

#endif
