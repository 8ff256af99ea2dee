/* plan.c: match a configured table with its source catalog (see plan.h). */
#include "etl/plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anonymise/coverage.h"
#include "anonymise/utf8.h"
#include "etl/exitcode.h"
#include "etl/increment.h"
#include "etl/pgconn.h"
#include "etl/watermarkcheck.h"
#include "etl/wherecheck.h"

void plan_free(struct table_plan *p)
{
    if (!p)
        return;
    if (p->owns_catalog) {
        catalog_free(p->catalog);
        for (size_t i = 0; p->columns && i < p->n_columns; i++)
            free(p->columns[i].bin_fixed);
    }
    free(p->columns);
    free(p->key_columns);
    free(p);
}

static enum plan_status check_coverage(const struct cfg_table *cfg, const char *config_path,
                                       const struct catalog_table *cat, struct abuf *report)
{
    struct coverage_column *cols = calloc(cat->n_columns + 1, sizeof(*cols));
    struct coverage_report cov;
    enum plan_status st = PLAN_OK;

    if (!cols)
        return PLAN_INVALID;
    for (size_t i = 0; i < cat->n_columns; i++) {
        cols[i].name = cat->columns[i].name;
        cols[i].type = cat->columns[i].type;
        cols[i].primary_key = cat->columns[i].pk_position > 0;
    }
    coverage_check(cfg, config_path, cols, cat->n_columns, &cov);
    if (cov.n_uncovered > 0) {
        abuf_printf(report,
                    "%s:%d:%d: tables.%s.%s: %zu source column%s without a rule (nothing is "
                    "copied by default); add under `columns:`:\n%s",
                    config_path, cfg->line, cfg->column, cfg->schema, cfg->name, cov.n_uncovered,
                    cov.n_uncovered == 1 ? "" : "s", abuf_cstr(&cov.yaml));
        st = PLAN_POLICY;
    }
    if (cov.n_missing > 0) {
        abuf_append(report, cov.missing.data, cov.missing.len);
        st = PLAN_POLICY;
    }
    coverage_report_free(&cov);
    free(cols);
    return st;
}

static bool plan_column(struct plan_column *pc, const struct catalog_column *src,
                        const struct cfg_table *t, const struct cfg_column *cc,
                        const char *config_path, struct abuf *report)
{
    const struct rule_ops *ops = cc->rule.ops;

    size_t len = strlen(src->type);

    pc->source = src;
    pc->rule = &cc->rule;
    memset(&pc->output, 0, sizeof(pc->output));
    pc->per_element =
        len > 2 && strcmp(src->type + len - 2, "[]") == 0 && !ops->passthrough && !ops->whole_value;
    if (pc->per_element) {
        /* The rule sees elements: ask for the element type, and the array keeps its
         * NOT NULL (a NULL element does not make the array NULL). */
        char element[sizeof(pc->output.type)];
        snprintf(element, sizeof(element), "%.*s", (int)(len - 2), src->type);
        snprintf(pc->rule_type, sizeof(pc->rule_type), "%s", element);
        ops->output(cc->rule.state, element, &pc->output);
        if (pc->output.type[0] == '\0')
            snprintf(pc->output.type, sizeof(pc->output.type), "%s", element);
        strncat(pc->output.type, "[]", sizeof(pc->output.type) - strlen(pc->output.type) - 1);
        pc->target_not_null = src->not_null;
    } else {
        snprintf(pc->rule_type, sizeof(pc->rule_type), "%s", src->type);
        ops->output(cc->rule.state, src->type, &pc->output);
        if (pc->output.type[0] == '\0')
            snprintf(pc->output.type, sizeof(pc->output.type), "%s", src->type);
        pc->target_not_null = src->not_null && !pc->output.may_be_null;
    }
    if (pc->output.problem[0]) {
        char name[64];
        yopts_shown(name, sizeof(name), cc->name); /* a control character written "\x1b" */
        abuf_printf(report, "%s:%d:%d: tables.%s.%s.columns.%s: %s: %s (source type %s)\n",
                    config_path, cc->line, cc->column, t->schema, t->name, name, ops->name,
                    pc->output.problem, src->type);
        return false;
    }
    return true;
}

