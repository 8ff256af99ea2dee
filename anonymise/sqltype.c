/* sqltype.c: SQL type name classification for rule output types (see sqltype.h). */
#include "anonymise/sqltype.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

/* Length of the type's base name: up to "(" or "[" (trailing blanks dropped). */
static size_t base_len(const char *t)
{
    size_t n = strcspn(t, "([");

    while (n > 0 && t[n - 1] == ' ')
        n--;
    return n;
}

static bool is_array(const char *t)
{
    return strchr(t, '[') != NULL;
}

/* Base name equals one of the NULL-terminated words (case-insensitive). */
static bool base_in(const char *t, const char *const *words)
{
    size_t n;

    if (!t || is_array(t))
        return false;
    n = base_len(t);
    for (size_t i = 0; words[i]; i++) /* first letters first: rules ask per value */
        if ((t[0] | 0x20) == words[i][0] && strlen(words[i]) == n &&
            strncasecmp(t, words[i], n) == 0)
            return true;
    return false;
}

bool sqltype_is_text(const char *type)
{
    static const char *const w[] = {"text",   "varchar",   "character varying",
                                    "char",   "character", "bpchar",
                                    "citext", "name",      NULL};
    return base_in(type, w);
}

bool sqltype_is_integer(const char *type)
{
    static const char *const w[] = {"smallint", "integer", "bigint",      "int",    "int2",
                                    "int4",     "int8",    "smallserial", "serial", "bigserial",
                                    "serial2",  "serial4", "serial8",     NULL};
    return base_in(type, w);
}

int sqltype_int_bits(const char *type)
{
    static const char *const w16[] = {"smallint", "int2", "smallserial", "serial2", NULL};
    static const char *const w64[] = {"bigint", "int8", "bigserial", "serial8", NULL};

    if (!sqltype_is_integer(type))
        return 0;
    return base_in(type, w16) ? 16 : base_in(type, w64) ? 64 : 32;
}

bool sqltype_is_numeric(const char *type)
{
    static const char *const w[] = {"numeric", "decimal", NULL};
    return base_in(type, w);
}

bool sqltype_is_float(const char *type)
{
    static const char *const w[] = {"real", "double precision", "float", "float4", "float8", NULL};
    return base_in(type, w);
}

bool sqltype_is_date(const char *type)
{
    static const char *const w[] = {"date", NULL};
    return base_in(type, w);
}

bool sqltype_is_timestamp(const char *type)
{
    static const char *const w[] = {"timestamp", "timestamptz", "timestamp with time zone",
                                    "timestamp without time zone", NULL};
    size_t n;

    if (!type || is_array(type))
        return false;
    if (base_in(type, w))
        return true;
    /* "timestamp(3) with time zone": precision in the middle */
    n = strlen("timestamp(");
    return strncasecmp(type, "timestamp(", n) == 0;
}

bool sqltype_is_json(const char *type)
{
    static const char *const w[] = {"json", "jsonb", NULL};
    return base_in(type, w);
}
