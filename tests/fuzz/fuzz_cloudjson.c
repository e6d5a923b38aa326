/* fuzz_cloudjson.c - Graph and Directory administrator parsers on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cloudjson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tk_admins a;
	struct tk_err err = {0};
	char *next = NULL;
	const char *p = (const char *)data;
	memset(&a, 0, sizeof(a));
	tk_graph_members_parse(p, size, &a, &next, &err);
	free(next);
	next = NULL;
	tk_graph_regdetails_parse(p, size, &a, &next, &err);
	free(next);
	next = NULL;
	tk_graph_export_parse(p, size, &a, &err);
	tk_directory_users_parse(p, size, &a, &next, &err);
	free(next);
	tk_directory_export_parse(p, size, &a, &err);
	if (a.n > a.cap)
		__builtin_trap();
	tk_admins_clear(&a);
	return 0;
}
