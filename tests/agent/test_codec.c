/* test_codec.c - the shared codecs (agent/codec.c): base64 against OpenSSL's encoder as an
 * independent oracle, RFC 3339 timestamps, percent-encoding, XML character references. */
#include "testutil.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>

#include "tk.h"

static void test_b64_matches_openssl(void **state)
{
	unsigned char in[64], back[64];
	char ref[128];
	size_t n, got;
	(void)state;
	for (n = 0; n <= sizeof(in); n++) {
		char *s;
		assert_int_equal(RAND_bytes(in, (int)sizeof(in)), 1);
		EVP_EncodeBlock((unsigned char *)ref, in, (int)n);
		s = tk_b64_encode(in, n, TK_B64_STD);
		assert_non_null(s);
		assert_string_equal(s, ref);
		assert_true(tk_b64_decode(s, strlen(s), TK_B64_STD, back, sizeof(back), &got));
		assert_int_equal(got, n);
		assert_memory_equal(back, in, n);
		free(s);
	}
}

static void test_b64_url(void **state)
{
	static const unsigned char v[] = {0xfb, 0xff, 0xbf};
	unsigned char out[8];
	size_t got;
	char *s = tk_b64_encode(v, 3, TK_B64_URL), *t = tk_b64_encode(v, 2, TK_B64_URL);
	(void)state;
	assert_string_equal(s, "-_-_");
	assert_string_equal(t, "-_8"); /* no padding in the URL alphabet (JWS) */
	assert_false(tk_b64_decode("+/+/", 4, TK_B64_URL, out, sizeof(out), &got));
	assert_false(tk_b64_decode("-_+/", 4, TK_B64_ANY, out, sizeof(out), &got)); /* mixed alphabets */
	assert_false(tk_b64_decode("QUJD", 4, TK_B64_STD, out, 2, &got));         /* bounded by cap */
	assert_false(tk_b64_decode("QUJ", 3, TK_B64_STD, out, sizeof(out), &got) && got != 2);
	assert_false(tk_b64_decode("Q", 1, TK_B64_STD, out, sizeof(out), &got));  /* impossible length */
	free(s);
	free(t);
}

static void test_time(void **state)
{
	time_t t;
	char buf[32];
	(void)state;
	assert_int_equal(tk_parse_time("2026-11-20T10:11:12Z", &t), TK_OK);
	assert_int_equal((long long)t, 1795169472LL);
	tk_rfc3339(t, buf);
	assert_string_equal(buf, "2026-11-20T10:11:12Z");
	assert_int_equal(tk_parse_time("2026-11-20T19:11:12.123+09:00", &t), TK_OK);
	assert_int_equal((long long)t, 1795169472LL);
	assert_int_equal(tk_parse_time("2026-11-20 10:11:12+00:00", &t), TK_OK);
	assert_int_equal((long long)t, 1795169472LL);
	assert_int_equal(tk_parse_time("2026-11-20", &t), TK_OK);
	assert_int_equal((long long)t, 1795132800LL);
	assert_int_equal(tk_parse_time("2026-11-20T10:11Z", &t), TK_ERR_PARSE);
	assert_int_equal(tk_parse_time("2026-13-01", &t), TK_ERR_PARSE);
	assert_int_equal(tk_parse_time("2026-11-20T10:11:12", &t), TK_ERR_PARSE); /* no zone */
	assert_int_equal(tk_parse_time("1969-12-31", &t), TK_ERR_PARSE);
	assert_int_equal(tk_parse_time("2026-11-20Tjunk", &t), TK_ERR_PARSE);
	assert_int_equal(tk_parse_time(NULL, &t), TK_ERR_PARSE);
}

static void test_uri(void **state)
{
	char *a = tk_uri_encode("a b/c~d_e.f-g+h=", false), *b = tk_uri_encode("/x y/", true);
	(void)state;
	assert_string_equal(a, "a%20b%2Fc~d_e.f-g%2Bh%3D");
	assert_string_equal(b, "/x%20y/");
	free(a);
	free(b);
}

static void test_xml_entity(void **state)
{
	char out[4];
	size_t n;
	(void)state;
	assert_int_equal(tk_xml_entity("&amp;rest", 9, out, &n), 5);
	assert_int_equal(n, 1);
	assert_int_equal(out[0], '&');
	assert_int_equal(tk_xml_entity("&#x3042;", 8, out, &n), 8); /* あ */
	assert_int_equal(n, 3);
	assert_memory_equal(out, "\xe3\x81\x82", 3);
	assert_int_equal(tk_xml_entity("&#65;", 5, out, &n), 5);
	assert_int_equal(out[0], 'A');
	assert_int_equal(tk_xml_entity("&#0;", 4, out, &n), 0);        /* code point 0 */
	assert_int_equal(tk_xml_entity("&#xD800;", 8, out, &n), 0);    /* a surrogate */
	assert_int_equal(tk_xml_entity("&#x110000;", 10, out, &n), 0); /* beyond Unicode */
	assert_int_equal(tk_xml_entity("&nbsp;", 6, out, &n), 0);      /* not predefined in XML */
	assert_int_equal(tk_xml_entity("&amp", 4, out, &n), 0);        /* no ';' */
	assert_int_equal(tk_xml_entity("&#;", 3, out, &n), 0);
	assert_int_equal(tk_xml_entity("&#x;", 4, out, &n), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64_matches_openssl), cmocka_unit_test(test_b64_url), cmocka_unit_test(test_time),
		cmocka_unit_test(test_uri), cmocka_unit_test(test_xml_entity),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
