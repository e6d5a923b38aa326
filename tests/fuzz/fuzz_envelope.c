/* fuzz_envelope.c - envelope recognition and token classification on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>

#include "envelope.h"
#include "tokscan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void sink(void *u, const struct tk_hit *h)
{
	(void)u;
	if (h->fp[0] != 's')
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tk_envelope e;
	struct tk_hit h;
	int hint = size > 0 && (data[0] & 1);
	if (tk_envelope_text((const char *)data, size, hint, &e) && e.kind == TK_ENV_NONE)
		__builtin_trap();
	if (tk_envelope_binary(data, size, hint, &e) && e.kind == TK_ENV_NONE)
		__builtin_trap();
	(void)tk_tok_classify(NULL, "access_token", 12, (const char *)data, size, -1, &h);
	(void)tk_tok_classify_bin(NULL, "password", 8, data, size, &h);
	(void)tk_tok_scan_text(NULL, (const char *)data, size, sink, NULL);
	(void)tk_tok_scan_json(NULL, (const char *)data, size, sink, NULL);
	return 0;
}
