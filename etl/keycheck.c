/* keycheck.c: duplicate published keys explained (see keycheck.h). */
#include "etl/keycheck.h"

#include "anonymise/pgarray.h"

#include <stdio.h>
#include <stdlib.h>

#include "anonymise/abuf.h"
#include "etl/pgconn.h"

/* "email" or "tenant, email": the configured (or primary) key's source columns. */
static void key_names(const struct table_plan *plan, char *out, size_t len)
{
    size_t used = 0;

    out[0] = '\0';
    for (size_t k = 0; k < plan->n_key && used < len; k++)
        used += (size_t)snprintf(out + used, len - used, "%s%s", k ? ", " : "",
                                 plan->columns[plan->key_columns[k]].source->name);
}

/* "k1, k2" quoted, with an optional alias prefix. */
static void key_list(PGconn *conn, const struct table_plan *plan, struct abuf *sql)
{
    for (size_t k = 0; k < plan->n_key; k++) {
        if (k > 0)
            abuf_puts(sql, ", ");
        pgconn_quote_ident(conn, plan->columns[plan->key_columns[k]].source->name, sql);
    }
}

static void not_unique(const struct table_plan *plan, uint64_t groups, struct anon_error *err)
{
    char names[512];

    key_names(plan, names, sizeof(names));
    anon_error_set(err,
                   "%s: the source key (%s) is not unique: %llu key value%s appear%s in more "
                   "than one row; nothing was published. `key:` must name columns that are "
                   "unique in the source (its primary key, or a unique index)",
                   plan->qualified, names, (unsigned long long)groups, groups == 1 ? "" : "s",
                   groups == 1 ? "s" : "");
}

static void collided(const struct table_plan *plan, uint64_t n, const char *where,
                     struct anon_error *err)
{
    char names[512];

    key_names(plan, names, sizeof(names));
    anon_error_set(err,
                   "%s: key collision: %llu pair%s of different source keys became the same "
                   "value of the published key (%s) after anonymisation%s; nothing was "
                   "published. Use a longer hash (length) or hash_int for this key",
                   plan->qualified, (unsigned long long)n, n == 1 ? "" : "s", names, where);
}

void keycheck_collisions(const struct table_plan *plan, uint64_t n, struct anon_error *err)
{
    collided(plan, n, ", with rows published before", err);
}

/* Two numbers from a one-row query. */
static bool two_counts(PGconn *conn, const char *sql, uint64_t *a, uint64_t *b,
                       struct anon_error *err)
{
    PGresult *res = pgconn_query(conn, sql, 0, NULL, PGRES_TUPLES_OK, err);

    if (!res)
        return false;
    *a = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
    *b = strtoull(PQgetvalue(res, 0, 1), NULL, 10);
    PQclear(res);
    return true;
}

/* Repeated keys of a target table: groups, and groups whose digests differ. With `live`,
 * among the rows it selects only (a soft-deleted row only takes its own key out of the
 * published table: it repeats no key), and their number second. */
static void repeated_sql(PGconn *conn, const struct table_plan *plan, const char *table,
                         const char *live, struct abuf *sql)
{
    abuf_puts(sql, "SELECT count(*) FILTER (WHERE g.n > 1), ");
    if (live)
        abuf_puts(sql, "COALESCE(sum(g.n), 0), ");
    abuf_puts(sql, "count(*) FILTER (WHERE g.n > 1 AND g.lo <> g.hi) FROM (SELECT count(*) AS n, ");
    abuf_puts(sql, plan->key_digest ? "min(" PLAN_KEY_DIGEST_COLUMN
                                      ") AS lo, max(" PLAN_KEY_DIGEST_COLUMN ") AS hi"
                                    : "0 AS lo, 0 AS hi");
    abuf_printf(sql, " FROM %s", table);
    if (live)
        abuf_printf(sql, " WHERE %s", live);
    abuf_puts(sql, " GROUP BY ");
    key_list(conn, plan, sql);
    abuf_puts(sql, ") g");
}