/* Text COPY for the table, and why (explain shows it). */
static bool text_copy(struct table_plan *p, const char *fmt, const char *column, const char *type)
{
    snprintf(p->text_reason, sizeof(p->text_reason), fmt, column, type ? type : "");
    return false;
}

/* A name holds at most 63 bytes. Its text input cuts a longer value (at a character of
 * the target's encoding), its binary input refuses it: a rule that writes names (mask
 * with a multi-byte char, a constant) goes in text, where the target cuts as it would. */
#define NAME_BYTES 64

/* The rule's output is the same for every row: its binary form, computed once. */
static bool plan_fixed(struct table_plan *p, struct plan_column *c, const char *text, size_t len)
{
    bool array;
    const struct codec *out = codec_find(c->output.type, &array);
    struct abuf b;

    if (!out || array || (out == &codec_name && len >= NAME_BYTES))
        return text_copy(p, "column %s: constant of type %s", c->source->name, c->output.type);
    abuf_init(&b, (size_t)1 << 30);
    if (!out->from_text(text, len, &b) || !(c->bin_fixed = malloc(b.len + 1))) {
        abuf_free(&b);
        return text_copy(p, "column %s: constant not in the canonical form of %s", c->source->name,
                         c->output.type);
    }
    memcpy(c->bin_fixed, b.data ? b.data : "", b.len);
    c->bin_fixed_len = b.len;
    c->bin = PLAN_BIN_FIXED;
    abuf_free(&b);
    return true;
}

/* How column c travels in binary COPY; false (with the reason) when it cannot. */
static bool plan_binary_column(struct table_plan *p, struct plan_column *c)
{
    const struct rule_ops *ops = c->rule->ops;
    const char *fixed;
    bool out_array;
    size_t len;

    /* the source's codec, also for rules that read this column from the row */
    c->bin_in = c->source->wire_type ? codec_find(c->source->wire_type, &c->bin_array) : NULL;
    c->bin = PLAN_BIN_CONVERT;
    if (ops->passthrough && c->source->wire_exact && strcmp(c->output.type, c->source->type) == 0) {
        c->bin = PLAN_BIN_COPY; /* keep: the bytes as they are, codec or not */
        return true;
    }
    if (c->output.always_null) {
        c->bin = PLAN_BIN_NULL;
        return true;
    }
    if (ops->fixed_output && (fixed = ops->fixed_output(c->rule->state, &len)) != NULL)
        return plan_fixed(p, c, fixed, len);
    if (!c->bin_in)
        return text_copy(p, "column %s: type %s", c->source->name,
                         c->source->remapped ? c->source->declared_type : c->source->type);
    c->bin_out = codec_find(c->output.type, &out_array);
    if (!c->bin_out || out_array != c->bin_array ||
        (c->bin_out == &codec_name && !ops->passthrough))
        return text_copy(p, "column %s: target type %s", c->source->name, c->output.type);
    /* an array column's rule applies to each element, as in text (plan_column) */
    if (c->bin_array && !c->per_element && !ops->passthrough)
        return text_copy(p, "column %s: rule on a whole array of %s", c->source->name,
                         c->source->type);
    c->bin_time = ops->apply_time && c->bin_in->to_time;
    return true;
}

/* Columns that rules read from the row (`by:`, `row_values:`) must be readable as text. */
static bool plan_binary_reads(struct table_plan *p, const struct plan_column *c)
{
    size_t n = 0;
    const struct rule_column_ref *refs =
        c->rule->ops->columns ? c->rule->ops->columns(c->rule->state, &n) : NULL;

    for (size_t k = 0; refs && k < n; k++) {
        size_t i = plan_column_index(p, refs[k].name);
        const struct catalog_column *r = i == (size_t)-1 ? NULL : p->columns[i].source;
        bool array;
        if (r && (!r->wire_type || !codec_find(r->wire_type, &array)))
            return text_copy(p, "column %s: type %s", r->name,
                             r->remapped ? r->declared_type : r->type);
    }
    return true;
}

/* Binary COPY applies when every column has a way through (plan_binary_column). */
static bool plan_binary(struct table_plan *p)
{
    if (getenv("ANONETL_TEXT_COPY")) { /* to compare both paths (tests, benchmarks) */
        snprintf(p->text_reason, sizeof(p->text_reason), "ANONETL_TEXT_COPY is set");
        return false;
    }
    for (size_t i = 0; i < p->n_columns; i++)
        if (!plan_binary_column(p, &p->columns[i]) || !plan_binary_reads(p, &p->columns[i]))
            return false;
    return true;
}

