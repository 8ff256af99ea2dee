/*
 * aws_sts.c: STS AssumeRole and AssumeRoleWithWebIdentity, see aws_sts.h.
 *
 * AssumeRole is signed with the source credentials through a short-lived aws_client over
 * a static provider; the web identity call is unsigned (the token is the proof) and goes
 * through aws_http_send. Both share the retry policy of infra/aws_http.c. Answers are
 * parsed with libxml2; the secret and token strings libxml2 copied are wiped before they
 * are freed, and so are the request and response buffers.
 */
#include "infra/aws_sts.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/crypto.h>

#include "infra/aws_http.h"
#include "infra/aws_profile.h"

#define STS_VERSION "2011-06-15"
#define TOKEN_FILE_MAX (16 * 1024)

static xmlNode *xml_child(xmlNode *n, const char *name)
{
    for (n = n ? n->children : NULL; n; n = n->next)
        if (n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, (const xmlChar *)name) == 0)
            return n;
    return NULL;
}

bool aws_sts_parse_credentials(const char *body, size_t len, const char *action, const char *source,
                               struct aws_credentials *out, struct infra_error *err)
{
    static const char *const names[] = {"AccessKeyId", "SecretAccessKey", "SessionToken",
                                        "Expiration"};
    char result[96];
    xmlDoc *doc;
    xmlNode *c;
    xmlChar *v[4] = {NULL, NULL, NULL, NULL};
    bool ok = false;

