/* test_leakset.c: which sampled values a leak audit searches, and the search itself
 * (anonymise/leakset). The audit on real clusters is tests/integration/audit.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anonymise/leakset.h"

static enum leakset_use use_of(const char *v, enum leakset_class cls)
{
    size_t start, n;

    return leakset_classify(v, strlen(v), cls, &start, &n);
}

static void test_classify_lengths(void **state)
{
    (void)state;
    assert_int_equal(use_of("", LEAKSET_TEXT), LEAKSET_SKIP);
    assert_int_equal(use_of("Bob", LEAKSET_TEXT), LEAKSET_SKIP);
    assert_int_equal(use_of("  Bob  ", LEAKSET_TEXT), LEAKSET_SKIP); /* trimmed */
    assert_int_equal(use_of("true", LEAKSET_TEXT), LEAKSET_EQUAL);
    assert_int_equal(use_of("Zoë Wu", LEAKSET_TEXT), LEAKSET_EQUAL); /* 6 characters */
    assert_int_equal(use_of("Ava Wood", LEAKSET_TEXT), LEAKSET_CONTAIN);
    /* characters, not bytes: 7 characters in 10 bytes */
    assert_int_equal(use_of("Łódź ÓŚ", LEAKSET_TEXT), LEAKSET_EQUAL);
    assert_int_equal(use_of("alice@example.com", LEAKSET_TEXT), LEAKSET_CONTAIN);
}

static void test_classify_numbers_and_dates(void **state)
{
    (void)state;
    assert_int_equal(use_of("12345", LEAKSET_TEXT), LEAKSET_SKIP);
    assert_int_equal(use_of("1234567", LEAKSET_TEXT), LEAKSET_SKIP);
    assert_int_equal(use_of("12345678", LEAKSET_TEXT), LEAKSET_CONTAIN);
    assert_int_equal(use_of("07700 900123", LEAKSET_TEXT), LEAKSET_CONTAIN);
    assert_int_equal(use_of("+44 (0)20 7946 0123", LEAKSET_TEXT), LEAKSET_CONTAIN);
    assert_int_equal(use_of("192.0.2.17", LEAKSET_TEXT), LEAKSET_CONTAIN);
    assert_int_equal(use_of("10.0.0.1", LEAKSET_TEXT), LEAKSET_CONTAIN); /* IPv4: as text */
    assert_int_equal(use_of("1.2.3.4", LEAKSET_TEXT), LEAKSET_EQUAL);
    assert_int_equal(use_of("1.2.3.4.5", LEAKSET_TEXT), LEAKSET_SKIP);
    assert_int_equal(use_of("1234.56", LEAKSET_TEXT), LEAKSET_SKIP); /* an amount */
    /* integers: ids of unrelated tables collide below 10 digits */
    assert_int_equal(use_of("12345678", LEAKSET_INTEGER), LEAKSET_SKIP);
    assert_int_equal(use_of("447700900123", LEAKSET_INTEGER), LEAKSET_CONTAIN);
    assert_int_equal(use_of("-4477009001", LEAKSET_INTEGER), LEAKSET_CONTAIN);
    /* dates and times are never searched */
    assert_int_equal(use_of("2024-03-01", LEAKSET_TEXT), LEAKSET_SKIP);
    assert_int_equal(use_of("01/03/2024", LEAKSET_TEXT), LEAKSET_SKIP);
    assert_int_equal(use_of("1.3.24", LEAKSET_TEXT), LEAKSET_SKIP);
    assert_int_equal(use_of("2024-03-01 12:30:00+00", LEAKSET_TEXT), LEAKSET_SKIP);
    assert_int_equal(use_of("12:30:45.123456", LEAKSET_TEXT), LEAKSET_SKIP);
    /* three groups but not a date: a phone number */
    assert_int_equal(use_of("020-7946-0123", LEAKSET_TEXT), LEAKSET_CONTAIN);
    /* letters make it text, whatever the digits */
    assert_int_equal(use_of("AB123456", LEAKSET_TEXT), LEAKSET_CONTAIN);
}

