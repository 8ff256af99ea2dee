/*
 * test_copytext.c: the COPY text codec (etl/copytext.c): split, decode, encode, their
 * round trips, malformed input, and a seeded property test (random bytes survive
 * encode -> split -> decode exactly).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "etl/copytext.h"

#define BUF_MAX (16u * 1024 * 1024)

/* Decode raw (a C string) and compare with want[0..want_len). */
static void expect_decode(const char *raw, const char *want, size_t want_len)
{
    struct abuf b;

    abuf_init(&b, BUF_MAX);
    assert_true(copytext_decode(raw, strlen(raw), &b));
    assert_int_equal(b.len, want_len);
    if (want_len)
        assert_memory_equal(b.data, want, want_len);
    abuf_free(&b);
}

static void expect_encode(const char *val, size_t len, const char *want)
{
    struct abuf b;

    abuf_init(&b, BUF_MAX);
    assert_true(copytext_encode(val, len, &b));
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.data, want, b.len);
    abuf_free(&b);
}

/* encode(val) -> split as a one-field row -> decode == val. */
static void expect_round_trip(const char *val, size_t len)
{
    struct abuf enc, dec;
    struct copytext_field f[2];

    abuf_init(&enc, BUF_MAX);
    abuf_init(&dec, BUF_MAX);
    assert_true(copytext_encode(val, len, &enc));
    assert_true(abuf_putc(&enc, '\n'));
    assert_int_equal(copytext_split(enc.data, enc.len, f, 2), 1);
    assert_false(f[0].is_null);
    assert_true(copytext_decode(f[0].raw, f[0].len, &dec));
    assert_int_equal(dec.len, len);
    if (len)
        assert_memory_equal(dec.data, val, len);
    abuf_free(&enc);
    abuf_free(&dec);
}

static void test_decode_simple_escapes(void **state)
{
    (void)state;
    expect_decode("plain text", "plain text", 10);
    expect_decode("", "", 0);
    expect_decode("a\\tb", "a\tb", 3);
    expect_decode("a\\nb\\rc", "a\nb\rc", 5);
    expect_decode("\\b\\f\\v", "\b\f\v", 3);
    expect_decode("back\\\\slash", "back\\slash", 10);
    expect_decode("\\\\N", "\\N", 2);
    expect_decode("\\.", ".", 1);
    expect_decode("\\q\\Z\\ ", "qZ ", 3);
    expect_decode("\\\t", "\t", 1);
}

static void test_decode_octal_hex(void **state)
{
    (void)state;
    expect_decode("\\101\\x42", "AB", 2);
    expect_decode("\\1", "\001", 1);
    expect_decode("\\12x", "\nx", 2);
    expect_decode("\\1011", "A1", 2);  /* at most 3 octal digits */
    expect_decode("\\777", "\377", 1); /* low 8 bits, as PostgreSQL */
    expect_decode("\\18", "\0018", 2); /* 8 is not octal */
    expect_decode("\\x4", "\004", 1);
    expect_decode("\\x4g", "\004g", 2);
    expect_decode("\\x414", "A4", 2); /* at most 2 hex digits */
    expect_decode("\\xfF", "\377", 1);
    expect_decode("\\xg", "xg", 2); /* \x without a hex digit is x */
    expect_decode("\\x", "x", 1);   /* truncated at the end */
    expect_decode("ab\\0cd", "ab\0cd", 5);
    expect_decode("\\000", "\0", 1);
}

static void test_decode_malformed(void **state)
{
    struct abuf b;

    (void)state;
    abuf_init(&b, BUF_MAX);
    assert_false(copytext_decode("abc\\", 4, &b)); /* lone trailing backslash */
    abuf_reset(&b);
    assert_false(copytext_decode("\\", 1, &b));
    abuf_reset(&b);
    assert_false(copytext_decode("\\\\\\", 3, &b));
    abuf_reset(&b);
    /* Length is honoured: the byte after the field is never read. */
    assert_true(copytext_decode("ab\\x41", 4, &b));
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.data, "abx", 3);
    abuf_reset(&b);
    assert_true(copytext_decode("\\1234", 3, &b));
    assert_int_equal(b.len, 1);
    assert_int_equal((unsigned char)b.data[0], 012);
    abuf_free(&b);
}

