/* test_cloud_parse.c - the cloud probe's parsers: IAM XML, credential report CSV, Graph and Directory JSON. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "awsxml.h"
#include "cloudjson.h"
#include "credreport.h"

static struct tk_xml_node *xml(const char *s, int expect_rc, struct tk_err *err)
{
	struct tk_xml_node *n = NULL;
	assert_int_equal(tk_xml_parse(s, strlen(s), &n, err), expect_rc);
	return n;
}

static void test_xml_summary(void **state)
{
	struct tk_err err = {0};
	struct tk_xml_node *doc = xml(
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- c -->\n"
		"<GetAccountSummaryResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"
		"<GetAccountSummaryResult><SummaryMap>"
		"<entry><key>Users</key><value>3</value></entry>"
		"<entry><key>AccountMFAEnabled</key><value>1</value></entry>"
		"</SummaryMap></GetAccountSummaryResult>"
		"<ResponseMetadata><RequestId>abc</RequestId></ResponseMetadata></GetAccountSummaryResponse>\n",
		TK_OK, &err);
	const struct tk_xml_node *e;
	int n = 0;
	(void)state;
	assert_string_equal(doc->name, "GetAccountSummaryResponse");
	e = tk_xml_find(doc, "GetAccountSummaryResult/SummaryMap/entry");
	for (; e; e = tk_xml_next_same(e), n++)
		;
	assert_int_equal(n, 2);
	e = tk_xml_next_same(tk_xml_find(doc, "GetAccountSummaryResult/SummaryMap/entry"));
	assert_string_equal(tk_xml_text(e, "key"), "AccountMFAEnabled");
	assert_string_equal(tk_xml_text(doc, "ResponseMetadata/RequestId"), "abc");
	assert_null(tk_xml_text(doc, "Nope/RequestId"));
	tk_xml_free(doc);
}

static void test_xml_entities_prefix_cdata(void **state)
{
	struct tk_err err = {0};
	struct tk_xml_node *doc = xml("<a:Root xmlns:a=\"x\"><a:M attr='1&gt;'>x &lt;&amp;&gt; &#233;&#x41;</a:M>"
				      "<E/><C><![CDATA[<raw>&amp;]]></C></a:Root>",
				      TK_OK, &err);
	(void)state;
	assert_string_equal(doc->name, "Root");
	assert_string_equal(tk_xml_text(doc, "M"), "x <&> \xC3\xA9" "A");
	assert_string_equal(tk_xml_text(doc, "E"), "");
	assert_string_equal(tk_xml_text(doc, "C"), "<raw>&amp;");
	tk_xml_free(doc);
}

static void test_xml_malformed(void **state)
{
	static const char *const bad[] = {
		"", "text", "<a>", "<a></b>", "<a><b></a>", "<a>&bogus;</a>", "<a>&#0;</a>", "<a>&#xZZ;</a>",
		"<a></a><b></b>", "<a attr=\"x></a>", "<!DOCTYPE a [<!ENTITY x \"y\">]><a/>", "<a><!-- x </a>",
		"<a><![CDATA[x</a>", "<a>x</a>junk", "< a/>",
	};
	size_t i;
	(void)state;
	for (i = 0; i < TK_ARRAY_LEN(bad); i++) {
		struct tk_err err = {0};
		struct tk_xml_node *n = NULL;
		int rc = tk_xml_parse(bad[i], strlen(bad[i]), &n, &err);
		if (rc == TK_OK)
			fail_msg("accepted malformed XML #%zu: %s", i, bad[i]);
		assert_null(n);
		assert_non_null(strstr(err.msg, "XML"));
	}
	{
		struct tk_err err = {0};
		struct tk_xml_node *n = NULL;
		assert_int_equal(tk_xml_parse("<a><![CDATA[x\0y]]></a>", 22, &n, &err), TK_ERR_PARSE);
		assert_non_null(strstr(err.msg, "NUL byte"));
		assert_null(n);
	}
	{
		struct tk_err err = {0};
		struct tk_xml_node *n = NULL;
		assert_int_equal(tk_xml_parse("<a><b></a>", 10, &n, &err), TK_ERR_PARSE);
		assert_non_null(strstr(err.msg, "mismatched closing tag at byte 6"));
	}
}

static void test_xml_depth_bound(void **state)
{
	struct tk_buf b;
	struct tk_err err = {0};
	struct tk_xml_node *n = NULL;
	int i;
	(void)state;
	tk_buf_init(&b, 1 << 20);
	for (i = 0; i < 100; i++)
		tk_buf_puts(&b, "<a>");
	for (i = 0; i < 100; i++)
		tk_buf_puts(&b, "</a>");
	assert_int_equal(tk_xml_parse(b.data, b.len, &n, &err), TK_ERR_PARSE);
	assert_non_null(strstr(err.msg, "deeply"));
	tk_buf_free(&b);
}

static void test_error_describe(void **state)
{
	char out[600], code[64];
	const char *x = "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type>"
			"<Code>Throttling</Code><Message>Rate exceeded</Message></Error>"
			"<RequestId>r-1</RequestId></ErrorResponse>";
	const char *j = "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException\","
			"\"message\":\"Requested resource not found\"}";
	(void)state;
	tk_aws_error_describe(400, x, strlen(x), out, sizeof(out), code, sizeof(code));
	assert_string_equal(code, "Throttling");
	assert_string_equal(out, "HTTP 400 Throttling: Rate exceeded (request id r-1)");
	tk_aws_error_describe(400, j, strlen(j), out, sizeof(out), code, sizeof(code));
	assert_string_equal(code, "ResourceNotFoundException");
	assert_string_equal(out, "HTTP 400 ResourceNotFoundException: Requested resource not found");
	tk_aws_error_describe(502, "<html>\x01</html>", 14, out, sizeof(out), code, sizeof(code));
	assert_string_equal(code, "");
	assert_non_null(strstr(out, "not an AWS error"));
	assert_non_null(strstr(out, "\\x01"));
}

static void test_parse_time(void **state)
{
	time_t t;
	(void)state;
	assert_int_equal(tk_parse_time("2026-11-23T16:00:00+00:00", &t), TK_OK);
	assert_int_equal((long long)t, 1795449600LL);
	assert_int_equal(tk_parse_time("2026-11-23T16:00:00.123Z", &t), TK_OK);
	assert_int_equal((long long)t, 1795449600LL);
	assert_int_equal(tk_parse_time("2026-11-24T01:00:00+09:00", &t), TK_OK);
	assert_int_equal((long long)t, 1795449600LL);
	assert_int_equal(tk_parse_time("N/A", &t), TK_ERR_PARSE);
	assert_int_equal(tk_parse_time("no_information", &t), TK_ERR_PARSE);
	assert_int_equal(tk_parse_time("2026-13-01T00:00:00Z", &t), TK_ERR_PARSE);
	assert_int_equal(tk_parse_time("2026-11-23T16:00:00Zjunk", &t), TK_ERR_PARSE);
}

#define HDR                                                                                                    \
	"user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"               \
	"password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,"                     \
	"access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,"            \
	"access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"                           \
	"access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,"      \
	"cert_2_active,cert_2_last_rotated\r\n"

static void test_credreport(void **state)
{
	const char *csv =
		HDR "<root_account>,arn:aws:iam::1:root,2020-01-01T00:00:00+00:00,not_supported,"
		    "2026-11-01T00:00:00+00:00,not_supported,not_supported,TRUE,False,N/A,N/A,N/A,N/A,true,"
		    "2020-01-01T00:00:00+00:00,2026-11-20T00:00:00+00:00,us-east-1,s3,false,N/A,false,N/A\r\n"
		    "\"al,ice\",arn:aws:iam::1:user/alice,2021-01-01T00:00:00+00:00,true,no_information,N/A,N/A,"
		    "false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\r\n";
	struct tk_credreport *r = NULL;
	struct tk_err err = {0};
	const struct tk_cr_user *root, *u;
	(void)state;
	assert_int_equal(tk_credreport_parse(csv, strlen(csv), &r, &err), TK_OK);
	assert_int_equal(r->n, 2);
	assert_int_equal(r->root, 0);
	root = &r->users[0];
	assert_true(root->is_root);
	assert_int_equal(root->password_enabled, TK_CR_NOT_SUPPORTED);
	assert_int_equal(root->mfa_active, TK_CR_TRUE);
	assert_int_equal(root->key1_active, TK_CR_FALSE);
	assert_int_equal(root->key2_active, TK_CR_TRUE);
	assert_string_equal(root->key1_last_used, "N/A");
	assert_int_equal((long long)root->key2_last_used_t, 1795132800LL);
	u = &r->users[1];
	assert_false(u->is_root);
	assert_string_equal(u->user, "al,ice");
	assert_int_equal(u->password_enabled, TK_CR_TRUE);
	assert_int_equal(u->mfa_active, TK_CR_FALSE);
	assert_int_equal((long long)u->password_last_used_t, 0);
	tk_credreport_free(r);
}

static void test_credreport_columns_by_name(void **state)
{
	/* reordered and reduced columns, LF endings, no trailing newline */
	const char *csv = "mfa_active,user,password_enabled\nfalse,<root_account>,not_supported\nTRUE,bob,TRUE";
	struct tk_credreport *r = NULL;
	struct tk_err err = {0};
	(void)state;
	assert_int_equal(tk_credreport_parse(csv, strlen(csv), &r, &err), TK_OK);
	assert_int_equal(r->n, 2);
	assert_int_equal(r->users[0].mfa_active, TK_CR_FALSE);
	assert_int_equal(r->users[0].key1_active, TK_CR_MISSING);
	assert_string_equal(r->users[1].user, "bob");
	assert_int_equal(r->users[1].mfa_active, TK_CR_TRUE);
	tk_credreport_free(r);
}

