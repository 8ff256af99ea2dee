/* preview.c: `anonetl preview`, before/after of sampled rows (see preview.h). */
#include "etl/preview.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "anonymise/config.h"
#include "anonymise/hmac.h"
#include "anonymise/keystrength.h"
#include "anonymise/pgarray.h"
#include "anonymise/suggest.h"
#include "anonymise/utf8.h"
#include "etl/catalog.h"
#include "etl/cli.h"
#include "etl/configsrc.h"
#include "etl/exitcode.h"
#include "etl/log.h"
#include "etl/pgconn.h"
#include "etl/plan.h"
#include "etl/rowsample.h"
#include "etl/secret.h"

#define PREVIEW_VALUE_MAX ((size_t)1 << 30)
#define PREVIEW_CELL_CHARS 40 /* terminal: longer values are cut */

struct preview_options {
    const char *config;
    const char *table;
    long limit;
    int format; /* 0 auto, 1 text, 2 json */
    /* The key option given, 0, 'R' (--random-key) or 'K' (--real-key): preview hashes
     * with a random key unless 'K' (random_key): the output pairs each source value with
     * a pseudonym, and with the configured key that pairing, pasted into a ticket, would
     * let anyone with the anonymised data find that person's row. --real-key asks for it
     * (to check joins against published data); --random-key is the default said aloud. */
    int key_flag;
};

static bool random_key(const struct preview_options *opt)
{
    return opt->key_flag != 'K';
}

/* The current row for rules with `by: column` (date_shift): values of one PGresult row. */
struct rule_row {
    const struct table_plan *plan;
    PGresult *res;
    int row;
    struct rule_value *values;
};

static const struct rule_value *row_column(const struct rule_row *row, const char *name)
{
    size_t i = plan_column_index(row->plan, name);

    return i == (size_t)-1 ? NULL : &row->values[i];
}

/* One value after its column's rule; *is_null for NULL. out is reset first. */
static bool apply_one(const struct plan_column *col, const struct rule_ctx *ctx,
                      const struct rule_value *in, struct abuf *out, bool *is_null,
                      struct anon_error *err)
{
    const struct rule *rule = col->rule;
    struct rule_ctx c = *ctx;

    c.type = col->rule_type;
    abuf_reset(out);
    *is_null = false;
    if (rule->ops->passthrough) {
        *is_null = in->is_null;
        abuf_append(out, in->data, in->len);
    } else if (col->per_element
                   ? !pgarray_apply_rule(rule->ops, rule->state, &c, in, out, is_null, err)
                   : !rule->ops->apply(rule->state, &c, in, out, is_null, err)) {
        return false;
    }
    if (abuf_failed(out)) {
        anon_error_set(err, "%s.%s: rule output too large", col->source->name, rule->ops->name);
        return false;
    }
    return true;
}

static void describe_rule(const struct rule *r, struct abuf *out)
{
    size_t before;

    abuf_reset(out);
    abuf_puts(out, r->ops->name);
    if (!r->ops->describe)
        return;
    before = out->len;
    abuf_putc(out, '(');
    r->ops->describe(r->state, out);
    if (out->len == before + 1)
        out->len = before;
    else
        abuf_putc(out, ')');
}

/* ------------------------------------------------------------------ JSON */

/* A JSON string, or null; bytes that are not UTF-8 become U+FFFD. */
static json_t *json_value(const char *s, size_t len, bool is_null)
{
    json_t *j;
    struct abuf fixed;

    if (is_null)
        return json_null();
    j = json_stringn(s, len);
    if (j)
        return j;
    abuf_init(&fixed, PREVIEW_VALUE_MAX);
    for (size_t i = 0; i < len;) {
        size_t n = utf8_char_len(s + i, len - i);
        if (n == 1 && (unsigned char)s[i] >= 0x80)
            abuf_puts(&fixed, "\xef\xbf\xbd");
        else
            abuf_append(&fixed, s + i, n);
        i += n;
    }
    j = abuf_failed(&fixed) ? NULL : json_stringn(abuf_cstr(&fixed), fixed.len);
    abuf_free(&fixed);
    return j ? j : json_null();
}

