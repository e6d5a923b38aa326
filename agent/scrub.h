/*
 * scrub.h - one function that takes credentials out of text a server sent
 * back (an error body, a message built from one) before anything truncates,
 * logs or reports it. Every cloud provider's error path calls it on the whole
 * body first; truncation comes after, so no piece of a secret survives a cut.
 *
 * Replaced by "[redacted sha256:XXXXXXXXXXXX]" (a tk_fingerprint of the text):
 *  - each known secret (the caller's list: keys, client secrets, bearer tokens,
 *    signed assertions; each at least 4 bytes), as is and URL-encoded;
 *  - anything shaped like a credential: AWS access key ids (AKIA/ASIA/...
 *    + 16), "Bearer <token>", JWT/JWS (eyJ...), Google ya29. tokens, PEM
 *    private key blocks, 40-character AWS-secret-like strings, and the value
 *    after a credential-named key (client_secret, assertion, access_token,
 *    refresh_token, id_token, password, SecretAccessKey, SessionToken,
 *    X-Amz-Security-Token, Signature, ...) in form, JSON or XML form.
 */
#ifndef TK_SCRUB_H
#define TK_SCRUB_H

#include <stddef.h>

#include "tk.h"

/*
 * Scrubbed copy of in[0..len) (NUL-terminated, malloc'd, owned by the caller;
 * NULL only when out of memory). `secrets` is a NULL-terminated list (may be
 * NULL); NULL entries before the end are not allowed, use "" to skip one.
 */
char *tk_scrub_dup(const char *in, size_t len, const char *const *secrets);

/* In place on a NUL-terminated buffer of `size` bytes (the result is cut to fit). */
void tk_scrub_inplace(char *msg, size_t size, const char *const *secrets);

/*
 * The same on a response buffer (its contents replaced; the old bytes wiped).
 * A result longer than the buffer's limit is cut, after scrubbing.
 */
void tk_scrub_buf(struct tk_buf *b, const char *const *secrets);

#endif
