/*
 * secretsmanager.c: GetSecretValue and JSON key selection (see secretsmanager.h).
 *
 * Why so much wiping: the secret passes through the HTTP body buffer, jansson's string
 * objects and our result; each copy we own is cleansed before free. (jansson's own
 * scratch buffers during parsing are outside our reach; they hold the value only
 * briefly and are freed at once.) jansson's error text quotes the input near the error,
 * so it is never passed on: messages carry only the line and column.
 */
#include "infra/secretsmanager.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "infra/aws_http.h"
#include "infra/aws_retry.h"

#define SECRET_MAX (64 * 1024) /* Secrets Manager's own limit is 64 KiB */

bool secretsmanager_arn_region(const char *arn, char *out, size_t outsz)
{
    const char *p, *region, *end;
    size_t n;

    if (!arn || strncmp(arn, "arn:", 4) != 0)
        return false;
    p = strchr(arn + 4, ':'); /* after the partition */
    if (!p || strncmp(p + 1, "secretsmanager:", 15) != 0)
        return false;
    region = p + 16;
    end = strchr(region, ':');
    if (!end || end == region)
        return false;
    n = (size_t)(end - region);
    if (n >= outsz)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((region[i] >= 'a' && region[i] <= 'z') || (region[i] >= '0' && region[i] <= '9') ||
              region[i] == '-'))
            return false;
    memcpy(out, region, n);
    out[n] = '\0';
    return true;
}

void secretsmanager_value_free(char *value, size_t len)
{
    if (!value)
        return;
    OPENSSL_cleanse(value, len);
    free(value);
}

/* Cleanse every string held by v (object values, array items, nested) in place. */
static void wipe_json(json_t *v)
{
    const char *k;
    json_t *item;
    size_t i;

    if (json_is_string(v)) {
        OPENSSL_cleanse((char *)json_string_value(v), json_string_length(v));
    } else if (json_is_object(v)) {
        json_object_foreach(v, k, item) wipe_json(item);
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, item) wipe_json(item);
    }
}

static void json_free_wiped(json_t *v)
{
    if (v) {
        wipe_json(v);
        json_decref(v);
    }
}

