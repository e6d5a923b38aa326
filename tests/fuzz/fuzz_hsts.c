/* fuzz_hsts.c - the Strict-Transport-Security parser on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>

#include "hsts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tk_hsts h;
	tk_hsts_parse((const char *)data, size, &h);
	if (h.valid && h.max_age > 9007199254740992ULL)
		__builtin_trap();
	return 0;
}
