/*
 * aws_creds.c: the AWS credential provider chain, see aws_creds.h.
 *
 * Each source is a function that answers NOT_CONFIGURED (move on), OK or ERROR (stop):
 * the chain is the table `sources` in the SDK order. The provider remembers which source
 * answered and asks it again when the credentials near their expiry; if that refresh
 * fails while the old credentials are still valid, the old ones are kept (as the SDKs do).
 *
 * Parsing: STS answers XML (libxml2), the ECS and IMDS endpoints JSON (jansson), the
 * shared files a small strict INI dialect (aws_ini_get, bounded lines, no allocation).
 * Secrets live only in struct aws_credentials and in buffers wiped before they are freed.
 */
#include "infra/aws_creds.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/crypto.h>

#include "infra/aws_http.h"
#include "infra/aws_process.h"
#include "infra/aws_profile.h"
#include "infra/aws_sts.h"

#define TOKEN_FILE_MAX (16 * 1024)
#define ECS_DEFAULT_HOST "169.254.170.2"
#define IMDS_DEFAULT "http://169.254.169.254"

void aws_credentials_wipe(struct aws_credentials *c)
{
    if (c)
        OPENSSL_cleanse(c, sizeof(*c));
}

/* ---- small helpers ---- */

static const char *env(const char *name)
{
    const char *v = getenv(name);

    return v && *v ? v : NULL;
}

enum src_result { SRC_NOT_CONFIGURED, SRC_OK, SRC_ERROR };

static bool set_field(char *dst, size_t dstsz, const char *v)
{
    size_t n = v ? strlen(v) : 0;

    if (n == 0 || n >= dstsz)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x21 || v[i] == 0x7f)
            return false;
    memcpy(dst, v, n + 1);
    return true;
}

/* Fill c from three strings; false (no values in the message) if one is bad. */
bool aws_credentials_fill(struct aws_credentials *c, const char *akid, const char *secret,
                          const char *token, const char *source, struct infra_error *err)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->source, sizeof(c->source), "%s", source);
    if (!set_field(c->access_key_id, sizeof(c->access_key_id), akid) ||
        !set_field(c->secret_access_key, sizeof(c->secret_access_key), secret) ||
        (token && *token && !set_field(c->session_token, sizeof(c->session_token), token))) {
        aws_credentials_wipe(c);
        infra_error_set(err,
                        "credentials from %s: access key id, secret or token missing, "
                        "overlong or with invalid characters",
                        source);
        return false;
    }
    return true;
}

/* ISO 8601 UTC time "YYYY-MM-DDTHH:MM:SS[.fff](Z|+HH:MM|-HH:MM)" to time_t. */
bool aws_iso8601_parse(const char *s, time_t *out)
{
    static const int widths[] = {4, 2, 2, 2, 2, 2};
    static const char seps[] = {'-', '-', 'T', ':', ':', '\0'};
    int v[6];
    struct tm tm;
    long off = 0;

    if (!s)
        return false;
    for (int f = 0; f < 6; f++) {
        v[f] = 0;
        for (int i = 0; i < widths[f]; i++, s++) {
            if (!isdigit((unsigned char)*s))
                return false;
            v[f] = v[f] * 10 + (*s - '0');
        }
        if (f < 5 && *s++ != seps[f] && !(f == 2 && s[-1] == 't'))
            return false;
    }
    if (*s == '.')
        for (s++; isdigit((unsigned char)*s); s++) {
        }
    if ((*s == 'Z' || *s == 'z') && s[1] == '\0') {
        off = 0;
    } else if ((*s == '+' || *s == '-') && isdigit((unsigned char)s[1]) &&
               isdigit((unsigned char)s[2]) && s[3] == ':' && isdigit((unsigned char)s[4]) &&
               isdigit((unsigned char)s[5]) && s[6] == '\0') {
        off = ((s[1] - '0') * 10 + (s[2] - '0')) * 3600L + ((s[4] - '0') * 10 + (s[5] - '0')) * 60L;
        if (*s == '-')
            off = -off;
    } else {
        return false;
    }
    if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 60)
        return false;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = v[0] - 1900;
    tm.tm_mon = v[1] - 1;
    tm.tm_mday = v[2];
    tm.tm_hour = v[3];
    tm.tm_min = v[4];
    tm.tm_sec = v[5];
    *out = timegm(&tm) - off;
    return true;
}

/* ---- provider state ---- */

struct aws_creds_provider {
    bool is_static;
    char profile[128];
    bool profile_explicit;  /* named by the caller or AWS_PROFILE */
    bool profile_by_caller; /* named by the caller: environment keys are not used */
    char region[64];
    char sts_endpoint[AWS_URL_MAX];
    struct aws_http_options http;
    pthread_mutex_t lock;
    struct aws_credentials cached;
    bool have;
    int source; /* index into sources[], -1 before the first success */
};

