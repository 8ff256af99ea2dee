/* watermark.c: an incremental table's watermark, and what the source says of it (see watermark.h).
 */
#include "etl/watermark.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etl/pgconn.h"

bool watermark_quote_table(PGconn *conn, const struct cfg_table *t, struct abuf *sql)
{
    pgconn_quote_ident(conn, t->schema, sql);
    abuf_putc(sql, '.');
    return pgconn_quote_ident(conn, t->name, sql);
}

/* The kind of a format_type() text, and a timestamp's fractional digits. */
enum watermark_kind watermark_kind_of_type(const char *type, int *precision)
{
    const char *paren;

    if (strchr(type, '[')) /* an array ("timestamp with time zone[]") is no watermark */
        return WATERMARK_NONE;
    if (strncmp(type, "timestamp", 9) == 0) {
        if (precision && (paren = strchr(type, '(')) != NULL && paren[1] >= '0' && paren[1] <= '6')
            *precision = paren[1] - '0';
        return strstr(type, "with time zone") && !strstr(type, "without") ? WATERMARK_TIMESTAMPTZ
                                                                          : WATERMARK_TIMESTAMP;
    }
    if (strcmp(type, "date") == 0)
        return WATERMARK_DATE;
    if (strcmp(type, "bigint") == 0 || strcmp(type, "integer") == 0 ||
        strcmp(type, "smallint") == 0)
        return WATERMARK_INTEGER;
    return WATERMARK_NONE;
}

struct watermark watermark_of(const struct table_plan *plan)
{
    struct watermark w = {.kind = WATERMARK_NONE, .type = "", .precision = 6};
    size_t i;

    if (!plan->cfg->watermark || (i = plan_column_index(plan, plan->cfg->watermark)) == (size_t)-1)
        return w;
    w.type = plan->columns[i].source->type;
    w.not_null = plan->columns[i].source->not_null;
    w.kind = watermark_kind_of_type(w.type, &w.precision);
    return w;
}

/* An integer watermark's lag: the config's; unset, 0 where every writer's locks are seen,
 * CFG_DEFAULT_WATERMARK_LAG_MS where some are not (blind: a standby source, or a foreign
 * table among the relations read). An explicit 0 there trusts the locks this source
 * shows alone: right only when every write goes through it. */
long watermark_integer_lag_ms(const struct cfg_table *t, bool blind)
{
    return t->watermark_lag_ms >= 0 ? t->watermark_lag_ms
           : blind                  ? CFG_DEFAULT_WATERMARK_LAG_MS
                                    : 0;
}

/*
 * The relations whose writers can change what a table shows: the table, its partitions
 * and inheritance children (a write into a partition need not lock its parent), for a
 * view the relations it reads (recursively); and the sequences that fill the watermark
 * column: its serial or identity sequence and those its default calls (nextval() locks
 * the sequence until the transaction ends, before any row is written). $1 the table
 * (quoted, qualified), $2 the watermark column.
 */
#define FAMILY_SQL                                                                                 \
    "WITH RECURSIVE fam(oid) AS ("                                                                 \
    "  SELECT $1::pg_catalog.regclass::pg_catalog.oid UNION "                                      \
    "  SELECT e.child FROM fam JOIN ("                                                             \
    "    SELECT i.inhparent AS parent, i.inhrelid AS child FROM pg_catalog.pg_inherits i "         \
    "    UNION ALL "                                                                               \
    "    SELECT w.ev_class, d.refobjid FROM pg_catalog.pg_rewrite w "                              \
    "    JOIN pg_catalog.pg_depend d "                                                             \
    "      ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass AND d.objid = w.oid "       \
    "     AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass "                          \
    "     AND d.refobjid <> w.ev_class) e ON e.parent = fam.oid), "                                \
    "col AS (SELECT a.attrelid, a.attnum FROM fam JOIN pg_catalog.pg_attribute a "                 \
    "  ON a.attrelid = fam.oid AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped), "      \
    "seqs(oid) AS (SELECT s.oid FROM pg_catalog.pg_class s WHERE s.relkind = 'S' AND s.oid IN ("   \
    "  SELECT d.objid FROM col JOIN pg_catalog.pg_depend d "                                       \
    "    ON d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass "                               \
    "   AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass "                            \
    "   AND d.refobjid = col.attrelid AND d.refobjsubid = col.attnum "                             \
    "   AND d.deptype IN ('a', 'i') "                                                              \
    "  UNION ALL "                                                                                 \
    "  SELECT d.refobjid FROM col JOIN pg_catalog.pg_attrdef ad "                                  \
    "    ON ad.adrelid = col.attrelid AND ad.adnum = col.attnum "                                  \
    "  JOIN pg_catalog.pg_depend d "                                                               \
    "    ON d.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass AND d.objid = ad.oid "        \
    "   AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass)) "

