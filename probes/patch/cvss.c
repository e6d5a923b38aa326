/*
 * cvss.c - CVSS v2/v3.0/v3.1 base scores (see cvss.h).
 */
#include "cvss.h"

#include <stdbool.h>
#include <string.h>

#include "tk.h"

struct metric {
	const char *name;
	const char *values; /* allowed single-letter values */
	bool base;
};

/* v3 metric names and their allowed values (base first). */
static const struct metric v3_metrics[] = {
	{"AV", "NALP", true}, {"AC", "LH", true}, {"PR", "NLH", true}, {"UI", "NR", true},
	{"S", "UC", true},    {"C", "HLN", true}, {"I", "HLN", true},  {"A", "HLN", true},
	{"E", "XUPFH", false}, {"RL", "XOTWU", false}, {"RC", "XURC", false},
	{"CR", "XLMH", false}, {"IR", "XLMH", false}, {"AR", "XLMH", false},
	{"MAV", "XNALP", false}, {"MAC", "XLH", false}, {"MPR", "XNLH", false}, {"MUI", "XNR", false},
	{"MS", "XUC", false}, {"MC", "XNLH", false}, {"MI", "XNLH", false}, {"MA", "XNLH", false},
};

static const struct metric v2_metrics[] = {
	{"AV", "LAN", true}, {"AC", "HML", true}, {"Au", "MSN", true}, {"C", "NPC", true},
	{"I", "NPC", true},  {"A", "NPC", true},
};

/* v2 temporal/environmental metrics have multi-letter values. */
static const char *const v2_other[] = {"E", "RL", "RC", "CDP", "TD", "CR", "IR", "AR", NULL};

static const struct metric v4_metrics[] = {
	{"AV", "NALP", true}, {"AC", "LH", true}, {"AT", "NP", true}, {"PR", "NLH", true},
	{"UI", "NPA", true},  {"VC", "HLN", true}, {"VI", "HLN", true}, {"VA", "HLN", true},
	{"SC", "HLN", true},  {"SI", "HLN", true}, {"SA", "HLN", true},
};

/* Small helpers instead of libm (scores are non-negative and below 100). */
static long long round_ll(double x)
{
	return x < 0 ? -(long long)(-x + 0.5) : (long long)(x + 0.5);
}

static double floor_pos(double x)
{
	long long i = (long long)x;
	return (double)(x < 0 && (double)i != x ? i - 1 : i);
}

static double ceil_pos(double x)
{
	long long i = (long long)x;
	return (double)(x > 0 && (double)i != x ? i + 1 : i);
}

static double pow15(double x)
{
	double r = 1;
	int k;
	for (k = 0; k < 15; k++)
		r *= x;
	return r;
}

static double min10(double x)
{
	return x < 10 ? x : 10;
}

double tk_cvss_roundup31(double x)
{
	long long i = round_ll(x * 100000.0);
	if (i % 10000 == 0)
		return (double)i / 100000.0;
	return (double)(i / 10000 + 1) / 10.0;
}

static double roundup30(double x)
{
	return ceil_pos(x * 10.0) / 10.0;
}

/*
 * Split "K:V/K:V..." and record base values in vals[] (by metric index).
 * Unknown metric names or values, duplicates and missing base metrics are
 * errors.
 */
static int split(const char *s, size_t len, const struct metric *m, size_t nm, char *vals, bool v2,
		 const char **why)
{
	size_t i = 0, k;
	bool seen[32] = {false};
	bool seen_other[16] = {false};
	memset(vals, 0, nm);
	while (i < len) {
		char name[8], val[8];
		size_t nl = 0, vl = 0;
		bool found = false;
		while (i < len && s[i] != ':' && s[i] != '/') {
			if (nl + 1 >= sizeof(name))
				return *why = "metric name too long", -1;
			name[nl++] = s[i++];
		}
		name[nl] = '\0';
		if (i >= len || s[i] != ':' || nl == 0)
			return *why = "expected METRIC:VALUE", -1;
		i++;
		while (i < len && s[i] != '/') {
			if (vl + 1 >= sizeof(val))
				return *why = "metric value too long", -1;
			val[vl++] = s[i++];
		}
		val[vl] = '\0';
		if (vl == 0)
			return *why = "empty metric value", -1;
		if (i < len) {
			i++; /* '/' */
			if (i == len)
				return *why = "trailing '/'", -1;
		}
		for (k = 0; k < nm && !found; k++) {
			if (m[k].name[0] != name[0] || strcmp(m[k].name, name) != 0)
				continue;
			found = true;
			if (seen[k])
				return *why = "metric given twice", -1;
			seen[k] = true;
			if (vl != 1 || !strchr(m[k].values, val[0]))
				return *why = "invalid metric value", -1;
			vals[k] = val[0];
		}
		if (!found && v2) {
			for (k = 0; v2_other[k]; k++) {
				if (strcmp(v2_other[k], name) == 0) {
					if (seen_other[k])
						return *why = "metric given twice", -1;
					seen_other[k] = true;
					found = true;
				}
			}
		}
		if (!found)
			return *why = "unknown metric", -1;
	}
	for (k = 0; k < nm; k++)
		if (m[k].base && !seen[k])
			return *why = "a base metric is missing", -1;
	return 0;
}

