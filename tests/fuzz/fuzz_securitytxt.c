/* fuzz_securitytxt.c - the RFC 9116 security.txt parser on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "securitytxt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tk_sectxt s;
	unsigned i;
	tk_sectxt_parse((const char *)data, size, 1796000000, &s);
	if (s.nerrors > TK_SECTXT_ERRORS_MAX || (s.valid && (s.contact_count == 0 || !s.expires_ok || s.expired)))
		__builtin_trap();
	for (i = 0; i < s.nerrors; i++)
		if (memchr(s.errors[i].msg, '\0', sizeof(s.errors[i].msg)) == NULL)
			__builtin_trap();
	return 0;
}
