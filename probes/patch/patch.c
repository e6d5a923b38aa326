/*
 * patch.c - probe "patch": are a partner's hosts missing fixes for known
 * vulnerabilities, and do they run an OS or middleware past end of support?
 * Offline: it reads package inventories and vulnerability feeds from files.
 *
 * Config:
 *   {"inventories": [{"host": "app1", "dpkg_status": "app1/status", "os_release": "app1/os-release",
 *                     "cpes": ["cpe:2.3:a:openssl:openssl:1.1.1k:*:*:*:*:*:*:*"], "nmap_xml": "app1/nmap.xml"},
 *                    {"host": "db1", "rpm_qa": "db1/rpm-qa.txt",
 *                     "os": {"id": "rocky", "version_id": "9.3"}},
 *                    {"host": "edge", "apk_installed": "edge/installed", "os_release": "edge/os-release"}],
 *    "feeds": [{"format": "debian-tracker", "path": "feeds/debian.json"},
 *              {"format": "nvd", "path": "feeds/nvd/"}, {"format": "osv", "path": "feeds/osv/"}],
 *    "as_of": "2026-11-23", "eol_table": "eol.json", "max_feed_mb": 1024}
 *
 * Emits per host "patch_host" (inventory and feed coverage), "patch_os"
 * (release and its end-of-support dates); per vulnerable package and CVE
 * "patch_vuln"; per CPE "patch_sw" (middleware end of support). Fixed and
 * not-affected packages are counted in patch_host.
 */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cvss.h"
#include "dpkgver.h"
#include "pkginv.h"
#include "probe.h"
#include "vulnfeed.h"

#define PATCH_MAX_FEED_FILES 100000
#define PATCH_MAX_SCORES_SHOWN 8
#define PATCH_MAX_BINARIES_SHOWN 16
#define PATCH_DEFAULT_MAX_FEED_AGE_DAYS 7

struct inv_cfg {
	char *host;
	char *path;          /* inventory file (may be NULL: CPEs only) */
	enum tk_inv_kind kind;
	char *os_release;    /* file, or NULL when os fields are given */
	struct tk_osrel os;
	bool os_given;
	char **cpes;
	size_t ncpes;
	char *nmap_xml;      /* nmap -oX report whose application CPEs are added */
};

struct feed_cfg {
	char *format;
	char *path;
	char *shown;         /* as written in the config */
};

struct patch_cfg {
	struct inv_cfg *inv;
	size_t ninv;
	struct feed_cfg *feeds;
	size_t nfeeds;
	time_t as_of;
	size_t max_feed_bytes;
	int max_feed_age_days; /* a feed whose data is older than this (as of as_of) is stale */
	cJSON *eol;          /* the end-of-life table */
	char *eol_origin;
};

static void patch_free(void *state)
{
	struct patch_cfg *c = state;
	size_t i;
	if (!c)
		return;
	for (i = 0; i < c->ninv; i++) {
		free(c->inv[i].host);
		free(c->inv[i].path);
		free(c->inv[i].os_release);
		tk_strv_free(c->inv[i].cpes);
		free(c->inv[i].nmap_xml);
	}
	for (i = 0; i < c->nfeeds; i++) {
		free(c->feeds[i].format);
		free(c->feeds[i].path);
		free(c->feeds[i].shown);
	}
	free(c->inv);
	free(c->feeds);
	cJSON_Delete(c->eol);
	free(c->eol_origin);
	free(c);
}

static int load_eol(struct patch_cfg *c, const char *file, const struct tk_cfgctx *cc, struct tk_err *err)
{
	char *text = NULL;
	size_t len = 0;
	const char *end = NULL;
	int rc;
	if (file) {
		char *p = tk_cfg_resolve(cc, file);
		if (!p)
			return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		rc = tk_read_file(p, 16 << 20, &text, &len, err);
		c->eol_origin = p;
		if (rc)
			return rc;
	} else {
		if ((rc = tk_cfg_data(cc, "tables/eol.json", &text, &len, err)))
			return rc;
		c->eol_origin = strdup("tables/eol.json");
	}
	c->eol = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (!c->eol || !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(c->eol, "os"))) {
		rc = tk_seterr(err, TK_ERR_CONFIG, "%s: %s", c->eol_origin ? c->eol_origin : "eol table",
			       c->eol ? "no \"os\" array" : "malformed JSON");
		free(text);
		return rc;
	}
	free(text);
	return TK_OK;
}

/* One inventories[idx] entry (q: its JSON path, for messages). */
static int cfg_inventory(struct patch_cfg *c, size_t idx, const cJSON *e, const char *q, const struct tk_cfgctx *cc,
			 struct tk_err *err)
{
	static const char *const ikeys[] = {"host", "dpkg_status", "rpm_qa", "apk_installed", "os_release", "os",
					    "cpes", "nmap_xml", NULL};
	static const char *const okeys[] = {"id", "version_id", "codename", "pretty_name", NULL};
	struct inv_cfg *iv = &c->inv[idx];
	const char *host = NULL, *dpkg = NULL, *rpm = NULL, *apk = NULL, *osr = NULL, *nmap = NULL;
	const cJSON *os;
	size_t k, nsrc;
	int rc;
	if (!cJSON_IsObject(e)) {
		rc = tk_cfg_err(err, cc, q, "expected an object");
		return rc;
	}
	if ((rc = tk_cfg_check_keys(e, ikeys, cc, q, err)) ||
	    (rc = tk_cfg_string(e, "host", true, &host, cc, q, err)) ||
	    (rc = tk_cfg_string(e, "dpkg_status", false, &dpkg, cc, q, err)) ||
	    (rc = tk_cfg_string(e, "rpm_qa", false, &rpm, cc, q, err)) ||
	    (rc = tk_cfg_string(e, "apk_installed", false, &apk, cc, q, err)) ||
	    (rc = tk_cfg_string(e, "os_release", false, &osr, cc, q, err)) ||
	    (rc = tk_cfg_string(e, "nmap_xml", false, &nmap, cc, q, err)) ||
	    (rc = tk_cfg_strings(e, "cpes", false, &iv->cpes, &iv->ncpes, cc, q, err)))
		return rc;
	for (k = 0; k < idx; k++)
		if (strcmp(c->inv[k].host, host) == 0) {
			rc = tk_cfg_err(err, cc, q, "host \"%s\" is listed twice", host);
			return rc;
		}
	if (!*host || strlen(host) > 200 || strchr(host, '/')) {
		rc = tk_cfg_err(err, cc, q, "host must be a non-empty name without '/'");
		return rc;
	}
	nsrc = (dpkg != NULL) + (rpm != NULL) + (apk != NULL);
	if (nsrc > 1 || (nsrc == 0 && iv->ncpes == 0 && !nmap)) {
		rc = tk_cfg_err(err, cc, q,
				"give exactly one of dpkg_status, rpm_qa, apk_installed (or only cpes / nmap_xml)");
		return rc;
	}
	iv->kind = dpkg ? TK_INV_DPKG : rpm ? TK_INV_RPM : apk ? TK_INV_APK : TK_INV_NONE;
	if (!(iv->host = strdup(host)) ||
	    (nsrc && !(iv->path = tk_cfg_resolve(cc, dpkg ? dpkg : rpm ? rpm : apk))) ||
	    (osr && !(iv->os_release = tk_cfg_resolve(cc, osr))) ||
	    (nmap && !(iv->nmap_xml = tk_cfg_resolve(cc, nmap)))) {
		rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		return rc;
	}
	for (k = 0; k < iv->ncpes; k++) {
		char v[8], pr[8], ver[8];
		if (tk_cpe_parts(iv->cpes[k], v, 1, pr, 1, ver, 1)) {
			char r[700];
			tk_path_key(r, sizeof(r), q, "cpes");
			tk_path_idx(r + strlen(r), sizeof(r) - strlen(r), "", k);
			rc = tk_cfg_err(err, cc, r, "\"%.100s\" is not a CPE 2.3 name (cpe:2.3:part:vendor:product:version:...)",
					iv->cpes[k]);
			return rc;
		}
	}
	os = cJSON_GetObjectItemCaseSensitive(e, "os");
	if (os) {
		char r[700];
		const char *id = NULL, *vid = NULL, *cn = NULL, *pn = NULL;
		tk_path_key(r, sizeof(r), q, "os");
		if (osr) {
			rc = tk_cfg_err(err, cc, r, "give either os or os_release, not both");
			return rc;
		}
		if (!cJSON_IsObject(os)) {
			rc = tk_cfg_err(err, cc, r, "expected {\"id\": ..., \"version_id\": ...}");
			return rc;
		}
		if ((rc = tk_cfg_check_keys(os, okeys, cc, r, err)) ||
		    (rc = tk_cfg_string(os, "id", true, &id, cc, r, err)) ||
		    (rc = tk_cfg_string(os, "version_id", true, &vid, cc, r, err)) ||
		    (rc = tk_cfg_string(os, "codename", false, &cn, cc, r, err)) ||
		    (rc = tk_cfg_string(os, "pretty_name", false, &pn, cc, r, err)))
			return rc;
		snprintf(iv->os.id, sizeof(iv->os.id), "%s", id);
		snprintf(iv->os.version_id, sizeof(iv->os.version_id), "%s", vid);
		snprintf(iv->os.codename, sizeof(iv->os.codename), "%s", cn ? cn : "");
		snprintf(iv->os.pretty, sizeof(iv->os.pretty), "%s", pn ? pn : "");
		iv->os_given = true;
	} else if (!osr && nsrc) {
		rc = tk_cfg_err(err, cc, q, "the host's OS is needed: give os_release (a file) or os {id, version_id}");
		return rc;
	}
	return TK_OK;
}