static void test_decode_buffer_limit(void **state)
{
    struct abuf b;

    (void)state;
    abuf_init(&b, 4);
    assert_false(copytext_decode("abcdefgh", 8, &b));
    assert_true(abuf_failed(&b));
    /* A failed buffer stays failed: later calls fail too. */
    assert_false(copytext_decode("a", 1, &b));
    assert_false(copytext_encode("a", 1, &b));
    abuf_reset(&b);
    assert_true(copytext_decode("a\\\\b", 4, &b));
    assert_int_equal(b.len, 3);
    abuf_free(&b);

    abuf_init(&b, 3);
    assert_false(copytext_encode("a\tb", 3, &b)); /* needs 4 bytes */
    abuf_free(&b);
}

static void test_encode(void **state)
{
    (void)state;
    expect_encode("plain", 5, "plain");
    expect_encode("", 0, "");
    expect_encode(NULL, 0, "\\N");
    expect_encode("\\N", 2, "\\\\N");
    expect_encode("a\tb\nc\rd\\e", 9, "a\\tb\\nc\\rd\\\\e");
    expect_encode("\b\f\v", 3, "\\b\\f\\v");
    /* Other control bytes are written as they are, like PostgreSQL does. */
    expect_encode("\001\033\037", 3, "\001\033\037");
    expect_round_trip("\0", 1);
    /* Specials in every position of an 8-byte word and across words. */
    expect_encode("0123456\\89abcdef\t", 17, "0123456\\\\89abcdef\\t");
    expect_encode("\\0123456789abcde", 16, "\\\\0123456789abcde");
    expect_encode("01234567\n", 9, "01234567\\n");
    expect_encode("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14,
                  "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
}

/* An abuf that never held a byte has data == NULL: encode_abuf must write "", not \N. */
static void test_encode_empty_abuf(void **state)
{
    struct abuf val, out;

    (void)state;
    abuf_init(&val, 16);
    abuf_init(&out, 16);
    assert_null(val.data);
    assert_true(copytext_encode_abuf(&val, &out));
    assert_int_equal(out.len, 0);
    assert_true(copytext_encode_null(&out));
    assert_true(abuf_append(&val, "a\\n", 3)); /* a, backslash, n */
    assert_true(copytext_encode_abuf(&val, &out));
    assert_int_equal(out.len, 6);
    assert_memory_equal(out.data, "\\Na\\\\n", 6);
    abuf_free(&val);
    abuf_free(&out);
}

static void test_round_trips(void **state)
{
    static const char *vals[] = {
        "",
        "plain",
        "tab\there",
        "new\nline",
        "carriage\rreturn\r\n",
        "back\\slash\\",
        "\\N",
        "\\",
        "\\\\\\",
        "N",
        "\\.",
        ".",
        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe4\xb8\xad\xe6\x96\x87",
        "\b\f\v\001\177\377",
        "a long value without anything special in it at all, longer than a word",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof vals / sizeof vals[0]; i++)
        expect_round_trip(vals[i], strlen(vals[i]));
    expect_round_trip("nul\0inside", 10);
}

static void test_null_vs_literal(void **state)
{
    struct copytext_field f[4];
    const char *row = "\\N\t\\\\N\t\tN\n";
    struct abuf b;

    (void)state;
    assert_int_equal(copytext_split(row, strlen(row), f, 4), 4);
    assert_true(f[0].is_null);
    assert_false(f[1].is_null);
    assert_false(f[2].is_null);
    assert_int_equal(f[2].len, 0); /* empty string, not NULL */
    assert_false(f[3].is_null);

    abuf_init(&b, BUF_MAX);
    assert_true(copytext_decode(f[1].raw, f[1].len, &b));
    assert_int_equal(b.len, 2);
    assert_memory_equal(b.data, "\\N", 2);
    abuf_free(&b);

    /* "\N" inside a longer field is not NULL. */
    assert_int_equal(copytext_split("\\Nx\tx\\N", 7, f, 4), 2);
    assert_false(f[0].is_null);
    assert_false(f[1].is_null);
}

static void test_split_many_fields(void **state)
{
    struct copytext_field f[100];
    char row[2000];
    size_t len = 0, i;
    int n;

    (void)state;
    for (i = 0; i < 100; i++) {
        n = snprintf(row + len, sizeof row - len, "%s%zu%s", i ? "\t" : "", i,
                     i % 7 == 0 ? "\\t\\\\" : "");
        assert_true(n > 0);
        len += (size_t)n;
    }
    row[len++] = '\n';
    assert_int_equal(copytext_split(row, len, f, 100), 100);
    for (i = 0; i < 100; i++) {
        char want[32];

        n = snprintf(want, sizeof want, "%zu%s", i, i % 7 == 0 ? "\\t\\\\" : "");
        assert_int_equal(f[i].len, (size_t)n);
        assert_memory_equal(f[i].raw, want, (size_t)n);
        assert_true(f[i].raw >= row && f[i].raw + f[i].len <= row + len);
    }
    /* Fewer slots than fields: the count is still right, only max_fields stored. */
    memset(f, 0, sizeof f);
    assert_int_equal(copytext_split(row, len, f, 10), 100);
    assert_null(f[10].raw);
    assert_int_equal(copytext_split(row, len, NULL, 0), 100);
}

static void test_split_row_end(void **state)
{
    struct copytext_field f[4];

    (void)state;
    assert_int_equal(copytext_split("a\tb\n", 4, f, 4), 2);
    assert_int_equal(f[1].len, 1);
    assert_int_equal(copytext_split("a\tb", 3, f, 4), 2); /* no "\n": tolerated */
    assert_int_equal(f[1].len, 1);
    assert_int_equal(copytext_split("a\t\n", 3, f, 4), 2); /* empty last field */
    assert_int_equal(f[1].len, 0);
    assert_int_equal(copytext_split("\n", 1, f, 4), 1);
    assert_int_equal(f[0].len, 0);
    assert_int_equal(copytext_split("", 0, f, 4), 1);
    assert_int_equal(copytext_split(NULL, 0, f, 4), 1);
    assert_int_equal(f[0].len, 0);
    assert_int_equal(copytext_split("\t\t\n", 3, f, 4), 3);
    /* An escaped backslash before the row end. */
    assert_int_equal(copytext_split("a\\\\\n", 4, f, 4), 1);
    assert_int_equal(f[0].len, 3);
    /* A backslash-newline at the end is data (escaped), not the row end. */
    assert_int_equal(copytext_split("a\\\n", 3, f, 4), 1);
    assert_int_equal(f[0].len, 3);
}

static void test_split_escaped_tab(void **state)
{
    struct copytext_field f[4];
    struct abuf b;

    (void)state;
    /* Backslash + raw tab is a data tab (as PostgreSQL reads it), not a separator. */
    assert_int_equal(copytext_split("a\\\tb\tc\n", 7, f, 4), 2);
    assert_int_equal(f[0].len, 4);
    abuf_init(&b, BUF_MAX);
    assert_true(copytext_decode(f[0].raw, f[0].len, &b));
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.data, "a\tb", 3);
    abuf_free(&b);
    /* An escaped backslash then a real tab. */
    assert_int_equal(copytext_split("a\\\\\tb", 5, f, 4), 2);
    assert_int_equal(f[0].len, 3);
    /* Three backslashes: escaped backslash, then an escaped tab. */
    assert_int_equal(copytext_split("a\\\\\\\tb", 6, f, 4), 1);
    /* Several escapes in a row of fields. */
    assert_int_equal(copytext_split("\\t\\n\t\\\\\t\\\t\\\t\t\\N", 15, f, 4), 4);
    assert_int_equal(f[2].len, 4);
    assert_true(f[3].is_null);
}

