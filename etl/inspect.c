/* inspect.c: `check` and `explain` (see inspect.h). */
#include "etl/inspect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anonymise/pii.h"
#include "anonymise/sqlexpr.h"
#include "anonymise/utf8.h"
#include "etl/catalog.h"
#include "etl/exitcode.h"
#include "etl/inherits.h"
#include "etl/keycheck.h"
#include "etl/log.h"
#include "etl/pgconn.h"
#include "etl/piicheck.h"
#include "etl/plan.h"
#include "etl/watermarkcheck.h"

static size_t count_columns(const struct config *cfg)
{
    size_t n = 0;

    for (size_t i = 0; i < cfg->n_tables; i++)
        n += cfg->tables[i].n_columns;
    return n;
}

/* A `key:` no unique index guarantees: a repeated value would stop runs (keycheck.h). */
static void warn_key_not_unique(PGconn *conn, const struct table_plan *plan)
{
    struct anon_error err;
    bool unique = true;

    if (plan->n_key == 0 || !keycheck_key_indexed(conn, plan, &unique, &err) || unique)
        return;
    printf("warning: %s: no unique index on the source covers the key (", plan->qualified);
    for (size_t k = 0; k < plan->n_key; k++)
        printf("%s%s", k ? ", " : "", plan->columns[plan->key_columns[k]].source->name);
    printf("): a value found in two rows stops the run (exit 6)%s\n",
           plan->cfg->mode == CFG_MODE_INCREMENTAL
               ? ", and every incremental run looks for repeats of the changed keys in the "
                 "whole table"
               : "");
}

/*
 * Foreign keys into a table with `where:`: the referencing columns of each, one row per
 * column (top constraints only: a partition's copy of its parent's is the same key).
 */
static const char *const REFERENCING_SQL =
    "SELECT f.oid, n.nspname, c.relname, f.conname, a.attname "
    "FROM pg_catalog.pg_constraint f "
    "JOIN pg_catalog.pg_class c ON c.oid = f.conrelid "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "CROSS JOIN LATERAL pg_catalog.unnest(f.conkey) WITH ORDINALITY k(attnum, ord) "
    "JOIN pg_catalog.pg_attribute a ON a.attrelid = f.conrelid AND a.attnum = k.attnum "
    "WHERE f.contype = 'f' AND f.conparentid = 0 AND f.confrelid = (SELECT r.oid "
    "  FROM pg_catalog.pg_class r JOIN pg_catalog.pg_namespace rn ON rn.oid = r.relnamespace "
    "  WHERE rn.nspname = $1 AND r.relname = $2) "
    "ORDER BY f.oid, k.ord";

static struct table_plan *plan_of(struct table_plan **plans, size_t n, const char *schema,
                                  const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (plans[i] && strcmp(plans[i]->cfg->schema, schema) == 0 &&
            strcmp(plans[i]->cfg->name, name) == 0)
            return plans[i];
    return NULL;
}

/* Whether a rule publishes something of the value (a pseudonym, a prefix...). */
static bool publishes_value(const struct table_plan *plan, const char *column)
{
    size_t i = plan_column_index(plan, column);
    const char *rule = i == (size_t)-1 ? "suppress" : plan->columns[i].rule->ops->name;

    return strcmp(rule, "suppress") != 0 && strcmp(rule, "constant") != 0;
}

/*
 * A configured table without `where:` whose foreign key into a table with `where:`
 * publishes its columns: the rows that `where:` leaves out are referenced there, under
 * pseudonyms no published row of the filtered table has, so the data team can list who
 * was left out and read their rows (docs/operations.md, "Rows where: leaves out").
 * Names only: what the catalog says, never a row.
 */
