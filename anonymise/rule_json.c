/*
 * rule_json.c: rules applied to paths inside json/jsonb values; what no path names is
 * dropped.
 *
 *   json:
 *     paths:
 *       "$.contact.email": { hash: {} }
 *       "$.items[*].sku": keep
 *       "$.tags[0]": { mask: { keep_first: 1 } }
 *     others: drop            # drop (default) | keep | { keep: { reviewed: "why" } }
 *     on_invalid: null        # null (default) | fail
 *
 * Paths: "$" then ".key", "['key']" / "[\"key\"]" (any key, the empty one included; \'
 * \" \\ inside the quotes), "[N]" (0-based) or "[*]" (every element of an array).
 *
 * Fail closed: the output holds only what a path names. An object reached by a path
 * keeps the members whose key a path names; an array keeps the elements a path names
 * ([N] or [*]); everything else is dropped, key and value, unless `others: keep` (then
 * it is copied as it is). `others: keep` is a keep of everything no path names, keys
 * added to the documents later included: `check` and `run` refuse it (exit 6) unless it
 * records its review the way a column's keep does, `others: { keep: { reviewed: "why" }
 * }` (the reason is logged and stored with the run; like keep's, it is not part of
 * describe()). A value where a path needs an object or
 * an array and finds something else is not reached: dropped too. A document root no
 * path reaches becomes JSON null. Every duplicate of a key (json, not jsonb, keeps
 * them) is handled like the first.
 *
 * At the end of a path its rule is parsed like a column's (rule_parse) and applied to
 * the value found there: a string as its decoded text (escapes resolved, so "\u00e9"
 * and "é" hash alike, as the same text in a text column), a number as written
 * (jsonb's canonical text), true/false as those words, an object or array as its text
 * without whitespace, JSON null as NULL. The result goes back as a JSON string, or JSON
 * null (a NULL, a string that cannot be decoded (a lone \uD800, valid in json only), an
 * output that is not UTF-8 or holds U+0000). `keep` copies the value as it is (a number
 * stays a number, an array of values stays whole). An object, or an array holding one,
 * found at a plain `keep` becomes JSON null: its keys are named by no path, keys added
 * to the documents later included, like what `others: keep` publishes; a reviewed keep
 * (`keep: { reviewed: "why" }`) copies it whole. Paths may not overlap at a value one of them
 * ends on ("$.a" with "$.a.b", "$.x[0]" with "$.x[*]"): the config says which rule
 * applies, or it is refused.
 *
 * A document that is not JSON (never from PostgreSQL, which validates json and jsonb)
 * becomes NULL (on_invalid: null) or fails the run (fail); it is never published.
 *
 * The document is scanned once (jsontext.h): no tree is built, what is copied is
 * copied byte for byte, numbers are never re-formatted. Only the members of objects a
 * path enters lose the whitespace between them (the target re-reads the text anyway).
 */
#include "anonymise/rules_extra.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anonymise/jsontext.h"
#include "anonymise/rule_json.h"
#include "anonymise/rule_util.h"
#include "anonymise/sqltype.h"

#define JSON_MAX_PATHS 256
#define JSON_MAX_STEPS 64
#define JSON_MAX_KEY 4096 /* bytes of one key in a path */

enum json_on_invalid { JSON_INVALID_NULL, JSON_INVALID_FAIL };
static const char *const invalid_words[] = {"null", "fail", NULL};
static const char *const others_words[] = {"drop", "keep", NULL};
#define OTHERS_EXPECTED "drop, keep or { keep: { reviewed: \"why\" } }"

enum step_kind { STEP_KEY, STEP_INDEX, STEP_ALL };

struct json_step {
    enum step_kind kind;
    char *key; /* STEP_KEY, NUL-terminated; key_len bytes (may hold no NUL) */
    size_t key_len;
    size_t index;
};

struct json_path {
    char *text;
    struct json_step *steps;
    size_t n_steps;
    struct rule rule;
};

struct json_state {
    struct json_path *paths;
    size_t n_paths;
    size_t max_steps;
    enum json_on_invalid on_invalid;
    bool keep_others;
    struct rule others; /* others: keep, as a keep rule (its review); ops NULL: drop */
};

static void path_free(struct json_path *p)
{
    for (size_t i = 0; i < p->n_steps; i++)
        free(p->steps[i].key);
    free(p->steps);
    free(p->text);
    rule_free(&p->rule);
}

