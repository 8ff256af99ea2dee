/* watermarkcheck.c: check's findings about incremental tables' watermarks (see watermarkcheck.h).
 */
#include "etl/watermarkcheck.h"

#include <stdlib.h>
#include <string.h>

#include "etl/pgconn.h"
#include "etl/watermark.h"

bool watermarkcheck_source(PGconn *conn, const struct table_plan *plan, struct abuf *report,
                           struct anon_error *err)
{
    const struct cfg_table *t = plan->cfg;
    PGresult *res;
    int n;

    if (t->mode != CFG_MODE_INCREMENTAL || watermark_of(plan).kind != WATERMARK_INTEGER)
        return true;
    if (!(res = watermark_sequences(conn, plan, err)))
        return false;
    n = PQntuples(res);
    if (n > 1)
        abuf_printf(report,
                    "tables.%s.%s: watermark \"%s\" is filled from %d sequences (%s, %s%s): "
                    "ids of different sequences are not taken in one order, so a run could "
                    "move past an id another sequence hands out later (use one sequence, or "
                    "a timestamptz watermark)\n",
                    t->schema, t->name, t->watermark, n, PQgetvalue(res, 0, 0),
                    PQgetvalue(res, 1, 0), n > 2 ? ", ..." : "");
    for (int i = 0; i < n; i++) {
        const char *seq = PQgetvalue(res, i, 0);
        long cache = strtol(PQgetvalue(res, i, 1), NULL, 10);
        long long step = strtoll(PQgetvalue(res, i, 2), NULL, 10);
        if (cache > 1)
            abuf_printf(report,
                        "tables.%s.%s: watermark \"%s\" comes from a sequence with CACHE %ld "
                        "(%s): each session takes ids in blocks, so ids are not taken in time "
                        "order across sessions and a run could move past an id another "
                        "session commits later (ALTER SEQUENCE %s CACHE 1, or use a "
                        "timestamptz watermark)\n",
                        t->schema, t->name, t->watermark, cache, seq, seq);
        if (step < 0)
            abuf_printf(report,
                        "tables.%s.%s: watermark \"%s\" comes from a sequence with INCREMENT "
                        "BY %lld (%s): ids decrease, so every new row is below the mark of the "
                        "run before (use a timestamptz watermark)\n",
                        t->schema, t->name, t->watermark, step, seq);
        if (PQgetvalue(res, i, 3)[0] == 't')
            abuf_printf(report,
                        "tables.%s.%s: watermark \"%s\" comes from a sequence that CYCLEs "
                        "(%s): once it reaches its MAXVALUE, ids start again from its "
                        "MINVALUE, below every mark, and no run would read those rows "
                        "(ALTER SEQUENCE %s NO CYCLE)\n",
                        t->schema, t->name, t->watermark, seq, seq);
    }
    PQclear(res);
    return true;
}

/* The access methods of the indexes the window's `watermark > mark` can use: valid, not
 * partial, the watermark their first column, their operator class able to search by `>`
 * (btree, BRIN, btree_gist...; not hash or bloom, which only find equal values). */
static const char index_sql[] =
    "SELECT am.amname FROM pg_catalog.pg_index i JOIN pg_catalog.pg_attribute a "
    "  ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] "
    "  JOIN pg_catalog.pg_opclass oc ON oc.oid = i.indclass[0] "
    "  JOIN pg_catalog.pg_am am ON am.oid = oc.opcmethod "
    "  WHERE i.indrelid = $1::pg_catalog.regclass AND a.attname = $2 AND i.indisvalid "
    "    AND i.indpred IS NULL AND EXISTS (SELECT 1 FROM pg_catalog.pg_amop ao "
    "      JOIN pg_catalog.pg_operator o ON o.oid = ao.amopopr "
    "      WHERE ao.amopfamily = oc.opcfamily AND ao.amoppurpose = 's' AND o.oprname = '>')";

/* A sequence behind the table's ids: every run reloads (increment_check_sequences). Asked
 * with a btree on the watermark (max() is one index entry); the id is never shown. */
