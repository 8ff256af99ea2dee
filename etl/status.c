/*
 * status.c: `anonetl status`. Reads anonetl.runs and anonetl.run_tables: start,
 * duration, outcome, rows per table, high-water marks and the key fingerprint, so a key
 * rotation or a stuck incremental table is visible without SQL.
 */
#include "etl/status.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etl/exitcode.h"
#include "etl/pgconn.h"

static const char runs_sql[] =
    "SELECT r.run_id, r.started_at, "
    "       COALESCE(pg_catalog.round(EXTRACT(epoch FROM r.finished_at - r.started_at)::numeric, "
    "2)::text, ''), "
    "       r.status, COALESCE(r.exit_code::text, ''), r.key_fingerprint, COALESCE(r.key_id, ''), "
    "       COALESCE(r.error, ''), r.config_fingerprint, "
    /* through to_jsonb: a target not yet migrated by a run of this version has no such
     * columns */
    "       COALESCE(pg_catalog.to_jsonb(r)->>'audit_sampled', ''), "
    "       COALESCE(pg_catalog.to_jsonb(r)->>'audit_hits', '') "
    "FROM anonetl.runs r WHERE r.target_schema = $1 ORDER BY r.run_id DESC LIMIT $2::int";

static const char tables_sql[] =
    "SELECT table_name, mode, rows_read, rows_written, rows_filtered, rows_deleted, "
    "       elapsed_ms, COALESCE(high_water_mark, ''), "
    "       COALESCE(copy_ms, -1), COALESCE(index_ms, -1), COALESCE(analyze_ms, -1), "
    "       COALESCE(publish_ms, -1) "
    "FROM anonetl.run_tables WHERE run_id = $1::bigint ORDER BY table_name";

static json_t *table_rows(PGconn *conn, const char *run_id, struct anon_error *err)
{
    const char *params[1] = {run_id};
    PGresult *res = pgconn_query(conn, tables_sql, 1, params, PGRES_TUPLES_OK, err);
    json_t *list = json_array();

    for (int i = 0; res && i < PQntuples(res); i++) {
        json_t *t = json_object();
        json_object_set_new(t, "table", json_string(PQgetvalue(res, i, 0)));
        json_object_set_new(t, "mode", json_string(PQgetvalue(res, i, 1)));
        json_object_set_new(t, "rows_read", json_integer(strtoll(PQgetvalue(res, i, 2), NULL, 10)));
        json_object_set_new(t, "rows_written",
                            json_integer(strtoll(PQgetvalue(res, i, 3), NULL, 10)));
        json_object_set_new(t, "rows_filtered",
                            json_integer(strtoll(PQgetvalue(res, i, 4), NULL, 10)));
        json_object_set_new(t, "rows_deleted",
                            json_integer(strtoll(PQgetvalue(res, i, 5), NULL, 10)));
        json_object_set_new(t, "elapsed_ms",
                            json_integer(strtoll(PQgetvalue(res, i, 6), NULL, 10)));
        if (PQgetvalue(res, i, 7)[0])
            json_object_set_new(t, "high_water_mark", json_string(PQgetvalue(res, i, 7)));
        /* where the time went (runs recorded before these columns have none) */
        for (int k = 0; k < 4; k++) {
            static const char *const phase[] = {"copy_ms", "index_ms", "analyze_ms", "publish_ms"};
            long long v = strtoll(PQgetvalue(res, i, 8 + k), NULL, 10);
            if (v >= 0)
                json_object_set_new(t, phase[k], json_integer(v));
        }
        json_array_append_new(list, t);
    }
    PQclear(res);
    return list;
}

static json_t *collect(PGconn *conn, const char *schema, int limit, struct anon_error *err)
{
    char lim[16];
    const char *params[2] = {schema, lim};
    PGresult *res;
    json_t *runs;

    snprintf(lim, sizeof(lim), "%d", limit);
    res = pgconn_query(conn, runs_sql, 2, params, PGRES_TUPLES_OK, err);
    if (!res)
        return NULL;
    runs = json_array();
    for (int i = 0; i < PQntuples(res); i++) {
        json_t *r = json_object();
        json_object_set_new(r, "run_id", json_integer(strtoll(PQgetvalue(res, i, 0), NULL, 10)));
        json_object_set_new(r, "started_at", json_string(PQgetvalue(res, i, 1)));
        if (PQgetvalue(res, i, 2)[0])
            json_object_set_new(r, "duration_s", json_real(strtod(PQgetvalue(res, i, 2), NULL)));
        json_object_set_new(r, "status", json_string(PQgetvalue(res, i, 3)));
        if (PQgetvalue(res, i, 4)[0])
            json_object_set_new(r, "exit_code",
                                json_integer(strtol(PQgetvalue(res, i, 4), NULL, 10)));
        json_object_set_new(r, "key_fingerprint", json_string(PQgetvalue(res, i, 5)));
        if (PQgetvalue(res, i, 6)[0])
            json_object_set_new(r, "key_id", json_string(PQgetvalue(res, i, 6)));
        if (PQgetvalue(res, i, 7)[0])
            json_object_set_new(r, "error", json_string(PQgetvalue(res, i, 7)));
        json_object_set_new(r, "config_fingerprint", json_string(PQgetvalue(res, i, 8)));
        if (PQgetvalue(res, i, 9)[0]) /* the run had a leak audit */
            json_object_set_new(r, "audit",
                                json_pack("{s:I, s:I}", "sampled",
                                          (json_int_t)strtoll(PQgetvalue(res, i, 9), NULL, 10),
                                          "hits",
                                          (json_int_t)strtoll(PQgetvalue(res, i, 10), NULL, 10)));
        json_object_set_new(r, "tables", table_rows(conn, PQgetvalue(res, i, 0), err));
        json_array_append_new(runs, r);
    }
    PQclear(res);
    return runs;
}

