/*
 * cli.h: the command line as data. Every command's options are one table here; the
 * parser (getopt_long, built from the table) and `anonetl help COMMAND` both read it, so
 * a command cannot accept an option its help does not list, nor list one it refuses.
 *
 * Parsing is strict and says what is wrong: an unknown option, an option without its
 * value, an unknown value of a closed list (--log-format), a stray argument
 * (`run -c f.yaml extra`) are each exit 2 with the command's usage.
 */
#ifndef CLI_H
#define CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct cli_option {
    const char *name;   /* long name, without "--" */
    char short_name;    /* 0: none */
    const char *arg;    /* the value's name in help ("FILE"); NULL: a flag */
    const char *help;   /* one line */
    int id;             /* what cli_next returns for it (> 0) */
    const char *values; /* optional: the accepted values, shown in help */
};

struct cli_command {
    const char *name;
    const char *summary;
    const char *usage;                /* after "anonetl " */
    const struct cli_option *options; /* {NULL}-terminated, without the common ones */
    bool common;                      /* also takes -c/--config, --log-format, -v/--verbose */
};

/* -c/--config, --log-format, -v/--verbose: the options of commands that read a config. */
extern const struct cli_option cli_common_options[];
extern const struct cli_command cli_commands[];
extern const size_t cli_n_commands;

/* Ids of the common options and of -h/--help (every command takes it). */
enum { CLI_CONFIG = 'c', CLI_LOG_FORMAT = 'L', CLI_VERBOSE = 'v', CLI_HELP_OPT = 'h' };

const struct cli_command *cli_find(const char *name);
/* "usage: ...", the summary, and every option with its help. */
void cli_help(const struct cli_command *c, FILE *out);

#define CLI_MAX_OPTIONS 32

struct cli_parser {
    const struct cli_command *cmd;
    int argc;
    char **argv;
    char optstring[2 * CLI_MAX_OPTIONS + 4];
    struct option longopts[CLI_MAX_OPTIONS + 1];
    const struct cli_option *all[CLI_MAX_OPTIONS + 1]; /* by index in longopts */
    size_t n;
    /* each value option's value so far, by id (aliases share one: --host, --hostname) */
    struct cli_given {
        int id;
        const char *value;
    } given[CLI_MAX_OPTIONS];
    size_t n_given;
};

enum { CLI_DONE = 0, CLI_SHOWN_HELP = -1, CLI_FAILED = -2 };

/* Start parsing argv[1..argc) (argv[0] is the command's name) for command `name`. */
void cli_parser_init(struct cli_parser *p, const char *name, int argc, char **argv);
/* The next option's id with its value in *value (NULL for a flag); CLI_DONE when every
 * argument was read; CLI_SHOWN_HELP after printing help (-h/--help) on stdout;
 * CLI_FAILED after printing the problem and the usage on stderr. An option given twice
 * with two values (`-c a.yaml -c b.yaml`) fails: one of them is a mistake (the same value
 * twice passes). */
int cli_next(struct cli_parser *p, const char **value);
/* Print "anonetl CMD: <message>" and the usage on stderr; returns exit code 2. */
int cli_usage_error(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* $ANONETL_CONFIG, the default of -c; NULL when it is unset or empty (a variable set to
 * nothing names no file). */
const char *cli_config_from_env(void);

#endif
