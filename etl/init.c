/* init.c: `anonetl init`, a starting config from the source catalog (see init.h). */
#include "etl/init.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "anonymise/coverage.h"
#include "etl/cli.h"
#include "etl/exitcode.h"
#include "etl/log.h"
#include "etl/pgconn.h"
#include "etl/version.h"

#define INIT_OUT_MAX ((size_t)64 << 20)

/* Every table and column of the schema, in table then column order. The type is the
 * real one (format_type), for the comment. */
static const char columns_sql[] =
    "SELECT c.relname, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), "
    "       a.attnotnull, COALESCE(a.attnum = ANY (i.indkey), false), "
    "       (SELECT f.confrelid::pg_catalog.regclass::text || '(' || fa.attname || ')' "
    "        FROM pg_catalog.pg_constraint f JOIN pg_catalog.pg_attribute fa "
    "          ON fa.attrelid = f.confrelid "
    "         AND fa.attnum = f.confkey[pg_catalog.array_position(f.conkey, a.attnum)] "
    "        WHERE f.conrelid = c.oid AND f.contype = 'f' AND a.attnum = ANY (f.conkey) "
    "        ORDER BY f.conname LIMIT 1) "
    "FROM pg_catalog.pg_class c "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 "
    "     AND NOT a.attisdropped "
    "LEFT JOIN pg_catalog.pg_index i ON i.indrelid = c.oid AND i.indisprimary "
    "WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition "
    "ORDER BY c.relname, a.attnum";

/* The schema's other relations a config may name (views, materialised views, foreign
 * tables), and tables with no column: not written, but listed in a closing comment so
 * that the data engineer knows they were left out, not missed. */
static const char others_sql[] =
    "SELECT CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialised view' "
    "              WHEN 'f' THEN 'foreign table' ELSE 'table without columns' END, c.relname "
    "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = $1 AND (c.relkind IN ('v', 'm', 'f') OR "
    "      (c.relkind IN ('r', 'p') AND NOT c.relispartition AND NOT EXISTS ("
    "        SELECT FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 "
    "          AND NOT a.attisdropped))) "
    "ORDER BY 1, 2";

/* "schema.table", plain when both parts are plain, else double-quoted as a whole. */
static void table_name(struct abuf *out, const char *schema, const char *table)
{
    struct abuf a, b;

    abuf_init(&a, 4096);
    abuf_init(&b, 4096);
    coverage_yaml_name(&a, schema);
    coverage_yaml_name(&b, table);
    if (a.len && b.len && a.data[0] != '"' && b.data[0] != '"') {
        abuf_printf(out, "%s.%s", abuf_cstr(&a), abuf_cstr(&b));
    } else {
        abuf_reset(&a);
        abuf_printf(&a, "%s.%s", schema, table);
        coverage_yaml_name(out, abuf_cstr(&a));
    }
    abuf_free(&a);
    abuf_free(&b);
}

/* A comment must stay on one line. */
static void comment_text(struct abuf *out, const char *s)
{
    for (; *s; s++)
        abuf_putc(out, (*s == '\n' || *s == '\r') ? ' ' : *s);
}

static void header(struct abuf *out, const char *schema, size_t n_tables)
{
    char when[32];
    time_t now = time(NULL);
    struct tm tm;

    gmtime_r(&now, &tm);
    strftime(when, sizeof(when), "%Y-%m-%d", &tm);
    abuf_printf(out,
                "# anonetl config written by `anonetl init` (anonetl %s) on %s\n"
                "# from the source schema \"",
                ANONETL_VERSION, when);
    comment_text(out, schema);
    abuf_printf(out,
                "\": %zu table%s.\n"
                "#\n"
                "# Safe by default: every column is `suppress` (published as NULL), except\n"
                "# primary key columns, which are hashed (hash_int for integer keys, hash\n"
                "# otherwise) so rows stay distinct and joins survive. Each column's source\n"
                "# type is in its comment; a column marked \"references t(k)\" joins t's key:\n"
                "# give it the same rule as that key (hash_int, same namespace) to keep the\n"
                "# join. Loosen rules one column at a time, deliberately:\n"
                "#   anonetl explain -c FILE     what each column becomes\n"
                "#   anonetl preview -c FILE --table T   before/after on sampled rows\n"
                "#   anonetl check -c FILE --source      coverage and PII warnings\n"
                "# Secrets come from the environment; set these before a run:\n"
                "#   SOURCE_DATABASE_URL  TARGET_DATABASE_URL  ANONETL_HASH_KEY (>= 32 bytes)\n"
                "version: 1\n"
                "\n"
                "source:\n"
                "  dsn: { env: SOURCE_DATABASE_URL }      # a libpq connection string or URI\n"
                "\n"
                "target:\n"
                "  dsn: { env: TARGET_DATABASE_URL }\n"
                "  schema: anonymised\n"
                "  # grant_select_to: [data_team]        # roles that may read the "
                "published tables\n"
                "\n"
                "secrets:\n"
                "  hash_key: { env: ANONETL_HASH_KEY }    # >= 32 bytes, e.g. openssl rand "
                "-hex 32\n"
                "\n"
                "tables:\n",
                n_tables, n_tables == 1 ? "" : "s");
}

