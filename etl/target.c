/* target.c: target database state, lock and versioned tables (see target.h). */
#include "etl/target.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "anonymise/pgarray.h"
#include "anonymise/pii.h"
#include "etl/log.h"
#include "etl/pgconn.h"
#include "etl/version.h"
#include "sql_bootstrap.h" /* generated from sql/target-bootstrap.sql */

bool target_bootstrap(PGconn *conn, const char *published_schema, struct anon_error *err)
{
    struct abuf sql;
    bool ok;

    if (!pgconn_exec(conn, "SET client_min_messages = warning", PGRES_COMMAND_OK, err) ||
        !pgconn_exec_script(conn, sql_bootstrap, err))
        return false;
    abuf_init(&sql, 4096);
    abuf_puts(&sql, "CREATE SCHEMA IF NOT EXISTS ");
    pgconn_quote_ident(conn, published_schema, &sql);
    ok = !abuf_failed(&sql) && pgconn_exec(conn, abuf_cstr(&sql), PGRES_COMMAND_OK, err);
    abuf_free(&sql);
    return ok;
}

enum target_lock target_try_lock(PGconn *conn, struct anon_error *err)
{
    PGresult *res = pgconn_query(
        conn, "SELECT pg_catalog.pg_try_advisory_lock(pg_catalog.hashtextextended('anonetl', 0))",
        0, NULL, PGRES_TUPLES_OK, err);
    bool taken;

    if (!res)
        return TARGET_LOCK_ERROR;
    taken = PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    return taken ? TARGET_LOCK_TAKEN : TARGET_LOCK_BUSY;
}

void target_unlock(PGconn *conn)
{
    struct anon_error ignored;

    if (!conn || PQstatus(conn) != CONNECTION_OK)
        return;
    if (PQtransactionStatus(conn) != PQTRANS_IDLE)
        PQclear(PQexec(conn, "ROLLBACK"));
    PQclear(pgconn_query(
        conn, "SELECT pg_catalog.pg_advisory_unlock(pg_catalog.hashtextextended('anonetl', 0))", 0,
        NULL, PGRES_TUPLES_OK, &ignored));
}

/* Tables in anonetl_data that no published view points at: leftovers of killed runs. */
static const char orphans_sql[] =
    "SELECT c.relname FROM pg_catalog.pg_class c "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = '" TARGET_DATA_SCHEMA "' AND c.relkind = 'r' "
    "AND c.relname NOT IN (SELECT version_table FROM anonetl.published UNION ALL "
    "SELECT base_table FROM anonetl.published WHERE base_table IS NOT NULL)";

bool target_cleanup(PGconn *conn, struct anon_error *err)
{
    PGresult *res;
    bool ok = true;

    if (!pgconn_exec(conn,
                     "UPDATE anonetl.runs SET status = 'abandoned', finished_at = now() "
                     "WHERE status = 'running'",
                     PGRES_COMMAND_OK, err))
        return false;
    res = pgconn_query(conn, orphans_sql, 0, NULL, PGRES_TUPLES_OK, err);
    if (!res)
        return false;
    for (int i = 0; i < PQntuples(res) && ok; i++) {
        log_info("cleanup", NULL, "dropping %s.%s left by an interrupted run", TARGET_DATA_SCHEMA,
                 PQgetvalue(res, i, 0));
        ok = target_drop_version(conn, PQgetvalue(res, i, 0), err);
    }
    PQclear(res);
    return ok;
}

bool target_run_begin(PGconn *conn, const struct target_run_info *info, int64_t *run_id,
                      struct anon_error *err)
{
    char host[256] = "";
    const char *params[8];
    PGresult *res;

    gethostname(host, sizeof(host) - 1);
    params[0] = info->target_schema;
    params[1] = info->config_fingerprint;
    params[2] = info->key_fingerprint;
    params[3] = info->key_id;
    params[4] = info->snapshot;
    params[5] = ANONETL_VERSION;
    params[6] = host;
    params[7] = info->config_source;
    res = pgconn_query(conn,
                       "INSERT INTO anonetl.runs (target_schema, config_fingerprint, "
                       "key_fingerprint, key_id, source_snapshot, anonetl_version, host, "
                       "config_source) "
                       "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING run_id",
                       8, params, PGRES_TUPLES_OK, err);
    if (!res)
        return false;
    *run_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return true;
}

bool target_run_reviews(PGconn *conn, int64_t run_id, const struct table_plan *plan,
                        struct anon_error *err)
{
    char id[32], table[300];
    const char *params[6] = {id, table};

