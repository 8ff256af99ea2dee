/*
 * catalog.h: what the source catalog says about a configured table: its columns in
 * order, their SQL types (format_type), NOT NULL, and the primary key.
 */
#ifndef CATALOG_H
#define CATALOG_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "anonymise/anon_error.h"

struct catalog_column {
    char *name;
    char *type; /* format_type(): "bigint", "character varying(80)", "text[]" */
    bool not_null;
    int pk_position; /* 1-based position in the primary key, 0 when not part of it */
    /* the source type is not built in, or is a catalog reference (regclass, ...):
     * `type` is what the target uses (text), `declared_type` names the source's */
    bool remapped;
    /* The built-in type whose binary form the source sends (enums: "text"), or NULL when
     * none is known (composites, extension types): see catalog.c. */
    char *wire_type;
    bool wire_exact; /* that binary form is valid binary input for `type` as it is */
    /* The column as the source declares it (format_type, domains and enums by name; a
     * composite, or an array of composites, followed by its attributes: "public.addr
     * {city text, owner text}") and its number: a column dropped and added again, or
     * retyped, is a changed column even when `type` reads the same (increment.h, source
     * layout). */
    char *declared_type;
    int attnum;
    int typmod; /* of `type` (varchar(5): 9), -1 when it has none */
    /* An enum column's labels (a domain over an enum, an array of either too), in sort
     * order, as a JSON array of strings; a composite's, those of its enum attributes (and
     * arrays of them); NULL for other types. ALTER TYPE ... RENAME VALUE
     * changes what every row publishes with no row's watermark moving (increment.h). */
    char *enum_labels;
};

struct catalog_table {
    char *schema;
    char *name;
    unsigned int oid; /* pg_class.oid as the snapshot shows it */
    char relkind;
    double est_rows;     /* pg_class.reltuples (planning only) */
    long long est_bytes; /* pg_relation_size (largest first in parallel runs) */
    /* Row level security decides which rows this role reads: the table as regclass
     * prints it (quoted, qualified) when its policies apply to the role; NULL when they
     * do not (no RLS, or the role is a superuser, has BYPASSRLS, or owns the table and it
     * is not FORCEd). A partition's own policies do not filter a read of its parent. */
    char *rls_relation;
    /* the role may SELECT the table, or every column of it; role and relation (quoted,
     * the relation qualified): for a GRANT in messages */
    bool readable;
    char role[140];
    char relation[300];
    struct catalog_column *columns;
    size_t n_columns;
    size_t n_pk;
};

/* Read one table. A missing table is an error naming it. */
bool catalog_read(PGconn *conn, const char *schema, const char *name, struct catalog_table **out,
                  struct anon_error *err) ANON_MUST_CHECK;
void catalog_free(struct catalog_table *t);
const struct catalog_column *catalog_find(const struct catalog_table *t, const char *name);
/* The column's type as the source declares it (domains and enums by name). */
const char *catalog_column_type(const struct catalog_column *c);
/* Whether two type names (format_type) hold the same kind of values on the source: the
 * same pg_type category (numbers, strings, dates and times, booleans, json and other user
 * types...), an array's followed by its elements'. integer and bigint are one kind,
 * integer and text two; a name the source no longer knows is a kind of its own, and so
 * is a composite whose attributes changed (catalog_column.declared_type).
 * Returns 1, 0, or -1 on a source error. */
int catalog_same_kind(PGconn *conn, const char *a, const char *b, struct anon_error *err);
/* A composite's type as an earlier anonetl recorded it, its nested composites not listed
 * yet ("public.stay {nights integer, at public.place}"), against the same type now
 * ("... public.place {city text}"): `now` is `was` and what follows its attributes. */
bool catalog_nested_unrecorded(const char *was, const char *now);

#endif
