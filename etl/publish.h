/*
 * publish.h: make a run's tables visible to the data team, all at once.
 *
 * Published names (`<schema>.<table>`) are views over versioned tables in anonetl_data.
 * One target transaction switches every view to its new version (CREATE OR REPLACE
 * VIEW), records the run, and commits: readers see the previous complete state until
 * the commit and the new one after, never a mix. Views the data team built on the
 * published names keep working, because the published relation is never dropped; a
 * switch only needs a short lock on the view (bounded by lock_timeout, so a long-running
 * reader makes the publish fail cleanly instead of queueing everyone behind it). Old
 * versions are dropped after the commit; one still in use is left for the next run.
 */
#ifndef PUBLISH_H
#define PUBLISH_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "anonymise/anon_error.h"
#include "etl/increment.h"
#include "etl/plan.h"
#include "etl/tablecopy.h"
#include "etl/target.h"

struct shared_load; /* worker.c */

enum publish_kind {
    PUBLISH_SWAP,  /* a whole new version: the view switches to it */
    PUBLISH_MERGE, /* changed rows merged into the current version by key */
};

struct publish_table {
    const struct table_plan *plan;
    enum publish_kind kind;
    char version_name[TARGET_NAME_MAX]; /* SWAP: the new version; MERGE: the current one */
    /* k-anonymity: version_name is the base the rows were loaded or merged into, and the
     * publish writes this new version from it (kanon_apply.h); "" otherwise. */
    char published_name[TARGET_NAME_MAX];
    unsigned n_chunks; /* MERGE: pieces of changed rows handed over */
    /* MERGE: the temporary table the pieces pass through (target_create_pieces), created
     * at the first piece */
    char pieces_name[TARGET_NAME_MAX];
    bool pieces_created;
    char keys_name[TARGET_NAME_MAX]; /* key_scan deletes: every source key, or "" */
    char gone_name[TARGET_NAME_MAX]; /* merges with where: keys of rows now failing it */
    /* Merges with a key digest: changed rows that met a published row of another source
     * key, held until every removal of the run is done (publish.c, hold_unmerged). */
    char pending_name[TARGET_NAME_MAX];
    uint64_t rows_pending;                     /* rows held there (created with the first) */
    char high_water_mark[128];                 /* incremental tables: stored with the data */
    char watermark_marks[INCREMENT_MARKS_MAX]; /* integer watermarks: marks for later runs */
    char *source_storage; /* incremental tables: increment_source_storage, malloc'd */
    struct tablecopy_stats stats;
    /* SWAP: a piece of the load was not read in the key's order (target_order_by_key) */
    bool out_of_key_order;
    uint64_t rows_filtered;
    uint64_t rows_deleted;    /* filled by publish (merges) */
    uint64_t rows_suppressed; /* filled by publish (k-anonymity) */
    uint64_t rows_dropped;
    uint64_t keys_streamed; /* key_scan: source keys streamed */
    char fingerprint_hex[65];
    bool duplicate_keys;    /* a merge found repeated or colliding keys (exit 6) */
    bool source_key_unique; /* a unique index on the source covers the key */
    /* Where the time went after the copy (stats.elapsed_s): the primary key build and
     * ANALYZE (workers), and when its part of the publish transaction began. */
    double index_s, analyze_s, publish_start;
    /* worker bookkeeping */
    struct shared_load *load; /* split tables: the one COPY every key range goes into */
    int pieces_left;
    double first_start;
};

struct publish_request {
    const char *schema;           /* published schema */
    char *const *grant_select_to; /* roles: exactly these read its views (grants.h) */
    size_t n_grant_select_to;
    bool retain_unconfigured; /* keep published tables the config no longer has */
    /* The config's identity (configsrc.h): recorded with each table it publishes; a table
     * another config published last is not this one's to unpublish (left, said in the
     * log). NULL: none. */
    const char *config_identity;
    int64_t run_id;
    const char *key_fingerprint;
    struct publish_table *tables;
    size_t n_tables;
    /* out: k-anonymity with on_violation: fail, or colliding keys (nothing published) */
    bool policy_violated;
    bool begun;                     /* publish_begin opened the transaction */
    const struct cfg_db *target_db; /* for the writer of k-anonymous versions */
    PGconn *writer;                 /* opened when a table needs it, closed by publish_all */
    int statistics_target;          /* target.statistics_target, for versions built here */
};

/*
 * Incremental tables merge while the copy goes on: the publish transaction opens before
 * the workers start, each piece of changed rows (COPY data of the table's plan, handed
 * over in memory) is loaded into the table's temporary pieces table and merged as soon
 * as a worker finishes it, and publish_all ends the same transaction. Readers still see
 * the previous state until the commit; a failure rolls every merge back.
 */
bool publish_begin(PGconn *conn, struct publish_request *req,
                   struct anon_error *err) ANON_MUST_CHECK;
bool publish_merge_chunk(PGconn *conn, struct publish_table *t, const char *data, size_t len,
                         struct anon_error *err) ANON_MUST_CHECK;
/* Before anything is copied: every published name is free or one of anonetl's views
 * (not a table, not a view anonetl did not publish); else false, err naming it (exit 5). */
bool publish_check_names(PGconn *conn, const struct publish_request *req,
                         struct anon_error *err) ANON_MUST_CHECK;
/* Everything else, in the transaction publish_begin opened or in a new one; commits. */
bool publish_all(PGconn *conn, struct publish_request *req, struct anon_error *err) ANON_MUST_CHECK;

#endif
