/*
 * sourcesnap.h: the source side of a run: one connection in a REPEATABLE READ, READ ONLY
 * transaction whose snapshot is exported (pg_export_snapshot), so that every table -
 * and every worker that attaches with SET TRANSACTION SNAPSHOT - reads the same instant.
 */
#ifndef SOURCESNAP_H
#define SOURCESNAP_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "anonymise/config.h"
#include "etl/plan.h"

struct source_snapshot;

/*
 * A transaction that held a lock letting it write a relation (an INSERT, UPDATE or DELETE
 * holds RowExclusiveLock on the table, nextval() on the sequence, until the transaction
 * ends) when the run read pg_locks, just BEFORE it took the snapshot: a transaction whose
 * writes the snapshot does not show and that had taken its locks by then is in the list
 * (increment.h says why that order matters).
 */
struct source_writer {
    unsigned long long relation; /* pg_class oid */
    char vxid[32];               /* pg_locks.virtualtransaction */
    char start[48];              /* its xact_start (timestamptz text, UTC), "" when unknown */
    long long start_us;          /* the same in microseconds since the epoch, 0 when unknown */
    /* A session's transaction (false: a prepared one, whose vxid is not the one it had
     * before PREPARE TRANSACTION) */
    bool live;
};

/* Connect, read the writers, then begin the snapshot (source_snapshot_connect and
 * source_snapshot_begin in one). */
struct source_snapshot *source_snapshot_open(const struct cfg_db *db, struct anon_error *err);
/* A connection in autocommit: what must be read before the writers and the snapshot
 * (increment.h: the premarks of integer watermarks) is read on it. */
struct source_snapshot *source_snapshot_connect(const struct cfg_db *db, struct anon_error *err);
/* Read the writers (pg_locks), then take and export the snapshot: in that order. */
bool source_snapshot_begin(struct source_snapshot *s, struct anon_error *err) ANON_MUST_CHECK;
/* A worker connection attached to the leader's snapshot. */
PGconn *source_snapshot_attach(const struct source_snapshot *s, const struct cfg_db *db,
                               struct anon_error *err);
PGconn *source_snapshot_conn(const struct source_snapshot *s);
const char *source_snapshot_id(const struct source_snapshot *s);
/* Every writer of every relation of the database (one entry per relation and transaction). */
const struct source_writer *source_snapshot_writers(const struct source_snapshot *s, size_t *n);
/* The source is a standby (pg_is_in_recovery()): the primary's transactions hold no lock
 * it can see, so the writers are unknown, not absent. */
bool source_snapshot_standby(const struct source_snapshot *s);
/* Rows the table's `where` filters out (0 without a where), in the snapshot. */
bool source_snapshot_count_filtered(const struct source_snapshot *s, const struct table_plan *plan,
                                    uint64_t *filtered, struct anon_error *err) ANON_MUST_CHECK;
/*
 * After the reads on conn (a connection in the run's snapshot, still in its transaction),
 * before anything is published: false, err naming it, when a table this session has
 * locked - every table it read - got
 * new storage after the snapshot was taken. TRUNCATE and the rewriting forms of ALTER
 * TABLE are not MVCC-safe: to an older snapshot the new storage looks empty (its rows
 * carry a later transaction), so a COPY that waited for such a statement read no rows and
 * nothing else says so. The lock the read took keeps the storage as it read it, so the
 * comparison (the snapshot's pg_class row against the current one) is exact for it.
 * VACUUM FULL and CLUSTER (MVCC-safe) give new storage too and fail the run as well.
 */
bool source_snapshot_storage_kept(PGconn *conn, struct anon_error *err) ANON_MUST_CHECK;
void source_snapshot_close(struct source_snapshot *s);

#endif
