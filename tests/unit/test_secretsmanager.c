/*
 * test_secretsmanager.c: the offline parts of infra/secretsmanager: the region of an
 * ARN and json_key selection (types, errors, no value in any message). GetSecretValue
 * itself runs against moto in tests/preflight/secrets.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "infra/secretsmanager.h"

static void test_arn_region(void **state)
{
    char r[64];

    (void)state;
    assert_true(secretsmanager_arn_region(
        "arn:aws:secretsmanager:eu-west-2:123456789012:secret:anonetl/key-AbCdEf", r, sizeof(r)));
    assert_string_equal(r, "eu-west-2");
    assert_true(secretsmanager_arn_region(
        "arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:x", r, sizeof(r)));
    assert_string_equal(r, "us-gov-west-1");
    assert_true(
        secretsmanager_arn_region("arn:aws-cn:secretsmanager:cn-north-1:1:secret:x", r, sizeof(r)));
    assert_string_equal(r, "cn-north-1");
    /* not Secrets Manager ARNs, or malformed */
    assert_false(secretsmanager_arn_region("anonetl/key", r, sizeof(r)));
    assert_false(secretsmanager_arn_region("arn:aws:ssm:eu-west-2:1:parameter/x", r, sizeof(r)));
    assert_false(secretsmanager_arn_region("arn:aws:secretsmanager::1:secret:x", r, sizeof(r)));
    assert_false(secretsmanager_arn_region("arn:aws:secretsmanager:eu-west-2", r, sizeof(r)));
    assert_false(
        secretsmanager_arn_region("arn:aws:secretsmanager:EU WEST:1:secret:x", r, sizeof(r)));
    assert_false(secretsmanager_arn_region("arn:aws:secretsmanager:eu-west-2:1:secret:x", r, 4));
    assert_false(secretsmanager_arn_region(NULL, r, sizeof(r)));
}

static void expect_key(const char *doc, const char *key, const char *want)
{
    struct infra_error err = {{0}};
    char *out;
    size_t n;

    if (!secretsmanager_json_key(doc, strlen(doc), key, &out, &n, &err))
        fail_msg("json_key %s: %s", key, err.msg);
    assert_int_equal(n, strlen(want));
    assert_memory_equal(out, want, n);
    assert_int_equal(out[n], '\0');
    secretsmanager_value_free(out, n);
}

/* An error whose message names the key and never the document's values. */
static void expect_key_error(const char *doc, const char *key, const char *msg_part)
{
    struct infra_error err = {{0}};
    char *out = (char *)"untouched";
    size_t n = 7;

    assert_false(secretsmanager_json_key(doc, strlen(doc), key, &out, &n, &err));
    assert_null(out);
    assert_int_equal(n, 0);
    if (!strstr(err.msg, msg_part) || !strstr(err.msg, key))
        fail_msg("message '%s' lacks '%s' or the key", err.msg, msg_part);
    assert_null(strstr(err.msg, "hunter2"));
}

static void test_json_key(void **state)
{
    const char *rds = "{\"username\":\"app\",\"password\":\"p@ss w\\\"ord\\u00e9\",\"port\":5432,"
                      "\"engine\":\"postgres\",\"ssl\":true,\"nested\":{\"a\":\"hunter2\"},"
                      "\"list\":[\"hunter2\"],\"nothing\":null,\"ratio\":1.5}";

    (void)state;
    expect_key(rds, "password", "p@ss w\"ord\xc3\xa9");
    expect_key(rds, "username", "app");
    expect_key(rds, "port", "5432");
    expect_key("{\"k\":\"\"}", "k", "");
    expect_key_error(rds, "missing", "no such key");
    expect_key_error(rds, "nested", "not a string or an integer");
    expect_key_error(rds, "list", "not a string or an integer");
    expect_key_error(rds, "nothing", "not a string or an integer");
    expect_key_error(rds, "ssl", "not a string or an integer");
    expect_key_error(rds, "ratio", "not a string or an integer");
    expect_key_error("hunter2", "password", "not a JSON object");
    expect_key_error("host=db password=hunter2", "password", "not a JSON object");
    expect_key_error("[\"hunter2\"]", "password", "not an object");
    expect_key_error("\"hunter2\"", "password", "not a JSON object");
    expect_key_error("{\"password\":\"hunter2\",\"password\":\"x\"}", "password",
                     "not a JSON object");
    expect_key_error("{\"password\":\"hunter2\"", "password", "not a JSON object");
}

