/*
 * rule_keep.c: `keep`, the value is copied unchanged. A passthrough rule: the engine
 * copies the raw COPY field without decoding it, so `apply` only serves callers that
 * work on decoded values (preview, tests).
 *
 *   keep                                          the column is published as it is
 *   keep: { reviewed: "codes from a fixed list" }  the same, with the reviewer's reason
 *
 * A `keep` whose column name or sampled content looks like personal data (anonymise/
 * pii.h) stops `run` (exit 6) unless the rule records why it is not personal data:
 * `reviewed:`. The reason is logged and stored with the run; it changes nothing in the
 * data, so it is not part of describe() (adding one does not reload a table).
 */
#include "anonymise/rule.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anonymise/rule_util.h"

struct keep_state {
    char *reviewed;
};

static void keep_free(void *state)
{
    struct keep_state *s = state;

    if (!s)
        return;
    free(s->reviewed);
    free(s);
}

static bool blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            return false;
    return true;
}

static bool keep_parse(const struct yopts *opts, void **state, struct anon_error *err)
{
    static const char *const keys[] = {"reviewed", NULL};
    const char *reviewed = NULL;
    struct keep_state *s;

    *state = NULL;
    if (yopts_kind(opts) != YOPTS_MAPPING)
        return rule_no_options(opts, err);
    if (!yopts_only_keys(opts, keys, err) ||
        !yopts_get_string(opts, "reviewed", &reviewed, NULL, err))
        return false;
    if (!reviewed)
        return true; /* keep: {} */
    if (blank(reviewed)) {
        yopts_error(opts, "reviewed", err,
                    "say why the column is not personal data (or remove reviewed)");
        return false;
    }
    s = calloc(1, sizeof(*s));
    if (!s || !(s->reviewed = strdup(reviewed))) {
        free(s);
        yopts_error(opts, NULL, err, "out of memory");
        return false;
    }
    *state = s;
    return true;
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
    .summary = "copy the value unchanged (reviewed: why a personal-looking column may be)",
    .passthrough = true,
    .parse = keep_parse,
    .free_state = keep_free,
    .describe = keep_describe,
    .output = keep_output,
    .apply = keep_apply,
};

const char *rule_keep_reviewed(const struct rule *r)
{
    const struct keep_state *s = r && r->ops == &rule_keep ? r->state : NULL;

    return s ? s->reviewed : NULL;
}
