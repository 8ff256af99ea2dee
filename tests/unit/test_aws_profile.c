/*
 * test_aws_profile.c: the shared-file pieces of the credential chain that need no server:
 * nested INI keys, a profile's settings merged from both files (the credentials file
 * wins), the services section of a profile, the configured-endpoint order, the
 * credential_process word splitting and output document, and the STS answer parser.
 * tests/preflight/credentials.sh drives the whole chain against moto.
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

#include "infra/aws_http.h"
#include "infra/aws_process.h"
#include "infra/aws_profile.h"
#include "infra/aws_sts.h"

static char g_config[64], g_creds[64];

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    int fd;

    (void)state;
    snprintf(g_config, sizeof(g_config), "/tmp/anonetl-profile-cfg-XXXXXX");
    snprintf(g_creds, sizeof(g_creds), "/tmp/anonetl-profile-cred-XXXXXX");
    if ((fd = mkstemp(g_config)) < 0)
        return -1;
    close(fd);
    if ((fd = mkstemp(g_creds)) < 0)
        return -1;
    close(fd);
    setenv("AWS_CONFIG_FILE", g_config, 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", g_creds, 1);
    unsetenv("AWS_PROFILE");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(g_config);
    unlink(g_creds);
    unsetenv("AWS_CONFIG_FILE");
    unsetenv("AWS_SHARED_CREDENTIALS_FILE");
    return 0;
}

static void test_nested(void **state)
{
    static const char text[] = "[services dev]\n"
                               "ec2 =\n"
                               "  endpoint_url = https://ec2.dev.test\n"
                               "  other = x\n"
                               "sts =\n"
                               "  region = ignored\n"
                               "\tendpoint_url = http://127.0.0.1:5000\n"
                               "s3 = not-nested\n"
                               "  endpoint_url = https://wrong.test\n"
                               "[services prod]\n"
                               "sts =\n"
                               "  endpoint_url = https://sts.prod.test\n";
    char out[64];
    bool found;
    struct infra_error err = {{0}};

    (void)state;
    assert_true(aws_ini_get_nested(text, strlen(text), "services dev", "sts", "endpoint_url", out,
                                   sizeof(out), &found, &err));
    assert_true(found);
    assert_string_equal(out, "http://127.0.0.1:5000");
    assert_true(aws_ini_get_nested(text, strlen(text), "services dev", "ec2", "endpoint_url", out,
                                   sizeof(out), &found, &err));
    assert_string_equal(out, "https://ec2.dev.test");
    /* "s3 = value" is not a nested block: its indented lines are not its keys */
    assert_true(aws_ini_get_nested(text, strlen(text), "services dev", "s3", "endpoint_url", out,
                                   sizeof(out), &found, &err));
    assert_false(found);
    assert_true(aws_ini_get_nested(text, strlen(text), "services prod", "sts", "endpoint_url", out,
                                   sizeof(out), &found, &err));
    assert_string_equal(out, "https://sts.prod.test");
    assert_true(aws_ini_get_nested(text, strlen(text), "services none", "sts", "endpoint_url", out,
                                   sizeof(out), &found, &err));
    assert_false(found);
    /* a nested value too long for the buffer is an error naming the key, not the value */
    assert_false(aws_ini_get_nested(text, strlen(text), "services dev", "ec2", "endpoint_url", out,
                                    8, &found, &err));
    assert_non_null(strstr(err.msg, "endpoint_url"));
    assert_null(strstr(err.msg, "dev.test"));
}

static void test_profile_merge(void **state)
{
    struct aws_profile_files f;
    struct infra_error err = {{0}};
    char out[64];
    const char *where;
    bool found, exists;

    (void)state;
    write_file(g_config, "[default]\nregion = eu-west-2\n[profile ops]\nregion = eu-west-1\n"
                         "role_arn = arn:aws:iam::1:role/from-config\n"
                         "[ops]\nregion = a plain [ops] of the config file is not the profile\n");
    write_file(g_creds, "[ops]\nrole_arn = arn:aws:iam::1:role/from-credentials\n[only-creds]\n"
                        "aws_access_key_id = AKIA1\n");
    assert_true(aws_profile_files_load(&f, &err));
    assert_true(aws_profile_get(&f, "ops", "role_arn", out, sizeof(out), &found, &where, &err));
    assert_string_equal(out, "arn:aws:iam::1:role/from-credentials");
    assert_string_equal(where, g_creds);
    assert_true(aws_profile_get(&f, "ops", "region", out, sizeof(out), &found, &where, &err));
    assert_string_equal(out, "eu-west-1");
    assert_string_equal(where, g_config);
    assert_true(aws_profile_get(&f, "default", "region", out, sizeof(out), &found, NULL, &err));
    assert_string_equal(out, "eu-west-2");
    assert_true(aws_profile_exists(&f, "only-creds", &exists, &err));
    assert_true(exists);
    assert_true(aws_profile_exists(&f, "nobody", &exists, &err));
    assert_false(exists);
    aws_profile_files_free(&f);
    aws_profile_files_free(&f); /* twice is harmless */

    write_file(g_creds, "[broken\n");
    assert_true(aws_profile_files_load(&f, &err));
    assert_false(aws_profile_get(&f, "ops", "region", out, sizeof(out), &found, NULL, &err));
    assert_non_null(strstr(err.msg, g_creds));
    assert_non_null(strstr(err.msg, "line 1"));
    aws_profile_files_free(&f);
    write_file(g_creds, "");

    setenv("AWS_PROFILE", "ops", 1);
    assert_string_equal(aws_profile_name(NULL), "ops");
    assert_string_equal(aws_profile_name("x"), "x");
    unsetenv("AWS_PROFILE");
    assert_string_equal(aws_profile_name(""), "default");
}

