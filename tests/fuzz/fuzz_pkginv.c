/*
 * fuzz_pkginv.c - the inventory parsers on arbitrary bytes: dpkg status,
 * rpm -qa output, apk installed, os-release and nmap XML CPEs (the first byte picks one).
 */
#include <stdint.h>

#include "pkginv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tk_inventory inv = {0};
	struct tk_osrel os;
	struct tk_err err = {0};
	const char *p = (const char *)data + 1;
	if (size < 1)
		return 0;
	switch (data[0] % 5) {
	case 0: (void)tk_inv_parse_dpkg(p, size - 1, &inv, &err); break;
	case 1: (void)tk_inv_parse_rpmqa(p, size - 1, &inv, &err); break;
	case 2: (void)tk_inv_parse_apk(p, size - 1, &inv, &err); break;
	case 3: (void)tk_osrel_parse(p, size - 1, &os, &err); break;
	default: {
		char **v = NULL;
		size_t n = 0;
		if (tk_nmap_cpes(p, size - 1, &v, &n, &err) == TK_OK && !v)
			__builtin_trap();
		tk_strv_free(v);
	}
	}
	tk_inv_clear(&inv);
	return 0;
}
