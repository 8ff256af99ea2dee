/*
 * keycheck.h: two rows with the same published key, explained. The published key is the
 * source key after its rules; a duplicate means either that the source key itself is not
 * unique (`key: [email]` with the same email twice: a config problem, whatever the rules),
 * or that two different source keys became one value after their rules (a hash
 * collision: lengthen the hash). Both stop the run with nothing published (exit 6), with
 * a message that names the table and its key and says which of the two it is; never a
 * value.
 *
 * Who can tell them apart: a table with a key digest (plan.h) compares digests on the
 * target; otherwise a key published as it is (`keep`) can only repeat a source key, and
 * for a key with rules the source is asked whether its key repeats, in the run's snapshot.
 */
#ifndef KEYCHECK_H
#define KEYCHECK_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "anonymise/anon_error.h"
#include "etl/plan.h"

enum keycheck_result {
    KEYCHECK_OK,
    KEYCHECK_DUPLICATE, /* err explains it (exit 6) */
    KEYCHECK_ERROR,     /* a query failed (err) */
};

/*
 * A piece of changed rows (staging, quoted) before it is merged: keys repeated among the
 * rows it merges (soft-deleted rows only take their key out: they repeat none).
 * *mergeable: how many of its rows the merge must insert or update (soft-deleted rows
 * excluded).
 */
enum keycheck_result keycheck_piece(PGconn *target, const struct table_plan *plan,
                                    const char *staging, uint64_t *mergeable,
                                    struct anon_error *err);
/* A merge inserted or updated fewer rows than it had: n changed rows met a published row
 * of another source key with the same published key. */
void keycheck_collisions(const struct table_plan *plan, uint64_t n, struct anon_error *err);
/* Adding the primary key of a loaded table (quoted) failed on a duplicate: why. source is
 * a connection in the run's snapshot. */
enum keycheck_result keycheck_loaded(PGconn *source, PGconn *target, const struct table_plan *plan,
                                     const char *table, struct anon_error *err);

/*
 * Incremental merges: does a key of the window's rows also belong to another source row
 * (passing `where:`)? A full refresh would refuse such a key; a merge would silently
 * let one row replace the other. Skipped (no query) when a unique index covers the key:
 * then *unique is set.
 */
enum keycheck_result keycheck_window(PGconn *source, const struct table_plan *plan,
                                     const char *window, bool *unique, struct anon_error *err);
/* Whether a unique index (or the primary key) on the source covers exactly the key. */
bool keycheck_key_indexed(PGconn *source, const struct table_plan *plan, bool *unique,
                          struct anon_error *err) ANON_MUST_CHECK;

#endif
