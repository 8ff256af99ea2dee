/* coverage.c: fail-closed coverage of source columns by rules (see coverage.h). */
#include "anonymise/coverage.h"

#include <string.h>

static bool is_integer_type(const char *type)
{
    return strcmp(type, "bigint") == 0 || strcmp(type, "integer") == 0 ||
           strcmp(type, "smallint") == 0;
}

const char *coverage_default_rule(const struct coverage_column *c)
{
    if (!c->primary_key)
        return "suppress";
    return is_integer_type(c->type) ? "{ hash_int: {} }" : "{ hash: {} }";
}

void coverage_check(const struct cfg_table *t, const char *config_path,
                    const struct coverage_column *cols, size_t n_cols, struct coverage_report *out)
{
    memset(out, 0, sizeof(*out));
    abuf_init(&out->yaml, 1 << 20);
    abuf_init(&out->missing, 1 << 20);
    for (size_t i = 0; i < n_cols; i++) {
        if (config_find_column(t, cols[i].name))
            continue;
        out->n_uncovered++;
        abuf_printf(&out->yaml, "      %s: %s   # %s%s\n", cols[i].name,
                    coverage_default_rule(&cols[i]), cols[i].type,
                    cols[i].primary_key ? ", primary key" : "");
    }
    for (size_t j = 0; j < t->n_columns; j++) {
        const struct cfg_column *c = &t->columns[j];
        bool found = false;
        for (size_t i = 0; i < n_cols && !found; i++)
            found = strcmp(cols[i].name, c->name) == 0;
        if (found)
            continue;
        out->n_missing++;
        abuf_printf(&out->missing,
                    "%s:%d:%d: tables.%s.%s.columns.%s: no such column in the source\n",
                    config_path, c->line, c->column, t->schema, t->name, c->name);
    }
}

void coverage_report_free(struct coverage_report *r)
{
    abuf_free(&r->yaml);
    abuf_free(&r->missing);
}
