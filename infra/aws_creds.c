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

#define INI_LINE_MAX 4096
#define FILE_MAX (1024 * 1024)
#define TOKEN_FILE_MAX (16 * 1024)
#define ECS_DEFAULT_HOST "169.254.170.2"
#define IMDS_DEFAULT "http://169.254.169.254"

void aws_credentials_wipe(struct aws_credentials *c)
{
    if (c)
        OPENSSL_cleanse(c, sizeof(*c));
}

/* ---- INI ---- */

static bool ini_ws(char c)
{
    return c == ' ' || c == '\t';
}

/* Trim [*b, *e) of blanks. */
static void trim(const char **b, const char **e)
{
    while (*b < *e && ini_ws(**b))
        (*b)++;
    while (*e > *b && ini_ws((*e)[-1]))
        (*e)--;
}

/* Does the section text [b, e) equal want, with whitespace runs counting as one space? */
static bool section_matches(const char *b, const char *e, const char *want)
{
    while (b < e && *want) {
        if (ini_ws(*b)) {
            if (*want != ' ')
                return false;
            while (b < e && ini_ws(*b))
                b++;
            want++;
            continue;
        }
        if (*b != *want)
            return false;
        b++;
        want++;
    }
    return b == e && *want == '\0';
}

bool aws_ini_get(const char *text, size_t len, const char *section, const char *key, char *out,
                 size_t outsz, bool *found, bool *section_found, struct infra_error *err)
{
    size_t pos = 0, lineno = 0;
    bool in_section = false, have_section = false, got = false;
    size_t keylen = strlen(key);

    *found = false;
    if (section_found)
        *section_found = false;
    if (outsz)
        out[0] = '\0';
    if (memchr(text, '\0', len)) {
        infra_error_set(err, "line 1: file contains a NUL byte");
        return false;
    }
    while (pos < len) {
        const char *b = text + pos, *nl = memchr(b, '\n', len - pos);
        const char *e = nl ? nl : text + len;
        lineno++;
        pos = (size_t)(e - text) + 1;
        if (e - b > INI_LINE_MAX) {
            infra_error_set(err, "line %zu: longer than %d bytes", lineno, INI_LINE_MAX);
            return false;
        }
        if (e > b && e[-1] == '\r')
            e--;
        bool indented = b < e && ini_ws(*b);
        trim(&b, &e);
        if (b == e || *b == '#' || *b == ';')
            continue;
        if (indented) { /* a nested sub-section line ("s3 =\n  x = y"): not looked up */
            if (!have_section) {
                infra_error_set(err, "line %zu: indented line before any section", lineno);
                return false;
            }
            continue;
        }
        if (*b == '[') {
            const char *close = memchr(b, ']', (size_t)(e - b));
            if (!close) {
                infra_error_set(err, "line %zu: section header without ']'", lineno);
                return false;
            }
            const char *rest = close + 1;
            trim(&rest, &e);
            if (rest < e && *rest != '#' && *rest != ';') {
                infra_error_set(err, "line %zu: text after the section header", lineno);
                return false;
            }
            const char *sb = b + 1, *se = close;
            trim(&sb, &se);
            if (sb == se) {
                infra_error_set(err, "line %zu: empty section name", lineno);
                return false;
            }
            have_section = true;
            in_section = section_matches(sb, se, section);
            if (in_section && section_found)
                *section_found = true;
            continue;
        }
        const char *eq = memchr(b, '=', (size_t)(e - b));
        if (!eq) {
            infra_error_set(err, "line %zu: expected 'key = value'", lineno);
            return false;
        }
        if (!have_section) {
            infra_error_set(err, "line %zu: key outside any [section]", lineno);
            return false;
        }
        const char *kb = b, *ke = eq, *vb = eq + 1, *ve = e;
        trim(&kb, &ke);
        trim(&vb, &ve);
        if (kb == ke) {
            infra_error_set(err, "line %zu: empty key", lineno);
            return false;
        }
        if (in_section && !got && (size_t)(ke - kb) == keylen &&
            strncasecmp(kb, key, keylen) == 0) {
            size_t vn = (size_t)(ve - vb);
            if (vn >= outsz) {
                infra_error_set(err, "line %zu: value of %s is too long", lineno, key);
                return false;
            }
            memcpy(out, vb, vn);
            out[vn] = '\0';
            got = true;
        }
    }
    *found = got;
    return true;
}

