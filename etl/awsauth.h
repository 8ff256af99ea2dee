/*
 * awsauth.h: AWS-backed credentials for the job, with the standard credential chain
 * (infra/aws_creds.h): secrets read from AWS Secrets Manager (`{ aws_secret: ARN,
 * json_key: K }`) and RDS IAM authentication tokens (`iam_auth: true`, `anonetl db-token`).
 *
 * Region: a secret's comes from its ARN; a token's from the RDS host name
 * (db.xyz.eu-west-2.rds.amazonaws.com), else from the config's aws.region (set once with
 * awsauth_set_region), else AWS_REGION / AWS_DEFAULT_REGION / the profile's region.
 * Endpoint: AWS_ENDPOINT_URL_SECRETSMANAGER, else AWS_ENDPOINT_URL, else the regional
 * https endpoint (a VPC interface endpoint is reached through its private DNS name).
 *
 * Test hook: ANONETL_FIXED_TIME=SECONDS (a Unix time) makes awsauth_now, and so every
 * token, use that signing time instead of the clock. Tests only: a token signed in the
 * past is refused by RDS once its 15 minutes are over.
 *
 * Values (secrets, tokens) are wiped after use and never appear in messages.
 */
#ifndef AWSAUTH_H
#define AWSAUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "anonymise/abuf.h"
#include "anonymise/config.h"
#include "etl/secret.h"

/* The config's aws.region (NULL: none); copied. Call before any thread starts. */
void awsauth_set_region(const char *configured);

/* time(NULL), or ANONETL_FIXED_TIME when set (see above). */
time_t awsauth_now(void);

/* Resolve a CFG_SECRET_AWS reference into out (reset first). `what` names it in errors.
 * On false, *why says whose problem it is (etl/secret.h): the secret named, the IAM
 * policy on it and its content are the config's; the endpoint, the credentials, the
 * clock, throttling and AWS's own failures are the environment's. */
bool awsauth_secret(const struct cfg_secret *s, const char *what, struct abuf *out,
                    enum secret_failure *why, struct anon_error *err) ANON_MUST_CHECK;

/* A host an IAM token can be made for: one TCP host name or address (not empty, not a
 * unix socket directory, not a list). */
bool awsauth_token_host_ok(const char *host);

/*
 * An RDS IAM token for user@host:port, signed at `when` with credentials from the chain.
 * region may be NULL (see above). `what` names the database in errors ("source").
 * *why (may be NULL): SECRET_FAIL_UNAVAILABLE when no AWS credentials could be obtained,
 * SECRET_FAIL_CONFIG for what was asked (a host, user or region a token cannot be made
 * for, no region found).
 */
bool awsauth_db_token(const char *host, int port, const char *user, const char *region, time_t when,
                      const char *what, char *out, size_t outsz, enum secret_failure *why,
                      struct anon_error *err) ANON_MUST_CHECK;

#endif
