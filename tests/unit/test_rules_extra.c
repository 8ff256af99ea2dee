/*
 * test_rules_extra.c: the issue-3 rules (mask, truncate, generalise, bucket, round,
 * scrub, date_shift, json) against vector files in tests/unit/vectors/rules_extra
 * (*.vec, one test per file), plus the helpers under them: UTF-8 stepping, exact
 * decimals, calendar arithmetic, PII checks, and PostgreSQL array literals.
 *
 * Vector files use the format of test_rules.c, with these additions:
 *
 *   key: hex:0011...         right before rule: (that block only); default 00 01 .. 1f
 *   rule: { mask: { keep_last: 3 } }   the rule as written after a column name
 *   error: needs length      parse must fail with a message CONTAINING this text
 *   source_type: integer     output() is asked for this source type ...
 *   output_type: text        ... and must give this type
 *   may_be_null: true        ... and this flag
 *   problem: "needs a date"  ... and a problem containing this ("" = no problem)
 *   describe: keep_last=3    describe() must give exactly this
 *   run_time: 1718445600     ctx->run_time (seconds since the epoch, UTC)
 *   row: patient = "42"      a column of the current row (or NULL); repeatable
 *   array: true              apply through pgarray_apply_rule (array columns)
 *   in: "value" | NULL       a value (double-quoted, escapes \" \\ \n \t \xHH)
 *   out: "value" | NULL      the expected output of apply()
 *   fails: "substring"       instead of out: apply must return false, err containing it
 *
 * Every value is applied twice, with a prepared key (ctx.hmac) and the raw key only.
 */
#include <dirent.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "anonymise/decimal.h"
#include "anonymise/hmac.h"
#include "anonymise/pgarray.h"
#include "anonymise/pgtime.h"
#include "anonymise/rule.h"
#include "anonymise/rules_extra.h"
#include "anonymise/scrub_detectors.h"
#include "anonymise/utf8.h"
#include "anonymise/yopts.h"

#define VEC_DIR "tests/unit/vectors/rules_extra"
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
    bool is_null = false, ok;

    abuf_init(&out, 1 << 20);
    anon_error_clear(&err);
    ok = run_apply(b, ctx, in, &out, &is_null, &err);
    snprintf(got, sizeof(got), "%s", ok ? (is_null ? "NULL" : abuf_cstr(&out)) : err.msg);
    abuf_free(&out);
    if (want_fail) {
        if (ok || !strstr(err.msg, want))
            fail_at(file, line, "apply should fail", want, ok ? "(succeeded)" : got);
        return;
    }
    if (!ok)
        fail_at(file, line, "apply failed", want, got);
    if (is_null != want_null ||
        (!want_null && (strlen(got) != want_len || memcmp(got, want, want_len))))
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

/* ------------------------------------------------------------------ helpers */

static struct rule parse_rule(const char *text, struct yopts **doc)
{
    struct anon_error err;
    struct yopts *v;
    struct rule r;
    char buf[1024];

    anon_error_clear(&err);
    snprintf(buf, sizeof(buf), "col: %s\n", text);
    if (!yopts_load("t", buf, strlen(buf), doc, &err))
        fail_msg("%s", err.msg);
    v = yopts_item(*doc, 0);
    if (!rule_parse(v, &r, &err))
        fail_msg("%s", err.msg);
    yopts_free(v);
    return r;
}

static void test_registry_lists_extra_rules(void **state)
{
    const struct rule_ops *want[] = {&rule_mask,  &rule_truncate, &rule_generalise, &rule_bucket,
                                     &rule_round, &rule_scrub,    &rule_date_shift, &rule_json};

    (void)state;
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        assert_ptr_equal(rule_lookup(want[i]->name), want[i]);
        assert_false(want[i]->passthrough);
        assert_non_null(want[i]->free_state);
    }
}

