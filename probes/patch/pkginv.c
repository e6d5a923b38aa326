/*
 * pkginv.c - package inventories and os-release (see pkginv.h).
 */
#include "pkginv.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INV_MAX_FIELD 4096

void tk_inv_clear(struct tk_inventory *inv)
{
	size_t i;
	if (!inv)
		return;
	for (i = 0; i < inv->n; i++) {
		free(inv->pkgs[i].name);
		free(inv->pkgs[i].version);
		free(inv->pkgs[i].source);
		free(inv->pkgs[i].source_version);
		free(inv->pkgs[i].arch);
	}
	free(inv->pkgs);
	memset(inv, 0, sizeof(*inv));
	inv->kind = TK_INV_NONE;
}

static char *dupn(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

static bool has_ctl(const char *s, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return true;
	return false;
}

/* Add a package from spans; src/srcver may be NULL (then name/version). */
static int add_pkg(struct tk_inventory *inv, const char *name, size_t nl, const char *ver, size_t vl,
		   const char *src, size_t sl, const char *sver, size_t svl, const char *arch, size_t al,
		   size_t line, struct tk_err *err)
{
	struct tk_pkg *p;
	if (nl == 0 || vl == 0)
		return tk_seterr(err, TK_ERR_PARSE, "line %zu: package without a name or version", line);
	if (nl > 256 || vl > 256 || sl > 256 || svl > 256 || al > 64)
		return tk_seterr(err, TK_ERR_LIMIT, "line %zu: field longer than allowed", line);
	if (has_ctl(name, nl) || has_ctl(ver, vl) || (src && has_ctl(src, sl)) || (sver && has_ctl(sver, svl)))
		return tk_seterr(err, TK_ERR_PARSE, "line %zu: control character in a package field", line);
	if (inv->n >= TK_INV_MAX_PKGS)
		return tk_seterr(err, TK_ERR_LIMIT, "line %zu: more than %d packages", line, TK_INV_MAX_PKGS);
	if (inv->n == inv->cap) {
		size_t nc = inv->cap ? inv->cap * 2 : 256;
		struct tk_pkg *np = realloc(inv->pkgs, nc * sizeof(*np));
		if (!np)
			return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		inv->pkgs = np;
		inv->cap = nc;
	}
	p = &inv->pkgs[inv->n];
	memset(p, 0, sizeof(*p));
	p->name = dupn(name, nl);
	p->version = dupn(ver, vl);
	p->source = src && sl ? dupn(src, sl) : dupn(name, nl);
	p->source_version = sver && svl ? dupn(sver, svl) : dupn(ver, vl);
	p->arch = dupn(arch ? arch : "", arch ? al : 0);
	inv->n++;
	if (!p->name || !p->version || !p->source || !p->source_version || !p->arch)
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	return TK_OK;
}

static void trim(const char **s, size_t *n)
{
	while (*n && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*n)--;
	}
	while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t' || (*s)[*n - 1] == '\r'))
		(*n)--;
}

struct span {
	const char *p;
	size_t n;
};

/* ---- dpkg status (deb822 paragraphs) ---- */

static bool all_blank(const char *s, size_t n)
{
	size_t k;
	for (k = 0; k < n; k++)
		if (s[k] != ' ' && s[k] != '\t')
			return false;
	return true;
}

/* Is the package's files on disk? Status is "want flag state". */
static bool dpkg_present(struct span st)
{
	const char *sp;
	size_t i;
	if (!st.p)
		return true; /* a status file without Status: (e.g. a Packages-style list): trust it */
	sp = NULL;
	for (i = st.n; i > 0; i--)
		if (st.p[i - 1] == ' ') {
			sp = st.p + i;
			break;
		}
	if (!sp)
		return false;
	i = (size_t)(st.p + st.n - sp);
	if ((i == 13 && memcmp(sp, "not-installed", 13) == 0) || (i == 12 && memcmp(sp, "config-files", 12) == 0))
		return false;
	return true;
}

