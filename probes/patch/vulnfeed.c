/*
 * vulnfeed.c - Debian tracker, OSV and NVD loaders, lookups and range
 * matching (see vulnfeed.h).
 */
#include "vulnfeed.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apkver.h"
#include "cvss.h"
#include "jsontok.h"
#include "dpkgver.h"
#include "rpmver.h"

#define VDB_MAX_ITEMS 20000000 /* advisories/scores/matches: a sanity bound */
#define VDB_MAX_STR 1024       /* longest id/version/name kept */

void tk_vdb_init(struct tk_vdb *db)
{
	memset(db, 0, sizeof(*db));
}

static void adv_free(struct tk_adv *a)
{
	size_t k;
	free(a->pkg);
	free(a->eco);
	free(a->cve);
	free(a->record);
	for (k = 0; k < a->nev; k++)
		free(a->ev[k].ver);
	free(a->ev);
	tk_strv_free(a->versions);
	free(a->status);
	free(a->urgency);
	free(a->file);
}

static void score_free(struct tk_score *s)
{
	free(s->cve);
	free(s->source);
	free(s->vector);
}

static void cpem_free(struct tk_cpem *m)
{
	free(m->cve);
	free(m->vendor);
	free(m->product);
	free(m->version);
	free(m->si);
	free(m->se);
	free(m->ei);
	free(m->ee);
}

struct tk_vdb_mark tk_vdb_mark(const struct tk_vdb *db)
{
	struct tk_vdb_mark m = {db->nadv, db->nsc, db->ncm};
	return m;
}

void tk_vdb_rollback(struct tk_vdb *db, struct tk_vdb_mark m)
{
	while (db->nadv > m.nadv)
		adv_free(&db->adv[--db->nadv]);
	while (db->nsc > m.nsc)
		score_free(&db->sc[--db->nsc]);
	while (db->ncm > m.ncm)
		cpem_free(&db->cm[--db->ncm]);
	db->indexed = false;
}

void tk_vdb_clear(struct tk_vdb *db)
{
	size_t i;
	if (!db)
		return;
	for (i = 0; i < db->nadv; i++)
		adv_free(&db->adv[i]);
	for (i = 0; i < db->nsc; i++)
		score_free(&db->sc[i]);
	for (i = 0; i < db->ncm; i++)
		cpem_free(&db->cm[i]);
	free(db->adv);
	free(db->sc);
	free(db->cm);
	tk_vdb_init(db);
}

static int grow(void **p, size_t *cap, size_t n, size_t elem)
{
	void *np;
	size_t nc;
	if (n < *cap)
		return TK_OK;
	if (n >= VDB_MAX_ITEMS)
		return TK_ERR_LIMIT;
	nc = *cap ? *cap * 2 : 1024;
	if (!(np = realloc(*p, nc * elem)))
		return TK_ERR_NOMEM;
	*p = np;
	*cap = nc;
	return TK_OK;
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) && strlen(v->valuestring) <= VDB_MAX_STR ? v->valuestring : NULL;
}

static int cmpstrp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A sorted copy of a want list for bsearch. */
struct sset {
	const char **v;
	size_t n;
};

static int sset_make(struct sset *s, const char *const *v, size_t n)
{
	s->n = n;
	s->v = NULL;
	if (n == 0)
		return TK_OK;
	if (!(s->v = malloc(n * sizeof(*s->v))))
		return TK_ERR_NOMEM;
	memcpy(s->v, v, n * sizeof(*s->v));
	qsort(s->v, n, sizeof(*s->v), cmpstrp);
	return TK_OK;
}

static bool sset_has(const struct sset *s, const char *k)
{
	return s->n && bsearch(&k, s->v, s->n, sizeof(*s->v), cmpstrp) != NULL;
}

/* Parse with cJSON; malformed input names the byte offset. */
static int parse_json(const char *buf, size_t len, const char *name, cJSON **out, struct tk_err *err)
{
	const char *end = NULL;
	*out = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
	if (!*out) {
		size_t off = end && end >= buf ? (size_t)(end - buf) : 0;
		/* cJSON reports the last byte when the input ends early */
		if (len > 0 && off + 1 >= len && !memchr(buf, '\0', len))
			return tk_seterr(err, TK_ERR_PARSE,
					 "%s: malformed JSON: input ends early at byte offset %zu (truncated download?)", name,
					 len);
		return tk_seterr(err, TK_ERR_PARSE, "%s: malformed JSON at byte offset %zu of %zu", name, off, len);
	}
	return TK_OK;
}

static int oom(struct tk_err *err)
{
	return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
}

static struct tk_adv *adv_new(struct tk_vdb *db, const char *file, struct tk_err *err)
{
	struct tk_adv *a;
	int rc = grow((void **)&db->adv, &db->capadv, db->nadv, sizeof(*db->adv));
	if (rc) {
		tk_seterr(err, rc, rc == TK_ERR_LIMIT ? "too many advisories" : "out of memory");
		return NULL;
	}
	a = &db->adv[db->nadv++];
	memset(a, 0, sizeof(*a));
	db->indexed = false;
	if (!(a->file = strdup(file ? file : ""))) {
		tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		return NULL;
	}
	return a;
}

static int adv_event(struct tk_adv *a, char type, const char *ver)
{
	struct tk_vev *ne;
	if (a->nev >= TK_VDB_MAX_EVENTS)
		return TK_ERR_LIMIT;
	if (!(ne = realloc(a->ev, (a->nev + 1) * sizeof(*ne))))
		return TK_ERR_NOMEM;
	a->ev = ne;
	ne[a->nev].type = type;
	if (!(ne[a->nev].ver = strdup(ver)))
		return TK_ERR_NOMEM;
	a->nev++;
	return TK_OK;
}

/* ---- Debian security tracker: a streaming reader ---- */

/*
 * The tracker file is large (tens of MB, hundreds of thousands of entries)
 * and we keep a small part of it, so it is read with a pull tokenizer over
 * the buffer instead of a DOM: memory stays at what is kept. The grammar
 * is JSON's (RFC 8259); errors name the byte offset.
 */
/* Is the value at t an empty array "[ ]"? (not consumed) */
static bool trk_empty_array(struct tk_jt *t)
{
	size_t k;
	if (tk_jt_peek(t) != '[')
		return false;
	for (k = t->i + 1; k < t->len && (t->p[k] == ' ' || t->p[k] == '\t' || t->p[k] == '\n' || t->p[k] == '\r'); k++)
		;
	return k < t->len && t->p[k] == ']';
}

