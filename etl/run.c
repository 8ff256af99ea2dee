/*
 * run.c: one run, start to finish (see run.h).
 *
 * Order matters for "a failed run loses nothing": everything that can be checked
 * without writing (config, key, lock, preflight, source catalog vs rules) is checked
 * before the first versioned table is created, and nothing is visible to the data team
 * until publish_all commits. A run that dies anywhere leaves only unreferenced tables in
 * anonetl_data, which the next run drops (target_cleanup).
 */
#include "etl/run.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "anonymise/hmac.h"
#include "anonymise/keystrength.h"
#include "anonymise/pii.h"
#include "etl/audit.h"
#include "etl/configsrc.h"
#include "etl/exitcode.h"
#include "etl/inherits.h"
#include "etl/log.h"
#include "etl/metrics.h"
#include "etl/pgconn.h"
#include "etl/piicheck.h"
#include "etl/preflight.h"
#include "etl/increment.h"
#include "etl/keycheck.h"
#include "etl/publish.h"
#include "etl/secret.h"
#include "etl/sourcesnap.h"
#include "etl/stopsig.h"
#include "etl/target.h"
#include "etl/worker.h"

struct run {
    const struct config *cfg;
    const struct run_options *opt;
    struct abuf key;
    struct hmac_key *hmac;
    char key_fingerprint[17];
    char config_fingerprint[65];
    PGconn *target;
    bool locked; /* target_try_lock took the run lock */
    struct source_snapshot *source;
    struct increment_clock clock; /* incremental windows: the source's clock */
    int64_t run_id;
    struct publish_table *tables;
    struct table_plan **key_plans; /* key projections for key_scan, by table */
    size_t n_tables;
    time_t started;
    double deadline;     /* run.max_runtime, CLOCK_MONOTONIC seconds; 0 = none */
    struct audit *audit; /* run.audit: the leak audit, or NULL */
    struct anon_error err;
};

static void hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

/* The key: resolved, checked (keystrength.h), prepared; only its fingerprint prefix ever
 * leaves here. The raw key lives only until the end of load_key: once the HMAC states
 * are prepared, its bytes are wiped, and a key read from the environment is wiped from
 * the process environment too (it would otherwise stay in /proc/self/environ). */
static int load_key(struct run *r)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    int code = EXIT_USAGE;
    enum secret_failure why;

    abuf_init(&r->key, 0);
    if (!secret_resolve(&r->cfg->hash_key, "secrets.hash_key", &r->key, &why, &r->err)) {
        code = secret_failure_exit(why);
        goto out;
    }
    if (!keystrength_ok((const unsigned char *)r->key.data, r->key.len, "secrets.hash_key",
                        &r->err))
        goto out;
    r->hmac = hmac_key_new((const unsigned char *)r->key.data, r->key.len, &r->err);
    if (!r->hmac)
        goto out;
    EVP_Digest(r->key.data, r->key.len, md, &mdlen, EVP_sha256(), NULL);
    hex(md, 8, r->key_fingerprint);
    OPENSSL_cleanse(md, sizeof(md));
    hex(r->cfg->fingerprint, 32, r->config_fingerprint);
    code = EXIT_OK;
out:
    abuf_free_secret(&r->key);
    secret_forget_env(&r->cfg->hash_key);
    return code;
}

/* The lock first: two runs bootstrapping a fresh target at once would race on its
 * catalog ("tuple concurrently updated"); the second must be a clean skip (exit 7). */
static int connect_target(struct run *r)
{
    r->target = pgconn_open(&r->cfg->target.db, "target", &r->err);
    if (!r->target)
        return EXIT_TARGET;
    switch (target_try_lock(r->target, &r->err)) {
    case TARGET_LOCK_TAKEN:
        r->locked = true;
        break;
    case TARGET_LOCK_BUSY:
        anon_error_set(&r->err, "another anonetl run holds the lock on the target: skipped");
        return EXIT_LOCKED;
    case TARGET_LOCK_ERROR:
        return EXIT_TARGET;
    }
    return target_bootstrap(r->target, r->cfg->target.schema, &r->err) ? EXIT_OK : EXIT_TARGET;
}

/* Catalog vs rules for every table, before anything is written. */
static int plan_tables(struct run *r)
{
    struct table_plan **plans = calloc(r->cfg->n_tables + 1, sizeof(*plans));
    struct abuf report;
    enum plan_status st;

    r->tables = calloc(r->cfg->n_tables + 1, sizeof(*r->tables));
    if (!plans || !r->tables) {
        free(plans);
        anon_error_set(&r->err, "out of memory");
        return EXIT_INTERNAL;
    }
    abuf_init(&report, 1 << 20);
    st = plan_all(source_snapshot_conn(r->source), r->cfg, plans, &report);
    for (size_t i = 0; i < r->cfg->n_tables; i++)
        if (plans[i])
            r->tables[r->n_tables++].plan = plans[i];
    free(plans);
    if (st != PLAN_OK) {
        /* one event per problem: the whole report, however long (the error keeps what fits) */
        const char *line = abuf_cstr(&report), *nl;
        for (; *line; line = *nl ? nl + 1 : nl) {
            nl = strchr(line, '\n');
            if (!nl)
                nl = line + strlen(line);
            log_error("config_problem", NULL, "%.*s", (int)(nl - line), line);
        }
        anon_error_set(&r->err, "the rules do not match the source; nothing was copied:\n%s",
                       abuf_cstr(&report));
    }
    abuf_free(&report);
    return plan_exit_code(st);
}

/* Inheritance children read with a table (inherits.h): logged each run, so that a child
 * added after the config was written is seen (check --source says the same). */
