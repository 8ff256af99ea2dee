/*
 * increment.h: what an incremental run reads, and when a table must be reloaded whole.
 *
 * State per published table lives in anonetl.published (version table, fingerprints,
 * high-water mark). A table is merged incrementally only when its previous publish used
 * the same rules (table fingerprint) and the same key (key fingerprint); otherwise, on
 * the first run, or with --full-refresh, it is reloaded whole and swapped in.
 *
 * The window read from the source is  previous_hwm < watermark <= upper, where upper is
 * `now() - watermark_lag` evaluated in the run's snapshot (now() is the snapshot
 * transaction's start). The lag is what saves late commits: a row whose watermark was
 * set at T but committed after the snapshot is not visible now, yet T > upper as long
 * as the row commits within `lag` of T, so the next run still reads it. For integer
 * watermarks (sequences) upper is the largest value in the snapshot, and the lag does
 * not apply. The new high-water mark is `upper`, stored in the same transaction as the
 * merged rows.
 */
#ifndef INCREMENT_H
#define INCREMENT_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "anonymise/abuf.h"
#include "etl/plan.h"

struct table_state {
    bool present;        /* published before */
    bool version_exists; /* and its versioned table is still there */
    char version_table[64];
    char fingerprint[65];
    char key_fingerprint[17];
    char high_water_mark[128]; /* "" = none */
    /* The published version's columns differ from what the rules produce now (a source
     * column changed type, ...): why, or "" when they match. */
    char layout_change[256];
};

/* The state of a table (and its version's column types, to catch layout changes). */
bool increment_read_state(PGconn *target, const char *schema, const struct table_plan *plan,
                          struct table_state *st, struct anon_error *err) ANON_MUST_CHECK;

/* Why a reload is needed, or NULL when the table can be merged incrementally. */
const char *increment_reload_reason(const struct table_plan *plan, const struct table_state *st,
                                    const char *fingerprint_hex, const char *key_fingerprint,
                                    bool full_refresh);

/* The new high-water mark (text of the watermark column's type), in the snapshot. */
bool increment_upper_bound(PGconn *source, const struct table_plan *plan, char *upper,
                           size_t upper_len, struct anon_error *err) ANON_MUST_CHECK;

/* The SQL condition of the window: lower may be NULL (no lower bound). */
bool increment_window_sql(PGconn *conn, const struct table_plan *plan, const char *lower,
                          const char *upper, struct abuf *out);

/* Is the watermark column usable (exists, date/timestamp/integer type)? Message if not. */
bool increment_check_plan(const struct table_plan *plan, struct abuf *report);

#endif
