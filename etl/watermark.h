/*
 * watermark.h: an incremental table's watermark column, and what the source says of it.
 *
 * The kind of the column (a date, a timestamp with or without time zone, an integer) and
 * the source's queries about its "family": the relations whose writers can change what
 * the table shows (the table, its partitions and inheritance children, for a view the
 * tables it reads) and the sequences that fill the column (serial, identity, OWNED BY, a
 * default calling nextval()). increment.c reads them to bound a run's window and to decide
 * a reload, watermarkcheck.c to tell `check --source` what makes a watermark unsafe; both
 * ask the same catalog questions, so the SQL is written once, here.
 *
 * Every query takes the table (quoted, qualified) and the watermark column as $1, $2.
 */
#ifndef WATERMARK_H
#define WATERMARK_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "anonymise/abuf.h"
#include "etl/plan.h"

enum watermark_kind {
    WATERMARK_NONE, /* no such column, or not a type a window can compare */
    WATERMARK_TIMESTAMPTZ,
    WATERMARK_TIMESTAMP, /* a local time of the source's default time zone */
    WATERMARK_DATE,
    WATERMARK_INTEGER /* smallint, integer, bigint: ids from a sequence */
};

struct watermark {
    enum watermark_kind kind;
    const char *type; /* format_type() text: "timestamp(0) without time zone" */
    int precision;    /* fractional second digits of a timestamp, 0..6 */
    bool not_null;
};

/* The kind of a format_type() text, and a timestamp's fractional digits (precision may be
 * NULL; left as it is for other types). */
enum watermark_kind watermark_kind_of_type(const char *type, int *precision);
/* The plan's watermark column as the source catalog shows it (kind WATERMARK_NONE when the
 * table has none). */
struct watermark watermark_of(const struct table_plan *plan);

/* An integer watermark's lag: the config's; unset, 0 where every writer's locks are seen,
 * CFG_DEFAULT_WATERMARK_LAG_MS where some are not (blind: a standby source, a foreign
 * table among the relations read, or one a logical replication subscription writes). */
long watermark_integer_lag_ms(const struct cfg_table *t, bool blind);

/* Append the config table's schema.name, each part quoted. */
bool watermark_quote_table(PGconn *conn, const struct cfg_table *t, struct abuf *sql);

/* Run sql with the table and its watermark column as $1, $2; NULL (err set) on failure. */
PGresult *watermark_query(PGconn *conn, const struct table_plan *plan, const char *sql,
                          struct anon_error *err);

/* One row: the oids of the family and of its sequences ("oid,oid,..."), then the number
 * of foreign tables among the family and the first by name, then the same of the tables
 * a logical replication subscription writes. */
PGresult *watermark_family(PGconn *conn, const struct table_plan *plan, struct anon_error *err);
/* From a watermark_family result: "" when no foreign table is read; otherwise its name,
 * with how many others. */
void watermark_foreign_member(const PGresult *fam, char *out, size_t len);
/* The same for the tables a subscription writes (the source is a logical replica). */
void watermark_replicated_member(const PGresult *fam, char *out, size_t len);

/* One row: JSON [[oid, relfilenode, name], ...] of the family's relations with storage
 * and, with a fourth item "sequence", of its sequences; NULL when there is none. */
PGresult *watermark_storage(PGconn *conn, const struct table_plan *plan, struct anon_error *err);

/* A row per sequence filling the column, by name: name (regclass text), seqcache,
 * seqincrement, seqcycle ('t'/'f'). */
PGresult *watermark_sequences(PGconn *conn, const struct table_plan *plan, struct anon_error *err);
/* A row per sequence filling the column that the source role may read (SELECT): schema,
 * name, seqincrement, regclass text. */
PGresult *watermark_readable_sequences(PGconn *conn, const struct table_plan *plan,
                                       struct anon_error *err);
/* Does the sequence of row i of watermark_readable_sequences hand out an id at or below
 * mark next? */
bool watermark_sequence_behind(PGconn *src, PGresult *seqs, int i, const char *mark, bool *behind,
                               struct anon_error *err) ANON_MUST_CHECK;

#endif
