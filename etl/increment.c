/* increment.c: incremental windows and reload decisions (see increment.h). */
#include "etl/increment.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etl/pgconn.h"
#include "etl/target.h"

static bool quote_table(PGconn *conn, const struct cfg_table *t, struct abuf *sql)
{
    pgconn_quote_ident(conn, t->schema, sql);
    abuf_putc(sql, '.');
    return pgconn_quote_ident(conn, t->name, sql);
}

enum wm_kind { WM_NONE, WM_TIMESTAMPTZ, WM_TIMESTAMP, WM_DATE, WM_INTEGER };

struct watermark {
    enum wm_kind kind;
    const char *type; /* format_type() text: "timestamp(0) without time zone" */
    int precision;    /* fractional second digits of a timestamp, 0..6 */
    bool not_null;
};

static struct watermark watermark_of(const struct table_plan *plan)
{
    struct watermark w = {.kind = WM_NONE, .type = "", .precision = 6};
    const char *paren;
    size_t i;

    if (!plan->cfg->watermark || (i = plan_column_index(plan, plan->cfg->watermark)) == (size_t)-1)
        return w;
    w.type = plan->columns[i].source->type;
    w.not_null = plan->columns[i].source->not_null;
    if (strncmp(w.type, "timestamp", 9) == 0) {
        w.kind = strstr(w.type, "with time zone") && !strstr(w.type, "without") ? WM_TIMESTAMPTZ
                                                                                : WM_TIMESTAMP;
        if ((paren = strchr(w.type, '(')) != NULL && paren[1] >= '0' && paren[1] <= '6')
            w.precision = paren[1] - '0';
    } else if (strcmp(w.type, "date") == 0) {
        w.kind = WM_DATE;
    } else if (strcmp(w.type, "bigint") == 0 || strcmp(w.type, "integer") == 0 ||
               strcmp(w.type, "smallint") == 0) {
        w.kind = WM_INTEGER;
    }
    return w;
}

bool increment_needs_zone(const struct table_plan *plan)
{
    enum wm_kind k = watermark_of(plan).kind;

    return plan->cfg->mode == CFG_MODE_INCREMENTAL && (k == WM_TIMESTAMP || k == WM_DATE);
}

bool increment_check_plan(const struct table_plan *plan, struct abuf *report)
{
    const struct cfg_table *t = plan->cfg;
    struct watermark w = watermark_of(plan);

    if (t->mode != CFG_MODE_INCREMENTAL)
        return true;
    if (w.kind == WM_NONE) {
        abuf_printf(report,
                    "tables.%s.%s: watermark \"%s\" must be a date, timestamp or integer column "
                    "of the source%s%s\n",
                    t->schema, t->name, t->watermark ? t->watermark : "", w.type[0] ? ", not " : "",
                    w.type);
        return false;
    }
    if (!w.not_null) {
        abuf_printf(report,
                    "tables.%s.%s: watermark \"%s\" can be NULL in the source: a row whose "
                    "watermark is NULL is never in a window, so incremental runs would never "
                    "publish it (make the column NOT NULL)\n",
                    t->schema, t->name, t->watermark);
        return false;
    }
    if (plan->n_key == 0) {
        abuf_printf(report,
                    "tables.%s.%s: incremental mode needs a key (the source has no "
                    "primary key: set `key:`)\n",
                    t->schema, t->name);
        return false;
    }
    for (size_t k = 0; k < plan->n_key; k++) {
        const struct plan_column *c = &plan->columns[plan->key_columns[k]];
        if (c->output.may_be_null || !c->source->not_null) {
            abuf_printf(report,
                        "tables.%s.%s: key column %s can be NULL (or its rule makes "
                        "it NULL): rows could not be merged by key\n",
                        t->schema, t->name, c->source->name);
            return false;
        }
    }
    if (t->deletes == CFG_DELETES_SOFT) {
        size_t i = plan_column_index(plan, t->deleted_column);
        if (i == (size_t)-1 || !plan->columns[i].rule->ops->passthrough) {
            abuf_printf(report,
                        "tables.%s.%s: deleted_column \"%s\" must be a source column "
                        "with rule keep\n",
                        t->schema, t->name, t->deleted_column ? t->deleted_column : "");
            return false;
        }
    }
    return true;
}

