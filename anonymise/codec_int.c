/*
 * codec_int.c: smallint, integer, bigint (see codec.h). Binary: a big-endian two's
 * complement integer of 2, 4 or 8 bytes. Text: int2out/int4out/int8out's plain decimal;
 * input as pg_strtoint: blanks around, an optional sign, decimal digits.
 */
#include "anonymise/codec.h"

#include <stdint.h>

static bool read_int(const char *bin, size_t len, size_t width, int64_t *v)
{
    if (len != width)
        return false;
    if (width == 2)
        *v = (int16_t)codec_get16(bin);
    else if (width == 4)
        *v = (int32_t)codec_get32(bin);
    else
        *v = (int64_t)codec_get64(bin);
    return true;
}

static bool put_decimal(int64_t v, struct abuf *out)
{
    char buf[24], *p = buf + sizeof(buf);
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    return abuf_append(out, p, (size_t)(buf + sizeof(buf) - p));
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Decimal text into [min, max]. */
static bool parse_int(const char *s, size_t len, int64_t min, int64_t max, int64_t *v)
{
    size_t i = 0, start;
    uint64_t u = 0, limit;
    bool neg = false;

    while (i < len && is_blank(s[i]))
        i++;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    limit = neg ? (uint64_t)0 - (uint64_t)min : (uint64_t)max;
    for (start = i; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (u > (limit - d) / 10)
            return false;
        u = u * 10 + d;
    }
    if (i == start)
        return false;
    while (i < len && is_blank(s[i]))
        i++;
    if (i != len)
        return false;
    *v = neg ? (int64_t)(0 - u) : (int64_t)u;
    return true;
}

#define INT_CODEC(bits, bytes, min, max)                                                           \
    static bool int##bits##_to_text(const char *bin, size_t len, struct abuf *out)                 \
    {                                                                                              \
        int64_t v;                                                                                 \
        return read_int(bin, len, bytes, &v) && put_decimal(v, out);                               \
    }                                                                                              \
    static bool int##bits##_from_text(const char *text, size_t len, struct abuf *out)              \
    {                                                                                              \
        int64_t v;                                                                                 \
        if (!parse_int(text, len, min, max, &v))                                                   \
            return false;                                                                          \
        return bytes == 2   ? codec_put16(out, (uint16_t)v)                                        \
               : bytes == 4 ? codec_put32(out, (uint32_t)v)                                        \
                            : codec_put64(out, (uint64_t)v);                                       \
    }

INT_CODEC(16, 2, INT16_MIN, INT16_MAX)
INT_CODEC(32, 4, INT32_MIN, INT32_MAX)
INT_CODEC(64, 8, INT64_MIN, INT64_MAX)

const struct codec codec_int2 = {
    .name = "smallint",
    .oid = 21,
    .array_oid = 1005,
    .to_text = int16_to_text,
    .from_text = int16_from_text,
};

const struct codec codec_int4 = {
    .name = "integer",
    .oid = 23,
    .array_oid = 1007,
    .to_text = int32_to_text,
    .from_text = int32_from_text,
};

const struct codec codec_int8 = {
    .name = "bigint",
    .oid = 20,
    .array_oid = 1016,
    .to_text = int64_to_text,
    .from_text = int64_from_text,
};
