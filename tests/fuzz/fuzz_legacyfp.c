/*
 * fuzz_legacyfp.c - the legacy fingerprint machine fed arbitrary server bytes.
 * Byte 0 picks the port hint and how the rest is cut into reads; a read of
 * zero bytes stands for a timeout.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "legacyfp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t ports[16] = {21, 23, 25, 111, 512, 513, 514, 2049,
					   3306, 5432, 6379, 11211, 5432, 6379, 11211, 40000};
	unsigned char rx[8192], out[512], ban[600];
	size_t rxlen = 0, i = 1, olen, chunk;
	struct lg_fp f;
	enum lg_act a;
	int steps = 0;
	if (size < 1)
		return 0;
	lg_fp_init(&f, ports[(data[0] & 7) | ((data[0] >> 4) & 8)], (data[0] & 8) != 0);
	chunk = 1 + (data[0] >> 4);
	a = lg_fp_step(&f, LG_EV_START, rx, 0, out, sizeof(out), &olen);
	while (a != LG_DONE && steps++ < 10000) {
		enum lg_ev ev;
		if (i >= size) {
			ev = LG_EV_EOF;
		} else if (data[i] == 0xA5 && (i + 1 >= size || data[i + 1] == 0xA5)) {
			ev = LG_EV_TIMEOUT;
			i += 2;
		} else {
			size_t n = size - i < chunk ? size - i : chunk;
			if (n > sizeof(rx) - rxlen)
				n = sizeof(rx) - rxlen;
			memcpy(rx + rxlen, data + i, n);
			rxlen += n;
			i += n;
			ev = rxlen == sizeof(rx) ? LG_EV_EOF : LG_EV_DATA;
		}
		a = lg_fp_step(&f, ev, rx, rxlen, out, sizeof(out), &olen);
		if (olen > sizeof(out))
			__builtin_trap();
		if (ev == LG_EV_EOF && a != LG_DONE && i >= size && steps > 9000)
			__builtin_trap(); /* EOF forever without finishing */
	}
	if (lg_fp_banner(&f, rx, rxlen, ban, sizeof(ban)) > sizeof(ban))
		__builtin_trap();
	if (f.rpc_nprogs > LG_FP_MAX_RPC_PROGS || f.telnet_nopts > LG_FP_MAX_TELNET_OPTS)
		__builtin_trap();
	return 0;
}