static void test_utf8(void **state)
{
    const char *s = "Zo\xc3\xab \xe6\x9d\x8e\xf0\x9f\x98\x80";

    (void)state;
    assert_int_equal(utf8_count(s, strlen(s)), 6);
    assert_int_equal(utf8_offset(s, strlen(s), 3), 4);
    assert_int_equal(utf8_offset(s, strlen(s), 100), strlen(s));
    assert_int_equal(utf8_char_len("\xe6\x9d", 2), 1);         /* cut short */
    assert_int_equal(utf8_char_len("\xc0\xaf", 2), 1);         /* overlong */
    assert_int_equal(utf8_char_len("\xed\xa0\x80", 3), 1);     /* surrogate */
    assert_int_equal(utf8_char_len("\xf4\x90\x80\x80", 4), 1); /* > U+10FFFF */
    assert_int_equal(utf8_count("\xff\xfe", 2), 2);
    assert_true(utf8_is_one_char("\xe2\x80\xa2", 3));
    assert_false(utf8_is_one_char("ab", 2));
    assert_false(utf8_is_one_char("", 0));
}

/* Reference floor / half-away quantisation on 128-bit integers. */
static __int128 ref_quant(__int128 v, __int128 m, bool floor_mode)
{
    __int128 q = v / m, r = v % m;

    if (floor_mode) {
        if (r < 0)
            q--;
    } else {
        __int128 a = r < 0 ? -r : r;
        if (2 * a >= m)
            q += v < 0 ? -1 : 1;
    }
    return q * m;
}

static void fmt128(__int128 v, unsigned scale, char *out, size_t cap)
{
    char digits[64];
    size_t n = 0, o = 0;
    unsigned __int128 a = v < 0 ? (unsigned __int128)(-v) : (unsigned __int128)v;

    do {
        digits[n++] = (char)('0' + (int)(a % 10));
        a /= 10;
    } while (a);
    while (n <= scale)
        digits[n++] = '0';
    if (v < 0)
        out[o++] = '-';
    while (n > 0 && o + 2 < cap) {
        if (n == scale && scale > 0)
            out[o++] = '.';
        out[o++] = digits[--n];
    }
    out[o] = '\0';
}

static void test_decimal_against_int128(void **state)
{
    unsigned seed = 12345;

    (void)state;
    for (int i = 0; i < 20000; i++) {
        char vtext[80], stext[80], want[80];
        struct decimal d;
        struct decimal_step st;
        struct abuf out;
        __int128 v, m, r;
        unsigned scale;
        bool floor_mode = i % 2 == 0;

        seed = seed * 1103515245 + 12345;
        v = ((__int128)(int32_t)seed * 1000003) + (seed % 7 == 0 ? 0 : (int)(seed % 1000));
        if (seed % 5 == 0)
            v = -v;
        seed = seed * 1103515245 + 12345;
        m = 1 + seed % (i % 3 == 0 ? 1000 : 7);
        scale = seed % 4;
        fmt128(v, scale, vtext, sizeof(vtext));
        fmt128(m, scale, stext, sizeof(stext));
        assert_int_equal(decimal_parse(vtext, strlen(vtext), &d), DECIMAL_OK);
        assert_true(decimal_step_parse(stext[0] == '-' ? stext + 1 : stext, &st));
        r = ref_quant(v, m, floor_mode);
        fmt128(r, scale, want, sizeof(want));
        abuf_init(&out, 200);
        assert_true(
            decimal_quantize(&d, &st, floor_mode ? DECIMAL_FLOOR : DECIMAL_HALF_AWAY, &out));
        {
            /* equal as numbers: the output has the step's own scale ("0.840" -> 2) */
            struct decimal g, w;
            char got[128];
            snprintf(got, sizeof(got), "%s", abuf_cstr(&out));
            abuf_free(&out);
            if (decimal_parse(got, strlen(got), &g) != DECIMAL_OK ||
                decimal_parse(want, strlen(want), &w) != DECIMAL_OK || decimal_cmp(&g, &w) != 0 ||
                strcmp(got, "-0") == 0 ||
                (strchr(got, '.') && strlen(strchr(got, '.')) - 1 > scale))
                fail_msg("%s by %s (%s): want %s got %s", vtext, stext,
                         floor_mode ? "floor" : "round", want, got);
        }
    }
}

