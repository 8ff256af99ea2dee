/*
 * secret.h: resolve a secret reference from the config (env, file, literal, AWS Secrets
 * Manager) into bytes. The value lives in an abuf the caller wipes with
 * abuf_free_secret(); it is never logged, and errors name the reference, not the value.
 */
#ifndef SECRET_H
#define SECRET_H

#include "anonymise/abuf.h"
#include "anonymise/config.h"

/*
 * Why a reference did not resolve. The exit code tells the scheduler whom to alert:
 * what the config names wrongly, or a value that cannot be used, is for whoever deploys
 * the job (exit 2): a variable not set, a file missing, unreadable or open to others, a
 * secret that does not exist, that the job's IAM policy may not read, whose json_key is
 * absent or that is not JSON. The state of the network, of AWS or of the credentials is
 * for ops (exit 3): an endpoint unreachable or timing out, throttling or 5xx after the
 * retries, the clock refused, credentials not found or refused.
 */
enum secret_failure {
    SECRET_FAIL_CONFIG = 0,
    SECRET_FAIL_UNAVAILABLE,
};
/* EXIT_USAGE for SECRET_FAIL_CONFIG, EXIT_PREFLIGHT for SECRET_FAIL_UNAVAILABLE. */
int secret_failure_exit(enum secret_failure f);

/* Resolve into `out` (reset first; marked secret: its memory is wiped when it grows and
 * must be freed with abuf_free_secret). A file's trailing newline is dropped. A `{ file:
 * }` secret must be a regular file owned by us (or root) and readable by nobody else,
 * as ssh wants of a private key: mode 0600 or 0400. On false, *why (may be NULL) says
 * whose problem it is. */
bool secret_resolve(const struct cfg_secret *s, const char *what, struct abuf *out,
                    enum secret_failure *why, struct anon_error *err) ANON_MUST_CHECK;
/* A secret read from the environment, once no longer needed: its bytes are wiped in the
 * process environment and the variable removed (no-op for other kinds). */
void secret_forget_env(const struct cfg_secret *s);

#endif
