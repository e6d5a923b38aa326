/* test_config.c - partner config validation: good configs load, bad ones name file and JSON path. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"

static int parse(const char *text, struct tk_config **cfg, struct tk_err *err)
{
	memset(err, 0, sizeof(*err));
	return tk_config_parse("partner.json", "/base", text, strlen(text), tk_probes, cfg, err);
}

static void expect_error(const char *text, const char *msg)
{
	struct tk_config *cfg = NULL;
	struct tk_err err;
	int rc = parse(text, &cfg, &err);
	assert_int_equal(rc, TK_ERR_CONFIG);
	assert_null(cfg);
	if (!strstr(err.msg, msg))
		fail_msg("expected \"%s\" in \"%s\"", msg, err.msg);
}

static void test_good_config(void **state)
{
	struct tk_config *cfg = NULL;
	struct tk_err err;
	(void)state;
	assert_int_equal(parse("{\"partner\": {\"id\": \"acme-pay\", \"name\": \"Acme Pay株式会社\"},"
			       " \"checklist\": \"cashless-card-2019\","
			       " \"probes\": {\"hsts\": {\"urls\": [\"https://api.acme.test:9443/\"],"
			       " \"resolve\": {\"api.acme.test\": \"127.0.0.1\"}, \"ca_file\": \"ca.pem\", \"timeout_s\": 7}}}",
			       &cfg, &err),
			 TK_OK);
	assert_string_equal(cfg->partner_id, "acme-pay");
	assert_string_equal(cfg->partner_name, "Acme Pay株式会社");
	assert_string_equal(cfg->checklist, "cashless-card-2019");
	assert_int_equal(cfg->nruns, 1);
	assert_string_equal(cfg->runs[0].probe->name, "hsts");
	assert_int_equal(cfg->runs[0].timeout_ms, 7000);
	assert_int_equal(strlen(cfg->sha256), 64);
	tk_config_free(cfg);
}

static void test_default_timeout_and_no_probes_run(void **state)
{
	struct tk_config *cfg = NULL;
	struct tk_err err;
	(void)state;
	assert_int_equal(parse("{\"partner\": {\"id\": \"p\", \"name\": \"P\"}, \"scan\": {\"probe_timeout_s\": 42},"
			       " \"probes\": {\"hsts\": {\"urls\": [\"https://a.test/\"]}}}",
			       &cfg, &err),
			 TK_OK);
	assert_null(cfg->checklist);
	assert_int_equal(cfg->runs[0].timeout_ms, 42000);
	tk_config_free(cfg);
}

static void test_malformed_json_names_offset(void **state)
{
	(void)state;
	expect_error("{\"partner\": {\"id\": \"p\",\n \"name\": }", "partner.json: malformed JSON at byte");
	expect_error("{\"partner\": {\"id\": \"p\",\n \"name\": }", "line 2");
	expect_error("", "malformed JSON");
}

static void test_unknown_keys(void **state)
{
	(void)state;
	expect_error("{\"partner\": {\"id\": \"p\", \"name\": \"P\"}, \"probes\": {}, \"probs\": {}}",
		     "partner.json: probs: unknown key");
	expect_error("{\"partner\": {\"id\": \"p\", \"name\": \"P\", \"nmae\": \"x\"}, \"probes\": {}}",
		     "partner.json: partner.nmae: unknown key");
	expect_error("{\"partner\": {\"id\": \"p\", \"name\": \"P\"}, \"probes\": {\"hsts\": {\"urls\": "
		     "[\"https://a/\"], \"url\": 1}}}",
		     "partner.json: probes.hsts.url: unknown key");
	expect_error("{\"partner\": {\"id\": \"p\", \"name\": \"P\"}, \"probes\": {\"nosuch\": {}}}",
		     "partner.json: probes.nosuch: unknown probe");
}

static void test_required_and_types(void **state)
{
	(void)state;
	expect_error("{\"probes\": {}}", "partner.json: partner: required object is missing");
	expect_error("{\"partner\": {\"name\": \"P\"}, \"probes\": {}}",
		     "partner.json: partner.id: required string is missing");
	expect_error("{\"partner\": {\"id\": \"P Q\", \"name\": \"P\"}, \"probes\": {}}", "partner.json: partner.id:");
	expect_error("{\"partner\": {\"id\": \"../x\", \"name\": \"P\"}, \"probes\": {}}", "partner.id");
	expect_error("{\"partner\": {\"id\": \"p\", \"name\": \"P\"}}", "partner.json: probes: required object is missing");
	expect_error("{\"partner\": {\"id\": \"p\", \"name\": \"P\"}, \"probes\": []}", "probes: expected an object");
	expect_error("{\"partner\": {\"id\": \"p\", \"name\": 5}, \"probes\": {}}",
		     "partner.name: expected a string, got a number");
	expect_error("{\"partner\": {\"id\": \"p\", \"name\": \"P\"}, \"scan\": {\"probe_timeout_s\": 0}, \"probes\": {}}",
		     "scan.probe_timeout_s: 0 out of range");
	expect_error("{\"partner\": {\"id\": \"p\", \"name\": \"P\"}, \"probes\": {\"hsts\": {\"urls\": "
		     "[\"https://a/\"], \"timeout_s\": 1.5}}}",
		     "probes.hsts.timeout_s: expected an integer");
}

static void test_probe_section_errors_name_path(void **state)
{
	(void)state;
	expect_error("{\"partner\": {\"id\": \"p\", \"name\": \"P\"}, \"probes\": {\"hsts\": {\"urls\": []}}}",
		     "partner.json: probes.hsts.urls: must not be empty");
	expect_error(
	    "{\"partner\": {\"id\": \"p\", \"name\": \"P\"}, \"probes\": {\"hsts\": {\"urls\": [\"https://a/\", 3]}}}",
	    "partner.json: probes.hsts.urls[1]: expected a non-empty string");
	expect_error("{\"partner\": {\"id\": \"p\", \"name\": \"P\"}, \"probes\": {\"hsts\": {\"urls\": "
		     "[\"https://a/\", \"ftp://b/\"]}}}",
		     "partner.json: probes.hsts.urls[1]: \"ftp://b/\" is not an http(s) URL");
	expect_error("{\"partner\": {\"id\": \"p\", \"name\": \"P\"}, \"probes\": {\"hsts\": {\"urls\": [\"http://a/\"]}}}",
		     "probes.hsts.urls[0]: HSTS is only meaningful on https:// URLs");
	expect_error("{\"partner\": {\"id\": \"p\", \"name\": \"P\"}, \"probes\": {\"hsts\": {\"urls\": "
		     "[\"https://a/\"], \"http_port\": 70000}}}",
		     "partner.json: probes.hsts.http_port: 70000 out of range");
	expect_error("{\"partner\": {\"id\": \"p\", \"name\": \"P\"}, \"probes\": {\"hsts\": {\"urls\": "
		     "[\"https://a/\"], \"resolve\": {\"a\": 1}}}}",
		     "probes.hsts.resolve.a: expected an IP address");
}

static void test_relative_paths_resolve_against_config_dir(void **state)
{
	(void)state;
	struct tk_cfgctx cc = {.file = "x.json", .base_dir = "/etc/tenken/partners"};
	char *p = tk_cfg_resolve(&cc, "ca.pem");
	assert_string_equal(p, "/etc/tenken/partners/ca.pem");
	free(p);
	p = tk_cfg_resolve(&cc, "/abs/ca.pem");
	assert_string_equal(p, "/abs/ca.pem");
	free(p);
}

/* The helpers every probe's configure and targets callbacks share (agent/json.c). */
static void test_resolve_shown_and_targets(void **state)
{
	struct tk_cfgctx cc = {.file = "x.json", .base_dir = "/etc/tenken/partners"};
	struct item {
		int n;
		char *label;
	} items[] = {{1, "a:1"}, {2, "b:2"}};
	char *strs[] = {"https://x/", "https://y/"};
	char *path = NULL, *shown = NULL;
	struct tk_err err = {0};
	cJSON *list = cJSON_CreateArray();
	(void)state;
	assert_int_equal(tk_cfg_resolve_shown(&cc, "feeds/osv.json", &path, &shown, &err), TK_OK);
	assert_string_equal(path, "/etc/tenken/partners/feeds/osv.json");
	assert_string_equal(shown, "feeds/osv.json");
	free(path);
	free(shown);
	assert_int_equal(TK_TARGETS(list, items, 2, struct item, label), TK_OK);
	assert_int_equal(tk_targets_add(list, strs, 2, sizeof(char *), 0), TK_OK);
	assert_int_equal(cJSON_GetArraySize(list), 4);
	assert_string_equal(cJSON_GetArrayItem(list, 1)->valuestring, "b:2");
	assert_string_equal(cJSON_GetArrayItem(list, 3)->valuestring, "https://y/");
	cJSON_Delete(list);
}

static void test_load_missing_file(void **state)
{
	struct tk_config *cfg = NULL;
	struct tk_err err = {0};
	(void)state;
	assert_int_equal(tk_config_load("/nonexistent/partner.json", tk_probes, &cfg, &err), TK_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "/nonexistent/partner.json"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_config),
		cmocka_unit_test(test_default_timeout_and_no_probes_run),
		cmocka_unit_test(test_malformed_json_names_offset),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_required_and_types),
		cmocka_unit_test(test_probe_section_errors_name_path),
		cmocka_unit_test(test_relative_paths_resolve_against_config_dir),
		cmocka_unit_test(test_load_missing_file),
		cmocka_unit_test(test_resolve_shown_and_targets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
