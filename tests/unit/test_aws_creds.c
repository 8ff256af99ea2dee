/*
 * test_aws_creds.c: the pieces of infra/aws_creds and infra/aws_http that need no server:
 * the strict INI reader (valid files, every error path, hostile input), the static
 * provider, region resolution from the environment, the URL policy, the form builder
 * and error-document parsing. The chain against live (loopback) servers is tested by
 * tests/preflight/credentials.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infra/aws_creds.h"
#include "infra/aws_http.h"

static const char k_ini[] = "# top comment\n"
                            "[default]\n"
                            "aws_access_key_id = AKIADEFAULT\r\n"
                            "AWS_Secret_Access_Key=s3cr3t/with=equals\n"
                            "\n"
                            "[profile  dev]\n"
                            "region = eu-west-2\n"
                            "s3 =\n"
                            "  region = nested-ignored\n"
                            "; another comment\n"
                            "[dev]\n"
                            "region = from-plain-dev\n";

static void get(const char *text, const char *sec, const char *key, bool want_ok, bool want_found,
                const char *want_value)
{
    char out[64];
    bool found = true, secf;
    struct infra_error err = {{0}};
    bool ok = aws_ini_get(text, strlen(text), sec, key, out, sizeof(out), &found, &secf, &err);

    if (ok != want_ok)
        fail_msg("[%s] %s: ok=%d (%s)", sec, key, ok, err.msg);
    if (!ok)
        return;
    assert_int_equal(found, want_found);
    if (want_found)
        assert_string_equal(out, want_value);
}

static void test_ini_lookup(void **state)
{
    (void)state;
    get(k_ini, "default", "aws_access_key_id", true, true, "AKIADEFAULT");
    get(k_ini, "default", "aws_secret_access_key", true, true, "s3cr3t/with=equals");
    get(k_ini, "profile dev", "region", true, true, "eu-west-2");
    get(k_ini, "dev", "region", true, true, "from-plain-dev");
    get(k_ini, "default", "region", true, false, NULL);
    get(k_ini, "nosuch", "region", true, false, NULL);
}

static void test_ini_section_found(void **state)
{
    char out[8];
    bool found, sec;
    struct infra_error err = {{0}};

    (void)state;
    assert_true(
        aws_ini_get(k_ini, strlen(k_ini), "dev", "nokey", out, sizeof(out), &found, &sec, &err));
    assert_false(found);
    assert_true(sec);
    assert_true(
        aws_ini_get(k_ini, strlen(k_ini), "zzz", "nokey", out, sizeof(out), &found, &sec, &err));
    assert_false(sec);
}

static void expect_error(const char *text, const char *want)
{
    char out[64];
    bool found, sec;
    struct infra_error err = {{0}};

    if (aws_ini_get(text, strlen(text), "default", "k", out, sizeof(out), &found, &sec, &err))
        fail_msg("accepted: %s", text);
    if (!strstr(err.msg, want))
        fail_msg("error '%s' lacks '%s'", err.msg, want);
    assert_null(strstr(err.msg, "SECRETVALUE"));
}

static void test_ini_errors(void **state)
{
    (void)state;
    expect_error("k = SECRETVALUE\n", "line 1: key outside any [section]");
    expect_error("[default]\nSECRETVALUE\n", "line 2: expected 'key = value'");
    expect_error("[default\nk = v\n", "line 1: section header without ']'");
    expect_error("[]\n", "line 1: empty section name");
    expect_error("[default] junk\n", "line 1: text after the section header");
    expect_error("  k = v\n", "indented line before any section");
    expect_error("[default]\n= SECRETVALUE\n", "line 2: empty key");
    /* value longer than the output buffer: an error, never a truncated secret */
    expect_error(
        "[default]\nk = 0123456789012345678901234567890123456789012345678901234567890123456789\n",
        "value of k is too long");
}

static void test_ini_hostile(void **state)
{
    size_t n = 20000;
    char *big = malloc(n + 1);
    char out[16];
    bool found, sec;
    struct infra_error err = {{0}};
    const char nul[] = "[default]\nk = a\0b\n";

    (void)state;
    assert_non_null(big);
    memcpy(big, "[default]\nk = ", 14);
    memset(big + 14, 'x', n - 14);
    big[n] = '\0';
    assert_false(aws_ini_get(big, n, "default", "k", out, sizeof(out), &found, &sec, &err));
    assert_non_null(strstr(err.msg, "longer than"));
    /* not NUL-terminated input: only len bytes are read */
    assert_true(aws_ini_get("[default]\nk = v\nGARBAGE", 15, "default", "k", out, sizeof(out),
                            &found, &sec, &err));
    assert_true(found);
    assert_string_equal(out, "v");
    assert_false(
        aws_ini_get(nul, sizeof(nul) - 1, "default", "k", out, sizeof(out), &found, &sec, &err));
    assert_true(aws_ini_get("", 0, "default", "k", out, sizeof(out), &found, &sec, &err));
    assert_false(found);
    free(big);
}