typedef enum src_result (*source_fn)(struct aws_creds_provider *p, struct aws_credentials *out,
                                     struct infra_error *err);

/* ---- 1. environment ---- */

/* The environment's keys, whoever asks (the chain, or credential_source = Environment). */
static enum src_result env_keys(struct aws_credentials *out, struct infra_error *err)
{
    const char *akid = env("AWS_ACCESS_KEY_ID"), *secret = env("AWS_SECRET_ACCESS_KEY");

    if (!akid && !secret)
        return SRC_NOT_CONFIGURED;
    if (!akid || !secret) {
        infra_error_set(err, "environment: %s is set but %s is not",
                        akid ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                        akid ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
        return SRC_ERROR;
    }
    return aws_credentials_fill(out, akid, secret, env("AWS_SESSION_TOKEN"), "env", err)
               ? SRC_OK
               : SRC_ERROR;
}

static enum src_result src_env(struct aws_creds_provider *p, struct aws_credentials *out,
                               struct infra_error *err)
{
    if (p->profile_by_caller) /* as botocore with an explicit profile: the profile decides */
        return SRC_NOT_CONFIGURED;
    return env_keys(out, err);
}

/* ---- 2. web identity (STS AssumeRoleWithWebIdentity) ---- */

static void sts_target(struct aws_creds_provider *p, struct aws_sts_target *t, char *region,
                       size_t regionsz)
{
    struct infra_error e;

    if (p->region[0])
        snprintf(region, regionsz, "%s", p->region);
    else if (!aws_region_resolve(NULL, p->profile, region, regionsz, &e))
        snprintf(region, regionsz, "us-east-1");
    t->region = region;
    t->endpoint = p->sts_endpoint[0] ? p->sts_endpoint : NULL;
    t->profile = p->profile;
    t->http = &p->http;
}

static enum src_result web_identity(struct aws_creds_provider *p, const char *token_file,
                                    const char *role_arn, const char *session, const char *source,
                                    struct aws_credentials *out, struct infra_error *err)
{
    char region[64];
    struct aws_sts_target t;
    struct aws_sts_role role = {role_arn, session, NULL, 0};

    sts_target(p, &t, region, sizeof(region));
    return aws_sts_assume_role_web_identity(&t, token_file, &role, source, out, err) ? SRC_OK
                                                                                     : SRC_ERROR;
}

static enum src_result src_web_identity(struct aws_creds_provider *p, struct aws_credentials *out,
                                        struct infra_error *err)
{
    const char *file = env("AWS_WEB_IDENTITY_TOKEN_FILE"), *role = env("AWS_ROLE_ARN");

    if (!file && !role)
        return SRC_NOT_CONFIGURED;
    if (!file || !role) {
        infra_error_set(err, "web identity: %s is set but %s is not",
                        file ? "AWS_WEB_IDENTITY_TOKEN_FILE" : "AWS_ROLE_ARN",
                        file ? "AWS_ROLE_ARN" : "AWS_WEB_IDENTITY_TOKEN_FILE");
        return SRC_ERROR;
    }
    return web_identity(p, file, role, env("AWS_ROLE_SESSION_NAME"), "web-identity", out, err);
}

/* ---- 4 and 5: JSON credentials from the ECS and IMDS endpoints ---- */

static bool parse_json_credentials(const char *body, size_t len, const char *source,
                                   struct aws_credentials *out, struct infra_error *err)
{
    json_error_t jerr;
    json_t *root;
    bool ok = false;

    if (len > 64 * 1024) {
        infra_error_set(err, "%s: credentials document too large", source);
        return false;
    }
    root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root || !json_is_object(root)) {
        infra_error_set(err, "%s: credentials document is not a JSON object (line %d)", source,
                        jerr.line);
        json_decref(root);
        return false;
    }
    const char *code = json_string_value(json_object_get(root, "Code"));
    if (code && strcmp(code, "Success") != 0) {
        infra_error_set(err, "%s: credentials Code is %.64s", source, code);
        goto out;
    }
    if (!aws_credentials_fill(out, json_string_value(json_object_get(root, "AccessKeyId")),
                              json_string_value(json_object_get(root, "SecretAccessKey")),
                              json_string_value(json_object_get(root, "Token")), source, err))
        goto out;
    const char *exp = json_string_value(json_object_get(root, "Expiration"));
    if (exp && !aws_iso8601_parse(exp, &out->expiration)) {
        aws_credentials_wipe(out);
        infra_error_set(err, "%s: Expiration is not an ISO 8601 time", source);
        goto out;
    }
    ok = true;
out:
    /* jansson holds copies of the secret strings: wipe them before the free */
    {
        static const char *const keys[] = {"SecretAccessKey", "Token"};
        for (size_t i = 0; i < 2; i++) {
            json_t *s = json_object_get(root, keys[i]);
            if (json_is_string(s))
                OPENSSL_cleanse((void *)json_string_value(s), json_string_length(s));
        }
    }
    json_decref(root);
    return ok;
}

