/*
 * probe.h - the interface every probe implements, and what the agent gives
 * a probe: config helpers that name the JSON path in errors, and a run
 * context with a deadline, cancellation and an observation sink.
 *
 * A probe is one file in probes/ exporting one `const struct tk_probe`.
 * Probes observe; they never judge and know nothing of checklists.
 */
#ifndef TK_PROBE_H
#define TK_PROBE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include "tk.h"

/*
 * Reads one file of the rules data set (embedded, or TENKEN_DATA_DIR) by its name relative to
 * rules/, e.g. "tables/eol.json", into a malloc'd NUL-terminated *text the caller frees.
 * TK_ERR_NOTFOUND when absent. The rules library provides it (tk_dataset_read); probes reach
 * it through their config context and never include rules/ headers.
 */
typedef int (*tk_data_read_fn)(const char *name, char **text, size_t *len, struct tk_err *err);

/* What a probe's config parser is given besides its section. */
struct tk_cfgctx {
	const char *file;      /* config file as named by the user, for messages */
	const char *base_dir;  /* relative paths resolve against this */
	const char *path;      /* JSON path of the section, e.g. "probes.tls" */
	const cJSON *root;     /* the whole config, read-only (cross-section refs) */
	tk_data_read_fn data;  /* the rules data set (tables, profiles); NULL: none */
};

/*
 * The data reader every config context gets (set once at start-up by main, and by the test
 * support library, before any config is parsed).
 */
void tk_cfg_set_data_reader(tk_data_read_fn fn);
tk_data_read_fn tk_cfg_data_reader(void);
/* A file of the rules data set through cc->data; TK_ERR_NOTFOUND when there is no reader. */
int tk_cfg_data(const struct tk_cfgctx *cc, const char *name, char **text, size_t *len, struct tk_err *err);

/*
 * Config-error helper: formats "FILE: PATH: message" into err and returns
 * TK_ERR_CONFIG. `path` is the JSON path of the offending value.
 */
