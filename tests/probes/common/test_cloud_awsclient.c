/*
 * test_cloud_awsclient.c - the reusable AWS client (aws.h): account config and
 * credential files, JSON-protocol requests, throttling retries, error
 * messages without secrets. Servers are tk_httpd responders on 127.0.0.1.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "aws.h"
#include "awsxml.h"
#include "localsrv.h"

#define AK "AKIAUNITTESTKEY00001"
#define SK "unit/test/secret/key/0123456789abcdefghij"

static int parse_acct(const char *dir, const char *json, struct tk_aws_account **a, struct tk_err *err)
{
	cJSON *j = tk_test_json(json);
	struct tk_cfgctx cc = {"partner.json", dir, "probes.cloud", NULL};
	int rc = tk_aws_account_parse(j, &cc, "probes.cloud.accounts[0]", a, err);
	cJSON_Delete(j);
	return rc;
}

static void test_profiles(void **state)
{
	char *dir = tk_test_tmpdir(), *f;
	struct tk_aws_account *a = NULL;
	struct tk_err err = {0};
	char fp[24], want[24];
	(void)state;
	f = tk_test_write(dir, "creds",
			  "# comment\n[default]\naws_access_key_id=AKIADEFAULT000000000\naws_secret_access_key=x\n"
			  "[profile audit]\n  aws_access_key_id = " AK "  \naws_secret_access_key = " SK "\n"
			  "; other\n[broken]\naws_access_key_id = AKIAONLYKEY000000000\n");
	chmod(f, 0600);
	assert_int_equal(parse_acct(dir, "{\"credentials_file\": \"creds\", \"profile\": \"audit\"}", &a, &err), TK_OK);
	tk_aws_account_key_fingerprint(a, fp);
	tk_fingerprint(AK, strlen(AK), want);
	assert_string_equal(fp, want);
	assert_string_equal(tk_aws_account_source(a), "profile audit in creds");
	tk_aws_account_free(a);
	a = NULL;

	assert_int_equal(parse_acct(dir, "{\"credentials_file\": \"creds\", \"profile\": \"nope\"}", &a, &err),
			 TK_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "partner.json: probes.cloud.accounts[0].credentials_file: creds: no profile [nope]"));
	assert_int_equal(parse_acct(dir, "{\"credentials_file\": \"creds\", \"profile\": \"broken\"}", &a, &err),
			 TK_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "lacks aws_access_key_id or aws_secret_access_key"));

	chmod(f, 0604);
	assert_int_equal(parse_acct(dir, "{\"credentials_file\": \"creds\", \"profile\": \"audit\"}", &a, &err),
			 TK_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "mode 0604"));
	assert_non_null(strstr(err.msg, "chmod 600"));
	assert_null(strstr(err.msg, SK));
	assert_null(a);

	assert_int_equal(parse_acct(dir, "{\"credentials_file\": \"creds\", \"endpoint\": \"ftp://x\"}", &a, &err),
			 TK_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "accounts[0].endpoint"));
	assert_int_equal(parse_acct(dir, "{\"credentials_file\": \"creds\", \"role_arn\": \"BankAudit\"}", &a, &err),
			 TK_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "accounts[0].role_arn"));
	free(f);
	tk_test_rmtree(dir);
	free(dir);
}

static void test_endpoints(void **state)
{
	char *dir = tk_test_tmpdir(), *f, buf[256];
	struct tk_aws_account *a = NULL;
	struct tk_err err = {0};
	(void)state;
	f = tk_test_write(dir, "c", "[default]\naws_access_key_id=" AK "\naws_secret_access_key=" SK "\n");
	chmod(f, 0600);
	assert_int_equal(parse_acct(dir, "{\"credentials_file\": \"c\", \"region\": \"ap-northeast-1\", "
					 "\"endpoints\": {\"rds\": \"http://127.0.0.1:1/\"}}",
				    &a, &err),
			 TK_OK);
	assert_string_equal(tk_aws_account_endpoint(a, "iam", buf, sizeof(buf)), "https://iam.amazonaws.com");
	assert_string_equal(tk_aws_account_endpoint(a, "sts", buf, sizeof(buf)),
			    "https://sts.ap-northeast-1.amazonaws.com");
	assert_string_equal(tk_aws_account_endpoint(a, "rds", buf, sizeof(buf)), "http://127.0.0.1:1");
	tk_aws_account_free(a);
	assert_int_equal(parse_acct(dir, "{\"credentials_file\": \"c\", \"region\": \"cn-north-1\"}", &a, &err), TK_OK);
	assert_string_equal(tk_aws_account_endpoint(a, "iam", buf, sizeof(buf)),
			    "https://iam.cn-north-1.amazonaws.com.cn");
	tk_aws_account_free(a);
	free(f);
	tk_test_rmtree(dir);
	free(dir);
}

struct srv {
	struct tk_httpd *h;
	char *dir;
	struct tk_aws_account *a;
};

static void start(struct srv *s, int status, const char *body, int retries)
{
	struct tk_httpd_config hc;
	struct tk_err err = {0};
	char json[512], *f;
	memset(&hc, 0, sizeof(hc));
	hc.addr = "127.0.0.1";
	hc.status = status;
	hc.body = body;
	assert_int_equal(tk_httpd_start(&hc, &s->h, &err), TK_OK);
	s->dir = tk_test_tmpdir();
	f = tk_test_write(s->dir, "c", "[default]\naws_access_key_id=" AK "\naws_secret_access_key=" SK "\n");
	chmod(f, 0600);
	free(f);
	snprintf(json, sizeof(json),
		 "{\"credentials_file\": \"c\", \"endpoint\": \"http://127.0.0.1:%d\", \"max_retries\": %d}",
		 tk_httpd_port(s->h), retries);
	assert_int_equal(parse_acct(s->dir, json, &s->a, &err), TK_OK);
}

static void stop(struct srv *s)
{
	tk_aws_account_free(s->a);
	tk_httpd_stop(s->h);
	tk_test_rmtree(s->dir);
	free(s->dir);
}

static void test_json_request(void **state)
{
	struct srv s;
	struct tk_buf resp;
	struct tk_err err = {0};
	long st = 0;
	const char *body = "{\"TableName\":\"payments\"}";
	(void)state;
	start(&s, 200, "{\"Table\":{\"TableName\":\"payments\"}}", 2);
	tk_buf_init(&resp, 4096);
	assert_int_equal(tk_aws_request(s.a, "dynamodb", "POST", "/", "application/x-amz-json-1.0",
					"DynamoDB_20120810.DescribeTable", body, strlen(body), 5000, &st, &resp, &err),
			 TK_OK);
	assert_int_equal(st, 200);
	assert_string_equal(resp.data, "{\"Table\":{\"TableName\":\"payments\"}}");
	assert_int_equal(tk_httpd_requests(s.h), 1);
	tk_buf_free(&resp);
	stop(&s);
}

static void test_throttling_retried(void **state)
{
	struct srv s;
	struct tk_buf resp;
	struct tk_err err = {0};
	long st = 0;
	char msg[600], code[64];
	(void)state;
	start(&s, 400, "{\"__type\":\"com.amazonaws.kms#ThrottlingException\",\"message\":\"Rate exceeded\"}", 2);
	tk_buf_init(&resp, 4096);
	assert_int_equal(tk_aws_request(s.a, "kms", "POST", "/", "application/x-amz-json-1.1",
					"TrentService.GetKeyRotationStatus", "{}", 2, 10000, &st, &resp, &err),
			 TK_OK);
	assert_int_equal(st, 400);
	assert_int_equal(tk_httpd_requests(s.h), 3); /* first try + 2 retries */
	tk_aws_error_describe(st, resp.data, resp.len, msg, sizeof(msg), code, sizeof(code));
	assert_string_equal(code, "ThrottlingException");
	tk_buf_free(&resp);
	stop(&s);
}

