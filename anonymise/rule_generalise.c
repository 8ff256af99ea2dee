/*
 * rule_generalise.c: coarser dates.
 *
 *   generalise: { to: year | quarter | month | week }
 *       the first day of the period (weeks start on Monday, ISO 8601); the column keeps
 *       its type; timestamps keep their zone and become midnight:
 *       "2023-05-17 10:11:12+00" to month -> "2023-05-01 00:00:00+00"
 *   generalise: { to: age_band, width: 10, top: 90, as_of: 2024-01-01 }
 *       the age in whole years on the reference date `as_of` as a text band "30-39"
 *       (width 1: "30"); ages from `top` up are one band "90+" (top coding: the oldest
 *       people are few and easy to find). `as_of` defaults to January 1 of the year the
 *       config is loaded (UTC), so bands move once a year for everyone at once, never on
 *       a person's birthday (a band that changes between two daily runs would publish the
 *       birthday); the default changes the rule's description, so incremental tables
 *       reload on the first run of a year. `top` defaults to the first multiple of width
 *       from 90 (width 10: 90, width 7: 91) and must be a multiple of width. A date up
 *       to one year after as_of is age 0 (born in the reference year); later ones are
 *       NULL.
 *
 * Values are PostgreSQL ISO text (pgtime.h). "infinity" and "-infinity" pass through
 * the period forms (they identify no one) and become NULL as age bands; dates before
 * year 1 (BC) and malformed text become NULL.
 */
#include "anonymise/rules_extra.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "anonymise/pgtime.h"
#include "anonymise/rule_util.h"
#include "anonymise/sqltype.h"

enum gen_to { GEN_YEAR, GEN_QUARTER, GEN_MONTH, GEN_WEEK, GEN_AGE_BAND };

static const char *const gen_words[] = {"year", "quarter", "month", "week", "age_band", NULL};

#define AGE_TOP_DEFAULT 90
#define AGE_MAX 200

struct gen_state {
    enum gen_to to;
    long width;
    long top;
    long as_of_year;
    int as_of_month, as_of_day;
};

/* as_of: a date written YYYY-MM-DD; absent: January 1 of the current year (UTC). */
static bool parse_as_of(const struct yopts *opts, struct gen_state *s, bool *present,
                        struct anon_error *err)
{
    const char *text = NULL;
    struct pgtime t;
    time_t now = time(NULL);
    struct tm tm;

    if (!yopts_get_string(opts, "as_of", &text, present, err))
        return false;
    if (!*present) {
        if (!gmtime_r(&now, &tm)) {
            yopts_error(opts, NULL, err, "cannot read the clock");
            return false;
        }
        s->as_of_year = (long)tm.tm_year + 1900;
        s->as_of_month = 1;
        s->as_of_day = 1;
        return true;
    }
    if (pgtime_parse(text, strlen(text), &t) != PGTIME_OK || t.kind != PGTIME_DATE) {
        yopts_error(opts, "as_of", err, "expected a date such as 2024-01-01");
        return false;
    }
    pgtime_civil((long)t.days, &s->as_of_year, &s->as_of_month, &s->as_of_day);
    return true;
}

/* top: a multiple of width; default the first multiple of width from 90. */
static bool parse_top(const struct yopts *opts, struct gen_state *s, bool *present,
                      struct anon_error *err)
{
    s->top = (AGE_TOP_DEFAULT + s->width - 1) / s->width * s->width;
    if (!yopts_get_int(opts, "top", 1, AGE_MAX, &s->top, present, err))
        return false;
    if (*present && s->top % s->width != 0) {
        yopts_error(opts, "top", err, "must be a multiple of width (%ld)", s->width);
        return false;
    }
    return true;
}

static bool gen_parse(const struct yopts *opts, void **state, struct anon_error *err)
{
    static const char *const keys[] = {"to", "width", "top", "as_of", NULL};
    struct gen_state *s, parsed = {0};
    const char *to = NULL;
    long width = 10;
    bool has_width = false, has_top = false, has_as_of = false;
    size_t i;

    if (!yopts_only_keys(opts, keys, err) || !yopts_get_string(opts, "to", &to, NULL, err) ||
        !yopts_get_int(opts, "width", 1, 150, &width, &has_width, err))
        return false;
    parsed.width = width;
    if (!parse_top(opts, &parsed, &has_top, err) || !parse_as_of(opts, &parsed, &has_as_of, err))
        return false;
    if (!to) {
        yopts_error(opts, NULL, err, "needs to: year, quarter, month, week or age_band");
        return false;
    }
    for (i = 0; gen_words[i] && strcmp(gen_words[i], to) != 0; i++)
        ;
    if (!gen_words[i]) {
        yopts_error(opts, "to", err, "must be year, quarter, month, week or age_band");
        return false;
    }
    if ((has_width || has_top || has_as_of) && i != GEN_AGE_BAND) {
        yopts_error(opts,
                    has_width ? "width"
                    : has_top ? "top"
                              : "as_of",
                    err, "only goes with to: age_band");
        return false;
    }
    s = calloc(1, sizeof(*s));
    if (!s) {
        yopts_error(opts, NULL, err, "out of memory");
        return false;
    }
    *s = parsed;
    s->to = (enum gen_to)i;
    *state = s;
    return true;
}