static void warn_inheritance(struct run *r)
{
    const struct table_plan **plans = calloc(r->n_tables + 1, sizeof(*plans));
    struct abuf lines;

    if (!plans)
        return;
    for (size_t i = 0; i < r->n_tables; i++)
        plans[i] = r->tables[i].plan;
    abuf_init(&lines, 1 << 20);
    for (size_t i = 0; i < r->n_tables; i++) {
        size_t from = lines.len;
        if (inherits_warn(source_snapshot_conn(r->source), plans, r->n_tables, i, &lines) > 0)
            for (const char *line = abuf_cstr(&lines) + from, *nl; *line;
                 line = *nl ? nl + 1 : nl) {
                nl = strchr(line, '\n');
                if (!nl)
                    nl = line + strlen(line);
                log_warn("inheritance_child", plans[i]->qualified, "%.*s", (int)(nl - line), line);
            }
    }
    abuf_free(&lines);
    free(plans);
}

/* A stop signal (stopsig.h) seen between steps: the run ends, publishing nothing. */
static int stopped(struct run *r, const char *when)
{
    anon_error_set(&r->err, "stopped by %s %s: nothing published", stopsig_name(stopsig_received()),
                   when);
    return EXIT_INTERNAL;
}

/*
 * A keep covers the kind of values it saw. Retyped to another kind since (integer codes
 * become text, where names can be: no detector flags them), it needs a review: one with
 * a reviewed: text the last successful run did not record, as the column's type when that
 * text was recorded, or for a keep without one, as the type it was last published with.
 * One line into lines for each, counted in *n.
 */
static bool review_types(struct run *r, const struct table_plan *plan, struct abuf *lines,
                         size_t *n)
{
    PGconn *src = source_snapshot_conn(r->source);
    size_t *cols = calloc(plan->n_columns + 1, sizeof(*cols)), n_keep = 0;
    const char **whys = calloc(plan->n_columns + 1, sizeof(*whys));
    PGresult *was = NULL;
    bool ok = false;

    if (!cols || !whys) {
        anon_error_set(&r->err, "out of memory");
        goto done;
    }
    for (size_t c = 0; c < plan->n_columns; c++) {
        const struct rule *rule = plan->columns[c].rule;
        if (rule && strcmp(rule->ops->name, "keep") == 0) {
            whys[n_keep] = rule_keep_reviewed(rule);
            cols[n_keep++] = c;
        }
    }
    if (n_keep == 0) {
        ok = true;
        goto done;
    }
    was = target_keep_types(r->target, r->cfg->target.schema, plan, cols, whys, n_keep, &r->err);
    if (!was)
        goto done;
    for (size_t k = 0; k < n_keep; k++) {
        const struct plan_column *col = &plan->columns[cols[k]];
        const char *then = PQgetvalue(was, (int)k, 0), *now = catalog_column_type(col->source);
        int same = then[0] ? catalog_same_kind(src, then, now, &r->err) : 1;
        if (same < 0)
            goto done;
        if (same == 0) {
            abuf_printf(lines,
                        "warning: %s.%s: rule keep%s when the column was %s; it is %s now, and "
                        "may hold values of another kind: review it%s or choose another rule\n",
                        plan->qualified, col->source->name, whys[k] ? " reviewed" : ", published",
                        then, now,
                        whys[k] ? " again (a new `reviewed:` text)"
                                : " (keep: { reviewed: \"why\" })");
            (*n)++;
        }
    }
    ok = true;
done:
    PQclear(was);
    free(cols);
    free(whys);
    return ok;
}

/* keep columns that look like personal data stop the run unless reviewed (piicheck.h),
 * and so do reviewed ones retyped since (review_types). */
static int review_keeps(struct run *r)
{
    PGconn *src = source_snapshot_conn(r->source);
    struct abuf lines;
    size_t n = 0, unchecked = 0;

    abuf_init(&lines, 1 << 20);
    for (size_t i = 0; i < r->n_tables && !stopsig_received(); i++)
        n += piicheck_table(src, r->tables[i].plan, &lines, &unchecked);
    /* a sample cancelled by a stop is not a content check "not done" to warn about */
    if (stopsig_received()) {
        abuf_free(&lines);
        return stopped(r, "during the keep review");
    }
    for (size_t i = 0; i < r->n_tables; i++) {
        if (!review_types(r, r->tables[i].plan, &lines, &n)) {
            abuf_free(&lines);
            return EXIT_TARGET;
        }
    }
    /* refused: errors; otherwise what remains are warnings (json others: keep, notes) */
    for (const char *line = abuf_cstr(&lines), *nl; *line; line = *nl ? nl + 1 : nl) {
        nl = strchr(line, '\n');
        if (!nl)
            nl = line + strlen(line);
        log_emit(n > 0 ? LOG_ERROR : LOG_WARN, n > 0 ? "keep_not_reviewed" : "keep_warning", NULL,
                 NULL, 0, "%.*s", (int)(nl - line), line);
    }
    if (unchecked > 0) { /* the source failed the sample: a review not done, nothing copied */
        anon_error_set(&r->err,
                       "the content of %zu keep column%s could not be checked (the source "
                       "failed the keep review's sample); nothing was copied:\n%s",
                       unchecked, unchecked == 1 ? "" : "s", abuf_cstr(&lines));
        abuf_free(&lines);
        return EXIT_SOURCE;
    }
    if (n > 0) {
        anon_error_set(&r->err,
                       "%zu keep column%s need%s a review (personal-looking, or retyped "
                       "since reviewed); %s; nothing was copied:\n%s",
                       n, n == 1 ? "" : "s", n == 1 ? "s" : "", PIICHECK_ADVICE, abuf_cstr(&lines));
    }
    abuf_free(&lines);
    for (size_t i = 0; n == 0 && i < r->cfg->n_tables; i++) {
        const struct cfg_table *t = &r->cfg->tables[i];
        for (size_t c = 0; c < t->n_columns; c++) {
            size_t pos = 0;
            const char *place, *why;
            while ((why = pii_next_review(&t->columns[c].rule, &pos, &place)) != NULL)
                log_info("keep_reviewed", NULL, "%s.%s.%s%s%s kept as is, reviewed: %s", t->schema,
                         t->name, t->columns[c].name, place ? " json " : "", place ? place : "",
                         why);
        }
    }
    return n > 0 ? EXIT_POLICY : EXIT_OK;
}