static void json_rule_free(void *state)
{
    struct json_state *s = state;

    if (!s)
        return;
    for (size_t i = 0; i < s->n_paths; i++)
        path_free(&s->paths[i]);
    free(s->paths);
    rule_free(&s->others);
    free(s);
}

/* ------------------------------------------------------------------ paths */

static bool add_step(struct json_path *p, enum step_kind kind, const char *key, size_t klen,
                     size_t index)
{
    struct json_step *st;

    if (p->n_steps == JSON_MAX_STEPS)
        return false;
    st = &p->steps[p->n_steps];
    st->kind = kind;
    st->index = index;
    st->key = NULL;
    st->key_len = klen;
    if (kind == STEP_KEY) {
        st->key = malloc(klen + 1);
        if (!st->key)
            return false;
        memcpy(st->key, key, klen);
        st->key[klen] = '\0';
    }
    p->n_steps++;
    return true;
}

/* "['...']" or "[\"...\"]" at s[j] (on the quote): the key, \' \" \\ unescaped. */
static bool parse_quoted_key(struct json_path *p, const char *s, size_t *j)
{
    char q = s[*j], key[JSON_MAX_KEY];
    size_t i = *j + 1, n = 0;

    for (; s[i] && s[i] != q; i++) {
        if (s[i] == '\\') {
            i++;
            if (s[i] != '\'' && s[i] != '"' && s[i] != '\\')
                return false;
        }
        if (n == sizeof(key))
            return false;
        key[n++] = s[i];
    }
    if (s[i] != q || s[i + 1] != ']')
        return false;
    *j = i + 2;
    return add_step(p, STEP_KEY, key, n, 0);
}

/* "[...]" at s[*i] (on the '['). */
static bool parse_bracket(struct json_path *p, const char *s, size_t *i)
{
    size_t j = *i + 1, n = 0;

    if (s[j] == '*' && s[j + 1] == ']') {
        *i = j + 2;
        return add_step(p, STEP_ALL, NULL, 0, 0);
    }
    if (s[j] == '\'' || s[j] == '"') {
        *i = j;
        return parse_quoted_key(p, s, i);
    }
    for (; s[j] >= '0' && s[j] <= '9'; j++) {
        if (n > 100000000)
            return false;
        n = n * 10 + (size_t)(s[j] - '0');
    }
    if (j == *i + 1 || s[j] != ']')
        return false;
    *i = j + 1;
    return add_step(p, STEP_INDEX, NULL, 0, n);
}

static bool parse_path(const char *text, struct json_path *p)
{
    size_t i = 1;

    p->steps = calloc(JSON_MAX_STEPS, sizeof(*p->steps));
    p->text = strdup(text);
    if (!p->steps || !p->text || text[0] != '$')
        return false;
    while (text[i]) {
        if (text[i] == '.') {
            size_t k = ++i;
            while (text[i] && text[i] != '.' && text[i] != '[')
                i++;
            if (i == k || !add_step(p, STEP_KEY, text + k, i - k, 0))
                return false;
        } else if (text[i] == '[') {
            if (!parse_bracket(p, text, &i))
                return false;
        } else {
            return false;
        }
    }
    return true;
}

/* Can one value of a document be reached by both steps? */
static bool steps_meet(const struct json_step *a, const struct json_step *b)
{
    if (a->kind == STEP_KEY || b->kind == STEP_KEY)
        return a->kind == b->kind && a->key_len == b->key_len &&
               memcmp(a->key, b->key, a->key_len) == 0;
    return a->kind == STEP_ALL || b->kind == STEP_ALL || a->index == b->index;
}

/* Path a ends on a value path b also reaches (b == a, or b goes inside it). */
static bool path_covers(const struct json_path *a, const struct json_path *b)
{
    if (a->n_steps > b->n_steps)
        return false;
    for (size_t i = 0; i < a->n_steps; i++)
        if (!steps_meet(&a->steps[i], &b->steps[i]))
            return false;
    return true;
}

/* Two rules for one value would make the output depend on their order: refused. */
static bool check_overlaps(const struct yopts *paths, const struct json_state *s,
                           struct anon_error *err)
{
    bool ok = true;

