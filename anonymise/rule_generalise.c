/*
 * rule_generalise.c: coarser dates.
 *
 *   generalise: { to: year | quarter | month | week }
 *       the first day of the period (weeks start on Monday, ISO 8601); the column keeps
 *       its type; timestamps keep their zone and become midnight:
 *       "2023-05-17 10:11:12+00" to month -> "2023-05-01 00:00:00+00"
 *   generalise: { to: age_band, width: 10 }
 *       the age in whole years on the run's date (ctx->run_time, UTC) as a text band
 *       "30-39" (width 1: "30"); a date after the run date becomes NULL
 *
 * Values are PostgreSQL ISO text (pgtime.h). "infinity" and "-infinity" pass through
 * the period forms (they identify no one) and become NULL as age bands; dates before
 * year 1 (BC) and malformed text become NULL.
 */
#include "anonymise/rules_extra.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anonymise/pgtime.h"
#include "anonymise/sqltype.h"

enum gen_to { GEN_YEAR, GEN_QUARTER, GEN_MONTH, GEN_WEEK, GEN_AGE_BAND };

static const char *const gen_words[] = {"year", "quarter", "month", "week", "age_band", NULL};

struct gen_state {
    enum gen_to to;
    long width;
};

static bool gen_parse(const struct yopts *opts, void **state, struct anon_error *err)
{
    static const char *const keys[] = {"to", "width", NULL};
    struct gen_state *s;
    const char *to = NULL;
    long width = 10;
    bool has_width = false;
    size_t i;

    if (!yopts_only_keys(opts, keys, err) || !yopts_get_string(opts, "to", &to, NULL, err) ||
        !yopts_get_int(opts, "width", 1, 150, &width, &has_width, err))
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
    if (has_width && i != GEN_AGE_BAND) {
        yopts_error(opts, "width", err, "only goes with to: age_band");
        return false;
    }
    s = calloc(1, sizeof(*s));
    if (!s) {
        yopts_error(opts, NULL, err, "out of memory");
        return false;
    }
    s->to = (enum gen_to)i;
    s->width = width;
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
        abuf_printf(out, " width=%ld", s->width);
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

/* Age in whole years on the run's UTC date; -1 when born after it. */
static long age_at(const struct pgtime *t, time_t run_time)
{
    struct tm now;
    long age;

    if (!gmtime_r(&run_time, &now))
        return -1;
    age = (long)now.tm_year + 1900 - t->year;
    if (now.tm_mon + 1 < t->month || (now.tm_mon + 1 == t->month && now.tm_mday < t->day))
        age--;
    return age;
}

static bool age_band(const struct gen_state *s, const struct pgtime *t, time_t run_time,
                     struct abuf *out, bool *out_null)
{
    long age = age_at(t, run_time), lo;

    if (age < 0)
        return true;
    lo = age / s->width * s->width;
    if (s->width == 1)
        abuf_printf(out, "%ld", lo);
    else
        abuf_printf(out, "%ld-%ld", lo, lo + s->width - 1);
    *out_null = false;
    return true;
}

static bool period(const struct gen_state *s, const struct pgtime *t, struct abuf *out,
                   bool *out_null)
{
    long y = t->year;
    int m = t->month, d = 1;

    switch (s->to) {
    case GEN_YEAR:
        m = 1;
        break;
    case GEN_QUARTER:
        m = (m - 1) / 3 * 3 + 1;
        break;
    case GEN_MONTH:
        break;
    case GEN_WEEK: {
        long days = pgtime_days(t->year, t->month, t->day);
        long monday = days - ((days % 7 + 7 + 3) % 7); /* 1970-01-01 was a Thursday */
        pgtime_civil(monday, &y, &m, &d);
        break;
    }
    case GEN_AGE_BAND:
        return true;
    }
    if (pgtime_format(t, y, m, d, true, out))
        *out_null = false;
    return true;
}

static bool gen_apply(const void *state, const struct rule_ctx *ctx, const struct rule_value *in,
                      struct abuf *out, bool *out_null, struct anon_error *err)
{
    const struct gen_state *s = state;
    struct pgtime t;
    enum pgtime_status st;

    *out_null = true;
    if (in->is_null)
        return true;
    st = pgtime_parse(in->data, in->len, &t);
    if (st == PGTIME_INFINITY && s->to != GEN_AGE_BAND) {
        abuf_append(out, in->data, in->len);
        *out_null = false;
    } else if (st == PGTIME_OK) {
        if (s->to == GEN_AGE_BAND)
            age_band(s, &t, ctx->run_time, out, out_null);
        else
            period(s, &t, out, out_null);
    }
    if (abuf_failed(out)) {
        anon_error_set(err, "generalise: output too large");
        return false;
    }
    return true;
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
};
