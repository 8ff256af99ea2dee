/* bincol.c: a column of a binary COPY row through its rule (see bincol.h). */
#include "etl/bincol.h"

#include "anonymise/codec_array.h"
#include "anonymise/pgtime.h"

#define VALUE_MAX ((size_t)1 << 30) /* PostgreSQL's own limit on one field */

void bincol_scratch_init(struct bincol_scratch *s)
{
    abuf_init(&s->text, VALUE_MAX);
    abuf_init(&s->result, VALUE_MAX);
}

void bincol_scratch_free(struct bincol_scratch *s)
{
    abuf_free(&s->text);
    abuf_free(&s->result);
}

/* Everything one value needs besides the value. */
struct one {
    const struct table_plan *plan;
    const struct plan_column *col;
    const struct rule_ctx *ctx;
    struct bincol_scratch *s;
    struct anon_error *err;
};

static enum bincol_status fail(const struct one *o, enum bincol_status st, const char *what)
{
    anon_error_set(o->err, "%s.%s: %s", o->plan->qualified, o->col->source->name, what);
    return st;
}

/* Text of the rule's output into the target's binary form. */
static enum bincol_status put_text(const struct one *o, const char *text, size_t len,
                                   struct abuf *out)
{
    if (!o->col->bin_out->from_text(text, len, out))
        return abuf_failed(out) ? fail(o, BINCOL_INTERNAL, "output too large")
                                : fail(o, BINCOL_TARGET,
                                       "the rule's output is not a valid value "
                                       "of the target type");
    return BINCOL_OK;
}

/* A date/timestamp rule on the value as numbers (pgtime.h). */
static enum bincol_status one_time(const struct one *o, const char *data, size_t len,
                                   struct abuf *out, bool *out_null)
{
    const struct rule *rule = o->col->rule;
    enum rule_time_result res = RULE_TIME_NULL;
    struct pgtime in, t;

    if (!o->col->bin_in->to_time(data, len, &in))
        return fail(o, BINCOL_INTERNAL, "malformed binary value from the source");
    abuf_reset(&o->s->result);
    if (!rule->ops->apply_time(rule->state, o->ctx, &in, &t, &o->s->result, &res, o->err))
        return BINCOL_INTERNAL;
    *out_null = res == RULE_TIME_NULL;
    if (res == RULE_TIME_TEXT)
        return put_text(o, o->s->result.data ? o->s->result.data : "", o->s->result.len, out);
    if (res != RULE_TIME_VALUE)
        return BINCOL_OK;
    if (o->col->bin_out->from_time) {
        if (!o->col->bin_out->from_time(&t, out))
            return fail(o, BINCOL_TARGET, "the rule's output is out of the target type's range");
        return BINCOL_OK;
    }
    if (!pgtime_format(&t, &o->s->result))
        return fail(o, BINCOL_INTERNAL, "output too large");
    return put_text(o, o->s->result.data, o->s->result.len, out);
}

/* One value (a scalar or an array element) through the rule: its bytes appended to
 * out (no length), or *out_null. */
static enum bincol_status one_value(const struct one *o, const char *data, size_t len, bool is_null,
                                    struct abuf *out, bool *out_null)
{
    const struct rule *rule = o->col->rule;
    const struct codec *in_codec = o->col->bin_in, *out_codec = o->col->bin_out;
    struct rule_value in = {.data = "", .len = 0, .is_null = is_null};
    struct abuf *dst = out_codec->text_like ? out : &o->s->result;
    size_t before;

    if (!is_null && o->col->bin_time)
        return one_time(o, data, len, out, out_null);
    if (!is_null && in_codec->text_like) {
        in.data = data;
        in.len = len;
    } else if (!is_null) {
        abuf_reset(&o->s->text);
        if (!in_codec->to_text(data, len, &o->s->text))
            return fail(o, BINCOL_INTERNAL, "malformed binary value from the source");
        in.data = o->s->text.data ? o->s->text.data : "";
        in.len = o->s->text.len;
    }
    if (dst != out)
        abuf_reset(dst);
    before = dst->len;
    if (!rule->ops->apply(rule->state, o->ctx, &in, dst, out_null, o->err))
        return BINCOL_INTERNAL;
    if (abuf_failed(dst))
        return fail(o, BINCOL_INTERNAL, "rule output too large");
    if (*out_null) {
        dst->len = before;
        return BINCOL_OK;
    }
    if (dst == out)
        return BINCOL_OK;
    return put_text(o, dst->data ? dst->data : "", dst->len, out);
}

