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
#include "pkginv.h"
#include "probe.h"
#include "vulnfeed.h"

#define PATCH_MAX_FEED_FILES 100000
#define PATCH_MAX_SCORES_SHOWN 8
#define PATCH_MAX_BINARIES_SHOWN 16

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

static int patch_configure(const cJSON *sec, const struct tk_cfgctx *cc, void **state, struct tk_err *err)
{
	static const char *const keys[] = {"inventories", "feeds", "as_of", "eol_table", "max_feed_mb", NULL};
	static const char *const ikeys[] = {"host", "dpkg_status", "rpm_qa", "apk_installed", "os_release", "os",
					    "cpes", "nmap_xml", NULL};
	static const char *const okeys[] = {"id", "version_id", "codename", "pretty_name", NULL};
	static const char *const fkeys[] = {"format", "path", NULL};
	struct patch_cfg *c = calloc(1, sizeof(*c));
	const cJSON *invs = NULL, *feeds = NULL, *e;
	const char *as_of = NULL, *eol = NULL;
	long long mb = 1024;
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
	    (rc = tk_cfg_int(sec, "max_feed_mb", false, 1, 16384, &mb, cc, cc->path, err)))
		goto fail;
	c->max_feed_bytes = (size_t)mb << 20;
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
		struct inv_cfg *iv = &c->inv[i];
		const char *host = NULL, *dpkg = NULL, *rpm = NULL, *apk = NULL, *osr = NULL, *nmap = NULL;
		const cJSON *os;
		size_t k, nsrc;
		tk_path_idx(q, sizeof(q), p, i);
		i++;
		if (!cJSON_IsObject(e)) {
			rc = tk_cfg_err(err, cc, q, "expected an object");
			goto fail;
		}
		if ((rc = tk_cfg_check_keys(e, ikeys, cc, q, err)) ||
		    (rc = tk_cfg_string(e, "host", true, &host, cc, q, err)) ||
		    (rc = tk_cfg_string(e, "dpkg_status", false, &dpkg, cc, q, err)) ||
		    (rc = tk_cfg_string(e, "rpm_qa", false, &rpm, cc, q, err)) ||
		    (rc = tk_cfg_string(e, "apk_installed", false, &apk, cc, q, err)) ||
		    (rc = tk_cfg_string(e, "os_release", false, &osr, cc, q, err)) ||
		    (rc = tk_cfg_string(e, "nmap_xml", false, &nmap, cc, q, err)) ||
		    (rc = tk_cfg_strings(e, "cpes", false, &iv->cpes, &iv->ncpes, cc, q, err)))
			goto fail;
		for (k = 0; k + 1 < i; k++)
			if (strcmp(c->inv[k].host, host) == 0) {
				rc = tk_cfg_err(err, cc, q, "host \"%s\" is listed twice", host);
				goto fail;
			}
		if (!*host || strlen(host) > 200 || strchr(host, '/')) {
			rc = tk_cfg_err(err, cc, q, "host must be a non-empty name without '/'");
			goto fail;
		}
		nsrc = (dpkg != NULL) + (rpm != NULL) + (apk != NULL);
		if (nsrc > 1 || (nsrc == 0 && iv->ncpes == 0 && !nmap)) {
			rc = tk_cfg_err(err, cc, q,
					"give exactly one of dpkg_status, rpm_qa, apk_installed (or only cpes / nmap_xml)");
			goto fail;
		}
		iv->kind = dpkg ? TK_INV_DPKG : rpm ? TK_INV_RPM : apk ? TK_INV_APK : TK_INV_NONE;
		if (!(iv->host = strdup(host)) ||
		    (nsrc && !(iv->path = tk_cfg_resolve(cc, dpkg ? dpkg : rpm ? rpm : apk))) ||
		    (osr && !(iv->os_release = tk_cfg_resolve(cc, osr))) ||
		    (nmap && !(iv->nmap_xml = tk_cfg_resolve(cc, nmap)))) {
			rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
			goto fail;
		}
		for (k = 0; k < iv->ncpes; k++) {
			char v[8], pr[8], ver[8];
			if (tk_cpe_parts(iv->cpes[k], v, 1, pr, 1, ver, 1)) {
				char r[700];
				tk_path_key(r, sizeof(r), q, "cpes");
				tk_path_idx(r + strlen(r), sizeof(r) - strlen(r), "", k);
				rc = tk_cfg_err(err, cc, r, "\"%.100s\" is not a CPE 2.3 name (cpe:2.3:part:vendor:product:version:...)",
						iv->cpes[k]);
				goto fail;
			}
		}
		os = cJSON_GetObjectItemCaseSensitive(e, "os");
		if (os) {
			char r[700];
			const char *id = NULL, *vid = NULL, *cn = NULL, *pn = NULL;
			tk_path_key(r, sizeof(r), q, "os");
			if (osr) {
				rc = tk_cfg_err(err, cc, r, "give either os or os_release, not both");
				goto fail;
			}
			if (!cJSON_IsObject(os)) {
				rc = tk_cfg_err(err, cc, r, "expected {\"id\": ..., \"version_id\": ...}");
				goto fail;
			}
			if ((rc = tk_cfg_check_keys(os, okeys, cc, r, err)) ||
			    (rc = tk_cfg_string(os, "id", true, &id, cc, r, err)) ||
			    (rc = tk_cfg_string(os, "version_id", true, &vid, cc, r, err)) ||
			    (rc = tk_cfg_string(os, "codename", false, &cn, cc, r, err)) ||
			    (rc = tk_cfg_string(os, "pretty_name", false, &pn, cc, r, err)))
				goto fail;
			snprintf(iv->os.id, sizeof(iv->os.id), "%s", id);
			snprintf(iv->os.version_id, sizeof(iv->os.version_id), "%s", vid);
			snprintf(iv->os.codename, sizeof(iv->os.codename), "%s", cn ? cn : "");
			snprintf(iv->os.pretty, sizeof(iv->os.pretty), "%s", pn ? pn : "");
			iv->os_given = true;
		} else if (!osr && nsrc) {
			rc = tk_cfg_err(err, cc, q, "the host's OS is needed: give os_release (a file) or os {id, version_id}");
			goto fail;
		}
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
		if (!(c->feeds[i].format = strdup(fmt)) || !(c->feeds[i].path = tk_cfg_resolve(cc, path)) ||
		    !(c->feeds[i].shown = strdup(path))) {
			rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
			goto fail;
		}
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

