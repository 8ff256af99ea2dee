/*
 * main.c: the anonetl command line. The only place that exits; every command returns
 * an exit code from exitcode.h.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anonymise/config.h"
#include "etl/awsauth.h"
#include "etl/dbtoken.h"
#include "etl/exitcode.h"
#include "etl/init.h"
#include "etl/inspect.h"
#include "etl/log.h"
#include "etl/metrics.h"
#include "etl/preflight.h"
#include "etl/preview.h"
#include "etl/run.h"
#include "etl/schema_cmd.h"
#include "etl/status.h"
#include "etl/version.h"
#include "infra/aws_http.h"

struct command {
    const char *name;
    const char *summary;
    const char *usage;
    int (*main)(int argc, char **argv);
};

static const struct command *find_command(const char *name);

static const char common_help[] =
    "  -c, --config FILE   the config (default: $ANONETL_CONFIG)\n"
    "      --log-format F  text or json (default: text on a terminal, json otherwise)\n"
    "  -v, --verbose       debug messages\n";

/* Options shared by every command that reads a config. */
struct common {
    const char *config;
    enum log_format log_format;
    enum log_level level;
};

static bool parse_common(int c, struct common *co)
{
    switch (c) {
    case 'c':
        co->config = optarg;
        return true;
    case 'L':
        if (strcmp(optarg, "json") == 0)
            co->log_format = LOG_JSON;
        else if (strcmp(optarg, "text") == 0)
            co->log_format = LOG_TEXT;
        else
            return false;
        return true;
    case 'v':
        co->level = LOG_DEBUG;
        return true;
    }
    return false;
}

static int usage_error(const char *cmd, const char *fmt, const char *arg)
{
    const struct command *c = find_command(cmd);

    fprintf(stderr, "anonetl %s: ", cmd);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nusage: anonetl %s\n", c ? c->usage : "");
    return EXIT_USAGE;
}

