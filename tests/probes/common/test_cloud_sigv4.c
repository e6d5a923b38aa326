/*
 * test_cloud_sigv4.c - tenken's SigV4 signature equals botocore's for the same
 * request, credentials and timestamp. botocore (Debian python3-botocore) signs
 * the same cases at test time through tests/support/botocore_sigv4.py.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws.h"

struct sigcase {
	const char *method, *scheme, *host, *path_and_query, *service, *region;
	const char *headers[4]; /* "Name: value"; X-Amz-Content-SHA256 is added by botocore itself for s3 */
	const char *body;
	const char *token;
};

static const struct sigcase cases[] = {
	{"POST", "https", "iam.amazonaws.com", "/", "iam", "us-east-1",
	 {"Content-Type: application/x-www-form-urlencoded; charset=utf-8", NULL},
	 "Action=GetAccountSummary&Version=2010-05-08", NULL},
	{"POST", "http", "127.0.0.1:9100", "/", "sts", "us-east-1",
	 {"Content-Type: application/x-www-form-urlencoded; charset=utf-8", NULL},
	 "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2FBankAudit"
	 "&RoleSessionName=tenken-audit&ExternalId=ext-123",
	 "FQoGZXIvYXdzEJr//////////wEaDOCKyr3b0pN8S1e5gSKsAT+session+token=="},
	{"POST", "https", "dynamodb.ap-northeast-1.amazonaws.com", "/", "dynamodb", "ap-northeast-1",
	 {"Content-Type: application/x-amz-json-1.0", "X-Amz-Target: DynamoDB_20120810.DescribeTable", NULL},
	 "{\"TableName\": \"payments\"}", NULL},
	{"GET", "https", "rds.ap-northeast-1.amazonaws.com", "/some%20path/x?b=2&a=1&a=0&empty", "rds",
	 "ap-northeast-1", {NULL}, "", "token-with spaces  and/slashes"},
	{"GET", "http", "127.0.0.1:9100", "/my-bucket?encryption", "s3", "ap-northeast-1",
	 {"X-Amz-Content-SHA256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", NULL}, "",
	 NULL},
};

#define AK "AKIAIOSFODNN7EXAMPLE"
#define SK "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define WHEN 1795449600 /* 2026-11-23T16:00:00Z */

static void test_known_vector(void **state)
{
	/* The AWS documentation's example: IAM ListUsers at 20150830T123600Z. */
	const char *hdrs[] = {"Content-Type: application/x-www-form-urlencoded; charset=utf-8", NULL};
	struct tk_aws_creds c = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL, 0};
	struct tk_aws_sigv4_req r = {"GET", "iam.amazonaws.com", "/?Action=ListUsers&Version=2010-05-08", "iam",
				     "us-east-1", hdrs, "", 0, 1440938160};
	char authz[1024], date[17];
	struct tk_err err = {0};
	(void)state;
	assert_int_equal(tk_aws_sigv4_sign(&r, &c, authz, sizeof(authz), date, &err), TK_OK);
	assert_string_equal(date, "20150830T123600Z");
	assert_string_equal(authz, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
				   "SignedHeaders=content-type;host;x-amz-date, "
				   "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
}

static void test_matches_botocore(void **state)
{
	char *dir = tk_test_tmpdir(), *in, cmd[9000], out[4096], *text = NULL, *line;
	cJSON *arr = cJSON_CreateArray();
	char *json;
	size_t i, len = 0;
	struct tk_err err = {0};
	(void)state;
	for (i = 0; i < TK_ARRAY_LEN(cases); i++) {
		const struct sigcase *k = &cases[i];
		cJSON *o = cJSON_CreateObject(), *h = cJSON_AddObjectToObject(o, "headers");
		char url[512];
		size_t j;
		snprintf(url, sizeof(url), "%s://%s%s", k->scheme, k->host, k->path_and_query);
		cJSON_AddStringToObject(o, "method", k->method);
		cJSON_AddStringToObject(o, "url", url);
		for (j = 0; k->headers[j]; j++) {
			const char *colon = strchr(k->headers[j], ':');
			char name[64];
			snprintf(name, sizeof(name), "%.*s", (int)(colon - k->headers[j]), k->headers[j]);
			if (strcmp(name, "X-Amz-Content-SHA256") != 0)
				cJSON_AddStringToObject(h, name, colon + 2);
		}
		cJSON_AddStringToObject(o, "body", k->body);
		cJSON_AddStringToObject(o, "service", k->service);
		cJSON_AddStringToObject(o, "region", k->region);
		cJSON_AddStringToObject(o, "ak", AK);
		cJSON_AddStringToObject(o, "sk", SK);
		if (k->token)
			cJSON_AddStringToObject(o, "token", k->token);
		cJSON_AddStringToObject(o, "when", "20261123T160000Z");
		cJSON_AddItemToArray(arr, o);
	}
	json = cJSON_PrintUnformatted(arr);
	in = tk_test_write(dir, "cases.json", json);
	snprintf(out, sizeof(out), "%s/out.txt", dir);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s/tests/support/botocore_sigv4.py < %s > %s", TK_SOURCE_DIR, in,
		 out);
	{
		char *argv[] = {"/bin/sh", "-c", cmd, NULL};
		assert_int_equal(tk_test_run(argv, NULL), 0); /* needs python3-botocore */
	}
	assert_int_equal(tk_read_file(out, 1 << 20, &text, &len, &err), TK_OK);
	line = text;
	for (i = 0; i < TK_ARRAY_LEN(cases); i++) {
		const struct sigcase *k = &cases[i];
		struct tk_aws_creds c = {AK, SK, (char *)k->token, 0};
		struct tk_aws_sigv4_req r = {k->method, k->host, k->path_and_query, k->service, k->region,
					     k->headers, k->body, strlen(k->body), WHEN};
		char authz[2048], date[17];
		char *nl = strchr(line, '\n');
		assert_non_null(nl);
		*nl = '\0';
		assert_int_equal(tk_aws_sigv4_sign(&r, &c, authz, sizeof(authz), date, &err), TK_OK);
		assert_string_equal(date, "20261123T160000Z");
		print_message("case %zu: %s\n", i, line);
		assert_string_equal(authz, line);
		line = nl + 1;
	}
	free(text);
	free(json);
	free(in);
	cJSON_Delete(arr);
	tk_test_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_vector),
		cmocka_unit_test(test_matches_botocore),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
