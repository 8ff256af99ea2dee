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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arn_region),
        cmocka_unit_test(test_json_key),
        cmocka_unit_test(test_value_free_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
