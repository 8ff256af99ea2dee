/* sourcesnap.c: one snapshot for the whole run (see sourcesnap.h). */
#include "etl/sourcesnap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etl/pgconn.h"

struct source_snapshot {
    PGconn *conn;
    char id[64];
    struct source_writer *writers; /* every writer of the database, before the snapshot */
    size_t n_writers;
    bool standby;
};

static const char begin_sql[] = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";

/*
 * The transactions that hold a lock letting them write a relation (RowExclusiveLock or
 * stronger: INSERT, UPDATE, DELETE, nextval() on a sequence, held until the transaction
 * ends; fast-path locks are listed too), with their start when pg_stat_activity shows it
 * (other roles' sessions need pg_read_all_stats). Read in its own statement BEFORE the
 * snapshot: a transaction the snapshot does not show that had taken such a lock by then
 * still holds it (a backend releases its locks after it leaves the snapshot's list of
 * running transactions), so it is listed. Read after the snapshot (as before), one that
 * committed in between was neither shown nor listed, and a window could move past its
 * rows for good (increment.h).
 */
static const char writers_sql[] =
    "SELECT r.standby, w.relation, w.vxid, w.start, w.start_us, w.live "
    "FROM (SELECT pg_catalog.pg_is_in_recovery() AS standby) r LEFT JOIN ("
    "  SELECT DISTINCT l.relation::pg_catalog.int8 AS relation, l.virtualtransaction AS vxid, "
    "         a.xact_start::pg_catalog.text AS start, "
    "         (EXTRACT(EPOCH FROM a.xact_start) * 1000000)::pg_catalog.int8 AS start_us, "
    "         l.pid IS NOT NULL AS live "
    "  FROM pg_catalog.pg_locks l LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid "
    "  WHERE l.locktype = 'relation' AND l.pid IS DISTINCT FROM pg_catalog.pg_backend_pid() "
    "    AND l.database = (SELECT d.oid FROM pg_catalog.pg_database d "
    "                      WHERE d.datname = pg_catalog.current_database()) "
    "    AND l.mode IN ('RowExclusiveLock', 'ShareRowExclusiveLock', 'ExclusiveLock', "
    "                   'AccessExclusiveLock')) w ON true";

static bool read_writers(struct source_snapshot *s, struct anon_error *err)
{
    PGresult *res = pgconn_query(s->conn, writers_sql, 0, NULL, PGRES_TUPLES_OK, err);
    int n;

    if (!res)
        return false;
    n = PQntuples(res);
    s->writers = calloc((size_t)n + 1, sizeof(*s->writers));
    if (!s->writers) {
        PQclear(res);
        anon_error_set(err, "out of memory");
        return false;
    }
    s->standby = n > 0 && PQgetvalue(res, 0, 0)[0] == 't';
    for (int i = 0; i < n; i++) {
        struct source_writer *w = &s->writers[s->n_writers];
        if (PQgetisnull(res, i, 1))
            continue;
        w->relation = strtoull(PQgetvalue(res, i, 1), NULL, 10);
        snprintf(w->vxid, sizeof(w->vxid), "%s", PQgetvalue(res, i, 2));
        snprintf(w->start, sizeof(w->start), "%s", PQgetvalue(res, i, 3));
        w->start_us = PQgetisnull(res, i, 4) ? 0 : strtoll(PQgetvalue(res, i, 4), NULL, 10);
        w->live = PQgetvalue(res, i, 5)[0] == 't';
        s->n_writers++;
    }
    PQclear(res);
    return true;
}

struct source_snapshot *source_snapshot_connect(const struct cfg_db *db, struct anon_error *err)
{
    struct source_snapshot *s = calloc(1, sizeof(*s));

    if (!s) {
        anon_error_set(err, "out of memory");
        return NULL;
    }
    s->conn = pgconn_open(db, "source", err);
    if (!s->conn) {
        free(s);
        return NULL;
    }
    return s;
}

bool source_snapshot_begin(struct source_snapshot *s, struct anon_error *err)
{
    PGresult *res;

    if (!read_writers(s, err) || !pgconn_exec(s->conn, begin_sql, PGRES_COMMAND_OK, err))
        return false;
    res = pgconn_query(s->conn, "SELECT pg_catalog.pg_export_snapshot()", 0, NULL, PGRES_TUPLES_OK,
                       err);
    if (!res)
        return false;
    snprintf(s->id, sizeof(s->id), "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return true;
}

struct source_snapshot *source_snapshot_open(const struct cfg_db *db, struct anon_error *err)
{
    struct source_snapshot *s = source_snapshot_connect(db, err);

    if (s && !source_snapshot_begin(s, err)) {
        source_snapshot_close(s);
        return NULL;
    }
    return s;
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
        pgconn_close(conn);
        return NULL;
    }
    return conn;
}

PGconn *source_snapshot_conn(const struct source_snapshot *s)
{
    return s->conn;
}

const struct source_writer *source_snapshot_writers(const struct source_snapshot *s, size_t *n)
{
    *n = s ? s->n_writers : 0;
    return s ? s->writers : NULL;
}

bool source_snapshot_standby(const struct source_snapshot *s)
{
    return s && s->standby;
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
    res = pgconn_query_built(s->conn, &sql, 0, NULL, PGRES_TUPLES_OK, err);
    if (!res)
        return false;
    *filtered = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return true;
}

/* pg_class as the snapshot shows it against pg_relation_filenode(), which reads the
 * catalog as it is now; mapped relations (system catalogs) have relfilenode 0 there. */
static const char storage_sql[] =
    "SELECT c.oid::pg_catalog.regclass::pg_catalog.text, pg_catalog.count(*) OVER () "
    "FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_class c ON c.oid = l.relation "
    "WHERE l.locktype = 'relation' AND l.pid = pg_catalog.pg_backend_pid() "
    "  AND l.database = (SELECT d.oid FROM pg_catalog.pg_database d "
    "                    WHERE d.datname = pg_catalog.current_database()) "
    "  AND c.relkind = 'r' AND c.relfilenode <> 0 "
    "  AND pg_catalog.pg_relation_filenode(c.oid) IS DISTINCT FROM c.relfilenode "
    "ORDER BY 1 LIMIT 1";

bool source_snapshot_storage_kept(PGconn *conn, struct anon_error *err)
{
    PGresult *res = pgconn_query(conn, storage_sql, 0, NULL, PGRES_TUPLES_OK, err);
    bool kept;

    if (!res)
        return false;
    kept = PQntuples(res) == 0;
    if (!kept)
        anon_error_set(err,
                       "source: %s was truncated or rewritten (TRUNCATE, ALTER TABLE, VACUUM "
                       "FULL, CLUSTER) after the run's snapshot (%s relation%s): what the run "
                       "read of it may lack rows; nothing is published, run again",
                       PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1),
                       strcmp(PQgetvalue(res, 0, 1), "1") == 0 ? "" : "s");
    PQclear(res);
    return kept;
}

void source_snapshot_close(struct source_snapshot *s)
{
    if (!s)
        return;
    if (s->conn)
        pgconn_close(s->conn); /* ends the read-only transaction */
    free(s->writers);
    free(s);
}