/* Load the config named by -c or $ANONETL_CONFIG; errors go to stderr, all of them. */
static int load_config(const char *cmd, struct common *co, struct config **cfg)
{
    struct anon_error err;

    log_init(co->log_format, co->level);
    if (!co->config)
        co->config = getenv("ANONETL_CONFIG");
    if (!co->config)
        return usage_error(cmd, "%s", "no config: give -c FILE (or set ANONETL_CONFIG)");
    anon_error_clear(&err);
    if (!config_load(co->config, cfg, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        fprintf(stderr, "anonetl: %d problem%s in %s\n", err.count, err.count == 1 ? "" : "s",
                co->config);
        return EXIT_USAGE;
    }
    awsauth_set_region((*cfg)->aws ? (*cfg)->aws->region : NULL);
    return EXIT_OK;
}

#define COMMON_LONGOPTS                                                                            \
    {"config", required_argument, NULL, 'c'}, {"log-format", required_argument, NULL, 'L'},        \
        {"verbose", no_argument, NULL, 'v'},                                                       \
    {                                                                                              \
        "help", no_argument, NULL, 'h'                                                             \
    }

static int cmd_run(int argc, char **argv)
{
    static const struct option longopts[] = {COMMON_LONGOPTS,
                                             {"skip-preflight", no_argument, NULL, 'S'},
                                             {"full-refresh", no_argument, NULL, 'F'},
                                             {"jobs", required_argument, NULL, 'j'},
                                             {"metrics", required_argument, NULL, 'M'},
                                             {NULL, 0, NULL, 0}};
    struct common co = {0};
    struct run_options opt = {0};
    struct config *cfg;
    char *end;
    int c, code;

    while ((c = getopt_long(argc, argv, "c:vhj:", longopts, NULL)) != -1) {
        if (parse_common(c, &co))
            continue;
        switch (c) {
        case 'S':
            opt.skip_preflight = true;
            break;
        case 'F':
            opt.full_refresh = true;
            break;
        case 'j':
            opt.jobs = (int)strtol(optarg, &end, 10);
            if (*end || opt.jobs < 1 || opt.jobs > 64)
                return usage_error("run", "--jobs: expected 1..64, got '%s'", optarg);
            break;
        case 'M':
            if (strcmp(optarg, "emf") != 0)
                return usage_error("run", "--metrics: expected emf, got '%s'", optarg);
            metrics_enable_emf(true);
            break;
        case 'h':
            return usage_error("run", "%s", "help");
        default:
            return usage_error("run", "%s", "unknown option");
        }
    }
    if ((code = load_config("run", &co, &cfg)) != EXIT_OK)
        return code;
    code = run_main(cfg, &opt);
    config_free(cfg);
    return code;
}

static int cmd_check(int argc, char **argv)
{
    static const struct option longopts[] = {
        COMMON_LONGOPTS, {"source", no_argument, NULL, 's'}, {NULL, 0, NULL, 0}};
    struct common co = {0};
    struct config *cfg;
    bool with_source = false;
    int c, code;

    while ((c = getopt_long(argc, argv, "c:vh", longopts, NULL)) != -1) {
        if (parse_common(c, &co))
            continue;
        if (c == 's')
            with_source = true;
        else
            return usage_error("check", "%s", "unknown option");
    }
    if ((code = load_config("check", &co, &cfg)) != EXIT_OK)
        return code;
    code = inspect_check(cfg, with_source);
    config_free(cfg);
    return code;
}

static int cmd_explain(int argc, char **argv)
{
    static const struct option longopts[] = {
        COMMON_LONGOPTS, {"no-source", no_argument, NULL, 'n'}, {NULL, 0, NULL, 0}};
    struct common co = {0};
    struct config *cfg;
    bool with_source = true;
    int c, code;

    while ((c = getopt_long(argc, argv, "c:vh", longopts, NULL)) != -1) {
        if (parse_common(c, &co))
            continue;
        if (c == 'n')
            with_source = false;
        else
            return usage_error("explain", "%s", "unknown option");
    }
    if ((code = load_config("explain", &co, &cfg)) != EXIT_OK)
        return code;
    code = inspect_explain(cfg, with_source);
    config_free(cfg);
    return code;
}

static int cmd_preflight(int argc, char **argv)
{
    static const struct option longopts[] = {COMMON_LONGOPTS,
                                             {"json", no_argument, NULL, 'J'},
                                             {"only", required_argument, NULL, 'o'},
                                             {"repair", no_argument, NULL, 'R'},
                                             {"yes", no_argument, NULL, 'y'},
                                             {NULL, 0, NULL, 0}};
    struct common co = {0};
    struct preflight_options opt = {.color = true};
    struct anon_error err;
    struct config *cfg;
    int c, code;

    while ((c = getopt_long(argc, argv, "c:vh", longopts, NULL)) != -1) {
        if (parse_common(c, &co))
            continue;
        switch (c) {
        case 'J':
            opt.json = true;
            break;
        case 'o':
            opt.only = optarg;
            break;
        case 'R':
            opt.repair = true;
            break;
        case 'y':
            opt.yes = true;
            break;
        default:
            return usage_error("preflight", "%s", "unknown option");
        }
    }
    if (opt.yes && !opt.repair)
        return usage_error("preflight", "%s", "--yes only applies with --repair");
    if (!preflight_only_valid(opt.only, &err))
        return usage_error("preflight", "%s", err.msg);
    if ((code = load_config("preflight", &co, &cfg)) != EXIT_OK)
        return code;
    code = preflight_main(cfg, &opt);
    config_free(cfg);
    return code;
}

static int cmd_status(int argc, char **argv)
{
    static const struct option longopts[] = {COMMON_LONGOPTS,
                                             {"json", no_argument, NULL, 'J'},
                                             {"limit", required_argument, NULL, 'n'},
                                             {NULL, 0, NULL, 0}};
    struct common co = {0};
    struct config *cfg;
    bool json = false;
    int c, code, limit = 10;
    char *end;

    while ((c = getopt_long(argc, argv, "c:vhn:", longopts, NULL)) != -1) {
        if (parse_common(c, &co))
            continue;
        if (c == 'J') {
            json = true;
        } else if (c == 'n') {
            limit = (int)strtol(optarg, &end, 10);
            if (*end || limit < 1 || limit > 1000)
                return usage_error("status", "--limit: expected 1..1000, got '%s'", optarg);
        } else {
            return usage_error("status", "%s", "unknown option");
        }
    }
    if ((code = load_config("status", &co, &cfg)) != EXIT_OK)
        return code;
    code = status_main(cfg, json, limit);
    config_free(cfg);
    return code;
}

static int cmd_help(int argc, char **argv);

static const struct command commands[] = {
    {"run", "copy and anonymise every configured table, then publish them at once",
     "run -c FILE [--skip-preflight] [--full-refresh] [--jobs N] [--metrics emf]", cmd_run},
    {"check", "validate the config (with --source: against the source catalog)",
     "check -c FILE [--source]", cmd_check},
    {"explain", "show each column's rule, source type and target type",
     "explain -c FILE [--no-source]", cmd_explain},
    {"preflight", "check the network, AWS peering, routes and database access",
     "preflight -c FILE [--json] [--only GROUP,...] [--repair [--yes]]", cmd_preflight},
    {"status", "recent runs: outcome, rows per table, high-water marks, key fingerprint",
     "status -c FILE [--json] [--limit N]", cmd_status},
    {"init", "write a safe-by-default config for every table and column of a source schema",
     "init [--source-dsn DSN] [--schema S] [-o FILE [--force]]", init_main},
    {"preview", "before/after of sampled rows of one table (shows SOURCE values: PII)",
     "preview -c FILE --table T [--limit N] [--json|--text] [--random-key]", preview_main},
    {"schema", "print the config's JSON Schema (for editors' YAML support)", "schema", schema_main},
    {"db-token", "print an RDS IAM authentication token (as aws rds generate-db-auth-token)",
     "db-token --host HOST [--port PORT] --user USER [--region REGION]", dbtoken_main},
    {"help", "show help for a command", "help [COMMAND]", cmd_help},
};

static const struct command *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static void print_usage(FILE *out)
{
    fprintf(out,
            "anonetl %s: copy production PostgreSQL data into an anonymised database\n\n"
            "usage: anonetl COMMAND [OPTIONS]\n\ncommands:\n",
            ANONETL_VERSION);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out,
            "\ncommon options:\n%s\nexit codes: 0 ok, 1 internal error, 2 usage or "
            "config error, 3 preflight failed,\n  4 source error, 5 target error, 6 "
            "policy violation, 7 skipped (another run holds the lock)\n",
            common_help);
}

