/*
 * test_rules.c: the rules against vector files (tests/unit/vectors/rules, files ending .vec), one
 * test per file. A file is a list of blocks, each starting with `rule:`:
 *
 *   key: hex:0011...          optional, right before rule: (that block only); the
 *                             default key is the bytes 00 01 .. 1f
 *   rule: { hash: { length: 16 } }     the rule as written after a column name
 *   source_type: text         output() is asked for this source type ...
 *   output_type: text         ... and must give this type
 *   may_be_null: false        ... and this flag
 *   describe: length=16 ...   describe() must give exactly this
 *   in: "value"  |  in: NULL  a value (double-quoted, escapes \" \\ \n \t \xHH)
 *   out: "value" |  out: NULL the expected result of apply()
 *   error: 1:24: col.hash.length: ...   instead of the above: parse must fail so
 *
 * The rule text is loaded as the document "col: <rule>", so positions in expected
 * errors count from that line. Values are applied twice: with a prepared key
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
#include "anonymise/rule.h"
#include "anonymise/yopts.h"

#define VEC_DIR "tests/unit/vectors/rules"
#define MAX_LINE 4096

struct block {
    char rule[MAX_LINE];
    unsigned char key[128];
    size_t key_len;
    struct yopts *doc, *value;
    struct rule r;
    bool parsed;
    char source_type[300];
    char problem[ANON_ERROR_MAX];
    int line; /* of `rule:` in the vector file */
};