static int dpkg_flush(struct tk_inventory *inv, struct span f[5], size_t line, struct tk_err *err)
{
	/* f: Package, Version, Source, Status, Architecture */
	struct span src = f[2], sver = {NULL, 0};
	int rc = TK_OK;
	if (!f[0].p && !f[1].p)
		goto out;
	if (!f[0].p || !f[1].p) {
		rc = tk_seterr(err, TK_ERR_PARSE, "line %zu: paragraph without %s", line,
			       f[0].p ? "Version" : "Package");
		goto out;
	}
	if (!dpkg_present(f[3]))
		goto out;
	if (src.p) {
		/* "Source: name (version)" */
		const char *lp = memchr(src.p, '(', src.n);
		if (lp) {
			const char *rp = memchr(lp, ')', (size_t)(src.p + src.n - lp));
			if (!rp) {
				rc = tk_seterr(err, TK_ERR_PARSE, "line %zu: Source: version without ')'", line);
				goto out;
			}
			sver.p = lp + 1;
			sver.n = (size_t)(rp - lp - 1);
			trim(&sver.p, &sver.n);
			src.n = (size_t)(lp - src.p);
			trim(&src.p, &src.n);
		}
	}
	rc = add_pkg(inv, f[0].p, f[0].n, f[1].p, f[1].n, src.p, src.n, sver.p ? sver.p : f[1].p,
		     sver.p ? sver.n : f[1].n, f[4].p, f[4].n, line, err);
out:
	memset(f, 0, 5 * sizeof(*f));
	return rc;
}

int tk_inv_parse_dpkg(const char *p, size_t len, struct tk_inventory *inv, struct tk_err *err)
{
	static const char *const names[5] = {"Package", "Version", "Source", "Status", "Architecture"};
	struct span f[5];
	size_t i = 0, line = 0, para_line = 1;
	int rc;
	memset(f, 0, sizeof(f));
	inv->kind = TK_INV_DPKG;
	while (i < len) {
		const char *ls = p + i, *nl = memchr(ls, '\n', len - i), *colon;
		size_t ll = nl ? (size_t)(nl - ls) : len - i, k;
		line++;
		i += ll + (nl ? 1 : 0);
		if (ll > 0 && ls[ll - 1] == '\r')
			ll--;
		if (all_blank(ls, ll)) {
			if ((rc = dpkg_flush(inv, f, para_line, err)))
				return rc;
			para_line = line + 1;
			continue;
		}
		if (ls[0] == ' ' || ls[0] == '\t')
			continue; /* continuation of a multi-line field */
		if (ls[0] == '#')
			continue;
		if (!(colon = memchr(ls, ':', ll)))
			return tk_seterr(err, TK_ERR_PARSE, "line %zu: expected \"Field: value\"", line);
		for (k = 0; k < 5; k++) {
			size_t fl = strlen(names[k]);
			if ((size_t)(colon - ls) == fl && strncasecmp(ls, names[k], fl) == 0) {
				struct span v = {colon + 1, (size_t)(ls + ll - colon - 1)};
				trim(&v.p, &v.n);
				if (f[k].p)
					return tk_seterr(err, TK_ERR_PARSE, "line %zu: %s given twice in a paragraph",
							 line, names[k]);
				if (v.n > INV_MAX_FIELD)
					return tk_seterr(err, TK_ERR_LIMIT, "line %zu: %s too long", line, names[k]);
				f[k] = v;
				if (f[k].n == 0)
					f[k].p = colon + 1; /* present but empty: add_pkg rejects it */
			}
		}
	}
	return dpkg_flush(inv, f, para_line, err);
}

/* ---- rpm -qa ---- */

/* "openssl-3.0.7-24.el9.src.rpm" -> "openssl" */
static struct span srpm_name(const char *s, size_t n)
{
	struct span r = {s, n};
	size_t k, dashes = 0;
	if (n > 8 && memcmp(s + n - 8, ".src.rpm", 8) == 0)
		n -= 8;
	else if (n > 10 && memcmp(s + n - 10, ".nosrc.rpm", 10) == 0)
		n -= 10;
	else
		return (struct span){NULL, 0};
	for (k = n; k > 0; k--) {
		if (s[k - 1] == '-' && ++dashes == 2) {
			r.n = k - 1;
			return r;
		}
	}
	return (struct span){NULL, 0};
}

