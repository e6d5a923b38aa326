/* run.c - the probe runner: threads, deadlines, cancellation, error observations. */
#include "run.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

volatile sig_atomic_t tk_stop_requested;

struct tk_runctx {
	const char *probe_name;
	int64_t deadline;
	atomic_int cancel;
	atomic_int finished;
	pthread_mutex_t lock;
	bool closed;           /* no more observations accepted (abandoned) */
	cJSON *observations;
	/* thread plumbing */
	const struct tk_probe *probe;
	void *state;
	int rc;
	struct tk_err err;
	pthread_mutex_t *done_lock;
	pthread_cond_t *done_cond;
};

int64_t tk_run_deadline(const struct tk_runctx *ctx)
{
	return ctx->deadline;
}

int tk_run_remaining_ms(const struct tk_runctx *ctx, int cap_ms)
{
	int64_t left = ctx->deadline - tk_now_ms();
	if (left < 0)
		left = 0;
	if (cap_ms > 0 && left > cap_ms)
		left = cap_ms;
	return (int)left;
}

bool tk_run_cancelled(const struct tk_runctx *ctx)
{
	return tk_stop_requested || atomic_load(&((struct tk_runctx *)ctx)->cancel) ||
	       tk_now_ms() >= ctx->deadline;
}

const char *tk_run_probe(const struct tk_runctx *ctx)
{
	return ctx->probe_name;
}

cJSON *tk_obs_new(const struct tk_runctx *ctx, const char *kind, const char *target)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	if (!cJSON_AddStringToObject(o, "probe", ctx->probe_name) ||
	    !cJSON_AddStringToObject(o, "target", target ? target : "") ||
	    !cJSON_AddStringToObject(o, "kind", kind)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

int tk_emit(struct tk_runctx *ctx, cJSON *obs)
{
	int rc = TK_OK;
	if (!obs)
		return TK_ERR_NOMEM;
	pthread_mutex_lock(&ctx->lock);
	if (ctx->closed) {
		cJSON_Delete(obs);
		rc = TK_ERR_CANCELLED;
	} else {
		cJSON_AddItemToArray(ctx->observations, obs);
	}
	pthread_mutex_unlock(&ctx->lock);
	return rc;
}

static cJSON *error_obs(const char *probe, const char *target, int rc, const char *msg)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "probe", probe);
	cJSON_AddStringToObject(o, "target", target ? target : "");
	cJSON_AddStringToObject(o, "kind", "error");
	cJSON_AddStringToObject(o, "error", tk_rc_name(rc));
	cJSON_AddStringToObject(o, "message", msg);
	return o;
}

int tk_emit_error(struct tk_runctx *ctx, const char *target, int rc, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	tk_emit(ctx, error_obs(ctx->probe_name, target, rc, msg));
	return TK_OK;
}

static struct tk_runctx *ctx_new(const struct tk_probe *probe, void *state, int timeout_ms)
{
	struct tk_runctx *ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return NULL;
	ctx->probe_name = probe->name;
	ctx->probe = probe;
	ctx->state = state;
	ctx->deadline = tk_now_ms() + timeout_ms;
	atomic_init(&ctx->cancel, 0);
	atomic_init(&ctx->finished, 0);
	pthread_mutex_init(&ctx->lock, NULL);
	ctx->observations = cJSON_CreateArray();
	if (!ctx->observations) {
		free(ctx);
		return NULL;
	}
	return ctx;
}

static void ctx_free(struct tk_runctx *ctx)
{
	if (!ctx)
		return;
	cJSON_Delete(ctx->observations);
	pthread_mutex_destroy(&ctx->lock);
	free(ctx);
}

static void *probe_thread(void *arg)
{
	struct tk_runctx *ctx = arg;
	ctx->rc = ctx->probe->run(ctx->state, ctx, &ctx->err);
	pthread_mutex_lock(ctx->done_lock);
	atomic_store(&ctx->finished, 1);
	pthread_cond_broadcast(ctx->done_cond);
	pthread_mutex_unlock(ctx->done_lock);
	return NULL;
}

