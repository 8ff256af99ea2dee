/*
 * json_bench.c: the json rule alone, on documents written by PostgreSQL.
 *
 *   json_bench FILE RULE [ROUNDS [OUT]]
 *
 * FILE holds one json/jsonb text value per line (`psql -tA -c "SELECT doc::text ..."`:
 * the text output never holds a raw newline). RULE is a column rule as written in the
 * config, e.g. '{ json: { paths: { "$.customer.email": { hash: {} } } } }'. Every
 * document goes through the rule ROUNDS times (default 5); prints the CPU time per
 * document of the fastest round, the NULL outputs and the bytes in and out. With OUT,
 * the outputs of the last round are written there, one per line (NULL as \N).
 * Exit 1 when the rule fails on a document. Built by tests/bench/bench.sh and by hand:
 *
 *   make build/rel/libanonymise.a
 *   cc -O2 -I. -o json_bench tests/bench/json_bench.c build/rel/libanonymise.a \
 *      $(pkg-config --libs yaml-0.1 jansson libpcre2-8 openssl) -lm
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "anonymise/hmac.h"
#include "anonymise/rule.h"
#include "anonymise/yopts.h"

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

static bool parse_rule(const char *text, struct rule *r, struct anon_error *err)
{
    struct abuf doc;
    struct yopts *root = NULL, *v = NULL;
    bool ok;

    abuf_init(&doc, 1 << 20);
    abuf_printf(&doc, "col: %s\n", text);
    ok = !abuf_failed(&doc) && yopts_load("rule", doc.data, doc.len, &root, err) &&
         (v = yopts_item(root, 0)) != NULL && rule_parse(v, r, err);
    yopts_free(v);
    yopts_free(root);
    abuf_free(&doc);
    return ok;
}

int main(int argc, char **argv)
{
    static const unsigned char key[32] = {1, 2, 3, 4, 5, 6, 7, 8};
    struct anon_error err;
    struct rule r = {0};
    struct rule_ctx ctx = {0};
    struct abuf out;
    size_t len, rows = 0, nulls = 0, bytes_out = 0;
    double best = 1e30;
    int rounds = argc > 3 ? atoi(argv[3]) : 5;
    FILE *dump = NULL;
    char *data;
    int rc = 0;

    if (argc < 3 || rounds < 1) {
        fprintf(stderr, "usage: json_bench FILE RULE [ROUNDS [OUT]]\n");
        return 2;
    }
    anon_error_clear(&err);
    if (!(data = read_file(argv[1], &len))) {
        fprintf(stderr, "json_bench: cannot read %s\n", argv[1]);
        return 2;
    }
    if (!parse_rule(argv[2], &r, &err)) {
        fprintf(stderr, "json_bench: %s\n", err.msg);
        free(data);
        return 2;
    }
    if (argc > 4 && !(dump = fopen(argv[4], "wb"))) {
        fprintf(stderr, "json_bench: cannot write %s\n", argv[4]);
        return 2;
    }
    ctx.key = key;
    ctx.key_len = sizeof(key);
    ctx.hmac = hmac_key_new(key, sizeof(key), &err);
    abuf_init(&out, 64u << 20);
    for (int round = 0; round < rounds && rc == 0; round++) {
        const char *p = data, *end = data + len, *nl;
        double t0 = cpu_seconds(), t;

        rows = nulls = bytes_out = 0;
        for (; p < end; p = nl + 1) {
            struct rule_value in;
            bool is_null = false;

            nl = memchr(p, '\n', (size_t)(end - p));
            nl = nl ? nl : end;
            in = (struct rule_value){.data = p, .len = (size_t)(nl - p), .is_null = false};
            abuf_reset(&out);
            if (!r.ops->apply(r.state, &ctx, &in, &out, &is_null, &err)) {
                fprintf(stderr, "json_bench: document %zu: %s\n", rows + 1, err.msg);
                rc = 1;
                break;
            }
            nulls += is_null;
            bytes_out += is_null ? 0 : out.len;
            if (dump && round == rounds - 1) {
                if (is_null)
                    fputs("\\N", dump);
                else
                    fwrite(out.data, 1, out.len, dump);
                fputc('\n', dump);
            }
            rows++;
        }
        t = cpu_seconds() - t0;
        best = t < best ? t : best;
    }
    if (rc == 0 && rows > 0)
        printf("json rule: %zu documents, %.0f bytes in and %.0f out on average, %zu NULL; "
               "%.0f ns/document (best of %d rounds)\n",
               rows, (double)len / (double)rows, (double)bytes_out / (double)rows, nulls,
               best / (double)rows * 1e9, rounds);
    if (dump)
        fclose(dump);
    abuf_free(&out);
    hmac_key_free((struct hmac_key *)ctx.hmac);
    rule_free(&r);
    free(data);
    return rc;
}
