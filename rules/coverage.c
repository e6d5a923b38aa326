/*
 * coverage.c - which checklist items the rule set can judge with evidence, and
 * from which probes. An item whose every rule has "covers": "part" is judged
 * in part: its evidence is shown, and the partner still answers for the rest.
 */
#include "rules.h"

#include <string.h>

static void add_unique_string(cJSON *arr, const char *s)
{
	const cJSON *e;
	cJSON_ArrayForEach(e, arr) if (strcmp(e->valuestring, s) == 0) return;
	cJSON_AddItemToArray(arr, cJSON_CreateString(s));
}

cJSON *tk_ruleset_coverage(const struct tk_ruleset *rs, const struct tk_checklist *cl)
{
	cJSON *out = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(out, "items");
	cJSON *by_probe = cJSON_AddObjectToObject(out, "items_by_probe");
	const cJSON *it;
	int judged = 0, total = 0, whole;
	cJSON *in_part = cJSON_AddArrayToObject(out, "judged_in_part");
	size_t i;
	if (!out || !items || !by_probe || !in_part) {
		cJSON_Delete(out);
		return NULL;
	}
	cJSON_AddStringToObject(out, "checklist", cl->id);
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(cl->doc, "items"))
	{
		const cJSON *no = cJSON_GetObjectItemCaseSensitive(it, "no");
		cJSON *row = cJSON_CreateObject(), *rules, *probes;
		char nos[32];
		if (!row)
			break;
		cJSON_AddItemToArray(items, row);
		cJSON_AddItemToObject(row, "no", cJSON_Duplicate(no, true));
		cJSON_AddItemToObject(row, "goal", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(it, "goal"), true));
		rules = cJSON_AddArrayToObject(row, "rules");
		probes = cJSON_AddArrayToObject(row, "probes");
		tk_item_no_str(no, nos, sizeof(nos));
		whole = 0;
		for (i = 0; rs && i < rs->n; i++) {
			const struct tk_rule *r = &rs->rules[i];
			const cJSON *n;
			if (!r->enabled)
				continue;
			cJSON_ArrayForEach(
			    n, cJSON_GetObjectItemCaseSensitive(r->items, cl->id)) if (tk_item_no_equal(n, no))
			{
				cJSON *list = cJSON_GetObjectItemCaseSensitive(by_probe, r->probe);
				add_unique_string(rules, r->id);
				add_unique_string(probes, r->probe);
				if (!list)
					list = cJSON_AddArrayToObject(by_probe, r->probe);
				add_unique_string(list, nos);
				whole += !r->covers_part;
				break;
			}
		}
		total++;
		if (cJSON_GetArraySize(rules) > 0) {
			judged++;
			cJSON_AddBoolToObject(row, "in_part", whole == 0);
			if (whole == 0)
				cJSON_AddItemToArray(in_part, cJSON_Duplicate(no, true));
		}
	}
	cJSON_AddNumberToObject(out, "judged", judged);
	cJSON_AddNumberToObject(out, "total", total);
	return out;
}
