/* kanon_apply.c: a k-anonymous version written from a base table (see kanon_apply.h). */
#include "etl/kanon_apply.h"

#include <stdlib.h>
#include <string.h>

#include "anonymise/abuf.h"
#include "anonymise/kanon.h"
#include "etl/pgconn.h"
#include "etl/pgerror.h"
#include "etl/target.h"

/* Quote every quasi-identifier (PQescapeIdentifier: one name, never split on dots). */
static bool quote_names(PGconn *conn, const struct cfg_kanon *k, char **quoted,
                        struct anon_error *err)
{
    for (size_t i = 0; i < k->n_quasi_identifiers; i++) {
        const char *name = k->quasi_identifiers[i];
        quoted[i] = PQescapeIdentifier(conn, name, strlen(name));
        if (!quoted[i]) {
            anon_error_set(err, "k-anonymity: cannot quote a quasi-identifier");
            return false;
        }
    }
    return true;
}

/* The two numbers of kanon.h's `measure` on the base table. */
static bool measure(PGconn *conn, const char *base_sql, const struct cfg_kanon *k,
                    uint64_t *violating, uint64_t *null_rows, struct anon_error *err)
{
    size_t n = k->n_quasi_identifiers;
    char **quoted = calloc(n + 1, sizeof(*quoted));
    struct kanon_sql s = {0};
    PGresult *res = NULL;

    if (!quoted) {
        anon_error_set(err, "out of memory");
        return false;
    }
    if (quote_names(conn, k, quoted, err) &&
        kanon_sql_build(base_sql, (const char *const *)quoted, n, k->k, &s, err))
        res = pgconn_query(conn, s.measure, 0, NULL, PGRES_TUPLES_OK, err);
    if (res) {
        *violating = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
        *null_rows = strtoull(PQgetvalue(res, 0, 1), NULL, 10);
        PQclear(res);
    }
    for (size_t i = 0; i < n; i++)
        PQfreemem(quoted[i]);
    free(quoted);
    kanon_sql_free(&s);
    return res != NULL;
}

/* The key columns the version is ordered by: the published key when it becomes the
 * primary key (target_add_primary_key: then its types sort), else none (random order:
 * a key that can be NULL may be a type without an order, a suppressed point). */
static size_t order_key(const struct table_plan *plan)
{
    for (size_t k = 0; k < plan->n_key; k++) {
        const struct plan_column *c = &plan->columns[plan->key_columns[k]];
        if (c->output.may_be_null || !c->source->not_null)
            return 0;
    }
    return plan->n_key;
}

/* "COPY (SELECT <the plan's columns, the step applied> FROM base) TO STDOUT (binary)",
 * in the table's COPY format */
static bool select_sql(PGconn *conn, const struct table_plan *plan, const char *base_sql,
                       enum kanon_step step, struct abuf *sql, struct anon_error *err)
{
    const struct cfg_kanon *k = plan->cfg->k_anonymity;
    char **cols = calloc(plan->n_columns + 1, sizeof(*cols));
    bool *is_qi = calloc(plan->n_columns + 1, sizeof(*is_qi));
    bool ok = cols && is_qi;

    for (size_t i = 0; ok && i < plan->n_columns; i++) {
        const char *name = plan->columns[i].source->name;
        cols[i] = PQescapeIdentifier(conn, name, strlen(name));
        ok = cols[i] != NULL;
        for (size_t q = 0; q < k->n_quasi_identifiers; q++)
            is_qi[i] = is_qi[i] || strcmp(k->quasi_identifiers[q], name) == 0;
    }
    if (!ok)
        anon_error_set(err, "out of memory");
    abuf_puts(sql, "COPY (");
    /* in the published key's order, never the base's or the window's (kanon.h) */
    ok = ok && kanon_select_build(base_sql, (const char *const *)cols, is_qi, plan->n_columns,
                                  plan->key_columns, order_key(plan), k->k, step, sql, err);
    /* text when a column has no binary form (aclitem): one server, exact either way */
    abuf_puts(sql, plan->binary ? ") TO STDOUT (FORMAT binary)" : ") TO STDOUT");
    for (size_t i = 0; cols && i < plan->n_columns; i++)
        PQfreemem(cols[i]);
    free(cols);
    free(is_qi);
    return ok && !abuf_failed(sql);
}

