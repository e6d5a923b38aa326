/*
 * rpmver.h - RPM version comparison: rpmvercmp() as in rpm's
 * rpmio/rpmvercmp.c (alphanumeric segments, '~' sorts before everything,
 * '^' after the base version but before any further segment) and the
 * epoch:version-release comparison rpm does for packages.
 */
#ifndef TK_RPMVER_H
#define TK_RPMVER_H

#include <stddef.h>

/* rpmvercmp over two spans: -1, 0 or 1. */
int tk_rpmvercmp(const char *a, size_t alen, const char *b, size_t blen);
/*
 * Compare "[epoch:]version[-release]" strings (a missing epoch is 0, a
 * missing release compares equal to any release, as rpm's rpmdsCompare does
 * for a range without a release). NUL-terminated. -1, 0 or 1.
 */
int tk_rpm_evrcmp(const char *a, const char *b);

#endif
