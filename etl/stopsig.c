/*
 * stopsig.c: the run's stop signals, and the cancel of the statements under way at a stop
 * (see stopsig.h).
 *
 * A signal handler may call only async-signal-safe functions: it sets the flag and posts a
 * semaphore (sem_post is safe). The watcher thread waits on it and starts the cancels.
 * Each cancel runs in a thread of its own (pgcancel.h): PQcancel connects to the server
 * with no timeout, and one to a server that cannot be reached blocks for minutes. The
 * registry's mutex is never held across anything that waits on the network: starting a
 * request, looking at it and shutting a socket are all immediate, so pgconn_close in a
 * worker thread never waits for a server.
 *
 * A request still under way after STOP_ANSWER_MS means the server cannot be reached (a
 * reachable postmaster takes a cancel in milliseconds). The statement under way on that
 * connection then waits for TCP to give up (minutes to hours), and would keep the run
 * from ending before the scheduler's SIGKILL: the connection's socket is shut (the thread
 * waiting on it sees the connection lost at once; nothing more can be done on that
 * server anyway: a transaction there rolls back when the server notices), and the run
 * reports that it was (stopsig_unreachable).
 */
#include "etl/stopsig.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "etl/log.h"
#include "etl/pgcancel.h"

/* A run's connections: the snapshot, the target leader, a source and a target per worker,
 * a load shared by key ranges, the k-anonymity writer. Past this many, a connection is
 * not cancelled at a stop (the copy's own checks still stop it). */
#define WATCH_MAX 256
#define RECANCEL_MS 1000
/* how often the watcher looks at the requests under way */
#define TICK_MS 100

enum side_bit { SIDE_SOURCE = 1, SIDE_TARGET = 2 };

struct watched {
    PGconn *conn;
    int sock; /* PQsocket at watch time: the connection's until unwatched */
    enum side_bit side;
    struct pgcancel_ref *ref; /* its cancel, shared with the requests under way */
    struct pgcancel_job *job; /* the last request, while the watcher has not seen it end */
    bool cut;                 /* the socket was shut: the server did not answer */
};

/* lock-free on every platform anonetl builds for: safe in a handler, seen by every thread */
static atomic_int received;
static atomic_bool work_done;
static atomic_bool installed;
static atomic_int unreachable; /* side bits of the connections cut */

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

/* Under registry_lock: a request that ended is let go. True while one is under way. */
static bool still_pending(struct watched *w)
{
    if (w->job && pgcancel_wait(w->job, 0) != PGCANCEL_PENDING) {
        pgcancel_release(w->job);
        w->job = NULL;
    }
    return w->job != NULL;
}

/* Under registry_lock: a cancel request to every watched session that has none under way
 * (one whose backend is idle ignores it). The number started. Nothing here waits. */
static int cancel_all(void)
{
    int started = 0;

    for (size_t i = 0; i < WATCH_MAX; i++) {
        struct watched *w = &registry[i];
        if (!w->conn || w->cut || still_pending(w))
            continue;
        if ((w->job = pgcancel_start(w->ref)) != NULL)
            started++;
    }
    return started;
}

/* Under registry_lock: the sessions whose server has not taken the cancel within
 * STOP_ANSWER_MS are cut (see the top of this file). True while a request is under way on
 * a session not cut (its server may yet answer). */
static bool cut_unanswered(void)
{
    bool waiting = false;

    for (size_t i = 0; i < WATCH_MAX; i++) {
        struct watched *w = &registry[i];
        if (!w->conn || w->cut || !still_pending(w))
            continue;
        if (pgcancel_age_ms(w->job) < STOP_ANSWER_MS) {
            waiting = true;
            continue;
        }
        shutdown(w->sock, SHUT_RDWR);
        w->cut = true;
        if (!(atomic_fetch_or(&unreachable, (int)w->side) & (int)w->side))
            log_warn("stop_unreachable", NULL,
                     "the %s did not take the cancel within %d s: its sessions are cut, what "
                     "they were doing ends unfinished",
                     w->side == SIDE_TARGET ? "target" : "source", STOP_ANSWER_MS / 1000);
    }
    return waiting;
}

