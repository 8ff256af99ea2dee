/*
 * piicheck.h: `keep` columns that look like personal data (anonymise/pii.h): the name, or
 * (with a source connection) sampled content. Each signal is a "warning: ..." line;
 * `check` and `run` refuse a config with any (exit 6, PIICHECK_ADVICE) unless the keep
 * records its review (`keep: { reviewed: "why" }`), which silences it. Sampled values
 * are only scanned in memory: never printed or logged.
 */
#ifndef PIICHECK_H
#define PIICHECK_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdio.h>

#include "anonymise/config.h"
#include "etl/plan.h"

#define PIICHECK_SAMPLE_ROWS 200

#define PIICHECK_ADVICE                                                                            \
    "keep publishes these columns as they are: review each one and record why it is not "          \
    "personal data (keep: { reviewed: \"why\" }), or hash, mask, scrub or suppress it"

/* Names only, every table of the config (no database). Appends the warning lines to out
 * and returns their number. */
size_t piicheck_config(const struct config *cfg, struct abuf *out);
/* Names and the content of up to PIICHECK_SAMPLE_ROWS rows, sampled over the whole table
 * (etl/rowsample.h), of one planned table (conn: the source). Appends the warning lines
 * to out, returns their number. When the sample cannot be read ("content check not
 * done", said in out), adds the number of unreviewed keep columns left unchecked to
 * *not_done (may be NULL): a review not done, refused as a source error. */
size_t piicheck_table(PGconn *conn, const struct table_plan *plan, struct abuf *out,
                      size_t *not_done);

#endif
