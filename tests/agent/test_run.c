/*
 * test_run.c - the probe runner: probes run concurrently, each under its own
 * deadline; a probe that errors or overruns yields error observations for
 * its targets and never holds up the others. The probes here exist only in
 * this test (the product ships none that pretend).
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run.h"

struct fake {
	const char *mode; /* "ok", "fail", "hang", "polite" */
	const char *targets[3];
};

static int fake_targets(const void *state, cJSON *list)
{
	const struct fake *f = state;
	size_t i;
	for (i = 0; i < 3 && f->targets[i]; i++)
		cJSON_AddItemToArray(list, cJSON_CreateString(f->targets[i]));
	return TK_OK;
}

static int fake_run(void *state, struct tk_runctx *ctx, struct tk_err *err)
{
	struct fake *f = state;
	if (strcmp(f->mode, "ok") == 0) {
		cJSON *o = tk_obs_new(ctx, "thing", f->targets[0]);
		cJSON_AddNumberToObject(o, "value", 7);
		tk_emit(ctx, o);
		return TK_OK;
	}
	if (strcmp(f->mode, "fail") == 0) {
		/* observed the first target, then broke */
		tk_emit(ctx, tk_obs_new(ctx, "thing", f->targets[0]));
		return tk_seterr(err, TK_ERR_PROTOCOL, "peer sent nonsense");
	}
	if (strcmp(f->mode, "polite") == 0) {
		while (!tk_run_cancelled(ctx))
			usleep(10000);
		return tk_seterr(err, TK_ERR_TIMEOUT, "stopped at the deadline");
	}
	/* "hang": ignores cancellation for far longer than deadline + grace */
	sleep(30);
	return TK_OK;
}

static const struct tk_probe fake_probe = {
	.name = "fake", .summary = "test only", .targets = fake_targets, .run = fake_run,
};

static const cJSON *obs_for(const struct tk_probe_run *r, const char *target)
{
	const cJSON *o;
	cJSON_ArrayForEach(o, r->observations)
	{
		if (strcmp(cJSON_GetObjectItemCaseSensitive(o, "target")->valuestring, target) == 0)
			return o;
	}
	return NULL;
}

static const char *kind(const cJSON *o)
{
	return cJSON_GetObjectItemCaseSensitive(o, "kind")->valuestring;
}

static void test_mixed_probes(void **state)
{
	struct fake ok = {"ok", {"a", NULL}}, fail = {"fail", {"b1", "b2", NULL}};
	struct fake hang = {"hang", {"c", NULL}}, polite = {"polite", {"d", NULL}};
	struct tk_probe_run *runs = calloc(4, sizeof(*runs));
	struct tk_err err = {0};
	int64_t t0 = tk_now_ms(), elapsed;
	(void)state;
	runs[0] = (struct tk_probe_run){.probe = &fake_probe, .state = &ok, .timeout_ms = 5000};
	runs[1] = (struct tk_probe_run){.probe = &fake_probe, .state = &fail, .timeout_ms = 5000};
	runs[2] = (struct tk_probe_run){.probe = &fake_probe, .state = &hang, .timeout_ms = 300};
	runs[3] = (struct tk_probe_run){.probe = &fake_probe, .state = &polite, .timeout_ms = 300};
	assert_int_equal(tk_run_probes(runs, 4, &err), TK_OK);
	elapsed = tk_now_ms() - t0;
	/* the hung probe is abandoned after its deadline plus the grace, not 30 s */
	assert_true(elapsed < 300 + TK_PROBE_GRACE_MS + 1500);

	assert_int_equal(runs[0].status, TK_PROBE_OK);
	assert_string_equal(kind(obs_for(&runs[0], "a")), "thing");
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(obs_for(&runs[0], "a"), "value")->valueint, 7);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(obs_for(&runs[0], "a"), "probe")->valuestring, "fake");

	/* failed probe: what it observed stays, unobserved targets get error observations */
	assert_int_equal(runs[1].status, TK_PROBE_ERROR);
	assert_string_equal(kind(obs_for(&runs[1], "b1")), "thing");
	assert_string_equal(kind(obs_for(&runs[1], "b2")), "error");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(obs_for(&runs[1], "b2"), "error")->valuestring,
			    "protocol");
	assert_non_null(
	    strstr(cJSON_GetObjectItemCaseSensitive(obs_for(&runs[1], "b2"), "message")->valuestring, "nonsense"));

	assert_int_equal(runs[2].status, TK_PROBE_TIMEOUT);
	assert_true(runs[2].abandoned);
	assert_string_equal(kind(obs_for(&runs[2], "c")), "error");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(obs_for(&runs[2], "c"), "error")->valuestring, "timeout");

	/* a polite probe returns at its deadline and is not abandoned */
	assert_int_equal(runs[3].status, TK_PROBE_TIMEOUT);
	assert_false(runs[3].abandoned);
	assert_string_equal(kind(obs_for(&runs[3], "d")), "error");
	assert_true(runs[3].duration_ms < 300 + 500);
	/* state is on the stack: free_state is NULL, so this frees only the runner's data */
	tk_probe_runs_free(runs, 4);
}

static void test_inline_run(void **state)
{
	struct fake ok = {"ok", {"x", NULL}};
	cJSON *obs = NULL;
	struct tk_err err = {0};
	(void)state;
	assert_int_equal(tk_run_probe_inline(&fake_probe, &ok, 1000, &obs, &err), TK_OK);
	assert_int_equal(cJSON_GetArraySize(obs), 1);
	cJSON_Delete(obs);
}

static void test_escape_and_fingerprint(void **state)
{
	char *e;
	char fp[24];
	(void)state;
	e = tk_escape_bytes("ab\r\n\x01\xff日本", 12, 100);
	assert_string_equal(e, "ab\\r\\n\\x01\\xff日本");
	free(e);
	e = tk_escape_bytes("0123456789", 10, 4);
	assert_string_equal(e, "0123...");
	free(e);
	tk_fingerprint("secret", 6, fp);
	assert_string_equal(fp, "sha256:2bb80d537b1d");
}

static void test_bounded_buffer(void **state)
{
	struct tk_buf b;
	(void)state;
	tk_buf_init(&b, 8);
	assert_int_equal(tk_buf_puts(&b, "12345678"), TK_OK);
	assert_int_equal(tk_buf_puts(&b, "9"), TK_ERR_LIMIT);
	assert_int_equal(b.len, 8);
	assert_string_equal(b.data, "12345678");
	tk_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mixed_probes),
		cmocka_unit_test(test_inline_run),
		cmocka_unit_test(test_escape_and_fingerprint),
		cmocka_unit_test(test_bounded_buffer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