/*
 * The columns of the published version against the plan: a source column whose type
 * changed (int -> numeric(10,2), varchar(5) -> text) would otherwise be merged into the
 * old type (1.75 rounded to 2, or every run failing on a too long value). The types are
 * both format_type() text, of the source catalog (or a rule's fixed type) and of the
 * target's column: the same text for the same type.
 */
static bool compare_layout(PGconn *target, const struct table_plan *plan, struct table_state *st,
                           struct anon_error *err)
{
    const char *params[1] = {st->base_table[0] ? st->base_table : st->version_table};
    PGresult *res = pgconn_query(
        target,
        "SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull "
        "FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
        "WHERE c.relnamespace = '" TARGET_DATA_SCHEMA "'::pg_catalog.regnamespace "
        "  AND c.relname = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
        1, params, PGRES_TUPLES_OK, err);
    bool digest = false;
    int n;

    if (!res)
        return false;
    n = PQntuples(res);
    for (size_t i = 0; i < plan->n_columns && !st->layout_change[0]; i++) {
        const struct plan_column *c = &plan->columns[i];
        int r = 0;
        while (r < n && strcmp(PQgetvalue(res, r, 0), c->source->name) != 0)
            r++;
        if (r == n)
            snprintf(st->layout_change, sizeof(st->layout_change),
                     "column %s is not in the published table", c->source->name);
        else if (strcmp(PQgetvalue(res, r, 1), c->output.type) != 0)
            snprintf(st->layout_change, sizeof(st->layout_change),
                     "column %s changed type (published as %s, now %s)", c->source->name,
                     PQgetvalue(res, r, 1), c->output.type);
        else if (PQgetvalue(res, r, 2)[0] == 't' && !c->target_not_null)
            snprintf(st->layout_change, sizeof(st->layout_change),
                     "column %s can be NULL now (published NOT NULL)", c->source->name);
    }
    for (int r = 0; r < n; r++)
        digest = digest || strcmp(PQgetvalue(res, r, 0), PLAN_KEY_DIGEST_COLUMN) == 0;
    if (!st->layout_change[0] && digest != plan->key_digest)
        snprintf(st->layout_change, sizeof(st->layout_change),
                 digest ? "the key no longer needs a digest of the source key"
                        : "the published table has no digest of the source key (needed to "
                          "tell a hash collision from a changed row)");
    if (!st->layout_change[0] && (size_t)n != plan->n_columns + (digest ? 1 : 0))
        snprintf(st->layout_change, sizeof(st->layout_change),
                 "the published table has %d columns, the rules now produce %zu", n,
                 plan->n_columns);
    PQclear(res);
    return true;
}

char *increment_source_layout(const struct table_plan *plan)
{
    json_t *list = json_array();
    char *text;

    for (size_t i = 0; list && i < plan->n_columns; i++) {
        const struct catalog_column *c = plan->columns[i].source;
        json_array_append_new(list, json_pack("[sis]", c->name, c->attnum,
                                              c->declared_type ? c->declared_type : c->type));
    }
    text = list ? json_dumps(list, JSON_COMPACT) : NULL;
    json_decref(list);
    return text;
}

/*
 * The source's columns against those recorded when the version was published: a rule's
 * output type does not show every change of its input (a hash of a numeric(10,1) and of
 * a numeric(10,3) are both text, but of "1.5" and "1.500"), and a column dropped and
 * added again has new values (all NULL, or its default) with no row's watermark moved.
 * Either way the published rows are not what the rules make of the source any more.
 */
static void compare_source(const struct table_plan *plan, const char *recorded,
                           struct table_state *st)
{
    json_t *old = recorded ? json_loads(recorded, 0, NULL) : NULL;

    if (!json_is_array(old)) {
        snprintf(st->layout_change, sizeof(st->layout_change),
                 "the published version does not record the source's column types "
                 "(published by an earlier anonetl)");
        json_decref(old);
        return;
    }
    for (size_t i = 0; i < plan->n_columns && !st->layout_change[0]; i++) {
        const struct catalog_column *c = plan->columns[i].source;
        const char *type = c->declared_type ? c->declared_type : c->type;
        const char *name = NULL, *was = "";
        json_int_t attnum = 0;
        size_t k;
        json_t *item;
        json_array_foreach(old, k, item)
        {
            if (json_unpack(item, "[sIs]", &name, &attnum, &was) == 0 && strcmp(name, c->name) == 0)
                break;
            name = NULL;
        }
        if (!name)
            snprintf(st->layout_change, sizeof(st->layout_change), "column %s is new in the source",
                     c->name);
        else if (attnum != c->attnum)
            snprintf(st->layout_change, sizeof(st->layout_change),
                     "column %s was dropped and added again in the source: its values are new",
                     c->name);
        else if (strcmp(was, type) != 0)
            snprintf(st->layout_change, sizeof(st->layout_change),
                     "column %s changed type in the source (was %s, now %s)", c->name, was, type);
    }
    json_decref(old);
}

