/*
 * pgtime.c: PostgreSQL ISO date/timestamp text <-> day number and time of day (see
 * pgtime.h). The day-number conversions are Howard Hinnant's days_from_civil /
 * civil_from_days, exact for the whole proleptic Gregorian range PostgreSQL supports.
 * The formatter follows the server's EncodeDateOnly / EncodeDateTime (ISO style) and
 * EncodeTimezone; it writes digits by hand because it runs once per value.
 */
#include "anonymise/pgtime.h"

#include <string.h>

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* n digits at s[*i] into *v; false when fewer. */
static bool digits(const char *s, size_t len, size_t *i, size_t n, long *v)
{
    long x = 0;

    if (len - *i < n)
        return false;
    for (size_t k = 0; k < n; k++) {
        if (!is_digit(s[*i + k]))
            return false;
        x = x * 10 + (s[*i + k] - '0');
    }
    *i += n;
    *v = x;
    return true;
}

static bool lit(const char *s, size_t len, size_t *i, char c)
{
    if (*i >= len || s[*i] != c)
        return false;
    (*i)++;
    return true;
}

static int days_in_month(long y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return m == 2 && leap ? 29 : dm[m - 1];
}

/* "HH:MM:SS[.f{1,6}]" into microseconds since midnight. */
bool pgtime_parse_time_of_day(const char *s, size_t len, size_t *i, int64_t *usec)
{
    long h, m, sec, f = 0;
    size_t n = 0;

    if (!digits(s, len, i, 2, &h) || !lit(s, len, i, ':') || !digits(s, len, i, 2, &m) ||
        !lit(s, len, i, ':') || !digits(s, len, i, 2, &sec) || h > 23 || m > 59 || sec > 59)
        return false;
    if (*i < len && s[*i] == '.') {
        (*i)++;
        while (*i + n < len && is_digit(s[*i + n]))
            n++;
        if (n < 1 || n > 6 || !digits(s, len, i, n, &f))
            return false;
        for (; n < 6; n++)
            f *= 10;
    }
    *usec = ((int64_t)(h * 60 + m) * 60 + sec) * 1000000 + f;
    return true;
}

/* "+HH", "-HH:MM", "+HH:MM:SS" into seconds east of UTC. */
bool pgtime_parse_zone(const char *s, size_t len, size_t *i, int32_t *zone)
{
    long v, secs;
    bool neg;

    if (*i >= len || (s[*i] != '+' && s[*i] != '-'))
        return false;
    neg = s[(*i)++] == '-';
    if (!digits(s, len, i, 2, &v) || v > 15)
        return false;
    secs = v * 3600;
    for (int k = 0; k < 2 && *i < len && s[*i] == ':'; k++) {
        (*i)++;
        if (!digits(s, len, i, 2, &v) || v > 59)
            return false;
        secs += k == 0 ? v * 60 : v;
    }
    *zone = (int32_t)(neg ? -secs : secs);
    return true;
}

enum pgtime_status pgtime_parse(const char *s, size_t len, struct pgtime *t)
{
    size_t i = 0, ylen = 0;
    long y, mo, d;
    bool bc = false;

    memset(t, 0, sizeof(*t));
    if (len == 8 && memcmp(s, "infinity", 8) == 0) {
        t->infinite = 1;
        return PGTIME_INFINITY;
    }
    if (len == 9 && memcmp(s, "-infinity", 9) == 0) {
        t->infinite = -1;
        return PGTIME_INFINITY;
    }
    while (ylen < len && is_digit(s[ylen]))
        ylen++;
    if (ylen < 4 || ylen > 7 || !digits(s, len, &i, ylen, &y) || !lit(s, len, &i, '-') ||
        !digits(s, len, &i, 2, &mo) || !lit(s, len, &i, '-') || !digits(s, len, &i, 2, &d))
        return PGTIME_MALFORMED;
    t->kind = PGTIME_DATE;
    if (i < len && s[i] == ' ' && i + 1 < len && is_digit(s[i + 1])) {
        i++;
        t->kind = PGTIME_TIMESTAMP;
        if (!pgtime_parse_time_of_day(s, len, &i, &t->usec))
            return PGTIME_MALFORMED;
        if (i < len && (s[i] == '+' || s[i] == '-')) {
            t->kind = PGTIME_TIMESTAMPTZ;
            if (!pgtime_parse_zone(s, len, &i, &t->zone))
                return PGTIME_MALFORMED;
        }
    }
    if (len - i == 3 && memcmp(s + i, " BC", 3) == 0) {
        bc = true;
        i += 3;
    }
    if (i != len || y < 1 || y > PGTIME_MAX_YEAR || mo < 1 || mo > 12 || d < 1 ||
        d > days_in_month(bc ? 1 - y : y, (int)mo))
        return PGTIME_MALFORMED;
    t->days = pgtime_days(bc ? 1 - y : y, (int)mo, (int)d);
    return bc ? PGTIME_BC : PGTIME_OK;
}

