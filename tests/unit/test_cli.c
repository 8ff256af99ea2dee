/* test_cli.c: every command's help lists exactly the options its parser accepts
 * (etl/cli). Both read one table; this checks that each option of the table is in the
 * help (long and short form), that the parser accepts each in both forms and returns
 * its id with its value, that no two options of a command share a name, and that what is
 * not in the table is refused: an unknown option, a stray argument, a missing value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etl/cli.h"

static char *help_of(const struct cli_command *c)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    assert_non_null(f);
    cli_help(c, f);
    fclose(f);
    return text;
}

/* Parse {name, args...}: the first result and its value. */
static int parse(const char *name, const char *a, const char *b, const char **value)
{
    char *argv[4] = {(char *)name, (char *)a, (char *)b, NULL};
    int argc = 1 + (a != NULL) + (b != NULL);
    struct cli_parser p;

    cli_parser_init(&p, name, argc, argv);
    return cli_next(&p, value);
}

static void check_option(const struct cli_command *c, const struct cli_option *o, const char *help)
{
    char want[80];
    const char *v;

    snprintf(want, sizeof(want), "--%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
    if (!strstr(help, want))
        fail_msg("anonetl help %s does not list %s", c->name, want);
    if (o->short_name) {
        snprintf(want, sizeof(want), "-%c, --%s", o->short_name, o->name);
        if (!strstr(help, want))
            fail_msg("anonetl help %s does not list %s", c->name, want);
    }
    if (o->values && !strstr(help, o->values))
        fail_msg("anonetl help %s: --%s does not list its values", c->name, o->name);
    snprintf(want, sizeof(want), "--%s", o->name);
    assert_int_equal(parse(c->name, want, o->arg ? "VALUE" : NULL, &v), o->id);
    if (o->arg)
        assert_string_equal(v, "VALUE");
    else
        assert_null(v);
    if (o->short_name) {
        snprintf(want, sizeof(want), "-%c", o->short_name);
        assert_int_equal(parse(c->name, want, o->arg ? "VALUE" : NULL, &v), o->id);
    }
    if (o->arg) { /* without its value */
        snprintf(want, sizeof(want), "--%s", o->name);
        assert_int_equal(parse(c->name, want, NULL, &v), CLI_FAILED);
    }
}

static void test_help_lists_every_accepted_option(void **state)
{
    (void)state;
    for (size_t i = 0; i < cli_n_commands; i++) {
        const struct cli_command *c = &cli_commands[i];
        char *help = help_of(c);
        size_t n = 0;
        if (strcmp(c->name, "help") != 0) {
            assert_non_null(strstr(help, "-h, --help"));
            if (c->common)
                for (const struct cli_option *o = cli_common_options; o->name; o++, n++)
                    check_option(c, o, help);
            for (const struct cli_option *o = c->options; o->name; o++, n++)
                check_option(c, o, help);
        }
        assert_true(n + 1 <= CLI_MAX_OPTIONS);
        free(help);
    }
}

static void test_names_are_unique_per_command(void **state)
{
    (void)state;
    for (size_t i = 0; i < cli_n_commands; i++) {
        const struct cli_command *c = &cli_commands[i];
        const struct cli_option *all[CLI_MAX_OPTIONS];
        size_t n = 0;
        if (c->common)
            for (const struct cli_option *o = cli_common_options; o->name; o++)
                all[n++] = o;
        for (const struct cli_option *o = c->options; o->name; o++)
            all[n++] = o;
        for (size_t a = 0; a < n; a++) {
            assert_true(strcmp(all[a]->name, "help") != 0 && all[a]->short_name != 'h');
            assert_true(all[a]->id > 0);
            for (size_t b = a + 1; b < n; b++) {
                if (strcmp(all[a]->name, all[b]->name) == 0 ||
                    (all[a]->short_name && all[a]->short_name == all[b]->short_name))
                    fail_msg("%s: --%s and --%s clash", c->name, all[a]->name, all[b]->name);
            }
        }
    }
}

static void test_everything_else_is_refused(void **state)
{
    const char *v;

    (void)state;
    for (size_t i = 0; i < cli_n_commands; i++) {
        const char *name = cli_commands[i].name;
        if (strcmp(name, "help") == 0)
            continue; /* takes a command name: main.c */
        assert_int_equal(parse(name, "--no-such-option", NULL, &v), CLI_FAILED);
        assert_int_equal(parse(name, "-Z", NULL, &v), CLI_FAILED);
        assert_int_equal(parse(name, "stray", NULL, &v), CLI_FAILED);
        assert_int_equal(parse(name, NULL, NULL, &v), CLI_DONE);
    }
    /* a stray argument after options, as in `run -c f.yaml extra` */
    {
        char *argv[] = {"run", "-c", "f.yaml", "extra", NULL};
        struct cli_parser p;
        cli_parser_init(&p, "run", 4, argv);
        assert_int_equal(cli_next(&p, &v), CLI_CONFIG);
        assert_string_equal(v, "f.yaml");
        assert_int_equal(cli_next(&p, &v), CLI_FAILED);
    }
}

/* One value per option: `run -c a.yaml -c b.yaml` ran b.yaml, unsaid; the same value
 * twice passes; aliases (--host, --hostname) are one option; flags may repeat. */
static void test_two_values_are_refused(void **state)
{
    const char *v;

    (void)state;
    {
        char *argv[] = {"run", "-c", "a.yaml", "--config=b.yaml", NULL};
        struct cli_parser p;
        cli_parser_init(&p, "run", 4, argv);
        assert_int_equal(cli_next(&p, &v), CLI_CONFIG);
        assert_int_equal(cli_next(&p, &v), CLI_FAILED);
    }
    {
        char *argv[] = {"run", "-c", "a.yaml", "-c", "a.yaml", "-v", "-v", NULL};
        struct cli_parser p;
        cli_parser_init(&p, "run", 7, argv);
        assert_int_equal(cli_next(&p, &v), CLI_CONFIG);
        assert_int_equal(cli_next(&p, &v), CLI_CONFIG);
        assert_string_equal(v, "a.yaml");
        assert_int_equal(cli_next(&p, &v), CLI_VERBOSE);
        assert_int_equal(cli_next(&p, &v), CLI_VERBOSE);
        assert_int_equal(cli_next(&p, &v), CLI_DONE);
    }
    {
        char *argv[] = {"db-token", "--host", "a", "--user", "u", "--hostname", "b", NULL};
        struct cli_parser p;
        cli_parser_init(&p, "db-token", 7, argv);
        assert_int_equal(cli_next(&p, &v), 'H');
        assert_int_equal(cli_next(&p, &v), 'u');
        assert_int_equal(cli_next(&p, &v), CLI_FAILED);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help_lists_every_accepted_option),
        cmocka_unit_test(test_names_are_unique_per_command),
        cmocka_unit_test(test_everything_else_is_refused),
        cmocka_unit_test(test_two_values_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
