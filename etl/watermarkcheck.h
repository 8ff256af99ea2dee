/*
 * watermarkcheck.h: what `check` and `check --source` say about an incremental table's
 * watermark beyond the plan's own checks (increment_check_plan).
 *
 * Config errors are what no lag can make safe: an integer watermark whose ids are not
 * taken in one order (a sequence caching ids, counting down or cycling, more than one
 * sequence filling it), so a run could move past an id committed later for good.
 * Warnings are what a run survives but costs or risks: no index to find a window's rows,
 * writers whose transactions a run cannot see in flight (a standby, a foreign table, a
 * role without pg_read_all_stats, a lag of 0), ids an application may hand out itself, a
 * local-time watermark. The source's catalog questions are watermark.h's.
 */
#ifndef WATERMARKCHECK_H
#define WATERMARKCHECK_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>

#include "anonymise/abuf.h"
#include "etl/plan.h"

/* Config errors only the source shows (an integer watermark's sequence caching ids,
 * counting down or cycling, or more than one sequence filling it):
 * appended to report. False only when the source cannot be asked. */
bool watermarkcheck_source(PGconn *conn, const struct table_plan *plan, struct abuf *report,
                           struct anon_error *err) ANON_MUST_CHECK;
/* `check --source` warnings: no index on the watermark (with what a run then costs), a
 * local-time watermark, a source role that cannot see other sessions' transactions. */
void watermarkcheck_warn_source(PGconn *conn, const struct cfg_db *db,
                                const struct table_plan *plan, FILE *out);
/* `check` warnings from the config alone: where: with deletes: none. */
void watermarkcheck_warn_config(const struct config *cfg, FILE *out);

#endif
