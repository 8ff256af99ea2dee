/*
 * kanon_apply.h: publish a table's rows k-anonymous. The classes and the decision are
 * in anonymise/kanon.h; this measures a table of rows, writes the new published version
 * from it with the decision applied, and reports what happened.
 *
 * Why a new version written from another table, and not changes in place: a version's
 * rows are written with COPY FREEZE in the transaction that creates the table, so that a
 * reader whose snapshot predates the publish (REPEATABLE READ) still sees them after the
 * view switched to it (a frozen row is visible to every snapshot; otherwise it would find
 * the new version empty). A change made to those rows afterwards, in the publish
 * transaction, is invisible to that same reader: it would see the rows as they were
 * before k-anonymity. So the rows the rules produced stay in a base table (this run's
 * load for a full refresh; for an incremental table the table its changes are merged
 * into, which keeps every row, so a class that grows publishes its rows again, as a full
 * refresh would), and each publish writes the version from it, already k-anonymous:
 *
 *   publish connection (in the publish transaction, which sees this run's merges):
 *       measure the base; COPY (SELECT ... the decision applied ...) TO STDOUT
 *   writer connection:  BEGIN; CREATE TABLE version; COPY version FROM STDIN (FREEZE);
 *                       primary key; ANALYZE; COMMIT
 *
 * The writer commits before the publish transaction switches the view to the version;
 * if the publish fails afterwards, the version is an unreferenced table that the run (or
 * the next run's cleanup) drops.
 */
#ifndef KANON_APPLY_H
#define KANON_APPLY_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "anonymise/anon_error.h"
#include "etl/plan.h"

/*
 * base_sql: the quoted, schema-qualified base table; version_name: the new version in
 * anonetl_data (created here, committed through `writer`, an idle target connection).
 *
 * Returns false on a database error (err filled; exit 5), or with *violated set when
 * on_violation is fail and some class has fewer than k rows (nothing was created; err
 * holds a message without row values; exit 6). Otherwise true, with:
 *   *suppressed  rows published with NULL quasi-identifiers
 *   *dropped     rows left out (on_violation: drop, or the residual all-NULL class of
 *                suppress when it would hold fewer than k rows)
 */
bool kanon_publish(PGconn *conn, PGconn *writer, const struct table_plan *plan,
                   const char *base_sql, const char *version_name, int statistics_target,
                   uint64_t *suppressed, uint64_t *dropped, bool *violated,
                   struct anon_error *err) ANON_MUST_CHECK;

#endif
