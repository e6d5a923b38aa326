/*
 * awschecks.c - the AWS posture checks the cloud probe runs, in order.
 *
 * One row per check; each check lives in its own file and is declared here.
 */
#include "cloudaws.h"

const cloud_aws_check_fn cloud_aws_checks[] = {
	cloud_aws_ec2,
	cloud_aws_s3,
	cloud_aws_rds,
	cloud_aws_cognito,
	NULL,
};
