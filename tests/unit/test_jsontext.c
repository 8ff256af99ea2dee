/*
 * test_jsontext.c: the JSON scanner under the json rule (anonymise/jsontext): every
 * form PostgreSQL's json/jsonb input accepts is valid and every form it refuses is not
 * (the lists were checked against PostgreSQL 15); nesting far deeper than any library
 * default; string decoding and encoding; and the json rule on documents too deep or
 * too large for a vector file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "anonymise/hmac.h"
#include "anonymise/jsontext.h"
#include "anonymise/rule.h"
#include "anonymise/rule_json.h"
#include "anonymise/yopts.h"

static bool valid(const char *s)
{
    return jsontext_valid(s, strlen(s));
}

static void test_accepts_what_postgres_accepts(void **state)
{
    static const char *const good[] = {
        "0",
        "-0",
        "1",
        "-1",
        "10",
        "1.5",
        "-0.5",
        "1e400",
        "1E400",
        "1e-7",
        "1E-7",
        "1E+5",
        "-1.25e+10",
        "12345678901234567890123",
        "123456789012345678901234567890.123456789",
        "true",
        "false",
        "null",
        "\"\"",
        "\"a\"",
        "\"\\u00e9\"",
        "\"\\uD83D\\uDE00\"",
        "\"\\ud800\"",
        "\"\\udc00x\"",
        "\"\\u0000\"",
        "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"",
        "\"Zoë 李 😀\"",
        "{}",
        "[]",
        "[[]]",
        "{\"\":1}",
        "{\"a\":1,\"a\":2}",
        " \t\r\n{ \"a\" : [ 1 , 2 ] , \"b\" : { } } \n",
        "[1,\"a\",{\"b\":[null,true,false]}]",
        "\"\x7f\"",
        "  [ 1 , 2 ]  ",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        if (!valid(good[i]))
            fail_msg("refused: %s", good[i]);
}

static void test_refuses_what_postgres_refuses(void **state)
{
    static const char *const bad[] = {
        "",
        " ",
        "01",
        "-",
        "1.",
        ".5",
        "1e",
        "1e+",
        "-01.5",
        "+1",
        "0x10",
        "NaN",
        "Infinity",
        "True",
        "nul",
        "nulls",
        "\"a\\x\"",
        "\"\\u12\"",
        "\"\\u12g4\"",
        "[1,]",
        "{\"a\":1,}",
        "\"tab\there\"",
        "1 2",
        "{\"a\"}",
        "{\"a\":}",
        "{a:1}",
        "{1:1}",
        "[1 2]",
        "[",
        "]",
        "{",
        "}",
        "[}",
        "{]",
        "{\"a\":1]",
        "[1}",
        "\"unterminated",
        "\"a\\",
        "'a'",
        "[1,,2]",
        "{\"a\":1 \"b\":2}",
        "//",
        "/* c */ 1",
        "\"nul\0byte\"",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (valid(bad[i]))
            fail_msg("accepted: %s", bad[i]);
    assert_false(jsontext_valid("\"a\0\"", 4)); /* a raw NUL inside a string */
    assert_false(jsontext_valid("1\0", 2));
}

/* n levels of [ or {"a": around a value, then the closes. */
static char *nested(size_t n, bool objects, const char *inner)
{
    size_t open = objects ? 5 : 1, il = strlen(inner), len = n * (open + 1) + il;
    char *s = malloc(len + 1), *p = s;

    assert_non_null(s);
    for (size_t i = 0; i < n; i++, p += open)
        memcpy(p, objects ? "{\"a\":" : "[", open);
    memcpy(p, inner, il);
    p += il;
    memset(p, objects ? '}' : ']', n);
    s[len] = '\0';
    return s;
}

static void test_deep_nesting(void **state)
{
    char *s;

    (void)state;
    /* PostgreSQL's default max_stack_depth takes about 10,000 levels; more is legal */
    for (size_t n = 1; n <= 200000; n *= 20) {
        s = nested(n, false, "1");
        assert_true(valid(s));
        s[strlen(s) - 1] = '\0'; /* one close missing */
        assert_false(valid(s));
        free(s);
        s = nested(n, true, "\"x\"");
        assert_true(valid(s));
        s[strlen(s) - 1] = ']'; /* the wrong close */
        assert_false(valid(s));
        free(s);
    }
}

