/*
 * schema_cmd.h: `anonetl schema`: print the config's JSON Schema (draft 2020-12) on
 * stdout, for editors' YAML support, e.g. with the YAML language server:
 *   # yaml-language-server: $schema=./anonetl.schema.json
 * The schema comes from the loader's field tables and the rule registry
 * (anonymise/config_jsonschema.h).
 */
#ifndef SCHEMA_CMD_H
#define SCHEMA_CMD_H

/* Returns an exit code (exitcode.h). argv[0] is "schema". */
int schema_main(int argc, char **argv);

#endif
