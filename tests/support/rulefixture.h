/*
 * rulefixture.h - a small rule data set for the rule engine's tests: a
 * checklist and one rules file written to a temporary TENKEN_DATA_DIR,
 * loaded (with an optional tailoring), evaluated on observations.
 */
#ifndef TK_RULEFIXTURE_H
#define TK_RULEFIXTURE_H

#include <cjson/cJSON.h>
#include "rules.h"

struct tk_fixture {
	char *dir;                     /* the TENKEN_DATA_DIR */
	const char *const *probes;     /* NULL-terminated probe names the rules may use */
	struct tk_dataset ds;
	struct tk_checklist *cl;
	struct tk_ruleset *rs;
	struct tk_tailoring *t;
	cJSON *findings, *items;
};

/* Write checklists/<checklist id>.json and rules/r.json into a fresh directory and point TENKEN_DATA_DIR at it. */
void tk_fixture_setup(struct tk_fixture *fx, const char *checklist_json, const char *rules_json,
		      const char *const *probes);
void tk_fixture_teardown(struct tk_fixture *fx);
/* Load the data set, checklist `checklist_id` and rules (failing the test if they do not load), then
 * parse and apply `tailoring` (may be NULL) and return its result. */
int tk_fixture_load(struct tk_fixture *fx, const char *checklist_id, const char *tailoring, struct tk_err *err);
/* Evaluate observations (a JSON array) into fx->findings and fx->items. */
void tk_fixture_eval(struct tk_fixture *fx, const char *observations_json);
/* Free what load and eval made (the directory stays until teardown). */
void tk_fixture_unload(struct tk_fixture *fx);
/*
 * One data set for a whole test program: set tk_fx_spec in main, then
 * cmocka_run_group_tests(tests, tk_fixture_group_setup, tk_fixture_group_teardown);
 * the tests load and evaluate through tk_fx (or a copy of it).
 */
struct tk_fixture_spec {
	const char *checklist_json, *rules_json;
	const char *const *probes;
};
extern struct tk_fixture_spec tk_fx_spec;
extern struct tk_fixture tk_fx;
int tk_fixture_group_setup(void **state);
int tk_fixture_group_teardown(void **state);
/* The status of item no ("1", "B-1") in fx->items; fails the test when there is none. */
const char *tk_fixture_status(const struct tk_fixture *fx, const char *no);
const cJSON *tk_fixture_item(const struct tk_fixture *fx, const char *no);

#endif
