/* status.h: `anonetl status`: recent runs from the target's anonetl schema. */
#ifndef STATUS_H
#define STATUS_H

#include <stdbool.h>

#include "anonymise/config.h"

/* Prints the last `limit` runs (table on a terminal, JSON with json); an exit code. */
int status_main(const struct config *cfg, bool json, int limit);

#endif
