/*
 * fuzz_rule.c - rule documents: validation, then evaluation of every valid
 * condition against a fixed observation (validated conditions must never crash).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const probes[] = {"hsts", "tls", NULL};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static cJSON *obs;
	cJSON *rule = cJSON_ParseWithLength((const char *)data, size);
	struct tk_err err = {0};
	if (!obs)
		obs = cJSON_Parse("{\"probe\": \"hsts\", \"kind\": \"hsts\", \"target\": \"t\", \"max_age\": 5,"
				  " \"a\": {\"b\": [1, \"x\", {\"c\": true}]}, \"s\": \"str\", \"n\": null}");
	if (!rule)
		return 0;
	if (tk_rule_validate(rule, "fuzz.json", probes, NULL, &err) == TK_OK) {
		const cJSON *params = cJSON_GetObjectItemCaseSensitive(rule, "params");
		const cJSON *when = cJSON_GetObjectItemCaseSensitive(rule, "when");
		cJSON *paths = cJSON_CreateArray();
		(void)tk_cond_eval(cJSON_GetObjectItemCaseSensitive(rule, "fail_when"), obs, params);
		if (when)
			(void)tk_cond_eval(when, obs, params);
		tk_cond_paths(cJSON_GetObjectItemCaseSensitive(rule, "fail_when"), paths);
		cJSON_Delete(paths);
	}
	cJSON_Delete(rule);
	return 0;
}