static void log_table_summary(const struct publish_table *t)
{
    struct log_field f[] = {
        LF_INT("rows_read", t->stats.rows_read),
        LF_INT("rows_written", t->stats.rows_written),
        LF_INT("rows_filtered", t->rows_filtered),
        LF_INT("elapsed_ms", (int64_t)(t->stats.elapsed_s * 1000)),
        LF_INT("rows_per_s", t->stats.elapsed_s > 0
                                 ? (int64_t)((double)t->stats.rows_read / t->stats.elapsed_s)
                                 : 0),
        LF_INT("copy_ms", (int64_t)(t->stats.elapsed_s * 1000)),
        LF_INT("index_ms", (int64_t)(t->index_s * 1000)),
        LF_INT("analyze_ms", (int64_t)(t->analyze_s * 1000)),
        LF_INT("pieces", t->n_chunks), /* incremental: pieces of changed rows merged */
    };
    log_emit(LOG_INFO, "table_done", t->plan->qualified, f, t->kind == PUBLISH_MERGE ? 9 : 8,
             t->kind == PUBLISH_MERGE ? "copied and merged" : "copied");
    metrics_table(t->plan->qualified, t->stats.rows_read, t->stats.rows_written, t->rows_filtered,
                  t->stats.elapsed_s);
}

/* Values a rule published as NULL because it could not finish them (a scrub pattern past
 * PCRE2's match limit): a warning per column, naming where the rule is written. */
static void warn_withheld(const struct run *r)
{
    struct abuf lines;
    const char *line, *end;

    abuf_init(&lines, 1 << 20);
    for (size_t i = 0; i < r->n_tables; i++) {
        const struct table_plan *p = r->tables[i].plan;
        abuf_reset(&lines);
        if (!plan_withheld_report(p, r->cfg->path, (size_t)(p->cfg - r->cfg->tables), &lines))
            continue;
        for (line = abuf_cstr(&lines); (end = strchr(line, '\n')) != NULL; line = end + 1)
            log_warn("values_withheld", p->qualified, "%.*s", (int)(end - line), line);
    }
    abuf_free(&lines);
}

/* On a terminal, a readable summary after the run (JSON logs carry table_done events). */
static void print_summary(const struct run *r, double elapsed_s)
{
    if (!log_is_terminal())
        return;
    fprintf(stderr, "\n%-32s %12s %12s %10s %9s %12s\n", "TABLE", "READ", "WRITTEN", "FILTERED",
            "ELAPSED", "ROWS/S");
    for (size_t i = 0; i < r->n_tables; i++) {
        const struct publish_table *t = &r->tables[i];
        fprintf(stderr, "%-32s %12llu %12llu %10llu %8.2fs %12.0f\n", t->plan->qualified,
                (unsigned long long)t->stats.rows_read, (unsigned long long)t->stats.rows_written,
                (unsigned long long)t->rows_filtered, t->stats.elapsed_s,
                t->stats.elapsed_s > 0 ? (double)t->stats.rows_read / t->stats.elapsed_s : 0.0);
    }
    fprintf(stderr, "published %zu table%s to schema %s in %.2fs (run %lld)\n", r->n_tables,
            r->n_tables == 1 ? "" : "s", r->cfg->target.schema, elapsed_s, (long long)r->run_id);
}

static char *dup_sql(struct abuf *b)
{
    char *s = b->len && !abuf_failed(b) ? strdup(abuf_cstr(b)) : NULL;

    abuf_free(b);
    return s;
}

#define MAX_PIECES 16

static int jobs_of(const struct run *r);

/* Rows above which a swapped table is split into key ranges copied in parallel
 * (ANONETL_SPLIT_ROWS overrides, for tests and tuning). */
static double split_rows(void)
{
    const char *env = getenv("ANONETL_SPLIT_ROWS");
    char *end;
    double v;

    if (env && *env) {
        v = strtod(env, &end);
        if (*end == '\0' && v > 0)
            return v;
    }
    return 2e6;
}

/* lo + i * step without a signed overflow (the last range's end, unused, can pass
 * LLONG_MAX; the others lie within [lo, hi]). */
static long long range_bound(long long lo, long long step, int i)
{
    return (long long)((unsigned long long)lo + (unsigned long long)i * (unsigned long long)step);
}

/*
 * Split a large table with a single integer key into key ranges, one task each, so
 * several workers copy it at once (each range is one COPY into the same new table).
 * The ranges come from min/max of the key in the snapshot; with a skewed key some
 * ranges are larger, which only costs balance, never correctness.
 */
