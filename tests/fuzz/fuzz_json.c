/*
 * fuzz_json.c: libFuzzer target for the json rule over arbitrary input: documents that
 * are not JSON, deep nesting, odd strings and numbers, with nested rules at object
 * keys, array wildcards and indexes (hash, suppress, mask, scrub, constant). The same
 * input is also read as an array of jsonb (pgarray_apply_rule). Checks: no crash, leak
 * or overflow; a NULL output only when the input was not JSON; a non-NULL output is
 * valid JSON, and so is the output of applying the rule to it again.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "anonymise/abuf.h"
#include "anonymise/hmac.h"
#include "anonymise/pgarray.h"
#include "anonymise/rule.h"
#include "anonymise/yopts.h"
#include "tests/fuzz/fuzz_rule.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char rule_text[] =
    "col: { json: { paths: { \"$.a\": { hash: {} }, \"$.a.b\": suppress, "
    "\"$.items[*].name\": { mask: { keep_first: 1 } }, \"$[0]\": { constant: \"X\" }, "
    "\"$['k y'][*][*]\": { scrub: [email, phone, card_number] }, \"$.n\": { hash_int: {} } } } }\n";

static struct rule rule;
static struct hmac_key *hkey;
static const unsigned char key[32] = {9, 8, 7};

static void setup(void)
{
    struct anon_error err;

    fuzz_parse_rule(rule_text, &rule);
    anon_error_clear(&err);
    hkey = hmac_key_new(key, sizeof(key), &err);
    if (!hkey)
        abort();
}

static bool apply(const struct rule_value *in, struct abuf *out, bool *is_null, bool array)
{
    struct anon_error err;
    struct rule_ctx ctx;

    memset(&ctx, 0, sizeof(ctx));
    ctx.key = key;
    ctx.key_len = sizeof(key);
    ctx.hmac = hkey;
    anon_error_clear(&err);
    if (array)
        return pgarray_apply_rule(rule.ops, rule.state, &ctx, in, out, is_null, &err);
    return rule.ops->apply(rule.state, &ctx, in, out, is_null, &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rule_value in = {(const char *)data, size, false};
    struct abuf out, again;
    bool is_null = false, null2 = false;
    json_error_t jerr;
    json_t *j;

    if (!hkey)
        setup();
    abuf_init(&out, 1 << 22);
    abuf_init(&again, 1 << 22);
    if (apply(&in, &out, &is_null, false)) {
        j = json_loadb(in.data, in.len, JSON_DECODE_ANY, &jerr);
        if (is_null != (j == NULL))
            abort();
        json_decref(j);
        if (!is_null) {
            struct rule_value in2 = {out.data, out.len, false};
            j = json_loadb(out.data, out.len, JSON_DECODE_ANY, &jerr);
            if (!j)
                abort();
            json_decref(j);
            if (!apply(&in2, &again, &null2, false) || null2)
                abort();
        }
    }
    abuf_reset(&out);
    (void)apply(&in, &out, &is_null, true);
    abuf_free(&again);
    abuf_free(&out);
    return 0;
}
