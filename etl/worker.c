/* worker.c: sequential or parallel execution of copy tasks (see worker.h). */
#include "etl/worker.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "etl/audit.h"
#include "etl/exitcode.h"
#include "etl/keycheck.h"
#include "etl/keyorder.h"
#include "etl/log.h"
#include "etl/pgconn.h"
#include "etl/tablecopy.h"

/* Pieces of changed rows a worker finished, waiting for the leader to merge them. */
struct chunk_queue {
    struct worker_chunk *items;
    size_t head, len, cap;
};

struct worker_pool {
    const struct worker_setup *ws;
    struct copy_task *tasks;
    size_t n_tasks;
    size_t next;            /* next task to hand out */
    pthread_mutex_t mutex;  /* next, table results, first error, chunks, running */
    pthread_cond_t changed; /* a chunk is ready, or a worker ended */
    atomic_bool abort;
    atomic_bool leader_waits; /* the leader waits for a piece to merge */
    int code;                 /* first failure's exit code */
    struct anon_error err;    /* first failure's message */
    struct chunk_queue chunks;
    pthread_t *threads;
    int started;
    int running; /* workers not ended yet */
};

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void record_failure(struct worker_pool *p, int code, const struct anon_error *err)
{
    pthread_mutex_lock(&p->mutex);
    if (p->code == EXIT_OK) {
        p->code = code;
        p->err = *err;
    }
    atomic_store(&p->abort, true);
    pthread_cond_broadcast(&p->changed);
    pthread_mutex_unlock(&p->mutex);
}

static struct copy_task *take_task(struct worker_pool *p)
{
    struct copy_task *t = NULL;

    pthread_mutex_lock(&p->mutex);
    if (!atomic_load(&p->abort) && p->next < p->n_tasks)
        t = &p->tasks[p->next++];
    pthread_mutex_unlock(&p->mutex);
    return t;
}

static int status_code(enum tablecopy_status st)
{
    switch (st) {
    case TABLECOPY_OK:
        return EXIT_OK;
    case TABLECOPY_SOURCE_ERROR:
        return EXIT_SOURCE;
    case TABLECOPY_TARGET_ERROR:
        return EXIT_TARGET;
    case TABLECOPY_INTERNAL_ERROR:
        break;
    }
    return EXIT_INTERNAL;
}

/* Account a finished piece; true when it was the table's last one. */
static bool piece_done(struct worker_pool *p, struct copy_task *task,
                       const struct tablecopy_stats *s, double start)
{
    struct publish_table *t = task->table;
    bool last;

    pthread_mutex_lock(&p->mutex);
    if (task->keys_only) {
        t->keys_streamed += s->rows_written;
    } else {
        t->stats.rows_read += s->rows_read;
        t->stats.rows_written += s->rows_written;
        t->out_of_key_order |= !s->key_ordered;
    }
    if (t->first_start == 0 || start < t->first_start)
        t->first_start = start;
    t->stats.elapsed_s = now_s() - t->first_start;
    last = --t->pieces_left == 0;
    pthread_mutex_unlock(&p->mutex);
    return last;
}

/* A worker's connections: the source (attached to the snapshot, or lent), and the target,
 * opened at the first task that writes there (pieces in memory do not). */
struct worker_conns {
    PGconn *source;
    PGconn *target;
    bool owns_target;
};

static PGconn *worker_target(const struct worker_pool *p, struct worker_conns *c,
                             struct anon_error *err)
{
    if (!c->target && (c->target = pgconn_open(&p->ws->cfg->target.db, "target", err)) != NULL)
        c->owns_target = true;
    return c->target;
}

/* Pieces of changed rows: the first one small so merging starts early, each next one at
 * most twice as large up to CHUNK_MIN_ROWS, then at most an eighth of what came so far
 * (TABLECOPY_PIECE_BYTES also ends a piece: its memory stays bounded). A piece ends
 * before its limit when the leader waits for one (chunk_idle): when the source is the
 * slower side, the merge then follows it piece by piece and the run ends a small piece
 * after the source's last row; when the merge is slower, pieces grow to the limit and
 * each statement merges more rows. */