    for (size_t b = 0; b < s->n_paths; b++)
        for (size_t a = 0; a < s->n_paths; a++) {
            if (a == b || !path_covers(&s->paths[a], &s->paths[b]))
                continue;
            if (s->paths[a].n_steps == s->paths[b].n_steps && a > b)
                continue; /* the same place twice: reported once, at the later one */
            yopts_error_key_at(paths, b, err,
                               s->paths[a].n_steps == s->paths[b].n_steps
                                   ? "names values that \"%s\" names too: one rule per value"
                                   : "is inside \"%s\", whose rule already replaces the whole "
                                     "value",
                               s->paths[a].text);
            ok = false;
            break;
        }
    return ok;
}

static bool parse_one_path(const struct yopts *paths, size_t i, struct json_path *p,
                           struct anon_error *err)
{
    const char *text = yopts_key_at(paths, i);
    struct yopts *val;
    bool ok;

    if (!text)
        return false; /* non-scalar key: reported at load */
    if (!parse_path(text, p)) {
        yopts_error_key_at(paths, i, err,
                           "not a supported path (use $.a.b, $.a[*].b, $.a[0], $['a b'])");
        return false;
    }
    val = yopts_item(paths, i);
    if (!val) {
        yopts_error(paths, NULL, err, "out of memory");
        return false;
    }
    ok = rule_parse(val, &p->rule, err);
    yopts_free(val);
    return ok;
}

static bool parse_paths(const struct yopts *paths, struct json_state *s, struct anon_error *err)
{
    size_t n = yopts_count(paths);
    bool ok = true;

    if (yopts_kind(paths) != YOPTS_MAPPING || n == 0 || n > JSON_MAX_PATHS) {
        yopts_error(paths, NULL, err, "expected a mapping of 1 to %d { path: rule }",
                    JSON_MAX_PATHS);
        return false;
    }
    s->paths = calloc(n, sizeof(*s->paths));
    if (!s->paths) {
        yopts_error(paths, NULL, err, "out of memory");
        return false;
    }
    s->n_paths = n;
    for (size_t i = 0; i < n; i++) {
        ok = parse_one_path(paths, i, &s->paths[i], err) && ok;
        if (s->paths[i].n_steps > s->max_steps)
            s->max_steps = s->paths[i].n_steps;
    }
    return ok && check_overlaps(paths, s, err);
}

/* key: one of words (default words[0]); the index, or -1 after an error. */
static int parse_word(const struct yopts *opts, const char *key, const char *const *words,
                      const char *expected, struct anon_error *err)
{
    const char *w = words[0];
    struct yopts *v = yopts_get(opts, key);
    bool yaml_null = v && yopts_kind(v) == YOPTS_EMPTY;
    int i;

    yopts_free(v);
    /* `on_invalid: null` is YAML's null: the word null */
    if (!(yaml_null && strcmp(words[0], "null") == 0) &&
        !yopts_get_string(opts, key, &w, NULL, err))
        return -1;
    for (i = 0; words[i] && strcmp(words[i], w) != 0; i++)
        ;
    if (words[i])
        return i;
    if (strcmp(key, "on_invalid") == 0 && strcmp(w, "keep") == 0)
        yopts_error(opts, key, err,
                    "keep is not allowed: it would publish a document anonetl cannot read, "
                    "whole; use null or fail");
    else
        yopts_error(opts, key, err, "must be %s", expected);
    return -1;
}

/* others: drop | keep | { keep: { reviewed: "why" } }, the last two parsed as the keep
 * rule they are (rule_keep.c: its review). */
static bool parse_others(const struct yopts *opts, struct json_state *s, struct anon_error *err)
{
    struct yopts *v = yopts_get(opts, "others");
    bool ok = true;

    if (!v)
        return true;
    if (yopts_kind(v) == YOPTS_SCALAR && strcmp(yopts_scalar(v), others_words[0]) == 0) {
        yopts_free(v);
        return true;
    }
    if (yopts_kind(v) == YOPTS_SCALAR || yopts_kind(v) == YOPTS_MAPPING) {
        /* a mapping's own errors (unknown rule, keep's options) are the useful ones */
        struct anon_error ignored = {0};
        int before = err->count;
        ok = rule_parse(v, &s->others, yopts_kind(v) == YOPTS_MAPPING ? err : &ignored);
        if (ok && s->others.ops != rule_lookup("keep")) {
            rule_free(&s->others);
            ok = false;
        }
        if (!ok && err->count == before)
            yopts_error(opts, "others", err, "must be " OTHERS_EXPECTED);
    } else {
        yopts_error(opts, "others", err, "must be " OTHERS_EXPECTED);
        ok = false;
    }
    yopts_free(v);
    s->keep_others = ok;
    return ok;
}