/* "COPY version (the plan's columns) FROM STDIN (FORMAT binary, FREEZE)" */
static bool copy_in_sql(PGconn *writer, const struct table_plan *plan, const char *version_name,
                        struct abuf *sql)
{
    abuf_puts(sql, "COPY ");
    target_version_sql(writer, version_name, sql);
    abuf_puts(sql, " (");
    for (size_t i = 0; i < plan->n_columns; i++) {
        if (i > 0)
            abuf_puts(sql, ", ");
        pgconn_quote_ident(writer, plan->columns[i].source->name, sql);
    }
    abuf_puts(sql, plan->binary ? ") FROM STDIN (FORMAT binary, FREEZE)" : ") FROM STDIN (FREEZE)");
    return !abuf_failed(sql);
}

/* Rows from conn's COPY OUT into writer's COPY IN, as they come (one format). */
static bool pipe_rows(PGconn *conn, PGconn *writer, uint64_t *rows, struct anon_error *err)
{
    char *buf, msg[512];
    int n;
    bool ok = true;
    PGresult *res;

    while ((n = PQgetCopyData(conn, &buf, 0)) > 0) {
        ok = ok && PQputCopyData(writer, buf, n) == 1;
        PQfreemem(buf);
    }
    while ((res = PQgetResult(conn)) != NULL) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK && ok) {
            pgerror_describe(res, conn, msg, sizeof(msg));
            anon_error_set(err, "target: reading the base table failed: %s", msg);
            ok = false;
        }
        PQclear(res);
    }
    if (PQputCopyEnd(writer, ok ? NULL : "anonetl: read failed") != 1)
        ok = false;
    while ((res = PQgetResult(writer)) != NULL) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            if (ok) {
                pgerror_describe(res, writer, msg, sizeof(msg));
                anon_error_set(err, "target: writing the k-anonymous version failed: %s", msg);
            }
            ok = false;
        } else {
            *rows = strtoull(PQcmdTuples(res), NULL, 10);
        }
        PQclear(res);
    }
    return ok;
}

/* The version (the plan's columns, no key digest: it is never merged), written and
 * committed through writer. */
static bool write_version(PGconn *conn, PGconn *writer, const struct table_plan *plan,
                          const char *version_name, const char *select, int statistics_target,
                          struct anon_error *err)
{
    struct table_plan published = *plan;
    struct abuf sql;
    uint64_t rows = 0;
    bool ok;

    published.key_digest = false;
    abuf_init(&sql, 1 << 20);
    ok = copy_in_sql(writer, &published, version_name, &sql) &&
         pgconn_exec(writer, "BEGIN", PGRES_COMMAND_OK, err) &&
         target_create_version(writer, &published, version_name, err) &&
         pgconn_exec(writer, abuf_cstr(&sql), PGRES_COPY_IN, err);
    abuf_free(&sql);
    if (ok && !pgconn_exec(conn, select, PGRES_COPY_OUT, err)) {
        PQputCopyEnd(writer, "anonetl: read failed");
        PQclear(PQgetResult(writer));
        ok = false;
    }
    ok = ok && pipe_rows(conn, writer, &rows, err) &&
         target_add_primary_key(writer, &published, version_name, err) &&
         target_analyze(writer, version_name, statistics_target, err) &&
         pgconn_exec(writer, "COMMIT", PGRES_COMMAND_OK, err);
    if (!ok && PQtransactionStatus(writer) != PQTRANS_IDLE)
        PQclear(PQexec(writer, "ROLLBACK"));
    return ok;
}

bool kanon_publish(PGconn *conn, PGconn *writer, const struct table_plan *plan,
                   const char *base_sql, const char *version_name, int statistics_target,
                   uint64_t *suppressed, uint64_t *dropped, bool *violated, struct anon_error *err)
{
    const struct cfg_kanon *k = plan->cfg->k_anonymity;
    uint64_t violating = 0, null_rows = 0;
    enum kanon_step step;
    struct abuf select;
    bool ok;

    *suppressed = *dropped = 0;
    *violated = false;
    if (!measure(conn, base_sql, k, &violating, &null_rows, err))
        return false;
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
        return false;
    }
    abuf_init(&select, 1 << 20);
    ok =
        select_sql(conn, plan, base_sql, step, &select, err) &&
        write_version(conn, writer, plan, version_name, abuf_cstr(&select), statistics_target, err);
    abuf_free(&select);
    if (!ok)
        return false;
    if (step == KANON_SUPPRESS)
        *suppressed = violating;
    else if (step == KANON_DROP)
        *dropped = violating + (null_rows < (uint64_t)k->k ? null_rows : 0);
    else if (step == KANON_DROP_NULL)
        *dropped = null_rows;
    return true;
}
