/* budget.c - per-host concurrency and rate limits (token bucket: burst, then rate), process-wide. */
#include "budget.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"

#define MAX_HOSTS 65536
#define HOST_LEN 64

struct host {
	char name[HOST_LEN];
	int inflight;
	int peak;
	double tokens;
	int64_t last_ms;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static struct host *table;      /* open addressing, MAX_HOSTS slots */
static int max_conns = TK_BUDGET_DEFAULT_CONNS;
static double rate = TK_BUDGET_DEFAULT_RATE;
static int burst_cfg = TK_BUDGET_DEFAULT_BURST;
static int peak_any;

void tk_budget_set(int conns, double per_second)
{
	pthread_mutex_lock(&lock);
	if (conns > 0)
		max_conns = conns;
	if (per_second > 0)
		rate = per_second;
	pthread_cond_broadcast(&changed);
	pthread_mutex_unlock(&lock);
}

void tk_budget_get(int *conns, double *per_second)
{
	pthread_mutex_lock(&lock);
	*conns = max_conns;
	*per_second = rate;
	pthread_mutex_unlock(&lock);
}

void tk_budget_set_burst(int b)
{
	pthread_mutex_lock(&lock);
	if (b > 0)
		burst_cfg = b;
	pthread_mutex_unlock(&lock);
}

int tk_budget_get_burst(void)
{
	int b;
	pthread_mutex_lock(&lock);
	b = burst_cfg;
	pthread_mutex_unlock(&lock);
	return b;
}

/* Called with the lock held: the bucket's depth. */
static double depth(void)
{
	double b = (double)burst_cfg;
	if (b < rate)
		b = rate;
	return b < 1 ? 1 : b;
}

static uint32_t fnv(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* Called with the lock held; NULL when the table is full. */
static struct host *find(const char *name)
{
	uint32_t i, h;
	if (!table && !(table = calloc(MAX_HOSTS, sizeof(*table))))
		return NULL;
	h = fnv(name);
	for (i = 0; i < MAX_HOSTS; i++) {
		struct host *e = &table[(h + i) % MAX_HOSTS];
		if (!e->name[0]) {
			tk_strlcpy(e->name, name, sizeof(e->name));
			e->tokens = depth();
			e->last_ms = tk_now_ms();
			return e;
		}
		if (strncmp(e->name, name, HOST_LEN - 1) == 0)
			return e;
	}
	return NULL;
}

static void refill(struct host *e, int64_t now)
{
	double burst = depth();
	e->tokens += (double)(now - e->last_ms) * rate / 1000.0;
	if (e->tokens > burst)
		e->tokens = burst;
	e->last_ms = now;
}

static bool take(struct host *e)
{
	refill(e, tk_now_ms());
	if (e->inflight >= max_conns || e->tokens < 1.0)
		return false;
	e->tokens -= 1.0;
	e->inflight++;
	if (e->inflight > e->peak)
		e->peak = e->inflight;
	if (e->inflight > peak_any)
		peak_any = e->inflight;
	return true;
}

int tk_budget_try_acquire(const char *host)
{
	struct host *e;
	int rc;
	pthread_mutex_lock(&lock);
	e = find(host);
	rc = !e ? TK_ERR_LIMIT : take(e) ? TK_OK : TK_ERR_LIMIT;
	pthread_mutex_unlock(&lock);
	return rc;
}

int tk_budget_acquire(const char *host, int64_t deadline_ms)
{
	struct host *e;
	int rc = TK_OK;
	pthread_mutex_lock(&lock);
	e = find(host);
	while (e && !take(e)) {
		int64_t now = tk_now_ms(), wait_ms;
		struct timespec ts;
		if (tk_stop_requested) {
			rc = TK_ERR_CANCELLED;
			break;
		}
		if (now >= deadline_ms) {
			rc = TK_ERR_TIMEOUT;
			break;
		}
		/* wake when a slot frees, a token is due, or at most every 50 ms */
		wait_ms = e->inflight >= max_conns ? 50 : (int64_t)((1.0 - e->tokens) * 1000.0 / rate) + 1;
		if (wait_ms > 50)
			wait_ms = 50;
		if (now + wait_ms > deadline_ms)
			wait_ms = deadline_ms - now;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += (long)wait_ms * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&changed, &lock, &ts);
	}
	if (!e)
		rc = TK_ERR_LIMIT;
	pthread_mutex_unlock(&lock);
	return rc;
}

void tk_budget_release(const char *host)
{
	struct host *e;
	pthread_mutex_lock(&lock);
	e = find(host);
	if (e && e->inflight > 0)
		e->inflight--;
	pthread_cond_broadcast(&changed);
	pthread_mutex_unlock(&lock);
}

int tk_budget_peak(const char *host)
{
	struct host *e;
	int p;
	pthread_mutex_lock(&lock);
	e = find(host);
	p = e ? e->peak : 0;
	pthread_mutex_unlock(&lock);
	return p;
}

int tk_budget_peak_any(void)
{
	int p;
	pthread_mutex_lock(&lock);
	p = peak_any;
	pthread_mutex_unlock(&lock);
	return p;
}
