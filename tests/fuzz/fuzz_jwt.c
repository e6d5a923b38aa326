/* fuzz_jwt.c - JWT decoding and base64 on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "jwt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tk_jwt j;
	unsigned char out[256];
	size_t ol;
	char why[64];
	if (tk_jwt_decode((const char *)data, size, &j, why, sizeof(why)) == 0) {
		/* decoded strings are bounded and terminated */
		if (strlen(j.alg) >= sizeof(j.alg) || strlen(j.iss) >= sizeof(j.iss) || strlen(j.typ) >= sizeof(j.typ))
			__builtin_trap();
		(void)tk_jwt_lifetime(&j);
	}
	if (tk_b64_decode((const char *)data, size, TK_B64_ANY, out, sizeof(out), &ol) && ol > sizeof(out))
		__builtin_trap();
	return 0;
}
