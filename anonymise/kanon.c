/*
 * kanon.c: k-anonymity statements (see kanon.h for the semantics).
 *
 * Why a window function and ctid rather than `(q1, q2) IN (SELECT ... GROUP BY ...
 * HAVING count(*) < k)`: IN compares with `=`, which is never true for NULL, so a
 * small class holding a NULL quasi-identifier would slip through. PARTITION BY groups
 * NULLs together exactly like GROUP BY, and addressing the rows by ctid inside the same
 * statement avoids a NULL-safe join (IS NOT DISTINCT FROM cannot use a hash join).
 */
#include "anonymise/kanon.h"

#include <stdlib.h>
#include <string.h>

#define KANON_SQL_MAX (1 << 20)
#define KANON_MAX_COLUMNS 1600 /* PostgreSQL's own limit */

bool kanon_quote_ident(const char *name, struct abuf *out)
{
    abuf_putc(out, '"');
    for (const char *p = name; *p; p++) {
        if (*p == '"')
            abuf_putc(out, '"');
        abuf_putc(out, *p);
    }
    abuf_putc(out, '"');
    return !abuf_failed(out);
}

/* "a.q1, a.q2" */
static void qi_list(struct abuf *b, const char *alias, const char *const *qi, size_t n)
{
    for (size_t i = 0; i < n; i++)
        abuf_printf(b, "%s%s.%s", i ? ", " : "", alias, qi[i]);
}

/* "(a.q1 IS NULL AND a.q2 IS NULL)" */
static void all_null(struct abuf *b, const char *alias, const char *const *qi, size_t n)
{
    abuf_putc(b, '(');
    for (size_t i = 0; i < n; i++)
        abuf_printf(b, "%s%s.%s IS NULL", i ? " AND " : "", alias, qi[i]);
    abuf_putc(b, ')');
}

/* "kanon_t.ctid IN (ctids of the rows in classes smaller than k)" */
static void small_class_rows(struct abuf *b, const char *table, const char *const *qi, size_t n,
                             int k)
{
    abuf_puts(b, "kanon_t.ctid IN (SELECT w.ctid FROM (SELECT kanon_s.ctid, count(*) OVER "
                 "(PARTITION BY ");
    qi_list(b, "kanon_s", qi, n);
    abuf_printf(b, ") AS n FROM %s AS kanon_s) AS w WHERE w.n < %d)", table, k);
}

static char *take(struct abuf *b)
{
    char *s;

    if (abuf_failed(b))
        return NULL;
    s = strdup(abuf_cstr(b));
    abuf_reset(b);
    return s;
}

void kanon_sql_free(struct kanon_sql *s)
{
    if (!s)
        return;
    free(s->measure);
    free(s->suppress);
    free(s->drop);
    free(s->drop_null);
    memset(s, 0, sizeof(*s));
}

bool kanon_sql_build(const char *table_sql, const char *const *qi_sql, size_t n_qi, int k,
                     struct kanon_sql *out, struct anon_error *err)
{
    struct abuf b;

    memset(out, 0, sizeof(*out));
    if (!table_sql || !*table_sql || n_qi == 0 || !qi_sql || k < 2) {
        anon_error_set(err, "k-anonymity: needs a table, at least one quasi-identifier and "
                            "k >= 2");
        return false;
    }
    for (size_t i = 0; i < n_qi; i++) {
        if (!qi_sql[i] || !*qi_sql[i]) {
            anon_error_set(err, "k-anonymity: empty quasi-identifier name");
            return false;
        }
    }
    abuf_init(&b, KANON_SQL_MAX);

    abuf_puts(&b, "SELECT count(*) FILTER (WHERE w.n < ");
    abuf_printf(&b, "%d AND NOT w.z), count(*) FILTER (WHERE w.z) FROM (SELECT ", k);
    all_null(&b, "kanon_s", qi_sql, n_qi);
    abuf_puts(&b, " AS z, count(*) OVER (PARTITION BY ");
    qi_list(&b, "kanon_s", qi_sql, n_qi);
    abuf_printf(&b, ") AS n FROM %s AS kanon_s) AS w", table_sql);
    out->measure = take(&b);

    abuf_printf(&b, "UPDATE %s AS kanon_t SET ", table_sql);
    for (size_t i = 0; i < n_qi; i++)
        abuf_printf(&b, "%s%s = NULL", i ? ", " : "", qi_sql[i]);
    abuf_puts(&b, " WHERE ");
    small_class_rows(&b, table_sql, qi_sql, n_qi, k);
    abuf_puts(&b, " AND NOT ");
    all_null(&b, "kanon_t", qi_sql, n_qi);
    out->suppress = take(&b);

    abuf_printf(&b, "DELETE FROM %s AS kanon_t WHERE ", table_sql);
    small_class_rows(&b, table_sql, qi_sql, n_qi, k);
    out->drop = take(&b);