static void wait_tick(void)
{
    struct timespec until;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += TICK_MS * 1000000L;
    until.tv_sec += until.tv_nsec / 1000000000L;
    until.tv_nsec %= 1000000000L;
    pthread_cond_timedwait(&done_cond, &registry_lock, &until);
}

/*
 * After the stop, until the work ends: cancel, then again every RECANCEL_MS. The repeat
 * catches a statement sent just as the first pass went by (pgconn checks the flag before
 * sending, but a thread may be between that check and the send). Every statement of the
 * run before stopsig_work_done is one to end, the publish's too (stopsig.h). Once the
 * work has ended no request starts, and the watcher waits for those under way to end or
 * be cut: none reaches the statements that record the run, and none of them waits on a
 * server that cannot be reached.
 */
static void *watch_for_stop(void *arg)
{
    int since_cancel = RECANCEL_MS; /* the first pass cancels at once */
    bool first = true;

    (void)arg;
    while (sem_wait(&wake) != 0 && errno == EINTR)
        ;
    pthread_mutex_lock(&registry_lock);
    for (;;) {
        bool done = atomic_load(&work_done);
        if (!done && since_cancel >= RECANCEL_MS) {
            int sent = cancel_all();
            if (first)
                log_info("stop_cancel", NULL,
                         "%s: the statements under way on %d session%s are cancelled",
                         stopsig_name(atomic_load(&received)), sent, sent == 1 ? "" : "s");
            first = false;
            since_cancel = 0;
        }
        if (!cut_unanswered() && done)
            break;
        wait_tick();
        since_cancel += TICK_MS;
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

void stopsig_watch(PGconn *conn, const char *side)
{
    struct pgcancel_ref *ref;

    if (!atomic_load(&installed) || !conn || !(ref = pgcancel_ref_new(conn)))
        return;
    pthread_mutex_lock(&registry_lock);
    for (size_t i = 0; ref && i < WATCH_MAX; i++) {
        if (!registry[i].conn) {
            registry[i] = (struct watched){
                .conn = conn,
                .sock = PQsocket(conn),
                .side = side && strcmp(side, "target") == 0 ? SIDE_TARGET : SIDE_SOURCE,
                .ref = ref};
            ref = NULL;
        }
    }
    pthread_mutex_unlock(&registry_lock);
    pgcancel_ref_put(ref); /* the registry is full: not watched */
}

void stopsig_unwatch(PGconn *conn)
{
    struct watched gone = {0};

    if (!atomic_load(&installed) || !conn)
        return;
    pthread_mutex_lock(&registry_lock);
    for (size_t i = 0; i < WATCH_MAX; i++) {
        if (registry[i].conn == conn) {
            gone = registry[i];
            registry[i] = (struct watched){0};
            break;
        }
    }
    pthread_mutex_unlock(&registry_lock);
    /* a request still under way keeps its own reference to the cancel and ends alone */
    pgcancel_release(gone.job);
    pgcancel_ref_put(gone.ref);
}

const char *stopsig_unreachable(void)
{
    switch (atomic_load(&unreachable)) {
    case SIDE_SOURCE:
        return "the source";
    case SIDE_TARGET:
        return "the target";
    case SIDE_SOURCE | SIDE_TARGET:
        return "the source and the target";
    default:
        return NULL;
    }
}

bool stopsig_cancelling(void)
{
    return atomic_load(&received) != 0 && !atomic_load(&work_done);
}

void stopsig_work_done(void)
{
    if (!atomic_load(&installed) || atomic_exchange(&work_done, true))
        return;
    /* the watcher lets the requests under way end or cuts their sessions (at most
     * STOP_ANSWER_MS): no cancel reaches the statements that follow */
    pthread_mutex_lock(&registry_lock);
    pthread_cond_signal(&done_cond);
    pthread_mutex_unlock(&registry_lock);
    if (watcher_started) {
        sem_post(&wake); /* a watcher still waiting for a stop */
        pthread_join(watcher, NULL);
    }
}
