/* test_securitytxt.c - the RFC 9116 security.txt parser: required fields, expiry, framing, bounds. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "securitytxt.h"

#define NOW 1796000000 /* 2026-11-30 UTC: "now" for the expiry checks below */

static struct tk_sectxt parse(const char *v)
{
	struct tk_sectxt s;
	tk_sectxt_parse(v, strlen(v), NOW, &s);
	return s;
}

static bool has_error(const struct tk_sectxt *s, unsigned line, const char *part)
{
	unsigned i;
	for (i = 0; i < s->nerrors; i++)
		if (s->errors[i].line == line && strstr(s->errors[i].msg, part))
			return true;
	return false;
}

static void test_valid_lf_and_crlf(void **state)
{
	struct tk_sectxt a = parse("# our contact\nContact: mailto:security@acme.test\n"
				   "Contact: https://acme.test/report\nExpires: 2027-06-30T00:00:00.000Z\n"
				   "Preferred-Languages: ja, en\n");
	struct tk_sectxt b = parse("contact: mailto:security@acme.test\r\nEXPIRES: 2027-06-30T09:00:00+09:00\r\n");
	(void)state;
	assert_true(a.valid);
	assert_int_equal(a.contact_count, 2);
	assert_int_equal(a.expires_count, 1);
	assert_true(a.expires_ok);
	assert_false(a.expired);
	assert_int_equal(a.expires, 1814313600LL);
	assert_int_equal(a.nerrors, 0);
	assert_true(b.valid); /* names case-insensitive, CRLF, an offset */
	assert_int_equal(b.expires, 1814313600LL);
	assert_int_equal(b.nerrors, 0);
}

static void test_expired(void **state)
{
	struct tk_sectxt s = parse("Contact: mailto:a@acme.test\nExpires: 2025-01-01T00:00:00Z\n");
	(void)state;
	assert_false(s.valid);
	assert_true(s.expires_ok);
	assert_true(s.expired);
	assert_true(has_error(&s, 2, "in the past"));
}

static void test_missing_required(void **state)
{
	struct tk_sectxt a = parse("Expires: 2027-06-30T00:00:00Z\n");
	struct tk_sectxt b = parse("Contact: mailto:a@acme.test\n");
	struct tk_sectxt c = parse("");
	(void)state;
	assert_false(a.valid);
	assert_true(has_error(&a, 0, "no Contact"));
	assert_false(b.valid);
	assert_true(has_error(&b, 0, "no Expires"));
	assert_false(c.valid);
	assert_int_equal(c.nerrors, 2);
}

static void test_two_expires(void **state)
{
	struct tk_sectxt s = parse("Contact: mailto:a@acme.test\nExpires: 2027-06-30T00:00:00Z\n"
				   "Expires: 2027-07-30T00:00:00Z\n");
	(void)state;
	assert_false(s.valid);
	assert_int_equal(s.expires_count, 2);
	assert_false(s.expires_ok);
	assert_true(has_error(&s, 3, "second Expires"));
}

static void test_bad_values(void **state)
{
	struct tk_sectxt s = parse("Contact: security@acme.test\nContact: http://acme.test/report\nContact:\n"
				   "Expires: 2027-06-30\nno colon here\nbad name: x\n");
	(void)state;
	assert_false(s.valid);
	assert_int_equal(s.contact_count, 0);
	assert_true(has_error(&s, 1, "not a URI"));
	assert_true(has_error(&s, 2, "http:"));
	assert_true(has_error(&s, 3, "empty"));
	assert_true(has_error(&s, 4, "RFC 3339"));
	assert_true(has_error(&s, 5, "Field: value"));
	assert_true(has_error(&s, 6, "token"));
}

static void test_errors_do_not_hide_a_valid_file(void **state)
{
	/* an unknown line is reported with its number, but Contact and Expires are what make it valid */
	struct tk_sectxt s = parse("Contact: tel:+81-3-0000-0000\nthis is prose\nExpires: 2027-06-30T00:00:00Z\n");
	(void)state;
	assert_true(s.valid);
	assert_true(has_error(&s, 2, "Field: value"));
}