static int patch_configure(const cJSON *sec, const struct tk_cfgctx *cc, void **state, struct tk_err *err)
{
	static const char *const keys[] = {"inventories", "feeds", "as_of", "eol_table", "max_feed_mb",
					   "max_feed_age_days", NULL};
	static const char *const fkeys[] = {"format", "path", NULL};
	struct patch_cfg *c = calloc(1, sizeof(*c));
	const cJSON *invs = NULL, *feeds = NULL, *e;
	const char *as_of = NULL, *eol = NULL;
	long long mb = 1024, age = PATCH_DEFAULT_MAX_FEED_AGE_DAYS;
	char p[512], q[600];
	size_t i;
	int rc;
	*state = NULL;
	if (!c)
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	if ((rc = tk_cfg_check_keys(sec, keys, cc, cc->path, err)) ||
	    (rc = tk_cfg_array(sec, "inventories", true, &invs, cc, cc->path, err)) ||
	    (rc = tk_cfg_array(sec, "feeds", false, &feeds, cc, cc->path, err)) ||
	    (rc = tk_cfg_string(sec, "as_of", false, &as_of, cc, cc->path, err)) ||
	    (rc = tk_cfg_string(sec, "eol_table", false, &eol, cc, cc->path, err)) ||
	    (rc = tk_cfg_int(sec, "max_feed_mb", false, 1, 16384, &mb, cc, cc->path, err)) ||
	    (rc = tk_cfg_int(sec, "max_feed_age_days", false, 1, 3650, &age, cc, cc->path, err)))
		goto fail;
	c->max_feed_bytes = (size_t)mb << 20;
	c->max_feed_age_days = (int)age;
	c->as_of = time(NULL);
	if (as_of && tk_parse_time(as_of, &c->as_of)) {
		tk_path_key(p, sizeof(p), cc->path, "as_of");
		rc = tk_cfg_err(err, cc, p, "expected a date YYYY-MM-DD or RFC 3339 UTC time");
		goto fail;
	}
	c->ninv = (size_t)cJSON_GetArraySize(invs);
	c->inv = calloc(c->ninv ? c->ninv : 1, sizeof(*c->inv));
	c->nfeeds = feeds ? (size_t)cJSON_GetArraySize(feeds) : 0;
	c->feeds = calloc(c->nfeeds ? c->nfeeds : 1, sizeof(*c->feeds));
	if (!c->inv || !c->feeds) {
		rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		goto fail;
	}
	tk_path_key(p, sizeof(p), cc->path, "inventories");
	i = 0;
	cJSON_ArrayForEach(e, invs)
	{
		tk_path_idx(q, sizeof(q), p, i);
		if ((rc = cfg_inventory(c, i, e, q, cc, err)))
			goto fail;
		i++;
	}
	tk_path_key(p, sizeof(p), cc->path, "feeds");
	i = 0;
	cJSON_ArrayForEach(e, feeds)
	{
		const char *fmt = NULL, *path = NULL;
		tk_path_idx(q, sizeof(q), p, i);
		if (!cJSON_IsObject(e)) {
			rc = tk_cfg_err(err, cc, q, "expected {\"format\": ..., \"path\": ...}");
			goto fail;
		}
		if ((rc = tk_cfg_check_keys(e, fkeys, cc, q, err)) ||
		    (rc = tk_cfg_string(e, "format", true, &fmt, cc, q, err)) ||
		    (rc = tk_cfg_string(e, "path", true, &path, cc, q, err)))
			goto fail;
		if (strcmp(fmt, "debian-tracker") != 0 && strcmp(fmt, "nvd") != 0 && strcmp(fmt, "osv") != 0) {
			char r[700];
			tk_path_key(r, sizeof(r), q, "format");
			rc = tk_cfg_err(err, cc, r, "unknown feed format \"%.50s\" (debian-tracker, nvd, osv)", fmt);
			goto fail;
		}
		if (!(c->feeds[i].format = strdup(fmt))) {
			rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
			goto fail;
		}
		if ((rc = tk_cfg_resolve_shown(cc, path, &c->feeds[i].path, &c->feeds[i].shown, err)))
			goto fail;
		i++;
	}
	if ((rc = load_eol(c, eol, cc, err))) {
		tk_path_key(p, sizeof(p), cc->path, "eol_table");
		tk_err_prefix(err, "%s: %s", cc->file, p);
		goto fail;
	}
	*state = c;
	return TK_OK;
fail:
	patch_free(c);
	return rc;
}

/* ---- per-host state during a run ---- */

struct unit {               /* one (package name, installed version) to match */
	char *name;
	char *group;        /* what a finding is about: the source package (rpm: the SRPM name) */
	char *version;
	cJSON *binaries;    /* array of binary package names */
};

struct host {
	const struct inv_cfg *cfg;
	struct tk_inventory inv;
	struct tk_osrel os;
	bool ok;            /* inventory and os read */
	char ecos[8][80];   /* ecosystem tags this host matches */
	size_t necos;
	char release[64];   /* tracker release codename */
	struct unit *units;
	size_t nunits;
	char **cpes;        /* config cpes + those of nmap_xml */
	size_t ncpes;
};

static const char *const debian_codenames[][2] = {
	{"7", "wheezy"}, {"8", "jessie"}, {"9", "stretch"}, {"10", "buster"}, {"11", "bullseye"},
	{"12", "bookworm"}, {"13", "trixie"}, {"14", "forky"}, {"15", "duke"},
};

static void major_of(const char *v, char *out, size_t size)
{
	size_t n = strcspn(v, ".");
	snprintf(out, size, "%.*s", (int)(n < size ? n : size - 1), v);
}

/* ecosystem tag = prefix + a + b */
static void add_eco(struct host *h, const char *prefix, const char *a, const char *b)
{
	if (h->necos < TK_ARRAY_LEN(h->ecos))
		snprintf(h->ecos[h->necos++], sizeof(h->ecos[0]), "%s%s%s", prefix, a, b);
}

/* The ecosystems (OSV) and tracker release a host's packages are judged in. */
static void host_ecos(struct host *h)
{
	const struct tk_osrel *o = &h->os;
	char major[32], mm[32];
	size_t k;
	major_of(o->version_id, major, sizeof(major));
	{
		size_t n = strcspn(o->version_id, ".");
		size_t n2 = o->version_id[n] ? n + 1 + strcspn(o->version_id + n + 1, ".") : n;
		snprintf(mm, sizeof(mm), "%.*s", (int)(n2 < sizeof(mm) ? n2 : sizeof(mm) - 1), o->version_id);
	}
	if (strcmp(o->id, "debian") == 0) {
		const char *cn = o->codename;
		for (k = 0; !*cn && k < TK_ARRAY_LEN(debian_codenames); k++)
			if (strcmp(debian_codenames[k][0], major) == 0)
				cn = debian_codenames[k][1];
		snprintf(h->release, sizeof(h->release), "%s", cn);
		add_eco(h, "tracker:", cn, "");
		add_eco(h, "Debian:", major, "");
		if (*cn)
			add_eco(h, "Debian:", cn, "");
	} else if (strcmp(o->id, "ubuntu") == 0) {
		add_eco(h, "Ubuntu:", o->version_id, "");
		add_eco(h, "Ubuntu:", o->version_id, ":LTS");
	} else if (strcmp(o->id, "alpine") == 0) {
		add_eco(h, "Alpine:v", mm, "");
	} else if (strcmp(o->id, "rocky") == 0) {
		add_eco(h, "Rocky Linux:", major, "");
	} else if (strcmp(o->id, "almalinux") == 0) {
		add_eco(h, "AlmaLinux:", major, "");
	} else if (strcmp(o->id, "rhel") == 0 || strcmp(o->id, "centos") == 0) {
		add_eco(h, "Red Hat:enterprise_linux:", major, "");
		add_eco(h, "Red Hat:rhel_eus:", major, "");
	}
}