static void test_configured_endpoints(void **state)
{
    char u[256];
    struct infra_error err = {{0}};

    (void)state;
    unsetenv("AWS_ENDPOINT_URL");
    unsetenv("AWS_ENDPOINT_URL_STS");
    write_file(g_config, "[default]\nservices = local\nendpoint_url = http://127.0.0.1:7000\n"
                         "[services local]\nsts =\n  endpoint_url = http://127.0.0.1:6000/\n"
                         "secrets_manager =\n  endpoint_url = http://127.0.0.1:6001\n"
                         "[profile bare]\nregion = eu-west-3\n");
    assert_true(aws_endpoint_resolve_profile(NULL, "sts", "eu-west-3", NULL, u, sizeof(u), &err));
    assert_string_equal(u, "http://127.0.0.1:6000");
    assert_true(aws_endpoint_resolve_profile(NULL, "secretsmanager", "eu-west-3", NULL, u,
                                             sizeof(u), &err));
    assert_string_equal(u, "http://127.0.0.1:6001");
    /* no services entry for ec2: the profile's endpoint_url */
    assert_true(aws_endpoint_resolve_profile(NULL, "ec2", "eu-west-3", NULL, u, sizeof(u), &err));
    assert_string_equal(u, "http://127.0.0.1:7000");
    setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:8000", 1);
    assert_true(aws_endpoint_resolve_profile(NULL, "ec2", "eu-west-3", NULL, u, sizeof(u), &err));
    assert_string_equal(u, "http://127.0.0.1:8000"); /* the global variable beats endpoint_url */
    assert_true(aws_endpoint_resolve_profile(NULL, "sts", "eu-west-3", NULL, u, sizeof(u), &err));
    assert_string_equal(u, "http://127.0.0.1:6000"); /* ... but not the services section */
    setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9000", 1);
    assert_true(aws_endpoint_resolve_profile(NULL, "sts", "eu-west-3", NULL, u, sizeof(u), &err));
    assert_string_equal(u, "http://127.0.0.1:9000");
    setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true", 1);
    assert_true(aws_endpoint_resolve_profile(NULL, "sts", "eu-west-3", NULL, u, sizeof(u), &err));
    assert_string_equal(u, "https://sts.eu-west-3.amazonaws.com"); /* the region's STS */
    unsetenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
    unsetenv("AWS_ENDPOINT_URL_STS");
    unsetenv("AWS_ENDPOINT_URL");
    assert_true(aws_endpoint_resolve_profile(NULL, "sts", "eu-west-3", "bare", u, sizeof(u), &err));
    assert_string_equal(u, "https://sts.eu-west-3.amazonaws.com");
    write_file(g_config, "[default]\nservices = bad\n[services bad]\nsts =\n  endpoint_url = "
                         "http://10.0.0.1\n");
    assert_false(aws_endpoint_resolve_profile(NULL, "sts", "eu-west-3", NULL, u, sizeof(u), &err));
    assert_non_null(strstr(err.msg, "services section of profile default"));
    write_file(g_config, "");
}

static void split_ok(const char *cmd, int want_argc, const char *const *want)
{
    char buf[256], *argv[AWS_PROCESS_ARGS_MAX + 1];
    int argc;
    struct infra_error err = {{0}};

    if (!aws_process_split(cmd, buf, sizeof(buf), argv, &argc, &err))
        fail_msg("%s: %s", cmd, err.msg);
    assert_int_equal(argc, want_argc);
    for (int i = 0; i < argc; i++)
        assert_string_equal(argv[i], want[i]);
    assert_null(argv[argc]);
}