#define CHUNK_FIRST_ROWS 1024
#define CHUNK_MIN_ROWS 8192
/* Pieces waiting for the leader at most: with the one being filled and the one being
 * merged, a few TABLECOPY_PIECE_BYTES of memory. */
#define WORKER_QUEUED_PIECES 2

struct chunk_writer {
    struct worker_pool *pool;
    struct copy_task *task;
    uint64_t last_limit; /* rows the previous piece took at most */
};

static uint64_t chunk_limit(void *ctx, uint64_t rows_so_far)
{
    struct chunk_writer *w = ctx;
    uint64_t limit = rows_so_far / 8 > CHUNK_MIN_ROWS ? rows_so_far / 8 : CHUNK_MIN_ROWS;

    if (limit > 2 * w->last_limit)
        limit = w->last_limit ? 2 * w->last_limit : CHUNK_FIRST_ROWS;
    w->last_limit = limit;
    return limit;
}

/* The leader has nothing to merge: the piece being filled should end now. */
static bool chunk_idle(void *ctx)
{
    struct chunk_writer *w = ctx;

    return atomic_load_explicit(&w->pool->leader_waits, memory_order_relaxed);
}

/* Room for one more piece at the queue's end (under the pool's lock). */
static bool queue_room(struct chunk_queue *q)
{
    if (q->head + q->len < q->cap)
        return true;
    /* Compact, then grow: the queue stays as long as the backlog. */
    if (q->head > 0)
        memmove(q->items, q->items + q->head, q->len * sizeof(*q->items));
    q->head = 0;
    if (q->len == q->cap) {
        size_t cap = q->cap ? 2 * q->cap : 16;
        struct worker_chunk *items = realloc(q->items, cap * sizeof(*items));
        if (!items)
            return false;
        q->items = items;
        q->cap = cap;
    }
    return true;
}

/* A piece is complete: a copy of its rows joins the queue, once there is room. */
static bool chunk_close(void *ctx, const char *data, size_t len, uint64_t rows,
                        struct anon_error *err)
{
    struct chunk_writer *w = ctx;
    struct worker_pool *p = w->pool;
    struct chunk_queue *q = &p->chunks;
    char *copy = malloc(len + 1);
    bool ok;

    if (!copy) {
        anon_error_set(err, "out of memory");
        return false;
    }
    memcpy(copy, data, len);
    pthread_mutex_lock(&p->mutex);
    while (q->len >= WORKER_QUEUED_PIECES && !atomic_load(&p->abort))
        pthread_cond_wait(&p->changed, &p->mutex);
    ok = !atomic_load(&p->abort) && queue_room(q);
    if (ok) {
        q->items[q->head + q->len++] =
            (struct worker_chunk){.table = w->task->table, .data = copy, .len = len, .rows = rows};
        atomic_store(&p->leader_waits, false); /* it has this one now */
        w->task->table->n_chunks++;
        pthread_cond_broadcast(&p->changed);
    } else if (atomic_load(&p->abort)) {
        anon_error_set(err, "%s: stopped: another worker failed", w->task->plan->qualified);
    } else {
        anon_error_set(err, "out of memory");
    }
    pthread_mutex_unlock(&p->mutex);
    if (!ok)
        free(copy);
    return ok;
}

void worker_chunk_free(struct worker_chunk *c)
{
    free(c->data);
    c->data = NULL;
    c->len = 0;
}

/* The last piece of a swapped table: its primary key, once all rows are in (and its
 * order by it when the rows did not come in it: target_order_by_key), then its statistics, so
 * that the data team's first queries on it are planned well (autovacuum would only
 * analyze it some time after the publish). */
static int finish_version(PGconn *src, PGconn *tgt, struct publish_table *t, int statistics_target,
                          struct anon_error *err)
{
    bool savepoint = PQtransactionStatus(tgt) == PQTRANS_INTRANS;
    double start = now_s();
    struct abuf table;
    int code;

