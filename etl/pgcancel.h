/*
 * pgcancel.h: a cancel request that never blocks the thread that asks for it.
 *
 * libpq 15's PQcancel opens a new connection to the server with a blocking connect() and no
 * timeout: against a server that cannot be reached (a partition that drops packets, no
 * RST) it waits for the kernel's SYN retries, about 2 minutes, longer than a scheduler
 * waits between SIGTERM and SIGKILL (ECS: 30 s). (libpq 17's PQcancelCreate/PQcancelPoll
 * would give a timeout; anonetl builds against 15.) Here each request runs PQcancel in a
 * detached thread of its own: the caller waits as long as it chooses, holds no lock
 * meanwhile, and may walk away from a request still under way, which then ends on its
 * own (or with the process).
 *
 * The PGcancel is shared by reference count: a connection's cancel (pgcancel_ref, made
 * once by the thread that owns the connection, as libpq wants) stays alive while a
 * request under way still uses it, whoever drops it first.
 */
#ifndef PGCANCEL_H
#define PGCANCEL_H

#include <libpq-fe.h>
#include <stdbool.h>

/* A connection's PGcancel, counted. */
struct pgcancel_ref;
/* In the thread that owns conn. NULL: out of memory or no cancel key (not connected). */
struct pgcancel_ref *pgcancel_ref_new(PGconn *conn);
/* Drop one reference (NULL: nothing). */
void pgcancel_ref_put(struct pgcancel_ref *ref);

enum pgcancel_state {
    PGCANCEL_PENDING,   /* still connecting to the server or waiting for it to close */
    PGCANCEL_DELIVERED, /* the server took the request */
    PGCANCEL_FAILED,    /* refused, reset, no route: the server did not take it */
};

/* One request under way. */
struct pgcancel_job;
/* Send ref's cancel from a thread of its own (the job holds its own reference). NULL when
 * no thread could be started (out of memory, no threads left): nothing was sent. */
struct pgcancel_job *pgcancel_start(struct pgcancel_ref *ref);
/* Its state after waiting at most wait_ms (0: at once) for it to end. */
enum pgcancel_state pgcancel_wait(struct pgcancel_job *job, int wait_ms);
/* Milliseconds since it started. */
long pgcancel_age_ms(const struct pgcancel_job *job);
/* The caller is done with it (NULL: nothing); a request still under way goes on alone. */
void pgcancel_release(struct pgcancel_job *job);

/* Cancel conn's statement under way and wait at most wait_ms: DELIVERED, FAILED, or
 * PENDING (the server did not answer in time; the request goes on alone). In the thread
 * that owns conn. */
enum pgcancel_state pgcancel_bounded(PGconn *conn, int wait_ms);

#endif
