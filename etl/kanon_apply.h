/*
 * kanon_apply.h: enforce a table's k_anonymity on its published rows, inside the
 * caller's (publish) transaction. The statements and their semantics are in
 * anonymise/kanon.h; this runs them and reports what happened.
 */
#ifndef KANON_APPLY_H
#define KANON_APPLY_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "anonymise/anon_error.h"
#include "anonymise/config.h"

/*
 * qualified_table_sql: the quoted, schema-qualified plain table holding the published
 * rows (the versioned table in anonetl_data, not the view: rows are addressed by ctid).
 *
 * Returns false on a database error (err filled; the caller rolls back, exit 5).
 * Returns true otherwise, with:
 *   *suppressed  rows whose quasi-identifiers were set to NULL
 *   *dropped     rows deleted (on_violation: drop, or the residual all-NULL class
 *                of suppress when it would hold fewer than k rows)
 *   *violated    on_violation: fail and some class has fewer than k rows: nothing was
 *                changed, err holds a message without row values (the caller rolls
 *                back, publishes nothing and exits 6)
 * For suppress, a NOT NULL quasi-identifier column loses its NOT NULL first (only when a
 * row is actually suppressed); one that is part of the primary key cannot be suppressed
 * and makes this fail.
 */
bool kanon_apply(PGconn *conn, const char *qualified_table_sql, const struct cfg_kanon *k,
                 uint64_t *suppressed, uint64_t *dropped, bool *violated,
                 struct anon_error *err) ANON_MUST_CHECK;

#endif