static void warn_sequence_behind(PGconn *conn, const struct table_plan *plan, FILE *out)
{
    PGresult *seqs = NULL, *top;
    struct anon_error err;
    struct abuf sql;
    bool behind = false;

    abuf_init(&sql, 4096);
    abuf_puts(&sql, "SELECT pg_catalog.max(");
    pgconn_quote_ident(conn, plan->cfg->watermark, &sql);
    abuf_puts(&sql, ")::pg_catalog.text FROM ");
    watermark_quote_table(conn, plan->cfg, &sql);
    top = pgconn_query_built(conn, &sql, 0, NULL, PGRES_TUPLES_OK, &err);
    if (top && !PQgetisnull(top, 0, 0))
        seqs = watermark_readable_sequences(conn, plan, &err);
    for (int i = 0; seqs && i < PQntuples(seqs) && !behind; i++)
        if (watermark_sequence_behind(conn, seqs, i, PQgetvalue(top, 0, 0), &behind, &err) &&
            behind)
            fprintf(out,
                    "warning: %s: the sequence %s of the watermark %s is behind the ids in "
                    "the table (ids inserted above it, a partition with its own): its rows "
                    "would fall below the mark, so every run reloads the whole table; "
                    "setval() it past them, or use a timestamptz watermark\n",
                    plan->qualified, PQgetvalue(seqs, i, 3), plan->cfg->watermark);
    PQclear(top);
    PQclear(seqs);
}

/* Whether the source role sees other sessions' transaction starts (increment.h). */
static const char stats_sql[] =
    "SELECT pg_catalog.pg_has_role('pg_read_all_stats', 'USAGE') OR "
    "(SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user)";

/* The lag a run relies on where it cannot see writers' locks (a standby, a foreign
 * table): an integer watermark's default differs there (watermark_integer_lag_ms). */
static long blind_lag_ms(const struct cfg_table *t, struct watermark w)
{
    return w.kind == WATERMARK_INTEGER ? watermark_integer_lag_ms(t, true)
                                       : cfg_watermark_lag_ms(t);
}

/* What happens to a row committed late behind a run's mark with watermark_lag 0. */
static const char *late_row_fate(const struct cfg_table *t)
{
    return t->deletes == CFG_DELETES_KEY_SCAN ? "is published a run later (key_scan: "
                                                "rows_missing, a reload)"
                                              : "is missed for good";
}

/* A foreign table among the relations read: what protects its server's late writes. */
static void warn_foreign(const PGresult *fam, const struct table_plan *plan, struct watermark w,
                         FILE *out)
{
    const struct cfg_table *t = plan->cfg;
    long lag_ms = blind_lag_ms(t, w);
    char foreign[256];

    watermark_foreign_member(fam, foreign, sizeof(foreign));
    if (!foreign[0])
        return;
    if (lag_ms == 0)
        fprintf(out,
                "warning: %s: reads the foreign table %s, and watermark_lag is 0: runs trust "
                "the locks this source shows alone, but writers on the foreign table's server "
                "hold none of them (and may take ids from their own sequence): a row they "
                "commit after a run read past its watermark %s (safe only if every write goes "
                "through this source; otherwise remove watermark_lag: the default is %ld s "
                "here)\n",
                plan->qualified, foreign, late_row_fate(t), CFG_DEFAULT_WATERMARK_LAG_MS / 1000);
    else
        fprintf(out,
                "warning: %s: reads the foreign table %s: writers on its server hold no lock "
                "this source shows, so runs cannot tell which of their writes are still in "
                "flight: only watermark_lag (%ld s%s) protects rows they commit later than "
                "that after their watermark%s\n",
                plan->qualified, foreign, lag_ms / 1000,
                t->watermark_lag_ms < 0 ? ", the default here" : "",
                w.kind == WATERMARK_INTEGER
                    ? " (for ids: after a larger id committed; the first runs "
                      "reload until a mark is that old)"
                    : "");
}

/* A table a logical replication subscription writes among the relations read: its rows
 * arrive when the publisher's transactions commit, which no lock here shows. */
