/*
 * pgtime.c: PostgreSQL ISO date/timestamp text (see pgtime.h). The day-number
 * conversions are Howard Hinnant's days_from_civil / civil_from_days, exact for the
 * whole proleptic Gregorian range PostgreSQL supports.
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

/* "HH:MM:SS[.f{1,6}]" */
static bool parse_time(const char *s, size_t len, size_t *i)
{
    long h, m, sec, f;
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
    }
    return true;
}

/* "+HH", "-HH:MM", "+HH:MM:SS" */
static bool parse_zone(const char *s, size_t len, size_t *i)
{
    long v;

    if (*i >= len || (s[*i] != '+' && s[*i] != '-'))
        return false;
    (*i)++;
    if (!digits(s, len, i, 2, &v) || v > 15)
        return false;
    for (int k = 0; k < 2 && *i < len && s[*i] == ':'; k++) {
        (*i)++;
        if (!digits(s, len, i, 2, &v) || v > 59)
            return false;
    }
    return true;
}

enum pgtime_status pgtime_parse(const char *s, size_t len, struct pgtime *t)
{
    size_t i = 0, ylen = 0;
    long y, mo, d;
    bool bc = false;

    memset(t, 0, sizeof(*t));
    if ((len == 8 && memcmp(s, "infinity", 8) == 0) || (len == 9 && memcmp(s, "-infinity", 9) == 0))
        return PGTIME_INFINITY;
    while (ylen < len && is_digit(s[ylen]))
        ylen++;
    if (ylen < 4 || ylen > 7 || !digits(s, len, &i, ylen, &y) || !lit(s, len, &i, '-') ||
        !digits(s, len, &i, 2, &mo) || !lit(s, len, &i, '-') || !digits(s, len, &i, 2, &d))
        return PGTIME_MALFORMED;
    if (i < len && s[i] == ' ' && i + 1 < len && is_digit(s[i + 1])) {
        i++;
        t->time = s + i;
        if (!parse_time(s, len, &i))
            return PGTIME_MALFORMED;
        t->time_len = (size_t)(s + i - t->time);
        if (i < len && (s[i] == '+' || s[i] == '-')) {
            t->zone = s + i;
            if (!parse_zone(s, len, &i))
                return PGTIME_MALFORMED;
            t->zone_len = (size_t)(s + i - t->zone);
        }
    }
    if (len - i == 3 && memcmp(s + i, " BC", 3) == 0) {
        bc = true;
        i += 3;
    }
    if (i != len || y < 1 || y > PGTIME_MAX_YEAR || mo < 1 || mo > 12 || d < 1 ||
        d > days_in_month(y, (int)mo))
        return PGTIME_MALFORMED;
    t->year = y;
    t->month = (int)mo;
    t->day = (int)d;
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

bool pgtime_format(const struct pgtime *t, long year, int month, int day, bool midnight,
                   struct abuf *out)
{
    if (year < 1 || year > PGTIME_MAX_YEAR)
        return false;
    abuf_printf(out, "%04ld-%02d-%02d", year, month, day);
    if (t->time) {
        abuf_putc(out, ' ');
        if (midnight)
            abuf_puts(out, "00:00:00");
        else
            abuf_append(out, t->time, t->time_len);
        if (t->zone)
            abuf_append(out, t->zone, t->zone_len);
    }
    return !abuf_failed(out);
}

long pgtime_seconds_of_day(const struct pgtime *t)
{
    const char *s = t->time;

    /* parse_time checked the shape: "HH:MM:SS" then an optional fraction */
    if (!s || t->time_len < 8)
        return 0;
    return ((s[0] - '0') * 10 + (s[1] - '0')) * 3600L + ((s[3] - '0') * 10 + (s[4] - '0')) * 60L +
           (s[6] - '0') * 10 + (s[7] - '0');
}

bool pgtime_format_at(const struct pgtime *t, long year, int month, int day, long seconds,
                      struct abuf *out)
{
    if (year < 1 || year > PGTIME_MAX_YEAR || seconds < 0 || seconds >= 86400)
        return false;
    abuf_printf(out, "%04ld-%02d-%02d", year, month, day);
    if (t->time) {
        abuf_printf(out, " %02ld:%02ld:%02ld", seconds / 3600, seconds / 60 % 60, seconds % 60);
        if (t->zone)
            abuf_append(out, t->zone, t->zone_len);
    }
    return !abuf_failed(out);
}
