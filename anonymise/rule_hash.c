/*
 * rule_hash.c: `hash` and `hash_int`, keyed pseudonyms (DESIGN.md "Keyed hashing").
 *
 *   mac      = HMAC-SHA256(key, namespace || 0x00 || value)
 *   hash     = lowercase hex of mac cut to `length` characters (default 32, 8..64), or
 *              with `format: base64url` the unpadded base64url of mac cut to `length`
 *              (8..43)
 *   hash_int = the first 8 bytes of mac, big-endian, top bit cleared, in decimal
 *
 * `value` is the PostgreSQL text output of the value; the same value hashes the same
 * in every table unless a rule sets its own namespace, so joins survive. NULL stays
 * NULL. Arrays ("text[]") are hashed as their whole text for now (the output type is
 * then "text[]"/"bigint[]" only in name: per-element hashing is a later rule option).
 */
#include "anonymise/rule.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anonymise/hmac.h"
#include "anonymise/rule_util.h"

enum hash_format { HASH_HEX = 0, HASH_BASE64URL };

struct hash_state {
    long length;
    enum hash_format format;
    char *ns;
    size_t nslen;
};

static const char *const hash_keys[] = {"length", "namespace", "format", NULL};
static const char *const hash_int_keys[] = {"namespace", NULL};

static bool parse_namespace(const struct yopts *opts, struct hash_state *st, struct anon_error *err)
{
    const char *ns = "";

    if (!yopts_get_string(opts, "namespace", &ns, NULL, err))
        return false;
    st->ns = strdup(ns);
    if (!st->ns) {
        yopts_error(opts, "namespace", err, "out of memory");
        return false;
    }
    st->nslen = strlen(ns);
    return true;
}

static bool parse_format(const struct yopts *opts, struct hash_state *st, struct anon_error *err)
{
    const char *f = "hex";

    if (!yopts_get_string(opts, "format", &f, NULL, err))
        return false;
    if (strcmp(f, "hex") == 0)
        st->format = HASH_HEX;
    else if (strcmp(f, "base64url") == 0)
        st->format = HASH_BASE64URL;
    else {
        yopts_error(opts, "format", err, "must be hex or base64url");
        return false;
    }
    return true;
}

static bool hash_parse(const struct yopts *opts, void **state, struct anon_error *err)
{
    struct hash_state *st = calloc(1, sizeof(*st));
    bool present = false, ok;

    *state = st;
    if (!st) {
        yopts_error(opts, NULL, err, "out of memory");
        return false;
    }
    st->length = 32;
    if (!yopts_only_keys(opts, hash_keys, err))
        return false;
    /* Check everything, so one run reports every problem of the rule. */
    ok = parse_namespace(opts, st, err);
    if (!parse_format(opts, st, err))
        return false;
    if (st->format == HASH_HEX)
        return yopts_get_int(opts, "length", 8, 64, &st->length, NULL, err) && ok;
    if (!yopts_get_int(opts, "length", 8, 43, &st->length, &present, err))
        return false;
    if (!present)
        st->length = 22; /* 132 bits, about as strong as the 32 hex default (128) */
    return ok;
}

static bool hash_int_parse(const struct yopts *opts, void **state, struct anon_error *err)
{
    struct hash_state *st = calloc(1, sizeof(*st));

    *state = st;
    if (!st) {
        yopts_error(opts, NULL, err, "out of memory");
        return false;
    }
    return yopts_only_keys(opts, hash_int_keys, err) && parse_namespace(opts, st, err);
}

static void hash_free(void *state)
{
    struct hash_state *st = state;

    if (!st)
        return;
    free(st->ns);
    free(st);
}

static void hash_describe(const void *state, struct abuf *out)
{
    const struct hash_state *st = state;

    abuf_printf(out, "length=%ld namespace=", st->length);
    rule_describe_string(out, st->ns);
    abuf_puts(out, st->format == HASH_HEX ? " format=hex" : " format=base64url");
}

static void hash_int_describe(const void *state, struct abuf *out)
{
    const struct hash_state *st = state;

    abuf_puts(out, "namespace=");
    rule_describe_string(out, st->ns);
}

static void typed_output(const char *base, const char *source_type, struct rule_output *out)
{
    snprintf(out->type, sizeof(out->type), "%s%s", base,
             rule_is_array_type(source_type) ? "[]" : "");
    out->may_be_null = false;
}

static void hash_output(const void *state, const char *source_type, struct rule_output *out)
{
    (void)state;
    typed_output("text", source_type, out);
}

static void hash_int_output(const void *state, const char *source_type, struct rule_output *out)
{
    (void)state;
    typed_output("bigint", source_type, out);
}

/* The MAC of one value: with the prepared key when the engine gave one. */
static bool mac_of(const struct hash_state *st, const struct rule_ctx *ctx,
                   const struct rule_value *in, unsigned char mac[HMAC_MAC_LEN],
                   struct anon_error *err)
{
    if (ctx->hmac) {
        hmac_key_value(ctx->hmac, st->ns, st->nslen, in->data, in->len, mac);
        return true;
    }
    if (!ctx->key || !hmac_key_ok(ctx->key_len, err)) {
        if (!ctx->key)
            anon_error_set(err, "hash: no hash key");
        return false;
    }
    hmac_value(ctx->key, ctx->key_len, st->ns, st->nslen, in->data, in->len, mac);
    return true;
}

static bool hash_apply(const void *state, const struct rule_ctx *ctx, const struct rule_value *in,
                       struct abuf *out, bool *out_null, struct anon_error *err)
{
    const struct hash_state *st = state;
    unsigned char mac[HMAC_MAC_LEN];
    char text[2 * HMAC_MAC_LEN + 1];

    *out_null = in->is_null;
    if (in->is_null)
        return true;
    if (!mac_of(st, ctx, in, mac, err))
        return false;
    if (st->format == HASH_HEX)
        hmac_hex(mac, (size_t)st->length, text);
    else
        hmac_base64url(mac, (size_t)st->length, text);
    if (!abuf_append(out, text, (size_t)st->length)) {
        anon_error_set(err, "hash: output buffer full");
        return false;
    }
    return true;
}

static bool hash_int_apply(const void *state, const struct rule_ctx *ctx,
                           const struct rule_value *in, struct abuf *out, bool *out_null,
                           struct anon_error *err)
{
    const struct hash_state *st = state;
    unsigned char mac[HMAC_MAC_LEN];
    char text[24];
    int n;

    *out_null = in->is_null;
    if (in->is_null)
        return true;
    if (!mac_of(st, ctx, in, mac, err))
        return false;
    n = snprintf(text, sizeof(text), "%lld", hmac_to_int63(mac));
    if (n < 0 || !abuf_append(out, text, (size_t)n)) {
        anon_error_set(err, "hash_int: output buffer full");
        return false;
    }
    return true;
}

const struct rule_ops rule_hash = {
    .name = "hash",
    .summary = "keyed HMAC-SHA256 pseudonym as hex text (length, namespace, format)",
    .passthrough = false,
    .hides_input = true,
    .parse = hash_parse,
    .free_state = hash_free,
    .describe = hash_describe,
    .output = hash_output,
    .apply = hash_apply,
};

const struct rule_ops rule_hash_int = {
    .name = "hash_int",
    .summary = "keyed HMAC-SHA256 pseudonym as a non-negative bigint (namespace)",
    .passthrough = false,
    .hides_input = true,
    .parse = hash_int_parse,
    .free_state = hash_free,
    .describe = hash_int_describe,
    .output = hash_int_output,
    .apply = hash_int_apply,
};