/* ----------------------------------------------------------- terminal */

/* Append one cell: control characters escaped, cut to max characters. */
static void cell_text(struct abuf *out, const char *s, size_t len, bool is_null, size_t max)
{
    size_t chars = 0;

    if (is_null) {
        abuf_puts(out, "NULL");
        return;
    }
    for (size_t i = 0; i < len;) {
        size_t n = utf8_char_len(s + i, len - i);
        unsigned char c = (unsigned char)s[i];
        if (chars + 1 >= max && i + n < len) {
            abuf_puts(out, "\xe2\x80\xa6"); /* ... */
            return;
        }
        if (c == '\n')
            abuf_puts(out, "\\n");
        else if (c == '\t')
            abuf_puts(out, "\\t");
        else if (c < 0x20 || c == 0x7f)
            abuf_printf(out, "\\x%02x", c);
        else if (n == 1 && c >= 0x80)
            abuf_puts(out, "?");
        else
            abuf_append(out, s + i, n);
        chars++;
        i += n;
    }
    if (len == 0)
        abuf_puts(out, "''");
}

/* Print s padded to width characters. */
static void print_padded(const char *s, size_t width)
{
    size_t chars = utf8_count(s, strlen(s));

    fputs(s, stdout);
    for (; chars < width; chars++)
        putchar(' ');
}

/* ------------------------------------------------------------- the run */

struct preview {
    const struct preview_options *opt;
    struct config *cfg;
    const struct cfg_table *table;
    PGconn *conn;
    struct table_plan *plan;
    struct hmac_key *hmac;
    struct abuf key;
    PGresult *res;
    struct anon_error err;
};

static bool names_table(const struct cfg_table *t, const char *name)
{
    const char *dot = strchr(name, '.');

    if (!dot)
        return strcmp(name, t->name) == 0;
    return (size_t)(dot - name) == strlen(t->schema) &&
           strncmp(name, t->schema, strlen(t->schema)) == 0 && strcmp(dot + 1, t->name) == 0;
}

/* --table names no configured table: the nearest configured one (suggest.h), if any,
 * compared as written (SCHEMA.TABLE, or TABLE with the tables' own names). */
static void no_such_table(const struct config *cfg, const char *name)
{
    bool qualified = strchr(name, '.') != NULL;
    size_t n = cfg->n_tables, near = n;
    const char **cand = calloc(n + 1, sizeof(*cand));
    char *full = calloc(n ? n : 1, 2 * 64 + 2);
    const char *hit;

    for (size_t i = 0; cand && full && i < n; i++) {
        const struct cfg_table *t = &cfg->tables[i];
        snprintf(full + i * 130, 130, "%s.%s", t->schema, t->name);
        cand[i] = qualified ? full + i * 130 : t->name;
    }
    if (cand && full && (hit = suggest_word(name, cand)) != NULL)
        for (near = 0; near < n && cand[near] != hit; near++)
            ;
    if (near < n)
        fprintf(stderr, "anonetl preview: --table %s is not a table of %s (did you mean %s?)\n",
                name, cfg->path, full + near * 130);
    else
        fprintf(stderr, "anonetl preview: --table %s is not a table of %s\n", name, cfg->path);
    free(cand);
    free(full);
}

/* The configured table --table names: SCHEMA.TABLE, or TABLE when one schema has it (the
 * first of two namesakes was taken silently: another schema's rows were shown). NULL,
 * said, for none or several. */
static const struct cfg_table *find_table(const struct config *cfg, const char *name)
{
    const struct cfg_table *found = NULL;
    size_t n = 0;

    for (size_t i = 0; i < cfg->n_tables; i++)
        if (names_table(&cfg->tables[i], name) && n++ == 0)
            found = &cfg->tables[i];
    if (n == 0)
        no_such_table(cfg, name);
    if (n <= 1)
        return found;
    fprintf(stderr, "anonetl preview: --table %s: %zu tables of %s have that name (", name, n,
            cfg->path);
    for (size_t i = 0, shown = 0; i < cfg->n_tables && shown < 3; i++)
        if (names_table(&cfg->tables[i], name))
            fprintf(stderr, "%s%s.%s", shown++ ? ", " : "", cfg->tables[i].schema,
                    cfg->tables[i].name);
    fprintf(stderr, "%s): write SCHEMA.TABLE\n", n > 3 ? ", ..." : "");
    return NULL;
}