PGresult *watermark_query(PGconn *conn, const struct table_plan *plan, const char *sql,
                          struct anon_error *err)
{
    struct abuf name;
    const char *params[2];
    PGresult *res;

    abuf_init(&name, 4096);
    watermark_quote_table(conn, plan->cfg, &name);
    params[0] = abuf_cstr(&name);
    params[1] = plan->cfg->watermark;
    res = abuf_failed(&name) ? NULL : pgconn_query(conn, sql, 2, params, PGRES_TUPLES_OK, err);
    abuf_free(&name);
    return res;
}

/* The relations whose write locks are watched, then the foreign tables among those the
 * table reads (partitions, inheritance children, a view's tables): their count and the
 * first by name; then the same of those a logical replication subscription of this
 * database writes (pg_subscription_rel: readable by any role). */
static const char family_sql[] =
    FAMILY_SQL "SELECT (SELECT pg_catalog.string_agg(x.oid::pg_catalog.text, ',') "
               "  FROM (SELECT fam.oid FROM fam UNION SELECT seqs.oid FROM seqs) x), "
               "  pg_catalog.count(*) FILTER (WHERE c.relkind = 'f'), "
               "  pg_catalog.min(c.oid::pg_catalog.regclass::pg_catalog.text) "
               "    FILTER (WHERE c.relkind = 'f'), "
               "  pg_catalog.count(*) FILTER (WHERE sr.srrelid IS NOT NULL), "
               "  pg_catalog.min(c.oid::pg_catalog.regclass::pg_catalog.text) "
               "    FILTER (WHERE sr.srrelid IS NOT NULL) "
               "FROM fam JOIN pg_catalog.pg_class c ON c.oid = fam.oid "
               "LEFT JOIN (SELECT DISTINCT srrelid FROM pg_catalog.pg_subscription_rel) sr "
               "  ON sr.srrelid = c.oid";

PGresult *watermark_family(PGconn *conn, const struct table_plan *plan, struct anon_error *err)
{
    return watermark_query(conn, plan, family_sql, err);
}

/*
 * A foreign table in the family is written on another server too, by transactions that
 * hold no lock this source shows and may take ids from their own sequence: like a
 * standby, only watermark_lag protects the rows they commit late. From a family_sql
 * result: "" when there is none; otherwise its name, with how many others.
 */
static void family_member(const PGresult *fam, int column, char *out, size_t len)
{
    long n = strtol(PQgetvalue(fam, 0, column), NULL, 10);

    out[0] = '\0';
    if (n == 1)
        snprintf(out, len, "%s", PQgetvalue(fam, 0, column + 1));
    else if (n > 1)
        snprintf(out, len, "%s (and %ld more)", PQgetvalue(fam, 0, column + 1), n - 1);
}

void watermark_foreign_member(const PGresult *fam, char *out, size_t len)
{
    family_member(fam, 1, out, len);
}

/*
 * A table a logical replication subscription writes (the source is a subscriber) gets
 * the publisher's rows when they commit there, in that order, with the publisher's ids
 * and stamps: the apply worker holds no lock while the publisher's transaction is open,
 * so a transaction that took id 21 and commits after the one that took 22 lands here after
 * a run read 22; as for a foreign table, only watermark_lag protects those rows.
 */