static int split_task(struct run *r, struct copy_task *first, struct copy_task *tasks,
                      size_t *n_tasks, int jobs)
{
    const struct table_plan *plan = first->table->plan;
    const struct plan_column *key;
    PGconn *src = source_snapshot_conn(r->source);
    struct abuf sql;
    PGresult *res;
    long long lo, hi, step;
    char *base;
    int pieces = jobs * 2 > MAX_PIECES ? MAX_PIECES : jobs * 2;

    /* Unsplit: the task creates, loads and keys the table in one transaction. */
    first->create = true;
    if (jobs < 2 || plan->n_key != 1 || plan->catalog->est_rows < split_rows())
        return EXIT_OK;
    key = &plan->columns[plan->key_columns[0]];
    if (strcmp(key->source->type, "bigint") != 0 && strcmp(key->source->type, "integer") != 0)
        return EXIT_OK;
    abuf_init(&sql, 1 << 16);
    abuf_puts(&sql, "SELECT pg_catalog.min(");
    pgconn_quote_ident(src, key->source->name, &sql);
    abuf_puts(&sql, ")::bigint, pg_catalog.max(");
    pgconn_quote_ident(src, key->source->name, &sql);
    abuf_puts(&sql, ")::bigint FROM ");
    pgconn_quote_ident(src, plan->cfg->schema, &sql);
    abuf_putc(&sql, '.');
    pgconn_quote_ident(src, plan->cfg->name, &sql);
    res = abuf_failed(&sql) ? NULL
                            : pgconn_query(src, abuf_cstr(&sql), 0, NULL, PGRES_TUPLES_OK, &r->err);
    if (!res) {
        abuf_free(&sql);
        return EXIT_SOURCE;
    }
    if (PQgetisnull(res, 0, 0)) {
        PQclear(res);
        abuf_free(&sql);
        return EXIT_OK;
    }
    /* Split: the pieces are read in parallel but written through one target connection,
     * in the transaction that creates the table (worker.c, shared loads): COPY FREEZE
     * then makes every row visible to snapshots older than the publish, as for an
     * unsplit table. Rows loaded by other transactions would be invisible to them: a
     * reader whose snapshot predates the publish would find the new version empty. */
    first->create = false;
    first->shared = true;
    lo = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    hi = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
    PQclear(res);
    /* in unsigned arithmetic: hi - lo of keys spread over the whole bigint range (random
     * 64-bit ids, -9e18 to 9e18) passes LLONG_MAX, a signed overflow (undefined; the
     * ranges then held by chance) */
    step = (long long)(((unsigned long long)hi - (unsigned long long)lo) / (unsigned)pieces + 1);
    base = first->where; /* the table's own condition, ANDed to every range */
    first->size /= pieces;
    for (int i = 0; i < pieces; i++) {
        struct copy_task *t = i == 0 ? first : &tasks[(*n_tasks)++];
        long long from = range_bound(lo, step, i), to = range_bound(lo, step, i + 1);
        if (i > 0)
            *t = *first;
        abuf_reset(&sql);
        if (base)
            abuf_printf(&sql, "(%s) AND ", base);
        pgconn_quote_ident(src, key->source->name, &sql);
        abuf_printf(&sql, " >= %lld AND ", from);
        pgconn_quote_ident(src, key->source->name, &sql);
        if (i == pieces - 1)
            abuf_printf(&sql, " <= %lld", hi);
        else
            abuf_printf(&sql, " < %lld", to);
        t->where = strdup(abuf_cstr(&sql));
    }
    free(base);
    first->table->pieces_left = pieces;
    abuf_free(&sql);
    log_info("split", plan->qualified, "copied in %d key ranges", pieces);
    return EXIT_OK;
}

/*
 * A stream of keys (after their rules) into a staging table `name`: every source key
 * (key_scan deletes, window NULL), or the keys of the window's rows that fail `where:`.
 */
static int add_keys_task(struct run *r, struct publish_table *t, struct copy_task *tasks,
                         size_t *n_tasks, const char *tag, char name[TARGET_NAME_MAX],
                         struct abuf *window)
{
    const struct table_plan *plan = t->plan;
    struct table_plan **keys = &r->key_plans[t - r->tables];
    struct copy_task *task = &tasks[(*n_tasks)++];

    memset(task, 0, sizeof(*task));
    task->table = t;
    task->keys_only = true;
    task->size = plan->catalog->est_rows * 16.0;
    if (!*keys)
        *keys = plan_project(plan, plan->key_columns, plan->n_key);
    if (!(task->plan = *keys)) {
        anon_error_set(&r->err, "out of memory");
        return EXIT_INTERNAL;
    }
    if (window) {
        task->failing_where = true;
        task->where = window->len ? strdup(abuf_cstr(window)) : NULL;
        if (window->len && !task->where) {
            anon_error_set(&r->err, "out of memory");
            return EXIT_INTERNAL;
        }
    }
    t->pieces_left++;
    target_run_table_name(plan, r->run_id, tag, name);
    snprintf(task->dest, sizeof(task->dest), "%s", name);
    return target_create_staging(r->target, task->plan, name, &r->err) ? EXIT_OK : EXIT_TARGET;
}

/*
 * " AND NOT EXISTS (a row that publishes holds this row's key)": for the rows of a window
 * that take their key out of the published table (soft-deleted, or failing `where:`).
 * When the source key is not unique over every row (`key: [email]`, unique only among
 * rows not deleted: a partial index), a deleted account's e-mail may belong to a new
 * one: its row touched again must not take the new account's published row out. Inside
 * the subquery the table's columns (and `where:`) are the other row's, x.
 */
static void unless_key_published(PGconn *src, const struct table_plan *plan, struct abuf *out)
{
    const struct cfg_table *t = plan->cfg;
    struct abuf table;

    abuf_init(&table, 4096);
    pgconn_quote_ident(src, t->schema, &table);
    abuf_putc(&table, '.');
    pgconn_quote_ident(src, t->name, &table);
    abuf_printf(out, " AND NOT EXISTS (SELECT 1 FROM %s x WHERE ", abuf_cstr(&table));
    for (size_t k = 0; k < plan->n_key; k++) {
        const char *name = plan->columns[plan->key_columns[k]].source->name;
        abuf_puts(out, k ? " AND x." : "x.");
        pgconn_quote_ident(src, name, out);
        abuf_printf(out, " = %s.", abuf_cstr(&table));
        pgconn_quote_ident(src, name, out);
    }
    if (t->where)
        abuf_printf(out, " AND (%s)", t->where);
    if (t->deletes == CFG_DELETES_SOFT) {
        abuf_puts(out, " AND NOT COALESCE(x.");
        pgconn_quote_ident(src, t->deleted_column, out);
        abuf_puts(out, ", false)");
    }
    abuf_putc(out, ')');
    if (abuf_failed(&table))
        out->failed = true;
    abuf_free(&table);
}

/* The window's read for a merge: every changed row, but a soft-deleted one only when no
 * row that publishes holds its key (unless_key_published). */