static void test_credreport_errors(void **state)
{
	static const struct {
		const char *csv, *msg;
	} bad[] = {
		{"", "empty"},
		{"name,mfa\nx,y\n", "lacks the \"user\" column"},
		{"user,mfa_active\n\"unterminated,x\n", "line 2: unterminated"},
		{"user,mfa_active\nonly\n", "line 2: 1 cells"},
		/* an unquoted comma in a user name: 3 cells under a 2-column header (the shifted row
		 * would read "true" as a user and an empty mfa_active) */
		{"user,mfa_active\nal,ice,false\n", "line 2: 3 cells where the header has 2"},
		{"user,password_enabled,mfa_active\nbob,true,false\nal,ice,true,false\n", "line 3: 4 cells where the header has 3"},
		{"user,password_enabled,mfa_active\nbob,true\n", "line 2: 2 cells"},
		{"user,mfa_active\n\"a\"b,true\n", "text after a quoted cell"},
		{"user,mfa_active\n<root_account>,true\n<root_account>,false\n", "second <root_account>"},
	};
	size_t i;
	(void)state;
	for (i = 0; i < TK_ARRAY_LEN(bad); i++) {
		struct tk_credreport *r = NULL;
		struct tk_err err = {0};
		assert_int_not_equal(tk_credreport_parse(bad[i].csv, strlen(bad[i].csv), &r, &err), TK_OK);
		assert_null(r);
		if (!strstr(err.msg, bad[i].msg))
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err.msg, bad[i].msg);
	}
}

