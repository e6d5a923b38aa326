/* fuzz_config.c - the partner config parser and every probe's section parser. */
#include <stddef.h>
#include <stdint.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tk_config *cfg = NULL;
	struct tk_err err = {0};
	if (tk_config_parse("fuzz.json", "/nonexistent", (const char *)data, size, tk_probes, &cfg, &err) == TK_OK)
		tk_config_free(cfg);
	return 0;
}