static double v3_score(const char *v, bool v31)
{
	double av, ac, pr, ui, c, i, a, iss, impact, expl, s;
	bool changed = v[4] == 'C';
	av = v[0] == 'N' ? 0.85 : v[0] == 'A' ? 0.62 : v[0] == 'L' ? 0.55 : 0.2;
	ac = v[1] == 'L' ? 0.77 : 0.44;
	pr = v[2] == 'N' ? 0.85 : v[2] == 'L' ? (changed ? 0.68 : 0.62) : (changed ? 0.5 : 0.27);
	ui = v[3] == 'N' ? 0.85 : 0.62;
	c = v[5] == 'H' ? 0.56 : v[5] == 'L' ? 0.22 : 0;
	i = v[6] == 'H' ? 0.56 : v[6] == 'L' ? 0.22 : 0;
	a = v[7] == 'H' ? 0.56 : v[7] == 'L' ? 0.22 : 0;
	iss = 1 - (1 - c) * (1 - i) * (1 - a);
	impact = changed ? 7.52 * (iss - 0.029) - 3.25 * pow15(iss - 0.02) : 6.42 * iss;
	expl = 8.22 * av * ac * pr * ui;
	if (impact <= 0)
		return 0;
	s = changed ? min10(1.08 * (impact + expl)) : min10(impact + expl);
	return v31 ? tk_cvss_roundup31(s) : roundup30(s);
}

static double v2_score(const char *v)
{
	double av, ac, au, c, i, a, impact, expl, f, s;
	av = v[0] == 'L' ? 0.395 : v[0] == 'A' ? 0.646 : 1.0;
	ac = v[1] == 'H' ? 0.35 : v[1] == 'M' ? 0.61 : 0.71;
	au = v[2] == 'M' ? 0.45 : v[2] == 'S' ? 0.56 : 0.704;
	c = v[3] == 'N' ? 0 : v[3] == 'P' ? 0.275 : 0.660;
	i = v[4] == 'N' ? 0 : v[4] == 'P' ? 0.275 : 0.660;
	a = v[5] == 'N' ? 0 : v[5] == 'P' ? 0.275 : 0.660;
	impact = 10.41 * (1 - (1 - c) * (1 - i) * (1 - a));
	expl = 20 * av * ac * au;
	f = impact == 0 ? 0 : 1.176;
	s = ((0.6 * impact) + (0.4 * expl) - 1.5) * f;
	/* round to one decimal, halves up; the epsilon absorbs binary noise */
	return floor_pos(s * 10.0 + 0.5 + 1e-9) / 10.0;
}

int tk_cvss_parse(const char *vec, size_t len, struct tk_cvss *out, const char **why)
{
	char vals[32];
	*why = NULL;
	memset(out, 0, sizeof(*out));
	while (len > 0 && (vec[len - 1] == ' ' || vec[len - 1] == '\n'))
		len--;
	while (len > 0 && *vec == ' ') {
		vec++;
		len--;
	}
	if (len == 0)
		return *why = "empty vector", -1;
	if (len > 256)
		return *why = "vector too long", -1;
	if (memchr(vec, '\0', len))
		return *why = "embedded NUL", -1;
	if (len > 9 && (memcmp(vec, "CVSS:3.1/", 9) == 0 || memcmp(vec, "CVSS:3.0/", 9) == 0)) {
		bool v31 = vec[7] == '1';
		if (split(vec + 9, len - 9, v3_metrics, TK_ARRAY_LEN(v3_metrics), vals, false, why))
			return -1;
		out->version = v31 ? TK_CVSS_V31 : TK_CVSS_V30;
		out->base = v3_score(vals, v31);
		return 0;
	}
	if (len > 9 && memcmp(vec, "CVSS:4.0/", 9) == 0) {
		/* Validate base metrics; supplemental/threat/environmental names are accepted unchecked. */
		size_t i = 9, k;
		bool seen[TK_ARRAY_LEN(v4_metrics)] = {false};
		while (i < len) {
			size_t st = i, colon;
			while (i < len && vec[i] != '/')
				i++;
			colon = st;
			while (colon < i && vec[colon] != ':')
				colon++;
			if (colon == st || colon + 1 >= i)
				return *why = "expected METRIC:VALUE", -1;
			for (k = 0; k < TK_ARRAY_LEN(v4_metrics); k++) {
				if (strlen(v4_metrics[k].name) != colon - st ||
				    memcmp(v4_metrics[k].name, vec + st, colon - st) != 0)
					continue;
				if (seen[k])
					return *why = "metric given twice", -1;
				if (i - colon != 2 || !strchr(v4_metrics[k].values, vec[colon + 1]))
					return *why = "invalid metric value", -1;
				seen[k] = true;
			}
			if (i < len && ++i == len)
				return *why = "trailing '/'", -1;
		}
		for (k = 0; k < TK_ARRAY_LEN(v4_metrics); k++)
			if (!seen[k])
				return *why = "a base metric is missing", -1;
		out->version = TK_CVSS_V40;
		out->base = -1;
		return 0;
	}
	if (len > 5 && memcmp(vec, "CVSS:", 5) == 0)
		return *why = "unsupported CVSS version", -1;
	if (vec[0] == '(') {
		if (len < 2 || vec[len - 1] != ')')
			return *why = "unbalanced parenthesis", -1;
		vec++;
		len -= 2;
	}
	if (len > 6 && memcmp(vec, "CVSS2#", 6) == 0) {
		vec += 6;
		len -= 6;
	}
	if (split(vec, len, v2_metrics, TK_ARRAY_LEN(v2_metrics), vals, true, why))
		return -1;
	out->version = TK_CVSS_V2;
	out->base = v2_score(vals);
	return 0;
}

const char *tk_cvss_severity(double s)
{
	if (s <= 0)
		return "none";
	if (s < 4.0)
		return "low";
	if (s < 7.0)
		return "medium";
	if (s < 9.0)
		return "high";
	return "critical";
}

const char *tk_cvss_jvn_level(double s)
{
	if (s >= 7.0)
		return "III";
	if (s >= 4.0)
		return "II";
	return "I";
}
