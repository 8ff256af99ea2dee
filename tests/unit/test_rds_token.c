/*
 * test_rds_token.c: infra/rds_token against botocore's generate_db_auth_token.
 *
 * The expected tokens were generated once with botocore 1.43.11 by this snippet (the
 * signing time is fixed by replacing botocore.auth.get_current_datetime), and are
 * compared byte for byte. tests/preflight/rds_token.sh runs botocore live against
 * `anonetl db-token`.
 *
 *   import datetime
 *   import botocore.auth, botocore.session
 *   for host, port, user, region, akid, secret, tok, when in cases:   # the rows below
 *       fixed = datetime.datetime.fromtimestamp(when, datetime.timezone.utc).replace(tzinfo=None)
 *       botocore.auth.get_current_datetime = lambda *a, **k: fixed
 *       c = botocore.session.get_session().create_client(
 *           "rds", region_name=region, aws_access_key_id=akid, aws_secret_access_key=secret,
 *           aws_session_token=tok or None)
 *       print(c.generate_db_auth_token(DBHostname=host, Port=port, DBUsername=user,
 *                                      Region=region))
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "infra/rds_token.h"

struct vector {
    const char *host;
    int port;
    const char *user, *region, *akid, *secret, *token;
    long when;
    const char *expected;
};

static const struct vector vectors[] = {
    {"mydb.abc123.eu-west-2.rds.amazonaws.com", 5432, "anonetl reader+x", "eu-west-2",
     "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", 1700000000,
     "mydb.abc123.eu-west-2.rds.amazonaws.com:5432/"
     "?Action=connect&DBUser=anonetl%20reader%2Bx&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-"
     "Credential=AKIDEXAMPLE%2F20231114%2Feu-west-2%2Frds-db%2Faws4_request&X-Amz-Date="
     "20231114T221320Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature="
     "56fa05ef83cc8284199806960bc236667d2d21fad77e080cb0c27ccb8fe0328b"},
    {"mydb.abc123.eu-west-2.rds.amazonaws.com", 5432, "u", "eu-west-2", "ASIAEXAMPLE",
     "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "IQoJb3JpZ2luX2VjE/tok+en==", 1700000000,
     "mydb.abc123.eu-west-2.rds.amazonaws.com:5432/"
     "?Action=connect&DBUser=u&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAEXAMPLE%"
     "2F20231114%2Feu-west-2%2Frds-db%2Faws4_request&X-Amz-Date=20231114T221320Z&X-Amz-Expires=900&"
     "X-Amz-SignedHeaders=host&X-Amz-Security-Token=IQoJb3JpZ2luX2VjE%2Ftok%2Ben%3D%3D&X-Amz-"
     "Signature=683d80c890e9d620ce1180783619cbaf40ff642e3992571e30c06c93215207bc"},
    {"h.example", 443, "u", "us-east-1", "AKIDEXAMPLE", "x", "", 1700000000,
     "h.example:443/"
     "?Action=connect&DBUser=u&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%"
     "2F20231114%2Fus-east-1%2Frds-db%2Faws4_request&X-Amz-Date=20231114T221320Z&X-Amz-Expires=900&"
     "X-Amz-SignedHeaders=host&X-Amz-Signature="
     "b2dd7aaf25b994a36ffb7f7532ed2acd6ddd054d3ed1e884607a095c69b2a86f"},
    {"10.20.0.5", 6543, "data_team", "ap-southeast-2", "AKIAIOSFODNN7EXAMPLE",
     "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY", "", 1262304000,
     "10.20.0.5:6543/"
     "?Action=connect&DBUser=data_team&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential="
     "AKIAIOSFODNN7EXAMPLE%2F20100101%2Fap-southeast-2%2Frds-db%2Faws4_request&X-Amz-Date="
     "20100101T000000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature="
     "3fd382f792f186c3727a92824079b1ad5ff284ee3b7fe84ed35dbc67f7ed55db"},
};

static void test_botocore_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        const struct vector *v = &vectors[i];
        struct rds_token_request req = {v->host, v->port, v->user, v->region, (time_t)v->when};
        struct sigv4_key key = {v->akid, v->secret, v->token[0] ? v->token : NULL};
        struct infra_error err = {{0}};
        char out[RDS_TOKEN_MAX];

        if (!rds_token_build(&req, &key, out, sizeof(out), &err))
            fail_msg("vector %zu: %s", i, err.msg);
        if (strcmp(out, v->expected) != 0)
            fail_msg("vector %zu:\n  got      %s\n  expected %s", i, out, v->expected);
    }
}

/* A different time, user, port or region gives a different signature. */
static void test_inputs_change_token(void **state)
{
    const struct vector *v = &vectors[0];
    struct sigv4_key key = {v->akid, v->secret, NULL};
    struct infra_error err = {{0}};
    char base[RDS_TOKEN_MAX], other[RDS_TOKEN_MAX];
    struct rds_token_request req = {v->host, v->port, v->user, v->region, (time_t)v->when};

    (void)state;
    assert_true(rds_token_build(&req, &key, base, sizeof(base), &err));
    req.when++;
    assert_true(rds_token_build(&req, &key, other, sizeof(other), &err));
    assert_string_not_equal(base, other);
    req.when--;
    req.user = "someone";
    assert_true(rds_token_build(&req, &key, other, sizeof(other), &err));
    assert_string_not_equal(strstr(base, "X-Amz-Signature="), strstr(other, "X-Amz-Signature="));
}