static void warn_where_referenced(PGconn *conn, struct table_plan **plans, size_t n)
{
    for (size_t t = 0; t < n; t++) {
        const struct cfg_table *filtered = plans[t] ? plans[t]->cfg : NULL;
        const char *params[2];
        struct anon_error err;
        PGresult *res;
        if (!filtered || !filtered->where)
            continue;
        params[0] = filtered->schema;
        params[1] = filtered->name;
        if (!(res = pgconn_query(conn, REFERENCING_SQL, 2, params, PGRES_TUPLES_OK, &err)))
            continue; /* a warning only: the run does not depend on it */
        for (int r = 0, end; r < PQntuples(res); r = end) {
            struct table_plan *ref =
                plan_of(plans, n, PQgetvalue(res, r, 1), PQgetvalue(res, r, 2));
            int shown = 0;
            for (end = r; end < PQntuples(res) &&
                          strcmp(PQgetvalue(res, end, 0), PQgetvalue(res, r, 0)) == 0;)
                end++;
            if (!ref || ref->cfg->where)
                continue;
            for (int c = r; c < end; c++) {
                if (!publishes_value(ref, PQgetvalue(res, c, 4)))
                    continue;
                if (shown++ == 0)
                    printf("warning: %s: the rows of %s that its where: leaves out are still "
                           "referenced here (foreign key %s: ",
                           ref->qualified, plans[t]->qualified, PQgetvalue(res, r, 3));
                printf("%s%s", shown > 1 ? ", " : "", PQgetvalue(res, c, 4));
            }
            if (shown)
                printf(" published): their pseudonyms, found in no row of %s, tell the data "
                       "team who was left out, and these rows are theirs; give %s the same "
                       "filter (where: over %s) or suppress the column\n",
                       plans[t]->qualified, ref->qualified, plans[t]->qualified);
        }
        PQclear(res);
    }
}

/* inheritance children read with each table (inherits.h): warnings */
static void warn_inheritance_children(PGconn *conn, struct table_plan **plans, size_t n)
{
    struct abuf lines;

    abuf_init(&lines, 1 << 20);
    for (size_t t = 0; t < n; t++)
        if (plans[t])
            inherits_warn(conn, (const struct table_plan *const *)plans, n, t, &lines);
    for (const char *line = abuf_cstr(&lines), *nl; *line; line = *nl ? nl + 1 : nl) {
        nl = strchr(line, '\n');
        if (!nl)
            nl = line + strlen(line);
        printf("warning: %.*s\n", (int)(nl - line), line);
    }
    abuf_free(&lines);
}

/* keep columns that look personal: what `run` refuses (exit 6), said the same way. */
static int report_keeps(size_t n, struct abuf *lines)
{
    fputs(abuf_cstr(lines), stdout);
    if (n == 0)
        return EXIT_OK;
    printf("anonetl: %zu keep column%s look%s like personal data: %s; `run` refuses "
           "them (exit 6)\n",
           n, n == 1 ? "" : "s", n == 1 ? "s" : "", PIICHECK_ADVICE);
    return EXIT_POLICY;
}

/* A where: holding a date written in numbers ('01/02/2000'): anonetl's sessions read it
 * month first whatever the server's DateStyle says (pgconn.c), which may not be what its
 * author meant (a server whose postgresql.conf says DMY read it day first before). */
static void warn_where_dates(const struct config *cfg)
{
    for (size_t i = 0; i < cfg->n_tables; i++) {
        const struct cfg_table *t = &cfg->tables[i];
        size_t offset, n;
        if (t->where && sqlexpr_numeric_date(t->where, strlen(t->where), &offset, &n))
            printf("warning: %s:%d:%d: tables.%s.%s.where: %.*s is a date written in numbers: "
                   "anonetl's sessions read it month first (DateStyle ISO, MDY, whatever the "
                   "server says); write it as YYYY-MM-DD\n",
                   cfg->path, t->line, t->column, t->schema, t->name, (int)n, t->where + offset);
    }
}

/* Plan every table against the source; print what is wrong. */
static int check_against_source(const struct config *cfg, PGconn *conn)
{
    struct table_plan **plans = calloc(cfg->n_tables + 1, sizeof(*plans));
    struct abuf report, keeps;
    enum plan_status st;
    size_t n_keeps = 0, n_unchecked = 0;
    int code;

    if (!plans)
        return EXIT_INTERNAL;
    abuf_init(&report, 1 << 20);
    abuf_init(&keeps, 1 << 20);
    st = plan_all(conn, cfg, plans, &report);
    for (size_t i = 0; i < cfg->n_tables; i++) {
        if (plans[i]) {
            n_keeps += piicheck_table(conn, plans[i], &keeps, &n_unchecked);
            watermarkcheck_warn_source(conn, &cfg->source, plans[i], stdout);
            warn_key_not_unique(conn, plans[i]);
        }
    }
    warn_where_referenced(conn, plans, cfg->n_tables);
    warn_inheritance_children(conn, plans, cfg->n_tables);
    for (size_t i = 0; i < cfg->n_tables; i++)
        plan_free(plans[i]);
    free(plans);
    code = report_keeps(n_keeps, &keeps);
    if (n_unchecked > 0) { /* as run refuses it: the source failed the keep review's sample */
        printf("anonetl: the content of %zu keep column%s could not be checked (see above): "
               "`run` stops there (exit 4)\n",
               n_unchecked, n_unchecked == 1 ? "" : "s");
        code = EXIT_SOURCE;
    }
    if (report.len)
        fputs(abuf_cstr(&report), stdout);
    abuf_free(&report);
    abuf_free(&keeps);
    return st != PLAN_OK ? plan_exit_code(st) : code;
}

