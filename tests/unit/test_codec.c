/*
 * test_codec.c: the binary codecs (anonymise/codec*.c) against the server's own
 * answers in tests/unit/vectors/codecs/server.vec (generate.sh asks a PostgreSQL 15
 * cluster for the send() bytes and text output of ~6,000 values: integers, floats with
 * powers of two and signed zeros, numerics with many digits and every scale, dates and
 * timestamps over the whole range with BC and infinities, times, zones, intervals with
 * months and days, jsonb with big numbers and unicode escapes, arrays with NULLs,
 * several dimensions and lower bounds). For an "out" line: to_text gives the text and
 * from_text gives the bytes back; for date/time types to_time/from_time round-trip and
 * pgtime_format prints the same text. For an "in" line (an input the server accepts
 * other than its output form): from_text builds the server's bytes. Plus the malformed
 * inputs every codec must refuse without reading past its input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anonymise/codec.h"
#include "anonymise/codec_array.h"
#include "anonymise/pgtime.h"
#include "etl/copytext.h"

#define VECTORS "tests/unit/vectors/codecs/server.vec"

static int hexval(char c)
{
    return c <= '9' ? c - '0' : c - 'a' + 10;
}

static void unhex(const char *hex, size_t n, struct abuf *out)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        abuf_putc(out, (char)(hexval(hex[i]) << 4 | hexval(hex[i + 1])));
}

static void fail_line(size_t line, const char *what, const struct abuf *got)
{
    print_error("%s:%zu: %s (got \"%.*s\")\n", VECTORS, line, what, (int)(got ? got->len : 0),
                got && got->data ? got->data : "");
    fail();
}

/* An array's elements re-encoded one by one give the same bytes (what bincol does). */
static void check_array_recode(const struct codec *elem, const struct abuf *bin, size_t line)
{
    struct codec_array a;
    struct abuf out, text;
    const char *e;
    size_t off = 0, n, header;
    bool is_null, bad, has_null = false;

    assert_true(codec_array_parse(bin->data, bin->len, &a));
    abuf_init(&out, 1 << 20);
    abuf_init(&text, 1 << 20);
    header = codec_array_put_header(&a, elem->oid, &out);
    while (codec_array_next(&a, &off, &e, &n, &is_null, &bad)) {
        has_null = has_null || is_null;
        if (is_null) {
            codec_put32(&out, 0xFFFFFFFFu);
            continue;
        }
        abuf_reset(&text);
        assert_true(elem->to_text(e, n, &text));
        codec_put32(&out, 0);
        n = out.len;
        assert_true(elem->from_text(text.data ? text.data : "", text.len, &out));
        out.data[n - 4] = (char)((out.len - n) >> 24);
        out.data[n - 3] = (char)((out.len - n) >> 16);
        out.data[n - 2] = (char)((out.len - n) >> 8);
        out.data[n - 1] = (char)(out.len - n);
    }
    assert_false(bad);
    codec_array_end(&out, header, has_null);
    if (out.len != bin->len || memcmp(out.data, bin->data, bin->len) != 0)
        fail_line(line, "array re-encoded element by element differs", NULL);
    abuf_free(&out);
    abuf_free(&text);
}

static void check_time(const struct codec *c, const struct abuf *bin, const char *text, size_t tlen,
                       size_t line)
{
    struct pgtime t;
    struct abuf out;

    if (!c->to_time)
        return;
    abuf_init(&out, 1 << 16);
    assert_true(c->to_time(bin->data, bin->len, &t));
    assert_true(c->from_time(&t, &out));
    if (out.len != bin->len || memcmp(out.data, bin->data, bin->len) != 0)
        fail_line(line, "from_time(to_time(bytes)) differs", NULL);
    abuf_reset(&out);
    assert_true(pgtime_format(&t, &out));
    if (out.len != tlen || memcmp(out.data, text, tlen) != 0)
        fail_line(line, "pgtime_format differs from the server's text", &out);
    abuf_free(&out);
}

static void check_line(const char *kind, const char *type, const struct abuf *bin, const char *text,
                       size_t tlen, size_t line)
{
    bool array;
    const struct codec *c = codec_find(type, &array);
    struct abuf out;

    if (!c)
        fail_line(line, "no codec for the type", NULL);
    abuf_init(&out, 1 << 20);
    if (strcmp(kind, "in") == 0) {
        if (!c->from_text(text, tlen, &out) || out.len != bin->len ||
            memcmp(out.data, bin->data, bin->len) != 0)
            fail_line(line, "from_text of an input does not give the server's bytes", NULL);
    } else if (array) {
        if (!codec_array_to_text(c, bin->data, bin->len, &out) || out.len != tlen ||
            memcmp(out.data, text, tlen) != 0)
            fail_line(line, "array to_text differs from the server's text", &out);
        check_array_recode(c, bin, line);
    } else {
        if (!c->to_text(bin->data, bin->len, &out) || out.len != tlen ||
            memcmp(out.data, text, tlen) != 0)
            fail_line(line, "to_text differs from the server's text", &out);
        abuf_reset(&out);
        if (!c->from_text(text, tlen, &out) || out.len != bin->len ||
            memcmp(out.data, bin->data, bin->len) != 0)
            fail_line(line, "from_text does not give the server's bytes back", NULL);
        check_time(c, bin, text, tlen, line);
    }
    abuf_free(&out);
}

