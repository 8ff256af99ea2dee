/*
 * awsauth.c: Secrets Manager secrets and RDS IAM tokens for the job (see awsauth.h).
 *
 * A credential chain is built per call and freed at once: secrets are resolved a handful
 * of times per run (the key once, a password per connection), so caching credentials
 * process-wide would buy little and keep keys in memory for the whole run.
 */
#include "etl/awsauth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infra/aws_creds.h"
#include "infra/aws_http.h"
#include "infra/rds_token.h"
#include "infra/secretsmanager.h"

static char config_region[64];

void awsauth_set_region(const char *configured)
{
    snprintf(config_region, sizeof(config_region), "%s", configured ? configured : "");
}

time_t awsauth_now(void)
{
    const char *env = getenv("ANONETL_FIXED_TIME");
    char *end;
    long long t;

    if (env && *env >= '0' && *env <= '9') {
        errno = 0;
        t = strtoll(env, &end, 10);
        if (errno == 0 && *end == '\0' && t > 0)
            return (time_t)t;
    }
    return time(NULL);
}

/* The configured region, else the environment's or the profile's. */
static bool default_region(char *out, size_t outsz, struct infra_error *ie)
{
    return aws_region_resolve(config_region[0] ? config_region : NULL, NULL, out, outsz, ie);
}

static struct aws_creds_provider *chain_for(const char *region, struct infra_error *ie)
{
    struct aws_creds_options o = {.region = region};

    return aws_creds_chain_new(&o, ie);
}

/* The value itself, or its json_key, appended to out. */
static bool pick_value(const struct cfg_secret *s, const char *what, const char *value, size_t len,
                       bool binary, struct abuf *out, struct anon_error *err)
{
    struct infra_error ie = {{0}};
    char *picked;
    size_t plen;

    if (!s->json_key) {
        abuf_append(out, value, len);
        return true;
    }
    if (binary) {
        anon_error_set(err, "%s: aws_secret %s: json_key %s given, but the secret is binary", what,
                       s->ref, s->json_key);
        return false;
    }
    if (!secretsmanager_json_key(value, len, s->json_key, &picked, &plen, &ie)) {
        anon_error_set(err, "%s: aws_secret %s: %s", what, s->ref, ie.msg);
        return false;
    }
    abuf_append(out, picked, plen);
    secretsmanager_value_free(picked, plen);
    return true;
}

/* A Secrets Manager error: the config's (the secret, its policy, its content) or not. */
static enum secret_failure secret_failure_of(enum secretsmanager_error_kind k)
{
    return secretsmanager_error_is_config(k) ? SECRET_FAIL_CONFIG : SECRET_FAIL_UNAVAILABLE;
}

bool awsauth_secret(const struct cfg_secret *s, const char *what, struct abuf *out,
                    enum secret_failure *why, struct anon_error *err)
{
    const struct aws_http_options bounded = AWS_HTTP_OPTIONS_BOUNDED;
    enum secretsmanager_error_kind kind = SECRETSMANAGER_ERR_REQUEST;
    struct infra_error ie = {{0}};
    struct aws_creds_provider *creds = NULL;
    struct aws_client *client = NULL;
    char region[64], *value = NULL;
    size_t len = 0;
    bool binary = false, ok = false;

    *why = SECRET_FAIL_CONFIG; /* no region, a bad endpoint URL or profile: the config's */
    if (!secretsmanager_arn_region(s->ref, region, sizeof(region)) &&
        !default_region(region, sizeof(region), &ie)) {
        anon_error_set(err, "%s: aws_secret %s: no region in the ARN and none configured: %s", what,
                       s->ref, ie.msg);
        return false;
    }
    creds = chain_for(region, &ie);
    if (creds)
        client = aws_client_new(SECRETSMANAGER_SERVICE, region, NULL, creds, &bounded, &ie);
    if (!client) {
        anon_error_set(err, "%s: aws_secret %s: %s", what, s->ref, ie.msg);
        goto out;
    }
    if (!secretsmanager_get(client, s->ref, &value, &len, &binary, &kind, &ie)) {
        anon_error_set(err, "%s: %s", what, ie.msg);
        *why = secret_failure_of(kind);
        goto out;
    }
    ok = pick_value(s, what, value, len, binary, out, err);
out:
    secretsmanager_value_free(value, len);
    aws_client_free(client);
    aws_creds_provider_free(creds);
    return ok;
}

/* The signing region of a token: given, else the RDS host's, else the default. */
static bool token_region(const char *host, const char *given, char *out, size_t outsz,
                         struct infra_error *ie)
{
    if (given && *given) {
        snprintf(out, outsz, "%s", given);
        return true;
    }
    if (rds_token_region_from_host(host, out, outsz))
        return true;
    return default_region(out, outsz, ie);
}

bool awsauth_token_host_ok(const char *host)
{
    return host && *host && host[0] != '/' && host[0] != '@' && !strchr(host, ',');
}

bool awsauth_db_token(const char *host, int port, const char *user, const char *region, time_t when,
                      const char *what, char *out, size_t outsz, enum secret_failure *why,
                      struct anon_error *err)
{
    struct infra_error ie = {{0}};
    struct aws_creds_provider *creds;
    struct aws_credentials cr;
    enum secret_failure why_unused;
    char reg[64];
    bool ok;

    if (!why)
        why = &why_unused;
    *why = SECRET_FAIL_CONFIG; /* the host, user or region asked for: the caller's */
    if (!awsauth_token_host_ok(host)) {
        anon_error_set(err, "%s: iam_auth needs one TCP host name (not a unix socket or a list)",
                       what);
        return false;
    }
    if (!user || !*user) {
        anon_error_set(err, "%s: iam_auth needs a user", what);
        return false;
    }
    if (!token_region(host, region, reg, sizeof(reg), &ie)) {
        anon_error_set(err, "%s: iam_auth: no region for %s: %s", what, host, ie.msg);
        return false;
    }
    creds = chain_for(reg, &ie);
    if (!creds || !aws_creds_get(creds, &cr, &ie)) {
        anon_error_set(err, "%s: iam_auth: AWS credentials: %s", what, ie.msg);
        /* not found or not obtained: the environment's, as for a secret (operations.md) */
        if (creds)
            *why = SECRET_FAIL_UNAVAILABLE;
        aws_creds_provider_free(creds);
        return false;
    }
    struct rds_token_request req = {host, port, user, reg, when};
    struct sigv4_key key = {cr.access_key_id, cr.secret_access_key,
                            cr.session_token[0] ? cr.session_token : NULL};
    ok = rds_token_build(&req, &key, out, outsz, &ie);
    if (!ok)
        anon_error_set(err, "%s: iam_auth: %s", what, ie.msg);
    aws_credentials_wipe(&cr);
    aws_creds_provider_free(creds);
    return ok;
}