    /* In the loading transaction, a savepoint keeps the rows for keycheck_loaded. */
    if (savepoint && !pgconn_exec(tgt, "SAVEPOINT primary_key", PGRES_COMMAND_OK, err))
        return EXIT_TARGET;
    if (target_add_primary_key(tgt, t->plan, t->version_name, err)) {
        bool ok;
        if (!target_order_by_key(tgt, t->plan, t->version_name, !t->out_of_key_order, err))
            return EXIT_TARGET;
        t->index_s = now_s() - start;
        start = now_s();
        ok = target_analyze(tgt, t->version_name, statistics_target, err);
        t->analyze_s = now_s() - start;
        return ok ? EXIT_OK : EXIT_TARGET;
    }
    if (strcmp(pgconn_last_sqlstate(), "23505") != 0)
        return EXIT_TARGET;
    /* Two rows with one key: a source key that repeats, or a collision (keycheck.h). */
    if (savepoint && !pgconn_exec(tgt, "ROLLBACK TO SAVEPOINT primary_key", PGRES_COMMAND_OK, err))
        return EXIT_TARGET;
    abuf_init(&table, 4096);
    target_version_sql(tgt, t->version_name, &table);
    code = keycheck_loaded(src, tgt, t->plan, abuf_cstr(&table), err) == KEYCHECK_DUPLICATE
               ? EXIT_POLICY
               : EXIT_TARGET;
    abuf_free(&table);
    return code;
}

static bool create_destination(PGconn *tgt, const struct copy_task *task, struct anon_error *err)
{
    return task->unlogged ? target_create_staging(tgt, task->plan, task->dest, err)
                          : target_create_version(tgt, task->plan, task->dest, err);
}

/*
 * A split table's shared load: one target connection, in the transaction that creates the
 * table, running one COPY FREEZE that every key range's copy feeds with whole-row batches
 * (tablecopy_shared). The first range to start opens it; the last to finish ends the
 * COPY, adds the primary key and statistics and commits. Ranges are still read and
 * transformed in parallel; the target takes the rows through one backend.
 */
struct shared_load {
    pthread_mutex_t lock; /* the connection: one batch at a time */
    PGconn *conn;
    int cancel_fd; /* its socket (a dup: libpq may close its own), or -1 */
    bool failed;   /* could not be opened: the other ranges stop too */
    bool done;     /* committed, or rolled back */
};

static bool shared_send(void *ctx, const char *data, size_t len, struct anon_error *err)
{
    struct shared_load *l = ctx;
    bool ok;

    pthread_mutex_lock(&l->lock);
    ok = PQputCopyData(l->conn, data, (int)len) == 1;
    pthread_mutex_unlock(&l->lock);
    if (!ok)
        anon_error_set(err, "target: sending COPY data failed: connection lost");
    return ok;
}

/* A range's send blocked on a stalled target (run.max_runtime, another worker failed):
 * the load's connection is shut, every range's send fails, nothing of the load stays. */
static void shared_cancel(void *ctx)
{
    struct shared_load *l = ctx;

    if (l->cancel_fd >= 0)
        shutdown(l->cancel_fd, SHUT_RDWR);
}

/* The table's shared load, opened by the first range (under the pool's lock). */
static struct shared_load *shared_open(struct worker_pool *p, struct copy_task *task,
                                       struct anon_error *err)
{
    struct publish_table *t = task->table;
    struct shared_load *l;
    struct abuf dest;
    bool ok;