    snprintf(id, sizeof(id), "%lld", (long long)run_id);
    snprintf(table, sizeof(table), "%s.%s", plan->cfg->schema, plan->cfg->name);
    for (size_t c = 0; c < plan->n_columns; c++) {
        const struct plan_column *col = &plan->columns[c];
        size_t pos = 0;
        const char *place;
        params[2] = col->source->name;
        params[5] = catalog_column_type(col->source);
        while (col->rule && (params[4] = pii_next_review(col->rule, &pos, &place)) != NULL) {
            PGresult *res;
            params[3] = place ? place : "";
            res = pgconn_query(conn,
                               "INSERT INTO anonetl.run_reviews (run_id, table_name, "
                               "column_name, json_path, reviewed, source_type) VALUES "
                               "($1::bigint, $2, $3, $4, $5, $6)",
                               6, params, PGRES_COMMAND_OK, err);
            if (!res)
                return false;
            PQclear(res);
        }
    }
    return true;
}

/* The single text value of a one-row query (allocated), or "" when it has no row or a
 * NULL; NULL on an error. */
PGresult *target_keep_types(PGconn *conn, const char *schema, const struct table_plan *plan,
                            const size_t *cols, const char *const *whys, size_t n,
                            struct anon_error *err)
{
    char reviews_name[300];
    struct abuf names, reasons;
    const char *params[5];
    PGresult *res = NULL;

    /* run_reviews names the source table, published the view (they differ with rename) */
    snprintf(reviews_name, sizeof(reviews_name), "%s.%s", plan->cfg->schema, plan->cfg->name);
    abuf_init(&names, 1 << 20);
    abuf_init(&reasons, 1 << 20);
    abuf_putc(&names, '{');
    abuf_putc(&reasons, '{');
    for (size_t k = 0; k < n; k++) {
        const char *name = plan->columns[cols[k]].source->name;
        abuf_puts(&names, k ? "," : "");
        abuf_puts(&reasons, k ? "," : "");
        pgarray_encode_elem(name, strlen(name), false, ',', &names);
        pgarray_encode_elem(whys[k] ? whys[k] : "", whys[k] ? strlen(whys[k]) : 0, !whys[k], ',',
                            &reasons);
    }
    abuf_putc(&names, '}');
    abuf_putc(&reasons, '}');
    params[0] = schema;
    params[1] = cfg_published_name(plan->cfg);
    params[2] = reviews_name;
    params[3] = abuf_cstr(&names);
    params[4] = abuf_cstr(&reasons);
    if (abuf_failed(&names) || abuf_failed(&reasons))
        anon_error_set(err, "out of memory");
    else
        /* source_layout: [[name, attnum, type], ...] (increment_source_layout); the last
         * review of each column as before: newest run first, one row */
        res = pgconn_query(
            conn,
            "SELECT CASE WHEN n.why IS NULL THEN COALESCE((SELECT c->>2 "
            "  FROM anonetl.published p, pg_catalog.jsonb_array_elements(p.source_layout::jsonb) c "
            "  WHERE p.target_schema = $1 AND p.table_name = $2 AND c->>0 = n.name), '') "
            "ELSE COALESCE((SELECT last.source_type FROM (SELECT rr.reviewed, rr.source_type "
            "  FROM anonetl.run_reviews rr JOIN anonetl.runs r ON r.run_id = rr.run_id "
            "  WHERE r.status = 'succeeded' AND r.target_schema = $1 AND rr.table_name = $3 "
            "  AND rr.column_name = n.name AND rr.json_path = '' "
            "  ORDER BY rr.run_id DESC LIMIT 1) last WHERE last.reviewed = n.why), '') END "
            "FROM ROWS FROM (pg_catalog.unnest($4::pg_catalog.text[]), "
            "pg_catalog.unnest($5::pg_catalog.text[])) "
            "WITH ORDINALITY AS n(name, why, i) ORDER BY n.i",
            5, params, PGRES_TUPLES_OK, err);
    abuf_free(&names);
    abuf_free(&reasons);
    if (res && (size_t)PQntuples(res) != n) {
        anon_error_set(err, "target: the keep columns' history came back with %d rows, not %zu",
                       PQntuples(res), n);
        PQclear(res);
        res = NULL;
    }
    return res;
}