static void test_server_vectors(void **state)
{
    FILE *f = fopen(VECTORS, "r");
    char *buf = NULL;
    size_t cap = 0, line = 0, checked = 0;
    ssize_t n;
    struct copytext_field fields[4];
    struct abuf kind, type, hex, bin, text;
    struct anon_error err;

    (void)state;
    assert_non_null(f);
    abuf_init(&kind, 64);
    abuf_init(&type, 256);
    abuf_init(&hex, 1 << 20);
    abuf_init(&bin, 1 << 20);
    abuf_init(&text, 1 << 20);
    while ((n = getline(&buf, &cap, f)) > 0) {
        line++;
        if (buf[0] == '#')
            continue;
        assert_true(copytext_split_exact(buf, (size_t)n, fields, 4, &err));
        abuf_reset(&kind);
        abuf_reset(&type);
        abuf_reset(&hex);
        abuf_reset(&bin);
        abuf_reset(&text);
        assert_true(copytext_decode(fields[0].raw, fields[0].len, &kind));
        assert_true(copytext_decode(fields[1].raw, fields[1].len, &type));
        assert_true(copytext_decode(fields[2].raw, fields[2].len, &hex));
        assert_true(copytext_decode(fields[3].raw, fields[3].len, &text));
        unhex(hex.data ? hex.data : "", hex.len, &bin);
        check_line(abuf_cstr(&kind), abuf_cstr(&type), &bin, abuf_cstr(&text), text.len, line);
        checked++;
    }
    assert_true(checked > 5000);
    free(buf);
    fclose(f);
    abuf_free(&kind);
    abuf_free(&type);
    abuf_free(&hex);
    abuf_free(&bin);
    abuf_free(&text);
}

/* Every codec refuses truncated or oversized binary input, and reads nothing past it. */
static void test_malformed_binary(void **state)
{
    const struct codec *const *all = codec_all();
    char bytes[64];
    struct abuf out;

    (void)state;
    memset(bytes, 0x7f, sizeof(bytes));
    abuf_init(&out, 1 << 16);
    for (size_t i = 0; all[i]; i++) {
        if (all[i]->text_like)
            continue;
        for (size_t len = 0; len <= 40; len++) {
            /* a heap copy of exactly len bytes: ASan sees any read past it */
            char *p = malloc(len ? len : 1);
            memcpy(p, bytes, len);
            abuf_reset(&out);
            (void)all[i]->to_text(p, len, &out);
            free(p);
        }
    }
    /* the fixed-size types refuse any other size */
    assert_false(codec_int4.to_text("\0\0\0", 3, &out));
    assert_false(codec_float8.to_text("\0\0\0\0", 4, &out));
    assert_false(codec_date.to_text("\0\0\0\0\0", 5, &out));
    assert_false(codec_uuid.to_text("0123456789abcde", 15, &out));
    assert_false(codec_jsonb.to_text("\2{}", 3, &out)); /* unknown jsonb version */
    /* numeric: digit >= 10000, a bad sign, a length that disagrees with ndigits */
    assert_false(codec_numeric.to_text("\0\1\0\0\0\0\0\0\x27\x10", 10, &out));
    assert_false(codec_numeric.to_text("\0\0\0\0\x12\x34\0\0", 8, &out));
    assert_false(codec_numeric.to_text("\0\2\0\0\0\0\0\0\0\1", 10, &out));
    abuf_free(&out);
}

/* Text the server would reject is refused (the engine then fails like the target). */
static void test_rejected_text(void **state)
{
    static const struct {
        const struct codec *c;
        const char *text;
    } bad[] = {
        {&codec_int2, "32768"},
        {&codec_int4, "2147483648"},
        {&codec_int8, "12a"},
        {&codec_int8, ""},
        {&codec_int4, "- 1"},
        {&codec_numeric, "1e1001"},
        {&codec_numeric, "."},
        {&codec_numeric, "1.2.3"},
        {&codec_numeric, "e5"},
        {&codec_float8, "1e400"},
        {&codec_float8, "abc"},
        {&codec_float4, "1e39"},
        {&codec_bool, "maybe"},
        {&codec_bool, "o"},
        {&codec_uuid, "0123"},
        {&codec_bytea, "\\xabc"},
        {&codec_bytea, "\\9"},
        {&codec_date, "2023-02-29"},
        {&codec_date, "17/05/2023"},
        {&codec_timestamp, "294277-01-01 00:00:00"},
        {&codec_time, "24:00:01"},
        {&codec_interval, "1 fortnight"},
        {&codec_interval, "1 day 1 year"},
    };
    struct abuf out;

    (void)state;
    abuf_init(&out, 1 << 16);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        abuf_reset(&out);
        if (bad[i].c->from_text(bad[i].text, strlen(bad[i].text), &out)) {
            print_error("%s accepted \"%s\"\n", bad[i].c->name, bad[i].text);
            fail();
        }
    }
    abuf_free(&out);
}

/* Type names as format_type() prints them, with typmods and arrays. */
static void test_find(void **state)
{
    bool array;

    (void)state;
    assert_ptr_equal(codec_find("numeric(12,2)", &array), &codec_numeric);
    assert_false(array);
    assert_ptr_equal(codec_find("timestamp(3) with time zone", &array), &codec_timestamptz);
    assert_ptr_equal(codec_find("time(0) without time zone[]", &array), &codec_time);
    assert_true(array);
    assert_ptr_equal(codec_find("character varying(20)[]", &array), &codec_varchar);
    assert_ptr_equal(codec_find("interval day to second(3)", &array), &codec_interval);
    assert_ptr_equal(codec_find("interval", &array), &codec_interval);
    assert_null(codec_find("point", &array));
    assert_null(codec_find("intervalx", &array));
    assert_null(codec_find("integer[][]", &array));
    assert_ptr_equal(codec_by_oid(1184), &codec_timestamptz);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_server_vectors),
        cmocka_unit_test(test_malformed_binary),
        cmocka_unit_test(test_rejected_text),
        cmocka_unit_test(test_find),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
