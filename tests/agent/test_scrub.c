/*
 * test_scrub.c - credentials out of server text before any cut (scrub.h):
 * known secrets (as is and URL-encoded), credential shapes, and the AWS
 * error describer, which used to cut a body at 120 bytes before scrubbing.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "scrub.h"

/* no 8-byte piece of secret survives in text */
static void assert_no_piece(const char *text, const char *secret)
{
	size_t n = strlen(secret), i;
	for (i = 0; i + 8 <= n; i++) {
		char piece[9];
		memcpy(piece, secret + i, 8);
		piece[8] = '\0';
		if (strstr(text, piece))
			fail_msg("piece \"%s\" of a secret survives in \"%s\"", piece, text);
	}
}

static void test_known_secrets(void **state)
{
	const char *secrets[] = {"azure~client~secret/value+0001", "", NULL};
	const char *in = "{\"error\":\"invalid_client\",\"error_description\":\"echo: client_id=x&"
			 "client_secret=azure~client~secret%2Fvalue%2B0001&scope=s and raw azure~client~secret/value+0001\"}";
	char *s;
	(void)state;
	s = tk_scrub_dup(in, strlen(in), secrets);
	assert_non_null(s);
	assert_no_piece(s, secrets[0]);
	assert_no_piece(s, "azure~client~secret%2Fvalue%2B0001");
	assert_non_null(strstr(s, "[redacted sha256:"));
	assert_non_null(strstr(s, "invalid_client")); /* the rest stays readable */
	free(s);
}

static void test_shapes(void **state)
{
	static const char *const cases[][2] = {
		{"key AKIAIOSFODNN7EXAMPLE was denied", "AKIAIOSFODNN7EXAMPLE"},
		{"session ASIAQWERTYUIOPASDFGH.", "ASIAQWERTYUIOPASDFGH"},
		{"Authorization: Bearer abc.DEF-ghi_jkl~mno+pqr/stu=", "abc.DEF-ghi_jkl~mno+pqr/stu="},
		{"got eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJlLXBhcnQ here", "eyJpc3MiOiJ4In0.c2lnbmF0dXJlLXBhcnQ"},
		{"token ya29.a0AfH6SMBx-abcdefghijkLMNOP", "ya29.a0AfH6SMBx-abcdefghijkLMNOP"},
		{"assertion=SIGNEDPARTabcdefgh12345&x=1", "SIGNEDPARTabcdefgh12345"},
		{"{\"access_token\": \"opaqueTokenValue123\"}", "opaqueTokenValue123"},
		{"<SecretAccessKey>wJalrXUtnFEMI/K7MDENG</SecretAccessKey>", "wJalrXUtnFEMI/K7MDENG"},
		{"secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY end", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
		{"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----",
		 "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"},
		{"X-Amz-Security-Token: IQoJb3JpZ2luX2VjEFAKESESSION", "IQoJb3JpZ2luX2VjEFAKESESSION"},
	};
	size_t i;
	(void)state;
	for (i = 0; i < TK_ARRAY_LEN(cases); i++) {
		char *s = tk_scrub_dup(cases[i][0], strlen(cases[i][0]), NULL);
		assert_non_null(s);
		assert_no_piece(s, cases[i][1]);
		free(s);
	}
}

static void test_keeps_ordinary_text(void **state)
{
	const char *in = "User: arn:aws:sts::123456789012:assumed-role/BankAudit/x is not authorized to perform: "
			 "events:ListRules (request id 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0) sha1 "
			 "da39a3ee5e6b4b0d3255bfef95601890afd80709 NextToken=abc";
	char *s = tk_scrub_dup(in, strlen(in), NULL);
	(void)state;
	assert_string_equal(s, in);
	free(s);
}

/* the AWS describer scrubs the whole body before it cuts (it used to cut at 120 bytes first) */
static void test_aws_describe_scrubs_before_cut(void **state)
{
	char body[400], out[300], code[64];
	const char *key = "AKIAABCDEFGHIJKLMNOP";
	(void)state;
	memset(body, 'x', 110);
	snprintf(body + 110, sizeof(body) - 110, " %s and more", key);
	tk_aws_error_describe(403, body, strlen(body), out, sizeof(out), code, sizeof(code));
	assert_no_piece(out, key);
	/* an XML error whose Message echoes a bearer token longer than the 512-byte cut */
	{
		char xml[2000], tok[700];
		memset(tok, 'Q', sizeof(tok) - 1);
		tok[sizeof(tok) - 1] = '\0';
		memcpy(tok, "abcdEFGH", 8);
		snprintf(
		    xml, sizeof(xml),
		    "<ErrorResponse><Error><Code>AccessDenied</Code><Message>%.*sBearer %s</Message>"
		    "</Error></ErrorResponse>",
		    480,
		    "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"
		    "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"
		    "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"
		    "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"
		    "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy",
		    tok);
		tk_aws_error_describe(403, xml, strlen(xml), out, sizeof(out), code, sizeof(code));
		assert_string_equal(code, "AccessDenied");
		assert_null(strstr(out, "abcdEFGH"));
	}
}

static void test_inplace_and_buf(void **state)
{
	char msg[64];
	const char *secrets[] = {"s3cr3t-value-xyz", NULL};
	struct tk_buf b;
	(void)state;
	snprintf(msg, sizeof(msg), "denied for s3cr3t-value-xyz, sorry, with a long tail to cut");
	tk_scrub_inplace(msg, sizeof(msg), secrets);
	assert_no_piece(msg, secrets[0]);
	tk_buf_init(&b, 1 << 20);
	assert_int_equal(tk_buf_puts(&b, "echo s3cr3t-value-xyz"), TK_OK);
	tk_scrub_buf(&b, secrets);
	assert_no_piece(b.data, secrets[0]);
	assert_int_equal(b.len, strlen(b.data));
	tk_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_secrets),          cmocka_unit_test(test_shapes),
		cmocka_unit_test(test_keeps_ordinary_text),    cmocka_unit_test(test_aws_describe_scrubs_before_cut),
		cmocka_unit_test(test_inplace_and_buf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