bool increment_read_state(PGconn *target, const char *schema, const struct table_plan *plan,
                          struct table_state *st, struct anon_error *err)
{
    const char *params[2] = {schema, cfg_published_name(plan->cfg)};
    PGresult *res = pgconn_query(
        target,
        "SELECT p.version_table, p.table_fingerprint, p.key_fingerprint, "
        "       COALESCE(p.high_water_mark, ''), COALESCE(p.watermark_marks, ''), "
        "       EXISTS (SELECT 1 FROM pg_catalog.pg_class c "
        "               WHERE c.relnamespace = '" TARGET_DATA_SCHEMA "'::pg_catalog.regnamespace "
        "                 AND c.relname = COALESCE(p.base_table, p.version_table)), "
        "       COALESCE(p.base_table, ''), p.source_layout "
        "FROM anonetl.published p WHERE p.target_schema = $1 AND p.table_name = $2",
        2, params, PGRES_TUPLES_OK, err);
    bool ok;

    memset(st, 0, sizeof(*st));
    if (!res)
        return false;
    if (PQntuples(res) == 1) {
        st->present = true;
        snprintf(st->version_table, sizeof(st->version_table), "%s", PQgetvalue(res, 0, 0));
        snprintf(st->fingerprint, sizeof(st->fingerprint), "%s", PQgetvalue(res, 0, 1));
        snprintf(st->key_fingerprint, sizeof(st->key_fingerprint), "%s", PQgetvalue(res, 0, 2));
        snprintf(st->high_water_mark, sizeof(st->high_water_mark), "%s", PQgetvalue(res, 0, 3));
        snprintf(st->marks, sizeof(st->marks), "%s", PQgetvalue(res, 0, 4));
        st->version_exists = PQgetvalue(res, 0, 5)[0] == 't';
        snprintf(st->base_table, sizeof(st->base_table), "%s", PQgetvalue(res, 0, 6));
    }
    ok = !st->version_exists || compare_layout(target, plan, st, err);
    if (ok && st->version_exists && !st->layout_change[0])
        compare_source(plan, PQgetisnull(res, 0, 7) ? NULL : PQgetvalue(res, 0, 7), st);
    PQclear(res);
    return ok;
}

const char *increment_reload_reason(const struct table_plan *plan, const struct table_state *st,
                                    const char *fingerprint_hex, const char *key_fingerprint,
                                    bool full_refresh)
{
    if (plan->cfg->mode != CFG_MODE_INCREMENTAL)
        return "full mode";
    if (full_refresh)
        return "--full-refresh";
    if (!st->present || !st->version_exists)
        return "first run";
    if (strcmp(st->fingerprint, fingerprint_hex) != 0)
        return "the table's rules changed";
    if (strcmp(st->key_fingerprint, key_fingerprint) != 0)
        return "the hash key changed";
    if (st->layout_change[0])
        return st->layout_change;
    if (plan->cfg->k_anonymity && !st->base_table[0])
        return "k-anonymity now keeps the rows as the rules make them in a base table";
    if (!plan->cfg->k_anonymity && st->base_table[0])
        return "the table no longer has k-anonymity";
    if (!st->high_water_mark[0])
        return "no high-water mark";
    return NULL;
}

/* "1 hour 3 milliseconds"-free: the lag as an interval literal parameter. */
static void lag_text(const struct table_plan *plan, char *out, size_t len)
{
    snprintf(out, len, "%ld milliseconds", cfg_watermark_lag_ms(plan->cfg));
}

/* Oldest writer's transaction start (or "") of the relations, and whether any writer's
 * start is unknown. Returns the number of writing sessions. */
