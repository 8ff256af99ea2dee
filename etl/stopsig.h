/*
 * stopsig.h: SIGTERM and SIGINT during `anonetl run`.
 *
 * A scheduler stops a task with SIGTERM and kills it a while later (ECS: SIGKILL after
 * the task's stopTimeout, 30 s by default; systemd: TimeoutStopSec); an operator presses
 * Ctrl-C. Killed by the signal's default action, a run said nothing: no log line, its
 * record left 'running' until the next run called it abandoned. Now the first signal asks
 * the run to stop: a copy stops at its next row or poll (COPYSEND_POLL_MS), a run not yet
 * publishing does not publish, and the run ends as a failed one does (its tables dropped,
 * its record failed, the lock given back, a run_stopped line) with exit 128 + the signal
 * (143 for SIGTERM), as a shell reports a process the signal ended. A second signal ends
 * the process at once.
 *
 * Statements under way: a copy looks at the flag at each row, but a statement runs on the
 * server until it returns (the keep review's sample of a slow view, an index build,
 * ANALYZE, a merge, a publish waiting for a lock), and the scheduler's SIGKILL could come
 * first. So every connection pgconn_open makes is watched (its PGcancel kept here), and at
 * the stop a watcher thread cancels the statements under way on all of them, again every
 * second until the run's work ends (stopsig_work_done), while pgconn refuses to start a new
 * one (stopsig_cancelling): the run ends within about a second whatever it was doing. The
 * publish is cancelled too: it is one transaction, so a cancel rolls it back whole and the
 * data published before stays as it was (a COMMIT the cancel reaches either commits or
 * rolls back whole, and the run reports which).
 *
 * A server that cannot be reached (a network partition: packets dropped, no RST) does not
 * take the cancel, and the statement under way there would wait for TCP to give up. A
 * cancel request still unanswered after STOP_ANSWER_MS cuts that session (its socket is
 * shut, so the thread waiting on it returns at once); the run says which server it could
 * not reach (stopsig_unreachable) and what it therefore could not do there.
 */
#ifndef STOPSIG_H
#define STOPSIG_H

#include <libpq-fe.h>
#include <stdbool.h>

/* How long a server has to take a stop's cancel request before its sessions are cut. A
 * reachable postmaster takes one in milliseconds; a stop must end well within a
 * scheduler's stop timeout (ECS: 30 s). */
#define STOP_ANSWER_MS 5000

/* Catch SIGTERM and SIGINT for the rest of the process (either stays ignored when it was
 * at start, as in a shell's background job), and start the watcher thread. */
void stopsig_install(void);
/* The signal that asked the run to stop, 0 while none has. Safe from any thread. */
int stopsig_received(void);
/* "SIGTERM", "SIGINT" (for messages). */
const char *stopsig_name(int sig);

/* A connection opened (closed): its statements are cancelled at a stop from now on (no
 * longer). side: "source" or "target" (messages). No-ops before stopsig_install. Any
 * thread, watch in the one that owns conn. */
void stopsig_watch(PGconn *conn, const char *side);
void stopsig_unwatch(PGconn *conn);
/* A stop was received and the run's work has not ended: start no new statement. */
bool stopsig_cancelling(void);
/* The run's work is over (its threads joined): no more cancels, the watcher ends once the
 * requests under way have ended or their sessions are cut (STOP_ANSWER_MS at most); the
 * statements that record a failed run and give the lock back run to their end. */
void stopsig_work_done(void);
/* After a stop: the servers whose sessions were cut because they did not take the cancel
 * ("the source", "the target", "the source and the target"), NULL for none. */
const char *stopsig_unreachable(void);

#endif