static void test_static_provider(void **state)
{
    struct infra_error err = {{0}};
    struct aws_creds_provider *p = aws_creds_static_new("AKIASTATIC", "secret", "tok", &err);
    struct aws_credentials c;

    (void)state;
    assert_non_null(p);
    assert_true(aws_creds_get(p, &c, &err));
    assert_string_equal(c.access_key_id, "AKIASTATIC");
    assert_string_equal(c.secret_access_key, "secret");
    assert_string_equal(c.session_token, "tok");
    assert_string_equal(c.source, "static");
    assert_int_equal(c.expiration, 0);
    aws_credentials_wipe(&c);
    assert_int_equal(c.secret_access_key[0], 0);
    aws_creds_provider_free(p);
    aws_creds_provider_free(NULL);
    assert_null(aws_creds_static_new("AKIA", "", NULL, &err));
    assert_null(aws_creds_static_new("AKIA", "with space", NULL, &err));
    assert_null(strstr(err.msg, "with space"));
}

static void test_region_env(void **state)
{
    char r[32];
    struct infra_error err = {{0}};

    (void)state;
    setenv("AWS_REGION", "eu-west-1", 1);
    setenv("AWS_DEFAULT_REGION", "us-west-2", 1);
    assert_true(aws_region_resolve("ap-south-1", NULL, r, sizeof(r), &err));
    assert_string_equal(r, "ap-south-1");
    assert_true(aws_region_resolve(NULL, NULL, r, sizeof(r), &err));
    assert_string_equal(r, "eu-west-1");
    unsetenv("AWS_REGION");
    assert_true(aws_region_resolve("", NULL, r, sizeof(r), &err));
    assert_string_equal(r, "us-west-2");
    unsetenv("AWS_DEFAULT_REGION");
    setenv("AWS_CONFIG_FILE", "/nonexistent/anonetl/config", 1);
    assert_false(aws_region_resolve(NULL, NULL, r, sizeof(r), &err));
    assert_non_null(strstr(err.msg, "no AWS region"));
    unsetenv("AWS_CONFIG_FILE");
}

static void test_url_policy(void **state)
{
    struct infra_error err = {{0}};
    static const char *const api_ok[] = {"https://ec2.eu-west-2.amazonaws.com",
                                         "http://127.0.0.1:5000",
                                         "http://127.255.0.9/",
                                         "http://localhost:1/x",
                                         "http://[::1]:80/",
                                         "HTTPS://Sts.Amazonaws.Com"};
    static const char *const api_bad[] = {"http://10.0.0.1",
                                          "http://169.254.169.254",
                                          "http://128.0.0.1",
                                          "ftp://127.0.0.1",
                                          "https://user:pw@ec2.amazonaws.com",
                                          "file:///etc/passwd",
                                          "",
                                          "http://[::2]/",
                                          "http://localhost.example.com"};

    (void)state;
    for (size_t i = 0; i < sizeof(api_ok) / sizeof(api_ok[0]); i++)
        if (!aws_http_url_allowed(api_ok[i], AWS_URL_API, &err))
            fail_msg("%s refused: %s", api_ok[i], err.msg);
    for (size_t i = 0; i < sizeof(api_bad) / sizeof(api_bad[0]); i++)
        if (aws_http_url_allowed(api_bad[i], AWS_URL_API, &err))
            fail_msg("%s allowed", api_bad[i]);
    assert_true(aws_http_url_allowed("http://169.254.169.254/latest", AWS_URL_METADATA, &err));
    assert_true(aws_http_url_allowed("http://169.254.170.2/v2/x", AWS_URL_METADATA, &err));
    assert_true(aws_http_url_allowed("http://[fd00:ec2::254]/", AWS_URL_METADATA, &err));
    assert_false(aws_http_url_allowed("http://169.254.169.253/", AWS_URL_METADATA, &err));
    assert_false(aws_http_url_allowed("https://u@127.0.0.1/", AWS_URL_METADATA, &err));
}