/* The column's field goes through as it is in the table's COPY format. */
static bool untouched(const struct table_plan *p, const struct plan_column *c)
{
    return c->rule->ops->passthrough && (!p->binary || c->bin == PLAN_BIN_COPY);
}

/* k-anonymity with on_violation: suppress NULLs quasi-identifiers: their target columns
 * are created nullable, so the publish never has to ALTER a table readers are using. */
static void allow_kanon_nulls(struct table_plan *p)
{
    const struct cfg_kanon *k = p->cfg->k_anonymity;

    if (!k || k->on_violation != CFG_KANON_SUPPRESS)
        return;
    for (size_t q = 0; q < k->n_quasi_identifiers; q++) {
        size_t i = plan_column_index(p, k->quasi_identifiers[q]);
        if (i != (size_t)-1)
            p->columns[i].target_not_null = false;
    }
}

/* The published key: the configured `key`, else the source primary key. */
static bool plan_keys(struct table_plan *p, const char *config_path, struct abuf *report)
{
    const struct cfg_table *t = p->cfg;
    size_t n = t->n_key ? t->n_key : p->catalog->n_pk;

    p->key_columns = calloc(n + 1, sizeof(*p->key_columns));
    if (!p->key_columns)
        return false;
    if (t->n_key) {
        for (size_t k = 0; k < t->n_key; k++) {
            size_t i = plan_column_index(p, t->key[k]);
            if (i == (size_t)-1) {
                abuf_printf(report, "%s:%d:%d: tables.%s.%s.key: no column \"%s\" in the source\n",
                            config_path, t->line, t->column, t->schema, t->name, t->key[k]);
                return false;
            }
            p->key_columns[p->n_key++] = i;
        }
        return true;
    }
    for (size_t pos = 1; pos <= p->catalog->n_pk; pos++)
        for (size_t i = 0; i < p->n_columns; i++)
            if (p->columns[i].source->pk_position == (int)pos)
                p->key_columns[p->n_key++] = i;
    return true;
}

/* Whether the table carries a key digest (plan.h), and its column name is free. */
static bool plan_key_digest(struct table_plan *p, const char *config_path, struct abuf *report)
{
    if (plan_column_index(p, PLAN_KEY_DIGEST_COLUMN) != (size_t)-1) {
        abuf_printf(report,
                    "%s:%d:%d: tables.%s.%s: the source has a column named %s, a name anonetl "
                    "keeps for itself\n",
                    config_path, p->cfg->line, p->cfg->column, p->cfg->schema, p->cfg->name,
                    PLAN_KEY_DIGEST_COLUMN);
        return false;
    }
    p->key_digest = false;
    for (size_t k = 0; k < p->n_key && p->cfg->mode == CFG_MODE_INCREMENTAL; k++)
        if (!p->columns[p->key_columns[k]].rule->ops->passthrough)
            p->key_digest = true;
    if (p->key_digest)
        p->all_passthrough = false;
    return true;
}

enum plan_status plan_build(const struct cfg_table *cfg, const char *config_path,
                            struct catalog_table *catalog, struct table_plan **out,
                            struct abuf *report)
{
    struct table_plan *p = calloc(1, sizeof(*p));
    enum plan_status st;

    *out = NULL;
    if (!p) {
        catalog_free(catalog);
        return PLAN_INVALID;
    }
    p->cfg = cfg;
    p->catalog = catalog;
    p->owns_catalog = true;
    snprintf(p->qualified, sizeof(p->qualified), "%s.%s", cfg->schema, cfg->name);
    st = check_coverage(cfg, config_path, catalog, report);
    if (st != PLAN_OK) {
        plan_free(p);
        return st;
    }
    p->columns = calloc(catalog->n_columns + 1, sizeof(*p->columns));
    if (!p->columns) {
        plan_free(p);
        return PLAN_INVALID;
    }
    p->all_passthrough = true;
    for (size_t i = 0; i < catalog->n_columns; i++) {
        const struct catalog_column *src = &catalog->columns[i];
        if (!plan_column(&p->columns[i], src, cfg, config_find_column(cfg, src->name), config_path,
                         report))
            st = PLAN_INVALID;
    }
    p->n_columns = catalog->n_columns;
    allow_kanon_nulls(p);
    p->binary = plan_binary(p);
    for (size_t i = 0; i < p->n_columns; i++)
        p->all_passthrough = p->all_passthrough && untouched(p, &p->columns[i]);
    if (st == PLAN_OK && !plan_keys(p, config_path, report))
        st = PLAN_INVALID;
    if (st == PLAN_OK && !plan_key_digest(p, config_path, report))
        st = PLAN_INVALID;
    if (st != PLAN_OK) {
        plan_free(p);
        return st;
    }
    *out = p;
    return PLAN_OK;
}

