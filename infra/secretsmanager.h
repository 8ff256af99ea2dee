/*
 * secretsmanager.h: read a secret from AWS Secrets Manager (GetSecretValue, JSON
 * protocol, SigV4 through an aws_client for service "secretsmanager"), and pick one key
 * of a JSON secret (RDS-style {"username": ..., "password": ...}).
 *
 * Values come back in malloc'd buffers the caller releases with secretsmanager_value_free
 * (wiped first). Every intermediate copy made here (the HTTP body, the parsed JSON
 * strings) is wiped before it is freed. Error messages name the secret id and the AWS
 * error code and message, never the value (nor a parser excerpt of it).
 */
#ifndef SECRETSMANAGER_H
#define SECRETSMANAGER_H

#include <stdbool.h>
#include <stddef.h>

#include "infra/infra_error.h"

struct aws_client; /* infra/aws_http.h */

#define SECRETSMANAGER_SERVICE "secretsmanager"

/*
 * The region of a Secrets Manager ARN: "arn:PARTITION:secretsmanager:REGION:ACCOUNT:
 * secret:NAME" -> REGION. False when arn is not such an ARN (a plain secret name).
 */
bool secretsmanager_arn_region(const char *arn, char *out, size_t outsz);

/*
 * Why GetSecretValue gave no value. The first group is about what the config names (the
 * secret, the policy the job's role has on it, the secret's content); the second about
 * the state of the network, of AWS or of the credentials, whatever the config says.
 */
enum secretsmanager_error_kind {
    SECRETSMANAGER_OK = 0,
    /* ResourceNotFoundException: no such secret (or version) */
    SECRETSMANAGER_ERR_NOT_FOUND,
    /* AccessDeniedException: the IAM policy does not allow secretsmanager:GetSecretValue
     * (or kms:Decrypt) on it */
    SECRETSMANAGER_ERR_DENIED,
    /* another refusal of this request: InvalidRequestException (marked for deletion),
     * DecryptionFailure, InvalidParameterException */
    SECRETSMANAGER_ERR_REFUSED,
    /* the answer holds no usable value (none, over 64 KiB, bad base64) */
    SECRETSMANAGER_ERR_VALUE,
    /* the request could not be made: a bad secret id, a body over the limit */
    SECRETSMANAGER_ERR_REQUEST,
    /* the credentials or the signature were refused (SignatureDoesNotMatch,
     * InvalidClientTokenId, ExpiredToken) */
    SECRETSMANAGER_ERR_AUTH,
    /* the request time was refused: the local clock is off */
    SECRETSMANAGER_ERR_CLOCK_SKEW,
    /* still throttled after the transport's retries */
    SECRETSMANAGER_ERR_THROTTLED,
    /* HTTP 5xx after the retries, or an answer that is not Secrets Manager's (no error
     * document, not JSON) */
    SECRETSMANAGER_ERR_SERVER,
    /* no answer: unreachable, timeout, TLS, no credentials */
    SECRETSMANAGER_ERR_TRANSPORT,
};
const char *secretsmanager_error_kind_name(enum secretsmanager_error_kind k); /* "not-found" */
/* True for the kinds about the config and the secret (the first group above). */
bool secretsmanager_error_is_config(enum secretsmanager_error_kind k);

/*
 * The kind of an error answer: HTTP status, the error code ("" when the answer had none),
 * and whether the transport saw a clock skew (its Date header AWS_CLOCK_SKEW_MIN_S or more
 * away, or a re-signed attempt refused again).
 */
enum secretsmanager_error_kind secretsmanager_classify(long status, const char *code,
                                                       bool clock_skewed);

/*
 * GetSecretValue(SecretId = secret_id) through c. On success *value (NUL-terminated,
 * *len bytes, malloc'd) is the SecretString, or the SecretBinary decoded from base64
 * (then *is_binary is true; is_binary may be NULL). A secret of over 64 KiB is refused.
 * On false, *kind (may be NULL) says why.
 */
bool secretsmanager_get(struct aws_client *c, const char *secret_id, char **value, size_t *len,
                        bool *is_binary, enum secretsmanager_error_kind *kind,
                        struct infra_error *err) INFRA_MUST_CHECK;

/*
 * The value of key in the JSON object doc[0..len): a string as is, an integer in
 * decimal; anything else (missing key, not an object, not JSON, another type) is an
 * error naming the key. *out is malloc'd, NUL-terminated, *outlen bytes.
 */
bool secretsmanager_json_key(const char *doc, size_t len, const char *key, char **out,
                             size_t *outlen, struct infra_error *err) INFRA_MUST_CHECK;

/* Wipe value[0..len) and free it; NULL is a no-op. */
void secretsmanager_value_free(char *value, size_t len);

#endif
