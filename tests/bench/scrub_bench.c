/*
 * scrub_bench.c: the scrub rule alone, on free text PostgreSQL wrote.
 *
 *   scrub_bench FILE RULE ROUNDS
 *
 * FILE holds `COPY (SELECT body, full_name, email, phone ...) TO STDOUT` (text format):
 * the message and the sender's own name, e-mail and phone, which a rule with
 * `row_values: [full_name, email, phone]` reads from the row. RULE is the rule as
 * written after a column name. Every message goes through the rule ROUNDS times; prints
 * the best round's CPU time per value and the share of values the rule changed. Built
 * and run by tests/bench/scrub_bench.sh (under callgrind there for instruction counts).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "anonymise/hmac.h"
#include "anonymise/rule.h"
#include "anonymise/yopts.h"
#include "etl/copytext.h"

#define NCOLS 4

struct rule_row {
    const char *names[NCOLS];
    struct rule_value values[NCOLS];
};

static const struct rule_value *row_column(const struct rule_row *row, const char *name)
{
    for (int i = 0; i < NCOLS; i++)
        if (strcmp(row->names[i], name) == 0)
            return &row->values[i];
    return NULL;
}

static double cpu_seconds(void)
{
    struct timespec t;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
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

int main(int argc, char **argv)
{
    static const char *const names[NCOLS] = {"body", "full_name", "email", "phone"};
    struct anon_error err;
    struct yopts *doc = NULL, *value;
    struct rule r;
    struct rule_row *rows;
    struct hmac_key *hk;
    struct rule_ctx ctx = {0};
    unsigned char key[32];
    char text[8192], *file;
    size_t len, n = 0, cap = 1024, changed = 0;
    double best = 1e30;
    int rounds;
    struct abuf out, dec[NCOLS];

    if (argc != 4 || (rounds = atoi(argv[3])) < 1) {
        fprintf(stderr, "usage: scrub_bench FILE RULE ROUNDS\n");
        return 2;
    }
    anon_error_clear(&err);
    snprintf(text, sizeof(text), "body: %s\n", argv[2]);
    if (!yopts_load("rule", text, strlen(text), &doc, &err) || !(value = yopts_item(doc, 0)) ||
        !rule_parse(value, &r, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 2;
    }
    yopts_free(value);
    file = read_file(argv[1], &len);
    rows = calloc(cap, sizeof(*rows));
    if (!file || !rows)
        return 2;
    for (int i = 0; i < NCOLS; i++)
        abuf_init(&dec[i], 1 << 20);
    for (char *p = file, *nl; p < file + len; p = nl + 1) {
        struct copytext_field f[NCOLS];
        nl = memchr(p, '\n', (size_t)(file + len - p));
        if (!nl)
            break;
        if (!copytext_split_exact(p, (size_t)(nl - p), f, NCOLS, &err)) {
            fprintf(stderr, "line %zu: %s\n", n + 1, err.msg);
            return 1;
        }
        if (n == cap && !(rows = realloc(rows, (cap *= 2) * sizeof(*rows))))
            return 2;
        for (int i = 0; i < NCOLS; i++) {
            rows[n].names[i] = names[i];
            abuf_reset(&dec[i]);
            if (f[i].is_null) {
                rows[n].values[i] = (struct rule_value){"", 0, true};
                continue;
            }
            if (!copytext_decode(f[i].raw, f[i].len, &dec[i]))
                return 1;
            rows[n].values[i].len = dec[i].len;
            rows[n].values[i].data = memcpy(malloc(dec[i].len + 1), dec[i].data ? dec[i].data : "",
                                            dec[i].len);
        }
        n++;
    }
    for (size_t i = 0; i < sizeof(key); i++)
        key[i] = (unsigned char)(i * 37 + 11);
    hk = hmac_key_new(key, sizeof(key), &err);
    ctx.hmac = hk;
    ctx.column = row_column;
    ctx.type = "text";
    abuf_init(&out, 1 << 24);
    for (int round = 0; round < rounds; round++) {
        double t0 = cpu_seconds(), dt;
        changed = 0;
        for (size_t i = 0; i < n; i++) {
            bool is_null;
            abuf_reset(&out);
            ctx.row = &rows[i];
            if (!r.ops->apply(r.state, &ctx, &rows[i].values[0], &out, &is_null, &err)) {
                fprintf(stderr, "row %zu: %s\n", i + 1, err.msg);
                return 1;
            }
            changed += is_null || out.len != rows[i].values[0].len ||
                       memcmp(out.data ? out.data : "", rows[i].values[0].data, out.len) != 0;
        }
        dt = cpu_seconds() - t0;
        if (dt < best)
            best = dt;
    }
    printf("scrub: %zu values, %.0f ns/value, %.1f%% changed\n", n, best / (double)n * 1e9,
           100.0 * (double)changed / (double)n);
    return 0;
}