static void wipe_response(struct aws_http_response *r)
{
    if (r->body)
        OPENSSL_cleanse(r->body, r->body_len);
    aws_http_response_free(r);
}

static enum src_result src_container(struct aws_creds_provider *p, struct aws_credentials *out,
                                     struct infra_error *err)
{
    const char *rel = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const char *full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    const char *tfile = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    const char *tok = env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    char url[AWS_URL_MAX], hdr[4200];
    char *ftok = NULL;
    size_t flen = 0;
    const char *hdrs[1];
    size_t nh = 0;
    bool missing;
    struct aws_http_response resp = {0};
    struct infra_error e = {{0}};
    enum src_result res = SRC_ERROR;

    if (!rel && !full)
        return SRC_NOT_CONFIGURED;
    if (rel) {
        const char *host = env("ANONETL_ECS_CREDENTIALS_HOST");
        if (rel[0] != '/' || (size_t)snprintf(url, sizeof(url), "http://%s%s",
                                              host ? host : ECS_DEFAULT_HOST, rel) >= sizeof(url)) {
            infra_error_set(err, "container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must be a "
                                 "path starting with '/'");
            return SRC_ERROR;
        }
    } else if ((size_t)snprintf(url, sizeof(url), "%s", full) >= sizeof(url)) {
        infra_error_set(err, "container: AWS_CONTAINER_CREDENTIALS_FULL_URI too long");
        return SRC_ERROR;
    }
    if (!aws_http_url_allowed(url, AWS_URL_METADATA, &e)) {
        infra_error_set(err, "container: %s", e.msg);
        return SRC_ERROR;
    }
    if (tfile) {
        ftok = aws_profile_read_file(tfile, 4096, &flen, &missing, &e);
        if (!ftok) {
            infra_error_set(err, "container: AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: %s", e.msg);
            return SRC_ERROR;
        }
        while (flen > 0 && isspace((unsigned char)ftok[flen - 1]))
            ftok[--flen] = '\0';
        tok = ftok;
    }
    if (tok) {
        if (strpbrk(tok, "\r\n") ||
            (size_t)snprintf(hdr, sizeof(hdr), "Authorization: %s", tok) >= sizeof(hdr)) {
            infra_error_set(err, "container: authorization token has a line break or is too long");
            goto out;
        }
        hdrs[nh++] = hdr;
    }
    struct aws_http_request req = {"GET", url, hdrs, nh, NULL, 0, AWS_URL_METADATA};
    if (!aws_http_send(&req, &p->http, &resp, &e)) {
        infra_error_set(err, "container credentials: %s", e.msg);
        goto out;
    }
    if (resp.status != 200) {
        infra_error_set(err, "container credentials: GET %s answered HTTP %ld%s", rel ? rel : "",
                        resp.status,
                        resp.status == 401 || resp.status == 403 ? " (authorization token?)" : "");
        goto out;
    }
    if (parse_json_credentials(resp.body, resp.body_len, "container", out, err))
        res = SRC_OK;
out:
    wipe_response(&resp);
    OPENSSL_cleanse(hdr, sizeof(hdr));
    aws_profile_free_secret(ftok, 4097);
    return res;
}

static bool imds_valid_role(const char *s, size_t n)
{
    if (n == 0 || n > 128)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr("+=,.@_-", s[i]))
            return false;
    return true;
}

static enum src_result src_imds(struct aws_creds_provider *p, struct aws_credentials *out,
                                struct infra_error *err)
{
    const char *dis = env("AWS_EC2_METADATA_DISABLED");
    const char *base = env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    char url[AWS_URL_MAX], tokhdr[256], role[160];
    const char *hdrs[1];
    struct aws_http_response resp = {0};
    struct infra_error e = {{0}};
    struct aws_http_options o = p->http;
    enum src_result res = SRC_ERROR;
    size_t bn;
    static const char *const ttl[] = {"X-aws-ec2-metadata-token-ttl-seconds: 21600"};