long pgtime_days(long y, int m, int d)
{
    long era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void pgtime_civil(long z, long *year, int *month, int *day)
{
    long era, doe, yoe, y, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *day = (int)(doy - (153 * mp + 2) / 5 + 1);
    *month = (int)(mp < 10 ? mp + 3 : mp - 9);
    *year = y + (*month <= 2);
}

long pgtime_year(const struct pgtime *t)
{
    long y;
    int m, d;

    pgtime_civil((long)t->days, &y, &m, &d);
    return y;
}

bool pgtime_in_years(const struct pgtime *t)
{
    int64_t utc = t->usec - (t->kind == PGTIME_TIMESTAMPTZ ? (int64_t)t->zone * 1000000 : 0);

    /* pgtime_days(1, 1, 1) and pgtime_days(PGTIME_MAX_YEAR, 12, 31) */
    if (t->days < -719162 || t->days > 2145042905)
        return false;
    if (t->kind == PGTIME_DATE)
        return true;
    /* a timestamp ends before 294277-01-01 00:00 UTC (pgtime_days(294277, 1, 1)), the
     * server's END_TIMESTAMP; a zone moves the UTC instant by less than a day */
    return t->days + (utc < 0 ? -1 : utc >= PGTIME_USEC_PER_DAY ? 1 : 0) < INT64_C(106762940);
}

enum pgtime_status pgtime_status_of(const struct pgtime *t)
{
    if (t->infinite)
        return PGTIME_INFINITY;
    return t->days < -719162 /* pgtime_days(1, 1, 1) */ ? PGTIME_BC : PGTIME_OK;
}

/* v (>= 0) in at least `width` digits, zero-padded, at p; returns the end. */
static char *put_digits(char *p, unsigned long v, int width)
{
    char tmp[24];
    int n = 0;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n < width)
        tmp[n++] = '0';
    while (n)
        *p++ = tmp[--n];
    return p;
}

/* ".ffffff" without trailing zeros (nothing for a whole second), as AppendSeconds. */
static char *put_fraction(char *p, long frac)
{
    int width = 6;

    if (frac == 0)
        return p;
    while (frac % 10 == 0) {
        frac /= 10;
        width--;
    }
    *p++ = '.';
    return put_digits(p, (unsigned long)frac, width);
}

/* "+HH", "+HH:MM" or "+HH:MM:SS", as EncodeTimezone (zone in seconds east). */
static char *put_zone(char *p, long zone)
{
    long a = zone < 0 ? -zone : zone;
    long h = a / 3600, m = a / 60 % 60, s = a % 60;

    *p++ = zone < 0 ? '-' : '+';
    p = put_digits(p, (unsigned long)h, 2);
    if (m != 0 || s != 0) {
        *p++ = ':';
        p = put_digits(p, (unsigned long)m, 2);
    }
    if (s != 0) {
        *p++ = ':';
        p = put_digits(p, (unsigned long)s, 2);
    }
    return p;
}

/* "HH:MM:SS[.f]" at p. */
static char *put_time_of_day(char *p, int64_t usec)
{
    long secs = (long)(usec / 1000000);

    p = put_digits(p, (unsigned long)(secs / 3600), 2);
    *p++ = ':';
    p = put_digits(p, (unsigned long)(secs / 60 % 60), 2);
    *p++ = ':';
    p = put_digits(p, (unsigned long)(secs % 60), 2);
    return put_fraction(p, (long)(usec % 1000000));
}

bool pgtime_format_time_of_day(int64_t usec, struct abuf *out)
{
    char buf[32];

    if (usec < 0 || usec >= PGTIME_USEC_PER_DAY)
        return false;
    return abuf_append(out, buf, (size_t)(put_time_of_day(buf, usec) - buf));
}

bool pgtime_format_zone(int32_t zone, struct abuf *out)
{
    char buf[16];

    return abuf_append(out, buf, (size_t)(put_zone(buf, zone) - buf));
}

bool pgtime_format(const struct pgtime *t, struct abuf *out)
{
    char buf[64], *p = buf;
    long y;
    int m, d;

    if (t->infinite)
        return abuf_puts(out, t->infinite > 0 ? "infinity" : "-infinity");
    if (t->usec < 0 || t->usec >= PGTIME_USEC_PER_DAY)
        return false;
    pgtime_civil((long)t->days, &y, &m, &d);
    p = put_digits(p, (unsigned long)(y > 0 ? y : 1 - y), 4);
    *p++ = '-';
    p = put_digits(p, (unsigned long)m, 2);
    *p++ = '-';
    p = put_digits(p, (unsigned long)d, 2);
    if (t->kind != PGTIME_DATE) {
        *p++ = ' ';
        p = put_time_of_day(p, t->usec);
        if (t->kind == PGTIME_TIMESTAMPTZ)
            p = put_zone(p, t->zone);
    }
    if (y <= 0) {
        memcpy(p, " BC", 3);
        p += 3;
    }
    return abuf_append(out, buf, (size_t)(p - buf));
}
