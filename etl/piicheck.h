/*
 * piicheck.h: the personal-data warnings of `anonetl check` (anonymise/pii.h): a column
 * whose rule is `keep` but whose name, or (with --source) sampled content, looks like
 * personal data. Warnings go to the given stream as "warning: ..." lines and never
 * change the exit code. Sampled values are only scanned in memory: never printed or
 * logged.
 */
#ifndef PIICHECK_H
#define PIICHECK_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdio.h>

#include "anonymise/config.h"
#include "etl/plan.h"

#define PIICHECK_SAMPLE_ROWS 200

/* Names only, every table of the config (no database). Returns the number of warnings. */
size_t piicheck_config(const struct config *cfg, FILE *out);
/* Names and the content of up to PIICHECK_SAMPLE_ROWS sampled rows of one planned
 * table (conn: the source). Returns the number of warnings. */
size_t piicheck_table(PGconn *conn, const struct table_plan *plan, FILE *out);

#endif
