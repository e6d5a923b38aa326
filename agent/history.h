/*
 * history.h - the embedded history of scans: every stored report, a SQLite
 * index over them, an Ed25519 signature per report and a hash chain per
 * partner.
 *
 * Layout under the state directory (tk_history_state_dir):
 *   index.sqlite                     the index (one row per stored scan)
 *   key/ed25519.pem                  the agent's private key (0600), unless
 *   signing.json                     names a key file or a PKCS#11 token key (signer.h)
 *   key/rotations/NNNNNN.txt         the key log: each rotation, signed by old and new key
 *   reports/<partner>/<seq>.json     the report exactly as written
 *   reports/<partner>/<seq>.json.sig its signature envelope (JSON)
 *
 * Storing is: tk_history_begin (takes the write lock, tells the next seq
 * and the previous report's hash so the report can link to it), then
 * tk_history_commit (writes the report and signature atomically, inserts the
 * row, commits) or tk_history_abort. A kill at any point leaves at most an
 * unindexed file with the next seq, which verify notes and the next scan
 * indexes (signed, chaining on) or removes (never signed). The next seq comes
 * from the index and the files: a stored report is never overwritten (link(),
 * EEXIST), whatever state the index is in; the index can be rebuilt from the
 * files (tk_history_reindex).
 */
#ifndef TK_HISTORY_H
#define TK_HISTORY_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include "tk.h"

struct tk_history;

/* The state directory: opt if set, else $TENKEN_STATE_DIR, else
 * $XDG_STATE_HOME/tenken, else $HOME/.local/state/tenken. malloc'd. */
int tk_history_state_dir(const char *opt, char **out, struct tk_err *err);

/* Open (creating the directory, index and key when create is true). */
int tk_history_open(const char *state_dir, bool create, struct tk_history **out, struct tk_err *err);
void tk_history_close(struct tk_history *h);

/* The agent's public key: PEM (malloc'd) and "SHA256:<hex>" fingerprint. */
int tk_history_pubkey(struct tk_history *h, char **pem, char fp[80], struct tk_err *err);

struct tk_history_link {
	long long seq;             /* the seq this scan will get */
	long long prev_seq;        /* 0 when first */
	char prev_sha256[65];      /* "" when first */
	char prev_run_id[64];
	char prev_file[512];       /* the previous stored report, relative to the state dir; "" when first */
};

/* Take the write lock and describe where the next report of partner goes. */
int tk_history_begin(struct tk_history *h, const char *partner, struct tk_history_link *link, struct tk_err *err);
/* Store the report bytes (report: the parsed document, for the index). */
int tk_history_commit(struct tk_history *h, const char *partner, const struct tk_history_link *link,
		      const char *bytes, size_t len, const cJSON *report, char **stored_path, struct tk_err *err);
void tk_history_abort(struct tk_history *h);

/* The partner's stored scans, oldest first: [{seq, run_id, mode, checklist,
 * started_at, finished_at, verdict, complete, items:{pass,...}, sha256, file}].
 * up_to_seq > 0 stops there. limit > 0 keeps only the newest limit rows. */
int tk_history_list(struct tk_history *h, const char *partner, long long up_to_seq, int limit, cJSON **rows,
		    struct tk_err *err);
/* Every partner with stored scans, by id: [{partner, scans, last_seq,
 * last_started_at, last_verdict}]. */
int tk_history_partner_summary(struct tk_history *h, cJSON **rows, struct tk_err *err);
/* Load a stored report: seq > 0 that one, 0 the latest, -1 the one before the latest.
 * Also returns its seq when seq_out is not NULL. */
int tk_history_load(struct tk_history *h, const char *partner, long long seq, cJSON **report, long long *seq_out,
		    struct tk_err *err);
/* Find a scan's seq by run id (or a decimal seq string). */
int tk_history_find(struct tk_history *h, const char *partner, const char *id, long long *seq, struct tk_err *err);

/* Verify a partner's chain and signatures; writes one line per problem to out.
 * Returns TK_OK when everything verifies, TK_ERR_VERIFY when a problem was found. */
int tk_history_verify(struct tk_history *h, const char *partner, FILE *out, int *nreports, struct tk_err *err);
/* Verify one stored report file (signature, key, index entry). */
/* Read a stored report file: a ".gz" file (gzip, written since
 * tenken.report/2) is inflated, an older ".json" file read as is; *text is
 * the report.json bytes the signature covers (caller frees). Bounded. */
