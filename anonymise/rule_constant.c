/*
 * rule_constant.c: `constant: VALUE`, every value (NULL included) becomes VALUE.
 *
 * NULL is replaced too: a constant column says nothing about the source, not even
 * whether a value was present (use `suppress` for NULL). The target keeps the source
 * type, so VALUE must be valid text input for it: the engine has the source server check
 * it (output.literal) before any row moves, and a value the type rejects is a config
 * error at `check --source` and `run` (exit 2, file:line:column).
 */
#include "anonymise/rule.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anonymise/rule_util.h"

struct constant_state {
    char *value;
    size_t len;
};

static bool constant_parse(const struct yopts *opts, void **state, struct anon_error *err)
{
    struct constant_state *st;
    const char *v = yopts_scalar(opts);

    *state = NULL;
    if (!v) {
        yopts_error(opts, NULL, err,
                    "expected a value: { constant: VALUE } (use suppress for NULL)");
        return false;
    }
    st = calloc(1, sizeof(*st));
    if (!st || !(st->value = strdup(v))) {
        free(st);
        yopts_error(opts, NULL, err, "out of memory");
        return false;
    }
    st->len = strlen(v);
    *state = st;
    return true;
}

static void constant_free(void *state)
{
    struct constant_state *st = state;

    if (!st)
        return;
    free(st->value);
    free(st);
}

static void constant_describe(const void *state, struct abuf *out)
{
    const struct constant_state *st = state;

    abuf_puts(out, "value=");
    rule_describe_string(out, st->value);
}

static void constant_output(const void *state, const char *source_type, struct rule_output *out)
{
    const struct constant_state *st = state;

    snprintf(out->type, sizeof(out->type), "%s", source_type ? source_type : "text");
    out->may_be_null = false;
    out->literal = st->value;
}

static bool constant_apply(const void *state, const struct rule_ctx *ctx,
                           const struct rule_value *in, struct abuf *out, bool *out_null,
                           struct anon_error *err)
{
    const struct constant_state *st = state;

    (void)ctx;
    (void)in;
    *out_null = false;
    if (!abuf_append(out, st->value, st->len)) {
        anon_error_set(err, "constant: value too large");
        return false;
    }
    return true;
}

static const char *constant_fixed(const void *state, size_t *len)
{
    const struct constant_state *st = state;

    *len = st->len;
    return st->value;
}

const struct rule_ops rule_constant = {
    .name = "constant",
    .summary = "replace every value, NULL included, with a fixed value",
    .passthrough = false,
    .whole_value = true,
    .hides_input = true,
    .parse = constant_parse,
    .free_state = constant_free,
    .describe = constant_describe,
    .output = constant_output,
    .apply = constant_apply,
    .fixed_output = constant_fixed,
};
