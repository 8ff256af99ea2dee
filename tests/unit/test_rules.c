/*
 * test_rules.c: every rule against vector files, one test per file: the core rules in
 * tests/unit/vectors/rules, the issue-3 rules (mask, truncate, generalise, bucket, round,
 * scrub, date_shift, json) in tests/unit/vectors/rules_extra (*.vec). A file is a list
 * of blocks, each starting with `rule:` (or a one-line `error:`):
 *
 *   key: hex:0011...         right before rule: (that block only); default 00 01 .. 1f
 *   rule: { hash: { length: 16 } }     the rule as written after a column name
 *   error: 1:24: col.hash.length: ...  after rule:, parse must fail with exactly this
 *   error: { bucket: {} } => needs     parse of the rule before " => " must fail with
 *                            a message CONTAINING the text after it
 *   source_type: integer     output() is asked for this source type (default text), and
 *                            apply() gets it as ctx->type ...
 *   output_type: text        ... and must give this type
 *   may_be_null: true        ... and this flag
 *   problem: "needs a date"  ... and a problem containing this ("" = no problem)
 *   describe: length=16      describe() must give exactly this
 *   run_time: 1718445600     ctx->run_time (seconds since the epoch, UTC)
 *   row: patient = "42"      a column of the current row (or NULL); repeatable
 *   array: true              apply through pgarray_apply_rule (array columns)
 *   in: "value" | NULL       a value (double-quoted, escapes \" \\ \n \t \xHH)
 *   out: "value" | NULL      the expected output of apply()
 *   fails: "substring"       instead of out: apply must return false, err containing it
 *
 * The rule text is loaded as the document "col: <rule>", so positions in expected
 * errors count from that line. Every value is applied twice: with a prepared key
 * (ctx.hmac) and with the raw key only; both must give the expected output.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "anonymise/hmac.h"
#include "anonymise/pgarray.h"
#include "anonymise/rule.h"
#include "anonymise/yopts.h"

static const char *const vec_dirs[] = {"tests/unit/vectors/rules",
                                       "tests/unit/vectors/rules_extra"};
#define MAX_LINE 8192
#define MAX_ROW 8

struct row_col {
    char name[64];
    char data[MAX_LINE];
    struct rule_value v;
};

struct rule_row {
    struct row_col cols[MAX_ROW];
    size_t n;
};

struct block {
    char rule[MAX_LINE];
    unsigned char key[128];
    size_t key_len;
    struct yopts *doc, *value;
    struct rule r;
    bool parsed, array;
    char source_type[300];
    char problem[ANON_ERROR_MAX];
    time_t run_time;
    struct rule_row row;
    int line;
};

static const struct rule_value *row_column(const struct rule_row *row, const char *name)
{
    for (size_t i = 0; i < row->n; i++)
        if (strcmp(row->cols[i].name, name) == 0)
            return &row->cols[i].v;
    return NULL;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool decode_value(const char *s, char *out, size_t cap, size_t *len, bool *is_null)
{
    size_t n = 0;

    *is_null = strcmp(s, "NULL") == 0;
    *len = 0;
    out[0] = '\0';
    if (*is_null)
        return true;
    if (*s++ != '"')
        return false;
    for (; *s && *s != '"'; s++) {
        char c = *s;
        if (c == '\\') {
            s++;
            switch (*s) {
            case 'n':
                c = '\n';
                break;
            case 't':
                c = '\t';
                break;
            case '\\':
                c = '\\';
                break;
            case '"':
                c = '"';
                break;
            case 'x':
                if (hexval(s[1]) < 0 || hexval(s[2]) < 0)
                    return false;
                c = (char)(hexval(s[1]) * 16 + hexval(s[2]));
                s += 2;
                break;
            default:
                return false;
            }
        }
        if (n + 1 >= cap)
            return false;
        out[n++] = c;
    }
    if (*s != '"' || s[1] != '\0')
        return false;
    out[n] = '\0';
    *len = n;
    return true;
}

static void block_end(struct block *b)
{
    rule_free(&b->r);
    yopts_free(b->value);
    yopts_free(b->doc);
    b->value = b->doc = NULL;
    b->parsed = false;
}

static void block_reset(struct block *b)
{
    block_end(b);
    memset(b, 0, sizeof(*b));
    for (size_t i = 0; i < 32; i++)
        b->key[i] = (unsigned char)i;
    b->key_len = 32;
    b->run_time = 1718445600; /* 2024-06-15 10:00:00 UTC */
    snprintf(b->source_type, sizeof(b->source_type), "text");
}

