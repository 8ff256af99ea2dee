/* wherecheck.c: the functions and names a where: uses (see wherecheck.h). */
#include "etl/wherecheck.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anonymise/sqlexpr.h"
#include "etl/pgconn.h"

/* Words of expressions (and of the types of typed constants) that read nothing: a
 * where: made of these, the table's columns, constants and immutable functions depends
 * on the row alone. Lower case, sorted. */
static const char *const expression_words[] = {
    "all",        "and",     "any",       "array",       "as",        "asymmetric", "at",
    "between",    "bigint",  "bit",       "bool",        "boolean",   "both",       "bytea",
    "case",       "cast",    "char",      "character",   "cidr",      "coalesce",   "collate",
    "date",       "day",     "dec",       "decimal",     "distinct",  "double",     "else",
    "end",        "escape",  "false",     "float",       "for",       "from",       "greatest",
    "hour",       "ilike",   "in",        "inet",        "int",       "integer",    "interval",
    "is",         "isnull",  "json",      "jsonb",       "leading",   "least",      "like",
    "minute",     "month",   "nfc",       "nfd",         "nfkc",      "nfkd",       "normalize",
    "normalized", "not",     "notnull",   "null",        "nullif",    "numeric",    "or",
    "overlaps",   "overlay", "placing",   "position",    "precision", "real",       "row",
    "second",     "similar", "smallint",  "some",        "substring", "symmetric",  "text",
    "then",       "time",    "timestamp", "timestamptz", "to",        "trailing",   "trim",
    "true",       "unknown", "uuid",      "varchar",     "varying",   "when",       "with",
    "without",    "year",    "zone",
};

static int cmp_word(const void *a, const void *b)
{
    return strcmp(a, *(const char *const *)b);
}

static bool expression_word(const char *w)
{
    return bsearch(w, expression_words, sizeof(expression_words) / sizeof(expression_words[0]),
                   sizeof(expression_words[0]), cmp_word) != NULL;
}

/* The word as the server reads it: unquoted folded to lower case (ASCII, as the server
 * does), quoted without its quotes and with "" as ". */
