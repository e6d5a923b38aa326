/*
 * fuzz_capfile.c - the whole capture probe on an arbitrary capture file:
 * libpcap's reader, link/IP/TCP decoding, the flow table, reassembly with
 * held segments, and the conversation reader. The input is written to a
 * temporary file and read through the probe interface.
 */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probe.h"
#include "run.h"

extern const struct tk_probe tk_probe_capture;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	struct tk_cfgctx cc = {"fuzz.json", "/", "probes.capture", NULL};
	struct tk_err err = {0};
	cJSON *sec = NULL, *files, *out = NULL;
	void *state = NULL;
	FILE *f;
	if (!path[0])
		snprintf(path, sizeof(path), "/tmp/fuzz_capfile.%d.pcap", (int)getpid());
	if (!(f = fopen(path, "wb")))
		return 0;
	if (size)
		fwrite(data, 1, size, f);
	fclose(f);
	sec = cJSON_CreateObject();
	files = cJSON_AddArrayToObject(sec, "files");
	cJSON_AddItemToArray(files, cJSON_CreateString(path));
	cJSON_AddNumberToObject(sec, "max_flows", 64);
	cJSON_AddNumberToObject(sec, "stream_bytes", 512);
	if (tk_probe_capture.configure(sec, &cc, &state, &err) == TK_OK) {
		tk_run_probe_inline(&tk_probe_capture, state, 5000, &out, &err);
		cJSON_Delete(out);
		tk_probe_capture.free_state(state);
	}
	cJSON_Delete(sec);
	return 0;
}
