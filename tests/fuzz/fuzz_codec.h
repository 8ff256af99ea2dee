/*
 * fuzz_codec.h: the checks every codec fuzz target runs (fuzz_codec_<family>.c). The
 * first input byte picks a codec of the family and a direction; the rest is the value:
 *
 *   binary: to_text on arbitrary bytes (never reads past them); when it gives a text
 *           the codec accepts back, the text is stable: to_text(from_text(t)) == t
 *   text:   from_text on arbitrary text; what it builds prints (to_text) and reads back
 *           to the same text
 *   time:   to_time / from_time on arbitrary bytes; what comes back decodes the same
 *   array:  the codec as the element of a binary array (codec_array_to_text)
 *
 * A violated property is a crash (__builtin_trap), so libFuzzer keeps the input.
 */
#ifndef FUZZ_CODEC_H
#define FUZZ_CODEC_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "anonymise/codec.h"
#include "anonymise/codec_array.h"
#include "anonymise/pgtime.h"

static inline bool fuzz_same(const struct abuf *a, const struct abuf *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

/* t1 is a text the codec printed: reading it back and printing again gives t1. */
static inline void fuzz_text_stable(const struct codec *c, struct abuf *t1, struct abuf *b,
                                    struct abuf *t2, bool must_read)
{
    abuf_reset(b);
    abuf_reset(t2);
    if (!c->from_text(t1->data ? t1->data : "", t1->len, b)) {
        if (must_read)
            __builtin_trap();
        return;
    }
    if (!c->to_text(b->data ? b->data : "", b->len, t2) || !fuzz_same(t1, t2))
        __builtin_trap();
}

static inline void fuzz_codec(const struct codec *c, int mode, const char *data, size_t size)
{
    struct abuf t1, b, t2;
    struct pgtime t, u;
    /* a heap copy of exactly size bytes: ASan sees any read past the end */
    char *p = malloc(size ? size : 1);

    memcpy(p, data, size);
    abuf_init(&t1, 1 << 24);
    abuf_init(&b, 1 << 24);
    abuf_init(&t2, 1 << 24);
    switch (mode) {
    case 0: /* binary */
        if (c->to_text(p, size, &t1))
            fuzz_text_stable(c, &t1, &b, &t2, false);
        break;
    case 1: /* text */
        if (c->from_text(p, size, &b)) {
            if (!c->to_text(b.data ? b.data : "", b.len, &t1))
                __builtin_trap();
            fuzz_text_stable(c, &t1, &b, &t2, true);
        }
        break;
    case 2: /* the direct date/time form */
        if (c->to_time && c->to_time(p, size, &t) && c->from_time(&t, &b)) {
            if (!c->to_time(b.data, b.len, &u) || memcmp(&t, &u, sizeof(t)) != 0)
                __builtin_trap();
        }
        break;
    default: /* as an array element */
        (void)codec_array_to_text(c, p, size, &t1);
        break;
    }
    abuf_free(&t1);
    abuf_free(&b);
    abuf_free(&t2);
    free(p);
}

/* The entry point of a family: codecs[] NULL-terminated. */
static inline int fuzz_codec_family(const struct codec *const *codecs, const uint8_t *data,
                                    size_t size)
{
    size_t n = 0;

    if (size < 1)
        return 0;
    while (codecs[n])
        n++;
    fuzz_codec(codecs[(data[0] >> 2) % n], data[0] & 3, (const char *)data + 1, size - 1);
    return 0;
}

#endif