size_t plan_column_index(const struct table_plan *p, const char *name)
{
    for (size_t i = 0; i < p->n_columns; i++)
        if (strcmp(p->columns[i].source->name, name) == 0)
            return i;
    return (size_t)-1;
}

struct table_plan *plan_project(const struct table_plan *p, const size_t *columns, size_t n)
{
    struct table_plan *q = calloc(1, sizeof(*q));

    if (!q)
        return NULL;
    *q = *p;
    q->owns_catalog = false;
    q->columns = calloc(n + 1, sizeof(*q->columns));
    q->key_columns = calloc(n + 1, sizeof(*q->key_columns));
    if (!q->columns || !q->key_columns) {
        plan_free(q);
        return NULL;
    }
    q->all_passthrough = true;
    for (size_t i = 0; i < n; i++) {
        q->columns[i] = p->columns[columns[i]];
        q->key_columns[i] = i;
        q->all_passthrough = q->all_passthrough && untouched(q, &q->columns[i]);
    }
    q->n_columns = n;
    q->n_key = n;
    /* Streams of keys carry the key digest too: deletes by key then match the source key,
     * not only the published one. */
    q->all_passthrough = q->all_passthrough && !q->key_digest;
    return q;
}

/* Characters of a UTF-8 string (bytes that start no character are not counted). */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

/* "character varying(20)" / "character(5)": the length limit, else 0. An explicit CAST
 * cuts such values silently where COPY into the column refuses them. */
static long char_limit(const char *type, bool *pads)
{
    const char *p = NULL;

    *pads = false;
    if (strncmp(type, "character varying(", 18) == 0)
        p = type + 18;
    else if (strncmp(type, "character(", 10) == 0) {
        p = type + 10;
        *pads = true;
    }
    return p && strchr(type, '[') == NULL ? strtol(p, NULL, 10) : 0;
}

/*
 * "SELECT <the literal $1 read as the column reads it>". COPY reads a value with the
 * type's input function and the column's typmod; a CAST applies a typmod as an explicit
 * cast does, padding or cutting what COPY refuses (bit(3) from "1", varchar(2)[] from
 * "{abc}"): with a typmod, the input function itself is called. The type and function
 * names are the catalog's own spelling (format_type, regproc), never user input.
 */
static void input_sql(PGconn *conn, const struct plan_column *pc, struct abuf *sql)
{
    const char *type = pc->output.type;
    int typmod = strcmp(type, pc->source->type) == 0 ? pc->source->typmod : -1;
    PGresult *res = NULL;

    if (typmod >= 0)
        res = PQexecParams(conn,
                           "SELECT t.typinput::pg_catalog.text, "
                           "CASE WHEN t.typelem <> 0 THEN t.typelem ELSE t.oid END "
                           "FROM pg_catalog.pg_type t WHERE t.oid = $1::pg_catalog.regtype",
                           1, NULL, &type, NULL, NULL, 0);
    if (res && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
        abuf_printf(sql, "SELECT %s($1::pg_catalog.cstring, %s::pg_catalog.oid, %d)",
                    PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), typmod);
    else
        abuf_printf(sql, "SELECT CAST($1 AS %s)", type);
    PQclear(res);
}

/* The server's verdict on a constant for its column's type: NULL when it takes it, else
 * the server's message (in msg). In a transaction (the run's snapshot) the check runs
 * under a savepoint, so a refusal leaves the transaction usable. */