int tk_inv_parse_rpmqa(const char *p, size_t len, struct tk_inventory *inv, struct tk_err *err)
{
	size_t i = 0, line = 0;
	int rc;
	inv->kind = TK_INV_RPM;
	while (i < len) {
		const char *ls = p + i, *nl = memchr(ls, '\n', len - i);
		size_t ll = nl ? (size_t)(nl - ls) : len - i, nf = 0, k, st = 0;
		struct span f[6];
		char evr[600];
		struct span src;
		line++;
		i += ll + (nl ? 1 : 0);
		if (ll > 0 && ls[ll - 1] == '\r')
			ll--;
		if (ll == 0 || ls[0] == '#')
			continue;
		for (k = 0; k <= ll; k++) {
			if (k == ll || ls[k] == '\t') {
				if (nf == 6)
					return tk_seterr(err, TK_ERR_PARSE, "line %zu: more than 6 tab-separated fields",
							 line);
				f[nf].p = ls + st;
				f[nf++].n = k - st;
				st = k + 1;
			}
		}
		if (nf < 4)
			return tk_seterr(err, TK_ERR_PARSE,
					 "line %zu: expected NAME\\tEPOCH\\tVERSION\\tRELEASE[\\tARCH\\tSOURCERPM]", line);
		if (f[2].n == 0 || f[3].n == 0 || f[2].n > 250 || f[3].n > 250)
			return tk_seterr(err, TK_ERR_PARSE, "line %zu: empty or overlong VERSION/RELEASE", line);
		if (f[1].n == 0 || (f[1].n == 6 && memcmp(f[1].p, "(none)", 6) == 0) ||
		    (f[1].n == 1 && f[1].p[0] == '0')) {
			snprintf(evr, sizeof(evr), "%.*s-%.*s", (int)f[2].n, f[2].p, (int)f[3].n, f[3].p);
		} else {
			for (k = 0; k < f[1].n; k++)
				if (f[1].p[k] < '0' || f[1].p[k] > '9' || k > 9)
					return tk_seterr(err, TK_ERR_PARSE, "line %zu: EPOCH is not a number", line);
			snprintf(evr, sizeof(evr), "%.*s:%.*s-%.*s", (int)f[1].n, f[1].p, (int)f[2].n, f[2].p,
				 (int)f[3].n, f[3].p);
		}
		src = nf >= 6 ? srpm_name(f[5].p, f[5].n) : (struct span){NULL, 0};
		if ((rc = add_pkg(inv, f[0].p, f[0].n, evr, strlen(evr), src.p, src.n, evr, strlen(evr),
				  nf >= 5 ? f[4].p : NULL, nf >= 5 ? f[4].n : 0, line, err)))
			return rc;
	}
	return TK_OK;
}

/* ---- apk installed ---- */

int tk_inv_parse_apk(const char *p, size_t len, struct tk_inventory *inv, struct tk_err *err)
{
	struct span name = {NULL, 0}, ver = {NULL, 0}, origin = {NULL, 0}, arch = {NULL, 0};
	size_t i = 0, line = 0, start = 1;
	int rc;
	inv->kind = TK_INV_APK;
	for (;;) {
		const char *ls = p + i, *nl;
		size_t ll;
		bool end = i >= len;
		if (!end) {
			nl = memchr(ls, '\n', len - i);
			ll = nl ? (size_t)(nl - ls) : len - i;
			line++;
			i += ll + (nl ? 1 : 0);
			if (ll > 0 && ls[ll - 1] == '\r')
				ll--;
		} else {
			ll = 0;
		}
		if (ll == 0) {
			if (name.p || ver.p) {
				if ((rc = add_pkg(inv, name.p, name.n, ver.p, ver.n, origin.p, origin.n, ver.p, ver.n,
						  arch.p, arch.n, start, err)))
					return rc;
			}
			name.p = ver.p = origin.p = arch.p = NULL;
			name.n = ver.n = origin.n = arch.n = 0;
			start = line + 1;
			if (end)
				break;
			continue;
		}
		if (ll < 2 || ls[1] != ':')
			return tk_seterr(err, TK_ERR_PARSE, "line %zu: expected \"X:value\"", line);
		switch (ls[0]) {
		case 'P': name = (struct span){ls + 2, ll - 2}; break;
		case 'V': ver = (struct span){ls + 2, ll - 2}; break;
		case 'o': origin = (struct span){ls + 2, ll - 2}; break;
		case 'A': arch = (struct span){ls + 2, ll - 2}; break;
		default: break;
		}
	}
	return TK_OK;
}

/* ---- os-release ---- */

static void osrel_value(const char *v, size_t n, char *out, size_t size)
{
	size_t o = 0, k = 0;
	char q = 0;
	if (n > 0 && (v[0] == '"' || v[0] == '\'')) {
		q = v[0];
		k = 1;
	}
	for (; k < n && o + 1 < size; k++) {
		if (q && v[k] == q)
			break;
		if (q == '"' && v[k] == '\\' && k + 1 < n)
			k++;
		if ((unsigned char)v[k] < 0x20)
			continue;
		out[o++] = v[k];
	}
	out[o] = '\0';
}