static void test_decimal_compare_and_steps(void **state)
{
    struct decimal a, b;
    struct decimal_step st;
    const char *order[] = {"-1e3", "-999.5", "-0.001", "0", "0.0005", "5e-4x", NULL};

    (void)state;
    assert_int_equal(decimal_parse("1e", 2, &a), DECIMAL_NOT_NUMBER);
    assert_int_equal(decimal_parse("NaN", 3, &a), DECIMAL_SPECIAL);
    assert_int_equal(decimal_parse("-Infinity", 9, &a), DECIMAL_SPECIAL);
    assert_int_equal(decimal_parse(".", 1, &a), DECIMAL_NOT_NUMBER);
    assert_int_equal(decimal_parse("1e99999", 7, &a), DECIMAL_NOT_NUMBER);
    for (int i = 0; order[i + 1] && order[i + 1][strlen(order[i + 1]) - 1] != 'x'; i++) {
        assert_int_equal(decimal_parse(order[i], strlen(order[i]), &a), DECIMAL_OK);
        assert_int_equal(decimal_parse(order[i + 1], strlen(order[i + 1]), &b), DECIMAL_OK);
        assert_true(decimal_cmp(&a, &b) < 0);
        assert_true(decimal_cmp(&b, &a) > 0);
    }
    assert_int_equal(decimal_parse("0.0005", 6, &a), DECIMAL_OK);
    assert_int_equal(decimal_parse("5e-4", 4, &b), DECIMAL_OK);
    assert_int_equal(decimal_cmp(&a, &b), 0);
    assert_false(decimal_step_parse("0", &st));
    assert_false(decimal_step_parse("-5", &st));
    assert_false(decimal_step_parse("1e3", &st));
    assert_false(decimal_step_parse("1000000000000000000", &st));
    assert_true(decimal_step_parse("0.250", &st));
    assert_int_equal(st.m, 25);
    assert_int_equal(st.scale, 2);
    assert_true(decimal_step_keeps_integers(&st));
    assert_true(decimal_step_parse("0.4", &st));
    assert_false(decimal_step_keeps_integers(&st));
    assert_true(decimal_step_parse("1000", &st));
    assert_true(decimal_step_keeps_integers(&st));
}

static void test_calendar(void **state)
{
    long y;
    int m, d;

    (void)state;
    assert_int_equal(pgtime_days(1970, 1, 1), 0);
    assert_int_equal(pgtime_days(2000, 3, 1), 11017);
    assert_int_equal(pgtime_days(1, 1, 1), -719162);
    for (long z = -800000; z < 3000000; z += 37) {
        pgtime_civil(z, &y, &m, &d);
        assert_int_equal(pgtime_days(y, m, d), z);
    }
}

static void test_detector_checks(void **state)
{
    char out[5];

    (void)state;
    assert_true(scrub_luhn_ok("4111 1111 1111 1111", 19));
    assert_false(scrub_luhn_ok("4111 1111 1111 1112", 19));
    assert_false(scrub_luhn_ok("0000 0000 0", 11)); /* too short */
    assert_true(scrub_iban_ok("GB82 WEST 1234 5698 7654 32", 27));
    assert_true(scrub_iban_ok("DE89370400440532013000", 22));
    assert_false(scrub_iban_ok("GB82 WEST 1234 5698 7654 33", 27));
    assert_true(scrub_phone_ok("+44 (0)20 7946 0958", 19));
    assert_true(scrub_phone_ok("07700 900123", 12));
    assert_false(scrub_phone_ok("0123 456", 8));
    assert_false(scrub_phone_ok("+0 1234 5678", 12));
    assert_true(scrub_postcode_outward(" sw1a  1aa ", 11, out));
    assert_string_equal(out, "SW1A");
    assert_true(scrub_postcode_outward("GIR 0AA", 7, out));
    assert_string_equal(out, "GIR");
    assert_true(scrub_postcode_outward("M11AE", 5, out));
    assert_string_equal(out, "M1");
    assert_false(scrub_postcode_outward("1AB 2CD", 7, out));
    assert_false(scrub_postcode_outward("SW1A 1A1", 8, out));
    assert_false(scrub_postcode_outward("ABCDE 1AA", 9, out));
    assert_non_null(scrub_detector_find("card"));
    assert_ptr_equal(scrub_detector_find("card"), scrub_detector_find("card_number"));
    assert_null(scrub_detector_find("ssn"));
}