static void test_split_malformed(void **state)
{
    struct copytext_field f[4];
    struct anon_error err;

    (void)state;
    assert_int_equal(copytext_split("a\\", 2, f, 4), COPYTEXT_BAD_ROW);
    assert_int_equal(copytext_split("a\\\n", 3, f, 4) == COPYTEXT_BAD_ROW, 0);
    assert_int_equal(copytext_split("a\\\\\\", 4, f, 4), COPYTEXT_BAD_ROW);
    assert_int_equal(copytext_split("\\", 1, f, 4), COPYTEXT_BAD_ROW);
    assert_int_equal(copytext_split("a\nb\n", 4, f, 4), COPYTEXT_BAD_ROW);
    assert_int_equal(copytext_split("a\rb", 3, f, 4), COPYTEXT_BAD_ROW);
    assert_int_equal(copytext_split("a\r\n", 3, f, 4), COPYTEXT_BAD_ROW);
    assert_int_equal(copytext_split("a\n\n", 3, f, 4), COPYTEXT_BAD_ROW);
    /* Escaped CR and LF are data. */
    assert_int_equal(copytext_split("a\\\rb\\\nc\n", 8, f, 4), 1);

    anon_error_clear(&err);
    assert_false(copytext_split_exact("a\tb\n", 4, f, 3, &err));
    assert_non_null(strstr(err.msg, "2 fields, expected 3"));
    assert_null(strstr(err.msg, "a\tb"));
    anon_error_clear(&err);
    assert_false(copytext_split_exact("a\tb\tc\td\n", 8, f, 3, &err));
    assert_non_null(strstr(err.msg, "4 fields, expected 3"));
    anon_error_clear(&err);
    assert_false(copytext_split_exact("secret\rvalue\n", 13, f, 3, &err));
    assert_non_null(strstr(err.msg, "malformed"));
    assert_null(strstr(err.msg, "secret"));
    assert_true(copytext_split_exact("a\tb\tc\n", 6, f, 3, &err));
    assert_int_equal(f[2].len, 1);
    /* A zero-column table sends empty rows. */
    assert_true(copytext_split_exact("\n", 1, NULL, 0, &err));
    assert_true(copytext_split_exact("", 0, NULL, 0, &err));
    assert_false(copytext_split_exact("x\n", 2, NULL, 0, &err));
}

