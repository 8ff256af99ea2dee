/*
 * aws_sts.h: the two STS calls the credential chain makes.
 *
 *   - AssumeRole, signed with the source credentials (a profile's role_arn with
 *     source_profile or credential_source);
 *   - AssumeRoleWithWebIdentity, unsigned, with the token read from a file (EKS/IRSA,
 *     AWS_WEB_IDENTITY_TOKEN_FILE or a profile's web_identity_token_file).
 *
 * Both go to the STS endpoint of the configured region: target->endpoint when given,
 * else aws_endpoint_resolve_profile("sts") (AWS_ENDPOINT_URL_STS, the profile's services
 * section, AWS_ENDPOINT_URL, the profile's endpoint_url, https://sts.<region>.amazonaws.com),
 * through the retrying client of infra/aws_http.h. An STS refusal names the role and the
 * STS error code and message; tokens, keys and the web identity token are never in it.
 */
#ifndef AWS_STS_H
#define AWS_STS_H

#include <stdbool.h>
#include <stddef.h>

#include "infra/aws_creds.h"
#include "infra/infra_error.h"

struct aws_http_options; /* infra/aws_http.h */

struct aws_sts_target {
    const char *region;                  /* signing region; also picks the default endpoint */
    const char *endpoint;                /* NULL/"": resolved as above */
    const char *profile;                 /* for the services section; NULL: AWS_PROFILE */
    const struct aws_http_options *http; /* may be NULL */
};

struct aws_sts_role {
    const char *role_arn;
    const char *session_name; /* NULL: "anonetl-<unix time>" */
    const char *external_id;  /* NULL: none */
    int duration_seconds;     /* 0: STS's default (3600) */
};

/* AssumeRole signed with *source; *out gets the temporary credentials (source "assume-role"). */
bool aws_sts_assume_role(const struct aws_sts_target *t, const struct aws_credentials *source,
                         const struct aws_sts_role *role, struct aws_credentials *out,
                         struct infra_error *err) INFRA_MUST_CHECK;

/* AssumeRoleWithWebIdentity with the token in token_file; source names the origin of the
 * settings in messages and becomes out->source ("web-identity"). */
bool aws_sts_assume_role_web_identity(const struct aws_sts_target *t, const char *token_file,
                                      const struct aws_sts_role *role, const char *source,
                                      struct aws_credentials *out,
                                      struct infra_error *err) INFRA_MUST_CHECK;

/* The <Credentials> of an <ACTION>Response/<ACTION>Result document (exposed for tests). */
bool aws_sts_parse_credentials(const char *body, size_t len, const char *action, const char *source,
                               struct aws_credentials *out,
                               struct infra_error *err) INFRA_MUST_CHECK;

#endif
