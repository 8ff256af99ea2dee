/* secret.c: resolve secret references (see secret.h). */
#include "etl/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "etl/awsauth.h"
#include "etl/exitcode.h"
#include "etl/log.h"

#define SECRET_MAX (64 * 1024)

/* As ssh does for a private key: a regular file, owned by us or root, that no group or
 * other user may read or write. Checked on the open descriptor (no race with a rename). */
static bool secret_file_private(int fd, const char *path, const char *what, struct anon_error *err)
{
    struct stat st;

    if (fstat(fd, &st) != 0) {
        anon_error_set(err, "%s: cannot stat secret file %s: %s", what, path, strerror(errno));
        return false;
    }
    if (!S_ISREG(st.st_mode)) {
        anon_error_set(err, "%s: secret file %s is not a regular file", what, path);
        return false;
    }
    if (st.st_uid != geteuid() && st.st_uid != 0) {
        anon_error_set(err,
                       "%s: secret file %s belongs to another user (uid %u): it must be ours "
                       "(uid %u) or root's",
                       what, path, (unsigned)st.st_uid, (unsigned)geteuid());
        return false;
    }
    if (st.st_mode & 077) {
        anon_error_set(err,
                       "%s: secret file %s is open to group or others (mode %04o): "
                       "chmod 600 %s",
                       what, path, (unsigned)(st.st_mode & 07777), path);
        return false;
    }
    return true;
}

static bool read_secret_file(const char *path, const char *what, struct abuf *out,
                             struct anon_error *err)
{
    char chunk[4096];
    ssize_t n;
    /* O_NONBLOCK: opening a FIFO (a named pipe, /dev/stdin) with no writer would wait
     * forever before fstat could refuse it; a regular file reads as before. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

    if (fd < 0) {
        anon_error_set(err, "%s: cannot open secret file %s: %s", what, path, strerror(errno));
        return false;
    }
    if (!secret_file_private(fd, path, what, err)) {
        close(fd);
        return false;
    }
    while ((n = read(fd, chunk, sizeof(chunk))) > 0)
        abuf_append(out, chunk, (size_t)n);
    OPENSSL_cleanse(chunk, sizeof(chunk));
    close(fd);
    if (n < 0) {
        anon_error_set(err, "%s: cannot read secret file %s: %s", what, path, strerror(errno));
        return false;
    }
    if (abuf_failed(out)) {
        anon_error_set(err, "%s: secret file %s is larger than %d bytes", what, path, SECRET_MAX);
        return false;
    }
    /* Files written by editors and `echo` end with a newline that is not part of it. */
    while (out->len > 0 && (out->data[out->len - 1] == '\n' || out->data[out->len - 1] == '\r'))
        out->len--;
    if (out->len == 0) { /* it said "only 0 different characters" (the key's strength) */
        anon_error_set(err, "%s: secret file %s is empty", what, path);
        return false;
    }
    return true;
}

int secret_failure_exit(enum secret_failure f)
{
    return f == SECRET_FAIL_UNAVAILABLE ? EXIT_PREFLIGHT : EXIT_USAGE;
}

/*
 * An environment value ending with a line end keeps it (operations.md, "Secrets"): the
 * key of a job whose variable has always held one would change with every pseudonym if
 * it were dropped now, unsaid. Said instead, for what it does to each kind of secret.
 */
static void warn_line_end(const struct cfg_secret *s, const char *what)
{
    if (strcmp(what, "secrets.hash_key") == 0)
        log_warn("secret_line_end", NULL,
                 "%s: environment variable %s ends with a line end, which is part of the "
                 "value (a { file: } secret drops it: the same hash key read from a file "
                 "gives other pseudonyms); set the variable without it (a Kubernetes "
                 "secret made from a file written by echo or openssl > file has one): "
                 "that changes every pseudonym once, as a key rotation does",
                 what, s->ref);
    else
        log_warn("secret_line_end", NULL,
                 "%s: environment variable %s ends with a line end, which is part of the "
                 "value: a password holding it is not the one the server has, and in a "
                 "postgresql:// URI it ends the last part (a DSN of key=value words "
                 "ignores it); set the variable without it",
                 what, s->ref);
}

bool secret_resolve(const struct cfg_secret *s, const char *what, struct abuf *out,
                    enum secret_failure *why, struct anon_error *err)
{
    enum secret_failure why_unused;
    const char *v;

    if (!why)
        why = &why_unused;
    *why = SECRET_FAIL_CONFIG;
    abuf_reset(out);
    out->max = SECRET_MAX;
    out->secret = true;
    switch (s->kind) {
    case CFG_SECRET_NONE:
        anon_error_set(err, "%s: no value configured", what);
        return false;
    case CFG_SECRET_LITERAL:
        abuf_puts(out, s->ref);
        break;
    case CFG_SECRET_ENV:
        v = getenv(s->ref);
        if (!v) {
            anon_error_set(err, "%s: environment variable %s is not set", what, s->ref);
            return false;
        }
        if (!*v) { /* set to nothing: an EnvironmentFile line `NAME=`, a CI variable unfilled */
            anon_error_set(err, "%s: environment variable %s is set but empty", what, s->ref);
            return false;
        }
        if (v[strlen(v) - 1] == '\n' || v[strlen(v) - 1] == '\r')
            warn_line_end(s, what);
        abuf_puts(out, v);
        break;
    case CFG_SECRET_FILE:
        if (!read_secret_file(s->ref, what, out, err))
            return false;
        break;
    case CFG_SECRET_AWS:
        if (!awsauth_secret(s, what, out, why, err))
            return false;
        break;
    }
    if (abuf_failed(out)) {
        anon_error_set(err, "%s: secret too large", what);
        return false;
    }
    abuf_cstr(out);
    return true;
}

void secret_forget_env(const struct cfg_secret *s)
{
    char *v;

    if (s->kind != CFG_SECRET_ENV || !(v = getenv(s->ref)))
        return;
    OPENSSL_cleanse(v, strlen(v));
    unsetenv(s->ref);
}
