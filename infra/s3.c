/*
 * s3.c: S3 GetObject, see s3.h.
 *
 * One short-lived aws_client per attempt region: virtual-hosted addressing needs the
 * bucket in the host name, so the client's endpoint is per bucket. The key is encoded
 * once here (every byte but RFC 3986 unreserved and '/'), which is both the path sent and
 * the canonical URI S3 signs.
 */
#include "infra/s3.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infra/aws_http.h"
#include "infra/sigv4.h"

const char *s3_error_kind_name(enum s3_error_kind k)
{
    switch (k) {
    case S3_OK:
        return "ok";
    case S3_ERR_NO_SUCH_KEY:
        return "no-such-key";
    case S3_ERR_NO_SUCH_BUCKET:
        return "no-such-bucket";
    case S3_ERR_ACCESS_DENIED:
        return "access-denied";
    case S3_ERR_AUTH:
        return "auth";
    case S3_ERR_TRANSPORT:
        return "transport";
    case S3_ERR_TOO_LARGE:
        return "too-large";
    case S3_ERR_OTHER:
        return "other";
    }
    return "?";
}

void s3_object_free(struct s3_object *o)
{
    if (!o)
        return;
    free(o->body);
    memset(o, 0, sizeof(*o));
}

bool s3_is_url(const char *url)
{
    return url && strncmp(url, "s3://", 5) == 0;
}

/* S3 bucket naming rules (the ones that matter for a URL): 3-63 of [a-z0-9.-]. */
static bool bucket_valid(const char *b, size_t n)
{
    if (n < 3 || n > 63)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!islower((unsigned char)b[i]) && !isdigit((unsigned char)b[i]) && b[i] != '.' &&
            b[i] != '-')
            return false;
    return isalnum((unsigned char)b[0]) && isalnum((unsigned char)b[n - 1]);
}

bool s3_url_parse(const char *url, char bucket[S3_BUCKET_MAX], char key[S3_KEY_MAX],
                  struct infra_error *err)
{
    const char *b, *slash;
    size_t bn, kn;

    if (!s3_is_url(url)) {
        infra_error_set(err, "not an s3:// URL");
        return false;
    }
    b = url + 5;
    slash = strchr(b, '/');
    bn = slash ? (size_t)(slash - b) : strlen(b);
    if (!bucket_valid(b, bn)) {
        infra_error_set(
            err, "%.300s: the bucket name must be 3-63 characters of a-z, 0-9, '.', '-'", url);
        return false;
    }
    kn = slash ? strlen(slash + 1) : 0;
    if (kn == 0 || kn >= S3_KEY_MAX || strpbrk(slash + 1, "\r\n")) {
        infra_error_set(err, "%.300s: expected s3://BUCKET/KEY with a key of 1-1024 bytes", url);
        return false;
    }
    memcpy(bucket, b, bn);
    bucket[bn] = '\0';
    memcpy(key, slash + 1, kn + 1);
    return true;
}

/* Virtual-hosted addressing needs the bucket to be one DNS label (dots would break the
 * TLS wildcard certificate *.s3.<region>.amazonaws.com). */
static bool virtual_hostable(const char *bucket)
{
    return !strchr(bucket, '.');
}

/* The endpoint and the path for one attempt. */
static bool locate(const char *bucket, const char *key, const char *region, char *endpoint,
                   size_t endpointsz, char *path, size_t pathsz, struct infra_error *err)
{
    char configured[AWS_URL_MAX], ekey[3 * S3_KEY_MAX + 2];
    size_t n = sigv4_uri_encode(key, strlen(key), true, ekey, sizeof(ekey));
    bool custom;
    int w;

    if (n >= sizeof(ekey)) {
        infra_error_set(err, "s3: key too long");
        return false;
    }
    if (!aws_endpoint_resolve(NULL, "s3", region, configured, sizeof(configured), err))
        return false;
    /* the resolver falls back to https://s3.<region>.amazonaws.com: anything else was
     * configured (AWS_ENDPOINT_URL_S3, a services section, ...) */
    {
        char dflt[160];
        snprintf(dflt, sizeof(dflt), "https://s3.%s.amazonaws.com", region);
        custom = strcmp(configured, dflt) != 0;
    }
    if (!custom && virtual_hostable(bucket)) {
        w = snprintf(endpoint, endpointsz, "https://%s.s3.%s.amazonaws.com", bucket, region);
        if (w > 0 && (size_t)w < endpointsz)
            w = snprintf(path, pathsz, "/%s", ekey);
    } else {
        w = snprintf(endpoint, endpointsz, "%s", configured);
        if (w > 0 && (size_t)w < endpointsz)
            w = snprintf(path, pathsz, "/%s/%s", bucket, ekey);
    }
    if (w < 0 || (size_t)w >= pathsz) {
        infra_error_set(err, "s3: URL too long");
        return false;
    }
    return true;
}

static enum s3_error_kind classify(long status, const char *code)
{
    if (strcmp(code, "NoSuchKey") == 0)
        return S3_ERR_NO_SUCH_KEY;
    if (strcmp(code, "NoSuchBucket") == 0)
        return S3_ERR_NO_SUCH_BUCKET;
    if (strcmp(code, "AccessDenied") == 0 || strcmp(code, "AllAccessDisabled") == 0 ||
        strcmp(code, "KMS.AccessDeniedException") == 0)
        return S3_ERR_ACCESS_DENIED;
    if (aws_error_classify(code) == AWS_ERR_AUTH || strcmp(code, "InvalidAccessKeyId") == 0)
        return S3_ERR_AUTH;
    if (status == 404)
        return S3_ERR_NO_SUCH_KEY;
    if (status == 403)
        return S3_ERR_ACCESS_DENIED;
    return S3_ERR_OTHER;
}

