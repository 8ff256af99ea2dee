/*
 * rule_registry.c: the list of every anonymisation rule, and the parsing of a column's
 * rule as written in the config (a bare word or a one-key mapping).
 *
 * Adding a rule: write rule_<name>.c defining `const struct rule_ops rule_<name>`, add
 * one extern line and one entry in `all` below (documentation order). Nothing else in
 * the engine changes.
 */
#include "anonymise/rule.h"

#include <string.h>

#include "anonymise/rules_extra.h"
#include "anonymise/suggest.h"

extern const struct rule_ops rule_keep;
extern const struct rule_ops rule_suppress;
extern const struct rule_ops rule_constant;
extern const struct rule_ops rule_hash;
extern const struct rule_ops rule_hash_int;

static const struct rule_ops *const all[] = {
    &rule_keep,       &rule_suppress, &rule_constant,   &rule_hash,   &rule_hash_int,
    &rule_mask,       &rule_truncate, &rule_generalise, &rule_bucket, &rule_round,
    &rule_date_shift, &rule_scrub,    &rule_json,       NULL,
};

#define RULE_MAX 64 /* bound for the name list used by suggestions */

const struct rule_ops *const *rule_all(void)
{
    return all;
}

const struct rule_ops *rule_lookup(const char *name)
{
    for (size_t i = 0; all[i]; i++)
        if (strcmp(all[i]->name, name) == 0)
            return all[i];
    return NULL;
}

void rule_free(struct rule *r)
{
    if (!r)
        return;
    if (r->ops && r->ops->free_state && r->state)
        r->ops->free_state(r->state);
    r->ops = NULL;
    r->state = NULL;
}

/* Reported with the column's path, at the position of the rule word. */
static void unknown_rule(const struct yopts *at, int line, int column, const char *name,
                         struct anon_error *err)
{
    const char *names[RULE_MAX + 1];
    const char *near;
    char shown[64];
    size_t n = 0;

    for (; all[n] && n < RULE_MAX; n++)
        names[n] = all[n]->name;
    names[n] = NULL;
    near = suggest_word(name, names);
    yopts_shown(shown, sizeof(shown), name);
    if (near)
        yopts_error_pos(at, line, column, NULL, err, "unknown rule \"%s\" (did you mean \"%s\"?)",
                        shown, near);
    else
        yopts_error_pos(at, line, column, NULL, err, "unknown rule \"%s\"", shown);
}

static bool parse_with(const struct rule_ops *ops, const struct yopts *opts, struct rule *r,
                       struct anon_error *err)
{
    void *state = NULL;

    if (!ops->parse(opts, &state, err)) {
        if (state && ops->free_state)
            ops->free_state(state);
        return false;
    }
    r->ops = ops;
    r->state = state;
    return true;
}

/* `name: keep` */
static bool parse_word(const struct yopts *value, struct rule *r, struct anon_error *err)
{
    const char *word = yopts_scalar(value);
    const struct rule_ops *ops = rule_lookup(word);
    struct yopts *empty;
    bool ok;

    if (!ops) {
        unknown_rule(value, r->line, r->column, word, err);
        return false;
    }
    empty = yopts_empty_at(value, word);
    if (!empty) {
        yopts_error(value, NULL, err, "out of memory");
        return false;
    }
    ok = parse_with(ops, empty, r, err);
    yopts_free(empty);
    return ok;
}

/* `name: { hash: { length: 16 } }` */
static bool parse_mapping(const struct yopts *value, struct rule *r, struct anon_error *err)
{
    const char *word = yopts_key_at(value, 0);
    const struct rule_ops *ops;
    struct yopts *opts;
    bool ok;

    if (yopts_count(value) != 1) {
        yopts_error(value, NULL, err,
                    "a rule is one word or one { rule: options } pair, got %zu keys",
                    yopts_count(value));
        return false;
    }
    if (!word)
        return false; /* non-scalar key: reported when the document was loaded */
    ops = rule_lookup(word);
    if (!ops) {
        int line, column;
        yopts_key_pos(value, 0, &line, &column);
        unknown_rule(value, line, column, word, err);
        return false;
    }
    opts = yopts_item(value, 0);
    if (!opts) {
        yopts_error(value, NULL, err, "out of memory");
        return false;
    }
    ok = parse_with(ops, opts, r, err);
    yopts_free(opts);
    return ok;
}

bool rule_parse(const struct yopts *value, struct rule *r, struct anon_error *err)
{
    r->ops = NULL;
    r->state = NULL;
    yopts_pos(value, &r->line, &r->column);
    switch (yopts_kind(value)) {
    case YOPTS_SCALAR:
        return parse_word(value, r, err);
    case YOPTS_MAPPING:
        return parse_mapping(value, r, err);
    default:
        yopts_error(value, NULL, err, "expected a rule: a word such as keep, or { rule: options }");
        return false;
    }
}

bool rule_column_ref_set(struct rule_column_ref *ref, const struct yopts *opts, const char *key,
                         const char *rule_key, const char *name)
{
    struct yopts *v = key && yopts_kind(opts) == YOPTS_MAPPING ? yopts_get(opts, key) : NULL;

    ref->key = rule_key;
    ref->name = strdup(name);
    yopts_pos(v ? v : opts, &ref->line, &ref->column);
    yopts_free(v);
    return ref->name != NULL;
}