static const char *literal_problem(PGconn *conn, const struct plan_column *pc, char *msg,
                                   size_t cap)
{
    const char *value = pc->output.literal;
    bool in_tx = PQtransactionStatus(conn) == PQTRANS_INTRANS, pads;
    long limit = char_limit(pc->output.type, &pads);
    PGresult *res;
    struct abuf sql;
    size_t len = strlen(value);

    if (limit > 0) {
        while (pads && len > 0 && value[len - 1] == ' ')
            len--;
        if ((long)utf8_chars(value) - (long)(strlen(value) - len) > limit) {
            snprintf(msg, cap, "longer than the %ld characters of %s", limit, pc->output.type);
            return msg;
        }
    }
    abuf_init(&sql, 4096);
    if (in_tx)
        PQclear(PQexec(conn, "SAVEPOINT anonetl_literal"));
    input_sql(conn, pc, &sql);
    res = PQexecParams(conn, abuf_cstr(&sql), 1, NULL, &value, NULL, NULL, 0);
    abuf_free(&sql);
    if (PQresultStatus(res) == PGRES_TUPLES_OK) {
        msg = NULL;
    } else {
        const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
        snprintf(msg, cap, "%s", primary ? primary : "rejected by the server");
    }
    PQclear(res);
    if (in_tx)
        PQclear(PQexec(conn, msg ? "ROLLBACK TO SAVEPOINT anonetl_literal"
                                 : "RELEASE SAVEPOINT anonetl_literal"));
    return msg;
}

/* Every fixed output (constant) of a plan, checked by the server against its type. */
static bool check_literals(PGconn *conn, const struct table_plan *p, const char *config_path,
                           struct abuf *report)
{
    bool ok = true;

    for (size_t i = 0; i < p->n_columns; i++) {
        const struct plan_column *pc = &p->columns[i];
        const struct cfg_column *cc = config_find_column(p->cfg, pc->source->name);
        char msg[300], shown[64], name[64];
        const char *problem;
        if (!pc->output.literal || !cc)
            continue;
        problem = literal_problem(conn, pc, msg, sizeof(msg));
        if (!problem)
            continue;
        yopts_shown(shown, sizeof(shown), pc->output.literal);
        yopts_shown(name, sizeof(name), cc->name);
        abuf_printf(report, "%s:%d:%d: tables.%s.%s.columns.%s: %s: \"%s\" is not a valid %s: %s\n",
                    config_path, cc->line, cc->column, p->cfg->schema, p->cfg->name, name,
                    pc->rule->ops->name, shown, pc->output.type, problem);
        ok = false;
    }
    return ok;
}

/*
 * The server's half of checking `where:` (the lexical half is anonymise/sqlexpr.h):
 * prepared, never run, as `SELECT 1 FROM t WHERE (expr)`, it must be an expression over
 * the table's columns the server accepts as boolean. Preparing only parses: no function
 * of the expression runs and no row is read, so the server's message (about the config's
 * own text) is shown as it is, with where in the text it points.
 */
static bool check_where(PGconn *conn, const struct config *cfg, const struct cfg_table *t,
                        struct abuf *report)
{
    bool in_tx = PQtransactionStatus(conn) == PQTRANS_INTRANS;
    struct abuf sql;
    PGresult *res = NULL;
    size_t prefix;
    bool ok = false;

    abuf_init(&sql, 1 << 20);
    abuf_puts(&sql, "SELECT 1 FROM ");
    pgconn_quote_ident(conn, t->schema, &sql);
    abuf_putc(&sql, '.');
    pgconn_quote_ident(conn, t->name, &sql);
    abuf_puts(&sql, " WHERE (");
    prefix = utf8_count(sql.data, sql.len);
    abuf_printf(&sql, "%s)", t->where);
    /* In a transaction (the run's snapshot, check --source) under a savepoint, so a
     * refusal leaves the transaction usable for the other tables' checks. */
    if (in_tx)
        PQclear(PQexec(conn, "SAVEPOINT anonetl_where"));
    if (!abuf_failed(&sql))
        res = PQprepare(conn, "", abuf_cstr(&sql), 0, NULL);
    if (res && PQresultStatus(res) == PGRES_COMMAND_OK) {
        ok = true;
    } else {
        const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        const char *pos = res ? PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION) : NULL;
        long at = pos ? strtol(pos, NULL, 10) - (long)prefix : 0;
        char line[512];
        snprintf(line, sizeof(line), "%s", msg ? msg : PQerrorMessage(conn));
        line[strcspn(line, "\n")] = '\0';
        abuf_printf(report, "%s:%d:%d: tables.%s.%s.where: the source refuses it: %s", cfg->path,
                    t->line, t->column, t->schema, t->name, line);
        if (state)
            abuf_printf(report, " (SQLSTATE %s", state);
        if (state && at > 0 && (size_t)at <= utf8_count(t->where, strlen(t->where)))
            abuf_printf(report, ", at character %ld of where:", at);
        abuf_puts(report, state ? ")\n" : "\n");
    }
    PQclear(res);
    if (in_tx)
        PQclear(PQexec(conn, ok ? "RELEASE SAVEPOINT anonetl_where"
                                : "ROLLBACK TO SAVEPOINT anonetl_where"));
    abuf_free(&sql);
    return ok;
}

