/*
 * fuzz_tokens_sqlite.c - the tokens probe's SQLite store over a file image:
 * the input is written to a private temporary file and scanned as a partner's
 * database (untrusted open, limits, generated columns, table sampling), with a
 * short deadline. Memory stays bounded by the probe's limits (run with
 * -rss_limit_mb=512).
 */
#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probe.h"
#include "run.h"

extern const struct tk_probe tk_probe_tokens;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[128], conf[256], side[160];
	struct tk_cfgctx cc;
	struct tk_err err = {0};
	cJSON *section, *obs = NULL;
	void *state = NULL;
	FILE *f;
	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/tk-fuzz-sqlite-XXXXXX");
		if (!mkdtemp(dir))
			abort();
	}
	snprintf(path, sizeof(path), "%s/db.sqlite", dir);
	if (!(f = fopen(path, "wb")))
		abort();
	if (size && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);
	snprintf(conf, sizeof(conf), "{\"stores\": [{\"type\": \"sqlite\", \"path\": \"%s\", \"max_rows\": 50}]}", path);
	section = cJSON_Parse(conf);
	memset(&cc, 0, sizeof(cc));
	cc.file = "fuzz.json";
	cc.base_dir = dir;
	cc.path = "probes.tokens";
	cc.root = section;
	if (section && tk_probe_tokens.configure(section, &cc, &state, &err) == TK_OK) {
		tk_run_probe_inline(&tk_probe_tokens, state, 2000, &obs, &err);
		cJSON_Delete(obs);
		tk_probe_tokens.free_state(state);
	}
	cJSON_Delete(section);
	unlink(path);
	snprintf(side, sizeof(side), "%s-journal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	return 0;
}