/* ---- small helpers ---- */

static const char *env(const char *name)
{
    const char *v = getenv(name);

    return v && *v ? v : NULL;
}

enum src_result { SRC_NOT_CONFIGURED, SRC_OK, SRC_ERROR };

/* Read a whole file (bounded) into a NUL-terminated buffer; *missing when it does not exist. */
static char *read_file(const char *path, size_t max, size_t *len, bool *missing,
                       struct infra_error *err)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    size_t n;

    *missing = false;
    if (!f) {
        if (errno == ENOENT) {
            *missing = true;
            infra_error_set(err, "%s: no such file", path);
        } else {
            infra_error_set(err, "%s: %s", path, strerror(errno));
        }
        return NULL;
    }
    buf = malloc(max + 1);
    if (!buf) {
        fclose(f);
        infra_error_set(err, "out of memory");
        return NULL;
    }
    n = fread(buf, 1, max + 1, f);
    if (ferror(f) || n > max) {
        infra_error_set(err, "%s: %s", path, ferror(f) ? "read error" : "file too large");
        fclose(f);
        OPENSSL_cleanse(buf, max + 1);
        free(buf);
        return NULL;
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

static void free_secret(char *p, size_t n)
{
    if (p) {
        OPENSSL_cleanse(p, n);
        free(p);
    }
}

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
static bool fill_creds(struct aws_credentials *c, const char *akid, const char *secret,
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
static bool parse_iso8601(const char *s, time_t *out)
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
    bool profile_explicit;
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

static enum src_result src_env(struct aws_creds_provider *p, struct aws_credentials *out,
                               struct infra_error *err)
{
    const char *akid = env("AWS_ACCESS_KEY_ID"), *secret = env("AWS_SECRET_ACCESS_KEY");

    (void)p;
    if (!akid && !secret)
        return SRC_NOT_CONFIGURED;
    if (!akid || !secret) {
        infra_error_set(err, "environment: %s is set but %s is not",
                        akid ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                        akid ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
        return SRC_ERROR;
    }
    return fill_creds(out, akid, secret, env("AWS_SESSION_TOKEN"), "env", err) ? SRC_OK : SRC_ERROR;
}

/* ---- 2. web identity (STS AssumeRoleWithWebIdentity) ---- */

static xmlNode *xml_child(xmlNode *n, const char *name)
{
    for (n = n ? n->children : NULL; n; n = n->next)
        if (n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, (const xmlChar *)name) == 0)
            return n;
    return NULL;
}

static bool parse_sts_credentials(const char *body, size_t len, struct aws_credentials *out,
                                  const char *source, struct infra_error *err)
{
    xmlDoc *doc;
    xmlNode *c;
    xmlChar *v[4] = {NULL, NULL, NULL, NULL};
    static const char *const names[] = {"AccessKeyId", "SecretAccessKey", "SessionToken",
                                        "Expiration"};
    bool ok = false;

    if (len > 1024 * 1024) {
        infra_error_set(err, "%s: STS response too large", source);
        return false;
    }
    doc = xmlReadMemory(body, (int)len, "sts.xml", NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc) {
        infra_error_set(err, "%s: STS response is not XML", source);
        return false;
    }
    c = xmlDocGetRootElement(doc);
    c = xml_child(xml_child(c, "AssumeRoleWithWebIdentityResult"), "Credentials");
    if (!c) {
        infra_error_set(err, "%s: STS response has no Credentials", source);
        goto out;
    }
    for (int i = 0; i < 4; i++)
        v[i] = xmlNodeGetContent(xml_child(c, names[i]));
    if (!fill_creds(out, (const char *)v[0], (const char *)v[1], (const char *)v[2], source, err))
        goto out;
    if (!parse_iso8601((const char *)v[3], &out->expiration)) {
        aws_credentials_wipe(out);
        infra_error_set(err, "%s: STS Expiration is missing or not an ISO 8601 time", source);
        goto out;
    }
    ok = true;
out:
    for (int i = 0; i < 4; i++) {
        if (v[i]) {
            OPENSSL_cleanse(v[i], (size_t)xmlStrlen(v[i]));
            xmlFree(v[i]);
        }
    }
    xmlFreeDoc(doc);
    return ok;
}

static bool creds_region(struct aws_creds_provider *p, char *out, size_t outsz)
{
    struct infra_error e;

    if (p->region[0]) {
        snprintf(out, outsz, "%s", p->region);
        return true;
    }
    if (!aws_region_resolve(NULL, p->profile, out, outsz, &e))
        snprintf(out, outsz, "us-east-1");
    return true;
}

static enum src_result assume_web_identity(struct aws_creds_provider *p, const char *token_file,
                                           const char *role_arn, const char *session_name,
                                           const char *source, struct aws_credentials *out,
                                           struct infra_error *err)
{
    char region[64], url[AWS_URL_MAX], sess[96];
    char *token = NULL;
    size_t tlen = 0;
    bool missing;
    struct aws_form form;
    struct aws_http_response resp = {0};
    struct infra_error e = {{0}};
    enum src_result res = SRC_ERROR;
    static const char *const hdrs[] = {
        "Content-Type: application/x-www-form-urlencoded; charset=utf-8",
        "Accept: application/xml"};

    token = read_file(token_file, TOKEN_FILE_MAX, &tlen, &missing, &e);
    if (!token) {
        infra_error_set(err, "%s: token file: %s", source, e.msg);
        return SRC_ERROR;
    }
    while (tlen > 0 && isspace((unsigned char)token[tlen - 1]))
        token[--tlen] = '\0';
    if (tlen == 0) {
        infra_error_set(err, "%s: token file %s is empty", source, token_file);
        goto out_token;
    }
    if (session_name)
        snprintf(sess, sizeof(sess), "%.64s", session_name);
    else
        snprintf(sess, sizeof(sess), "anonetl-%ld", (long)time(NULL));
    creds_region(p, region, sizeof(region));
    if (p->sts_endpoint[0])
        snprintf(url, sizeof(url), "%s", p->sts_endpoint);
    else if (!aws_endpoint_resolve(NULL, "sts", region, url, sizeof(url), &e)) {
        infra_error_set(err, "%s: %s", source, e.msg);
        goto out_token;
    }
    if (!aws_http_url_allowed(url, AWS_URL_API, &e)) {
        infra_error_set(err, "%s: STS endpoint: %s", source, e.msg);
        goto out_token;
    }
    aws_form_init(&form);
    aws_form_add(&form, "Action", "AssumeRoleWithWebIdentity");
    aws_form_add(&form, "Version", "2011-06-15");
    aws_form_add(&form, "RoleArn", role_arn);
    aws_form_add(&form, "RoleSessionName", sess);
    aws_form_add(&form, "WebIdentityToken", token);
    if (aws_form_failed(&form)) {
        infra_error_set(err, "%s: request too large", source);
        goto out_form;
    }
    struct aws_http_request req = {"POST", url, hdrs, 2, form.data, form.len, AWS_URL_API};
    if (!aws_http_send(&req, &p->http, &resp, &e)) {
        infra_error_set(err, "%s: STS AssumeRoleWithWebIdentity: %s", source, e.msg);
        goto out_form;
    }
    if (resp.status != 200) {
        char code[128], msg[256];
        aws_http_error_code(resp.body, resp.body_len, code, sizeof(code), msg, sizeof(msg));
        infra_error_set(err, "%s: STS AssumeRoleWithWebIdentity for %.200s: HTTP %ld %s%s%s",
                        source, role_arn, resp.status, code, msg[0] ? ": " : "", msg);
        goto out_form;
    }
    if (parse_sts_credentials(resp.body, resp.body_len, out, source, err))
        res = SRC_OK;
out_form:
    if (resp.body)
        OPENSSL_cleanse(resp.body, resp.body_len);
    aws_http_response_free(&resp);
    if (form.data)
        OPENSSL_cleanse(form.data, form.len);
    aws_form_free(&form);
out_token:
    free_secret(token, TOKEN_FILE_MAX + 1);
    return res;
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
    return assume_web_identity(p, file, role, env("AWS_ROLE_SESSION_NAME"), "web-identity", out,
                               err);
}

/* ---- 3. shared files ---- */

static bool shared_path(const char *var, const char *leaf, char *out, size_t outsz)
{
    const char *v = env(var), *home = env("HOME");

    if (v)
        return (size_t)snprintf(out, outsz, "%s", v) < outsz;
    if (!home)
        return false;
    return (size_t)snprintf(out, outsz, "%s/.aws/%s", home, leaf) < outsz;
}

/* Look key up in a file already read; errors name the file and line. */
static bool file_get(const char *path, const char *text, size_t len, const char *section,
                     const char *key, char *out, size_t outsz, bool *found, bool *sec,
                     struct infra_error *err)
{
    struct infra_error e = {{0}};

    if (!aws_ini_get(text, len, section, key, out, outsz, found, sec, &e)) {
        infra_error_set(err, "%s: %s", path, e.msg);
        return false;
    }
    return true;
}

struct shared_file {
    char path[1024];
    char *text;
    size_t len;
};

static bool load_shared(struct shared_file *f, const char *var, const char *leaf,
                        struct infra_error *err)
{
    bool missing;
    struct infra_error e = {{0}};

    f->text = NULL;
    f->len = 0;
    if (!shared_path(var, leaf, f->path, sizeof(f->path))) {
        f->path[0] = '\0';
        return true;
    }
    f->text = read_file(f->path, FILE_MAX, &f->len, &missing, &e);
    if (!f->text && !missing) {
        infra_error_set(err, "shared files: %s", e.msg);
        return false;
    }
    return true;
}

static void unload_shared(struct shared_file *f)
{
    if (f->text)
        free_secret(f->text, f->len);
    f->text = NULL;
}

/* Static keys in [section] of one file: NOT_CONFIGURED when the section has none. */
static enum src_result keys_from(const struct shared_file *f, const char *section,
                                 const char *source, bool *sec_found, struct aws_credentials *out,
                                 struct infra_error *err)
{
    char akid[128], secret[128], token[4096];
    bool fa, fs, ft, sec;
    enum src_result res = SRC_ERROR;

    *sec_found = false;
    if (!f->text)
        return SRC_NOT_CONFIGURED;
    if (!file_get(f->path, f->text, f->len, section, "aws_access_key_id", akid, sizeof(akid), &fa,
                  &sec, err) ||
        !file_get(f->path, f->text, f->len, section, "aws_secret_access_key", secret,
                  sizeof(secret), &fs, &sec, err) ||
        !file_get(f->path, f->text, f->len, section, "aws_session_token", token, sizeof(token), &ft,
                  &sec, err))
        goto out;
    *sec_found = sec;
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
    if (fill_creds(out, akid, secret, ft ? token : NULL, source, err))
        res = SRC_OK;
out:
    OPENSSL_cleanse(akid, sizeof(akid));
    OPENSSL_cleanse(secret, sizeof(secret));
    OPENSSL_cleanse(token, sizeof(token));
    return res;
}

static enum src_result src_shared(struct aws_creds_provider *p, struct aws_credentials *out,
                                  struct infra_error *err)
{
    struct shared_file cf = {{0}, NULL, 0}, cfg = {{0}, NULL, 0};
    char cfg_section[160], v[1024], file[1024];
    bool sec1 = false, sec2 = false, found, sec;
    enum src_result res = SRC_ERROR;
    static const char *const unsupported[] = {"credential_process", "source_profile",
                                              "sso_start_url", "sso_session", "role_arn"};

    if (!load_shared(&cf, "AWS_SHARED_CREDENTIALS_FILE", "credentials", err) ||
        !load_shared(&cfg, "AWS_CONFIG_FILE", "config", err))
        goto out;
    if (strcmp(p->profile, "default") == 0)
        snprintf(cfg_section, sizeof(cfg_section), "default");
    else
        snprintf(cfg_section, sizeof(cfg_section), "profile %s", p->profile);
    res = keys_from(&cf, p->profile, "shared-credentials", &sec1, out, err);
    if (res != SRC_NOT_CONFIGURED)
        goto out;
    res = keys_from(&cfg, cfg_section, "shared-config", &sec2, out, err);
    if (res != SRC_NOT_CONFIGURED)
        goto out;
    res = SRC_ERROR;
    /* A config profile for web identity: role_arn + web_identity_token_file. */
    if (cfg.text && sec2) {
        if (!file_get(cfg.path, cfg.text, cfg.len, cfg_section, "web_identity_token_file", file,
                      sizeof(file), &found, &sec, err))
            goto out;
        if (found) {
            char role[512], name[96];
            bool fr, fn;
            if (!file_get(cfg.path, cfg.text, cfg.len, cfg_section, "role_arn", role, sizeof(role),
                          &fr, &sec, err) ||
                !file_get(cfg.path, cfg.text, cfg.len, cfg_section, "role_session_name", name,
                          sizeof(name), &fn, &sec, err))
                goto out;
            if (!fr) {
                infra_error_set(err, "%s: [%s] has web_identity_token_file but no role_arn",
                                cfg.path, cfg_section);
                goto out;
            }
            res = assume_web_identity(p, file, role, fn ? name : NULL, "shared-config", out, err);
            goto out;
        }
        for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++) {
            if (!file_get(cfg.path, cfg.text, cfg.len, cfg_section, unsupported[i], v, sizeof(v),
                          &found, &sec, err))
                goto out;
            if (found) {
                infra_error_set(err,
                                "%s: [%s] uses %s, which anonetl does not support: use "
                                "static keys, web identity, ECS or instance credentials",
                                cfg.path, cfg_section, unsupported[i]);
                goto out;
            }
        }
    }
    if (p->profile_explicit) {
        infra_error_set(err, "profile %s: %s in %s%s%s", p->profile,
                        sec1 || sec2 ? "no credentials" : "not found",
                        cf.path[0] ? cf.path : "(no credentials file)", cfg.path[0] ? " or " : "",
                        cfg.path);
        goto out;
    }
    res = SRC_NOT_CONFIGURED;
out:
    unload_shared(&cf);
    unload_shared(&cfg);
    return res;
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
    if (!fill_creds(out, json_string_value(json_object_get(root, "AccessKeyId")),
                    json_string_value(json_object_get(root, "SecretAccessKey")),
                    json_string_value(json_object_get(root, "Token")), source, err))
        goto out;
    const char *exp = json_string_value(json_object_get(root, "Expiration"));
    if (exp && !parse_iso8601(exp, &out->expiration)) {
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
        ftok = read_file(tfile, 4096, &flen, &missing, &e);
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
    free_secret(ftok, 4097);
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

/* ---- the chain ---- */

static const source_fn sources[] = {src_env, src_web_identity, src_shared, src_container, src_imds};
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
        p->http.max_attempts = 3;
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
    if (!fill_creds(&p->cached, access_key_id, secret_access_key, session_token, "static", err)) {
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
    struct shared_file cfg = {{0}, NULL, 0};
    char section[160];
    bool found = false, sec;

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
    if (!profile || !*profile)
        profile = env("AWS_PROFILE");
    if (!profile)
        profile = "default";
    if (strcmp(profile, "default") == 0)
        snprintf(section, sizeof(section), "default");
    else
        snprintf(section, sizeof(section), "profile %.128s", profile);
    if (!load_shared(&cfg, "AWS_CONFIG_FILE", "config", err))
        return false;
    if (cfg.text &&
        !file_get(cfg.path, cfg.text, cfg.len, section, "region", out, outsz, &found, &sec, err)) {
        unload_shared(&cfg);
        return false;
    }
    unload_shared(&cfg);
    if (!found || !out[0]) {
        infra_error_set(err,
                        "no AWS region: set aws.region, AWS_REGION or region in the "
                        "config file profile %s",
                        profile);
        return false;
    }
    return true;
}
