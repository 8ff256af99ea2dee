/*
 * test_aws_retry.c: infra/aws_retry without a server: the configuration precedence
 * (caller, AWS_MAX_ATTEMPTS / AWS_RETRY_MODE, the profile's max_attempts / retry_mode,
 * the mode's default) and its errors, the exact full-jitter delays with an injected
 * random source, the retry quota's accounting, the classification of answers, the HTTP
 * Date formats and the clock-skew decision. tests/preflight/aws_client.sh drives the same
 * code against a misbehaving loopback server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "infra/aws_retry.h"

static double g_random;
static double fixed_random(void)
{
    return g_random;
}

static char g_config[64];

static int setup(void **state)
{
    (void)state;
    snprintf(g_config, sizeof(g_config), "/tmp/anonetl-retry-XXXXXX");
    int fd = mkstemp(g_config);
    if (fd < 0)
        return -1;
    close(fd);
    setenv("AWS_CONFIG_FILE", g_config, 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/anonetl/credentials", 1);
    unsetenv("AWS_MAX_ATTEMPTS");
    unsetenv("AWS_RETRY_MODE");
    unsetenv("AWS_PROFILE");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(g_config);
    unsetenv("AWS_CONFIG_FILE");
    unsetenv("AWS_SHARED_CREDENTIALS_FILE");
    aws_retry_set_random(NULL);
    return 0;
}

static void write_config(const char *text)
{
    FILE *f = fopen(g_config, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_config_precedence(void **state)
{
    struct aws_retry_config c;
    struct infra_error err = {{0}};

    (void)state;
    write_config("");
    assert_true(aws_retry_config_resolve(0, NULL, &c, &err));
    assert_int_equal(c.mode, AWS_RETRY_STANDARD);
    assert_int_equal(c.max_attempts, 3);
    assert_int_equal(c.base_ms, 1000);
    assert_int_equal(c.max_backoff_ms, 20000);

    write_config(
        "[default]\nmax_attempts = 7\nretry_mode = legacy\n[profile ops]\nmax_attempts=2\n");
    assert_true(aws_retry_config_resolve(0, NULL, &c, &err));
    assert_int_equal(c.max_attempts, 7);
    assert_int_equal(c.mode, AWS_RETRY_LEGACY);
    assert_true(aws_retry_config_resolve(0, "ops", &c, &err));
    assert_int_equal(c.max_attempts, 2);
    assert_int_equal(c.mode, AWS_RETRY_STANDARD);
    setenv("AWS_PROFILE", "ops", 1);
    assert_true(aws_retry_config_resolve(0, NULL, &c, &err));
    assert_int_equal(c.max_attempts, 2);
    unsetenv("AWS_PROFILE");

    setenv("AWS_MAX_ATTEMPTS", "4", 1);
    setenv("AWS_RETRY_MODE", "adaptive", 1);
    assert_true(aws_retry_config_resolve(0, NULL, &c, &err));
    assert_int_equal(c.max_attempts, 4);
    assert_int_equal(c.mode, AWS_RETRY_ADAPTIVE);
    assert_string_equal(c.attempts_from, "AWS_MAX_ATTEMPTS");
    assert_true(aws_retry_config_resolve(2, NULL, &c, &err)); /* the caller's bound wins */
    assert_int_equal(c.max_attempts, 2);

    write_config("");
    unsetenv("AWS_MAX_ATTEMPTS");
    setenv("AWS_RETRY_MODE", "legacy", 1);
    assert_true(aws_retry_config_resolve(0, NULL, &c, &err));
    assert_int_equal(c.max_attempts, 5); /* legacy's default */
    unsetenv("AWS_RETRY_MODE");
}

static void expect_config_error(const char *env_max, const char *env_mode, const char *file,
                                const char *want)
{
    struct aws_retry_config c;
    struct infra_error err = {{0}};

    write_config(file);
    if (env_max)
        setenv("AWS_MAX_ATTEMPTS", env_max, 1);
    if (env_mode)
        setenv("AWS_RETRY_MODE", env_mode, 1);
    if (aws_retry_config_resolve(0, NULL, &c, &err))
        fail_msg("accepted (max=%s mode=%s file=%s)", env_max, env_mode, file);
    if (!strstr(err.msg, want))
        fail_msg("error '%s' does not say '%s'", err.msg, want);
    unsetenv("AWS_MAX_ATTEMPTS");
    unsetenv("AWS_RETRY_MODE");
}

