/* publish.c: switch every published view in one transaction (see publish.h). */
#include "etl/publish.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "anonymise/pgarray.h"
#include "etl/grants.h"
#include "etl/kanon_apply.h"
#include "etl/keycheck.h"
#include "etl/log.h"
#include "etl/pgconn.h"

#define PUBLISH_LOCK_TIMEOUT "SET LOCAL lock_timeout = '30s'"

struct old_version {
    char name[TARGET_NAME_MAX];
};
#define PUBLISH_OLD_SLOTS 4

/* "schema"."table" of the published view. */
static void view_sql(PGconn *conn, const char *schema, const struct table_plan *plan,
                     struct abuf *out)
{
    pgconn_quote_ident(conn, schema, out);
    abuf_putc(out, '.');
    pgconn_quote_ident(conn, cfg_published_name(plan->cfg), out);
}

/* A relation already at the published name must be one of our views: a view anonetl did
 * not publish (a report a DBA made there) would be replaced, or dropped and recreated. */
static bool check_existing(PGconn *conn, const char *schema, const struct table_plan *plan,
                           struct anon_error *err)
{
    const char *params[2] = {schema, cfg_published_name(plan->cfg)};
    PGresult *res = pgconn_query(conn,
                                 "SELECT c.relkind, EXISTS (SELECT 1 FROM anonetl.published p "
                                 "  WHERE p.target_schema = $1 AND p.table_name = $2) "
                                 "FROM pg_catalog.pg_class c "
                                 "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                                 "WHERE n.nspname = $1 AND c.relname = $2",
                                 2, params, PGRES_TUPLES_OK, err);
    const char *why = NULL;

    if (!res)
        return false;
    if (PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] != 'v')
        why = "is not a view: anonetl publishes views there";
    else if (PQntuples(res) == 1 && PQgetvalue(res, 0, 1)[0] != 't')
        why = "is a view anonetl did not publish (no record in anonetl.published): publishing "
              "would replace it";
    PQclear(res);
    if (why)
        anon_error_set(err,
                       "%s.%s exists and %s; rename or drop that relation, or publish the "
                       "table under another name (publish_as)",
                       schema, cfg_published_name(plan->cfg), why);
    return why == NULL;
}

bool publish_check_names(PGconn *conn, const struct publish_request *req, struct anon_error *err)
{
    for (size_t i = 0; i < req->n_tables; i++)
        if (!check_existing(conn, req->schema, req->tables[i].plan, err))
            return false;
    return true;
}

/* The version the view shows now (old[0]) and its base table, if any (old[1]): dropped
 * after the commit unless this publish keeps using them. */
static bool old_version_of(PGconn *conn, const char *schema, const struct publish_table *t,
                           struct old_version *old, struct anon_error *err)
{
    const char *params[2] = {schema, cfg_published_name(t->plan->cfg)};
    PGresult *res = pgconn_query(conn,
                                 "SELECT version_table, COALESCE(base_table, '') "
                                 "FROM anonetl.published "
                                 "WHERE target_schema = $1 AND table_name = $2 FOR UPDATE",
                                 2, params, PGRES_TUPLES_OK, err);

    if (!res)
        return false;
    old[0].name[0] = old[1].name[0] = '\0';
    if (PQntuples(res) == 1) {
        snprintf(old[0].name, sizeof(old[0].name), "%s", PQgetvalue(res, 0, 0));
        if (strcmp(PQgetvalue(res, 0, 1), t->version_name) != 0)
            snprintf(old[1].name, sizeof(old[1].name), "%s", PQgetvalue(res, 0, 1));
    }
    PQclear(res);
    return true;
}

/* The table the view shows after this publish. */
static const char *shown_table(const struct publish_table *t)
{
    return t->published_name[0] ? t->published_name : t->version_name;
}

/* Names of the views that depend on the published view (the data team's). */
static bool dependent_views(PGconn *conn, const char *view, struct abuf *names,
                            struct anon_error *err)
{
    const char *params[1] = {view};
    PGresult *res = pgconn_query(
        conn,
        "SELECT DISTINCT r.ev_class::pg_catalog.regclass::text FROM pg_catalog.pg_depend d "
        "JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid "
        "WHERE d.refobjid = $1::pg_catalog.regclass AND r.ev_class <> d.refobjid",
        1, params, PGRES_TUPLES_OK, err);

    if (!res)
        return false;
    for (int i = 0; i < PQntuples(res); i++)
        abuf_printf(names, "%s%s", i ? ", " : "", PQgetvalue(res, i, 0));
    PQclear(res);
    return true;
}

static void select_list(PGconn *conn, const struct publish_table *t, struct abuf *sql)
{
    abuf_puts(sql, " AS SELECT ");
    for (size_t i = 0; i < t->plan->n_columns; i++) {
        if (i > 0)
            abuf_puts(sql, ", ");
        pgconn_quote_ident(conn, t->plan->columns[i].source->name, sql);
    }
    abuf_puts(sql, " FROM ");
    target_version_sql(conn, shown_table(t), sql);
}

/*
 * CREATE OR REPLACE VIEW keeps the view (and so the views built on it) but cannot drop,
 * rename or retype columns. When the column set changed that way, the view is recreated,
 * but only if nothing depends on it: breaking the data team's views silently is worse
 * than failing the run with their names.
 */
static bool switch_view(PGconn *conn, const char *schema, const struct publish_table *t,
                        struct anon_error *err)
{
    struct abuf view, sql, deps;
    bool ok;

    abuf_init(&view, 4096);
    abuf_init(&sql, 1 << 20);
    abuf_init(&deps, 1 << 16);
    view_sql(conn, schema, t->plan, &view);
    abuf_printf(&sql, "CREATE OR REPLACE VIEW %s", abuf_cstr(&view));
    select_list(conn, t, &sql);
    ok = pgconn_exec(conn, "SAVEPOINT switch_view", PGRES_COMMAND_OK, err) &&
         pgconn_exec(conn, abuf_cstr(&sql), PGRES_COMMAND_OK, err);
    if (!ok && strcmp(pgconn_last_sqlstate(), "42P16") == 0) {
        ok = pgconn_exec(conn, "ROLLBACK TO SAVEPOINT switch_view", PGRES_COMMAND_OK, err) &&
             dependent_views(conn, abuf_cstr(&view), &deps, err);
        if (ok && deps.len > 0) {
            anon_error_set(err,
                           "%s: the columns changed (removed, renamed or retyped) and views "
                           "depend on it (%s): publishing would break them; adapt or drop "
                           "those views first",
                           abuf_cstr(&view), abuf_cstr(&deps));
            ok = false;
        } else if (ok) {
            log_warn("view_recreated", t->plan->qualified,
                     "columns changed: recreating %s (no view depends on it)", abuf_cstr(&view));
            abuf_reset(&sql);
            abuf_printf(&sql, "DROP VIEW %s", abuf_cstr(&view));
            ok = !abuf_failed(&sql) && pgconn_exec(conn, abuf_cstr(&sql), PGRES_COMMAND_OK, err);
            abuf_reset(&sql);
            abuf_printf(&sql, "CREATE VIEW %s", abuf_cstr(&view));
            select_list(conn, t, &sql);
            ok = ok && !abuf_failed(&sql) &&
                 pgconn_exec(conn, abuf_cstr(&sql), PGRES_COMMAND_OK, err);
        }
    }
    abuf_free(&view);
    abuf_free(&sql);
    abuf_free(&deps);
    return ok;
}