static void test_pgp_signed(void **state)
{
	const char *t = "-----BEGIN PGP SIGNED MESSAGE-----\n"
			"Hash: SHA256\n"
			"\n"
			"Contact: mailto:security@acme.test\n"
			"- Expires: 2027-06-30T00:00:00Z\n" /* dash-escaped */
			"-----BEGIN PGP SIGNATURE-----\n"
			"\n"
			"iQIzBAEBCAAdFiEE: not: a: field\n"
			"Expires: 2020-01-01T00:00:00Z\n"
			"-----END PGP SIGNATURE-----\n";
	struct tk_sectxt s = parse(t);
	(void)state;
	assert_true(s.pgp_signed);
	assert_true(s.valid);
	assert_int_equal(s.expires_count, 1); /* the signature block is not read as fields */
	assert_int_equal(s.nerrors, 0);
}

static void test_pgp_unterminated_and_trailing(void **state)
{
	struct tk_sectxt a = parse("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nContact: mailto:a@b.test\n");
	struct tk_sectxt b = parse("-----BEGIN PGP SIGNED MESSAGE-----\n\nContact: mailto:a@b.test\n"
				   "Expires: 2027-06-30T00:00:00Z\n-----BEGIN PGP SIGNATURE-----\nx\n"
				   "-----END PGP SIGNATURE-----\nContact: mailto:evil@x.test\nExpires: 2030-01-01T00:00:00Z\n");
	(void)state;
	assert_true(has_error(&a, 4, "not complete"));
	assert_false(a.valid); /* no Expires inside */
	assert_true(b.valid);
	assert_int_equal(b.contact_count, 1); /* unsigned lines after the signature are not fields */
	assert_true(has_error(&b, 8, "after the signature"));
}

static void test_bounds(void **state)
{
	size_t n = TK_SECTXT_MAX + 1, i;
	char *big = malloc(n + 1);
	struct tk_sectxt s;
	char nul[] = "Contact: mailto:a@b.test\nExpires: 2027-06-30T00:00:00Z\n";
	(void)state;
	assert_non_null(big);
	for (i = 0; i < n; i++)
		big[i] = i % 80 == 79 ? '\n' : 'a';
	big[n] = '\0';
	tk_sectxt_parse(big, n, NOW, &s);
	assert_false(s.valid);
	assert_true(has_error(&s, 0, "larger than"));
	/* one long line, then a valid file: the line is skipped with its number */
	memset(big, 'x', TK_SECTXT_LINE_MAX + 10);
	big[TK_SECTXT_LINE_MAX + 10] = '\n';
	memcpy(big + TK_SECTXT_LINE_MAX + 11, nul, sizeof(nul));
	s = parse(big);
	assert_true(s.valid);
	assert_true(has_error(&s, 1, "longer than"));
	free(big);
	nul[5] = '\0';
	tk_sectxt_parse(nul, sizeof(nul) - 1, NOW, &s);
	assert_false(s.valid);
	assert_true(has_error(&s, 0, "binary"));
	/* many errors: kept to the bound, the rest counted */
	{
		char many[4000] = "";
		size_t off = 0;
		for (i = 0; i < 40; i++)
			off += (size_t)snprintf(many + off, sizeof(many) - off, "junk\n");
		s = parse(many);
		assert_int_equal(s.nerrors, TK_SECTXT_ERRORS_MAX);
		assert_true(s.errors_more > 0);
	}
	tk_sectxt_parse(NULL, 0, NOW, &s);
	assert_false(s.valid);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_lf_and_crlf),
		cmocka_unit_test(test_expired),
		cmocka_unit_test(test_missing_required),
		cmocka_unit_test(test_two_expires),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_errors_do_not_hide_a_valid_file),
		cmocka_unit_test(test_pgp_signed),
		cmocka_unit_test(test_pgp_unterminated_and_trailing),
		cmocka_unit_test(test_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
