/*
 * secret.h: resolve a secret reference from the config (env, file, literal, AWS Secrets
 * Manager) into bytes. The value lives in an abuf the caller wipes with
 * abuf_free_secret(); it is never logged, and errors name the reference, not the value.
 */
#ifndef SECRET_H
#define SECRET_H

#include "anonymise/abuf.h"
#include "anonymise/config.h"

/* Resolve into `out` (reset first). A file's trailing newline is dropped. */
bool secret_resolve(const struct cfg_secret *s, const char *what, struct abuf *out,
                    struct anon_error *err) ANON_MUST_CHECK;

#endif
