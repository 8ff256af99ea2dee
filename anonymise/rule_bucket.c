/*
 * rule_bucket.c: numbers to buckets.
 *
 *   bucket: { width: 500 }                       -> lower bound: 1234.5 -> 1000, -1 -> -500
 *   bucket: { edges: [0, 18, 65] }               -> the greatest edge <= value: 30 -> 18
 *   bucket: { edges: [0, 18, 65], labels: [child, adult, senior] } -> text: 30 -> adult
 *
 *   bucket: { width: 10000, min: 0, max: 100000 }  -> text, with top and bottom coding:
 *       values >= max become "100000+", values < min become "<0", the others the lower
 *       bound of their bucket, never below min ("0", "10000", ... "90000")
 *
 * Arithmetic is exact decimal (decimal.h), never double: big numerics bucket exactly.
 * Buckets are [edge_i, edge_i+1); the last one is open-ended. A value below the first
 * edge, NaN, Infinity or text that is not a number becomes NULL; with min/max, Infinity
 * is "max+" and -Infinity "<min" (when that bound is set). min and max go with width
 * (with edges, the first edge is the bottom and the last bucket is open already).
 *
 * Output type: labels, min or max -> text. Otherwise integer sources keep their type
 * when every possible result is an integer (integer width / edges), else numeric;
 * numeric(p,s) becomes plain numeric (a lower bound can need one more digit than p
 * allows: -999.99 by 1000 is -1000); real and double precision keep their type. An
 * integer column keeps its range: a lower bound below the type's minimum (-2147483648
 * by 500 would be -2147484000; an edge below it) is published as the minimum itself,
 * so the lowest bucket starts there.
 */
#include "anonymise/rules_extra.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anonymise/decimal.h"
#include "anonymise/sqltype.h"

#define BUCKET_MAX_EDGES 1000

struct bucket_state {
    bool has_width;
    struct decimal_step width;
    char *width_text;
    size_t n_edges;
    char **edge_text;      /* owned copies: edges[i] points into them */
    struct decimal *edges; /* strictly increasing */
    char **labels;         /* NULL or n_edges strings */
    bool edges_integer;
    bool has_min, has_max;
    char *min_text, *max_text; /* owned: min/max point into them */
    struct decimal min, max;
};

static void bucket_free(void *state)
{
    struct bucket_state *s = state;

    if (!s)
        return;
    for (size_t i = 0; i < s->n_edges; i++) {
        free(s->edge_text ? s->edge_text[i] : NULL);
        free(s->labels ? s->labels[i] : NULL);
    }
    free(s->edge_text);
    free(s->edges);
    free(s->labels);
    free(s->width_text);
    free(s->min_text);
    free(s->max_text);
    free(s);
}

static bool parse_width(const struct yopts *opts, struct bucket_state *s, struct anon_error *err)
{
    const char *w = NULL;

    if (!yopts_get_string(opts, "width", &w, &s->has_width, err))
        return false;
    if (!s->has_width)
        return true;
    if (!decimal_step_parse(w, &s->width)) {
        yopts_error(opts, "width", err,
                    "must be a positive number (at most 17 significant digits)");
        return false;
    }
    s->width_text = strdup(w);
    return s->width_text != NULL;
}

/* Sequence of scalars into strdup'ed copies. */
static bool scalar_list(const struct yopts *seq, char **dst, size_t n, struct anon_error *err)
{
    for (size_t i = 0; i < n; i++) {
        struct yopts *it = yopts_item(seq, i);
        const char *t = it ? yopts_scalar(it) : NULL;
        if (!t) {
            if (it)
                yopts_error(it, NULL, err, "expected a scalar");
            yopts_free(it);
            return false;
        }
        dst[i] = strdup(t);
        yopts_free(it);
        if (!dst[i])
            return false;
    }
    return true;
}

static bool parse_edges(const struct yopts *seq, struct bucket_state *s, struct anon_error *err)
{
    size_t n = yopts_count(seq);

    if (yopts_kind(seq) != YOPTS_SEQUENCE || n == 0 || n > BUCKET_MAX_EDGES) {
        yopts_error(seq, NULL, err, "expected a list of 1 to %d numbers", BUCKET_MAX_EDGES);
        return false;
    }
    s->edge_text = calloc(n, sizeof(char *));
    s->edges = calloc(n, sizeof(struct decimal));
    if (!s->edge_text || !s->edges)
        return false;
    s->n_edges = n;
    if (!scalar_list(seq, s->edge_text, n, err))
        return false;
    s->edges_integer = true;
    for (size_t i = 0; i < n; i++) {
        const char *t = s->edge_text[i];
        if (decimal_parse(t, strlen(t), &s->edges[i]) != DECIMAL_OK) {
            yopts_error(seq, NULL, err, "edge %zu is not a number", i + 1);
            return false;
        }
        if (i > 0 && decimal_cmp(&s->edges[i - 1], &s->edges[i]) >= 0) {
            yopts_error(seq, NULL, err, "edges must be strictly increasing (edge %zu)", i + 1);
            return false;
        }
        s->edges_integer = s->edges_integer && decimal_is_integer(&s->edges[i]);
    }
    return true;
}

