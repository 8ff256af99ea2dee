/* codec_array.c: the binary array format (see codec_array.h). */
#include "anonymise/codec_array.h"

#include <stdio.h>

#include "anonymise/pgarray.h"

bool codec_array_parse(const char *bin, size_t len, struct codec_array *a)
{
    int32_t ndim, flags;
    size_t off = 12;
    uint64_t nitems = 1;

    if (len < 12)
        return false;
    ndim = (int32_t)codec_get32(bin);
    flags = (int32_t)codec_get32(bin + 4);
    if (ndim < 0 || ndim > CODEC_ARRAY_MAX_DIM || (flags != 0 && flags != 1) ||
        len - 12 < (size_t)ndim * 8)
        return false;
    a->ndim = ndim;
    a->elem_oid = codec_get32(bin + 8);
    for (int i = 0; i < ndim; i++) {
        a->dims[i] = (int32_t)codec_get32(bin + off);
        a->lbounds[i] = (int32_t)codec_get32(bin + off + 4);
        off += 8;
        if (a->dims[i] < 0 || (int64_t)a->lbounds[i] + a->dims[i] - 1 > INT32_MAX)
            return false;
        nitems *= (uint64_t)a->dims[i];
        if (nitems > (len - off) / 4 + 1) /* every item takes at least 4 bytes */
            return false;
    }
    a->nitems = ndim == 0 ? 0 : (size_t)nitems;
    if (a->nitems > (len - off) / 4)
        return false;
    a->data = bin + off;
    a->len = len - off;
    return true;
}

bool codec_array_next(const struct codec_array *a, size_t *off, const char **elem, size_t *len,
                      bool *is_null, bool *bad)
{
    int32_t n;

    *bad = false;
    if (*off >= a->len)
        return false;
    if (a->len - *off < 4) {
        *bad = true;
        return false;
    }
    n = (int32_t)codec_get32(a->data + *off);
    *off += 4;
    *is_null = n == -1;
    *elem = a->data + *off;
    *len = 0;
    if (n == -1)
        return true;
    if (n < 0 || (size_t)n > a->len - *off) {
        *bad = true;
        return false;
    }
    *len = (size_t)n;
    *off += (size_t)n;
    return true;
}

size_t codec_array_put_header(const struct codec_array *a, uint32_t elem_oid, struct abuf *out)
{
    size_t start = out->len;

    codec_put32(out, (uint32_t)a->ndim);
    codec_put32(out, 0);
    codec_put32(out, elem_oid);
    for (int i = 0; i < a->ndim; i++) {
        codec_put32(out, (uint32_t)a->dims[i]);
        codec_put32(out, (uint32_t)a->lbounds[i]);
    }
    return start;
}

void codec_array_end(struct abuf *out, size_t header, bool has_null)
{
    if (!abuf_failed(out) && out->len >= header + 8)
        out->data[header + 7] = has_null ? 1 : 0;
}

/* Elements of dimension d onwards, as nested braces (array_out). */
static bool put_level(const struct codec_array *a, const struct codec *elem, int d, size_t *off,
                      struct abuf *text, struct abuf *out)
{
    abuf_putc(out, '{');
    for (int32_t i = 0; i < a->dims[d]; i++) {
        if (i > 0)
            abuf_putc(out, ',');
        if (d + 1 < a->ndim) {
            if (!put_level(a, elem, d + 1, off, text, out))
                return false;
        } else {
            const char *e;
            size_t n;
            bool is_null, bad;
            if (!codec_array_next(a, off, &e, &n, &is_null, &bad))
                return false;
            abuf_reset(text);
            if (!is_null && !elem->to_text(e, n, text))
                return false;
            pgarray_encode_elem(text->data ? text->data : "", text->len, is_null, ',', out);
        }
    }
    return abuf_putc(out, '}');
}

bool codec_array_to_text(const struct codec *elem, const char *bin, size_t len, struct abuf *out)
{
    struct codec_array a;
    struct abuf text;
    size_t off = 0;
    bool ok;

    if (!codec_array_parse(bin, len, &a))
        return false;
    if (a.nitems == 0) /* no element: "{}" whatever the dimensions say */
        return a.len == 0 && abuf_puts(out, "{}");
    for (int i = 0; i < a.ndim; i++)
        if (a.lbounds[i] != 1) {
            for (int k = 0; k < a.ndim; k++)
                abuf_printf(out, "[%d:%d]", a.lbounds[k], a.lbounds[k] + a.dims[k] - 1);
            abuf_putc(out, '=');
            break;
        }
    abuf_init(&text, out->max);
    ok = put_level(&a, elem, 0, &off, &text, out) && off == a.len;
    abuf_free(&text);
    return ok && !abuf_failed(out);
}