const char *tk_probe_status_name(enum tk_probe_status s)
{
	switch (s) {
	case TK_PROBE_OK:
		return "ok";
	case TK_PROBE_ERROR:
		return "error";
	case TK_PROBE_TIMEOUT:
		return "timeout";
	case TK_PROBE_CANCELLED:
		return "cancelled";
	}
	return "unknown";
}

static bool target_observed(const cJSON *observations, const char *target)
{
	const cJSON *o;
	cJSON_ArrayForEach(o, observations)
	{
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "target");
		if (cJSON_IsString(t) && strcmp(t->valuestring, target) == 0)
			return true;
	}
	return false;
}

/* Move the context's observations into run and add errors for unobserved targets. */
static void collect(struct tk_probe_run *run, struct tk_runctx *ctx, int rc, const char *msg)
{
	const cJSON *t;
	pthread_mutex_lock(&ctx->lock);
	run->observations = ctx->observations;
	ctx->observations = NULL;
	ctx->closed = true;
	pthread_mutex_unlock(&ctx->lock);
	if (!run->observations)
		run->observations = cJSON_CreateArray();
	if (run->status == TK_PROBE_OK)
		return;
	snprintf(run->error, sizeof(run->error), "%s", msg);
	cJSON_ArrayForEach(t, run->targets)
	{
		if (!cJSON_IsString(t) || target_observed(run->observations, t->valuestring))
			continue;
		cJSON_AddItemToArray(run->observations, error_obs(run->probe->name, t->valuestring, rc, msg));
	}
	if (cJSON_GetArraySize(run->targets) == 0)
		cJSON_AddItemToArray(run->observations, error_obs(run->probe->name, "*", rc, msg));
}

int tk_run_probes(struct tk_probe_run *runs, size_t n, struct tk_err *err)
{
	return tk_run_probes_progress(runs, n, NULL, NULL, err);
}

int tk_run_probes_progress(struct tk_probe_run *runs, size_t n, tk_run_progress_fn progress, void *arg,
			   struct tk_err *err)
{
	/* Heap-allocated: an abandoned thread signals them after we return. */
	struct sync {
		pthread_mutex_t lock;
		pthread_cond_t cond;
	} *sync = NULL;
	pthread_condattr_t ca;
	bool any_abandoned = false;
	struct tk_runctx **ctxs = NULL;
	pthread_t *threads = NULL;
	bool *started = NULL, *handled = NULL;
	int64_t *start_ms = NULL;
	size_t i, left = 0;
	int rc = TK_OK;
	int64_t t0 = tk_now_ms();

	sync = calloc(1, sizeof(*sync));
	if (!sync)
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	pthread_mutex_init(&sync->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&sync->cond, &ca);
	pthread_condattr_destroy(&ca);

	ctxs = calloc(n ? n : 1, sizeof(*ctxs));
	threads = calloc(n ? n : 1, sizeof(*threads));
	started = calloc(n ? n : 1, sizeof(*started));
	handled = calloc(n ? n : 1, sizeof(*handled));
	start_ms = calloc(n ? n : 1, sizeof(*start_ms));
	if (!ctxs || !threads || !started || !handled || !start_ms) {
		rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		runs[i].targets = cJSON_CreateArray();
		runs[i].status = TK_PROBE_OK;
		if (runs[i].probe->targets)
			runs[i].probe->targets(runs[i].state, runs[i].targets);
		ctxs[i] = ctx_new(runs[i].probe, runs[i].state, runs[i].timeout_ms);
		if (!ctxs[i] || !runs[i].targets) {
			rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
			goto out;
		}
		ctxs[i]->done_lock = &sync->lock;
		ctxs[i]->done_cond = &sync->cond;
		start_ms[i] = tk_now_ms();
		if (pthread_create(&threads[i], NULL, probe_thread, ctxs[i]) != 0) {
			runs[i].status = TK_PROBE_ERROR;
			collect(&runs[i], ctxs[i], TK_ERR_INTERNAL, "cannot start probe thread");
			handled[i] = true;
			continue;
		}
		started[i] = true;
		left++;
	}

