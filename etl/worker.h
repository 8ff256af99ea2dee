/*
 * worker.h: run the copy tasks of a run, sequentially or on N workers.
 *
 * Scheme (after pg_dump -j): the leader holds the source snapshot transaction open for
 * the whole run; each worker opens its own source connection, attaches to the snapshot
 * (SET TRANSACTION SNAPSHOT) and its own target connection, then takes tasks from a
 * shared list, largest first. A task copies one table, or one key range of a large
 * table, into a table of anonetl_data created beforehand by the leader. The worker that
 * finishes the last piece of a swapped table adds its primary key and its statistics.
 * The first failure stops every worker at its next batch; each closes its connections,
 * and the leader drops what the run created. With one job and nothing to merge no
 * thread is started: the leader's own connections do the work.
 *
 * Incremental tables are copied in pieces (chunked tasks): each finished piece waits in
 * memory, in a queue, until the leader, in the publish transaction, merges it
 * (worker_next_chunk), so merging overlaps reading the source instead of following it.
 * The queue holds at most WORKER_QUEUED_PIECES pieces: a worker that runs ahead of the
 * merges waits, which bounds memory. A worker opens its target connection only for a
 * task that writes there (not for pieces).
 */
#ifndef WORKER_H
#define WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "anonymise/config.h"
#include "etl/publish.h"
#include "etl/sourcesnap.h"

struct hmac_key;
struct audit;

struct copy_task {
    struct publish_table *table;   /* results accumulate there */
    const struct table_plan *plan; /* the table's plan, or its key projection (key_scan) */
    char dest[TARGET_NAME_MAX];    /* table in anonetl_data */
    char *where;                   /* extra SQL condition (owned), or NULL */
    bool keys_only;     /* a stream of keys (key_scan, or failing_where): counted apart */
    bool failing_where; /* the rows that FAIL the table's `where:` (merges) */
    /* The task creates its destination itself, loads it and adds its key in one target
     * transaction (a whole, unsplit table): COPY FREEZE applies, and a failure leaves
     * nothing behind. Otherwise the leader created the destination beforehand. */
    bool create;
    bool unlogged; /* the destination only lives for this run (a full refresh's base) */
    bool chunked;  /* into pieces in memory, handed to the leader as they are finished */
    /* A key range of a split table: its rows go into the table's shared load (worker.c),
     * one COPY FREEZE in the transaction that creates the table. */
    bool shared;
    double size; /* for largest-first ordering */
};

/* A piece of changed rows: COPY data of the table's plan (no binary header or trailer),
 * owned by whoever holds it (worker_chunk_free). */
struct worker_chunk {
    struct publish_table *table;
    char *data;
    size_t len;
    uint64_t rows;
};

struct worker_setup {
    const struct config *cfg;
    struct source_snapshot *snapshot;
    PGconn *leader_target;
    const unsigned char *key;
    size_t key_len;
    const struct hmac_key *hmac;
    time_t run_time;
    int64_t run_id;
    double deadline; /* run.max_runtime as a CLOCK_MONOTONIC time, 0 = none */
    int jobs;
    struct audit *audit; /* the leak audit: every task's rows are scanned (NULL = none) */
};

/* Returns an exit code (exitcode.h); on failure err says what failed first. */
int worker_run_all(const struct worker_setup *ws, struct copy_task *tasks, size_t n_tasks,
                   struct anon_error *err);

/* The same on worker threads while the leader consumes pieces: start (NULL when out of
 * memory), take pieces until false (every worker ended, or one failed), then finish,
 * which joins the workers, frees the pool and returns the exit code. worker_stop is the
 * leader's own failure: workers stop at their next batch and finish returns `code`. */
struct worker_pool;
struct worker_pool *worker_start(const struct worker_setup *ws, struct copy_task *tasks,
                                 size_t n_tasks, struct anon_error *err);
bool worker_next_chunk(struct worker_pool *p, struct worker_chunk *out);
void worker_chunk_free(struct worker_chunk *c);
void worker_stop(struct worker_pool *p, int code, const struct anon_error *err);
int worker_finish(struct worker_pool *p, struct anon_error *err);

#endif
