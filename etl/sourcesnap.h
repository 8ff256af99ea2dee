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

/* Other sessions that held a lock letting them write a relation when the snapshot was
 * taken: their number and the start of the oldest one's transaction (source clock,
 * timestamptz text), when the source role may see it. */
struct source_writers {
    unsigned long long relation; /* pg_class oid */
    int sessions;
    bool start_known;
    char oldest_start[64];
};

struct source_snapshot *source_snapshot_open(const struct cfg_db *db, struct anon_error *err);
/* A worker connection attached to the leader's snapshot. */
PGconn *source_snapshot_attach(const struct source_snapshot *s, const struct cfg_db *db,
                               struct anon_error *err);
PGconn *source_snapshot_conn(const struct source_snapshot *s);
const char *source_snapshot_id(const struct source_snapshot *s);
/* The writers of a relation at the snapshot, or NULL when no other session could write it. */
const struct source_writers *source_snapshot_writers(const struct source_snapshot *s,
                                                     unsigned long long relation);
/* Rows the table's `where` filters out (0 without a where), in the snapshot. */
bool source_snapshot_count_filtered(const struct source_snapshot *s, const struct table_plan *plan,
                                    uint64_t *filtered, struct anon_error *err) ANON_MUST_CHECK;
void source_snapshot_close(struct source_snapshot *s);

#endif
