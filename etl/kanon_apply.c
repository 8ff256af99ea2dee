/* kanon_apply.c: run the k-anonymity statements of anonymise/kanon.h (see kanon_apply.h). */
#include "etl/kanon_apply.h"

#include <stdlib.h>
#include <string.h>

#include "anonymise/abuf.h"
#include "anonymise/kanon.h"
#include "etl/pgconn.h"

/* Quote every quasi-identifier (PQescapeIdentifier: one name, never split on dots). */
static bool quote_names(PGconn *conn, const struct cfg_kanon *k, char **quoted,
                        struct anon_error *err)
{
    for (size_t i = 0; i < k->n_quasi_identifiers; i++) {
        const char *name = k->quasi_identifiers[i];
        quoted[i] = PQescapeIdentifier(conn, name, strlen(name));
        if (!quoted[i]) {
            anon_error_set(err, "k-anonymity: cannot quote a quasi-identifier: %s",
                           PQerrorMessage(conn));
            return false;
        }
    }
    return true;
}

static bool measure(PGconn *conn, const char *sql, uint64_t *violating, uint64_t *null_rows,
                    struct anon_error *err)
{
    PGresult *res = pgconn_query(conn, sql, 0, NULL, PGRES_TUPLES_OK, err);

    if (!res)
        return false;
    *violating = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
    *null_rows = strtoull(PQgetvalue(res, 0, 1), NULL, 10);
    PQclear(res);
    return true;
}

static bool exec_count(PGconn *conn, const char *sql, uint64_t *n, struct anon_error *err)
{
    PGresult *res = pgconn_query(conn, sql, 0, NULL, PGRES_COMMAND_OK, err);

    if (!res)
        return false;
    *n = strtoull(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    return true;
}

/*
 * Suppression writes NULL: a quasi-identifier column the rules kept NOT NULL must lose
 * it. Only the columns that have it are altered, so a table that needs nothing takes no
 * ACCESS EXCLUSIVE lock (a merged table is the one the data team is reading).
 */
static bool allow_nulls(PGconn *conn, const char *table, const struct cfg_kanon *k,
                        char *const *quoted, struct anon_error *err)
{
    const char *params[2] = {table, NULL};
    struct abuf sql, names;
    PGresult *res;
    bool ok = true;

    abuf_init(&names, 1 << 20);
    abuf_init(&sql, 1 << 20);
    /* a text[] literal of the names, quoted for the array parser */
    abuf_putc(&names, '{');
    for (size_t i = 0; i < k->n_quasi_identifiers; i++) {
        abuf_puts(&names, i ? ",\"" : "\"");
        for (const char *p = k->quasi_identifiers[i]; *p; p++) {
            if (*p == '"' || *p == '\\')
                abuf_putc(&names, '\\');
            abuf_putc(&names, *p);
        }
        abuf_putc(&names, '"');
    }
    abuf_putc(&names, '}');
    params[1] = abuf_cstr(&names);
    res = abuf_failed(&names)
              ? NULL
              : pgconn_query(conn,
                             "SELECT a.attname FROM pg_catalog.pg_attribute a "
                             "WHERE a.attrelid = $1::pg_catalog.regclass AND a.attnum > 0 "
                             "AND NOT a.attisdropped AND a.attnotnull "
                             "AND a.attname = ANY ($2::pg_catalog.text[]) ORDER BY a.attnum",
                             2, params, PGRES_TUPLES_OK, err);
    if (!res) {
        if (abuf_failed(&names))
            anon_error_set(err, "k-anonymity: out of memory");
        abuf_free(&names);
        abuf_free(&sql);
        return false;
    }
    if (PQntuples(res) > 0) {
        abuf_printf(&sql, "ALTER TABLE %s", table);
        for (int r = 0; r < PQntuples(res); r++) {
            const char *name = PQgetvalue(res, r, 0);
            for (size_t i = 0; i < k->n_quasi_identifiers; i++)
                if (strcmp(k->quasi_identifiers[i], name) == 0)
                    abuf_printf(&sql, "%s ALTER COLUMN %s DROP NOT NULL", r ? "," : "", quoted[i]);
        }
        ok = !abuf_failed(&sql) && pgconn_exec(conn, abuf_cstr(&sql), PGRES_COMMAND_OK, err);
    }
    PQclear(res);
    abuf_free(&names);
    abuf_free(&sql);
    return ok;
}

static bool run_step(PGconn *conn, const char *table, const struct cfg_kanon *k,
                     char *const *quoted, const struct kanon_sql *s, enum kanon_step step,
                     uint64_t *suppressed, uint64_t *dropped, struct anon_error *err)
{
    switch (step) {
    case KANON_NOTHING:
    case KANON_FAIL:
        return true;
    case KANON_SUPPRESS:
        return allow_nulls(conn, table, k, quoted, err) &&
               exec_count(conn, s->suppress, suppressed, err);
    case KANON_DROP:
        return exec_count(conn, s->drop, dropped, err);
    case KANON_DROP_NULL:
        return exec_count(conn, s->drop_null, dropped, err);
    }
    return true;
}

bool kanon_apply(PGconn *conn, const char *qualified_table_sql, const struct cfg_kanon *k,
                 uint64_t *suppressed, uint64_t *dropped, bool *violated, struct anon_error *err)
{
    size_t n = k->n_quasi_identifiers;
    char **quoted = calloc(n + 1, sizeof(*quoted));
    struct kanon_sql s = {0};
    uint64_t violating = 0, null_rows = 0;
    enum kanon_step step = KANON_NOTHING;
    bool ok = false;

    *suppressed = *dropped = 0;
    *violated = false;
    if (!quoted) {
        anon_error_set(err, "out of memory");
        return false;
    }
    if (!quote_names(conn, k, quoted, err) ||
        !kanon_sql_build(qualified_table_sql, (const char *const *)quoted, n, k->k, &s, err))
        goto out;
    if (!measure(conn, s.measure, &violating, &null_rows, err))
        goto out;
    step = kanon_decide(k->on_violation, k->k, violating, null_rows);
    if (step == KANON_FAIL) {
        *violated = true;
        anon_error_set(
            err,
            "k-anonymity (k=%d) violated: %llu rows are in classes with fewer "
            "than %d rows%s",
            k->k, (unsigned long long)(violating + (null_rows < (uint64_t)k->k ? null_rows : 0)),
            k->k,
            null_rows && null_rows < (uint64_t)k->k
                ? " (counting rows whose quasi-identifiers are all NULL)"
                : "");
    }
    ok = run_step(conn, qualified_table_sql, k, quoted, &s, step, suppressed, dropped, err);
out:
    for (size_t i = 0; i < n; i++)
        PQfreemem(quoted[i]);
    free(quoted);
    kanon_sql_free(&s);
    return ok;
}