static int patch_targets(const void *state, cJSON *list)
{
	const struct patch_cfg *c = state;
	size_t i;
	for (i = 0; i < c->ninv; i++)
		cJSON_AddItemToArray(list, cJSON_CreateString(c->inv[i].host));
	return TK_OK;
}

/* ---- per-host state during a run ---- */

struct unit {               /* one (package name, installed version) to match */
	char *name;
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
	return c ? c : strcmp(a->version, b->version);
}

static void host_clear(struct host *h)
{
	size_t k;
	tk_inv_clear(&h->inv);
	tk_strv_free(h->cpes);
	for (k = 0; k < h->nunits; k++) {
		free(h->units[k].name);
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
			u[n].name = strdup(p->name);
			u[n].version = strdup(p->version);
			if (strcmp(p->source, p->name) != 0) {
				u[n].binaries = cJSON_CreateArray();
				cJSON_AddItemToArray(u[n].binaries, cJSON_CreateString(p->name));
				n++;
				u[n].name = strdup(p->source);
				u[n].version = strdup(p->version);
			}
		}
		u[n].binaries = cJSON_CreateArray();
		cJSON_AddItemToArray(u[n].binaries, cJSON_CreateString(p->name));
		n++;
	}
	for (k = 0; k < n; k++)
		if (!u[k].name || !u[k].version || !u[k].binaries) {
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

static int load_feed(const struct patch_cfg *c, const struct feed_cfg *f, struct tk_vdb *db,
		     const struct tk_vdb_want *want, struct tk_runctx *ctx, cJSON *summary, struct tk_err *err)
{
	char **files = NULL;
	size_t nfiles = 0, k, records = 0, kept = 0, scores = 0;
	char shown[1200];
	int rc;
	if ((rc = feed_files(f->path, &files, &nfiles, err)))
		return rc;
	for (k = 0; k < nfiles; k++) {
		char *text = NULL;
		size_t len = 0;
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
		if ((rc = tk_read_file(files[k], c->max_feed_bytes, &text, &len, err))) {
			tk_err_prefix(err, "%s", shown);
			break;
		}
		if (strcmp(f->format, "debian-tracker") == 0)
			rc = tk_vdb_load_debian(db, text, len, shown, want, &st, err);
		else if (strcmp(f->format, "nvd") == 0)
			rc = tk_vdb_load_nvd(db, text, len, shown, want, &st, err);
		else
			rc = tk_vdb_load_osv(db, text, len, shown, want, &st, err);
		free(text);
		if (rc)
			break;
		records += st.records;
		kept += st.kept;
		scores += st.scores;
	}
	tk_strv_free(files);
	cJSON_AddStringToObject(summary, "format", f->format);
	cJSON_AddStringToObject(summary, "path", f->shown);
	cJSON_AddNumberToObject(summary, "files", (double)nfiles);
	cJSON_AddNumberToObject(summary, "records", (double)records);
	cJSON_AddNumberToObject(summary, "kept", (double)kept);
	cJSON_AddNumberToObject(summary, "scores", (double)scores);
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
	size_t checked, fixable, unfixed, undetermined, fixed, not_affected, in_release;
};

static int feed_rank(const struct patch_cfg *c, const char *feed)
{
	size_t k;
	for (k = 0; k < c->nfeeds; k++)
		if (strcmp(c->feeds[k].format, feed) == 0)
			return (int)k;
	return (int)c->nfeeds;
}

/* Judge one unit against its advisories; emit patch_vuln per CVE that affects it. */
static int match_unit(const struct patch_cfg *c, struct host *h, const struct unit *u, const struct tk_vdb *db,
		      struct tk_runctx *ctx, struct counts *cn)
{
	size_t first, n, k, j;
	tk_vdb_find_pkg(db, u->name, &first, &n);
	for (k = first; k < first + n;) {
		/* advisories sorted by (pkg, cve): one CVE at a time */
		size_t end = k, best = SIZE_MAX;
		enum tk_match bm = TK_M_NOT_AFFECTED;
		const char *bfix = NULL;
		cJSON *others = NULL;
		while (end < first + n && strcmp(db->adv[end].cve, db->adv[k].cve) == 0)
			end++;
		for (j = k; j < end; j++) {
			const struct tk_adv *a = &db->adv[j];
			const char *fix;
			enum tk_match m;
			if (!host_has_eco(h, a->eco))
				continue;
			m = tk_adv_match(a, u->version, &fix);
			if (best == SIZE_MAX || feed_rank(c, a->feed) < feed_rank(c, db->adv[best].feed)) {
				if (best != SIZE_MAX) {
					cJSON *x = cJSON_CreateObject();
					if (!others)
						others = cJSON_CreateArray();
					cJSON_AddStringToObject(x, "feed", db->adv[best].feed);
					cJSON_AddStringToObject(x, "record", db->adv[best].record);
					cJSON_AddStringToObject(x, "state", match_state(bm));
					if (bfix)
						cJSON_AddStringToObject(x, "fixed", bfix);
					cJSON_AddItemToArray(others, x);
				}
				best = j;
				bm = m;
				bfix = fix;
			} else {
				cJSON *x = cJSON_CreateObject();
				if (!others)
					others = cJSON_CreateArray();
				cJSON_AddStringToObject(x, "feed", a->feed);
				cJSON_AddStringToObject(x, "record", a->record);
				cJSON_AddStringToObject(x, "state", match_state(m));
				if (fix)
					cJSON_AddStringToObject(x, "fixed", fix);
				cJSON_AddItemToArray(others, x);
			}
		}
		if (best != SIZE_MAX) {
			const struct tk_adv *a = &db->adv[best];
			cn->checked++;
			switch (bm) {
			case TK_M_VULN_FIXABLE: cn->fixable++; break;
			case TK_M_VULN_NOFIX: cn->unfixed++; break;
			case TK_M_UNDETERMINED: cn->undetermined++; break;
			case TK_M_FIXED: cn->fixed++; break;
			default: cn->not_affected++; break;
			}
			if (bm == TK_M_VULN_FIXABLE || bm == TK_M_VULN_NOFIX || bm == TK_M_UNDETERMINED) {
				char target[700];
				cJSON *o;
				snprintf(target, sizeof(target), "%s/%s/%s", h->cfg->host, u->name, a->cve);
				if (!(o = tk_obs_new(ctx, "patch_vuln", target))) {
					cJSON_Delete(others);
					return TK_ERR_NOMEM;
				}
				cJSON_AddStringToObject(o, "host", h->cfg->host);
				cJSON_AddStringToObject(o, "package", u->name);
				cJSON_AddItemToObject(o, "binaries", cJSON_Duplicate(u->binaries, true));
				cJSON_AddStringToObject(o, "installed", u->version);
				cJSON_AddStringToObject(o, "cve", a->cve);
				cJSON_AddStringToObject(o, "state", match_state(bm));
				cJSON_AddBoolToObject(o, "fix_available", bm == TK_M_VULN_FIXABLE);
				if (bfix)
					cJSON_AddStringToObject(o, "fixed", bfix);
				cJSON_AddStringToObject(o, "feed", a->feed);
				cJSON_AddStringToObject(o, "record", a->record);
				cJSON_AddStringToObject(o, "ecosystem", a->eco);
				if (a->status)
					cJSON_AddStringToObject(o, "tracker_status", a->status);
				if (a->urgency)
					cJSON_AddStringToObject(o, "urgency", a->urgency);
				cJSON_AddBoolToObject(o, "distro_unimportant",
						      a->urgency && strncmp(a->urgency, "unimportant", 11) == 0);
				if (bm == TK_M_VULN_FIXABLE) {
					/* the release date of the fix: this source's, else another's naming the same fixed version */
					time_t pub = a->published;
					const char *pub_from = a->record;
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
				add_scores(o, db, a->cve);
				if (others)
					cJSON_AddItemToObject(o, "other_sources", others);
				others = NULL;
				tk_emit(ctx, o);
			}
		}
		cJSON_Delete(others);
		k = end;
	}
	return TK_OK;
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
			cJSON_AddStringToObject(o, "state", m->ee ? "vulnerable" : "fix_unknown"); /* NVD names no fixed version */
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

static int patch_run(void *state, struct tk_runctx *ctx, struct tk_err *err)
{
	struct patch_cfg *c = state;
	struct host *hosts = calloc(c->ninv ? c->ninv : 1, sizeof(*hosts));
	struct strlist pk = {0}, rl = {0}, ec = {0}, pr = {0};
	char **prod = NULL;
	size_t nprod = 0, i, k;
	struct tk_vdb db;
	struct tk_vdb_want want;
	cJSON *feedsum = cJSON_CreateArray();
	bool feed_failed = false;
	char feed_msg[sizeof(((struct tk_err *)0)->msg) + 32] = "";
	int rc = TK_OK;

	tk_vdb_init(&db);
	if (!hosts || !feedsum || !(prod = calloc(1, sizeof(char *)))) {
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
		for (k = 0; k < hosts[i].nunits; k++)
			if (sl_add(&pk, hosts[i].units[k].name)) {
				rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
				goto out;
			}
		if (hosts[i].release[0] && sl_add(&rl, hosts[i].release))
			goto nomem;
		for (k = 0; k < hosts[i].necos; k++)
			if (sl_add(&ec, hosts[i].ecos[k]))
				goto nomem;
		for (k = 0; k < hosts[i].ncpes; k++) {
			char v[256], p[256], ver[8], **np;
			if (tk_cpe_parts(hosts[i].cpes[k], v, sizeof(v), p, sizeof(p), ver, sizeof(ver)))
				continue;
			if (!(np = realloc(prod, (nprod + 2) * sizeof(char *))))
				goto nomem;
			prod = np;
			prod[nprod] = malloc(strlen(v) + strlen(p) + 2);
			if (!prod[nprod])
				goto nomem;
			snprintf(prod[nprod], strlen(v) + strlen(p) + 2, "%s:%s", v, p);
			prod[++nprod] = NULL;
		}
	}
	for (k = 0; k < nprod; k++)
		if (sl_add(&pr, prod[k]))
			goto nomem;
	memset(&want, 0, sizeof(want));
	want.pkgs = pk.v;
	want.npkgs = pk.n;
	want.releases = rl.v;
	want.nreleases = rl.n;
	want.ecos = ec.v;
	want.necos = ec.n;
	want.products = pr.v;
	want.nproducts = pr.n;
	for (i = 0; i < c->nfeeds; i++) {
		struct tk_err e = {0};
		cJSON *s = cJSON_CreateObject();
		cJSON_AddItemToArray(feedsum, s);
		if (load_feed(c, &c->feeds[i], &db, &want, ctx, s, &e)) {
			if (!feed_failed)
				snprintf(feed_msg, sizeof(feed_msg), "%s feed: %s", c->feeds[i].format, e.msg);
			feed_failed = true;
			if (e.rc == TK_ERR_CANCELLED) {
				rc = tk_seterr(err, TK_ERR_CANCELLED, "%s", e.msg);
				goto out;
			}
			if (e.rc == TK_ERR_NOMEM) {
				rc = tk_seterr(err, TK_ERR_NOMEM, "%s", e.msg);
				goto out;
			}
		}
	}
	tk_vdb_index(&db);

	for (i = 0; i < c->ninv; i++) {
		struct host *h = &hosts[i];
		struct counts cn = {0};
		const cJSON *eol;
		cJSON *o;
		if (!h->ok)
			continue;
		if (tk_run_cancelled(ctx)) {
			rc = tk_seterr(err, TK_ERR_CANCELLED, "stopped");
			goto out;
		}
		if (feed_failed)
			tk_emit_error(ctx, h->cfg->host, TK_ERR_PARSE, "%s (judged on the feeds that loaded)", feed_msg);
		for (k = 0; k < h->nunits; k++)
			if ((rc = match_unit(c, h, &h->units[k], &db, ctx, &cn))) {
				tk_seterr(err, rc, "out of memory");
				goto out;
			}
		for (k = 0; k < db.nadv; k++)
			if (host_has_eco(h, db.adv[k].eco)) {
				cn.in_release++;
				break;
			}
		if ((rc = host_cpes(c, h, &db, ctx))) {
			tk_seterr(err, rc, "out of memory");
			goto out;
		}
		/* per-host summary */
		if (!(o = tk_obs_new(ctx, "patch_host", h->cfg->host)))
			goto nomem;
		cJSON_AddStringToObject(o, "host", h->cfg->host);
		cJSON_AddStringToObject(o, "inventory", h->inv.kind == TK_INV_DPKG  ? "dpkg"
							: h->inv.kind == TK_INV_RPM ? "rpm"
							: h->inv.kind == TK_INV_APK ? "apk"
										    : "cpe");
		cJSON_AddNumberToObject(o, "packages", (double)h->inv.n);
		cJSON_AddNumberToObject(o, "cpes", (double)h->ncpes);
		cJSON_AddStringToObject(o, "os", h->os.pretty[0] ? h->os.pretty : h->os.id);
		{
			cJSON *ea = cJSON_AddArrayToObject(o, "ecosystems");
			for (k = 0; k < h->necos; k++)
				cJSON_AddItemToArray(ea, cJSON_CreateString(h->ecos[k]));
		}
		cJSON_AddBoolToObject(o, "release_in_feeds", cn.in_release > 0 || h->inv.kind == TK_INV_NONE);
		cJSON_AddNumberToObject(o, "cves_checked", (double)cn.checked);
		cJSON_AddNumberToObject(o, "vulnerable_fixable", (double)cn.fixable);
		cJSON_AddNumberToObject(o, "vulnerable_unfixed", (double)cn.unfixed);
		cJSON_AddNumberToObject(o, "undetermined", (double)cn.undetermined);
		cJSON_AddNumberToObject(o, "fixed", (double)cn.fixed);
		cJSON_AddNumberToObject(o, "not_affected", (double)cn.not_affected);
		cJSON_AddItemToObject(o, "feeds", cJSON_Duplicate(feedsum, true));
		{
			char d[16];
			date_str(c->as_of, d);
			cJSON_AddStringToObject(o, "as_of", d);
		}
		tk_emit(ctx, o);
		/* OS end of support */
		if (h->os.id[0]) {
			if (!(o = tk_obs_new(ctx, "patch_os", h->cfg->host)))
				goto nomem;
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
	}
	/* A feed that did not load leaves the judgement incomplete: say so as the probe's result. */
	rc = feed_failed ? tk_seterr(err, TK_ERR_PARSE, "%s", feed_msg) : TK_OK;
	goto out;
nomem:
	rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
out:
	for (i = 0; hosts && i < c->ninv; i++)
		host_clear(&hosts[i]);
	free(hosts);
	free(pk.v);
	free(rl.v);
	free(ec.v);
	free(pr.v);
	tk_strv_free(prod);
	tk_vdb_clear(&db);
	cJSON_Delete(feedsum);
	return rc;
}

const struct tk_probe tk_probe_patch = {
	.name = "patch",
	.summary = "missing security fixes (dpkg/rpm/apk/CPE vs Debian tracker, OSV, NVD) and end-of-support OS/middleware",
	.configure = patch_configure,
	.targets = patch_targets,
	.run = patch_run,
	.free_state = patch_free,
};