static void test_not_retried_and_scrubbed(void **state)
{
	struct srv s;
	struct tk_err err = {0};
	struct tk_xml_node *doc = NULL;
	(void)state;
	start(&s, 403,
	      "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>The key " AK
	      " is not valid</Message></Error><RequestId>r-9</RequestId></ErrorResponse>",
	      3);
	assert_int_equal(tk_aws_query(s.a, "iam", "2010-05-08", "GetAccountSummary", "", 5000, &doc, &err),
			 TK_ERR_AUTH);
	assert_null(doc);
	assert_int_equal(tk_httpd_requests(s.h), 1);
	assert_non_null(strstr(err.msg, "iam GetAccountSummary: HTTP 403 InvalidClientTokenId"));
	assert_non_null(strstr(err.msg, "[redacted sha256:"));
	assert_non_null(strstr(err.msg, "(request id r-9)"));
	assert_null(strstr(err.msg, AK));
	stop(&s);
}

static void test_malformed_ok_body(void **state)
{
	struct srv s;
	struct tk_err err = {0};
	struct tk_xml_node *doc = NULL;
	(void)state;
	start(&s, 200, "<GetAccountSummaryResponse><oops>", 0);
	assert_int_equal(tk_aws_query(s.a, "iam", "2010-05-08", "GetAccountSummary", "", 5000, &doc, &err),
			 TK_ERR_PROTOCOL);
	assert_non_null(strstr(err.msg, "malformed response"));
	assert_null(doc);
	stop(&s);
}

