/*
 * fuzz_scrub.c: libFuzzer target for the scrub rule over arbitrary text (invalid UTF-8
 * included): every built-in detector plus user patterns, one of which can match the
 * empty string; and row_values, the row's value being the input's first line. Checks:
 * no crash, leak, overflow or PCRE2 error (the output is never NULL); text without
 * digits, '@', 'x', "dot" or a bracket comes out of the detectors unchanged.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "anonymise/abuf.h"
#include "anonymise/rule.h"
#include "anonymise/yopts.h"
#include "tests/fuzz/fuzz_rule.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char rule_text[] =
    "col: { scrub: { patterns: [{ regex: \"CASE-[0-9]+\", replacement: \"[CASE]\" }, "
    "{ regex: \"x*\", replacement: \"X\" }] } }\n";

static const char rows_text[] = "col: { scrub: { detectors: [], row_values: [name] } }\n";

static struct rule rule, rows;
static bool ready;

struct rule_row {
    struct rule_value name;
};

static const struct rule_value *row_column(const struct rule_row *row, const char *name)
{
    return strcmp(name, "name") == 0 ? &row->name : NULL;
}

static void setup(void)
{
    fuzz_parse_rule(rule_text, &rule);
    fuzz_parse_rule(rows_text, &rows);
    ready = true;
}

/* Nothing a detector starts from: digits, '@', 'x' (a user pattern), "dot" or a bracket
 * (spelled addresses), nor what the detectors read as one (scrubnorm.h): '%' and '&'
 * (an '@' escaped as %40, &#64; or &commat;) and any non-ASCII byte (fullwidth or
 * Arabic-Indic digits, a fullwidth at sign). */
static bool plain(const uint8_t *d, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if ((d[i] >= '0' && d[i] <= '9') || d[i] == '@' || d[i] == 'x' || d[i] >= 0x80 ||
            (d[i] && strchr("([{<%&", d[i])))
            return false;
        if (i + 2 < n && (d[i] | 0x20) == 'd' && (d[i + 1] | 0x20) == 'o' && (d[i + 2] | 0x20) == 't')
            return false;
    }
    return true;
}

/* row_values: the first line is the row's value, the rest the text. */
static void fuzz_rows(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t vlen = nl ? (size_t)(nl - data) : 0;
    struct rule_row row = {{(const char *)data, vlen, vlen == 0}};
    struct rule_value in = {nl ? (const char *)nl + 1 : (const char *)data,
                            nl ? size - vlen - 1 : size, false};
    struct rule_ctx ctx;
    struct anon_error err;
    struct abuf out;
    bool is_null = true;

    memset(&ctx, 0, sizeof(ctx));
    ctx.column = row_column;
    ctx.row = &row;
    anon_error_clear(&err);
    abuf_init(&out, 1 << 22);
    if (!rows.ops->apply(rows.state, &ctx, &in, &out, &is_null, &err) || is_null)
        abort();
    abuf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rule_value in = {(const char *)data, size, false};
    struct rule_ctx ctx;
    struct anon_error err;
    struct abuf out;
    bool is_null = true;

    if (!ready)
        setup();
    memset(&ctx, 0, sizeof(ctx));
    anon_error_clear(&err);
    abuf_init(&out, 1 << 22);
    if (!rule.ops->apply(rule.state, &ctx, &in, &out, &is_null, &err))
        abort();
    if (is_null)
        abort(); /* a PCRE2 match error on these patterns is a bug */
    if (plain(data, size) && (out.len != size || memcmp(out.data ? out.data : "", data, size)))
        abort();
    abuf_free(&out);
    fuzz_rows(data, size);
    return 0;
}