int inspect_check(const struct config *cfg, bool with_source)
{
    enum secret_failure why;
    struct anon_error err;
    PGconn *conn;
    int code;

    watermarkcheck_warn_config(cfg, stdout);
    warn_where_dates(cfg);
    if (!with_source) {
        struct abuf keeps;
        abuf_init(&keeps, 1 << 20);
        code = report_keeps(piicheck_config(cfg, &keeps), &keeps); /* names only */
        abuf_free(&keeps);
        if (code == EXIT_OK)
            printf("%s: ok (%zu tables, %zu columns)\n", cfg->path, cfg->n_tables,
                   count_columns(cfg));
        return code;
    }
    if (!pgconn_params_check(&cfg->source, "source", &why, &err)) {
        fprintf(stderr, "anonetl: %s\n", err.msg);
        return secret_failure_exit(why);
    }
    conn = pgconn_open(&cfg->source, "source", &err);
    /* Read only, as a run reads: the content check samples rows through `where:`. */
    if (!conn || !pgconn_exec(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
                              PGRES_COMMAND_OK, &err)) {
        fprintf(stderr, "anonetl: %s\n", err.msg);
        pgconn_close(conn);
        return EXIT_SOURCE;
    }
    code = check_against_source(cfg, conn);
    pgconn_close(conn);
    if (code == EXIT_OK)
        printf("%s: ok against the source (%zu tables, %zu columns, every column covered)\n",
               cfg->path, cfg->n_tables, count_columns(cfg));
    return code;
}

static void explain_rule(const struct rule *r, struct abuf *out)
{
    const char *place, *why;

    abuf_reset(out);
    abuf_puts(out, r->ops->name);
    if (r->ops->describe) {
        size_t before = out->len;
        abuf_putc(out, '(');
        r->ops->describe(r->state, out);
        if (out->len == before + 1)
            out->len = before;
        else
            abuf_putc(out, ')');
    }
    /* the column's keep, json paths' keeps, json others: keep */
    for (size_t pos = 0; (why = pii_next_review(r, &pos, &place)) != NULL;)
        abuf_printf(out, " (reviewed%s%s: %s)", place ? " " : "", place ? place : "", why);
}

static int max_width(int w, const char *s)
{
    int n = (int)strlen(s);

    return n > w ? n : w;
}

/* COLUMN, SOURCE TYPE, TARGET TYPE, RULE: the rule last, it is the long one. */
static void explain_columns(const struct table_plan *plan, struct abuf *rule)
{
    int wn = 6, ws = 11, wt = 11;
    char target[192];
    /* a source column's name may hold a newline or ESC (a terminal sequence): shown escaped */
    char **names = calloc(plan->n_columns + 1, sizeof(*names));

    for (size_t i = 0; names && i < plan->n_columns; i++)
        names[i] = utf8_printable(plan->columns[i].source->name);
    for (size_t i = 0; i < plan->n_columns; i++) {
        const struct plan_column *c = &plan->columns[i];
        wn = max_width(wn, names && names[i] ? names[i] : "?");
        ws = max_width(ws, c->source->type);
        wt = max_width(wt, c->output.type) + (c->target_not_null ? 9 : 0);
    }
    printf("  %-*s  %-*s  %-*s  %s\n", wn, "COLUMN", ws, "SOURCE TYPE", wt, "TARGET TYPE", "RULE");
    for (size_t i = 0; i < plan->n_columns; i++) {
        const struct plan_column *c = &plan->columns[i];
        explain_rule(c->rule, rule);
        snprintf(target, sizeof(target), "%s%s", c->output.type,
                 c->target_not_null ? " NOT NULL" : "");
        printf("  %-*s  %-*s  %-*s  %s%s\n", wn, names && names[i] ? names[i] : "?", ws,
               c->source->type, wt, target, abuf_cstr(rule),
               c->source->pk_position ? "  (primary key)" : "");
    }
    for (size_t i = 0; names && i < plan->n_columns; i++)
        free(names[i]);
    free(names);
}