enum keycheck_result keycheck_piece(PGconn *target, const struct table_plan *plan,
                                    const char *staging, uint64_t *mergeable,
                                    struct anon_error *err)
{
    struct abuf sql, live;
    PGresult *res;
    uint64_t groups, collisions;

    abuf_init(&sql, 1 << 20);
    abuf_init(&live, 4096);
    if (plan->cfg->deletes == CFG_DELETES_SOFT) {
        pgconn_quote_ident(target, plan->cfg->deleted_column, &live);
        abuf_puts(&live, " IS NOT TRUE");
    } else {
        abuf_puts(&live, "true");
    }
    repeated_sql(target, plan, staging, abuf_cstr(&live), &sql);
    res = abuf_failed(&sql) || abuf_failed(&live)
              ? NULL
              : pgconn_query(target, abuf_cstr(&sql), 0, NULL, PGRES_TUPLES_OK, err);
    abuf_free(&sql);
    abuf_free(&live);
    if (!res)
        return KEYCHECK_ERROR;
    groups = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
    *mergeable = strtoull(PQgetvalue(res, 0, 1), NULL, 10);
    collisions = strtoull(PQgetvalue(res, 0, 2), NULL, 10);
    PQclear(res);
    if (collisions > 0)
        collided(plan, collisions, "", err);
    else if (groups > 0)
        not_unique(plan, groups, err);
    return groups > 0 ? KEYCHECK_DUPLICATE : KEYCHECK_OK;
}

/* Does the source key repeat (in the snapshot, among the rows the table publishes)? */
static bool source_repeats(PGconn *source, const struct table_plan *plan, uint64_t *groups,
                           struct anon_error *err)
{
    struct abuf sql;
    uint64_t unused;
    bool ok;

    abuf_init(&sql, 1 << 20);
    abuf_puts(&sql, "SELECT count(*), 0 FROM (SELECT 1 FROM ");
    pgconn_quote_ident(source, plan->cfg->schema, &sql);
    abuf_putc(&sql, '.');
    pgconn_quote_ident(source, plan->cfg->name, &sql);
    if (plan->cfg->where)
        abuf_printf(&sql, " WHERE (%s)", plan->cfg->where);
    abuf_puts(&sql, " GROUP BY ");
    key_list(source, plan, &sql);
    abuf_puts(&sql, " HAVING count(*) > 1) g");
    ok = !abuf_failed(&sql) && two_counts(source, abuf_cstr(&sql), groups, &unused, err);
    abuf_free(&sql);
    return ok;
}

enum keycheck_result keycheck_loaded(PGconn *source, PGconn *target, const struct table_plan *plan,
                                     const char *table, struct anon_error *err)
{
    bool rules = false;
    uint64_t groups = 0, collisions = 0;
    struct abuf sql;
    bool ok;

    for (size_t k = 0; k < plan->n_key; k++)
        rules = rules || !plan->columns[plan->key_columns[k]].rule->ops->passthrough;
    abuf_init(&sql, 1 << 20);
    repeated_sql(target, plan, table, NULL, &sql);
    ok = !abuf_failed(&sql) && two_counts(target, abuf_cstr(&sql), &groups, &collisions, err);
    abuf_free(&sql);
    if (!ok)
        return KEYCHECK_ERROR;
    if (rules && !plan->key_digest) {
        /* No digest: the source says whether its key repeats. */
        uint64_t repeats = 0;
        if (!source_repeats(source, plan, &repeats, err))
            return KEYCHECK_ERROR;
        collisions = repeats > 0 ? 0 : groups;
        if (repeats > 0)
            groups = repeats;
    }
    if (collisions > 0)
        collided(plan, collisions, "", err);
    else
        not_unique(plan, groups, err);
    return KEYCHECK_DUPLICATE;
}

/* Is there a unique index (or primary key) on exactly the key's source columns, in any
 * order? Then the source key cannot repeat. */
static bool unique_in_source(PGconn *source, const struct table_plan *plan, bool *unique,
                             struct anon_error *err)
{
    struct abuf table, names;
    const char *params[2];
    PGresult *res;

