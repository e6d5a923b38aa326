/*
 * cloudaws.h - what the AWS posture checks share with the cloud probe.
 *
 * Owned by cloud.c (cloud_aws_json, cloud_unobs) and awschecks.c (the table).
 * A posture check is one function in its own file (aws_<service>.c) that
 * emits its own observation kind for the account's target; it adds one row
 * to cloud_aws_checks[] and nothing else to cloud.c.
 */
#ifndef TK_CLOUDAWS_H
#define TK_CLOUDAWS_H

#include <cjson/cJSON.h>

#include "aws.h"
#include "probe.h"

/*
 * One JSON-protocol (target != NULL) or REST-JSON call in `region`; the answer
 * parsed into *out (caller frees). Errors name the call, the HTTP status and
 * the AWS error code: TK_ERR_NET (throttled, 5xx), TK_ERR_AUTH (denied),
 * TK_ERR_PROTOCOL (anything else, or not a JSON object).
 */
int cloud_aws_json(struct tk_aws_account *aws, struct tk_runctx *ctx, const char *region, const char *svc,
		   const char *method, const char *path, const char *target, const char *op, const char *body,
		   cJSON **out, struct tk_err *err);

/*
 * Mark `field` of observation `o` as tried and not observed, with the reason:
 * the rules that read it become errors and their items incomplete.
 */
void cloud_unobs(cJSON *o, const char *field, const char *why);

/*
 * The next page's token from an answer's `tok` (NULL or "" on the last page): *out gets a copy,
 * percent-encoded when `encode` (for a query string), or NULL. A token longer than max_len bytes,
 * or a next page beyond max_pages, is an error naming `call`.
 */
int cloud_next_page(const char *tok, size_t max_len, int pages, int max_pages, bool encode, const char *call,
		    char **out, struct tk_err *err);

/* A posture check: observes one service of one AWS account in `region`. */
typedef void (*cloud_aws_check_fn)(struct tk_aws_account *aws, struct tk_runctx *ctx, const char *target,
				   const char *region);

/* aws_ec2.c: security groups and network ACLs open to the Internet, public EBS snapshots, EBS default encryption. */
void cloud_aws_ec2(struct tk_aws_account *aws, struct tk_runctx *ctx, const char *target, const char *region);
/* S3 (aws_s3.c): account and bucket Block Public Access, public buckets, versioning, encryption, tags. */
void cloud_aws_s3(struct tk_aws_account *aws, struct tk_runctx *ctx, const char *target, const char *region);
/* RDS instances and snapshots, AWS Backup plans: observation "cloud_database" (aws_rds.c). */
void cloud_aws_rds(struct tk_aws_account *aws, struct tk_runctx *ctx, const char *target, const char *region);
/* Cognito user pools (MFA, password length, risk-based auth): observation "cloud_userpool" (aws_cognito.c). */
void cloud_aws_cognito(struct tk_aws_account *aws, struct tk_runctx *ctx, const char *target, const char *region);

/* NULL-terminated; run in order after CloudTrail and GuardDuty. */
extern const cloud_aws_check_fn cloud_aws_checks[];

#endif