static char *merge_window(PGconn *src, const struct publish_table *t, struct abuf *window)
{
    const struct cfg_table *c = t->plan->cfg;
    struct abuf sql;
    char *out;

    if (t->source_key_unique || c->deletes != CFG_DELETES_SOFT)
        return window->len && !abuf_failed(window) ? strdup(abuf_cstr(window)) : NULL;
    abuf_init(&sql, 1 << 20);
    if (window->len)
        abuf_printf(&sql, "(%s) AND ", abuf_cstr(window));
    abuf_puts(&sql, "(NOT COALESCE(");
    pgconn_quote_ident(src, c->deleted_column, &sql);
    abuf_puts(&sql, ", false) OR (true");
    unless_key_published(src, t->plan, &sql);
    abuf_puts(&sql, "))");
    out = abuf_failed(&sql) ? NULL : strdup(abuf_cstr(&sql));
    abuf_free(&sql);
    return out;
}

/* Decide swap or merge for one table and append its copy tasks. */
static int prepare_table(struct run *r, struct publish_table *t, struct copy_task *tasks,
                         size_t *n_tasks)
{
    const struct table_plan *plan = t->plan;
    PGconn *src = source_snapshot_conn(r->source);
    struct table_state st;
    const char *reload;
    struct abuf where;
    struct copy_task *task;
    int code;

    hex(plan->cfg->fingerprint, 32, t->fingerprint_hex);
    /* in the snapshot: a rewrite committed after it is seen by the next run */
    if (plan->cfg->mode == CFG_MODE_INCREMENTAL &&
        !increment_source_storage(src, plan, &t->source_storage, &r->err))
        return EXIT_SOURCE;
    if (!increment_read_state(r->target, r->cfg->target.schema, plan, t->source_storage, &st,
                              &r->err))
        return EXIT_TARGET;
    reload = increment_reload_reason(plan, &st, t->fingerprint_hex, r->key_fingerprint,
                                     r->opt->full_refresh);
    if (!reload && plan->cfg->mode == CFG_MODE_INCREMENTAL) { /* else no need to look */
        if (!increment_check_new_relations(src, plan, &st, &r->err) ||
            !increment_check_sequences(src, plan, &st, &r->err) ||
            !increment_check_zone(&r->clock, plan, &st, &r->err))
            return EXIT_SOURCE;
        reload = increment_reload_reason(plan, &st, t->fingerprint_hex, r->key_fingerprint,
                                         r->opt->full_refresh);
    }
    /* A reload starts the marks afresh unless they come from this same watermark of an
     * unchanged source (a reload for want of a mark, a new hash key): earlier runs' marks
     * describe what it replaces. Of another watermark column, a timestamp read as an id
     * ("2026-12-07" as 2026); a local time of the old zone; after TRUNCATE ... RESTART IDENTITY or
     * ALTER SEQUENCE ... RESTART, ids below them are handed out again: a bound kept at them never
     * reads those rows. --full-refresh too, the way out after a setval() back. */
    if (reload && (strcmp(st.fingerprint, t->fingerprint_hex) != 0 || st.layout_change[0] ||
                   st.storage_change[0] || st.zone_change[0] || r->opt->full_refresh)) {
        st.high_water_mark[0] = '\0';
        st.marks[0] = '\0';
    }
    if (plan->cfg->mode == CFG_MODE_INCREMENTAL) {
        struct increment_bound bound;
        if (!increment_upper_bound(&r->clock, plan, &st, &bound, &r->err))
            return EXIT_SOURCE;
        snprintf(t->high_water_mark, sizeof(t->high_water_mark), "%s", bound.upper);
        snprintf(t->watermark_marks, sizeof(t->watermark_marks), "%s", bound.marks);
        if (bound.held[0])
            log_info("window_held", plan->qualified, "%s", bound.held);
    }
    abuf_init(&where, 1 << 16);
    task = &tasks[(*n_tasks)++];
    memset(task, 0, sizeof(*task));
    task->table = t;
    task->plan = plan;
    task->size = plan->catalog->est_bytes;
    t->pieces_left = 1;
    if (reload) {
        t->kind = PUBLISH_SWAP;
        if (plan->cfg->k_anonymity) {
            /* Loaded into a base, the published version is written from it
             * (kanon_apply.h); a full refresh's base only lives for this run. */
            target_run_table_name(plan, r->run_id, "-base", t->version_name);
            task->unlogged = plan->cfg->mode != CFG_MODE_INCREMENTAL;
        } else {
            target_version_name(plan, r->run_id, t->version_name);
        }
        snprintf(task->dest, sizeof(task->dest), "%s", t->version_name);
        if (plan->cfg->deletes == CFG_DELETES_SOFT) {
            abuf_puts(&where, "NOT COALESCE(");
            pgconn_quote_ident(src, plan->cfg->deleted_column, &where);
            abuf_puts(&where, ", false)");
        }
        if (plan->cfg->mode == CFG_MODE_INCREMENTAL)
            log_info("full_reload", plan->qualified, "full reload: %s", reload);
        task->where = dup_sql(&where);
        return split_task(r, task, tasks, n_tasks, jobs_of(r));
    }
    t->kind = PUBLISH_MERGE;
    if (plan->key_digest)
        target_run_table_name(plan, r->run_id, "-pending", t->pending_name);
    /* merged into the published version, or with k-anonymity into its base */
    snprintf(t->version_name, sizeof(t->version_name), "%s",
             st.base_table[0] ? st.base_table : st.version_table);
    task->chunked = true; /* merged piece by piece while the copy goes on */
    target_pieces_name(plan, r->run_id, t->pieces_name);
    /* Every change in the snapshot after the previous mark: the new mark only says where
     * the next run starts again (increment.h). */
    increment_window_sql(src, plan, st.high_water_mark, NULL, &where);
    task->where = where.len && !abuf_failed(&where) ? strdup(abuf_cstr(&where)) : NULL;
    switch (keycheck_window(src, plan, task->where, &t->source_key_unique, &r->err)) {
    case KEYCHECK_OK:
        break;
    case KEYCHECK_DUPLICATE:
        abuf_free(&where);
        return EXIT_POLICY;
    case KEYCHECK_ERROR:
        abuf_free(&where);
        return EXIT_SOURCE;
    }
    free(task->where);
    task->where = merge_window(src, t, &where);
    /* rows leaving `where:` take their key out unless a row that publishes holds it */
    if (!t->source_key_unique && where.len)
        unless_key_published(src, plan, &where);
    log_info("incremental", plan->qualified, "changes after %s (the next run reads after %s)",
             st.high_water_mark, t->high_water_mark[0] ? t->high_water_mark : "(no mark)");
    /* Rows of the window that no longer pass `where:` (they carry a new watermark, since
     * the change that made them fail it): their keys, to take them out of the published
     * table in the publish transaction. */
    code = plan->cfg->where ? add_keys_task(r, t, tasks, n_tasks, "-gone", t->gone_name, &where)
                            : EXIT_OK;
    abuf_free(&where);
    /* key_scan: every source key, after its rules, into a table of keys. */
    if (code == EXIT_OK && plan->cfg->deletes == CFG_DELETES_KEY_SCAN)
        code = add_keys_task(r, t, tasks, n_tasks, "-keys", t->keys_name, NULL);
    return code;
}

