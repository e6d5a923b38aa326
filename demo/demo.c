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

static const struct tk_demo_part *const demo_parts[] = {
	&tk_demo_hsts,
	&tk_demo_patch,
	&tk_demo_tls,
	&tk_demo_legacy,
	&tk_demo_cloud,
	&tk_demo_tokens,
	NULL,
};

int tk_demo_port(const struct tk_demo_env *env, enum tk_demo_slot slot)
{
	return env->port_base ? env->port_base + (int)slot : 0;
}

int tk_demo_httpd_start(const struct tk_demo_env *env, enum tk_demo_slot slot, struct tk_httpd_config *hc,
			struct tk_httpd **out, struct tk_err *err)
{
	if ((hc->port = tk_demo_port(env, slot)) != 0) {
		if (tk_httpd_start(hc, out, err) == TK_OK)
			return TK_OK;
		fprintf(stderr, "tenken demo: %s:%d is taken (%s); using another port (target names will differ "
				"from earlier demo runs)\n", hc->addr ? hc->addr : "127.0.0.1", hc->port, err->msg);
	}
	hc->port = 0;
	return tk_httpd_start(hc, out, err);
}

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
		if ((rc = tk_demo_httpd_start(env, i == 0 ? TK_DEMO_HSTS_GOOD : TK_DEMO_HSTS_WEAK, &hc, &d->srv[i],
					      err)))
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
		/* the first attempt on the fixed port, then any free one */
		hc.port = attempt == 0 ? tk_demo_port(env, TK_DEMO_HSTS_HTTP) : 0;
		snprintf(hdr, sizeof(hdr), "Location: https://%s:%d/\r\n", names[0], tk_httpd_port(d->srv[0]));
		hc.headers = hdr;
		if (tk_httpd_start(&hc, &d->srv[2], err) != TK_OK) {
			if (hc.port && attempt == 0)
				continue;
			rc = err->rc ? err->rc : TK_ERR_NET;
			goto fail;
		}
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

static void demo_usage(FILE *f)
{
	fprintf(f, "usage: tenken demo [--out DIR] [--state DIR] [--checklist ID] [--format LIST] [--ports N]\n"
		   "\n"
		   "Starts a demo partner on loopback (real servers: a well configured endpoint,\n"
		   "*.good.demo on 127.0.0.1, and a weakly configured one, *.weak.demo on 127.0.0.2\n"
		   "and legacy services on 127.0.0.3), writes its config to DIR/partner.json, runs\n"
		   "the gate on it into DIR/report/, prints a per-item summary and stops the servers.\n"
		   "\n"
		   "  -o, --out DIR          demo directory (default ./tenken-demo)\n"
		   "      --state DIR        history of the demo partner (default DIR/state: kept\n"
		   "                         apart from the real history, so `tenken history\n"
		   "                         --state DIR/state demo-pay` and `diff` work on demo runs)\n"
		   "  -l, --checklist ID     fisc-api-2018 (default) or cashless-card-2019\n"
		   "  -f, --format LIST      report formats, comma-separated (default: json)\n"
		   "      --ports N          the servers listen on ports N to N+%d (default %d), so\n"
		   "                         target names stay the same from run to run; 0: any\n"
		   "                         free ports\n"
		   "\n"
		   "exit codes: 0 the demo ran (its gate is expected to fail: the weak endpoints\n"
		   "            are weak on purpose), 3 the scan could not complete, 2 usage, 4 error\n",
		(int)TK_DEMO_NSLOTS - 1, TK_DEMO_PORT_BASE);
}

int tk_cmd_demo(int argc, char **argv)
{
	static const struct option lo[] = {{"out", required_argument, NULL, 'o'},
					   {"checklist", required_argument, NULL, 'l'},
					   {"format", required_argument, NULL, 'f'},
					   {"state", required_argument, NULL, 'S'},
					   {"ports", required_argument, NULL, 'P'},
					   {"help", no_argument, NULL, 'h'},
					   {NULL, 0, NULL, 0}};
	const char *dir = "tenken-demo", *checklist = "fisc-api-2018", *formats = "json", *state = NULL;
	struct tk_demo_env env;
	struct tk_scan_opts so;
	struct tk_err err = {0};
	void *states[16] = {0};
	cJSON *cfg = NULL, *partner, *probes;
	char path[4096], outdir[4096], statedir[4096];
	char *text = NULL;
	int c, rc = TK_EXIT_ERROR, port_base = TK_DEMO_PORT_BASE;
	size_t i;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:l:f:h", lo, NULL)) != -1) {
		long long v;
		switch (c) {
		case 'o': dir = optarg; break;
		case 'l': checklist = optarg; break;
		case 'f': formats = optarg; break;
		case 'S': state = optarg; break;
		case 'P':
			if (tk_parse_ll(optarg, 0, 65535 - (int)TK_DEMO_NSLOTS, &v) != TK_OK || (v > 0 && v < 1024)) {
				fprintf(stderr, "tenken: --ports: expected 0 or a port from 1024 to %d, got \"%s\"\n",
					65535 - (int)TK_DEMO_NSLOTS, optarg);
				return TK_EXIT_USAGE;
			}
			port_base = (int)v;
			break;
		case 'h': demo_usage(stdout); return TK_EXIT_OK;
		default: demo_usage(stderr); return TK_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tenken: unexpected argument \"%s\"\n", argv[optind]);
		return TK_EXIT_USAGE;
	}
	memset(&env, 0, sizeof(env));
	if (tk_mkdirs(dir, 0755, &err) || tk_testca_new("tenken demo CA", &env.ca, &err)) {
		fprintf(stderr, "tenken: demo: %s\n", err.msg);
		return TK_EXIT_ERROR;
	}
	env.dir = dir;
	env.ca_file = "ca.pem";
	env.port_base = port_base;
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
	snprintf(statedir, sizeof(statedir), "%s/state", dir);
	printf("tenken demo: partner config %s\n"
	       "tenken demo: well configured: *.good.demo on 127.0.0.1; weakly configured: *.weak.demo on 127.0.0.2,\n"
	       "             legacy services on 127.0.0.3, cloud account aws:demo-prod, token stores under %s/tokens/\n"
	       "tenken demo: history in %s (not the real one)\n",
	       path, dir, state ? state : statedir);
	fflush(stdout);
	snprintf(outdir, sizeof(outdir), "%s/report", dir);
	memset(&so, 0, sizeof(so));
	so.config = path;
	so.out_dir = outdir;
	so.formats = formats;
	so.lang = "ja";
	so.gate = true;
	so.print_items = true;
	so.state_dir = state ? state : statedir;
	rc = tk_cli_scan_run(&so);
	if (rc == TK_EXIT_FAIL || rc == TK_EXIT_OK || rc == TK_EXIT_INCOMPLETE)
		printf("tenken demo: the gate would exit %d: %s\n", rc,
		       rc == TK_EXIT_FAIL ? "at least one item fails (expected: the weak endpoints are weak on purpose)"
		       : rc == TK_EXIT_OK ? "no item fails (unexpected for the demo)"
					  : "the scan could not complete (see the incomplete targets above)");
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