    if (dis && strcasecmp(dis, "true") == 0)
        return SRC_NOT_CONFIGURED;
    if (!base)
        base = IMDS_DEFAULT;
    bn = strlen(base);
    while (bn > 0 && base[bn - 1] == '/')
        bn--;
    if (o.connect_timeout_ms <= 0 || o.connect_timeout_ms > 1000)
        o.connect_timeout_ms = 1000;
    if (o.total_timeout_ms <= 0 || o.total_timeout_ms > 2000)
        o.total_timeout_ms = 2000;
    if (o.max_attempts <= 0 || o.max_attempts > 2)
        o.max_attempts = 2;
    snprintf(url, sizeof(url), "%.*s/latest/api/token", (int)(bn < 1000 ? bn : 1000), base);
    struct aws_http_request req = {"PUT", url, ttl, 1, NULL, 0, AWS_URL_METADATA};
    if (!aws_http_send(&req, &o, &resp, &e)) {
        infra_error_set(err, "instance metadata (IMDSv2): %s", e.msg);
        return SRC_ERROR;
    }
    if (resp.status != 200 || resp.body_len == 0 || resp.body_len > 200 ||
        strpbrk(resp.body, "\r\n")) {
        infra_error_set(err, "instance metadata: token request answered HTTP %ld", resp.status);
        goto out;
    }
    snprintf(tokhdr, sizeof(tokhdr), "X-aws-ec2-metadata-token: %s", resp.body);
    wipe_response(&resp);
    hdrs[0] = tokhdr;
    snprintf(url, sizeof(url), "%.*s/latest/meta-data/iam/security-credentials/",
             (int)(bn < 1000 ? bn : 1000), base);
    req = (struct aws_http_request){"GET", url, hdrs, 1, NULL, 0, AWS_URL_METADATA};
    if (!aws_http_send(&req, &o, &resp, &e)) {
        infra_error_set(err, "instance metadata: %s", e.msg);
        goto out;
    }
    if (resp.status != 200) {
        infra_error_set(err, "instance metadata: role list answered HTTP %ld%s", resp.status,
                        resp.status == 404 ? " (no instance profile attached?)" : "");
        goto out;
    }
    size_t rn = strcspn(resp.body, "\r\n");
    if (!imds_valid_role(resp.body, rn)) {
        infra_error_set(err, "instance metadata: no valid IAM role name in the role list");
        goto out;
    }
    memcpy(role, resp.body, rn);
    role[rn] = '\0';
    wipe_response(&resp);
    snprintf(url, sizeof(url), "%.*s/latest/meta-data/iam/security-credentials/%s",
             (int)(bn < 1000 ? bn : 1000), base, role);
    req.url = url;
    if (!aws_http_send(&req, &o, &resp, &e)) {
        infra_error_set(err, "instance metadata: %s", e.msg);
        goto out;
    }
    if (resp.status != 200) {
        infra_error_set(err, "instance metadata: credentials for role %s answered HTTP %ld", role,
                        resp.status);
        goto out;
    }
    if (parse_json_credentials(resp.body, resp.body_len, "imds", out, err))
        res = SRC_OK;
out:
    wipe_response(&resp);
    OPENSSL_cleanse(tokhdr, sizeof(tokhdr));
    return res;
}

/* ---- 3. a profile of the shared files, resolved as the AWS CLI resolves it ---- */

/*
 * One profile's own order (botocore's, within one profile): role_arn (with
 * web_identity_token_file, source_profile or credential_source: STS AssumeRole on top of
 * the source's credentials, recursively), then a kind anonetl does not support (SSO) as
 * an error, then static keys of the credentials file, credential_process, static keys of
 * the config file. A chain of source profiles is followed to PROFILE_CHAIN_MAX links; a
 * profile met twice is a loop (an error naming the chain), except the AWS CLI's one
 * allowed case: source_profile naming the profile itself, which then uses its own keys.
 */
#define PROFILE_CHAIN_MAX 8

struct walk {
    struct aws_creds_provider *p;
    struct aws_profile_files files;
    char chain[PROFILE_CHAIN_MAX][AWS_PROFILE_NAME_MAX];
    int depth;
};

static const char *const k_sso_keys[] = {"sso_session", "sso_start_url", "sso_account_id",
                                         "sso_role_name", "sso_region"};

static bool pget(struct walk *w, const char *name, const char *key, char *out, size_t outsz,
                 bool *found, struct infra_error *err)
{
    return aws_profile_get(&w->files, name, key, out, outsz, found, NULL, err);
}

/* "a -> b -> c" for messages. */
static void chain_text(const struct walk *w, const char *last, char *out, size_t outsz)
{
    size_t n = 0;

    out[0] = '\0';
    for (int i = 0; i < w->depth && n < outsz; i++)
        n += (size_t)snprintf(out + n, outsz - n, "%s -> ", w->chain[i]);
    if (n < outsz)
        snprintf(out + n, outsz - n, "%s", last);
}

/* SSO and the other kinds anonetl cannot use: an error naming the profile and the key,
 * never a silent fall-through to the next source (the instance role). */
