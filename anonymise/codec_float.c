/*
 * codec_float.c: real and double precision (see codec.h). Binary: the IEEE 754 bits,
 * big-endian. Text: with extra_float_digits > 0 (pinned to 3) the server prints the
 * shortest decimal that reads back as the same value (its Ryu code): fixed notation for
 * decimal exponents -4 .. 14 (real: -4 .. 5), else "d.ddde+XX"; "NaN", "Infinity",
 * "-Infinity", "-0". Input is float8in/float4in: strtod/strtof plus the special words.
 *
 * The shortest digits are found with the C library, which rounds correctly: the
 * correctly rounded p-digit form is the closest p-digit decimal, and it lies inside
 * the value's rounding interval from some p on (binary search). Two details of the
 * server's Ryu (src/common/d2s.c, f2s.c) matter: the interval's bounds are excluded
 * (acceptBounds is off, so 1e23, which lies exactly halfway between two doubles and
 * reads back as the lower one, prints as 9.999999999999999e+22), which an exact
 * comparison with the two halfway points decides; and just above a power of two the
 * interval is lopsided, so a farther neighbour with one digit less can lie inside when
 * the closest does not: those are tried too.
 */
#include "anonymise/codec.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct digits {
    char d[24]; /* significant digits, no point */
    int n;
    int exp; /* decimal exponent of d[0] */
};

/* Parse "%.*e" output ("1.2345e+06") into digits. */
static void from_sci(const char *s, struct digits *g)
{
    g->n = 0;
    for (; *s && *s != 'e'; s++)
        if (*s >= '0' && *s <= '9')
            g->d[g->n++] = *s;
    g->exp = (int)strtol(s + 1, NULL, 10);
    while (g->n > 1 && g->d[g->n - 1] == '0')
        g->n--;
}

/* "d.ddd e<exp>" from digits, for strtod. */
static void to_sci(const struct digits *g, char *buf, size_t size)
{
    snprintf(buf, size, "%c.%.*se%d", g->d[0], g->n - 1, g->d + 1, g->exp);
}

/* x (> 0, finite) as M * 2^E with M an integer of at most 53 (real: 24) bits. */
static void split_binary(double x, bool single, uint64_t *m, int *e, bool *pow2_gap)
{
    int bias = single ? 127 : 1023, bits = single ? 23 : 52, ex;
    uint64_t frac;

    if (single) {
        float f = (float)x;
        uint32_t u;
        memcpy(&u, &f, sizeof(u));
        ex = (int)(u >> 23 & 0xff);
        frac = u & 0x7fffff;
    } else {
        uint64_t u;
        memcpy(&u, &x, sizeof(u));
        ex = (int)(u >> 52 & 0x7ff);
        frac = u & 0xfffffffffffffULL;
    }
    *m = ex == 0 ? frac : frac | (uint64_t)1 << bits;
    *e = (ex == 0 ? 1 : ex) - bias - bits;
    /* the gap below is half the gap above: the lower halfway point is closer */
    *pow2_gap = frac == 0 && ex > 1;
}

/* digits * 10^k == odd * 2^j exactly (odd is odd, digits < 10^18). */
static bool equals_dyadic(uint64_t digits, int k, uint64_t odd, int j)
{
    unsigned __int128 d = digits;
    int twos = 0;

    if (k >= 0) {
        if (k > 27)
            return false; /* 5^k would not fit an odd part of 56 bits */
        for (int i = 0; i < k; i++)
            d *= 5;
        twos = k;
    } else {
        for (int i = 0; i < -k; i++) {
            if (d % 5 != 0)
                return false;
            d /= 5;
        }
        twos = k;
    }
    while (d != 0 && (d & 1) == 0) {
        d >>= 1;
        twos++;
    }
    return d == odd && twos == j;
}

/* g lies strictly inside x's rounding interval: it reads back as x and is not one of
 * the two halfway points (which Ryu excludes). */
static bool inside(const struct digits *g, double x, bool single)
{
    char buf[64];
    uint64_t d = 0, m;
    int e, k = g->exp - (g->n - 1);
    bool pow2_gap;

    to_sci(g, buf, sizeof(buf));
    if (single ? strtof(buf, NULL) != (float)x : strtod(buf, NULL) != x)
        return false;
    for (int i = 0; i < g->n; i++)
        d = d * 10 + (uint64_t)(g->d[i] - '0');
    split_binary(x, single, &m, &e, &pow2_gap);
    if (equals_dyadic(d, k, 2 * m + 1, e - 1))
        return false;
    if (pow2_gap ? equals_dyadic(d, k, 4 * m - 1, e - 2) : equals_dyadic(d, k, 2 * m - 1, e - 1))
        return false;
    return true;
}

/* Correctly rounded p-digit form of x (> 0). */
static void rounded(double x, int p, struct digits *g, char *buf, size_t size)
{
    snprintf(buf, size, "%.*e", p - 1, x);
    from_sci(buf, g);
}

/* The p-digit neighbour of g one unit away (dir +1 or -1) in its last digit. */
static bool neighbour(const struct digits *g0, int p, int dir, struct digits *g)
{
    int i;

    *g = *g0;
    while (g->n < p)
        g->d[g->n++] = '0';
    for (i = p - 1; i >= 0; i--) {
        int v = g->d[i] - '0' + dir;
        if (v >= 0 && v <= 9) {
            g->d[i] = (char)('0' + v);
            break;
        }
        g->d[i] = dir > 0 ? '0' : '9';
    }
    if (i < 0) { /* carried out of the first digit */
        if (dir < 0)
            return false;
        memmove(g->d + 1, g->d, (size_t)p);
        g->d[0] = '1';
        g->exp++;
    } else if (g->d[0] == '0') {
        if (p == 1)
            return false;
        memmove(g->d, g->d + 1, (size_t)p - 1);
        g->d[p - 1] = '9';
        g->exp--;
    }
    while (g->n > 1 && g->d[g->n - 1] == '0')
        g->n--;
    return true;
}