static int jobs_of(const struct run *r)
{
    return r->opt->jobs ? r->opt->jobs : (r->cfg->run.jobs ? r->cfg->run.jobs : 1);
}

static void free_tasks(struct copy_task *tasks, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(tasks[i].where);
    free(tasks);
}

/*
 * With incremental tables, the leader merges their pieces of changed rows in the
 * publish transaction while the workers copy (see worker.h); otherwise the copy simply
 * runs to its end.
 */
static int copy_and_merge(struct run *r, const struct worker_setup *ws, struct copy_task *tasks,
                          size_t n_tasks, struct publish_request *pub)
{
    struct worker_pool *pool;
    struct worker_chunk chunk;
    struct anon_error err;
    bool merges = false;

    for (size_t i = 0; i < n_tasks; i++)
        merges = merges || tasks[i].chunked;
    if (!merges)
        return worker_run_all(ws, tasks, n_tasks, &r->err);
    if (!publish_begin(r->target, pub, &r->err))
        return EXIT_TARGET;
    if (!(pool = worker_start(ws, tasks, n_tasks, &r->err)))
        return EXIT_INTERNAL;
    anon_error_clear(&err);
    while (worker_next_chunk(pool, &chunk)) {
        bool ok = publish_merge_chunk(r->target, chunk.table, chunk.data, chunk.len, &err);
        worker_chunk_free(&chunk);
        if (!ok) {
            worker_stop(pool, chunk.table->duplicate_keys ? EXIT_POLICY : EXIT_TARGET, &err);
            break;
        }
    }
    return worker_finish(pool, &r->err);
}

/* run.audit: sample the source in the run's snapshot, before any row moves (audit.h). */
static int start_audit(struct run *r)
{
    const struct table_plan **plans = calloc(r->n_tables + 1, sizeof(*plans));
    struct rule_ctx ctx = {.key = NULL, /* wiped: the prepared states only */
                           .key_len = 0,
                           .hmac = r->hmac,
                           .run_time = r->started};

    for (size_t i = 0; plans && i < r->n_tables; i++)
        plans[i] = r->tables[i].plan;
    r->audit = plans ? audit_new(plans, r->n_tables, r->cfg->run.audit->sample) : NULL;
    free(plans);
    if (!r->audit) {
        anon_error_set(&r->err, "out of memory");
        return EXIT_INTERNAL;
    }
    if (!audit_sample(r->audit, source_snapshot_conn(r->source), &ctx, &r->err))
        return EXIT_SOURCE;
    log_emit(LOG_INFO, "audit_sampled", NULL,
             (struct log_field[]){LF_INT("sampled", audit_sampled(r->audit))}, 1,
             "leak audit: %llu source values sampled", (unsigned long long)audit_sampled(r->audit));
    return EXIT_OK;
}

/* After the copy, before the publish: a sampled value in the new data stops the run. */
static int finish_audit(struct run *r)
{
    struct abuf report;
    uint64_t hits = audit_hits(r->audit);

    log_emit(hits ? LOG_ERROR : LOG_INFO, "audit_done", NULL,
             (struct log_field[]){LF_INT("sampled", audit_sampled(r->audit)), LF_INT("hits", hits)},
             2, "leak audit: %llu hit%s", (unsigned long long)hits, hits == 1 ? "" : "s");
    if (hits == 0)
        return audit_record(r->target, r->run_id, r->audit, &r->err) ? EXIT_OK : EXIT_TARGET;
    abuf_init(&report, sizeof(r->err.msg));
    audit_report(r->audit, &report);
    anon_error_set(&r->err, "%s; nothing was published", abuf_cstr(&report));
    abuf_free(&report);
    return EXIT_POLICY;
}

static int copy_tables(struct run *r, struct publish_request *pub)
{
    struct copy_task *tasks = calloc((2 + MAX_PIECES) * r->n_tables + 1, sizeof(*tasks));
    struct worker_setup ws = {
        .cfg = r->cfg,
        .snapshot = r->source,
        .leader_target = r->target,
        .key = NULL, /* wiped: the rules use the prepared states (hmac) only */
        .key_len = 0,
        .hmac = r->hmac,
        .run_time = r->started,
        .run_id = r->run_id,
        .jobs = jobs_of(r),
        .deadline = r->deadline,
    };
    size_t n_tasks = 0;
    int code = EXIT_OK;

    r->key_plans = calloc(r->n_tables + 1, sizeof(*r->key_plans));
    if (!tasks || !r->key_plans) {
        free(tasks);
        anon_error_set(&r->err, "out of memory");
        return EXIT_INTERNAL;
    }
    for (size_t i = 0; i < r->n_tables && code == EXIT_OK; i++)
        code = prepare_table(r, &r->tables[i], tasks, &n_tasks);
    if (code == EXIT_OK && r->cfg->run.audit)
        code = start_audit(r);
    ws.audit = r->audit;
    if (code == EXIT_OK)
        code = copy_and_merge(r, &ws, tasks, n_tasks, pub);
    if (code == EXIT_OK)
        for (size_t i = 0; i < r->n_tables && code == EXIT_OK; i++)
            if (!source_snapshot_count_filtered(r->source, r->tables[i].plan,
                                                &r->tables[i].rows_filtered, &r->err))
                code = EXIT_SOURCE;
    free_tasks(tasks, n_tasks);
    return code;
}