/* Explain one table; the status of its match with the source (PLAN_OK without one). */
static enum plan_status explain_table(const struct config *cfg, const struct cfg_table *t,
                                      PGconn *conn)
{
    struct catalog_table *cat = NULL;
    struct table_plan *plan = NULL;
    struct anon_error err;
    struct abuf rule, report;
    enum plan_status st = PLAN_OK;
    char unreadable[600] = "";

    anon_error_clear(&err);
    abuf_init(&rule, 1 << 16);
    abuf_init(&report, 1 << 20);
    printf("%s.%s -> %s.%s (%s)\n", t->schema, t->name, cfg->target.schema, cfg_published_name(t),
           t->mode == CFG_MODE_INCREMENTAL ? "incremental" : "full refresh");
    if (t->where)
        printf("  where: %s\n", t->where);
    if (conn && !catalog_read(conn, t->schema, t->name, &cat, &err)) {
        /* as check --source says it: where the table is written, a policy problem */
        abuf_printf(&report, "%s:%d:%d: tables.%s.%s: %s", cfg->path, t->line, t->column, t->schema,
                    t->name, err.msg);
        st = PLAN_POLICY;
    } else if (conn) {
        if (!cat->readable) /* as check --source and run refuse it (plan.c), exit 6 */
            snprintf(unreadable, sizeof(unreadable),
                     "  (cannot be read: the source role %s cannot SELECT it: GRANT SELECT ON %s "
                     "TO %s)\n",
                     cat->role, cat->relation, cat->role);
        st = plan_build(t, cfg->path, cat, &plan, &report);
    }
    if (conn && st == PLAN_OK) {
        explain_columns(plan, &rule);
        if (plan->binary)
            printf("  copy: binary\n");
        else
            printf("  copy: text (%s)\n", plan->text_reason);
        if (unreadable[0]) {
            fputs(unreadable, stdout);
            st = PLAN_POLICY;
        }
    } else {
        if (report.len && report.data[report.len - 1] == '\n')
            report.len--; /* the report's lines end with one: the ")" closes the last */
        if (conn)
            printf("  (cannot match the source: %s)\n", report.len ? abuf_cstr(&report) : err.msg);
        printf("  %-24s %s\n", "COLUMN", "RULE");
        for (size_t i = 0; i < t->n_columns; i++) {
            char *name = utf8_printable(t->columns[i].name);
            explain_rule(&t->columns[i].rule, &rule);
            printf("  %-24s %s\n", name ? name : "?", abuf_cstr(&rule));
            free(name);
        }
    }
    if (t->k_anonymity)
        printf("  k-anonymity: k=%d over %zu quasi-identifiers\n", t->k_anonymity->k,
               t->k_anonymity->n_quasi_identifiers);
    plan_free(plan);
    abuf_free(&rule);
    abuf_free(&report);
    return st;
}

/* Without a source (unreachable, or not asked for): the rules alone, exit 0. With one,
 * a table the rules do not match exits as check --source does (6 or 2), all printed. */
int inspect_explain(const struct config *cfg, bool with_source)
{
    struct anon_error err;
    PGconn *conn = NULL;
    bool policy = false, invalid = false;

    if (with_source) {
        conn = pgconn_open(&cfg->source, "source", &err);
        if (!conn)
            fprintf(stderr, "anonetl: %s (showing rules without source types)\n", err.msg);
    }
    for (size_t i = 0; i < cfg->n_tables; i++) {
        enum plan_status st = explain_table(cfg, &cfg->tables[i], conn);
        policy = policy || st == PLAN_POLICY;
        invalid = invalid || st == PLAN_INVALID;
        if (i + 1 < cfg->n_tables)
            putchar('\n');
    }
    pgconn_close(conn);
    return plan_exit_code(policy ? PLAN_POLICY : invalid ? PLAN_INVALID : PLAN_OK);
}