static bool block_parse(struct block *b, const char *file, struct anon_error *err)
{
    char text[MAX_LINE + 8];

    anon_error_clear(err);
    snprintf(text, sizeof(text), "col: %s\n", b->rule);
    if (!yopts_load(file, text, strlen(text), &b->doc, err))
        return false;
    b->value = yopts_item(b->doc, 0);
    assert_non_null(b->value);
    b->parsed = rule_parse(b->value, &b->r, err);
    return b->parsed;
}

static void fail_at(const char *file, int line, const char *what, const char *want, const char *got)
{
    print_error("%s:%d: %s\n  expected: %s\n  got:      %s\n", file, line, what, want, got);
    fail();
}

static void check_output(struct block *b, const char *file, int line, const char *field,
                         const char *want)
{
    struct rule_output out;
    char wbuf[300];
    size_t wlen;
    bool wnull;

    memset(&out, 0, sizeof(out));
    if (strcmp(field, "source_type") == 0) {
        snprintf(b->source_type, sizeof(b->source_type), "%s", want);
        return;
    }
    b->r.ops->output(b->r.state, b->source_type, &out);
    if (strcmp(field, "output_type") == 0) {
        if (strcmp(out.type, want) != 0)
            fail_at(file, line, "output type", want, out.type);
    } else if (strcmp(field, "may_be_null") == 0) {
        if (strcmp(out.may_be_null ? "true" : "false", want) != 0)
            fail_at(file, line, "may_be_null", want, out.may_be_null ? "true" : "false");
    } else if (strcmp(field, "problem") == 0) {
        if (!decode_value(want, wbuf, sizeof(wbuf), &wlen, &wnull) ||
            (wlen == 0 ? out.problem[0] != '\0' : strstr(out.problem, wbuf) == NULL))
            fail_at(file, line, "problem", want, out.problem);
    } else {
        fail_at(file, line, "unknown field", "a known field", field);
    }
}

static void check_describe(struct block *b, const char *file, int line, const char *want)
{
    struct abuf d;
    char got[MAX_LINE];

    abuf_init(&d, MAX_LINE - 1);
    b->r.ops->describe(b->r.state, &d);
    snprintf(got, sizeof(got), "%s", abuf_cstr(&d));
    abuf_free(&d);
    if (strcmp(got, want) != 0)
        fail_at(file, line, "describe", want, got);
}

static bool run_apply(struct block *b, const struct rule_ctx *ctx, const struct rule_value *in,
                      struct abuf *out, bool *is_null, struct anon_error *err)
{
    if (b->array)
        return pgarray_apply_rule(b->r.ops, b->r.state, ctx, in, out, is_null, err);
    return b->r.ops->apply(b->r.state, ctx, in, out, is_null, err);
}

