/*
 * rule_bench.c: what every rule costs per value, on real values, on both COPY forms.
 *
 *   rule_bench TEXT_COPY BINARY_COPY [MAX_ROWS [FILTER]]
 *
 * TEXT_COPY and BINARY_COPY hold `COPY parties TO STDOUT` of the realistic bench table
 * (tests/bench/bench.sh, part realistic) in the text and the binary format: id bigint,
 * case_id bigint, full_name text, email text, postcode text, date_of_birth date,
 * created_at timestamptz, claim_amount numeric(12,2), details jsonb, notes text.
 * For each case below (a rule on one of those columns), over the first MAX_ROWS rows
 * (default 200000), it times the engine's own work for that column:
 *
 *   text     the text path (etl/tablecopy.c): the COPY field decoded, the rule, the
 *            output escaped for COPY
 *   binary   the binary path (etl/bincol.c, the column planned by etl/plan.c as a run
 *            plans it): the field through its codec to the form the rule reads, the
 *            rule, the output to the target type's binary form
 *
 * and prints the CPU time per value in nanoseconds (the median of 5 passes), so a slow
 * rule or codec shows up here before it shows up in a run. A rule that reads another
 * column (date_shift by case_id) gets it as a run does (decoded on demand). FILTER keeps
 * the cases whose "column: rule" contains it (to profile one; RULE_BENCH_PATH=text or
 * binary times one path only). Exit 1 when a case cannot be planned
 * or fails on a value.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "anonymise/config.h"
#include "anonymise/hmac.h"
#include "etl/bincol.h"
#include "etl/catalog.h"
#include "etl/copybin.h"
#include "etl/copytext.h"
#include "etl/plan.h"

#define NCOLS 10
#define PASSES 5

static const struct {
    const char *name, *type;
} columns[NCOLS] = {
    {"id", "bigint"},
    {"case_id", "bigint"},
    {"full_name", "text"},
    {"email", "text"},
    {"postcode", "text"},
    {"date_of_birth", "date"},
    {"created_at", "timestamp with time zone"},
    {"claim_amount", "numeric(12,2)"},
    {"details", "jsonb"},
    {"notes", "text"},
};

/* column, rule (YAML flow) */
static const char *const cases[][2] = {
    {"notes", "keep"},
    {"notes", "suppress"},
    {"notes", "{ constant: \"redacted\" }"},
    {"full_name", "{ hash: {} }"},
    {"full_name", "{ hash: { length: 64 } }"},
    {"full_name", "{ hash: { format: base64url } }"},
    {"email", "hash_int"},
    {"full_name", "{ mask: { keep_first: 1 } }"},
    {"notes", "{ truncate: { length: 20 } }"},
    {"postcode", "{ truncate: { outward_code: true } }"},
    {"notes", "scrub"},
    {"email", "{ scrub: [email] }"},
    {"date_of_birth", "{ generalise: { to: month } }"},
    {"date_of_birth", "{ generalise: { to: age_band } }"},
    {"created_at", "{ generalise: { to: week } }"},
    {"date_of_birth", "{ date_shift: { by: case_id } }"},
    {"created_at", "{ date_shift: { by: case_id } }"},
    {"created_at", "{ date_shift: { by: case_id, time: jitter } }"},
    {"claim_amount", "{ bucket: { width: 100 } }"},
    {"claim_amount", "{ bucket: { edges: [0, 1000, 10000], labels: [low, mid, high] } }"},
    {"claim_amount", "{ round: { digits: -2 } }"},
    {"id", "{ bucket: { width: 1000 } }"},
    {"id", "{ round: { multiple: 7 } }"},
    {"details", "{ json: { paths: { \"$.phone\": { hash: {} } }, others: keep } }"},
    {"details", "{ json: { paths: { \"$.phone\": { hash: {} } } } }"},
    {"id", "{ hash: {} }"},
    {"created_at", "{ hash: {} }"},
    {"claim_amount", "{ hash: {} }"},
    {"details", "{ hash: {} }"},
};

struct field {
    const char *p;
    size_t n;
    bool is_null;
};

/* The values, column by column (text[col * n + r]), each column's bytes in one run: the
 * engine works on one row at a time, in cache, and so should the timing loop. */
struct rows {
    size_t n;
    struct field *text;           /* raw (escaped) COPY text */
    struct copybin_field *binary; /* binary COPY fields */
    char *text_data, *binary_data;
};

