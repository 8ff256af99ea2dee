/* dbtoken.c: `anonetl db-token` (see dbtoken.h). */
#include "etl/dbtoken.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/crypto.h>

#include "etl/awsauth.h"
#include "etl/exitcode.h"
#include "infra/rds_token.h"

static const char usage[] =
    "usage: anonetl db-token --host HOST [--port PORT] --user USER [--region REGION]\n"
    "  prints an RDS IAM authentication token (valid 15 minutes) for USER@HOST:PORT\n"
    "  (port default 5432; aliases --hostname, --username as in the AWS CLI)\n";

static int usage_error(const char *msg, const char *arg)
{
    fprintf(stderr, "anonetl db-token: %s%s\n%s", msg, arg ? arg : "", usage);
    return EXIT_USAGE;
}

int dbtoken_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"host", required_argument, NULL, 'H'},     {"hostname", required_argument, NULL, 'H'},
        {"port", required_argument, NULL, 'p'},     {"user", required_argument, NULL, 'u'},
        {"username", required_argument, NULL, 'u'}, {"region", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0}};
    const char *host = NULL, *user = NULL, *region = NULL;
    char token[RDS_TOKEN_MAX], *end;
    struct anon_error err;
    long port = 5432;
    int c;

    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'H':
            host = optarg;
            break;
        case 'p':
            errno = 0;
            port = strtol(optarg, &end, 10);
            if (errno || *end || port < 1 || port > 65535)
                return usage_error("--port: expected 1..65535, got ", optarg);
            break;
        case 'u':
            user = optarg;
            break;
        case 'r':
            region = optarg;
            break;
        case 'h':
            fputs(usage, stdout);
            return EXIT_OK;
        default:
            return usage_error("unknown option", NULL);
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument ", argv[optind]);
    if (!host || !user)
        return usage_error("--host and --user are required", NULL);
    anon_error_clear(&err);
    if (!awsauth_db_token(host, (int)port, user, region, awsauth_now(), "db-token", token,
                          sizeof(token), &err)) {
        fprintf(stderr, "anonetl %s\n", err.msg);
        return EXIT_INTERNAL;
    }
    printf("%s\n", token);
    OPENSSL_cleanse(token, sizeof(token));
    return fflush(stdout) == 0 ? EXIT_OK : EXIT_INTERNAL;
}
