/* test_pgerror.c: redaction of server messages (etl/pgerror). No value a server quotes
 * may survive; the names the error's own fields report may. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "etl/pgerror.h"

static const char *redact(const char *msg, const char *const *known, size_t n)
{
    static char out[256];

    pgerror_redact(msg, known, n, out, sizeof(out));
    return out;
}

static void test_values_are_cut(void **state)
{
    (void)state;
    assert_string_equal(redact("invalid input syntax for type integer: \"open\"", NULL, 0),
                        "invalid input syntax for type integer: \"\xe2\x80\xa6\"");
    /* A quote inside the value cannot end the redaction early. */
    assert_string_equal(redact("invalid input value for enum mood: \"a\" b \"c\"", NULL, 0),
                        "invalid input value for enum mood: \"\xe2\x80\xa6\"");
    assert_string_equal(redact("syntax error at or near 'x'", NULL, 0),
                        "syntax error at or near '\xe2\x80\xa6'");
}

static void test_known_names_survive(void **state)
{
    const char *known[] = {"public", "people", "email", "people_email_key"};

    (void)state;
    assert_string_equal(
        redact("duplicate key value violates unique constraint \"people_email_key\"", known, 4),
        "duplicate key value violates unique constraint \"people_email_key\"");
    assert_string_equal(
        redact("null value in column \"email\" of relation \"people\" violates not-null "
               "constraint",
               known, 4),
        "null value in column \"email\" of relation \"people\" violates not-null constraint");
    /* A known name is only one when the quote closes right after it. */
    assert_string_equal(redact("bad: \"people and more\"", known, 4), "bad: \"\xe2\x80\xa6\"");
    /* A value that equals a name and then goes on is cut. */
    assert_string_equal(redact("value \"email\" x \"secret\"", known, 4),
                        "value \"email\" x \"\xe2\x80\xa6\"");
}

static void test_one_line_valid_utf8(void **state)
{
    (void)state;
    assert_string_equal(redact("first line\nDETAIL:  Key (id)=(5) already exists.", NULL, 0),
                        "first line");
    assert_string_equal(redact("tab\there \x01", NULL, 0), "tab here  ");
    assert_string_equal(redact("caf\xc3\xa9 \xe9\x20", NULL, 0), "caf\xc3\xa9 ? ");
    assert_string_equal(redact(NULL, NULL, 0), "");
}

static void test_bounded(void **state)
{
    char small[8];
    char msg[600];

    (void)state;
    pgerror_redact("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", NULL, 0, small, sizeof(small));
    assert_string_equal(small, "\xc3\xa9\xc3\xa9\xc3\xa9"); /* never half a character */
    pgerror_redact("abcdefghijkl", NULL, 0, small, sizeof(small));
    assert_string_equal(small, "abcdefg");
    pgerror_redact("x \"secret\"", NULL, 0, small, sizeof(small));
    assert_string_equal(small, "x \"\xe2\x80\xa6\"");
    pgerror_redact("xyz \"secret\"", NULL, 0, small, sizeof(small));
    assert_string_equal(small, "xyz "); /* the cut mark does not fit: nothing after it */
    memset(msg, 'a', sizeof(msg) - 1);
    msg[sizeof(msg) - 1] = '\0';
    pgerror_redact(msg, NULL, 0, small, 1);
    assert_string_equal(small, "");
}

static const char *masked(const char *msg)
{
    static char out[256];

    snprintf(out, sizeof(out), "%s", msg);
    pgerror_mask_unquoted(out);
    return out;
}

/* Data exceptions PostgreSQL prints with the value unquoted (make_date, chr, encoding
 * conversion, setseed): no digit of it survives, the message up to its colon does. */
static void test_unquoted_values_are_masked(void **state)
{
    (void)state;
    assert_string_equal(masked("date field value out of range: 1987-13-05"),
                        "date field value out of range\xe2\x80\xa6");
    assert_string_equal(masked("time field value out of range: 25:61:07"),
                        "time field value out of range\xe2\x80\xa6");
    assert_string_equal(masked("requested character too large for encoding: 1114112"),
                        "requested character too large for encoding\xe2\x80\xa6");
    assert_string_equal(masked("character with byte sequence 0xe2 0x82 0xac in encoding "
                               "\"\xe2\x80\xa6\""),
                        "character with byte sequence # # # in encoding \"\xe2\x80\xa6\"");
    assert_string_equal(masked("setseed parameter 4.25 is out of allowed range [-1,1]"),
                        "setseed parameter # is out of allowed range [#,#]");
    assert_string_equal(masked("value too long for type character varying(5)"),
                        "value too long for type character varying(#)");
    assert_string_equal(masked("integer out of range"), "integer out of range");
    assert_string_equal(masked("cut: "), "cut");
    assert_string_equal(masked(""), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_are_cut),
        cmocka_unit_test(test_known_names_survive),
        cmocka_unit_test(test_one_line_valid_utf8),
        cmocka_unit_test(test_bounded),
        cmocka_unit_test(test_unquoted_values_are_masked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