static void test_value_free_null(void **state)
{
    (void)state;
    secretsmanager_value_free(NULL, 0);
    secretsmanager_value_free(NULL, 10);
}

/* Whose problem an error answer is: the config's (exit 2) or the environment's (exit 3). */
static void test_classify(void **state)
{
    static const struct {
        long status;
        const char *code;
        bool skewed;
        enum secretsmanager_error_kind want;
        bool config;
    } cases[] = {
        {400, "ResourceNotFoundException", false, SECRETSMANAGER_ERR_NOT_FOUND, true},
        {400, "AccessDeniedException", false, SECRETSMANAGER_ERR_DENIED, true},
        {403, "AccessDenied", false, SECRETSMANAGER_ERR_DENIED, true},
        {400, "InvalidRequestException", false, SECRETSMANAGER_ERR_REFUSED, true},
        {400, "DecryptionFailure", false, SECRETSMANAGER_ERR_REFUSED, true},
        {400, "InvalidParameterException", false, SECRETSMANAGER_ERR_REFUSED, true},
        {400, "UnrecognizedClientException", false, SECRETSMANAGER_ERR_AUTH, false},
        {403, "SignatureDoesNotMatch", false, SECRETSMANAGER_ERR_AUTH, false},
        {403, "InvalidClientTokenId", false, SECRETSMANAGER_ERR_AUTH, false},
        {400, "ExpiredTokenException", false, SECRETSMANAGER_ERR_AUTH, false},
        {403, "SignatureDoesNotMatch", true, SECRETSMANAGER_ERR_CLOCK_SKEW, false},
        {400, "InvalidSignatureException", true, SECRETSMANAGER_ERR_CLOCK_SKEW, false},
        {400, "RequestExpired", true, SECRETSMANAGER_ERR_CLOCK_SKEW, false},
        {400, "ThrottlingException", false, SECRETSMANAGER_ERR_THROTTLED, false},
        {500, "InternalServiceError", false, SECRETSMANAGER_ERR_SERVER, false},
        {503, "ServiceUnavailable", false, SECRETSMANAGER_ERR_SERVER, false},
        {503, "", false, SECRETSMANAGER_ERR_SERVER, false},
        {429, "", false, SECRETSMANAGER_ERR_THROTTLED, false},
        {403, "", false, SECRETSMANAGER_ERR_SERVER, false}, /* a proxy's page, not AWS */
        {400, NULL, false, SECRETSMANAGER_ERR_SERVER, false},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum secretsmanager_error_kind k =
            secretsmanager_classify(cases[i].status, cases[i].code, cases[i].skewed);
        if (k != cases[i].want || secretsmanager_error_is_config(k) != cases[i].config)
            fail_msg("HTTP %ld %s%s: %s, want %s", cases[i].status,
                     cases[i].code ? cases[i].code : "(null)", cases[i].skewed ? " skewed" : "",
                     secretsmanager_error_kind_name(k),
                     secretsmanager_error_kind_name(cases[i].want));
    }
    assert_false(secretsmanager_error_is_config(SECRETSMANAGER_ERR_TRANSPORT));
    assert_true(secretsmanager_error_is_config(SECRETSMANAGER_ERR_VALUE));
    assert_true(secretsmanager_error_is_config(SECRETSMANAGER_ERR_REQUEST));
    assert_false(secretsmanager_error_is_config(SECRETSMANAGER_OK));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arn_region),
        cmocka_unit_test(test_json_key),
        cmocka_unit_test(test_value_free_null),
        cmocka_unit_test(test_classify),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