enum plan_status plan_all(PGconn *conn, const struct config *cfg, struct table_plan **plans,
                          struct abuf *report)
{
    bool policy = false, invalid = false;
    struct anon_error err;
    size_t before;

    for (size_t i = 0; i < cfg->n_tables; i++) {
        const struct cfg_table *t = &cfg->tables[i];
        struct catalog_table *cat;
        bool where_refused;
        plans[i] = NULL;
        if (!catalog_read(conn, t->schema, t->name, &cat, &err)) {
            abuf_printf(report, "%s:%d:%d: tables.%s.%s: %s\n", cfg->path, t->line, t->column,
                        t->schema, t->name, err.msg);
            policy = true;
            continue;
        }
        if (!cat->readable) { /* as a table it cannot see: the run would fail in its COPY */
            abuf_printf(report,
                        "%s:%d:%d: tables.%s.%s: the source role %s cannot SELECT this table "
                        "(nor each of its columns): GRANT SELECT ON %s TO %s "
                        "(sql/roles/source_reader.sql)\n",
                        cfg->path, t->line, t->column, t->schema, t->name, cat->role, cat->relation,
                        cat->role);
            catalog_free(cat);
            policy = true;
            continue;
        }
        where_refused = t->where && (!check_where(conn, cfg, t, report) ||
                                     !wherecheck_table(conn, cfg, t, cat, report));
        invalid = invalid || where_refused || !wherecheck_relation(cfg, t, cat, report);
        switch (plan_build(t, cfg->path, cat, &plans[i], report)) {
        case PLAN_OK:
            invalid = !increment_check_plan(plans[i], report) || invalid;
            before = report->len;
            if (!watermarkcheck_source(conn, plans[i], report, &err))
                abuf_printf(report, "%s:%d:%d: tables.%s.%s: %s\n", cfg->path, t->line, t->column,
                            t->schema, t->name, err.msg);
            invalid = invalid || report->len != before;
            invalid = !check_literals(conn, plans[i], cfg->path, report) || invalid;
            break;
        case PLAN_POLICY:
            policy = true;
            break;
        case PLAN_INVALID:
            invalid = true;
            break;
        }
        /* No plan for a table whose where: is refused: nothing may read rows through it
         * (check --source samples the rows of a planned table). */
        if (where_refused) {
            plan_free(plans[i]);
            plans[i] = NULL;
        }
    }
    return policy ? PLAN_POLICY : invalid ? PLAN_INVALID : PLAN_OK;
}

int plan_exit_code(enum plan_status st)
{
    return st == PLAN_OK ? EXIT_OK : st == PLAN_POLICY ? EXIT_POLICY : EXIT_USAGE;
}

size_t plan_withheld_report(const struct table_plan *p, const char *config_path, size_t table_index,
                            struct abuf *out)
{
    size_t n = 0;

    for (size_t i = 0; i < p->cfg->n_columns; i++) {
        const struct cfg_column *c = &p->cfg->columns[i];
        unsigned long count;
        char name[64];
        if (!c->rule.ops || !c->rule.ops->withheld ||
            !(count = c->rule.ops->withheld(c->rule.state)))
            continue;
        yopts_shown(name, sizeof(name), c->name);
        abuf_printf(out,
                    "%s:%d:%d: tables[%zu].columns.%s: %lu value%s published as NULL: a scrub "
                    "pattern passed PCRE2's match limit on %s (it backtracks without end: "
                    "rewrite nested quantifiers such as (a+)+)\n",
                    config_path, c->line, c->column, table_index, name, count,
                    count == 1 ? "" : "s", count == 1 ? "it" : "them");
        n++;
    }
    return n;
}