/* run.max_runtime: the copy checks it as it goes; the publish does not start past it. */
static bool past_deadline(const struct run *r)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return r->deadline > 0 && (double)now.tv_sec + (double)now.tv_nsec / 1e9 > r->deadline;
}

static int copy_and_publish(struct run *r)
{
    struct target_run_info info = {
        .target_schema = r->cfg->target.schema,
        .config_fingerprint = r->config_fingerprint,
        .config_source =
            configsrc_origin()->description[0] ? configsrc_origin()->description : NULL,
        .key_fingerprint = r->key_fingerprint,
        .key_id = r->cfg->hash_key_id,
        .snapshot = source_snapshot_id(r->source),
    };
    struct publish_request pub;
    char run_label[32];
    int code;

    if (stopsig_received())
        return stopped(r, "before the copy");
    if (!target_run_begin(r->target, &info, &r->run_id, &r->err))
        return EXIT_TARGET;
    for (size_t i = 0; i < r->n_tables; i++)
        if (!target_run_reviews(r->target, r->run_id, r->tables[i].plan, &r->err))
            return EXIT_TARGET;
    snprintf(run_label, sizeof(run_label), "%lld", (long long)r->run_id);
    log_set_run(run_label);
    pub = (struct publish_request){
        .schema = r->cfg->target.schema,
        .grant_select_to = r->cfg->target.grant_select_to,
        .n_grant_select_to = r->cfg->target.n_grant_select_to,
        .retain_unconfigured = r->cfg->target.retain_unconfigured,
        .config_identity = configsrc_origin()->identity[0] ? configsrc_origin()->identity : NULL,
        .run_id = r->run_id,
        .key_fingerprint = r->key_fingerprint,
        .tables = r->tables,
        .n_tables = r->n_tables,
        .target_db = &r->cfg->target.db,
        .statistics_target = r->cfg->target.statistics_target,
    };
    if (!publish_check_names(r->target, &pub, &r->err))
        return EXIT_TARGET;
    if ((code = copy_tables(r, &pub)) != EXIT_OK)
        return code;
    for (size_t i = 0; i < r->n_tables; i++)
        log_table_summary(&r->tables[i]);
    warn_withheld(r);
    if (stopsig_received())
        return stopped(r, "after the copy");
    if (past_deadline(r)) {
        anon_error_set(&r->err, "run.max_runtime exceeded after the copy: stopped, nothing "
                                "published");
        return EXIT_INTERNAL;
    }
    if (r->audit && (code = finish_audit(r)) != EXIT_OK)
        return code;
    if (publish_all(r->target, &pub, &r->err))
        return EXIT_OK;
    return pub.policy_violated ? EXIT_POLICY : EXIT_TARGET;
}

/* On failure: drop this run's versioned tables (best effort) and record the failure. */
static void abandon(struct run *r, int code)
{
    struct anon_error ignored;

    if (!r->target || PQstatus(r->target) != CONNECTION_OK)
        return;
    if (PQtransactionStatus(r->target) != PQTRANS_IDLE)
        PQclear(PQexec(r->target, "ROLLBACK"));
    for (size_t i = 0; i < r->n_tables; i++) {
        const struct publish_table *t = &r->tables[i];
        if (t->kind == PUBLISH_SWAP && t->version_name[0])
            (void)target_drop_version(r->target, t->version_name, &ignored);
        if (t->published_name[0]) /* a k-anonymous version written for a failed publish */
            (void)target_drop_version(r->target, t->published_name, &ignored);
        if (t->keys_name[0])
            (void)target_drop_version(r->target, t->keys_name, &ignored);
        if (t->gone_name[0])
            (void)target_drop_version(r->target, t->gone_name, &ignored);
        if (t->pending_name[0])
            (void)target_drop_version(r->target, t->pending_name, &ignored);
    }
    target_run_failed(r->target, r->run_id, code, r->err.msg);
    if (r->audit && r->run_id > 0 && !audit_record(r->target, r->run_id, r->audit, &ignored))
        log_warn("audit_record", NULL, "the audit counts were not recorded: %s", ignored.msg);
}

static void run_free(struct run *r)
{
    for (size_t i = 0; i < r->n_tables; i++) {
        plan_free((struct table_plan *)r->tables[i].plan);
        free(r->tables[i].source_storage);
        if (r->key_plans)
            plan_free(r->key_plans[i]);
    }
    free(r->key_plans);
    audit_free(r->audit);
    free(r->tables);
    source_snapshot_close(r->source);
    increment_clock_free(&r->clock);
    if (r->locked)
        target_unlock(r->target);
    pgconn_close(r->target);
    hmac_key_free(r->hmac);
    abuf_free_secret(&r->key);
}

/* The same checks as `anonetl preflight`, before anything is written: a FAIL is exit 3.
 * Only a live probe can fail the run: with the live probes passing, preflight has turned
 * the EC2 API's FAILs into WARNs (preflight.h, "the verdict"). */
