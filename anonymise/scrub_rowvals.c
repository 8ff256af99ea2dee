/*
 * scrub_rowvals.c: a row's own values found in its free text (see scrub_rowvals.h).
 *
 * Per value: the text is folded once (textfold.h), each needle (a row value or one of
 * its words, folded the same way) is looked for with memmem, matches on word boundaries
 * become spans of the source text, and the spans, sorted and merged, are replaced. The
 * folding is a copy of the text: a value with no row value to look for costs nothing.
 */
#include "anonymise/scrub_rowvals.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anonymise/textfold.h"
#include "anonymise/utf8.h"

#define ROWVALS_MAX_SPANS 256
/* Words of 2 letters count: surnames such as Li, Wu, Xu, Ng, Oh, Le, Do are the name
 * ("Mr Li called" kept "Li" when 3 were needed); a name word that is also a common word
 * ("He", "Do") is removed wherever it stands as a word, as scrubbing errs towards removing. */
#define ROWVALS_MIN_LETTERS 2
/* An e-mail's local part is looked for alone from 3 characters ("al" of al@x.org is
 * not a login anyone quotes; "bob" is). */
#define LOCAL_MIN_LETTERS 3

struct scrub_rowvals {
    struct rule_column_ref refs[SCRUB_ROWVALS_MAX];
    char *markers[SCRUB_ROWVALS_MAX]; /* "[FULL_NAME]" */
    size_t n;
};

struct span {
    size_t start, end; /* source offsets */
    const char *marker;
};

void scrub_rowvals_free(struct scrub_rowvals *rv)
{
    if (!rv)
        return;
    for (size_t i = 0; i < rv->n; i++) {
        free(rv->refs[i].name);
        free(rv->markers[i]);
    }
    free(rv);
}

static char *marker_of(const char *name)
{
    size_t n = strlen(name);
    char *m = malloc(n + 3);

    if (!m)
        return NULL;
    m[0] = '[';
    for (size_t i = 0; i < n; i++)
        m[i + 1] = name[i] >= 'a' && name[i] <= 'z' ? (char)(name[i] - 32) : name[i];
    m[n + 1] = ']';
    m[n + 2] = '\0';
    return m;
}

bool scrub_rowvals_parse(const struct yopts *seq, struct scrub_rowvals **out,
                         struct anon_error *err)
{
    size_t n = yopts_count(seq);
    struct scrub_rowvals *rv;

    *out = NULL;
    if (yopts_kind(seq) != YOPTS_SEQUENCE || n == 0 || n > SCRUB_ROWVALS_MAX) {
        yopts_error(seq, NULL, err, "expected a list of 1 to %d column names of this table",
                    SCRUB_ROWVALS_MAX);
        return false;
    }
    rv = calloc(1, sizeof(*rv));
    if (!rv) {
        yopts_error(seq, NULL, err, "out of memory");
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        struct yopts *it = yopts_item(seq, i);
        const char *name = it ? yopts_scalar(it) : NULL;
        if (!name || !*name) {
            if (it)
                yopts_error(it, NULL, err, "expected a column name");
            yopts_free(it);
            scrub_rowvals_free(rv);
            return false;
        }
        rv->refs[i].key = "scrub.row_values";
        rv->refs[i].name = strdup(name);
        rv->markers[i] = marker_of(name);
        yopts_pos(it, &rv->refs[i].line, &rv->refs[i].column);
        yopts_free(it);
        rv->n++;
        if (!rv->refs[i].name || !rv->markers[i]) {
            scrub_rowvals_free(rv);
            yopts_error(seq, NULL, err, "out of memory");
            return false;
        }
    }
    *out = rv;
    return true;
}

const struct rule_column_ref *scrub_rowvals_refs(const struct scrub_rowvals *rv, size_t *n)
{
    *n = rv ? rv->n : 0;
    return rv ? rv->refs : NULL;
}

void scrub_rowvals_describe(const struct scrub_rowvals *rv, struct abuf *out)
{
    abuf_puts(out, " row_values=[");
    for (size_t i = 0; i < rv->n; i++)
        abuf_printf(out, "%s%s", i ? "," : "", rv->refs[i].name);
    abuf_putc(out, ']');
}

/* The next occurrence of needle in hay[from..len) (memchr on its first byte, which is
 * vectorised, then memcmp: faster than glibc's memmem on short needles), or NULL. */
static const char *next_match(const char *hay, size_t len, size_t from, const char *needle,
                              size_t nlen)
{
    const char *p = hay + from, *end = hay + len;

    while ((size_t)(end - p) >= nlen && (p = memchr(p, needle[0], (size_t)(end - p) - nlen + 1))) {
        if (memcmp(p + 1, needle + 1, nlen - 1) == 0)
            return p;
        p++;
    }
    return NULL;
}

