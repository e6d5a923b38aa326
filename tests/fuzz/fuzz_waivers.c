/* fuzz_waivers.c - the waivers file validator on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "waivers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *doc = NULL;
	struct tk_err err = {0};
	char *copy = malloc(size + 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	if (tk_waivers_parse("fuzz.json", copy, size, &doc, &err) == TK_OK && !doc)
		__builtin_trap();
	cJSON_Delete(doc);
	free(copy);
	return 0;
}
