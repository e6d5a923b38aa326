/* fuzz_sshwire.c - the SSH identification line and KEXINIT parsers over arbitrary server bytes. */
#include <stdint.h>
#include <stdlib.h>

#include "sshwire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tk_ssh_kexinit kx;
	struct tk_ssh_ident id;
	const char *why;
	bool more;
	size_t used;
	if (tk_ssh_ident_parse(data, size, &id, &more, &why) == TK_OK && !more && id.consumed <= size)
		(void)tk_ssh_kexinit_parse(data + id.consumed, size - id.consumed, &kx, &used, &more, &why);
	(void)tk_ssh_kexinit_parse(data, size, &kx, &used, &more, &why);
	return 0;
}