static int run_preflight(struct run *r)
{
    struct check_report report;
    int code = EXIT_OK;

    check_report_init(&report);
    if (!preflight_run_checks(r->cfg, NULL, &report, &r->err)) {
        code = EXIT_INTERNAL;
    } else if (check_report_failed(&report)) {
        struct abuf msg;
        abuf_init(&msg, sizeof(r->err.msg));
        for (size_t i = 0; i < report.n; i++) {
            const struct check_result *c = &report.items[i];
            if (c->status == CHECK_FAIL)
                abuf_printf(&msg, "\n  FAIL %s %s: %s (%s)", c->group, c->subject, c->detail,
                            c->remediation);
        }
        anon_error_set(&r->err, "preflight failed; the target was not touched:%s", abuf_cstr(&msg));
        abuf_free(&msg);
        code = EXIT_PREFLIGHT;
    } else {
        /* the live probes passed: a WARN flagged overruled is the EC2 API disagreeing with
         * them (or unreachable); it is also a metric, so an alarm can watch for drift */
        for (size_t i = 0; i < report.n; i++) {
            const struct check_result *c = &report.items[i];
            if (c->status != CHECK_WARN)
                continue;
            log_warn("preflight_warning", NULL, "%s %s: %s", c->group, c->subject, c->detail);
            if (c->flags & CHECK_FLAG_OVERRULED)
                metrics_preflight_disagreement(c->group, c->subject);
        }
    }
    check_report_free(&report);
    return code;
}

static int run_steps(struct run *r)
{
    enum secret_failure why;
    int code;

    if ((code = load_key(r)) != EXIT_OK)
        return code;
    /* Every secret reference and the TLS requirement, before the preflight: a missing
     * variable is a config error for whoever deploys the job (2), an unreachable
     * Secrets Manager a problem for ops (3): etl/secret.h. */
    if (!pgconn_params_check(&r->cfg->source, "source", &why, &r->err) ||
        !pgconn_params_check(&r->cfg->target.db, "target", &why, &r->err))
        return secret_failure_exit(why);
    /* Preflight before the target is touched (even the bootstrap), as DESIGN.md says. */
    if (!r->opt->skip_preflight && (code = run_preflight(r)) != EXIT_OK)
        return code;
    if ((code = connect_target(r)) != EXIT_OK)
        return code;
    if (!target_cleanup(r->target, &r->err))
        return EXIT_TARGET;
    /* Premarks of integer watermarks, then the writers, then the snapshot: in that order
     * (increment.h). */
    r->source = source_snapshot_connect(&r->cfg->source, &r->err);
    if (!r->source)
        return EXIT_SOURCE;
    r->clock = (struct increment_clock){.snapshot = r->source, .db = &r->cfg->source};
    if (!increment_read_premarks(&r->clock, source_snapshot_conn(r->source), r->cfg, &r->err) ||
        !source_snapshot_begin(r->source, &r->err))
        return EXIT_SOURCE;
    if ((code = plan_tables(r)) != EXIT_OK || (code = review_keeps(r)) != EXIT_OK)
        return code;
    warn_inheritance(r);
    return copy_and_publish(r);
}

/* The error of a statement the stop cancelled (or did not start), said as the stop it is. */
static void stop_reason(struct run *r)
{
    char was[sizeof(r->err.msg)];

    snprintf(was, sizeof(was), "%s", r->err.msg);
    anon_error_set(&r->err, "stopped by %s: nothing published (%s)",
                   stopsig_name(stopsig_received()), was);
}

/* After a stop that cut the sessions of a server it could not reach (stopsig.h): what the
 * run could not do there, added to its reason. With the target cut, the failure is not
 * recorded and the run's lock stays with a session the target still believes in. */
static void stop_unreached(struct run *r)
{
    const char *who = stopsig_unreachable();
    char was[sizeof(r->err.msg)];
    bool target = who && strstr(who, "target");

    if (!who)
        return;
    snprintf(was, sizeof(was), "%s", r->err.msg);
    anon_error_set(&r->err,
                   "%s; %s was not reached (no answer to the cancel within %d s): its sessions "
                   "were cut%s",
                   was, who, STOP_ANSWER_MS / 1000,
                   target ? ", the run's record is not marked failed (the next run marks it "
                            "abandoned) and the target holds the run's lock until it drops "
                            "the session"
                          : "");
}

int run_main(const struct config *cfg, const struct run_options *opt)
{
    struct run r = {.cfg = cfg, .opt = opt, .started = time(NULL)};
    struct timespec t0, t1;
    int code;

    stopsig_install();
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (cfg->run.max_runtime_ms > 0)
        r.deadline =
            (double)t0.tv_sec + (double)t0.tv_nsec / 1e9 + (double)cfg->run.max_runtime_ms / 1000.0;
    anon_error_clear(&r.err);
    log_info("run_start", NULL, "anonetl run: %zu table%s", cfg->n_tables,
             cfg->n_tables == 1 ? "" : "s");
    code = run_steps(&r);
    /* the work is over (its threads joined): what follows records the run and gives the
     * lock back, and no stop's cancel may reach it */
    stopsig_work_done();
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (code == EXIT_OK) {
        uint64_t rows = 0;
        for (size_t i = 0; i < r.n_tables; i++)
            rows += r.tables[i].stats.rows_written;
        struct log_field f[] = {LF_INT("tables", r.n_tables), LF_INT("rows_written", rows),
                                LF_INT("elapsed_ms", (t1.tv_sec - t0.tv_sec) * 1000 +
                                                         (t1.tv_nsec - t0.tv_nsec) / 1000000),
                                LF_STR("key_fingerprint", r.key_fingerprint)};
        log_emit(LOG_INFO, "run_done", NULL, f, 4, "published");
        print_summary(&r,
                      (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
        metrics_run(code, rows,
                    (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
                    r.n_tables);
    } else {
        const char *event = code == EXIT_LOCKED ? "run_skipped" : "run_failed";
        if (stopsig_received() && code != EXIT_LOCKED) {
            /* whatever failed after the signal, the signal is why the run ended: a
             * statement it cancelled (57014) is not a source or target failure */
            code = EXIT_SIGNAL_BASE + stopsig_received();
            event = "run_stopped";
            if (!strstr(r.err.msg, "nothing published"))
                stop_reason(&r);
            stop_unreached(&r);
        }
        abandon(&r, code);
        log_emit(code == EXIT_LOCKED ? LOG_WARN : LOG_ERROR, event, NULL,
                 (struct log_field[]){LF_INT("exit_code", code)}, 1, "%s", r.err.msg);
        metrics_run(code, 0,
                    (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
                    r.n_tables);
    }
    run_free(&r);
    return code;
}
