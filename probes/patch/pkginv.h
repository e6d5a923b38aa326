/*
 * pkginv.h - what a host has installed, read from the package manager's own
 * records: a dpkg status file, `rpm -qa` output in the query format below,
 * an Alpine apk "installed" database; and /etc/os-release.
 *
 * rpm query format (one package a line, tab-separated):
 *   rpm -qa --queryformat '%{NAME}\t%{EPOCH}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\t%{SOURCERPM}\n'
 * (EPOCH prints "(none)" when unset.)
 *
 * Parsers take (ptr, len) and never read past it; errors name the line.
 */
#ifndef TK_PKGINV_H
#define TK_PKGINV_H

#include <stddef.h>
#include "tk.h"

#define TK_INV_MAX_PKGS 200000

enum tk_inv_kind { TK_INV_DPKG, TK_INV_RPM, TK_INV_APK, TK_INV_NONE };

struct tk_pkg {
	char *name;            /* binary package */
	char *version;         /* binary version (rpm: [E:]V-R) */
	char *source;          /* source package (dpkg Source:, rpm SOURCERPM name, apk origin) */
	char *source_version;  /* the source's version (dpkg "Source: x (ver)"), else version */
	char *arch;
};

struct tk_inventory {
	enum tk_inv_kind kind;
	struct tk_pkg *pkgs;
	size_t n, cap;
};

/* Each appends to inv (kind set by the parser); err names "line N". */
int tk_inv_parse_dpkg(const char *p, size_t len, struct tk_inventory *inv, struct tk_err *err);
int tk_inv_parse_rpmqa(const char *p, size_t len, struct tk_inventory *inv, struct tk_err *err);
int tk_inv_parse_apk(const char *p, size_t len, struct tk_inventory *inv, struct tk_err *err);
void tk_inv_clear(struct tk_inventory *inv);

struct tk_osrel {
	char id[64];          /* "debian", "ubuntu", "rhel", "rocky", "almalinux", "alpine", ... */
	char version_id[64];  /* "12", "22.04", "9.3", "3.19.1" */
	char codename[64];    /* VERSION_CODENAME ("bookworm") */
	char pretty[256];
	char id_like[128];
};

/* Parse os-release (KEY=value, optional shell quotes). Missing ID is an error. */
int tk_osrel_parse(const char *p, size_t len, struct tk_osrel *out, struct tk_err *err);

/*
 * The application CPEs (cpe:/a:...) of an nmap XML report (-oX), as nmap's
 * service detection writes them: <service ...><cpe>cpe:/a:apache:http_server:2.4.49</cpe>.
 * Deduplicated, at most TK_NMAP_MAX_CPES; *out is a NULL-terminated malloc'd vector.
 */
#define TK_NMAP_MAX_CPES 10000
int tk_nmap_cpes(const char *p, size_t len, char ***out, size_t *n, struct tk_err *err);

#endif
