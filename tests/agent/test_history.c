/* test_reports_history.c - the history store's C API: state directory
 * precedence, storing, listing, loading, the chain, and verification. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "history.h"

static void test_state_dir_precedence(void **state)
{
	struct tk_err err = {0};
	char *d = NULL;
	(void)state;
	setenv("TENKEN_STATE_DIR", "/env/state", 1);
	setenv("XDG_STATE_HOME", "/xdg", 1);
	setenv("HOME", "/home/u", 1);
	assert_int_equal(tk_history_state_dir("/opt/dir", &d, &err), TK_OK);
	assert_string_equal(d, "/opt/dir");
	free(d);
	assert_int_equal(tk_history_state_dir(NULL, &d, &err), TK_OK);
	assert_string_equal(d, "/env/state");
	free(d);
	unsetenv("TENKEN_STATE_DIR");
	assert_int_equal(tk_history_state_dir(NULL, &d, &err), TK_OK);
	assert_string_equal(d, "/xdg/tenken");
	free(d);
	setenv("XDG_STATE_HOME", "relative", 1); /* not absolute: ignored, as the XDG spec says */
	assert_int_equal(tk_history_state_dir(NULL, &d, &err), TK_OK);
	assert_string_equal(d, "/home/u/.local/state/tenken");
	free(d);
	unsetenv("XDG_STATE_HOME");
	unsetenv("HOME");
	assert_int_equal(tk_history_state_dir(NULL, &d, &err), TK_ERR_USAGE);
	assert_null(d);
}

static void store(struct tk_history *h, const char *partner, const char *run_id, int fails)
{
	struct tk_history_link link;
	struct tk_err err = {0};
	char text[512];
	cJSON *rep;
	snprintf(text, sizeof(text),
		 "{\"run_id\":\"%s\",\"mode\":\"scan\",\"started_at\":\"2026-01-01T00:00:00Z\","
		 "\"summary\":{\"items\":{\"fail\":%d,\"pass\":1}},\"gate\":{\"verdict\":\"%s\"},\"complete\":true}",
		 run_id, fails, fails ? "fail" : "pass");
	rep = tk_test_json(text);
	assert_int_equal(tk_history_begin(h, partner, &link, &err), TK_OK);
	assert_int_equal(tk_history_commit(h, partner, &link, text, strlen(text), rep, NULL, &err), TK_OK);
	cJSON_Delete(rep);
}

static void test_store_list_verify(void **state)
{
	char *dir = tk_test_tmpdir(), path[4096];
	struct tk_history *h = NULL;
	struct tk_history_link link;
	struct tk_err err = {0};
	struct stat sb;
	cJSON *rows = NULL, *rep = NULL;
	long long seq = 0;
	int n = 0;
	FILE *devnull = fopen("/dev/null", "w");
	(void)state;

	assert_int_equal(tk_history_open(dir, false, &h, &err), TK_ERR_NOTFOUND);
	assert_int_equal(tk_history_open(dir, true, &h, &err), TK_OK);
	snprintf(path, sizeof(path), "%s/key/ed25519.pem", dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);

	store(h, "p/1 odd id", "run-a", 2);
	store(h, "p/1 odd id", "run-b", 0);
	store(h, "other", "run-c", 1);
	assert_int_equal(tk_history_list(h, "p/1 odd id", 0, 0, &rows, &err), TK_OK);
	assert_int_equal(cJSON_GetArraySize(rows), 2);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(rows, 1), "run_id")->valuestring, "run-b");
	assert_int_equal(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(rows, 0), "items"), "fail")->valueint, 2);
	/* an odd partner id is stored under a hashed directory name, never as a path */
	assert_non_null(strstr(cJSON_GetObjectItem(cJSON_GetArrayItem(rows, 0), "file")->valuestring, "reports/x-"));
	cJSON_Delete(rows);

	/* the next link names the last stored report */
	assert_int_equal(tk_history_begin(h, "p/1 odd id", &link, &err), TK_OK);
	assert_int_equal(link.seq, 3);
	assert_int_equal(link.prev_seq, 2);
	assert_string_equal(link.prev_run_id, "run-b");
	assert_int_equal(strlen(link.prev_sha256), 64);
	tk_history_abort(h);

	assert_int_equal(tk_history_find(h, "p/1 odd id", "run-a", &seq, &err), TK_OK);
	assert_int_equal(seq, 1);
	assert_int_equal(tk_history_find(h, "p/1 odd id", "nope", &seq, &err), TK_ERR_NOTFOUND);
	assert_int_equal(tk_history_load(h, "p/1 odd id", -1, &rep, &seq, &err), TK_OK);
	assert_int_equal(seq, 1);
	assert_string_equal(cJSON_GetObjectItem(rep, "run_id")->valuestring, "run-a");
	cJSON_Delete(rep);

	assert_int_equal(tk_history_verify(h, "p/1 odd id", devnull, &n, &err), TK_OK);
	assert_int_equal(n, 2);
	assert_int_equal(tk_history_verify(h, "nobody", devnull, &n, &err), TK_ERR_NOTFOUND);

	/* change the first report by one byte: verify fails and says modified */
	assert_int_equal(tk_history_list(h, "p/1 odd id", 1, 0, &rows, &err), TK_OK);
	snprintf(path, sizeof(path), "%s/%s", dir, cJSON_GetObjectItem(cJSON_GetArrayItem(rows, 0), "file")->valuestring);
	cJSON_Delete(rows);
	{
		FILE *f = fopen(path, "r+");
		assert_non_null(f);
		fseek(f, 10, SEEK_SET);
		fputc('X', f);
		fclose(f);
	}
	assert_int_equal(tk_history_verify(h, "p/1 odd id", devnull, &n, &err), TK_ERR_VERIFY);
	assert_non_null(strstr(err.msg, "problem"));
	assert_int_equal(tk_history_verify(h, "other", devnull, &n, &err), TK_OK);

	tk_history_close(h);
	tk_history_close(NULL);
	fclose(devnull);
	tk_test_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_dir_precedence),
		cmocka_unit_test(test_store_list_verify),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
