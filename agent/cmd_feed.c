/*
 * cmd_feed.c - `tenken feed update`: download one vulnerability feed for the
 * patch probe, through the patch probe's tk_patch_feed_fetch (the one request
 * helper, agent/httpreq.h, and its retry policy).
 *
 *   tenken feed update --format debian-tracker \
 *       --url https://security-tracker.debian.org/tracker/data/json --out feeds/debian.json
 *
 * Conditional: the ETag and Last-Modified of the last download are kept in
 * OUT.meta.json and sent as If-None-Match / If-Modified-Since; 304 keeps the
 * file. A new body is checked before it replaces the file: the transfer must
 * be complete (Content-Length, chunked framing) and the JSON must load with
 * the probe's own loader for the format. Replacement is atomic (temp file,
 * fsync, rename); on any failure the previous feed stays in place.
 */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "patch.h"
#include "tk.h"

#define FEED_DEFAULT_MAX_MB 1024

struct feed_opts {
	const char *url, *out, *format, *ca_file;
	long timeout_s;
	long long max_mb;
	bool quiet;
};

static void feed_usage(FILE *f)
{
	fputs("usage: tenken feed update --format FORMAT --url URL --out FILE\n"
	      "       [--ca-file FILE] [--timeout SECONDS] [--max-mb N] [--quiet]\n"
	      "\n"
	      "Downloads a vulnerability feed for the patch probe. FORMAT is debian-tracker\n"
	      "(https://security-tracker.debian.org/tracker/data/json), nvd (one CVE API 2.0\n"
	      "response page) or osv (one OSV record or a JSON array of records).\n"
	      "Sends If-None-Match/If-Modified-Since from FILE.meta.json; replaces FILE\n"
	      "atomically only with a complete download that loads as FORMAT.\n"
	      "\n"
	      "exit codes: 0 updated or not modified, 2 usage error,\n"
	      "            3 download failed or was invalid (the previous FILE is kept),\n"
	      "            4 cannot write FILE\n",
	      f);
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

static int feed_update(const struct feed_opts *o)
{
	char *meta_path = NULL, *meta_text = NULL;
	cJSON *meta = NULL, *nm = NULL;
	struct tk_buf body;
	struct tk_feed_fetch f;
	struct tk_feed_fetched got;
	struct tk_err err = {0};
	size_t records = 0;
	struct stat sb;
	size_t mlen = 0;
	int ex = TK_EXIT_INCOMPLETE, rc;
	char fp[24];

	memset(&f, 0, sizeof(f));
	f.url = o->url;
	f.ca_file = o->ca_file;
	f.timeout_s = o->timeout_s;
	tk_buf_init(&body, (size_t)o->max_mb << 20);
	if (!(meta_path = malloc(strlen(o->out) + 11))) {
		ex = TK_EXIT_ERROR;
		goto out;
	}
	snprintf(meta_path, strlen(o->out) + 11, "%s.meta.json", o->out);
	/* the previous download's validators, only if it was this URL and the file is still there */
	if (stat(o->out, &sb) == 0 && tk_read_file(meta_path, 1 << 16, &meta_text, &mlen, &err) == TK_OK &&
	    (meta = cJSON_ParseWithLength(meta_text, mlen))) {
		const char *u = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta, "url"));
		const char *et = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta, "etag"));
		const char *lm = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta, "last_modified"));
		const char *fm = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta, "format"));
		if (u && strcmp(u, o->url) == 0 && fm && strcmp(fm, o->format) == 0) {
			if (et && *et && printable(et) && strlen(et) < 512)
				f.if_none_match = et;
			if (lm && *lm && printable(lm) && strlen(lm) < 128)
				f.if_modified_since = lm;
		}
	}
	rc = tk_patch_feed_fetch(&f, &body, &got, &err);
	if (rc == TK_ERR_LIMIT && got.status == 0) { /* the body bound refused more */
		fprintf(stderr, "tenken: feed update: %s: larger than --max-mb %lld; kept the previous %s\n", o->url,
			o->max_mb, o->out);
		goto out;
	}
	if (rc == TK_ERR_NOMEM) {
		ex = TK_EXIT_ERROR;
		goto out;
	}
	if (rc) { /* err names the URL; a truncated transfer says "truncated download" */
		fprintf(stderr, "tenken: feed update: %s; kept the previous %s\n", err.msg, o->out);
		goto out;
	}
	if (got.status == 304) {
		if (!o->quiet)
			printf("tenken: feed update: %s not modified (HTTP 304); %s unchanged\n", o->url, o->out);
		ex = TK_EXIT_OK;
		goto out;
	}
	if (got.status != 200) {
		fprintf(stderr, "tenken: feed update: %s: HTTP %ld; kept the previous %s\n", o->url, got.status, o->out);
		goto out;
	}
	/* curl has checked Content-Length and chunked framing (a truncated download is an error above) */
	if (tk_patch_feed_check(o->format, o->url, body.data ? body.data : "", body.len, &records, &err)) {
		fprintf(stderr, "tenken: feed update: downloaded %s feed is invalid: %s; kept the previous %s\n",
			o->format, err.msg, o->out);
		goto out;
	}
	if (tk_write_file_atomic(o->out, body.data ? body.data : "", body.len, 0644, &err)) {
		fprintf(stderr, "tenken: feed update: %s\n", err.msg);
		ex = TK_EXIT_ERROR;
		goto out;
	}
	{
		unsigned char sha[32];
		char hex[65], ts[32];
		char *text;
		tk_sha256(body.data ? body.data : "", body.len, sha);
		tk_hex(sha, 32, hex);
		tk_rfc3339(time(NULL), ts);
		nm = cJSON_CreateObject();
		cJSON_AddStringToObject(nm, "url", o->url);
		cJSON_AddStringToObject(nm, "format", o->format);
		cJSON_AddStringToObject(nm, "etag", got.etag);
		cJSON_AddStringToObject(nm, "last_modified", got.last_modified);
		cJSON_AddStringToObject(nm, "sha256", hex);
		cJSON_AddNumberToObject(nm, "bytes", (double)body.len);
		cJSON_AddNumberToObject(nm, "records", (double)records);
		cJSON_AddStringToObject(nm, "fetched_at", ts);
		text = cJSON_Print(nm);
		if (!text || tk_write_file_atomic(meta_path, text, strlen(text), 0644, &err)) {
			fprintf(stderr, "tenken: feed update: %s\n", text ? err.msg : "out of memory");
			free(text);
			ex = TK_EXIT_ERROR;
			goto out;
		}
		free(text);
		tk_fingerprint(body.data ? body.data : "", body.len, fp);
		if (!o->quiet)
			printf("tenken: feed update: %s -> %s: %zu bytes, %zu records (%s)\n", o->url, o->out, body.len,
			       records, fp);
	}
	ex = TK_EXIT_OK;