void target_run_failed(PGconn *conn, int64_t run_id, int exit_code, const char *message)
{
    char id[32], code[16];
    const char *params[3] = {id, code, message};
    struct anon_error ignored;

    if (!conn || run_id <= 0 || PQstatus(conn) != CONNECTION_OK)
        return;
    if (PQtransactionStatus(conn) != PQTRANS_IDLE)
        PQclear(PQexec(conn, "ROLLBACK"));
    snprintf(id, sizeof(id), "%lld", (long long)run_id);
    snprintf(code, sizeof(code), "%d", exit_code);
    PQclear(pgconn_query(conn,
                         "UPDATE anonetl.runs SET status = 'failed', finished_at = now(), "
                         "exit_code = $2::int, error = $3 WHERE run_id = $1::bigint",
                         3, params, PGRES_COMMAND_OK, &ignored));
}

void target_run_table_name(const struct table_plan *plan, int64_t run_id, const char *tag,
                           char out[TARGET_NAME_MAX])
{
    char suffix[TARGET_NAME_MAX];
    size_t room;

    snprintf(suffix, sizeof(suffix), "@r%lld%s", (long long)run_id, tag);
    room = TARGET_NAME_MAX - 1 - strlen(suffix);
    if (strlen(plan->qualified) <= room) {
        snprintf(out, TARGET_NAME_MAX, "%s%s", plan->qualified, suffix);
        return;
    }
    /* Too long for a PostgreSQL name: keep a prefix and make it unique with a digest.
     * The prefix ends on a character boundary: half a UTF-8 character is not a name
     * the server accepts. */
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    size_t keep = room - 9;
    while (keep > 0 && ((unsigned char)plan->qualified[keep] & 0xc0) == 0x80)
        keep--;
    EVP_Digest(plan->qualified, strlen(plan->qualified), md, &mdlen, EVP_sha256(), NULL);
    snprintf(out, TARGET_NAME_MAX, "%.*s~%02x%02x%02x%02x%s", (int)keep, plan->qualified, md[0],
             md[1], md[2], md[3], suffix);
}

void target_version_name(const struct table_plan *plan, int64_t run_id, char out[TARGET_NAME_MAX])
{
    target_run_table_name(plan, run_id, "", out);
}

void target_pieces_name(const struct table_plan *plan, int64_t run_id, char out[TARGET_NAME_MAX])
{
    target_run_table_name(plan, run_id, "+pieces", out);
}

bool target_version_sql(PGconn *conn, const char *version_name, struct abuf *out)
{
    abuf_puts(out, TARGET_DATA_SCHEMA ".");
    return pgconn_quote_ident(conn, version_name, out);
}

bool target_pieces_sql(PGconn *conn, const char *name, struct abuf *out)
{
    abuf_puts(out, "pg_temp.");
    return pgconn_quote_ident(conn, name, out);
}

enum table_kind { TABLE_VERSION, TABLE_STAGING, TABLE_PIECES };

static bool create_table(PGconn *conn, const struct table_plan *plan, const char *version_name,
                         enum table_kind kind, struct anon_error *err)
{
    struct abuf sql;
    bool ok;

    abuf_init(&sql, 1 << 20);
    if (kind == TABLE_PIECES) {
        abuf_puts(&sql, "CREATE TEMPORARY TABLE ");
        target_pieces_sql(conn, version_name, &sql);
    } else {
        abuf_puts(&sql, kind == TABLE_STAGING ? "CREATE UNLOGGED TABLE " : "CREATE TABLE ");
        target_version_sql(conn, version_name, &sql);
    }
    abuf_puts(&sql, " (");
    for (size_t i = 0; i < plan->n_columns; i++) {
        const struct plan_column *c = &plan->columns[i];
        if (i > 0)
            abuf_puts(&sql, ", ");
        pgconn_quote_ident(conn, c->source->name, &sql);
        /* The type comes from the source catalog's format_type() or a rule's fixed
         * list ("text", "bigint"): SQL type syntax, never user input. */
        abuf_printf(&sql, " %s%s", c->output.type, c->target_not_null ? " NOT NULL" : "");
    }
    if (plan->key_digest)
        abuf_puts(&sql, ", " PLAN_KEY_DIGEST_COLUMN " bigint NOT NULL");
    abuf_puts(&sql, ")");
    /* Incremental tables are updated in place by key: free space on each page lets an
     * update stay on its page (HOT), sparing a primary key entry and a page write. */
    if (plan->cfg->mode == CFG_MODE_INCREMENTAL && kind == TABLE_VERSION)
        abuf_puts(&sql, " WITH (fillfactor = 85)");
    if (kind == TABLE_PIECES)
        abuf_puts(&sql, " ON COMMIT DROP");
    ok = !abuf_failed(&sql) && pgconn_exec(conn, abuf_cstr(&sql), PGRES_COMMAND_OK, err);
    abuf_free(&sql);
    return ok;
}

