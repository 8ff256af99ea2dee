/*
 * main.c: the anonetl command line. The only place that exits; every command returns
 * an exit code from exitcode.h.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "anonymise/config.h"
#include "anonymise/suggest.h"
#include "etl/audit.h"
#include "etl/awsauth.h"
#include "etl/cli.h"
#include "etl/configsrc.h"
#include "etl/dbtoken.h"
#include "etl/exitcode.h"
#include "etl/init.h"
#include "etl/inspect.h"
#include "etl/log.h"
#include "etl/metrics.h"
#include "etl/pgconn.h"
#include "etl/preflight.h"
#include "etl/preview.h"
#include "etl/run.h"
#include "etl/schema_cmd.h"
#include "etl/status.h"
#include "etl/version.h"
#include "infra/aws_http.h"

/* The commands' names, summaries, usages and options are in etl/cli.c (one table for
 * the parser and the help); here, what each one runs. */
struct command {
    const char *name;
    int (*main)(int argc, char **argv);
};

/*
 * The process holds the hash key's HMAC states and database passwords: no core file may
 * carry them to disk, and no other process of the same user may read its memory or
 * environment (a non-dumpable process is also closed to ptrace and /proc/PID/mem,
 * environ). Under AddressSanitizer the leak checker must ptrace the process, so the
 * test build keeps it dumpable; the core size limit applies to every build.
 */
