/* piicheck.c: personal-data warnings for `check` (see piicheck.h). */
#include "etl/piicheck.h"

#include <stdlib.h>
#include <string.h>

#include "anonymise/pii.h"
#include "etl/pgconn.h"
#include "etl/tablecopy.h"

size_t piicheck_config(const struct config *cfg, FILE *out)
{
    struct anon_error err = {0};
    struct abuf lines;
    size_t n = 0;
    bool failed;

    abuf_init(&lines, 1 << 20);
    for (size_t i = 0; i < cfg->n_tables; i++) {
        const struct cfg_table *t = &cfg->tables[i];
        char qualified[300];
        snprintf(qualified, sizeof(qualified), "%s.%s", t->schema, t->name);
        for (size_t c = 0; c < t->n_columns; c++)
            n += pii_warn_column(NULL, qualified, t->columns[c].name, &t->columns[c].rule, NULL, 0,
                                 &lines, &failed, &err);
    }
    fputs(abuf_cstr(&lines), out);
    abuf_free(&lines);
    return n;
}

/* The keep columns of plan, sampled: the run's SELECT over them, a Bernoulli filter sized
 * from the row estimate (the scan stops at the limit, spread over the table). */
static PGresult *sample(PGconn *conn, const struct table_plan *keep, double est_rows,
                        struct anon_error *err)
{
    struct abuf sql;
    PGresult *res = NULL;
    double frac = 1.0;

    if (est_rows > 0 && 10.0 * PIICHECK_SAMPLE_ROWS < est_rows)
        frac = 10.0 * PIICHECK_SAMPLE_ROWS / est_rows;
    abuf_init(&sql, 1 << 20);
    abuf_puts(&sql, "SELECT * FROM (");
    tablecopy_select_sql(conn, keep, NULL, false, &sql);
    abuf_puts(&sql, ") AS pii_sample");
    if (frac < 1.0)
        abuf_printf(&sql, " WHERE pg_catalog.random() < %.9f", frac);
    abuf_printf(&sql, " LIMIT %d", PIICHECK_SAMPLE_ROWS);
    /* `check --source` reads in one transaction: a sample that fails (a where: the
     * server refuses) must not stop the next table's check. */
    if (PQtransactionStatus(conn) == PQTRANS_INTRANS)
        PQclear(PQexec(conn, "SAVEPOINT anonetl_sample"));
    if (abuf_failed(&sql))
        anon_error_set(err, "out of memory");
    else
        res = pgconn_query(conn, abuf_cstr(&sql), 0, NULL, PGRES_TUPLES_OK, err);
    if (PQtransactionStatus(conn) != PQTRANS_IDLE)
        PQclear(PQexec(conn, res ? "RELEASE SAVEPOINT anonetl_sample"
                                 : "ROLLBACK TO SAVEPOINT anonetl_sample"));
    abuf_free(&sql);
    return res;
}

static size_t scan_columns(struct pii_detector *d, const struct table_plan *keep, PGresult *res,
                           struct abuf *lines, struct anon_error *err)
{
    int rows = PQntuples(res);
    struct rule_value *v = calloc((size_t)rows + 1, sizeof(*v));
    size_t n = 0;
    bool failed = false;

    if (!v)
        return 0;
    for (size_t c = 0; c < keep->n_columns && !failed; c++) {
        for (int r = 0; r < rows; r++)
            v[r] = (struct rule_value){.data = PQgetvalue(res, r, (int)c),
                                       .len = (size_t)PQgetlength(res, r, (int)c),
                                       .is_null = PQgetisnull(res, r, (int)c) != 0};
        n += pii_warn_column(d, keep->qualified, keep->columns[c].source->name,
                             keep->columns[c].rule, v, (size_t)rows, lines, &failed, err);
    }
    free(v);
    if (failed)
        abuf_printf(lines, "warning: %s: content check stopped: %s\n", keep->qualified, err->msg);
    return n;
}

size_t piicheck_table(PGconn *conn, const struct table_plan *plan, FILE *out)
{
    struct anon_error err = {0};
    struct pii_detector *d = NULL;
    struct table_plan *keep = NULL;
    size_t *idx = calloc(plan->n_columns + 1, sizeof(*idx)), n_keep = 0, n = 0;
    struct abuf lines;
    PGresult *res = NULL;

    abuf_init(&lines, 1 << 20);
    for (size_t c = 0; idx && c < plan->n_columns; c++)
        if (strcmp(plan->columns[c].rule->ops->name, "keep") == 0)
            idx[n_keep++] = c;
    if (n_keep == 0)
        goto out;
    keep = plan_project(plan, idx, n_keep);
    d = pii_detector_new(&err);
    if (!keep || !d) {
        abuf_printf(&lines, "warning: %s: content check not done: %s\n", plan->qualified,
                    keep ? err.msg : "out of memory");
    } else if (!(res = sample(conn, keep, plan->catalog->est_rows, &err))) {
        abuf_printf(&lines, "warning: %s: content check not done: %s\n", plan->qualified, err.msg);
    } else {
        n = scan_columns(d, keep, res, &lines, &err);
    }
    if (!res) /* names at least */
        for (size_t i = 0; keep && i < keep->n_columns; i++) {
            bool failed;
            n += pii_warn_column(NULL, plan->qualified, keep->columns[i].source->name,
                                 keep->columns[i].rule, NULL, 0, &lines, &failed, &err);
        }
out:
    fputs(abuf_cstr(&lines), out);
    PQclear(res);
    pii_detector_free(d);
    plan_free(keep);
    free(idx);
    abuf_free(&lines);
    return n;
}
