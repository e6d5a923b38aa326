/* config.c - load and validate a partner config. */
#include "config.h"
#include "notify.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Valid UTF-8 (no overlongs, no surrogates, at most U+10FFFF)? *bad gets the offending byte offset. */
static bool utf8_valid(const unsigned char *p, size_t n, size_t *bad)
{
	size_t i = 0;
	while (i < n) {
		unsigned char c = p[i];
		size_t k, need;
		unsigned long cp;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF) {
			need = 1;
			cp = c & 0x1F;
		} else if (c >= 0xE0 && c <= 0xEF) {
			need = 2;
			cp = c & 0x0F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			need = 3;
			cp = c & 0x07;
		} else {
			*bad = i;
			return false;
		}
		for (k = 1; k <= need; k++) {
			if (i + k >= n || (p[i + k] & 0xC0) != 0x80) {
				*bad = i;
				return false;
			}
			cp = cp << 6 | (p[i + k] & 0x3F);
		}
		if ((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
		    (cp >= 0xD800 && cp <= 0xDFFF)) {
			*bad = i;
			return false;
		}
		i += need + 1;
	}
	return true;
}

/*
 * Every string and member name of the config must be valid UTF-8: a raw
 * invalid byte would be copied into report.json and the signed history, which
 * would then not be JSON. A config error names the JSON path and the byte.
 */
static int check_utf8(const cJSON *node, char *path, size_t cap, struct tk_err *err, const char *file)
{
	const cJSON *c;
	size_t plen = strlen(path), bad = 0;
	int rc = TK_OK;
	if (cJSON_IsString(node) && node->valuestring &&
	    !utf8_valid((const unsigned char *)node->valuestring, strlen(node->valuestring), &bad))
		return tk_seterr(err, TK_ERR_CONFIG, "%s: %s: not valid UTF-8 (byte %zu of the value)", file,
				 plen ? path : "(top level)", bad);
	for (c = node->child; c && rc == TK_OK; c = c->next) {
		if (c->string && !utf8_valid((const unsigned char *)c->string, strlen(c->string), &bad))
			return tk_seterr(err, TK_ERR_CONFIG, "%s: %s: a member name is not valid UTF-8", file,
					 plen ? path : "(top level)");
		if (c->string)
			snprintf(path + plen, cap - plen, "%s%s", plen ? "." : "", c->string);
		else {
			int idx = 0;
			const cJSON *x;
			for (x = node->child; x && x != c; x = x->next)
				idx++;
			snprintf(path + plen, cap - plen, "[%d]", idx);
		}
		rc = check_utf8(c, path, cap, err, file);
		path[plen] = '\0';
	}
	return rc;
}

/* A \u0000 escape: cJSON would end the C string there ("a\u0000b" -> "a"), so
 * two different ids would read as one. Refused wherever it appears. */
static bool find_nul_escape(const char *text, size_t len, size_t *off)
{
	size_t i;
	for (i = 0; i + 6 <= len; i++) {
		if (text[i] == '\\') {
			if (text[i + 1] == 'u' && text[i + 2] == '0' && text[i + 3] == '0' && text[i + 4] == '0' &&
			    text[i + 5] == '0') {
				*off = i;
				return true;
			}
			i++; /* skip the escaped character (an escaped backslash too) */
		}
	}
	return false;
}

static int check_partner_id(const char *id)
{
	size_t i, n = strlen(id);
	if (n == 0 || n > 64)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)id[i];
		if (!(islower(c) || isdigit(c) || c == '-' || c == '_' || c == '.'))
			return 0;
	}
	return id[0] != '.' && id[0] != '-';
}

