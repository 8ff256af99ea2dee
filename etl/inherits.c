/* inherits.c: the inheritance children a configured table is read with (see inherits.h). */
#include "etl/inherits.h"

#include <stdlib.h>
#include <string.h>

#include "anonymise/utf8.h"
#include "etl/pgconn.h"

/* The inheritance children (INHERITS, at any depth; not partitions) of a table, and the
 * table's name as regclass reads it (quoted where needed). */
static const char CHILDREN_SQL[] =
    "WITH RECURSIVE kids(oid) AS ("
    "  SELECT i.inhrelid FROM pg_catalog.pg_inherits i "
    "  JOIN pg_catalog.pg_class p ON p.oid = i.inhparent "
    "  JOIN pg_catalog.pg_namespace pn ON pn.oid = p.relnamespace "
    "  WHERE pn.nspname = $1 AND p.relname = $2 "
    "  UNION SELECT i.inhrelid FROM pg_catalog.pg_inherits i JOIN kids k ON i.inhparent = k.oid) "
    "SELECT n.nspname, c.relname, pg_catalog.format('%I.%I', $1::text, $2::text) FROM kids "
    "JOIN pg_catalog.pg_class c ON c.oid = kids.oid "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "WHERE NOT c.relispartition ORDER BY 1, 2";

static bool configured(const struct table_plan *const *plans, size_t n, const char *schema,
                       const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (plans[i] && strcmp(plans[i]->cfg->schema, schema) == 0 &&
            strcmp(plans[i]->cfg->name, name) == 0)
            return true;
    return false;
}

/* One line: the child, whether a rule names it, and the where: that leaves it out. */
static void child_line(const char *table, const char *schema, const char *name, bool own,
                       const char *parent, struct abuf *out)
{
    abuf_printf(out,
                "%s: its inheritance child %s.%s is read with it (a parent's rows include its "
                "children's): %s; to leave them out: where: \"tableoid = '",
                table, schema ? schema : "?", name ? name : "?",
                own ? "its rows are published here under these rules too, besides its own"
                    : "its rows are published under these rules, though no rule names that "
                      "table");
    for (const char *c = parent ? parent : "?"; *c; c++) { /* in YAML double quotes */
        if (*c == '"' || *c == '\\')
            abuf_putc(out, '\\');
        abuf_putc(out, *c);
    }
    abuf_puts(out, "'::regclass\"\n");
}

size_t inherits_warn(PGconn *conn, const struct table_plan *const *plans, size_t n, size_t t,
                     struct abuf *out)
{
    const struct table_plan *plan = plans[t];
    const char *params[2] = {plan->cfg->schema, plan->cfg->name};
    struct anon_error err;
    PGresult *res;
    size_t lines = 0;
    bool in_tx = PQtransactionStatus(conn) == PQTRANS_INTRANS;

    if (plan->cfg->where && strcasestr(plan->cfg->where, "tableoid"))
        return 0;
    /* under a savepoint: a failure must not end the run's snapshot transaction */
    if (in_tx)
        PQclear(PQexec(conn, "SAVEPOINT anonetl_inherits"));
    res = pgconn_query(conn, CHILDREN_SQL, 2, params, PGRES_TUPLES_OK, &err);
    if (in_tx)
        PQclear(PQexec(conn, res ? "RELEASE SAVEPOINT anonetl_inherits"
                                 : "ROLLBACK TO SAVEPOINT anonetl_inherits"));
    if (!res)
        return 0;
    for (int r = 0; r < PQntuples(res); r++, lines++) {
        char *schema = utf8_printable(PQgetvalue(res, r, 0));
        char *name = utf8_printable(PQgetvalue(res, r, 1));
        char *parent = utf8_printable(PQgetvalue(res, r, 2));
        child_line(plan->qualified, schema, name,
                   configured(plans, n, PQgetvalue(res, r, 0), PQgetvalue(res, r, 1)), parent, out);
        free(schema);
        free(name);
        free(parent);
    }
    PQclear(res);
    return lines;
}
