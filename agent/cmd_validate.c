/*
 * cmd_validate.c - `tenken validate`: check a partner config, the checklist
 * it names, a tailoring, and every file the config refers to (exists, is
 * readable by this user, and a credential file is not readable by group or
 * other), without scanning. Errors name the file and the JSON path.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "scan.h"

/* Config keys (under probes.*) that name files, and what is expected of them. */
enum file_kind { FK_FILE, FK_FILE_OR_DIR, FK_SECRET };
static const struct {
	const char *key;
	enum file_kind kind;
} file_keys[] = {
	{"ca_file", FK_FILE},          {"dpkg_status", FK_FILE},       {"rpm_qa", FK_FILE},
	{"apk_installed", FK_FILE},    {"os_release", FK_FILE},        {"nmap_xml", FK_FILE},
	{"export", FK_FILE},           {"graph_export", FK_FILE},      {"directory_export", FK_FILE},
	{"files", FK_FILE},            {"path", FK_FILE_OR_DIR},       {"credentials_file", FK_SECRET},
	{"service_account_file", FK_SECRET}, {"eol_table", FK_FILE},    {"credential_report", FK_FILE},
};

struct vstate {
	const struct tk_config *cfg;
	int problems;
	int checked;
};

__attribute__((format(printf, 4, 5))) static void problem(struct vstate *v, const char *jpath, const char *shown,
							    const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "tenken: %s: %s: %s: ", v->cfg->file, jpath, shown);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	v->problems++;
}

