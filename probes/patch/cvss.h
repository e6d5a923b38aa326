/*
 * cvss.h - CVSS base scores computed from vector strings.
 *
 * v3.0 and v3.1: the specification's formulas; v3.1 uses its Roundup
 * (integer arithmetic, Appendix A), v3.0 the plain ceiling to one decimal.
 * v2: the v2 guide's base equation, rounded to one decimal.
 * v4.0 is NOT computed (its score is a lookup-and-interpolate over the
 * MacroVector tables); a v4.0 vector is validated and its published score
 * used - see docs/patch.md.
 */
#ifndef TK_CVSS_H
#define TK_CVSS_H

#include <stddef.h>


enum tk_cvss_version { TK_CVSS_V2 = 2, TK_CVSS_V30 = 30, TK_CVSS_V31 = 31, TK_CVSS_V40 = 40 };

struct tk_cvss {
	enum tk_cvss_version version;
	double base;         /* base score; -1 for v4.0 (not computed) */
};

/*
 * Parse and score a vector: "CVSS:3.1/AV:N/...", "CVSS:3.0/...", "CVSS:4.0/..."
 * or a v2 vector ("AV:N/AC:L/Au:N/C:P/I:P/A:P", optionally in parentheses).
 * Every base metric must be present exactly once; temporal/environmental
 * metrics are checked for known names and values and ignored. Returns 0, or
 * -1 with a static reason in *why.
 */
int tk_cvss_parse(const char *vec, size_t len, struct tk_cvss *out, const char **why);
/* The v3.1 Roundup (exposed for tests). */
double tk_cvss_roundup31(double x);
/* "none", "low", "medium", "high", "critical" (CVSS v3 qualitative scale). */
const char *tk_cvss_severity(double score);
/* JVN/IPA levels as used for CVSS v2: "III" (7.0-10.0), "II" (4.0-6.9), "I" (0.0-3.9). */
const char *tk_cvss_jvn_level(double score);

#endif