static bool parse_labels(const struct yopts *seq, struct bucket_state *s, struct anon_error *err)
{
    if (yopts_kind(seq) != YOPTS_SEQUENCE || yopts_count(seq) != s->n_edges) {
        yopts_error(seq, NULL, err, "expected a list of %zu labels, one per edge", s->n_edges);
        return false;
    }
    s->labels = calloc(s->n_edges, sizeof(char *));
    return s->labels && scalar_list(seq, s->labels, s->n_edges, err);
}

/* min / max: a number, kept as text (the labels are made from it). */
static bool parse_bound(const struct yopts *opts, const char *key, bool *has, char **text,
                        struct decimal *d, struct anon_error *err)
{
    const char *t = NULL;

    if (!yopts_get_string(opts, key, &t, has, err))
        return false;
    if (!*has)
        return true;
    if (decimal_parse(t, strlen(t), d) != DECIMAL_OK) {
        yopts_error(opts, key, err, "must be a number");
        return false;
    }
    *text = strdup(t);
    return *text && decimal_parse(*text, strlen(*text), d) == DECIMAL_OK;
}

static bool parse_bounds(const struct yopts *opts, struct bucket_state *s, struct anon_error *err)
{
    if (!parse_bound(opts, "min", &s->has_min, &s->min_text, &s->min, err) ||
        !parse_bound(opts, "max", &s->has_max, &s->max_text, &s->max, err))
        return false;
    if ((s->has_min || s->has_max) && !s->has_width) {
        yopts_error(opts, s->has_min ? "min" : "max", err,
                    "only goes with width (with edges, the first edge is the bottom and the "
                    "last bucket is open)");
        return false;
    }
    if (s->has_min && s->has_max && decimal_cmp(&s->min, &s->max) >= 0) {
        yopts_error(opts, "max", err, "must be greater than min");
        return false;
    }
    return true;
}

static bool bucket_parse_into(const struct yopts *opts, struct bucket_state *s,
                              struct anon_error *err)
{
    static const char *const keys[] = {"width", "edges", "labels", "min", "max", NULL};
    struct yopts *edges = NULL, *labels = NULL;
    bool has_edges = false, has_labels = false, ok = false;

    if (!yopts_only_keys(opts, keys, err) || !parse_width(opts, s, err) ||
        !yopts_get_sub(opts, "edges", &edges, &has_edges, err) ||
        !yopts_get_sub(opts, "labels", &labels, &has_labels, err))
        goto out;
    if (s->has_width == has_edges) {
        yopts_error(opts, NULL, err, "needs exactly one of width or edges");
        goto out;
    }
    if (has_labels && !has_edges) {
        yopts_error(opts, "labels", err, "only goes with edges");
        goto out;
    }
    if (has_edges && !parse_edges(edges, s, err))
        goto out;
    if (has_labels && !parse_labels(labels, s, err))
        goto out;
    if (!parse_bounds(opts, s, err))
        goto out;
    ok = true;
out:
    yopts_free(labels);
    yopts_free(edges);
    return ok;
}

static bool bucket_parse(const struct yopts *opts, void **state, struct anon_error *err)
{
    struct bucket_state *s = calloc(1, sizeof(*s));
    int before = err->count;

    if (!s) {
        yopts_error(opts, NULL, err, "out of memory");
        return false;
    }
    if (!bucket_parse_into(opts, s, err)) {
        if (err->count == before)
            yopts_error(opts, NULL, err, "out of memory");
        bucket_free(s);
        return false;
    }
    *state = s;
    return true;
}

static void bucket_describe(const void *state, struct abuf *out)
{
    const struct bucket_state *s = state;

    if (s->has_width) {
        abuf_printf(out, "width=%s", s->width_text);
        if (s->has_min) {
            abuf_puts(out, " min=");
            decimal_format(&s->min, out);
        }
        if (s->has_max) {
            abuf_puts(out, " max=");
            decimal_format(&s->max, out);
        }
        return;
    }
    abuf_puts(out, "edges=[");
    for (size_t i = 0; i < s->n_edges; i++) {
        if (i)
            abuf_putc(out, ',');
        decimal_format(&s->edges[i], out);
    }
    abuf_putc(out, ']');
    if (s->labels) {
        abuf_puts(out, " labels=[");
        for (size_t i = 0; i < s->n_edges; i++)
            abuf_printf(out, "%s\"%s\"", i ? "," : "", s->labels[i]);
        abuf_putc(out, ']');
    }
}