static size_t count_tables(PGresult *res)
{
    size_t n = 0;

    for (int r = 0; r < PQntuples(res); r++)
        if (r == 0 || strcmp(PQgetvalue(res, r, 0), PQgetvalue(res, r - 1, 0)) != 0)
            n++;
    return n;
}

/* The config's table name is "schema.table", split at the one dot. */
static bool name_expressible(const char *schema, const char *table)
{
    return !strchr(schema, '.') && !strchr(table, '.');
}

/* Rows [from, to) of one table: "      name: rule" padded so the comments line up. */
static void write_columns(PGresult *res, int from, int to, struct abuf *out)
{
    size_t width = 0;
    struct abuf line;

    abuf_init(&line, 1 << 16);
    for (int pass = 0; pass < 2; pass++) {
        for (int r = from; r < to; r++) {
            struct coverage_column c = {.name = PQgetvalue(res, r, 1),
                                        .type = PQgetvalue(res, r, 2),
                                        .primary_key = PQgetvalue(res, r, 4)[0] == 't'};
            const char *fk = PQgetisnull(res, r, 5) ? NULL : PQgetvalue(res, r, 5);
            abuf_reset(&line);
            abuf_puts(&line, "      ");
            coverage_yaml_name(&line, c.name);
            abuf_printf(&line, ": %s", coverage_default_rule(&c));
            if (pass == 0) {
                width = line.len > width ? line.len : width;
                continue;
            }
            abuf_append(out, line.data, line.len);
            abuf_printf(out, "%*s# ", (int)(width - line.len + 2), "");
            comment_text(out, c.type);
            if (c.primary_key)
                abuf_puts(out, ", primary key");
            else if (PQgetvalue(res, r, 3)[0] == 't')
                abuf_puts(out, ", not null");
            if (fk) {
                abuf_puts(out, ", references ");
                comment_text(out, fk);
            }
            abuf_putc(out, '\n');
        }
    }
    abuf_free(&line);
}

static void write_tables(PGresult *res, const char *schema, struct abuf *out, size_t *skipped)
{
    int n = PQntuples(res);

    for (int r = 0; r < n;) {
        const char *table = PQgetvalue(res, r, 0);
        int end = r;
        while (end < n && strcmp(PQgetvalue(res, end, 0), table) == 0)
            end++;
        if (!name_expressible(schema, table)) {
            abuf_puts(out, "  # skipped: a table whose schema or name holds a dot cannot be "
                           "named in this config: ");
            comment_text(out, table);
            abuf_putc(out, '\n');
            (*skipped)++;
            r = end;
            continue;
        }
        abuf_puts(out, "\n  - name: ");
        table_name(out, schema, table);
        abuf_puts(out, "\n    columns:\n");
        write_columns(res, r, end, out);
        r = end;
    }
}

/* -o FILE: created, never overwritten unless --force. */
static int write_output(const char *path, bool force, const struct abuf *text)
{
    FILE *f = stdout;
    int fd;

    if (path) {
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | (force ? 0 : O_EXCL), 0640);
        if (fd < 0) {
            fprintf(stderr, "anonetl init: %s: %s%s\n", path, strerror(errno),
                    errno == EEXIST ? " (use --force to overwrite)" : "");
            return EXIT_USAGE;
        }
        f = fdopen(fd, "w");
        if (!f) {
            close(fd);
            fprintf(stderr, "anonetl init: %s: %s\n", path, strerror(errno));
            return EXIT_INTERNAL;
        }
    }
    fwrite(text->data, 1, text->len, f);
    if (fflush(f) != 0 || ferror(f)) {
        fprintf(stderr, "anonetl init: writing %s failed\n", path ? path : "stdout");
        if (path)
            fclose(f);
        else
            clearerr(stdout); /* said: main's own check of stdout need not say it again */
        return EXIT_INTERNAL;
    }
    if (path && fclose(f) != 0) {
        fprintf(stderr, "anonetl init: writing %s failed\n", path);
        return EXIT_INTERNAL;
    }
    return EXIT_OK;
}

