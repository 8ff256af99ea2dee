/*
 * rule_round.c: `round: { digits: 2 }` rounds to 2 decimal places (digits may be
 * negative: -3 rounds to thousands); `round: { multiple: 5 }` to the nearest multiple of
 * 5 (or 0.25, ...). Halves go away from zero, like PostgreSQL's round(numeric). Exact
 * decimal arithmetic (decimal.h): no double rounding error, big numerics included.
 * Without options, digits is 0. NaN and Infinity pass through (they identify no one);
 * text that is not a number becomes NULL.
 *
 * Output type: the source type, except numeric(p,s) -> numeric (rounding up can need
 * one more digit than p: 999.99 to digits -1 is 1000) and integer sources with a
 * multiple such as 0.4 whose results are not integers -> numeric.
 *
 * An integer column keeps its type, so its edges are defined: a result beyond the
 * type's range becomes the nearest multiple inside it (integer 2147483647 to a multiple
 * of 10 is 2147483640, -2147483648 is -2147483640; smallint 32767 by 10 is 32760). Both
 * COPY paths (text and binary) apply the same rule, so they publish the same values.
 */
#include "anonymise/rules_extra.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anonymise/decimal.h"
#include "anonymise/sqltype.h"

struct round_state {
    struct decimal_step step;
    bool by_multiple;
    long digits;
    char multiple[68];
};

static bool round_parse(const struct yopts *opts, void **state, struct anon_error *err)
{
    static const char *const keys[] = {"digits", "multiple", NULL};
    struct round_state *s;
    struct decimal_step step;
    long digits = 0;
    const char *multiple = NULL;
    bool has_digits = false, has_multiple = false;

    if (!yopts_only_keys(opts, keys, err) ||
        !yopts_get_int(opts, "digits", -17, DECIMAL_MAX_SCALE, &digits, &has_digits, err) ||
        !yopts_get_string(opts, "multiple", &multiple, &has_multiple, err))
        return false;
    if (has_digits && has_multiple) {
        yopts_error(opts, "multiple", err, "cannot be combined with digits");
        return false;
    }
    if (has_multiple) {
        if (strlen(multiple) >= sizeof(((struct round_state *)0)->multiple) ||
            !decimal_step_parse(multiple, &step)) {
            yopts_error(opts, "multiple", err,
                        "must be a positive number (at most 17 significant digits)");
            return false;
        }
    } else if (!decimal_step_digits(digits, &step)) {
        yopts_error(opts, "digits", err, "out of range");
        return false;
    }
    s = calloc(1, sizeof(*s));
    if (!s) {
        yopts_error(opts, NULL, err, "out of memory");
        return false;
    }
    s->step = step;
    s->by_multiple = has_multiple;
    s->digits = digits;
    if (has_multiple)
        snprintf(s->multiple, sizeof(s->multiple), "%s", multiple);
    *state = s;
    return true;
}

static void round_free(void *state)
{
    free(state);
}

static void round_describe(const void *state, struct abuf *out)
{
    const struct round_state *s = state;

    if (s->by_multiple)
        abuf_printf(out, "multiple=%s", s->multiple);
    else
        abuf_printf(out, "digits=%ld", s->digits);
}

static void round_output(const void *state, const char *source_type, struct rule_output *out)
{
    const struct round_state *s = state;
    const char *t = "numeric";

    if (sqltype_is_float(source_type) ||
        (sqltype_is_integer(source_type) && decimal_step_keeps_integers(&s->step)))
        t = source_type;
    snprintf(out->type, sizeof(out->type), "%s", t);
    out->may_be_null = !sqltype_is_integer(source_type) && !sqltype_is_numeric(source_type) &&
                       !sqltype_is_float(source_type);
    if (source_type && out->may_be_null)
        snprintf(out->problem, sizeof(out->problem),
                 "round needs a number column (integer, numeric, real, double precision), not %s",
                 source_type);
}

static bool round_apply(const void *state, const struct rule_ctx *ctx, const struct rule_value *in,
                        struct abuf *out, bool *out_null, struct anon_error *err)
{
    const struct round_state *s = state;
    struct decimal v;

    *out_null = true;
    if (in->is_null)
        return true;
    switch (decimal_parse(in->data, in->len, &v)) {
    case DECIMAL_NOT_NUMBER:
        return true;
    case DECIMAL_SPECIAL:
        abuf_append(out, in->data, in->len);
        break;
    case DECIMAL_OK: {
        size_t start = out->len;
        int bits = sqltype_int_bits(ctx->type);
        decimal_quantize(&v, &s->step, DECIMAL_HALF_AWAY, out);
        /* an integer column keeps its type: stay inside its range (see above) */
        if (bits && decimal_step_keeps_integers(&s->step))
            decimal_int_clamp(out, start, bits, &s->step, DECIMAL_EDGE_MULTIPLE);
        break;
    }
    }
    if (abuf_failed(out)) {
        anon_error_set(err, "round: output too large");
        return false;
    }
    *out_null = false;
    return true;
}

const struct rule_ops rule_round = {
    .name = "round",
    .summary = "numbers rounded to N decimal places or to a multiple",
    .passthrough = false,
    .parse = round_parse,
    .free_state = round_free,
    .describe = round_describe,
    .output = round_output,
    .apply = round_apply,
};
