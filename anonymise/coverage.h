/*
 * coverage.h: fail-closed coverage of a table's source columns by the rules.
 *
 * Every source column needs a rule; nothing is ever copied by default. For the columns
 * without one, the report carries the YAML to add, with the safe default (suppress, or a
 * hash for key columns) and the column type as a comment, ready to paste. Pure: the
 * caller supplies the source columns (from the catalog).
 */
#ifndef COVERAGE_H
#define COVERAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "anonymise/abuf.h"
#include "anonymise/config.h"

struct coverage_column {
    const char *name;
    const char *type; /* format_type() text */
    bool primary_key;
};

struct coverage_report {
    size_t n_uncovered;  /* source columns without a rule */
    size_t n_missing;    /* rules for columns the source does not have */
    struct abuf yaml;    /* lines to add under `columns:` for the uncovered ones */
    struct abuf missing; /* "file:line:column: name" lines for the missing ones */
};

/* The safe default rule for a column, as YAML text: "suppress", "{ hash_int: {} }" ... */
const char *coverage_default_rule(const struct coverage_column *c);

void coverage_check(const struct cfg_table *t, const char *config_path,
                    const struct coverage_column *cols, size_t n_cols, struct coverage_report *out);
void coverage_report_free(struct coverage_report *r);
/* name as a YAML key or value: plain when that is safe, else double-quoted with control
 * characters as \xNN (init writes configs with it; coverage's YAML to add too). */
void coverage_yaml_name(struct abuf *out, const char *name);

#endif
