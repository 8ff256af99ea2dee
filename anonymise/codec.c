/* codec.c: the list of binary codecs and type-name lookup (see codec.h). */
#include "anonymise/codec.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const struct codec *const all[] = {
    &codec_int2,        &codec_int4,
    &codec_int8,        &codec_float4,
    &codec_float8,      &codec_numeric,
    &codec_date,        &codec_time,
    &codec_timetz,      &codec_timestamp,
    &codec_timestamptz, &codec_interval,
    &codec_bool,        &codec_uuid,
    &codec_bytea,       &codec_text,
    &codec_varchar,     &codec_bpchar,
    &codec_name,        &codec_json,
    &codec_jsonb,       NULL,
};

/* Spellings format_type() and rules use, with their codec. */
static const struct {
    const char *name;
    const struct codec *codec;
} names[] = {
    {"smallint", &codec_int2},
    {"int2", &codec_int2},
    {"integer", &codec_int4},
    {"int", &codec_int4},
    {"int4", &codec_int4},
    {"bigint", &codec_int8},
    {"int8", &codec_int8},
    {"real", &codec_float4},
    {"float4", &codec_float4},
    {"double precision", &codec_float8},
    {"float8", &codec_float8},
    {"numeric", &codec_numeric},
    {"decimal", &codec_numeric},
    {"date", &codec_date},
    {"time", &codec_time},
    {"time without time zone", &codec_time},
    {"time with time zone", &codec_timetz},
    {"timetz", &codec_timetz},
    {"timestamp", &codec_timestamp},
    {"timestamp without time zone", &codec_timestamp},
    {"timestamp with time zone", &codec_timestamptz},
    {"timestamptz", &codec_timestamptz},
    {"boolean", &codec_bool},
    {"bool", &codec_bool},
    {"uuid", &codec_uuid},
    {"bytea", &codec_bytea},
    {"text", &codec_text},
    {"character varying", &codec_varchar},
    {"varchar", &codec_varchar},
    {"character", &codec_bpchar},
    {"bpchar", &codec_bpchar},
    {"name", &codec_name},
    {"json", &codec_json},
    {"jsonb", &codec_jsonb},
};

const struct codec *const *codec_all(void)
{
    return all;
}

const struct codec *codec_by_oid(uint32_t oid)
{
    for (size_t i = 0; all[i]; i++)
        if (all[i]->oid == oid)
            return all[i];
    return NULL;
}

/* type without its typmods ("(3)", "(12,2)") and trailing "[]", into buf. */
static bool base_name(const char *type, char *buf, size_t size, bool *is_array)
{
    size_t n = 0, len = strlen(type);
    int depth = 0;

    *is_array = len > 2 && strcmp(type + len - 2, "[]") == 0;
    if (*is_array)
        len -= 2;
    for (size_t i = 0; i < len; i++) {
        char c = type[i];
        if (c == '(') {
            depth++;
        } else if (c == ')') {
            if (depth-- == 0)
                return false;
        } else if (depth == 0) {
            if (c == '[' || n + 1 >= size)
                return false; /* a multi-dimension declaration, or too long */
            buf[n++] = c;
        }
    }
    while (n > 0 && buf[n - 1] == ' ')
        buf[n--] = '\0';
    buf[n] = '\0';
    return depth == 0 && n > 0;
}

const struct codec *codec_find(const char *type, bool *is_array)
{
    char base[64];

    *is_array = false;
    if (!type || !base_name(type, base, sizeof(base), is_array))
        return NULL;
    /* "interval year to month", "interval day to second": fields restrict the input,
     * the binary form is the same */
    if (strncasecmp(base, "interval", 8) == 0 && (base[8] == '\0' || base[8] == ' '))
        return &codec_interval;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcasecmp(base, names[i].name) == 0)
            return names[i].codec;
    return NULL;
}
