/*
 * rule_keep.c: `keep`, the value is copied unchanged. A passthrough rule: the engine
 * copies the raw COPY field without decoding it, so `apply` only serves callers that
 * work on decoded values (preview, tests).
 */
#include "anonymise/rule.h"

#include <stdio.h>

#include "anonymise/rule_util.h"

static bool keep_parse(const struct yopts *opts, void **state, struct anon_error *err)
{
    *state = NULL;
    return rule_no_options(opts, err);
}

static void keep_describe(const void *state, struct abuf *out)
{
    (void)state;
    (void)out;
}

static void keep_output(const void *state, const char *source_type, struct rule_output *out)
{
    (void)state;
    snprintf(out->type, sizeof(out->type), "%s", source_type);
    out->may_be_null = false;
}

static bool keep_apply(const void *state, const struct rule_ctx *ctx, const struct rule_value *in,
                       struct abuf *out, bool *out_null, struct anon_error *err)
{
    (void)state;
    (void)ctx;
    *out_null = in->is_null;
    if (in->is_null)
        return true;
    if (!abuf_append(out, in->data, in->len)) {
        anon_error_set(err, "keep: value too large");
        return false;
    }
    return true;
}

const struct rule_ops rule_keep = {
    .name = "keep",
    .summary = "copy the value unchanged",
    .passthrough = true,
    .parse = keep_parse,
    .free_state = NULL,
    .describe = keep_describe,
    .output = keep_output,
    .apply = keep_apply,
};
