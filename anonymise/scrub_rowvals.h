/*
 * scrub_rowvals.h: scrub's `row_values: [full_name, email, phone]`. No pattern can
 * recognise a name, but the row knows whose message it is: every occurrence, in the
 * free text, of a value those columns hold in the SAME row is replaced by the column's
 * marker ("[FULL_NAME]", "[EMAIL]").
 *
 *   - the whole value, and for a value that looks like a name (no '@', no digit) each
 *     of its words of 2 or more letters ("Zoë O'Brien" -> "Zoë O'Brien", "Zoë",
 *     "Brien"; "Lee Li" -> "Lee Li", "Lee", "Li": two-letter surnames are names);
 *   - case-insensitively and accent-insensitively for Latin, Greek and Cyrillic letters,
 *     accents typed as combining marks included (textfold.h): the name "Zoë" removes
 *     "ZOE" and "zoë", the name "Seán" removes "Sean", "Nguyễn" removes "NGUYEN",
 *     "Петров" removes "ПЕТРОВ";
 *   - as whole words only: the name "Ann" does not remove the "ann" of "planning";
 *     letters of other scripts count as word letters, so "李小龍" is found when
 *     spaces or punctuation delimit it;
 *   - for an e-mail address, also its local part alone, from 3 characters ("user
 *     alice.smith84 on Teams" for alice.smith84@example.com: a login, a handle);
 *   - a NULL value, or one shorter than 2 letters, gives nothing to find.
 * The values are the row's SOURCE values (ctx->column), whatever those columns' own
 * rules publish. A name that is also a common word ("Will", "May") is removed wherever
 * it stands as a word: scrubbing errs towards removing.
 */
#ifndef SCRUB_ROWVALS_H
#define SCRUB_ROWVALS_H

#include "anonymise/rule.h"

#define SCRUB_ROWVALS_MAX 16

struct scrub_rowvals;

/* A non-empty list of column names (at most SCRUB_ROWVALS_MAX), positions kept for the
 * loader's checks (rule_ops.columns). */
bool scrub_rowvals_parse(const struct yopts *seq, struct scrub_rowvals **out,
                         struct anon_error *err) ANON_MUST_CHECK;
void scrub_rowvals_free(struct scrub_rowvals *rv);
const struct rule_column_ref *scrub_rowvals_refs(const struct scrub_rowvals *rv, size_t *n);
void scrub_rowvals_describe(const struct scrub_rowvals *rv, struct abuf *out);
/* text with every occurrence of the row's values replaced, appended to out. false: an
 * internal error (a named column is not in the row, out of memory; err filled). */
bool scrub_rowvals_apply(const struct scrub_rowvals *rv, const struct rule_ctx *ctx,
                         const char *text, size_t len, struct abuf *out, struct anon_error *err);

#endif
