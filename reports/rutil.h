/*
 * rutil.h - helpers the renderers share: reading report fields, escaping for
 * HTML/XML and CSV, labels in both languages, the findings behind an item.
 * Everything here only reads the report; nothing judges.
 */
#ifndef TK_RUTIL_H
#define TK_RUTIL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include "tk.h"

/* A string field or "" (never NULL). */
const char *tk_r_str(const cJSON *o, const char *key);
/* An int field or dflt. */
int tk_r_int(const cJSON *o, const char *key, int dflt);
/* o[key][lang], falling back to "en", "ja", then "". */
const char *tk_r_i18n(const cJSON *o, const char *key, const char *lang);
/* The language to use: "en" when lang is "en", else "ja". */
const char *tk_r_lang(const char *lang);
/* A status word ("pass", "fail", ...) in lang. */
const char *tk_r_status_label(const char *status, const char *lang);
/* Append s escaped for HTML/XML text and attributes (& < > " '); control
 * characters other than tab/newline are dropped (XML 1.0 forbids them). */
int tk_r_xml(struct tk_buf *b, const char *s);
/* Append s as one RFC 4180 field (quoted when it holds , " CR or LF). */
int tk_r_csv(struct tk_buf *b, const char *s);
/* Does finding f map to item number no (as a string) in checklist cl? */
bool tk_r_finding_maps(const cJSON *f, const char *cl, const char *no);
/* The checklist id of the report. */
const char *tk_r_checklist_id(const cJSON *report);
/*
 * Rule texts of a finding from either schema: tenken.report/2 keeps them
 * once in report.rules[f.rule]; tenken.report/1 carried them on each finding
 * (title_i18n, remediation_i18n, basis, severity, probe). The strings are
 * borrowed from the report; never NULL.
 */
const cJSON *tk_r_rule_of(const cJSON *report, const cJSON *f);
const char *tk_r_f_title(const cJSON *report, const cJSON *f, const char *lang);
const char *tk_r_f_remediation(const cJSON *report, const cJSON *f, const char *lang);
/* "basis", "severity", "probe", "effect": the finding's own field, else the rule's. */
const char *tk_r_f_str(const cJSON *report, const cJSON *f, const char *key);
/*
 * The finding's evidence as a reviewer reads it (new object, caller frees):
 * the facts its rule judged (f.evidence) followed by the rule's evidence
 * paths read from observations[f.observation] (report/2), from its entry
 * entries[f.entry] first when the finding names one (report/3). For report/1 a
 * copy of f.evidence. obs/nobs: the report's observations by index (from
 * tk_r_index) or NULL to walk the array.
 */
cJSON *tk_r_evidence(const cJSON *report, const cJSON *f, const cJSON *const *obs, size_t nobs);
/* Short stable fingerprint (32 hex) of a finding: rule + "\n" + target. */
void tk_r_finding_fp(const cJSON *f, char out[33]);
/*
 * The four texts of the checklist's answer columns for one item, built from
 * the report (caller frees each with free()):
 *   status_text  現在の対応状況: the automated evidence (or "needs the partner's answer")
 *   issues       課題認識: failing / errored findings with their targets
 *   plan         課題への対応計画: the remediation of each failing rule
 *   remarks      備考: status code, rules, seed/basis references, waivers, attestation
 * max_findings bounds how many findings are written out per item.
 */
struct tk_r_item_text {
	char *status_text, *issues, *plan, *remarks;
	char *related, *related_sections;   /* 関連規定, 関連規定箇所 */
};
/* An index of the report's findings by checklist item, built once per
 * render so each item's text costs only its own findings. */
struct tk_r_finding {
	const cJSON *f;
	const char *status, *rule, *target, *basis;
};
struct tk_r_index {
	const cJSON *report;
	const char *cl;
	struct tk_r_finding *f;   /* every finding, in report order */
	size_t nf;
	size_t nitems;
	char (*item_no)[32];      /* the report's items, in order */
	size_t **by_item;         /* by_item[i]: indices into f of findings mapped to item i */
	size_t *nby_item;
	const cJSON **obs;        /* observations[] by index */
	size_t nobs;
};
int tk_r_index_build(const cJSON *report, struct tk_r_index *ix);
void tk_r_index_free(struct tk_r_index *ix);

int tk_r_item_text(const struct tk_r_index *ix, const cJSON *item, const char *lang, size_t max_findings,
		   struct tk_r_item_text *out);
void tk_r_item_text_free(struct tk_r_item_text *t);

#endif