static void test_endpoint(void **state)
{
    char u[128];
    struct infra_error err = {{0}};

    (void)state;
    unsetenv("AWS_ENDPOINT_URL");
    unsetenv("AWS_ENDPOINT_URL_EC2");
    assert_true(aws_endpoint_resolve(NULL, "ec2", "eu-west-2", u, sizeof(u), &err));
    assert_string_equal(u, "https://ec2.eu-west-2.amazonaws.com");
    setenv("AWS_ENDPOINT_URL_RDS_DB", "http://127.0.0.1:9/", 1);
    assert_true(aws_endpoint_resolve("", "rds-db", "eu-west-2", u, sizeof(u), &err));
    assert_string_equal(u, "http://127.0.0.1:9");
    unsetenv("AWS_ENDPOINT_URL_RDS_DB");
    assert_false(aws_endpoint_resolve(NULL, "ec2", "eu-west-2/../x", u, sizeof(u), &err));
    assert_false(aws_endpoint_resolve(NULL, "ec2", NULL, u, sizeof(u), &err));
    assert_false(
        aws_endpoint_resolve("http://192.168.1.1", "ec2", "eu-west-2", u, sizeof(u), &err));
    assert_non_null(strstr(err.msg, "aws.endpoint"));
}

static void test_form(void **state)
{
    struct aws_form f;

    (void)state;
    aws_form_init(&f);
    aws_form_add(&f, "Action", "CreateRoute");
    aws_form_add(&f, "DestinationCidrBlock", "10.1.0.0/16");
    aws_form_addk(&f, "a b&c=d", "Filter.%d.Value.%d", 1, 2);
    assert_false(aws_form_failed(&f));
    assert_string_equal(f.data, "Action=CreateRoute&DestinationCidrBlock=10.1.0.0%2F16"
                                "&Filter.1.Value.2=a%20b%26c%3Dd");
    aws_form_add(&f, "", "x");
    assert_true(aws_form_failed(&f));
    aws_form_free(&f);
    aws_form_free(NULL);
}

static void test_error_document(void **state)
{
    static const char ec2[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error>"
        "<Code>RequestLimitExceeded</Code><Message>Request limit "
        "exceeded.</Message></Error></Errors><RequestID>x</RequestID>"
        "</Response>";
    static const char sts[] = "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
                              "<Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code>"
                              "<Message>bad\nsig</Message></Error></ErrorResponse>";
    char code[64], msg[64];

    (void)state;
    assert_true(aws_http_error_code(ec2, strlen(ec2), code, sizeof(code), msg, sizeof(msg)));
    assert_string_equal(code, "RequestLimitExceeded");
    assert_string_equal(msg, "Request limit exceeded.");
    assert_int_equal(aws_error_classify(code), AWS_ERR_THROTTLE);
    assert_true(aws_http_error_code(sts, strlen(sts), code, sizeof(code), msg, sizeof(msg)));
    assert_string_equal(code, "SignatureDoesNotMatch");
    assert_string_equal(msg, "bad sig");
    assert_int_equal(aws_error_classify(code), AWS_ERR_AUTH);
    assert_false(aws_http_error_code("not xml", 7, code, sizeof(code), msg, sizeof(msg)));
    assert_string_equal(code, "");
    assert_false(aws_http_error_code("<a><b/></a>", 11, code, sizeof(code), msg, sizeof(msg)));
    assert_int_equal(aws_error_classify("InvalidVpcPeeringConnectionID.NotFound"),
                     AWS_ERR_NOT_FOUND);
    assert_int_equal(aws_error_classify("UnauthorizedOperation"), AWS_ERR_DENIED);
    assert_int_equal(aws_error_classify("Throttling"), AWS_ERR_THROTTLE);
    assert_int_equal(aws_error_classify("InvalidParameterValue"), AWS_ERR_OTHER);
    assert_int_equal(aws_error_classify(NULL), AWS_ERR_OTHER);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ini_lookup),
        cmocka_unit_test(test_ini_section_found),
        cmocka_unit_test(test_ini_errors),
        cmocka_unit_test(test_ini_hostile),
        cmocka_unit_test(test_static_provider),
        cmocka_unit_test(test_region_env),
        cmocka_unit_test(test_url_policy),
        cmocka_unit_test(test_endpoint),
        cmocka_unit_test(test_form),
        cmocka_unit_test(test_error_document),
    };
    struct infra_error err = {{0}};
    int rc;

    if (!aws_http_global_init(&err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    aws_http_global_cleanup();
    return rc;
}
