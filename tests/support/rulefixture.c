/* rulefixture.c - a small rule data set for the rule engine's tests (see rulefixture.h). */
#include "testutil.h"
#include "rulefixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void tk_fixture_setup(struct tk_fixture *fx, const char *checklist_json, const char *rules_json,
		      const char *const *probes)
{
	char p[1024];
	cJSON *cl = tk_test_json(checklist_json);
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(cl, "id");
	memset(fx, 0, sizeof(*fx));
	fx->probes = probes;
	fx->dir = tk_test_tmpdir();
	assert_true(cJSON_IsString(id));
	snprintf(p, sizeof(p), "%s/checklists", fx->dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/rules", fx->dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "checklists/%s.json", id->valuestring);
	free(tk_test_write(fx->dir, p, checklist_json));
	free(tk_test_write(fx->dir, "rules/r.json", rules_json));
	cJSON_Delete(cl);
	setenv("TENKEN_DATA_DIR", fx->dir, 1);
}

struct tk_fixture_spec tk_fx_spec;
struct tk_fixture tk_fx;

int tk_fixture_group_setup(void **state)
{
	(void)state;
	tk_fixture_setup(&tk_fx, tk_fx_spec.checklist_json, tk_fx_spec.rules_json, tk_fx_spec.probes);
	return 0;
}

int tk_fixture_group_teardown(void **state)
{
	(void)state;
	tk_fixture_teardown(&tk_fx);
	return 0;
}

void tk_fixture_teardown(struct tk_fixture *fx)
{
	unsetenv("TENKEN_DATA_DIR");
	tk_test_rmtree(fx->dir);
	free(fx->dir);
	fx->dir = NULL;
}

int tk_fixture_load(struct tk_fixture *fx, const char *checklist_id, const char *tailoring, struct tk_err *err)
{
	int rc;
	fx->cl = NULL;
	fx->rs = NULL;
	fx->t = NULL;
	fx->findings = fx->items = NULL;
	assert_int_equal(tk_dataset_open(&fx->ds, err), TK_OK);
	assert_int_equal(tk_checklist_load(&fx->ds, checklist_id, &fx->cl, err), TK_OK);
	if (tk_ruleset_load(&fx->ds, fx->probes, &fx->rs, err) != TK_OK)
		fail_msg("%s", err->msg);
	if (tailoring) {
		if ((rc = tk_tailoring_parse("tailor.json", tailoring, strlen(tailoring), &fx->t, err)))
			return rc;
		if ((rc = tk_tailoring_apply(fx->t, fx->rs, fx->cl, err)))
			return rc;
	}
	return TK_OK;
}

void tk_fixture_eval(struct tk_fixture *fx, const char *observations_json)
{
	struct tk_eval_input in = {0};
	struct tk_err err = {0};
	cJSON *obs = tk_test_json(observations_json);
	cJSON_Delete(fx->findings);
	cJSON_Delete(fx->items);
	in.rules = fx->rs;
	in.checklist = fx->cl;
	in.tailoring = fx->t;
	in.observations = obs;
	in.lang = "en";
	assert_int_equal(tk_evaluate(&in, &fx->findings, &fx->items, &err), TK_OK);
	cJSON_Delete(obs);
}

void tk_fixture_unload(struct tk_fixture *fx)
{
	cJSON_Delete(fx->findings);
	cJSON_Delete(fx->items);
	fx->findings = fx->items = NULL;
	tk_tailoring_free(fx->t);
	tk_ruleset_free(fx->rs);
	tk_checklist_free(fx->cl);
	tk_dataset_close(&fx->ds);
	fx->t = NULL;
	fx->rs = NULL;
	fx->cl = NULL;
}

const cJSON *tk_fixture_item(const struct tk_fixture *fx, const char *no)
{
	const cJSON *it;
	char buf[32];
	cJSON_ArrayForEach(it, fx->items)
	{
		tk_item_no_str(cJSON_GetObjectItemCaseSensitive(it, "no"), buf, sizeof(buf));
		if (strcmp(buf, no) == 0)
			return it;
	}
	fail_msg("no item %s", no);
	return NULL;
}

const char *tk_fixture_status(const struct tk_fixture *fx, const char *no)
{
	return cJSON_GetObjectItemCaseSensitive(tk_fixture_item(fx, no), "status")->valuestring;
}
