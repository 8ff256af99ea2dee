/* coverage.c: fail-closed coverage of source columns by rules (see coverage.h). */
#include "anonymise/coverage.h"

#include <string.h>
#include <strings.h>

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

/* A YAML plain scalar when that is safe, else a double-quoted one. */
void coverage_yaml_name(struct abuf *out, const char *s)
{
    bool plain = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_';

    for (const char *p = s; plain && *p; p++)
        plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                *p == '_';
    /* words YAML 1.1 readers take as booleans or null */
    if (plain &&
        (strcasecmp(s, "y") == 0 || strcasecmp(s, "n") == 0 || strcasecmp(s, "yes") == 0 ||
         strcasecmp(s, "no") == 0 || strcasecmp(s, "on") == 0 || strcasecmp(s, "off") == 0 ||
         strcasecmp(s, "true") == 0 || strcasecmp(s, "false") == 0 || strcasecmp(s, "null") == 0))
        plain = false;
    if (plain) {
        abuf_puts(out, s);
        return;
    }
    abuf_putc(out, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            abuf_printf(out, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            abuf_printf(out, "\\x%02x", *p);
        else
            abuf_putc(out, (char)*p);
    }
    abuf_putc(out, '"');
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
        /* quoted as init quotes it: a name YAML reads otherwise (yes, "a: b") or holding a
         * control character (ESC reached the terminal) */
        abuf_puts(&out->yaml, "      ");
        coverage_yaml_name(&out->yaml, cols[i].name);
        abuf_printf(&out->yaml, ": %s   # %s%s\n", coverage_default_rule(&cols[i]), cols[i].type,
                    cols[i].primary_key ? ", primary key" : "");
    }
    for (size_t j = 0; j < t->n_columns; j++) {
        const struct cfg_column *c = &t->columns[j];
        char name[64];
        bool found = false;
        for (size_t i = 0; i < n_cols && !found; i++)
            found = strcmp(cols[i].name, c->name) == 0;
        if (found)
            continue;
        out->n_missing++;
        yopts_shown(name, sizeof(name), c->name); /* a control character written "\x1b" */
        abuf_printf(&out->missing,
                    "%s:%d:%d: tables.%s.%s.columns.%s: no such column in the source\n",
                    config_path, c->line, c->column, t->schema, t->name, name);
    }
}

void coverage_report_free(struct coverage_report *r)
{
    abuf_free(&r->yaml);
    abuf_free(&r->missing);
}