static void word_text(const char *where, const struct sqlexpr_word *w, char *out, size_t size)
{
    const char *s = where + w->offset;
    size_t n = w->len, o = 0;

    if (w->quoted && n >= 2) {
        s++;
        n -= 2;
    }
    for (size_t i = 0; i < n && o + 1 < size; i++) {
        char c = s[i];
        if (w->quoted && c == '"' && i + 1 < n && s[i + 1] == '"')
            i++;
        out[o++] = !w->quoted && c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
    out[o] = '\0';
}

struct fn_info {
    long found;         /* functions of that name in that schema */
    bool any_volatile;  /* one of them is volatile */
    bool all_immutable; /* every one is immutable */
};

/* Every function named `name` in `schema` (overloads included: the words do not say
 * which one the server picks, so each must pass). */
static bool function_info(PGconn *conn, const char *schema, const char *name, struct fn_info *fi,
                          struct anon_error *err)
{
    const char *params[2] = {name, schema};
    PGresult *res =
        pgconn_query(conn,
                     "SELECT pg_catalog.count(*), pg_catalog.bool_or(p.provolatile = 'v'), "
                     "pg_catalog.bool_and(p.provolatile = 'i') FROM pg_catalog.pg_proc p "
                     "JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace "
                     "WHERE p.proname = $1 AND n.nspname = $2",
                     2, params, PGRES_TUPLES_OK, err);

    if (!res)
        return false;
    fi->found = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    fi->any_volatile = PQgetvalue(res, 0, 1)[0] == 't';
    fi->all_immutable = PQgetisnull(res, 0, 2) || PQgetvalue(res, 0, 2)[0] == 't';
    PQclear(res);
    return true;
}

struct where_scan {
    PGconn *conn;
    const struct cfg_table *t;
    const struct catalog_table *cat;
    const struct sqlexpr_word *words;
    size_t n;
    char prefix[600];   /* "file:line:col: tables.S.T.where: " */
    char nonlocal[300]; /* why the filter does not depend on the row alone ("" = it does) */
    bool ok;
    struct abuf *report;
};

/* A call: volatile is refused; not immutable (or not a function: EXISTS) is not local. */
static bool scan_call(struct where_scan *ws, size_t i, const char *name)
{
    const struct sqlexpr_word *w = &ws->words[i];
    char schema[256] = "pg_catalog"; /* the search path of every anonetl session */
    struct fn_info fi;
    struct anon_error err;

    if (w->escaped) {
        abuf_printf(ws->report,
                    "%scalls a function named with escapes (U&\"...\"): write its "
                    "name plainly\n",
                    ws->prefix);
        return false;
    }
    if (i > 0 && w->after_dot && ws->words[i - 1].before_dot)
        word_text(ws->t->where, &ws->words[i - 1], schema, sizeof(schema));
    if (!function_info(ws->conn, schema, name, &fi, &err)) {
        abuf_printf(ws->report, "%scannot look up %s.%s: %s\n", ws->prefix, schema, name, err.msg);
        return false;
    }
    if (fi.any_volatile) {
        abuf_printf(ws->report,
                    "%scalls %s.%s, a volatile function: it runs for every row read, and a "
                    "function with effects (pg_notify, dblink, large objects, set_config, "
                    "advisory locks) can take row values out of the read-only snapshot; "
                    "random() publishes by chance. where: may call immutable and stable "
                    "functions only\n",
                    ws->prefix, schema, name);
        return false;
    }
    if (!ws->nonlocal[0] && fi.found > 0 && !fi.all_immutable)
        snprintf(ws->nonlocal, sizeof(ws->nonlocal), "calls %s, which is not immutable", name);
    else if (!ws->nonlocal[0] && fi.found == 0 && (w->quoted || !expression_word(name)))
        snprintf(ws->nonlocal, sizeof(ws->nonlocal), "uses %s", name);
    return true;
}

/* Any other word, for the "row alone" rule: a column of the table (qualified by the
 * table or its schema at most), a word of expressions, a type name. */
static void scan_name(struct where_scan *ws, size_t i, const char *name)
{
    const struct sqlexpr_word *w = &ws->words[i];

    if (ws->nonlocal[0] || w->type)
        return;
    if (w->before_dot) {
        bool schema_of_call = i + 1 < ws->n && ws->words[i + 1].call && ws->words[i + 1].after_dot;
        if (schema_of_call || strcmp(name, ws->t->name) == 0 || strcmp(name, ws->t->schema) == 0)
            return;
    } else if (catalog_find(ws->cat, name) || (!w->quoted && expression_word(name))) {
        return;
    }
    snprintf(ws->nonlocal, sizeof(ws->nonlocal), "reads %s, which is not a column of the table",
             name);
}

static void report_nonlocal(struct where_scan *ws)
{
    abuf_printf(ws->report,
                "%sthe table is incremental with deletes: %s, and where: %s: such a run reads "
                "again only the rows whose watermark moved, so a row that stops matching for "
                "another reason (another table, the clock) would stay published. Use deletes: "
                "key_scan (each run reads every key that passes where:), a where: over the "
                "row's own columns, or mode: full\n",
                ws->prefix, ws->t->deletes == CFG_DELETES_SOFT ? "soft" : "none", ws->nonlocal);
}

bool wherecheck_relation(const struct config *cfg, const struct cfg_table *t,
                         const struct catalog_table *cat, struct abuf *report)
{
    const char *kind = cat->relkind == 'v'   ? "a view"
                       : cat->relkind == 'm' ? "a materialized view"
                       : cat->relkind == 'f' ? "a foreign table"
                                             : NULL;

    if (t->mode != CFG_MODE_INCREMENTAL || t->deletes == CFG_DELETES_KEY_SCAN)
        return true;
    if (!kind && cat->rls_relation) {
        abuf_printf(report,
                    "%s:%d:%d: tables.%s.%s: row level security applies to the source role "
                    "(policies on %s), incremental with deletes: %s: the policies decide which "
                    "rows the job reads, and a row they withdraw (a policy changed, a row of "
                    "another table they read, the role, the clock or a setting) leaves with no "
                    "watermark moving, and would stay published. Use deletes: key_scan (each "
                    "run reads every key the policies let through), or mode: full\n",
                    cfg->path, t->line, t->column, t->schema, t->name, cat->rls_relation,
                    t->deletes == CFG_DELETES_SOFT ? "soft" : "none");
        return false;
    }
    if (!kind)
        return true;
    abuf_printf(report,
                "%s:%d:%d: tables.%s.%s: %s, incremental with deletes: %s: its rows can leave "
                "it through tables anonetl does not watch (a join, a filter, a refresh), with "
                "no watermark moving, and would stay published. Use deletes: key_scan (each "
                "run reads every key it holds), or mode: full\n",
                cfg->path, t->line, t->column, t->schema, t->name, kind,
                t->deletes == CFG_DELETES_SOFT ? "soft" : "none");
    return false;
}

bool wherecheck_table(PGconn *conn, const struct config *cfg, const struct cfg_table *t,
                      const struct catalog_table *cat, struct abuf *report)
{
    struct where_scan ws = {.conn = conn, .t = t, .cat = cat, .ok = true, .report = report};
    bool clock, local = t->mode == CFG_MODE_INCREMENTAL && t->deletes != CFG_DELETES_KEY_SCAN;
    struct sqlexpr_word *words;
    char name[256];

    if (!t->where)
        return true;
    snprintf(ws.prefix, sizeof(ws.prefix), "%s:%d:%d: tables.%s.%s.where: ", cfg->path, t->line,
             t->column, t->schema, t->name);
    ws.n = sqlexpr_words(t->where, strlen(t->where), NULL, 0, &clock);
    if (!(words = calloc(ws.n + 1, sizeof(*words)))) {
        abuf_printf(report, "%sout of memory\n", ws.prefix);
        return false;
    }
    sqlexpr_words(t->where, strlen(t->where), words, ws.n, &clock);
    ws.words = words;
    for (size_t i = 0; i < ws.n; i++) {
        word_text(t->where, &words[i], name, sizeof(name));
        if (words[i].call && !words[i].type)
            ws.ok = scan_call(&ws, i, name) && ws.ok;
        else if (local)
            scan_name(&ws, i, name);
    }
    if (local && !ws.nonlocal[0] && clock)
        snprintf(ws.nonlocal, sizeof(ws.nonlocal),
                 "has a string constant that reads as the current time ('now', 'today', ...)");
    if (local && ws.nonlocal[0]) {
        report_nonlocal(&ws);
        ws.ok = false;
    }
    free(words);
    return ws.ok;
}