static void test_decode(void **state)
{
    static const struct {
        const char *tok, *want;
        size_t want_len;
    } cases[] = {
        {"\"plain\"", "plain", 5},      {"\"\\u00e9\"", "é", 2},
        {"\"\\uD83D\\uDE00\"", "😀", 4}, {"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t", 8},
        {"\"a\\u0000b\"", "a\0b", 3},   {"\"\"", "", 0},
    };
    struct abuf out;

    (void)state;
    abuf_init(&out, 1 << 20);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        abuf_reset(&out);
        assert_true(jsontext_decode_string(cases[i].tok, strlen(cases[i].tok), &out));
        assert_int_equal(out.len, cases[i].want_len);
        assert_memory_equal(out.data ? out.data : "", cases[i].want, cases[i].want_len);
    }
    abuf_reset(&out);
    assert_false(jsontext_decode_string("\"\\ud800\"", 8, &out)); /* json only: no text */
    assert_false(jsontext_decode_string("\"\\udc00\\ud800\"", 14, &out));
    abuf_free(&out);
}

static void test_encode(void **state)
{
    struct abuf out;

    (void)state;
    abuf_init(&out, 1 << 20);
    assert_true(jsontext_encode_string("abc", 3, &out));
    assert_string_equal(abuf_cstr(&out), "\"abc\"");
    abuf_reset(&out);
    assert_true(jsontext_encode_string("t\tq\"b\\ é\x1f/", 11, &out));
    assert_string_equal(abuf_cstr(&out), "\"t\\tq\\\"b\\\\ é\\u001F/\"");
    abuf_reset(&out);
    assert_false(jsontext_encode_string("\xff", 1, &out));         /* not UTF-8 */
    assert_false(jsontext_encode_string("a\0b", 3, &out));         /* jsonb cannot hold U+0000 */
    assert_false(jsontext_encode_string("\xed\xa0\x80", 3, &out)); /* a UTF-8 surrogate */
    assert_int_equal(out.len, 0);
    abuf_reset(&out);
    jsontext_compact(" { \"a b\" : [ 1 , \"x \\\" y\" ] } ", 29, &out);
    assert_string_equal(abuf_cstr(&out), "{\"a b\":[1,\"x \\\" y\"]}");
    abuf_free(&out);
}

/* ------------------------------------------------- the rule on big documents */

static struct rule parse_rule(const char *text)
{
    struct anon_error err;
    struct yopts *doc, *v;
    struct rule r;
    char buf[1024];

    anon_error_clear(&err);
    snprintf(buf, sizeof(buf), "col: %s\n", text);
    if (!yopts_load("t", buf, strlen(buf), &doc, &err))
        fail_msg("%s", err.msg);
    v = yopts_item(doc, 0);
    if (!rule_parse(v, &r, &err))
        fail_msg("%s", err.msg);
    yopts_free(v);
    yopts_free(doc);
    return r;
}

/* apply r to doc; the output as a new string, or NULL for a NULL output */
static char *apply(const struct rule *r, const char *doc)
{
    static const unsigned char key[32] = {0};
    struct rule_ctx ctx = {.key = key, .key_len = sizeof(key)};
    struct rule_value in = {.data = doc, .len = strlen(doc)};
    struct anon_error err;
    struct abuf out;
    bool is_null = false;
    char *s;

    anon_error_clear(&err);
    abuf_init(&out, 1u << 30);
    if (!r->ops->apply(r->state, &ctx, &in, &out, &is_null, &err))
        fail_msg("apply: %s", err.msg);
    s = is_null ? NULL : strdup(abuf_cstr(&out));
    abuf_free(&out);
    return s;
}

static void test_rule_on_deep_documents(void **state)
{
    struct rule drop = parse_rule("{ json: { paths: { \"$.id\": keep } } }");
    struct rule keep = parse_rule("{ json: { paths: { \"$.id\": keep }, others: keep } }");
    struct rule deep = parse_rule("{ json: { paths: { \"$.a.a.a\": { mask: {} } } } }");
    char *inner = nested(50000, true, "\"secret\""), *doc, *out;
    size_t len = strlen(inner) + 64;

    (void)state;
    doc = malloc(len);
    assert_non_null(doc);
    snprintf(doc, len, "{\"id\": 7, \"deep\": %s}", inner);
    out = apply(&drop, doc);
    assert_string_equal(out, "{\"id\":7}");
    free(out);
    out = apply(&keep, doc); /* copied as it is */
    assert_non_null(out);
    assert_int_equal(strlen(out), strlen(doc) - 3); /* the spaces between the members */
    assert_non_null(strstr(out, inner));
    free(out);
    /* a path 3 levels down on 50,000 levels: the rule gets the rest as compact text */
    out = apply(&deep, inner);
    assert_non_null(out);
    assert_int_equal(strncmp(out, "{\"a\":{\"a\":{\"a\":\"***", 19), 0);
    assert_null(strstr(out, "secret"));
    free(out);
    doc[strlen(doc) - 2] = ']'; /* broken deep inside: NULL */
    assert_null(apply(&drop, doc));
    free(inner);
    free(doc);
    rule_free(&drop);
    rule_free(&keep);
    rule_free(&deep);
}

