/*
 * sqltype.h: classify a source column's SQL type name, so rules can say which target
 * type they produce. Accepts the catalog spelling (format_type: "character varying(20)",
 * "timestamp with time zone", "numeric(10,2)") and the short aliases ("varchar", "int4",
 * "timestamptz"), case-insensitively. Array types ("text[]") are not classified here: the
 * engine applies a rule to the element type (see pgarray.h).
 */
#ifndef SQLTYPE_H
#define SQLTYPE_H

#include <stdbool.h>

/* text, varchar(n), character varying(n), char(n), character(n), bpchar, citext, name */
bool sqltype_is_text(const char *type);
/* smallint, integer, bigint and their int2/int4/int8/int/serial spellings */
bool sqltype_is_integer(const char *type);
/* 16, 32 or 64 for the integer types above, 0 for any other type (or NULL). */
int sqltype_int_bits(const char *type);
/* numeric, numeric(p,s), decimal(p,s) */
bool sqltype_is_numeric(const char *type);
/* real, double precision, float4, float8, float(n) */
bool sqltype_is_float(const char *type);
/* date */
bool sqltype_is_date(const char *type);
/* timestamp / timestamptz, with or without precision or time zone words */
bool sqltype_is_timestamp(const char *type);
/* json, jsonb */
bool sqltype_is_json(const char *type);

#endif