/* want_fail: apply must fail with an error containing want. */
static void apply_one(struct block *b, const struct rule_ctx *ctx, const char *file, int line,
                      const struct rule_value *in, const char *want, size_t want_len,
                      bool want_null, bool want_fail)
{
    static char got[MAX_LINE];
    struct anon_error err;
    struct abuf out;
    bool is_null = false, ok, same;

    abuf_init(&out, 1 << 20);
    anon_error_clear(&err);
    ok = run_apply(b, ctx, in, &out, &is_null, &err);
    snprintf(got, sizeof(got), "%s", ok ? (is_null ? "NULL" : abuf_cstr(&out)) : err.msg);
    same = is_null == want_null &&
           (want_null ||
            (out.len == want_len && memcmp(out.data ? out.data : "", want, want_len) == 0));
    abuf_free(&out);
    if (want_fail) {
        if (ok || !strstr(err.msg, want))
            fail_at(file, line, "apply should fail", want, ok ? "(succeeded)" : got);
        return;
    }
    if (!ok)
        fail_at(file, line, "apply failed", want, got);
    if (!same)
        fail_at(file, line, "apply", want_null ? "NULL" : want, got);
}

static void check_apply(struct block *b, const char *file, int line, const char *in_text,
                        const char *out_text, bool want_fail)
{
    static char in_buf[MAX_LINE], want[MAX_LINE];
    struct rule_value in;
    struct rule_ctx ctx;
    struct anon_error err;
    struct hmac_key *k;
    size_t in_len, want_len;
    bool in_null, want_null;

    if (!decode_value(in_text, in_buf, sizeof(in_buf), &in_len, &in_null) ||
        !decode_value(out_text, want, sizeof(want), &want_len, &want_null))
        fail_at(file, line, "malformed value", "NULL or \"...\"", in_text);
    in.data = in_null ? NULL : in_buf;
    in.len = in_len;
    in.is_null = in_null;
    memset(&ctx, 0, sizeof(ctx));
    ctx.key = b->key;
    ctx.key_len = b->key_len;
    ctx.run_time = b->run_time;
    ctx.type = b->source_type; /* the element type for array: true blocks */
    ctx.column = row_column;
    ctx.row = &b->row;
    apply_one(b, &ctx, file, line, &in, want, want_len, want_null, want_fail);
    anon_error_clear(&err);
    k = hmac_key_new(b->key, b->key_len, &err);
    assert_non_null(k);
    ctx.hmac = k;
    apply_one(b, &ctx, file, line, &in, want, want_len, want_null, want_fail);
    hmac_key_free(k);
}

static bool parse_hex_key(struct block *b, const char *s)
{
    size_t n = strlen(s);

    if (strncmp(s, "hex:", 4) != 0 || (n - 4) % 2 || (n - 4) / 2 > sizeof(b->key))
        return false;
    for (size_t i = 4; i < n; i += 2) {
        if (hexval(s[i]) < 0 || hexval(s[i + 1]) < 0)
            return false;
        b->key[(i - 4) / 2] = (unsigned char)(hexval(s[i]) * 16 + hexval(s[i + 1]));
    }
    b->key_len = (n - 4) / 2;
    return true;
}

/* "name = value" */
static void set_row(struct block *b, const char *file, int line, const char *spec)
{
    const char *eq = strstr(spec, " = ");
    struct row_col *c = NULL;
    char name[64];

    if (!eq || (size_t)(eq - spec) >= sizeof(name))
        fail_at(file, line, "bad row", "name = \"value\"", spec);
    snprintf(name, sizeof(name), "%.*s", (int)(eq - spec), spec);
    for (size_t i = 0; i < b->row.n; i++)
        if (strcmp(b->row.cols[i].name, name) == 0)
            c = &b->row.cols[i];
    if (!c) {
        assert_true(b->row.n < MAX_ROW);
        c = &b->row.cols[b->row.n++];
        snprintf(c->name, sizeof(c->name), "%s", name);
    }
    if (!decode_value(eq + 3, c->data, sizeof(c->data), &c->v.len, &c->v.is_null))
        fail_at(file, line, "bad row value", "NULL or \"...\"", eq + 3);
    c->v.data = c->v.is_null ? NULL : c->data;
}

static struct block cur;
static FILE *vec_file;

