/* test_pgconn_params.c: which connections must verify TLS (etl/pgconn), decided from the
 * address libpq will really use: the connection string's hostaddr or host, else libpq's
 * own defaults (PGHOSTADDR, PGHOST, the service PGSERVICE names in PGSERVICEFILE). A
 * service named in the connection string is not known before connecting: not local.
 * Nothing here connects. Also: every secret reference resolves before anything else, a
 * missing one is named, never its value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "etl/pgconn.h"

static char service_file[64];

static void clean_env(void)
{
    static const char *const vars[] = {"PGHOST",        "PGHOSTADDR", "PGSERVICE",
                                       "PGSERVICEFILE", "PGSSLMODE",  "PGSYSCONFDIR"};

    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
        unsetenv(vars[i]);
    setenv("PGSYSCONFDIR", "/nonexistent", 1); /* no system-wide service file */
}

static int setup(void **state)
{
    FILE *f;
    int fd;

    (void)state;
    snprintf(service_file, sizeof(service_file), "/tmp/anonetl-test-service.XXXXXX");
    fd = mkstemp(service_file);
    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    fputs("[prod]\nhost=db.internal\nport=5432\n[local]\nhost=/var/run/postgresql\n"
          "[addr]\nhostaddr=192.0.2.10\n",
          f);
    fclose(f);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(service_file);
    clean_env();
    return 0;
}

/* Build params for a literal DSN: NULL when refused (err set), else the sslmode chosen
 * ("" when anonetl left it to libpq). */
static const char *sslmode_for(const char *dsn, struct anon_error *err)
{
    static char mode[32];
    struct cfg_db db = {.dsn = {.kind = CFG_SECRET_LITERAL, .ref = (char *)dsn}};
    struct pgconn_params p;

    anon_error_clear(err);
    if (!pgconn_params_build(&db, "target", &p, err))
        return NULL;
    snprintf(mode, sizeof(mode), "%s",
             pgconn_params_get(&p, "sslmode") ? pgconn_params_get(&p, "sslmode") : "");
    pgconn_params_free(&p);
    return mode;
}

static void test_local_without_tls(void **state)
{
    struct anon_error err;

    (void)state;
    clean_env();
    assert_string_equal(sslmode_for("dbname=x", &err), ""); /* the default socket */
    assert_string_equal(sslmode_for("host=/tmp dbname=x sslmode=disable", &err), "disable");
    assert_string_equal(sslmode_for("host=127.0.0.1 dbname=x sslmode=disable", &err), "disable");
    setenv("PGHOST", "localhost", 1);
    assert_string_equal(sslmode_for("dbname=x sslmode=disable", &err), "disable");
    setenv("PGHOST", "/var/run/postgresql", 1);
    assert_string_equal(sslmode_for("dbname=x", &err), "");
    /* hostaddr decides where the connection goes */
    clean_env();
    setenv("PGHOSTADDR", "127.0.0.1", 1);
    assert_string_equal(sslmode_for("host=db.internal dbname=x sslmode=disable", &err), "disable");
    clean_env();
    setenv("PGSERVICEFILE", service_file, 1);
    setenv("PGSERVICE", "local", 1);
    assert_string_equal(sslmode_for("dbname=x sslmode=disable", &err), "disable");
}

/* A partitioned server fails the run in about 2 minutes (pgconn.c, params_add_session):
 * keepalives end an idle connection, tcp_user_timeout one whose data goes unacknowledged;
 * the connection string's own values win. */
static void test_dead_server_bounds(void **state)
{
    struct cfg_db db = {.dsn = {.kind = CFG_SECRET_LITERAL, .ref = "host=/tmp dbname=x"}};
    struct cfg_db own = {
        .dsn = {.kind = CFG_SECRET_LITERAL,
                .ref = "host=/tmp dbname=x keepalives_count=3 tcp_user_timeout=0"}};
    struct pgconn_params p;
    struct anon_error err;

    (void)state;
    clean_env();
    assert_true(pgconn_params_build(&db, "source", &p, &err));
    assert_string_equal(pgconn_params_get(&p, "keepalives_idle"), "60");
    assert_string_equal(pgconn_params_get(&p, "keepalives_interval"), "10");
    assert_string_equal(pgconn_params_get(&p, "keepalives_count"), "6");
    assert_string_equal(pgconn_params_get(&p, "tcp_user_timeout"), "120000");
    pgconn_params_free(&p);
    assert_true(pgconn_params_build(&own, "target", &p, &err));
    assert_string_equal(pgconn_params_get(&p, "keepalives_count"), "3");
    assert_string_equal(pgconn_params_get(&p, "tcp_user_timeout"), "0");
    pgconn_params_free(&p);
}

static void test_host_from_the_environment(void **state)
{
    struct anon_error err;

    (void)state;
    clean_env();
    setenv("PGHOST", "db.internal", 1);
    assert_string_equal(sslmode_for("dbname=x", &err), "verify-full");
    assert_null(sslmode_for("dbname=x sslmode=prefer", &err));
    assert_non_null(strstr(err.msg, "sslmode=prefer for host db.internal (from PGHOST"));
    /* verify-ca does not check the host name: refused outside loopback */
    assert_null(sslmode_for("dbname=x sslmode=verify-ca", &err));
    assert_non_null(strstr(err.msg, "sslmode=verify-ca for host db.internal"));
    assert_string_equal(sslmode_for("dbname=x sslmode=verify-full", &err), "verify-full");
    /* a list with one remote host is remote */
    setenv("PGHOST", "localhost,db.internal", 1);
    assert_null(sslmode_for("dbname=x sslmode=disable", &err));
    /* the DSN's host wins over PGHOST */
    setenv("PGHOST", "db.internal", 1);
    assert_string_equal(sslmode_for("host=127.0.0.1 dbname=x sslmode=disable", &err), "disable");
}

