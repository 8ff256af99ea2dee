/*
 * rule_truncate.c: `truncate: { length: N }` keeps the first N characters (not bytes),
 * and publishes "" for a value of fewer than N: kept, it would be published whole, and
 * its being shorter than every other output would single it out (a surname "Li" under
 * length: 3, while "Lin" stands for Lin, Lindqvist, Linton...). As a mask never
 * reveals a whole value, a truncate never does. A value of exactly N is published: it
 * looks like the prefix of every longer value. What counts is what the value says:
 * trailing spaces do not (a character(n) column pads "Li" to "Li          ", which was
 * published as "Li", whole), nor does an accent written as a combining mark after its
 * letter (NFD "Li" U+0301 is two letters; the mark stays with its letter in a prefix);
 * `truncate: { outward_code: true }` keeps the outward code of a UK postcode
 * ("SW1A 1AA" -> "SW1A"), whatever the spacing or case, uppercased. A value that is not
 * a UK postcode becomes NULL: it is never passed through, since it could be anything.
 */
#include "anonymise/rules_extra.h"

#include <stdio.h>
#include <stdlib.h>

#include "anonymise/scrub_detectors.h"
#include "anonymise/sqltype.h"
#include "anonymise/utf8.h"

struct truncate_state {
    size_t length; /* characters; used when !outward_code */
    bool outward_code;
};

static bool truncate_parse(const struct yopts *opts, void **state, struct anon_error *err)
{
    static const char *const keys[] = {"length", "outward_code", NULL};
    struct truncate_state *s;
    long length = 0;
    bool has_length = false, outward = false, has_outward = false;

    if (!yopts_only_keys(opts, keys, err) ||
        !yopts_get_int(opts, "length", 0, 10000000L, &length, &has_length, err) ||
        !yopts_get_bool(opts, "outward_code", &outward, &has_outward, err))
        return false;
    if (has_length && outward) {
        yopts_error(opts, "outward_code", err, "cannot be combined with length");
        return false;
    }
    if (!has_length && !outward) {
        yopts_error(opts, NULL, err, "needs length: N or outward_code: true");
        return false;
    }
    s = calloc(1, sizeof(*s));
    if (!s) {
        yopts_error(opts, NULL, err, "out of memory");
        return false;
    }
    s->length = (size_t)length;
    s->outward_code = outward;
    *state = s;
    return true;
}

static void truncate_free(void *state)
{
    free(state);
}

static void truncate_describe(const void *state, struct abuf *out)
{
    const struct truncate_state *s = state;

    if (s->outward_code)
        abuf_puts(out, "outward_code=true");
    else
        abuf_printf(out, "length=%zu", s->length);
}

static void truncate_output(const void *state, const char *source_type, struct rule_output *out)
{
    const struct truncate_state *s = state;

    if (sqltype_is_text(source_type))
        snprintf(out->type, sizeof(out->type), "%s", source_type);
    else
        snprintf(out->type, sizeof(out->type), "text");
    out->may_be_null = s->outward_code;
    if (s->outward_code && source_type && !sqltype_is_text(source_type))
        snprintf(out->problem, sizeof(out->problem),
                 "truncate: { outward_code: true } needs a text column (a postcode), not %s",
                 source_type);
}

/* A combining mark (U+0300..U+036F, U+1AB0..U+1AFF, U+1DC0..U+1DFF, U+20D0..U+20FF,
 * U+FE20..U+FE2F): part of the letter before it. */
static bool combining_mark(const unsigned char *p, size_t cl)
{
    unsigned cp;

    if (cl == 2)
        cp = (unsigned)(p[0] & 0x1f) << 6 | (p[1] & 0x3f);
    else if (cl == 3)
        cp = (unsigned)(p[0] & 0x0f) << 12 | (unsigned)(p[1] & 0x3f) << 6 | (p[2] & 0x3f);
    else
        return false;
    return (cp >= 0x300 && cp <= 0x36F) || (cp >= 0x1AB0 && cp <= 0x1AFF) ||
           (cp >= 0x1DC0 && cp <= 0x1DFF) || (cp >= 0x20D0 && cp <= 0x20FF) ||
           (cp >= 0xFE20 && cp <= 0xFE2F);
}

/* The bytes of the first n letters of s, with the marks that follow the n-th; *letters:
 * how many s holds without its trailing spaces. A letter is a character that is not a
 * combining mark after another one. */
static size_t letters_prefix(const char *s, size_t len, size_t n, size_t *letters)
{
    size_t end = len, i = 0, counted = 0, cut = 0;

    while (end > 0 && s[end - 1] == ' ')
        end--;
    while (i < end) {
        size_t cl = utf8_char_len(s + i, end - i);
        if (counted == 0 || !combining_mark((const unsigned char *)s + i, cl))
            counted++;
        i += cl;
        if (counted <= n)
            cut = i;
    }
    *letters = counted;
    return cut;
}

static bool truncate_apply(const void *state, const struct rule_ctx *ctx,
                           const struct rule_value *in, struct abuf *out, bool *out_null,
                           struct anon_error *err)
{
    const struct truncate_state *s = state;

    (void)ctx;
    *out_null = in->is_null;
    if (in->is_null)
        return true;
    if (s->outward_code) {
        char outward[5];
        if (!scrub_postcode_outward(in->data, in->len, outward)) {
            *out_null = true;
            return true;
        }
        abuf_puts(out, outward);
    } else {
        size_t letters, cut = letters_prefix(in->data, in->len, s->length, &letters);
        if (letters >= s->length)
            abuf_append(out, in->data, cut);
    } /* else "": shorter than the prefix, it would be published whole */
    if (abuf_failed(out)) {
        anon_error_set(err, "truncate: output too large");
        return false;
    }
    return true;
}

const struct rule_ops rule_truncate = {
    .name = "truncate",
    .summary = "keep the first N characters, or the outward code of a UK postcode",
    .passthrough = false,
    .parse = truncate_parse,
    .free_state = truncate_free,
    .describe = truncate_describe,
    .output = truncate_output,
    .apply = truncate_apply,
};
