/*
 * demo_cloud.c - the demo partner's cloud account: an in-process fake AWS
 * endpoint on 127.0.0.1 that answers, in the real wire formats, the IAM
 * calls (GetAccountSummary, GenerateCredentialReport, GetCredentialReport,
 * ListVirtualMFADevices) and the posture checks' calls (STS, EventBridge,
 * CloudTrail, GuardDuty, EC2, S3 and S3 Control, RDS, AWS Backup, Cognito).
 * Its root user has no MFA, an active access key and a recent console login;
 * one IAM console user lacks MFA. Its posture is otherwise clean: a logging
 * multi-region trail, GuardDuty on, no open security groups, Block Public
 * Access on, no buckets, databases or user pools, one backup plan. The demo
 * writes a throwaway credentials file (mode 600) with made-up keys.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "demo.h"

#define IAM_NS "https://iam.amazonaws.com/doc/2010-05-08/"

struct cloud_demo {
	struct tk_httpd *srv;
	char *report_b64;
};

static char *b64(const char *s)
{
	return tk_b64_encode((const unsigned char *)s, strlen(s), TK_B64_STD);
}

static void reply(int fd, int status, const char *body)
{
	char head[256];
	int hl = snprintf(head, sizeof(head),
			  "HTTP/1.1 %d %s\r\nContent-Type: text/xml\r\nContent-Length: %zu\r\n"
			  "x-amzn-RequestId: 7a62c49f-347e-4fc4-9331-6e8eEXAMPLE\r\nConnection: close\r\n\r\n",
			  status, status == 200 ? "OK" : "Bad Request", strlen(body));
	(void)!write(fd, head, (size_t)hl);
	(void)!write(fd, body, strlen(body));
}

static void respond(struct cloud_demo *d, int fd, const char *action)
{
	struct tk_buf b;
	const char *meta = "  <ResponseMetadata>\n    <RequestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestId>\n"
			   "  </ResponseMetadata>\n";
	char now[32];
	tk_rfc3339(time(NULL), now);
	tk_buf_init(&b, 1 << 20);
	if (strcmp(action, "GetAccountSummary") == 0) {
		tk_buf_printf(&b,
			      "<GetAccountSummaryResponse xmlns=\"" IAM_NS "\">\n  <GetAccountSummaryResult>\n"
			      "    <SummaryMap>\n"
			      "      <entry><key>Users</key><value>2</value></entry>\n"
			      "      <entry><key>AccountMFAEnabled</key><value>0</value></entry>\n"
			      "      <entry><key>AccountAccessKeysPresent</key><value>1</value></entry>\n"
			      "      <entry><key>MFADevicesInUse</key><value>1</value></entry>\n"
			      "    </SummaryMap>\n  </GetAccountSummaryResult>\n%s</GetAccountSummaryResponse>\n",
			      meta);
	} else if (strcmp(action, "GenerateCredentialReport") == 0) {
		tk_buf_printf(&b,
			      "<GenerateCredentialReportResponse xmlns=\"" IAM_NS "\">\n"
			      "  <GenerateCredentialReportResult>\n    <State>COMPLETE</State>\n"
			      "  </GenerateCredentialReportResult>\n%s</GenerateCredentialReportResponse>\n",
			      meta);
	} else if (strcmp(action, "GetCredentialReport") == 0) {
		tk_buf_printf(&b,
			      "<GetCredentialReportResponse xmlns=\"" IAM_NS "\">\n  <GetCredentialReportResult>\n"
			      "    <Content>%s</Content>\n    <ReportFormat>text/csv</ReportFormat>\n"
			      "    <GeneratedTime>%s</GeneratedTime>\n  </GetCredentialReportResult>\n%s"
			      "</GetCredentialReportResponse>\n",
			      d->report_b64, now, meta);
	} else if (strcmp(action, "ListVirtualMFADevices") == 0) {
		tk_buf_printf(&b,
			      "<ListVirtualMFADevicesResponse xmlns=\"" IAM_NS "\">\n  <ListVirtualMFADevicesResult>\n"
			      "    <VirtualMFADevices/>\n    <IsTruncated>false</IsTruncated>\n"
			      "  </ListVirtualMFADevicesResult>\n%s</ListVirtualMFADevicesResponse>\n",
			      meta);
	} else if (strcmp(action, "GetAccountPasswordPolicy") == 0) {
		tk_buf_printf(&b,
			      "<GetAccountPasswordPolicyResponse xmlns=\"" IAM_NS "\">\n"
			      "  <GetAccountPasswordPolicyResult>\n    <PasswordPolicy>\n"
			      "      <MinimumPasswordLength>14</MinimumPasswordLength>\n"
			      "      <PasswordReusePrevention>24</PasswordReusePrevention>\n    </PasswordPolicy>\n"
			      "  </GetAccountPasswordPolicyResult>\n%s</GetAccountPasswordPolicyResponse>\n",
			      meta);
	} else if (strcmp(action, "GetCallerIdentity") == 0) {
		tk_buf_printf(&b,
			      "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
			      "  <GetCallerIdentityResult>\n    <Arn>arn:aws:iam::111122223333:user/bank-audit</Arn>\n"
			      "    <UserId>AIDADEMODEMODEMO0000</UserId>\n    <Account>111122223333</Account>\n"
			      "  </GetCallerIdentityResult>\n%s</GetCallerIdentityResponse>\n",
			      meta);
	} else if (strcmp(action, "DescribeSecurityGroups") == 0 || strcmp(action, "DescribeNetworkAcls") == 0 ||
		   strcmp(action, "DescribeSnapshots") == 0 || strcmp(action, "GetEbsEncryptionByDefault") == 0) {
		const char *inner = strcmp(action, "DescribeSecurityGroups") == 0 ? "<securityGroupInfo/>"
				    : strcmp(action, "DescribeNetworkAcls") == 0  ? "<networkAclSet/>"
				    : strcmp(action, "DescribeSnapshots") == 0	  ? "<snapshotSet/>"
				    : "<ebsEncryptionByDefault>true</ebsEncryptionByDefault>";
		tk_buf_printf(&b,
			      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<%sResponse "
			      "xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>7a62c49f</requestId>%s"
			      "</%sResponse>\n",
			      action, inner, action);
	} else if (strcmp(action, "DescribeDBInstances") == 0 || strcmp(action, "DescribeDBSnapshots") == 0) {
		const char *what = strcmp(action, "DescribeDBInstances") == 0 ? "DBInstances" : "DBSnapshots";
		tk_buf_printf(&b,
			      "<%sResponse xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\">\n  <%sResult>\n"
			      "    <%s/>\n  </%sResult>\n%s</%sResponse>\n",
			      action, action, what, action, meta, action);
	} else {
		tk_buf_printf(&b,
			      "<ErrorResponse xmlns=\"" IAM_NS "\">\n  <Error>\n    <Type>Sender</Type>\n"
			      "    <Code>InvalidAction</Code>\n    <Message>Could not find operation for version "
			      "2010-05-08</Message>\n  </Error>\n  <RequestId>7a62c49f</RequestId>\n</ErrorResponse>\n");
		reply(fd, 400, b.data ? b.data : "");
		tk_buf_free(&b);
		return;
	}
	reply(fd, 200, b.data ? b.data : "");
	tk_buf_free(&b);
}

static char *find_ci(char *h, const char *n)
{
	size_t nl = strlen(n);
	for (; *h; h++)
		if (strncasecmp(h, n, nl) == 0)
			return h;
	return NULL;
}

/* A 200 answer with `body` of content type `ctype`. */
static void reply_body(int fd, const char *ctype, const char *body)
{
	char head[256];
	int hl = snprintf(head, sizeof(head),
			  "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
			  ctype, strlen(body));
	(void)!write(fd, head, (size_t)hl);
	(void)!write(fd, body, strlen(body));
}