static void test_process_split(void **state)
{
    static const char *const a[] = {"/usr/bin/helper", "--profile", "prod"};
    static const char *const b[] = {"/opt/my tools/helper", "a b", "c\"d", "e$f"};
    static const char *const c[] = {"x\\y", "ab"};
    char buf[64], *argv[AWS_PROCESS_ARGS_MAX + 1];
    char many[400] = "";
    int argc;
    struct infra_error err = {{0}};

    (void)state;
    split_ok("/usr/bin/helper --profile prod", 3, a);
    split_ok("  '/opt/my tools/helper'\t\"a b\" \"c\\\"d\" 'e$f'  ", 4, b);
    split_ok("x\\\\y a\\b", 2, c);
    assert_false(aws_process_split("helper 'open", buf, sizeof(buf), argv, &argc, &err));
    assert_non_null(strstr(err.msg, "unterminated quote"));
    assert_false(aws_process_split("helper \"open", buf, sizeof(buf), argv, &argc, &err));
    assert_false(aws_process_split("helper \\", buf, sizeof(buf), argv, &argc, &err));
    assert_false(aws_process_split("   ", buf, sizeof(buf), argv, &argc, &err));
    for (int i = 0; i < 70; i++)
        strcat(many, "a ");
    assert_false(aws_process_split(many, many + 200, 200, argv, &argc, &err) &&
                 argc <= AWS_PROCESS_ARGS_MAX);
}

static void test_process_parse(void **state)
{
    struct aws_credentials c;
    struct infra_error err = {{0}};
    static const char good[] = "{\"Version\": 1, \"AccessKeyId\": \"AKIAPROC\", "
                               "\"SecretAccessKey\": \"proc/secret\", \"SessionToken\": \"tok\", "
                               "\"Expiration\": \"2030-01-02T03:04:05Z\"}";
    static const char *const bad[] = {
        "{\"Version\": 2, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"S\"}",
        "{\"AccessKeyId\": \"A\", \"SecretAccessKey\": \"S\"}",
        "{\"Version\": 1, \"AccessKeyId\": \"A\"}",
        "{\"Version\": 1, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"S\", \"Expiration\": "
        "\"tomorrow\"}",
        "[1]",
        "not json at all: the-secret-value",
        "{\"Version\": 1, \"AccessKeyId\": \"A\", \"AccessKeyId\": \"B\", \"SecretAccessKey\": "
        "\"S\"}"};

    (void)state;
    assert_true(aws_process_parse(good, strlen(good), &c, &err));
    assert_string_equal(c.access_key_id, "AKIAPROC");
    assert_string_equal(c.session_token, "tok");
    assert_string_equal(c.source, "process");
    assert_int_equal(c.expiration, 1893553445);
    aws_credentials_wipe(&c);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (aws_process_parse(bad[i], strlen(bad[i]), &c, &err))
            fail_msg("accepted %s", bad[i]);
        assert_null(strstr(err.msg, "the-secret-value"));
    }
}

static void test_sts_parse(void **state)
{
    static const char doc[] =
        "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
        "<AssumeRoleResult><Credentials><AccessKeyId>ASIAROLE</AccessKeyId>"
        "<SecretAccessKey>role/secret</SecretAccessKey><SessionToken>tok==</SessionToken>"
        "<Expiration>2030-01-02T03:04:05.123Z</Expiration></Credentials>"
        "<AssumedRoleUser><Arn>arn:aws:sts::1:assumed-role/r/s</Arn></AssumedRoleUser>"
        "</AssumeRoleResult></AssumeRoleResponse>";
    struct aws_credentials c;
    struct infra_error err = {{0}};

    (void)state;
    assert_true(aws_sts_parse_credentials(doc, strlen(doc), "AssumeRole", "assume-role", &c, &err));
    assert_string_equal(c.access_key_id, "ASIAROLE");
    assert_string_equal(c.session_token, "tok==");
    assert_int_equal(c.expiration, 1893553445);
    aws_credentials_wipe(&c);
    /* the answer of another action is not taken for this one */
    assert_false(aws_sts_parse_credentials(doc, strlen(doc), "AssumeRoleWithWebIdentity",
                                           "web-identity", &c, &err));
    assert_non_null(strstr(err.msg, "AssumeRoleWithWebIdentityResult"));
    assert_false(aws_sts_parse_credentials("<x", 2, "AssumeRole", "assume-role", &c, &err));
    assert_false(aws_sts_parse_credentials(NULL, 0, "AssumeRole", "assume-role", &c, &err));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nested),
        cmocka_unit_test(test_profile_merge),
        cmocka_unit_test(test_configured_endpoints),
        cmocka_unit_test(test_process_split),
        cmocka_unit_test(test_process_parse),
        cmocka_unit_test(test_sts_parse),
    };
    struct infra_error err = {{0}};
    int rc;

    if (!aws_http_global_init(&err))
        return 1;
    rc = cmocka_run_group_tests(tests, setup, teardown);
    aws_http_global_cleanup();
    return rc;
}
