/* fuzz_cvss.c - CVSS vector parsing and scoring on arbitrary bytes. */
#include <stdint.h>

#include "cvss.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tk_cvss c;
	const char *why;
	if (tk_cvss_parse((const char *)data, size, &c, &why) == 0) {
		if (c.version != TK_CVSS_V40 && (c.base < 0 || c.base > 10))
			__builtin_trap();
	} else if (!why) {
		__builtin_trap();
	}
	return 0;
}