/*
 * The JSON-protocol calls (by X-Amz-Target) and the REST ones (by method and
 * path) of the posture checks; 0 when the request is a Query API call.
 */
static int respond_json_rest(int fd, const char *req, const char *eoh)
{
	static const struct {
		const char *target, *body;
	} json[] = {
	    {"AWSEvents.ListRules", "{\"Rules\": []}"}, /* no rule watches root */
	    {"com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.DescribeTrails",
	     "{\"trailList\": [{\"Name\": \"org-trail\", \"TrailARN\": "
	     "\"arn:aws:cloudtrail:ap-northeast-1:111122223333:trail/org-trail\", \"HomeRegion\": \"ap-northeast-1\", "
	     "\"IsMultiRegionTrail\": true, \"LogFileValidationEnabled\": true}]}"},
	    {"com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.GetTrailStatus", "{\"IsLogging\": true}"},
	    {"AWSCognitoIdentityProviderService.ListUserPools", "{\"UserPools\": []}"},
	};
	static const struct {
		const char *prefix, *ctype, *body;
	} rest[] = {
	    {"GET /detector/", "application/json", "{\"status\": \"ENABLED\"}"},
	    {"GET /detector", "application/json", "{\"detectorIds\": [\"12abc34d567e8fa901bc2d34e56789f0\"]}"},
	    {"GET /backup/plans/", "application/json",
	     "{\"BackupPlansList\": [{\"BackupPlanName\": \"daily\", \"BackupPlanId\": \"demo-plan\"}]}"},
	    {"GET /v20180820/configuration/publicAccessBlock", "application/xml",
	     "<PublicAccessBlockConfiguration><BlockPublicAcls>true</BlockPublicAcls><IgnorePublicAcls>true"
	     "</IgnorePublicAcls><BlockPublicPolicy>true</BlockPublicPolicy><RestrictPublicBuckets>true"
	     "</RestrictPublicBuckets></PublicAccessBlockConfiguration>"},
	};
	const char *t = find_ci((char *)req, "\r\nX-Amz-Target:");
	size_t i;
	if (t && t < eoh) {
		t += 16;
		while (*t == ' ')
			t++;
		for (i = 0; i < sizeof(json) / sizeof(json[0]); i++)
			if (strncmp(t, json[i].target, strlen(json[i].target)) == 0) {
				reply_body(fd, "application/x-amz-json-1.1", json[i].body);
				return 1;
			}
		return 0;
	}
	for (i = 0; i < sizeof(rest) / sizeof(rest[0]); i++)
		if (strncmp(req, rest[i].prefix, strlen(rest[i].prefix)) == 0) {
			reply_body(fd, rest[i].ctype, rest[i].body);
			return 1;
		}
	/* S3 ListBuckets: GET / (no Action= query) */
	if ((strncmp(req, "GET / ", 6) == 0 || strncmp(req, "GET /?", 6) == 0) && !strstr(req, "Action=")) {
		reply_body(fd, "application/xml",
			   "<ListAllMyBucketsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Owner><ID>demo"
			   "</ID></Owner><Buckets></Buckets></ListAllMyBucketsResult>");
		return 1;
	}
	return 0;
}

