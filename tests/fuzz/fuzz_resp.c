/* fuzz_resp.c - the RESP2 reply parser on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>

#include "resp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tk_resp *r = NULL;
	size_t used = 0;
	int rc = tk_resp_parse((const char *)data, size, 4096, &r, &used);
	if (rc == TK_OK && (used == 0 || used > size || !r))
		__builtin_trap();
	if (rc != TK_OK && r)
		__builtin_trap();
	tk_resp_free(r);
	return 0;
}