out:
	tk_buf_free(&body);
	cJSON_Delete(meta);
	cJSON_Delete(nm);
	free(meta_text);
	free(meta_path);
	return ex;
}

int tk_cmd_feed(int argc, char **argv)
{
	static const struct option lo[] = {
		{"url", required_argument, NULL, 'u'},	   {"out", required_argument, NULL, 'o'},
		{"format", required_argument, NULL, 'F'},  {"ca-file", required_argument, NULL, 'C'},
		{"timeout", required_argument, NULL, 'T'}, {"max-mb", required_argument, NULL, 'M'},
		{"quiet", no_argument, NULL, 'q'},	   {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	struct feed_opts o;
	long long v;
	int ch;
	memset(&o, 0, sizeof(o));
	o.timeout_s = 600;
	o.max_mb = FEED_DEFAULT_MAX_MB;
	if (argc < 2 || strcmp(argv[1], "update") != 0) {
		if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
			feed_usage(stdout);
			return TK_EXIT_OK;
		}
		feed_usage(stderr);
		return TK_EXIT_USAGE;
	}
	argc--;
	argv++;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "u:o:F:C:T:M:qh", lo, NULL)) != -1) {
		switch (ch) {
		case 'u': o.url = optarg; break;
		case 'o': o.out = optarg; break;
		case 'F': o.format = optarg; break;
		case 'C': o.ca_file = optarg; break;
		case 'q': o.quiet = true; break;
		case 'T':
			if (tk_parse_ll(optarg, 1, 86400, &v)) {
				fputs("tenken: feed update: --timeout: expected 1..86400 seconds\n", stderr);
				return TK_EXIT_USAGE;
			}
			o.timeout_s = (long)v;
			break;
		case 'M':
			if (tk_parse_ll(optarg, 1, 16384, &o.max_mb)) {
				fputs("tenken: feed update: --max-mb: expected 1..16384\n", stderr);
				return TK_EXIT_USAGE;
			}
			break;
		case 'h': feed_usage(stdout); return TK_EXIT_OK;
		default: feed_usage(stderr); return TK_EXIT_USAGE;
		}
	}
	if (!o.url || !o.out || !o.format || optind != argc) {
		fputs("tenken: feed update: --format, --url and --out are required\n", stderr);
		return TK_EXIT_USAGE;
	}
	if (!tk_patch_feed_format_known(o.format)) {
		fprintf(stderr, "tenken: feed update: --format: unknown \"%s\" (debian-tracker, nvd, osv)\n", o.format);
		return TK_EXIT_USAGE;
	}
	if (strncmp(o.url, "https://", 8) != 0 && strncmp(o.url, "http://", 7) != 0) {
		fputs("tenken: feed update: --url: expected an http(s) URL\n", stderr);
		return TK_EXIT_USAGE;
	}
	return feed_update(&o);
}