static enum src_result unsupported_kind(struct walk *w, const char *name, struct infra_error *err)
{
    char v[512];
    bool found;

    for (size_t i = 0; i < sizeof(k_sso_keys) / sizeof(k_sso_keys[0]); i++) {
        if (!pget(w, name, k_sso_keys[i], v, sizeof(v), &found, err))
            return SRC_ERROR;
        if (found) {
            infra_error_set(err,
                            "profile %s uses %s (AWS IAM Identity Center / SSO), which anonetl "
                            "does not support: use a role (role_arn with source_profile or "
                            "credential_source), credential_process, web identity, static keys, "
                            "or the ECS task / instance role with no profile",
                            name, k_sso_keys[i]);
            return SRC_ERROR;
        }
    }
    return SRC_NOT_CONFIGURED;
}

/* Static keys of one file's section for the profile. */
static enum src_result static_keys(struct walk *w, const char *name, bool credentials_file,
                                   struct aws_credentials *out, struct infra_error *err)
{
    const struct aws_shared_file *f = credentials_file ? &w->files.credentials : &w->files.config;
    char akid[128], secret[128], token[4096], section[AWS_PROFILE_NAME_MAX + 16];
    bool fa, fs, ft, sec;
    enum src_result res = SRC_ERROR;
    struct infra_error e = {{0}};

    if (!f->text)
        return SRC_NOT_CONFIGURED;
    if (credentials_file || strcmp(name, "default") == 0)
        snprintf(section, sizeof(section), "%s", name);
    else
        snprintf(section, sizeof(section), "profile %s", name);
    if (!aws_ini_get(f->text, f->len, section, "aws_access_key_id", akid, sizeof(akid), &fa, &sec,
                     &e) ||
        !aws_ini_get(f->text, f->len, section, "aws_secret_access_key", secret, sizeof(secret), &fs,
                     &sec, &e) ||
        !aws_ini_get(f->text, f->len, section, "aws_session_token", token, sizeof(token), &ft, &sec,
                     &e)) {
        infra_error_set(err, "%s: %s", f->path, e.msg);
        goto out;
    }
    if (!fa && !fs) {
        res = SRC_NOT_CONFIGURED;
        goto out;
    }
    if (!fa || !fs) {
        infra_error_set(err, "%s: [%s] has %s but not %s", f->path, section,
                        fa ? "aws_access_key_id" : "aws_secret_access_key",
                        fa ? "aws_secret_access_key" : "aws_access_key_id");
        goto out;
    }
    if (aws_credentials_fill(out, akid, secret, ft ? token : NULL,
                             credentials_file ? "shared-credentials" : "shared-config", err))
        res = SRC_OK;
out:
    OPENSSL_cleanse(akid, sizeof(akid));
    OPENSSL_cleanse(secret, sizeof(secret));
    OPENSSL_cleanse(token, sizeof(token));
    return res;
}

static enum src_result profile_creds(struct walk *w, const char *name, bool as_source,
                                     struct aws_credentials *out, struct infra_error *err);

/* credential_source = Environment | Ec2InstanceMetadata | EcsContainer. */
static enum src_result credential_source(struct walk *w, const char *name, const char *kind,
                                         struct aws_credentials *out, struct infra_error *err)
{
    enum src_result r;

    if (strcmp(kind, "Environment") == 0)
        r = env_keys(out, err);
    else if (strcmp(kind, "Ec2InstanceMetadata") == 0)
        r = src_imds(w->p, out, err);
    else if (strcmp(kind, "EcsContainer") == 0)
        r = src_container(w->p, out, err);
    else {
        infra_error_set(err,
                        "profile %s: credential_source %.64s is not one of Environment, "
                        "Ec2InstanceMetadata, EcsContainer",
                        name, kind);
        return SRC_ERROR;
    }
    if (r == SRC_NOT_CONFIGURED)
        infra_error_set(err, "profile %s: credential_source %s has no credentials%s", name, kind,
                        strcmp(kind, "Ec2InstanceMetadata") == 0
                            ? " (instance metadata disabled: AWS_EC2_METADATA_DISABLED)"
                            : "");
    return r == SRC_OK ? SRC_OK : SRC_ERROR;
}

/* The credentials a role profile assumes the role with. */
static enum src_result role_source(struct walk *w, const char *name, struct aws_credentials *src,
                                   struct infra_error *err)
{
    char sp[AWS_PROFILE_NAME_MAX], cs[64], path[640];
    bool has_sp, has_cs;
    enum src_result r;

