/*
 * rule_date_shift.c: `date_shift: { by: patient_id, max_days: 30, time: truncate }` moves a
 * date or timestamp by a keyed number of days that depends only on another column of the
 * row (the entity), so every date of one entity moves together and the intervals between
 * them survive, while the absolute dates do not.
 *
 *   mac    = HMAC-SHA256(K_days, entity || 0x00)      K_days: hmac.h, purpose SHIFT_DAYS
 *   u      = first 8 bytes of mac, big-endian, unsigned
 *   r      = u mod (2 * max_days)
 *   offset = r - max_days        when r <  max_days   (-max_days .. -1)
 *            r - max_days + 1    otherwise            (1 .. max_days)
 *
 * K_days is derived from the hash key with HKDF (hmac.h), never the hash key itself: no
 * `hash: { namespace: ... }` on the entity column can publish the offset.
 *
 * The time of day of a timestamp (`time:`):
 *   truncate (default)  becomes 00:00:00 (the zone is kept). The time of day is the most
 *                       telling part of a timestamp: a known event time ("admitted at
 *                       14:37:22") finds its row among the shifted ones, and with it the
 *                       entity's offset for every other date.
 *   jitter              moves by a keyed amount of up to jitter_minutes (default 60) either
 *                       way, per value: HMAC-SHA256(K_time, entity || 0x00 || value), first
 *                       8 bytes mod (2 * 60 * jitter_minutes + 1), minus 60 * jitter_minutes,
 *                       in seconds; it wraps within the (shifted) day; fractions of a second
 *                       are dropped. Intervals survive to the day and roughly to the hour.
 *   keep                exactly as in the source (only with a reason to: see the threat
 *                       model in README.md).
 *
 * The offset is never 0: a shifted date is never the real one. A NULL entity gives NULL
 * (the shift would be the same for every such row); "infinity" passes through; BC dates,
 * malformed text and results before year 1 or past the type's range (a timestamp after
 * 294276 AD) become NULL. Dates have no time of day.
 */
#include "anonymise/rules_extra.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anonymise/hmac.h"
#include "anonymise/pgtime.h"
#include "anonymise/rule_util.h"
#include "anonymise/sqltype.h"

enum shift_time { SHIFT_TIME_TRUNCATE, SHIFT_TIME_JITTER, SHIFT_TIME_KEEP };
static const char *const time_words[] = {"truncate", "jitter", "keep", NULL};

struct shift_state {
    struct rule_column_ref by_ref; /* by_ref.name == by */
    char *by;
    long max_days;
    enum shift_time time;
    long jitter_minutes;
};

static void shift_free(void *state)
{
    struct shift_state *s = state;

    if (!s)
        return;
    free(s->by_ref.name);
    free(s);
}

static bool parse_time(const struct yopts *opts, enum shift_time *time, long *jitter,
                       struct anon_error *err)
{
    const char *word = "truncate";
    bool has_jitter = false;
    size_t i;

    if (!yopts_get_string(opts, "time", &word, NULL, err) ||
        !yopts_get_int(opts, "jitter_minutes", 1, 720, jitter, &has_jitter, err))
        return false;
    for (i = 0; time_words[i] && strcmp(time_words[i], word) != 0; i++)
        ;
    if (!time_words[i]) {
        yopts_error(opts, "time", err, "must be truncate, jitter or keep");
        return false;
    }
    *time = (enum shift_time)i;
    if (has_jitter && *time != SHIFT_TIME_JITTER) {
        yopts_error(opts, "jitter_minutes", err, "only goes with time: jitter");
        return false;
    }
    return true;
}

static bool shift_parse(const struct yopts *opts, void **state, struct anon_error *err)
{
    static const char *const keys[] = {"by", "max_days", "time", "jitter_minutes", NULL};
    struct shift_state *s;
    const char *by = NULL;
    long max_days = 30, jitter = 60;
    enum shift_time time;

    if (!yopts_only_keys(opts, keys, err) || !yopts_get_string(opts, "by", &by, NULL, err) ||
        !yopts_get_int(opts, "max_days", 1, 3650, &max_days, NULL, err) ||
        !parse_time(opts, &time, &jitter, err))
        return false;
    if (!by || !*by) {
        yopts_error(opts, NULL, err, "needs by: <column> (the entity whose dates move together)");
        return false;
    }
    s = calloc(1, sizeof(*s));
    if (!s || !rule_column_ref_set(&s->by_ref, opts, "by", "date_shift.by", by)) {
        shift_free(s);
        yopts_error(opts, NULL, err, "out of memory");
        return false;
    }
    s->by = s->by_ref.name;
    s->max_days = max_days;
    s->time = time;
    s->jitter_minutes = jitter;
    *state = s;
    return true;
}

static void shift_describe(const void *state, struct abuf *out)
{
    const struct shift_state *s = state;

    abuf_printf(out, "by=\"%s\" max_days=%ld time=%s", s->by, s->max_days, time_words[s->time]);
    if (s->time == SHIFT_TIME_JITTER)
        abuf_printf(out, " jitter_minutes=%ld", s->jitter_minutes);
}

