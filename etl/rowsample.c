/* rowsample.c: rows sampled over the whole table (see rowsample.h). */
#include "etl/rowsample.h"

#include <stdlib.h>
#include <string.h>

#include "etl/pgconn.h"

/* The heap's pages now: the table's own, its partitions' and inheritance children's (a
 * scan of the parent reads them too); and whether TABLESAMPLE applies to it. */
static const char pages_sql[] =
    "WITH RECURSIVE tree(oid) AS ("
    "  SELECT c.oid FROM pg_catalog.pg_class c "
    "  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "  WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'm', 'p') "
    "  UNION ALL SELECT i.inhrelid FROM pg_catalog.pg_inherits i JOIN tree ON i.inhparent = "
    "tree.oid) "
    "SELECT COALESCE(pg_catalog.sum(pg_catalog.pg_relation_size(oid)), 0) / "
    "pg_catalog.current_setting('block_size')::bigint, pg_catalog.count(*) FROM tree";

/* One query; inside a transaction under a savepoint, so that a failure (a where: the
 * server refuses) does not abort it. */
static PGresult *query_guarded(PGconn *conn, const char *sql, int nparams,
                               const char *const *params, struct anon_error *err)
{
    bool in_tx = PQtransactionStatus(conn) == PQTRANS_INTRANS;
    PGresult *res;

    if (in_tx)
        PQclear(PQexec(conn, "SAVEPOINT anonetl_sample"));
    res = pgconn_query(conn, sql, nparams, params, PGRES_TUPLES_OK, err);
    if (in_tx)
        PQclear(PQexec(conn, res ? "RELEASE SAVEPOINT anonetl_sample"
                                 : "ROLLBACK TO SAVEPOINT anonetl_sample"));
    return res;
}

/* The share of pages to read (percent), 100 to read the whole table, or 0 when the table
 * has no TABLESAMPLE (a view, a foreign table): it is read whole too. -1 on error. */
static double first_share(PGconn *conn, const struct table_plan *plan, int n,
                          struct anon_error *err)
{
    const char *params[2] = {plan->cfg->schema, plan->cfg->name};
    PGresult *res = query_guarded(conn, pages_sql, 2, params, err);
    double pages, want = (double)n * ROWSAMPLE_PAGES_PER_ROW, share;

    if (!res)
        return -1;
    pages = strtod(PQgetvalue(res, 0, 0), NULL);
    share = strtol(PQgetvalue(res, 0, 1), NULL, 10) == 0 ? 0 /* not a table */
            : pages <= want                              ? 100
                                                         : 100.0 * want / pages;
    PQclear(res);
    return share;
}

/*
 * SELECT columns FROM table [TABLESAMPLE SYSTEM (share) REPEATABLE (seed)] [WHERE (where)]
 * ORDER BY <a pseudo-random key> LIMIT n
 * The same table gives the same sample: REPEATABLE picks the same pages, and the rows of
 * a table are ordered by a hash of where they are (tableoid, ctid), so that `check
 * --source` and the run that follows agree, and a run's verdict does not flip on data
 * that did not change. A view or a foreign table (no ctid, no TABLESAMPLE) is ordered by
 * random().
 */
static bool sample_sql(PGconn *conn, const struct table_plan *plan, double share, int n,
                       struct abuf *sql)
{
    abuf_reset(sql);
    abuf_puts(sql, "SELECT ");
    for (size_t i = 0; i < plan->n_columns; i++) {
        if (i > 0)
            abuf_puts(sql, ", ");
        pgconn_quote_ident(conn, plan->columns[i].source->name, sql);
    }
    abuf_puts(sql, " FROM ");
    pgconn_quote_ident(conn, plan->cfg->schema, sql);
    abuf_putc(sql, '.');
    pgconn_quote_ident(conn, plan->cfg->name, sql);
    if (share > 0 && share < 100)
        abuf_printf(sql, " TABLESAMPLE SYSTEM (%.9f) REPEATABLE (%d)", share, ROWSAMPLE_SEED);
    if (plan->cfg->where)
        abuf_printf(sql, " WHERE (%s)", plan->cfg->where);
    abuf_printf(sql, " ORDER BY %s LIMIT %d",
                share > 0 ? "pg_catalog.hashtext(tableoid::pg_catalog.text || "
                            "ctid::pg_catalog.text)"
                          : "pg_catalog.random()",
                n);
    return !abuf_failed(sql);
}

PGresult *rowsample_read(PGconn *conn, const struct table_plan *plan, int n, struct anon_error *err)
{
    double share;
    struct abuf sql;
    PGresult *res = NULL;

    if ((share = first_share(conn, plan, n, err)) < 0)
        return NULL;
    abuf_init(&sql, 1 << 20);
    for (;;) {
        if (!sample_sql(conn, plan, share, n, &sql)) {
            anon_error_set(err, "%s: sample query too long", plan->qualified);
            break;
        }
        res = query_guarded(conn, abuf_cstr(&sql), 0, NULL, err);
        if (!res && share > 0 && share < 100) {
            /* TABLESAMPLE refused (a foreign table among the partitions): read it whole */
            share = 100;
            continue;
        }
        if (!res || PQntuples(res) >= n || share <= 0 || share >= 100)
            break;
        PQclear(res); /* the where: kept too few rows of the pages read: more pages */
        res = NULL;
        share = share * 8 < 100 ? share * 8 : 100;
    }
    abuf_free(&sql);
    return res;
}