struct trk_rel {
	char status[32], fixed[VDB_MAX_STR + 1], urgency[64];
	bool has_status, has_fixed, has_urgency;
};

static int trk_add(struct tk_vdb *db, const char *file, const char *pkg, const char *cve, const char *rel,
		   const struct trk_rel *r, struct tk_err *err)
{
	struct tk_adv *a;
	char tag[160];
	int rc;
	if (!(a = adv_new(db, file, err)))
		return err->rc;
	snprintf(tag, sizeof(tag), "tracker:%s", rel);
	a->feed = "debian-tracker";
	a->scheme = TK_VS_DPKG;
	a->pkg = strdup(pkg);
	a->eco = strdup(tag);
	a->cve = strdup(cve);
	a->record = strdup("debian-tracker");
	a->status = strdup(r->status);
	a->urgency = r->has_urgency ? strdup(r->urgency) : NULL;
	if (!a->pkg || !a->eco || !a->cve || !a->record || !a->status || (r->has_urgency && !a->urgency))
		return oom(err);
	if (strcmp(r->status, "resolved") == 0 && r->has_fixed && strcmp(r->fixed, "0") == 0) {
		a->kind = TK_ADV_NOT_AFFECTED;
	} else if (strcmp(r->status, "resolved") == 0 && r->has_fixed && r->fixed[0]) {
		if ((rc = adv_event(a, 'i', "0")) || (rc = adv_event(a, 'f', r->fixed)))
			return tk_seterr(err, rc, "out of memory");
	} else if (strcmp(r->status, "open") == 0 || strcmp(r->status, "resolved") == 0) {
		/* open, or resolved without a fixed version: no fix to compare against */
		if ((rc = adv_event(a, 'i', "0")))
			return tk_seterr(err, rc, "out of memory");
	} else {
		a->kind = TK_ADV_UNDETERMINED;
	}
	return TK_OK;
}

int tk_vdb_load_debian(struct tk_vdb *db, const char *buf, size_t len, const char *name,
		       const struct tk_vdb_want *want, struct tk_vdb_stats *st, struct tk_err *err)
{
	struct tk_jt t = {buf, len, 0, name, err};
	struct sset pk = {0}, rl = {0};
	char pkg[260], cve[72], rel[72], key[64];
	bool p1 = true, tl;
	int r1, rc = TK_OK;
	memset(st, 0, sizeof(*st));
	if (sset_make(&pk, want->pkgs, want->npkgs) || sset_make(&rl, want->releases, want->nreleases)) {
		rc = oom(err);
		goto out;
	}
	if (tk_jt_peek(&t) != '{') {
		rc = t.i < len ? tk_seterr(err, TK_ERR_PARSE, "%s: expected an object {package: {CVE: ...}} at the top", name)
			       : tk_jt_fail(&t, "empty");
		goto out;
	}
	while ((r1 = tk_jt_member(&t, &p1, pkg, sizeof(pkg), &tl, &rc)) == 1) {
		bool p2 = true, keep;
		int r2;
		st->records++;
		keep = !tl && (want->all || sset_has(&pk, pkg));
		if (!keep || tk_jt_peek(&t) != '{') {
			if (tk_jt_peek(&t) != '{') {
				rc = tk_seterr(err, TK_ERR_PARSE, "%s: %.200s: expected an object of CVEs (byte offset %zu)", name,
					       pkg, t.i);
				goto out;
			}
			if ((rc = tk_jt_skip(&t, 1)))
				goto out;
			continue;
		}
		while ((r2 = tk_jt_member(&t, &p2, cve, sizeof(cve), &tl, &rc)) == 1) {
			bool p3 = true, cve_ok = !tl;
			int r3;
			if (tk_jt_peek(&t) != '{') {
				if ((rc = tk_jt_skip(&t, 2)))
					goto out;
				continue;
			}
			while ((r3 = tk_jt_member(&t, &p3, key, sizeof(key), &tl, &rc)) == 1) {
				bool p4 = true;
				int r4;
				if (strcmp(key, "releases") != 0 || !cve_ok) {
					if ((rc = tk_jt_skip(&t, 3)))
						goto out;
					continue;
				}
				if (trk_empty_array(&t)) {
					/* "releases": [] (seen in upstream data): says nothing about any release */
					if ((rc = tk_jt_skip(&t, 3)))
						goto out;
					continue;
				}
				if (tk_jt_peek(&t) != '{') {
					rc = tk_seterr(err, TK_ERR_PARSE,
						       "%s: %.200s.%.64s.releases: expected an object or [] (byte offset %zu)", name,
						       pkg, cve, t.i);
					goto out;
				}
				while ((r4 = tk_jt_member(&t, &p4, rel, sizeof(rel), &tl, &rc)) == 1) {
					struct trk_rel r;
					bool p5 = true, is_str, tl2;
					int r5;
					if (tl || (!want->all && !sset_has(&rl, rel)) || tk_jt_peek(&t) != '{') {
						if ((rc = tk_jt_skip(&t, 4)))
							goto out;
						continue;
					}
					memset(&r, 0, sizeof(r));
					while ((r5 = tk_jt_member(&t, &p5, key, sizeof(key), &tl, &rc)) == 1) {
						if (strcmp(key, "status") == 0) {
							if ((rc = tk_jt_str_or_skip(&t, r.status, sizeof(r.status),
										    &is_str, &tl2)))
								goto out;
							r.has_status = is_str && !tl2;
						} else if (strcmp(key, "fixed_version") == 0) {
							if ((rc = tk_jt_str_or_skip(&t, r.fixed, sizeof(r.fixed),
										    &is_str, &tl2)))
								goto out;
							r.has_fixed = is_str && !tl2;
						} else if (strcmp(key, "urgency") == 0) {
							if ((rc = tk_jt_str_or_skip(&t, r.urgency, sizeof(r.urgency),
										    &is_str, &tl2)))
								goto out;
							r.has_urgency = is_str && !tl2;
						} else if ((rc = tk_jt_skip(&t, 5))) {
							goto out;
						}
					}
					if (r5 < 0)
						goto out;
					if (!r.has_status) {
						rc = tk_seterr(err, TK_ERR_PARSE, "%s: %.200s.%.64s.releases.%.64s: no status", name,
							       pkg, cve, rel);
						goto out;
					}
					if ((rc = trk_add(db, name, pkg, cve, rel, &r, err)))
						goto out;
					st->kept++;
				}
				if (r4 < 0)
					goto out;
			}
			if (r3 < 0)
				goto out;
		}
		if (r2 < 0)
			goto out;
	}
	if (r1 < 0)
		goto out;
	if (tk_jt_peek(&t) != -1) {
		rc = tk_jt_fail(&t, "trailing data after the top-level object");
		goto out;
	}
	rc = TK_OK;
out:
	free(pk.v);
	free(rl.v);
	return rc;
}