/* ---------------------------------------------------------------- pgarray */

struct collect {
    char elems[64][64];
    size_t lens[64];
    bool nulls[64];
    size_t n;
};

static bool identity(void *arg, const struct rule_value *e, struct abuf *out, bool *out_null,
                     struct anon_error *err)
{
    struct collect *c = arg;

    (void)err;
    if (c && c->n < 64 && e->len < 64) {
        memcpy(c->elems[c->n], e->data, e->len);
        c->lens[c->n] = e->len;
        c->nulls[c->n++] = e->is_null;
    }
    *out_null = e->is_null;
    abuf_append(out, e->data, e->len);
    return true;
}

static void expect_map(const char *in, const char *want)
{
    struct abuf out;
    struct anon_error err;
    enum pgarray_status st;

    abuf_init(&out, 4096);
    st = pgarray_map(in, strlen(in), ',', identity, NULL, &out, &err);
    if (!want) {
        if (st != PGARRAY_MALFORMED)
            fail_msg("%s: expected malformed, got %d %s", in, st, abuf_cstr(&out));
    } else if (st != PGARRAY_OK || strcmp(abuf_cstr(&out), want) != 0) {
        fail_msg("%s: want %s got %d %s", in, want, st, abuf_cstr(&out));
    }
    abuf_free(&out);
}

static void test_pgarray_literals(void **state)
{
    (void)state;
    expect_map("{}", "{}");
    expect_map("{a,b,c}", "{a,b,c}");
    expect_map("{\"c d\",NULL,\"NULL\",\"\"}", "{\"c d\",NULL,\"NULL\",\"\"}");
    expect_map("{\"a\\\"b\",\"x\\\\y\",\"{}\",\"a,b\"}", "{\"a\\\"b\",\"x\\\\y\",\"{}\",\"a,b\"}");
    expect_map("{{1,2},{3,4}}", "{{1,2},{3,4}}");
    expect_map("[0:1]={x,y}", "[0:1]={x,y}");
    expect_map("[1:2][1:1]={{a},{b}}", "[1:2][1:1]={{a},{b}}");
    expect_map(" { a , b } ", "{a,b}");
    expect_map("{\"quoted\"}", "{quoted}"); /* re-encoded minimally, like array_out */
    expect_map("{null,Null}", "{NULL,NULL}");
    expect_map("{Zo\xc3\xab,\xe6\x9d\x8e}", "{Zo\xc3\xab,\xe6\x9d\x8e}");
    expect_map("{a\\,b}", "{\"a,b\"}");
    expect_map("", NULL);
    expect_map("{", NULL);
    expect_map("{a", NULL);
    expect_map("{a,}", NULL);
    expect_map("{,a}", NULL);
    expect_map("{\"a}", NULL);
    expect_map("{a}x", NULL);
    expect_map("a,b", NULL);
    expect_map("[0:1]{x}", NULL);
    expect_map("[x]={a}", NULL);
    expect_map("{{{{{{{1}}}}}}}", NULL); /* 7 levels: more than PostgreSQL allows */
    expect_map("{{{{{{1}}}}}}", "{{{{{{1}}}}}}");
}

