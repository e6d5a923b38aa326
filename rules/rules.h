/*
 * rules.h - checklists, rules, tailoring and their evaluation.
 *
 * Rules never touch the network: they read observations (cJSON objects with
 * "probe", "target", "kind" and facts) and produce findings; the checklist
 * turns findings into a status for every item.
 */
#ifndef TK_RULES_H
#define TK_RULES_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include "data.h"
#include "tk.h"

/* ---- conditions (see README "Rule conditions") ---- */
/*
 * Validate a condition: operators, operand types, that every {"param": p}
 * names a parameter in params. `where` prefixes error messages (file and field).
 */
int tk_cond_validate(const cJSON *cond, const cJSON *params, const char *where, struct tk_err *err);
/* Evaluate a validated condition against an observation. */
bool tk_cond_eval(const cJSON *cond, const cJSON *obs, const cJSON *params);
/* Append (once each) the field paths a condition reads to `paths` (array of strings). */
void tk_cond_paths(const cJSON *cond, cJSON *paths);
/* Look up a dotted path ("a.b.0.c") in obj; NULL when absent. */
const cJSON *tk_json_path(const cJSON *obj, const char *path);
/* A string field of o, or "" (never NULL). */
const char *tk_json_str(const cJSON *o, const char *key);
/* Set obj[key] = val, replacing an existing member (TK_ERR_NOMEM when val is NULL or on failure). */
int tk_json_set(cJSON *obj, const char *key, cJSON *val);

/* ---- checklists ---- */
struct tk_checklist {
	char *id;
	cJSON *doc;          /* the checklist document, owned; "items" gains tailored items */
	char sha256[65];     /* of the data file */
};

/* Ids of the checklists in the data set, NULL-terminated, malloc'd (strings too). */
char **tk_checklist_ids(const struct tk_dataset *ds);
int tk_checklist_load(const struct tk_dataset *ds, const char *id, struct tk_checklist **out,
		      struct tk_err *err);
void tk_checklist_free(struct tk_checklist *cl);
/* True when the checklist file carries its own rule mapping ("mapping": {rule id: [items]}). */
bool tk_checklist_has_mapping(const struct tk_checklist *cl);
/* Find an item by number (a JSON number or string, as in "no"). */
const cJSON *tk_checklist_item(const struct tk_checklist *cl, const cJSON *no);
/* The one item-number comparison: 42 == 42, "B-1" == "B-1", a number never equals a string. */
bool tk_item_no_equal(const cJSON *a, const cJSON *b);
/* Render an item number (42 or "B-1") into buf. */
void tk_item_no_str(const cJSON *no, char *buf, size_t size);
/* Does item number n (a JSON number or string) equal the rendered number no ("42", "B-1")? */
bool tk_item_no_is(const cJSON *n, const char *no);
/* Does a report finding f map to item no of checklist id `checklist` (f.items[checklist])? */
bool tk_finding_maps(const cJSON *f, const char *checklist, const char *no);
/* The checklist id of a report document (report.checklist.id), or "". */
const char *tk_report_checklist_id(const cJSON *report);

/* ---- rules ---- */
/* What fail_when holding means. "Not observed / not to be relied on" is not an
 * effect: it is the rule's incomplete_when condition (README "Rule conditions"). */
enum tk_effect { TK_EFFECT_FAIL, TK_EFFECT_WARN };

struct tk_rule {
	const char *id;         /* borrowed from json */
	const char *probe;
	const char *kind;
	const char *severity;
	enum tk_effect effect;
	bool enabled;
	bool covers_part;       /* "covers": "part": its evidence answers part of its items, never all */
	const cJSON *json;      /* the rule as loaded (borrowed from the set's docs) */
	const cJSON *when;      /* optional: which observations the rule applies to */
	const cJSON *fail_when;      /* may be NULL when incomplete_when is given */
	const cJSON *incomplete_when; /* optional: the evidence cannot be judged -> "error" finding */
	cJSON *params;          /* effective parameters (defaults + tailoring), owned */
	cJSON *items;           /* checklist id -> array of item numbers (+ tailored), owned */
	char file[256];
};

struct tk_ruleset {
	struct tk_rule *rules;
	size_t n;
	cJSON **docs;
	size_t ndocs;
	char sha256[65];        /* over rules/rules/ *.json */
};

/*
 * Load every rules/rules/ *.json file. `probes` is the NULL-terminated list
 * of known probe names; `ds` provides checklists to validate item numbers.
 */
int tk_ruleset_load(const struct tk_dataset *ds, const char *const *probes, struct tk_ruleset **out,
		    struct tk_err *err);
