/*
 * copysend.c: a sender thread and its ring of batches (see copysend.h).
 *
 * The ring: buffers head .. head+queued-1 (mod COPYSEND_BUFFERS) are handed over, in
 * order; the sender writes buffer `head` outside the lock (`sending`) and frees it after.
 * The buffer after the queued ones is the one being filled. A push waits while all the
 * others are queued (queued == COPYSEND_BUFFERS - 1 before it), or while what is queued
 * passes COPYSEND_BUFFERS batches' worth of bytes (rows of hundreds of megabytes make
 * batches that large: then one is sent while the next is filled, as many as before the
 * ring plus one). That bounds the memory and lets a slow target hold the row loop back.
 */
#include "etl/copysend.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

/* A buffer that grew past this for one huge row gives its memory back once sent. */
#define KEEP_BYTES ((size_t)4 << 20)

struct copysend {
    struct copysend_hooks hooks;
    size_t max_len;
    size_t queue_limit; /* bytes queued beyond which a push waits for a second batch */
    bool threaded;      /* false: pushes send in the caller's thread */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t changed; /* a batch was queued or sent, or the sender stopped */
    struct abuf bufs[COPYSEND_BUFFERS];
    unsigned head;   /* oldest batch handed over */
    unsigned queued; /* batches handed over, not sent yet (the one being sent included) */
    size_t queued_bytes;
    bool sending;   /* the sender is writing bufs[head], outside the lock */
    bool stopping;  /* copysend_end: no more batches */
    bool failed;    /* a send failed, or interrupted(): err holds why */
    bool cancelled; /* interrupted() said stop: cancel() was called */
    struct anon_error err;
};

static unsigned filling(const struct copysend *s)
{
    return (s->head + s->queued) % COPYSEND_BUFFERS;
}

static void buffer_sent(struct copysend *s, struct abuf *b)
{
    abuf_reset(b);
    if (b->cap > KEEP_BYTES) {
        abuf_free(b);
        abuf_init(b, s->max_len);
    }
}

/* The oldest batch is sent (or dropped): free it for the row loop. */
static void dequeue_head(struct copysend *s)
{
    s->queued_bytes -= s->bufs[s->head].len;
    buffer_sent(s, &s->bufs[s->head]);
    s->head = (s->head + 1) % COPYSEND_BUFFERS;
    s->queued--;
}

/* Under the lock: drop the batches waiting to be sent (not the one being sent). */
static void drop_waiting(struct copysend *s)
{
    while (s->queued > (s->sending ? 1u : 0u)) {
        unsigned last = (s->head + s->queued - 1) % COPYSEND_BUFFERS;
        s->queued_bytes -= s->bufs[last].len;
        buffer_sent(s, &s->bufs[last]);
        s->queued--;
    }
}

/* Under the lock: wait for the sender, at most COPYSEND_POLL_MS; then ask interrupted()
 * and, when it says stop, fail with its error and cancel the send in flight. */
static void wait_sender(struct copysend *s)
{
    struct anon_error e;
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += COPYSEND_POLL_MS * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    if (pthread_cond_timedwait(&s->changed, &s->lock, &ts) != ETIMEDOUT || s->cancelled ||
        !s->hooks.interrupted)
        return;
    anon_error_clear(&e);
    if (!s->hooks.interrupted(s->hooks.ctx, &e))
        return;
    s->cancelled = true;
    if (!s->failed) {
        s->failed = true;
        s->err = e;
    }
    drop_waiting(s);
    if (s->sending && s->hooks.cancel)
        s->hooks.cancel(s->hooks.ctx);
}

