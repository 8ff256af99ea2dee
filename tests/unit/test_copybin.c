/* test_copybin.c: the COPY binary format reader and writer (etl/copybin.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "anonymise/codec.h"
#include "etl/copybin.h"

/* Build: header + one row (text "ab", NULL, int8 -5) + trailer, with the writers. */
static void build_stream(struct abuf *b)
{
    char int8[8] = {(char)0xff, (char)0xff, (char)0xff, (char)0xff,
                    (char)0xff, (char)0xff, (char)0xff, (char)0xfb};

    copybin_put_header(b);
    copybin_put_row_start(b, 3);
    copybin_put_field(b, "ab", 2);
    copybin_put_null(b);
    copybin_put_field(b, int8, 8);
}

static void test_round_trip(void **state)
{
    struct abuf b;
    struct copybin_field f[3];
    struct anon_error err;
    struct abuf text;
    size_t off;

    (void)state;
    abuf_init(&b, 1 << 16);
    abuf_init(&text, 64);
    build_stream(&b);
    assert_true(copybin_skip_header(b.data, b.len, &off, &err));
    assert_int_equal(off, COPYBIN_HEADER_LEN);
    assert_int_equal(copybin_parse_row(b.data, b.len, off, f, 3, &err), COPYBIN_ROW);
    assert_int_equal(f[0].len, 2);
    assert_memory_equal(f[0].data, "ab", 2);
    assert_true(f[1].is_null);
    assert_true(codec_int8.to_text(f[2].data, f[2].len, &text));
    assert_string_equal(abuf_cstr(&text), "-5");
    /* a row count mismatch and truncation are errors, never reads past the end */
    assert_int_equal(copybin_parse_row(b.data, b.len, off, f, 2, &err), COPYBIN_BAD);
    for (size_t cut = off; cut < b.len; cut++)
        assert_int_equal(copybin_parse_row(b.data, cut, off, f, 3, &err), COPYBIN_BAD);
    abuf_reset(&b);
    copybin_put_trailer(&b);
    assert_int_equal(copybin_parse_row(b.data, b.len, 0, f, 3, &err), COPYBIN_END);
    abuf_free(&b);
    abuf_free(&text);
}

static void test_plain_row_has_no_header(void **state)
{
    struct abuf b;
    struct anon_error err;
    size_t off = 99;

    (void)state;
    abuf_init(&b, 1 << 16);
    copybin_put_row_start(&b, 1);
    copybin_put_field(&b, "x", 1);
    assert_true(copybin_skip_header(b.data, b.len, &off, &err));
    assert_int_equal(off, 0);
    abuf_free(&b);
}

static void test_bad_header(void **state)
{
    static const char oids[] = "PGCOPY\n\377\r\n\0\0\1\0\0\0\0\0\0";
    static const char short_ext[] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\x10";
    struct anon_error err;
    size_t off;

    (void)state;
    assert_false(copybin_skip_header(oids, sizeof(oids) - 1, &off, &err));
    assert_false(copybin_skip_header(short_ext, sizeof(short_ext) - 1, &off, &err));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_plain_row_has_no_header),
        cmocka_unit_test(test_bad_header),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