int tk_config_parse(const char *name, const char *base_dir, const char *text, size_t len,
		    const struct tk_probe *const *registry, struct tk_config **out, struct tk_err *err)
{
	static const char *const top_keys[] = {"partner", "checklist", "scan", "probes", "description", "notify", NULL};
	static const char *const partner_keys[] = {"id", "name", "name_en", "contact", "notes", NULL};
	static const char *const scan_keys[] = {"probe_timeout_s", "max_connections_per_host",
						"connections_per_second_per_host", "connections_burst_per_host", NULL};
	struct tk_config *cfg = NULL;
	struct tk_cfgctx cc;
	const cJSON *partner, *probes, *sec, *scan;
	long long default_tmo = TK_DEFAULT_PROBE_TIMEOUT_S;
	unsigned char h[32];
	int rc = TK_OK;
	size_t i;

	*out = NULL;
	if (!(cfg = calloc(1, sizeof(*cfg))) || !(cfg->file = strdup(name)) ||
	    !(cfg->base_dir = strdup(base_dir ? base_dir : "."))) {
		rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		goto out;
	}
	memset(&cc, 0, sizeof(cc));
	cc.file = cfg->file;
	cc.base_dir = cfg->base_dir;
	cc.data = tk_cfg_data_reader();
	tk_sha256(text, len, h);
	tk_hex(h, 32, cfg->sha256);
	{
		size_t off = 0, ln = 1, k;
		const char *raw = memchr(text, '\0', len);
		bool esc = find_nul_escape(text, len, &off);
		if (raw && (!esc || (size_t)(raw - text) < off))
			off = (size_t)(raw - text);
		if (raw || esc) {
			for (k = 0; k < off; k++)
				ln += text[k] == '\n';
			rc = tk_seterr(err, TK_ERR_CONFIG,
				       "%s: byte %zu (line %zu): a NUL character (\\u0000) is not allowed in a config", name,
				       off, ln);
			goto out;
		}
	}
	cfg->doc = cJSON_ParseWithLength(text, len);
	if (cfg->doc) {
		char jpath[1024] = "";
		if ((rc = check_utf8(cfg->doc, jpath, sizeof(jpath), err, name)))
			goto out;
	}
	if (!cfg->doc) {
		const char *ep = cJSON_GetErrorPtr();
		long off = ep && ep >= text && ep <= text + len ? (long)(ep - text) : 0;
		long line = 1, col = 1, k;
		for (k = 0; k < off; k++) {
			if (text[k] == '\n') {
				line++;
				col = 1;
			} else {
				col++;
			}
		}
		rc = tk_seterr(err, TK_ERR_CONFIG, "%s: malformed JSON at byte %ld (line %ld, column %ld)", name, off,
			       line, col);
		goto out;
	}
	cc.root = cfg->doc;
	if ((rc = tk_cfg_check_keys(cfg->doc, top_keys, &cc, "", err)))
		goto out;
	partner = cJSON_GetObjectItemCaseSensitive(cfg->doc, "partner");
	if (!partner) {
		rc = tk_cfg_err(err, &cc, "partner", "required object is missing");
		goto out;
	}
	if ((rc = tk_cfg_check_keys(partner, partner_keys, &cc, "partner", err)) ||
	    (rc = tk_cfg_string(partner, "id", true, &cfg->partner_id, &cc, "partner", err)) ||
	    (rc = tk_cfg_string(partner, "name", true, &cfg->partner_name, &cc, "partner", err)))
		goto out;
	if (!check_partner_id(cfg->partner_id)) {
		rc = tk_cfg_err(err, &cc, "partner.id",
				"\"%s\" must be 1-64 characters of a-z, 0-9, '-', '_', '.' (it names files)",
				cfg->partner_id);
		goto out;
	}
	if ((rc = tk_cfg_string(cfg->doc, "checklist", false, &cfg->checklist, &cc, "", err)))
		goto out;
	if (cJSON_GetObjectItemCaseSensitive(cfg->doc, "notify")) { /* alerts (desk; agent/notify.h) */
		char where[4096 + 16];
		snprintf(where, sizeof(where), "%s: notify", name);
		if ((rc = tk_notify_validate(cJSON_GetObjectItemCaseSensitive(cfg->doc, "notify"), where, err)))
			goto out;
	}
	if ((scan = cJSON_GetObjectItemCaseSensitive(cfg->doc, "scan"))) {
		long long conns = 0, rate = 0, burst = 0;
		if ((rc = tk_cfg_check_keys(scan, scan_keys, &cc, "scan", err)) ||
		    (rc = tk_cfg_int(scan, "probe_timeout_s", false, 1, 86400, &default_tmo, &cc, "scan", err)) ||
		    (rc = tk_cfg_int(scan, "max_connections_per_host", false, 1, 1024, &conns, &cc, "scan", err)) ||
		    (rc = tk_cfg_int(scan, "connections_per_second_per_host", false, 1, 100000, &rate, &cc, "scan",
				     err)) ||
		    (rc = tk_cfg_int(scan, "connections_burst_per_host", false, 1, 100000, &burst, &cc, "scan", err)))
			goto out;
		cfg->host_burst = (int)burst;
		cfg->host_conns = (int)conns;
		cfg->host_rate = (double)rate;
	}
	probes = cJSON_GetObjectItemCaseSensitive(cfg->doc, "probes");
	if (!probes) {
		rc = tk_cfg_err(err, &cc, "probes", "required object is missing (which probes should run?)");
		goto out;
	}
	if (!cJSON_IsObject(probes)) {
		rc = tk_cfg_err(err, &cc, "probes", "expected an object of probe sections");
		goto out;
	}
	cJSON_ArrayForEach(sec, probes)
	{
		bool known = false, dup = false;
		const cJSON *d;
		char p[300];
		for (i = 0; registry[i]; i++)
			if (strcmp(registry[i]->name, sec->string) == 0)
				known = true;
		for (d = sec->next; d; d = d->next)
			if (strcmp(d->string, sec->string) == 0)
				dup = true;
		tk_path_key(p, sizeof(p), "probes", sec->string);
		if (!known) {
			char list[512] = "";
			size_t l = 0;
			for (i = 0; registry[i] && l < sizeof(list) - 40; i++)
				l += (size_t)snprintf(list + l, sizeof(list) - l, "%s%s", i ? ", " : "",
						      registry[i]->name);
			rc = tk_cfg_err(err, &cc, p, "unknown probe (known: %s)", list);
			goto out;
		}
		if (dup) {
			rc = tk_cfg_err(err, &cc, p, "duplicate probe section");
			goto out;
		}
		if (!cJSON_IsObject(sec)) {
			rc = tk_cfg_err(err, &cc, p, "expected an object");
			goto out;
		}
	}
	cfg->runs = calloc(TK_MAX_PROBES, sizeof(*cfg->runs));
	if (!cfg->runs) {
		rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* Configure in registry order, so that runs and reports are deterministic. */
	for (i = 0; registry[i] && cfg->nruns < TK_MAX_PROBES; i++) {
		const cJSON *orig = cJSON_GetObjectItemCaseSensitive(probes, registry[i]->name);
		cJSON *copy;
		struct tk_probe_run *run;
		long long tmo = default_tmo;
		char p[300];
		if (!orig)
			continue;
		tk_path_key(p, sizeof(p), "probes", registry[i]->name);
		if ((rc = tk_cfg_int(orig, "timeout_s", false, 1, 86400, &tmo, &cc, p, err)))
			goto out;
		/* The agent owns "timeout_s"; the probe sees its section without it. */
		if (!(copy = cJSON_Duplicate(orig, true))) {
			rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
			goto out;
		}
		cJSON_DeleteItemFromObjectCaseSensitive(copy, "timeout_s");
		cc.path = p;
		run = &cfg->runs[cfg->nruns];
		run->probe = registry[i];
		run->timeout_ms = (int)(tmo * 1000);
		rc = registry[i]->configure(copy, &cc, &run->state, err);
		cJSON_Delete(copy);
		if (rc) {
			if (err && err->rc != TK_ERR_NOMEM)
				err->rc = rc = TK_ERR_CONFIG;
			goto out;
		}
		cfg->nruns++;
	}
	*out = cfg;
	cfg = NULL;
out:
	tk_config_free(cfg);
	return rc;
}

int tk_config_load(const char *path, const struct tk_probe *const *registry, struct tk_config **out,
		   struct tk_err *err)
{
	char *text = NULL, *dir = NULL;
	size_t len = 0;
	int rc;
	*out = NULL;
	if ((rc = tk_read_file(path, TK_CONFIG_MAX_BYTES, &text, &len, err))) {
		if (err)
			err->rc = TK_ERR_CONFIG;
		return TK_ERR_CONFIG;
	}
	if (!(dir = tk_dirname(path))) {
		free(text);
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	}
	rc = tk_config_parse(path, dir, text, len, registry, out, err);
	free(text);
	free(dir);
	return rc;
}

void tk_config_free(struct tk_config *cfg)
{
	if (!cfg)
		return;
	tk_probe_runs_free(cfg->runs, cfg->nruns);
	cJSON_Delete(cfg->doc);
	free(cfg->file);
	free(cfg->base_dir);
	free(cfg);
}
