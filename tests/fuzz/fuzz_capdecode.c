/* fuzz_capdecode.c - link, IP and TCP header decoding on arbitrary packets. Byte 0 picks the link type. */
#include <stddef.h>
#include <stdint.h>

#include "capparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int lts[8] = {TK_LINKTYPE_ETHERNET, TK_LINKTYPE_LINUX_SLL, TK_LINKTYPE_LINUX_SLL2, TK_LINKTYPE_RAW,
				   TK_LINKTYPE_NULL, TK_LINKTYPE_LOOP, TK_LINKTYPE_IPV4, TK_LINKTYPE_IPV6};
	struct tk_cap_pkt p;
	if (size < 1)
		return 0;
	if (tk_cap_decode(lts[data[0] & 7], data + 1, size - 1, &p) == TK_CAP_TCP) {
		/* the payload must lie inside the packet */
		if (p.payload < data + 1 || p.payload + p.plen > data + size)
			__builtin_trap();
	}
	return 0;
}