static bool json_rule_parse(const struct yopts *opts, void **state, struct anon_error *err)
{
    static const char *const keys[] = {"paths", "others", "on_invalid", NULL};
    struct json_state *s = calloc(1, sizeof(*s));
    struct yopts *paths = NULL;
    bool has_paths = false, ok;
    int inv = -1;

    if (!s) {
        yopts_error(opts, NULL, err, "out of memory");
        return false;
    }
    ok = yopts_only_keys(opts, keys, err) &&
         (inv = parse_word(opts, "on_invalid", invalid_words, "null or fail", err)) >= 0 &&
         parse_others(opts, s, err) && yopts_get_sub(opts, "paths", &paths, &has_paths, err);
    if (ok && !has_paths) {
        yopts_error(opts, NULL, err, "needs paths: { \"$.a.b\": rule, ... }");
        ok = false;
    }
    if (ok)
        ok = parse_paths(paths, s, err);
    yopts_free(paths);
    if (!ok) {
        json_rule_free(s);
        return false;
    }
    s->on_invalid = (enum json_on_invalid)inv;
    *state = s;
    return true;
}

static void json_rule_describe(const void *state, struct abuf *out)
{
    const struct json_state *s = state;

    abuf_printf(out, "on_invalid=%s others=%s paths={", invalid_words[s->on_invalid],
                others_words[s->keep_others]);
    for (size_t i = 0; i < s->n_paths; i++) {
        const struct json_path *p = &s->paths[i];
        if (i)
            abuf_puts(out, ", ");
        rule_describe_string(out, p->text);
        abuf_printf(out, ": %s(", p->rule.ops->name);
        if (p->rule.ops->describe)
            p->rule.ops->describe(p->rule.state, out);
        abuf_putc(out, ')');
    }
    abuf_putc(out, '}');
}

static void json_rule_output(const void *state, const char *source_type, struct rule_output *out)
{
    const struct json_state *s = state;

    snprintf(out->type, sizeof(out->type), "%s", source_type ? source_type : "jsonb");
    out->may_be_null = s->on_invalid == JSON_INVALID_NULL;
    if (source_type && !sqltype_is_json(source_type))
        snprintf(out->problem, sizeof(out->problem), "json needs a json or jsonb column, not %s",
                 source_type);
}

/* ------------------------------------------------------------------ apply */

/* One document being rewritten. Paths are numbered; the paths that reach a value at
 * depth d are a set of numbers (at most n_paths), one buffer per depth. */
struct walk {
    const struct json_state *s;
    const struct rule_ctx *ctx;
    const char *doc;
    size_t len;
    struct abuf *out;
    struct abuf text, res; /* a leaf as the rule reads it; the rule's output */
    uint16_t *sets;        /* (max_steps + 1) * n_paths */
    struct anon_error *err;
    bool bad; /* the document is not JSON */
    /* Survey (rule_json_survey): no rule runs; each place no path names is added to
     * `seen` as a path, each object a plain keep meets (published as null) to `whole`;
     * `where` is the path of the current value. */
    struct abuf *seen, *whole, where;
};

enum reach { REACH_NONE, REACH_LEAF, REACH_INTO };

static bool walk_value(struct walk *w, size_t *pos, const uint16_t *set, size_t n, size_t d);

static bool not_json(struct walk *w)
{
    w->bad = true;
    return false;
}

/* How the paths set[0..n) at depth d treat a value of this kind: one ends there (its
 * rule applies; *leaf = the path), some go inside, or none can. */
static enum reach reach_of(const struct walk *w, const uint16_t *set, size_t n, size_t d,
                           enum jsontext_kind kind, size_t *leaf)
{
    bool into = false;

    for (size_t k = 0; k < n; k++) {
        const struct json_path *p = &w->s->paths[set[k]];
        if (p->n_steps == d) {
            *leaf = set[k];
            return REACH_LEAF;
        }
        if (kind == JSONTEXT_OBJECT ? p->steps[d].kind == STEP_KEY
                                    : kind == JSONTEXT_ARRAY && p->steps[d].kind != STEP_KEY)
            into = true;
    }
    return into ? REACH_INTO : REACH_NONE;
}

static void copy_raw(struct walk *w, size_t from, size_t to)
{
    abuf_append(w->out, w->doc + from, to - from);
}

