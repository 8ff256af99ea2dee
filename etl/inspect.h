/*
 * inspect.h: `anonetl check` (static, or with --source against the source catalog) and
 * `anonetl explain` (per table and column: rule, source type, target type).
 */
#ifndef INSPECT_H
#define INSPECT_H

#include <stdbool.h>

#include "anonymise/config.h"

/* Both return an exit code (exitcode.h) and print to stdout. */
int inspect_check(const struct config *cfg, bool with_source);
int inspect_explain(const struct config *cfg, bool with_source);

#endif
