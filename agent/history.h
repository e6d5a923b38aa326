/*
 * history.h - the embedded history of scans: every stored report, a SQLite
 * index over them, an Ed25519 signature per report and a hash chain per
 * partner.
 *
 * Layout under the state directory (tk_history_state_dir):
 *   index.sqlite                     the index (one row per stored scan)
 *   key/ed25519.pem                  the agent's private key (0600)
 *   reports/<partner>/<seq>.json     the report exactly as written
 *   reports/<partner>/<seq>.json.sig its signature envelope (JSON)
 *
 * Storing is: tk_history_begin (takes the write lock, tells the next seq
 * and the previous report's hash so the report can link to it), then
 * tk_history_commit (writes the report and signature atomically, inserts the
 * row, commits) or tk_history_abort. A kill at any point leaves at most an
 * unindexed file with the next seq, which verify ignores and the next scan
 * overwrites.
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
int tk_history_partners(struct tk_history *h, cJSON **rows, struct tk_err *err);
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
int tk_history_verify_file(struct tk_history *h, const char *path, FILE *out, struct tk_err *err);

#endif
