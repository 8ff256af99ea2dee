/* infra_error.c: see infra_error.h. */
#include "infra/infra_error.h"

#include <stdarg.h>
#include <stdio.h>

void infra_error_set(struct infra_error *err, const char *fmt, ...)
{
    va_list ap;

    if (!err)
        return;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
}