    pthread_mutex_lock(&p->mutex);
    if ((l = t->load) != NULL) {
        pthread_mutex_unlock(&p->mutex);
        if (l->failed)
            anon_error_set(err, "%s: the load of the table failed", t->plan->qualified);
        return l->failed ? NULL : l;
    }
    l = calloc(1, sizeof(*l));
    if (!l) {
        pthread_mutex_unlock(&p->mutex);
        anon_error_set(err, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&l->lock, NULL);
    l->cancel_fd = -1;
    t->load = l;
    abuf_init(&dest, 4096);
    target_version_sql(p->ws->leader_target, task->dest, &dest);
    ok = !abuf_failed(&dest) &&
         (l->conn = pgconn_open(&p->ws->cfg->target.db, "target", err)) != NULL &&
         pgconn_exec(l->conn, "BEGIN", PGRES_COMMAND_OK, err) &&
         create_destination(l->conn, task, err) &&
         tablecopy_copy_in(l->conn, t->plan, abuf_cstr(&dest), true, err);
    abuf_free(&dest);
    if (ok)
        l->cancel_fd = dup(PQsocket(l->conn));
    l->failed = !ok;
    pthread_mutex_unlock(&p->mutex);
    return ok ? l : NULL;
}

/* The last range finished: end the COPY, key, analyze, commit. */
static int shared_finish(struct shared_load *l, PGconn *src, struct publish_table *t,
                         int statistics_target, struct anon_error *err)
{
    uint64_t rows = 0;
    int code = EXIT_TARGET;

    if (tablecopy_copy_in_end(l->conn, t->plan, NULL, &rows, err)) {
        code = finish_version(src, l->conn, t, statistics_target, err);
        if (code == EXIT_OK && !pgconn_exec(l->conn, "COMMIT", PGRES_COMMAND_OK, err))
            code = EXIT_TARGET;
    }
    if (code != EXIT_OK)
        PQclear(PQexec(l->conn, "ROLLBACK"));
    l->done = true;
    return code;
}

/* After the workers: a load left open by a failure is abandoned (nothing of it stays). */
static void shared_free(struct publish_table *t)
{
    struct shared_load *l = t->load;
    uint64_t rows;
    struct anon_error ignored;

    if (!l)
        return;
    if (l->conn && !l->done) {
        if (PQtransactionStatus(l->conn) == PQTRANS_ACTIVE)
            tablecopy_copy_in_end(l->conn, t->plan, "anonetl: copy aborted", &rows, &ignored);
        PQclear(PQexec(l->conn, "ROLLBACK"));
    }
    pgconn_close(l->conn);
    if (l->cancel_fd >= 0)
        close(l->cancel_fd);
    pthread_mutex_destroy(&l->lock);
    free(l);
    t->load = NULL;
}

static int run_task(struct worker_pool *p, struct copy_task *task, struct worker_conns *conns,
                    struct anon_error *err)
{
    const struct worker_setup *ws = p->ws;
    PGconn *src = conns->source, *tgt = NULL;
    struct chunk_writer writer = {.pool = p, .task = task};
    struct tablecopy_chunks chunks = {
        .limit = chunk_limit, .close = chunk_close, .idle = chunk_idle, .ctx = &writer};
    struct tablecopy_request req = {
        .plan = task->plan,
        .source = src,
        .extra_where = task->where,
        .failing_where = task->failing_where,
        .physical_order = task->chunked || task->failing_where,
        .key_order = !task->chunked && !task->failing_where && !task->keys_only &&
                     keyorder_wanted(task->plan),
        .key = ws->key,
        .key_len = ws->key_len,
        .hmac = ws->hmac,
        .run_time = ws->run_time,
        .abort = &p->abort,
        .deadline = ws->deadline,
    };
    struct tablecopy_shared shared;
    struct shared_load *load = NULL;
    struct tablecopy_stats stats;
    struct abuf dest;
    double start = now_s();
    int code;

