/*
 * test_tlsprofile.c - TLS profile grading in the rules engine (rules/tlsprofile.c)
 * against the embedded rules/profiles/tls-*.json, from the facts the tls probe
 * reports: protocols, suites with classes, every certificate, min_dh_bits.
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "rules.h"
#include "tlsprofile.h"

static const cJSON *profile(const cJSON *obs, const char *id)
{
	const cJSON *p;
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(obs, "profiles"))
	{
		if (strcmp(cJSON_GetObjectItemCaseSensitive(p, "id")->valuestring, id) == 0)
			return p;
	}
	fail_msg("no profile %s", id);
	return NULL;
}

static bool has_violation(const cJSON *p, const char *fact, const char *detail_part)
{
	const cJSON *v;
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(p, "violations"))
	{
		if (strcmp(cJSON_GetObjectItemCaseSensitive(v, "fact")->valuestring, fact) == 0 &&
		    strstr(cJSON_GetObjectItemCaseSensitive(v, "detail")->valuestring, detail_part))
			return true;
	}
	return false;
}

static void test_grading(void **state)
{
	struct tk_dataset ds;
	struct tk_err err = {0};
	cJSON *obs;
	const cJSON *o;
	(void)state;
	unsetenv("TENKEN_DATA_DIR");
	assert_int_equal(tk_dataset_open(&ds, &err), TK_OK);
	obs = tk_test_json(
	    "[{\"probe\": \"tls\", \"kind\": \"endpoint\", \"target\": \"modern\", \"tls\": true,"
	    "  \"protocols\": {\"tls1_2\": false, \"tls1_3\": true},"
	    "  \"suites\": {\"tls1_3\": {\"accepted\": [{\"name\": \"TLS_AES_128_GCM_SHA256\", \"classes\": "
	    "[\"aead\"]}]}},"
	    "  \"certificates\": [{\"key_type\": \"EC\", \"key_bits\": 256, \"weak_signature_hash\": false}]},"
	    " {\"probe\": \"tls\", \"kind\": \"endpoint\", \"target\": \"legacy\", \"tls\": true, \"min_dh_bits\": "
	    "1024,"
	    "  \"protocols\": {\"tls1_0\": true, \"tls1_2\": true},"
	    "  \"suites\": {\"tls1_0\": {\"accepted\": [{\"name\": \"TLS_RSA_WITH_AES_128_CBC_SHA\", \"classes\": "
	    "[\"cbc\", \"no_fs\"]}]},"
	    "             \"tls1_2\": {\"accepted\": [{\"name\": \"TLS_RSA_WITH_3DES_EDE_CBC_SHA\", \"classes\": "
	    "[\"3des\", \"cbc\", \"no_fs\"]},"
	    "                                         {\"name\": \"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\", "
	    "\"classes\": [\"aead\"]}]}},"
	    "  \"certificates\": [{\"key_type\": \"EC\", \"key_bits\": 256}, {\"key_type\": \"RSA\", \"key_bits\": "
	    "1024}]},"
	    " {\"probe\": \"tls\", \"kind\": \"endpoint\", \"target\": \"plain\", \"tls\": false},"
	    " {\"probe\": \"hsts\", \"kind\": \"hsts\", \"target\": \"x\"}]");
	assert_int_equal(tk_tls_profiles_derive(&ds, obs, &err), TK_OK);
	o = cJSON_GetArrayItem(obs, 0);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(profile(o, "mozilla-modern"), "conforms")));
	o = cJSON_GetArrayItem(obs, 1);
	assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(profile(o, "mozilla-intermediate"), "conforms")));
	assert_true(has_violation(profile(o, "mozilla-intermediate"), "protocols", "TLS 1.0"));
	assert_true(has_violation(profile(o, "mozilla-intermediate"), "suites", "TLS_RSA_WITH_3DES_EDE_CBC_SHA"));
	/* the second certificate of a dual server is judged too */
	assert_true(has_violation(profile(o, "mozilla-intermediate"), "certificate.key", "RSA key of 1024 bits"));
	assert_true(has_violation(profile(o, "cryptrec-recommended"), "forbidden_classes", "3des") ||
		    has_violation(profile(o, "cryptrec-recommended"), "protocols", "TLS 1.0"));
	/* no TLS, other probes: untouched */
	assert_null(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(obs, 2), "profiles"));
	assert_null(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(obs, 3), "profiles"));
	cJSON_Delete(obs);
	tk_dataset_close(&ds);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grading),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
