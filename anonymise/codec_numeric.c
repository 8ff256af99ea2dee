/*
 * codec_numeric.c: numeric (see codec.h).
 *
 * Binary (numeric_send): int16 ndigits, int16 weight, uint16 sign, uint16 dscale, then
 * ndigits int16 base-10000 digits; the value is sum(digit[i] * 10000^(weight - i)),
 * dscale the number of decimal digits shown after the point. Sign 0x0000 positive,
 * 0x4000 negative, 0xC000 NaN, 0xD000 Infinity, 0xF000 -Infinity.
 * Text (numeric_out): "-", the integer part ("0" when there is none), then "." and
 * exactly dscale digits; "NaN", "Infinity", "-Infinity".
 * Input (numeric_in, what the target would build from the same text): the digits and
 * the point set the value, dscale is the number of digits written after the point less
 * the exponent (at least 0); the special words in any case. The value is then
 * stripped of leading and trailing zero base-10000 digits, and a zero is positive
 * with weight 0, as make_result does.
 *
 * Rules on numbers (bucket, round) work on the decimal digits (decimal.h), which is
 * what to_text gives them, without the server formatting or parsing anything.
 */
#include "anonymise/codec.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NBASE 10000
#define SIGN_POS 0x0000
#define SIGN_NEG 0x4000
#define SIGN_NAN 0xC000
#define SIGN_PINF 0xD000
#define SIGN_NINF 0xF000
#define MAX_DSCALE 0x3FFF /* NUMERIC_DSCALE_MASK */

/* A base-10000 digit as 4 decimal digits (pad) or without leading zeros (at least one). */
static char *put4(char *p, unsigned v, bool pad)
{
    unsigned hi = v / 100, lo = v % 100;

    if (pad || v >= 1000)
        *p++ = (char)('0' + hi / 10);
    if (pad || v >= 100)
        *p++ = (char)('0' + hi % 10);
    if (pad || v >= 10)
        *p++ = (char)('0' + lo / 10);
    *p++ = (char)('0' + lo % 10);
    return p;
}

static bool numeric_to_text(const char *bin, size_t len, struct abuf *out)
{
    int16_t ndigits, weight;
    uint16_t sign, dscale;
    const char *digits;
    size_t need, start = out->len;
    char *p;
    bool nonzero = false;

    if (len < 8)
        return false;
    ndigits = (int16_t)codec_get16(bin);
    weight = (int16_t)codec_get16(bin + 2);
    sign = codec_get16(bin + 4);
    dscale = codec_get16(bin + 6);
    if (ndigits < 0 || len != 8 + 2 * (size_t)ndigits || dscale > MAX_DSCALE)
        return false;
    switch (sign) {
    case SIGN_NAN:
        return abuf_puts(out, "NaN");
    case SIGN_PINF:
        return abuf_puts(out, "Infinity");
    case SIGN_NINF:
        return abuf_puts(out, "-Infinity");
    case SIGN_POS:
    case SIGN_NEG:
        break;
    default:
        return false;
    }
    digits = bin + 8;
    for (int i = 0; i < ndigits; i++)
        if (codec_get16(digits + 2 * i) >= NBASE)
            return false;
    /* The server stores numerics stripped of zero digits at both ends; strip a value
     * that is not, as numeric_recv would. */
    while (ndigits > 0 && codec_get16(digits) == 0) {
        digits += 2;
        ndigits--;
        weight--;
    }
    while (ndigits > 0 && codec_get16(digits + 2 * (ndigits - 1)) == 0)
        ndigits--;
    if (ndigits == 0)
        weight = 0;
    need = 2 + 4 * (size_t)(weight >= 0 ? weight + 1 : 1) + 1 + (size_t)dscale + 4;
    if (out->cap - out->len <= need && !abuf_grow(out, need))
        return false;
    p = out->data + out->len;
    if (sign == SIGN_NEG)
        *p++ = '-';
    if (weight < 0) {
        *p++ = '0';
    } else {
        for (int d = 0; d <= weight; d++) {
            unsigned v = d < ndigits ? codec_get16(digits + 2 * d) : 0;
            nonzero = nonzero || v != 0;
            p = put4(p, v, d > 0);
        }
    }
    if (dscale > 0) {
        char *frac;
        *p++ = '.';
        frac = p;
        /* base-10000 digits after the point, from position weight + 1 */
        for (int d = weight + 1; p - frac < dscale; d++) {
            unsigned v = d >= 0 && d < ndigits ? codec_get16(digits + 2 * d) : 0;
            p = put4(p, v, true);
        }
        p = frac + dscale;
        for (char *q = frac; q < p && !nonzero; q++)
            nonzero = *q != '0';
    }
    out->len = (size_t)(p - out->data);
    if (sign == SIGN_NEG && !nonzero) { /* digits beyond dscale are dropped: a zero */
        memmove(out->data + start, out->data + start + 1, out->len - start - 1);
        out->len--;
    }
    return true;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static bool put_special(const char *s, size_t n, struct abuf *out)
{
    static const struct {
        const char *word;
        uint16_t sign;
    } words[] = {{"NaN", SIGN_NAN},        {"Infinity", SIGN_PINF}, {"+Infinity", SIGN_PINF},
                 {"-Infinity", SIGN_NINF}, {"inf", SIGN_PINF},      {"+inf", SIGN_PINF},
                 {"-inf", SIGN_NINF}};

    if (n < 3 || (s[0] >= '0' && s[0] <= '9') || s[0] == '.' ||
        ((s[0] == '-' || s[0] == '+') && s[1] != 'i' && s[1] != 'I'))
        return false; /* a plain number: most values */
    /* numeric_send's dscale of a special value is what its header bits read as: 32 for
     * the infinities, 0 for NaN (numeric_recv ignores it; the same bytes keep tests
     * exact) */
    for (size_t k = 0; k < sizeof(words) / sizeof(words[0]); k++)
        if (strlen(words[k].word) == n && strncasecmp(s, words[k].word, n) == 0)
            return codec_put16(out, 0) && codec_put16(out, 0) && codec_put16(out, words[k].sign) &&
                   codec_put16(out, words[k].sign == SIGN_NAN ? 0 : 32);
    return false;
}

/* The digits of a number as written: the integer digits then the fraction digits. */
struct written {
    const char *int_p, *frac_p;
    long int_n, frac_n;
};

/* Parse "[sign]digits[.digits][e[sign]digits]" (blanks already trimmed). */
static bool parse_written(const char *s, size_t len, bool *neg, struct written *w, long *exp)
{
    size_t i = 0;

    *neg = false;
    *exp = 0;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        *neg = s[i++] == '-';
    w->int_p = s + i;
    while (i < len && s[i] >= '0' && s[i] <= '9')
        i++;
    w->int_n = (long)(s + i - w->int_p);
    w->frac_p = s + i;
    w->frac_n = 0;
    if (i < len && s[i] == '.') {
        w->frac_p = s + ++i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        w->frac_n = (long)(s + i - w->frac_p);
    }
    if (w->int_n + w->frac_n == 0)
        return false;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        bool eneg = false;
        size_t e0;
        if (++i < len && (s[i] == '+' || s[i] == '-'))
            eneg = s[i++] == '-';
        for (e0 = i; i < len && s[i] >= '0' && s[i] <= '9'; i++)
            if ((*exp = *exp * 10 + (s[i] - '0')) > 1000) /* numeric_in's exponent limit */
                return false;
        if (i == e0)
            return false;
        if (eneg)
            *exp = -*exp;
    }
    return i == len;
}