/* Random elements: encode, map, and get the same elements and the same text back. */
static void test_pgarray_round_trip(void **state)
{
    static const char alphabet[] = "ab \"\\{},N\tUL\xc3\xa9x";
    unsigned seed = 7;

    (void)state;
    for (int t = 0; t < 2000; t++) {
        struct collect want = {0}, got = {0};
        struct abuf lit, out;
        struct anon_error err;
        size_t n;

        seed = seed * 1103515245 + 12345;
        n = seed % 6;
        abuf_init(&lit, 8192);
        abuf_putc(&lit, '{');
        for (size_t i = 0; i < n; i++) {
            size_t len;
            seed = seed * 1103515245 + 12345;
            want.nulls[i] = seed % 9 == 0;
            len = (seed >> 8) % 8;
            if (seed % 13 == 0) {
                memcpy(want.elems[i], "null", 4);
                len = 4;
            } else {
                for (size_t k = 0; k < len; k++) {
                    seed = seed * 1103515245 + 12345;
                    want.elems[i][k] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
                }
            }
            want.lens[i] = want.nulls[i] ? 0 : len;
            if (i)
                abuf_putc(&lit, ',');
            pgarray_encode_elem(want.elems[i], want.lens[i], want.nulls[i], ',', &lit);
        }
        abuf_putc(&lit, '}');
        abuf_init(&out, 8192);
        assert_int_equal(pgarray_map(lit.data, lit.len, ',', identity, &got, &out, &err),
                         PGARRAY_OK);
        assert_int_equal(got.n, n);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(got.nulls[i], want.nulls[i]);
            if (!want.nulls[i]) {
                assert_int_equal(got.lens[i], want.lens[i]);
                assert_memory_equal(got.elems[i], want.elems[i], want.lens[i]);
            }
        }
        assert_int_equal(out.len, lit.len);
        assert_memory_equal(out.data, lit.data, lit.len);
        abuf_free(&out);
        abuf_free(&lit);
    }
}

/* ------------------------------------------------------------ scrub, threads */

struct scrub_job {
    const struct rule *r;
    const char *const *texts;
    size_t n;
    char **results;
    bool ok;
};

static void *scrub_worker(void *arg)
{
    struct scrub_job *j = arg;
    struct rule_ctx ctx;

    memset(&ctx, 0, sizeof(ctx));
    j->ok = true;
    for (int round = 0; round < 200; round++) {
        for (size_t i = 0; i < j->n; i++) {
            struct rule_value in = {j->texts[i], strlen(j->texts[i]), false};
            struct abuf out;
            struct anon_error err;
            bool is_null;
            abuf_init(&out, 1 << 16);
            if (!j->r->ops->apply(j->r->state, &ctx, &in, &out, &is_null, &err) ||
                strcmp(abuf_cstr(&out), j->results[i]) != 0)
                j->ok = false;
            abuf_free(&out);
        }
    }
    return NULL;
}

static void test_scrub_shared_by_threads(void **state)
{
    static const char *const texts[] = {
        "call 07700 900123 or mail a.b@example.co.uk",
        "card 4111-1111-1111-1111, iban GB82 WEST 1234 5698 7654 32, ni AB 12 34 56 C",
        "nothing to see here",
        "SW1A 1AA and +44 (0)20 7946 0958 and CASE-991",
    };
    struct yopts *doc;
    struct rule r = parse_rule("{ scrub: { patterns: [{ regex: \"CASE-[0-9]+\", "
                               "replacement: \"[CASE]\" }] } }",
                               &doc);
    char *results[4];
    struct scrub_job jobs[4];
    pthread_t th[4];
    struct rule_ctx ctx;

    (void)state;
    memset(&ctx, 0, sizeof(ctx));
    for (size_t i = 0; i < 4; i++) {
        struct rule_value in = {texts[i], strlen(texts[i]), false};
        struct abuf out;
        struct anon_error err;
        bool is_null;
        abuf_init(&out, 1 << 16);
        assert_true(r.ops->apply(r.state, &ctx, &in, &out, &is_null, &err));
        results[i] = strdup(abuf_cstr(&out));
        abuf_free(&out);
    }
    assert_string_equal(results[0], "call [PHONE] or mail [EMAIL]");
    assert_string_equal(results[1], "card [CARD], iban [IBAN], ni [NINO]");
    assert_string_equal(results[3], "[POSTCODE] and [PHONE] and [CASE]");
    for (int t = 0; t < 4; t++) {
        jobs[t] = (struct scrub_job){&r, texts, 4, results, false};
        assert_int_equal(pthread_create(&th[t], NULL, scrub_worker, &jobs[t]), 0);
    }
    for (int t = 0; t < 4; t++) {
        pthread_join(th[t], NULL);
        assert_true(jobs[t].ok);
    }
    for (size_t i = 0; i < 4; i++)
        free(results[i]);
    rule_free(&r);
    yopts_free(doc);
}