    abuf_printf(&b, "DELETE FROM %s AS kanon_t WHERE ", table_sql);
    all_null(&b, "kanon_t", qi_sql, n_qi);
    out->drop_null = take(&b);

    abuf_free(&b);
    if (!out->measure || !out->suppress || !out->drop || !out->drop_null) {
        kanon_sql_free(out);
        anon_error_set(err, "k-anonymity: statement too large or out of memory");
        return false;
    }
    return true;
}

enum kanon_step kanon_decide(enum cfg_kanon_action action, int k, uint64_t violating,
                             uint64_t null_rows)
{
    uint64_t kk = k > 0 ? (uint64_t)k : 0;
    bool small_null = null_rows > 0 && null_rows < kk;

    switch (action) {
    case CFG_KANON_FAIL:
        return violating > 0 || small_null ? KANON_FAIL : KANON_NOTHING;
    case CFG_KANON_DROP:
        return violating > 0 || small_null ? KANON_DROP : KANON_NOTHING;
    case CFG_KANON_SUPPRESS:
        if (violating == 0)
            return small_null ? KANON_DROP_NULL : KANON_NOTHING;
        /* Suppression would leave an all-NULL class of violating + null_rows rows. */
        return violating + null_rows < kk ? KANON_DROP : KANON_SUPPRESS;
    }
    return KANON_FAIL;
}

/* " ORDER BY" the published columns order[] (1-based output positions: a suppressed
 * quasi-identifier is ordered as published, NULL), then random() where those leave ties
 * whose order would be the window's (kanon.h). */
static void order_by(const bool *is_qi, const size_t *order, size_t n_order, struct abuf *out)
{
    bool tie_break = n_order == 0;

    abuf_puts(out, " ORDER BY ");
    for (size_t i = 0; i < n_order; i++) {
        abuf_printf(out, "%s%zu", i ? ", " : "", order[i] + 1);
        tie_break = tie_break || is_qi[order[i]];
    }
    if (tie_break)
        abuf_puts(out, n_order ? ", pg_catalog.random()" : "pg_catalog.random()");
}

bool kanon_select_build(const char *table_sql, const char *const *cols, const bool *is_qi,
                        size_t n_cols, const size_t *order, size_t n_order, int k,
                        enum kanon_step step, struct abuf *out, struct anon_error *err)
{
    const char *qi[KANON_MAX_COLUMNS];
    size_t n_qi = 0;
    bool order_ok = true;

    for (size_t i = 0; i < n_order; i++)
        order_ok = order_ok && order[i] < n_cols;
    if (!table_sql || !*table_sql || n_cols == 0 || n_cols > KANON_MAX_COLUMNS || k < 2 ||
        step == KANON_FAIL || !order_ok) {
        anon_error_set(err, "k-anonymity: needs a table, columns, k >= 2, a step to apply and "
                            "key columns among the columns");
        return false;
    }
    for (size_t i = 0; i < n_cols; i++)
        if (is_qi[i])
            qi[n_qi++] = cols[i];
    if (n_qi == 0) {
        anon_error_set(err, "k-anonymity: no quasi-identifier among the columns");
        return false;
    }
    abuf_puts(out, "SELECT ");
    if (step == KANON_NOTHING) {
        for (size_t i = 0; i < n_cols; i++)
            abuf_printf(out, "%s%s", i ? ", " : "", cols[i]);
        abuf_printf(out, " FROM %s", table_sql);
        order_by(is_qi, order, n_order, out);
        goto out;
    }
    for (size_t i = 0; i < n_cols; i++) {
        abuf_puts(out, i ? ", " : "");
        if (is_qi[i] && step == KANON_SUPPRESS)
            abuf_printf(out, "CASE WHEN w.kanon_n < %d AND NOT w.kanon_z THEN NULL ELSE w.%s END",
                        k, cols[i]);
        else
            abuf_printf(out, "w.%s", cols[i]);
    }
    abuf_puts(out, " FROM (SELECT kanon_s.*, ");
    all_null(out, "kanon_s", qi, n_qi);
    abuf_puts(out, " AS kanon_z, count(*) OVER (PARTITION BY ");
    qi_list(out, "kanon_s", qi, n_qi);
    abuf_printf(out, ") AS kanon_n FROM %s AS kanon_s) AS w", table_sql);
    if (step == KANON_DROP)
        abuf_printf(out, " WHERE w.kanon_n >= %d", k);
    else if (step == KANON_DROP_NULL)
        abuf_puts(out, " WHERE NOT w.kanon_z");
    order_by(is_qi, order, n_order, out);
out:
    if (abuf_failed(out)) {
        anon_error_set(err, "k-anonymity: statement too large or out of memory");
        return false;
    }
    return true;
}
