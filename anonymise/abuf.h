/*
 * abuf.h: a growable byte buffer with a declared maximum and a sticky failure bit
 * (after curl's dynbuf). Writers that emit many pieces append without checking and
 * test abuf_failed() once; a buffer that would pass its maximum or cannot grow fails,
 * and stays failed until abuf_reset().
 */
#ifndef ABUF_H
#define ABUF_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "anonymise/anon_error.h"

struct abuf {
    char *data; /* NUL-terminated when len < cap (abuf_cstr guarantees it) */
    size_t len;
    size_t cap;
    size_t max; /* hard limit on len */
    bool failed;
    /* Holds a secret: growing moves it to new memory and wipes the old block (no copy is
     * left behind by realloc); free it with abuf_free_secret. */
    bool secret;
};

void abuf_init(struct abuf *b, size_t max);
void abuf_free(struct abuf *b);
/* Forget the content (and the failure), keep the memory. */
static inline void abuf_reset(struct abuf *b)
{
    b->len = 0;
    b->failed = false;
}
/* Slow path of abuf_append: grow, or set the failure bit. */
bool abuf_grow(struct abuf *b, size_t extra);
static inline bool abuf_append(struct abuf *b, const void *p, size_t n)
{
    if (b->cap - b->len <= n && !abuf_grow(b, n))
        return false;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return true;
}
static inline bool abuf_putc(struct abuf *b, char c)
{
    if (b->cap - b->len <= 1 && !abuf_grow(b, 1))
        return false;
    b->data[b->len++] = c;
    return true;
}
static inline bool abuf_puts(struct abuf *b, const char *s)
{
    return abuf_append(b, s, strlen(s));
}
bool abuf_printf(struct abuf *b, const char *fmt, ...) ANON_PRINTF(2, 3);
/* The content as a C string (adds a NUL after len; "" for an empty buffer). */
const char *abuf_cstr(struct abuf *b);
/* Wipe the content with OPENSSL_cleanse (for secrets), then free. */
void abuf_free_secret(struct abuf *b);
static inline bool abuf_failed(const struct abuf *b)
{
    return b->failed;
}

#endif
