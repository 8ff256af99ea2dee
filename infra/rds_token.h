/*
 * rds_token.h: RDS IAM authentication tokens, the password anonetl sends when a database
 * has `iam_auth: true` (and what `anonetl db-token` prints).
 *
 * A token is a SigV4 presigned GET for service "rds-db": "HOST:PORT/?Action=connect&
 * DBUser=USER&X-Amz-Algorithm=...&X-Amz-Signature=..." with X-Amz-Expires=900 (valid for
 * 15 minutes), byte for byte what botocore's generate_db_auth_token and `aws rds
 * generate-db-auth-token` produce for the same credentials and time (parameter order
 * included). Nothing here does I/O: the caller passes the credentials and the time.
 * The token is a bearer credential for 15 minutes: the caller wipes it after use and
 * never logs it.
 */
#ifndef RDS_TOKEN_H
#define RDS_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "infra/infra_error.h"
#include "infra/sigv4.h"

#define RDS_TOKEN_EXPIRES 900 /* seconds, as the AWS tools */
#define RDS_TOKEN_MAX 8192    /* a token with a long session token fits */

struct rds_token_request {
    const char *host;   /* the database endpoint name, as the client connects to it */
    int port;           /* 1..65535 */
    const char *user;   /* the database user (DBUser) */
    const char *region; /* the database's region, e.g. "eu-west-2" */
    time_t when;        /* signing time (UTC seconds): time(NULL), or a fixed one in tests */
};

/*
 * Build the token into out (NUL-terminated). key->session_token may be NULL or "".
 * False (with a message naming no secret) on bad input or when out is too small.
 */
bool rds_token_build(const struct rds_token_request *req, const struct sigv4_key *key, char *out,
                     size_t outsz, struct infra_error *err) INFRA_MUST_CHECK;

/*
 * The region in an RDS endpoint name ("db.abc123.eu-west-2.rds.amazonaws.com" ->
 * "eu-west-2"; also ".rds.amazonaws.com.cn"). False when host is not such a name.
 */
bool rds_token_region_from_host(const char *host, char *out, size_t outsz);

#endif
