/*
 * bincol.h: one column of a binary COPY row on its way from the source to the target
 * (plan_column.bin, decided by plan.c):
 *
 *   COPY     the field's bytes as they are (keep)
 *   NULL     always NULL (suppress)
 *   FIXED    the same bytes on every row (constant), converted once by the plan
 *   CONVERT  the source bytes in the form the rule reads (the value's text through
 *            codec->to_text, or a date/timestamp as numbers through codec->to_time
 *            for rules with apply_time), the rule, and its output back to the target
 *            type's binary form (codec->from_text / from_time); an array column goes
 *            element by element (codec_array.h) with a new header for the output type
 *
 * Text-like types (text, varchar, json, enums) skip every conversion: the rule reads
 * the field's bytes and writes the target's. Nothing allocates per row: the scratch
 * buffers keep their memory from row to row.
 */
#ifndef BINCOL_H
#define BINCOL_H

#include <stdbool.h>
#include <stddef.h>

#include "anonymise/abuf.h"
#include "anonymise/anon_error.h"
#include "anonymise/rule.h"
#include "etl/copybin.h"
#include "etl/plan.h"

struct bincol_scratch {
    struct abuf text;   /* the rule's text input */
    struct abuf result; /* the rule's output before conversion */
};

enum bincol_status {
    BINCOL_OK,
    BINCOL_INTERNAL, /* a malformed source value, a rule's internal error */
    BINCOL_TARGET,   /* the rule's output is not a value of the target type: the target
                      * would have rejected it on the text path too */
};

void bincol_scratch_init(struct bincol_scratch *s);
void bincol_scratch_free(struct bincol_scratch *s);

/* Append column i's output field (length and bytes, or NULL) for source field f.
 * Errors name the table and column, never the value. */
enum bincol_status bincol_apply(const struct table_plan *plan, size_t i, const struct rule_ctx *ctx,
                                const struct copybin_field *f, struct bincol_scratch *s,
                                struct abuf *out, struct anon_error *err);

/* The text form of source field f of column c (for a rule reading another column),
 * appended to out, or *is_null. false when the column has no codec or the bytes are
 * malformed. */
bool bincol_text(const struct plan_column *c, const struct copybin_field *f, struct abuf *out,
                 bool *is_null);

#endif
