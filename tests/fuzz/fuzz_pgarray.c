/*
 * fuzz_pgarray.c: libFuzzer target for the PostgreSQL array literal reader/writer
 * (anonymise/pgarray.c). Checks: no crash, leak or overflow; the output of an identity
 * map is canonical: mapping it again gives the same text and the same elements.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "anonymise/abuf.h"
#include "anonymise/pgarray.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
    struct abuf all; /* every element, length-prefixed, with its NULL flag */
};

static bool identity(void *arg, const struct rule_value *e, struct abuf *out, bool *out_null,
                     struct anon_error *err)
{
    struct seen *s = arg;

    (void)err;
    abuf_append(&s->all, &e->len, sizeof(e->len));
    abuf_putc(&s->all, e->is_null ? 'N' : 'V');
    abuf_append(&s->all, e->data, e->len);
    *out_null = e->is_null;
    return abuf_append(out, e->data, e->len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct seen a, b;
    struct abuf out, again;
    struct anon_error err;
    char delim = size > 0 && data[0] == ';' ? ';' : ',';

    abuf_init(&a.all, 1 << 22);
    abuf_init(&b.all, 1 << 22);
    abuf_init(&out, 1 << 22);
    abuf_init(&again, 1 << 22);
    if (pgarray_map((const char *)data, size, delim, identity, &a, &out, &err) == PGARRAY_OK) {
        if (pgarray_map(out.data, out.len, delim, identity, &b, &again, &err) != PGARRAY_OK)
            abort();
        if (again.len != out.len || memcmp(again.data, out.data, out.len) != 0)
            abort();
        if (a.all.len != b.all.len || (a.all.len && memcmp(a.all.data, b.all.data, a.all.len)))
            abort();
    }
    abuf_free(&a.all);
    abuf_free(&b.all);
    abuf_free(&out);
    abuf_free(&again);
    return 0;
}