int tk_history_read_report(const char *path, char **text, size_t *len, struct tk_err *err);
int tk_history_verify_file(struct tk_history *h, const char *path, FILE *out, struct tk_err *err);

/* ---- head anchoring (desk) ----
 * The heads document ("tenken.heads/1"): every partner's newest stored scan
 * (seq, report SHA-256, timestamps) for another system to keep. Deleting the
 * newest scans (files and index rows) leaves a chain that verifies on its
 * own; checked against a kept heads document it does not. */
/* Build the heads document over every partner in the index (caller frees). */
int tk_history_heads(struct tk_history *h, cJSON **out, struct tk_err *err);
/* Check one partner against its anchored head (seq, sha256): the history
 * must still hold that scan with that hash, at or below its newest scan.
 * Writes one FAIL line per problem to out; returns the number of problems. */
int tk_history_check_head(struct tk_history *h, const char *partner, long long seq, const char *sha256, FILE *out);
/* Every partner id in the index, sorted (caller frees the array). */
int tk_history_partners(struct tk_history *h, cJSON **out, struct tk_err *err);


/* ---- per-item index for the portfolio (desk) ----
 * Table desk_items(partner, seq, items, extra), written in the same
 * transaction as the scans row:
 *   items  "NO=S;NO=S;..." in the report's item order, S one letter:
 *          p pass, f fail, i incomplete, m manual, n not_applicable, w waived
 *   extra  JSON {"incomplete":{"NO":"rule: reason",...},
 *               "waivers":[{"id","target","expires"}...], "expired_waivers":N}
 * items and extra are malloc'd / cJSON-allocated (free / cJSON_free). */
int tk_history_item_record(const cJSON *report, char **items, char **extra, struct tk_err *err);
/* Every partner's newest scan with its per-item record, and the last trend_n
 * scans (oldest first) of each: [{partner, seq, run_id, mode, checklist,
 * started_at, finished_at, verdict, complete, items:{pass,...}, sha256, file,
 * record: "NO=S;..." or null (not in the index: read the report), extra,
 * trend:[{seq, finished_at, verdict, fail, incomplete}]}] sorted by partner. */
int tk_history_portfolio(struct tk_history *h, int trend_n, cJSON **out, struct tk_err *err);
/* The state directory this history was opened on (borrowed). */
const char *tk_history_dir(const struct tk_history *h);
/* Sign msg with the agent key (desk: the auditor bundle's MANIFEST).
 * *b64: the raw Ed25519 signature, base64, malloc'd; *b64len its length. */
int tk_history_sign(struct tk_history *h, const void *msg, size_t len, char **b64, size_t *b64len, struct tk_err *err);
/* The index connection, for the desk's own tables (borrowed; agent/tsa.c). */
struct sqlite3 *tk_history_db(struct tk_history *h);
/* Rebuild the index from the files: every report whose signature verifies
 * with this agent's key is indexed (by its signed hash, so that a modified file
 * remains a finding for verify); the others are named on out and skipped. */
int tk_history_reindex(struct tk_history *h, FILE *out, int *nindexed, int *nskipped, struct tk_err *err);

/* ---- signing key rotation (desk; docs/desk.md "Signing key: file or PKCS#11 token") ----
 * Appends key/rotations/NNNNNN.txt naming the key that config_path (a
 * signing.json) opens, every partner's newest seq, signed by the key in force
 * (.sig) and by the new key (.newsig); then installs config_path as
 * <state>/signing.json. Scans after each partner's recorded head must carry
 * the new key; verify names where the key changed. A default key file
 * (key/ed25519.pem) rotated away from is removed. */
int tk_history_rotate(struct tk_history *h, const char *config_path, FILE *out, struct tk_err *err);
/* Every key of the key log, oldest first: [{index, alg, fingerprint, pem,
 * record ("<state>/key/rotations/NNNNNN": + .txt/.sig/.newsig), rotated_at}]. */
int tk_history_keys(struct tk_history *h, cJSON **out, struct tk_err *err);
/* Open the signer now (a token: module, slot, PIN, key) so that a scan fails
 * before it starts rather than when it stores; checks it holds the key in force. */
int tk_history_signer_ready(struct tk_history *h, struct tk_err *err);

#endif