    if (!pget(w, name, "source_profile", sp, sizeof(sp), &has_sp, err) ||
        !pget(w, name, "credential_source", cs, sizeof(cs), &has_cs, err))
        return SRC_ERROR;
    if (has_sp && has_cs) {
        infra_error_set(err, "profile %s has both source_profile and credential_source: keep one",
                        name);
        return SRC_ERROR;
    }
    if (has_cs)
        return credential_source(w, name, cs, src, err);
    if (!has_sp) {
        infra_error_set(err,
                        "profile %s has role_arn but neither source_profile, credential_source "
                        "nor web_identity_token_file",
                        name);
        return SRC_ERROR;
    }
    if (strcmp(sp, name) == 0) { /* the AWS CLI's self-reference: the profile's own keys */
        r = static_keys(w, name, true, src, err);
        if (r == SRC_NOT_CONFIGURED)
            r = static_keys(w, name, false, src, err);
        if (r == SRC_NOT_CONFIGURED)
            infra_error_set(err, "profile %s is its own source_profile but has no static keys",
                            name);
        return r == SRC_OK ? SRC_OK : SRC_ERROR;
    }
    for (int i = 0; i < w->depth; i++) {
        if (strcmp(w->chain[i], sp) == 0) {
            chain_text(w, sp, path, sizeof(path));
            infra_error_set(err, "source_profile loop: %s", path);
            return SRC_ERROR;
        }
    }
    if (w->depth + 1 >= PROFILE_CHAIN_MAX) {
        chain_text(w, sp, path, sizeof(path));
        infra_error_set(err, "source_profile chain longer than %d profiles: %s",
                        PROFILE_CHAIN_MAX - 1, path);
        return SRC_ERROR;
    }
    r = profile_creds(w, sp, true, src, err);
    if (r == SRC_NOT_CONFIGURED)
        infra_error_set(err, "profile %s (source_profile of %s) has no credentials", sp, name);
    return r == SRC_OK ? SRC_OK : SRC_ERROR;
}

/* role_arn in the profile: NOT_CONFIGURED without one. */
static enum src_result profile_role(struct walk *w, const char *name, struct aws_credentials *out,
                                    struct infra_error *err)
{
    char arn[512], sess[96], ext[256], dur[16], mfa[256], token_file[1024], region[64];
    bool has_arn, has_sess, has_ext, has_dur, has_mfa, has_wi;
    struct aws_credentials src;
    struct aws_sts_target t;
    struct aws_sts_role role;
    enum src_result r;
    char *end;
    long d = 0;

    if (!pget(w, name, "role_arn", arn, sizeof(arn), &has_arn, err))
        return SRC_ERROR;
    if (!has_arn)
        return SRC_NOT_CONFIGURED;
    if (!pget(w, name, "role_session_name", sess, sizeof(sess), &has_sess, err) ||
        !pget(w, name, "external_id", ext, sizeof(ext), &has_ext, err) ||
        !pget(w, name, "duration_seconds", dur, sizeof(dur), &has_dur, err) ||
        !pget(w, name, "mfa_serial", mfa, sizeof(mfa), &has_mfa, err) ||
        !pget(w, name, "web_identity_token_file", token_file, sizeof(token_file), &has_wi, err))
        return SRC_ERROR;
    if (has_mfa) {
        infra_error_set(err,
                        "profile %s sets mfa_serial: an MFA code cannot be entered in an "
                        "unattended run; use a role that needs no MFA",
                        name);
        return SRC_ERROR;
    }
    if (has_dur) {
        errno = 0;
        d = strtol(dur, &end, 10);
        if (errno || *end || d < 900 || d > 43200) {
            infra_error_set(err, "profile %s: duration_seconds must be 900..43200", name);
            return SRC_ERROR;
        }
    }
    role = (struct aws_sts_role){arn, has_sess ? sess : NULL, has_ext ? ext : NULL, (int)d};
    sts_target(w->p, &t, region, sizeof(region));
    if (has_wi)
        return aws_sts_assume_role_web_identity(&t, token_file, &role, "web-identity", out, err)
                   ? SRC_OK
                   : SRC_ERROR;
    snprintf(w->chain[w->depth++], AWS_PROFILE_NAME_MAX, "%s", name);
    memset(&src, 0, sizeof(src));
    r = role_source(w, name, &src, err);
    w->depth--;
    if (r == SRC_OK)
        r = aws_sts_assume_role(&t, &src, &role, out, err) ? SRC_OK : SRC_ERROR;
    aws_credentials_wipe(&src);
    return r;
}

/* Everything but role_arn: SSO (an error), static keys, credential_process. */
static enum src_result profile_rest(struct walk *w, const char *name, struct aws_credentials *out,
                                    struct infra_error *err)
{
    char cmd[4096];
    bool has_cmd;
    enum src_result r = unsupported_kind(w, name, err);