static int writers_of(const struct source_snapshot *snap, const unsigned long long *rel, size_t n,
                      char *oldest, size_t oldest_len, bool *unknown)
{
    int sessions = 0;

    oldest[0] = '\0';
    *unknown = false;
    for (size_t i = 0; i < n; i++) {
        const struct source_writers *w = rel[i] ? source_snapshot_writers(snap, rel[i]) : NULL;
        if (!w)
            continue;
        sessions += w->sessions;
        *unknown = *unknown || !w->start_known;
        /* Both are timestamptz text of the same session (ISO, UTC): text order is time
         * order. */
        if (w->oldest_start[0] && (!oldest[0] || strcmp(w->oldest_start, oldest) < 0))
            snprintf(oldest, oldest_len, "%s", w->oldest_start);
    }
    return sessions;
}

static bool table_oid(PGconn *conn, const struct table_plan *plan, unsigned long long *oid,
                      struct anon_error *err)
{
    struct abuf name;
    const char *params[1];
    PGresult *res;

    abuf_init(&name, 4096);
    quote_table(conn, plan->cfg, &name);
    params[0] = abuf_cstr(&name);
    res = abuf_failed(&name) ? NULL
                             : pgconn_query(conn, "SELECT $1::pg_catalog.regclass::pg_catalog.oid",
                                            1, params, PGRES_TUPLES_OK, err);
    abuf_free(&name);
    if (!res)
        return false;
    *oid = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return true;
}

/*
 * Date and time watermarks: T = now() - lag on the source's clock (the snapshot
 * transaction's start), and no later than the start of the oldest transaction writing
 * the table at the snapshot (a row it stamps with now() or clock_timestamp() is not
 * older). In the watermark's own type:
 *   timestamptz      T floored to the type's precision, minus one unit: a row committed
 *                    later was stamped after T, so its value, rounded or truncated to the
 *                    precision, is above the bound (timestamp(0): the second of T is
 *                    read again by the next run, never skipped);
 *   timestamp        the same on the local time of T in the source's time zone, taking
 *                    the lowest local time of the next 3 hours (when clocks go back,
 *                    local times repeat: a row stamped in the repeated hour is not below
 *                    a bound set before the change);
 *   date             the local date of T minus one day (today's rows are read again by
 *                    every run of the day: later changes the same day are never lost).
 */
static bool time_upper(PGconn *src, const struct table_plan *plan, struct watermark w,
                       const char *oldest_writer, const char *zone, char *upper, size_t len,
                       struct anon_error *err)
{
    char lag[48];
    const char *params[3] = {lag, oldest_writer[0] ? oldest_writer : NULL, zone};
    long unit = 1;
    struct abuf sql;
    PGresult *res;

