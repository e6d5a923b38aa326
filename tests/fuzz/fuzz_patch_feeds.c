/*
 * fuzz_patch_feeds.c - the Debian tracker, OSV and NVD loaders on arbitrary
 * bytes (the first byte picks the format), then the lookups and the range
 * matcher over whatever was loaded.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vulnfeed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tk_vdb db;
	struct tk_vdb_want want;
	struct tk_vdb_stats st;
	struct tk_err err = {0};
	char *buf;
	size_t k;
	if (size < 1 || size > (1 << 20))
		return 0;
	if (!(buf = malloc(size)))
		return 0;
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = '\0';
	memset(&want, 0, sizeof(want));
	want.all = true;
	tk_vdb_init(&db);
	switch (data[0] % 3) {
	case 0: (void)tk_vdb_load_debian(&db, buf, size - 1, "fuzz", &want, &st, &err); break;
	case 1: (void)tk_vdb_load_osv(&db, buf, size - 1, "fuzz", &want, &st, &err); break;
	default: (void)tk_vdb_load_nvd(&db, buf, size - 1, "fuzz", &want, &st, &err); break;
	}
	tk_vdb_index(&db);
	for (k = 0; k < db.nadv && k < 64; k++) {
		const char *fix;
		size_t first, n;
		(void)tk_adv_match(&db.adv[k], "1.0-1", &fix);
		(void)tk_adv_match(&db.adv[k], db.adv[k].nev ? db.adv[k].ev[0].ver : "0", &fix);
		tk_vdb_find_pkg(&db, db.adv[k].pkg, &first, &n);
		if (n == 0)
			__builtin_trap();
		tk_vdb_find_scores(&db, db.adv[k].cve, &first, &n);
	}
	tk_vdb_clear(&db);
	free(buf);
	return 0;
}