/* The codec must not read one byte past what it is given: run it on exact-size heap
 * copies so ASan catches any overread. */
static void test_no_overread(void **state)
{
    static const char *inputs[] = {"\\",   "\\x", "\\x4", "\\1", "\\12", "a\\",
                                   "\\\\", "\t",  "\\\t", "\n",  "\\N",  "\\0"};
    struct copytext_field f[4];
    struct abuf b;
    size_t i, n;

    (void)state;
    abuf_init(&b, BUF_MAX);
    for (i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        size_t len = strlen(inputs[i]);
        char *copy = malloc(len);

        assert_non_null(copy);
        memcpy(copy, inputs[i], len);
        n = copytext_split(copy, len, f, 4);
        (void)n;
        abuf_reset(&b);
        if (!copytext_decode(copy, len, &b))
            assert_int_equal(copy[len - 1], '\\'); /* the only reason to fail */
        abuf_reset(&b);
        assert_true(copytext_encode(copy, len, &b));
        free(copy);
    }
    abuf_free(&b);
}

/* xorshift64*: a fixed seed, so a failure reproduces. */
static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * UINT64_C(2685821657736338717);
}

/* Random values, biased towards the bytes that matter, as a row of several fields:
 * encode each, join with tabs, split, decode each, compare. */
static void test_property_round_trip(void **state)
{
    static const char interesting[] = "\\\t\n\r\b\f\v\0Nx01.";
    uint64_t seed = UINT64_C(0x5eed00c0ffee1234);
    struct abuf row, dec;
    struct copytext_field f[8];
    char vals[8][300];
    size_t lens[8];
    bool nulls[8];
    int iter;

    (void)state;
    abuf_init(&row, BUF_MAX);
    abuf_init(&dec, BUF_MAX);
    for (iter = 0; iter < 5000; iter++) {
        size_t nf = 1 + rng_next(&seed) % 8, i, j;

        abuf_reset(&row);
        for (i = 0; i < nf; i++) {
            lens[i] = rng_next(&seed) % (iter % 10 == 0 ? 300 : 24);
            nulls[i] = rng_next(&seed) % 10 == 0;
            for (j = 0; j < lens[i]; j++) {
                uint64_t r = rng_next(&seed);

                vals[i][j] = (r & 3) == 0 ? interesting[(r >> 8) % (sizeof interesting - 1)]
                                          : (char)(r >> 16);
            }
            if (i)
                assert_true(abuf_putc(&row, '\t'));
            assert_true(copytext_encode(nulls[i] ? NULL : vals[i], lens[i], &row));
        }
        if (iter % 2)
            assert_true(abuf_putc(&row, '\n'));
        assert_int_equal(copytext_split(row.data, row.len, f, 8), nf);
        for (i = 0; i < nf; i++) {
            assert_int_equal(f[i].is_null, nulls[i]);
            if (nulls[i])
                continue;
            abuf_reset(&dec);
            assert_true(copytext_decode(f[i].raw, f[i].len, &dec));
            assert_int_equal(dec.len, lens[i]);
            if (lens[i])
                assert_memory_equal(dec.data, vals[i], lens[i]);
        }
    }
    abuf_free(&row);
    abuf_free(&dec);
}

