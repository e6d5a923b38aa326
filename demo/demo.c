/*
 * demo.c - `tenken demo`: start a demo partner on loopback (a well and a
 * weakly configured endpoint per probe), scan it, print a per-item summary,
 * stop the servers. No root needed.
 */
#include "demo.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "report.h"

static const struct tk_demo_part *const demo_parts[] = {
	&tk_demo_hsts,
	&tk_demo_patch,
	&tk_demo_tls,
	&tk_demo_legacy,
	&tk_demo_cloud,
	&tk_demo_tokens,
	NULL,
};

/* ---- the HSTS part: a good and a weak HTTPS site, each with plain HTTP beside it ---- */
struct hsts_demo {
	SSL_CTX *ssl[2];
	struct tk_httpd *srv[4];
};

static void hsts_demo_stop(void *state)
{
	struct hsts_demo *d = state;
	size_t i;
	if (!d)
		return;
	for (i = 0; i < 4; i++)
		tk_httpd_stop(d->srv[i]);
	for (i = 0; i < 2; i++)
		SSL_CTX_free(d->ssl[i]);
	free(d);
}

static int hsts_demo_start(struct tk_demo_env *env, cJSON *probes, void **state, struct tk_err *err)
{
	static const char *const names[2] = {"api.good.demo", "api.weak.demo"};
	static const char *const addrs[2] = {"127.0.0.1", "127.0.0.2"};
	struct hsts_demo *d = calloc(1, sizeof(*d));
	struct tk_httpd_config hc;
	cJSON *sec, *urls, *res;
	int rc = TK_OK, http_port = 0, attempt, i;
	char hdr[256], url[128];

	*state = NULL;
	if (!d)
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	sec = cJSON_AddObjectToObject(probes, "hsts");
	urls = cJSON_AddArrayToObject(sec, "urls");
	res = cJSON_AddObjectToObject(sec, "resolve");
	for (i = 0; i < 2; i++) {
		X509 *cert = NULL;
		EVP_PKEY *key = NULL;
		if ((rc = tk_testca_issue(env->ca, names[i], 0, 365, NULL, &cert, &key, err)))
			goto fail;
		d->ssl[i] = tk_testca_server_ctx(env->ca, cert, key, 0, 0);
		X509_free(cert);
		EVP_PKEY_free(key);
		if (!d->ssl[i]) {
			rc = tk_seterr(err, TK_ERR_TLS, "cannot build the demo TLS context");
			goto fail;
		}
		memset(&hc, 0, sizeof(hc));
		hc.addr = addrs[i];
		hc.ssl = d->ssl[i];
		hc.headers = i == 0 ? "Strict-Transport-Security: max-age=63072000; includeSubDomains; preload\r\n"
				    : "Strict-Transport-Security: max-age=300\r\n";
		if ((rc = tk_httpd_start(&hc, &d->srv[i], err)))
			goto fail;
		snprintf(url, sizeof(url), "https://%s:%d/", names[i], tk_httpd_port(d->srv[i]));
		cJSON_AddItemToArray(urls, cJSON_CreateString(url));
		cJSON_AddStringToObject(res, names[i], addrs[i]);
	}
	/* Plain HTTP on one port number on both addresses: good redirects, weak does not. */
	for (attempt = 0; attempt < 20; attempt++) {
		memset(&hc, 0, sizeof(hc));
		hc.addr = addrs[0];
		hc.status = 301;
		snprintf(hdr, sizeof(hdr), "Location: https://%s:%d/\r\n", names[0], tk_httpd_port(d->srv[0]));
		hc.headers = hdr;
		if ((rc = tk_httpd_start(&hc, &d->srv[2], err)))
			goto fail;
		http_port = tk_httpd_port(d->srv[2]);
		memset(&hc, 0, sizeof(hc));
		hc.addr = addrs[1];
		hc.port = http_port;
		if (tk_httpd_start(&hc, &d->srv[3], err) == TK_OK)
			break;
		tk_httpd_stop(d->srv[2]);
		d->srv[2] = NULL;
	}
	if (!d->srv[3]) {
		rc = tk_seterr(err, TK_ERR_NET, "cannot find a free HTTP port on both demo addresses");
		goto fail;
	}
	cJSON_AddNumberToObject(sec, "http_port", http_port);
	cJSON_AddStringToObject(sec, "ca_file", env->ca_file);
	cJSON_AddNumberToObject(sec, "request_timeout_s", 5);
	*state = d;
	return TK_OK;
fail:
	hsts_demo_stop(d);
	return rc;
}