/* Reserve a field's length; bincol_end_field writes it (or NULL). */
static size_t begin_field(struct abuf *out)
{
    size_t at = out->len;

    codec_put32(out, 0);
    return at;
}

static void end_field(struct abuf *out, size_t at, bool is_null)
{
    size_t n;

    if (abuf_failed(out))
        return;
    if (is_null) {
        out->len = at;
        copybin_put_null(out);
        return;
    }
    n = out->len - at - 4;
    out->data[at] = (char)(n >> 24);
    out->data[at + 1] = (char)(n >> 16);
    out->data[at + 2] = (char)(n >> 8);
    out->data[at + 3] = (char)n;
}

/* An array: each element through the rule, under a header with the output OID. */
static enum bincol_status one_array(const struct one *o, const char *data, size_t len,
                                    struct abuf *out)
{
    struct codec_array a;
    const char *elem;
    size_t off = 0, n, header, at;
    bool is_null, bad, has_null = false, out_null;
    enum bincol_status st;

    if (!codec_array_parse(data, len, &a))
        return fail(o, BINCOL_INTERNAL, "malformed binary array from the source");
    header = codec_array_put_header(&a, o->col->bin_out->oid, out);
    while (codec_array_next(&a, &off, &elem, &n, &is_null, &bad)) {
        at = begin_field(out);
        out_null = false;
        if ((st = one_value(o, elem, n, is_null, out, &out_null)) != BINCOL_OK)
            return st;
        end_field(out, at, out_null);
        has_null = has_null || out_null;
    }
    if (bad)
        return fail(o, BINCOL_INTERNAL, "malformed binary array from the source");
    codec_array_end(out, header, has_null);
    return BINCOL_OK;
}

enum bincol_status bincol_apply(const struct table_plan *plan, size_t i, const struct rule_ctx *ctx,
                                const struct copybin_field *f, struct bincol_scratch *s,
                                struct abuf *out, struct anon_error *err)
{
    const struct plan_column *c = &plan->columns[i];
    struct rule_ctx typed;
    struct one o = {.plan = plan, .col = c, .ctx = &typed, .s = s, .err = err};
    enum bincol_status st;
    bool out_null = false;
    size_t at;

    switch (c->bin) {
    case PLAN_BIN_COPY:
        if (f->is_null)
            copybin_put_null(out);
        else
            copybin_put_field(out, f->data, f->len);
        return BINCOL_OK;
    case PLAN_BIN_NULL:
        copybin_put_null(out);
        return BINCOL_OK;
    case PLAN_BIN_FIXED:
        copybin_put_field(out, c->bin_fixed, c->bin_fixed_len);
        return BINCOL_OK;
    case PLAN_BIN_CONVERT:
        break;
    }
    typed = *ctx;
    typed.type = c->rule_type; /* as run_rule does on the text path */
    at = begin_field(out);
    if (c->bin_array && !f->is_null)
        st = one_array(&o, f->data, f->len, out);
    else if (c->bin_array) /* a NULL array: the rule decides (pgarray_apply_rule: NULL) */
        st = BINCOL_OK, out_null = true;
    else
        st = one_value(&o, f->data, f->len, f->is_null, out, &out_null);
    if (st == BINCOL_OK)
        end_field(out, at, out_null);
    return st;
}

bool bincol_text(const struct plan_column *c, const struct copybin_field *f, struct abuf *out,
                 bool *is_null)
{
    *is_null = f->is_null;
    if (f->is_null)
        return true;
    if (!c->bin_in)
        return false;
    if (c->bin_array)
        return codec_array_to_text(c->bin_in, f->data, f->len, out);
    return c->bin_in->to_text(f->data, f->len, out);
}
