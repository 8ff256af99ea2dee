/* anon_error.c: bounded error messages for the libraries (see anon_error.h). */
#include "anonymise/anon_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void anon_error_clear(struct anon_error *err)
{
    err->msg[0] = '\0';
    err->count = 0;
}

void anon_error_set(struct anon_error *err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    err->count = 1;
}

void anon_error_add(struct anon_error *err, const char *fmt, ...)
{
    size_t used = strnlen(err->msg, sizeof(err->msg));
    va_list ap;

    /* Count every problem, even one that no longer fits: callers compare counts to
     * know whether something failed. */
    err->count++;
    if (used + 2 >= sizeof(err->msg))
        return; /* full: keep the first messages, they matter most */
    if (used > 0)
        err->msg[used++] = '\n';
    va_start(ap, fmt);
    vsnprintf(err->msg + used, sizeof(err->msg) - used, fmt, ap);
    va_end(ap);
}
