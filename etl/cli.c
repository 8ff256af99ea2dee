/*
 * cli.c: every command's options, and the one parser that reads them (see cli.h).
 *
 * getopt_long does the matching (long names, unique prefixes, -j4 and --jobs=4 forms);
 * its own messages are off (opterr = 0) because they cannot say which command they are
 * about nor print its usage.
 */
#include "etl/cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "etl/preflight.h"

const struct cli_option cli_common_options[] = {
    {"config", 'c', "FILE", "the config: a file or s3://BUCKET/KEY (default: $ANONETL_CONFIG)",
     CLI_CONFIG, NULL},
    {"log-format", 0, "F", "log format (default: text on a terminal, json otherwise)",
     CLI_LOG_FORMAT, "text, json"},
    {"verbose", 'v', NULL, "debug messages", CLI_VERBOSE, NULL},
    {NULL, 0, NULL, NULL, 0, NULL},
};

static const struct cli_option help_option = {"help", 'h', NULL, "this help", CLI_HELP_OPT, NULL};

static const struct cli_option run_options[] = {
    {"skip-preflight", 0, NULL, "do not run the preflight checks first", 'S', NULL},
    {"full-refresh", 0, NULL, "reload every table in full (incremental ones too)", 'F', NULL},
    {"jobs", 'j', "N", "copy with N workers, 1..64 (default: run.jobs, else 1)", 'j', NULL},
    {"metrics", 0, "F", "also print metric lines on stdout: CloudWatch embedded metric format", 'M',
     "emf"},
    {NULL, 0, NULL, NULL, 0, NULL},
};

static const struct cli_option check_options[] = {
    {"source", 0, NULL,
     "also check against the source: catalog, types, where: (read only, copies nothing)", 's',
     NULL},
    {NULL, 0, NULL, NULL, 0, NULL},
};

static const struct cli_option explain_options[] = {
    {"no-source", 0, NULL, "do not connect to the source (rules only, no types)", 'n', NULL},
    {NULL, 0, NULL, NULL, 0, NULL},
};

static const struct cli_option preflight_options[] = {
    {"json", 0, NULL, "one JSON document instead of lines", 'J', NULL},
    {"only", 0, "GROUP,...", "run only these check groups, comma separated", 'o',
     preflight_group_names},
    {"repair", 0, NULL, "print the AWS repair plan for what failed", 'R', NULL},
    {"yes", 0, NULL, "with --repair: apply the plan", 'y', NULL},
    {NULL, 0, NULL, NULL, 0, NULL},
};

static const struct cli_option status_options[] = {
    {"json", 0, NULL, "one JSON document", 'J', NULL},
    {"limit", 'n', "N", "the N most recent runs, 1..1000 (default 10)", 'n', NULL},
    {NULL, 0, NULL, NULL, 0, NULL},
};

static const struct cli_option audit_options[] = {
    {"sample", 'n', "N",
     "source rows sampled per table, 1..1000000 (default: run.audit.sample, else 1000)", 'n', NULL},
    {NULL, 0, NULL, NULL, 0, NULL},
};

static const struct cli_option init_options[] = {
    {"source-dsn", 'd', "DSN", "the source (default: $SOURCE_DATABASE_URL)", 'd', NULL},
    {"schema", 's', "S", "the source schema to describe (default: public)", 's', NULL},
    {"output", 'o', "FILE", "write the config there (default: standard output)", 'o', NULL},
    {"force", 'f', NULL, "overwrite FILE", 'f', NULL},
    {NULL, 0, NULL, NULL, 0, NULL},
};

static const struct cli_option preview_options[] = {
    {"config", 'c', "FILE", "the config: a file or s3://BUCKET/KEY (default: $ANONETL_CONFIG)",
     CLI_CONFIG, NULL},
    {"table", 't', "T", "the configured table: SCHEMA.TABLE, or TABLE when one schema has it", 't',
     NULL},
    {"limit", 'n', "N", "sampled rows, 1..1000 (default 10)", 'n', NULL},
    {"json", 0, NULL, "JSON output (default when stdout is not a terminal)", 'J', NULL},
    {"text", 0, NULL, "aligned text output (default on a terminal)", 'T', NULL},
    {"random-key", 0, NULL, "hash with a random key (the default): no pseudonym the run publishes",
     'R', NULL},
    {"real-key", 0, NULL,
     "hash with the configured key: source values beside their published pseudonyms (keep "
     "it out of tickets)",
     'K', NULL},
    {NULL, 0, NULL, NULL, 0, NULL},
};