static void test_bad_input(void **state)
{
    struct sigv4_key key = {"AKIDEXAMPLE", "secret-value-1234", NULL};
    struct infra_error err = {{0}};
    char out[RDS_TOKEN_MAX], tiny[64];
    struct rds_token_request ok = {"db.example", 5432, "u", "eu-west-2", 1700000000};
    struct rds_token_request r;

    (void)state;
    r = ok;
    r.host = "db.example/x?y";
    assert_false(rds_token_build(&r, &key, out, sizeof(out), &err));
    r = ok;
    r.host = "";
    assert_false(rds_token_build(&r, &key, out, sizeof(out), &err));
    r = ok;
    r.port = 0;
    assert_false(rds_token_build(&r, &key, out, sizeof(out), &err));
    r = ok;
    r.port = 65536;
    assert_false(rds_token_build(&r, &key, out, sizeof(out), &err));
    r = ok;
    r.user = "";
    assert_false(rds_token_build(&r, &key, out, sizeof(out), &err));
    r = ok;
    r.region = "EU WEST";
    assert_false(rds_token_build(&r, &key, out, sizeof(out), &err));
    r = ok;
    r.region = NULL;
    assert_false(rds_token_build(&r, &key, out, sizeof(out), &err));
    /* too small an output buffer: an error, an empty string, never a cut token */
    assert_false(rds_token_build(&ok, &key, tiny, sizeof(tiny), &err));
    assert_string_equal(tiny, "");
    assert_null(strstr(err.msg, "secret-value"));
}

static void test_region_from_host(void **state)
{
    char r[64];

    (void)state;
    assert_true(rds_token_region_from_host("db.abc123.eu-west-2.rds.amazonaws.com", r, sizeof(r)));
    assert_string_equal(r, "eu-west-2");
    assert_true(
        rds_token_region_from_host("x.cluster-ro-abc.US-EAST-1.RDS.amazonaws.com", r, sizeof(r)));
    assert_string_equal(r, "us-east-1");
    assert_true(rds_token_region_from_host("db.abc.cn-north-1.rds.amazonaws.com.cn", r, sizeof(r)));
    assert_string_equal(r, "cn-north-1");
    assert_false(rds_token_region_from_host("rds.amazonaws.com", r, sizeof(r)));
    assert_false(rds_token_region_from_host(".rds.amazonaws.com", r, sizeof(r)));
    assert_false(rds_token_region_from_host("db.example.com", r, sizeof(r)));
    assert_false(rds_token_region_from_host("10.0.0.1", r, sizeof(r)));
    assert_false(rds_token_region_from_host(NULL, r, sizeof(r)));
    assert_false(rds_token_region_from_host("db.abc.eu-west-2.rds.amazonaws.com", r, 4));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_botocore_vectors),
        cmocka_unit_test(test_inputs_change_token),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_region_from_host),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
