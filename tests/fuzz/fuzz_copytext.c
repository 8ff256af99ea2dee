/*
 * fuzz_copytext.c: libFuzzer target for the COPY text codec (etl/copytext.c).
 *
 * The input is one raw COPY row. Properties checked (abort on violation):
 * - split never reads out of bounds (ASan) and either rejects the row or finds >= 1
 *   field, each inside the row;
 * - every field of an accepted row decodes (no lone trailing backslash survives split);
 * - encode(decode(field)) decodes back to the same bytes, and holds no raw tab, "\n" or
 *   "\r" (it cannot break the row framing);
 * - the row rebuilt from the re-encoded fields splits into the same number of fields
 *   with the same NULLs and the same decoded values; so does the row rebuilt from the
 *   raw fields passed through unchanged (what a `keep` column does);
 * - the whole input decoded as one field either fails on a lone trailing backslash or
 *   round-trips through encode the same way.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "etl/copytext.h"

#define MAX_FIELDS 64
#define BUF_MAX (64u * 1024 * 1024)

static struct abuf d1, d2, enc, row2, row3;
static struct copytext_field f1[MAX_FIELDS], f2[MAX_FIELDS];

static void require(bool ok)
{
    if (!ok)
        abort();
}

/* decode(raw) into d1 must succeed; encode it, decode again: same bytes. */
static void check_field_round_trip(const char *raw, size_t len)
{
    abuf_reset(&d1);
    abuf_reset(&enc);
    abuf_reset(&d2);
    require(copytext_decode(raw, len, &d1));
    require(copytext_encode_abuf(&d1, &enc));
    require(enc.len == 0 || (!memchr(enc.data, '\t', enc.len) && !memchr(enc.data, '\n', enc.len) &&
                             !memchr(enc.data, '\r', enc.len)));
    require(copytext_decode(enc.data, enc.len, &d2));
    require(d1.len == d2.len && (d1.len == 0 || memcmp(d1.data, d2.data, d1.len) == 0));
}

/* Split row (rebuilt by the caller) must give the same fields as the original split. */
static void check_same_fields(const struct abuf *row, size_t n)
{
    size_t i;

    require(copytext_split(row->data, row->len, f2, MAX_FIELDS) == n);
    for (i = 0; i < n; i++) {
        require(f2[i].is_null == f1[i].is_null);
        if (f1[i].is_null)
            continue;
        abuf_reset(&d1);
        abuf_reset(&d2);
        require(copytext_decode(f1[i].raw, f1[i].len, &d1));
        require(copytext_decode(f2[i].raw, f2[i].len, &d2));
        require(d1.len == d2.len && (d1.len == 0 || memcmp(d1.data, d2.data, d1.len) == 0));
    }
}

static void check_row(const char *data, size_t size)
{
    size_t n, i;

    n = copytext_split(data, size, f1, MAX_FIELDS);
    if (n == COPYTEXT_BAD_ROW)
        return;
    require(n >= 1 && n <= size + 1);
    if (n > MAX_FIELDS)
        return;
    abuf_reset(&row2);
    abuf_reset(&row3);
    for (i = 0; i < n; i++) {
        require(f1[i].raw >= data && f1[i].raw + f1[i].len <= data + size);
        if (i) {
            require(abuf_putc(&row2, '\t'));
            require(abuf_putc(&row3, '\t'));
        }
        require(abuf_append(&row3, f1[i].raw, f1[i].len));
        if (f1[i].is_null) {
            require(copytext_encode_null(&row2));
            continue;
        }
        check_field_round_trip(f1[i].raw, f1[i].len);
        require(copytext_encode_abuf(&d1, &row2));
    }
    require(abuf_putc(&row2, '\n'));
    require(abuf_putc(&row3, '\n'));
    check_same_fields(&row2, n);
    check_same_fields(&row3, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    const char *s = (const char *)data;

    if (!ready) {
        abuf_init(&d1, BUF_MAX);
        abuf_init(&d2, BUF_MAX);
        abuf_init(&enc, BUF_MAX);
        abuf_init(&row2, BUF_MAX);
        abuf_init(&row3, BUF_MAX);
        ready = true;
    }
    check_row(s, size);

    /* The whole input as one field. */
    abuf_reset(&d1);
    if (!copytext_decode(s, size, &d1)) {
        require(size > 0 && s[size - 1] == '\\');
        return 0;
    }
    check_field_round_trip(s, size);
    return 0;
}