    if (r == SRC_NOT_CONFIGURED)
        r = static_keys(w, name, true, out, err);
    if (r != SRC_NOT_CONFIGURED)
        return r;
    if (!pget(w, name, "credential_process", cmd, sizeof(cmd), &has_cmd, err))
        return SRC_ERROR;
    if (has_cmd)
        return aws_process_credentials(cmd, out, err) ? SRC_OK : SRC_ERROR;
    return static_keys(w, name, false, out, err);
}

static enum src_result profile_creds(struct walk *w, const char *name, bool as_source,
                                     struct aws_credentials *out, struct infra_error *err)
{
    bool exists;
    enum src_result r;

    if (!aws_profile_exists(&w->files, name, &exists, err))
        return SRC_ERROR;
    if (!exists) {
        if (!as_source)
            return SRC_NOT_CONFIGURED;
        infra_error_set(err, "profile %s (a source_profile) not found in %s or %s", name,
                        w->files.credentials.path[0] ? w->files.credentials.path : "(none)",
                        w->files.config.path[0] ? w->files.config.path : "(none)");
        return SRC_ERROR;
    }
    r = profile_role(w, name, out, err);
    if (r == SRC_NOT_CONFIGURED)
        r = profile_rest(w, name, out, err);
    return r;
}

static bool walk_begin(struct walk *w, struct aws_creds_provider *p, struct infra_error *err)
{
    memset(w, 0, sizeof(*w));
    w->p = p;
    return aws_profile_files_load(&w->files, err);
}

/* The profile's role (role_arn), before the web identity of the environment (botocore's
 * order: AssumeRoleProvider comes before AssumeRoleWithWebIdentityProvider). */
static enum src_result src_profile_role(struct aws_creds_provider *p, struct aws_credentials *out,
                                        struct infra_error *err)
{
    struct walk w;
    bool exists;
    enum src_result r = SRC_ERROR;

    if (!walk_begin(&w, p, err))
        return SRC_ERROR;
    if (!aws_profile_exists(&w.files, p->profile, &exists, err))
        goto out;
    if (!exists && p->profile_explicit) {
        infra_error_set(err, "profile %s: not found in %s%s%s", p->profile,
                        w.files.credentials.path[0] ? w.files.credentials.path
                                                    : "(no credentials file)",
                        w.files.config.path[0] ? " or " : "", w.files.config.path);
        goto out;
    }
    r = exists ? profile_role(&w, p->profile, out, err) : SRC_NOT_CONFIGURED;
out:
    aws_profile_files_free(&w.files);
    return r;
}

/* The rest of the profile (after the environment's web identity). */
static enum src_result src_profile(struct aws_creds_provider *p, struct aws_credentials *out,
                                   struct infra_error *err)
{
    struct walk w;
    bool exists;
    enum src_result r = SRC_ERROR;

    if (!walk_begin(&w, p, err))
        return SRC_ERROR;
    if (!aws_profile_exists(&w.files, p->profile, &exists, err))
        goto out;
    r = exists ? profile_rest(&w, p->profile, out, err) : SRC_NOT_CONFIGURED;
    if (r == SRC_NOT_CONFIGURED && exists && p->profile_explicit) {
        infra_error_set(err, "profile %s: no credentials in %s%s%s", p->profile,
                        w.files.credentials.path, w.files.config.path[0] ? " or " : "",
                        w.files.config.path);
        r = SRC_ERROR;
    }
out:
    aws_profile_files_free(&w.files);
    return r;
}

/* ---- the chain ---- */

static const source_fn sources[] = {src_env,     src_profile_role, src_web_identity,
                                    src_profile, src_container,    src_imds};
#define N_SOURCES (int)(sizeof(sources) / sizeof(sources[0]))

static struct aws_creds_provider *provider_alloc(struct infra_error *err)
{
    struct aws_creds_provider *p = calloc(1, sizeof(*p));

    if (!p) {
        infra_error_set(err, "out of memory");
        return NULL;
    }
    if (pthread_mutex_init(&p->lock, NULL) != 0) {
        free(p);
        infra_error_set(err, "cannot create a mutex");
        return NULL;
    }
    p->source = -1;
    return p;
}

struct aws_creds_provider *aws_creds_chain_new(const struct aws_creds_options *opts,
                                               struct infra_error *err)
{
    struct aws_creds_provider *p = provider_alloc(err);
    const char *profile;

