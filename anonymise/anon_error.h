/*
 * anon_error.h: the error a library function fills when it returns false.
 *
 * Libraries (anonymise/, infra/) never print, log or exit: a failing function
 * returns false (or NULL) and writes one human-readable message here; the caller
 * in etl/ decides how to report it. Messages never contain row values or secrets.
 */
#ifndef ANON_ERROR_H
#define ANON_ERROR_H

#include <stdbool.h>
#include <stddef.h>

#define ANON_MUST_CHECK __attribute__((warn_unused_result))
#define ANON_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* Large enough for a config report listing several errors, one per line. */
#define ANON_ERROR_MAX 4096

struct anon_error {
    char msg[ANON_ERROR_MAX];
    int count; /* number of messages appended (config loading collects several) */
};

/* Replace the message. */
void anon_error_set(struct anon_error *err, const char *fmt, ...) ANON_PRINTF(2, 3);
/* Append one more line (used to report every config error at once). */
void anon_error_add(struct anon_error *err, const char *fmt, ...) ANON_PRINTF(2, 3);
void anon_error_clear(struct anon_error *err);

#endif
