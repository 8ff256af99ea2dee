/*
 * decimal.c: exact decimal quantisation (see decimal.h).
 *
 * A number is a digit string D (integer and fraction digits, concatenated) with a
 * decimal exponent. Quantising |v| to a step m / 10^k works on the integer
 * N = floor(|v| * 10^k), kept as a digit string: r = N mod m by long division (m is at
 * most 10^17, so r * 10 + 9 fits in 64 bits), then N - r, plus m when rounding away from
 * zero. The digits dropped below 10^-k only matter as "any non-zero" and "first digit".
 */
#include "anonymise/decimal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DECIMAL_MAX_EXP 1000L
#define DECIMAL_MAX_DIGITS 2000000L /* bound on any working digit string */
#define HEADROOM 20                 /* room for a carry of up to 18 digits in front */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static size_t span_digits(const char *s, size_t i, size_t len)
{
    size_t j = i;

    while (j < len && is_digit(s[j]))
        j++;
    return j - i;
}

static bool is_special(const char *s, size_t len)
{
    static const char *const words[] = {"nan", "infinity", "+infinity", "-infinity", NULL};

    /* every value goes through here: most are plain numbers, which start otherwise */
    if (len < 3 || (s[0] >= '0' && s[0] <= '9') || s[0] == '.' ||
        ((s[0] == '-' || s[0] == '+') && len > 1 && s[1] != 'i' && s[1] != 'I'))
        return false;
    for (size_t i = 0; words[i]; i++)
        if (strlen(words[i]) == len && strncasecmp(s, words[i], len) == 0)
            return true;
    return false;
}

static bool parse_exp(const char *s, size_t len, size_t *i, long *exp)
{
    bool neg = false;
    size_t n;
    long e = 0;

    if (*i >= len || (s[*i] != 'e' && s[*i] != 'E'))
        return true;
    (*i)++;
    if (*i < len && (s[*i] == '+' || s[*i] == '-'))
        neg = s[(*i)++] == '-';
    n = span_digits(s, *i, len);
    if (n == 0)
        return false;
    for (size_t j = 0; j < n; j++) {
        e = e * 10 + (s[*i + j] - '0');
        if (e > DECIMAL_MAX_EXP)
            return false;
    }
    *i += n;
    *exp = neg ? -e : e;
    return true;
}

enum decimal_status decimal_parse(const char *s, size_t len, struct decimal *d)
{
    size_t i = 0;

    while (len > 0 && s[len - 1] == ' ')
        len--;
    while (i < len && s[i] == ' ')
        i++;
    s += i;
    len -= i;
    if (is_special(s, len))
        return DECIMAL_SPECIAL;
    memset(d, 0, sizeof(*d));
    i = 0;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        d->neg = s[i++] == '-';
    d->int_p = s + i;
    d->int_n = span_digits(s, i, len);
    i += d->int_n;
    d->frac_p = s + i;
    if (i < len && s[i] == '.') {
        i++;
        d->frac_p = s + i;
        d->frac_n = span_digits(s, i, len);
        i += d->frac_n;
    }
    if (d->int_n + d->frac_n == 0 || !parse_exp(s, len, &i, &d->exp) || i != len)
        return DECIMAL_NOT_NUMBER;
    if (d->int_n + d->frac_n > (size_t)DECIMAL_MAX_DIGITS / 2)
        return DECIMAL_NOT_NUMBER;
    while (d->int_n > 0 && d->int_p[0] == '0') {
        d->int_p++;
        d->int_n--;
    }
    while (d->frac_n > 0 && d->frac_p[d->frac_n - 1] == '0')
        d->frac_n--;
    return DECIMAL_OK;
}

/* i-th digit of D (int digits then fraction digits); '0' outside. */
static char at(const struct decimal *d, long i)
{
    if (i < 0)
        return '0';
    if ((size_t)i < d->int_n)
        return d->int_p[i];
    if ((size_t)i < d->int_n + d->frac_n)
        return d->frac_p[(size_t)i - d->int_n];
    return '0';
}

/* Significant digits D[*start .. *end); false when the value is zero. */
static bool sig_range(const struct decimal *d, long *start, long *end)
{
    long n = (long)(d->int_n + d->frac_n), s = 0, e = n;

    while (s < n && at(d, s) == '0')
        s++;
    if (s == n)
        return false;
    while (e > s && at(d, e - 1) == '0')
        e--;
    *start = s;
    *end = e;
    return true;
}