/* ---- scores ---- */

static int add_score(struct tk_vdb *db, const char *cve, const char *source, const char *vector,
		     double published, int rank_base, struct tk_vdb_stats *st, struct tk_err *err)
{
	struct tk_cvss cv;
	const char *why;
	struct tk_score *s;
	int rc;
	if (!vector || !cve)
		return TK_OK;
	if (tk_cvss_parse(vector, strlen(vector), &cv, &why))
		return TK_OK; /* an unscorable vector is skipped (and the CVE may end up unscored) */
	if (cv.version == TK_CVSS_V40) {
		if (published < 0 || published > 10)
			return TK_OK;
		cv.base = published;
	}
	if ((rc = grow((void **)&db->sc, &db->capsc, db->nsc, sizeof(*db->sc))))
		return tk_seterr(err, rc, "too many scores");
	s = &db->sc[db->nsc++];
	memset(s, 0, sizeof(*s));
	s->cve = strdup(cve);
	s->source = strdup(source);
	s->vector = strdup(vector);
	s->version = (int)cv.version;
	s->score = cv.base;
	s->published = published;
	/* See tk_vdb_find_scores(): NVD 3.1 > NVD 3.0 > OSV v3 > NVD 4.0 > v2; primary before secondary. */
	switch (cv.version) {
	case TK_CVSS_V31: s->rank = rank_base == 0 ? 0 : rank_base == 1 ? 1 : 4; break;
	case TK_CVSS_V30: s->rank = rank_base == 0 ? 2 : rank_base == 1 ? 3 : 5; break;
	case TK_CVSS_V40: s->rank = rank_base == 2 ? 7 : 6; break;
	default: s->rank = rank_base == 2 ? 9 : 8; break;
	}
	db->indexed = false;
	st->scores++;
	if (!s->cve || !s->source || !s->vector)
		return oom(err);
	return TK_OK;
}

/* ---- OSV ---- */

static bool is_cve(const char *s)
{
	return s && strncmp(s, "CVE-", 4) == 0 && strlen(s) < 32;
}

/*
 * The CVE an OSV id names: "CVE-2021-3782" itself, or a distribution's
 * per-CVE record id ("UBUNTU-CVE-2021-3782", "DEBIAN-CVE-...", "ALPINE-CVE-..."):
 * the CVE after the prefix. NULL when it names none.
 */
static const char *cve_of(const char *s)
{
	const char *p;
	if (is_cve(s))
		return s;
	if (!s || !(p = strstr(s, "-CVE-")) || p - s > 16)
		return NULL;
	for (const char *q = s; q < p; q++)
		if (!(*q >= 'A' && *q <= 'Z'))
			return NULL;
	return is_cve(p + 1) ? p + 1 : NULL;
}

static time_t date_of(const char *s)
{
	char d[11];
	time_t t;
	if (!s || strlen(s) < 10)
		return 0;
	memcpy(d, s, 10);
	d[10] = '\0';
	return tk_parse_time(d, &t) == TK_OK ? t : 0;
}

/* Red Hat family bug-fix / enhancement advisories (RHBA, RHEA, ALBA, ALEA, RLBA, RLEA, ELBA, ...). */
static bool is_bugfix_id(const char *id)
{
	size_t n = strcspn(id, "-");
	return id[n] == '-' && n >= 3 && n <= 5 &&
	       (strncmp(id + n - 2, "BA", 2) == 0 || strncmp(id + n - 2, "EA", 2) == 0);
}

#define OSV_MAX_CVES 256

/*
 * Every CVE the record speaks for, each once: the id, aliases and upstream
 * (distribution per-CVE ids mapped to their CVE). "related" lists other,
 * related entries, so it is used only when the record names no CVE
 * otherwise: AlmaLinux and Rocky advisories put the CVEs they fix there.
 */
static size_t osv_cves(const cJSON *r, const char *id, const char *cves[OSV_MAX_CVES])
{
	static const char *const lists[] = {"aliases", "upstream", "related"};
	const cJSON *al;
	size_t n = 0, k, j;
	if (cve_of(id))
		cves[n++] = cve_of(id);
	for (k = 0; k < TK_ARRAY_LEN(lists); k++) {
		if (k == 2 && n > 0)
			break;
		cJSON_ArrayForEach(al, cJSON_GetObjectItemCaseSensitive(r, lists[k]))
		{
			const char *c = cJSON_IsString(al) ? cve_of(al->valuestring) : NULL;
			if (!c || n >= OSV_MAX_CVES)
				continue;
			for (j = 0; j < n && strcmp(cves[j], c) != 0; j++)
				;
			if (j == n)
				cves[n++] = c;
		}
	}
	return n;
}

