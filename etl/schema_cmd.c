/* schema_cmd.c: `anonetl schema` (see schema_cmd.h). */
#include "etl/schema_cmd.h"

#include <stdio.h>
#include <string.h>

#include "anonymise/config_jsonschema.h"
#include "etl/cli.h"
#include "etl/exitcode.h"

int schema_main(int argc, char **argv)
{
    struct anon_error err = {0};
    struct cli_parser p;
    struct abuf out;
    const char *v;
    int c, code = EXIT_OK;

    cli_parser_init(&p, "schema", argc, argv);
    while ((c = cli_next(&p, &v)) > 0)
        ;
    if (c != CLI_DONE)
        return c == CLI_SHOWN_HELP ? EXIT_OK : EXIT_USAGE;
    abuf_init(&out, 1 << 24);
    if (!config_jsonschema(&out, &err)) {
        fprintf(stderr, "anonetl schema: %s\n", err.msg);
        code = EXIT_INTERNAL;
    } else if (fwrite(out.data, 1, out.len, stdout) != out.len || fflush(stdout) != 0) {
        fprintf(stderr, "anonetl schema: writing stdout failed\n");
        clearerr(stdout); /* said: main's own check of stdout need not say it again */
        code = EXIT_INTERNAL;
    }
    abuf_free(&out);
    return code;
}