static const struct cli_option dbtoken_options[] = {
    {"host", 0, "HOST", "the database host", 'H', NULL},
    {"hostname", 0, "HOST", "the same as --host (as in the AWS CLI)", 'H', NULL},
    {"port", 0, "PORT", "the database port (default 5432)", 'p', NULL},
    {"user", 0, "USER", "the database user", 'u', NULL},
    {"username", 0, "USER", "the same as --user (as in the AWS CLI)", 'u', NULL},
    {"region", 0, "REGION",
     "the AWS region (default: the RDS host name's, else AWS_REGION or the profile's)", 'r', NULL},
    {NULL, 0, NULL, NULL, 0, NULL},
};

static const struct cli_option no_options[] = {{NULL, 0, NULL, NULL, 0, NULL}};

const struct cli_command cli_commands[] = {
    {"run", "copy and anonymise every configured table, then publish them at once",
     "run -c FILE [--skip-preflight] [--full-refresh] [--jobs N] [--metrics emf]", run_options,
     true},
    {"check", "validate the config (with --source: against the source catalog)",
     "check -c FILE [--source]", check_options, true},
    {"explain", "show each column's rule, source and target types, and each table's COPY format",
     "explain -c FILE [--no-source]", explain_options, true},
    {"preflight",
     "check the network, the AWS path (peering, routes, groups, ACLs) and database access",
     "preflight -c FILE [--json] [--only GROUP,...] [--repair [--yes]]", preflight_options, true},
    {"status", "recent runs: outcome, rows per table, high-water marks, key fingerprint",
     "status -c FILE [--json] [--limit N]", status_options, true},
    {"audit", "search the published tables for sampled source values that rules should hide",
     "audit -c FILE [--sample N]", audit_options, true},
    {"init", "write a safe-by-default config for every table and column of a source schema",
     "init [--source-dsn DSN] [--schema S] [-o FILE [--force]]", init_options, false},
    {"preview", "before/after of sampled rows of one table (shows SOURCE values: PII)",
     "preview -c FILE --table T [--limit N] [--json|--text] [--real-key]", preview_options, false},
    {"schema", "print the config's JSON Schema (for editors' YAML support)", "schema", no_options,
     false},
    {"db-token", "print an RDS IAM authentication token (as aws rds generate-db-auth-token)",
     "db-token --host HOST [--port PORT] --user USER [--region REGION]", dbtoken_options, false},
    {"help", "show help for a command", "help [COMMAND]", no_options, false},
};

const size_t cli_n_commands = sizeof(cli_commands) / sizeof(cli_commands[0]);

const struct cli_command *cli_find(const char *name)
{
    for (size_t i = 0; i < cli_n_commands; i++)
        if (strcmp(cli_commands[i].name, name) == 0)
            return &cli_commands[i];
    return NULL;
}

static void help_line(const struct cli_option *o, FILE *out)
{
    char left[64];

    snprintf(left, sizeof(left), "%c%c%c --%s%s%s", o->short_name ? '-' : ' ',
             o->short_name ? o->short_name : ' ', o->short_name ? ',' : ' ', o->name,
             o->arg ? " " : "", o->arg ? o->arg : "");
    fprintf(out, "  %-26s %s", left, o->help);
    if (o->values)
        fprintf(out, " (one of: %s)", o->values);
    fputc('\n', out);
}

void cli_help(const struct cli_command *c, FILE *out)
{
    fprintf(out, "usage: anonetl %s\n\n%s\n", c->usage, c->summary);
    if (strcmp(c->name, "help") == 0)
        return;
    fputs("\noptions:\n", out);
    if (c->common)
        for (const struct cli_option *o = cli_common_options; o->name; o++)
            help_line(o, out);
    for (const struct cli_option *o = c->options; o->name; o++)
        help_line(o, out);
    help_line(&help_option, out);
}

