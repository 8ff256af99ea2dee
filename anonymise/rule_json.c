/*
 * rule_json.c: rules applied to paths inside json/jsonb values.
 *
 *   json:
 *     paths:
 *       "$.contact.email": { hash: {} }
 *       "$.items[*].name": suppress
 *       "$.tags[0]": { mask: { keep_first: 1 } }
 *     on_invalid: null        # null (default) | keep | fail
 *
 * Paths: "$" then ".key", "['key']" / "[\"key\"]", "[N]" (0-based) or "[*]" (every
 * element of an array). A path that does not exist in a document is skipped; parts of
 * the document no path names are untouched. Each path's rule is parsed like a column's
 * rule (rule_parse) and applied to the value found there: a string as its text, a
 * number or boolean as its JSON text, an object or array as its compact JSON text, a
 * JSON null as NULL. The result goes back as a JSON string, or JSON null.
 *
 * Documents are read and written with jansson (JSON_DECODE_ANY, compact output; key
 * order is kept, PostgreSQL re-parses the output on COPY anyway). Jansson limits: an
 * integer beyond 64 bits makes the document invalid (on_invalid applies), real numbers
 * are written with 17 significant digits (0.1 comes back as 0.10000000000000001), and
 * of duplicate keys (json, not jsonb) the last one stays.
 */
#include "anonymise/rules_extra.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anonymise/rule_util.h"
#include "anonymise/sqltype.h"

#define JSON_MAX_PATHS 256
#define JSON_MAX_STEPS 64

enum json_on_invalid { JSON_INVALID_NULL, JSON_INVALID_KEEP, JSON_INVALID_FAIL };
static const char *const invalid_words[] = {"null", "keep", "fail", NULL};

enum step_kind { STEP_KEY, STEP_INDEX, STEP_ALL };

struct json_step {
    enum step_kind kind;
    char *key;
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
    enum json_on_invalid on_invalid;
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
    free(s);
}

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
    if (kind == STEP_KEY) {
        st->key = strndup(key, klen);
        if (!st->key)
            return false;
    }
    p->n_steps++;
    return true;
}

