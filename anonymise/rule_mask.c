/*
 * rule_mask.c: `mask: { keep_first: N, keep_last: N, char: "*" }`.
 *
 * Every character but the first keep_first and the last keep_last is replaced by `char`
 * (one character). Counts are in characters, not bytes, so "Zoë" has three. A value
 * with no more characters than keep_first + keep_last is masked entirely: a mask never
 * reveals a whole value. The output has as many characters as the input, so it fits the
 * source type when that is text-like (varchar(n) included); other types become text.
 */
#include "anonymise/rules_extra.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anonymise/sqltype.h"
#include "anonymise/utf8.h"

#define MASK_MAX_KEEP 1000000L

struct mask_state {
    size_t keep_first, keep_last;
    char ch[5]; /* one UTF-8 character, NUL-terminated */
    size_t ch_len;
};

static bool mask_parse(const struct yopts *opts, void **state, struct anon_error *err)
{
    static const char *const keys[] = {"keep_first", "keep_last", "char", NULL};
    struct mask_state *s;
    long first = 0, last = 0;
    const char *ch = "*";

    if (!yopts_only_keys(opts, keys, err) ||
        !yopts_get_int(opts, "keep_first", 0, MASK_MAX_KEEP, &first, NULL, err) ||
        !yopts_get_int(opts, "keep_last", 0, MASK_MAX_KEEP, &last, NULL, err) ||
        !yopts_get_string(opts, "char", &ch, NULL, err))
        return false;
    if (!utf8_is_one_char(ch, strlen(ch))) {
        yopts_error(opts, "char", err, "must be exactly one character");
        return false;
    }
    s = calloc(1, sizeof(*s));
    if (!s) {
        yopts_error(opts, NULL, err, "out of memory");
        return false;
    }
    s->keep_first = (size_t)first;
    s->keep_last = (size_t)last;
    s->ch_len = strlen(ch);
    memcpy(s->ch, ch, s->ch_len);
    *state = s;
    return true;
}

static void mask_free(void *state)
{
    free(state);
}

static void mask_describe(const void *state, struct abuf *out)
{
    const struct mask_state *s = state;

    abuf_printf(out, "keep_first=%zu keep_last=%zu char=\"%s\"", s->keep_first, s->keep_last,
                s->ch);
}

static void mask_output(const void *state, const char *source_type, struct rule_output *out)
{
    (void)state;
    if (sqltype_is_text(source_type))
        snprintf(out->type, sizeof(out->type), "%s", source_type);
    else
        snprintf(out->type, sizeof(out->type), "text");
    out->may_be_null = false;
}

static bool mask_apply(const void *state, const struct rule_ctx *ctx, const struct rule_value *in,
                       struct abuf *out, bool *out_null, struct anon_error *err)
{
    const struct mask_state *s = state;
    size_t n, head, tail, i, c;

    (void)ctx;
    *out_null = in->is_null;
    if (in->is_null)
        return true;
    n = utf8_count(in->data, in->len);
    head = s->keep_first;
    tail = s->keep_last;
    if (head + tail >= n)
        head = tail = 0; /* never reveal the whole value */
    for (i = 0, c = 0; i < in->len; c++) {
        size_t l = utf8_char_len(in->data + i, in->len - i);
        if (c < head || c >= n - tail)
            abuf_append(out, in->data + i, l);
        else
            abuf_append(out, s->ch, s->ch_len);
        i += l;
    }
    if (abuf_failed(out)) {
        anon_error_set(err, "mask: output too large");
        return false;
    }
    return true;
}

const struct rule_ops rule_mask = {
    .name = "mask",
    .summary = "replace all but the first/last characters with a mask character",
    .passthrough = false,
    .parse = mask_parse,
    .free_state = mask_free,
    .describe = mask_describe,
    .output = mask_output,
    .apply = mask_apply,
};
