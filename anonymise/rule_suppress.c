/*
 * rule_suppress.c: `suppress`, every value becomes NULL (the target column keeps the
 * source type and loses NOT NULL).
 */
#include "anonymise/rule.h"

#include <stdio.h>

#include "anonymise/rule_util.h"

static bool suppress_parse(const struct yopts *opts, void **state, struct anon_error *err)
{
    *state = NULL;
    return rule_no_options(opts, err);
}

static void suppress_describe(const void *state, struct abuf *out)
{
    (void)state;
    (void)out;
}

static void suppress_output(const void *state, const char *source_type, struct rule_output *out)
{
    (void)state;
    snprintf(out->type, sizeof(out->type), "%s", source_type);
    out->may_be_null = true;
    out->always_null = true;
}

static bool suppress_apply(const void *state, const struct rule_ctx *ctx,
                           const struct rule_value *in, struct abuf *out, bool *out_null,
                           struct anon_error *err)
{
    (void)state;
    (void)ctx;
    (void)in;
    (void)out;
    (void)err;
    *out_null = true;
    return true;
}

const struct rule_ops rule_suppress = {
    .name = "suppress",
    .summary = "replace every value with NULL",
    .passthrough = false,
    .whole_value = true,
    .hides_input = true,
    .parse = suppress_parse,
    .free_state = NULL,
    .describe = suppress_describe,
    .output = suppress_output,
    .apply = suppress_apply,
};
