/*
 * secret.h: resolve a secret reference from the config (env, file, literal, AWS Secrets
 * Manager) into bytes. The value lives in an abuf the caller wipes with
 * abuf_free_secret(); it is never logged, and errors name the reference, not the value.
 */
#ifndef SECRET_H
#define SECRET_H

#include "anonymise/abuf.h"
#include "anonymise/config.h"

/* Resolve into `out` (reset first; marked secret: its memory is wiped when it grows and
 * must be freed with abuf_free_secret). A file's trailing newline is dropped. A `{ file:
 * }` secret must be a regular file owned by us (or root) and readable by nobody else,
 * as ssh wants of a private key: mode 0600 or 0400. */
bool secret_resolve(const struct cfg_secret *s, const char *what, struct abuf *out,
                    struct anon_error *err) ANON_MUST_CHECK;
/* A secret read from the environment, once no longer needed: its bytes are wiped in the
 * process environment and the variable removed (no-op for other kinds). */
void secret_forget_env(const struct cfg_secret *s);

#endif