/* The engine's row, as far as ctx->column needs it. */
struct rule_row {
    const struct table_plan *plan;
    const struct rows *rows;
    size_t r;
    bool binary;
    struct abuf text[NCOLS];
    struct rule_value value[NCOLS];
};

static const struct rule_value *row_column(const struct rule_row *cr, const char *name)
{
    struct rule_row *row = (struct rule_row *)cr;

    for (size_t i = 0; i < NCOLS; i++) {
        bool is_null;
        if (strcmp(columns[i].name, name) != 0)
            continue;
        abuf_reset(&row->text[i]);
        if (row->binary) {
            if (!bincol_text(&row->plan->columns[i], &row->rows->binary[i * row->rows->n + row->r],
                             &row->text[i], &is_null))
                return NULL;
        } else {
            const struct field *f = &row->rows->text[i * row->rows->n + row->r];
            is_null = f->is_null;
            if (!is_null && !copytext_decode(f->p, f->n, &row->text[i]))
                return NULL;
        }
        row->value[i] = (struct rule_value){
            .data = row->text[i].data ? row->text[i].data : "", .len = row->text[i].len,
            .is_null = is_null};
        return &row->value[i];
    }
    return NULL;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long size;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)size + 1)) != NULL &&
        fread(buf, 1, (size_t)size, f) == (size_t)size) {
        *len = (size_t)size;
    } else {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

static bool load_text(char *data, size_t len, struct rows *rows, size_t max)
{
    struct copytext_field f[NCOLS];
    struct anon_error err;
    char *p = data, *end = data + len;

    rows->text = calloc(max * NCOLS, sizeof(*rows->text));
    for (rows->n = 0; p < end && rows->n < max; rows->n++) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t rl = nl ? (size_t)(nl + 1 - p) : (size_t)(end - p);
        if (!copytext_split_exact(p, rl, f, NCOLS, &err))
            return false;
        for (size_t i = 0; i < NCOLS; i++)
            rows->text[rows->n * NCOLS + i] = (struct field){f[i].raw, f[i].len, f[i].is_null};
        p += rl;
    }
    return true;
}

static uint32_t get32(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;

    return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
}

static bool load_binary(const char *data, size_t len, struct rows *rows)
{
    struct anon_error err;
    size_t off, r;

    if (!copybin_skip_header(data, len, &off, &err))
        return false;
    rows->binary = calloc(rows->n * NCOLS, sizeof(*rows->binary));
    for (r = 0; r < rows->n; r++) {
        size_t start = off;
        if (len - off < 2)
            return false;
        off += 2;
        for (int i = 0; i < NCOLS; i++) {
            int32_t n = (int32_t)get32(data + off);
            off += 4 + (n > 0 ? (size_t)n : 0);
        }
        if (off > len || copybin_parse_row(data, off, start, &rows->binary[r * NCOLS], NCOLS,
                                           &err) != COPYBIN_ROW)
            return false;
    }
    return true;
}

/* Row-major fields pointing into the files -> column-major copies. */
static void by_column(struct rows *rows, size_t text_len, size_t binary_len)
{
    struct field *t = calloc(rows->n * NCOLS, sizeof(*t));
    struct copybin_field *b = calloc(rows->n * NCOLS, sizeof(*b));
    char *td = malloc(text_len + 1), *bd = malloc(binary_len + 1);
    size_t to = 0, bo = 0;

    for (size_t i = 0; i < NCOLS; i++)
        for (size_t r = 0; r < rows->n; r++) {
            const struct field *f = &rows->text[r * NCOLS + i];
            const struct copybin_field *g = &rows->binary[r * NCOLS + i];
            memcpy(td + to, f->p, f->n);
            t[i * rows->n + r] = (struct field){td + to, f->n, f->is_null};
            to += f->n;
            memcpy(bd + bo, g->data, g->len);
            b[i * rows->n + r] = (struct copybin_field){bd + bo, g->len, g->is_null};
            bo += g->len;
        }
    free(rows->text);
    free(rows->binary);
    rows->text = t;
    rows->binary = b;
    rows->text_data = td;
    rows->binary_data = bd;
}

static double cpu_now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A one-table config with every column kept but `column`, which has `rule`. */
static struct config *case_config(const char *column, const char *rule)
{
    struct anon_error err;
    struct config *cfg = NULL;
    struct abuf y;