static void test_config_errors(void **state)
{
    (void)state;
    expect_config_error("0", NULL, "", "AWS_MAX_ATTEMPTS=0");
    expect_config_error("three", NULL, "", "AWS_MAX_ATTEMPTS=three");
    expect_config_error("21", NULL, "", "from 1 to 20");
    expect_config_error("3x", NULL, "", "AWS_MAX_ATTEMPTS=3x");
    expect_config_error(NULL, "fast", "", "AWS_RETRY_MODE=fast");
    expect_config_error(NULL, "Standard", "", "AWS_RETRY_MODE=Standard");
    expect_config_error(NULL, NULL, "[default]\nmax_attempts = -1\n",
                        "max_attempts of profile default");
    expect_config_error(NULL, NULL, "[default]\nretry_mode = quick\n",
                        "retry_mode of profile default");
    expect_config_error(NULL, NULL, "[default]\nno equals sign\n", "line 2");
}

static void test_backoff(void **state)
{
    struct aws_retry_config c = {AWS_RETRY_STANDARD, 3, 1000, 20000, ""};

    (void)state;
    aws_retry_set_random(fixed_random);
    g_random = 0.0;
    assert_int_equal(aws_retry_backoff_ms(&c, 1), 0);
    g_random = 0.5;
    assert_int_equal(aws_retry_backoff_ms(&c, 1), 500);
    assert_int_equal(aws_retry_backoff_ms(&c, 2), 1000);
    assert_int_equal(aws_retry_backoff_ms(&c, 3), 2000);
    assert_int_equal(aws_retry_backoff_ms(&c, 5), 8000);
    assert_int_equal(aws_retry_backoff_ms(&c, 6), 10000); /* 16 s */
    assert_int_equal(aws_retry_backoff_ms(&c, 7), 10000); /* capped at 20 s */
    assert_int_equal(aws_retry_backoff_ms(&c, 60), 10000);
    g_random = 0.999;
    assert_int_equal(aws_retry_backoff_ms(&c, 60), 19980);
    g_random = 1.5; /* a broken source never sleeps past the cap */
    assert_int_equal(aws_retry_backoff_ms(&c, 2), 0);
    aws_retry_set_random(NULL);
    for (int i = 0; i < 200; i++) { /* the real source stays within [0, cap) */
        long d = aws_retry_backoff_ms(&c, 2);
        assert_true(d >= 0 && d < 2000);
    }
}

static void test_quota(void **state)
{
    struct aws_retry_quota q;
    int retries = 0;

    (void)state;
    aws_retry_quota_init(&q);
    assert_int_equal(q.available, 500);
    while (aws_retry_quota_acquire(&q, AWS_RETRY_COST))
        retries++;
    assert_int_equal(retries, 100);
    assert_int_equal(q.available, 0);
    aws_retry_quota_release(&q, AWS_RETRY_COST);
    assert_false(aws_retry_quota_acquire(&q, AWS_RETRY_TIMEOUT_COST));
    assert_true(aws_retry_quota_acquire(&q, AWS_RETRY_COST));
    aws_retry_quota_release(&q, 10000);
    assert_int_equal(q.available, 500); /* never above the capacity */
    for (int i = 0; i < 50; i++)
        assert_true(aws_retry_quota_acquire(&q, AWS_RETRY_TIMEOUT_COST));
    assert_false(aws_retry_quota_acquire(&q, AWS_RETRY_COST));
    aws_retry_quota_release(&q, AWS_RETRY_NO_RETRY_INCREMENT);
    assert_int_equal(q.available, 1);
}

