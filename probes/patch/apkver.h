/*
 * apkver.h - Alpine apk version comparison, as apk-tools orders versions:
 * digit components (zero-prefixed ones compare as decimal fractions), one
 * letter, _alpha/_beta/_pre/_rc before the release and _cvs/_svn/_git/_hg/_p
 * after it, then the -rN package revision. Beside dpkgver.h and rpmver.h.
 */
#ifndef TK_APKVER_H
#define TK_APKVER_H

/* -1, 0 or 1. NUL-terminated inputs; bounded work (at most 4096 tokens). */
int tk_apk_vercmp(const char *a, const char *b);

#endif