static void add_option(struct cli_parser *p, const struct cli_option *o)
{
    size_t len = strlen(p->optstring);

    if (p->n >= CLI_MAX_OPTIONS)
        return; /* the tables above stay far below; test_cli checks it */
    p->all[p->n] = o;
    p->longopts[p->n] =
        (struct option){o->name, o->arg ? required_argument : no_argument, NULL, (int)(256 + p->n)};
    if (o->short_name) {
        p->optstring[len++] = o->short_name;
        if (o->arg)
            p->optstring[len++] = ':';
        p->optstring[len] = '\0';
    }
    p->n++;
}

void cli_parser_init(struct cli_parser *p, const char *name, int argc, char **argv)
{
    memset(p, 0, sizeof(*p));
    p->cmd = cli_find(name);
    p->argc = argc;
    p->argv = argv;
    p->optstring[0] = ':'; /* a missing value is ':', an unknown option '?' */
    if (p->cmd && p->cmd->common)
        for (const struct cli_option *o = cli_common_options; o->name; o++)
            add_option(p, o);
    for (const struct cli_option *o = p->cmd ? p->cmd->options : no_options; o->name; o++)
        add_option(p, o);
    add_option(p, &help_option);
    optind = 0; /* GNU getopt: start over (tests parse several command lines) */
    opterr = 0;
}

int cli_usage_error(const char *name, const char *fmt, ...)
{
    const struct cli_command *c = cli_find(name);
    va_list ap;

    fprintf(stderr, "anonetl %s: ", name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nusage: anonetl %s\n(anonetl help %s lists every option)\n",
            c ? c->usage : name, name);
    return 2;
}

const char *cli_config_from_env(void)
{
    const char *v = getenv("ANONETL_CONFIG");

    return v && *v ? v : NULL;
}

/* The option a short name stands for. */
static const struct cli_option *by_short(const struct cli_parser *p, int ch)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->all[i]->short_name && p->all[i]->short_name == ch)
            return p->all[i];
    return NULL;
}

/* Remember the value; false, said, when the option had another one: `run -c a.yaml -c
 * b.yaml` ran b.yaml (the last one), unpublishing a.yaml's tables from a shared schema. */
static bool given_once(struct cli_parser *p, const struct cli_option *o, const char *value)
{
    size_t i;

    for (i = 0; i < p->n_given && p->given[i].id != o->id; i++)
        ;
    if (i == p->n_given) {
        if (p->n_given < CLI_MAX_OPTIONS)
            p->given[p->n_given++] = (struct cli_given){o->id, value};
        return true;
    }
    if (strcmp(p->given[i].value, value) == 0)
        return true;
    /* the values are not shown: --source-dsn's may hold a password */
    cli_usage_error(p->cmd ? p->cmd->name : "?", "--%s given twice, with two values: give one",
                    o->name);
    return false;
}

int cli_next(struct cli_parser *p, const char **value)
{
    const char *name = p->cmd ? p->cmd->name : "?";
    const struct cli_option *o;
    int c = getopt_long(p->argc, p->argv, p->optstring, p->longopts, NULL);

    *value = NULL;
    if (c == -1) {
        if (optind < p->argc) {
            cli_usage_error(name, "unexpected argument '%s'", p->argv[optind]);
            return CLI_FAILED;
        }
        return CLI_DONE;
    }
    if (c == '?') {
        cli_usage_error(name, "unknown option '%s'", p->argv[optind - 1]);
        return CLI_FAILED;
    }
    if (c == ':') {
        cli_usage_error(name, "option '%s' needs a value", p->argv[optind - 1]);
        return CLI_FAILED;
    }
    o = c >= 256 && (size_t)(c - 256) < p->n ? p->all[c - 256] : by_short(p, c);
    if (!o) {
        cli_usage_error(name, "unknown option '%s'", p->argv[optind - 1]);
        return CLI_FAILED;
    }
    if (o->id == CLI_HELP_OPT) {
        cli_help(p->cmd, stdout);
        return CLI_SHOWN_HELP;
    }
    if (o->arg && !given_once(p, o, optarg))
        return CLI_FAILED;
    *value = o->arg ? optarg : NULL;
    return o->id;
}