static void test_classify_cut(void **state)
{
    char big[3000];
    size_t start, n;

    (void)state;
    memset(big, 'a', sizeof(big));
    memcpy(big + LEAKSET_MAX_VALUE - 1, "\xc3\xa9", 2); /* é across the cut */
    assert_int_equal(leakset_classify(big, sizeof(big), LEAKSET_TEXT, &start, &n), LEAKSET_CONTAIN);
    assert_int_equal(start, 0);
    assert_int_equal(n, LEAKSET_MAX_VALUE - 1); /* cut before the character */
    /* a cut that ends in spaces is trimmed again, as the search trims (found by fuzzing) */
    memset(big, 'a', sizeof(big));
    memset(big + LEAKSET_MAX_VALUE - 5, ' ', 10);
    assert_int_equal(leakset_classify(big, sizeof(big), LEAKSET_TEXT, &start, &n), LEAKSET_CONTAIN);
    assert_int_equal(n, LEAKSET_MAX_VALUE - 5);
}

static struct leakset *set_of(const char *const *values, size_t n, uint32_t origin)
{
    struct leakset *s = leakset_new();
    struct anon_error err;

    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        assert_true(leakset_add(s, values[i], strlen(values[i]), LEAKSET_TEXT, origin, &err));
    assert_true(leakset_build(s, &err));
    return s;
}

static bool found(const struct leakset *s, const char *v, bool contain, uint32_t *origin)
{
    return leakset_find(s, v, strlen(v), contain, origin);
}

static void test_find_equal_and_inside(void **state)
{
    static const char *const values[] = {"alice.smith@example.com", "07700 900123", "Zoë Wu", "Bob",
                                         "2024-03-01"};
    struct leakset *s = set_of(values, 5, 7);
    uint32_t o = 0;

    (void)state;
    assert_int_equal(leakset_count(s), 3);
    assert_int_equal(leakset_count_origin(s, 7), 3);
    assert_true(found(s, "alice.smith@example.com", false, &o));
    assert_int_equal(o, 7);
    assert_true(found(s, "Alice.Smith@EXAMPLE.com", false, &o)); /* ASCII case */
    assert_true(found(s, "  Zoë Wu ", false, &o));               /* trimmed, e.g. char(n) */
    assert_false(found(s, "zoë wuu", false, &o));
    assert_false(found(s, "Bob", false, &o));        /* too short to be searched */
    assert_false(found(s, "2024-03-01", false, &o)); /* a date */
    /* inside text, at every position relative to the stride */
    for (int pad = 0; pad < 12; pad++) {
        char text[256];
        snprintf(text, sizeof(text), "%.*sPlease write to ALICE.smith@example.com today.", pad,
                 "xxxxxxxxxxxxxxxx");
        assert_true(found(s, text, true, &o));
        assert_false(found(s, text, false, &o)); /* not equal */
        snprintf(text, sizeof(text), "%.*scall 07700 900123", pad, "xxxxxxxxxxxxxxxx");
        assert_true(found(s, text, true, &o));
    }
    assert_true(found(s, "07700 900123", true, &o)); /* the whole text */
    assert_false(found(s, "call 07700 900124 or 07700 90012", true, &o));
    assert_false(found(s, "alice.smith@example.co", true, &o)); /* cut short at the end */
    /* short values are not searched inside text */
    assert_false(found(s, "Dear Zoë Wu, thanks", true, &o));
    leakset_free(s);
}

static void test_escaped_forms(void **state)
{
    static const char *const values[] = {"\"bob\"@example.com", "C:\\Users\\ann.lee"};
    struct leakset *s = set_of(values, 2, 1);
    uint32_t o;

    (void)state;
    assert_true(found(s, "{\"contact\": \"\\\"bob\\\"@example.com\"}", true, &o)); /* JSON */
    assert_true(found(s, "{x,\"C:\\\\Users\\\\ann.lee\"}", true, &o)); /* array literal */
    assert_true(found(s, "path C:\\Users\\ann.lee here", true, &o));   /* raw */
    leakset_free(s);
}

/* The same value written another way (scrubnorm.h), in the source or in the published
 * text: found as the scrub's detectors would find it. */