static void warn_replicated(const PGresult *fam, const struct table_plan *plan, struct watermark w,
                            FILE *out)
{
    const struct cfg_table *t = plan->cfg;
    long lag_ms = blind_lag_ms(t, w);
    char replicated[256];

    watermark_replicated_member(fam, replicated, sizeof(replicated));
    if (!replicated[0])
        return;
    if (lag_ms == 0)
        fprintf(out,
                "warning: %s: reads %s, which a logical replication subscription writes, and "
                "watermark_lag is 0: runs trust the locks this source shows alone, but the "
                "publisher's transactions hold none of them and arrive in their commit order "
                "with the publisher's %s: a row committed there after a run read past its "
                "watermark %s (remove watermark_lag: the default is %ld s here)\n",
                plan->qualified, replicated, w.kind == WATERMARK_INTEGER ? "ids" : "stamps",
                late_row_fate(t), CFG_DEFAULT_WATERMARK_LAG_MS / 1000);
    else
        fprintf(out,
                "warning: %s: reads %s, which a logical replication subscription writes: the "
                "publisher's transactions hold no lock this source shows and arrive when they "
                "commit there, so runs cannot tell which are still in flight: only "
                "watermark_lag (%ld s%s) protects rows committed (and replicated) later than "
                "that after their watermark%s\n",
                plan->qualified, replicated, lag_ms / 1000,
                t->watermark_lag_ms < 0 ? ", the default here" : "",
                w.kind == WATERMARK_INTEGER
                    ? " (for ids: after a larger id committed; the first runs "
                      "reload until a mark is that old)"
                    : "");
}

/* No index the window can search by: every run reads the whole table. Whether a btree is
 * among them: max() of the watermark is then one index entry (warn_sequence_behind). */
static bool warn_index(PGconn *conn, const struct table_plan *plan, FILE *out)
{
    const struct cfg_table *t = plan->cfg;
    struct anon_error err;
    PGresult *res = watermark_query(conn, plan, index_sql, &err);
    bool btree = false;

    if (!res)
        return false;
    for (int i = 0; i < PQntuples(res); i++)
        btree = btree || strcmp(PQgetvalue(res, i, 0), "btree") == 0;
    if (PQntuples(res) == 0)
        fprintf(out,
                "warning: %s: no index on the source leads with the watermark %s: every "
                "incremental run scans the whole table (%.0f MB, about %.0f rows) to find "
                "its changes, whatever their number; with one it reads only them "
                "(CREATE INDEX ON %s (%s))\n",
                plan->qualified, t->watermark, (double)plan->catalog->est_bytes / 1048576.0,
                plan->catalog->est_rows > 0 ? plan->catalog->est_rows : 0.0, plan->qualified,
                t->watermark);
    PQclear(res);
    return btree;
}

/* An integer watermark's ids that runs cannot see taken in flight: no sequence fills the
 * column, or one steps by more than 1 (ids handed out in blocks by an application); and,
 * with a btree to ask max() cheaply, a sequence behind the ids already in the table. */
static void warn_sequences(PGconn *conn, const struct table_plan *plan, bool btree, FILE *out)
{
    const struct cfg_table *t = plan->cfg;
    struct anon_error err;
    PGresult *res = watermark_sequences(conn, plan, &err);

    if (!res)
        return;
    if (PQntuples(res) == 0)
        fprintf(out,
                "warning: %s: the integer watermark %s is not filled by a sequence runs "
                "can watch (serial, identity, OWNED BY, or a default calling nextval()): "
                "an id an application takes before its transaction writes the table (from "
                "another sequence, an external counter, an ORM's block of ids) is not seen "
                "in flight, and a run can move past it for good: safe only if ids are "
                "chosen in increasing order by the statement that inserts them (e.g. "
                "max(id) + 1); otherwise make the sequence the column's default, set "
                "watermark_lag above the longest wait between taking an id and "
                "committing it, or use a timestamptz watermark\n",
                plan->qualified, t->watermark);
    for (int i = 0; i < PQntuples(res); i++)
        if (strtoll(PQgetvalue(res, i, 2), NULL, 10) > 1)
            fprintf(out,
                    "warning: %s: the watermark %s comes from %s, with INCREMENT BY %s: "
                    "often a block of ids an application hands out itself (an ORM's "
                    "pooled or hi/lo allocator), out of order across sessions: safe only "
                    "if every id is taken by nextval() in the transaction that inserts "
                    "it; otherwise set watermark_lag above the longest time an id waits "
                    "before its row commits, or use a timestamptz watermark\n",
                    plan->qualified, t->watermark, PQgetvalue(res, i, 0), PQgetvalue(res, i, 2));
    PQclear(res);
    if (btree)
        warn_sequence_behind(conn, plan, out);
}

