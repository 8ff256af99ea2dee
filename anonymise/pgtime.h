/*
 * pgtime.h: date, timestamp and timestamptz in the form the date rules work on (a day
 * number and the microseconds since midnight), read from and written as PostgreSQL's
 * text output under the pinned session settings (DateStyle=ISO, TimeZone=UTC):
 *
 *   2023-05-17    2023-05-17 10:11:12    2023-05-17 10:11:12.5+00    0044-03-15 BC
 *   infinity      -infinity              10000-01-01
 *
 * The binary COPY codec (codec_datetime.c) fills the same struct from the types'
 * binary forms (days or microseconds since 2000-01-01), so a rule computes on numbers
 * whether its column travels as text or binary, and both give the same output.
 * Calendar arithmetic is proleptic Gregorian (what PostgreSQL uses), on day numbers
 * counted from 1970-01-01; year 0 is 1 BC.
 */
#ifndef PGTIME_H
#define PGTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "anonymise/abuf.h"

enum pgtime_kind {
    PGTIME_DATE,        /* "2023-05-17" */
    PGTIME_TIMESTAMP,   /* "2023-05-17 10:11:12.5" */
    PGTIME_TIMESTAMPTZ, /* "2023-05-17 10:11:12.5+00" */
};

struct pgtime {
    enum pgtime_kind kind;
    int infinite; /* 0 finite, 1 "infinity", -1 "-infinity" (days and usec unused) */
    int64_t days; /* day number, 0 = 1970-01-01; before pgtime_days(1, 1, 1) is BC */
    int64_t usec; /* microseconds since midnight, 0 .. PGTIME_USEC_PER_DAY - 1 */
    int32_t zone; /* timestamptz: UTC offset in seconds, east positive, as written in the
                   * text (binary values are UTC: 0); unused for the other kinds */
};

#define PGTIME_USEC_PER_DAY INT64_C(86400000000)
#define PGTIME_MAX_YEAR 5874897L /* the last year of the date type */

enum pgtime_status {
    PGTIME_OK,
    PGTIME_INFINITY, /* "infinity" or "-infinity" (t->infinite says which) */
    PGTIME_BC,       /* well-formed, but before year 1 (t is filled) */
    PGTIME_MALFORMED,
};

/* Parse PostgreSQL's ISO output of a date, timestamp or timestamptz (the kind follows
 * from the shape: a time, then a zone). Seconds fractions of 1-6 digits, zones "+HH",
 * "-HH:MM", "+HH:MM:SS", years of 4-7 digits, " BC". */
enum pgtime_status pgtime_parse(const char *s, size_t len, struct pgtime *t);
/* The status of a filled value: PGTIME_INFINITY, PGTIME_BC or PGTIME_OK. */
enum pgtime_status pgtime_status_of(const struct pgtime *t);
/* Append t as PostgreSQL prints it (ISO; a timestamptz with its zone; " BC" last). */
bool pgtime_format(const struct pgtime *t, struct abuf *out);

/* Pieces for the time of day types (codec_datetime.c): "HH:MM:SS[.ffffff]" from
 * microseconds since midnight (< PGTIME_USEC_PER_DAY), and a zone "+HH[:MM[:SS]]" from
 * seconds east of UTC; the parsers read them at s[*i] and move *i past. */
bool pgtime_format_time_of_day(int64_t usec, struct abuf *out);
bool pgtime_format_zone(int32_t zone, struct abuf *out);
bool pgtime_parse_time_of_day(const char *s, size_t len, size_t *i, int64_t *usec);
bool pgtime_parse_zone(const char *s, size_t len, size_t *i, int32_t *zone);

/* Day number of a date (0 = 1970-01-01) and back. */
long pgtime_days(long year, int month, int day);
void pgtime_civil(long days, long *year, int *month, int *day);
/* The calendar year of a finite value (0 = 1 BC). */
long pgtime_year(const struct pgtime *t);
/* Its date lies in years 1 .. PGTIME_MAX_YEAR (what the date rules publish), and a
 * timestamp's instant before 294277-01-01 UTC (the last the server stores); cheaper than
 * pgtime_year, which runs per value. */
bool pgtime_in_years(const struct pgtime *t);

#endif
