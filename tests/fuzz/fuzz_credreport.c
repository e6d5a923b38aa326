/* fuzz_credreport.c - the IAM credential report CSV parser on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "credreport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tk_credreport *r = NULL;
	struct tk_err err = {0};
	size_t i;
	if (tk_credreport_parse((const char *)data, size, &r, &err) == TK_OK) {
		if (r->root >= (long)r->n || (r->root >= 0 && !r->users[r->root].is_root))
			__builtin_trap();
		for (i = 0; i < r->n; i++)
			if (!r->users[i].user || strlen(r->users[i].user) > 512 + 8)
				__builtin_trap();
	}
	tk_credreport_free(r);
	return 0;
}