/* Offsets: never 0, within max_days, the same for one entity, both signs seen. */
static void test_date_shift_offsets(void **state)
{
    struct yopts *doc;
    struct rule r = parse_rule("{ date_shift: { by: who, max_days: 3 } }", &doc);
    struct block *b = calloc(1, sizeof(*b));
    struct rule_ctx ctx;
    int seen[7] = {0};

    (void)state;
    assert_non_null(b);
    memset(&ctx, 0, sizeof(ctx));
    for (size_t i = 0; i < 32; i++)
        b->key[i] = (unsigned char)(i * 7);
    ctx.key = b->key;
    ctx.key_len = 32;
    ctx.column = row_column;
    ctx.row = &b->row;
    b->row.n = 1;
    snprintf(b->row.cols[0].name, sizeof(b->row.cols[0].name), "who");
    for (int e = 0; e < 300; e++) {
        long first = 0;
        b->row.cols[0].v.len = (size_t)snprintf(b->row.cols[0].data, 32, "entity-%d", e);
        b->row.cols[0].v.data = b->row.cols[0].data;
        for (int k = 0; k < 3; k++) {
            static const char *const dates[] = {"2024-03-01", "2024-03-10 08:00:00",
                                                "1999-12-31 23:59:59.5+00"};
            static const long base[] = {19783, 19792, 10956};
            struct rule_value in = {dates[k], strlen(dates[k]), false};
            struct abuf out;
            struct anon_error err;
            struct pgtime t;
            bool is_null;
            long off;
            abuf_init(&out, 256);
            assert_true(r.ops->apply(r.state, &ctx, &in, &out, &is_null, &err));
            assert_false(is_null);
            assert_int_equal(pgtime_parse(out.data, out.len, &t), PGTIME_OK);
            assert_int_equal(t.time_len, k == 0 ? 0 : strlen(dates[k]) - 11 - (k == 2 ? 3 : 0));
            off = pgtime_days(t.year, t.month, t.day) - base[k];
            assert_true(off != 0 && off >= -3 && off <= 3);
            if (k == 0)
                first = off;
            assert_int_equal(off, first);
            abuf_free(&out);
        }
        seen[first + 3]++;
    }
    assert_int_equal(seen[3], 0);
    for (int i = 0; i < 7; i++)
        if (i != 3)
            assert_true(seen[i] > 20);
    free(b);
    rule_free(&r);
    yopts_free(doc);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
    struct CMUnitTest tests[80];
    char *files[64];
    size_t n = 0, nt = 0;
    DIR *d = opendir(VEC_DIR);
    struct dirent *e;
    int rc;

    if (!d) {
        fprintf(stderr, "cannot open %s (run from the repository root)\n", VEC_DIR);
        return 1;
    }
    while ((e = readdir(d)) != NULL && n < 64) {
        size_t l = strlen(e->d_name);
        if (l > 4 && strcmp(e->d_name + l - 4, ".vec") == 0) {
            size_t sz = sizeof(VEC_DIR) + l + 1;
            files[n] = malloc(sz);
            assert_non_null(files[n]);
            snprintf(files[n], sz, "%s/%s", VEC_DIR, e->d_name);
            n++;
        }
    }
    closedir(d);
    qsort(files, n, sizeof(files[0]), by_name);
    for (size_t i = 0; i < n; i++)
        tests[nt++] = (struct CMUnitTest){files[i], run_file, NULL, file_teardown, files[i]};
#define ADD(f) tests[nt++] = (struct CMUnitTest){#f, f, NULL, NULL, NULL}
    ADD(test_registry_lists_extra_rules);
    ADD(test_utf8);
    ADD(test_decimal_against_int128);
    ADD(test_decimal_compare_and_steps);
    ADD(test_calendar);
    ADD(test_detector_checks);
    ADD(test_pgarray_literals);
    ADD(test_pgarray_round_trip);
    ADD(test_scrub_shared_by_threads);
    ADD(test_date_shift_offsets);
#undef ADD
    rc = _cmocka_run_group_tests("rules_extra", tests, nt, NULL, NULL);
    for (size_t i = 0; i < n; i++)
        free(files[i]);
    return rc;
}
