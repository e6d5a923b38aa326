/* test_tls_config.c - the "tls" probe's config section: endpoint forms, and errors naming the JSON path. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

static int parse(const char *tls_section, struct tk_config **cfg, struct tk_err *err)
{
	char text[4096];
	snprintf(text, sizeof(text), "{\"partner\": {\"id\": \"p\", \"name\": \"P\"}, \"probes\": {\"tls\": %s}}",
		 tls_section);
	memset(err, 0, sizeof(*err));
	*cfg = NULL;
	return tk_config_parse("partner.json", "/base", text, strlen(text), tk_probes, cfg, err);
}

static void expect_error(const char *section, const char *msg)
{
	struct tk_config *cfg = NULL;
	struct tk_err err;
	int rc = parse(section, &cfg, &err);
	assert_int_equal(rc, TK_ERR_CONFIG);
	assert_null(cfg);
	if (!strstr(err.msg, msg))
		fail_msg("expected \"%s\" in \"%s\"", msg, err.msg);
}

static void test_endpoint_forms(void **state)
{
	struct tk_config *cfg = NULL;
	struct tk_err err;
	cJSON *targets = cJSON_CreateArray();
	(void)state;
	assert_int_equal(parse("{\"endpoints\": [\"127.0.0.1:8443\", \"api.acme.test@127.0.0.1:9443\", \"[::1]:8443\","
			       " {\"host\": \"127.0.0.1\", \"port\": 2525, \"sni\": \"mx.acme.test\", \"starttls\": \"smtp\"},"
			       " {\"host\": \"[::1]\", \"port\": 21, \"starttls\": \"ftp\"}], \"timeout_s\": 9,"
			       " \"connection_timeout_s\": 2, \"parallel\": 4, \"sslv2\": false}",
			       &cfg, &err),
			 TK_OK);
	assert_int_equal(cfg->nruns, 1);
	assert_string_equal(cfg->runs[0].probe->name, "tls");
	assert_int_equal(cfg->runs[0].timeout_ms, 9000);
	assert_int_equal(cfg->runs[0].probe->targets(cfg->runs[0].state, targets), TK_OK);
	assert_int_equal(cJSON_GetArraySize(targets), 5);
	assert_string_equal(cJSON_GetArrayItem(targets, 1)->valuestring, "api.acme.test@127.0.0.1:9443");
	assert_string_equal(cJSON_GetArrayItem(targets, 2)->valuestring, "[::1]:8443");
	assert_string_equal(cJSON_GetArrayItem(targets, 3)->valuestring, "mx.acme.test@127.0.0.1:2525/smtp");
	assert_string_equal(cJSON_GetArrayItem(targets, 4)->valuestring, "[::1]:21/ftp");
	cJSON_Delete(targets);
	tk_config_free(cfg);
}

static void test_errors_name_the_path(void **state)
{
	(void)state;
	expect_error("{\"endpoints\": [\"127.0.0.1:1\", \"a@127.0.0.1:2\", \"127.0.0.1:70000\"]}",
		     "partner.json: probes.tls.endpoints[2]: \"127.0.0.1:70000\": port out of range (1-65535)");
	expect_error("{\"endpoints\": [\"127.0.0.1:0\"]}", "probes.tls.endpoints[0]: \"127.0.0.1:0\": port out of range");
	expect_error("{\"endpoints\": [\"127.0.0.1\"]}", "probes.tls.endpoints[0]: \"127.0.0.1\": expected host:port");
	expect_error("{\"endpoints\": [\"::1:443\"]}", "probes.tls.endpoints[0]");
	expect_error("{\"endpoints\": [\"[::1]443\"]}", "expected [IPv6]:port");
	expect_error("{\"endpoints\": [\"@127.0.0.1:443\"]}", "probes.tls.endpoints[0]: SNI name");
	expect_error("{\"endpoints\": [\"127.0.0.1:https\"]}", "port is not a number");
	expect_error("{\"endpoints\": [42]}", "probes.tls.endpoints[0]: expected");
	expect_error("{\"endpoints\": []}", "probes.tls.endpoints");
	expect_error("{}", "probes.tls");
	expect_error("{\"endpoints\": [{\"host\": \"h\", \"port\": 25, \"starttls\": \"imap\"}]}",
		     "probes.tls.endpoints[0].starttls: \"imap\": expected \"smtp\" or \"ftp\"");
	expect_error("{\"endpoints\": [{\"host\": \"h\", \"port\": 99999}]}", "probes.tls.endpoints[0]");
	expect_error("{\"endpoints\": [{\"host\": \"h\", \"port\": 1, \"extra\": 1}]}", "extra");
	expect_error("{\"endpoints\": [\"127.0.0.1:1\"], \"bogus\": true}", "bogus");
	expect_error("{\"endpoints\": [\"127.0.0.1:1\"], \"parallel\": 0}", "parallel");
	expect_error("{\"endpoints\": [\"127.0.0.1:1\"], \"ca_file\": \"/nonexistent/ca.pem\"}",
		     "probes.tls.ca_file: cannot read");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_endpoint_forms),
		cmocka_unit_test(test_errors_name_the_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
