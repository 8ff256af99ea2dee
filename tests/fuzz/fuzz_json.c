/*
 * fuzz_json.c: libFuzzer target for the JSON scanner (anonymise/jsontext.c) and the
 * json rule over arbitrary input: documents that are not JSON, deep nesting, odd
 * strings, escapes and numbers, with nested rules at object keys, array wildcards and
 * indexes (hash, suppress, mask, scrub, constant, hash_int, keep), with others: drop
 * and others: keep. The same input is also read as an array of jsonb
 * (pgarray_apply_rule). Checks:
 *  - no crash, leak or overflow;
 *  - a NULL output exactly when the scanner refuses the input, and never for a
 *    document jansson (an independent parser) reads;
 *  - a non-NULL output is valid JSON (for the scanner, and for jansson when jansson
 *    read the input), and applying the rule to it again gives a non-NULL output;
 *  - fail closed: with others: drop and the paths "$.a" (hashed) and "$.k[*].x"
 *    (kept), the output holds no other key: {"a": string|null, "k": [{"x": ...}]}.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "anonymise/abuf.h"
#include "anonymise/hmac.h"
#include "anonymise/jsontext.h"
#include "anonymise/pgarray.h"
#include "anonymise/rule.h"
#include "anonymise/yopts.h"
#include "tests/fuzz/fuzz_rule.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char rule_many[] =
    "col: { json: { paths: { \"$.a\": { hash: {} }, \"$.b.c\": suppress, "
    "\"$.items[*].name\": { mask: { keep_first: 1 } }, \"$[0]\": { constant: \"X\" }, "
    "\"$['k y'][*][*]\": { scrub: [email, phone, card_number] }, \"$.n\": { hash_int: {} }, "
    "\"$.keep[*]\": keep, \"$['']\": { hash: {} } } } }\n";
static const char rule_keep_others[] =
    "col: { json: { paths: { \"$.a\": { hash: {} }, \"$.x[1].y\": suppress }, others: keep } "
    "}\n";
static const char rule_closed[] =
    "col: { json: { paths: { \"$.a\": { hash: {} }, \"$.k[*].x\": keep } } }\n";

static struct rule many, keep_others, closed;
static struct hmac_key *hkey;
static const unsigned char key[32] = {9, 8, 7};

static void setup(void)
{
    struct anon_error err;

    fuzz_parse_rule(rule_many, &many);
    fuzz_parse_rule(rule_keep_others, &keep_others);
    fuzz_parse_rule(rule_closed, &closed);
    anon_error_clear(&err);
    hkey = hmac_key_new(key, sizeof(key), &err);
    if (!hkey)
        abort();
}

static bool apply(const struct rule *r, const struct rule_value *in, struct abuf *out,
                  bool *is_null, bool array)
{
    struct anon_error err;
    struct rule_ctx ctx;

    memset(&ctx, 0, sizeof(ctx));
    ctx.key = key;
    ctx.key_len = sizeof(key);
    ctx.hmac = hkey;
    anon_error_clear(&err);
    if (array)
        return pgarray_apply_rule(r->ops, r->state, &ctx, in, out, is_null, &err);
    return r->ops->apply(r->state, &ctx, in, out, is_null, &err);
}

/* {"a": string|null, "k": [{"x": any}, ...]} and nothing else (JSON null at the root
 * when no path reached it). Duplicate keys are checked by the scanner-level oracle. */
static void check_closed(const char *s, size_t n)
{
    json_error_t jerr;
    json_t *j = json_loadb(s, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr), *v, *e;
    const char *k;
    size_t i;

    if (!j)
        return; /* numbers beyond jansson: the scanner checked validity */
    if (json_is_null(j)) {
        json_decref(j);
        return;
    }
    if (!json_is_object(j))
        abort();
    json_object_foreach(j, k, v)
    {
        if (strcmp(k, "a") == 0) {
            if (!json_is_string(v) && !json_is_null(v))
                abort();
        } else if (strcmp(k, "k") == 0) {
            if (!json_is_array(v))
                abort();
            json_array_foreach(v, i, e)
            {
                if (!json_is_object(e) || json_object_size(e) > 1 ||
                    (json_object_size(e) == 1 && !json_object_get(e, "x")))
                    abort();
            }
        } else {
            abort(); /* a key no path names */
        }
    }
    json_decref(j);
}

static void run(const struct rule *r, const struct rule_value *in, bool is_closed)
{
    struct abuf out, again;
    bool is_null = false, null2 = false, scanner_ok = jsontext_valid(in->data, in->len);
    json_error_t jerr;
    /* jansson stops at a NUL byte as if the text ended there: no oracle then */
    json_t *j = memchr(in->data, '\0', in->len)
                    ? NULL
                    : json_loadb(in->data, in->len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);

    abuf_init(&out, 1 << 22);
    abuf_init(&again, 1 << 22);
    if (apply(r, in, &out, &is_null, false)) {
        if (is_null != !scanner_ok || (j && is_null))
            abort();
        if (!is_null) {
            struct rule_value in2 = {out.data ? out.data : "", out.len, false};
            json_t *o = json_loadb(in2.data, in2.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
            if (!jsontext_valid(in2.data, in2.len) || (j && !o))
                abort();
            json_decref(o);
            if (is_closed)
                check_closed(in2.data, in2.len);
            if (!apply(r, &in2, &again, &null2, false) || null2)
                abort();
        }
    }
    json_decref(j);
    abuf_free(&again);
    abuf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rule_value in = {(const char *)data, size, false};
    struct abuf out;
    bool is_null = false;

    if (!hkey)
        setup();
    run(&many, &in, false);
    run(&keep_others, &in, false);
    run(&closed, &in, true);
    abuf_init(&out, 1 << 22);
    (void)apply(&many, &in, &out, &is_null, true);
    abuf_free(&out);
    return 0;
}