static void test_rule_on_many_paths(void **state)
{
    /* 200 paths into one object: every one is kept, every unnamed key dropped */
    char rule_text[1024 * 16], doc[1024 * 16];
    size_t rl = 0, dl = 0;
    struct anon_error err;
    struct yopts *y, *v;
    struct rule r;
    char *out;

    (void)state;
    rl += (size_t)snprintf(rule_text + rl, sizeof(rule_text) - rl, "col: { json: { paths: {");
    dl += (size_t)snprintf(doc + dl, sizeof(doc) - dl, "{");
    for (int i = 0; i < 200; i++) {
        rl += (size_t)snprintf(rule_text + rl, sizeof(rule_text) - rl, "%s\"$.k%d[*]\": keep",
                               i ? ", " : "", i);
        dl += (size_t)snprintf(doc + dl, sizeof(doc) - dl, "%s\"k%d\": [%d], \"x%d\": 1",
                               i ? ", " : "", i, i, i);
    }
    snprintf(rule_text + rl, sizeof(rule_text) - rl, "} } }\n");
    snprintf(doc + dl, sizeof(doc) - dl, "}");
    anon_error_clear(&err);
    assert_true(yopts_load("t", rule_text, strlen(rule_text), &y, &err));
    v = yopts_item(y, 0);
    assert_true(rule_parse(v, &r, &err));
    out = apply(&r, doc);
    assert_non_null(out);
    assert_non_null(strstr(out, "\"k0\":[0]"));
    assert_non_null(strstr(out, "\"k199\":[199]"));
    assert_null(strstr(out, "\"x"));
    free(out);
    rule_free(&r);
    yopts_free(v);
    yopts_free(y);
}

/* check --source's survey: the places no path names, once each, as paths; keys that
 * are not plain names (data, perhaps) as [?]; objects a plain keep meets (published as
 * null); nothing from an invalid document. */
static void test_survey(void **state)
{
    struct rule r =
        parse_rule("{ json: { paths: { \"$.c.email\": { hash: {} }, "
                   "\"$.items[*].sku\": keep, \"$.tags[0]\": keep, \"$.m\": keep } } }");
    static const char *const docs[] = {
        "{\"c\": {\"email\": \"a@b\", \"phone\": \"0770\"}, \"items\": [{\"sku\": 1, "
        "\"note\": \"x\"}, 5], \"tags\": [\"a\", \"b\"], \"alice@example.com\": 1, "
        "\"caf\\u00e9\": 2, \"\": 3, \"ok_key-2\": 4, \"m\": 1}",
        "{\"c\": {\"phone\": \"0771\"}, \"items\": [{\"note\": \"y\", \"sku\": [1]}], "
        "\"tags\": [{\"x\": 1}], \"m\": {\"ip\": \"192.0.2.1\"}}",
        "[1, 2]",
        "{\"broken\": {\"m\": {}",
    };
    struct anon_error err;
    struct abuf seen, whole;

    (void)state;
    anon_error_clear(&err);
    abuf_init(&seen, 1 << 16);
    abuf_init(&whole, 1 << 16);
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
        assert_true(rule_json_survey(&r, docs[i], strlen(docs[i]), &seen, &whole, &err));
    assert_string_equal(abuf_cstr(&seen), "$.c.phone\n$.items[*].note\n$.items[*]\n$.tags[1]\n"
                                          "$[?]\n$.ok_key-2\n$\n");
    /* [1] at $.items[*].sku is an array of values: published, not listed */
    assert_string_equal(abuf_cstr(&whole), "$.tags[0]\n$.m\n");
    abuf_free(&seen);
    abuf_free(&whole);
    rule_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepts_what_postgres_accepts),
        cmocka_unit_test(test_refuses_what_postgres_refuses),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_decode),
        cmocka_unit_test(test_encode),
        cmocka_unit_test(test_rule_on_deep_documents),
        cmocka_unit_test(test_rule_on_many_paths),
        cmocka_unit_test(test_survey),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
