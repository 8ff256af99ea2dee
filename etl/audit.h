/*
 * audit.h: the leak audit. Samples source values that the rules are meant to hide and
 * searches the data about to be published (or already published) for them: a hit means
 * a rule let a source value through, and names the table, the column and its rule, never
 * the value.
 *
 * Inside a run (`run.audit: { sample: N }`), in this order:
 *   1. audit_new, then audit_sample on the leader's source connection, in the run's
 *      snapshot, before any row moves: per table, N rows picked at random
 *      (TABLESAMPLE SYSTEM over about 4N rows, then ORDER BY random()), each column
 *      whose rule is not `keep` run through its rule; what the rule hid becomes a
 *      sampled value (anonymise/leakset.h says which values are searched):
 *        - a value the rule changed: the whole value, plus the parts of it the output
 *          no longer holds (what scrub replaced, what mask hid);
 *        - json/jsonb: each string leaf the output no longer holds, and with
 *          `others: keep` each string leaf no path names (published as it is, but
 *          nothing decided it may be);
 *        - arrays: each element the output no longer holds;
 *      a value its own rule publishes unchanged (a short value under truncate, a text
 *      with nothing to scrub) is not hidden by that rule and is not sampled.
 *   2. Each copy task scans the rows it writes (audit_scanner, one per task; in an
 *      incremental run, the changed rows): every
 *      published column that can hold source text (any rule but hash, hash_int,
 *      suppress, constant; text, json, uuid, inet, integer types and text arrays) is
 *      compared with the sampled values, and text is searched for them. No extra query:
 *      the rows are looked at once, on their way to the target.
 *   3. Before the publish, audit_hits: any hit fails the run with exit 6 (nothing is
 *      published) and audit_report says where; audit_record stores the counts in
 *      anonetl.runs.
 * `anonetl audit` (audit_main) samples the same way and reads the published tables.
 *
 * The sampled values live only in this process's memory and are wiped when freed; no
 * log line, error or target row ever holds one.
 */
#ifndef AUDIT_H
#define AUDIT_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "anonymise/abuf.h"
#include "anonymise/anon_error.h"
#include "anonymise/config.h"
#include "anonymise/rule.h"
#include "etl/plan.h"

#define AUDIT_DEFAULT_SAMPLE 1000

struct audit;
struct audit_scanner;

/* An audit of the given tables (plans stay owned by the caller and must outlive it),
 * sampling `sample` rows per table. NULL when out of memory. */
struct audit *audit_new(const struct table_plan *const *plans, size_t n, int sample);
void audit_free(struct audit *a);

/* Step 1 (see above). ctx gives the key and the run time (column/row are ignored). */
bool audit_sample(struct audit *a, PGconn *source, const struct rule_ctx *ctx,
                  struct anon_error *err) ANON_MUST_CHECK;
/* Distinct values searched, after audit_sample. */
uint64_t audit_sampled(const struct audit *a);

/* Step 2: a scanner of the rows written for `plan` (one of the audit's tables, in the
 * plan's COPY format). NULL when out of memory or plan is not one of them. Scanners of
 * different tasks may run at once on several threads. */
struct audit_scanner *audit_scanner_new(struct audit *a, const struct table_plan *plan);
void audit_scanner_free(struct audit_scanner *s);
/* One COPY row as sent to the target (text: with or without its "\n"; binary: the
 * field count and the fields). */
void audit_scan_row(struct audit_scanner *s, const char *row, size_t len);

/* Step 3. Columns with at least one hit, and the report naming each (no values). */
uint64_t audit_hits(const struct audit *a);
void audit_report(const struct audit *a, struct abuf *out);
/* Store the sampled count and the hits in anonetl.runs (run_id). */
bool audit_record(PGconn *target, int64_t run_id, const struct audit *a,
                  struct anon_error *err) ANON_MUST_CHECK;

/* `anonetl audit`: sample the source, search the published tables; an exit code. */
int audit_main(const struct config *cfg, int sample);

#endif