static void append_literal(PGconn *conn, struct abuf *sql, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void append_literal(PGconn *conn, struct abuf *sql, const char *fmt, ...)
{
    char text[512];
    char *lit;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    lit = PQescapeLiteral(conn, text, strlen(text));
    if (!lit) {
        sql->failed = true;
        return;
    }
    abuf_puts(sql, lit);
    PQfreemem(lit);
}

static bool grant_and_comment(PGconn *conn, const struct publish_request *req,
                              const struct publish_table *t, struct anon_error *err)
{
    struct abuf sql, view;
    bool ok = true;

    abuf_init(&sql, 1 << 20);
    abuf_init(&view, 4096);
    view_sql(conn, req->schema, t->plan, &view);
    ok = !abuf_failed(&view) && grants_sync_relation(conn, abuf_cstr(&view), req->grant_select_to,
                                                     req->n_grant_select_to, err);
    abuf_printf(&sql, "COMMENT ON VIEW %s IS ", abuf_cstr(&view));
    append_literal(conn, &sql, "anonymised copy of %s, published by anonetl run %lld",
                   t->plan->qualified, (long long)req->run_id);
    ok = ok && !abuf_failed(&sql) && pgconn_exec(conn, abuf_cstr(&sql), PGRES_COMMAND_OK, err);
    abuf_free(&sql);
    abuf_free(&view);
    return ok;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* This config's grant_select_to as a text[] literal, recorded with each table it
 * publishes or keeps (anonetl.published.grant_select_to): the schema's USAGE is the union
 * of the lists of the configs with tables in it (schema_readers). */
static void readers_literal(const struct publish_request *req, struct abuf *out)
{
    pgarray_encode_strings((const char *const *)req->grant_select_to, req->n_grant_select_to, out);
}

static bool record_table(PGconn *conn, const struct publish_request *req,
                         const struct publish_table *t, struct anon_error *err)
{
    char run[32], read[32], written[32], filtered[32], ms[32], deleted[32], suppressed[32],
        dropped[32], index_ms[32], analyze_ms[32], publish_ms[32];
    const char *p[14];
    const char *marks = t->watermark_marks[0] ? t->watermark_marks : NULL;
    /* an incremental table's base stays for its next merges */
    const char *base =
        t->published_name[0] && t->plan->cfg->mode == CFG_MODE_INCREMENTAL ? t->version_name : NULL;

    snprintf(run, sizeof(run), "%lld", (long long)req->run_id);
    snprintf(read, sizeof(read), "%llu", (unsigned long long)t->stats.rows_read);
    snprintf(written, sizeof(written), "%llu", (unsigned long long)t->stats.rows_written);
    snprintf(filtered, sizeof(filtered), "%llu", (unsigned long long)t->rows_filtered);
    snprintf(ms, sizeof(ms), "%lld", (long long)(t->stats.elapsed_s * 1000));
    snprintf(deleted, sizeof(deleted), "%llu", (unsigned long long)t->rows_deleted);
    snprintf(suppressed, sizeof(suppressed), "%llu", (unsigned long long)t->rows_suppressed);
    snprintf(dropped, sizeof(dropped), "%llu", (unsigned long long)t->rows_dropped);
    snprintf(index_ms, sizeof(index_ms), "%lld", (long long)(t->index_s * 1000));
    snprintf(analyze_ms, sizeof(analyze_ms), "%lld", (long long)(t->analyze_s * 1000));
    snprintf(publish_ms, sizeof(publish_ms), "%lld",
             (long long)((now_s() - t->publish_start) * 1000));
    p[0] = req->schema;
    p[1] = cfg_published_name(t->plan->cfg);
    p[2] = t->plan->qualified;
    p[3] = shown_table(t);
    p[4] = run;
    p[5] = t->fingerprint_hex;
    p[6] = req->key_fingerprint;
    p[7] = t->high_water_mark[0] ? t->high_water_mark : NULL;
    p[8] = marks;
    p[9] = base;
    {
        char *layout = increment_source_layout(t->plan);
        PGresult *res;
        struct abuf roles;
        if (!layout) {
            anon_error_set(err, "out of memory");
            return false;
        }
        p[10] = layout;
        p[11] = req->config_identity;
        p[12] = t->source_storage;
        abuf_init(&roles, 256);
        readers_literal(req, &roles);
        if (abuf_failed(&roles)) {
            free(layout);
            abuf_free(&roles);
            anon_error_set(err, "out of memory");
            return false;
        }
        p[13] = abuf_cstr(&roles);
        res = pgconn_query(
            conn,
            "INSERT INTO anonetl.published AS p (target_schema, table_name, source_table, "
            "version_table, run_id, table_fingerprint, key_fingerprint, high_water_mark, "
            "watermark_marks, base_table, source_layout, config_source, source_storage, "
            "grant_select_to) "
            "VALUES ($1, $2, $3, $4, $5::bigint, $6, $7, $8, $9, $10, $11, $12, $13, "
            "$14::text[]) "
            "ON CONFLICT (target_schema, table_name) DO UPDATE SET "
            "source_table = EXCLUDED.source_table, version_table = EXCLUDED.version_table, "
            "run_id = EXCLUDED.run_id, table_fingerprint = EXCLUDED.table_fingerprint, "
            "key_fingerprint = EXCLUDED.key_fingerprint, "
            "high_water_mark = EXCLUDED.high_water_mark, "
            "watermark_marks = EXCLUDED.watermark_marks, base_table = EXCLUDED.base_table, "
            "source_layout = EXCLUDED.source_layout, config_source = EXCLUDED.config_source, "
            "source_storage = EXCLUDED.source_storage, "
            "grant_select_to = EXCLUDED.grant_select_to, published_at = now()",
            14, p, PGRES_COMMAND_OK, err);
        free(layout);
        abuf_free(&roles);
        if (!res)
            return false;
        PQclear(res);
    }
    p[0] = run;
    p[1] = t->plan->qualified;
    p[2] = t->kind == PUBLISH_MERGE ? "incremental" : "full";
    p[3] = read;
    p[4] = written;
    p[5] = filtered;
    p[6] = ms;
    p[7] = deleted;
    p[8] = t->high_water_mark[0] ? t->high_water_mark : NULL;
    p[9] = suppressed;
    p[10] = dropped;
    p[11] = index_ms;
    p[12] = analyze_ms;
    p[13] = publish_ms;
    PGresult *res =
        pgconn_query(conn,
                     "INSERT INTO anonetl.run_tables (run_id, table_name, mode, "
                     "rows_read, rows_written, rows_filtered, elapsed_ms, "
                     "rows_deleted, high_water_mark, rows_suppressed, rows_dropped, "
                     "copy_ms, index_ms, analyze_ms, publish_ms) "
                     "VALUES ($1::bigint, $2, $3, $4::bigint, $5::bigint, "
                     "$6::bigint, $7::bigint, $8::bigint, $9, $10::bigint, $11::bigint, "
                     "$7::bigint, $12::bigint, $13::bigint, $14::bigint)",
                     14, p, PGRES_COMMAND_OK, err);
    PQclear(res);
    return res != NULL;
}

static long long exec_count(PGconn *conn, const char *sql, struct anon_error *err)
{
    PGresult *res = pgconn_query(conn, sql, 0, NULL, PGRES_COMMAND_OK, err);
    long long n;

    if (!res)
        return -1;
    n = strtoll(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    return n;
}

/* "v.k1 = s.k1 AND v.k2 = s.k2" over the key columns. */
static void key_match(PGconn *conn, const struct table_plan *plan, const char *a, const char *b,
                      struct abuf *sql)
{
    for (size_t k = 0; k < plan->n_key; k++) {
        const char *name = plan->columns[plan->key_columns[k]].source->name;
        abuf_printf(sql, "%s%s.", k ? " AND " : "", a);
        pgconn_quote_ident(conn, name, sql);
        abuf_printf(sql, " = %s.", b);
        pgconn_quote_ident(conn, name, sql);
    }
}

/* The key match, and the same source key where the table carries its digest. */
static void source_key_match(PGconn *conn, const struct table_plan *plan, const char *a,
                             const char *b, struct abuf *sql)
{
    key_match(conn, plan, a, b, sql);
    if (plan->key_digest)
        abuf_printf(sql, " AND %s." PLAN_KEY_DIGEST_COLUMN " = %s." PLAN_KEY_DIGEST_COLUMN, a, b);
}

/* Soft deletes: rows of the window marked deleted leave the published table. */
static bool merge_soft_deletes(PGconn *conn, struct publish_table *t, const char *version,
                               const char *staging, struct anon_error *err)
{
    struct abuf sql;
    long long n;

    abuf_init(&sql, 1 << 20);
    abuf_printf(&sql, "DELETE FROM %s v USING %s s WHERE ", version, staging);
    source_key_match(conn, t->plan, "v", "s", &sql);
    abuf_puts(&sql, " AND s.");
    pgconn_quote_ident(conn, t->plan->cfg->deleted_column, &sql);
    abuf_puts(&sql, " IS TRUE");
    n = abuf_failed(&sql) ? -1 : exec_count(conn, abuf_cstr(&sql), err);
    abuf_free(&sql);
    if (n >= 0)
        t->rows_deleted += (uint64_t)n;
    return n >= 0;
}

/*
 * Upsert the window's rows by key (the key after its rules: deterministic). With a key
 * digest, a published row is only updated by the same source key: a row of another
 * source key with the same published key (a collision) is left alone and counted.
 */
/* Every column of the table, quoted, with the key digest when it has one. */
static void column_list(PGconn *conn, const struct table_plan *plan, struct abuf *cols)
{
    for (size_t i = 0; i < plan->n_columns; i++) {
        if (i > 0)
            abuf_puts(cols, ", ");
        pgconn_quote_ident(conn, plan->columns[i].source->name, cols);
    }
    if (plan->key_digest)
        abuf_puts(cols, ", " PLAN_KEY_DIGEST_COLUMN);
}

/* " WHERE s.<deleted_column> IS NOT TRUE" for soft deletes: the rows to merge. */
static void live_rows(PGconn *conn, const struct table_plan *plan, struct abuf *sql)
{
    if (plan->cfg->deletes != CFG_DELETES_SOFT)
        return;
    abuf_puts(sql, " WHERE s.");
    pgconn_quote_ident(conn, plan->cfg->deleted_column, sql);
    abuf_puts(sql, " IS NOT TRUE");
}

/* alias.c, ... over every column, the key's too (an equal key can be another value:
 * numeric 1 and 1.00), and the key digest. */
static void every_column(PGconn *conn, const struct table_plan *plan, const char *alias,
                         struct abuf *sql)
{
    for (size_t i = 0; i < plan->n_columns; i++) {
        abuf_printf(sql, "%s%s.", i ? ", " : "", alias);
        pgconn_quote_ident(conn, plan->columns[i].source->name, sql);
    }
    if (plan->key_digest)
        abuf_printf(sql, ", %s." PLAN_KEY_DIGEST_COLUMN, alias);
}

/* Whether a merged row can arrive with its published values unchanged. Not when the
 * watermark column is published as it is: a merged row's watermark moved past the mark
 * (but for rows read again within watermark_lag, which changed lately and say so), so the
 * comparison would cost every row (1.5-3 us) and spare none. */
static bool changes_can_hide(const struct table_plan *plan)
{
    for (size_t i = 0; plan->cfg->watermark && i < plan->n_columns; i++)
        if (strcmp(plan->columns[i].source->name, plan->cfg->watermark) == 0)
            return strcmp(plan->columns[i].rule->ops->name, "keep") != 0;
    return true;
}

/*
 * The upsert's update leaves a row alone when its published values are those already
 * published: what changed is hidden by its rule (a suppressed address, the watermark
 * column itself). Updated, the row would be written again, and an updated tuple moves (to
 * the end of its page, or of the table): a scan without ORDER BY showed which rows
 * changed lately although nothing published changed (in a version laid out in key
 * order, exactly the rows out of order). Compared by their binary images
 * (record_image_eq, the *= of REFRESH MATERIALIZED VIEW CONCURRENTLY; called as a
 * function, as an operator between two ROW()s compares column by column): any type,
 * json and point included, NULL equal to NULL. Such rows are not counted as merged.
 */
static void unchanged_rows_stay(PGconn *conn, const struct table_plan *plan, struct abuf *sql)
{
    abuf_puts(sql, plan->key_digest ? " AND" : " WHERE");
    abuf_puts(sql, " NOT pg_catalog.record_image_eq(ROW(");
    every_column(conn, plan, "v", sql);
    abuf_puts(sql, "), ROW(");
    every_column(conn, plan, "EXCLUDED", sql);
    abuf_puts(sql, "))");
}

static bool merge_upsert(PGconn *conn, struct publish_table *t, const char *version,
                         const char *staging, long long *merged, struct anon_error *err)
{
    const struct table_plan *plan = t->plan;
    struct abuf sql, cols;
    bool first = true, ok;

    abuf_init(&sql, 1 << 20);
    abuf_init(&cols, 1 << 20);
    column_list(conn, plan, &cols);
    abuf_printf(&sql, "INSERT INTO %s AS v (%s) SELECT %s FROM %s s", version, abuf_cstr(&cols),
                abuf_cstr(&cols), staging);
    live_rows(conn, plan, &sql);
    /* The piece holds its rows in the order the source read them, the order of the
     * source's pages (tablecopy.h, physical_order), which is about the order a full
     * refresh wrote the published table in (its physical order, or a kept key's order
     * when the table mostly follows it: keyorder.h): the merge visits its pages in
     * order. A version laid out by a rewritten key (target_order_by_key) is visited in
     * that key's order. */
    if (target_key_rewritten(plan)) {
        abuf_puts(&sql, " ORDER BY ");
        for (size_t k = 0; k < plan->n_key; k++) {
            if (k > 0)
                abuf_puts(&sql, ", ");
            pgconn_quote_ident(conn, plan->columns[plan->key_columns[k]].source->name, &sql);
        }
    }
    abuf_puts(&sql, " ON CONFLICT (");
    for (size_t k = 0; k < plan->n_key; k++) {
        if (k > 0)
            abuf_puts(&sql, ", ");
        pgconn_quote_ident(conn, plan->columns[plan->key_columns[k]].source->name, &sql);
    }
    /* Every column is set, the key too: a key equal to the published one is not always the
     * same value (numeric 1 and 1.00, float8 0 and -0, jsonb or arrays holding them): an
     * UPDATE of the source key to such a value is a change a full refresh publishes.
     * Setting a key to the same bytes keeps the update HOT. */
    abuf_puts(&sql, ") DO UPDATE SET ");
    for (size_t i = 0; i < plan->n_columns; i++) {
        const char *name = plan->columns[i].source->name;
        abuf_puts(&sql, first ? "" : ", ");
        pgconn_quote_ident(conn, name, &sql);
        abuf_puts(&sql, " = EXCLUDED.");
        pgconn_quote_ident(conn, name, &sql);
        first = false;
    }
    if (plan->key_digest)
        abuf_puts(&sql, ", " PLAN_KEY_DIGEST_COLUMN " = EXCLUDED." PLAN_KEY_DIGEST_COLUMN
                        " WHERE v." PLAN_KEY_DIGEST_COLUMN " = EXCLUDED." PLAN_KEY_DIGEST_COLUMN);
    /* a table of key columns only: rewritten only when its key's bytes differ (it was
     * DO NOTHING, which kept the old form of an equal key) */
    if (changes_can_hide(plan) || (plan->n_key == plan->n_columns && !plan->key_digest))
        unchanged_rows_stay(conn, plan, &sql);
    ok = !abuf_failed(&sql) && (*merged = exec_count(conn, abuf_cstr(&sql), err)) >= 0;
    abuf_free(&sql);
    abuf_free(&cols);
    return ok;
}

/* key_scan: published rows whose key no longer exists in the source. */
static bool merge_key_scan(PGconn *conn, struct publish_table *t, const char *version,
                           const char *keys, struct anon_error *err)
{
    struct abuf sql;
    long long n;

    abuf_init(&sql, 1 << 20);
    abuf_printf(&sql, "DELETE FROM %s v WHERE NOT EXISTS (SELECT 1 FROM %s k WHERE ", version,
                keys);
    source_key_match(conn, t->plan, "k", "v", &sql);
    abuf_puts(&sql, ")");
    n = abuf_failed(&sql) ? -1 : exec_count(conn, abuf_cstr(&sql), err);
    abuf_free(&sql);
    if (n >= 0)
        t->rows_deleted += (uint64_t)n;
    return n >= 0;
}

/* " FROM <piece> s WHERE <live> AND NOT EXISTS (<a row of the same source key>)": the
 * piece's rows the upsert could not merge. OFFSET 0 keeps the subquery a probe of the
 * version's key index per row: as an anti join the planner hashed the whole version
 * (350 ms a piece at 500,000 rows, against 20 ms). */
static void unmerged_rows(PGconn *conn, const struct table_plan *plan, const char *version,
                          const char *staging, struct abuf *sql)
{
    abuf_printf(sql, " FROM %s s", staging);
    live_rows(conn, plan, sql);
    abuf_printf(sql, "%s NOT EXISTS (SELECT 1 FROM %s v WHERE ",
                plan->cfg->deletes == CFG_DELETES_SOFT ? " AND" : " WHERE", version);
    source_key_match(conn, plan, "v", "s", sql);
    abuf_puts(sql, " OFFSET 0)");
}

/* How many rows of the piece the upsert could not merge, or -1. */
static long long count_unmerged(PGconn *conn, const struct table_plan *plan, const char *version,
                                const char *staging, struct anon_error *err)
{
    struct abuf sql;
    PGresult *res = NULL;
    long long n = -1;

    abuf_init(&sql, 1 << 20);
    abuf_puts(&sql, "SELECT count(*)");
    unmerged_rows(conn, plan, version, staging, &sql);
    if (!abuf_failed(&sql))
        res = pgconn_query(conn, abuf_cstr(&sql), 0, NULL, PGRES_TUPLES_OK, err);
    if (res)
        n = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    abuf_free(&sql);
    return n;
}

/*
 * Rows of a piece that met a published row of another source key with the same published
 * key (merge_upsert left them). Not a collision yet: that row may leave in this very run
 * (soft-deleted or out of `where:` in a later piece, deleted from the source: key_scan),
 * and then a full refresh of the snapshot would publish these rows. They wait in the
 * table's pending table; merge_pending inserts them once every removal is done. Rows the
 * upsert left because nothing published changed (unchanged_rows_stay) are not among them:
 * of the `not_merged` rows, only those without a published row of their own source key.
 */
static bool hold_unmerged(PGconn *conn, struct publish_table *t, const char *version,
                          const char *staging, uint64_t not_merged, struct anon_error *err)
{
    struct abuf sql, pending, cols;
    long long held = count_unmerged(conn, t->plan, version, staging, err), n;

    if (held <= 0)
        return held == 0;
    if (!t->pending_name[0] || (uint64_t)held > not_merged) {
        /* a run that did not name one: a collision at once; more than the upsert left
         * cannot happen: said as the collision it was */
        keycheck_collisions(t->plan, (uint64_t)held, err);
        t->duplicate_keys = true;
        return false;
    }
    if (t->rows_pending == 0 && !target_create_staging(conn, t->plan, t->pending_name, err))
        return false;
    abuf_init(&sql, 1 << 20);
    abuf_init(&pending, 4096);
    abuf_init(&cols, 1 << 20);
    target_version_sql(conn, t->pending_name, &pending);
    column_list(conn, t->plan, &cols);
    abuf_printf(&sql, "INSERT INTO %s (%s) SELECT %s", abuf_cstr(&pending), abuf_cstr(&cols),
                abuf_cstr(&cols));
    unmerged_rows(conn, t->plan, version, staging, &sql);
    n = abuf_failed(&sql) || abuf_failed(&pending) || abuf_failed(&cols)
            ? -1
            : exec_count(conn, abuf_cstr(&sql), err);
    abuf_free(&sql);
    abuf_free(&pending);
    abuf_free(&cols);
    if (n < 0)
        return false;
    t->rows_pending += (uint64_t)n;
    if (n != held) { /* cannot happen: said as the collision it was */
        keycheck_collisions(t->plan, (uint64_t)held, err);
        t->duplicate_keys = true;
        return false;
    }
    return true;
}

/* The held rows, after every removal of the run: a row whose published key is still
 * taken by another source key is a collision (exit 6), as in a full refresh. */
static bool merge_pending(PGconn *conn, struct publish_table *t, const char *version,
                          struct anon_error *err)
{
    struct abuf sql, pending, cols;
    long long n;

    if (t->rows_pending == 0)
        return true;
    abuf_init(&sql, 1 << 20);
    abuf_init(&pending, 4096);
    abuf_init(&cols, 1 << 20);
    target_version_sql(conn, t->pending_name, &pending);
    column_list(conn, t->plan, &cols);
    abuf_printf(&sql, "INSERT INTO %s (%s) SELECT %s FROM %s ON CONFLICT DO NOTHING", version,
                abuf_cstr(&cols), abuf_cstr(&cols), abuf_cstr(&pending));
    n = abuf_failed(&sql) || abuf_failed(&pending) || abuf_failed(&cols)
            ? -1
            : exec_count(conn, abuf_cstr(&sql), err);
    abuf_free(&sql);
    abuf_free(&pending);
    abuf_free(&cols);
    if (n < 0)
        return false;
    if ((uint64_t)n < t->rows_pending) {
        keycheck_collisions(t->plan, t->rows_pending - (uint64_t)n, err);
        t->duplicate_keys = true;
        return false;
    }
    /* created in this transaction: dropped with it */
    return target_drop_version(conn, t->pending_name, err);
}

/* Load a piece's rows into the table pieces pass through (created at the first piece). */
static bool load_piece(PGconn *conn, struct publish_table *t, const char *pieces, const char *data,
                       size_t len, struct anon_error *err)
{
    if (!t->pieces_created && !target_create_pieces(conn, t->plan, t->pieces_name, err))
        return false;
    t->pieces_created = true;
    return tablecopy_copy_buffer(conn, t->plan, pieces, data, len, err);
}

bool publish_merge_chunk(PGconn *conn, struct publish_table *t, const char *data, size_t len,
                         struct anon_error *err)
{
    struct abuf version, staging, sql;
    uint64_t mergeable = 0;
    long long merged = 0;
    bool ok;

    abuf_init(&version, 4096);
    abuf_init(&staging, 4096);
    abuf_init(&sql, 4096);
    target_version_sql(conn, t->version_name, &version);
    target_pieces_sql(conn, t->pieces_name, &staging);
    ok = !abuf_failed(&version) && !abuf_failed(&staging) &&
         load_piece(conn, t, abuf_cstr(&staging), data, len, err);
    /* A key repeated inside the piece: the source key is not unique, or two source keys
     * collide after their rules (keycheck.h); then ON CONFLICT could not merge it. Not
     * possible when a unique index covers the source key and the key has no rule that
     * could merge two of them. */
    if (ok && (t->plan->key_digest || !t->source_key_unique)) {
        switch (keycheck_piece(conn, t->plan, abuf_cstr(&staging), &mergeable, err)) {
        case KEYCHECK_OK:
            break;
        case KEYCHECK_DUPLICATE:
            t->duplicate_keys = true;
            ok = false;
            break;
        case KEYCHECK_ERROR:
            ok = false;
            break;
        }
    }
    if (ok && t->plan->cfg->deletes == CFG_DELETES_SOFT)
        ok = merge_soft_deletes(conn, t, abuf_cstr(&version), abuf_cstr(&staging), err);
    ok = ok && merge_upsert(conn, t, abuf_cstr(&version), abuf_cstr(&staging), &merged, err);
    if (ok && t->plan->key_digest && (uint64_t)merged < mergeable)
        ok = hold_unmerged(conn, t, abuf_cstr(&version), abuf_cstr(&staging),
                           mergeable - (uint64_t)merged, err);
    /* Emptied for the next piece: created in this transaction, it is truncated in place. */
    abuf_printf(&sql, "TRUNCATE %s", abuf_cstr(&staging));
    ok = ok && !abuf_failed(&sql) && pgconn_exec(conn, abuf_cstr(&sql), PGRES_COMMAND_OK, err);
    abuf_free(&version);
    abuf_free(&staging);
    abuf_free(&sql);
    return ok;
}

/* Rows whose changed source row no longer passes `where:` leave the published table. */
static bool merge_gone(PGconn *conn, struct publish_table *t, const char *version, const char *gone,
                       struct anon_error *err)
{
    struct abuf sql;
    long long n;

    abuf_init(&sql, 1 << 20);
    abuf_printf(&sql, "DELETE FROM %s v USING %s g WHERE ", version, gone);
    source_key_match(conn, t->plan, "v", "g", &sql);
    n = abuf_failed(&sql) ? -1 : exec_count(conn, abuf_cstr(&sql), err);
    abuf_free(&sql);
    if (n >= 0)
        t->rows_deleted += (uint64_t)n;
    return n >= 0;
}

/*
 * key_scan read every key the source shows through the table's filter (`where:`, a view's
 * joins, row level security): once the merge is done, one the table lacks is a row that
 * came in without its watermark moving past the last mark (a consent given in another
 * table, a view's join or refresh, a stamp at or below the mark), which no window reads.
 * A full refresh would publish it: the table is published without a high-water mark, so
 * that the next run reloads it, and the log says why.
 */
static bool check_missing_keys(PGconn *conn, struct publish_table *t, const char *version,
                               const char *keys, struct anon_error *err)
{
    struct abuf sql;
    PGresult *res;
    long long n;

    abuf_init(&sql, 1 << 20);
    abuf_printf(&sql,
                "SELECT pg_catalog.count(*) FROM %s k WHERE NOT EXISTS (SELECT 1 FROM %s v "
                "WHERE ",
                keys, version);
    source_key_match(conn, t->plan, "k", "v", &sql);
    abuf_puts(&sql, ")");
    res = pgconn_query_built(conn, &sql, 0, NULL, PGRES_TUPLES_OK, err);
    if (!res)
        return false;
    n = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    if (n > 0) {
        log_warn("rows_missing", t->plan->qualified,
                 "%lld row%s the source shows %s not published: %s in without %s watermark "
                 "moving past the last mark (through where:, a view or row level security, or "
                 "stamped at or below the mark), so no window read %s; published without a "
                 "high-water mark: the next run reloads the table",
                 n, n == 1 ? "" : "s", n == 1 ? "is" : "are", n == 1 ? "it came" : "they came",
                 n == 1 ? "its" : "their", n == 1 ? "it" : "them");
        t->high_water_mark[0] = '\0';
    }
    return true;
}

/* After every piece is merged: rows now failing `where:`, then key_scan deletes, once
 * all source keys are in, then the rows held for a removal (merge_pending). */
static bool merge_finish(PGconn *conn, struct publish_table *t, struct anon_error *err)
{
    struct abuf version, keys, gone;
    bool ok;

    abuf_init(&version, 4096);
    abuf_init(&keys, 4096);
    abuf_init(&gone, 4096);
    target_version_sql(conn, t->version_name, &version);
    target_version_sql(conn, t->keys_name, &keys);
    target_version_sql(conn, t->gone_name, &gone);
    ok = !abuf_failed(&version) && !abuf_failed(&keys) && !abuf_failed(&gone);
    if (ok && t->gone_name[0])
        ok = merge_gone(conn, t, abuf_cstr(&version), abuf_cstr(&gone), err);
    if (ok && t->keys_name[0])
        ok = merge_key_scan(conn, t, abuf_cstr(&version), abuf_cstr(&keys), err);
    ok = ok && merge_pending(conn, t, abuf_cstr(&version), err);
    if (ok && t->keys_name[0])
        ok = check_missing_keys(conn, t, abuf_cstr(&version), abuf_cstr(&keys), err);
    abuf_free(&version);
    abuf_free(&keys);
    abuf_free(&gone);
    return ok;
}

/*
 * A table with k-anonymity: a new version written, already k-anonymous, from the base
 * its rows were loaded or merged into (kanon_apply.h), then the view switched to it.
 * Old slots: the previous version and base, and this run's tables of keys (or its base,
 * for a full refresh, whose base is only this run's load).
 */
static bool publish_kanon(PGconn *conn, struct publish_request *req, struct publish_table *t,
                          struct old_version *old, struct anon_error *err)
{
    struct abuf base;
    bool violated = false, ok;

    if (t->kind == PUBLISH_MERGE && !merge_finish(conn, t, err))
        return false;
    snprintf(old[2].name, sizeof(old[2].name), "%s", t->keys_name);
    snprintf(old[3].name, sizeof(old[3].name), "%s", t->gone_name);
    if (t->plan->cfg->mode != CFG_MODE_INCREMENTAL)
        snprintf(old[2].name, sizeof(old[2].name), "%s", t->version_name);
    if (!req->writer && !(req->writer = pgconn_open(req->target_db, "target", err)))
        return false;
    target_version_name(t->plan, req->run_id, t->published_name);
    abuf_init(&base, 4096);
    target_version_sql(conn, t->version_name, &base);
    ok =
        !abuf_failed(&base) && kanon_publish(conn, req->writer, t->plan, abuf_cstr(&base),
                                             t->published_name, req->statistics_target,
                                             &t->rows_suppressed, &t->rows_dropped, &violated, err);
    abuf_free(&base);
    if (violated)
        req->policy_violated = true;
    if (!ok)
        return false;
    if (t->rows_suppressed || t->rows_dropped)
        log_info("k_anonymity", t->plan->qualified, "k=%d: %llu rows suppressed, %llu dropped",
                 t->plan->cfg->k_anonymity->k, (unsigned long long)t->rows_suppressed,
                 (unsigned long long)t->rows_dropped);
    return check_existing(conn, req->schema, t->plan, err) &&
           old_version_of(conn, req->schema, t, old, err) &&
           switch_view(conn, req->schema, t, err) && grant_and_comment(conn, req, t, err) &&
           record_table(conn, req, t, err);
}

/* The table's publish steps; record_table, last, stores how long they took. */
static bool publish_one(PGconn *conn, struct publish_request *req, struct publish_table *t,
                        struct old_version *old, struct anon_error *err)
{
    t->publish_start = now_s();
    if (t->plan->cfg->k_anonymity)
        return publish_kanon(conn, req, t, old, err);
    if (t->kind == PUBLISH_MERGE) {
        /* The view already points at this version: its changed rows were merged in
         * place (publish_merge_chunk), readers see the old rows until the commit. The
         * tables of keys go after the commit. */
        snprintf(old[2].name, sizeof(old[2].name), "%s", t->keys_name);
        snprintf(old[3].name, sizeof(old[3].name), "%s", t->gone_name);
        return merge_finish(conn, t, err) && grant_and_comment(conn, req, t, err) &&
               record_table(conn, req, t, err);
    }
    return check_existing(conn, req->schema, t->plan, err) &&
           old_version_of(conn, req->schema, t, old, err) &&
           switch_view(conn, req->schema, t, err) && grant_and_comment(conn, req, t, err) &&
           record_table(conn, req, t, err);
}

static bool finish_run(PGconn *conn, int64_t run_id, struct anon_error *err)
{
    char id[32];
    const char *p[1] = {id};
    PGresult *res;

    snprintf(id, sizeof(id), "%lld", (long long)run_id);
    res = pgconn_query(conn,
                       "UPDATE anonetl.runs SET status = 'succeeded', finished_at = now(), "
                       "exit_code = 0 WHERE run_id = $1::bigint",
                       1, p, PGRES_COMMAND_OK, err);
    PQclear(res);
    return res != NULL;
}

/* After the commit: old versions are no longer referenced. A reader still scanning one
 * holds a lock: then leave it, the next run's cleanup drops it. */
static void drop_old_versions(PGconn *conn, const struct old_version *old, size_t n)
{
    struct anon_error err;

    if (!pgconn_exec(conn, "SET lock_timeout = '5s'", PGRES_COMMAND_OK, &err))
        return;
    for (size_t i = 0; i < n; i++) {
        if (old[i].name[0] && !target_drop_version(conn, old[i].name, &err))
            log_warn("drop_old_version", NULL, "%s.%s kept for now (%s); the next run drops it",
                     TARGET_DATA_SCHEMA, old[i].name, err.msg);
    }
    PQclear(PQexec(conn, "RESET lock_timeout"));
}

static bool configured(const struct publish_request *req, const char *published_name)
{
    for (size_t i = 0; i < req->n_tables; i++)
        if (strcmp(cfg_published_name(req->tables[i].plan->cfg), published_name) == 0)
            return true;
    return false;
}

/* A table last published by another config (owner), which this run would unpublish. */
static bool foreign(const struct publish_request *req, const char *owner)
{
    return owner && req->config_identity && strcmp(owner, req->config_identity) != 0;
}

/* Take one table the config no longer has off the published schema: its view (unless
 * views of the data team depend on it: then fail, naming them), its record; its version
 * and base table (k-anonymity) go after the commit (into old[0], old[1]). */
static bool unpublish(PGconn *conn, const struct publish_request *req, const char *name,
                      const char *source, struct old_version *old, struct anon_error *err)
{
    const char *params[2] = {req->schema, name};
    struct abuf view, deps, sql;
    PGresult *res;
    bool ok, is_view;

    abuf_init(&view, 4096);
    abuf_init(&deps, 1 << 16);
    abuf_init(&sql, 4096);
    pgconn_quote_ident(conn, req->schema, &view);
    abuf_putc(&view, '.');
    pgconn_quote_ident(conn, name, &view);
    res = pgconn_query(conn,
                       "SELECT c.relkind = 'v' FROM pg_catalog.pg_class c "
                       "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                       "WHERE n.nspname = $1 AND c.relname = $2",
                       2, params, PGRES_TUPLES_OK, err);
    ok = res != NULL;
    is_view = ok && PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    if (ok && is_view) { /* something else at that name is not ours to drop */
        ok = dependent_views(conn, abuf_cstr(&view), &deps, err);
        if (ok && deps.len > 0) {
            anon_error_set(err,
                           "%s (%s) is no longer configured, but views depend on it (%s): drop "
                           "or adapt them, or keep it with target.retain_unconfigured: true",
                           abuf_cstr(&view), source, abuf_cstr(&deps));
            ok = false;
        }
        abuf_printf(&sql, "DROP VIEW %s", abuf_cstr(&view));
        ok = ok && !abuf_failed(&sql) && pgconn_exec(conn, abuf_cstr(&sql), PGRES_COMMAND_OK, err);
    }
    res = ok ? pgconn_query(conn,
                            "DELETE FROM anonetl.published WHERE target_schema = $1 AND "
                            "table_name = $2 RETURNING version_table, COALESCE(base_table, '')",
                            2, params, PGRES_TUPLES_OK, err)
             : NULL;
    if (res && PQntuples(res) == 1) {
        snprintf(old[0].name, sizeof(old[0].name), "%s", PQgetvalue(res, 0, 0));
        snprintf(old[1].name, sizeof(old[1].name), "%s", PQgetvalue(res, 0, 1));
    }
    ok = ok && res != NULL;
    PQclear(res);
    if (ok)
        log_info("unpublished", source,
                 "no longer configured: %s dropped from the published schema", abuf_cstr(&view));
    abuf_free(&view);
    abuf_free(&deps);
    abuf_free(&sql);
    return ok;
}

/* A table kept with retain_unconfigured is read by this config's roles: recorded for the
 * schema's USAGE (schema_readers), as publishing it would. */
static bool record_readers(PGconn *conn, const struct publish_request *req, const char *name,
                           struct anon_error *err)
{
    struct abuf roles;
    PGresult *res = NULL;

    abuf_init(&roles, 256);
    readers_literal(req, &roles);
    if (abuf_failed(&roles))
        anon_error_set(err, "out of memory");
    else {
        const char *p[3] = {req->schema, name, abuf_cstr(&roles)};
        res = pgconn_query(conn,
                           "UPDATE anonetl.published SET grant_select_to = $3::text[] "
                           "WHERE target_schema = $1 AND table_name = $2",
                           3, p, PGRES_COMMAND_OK, err);
    }
    abuf_free(&roles);
    PQclear(res);
    return res != NULL;
}

/*
 * Published tables the config no longer has (removed, or renamed with publish_as):
 * unpublished, so what the data team can read is what the config says. With
 * target.retain_unconfigured they stay, said in every run's log, and their grants follow
 * grant_select_to like every other view. *old gets their versions (dropped after the
 * commit); *n_old how many.
 */
static bool unpublish_unconfigured(PGconn *conn, const struct publish_request *req,
                                   struct old_version **old, size_t *n_old, struct anon_error *err)
{
    const char *params[1] = {req->schema};
    PGresult *res = pgconn_query(conn,
                                 "SELECT table_name, source_table, config_source "
                                 "FROM anonetl.published "
                                 "WHERE target_schema = $1 ORDER BY table_name FOR UPDATE",
                                 1, params, PGRES_TUPLES_OK, err);
    bool ok = res != NULL;

    *n_old = 0;
    *old = res ? calloc(2 * (size_t)PQntuples(res) + 1, sizeof(**old)) : NULL;
    if (res && !*old) {
        anon_error_set(err, "out of memory");
        ok = false;
    }
    for (int i = 0; ok && i < PQntuples(res); i++) {
        const char *name = PQgetvalue(res, i, 0), *source = PQgetvalue(res, i, 1);
        struct abuf view;
        const char *owner = PQgetisnull(res, i, 2) ? NULL : PQgetvalue(res, i, 2);
        if (configured(req, name))
            continue;
        if (foreign(req, owner)) {
            /* another job sharing this schema (its table, its grants), or this config's
             * former place: not this run's to take away */
            log_warn("unconfigured_foreign", source,
                     "%s.%s is not in this config and was published by another one (%s), not "
                     "this one (%s): left as it is. One published schema belongs to one job: "
                     "give each config its own target.schema; if this config replaces that "
                     "one, drop the view and the next run unpublishes the rest",
                     req->schema, name, owner, req->config_identity);
            continue;
        }
        if (!req->retain_unconfigured) {
            ok = unpublish(conn, req, name, source, &(*old)[*n_old], err);
            *n_old += 2;
            continue;
        }
        log_warn("unconfigured_retained", source,
                 "%s.%s is no longer configured and stays published "
                 "(target.retain_unconfigured: true)",
                 req->schema, name);
        abuf_init(&view, 4096);
        pgconn_quote_ident(conn, req->schema, &view);
        abuf_putc(&view, '.');
        pgconn_quote_ident(conn, name, &view);
        ok = !abuf_failed(&view) &&
             grants_sync_relation(conn, abuf_cstr(&view), req->grant_select_to,
                                  req->n_grant_select_to, err) &&
             record_readers(conn, req, name, err);
        abuf_free(&view);
    }
    PQclear(res);
    return ok;
}

/*
 * USAGE on the schema: this config's grant_select_to and the lists recorded with the
 * tables other configs published there (foreign: two jobs sharing one schema). Giving it
 * to this config's roles alone would take it from the other job's at every run, and back
 * at its next (flip-flop). A role in no such list is revoked; SELECT stays per view. A
 * table recorded before the lists were (NULL) gives no one: its config's next run
 * records its list. A role dropped since is skipped: the other job's stale list must not
 * fail this one's publish (it cannot hold USAGE anyway).
 */
static bool schema_readers(PGconn *conn, const struct publish_request *req, struct anon_error *err)
{
    const char *params[2] = {req->schema, req->config_identity};
    PGresult *res =
        pgconn_query(conn,
                     "SELECT DISTINCT r FROM anonetl.published p "
                     "CROSS JOIN LATERAL pg_catalog.unnest(p.grant_select_to) r "
                     "WHERE p.target_schema = $1 AND p.config_source <> $2 AND r IS NOT NULL "
                     "AND EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r) ORDER BY 1",
                     2, params, PGRES_TUPLES_OK, err);
    char **roles;
    size_t n = 0;
    bool ok;

    if (!res)
        return false;
    roles = calloc(req->n_grant_select_to + (size_t)PQntuples(res) + 1, sizeof(*roles));
    if (!roles) {
        PQclear(res);
        anon_error_set(err, "out of memory");
        return false;
    }
    for (size_t i = 0; i < req->n_grant_select_to; i++)
        roles[n++] = req->grant_select_to[i];
    for (int i = 0; i < PQntuples(res); i++) {
        char *role = PQgetvalue(res, i, 0);
        bool seen = false;
        for (size_t j = 0; j < req->n_grant_select_to && !seen; j++)
            seen = strcmp(roles[j], role) == 0;
        if (!seen)
            roles[n++] = role;
    }
    ok = grants_sync_schema(conn, req->schema, roles, n, err);
    free(roles);
    PQclear(res);
    return ok;
}

bool publish_begin(PGconn *conn, struct publish_request *req, struct anon_error *err)
{
    /* work_mem: a piece's check for repeated keys (keycheck.h) groups it by key, in memory
     * up to a few hundred thousand rows (the default 4MB spills a few thousand). */
    req->begun = pgconn_exec(conn, "BEGIN", PGRES_COMMAND_OK, err) &&
                 pgconn_exec(conn, PUBLISH_LOCK_TIMEOUT, PGRES_COMMAND_OK, err) &&
                 pgconn_exec(conn, "SET LOCAL work_mem = '64MB'", PGRES_COMMAND_OK, err);
    return req->begun;
}

/*
 * A stop signal cancels the statement under way here too (stopsig.h), rather than letting
 * the publish finish: it is one transaction, so the cancel rolls it back whole and the
 * data published before stays as it was, which is all a SIGKILL a few seconds later would
 * leave anyway; and left to finish, a publish waiting for a lock (lock_timeout, 30 s) or
 * merging a large table outlasts a scheduler's stop timeout (ECS: 30 s) and dies without
 * a word. A cancel that reaches the COMMIT finds it committed (the run is published and
 * says so) or rolled back; after it, the old versions are dropped only if no stop came
 * (a new statement is not started then: the next run's cleanup drops them).
 */
bool publish_all(PGconn *conn, struct publish_request *req, struct anon_error *err)
{
    /* Slots per table: the old version and base, the tables of keys (old_version_of,
     * publish_kanon); tables no longer configured in `gone`. */
    struct old_version *old = calloc(PUBLISH_OLD_SLOTS * req->n_tables + 1, sizeof(*old)),
                       *gone = NULL;
    size_t n_gone = 0;
    bool ok;

    if (!old) {
        anon_error_set(err, "out of memory");
        return false;
    }
    ok = req->begun || publish_begin(conn, req, err);
    for (size_t i = 0; ok && i < req->n_tables; i++) {
        ok = publish_one(conn, req, &req->tables[i], &old[PUBLISH_OLD_SLOTS * i], err);
        req->policy_violated = req->policy_violated || req->tables[i].duplicate_keys;
    }
    ok = ok && unpublish_unconfigured(conn, req, &gone, &n_gone, err) &&
         schema_readers(conn, req, err);
    ok = ok && finish_run(conn, req->run_id, err) &&
         pgconn_exec(conn, "COMMIT", PGRES_COMMAND_OK, err);
    pgconn_close(req->writer);
    req->writer = NULL;
    if (!ok) {
        PQclear(PQexec(conn, "ROLLBACK"));
        free(old);
        free(gone);
        return false;
    }
    drop_old_versions(conn, old, PUBLISH_OLD_SLOTS * req->n_tables);
    drop_old_versions(conn, gone, n_gone);
    free(old);
    free(gone);
    return true;
}
