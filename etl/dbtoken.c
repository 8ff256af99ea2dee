/* dbtoken.c: `anonetl db-token` (see dbtoken.h). */
#include "etl/dbtoken.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/crypto.h>

#include "etl/awsauth.h"
#include "etl/cli.h"
#include "etl/exitcode.h"
#include "etl/secret.h"
#include "infra/rds_token.h"

int dbtoken_main(int argc, char **argv)
{
    const char *host = NULL, *user = NULL, *region = NULL, *v;
    char token[RDS_TOKEN_MAX], *end;
    struct anon_error err;
    enum secret_failure why;
    struct cli_parser p;
    long port = 5432;
    int c;

    cli_parser_init(&p, "db-token", argc, argv);
    while ((c = cli_next(&p, &v)) > 0) {
        switch (c) {
        case 'H':
            host = v;
            break;
        case 'p':
            errno = 0;
            port = strtol(v, &end, 10);
            if (errno || *end || end == v || port < 1 || port > 65535)
                return cli_usage_error("db-token", "--port: expected 1..65535, got '%s'", v);
            break;
        case 'u':
            user = v;
            break;
        case 'r':
            region = v;
            break;
        }
    }
    if (c != CLI_DONE)
        return c == CLI_SHOWN_HELP ? EXIT_OK : EXIT_USAGE;
    if (!host || !user)
        return cli_usage_error("db-token", "%s", "--host and --user are required");
    /* what the token cannot be made for is the caller's mistake (2), not an internal one */
    if (!awsauth_token_host_ok(host))
        return cli_usage_error("db-token", "--host: expected one TCP host name, got '%s'", host);
    if (!*user)
        return cli_usage_error("db-token", "%s", "--user: the user name is empty");
    anon_error_clear(&err);
    if (!awsauth_db_token(host, (int)port, user, region, awsauth_now(), "db-token", token,
                          sizeof(token), &why, &err)) {
        fprintf(stderr, "anonetl %s\n", err.msg);
        /* 2: no region, a host, user or region no token can be made for (the caller's);
         * 3: no AWS credentials (the environment's), as a secret's exit codes */
        return secret_failure_exit(why);
    }
    printf("%s\n", token);
    OPENSSL_cleanse(token, sizeof(token));
    return fflush(stdout) == 0 ? EXIT_OK : EXIT_INTERNAL;
}