void watermark_replicated_member(const PGresult *fam, char *out, size_t len)
{
    family_member(fam, 3, out, len);
}

/* The sequences that fill an integer watermark too, with a fourth item "sequence":
 * ALTER SEQUENCE ... RESTART (an identity's: ALTER TABLE ... ALTER ... RESTART) gives one
 * a new relfilenode, and it hands out ids at or below the last run's mark again. */
static const char storage_sql[] =
    FAMILY_SQL "SELECT pg_catalog.json_agg(CASE WHEN c.relkind = 'S' "
               "  THEN pg_catalog.json_build_array(c.oid::pg_catalog.int8, "
               "    c.relfilenode::pg_catalog.int8, c.oid::pg_catalog.regclass::pg_catalog.text, "
               "    'sequence') "
               "  ELSE pg_catalog.json_build_array(c.oid::pg_catalog.int8, "
               "    c.relfilenode::pg_catalog.int8, c.oid::pg_catalog.regclass::pg_catalog.text) "
               "  END ORDER BY c.oid) "
               "FROM (SELECT fam.oid FROM fam UNION SELECT seqs.oid FROM seqs) f "
               "JOIN pg_catalog.pg_class c ON c.oid = f.oid WHERE c.relkind IN ('r', 'm', 'S')";

PGresult *watermark_storage(PGconn *conn, const struct table_plan *plan, struct anon_error *err)
{
    return watermark_query(conn, plan, storage_sql, err);
}

/* The sequences that fill the watermark column (FAMILY_SQL), with what makes ids go out
 * of order. */
static const char sequences_sql[] =
    FAMILY_SQL "SELECT s.oid::pg_catalog.regclass::pg_catalog.text, q.seqcache, q.seqincrement, "
               "       q.seqcycle FROM seqs s JOIN pg_catalog.pg_sequence q ON q.seqrelid = s.oid "
               "ORDER BY 1";

PGresult *watermark_sequences(PGconn *conn, const struct table_plan *plan, struct anon_error *err)
{
    return watermark_query(conn, plan, sequences_sql, err);
}

/* The sequences filling an integer watermark that the source role may read, with their
 * step (to read one, SELECT on it is needed). */
static const char readable_sequences_sql[] =
    FAMILY_SQL "SELECT n.nspname, c.relname, q.seqincrement, "
               "  c.oid::pg_catalog.regclass::pg_catalog.text "
               "FROM seqs s JOIN pg_catalog.pg_class c ON c.oid = s.oid "
               "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
               "JOIN pg_catalog.pg_sequence q ON q.seqrelid = s.oid "
               "WHERE pg_catalog.has_sequence_privilege(s.oid, 'SELECT')";

PGresult *watermark_readable_sequences(PGconn *conn, const struct table_plan *plan,
                                       struct anon_error *err)
{
    return watermark_query(conn, plan, readable_sequences_sql, err);
}

/* Is the next id row i of readable_sequences_sql hands out at or below the mark? */
bool watermark_sequence_behind(PGconn *src, PGresult *seqs, int i, const char *mark, bool *behind,
                               struct anon_error *err)
{
    const char *params[2] = {PQgetvalue(seqs, i, 2), mark};
    struct abuf sql;
    PGresult *res;

    abuf_init(&sql, 1024);
    /* numeric: last_value + step can pass the largest bigint */
    abuf_puts(&sql, "SELECT CASE WHEN is_called THEN last_value::pg_catalog.numeric + $1 "
                    "ELSE last_value END <= $2::pg_catalog.numeric FROM ");
    pgconn_quote_ident(src, PQgetvalue(seqs, i, 0), &sql);
    abuf_putc(&sql, '.');
    pgconn_quote_ident(src, PQgetvalue(seqs, i, 1), &sql);
    res = pgconn_query_built(src, &sql, 2, params, PGRES_TUPLES_OK, err);
    if (!res)
        return false;
    *behind = PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    return true;
}