static int cmd_help(int argc, char **argv)
{
    const struct command *c;

    if (argc < 2) {
        print_usage(stdout);
        return EXIT_OK;
    }
    c = find_command(argv[1]);
    if (!c) {
        fprintf(stderr, "anonetl help: unknown command '%s'\n", argv[1]);
        return EXIT_USAGE;
    }
    printf("usage: anonetl %s\n\n%s\n", c->usage, c->summary);
    /* The common options belong to the commands that read a config. */
    if (strstr(c->usage, "-c FILE"))
        printf("\noptions:\n%s", common_help);
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    const struct command *c;
    struct infra_error ierr;
    int code;

    if (argc < 2) {
        print_usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("anonetl %s\n", ANONETL_VERSION);
        return EXIT_OK;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        print_usage(stdout);
        return EXIT_OK;
    }
    c = find_command(argv[1]);
    if (!c) {
        fprintf(stderr, "anonetl: unknown command '%s'\n\n", argv[1]);
        print_usage(stderr);
        return EXIT_USAGE;
    }
    /* A peer closing a TLS or COPY socket must be an error return, not a silent death. */
    signal(SIGPIPE, SIG_IGN);
    if (!aws_http_global_init(&ierr)) {
        fprintf(stderr, "anonetl: %s\n", ierr.msg);
        return EXIT_INTERNAL;
    }
    code = c->main(argc - 1, argv + 1);
    aws_http_global_cleanup();
    return code;
}
