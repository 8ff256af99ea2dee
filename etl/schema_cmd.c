/* schema_cmd.c: `anonetl schema` (see schema_cmd.h). */
#include "etl/schema_cmd.h"

#include <stdio.h>
#include <string.h>

#include "anonymise/config_jsonschema.h"
#include "etl/exitcode.h"

int schema_main(int argc, char **argv)
{
    struct anon_error err = {0};
    struct abuf out;
    int code = EXIT_OK;

    (void)argv;
    if (argc > 1) {
        if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
            puts("usage: anonetl schema   (prints the config's JSON Schema)");
            return EXIT_OK;
        }
        fprintf(stderr, "anonetl schema: takes no arguments\nusage: anonetl schema\n");
        return EXIT_USAGE;
    }
    abuf_init(&out, 1 << 24);
    if (!config_jsonschema(&out, &err)) {
        fprintf(stderr, "anonetl schema: %s\n", err.msg);
        code = EXIT_INTERNAL;
    } else if (fwrite(out.data, 1, out.len, stdout) != out.len || fflush(stdout) != 0) {
        fprintf(stderr, "anonetl schema: writing stdout failed\n");
        code = EXIT_INTERNAL;
    }
    abuf_free(&out);
    return code;
}
