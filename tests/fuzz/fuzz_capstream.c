/*
 * fuzz_capstream.c - the conversation reader on arbitrary streams. Byte 0
 * picks the server port; the bytes "\xf0\x0d" separate client from server data.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "capparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t ports[8] = {21, 23, 513, 512, 514, 80, 8080, 40000};
	struct tk_cap_finding f[4];
	const uint8_t *c, *s = NULL;
	size_t cl, sl = 0, i;
	int n, k;
	if (size < 1)
		return 0;
	c = data + 1;
	cl = size - 1;
	for (i = 0; i + 1 < cl; i++)
		if (c[i] == 0xf0 && c[i + 1] == 0x0d) {
			s = c + i + 2;
			sl = cl - i - 2;
			cl = i;
			break;
		}
	n = tk_cap_analyze(c, cl, s, sl, ports[data[0] & 7], f, 4);
	for (k = 0; k < n && k < 4; k++) {
		if (strnlen(f[k].excerpt, sizeof(f[k].excerpt)) == sizeof(f[k].excerpt))
			__builtin_trap();
		/* the excerpt is escaped: no control bytes */
		for (i = 0; f[k].excerpt[i]; i++)
			if ((unsigned char)f[k].excerpt[i] < 0x20 || (unsigned char)f[k].excerpt[i] >= 0x7f)
				__builtin_trap();
	}
	return 0;
}
