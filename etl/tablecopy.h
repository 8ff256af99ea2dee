/*
 * tablecopy.h: stream one table from the source to a target table, applying the rules.
 *
 *   COPY (SELECT cols FROM t WHERE filter) TO STDOUT  (source, inside the run's snapshot)
 *     -> split each COPY text row -> per column: `keep` fields pass through as raw bytes,
 *        others are decoded, transformed by their rule, encoded
 *     -> COPY dest (cols) FROM STDIN  (target), in batches written by a sender thread
 *        (copysend.h) while the next batch is filled, so the source, anonetl and the
 *        target work at the same time instead of taking turns
 * Memory stays constant whatever the table size: one row and a ring of a few batches.
 */
#ifndef TABLECOPY_H
#define TABLECOPY_H

#include <libpq-fe.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "anonymise/anon_error.h"
#include "etl/plan.h"

struct audit_scanner; /* audit.h */

enum tablecopy_status {
    TABLECOPY_OK = 0,
    TABLECOPY_SOURCE_ERROR,
    TABLECOPY_TARGET_ERROR,
    TABLECOPY_INTERNAL_ERROR,
};

/*
 * A destination in pieces held in memory: no target connection is used; the rows (COPY
 * data, without the binary header and trailer: tablecopy_copy_in and _end add them) are
 * gathered into a piece of at most limit() rows and about TABLECOPY_PIECE_BYTES, then
 * handed to close(), so a consumer can merge the first pieces while the copy goes on.
 * An empty window hands over nothing.
 */
#define TABLECOPY_PIECE_BYTES ((size_t)4 << 20)
struct tablecopy_chunks {
    /* The most rows the next piece takes (rows_so_far: in the pieces before it). */
    uint64_t (*limit)(void *ctx, uint64_t rows_so_far);
    /* A piece is complete: its rows, copied or consumed before returning. */
    bool (*close)(void *ctx, const char *data, size_t len, uint64_t rows, struct anon_error *err);
    /* Optional: the consumer waits for a piece. The current one then ends early, once it
     * holds TABLECOPY_EARLY_ROWS, so that the consumer follows the copy closely and what
     * is left to merge after the source's last row is a small piece, not a large one. */
    bool (*idle)(void *ctx);
    void *ctx;
};
#define TABLECOPY_EARLY_ROWS 512

/*
 * A destination shared by several copies at once: one connection, one COPY, in the
 * transaction that created the table (so COPY FREEZE applies to every piece of a table
 * split into key ranges). Each copy hands its whole-row batches to send(), which
 * serialises them; the owner of the connection starts and ends the COPY
 * (tablecopy_copy_in / tablecopy_copy_in_end).
 */
struct tablecopy_shared {
    bool (*send)(void *ctx, const char *data, size_t len, struct anon_error *err);
    /* A send blocked on a stalled target fails at once (the load is lost): run.max_runtime
     * or another worker's failure while it waits (copysend.h). */
    void (*cancel)(void *ctx);
    void *ctx;
};

struct tablecopy_request {
    const struct table_plan *plan;
    PGconn *source;                        /* inside the run's snapshot transaction */
    PGconn *target;                        /* NULL with chunks */
    const char *dest_sql;                  /* quoted, schema-qualified destination table */
    const struct tablecopy_chunks *chunks; /* or NULL: everything into dest_sql */
    const struct tablecopy_shared *shared; /* or NULL: a COPY of its own */
    const char *extra_where;  /* ANDed to the table's `where` (watermark range), or NULL */
    bool failing_where;       /* select the rows that FAIL the table's `where` instead */
    bool physical_order;      /* read in the heap's order (a window of scattered changes) */
    bool key_order;           /* a whole read, in the key's order when cheap (keyorder.h) */
    const unsigned char *key; /* hash key */
    size_t key_len;
    const struct hmac_key *hmac; /* the same key, prepared (hmac.h) */
    time_t run_time;
    /* The destination was created in the current transaction: COPY FREEZE writes the
     * rows already frozen, sparing the hint-bit rewrite of every page on first read. */
    bool freeze;
    /* Set by another worker's failure: stop at the next batch (may be NULL). */
    const atomic_bool *abort;
    /* run.max_runtime: CLOCK_MONOTONIC seconds after which the copy stops (0 = none). */
    double deadline;
    /* The leak audit: every row written goes through it (NULL = no audit). */
    struct audit_scanner *audit;
};

struct tablecopy_stats {
    uint64_t rows_read;
    uint64_t rows_written;
    double elapsed_s;
    /* The rows came in the key's order (the source read them ORDER BY the key: key_order
     * and keyorder_select agreed); false for any other read. */
    bool key_ordered;
};

enum tablecopy_status tablecopy_run(const struct tablecopy_request *req,
                                    struct tablecopy_stats *stats, struct anon_error *err);

/* Start `COPY dest (the plan's columns) FROM STDIN` on target (FREEZE: the table was
 * created in the current transaction), with the binary header when the plan is binary. */
bool tablecopy_copy_in(PGconn *target, const struct table_plan *plan, const char *dest_sql,
                       bool freeze, struct anon_error *err) ANON_MUST_CHECK;
/* End it: the binary trailer and the end of the COPY, or abort it with abort_msg;
 * *rows = rows it took. */
bool tablecopy_copy_in_end(PGconn *target, const struct table_plan *plan, const char *abort_msg,
                           uint64_t *rows, struct anon_error *err);

/* A whole COPY of rows held in memory (COPY data of the plan, without the binary header
 * and trailer: a piece of tablecopy_chunks) into dest_sql. */
bool tablecopy_copy_buffer(PGconn *target, const struct table_plan *plan, const char *dest_sql,
                           const char *data, size_t len, struct anon_error *err) ANON_MUST_CHECK;

/* Append "SELECT cols FROM t [WHERE ...]" for the source (used by COPY and preview): the
 * rows that pass the table's `where` and extra_where, or with `failing` the rows of
 * extra_where that do not pass `where` (NULL counts as not passing). */
bool tablecopy_select_sql(PGconn *conn, const struct table_plan *plan, const char *extra_where,
                          bool failing, struct abuf *sql);

#endif
