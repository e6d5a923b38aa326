/*
 * aws.h - a small, reusable AWS client: SigV4 signing, credentials (env,
 * shared-credentials INI profile, STS AssumeRole with an external ID, session
 * tokens), signed requests over libcurl with throttling retry, and AWS error
 * bodies (XML Query and JSON protocols) turned into clear messages.
 *
 * Account config (one JSON object; the caller checks for unknown keys, see
 * tk_aws_account_keys):
 *   "endpoint":         base URL used for EVERY service (tests, VPC endpoints)
 *   "endpoints":        {"iam": URL, "sts": URL, "rds": URL, ...} per service
 *   "region":           default "us-east-1"
 *   "credentials_file": AWS shared-credentials INI (refused if group/world readable)
 *   "profile":          section of that file, default "default" (or $AWS_PROFILE)
 *   "role_arn", "external_id", "role_session_name": STS AssumeRole
 *   "request_timeout_s" (default 20), "max_retries" (default 4), "ca_file",
 *   "proxy" (http://, https:// or socks5h:// URL; default none, the environment is ignored)
 *   "s3_classification_tag": tag key the S3 posture check reads (default "DataClassification")
 * Without credentials_file the keys come from AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN.
 * Default endpoints: iam https://iam.amazonaws.com (signed for us-east-1),
 * sts https://sts.amazonaws.com, s3 https://s3.REGION.amazonaws.com,
 * s3-control https://ACCOUNT.s3-control.REGION.amazonaws.com, others
 * https://SERVICE.REGION.amazonaws.com; ".amazonaws.com.cn" for cn-* regions.
 *
 * Secrets (secret key, session token, access key id) never appear in errors
 * or logs: messages show a fingerprint (tk_fingerprint) at most.
 *
 * Typical use (another probe):
 *   struct tk_aws_account *a = NULL; struct tk_buf resp; long st;
 *   tk_aws_account_parse(acct_json, cc, "probes.x.accounts[0]", &a, err);
 *   tk_buf_init(&resp, 1 << 20);
 *   tk_aws_request(a, "dynamodb", "POST", "/", "application/x-amz-json-1.0",
 *                  "DynamoDB_20120810.DescribeTable", body, len, 10000, &st, &resp, err);
 *   ... st != 200: tk_aws_error_describe(st, resp.data, resp.len, msg, sizeof msg) ...
 *   tk_buf_free(&resp); tk_aws_account_free(a);
 * A tk_aws_account is not thread-safe: use one per thread.
 */
#ifndef TK_AWS_H
#define TK_AWS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <time.h>

#include "probe.h"
#include "tk.h"

struct tk_xml_node;

struct tk_aws_creds {
	char *access_key_id;
	char *secret_access_key;
	char *session_token;   /* may be NULL */
	time_t expires;        /* 0: no expiry known */
};
void tk_aws_creds_clear(struct tk_aws_creds *c); /* wipes and frees the strings */

/* ---- SigV4 ---- */
struct tk_aws_sigv4_req {
	const char *method;          /* "GET", "POST" */
	const char *host;            /* Host header value: "iam.amazonaws.com", "127.0.0.1:9100" */
	const char *path_and_query;  /* "/", "/?Action=...": query already URI-encoded */
	const char *service;         /* "iam" */
	const char *region;          /* "us-east-1" */
	const char *const *headers;  /* extra "Name: value" lines to sign, NULL-terminated (may be NULL) */
	const void *body;
	size_t body_len;
	time_t when;                 /* the signing time (explicit, for tests) */
};

/*
 * Sign: writes the Authorization header value into authz and X-Amz-Date
 * (YYYYMMDDTHHMMSSZ) into amz_date. Signs host, x-amz-date, the extra headers
 * and x-amz-security-token when the credentials carry a session token (the
 * caller must send exactly those headers). Same result as botocore's SigV4Auth.
 */
int tk_aws_sigv4_sign(const struct tk_aws_sigv4_req *r, const struct tk_aws_creds *c, char *authz,
		      size_t authz_size, char amz_date[17], struct tk_err *err);

/* ---- accounts ---- */
struct tk_aws_account;

/* The keys tk_aws_account_parse reads (NULL-terminated), for the caller's key check. */
extern const char *const tk_aws_account_keys[];

/*
 * Parse an account object; loads the credentials (file mode checked) but
 * makes no network call. `path` is the object's JSON path for messages.
 */
int tk_aws_account_parse(const cJSON *acct, const struct tk_cfgctx *cc, const char *path,
			 struct tk_aws_account **out, struct tk_err *err);
