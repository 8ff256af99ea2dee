/*
 * pgconn.h: libpq, wrapped once for both sides (after pg_dump's pg_backup_db.c).
 *
 * pgconn_params_build turns a config database (dsn or host/port/...) into libpq
 * keyword/value arrays, with secrets resolved. pgconn_open connects with them, pins the
 * session settings that make text output (and so hashes) deterministic, sets a safe
 * search_path, and routes server notices to the logger. pgconn_exec runs one statement
 * (extended protocol: never more than one), checks the expected status, and on mismatch
 * reports the server message redacted (pgerror.h: no value, no DETAIL, no SQL text) with
 * the statement's kind; every PGresult is cleared.
 */
#ifndef PGCONN_H
#define PGCONN_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "anonymise/abuf.h"
#include "anonymise/config.h"
#include "etl/secret.h"

#define PGCONN_MAX_PARAMS 40

/* libpq keyword/value arrays (NULL-terminated); the strings are owned and wiped on free,
 * since one of them may be the password. */
struct pgconn_params {
    const char *keywords[PGCONN_MAX_PARAMS + 1];
    const char *values[PGCONN_MAX_PARAMS + 1];
    int n;
    bool failed; /* sticky: out of memory or too many parameters */
};

/* host and port as libpq will use them ("" / "5432" defaults), for messages and probes. */
const char *pgconn_params_get(const struct pgconn_params *p, const char *keyword);
bool pgconn_params_build(const struct cfg_db *db, const char *what, struct pgconn_params *p,
                         struct anon_error *err) ANON_MUST_CHECK;
void pgconn_params_free(struct pgconn_params *p);
/* Everything pgconn_params_build checks, without connecting nor fetching an IAM token:
 * every secret reference resolves (a missing variable, file or secret is named, never
 * its value) and the TLS requirement holds. Before the preflight: a failure is a config
 * error (exit 2), unless a secret could not be fetched for a reason that is not the
 * config's (Secrets Manager unreachable, credentials refused: exit 3); *why says which
 * (secret_failure_exit). */
bool pgconn_params_check(const struct cfg_db *db, const char *what, enum secret_failure *why,
                         struct anon_error *err) ANON_MUST_CHECK;

/* Once, at start-up, before any thread: take out of the process environment the variables
 * libpq sends as session settings (PGTZ, PGDATESTYLE, PGGEQO). The server applies them
 * after the startup options, so they would override the pinned TimeZone and DateStyle:
 * the source's time zone misread (incremental windows), dates in another text form
 * (pseudonyms). The first connection logs which were ignored. */
void pgconn_pin_environment(void);

/* Connect, pin session settings. `side` is "source" or "target" (messages, logs). */
PGconn *pgconn_open(const struct cfg_db *db, const char *side, struct anon_error *err);
void pgconn_close(PGconn *conn);
/* A setting as a new session gets it without anonetl's pinned options (the server's,
 * database's and role's defaults): e.g. the source's TimeZone, the zone its writers stamp
 * `timestamp without time zone` values in. Opens and closes a connection. */
bool pgconn_default_setting(const struct cfg_db *db, const char *side, const char *name, char *out,
                            size_t out_len, struct anon_error *err) ANON_MUST_CHECK;

/* Run one statement (no parameters); ok when the status is `expect`. */
bool pgconn_exec(PGconn *conn, const char *sql, ExecStatusType expect,
                 struct anon_error *err) ANON_MUST_CHECK;
/* Run one statement with text parameters; the result (caller PQclear) or NULL. */
PGresult *pgconn_query(PGconn *conn, const char *sql, int nparams, const char *const *params,
                       ExecStatusType expect, struct anon_error *err) ANON_MUST_CHECK;
/* The same for a statement built in *sql, which it frees: NULL with "out of memory" when
 * building it ran out. */
PGresult *pgconn_query_built(PGconn *conn, struct abuf *sql, int nparams, const char *const *params,
                             ExecStatusType expect, struct anon_error *err) ANON_MUST_CHECK;
/* Run a script of several statements compiled into anonetl (the target bootstrap): the
 * simple protocol. Never for text that holds anything from the config. */
bool pgconn_exec_script(PGconn *conn, const char *script, struct anon_error *err) ANON_MUST_CHECK;
/* Append a quoted identifier ("schema"."name" parts quoted separately). */
bool pgconn_quote_ident(PGconn *conn, const char *ident, struct abuf *out);
/* The SQLSTATE of the last error reported by pgconn_exec/query on this thread ("" none). */
const char *pgconn_last_sqlstate(void);

#endif
