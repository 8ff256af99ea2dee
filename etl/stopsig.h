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
 * (143 for SIGTERM), as a shell reports a process the signal ended. A publish already
 * under way finishes (it is one transaction: a SIGKILL meanwhile rolls it back whole). A
 * second signal ends the process at once.
 */
#ifndef STOPSIG_H
#define STOPSIG_H

/* Catch SIGTERM and SIGINT for the rest of the process (either stays ignored when it was
 * at start, as in a shell's background job). */
void stopsig_install(void);
/* The signal that asked the run to stop, 0 while none has. Safe from any thread. */
int stopsig_received(void);
/* "SIGTERM", "SIGINT" (for messages). */
const char *stopsig_name(int sig);

#endif
