/*
 * codec_datetime.c: date, time, timetz, timestamp, timestamptz (see codec.h).
 *
 * Binary: date is an int32 day count from 2000-01-01 (INT32_MIN / INT32_MAX are
 * -infinity / infinity); timestamp and timestamptz an int64 count of microseconds from
 * 2000-01-01 00:00:00 (UTC for timestamptz; INT64_MIN / INT64_MAX the infinities);
 * time an int64 count of microseconds since midnight (24:00:00 included); timetz the
 * same followed by an int32 zone in seconds west of UTC.
 * Text: pgtime.c's ISO forms; timestamptz under TimeZone=UTC always ends in "+00".
 * The date rules read the binary values as day numbers and microseconds (to_time) and
 * write them back (from_time), never through text.
 */
#include "anonymise/codec.h"

#include <string.h>

#include "anonymise/pgtime.h"

#define EPOCH_DAYS 10957 /* 2000-01-01 as a day number from 1970-01-01 */
#define USEC_PER_SEC INT64_C(1000000)
/* The ranges the server accepts: dates from 4714-11-24 BC to 5874897-12-31, timestamps
 * from 4714-11-24 BC to before 294277-01-01 (day numbers from 1970-01-01). */
#define MIN_DAYS (-2440588L)
#define MAX_DATE_DAYS 2145042905L
#define END_TIMESTAMP_DAYS 106762940L
#define MAX_TZ_SECS (16 * 3600 - 1)

static bool date_to_time(const char *bin, size_t len, struct pgtime *t)
{
    int32_t v;

    if (len != 4)
        return false;
    v = (int32_t)codec_get32(bin);
    *t = (struct pgtime){.kind = PGTIME_DATE};
    if (v == INT32_MIN || v == INT32_MAX)
        t->infinite = v == INT32_MAX ? 1 : -1;
    else
        t->days = (int64_t)v + EPOCH_DAYS;
    return true;
}

static bool date_from_time(const struct pgtime *t, struct abuf *out)
{
    if (t->infinite)
        return codec_put32(out, t->infinite > 0 ? (uint32_t)INT32_MAX : (uint32_t)INT32_MIN);
    if (t->days < MIN_DAYS || t->days > MAX_DATE_DAYS)
        return false;
    return codec_put32(out, (uint32_t)(int32_t)(t->days - EPOCH_DAYS));
}

static bool ts_decode(const char *bin, size_t len, enum pgtime_kind kind, struct pgtime *t)
{
    int64_t v, days;

    if (len != 8)
        return false;
    v = (int64_t)codec_get64(bin);
    *t = (struct pgtime){.kind = kind};
    if (v == INT64_MIN || v == INT64_MAX) {
        t->infinite = v == INT64_MAX ? 1 : -1;
        return true;
    }
    days = v / PGTIME_USEC_PER_DAY;
    if (v % PGTIME_USEC_PER_DAY < 0)
        days--;
    t->usec = v - days * PGTIME_USEC_PER_DAY;
    t->days = days + EPOCH_DAYS;
    return true;
}

static bool ts_encode(const struct pgtime *t, bool with_zone, struct abuf *out)
{
    int64_t v;

    if (t->infinite)
        return codec_put64(out, t->infinite > 0 ? (uint64_t)INT64_MAX : (uint64_t)INT64_MIN);
    if (t->days < MIN_DAYS - 1 || t->days > END_TIMESTAMP_DAYS + 1 || t->usec < 0 ||
        t->usec >= PGTIME_USEC_PER_DAY)
        return false;
    v = (t->days - EPOCH_DAYS) * PGTIME_USEC_PER_DAY + t->usec;
    if (with_zone)
        v -= (int64_t)t->zone * USEC_PER_SEC;
    /* the server's range, in the value's own time (UTC for timestamptz) */
    if (v < (MIN_DAYS - EPOCH_DAYS) * PGTIME_USEC_PER_DAY ||
        v >= (END_TIMESTAMP_DAYS - EPOCH_DAYS) * PGTIME_USEC_PER_DAY)
        return false;
    return codec_put64(out, (uint64_t)v);
}

static bool timestamp_to_time(const char *bin, size_t len, struct pgtime *t)
{
    return ts_decode(bin, len, PGTIME_TIMESTAMP, t);
}

static bool timestamptz_to_time(const char *bin, size_t len, struct pgtime *t)
{
    return ts_decode(bin, len, PGTIME_TIMESTAMPTZ, t);
}

static bool timestamp_from_time(const struct pgtime *t, struct abuf *out)
{
    return ts_encode(t, false, out);
}

static bool timestamptz_from_time(const struct pgtime *t, struct abuf *out)
{
    return ts_encode(t, true, out);
}

#define TIME_TEXT(fn, to_time)                                                                     \
    static bool fn(const char *bin, size_t len, struct abuf *out)                                  \
    {                                                                                              \
        struct pgtime t;                                                                           \
        return to_time(bin, len, &t) && pgtime_format(&t, out);                                    \
    }
