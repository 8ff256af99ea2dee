/*
 * copysend.h: the target side of a copy, on a thread of its own.
 *
 * A copy reads the source, transforms the rows and writes them to the target. In one
 * thread each write blocks until the target has taken the batch (a socket holds about
 * 200 kB), and meanwhile nothing reads the source; then the target idles while the next
 * batch is transformed. The source backend, anonetl and the target backend take turns
 * instead of working at once (measured: 1.1 of 2 cores busy). Here a sender thread
 * writes the batches while the row loop fills the next one; a ring of COPYSEND_BUFFERS
 * batches bounds the memory.
 *
 * What send() writes to (a target connection) belongs to the sender thread from
 * copysend_push until copysend_sync returns: the caller uses it for nothing else
 * meanwhile (PQputCopyEnd, another statement). The first failed send stops the sender:
 * what is queued is dropped, and the next push or sync returns false with its error.
 *
 * A stalled target (a stopped server, a network that drops everything) blocks the
 * sender in a write and the row loop waiting for room. While it waits, the caller's
 * interrupted() is asked every COPYSEND_POLL_MS (run.max_runtime, another worker's
 * failure); when it says stop, cancel() makes the blocked write fail (it shuts the
 * connection's socket: the connection is lost, nothing of the COPY stays) and the push,
 * sync or end returns with interrupted()'s error.
 */
#ifndef COPYSEND_H
#define COPYSEND_H

#include <stdbool.h>
#include <stddef.h>

#include "anonymise/abuf.h"
#include "anonymise/anon_error.h"

/* Batches in the ring: one being filled, the others queued or being sent. */
#define COPYSEND_BUFFERS 3
#define COPYSEND_POLL_MS 500

struct copysend_hooks {
    /* Write one batch: false with err set when the target cannot take it. */
    bool (*send)(void *ctx, const char *data, size_t len, struct anon_error *err);
    /* Make a send blocked in another thread return (NULL: sends never block). */
    void (*cancel)(void *ctx);
    /* True (err set) when the copy must stop: asked while a push, sync or end waits
     * (NULL: never). Called in the caller's thread. */
    bool (*interrupted)(void *ctx, struct anon_error *err);
    void *ctx;
};

struct copysend;

/* A sender for batches of about batch_bytes; a buffer grows up to max_len (a batch plus
 * the largest row). NULL when out of memory. Without a thread (it cannot be started)
 * each push sends in the caller's thread, as a copy did before. */
struct copysend *copysend_start(const struct copysend_hooks *hooks, size_t batch_bytes,
                                size_t max_len, struct anon_error *err);
/* The batch being filled (another one after each push). */
struct abuf *copysend_buffer(struct copysend *s);
/* Hand the batch over (nothing when it is empty) and take an empty one, waiting while
 * every other batch is queued. False: a send failed, or interrupted() stopped the copy
 * (err says which). */
bool copysend_push(struct copysend *s, struct anon_error *err) ANON_MUST_CHECK;
/* Wait until every batch handed over is sent: the connection is the caller's again. */
bool copysend_sync(struct copysend *s, struct anon_error *err) ANON_MUST_CHECK;
/* Drop the batches not sent yet, wait for the one being sent (or cancel it when
 * interrupted() says so), end the thread, free. */
void copysend_end(struct copysend *s);

#endif