    if (!task->chunked && !(tgt = worker_target(p, conns, err)))
        return EXIT_TARGET;
    req.target = tgt;
    /* The leak audit scans the rows of the table (not the key_scan key streams). */
    if (ws->audit && !task->keys_only && !(req.audit = audit_scanner_new(ws->audit, task->plan))) {
        anon_error_set(err, "out of memory");
        return EXIT_INTERNAL;
    }
    if (task->create && (!pgconn_exec(tgt, "BEGIN", PGRES_COMMAND_OK, err) ||
                         !create_destination(tgt, task, err))) {
        audit_scanner_free(req.audit);
        return EXIT_TARGET;
    }
    req.freeze = task->create;
    if (task->chunked)
        req.chunks = &chunks;
    if (task->shared) {
        if (!(load = shared_open(p, task, err))) {
            audit_scanner_free(req.audit);
            return EXIT_TARGET;
        }
        shared =
            (struct tablecopy_shared){.send = shared_send, .cancel = shared_cancel, .ctx = load};
        req.shared = &shared;
    }
    abuf_init(&dest, 4096);
    if (tgt)
        target_version_sql(tgt, task->dest, &dest);
    req.dest_sql = abuf_cstr(&dest);
    code = status_code(tablecopy_run(&req, &stats, err));
    audit_scanner_free(req.audit);
    abuf_free(&dest);
    if (code == EXIT_OK && piece_done(p, task, &stats, start) &&
        task->table->kind == PUBLISH_SWAP && !task->keys_only)
        code = load ? shared_finish(load, src, task->table, ws->cfg->target.statistics_target, err)
                    : finish_version(src, tgt, task->table, ws->cfg->target.statistics_target, err);
    if (task->create) {
        if (code == EXIT_OK && !pgconn_exec(tgt, "COMMIT", PGRES_COMMAND_OK, err))
            code = EXIT_TARGET;
        if (code != EXIT_OK)
            PQclear(PQexec(tgt, "ROLLBACK"));
    }
    return code;
}

static void drain(struct worker_pool *p, struct worker_conns *conns)
{
    struct copy_task *task;
    struct anon_error err;

    while ((task = take_task(p)) != NULL) {
        int code;
        anon_error_clear(&err);
        code = run_task(p, task, conns, &err);
        if (code != EXIT_OK) {
            record_failure(p, code, &err);
            return;
        }
    }
    /* Every table this connection read is still locked (its transaction is open) and
     * nothing is published yet: one look at their storage covers all of its reads (one
     * per read cost a pg_locks scan over a lock list that grows with the tables). A run
     * already failing or stopping has nothing to check. */
    if (atomic_load(&p->abort))
        return;
    anon_error_clear(&err);
    if (!source_snapshot_storage_kept(conns->source, &err))
        record_failure(p, EXIT_SOURCE, &err);
}

static void worker_ended(struct worker_pool *p)
{
    pthread_mutex_lock(&p->mutex);
    p->running--;
    pthread_cond_broadcast(&p->changed);
    pthread_mutex_unlock(&p->mutex);
}

/* A worker thread: its own connections, attached to the leader's snapshot. With a single
 * worker, the leader's source connection is lent instead (the leader does not use it
 * meanwhile), which spares a connection. */
static void *worker_main(void *arg)
{
    struct worker_pool *p = arg;
    struct anon_error err;
    bool lent = p->ws->jobs <= 1;
    struct worker_conns conns = {0};

    anon_error_clear(&err);
    conns.source = lent ? source_snapshot_conn(p->ws->snapshot)
                        : source_snapshot_attach(p->ws->snapshot, &p->ws->cfg->source, &err);
    if (!conns.source) {
        record_failure(p, EXIT_SOURCE, &err);
        worker_ended(p);
        return NULL;
    }
    drain(p, &conns);
    if (conns.owns_target)
        pgconn_close(conns.target);
    if (!lent)
        pgconn_close(conns.source);
    worker_ended(p);
    return NULL;
}

static int compare_size(const void *a, const void *b)
{
    const struct copy_task *x = a, *y = b;

    return (x->size < y->size) - (x->size > y->size);
}

/* A pool with its tasks in largest-first order and no worker yet. */
static struct worker_pool *pool_new(const struct worker_setup *ws, struct copy_task *tasks,
                                    size_t n_tasks, struct anon_error *err)
{
    struct worker_pool *p = calloc(1, sizeof(*p));

    if (!p) {
        anon_error_set(err, "out of memory");
        return NULL;
    }
    *p = (struct worker_pool){.ws = ws, .tasks = tasks, .n_tasks = n_tasks, .code = EXIT_OK};
    pthread_mutex_init(&p->mutex, NULL);
    pthread_cond_init(&p->changed, NULL);
    atomic_init(&p->abort, false);
    atomic_init(&p->leader_waits, false);
    qsort(tasks, n_tasks, sizeof(*tasks), compare_size);
    return p;
}

struct worker_pool *worker_start(const struct worker_setup *ws, struct copy_task *tasks,
                                 size_t n_tasks, struct anon_error *err)
{
    struct worker_pool *p = pool_new(ws, tasks, n_tasks, err);
    int jobs = ws->jobs < 1 ? 1 : ws->jobs;

    if (!p)
        return NULL;
    if ((size_t)jobs > n_tasks)
        jobs = n_tasks > 0 ? (int)n_tasks : 1;
    p->threads = calloc((size_t)jobs, sizeof(*p->threads));
    pthread_mutex_lock(&p->mutex);
    for (int i = 0; p->threads && i < jobs; i++)
        if (pthread_create(&p->threads[p->started], NULL, worker_main, p) == 0) {
            p->started++;
            p->running++;
        }
    pthread_mutex_unlock(&p->mutex);
    if (p->started == 0)
        record_failure(p, EXIT_INTERNAL, &(struct anon_error){.msg = "cannot start a worker"});
    return p;
}

bool worker_next_chunk(struct worker_pool *p, struct worker_chunk *out)
{
    bool got = false;

    pthread_mutex_lock(&p->mutex);
    while (p->chunks.len == 0 && p->running > 0 && !atomic_load(&p->abort)) {
        atomic_store(&p->leader_waits, true);
        pthread_cond_wait(&p->changed, &p->mutex);
    }
    atomic_store(&p->leader_waits, false);
    if (p->chunks.len > 0 && !atomic_load(&p->abort)) {
        *out = p->chunks.items[p->chunks.head++];
        p->chunks.len--;
        got = true;
        pthread_cond_broadcast(&p->changed); /* room in the queue */
    }
    pthread_mutex_unlock(&p->mutex);
    return got;
}

void worker_stop(struct worker_pool *p, int code, const struct anon_error *err)
{
    record_failure(p, code, err);
}

int worker_finish(struct worker_pool *p, struct anon_error *err)
{
    int code;

    for (int i = 0; i < p->started; i++)
        pthread_join(p->threads[i], NULL);
    for (size_t i = 0; i < p->n_tasks; i++)
        shared_free(p->tasks[i].table);
    code = p->code;
    if (code == EXIT_OK && p->chunks.len > 0) {
        code = EXIT_INTERNAL;
        anon_error_set(err, "internal error: %zu pieces of changed rows were not merged",
                       p->chunks.len);
    } else if (code != EXIT_OK) {
        *err = p->err;
    }
    for (size_t i = 0; i < p->chunks.len; i++)
        worker_chunk_free(&p->chunks.items[p->chunks.head + i]);
    pthread_cond_destroy(&p->changed);
    pthread_mutex_destroy(&p->mutex);
    free(p->chunks.items);
    free(p->threads);
    free(p);
    return code;
}

int worker_run_all(const struct worker_setup *ws, struct copy_task *tasks, size_t n_tasks,
                   struct anon_error *err)
{
    /* One job and nothing to merge meanwhile: the leader's own connections work. */
    struct worker_conns conns = {.source = source_snapshot_conn(ws->snapshot),
                                 .target = ws->leader_target};
    struct worker_pool *p;

    if (ws->jobs > 1)
        p = worker_start(ws, tasks, n_tasks, err);
    else if ((p = pool_new(ws, tasks, n_tasks, err)) != NULL)
        drain(p, &conns);
    return p ? worker_finish(p, err) : EXIT_INTERNAL;
}
