/*
 * vulnfeed.h - vulnerability data loaded offline from local files:
 *
 *   debian-tracker  security-tracker.debian.org/tracker/data/json:
 *                   {package: {CVE: {releases: {codename: {status, fixed_version,
 *                   urgency, repositories}}}}} - keyed by SOURCE package.
 *   osv             OSV records (one object, or an array of them):
 *                   affected[].package{ecosystem,name}, affected[].ranges[].events
 *                   (introduced/fixed/last_affected/limit), affected[].versions,
 *                   severity[].{type,score} where score is a CVSS vector.
 *   nvd             NVD CVE API 2.0 response pages: vulnerabilities[].cve with
 *                   metrics.cvssMetricV31/V30/V40/V2 and configurations[].nodes[].cpeMatch.
 *
 * Loaders keep only what a filter asks for (packages, releases/ecosystems,
 * CPE vendor:product) so that a full feed fits in memory; errors name the
 * file and, for malformed JSON, the byte offset.
 */
#ifndef TK_VULNFEED_H
#define TK_VULNFEED_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include "apkver.h" /* tk_apk_vercmp(), used by tk_vcmp() */
#include "tk.h"

#define TK_VDB_MAX_EVENTS 64

/* Version schemes. */
enum tk_vscheme { TK_VS_DPKG, TK_VS_RPM, TK_VS_APK, TK_VS_GENERIC };

struct tk_vev {
	char type;   /* 'i' introduced, 'f' fixed, 'l' last_affected, 'L' limit */
	char *ver;   /* "0" for introduced-from-the-start */
};

enum tk_adv_kind {
	TK_ADV_RANGES,        /* affected per events/versions */
	TK_ADV_NOT_AFFECTED,  /* tracker: resolved with fixed_version "0" */
	TK_ADV_UNDETERMINED,  /* tracker: status undetermined */
};

/* One feed's statement about one package in one release/ecosystem. */
struct tk_adv {
	char *pkg;          /* source package (tracker), OSV package name */
	char *eco;          /* "tracker:bookworm", or the OSV ecosystem ("Debian:12") */
	char *cve;          /* CVE id, or the record id when it has no CVE alias */
	char *record;       /* OSV record id / "debian-tracker" */
	const char *feed;   /* "debian-tracker" | "osv" */
	enum tk_adv_kind kind;
	enum tk_vscheme scheme;
	struct tk_vev *ev;
	size_t nev;
	char **versions;    /* OSV explicit affected versions */
	size_t nversions;
	char *status;       /* tracker status: resolved/open/undetermined */
	char *urgency;      /* tracker urgency, e.g. "unimportant", "low", "high**" */
	time_t published;   /* OSV record published; 0 when unknown */
	char *file;         /* the feed file it came from, as the config names it */
};

/* A CVSS score for a CVE from one source. */
struct tk_score {
	char *cve;
	char *source;       /* "nvd:nvd@nist.gov", "nvd:secalert@redhat.com", "osv:DEBIAN-CVE-..." */
	int version;        /* 2, 30, 31, 40 */
	char *vector;
	double score;       /* computed from the vector (v4.0: the published score) */
	double published;   /* the feed's own baseScore, -1 when absent */
	int rank;           /* lower wins, see tk_vdb_best_score() */
};

/* An NVD configuration match on a CPE vendor:product. */
struct tk_cpem {
	char *cve;
	char *vendor, *product;
	char *version;      /* the criteria's version: "*" any, or exact */
	char *si, *se, *ei, *ee; /* versionStart/End Including/Excluding, NULL when absent */
};

struct tk_vdb {
	struct tk_adv *adv;
	size_t nadv, capadv;
	struct tk_score *sc;
	size_t nsc, capsc;
	struct tk_cpem *cm;
	size_t ncm, capcm;
	bool indexed;
};

/* What to keep. Arrays of strings, need not be sorted (the loader sorts a copy). */
struct tk_vdb_want {
	const char *const *pkgs;      /* package names (source and binary) */
	size_t npkgs;
	const char *const *releases;  /* tracker release codenames ("bookworm") */
	size_t nreleases;
	const char *const *ecos;      /* OSV ecosystems ("Debian:12") */
	size_t necos;
	const char *const *products;  /* "vendor:product" from CPEs */
	size_t nproducts;
	bool all;                     /* keep everything (tests, fuzzing) */
};

/* Per-load statistics for the report. */
struct tk_vdb_stats {
	size_t records;   /* packages (tracker), records (osv), CVEs (nvd) seen */
	size_t withdrawn; /* OSV records with "withdrawn": never judged */
	size_t no_cve;    /* OSV bug-fix/enhancement advisories without a CVE: not vulnerabilities */
	size_t kept;      /* advisories/cpe matches kept */
	size_t scores;
};

void tk_vdb_init(struct tk_vdb *db);
void tk_vdb_clear(struct tk_vdb *db);
/*
 * All-or-nothing loads: take a mark before loading a feed; when the load
 * fails, roll back to it so that nothing read before the error is judged.
 */
struct tk_vdb_mark {
	size_t nadv, nsc, ncm;
};
struct tk_vdb_mark tk_vdb_mark(const struct tk_vdb *db);
void tk_vdb_rollback(struct tk_vdb *db, struct tk_vdb_mark m);

/* `name` is used in messages (file name). The buffer must be NUL-terminated at len. */
int tk_vdb_load_debian(struct tk_vdb *db, const char *buf, size_t len, const char *name,
		       const struct tk_vdb_want *want, struct tk_vdb_stats *st, struct tk_err *err);
int tk_vdb_load_osv(struct tk_vdb *db, const char *buf, size_t len, const char *name,
		    const struct tk_vdb_want *want, struct tk_vdb_stats *st, struct tk_err *err);
int tk_vdb_load_nvd(struct tk_vdb *db, const char *buf, size_t len, const char *name,
		    const struct tk_vdb_want *want, struct tk_vdb_stats *st, struct tk_err *err);

/* Sort for lookups; call after loading and before the lookups below. */
void tk_vdb_index(struct tk_vdb *db);
/* Advisories for pkg: [*first, *first + *n). */
void tk_vdb_find_pkg(const struct tk_vdb *db, const char *pkg, size_t *first, size_t *n);
/* Scores for cve, best first (sorted by rank): [*first, *first + *n). */
void tk_vdb_find_scores(const struct tk_vdb *db, const char *cve, size_t *first, size_t *n);
/* CPE matches for vendor:product: [*first, *first + *n). */
void tk_vdb_find_cpe(const struct tk_vdb *db, const char *vendor, const char *product, size_t *first,
		     size_t *n);

/* Version comparison by scheme. */
int tk_vcmp(enum tk_vscheme s, const char *a, const char *b);
/* The scheme an OSV ecosystem uses ("Debian:12" -> dpkg, "Rocky Linux:9" -> rpm, ...). */
enum tk_vscheme tk_eco_scheme(const char *eco);

enum tk_match { TK_M_NOT_AFFECTED, TK_M_FIXED, TK_M_VULN_FIXABLE, TK_M_VULN_NOFIX, TK_M_UNDETERMINED };
/*
 * Judge installed version v against an advisory. *fixed (borrowed from the
 * advisory) is the fixed version that would cure it, or the one that did.
 */
enum tk_match tk_adv_match(const struct tk_adv *a, const char *v, const char **fixed);

/* CPE 2.3 vendor, product and version ("*" when any) into the caller's buffers; -1 if not a CPE 2.3 name. */
int tk_cpe_parts(const char *cpe, char *vendor, size_t vs, char *product, size_t ps, char *version, size_t ws);


#endif
