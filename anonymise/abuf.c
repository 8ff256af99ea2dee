/* abuf.c: bounded growable buffer (see abuf.h). */
#include "anonymise/abuf.h"

#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void abuf_init(struct abuf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
    b->failed = false;
    b->secret = false;
}

void abuf_free(struct abuf *b)
{
    bool secret = b->secret;

    free(b->data);
    abuf_init(b, b->max);
    b->secret = secret;
}

void abuf_free_secret(struct abuf *b)
{
    if (b->data)
        OPENSSL_cleanse(b->data, b->cap);
    abuf_free(b);
}

/* realloc for a secret: a new block, the content copied, the old block wiped. */
static char *grow_secret(char *old, size_t old_cap, size_t len, size_t cap)
{
    char *p = malloc(cap);

    if (!p)
        return NULL;
    if (old) {
        memcpy(p, old, len);
        OPENSSL_cleanse(old, old_cap);
        free(old);
    }
    return p;
}

bool abuf_grow(struct abuf *b, size_t extra)
{
    size_t need, cap;
    char *p;

    if (b->failed)
        return false;
    /* +1 keeps room for the NUL that abuf_cstr adds. */
    if (extra > b->max || b->len > b->max - extra) {
        b->failed = true;
        return false;
    }
    need = b->len + extra + 1;
    if (need <= b->cap)
        return true;
    cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    if (cap > b->max + 1)
        cap = b->max + 1;
    p = b->secret ? grow_secret(b->data, b->cap, b->len, cap) : realloc(b->data, cap);
    if (!p) {
        b->failed = true;
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

bool abuf_printf(struct abuf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !abuf_grow(b, (size_t)n + 1)) {
        b->failed = true;
        return false;
    }
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return true;
}

const char *abuf_cstr(struct abuf *b)
{
    if (b->cap - b->len < 1 && !abuf_grow(b, 1))
        return "";
    if (!b->data)
        return "";
    b->data[b->len] = '\0';
    return b->data;
}
