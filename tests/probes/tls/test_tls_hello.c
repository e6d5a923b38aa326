/* test_tls_hello.c - the cipher-suite table, ClientHello building and the server-flight parser. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "tk.h"
#include "tls_hello.h"
#include "tls_suites.h"

/* ---- suite table ---- */

static void test_table_sorted_unique(void **state)
{
	size_t n, i;
	const struct tk_suite *t = tk_suites(&n);
	(void)state;
	assert_true(n > 300);
	for (i = 1; i < n; i++)
		assert_true(t[i - 1].code < t[i].code);
}

static void test_table_classes(void **state)
{
	const struct tk_suite *s;
	(void)state;
	s = tk_suite_by_code(0x000A);
	assert_non_null(s);
	assert_string_equal(s->iana, "TLS_RSA_WITH_3DES_EDE_CBC_SHA");
	assert_true(s->flags & TK_SUITE_3DES);
	assert_true(s->flags & TK_SUITE_CBC);
	assert_false(s->flags & TK_SUITE_FS);
	assert_true(tk_suite_is_weak(s));
	s = tk_suite_by_code(0xC02F);
	assert_string_equal(s->iana, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
	assert_string_equal(s->kx, "ECDHE");
	assert_string_equal(s->auth, "RSA");
	assert_string_equal(s->enc, "AES_128_GCM");
	assert_true(s->flags & TK_SUITE_AEAD);
	assert_true(s->flags & TK_SUITE_FS);
	assert_false(tk_suite_is_weak(s));
	if (s->openssl)
		assert_string_equal(s->openssl, "ECDHE-RSA-AES128-GCM-SHA256");
	s = tk_suite_by_code(0x0003);
	assert_true(s->flags & TK_SUITE_EXPORT);
	assert_true(s->flags & TK_SUITE_RC4);
	assert_true(s->flags & TK_SUITE_MD5);
	s = tk_suite_by_code(0x0018);
	assert_true(s->flags & TK_SUITE_ANON);
	s = tk_suite_by_code(0x0002);
	assert_true(s->flags & TK_SUITE_NULL);
	s = tk_suite_by_code(0x0009);
	assert_true(s->flags & TK_SUITE_DES);
	assert_false(s->flags & TK_SUITE_3DES);
	s = tk_suite_by_code(0x1301);
	assert_true(s->flags & TK_SUITE_TLS13);
	assert_true(s->flags & TK_SUITE_FS);
	assert_ptr_equal(tk_suite_by_name("TLS_AES_256_GCM_SHA384"), tk_suite_by_code(0x1302));
	assert_null(tk_suite_by_code(0xFFFF));
	assert_null(tk_suite_by_name("TLS_NO_SUCH_SUITE"));
}

/* ---- ClientHello ---- */

static size_t find_ext(const uint8_t *h, size_t len, unsigned type, size_t *elen)
{
	/* record(5) hs(4) version(2) random(32) */
	size_t p = 5 + 4 + 2 + 32, end;
	p += 1 + h[p];
	p += 2 + ((size_t)h[p] << 8 | h[p + 1]);
	p += 1 + h[p];
	if (p + 2 > len)
		return 0;
	end = p + 2 + ((size_t)h[p] << 8 | h[p + 1]);
	assert_int_equal(end, len);
	p += 2;
	while (p + 4 <= end) {
		unsigned t = (unsigned)h[p] << 8 | h[p + 1];
		size_t l = (size_t)h[p + 2] << 8 | h[p + 3];
		if (t == type) {
			*elen = l;
			return p + 4;
		}
		p += 4 + l;
	}
	return 0;
}

static void test_hello_tls12(void **state)
{
	uint8_t b[TK_HELLO_MAX + 5];
	uint16_t suites[] = {0xC02F, 0x000A, 0x0005};
	struct tk_hello_opts o = {.version = TK_TLS12, .suites = suites, .nsuites = 3, .sni = "api.acme.test"};
	size_t len = 0, el = 0, at;
	(void)state;
	assert_int_equal(tk_tls_build_client_hello(&o, b, sizeof(b), &len), 0);
	assert_int_equal(b[0], 22);
	assert_int_equal(b[1], 3);
	assert_int_equal(b[2], 1);
	assert_int_equal(((size_t)b[3] << 8 | b[4]) + 5, len);
	assert_int_equal(b[5], 1);                                   /* client_hello */
	assert_int_equal(((size_t)b[6] << 16 | (size_t)b[7] << 8 | b[8]) + 9, len);
	assert_int_equal(b[9], 3);
	assert_int_equal(b[10], 3);                                  /* TLS 1.2 */
	assert_int_equal(b[43], 0);                                  /* no session id */
	assert_int_equal(b[44] << 8 | b[45], 6);
	assert_memory_equal(b + 46, "\xC0\x2F\x00\x0A\x00\x05", 6);
	at = find_ext(b, len, 0x0000, &el);
	assert_true(at > 0);
	assert_int_equal(el, strlen("api.acme.test") + 5);
	assert_memory_equal(b + at + 5, "api.acme.test", 13);
	assert_true(find_ext(b, len, 0x000a, &el) > 0);
	assert_true(find_ext(b, len, 0xff01, &el) > 0);
	assert_int_equal(find_ext(b, len, 0x002b, &el), 0);          /* no supported_versions */
}

static void test_hello_ip_no_sni_and_tls13(void **state)
{
	uint8_t b[TK_HELLO_MAX + 5];
	uint16_t suites[] = {0x1301, 0x1302};
	struct tk_hello_opts o = {.version = TK_TLS13, .suites = suites, .nsuites = 2, .sni = "127.0.0.1",
				  .key_share = true};
	size_t len = 0, el = 0, at;
	(void)state;
	assert_int_equal(tk_tls_build_client_hello(&o, b, sizeof(b), &len), 0);
	assert_int_equal(b[10], 3);                                  /* legacy_version TLS 1.2 */
	assert_int_equal(b[43], 32);                                 /* compat session id */
	assert_int_equal(find_ext(b, len, 0x0000, &el), 0);          /* IP literal: no SNI */
	at = find_ext(b, len, 0x002b, &el);
	assert_true(at > 0);
	assert_memory_equal(b + at, "\x02\x03\x04", 3);
	at = find_ext(b, len, 0x0033, &el);
	assert_true(at > 0);
	assert_int_equal(el, 2 + 4 + 32);                            /* one X25519 share */
	assert_int_equal(b[at + 2] << 8 | b[at + 3], 29);
	o.key_share = false;
	assert_int_equal(tk_tls_build_client_hello(&o, b, sizeof(b), &len), 0);
	at = find_ext(b, len, 0x0033, &el);
	assert_int_equal(el, 2);                                     /* empty client_shares */
}

static void test_hello_ssl3_and_ssl2(void **state)
{
	uint8_t b[TK_HELLO_MAX + 5];
	uint16_t suites[] = {0x000A};
	struct tk_hello_opts o = {.version = TK_SSL3, .suites = suites, .nsuites = 1};
	size_t len = 0;
	(void)state;
	assert_int_equal(tk_tls_build_client_hello(&o, b, sizeof(b), &len), 0);
	assert_int_equal(b[1] << 8 | b[2], 0x0300);
	assert_int_equal(b[9] << 8 | b[10], 0x0300);
	/* suites + SCSV, null compression, no extensions */
	assert_int_equal(b[44] << 8 | b[45], 4);
	assert_memory_equal(b + 46, "\x00\x0A\x00\xFF\x01\x00", 6);
	assert_int_equal(len, 52);
	o.version = TK_SSL2;
	assert_int_equal(tk_tls_build_client_hello(&o, b, sizeof(b), &len), 0);
	assert_true(b[0] & 0x80);
	assert_int_equal(b[2], 1);
	assert_int_equal(b[3] << 8 | b[4], 2);
	assert_int_equal(((size_t)(b[0] & 0x7f) << 8 | b[1]) + 2, len);
	o.version = 0x0200;
	assert_int_not_equal(tk_tls_build_client_hello(&o, b, sizeof(b), &len), 0);
	o.version = TK_TLS12;
	assert_int_equal(tk_tls_build_client_hello(&o, b, 20, &len), TK_ERR_LIMIT);
}

/* ---- parser ---- */

static size_t server_hello(uint8_t *b, uint16_t rec_version, uint16_t version, uint16_t suite, const uint8_t *ext,
			   size_t extlen, bool done)
{
	size_t n = 0, hs, body;
	b[n++] = 22;
	b[n++] = (uint8_t)(rec_version >> 8);
	b[n++] = (uint8_t)rec_version;
	n += 2;
	hs = n;
	b[n++] = 2;
	n += 3;
	body = n;
	b[n++] = (uint8_t)(version >> 8);
	b[n++] = (uint8_t)version;
	memset(b + n, 0x42, 32);
	n += 32;
	b[n++] = 0;
	b[n++] = (uint8_t)(suite >> 8);
	b[n++] = (uint8_t)suite;
	b[n++] = 0;
	if (ext) {
		b[n++] = (uint8_t)(extlen >> 8);
		b[n++] = (uint8_t)extlen;
		memcpy(b + n, ext, extlen);
		n += extlen;
	}
	b[hs + 1] = 0;
	b[hs + 2] = (uint8_t)((n - body) >> 8);
	b[hs + 3] = (uint8_t)(n - body);
	if (done) {
		memcpy(b + n, "\x0e\x00\x00\x00", 4);
		n += 4;
	}
	b[3] = (uint8_t)((n - 5) >> 8);
	b[4] = (uint8_t)(n - 5);
	return n;
}

static void test_parse_tls12_hello_done(void **state)
{
	uint8_t b[512];
	struct tk_flight *f = malloc(sizeof(*f));
	size_t n = server_hello(b, 0x0303, 0x0303, 0xC02F, (const uint8_t *)"\xff\x01\x00\x01\x00", 5, true), i;
	(void)state;
	assert_int_equal(tk_tls_parse_flight(b, n, f), TK_FLIGHT_DONE);
	assert_true(f->hello);
	assert_int_equal(f->version, TK_TLS12);
	assert_int_equal(f->suite, 0xC02F);
	assert_true(f->secure_renegotiation);
	/* every truncation needs more bytes, never succeeds or crashes */
	for (i = 0; i < n; i++)
		assert_int_equal(tk_tls_parse_flight(b, i, f), TK_FLIGHT_MORE);
	free(f);
}

static void test_parse_tls13_and_hrr(void **state)
{
	static const uint8_t hrr[32] = {0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C,
					0x02, 0x1E, 0x65, 0xB8, 0x91, 0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB,
					0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C};
	uint8_t b[512];
	const uint8_t ext[] = {0x00, 0x2b, 0x00, 0x02, 0x03, 0x04, 0x00, 0x33, 0x00, 0x02, 0x00, 0x17};
	struct tk_flight *f = malloc(sizeof(*f));
	size_t n = server_hello(b, 0x0303, 0x0303, 0x1302, ext, sizeof(ext), false);
	(void)state;
	assert_int_equal(tk_tls_parse_flight(b, n, f), TK_FLIGHT_DONE);
	assert_int_equal(f->version, TK_TLS13);
	assert_int_equal(f->suite, 0x1302);
	assert_int_equal(f->group, 23);
	assert_false(f->hrr);
	memcpy(b + 11, hrr, 32);
	assert_int_equal(tk_tls_parse_flight(b, n, f), TK_FLIGHT_DONE);
	assert_true(f->hrr);
	free(f);
}

static void test_parse_alert_and_junk(void **state)
{
	struct tk_flight *f = malloc(sizeof(*f));
	uint8_t b[512];
	size_t n;
	(void)state;
	assert_int_equal(tk_tls_parse_flight((const uint8_t *)"\x15\x03\x01\x00\x02\x02\x28", 7, f), TK_FLIGHT_ALERT);
	assert_int_equal(f->alert_desc, 40);
	assert_false(f->hello);
	assert_int_equal(tk_tls_parse_flight((const uint8_t *)"HTTP/1.1 400 Bad\r\n", 18, f), TK_FLIGHT_BAD);
	assert_int_equal(tk_tls_parse_flight((const uint8_t *)"\x16\x03\x03\xff\xff", 5, f), TK_FLIGHT_BAD);
	assert_non_null(strstr(f->why, "offset 3"));
	/* a handshake message other than ServerHello first */
	assert_int_equal(tk_tls_parse_flight((const uint8_t *)"\x16\x03\x03\x00\x04\x0e\x00\x00\x00", 9, f),
			 TK_FLIGHT_BAD);
	/* session id length beyond the message */
	n = server_hello(b, 0x0303, 0x0303, 0xC02F, NULL, 0, true);
	b[5 + 4 + 34] = 200;
	assert_int_equal(tk_tls_parse_flight(b, n, f), TK_FLIGHT_BAD);
	/* extension length that overruns */
	n = server_hello(b, 0x0303, 0x0303, 0xC02F, (const uint8_t *)"\xff\x01\x00\x09\x00", 5, true);
	assert_int_equal(tk_tls_parse_flight(b, n, f), TK_FLIGHT_BAD);
	/* application data before a ServerHello */
	assert_int_equal(tk_tls_parse_flight((const uint8_t *)"\x17\x03\x03\x00\x01\x00", 6, f), TK_FLIGHT_BAD);
	free(f);
}

static void test_parse_ske_and_certs(void **state)
{
	/* ServerHello (DHE suite) + Certificate(1 cert of 3 bytes) + SKE (p of 2048 bits) + CertReq + Done, split in
	 * two records */
	uint8_t b[2048], hs[1024];
	size_t n = 0, h = 0, i;
	struct tk_flight *f = malloc(sizeof(*f));
	(void)state;
	{
		uint8_t tmp[256];
		size_t sh = server_hello(tmp, 0x0301, 0x0301, 0x0033, NULL, 0, false);
		memcpy(hs, tmp + 5, sh - 5);
		h = sh - 5;
	}
	memcpy(hs + h, "\x0b\x00\x00\x09\x00\x00\x06\x00\x00\x03\xAA\xBB\xCC", 13);
	h += 13;
	hs[h++] = 12;
	hs[h++] = 0;
	hs[h++] = (uint8_t)((2 + 256 + 3) >> 8);
	hs[h++] = (uint8_t)(2 + 256 + 3);
	hs[h++] = 1;
	hs[h++] = 0; /* p: 256 bytes */
	hs[h++] = 0x80;
	memset(hs + h, 0x11, 255);
	h += 255;
	memcpy(hs + h, "\x00\x01\x02", 3);
	h += 3;
	memcpy(hs + h, "\x0d\x00\x00\x00\x0e\x00\x00\x00", 8);
	h += 8;
	for (i = 0; i < 2; i++) {
		size_t part = i == 0 ? 50 : h - 50;
		b[n++] = 22;
		b[n++] = 3;
		b[n++] = 1;
		b[n++] = (uint8_t)(part >> 8);
		b[n++] = (uint8_t)part;
		memcpy(b + n, hs + (i == 0 ? 0 : 50), part);
		n += part;
	}
	assert_int_equal(tk_tls_parse_flight(b, n, f), TK_FLIGHT_DONE);
	assert_int_equal(f->version, TK_TLS10);
	assert_int_equal(f->suite, 0x0033);
	assert_int_equal(f->dh_bits, 2048);
	assert_int_equal(f->ncerts, 1);
	assert_int_equal(f->cert_len[0], 3);
	assert_memory_equal(f->hs + f->cert_off[0], "\xAA\xBB\xCC", 3);
	assert_true(f->cert_request);
	free(f);
}

static void test_parse_ssl2(void **state)
{
	/* SERVER-HELLO: hit 0, cert type 1, version 0002, cert len 2, specs 6, conn id 0 */
	const uint8_t b[] = {0x80, 19, 4, 0, 1, 0, 2, 0, 2, 0, 6, 0, 0, 0xDE, 0xAD, 1, 0, 0x80, 7, 0, 0xC0};
	struct tk_flight *f = malloc(sizeof(*f));
	(void)state;
	assert_int_equal(tk_tls_parse_flight(b, sizeof(b), f), TK_FLIGHT_DONE);
	assert_int_equal(f->version, TK_SSL2);
	assert_int_equal(f->nssl2_specs, 2);
	assert_int_equal(f->ssl2_specs[1], 0x0700C0);
	assert_int_equal(tk_tls_parse_flight(b, sizeof(b) - 1, f), TK_FLIGHT_MORE);
	{
		/* found by fuzzing: cipher specs claimed right up to the record end, header not counted */
		const uint8_t h[] = {0x80, 0x13, 0x04, 0x00, 0x15, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00,
				     0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x40, 0xc0};
		assert_int_equal(tk_tls_parse_flight(h, sizeof(h), f), TK_FLIGHT_BAD);
	}
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_sorted_unique),
		cmocka_unit_test(test_table_classes),
		cmocka_unit_test(test_hello_tls12),
		cmocka_unit_test(test_hello_ip_no_sni_and_tls13),
		cmocka_unit_test(test_hello_ssl3_and_ssl2),
		cmocka_unit_test(test_parse_tls12_hello_done),
		cmocka_unit_test(test_parse_tls13_and_hrr),
		cmocka_unit_test(test_parse_alert_and_junk),
		cmocka_unit_test(test_parse_ske_and_certs),
		cmocka_unit_test(test_parse_ssl2),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