static void test_classify(void **state)
{
    (void)state;
    assert_int_equal(aws_retry_classify(200, ""), AWS_RETRY_NO);
    assert_int_equal(aws_retry_classify(400, "Throttling"), AWS_RETRY_THROTTLE);
    assert_int_equal(aws_retry_classify(400, "ThrottlingException"), AWS_RETRY_THROTTLE);
    assert_int_equal(aws_retry_classify(503, "RequestLimitExceeded"), AWS_RETRY_THROTTLE);
    assert_int_equal(aws_retry_classify(503, "SlowDown"), AWS_RETRY_THROTTLE);
    assert_int_equal(aws_retry_classify(429, ""), AWS_RETRY_THROTTLE);
    assert_int_equal(aws_retry_classify(500, ""), AWS_RETRY_TRANSIENT);
    assert_int_equal(aws_retry_classify(502, "InternalError"), AWS_RETRY_TRANSIENT);
    assert_int_equal(aws_retry_classify(503, ""), AWS_RETRY_TRANSIENT);
    assert_int_equal(aws_retry_classify(504, ""), AWS_RETRY_TRANSIENT);
    assert_int_equal(aws_retry_classify(400, "RequestTimeout"), AWS_RETRY_TRANSIENT);
    assert_int_equal(aws_retry_classify(501, ""), AWS_RETRY_NO);
    assert_int_equal(aws_retry_classify(403, "AccessDenied"), AWS_RETRY_NO);
    assert_int_equal(aws_retry_classify(400, "InvalidParameterValue"), AWS_RETRY_NO);
    assert_int_equal(aws_retry_classify(400, "RequestExpired"), AWS_RETRY_CLOCK_SKEW);
    assert_int_equal(aws_retry_classify(403, "RequestTimeTooSkewed"), AWS_RETRY_CLOCK_SKEW);
    assert_int_equal(aws_retry_classify(403, "SignatureDoesNotMatch"), AWS_RETRY_CLOCK_SKEW);
    assert_int_equal(aws_retry_classify(401, "AuthFailure"), AWS_RETRY_CLOCK_SKEW);
    assert_int_equal(aws_retry_classify(400, NULL), AWS_RETRY_NO);
    assert_string_equal(aws_retry_mode_name(AWS_RETRY_ADAPTIVE), "adaptive");
}

static void test_date(void **state)
{
    time_t t;

    (void)state;
    assert_true(aws_http_date_parse("Sun, 06 Nov 1994 08:49:37 GMT", &t));
    assert_int_equal(t, 784111777);
    assert_true(aws_http_date_parse("Sunday, 06-Nov-94 08:49:37 GMT", &t));
    assert_int_equal(t, 784111777);
    assert_true(aws_http_date_parse("Sun Nov  6 08:49:37 1994", &t));
    assert_int_equal(t, 784111777);
    assert_true(aws_http_date_parse("Tue, 29 Feb 2028 23:59:60 GMT\r\n", &t));
    assert_false(aws_http_date_parse("Sun, 06 Nov 1994 08:49:37 UTC", &t));
    assert_false(aws_http_date_parse("Sun, 06 Nob 1994 08:49:37 GMT", &t));
    assert_false(aws_http_date_parse("Sun, 6 Nov 1994 08:49:37 GMT", &t));
    assert_false(aws_http_date_parse("Sun, 06 Nov 1994 25:49:37 GMT", &t));
    assert_false(aws_http_date_parse("Sun, 06 Nov 1994 08:49:37 GMT trailing", &t));
    assert_false(aws_http_date_parse("", &t));
    assert_false(aws_http_date_parse("Su", &t));
    assert_false(aws_http_date_parse(NULL, &t));
}

static void test_skew(void **state)
{
    long off = 0;

    (void)state;
    assert_false(aws_clock_skew_correct(1000, 1000, 0, &off));
    assert_false(aws_clock_skew_correct(1239, 1000, 0, &off));
    assert_true(aws_clock_skew_correct(1240, 1000, 0, &off));
    assert_int_equal(off, 240);
    assert_true(aws_clock_skew_correct(1000, 4600, 0, &off));
    assert_int_equal(off, -3600);
    /* already corrected: the same server time does not move the offset again */
    assert_false(aws_clock_skew_correct(4600, 1000, 3600, &off));
    assert_true(aws_clock_skew_correct(1000, 1000, 3600, &off));
    assert_int_equal(off, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_precedence),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_quota),
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_date),
        cmocka_unit_test(test_skew),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