static char *dup_bytes(const char *s, size_t n)
{
    char *p = malloc(n + 1);

    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

/* base64 (as SecretBinary travels in JSON) to bytes, NUL-terminated for convenience. */
static bool base64_decode(const char *in, size_t inlen, char **out, size_t *outlen)
{
    EVP_ENCODE_CTX *ctx;
    unsigned char *buf;
    int n = 0, m = 0;
    bool ok;

    if (inlen > (size_t)SECRET_MAX * 2)
        return false;
    buf = malloc(inlen / 4 * 3 + 4);
    ctx = EVP_ENCODE_CTX_new();
    ok = buf && ctx;
    if (ok) {
        EVP_DecodeInit(ctx);
        ok = EVP_DecodeUpdate(ctx, buf, &n, (const unsigned char *)in, (int)inlen) >= 0 &&
             EVP_DecodeFinal(ctx, buf + n, &m) == 1;
    }
    EVP_ENCODE_CTX_free(ctx);
    if (!ok) {
        if (buf)
            OPENSSL_cleanse(buf, inlen / 4 * 3 + 4);
        free(buf);
        return false;
    }
    buf[n + m] = '\0';
    *out = (char *)buf;
    *outlen = (size_t)(n + m);
    return true;
}

const char *secretsmanager_error_kind_name(enum secretsmanager_error_kind k)
{
    switch (k) {
    case SECRETSMANAGER_OK:
        return "ok";
    case SECRETSMANAGER_ERR_NOT_FOUND:
        return "not-found";
    case SECRETSMANAGER_ERR_DENIED:
        return "denied";
    case SECRETSMANAGER_ERR_REFUSED:
        return "refused";
    case SECRETSMANAGER_ERR_VALUE:
        return "value";
    case SECRETSMANAGER_ERR_REQUEST:
        return "request";
    case SECRETSMANAGER_ERR_AUTH:
        return "auth";
    case SECRETSMANAGER_ERR_CLOCK_SKEW:
        return "clock-skew";
    case SECRETSMANAGER_ERR_THROTTLED:
        return "throttled";
    case SECRETSMANAGER_ERR_SERVER:
        return "server";
    case SECRETSMANAGER_ERR_TRANSPORT:
        return "transport";
    }
    return "?";
}

bool secretsmanager_error_is_config(enum secretsmanager_error_kind k)
{
    return k == SECRETSMANAGER_ERR_NOT_FOUND || k == SECRETSMANAGER_ERR_DENIED ||
           k == SECRETSMANAGER_ERR_REFUSED || k == SECRETSMANAGER_ERR_VALUE ||
           k == SECRETSMANAGER_ERR_REQUEST;
}

enum secretsmanager_error_kind secretsmanager_classify(long status, const char *code,
                                                       bool clock_skewed)
{
    if (!code || !*code) /* not an AWS error document: a proxy, a broken endpoint */
        return status == 429 ? SECRETSMANAGER_ERR_THROTTLED : SECRETSMANAGER_ERR_SERVER;
    if (clock_skewed && (aws_retry_is_skew_code(code) || strcmp(code, "RequestExpired") == 0))
        return SECRETSMANAGER_ERR_CLOCK_SKEW;
    if (strcmp(code, "ResourceNotFoundException") == 0)
        return SECRETSMANAGER_ERR_NOT_FOUND;
    switch (aws_error_classify(code)) {
    case AWS_ERR_AUTH:
        return SECRETSMANAGER_ERR_AUTH;
    case AWS_ERR_DENIED:
        return SECRETSMANAGER_ERR_DENIED;
    case AWS_ERR_THROTTLE:
        return SECRETSMANAGER_ERR_THROTTLED;
    case AWS_ERR_NOT_FOUND:
        return SECRETSMANAGER_ERR_NOT_FOUND;
    case AWS_ERR_OTHER:
    default:
        break;
    }
    if (status >= 500 || status == 429)
        return status == 429 ? SECRETSMANAGER_ERR_THROTTLED : SECRETSMANAGER_ERR_SERVER;
    return SECRETSMANAGER_ERR_REFUSED;
}

/* What to do about an error answer of this kind (appended to the message). */
static const char *error_advice(enum secretsmanager_error_kind k)
{
    switch (k) {
    case SECRETSMANAGER_ERR_NOT_FOUND:
        return "check the ARN or name and its region";
    case SECRETSMANAGER_ERR_DENIED:
        return "the IAM policy of the job's credentials must allow secretsmanager:GetSecretValue "
               "on this secret (and kms:Decrypt on its KMS key when it is a customer managed key)";
    case SECRETSMANAGER_ERR_AUTH:
        return "the AWS credentials were refused: check the job's role or keys";
    case SECRETSMANAGER_ERR_CLOCK_SKEW:
        return "the request time was refused: check the system clock (NTP)";
    case SECRETSMANAGER_ERR_THROTTLED:
        return "still throttled after the retries";
    case SECRETSMANAGER_ERR_SERVER:
        return "Secrets Manager (or what answers for it) failed after the retries";
    default:
        return NULL;
    }
}

/* An error answer: {"__type": "[ns#]Code", "message"|"Message": "..."}, or an XML one. */
static enum secretsmanager_error_kind report_error(const struct aws_http_response *r,
                                                   const char *secret_id, struct infra_error *err)
{
    json_t *doc = json_loadb(r->body, r->body_len, 0, NULL);
    const char *type = json_string_value(json_object_get(doc, "__type"));
    const char *msg = json_string_value(json_object_get(doc, "message"));
    const char *hash, *advice;
    char code[128] = "", text[300] = "", attempts[64] = "";
    bool skewed = r->clock_corrected || labs(r->clock_skew_s) >= AWS_CLOCK_SKEW_MIN_S;
    enum secretsmanager_error_kind kind;

    if (!msg)
        msg = json_string_value(json_object_get(doc, "Message"));
    if (type && (hash = strrchr(type, '#')))
        type = hash + 1;
    if (type) {
        snprintf(code, sizeof(code), "%s", type);
        snprintf(text, sizeof(text), "%s", msg ? msg : "");
    } else if (!aws_http_error_code(r->body, r->body_len, code, sizeof(code), text, sizeof(text))) {
        code[0] = text[0] = '\0'; /* no document: a proxy, an older endpoint */
    }
    json_decref(doc);
    kind = secretsmanager_classify(r->status, code, skewed);
    advice = error_advice(kind);
    if (r->attempts > 1)
        snprintf(attempts, sizeof(attempts), ", %d attempts%s%s", r->attempts,
                 r->gave_up ? ", gave up: " : "", r->gave_up ? r->gave_up : "");
    if (kind == SECRETSMANAGER_ERR_CLOCK_SKEW)
        infra_error_set(err,
                        "secrets manager: %s: %s (HTTP %ld%s): its clock is %+ld s from ours; %s",
                        secret_id, code, r->status, attempts, r->clock_skew_s, advice);
    else if (code[0])
        infra_error_set(err, "secrets manager: %s: %s%s%.300s (HTTP %ld%s)%s%s", secret_id, code,
                        text[0] ? ": " : "", text, r->status, attempts, advice ? "; " : "",
                        advice ? advice : "");
    else
        infra_error_set(err, "secrets manager: %s: HTTP %ld with no AWS error document%s%s%s",
                        secret_id, r->status, attempts, advice ? "; " : "", advice ? advice : "");
    return kind;
}

/* The SecretString or decoded SecretBinary of a 200 answer. */
static bool extract_value(const struct aws_http_response *r, const char *secret_id, char **value,
                          size_t *len, bool *is_binary, enum secretsmanager_error_kind *kind,
                          struct infra_error *err)
{
    json_error_t jerr;
    json_t *doc = json_loadb(r->body, r->body_len, 0, &jerr);
    json_t *s = json_object_get(doc, "SecretString");
    json_t *b = json_object_get(doc, "SecretBinary");
    bool ok = false;

    *kind = SECRETSMANAGER_ERR_VALUE;
    if (!doc) { /* not Secrets Manager answering (a proxy's page?) */
        *kind = SECRETSMANAGER_ERR_SERVER;
        infra_error_set(err, "secrets manager: %s: the answer is not JSON (line %d, column %d)",
                        secret_id, jerr.line, jerr.column);
        return false;
    }
    if (json_is_string(s)) {
        *len = json_string_length(s);
        *value = *len <= SECRET_MAX ? dup_bytes(json_string_value(s), *len) : NULL;
        ok = *value != NULL;
        if (is_binary)
            *is_binary = false;
    } else if (json_is_string(b)) {
        ok = base64_decode(json_string_value(b), json_string_length(b), value, len) &&
             *len <= SECRET_MAX;
        if (!ok && *value) {
            secretsmanager_value_free(*value, *len);
            *value = NULL;
        }
        if (is_binary)
            *is_binary = true;
    } else {
        infra_error_set(err, "secrets manager: %s: the answer has no SecretString or SecretBinary",
                        secret_id);
        json_free_wiped(doc);
        return false;
    }
    if (!ok)
        infra_error_set(err,
                        "secrets manager: %s: the secret is over %d bytes, badly encoded, "
                        "or memory ran out",
                        secret_id, SECRET_MAX);
    json_free_wiped(doc);
    return ok;
}

bool secretsmanager_get(struct aws_client *c, const char *secret_id, char **value, size_t *len,
                        bool *is_binary, enum secretsmanager_error_kind *kind,
                        struct infra_error *err)
{
    enum secretsmanager_error_kind k_unused;
    struct aws_http_response r;
    json_t *req;
    char *body;
    bool ok;

    if (!kind)
        kind = &k_unused;
    *kind = SECRETSMANAGER_ERR_REQUEST;
    *value = NULL;
    *len = 0;
    if (!secret_id || !*secret_id || strlen(secret_id) > 2048) {
        infra_error_set(err, "secrets manager: a secret id (ARN or name) of 1..2048 bytes is "
                             "required");
        return false;
    }
    req = json_pack("{s:s}", "SecretId", secret_id);
    body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (!body) {
        infra_error_set(err, "secrets manager: %s: cannot build the request (not UTF-8?)",
                        secret_id);
        return false;
    }
    ok = aws_client_post_json(c, "secretsmanager.GetSecretValue", body, strlen(body), &r, err);
    free(body);
    if (!ok) {
        char why[sizeof(err->msg)];
        snprintf(why, sizeof(why), "%s", err->msg);
        infra_error_set(err, "secrets manager: %s: %s: %s", secret_id,
                        aws_http_failure_name(r.failure), why);
        *kind = r.failure == AWS_HTTP_FAIL_REQUEST ? SECRETSMANAGER_ERR_REQUEST
                                                   : SECRETSMANAGER_ERR_TRANSPORT;
        return false;
    }
    if (r.status == 200) {
        ok = extract_value(&r, secret_id, value, len, is_binary, kind, err);
    } else {
        *kind = report_error(&r, secret_id, err);
        ok = false;
    }
    if (ok)
        *kind = SECRETSMANAGER_OK;
    OPENSSL_cleanse(r.body, r.body_len);
    aws_http_response_free(&r);
    return ok;
}

bool secretsmanager_json_key(const char *doc, size_t len, const char *key, char **out,
                             size_t *outlen, struct infra_error *err)
{
    json_error_t jerr;
    json_t *root, *v;
    char num[32];
    bool ok = false;

    *out = NULL;
    *outlen = 0;
    root = json_loadb(doc, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(root)) {
        if (root)
            infra_error_set(err, "json_key %s: the secret is JSON but not an object", key);
        else
            infra_error_set(err,
                            "json_key %s: the secret is not a JSON object (parse error at "
                            "line %d, column %d)",
                            key, jerr.line, jerr.column);
        json_free_wiped(root);
        return false;
    }
    v = json_object_get(root, key);
    if (json_is_string(v)) {
        *outlen = json_string_length(v);
        *out = dup_bytes(json_string_value(v), *outlen);
        ok = *out != NULL;
        if (!ok)
            infra_error_set(err, "json_key %s: out of memory", key);
    } else if (json_is_integer(v)) {
        int n = snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        *outlen = (size_t)n;
        *out = dup_bytes(num, *outlen);
        ok = *out != NULL;
        OPENSSL_cleanse(num, sizeof(num));
        if (!ok)
            infra_error_set(err, "json_key %s: out of memory", key);
    } else if (!v) {
        infra_error_set(err, "json_key %s: no such key in the secret", key);
    } else {
        infra_error_set(err, "json_key %s: the value is not a string or an integer", key);
    }
    json_free_wiped(root);
    return ok;
}
