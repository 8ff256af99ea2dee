/*
 * fuzz_scrub.c: libFuzzer target for the scrub rule over arbitrary text (invalid UTF-8
 * included): every built-in detector plus user patterns, one of which can match the
 * empty string. Checks: no crash, leak, overflow or PCRE2 error (the output is never
 * NULL); text without digits, '@' or 'x' comes out unchanged.
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

static struct rule rule;
static bool ready;

static void setup(void)
{
    fuzz_parse_rule(rule_text, &rule);
    ready = true;
}

static bool plain(const uint8_t *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((d[i] >= '0' && d[i] <= '9') || d[i] == '@' || d[i] == 'x')
            return false;
    return true;
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
    return 0;
}