void tk_ruleset_free(struct tk_ruleset *rs);
struct tk_rule *tk_ruleset_find(const struct tk_ruleset *rs, const char *id);
/*
 * Coverage of one checklist by the enabled rules: {"checklist", "judged", "total",
 * "items": [{"no", "goal", "rules": [ids], "probes": [names]}], "items_by_probe": {probe:
 * [item numbers]}}. An item with rules is judged with evidence when its probes run; the rest
 * need the partner's answer. Caller owns the result (NULL: out of memory).
 */
cJSON *tk_ruleset_coverage(const struct tk_ruleset *rs, const struct tk_checklist *cl);
/*
 * The load error for the dropped spelling "effect": "incomplete" (rule files and tailoring):
 * the two "not observed" mechanisms are one, incomplete_when. Converting a rule:
 * rename "fail_when" to "incomplete_when" and delete "effect".
 */
#define TK_OLD_EFFECT_INCOMPLETE                                                                                   \
	"\"incomplete\" is no longer an effect: it was folded into \"incomplete_when\" (rename \"fail_when\" to "      \
	"\"incomplete_when\" and delete \"effect\"; README \"Rule conditions\")"
/* Validate one rule object (exposed for tests and fuzzing). */
int tk_rule_validate(const cJSON *rule, const char *where, const char *const *probes,
		     const struct tk_dataset *ds, struct tk_err *err);

/* ---- tailoring (a bank's changes, as data) ---- */
struct tk_tailoring {
	cJSON *doc;             /* owned */
	char *file;
	char sha256[65];
};

/* Parse and validate a tailoring file against the rules and checklist. */
int tk_tailoring_load(const char *path, struct tk_tailoring **out, struct tk_err *err);
/* Parse from memory (tests, fuzzing); `name` is used in messages. */
int tk_tailoring_parse(const char *name, const char *text, size_t len, struct tk_tailoring **out,
		       struct tk_err *err);
void tk_tailoring_free(struct tk_tailoring *t);
/*
 * Apply: disable rules, override parameters/severity/effect, add the bank's
 * own items to cl and map rules to them. Validates names against rs and cl.
 */
int tk_tailoring_apply(const struct tk_tailoring *t, struct tk_ruleset *rs, struct tk_checklist *cl,
		       struct tk_err *err);
/* The justification if the item is tailored out, else NULL. */
const char *tk_tailoring_not_applicable(const struct tk_tailoring *t, const char *checklist,
					const cJSON *no);

/* ---- evaluation ---- */
struct tk_eval_input {
	const struct tk_ruleset *rules;
	const struct tk_checklist *checklist;
	const struct tk_tailoring *tailoring;   /* may be NULL */
	const cJSON *observations;              /* array */
	const char *lang;                       /* "ja" or "en": remediation/title strings */
};

/*
 * Produce findings (array) and items (array: every checklist item with its
 * status) - see README "Item status".
 */
int tk_evaluate(const struct tk_eval_input *in, cJSON **findings, cJSON **items, struct tk_err *err);

/*
 * The report's rules catalogue (tenken.report/2): every enabled rule by id
 * with its texts in both languages (title, remediation), basis, evidence
 * paths, severity, effect, probe, kind, source file and effective params.
 * Findings refer to it by "rule". Caller owns the result (NULL: no memory).
 */
cJSON *tk_rules_catalogue(const struct tk_ruleset *rs);

/*
 * The gate verdict and the counts of a report (verdict.c): the only place a
 * verdict is decided. Item statuses counted: pass, fail, incomplete, manual,
 * not_applicable, waived (in that order); pass_with_warnings is the subset of
 * pass whose items carry "with_warnings". The gate values are numerically the
 * gate's exit codes (TK_EXIT_OK / FAIL / INCOMPLETE; checked in report.c).
 */
#define TK_VERDICT_NSTATUS 6
enum tk_gate { TK_GATE_PASS = 0, TK_GATE_FAIL = 1, TK_GATE_INCOMPLETE = 3 };
struct tk_verdict {
	int items[TK_VERDICT_NSTATUS];
	int total, pass_with_warnings, self_declared;
	int findings[4];            /* pass, fail, warn, error */
	bool complete;
	const char *verdict;        /* "pass" | "fail" | "incomplete" (static) */
	enum tk_gate gate;
};
void tk_verdict_compute(const cJSON *report, struct tk_verdict *v);
/* Write summary.items, summary.findings and gate into the report. */
int tk_verdict_apply(cJSON *report);
/* The process exit code of scan (complete or not) or gate (the verdict;
 * --allow-incomplete turns incomplete into 0). */
int tk_verdict_exit(const cJSON *report, bool gate_mode, bool allow_incomplete);

#endif