    memset(out, 0, sizeof(*out));
    if (!body || len == 0 || len > 1024 * 1024) {
        infra_error_set(err, "%s: STS response empty or too large", source);
        return false;
    }
    doc = xmlReadMemory(body, (int)len, "sts.xml", NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc) {
        infra_error_set(err, "%s: STS response is not XML", source);
        return false;
    }
    snprintf(result, sizeof(result), "%.80sResult", action);
    c = xml_child(xml_child(xmlDocGetRootElement(doc), result), "Credentials");
    if (!c) {
        infra_error_set(err, "%s: STS response has no %s/Credentials", source, result);
        goto out;
    }
    for (int i = 0; i < 4; i++)
        v[i] = xmlNodeGetContent(xml_child(c, names[i]));
    if (!aws_credentials_fill(out, (const char *)v[0], (const char *)v[1], (const char *)v[2],
                              source, err))
        goto out;
    if (!aws_iso8601_parse((const char *)v[3], &out->expiration)) {
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

static void session_name(const struct aws_sts_role *role, char *out, size_t outsz)
{
    if (role->session_name && *role->session_name)
        snprintf(out, outsz, "%.64s", role->session_name);
    else
        snprintf(out, outsz, "anonetl-%ld", (long)time(NULL));
}

static bool sts_url(const struct aws_sts_target *t, char *url, size_t urlsz,
                    struct infra_error *err)
{
    if (!t->region || !*t->region) {
        infra_error_set(err, "STS: no region");
        return false;
    }
    return aws_endpoint_resolve_profile(t->endpoint, "sts", t->region, t->profile, url, urlsz, err);
}

/* An STS error answer as "HTTP 403 AccessDenied: message". */
static void refusal(const struct aws_http_response *r, char *out, size_t outsz)
{
    char code[128], msg[384];

    aws_http_error_code(r->body, r->body_len, code, sizeof(code), msg, sizeof(msg));
    snprintf(out, outsz, "HTTP %ld %s%s%s", r->status, code, msg[0] ? ": " : "", msg);
}

static void wipe_response(struct aws_http_response *r)
{
    if (r->body)
        OPENSSL_cleanse(r->body, r->body_len);
    aws_http_response_free(r);
}

static void wipe_form(struct aws_form *f)
{
    if (f->data)
        OPENSSL_cleanse(f->data, f->len);
    aws_form_free(f);
}

bool aws_sts_assume_role(const struct aws_sts_target *t, const struct aws_credentials *source,
                         const struct aws_sts_role *role, struct aws_credentials *out,
                         struct infra_error *err)
{
    char url[AWS_URL_MAX], sess[80], dur[16], why[600];
    struct aws_creds_provider *creds = NULL;
    struct aws_client *client = NULL;
    struct aws_form form;
    struct aws_http_response resp = {0};
    struct infra_error e = {{0}};
    bool ok = false;

    memset(out, 0, sizeof(*out));
    aws_form_init(&form);
    if (!role || !role->role_arn || !*role->role_arn) {
        infra_error_set(err, "assume role: no role_arn");
        return false;
    }
    if (!sts_url(t, url, sizeof(url), &e)) {
        infra_error_set(err, "assume role %.200s: %s", role->role_arn, e.msg);
        return false;
    }
    creds = aws_creds_static_new(source->access_key_id, source->secret_access_key,
                                 source->session_token[0] ? source->session_token : NULL, &e);
    client = creds ? aws_client_new("sts", t->region, url, creds, t->http, &e) : NULL;
    if (!client) {
        infra_error_set(err, "assume role %.200s: %s", role->role_arn, e.msg);
        goto out;
    }
    session_name(role, sess, sizeof(sess));
    aws_form_add(&form, "Action", "AssumeRole");
    aws_form_add(&form, "Version", STS_VERSION);
    aws_form_add(&form, "RoleArn", role->role_arn);
    aws_form_add(&form, "RoleSessionName", sess);
    if (role->external_id && *role->external_id)
        aws_form_add(&form, "ExternalId", role->external_id);
    if (role->duration_seconds > 0) {
        snprintf(dur, sizeof(dur), "%d", role->duration_seconds);
        aws_form_add(&form, "DurationSeconds", dur);
    }
    if (!aws_client_post_form(client, &form, &resp, &e)) {
        infra_error_set(err, "assume role %.200s: STS AssumeRole: %s", role->role_arn, e.msg);
        goto out;
    }
    if (resp.status != 200) {
        refusal(&resp, why, sizeof(why));
        infra_error_set(err, "assume role %.200s (with credentials from %s): STS AssumeRole: %s",
                        role->role_arn, source->source, why);
        goto out;
    }
    ok = aws_sts_parse_credentials(resp.body, resp.body_len, "AssumeRole", "assume-role", out, err);
out:
    wipe_response(&resp);
    wipe_form(&form);
    aws_client_free(client);
    aws_creds_provider_free(creds);
    return ok;
}

bool aws_sts_assume_role_web_identity(const struct aws_sts_target *t, const char *token_file,
                                      const struct aws_sts_role *role, const char *source,
                                      struct aws_credentials *out, struct infra_error *err)
{
    static const char *const hdrs[] = {
        "Content-Type: application/x-www-form-urlencoded; charset=utf-8",
        "Accept: application/xml"};
    char url[AWS_URL_MAX], sess[80], why[600];
    char *token;
    size_t tlen = 0;
    bool missing, ok = false;
    struct aws_form form;
    struct aws_http_response resp = {0};
    struct infra_error e = {{0}};

    memset(out, 0, sizeof(*out));
    token = aws_profile_read_file(token_file, TOKEN_FILE_MAX, &tlen, &missing, &e);
    if (!token) {
        infra_error_set(err, "%s: token file: %s", source, e.msg);
        return false;
    }
    aws_form_init(&form);
    while (tlen > 0 && isspace((unsigned char)token[tlen - 1]))
        token[--tlen] = '\0';
    if (tlen == 0) {
        infra_error_set(err, "%s: token file %s is empty", source, token_file);
        goto out;
    }
    if (!sts_url(t, url, sizeof(url), &e)) {
        infra_error_set(err, "%s: %s", source, e.msg);
        goto out;
    }
    session_name(role, sess, sizeof(sess));
    aws_form_add(&form, "Action", "AssumeRoleWithWebIdentity");
    aws_form_add(&form, "Version", STS_VERSION);
    aws_form_add(&form, "RoleArn", role->role_arn);
    aws_form_add(&form, "RoleSessionName", sess);
    aws_form_add(&form, "WebIdentityToken", token);
    if (role->duration_seconds > 0) {
        char dur[16];
        snprintf(dur, sizeof(dur), "%d", role->duration_seconds);
        aws_form_add(&form, "DurationSeconds", dur);
    }
    if (aws_form_failed(&form)) {
        infra_error_set(err, "%s: request too large", source);
        goto out;
    }
    struct aws_http_request req = {"POST", url, hdrs, 2, form.data, form.len, AWS_URL_API};
    if (!aws_http_send(&req, t->http, &resp, &e)) {
        infra_error_set(err, "%s: STS AssumeRoleWithWebIdentity: %s", source, e.msg);
        goto out;
    }
    if (resp.status != 200) {
        refusal(&resp, why, sizeof(why));
        infra_error_set(err, "%s: STS AssumeRoleWithWebIdentity for %.200s: %s", source,
                        role->role_arn, why);
        goto out;
    }
    ok = aws_sts_parse_credentials(resp.body, resp.body_len, "AssumeRoleWithWebIdentity",
                                   "web-identity", out, err);
out:
    wipe_response(&resp);
    wipe_form(&form);
    aws_profile_free_secret(token, TOKEN_FILE_MAX + 1);
    return ok;
}
