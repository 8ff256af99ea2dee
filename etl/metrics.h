/*
 * metrics.h: run metrics as CloudWatch embedded metric format (EMF) lines on stdout,
 * with `anonetl run --metrics emf`, so that ECS (awslogs) or any log shipper into
 * CloudWatch Logs turns them into metrics with no agent.
 *
 * One JSON object per line, namespace "anonetl":
 *   per table  dimensions [["Table"]]:   RowsRead, RowsWritten, RowsFiltered (Count),
 *                                        Duration (Seconds)
 *   per run    dimensions [["Outcome"]]: Runs (Count, always 1), RowsWritten (Count),
 *                                        Tables (Count), Duration (Seconds); plus the
 *                                        property ExitCode
 *   preflight  dimensions [["Check"]]:   PreflightDisagreements (Count): one line per EC2
 *                                        API result overruled by passing live probes
 * Outcome is success, skipped (exit 7), or failed (any other exit code); an alarm on
 * Runs{Outcome=failed} > 0 catches every failed run. Timestamps are milliseconds since
 * the epoch, as EMF requires. Logs stay on stderr, so stdout carries only these lines.
 * Disabled by default: every call is then a no-op.
 */
#ifndef METRICS_H
#define METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define METRICS_NAMESPACE "anonetl"

void metrics_enable_emf(bool on);
bool metrics_emf_enabled(void);
/* Where lines go (default stdout); for tests. */
void metrics_set_output(FILE *out);

void metrics_table(const char *table, uint64_t rows_read, uint64_t rows_written,
                   uint64_t rows_filtered, double elapsed_s);
void metrics_run(int exit_code, uint64_t rows, double elapsed_s, size_t tables);
/* The preflight's EC2 API view disagreed with live probes that passed (or the API could
 * not be reached): dimensions [["Check"]] (the check group, e.g. "path.route"), metric
 * PreflightDisagreements (Count, 1), property Subject. */
void metrics_preflight_disagreement(const char *check, const char *subject);

/* "success", "skipped" or "failed" for an exit code (exitcode.h). */
const char *metrics_outcome(int exit_code);

#endif
