/* sourcesnap.c: one snapshot for the whole run (see sourcesnap.h). */
#include "etl/sourcesnap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etl/pgconn.h"

struct source_snapshot {
    PGconn *conn;
    char id[64];
    struct source_writers *writers; /* relations other sessions could write, at the snapshot */
    size_t n_writers;
};

static const char begin_sql[] = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";

/*
 * The snapshot, and in the same statement (so within microseconds of it) the relations
 * that other sessions hold a lock on that lets them write rows (an INSERT, UPDATE or
 * DELETE, or a nextval() on a sequence, holds RowExclusiveLock until its transaction
 * ends), with the start of the oldest such transaction when pg_stat_activity shows it
 * (other roles' sessions need pg_read_all_stats). Incremental windows stop below what
 * those transactions may still commit (increment.h).
 */
static const char open_sql[] =
    "SELECT s.id, w.relation, w.sessions, w.oldest, w.known "
    "FROM (SELECT pg_catalog.pg_export_snapshot() AS id) s LEFT JOIN ("
    "  SELECT l.relation::pg_catalog.int8 AS relation, pg_catalog.count(*) AS sessions, "
    "         pg_catalog.min(a.xact_start)::pg_catalog.text AS oldest, "
    "         pg_catalog.bool_and(a.xact_start IS NOT NULL) AS known "
    "  FROM pg_catalog.pg_locks l LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid "
    "  WHERE l.locktype = 'relation' AND l.pid IS DISTINCT FROM pg_catalog.pg_backend_pid() "
    "    AND l.database = (SELECT d.oid FROM pg_catalog.pg_database d "
    "                      WHERE d.datname = pg_catalog.current_database()) "
    "    AND l.mode IN ('RowExclusiveLock', 'ShareRowExclusiveLock', 'ExclusiveLock', "
    "                   'AccessExclusiveLock') "
    "  GROUP BY l.relation) w ON true";

static bool read_writers(struct source_snapshot *s, PGresult *res, struct anon_error *err)
{
    int n = PQntuples(res);

    s->writers = calloc((size_t)n + 1, sizeof(*s->writers));
    if (!s->writers) {
        anon_error_set(err, "out of memory");
        return false;
    }
    for (int i = 0; i < n; i++) {
        struct source_writers *w = &s->writers[s->n_writers];
        if (PQgetisnull(res, i, 1))
            continue;
        w->relation = strtoull(PQgetvalue(res, i, 1), NULL, 10);
        w->sessions = (int)strtol(PQgetvalue(res, i, 2), NULL, 10);
        w->start_known = PQgetvalue(res, i, 4)[0] == 't';
        snprintf(w->oldest_start, sizeof(w->oldest_start), "%s", PQgetvalue(res, i, 3));
        s->n_writers++;
    }
    return true;
}

struct source_snapshot *source_snapshot_open(const struct cfg_db *db, struct anon_error *err)
{
    struct source_snapshot *s = calloc(1, sizeof(*s));
    PGresult *res;

    if (!s) {
        anon_error_set(err, "out of memory");
        return NULL;
    }
    s->conn = pgconn_open(db, "source", err);
    if (!s->conn || !pgconn_exec(s->conn, begin_sql, PGRES_COMMAND_OK, err))
        goto fail;
    res = pgconn_query(s->conn, open_sql, 0, NULL, PGRES_TUPLES_OK, err);
    if (!res)
        goto fail;
    snprintf(s->id, sizeof(s->id), "%s", PQgetvalue(res, 0, 0));
    if (!read_writers(s, res, err)) {
        PQclear(res);
        goto fail;
    }
    PQclear(res);
    return s;
fail:
    source_snapshot_close(s);
    return NULL;
}

PGconn *source_snapshot_attach(const struct source_snapshot *s, const struct cfg_db *db,
                               struct anon_error *err)
{
    PGconn *conn = pgconn_open(db, "source", err);
    char *lit;
    char sql[128];
    bool ok;

    if (!conn)
        return NULL;
    /* SET TRANSACTION SNAPSHOT takes no bind parameters: quote the id as a literal. */
    lit = PQescapeLiteral(conn, s->id, strlen(s->id));
    snprintf(sql, sizeof(sql), "SET TRANSACTION SNAPSHOT %s", lit ? lit : "''");
    PQfreemem(lit);
    ok = pgconn_exec(conn, begin_sql, PGRES_COMMAND_OK, err) &&
         pgconn_exec(conn, sql, PGRES_COMMAND_OK, err);
    if (!ok) {
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

PGconn *source_snapshot_conn(const struct source_snapshot *s)
{
    return s->conn;
}

const struct source_writers *source_snapshot_writers(const struct source_snapshot *s,
                                                     unsigned long long relation)
{
    for (size_t i = 0; s && i < s->n_writers; i++)
        if (s->writers[i].relation == relation)
            return &s->writers[i];
    return NULL;
}

const char *source_snapshot_id(const struct source_snapshot *s)
{
    return s ? s->id : NULL;
}

bool source_snapshot_count_filtered(const struct source_snapshot *s, const struct table_plan *plan,
                                    uint64_t *filtered, struct anon_error *err)
{
    struct abuf sql;
    PGresult *res;

    *filtered = 0;
    if (!plan->cfg->where)
        return true;
    abuf_init(&sql, 1 << 20);
    abuf_puts(&sql, "SELECT pg_catalog.count(*) FROM ");
    pgconn_quote_ident(s->conn, plan->cfg->schema, &sql);
    abuf_putc(&sql, '.');
    pgconn_quote_ident(s->conn, plan->cfg->name, &sql);
    abuf_printf(&sql, " WHERE NOT COALESCE((%s), false)", plan->cfg->where);
    res = abuf_failed(&sql) ? NULL
                            : pgconn_query(s->conn, abuf_cstr(&sql), 0, NULL, PGRES_TUPLES_OK, err);
    abuf_free(&sql);
    if (!res)
        return false;
    *filtered = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return true;
}

void source_snapshot_close(struct source_snapshot *s)
{
    if (!s)
        return;
    if (s->conn)
        PQfinish(s->conn); /* ends the read-only transaction */
    free(s->writers);
    free(s);
}
