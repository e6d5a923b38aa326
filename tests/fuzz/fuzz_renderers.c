/* fuzz_renderers.c - every renderer on an arbitrary (possibly hostile or
 * truncated) report document, as `tenken report` reads one back from the
 * state directory; the document also serves as history and baseline. */
#include <stddef.h>
#include <stdint.h>

#include "report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *doc = cJSON_ParseWithLength((const char *)data, size), *hist;
	size_t i;
	if (!doc)
		return 0;
	hist = cJSON_CreateArray();
	cJSON_AddItemToArray(hist, cJSON_Duplicate(doc, true));
	for (i = 0; tk_renderers[i]; i++) {
		struct tk_render_opts o = {.lang = (size & 1) ? "en" : "ja", .history = hist, .previous = doc};
		struct tk_buf b;
		struct tk_err err = {0};
		tk_buf_init(&b, (size_t)64 << 20);
		tk_renderers[i]->render(doc, &o, &b, &err);
		tk_buf_free(&b);
	}
	cJSON_Delete(hist);
	cJSON_Delete(doc);
	return 0;
}
