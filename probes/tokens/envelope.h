/*
 * envelope.h - recognise encrypted envelopes by their structure, so that a
 * stored value can be called "encrypted" only when its layout says so.
 * Entropy alone cannot tell a random opaque token from ciphertext: every
 * rule here checks a documented layout; the ones that cannot are marked
 * heuristic (see docs/tokens.md for each format).
 */
#ifndef TK_ENVELOPE_H
#define TK_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>

enum tk_env_kind {
	TK_ENV_NONE = 0,
	TK_ENV_JWE,       /* RFC 7516 compact: 5 parts, protected header with alg and enc */
	TK_ENV_FERNET,    /* version 0x80, timestamp, IV, AES-CBC blocks, HMAC-SHA256 */
	TK_ENV_VAULT,     /* HashiCorp Vault transit "vault:vN:" + base64 */
	TK_ENV_KMS,       /* AWS KMS CiphertextBlob (heuristic: undocumented layout) */
	TK_ENV_ESDK,      /* AWS Encryption SDK message format v1/v2 */
	TK_ENV_TINK,      /* Tink ciphertext with TINK output prefix 0x01 + key id */
	TK_ENV_RAW_AEAD,  /* nonce||ciphertext||tag under an encryption marker (heuristic) */
	TK_ENV_COUNT
};

struct tk_envelope {
	enum tk_env_kind kind;
	bool heuristic;     /* recognised by convention or length only, not a full layout */
	char detail[64];    /* e.g. "alg=dir enc=A256GCM", "suite=0x0578" (no secret bytes) */
};

/* Stable short name: "jwe", "fernet", "vault-transit", "aws-kms", ... */
const char *tk_envelope_name(enum tk_env_kind k);

/*
 * A text value (p, len). enc_hint: the field name marks encrypted content
 * (e.g. "encrypted_token"); only then may a structureless base64 blob count
 * as raw AEAD. Returns true and fills *out when an envelope is recognised.
 */
bool tk_envelope_text(const char *p, size_t len, bool enc_hint, struct tk_envelope *out);

/* Raw bytes (a database BLOB, or a base64 value already decoded). */
bool tk_envelope_binary(const unsigned char *p, size_t len, bool enc_hint, struct tk_envelope *out);

/* True when p looks like text (UTF-8 without NUL or most control bytes). */
bool tk_is_text(const unsigned char *p, size_t len);

#endif
