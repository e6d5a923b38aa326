/* test_legacy_config.c - "legacy" and "capture" config parsing: host/CIDR expansion, ports, errors with paths. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "probe.h"

extern const struct tk_probe tk_probe_legacy;
extern const struct tk_probe tk_probe_capture;

static int configure(const struct tk_probe *p, const char *json, void **state, struct tk_err *err)
{
	cJSON *sec = tk_test_json(json);
	struct tk_cfgctx cc = {"partner.json", ".", "probes.x", NULL};
	int rc = p->configure(sec, &cc, state, err);
	cJSON_Delete(sec);
	return rc;
}

static void test_hosts_expand(void **st)
{
	void *state = NULL;
	struct tk_err err = {0};
	cJSON *t = cJSON_CreateArray();
	char *s;
	(void)st;
	assert_int_equal(configure(&tk_probe_legacy,
				   "{\"hosts\": [\"fd00::1:10/126\", \"127.0.0.12/30\", \"::1/128\", \"host.example\"],"
				   " \"ports\": [21, \"8000-8002\", \"69/udp\", 21]}",
				   &state, &err), TK_OK);
	tk_probe_legacy.targets(state, t);
	s = cJSON_PrintUnformatted(t);
	assert_string_equal(s, "[\"fd00::1:10\",\"fd00::1:11\",\"fd00::1:12\",\"fd00::1:13\",\"127.0.0.12\","
			       "\"127.0.0.13\",\"127.0.0.14\",\"127.0.0.15\",\"::1\",\"host.example\"]");
	free(s);
	cJSON_Delete(t);
	tk_probe_legacy.free_state(state);
	tk_probe_legacy.free_state(NULL);
}

static void test_errors_name_paths(void **st)
{
	static const struct {
		const char *json, *want;
	} cases[] = {
		{"{\"hosts\": [\"10.0.0.0/8\"]}", "probes.x.hosts[0]: \"10.0.0.0/8\": IPv4 prefix must be /16 to /32"},
		{"{\"hosts\": [\"::/64\"]}", "probes.x.hosts[0]: \"::/64\": IPv6 prefix must be /112 to /128"},
		{"{\"hosts\": [\"a b\"]}", "probes.x.hosts[0]: \"a b\" is not a host name"},
		{"{\"hosts\": [\"h\"], \"ports\": [0]}", "probes.x.ports[0]: port 0 out of range"},
		{"{\"hosts\": [\"h\"], \"ports\": [\"9-3\"]}", "probes.x.ports[0]: \"9-3\" is not a port or range"},
		{"{\"hosts\": [\"h\"], \"ports\": [\"69/sctp\"]}", "probes.x.ports[0]: \"69/sctp\": transport must be tcp or udp"},
		{"{\"hosts\": [\"h\"], \"ports\": \"some\"}", "probes.x.ports: expected \"default\", \"all\""},
		{"{\"hosts\": [\"h\"], \"engine\": \"masscan\"}", "probes.x.engine: \"masscan\": expected"},
		{"{\"hosts\": [\"h\"], \"port_hints\": {\"70000\": \"rsh\"}}", "probes.x.port_hints.70000: key must be a port"},
		{"{\"hosts\": [\"h\"], \"port_hints\": {\"4000\": \"smb\"}}", "probes.x.port_hints.4000: expected \"rlogin\""},
		{"{\"hosts\": [\"h\"], \"bogus\": 1}", "bogus"},
	};
	size_t i;
	(void)st;
	for (i = 0; i < TK_ARRAY_LEN(cases); i++) {
		void *state = NULL;
		struct tk_err err = {0};
		assert_int_equal(configure(&tk_probe_legacy, cases[i].json, &state, &err), TK_ERR_CONFIG);
		assert_null(state);
		if (!strstr(err.msg, cases[i].want))
			fail_msg("case %zu: \"%s\" does not contain \"%s\"", i, err.msg, cases[i].want);
		assert_non_null(strstr(err.msg, "partner.json"));
	}
}

static void test_capture_config(void **st)
{
	void *state = NULL;
	struct tk_err err = {0};
	cJSON *t = cJSON_CreateArray();
	char *s;
	(void)st;
	assert_int_equal(configure(&tk_probe_capture, "{\"files\": [\"a.pcap\"], \"interface\": \"lo\", \"seconds\": 2}",
				   &state, &err), TK_OK);
	tk_probe_capture.targets(state, t);
	s = cJSON_PrintUnformatted(t);
	assert_string_equal(s, "[\"a.pcap\",\"interface:lo\"]");
	free(s);
	cJSON_Delete(t);
	tk_probe_capture.free_state(state);
	state = NULL;
	assert_int_equal(configure(&tk_probe_capture, "{\"files\": [\"a.pcap\"], \"filter\": \"tcp\"}", &state, &err),
			 TK_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "probes.x.filter: a filter applies to live capture only"));
	assert_int_equal(configure(&tk_probe_capture, "{}", &state, &err), TK_ERR_CONFIG);
	assert_int_equal(configure(&tk_probe_capture, "{\"interface\": \"../x\"}", &state, &err), TK_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "probes.x.interface"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hosts_expand),
		cmocka_unit_test(test_errors_name_paths),
		cmocka_unit_test(test_capture_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