    abuf_init(&table, 4096);
    abuf_init(&names, 1 << 16);
    pgconn_quote_ident(source, plan->cfg->schema, &table);
    abuf_putc(&table, '.');
    pgconn_quote_ident(source, plan->cfg->name, &table);
    /* a text[] literal of the names, quoted for the array parser */
    abuf_putc(&names, '{');
    for (size_t k = 0; k < plan->n_key; k++) {
        const char *name = plan->columns[plan->key_columns[k]].source->name;
        if (k)
            abuf_putc(&names, ',');
        pgarray_encode_elem(name, strlen(name), false, ',', &names);
    }
    abuf_putc(&names, '}');
    params[0] = abuf_cstr(&table);
    params[1] = abuf_cstr(&names);
    res = abuf_failed(&table) || abuf_failed(&names)
              ? NULL
              : pgconn_query(
                    source,
                    "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_index i "
                    "WHERE i.indrelid = $1::pg_catalog.regclass AND i.indisunique "
                    "AND i.indisvalid AND i.indpred IS NULL AND i.indexprs IS NULL "
                    "AND i.indnkeyatts = pg_catalog.cardinality($2::pg_catalog.text[]) "
                    "AND (SELECT pg_catalog.array_agg(a.attname::pg_catalog.text ORDER BY "
                    "a.attname) FROM pg_catalog.pg_attribute a WHERE a.attrelid = i.indrelid "
                    "AND a.attnum = ANY (i.indkey::pg_catalog.int2[])) = "
                    "(SELECT pg_catalog.array_agg(n ORDER BY n) FROM "
                    "pg_catalog.unnest($2::pg_catalog.text[]) n))",
                    2, params, PGRES_TUPLES_OK, err);
    abuf_free(&table);
    abuf_free(&names);
    if (!res)
        return false;
    *unique = PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    return true;
}

enum keycheck_result keycheck_window(PGconn *source, const struct table_plan *plan,
                                     const char *window, bool *unique, struct anon_error *err)
{
    struct abuf sql, table, keys;
    uint64_t groups = 0, unused;
    bool ok;

    *unique = false;
    if (!unique_in_source(source, plan, unique, err))
        return KEYCHECK_ERROR;
    if (*unique)
        return KEYCHECK_OK;
    abuf_init(&sql, 1 << 20);
    abuf_init(&table, 4096);
    abuf_init(&keys, 1 << 16);
    pgconn_quote_ident(source, plan->cfg->schema, &table);
    abuf_putc(&table, '.');
    pgconn_quote_ident(source, plan->cfg->name, &table);
    key_list(source, plan, &keys);
    abuf_printf(&sql, "SELECT count(*), 0 FROM (SELECT 1 FROM %s WHERE (%s) IN (SELECT %s FROM %s",
                abuf_cstr(&table), abuf_cstr(&keys), abuf_cstr(&keys), abuf_cstr(&table));
    if (window && window[0])
        abuf_printf(&sql, " WHERE %s", window);
    abuf_puts(&sql, ")");
    if (plan->cfg->where)
        abuf_printf(&sql, " AND (%s)", plan->cfg->where);
    if (plan->cfg->deletes == CFG_DELETES_SOFT) { /* as a full refresh: rows not deleted */
        abuf_puts(&sql, " AND NOT COALESCE(");
        pgconn_quote_ident(source, plan->cfg->deleted_column, &sql);
        abuf_puts(&sql, ", false)");
    }
    abuf_printf(&sql, " GROUP BY %s HAVING count(*) > 1) g", abuf_cstr(&keys));
    ok = !abuf_failed(&sql) && !abuf_failed(&table) && !abuf_failed(&keys) &&
         two_counts(source, abuf_cstr(&sql), &groups, &unused, err);
    abuf_free(&sql);
    abuf_free(&table);
    abuf_free(&keys);
    if (!ok)
        return KEYCHECK_ERROR;
    if (groups == 0)
        return KEYCHECK_OK;
    not_unique(plan, groups, err);
    return KEYCHECK_DUPLICATE;
}

bool keycheck_key_indexed(PGconn *source, const struct table_plan *plan, bool *unique,
                          struct anon_error *err)
{
    return unique_in_source(source, plan, unique, err);
}