static void test_classify(void **state)
{
	(void)state;
	assert_int_equal(tk_cr_classify("TRUE"), TK_CR_TRUE);
	assert_int_equal(tk_cr_classify("False"), TK_CR_FALSE);
	assert_int_equal(tk_cr_classify("NOT_SUPPORTED"), TK_CR_NOT_SUPPORTED);
	assert_int_equal(tk_cr_classify("n/a"), TK_CR_NA);
	assert_int_equal(tk_cr_classify("No_Information"), TK_CR_NO_INFO);
	assert_int_equal(tk_cr_classify("yes"), TK_CR_OTHER);
}

static void test_graph(void **state)
{
	const char *m1 = "{\"@odata.nextLink\":\"https://graph.microsoft.com/v1.0/x?$skiptoken=1\",\"value\":["
			 "{\"@odata.type\":\"#microsoft.graph.user\",\"id\":\"U1\",\"userPrincipalName\":\"a@x\"},"
			 "{\"@odata.type\":\"#microsoft.graph.servicePrincipal\",\"id\":\"s\"}]}";
	const char *m2 =
	    "{\"value\":[{\"@odata.type\":\"#microsoft.graph.user\",\"id\":\"u2\",\"userPrincipalName\":\"b@x\"}]}";
	const char *d = "{\"value\":[{\"id\":\"u1\",\"isMfaRegistered\":false,\"isMfaCapable\":false,"
			"\"methodsRegistered\":[]},{\"id\":\"u2\",\"isMfaRegistered\":true,\"methodsRegistered\":"
			"[\"fido2\",\"softwareOneTimePasscode\"]}]}";
	struct tk_admins a;
	struct tk_err err = {0};
	char *next = NULL;
	(void)state;
	memset(&a, 0, sizeof(a));
	assert_int_equal(tk_graph_members_parse(m1, strlen(m1), &a, &next, &err), TK_OK);
	assert_string_equal(next, "https://graph.microsoft.com/v1.0/x?$skiptoken=1");
	free(next);
	assert_int_equal(tk_graph_members_parse(m2, strlen(m2), &a, &next, &err), TK_OK);
	assert_null(next);
	assert_int_equal(a.n, 2);
	assert_int_equal(a.non_users, 1);
	assert_int_equal(a.v[0].mfa, -1);
	assert_int_equal(tk_graph_regdetails_parse(d, strlen(d), &a, &next, &err), TK_OK);
	assert_int_equal(a.v[0].mfa, 0); /* ids match case-insensitively */
	assert_int_equal(a.v[1].mfa, 1);
	assert_string_equal(a.v[1].methods, "fido2,softwareOneTimePasscode");
	tk_admins_clear(&a);
	assert_int_equal(tk_graph_members_parse("{\"value\":{}}", 12, &a, &next, &err), TK_ERR_PARSE);
	assert_int_equal(tk_graph_members_parse("{\"value\":[", 10, &a, &next, &err), TK_ERR_PARSE);
	assert_non_null(strstr(err.msg, "malformed JSON"));
	tk_admins_clear(&a);
}

