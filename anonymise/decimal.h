/*
 * decimal.h: exact decimal arithmetic on PostgreSQL number text, for bucket and round.
 *
 * Values are never converted to double: "12345678901234567890.123" bucketed by 500 gives
 * "12345678901234567500" exactly. Accepted input is what PostgreSQL prints for smallint,
 * integer, bigint, numeric, real and double precision: an optional sign, digits with an
 * optional decimal point, an optional exponent ("1.5e+20"). "NaN" and "Infinity" are
 * reported as special; anything else is not a number.
 */
#ifndef DECIMAL_H
#define DECIMAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "anonymise/abuf.h"

/* A positive step m / 10^scale (500 -> {500, 0}; 0.25 -> {25, 2}; digits 2 -> {1, 2}). */
struct decimal_step {
    uint64_t m; /* 1 .. 10^17 */
    unsigned scale;
};
#define DECIMAL_STEP_MAX_M 100000000000000000ULL /* 10^17 */
#define DECIMAL_MAX_SCALE 1000

/* A parsed number: views into the text it came from (digits only, no sign or point). */
struct decimal {
    bool neg;
    const char *int_p, *frac_p;
    size_t int_n, frac_n;
    long exp;
};

enum decimal_status { DECIMAL_OK, DECIMAL_NOT_NUMBER, DECIMAL_SPECIAL };

/* Parse "12", "-0.50", "1.5e+20"; NaN / Infinity / -Infinity -> DECIMAL_SPECIAL. */
enum decimal_status decimal_parse(const char *s, size_t len, struct decimal *d);
/* Exact comparison: <0, 0, >0. */
int decimal_cmp(const struct decimal *a, const struct decimal *b);
bool decimal_is_integer(const struct decimal *d);
/* Canonical text: no "+", no leading zeros, no trailing fraction zeros, no exponent. */
bool decimal_format(const struct decimal *d, struct abuf *out);

/* A step from option text ("500", "0.25"): positive, at most 17 significant digits. */
bool decimal_step_parse(const char *text, struct decimal_step *step);
/* 10^-digits for `round: { digits: N }` (N may be negative, -17 .. DECIMAL_MAX_SCALE). */
bool decimal_step_digits(long digits, struct decimal_step *step);
/* Integer inputs give integer outputs: the step is an integer, or it divides 1 (0.25). */
bool decimal_step_keeps_integers(const struct decimal_step *step);

enum decimal_mode {
    DECIMAL_FLOOR,     /* largest multiple <= value (bucket lower bound) */
    DECIMAL_HALF_AWAY, /* nearest multiple, halves away from zero (PostgreSQL numeric round) */
};
/* Append value quantised to a multiple of step. Output has at most step->scale decimals,
 * none when they are all zero. false when out failed (too large). */
bool decimal_quantize(const struct decimal *v, const struct decimal_step *step,
                      enum decimal_mode mode, struct abuf *out);

/* The smallest and largest value of a `bits`-bit signed integer (16, 32, 64) as text. */
const char *decimal_int_min(int bits);
const char *decimal_int_max(int bits);
enum decimal_edge {
    DECIMAL_EDGE_MULTIPLE, /* the nearest multiple of the step inside the range */
    DECIMAL_EDGE_TYPE_MIN, /* below the range: the minimum itself (a bucket's lower bound) */
};
/*
 * Keep the number written in out from byte `start` inside a `bits`-bit signed integer:
 * a value above the maximum becomes the largest multiple of step <= the maximum; one
 * below the minimum the smallest multiple >= the minimum (EDGE_MULTIPLE) or the minimum
 * (EDGE_TYPE_MIN). 2147483650 by 10 in 32 bits -> 2147483640. false when out failed.
 */
bool decimal_int_clamp(struct abuf *out, size_t start, int bits, const struct decimal_step *step,
                       enum decimal_edge edge);

#endif
