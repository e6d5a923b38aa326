/* testutil.h - helpers shared by the cmocka tests. */
#ifndef TK_TESTUTIL_H
#define TK_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

/* A fresh temporary directory (malloc'd path), removed by tk_test_rmtree. */
char *tk_test_tmpdir(void);
void tk_test_rmtree(const char *dir);
/* Write text to dir/name; returns the malloc'd path. */
char *tk_test_write(const char *dir, const char *name, const char *text);
/* Parse JSON or fail the test. */
cJSON *tk_test_json(const char *text);
/* Parse CSV text (rules/csvparse.c) or fail the test; cell r,c of the rows. */
cJSON *tk_test_csv(const char *text);
const char *tk_test_cell(const cJSON *rows, int r, int c);
/* Run a shell-free command (argv) and return its exit status; stdout to out_file if not NULL. */
int tk_test_run(char *const argv[], const char *out_file);

#endif
