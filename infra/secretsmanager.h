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
 * GetSecretValue(SecretId = secret_id) through c. On success *value (NUL-terminated,
 * *len bytes, malloc'd) is the SecretString, or the SecretBinary decoded from base64
 * (then *is_binary is true; is_binary may be NULL). A secret of over 64 KiB is refused.
 */
bool secretsmanager_get(struct aws_client *c, const char *secret_id, char **value, size_t *len,
                        bool *is_binary, struct infra_error *err) INFRA_MUST_CHECK;

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