const struct tk_demo_part tk_demo_hsts = {
	.name = "hsts",
	.start = hsts_demo_start,
	.stop = hsts_demo_stop,
};

int tk_cmd_demo(int argc, char **argv)
{
	static const struct option lo[] = {{"out", required_argument, NULL, 'o'},
					   {"checklist", required_argument, NULL, 'l'},
					   {"format", required_argument, NULL, 'f'},
					   {"help", no_argument, NULL, 'h'},
					   {NULL, 0, NULL, 0}};
	const char *dir = "tenken-demo", *checklist = "fisc-api-2018", *formats = "json";
	struct tk_demo_env env;
	struct tk_scan_opts so;
	struct tk_err err = {0};
	void *states[16] = {0};
	cJSON *cfg = NULL, *partner, *probes;
	char path[4096], outdir[4096];
	char *text = NULL;
	int c, rc = TK_EXIT_ERROR;
	size_t i;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:l:f:h", lo, NULL)) != -1) {
		switch (c) {
		case 'o': dir = optarg; break;
		case 'l': checklist = optarg; break;
		case 'f': formats = optarg; break;
		case 'h':
			puts("usage: tenken demo [--out DIR] [--checklist ID] [--format LIST]\n\n"
			     "Starts a demo partner on loopback (127.0.0.1, 127.0.0.2: real servers, one well\n"
			     "and one weakly configured per probe), writes its config to DIR/partner.json,\n"
			     "scans it into DIR/report/, prints a per-item summary and stops the servers.\n"
			     "Default DIR: ./tenken-demo");
			return TK_EXIT_OK;
		default: return TK_EXIT_USAGE;
		}
	}
	memset(&env, 0, sizeof(env));
	if (tk_mkdirs(dir, 0755, &err) || tk_testca_new("tenken demo CA", &env.ca, &err)) {
		fprintf(stderr, "tenken: demo: %s\n", err.msg);
		return TK_EXIT_ERROR;
	}
	env.dir = dir;
	env.ca_file = "ca.pem";
	snprintf(path, sizeof(path), "%s/ca.pem", dir);
	if (tk_testca_write_pem(env.ca, path, &err)) {
		fprintf(stderr, "tenken: demo: %s\n", err.msg);
		goto out;
	}
	cfg = cJSON_CreateObject();
	partner = cJSON_AddObjectToObject(cfg, "partner");
	cJSON_AddStringToObject(partner, "id", "demo-pay");
	cJSON_AddStringToObject(partner, "name", "デモペイ株式会社 (demo partner on loopback)");
	cJSON_AddStringToObject(cfg, "checklist", checklist);
	probes = cJSON_AddObjectToObject(cfg, "probes");
	for (i = 0; demo_parts[i]; i++) {
		if (demo_parts[i]->start(&env, probes, &states[i], &err)) {
			fprintf(stderr, "tenken: demo: %s: %s\n", demo_parts[i]->name, err.msg);
			goto out;
		}
	}
	text = cJSON_Print(cfg);
	snprintf(path, sizeof(path), "%s/partner.json", dir);
	if (!text || tk_write_file_atomic(path, text, strlen(text), 0644, &err)) {
		fprintf(stderr, "tenken: demo: %s\n", err.msg);
		goto out;
	}
	printf("tenken demo: partner config %s (servers on 127.0.0.1 and 127.0.0.2)\n", path);
	snprintf(outdir, sizeof(outdir), "%s/report", dir);
	memset(&so, 0, sizeof(so));
	so.config = path;
	so.out_dir = outdir;
	so.formats = formats;
	so.lang = "ja";
	so.gate = true;
	so.print_items = true;
	rc = tk_cli_scan_run(&so);
	printf("tenken demo: gate exit code %d (0 pass, 1 fail, 3 incomplete)\n", rc);
	/* The demo partner is weak on purpose: a failing gate is the expected outcome. */
	if (rc == TK_EXIT_FAIL)
		rc = TK_EXIT_OK;
out:
	for (i = 0; demo_parts[i]; i++)
		if (states[i])
			demo_parts[i]->stop(states[i]);
	free(text);
	cJSON_Delete(cfg);
	tk_testca_free(env.ca);
	return rc;
}