static void test_hostaddr_from_the_environment(void **state)
{
    struct anon_error err;

    (void)state;
    clean_env();
    setenv("PGHOSTADDR", "192.0.2.10", 1);
    assert_null(sslmode_for("host=localhost dbname=x sslmode=disable", &err));
    assert_non_null(strstr(err.msg, "hostaddr 192.0.2.10 (from PGHOSTADDR"));
    assert_string_equal(sslmode_for("host=localhost dbname=x", &err), "verify-full");
}

static void test_service_files(void **state)
{
    struct anon_error err;

    (void)state;
    clean_env();
    setenv("PGSERVICEFILE", service_file, 1);
    setenv("PGSERVICE", "prod", 1);
    assert_null(sslmode_for("dbname=x sslmode=allow", &err));
    assert_non_null(strstr(err.msg, "db.internal"));
    assert_string_equal(sslmode_for("dbname=x", &err), "verify-full");
    setenv("PGSERVICE", "addr", 1);
    assert_null(sslmode_for("host=localhost dbname=x sslmode=disable", &err));
    assert_non_null(strstr(err.msg, "192.0.2.10"));
    /* a service named in the DSN: not known before connecting */
    clean_env();
    setenv("PGSERVICEFILE", service_file, 1);
    assert_null(sslmode_for("service=local dbname=x sslmode=disable", &err));
    assert_non_null(strstr(err.msg, "service \"local\""));
    assert_string_equal(sslmode_for("service=prod dbname=x", &err), "verify-full");
    /* unless the DSN says where the connection goes */
    assert_string_equal(
        sslmode_for("service=prod host=localhost hostaddr=127.0.0.1 dbname=x sslmode=disable",
                    &err),
        "disable");
}

static void test_secrets_resolved_and_named(void **state)
{
    struct cfg_db db = {.dsn = {.kind = CFG_SECRET_ENV, .ref = "ANONETL_TEST_UNSET_DSN"}};
    enum secret_failure why = SECRET_FAIL_UNAVAILABLE;
    struct anon_error err;

    (void)state;
    clean_env();
    unsetenv("ANONETL_TEST_UNSET_DSN");
    assert_false(pgconn_params_check(&db, "source", &why, &err));
    assert_non_null(strstr(err.msg, "environment variable ANONETL_TEST_UNSET_DSN is not set"));
    assert_int_equal(why, SECRET_FAIL_CONFIG);
    assert_int_equal(secret_failure_exit(why), 2);
    why = SECRET_FAIL_UNAVAILABLE;
    db.dsn = (struct cfg_secret){.kind = CFG_SECRET_LITERAL, .ref = "host=/tmp dbname=x"};
    db.password = (struct cfg_secret){.kind = CFG_SECRET_FILE, .ref = "/nonexistent/pw"};
    assert_false(pgconn_params_check(&db, "target", &why, &err));
    assert_non_null(strstr(err.msg, "/nonexistent/pw"));
    assert_int_equal(why, SECRET_FAIL_CONFIG);
    /* refused for TLS: the message never holds the DSN's password */
    db.dsn = (struct cfg_secret){.kind = CFG_SECRET_ENV, .ref = "ANONETL_TEST_SET_DSN"};
    db.password = (struct cfg_secret){.kind = CFG_SECRET_NONE};
    setenv("PGHOST", "db.internal", 1);
    setenv("ANONETL_TEST_SET_DSN", "dbname=x sslmode=disable password=Secret-Value-42", 1);
    assert_false(pgconn_params_check(&db, "target", &why, &err));
    assert_null(strstr(err.msg, "Secret-Value-42"));
    assert_int_equal(why, SECRET_FAIL_CONFIG);
    unsetenv("ANONETL_TEST_SET_DSN");
}

/* A DSN libpq cannot read, or reads with part of the password in the host or port: the
 * message never holds any of it. */
static void test_password_never_in_dsn_errors(void **state)
{
    static const char *const dsns[] = {
        "postgresql://app:pw%zzSecretTail@127.0.0.1/db", /* a % not followed by hex */
        "postgresql://app:pw@SecretTail@db.internal/db", /* '@': the rest is the host */
        "postgresql://app:pw/SecretTail@db.internal/db", /* '/': "pw" is the port */
        "host=127.0.0.1 password=pw SecretTail",         /* no quotes around a space */
        "host=127.0.0.1,SecretTail@x dbname=db",         "hostaddr=127.0.0.1 port=5432x dbname=db",
    };
    struct anon_error err;

    (void)state;
    clean_env();
    for (size_t i = 0; i < sizeof(dsns) / sizeof(dsns[0]); i++) {
        if (sslmode_for(dsns[i], &err))
            fail_msg("accepted %s", dsns[i]);
        if (strstr(err.msg, "SecretTail") || strstr(err.msg, "5432x"))
            fail_msg("%s: %s", dsns[i], err.msg);
    }
    /* what is a host stays one: names, addresses, IPv6 with a zone, socket paths */
    assert_non_null(sslmode_for("host=db-1.internal_x,/tmp,@abstract,::1 port=5432,5433,5434,5435 "
                                "sslmode=verify-full dbname=x",
                                &err));
    assert_non_null(sslmode_for("hostaddr=fe80::1%eth0 sslmode=verify-full dbname=x", &err));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_local_without_tls),
        cmocka_unit_test(test_dead_server_bounds),
        cmocka_unit_test(test_host_from_the_environment),
        cmocka_unit_test(test_hostaddr_from_the_environment),
        cmocka_unit_test(test_service_files),
        cmocka_unit_test(test_secrets_resolved_and_named),
        cmocka_unit_test(test_password_never_in_dsn_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
