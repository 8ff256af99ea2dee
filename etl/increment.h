/*
 * increment.h: what an incremental run reads, and when a table must be reloaded whole.
 *
 * State per published table lives in anonetl.published (version table, fingerprints,
 * high-water mark). A table is merged incrementally only when its previous publish used
 * the same rules (table fingerprint) and the same key (key fingerprint); otherwise, on
 * the first run, or with --full-refresh, it is reloaded whole and swapped in.
 *
 * A run reads every row of its snapshot whose watermark is above the previous high-water
 * mark, and stores a new mark, in the same target transaction as the merged rows, for the
 * next run to start from. A row whose transaction commits after a run's snapshot is
 * invisible to that run: the new mark must stay below every value such a row can carry,
 * or no later run would read it. So the mark is not "the newest value read" but a bound
 * computed on the source, in the snapshot, in the watermark's own type (the rows between
 * it and the newest value are read again next time, which the merge by key makes
 * harmless; a run still publishes everything its snapshot shows):
 *
 *   date / timestamp / timestamptz   now() - watermark_lag (the source's clock at the
 *       snapshot), and no later than the start of the oldest transaction that held a
 *       write lock on the table (a partition of it, a table a view reads) just before
 *       the snapshot, when the source role can see it (pg_read_all_stats); then floored to the
 * column's precision minus one unit (timestamp(0): the current second is read again next time), for
 * `timestamp` in the source's default time zone, the lowest local time of the next 3 hours (a clock
 * going back repeats an hour), and for `date` the day before (a date watermark re-reads the current
 * day every run). integer (ids from a sequence)    the largest id committed just before the run
 * read the transactions writing the table or holding ids of its sequence (its premark, read in
 * autocommit before that list and before the snapshot, in that order), when none of them can hold
 * an id up to it; otherwise the largest earlier premark none of them can hold an id up to (judged
 * by their start, or by not having been in flight at that premark), never below the previous mark.
 * Exact for ids taken by nextval() of the column's sequence (CACHE 1, increasing, no CYCLE: check
 * --source refuses the rest) in the transaction that inserts them; the proof is above
 * integer_upper() in increment.c.
 *
 * The writers are read from pg_locks BEFORE the snapshot: a transaction the snapshot does
 * not show that held its lock by then is still listed (read after it, one committing in
 * between was neither, and its rows were lost). The lag (default
 * CFG_DEFAULT_WATERMARK_LAG_MS; integer watermarks: 0 on a primary unless set) covers the
 * rest: writers the source role cannot see (their start), a transaction's first write to
 * the table after the run started with a stamp taken before, stamps the application
 * computes with its own clock, ids taken before the inserting transaction, and every
 * writer on a standby source (the primary's locks are not visible there) or on the server
 * of a foreign table the table reads (integer watermarks: the default lag there too).
 */
#ifndef INCREMENT_H
#define INCREMENT_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "anonymise/abuf.h"
#include "etl/plan.h"
#include "etl/sourcesnap.h"

#define INCREMENT_MARKS_MAX 4096
#define INCREMENT_NEW_MAX 16

struct table_state {
    bool present;        /* published before */
    bool version_exists; /* and its versioned table is still there */
    char version_table[64];
    char base_table[64]; /* k-anonymity: the table merges go into ("" = version_table) */
    char fingerprint[65];
    char key_fingerprint[17];
    char high_water_mark[128]; /* "" = none */
    /* integer watermarks: earlier runs' (time, max) marks; timestamp and date: the zone */
    char marks[INCREMENT_MARKS_MAX];
    /* The published version's columns differ from what the rules produce now, or the
     * source's columns from those it was published from (a column retyped, dropped and
     * added again, NOT NULL dropped, ...): why, or "" when they match. */
    char layout_change[256];
    /* A relation of the source table was rewritten since the version was published (its
     * relfilenode changed: ALTER TABLE ... TYPE, VACUUM FULL, CLUSTER, TRUNCATE): why,
     * or "" when not (or when the version does not record it). */
    char storage_change[256];
    /* Relations of the source the recorded storage does not list (a partition attached or
     * created, an inheritance child added): increment_check_new_relations. */
    unsigned int new_oids[INCREMENT_NEW_MAX];
    size_t n_new;
    /* A `timestamp` or `date` mark is a local time: the source's default time zone is not
     * the one recorded with it (increment_check_zone): why, or "". */
    char zone_change[256];
};

/* The source's columns as the published version records them (anonetl.published
 * source_layout): JSON [[name, attnum, declared type], ...]; malloc'd, NULL when out of
 * memory. A run whose source differs reloads the table (increment_reload_reason). */
char *increment_source_layout(const struct table_plan *plan);