/* The shortest digits of x (> 0, finite) that read back as x. */
static void shortest(double x, bool single, struct digits *out)
{
    char buf[64];
    int lo = 1, hi = single ? 9 : 17, mant_exp;
    struct digits g, nb;

    while (lo < hi) {
        int mid = (lo + hi) / 2;
        rounded(x, mid, &g, buf, sizeof(buf));
        if (inside(&g, x, single))
            hi = mid;
        else
            lo = mid + 1;
    }
    rounded(x, lo, out, buf, sizeof(buf));
    if (lo == 1 || frexp(x, &mant_exp) != 0.5)
        return;
    /* A power of two: a farther neighbour with one digit less may lie inside. */
    rounded(x, lo - 1, &g, buf, sizeof(buf));
    for (int dir = -1; dir <= 1; dir += 2)
        if (neighbour(&g, lo - 1, dir, &nb) && inside(&nb, x, single)) {
            *out = nb;
            return;
        }
}

static bool put_float(double x, bool single, struct abuf *out)
{
    struct digits g;
    char buf[64], *p = buf;
    int fixed_max = single ? 6 : 15;

    if (isnan(x))
        return abuf_puts(out, "NaN");
    if (isinf(x))
        return abuf_puts(out, x > 0 ? "Infinity" : "-Infinity");
    if (x == 0)
        return abuf_puts(out, signbit(x) ? "-0" : "0");
    if (x < 0)
        *p++ = '-';
    shortest(fabs(x), single, &g);
    if (g.exp >= -4 && g.exp < fixed_max) {
        if (g.exp < 0) {
            *p++ = '0';
            *p++ = '.';
            for (int i = g.exp + 1; i < 0; i++)
                *p++ = '0';
            memcpy(p, g.d, (size_t)g.n);
            p += g.n;
        } else {
            for (int i = 0; i <= g.exp || i < g.n; i++) {
                if (i == g.exp + 1)
                    *p++ = '.';
                *p++ = i < g.n ? g.d[i] : '0';
            }
        }
    } else {
        int e = g.exp < 0 ? -g.exp : g.exp;
        *p++ = g.d[0];
        if (g.n > 1) {
            *p++ = '.';
            memcpy(p, g.d + 1, (size_t)g.n - 1);
            p += g.n - 1;
        }
        p += snprintf(p, sizeof(buf) - (size_t)(p - buf), "e%c%02d", g.exp < 0 ? '-' : '+', e);
    }
    return abuf_append(out, buf, (size_t)(p - buf));
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* float8in / float4in: the special words first, then strtod/strtof; values that
 * overflow, or underflow to zero, are out of range. */
static bool parse_float(const char *text, size_t len, bool single, double *v)
{
    static const struct {
        const char *word;
        double value;
    } words[] = {{"NaN", NAN},
                 {"Infinity", INFINITY},
                 {"+Infinity", INFINITY},
                 {"-Infinity", -INFINITY},
                 {"inf", INFINITY},
                 {"+inf", INFINITY},
                 {"-inf", -INFINITY}};
    char buf[512], *end;
    size_t i = 0, n;

    while (i < len && is_blank(text[i]))
        i++;
    while (len > i && is_blank(text[len - 1]))
        len--;
    n = len - i;
    if (n == 0 || n >= sizeof(buf))
        return false;
    for (size_t k = 0; k < sizeof(words) / sizeof(words[0]); k++)
        if (strlen(words[k].word) == n && strncasecmp(text + i, words[k].word, n) == 0) {
            *v = words[k].value;
            return true;
        }
    memcpy(buf, text + i, n);
    buf[n] = '\0';
    errno = 0;
    if (single) {
        float f = strtof(buf, &end);
        if (errno == ERANGE && (f == 0 || isinf(f)))
            return false;
        *v = f;
    } else {
        *v = strtod(buf, &end);
        if (errno == ERANGE && (*v == 0 || isinf(*v)))
            return false;
    }
    return end == buf + n && end != buf;
}

static bool float8_to_text(const char *bin, size_t len, struct abuf *out)
{
    uint64_t bits;
    double x;

    if (len != 8)
        return false;
    bits = codec_get64(bin);
    memcpy(&x, &bits, sizeof(x));
    return put_float(x, false, out);
}

static bool float8_from_text(const char *text, size_t len, struct abuf *out)
{
    uint64_t bits;
    double x;

    if (!parse_float(text, len, false, &x))
        return false;
    memcpy(&bits, &x, sizeof(bits));
    return codec_put64(out, bits);
}

static bool float4_to_text(const char *bin, size_t len, struct abuf *out)
{
    uint32_t bits;
    float f;

    if (len != 4)
        return false;
    bits = codec_get32(bin);
    memcpy(&f, &bits, sizeof(f));
    return put_float(f, true, out);
}

static bool float4_from_text(const char *text, size_t len, struct abuf *out)
{
    uint32_t bits;
    double x;
    float f;

    if (!parse_float(text, len, true, &x))
        return false;
    f = (float)x; /* exact: x came from strtof or is a special value */
    memcpy(&bits, &f, sizeof(bits));
    return codec_put32(out, bits);
}

const struct codec codec_float4 = {
    .name = "real",
    .oid = 700,
    .array_oid = 1021,
    .to_text = float4_to_text,
    .from_text = float4_from_text,
};

const struct codec codec_float8 = {
    .name = "double precision",
    .oid = 701,
    .array_oid = 1022,
    .to_text = float8_to_text,
    .from_text = float8_from_text,
};
