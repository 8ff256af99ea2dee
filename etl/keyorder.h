/*
 * keyorder.h: reading a table whose key is published as it is in that key's order.
 *
 * A scan without ORDER BY returns a published table in the order it was written, and a
 * full read returns the source's physical order, which is its update history: PostgreSQL
 * writes an updated row at the end of its page or of the table. Published in that order,
 * the rows out of key order are those updated at the source, also when only a column the
 * rules hide changed (a suppressed address: who moved). A version whose key a rule
 * rewrites is laid out by that key on the target (target_order_by_key); one whose key is
 * published as it is is read from the source in the key's order instead, when the
 * source's planner can give that order for little more than the plain read (an index scan
 * of a key the table mostly follows, a sort of a small table): no second write on the
 * target. When it cannot (a large table in no particular key order: a sort of the whole
 * table on the source), the table is read as before and the run says so.
 */
#ifndef KEYORDER_H
#define KEYORDER_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "anonymise/abuf.h"
#include "anonymise/anon_error.h"
#include "etl/plan.h"

/* The planner's cost of reading in key order may exceed the plain read's by this factor,
 * plus KEYORDER_COST_SLACK units (a sort of some 50,000 rows in memory). */
#define KEYORDER_COST_RATIO 1.5
#define KEYORDER_COST_SLACK 10000.0

/* Whether a whole read of this table should come in its key's order: a key published as
 * it is (a rewritten key's version is ordered on the target), no k-anonymity (its version
 * is written from a private base in key order). */
bool keyorder_wanted(const struct table_plan *plan);

/* select_sql (a SELECT of the table, no ORDER BY) with " ORDER BY <key>" appended to out
 * when the source's planner reads it so for at most KEYORDER_COST_RATIO times the plain
 * read's cost plus KEYORDER_COST_SLACK; *ordered says whether it did. The statements are
 * explained only, never run. False on a source error. */
bool keyorder_select(PGconn *source, const struct table_plan *plan, const char *select_sql,
                     struct abuf *out, bool *ordered, struct anon_error *err) ANON_MUST_CHECK;

#endif
