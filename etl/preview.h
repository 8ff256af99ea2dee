/*
 * preview.h: `anonetl preview -c FILE --table T [--limit N] [--json|--text]
 * [--random-key]`: a before/after of N sampled rows of one configured table: the source
 * values, then the same rows after the table's rules, exactly as `run` would write them
 * (same plan, same SELECT, same rules and key, arrays element by element).
 *
 * On a terminal: an aligned table per row (column, rule, before, after; long values cut,
 * control characters shown escaped). Otherwise: one JSON document.
 *
 * PRIVACY: the "before" side is source data, personal data included. The command is for
 * a data engineer who already has read access to the source; its output goes to stdout
 * only, is never logged, and should not be pasted into tickets or chats. Rows are a
 * Bernoulli sample (spread over the table, the first N that the scan meets), read in a
 * READ ONLY transaction.
 */
#ifndef PREVIEW_H
#define PREVIEW_H

/* Returns an exit code (exitcode.h). argv[0] is "preview". */
int preview_main(int argc, char **argv);

#endif
