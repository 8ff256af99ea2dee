/*
 * infra_error.h: the error an infra/ function fills when it returns false.
 * infra/ never prints, logs or exits (and never includes anonymise/): the caller in
 * etl/ reports the message. Messages never contain secrets or signatures.
 */
#ifndef INFRA_ERROR_H
#define INFRA_ERROR_H

#include <stdbool.h>

#define INFRA_MUST_CHECK __attribute__((warn_unused_result))
#define INFRA_PRINTF(f, a) __attribute__((format(printf, f, a)))

struct infra_error {
    char msg[1024];
};

void infra_error_set(struct infra_error *err, const char *fmt, ...) INFRA_PRINTF(2, 3);

#endif
