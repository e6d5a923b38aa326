/* testutil.c - helpers shared by the cmocka tests. */
#define _XOPEN_SOURCE 700
#include "testutil.h"
#include "csvparse.h"
#include "data.h"
#include "probe.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

char *tk_test_tmpdir(void)
{
	char tmpl[] = "/tmp/tenken-test-XXXXXX";
	char *d = mkdtemp(tmpl);
	assert_non_null(d);
	return strdup(d);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void tk_test_rmtree(const char *dir)
{
	if (dir)
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *tk_test_write(const char *dir, const char *name, const char *text)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *path = malloc(n);
	FILE *f;
	assert_non_null(path);
	snprintf(path, n, "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

cJSON *tk_test_json(const char *text)
{
	cJSON *j = cJSON_Parse(text);
	if (!j)
		fail_msg("test JSON does not parse: %s", text);
	return j;
}

cJSON *tk_test_csv(const char *text)
{
	cJSON *rows = NULL;
	struct tk_err err = {0};
	if (tk_csv_parse("t.csv", text, strlen(text), &rows, &err) != TK_OK)
		fail_msg("test CSV does not parse: %s", err.msg);
	return rows;
}

const char *tk_test_cell(const cJSON *rows, int r, int c)
{
	return cJSON_GetArrayItem(cJSON_GetArrayItem(rows, r), c)->valuestring;
}

int tk_test_run(char *const argv[], const char *out_file)
{
	pid_t pid = fork();
	int st = 0;
	assert_true(pid >= 0);
	if (pid == 0) {
		if (out_file) {
			int fd = open(out_file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			if (fd >= 0) {
				dup2(fd, 1);
				dup2(fd, 2);
			}
		}
		execv(argv[0], argv);
		_exit(127);
	}
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Config contexts in tests read the rules data set as the binary's do (agent/main.c). */
__attribute__((constructor)) static void tk_test_data_reader(void)
{
	tk_cfg_set_data_reader(tk_dataset_read);
}
