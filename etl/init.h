/*
 * init.h: `anonetl init --source-dsn DSN [--schema S] [-o FILE]`: write a complete,
 * safe-by-default config for every table and column of a source schema.
 *
 * Every column is `suppress` except primary key columns (`hash_int` for integer keys,
 * `hash` for others: anonymise/coverage.h's coverage_default_rule), each with its
 * source type as a comment. The header has the version, and source, target and
 * secrets as { env: ... } placeholders: the DSN given on the command line is only used
 * to read the catalog and is never written (it may hold a password). Without
 * --source-dsn, $SOURCE_DATABASE_URL is used (a password on the command line shows in
 * `ps`). -o FILE never overwrites an existing file unless --force is given.
 */
#ifndef INIT_H
#define INIT_H

/* Returns an exit code (exitcode.h). argv[0] is "init". */
int init_main(int argc, char **argv);

#endif
