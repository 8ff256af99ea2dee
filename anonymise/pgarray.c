/*
 * pgarray.c: PostgreSQL array literals (see pgarray.h), after array_in / array_out in
 * src/backend/utils/adt/arrayfuncs.c: elements are separated by the delimiter, may be
 * double-quoted (backslash escapes any character inside quotes and out), unquoted
 * elements lose surrounding white space, and an unquoted NULL (any case) is a null.
 * The parser walks a bounded pointer and never reads past len.
 */
#include "anonymise/pgarray.h"

#include <strings.h>

struct pgarray_parser {
    const char *s;
    size_t len, i;
    char delim;
    pgarray_elem_fn fn;
    void *arg;
    struct abuf *out;
    struct abuf elem, res; /* decoded element, rule output: reused for every element */
    struct anon_error *err;
};

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static void skip_space(struct pgarray_parser *p)
{
    while (p->i < p->len && is_space(p->s[p->i]))
        p->i++;
}

void pgarray_encode_elem(const char *s, size_t len, bool is_null, char delim, struct abuf *out)
{
    bool quote = len == 0 || (len == 4 && strncasecmp(s, "NULL", 4) == 0);

    if (is_null) {
        abuf_puts(out, "NULL");
        return;
    }
    for (size_t i = 0; i < len && !quote; i++)
        quote = s[i] == '"' || s[i] == '\\' || s[i] == '{' || s[i] == '}' || s[i] == delim ||
                is_space(s[i]);
    if (!quote) {
        abuf_append(out, s, len);
        return;
    }
    abuf_putc(out, '"');
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"' || s[i] == '\\')
            abuf_putc(out, '\\');
        abuf_putc(out, s[i]);
    }
    abuf_putc(out, '"');
}

void pgarray_encode_strings(const char *const *items, size_t n, struct abuf *out)
{
    abuf_putc(out, '{');
    for (size_t i = 0; i < n; i++) {
        if (i)
            abuf_putc(out, ',');
        pgarray_encode_elem(items[i], strlen(items[i]), false, ',', out);
    }
    abuf_putc(out, '}');
}

/* Quoted element: p->i is on the opening quote. */
static bool read_quoted(struct pgarray_parser *p)
{
    p->i++;
    while (p->i < p->len) {
        char c = p->s[p->i++];
        if (c == '"')
            return true;
        if (c == '\\') {
            if (p->i >= p->len)
                return false;
            c = p->s[p->i++];
        }
        abuf_putc(&p->elem, c);
    }
    return false;
}

/* Unquoted element up to the delimiter or '}'; *is_null for a bare NULL. */
static bool read_bare(struct pgarray_parser *p, bool *is_null)
{
    size_t keep = 0; /* length without trailing unescaped white space */
    bool escaped = false;

    while (p->i < p->len) {
        char c = p->s[p->i];
        if (c == p->delim || c == '}')
            break;
        if (c == '"' || c == '{')
            return false;
        p->i++;
        if (c == '\\') {
            if (p->i >= p->len)
                return false;
            c = p->s[p->i++];
            escaped = true;
            abuf_putc(&p->elem, c);
            keep = p->elem.len;
            continue;
        }
        abuf_putc(&p->elem, c);
        if (!is_space(c))
            keep = p->elem.len;
    }
    p->elem.len = keep;
    if (keep == 0)
        return false; /* an empty unquoted element is malformed */
    *is_null = !escaped && keep == 4 && strncasecmp(p->elem.data, "NULL", 4) == 0;
    return true;
}

static enum pgarray_status element(struct pgarray_parser *p)
{
    struct rule_value v = {0};
    bool is_null = false, out_null = false;

    abuf_reset(&p->elem);
    abuf_reset(&p->res);
    if (p->s[p->i] == '"') {
        if (!read_quoted(p))
            return PGARRAY_MALFORMED;
    } else if (!read_bare(p, &is_null)) {
        return PGARRAY_MALFORMED;
    }
    if (abuf_failed(&p->elem)) {
        anon_error_set(p->err, "array element too large");
        return PGARRAY_ERROR;
    }
    v.data = p->elem.data && !is_null ? p->elem.data : "";
    v.len = is_null ? 0 : p->elem.len;
    v.is_null = is_null;
    if (!p->fn(p->arg, &v, &p->res, &out_null, p->err))
        return PGARRAY_ERROR;
    pgarray_encode_elem(p->res.data ? p->res.data : "", p->res.len, out_null, p->delim, p->out);
    return PGARRAY_OK;
}