    abuf_init(&y, 1 << 16);
    abuf_puts(&y, "version: 1\nsource: { dsn: \"host=/nonexistent\" }\n"
                  "target: { dsn: \"host=/nonexistent\" }\n"
                  "secrets: { hash_key: { env: RULE_BENCH_KEY } }\n"
                  "tables:\n  - name: public.parties\n    columns:\n");
    for (size_t i = 0; i < NCOLS; i++)
        abuf_printf(&y, "      %s: %s\n", columns[i].name,
                    strcmp(columns[i].name, column) == 0 ? rule : "keep");
    if (!config_load_buffer("rule_bench.yaml", y.data, y.len, &cfg, &err)) {
        fprintf(stderr, "rule_bench: %s: %s\n", rule, err.msg);
        cfg = NULL;
    }
    abuf_free(&y);
    return cfg;
}

static struct catalog_table *case_catalog(void)
{
    struct catalog_table *t = calloc(1, sizeof(*t));

    t->schema = strdup("public");
    t->name = strdup("parties");
    t->relkind = 'r';
    t->columns = calloc(NCOLS, sizeof(*t->columns));
    t->n_columns = NCOLS;
    t->n_pk = 1;
    for (size_t i = 0; i < NCOLS; i++) {
        struct catalog_column *c = &t->columns[i];
        c->name = strdup(columns[i].name);
        c->type = strdup(columns[i].type);
        c->wire_type = strdup(columns[i].type);
        c->wire_exact = true;
        c->not_null = i < 3 || i == 6;
        c->pk_position = i == 0;
    }
    return t;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* One pass over the rows on one path: CPU seconds, or < 0 on a failure. */
static double run_pass(const struct table_plan *plan, size_t col, const struct rows *rows,
                       bool binary, struct rule_ctx *ctx, struct rule_row *row,
                       struct bincol_scratch *s, struct abuf *dec, struct abuf *res,
                       struct abuf *out)
{
    const struct plan_column *c = &plan->columns[col];
    struct anon_error err;
    double t0 = cpu_now();