void tk_aws_account_free(struct tk_aws_account *a);
/* Where the credentials came from, e.g. "profile audit in aws/credentials" (no secrets). */
const char *tk_aws_account_source(const struct tk_aws_account *a);
/* The account's region ("us-east-1" by default). */
const char *tk_aws_account_region(const struct tk_aws_account *a);
/* The base URL for a service (no trailing slash). */
const char *tk_aws_account_endpoint(struct tk_aws_account *a, const char *service, char *buf, size_t size);
/* "sha256:..." fingerprint of the access key id in use (after AssumeRole: the session's). */
void tk_aws_account_key_fingerprint(const struct tk_aws_account *a, char out[24]);
/* Cancel hook: requests stop retrying and abort when it returns true. */
void tk_aws_account_set_cancel(struct tk_aws_account *a, bool (*cancelled)(void *), void *arg);

/*
 * One signed request to `service`. Assumes the role first when configured
 * (once; renewed near expiry). Retries throttling (HTTP 429, 503 and
 * Throttling/ThrottlingException/RequestLimitExceeded/TooManyRequests...)
 * and transport errors with exponential back-off, within timeout_ms overall.
 * Returns TK_OK when a response arrived (any status: check *http_status);
 * `resp` must be initialised by the caller (its max bounds the body).
 * content_type and amz_target may be NULL.
 */
int tk_aws_request(struct tk_aws_account *a, const char *service, const char *method,
		   const char *path_and_query, const char *content_type, const char *amz_target,
		   const char *body, size_t body_len, int timeout_ms, long *http_status, struct tk_buf *resp,
		   struct tk_err *err);

/* The same in another region than the account's (NULL: the account's), e.g. us-east-1 for global events. */
int tk_aws_request_in(struct tk_aws_account *a, const char *region, const char *service, const char *method,
		      const char *path_and_query, const char *content_type, const char *amz_target, const char *body,
		      size_t body_len, int timeout_ms, long *http_status, struct tk_buf *resp, struct tk_err *err);

/*
 * An S3 Control call (REST-XML, signed as service "s3") for account
 * `account_id` (12 digits) in `region` (NULL: the account's); sends
 * x-amz-account-id. Default host ACCOUNT.s3-control.REGION.amazonaws.com;
 * "endpoints": {"s3-control": URL} or "endpoint" replace it. Like tk_aws_request.
 */
int tk_aws_s3control_request(struct tk_aws_account *a, const char *region, const char *account_id,
			     const char *method, const char *path_and_query, int timeout_ms, long *http_status,
			     struct tk_buf *resp, struct tk_err *err);

/* The account id of the credentials in use (STS GetCallerIdentity, asked once). */
int tk_aws_account_id(struct tk_aws_account *a, int timeout_ms, char out[16], struct tk_err *err);

/* The account's "s3_classification_tag" (default "DataClassification"): the tag key naming a bucket's data class. */
const char *tk_aws_account_s3_tag(const struct tk_aws_account *a);

/*
 * A Query-protocol call (IAM, STS): POST form "Action=...&Version=...&params"
 * (params: "" or "&Key=value..." already encoded). On HTTP 200 parses the XML
 * into *doc (caller frees with tk_xml_free). On an AWS error returns
 * TK_ERR_AUTH (401/403, auth codes), TK_ERR_NOTFOUND (404), TK_ERR_PROTOCOL
 * (malformed body) or TK_ERR_NET, with "SERVICE Action: HTTP n Code: message
 * (request id R)" in err.
 */
int tk_aws_query(struct tk_aws_account *a, const char *service, const char *version, const char *action,
		 const char *params, int timeout_ms, struct tk_xml_node **doc, struct tk_err *err);

/* The same in another region than the account's (NULL: the account's), e.g. EC2 of one region. */
int tk_aws_query_in(struct tk_aws_account *a, const char *region, const char *service, const char *version,
		    const char *action, const char *params, int timeout_ms, struct tk_xml_node **doc,
		    struct tk_err *err);

/*
 * Describe an AWS error body (XML <Error><Code/><Message/>, or JSON
 * {"__type"/"code", "message"/"Message"}) in one line; *code gets the error
 * code ("" when none). Message text is escaped and bounded.
 */
void tk_aws_error_describe(long status, const char *body, size_t len, char *out, size_t size, char *code,
			   size_t code_size);

/*
 * The declared interface through which another probe (tokens) uses an AWS
 * account of the cloud probe: account `idx` of the cloud probe's accounts
 * (config "probes.cloud.accounts[idx]"), parsed with tk_aws_account_parse.
 * Only this function knows where the cloud probe keeps its accounts; an
 * offline account (credential_report) or another provider is refused with a
 * config error at `ref_path` (the referring key, e.g. "probes.tokens.stores[0].account").
 * *out is owned by the caller (tk_aws_account_free).
 */
int tk_aws_cloud_account(const struct tk_cfgctx *cc, long long idx, const char *ref_path,
			 struct tk_aws_account **out, struct tk_err *err);

#endif