static bool host_has_eco(const struct host *h, const char *eco)
{
	size_t k;
	for (k = 0; k < h->necos; k++)
		if (strcmp(h->ecos[k], eco) == 0)
			return true;
	/* Red Hat OSV ecosystems carry a minor/EUS suffix: "Red Hat:enterprise_linux:9::appstream" */
	for (k = 0; k < h->necos; k++)
		if (strncmp(h->ecos[k], "Red Hat:", 8) == 0 && strncmp(eco, h->ecos[k], strlen(h->ecos[k])) == 0 &&
		    (eco[strlen(h->ecos[k])] == ':' || eco[strlen(h->ecos[k])] == '.'))
			return true;
	return false;
}

static int unit_cmp(const void *x, const void *y)
{
	const struct unit *a = x, *b = y;
	int c = strcmp(a->name, b->name);
	if (!c)
		c = strcmp(a->group, b->group);
	return c ? c : strcmp(a->version, b->version);
}

static void host_clear(struct host *h)
{
	size_t k;
	tk_inv_clear(&h->inv);
	tk_strv_free(h->cpes);
	for (k = 0; k < h->nunits; k++) {
		free(h->units[k].name);
		free(h->units[k].group);
		free(h->units[k].version);
		cJSON_Delete(h->units[k].binaries);
	}
	free(h->units);
}

/* Build the match units: dpkg by source, apk by origin, rpm by binary and source name. */
static int host_units(struct host *h)
{
	size_t k, n = 0, cap = h->inv.n * 2 + 1, w;
	struct unit *u = calloc(cap, sizeof(*u));
	if (!u)
		return TK_ERR_NOMEM;
	for (k = 0; k < h->inv.n; k++) {
		const struct tk_pkg *p = &h->inv.pkgs[k];
		if (h->inv.kind == TK_INV_DPKG || h->inv.kind == TK_INV_APK) {
			u[n].name = strdup(p->source);
			u[n].version = strdup(p->source_version);
		} else {
			/* rpm: advisories name binary packages (or the source); findings are per source */
			u[n].name = strdup(p->name);
			u[n].version = strdup(p->version);
			if (strcmp(p->source, p->name) != 0) {
				u[n].group = strdup(p->source);
				u[n].binaries = cJSON_CreateArray();
				cJSON_AddItemToArray(u[n].binaries, cJSON_CreateString(p->name));
				n++;
				u[n].name = strdup(p->source);
				u[n].version = strdup(p->version);
			}
		}
		u[n].group = strdup(p->source);
		u[n].binaries = cJSON_CreateArray();
		cJSON_AddItemToArray(u[n].binaries, cJSON_CreateString(p->name));
		n++;
	}
	for (k = 0; k < n; k++)
		if (!u[k].name || !u[k].group || !u[k].version || !u[k].binaries) {
			h->units = u;
			h->nunits = n;
			return TK_ERR_NOMEM;
		}
	qsort(u, n, sizeof(*u), unit_cmp);
	/* merge equal (name, version) */
	for (k = 0, w = 0; k < n; k++) {
		if (w > 0 && unit_cmp(&u[w - 1], &u[k]) == 0) {
			cJSON *b;
			while ((b = cJSON_DetachItemFromArray(u[k].binaries, 0)))
				if (cJSON_GetArraySize(u[w - 1].binaries) < PATCH_MAX_BINARIES_SHOWN)
					cJSON_AddItemToArray(u[w - 1].binaries, b);
				else
					cJSON_Delete(b);
			free(u[k].name);
			free(u[k].group);
			free(u[k].version);
			cJSON_Delete(u[k].binaries);
			continue;
		}
		u[w++] = u[k];
	}
	h->units = u;
	h->nunits = w;
	return TK_OK;
}

static int read_host(struct host *h, size_t max, struct tk_err *err)
{
	char *text = NULL;
	size_t len = 0;
	int rc = TK_OK;
	const struct inv_cfg *c = h->cfg;
	h->inv.kind = c->kind;
	if (c->os_given) {
		h->os = c->os;
	} else if (c->os_release) {
		if ((rc = tk_read_file(c->os_release, 1 << 20, &text, &len, err)))
			goto out;
		if ((rc = tk_osrel_parse(text, len, &h->os, err))) {
			tk_err_prefix(err, "%s", c->os_release);
			goto out;
		}
		free(text);
		text = NULL;
	}
	if (c->path) {
		if ((rc = tk_read_file(c->path, max, &text, &len, err)))
			goto out;
		if (c->kind == TK_INV_DPKG)
			rc = tk_inv_parse_dpkg(text, len, &h->inv, err);
		else if (c->kind == TK_INV_RPM)
			rc = tk_inv_parse_rpmqa(text, len, &h->inv, err);
		else
			rc = tk_inv_parse_apk(text, len, &h->inv, err);
		if (rc) {
			tk_err_prefix(err, "%s", c->path);
			goto out;
		}
		if ((rc = host_units(h))) {
			tk_seterr(err, rc, "out of memory");
			goto out;
		}
	}
	/* CPEs: the config's, then the application CPEs nmap's service detection found */
	{
		char **nm = NULL;
		size_t nn = 0, k;
		if (c->nmap_xml) {
			free(text);
			text = NULL;
			if ((rc = tk_read_file(c->nmap_xml, 256 << 20, &text, &len, err)))
				goto out;
			if ((rc = tk_nmap_cpes(text, len, &nm, &nn, err))) {
				tk_err_prefix(err, "%s", c->nmap_xml);
				goto out;
			}
		}
		if (!(h->cpes = calloc(c->ncpes + nn + 1, sizeof(char *)))) {
			tk_strv_free(nm);
			rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
			goto out;
		}
		for (k = 0; k < c->ncpes; k++)
			if ((h->cpes[h->ncpes] = strdup(c->cpes[k])))
				h->ncpes++;
		for (k = 0; k < nn; k++) {
			size_t j;
			for (j = 0; j < h->ncpes && strcmp(h->cpes[j], nm[k]) != 0; j++)
				;
			if (j == h->ncpes && (h->cpes[h->ncpes] = strdup(nm[k])))
				h->ncpes++;
		}
		tk_strv_free(nm);
	}
	host_ecos(h);
	h->ok = true;
out:
	free(text);
	return rc;
}

/* ---- feeds ---- */

struct strlist {
	const char **v;
	size_t n, cap;
};

static int sl_add(struct strlist *l, const char *s)
{
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 64;
		const char **nv = realloc(l->v, nc * sizeof(*nv));
		if (!nv)
			return TK_ERR_NOMEM;
		l->v = nv;
		l->cap = nc;
	}
	l->v[l->n++] = s;
	return TK_OK;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The .json files of a directory, sorted; or the path itself when it is a file. */
static int feed_files(const char *path, char ***out, size_t *n, struct tk_err *err)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	char **v = NULL;
	size_t cap = 0, k = 0;
	*out = NULL;
	*n = 0;
	if (stat(path, &st) != 0)
		return tk_seterr(err, TK_ERR_IO, "%s: cannot open (%s)", path, "no such file or directory");
	if (!S_ISDIR(st.st_mode)) {
		if (!(v = calloc(2, sizeof(char *))) || !(v[0] = strdup(path))) {
			free(v);
			return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		}
		*out = v;
		*n = 1;
		return TK_OK;
	}
	if (!(d = opendir(path)))
		return tk_seterr(err, TK_ERR_IO, "%s: cannot read the directory", path);
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (l < 6 || strcmp(de->d_name + l - 5, ".json") != 0 || de->d_name[0] == '.')
			continue;
		if (k >= PATCH_MAX_FEED_FILES) {
			closedir(d);
			tk_strv_free(v);
			return tk_seterr(err, TK_ERR_LIMIT, "%s: more than %d .json files", path, PATCH_MAX_FEED_FILES);
		}
		if (k + 1 >= cap) {
			size_t nc = cap ? cap * 2 : 64;
			char **nv = realloc(v, nc * sizeof(char *));
			if (!nv) {
				closedir(d);
				tk_strv_free(v);
				return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
			}
			v = nv;
			cap = nc;
		}
		v[k] = tk_path_join(path, de->d_name);
		v[++k] = NULL;
	}
	closedir(d);
	if (k)
		qsort(v, k, sizeof(char *), name_cmp);
	*out = v;
	*n = k;
	return TK_OK;
}

