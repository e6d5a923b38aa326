/*
 * tsa.h - trusted time for the stored reports (docs/desk.md "Trusted time"):
 * an RFC 3161 timestamp token from the TSA configured in <state>/tsa.json,
 * over each stored report's SHA-256, stored beside it as <seq>.json.tsr
 * (the DER TimeStampResp, readable by `openssl ts -reply -in`).
 *
 * tsa.json: {"url": "http://...", "ca_file": "tsa-ca.pem", "timeout_s": 10}
 *   url       the TSA (http or https; POST application/timestamp-query)
 *   ca_file   the CA that issued the TSA's certificate (relative: to the state dir)
 *   timeout_s per request, its one retry included (1..60, default 10)
 *
 * Storing never waits on the TSA past timeout_s and never fails the scan: a
 * token that could not be obtained is recorded in the index table
 * desk_tsa(partner, seq, state, attempts, last_error, last_attempt) as
 * "pending" and tried again on the next stored scan. verify reports every
 * scan without a valid token.
 */
#ifndef TK_TSA_H
#define TK_TSA_H

#include <stdio.h>
#include "history.h"

/* After a scan is stored: stamp partner's newest scan, then retry pending
 * ones (any partner, oldest first, bounded). No TSA configured: nothing.
 * Never fails: problems are logged (warn) and recorded. */
void tk_tsa_after_commit(struct tk_history *h, const char *partner);

/* Check the tokens of every scan of partner; one line per scan to out.
 * Returns the number of problems (missing, invalid, uncheckable). */
int tk_tsa_verify(struct tk_history *h, const char *partner, FILE *out);

/* Verify one token file against a report SHA-256 (hex) and a CA file.
 * gen_time (may be NULL) receives the token's time "YYYY-MM-DDTHH:MM:SSZ". */
int tk_tsa_verify_token(const char *tsr_path, const char *sha_hex, const char *ca_file, char gen_time[32],
			struct tk_err *err);

#endif
