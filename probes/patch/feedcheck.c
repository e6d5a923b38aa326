/* feedcheck.c - patch.h: check a feed body with the probe's loader. */
#include <string.h>

#include "patch.h"
#include "vulnfeed.h"

bool tk_patch_feed_format_known(const char *format)
{
	return strcmp(format, "debian-tracker") == 0 || strcmp(format, "nvd") == 0 || strcmp(format, "osv") == 0;
}

int tk_patch_feed_check(const char *format, const char *name, const char *data, size_t len, size_t *records,
			struct tk_err *err)
{
	struct tk_vdb db;
	struct tk_vdb_want want;
	struct tk_vdb_stats st;
	int rc;
	*records = 0;
	if (!tk_patch_feed_format_known(format))
		return tk_seterr(err, TK_ERR_USAGE, "unknown feed format \"%s\"", format);
	memset(&want, 0, sizeof(want)); /* keep nothing: only parse */
	memset(&st, 0, sizeof(st));
	tk_vdb_init(&db);
	if (strcmp(format, "debian-tracker") == 0)
		rc = tk_vdb_load_debian(&db, data, len, name, &want, &st, err);
	else if (strcmp(format, "nvd") == 0)
		rc = tk_vdb_load_nvd(&db, data, len, name, &want, &st, err);
	else
		rc = tk_vdb_load_osv(&db, data, len, name, &want, &st, err);
	tk_vdb_clear(&db);
	*records = st.records;
	return rc;
}
