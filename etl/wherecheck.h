/*
 * wherecheck.h: what a table's `where:` calls and reads, asked of the source after the
 * server accepted it (plan.c) and from its words (anonymise/sqlexpr.h).
 *
 * Every table: no volatile function. The snapshot is read only, yet pg_notify, dblink,
 * lo_from_bytea, set_config, pg_advisory_lock, pg_sleep or pg_terminate_backend still
 * run there, and a function handed row values can send them anywhere; random() makes
 * the published set change by chance.
 *
 * Incremental tables that do not read every key again (deletes: none or soft): the
 * filter must depend on the row alone. Such a run only re-reads rows whose watermark
 * moved, so a row that stops matching because of something else - another table
 * (EXISTS (SELECT ... FROM consents)), the clock (now(), current_date, age(...),
 * 'today'), a function that is not immutable - would stay published for good. Allowed:
 * the table's own columns, constants, operators, immutable functions and the words of
 * expressions (AND, CASE, IN, CAST, ...); anything else needs deletes: key_scan.
 */
#ifndef WHERECHECK_H
#define WHERECHECK_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "anonymise/abuf.h"
#include "anonymise/config.h"
#include "etl/catalog.h"

/* False (the reasons appended to report as "file:line:col: tables.S.T.where: ...") when
 * the where: of t breaks a rule above; also when the source cannot be asked. */
bool wherecheck_table(PGconn *conn, const struct config *cfg, const struct cfg_table *t,
                      const struct catalog_table *cat, struct abuf *report);

/* The same rule for what the source relation is: a view, materialized view or foreign
 * table is a filter of its own over tables anonetl does not watch (a view joining a
 * consents table drops a member when the consent is withdrawn, the member row
 * untouched). So is a table whose row level security applies to the source role (its
 * own, a partition's or an inheritance child's: catalog.h, rls_relation): a policy may
 * read another table, current_user, now() or a setting. Incremental with deletes: none
 * or soft: false, the reason in report. */
bool wherecheck_relation(const struct config *cfg, const struct cfg_table *t,
                         const struct catalog_table *cat, struct abuf *report);

#endif
