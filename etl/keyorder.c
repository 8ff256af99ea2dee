/* keyorder.c: reading a kept key's table in the key's order (see keyorder.h). */
#include "etl/keyorder.h"

#include <jansson.h>
#include <string.h>

#include "etl/pgconn.h"
#include "etl/target.h"

bool keyorder_wanted(const struct table_plan *plan)
{
    return plan->n_key > 0 && !target_key_rewritten(plan) && !plan->cfg->k_anonymity;
}

/* The planner's total cost of sql, from EXPLAIN (FORMAT JSON); -1 on a source error. */
static double plan_cost(PGconn *source, const char *sql, struct anon_error *err)
{
    struct abuf explain;
    PGresult *res = NULL;
    json_t *doc = NULL, *cost;
    double total = -1;

    abuf_init(&explain, 1 << 21);
    abuf_printf(&explain, "EXPLAIN (FORMAT JSON) %s", sql);
    if (!abuf_failed(&explain))
        res = pgconn_query(source, abuf_cstr(&explain), 0, NULL, PGRES_TUPLES_OK, err);
    abuf_free(&explain);
    if (!res)
        return -1;
    if (PQntuples(res) == 1)
        doc = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
    cost = json_object_get(json_object_get(json_array_get(doc, 0), "Plan"), "Total Cost");
    if (json_is_number(cost))
        total = json_number_value(cost);
    else
        anon_error_set(err, "source: EXPLAIN gave no plan cost");
    json_decref(doc);
    PQclear(res);
    return total;
}

bool keyorder_select(PGconn *source, const struct table_plan *plan, const char *select_sql,
                     struct abuf *out, bool *ordered, struct anon_error *err)
{
    struct abuf sql;
    double plain, by_key;

    *ordered = false;
    abuf_init(&sql, 1 << 20);
    abuf_printf(&sql, "%s ORDER BY ", select_sql);
    for (size_t k = 0; k < plan->n_key; k++) {
        if (k > 0)
            abuf_puts(&sql, ", ");
        pgconn_quote_ident(source, plan->columns[plan->key_columns[k]].source->name, &sql);
    }
    if (abuf_failed(&sql)) {
        abuf_free(&sql);
        anon_error_set(err, "out of memory");
        return false;
    }
    plain = plan_cost(source, select_sql, err);
    /* Under a savepoint: a key of a type without an ordering (a kept `point` key that can
     * be NULL, so no primary key needs one) refuses ORDER BY; it is then read as before,
     * in the snapshot's transaction, which the refusal must not end. */
    if (plain >= 0 && pgconn_exec(source, "SAVEPOINT anonetl_keyorder", PGRES_COMMAND_OK, err)) {
        struct anon_error refused;
        by_key = plan_cost(source, abuf_cstr(&sql), &refused);
        *ordered = by_key >= 0 && by_key <= plain * KEYORDER_COST_RATIO + KEYORDER_COST_SLACK;
        if (!pgconn_exec(source,
                         by_key >= 0 ? "RELEASE SAVEPOINT anonetl_keyorder"
                                     : "ROLLBACK TO SAVEPOINT anonetl_keyorder",
                         PGRES_COMMAND_OK, err))
            plain = -1;
    } else {
        plain = -1;
    }
    abuf_puts(out, *ordered ? abuf_cstr(&sql) : select_sql);
    abuf_free(&sql);
    return plain >= 0;
}