static void shift_output(const void *state, const char *source_type, struct rule_output *out)
{
    (void)state;
    snprintf(out->type, sizeof(out->type), "%s", source_type ? source_type : "text");
    out->may_be_null = true;
    if (source_type && !sqltype_is_date(source_type) && !sqltype_is_timestamp(source_type))
        snprintf(out->problem, sizeof(out->problem),
                 "date_shift needs a date or timestamp column, not %s", source_type);
}

/* First 8 bytes, big-endian, of HMAC(K_p, part1 || 0x00 || part2). */
static uint64_t internal_u64(const struct rule_ctx *ctx, enum hmac_purpose p,
                             const struct rule_value *part1, const struct rule_value *part2)
{
    unsigned char mac[HMAC_MAC_LEN];
    uint64_t u = 0;

    if (ctx->hmac)
        hmac_key_internal(ctx->hmac, p, part1->data, part1->len, part2 ? part2->data : "",
                          part2 ? part2->len : 0, mac);
    else
        hmac_internal(ctx->key, ctx->key_len, p, part1->data, part1->len, part2 ? part2->data : "",
                      part2 ? part2->len : 0, mac);
    for (int i = 0; i < 8; i++)
        u = u << 8 | mac[i];
    return u;
}

/* The entity's offset in days (see the construction above). */
static long shift_days(const struct shift_state *s, const struct rule_ctx *ctx,
                       const struct rule_value *entity)
{
    uint64_t r =
        internal_u64(ctx, HMAC_PURPOSE_SHIFT_DAYS, entity, NULL) % (uint64_t)(2 * s->max_days);

    return (long)r < s->max_days ? (long)r - s->max_days : (long)r - s->max_days + 1;
}

/* time: jitter: the value's new time of day, in seconds (see above). The value enters
 * the MAC as its PostgreSQL text, whichever COPY format brought it. */
static long jittered_seconds(const struct shift_state *s, const struct rule_ctx *ctx,
                             const struct rule_value *entity, const struct pgtime *t,
                             struct abuf *scratch)
{
    long w = 60 * s->jitter_minutes, j, sec;
    struct rule_value text;
    size_t start = scratch->len;

    pgtime_format(t, scratch);
    text = (struct rule_value){.data = scratch->data ? scratch->data + start : "",
                               .len = scratch->len - start};
    j = (long)(internal_u64(ctx, HMAC_PURPOSE_SHIFT_TIME, entity, &text) % (uint64_t)(2 * w + 1)) -
        w;
    scratch->len = start;
    sec = (long)(t->usec / 1000000 + j) % 86400;
    return sec < 0 ? sec + 86400 : sec;
}

/* The rule on the direct form (rule.h): the date moved by the entity's offset, the time
 * as `time:` says. `apply` goes through it too. */
static bool shift_time(const void *state, const struct rule_ctx *ctx, const struct pgtime *in,
                       struct pgtime *out, struct abuf *text, enum rule_time_result *result,
                       struct anon_error *err)
{
    const struct shift_state *s = state;
    const struct rule_value *entity;
    *result = RULE_TIME_NULL;
    if (!ctx->column || (!ctx->hmac && !ctx->key)) {
        anon_error_set(err, "date_shift: no row context or hash key");
        return false;
    }
    entity = ctx->column(ctx->row, s->by);
    if (!entity) {
        anon_error_set(err, "date_shift: column \"%s\" (by) is not in the row", s->by);
        return false;
    }
    if (entity->is_null)
        return true;
    switch (pgtime_status_of(in)) {
    case PGTIME_INFINITY:
        *out = *in;
        *result = RULE_TIME_VALUE;
        return true;
    case PGTIME_OK:
        break;
    case PGTIME_BC:
    case PGTIME_MALFORMED:
        return true;
    }
    *out = *in;
    if (in->kind != PGTIME_DATE && s->time == SHIFT_TIME_TRUNCATE)
        out->usec = 0;
    else if (in->kind != PGTIME_DATE && s->time == SHIFT_TIME_JITTER)
        out->usec = (int64_t)jittered_seconds(s, ctx, entity, in, text) * 1000000;
    out->days += shift_days(s, ctx, entity);
    if (pgtime_in_years(out))
        *result = RULE_TIME_VALUE;
    if (abuf_failed(text)) {
        anon_error_set(err, "date_shift: output too large");
        return false;
    }
    return true;
}

static bool shift_apply(const void *state, const struct rule_ctx *ctx, const struct rule_value *in,
                        struct abuf *out, bool *out_null, struct anon_error *err)
{
    return rule_apply_time_text(&rule_date_shift, state, ctx, in, out, out_null, err);
}

static const struct rule_column_ref *shift_columns(const void *state, size_t *n)
{
    const struct shift_state *s = state;

    *n = 1;
    return &s->by_ref;
}

const struct rule_ops rule_date_shift = {
    .name = "date_shift",
    .summary = "dates moved by a keyed per-entity number of days (intervals survive)",
    .passthrough = false,
    .parse = shift_parse,
    .free_state = shift_free,
    .describe = shift_describe,
    .output = shift_output,
    .apply = shift_apply,
    .apply_time = shift_time,
    .columns = shift_columns,
};