bool target_create_version(PGconn *conn, const struct table_plan *plan, const char *version_name,
                           struct anon_error *err)
{
    return create_table(conn, plan, version_name, TABLE_VERSION, err);
}

bool target_create_staging(PGconn *conn, const struct table_plan *plan, const char *name,
                           struct anon_error *err)
{
    return create_table(conn, plan, name, TABLE_STAGING, err);
}

bool target_create_pieces(PGconn *conn, const struct table_plan *plan, const char *name,
                          struct anon_error *err)
{
    return create_table(conn, plan, name, TABLE_PIECES, err);
}

static void key_list(PGconn *conn, const struct table_plan *plan, struct abuf *sql)
{
    for (size_t k = 0; k < plan->n_key; k++) {
        if (k > 0)
            abuf_puts(sql, ", ");
        pgconn_quote_ident(conn, plan->columns[plan->key_columns[k]].source->name, sql);
    }
}

bool target_key_rewritten(const struct table_plan *plan)
{
    for (size_t k = 0; k < plan->n_key; k++) {
        const struct rule *r = plan->columns[plan->key_columns[k]].rule;
        if (r && strcmp(r->ops->name, "keep") != 0)
            return true;
    }
    return false;
}

/*
 * A version without a primary key (no key, or one that can be NULL) written again in the
 * order of its rows' published text: the loaded table is renamed, the version created
 * anew (create_table: the same definition) and filled from it sorted. The order is a
 * function of the published values only; rows equal in all of them are indistinguishable
 * whatever their order. In one transaction (the loading one, or its own).
 */
static bool rewrite_in_row_order(PGconn *conn, const struct table_plan *plan,
                                 const char *version_name, const char *table_sql,
                                 struct anon_error *err)
{
    bool own = PQtransactionStatus(conn) == PQTRANS_IDLE, ok;
    const char *params[1] = {table_sql};
    char loaded[TARGET_NAME_MAX];
    struct abuf loaded_sql, sql;
    PGresult *res;

    res = pgconn_query(conn, "SELECT $1::pg_catalog.regclass::pg_catalog.oid", 1, params,
                       PGRES_TUPLES_OK, err);
    if (!res)
        return false;
    snprintf(loaded, sizeof(loaded), "anonetl_rows_%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    abuf_init(&loaded_sql, 4096);
    abuf_init(&sql, 8192);
    target_version_sql(conn, loaded, &loaded_sql);
    abuf_printf(&sql, "ALTER TABLE %s RENAME TO ", table_sql);
    pgconn_quote_ident(conn, loaded, &sql);
    ok = !abuf_failed(&sql) && !abuf_failed(&loaded_sql) &&
         (!own || pgconn_exec(conn, "BEGIN", PGRES_COMMAND_OK, err)) &&
         pgconn_exec(conn, abuf_cstr(&sql), PGRES_COMMAND_OK, err) &&
         create_table(conn, plan, version_name, TABLE_VERSION, err);
    abuf_reset(&sql);
    abuf_printf(&sql, "INSERT INTO %s SELECT * FROM %s r ORDER BY r::pg_catalog.text COLLATE \"C\"",
                table_sql, abuf_cstr(&loaded_sql));
    ok = ok && !abuf_failed(&sql) && pgconn_exec(conn, abuf_cstr(&sql), PGRES_COMMAND_OK, err);
    abuf_reset(&sql);
    abuf_printf(&sql, "DROP TABLE %s", abuf_cstr(&loaded_sql));
    ok = ok && !abuf_failed(&sql) && pgconn_exec(conn, abuf_cstr(&sql), PGRES_COMMAND_OK, err) &&
         (!own || pgconn_exec(conn, "COMMIT", PGRES_COMMAND_OK, err));
    if (!ok && own && PQtransactionStatus(conn) != PQTRANS_IDLE)
        PQclear(PQexec(conn, "ROLLBACK"));
    abuf_free(&sql);
    abuf_free(&loaded_sql);
    return ok;
}

bool target_order_by_key(PGconn *conn, const struct table_plan *plan, const char *version_name,
                         bool loaded_in_key_order, struct anon_error *err)
{
    struct abuf table, sql;
    PGresult *res;
    bool ok = true;

    /* A k-anonymous table loads a private base; its published version is written from
     * it in the published key's order (kanon_apply.h): nothing to rewrite here. */
    if (plan->cfg->k_anonymity ||
        (plan->n_key > 0 && loaded_in_key_order && !target_key_rewritten(plan)))
        return true;
    abuf_init(&table, 4096);
    target_version_sql(conn, version_name, &table);
    if (abuf_failed(&table)) {
        anon_error_set(err, "out of memory");
        return false;
    }
    {
        const char *params[1] = {abuf_cstr(&table)};
        res = pgconn_query(conn,
                           "SELECT c.relname FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c "
                           "ON c.oid = i.indexrelid WHERE i.indrelid = $1::pg_catalog.regclass "
                           "AND i.indisprimary",
                           1, params, PGRES_TUPLES_OK, err);
    }
    if (res && PQntuples(res) == 1) {
        abuf_init(&sql, 8192);
        abuf_printf(&sql, "CLUSTER %s USING ", abuf_cstr(&table));
        pgconn_quote_ident(conn, PQgetvalue(res, 0, 0), &sql);
        ok = !abuf_failed(&sql) && pgconn_exec(conn, abuf_cstr(&sql), PGRES_COMMAND_OK, err);
        abuf_free(&sql);
    } else if (res) {
        ok = rewrite_in_row_order(conn, plan, version_name, abuf_cstr(&table), err);
    }
    ok = ok && res != NULL;
    PQclear(res);
    abuf_free(&table);
    return ok;
}

bool target_add_primary_key(PGconn *conn, const struct table_plan *plan, const char *version_name,
                            struct anon_error *err)
{
    struct abuf sql, cols;
    bool ok;

