/*
 * rule_json.h: what `check` asks of a `json` rule (rules_extra.h declares the rule
 * itself): does it keep the keys no path names, which paths does it name, and what
 * in a sampled document would no path name.
 */
#ifndef RULE_JSON_H
#define RULE_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "anonymise/rule.h"

/* r is a json rule with `others: keep` (reviewed or not). */
bool rule_json_keeps_others(const struct rule *r);
/* The reason `others: { keep: { reviewed: "why" } }` records, or NULL (no review, or
 * others: drop). */
const char *rule_json_others_reviewed(const struct rule *r);
/* Number of paths of r (0 when r is not a json rule). */
size_t rule_json_n_paths(const struct rule *r);
/* The i-th path as written, its rule (*sub) and the last key it names (*last_key,
 * NULL when it ends on "$" or on array indexes only); NULL past the end. */
const char *rule_json_path(const struct rule *r, size_t i, const struct rule **sub,
                           const char **last_key);

/* A survey of the document doc[0..len) (for `check --source`), as paths, each added
 * once as a line ("$.customer.phone\n", "$.items[*].note\n", "$.tags[1]\n", "$" for the
 * root): to unnamed, the places no path of r names (what others: drop drops, others:
 * keep publishes); to kept_whole, the objects and arrays a `keep` path publishes whole
 * (with every key inside, also those added later). Only plain keys (a letter or _, then
 * letters, digits, _ or -, up to 40) are shown; any other key, which may be data, is
 * "[?]". No rule is applied. A document that is not JSON adds nothing. False only on
 * an internal error (err filled). */
bool rule_json_survey(const struct rule *r, const char *doc, size_t len, struct abuf *unnamed,
                      struct abuf *kept_whole, struct anon_error *err) ANON_MUST_CHECK;

#endif
