/*
 * stopsig.c: the run's stop signals (see stopsig.h).
 */
#include "etl/stopsig.h"

#include <signal.h>
#include <stdatomic.h>
#include <string.h>

/* lock-free on every platform anonetl builds for: safe in a handler, seen by every thread */
static atomic_int received;

static void on_stop_signal(int sig)
{
    int none = 0;

    if (!atomic_compare_exchange_strong(&received, &none, sig)) {
        /* asked twice: the default action, now */
        signal(sig, SIG_DFL);
        raise(sig);
    }
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
