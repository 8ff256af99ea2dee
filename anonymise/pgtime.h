/*
 * pgtime.h: read and write PostgreSQL's text output of date, timestamp and timestamptz
 * under the pinned session settings (DateStyle=ISO, TimeZone=UTC), for generalise and
 * date_shift:
 *
 *   2023-05-17    2023-05-17 10:11:12    2023-05-17 10:11:12.5+00    0044-03-15 BC
 *   infinity      -infinity              10000-01-01
 *
 * Only the calendar date is changed by the rules; the time of day and the zone offset
 * are kept as written or replaced by midnight. Calendar arithmetic is proleptic
 * Gregorian (what PostgreSQL uses), on day numbers counted from 1970-01-01.
 */
#ifndef PGTIME_H
#define PGTIME_H

#include <stdbool.h>
#include <stddef.h>

#include "anonymise/abuf.h"

enum pgtime_status {
    PGTIME_OK,
    PGTIME_INFINITY, /* "infinity" or "-infinity" */
    PGTIME_BC,       /* well-formed, but before year 1 */
    PGTIME_MALFORMED,
};

struct pgtime {
    long year;
    int month, day;
    const char *time; /* "10:11:12.5" or NULL for a date; points into the parsed text */
    size_t time_len;
    const char *zone; /* "+00", "+05:30" or NULL; points into the parsed text */
    size_t zone_len;
};

#define PGTIME_MAX_YEAR 5874897L /* the last year of the date type */

enum pgtime_status pgtime_parse(const char *s, size_t len, struct pgtime *t);
/* Day number of a date (0 = 1970-01-01) and back. */
long pgtime_days(long year, int month, int day);
void pgtime_civil(long days, long *year, int *month, int *day);
/* Write t with its date replaced; midnight replaces the time when t has one and
 * `midnight` is set. false when the year is out of 1..PGTIME_MAX_YEAR or out failed. */
bool pgtime_format(const struct pgtime *t, long year, int month, int day, bool midnight,
                   struct abuf *out);
/* Seconds since midnight of t's time of day (fractions dropped); 0 for a date. */
long pgtime_seconds_of_day(const struct pgtime *t);
/* Like pgtime_format, with the time of day replaced by `seconds` (0..86399) after
 * midnight, written HH:MM:SS (no fraction); a date stays a date. */
bool pgtime_format_at(const struct pgtime *t, long year, int month, int day, long seconds,
                      struct abuf *out);

#endif
