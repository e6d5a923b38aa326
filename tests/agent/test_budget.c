/* test_budget.c - the per-host politeness budget: concurrency cap, rate, deadlines, isolation. */
#include "testutil.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "budget.h"

static atomic_int inflight, worst;

static void *worker(void *arg)
{
	int i;
	(void)arg;
	for (i = 0; i < 10; i++) {
		int now;
		assert_int_equal(tk_budget_acquire("10.9.9.9", tk_now_ms() + 10000), TK_OK);
		now = atomic_fetch_add(&inflight, 1) + 1;
		if (now > atomic_load(&worst))
			atomic_store(&worst, now);
		usleep(2000);
		atomic_fetch_sub(&inflight, 1);
		tk_budget_release("10.9.9.9");
	}
	return NULL;
}

static void test_concurrency_cap(void **state)
{
	pthread_t t[12];
	int i;
	(void)state;
	tk_budget_set(3, 100000);
	for (i = 0; i < 12; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	for (i = 0; i < 12; i++)
		pthread_join(t[i], NULL);
	assert_true(atomic_load(&worst) <= 3);
	assert_int_equal(tk_budget_peak("10.9.9.9"), 3);
}

static void test_rate(void **state)
{
	int64_t t0;
	int i;
	(void)state;
	tk_budget_set(100, 20); /* 20 per second, burst 20 */
	tk_budget_set_burst(1);  /* the burst is never below one second's worth */
	t0 = tk_now_ms();
	for (i = 0; i < 40; i++) {
		assert_int_equal(tk_budget_acquire("10.8.8.8", tk_now_ms() + 10000), TK_OK);
		tk_budget_release("10.8.8.8");
	}
	/* 20 from the burst, 20 more at 20/s: about a second */
	assert_true(tk_now_ms() - t0 >= 900);
	assert_true(tk_now_ms() - t0 < 3000);
}

/*
 * The bucket: a burst of B connections at once, then the sustained rate.
 * Asserted on the budget's own accounting (non-blocking tries) and on lower
 * bounds of elapsed time only, so a loaded machine cannot break it.
 */
static void test_burst_then_sustained(void **state)
{
	int64_t t0;
	int i, got = 0;
	(void)state;
	tk_budget_set(1000, 1); /* 1 per second sustained */
	tk_budget_set_burst(40);
	assert_int_equal(tk_budget_get_burst(), 40);
	for (i = 0; i < 60; i++) {
		if (tk_budget_try_acquire("10.6.6.6") == TK_OK) {
			got++;
			tk_budget_release("10.6.6.6");
		}
	}
	/* exactly the burst (plus at most one token if a second went by on a very loaded machine) */
	assert_true(got >= 40 && got <= 41);
	/* sustained: 10 connections after the burst at 20/s take at least ~0.5 s */
	tk_budget_set(1000, 20);
	tk_budget_set_burst(20);
	for (i = 0; i < 30; i++)
		if (tk_budget_try_acquire("10.6.6.7") == TK_OK)
			tk_budget_release("10.6.6.7");
	t0 = tk_now_ms();
	for (i = 0; i < 10; i++) {
		assert_int_equal(tk_budget_acquire("10.6.6.7", tk_now_ms() + 10000), TK_OK);
		tk_budget_release("10.6.6.7");
	}
	assert_true(tk_now_ms() - t0 >= 450);
	/* the default: a full TLS assessment (about 110 connections) fits the burst, 50/s after it */
	tk_budget_set(TK_BUDGET_DEFAULT_CONNS, TK_BUDGET_DEFAULT_RATE);
	tk_budget_set_burst(TK_BUDGET_DEFAULT_BURST);
	got = 0;
	for (i = 0; i < 400; i++) {
		if (tk_budget_try_acquire("10.6.6.8") == TK_OK) {
			got++;
			tk_budget_release("10.6.6.8");
		}
	}
	assert_true(got >= TK_BUDGET_DEFAULT_BURST && got < TK_BUDGET_DEFAULT_BURST + 50);
}

static void test_deadline_and_isolation(void **state)
{
	(void)state;
	tk_budget_set(1, 1000);
	assert_int_equal(tk_budget_acquire("10.7.7.7", tk_now_ms() + 1000), TK_OK);
	assert_int_equal(tk_budget_try_acquire("10.7.7.7"), TK_ERR_LIMIT);
	assert_int_equal(tk_budget_acquire("10.7.7.7", tk_now_ms() + 100), TK_ERR_TIMEOUT);
	/* another host is not held up */
	assert_int_equal(tk_budget_try_acquire("10.7.7.8"), TK_OK);
	tk_budget_release("10.7.7.8");
	tk_budget_release("10.7.7.7");
	assert_int_equal(tk_budget_try_acquire("10.7.7.7"), TK_OK);
	tk_budget_release("10.7.7.7");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_concurrency_cap),
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_burst_then_sustained),
		cmocka_unit_test(test_deadline_and_isolation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