static int prepare_key(struct preview *p)
{
    enum secret_failure why = SECRET_FAIL_CONFIG;
    unsigned char rnd[32];

    abuf_init(&p->key, 1 << 16);
    if (random_key(p->opt)) {
        if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
            fprintf(stderr, "anonetl preview: no random bytes for --random-key\n");
            return EXIT_INTERNAL;
        }
        abuf_append(&p->key, rnd, sizeof(rnd));
        OPENSSL_cleanse(rnd, sizeof(rnd));
    } else if (!secret_resolve(&p->cfg->hash_key, "secrets.hash_key", &p->key, &why, &p->err) ||
               !keystrength_ok((const unsigned char *)p->key.data, p->key.len, "secrets.hash_key",
                               &p->err)) {
        fprintf(stderr,
                "anonetl preview: %s\n  (without --real-key, preview hashes with a random "
                "key and needs none)\n",
                p->err.msg);
        abuf_free_secret(&p->key);
        return secret_failure_exit(why);
    }
    secret_forget_env(&p->cfg->hash_key);
    p->hmac = hmac_key_new((const unsigned char *)p->key.data, p->key.len, &p->err);
    abuf_free_secret(&p->key); /* only the prepared states stay */
    if (!p->hmac) {
        fprintf(stderr, "anonetl preview: secrets.hash_key: %s\n", p->err.msg);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

static int build_plan(struct preview *p)
{
    struct catalog_table *cat;
    struct abuf report;
    enum plan_status st;

    if (!catalog_read(p->conn, p->table->schema, p->table->name, &cat, &p->err)) {
        fprintf(stderr, "anonetl preview: %s\n", p->err.msg);
        return EXIT_SOURCE;
    }
    abuf_init(&report, 1 << 20);
    st = plan_build(p->table, p->cfg->path, cat, &p->plan, &report);
    if (st != PLAN_OK) {
        fprintf(stderr, "%s", abuf_cstr(&report));
        abuf_free(&report);
        return st == PLAN_POLICY ? EXIT_POLICY : EXIT_USAGE;
    }
    abuf_free(&report);
    return EXIT_OK;
}

/* The rows shown: the run's columns through its where:, sampled over the whole table
 * (rowsample.h), not the first rows of a scan. */
static int fetch_rows(struct preview *p)
{
    p->res = rowsample_read(p->conn, p->plan, (int)p->opt->limit, &p->err);
    if (!p->res) {
        fprintf(stderr, "anonetl preview: %s\n", p->err.msg);
        return EXIT_SOURCE;
    }
    return EXIT_OK;
}

/* Fill values[] with row r of the result. */
static void load_row(struct rule_row *row, int r)
{
    row->row = r;
    for (size_t i = 0; i < row->plan->n_columns; i++) {
        int c = (int)i;
        row->values[i] = (struct rule_value){
            .data = PQgetvalue(row->res, r, c),
            .len = (size_t)PQgetlength(row->res, r, c),
            .is_null = PQgetisnull(row->res, r, c) != 0,
        };
    }
}

/* Calls emit(arg, row index, column index, before, after, after_null) for every value. */
typedef bool (*preview_emit_fn)(void *arg, int r, size_t c, const struct rule_value *before,
                                const struct abuf *after, bool after_null);

static bool walk(struct preview *p, preview_emit_fn emit, void *arg)
{
    struct rule_row row = {.plan = p->plan, .res = p->res};
    struct rule_ctx ctx = {.key = NULL,
                           .key_len = 0,
                           .hmac = p->hmac,
                           .run_time = time(NULL),
                           .column = row_column,
                           .row = &row};
    struct abuf out;
    bool ok = true;

    row.values = calloc(p->plan->n_columns + 1, sizeof(*row.values));
    if (!row.values) {
        anon_error_set(&p->err, "out of memory");
        return false;
    }
    abuf_init(&out, PREVIEW_VALUE_MAX);
    for (int r = 0; ok && r < PQntuples(p->res); r++) {
        load_row(&row, r);
        for (size_t c = 0; ok && c < p->plan->n_columns; c++) {
            bool is_null;
            ok = apply_one(&p->plan->columns[c], &ctx, &row.values[c], &out, &is_null, &p->err) &&
                 emit(arg, r, c, &row.values[c], &out, is_null);
        }
    }
    abuf_free(&out);
    free(row.values);
    return ok;
}

struct json_state {
    json_t *rows;
    json_t *before, *after;
    const struct table_plan *plan;
};

static bool json_emit(void *arg, int r, size_t c, const struct rule_value *before,
                      const struct abuf *after, bool after_null)
{
    struct json_state *js = arg;
    const char *name = js->plan->columns[c].source->name;

    (void)r;
    if (c == 0) {
        json_t *row = json_object();
        js->before = json_object();
        js->after = json_object();
        json_object_set_new(row, "before", js->before);
        json_object_set_new(row, "after", js->after);
        json_array_append_new(js->rows, row);
    }
    json_object_set_new(js->before, name, json_value(before->data, before->len, before->is_null));
    json_object_set_new(js->after, name,
                        json_value(after->data ? after->data : "", after->len, after_null));
    return true;
}

static int print_json(struct preview *p)
{
    struct json_state js = {.rows = json_array(), .plan = p->plan};
    json_t *doc = json_object(), *cols = json_array();
    struct abuf rule;
    char *text;

    abuf_init(&rule, 1 << 16);
    for (size_t c = 0; c < p->plan->n_columns; c++) {
        const struct plan_column *pc = &p->plan->columns[c];
        describe_rule(pc->rule, &rule);
        json_array_append_new(cols, json_pack("{s:s, s:s, s:s, s:s}", "name", pc->source->name,
                                              "rule", abuf_cstr(&rule), "source_type",
                                              pc->source->type, "target_type", pc->output.type));
    }
    abuf_free(&rule);
    json_object_set_new(doc, "table", json_string(p->plan->qualified));
    json_object_set_new(doc, "random_key", json_boolean(random_key(p->opt)));
    json_object_set_new(doc, "columns", cols);
    json_object_set_new(doc, "rows", js.rows);
    if (!walk(p, json_emit, &js)) {
        json_decref(doc);
        fprintf(stderr, "anonetl preview: %s\n", p->err.msg);
        return EXIT_INTERNAL;
    }
    text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(doc);
    if (!text) {
        fprintf(stderr, "anonetl preview: out of memory\n");
        return EXIT_INTERNAL;
    }
    puts(text);
    free(text);
    return EXIT_OK;
}

struct text_state {
    char **cells; /* 2 per value: before, after */
    size_t n_columns;
    bool failed;
};

static bool text_emit(void *arg, int r, size_t c, const struct rule_value *before,
                      const struct abuf *after, bool after_null)
{
    struct text_state *ts = arg;
    size_t at = ((size_t)r * ts->n_columns + c) * 2;
    struct abuf b;

    abuf_init(&b, 1 << 16);
    cell_text(&b, before->data, before->len, before->is_null, PREVIEW_CELL_CHARS);
    ts->cells[at] = strdup(abuf_cstr(&b));
    abuf_reset(&b);
    cell_text(&b, after->data ? after->data : "", after->len, after_null, PREVIEW_CELL_CHARS);
    ts->cells[at + 1] = strdup(abuf_cstr(&b));
    abuf_free(&b);
    if (!ts->cells[at] || !ts->cells[at + 1])
        ts->failed = true;
    return !ts->failed;
}

static void print_text_rows(struct preview *p, struct text_state *ts, char **rules)
{
    size_t w[3] = {6, 4, 6}; /* COLUMN, RULE, BEFORE */
    int n = PQntuples(p->res);
    /* a column's name may hold a newline or ESC (a terminal sequence): shown escaped, as
     * the values are */
    char **names = calloc(p->plan->n_columns + 1, sizeof(*names));

    for (size_t c = 0; names && c < p->plan->n_columns; c++)
        names[c] = utf8_printable(p->plan->columns[c].source->name);
    for (size_t c = 0; c < p->plan->n_columns; c++) {
        const char *name = names && names[c] ? names[c] : "?";
        size_t a = utf8_count(name, strlen(name));
        size_t b = utf8_count(rules[c], strlen(rules[c]));
        w[0] = a > w[0] ? a : w[0];
        w[1] = b > w[1] ? b : w[1];
        for (int r = 0; r < n; r++) {
            const char *s = ts->cells[((size_t)r * p->plan->n_columns + c) * 2];
            size_t d = utf8_count(s, strlen(s));
            w[2] = d > w[2] ? d : w[2];
        }
    }
    printf("%s: %d sampled row%s, before -> after%s\n", p->plan->qualified, n, n == 1 ? "" : "s",
           random_key(p->opt) ? " (random key: hashes differ from a run's; --real-key for its)"
                              : " (the configured key: pseudonyms as published)");
    for (int r = 0; r < n; r++) {
        printf("\nrow %d\n  ", r + 1);
        print_padded("COLUMN", w[0] + 2);
        print_padded("RULE", w[1] + 2);
        print_padded("BEFORE", w[2] + 2);
        puts("AFTER");
        for (size_t c = 0; c < p->plan->n_columns; c++) {
            size_t at = ((size_t)r * p->plan->n_columns + c) * 2;
            fputs("  ", stdout);
            print_padded(names && names[c] ? names[c] : "?", w[0] + 2);
            print_padded(rules[c], w[1] + 2);
            print_padded(ts->cells[at], w[2] + 2);
            puts(ts->cells[at + 1]);
        }
    }
    for (size_t c = 0; names && c < p->plan->n_columns; c++)
        free(names[c]);
    free(names);
}

static int print_text(struct preview *p)
{
    size_t nc = p->plan->n_columns, ncells = (size_t)PQntuples(p->res) * nc * 2;
    struct text_state ts = {.cells = calloc(ncells + 1, sizeof(char *)), .n_columns = nc};
    char **rules = calloc(nc + 1, sizeof(char *));
    struct abuf rule;
    int code = EXIT_OK;

    abuf_init(&rule, 1 << 16);
    for (size_t c = 0; rules && c < nc; c++) {
        describe_rule(p->plan->columns[c].rule, &rule);
        rules[c] = strdup(abuf_cstr(&rule));
        ts.failed = ts.failed || !rules[c];
    }
    abuf_free(&rule);
    if (!ts.cells || !rules || ts.failed || !walk(p, text_emit, &ts)) {
        fprintf(stderr, "anonetl preview: %s\n",
                ts.failed || !ts.cells || !rules ? "out of memory" : p->err.msg);
        code = EXIT_INTERNAL;
    } else {
        print_text_rows(p, &ts, rules);
    }
    for (size_t i = 0; ts.cells && i < ncells; i++)
        free(ts.cells[i]);
    for (size_t c = 0; rules && c < nc; c++)
        free(rules[c]);
    free(ts.cells);
    free(rules);
    return code;
}

/* A NULL in the AFTER column that a scrub pattern past its match limit made: said why. */
static void warn_withheld(const struct preview *p)
{
    struct abuf lines;

    const char *line, *end;

    abuf_init(&lines, 1 << 20);
    if (plan_withheld_report(p->plan, p->cfg->path, (size_t)(p->table - p->cfg->tables), &lines))
        for (line = abuf_cstr(&lines); (end = strchr(line, '\n')) != NULL; line = end + 1)
            fprintf(stderr, "warning: %.*s\n", (int)(end - line), line);
    abuf_free(&lines);
}

static int preview_run(struct preview *p)
{
    enum secret_failure why;
    int code;

    p->table = find_table(p->cfg, p->opt->table);
    if (!p->table)
        return EXIT_USAGE;
    if ((code = prepare_key(p)) != EXIT_OK)
        return code;
    if (!pgconn_params_check(&p->cfg->source, "source", &why, &p->err)) {
        fprintf(stderr, "anonetl preview: %s\n", p->err.msg);
        return secret_failure_exit(why);
    }
    p->conn = pgconn_open(&p->cfg->source, "source", &p->err);
    if (!p->conn) {
        fprintf(stderr, "anonetl preview: %s\n", p->err.msg);
        return EXIT_SOURCE;
    }
    if (!pgconn_exec(p->conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", PGRES_COMMAND_OK,
                     &p->err)) {
        fprintf(stderr, "anonetl preview: %s\n", p->err.msg);
        return EXIT_SOURCE;
    }
    if ((code = build_plan(p)) != EXIT_OK || (code = fetch_rows(p)) != EXIT_OK)
        return code;
    if (p->opt->format == 2 || (p->opt->format == 0 && !isatty(STDOUT_FILENO)))
        code = print_json(p);
    else
        code = print_text(p);
    warn_withheld(p);
    return code;
}

static int parse_options(int argc, char **argv, struct preview_options *opt)
{
    struct cli_parser p;
    const char *v;
    char *end;
    int c;

    cli_parser_init(&p, "preview", argc, argv);
    while ((c = cli_next(&p, &v)) > 0) {
        switch (c) {
        case CLI_CONFIG:
            opt->config = v;
            break;
        case 't':
            opt->table = v;
            break;
        case 'n':
            opt->limit = strtol(v, &end, 10);
            if (*end || end == v || opt->limit < 1 || opt->limit > 1000)
                return cli_usage_error("preview", "--limit: expected 1..1000, got '%s'", v);
            break;
        case 'J':
        case 'T':
            if (opt->format && opt->format != (c == 'J' ? 2 : 1))
                return cli_usage_error("preview", "%s", "--json and --text: give one of them");
            opt->format = c == 'J' ? 2 : 1;
            break;
        case 'R':
        case 'K':
            if (opt->key_flag && opt->key_flag != c)
                return cli_usage_error("preview", "%s",
                                       "--random-key and --real-key: give one of them");
            opt->key_flag = c;
            break;
        }
    }
    if (c != CLI_DONE)
        return c == CLI_SHOWN_HELP ? -1 : EXIT_USAGE;
    if (!opt->config)
        opt->config = cli_config_from_env();
    if (!opt->config || !opt->table)
        return cli_usage_error("preview", "%s", "-c FILE and --table T are required");
    if (!*opt->config)
        return cli_usage_error("preview", "%s", "-c: the config's path is empty");
    if (!*opt->table)
        return cli_usage_error("preview", "%s", "--table: the table name is empty");
    return EXIT_OK;
}

int preview_main(int argc, char **argv)
{
    struct preview_options opt = {.limit = 10};
    struct preview p = {.opt = &opt};
    int code;

    log_init(LOG_AUTO, LOG_WARN);
    code = parse_options(argc, argv, &opt);
    if (code != EXIT_OK)
        return code < 0 ? EXIT_OK : code;
    /* as every command with -c: a file or s3://BUCKET/KEY (its help says so) */
    if (!configsrc_load(opt.config, &p.cfg, &p.err)) {
        fprintf(stderr, "%s\nanonetl: %d problem%s in %s\n", p.err.msg, p.err.count,
                p.err.count == 1 ? "" : "s", opt.config);
        return configsrc_failure_exit();
    }
    code = preview_run(&p);
    PQclear(p.res);
    plan_free(p.plan);
    pgconn_close(p.conn);
    hmac_key_free(p.hmac);
    if (p.key.data || p.key.cap)
        abuf_free_secret(&p.key);
    config_free(p.cfg);
    return code;
}
