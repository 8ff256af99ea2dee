/* rule_util.c: helpers shared by the rule implementations (see rule_util.h). */
#include "anonymise/rule_util.h"

#include <string.h>

#include "anonymise/pgtime.h"

bool rule_no_options(const struct yopts *opts, struct anon_error *err)
{
    if (yopts_kind(opts) == YOPTS_EMPTY ||
        (yopts_kind(opts) == YOPTS_MAPPING && yopts_count(opts) == 0))
        return true;
    yopts_error(opts, NULL, err, "this rule takes no options");
    return false;
}

void rule_describe_string(struct abuf *out, const char *s)
{
    abuf_putc(out, '"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            abuf_putc(out, '\\');
            abuf_putc(out, (char)c);
        } else if (c == '\n') {
            abuf_puts(out, "\\n");
        } else if (c == '\t') {
            abuf_puts(out, "\\t");
        } else if (c < 0x20 || c == 0x7f) {
            abuf_printf(out, "\\x%02x", c);
        } else {
            abuf_putc(out, (char)c);
        }
    }
    abuf_putc(out, '"');
}

bool rule_is_array_type(const char *type)
{
    size_t n = strlen(type);

    return n >= 2 && type[n - 2] == '[' && type[n - 1] == ']';
}

bool rule_apply_time_text(const struct rule_ops *ops, const void *state, const struct rule_ctx *ctx,
                          const struct rule_value *in, struct abuf *out, bool *out_null,
                          struct anon_error *err)
{
    enum rule_time_result res = RULE_TIME_NULL;
    struct pgtime t, o;

    *out_null = true;
    if (in->is_null || pgtime_parse(in->data, in->len, &t) == PGTIME_MALFORMED)
        return true;
    if (!ops->apply_time(state, ctx, &t, &o, out, &res, err))
        return false;
    if (res == RULE_TIME_VALUE && !pgtime_format(&o, out)) {
        anon_error_set(err, "%s: output too large", ops->name);
        return false;
    }
    *out_null = res == RULE_TIME_NULL;
    return true;
}
