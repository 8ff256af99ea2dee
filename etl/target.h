/*
 * target.h: the target database side of a run, except the publish itself: bootstrap of
 * the private state schema, the advisory lock, the run record, versioned tables in
 * anonetl_data and their cleanup.
 */
#ifndef TARGET_H
#define TARGET_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "anonymise/anon_error.h"
#include "etl/plan.h"

#define TARGET_DATA_SCHEMA "anonetl_data"
#define TARGET_NAME_MAX 64 /* NAMEDATALEN */

enum target_lock { TARGET_LOCK_TAKEN, TARGET_LOCK_BUSY, TARGET_LOCK_ERROR };

struct target_run_info {
    const char *target_schema;
    const char *config_fingerprint; /* hex */
    const char *config_source;      /* the path, or "s3://b/k version_id=... etag=..." */
    const char *key_fingerprint;    /* hex prefix */
    const char *key_id;             /* may be NULL */
    const char *snapshot;           /* may be NULL */
};

/* Create the private schemas and state tables (idempotent) and the published schema. */
bool target_bootstrap(PGconn *conn, const char *published_schema,
                      struct anon_error *err) ANON_MUST_CHECK;
/* Session-level advisory lock on the target: one run at a time per target database. */
enum target_lock target_try_lock(PGconn *conn, struct anon_error *err);
/* Give the lock back before disconnecting (best effort): a backend ends after its client
 * has gone, holding the lock until then, and a run started right after this one (a retry,
 * a back-to-back schedule) would be skipped with exit 7 meanwhile. */
void target_unlock(PGconn *conn);
/* After taking the lock: mark runs left 'running' by a killed process as abandoned and
 * drop versioned tables that no published view uses (left by a killed run). */
bool target_cleanup(PGconn *conn, struct anon_error *err) ANON_MUST_CHECK;
bool target_run_begin(PGconn *conn, const struct target_run_info *info, int64_t *run_id,
                      struct anon_error *err) ANON_MUST_CHECK;
/* Record the reviewed keeps of one table (keep: { reviewed: ... }) with the run, each
 * with the column's type: what the review covered (target_keep_types). */
bool target_run_reviews(PGconn *conn, int64_t run_id, const struct table_plan *plan,
                        struct anon_error *err) ANON_MUST_CHECK;
/* What each keep column of plan's table was, for review_types (run.c): for column
 * cols[k] with a `reviewed:` text whys[k], the type recorded with the last successful
 * review of it in `schema` when that review had this very text, else "" (never reviewed,
 * reviewed again since, or recorded before types were); with whys[k] NULL, its source
 * type when the table was last published into `schema` (anonetl.published.source_layout),
 * else "". One query for the table: row k, field 0 of the result. NULL on a target error. */
PGresult *target_keep_types(PGconn *conn, const char *schema, const struct table_plan *plan,
                            const size_t *cols, const char *const *whys, size_t n,
                            struct anon_error *err) ANON_MUST_CHECK;
/* Record a failed run (best effort: the connection may be what failed). */
void target_run_failed(PGconn *conn, int64_t run_id, int exit_code, const char *message);

/* Name of a table of a run in anonetl_data: "schema.table@r42" and a tag ("-keys"). A
 * name too long for PostgreSQL keeps a prefix and a digest of the table's name, and
 * always the whole suffix, so names stay unique. */
void target_run_table_name(const struct table_plan *plan, int64_t run_id, const char *tag,
                           char out[TARGET_NAME_MAX]);
/* The versioned table of a table in a run: "schema.table@r42". */
void target_version_name(const struct table_plan *plan, int64_t run_id, char out[TARGET_NAME_MAX]);
/* The table the pieces of a merged table's changed rows pass through in a run:
 * "schema.table@r42+pieces" (target_create_pieces). */
void target_pieces_name(const struct table_plan *plan, int64_t run_id, char out[TARGET_NAME_MAX]);
/* "anonetl_data"."<name>", quoted. */
bool target_version_sql(PGconn *conn, const char *version_name, struct abuf *out);
/* "pg_temp"."<name>", quoted. */
bool target_pieces_sql(PGconn *conn, const char *name, struct abuf *out);
bool target_create_version(PGconn *conn, const struct table_plan *plan, const char *version_name,
                           struct anon_error *err) ANON_MUST_CHECK;
/* A staging table (changed rows, streamed keys): UNLOGGED, since it only lives until the
 * publish that reads it and a crash loses nothing the next run would not redo. Writing
 * no WAL for it makes incremental runs and key scans cheaper. */
bool target_create_staging(PGconn *conn, const struct table_plan *plan, const char *name,
                           struct anon_error *err) ANON_MUST_CHECK;
/* The table pieces of changed rows are loaded into, one at a time, to be merged in the
 * publish transaction (publish_merge_chunk): TEMPORARY, in that transaction, ON COMMIT
 * DROP. Unlike an UNLOGGED table, creating it syncs no file (an unlogged table's init
 * fork is fsync'd at once) and commits nothing; dropping it does not make the publish
 * commit wait for its WAL flush (a dropped permanent or unlogged table does). */
bool target_create_pieces(PGconn *conn, const struct table_plan *plan, const char *name,
                          struct anon_error *err) ANON_MUST_CHECK;
/* Add the primary key after the load (faster than loading into an index). A duplicate
 * means two source keys became one after their rules: reported as a collision. */
bool target_add_primary_key(PGconn *conn, const struct table_plan *plan, const char *version_name,
                            struct anon_error *err) ANON_MUST_CHECK;
/* A key column goes through a rule that changes it (its published value is not the
 * source's): such a version lies in its published key's order (target_order_by_key). */
bool target_key_rewritten(const struct table_plan *plan);
/* Rewrite a keyed version in its primary key's order (CLUSTER) unless its rows were
 * loaded in it: a scan without ORDER BY returns rows in the order they were written, the
 * source's, which would tell what the rules hide. A key that went through a rule that
 * changes it (hash, hash_int) is always rewritten (row N of an append-only table is about
 * source id N); a key published as it is when the source could not give its order cheaply
 * (loaded_in_key_order false: keyorder.h), its physical order being its update history.
 * Nothing to do when the version has no primary key (a key that can be NULL) or is a
 * k-anonymous table's private base (its version is written in key order from it). */
bool target_order_by_key(PGconn *conn, const struct table_plan *plan, const char *version_name,
                         bool loaded_in_key_order, struct anon_error *err) ANON_MUST_CHECK;
bool target_drop_version(PGconn *conn, const char *version_name, struct anon_error *err);
/* ANALYZE a loaded version with default_statistics_target set to statistics_target for
 * the statement (a sample of 300 x that many rows; see target.c for the figures). */
bool target_analyze(PGconn *conn, const char *version_name, int statistics_target,
                    struct anon_error *err) ANON_MUST_CHECK;

#endif