    lag_text(plan, lag, sizeof(lag));
    for (int i = w.precision; i < 6; i++)
        unit *= 10;
    abuf_init(&sql, 1 << 16);
    abuf_puts(&sql, "WITH t AS (SELECT LEAST(pg_catalog.now() - $1::pg_catalog.interval, "
                    "COALESCE($2::pg_catalog.timestamptz, 'infinity')) AS t), x AS (SELECT ");
    if (w.kind == WM_TIMESTAMPTZ)
        abuf_puts(&sql, "t AS x FROM t) ");
    else
        abuf_puts(&sql, "LEAST(pg_catalog.timezone($3::pg_catalog.text, t), "
                        "pg_catalog.timezone($3::pg_catalog.text, t + '3 hours') - "
                        "'3 hours'::pg_catalog.interval) AS x FROM t) ");
    /* The type text comes from format_type(): SQL syntax, not user input. */
    if (w.kind == WM_DATE)
        abuf_puts(&sql, "SELECT (x::pg_catalog.date - 1)::pg_catalog.text FROM x");
    else
        abuf_printf(
            &sql,
            "SELECT (pg_catalog.date_trunc('second', x) + "
            "(pg_catalog.floor(pg_catalog.mod(EXTRACT(MICROSECONDS FROM x), 1000000) / "
            "%ld) * %ld - %ld) * '1 microsecond'::pg_catalog.interval)::%s::pg_catalog.text "
            "FROM x",
            unit, unit, unit, w.type);
    res = abuf_failed(&sql) ? NULL
                            : pgconn_query(src, abuf_cstr(&sql), w.kind == WM_TIMESTAMPTZ ? 2 : 3,
                                           params, PGRES_TUPLES_OK, err);
    abuf_free(&sql);
    if (!res)
        return false;
    snprintf(upper, len, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return true;
}

/* Marks "S=M;S=M": at source time S, M was the largest watermark value committed. */
static void choose_mark(const char *marks, const char *before, const char *fallback, char *upper,
                        size_t len)
{
    const char *p = marks;

    snprintf(upper, len, "%s", fallback);
    while (p && *p) {
        const char *eq = strchr(p, '='), *end = strchr(p, ';');
        size_t slen = eq ? (size_t)(eq - p) : 0;
        if (!end)
            end = p + strlen(p);
        if (eq && eq < end && strncmp(p, before, slen) < 0 && (size_t)(end - eq - 1) < len)
            snprintf(upper, len, "%.*s", (int)(end - eq - 1), eq + 1);
        p = *end ? end + 1 : NULL;
    }
}

/* The marks kept for later runs: the last INCREMENT_MARKS_KEEP, then this run's. */
#define INCREMENT_MARKS_KEEP 24
static void add_mark(const char *marks, const char *now, const char *max, char *out, size_t len)
{
    const char *p = marks;
    int n = 0;

    for (const char *q = marks; *q; q++)
        n += *q == ';';
    n += marks[0] != '\0';
    while (n >= INCREMENT_MARKS_KEEP && p) {
        p = strchr(p, ';');
        p = p ? p + 1 : NULL;
        n--;
    }
    out[0] = '\0';
    if (p && *p && strlen(p) + strlen(now) + strlen(max) + 3 < len)
        snprintf(out, len, "%s;", p);
    if (max[0])
        snprintf(out + strlen(out), len - strlen(out), "%s=%s", now, max);
    else if (out[0])
        out[strlen(out) - 1] = '\0';
}

/*
 * Integer watermarks (ids from a sequence): every id up to the largest committed one is
 * in the snapshot unless a transaction that took an id is still open. nextval() holds a
 * lock on the sequence until its transaction ends, an insert one on the table: with no
 * other session holding either at the snapshot, the largest id in the snapshot is the
 * bound. Otherwise the bound is the largest id seen by an earlier run at a time before the
 * oldest of those transactions began (or, when the source role cannot see when they
 * began, before now() - lag): ids are taken in increasing order, so every id up to it was
 * taken before that time and its transaction has ended. Each run leaves its own mark.
 */
static bool integer_upper(struct increment_clock *clk, const struct table_plan *plan,
                          const struct table_state *st, struct increment_bound *out,
                          struct anon_error *err)
{
    PGconn *src = source_snapshot_conn(clk->snapshot);
    unsigned long long rel[2] = {0, 0};
    char lag[48], oldest[64];
    const char *params[3];
    struct abuf sql, name;
    PGresult *res;
    bool unknown;

    lag_text(plan, lag, sizeof(lag));
    abuf_init(&sql, 1 << 16);
    abuf_init(&name, 4096);
    quote_table(src, plan->cfg, &name);
    abuf_puts(&sql, "SELECT $1::pg_catalog.regclass::pg_catalog.oid, "
                    "pg_catalog.pg_get_serial_sequence($1::pg_catalog.text, $2::pg_catalog.text)"
                    "::pg_catalog.regclass::pg_catalog.oid, "
                    "pg_catalog.now()::pg_catalog.text, "
                    "(pg_catalog.now() - $3::pg_catalog.interval)::pg_catalog.text, "
                    "pg_catalog.max(");
    pgconn_quote_ident(src, plan->cfg->watermark, &sql);
    abuf_printf(&sql, ")::pg_catalog.text FROM %s", abuf_cstr(&name));
    params[0] = abuf_cstr(&name);
    params[1] = plan->cfg->watermark;
    params[2] = lag;
    res = abuf_failed(&sql) || abuf_failed(&name)
              ? NULL
              : pgconn_query(src, abuf_cstr(&sql), 3, params, PGRES_TUPLES_OK, err);
    abuf_free(&sql);
    abuf_free(&name);
    if (!res)
        return false;
    rel[0] = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
    rel[1] = PQgetisnull(res, 0, 1) ? 0 : strtoull(PQgetvalue(res, 0, 1), NULL, 10);
    add_mark(st->marks, PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 4), out->marks,
             sizeof(out->marks));
    if (writers_of(clk->snapshot, rel, 2, oldest, sizeof(oldest), &unknown) == 0) {
        snprintf(out->upper, sizeof(out->upper), "%s", PQgetvalue(res, 0, 4));
    } else {
        const char *before = unknown || !oldest[0] ? PQgetvalue(res, 0, 3) : oldest;
        choose_mark(st->marks, before, st->high_water_mark, out->upper, sizeof(out->upper));
        snprintf(out->held, sizeof(out->held),
                 "the next run starts again at the largest id committed before %s: "
                 "transactions writing the table or taking ids were open at the snapshot",
                 before);
    }
    PQclear(res);
    return true;
}