static void check_file(struct vstate *v, const char *jpath, const char *rel, enum file_kind kind)
{
	char *full = rel[0] == '/' ? strdup(rel) : tk_path_join(v->cfg->base_dir, rel), mode[8];
	struct stat st;
	v->checked++;
	if (!full) {
		problem(v, jpath, rel, "%s", "out of memory");
		return;
	}
	if (stat(full, &st) != 0) {
		problem(v, jpath, rel, "%s", errno == ENOENT ? "does not exist" : strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		if (kind != FK_FILE_OR_DIR)
			problem(v, jpath, rel, "%s", "is a directory, expected a file");
		else if (access(full, R_OK | X_OK) != 0)
			problem(v, jpath, rel, "directory not readable by this user: %s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		problem(v, jpath, rel, "%s", "is not a regular file");
		goto out;
	}
	if (access(full, R_OK) != 0) {
		problem(v, jpath, rel, "not readable by this user: %s", strerror(errno));
		goto out;
	}
	snprintf(mode, sizeof(mode), "%04o", (unsigned)(st.st_mode & 07777));
	if (kind == FK_SECRET && (st.st_mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH)))
		problem(v, jpath, rel, "credential file has mode %s: readable or writable by group or other (chmod 600)",
			mode);
	else if (st.st_mode & S_IWOTH)
		problem(v, jpath, rel, "mode %s: writable by anyone (chmod o-w)", mode);
out:
	free(full);
}

static void walk(struct vstate *v, const cJSON *node, const char *jpath)
{
	const cJSON *c;
	size_t idx = 0;
	cJSON_ArrayForEach(c, node)
	{
		char p[1024];
		size_t k;
		if (cJSON_IsArray(node))
			snprintf(p, sizeof(p), "%s[%zu]", jpath, idx++);
		else
			snprintf(p, sizeof(p), "%s.%s", jpath, c->string);
		if (cJSON_IsObject(c) || (cJSON_IsArray(c) && !(cJSON_IsObject(node) && c->string))) {
			walk(v, c, p);
			continue;
		}
		if (!cJSON_IsObject(node) || !c->string)
			continue;
		for (k = 0; k < sizeof(file_keys) / sizeof(file_keys[0]); k++) {
			if (strcmp(c->string, file_keys[k].key) != 0)
				continue;
			if (cJSON_IsString(c))
				check_file(v, p, c->valuestring, file_keys[k].kind);
			else if (cJSON_IsArray(c)) {
				const cJSON *s;
				size_t i = 0;
				cJSON_ArrayForEach(s, c)
				{
					char q[1100];
					snprintf(q, sizeof(q), "%s[%zu]", p, i++);
					if (cJSON_IsString(s))
						check_file(v, q, s->valuestring, file_keys[k].kind);
				}
			}
			break;
		}
		if (k == sizeof(file_keys) / sizeof(file_keys[0]) && cJSON_IsArray(c))
			walk(v, c, p);
	}
}

int tk_cmd_validate(int argc, char **argv)
{
	static const struct option lo[] = {{"config", required_argument, NULL, 'c'},
					   {"tailoring", required_argument, NULL, 't'},
					   {"checklist", required_argument, NULL, 'l'},
					   {"help", no_argument, NULL, 'h'},
					   {NULL, 0, NULL, 0}};
	const char *config = NULL, *tailoring = NULL, *checklist = NULL;
	struct tk_config *cfg = NULL;
	struct tk_err err = {0};
	struct tk_loaded l;
	struct vstate v;
	char origin[1100];
	int c, rc;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:t:l:h", lo, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 't': tailoring = optarg; break;
		case 'l': checklist = optarg; break;
		case 'h':
			puts("usage: tenken validate --config FILE [--tailoring FILE] [--checklist ID]\n\n"
			     "Checks a partner config (every probe section), the checklist it names and\n"
			     "optionally a tailoring file, without scanning; and every file the config\n"
			     "refers to (ca_file, credentials, feeds, inventories, stores, exports): it\n"
			     "exists and this user can read it; a credential file must not be readable\n"
			     "or writable by group or other. Exit 0 when valid, 2 with a message naming\n"
			     "the file and JSON path otherwise (every problem is listed).");
			return TK_EXIT_OK;
		default: return TK_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tenken: unexpected argument \"%s\"\n", argv[optind]);
		return TK_EXIT_USAGE;
	}
	if (!config) {
		fputs("tenken: validate needs --config FILE\n", stderr);
		return TK_EXIT_USAGE;
	}
	if ((rc = tk_config_load(config, tk_probes, &cfg, &err))) {
		fprintf(stderr, "tenken: %s\n", err.msg);
		return rc == TK_ERR_NOMEM ? TK_EXIT_ERROR : TK_EXIT_USAGE;
	}
	snprintf(origin, sizeof(origin), "%s%s", checklist ? "--checklist" : cfg->file, checklist ? "" : ": checklist");
	if (!checklist)
		checklist = cfg->checklist ? cfg->checklist : TK_DEFAULT_CHECKLIST;
	if ((rc = tk_load_all(&l, checklist, origin, tailoring, &err))) {
		fprintf(stderr, "tenken: %s\n", err.msg);
		tk_loaded_free(&l);
		tk_config_free(cfg);
		return rc == TK_ERR_NOMEM ? TK_EXIT_ERROR : TK_EXIT_USAGE;
	}
	memset(&v, 0, sizeof(v));
	v.cfg = cfg;
	walk(&v, cJSON_GetObjectItemCaseSensitive(cfg->doc, "probes"), "probes");
	if (v.problems) {
		fprintf(stderr, "tenken: %s: %d problem%s with the files it refers to\n", config, v.problems,
			v.problems == 1 ? "" : "s");
		rc = TK_EXIT_USAGE;
	} else {
		printf("%s: valid (partner %s, checklist %s, %zu probe%s:", config, cfg->partner_id, checklist,
		       cfg->nruns, cfg->nruns == 1 ? "" : "s");
		for (size_t i = 0; i < cfg->nruns; i++)
			printf(" %s", cfg->runs[i].probe->name);
		printf("; %d referenced file%s checked)\n", v.checked, v.checked == 1 ? "" : "s");
		rc = TK_EXIT_OK;
	}
	tk_loaded_free(&l);
	tk_config_free(cfg);
	return rc;
}
