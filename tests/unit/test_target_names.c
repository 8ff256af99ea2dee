/* test_target_names.c: names of a run's tables in anonetl_data (etl/target). Every name
 * must fit PostgreSQL's 63 bytes, keep its whole run suffix, and stay unique between
 * tables and runs, and from each other (version, pieces, keys), however long the table's
 * name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "etl/target.h"

static void plan_named(struct table_plan *plan, const char *qualified)
{
    memset(plan, 0, sizeof(*plan));
    snprintf(plan->qualified, sizeof(plan->qualified), "%s", qualified);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);

    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void test_short_names(void **state)
{
    struct table_plan plan;
    char name[TARGET_NAME_MAX];

    (void)state;
    plan_named(&plan, "public.parties");
    target_version_name(&plan, 42, name);
    assert_string_equal(name, "public.parties@r42");
    target_pieces_name(&plan, 42, name);
    assert_string_equal(name, "public.parties@r42+pieces");
    target_run_table_name(&plan, 42, "-keys", name);
    assert_string_equal(name, "public.parties@r42-keys");
}

static void test_long_names_fit_and_keep_their_suffix(void **state)
{
    struct table_plan plan;
    char name[TARGET_NAME_MAX];
    char qualified[128];

    (void)state;
    memset(qualified, 'x', sizeof(qualified) - 1);
    qualified[sizeof(qualified) - 1] = '\0';
    memcpy(qualified, "public.", 7);
    plan_named(&plan, qualified);
    target_version_name(&plan, 9223372036854775807LL, name);
    assert_true(strlen(name) <= 63);
    assert_true(ends_with(name, "@r9223372036854775807"));
    target_pieces_name(&plan, 9223372036854775807LL, name);
    assert_true(strlen(name) <= 63);
    assert_true(ends_with(name, "@r9223372036854775807+pieces"));
    target_run_table_name(&plan, 7, "-keys", name);
    assert_true(strlen(name) <= 63);
    assert_true(ends_with(name, "@r7-keys"));
}

/* Two long names sharing everything PostgreSQL would keep differ by their digest. */
static void test_long_names_stay_unique(void **state)
{
    struct table_plan a, b;
    char na[TARGET_NAME_MAX], nb[TARGET_NAME_MAX], qa[128], qb[128];

    (void)state;
    memset(qa, 'y', sizeof(qa) - 1);
    qa[sizeof(qa) - 1] = '\0';
    memcpy(qb, qa, sizeof(qb));
    qb[100] = 'z';
    plan_named(&a, qa);
    plan_named(&b, qb);
    for (int64_t run = 1; run < 2000000; run = run * 7 + 1) {
        target_pieces_name(&a, run, na);
        target_pieces_name(&b, run, nb);
        assert_string_not_equal(na, nb);
    }
    target_pieces_name(&a, 5, na);
    target_version_name(&a, 5, nb);
    assert_string_not_equal(na, nb);
    target_version_name(&a, 5, na);
    target_version_name(&a, 6, nb);
    assert_string_not_equal(na, nb);
}

/* Valid UTF-8 throughout: a name cut inside a character is refused by the server. */
static bool valid_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    while (*p) {
        size_t n = *p < 0x80             ? 1
                   : (*p & 0xe0) == 0xc0 ? 2
                   : (*p & 0xf0) == 0xe0 ? 3
                   : (*p & 0xf8) == 0xf0 ? 4
                                         : 0;
        if (n == 0)
            return false;
        for (size_t i = 1; i < n; i++)
            if ((p[i] & 0xc0) != 0x80)
                return false;
        p += n;
    }
    return true;
}

/* "a" + 30 x "é" (issue 11.14), and every other cut position of 2-, 3- and 4-byte
 * characters: each name is valid UTF-8, fits, and stays unique. */
static void test_long_non_ascii_names_cut_on_characters(void **state)
{
    static const char *const chars[] = {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80"};
    struct table_plan plan, other;
    char name[TARGET_NAME_MAX], name2[TARGET_NAME_MAX], qualified[128];

    (void)state;
    for (size_t c = 0; c < 3; c++)
        for (size_t lead = 0; lead < 4; lead++) {
            size_t o =
                (size_t)snprintf(qualified, sizeof(qualified), "public.%.*s", (int)lead, "aaaa");
            while (o + strlen(chars[c]) < 7 + 64)
                o += (size_t)snprintf(qualified + o, sizeof(qualified) - o, "%s", chars[c]);
            plan_named(&plan, qualified);
            target_version_name(&plan, 42, name);
            assert_true(valid_utf8(name));
            assert_true(strlen(name) <= 63);
            assert_true(ends_with(name, "@r42"));
            target_pieces_name(&plan, 42, name);
            assert_true(valid_utf8(name));
            target_run_table_name(&plan, 42, "-keys", name);
            assert_true(valid_utf8(name));
            /* the same prefix, another table: another name */
            qualified[strlen(qualified) - 1] ^= 1;
            plan_named(&other, qualified);
            target_run_table_name(&other, 42, "-keys", name2);
            assert_string_not_equal(name, name2);
        }
    plan_named(
        &plan,
        "public.a\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
        "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
        "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
    target_version_name(&plan, 1, name);
    assert_true(valid_utf8(name));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_short_names),
        cmocka_unit_test(test_long_names_fit_and_keep_their_suffix),
        cmocka_unit_test(test_long_names_stay_unique),
        cmocka_unit_test(test_long_non_ascii_names_cut_on_characters),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