static void bucket_output(const void *state, const char *source_type, struct rule_output *out)
{
    const struct bucket_state *s = state;
    bool integral = s->has_width ? decimal_step_keeps_integers(&s->width) : s->edges_integer;
    const char *t = "numeric";

    if (s->labels || s->has_min || s->has_max)
        t = "text";
    else if (sqltype_is_integer(source_type) && integral)
        t = source_type;
    else if (sqltype_is_float(source_type))
        t = source_type;
    snprintf(out->type, sizeof(out->type), "%s", t);
    out->may_be_null = !(s->has_width && sqltype_is_integer(source_type));
    if (source_type && !sqltype_is_integer(source_type) && !sqltype_is_numeric(source_type) &&
        !sqltype_is_float(source_type))
        snprintf(out->problem, sizeof(out->problem),
                 "bucket needs a number column (integer, numeric, real, double precision), "
                 "not %s",
                 source_type);
}

/* Index of the greatest edge <= v, or -1. */
static long find_edge(const struct bucket_state *s, const struct decimal *v)
{
    size_t lo = 0, hi = s->n_edges; /* answer in [lo-1, hi-1] */

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (decimal_cmp(&s->edges[mid], v) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (long)lo - 1;
}

/* width with min/max: "<min", "max+", or the lower bound but not below min. */
static void coded(const struct bucket_state *s, const struct decimal *v, struct abuf *out)
{
    if (s->has_max && decimal_cmp(v, &s->max) >= 0) {
        decimal_format(&s->max, out);
        abuf_putc(out, '+');
    } else if (s->has_min && decimal_cmp(v, &s->min) < 0) {
        abuf_putc(out, '<');
        decimal_format(&s->min, out);
    } else {
        size_t start = out->len;
        struct decimal lower;
        decimal_quantize(v, &s->width, DECIMAL_FLOOR, out);
        if (s->has_min && !abuf_failed(out) &&
            decimal_parse(out->data + start, out->len - start, &lower) == DECIMAL_OK &&
            decimal_cmp(&lower, &s->min) < 0) {
            out->len = start;
            decimal_format(&s->min, out);
        }
    }
}

/* Infinity and -Infinity under min/max: "max+" / "<min"; false: NULL. */
static bool coded_infinity(const struct bucket_state *s, const struct rule_value *in,
                           struct abuf *out)
{
    bool neg = in->len > 0 && in->data[0] == '-';

    if (in->len == 0 || in->data[in->len - 1] != 'y') /* NaN */
        return false;
    if (!neg && s->has_max) {
        decimal_format(&s->max, out);
        return abuf_putc(out, '+');
    }
    if (neg && s->has_min) {
        abuf_putc(out, '<');
        return decimal_format(&s->min, out);
    }
    return false;
}

static bool bucket_apply(const void *state, const struct rule_ctx *ctx, const struct rule_value *in,
                         struct abuf *out, bool *out_null, struct anon_error *err)
{
    static const struct decimal_step unit = {1, 0};
    const struct bucket_state *s = state;
    int bits = s->labels || s->has_min || s->has_max ? 0 : sqltype_int_bits(ctx->type);
    size_t start = out->len;
    struct decimal v;
    long i;

    *out_null = true;
    if (in->is_null)
        return true;
    switch (decimal_parse(in->data, in->len, &v)) {
    case DECIMAL_NOT_NUMBER:
        return true;
    case DECIMAL_SPECIAL:
        if (!coded_infinity(s, in, out))
            return true;
        goto done;
    case DECIMAL_OK:
        break;
    }
    if (s->has_width && (s->has_min || s->has_max)) {
        coded(s, &v, out);
    } else if (s->has_width) {
        decimal_quantize(&v, &s->width, DECIMAL_FLOOR, out);
        if (bits && decimal_step_keeps_integers(&s->width))
            decimal_int_clamp(out, start, bits, &s->width, DECIMAL_EDGE_TYPE_MIN);
    } else {
        i = find_edge(s, &v);
        if (i < 0)
            return true;
        if (s->labels)
            abuf_puts(out, s->labels[i]);
        else
            decimal_format(&s->edges[i], out);
        if (bits && s->edges_integer && !s->labels)
            decimal_int_clamp(out, start, bits, &unit, DECIMAL_EDGE_TYPE_MIN);
    }
done:
    if (abuf_failed(out)) {
        anon_error_set(err, "bucket: output too large");
        return false;
    }
    *out_null = false;
    return true;
}

const struct rule_ops rule_bucket = {
    .name = "bucket",
    .summary = "numbers to the lower bound of a fixed-width bucket or of explicit edges",
    .passthrough = false,
    .parse = bucket_parse,
    .free_state = bucket_free,
    .describe = bucket_describe,
    .output = bucket_output,
    .apply = bucket_apply,
};
