/*
 * run.h - run configured probes concurrently, each under its own deadline.
 * A probe that fails or overruns yields error observations for its targets;
 * it never aborts the scan or the other probes.
 */
#ifndef TK_RUN_H
#define TK_RUN_H

#include <signal.h>
#include "probe.h"

enum tk_probe_status { TK_PROBE_OK, TK_PROBE_ERROR, TK_PROBE_TIMEOUT, TK_PROBE_CANCELLED };

struct tk_probe_run {
	/* in */
	const struct tk_probe *probe;
	void *state;           /* from probe->configure; freed by tk_probe_runs_free */
	int timeout_ms;
	/* out */
	cJSON *observations;   /* array, owned */
	cJSON *targets;        /* array of strings, owned */
	enum tk_probe_status status;
	char error[1024];
	int64_t duration_ms;
	bool abandoned;        /* thread still running past its grace: state leaked on purpose */
};

/* Set by signal handlers; every probe sees it through tk_run_cancelled(). */
extern volatile sig_atomic_t tk_stop_requested;

/* Grace after a probe's deadline before it is abandoned, in ms. */
#define TK_PROBE_GRACE_MS 2000

/* Run all probes; returns TK_OK unless the machinery itself failed. */
int tk_run_probes(struct tk_probe_run *runs, size_t n, struct tk_err *err);
/*
 * The same, calling progress(arg, runs, done, n, elapsed_ms) from the calling
 * thread about every 200 ms while probes run and once at the end; done[i] is
 * true once runs[i] has finished (its status and duration are then final).
 * For a progress display only: it must not block and must not touch runs.
 */
typedef void (*tk_run_progress_fn)(void *arg, const struct tk_probe_run *runs, const bool *done, size_t n,
				   int64_t elapsed_ms);
int tk_run_probes_progress(struct tk_probe_run *runs, size_t n, tk_run_progress_fn progress, void *arg,
			   struct tk_err *err);
void tk_probe_runs_free(struct tk_probe_run *runs, size_t n);
const char *tk_probe_status_name(enum tk_probe_status s);

/*
 * Run one probe synchronously in the calling thread (tests, fuzzing):
 * collects its observations into *out (an array the caller frees).
 */
int tk_run_probe_inline(const struct tk_probe *probe, void *state, int timeout_ms, cJSON **out,
			struct tk_err *err);

#endif