/*
 * When the feed's data was obtained: `tenken feed update`'s fetched_at in
 * FILE.meta.json when there is one, else the file's modification time (the
 * newest file of a directory). 0 when unknown.
 */
static time_t feed_data_time(const char *file, time_t mtime)
{
	char meta[1100], *text = NULL;
	size_t len = 0;
	struct tk_err e = {0};
	time_t t = mtime;
	snprintf(meta, sizeof(meta), "%s.meta.json", file);
	if (tk_read_file(meta, 1 << 16, &text, &len, &e) == TK_OK) {
		cJSON *m = cJSON_ParseWithLength(text, len);
		const char *fa = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "fetched_at"));
		time_t ft;
		if (fa && tk_parse_time(fa, &ft) == TK_OK)
			t = ft;
		cJSON_Delete(m);
		free(text);
	}
	return t;
}

/* One file of a feed into db; *newest is raised to its data time. */
static int load_feed_file(const struct patch_cfg *c, const struct feed_cfg *f, const char *file, const char *shown,
			  struct tk_vdb *db, const struct tk_vdb_want *want, struct tk_vdb_stats *st, time_t *newest,
			  struct tk_err *err)
{
	char *text = NULL;
	size_t len = 0;
	struct stat sb;
	int rc;
	if ((rc = tk_read_file(file, c->max_feed_bytes, &text, &len, err))) {
		tk_err_prefix(err, "%s", shown);
		return rc;
	}
	if (strcmp(f->format, "debian-tracker") == 0)
		rc = tk_vdb_load_debian(db, text, len, shown, want, st, err);
	else if (strcmp(f->format, "nvd") == 0)
		rc = tk_vdb_load_nvd(db, text, len, shown, want, st, err);
	else
		rc = tk_vdb_load_osv(db, text, len, shown, want, st, err);
	free(text);
	if (rc == TK_OK) {
		time_t t = feed_data_time(file, stat(file, &sb) == 0 ? sb.st_mtime : 0);
		if (t > *newest)
			*newest = t;
	}
	return rc;
}

/*
 * Load one configured feed (a file or a directory of *.json), all or
 * nothing: when any file fails, everything this feed added is rolled back,
 * so that nothing read before the error is judged. The summary says what
 * was loaded, the data's date and age (staleness is judged by the caller).
 */
static int load_feed(const struct patch_cfg *c, const struct feed_cfg *f, struct tk_vdb *db,
		     const struct tk_vdb_want *want, struct tk_runctx *ctx, cJSON *summary, time_t *data_time,
		     struct tk_err *err)
{
	char **files = NULL;
	size_t nfiles = 0, k, records = 0, kept = 0, scores = 0, withdrawn = 0, no_cve = 0;
	char shown[1200];
	struct tk_vdb_mark mark = tk_vdb_mark(db);
	int rc;
	*data_time = 0;
	if ((rc = feed_files(f->path, &files, &nfiles, err)))
		goto out;
	if (nfiles == 0)
		rc = tk_seterr(err, TK_ERR_IO, "%s: no .json files in the directory", f->shown);
	for (k = 0; k < nfiles && rc == TK_OK; k++) {
		struct tk_vdb_stats st;
		if (tk_run_cancelled(ctx) || tk_run_remaining_ms(ctx, 0) <= 0) {
			rc = tk_seterr(err, TK_ERR_CANCELLED, "stopped while loading %s", files[k]);
			break;
		}
		/* messages name the file as the config does: "feeds/nvd/page-0002.json" */
		if (nfiles > 1 || strcmp(files[k], f->path) != 0) {
			const char *base = strrchr(files[k], '/');
			size_t sl = strlen(f->shown);
			snprintf(shown, sizeof(shown), "%s%s%s", f->shown, sl && f->shown[sl - 1] == '/' ? "" : "/",
				 base ? base + 1 : files[k]);
		} else {
			snprintf(shown, sizeof(shown), "%s", f->shown);
		}
		if ((rc = load_feed_file(c, f, files[k], shown, db, want, &st, data_time, err)))
			break;
		records += st.records;
		kept += st.kept;
		scores += st.scores;
		withdrawn += st.withdrawn;
		no_cve += st.no_cve;
	}
out:
	tk_strv_free(files);
	if (rc) {
		tk_vdb_rollback(db, mark);
		records = kept = scores = 0;
	}
	cJSON_AddStringToObject(summary, "format", f->format);
	cJSON_AddStringToObject(summary, "path", f->shown);
	cJSON_AddNumberToObject(summary, "files", (double)nfiles);
	cJSON_AddNumberToObject(summary, "records", (double)records);
	cJSON_AddNumberToObject(summary, "kept", (double)kept);
	cJSON_AddNumberToObject(summary, "scores", (double)scores);
	if (withdrawn)
		cJSON_AddNumberToObject(summary, "withdrawn_skipped", (double)withdrawn);
	if (no_cve)
		cJSON_AddNumberToObject(summary, "bugfix_advisories_skipped", (double)no_cve);
	cJSON_AddBoolToObject(summary, "loaded", rc == TK_OK);
	if (rc)
		cJSON_AddStringToObject(summary, "error", err->msg);
	return rc;
}

/* ---- judgement facts ---- */

static double days_between(time_t from, time_t to)
{
	return (double)((long long)(to - from) / 86400);
}

static void date_str(time_t t, char out[16])
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 16, "%Y-%m-%d", &tm);
}

static const char *ver_name(int v)
{
	return v == 31 ? "3.1" : v == 30 ? "3.0" : v == 40 ? "4.0" : "2.0";
}

/* Add score facts for cve; returns whether any score was found. */
static bool add_scores(cJSON *o, const struct tk_vdb *db, const char *cve)
{
	size_t first, n, k;
	cJSON *arr;
	tk_vdb_find_scores(db, cve, &first, &n);
	cJSON_AddBoolToObject(o, "scored", n > 0);
	if (n == 0)
		return false;
	{
		const struct tk_score *b = &db->sc[first];
		cJSON_AddNumberToObject(o, "score", b->score);
		cJSON_AddStringToObject(o, "cvss_version", ver_name(b->version));
		cJSON_AddStringToObject(o, "vector", b->vector);
		cJSON_AddStringToObject(o, "score_source", b->source);
		cJSON_AddStringToObject(o, "severity", tk_cvss_severity(b->score));
		cJSON_AddStringToObject(o, "jvn_level", tk_cvss_jvn_level(b->score));
	}
	/* one score without a published value is all in the fields above: not repeated */
	if (n == 1 && db->sc[first].published < 0 && db->sc[first].version != 40)
		return true;
	arr = cJSON_AddArrayToObject(o, "scores");
	for (k = 0; k < n && k < PATCH_MAX_SCORES_SHOWN; k++) {
		const struct tk_score *s = &db->sc[first + k];
		cJSON *e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "source", s->source);
		cJSON_AddStringToObject(e, "cvss_version", ver_name(s->version));
		cJSON_AddStringToObject(e, "vector", s->vector);
		cJSON_AddNumberToObject(e, "score", s->score);
		if (s->published >= 0)
			cJSON_AddNumberToObject(e, "published_score", s->published);
		if (s->version == 40)
			cJSON_AddStringToObject(e, "note", "CVSS 4.0 score as published (not recomputed)");
		cJSON_AddItemToArray(arr, e);
	}
	return true;
}

static const char *match_state(enum tk_match m)
{
	switch (m) {
	case TK_M_VULN_FIXABLE: return "vulnerable";
	case TK_M_VULN_NOFIX: return "unfixed";
	case TK_M_UNDETERMINED: return "undetermined";
	case TK_M_FIXED: return "fixed";
	default: return "not_affected";
	}
}

struct counts {
	size_t checked, fixable, unfixed, undetermined, fixed, not_affected;
};

static int feed_rank(const struct patch_cfg *c, const char *feed)
{
	size_t k;
	for (k = 0; k < c->nfeeds; k++)
		if (strcmp(c->feeds[k].format, feed) == 0)
			return (int)k;
	return (int)c->nfeeds;
}

/* One (unit, CVE) verdict waiting to be merged per (source package, CVE). */
struct pend {
	const struct unit *u;
	const char *cve;      /* borrowed from the db */
	enum tk_match m;
	cJSON *obs;           /* the patch_vuln observation (owned) when m is a vulnerable state */
};

struct pendv {
	struct pend *v;
	size_t n, cap;
};

static bool is_vuln(enum tk_match m)
{
	return m == TK_M_VULN_FIXABLE || m == TK_M_VULN_NOFIX || m == TK_M_UNDETERMINED;
}

