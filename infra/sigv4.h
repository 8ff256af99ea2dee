/*
 * sigv4.h: AWS Signature Version 4 (AWS4-HMAC-SHA256), in its two forms:
 *
 *   - header signing (sigv4_sign_headers): the Authorization header value of an API call;
 *   - presigning (sigv4_presign): a query string carrying X-Amz-Algorithm, -Credential,
 *     -Date, -Expires, -SignedHeaders[, -Security-Token] and -Signature (a presigned URL,
 *     an RDS IAM auth token).
 *
 * The payload hash is the value of an x-amz-content-sha256 header when the request has
 * one (S3 requires the header; the value may be UNSIGNED-PAYLOAD), else the hex SHA-256
 * of the body.
 *
 * The signer signs exactly the headers it is given (names are lower-cased, values trimmed
 * and inner whitespace runs folded, duplicates joined with ','): the caller adds "host",
 * "x-amz-date" (sigv4_amz_date), "content-type" for a form POST and, when the key has a
 * session token, "x-amz-security-token". Every stage is returned so tests can compare
 * the canonical request, the string to sign, the signature and the header one by one.
 * Nothing here does I/O; OpenSSL does SHA-256/HMAC. Derived keys are wiped after use.
 */
#ifndef SIGV4_H
#define SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "infra/infra_error.h"

#define SIGV4_MAX_EXPIRES 604800 /* seven days, the AWS limit for presigned requests */

struct sigv4_header {
    const char *name;
    const char *value;
};

/* The request to sign, as it will be sent. */
struct sigv4_request {
    const char *method;                 /* "GET", "POST" */
    const char *path;                   /* as on the request line ("/", "/a%20b"); NULL = "/" */
    const char *query;                  /* as sent, without '?'; NULL or "" for none */
    const struct sigv4_header *headers; /* every header to sign; must include "host" */
    size_t n_headers;
    const void *body; /* NULL when body_len is 0 */
    size_t body_len;
};

/* The key material. The secret is only read; it never appears in any output. */
struct sigv4_key {
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token; /* NULL for long-term keys; used by sigv4_presign only (header
                                  mode signs the x-amz-security-token header if given) */
};

struct sigv4_params {
    const char *region;  /* "us-east-1" */
    const char *service; /* "ec2", "sts", "rds-db" */
    time_t when;         /* signing time (UTC seconds) */
    bool normalize_path; /* remove "." / ".." / empty segments: true for every service but S3 */
    unsigned expires;    /* sigv4_presign only: X-Amz-Expires, 1..SIGV4_MAX_EXPIRES */
    bool s3;             /* S3's rules: the path is taken as sent, already percent-encoded
                            once, and is not encoded again (normalize_path must be false) */
};

/* Every stage of one signature. Strings are heap-allocated; sigv4_signature_free frees. */
struct sigv4_signature {
    char amz_date[17];        /* "20150830T123600Z" */
    char scope[128];          /* "20150830/us-east-1/service/aws4_request" */
    char signed_headers[512]; /* "host;x-amz-date" */
    char signature[65];       /* lower-case hex */
    char *canonical_request;
    char *string_to_sign;
    char *authorization; /* header mode: the Authorization header value; presign: NULL */
    char *query;         /* presign: the complete query string to send (the original
                            parameters, the X-Amz-* ones, X-Amz-Signature last); header: NULL */
};

/* Format t as the X-Amz-Date value "YYYYMMDDTHHMMSSZ" (out has 17 bytes). */
void sigv4_amz_date(time_t t, char out[17]);

/* Header signing. On success *sig holds every stage; on failure *sig is empty. */
bool sigv4_sign_headers(const struct sigv4_request *req, const struct sigv4_key *key,
                        const struct sigv4_params *params, struct sigv4_signature *sig,
                        struct infra_error *err) INFRA_MUST_CHECK;

/* Presigning (query-string signing). req->query holds the caller's own parameters (e.g.
 * "Action=connect&DBUser=u"); the X-Amz-* parameters are added, the token included (and
 * signed) when key->session_token is set. The payload hash is that of req->body (empty
 * for a presigned GET). sig->query is the query string to append after '?'. */
bool sigv4_presign(const struct sigv4_request *req, const struct sigv4_key *key,
                   const struct sigv4_params *params, struct sigv4_signature *sig,
                   struct infra_error *err) INFRA_MUST_CHECK;

void sigv4_signature_free(struct sigv4_signature *sig);

/*
 * Percent-encode s[0..len) the SigV4 way (RFC 3986 unreserved kept, everything else %XX
 * upper-case; '/' kept when keep_slash). Writes a NUL-terminated string into out and
 * returns the length it needs (excluding the NUL), like snprintf: the result is complete
 * only when the return value is < outsz. Use it for form values and query parameters.
 */
size_t sigv4_uri_encode(const char *s, size_t len, bool keep_slash, char *out, size_t outsz);

/* Lower-case hex SHA-256 of data (out has 65 bytes). */
void sigv4_sha256_hex(const void *data, size_t len, char out[65]);

#endif
