/* sourcesnap.c: one snapshot for the whole run (see sourcesnap.h). */
#include "etl/sourcesnap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etl/pgconn.h"

struct source_snapshot {
    PGconn *conn;
    char id[64];
};

static const char begin_sql[] = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";

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
    res = pgconn_query(s->conn, "SELECT pg_catalog.pg_export_snapshot()", 0, NULL, PGRES_TUPLES_OK,
                       err);
    if (!res)
        goto fail;
    snprintf(s->id, sizeof(s->id), "%s", PQgetvalue(res, 0, 0));
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
    free(s);
}
