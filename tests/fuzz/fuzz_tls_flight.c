/* fuzz_tls_flight.c - the TLS/SSLv2 server-flight parser (records, ServerHello, Certificate, SKE) on arbitrary bytes.
 */
#include <stdint.h>
#include <stdlib.h>

#include "tls_hello.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tk_flight *f;
	size_t i;
	if (!f && !(f = malloc(sizeof(*f))))
		return 0;
	tk_tls_parse_flight(data, size, f);
	if (f->hslen > sizeof(f->hs) || f->nssl2_specs > TK_FLIGHT_MAX_SSL2_SPECS)
		__builtin_trap();
	for (i = 0; i < f->ncerts && i < TK_FLIGHT_MAX_CERTS; i++)
		if (f->cert_off[i] + f->cert_len[i] > f->hslen)
			__builtin_trap();
	return 0;
}
