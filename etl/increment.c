/* increment.c: incremental windows and reload decisions (see increment.h). */
#include "etl/increment.h"

#include <stdio.h>
#include <string.h>

#include "etl/pgconn.h"
#include "etl/target.h"

enum wm_kind { WM_NONE, WM_TIME, WM_INTEGER };

static enum wm_kind watermark_kind(const struct table_plan *plan, const char **type)
{
    size_t i;

    if (!plan->cfg->watermark)
        return WM_NONE;
    i = plan_column_index(plan, plan->cfg->watermark);
    if (i == (size_t)-1)
        return WM_NONE;
    *type = plan->columns[i].source->type;
    if (strncmp(*type, "timestamp", 9) == 0 || strcmp(*type, "date") == 0)
        return WM_TIME;
    if (strcmp(*type, "bigint") == 0 || strcmp(*type, "integer") == 0 ||
        strcmp(*type, "smallint") == 0)
        return WM_INTEGER;
    return WM_NONE;
}

bool increment_check_plan(const struct table_plan *plan, struct abuf *report)
{
    const struct cfg_table *t = plan->cfg;
    const char *type = "";

    if (t->mode != CFG_MODE_INCREMENTAL)
        return true;
    if (watermark_kind(plan, &type) == WM_NONE) {
        abuf_printf(report,
                    "tables.%s.%s: watermark \"%s\" must be a date, timestamp or integer column "
                    "of the source%s%s\n",
                    t->schema, t->name, t->watermark ? t->watermark : "", type[0] ? ", not " : "",
                    type);
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
    const char *params[1] = {st->version_table};
    PGresult *res = pgconn_query(
        target,
        "SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) "
        "FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
        "WHERE c.relnamespace = '" TARGET_DATA_SCHEMA "'::pg_catalog.regnamespace "
        "  AND c.relname = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
        1, params, PGRES_TUPLES_OK, err);
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
    }
    if (!st->layout_change[0] && (size_t)n != plan->n_columns)
        snprintf(st->layout_change, sizeof(st->layout_change),
                 "the published table has %d columns, the rules now produce %zu", n,
                 plan->n_columns);
    PQclear(res);
    return true;
}

bool increment_read_state(PGconn *target, const char *schema, const struct table_plan *plan,
                          struct table_state *st, struct anon_error *err)
{
    const char *params[2] = {schema, plan->cfg->name};
    PGresult *res = pgconn_query(
        target,
        "SELECT p.version_table, p.table_fingerprint, p.key_fingerprint, "
        "       COALESCE(p.high_water_mark, ''), "
        "       EXISTS (SELECT 1 FROM pg_catalog.pg_class c "
        "               WHERE c.relnamespace = '" TARGET_DATA_SCHEMA "'::pg_catalog.regnamespace "
        "                 AND c.relname = p.version_table) "
        "FROM anonetl.published p WHERE p.target_schema = $1 AND p.table_name = $2",
        2, params, PGRES_TUPLES_OK, err);

    memset(st, 0, sizeof(*st));
    if (!res)
        return false;
    if (PQntuples(res) == 1) {
        st->present = true;
        snprintf(st->version_table, sizeof(st->version_table), "%s", PQgetvalue(res, 0, 0));
        snprintf(st->fingerprint, sizeof(st->fingerprint), "%s", PQgetvalue(res, 0, 1));
        snprintf(st->key_fingerprint, sizeof(st->key_fingerprint), "%s", PQgetvalue(res, 0, 2));
        snprintf(st->high_water_mark, sizeof(st->high_water_mark), "%s", PQgetvalue(res, 0, 3));
        st->version_exists = PQgetvalue(res, 0, 4)[0] == 't';
    }
    PQclear(res);
    return !st->version_exists || compare_layout(target, plan, st, err);
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
    if (!st->high_water_mark[0])
        return "no high-water mark";
    return NULL;
}

static bool quote_table(PGconn *conn, const struct cfg_table *t, struct abuf *sql)
{
    pgconn_quote_ident(conn, t->schema, sql);
    abuf_putc(sql, '.');
    return pgconn_quote_ident(conn, t->name, sql);
}

bool increment_upper_bound(PGconn *source, const struct table_plan *plan, char *upper,
                           size_t upper_len, struct anon_error *err)
{
    const char *type = "";
    enum wm_kind kind = watermark_kind(plan, &type);
    char lag[32];
    const char *params[1] = {lag};
    struct abuf sql;
    PGresult *res;

    abuf_init(&sql, 1 << 16);
    if (kind == WM_TIME) {
        snprintf(lag, sizeof(lag), "%ld milliseconds", plan->cfg->watermark_lag_ms);
        /* The type text comes from format_type(): SQL syntax, not user input. */
        abuf_printf(&sql, "SELECT (pg_catalog.now() - $1::pg_catalog.interval)::%s::text", type);
        res = pgconn_query(source, abuf_cstr(&sql), 1, params, PGRES_TUPLES_OK, err);
    } else {
        abuf_puts(&sql, "SELECT pg_catalog.max(");
        pgconn_quote_ident(source, plan->cfg->watermark, &sql);
        abuf_puts(&sql, ")::text FROM ");
        quote_table(source, plan->cfg, &sql);
        res = abuf_failed(&sql)
                  ? NULL
                  : pgconn_query(source, abuf_cstr(&sql), 0, NULL, PGRES_TUPLES_OK, err);
    }
    abuf_free(&sql);
    if (!res)
        return false;
    /* An empty table has no max: "" means "no rows yet", and the next run starts over. */
    snprintf(upper, upper_len, "%s", PQgetisnull(res, 0, 0) ? "" : PQgetvalue(res, 0, 0));
    PQclear(res);
    return true;
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
    const char *type = "";

    watermark_kind(plan, &type);
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
