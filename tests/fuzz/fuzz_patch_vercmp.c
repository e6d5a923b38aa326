/*
 * fuzz_patch_vercmp.c - dpkg, rpm and apk version comparison on arbitrary
 * bytes: input "A\nB". Checks antisymmetry (cmp(a,b) == -cmp(b,a) in sign)
 * and reflexivity, which every total order must have.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dpkgver.h"
#include "rpmver.h"
#include "vulnfeed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int sgn(int x)
{
	return (x > 0) - (x < 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t al, bl;
	char *a, *b;
	struct tk_dpkgver va, vb;
	const char *why;
	if (!nl || size > 4096)
		return 0;
	al = (size_t)(nl - data);
	bl = size - al - 1;
	/* spans first: the parsers must not read past len */
	if (tk_dpkgver_parse((const char *)data, al, &va, &why) == 0 &&
	    tk_dpkgver_parse((const char *)nl + 1, bl, &vb, &why) == 0) {
		if (sgn(tk_dpkgver_cmp_parsed(&va, &vb)) != -sgn(tk_dpkgver_cmp_parsed(&vb, &va)))
			__builtin_trap();
		if (tk_dpkgver_cmp_parsed(&va, &va) != 0)
			__builtin_trap();
	}
	if (sgn(tk_rpmvercmp((const char *)data, al, (const char *)nl + 1, bl)) !=
	    -sgn(tk_rpmvercmp((const char *)nl + 1, bl, (const char *)data, al)))
		__builtin_trap();
	a = malloc(al + 1);
	b = malloc(bl + 1);
	if (a && b) {
		memcpy(a, data, al);
		a[al] = '\0';
		memcpy(b, nl + 1, bl);
		b[bl] = '\0';
		(void)tk_rpm_evrcmp(a, b);
		if (sgn(tk_apk_vercmp(a, b)) != -sgn(tk_apk_vercmp(b, a)))
			__builtin_trap();
		(void)tk_dpkgver_cmp(a, b, NULL);
	}
	free(a);
	free(b);
	return 0;
}