static void default_key(struct block *b)
{
    for (size_t i = 0; i < 32; i++)
        b->key[i] = (unsigned char)i;
    b->key_len = 32;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* "NULL" or a double-quoted string with escapes; *len set; returns false if malformed. */
static bool decode_value(const char *s, char *out, size_t cap, size_t *len, bool *is_null)
{
    size_t n = 0;

    *is_null = strcmp(s, "NULL") == 0;
    *len = 0;
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

/* Load "col: <rule>" and parse it; returns the error text (without "file:") on failure. */
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

static void check_error(struct block *b, const char *file, int line, const char *want)
{
    struct anon_error err;
    size_t fl = strlen(file);

    if (block_parse(b, file, &err))
        fail_at(file, line, "rule parsed but an error was expected", want, "(no error)");
    if (strncmp(err.msg, file, fl) != 0 || err.msg[fl] != ':' || strcmp(err.msg + fl + 1, want))
        fail_at(file, line, "parse error", want, err.msg);
}

static void check_output(struct block *b, const char *file, int line, const char *field,
                         const char *want)
{
    struct rule_output out;

    memset(&out, 0, sizeof(out));
    if (!b->parsed)
        fail_at(file, line, "rule did not parse", "a rule", b->rule);
    if (strcmp(field, "source_type") == 0) {
        snprintf(b->source_type, sizeof(b->source_type), "%s", want);
        return;
    }
    b->r.ops->output(b->r.state, b->source_type, &out);
    if (strcmp(field, "output_type") == 0 && strcmp(out.type, want) != 0)
        fail_at(file, line, "output type", want, out.type);
    if (strcmp(field, "may_be_null") == 0 && strcmp(out.may_be_null ? "true" : "false", want) != 0)
        fail_at(file, line, "may_be_null", want, out.may_be_null ? "true" : "false");
}

static void check_describe(struct block *b, const char *file, int line, const char *want)
{
    struct abuf d;

    abuf_init(&d, 4096);
    b->r.ops->describe(b->r.state, &d);
    if (strcmp(abuf_cstr(&d), want) != 0) {
        char got[512];
        snprintf(got, sizeof(got), "%s", abuf_cstr(&d));
        abuf_free(&d);
        fail_at(file, line, "describe", want, got);
    }
    abuf_free(&d);
}

static void apply_one(struct block *b, const struct rule_ctx *ctx, const char *file, int line,
                      const struct rule_value *in, const char *want, size_t want_len,
                      bool want_null)
{
    struct anon_error err;
    struct abuf out;
    bool is_null = false;

    abuf_init(&out, 1 << 20);
    anon_error_clear(&err);
    if (!b->r.ops->apply(b->r.state, ctx, in, &out, &is_null, &err)) {
        abuf_free(&out);
        fail_at(file, line, "apply failed", want, err.msg);
    }
    if (is_null != want_null ||
        (!want_null && (out.len != want_len || memcmp(out.data ? out.data : "", want, want_len)))) {
        char got[MAX_LINE];
        snprintf(got, sizeof(got), "%s", is_null ? "NULL" : abuf_cstr(&out));
        abuf_free(&out);
        fail_at(file, line, "apply", want_null ? "NULL" : want, got);
    }
    abuf_free(&out);
}

static void check_apply(struct block *b, const char *file, int line, const char *in_text,
                        const char *out_text)
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
    apply_one(b, &ctx, file, line, &in, want, want_len, want_null);
    k = hmac_key_new(b->key, b->key_len, &err);
    assert_non_null(k);
    ctx.hmac = k;
    apply_one(b, &ctx, file, line, &in, want, want_len, want_null);
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

/* File-level so the teardown frees them when a check fails (cmocka longjmps out). */
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

static void run_file(void **state)
{
    const char *file = *state;
    static char line[MAX_LINE];
    char pending_in[MAX_LINE] = "";
    int lineno = 0, blocks = 0, values = 0;
    bool key_given = false;

    vec_file = fopen(file, "r");
    assert_non_null(vec_file);
    memset(&cur, 0, sizeof(cur));
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
            block_end(&cur);
            if (!parse_hex_key(&cur, val))
                fail_at(file, lineno, "bad key", "hex:...", val);
            key_given = true;
        } else if (strcmp(line, "rule") == 0) {
            struct anon_error err;
            block_end(&cur);
            if (!key_given)
                default_key(&cur);
            key_given = false;
            blocks++;
            snprintf(cur.rule, sizeof(cur.rule), "%s", val);
            cur.line = lineno;
            snprintf(cur.source_type, sizeof(cur.source_type), "text");
            if (!block_parse(&cur, file, &err)) /* checked by the fields that follow */
                snprintf(cur.problem, sizeof(cur.problem), "%s", err.msg);
        } else if (strcmp(line, "error") == 0) {
            block_end(&cur);
            check_error(&cur, file, lineno, val);
            block_end(&cur);
        } else if (!cur.parsed) {
            fail_at(file, cur.line, "rule did not parse", cur.rule, cur.problem);
        } else if (strcmp(line, "describe") == 0) {
            check_describe(&cur, file, lineno, val);
        } else if (strcmp(line, "in") == 0) {
            snprintf(pending_in, sizeof(pending_in), "%s", val);
        } else if (strcmp(line, "out") == 0) {
            check_apply(&cur, file, lineno, pending_in, val);
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
    struct CMUnitTest tests[64];
    char *files[62];
    size_t n = 0;
    DIR *d = opendir(VEC_DIR);
    struct dirent *e;
    int rc;

    if (!d) {
        fprintf(stderr, "cannot open %s (run from the repository root)\n", VEC_DIR);
        return 1;
    }
    while ((e = readdir(d)) != NULL && n < 62) {
        size_t l = strlen(e->d_name);
        if (l > 4 && strcmp(e->d_name + l - 4, ".vec") == 0) {
            size_t sz = sizeof(VEC_DIR) + l + 1;
            files[n] = malloc(sz);
            snprintf(files[n], sz, "%s/%s", VEC_DIR, e->d_name);
            n++;
        }
    }
    closedir(d);
    qsort(files, n, sizeof(files[0]), by_name);
    memset(tests, 0, sizeof(tests));
    for (size_t i = 0; i < n; i++) {
        tests[i].name = files[i];
        tests[i].test_func = run_file;
        tests[i].initial_state = files[i];
        tests[i].teardown_func = file_teardown;
    }
    tests[n].name = "registry_contract";
    tests[n++].test_func = registry_contract;
    tests[n].name = "hash_needs_a_key";
    tests[n++].test_func = hash_needs_a_key;
    rc = _cmocka_run_group_tests("rules", tests, n, NULL, NULL);
    for (size_t i = 0; i + 2 < n; i++)
        free(files[i]);
    return rc;
}