/* One affected[] entry for one CVE -> an advisory. */
static int osv_affected(struct tk_vdb *db, const cJSON *aff, const char *id, const char *cve, time_t published,
			const char *name, struct tk_err *err)
{
	const cJSON *pkg = cJSON_GetObjectItemCaseSensitive(aff, "package"), *range, *e, *v;
	const char *eco = jstr(pkg, "ecosystem"), *pname = jstr(pkg, "name");
	struct tk_adv *a;
	size_t nver = 0;
	int rc;
	if (!(a = adv_new(db, name, err)))
		return err->rc;
	a->feed = "osv";
	a->scheme = tk_eco_scheme(eco);
	a->pkg = strdup(pname);
	a->eco = strdup(eco);
	a->cve = strdup(cve);
	a->record = strdup(id);
	a->published = published;
	if (!a->pkg || !a->eco || !a->cve || !a->record)
		return oom(err);
	cJSON_ArrayForEach(range, cJSON_GetObjectItemCaseSensitive(aff, "ranges"))
	{
		const char *type = jstr(range, "type");
		if (!type || strcmp(type, "ECOSYSTEM") != 0)
			continue; /* GIT/SEMVER ranges do not apply to distribution versions */
		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(range, "events"))
		{
			const char *ver;
			char t = 0;
			if ((ver = jstr(e, "introduced")))
				t = 'i';
			else if ((ver = jstr(e, "fixed")))
				t = 'f';
			else if ((ver = jstr(e, "last_affected")))
				t = 'l';
			else if ((ver = jstr(e, "limit")))
				t = 'L';
			if (!t)
				continue;
			if ((rc = adv_event(a, t, ver)))
				return tk_seterr(err, rc, "%s: %s: too many range events", name, id);
		}
	}
	v = cJSON_GetObjectItemCaseSensitive(aff, "versions");
	if (cJSON_IsArray(v) && cJSON_GetArraySize(v) > 0) {
		const cJSON *x;
		size_t cap = (size_t)cJSON_GetArraySize(v);
		if (cap > 100000)
			return tk_seterr(err, TK_ERR_LIMIT, "%s: %s: too many versions", name, id);
		if (!(a->versions = calloc(cap + 1, sizeof(char *))))
			return oom(err);
		cJSON_ArrayForEach(x, v) if (cJSON_IsString(x) && nver < cap && strlen(x->valuestring) <= VDB_MAX_STR)
		{
			if (!(a->versions[nver++] = strdup(x->valuestring)))
				return oom(err);
		}
		a->nversions = nver;
	}
	return TK_OK;
}

static int osv_record(struct tk_vdb *db, const cJSON *r, const char *name, size_t idx, const struct sset *pk,
		      const struct sset *ec, bool all, struct tk_vdb_stats *st, struct tk_err *err)
{
	const char *id = jstr(r, "id"), *cves[OSV_MAX_CVES];
	const cJSON *aff, *sev, *wd;
	char src[160];
	size_t ncves, ci;
	time_t published;
	int rc;
	if (!cJSON_IsObject(r) || !id)
		return tk_seterr(err, TK_ERR_PARSE, "%s: record %zu: not an OSV record (no \"id\")", name, idx);
	st->records++;
	/* a withdrawn record no longer states anything */
	wd = cJSON_GetObjectItemCaseSensitive(r, "withdrawn");
	if (wd && !cJSON_IsNull(wd)) {
		st->withdrawn++;
		return TK_OK;
	}
	ncves = osv_cves(r, id, cves);
	if (ncves == 0) {
		if (is_bugfix_id(id)) {
			st->no_cve++; /* a bug-fix or enhancement update is not a vulnerability */
			return TK_OK;
		}
		cves[ncves++] = id; /* a security advisory without a CVE id: judged under its own id */
	}
	snprintf(src, sizeof(src), "osv:%.100s", id);
	/* a record's severity is about one vulnerability: ambiguous when it lists several CVEs */
	if (ncves == 1)
		cJSON_ArrayForEach(sev, cJSON_GetObjectItemCaseSensitive(r, "severity"))
		{
			const char *type = jstr(sev, "type"), *score = jstr(sev, "score");
			if (type && score && strncmp(type, "CVSS_V", 6) == 0 &&
			    (rc = add_score(db, cves[0], src, score, -1, 2, st, err)))
				return rc;
		}
	published = date_of(jstr(r, "published"));
	cJSON_ArrayForEach(aff, cJSON_GetObjectItemCaseSensitive(r, "affected"))
	{
		const cJSON *pkg = cJSON_GetObjectItemCaseSensitive(aff, "package");
		const char *eco = jstr(pkg, "ecosystem"), *pname = jstr(pkg, "name");
		if (!eco || !pname)
			continue;
		if (!all && (!sset_has(pk, pname) || !sset_has(ec, eco)))
			continue;
		for (ci = 0; ci < ncves; ci++) {
			if ((rc = osv_affected(db, aff, id, cves[ci], published, name, err)))
				return rc;
			st->kept++;
		}
	}
	return TK_OK;
}

int tk_vdb_load_osv(struct tk_vdb *db, const char *buf, size_t len, const char *name,
		    const struct tk_vdb_want *want, struct tk_vdb_stats *st, struct tk_err *err)
{
	cJSON *root = NULL;
	struct sset pk = {0}, ec = {0};
	int rc;
	memset(st, 0, sizeof(*st));
	if ((rc = parse_json(buf, len, name, &root, err)))
		return rc;
	if (sset_make(&pk, want->pkgs, want->npkgs) || sset_make(&ec, want->ecos, want->necos)) {
		rc = oom(err);
		goto out;
	}
	if (cJSON_IsArray(root)) {
		const cJSON *r;
		size_t i = 0;
		cJSON_ArrayForEach(
		    r, root) if ((rc = osv_record(db, r, name, i++, &pk, &ec, want->all, st, err))) goto out;
	} else {
		rc = osv_record(db, root, name, 0, &pk, &ec, want->all, st, err);
	}
out:
	free(pk.v);
	free(ec.v);
	cJSON_Delete(root);
	return rc;
}

/* ---- NVD ---- */

