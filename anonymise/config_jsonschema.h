/*
 * config_jsonschema.h: a JSON Schema (draft 2020-12) of the config file, for editors'
 * YAML support (`anonetl schema`). It is generated from the loader's own field tables
 * (config_schema.c) and the rule registry, so it cannot drift from what config_load
 * accepts: keys, types, required keys, enums, integer ranges, defaults, secrets, and for
 * each column the rule names with their summaries. Checks done in code (CIDR syntax,
 * AWS ids, a rule's own options, names that must be columns) are left to `anonetl check`.
 */
#ifndef CONFIG_JSONSCHEMA_H
#define CONFIG_JSONSCHEMA_H

#include <stdbool.h>

#include "anonymise/abuf.h"
#include "anonymise/anon_error.h"

/* Append the schema as indented JSON text (with a final newline). */
bool config_jsonschema(struct abuf *out, struct anon_error *err) ANON_MUST_CHECK;

#endif