/* Lower is worse: the representative of a (source, CVE) is its worst verdict. */
static int match_rank(enum tk_match m)
{
	switch (m) {
	case TK_M_VULN_FIXABLE: return 0;
	case TK_M_VULN_NOFIX: return 1;
	case TK_M_UNDETERMINED: return 2;
	case TK_M_FIXED: return 3;
	default: return 4;
	}
}

static int pend_cmp(const void *x, const void *y)
{
	const struct pend *a = x, *b = y;
	int c = strcmp(a->u->group, b->u->group);
	if (!c)
		c = strcmp(a->cve, b->cve);
	return c ? c : match_rank(a->m) - match_rank(b->m);
}

static cJSON *other_source(const struct tk_adv *a, enum tk_match m, const char *fix)
{
	cJSON *x = cJSON_CreateObject();
	cJSON_AddStringToObject(x, "feed", a->feed);
	cJSON_AddStringToObject(x, "record", a->record);
	cJSON_AddStringToObject(x, "feed_file", a->file);
	cJSON_AddStringToObject(x, "state", match_state(m));
	if (fix)
		cJSON_AddStringToObject(x, "fixed", fix);
	return x;
}

/* The release date of the fix: this source's, else another advisory's naming the same fixed version. */
static void add_fix_date(cJSON *o, const struct patch_cfg *c, const struct host *h, const struct unit *u,
			 const struct tk_vdb *db, size_t k, size_t end, size_t best, const char *bfix)
{
	const struct tk_adv *a = &db->adv[best];
	time_t pub = a->published;
	const char *pub_from = a->record;
	size_t j;
	for (j = k; !pub && j < end; j++) {
		const char *f2;
		if (j != best && db->adv[j].published && host_has_eco(h, db->adv[j].eco) &&
		    tk_adv_match(&db->adv[j], u->version, &f2) == TK_M_VULN_FIXABLE && f2 &&
		    tk_vcmp(a->scheme, f2, bfix) == 0) {
			pub = db->adv[j].published;
			pub_from = db->adv[j].record;
		}
	}
	if (pub) {
		char d[16];
		date_str(pub, d);
		cJSON_AddStringToObject(o, "fix_published", d);
		cJSON_AddStringToObject(o, "fix_published_from", pub_from);
		cJSON_AddNumberToObject(o, "days_since_fix", days_between(pub, c->as_of));
	}
}

/*
 * The facts of one (source package, CVE) for the advisory that decides
 * (db->adv[best]): an entry of the package's patch_vuln observation
 * (merge_and_emit groups the entries and states their common facts once).
 */
static cJSON *vuln_obs(const struct patch_cfg *c, const struct host *h, const struct unit *u, const struct tk_vdb *db,
		       size_t k, size_t end, size_t best, enum tk_match bm, const char *bfix)
{
	const struct tk_adv *a = &db->adv[best];
	cJSON *o;
	if (!(o = cJSON_CreateObject()))
		return NULL;
	cJSON_AddStringToObject(o, "cve", a->cve);
	cJSON_AddItemToObject(o, "binaries", cJSON_Duplicate(u->binaries, true));
	cJSON_AddStringToObject(o, "installed", u->version);
	cJSON_AddStringToObject(o, "state", match_state(bm));
	cJSON_AddBoolToObject(o, "fix_available", bm == TK_M_VULN_FIXABLE);
	if (bfix)
		cJSON_AddStringToObject(o, "fixed", bfix);
	cJSON_AddStringToObject(o, "feed", a->feed);
	cJSON_AddStringToObject(o, "record", a->record);
	cJSON_AddStringToObject(o, "feed_file", a->file);
	cJSON_AddStringToObject(o, "ecosystem", a->eco);
	if (a->status)
		cJSON_AddStringToObject(o, "tracker_status", a->status);
	if (a->urgency)
		cJSON_AddStringToObject(o, "urgency", a->urgency);
	cJSON_AddBoolToObject(o, "distro_unimportant", a->urgency && strncmp(a->urgency, "unimportant", 11) == 0);
	if (bm == TK_M_VULN_FIXABLE)
		add_fix_date(o, c, h, u, db, k, end, best, bfix);
	add_scores(o, db, a->cve);
	return o;
}

static int pend_add(struct pendv *pv, const struct unit *u, const char *cve, enum tk_match m, cJSON *obs)
{
	if (pv->n == pv->cap) {
		size_t nc = pv->cap ? pv->cap * 2 : 256;
		struct pend *nv = realloc(pv->v, nc * sizeof(*nv));
		if (!nv)
			return TK_ERR_NOMEM;
		pv->v = nv;
		pv->cap = nc;
	}
	pv->v[pv->n].u = u;
	pv->v[pv->n].cve = cve;
	pv->v[pv->n].m = m;
	pv->v[pv->n].obs = obs;
	pv->n++;
	return TK_OK;
}

/* Judge one unit against its advisories: one verdict per CVE (the first-listed feed decides). */
static int match_unit(const struct patch_cfg *c, const struct host *h, const struct unit *u, const struct tk_vdb *db,
		      struct pendv *pv)
{
	size_t first, n, k, j;
	tk_vdb_find_pkg(db, u->name, &first, &n);
	for (k = first; k < first + n;) {
		/* advisories sorted by (pkg, cve): one CVE at a time */
		size_t end = k, best = SIZE_MAX;
		enum tk_match bm = TK_M_NOT_AFFECTED;
		const char *bfix = NULL;
		cJSON *others = NULL, *o = NULL;
		while (end < first + n && strcmp(db->adv[end].cve, db->adv[k].cve) == 0)
			end++;
		for (j = k; j < end; j++) {
			const struct tk_adv *a = &db->adv[j];
			const char *fix;
			enum tk_match m;
			if (!host_has_eco(h, a->eco))
				continue;
			m = tk_adv_match(a, u->version, &fix);
			if (!others && !(others = cJSON_CreateArray()))
				return TK_ERR_NOMEM;
			if (best == SIZE_MAX || feed_rank(c, a->feed) < feed_rank(c, db->adv[best].feed)) {
				if (best != SIZE_MAX)
					cJSON_AddItemToArray(others, other_source(&db->adv[best], bm, bfix));
				best = j;
				bm = m;
				bfix = fix;
			} else {
				cJSON_AddItemToArray(others, other_source(a, m, fix));
			}
		}
		if (best != SIZE_MAX) {
			if (is_vuln(bm)) {
				if (!(o = vuln_obs(c, h, u, db, k, end, best, bm, bfix))) {
					cJSON_Delete(others);
					return TK_ERR_NOMEM;
				}
				if (cJSON_GetArraySize(others) > 0) {
					cJSON_AddItemToObject(o, "other_sources", others);
					others = NULL;
				}
			}
			if (pend_add(pv, u, db->adv[best].cve, bm, o)) {
				cJSON_Delete(o);
				cJSON_Delete(others);
				return TK_ERR_NOMEM;
			}
		}
		cJSON_Delete(others);
		k = end;
	}
	return TK_OK;
}

/* Add the binary names of from to into (no duplicates, bounded). */
static void merge_binaries(cJSON *into, const cJSON *from)
{
	const cJSON *b, *x;
	cJSON_ArrayForEach(b, from)
	{
		bool dup = false;
		cJSON_ArrayForEach(x, into) if (cJSON_IsString(x) && strcmp(x->valuestring, b->valuestring) == 0) dup =
		    true;
		if (!dup && cJSON_GetArraySize(into) < PATCH_MAX_BINARIES_SHOWN)
			cJSON_AddItemToArray(into, cJSON_CreateString(b->valuestring));
	}
}

/*
 * Emit a package's patch_vuln observation: target HOST/SOURCE, "entries" one
 * per CVE (keyed by "cve", see rules/evaluate.c). A fact every entry has with
 * the same value (feed, feed file, installed version, binaries, score
 * source, ...) is moved to the observation and stated once. Takes entries.
 */