static void test_directory(void **state)
{
	const char *p = "{\"kind\":\"admin#directory#users\",\"nextPageToken\":\"t2\",\"users\":["
			"{\"primaryEmail\":\"a@x\",\"isAdmin\":true,\"isEnrolledIn2Sv\":false,\"isEnforcedIn2Sv\":false},"
			"{\"primaryEmail\":\"d@x\",\"isAdmin\":false,\"isDelegatedAdmin\":true,\"isEnrolledIn2Sv\":false},"
			"{\"primaryEmail\":\"b@x\",\"isAdmin\":true,\"isEnrolledIn2Sv\":true,\"isEnforcedIn2Sv\":true}]}";
	struct tk_admins a;
	struct tk_err err = {0};
	char *next = NULL;
	(void)state;
	memset(&a, 0, sizeof(a));
	assert_int_equal(tk_directory_users_parse(p, strlen(p), &a, &next, &err), TK_OK);
	assert_string_equal(next, "t2");
	free(next);
	assert_int_equal(a.n, 2);
	assert_string_equal(a.v[0].name, "a@x");
	assert_int_equal(a.v[0].mfa, 0);
	assert_int_equal(a.v[0].enforced, 0);
	assert_int_equal(a.v[1].mfa, 1);
	assert_int_equal(tk_directory_users_parse("{\"kind\":\"admin#directory#users\"}", 32, &a, &next, &err), TK_OK);
	assert_int_equal(a.n, 2);
	assert_int_equal(tk_directory_users_parse("{\"users\":[1]}", 13, &a, &next, &err), TK_ERR_PARSE);
	tk_admins_clear(&a);
}

static void test_same_origin(void **state)
{
	(void)state;
	assert_true(tk_url_same_origin("https://graph.microsoft.com/v1.0/x?a=1", "https://graph.microsoft.com"));
	assert_true(tk_url_same_origin("https://graph.microsoft.com:443/v1.0/x", "https://graph.microsoft.com"));
	assert_false(tk_url_same_origin("https://evil.example/v1.0/x", "https://graph.microsoft.com"));
	assert_false(tk_url_same_origin("http://graph.microsoft.com/v1.0/x", "https://graph.microsoft.com"));
	assert_false(tk_url_same_origin("https://graph.microsoft.com.evil.example/", "https://graph.microsoft.com"));
}

static void test_uri_encode(void **state)
{
	char *s = tk_uri_encode("arn:aws:iam::1:role/A b~_.-", false);
	(void)state;
	assert_string_equal(s, "arn%3Aaws%3Aiam%3A%3A1%3Arole%2FA%20b~_.-");
	free(s);
	s = tk_uri_encode("/a b/c", true);
	assert_string_equal(s, "/a%20b/c");
	free(s);
}

/* One describer for Graph, ARM, Google and OAuth error bodies (cloudjson.h). */
static void test_api_error_describe(void **state)
{
	static const struct {
		const char *body, *want;
	} cases[] = {
		{"{\"error\": {\"code\": \"AuthorizationFailed\", \"message\": \"no read\"}}",
		 "HTTP 403 AuthorizationFailed: no read"},
		{"{\"error\": {\"code\": 403, \"message\": \"denied\", \"status\": \"PERMISSION_DENIED\"}}",
		 "HTTP 403 PERMISSION_DENIED: denied"},
		{"{\"error\": \"invalid_client\", \"error_description\": \"AADSTS7000215\"}",
		 "HTTP 403 invalid_client: AADSTS7000215"},
		{"<html>", "HTTP 403 with a body that is not an API error"},
		{"", "HTTP 403 with an empty body"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tk_buf b;
		char out[200];
		tk_buf_init(&b, 1024);
		assert_int_equal(tk_buf_puts(&b, cases[i].body), 0);
		tk_api_error_describe(403, &b, out, sizeof(out));
		assert_string_equal(out, cases[i].want);
		tk_buf_free(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xml_summary),	   cmocka_unit_test(test_xml_entities_prefix_cdata),
		cmocka_unit_test(test_xml_malformed),	   cmocka_unit_test(test_xml_depth_bound),
		cmocka_unit_test(test_error_describe),	   cmocka_unit_test(test_parse_time),
		cmocka_unit_test(test_credreport),	   cmocka_unit_test(test_credreport_columns_by_name),
		cmocka_unit_test(test_credreport_errors),  cmocka_unit_test(test_classify),
		cmocka_unit_test(test_graph),		   cmocka_unit_test(test_directory),
		cmocka_unit_test(test_same_origin),	   cmocka_unit_test(test_uri_encode),
		cmocka_unit_test(test_api_error_describe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