/* Where the source table's rows are stored, as the run's snapshot shows it (anonetl.published
 * source_storage): JSON [[oid, relfilenode, name], ...] of the table, its partitions and
 * inheritance children, for a view the tables it reads (those with storage), and the
 * sequences filling an integer watermark ([oid, relfilenode, name, "sequence"]). A rewrite
 * (ALTER TABLE ... TYPE ... USING, VACUUM FULL, CLUSTER, TRUNCATE) gives a relation a new
 * relfilenode and can change every value without moving a watermark; a sequence reset
 * (ALTER SEQUENCE ... RESTART) hands out ids below the mark again. *out is malloc'd. */
bool increment_source_storage(PGconn *src, const struct table_plan *plan, char **out,
                              struct anon_error *err) ANON_MUST_CHECK;

/* The state of a table (and its version's column types, to catch layout changes), and
 * whether the source was rewritten since: storage is increment_source_storage's, or NULL
 * (not compared). */
bool increment_read_state(PGconn *target, const char *schema, const struct table_plan *plan,
                          const char *storage, struct table_state *st,
                          struct anon_error *err) ANON_MUST_CHECK;

/* On the run's snapshot: does a relation new in the source since the published version
 * (st->new_oids: ATTACH PARTITION of a filled table, INHERIT) hold a row whose watermark is at
 * or below the previous mark? No window reads those rows again: if so, why to reload in
 * st->storage_change; a partition created empty and filled since is merged. */
bool increment_check_new_relations(PGconn *src, const struct table_plan *plan,
                                   struct table_state *st, struct anon_error *err) ANON_MUST_CHECK;

/* On the run's snapshot, for an integer watermark: does one of its sequences the source
 * role may read (SELECT) hand out an id at or below the previous mark next? Ids only grow
 * past every mark, unless a setval() moved it back (a RESTART changes its relfilenode:
 * compare_storage): the rows of those ids would be in no window; if so, why to reload in
 * st->storage_change. */
bool increment_check_sequences(PGconn *src, const struct table_plan *plan, struct table_state *st,
                               struct anon_error *err) ANON_MUST_CHECK;

/* Why a reload is needed, or NULL when the table can be merged incrementally. */
const char *increment_reload_reason(const struct table_plan *plan, const struct table_state *st,
                                    const char *fingerprint_hex, const char *key_fingerprint,
                                    bool full_refresh);

/* The largest id of an integer-watermark table, read before the snapshot (increment.c). */
struct increment_premark {
    bool read;         /* read (the table exists and its watermark is an integer) */
    char max[32];      /* "" when the table had no row */
    long long time_us; /* the source's clock_timestamp() after it, microseconds */
};

/* What a run knows of the source's clock: its snapshot, the source's default time zone
 * (read once, when a `timestamp` or `date` watermark needs it), and the premarks. */
struct increment_clock {
    const struct source_snapshot *snapshot;
    const struct cfg_db *db;
    char zone[128];
    const struct config *cfg;
    struct increment_premark *premarks; /* premarks[i] is cfg->tables[i]'s */
};

/* Before the writers and the snapshot (source_snapshot_begin), on the source connection in
 * autocommit: the premark of every incremental table with an integer watermark. A table
 * that cannot be read gets none (its bound stays at an earlier one). */
bool increment_read_premarks(struct increment_clock *clk, PGconn *conn, const struct config *cfg,
                             struct anon_error *err) ANON_MUST_CHECK;
void increment_clock_free(struct increment_clock *clk);

/* A `timestamp` or `date` watermark's mark is a local time of the source's default time
 * zone, recorded with it: when that zone changed (ALTER DATABASE/ROLE ... SET timezone),
 * rows stamped in the new zone can be below the mark for good (New York is 5 hours behind
 * UTC): why to reload in st->zone_change. */
bool increment_check_zone(struct increment_clock *clk, const struct table_plan *plan,
                          struct table_state *st, struct anon_error *err) ANON_MUST_CHECK;

struct increment_bound {
    char upper[128];                 /* the new high-water mark ("" = none: reload next run) */
    char marks[INCREMENT_MARKS_MAX]; /* integer: the marks to store; timestamp, date: the zone */
    char held[512];                  /* why the bound stops short of now() - lag, or "" */
};

/* The new high-water mark (text of the watermark column's type), in the snapshot. */
bool increment_upper_bound(struct increment_clock *clk, const struct table_plan *plan,
                           const struct table_state *st, struct increment_bound *out,
                           struct anon_error *err) ANON_MUST_CHECK;
/* Does the table's watermark need the source's time zone (timestamp, date)? */
bool increment_needs_zone(const struct table_plan *plan);

/* The SQL condition of a window: lower and upper may be NULL (no bound). */
bool increment_window_sql(PGconn *conn, const struct table_plan *plan, const char *lower,
                          const char *upper, struct abuf *out);

/* Is the watermark column usable (exists, date/timestamp/integer type)? Message if not. */
bool increment_check_plan(const struct table_plan *plan, struct abuf *report);

#endif