static int file_teardown(void **state)
{
    (void)state;
    block_end(&cur);
    if (vec_file)
        fclose(vec_file);
    vec_file = NULL;
    return 0;
}

/* "error: MESSAGE" after a rule: parsing that rule fails with exactly "file:MESSAGE". */
static void check_exact_error(const char *file, int line, const char *want)
{
    struct anon_error err;
    size_t fl = strlen(file);

    block_end(&cur);
    if (block_parse(&cur, file, &err))
        fail_at(file, line, "rule parsed but an error was expected", want, "(no error)");
    if (strncmp(err.msg, file, fl) != 0 || err.msg[fl] != ':' || strcmp(err.msg + fl + 1, want))
        fail_at(file, line, "parse error", want, err.msg);
    block_end(&cur);
}

/* "error: RULE => TEXT": parsing RULE fails with a message containing TEXT. */
static void handle_error_line(const char *file, int line, const char *want)
{
    struct anon_error err;

    if (block_parse(&cur, file, &err))
        fail_at(file, line, "rule parsed but an error was expected", want, "(no error)");
    if (!strstr(err.msg, want))
        fail_at(file, line, "parse error", want, err.msg);
    block_end(&cur);
}

static void run_file(void **state)
{
    const char *file = *state;
    static char line[MAX_LINE], pending_in[MAX_LINE];
    int lineno = 0, blocks = 0, values = 0;
    unsigned char key[128];
    size_t key_len = 0;

    vec_file = fopen(file, "r");
    assert_non_null(vec_file);
    memset(&cur, 0, sizeof(cur));
    block_reset(&cur);
    while (fgets(line, sizeof(line), vec_file)) {
        char *colon, *val;
        lineno++;
        line[strcspn(line, "\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        colon = strchr(line, ':');
        if (!colon)
            fail_at(file, lineno, "malformed line", "field: value", line);
        *colon = '\0';
        val = colon + 1 + (colon[1] == ' ');
        if (strcmp(line, "key") == 0) {
            if (!parse_hex_key(&cur, val))
                fail_at(file, lineno, "bad key", "hex:...", val);
            memcpy(key, cur.key, cur.key_len);
            key_len = cur.key_len;
        } else if (strcmp(line, "error") == 0 && !strstr(val, " => ")) {
            check_exact_error(file, lineno, val);
        } else if (strcmp(line, "rule") == 0 || strcmp(line, "error") == 0) {
            struct anon_error err;
            block_reset(&cur);
            if (key_len) {
                memcpy(cur.key, key, key_len);
                cur.key_len = key_len;
                key_len = 0;
            }
            blocks++;
            cur.line = lineno;
            if (line[0] == 'e') {
                snprintf(cur.rule, sizeof(cur.rule), "%s", val);
                /* error: <rule> => <substring> */
                char *arrow = strstr(cur.rule, " => ");
                if (!arrow)
                    fail_at(file, lineno, "bad error line", "error: rule => text", val);
                *arrow = '\0';
                handle_error_line(file, lineno, arrow + 4);
                continue;
            }
            snprintf(cur.rule, sizeof(cur.rule), "%s", val);
            if (!block_parse(&cur, file, &err))
                snprintf(cur.problem, sizeof(cur.problem), "%s", err.msg);
        } else if (!cur.parsed) {
            fail_at(file, cur.line, "rule did not parse", cur.rule, cur.problem);
        } else if (strcmp(line, "describe") == 0) {
            check_describe(&cur, file, lineno, val);
        } else if (strcmp(line, "run_time") == 0) {
            cur.run_time = (time_t)strtoll(val, NULL, 10);
        } else if (strcmp(line, "row") == 0) {
            set_row(&cur, file, lineno, val);
        } else if (strcmp(line, "array") == 0) {
            cur.array = strcmp(val, "true") == 0;
        } else if (strcmp(line, "in") == 0) {
            snprintf(pending_in, sizeof(pending_in), "%s", val);
        } else if (strcmp(line, "out") == 0 || strcmp(line, "fails") == 0) {
            check_apply(&cur, file, lineno, pending_in, val, line[0] == 'f');
            values++;
        } else {
            check_output(&cur, file, lineno, line, val);
        }
    }
    assert_true(blocks > 0);
    print_message("# %s: %d rules, %d values\n", file, blocks, values);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void registry_contract(void **state)
{
    const struct rule_ops *const *all = rule_all();
    size_t n = 0;

    (void)state;
    for (; all[n]; n++) {
        assert_non_null(all[n]->name);
        assert_non_null(all[n]->summary);
        assert_non_null(all[n]->parse);
        assert_non_null(all[n]->describe);
        assert_non_null(all[n]->output);
        assert_non_null(all[n]->apply);
        assert_ptr_equal(rule_lookup(all[n]->name), all[n]);
        /* only keep may skip decoding */
        assert_int_equal(all[n]->passthrough, strcmp(all[n]->name, "keep") == 0);
    }
    assert_true(n >= 5);
    assert_null(rule_lookup("hsah"));
    assert_non_null(rule_lookup("hash_int"));
}

static void hash_needs_a_key(void **state)
{
    struct anon_error err;
    struct yopts *doc, *v;
    struct rule r;
    struct rule_ctx ctx;
    struct rule_value in = {"x", 1, false};
    struct abuf out;
    bool is_null;
    unsigned char short_key[31] = {0};

    (void)state;
    anon_error_clear(&err);
    assert_true(yopts_load("t", "col: hash\n", 10, &doc, &err));
    v = yopts_item(doc, 0);
    assert_true(rule_parse(v, &r, &err));
    memset(&ctx, 0, sizeof(ctx));
    abuf_init(&out, 100);
    assert_false(r.ops->apply(r.state, &ctx, &in, &out, &is_null, &err));
    ctx.key = short_key;
    ctx.key_len = sizeof(short_key);
    assert_false(r.ops->apply(r.state, &ctx, &in, &out, &is_null, &err));
    assert_string_equal(err.msg, "hash key is 31 bytes, at least 32 are required");
    abuf_free(&out);
    rule_free(&r);
    yopts_free(v);
    yopts_free(doc);
}

int main(void)
{
    struct CMUnitTest tests[130];
    char *files[128];
    size_t n = 0, nt = 0;
    int rc;

    for (size_t k = 0; k < sizeof(vec_dirs) / sizeof(vec_dirs[0]); k++) {
        DIR *d = opendir(vec_dirs[k]);
        struct dirent *e;
        if (!d) {
            fprintf(stderr, "cannot open %s (run from the repository root)\n", vec_dirs[k]);
            return 1;
        }
        while ((e = readdir(d)) != NULL && n < 128) {
            size_t l = strlen(e->d_name), sz = strlen(vec_dirs[k]) + l + 2;
            if (l <= 4 || strcmp(e->d_name + l - 4, ".vec") != 0)
                continue;
            files[n] = malloc(sz);
            assert_non_null(files[n]);
            snprintf(files[n], sz, "%s/%s", vec_dirs[k], e->d_name);
            n++;
        }
        closedir(d);
    }
    qsort(files, n, sizeof(files[0]), by_name);
    for (size_t i = 0; i < n; i++)
        tests[nt++] = (struct CMUnitTest){files[i], run_file, NULL, file_teardown, files[i]};
    tests[nt++] = (struct CMUnitTest){"registry_contract", registry_contract, NULL, NULL, NULL};
    tests[nt++] = (struct CMUnitTest){"hash_needs_a_key", hash_needs_a_key, NULL, NULL, NULL};
    rc = _cmocka_run_group_tests("rules", tests, nt, NULL, NULL);
    for (size_t i = 0; i < n; i++)
        free(files[i]);
    return rc;
}