TIME_TEXT(date_to_text, date_to_time)
TIME_TEXT(timestamp_to_text, timestamp_to_time)
TIME_TEXT(timestamptz_to_text, timestamptz_to_time)

/* Text in any of pgtime's shapes, as the kind's input function reads it: a date takes
 * the date written; a timestamp ignores a zone; a timestamptz without one is UTC. */
static bool parse_as(const char *text, size_t len, enum pgtime_kind kind, struct pgtime *t)
{
    enum pgtime_status st = pgtime_parse(text, len, t);

    if (st == PGTIME_MALFORMED)
        return false;
    if (kind != PGTIME_TIMESTAMPTZ)
        t->zone = 0;
    if (kind == PGTIME_DATE)
        t->usec = 0;
    t->kind = kind;
    return true;
}

static bool date_from_text(const char *text, size_t len, struct abuf *out)
{
    struct pgtime t;

    return parse_as(text, len, PGTIME_DATE, &t) && date_from_time(&t, out);
}

static bool timestamp_from_text(const char *text, size_t len, struct abuf *out)
{
    struct pgtime t;

    return parse_as(text, len, PGTIME_TIMESTAMP, &t) && ts_encode(&t, false, out);
}

static bool timestamptz_from_text(const char *text, size_t len, struct abuf *out)
{
    struct pgtime t;

    return parse_as(text, len, PGTIME_TIMESTAMPTZ, &t) && ts_encode(&t, true, out);
}

/* --- time of day --------------------------------------------------------------------- */

/* "HH:MM:SS[.ffffff]", 24:00:00 included. */
static bool put_time_of_day(int64_t usec, struct abuf *out)
{
    if (usec == PGTIME_USEC_PER_DAY)
        return abuf_puts(out, "24:00:00");
    return pgtime_format_time_of_day(usec, out);
}

static bool parse_time_of_day(const char *s, size_t len, size_t *i, int64_t *usec)
{
    if (len - *i >= 8 && memcmp(s + *i, "24:00:00", 8) == 0 &&
        (len - *i == 8 || s[*i + 8] != '.')) {
        *i += 8;
        *usec = PGTIME_USEC_PER_DAY;
        return true;
    }
    return pgtime_parse_time_of_day(s, len, i, usec);
}

static bool time_to_text(const char *bin, size_t len, struct abuf *out)
{
    return len == 8 && put_time_of_day((int64_t)codec_get64(bin), out);
}

static bool time_from_text(const char *text, size_t len, struct abuf *out)
{
    int64_t usec;
    size_t i = 0;

    return parse_time_of_day(text, len, &i, &usec) && i == len && codec_put64(out, (uint64_t)usec);
}

/* timetz keeps its zone in seconds west of UTC; the text shows it east, as a timestamptz. */
static bool timetz_to_text(const char *bin, size_t len, struct abuf *out)
{
    int32_t west;

    if (len != 12)
        return false;
    west = (int32_t)codec_get32(bin + 8);
    return west >= -MAX_TZ_SECS && west <= MAX_TZ_SECS &&
           put_time_of_day((int64_t)codec_get64(bin), out) && pgtime_format_zone(-west, out);
}

static bool timetz_from_text(const char *text, size_t len, struct abuf *out)
{
    int64_t usec;
    int32_t zone;
    size_t i = 0;

    return parse_time_of_day(text, len, &i, &usec) && pgtime_parse_zone(text, len, &i, &zone) &&
           i == len && codec_put64(out, (uint64_t)usec) && codec_put32(out, (uint32_t)-zone);
}

const struct codec codec_date = {
    .name = "date",
    .oid = 1082,
    .array_oid = 1182,
    .to_text = date_to_text,
    .from_text = date_from_text,
    .to_time = date_to_time,
    .from_time = date_from_time,
};

const struct codec codec_timestamp = {
    .name = "timestamp without time zone",
    .oid = 1114,
    .array_oid = 1115,
    .to_text = timestamp_to_text,
    .from_text = timestamp_from_text,
    .to_time = timestamp_to_time,
    .from_time = timestamp_from_time,
};

const struct codec codec_timestamptz = {
    .name = "timestamp with time zone",
    .oid = 1184,
    .array_oid = 1185,
    .to_text = timestamptz_to_text,
    .from_text = timestamptz_from_text,
    .to_time = timestamptz_to_time,
    .from_time = timestamptz_from_time,
};

const struct codec codec_time = {
    .name = "time without time zone",
    .oid = 1083,
    .array_oid = 1183,
    .to_text = time_to_text,
    .from_text = time_from_text,
};

const struct codec codec_timetz = {
    .name = "time with time zone",
    .oid = 1266,
    .array_oid = 1270,
    .to_text = timetz_to_text,
    .from_text = timetz_from_text,
};
