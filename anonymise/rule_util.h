/*
 * rule_util.h: small helpers shared by the rule implementations (rule_*.c).
 */
#ifndef RULE_UTIL_H
#define RULE_UTIL_H

#include <stdbool.h>

#include "anonymise/abuf.h"
#include "anonymise/anon_error.h"
#include "anonymise/rule.h"
#include "anonymise/yopts.h"

/* A rule without options accepts a bare word or an empty mapping `{}`. */
bool rule_no_options(const struct yopts *opts, struct anon_error *err) ANON_MUST_CHECK;
/* Append s double-quoted, with \" \\ \n \t and \xHH escapes (for describe()). */
void rule_describe_string(struct abuf *out, const char *s);
/* The source type is an array ("text[]", "integer[]"). */
bool rule_is_array_type(const char *type);
/* `apply` of a rule that has `apply_time`: the text is parsed into the direct form
 * (pgtime.h), ops->apply_time runs, and a time result is formatted back. NULL and text
 * that is not a date or timestamp give NULL. */
bool rule_apply_time_text(const struct rule_ops *ops, const void *state, const struct rule_ctx *ctx,
                          const struct rule_value *in, struct abuf *out, bool *out_null,
                          struct anon_error *err);

#endif