static const char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s ? s : "";
}

static void print_text(json_t *runs)
{
    size_t i, j;
    json_t *r, *t;
    const char *prev_key = NULL;

    printf("%-6s %-26s %9s %-10s %-16s %s\n", "RUN", "STARTED", "DURATION", "STATUS", "KEY",
           "ROWS");
    json_array_foreach(runs, i, r)
    {
        long long rows = 0;
        json_array_foreach(json_object_get(r, "tables"), j, t) rows +=
            json_integer_value(json_object_get(t, "rows_written"));
        printf("%-6lld %-26.26s %8.2fs %-10s %-16s %lld\n",
               (long long)json_integer_value(json_object_get(r, "run_id")), str(r, "started_at"),
               json_real_value(json_object_get(r, "duration_s")), str(r, "status"),
               str(r, "key_fingerprint"), rows);
        if (prev_key && strcmp(prev_key, str(r, "key_fingerprint")) != 0)
            printf("       ^ the hash key changed after this run (pseudonyms differ across it)\n");
        prev_key = str(r, "key_fingerprint");
        if (str(r, "error")[0])
            printf("       error: %.200s\n", str(r, "error"));
        if (json_object_get(r, "audit"))
            printf("       leak audit: %lld values sampled, %lld hits\n",
                   (long long)json_integer_value(
                       json_object_get(json_object_get(r, "audit"), "sampled")),
                   (long long)json_integer_value(
                       json_object_get(json_object_get(r, "audit"), "hits")));
        json_array_foreach(json_object_get(r, "tables"), j, t)
        {
            printf("       %-32s %-11s read %lld written %lld deleted %lld%s%s\n", str(t, "table"),
                   str(t, "mode"), (long long)json_integer_value(json_object_get(t, "rows_read")),
                   (long long)json_integer_value(json_object_get(t, "rows_written")),
                   (long long)json_integer_value(json_object_get(t, "rows_deleted")),
                   str(t, "high_water_mark")[0] ? "  hwm " : "", str(t, "high_water_mark"));
        }
    }
}

int status_main(const struct config *cfg, bool json, int limit)
{
    enum secret_failure why;
    struct anon_error err;
    PGconn *conn;
    json_t *runs, *doc;

    if (!pgconn_params_check(&cfg->target.db, "target", &why, &err)) {
        fprintf(stderr, "anonetl: %s\n", err.msg);
        return secret_failure_exit(why);
    }
    conn = pgconn_open(&cfg->target.db, "target", &err);
    if (!conn) {
        fprintf(stderr, "anonetl: %s\n", err.msg);
        return EXIT_TARGET;
    }
    runs = collect(conn, cfg->target.schema, limit, &err);
    /* A target no run has bootstrapped yet has no anonetl schema (3F000) or no runs table
     * (42P01): that is a state, not an error. */
    if (!runs && (strcmp(pgconn_last_sqlstate(), "3F000") == 0 ||
                  strcmp(pgconn_last_sqlstate(), "42P01") == 0))
        runs = json_array();
    pgconn_close(conn);
    if (!runs) {
        fprintf(stderr, "anonetl: cannot read the run history: %s\n", err.msg);
        return EXIT_TARGET;
    }
    if (json) {
        doc = json_pack("{s:s, s:o}", "schema", cfg->target.schema, "runs", runs);
        if (json_array_size(runs) == 0)
            json_object_set_new(doc, "note", json_string("no runs yet"));
        json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        putchar('\n');
        json_decref(doc);
    } else if (json_array_size(runs) == 0) {
        printf("no runs yet for schema %s\n", cfg->target.schema);
        json_decref(runs);
    } else {
        print_text(runs);
        json_decref(runs);
    }
    return EXIT_OK;
}
