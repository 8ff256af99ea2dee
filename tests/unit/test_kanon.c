/* test_kanon.c: k-anonymity statements and the action decision (anonymise/kanon). The
 * statements are run against a real cluster in tests/integration/kanon.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "anonymise/kanon.h"

static void test_quote_ident(void **state)
{
    struct abuf b;

    (void)state;
    abuf_init(&b, 1024);
    assert_true(kanon_quote_ident("postcode", &b));
    assert_string_equal(abuf_cstr(&b), "\"postcode\"");
    abuf_reset(&b);
    assert_true(kanon_quote_ident("we\"ird name", &b));
    assert_string_equal(abuf_cstr(&b), "\"we\"\"ird name\"");
    abuf_reset(&b);
    assert_true(kanon_quote_ident("", &b));
    assert_string_equal(abuf_cstr(&b), "\"\"");
    abuf_free(&b);

    abuf_init(&b, 4); /* too small: the failure is reported */
    assert_false(kanon_quote_ident("longer", &b));
    abuf_free(&b);
}

static void test_sql_two_columns(void **state)
{
    const char *qi[] = {"\"postcode\"", "\"dob\""};
    struct kanon_sql s;
    struct anon_error err = {0};

    (void)state;
    assert_true(kanon_sql_build("\"anonetl_data\".\"t@r1\"", qi, 2, 5, &s, &err));
    assert_string_equal(
        s.measure,
        "SELECT count(*) FILTER (WHERE w.n < 5 AND NOT w.z), count(*) FILTER (WHERE w.z) "
        "FROM (SELECT (kanon_s.\"postcode\" IS NULL AND kanon_s.\"dob\" IS NULL) AS z, "
        "count(*) OVER (PARTITION BY kanon_s.\"postcode\", kanon_s.\"dob\") AS n "
        "FROM \"anonetl_data\".\"t@r1\" AS kanon_s) AS w");
    assert_string_equal(
        s.suppress,
        "UPDATE \"anonetl_data\".\"t@r1\" AS kanon_t SET \"postcode\" = NULL, \"dob\" = NULL "
        "WHERE kanon_t.ctid IN (SELECT w.ctid FROM (SELECT kanon_s.ctid, count(*) OVER "
        "(PARTITION BY kanon_s.\"postcode\", kanon_s.\"dob\") AS n FROM "
        "\"anonetl_data\".\"t@r1\" AS kanon_s) AS w WHERE w.n < 5) "
        "AND NOT (kanon_t.\"postcode\" IS NULL AND kanon_t.\"dob\" IS NULL)");
    assert_string_equal(
        s.drop, "DELETE FROM \"anonetl_data\".\"t@r1\" AS kanon_t "
                "WHERE kanon_t.ctid IN (SELECT w.ctid FROM (SELECT kanon_s.ctid, count(*) OVER "
                "(PARTITION BY kanon_s.\"postcode\", kanon_s.\"dob\") AS n FROM "
                "\"anonetl_data\".\"t@r1\" AS kanon_s) AS w WHERE w.n < 5)");
    assert_string_equal(s.drop_null, "DELETE FROM \"anonetl_data\".\"t@r1\" AS kanon_t WHERE "
                                     "(kanon_t.\"postcode\" IS NULL AND kanon_t.\"dob\" IS NULL)");
    kanon_sql_free(&s);
    kanon_sql_free(&s); /* idempotent */
    kanon_sql_free(NULL);
}

static void test_sql_one_column(void **state)
{
    const char *qi[] = {"\"a\"\"b\""};
    struct kanon_sql s;
    struct anon_error err = {0};

    (void)state;
    assert_true(kanon_sql_build("t", qi, 1, 1000000, &s, &err));
    assert_non_null(strstr(s.suppress, "SET \"a\"\"b\" = NULL WHERE"));
    assert_non_null(strstr(s.suppress, "WHERE w.n < 1000000)"));
    assert_non_null(strstr(s.drop_null, "(kanon_t.\"a\"\"b\" IS NULL)"));
    assert_null(strstr(s.suppress, ", \"")); /* one column: no list separator */
    kanon_sql_free(&s);
}

