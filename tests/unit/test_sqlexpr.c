/* test_sqlexpr.c: a table's `where:` is one expression that cannot leave its
 * parentheses (anonymise/sqlexpr). Accepted: ordinary filters, quoted `;`, `--` and
 * parentheses in every kind of quoted text. Refused: statements, comments, unbalanced
 * parentheses, unterminated quotes, and quotes the server could read otherwise. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "anonymise/sqlexpr.h"

static const char *check(const char *s, size_t *at)
{
    size_t ignored;

    return sqlexpr_check(s, strlen(s), at ? at : &ignored);
}

static void test_accepted(void **state)
{
    static const char *const ok[] = {
        "NOT is_test",
        "status IN ('open', 'closed') AND created_at > now() - interval '90 days'",
        "note <> 'a;b' AND note NOT LIKE '%--%' AND note <> '/* x */'",
        "name = 'O''Brien; --'",
        "name = E'it\\'s; -- (' AND x = e'\\\\'",
        "x = E'\\'; DROP TABLE t; --'", /* one E string: the server reads it the same */
        "\"weird;col--\" IS NOT NULL AND \"a\"\"b\" = 1",
        "body = $$ a ; -- ( $$ AND t = $tag$ ) $ $$ ; $tag$",
        "price$ > 0 AND a$b$c = 1",
        "(a = 1 OR (b = 2 AND (c = 3)))",
        "EXISTS (SELECT 1 FROM public.consents c WHERE c.person_id = id)",
        "x = U&'d\\0061t\\+000061 ;' AND y = U&\"d;\" AND z = B'101' AND w = X'1F' AND v = N'n'",
        "arr[1] = 2 AND 1.5 > 0.5e-3 AND -1 < 2 AND a - -1 = 0",
        "",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        const char *why = check(ok[i], NULL);
        if (why)
            fail_msg("refused %s: %s", ok[i], why);
    }
}

static void test_refused(void **state)
{
    static const struct {
        const char *text;
        size_t at;
        const char *why;
    } bad[] = {
        /* the attack of issue 10.2 */
        {"true)) TO STDOUT; COMMIT; BEGIN READ WRITE; INSERT INTO t VALUES (1); --", 4, "`)`"},
        {"true; DELETE FROM t", 4, "`;`"},
        {"true -- and the rest", 5, "comment"},
        {"true /* x */", 5, "comment"},
        {"a = 1) OR (1 = 1", 5, "`)`"},
        {"true) UNION SELECT secret FROM other WHERE (true", 4, "`)`"},
        {"(a = 1", 6, "`(`"},
        {"name = 'open", 7, "closing quote"},
        {"\"col = 1", 0, "closing quote"},
        {"x = E'ab\\'", 5, "closing quote"}, /* \' does not close an E string */
        {"x = $a$ ; $b$", 4, "closing delimiter"},
        {"x = $$ ;", 4, "closing delimiter"},
        /* quotes the server could read otherwise */
        {"xE'\\' ) ; --'", 2, "quote right after"},
        {"1E'\\' ) ; --'", 2, "quote right after"},
        {"1.E'\\' ) ; --'", 3, "quote right after"},
        {"a'x'", 1, "quote right after"},
        {"1$a$ ) $a$", 1, "`$` right after a number"},
        {"x.$a$ ) $a$", 2, "after a `.`"},
        /* a semicolon or comment after quoted text is still outside */
        {"name = 'a''b' ; x", 14, "`;`"},
        {"\"c\"\"\" = 1 --", 10, "comment"},
        {"$$ x $$ ;", 8, "`;`"},
    };
    size_t at;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *why = check(bad[i].text, &at);
        if (!why)
            fail_msg("accepted %s", bad[i].text);
        if (!strstr(why, bad[i].why))
            fail_msg("%s: expected %s, got %s", bad[i].text, bad[i].why, why);
        if (at != bad[i].at)
            fail_msg("%s: expected offset %zu, got %zu", bad[i].text, bad[i].at, at);
    }
}

static void test_nul_and_bounds(void **state)
{
    size_t at = 99;

    (void)state;
    assert_non_null(sqlexpr_check("a\0;", 3, &at));
    assert_int_equal(at, 1);
    /* The length bounds the scan: a quote past it is not read. */
    assert_null(sqlexpr_check("a = 1'", 5, &at));
    assert_non_null(sqlexpr_check("a = '", 5, &at));
}