static void test_folded_forms(void **state)
{
    static const char *const values[] = {"07700 900123", "alice.smith@example.com",
                                         "\xef\xbc\x90\xef\xbc\x97\xef\xbc\x97\xef\xbc\x90"
                                         "\xef\xbc\x90 811 811"};
    static const char *const twice[] = {"07700 811811\t", "07700 811811"};
    struct leakset *s = set_of(values, 3, 2);
    uint32_t o = 0;

    (void)state;
    assert_true(found(s,
                      "call 07700\xc2\xa0"
                      "900123 today",
                      true, &o)); /* no-break space */
    assert_int_equal(o, 2);
    assert_true(found(s, "07700\t900123", false, &o)); /* a tab, whole value */
    assert_true(found(s,
                      "mail alice.smith\xef\xbc\xa0"
                      "example.com now",
                      true, &o)); /* fullwidth @ */
    assert_true(found(s, "mailto:alice.smith%40example.com", true, &o));
    assert_true(found(s, "ring 07700 811 811 later", true, &o)); /* the sample was fullwidth */
    assert_false(found(s,
                       "call 07700\xc2\xa0"
                       "900124 today",
                       true, &o));
    leakset_free(s); /* a tab at an end trims away, folded or not: one sample, not two (two samples
                      * of one value must not make it a category, which is not searched) */
    s = set_of(twice, 2, 3);
    assert_true(found(s, "07700 811811", false, &o));
    leakset_free(s);
}

static void test_categories_are_not_searched(void **state)
{
    struct leakset *s = leakset_new();
    struct anon_error err;
    char v[64];
    uint32_t o;

    (void)state;
    /* 200 distinct e-mails and one value repeated 5 times (2.4%) in origin 1; in origin
     * 2 one value repeated twice (repeats, but only twice: kept) */
    for (int i = 0; i < 200; i++) {
        snprintf(v, sizeof(v), "person%03d@example.com", i);
        assert_true(leakset_add(s, v, strlen(v), LEAKSET_TEXT, 1, &err));
    }
    for (int i = 0; i < 5; i++)
        assert_true(leakset_add(s, "Northwind Energy Ltd", 20, LEAKSET_TEXT, 1, &err));
    for (int i = 0; i < 2; i++)
        assert_true(leakset_add(s, "Oliver Smith", 12, LEAKSET_TEXT, 2, &err));
    assert_true(leakset_build(s, &err));
    assert_int_equal(leakset_count_origin(s, 1), 200);
    assert_int_equal(leakset_count_origin(s, 2), 1);
    assert_false(found(s, "Northwind Energy Ltd", true, &o));
    assert_true(found(s, "Dear Oliver Smith,", true, &o));
    assert_int_equal(o, 2);
    assert_true(found(s, "person123@example.com", false, &o));
    assert_int_equal(o, 1);
    leakset_free(s);
}

/* Many values and random text: every planted value is found, nothing else is. */
static void test_many_values(void **state)
{
    struct leakset *s = leakset_new();
    struct anon_error err;
    char v[64], text[512];
    uint32_t o;

    (void)state;
    for (int i = 0; i < 20000; i++) {
        snprintf(v, sizeof(v), "user%05d.name@mail.example.org", i);
        assert_true(leakset_add(s, v, strlen(v), LEAKSET_TEXT, (uint32_t)(i % 3), &err));
    }
    assert_true(leakset_build(s, &err));
    assert_int_equal(leakset_count(s), 20000);
    srand(42);
    for (int i = 0; i < 2000; i++) {
        int k = rand() % 20000, pad = rand() % 40;
        snprintf(text, sizeof(text), "%.*sreply to User%05d.Name@mail.example.org please", pad,
                 "The quick brown fox jumps over the lazy dog.", k);
        assert_true(found(s, text, true, &o));
        assert_int_equal(o, (uint32_t)(k % 3));
        snprintf(text, sizeof(text), "%.*sreply to user%05d.name@mail.example.net please", pad,
                 "The quick brown fox jumps over the lazy dog.", k);
        assert_false(found(s, text, true, &o));
    }
    leakset_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify_lengths), cmocka_unit_test(test_classify_numbers_and_dates),
        cmocka_unit_test(test_classify_cut),     cmocka_unit_test(test_find_equal_and_inside),
        cmocka_unit_test(test_escaped_forms),    cmocka_unit_test(test_categories_are_not_searched),
        cmocka_unit_test(test_many_values),      cmocka_unit_test(test_folded_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