/* The value at *pos, which no path names: copied (others: keep) or skipped. */
static bool pass_other(struct walk *w, size_t *pos)
{
    size_t start = *pos;

    if (!jsontext_skip(w->doc, w->len, pos))
        return not_json(w);
    if (w->s->keep_others)
        copy_raw(w, start, *pos);
    return true;
}

/* The value at *pos, withheld whatever `others` says. */
static bool skip_value(struct walk *w, size_t *pos)
{
    return jsontext_skip(w->doc, w->len, pos) || not_json(w);
}

static bool too_large(struct walk *w)
{
    anon_error_set(w->err, "json: value too large");
    return false;
}

/* The rule's output as a JSON value: a string, or null. */
static void emit_result(struct walk *w, bool is_null)
{
    if (is_null || !jsontext_encode_string(w->res.data ? w->res.data : "", w->res.len, w->out))
        abuf_append(w->out, "null", 4);
}

/* Survey: seen (lines, each ending in '\n') holds line[0..n) already. */
static bool seen_has(const struct abuf *seen, const char *line, size_t n)
{
    const char *p = seen->data, *end = p ? p + seen->len : NULL, *nl;

    for (; p && p < end; p = nl + 1) {
        nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            return false;
        if ((size_t)(nl + 1 - p) == n && memcmp(p, line, n) == 0)
            return true;
    }
    return false;
}

/* Survey: the current path, once, in list. */
static void note_path(struct walk *w, struct abuf *list)
{
    size_t n = w->where.len;

    abuf_putc(&w->where, '\n');
    if (!abuf_failed(&w->where) && !seen_has(list, w->where.data, n + 1))
        abuf_append(list, w->where.data, n + 1);
    w->where.len = n;
}

/* The value at *pos is where path p ends: apply its rule. */
/* Whether a keep at path p publishes the value v[0..n) of this kind: a plain keep
 * publishes values and arrays of values, a reviewed one anything (see the top). */
static bool keeps_whole(const struct json_path *p, const char *v, size_t n, enum jsontext_kind kind)
{
    if (kind != JSONTEXT_OBJECT && kind != JSONTEXT_ARRAY)
        return true;
    return rule_keep_reviewed(&p->rule) != NULL || !jsontext_holds_object(v, n);
}

static bool emit_leaf(struct walk *w, size_t *pos, const struct json_path *p)
{
    enum jsontext_kind kind = jsontext_kind_at(w->doc, w->len, *pos);
    struct rule_value in = {0};
    size_t start = *pos;
    bool escaped = false, out_null = false;

    if (kind == JSONTEXT_STRING ? !jsontext_skip_string(w->doc, w->len, pos, &escaped)
                                : !jsontext_skip(w->doc, w->len, pos))
        return not_json(w);
    if (p->rule.ops->passthrough && !keeps_whole(p, w->doc + start, *pos - start, kind)) {
        if (w->seen)
            note_path(w, w->whole);
        abuf_puts(w->out, "null");
        return true;
    }
    if (p->rule.ops->passthrough || w->seen) {
        copy_raw(w, start, *pos);
        return true;
    }
    abuf_reset(&w->text);
    abuf_reset(&w->res);
    in.data = w->doc + start;
    in.len = *pos - start;
    if (kind == JSONTEXT_NULL) {
        in.is_null = true;
    } else if (kind == JSONTEXT_STRING && !escaped) {
        in.data++;
        in.len -= 2;
    } else if (kind == JSONTEXT_STRING) {
        if (!jsontext_decode_string(in.data, in.len, &w->text)) {
            if (abuf_failed(&w->text))
                return too_large(w);
            emit_result(w, true); /* a lone surrogate: no text to give the rule */
            return true;
        }
        in.data = w->text.data ? w->text.data : "";
        in.len = w->text.len;
    } else if (kind == JSONTEXT_OBJECT || kind == JSONTEXT_ARRAY) {
        jsontext_compact(in.data, in.len, &w->text);
        if (abuf_failed(&w->text))
            return too_large(w);
        in.data = w->text.data ? w->text.data : "";
        in.len = w->text.len;
    }
    if (!p->rule.ops->apply(p->rule.state, w->ctx, &in, &w->res, &out_null, w->err))
        return false;
    emit_result(w, out_null);
    return true;
}

