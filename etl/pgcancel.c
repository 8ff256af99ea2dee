/*
 * pgcancel.c: cancel requests in threads of their own (see pgcancel.h).
 *
 * A job is shared by its caller and its thread (two references); whichever lets go last
 * frees it. Its state changes once, from PENDING, under the job's mutex.
 */
#include "etl/pgcancel.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

struct pgcancel_ref {
    PGcancel *cancel;
    atomic_int refs;
};

struct pgcancel_job {
    struct pgcancel_ref *ref;
    pthread_mutex_t lock;
    pthread_cond_t ended;
    enum pgcancel_state state;
    int refs;                /* under lock */
    struct timespec started; /* CLOCK_MONOTONIC */
};

struct pgcancel_ref *pgcancel_ref_new(PGconn *conn)
{
    struct pgcancel_ref *ref;
    PGcancel *cancel = conn ? PQgetCancel(conn) : NULL;

    if (!cancel)
        return NULL;
    if (!(ref = calloc(1, sizeof(*ref)))) {
        PQfreeCancel(cancel);
        return NULL;
    }
    ref->cancel = cancel;
    atomic_init(&ref->refs, 1);
    return ref;
}

static struct pgcancel_ref *ref_get(struct pgcancel_ref *ref)
{
    atomic_fetch_add(&ref->refs, 1);
    return ref;
}

void pgcancel_ref_put(struct pgcancel_ref *ref)
{
    if (ref && atomic_fetch_sub(&ref->refs, 1) == 1) {
        PQfreeCancel(ref->cancel);
        free(ref);
    }
}

/* One reference less; the last frees the job and its reference to the cancel. */
static void job_put(struct pgcancel_job *job)
{
    bool last;

    pthread_mutex_lock(&job->lock);
    last = --job->refs == 0;
    pthread_mutex_unlock(&job->lock);
    if (!last)
        return;
    pgcancel_ref_put(job->ref);
    pthread_cond_destroy(&job->ended);
    pthread_mutex_destroy(&job->lock);
    free(job);
}

static void *send_cancel(void *arg)
{
    struct pgcancel_job *job = arg;
    char why[256];
    bool delivered = PQcancel(job->ref->cancel, why, sizeof(why)) == 1;

    pthread_mutex_lock(&job->lock);
    job->state = delivered ? PGCANCEL_DELIVERED : PGCANCEL_FAILED;
    pthread_cond_broadcast(&job->ended);
    pthread_mutex_unlock(&job->lock);
    job_put(job);
    return NULL;
}

struct pgcancel_job *pgcancel_start(struct pgcancel_ref *ref)
{
    struct pgcancel_job *job;
    pthread_attr_t attr;
    pthread_t thread;
    bool started = false;

    if (!ref || !(job = calloc(1, sizeof(*job))))
        return NULL;
    job->ref = ref_get(ref);
    job->state = PGCANCEL_PENDING;
    job->refs = 2;
    pthread_mutex_init(&job->lock, NULL);
    pthread_cond_init(&job->ended, NULL);
    clock_gettime(CLOCK_MONOTONIC, &job->started);
    if (pthread_attr_init(&attr) == 0) {
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        started = pthread_create(&thread, &attr, send_cancel, job) == 0;
        pthread_attr_destroy(&attr);
    }
    if (!started) {
        job->refs = 1;
        job_put(job);
        return NULL;
    }
    return job;
}

enum pgcancel_state pgcancel_wait(struct pgcancel_job *job, int wait_ms)
{
    struct timespec until;
    enum pgcancel_state state;

    /* pthread_cond_timedwait measures against CLOCK_REALTIME unless told otherwise: the
     * deadline is taken from the same clock */
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += wait_ms / 1000;
    until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
    until.tv_sec += until.tv_nsec / 1000000000L;
    until.tv_nsec %= 1000000000L;
    pthread_mutex_lock(&job->lock);
    while (job->state == PGCANCEL_PENDING && wait_ms > 0 &&
           pthread_cond_timedwait(&job->ended, &job->lock, &until) == 0)
        ;
    state = job->state;
    pthread_mutex_unlock(&job->lock);
    return state;
}

long pgcancel_age_ms(const struct pgcancel_job *job)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long)(now.tv_sec - job->started.tv_sec) * 1000L +
           (now.tv_nsec - job->started.tv_nsec) / 1000000L;
}

void pgcancel_release(struct pgcancel_job *job)
{
    if (job)
        job_put(job);
}

enum pgcancel_state pgcancel_bounded(PGconn *conn, int wait_ms)
{
    struct pgcancel_ref *ref = pgcancel_ref_new(conn);
    struct pgcancel_job *job = pgcancel_start(ref);
    enum pgcancel_state state = job ? pgcancel_wait(job, wait_ms) : PGCANCEL_FAILED;

    pgcancel_release(job);
    pgcancel_ref_put(ref);
    return state;
}