    row->binary = binary;
    for (row->r = 0; row->r < rows->n; row->r++) {
        abuf_reset(out);
        if (binary) {
            if (bincol_apply(plan, col, ctx, &rows->binary[col * rows->n + row->r], s, out, &err) !=
                BINCOL_OK) {
                fprintf(stderr, "rule_bench: binary, row %zu: %s\n", row->r + 1, err.msg);
                return -1;
            }
        } else {
            const struct field *f = &rows->text[col * rows->n + row->r];
            struct rule_value in = {.data = f->p, .len = f->n, .is_null = f->is_null};
            bool is_null = false;
            if (c->rule->ops->passthrough) { /* a kept field is copied as it is */
                abuf_append(out, f->p, f->n);
                continue;
            }
            if (!f->is_null && copytext_has_escape(f->p, f->n)) {
                abuf_reset(dec);
                if (!copytext_decode(f->p, f->n, dec))
                    return -1;
                in.data = dec->data;
                in.len = dec->len;
            }
            abuf_reset(res);
            if (!c->rule->ops->apply(c->rule->state, ctx, &in, res, &is_null, &err)) {
                fprintf(stderr, "rule_bench: text, row %zu: %s\n", row->r + 1, err.msg);
                return -1;
            }
            if (!copytext_encode(is_null ? NULL : res->data ? res->data : "", res->len, out))
                return -1;
        }
    }
    return cpu_now() - t0;
}

/* Median ns per value over PASSES passes. */
static double time_path(const struct table_plan *plan, size_t col, const struct rows *rows,
                        bool binary, struct rule_ctx *ctx, struct rule_row *row)
{
    struct bincol_scratch s;
    struct abuf dec, res, out;
    double t[PASSES];
    bool ok = true;

    bincol_scratch_init(&s);
    abuf_init(&dec, 1 << 30);
    abuf_init(&res, 1 << 30);
    abuf_init(&out, 1 << 30);
    for (int p = 0; p < PASSES && ok; p++)
        ok = (t[p] = run_pass(plan, col, rows, binary, ctx, row, &s, &dec, &res, &out)) >= 0;
    bincol_scratch_free(&s);
    abuf_free(&dec);
    abuf_free(&res);
    abuf_free(&out);
    if (!ok)
        return -1;
    qsort(t, PASSES, sizeof(t[0]), cmp_double);
    return t[PASSES / 2] / (double)rows->n * 1e9;
}

static bool run_case(size_t k, const struct rows *rows, const struct hmac_key *hk)
{
    const char *column = cases[k][0], *rule = cases[k][1];
    struct config *cfg = case_config(column, rule);
    struct table_plan *plan = NULL;
    struct rule_row row = {.rows = rows};
    struct rule_ctx ctx = {.hmac = hk, .run_time = time(NULL), .column = row_column, .row = &row};
    struct abuf report;
    double text_ns, bin_ns;
    size_t col = 0;
    const char *only = getenv("RULE_BENCH_PATH");
    char label[160];
    bool ok = false;

    abuf_init(&report, 1 << 16);
    if (!cfg)
        goto out;
    if (plan_build(&cfg->tables[0], cfg->path, case_catalog(), &plan, &report) != PLAN_OK) {
        fprintf(stderr, "rule_bench: %s on %s: %s\n", rule, column, abuf_cstr(&report));
        goto out;
    }
    row.plan = plan;
    for (size_t i = 0; i < NCOLS; i++) {
        abuf_init(&row.text[i], 1 << 30);
        if (strcmp(columns[i].name, column) == 0)
            col = i;
    }
    ctx.type = plan->columns[col].rule_type;
    /* RULE_BENCH_PATH=text or binary: one path only (to profile it) */
    text_ns = only && strcmp(only, "text") != 0 ? 0 : time_path(plan, col, rows, false, &ctx, &row);
    bin_ns = only && strcmp(only, "binary") != 0 ? 0
             : plan->binary                       ? time_path(plan, col, rows, true, &ctx, &row)
                                                  : -2;
    snprintf(label, sizeof(label), "%s (%s: %s)", rule, column, columns[col].type);
    if (text_ns >= 0 && bin_ns != -1) {
        if (bin_ns >= 0)
            printf("  %-78s %9.0f %9.0f\n", label, text_ns, bin_ns);
        else
            printf("  %-78s %9.0f %9s  (%s)\n", label, text_ns, "text", plan->text_reason);
        ok = true;
    }
    for (size_t i = 0; i < NCOLS; i++)
        abuf_free(&row.text[i]);
out:
    plan_free(plan);
    config_free(cfg);
    abuf_free(&report);
    return ok;
}

int main(int argc, char **argv)
{
    unsigned char key[32];
    struct anon_error err;
    struct hmac_key *hk;
    struct rows rows = {0};
    char *text, *bin;
    size_t tlen, blen, max = argc > 3 ? strtoul(argv[3], NULL, 10) : 200000;
    int rc = 0;

    if (argc < 3 || max == 0) {
        fprintf(stderr, "usage: rule_bench TEXT_COPY BINARY_COPY [MAX_ROWS]\n");
        return 2;
    }
    text = read_file(argv[1], &tlen);
    bin = read_file(argv[2], &blen);
    if (!text || !bin || !load_text(text, tlen, &rows, max) || !load_binary(bin, blen, &rows)) {
        fprintf(stderr, "rule_bench: cannot read the COPY files (%s, %s)\n", argv[1], argv[2]);
        return 2;
    }
    by_column(&rows, tlen, blen);
    for (size_t i = 0; i < sizeof(key); i++)
        key[i] = (unsigned char)(i * 37 + 11);
    hk = hmac_key_new(key, sizeof(key), &err);
    if (!hk) {
        fprintf(stderr, "rule_bench: %s\n", err.msg);
        return 2;
    }
    printf("rules: CPU ns per value over %zu rows of the realistic table (median of %d passes)\n",
           rows.n, PASSES);
    printf("  %-78s %9s %9s\n", "RULE (COLUMN: TYPE)", "TEXT", "BINARY");
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        char name[256];
        snprintf(name, sizeof(name), "%s: %s", cases[k][0], cases[k][1]);
        if ((argc <= 4 || strstr(name, argv[4])) && !run_case(k, &rows, hk))
            rc = 1;
    }
    hmac_key_free(hk);
    free(rows.text);
    free(rows.binary);
    free(rows.text_data);
    free(rows.binary_data);
    free(text);
    free(bin);
    return rc;
}