/* The paths of set[0..n) whose step d names this key (the key token tok[0..n)). */
static size_t match_key(struct walk *w, const uint16_t *set, size_t n, size_t d, const char *tok,
                        size_t tok_len, bool escaped, uint16_t *child)
{
    const char *key = tok + 1;
    size_t key_len = tok_len - 2, found = 0;

    if (escaped) {
        abuf_reset(&w->text);
        if (!jsontext_decode_string(tok, tok_len, &w->text))
            return 0; /* no text: no path can name it */
        key = w->text.data ? w->text.data : "";
        key_len = w->text.len;
    }
    for (size_t k = 0; k < n; k++) {
        const struct json_step *st = &w->s->paths[set[k]].steps[d];
        if (st->kind == STEP_KEY && st->key_len == key_len && memcmp(st->key, key, key_len) == 0)
            child[found++] = set[k];
    }
    return found;
}

static size_t match_index(const struct walk *w, const uint16_t *set, size_t n, size_t d,
                          size_t index, uint16_t *child)
{
    size_t found = 0;

    for (size_t k = 0; k < n; k++) {
        const struct json_step *st = &w->s->paths[set[k]].steps[d];
        if (st->kind == STEP_ALL || (st->kind == STEP_INDEX && st->index == index))
            child[found++] = set[k];
    }
    return found;
}

/* Survey: ".key" (a plain word, else "[?]": a key is data too, only names are shown)
 * or "[*]" / "[N]" after the current path. */
static void push_where(struct walk *w, const char *key, size_t key_len, const char *index)
{
    bool plain = key && key_len > 2 && key_len - 2 <= 40;

    for (size_t i = 1; plain && i + 1 < key_len; i++) {
        char c = key[i];
        plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                (i > 1 && ((c >= '0' && c <= '9') || c == '-'));
    }
    if (!key) {
        abuf_puts(&w->where, index);
    } else if (plain) {
        abuf_putc(&w->where, '.');
        abuf_append(&w->where, key + 1, key_len - 2);
    } else {
        abuf_puts(&w->where, "[?]");
    }
}

/* A member (key token key[0..key_len)) or element (key NULL, index its "[N]" or "[*]")
 * at *pos, reached by child[0..nc) at depth d: written with its separator and key when
 * a path names it or others: keep, else skipped. A value a path goes through that has
 * not the shape the path needs ("contact": "alice@example.com" for $.contact.email) is
 * skipped even with others: keep: what the path protects may be that very value. */
static bool walk_member(struct walk *w, size_t *pos, const char *key, size_t key_len,
                        const char *index, bool *first, const uint16_t *child, size_t nc, size_t d)
{
    enum jsontext_kind kind = jsontext_kind_at(w->doc, w->len, *pos);
    size_t leaf = 0, where = w->where.len;
    enum reach r = nc ? reach_of(w, child, nc, d, kind, &leaf) : REACH_NONE;
    bool ok;

    if (w->seen) {
        push_where(w, key, key_len, index);
        if (r == REACH_NONE)
            note_path(w, w->seen);
    }
    if (r == REACH_NONE && nc > 0) {
        ok = skip_value(w, pos);
    } else if (r == REACH_NONE && !w->s->keep_others) {
        ok = pass_other(w, pos);
    } else {
        if (!*first)
            abuf_putc(w->out, ',');
        *first = false;
        if (key) {
            abuf_append(w->out, key, key_len);
            abuf_putc(w->out, ':');
        }
        ok = r == REACH_NONE   ? pass_other(w, pos)
             : r == REACH_LEAF ? emit_leaf(w, pos, &w->s->paths[leaf])
                               : walk_value(w, pos, child, nc, d);
    }
    w->where.len = where;
    return ok;
}

/* After a member: a ',' (*more, and past the whitespace after it) or the closing
 * bracket (past it). */
static bool next_member(struct walk *w, size_t *pos, char close, bool *more)
{
    size_t i = jsontext_ws(w->doc, w->len, *pos);

    if (i >= w->len || (w->doc[i] != ',' && w->doc[i] != close))
        return not_json(w);
    *more = w->doc[i] == ',';
    *pos = *more ? jsontext_ws(w->doc, w->len, i + 1) : i + 1;
    return true;
}

/* After the opening bracket at *pos: past the whitespace; *more unless it closes. */
static void open_container(struct walk *w, size_t *pos, char close, bool *more)
{
    size_t i = jsontext_ws(w->doc, w->len, *pos + 1);

    abuf_putc(w->out, w->doc[*pos]);
    *more = !(i < w->len && w->doc[i] == close);
    *pos = *more ? i : i + 1;
}