static int emit_package(const struct host *h, const char *group, cJSON *entries, struct tk_runctx *ctx)
{
	char target[700];
	cJSON *o, *first = entries->child, *f, *next, *e;
	snprintf(target, sizeof(target), "%s/%s", h->cfg->host, group);
	if (!(o = tk_obs_new(ctx, "patch_vuln", target))) {
		cJSON_Delete(entries);
		return TK_ERR_NOMEM;
	}
	cJSON_AddStringToObject(o, "host", h->cfg->host);
	cJSON_AddStringToObject(o, "package", group);
	cJSON_AddStringToObject(o, "entry_key", "cve");
	for (f = first ? first->child : NULL; f; f = next) {
		bool common = true;
		next = f->next;
		if (strcmp(f->string, "cve") == 0)
			continue;
		for (e = first->next; e && common; e = e->next)
			common = cJSON_Compare(f, cJSON_GetObjectItemCaseSensitive(e, f->string), true);
		if (!common)
			continue;
		for (e = first->next; e; e = e->next)
			cJSON_DeleteItemFromObjectCaseSensitive(e, f->string);
		cJSON_AddItemToObject(o, f->string, cJSON_DetachItemViaPointer(first, f));
	}
	cJSON_AddItemToObject(o, "entries", entries);
	tk_emit(ctx, o);
	return TK_OK;
}

/*
 * One CVE per source package per host: verdicts are sorted by (source, CVE,
 * worst first); the worst one is the finding, the binary packages of the
 * others in a vulnerable state are added to its evidence. The CVEs of a
 * source package are one observation (emit_package). Emits and frees; out
 * of memory drops no CVE silently: the probe run fails (TK_ERR_NOMEM).
 */
static int merge_and_emit(const struct host *h, struct pendv *pv, struct counts *cn, struct tk_runctx *ctx)
{
	size_t k = 0, j;
	cJSON *entries = NULL;
	const char *group = NULL;
	int rc = TK_OK;
	if (pv->n)
		qsort(pv->v, pv->n, sizeof(*pv->v), pend_cmp);
	while (k < pv->n) {
		struct pend *rep = &pv->v[k];
		for (j = k + 1; j < pv->n && strcmp(pv->v[j].u->group, rep->u->group) == 0 &&
				strcmp(pv->v[j].cve, rep->cve) == 0;
		     j++) {
			if (rep->obs && pv->v[j].obs)
				merge_binaries(cJSON_GetObjectItemCaseSensitive(rep->obs, "binaries"),
					       cJSON_GetObjectItemCaseSensitive(pv->v[j].obs, "binaries"));
			cJSON_Delete(pv->v[j].obs);
			pv->v[j].obs = NULL;
		}
		cn->checked++;
		switch (rep->m) {
		case TK_M_VULN_FIXABLE: cn->fixable++; break;
		case TK_M_VULN_NOFIX: cn->unfixed++; break;
		case TK_M_UNDETERMINED: cn->undetermined++; break;
		case TK_M_FIXED: cn->fixed++; break;
		default: cn->not_affected++; break;
		}
		if (rep->obs) {
			if (entries && strcmp(group, rep->u->group) != 0) {
				if (emit_package(h, group, entries, ctx))
					rc = TK_ERR_NOMEM;
				entries = NULL;
			}
			if (!entries && !(entries = cJSON_CreateArray())) {
				cJSON_Delete(rep->obs);
				rc = TK_ERR_NOMEM;
			} else {
				group = rep->u->group;
				cJSON_AddItemToArray(entries, rep->obs);
			}
		}
		rep->obs = NULL;
		k = j;
	}
	if (entries && emit_package(h, group, entries, ctx))
		rc = TK_ERR_NOMEM;
	pv->n = 0;
	return rc;
}

/* End-of-life table lookups. */
static const cJSON *eol_os(const cJSON *eol, const struct tk_osrel *os)
{
	const cJSON *e;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(eol, "os"))
	{
		const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "id"));
		const char *ver = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "version"));
		size_t vl;
		if (!id || !ver || strcmp(id, os->id) != 0)
			continue;
		vl = strlen(ver);
		if (strncmp(os->version_id, ver, vl) == 0 && (os->version_id[vl] == '\0' || os->version_id[vl] == '.'))
			return e;
	}
	return NULL;
}

static void add_eol_dates(cJSON *o, const cJSON *e, time_t as_of)
{
	static const char *const copy[] = {"name", "end_basis", "source", "security_end", "note", NULL};
	const char *end = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "end"));
	const char *sec = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "security_end"));
	time_t t;
	size_t k;
	cJSON_AddBoolToObject(o, "eol_known", end && tk_parse_time(end, &t) == TK_OK);
	for (k = 0; copy[k]; k++) {
		const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, copy[k]));
		if (v)
			cJSON_AddStringToObject(o, copy[k], v);
	}
	{
		/* true: read on the cited source; false: unverified (see the table's note); absent: not re-checked */
		const cJSON *ver = cJSON_GetObjectItemCaseSensitive(e, "verified");
		if (cJSON_IsBool(ver))
			cJSON_AddBoolToObject(o, "eol_verified", cJSON_IsTrue(ver));
	}
	if (end && tk_parse_time(end, &t) == TK_OK) {
		cJSON_AddStringToObject(o, "end_of_support", end);
		cJSON_AddNumberToObject(o, "days_past_end", days_between(t, as_of));
	}
	if (sec && tk_parse_time(sec, &t) == TK_OK)
		cJSON_AddNumberToObject(o, "days_past_security_end", days_between(t, as_of));
}

static const cJSON *eol_sw(const cJSON *eol, const char *vendor, const char *product, const char *version)
{
	const cJSON *e, *best = NULL;
	size_t bestlen = 0;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(eol, "software"))
	{
		const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "vendor"));
		const char *p = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "product"));
		const char *b = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "branch"));
		size_t bl;
		if (!v || !p || !b || strcmp(v, vendor) != 0 || strcmp(p, product) != 0)
			continue;
		bl = strlen(b);
		/* branch "1.1.1" matches 1.1.1, 1.1.1w, 1.1.1.2 but not 1.1.10 */
		if (strncmp(version, b, bl) == 0 && !(version[bl] >= '0' && version[bl] <= '9') && bl > bestlen) {
			best = e;
			bestlen = bl;
		}
	}
	return best;
}

static bool cpe_in_range(const struct tk_cpem *m, const char *v)
{
	if (strcmp(m->version, "*") != 0 && strcmp(m->version, "-") != 0)
		return tk_vcmp(TK_VS_GENERIC, v, m->version) == 0;
	if (m->si && tk_vcmp(TK_VS_GENERIC, v, m->si) < 0)
		return false;
	if (m->se && tk_vcmp(TK_VS_GENERIC, v, m->se) <= 0)
		return false;
	if (m->ei && tk_vcmp(TK_VS_GENERIC, v, m->ei) > 0)
		return false;
	if (m->ee && tk_vcmp(TK_VS_GENERIC, v, m->ee) >= 0)
		return false;
	return m->si || m->se || m->ei || m->ee; /* "*" without a range: every version (too broad to judge) */
}

static int host_cpes(const struct patch_cfg *c, const struct host *h, const struct tk_vdb *db,
		     struct tk_runctx *ctx)
{
	size_t k;
	for (k = 0; k < h->ncpes; k++) {
		const char *cpe = h->cpes[k];
		char vendor[256], product[256], version[256], target[900];
		const char *last;
		size_t first, n, j;
		const cJSON *e;
		cJSON *o;
		if (tk_cpe_parts(cpe, vendor, sizeof(vendor), product, sizeof(product), version, sizeof(version)))
			continue;
		{
			/* the same software named twice (a 2.3 name in the config, a 2.2 URI from nmap) */
			size_t q;
			bool dup = false;
			for (q = 0; q < k && !dup; q++) {
				char v2[256], p2[256], w2[256];
				dup = tk_cpe_parts(h->cpes[q], v2, sizeof(v2), p2, sizeof(p2), w2, sizeof(w2)) == 0 &&
				      strcmp(v2, vendor) == 0 && strcmp(p2, product) == 0 && strcmp(w2, version) == 0;
			}
			if (dup)
				continue;
		}
		snprintf(target, sizeof(target), "%s/%s", h->cfg->host, cpe);
		if (!(o = tk_obs_new(ctx, "patch_sw", target)))
			return TK_ERR_NOMEM;
		cJSON_AddStringToObject(o, "host", h->cfg->host);
		cJSON_AddStringToObject(o, "cpe", cpe);
		cJSON_AddStringToObject(o, "product", product);
		cJSON_AddStringToObject(o, "vendor", vendor);
		cJSON_AddStringToObject(o, "version", version);
		e = strcmp(version, "*") ? eol_sw(c->eol, vendor, product, version) : NULL;
		if (e) {
			cJSON_AddStringToObject(o, "branch",
						cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "branch")));
			add_eol_dates(o, e, c->eol ? c->as_of : c->as_of);
		} else {
			cJSON_AddBoolToObject(o, "eol_known", false);
		}
		tk_emit(ctx, o);
		if (!strcmp(version, "*") || !strcmp(version, "-"))
			continue;
		tk_vdb_find_cpe(db, vendor, product, &first, &n);
		for (j = first, last = NULL; j < first + n; j++) {
			const struct tk_cpem *m = &db->cm[j];
			if (!cpe_in_range(m, version))
				continue;
			if (last && strcmp(last, m->cve) == 0)
				continue; /* matches sorted by CVE: one observation per CVE */
			last = m->cve;
			snprintf(target, sizeof(target), "%s/%s:%s/%s", h->cfg->host, vendor, product, m->cve);
			if (!(o = tk_obs_new(ctx, "patch_vuln", target)))
				return TK_ERR_NOMEM;
			cJSON_AddStringToObject(o, "host", h->cfg->host);
			cJSON_AddStringToObject(o, "package", product);
			cJSON_AddStringToObject(o, "cpe", cpe);
			cJSON_AddStringToObject(o, "installed", version);
			cJSON_AddStringToObject(o, "cve", m->cve);
			cJSON_AddStringToObject(o, "state",
						m->ee ? "vulnerable" : "fix_unknown"); /* NVD names no fixed version */
			cJSON_AddBoolToObject(o, "fix_available", m->ee != NULL);
			if (m->ee)
				cJSON_AddStringToObject(o, "fixed", m->ee);
			cJSON_AddStringToObject(o, "feed", "nvd");
			cJSON_AddStringToObject(o, "record", m->cve);
			cJSON_AddBoolToObject(o, "distro_unimportant", false);
			add_scores(o, db, m->cve);
			tk_emit(ctx, o);
		}
	}
	return TK_OK;
}