    if (plan->n_key == 0)
        return true;
    for (size_t k = 0; k < plan->n_key; k++) {
        const struct plan_column *c = &plan->columns[plan->key_columns[k]];
        if (c->output.may_be_null || !c->source->not_null) {
            log_warn("no_primary_key", plan->qualified,
                     "key column %s can be NULL after its rule: published without a primary key",
                     c->source->name);
            return true;
        }
    }
    abuf_init(&sql, 1 << 20);
    abuf_init(&cols, 1 << 20);
    key_list(conn, plan, &cols);
    abuf_puts(&sql, "ALTER TABLE ");
    target_version_sql(conn, version_name, &sql);
    abuf_printf(&sql, " ADD PRIMARY KEY (%s)", abuf_cstr(&cols));
    ok = !abuf_failed(&sql) && pgconn_exec(conn, abuf_cstr(&sql), PGRES_COMMAND_OK, err);
    if (!ok && strcmp(pgconn_last_sqlstate(), "23505") == 0)
        anon_error_set(err,
                       "%s: key collision: two different source keys became the same value of "
                       "the primary key (%s) after anonymisation; nothing was merged. Use a "
                       "longer hash (length) or hash_int for this key",
                       plan->qualified, abuf_cstr(&cols));
    abuf_free(&sql);
    abuf_free(&cols);
    return ok;
}

/* "<command> anonetl_data.<name>". */
static bool exec_on_table(PGconn *conn, const char *command, const char *name,
                          struct anon_error *err)
{
    struct abuf sql;
    bool ok;

    abuf_init(&sql, 4096);
    abuf_printf(&sql, "%s ", command);
    target_version_sql(conn, name, &sql);
    ok = !abuf_failed(&sql) && pgconn_exec(conn, abuf_cstr(&sql), PGRES_COMMAND_OK, err);
    abuf_free(&sql);
    return ok;
}

bool target_drop_version(PGconn *conn, const char *version_name, struct anon_error *err)
{
    return exec_on_table(conn, "DROP TABLE IF EXISTS", version_name, err);
}

/*
 * ANALYZE reads a sample of 300 x default_statistics_target rows and computes every
 * column's statistics from it: the sample is the cost. On 1 M rows of 540 bytes (the
 * bench's realistic table, PostgreSQL 15, target backend CPU): 100 (the server default)
 * 0.50 s, 30: 0.12 s, 10: 0.03 s, against 3.0 s for the COPY and 0.45 s for the primary
 * key. 10 (PostgreSQL's default until 8.4) gives 10-bucket histograms and 10 most common
 * values per column, enough to plan the data team's queries well; target.statistics_target
 * raises it. A later ANALYZE by the data team or autovacuum uses the server's own setting.
 */
bool target_analyze(PGconn *conn, const char *version_name, int statistics_target,
                    struct anon_error *err)
{
    char set[64];
    bool ok;

    snprintf(set, sizeof(set), "SET default_statistics_target = %d", statistics_target);
    ok = pgconn_exec(conn, set, PGRES_COMMAND_OK, err) &&
         exec_on_table(conn, "ANALYZE", version_name, err);
    PQclear(PQexec(conn, "RESET default_statistics_target"));
    return ok;
}
