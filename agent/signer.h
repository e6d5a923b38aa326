/*
 * signer.h - the history's signing key: an Ed25519 key file (the default,
 * key/ed25519.pem in the state directory) or a key that never leaves a
 * PKCS#11 token (HSM, smart card; SoftHSM2 in the tests), named by an
 * RFC 7512 URI in <state>/signing.json:
 *
 *   {"signing_key": "pkcs11:token=tenken;object=history;type=private",
 *    "module": "/usr/lib/softhsm/libsofthsm2.so", "pin_file": "secret/pin"}
 *
 * pin_file (relative to the state directory) must be a regular file of mode
 * 0600 or stricter; the PIN is never logged and is wiped after C_Login.
 * "signing_key" may instead name an Ed25519 PEM file ("file:PATH" or PATH).
 *
 * Algorithms: "Ed25519" (file keys; token keys of type CKK_EC_EDWARDS via
 * CKM_EDDSA) and "ECDSA-P256-SHA256" (token keys of type CKK_EC on P-256 via
 * CKM_ECDSA over the SHA-256 digest; the signature stored DER-encoded, as
 * `openssl dgst -sha256 -verify` reads it).
 *
 * A public key is named by its raw form (Ed25519: 32 bytes; P-256: the
 * 65-byte uncompressed point — in both cases the subjectPublicKey bits of the
 * SubjectPublicKeyInfo) and its fingerprint "SHA256:<hex of SHA-256(raw)>".
 */
#ifndef TK_SIGNER_H
#define TK_SIGNER_H

#include <stdbool.h>
#include <stddef.h>
#include "tk.h"

#define TK_SIG_MAX 80  /* bytes of one signature (DER ECDSA P-256 <= 72) */
#define TK_PUB_MAX 65

struct tk_signer;

struct tk_pubkey {
	char alg[24];                   /* "Ed25519" or "ECDSA-P256-SHA256" */
	unsigned char raw[TK_PUB_MAX];
	size_t len;
	char fp[80];
};

/* The signer of a state directory: signing.json when present, else the
 * Ed25519 key file (created when create is true). */
int tk_signer_open_state(const char *state_dir, bool create, struct tk_signer **out, struct tk_err *err);
/* The signer a signing config names (paths in it relative to base_dir). */
int tk_signer_open_config(const char *config_path, const char *base_dir, struct tk_signer **out, struct tk_err *err);
void tk_signer_close(struct tk_signer *s);
const struct tk_pubkey *tk_signer_pub(const struct tk_signer *s);
/* Where the key is, for messages: "key file PATH" or "PKCS#11 token L, object O". */
const char *tk_signer_where(const struct tk_signer *s);
/* Sign msg; each token signature is checked against the public key before use. */
int tk_signer_sign(struct tk_signer *s, const void *msg, size_t len, unsigned char sig[TK_SIG_MAX], size_t *siglen,
		   struct tk_err *err);

/* Public keys: from the raw form (alg decides), to PEM (malloc'd), fingerprint. */
int tk_pubkey_set(struct tk_pubkey *k, const char *alg, const unsigned char *raw, size_t len, struct tk_err *err);
int tk_pubkey_pem(const struct tk_pubkey *k, char **pem, struct tk_err *err);
bool tk_pubkey_verify(const struct tk_pubkey *k, const void *msg, size_t len, const unsigned char *sig,
		      size_t siglen);

#endif
