/*
 * pgerror.h: what anonetl may say about a PostgreSQL error.
 *
 * Server errors quote the values that caused them: `invalid input syntax for type
 * integer: "open"`, a unique violation's DETAIL `Key (email)=(a@b.c) already exists`,
 * a check constraint's `Failing row contains (...)`, a trigger's RAISE with NEW.email in
 * its text, a CONTEXT quoting the statement. Every message anonetl logs or stores in
 * anonetl.runs.error goes through here, so none of that reaches a log line or the
 * target: kept are the SQLSTATE, the primary message with quoted text removed (names
 * the server also reports as fields - table, column, constraint, type - survive), and
 * those names. DETAIL, HINT, CONTEXT and the statement are never used, and a message
 * raised by PL code (a trigger's RAISE) is withheld whole: its text is free-form, and so
 * are the names it may attach (RAISE ... USING COLUMN = NEW.email): not shown. So is
 * one raised by a statement PL code ran (CONTEXT names a PL function) or a function ran
 * for the query (an internal query: query_to_xml, ts_stat): SQL built from a value makes
 * it a name the message prints unquoted (`column l.alice does not exist`). So is a
 * message the server translated (lc_messages: `la relation « alice » n'existe pas`), or
 * one holding text other than ASCII outside quotes and known names: translations quote
 * values with marks the cut does not know.
 */
#ifndef PGERROR_H
#define PGERROR_H

#include <libpq-fe.h>
#include <stddef.h>

/* Redact one server message into out (always NUL-terminated, one line, valid UTF-8).
 * Quoted text ("..." or '...') is kept only when it is exactly one of `known` (names
 * from the error's own fields); the first other quote ends the message with "…". */
void pgerror_redact(const char *msg, const char *const *known, size_t n_known, char *out,
                    size_t size);

/* A redacted message, in place: kept up to its first ": " (where PostgreSQL puts the
 * value it is about) and every word holding a digit masked as "#". Some values are
 * printed without quotes: `date field value out of range: 2024-13-45` (22008),
 * `requested character too large for encoding: 1114112` (54000), `character with byte
 * sequence 0xe2 0x82 0xac in encoding ...` (22P05). pgerror_describe applies it to every
 * SQLSTATE class but those whose messages only name the session, the transaction or
 * objects (connection, transaction state and rollback, syntax and access, resources,
 * operator intervention, system and internal errors); those are still cut at their first
 * ": ", where a name cast from a value goes (to_regclass(v): `improper relation name (too
 * many dotted names): a.b.c.d`, 42601). */
void pgerror_mask_unquoted(char *msg);

/* Describe a failed result, or (res NULL) the connection's last error:
 * "<redacted message> (SQLSTATE 23505, table public.t, constraint t_pkey)". */
void pgerror_describe(const PGresult *res, const PGconn *conn, char *out, size_t size);

#endif
