/*
 * s3.h: reading one object from S3 (GetObject), for a config kept in S3
 * (`anonetl run -c s3://bucket/key`).
 *
 * The request is signed by the AWS client of infra/aws_http.h with S3's SigV4 rules
 * (x-amz-content-sha256, the key's path encoded once and not normalised) and retried as
 * every AWS call. Addressing: the endpoint is AWS_ENDPOINT_URL_S3 (or the profile's
 * services section, AWS_ENDPOINT_URL ...) with path-style URLs (endpoint/bucket/key, as
 * the SDKs do for a custom endpoint), else https://<bucket>.s3.<region>.amazonaws.com/<key>
 * (virtual-hosted) when the bucket name is a DNS label without dots, else
 * https://s3.<region>.amazonaws.com/<bucket>/<key>. A bucket in another region answers
 * with its region (x-amz-bucket-region): the request is made once more there.
 * Errors are classified so that the caller can say what to fix.
 */
#ifndef S3_H
#define S3_H

#include <stdbool.h>
#include <stddef.h>

#include "infra/infra_error.h"

struct aws_creds_provider; /* infra/aws_creds.h */

#define S3_BUCKET_MAX 64
#define S3_KEY_MAX 1025
#define S3_OBJECT_MAX (8u * 1024u * 1024u) /* larger objects are refused */

enum s3_error_kind {
    S3_OK = 0,
    S3_ERR_NO_SUCH_KEY,    /* the bucket exists, the key does not */
    S3_ERR_NO_SUCH_BUCKET, /* no such bucket */
    S3_ERR_ACCESS_DENIED,  /* the credentials may not read it (s3:GetObject, KMS, bucket policy) */
    S3_ERR_AUTH,           /* the signature or the key id was refused */
    S3_ERR_TRANSPORT,      /* no answer: network, TLS, timeout, credentials */
    S3_ERR_TOO_LARGE,      /* over S3_OBJECT_MAX */
    S3_ERR_OTHER,          /* any other error answer */
};
const char *s3_error_kind_name(enum s3_error_kind k); /* "no-such-key", ... */

struct s3_object {
    char *body; /* NUL-terminated (malloc) */
    size_t len;
    char etag[130];        /* as S3 sent it, quotes removed */
    char version_id[1100]; /* "" when the bucket is not versioned */
    char region[64];       /* the region that answered */
};
void s3_object_free(struct s3_object *o);

/* Split "s3://bucket/key" (key non-empty, any bytes but NUL and line breaks). */
bool s3_url_parse(const char *url, char bucket[S3_BUCKET_MAX], char key[S3_KEY_MAX],
                  struct infra_error *err) INFRA_MUST_CHECK;
/* Does url start with "s3://"? */
bool s3_is_url(const char *url);

/*
 * GetObject bucket/key. region: the region to try first (NULL/"": us-east-1). creds is
 * borrowed. On false, *kind says what went wrong and err has a message naming the
 * object, the S3 error code and what to check.
 */
bool s3_get_object(const char *bucket, const char *key, const char *region,
                   struct aws_creds_provider *creds, struct s3_object *out,
                   enum s3_error_kind *kind, struct infra_error *err) INFRA_MUST_CHECK;

#endif