/* An object the paths set[0..n) enter at depth d (their step d is a key). */
static bool walk_object(struct walk *w, size_t *pos, const uint16_t *set, size_t n, size_t d)
{
    uint16_t *child = w->sets + (d + 1) * w->s->n_paths;
    bool first = true, more, escaped = false;
    size_t i = *pos;

    open_container(w, &i, '}', &more);
    while (more) {
        size_t key = i, key_end, nc;
        if (i >= w->len || w->doc[i] != '"' || !jsontext_skip_string(w->doc, w->len, &i, &escaped))
            return not_json(w);
        key_end = i;
        nc = match_key(w, set, n, d, w->doc + key, key_end - key, escaped, child);
        i = jsontext_ws(w->doc, w->len, i);
        if (i >= w->len || w->doc[i] != ':')
            return not_json(w);
        i = jsontext_ws(w->doc, w->len, i + 1);
        if (!walk_member(w, &i, w->doc + key, key_end - key, NULL, &first, child, nc, d + 1) ||
            !next_member(w, &i, '}', &more))
            return false;
    }
    abuf_putc(w->out, '}');
    *pos = i;
    return true;
}

/* Survey: did a [*] at depth d bring the paths set[0..n) to this element? */
static bool any_wildcard(const struct walk *w, const uint16_t *set, size_t n, size_t d)
{
    for (size_t k = 0; k < n; k++)
        if (w->s->paths[set[k]].steps[d].kind == STEP_ALL)
            return true;
    return false;
}

/* An array the paths set[0..n) enter at depth d (their step d is [N] or [*]). */
static bool walk_array(struct walk *w, size_t *pos, const uint16_t *set, size_t n, size_t d)
{
    uint16_t *child = w->sets + (d + 1) * w->s->n_paths;
    bool first = true, more;
    size_t i = *pos, index = 0;

    open_container(w, &i, ']', &more);
    for (; more; index++) {
        size_t nc = match_index(w, set, n, d, index, child);
        char label[32] = "[*]";
        if (w->seen && !any_wildcard(w, child, nc, d))
            snprintf(label, sizeof(label), "[%zu]", index);
        if (!walk_member(w, &i, NULL, 0, label, &first, child, nc, d + 1) ||
            !next_member(w, &i, ']', &more))
            return false;
    }
    abuf_putc(w->out, ']');
    *pos = i;
    return true;
}

/* A container at *pos that reach_of said the paths set[0..n) go inside. */
static bool walk_value(struct walk *w, size_t *pos, const uint16_t *set, size_t n, size_t d)
{
    if (*pos < w->len && w->doc[*pos] == '{')
        return walk_object(w, pos, set, n, d);
    return walk_array(w, pos, set, n, d);
}

/* The whole document: the root is reached by every path (depth 0). */
static bool walk_document(struct walk *w)
{
    size_t pos = jsontext_ws(w->doc, w->len, 0), leaf = 0, n = w->s->n_paths;
    enum reach r;

    for (size_t k = 0; k < n; k++)
        w->sets[k] = (uint16_t)k;
    r = reach_of(w, w->sets, n, 0, jsontext_kind_at(w->doc, w->len, pos), &leaf);
    if (r == REACH_LEAF) {
        if (!emit_leaf(w, &pos, &w->s->paths[leaf]))
            return false;
    } else if (r == REACH_INTO) {
        if (!walk_value(w, &pos, w->sets, n, 0))
            return false;
    } else {
        /* Every path starts here: a root of another shape (an array where they name
         * keys) is withheld, even with others: keep. */
        if (w->seen)
            note_path(w, w->seen);
        abuf_append(w->out, "null", 4);
        if (!skip_value(w, &pos))
            return false;
    }
    if (jsontext_ws(w->doc, w->len, pos) != w->len)
        return not_json(w);
    return true;
}

static bool invalid(const struct json_state *s, bool *out_null, struct anon_error *err)
{
    if (s->on_invalid == JSON_INVALID_FAIL) {
        anon_error_set(err, "json: value is not valid JSON (on_invalid: fail)");
        return false;
    }
    *out_null = true;
    return true;
}

#define JSON_SMALL_SETS 512