/* floor(pos / 4): the base-10000 group of decimal position pos (10^pos). */
static long group_of(long pos)
{
    return pos >= 0 ? pos / 4 : -((-pos + 3) / 4);
}

static bool numeric_from_text(const char *text, size_t len, struct abuf *out)
{
    struct written w;
    long exp, n, first, last, top, dscale, w_hi, w_lo;
    char small[128], *d;
    size_t i = 0;
    bool neg, ok;

    while (i < len && is_blank(text[i]))
        i++;
    while (len > i && is_blank(text[len - 1]))
        len--;
    if (put_special(text + i, len - i, out))
        return true;
    if (!parse_written(text + i, len - i, &neg, &w, &exp))
        return false;
    n = w.int_n + w.frac_n;
    dscale = w.frac_n - exp > 0 ? w.frac_n - exp : 0;
    if (dscale > MAX_DSCALE)
        return false;
    /* the digits in one run, without the point (on the stack for the usual sizes) */
    d = (size_t)n <= sizeof(small) ? small : malloc((size_t)n);
    if (!d)
        return false;
    memcpy(d, w.int_p, (size_t)w.int_n);
    memcpy(d + w.int_n, w.frac_p, (size_t)w.frac_n);
    for (first = 0; first < n && d[first] == '0'; first++)
        ;
    if (first == n) { /* zero: positive, weight 0, no digits (make_result) */
        ok = codec_put16(out, 0) && codec_put16(out, 0) && codec_put16(out, SIGN_POS) &&
             codec_put16(out, (uint16_t)dscale);
        goto done;
    }
    for (last = n - 1; d[last] == '0'; last--)
        ;
    top = w.int_n - 1 + exp; /* the decimal position (10^top) of d[0] */
    w_hi = group_of(top - first);
    w_lo = group_of(top - last);
    ok = w_hi <= INT16_MAX && w_lo >= INT16_MIN && w_hi - w_lo + 1 <= INT16_MAX;
    ok = ok && codec_put16(out, (uint16_t)(w_hi - w_lo + 1)) &&
         codec_put16(out, (uint16_t)(int16_t)w_hi) && codec_put16(out, neg ? SIGN_NEG : SIGN_POS) &&
         codec_put16(out, (uint16_t)dscale);
    for (long g = w_hi; ok && g >= w_lo; g--) {
        unsigned v = 0;
        for (long k = top - (4 * g + 3); k <= top - 4 * g; k++) /* 10^(4g+3) .. 10^(4g) */
            v = v * 10 + (k >= first && k <= last ? (unsigned)(d[k] - '0') : 0);
        ok = codec_put16(out, (uint16_t)v);
    }
done:
    if (d != small)
        free(d);
    return ok && !abuf_failed(out);
}

const struct codec codec_numeric = {
    .name = "numeric",
    .oid = 1700,
    .array_oid = 1231,
    .to_text = numeric_to_text,
    .from_text = numeric_from_text,
};
