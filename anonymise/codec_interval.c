/*
 * codec_interval.c: interval (see codec.h).
 *
 * Binary: int64 microseconds, int32 days, int32 months.
 * Text (IntervalStyle=postgres): the months as "N year(s)" and "N mon(s)", then
 * "N day(s)", each only when not zero and signed on its own ("+" only after a negative
 * part), then "[+-]HH:MM:SS[.ffffff]" when the time is not zero or nothing came
 * before; hours can exceed 24. "-1 years -2 mons +3 days -04:05:06.5", "00:00:00".
 * Input reads exactly that form back.
 */
#include "anonymise/codec.h"

#include <stdio.h>
#include <string.h>

#define USEC_PER_SEC INT64_C(1000000)
#define USEC_PER_MIN (60 * USEC_PER_SEC)
#define USEC_PER_HOUR (60 * USEC_PER_MIN)

static int64_t abs64(int64_t v)
{
    return v < 0 ? -v : v;
}

/* One "N unit(s)" part; the sign rules of the server's AddPostgresIntPart. */
static void put_part(struct abuf *out, int value, const char *unit, bool *is_zero, bool *is_before)
{
    if (value == 0)
        return;
    abuf_printf(out, "%s%s%d %s%s", *is_zero ? "" : " ", *is_before && value > 0 ? "+" : "", value,
                unit, value != 1 ? "s" : "");
    *is_before = value < 0;
    *is_zero = false;
}

static bool interval_to_text(const char *bin, size_t len, struct abuf *out)
{
    int64_t time, hour, min, sec, frac;
    int32_t days, months;
    bool is_zero = true, is_before = false;

    if (len != 16)
        return false;
    time = (int64_t)codec_get64(bin);
    days = (int32_t)codec_get32(bin + 8);
    months = (int32_t)codec_get32(bin + 12);
    put_part(out, months / 12, "year", &is_zero, &is_before);
    put_part(out, months % 12, "mon", &is_zero, &is_before);
    put_part(out, days, "day", &is_zero, &is_before);
    if (time == INT64_MIN)
        return false; /* its hours cannot be negated: the server never sends it */
    hour = time / USEC_PER_HOUR;
    time -= hour * USEC_PER_HOUR;
    min = time / USEC_PER_MIN;
    time -= min * USEC_PER_MIN;
    sec = time / USEC_PER_SEC;
    frac = time - sec * USEC_PER_SEC;
    if (is_zero || hour != 0 || min != 0 || sec != 0 || frac != 0) {
        bool minus = hour < 0 || min < 0 || sec < 0 || frac < 0;
        abuf_printf(out, "%s%s%02lld:%02lld:%02lld", is_zero ? "" : " ",
                    minus ? "-" : (is_before ? "+" : ""), (long long)abs64(hour),
                    (long long)abs64(min), (long long)abs64(sec));
        if (frac != 0) {
            int width = 6;
            frac = abs64(frac);
            while (frac % 10 == 0) {
                frac /= 10;
                width--;
            }
            abuf_printf(out, ".%0*lld", width, (long long)frac);
        }
    }
    return !abuf_failed(out);
}

/* Digits at s[*i] into *v (at most max). */
static bool read_uint(const char *s, size_t len, size_t *i, uint64_t max, uint64_t *v)
{
    size_t start = *i;

    *v = 0;
    for (; *i < len && s[*i] >= '0' && s[*i] <= '9'; (*i)++) {
        unsigned d = (unsigned)(s[*i] - '0');
        if (*v > (max - d) / 10)
            return false;
        *v = *v * 10 + d;
    }
    return *i > start;
}

static bool word_at(const char *s, size_t len, size_t *i, const char *w)
{
    size_t n = strlen(w);

    if (len - *i < n || memcmp(s + *i, w, n) != 0)
        return false;
    *i += n;
    return true;
}

/* "[+-]HH:MM:SS[.f]" into microseconds. */
static bool read_time(const char *s, size_t len, size_t *i, int64_t *time)
{
    uint64_t h, m, sec, f = 0;
    bool neg = false;
    size_t f0;

    if (*i < len && (s[*i] == '-' || s[*i] == '+'))
        neg = s[(*i)++] == '-';
    if (!read_uint(s, len, i, (uint64_t)(INT64_MAX / USEC_PER_HOUR), &h) ||
        !word_at(s, len, i, ":") || !read_uint(s, len, i, 59, &m) || !word_at(s, len, i, ":") ||
        !read_uint(s, len, i, 59, &sec))
        return false;
    if (*i < len && s[*i] == '.') {
        (*i)++;
        f0 = *i;
        if (!read_uint(s, len, i, 999999, &f) || *i - f0 > 6)
            return false;
        for (size_t k = *i - f0; k < 6; k++)
            f *= 10;
    }
    if (h * (uint64_t)USEC_PER_HOUR > (uint64_t)INT64_MAX - (m * 60 + sec) * 1000000 - f)
        return false;
    *time = (int64_t)(h * (uint64_t)USEC_PER_HOUR + (m * 60 + sec) * 1000000 + f);
    if (neg)
        *time = -*time;
    return true;
}

static bool interval_from_text(const char *text, size_t len, struct abuf *out)
{
    static const char *const units[] = {"year", "mon", "day"};
    int64_t months = 0, days = 0, time = 0, value[3] = {0, 0, 0};
    size_t i = 0;
    int next = 0; /* parts come in order */
    bool any = false;

    while (i < len) {
        size_t save = i;
        uint64_t v;
        bool neg = false;
        int u;
        if (any && !word_at(text, len, &i, " "))
            return false;
        save = i;
        if (i < len && (text[i] == '-' || text[i] == '+'))
            neg = text[i++] == '-';
        if (!read_uint(text, len, &i, (uint64_t)INT32_MAX + 1, &v) || i >= len || text[i] != ' ') {
            i = save; /* not "N unit": the time part, last */
            if (!read_time(text, len, &i, &time) || i != len)
                return false;
            any = true;
            break;
        }
        i++;
        for (u = next; u < 3 && !word_at(text, len, &i, units[u]); u++)
            ;
        if (u == 3)
            return false;
        if (i < len && text[i] == 's')
            i++;
        if ((neg ? v > (uint64_t)INT32_MAX + 1 : v > (uint64_t)INT32_MAX))
            return false;
        value[u] = neg ? -(int64_t)v : (int64_t)v;
        next = u + 1;
        any = true;
    }
    if (!any)
        return false;
    months = value[0] * 12 + value[1];
    days = value[2];
    if (months < INT32_MIN || months > INT32_MAX)
        return false;
    return codec_put64(out, (uint64_t)time) && codec_put32(out, (uint32_t)(int32_t)days) &&
           codec_put32(out, (uint32_t)(int32_t)months);
}

const struct codec codec_interval = {
    .name = "interval",
    .oid = 1186,
    .array_oid = 1187,
    .to_text = interval_to_text,
    .from_text = interval_from_text,
};
