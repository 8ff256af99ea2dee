/*
 * exitcode.h: the process exit codes, in one place (DESIGN.md "Exit codes").
 * Schedulers key on them: 7 is a benign skip, 3 a network problem for ops, 6 a policy
 * problem for the data engineers, 4/5 a database problem on one side.
 */
#ifndef EXITCODE_H
#define EXITCODE_H

enum exit_code {
    EXIT_OK = 0,
    EXIT_INTERNAL = 1,
    EXIT_USAGE = 2, /* usage or config error */
    EXIT_PREFLIGHT = 3,
    EXIT_SOURCE = 4,
    EXIT_TARGET = 5,
    EXIT_POLICY = 6, /* uncovered column, k-anonymity with on_violation: fail */
    EXIT_LOCKED = 7, /* skipped: another run holds the lock */
    /* run stopped by a signal (stopsig.h): 128 + its number, 143 for SIGTERM, as a shell
     * reports a process the signal ended */
    EXIT_SIGNAL_BASE = 128,
};

#endif
