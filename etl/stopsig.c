/*
 * stopsig.c: the run's stop signals, and the cancel of the statements under way at a stop
 * (see stopsig.h).
 *
 * A signal handler may call only async-signal-safe functions: it sets the flag and posts a
 * semaphore (sem_post is safe). The watcher thread waits on it and sends the cancels with
 * PQcancel, under the registry's mutex, so that no PGcancel is freed while it is in use
 * (pgconn_close from a worker thread waits for the pass to end).
 */
#include "etl/stopsig.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "etl/log.h"

/* A run's connections: the snapshot, the target leader, a source and a target per worker,
 * a load shared by key ranges, the k-anonymity writer. Past this many, a connection is
 * not cancelled at a stop (the copy's own checks still stop it). */
#define WATCH_MAX 256
#define RECANCEL_MS 1000

struct watched {
    PGconn *conn;
    PGcancel *cancel;
};

/* lock-free on every platform anonetl builds for: safe in a handler, seen by every thread */
static atomic_int received;
static atomic_bool work_done;
static atomic_bool installed;

static sem_t wake;
static pthread_t watcher;
static bool watcher_started;
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;
static struct watched registry[WATCH_MAX];

static void on_stop_signal(int sig)
{
    int none = 0;

    if (!atomic_compare_exchange_strong(&received, &none, sig)) {
        /* asked twice: the default action, now */
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    sem_post(&wake);
}

/* Under registry_lock: a cancel request to every watched session (one whose backend is
 * idle ignores it). The number sent. */
static int cancel_all(void)
{
    char why[256];
    int sent = 0;

    for (size_t i = 0; i < WATCH_MAX; i++)
        if (registry[i].cancel && PQcancel(registry[i].cancel, why, sizeof(why)))
            sent++;
    return sent;
}

/*
 * After the stop, until the work ends: cancel, then again every RECANCEL_MS. The repeat
 * catches a statement sent just as the first pass went by (pgconn checks the flag before
 * sending, but a thread may be between that check and the send). Every statement of the
 * run before stopsig_work_done is one to end, the publish's too (stopsig.h).
 */
static void *watch_for_stop(void *arg)
{
    struct timespec until;
    bool first = true;

    (void)arg;
    while (sem_wait(&wake) != 0 && errno == EINTR)
        ;
    pthread_mutex_lock(&registry_lock);
    while (!atomic_load(&work_done)) {
        int sent = cancel_all();
        if (first)
            log_info("stop_cancel", NULL,
                     "%s: the statements under way on %d session%s are cancelled",
                     stopsig_name(atomic_load(&received)), sent, sent == 1 ? "" : "s");
        first = false;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += RECANCEL_MS % 1000 * 1000000L;
        until.tv_sec += RECANCEL_MS / 1000 + until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        if (!atomic_load(&work_done))
            pthread_cond_timedwait(&done_cond, &registry_lock, &until);
    }
    pthread_mutex_unlock(&registry_lock);
    return NULL;
}

/* A signal ignored when the process started stays ignored, as shells and nohup mean it:
 * a non-interactive shell starts its background jobs with SIGINT ignored, so that a
 * Ctrl-C meant for the script does not stop them. */
static void catch_unless_ignored(int sig)
{
    struct sigaction sa, old;

    if (sigaction(sig, NULL, &old) == 0 && old.sa_handler == SIG_IGN)
        return;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    /* no SA_RESTART: a wait in poll() returns EINTR and the copy looks at once */
    sigaction(sig, &sa, NULL);
}

void stopsig_install(void)
{
    if (atomic_exchange(&installed, true))
        return;
    sem_init(&wake, 0, 0);
    /* without the watcher, a stop still ends the copy at its next row */
    watcher_started = pthread_create(&watcher, NULL, watch_for_stop, NULL) == 0;
    if (!watcher_started)
        log_warn("stop_cancel", NULL,
                 "cannot start the stop watcher: a stop waits for the statement under way");
    catch_unless_ignored(SIGTERM);
    catch_unless_ignored(SIGINT);
}

int stopsig_received(void)
{
    return atomic_load(&received);
}

const char *stopsig_name(int sig)
{
    return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal";
}

void stopsig_watch(PGconn *conn)
{
    PGcancel *cancel;

    if (!atomic_load(&installed) || !conn || !(cancel = PQgetCancel(conn)))
        return;
    pthread_mutex_lock(&registry_lock);
    for (size_t i = 0; cancel && i < WATCH_MAX; i++) {
        if (!registry[i].conn) {
            registry[i] = (struct watched){.conn = conn, .cancel = cancel};
            cancel = NULL;
        }
    }
    pthread_mutex_unlock(&registry_lock);
    PQfreeCancel(cancel); /* the registry is full: not watched */
}

void stopsig_unwatch(PGconn *conn)
{
    PGcancel *cancel = NULL;

    if (!atomic_load(&installed) || !conn)
        return;
    pthread_mutex_lock(&registry_lock);
    for (size_t i = 0; i < WATCH_MAX; i++) {
        if (registry[i].conn == conn) {
            cancel = registry[i].cancel;
            registry[i] = (struct watched){0};
            break;
        }
    }
    pthread_mutex_unlock(&registry_lock);
    PQfreeCancel(cancel);
}

bool stopsig_cancelling(void)
{
    return atomic_load(&received) != 0 && !atomic_load(&work_done);
}

void stopsig_work_done(void)
{
    if (!atomic_load(&installed) || atomic_exchange(&work_done, true))
        return;
    /* waits for a pass under way: no cancel reaches the statements that follow */
    pthread_mutex_lock(&registry_lock);
    pthread_cond_signal(&done_cond);
    pthread_mutex_unlock(&registry_lock);
    if (watcher_started) {
        sem_post(&wake); /* a watcher still waiting for a stop */
        pthread_join(watcher, NULL);
    }
}
