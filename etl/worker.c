/* worker.c: sequential or parallel execution of copy tasks (see worker.h). */
#include "etl/worker.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etl/exitcode.h"
#include "etl/log.h"
#include "etl/pgconn.h"
#include "etl/tablecopy.h"

struct pool {
    const struct worker_setup *ws;
    struct copy_task *tasks;
    size_t n_tasks;
    size_t next;           /* next task to hand out */
    pthread_mutex_t mutex; /* next, table results, first error */
    atomic_bool abort;
    int code;              /* first failure's exit code */
    struct anon_error err; /* first failure's message */
};

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void record_failure(struct pool *p, int code, const struct anon_error *err)
{
    pthread_mutex_lock(&p->mutex);
    if (p->code == EXIT_OK) {
        p->code = code;
        p->err = *err;
    }
    pthread_mutex_unlock(&p->mutex);
    atomic_store(&p->abort, true);
}

static struct copy_task *take_task(struct pool *p)
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
static bool piece_done(struct pool *p, struct copy_task *task, const struct tablecopy_stats *s,
                       double start)
{
    struct publish_table *t = task->table;
    bool last;

    pthread_mutex_lock(&p->mutex);
    if (task->keys_only) {
        t->keys_streamed += s->rows_written;
    } else {
        t->stats.rows_read += s->rows_read;
        t->stats.rows_written += s->rows_written;
    }
    if (t->first_start == 0 || start < t->first_start)
        t->first_start = start;
    t->stats.elapsed_s = now_s() - t->first_start;
    last = --t->pieces_left == 0;
    pthread_mutex_unlock(&p->mutex);
    return last;
}

static int run_task(struct pool *p, struct copy_task *task, PGconn *src, PGconn *tgt,
                    struct anon_error *err)
{
    const struct worker_setup *ws = p->ws;
    struct tablecopy_request req = {
        .plan = task->plan,
        .source = src,
        .target = tgt,
        .extra_where = task->where,
        .key = ws->key,
        .key_len = ws->key_len,
        .hmac = ws->hmac,
        .run_time = ws->run_time,
        .abort = &p->abort,
        .deadline = ws->deadline,
    };
    struct tablecopy_stats stats;
    struct abuf dest;
    double start = now_s();
    int code;

    if (task->create && (!pgconn_exec(tgt, "BEGIN", PGRES_COMMAND_OK, err) ||
                         !target_create_version(tgt, task->plan, task->dest, err)))
        return EXIT_TARGET;
    req.freeze = task->create;
    abuf_init(&dest, 4096);
    target_version_sql(tgt, task->dest, &dest);
    req.dest_sql = abuf_cstr(&dest);
    code = status_code(tablecopy_run(&req, &stats, err));
    abuf_free(&dest);
    if (code == EXIT_OK && piece_done(p, task, &stats, start) &&
        task->table->kind == PUBLISH_SWAP && !task->keys_only &&
        !target_add_primary_key(tgt, task->table->plan, task->table->version_name, err))
        /* The last piece of a swapped table: its primary key, once all rows are in. */
        code = strcmp(pgconn_last_sqlstate(), "23505") == 0 ? EXIT_POLICY : EXIT_TARGET;
    if (task->create) {
        if (code == EXIT_OK && !pgconn_exec(tgt, "COMMIT", PGRES_COMMAND_OK, err))
            code = EXIT_TARGET;
        if (code != EXIT_OK)
            PQclear(PQexec(tgt, "ROLLBACK"));
    }
    return code;
}

static void drain(struct pool *p, PGconn *src, PGconn *tgt)
{
    struct copy_task *task;
    struct anon_error err;

    while ((task = take_task(p)) != NULL) {
        int code;
        anon_error_clear(&err);
        code = run_task(p, task, src, tgt, &err);
        if (code != EXIT_OK) {
            record_failure(p, code, &err);
            return;
        }
    }
}

static void *worker_main(void *arg)
{
    struct pool *p = arg;
    struct anon_error err;
    PGconn *src = NULL, *tgt = NULL;

    anon_error_clear(&err);
    src = source_snapshot_attach(p->ws->snapshot, &p->ws->cfg->source, &err);
    if (!src) {
        record_failure(p, EXIT_SOURCE, &err);
        return NULL;
    }
    tgt = pgconn_open(&p->ws->cfg->target.db, "target", &err);
    if (!tgt) {
        PQfinish(src);
        record_failure(p, EXIT_TARGET, &err);
        return NULL;
    }
    drain(p, src, tgt);
    PQfinish(tgt);
    PQfinish(src);
    return NULL;
}

static int compare_size(const void *a, const void *b)
{
    const struct copy_task *x = a, *y = b;

    return (x->size < y->size) - (x->size > y->size);
}

int worker_run_all(const struct worker_setup *ws, struct copy_task *tasks, size_t n_tasks,
                   struct anon_error *err)
{
    struct pool p = {.ws = ws, .tasks = tasks, .n_tasks = n_tasks, .code = EXIT_OK};
    int jobs = ws->jobs < 1 ? 1 : ws->jobs;
    pthread_t *threads;
    int started = 0;

    pthread_mutex_init(&p.mutex, NULL);
    atomic_init(&p.abort, false);
    qsort(tasks, n_tasks, sizeof(*tasks), compare_size);
    if ((size_t)jobs > n_tasks)
        jobs = n_tasks > 0 ? (int)n_tasks : 1;
    if (jobs == 1) {
        drain(&p, source_snapshot_conn(ws->snapshot), ws->leader_target);
    } else {
        threads = calloc((size_t)jobs, sizeof(*threads));
        for (int i = 0; threads && i < jobs; i++)
            if (pthread_create(&threads[i], NULL, worker_main, &p) == 0)
                started++;
        if (started == 0)
            drain(&p, source_snapshot_conn(ws->snapshot), ws->leader_target);
        for (int i = 0; i < started; i++)
            pthread_join(threads[i], NULL);
        free(threads);
    }
    pthread_mutex_destroy(&p.mutex);
    if (p.code != EXIT_OK)
        *err = p.err;
    return p.code;
}