int decimal_cmp(const struct decimal *a, const struct decimal *b)
{
    long as = 0, ae = 0, bs = 0, be = 0, apos, bpos, n;
    bool az = !sig_range(a, &as, &ae), bz = !sig_range(b, &bs, &be);
    int sign;

    if (az || bz) {
        if (az && bz)
            return 0;
        if (az)
            return b->neg ? 1 : -1;
        return a->neg ? -1 : 1;
    }
    if (a->neg != b->neg)
        return a->neg ? -1 : 1;
    sign = a->neg ? -1 : 1;
    apos = (long)a->int_n - as + a->exp;
    bpos = (long)b->int_n - bs + b->exp;
    if (apos != bpos)
        return apos > bpos ? sign : -sign;
    n = ae - as > be - bs ? ae - as : be - bs;
    for (long i = 0; i < n; i++) {
        char x = i < ae - as ? at(a, as + i) : '0', y = i < be - bs ? at(b, bs + i) : '0';
        if (x != y)
            return x > y ? sign : -sign;
    }
    return 0;
}

bool decimal_is_integer(const struct decimal *d)
{
    long s, e;

    if (!sig_range(d, &s, &e))
        return true;
    /* the last significant digit has place value 10^(int_n - e + exp) */
    return (long)d->int_n - e + d->exp >= 0;
}

bool decimal_format(const struct decimal *d, struct abuf *out)
{
    long s, e, pos;

    if (!sig_range(d, &s, &e))
        return abuf_putc(out, '0');
    pos = (long)d->int_n - s + d->exp; /* digits before the point */
    if (d->neg)
        abuf_putc(out, '-');
    if (pos <= 0) {
        abuf_puts(out, "0.");
        for (long i = pos; i < 0; i++)
            abuf_putc(out, '0');
    }
    for (long i = s; i < e; i++) {
        if (pos > 0 && i - s == pos)
            abuf_putc(out, '.');
        abuf_putc(out, at(d, i));
    }
    for (long i = e - s; i < pos; i++)
        abuf_putc(out, '0');
    return !abuf_failed(out);
}

bool decimal_step_parse(const char *text, struct decimal_step *step)
{
    size_t len = strlen(text), i = 0, k = 0, fend;
    uint64_t m = 0;
    bool point = false;

    if (len == 0 || len > 64)
        return false;
    for (fend = len; fend > 0 && strchr(text, '.') && text[fend - 1] == '0'; fend--)
        ;
    for (; i < fend; i++) {
        if (text[i] == '.' && !point) {
            point = true;
            continue;
        }
        if (!is_digit(text[i]))
            return false;
        if (point)
            k++;
        m = m * 10 + (uint64_t)(text[i] - '0');
        if (m > DECIMAL_STEP_MAX_M)
            return false;
    }
    for (; i < len; i++)
        if (!is_digit(text[i]) && !(text[i] == '.' && !point))
            return false;
    if (m == 0)
        return false;
    step->m = m;
    step->scale = (unsigned)k;
    return true;
}

bool decimal_step_digits(long digits, struct decimal_step *step)
{
    if (digits > DECIMAL_MAX_SCALE || digits < -17)
        return false;
    step->m = 1;
    step->scale = 0;
    if (digits >= 0)
        step->scale = (unsigned)digits;
    else
        for (long i = 0; i < -digits; i++)
            step->m *= 10;
    return true;
}

bool decimal_step_keeps_integers(const struct decimal_step *step)
{
    uint64_t p = 1 % step->m;

    if (step->scale == 0)
        return true;
    for (unsigned i = 0; i < step->scale && p != 0; i++)
        p = p * 10 % step->m;
    return p == 0;
}

/* x[0..n) -= v (x >= v). */
static void sub_small(char *x, size_t n, uint64_t v)
{
    unsigned borrow = 0;

    for (size_t i = n; i-- > 0 && (v || borrow);) {
        int t = x[i] - '0' - (int)(v % 10) - (int)borrow;
        v /= 10;
        borrow = t < 0;
        x[i] = (char)('0' + (t < 0 ? t + 10 : t));
    }
}

/* x[0..*n) += v, growing to the left into the headroom before x: returns the new start. */
static char *add_small(char *x, size_t *n, uint64_t v)
{
    uint64_t carry = v;
    size_t i = *n;

    while (carry) {
        int t;
        if (i == 0) {
            x--;
            *x = '0';
            (*n)++;
        } else {
            i--;
        }
        t = x[i] - '0' + (int)(carry % 10);
        carry /= 10;
        if (t >= 10) {
            t -= 10;
            carry++;
        }
        x[i] = (char)('0' + t);
    }
    return x;
}

