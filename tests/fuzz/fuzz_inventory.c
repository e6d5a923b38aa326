/*
 * fuzz_inventory.c - the inventory loader: the input is cut at each "\n--\n"
 * into up to 8 partner configs, written as files into a private inventory
 * directory and loaded the way --inventory loads them (tk_config_load: a
 * non-blocking regular-file open, the size bound, NUL and UTF-8 checks, every
 * probe's section parser, paths resolved against the directory).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	int i;
	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/tk-fuzz-inv-XXXXXX");
		if (!mkdtemp(dir))
			abort();
	}
	for (i = 0; i < 8 && p <= end; i++) {
		const char *cut = NULL, *q;
		char path[128];
		struct tk_config *cfg = NULL;
		struct tk_err err = {0};
		FILE *f;
		size_t n;
		for (q = p; q + 4 <= end; q++)
			if (memcmp(q, "\n--\n", 4) == 0) {
				cut = q;
				break;
			}
		n = (size_t)((cut ? cut : end) - p);
		snprintf(path, sizeof(path), "%s/p%d.json", dir, i);
		if (!(f = fopen(path, "wb")))
			abort();
		if (n && fwrite(p, 1, n, f) != n)
			abort();
		fclose(f);
		if (tk_config_load(path, tk_probes, &cfg, &err) == TK_OK)
			tk_config_free(cfg);
		unlink(path);
		if (!cut)
			break;
		p = cut + 4;
	}
	return 0;
}