/* S3 Control (aws_s3.c): the account id checked, the call sent; the classification tag key configured. */
static void test_s3control_and_tag(void **state)
{
	struct srv s;
	struct tk_buf resp;
	struct tk_err err = {0};
	struct tk_aws_account *a = NULL;
	long st = 0;
	(void)state;
	start(&s, 200, "<PublicAccessBlockConfiguration/>", 0);
	tk_buf_init(&resp, 4096);
	assert_string_equal(tk_aws_account_s3_tag(s.a), "DataClassification");
	assert_int_equal(tk_aws_s3control_request(s.a, NULL, "12345", "GET", "/v20180820/configuration/publicAccessBlock",
						  5000, &st, &resp, &err),
			 TK_ERR_USAGE);
	assert_int_equal(tk_httpd_requests(s.h), 0);
	assert_int_equal(tk_aws_s3control_request(s.a, "eu-west-1", "123456789012", "GET",
						  "/v20180820/configuration/publicAccessBlock", 5000, &st, &resp, &err),
			 TK_OK);
	assert_int_equal(st, 200);
	assert_int_equal(tk_httpd_requests(s.h), 1);
	assert_int_equal(parse_acct(s.dir, "{\"credentials_file\": \"c\", \"s3_classification_tag\": \"\"}", &a, &err),
			 TK_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "accounts[0].s3_classification_tag"));
	assert_int_equal(parse_acct(s.dir, "{\"credentials_file\": \"c\", \"s3_classification_tag\": \"Class\"}", &a,
				    &err),
			 TK_OK);
	assert_string_equal(tk_aws_account_s3_tag(a), "Class");
	tk_aws_account_free(a);
	tk_buf_free(&resp);
	stop(&s);
}

static void test_unreachable(void **state)
{
	char *dir = tk_test_tmpdir(), *f;
	struct tk_aws_account *a = NULL;
	struct tk_err err = {0};
	struct tk_buf resp;
	long st = 0;
	int64_t t0;
	(void)state;
	f = tk_test_write(dir, "c", "[default]\naws_access_key_id=" AK "\naws_secret_access_key=" SK "\n");
	chmod(f, 0600);
	/* port 9 (discard) on loopback: nothing listens */
	assert_int_equal(parse_acct(dir, "{\"credentials_file\": \"c\", \"endpoint\": \"http://127.0.0.1:9\", "
					 "\"max_retries\": 2}",
				    &a, &err),
			 TK_OK);
	tk_buf_init(&resp, 1024);
	t0 = tk_now_ms();
	assert_int_equal(tk_aws_request(a, "iam", "POST", "/", NULL, NULL, "", 0, 3000, &st, &resp, &err), TK_ERR_NET);
	assert_true(tk_now_ms() - t0 < 3500);
	assert_non_null(strstr(err.msg, "127.0.0.1:9"));
	tk_buf_free(&resp);
	tk_aws_account_free(a);
	free(f);
	tk_test_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_profiles),	  cmocka_unit_test(test_endpoints),
		cmocka_unit_test(test_json_request),	  cmocka_unit_test(test_throttling_retried),
		cmocka_unit_test(test_not_retried_and_scrubbed), cmocka_unit_test(test_malformed_ok_body),
		cmocka_unit_test(test_unreachable),	  cmocka_unit_test(test_s3control_and_tag),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