static void *sender_main(void *arg)
{
    struct copysend *s = arg;
    struct anon_error err;

    pthread_mutex_lock(&s->lock);
    for (;;) {
        struct abuf *b;
        bool ok;
        while (s->queued == 0 && !s->stopping)
            pthread_cond_wait(&s->changed, &s->lock);
        if (s->queued == 0)
            break; /* stopping, nothing left */
        b = &s->bufs[s->head];
        s->sending = true;
        pthread_mutex_unlock(&s->lock);
        anon_error_clear(&err);
        ok = s->hooks.send(s->hooks.ctx, b->data, b->len, &err);
        pthread_mutex_lock(&s->lock);
        s->sending = false;
        dequeue_head(s);
        if (!ok && !s->failed) {
            s->failed = true;
            s->err = err;
        }
        if (s->failed) /* what is queued will not go anywhere */
            drop_waiting(s);
        pthread_cond_broadcast(&s->changed);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

struct copysend *copysend_start(const struct copysend_hooks *hooks, size_t batch_bytes,
                                size_t max_len, struct anon_error *err)
{
    struct copysend *s = calloc(1, sizeof(*s));
    pthread_condattr_t attr;

    if (!s) {
        anon_error_set(err, "out of memory");
        return NULL;
    }
    s->hooks = *hooks;
    s->max_len = max_len;
    s->queue_limit = COPYSEND_BUFFERS * batch_bytes;
    for (size_t i = 0; i < COPYSEND_BUFFERS; i++)
        abuf_init(&s->bufs[i], max_len);
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC); /* the polls ignore clock changes */
    pthread_cond_init(&s->changed, &attr);
    pthread_condattr_destroy(&attr);
    s->threaded = pthread_create(&s->thread, NULL, sender_main, s) == 0;
    return s;
}

struct abuf *copysend_buffer(struct copysend *s)
{
    /* Only the caller changes head+queued's sum (the sender moves both together). */
    unsigned i;

    pthread_mutex_lock(&s->lock);
    i = filling(s);
    pthread_mutex_unlock(&s->lock);
    return &s->bufs[i];
}

/* No thread: send in place, keep the same buffer. */
static bool push_inline(struct copysend *s, struct abuf *b, struct anon_error *err)
{
    if (!s->failed && b->len > 0 && !s->hooks.send(s->hooks.ctx, b->data, b->len, &s->err))
        s->failed = true;
    buffer_sent(s, b);
    if (s->failed)
        *err = s->err;
    return !s->failed;
}

bool copysend_push(struct copysend *s, struct anon_error *err)
{
    struct abuf *b = copysend_buffer(s);
    bool ok;

    if (!s->threaded)
        return push_inline(s, b, err);
    pthread_mutex_lock(&s->lock);
    if (s->failed) {
        abuf_reset(b);
    } else if (b->len > 0) {
        s->queued++;
        s->queued_bytes += b->len;
        pthread_cond_broadcast(&s->changed);
        while (!s->failed && (s->queued == COPYSEND_BUFFERS ||
                              (s->queued > 1 && s->queued_bytes > s->queue_limit)))
            wait_sender(s);
    }
    ok = !s->failed;
    if (!ok)
        *err = s->err;
    pthread_mutex_unlock(&s->lock);
    return ok;
}

bool copysend_sync(struct copysend *s, struct anon_error *err)
{
    bool ok;

    pthread_mutex_lock(&s->lock);
    while (s->queued > 0 && !s->failed)
        wait_sender(s);
    /* A failure drops the queue, but the batch being sent may still be in flight. */
    while (s->sending)
        wait_sender(s);
    ok = !s->failed;
    if (!ok)
        *err = s->err;
    pthread_mutex_unlock(&s->lock);
    return ok;
}

void copysend_end(struct copysend *s)
{
    if (!s)
        return;
    if (s->threaded) {
        pthread_mutex_lock(&s->lock);
        drop_waiting(s);
        s->stopping = true;
        pthread_cond_broadcast(&s->changed);
        while (s->sending)
            wait_sender(s);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->thread, NULL);
    }
    for (size_t i = 0; i < COPYSEND_BUFFERS; i++)
        abuf_free(&s->bufs[i]);
    pthread_cond_destroy(&s->changed);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
