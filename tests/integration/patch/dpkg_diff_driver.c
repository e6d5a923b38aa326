/*
 * dpkg_diff_driver.c - built by test_patch_dpkg_diff.py: reads "A B" lines
 * and prints, per pair, the sign of tenken's tk_dpkgver_cmp() and of
 * libdpkg's dpkg_version_compare() (the code `dpkg --compare-versions`
 * runs). Pairs libdpkg refuses to parse print "E".
 */
#define LIBDPKG_VOLATILE_API 1
#include <dpkg/dpkg-db.h>
#include <dpkg/dpkg.h>
#include <stdio.h>
#include <string.h>

#include "dpkgver.h"

static int sign(int x)
{
	return (x > 0) - (x < 0);
}

int main(void)
{
	char line[1024];
	while (fgets(line, sizeof(line), stdin)) {
		char *sp = strchr(line, ' '), *nl = strchr(line, '\n');
		struct dpkg_version a, b;
		struct dpkg_error e1 = DPKG_ERROR_INIT, e2 = DPKG_ERROR_INIT;
		int ra, rb, ours;
		bool bad;
		if (!sp)
			return 2;
		*sp = '\0';
		if (nl)
			*nl = '\0';
		ra = parseversion(&a, line, &e1);
		rb = parseversion(&b, sp + 1, &e2);
		/* dpkg --compare-versions goes on after warnings, stops on errors */
		if ((ra < 0 && e1.type == DPKG_MSG_ERROR) || (rb < 0 && e2.type == DPKG_MSG_ERROR)) {
			tk_dpkgver_cmp(line, sp + 1, &bad);
			printf("E %s\n", bad ? "bad" : "ok");
			dpkg_error_destroy(&e1);
			dpkg_error_destroy(&e2);
			continue;
		}
		ours = tk_dpkgver_cmp(line, sp + 1, &bad);
		printf("%d %d%s\n", sign(ours), sign(dpkg_version_compare(&a, &b)), bad ? " bad" : "");
		dpkg_error_destroy(&e1);
		dpkg_error_destroy(&e2);
	}
	return 0;
}