/* What the loaders keep: the hosts' packages, releases, ecosystems and CPE products. */
struct wants {
	struct strlist pk, rl, ec, pr;
	char **prod;
	size_t nprod;
};

static void wants_free(struct wants *w)
{
	free(w->pk.v);
	free(w->rl.v);
	free(w->ec.v);
	free(w->pr.v);
	tk_strv_free(w->prod);
}

static int wants_add_host(struct wants *w, const struct host *h)
{
	size_t k;
	for (k = 0; k < h->nunits; k++)
		if (sl_add(&w->pk, h->units[k].name))
			return TK_ERR_NOMEM;
	if (h->release[0] && sl_add(&w->rl, h->release))
		return TK_ERR_NOMEM;
	for (k = 0; k < h->necos; k++)
		if (sl_add(&w->ec, h->ecos[k]))
			return TK_ERR_NOMEM;
	for (k = 0; k < h->ncpes; k++) {
		char v[256], p[256], ver[8], **np;
		size_t l;
		if (tk_cpe_parts(h->cpes[k], v, sizeof(v), p, sizeof(p), ver, sizeof(ver)))
			continue;
		if (!(np = realloc(w->prod, (w->nprod + 2) * sizeof(char *))))
			return TK_ERR_NOMEM;
		w->prod = np;
		w->prod[w->nprod + 1] = NULL;
		l = strlen(v) + strlen(p) + 2;
		if (!(w->prod[w->nprod] = malloc(l)))
			return TK_ERR_NOMEM;
		snprintf(w->prod[w->nprod++], l, "%s:%s", v, p);
	}
	return TK_OK;
}

/* Feed problems that leave every host's judgement incomplete. */
struct feedstate {
	cJSON *summary;      /* per feed: what was loaded */
	char msg[2048];      /* "debian-tracker feed: ...; osv feed: ... is 30 days old ..." */
	bool failed, stale;
};

/* Append one problem to the message (bounded). */
static void feed_note(struct feedstate *fs, const char *text)
{
	size_t l = strlen(fs->msg);
	if (l + 8 < sizeof(fs->msg))
		snprintf(fs->msg + l, sizeof(fs->msg) - l, "%s%s", l ? "; " : "", text);
}

/* Load every feed; a failed feed is rolled back, a stale one noted. Fatal errors only in the return. */
static int load_feeds(const struct patch_cfg *c, struct tk_vdb *db, const struct tk_vdb_want *want,
		      struct tk_runctx *ctx, struct feedstate *fs, struct tk_err *err)
{
	size_t i;
	for (i = 0; i < c->nfeeds; i++) {
		struct tk_err e = {0};
		cJSON *s = cJSON_CreateObject();
		time_t dt = 0;
		if (!s)
			return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		cJSON_AddItemToArray(fs->summary, s);
		if (load_feed(c, &c->feeds[i], db, want, ctx, s, &dt, &e)) {
			if (e.rc == TK_ERR_CANCELLED || e.rc == TK_ERR_NOMEM)
				return tk_seterr(err, e.rc, "%s", e.msg);
			char m[sizeof(e.msg) + 100];
			snprintf(m, sizeof(m), "%s feed: %s (nothing from this feed is judged)", c->feeds[i].format, e.msg);
			feed_note(fs, m);
			fs->failed = true;
			continue;
		}
		if (dt) {
			char d[16], m[1400];
			double age = days_between(dt, c->as_of);
			date_str(dt, d);
			cJSON_AddStringToObject(s, "data_date", d);
			cJSON_AddNumberToObject(s, "age_days", age);
			cJSON_AddBoolToObject(s, "stale", age > c->max_feed_age_days);
			if (age > c->max_feed_age_days) {
				snprintf(m, sizeof(m),
					 "%.1000s: stale feed: its data is from %s, %.0f days before the judgement date "
					 "(max_feed_age_days %d); update it (tenken feed update)",
					 c->feeds[i].shown, d, age, c->max_feed_age_days);
				feed_note(fs, m);
				fs->stale = true;
			}
		}
	}
	return TK_OK;
}

/*
 * An installed version its scheme cannot compare: dpkg refuses it (bad
 * epoch, empty upstream version, blanks), or an apk version not starting
 * with a digit. rpmvercmp orders every string (gpg-pubkey versions are hex),
 * so rpm versions are not refused here.
 */
static bool unit_version_bad(const struct host *h, const char *v)
{
	struct tk_dpkgver dv;
	const char *why;
	if (h->inv.kind == TK_INV_DPKG)
		return tk_dpkgver_parse(v, strlen(v), &dv, &why) != 0;
	if (h->inv.kind == TK_INV_APK)
		return !(v[0] >= '0' && v[0] <= '9');
	return false;
}

/* Installed versions that the inventory's version scheme cannot compare; error naming them. */
static bool bad_versions(const struct host *h, char *msg, size_t size)
{
	size_t k, nbad = 0, l;
	const char *scheme = h->inv.kind == TK_INV_DPKG ? "dpkg" : h->inv.kind == TK_INV_RPM ? "rpm" : "apk";
	msg[0] = '\0';
	for (k = 0; k < h->nunits; k++) {
		const char *v = h->units[k].version;
		bool bad = unit_version_bad(h, v);
		if (!bad)
			continue;
		if (nbad++ < 5) {
			l = strlen(msg);
			snprintf(msg + l, size - l, "%s%s %.60s", nbad > 1 ? ", " : "", h->units[k].name, v);
		}
	}
	if (nbad) {
		char head[200];
		snprintf(head, sizeof(head), "%zu installed version(s) cannot be compared under the %s version scheme (",
			 nbad, scheme);
		l = strlen(msg);
		if (strlen(head) + l + 40 < size) {
			memmove(msg + strlen(head), msg, l + 1);
			memcpy(msg, head, strlen(head));
			snprintf(msg + strlen(msg), size - strlen(msg), "%s): not judged", nbad > 5 ? ", ..." : "");
		}
	}
	return nbad > 0;
}

/*
 * Why a host's packages cannot be judged at all (NULL when they can): an
 * unknown OS (no feed ecosystem), an empty inventory, no feed data for its
 * release. Evidence missing, so the host's items are incomplete, never pass.
 */
static const char *unjudgeable(const struct host *h, const struct tk_vdb *db, char *msg, size_t size)
{
	size_t k;
	if (h->inv.kind == TK_INV_NONE)
		return NULL;
	if (h->necos == 0) {
		snprintf(msg, size, "OS \"%s\" %s: no supported vulnerability feed ecosystem for it (debian, ubuntu, rhel, "
			 "centos, rocky, almalinux, alpine): its packages cannot be judged", h->os.id, h->os.version_id);
		return msg;
	}
	if (h->inv.n == 0) {
		snprintf(msg, size, "%s: the inventory lists no installed package", h->cfg->path);
		return msg;
	}
	for (k = 0; k < db->nadv; k++)
		if (host_has_eco(h, db->adv[k].eco))
			return NULL;
	snprintf(msg, size, "no loaded feed has data for %s %s (looked for %s%s%s): its packages cannot be judged",
		 h->os.id, h->os.version_id, h->ecos[0], h->necos > 1 ? ", " : "", h->necos > 1 ? h->ecos[1] : "");
	return msg;
}