static void gen_free(void *state)
{
    free(state);
}

static void gen_describe(const void *state, struct abuf *out)
{
    const struct gen_state *s = state;

    abuf_printf(out, "to=%s", gen_words[s->to]);
    if (s->to == GEN_AGE_BAND)
        abuf_printf(out, " width=%ld top=%ld as_of=%04ld-%02d-%02d", s->width, s->top,
                    s->as_of_year, s->as_of_month, s->as_of_day);
}

static void gen_output(const void *state, const char *source_type, struct rule_output *out)
{
    const struct gen_state *s = state;

    out->may_be_null = true;
    if (s->to == GEN_AGE_BAND)
        snprintf(out->type, sizeof(out->type), "text");
    else
        snprintf(out->type, sizeof(out->type), "%s", source_type ? source_type : "text");
    if (source_type && !sqltype_is_date(source_type) && !sqltype_is_timestamp(source_type))
        snprintf(out->problem, sizeof(out->problem),
                 "generalise needs a date or timestamp column, not %s", source_type);
}

/* Age in whole years on the as_of date (negative when born after it). */
static long age_at(const struct gen_state *s, const struct pgtime *t)
{
    long y, age;
    int m, d;

    pgtime_civil((long)t->days, &y, &m, &d);
    age = s->as_of_year - y;
    if (s->as_of_month < m || (s->as_of_month == m && s->as_of_day < d))
        age--;
    return age;
}

static void age_band(const struct gen_state *s, const struct pgtime *t, struct abuf *text,
                     enum rule_time_result *result)
{
    long age = age_at(s, t), lo;

    if (age < -1)
        return; /* more than a year after the reference date */
    if (age < 0)
        age = 0; /* born in the year after as_of */
    *result = RULE_TIME_TEXT;
    if (age >= s->top) {
        abuf_printf(text, "%ld+", s->top);
        return;
    }
    lo = age / s->width * s->width;
    if (s->width == 1)
        abuf_printf(text, "%ld", lo);
    else
        abuf_printf(text, "%ld-%ld", lo, lo + s->width - 1);
}

/* The first day of the period, at midnight (the zone is kept). */
static void period(const struct gen_state *s, const struct pgtime *t, struct pgtime *out,
                   enum rule_time_result *result)
{
    long y, days = (long)t->days;
    int m, d;

    pgtime_civil(days, &y, &m, &d);
    switch (s->to) {
    case GEN_YEAR:
        days = pgtime_days(y, 1, 1);
        break;
    case GEN_QUARTER:
        days = pgtime_days(y, (m - 1) / 3 * 3 + 1, 1);
        break;
    case GEN_MONTH:
        days = pgtime_days(y, m, 1);
        break;
    case GEN_WEEK:
        days -= (days % 7 + 7 + 3) % 7; /* back to Monday: 1970-01-01 was a Thursday */
        break;
    case GEN_AGE_BAND:
        return;
    }
    *out = *t;
    out->days = days;
    out->usec = 0;
    if (pgtime_in_years(out))
        *result = RULE_TIME_VALUE;
}

/* The rule on the direct form (rule.h); `apply` goes through it too. */
static bool gen_time(const void *state, const struct rule_ctx *ctx, const struct pgtime *in,
                     struct pgtime *out, struct abuf *text, enum rule_time_result *result,
                     struct anon_error *err)
{
    const struct gen_state *s = state;

    (void)ctx;
    *result = RULE_TIME_NULL;
    switch (pgtime_status_of(in)) {
    case PGTIME_INFINITY:
        if (s->to != GEN_AGE_BAND) {
            *out = *in;
            *result = RULE_TIME_VALUE;
        }
        break;
    case PGTIME_OK:
        if (s->to == GEN_AGE_BAND)
            age_band(s, in, text, result);
        else
            period(s, in, out, result);
        break;
    case PGTIME_BC:
    case PGTIME_MALFORMED:
        break;
    }
    if (abuf_failed(text)) {
        anon_error_set(err, "generalise: output too large");
        return false;
    }
    return true;
}

static bool gen_apply(const void *state, const struct rule_ctx *ctx, const struct rule_value *in,
                      struct abuf *out, bool *out_null, struct anon_error *err)
{
    return rule_apply_time_text(&rule_generalise, state, ctx, in, out, out_null, err);
}

const struct rule_ops rule_generalise = {
    .name = "generalise",
    .summary = "dates to the first day of their year/quarter/month/week, or to age bands",
    .passthrough = false,
    .parse = gen_parse,
    .free_state = gen_free,
    .describe = gen_describe,
    .output = gen_output,
    .apply = gen_apply,
    .apply_time = gen_time,
};