/* Split "cpe:2.3:part:vendor:product:version:..." (handles "\:" escapes). */
static int hexval(int c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

/* CPE 2.3 formatted strings ("cpe:2.3:a:v:p:ver:...", backslash escapes) and
 * CPE 2.2 URIs as nmap prints them ("cpe:/a:v:p:ver", percent escapes). */
static int cpe_split(const char *cpe, char f[6][VDB_MAX_STR + 1])
{
	size_t n = 0, o = 0, i;
	bool uri = strncmp(cpe, "cpe:/", 5) == 0;
	if (strncmp(cpe, "cpe:2.3:", 8) != 0 && !uri)
		return -1;
	memset(f, 0, 6 * (VDB_MAX_STR + 1));
	for (i = uri ? 5 : 8; cpe[i] && n < 6; i++) {
		if (uri && cpe[i] == '%' && hexval((unsigned char)cpe[i + 1]) >= 0 &&
		    hexval((unsigned char)cpe[i + 2]) >= 0) {
			if (o < VDB_MAX_STR)
				f[n][o++] =
				    (char)(hexval((unsigned char)cpe[i + 1]) * 16 + hexval((unsigned char)cpe[i + 2]));
			i += 2;
			continue;
		}
		if (!uri && cpe[i] == '\\' && cpe[i + 1]) {
			if (o < VDB_MAX_STR)
				f[n][o++] = cpe[i + 1];
			i++;
			continue;
		}
		if (cpe[i] == ':') {
			f[n][o] = '\0';
			n++;
			o = 0;
			continue;
		}
		if (o < VDB_MAX_STR)
			f[n][o++] = cpe[i];
	}
	if (uri && n < 6)
		n++; /* the last field of a URI is not followed by ':' */
	if (uri && f[3][0] == '\0')
		snprintf(f[3], VDB_MAX_STR + 1, "*");
	return n >= 3 && f[1][0] && f[2][0] ? 0 : -1;
}

int tk_cpe_parts(const char *cpe, char *vendor, size_t vs, char *product, size_t ps, char *version, size_t ws)
{
	char (*f)[VDB_MAX_STR + 1] = malloc(6 * sizeof(*f));
	int rc = -1;
	if (f && cpe_split(cpe, f) == 0) {
		snprintf(vendor, vs, "%s", f[1]);
		snprintf(product, ps, "%s", f[2]);
		snprintf(version, ws, "%s", f[3][0] ? f[3] : "*");
		rc = 0;
	}
	free(f);
	return rc;
}

/*
 * NVD pages are read with the same pull tokenizer as the tracker: a page of
 * 2,000 CVEs is ~20 MB of JSON of which we keep a vector and a few CPE
 * ranges per CVE. Per CVE, scores and CPE matches are collected and added
 * once the "cve" object ends (its "id" may come anywhere in it).
 */
#define NVD_MAX_PENDING 4096

struct nvd_score {
	char source[160], vector[260];
	double bs;
	int primary;
};

struct nvd_cpe {
	char crit[VDB_MAX_STR + 1];
	char r[4][128]; /* si, se, ei, ee */
	bool has[4];
};

struct nvd_cve {
	char id[64];
	struct nvd_score *sc;
	size_t nsc, capsc;
	struct nvd_cpe *cp;
	size_t ncp, capcp;
};

static int grow_n(void **p, size_t *cap, size_t n, size_t elem)
{
	void *np;
	size_t nc;
	if (n < *cap)
		return TK_OK;
	if (n >= NVD_MAX_PENDING)
		return TK_ERR_LIMIT;
	nc = *cap ? *cap * 2 : 8;
	if (!(np = realloc(*p, nc * elem)))
		return TK_ERR_NOMEM;
	*p = np;
	*cap = nc;
	return TK_OK;
}

/* metrics.cvssMetricV*: [{source, type, cvssData: {vectorString, baseScore}}] */
static int nvd_metric_list(struct tk_jt *t, struct nvd_cve *cv)
{
	bool first = true;
	int r, rc;
	while ((r = tk_jt_elem(t, &first, &rc)) == 1) {
		struct nvd_score s;
		bool m1 = true, is, tl;
		char key[32], type[32] = "";
		int r2;
		memset(&s, 0, sizeof(s));
		s.bs = -1;
		if (tk_jt_peek(t) != '{') {
			if ((rc = tk_jt_skip(t, 4)))
				return rc;
			continue;
		}
		while ((r2 = tk_jt_member(t, &m1, key, sizeof(key), &tl, &rc)) == 1) {
			if (strcmp(key, "source") == 0) {
				if ((rc = tk_jt_str_or_skip(t, s.source, sizeof(s.source), &is, &tl)))
					return rc;
			} else if (strcmp(key, "type") == 0) {
				if ((rc = tk_jt_str_or_skip(t, type, sizeof(type), &is, &tl)))
					return rc;
			} else if (strcmp(key, "cvssData") == 0 && tk_jt_peek(t) == '{') {
				bool m2 = true;
				int r3;
				while ((r3 = tk_jt_member(t, &m2, key, sizeof(key), &tl, &rc)) == 1) {
					if (strcmp(key, "vectorString") == 0) {
						if ((rc = tk_jt_str_or_skip(t, s.vector, sizeof(s.vector), &is, &tl)))
							return rc;
						if (!is || tl)
							s.vector[0] = '\0';
					} else if (strcmp(key, "baseScore") == 0) {
						if ((rc = tk_jt_number(t, &s.bs, &is)))
							return rc;
						if (!is)
							s.bs = -1;
					} else if ((rc = tk_jt_skip(t, 6))) {
						return rc;
					}
				}
				if (r3 < 0)
					return rc;
			} else if ((rc = tk_jt_skip(t, 5))) {
				return rc;
			}
		}
		if (r2 < 0)
			return rc;
		if (!s.vector[0])
			continue;
		s.primary = strcmp(type, "Primary") == 0;
		if (!s.source[0])
			snprintf(s.source, sizeof(s.source), "?");
		if (grow_n((void **)&cv->sc, &cv->capsc, cv->nsc, sizeof(*cv->sc)))
			continue; /* more metrics than anyone publishes: ignore the rest */
		cv->sc[cv->nsc++] = s;
	}
	return r < 0 ? rc : TK_OK;
}

/* nodes: [{negate, cpeMatch: [{vulnerable, criteria, versionStart/End...}], children: nodes}] */
static int nvd_nodes(struct tk_jt *t, struct nvd_cve *cv, int depth)
{
	static const char *const rk[4] = {"versionStartIncluding", "versionStartExcluding", "versionEndIncluding",
					  "versionEndExcluding"};
	bool first = true;
	int r, rc;
	if (depth > 8)
		return tk_jt_skip(t, 8);
	while ((r = tk_jt_elem(t, &first, &rc)) == 1) {
		bool m1 = true, tl, negate = false;
		char key[40];
		int r2;
		size_t mark = cv->ncp;
		if (tk_jt_peek(t) != '{') {
			if ((rc = tk_jt_skip(t, 6)))
				return rc;
			continue;
		}
		while ((r2 = tk_jt_member(t, &m1, key, sizeof(key), &tl, &rc)) == 1) {
			if (strcmp(key, "negate") == 0) {
				if ((rc = tk_jt_bool(t, &negate)))
					return rc;
			} else if (strcmp(key, "children") == 0 && tk_jt_peek(t) == '[') {
				if ((rc = nvd_nodes(t, cv, depth + 1)))
					return rc;
			} else if (strcmp(key, "cpeMatch") == 0 && tk_jt_peek(t) == '[') {
				bool f2 = true;
				int r3;
				while ((r3 = tk_jt_elem(t, &f2, &rc)) == 1) {
					struct nvd_cpe m;
					bool m2 = true, vuln = false, is;
					int r4;
					size_t k;
					memset(&m, 0, sizeof(m));
					if (tk_jt_peek(t) != '{') {
						if ((rc = tk_jt_skip(t, 8)))
							return rc;
						continue;
					}
					while ((r4 = tk_jt_member(t, &m2, key, sizeof(key), &tl, &rc)) == 1) {
						bool known = false;
						if (strcmp(key, "vulnerable") == 0) {
							if ((rc = tk_jt_bool(t, &vuln)))
								return rc;
							continue;
						}
						if (strcmp(key, "criteria") == 0) {
							if ((rc = tk_jt_str_or_skip(t, m.crit, sizeof(m.crit), &is,
										    &tl)))
								return rc;
							if (!is || tl)
								m.crit[0] = '\0';
							continue;
						}
						for (k = 0; k < 4; k++)
							if (strcmp(key, rk[k]) == 0) {
								known = true;
								if ((rc = tk_jt_str_or_skip(t, m.r[k], sizeof(m.r[k]),
											    &is, &tl)))
									return rc;
								m.has[k] = is && !tl;
							}
						if (!known && (rc = tk_jt_skip(t, 9)))
							return rc;
					}
					if (r4 < 0)
						return rc;
					if (!vuln || !m.crit[0])
						continue;
					if (grow_n((void **)&cv->cp, &cv->capcp, cv->ncp, sizeof(*cv->cp)))
						continue;
					cv->cp[cv->ncp++] = m;
				}
				if (r3 < 0)
					return rc;
			} else if ((rc = tk_jt_skip(t, 7))) {
				return rc;
			}
		}
		if (r2 < 0)
			return rc;
		if (negate)
			cv->ncp = mark; /* a negated node's matches say "not vulnerable": drop them */
	}
	return r < 0 ? rc : TK_OK;
}

static int nvd_commit(struct tk_vdb *db, struct nvd_cve *cv, const struct sset *pr, bool all, struct tk_vdb_stats *st,
		      struct tk_err *err)
{
	char (*f)[VDB_MAX_STR + 1] = NULL;
	size_t k;
	int rc = TK_OK;
	for (k = 0; k < cv->nsc; k++) {
		char src[200];
		snprintf(src, sizeof(src), "nvd:%.150s", cv->sc[k].source);
		if ((rc = add_score(db, cv->id, src, cv->sc[k].vector, cv->sc[k].bs, cv->sc[k].primary ? 0 : 1, st,
				    err)))
			return rc;
	}
	if (cv->ncp && !(f = malloc(6 * sizeof(*f))))
		return oom(err);
	for (k = 0; k < cv->ncp; k++) {
		const struct nvd_cpe *m = &cv->cp[k];
		char vp[2 * VDB_MAX_STR + 2];
		struct tk_cpem *c;
		if (cpe_split(m->crit, f))
			continue;
		snprintf(vp, sizeof(vp), "%s:%s", f[1], f[2]);
		if (!all && !sset_has(pr, vp))
			continue;
		if ((rc = grow((void **)&db->cm, &db->capcm, db->ncm, sizeof(*db->cm)))) {
			tk_seterr(err, rc, "too many CPE matches");
			break;
		}
		c = &db->cm[db->ncm++];
		memset(c, 0, sizeof(*c));
		c->cve = strdup(cv->id);
		c->vendor = strdup(f[1]);
		c->product = strdup(f[2]);
		c->version = strdup(f[3][0] ? f[3] : "*");
		c->si = m->has[0] ? strdup(m->r[0]) : NULL;
		c->se = m->has[1] ? strdup(m->r[1]) : NULL;
		c->ei = m->has[2] ? strdup(m->r[2]) : NULL;
		c->ee = m->has[3] ? strdup(m->r[3]) : NULL;
		db->indexed = false;
		st->kept++;
		if (!c->cve || !c->vendor || !c->product || !c->version) {
			rc = oom(err);
			break;
		}
	}
	free(f);
	return rc;
}

/* One member of a "cve" object: id, metrics, configurations; others skipped. */
static int nvd_cve_member(struct tk_jt *t, const char *key, struct nvd_cve *cv, int depth)
{
	char k2[64];
	bool tl, is, m = true;
	int r, rc = TK_OK;
	if (strcmp(key, "id") == 0) {
		if ((rc = tk_jt_str_or_skip(t, cv->id, sizeof(cv->id), &is, &tl)))
			return rc;
		if (!is || tl)
			cv->id[0] = '\0';
		return TK_OK;
	}
	if (strcmp(key, "metrics") == 0 && tk_jt_peek(t) == '{') {
		while ((r = tk_jt_member(t, &m, k2, sizeof(k2), &tl, &rc)) == 1) {
			if (strncmp(k2, "cvssMetricV", 11) == 0 && tk_jt_peek(t) == '[')
				rc = nvd_metric_list(t, cv);
			else
				rc = tk_jt_skip(t, depth + 1);
			if (rc)
				return rc;
		}
		return r < 0 ? rc : TK_OK;
	}
	if (strcmp(key, "configurations") == 0 && tk_jt_peek(t) == '[') {
		bool f = true;
		while ((r = tk_jt_elem(t, &f, &rc)) == 1) {
			bool m2 = true;
			int r2;
			if (tk_jt_peek(t) != '{') {
				if ((rc = tk_jt_skip(t, depth + 1)))
					return rc;
				continue;
			}
			while ((r2 = tk_jt_member(t, &m2, k2, sizeof(k2), &tl, &rc)) == 1) {
				if (strcmp(k2, "nodes") == 0 && tk_jt_peek(t) == '[')
					rc = nvd_nodes(t, cv, 0);
				else
					rc = tk_jt_skip(t, depth + 2);
				if (rc)
					return rc;
			}
			if (r2 < 0)
				return rc;
		}
		return r < 0 ? rc : TK_OK;
	}
	return tk_jt_skip(t, depth);
}

/* A whole "cve" object at t into cv (reset first). */
static int nvd_cve_object(struct tk_jt *t, struct nvd_cve *cv, int depth)
{
	char key[64];
	bool m = true, tl;
	int r, rc = TK_OK;
	cv->id[0] = '\0';
	cv->nsc = cv->ncp = 0;
	while ((r = tk_jt_member(t, &m, key, sizeof(key), &tl, &rc)) == 1)
		if ((rc = nvd_cve_member(t, key, cv, depth + 1)))
			return rc;
	return r < 0 ? rc : TK_OK;
}

/* vulnerabilities: [{cve: {...}}, ...] */
static int nvd_vulns(struct tk_jt *t, struct tk_vdb *db, struct nvd_cve *cv, const struct sset *pr, bool all,
		     struct tk_vdb_stats *st)
{
	char key[64];
	bool fa = true, tl;
	size_t idx = 0;
	int ra, rc = TK_OK;
	while ((ra = tk_jt_elem(t, &fa, &rc)) == 1) {
		bool m1 = true;
		int r1;
		if (tk_jt_peek(t) != '{') {
			if ((rc = tk_jt_skip(t, 2)))
				return rc;
			continue;
		}
		while ((r1 = tk_jt_member(t, &m1, key, sizeof(key), &tl, &rc)) == 1) {
			if (strcmp(key, "cve") != 0 || tk_jt_peek(t) != '{') {
				if ((rc = tk_jt_skip(t, 3)))
					return rc;
				continue;
			}
			if ((rc = nvd_cve_object(t, cv, 3)))
				return rc;
			if (!cv->id[0])
				return tk_seterr(t->err, TK_ERR_PARSE, "%s: vulnerabilities[%zu].cve.id: missing", t->name, idx);
			st->records++;
			if ((rc = nvd_commit(db, cv, pr, all, st, t->err)))
				return rc;
		}
		if (r1 < 0)
			return rc;
		idx++;
	}
	return ra < 0 ? rc : TK_OK;
}

/*
 * Three shapes: an NVD CVE API 2.0 response page ({"vulnerabilities": [{"cve": ...}]}),
 * one entry of it ({"cve": {...}}), or a bare cve object ({"id": "CVE-...", "metrics": ...},
 * as the API's per-CVE answer and NVD mirrors that keep one file per CVE store it).
 */
int tk_vdb_load_nvd(struct tk_vdb *db, const char *buf, size_t len, const char *name,
		    const struct tk_vdb_want *want, struct tk_vdb_stats *st, struct tk_err *err)
{
	struct tk_jt t = {buf, len, 0, name, err};
	struct sset pr = {0};
	struct nvd_cve cv, bare;
	bool top = true, page = false, wrapped = false, tl;
	char key[64];
	int r, rc = TK_OK;
	memset(st, 0, sizeof(*st));
	memset(&cv, 0, sizeof(cv));
	memset(&bare, 0, sizeof(bare));
	if (sset_make(&pr, want->products, want->nproducts)) {
		rc = oom(err);
		goto out;
	}
	if (tk_jt_peek(&t) != '{') {
		rc = tk_jt_fail(&t, "expected an object");
		goto out;
	}
	while ((r = tk_jt_member(&t, &top, key, sizeof(key), &tl, &rc)) == 1) {
		if (strcmp(key, "vulnerabilities") == 0 && tk_jt_peek(&t) == '[') {
			page = true;
			rc = nvd_vulns(&t, db, &cv, &pr, want->all, st);
		} else if (strcmp(key, "cve") == 0 && tk_jt_peek(&t) == '{') {
			wrapped = true;
			if (!(rc = nvd_cve_object(&t, &cv, 1))) {
				if (!cv.id[0])
					rc = tk_seterr(err, TK_ERR_PARSE, "%s: cve.id: missing", name);
				else if (!(rc = nvd_commit(db, &cv, &pr, want->all, st, err)))
					st->records++;
			}
		} else {
			rc = nvd_cve_member(&t, key, &bare, 1); /* a bare cve object's members, or skipped */
		}
		if (rc)
			goto out;
	}
	if (r < 0)
		goto out;
	if (tk_jt_peek(&t) != -1) {
		rc = tk_jt_fail(&t, "trailing data after the top-level object");
		goto out;
	}
	if (!page && !wrapped) {
		if (!is_cve(bare.id)) {
			rc = tk_seterr(err, TK_ERR_PARSE,
				       "%s: not NVD CVE data (no \"vulnerabilities\" array, no \"cve\" object, no CVE \"id\")",
				       name);
			goto out;
		}
		if ((rc = nvd_commit(db, &bare, &pr, want->all, st, err)))
			goto out;
		st->records++;
	}
out:
	free(cv.sc);
	free(cv.cp);
	free(bare.sc);
	free(bare.cp);
	free(pr.v);
	return rc;
}

/* ---- index and lookups ---- */

static int adv_cmp(const void *x, const void *y)
{
	const struct tk_adv *a = x, *b = y;
	int c = strcmp(a->pkg, b->pkg);
	return c ? c : strcmp(a->cve, b->cve);
}

static int score_cmp(const void *x, const void *y)
{
	const struct tk_score *a = x, *b = y;
	int c = strcmp(a->cve, b->cve);
	if (c)
		return c;
	if (a->rank != b->rank)
		return a->rank - b->rank;
	return strcmp(a->source, b->source);
}

static int cm_cmp(const void *x, const void *y)
{
	const struct tk_cpem *a = x, *b = y;
	int c = strcmp(a->vendor, b->vendor);
	if (!c)
		c = strcmp(a->product, b->product);
	return c ? c : strcmp(a->cve, b->cve);
}

void tk_vdb_index(struct tk_vdb *db)
{
	if (db->nadv)
		qsort(db->adv, db->nadv, sizeof(*db->adv), adv_cmp);
	if (db->nsc)
		qsort(db->sc, db->nsc, sizeof(*db->sc), score_cmp);
	if (db->ncm)
		qsort(db->cm, db->ncm, sizeof(*db->cm), cm_cmp);
	db->indexed = true;
}

/* Lower bound over a sorted array by a key comparator. */
#define LOWER_BOUND(arr, n, keyexpr, out)                                                            \
	do {                                                                                         \
		size_t lo_ = 0, hi_ = (n);                                                           \
		while (lo_ < hi_) {                                                                  \
			size_t mid_ = lo_ + (hi_ - lo_) / 2;                                         \
			const __typeof__((arr)[0]) *e = &(arr)[mid_];                                \
			if ((keyexpr) < 0)                                                           \
				lo_ = mid_ + 1;                                                      \
			else                                                                         \
				hi_ = mid_;                                                          \
		}                                                                                    \
		(out) = lo_;                                                                         \
	} while (0)

void tk_vdb_find_pkg(const struct tk_vdb *db, const char *pkg, size_t *first, size_t *n)
{
	size_t lo, k;
	LOWER_BOUND(db->adv, db->nadv, strcmp(e->pkg, pkg), lo);
	for (k = lo; k < db->nadv && strcmp(db->adv[k].pkg, pkg) == 0; k++)
		;
	*first = lo;
	*n = k - lo;
}

void tk_vdb_find_scores(const struct tk_vdb *db, const char *cve, size_t *first, size_t *n)
{
	size_t lo, k;
	LOWER_BOUND(db->sc, db->nsc, strcmp(e->cve, cve), lo);
	for (k = lo; k < db->nsc && strcmp(db->sc[k].cve, cve) == 0; k++)
		;
	*first = lo;
	*n = k - lo;
}

void tk_vdb_find_cpe(const struct tk_vdb *db, const char *vendor, const char *product, size_t *first, size_t *n)
{
	size_t lo, k;
	LOWER_BOUND(db->cm, db->ncm,
		    (strcmp(e->vendor, vendor) ? strcmp(e->vendor, vendor) : strcmp(e->product, product)), lo);
	for (k = lo; k < db->ncm && strcmp(db->cm[k].vendor, vendor) == 0 && strcmp(db->cm[k].product, product) == 0;
	     k++)
		;
	*first = lo;
	*n = k - lo;
}

/* ---- versions ---- */

int tk_vcmp(enum tk_vscheme s, const char *a, const char *b)
{
	switch (s) {
	case TK_VS_DPKG: return tk_dpkgver_cmp(a, b, NULL);
	case TK_VS_RPM: return tk_rpm_evrcmp(a, b);
	case TK_VS_APK: return tk_apk_vercmp(a, b);
	default: return tk_rpmvercmp(a, strlen(a), b, strlen(b));
	}
}

enum tk_vscheme tk_eco_scheme(const char *eco)
{
	if (strncmp(eco, "Debian", 6) == 0 || strncmp(eco, "Ubuntu", 6) == 0 || strncmp(eco, "tracker:", 8) == 0)
		return TK_VS_DPKG;
	if (strncmp(eco, "Alpine", 6) == 0)
		return TK_VS_APK;
	if (strncmp(eco, "Red Hat", 7) == 0 || strncmp(eco, "Rocky Linux", 11) == 0 ||
	    strncmp(eco, "AlmaLinux", 9) == 0 || strncmp(eco, "openSUSE", 8) == 0 || strncmp(eco, "SUSE", 4) == 0 ||
	    strncmp(eco, "Mageia", 6) == 0 || strncmp(eco, "openEuler", 9) == 0)
		return TK_VS_RPM;
	return TK_VS_GENERIC;
}

enum tk_match tk_adv_match(const struct tk_adv *a, const char *v, const char **fixed)
{
	size_t k;
	bool vuln = false, any_fixed_event = false;
	const char *fix = NULL, *cured_by = NULL;
	*fixed = NULL;
	if (a->kind == TK_ADV_NOT_AFFECTED)
		return TK_M_NOT_AFFECTED;
	if (a->kind == TK_ADV_UNDETERMINED)
		return TK_M_UNDETERMINED;
	for (k = 0; k < a->nversions; k++)
		if (tk_vcmp(a->scheme, v, a->versions[k]) == 0)
			vuln = true;
	/*
	 * OSV evaluation: walk the events in version order; "introduced" at or
	 * below v turns vulnerable on, "fixed" at or below v (or "last_affected"
	 * below v) turns it off. The fix that would cure v is the first "fixed"
	 * above v after the introduction that made it vulnerable.
	 */
	{
		const struct tk_vev *ev[TK_VDB_MAX_EVENTS];
		size_t n = a->nev, i, j;
		bool rv = false;
		for (i = 0; i < n; i++)
			ev[i] = &a->ev[i];
		for (i = 1; i < n; i++) { /* insertion sort by version; "0" lowest */
			const struct tk_vev *x = ev[i];
			for (j = i; j > 0; j--) {
				const struct tk_vev *y = ev[j - 1];
				int c;
				if (strcmp(x->ver, "0") == 0 && x->type == 'i')
					c = strcmp(y->ver, "0") == 0 && y->type == 'i' ? 0 : -1;
				else if (strcmp(y->ver, "0") == 0 && y->type == 'i')
					c = 1;
				else
					c = tk_vcmp(a->scheme, x->ver, y->ver);
				if (c >= 0)
					break;
				ev[j] = y;
			}
			ev[j] = x;
		}
		for (i = 0; i < n; i++) {
			const struct tk_vev *e = ev[i];
			if (e->type == 'f')
				any_fixed_event = true;
			if (e->type == 'i') {
				if (strcmp(e->ver, "0") == 0 || tk_vcmp(a->scheme, v, e->ver) >= 0) {
					if (!rv)
						fix = NULL; /* a new introduction: search its fix afresh */
					rv = true;
				}
			} else if (e->type == 'f') {
				if (tk_vcmp(a->scheme, v, e->ver) >= 0) {
					if (rv)
						cured_by = e->ver;
					rv = false;
				} else if (rv && !fix) {
					fix = e->ver;
				}
			} else if (e->type == 'l') {
				if (tk_vcmp(a->scheme, v, e->ver) > 0) {
					if (rv)
						cured_by = e->ver; /* past the last affected version */
					rv = false;
				}
			} else if (e->type == 'L') {
				if (tk_vcmp(a->scheme, v, e->ver) >= 0)
					rv = false;
			}
		}
		if (rv)
			vuln = true;
	}
	(void)any_fixed_event;
	if (!vuln) {
		*fixed = cured_by;
		return cured_by ? TK_M_FIXED : TK_M_NOT_AFFECTED;
	}
	if (!fix) {
		/* explicit version lists: the next fixed event above v, if any */
		for (k = 0; k < a->nev; k++)
			if (a->ev[k].type == 'f' && tk_vcmp(a->scheme, v, a->ev[k].ver) < 0 &&
			    (!fix || tk_vcmp(a->scheme, a->ev[k].ver, fix) < 0))
				fix = a->ev[k].ver;
	}
	*fixed = fix;
	return fix ? TK_M_VULN_FIXABLE : TK_M_VULN_NOFIX;
}