static void test_sql_bad_input(void **state)
{
    const char *qi[] = {"\"a\""};
    const char *empty[] = {""};
    struct kanon_sql s;
    struct anon_error err = {0};

    (void)state;
    assert_false(kanon_sql_build("t", qi, 0, 5, &s, &err));
    assert_null(s.measure);
    assert_false(kanon_sql_build("t", qi, 1, 1, &s, &err));
    assert_false(kanon_sql_build("", qi, 1, 5, &s, &err));
    assert_false(kanon_sql_build(NULL, qi, 1, 5, &s, &err));
    assert_false(kanon_sql_build("t", empty, 1, 5, &s, &err));
    assert_non_null(strstr(err.msg, "empty"));
}

struct decide_case {
    enum cfg_kanon_action action;
    int k;
    uint64_t violating, null_rows;
    enum kanon_step want;
};

static void test_decide(void **state)
{
    static const struct decide_case cases[] = {
        /* nothing to do */
        {CFG_KANON_SUPPRESS, 5, 0, 0, KANON_NOTHING},
        {CFG_KANON_DROP, 5, 0, 0, KANON_NOTHING},
        {CFG_KANON_FAIL, 5, 0, 0, KANON_NOTHING},
        {CFG_KANON_SUPPRESS, 5, 0, 5, KANON_NOTHING}, /* an all-NULL class of exactly k */
        {CFG_KANON_FAIL, 5, 0, 7, KANON_NOTHING},
        /* violations */
        {CFG_KANON_SUPPRESS, 5, 3, 2, KANON_SUPPRESS}, /* NULL class becomes 5: ok */
        {CFG_KANON_SUPPRESS, 5, 6, 0, KANON_SUPPRESS},
        {CFG_KANON_SUPPRESS, 5, 3, 1, KANON_DROP}, /* NULL class would be 4 < 5 */
        {CFG_KANON_SUPPRESS, 5, 1, 0, KANON_DROP},
        {CFG_KANON_SUPPRESS, 5, 0, 4, KANON_DROP_NULL}, /* only the NULL class is small */
        {CFG_KANON_SUPPRESS, 2, 0, 1, KANON_DROP_NULL},
        {CFG_KANON_DROP, 5, 3, 0, KANON_DROP},
        {CFG_KANON_DROP, 5, 0, 3, KANON_DROP},
        {CFG_KANON_DROP, 5, 0, 9, KANON_NOTHING},
        {CFG_KANON_FAIL, 5, 1, 0, KANON_FAIL},
        {CFG_KANON_FAIL, 5, 0, 4, KANON_FAIL},
        {CFG_KANON_SUPPRESS, 1000000, 999999, 0, KANON_DROP},
        {CFG_KANON_SUPPRESS, 1000000, 999999, 1, KANON_SUPPRESS},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct decide_case *c = &cases[i];
        enum kanon_step got = kanon_decide(c->action, c->k, c->violating, c->null_rows);
        if (got != c->want)
            fail_msg("case %zu: action %d k %d violating %llu null %llu: got %d, want %d", i,
                     (int)c->action, c->k, (unsigned long long)c->violating,
                     (unsigned long long)c->null_rows, (int)got, (int)c->want);
    }
}