static void write_others(PGresult *res, const char *schema, struct abuf *out)
{
    int n = res ? PQntuples(res) : 0;

    if (n == 0)
        return;
    abuf_puts(out, "\n# Not written (init writes tables; name one here by hand, with a rule per\n"
                   "# column, if the data team needs it):\n");
    for (int r = 0; r < n && r < 500; r++) {
        abuf_printf(out, "#   %s ", PQgetvalue(res, r, 0));
        comment_text(out, schema);
        abuf_putc(out, '.');
        comment_text(out, PQgetvalue(res, r, 1));
        abuf_putc(out, '\n');
    }
    if (n > 500)
        abuf_printf(out, "#   ... and %d more\n", n - 500);
}

static int generate(const char *dsn, const char *schema, const char *path, bool force)
{
    struct cfg_db db = {.dsn = {.kind = CFG_SECRET_LITERAL, .ref = (char *)dsn}};
    const char *params[1] = {schema};
    struct anon_error err = {0};
    struct abuf out;
    PGresult *res, *others;
    PGconn *conn;
    size_t skipped = 0, n_tables;
    int code;

    conn = pgconn_open(&db, "source", &err);
    if (!conn) {
        fprintf(stderr, "anonetl init: %s\n", err.msg);
        return EXIT_SOURCE;
    }
    res = pgconn_query(conn, columns_sql, 1, params, PGRES_TUPLES_OK, &err);
    others = res ? pgconn_query(conn, others_sql, 1, params, PGRES_TUPLES_OK, &err) : NULL;
    pgconn_close(conn);
    if (!res || !others) {
        fprintf(stderr, "anonetl init: %s\n", err.msg);
        PQclear(res);
        return EXIT_SOURCE;
    }
    n_tables = count_tables(res);
    if (n_tables == 0) {
        fprintf(stderr, "anonetl init: schema \"%s\" has no tables this role can see\n", schema);
        PQclear(res);
        PQclear(others);
        return EXIT_USAGE;
    }
    abuf_init(&out, INIT_OUT_MAX);
    header(&out, schema, n_tables);
    write_tables(res, schema, &out, &skipped);
    write_others(others, schema, &out);
    PQclear(res);
    PQclear(others);
    if (abuf_failed(&out)) {
        fprintf(stderr, "anonetl init: the config would be larger than %zu bytes\n", INIT_OUT_MAX);
        abuf_free(&out);
        return EXIT_INTERNAL;
    }
    code = write_output(path, force, &out);
    abuf_free(&out);
    if (code == EXIT_OK && path)
        fprintf(stderr, "anonetl init: wrote %s (%zu tables%s)\n", path, n_tables - skipped,
                skipped ? ", some skipped: see the comments" : "");
    return code;
}

int init_main(int argc, char **argv)
{
    const char *dsn = NULL, *schema = "public", *path = NULL, *v;
    struct cli_parser p;
    bool force = false;
    int c;

    log_init(LOG_AUTO, LOG_WARN);
    cli_parser_init(&p, "init", argc, argv);
    while ((c = cli_next(&p, &v)) > 0) {
        switch (c) {
        case 'd':
            dsn = v;
            break;
        case 's':
            schema = v;
            break;
        case 'o':
            path = v;
            break;
        case 'f':
            force = true;
            break;
        }
    }
    if (c != CLI_DONE)
        return c == CLI_SHOWN_HELP ? EXIT_OK : EXIT_USAGE;
    /* A DSN with a password on the command line shows in `ps`: the environment is better. */
    if (!dsn)
        dsn = getenv("SOURCE_DATABASE_URL");
    if (!dsn || !*dsn)
        return cli_usage_error("init", "%s",
                               "--source-dsn DSN (or $SOURCE_DATABASE_URL) is required");
    if (!*schema) /* it said the DSN was missing */
        return cli_usage_error("init", "%s", "--schema: the schema's name is empty");
    if (config_system_schema(schema))
        return cli_usage_error("init", "--schema: %s", CONFIG_SYSTEM_SCHEMA_SOURCE);
    if (path && !*path) /* it said ": No such file or directory" */
        return cli_usage_error("init", "%s", "-o: the file's path is empty");
    return generate(dsn, schema, path, force);
}
