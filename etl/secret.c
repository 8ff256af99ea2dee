/* secret.c: resolve secret references (see secret.h). */
#include "etl/secret.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etl/awsauth.h"

#define SECRET_MAX (64 * 1024)

static bool read_secret_file(const char *path, const char *what, struct abuf *out,
                             struct anon_error *err)
{
    char chunk[4096];
    size_t n;
    FILE *f = fopen(path, "rb");

    if (!f) {
        anon_error_set(err, "%s: cannot open secret file %s: %s", what, path, strerror(errno));
        return false;
    }
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        abuf_append(out, chunk, n);
    fclose(f);
    if (abuf_failed(out)) {
        anon_error_set(err, "%s: secret file %s is larger than %d bytes", what, path, SECRET_MAX);
        return false;
    }
    /* Files written by editors and `echo` end with a newline that is not part of it. */
    while (out->len > 0 && (out->data[out->len - 1] == '\n' || out->data[out->len - 1] == '\r'))
        out->len--;
    return true;
}

bool secret_resolve(const struct cfg_secret *s, const char *what, struct abuf *out,
                    struct anon_error *err)
{
    const char *v;

    abuf_reset(out);
    out->max = SECRET_MAX;
    switch (s->kind) {
    case CFG_SECRET_NONE:
        anon_error_set(err, "%s: no value configured", what);
        return false;
    case CFG_SECRET_LITERAL:
        abuf_puts(out, s->ref);
        break;
    case CFG_SECRET_ENV:
        v = getenv(s->ref);
        if (!v || !*v) {
            anon_error_set(err, "%s: environment variable %s is not set", what, s->ref);
            return false;
        }
        abuf_puts(out, v);
        break;
    case CFG_SECRET_FILE:
        if (!read_secret_file(s->ref, what, out, err))
            return false;
        break;
    case CFG_SECRET_AWS:
        if (!awsauth_secret(s, what, out, err))
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