int tk_cfg_err(struct tk_err *err, const struct tk_cfgctx *cc, const char *path,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Reject keys of obj not in `allowed` (NULL-terminated); `path` is obj's path. */
int tk_cfg_check_keys(const cJSON *obj, const char *const *allowed,
		      const struct tk_cfgctx *cc, const char *path, struct tk_err *err);
/* Typed getters. Missing optional values leave *out unchanged and return TK_OK. */
int tk_cfg_string(const cJSON *obj, const char *key, bool required, const char **out,
		  const struct tk_cfgctx *cc, const char *path, struct tk_err *err);
int tk_cfg_int(const cJSON *obj, const char *key, bool required, long long min, long long max,
	       long long *out, const struct tk_cfgctx *cc, const char *path, struct tk_err *err);
int tk_cfg_bool(const cJSON *obj, const char *key, bool required, bool *out,
		const struct tk_cfgctx *cc, const char *path, struct tk_err *err);
/* An array (may be empty unless required_nonempty). *out is borrowed. */
int tk_cfg_array(const cJSON *obj, const char *key, bool required_nonempty, const cJSON **out,
		 const struct tk_cfgctx *cc, const char *path, struct tk_err *err);
/* An array of strings copied into a NULL-terminated malloc'd vector. */
int tk_cfg_strings(const cJSON *obj, const char *key, bool required_nonempty, char ***out,
		   size_t *n, const struct tk_cfgctx *cc, const char *path, struct tk_err *err);
/* Resolve a relative path against cc->base_dir; malloc'd. */
char *tk_cfg_resolve(const struct tk_cfgctx *cc, const char *rel);
/* A configured file as the probes keep it: *path resolved against cc->base_dir (to open) and *shown
 * as written (targets, evidence, messages); both malloc'd. TK_ERR_NOMEM when out of memory. */
int tk_cfg_resolve_shown(const struct tk_cfgctx *cc, const char *rel, char **path, char **shown,
			 struct tk_err *err);
/*
 * The body of a probe's targets callback: append to list the string at byte offset `member` of each
 * of the n elements (`size` bytes each) starting at base. TK_TARGETS(list, arr, n, type, field) for an
 * array of structs; tk_targets_add(list, strs, n, sizeof(char *), 0) for an array of strings.
 */
int tk_targets_add(cJSON *list, const void *base, size_t n, size_t size, size_t member);
#define TK_TARGETS(list, arr, n, type, field) tk_targets_add((list), (arr), (n), sizeof(type), offsetof(type, field))
/* Define a probe's whole targets callback `fn`: the `field` of each of the state's (cfgtype) n elements of arr. */
#define TK_PROBE_TARGETS(fn, cfgtype, arr, n, type, field)                                                      \
	static int fn(const void *state, cJSON *list)                                                          \
	{                                                                                                      \
		const cfgtype *c = state;                                                                      \
		return TK_TARGETS(list, c->arr, c->n, type, field);                                            \
	}
/* The same for a state whose targets are an array of strings (arr, n). */
#define TK_PROBE_TARGET_STRINGS(fn, cfgtype, arr, n)                                                           \
	static int fn(const void *state, cJSON *list)                                                          \
	{                                                                                                      \
		const cfgtype *c = state;                                                                      \
		return tk_targets_add(list, c->arr, c->n, sizeof(char *), 0);                                  \
	}
/* "parent.key" / "parent[i]" into a malloc-free fixed buffer of the caller. */
void tk_path_key(char *out, size_t size, const char *parent, const char *key);
void tk_path_idx(char *out, size_t size, const char *parent, size_t idx);

/* ---- running ---- */
struct tk_runctx; /* owned by the agent */

/* Monotonic ms at which this probe must have returned. */
int64_t tk_run_deadline(const struct tk_runctx *ctx);
/* Milliseconds left (0 when past); min(remaining, cap_ms) when cap_ms > 0. */
int tk_run_remaining_ms(const struct tk_runctx *ctx, int cap_ms);
/* True once the scan is being stopped (signal, deadline): return soon. */
bool tk_run_cancelled(const struct tk_runctx *ctx);
/* The name of the running probe. */
const char *tk_run_probe(const struct tk_runctx *ctx);

/*
 * New observation: {"probe": <probe>, "target": target, "kind": kind}.
 * Add facts to it, then hand it to tk_emit().
 */
cJSON *tk_obs_new(const struct tk_runctx *ctx, const char *kind, const char *target);
/* Emit an observation; takes ownership in every case. Thread-safe. */
int tk_emit(struct tk_runctx *ctx, cJSON *obs);
/*
 * Emit an error observation (kind "error") for target: the probe could not
 * observe it. rc names the class (timeout, net, tls, ...). Returns TK_OK.
 */
int tk_emit_error(struct tk_runctx *ctx, const char *target, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

struct tk_probe {
	const char *name;     /* config section key, e.g. "hsts" */
	const char *summary;  /* one line for `tenken probes` */
	/* Parse and validate this probe's section into *state. */
	int (*configure)(const cJSON *section, const struct tk_cfgctx *cc, void **state,
			 struct tk_err *err);
	/*
	 * Optional. Open privileged resources (e.g. a live capture handle) in the
	 * main thread before the agent drops every capability and starts the probe
	 * threads. Not called by `validate`.
	 */
	int (*prepare)(void *state, struct tk_err *err);
	/* Append the targets this probe will look at (strings) to `list`. */
	int (*targets)(const void *state, cJSON *list);
	/*
	 * Observe. Honour the deadline and cancellation. Per-target failures are
	 * error observations (tk_emit_error) and the run goes on; a non-OK return
	 * means the probe as a whole failed (the agent then reports an error for
	 * every target that has no observation).
	 */
	int (*run)(void *state, struct tk_runctx *ctx, struct tk_err *err);
	void (*free_state)(void *state);
};

/* The registry (probes/registry.c): NULL-terminated. */
extern const struct tk_probe *const tk_probes[];
const struct tk_probe *tk_probe_find(const char *name);

#endif