static void serve(struct cloud_demo *d, int fd)
{
	char req[16384], action[64] = "";
	size_t have = 0, need = 0;
	struct timeval tv = {5, 0};
	char *eoh = NULL, *p;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (have < sizeof(req) - 1) {
		ssize_t n = read(fd, req + have, sizeof(req) - 1 - have);
		if (n <= 0)
			return;
		have += (size_t)n;
		req[have] = '\0';
		if (!eoh && (eoh = strstr(req, "\r\n\r\n"))) {
			char *cl = find_ci(req, "\r\nContent-Length:");
			long long v = 0;
			if (cl && cl < eoh)
				v = strtoll(cl + 17, NULL, 10);
			need = (size_t)(eoh + 4 - req) + (size_t)(v > 0 && v < 8000 ? v : 0);
		}
		if (eoh && have >= need)
			break;
	}
	if (!eoh)
		return;
	if (respond_json_rest(fd, req, eoh))
		return;
	/* Action=... in the form body (POST) or the query string (GET) */
	p = strstr(eoh + 4, "Action=");
	if (!p) {
		p = strstr(req, "Action=");
		if (p && p > eoh)
			p = NULL;
	}
	if (p) {
		size_t i = 0;
		p += 7;
		while (i + 1 < sizeof(action) && ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')))
			action[i++] = *p++;
		action[i] = '\0';
	}
	respond(d, fd, action);
}

/* tk_httpd's per-connection handler: one IAM Query API request. */
static void serve_conn(void *arg, int fd)
{
	serve(arg, fd);
}

static void cloud_demo_stop(void *state)
{
	struct cloud_demo *d = state;
	if (!d)
		return;
	tk_httpd_stop(d->srv);
	free(d->report_b64);
	free(d);
}

static int cloud_demo_start(struct tk_demo_env *env, cJSON *probes, void **state, struct tk_err *err)
{
	struct cloud_demo *d = calloc(1, sizeof(*d));
	struct tk_httpd_config hc;
	char report[2048], path[4096], last[32], url[64];
	cJSON *sec, *accts, *a;
	int rc;
	*state = NULL;
	if (!d)
		return tk_seterr(err, TK_ERR_NOMEM, "out of memory");
	tk_rfc3339(time(NULL) - 5 * 86400, last);
	snprintf(report, sizeof(report),
		 "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"
		 "password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,"
		 "access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,"
		 "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
		 "access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,"
		 "cert_2_active,cert_2_last_rotated\n"
		 "<root_account>,arn:aws:iam::111122223333:root,2019-04-01T00:00:00+00:00,not_supported,%s,"
		 "not_supported,not_supported,false,true,2019-04-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,"
		 "false,N/A,false,N/A\n"
		 "ops-admin,arn:aws:iam::111122223333:user/ops-admin,2020-01-01T00:00:00+00:00,true,%s,N/A,N/A,"
		 "true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"
		 "dev-tanaka,arn:aws:iam::111122223333:user/dev-tanaka,2021-01-01T00:00:00+00:00,true,%s,N/A,N/A,"
		 "false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n",
		 last, last, last);
	if (!(d->report_b64 = b64(report))) {
		rc = tk_seterr(err, TK_ERR_NOMEM, "out of memory");
		goto fail;
	}
	memset(&hc, 0, sizeof(hc));
	hc.addr = "127.0.0.1";
	hc.serve = serve_conn;
	hc.serve_arg = d;
	if ((rc = tk_demo_httpd_start(env, TK_DEMO_CLOUD_IAM, &hc, &d->srv, err)))
		goto fail;
	/* made-up demo keys (the fake endpoint does not check them) */
	snprintf(path, sizeof(path), "%s/aws-credentials", env->dir);
	{
		static const char creds[] = "[audit]\naws_access_key_id = AKIADEMODEMODEMO0000\n"
					    "aws_secret_access_key = demo/secret/not/a/real/key/000000000000\n";
		if ((rc = tk_write_file_atomic(path, creds, sizeof(creds) - 1, 0600, err)))
			goto fail;
	}
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", tk_httpd_port(d->srv));
	sec = cJSON_AddObjectToObject(probes, "cloud");
	accts = cJSON_AddArrayToObject(sec, "accounts");
	a = cJSON_CreateObject();
	cJSON_AddStringToObject(a, "provider", "aws");
	cJSON_AddStringToObject(a, "name", "demo-prod");
	cJSON_AddStringToObject(a, "endpoint", url);
	cJSON_AddStringToObject(a, "region", "ap-northeast-1");
	cJSON_AddStringToObject(a, "credentials_file", "aws-credentials");
	cJSON_AddStringToObject(a, "profile", "audit");
	cJSON_AddNumberToObject(a, "request_timeout_s", 5);
	cJSON_AddItemToArray(accts, a);
	*state = d;
	return TK_OK;
fail:
	cloud_demo_stop(d);
	return rc;
}

const struct tk_demo_part tk_demo_cloud = {
	.name = "cloud",
	.start = cloud_demo_start,
	.stop = cloud_demo_stop,
};
