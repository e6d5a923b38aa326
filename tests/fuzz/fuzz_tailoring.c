/* fuzz_tailoring.c - tailoring files: parse, then apply to the shipped rules and checklist. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "probe.h"
#include "rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct tk_dataset ds;
static const char *names[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct tk_tailoring *t = NULL;
	struct tk_ruleset *rs = NULL;
	struct tk_checklist *cl = NULL;
	struct tk_err err = {0};
	if (!ready) {
		size_t i;
		unsetenv("TENKEN_DATA_DIR");
		if (tk_dataset_open(&ds, &err))
			abort();
		for (i = 0; tk_probes[i]; i++)
			names[i] = tk_probes[i]->name;
		ready = 1;
	}
	if (tk_tailoring_parse("fuzz.json", (const char *)data, size, &t, &err) == TK_OK) {
		if (tk_ruleset_load(&ds, names, &rs, &err) || tk_checklist_load(&ds, "fisc-api-2018", &cl, &err))
			abort();
		(void)tk_tailoring_apply(t, rs, cl, &err);
		tk_ruleset_free(rs);
		tk_checklist_free(cl);
		tk_tailoring_free(t);
	}
	return 0;
}