/* One "{...}" level; p->i is on the '{'. */
static enum pgarray_status level(struct pgarray_parser *p, int depth)
{
    enum pgarray_status st;
    bool first = true;

    if (depth > PGARRAY_MAX_DEPTH)
        return PGARRAY_MALFORMED;
    p->i++;
    abuf_putc(p->out, '{');
    skip_space(p);
    if (p->i < p->len && p->s[p->i] == '}') {
        p->i++;
        abuf_putc(p->out, '}');
        return PGARRAY_OK;
    }
    for (;;) {
        skip_space(p);
        if (p->i >= p->len)
            return PGARRAY_MALFORMED;
        if (!first)
            abuf_putc(p->out, p->delim);
        first = false;
        st = p->s[p->i] == '{' ? level(p, depth + 1) : element(p);
        if (st != PGARRAY_OK)
            return st;
        skip_space(p);
        if (p->i >= p->len)
            return PGARRAY_MALFORMED;
        if (p->s[p->i] == '}') {
            p->i++;
            abuf_putc(p->out, '}');
            return PGARRAY_OK;
        }
        if (p->s[p->i] != p->delim)
            return PGARRAY_MALFORMED;
        p->i++;
    }
}

/* Optional "[lo:hi][lo:hi]=" before the braces: copied as it is. */
static bool bounds(struct pgarray_parser *p)
{
    size_t start = p->i;

    while (p->i < p->len && p->s[p->i] == '[') {
        size_t j = p->i + 1, digits = 0;
        bool colon = false;
        for (; j < p->len && p->s[j] != ']'; j++) {
            char c = p->s[j];
            if (c == ':' && !colon && digits > 0) {
                colon = true;
                digits = 0;
            } else if ((c >= '0' && c <= '9') || (c == '-' && digits == 0)) {
                digits += c != '-';
            } else {
                return false;
            }
        }
        if (j >= p->len || digits == 0)
            return false;
        p->i = j + 1;
    }
    if (p->i == start)
        return true;
    if (p->i >= p->len || p->s[p->i] != '=')
        return false;
    p->i++;
    abuf_append(p->out, p->s + start, p->i - start);
    skip_space(p);
    return true;
}

enum pgarray_status pgarray_map(const char *text, size_t len, char delim, pgarray_elem_fn fn,
                                void *arg, struct abuf *out, struct anon_error *err)
{
    struct pgarray_parser p = {
        .s = text, .len = len, .delim = delim, .fn = fn, .arg = arg, .out = out, .err = err};
    enum pgarray_status st = PGARRAY_MALFORMED;

    abuf_init(&p.elem, out->max);
    abuf_init(&p.res, out->max);
    skip_space(&p);
    if (bounds(&p) && p.i < p.len && p.s[p.i] == '{') {
        st = level(&p, 1);
        skip_space(&p);
        if (st == PGARRAY_OK && p.i != p.len)
            st = PGARRAY_MALFORMED;
    }
    abuf_free(&p.elem);
    abuf_free(&p.res);
    if (st == PGARRAY_OK && abuf_failed(out)) {
        anon_error_set(err, "array value too large");
        st = PGARRAY_ERROR;
    }
    return st;
}

struct rule_call {
    const struct rule_ops *ops;
    const void *state;
    const struct rule_ctx *ctx;
};

static bool call_rule(void *arg, const struct rule_value *elem, struct abuf *out, bool *out_null,
                      struct anon_error *err)
{
    const struct rule_call *c = arg;

    return c->ops->apply(c->state, c->ctx, elem, out, out_null, err);
}

bool pgarray_apply_rule(const struct rule_ops *ops, const void *state, const struct rule_ctx *ctx,
                        const struct rule_value *in, struct abuf *out, bool *out_null,
                        struct anon_error *err)
{
    struct rule_call c = {ops, state, ctx};
    size_t start = out->len;
    enum pgarray_status st;

    *out_null = in->is_null;
    if (in->is_null)
        return true;
    st = pgarray_map(in->data, in->len, ',', call_rule, &c, out, err);
    if (st == PGARRAY_MALFORMED) {
        out->len = start;
        *out_null = true;
    }
    return st != PGARRAY_ERROR;
}
