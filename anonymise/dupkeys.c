/* dupkeys.c: first earlier occurrence of each name of a list (see dupkeys.h). */
#include "anonymise/dupkeys.h"

#include <stdlib.h>
#include <string.h>

struct entry {
    const char *a;
    const char *b;
    size_t index;
};

/* By name, then by position: the first of a run of equal names is the earliest. */
static int entry_cmp(const void *x, const void *y)
{
    const struct entry *p = x, *q = y;
    int c = strcmp(p->a, q->a);

    if (c == 0)
        c = strcmp(p->b ? p->b : "", q->b ? q->b : "");
    if (c == 0)
        c = p->index < q->index ? -1 : p->index > q->index;
    return c;
}

static bool same_name(const struct entry *p, const struct entry *q)
{
    return strcmp(p->a, q->a) == 0 && strcmp(p->b ? p->b : "", q->b ? q->b : "") == 0;
}

bool dupkeys_first(const struct dupkeys_item *items, size_t n, size_t *first)
{
    struct entry *e;
    size_t m = 0;

    for (size_t i = 0; i < n; i++)
        first[i] = DUPKEYS_NONE;
    if (n < 2)
        return true;
    if (!(e = calloc(n, sizeof(*e))))
        return false;
    for (size_t i = 0; i < n; i++)
        if (items[i].a)
            e[m++] = (struct entry){items[i].a, items[i].b, i};
    qsort(e, m, sizeof(*e), entry_cmp);
    for (size_t g = 0, k = 1; k < m; k++) {
        if (same_name(&e[g], &e[k]))
            first[e[k].index] = e[g].index;
        else
            g = k;
    }
    free(e);
    return true;
}