/* The published rows as one SELECT: each step, and what is refused. */
static void test_select(void **state)
{
    const char *cols[] = {"\"id\"", "\"pc\"", "\"yr\""};
    const bool qi[] = {false, true, true};
    const size_t key[] = {0}, qi_key[] = {1, 0};
    struct anon_error err = {0};
    struct abuf b;
    const char *window = " FROM (SELECT kanon_s.*, (kanon_s.\"pc\" IS NULL AND kanon_s.\"yr\" "
                         "IS NULL) AS kanon_z, count(*) OVER (PARTITION BY kanon_s.\"pc\", "
                         "kanon_s.\"yr\") AS kanon_n FROM t AS kanon_s) AS w";
    char want[1024];

    (void)state;
    abuf_init(&b, 1 << 16);
    assert_true(kanon_select_build("t", cols, qi, 3, key, 1, 5, KANON_NOTHING, &b, &err));
    assert_string_equal(abuf_cstr(&b), "SELECT \"id\", \"pc\", \"yr\" FROM t ORDER BY 1");
    abuf_reset(&b);
    assert_true(kanon_select_build("t", cols, qi, 3, key, 1, 5, KANON_SUPPRESS, &b, &err));
    snprintf(want, sizeof(want),
             "SELECT w.\"id\", CASE WHEN w.kanon_n < 5 AND NOT w.kanon_z THEN NULL ELSE "
             "w.\"pc\" END, CASE WHEN w.kanon_n < 5 AND NOT w.kanon_z THEN NULL ELSE w.\"yr\" "
             "END%s ORDER BY 1",
             window);
    assert_string_equal(abuf_cstr(&b), want);
    abuf_reset(&b);
    assert_true(kanon_select_build("t", cols, qi, 3, key, 1, 5, KANON_DROP, &b, &err));
    snprintf(want, sizeof(want),
             "SELECT w.\"id\", w.\"pc\", w.\"yr\"%s WHERE w.kanon_n >= 5 ORDER BY 1", window);
    assert_string_equal(abuf_cstr(&b), want);
    abuf_reset(&b);
    assert_true(kanon_select_build("t", cols, qi, 3, key, 1, 5, KANON_DROP_NULL, &b, &err));
    snprintf(want, sizeof(want),
             "SELECT w.\"id\", w.\"pc\", w.\"yr\"%s WHERE NOT w.kanon_z ORDER BY 1", window);
    assert_string_equal(abuf_cstr(&b), want);
    abuf_reset(&b);
    /* no key: random(); a key holding a quasi-identifier (NULL when suppressed): random()
     * breaks the ties the window's order would fill */
    abuf_reset(&b);
    assert_true(kanon_select_build("t", cols, qi, 3, NULL, 0, 5, KANON_NOTHING, &b, &err));
    assert_string_equal(abuf_cstr(&b),
                        "SELECT \"id\", \"pc\", \"yr\" FROM t ORDER BY pg_catalog.random()");
    abuf_reset(&b);
    assert_true(kanon_select_build("t", cols, qi, 3, qi_key, 2, 5, KANON_DROP, &b, &err));
    snprintf(want, sizeof(want),
             "SELECT w.\"id\", w.\"pc\", w.\"yr\"%s WHERE w.kanon_n >= 5 ORDER BY 2, 1, "
             "pg_catalog.random()",
             window);
    assert_string_equal(abuf_cstr(&b), want);
    assert_false(
        kanon_select_build("t", cols, qi, 3, (const size_t[]){3}, 1, 5, KANON_DROP, &b, &err));
    assert_false(kanon_select_build("t", cols, qi, 3, key, 1, 5, KANON_FAIL, &b, &err));
    assert_false(kanon_select_build("t", cols, (const bool[]){false, false, false}, 3, key, 1, 5,
                                    KANON_SUPPRESS, &b, &err));
    assert_false(kanon_select_build("", cols, qi, 3, key, 1, 5, KANON_SUPPRESS, &b, &err));
    assert_false(kanon_select_build("t", cols, qi, 3, key, 1, 1, KANON_SUPPRESS, &b, &err));
    abuf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quote_ident),    cmocka_unit_test(test_sql_two_columns),
        cmocka_unit_test(test_sql_one_column), cmocka_unit_test(test_sql_bad_input),
        cmocka_unit_test(test_decide),         cmocka_unit_test(test_select),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
