/* fuzz_attestation_csv.c - the attestation CSV parser (rules/csvparse.c) and its
 * header check (rules/attestation.c) on arbitrary bytes; every parsed row must be an
 * array of strings within the bounds, and an accepted attestation has 7+ cells a row. */
#include <stddef.h>
#include <stdint.h>

#include "attestation.h"
#include "csvparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *rows = NULL, *r, *c;
	struct tk_err err = {0};
	if (tk_csv_parse("fuzz.csv", (const char *)data, size, &rows, &err) == TK_OK) {
		if (cJSON_GetArraySize(rows) > TK_CSV_MAX_ROWS)
			__builtin_trap();
		cJSON_ArrayForEach(r, rows)
		{
			if (cJSON_GetArraySize(r) > TK_CSV_MAX_FIELDS)
				__builtin_trap();
			cJSON_ArrayForEach(c, r) if (!cJSON_IsString(c)) __builtin_trap();
		}
	}
	cJSON_Delete(rows);
	rows = NULL;
	if (tk_attestation_parse("fuzz.csv", (const char *)data, size, &rows, &err) == TK_OK) {
		cJSON_ArrayForEach(r, rows) if (cJSON_GetArraySize(r) < 7) __builtin_trap();
	} else if (rows) {
		__builtin_trap();
	}
	cJSON_Delete(rows);
	return 0;
}