bool increment_upper_bound(struct increment_clock *clk, const struct table_plan *plan,
                           const struct table_state *st, struct increment_bound *out,
                           struct anon_error *err)
{
    struct watermark w = watermark_of(plan);
    PGconn *src = source_snapshot_conn(clk->snapshot);
    unsigned long long rel = 0;
    char oldest[64] = "";
    bool unknown = false;

    memset(out, 0, sizeof(*out));
    if (w.kind == WM_INTEGER)
        return integer_upper(clk, plan, st, out, err);
    if ((w.kind == WM_TIMESTAMP || w.kind == WM_DATE) && !clk->zone[0] &&
        !pgconn_default_setting(clk->db, "source", "TimeZone", clk->zone, sizeof(clk->zone), err))
        return false;
    if (!table_oid(src, plan, &rel, err))
        return false;
    if (writers_of(clk->snapshot, &rel, 1, oldest, sizeof(oldest), &unknown) > 0 && oldest[0])
        snprintf(out->held, sizeof(out->held),
                 "the next run starts again before %s, when the oldest transaction writing "
                 "the table at the snapshot began%s",
                 oldest, unknown ? " (some writers' start is not visible to the source role)" : "");
    return time_upper(src, plan, w, oldest, clk->zone, out->upper, sizeof(out->upper), err);
}

static void append_literal(PGconn *conn, const char *value, struct abuf *out)
{
    char *lit = PQescapeLiteral(conn, value, strlen(value));

    if (!lit) {
        out->failed = true;
        return;
    }
    abuf_puts(out, lit);
    PQfreemem(lit);
}

bool increment_window_sql(PGconn *conn, const struct table_plan *plan, const char *lower,
                          const char *upper, struct abuf *out)
{
    const char *type = watermark_of(plan).type;

    if (lower && lower[0]) {
        pgconn_quote_ident(conn, plan->cfg->watermark, out);
        abuf_puts(out, " > ");
        append_literal(conn, lower, out);
        abuf_printf(out, "::%s", type);
    }
    if (upper && upper[0]) {
        if (lower && lower[0])
            abuf_puts(out, " AND ");
        pgconn_quote_ident(conn, plan->cfg->watermark, out);
        abuf_puts(out, " <= ");
        append_literal(conn, upper, out);
        abuf_printf(out, "::%s", type);
    }
    return !abuf_failed(out);
}

/* A one-row, one-column query with the table (quoted, qualified) and watermark as $1, $2. */
static PGresult *watermark_query(PGconn *conn, const struct table_plan *plan, const char *sql,
                                 struct anon_error *err)
{
    struct abuf name;
    const char *params[2];
    PGresult *res;

    abuf_init(&name, 4096);
    quote_table(conn, plan->cfg, &name);
    params[0] = abuf_cstr(&name);
    params[1] = plan->cfg->watermark;
    res = abuf_failed(&name) ? NULL : pgconn_query(conn, sql, 2, params, PGRES_TUPLES_OK, err);
    abuf_free(&name);
    return res;
}

/* The cache size of the sequence that fills the column, 0 when none does. */
static const char sequence_cache_sql[] =
    "SELECT COALESCE((SELECT s.seqcache FROM pg_catalog.pg_sequence s WHERE s.seqrelid = "
    "pg_catalog.pg_get_serial_sequence($1::pg_catalog.text, $2::pg_catalog.text)"
    "::pg_catalog.regclass), 0)";

bool increment_check_source(PGconn *conn, const struct table_plan *plan, struct abuf *report,
                            struct anon_error *err)
{
    PGresult *res;
    long cache;

    if (plan->cfg->mode != CFG_MODE_INCREMENTAL || watermark_of(plan).kind != WM_INTEGER)
        return true;
    if (!(res = watermark_query(conn, plan, sequence_cache_sql, err)))
        return false;
    cache = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    if (cache > 1)
        abuf_printf(report,
                    "tables.%s.%s: watermark \"%s\" comes from a sequence with CACHE %ld: each "
                    "session takes ids in blocks, so ids are not taken in time order across "
                    "sessions and a run could move past an id another session commits later "
                    "(ALTER SEQUENCE ... CACHE 1, or use a timestamptz watermark)\n",
                    plan->cfg->schema, plan->cfg->name, plan->cfg->watermark, cache);
    return true;
}

