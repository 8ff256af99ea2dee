/*
 * rowsample.h: a sample of a table's rows as a run reads them (the plan's columns, through
 * the table's where:), spread over the whole table: what `check --source` and `run` look
 * at before publishing (keep columns that look like personal data, json keys no path
 * names) and what `preview` shows.
 *
 * Why not the first rows of a scan: the heap has an order. Rows inserted last, rows moved
 * to the end by UPDATEs, a table CLUSTERed on some column: a scan that stops after a few
 * hundred rows (LIMIT, or a random filter sized to reach the limit early) only ever sees
 * the table's first pages. Here TABLESAMPLE SYSTEM reads ROWSAMPLE_PAGES_PER_ROW x n pages
 * chosen at random over the whole heap, and n of their rows are kept at random (ordered by
 * a hash of their place in the table: a top-n sort in the server, over the sampled pages
 * only). The choice is repeatable: the same table gives the same sample, so that `check
 * --source` and the run agree, and a verdict does not flip from one run to the next on
 * data that did not change. The share of pages
 * comes from the heap's current size (pg_relation_size, summed over partitions and
 * inheritance children), not from reltuples, so a table never analysed, or analysed
 * before it grew, is sampled right. A table of no more pages than that is read whole; so
 * are views and foreign tables, which have no TABLESAMPLE. When the where: leaves fewer
 * than n rows of the pages read, the share grows (x8) up to the whole table.
 */
#ifndef ROWSAMPLE_H
#define ROWSAMPLE_H

#include <libpq-fe.h>

#include "anonymise/anon_error.h"
#include "etl/plan.h"

#define ROWSAMPLE_PAGES_PER_ROW 2
#define ROWSAMPLE_SEED 20240101 /* TABLESAMPLE ... REPEATABLE: the same table, the same pages */

/* Up to n rows of plan's table (plan's columns, in plan order), at random over the whole
 * table. NULL with err on failure. Inside a transaction, a failure leaves it usable (each
 * query runs under a savepoint). */
PGresult *rowsample_read(PGconn *conn, const struct table_plan *plan, int n,
                         struct anon_error *err);

#endif