int tk_osrel_parse(const char *p, size_t len, struct tk_osrel *out, struct tk_err *err)
{
	size_t i = 0, line = 0;
	memset(out, 0, sizeof(*out));
	while (i < len) {
		const char *ls = p + i, *nl = memchr(ls, '\n', len - i), *eq;
		size_t ll = nl ? (size_t)(nl - ls) : len - i;
		line++;
		i += ll + (nl ? 1 : 0);
		if (ll > 0 && ls[ll - 1] == '\r')
			ll--;
		if (ll == 0 || ls[0] == '#')
			continue;
		if (!(eq = memchr(ls, '=', ll)))
			return tk_seterr(err, TK_ERR_PARSE, "line %zu: expected KEY=value", line);
#define KEY(k, field)                                                                                \
	if ((size_t)(eq - ls) == strlen(k) && memcmp(ls, k, strlen(k)) == 0)                          \
		osrel_value(eq + 1, (size_t)(ls + ll - eq - 1), out->field, sizeof(out->field));
		KEY("ID", id)
		KEY("VERSION_ID", version_id)
		KEY("VERSION_CODENAME", codename)
		KEY("PRETTY_NAME", pretty)
		KEY("ID_LIKE", id_like)
#undef KEY
	}
	if (!out->id[0])
		return tk_seterr(err, TK_ERR_PARSE, "no ID= line");
	return TK_OK;
}

/* ---- nmap XML: <cpe> elements ---- */

int tk_nmap_cpes(const char *p, size_t len, char ***out, size_t *n, struct tk_err *err)
{
	char **v = NULL;
	size_t cnt = 0, cap = 0, i = 0, k;
	*out = NULL;
	*n = 0;
	if (len < 5 || (!memchr(p, '<', len > 256 ? 256 : len)))
		return tk_seterr(err, TK_ERR_PARSE, "not an XML document");
	while (i + 5 < len) {
		const char *s = memchr(p + i, '<', len - i), *e;
		char val[512];
		size_t o = 0, j;
		if (!s)
			break;
		i = (size_t)(s - p) + 1;
		if (len - (size_t)(s - p) < 5 || memcmp(s, "<cpe>", 5) != 0)
			continue;
		s += 5;
		e = NULL;
		for (j = (size_t)(s - p); j + 6 <= len; j++)
			if (p[j] == '<') {
				e = p + j;
				break;
			}
		if (!e || memcmp(e, "</cpe>", 6) != 0) {
			tk_strv_free(v);
			return tk_seterr(err, TK_ERR_PARSE, "byte offset %zu: <cpe> without </cpe>", (size_t)(s - p));
		}
		/* unescape entities and character references (tk_xml_entity); anything else is kept as is */
		for (j = 0; s + j < e && o + 1 < sizeof(val);) {
			char u[4];
			size_t ul = 0, used = s[j] == '&' ? tk_xml_entity(s + j, (size_t)(e - s) - j, u, &ul) : 0;
			if (used && o + ul < sizeof(val)) {
				memcpy(val + o, u, ul);
				o += ul;
				j += used;
			} else {
				val[o++] = s[j++];
			}
		}
		val[o] = '\0';
		i = (size_t)(e - p) + 6;
		if (o < 7 || memcmp(val, "cpe:/a:", 7) != 0 || has_ctl(val, o))
			continue;
		for (k = 0; k < cnt; k++)
			if (strcmp(v[k], val) == 0)
				break;
		if (k < cnt)
			continue;
		if (cnt >= TK_NMAP_MAX_CPES) {
			tk_strv_free(v);
			return tk_seterr(err, TK_ERR_LIMIT, "more than %d CPEs", TK_NMAP_MAX_CPES);
		}
		if (cnt + 1 >= cap) {
			size_t nc = cap ? cap * 2 : 16;
			char **nv = realloc(v, nc * sizeof(char *));
			if (!nv) {
				tk_strv_free(v);
				return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
			}
			v = nv;
			cap = nc;
		}
		if (!(v[cnt] = strdup(val))) {
			tk_strv_free(v);
			return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		}
		v[++cnt] = NULL;
	}
	if (!v && !(v = calloc(1, sizeof(char *))))
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	*out = v;
	*n = cnt;
	return TK_OK;
}