/* "[...]" at s[*i] (on the '['). */
static bool parse_bracket(struct json_path *p, const char *s, size_t *i)
{
    size_t j = *i + 1, n = 0;
    char q = s[j];

    if (q == '*' && s[j + 1] == ']') {
        *i = j + 2;
        return add_step(p, STEP_ALL, NULL, 0, 0);
    }
    if (q == '\'' || q == '"') {
        const char *end = strchr(s + j + 1, q);
        if (!end || end[1] != ']' || end == s + j + 1)
            return false;
        *i = (size_t)(end - s) + 2;
        return add_step(p, STEP_KEY, s + j + 1, (size_t)(end - (s + j + 1)), 0);
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
    for (size_t i = 0; i < n; i++)
        ok = parse_one_path(paths, i, &s->paths[i], err) && ok;
    return ok;
}

static bool parse_on_invalid(const struct yopts *opts, struct json_state *s, struct anon_error *err)
{
    const char *w = "null";
    size_t i;

    if (!yopts_get_string(opts, "on_invalid", &w, NULL, err))
        return false;
    for (i = 0; invalid_words[i] && strcmp(invalid_words[i], w) != 0; i++)
        ;
    if (!invalid_words[i]) {
        yopts_error(opts, "on_invalid", err, "must be null, keep or fail");
        return false;
    }
    s->on_invalid = (enum json_on_invalid)i;
    return true;
}

static bool json_rule_parse(const struct yopts *opts, void **state, struct anon_error *err)
{
    static const char *const keys[] = {"paths", "on_invalid", NULL};
    struct json_state *s = calloc(1, sizeof(*s));
    struct yopts *paths = NULL;
    bool has_paths = false, ok;

    if (!s) {
        yopts_error(opts, NULL, err, "out of memory");
        return false;
    }
    ok = yopts_only_keys(opts, keys, err) && parse_on_invalid(opts, s, err) &&
         yopts_get_sub(opts, "paths", &paths, &has_paths, err);
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
    *state = s;
    return true;
}

static void json_rule_describe(const void *state, struct abuf *out)
{
    const struct json_state *s = state;

    abuf_printf(out, "on_invalid=%s paths={", invalid_words[s->on_invalid]);
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

/* What apply needs while walking one document. */
struct walk {
    const struct rule_ctx *ctx;
    const struct rule *rule;
    struct abuf text, res; /* leaf as text, rule output */
    struct anon_error *err;
    json_t **root;
};

static int dump_cb(const char *buf, size_t size, void *data)
{
    return abuf_append(data, buf, size) ? 0 : -1;
}

/* The rule applied to one value; the replacement (new reference) or NULL on error. */
static json_t *transform(struct walk *w, json_t *v)
{
    struct rule_value in = {0};
    bool out_null = false;

    abuf_reset(&w->text);
    abuf_reset(&w->res);
    if (json_is_null(v)) {
        in.is_null = true;
    } else if (json_is_string(v)) {
        in.data = json_string_value(v);
        in.len = json_string_length(v);
    } else {
        if (json_dump_callback(v, dump_cb, &w->text, JSON_COMPACT | JSON_ENCODE_ANY) != 0) {
            anon_error_set(w->err, "json: value too large");
            return NULL;
        }
        in.data = w->text.data ? w->text.data : "";
        in.len = w->text.len;
    }
    if (!w->rule->ops->apply(w->rule->state, w->ctx, &in, &w->res, &out_null, w->err))
        return NULL;
    if (out_null)
        return json_null();
    /* not UTF-8 (cannot be a JSON string): withheld as null */
    v = json_stringn(w->res.data ? w->res.data : "", w->res.len);
    return v ? v : json_null();
}

static bool visit(struct walk *w, const struct json_path *p, size_t i, json_t *parent,
                  const char *key, size_t index, json_t *v)
{
    const struct json_step *st;
    json_t *nv;

    if (i == p->n_steps) {
        nv = transform(w, v);
        if (!nv)
            return false;
        if (!parent) {
            json_decref(*w->root);
            *w->root = nv;
            return true;
        }
        if (json_is_object(parent))
            return json_object_set_new(parent, key, nv) == 0;
        return json_array_set_new(parent, index, nv) == 0;
    }
    st = &p->steps[i];
    if (st->kind == STEP_KEY) {
        json_t *c = json_is_object(v) ? json_object_get(v, st->key) : NULL;
        return !c || visit(w, p, i + 1, v, st->key, 0, c);
    }
    if (!json_is_array(v))
        return true;
    if (st->kind == STEP_INDEX)
        return st->index >= json_array_size(v) ||
               visit(w, p, i + 1, v, NULL, st->index, json_array_get(v, st->index));
    for (size_t k = 0; k < json_array_size(v); k++)
        if (!visit(w, p, i + 1, v, NULL, k, json_array_get(v, k)))
            return false;
    return true;
}

static bool invalid(const struct json_state *s, const struct rule_value *in, struct abuf *out,
                    bool *out_null, struct anon_error *err)
{
    switch (s->on_invalid) {
    case JSON_INVALID_KEEP:
        abuf_append(out, in->data, in->len);
        *out_null = false;
        return !abuf_failed(out);
    case JSON_INVALID_FAIL:
        anon_error_set(err, "json: value is not valid JSON (on_invalid: fail)");
        return false;
    case JSON_INVALID_NULL:
        break;
    }
    *out_null = true;
    return true;
}

static bool json_rule_apply(const void *state, const struct rule_ctx *ctx,
                            const struct rule_value *in, struct abuf *out, bool *out_null,
                            struct anon_error *err)
{
    const struct json_state *s = state;
    json_error_t jerr;
    json_t *root;
    struct walk w = {.ctx = ctx, .err = err, .root = &root};
    bool ok = true;

    *out_null = in->is_null;
    if (in->is_null)
        return true;
    root = json_loadb(in->data, in->len, JSON_DECODE_ANY, &jerr);
    if (!root)
        return invalid(s, in, out, out_null, err);
    abuf_init(&w.text, out->max);
    abuf_init(&w.res, out->max);
    for (size_t i = 0; ok && i < s->n_paths; i++) {
        w.rule = &s->paths[i].rule;
        ok = visit(&w, &s->paths[i], 0, NULL, NULL, 0, root);
    }
    if (ok && json_dump_callback(root, dump_cb, out,
                                 JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY) != 0) {
        anon_error_set(err, "json: output too large");
        ok = false;
    }
    abuf_free(&w.text);
    abuf_free(&w.res);
    json_decref(root);
    if (ok)
        *out_null = false;
    else if (err->msg[0] == '\0')
        anon_error_set(err, "json: out of memory");
    return ok;
}

const struct rule_ops rule_json = {
    .name = "json",
    .summary = "apply rules to paths inside json/jsonb values",
    .passthrough = false,
    .parse = json_rule_parse,
    .free_state = json_rule_free,
    .describe = json_rule_describe,
    .output = json_rule_output,
    .apply = json_rule_apply,
};
