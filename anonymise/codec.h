/*
 * codec.h: built-in PostgreSQL types between their binary form (what the type's
 * send/recv functions exchange, what COPY ... (FORMAT binary) carries) and their text
 * output under anonetl's pinned session settings (DateStyle=ISO, TimeZone=UTC,
 * IntervalStyle=postgres, extra_float_digits=3, bytea_output=hex, lc_monetary=C,
 * array_nulls=on, xmloption=content, quote_all_identifiers=off, client_encoding UTF8;
 * see etl/pgconn.c).
 *
 * Why: the copy moves every table in binary COPY when each of its columns has a codec,
 * so neither server formats or parses text for columns that are kept, and a rule column
 * costs one conversion on our side instead of two text round trips on the servers'.
 * A rule works on the form it needs: text rules on the exact text the text path would
 * have given them (to_text), date rules on day numbers and microseconds (to_time,
 * pgtime.h), and the rule's output goes back to the target's binary form (from_text,
 * from_time). Output is identical on both paths: to_text reproduces the server's output
 * byte for byte (tests/unit/vectors/codecs holds the server's own answers), and
 * from_text builds exactly the value the server's input function would.
 *
 * One module per family (codec_int.c, codec_float.c, codec_numeric.c,
 * codec_datetime.c, codec_interval.c, codec_text.c, codec_bool.c, codec_uuid.c,
 * codec_bytea.c; arrays of any of them in codec_array.c), listed once in codec.c.
 * Every function is bounded by its input length and never reads past it: binary input
 * comes from the network.
 */
#ifndef CODEC_H
#define CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "anonymise/abuf.h"

struct pgtime;

struct codec {
    const char *name;   /* the type's name as format_type() prints it, without typmod */
    uint32_t oid;       /* pg_type.oid: fixed for built-in types, the same on every server */
    uint32_t array_oid; /* the OID of its array type */
    /* The binary form is the text output byte for byte (text, varchar, json, enums):
     * the engine then uses the bytes as they are. */
    bool text_like;
    /* Binary -> text output, appended to out. false when bin is not a valid binary value
     * of the type (or out failed). */
    bool (*to_text)(const char *bin, size_t len, struct abuf *out);
    /* Text -> binary, appended to out. Accepts at least every text to_text writes and
     * the plain forms rules write ("12", "-1.5", "NaN"); false when the text is not
     * accepted or out of the type's range (the target would reject it too). */
    bool (*from_text)(const char *text, size_t len, struct abuf *out);
    /* The direct form of date, timestamp and timestamptz (pgtime.h); NULL for others.
     * from_time is false when the value is outside the type's range. */
    bool (*to_time)(const char *bin, size_t len, struct pgtime *t);
    bool (*from_time)(const struct pgtime *t, struct abuf *out);
};

/* The codec of a type as format_type() spells it ("numeric(12,2)", "character
 * varying(20)", "timestamp(3) with time zone", "integer[]"): for an array type, the
 * codec of its element and *is_array set. NULL when the type has none. */
const struct codec *codec_find(const char *type, bool *is_array);
/* The codec of a type by OID (array elements carry their element type's OID). */
const struct codec *codec_by_oid(uint32_t oid);
/* Every codec (NULL-terminated), for tests and benchmarks. */
const struct codec *const *codec_all(void);

/* Big-endian readers and writers shared by the codecs. */
static inline uint16_t codec_get16(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;

    return (uint16_t)(u[0] << 8 | u[1]);
}
static inline uint32_t codec_get32(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;

    return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
}
static inline uint64_t codec_get64(const char *p)
{
    return (uint64_t)codec_get32(p) << 32 | codec_get32(p + 4);
}
static inline bool codec_put16(struct abuf *out, uint16_t v)
{
    char b[2] = {(char)(v >> 8), (char)v};

    return abuf_append(out, b, 2);
}
static inline bool codec_put32(struct abuf *out, uint32_t v)
{
    char b[4] = {(char)(v >> 24), (char)(v >> 16), (char)(v >> 8), (char)v};

    return abuf_append(out, b, 4);
}
static inline bool codec_put64(struct abuf *out, uint64_t v)
{
    return codec_put32(out, (uint32_t)(v >> 32)) && codec_put32(out, (uint32_t)v);
}

/* The family tables (each codec_<family>.c defines its own). */
extern const struct codec codec_int2, codec_int4, codec_int8;
extern const struct codec codec_float4, codec_float8;
extern const struct codec codec_numeric;
extern const struct codec codec_date, codec_timestamp, codec_timestamptz, codec_time, codec_timetz;
extern const struct codec codec_interval;
extern const struct codec codec_text, codec_varchar, codec_bpchar, codec_name, codec_json,
    codec_jsonb;
extern const struct codec codec_bool;
extern const struct codec codec_uuid;
extern const struct codec codec_bytea;

#endif