static void emit_host_summary(const struct patch_cfg *c, const struct host *h, const struct counts *cn,
			      const cJSON *feedsum, struct tk_runctx *ctx)
{
	cJSON *o = tk_obs_new(ctx, "patch_host", h->cfg->host), *ea;
	char d[16];
	size_t k;
	if (!o)
		return;
	cJSON_AddStringToObject(o, "host", h->cfg->host);
	cJSON_AddStringToObject(o, "inventory", h->inv.kind == TK_INV_DPKG  ? "dpkg"
						: h->inv.kind == TK_INV_RPM ? "rpm"
						: h->inv.kind == TK_INV_APK ? "apk"
									    : "cpe");
	cJSON_AddNumberToObject(o, "packages", (double)h->inv.n);
	cJSON_AddNumberToObject(o, "cpes", (double)h->ncpes);
	cJSON_AddStringToObject(o, "os", h->os.pretty[0] ? h->os.pretty : h->os.id);
	ea = cJSON_AddArrayToObject(o, "ecosystems");
	for (k = 0; k < h->necos; k++)
		cJSON_AddItemToArray(ea, cJSON_CreateString(h->ecos[k]));
	cJSON_AddBoolToObject(o, "release_in_feeds", true); /* a host without feed data is an error, not a summary */
	cJSON_AddNumberToObject(o, "cves_checked", (double)cn->checked);
	cJSON_AddNumberToObject(o, "vulnerable_fixable", (double)cn->fixable);
	cJSON_AddNumberToObject(o, "vulnerable_unfixed", (double)cn->unfixed);
	cJSON_AddNumberToObject(o, "undetermined", (double)cn->undetermined);
	cJSON_AddNumberToObject(o, "fixed", (double)cn->fixed);
	cJSON_AddNumberToObject(o, "not_affected", (double)cn->not_affected);
	cJSON_AddItemToObject(o, "feeds", cJSON_Duplicate(feedsum, true));
	date_str(c->as_of, d);
	cJSON_AddStringToObject(o, "as_of", d);
	tk_emit(ctx, o);
}

static void emit_os(const struct patch_cfg *c, const struct host *h, struct tk_runctx *ctx)
{
	const cJSON *eol;
	cJSON *o;
	if (!h->os.id[0] || !(o = tk_obs_new(ctx, "patch_os", h->cfg->host)))
		return;
	cJSON_AddStringToObject(o, "host", h->cfg->host);
	cJSON_AddStringToObject(o, "os_id", h->os.id);
	cJSON_AddStringToObject(o, "version_id", h->os.version_id);
	if (h->os.pretty[0])
		cJSON_AddStringToObject(o, "pretty_name", h->os.pretty);
	cJSON_AddStringToObject(o, "eol_table", c->eol_origin ? c->eol_origin : "");
	if ((eol = eol_os(c->eol, &h->os)))
		add_eol_dates(o, eol, c->as_of);
	else
		cJSON_AddBoolToObject(o, "eol_known", false);
	tk_emit(ctx, o);
}

/*
 * An error about judging a host's packages (feeds, inventory, versions):
 * it makes the host's package judgement (patch_host, PATCH-INVENTORY-UNJUDGED)
 * an error, so items 27 / 26 are incomplete; the OS and middleware
 * end-of-support judgements of the host stand.
 */
static void emit_pkg_error(struct tk_runctx *ctx, const char *host, int rc, const char *msg)
{
	cJSON *o = tk_obs_new(ctx, "error", host);
	if (!o)
		return;
	cJSON_AddStringToObject(o, "error", tk_rc_name(rc));
	cJSON_AddStringToObject(o, "message", msg);
	cJSON_AddStringToObject(o, "for_kind", "patch_host");
	tk_emit(ctx, o);
}

/* Judge one host whose inventory was read: packages, CPEs, summary, OS end of support. */
static int judge_host(const struct patch_cfg *c, const struct host *h, const struct tk_vdb *db,
		      const struct feedstate *fs, struct tk_runctx *ctx)
{
	struct counts cn = {0};
	struct pendv pv = {0};
	char msg[1200];
	size_t k;
	int rc = TK_OK;
	if (fs->failed || fs->stale)
		emit_pkg_error(ctx, h->cfg->host, fs->failed ? TK_ERR_PARSE : TK_ERR_LIMIT, fs->msg);
	if (unjudgeable(h, db, msg, sizeof(msg))) {
		emit_pkg_error(ctx, h->cfg->host, TK_ERR_UNSUPPORTED, msg);
	} else {
		bool bad = h->inv.kind != TK_INV_NONE && bad_versions(h, msg, sizeof(msg));
		if (bad) {
			char m2[sizeof(msg) + 220];
			snprintf(m2, sizeof(m2), "%.200s: %s", h->cfg->path, msg);
			emit_pkg_error(ctx, h->cfg->host, TK_ERR_PARSE, m2);
		}
		for (k = 0; k < h->nunits && rc == TK_OK; k++) {
			if (bad && unit_version_bad(h, h->units[k].version))
				continue; /* reported above; never judged as "older than every fix" */
			rc = match_unit(c, h, &h->units[k], db, &pv);
		}
		if (merge_and_emit(h, &pv, &cn, ctx) && !rc)
			rc = TK_ERR_NOMEM;
		for (k = 0; k < pv.n; k++)
			cJSON_Delete(pv.v[k].obs);
		free(pv.v);
		if (rc)
			return rc;
		emit_host_summary(c, h, &cn, fs->summary, ctx);
	}
	if ((rc = host_cpes(c, h, db, ctx)))
		return rc;
	emit_os(c, h, ctx);
	return TK_OK;
}

static int patch_run(void *state, struct tk_runctx *ctx, struct tk_err *err)
{
	struct patch_cfg *c = state;
	struct host *hosts = calloc(c->ninv ? c->ninv : 1, sizeof(*hosts));
	struct wants w;
	struct tk_vdb db;
	struct tk_vdb_want want;
	struct feedstate fs;
	size_t i;
	int rc = TK_OK;

	memset(&w, 0, sizeof(w));
	memset(&fs, 0, sizeof(fs));
	tk_vdb_init(&db);
	if (!hosts || !(fs.summary = cJSON_CreateArray())) {
		rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < c->ninv; i++) {
		struct tk_err e = {0};
		hosts[i].cfg = &c->inv[i];
		if (read_host(&hosts[i], c->max_feed_bytes, &e)) {
			tk_emit_error(ctx, c->inv[i].host, e.rc, "%s", e.msg);
			continue;
		}
		if (wants_add_host(&w, &hosts[i])) {
			rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	for (i = 0; i < w.nprod; i++)
		if (sl_add(&w.pr, w.prod[i])) {
			rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
			goto out;
		}
	memset(&want, 0, sizeof(want));
	want.pkgs = w.pk.v;
	want.npkgs = w.pk.n;
	want.releases = w.rl.v;
	want.nreleases = w.rl.n;
	want.ecos = w.ec.v;
	want.necos = w.ec.n;
	want.products = w.pr.v;
	want.nproducts = w.pr.n;
	if ((rc = load_feeds(c, &db, &want, ctx, &fs, err)))
		goto out;
	tk_vdb_index(&db);
	for (i = 0; i < c->ninv; i++) {
		if (!hosts[i].ok)
			continue;
		if (tk_run_cancelled(ctx)) {
			rc = tk_seterr(err, TK_ERR_CANCELLED, "stopped");
			goto out;
		}
		if ((rc = judge_host(c, &hosts[i], &db, &fs, ctx))) {
			tk_seterr(err, rc, "out of memory");
			goto out;
		}
	}
	/* A feed that did not load leaves the judgement incomplete: say so as the probe's result. */
	rc = fs.failed ? tk_seterr(err, TK_ERR_PARSE, "%s", fs.msg) : TK_OK;
out:
	for (i = 0; hosts && i < c->ninv; i++)
		host_clear(&hosts[i]);
	free(hosts);
	wants_free(&w);
	tk_vdb_clear(&db);
	cJSON_Delete(fs.summary);
	return rc;
}

TK_PROBE_TARGETS(patch_targets, struct patch_cfg, inv, ninv, struct inv_cfg, host)

const struct tk_probe tk_probe_patch = {
	.name = "patch",
	.summary = "missing security fixes (dpkg/rpm/apk/CPE vs Debian tracker, OSV, NVD) and end-of-support OS/middleware",
	.configure = patch_configure,
	.targets = patch_targets,
	.run = patch_run,
	.free_state = patch_free,
};