static const char index_sql[] =
    "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_index i JOIN pg_catalog.pg_attribute a "
    "  ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] "
    "  WHERE i.indrelid = $1::pg_catalog.regclass AND a.attname = $2 AND i.indisvalid "
    "    AND i.indpred IS NULL)";

/* Whether the source role sees other sessions' transaction starts (increment.h). */
static const char stats_sql[] =
    "SELECT pg_catalog.pg_has_role('pg_read_all_stats', 'USAGE') OR "
    "(SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user)";

void increment_warn_source(PGconn *conn, const struct cfg_db *db, const struct table_plan *plan,
                           FILE *out)
{
    const struct cfg_table *t = plan->cfg;
    struct watermark w = watermark_of(plan);
    struct anon_error err;
    char zone[128] = "";
    PGresult *res;

    if (t->mode != CFG_MODE_INCREMENTAL || w.kind == WM_NONE)
        return;
    if ((res = watermark_query(conn, plan, index_sql, &err)) != NULL) {
        if (PQgetvalue(res, 0, 0)[0] != 't')
            fprintf(out,
                    "warning: %s: no index on the source leads with the watermark %s: every "
                    "incremental run scans the whole table (%.0f MB, about %.0f rows) to find "
                    "its changes, whatever their number; with one it reads only them "
                    "(CREATE INDEX ON %s (%s))\n",
                    plan->qualified, t->watermark, (double)plan->catalog->est_bytes / 1048576.0,
                    plan->catalog->est_rows > 0 ? plan->catalog->est_rows : 0.0, plan->qualified,
                    t->watermark);
        PQclear(res);
    }
    if (w.kind == WM_INTEGER && (res = watermark_query(conn, plan, sequence_cache_sql, &err))) {
        if (strtol(PQgetvalue(res, 0, 0), NULL, 10) == 0)
            fprintf(out,
                    "warning: %s: the integer watermark %s is not filled by a sequence of its "
                    "own (serial or identity): runs see the transactions writing the table, "
                    "but not ids an application took elsewhere and inserts later, out of "
                    "order: prefer a timestamptz watermark\n",
                    plan->qualified, t->watermark);
        PQclear(res);
    }
    if (w.kind == WM_TIMESTAMP || w.kind == WM_DATE) {
        if (!pgconn_default_setting(db, "source", "TimeZone", zone, sizeof(zone), &err))
            snprintf(zone, sizeof(zone), "unknown: %s", err.msg);
        fprintf(out,
                "warning: %s: the watermark %s is %s: its values are local times, read in the "
                "source's default time zone (%s); changes written by sessions set to another "
                "time zone would be read late or missed: prefer timestamptz%s\n",
                plan->qualified, t->watermark, w.type, zone,
                w.kind == WM_DATE ? " (a date watermark also reads the current day again "
                                    "every run)"
                                  : "");
    }
    if ((res = pgconn_query(conn, stats_sql, 0, NULL, PGRES_TUPLES_OK, &err)) != NULL) {
        if (PQgetvalue(res, 0, 0)[0] != 't')
            fprintf(out,
                    "warning: %s: the source role cannot see when other sessions' "
                    "transactions began (grant it pg_read_all_stats): only watermark_lag "
                    "(%ld s) protects rows of write transactions that commit later than that "
                    "after their watermark\n",
                    plan->qualified, cfg_watermark_lag_ms(t) / 1000);
        PQclear(res);
    }
}

void increment_warn_config(const struct config *cfg, FILE *out)
{
    for (size_t i = 0; i < cfg->n_tables; i++) {
        const struct cfg_table *t = &cfg->tables[i];
        if (t->mode == CFG_MODE_INCREMENTAL && t->where && t->deletes == CFG_DELETES_NONE)
            fprintf(out,
                    "warning: %s.%s: incremental with where: and deletes: none: a row that "
                    "stops matching where is removed by the next run, but a row deleted "
                    "from the source stays published (a withdrawn consent whose row is then "
                    "deleted stays for good): use deletes: key_scan, or soft\n",
                    t->schema, t->name);
    }
}
