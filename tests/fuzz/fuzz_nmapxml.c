/* fuzz_nmapxml.c - the nmap XML reader on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "nmapxml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tk_nmap_result *r = NULL;
	struct tk_err err = {0};
	size_t i, j;
	if (tk_nmapxml_parse((const char *)data, size, &r, &err) != TK_OK)
		return 0;
	for (i = 0; i < r->nhosts; i++) {
		if (strlen(r->hosts[i].addr) >= sizeof(r->hosts[i].addr))
			__builtin_trap();
		for (j = 0; j < r->hosts[i].nports; j++)
			if (r->hosts[i].ports[j].portid == 0 || r->hosts[i].ports[j].ncpe > TK_NMAP_MAX_CPE)
				__builtin_trap();
	}
	tk_nmap_result_free(r);
	return 0;
}