/* Every occurrence of needle in the folded text, on word boundaries, as source spans. */
static void find_needle(const struct textfold *t, const char *needle, size_t nlen,
                        const char *marker, struct span *spans, size_t *n)
{
    const char *hay = t->text, *p = hay;

    while (*n < ROWVALS_MAX_SPANS &&
           (p = next_match(hay, t->len, (size_t)(p - hay), needle, nlen))) {
        size_t at = (size_t)(p - hay), end = at + nlen;
        bool before = at > 0 && textfold_word_byte((unsigned char)hay[at - 1]) &&
                      textfold_word_byte((unsigned char)needle[0]);
        bool after = end < t->len && textfold_word_byte((unsigned char)hay[end]) &&
                     textfold_word_byte((unsigned char)needle[nlen - 1]);
        if (!before && !after)
            spans[(*n)++] = (struct span){textfold_source(t, at), textfold_source(t, end), marker};
        p++;
    }
}

/* A value that names someone (no '@', no digit) is also looked for word by word. */
static bool name_like(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] == '@' || (s[i] >= '0' && s[i] <= '9'))
            return false;
    return true;
}

/* Characters of a folded stretch (bytes when it was all ASCII). */
static size_t letters(const struct textfold *f, const char *s, size_t len)
{
    return f->identity ? len : utf8_count(s, len);
}

/* The local part of an e-mail address v[i..len) (one '@', a dot after it): its length,
 * else 0. The part before the '@' is a login, a handle, often the person's name
 * ("alice.smith", "jsmith84"): a message quotes it alone ("user alice.smith on Teams"). */
static size_t local_part(const char *v, size_t i, size_t len)
{
    const char *at = memchr(v + i, '@', len - i);

    if (!at || memchr(at + 1, '@', len - (size_t)(at + 1 - v)) ||
        !memchr(at + 1, '.', len - (size_t)(at + 1 - v)))
        return 0;
    return (size_t)(at - (v + i));
}

/* The needles of one row value (folded into f) looked for in the folded text t. */
static void find_value(const struct textfold *t, const struct textfold *f, bool words,
                       const char *marker, struct span *spans, size_t *n)
{
    const char *v = f->text;
    size_t len = f->len, i = 0, local;

    while (len > 0 && v[len - 1] == ' ')
        len--;
    while (i < len && v[i] == ' ')
        i++;
    if (letters(f, v + i, len - i) >= ROWVALS_MIN_LETTERS)
        find_needle(t, v + i, len - i, marker, spans, n);
    if ((local = local_part(v, i, len)) > 0 && letters(f, v + i, local) >= LOCAL_MIN_LETTERS)
        find_needle(t, v + i, local, marker, spans, n);
    if (!words)
        return;
    while (i < len) {
        size_t w = i;
        while (w < len && textfold_word_byte((unsigned char)v[w]))
            w++;
        if (w > i && letters(f, v + i, w - i) >= ROWVALS_MIN_LETTERS)
            find_needle(t, v + i, w - i, marker, spans, n);
        i = w;
        while (i < len && !textfold_word_byte((unsigned char)v[i]))
            i++;
    }
}

static int by_start(const void *a, const void *b)
{
    const struct span *x = a, *y = b;

    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return x->end > y->end ? -1 : x->end < y->end; /* longest first */
}

/* The spans sorted, overlaps merged, written over the source text. */
static void write_spans(const char *text, size_t len, struct span *spans, size_t n,
                        struct abuf *out)
{
    size_t copied = 0, i = 0;

    qsort(spans, n, sizeof(*spans), by_start);
    while (i < n) {
        size_t start = spans[i].start, end = spans[i].end;
        const char *marker = spans[i].marker;
        for (i++; i < n && spans[i].start < end; i++)
            if (spans[i].end > end)
                end = spans[i].end;
        if (start < copied)
            continue;
        abuf_append(out, text + copied, start - copied);
        abuf_puts(out, marker);
        copied = end;
    }
    abuf_append(out, text + copied, len - copied);
}

bool scrub_rowvals_apply(const struct scrub_rowvals *rv, const struct rule_ctx *ctx,
                         const char *text, size_t len, struct abuf *out, struct anon_error *err)
{
    struct span spans[ROWVALS_MAX_SPANS];
    char tbuf[1024], fbuf[256];
    size_t tsrc[sizeof(tbuf)], fsrc[sizeof(fbuf)];
    struct textfold t, f;
    size_t n = 0;
    bool ok = true, folded = false;

    if (!ctx->column) {
        anon_error_set(err, "scrub: row_values without a row");
        return false;
    }
    textfold_init_buffers(&t, tbuf, tsrc, sizeof(tbuf));
    textfold_init_buffers(&f, fbuf, fsrc, sizeof(fbuf));
    for (size_t i = 0; ok && i < rv->n; i++) {
        const struct rule_value *v = ctx->column(ctx->row, rv->refs[i].name);
        if (!v) {
            anon_error_set(err, "scrub: column \"%s\" (row_values) is not in the row",
                           rv->refs[i].name);
            ok = false;
        } else if (!v->is_null && v->len > 0) {
            if (!folded && !(folded = textfold_set(&t, text, len)))
                ok = false;
            else if (!textfold_set(&f, v->data, v->len))
                ok = false;
            else
                find_value(&t, &f, name_like(v->data, v->len), rv->markers[i], spans, &n);
            if (!ok)
                anon_error_set(err, "scrub: out of memory");
        }
    }
    if (ok)
        write_spans(text, len, spans, n, out);
    textfold_free(&t);
    textfold_free(&f);
    return ok;
}