/* The words of an expression, one letter per flag: c call, q quoted, e escaped, a after
 * a dot, b before a dot, t type; "word/flags word/flags ..." */
static const char *words(const char *expr, bool *clock)
{
    static char out[1024];
    struct sqlexpr_word w[64];
    size_t n = sqlexpr_words(expr, strlen(expr), w, 64, clock), o = 0;

    out[0] = '\0';
    for (size_t i = 0; i < n && i < 64; i++)
        o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%.*s/%s%s%s%s%s%s", i ? " " : "",
                              (int)w[i].len, expr + w[i].offset, w[i].call ? "c" : "",
                              w[i].quoted ? "q" : "", w[i].escaped ? "e" : "",
                              w[i].after_dot ? "a" : "", w[i].before_dot ? "b" : "",
                              w[i].type ? "t" : "");
    return out;
}

static void test_words(void **state)
{
    bool clock;

    (void)state;
    assert_string_equal(words("NOT is_test AND lower(email) LIKE '%now%'", &clock),
                        "NOT/ is_test/ AND/ lower/c email/ LIKE/");
    assert_true(clock); /* "now" between non-letters: counted, though a LIKE pattern (it
                         * only costs an incremental table its deletes: key_scan) */
    assert_string_equal(words("PG_CATALOG . PG_NOTIFY ('c', x) AND \"pg_sleep\"(1)", &clock),
                        "PG_CATALOG/b PG_NOTIFY/ca x/ AND/ \"pg_sleep\"/cq");
    assert_string_equal(words("t.col::public.my_type > 1.5e3 AND x::varchar(5) = E'a' AND "
                              "U&\"d\\0061t\"(1) AND $q$ now $q$ <> B'1'",
                              &clock),
                        "t/b col/a public/bt my_type/at AND/ x/ varchar/ct AND/ "
                        "\"d\\0061t\"/cqe AND/");
    assert_true(clock); /* the dollar-quoted " now " */
    words("created > 'Today'::date", &clock);
    assert_true(clock);
    words("note = 'snowy tomorrowland'", &clock);
    assert_false(clock);
    words("note = E'\\x6eow'", &clock); /* an escape could spell now */
    assert_true(clock);
    assert_int_equal(sqlexpr_words("", 0, NULL, 0, &clock), 0);
}

/* The string constant sqlexpr_numeric_date finds in expr, or "" for none. */
static const char *numeric_date(const char *expr)
{
    static char out[256];
    size_t offset = 0, n = 0;

    out[0] = '\0';
    if (sqlexpr_numeric_date(expr, strlen(expr), &offset, &n))
        snprintf(out, sizeof(out), "%.*s", (int)n, expr + offset);
    return out;
}

static void test_numeric_date(void **state)
{
    (void)state;
    assert_string_equal(numeric_date("born = '01/02/2000'"), "'01/02/2000'");
    assert_string_equal(numeric_date("born < '1.2.99' OR x"), "'1.2.99'");
    assert_string_equal(numeric_date("at >= E'01-02-2000 10:00' AND y"),
                        "'01-02-2000 10:00'"); /* the quoted part */
    assert_string_equal(numeric_date("at >= ' 3/4/2024T10:00'"), "' 3/4/2024T10:00'");
    assert_string_equal(numeric_date("a = 'x' AND b = '12/31/1999'"), "'12/31/1999'");
    /* ISO, other shapes, names, bits, dollar quotes and numbers are not such dates */
    assert_string_equal(numeric_date("born = '2000-01-02' AND at < '2000/01/02'"), "");
    assert_string_equal(numeric_date("v = '1.2.3' OR v = '01/02' OR v = '01/02/20001'"), "");
    assert_string_equal(numeric_date("v = '01/02-2000' OR v = '001/02/2000' OR v = '1/2/2000x'"),
                        "");
    assert_string_equal(numeric_date("\"01/02/2000\" = 1 AND b = B'01' AND $q$01/02/2000$q$ <> x"),
                        "");
    assert_string_equal(numeric_date("x = 1.02 AND y = 01.02"), "");
    assert_string_equal(numeric_date(""), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepted),       cmocka_unit_test(test_refused),
        cmocka_unit_test(test_nul_and_bounds), cmocka_unit_test(test_words),
        cmocka_unit_test(test_numeric_date),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