/* A standby source: the primary's writers hold no lock it shows, only the lag protects. */
static void warn_standby(PGconn *conn, const struct table_plan *plan, struct watermark w, FILE *out)
{
    struct anon_error err;
    PGresult *res =
        pgconn_query(conn, "SELECT pg_catalog.pg_is_in_recovery()", 0, NULL, PGRES_TUPLES_OK, &err);

    if (!res)
        return;
    if (PQgetvalue(res, 0, 0)[0] == 't')
        fprintf(out,
                "warning: %s: the source is a standby: the primary's transactions hold "
                "no lock it can see, so runs cannot tell which writes are still in "
                "flight: only watermark_lag (%ld s) protects rows that commit (and "
                "replay) later than that after their watermark%s\n",
                plan->qualified, blind_lag_ms(plan->cfg, w) / 1000,
                w.kind == WATERMARK_INTEGER ? " (for ids: after a larger id committed)" : "");
    PQclear(res);
}

/* A `timestamp` or `date` watermark: local times of the source's default time zone. */
static void warn_local_time(const struct cfg_db *db, const struct table_plan *plan,
                            struct watermark w, FILE *out)
{
    struct anon_error err;
    char zone[128] = "";

    if (!pgconn_default_setting(db, "source", "TimeZone", zone, sizeof(zone), &err))
        snprintf(zone, sizeof(zone), "unknown: %s", err.msg);
    fprintf(out,
            "warning: %s: the watermark %s is %s: its values are local times, read in the "
            "source's default time zone (%s); changes written by sessions set to another "
            "time zone would be read late or missed: prefer timestamptz%s\n",
            plan->qualified, plan->cfg->watermark, w.type, zone,
            w.kind == WATERMARK_DATE ? " (a date watermark also reads the current day again "
                                       "every run)"
                                     : "");
}

/* A source role that cannot see other sessions' transaction starts (stats_sql). */
static void warn_blind_role(PGconn *conn, const struct table_plan *plan, FILE *out)
{
    struct anon_error err;
    PGresult *res = pgconn_query(conn, stats_sql, 0, NULL, PGRES_TUPLES_OK, &err);

    if (!res)
        return;
    if (PQgetvalue(res, 0, 0)[0] != 't')
        fprintf(out,
                "warning: %s: the source role cannot see when other sessions' "
                "transactions began (grant it pg_read_all_stats): only watermark_lag "
                "(%ld s) protects rows of write transactions that commit later than that "
                "after their watermark\n",
                plan->qualified, cfg_watermark_lag_ms(plan->cfg) / 1000);
    PQclear(res);
}

void watermarkcheck_warn_source(PGconn *conn, const struct cfg_db *db,
                                const struct table_plan *plan, FILE *out)
{
    const struct cfg_table *t = plan->cfg;
    struct watermark w = watermark_of(plan);
    struct anon_error err;
    PGresult *fam;
    bool btree;

    if (t->mode != CFG_MODE_INCREMENTAL || w.kind == WATERMARK_NONE)
        return;
    btree = warn_index(conn, plan, out);
    if (w.kind == WATERMARK_INTEGER)
        warn_sequences(conn, plan, btree, out);
    warn_standby(conn, plan, w, out);
    /* the relations read, once for both: a foreign or a replicated one among them */
    if ((fam = watermark_family(conn, plan, &err)) != NULL) {
        warn_foreign(fam, plan, w, out);
        warn_replicated(fam, plan, w, out);
        PQclear(fam);
    }
    if (w.kind != WATERMARK_INTEGER && t->watermark_lag_ms == 0)
        fprintf(out,
                "warning: %s: watermark_lag is 0 on the watermark %s: a run sees the "
                "transactions already writing the table when it starts, but a transaction "
                "that stamps a row before a run and writes the table only after the run "
                "started is missed for good if it commits after that run's snapshot: set the "
                "lag above your longest write transaction\n",
                plan->qualified, t->watermark);
    if (w.kind == WATERMARK_TIMESTAMP || w.kind == WATERMARK_DATE)
        warn_local_time(db, plan, w, out);
    if (w.kind != WATERMARK_INTEGER)
        warn_blind_role(conn, plan, out);
}

void watermarkcheck_warn_config(const struct config *cfg, FILE *out)
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
