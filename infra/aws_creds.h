/*
 * aws_creds.h: AWS credentials and the standard provider chain.
 *
 * Order (as the AWS SDKs): 1. environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN); 2. web identity (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN
 * [+ AWS_ROLE_SESSION_NAME], STS AssumeRoleWithWebIdentity, unsigned); 3. shared files
 * (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials, then AWS_CONFIG_FILE or
 * ~/.aws/config "[profile NAME]"; profile from the options, else AWS_PROFILE, else
 * "default"); 4. ECS container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI against
 * http://169.254.170.2, or ANONETL_ECS_CREDENTIALS_HOST instead of that host for tests;
 * or AWS_CONTAINER_CREDENTIALS_FULL_URI, http only to loopback/ECS hosts; header
 * Authorization from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE or
 * AWS_CONTAINER_AUTHORIZATION_TOKEN); 5. EC2 instance metadata, IMDSv2 only (endpoint
 * AWS_EC2_METADATA_SERVICE_ENDPOINT, default http://169.254.169.254; skipped when
 * AWS_EC2_METADATA_DISABLED=true).
 *
 * A source that is not configured is passed over; a source that is configured but fails
 * (a half-set environment, an unreadable token file, a 403 from STS) stops the chain with
 * its error, as the SDKs do (IMDS being last, its failure reads "no credentials found").
 * Temporary credentials carry an expiration; the provider re-fetches from the source
 * that answered when fewer than AWS_CREDS_REFRESH_MARGIN seconds remain.
 * Secrets are wiped (OPENSSL_cleanse) on free and never appear in error messages.
 */
#ifndef AWS_CREDS_H
#define AWS_CREDS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "infra/aws_profile.h" /* aws_ini_get, for the tests and the fuzz target */
#include "infra/infra_error.h"

struct aws_http_options; /* infra/aws_http.h */

#define AWS_CREDS_REFRESH_MARGIN 300 /* seconds before expiry when a refresh happens */

struct aws_credentials {
    char access_key_id[128];
    char secret_access_key[128];
    char session_token[4096]; /* "" for long-term keys */
    time_t expiration;        /* 0: does not expire */
    char source[32];          /* "env", "web-identity", "shared-credentials", "shared-config",
                                 "container", "imds", "static" */
};

/* Wipe every field (OPENSSL_cleanse). */
void aws_credentials_wipe(struct aws_credentials *c);

/* Fill c from the three strings (token may be NULL or ""); false, with a message that
 * holds no value, when the key id or secret is missing or a string is overlong or has a
 * control character or blank. */
bool aws_credentials_fill(struct aws_credentials *c, const char *akid, const char *secret,
                          const char *token, const char *source,
                          struct infra_error *err) INFRA_MUST_CHECK;

/* ISO 8601 UTC time "YYYY-MM-DDTHH:MM:SS[.fff](Z|+HH:MM|-HH:MM)" to time_t. */
bool aws_iso8601_parse(const char *s, time_t *out) INFRA_MUST_CHECK;

struct aws_creds_options {
    const char *profile;                 /* NULL: AWS_PROFILE, else "default"; a profile named
                                            here (like the CLI's --profile) also passes over
                                            the environment's keys, as botocore does */
    const char *region;                  /* for STS (web identity); NULL: aws_region_resolve,
                                            else us-east-1 */
    const char *sts_endpoint;            /* NULL: aws_endpoint_resolve("sts") */
    const struct aws_http_options *http; /* NULL: 1 s connect, 5 s an attempt, 3 attempts,
                                            AWS_CALL_DEADLINE_MS for the whole call */
};

struct aws_creds_provider;

/* The chain. Nothing is fetched until the first aws_creds_get. opts may be NULL. */
struct aws_creds_provider *aws_creds_chain_new(const struct aws_creds_options *opts,
                                               struct infra_error *err);
/* Fixed keys (token may be NULL), e.g. for tests; source "static". */
struct aws_creds_provider *aws_creds_static_new(const char *access_key_id,
                                                const char *secret_access_key,
                                                const char *session_token, struct infra_error *err);
void aws_creds_provider_free(struct aws_creds_provider *p);

/*
 * Current credentials, fetched on first use and re-fetched when they are within
 * AWS_CREDS_REFRESH_MARGIN seconds of expiry. Thread-safe. *out is a copy: the caller
 * wipes it (aws_credentials_wipe) when done. On failure *out is wiped.
 */
bool aws_creds_get(struct aws_creds_provider *p, struct aws_credentials *out,
                   struct infra_error *err) INFRA_MUST_CHECK;

/*
 * Region: configured (non-NULL, non-empty), else AWS_REGION, else AWS_DEFAULT_REGION,
 * else "region" of the profile in the config file. False (with a message) if none.
 */
bool aws_region_resolve(const char *configured, const char *profile, char *out, size_t outsz,
                        struct infra_error *err) INFRA_MUST_CHECK;

#endif
