/*
 * config.h - the partner config:
 *   {"partner": {"id": "acme-pay", "name": "Acme Pay株式会社"},
 *    "checklist": "fisc-api-2018",
 *    "scan": {"probe_timeout_s": 300, "max_connections_per_host": 8,
 *             "connections_per_second_per_host": 50},
 *    "probes": {"<probe>": {... its section, plus an optional "timeout_s" ...}}}
 * A probe runs when its section is present; unknown keys are errors; errors
 * name the file and the JSON path.
 */
#ifndef TK_CONFIG_H
#define TK_CONFIG_H

#include "probe.h"
#include "run.h"

#define TK_DEFAULT_PROBE_TIMEOUT_S 300
#define TK_CONFIG_MAX_BYTES (4u << 20)
#define TK_MAX_PROBES 64

struct tk_config {
	char *file;               /* as named by the user */
	char *base_dir;
	cJSON *doc;               /* owned */
	const char *partner_id;   /* borrowed from doc */
	const char *partner_name;
	const char *checklist;    /* may be NULL: the caller's default applies */
	struct tk_probe_run *runs; /* configured probes, registry order */
	size_t nruns;
	char sha256[65];          /* of the config file */
	int host_conns;           /* scan.max_connections_per_host (0: default) */
	double host_rate;         /* scan.connections_per_second_per_host (0: default) */
	int host_burst;           /* scan.connections_burst_per_host (0: default) */
};

/* Load and validate; every probe section is configured (state allocated). */
int tk_config_load(const char *path, const struct tk_probe *const *registry, struct tk_config **out,
		   struct tk_err *err);
/* The same from memory; `name` is the file name used in messages, `base_dir` for paths. */
int tk_config_parse(const char *name, const char *base_dir, const char *text, size_t len,
		    const struct tk_probe *const *registry, struct tk_config **out, struct tk_err *err);
void tk_config_free(struct tk_config *cfg);

#endif
