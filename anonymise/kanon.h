/*
 * kanon.h: k-anonymity over the published rows, as SQL (pure: no libpq here; etl/
 * kanon_apply.c runs the statements inside the publish transaction).
 *
 * An equivalence class is the set of published rows that share the same values of every
 * quasi-identifier (after the rules). A table is k-anonymous when every class has at
 * least k rows. Classes are formed NULL-safely: two NULLs are equal, as in GROUP BY or
 * PARTITION BY (a plain `(a, b) IN (SELECT ...)` would never match a NULL and would
 * leave such rows unprotected).
 *
 * The statements:
 *   measure   one row, two bigints: the rows in classes smaller than k whose
 *             quasi-identifiers are not all NULL ("violating"), and the rows whose
 *             quasi-identifiers are all NULL ("null_rows": the class suppression feeds).
 *   suppress  UPDATE: set every quasi-identifier to NULL in the violating rows.
 *   drop      DELETE every row of a class smaller than k (the all-NULL class included).
 *   drop_null DELETE the rows whose quasi-identifiers are all NULL.
 *
 * Suppression moves every violating row into the all-NULL class, which may itself end
 * up smaller than k. kanon_decide picks the safe outcome without iterating: if the
 * all-NULL class after suppression would be non-empty and smaller than k, those rows are
 * dropped instead (they would otherwise be a small, distinguishable group); otherwise the
 * violating rows are suppressed. So after any action every class has >= k rows, and the
 * counts are exact: a row is counted as suppressed or dropped, never both.
 *
 * Rows are addressed by ctid inside one statement, so the table must be a plain table
 * (the versioned table behind the published view), not a view. A quasi-identifier that
 * is NOT NULL or part of the primary key cannot be suppressed; the caller drops NOT NULL
 * first (kanon_apply does).
 */
#ifndef KANON_H
#define KANON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "anonymise/abuf.h"
#include "anonymise/anon_error.h"
#include "anonymise/config.h"

struct kanon_sql {
    char *measure;
    char *suppress;
    char *drop;
    char *drop_null;
};

/*
 * Build the statements. table_sql is the quoted, schema-qualified table; qi_sql the
 * quoted column names (n_qi >= 1); k >= 2. Names are not checked or quoted here: pass
 * them through PQescapeIdentifier or kanon_quote_ident. On failure out is left empty.
 */
bool kanon_sql_build(const char *table_sql, const char *const *qi_sql, size_t n_qi, int k,
                     struct kanon_sql *out, struct anon_error *err) ANON_MUST_CHECK;
void kanon_sql_free(struct kanon_sql *s);

/* Append name as a double-quoted SQL identifier ('"' doubled), like PQescapeIdentifier
 * for a UTF-8 connection. Returns false when out fails. */
bool kanon_quote_ident(const char *name, struct abuf *out);

enum kanon_step {
    KANON_NOTHING,   /* every class has >= k rows */
    KANON_SUPPRESS,  /* run `suppress`: `violating` rows suppressed */
    KANON_DROP,      /* run `drop` */
    KANON_DROP_NULL, /* run `drop_null`: only the all-NULL class is too small */
    KANON_FAIL,      /* on_violation: fail, and some class is too small */
};

/* What to run, from the two numbers of `measure`. */
enum kanon_step kanon_decide(enum cfg_kanon_action action, int k, uint64_t violating,
                             uint64_t null_rows);

/*
 * The same outcome as a SELECT instead of changes in place: the rows of table_sql as
 * they are to be published, every column of cols (quoted, in order; is_qi marks the
 * quasi-identifiers) with the step applied: suppressed rows with NULL quasi-identifiers,
 * dropped rows left out. For tables whose published version is written once, from
 * another table (etl/kanon_apply.h says why). step KANON_FAIL is refused.
 *
 * The rows come ORDER BY the published columns order[0..n_order) (the published key
 * when it is the primary key: types with an order),
 * then random() when there is no key or a key column is a quasi-identifier: the version
 * is written in this order and read back in it. Without it the window's sort laid the
 * rows out by their quasi-identifiers, and a suppressed row sat between the classes its
 * own values fall between (the HIV patient's NULL postcode between AB1 and CD2).
 */
bool kanon_select_build(const char *table_sql, const char *const *cols, const bool *is_qi,
                        size_t n_cols, const size_t *order, size_t n_order, int k,
                        enum kanon_step step, struct abuf *out,
                        struct anon_error *err) ANON_MUST_CHECK;

#endif
