/*
 * fuzz_leakset.c: libFuzzer target for the leak audit's value set (anonymise/leakset.c),
 * which takes source values and published text as they come. Input: two values, one per
 * line, then the text to search. Checks: no crash, leak or overflow; a value that is
 * searched is found as a whole published value, and one searched inside text is found in
 * a text that holds it at any position.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "anonymise/leakset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *next_line(const char *p, const char *end, size_t *len)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));

    *len = (size_t)((nl ? nl : end) - p);
    return nl ? nl + 1 : end;
}

/* v must be found: equal to itself and, when searched inside text, inside "<pad>v<pad>". */
static void must_find(const struct leakset *s, const char *v, size_t len, enum leakset_class cls,
                      size_t pad)
{
    size_t start, n;
    enum leakset_use use = leakset_classify(v, len, cls, &start, &n);
    uint32_t origin;
    char *text;

    if (use == LEAKSET_SKIP)
        return;
    if (!leakset_find(s, v + start, n, false, &origin))
        abort();
    if (use != LEAKSET_CONTAIN)
        return;
    text = malloc(n + 2 * pad + 1);
    if (!text)
        return;
    memset(text, '#', pad);
    memcpy(text + pad, v + start, n);
    memset(text + pad + n, '#', pad);
    if (!leakset_find(s, text, n + 2 * pad, true, &origin))
        abort();
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size, *a, *b;
    size_t la, lb;
    enum leakset_class cls = size > 0 && (data[0] & 1) ? LEAKSET_INTEGER : LEAKSET_TEXT;
    struct leakset *s = leakset_new();
    struct anon_error err;
    uint32_t origin;

    if (!s)
        return 0;
    a = p;
    p = next_line(p, end, &la);
    b = p;
    p = next_line(p, end, &lb);
    if (leakset_add(s, a, la, cls, 0, &err) && leakset_add(s, b, lb, LEAKSET_TEXT, 1, &err) &&
        leakset_build(s, &err)) {
        must_find(s, a, la, cls, size % 7);
        must_find(s, b, lb, LEAKSET_TEXT, size % 11);
        (void)leakset_find(s, p, (size_t)(end - p), true, &origin);
        (void)leakset_find(s, p, (size_t)(end - p), false, &origin);
    }
    leakset_free(s);
    return 0;
}