static bool emit(bool neg, const char *x, size_t n, unsigned scale, struct abuf *out)
{
    size_t z = 0, fz;

    while (z < n && x[z] == '0')
        z++;
    x += z;
    n -= z;
    if (n == 0)
        return abuf_putc(out, '0');
    if (neg)
        abuf_putc(out, '-');
    for (fz = 0; fz < scale && fz < n && x[n - 1 - fz] == '0'; fz++)
        ;
    if (scale == 0 || fz == scale) { /* integer result */
        if (n > scale)
            abuf_append(out, x, n - scale);
        else
            abuf_putc(out, '0');
        return !abuf_failed(out);
    }
    if (n > scale) {
        abuf_append(out, x, n - scale);
    } else {
        abuf_putc(out, '0');
    }
    abuf_putc(out, '.');
    for (size_t i = n; i < scale; i++)
        abuf_putc(out, '0');
    abuf_append(out, n > scale ? x + (n - scale) : x, n > scale ? scale : n);
    return !abuf_failed(out);
}

bool decimal_quantize(const struct decimal *v, const struct decimal_step *step,
                      enum decimal_mode mode, struct abuf *out)
{
    long s = 0, e = 0, units, nlen;
    uint64_t r = 0;
    bool rest_nonzero, up;
    char first_rest, *buf, *x, small[256];
    size_t n;

    if (!sig_range(v, &s, &e))
        return abuf_putc(out, '0');
    /* index in D of the digit that lands on 10^0 in N = |v| * 10^scale */
    units = (long)v->int_n - 1 + v->exp + (long)step->scale;
    nlen = units + 1 - s;
    if (nlen < 0)
        nlen = 0;
    if (nlen > DECIMAL_MAX_DIGITS) {
        out->failed = true;
        return false;
    }
    /* most values are short: their digits on the stack, no allocation per value */
    buf = (size_t)nlen + HEADROOM <= sizeof(small) ? small : malloc((size_t)nlen + HEADROOM);
    if (!buf) {
        out->failed = true;
        return false;
    }
    x = buf + HEADROOM;
    for (long i = 0; i < nlen; i++) {
        x[i] = at(v, s + i);
        r = (r * 10 + (uint64_t)(x[i] - '0')) % step->m;
    }
    n = (size_t)nlen;
    rest_nonzero = e > units + 1;
    first_rest = at(v, units + 1 < s ? -1 : units + 1);
    if (mode == DECIMAL_FLOOR)
        up = v->neg && (r != 0 || rest_nonzero);
    else if (2 * r >= step->m)
        up = true;
    else if (2 * r + 1 == step->m)
        up = first_rest >= '5';
    else
        up = false;
    sub_small(x, n, r);
    if (up)
        x = add_small(x, &n, step->m);
    emit(v->neg, x, n, step->scale, out);
    if (buf != small)
        free(buf);
    return !abuf_failed(out);
}

const char *decimal_int_min(int bits)
{
    return bits == 16 ? "-32768" : bits == 32 ? "-2147483648" : "-9223372036854775808";
}

const char *decimal_int_max(int bits)
{
    return bits == 16 ? "32767" : bits == 32 ? "2147483647" : "9223372036854775807";
}

bool decimal_int_clamp(struct abuf *out, size_t start, int bits, const struct decimal_step *step,
                       enum decimal_edge edge)
{
    const char *lo_text = decimal_int_min(bits), *hi_text = decimal_int_max(bits);
    struct decimal v, lo, hi, magnitude;
    size_t mark;

    if (abuf_failed(out) || out->len < start ||
        decimal_parse(out->data + start, out->len - start, &v) != DECIMAL_OK ||
        decimal_parse(lo_text, strlen(lo_text), &lo) != DECIMAL_OK ||
        decimal_parse(hi_text, strlen(hi_text), &hi) != DECIMAL_OK)
        return !abuf_failed(out);
    if (decimal_cmp(&v, &hi) > 0) {
        out->len = start;
        return decimal_quantize(&hi, step, DECIMAL_FLOOR, out);
    }
    if (decimal_cmp(&v, &lo) >= 0)
        return true;
    out->len = start;
    if (edge == DECIMAL_EDGE_TYPE_MIN)
        return abuf_puts(out, lo_text);
    /* the smallest multiple >= min is minus the largest multiple <= |min| */
    (void)decimal_parse(lo_text + 1, strlen(lo_text) - 1, &magnitude);
    abuf_putc(out, '-');
    mark = out->len;
    if (!decimal_quantize(&magnitude, step, DECIMAL_FLOOR, out))
        return false;
    if (out->len == mark + 1 && out->data[mark] == '0') { /* "-0" */
        out->data[mark - 1] = '0';
        out->len = mark;
    }
    return true;
}
