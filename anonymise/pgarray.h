/*
 * pgarray.h: PostgreSQL array text format ("{a,b,\"c d\",NULL}", nested "{{1,2},{3,4}}",
 * with optional bounds "[0:1]={x,y}"), read and written back, so a rule written for a
 * scalar column applies to each element of an array column (`text[]`, `date[]`, ...).
 *
 * Engine use, for a column whose source type ends in "[]":
 *   - DDL: call the rule's output() with the element type (strip the "[]") and add "[]"
 *     to the result; an element that becomes NULL does not make the array NULL, so
 *     NOT NULL on the array column stays unless the rule output says so for other reasons.
 *   - apply: pgarray_apply_rule(ops, state, ctx, &value, out, &out_null, err) in place of
 *     ops->apply. It calls ops->apply once per element (NULL elements included, as
 *     is_null) and re-encodes with PostgreSQL's quoting. A value that is not a well-formed
 *     array literal becomes NULL (never passed through).
 * Elements are decoded text (quotes and backslashes removed), like any other rule input.
 */
#ifndef PGARRAY_H
#define PGARRAY_H

#include <stdbool.h>
#include <stddef.h>

#include "anonymise/abuf.h"
#include "anonymise/anon_error.h"
#include "anonymise/rule.h"

#define PGARRAY_MAX_DEPTH 6 /* PostgreSQL's MAXDIM */

enum pgarray_status {
    PGARRAY_OK,
    PGARRAY_MALFORMED, /* not an array literal: out holds partial output, discard it */
    PGARRAY_ERROR,     /* the callback failed (err filled) */
};

/* One element in, one element out: write the new decoded element to out, or set
 * *out_null. Return false only on an internal error (err filled). */
typedef bool (*pgarray_elem_fn)(void *arg, const struct rule_value *elem, struct abuf *out,
                                bool *out_null, struct anon_error *err);

/* Parse text (delimiter delim: ',' for every type but box, which uses ';'), call fn for
 * each element in order, and append the re-encoded array to out. Structure (nesting,
 * bounds decoration) is kept as it is. */
enum pgarray_status pgarray_map(const char *text, size_t len, char delim, pgarray_elem_fn fn,
                                void *arg, struct abuf *out, struct anon_error *err);

/* Append one element in array-literal form: NULL, a bare word, or a quoted string. */
void pgarray_encode_elem(const char *s, size_t len, bool is_null, char delim, struct abuf *out);
/* Append a one-dimensional array literal of strings ({a,"b c"}), for a text[] parameter. */
void pgarray_encode_strings(const char *const *items, size_t n, struct abuf *out);

/* A rule applied to each element of an array value (see above). Returns false only on an
 * internal error. */
bool pgarray_apply_rule(const struct rule_ops *ops, const void *state, const struct rule_ctx *ctx,
                        const struct rule_value *in, struct abuf *out, bool *out_null,
                        struct anon_error *err);

#endif