	pthread_mutex_lock(&sync->lock);
	while (left > 0) {
		int64_t now = tk_now_ms(), wake = now + 200;
		for (i = 0; i < n; i++) {
			struct tk_runctx *c = ctxs[i];
			if (handled[i] || !started[i])
				continue;
			if (atomic_load(&c->finished)) {
				pthread_mutex_unlock(&sync->lock);
				pthread_join(threads[i], NULL);
				runs[i].duration_ms = tk_now_ms() - start_ms[i];
				if (c->rc == TK_OK) {
					runs[i].status = TK_PROBE_OK;
					collect(&runs[i], c, TK_OK, "");
				} else {
					runs[i].status = c->rc == TK_ERR_TIMEOUT     ? TK_PROBE_TIMEOUT
							 : c->rc == TK_ERR_CANCELLED ? TK_PROBE_CANCELLED
										     : TK_PROBE_ERROR;
					collect(&runs[i], c, c->rc,
						c->err.msg[0] ? c->err.msg : tk_strerror(c->rc));
				}
				pthread_mutex_lock(&sync->lock);
				handled[i] = true;
				left--;
				continue;
			}
			if (tk_stop_requested)
				atomic_store(&c->cancel, 1);
			if (now >= c->deadline + TK_PROBE_GRACE_MS) {
				/* Overran its deadline and its grace: abandon the thread. */
				char msg[256];
				pthread_detach(threads[i]);
				runs[i].duration_ms = now - start_ms[i];
				runs[i].status = tk_stop_requested ? TK_PROBE_CANCELLED : TK_PROBE_TIMEOUT;
				runs[i].abandoned = true;
				snprintf(msg, sizeof(msg), "probe %s did not finish within %d ms",
					 runs[i].probe->name, runs[i].timeout_ms);
				collect(&runs[i], c, TK_ERR_TIMEOUT, msg);
				ctxs[i] = NULL; /* leaked on purpose: the thread may still touch it */
				any_abandoned = true;
				handled[i] = true;
				left--;
				continue;
			}
			if (now >= c->deadline)
				atomic_store(&c->cancel, 1);
			else if (c->deadline < wake)
				wake = c->deadline;
		}
		if (left == 0)
			break;
		if (progress) {
			pthread_mutex_unlock(&sync->lock);
			progress(arg, runs, handled, n, tk_now_ms() - t0);
			pthread_mutex_lock(&sync->lock);
			if (wake > tk_now_ms() + 200)
				wake = tk_now_ms() + 200;
		}
		{
			struct timespec ts;
			ts.tv_sec = (time_t)(wake / 1000);
			ts.tv_nsec = (long)(wake % 1000) * 1000000L;
			pthread_cond_timedwait(&sync->cond, &sync->lock, &ts);
		}
	}
	pthread_mutex_unlock(&sync->lock);
	if (progress)
		progress(arg, runs, handled, n, tk_now_ms() - t0);
out:
	for (i = 0; ctxs && i < n; i++)
		if (ctxs[i] && (!started || !started[i] || handled[i]))
			ctx_free(ctxs[i]);
	free(ctxs);
	free(threads);
	free(started);
	free(handled);
	free(start_ms);
	if (!any_abandoned) {
		pthread_cond_destroy(&sync->cond);
		pthread_mutex_destroy(&sync->lock);
		free(sync);
	} /* else: an abandoned thread may still signal it; leaked on purpose */
	return rc;
}

void tk_probe_runs_free(struct tk_probe_run *runs, size_t n)
{
	size_t i;
	for (i = 0; runs && i < n; i++) {
		cJSON_Delete(runs[i].observations);
		cJSON_Delete(runs[i].targets);
		if (!runs[i].abandoned && runs[i].probe && runs[i].probe->free_state)
			runs[i].probe->free_state(runs[i].state);
	}
	free(runs);
}

int tk_run_probe_inline(const struct tk_probe *probe, void *state, int timeout_ms, cJSON **out,
			struct tk_err *err)
{
	struct tk_runctx *ctx = ctx_new(probe, state, timeout_ms);
	int rc;
	*out = NULL;
	if (!ctx)
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	rc = probe->run(state, ctx, err);
	*out = ctx->observations;
	ctx->observations = NULL;
	ctx_free(ctx);
	return rc;
}
