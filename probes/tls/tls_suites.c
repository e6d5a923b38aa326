/* tls_suites.c - the cipher-suite table (see tls_suites.h). */
#include "tls_suites.h"

#include <string.h>

static const struct tk_suite suites[] = {
#include "tls_suites_table.inc"
};

const struct tk_suite *tk_suites(size_t *n)
{
	*n = sizeof(suites) / sizeof(suites[0]);
	return suites;
}

const struct tk_suite *tk_suite_by_code(uint16_t code)
{
	size_t lo = 0, hi = sizeof(suites) / sizeof(suites[0]);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (suites[mid].code == code)
			return &suites[mid];
		if (suites[mid].code < code)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct tk_suite *tk_suite_by_name(const char *iana)
{
	size_t i;
	for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		if (strcmp(suites[i].iana, iana) == 0)
			return &suites[i];
	return NULL;
}

int tk_suite_is_weak(const struct tk_suite *s)
{
	return (s->flags & (TK_SUITE_NULL | TK_SUITE_ANON | TK_SUITE_EXPORT | TK_SUITE_RC4 | TK_SUITE_DES |
			    TK_SUITE_3DES)) != 0;
}
