/* piicheck.c: personal-data warnings for `check` (see piicheck.h). */
#include "etl/piicheck.h"

#include <stdlib.h>
#include <string.h>

#include "anonymise/pii.h"
#include "anonymise/rule_json.h"
#include "etl/pgconn.h"
#include "etl/tablecopy.h"

size_t piicheck_config(const struct config *cfg, struct abuf *lines)
{
    struct anon_error err = {0};
    size_t n = 0;
    bool failed;

    for (size_t i = 0; i < cfg->n_tables; i++) {
        const struct cfg_table *t = &cfg->tables[i];
        char qualified[300];
        snprintf(qualified, sizeof(qualified), "%s.%s", t->schema, t->name);
        for (size_t c = 0; c < t->n_columns; c++)
            n += pii_warn_column(NULL, qualified, t->columns[c].name, &t->columns[c].rule, NULL, 0,
                                 lines, &failed, &err);
    }
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

#define PIICHECK_SHOWN_PATHS 25

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The lines of seen ("a\nb\n"), sorted, as ", "-separated text (at most
 * PIICHECK_SHOWN_PATHS, then "and N more"). */
static void list_sorted(struct abuf *seen, struct abuf *lines)
{
    size_t n = 0, k = 0;
    char **v;

    for (size_t i = 0; i < seen->len; i++)
        n += seen->data[i] == '\n';
    v = calloc(n + 1, sizeof(*v));
    if (!v) {
        abuf_puts(lines, "(out of memory)");
        return;
    }
    for (char *p = seen->data, *nl; k < n; p = nl + 1) {
        nl = memchr(p, '\n', (size_t)(seen->data + seen->len - p));
        *nl = '\0';
        v[k++] = p;
    }
    qsort(v, n, sizeof(*v), cmp_str);
    for (k = 0; k < n && k < PIICHECK_SHOWN_PATHS; k++)
        abuf_printf(lines, "%s%s", k ? ", " : "", v[k]);
    if (n > k)
        abuf_printf(lines, " and %zu more", n - k);
    free(v);
}

/* One json column over the sampled documents: what no path names, and what a keep
 * publishes whole (paths and plain key names only, never a value). */
static void survey_column(const struct plan_column *col, const char *table, PGresult *res, int c,
                          struct abuf *lines)
{
    struct anon_error err = {0};
    struct abuf seen, whole;
    size_t docs = 0;
    bool ok = true;

    abuf_init(&seen, 1 << 20);
    abuf_init(&whole, 1 << 20);
    for (int r = 0; ok && r < PQntuples(res); r++) {
        if (PQgetisnull(res, r, c))
            continue;
        docs++;
        ok = rule_json_survey(col->rule, PQgetvalue(res, r, c), (size_t)PQgetlength(res, r, c),
                              &seen, &whole, &err);
    }
    if (!ok || abuf_failed(&seen) || abuf_failed(&whole)) {
        abuf_printf(lines, "warning: %s.%s: json survey stopped: %s\n", table, col->source->name,
                    err.msg[0] ? err.msg : "out of memory");
        goto out;
    }
    if (seen.len > 0) {
        abuf_printf(lines, "%s: %s.%s: in %zu sampled documents, no json path names ",
                    rule_json_keeps_others(col->rule) ? "warning" : "note", table,
                    col->source->name, docs);
        list_sorted(&seen, lines);
        abuf_puts(lines, rule_json_keeps_others(col->rule)
                             ? ": published as they are (others: keep)\n"
                             : ": dropped (others: drop)\n");
    }
    if (whole.len > 0) {
        abuf_printf(lines, "warning: %s.%s: json keep publishes whole objects or arrays at ", table,
                    col->source->name);
        list_sorted(&whole, lines);
        abuf_puts(lines, ": every key inside, also keys added later; name the keys instead\n");
    }
out:
    abuf_free(&seen);
    abuf_free(&whole);
}

/* The json columns of plan: the names-only warnings, then the survey of a sample. */
static size_t survey_json(PGconn *conn, const struct table_plan *plan, struct abuf *lines)
{
    size_t *idx = calloc(plan->n_columns + 1, sizeof(*idx)), n = 0, warned = 0;
    struct table_plan *js = NULL;
    struct anon_error err = {0};
    PGresult *res = NULL;
    bool failed;

    for (size_t c = 0; idx && c < plan->n_columns; c++) {
        if (rule_json_n_paths(plan->columns[c].rule) == 0)
            continue;
        warned += pii_warn_column(NULL, plan->qualified, plan->columns[c].source->name,
                                  plan->columns[c].rule, NULL, 0, lines, &failed, &err);
        if (!plan->columns[c].per_element) /* arrays of json: not surveyed */
            idx[n++] = c;
    }
    if (n > 0 && (js = plan_project(plan, idx, n)) != NULL &&
        (res = sample(conn, js, plan->catalog->est_rows, &err)) != NULL)
        for (size_t i = 0; i < n; i++)
            survey_column(&js->columns[i], plan->qualified, res, (int)i, lines);
    else if (n > 0)
        abuf_printf(lines, "warning: %s: json survey not done: %s\n", plan->qualified,
                    err.msg[0] ? err.msg : "out of memory");
    PQclear(res);
    plan_free(js);
    free(idx);
    return warned;
}

size_t piicheck_table(PGconn *conn, const struct table_plan *plan, struct abuf *lines)
{
    struct anon_error err = {0};
    struct pii_detector *d = NULL;
    struct table_plan *keep = NULL;
    size_t *idx = calloc(plan->n_columns + 1, sizeof(*idx)), n_keep = 0, n = 0;
    PGresult *res = NULL;

    for (size_t c = 0; idx && c < plan->n_columns; c++)
        if (strcmp(plan->columns[c].rule->ops->name, "keep") == 0 &&
            !rule_keep_reviewed(plan->columns[c].rule))
            idx[n_keep++] = c;
    if (n_keep == 0)
        goto out;
    keep = plan_project(plan, idx, n_keep);
    d = pii_detector_new(&err);
    if (!keep || !d) {
        abuf_printf(lines, "warning: %s: content check not done: %s\n", plan->qualified,
                    keep ? err.msg : "out of memory");
    } else if (!(res = sample(conn, keep, plan->catalog->est_rows, &err))) {
        abuf_printf(lines, "warning: %s: content check not done: %s\n", plan->qualified, err.msg);
    } else {
        n = scan_columns(d, keep, res, lines, &err);
    }
    if (!res) /* names at least */
        for (size_t i = 0; keep && i < keep->n_columns; i++) {
            bool failed;
            n += pii_warn_column(NULL, plan->qualified, keep->columns[i].source->name,
                                 keep->columns[i].rule, NULL, 0, lines, &failed, &err);
        }
out:
    n += survey_json(conn, plan, lines);
    PQclear(res);
    pii_detector_free(d);
    plan_free(keep);
    free(idx);
    return n;
}
