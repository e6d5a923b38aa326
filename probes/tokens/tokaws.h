/*
 * tokaws.h - the tokens probe's "aws" store: encryption at rest behind the
 * partner's AWS data stores (RDS StorageEncrypted, DynamoDB SSEDescription,
 * S3 default bucket encryption, KMS customer-key rotation), read through the
 * cloud probe's AWS client (aws.h) with the account configured there.
 */
#ifndef TK_TOKAWS_H
#define TK_TOKAWS_H

#include <cjson/cJSON.h>

#include "aws.h"
#include "probe.h"

/*
 * Resolve probes.cloud.accounts[idx] (an AWS API account) and parse it.
 * `ep` is the store's JSON path for messages.
 */
int tk_tokaws_configure(const struct tk_cfgctx *cc, long long idx, const char *ep, struct tk_aws_account **out,
			struct tk_err *err);

/* Read the four services into facts of obs; per-service failures are listed in obs "errors".
 * Returns TK_OK unless every service failed (err then holds the first failure). */
int tk_tokaws_run(struct tk_aws_account *a, struct tk_runctx *ctx, cJSON *obs, struct tk_err *err);

#endif