/* Arbitrary bytes as a raw row: split and decode never fail in a wrong way, and a
 * decoded field re-encodes to something that decodes to the same bytes. */
static void test_property_arbitrary_input(void **state)
{
    static const char alphabet[] = "\\\t\n\rNx0179afG.";
    uint64_t seed = 42;
    struct abuf d1, enc, d2;
    struct copytext_field f[16];
    char raw[64];
    int iter;

    (void)state;
    abuf_init(&d1, BUF_MAX);
    abuf_init(&enc, BUF_MAX);
    abuf_init(&d2, BUF_MAX);
    for (iter = 0; iter < 20000; iter++) {
        size_t len = rng_next(&seed) % sizeof raw, i, n;

        for (i = 0; i < len; i++)
            raw[i] = alphabet[rng_next(&seed) % (sizeof alphabet - 1)];
        n = copytext_split(raw, len, f, 16);
        if (n == COPYTEXT_BAD_ROW)
            continue;
        assert_true(n >= 1 && n <= len + 1);
        for (i = 0; i < n && i < 16; i++) {
            abuf_reset(&d1);
            abuf_reset(&enc);
            abuf_reset(&d2);
            /* A split row never leaves a lone backslash at the end of a field. */
            assert_true(copytext_decode(f[i].raw, f[i].len, &d1));
            assert_true(copytext_encode_abuf(&d1, &enc));
            assert_true(copytext_decode(enc.data, enc.len, &d2));
            assert_int_equal(d1.len, d2.len);
            if (d1.len)
                assert_memory_equal(d1.data, d2.data, d1.len);
        }
    }
    abuf_free(&d1);
    abuf_free(&enc);
    abuf_free(&d2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_simple_escapes),
        cmocka_unit_test(test_decode_octal_hex),
        cmocka_unit_test(test_decode_malformed),
        cmocka_unit_test(test_decode_buffer_limit),
        cmocka_unit_test(test_encode),
        cmocka_unit_test(test_encode_empty_abuf),
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_null_vs_literal),
        cmocka_unit_test(test_split_many_fields),
        cmocka_unit_test(test_split_row_end),
        cmocka_unit_test(test_split_escaped_tab),
        cmocka_unit_test(test_split_malformed),
        cmocka_unit_test(test_no_overread),
        cmocka_unit_test(test_property_round_trip),
        cmocka_unit_test(test_property_arbitrary_input),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