/* apply, or with seen (and whole) a survey (rule_json_survey). */
static bool apply_doc(const struct json_state *s, const struct rule_ctx *ctx,
                      const struct rule_value *in, struct abuf *out, bool *out_null,
                      struct abuf *seen, struct abuf *whole, struct anon_error *err)
{
    uint16_t small[JSON_SMALL_SETS];
    size_t n_sets = (s->max_steps + 1) * s->n_paths, mark = out->len;
    struct walk w = {.s = s,
                     .ctx = ctx,
                     .doc = in->data,
                     .len = in->len,
                     .out = out,
                     .err = err,
                     .seen = seen,
                     .whole = whole};
    size_t seen_mark = seen ? seen->len : 0, whole_mark = whole ? whole->len : 0;
    bool ok;

    *out_null = in->is_null;
    if (in->is_null)
        return true;
    w.sets = n_sets <= JSON_SMALL_SETS ? small : malloc(n_sets * sizeof(*w.sets));
    if (!w.sets) {
        anon_error_set(err, "json: out of memory");
        return false;
    }
    abuf_init(&w.text, out->max);
    abuf_init(&w.res, out->max);
    abuf_init(&w.where, 1 << 16);
    if (seen)
        abuf_putc(&w.where, '$');
    ok = walk_document(&w);
    if (ok && abuf_failed(out)) {
        anon_error_set(err, "json: output too large");
        ok = false;
    }
    abuf_free(&w.text);
    abuf_free(&w.res);
    abuf_free(&w.where);
    if (w.sets != small)
        free(w.sets);
    if (w.bad) {
        if (!abuf_failed(out))
            out->len = mark;
        if (seen && !abuf_failed(seen))
            seen->len = seen_mark;
        if (whole && !abuf_failed(whole))
            whole->len = whole_mark;
        return invalid(s, out_null, err);
    }
    if (ok)
        *out_null = false;
    else if (err->msg[0] == '\0')
        anon_error_set(err, "json: out of memory");
    return ok;
}

static bool json_rule_apply(const void *state, const struct rule_ctx *ctx,
                            const struct rule_value *in, struct abuf *out, bool *out_null,
                            struct anon_error *err)
{
    return apply_doc(state, ctx, in, out, out_null, NULL, NULL, err);
}

bool rule_json_survey(const struct rule *r, const char *doc, size_t len, struct abuf *unnamed,
                      struct abuf *kept_whole, struct anon_error *err)
{
    struct rule_value in = {.data = doc, .len = len};
    struct abuf discard;
    bool is_null, ok;

    if (rule_json_n_paths(r) == 0)
        return true;
    abuf_init(&discard, (size_t)1 << 30);
    ok = apply_doc(r->state, NULL, &in, &discard, &is_null, unnamed, kept_whole, err);
    abuf_free(&discard);
    return ok;
}

bool rule_json_keeps_others(const struct rule *r)
{
    return r->ops == &rule_json && r->state && ((const struct json_state *)r->state)->keep_others;
}

const char *rule_json_others_reviewed(const struct rule *r)
{
    return rule_json_keeps_others(r)
               ? rule_keep_reviewed(&((const struct json_state *)r->state)->others)
               : NULL;
}

size_t rule_json_n_paths(const struct rule *r)
{
    return r->ops == &rule_json && r->state ? ((const struct json_state *)r->state)->n_paths : 0;
}

const char *rule_json_path(const struct rule *r, size_t i, const struct rule **sub,
                           const char **last_key)
{
    const struct json_state *s = r->state;
    const struct json_path *p;
    size_t k;

    if (i >= rule_json_n_paths(r))
        return NULL;
    p = &s->paths[i];
    *sub = &p->rule;
    *last_key = NULL;
    for (k = p->n_steps; k > 0 && p->steps[k - 1].kind != STEP_KEY; k--)
        ;
    if (k > 0)
        *last_key = p->steps[k - 1].key;
    return p->text;
}

/* The values the rules at its paths withheld (a scrub pattern past its match limit). */
static unsigned long json_rule_withheld(const void *state)
{
    const struct json_state *s = state;
    unsigned long n = 0;

    for (size_t i = 0; s && i < s->n_paths; i++) {
        const struct rule *r = &s->paths[i].rule;
        if (r->ops && r->ops->withheld)
            n += r->ops->withheld(r->state);
    }
    return n;
}

const struct rule_ops rule_json = {
    .name = "json",
    .summary = "apply rules to paths inside json/jsonb values; keys no path names are dropped",
    .passthrough = false,
    .parse = json_rule_parse,
    .free_state = json_rule_free,
    .describe = json_rule_describe,
    .output = json_rule_output,
    .apply = json_rule_apply,
    .withheld = json_rule_withheld,
};