    if (!p)
        return NULL;
    profile = opts && opts->profile && *opts->profile ? opts->profile : env("AWS_PROFILE");
    p->profile_explicit = profile != NULL;
    p->profile_by_caller = opts && opts->profile && *opts->profile;
    if (!profile)
        profile = "default";
    if (strlen(profile) >= sizeof(p->profile) ||
        (opts && opts->region && strlen(opts->region) >= sizeof(p->region)) ||
        (opts && opts->sts_endpoint && strlen(opts->sts_endpoint) >= sizeof(p->sts_endpoint))) {
        infra_error_set(err, "credentials: profile, region or STS endpoint too long");
        aws_creds_provider_free(p);
        return NULL;
    }
    snprintf(p->profile, sizeof(p->profile), "%s", profile);
    if (opts && opts->region)
        snprintf(p->region, sizeof(p->region), "%s", opts->region);
    if (opts && opts->sts_endpoint)
        snprintf(p->sts_endpoint, sizeof(p->sts_endpoint), "%s", opts->sts_endpoint);
    if (opts && opts->http) {
        p->http = *opts->http;
    } else {
        p->http.connect_timeout_ms = 1000;
        p->http.total_timeout_ms = 5000;
        p->http.max_attempts = 0;                   /* AWS_MAX_ATTEMPTS, the profile, else 3 */
        p->http.deadline_ms = AWS_CALL_DEADLINE_MS; /* each STS or container call */
    }
    return p;
}

struct aws_creds_provider *aws_creds_static_new(const char *access_key_id,
                                                const char *secret_access_key,
                                                const char *session_token, struct infra_error *err)
{
    struct aws_creds_provider *p = provider_alloc(err);

    if (!p)
        return NULL;
    p->is_static = true;
    if (!aws_credentials_fill(&p->cached, access_key_id, secret_access_key, session_token, "static",
                              err)) {
        aws_creds_provider_free(p);
        return NULL;
    }
    p->have = true;
    return p;
}

void aws_creds_provider_free(struct aws_creds_provider *p)
{
    if (!p)
        return;
    pthread_mutex_destroy(&p->lock);
    OPENSSL_cleanse(p, sizeof(*p));
    free(p);
}

static bool fresh(const struct aws_credentials *c, time_t now)
{
    return c->expiration == 0 || now + AWS_CREDS_REFRESH_MARGIN < c->expiration;
}

static bool fetch(struct aws_creds_provider *p, struct aws_credentials *out,
                  struct infra_error *err)
{
    if (p->source >= 0) { /* refresh from the source that answered before */
        return sources[p->source](p, out, err) == SRC_OK;
    }
    for (int i = 0; i < N_SOURCES; i++) {
        enum src_result r = sources[i](p, out, err);
        if (r == SRC_OK) {
            p->source = i;
            return true;
        }
        if (r == SRC_ERROR) {
            if (sources[i] == src_imds) {
                char why[sizeof(err->msg)];
                snprintf(why, sizeof(why), "%s", err->msg);
                infra_error_set(err,
                                "no AWS credentials found (environment, web identity, "
                                "shared files profile %s, container; %s)",
                                p->profile, why);
            }
            return false;
        }
    }
    infra_error_set(err,
                    "no AWS credentials found (environment, web identity, shared files "
                    "profile %s, container; instance metadata disabled)",
                    p->profile);
    return false;
}

bool aws_creds_get(struct aws_creds_provider *p, struct aws_credentials *out,
                   struct infra_error *err)
{
    struct aws_credentials fresh_creds;
    time_t now = time(NULL);
    bool ok = true;

    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&p->lock);
    if (!p->is_static && (!p->have || !fresh(&p->cached, now))) {
        memset(&fresh_creds, 0, sizeof(fresh_creds));
        if (fetch(p, &fresh_creds, err)) {
            p->cached = fresh_creds;
            p->have = true;
        } else if (!p->have || (p->cached.expiration != 0 && now >= p->cached.expiration)) {
            ok = false; /* nothing usable: keep old credentials only while they are valid */
        }
        aws_credentials_wipe(&fresh_creds);
    }
    if (ok)
        *out = p->cached;
    pthread_mutex_unlock(&p->lock);
    return ok;
}

/* ---- region ---- */

bool aws_region_resolve(const char *configured, const char *profile, char *out, size_t outsz,
                        struct infra_error *err)
{
    const char *r = configured && *configured ? configured : NULL;
    struct aws_profile_files files;
    bool found = false, ok;

    if (!r)
        r = env("AWS_REGION");
    if (!r)
        r = env("AWS_DEFAULT_REGION");
    if (r) {
        if ((size_t)snprintf(out, outsz, "%s", r) >= outsz) {
            infra_error_set(err, "region name too long");
            return false;
        }
        return true;
    }
    profile = aws_profile_name(profile);
    if (!aws_profile_files_load(&files, err))
        return false;
    ok = aws_profile_get(&files, profile, "region", out, outsz, &found, NULL, err);
    aws_profile_files_free(&files);
    if (!ok)
        return false;
    if (!found || !out[0]) {
        infra_error_set(err,
                        "no AWS region: set aws.region, AWS_REGION or region in the "
                        "config file profile %s",
                        profile);
        return false;
    }
    return true;
}