static void no_core_dumps(void)
{
    struct rlimit none = {0, 0}, now;

    if (getrlimit(RLIMIT_CORE, &now) != 0 || now.rlim_cur != 0 || now.rlim_max != 0)
        (void)setrlimit(RLIMIT_CORE, &none);
#if !defined(__SANITIZE_ADDRESS__)
    (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
}

/* Options shared by every command that reads a config. */
struct common {
    const char *config;
    enum log_format log_format;
    bool verbose; /* -v: debug events too; else info and above */
};

/* A common option (true when c was one); a bad value is reported, *code = 2. */
static bool parse_common(const char *cmd, int c, const char *value, struct common *co, int *code)
{
    switch (c) {
    case CLI_CONFIG:
        co->config = value;
        return true;
    case CLI_LOG_FORMAT:
        if (strcmp(value, "json") == 0)
            co->log_format = LOG_JSON;
        else if (strcmp(value, "text") == 0)
            co->log_format = LOG_TEXT;
        else
            *code = cli_usage_error(cmd, "unknown log format '%s' (known: text, json)", value);
        return true;
    case CLI_VERBOSE:
        co->verbose = true;
        return true;
    }
    return false;
}

/* The end of a command's option loop: 0 to go on, else the exit code. */
static int parse_end(int c, int code)
{
    if (code != EXIT_OK)
        return code;
    return c == CLI_SHOWN_HELP ? -1 : c == CLI_FAILED ? EXIT_USAGE : EXIT_OK;
}

/* Load the config named by -c or $ANONETL_CONFIG; errors go to stderr, all of them. */
static int load_config(const char *cmd, struct common *co, struct config **cfg)
{
    struct anon_error err;

    log_init(co->log_format, co->verbose ? LOG_DEBUG : LOG_INFO);
    if (!co->config)
        co->config = cli_config_from_env();
    if (!co->config)
        return cli_usage_error(cmd, "%s", "no config: give -c FILE (or set ANONETL_CONFIG)");
    if (!*co->config)
        return cli_usage_error(cmd, "%s", "-c: the config's path is empty");
    anon_error_clear(&err);
    if (!configsrc_load(co->config, cfg, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        fprintf(stderr, "anonetl: %d problem%s in %s\n", err.count, err.count == 1 ? "" : "s",
                co->config);
        return configsrc_failure_exit();
    }
    awsauth_set_region((*cfg)->aws ? (*cfg)->aws->region : NULL);
    return EXIT_OK;
}

static int cmd_run(int argc, char **argv)
{
    struct common co = {0};
    struct run_options opt = {0};
    struct cli_parser p;
    struct config *cfg;
    const char *v;
    char *end;
    int c = CLI_DONE, code = EXIT_OK;

    cli_parser_init(&p, "run", argc, argv);
    while (code == EXIT_OK && (c = cli_next(&p, &v)) > 0) {
        if (parse_common("run", c, v, &co, &code))
            continue;
        switch (c) {
        case 'S':
            opt.skip_preflight = true;
            break;
        case 'F':
            opt.full_refresh = true;
            break;
        case 'j':
            opt.jobs = (int)strtol(v, &end, 10);
            if (*end || end == v || opt.jobs < 1 || opt.jobs > 64)
                code = cli_usage_error("run", "--jobs: expected 1..64, got '%s'", v);
            break;
        case 'M':
            if (strcmp(v, "emf") != 0)
                code = cli_usage_error("run", "--metrics: expected emf, got '%s'", v);
            else
                metrics_enable_emf(true);
            break;
        }
    }
    if ((code = parse_end(c, code)) != EXIT_OK)
        return code < 0 ? EXIT_OK : code;
    if ((code = load_config("run", &co, &cfg)) != EXIT_OK)
        return code;
    code = run_main(cfg, &opt);
    config_free(cfg);
    return code;
}

static int cmd_check(int argc, char **argv)
{
    struct common co = {0};
    struct cli_parser p;
    struct config *cfg;
    bool with_source = false;
    const char *v;
    int c = CLI_DONE, code = EXIT_OK;

    cli_parser_init(&p, "check", argc, argv);
    while (code == EXIT_OK && (c = cli_next(&p, &v)) > 0)
        if (!parse_common("check", c, v, &co, &code) && c == 's')
            with_source = true;
    if ((code = parse_end(c, code)) != EXIT_OK)
        return code < 0 ? EXIT_OK : code;
    if ((code = load_config("check", &co, &cfg)) != EXIT_OK)
        return code;
    code = inspect_check(cfg, with_source);
    config_free(cfg);
    return code;
}

static int cmd_explain(int argc, char **argv)
{
    struct common co = {0};
    struct cli_parser p;
    struct config *cfg;
    bool with_source = true;
    const char *v;
    int c = CLI_DONE, code = EXIT_OK;

    cli_parser_init(&p, "explain", argc, argv);
    while (code == EXIT_OK && (c = cli_next(&p, &v)) > 0)
        if (!parse_common("explain", c, v, &co, &code) && c == 'n')
            with_source = false;
    if ((code = parse_end(c, code)) != EXIT_OK)
        return code < 0 ? EXIT_OK : code;
    if ((code = load_config("explain", &co, &cfg)) != EXIT_OK)
        return code;
    code = inspect_explain(cfg, with_source);
    config_free(cfg);
    return code;
}

static int cmd_preflight(int argc, char **argv)
{
    struct common co = {0};
    struct preflight_options opt = {.color = true};
    struct anon_error err;
    struct cli_parser p;
    struct config *cfg;
    const char *v;
    int c = CLI_DONE, code = EXIT_OK;

    cli_parser_init(&p, "preflight", argc, argv);
    while (code == EXIT_OK && (c = cli_next(&p, &v)) > 0) {
        if (parse_common("preflight", c, v, &co, &code))
            continue;
        switch (c) {
        case 'J':
            opt.json = true;
            break;
        case 'o':
            opt.only = v;
            break;
        case 'R':
            opt.repair = true;
            break;
        case 'y':
            opt.yes = true;
            break;
        }
    }
    if ((code = parse_end(c, code)) != EXIT_OK)
        return code < 0 ? EXIT_OK : code;
    if (opt.yes && !opt.repair)
        return cli_usage_error("preflight", "%s", "--yes only applies with --repair");
    if (!preflight_only_valid(opt.only, &err))
        return cli_usage_error("preflight", "%s", err.msg);
    if ((code = load_config("preflight", &co, &cfg)) != EXIT_OK)
        return code;
    code = preflight_main(cfg, &opt);
    config_free(cfg);
    return code;
}

static int cmd_status(int argc, char **argv)
{
    struct common co = {0};
    struct cli_parser p;
    struct config *cfg;
    bool json = false;
    int c = CLI_DONE, code = EXIT_OK, limit = 10;
    const char *v;
    char *end;

    cli_parser_init(&p, "status", argc, argv);
    while (code == EXIT_OK && (c = cli_next(&p, &v)) > 0) {
        if (parse_common("status", c, v, &co, &code))
            continue;
        if (c == 'J') {
            json = true;
        } else if (c == 'n') {
            limit = (int)strtol(v, &end, 10);
            if (*end || end == v || limit < 1 || limit > 1000)
                code = cli_usage_error("status", "--limit: expected 1..1000, got '%s'", v);
        }
    }
    if ((code = parse_end(c, code)) != EXIT_OK)
        return code < 0 ? EXIT_OK : code;
    if ((code = load_config("status", &co, &cfg)) != EXIT_OK)
        return code;
    code = status_main(cfg, json, limit);
    config_free(cfg);
    return code;
}

static int cmd_audit(int argc, char **argv)
{
    struct common co = {0};
    struct cli_parser p;
    struct config *cfg;
    long sample = 0;
    const char *v;
    char *end;
    int c = CLI_DONE, code = EXIT_OK;

    cli_parser_init(&p, "audit", argc, argv);
    while (code == EXIT_OK && (c = cli_next(&p, &v)) > 0) {
        if (parse_common("audit", c, v, &co, &code) || c != 'n')
            continue;
        sample = strtol(v, &end, 10);
        if (*end || end == v || sample < 1 || sample > 1000000)
            code = cli_usage_error("audit", "--sample: expected 1..1000000, got '%s'", v);
    }
    if ((code = parse_end(c, code)) != EXIT_OK)
        return code < 0 ? EXIT_OK : code;
    if ((code = load_config("audit", &co, &cfg)) != EXIT_OK)
        return code;
    if (sample == 0)
        sample = cfg->run.audit ? cfg->run.audit->sample : AUDIT_DEFAULT_SAMPLE;
    code = audit_main(cfg, (int)sample);
    config_free(cfg);
    return code;
}

/* "unknown command": an option written first (`anonetl -c f.yaml check`), or the command
 * nearest a typo (`Check`, `chekc`, `preveiw`). */
static void unknown_command(const char *prog, const char *word)
{
    const char *names[64], *near = NULL, *hint = "";
    size_t n = 0;

    for (size_t i = 0; i < cli_n_commands && n + 1 < sizeof(names) / sizeof(names[0]); i++)
        names[n++] = cli_commands[i].name;
    names[n] = NULL;
    if (word[0] == '-' && !prog)
        hint = " (the command comes first: anonetl COMMAND [OPTIONS])";
    else if ((near = suggest_word(word, names)) != NULL)
        hint = " (did you mean ";
    fprintf(stderr, "anonetl%s%s: unknown command '%s'%s%s%s\n", prog ? " " : "", prog ? prog : "",
            word, hint, near ? near : "", near ? "?)" : "");
}

static int cmd_help(int argc, char **argv);

static const struct command commands[] = {
    {"run", cmd_run},         {"check", cmd_check},
    {"explain", cmd_explain}, {"preflight", cmd_preflight},
    {"status", cmd_status},   {"audit", cmd_audit},
    {"init", init_main},      {"preview", preview_main},
    {"schema", schema_main},  {"db-token", dbtoken_main},
    {"help", cmd_help},
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
    for (size_t i = 0; i < cli_n_commands; i++)
        fprintf(out, "  %-10s %s\n", cli_commands[i].name, cli_commands[i].summary);
    fputs("\ncommon options (commands that read a config):\n", out);
    for (const struct cli_option *o = cli_common_options; o->name; o++)
        fprintf(out, "  %s%c%s--%s%s%s  %s\n", o->short_name ? "-" : " ",
                o->short_name ? o->short_name : ' ', o->short_name ? ", " : "  ", o->name,
                o->arg ? " " : "", o->arg ? o->arg : "", o->help);
    fprintf(out, "\n`anonetl help COMMAND` lists every option of a command.\n"
                 "exit codes: 0 ok, 1 internal error, 2 usage or config error, 3 preflight "
                 "failed,\n  4 source error, 5 target error, 6 policy violation, 7 skipped "
                 "(another run holds the lock)\n");
}

static int cmd_help(int argc, char **argv)
{
    const struct cli_command *c;

    if (argc < 2) {
        print_usage(stdout);
        return EXIT_OK;
    }
    if (argc > 2)
        return cli_usage_error("help", "unexpected argument '%s'", argv[2]);
    c = cli_find(argv[1]);
    if (!c) {
        unknown_command("help", argv[1]);
        return EXIT_USAGE;
    }
    cli_help(c, stdout);
    return EXIT_OK;
}

/*
 * What a command printed must have been written: `explain > f` on a full disk, `status
 * --json | consumer` whose consumer died, `preflight --json | head -1` ended with exit 0
 * and an incomplete output (SIGPIPE is ignored, so a closed pipe is a write error here).
 * A command that failed keeps its own exit code.
 */
static int stdout_written(const char *cmd, int code)
{
    int flushed = fflush(stdout), why = errno;

    if (flushed == 0 && !ferror(stdout))
        return code;
    if (flushed != 0)
        fprintf(stderr, "anonetl %s: writing stdout failed (%s): the output is incomplete\n", cmd,
                strerror(why));
    else
        fprintf(stderr, "anonetl %s: writing stdout failed: the output is incomplete\n", cmd);
    return code == EXIT_OK ? EXIT_INTERNAL : code;
}

int main(int argc, char **argv)
{
    const struct command *c;
    struct infra_error ierr;
    bool help;
    int code;

    if (argc < 2) {
        print_usage(stderr);
        return EXIT_USAGE;
    }
    help = strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0;
    /* A peer closing a TLS or COPY socket must be an error return, not a silent death;
     * a closed stdout too (stdout_written). */
    signal(SIGPIPE, SIG_IGN);
    if (help || strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        if (argc > 2) {
            fprintf(stderr, "anonetl %s: unexpected argument '%s'\n", argv[1], argv[2]);
            return EXIT_USAGE;
        }
        if (help)
            print_usage(stdout);
        else
            printf("anonetl %s\n", ANONETL_VERSION);
        return stdout_written(argv[1], EXIT_OK);
    }
    c = find_command(argv[1]);
    if (!c) {
        unknown_command(NULL, argv[1]);
        fputc('\n', stderr);
        print_usage(stderr);
        return EXIT_USAGE;
    }
    pgconn_pin_environment();
    no_core_dumps();
    if (!aws_http_global_init(&ierr)) {
        fprintf(stderr, "anonetl: %s\n", ierr.msg);
        return EXIT_INTERNAL;
    }
    code = stdout_written(argv[1], c->main(argc - 1, argv + 1));
    aws_http_global_cleanup();
    return code;
}
