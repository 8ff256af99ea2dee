/*
 * rule_date_shift.c: `date_shift: { by: patient_id, max_days: 30 }` moves a date or
 * timestamp by a keyed number of days that depends only on another column of the row
 * (the entity), so every date of one entity moves together and the intervals between
 * them survive, while the absolute dates do not.
 *
 *   mac    = HMAC-SHA256(key, "date_shift" || 0x00 || entity)      (hmac.h)
 *   u      = first 8 bytes of mac, big-endian, unsigned
 *   r      = u mod (2 * max_days)
 *   offset = r - max_days        when r <  max_days   (-max_days .. -1)
 *            r - max_days + 1    otherwise            (1 .. max_days)
 *
 * The offset is never 0: a shifted date is never the real one. Only the calendar date
 * moves; time of day and zone are kept. A NULL entity gives NULL (the shift would be the
 * same for every such row); "infinity" passes through; BC dates, malformed text and
 * results before year 1 become NULL.
 */
#include "anonymise/rules_extra.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anonymise/hmac.h"
#include "anonymise/pgtime.h"
#include "anonymise/sqltype.h"

#define DATE_SHIFT_NS "date_shift"

struct shift_state {
    char *by;
    long max_days;
};

static void shift_free(void *state)
{
    struct shift_state *s = state;

    if (!s)
        return;
    free(s->by);
    free(s);
}

static bool shift_parse(const struct yopts *opts, void **state, struct anon_error *err)
{
    static const char *const keys[] = {"by", "max_days", NULL};
    struct shift_state *s;
    const char *by = NULL;
    long max_days = 30;

    if (!yopts_only_keys(opts, keys, err) || !yopts_get_string(opts, "by", &by, NULL, err) ||
        !yopts_get_int(opts, "max_days", 1, 3650, &max_days, NULL, err))
        return false;
    if (!by || !*by) {
        yopts_error(opts, NULL, err, "needs by: <column> (the entity whose dates move together)");
        return false;
    }
    s = calloc(1, sizeof(*s));
    if (!s || !(s->by = strdup(by))) {
        free(s);
        yopts_error(opts, NULL, err, "out of memory");
        return false;
    }
    s->max_days = max_days;
    *state = s;
    return true;
}

static void shift_describe(const void *state, struct abuf *out)
{
    const struct shift_state *s = state;

    abuf_printf(out, "by=\"%s\" max_days=%ld", s->by, s->max_days);
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

/* The entity's offset in days (see the construction above). */
static long shift_days(const struct shift_state *s, const struct rule_ctx *ctx,
                       const struct rule_value *entity)
{
    unsigned char mac[HMAC_MAC_LEN];
    uint64_t u = 0;
    uint64_t r;

    if (ctx->hmac)
        hmac_key_value(ctx->hmac, DATE_SHIFT_NS, strlen(DATE_SHIFT_NS), entity->data, entity->len,
                       mac);
    else
        hmac_value(ctx->key, ctx->key_len, DATE_SHIFT_NS, strlen(DATE_SHIFT_NS), entity->data,
                   entity->len, mac);
    for (int i = 0; i < 8; i++)
        u = u << 8 | mac[i];
    r = u % (uint64_t)(2 * s->max_days);
    return (long)r < s->max_days ? (long)r - s->max_days : (long)r - s->max_days + 1;
}

static bool shift_apply(const void *state, const struct rule_ctx *ctx, const struct rule_value *in,
                        struct abuf *out, bool *out_null, struct anon_error *err)
{
    const struct shift_state *s = state;
    const struct rule_value *entity;
    struct pgtime t;
    enum pgtime_status st;
    long y;
    int m, d;

    *out_null = true;
    if (in->is_null)
        return true;
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
    st = pgtime_parse(in->data, in->len, &t);
    if (st == PGTIME_INFINITY) {
        abuf_append(out, in->data, in->len);
        *out_null = false;
    } else if (st == PGTIME_OK) {
        pgtime_civil(pgtime_days(t.year, t.month, t.day) + shift_days(s, ctx, entity), &y, &m, &d);
        if (pgtime_format(&t, y, m, d, false, out))
            *out_null = false;
    }
    if (abuf_failed(out)) {
        anon_error_set(err, "date_shift: output too large");
        return false;
    }
    return true;
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
};