static void refusal(const char *bucket, const char *key, long status, const char *code,
                    const char *msg, enum s3_error_kind kind, struct infra_error *err)
{
    const char *hint = "";

    switch (kind) {
    case S3_ERR_NO_SUCH_KEY:
        hint = "the bucket exists but has no such key: check the key (it is case-sensitive) "
               "and that the config was uploaded";
        break;
    case S3_ERR_NO_SUCH_BUCKET:
        hint = "no bucket of that name: check the bucket name";
        break;
    case S3_ERR_ACCESS_DENIED:
        hint = "these credentials may not read it: the task role needs s3:GetObject (and "
               "s3:GetObjectVersion) on this key, kms:Decrypt for a KMS-encrypted bucket, and "
               "the bucket policy must allow it";
        break;
    case S3_ERR_AUTH:
        hint = "the request's signature or key id was refused: check the AWS credentials "
               "and the system clock";
        break;
    default:
        break;
    }
    infra_error_set(err, "s3://%s/%.300s: S3 GetObject answered HTTP %ld %s%s%.200s%s%s", bucket,
                    key, status, code[0] ? code : "(no error code)", msg[0] ? ": " : "", msg,
                    hint[0] ? "; " : "", hint);
}

/* One GetObject in one region. *moved gets the bucket's region when S3 says it is
 * elsewhere. */
static bool get_once(const char *bucket, const char *key, const char *region,
                     struct aws_creds_provider *creds, struct s3_object *out,
                     enum s3_error_kind *kind, char *moved, size_t movedsz, struct infra_error *err)
{
    char endpoint[AWS_URL_MAX], path[3 * S3_KEY_MAX + 80], code[128], msg[256];
    struct aws_http_options o = AWS_HTTP_OPTIONS_BOUNDED;
    struct aws_client *c = NULL;
    struct aws_http_response r = {0};
    struct infra_error e = {{0}};
    bool ok = false;

    o.max_body = S3_OBJECT_MAX;
    moved[0] = '\0';
    *kind = S3_ERR_OTHER;
    if (!locate(bucket, key, region, endpoint, sizeof(endpoint), path, sizeof(path), err))
        return false;
    c = aws_client_new("s3", region, endpoint, creds, &o, &e);
    if (!c) {
        infra_error_set(err, "s3://%s/%.300s: %s", bucket, key, e.msg);
        return false;
    }
    if (!aws_client_get(c, path, &r, &e)) {
        *kind = strstr(e.msg, "larger than") ? S3_ERR_TOO_LARGE : S3_ERR_TRANSPORT;
        infra_error_set(err, "s3://%s/%.300s: %s", bucket, key, e.msg);
        goto out;
    }
    if (r.status != 200) {
        aws_http_error_code(r.body, r.body_len, code, sizeof(code), msg, sizeof(msg));
        if ((r.status == 301 || r.status == 400 || r.status == 307) &&
            aws_http_response_header(&r, "x-amz-bucket-region", moved, movedsz) &&
            strcmp(moved, region) != 0)
            goto out; /* the caller tries that region */
        moved[0] = '\0';
        *kind = classify(r.status, code);
        refusal(bucket, key, r.status, code, msg, *kind, err);
        goto out;
    }
    aws_http_response_header(&r, "ETag", out->etag, sizeof(out->etag));
    {
        size_t n = strlen(out->etag);
        if (n >= 2 && out->etag[0] == '"' && out->etag[n - 1] == '"') {
            memmove(out->etag, out->etag + 1, n - 2);
            out->etag[n - 2] = '\0';
        }
    }
    aws_http_response_header(&r, "x-amz-version-id", out->version_id, sizeof(out->version_id));
    if (strcmp(out->version_id, "null") == 0) /* an unversioned object in a versioned bucket */
        out->version_id[0] = '\0';
    snprintf(out->region, sizeof(out->region), "%s", region);
    out->body = r.body;
    out->len = r.body_len;
    r.body = NULL;
    *kind = S3_OK;
    ok = true;
out:
    aws_http_response_free(&r);
    aws_client_free(c);
    return ok;
}

bool s3_get_object(const char *bucket, const char *key, const char *region,
                   struct aws_creds_provider *creds, struct s3_object *out,
                   enum s3_error_kind *kind, struct infra_error *err)
{
    char moved[64], second[64];

    memset(out, 0, sizeof(*out));
    if (!region || !*region)
        region = "us-east-1";
    if (get_once(bucket, key, region, creds, out, kind, moved, sizeof(moved), err))
        return true;
    if (!moved[0])
        return false;
    for (const char *p = moved; *p; p++) {
        if (!isalnum((unsigned char)*p) && *p != '-') {
            infra_error_set(err, "s3://%s/%.300s: S3 named an invalid bucket region", bucket, key);
            return false;
        }
    }
    snprintf(second, sizeof(second), "%s", moved);
    if (get_once(bucket, key, second, creds, out, kind, moved, sizeof(moved), err))
        return true;
    if (moved[0])
        infra_error_set(err, "s3://%s/%.300s: S3 redirected to region %s twice", bucket, key,
                        moved);
    return false;
}
