/*
 * test_rules_extra.c: the helpers under the issue-3 rules: UTF-8 stepping, exact
 * decimals, calendar arithmetic, PII checks, PostgreSQL array literals, scrub shared by
 * threads, date_shift offsets; and the registry listing those rules. The rules
 * themselves run against their vector files in test_rules.c
 * (tests/unit/vectors/rules_extra).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "anonymise/decimal.h"
#include "anonymise/hmac.h"
#include "anonymise/pgarray.h"
#include "anonymise/pgtime.h"
#include "anonymise/rule.h"
#include "anonymise/rules_extra.h"
#include "anonymise/scrub_detectors.h"
#include "anonymise/textfold.h"
#include "anonymise/utf8.h"
#include "anonymise/yopts.h"

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

/* The engine's row is opaque to rules: here, one column `who`. */
struct rule_row {
    char data[32];
    struct rule_value who;
};

static const struct rule_value *who_column(const struct rule_row *row, const char *name)
{
    return strcmp(name, "who") == 0 ? &row->who : NULL;
}

/* Offsets: never 0, within max_days, the same for one entity, both signs seen. */
static void test_date_shift_offsets(void **state)
{
    struct yopts *doc;
    struct rule r = parse_rule("{ date_shift: { by: who, max_days: 3, time: keep } }", &doc);
    struct rule_row row;
    unsigned char key[32];
    struct rule_ctx ctx;
    int seen[7] = {0};

    (void)state;
    memset(&ctx, 0, sizeof(ctx));
    for (size_t i = 0; i < 32; i++)
        key[i] = (unsigned char)(i * 7);
    ctx.key = key;
    ctx.key_len = 32;
    ctx.column = who_column;
    ctx.row = &row;
    for (int e = 0; e < 300; e++) {
        long first = 0;
        row.who.len = (size_t)snprintf(row.data, sizeof(row.data), "entity-%d", e);
        row.who.data = row.data;
        row.who.is_null = false;
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
            assert_int_equal(t.kind, k == 0   ? PGTIME_DATE
                                     : k == 1 ? PGTIME_TIMESTAMP
                                              : PGTIME_TIMESTAMPTZ);
            assert_int_equal(t.usec, k == 0   ? 0
                                     : k == 1 ? 8 * INT64_C(3600000000)
                                              : INT64_C(86399500000));
            off = (long)t.days - base[k];
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
    rule_free(&r);
    yopts_free(doc);
}

/* At the end of the types' ranges: a shift past it is NULL, as before year 1 (a timestamp
 * after 294276 AD failed the run: the target refused it), whatever the zone's offset. */
static void test_date_shift_range_end(void **state)
{
    static const char *const edges[] = {"5874897-12-31", "294276-12-31 10:00:00",
                                        "294276-12-31 10:00:00+00", "294276-12-31 20:00:00-05"};
    struct yopts *doc;
    struct rule r = parse_rule("{ date_shift: { by: who, max_days: 3, time: keep } }", &doc);
    struct rule_row row;
    unsigned char key[32];
    struct rule_ctx ctx;
    int nulls = 0, values = 0;

    (void)state;
    memset(&ctx, 0, sizeof(ctx));
    for (size_t i = 0; i < 32; i++)
        key[i] = (unsigned char)(i * 7);
    ctx.key = key;
    ctx.key_len = 32;
    ctx.column = who_column;
    ctx.row = &row;
    for (int e = 0; e < 100; e++) {
        struct rule_value day = {"2024-03-01", 10, false};
        struct anon_error err;
        struct abuf out;
        struct pgtime t;
        bool is_null, later;
        row.who.len = (size_t)snprintf(row.data, sizeof(row.data), "entity-%d", e);
        row.who.data = row.data;
        row.who.is_null = false;
        abuf_init(&out, 256);
        assert_true(r.ops->apply(r.state, &ctx, &day, &out, &is_null, &err));
        assert_int_equal(pgtime_parse(out.data, out.len, &t), PGTIME_OK);
        later = t.days > 19783; /* this entity's dates move forward */
        for (size_t k = 0; k < sizeof(edges) / sizeof(edges[0]); k++) {
            struct rule_value in = {edges[k], strlen(edges[k]), false};
            abuf_reset(&out);
            assert_true(r.ops->apply(r.state, &ctx, &in, &out, &is_null, &err));
            assert_int_equal(is_null, later);
            nulls += is_null;
            values += !is_null;
        }
        abuf_free(&out);
    }
    assert_true(nulls > 0 && values > 0);
    rule_free(&r);
    yopts_free(doc);
}

/*
 * Issue 10.6 (a): the offsets must not be computable from any published pseudonym. With
 * the old construction (HMAC(key, "date_shift" || 0x00 || entity)) a column hashed with
 * `hash: { namespace: date_shift, length: 64 }` published the MAC the offset came from:
 * for every entity, the offset computed from that hash equals the real shift. Now the
 * offset comes from a key derived with HKDF, which no namespace reaches: across 64
 * entities, the offset derived from each user-visible MAC (namespaces tried: the old
 * one, the HKDF info strings, "") matches by chance only (about 1 in 60 each).
 */
static long offset_from_mac(const unsigned char *mac, long max_days)
{
    uint64_t u = 0, r;

    for (int i = 0; i < 8; i++)
        u = u << 8 | mac[i];
    r = u % (uint64_t)(2 * max_days);
    return (long)r < max_days ? (long)r - max_days : (long)r - max_days + 1;
}

static void test_date_shift_not_from_a_hash(void **state)
{
    static const char *const namespaces[] = {"date_shift", "anonetl/v1/date_shift/days",
                                             "anonetl/v1/date_shift/time", ""};
    struct yopts *doc;
    struct rule r = parse_rule("{ date_shift: { by: who, max_days: 30 } }", &doc);
    struct rule_row row;
    unsigned char key[32];
    struct rule_ctx ctx;
    struct anon_error err;
    struct hmac_key *hk;

    (void)state;
    for (size_t i = 0; i < 32; i++)
        key[i] = (unsigned char)(0x5a ^ i);
    hk = hmac_key_new(key, sizeof(key), &err);
    assert_non_null(hk);
    memset(&ctx, 0, sizeof(ctx));
    ctx.hmac = hk;
    ctx.column = who_column;
    ctx.row = &row;
    for (size_t n = 0; n < sizeof(namespaces) / sizeof(namespaces[0]); n++) {
        int same = 0;
        for (int e = 0; e < 64; e++) {
            struct rule_value in = {"2024-03-01", 10, false};
            unsigned char mac[HMAC_MAC_LEN];
            struct abuf out;
            struct pgtime t;
            bool is_null;
            row.who.len = (size_t)snprintf(row.data, sizeof(row.data), "patient-%d", e);
            row.who.data = row.data;
            row.who.is_null = false;
            abuf_init(&out, 256);
            assert_true(r.ops->apply(r.state, &ctx, &in, &out, &is_null, &err));
            assert_int_equal(pgtime_parse(out.data, out.len, &t), PGTIME_OK);
            hmac_key_value(hk, namespaces[n], strlen(namespaces[n]), row.data, row.who.len, mac);
            same += (long)t.days - 19783 == offset_from_mac(mac, 30);
            abuf_free(&out);
        }
        if (same > 8)
            fail_msg("namespace \"%s\": %d of 64 offsets follow from the published hash",
                     namespaces[n], same);
    }
    hmac_key_free(hk);
    rule_free(&r);
    yopts_free(doc);
}

/* Issue 10.7: the default reference date of age bands is January 1 of the current year
 * (UTC), whatever day the run is: describe() shows it. */
static void test_age_band_default_as_of(void **state)
{
    struct yopts *doc;
    struct rule r = parse_rule("{ generalise: { to: age_band } }", &doc);
    time_t now = time(NULL);
    struct tm tm;
    struct abuf d;
    char want[64];

    (void)state;
    assert_non_null(gmtime_r(&now, &tm));
    snprintf(want, sizeof(want), "to=age_band width=10 top=90 as_of=%04d-01-01", tm.tm_year + 1900);
    abuf_init(&d, 256);
    r.ops->describe(r.state, &d);
    assert_string_equal(abuf_cstr(&d), want);
    abuf_free(&d);
    rule_free(&r);
    yopts_free(doc);
}

/* textfold (scrub row_values): case and Latin accents folded, offsets back to the source,
 * combining marks dropped, Greek and Cyrillic lowercased, other scripts kept; the ASCII fast path (eight bytes at a time) against the byte rule. */
static void test_textfold(void **state)
{
    struct textfold f;
    char ascii[200];

    (void)state;
    textfold_init(&f);
    assert_true(textfold_set(&f,
                             "Zo\xc3\xab O'Brien, \xc5\x81ukasz, STRA\xc3\x9f"
                             "E",
                             30));
    assert_string_equal(f.text, "zoe o'brien, lukasz, strasse");
    assert_false(f.identity);
    assert_int_equal(textfold_source(&f, 2), 2);   /* "e" <- "ë" at byte 2 */
    assert_int_equal(textfold_source(&f, 3), 4);   /* " " after the 2-byte "ë" */
    assert_int_equal(textfold_source(&f, 13), 14); /* "l" <- "Ł" */
    assert_int_equal(textfold_source(&f, f.len), 30);
    assert_true(textfold_set(&f, "\xe6\x9d\x8e \xce\x91", 6)); /* CJK as it is, Greek lowercase */
    assert_memory_equal(f.text, "\xe6\x9d\x8e \xce\xb1", 6);
    /* a combining mark folds to nothing, its source stays inside the letter's span;
     * fullwidth and Vietnamese letters (3 bytes) fold to one; Cyrillic to lowercase */
    assert_true(textfold_set(&f, "Zoe\xcc\x88 \xef\xbc\xa1\xe1\xbb\x85 \xd0\x81", 15));
    assert_string_equal(f.text, "zoe ae \xd0\xb5");
    assert_int_equal(f.len, 9);
    assert_int_equal(textfold_source(&f, 3), 5);  /* " " after "e" U+0308 */
    assert_int_equal(textfold_source(&f, 4), 6);  /* "a" <- fullwidth "Ａ" */
    assert_int_equal(textfold_source(&f, 5), 9);  /* "e" <- "ễ" */
    assert_int_equal(textfold_source(&f, 7), 13); /* "е" <- "Ё" */
    assert_int_equal(textfold_source(&f, f.len), 15);
    for (size_t i = 0; i < sizeof(ascii); i++)
        ascii[i] = (char)(1 + i % 127);
    assert_true(textfold_set(&f, ascii, sizeof(ascii)));
    assert_true(f.identity);
    for (size_t i = 0; i < sizeof(ascii); i++) {
        char c = ascii[i];
        assert_int_equal(f.text[i], c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    textfold_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry_lists_extra_rules),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_decimal_against_int128),
        cmocka_unit_test(test_decimal_compare_and_steps),
        cmocka_unit_test(test_calendar),
        cmocka_unit_test(test_detector_checks),
        cmocka_unit_test(test_pgarray_literals),
        cmocka_unit_test(test_pgarray_round_trip),
        cmocka_unit_test(test_scrub_shared_by_threads),
        cmocka_unit_test(test_date_shift_offsets),
        cmocka_unit_test(test_date_shift_range_end),
        cmocka_unit_test(test_date_shift_not_from_a_hash),
        cmocka_unit_test(test_age_band_default_as_of),
        cmocka_unit_test(test_textfold),
    };

    return cmocka_run_group_tests_name("rules_extra", tests, NULL, NULL);
}
