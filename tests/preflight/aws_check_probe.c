/*
 * aws_check_probe.c: runs infra/aws_checks (and infra/aws_repair) from the shell for
 * tests/preflight/aws_moto.sh (built as build/asan/aws_check_probe), with the input
 * given on the command line instead of a config file. Credentials come from the
 * standard chain (environment in the tests). Never prints a secret.
 *
 *   aws_check_probe -r REGION [-e ENDPOINT] [-a ACCOUNT]
 *                   [-p PCX:DNS:required|optional]...   DNS = none|both|requester|accepter|off
 *                   [-t RTB:CIDR:PCX]...
 *                   [-s SG:PORT:FROM]...
 *                   [--repair [--yes]]
 *
 * Prints one line per result: "STATUS<TAB>group<TAB>subject<TAB>detail<TAB>remediation";
 * with --repair, "plan<TAB>line" and "note<TAB>line", and with --yes "applied<TAB>line<TAB>
 * result" (the checks are not run then). Exit: 0 no FAIL, 3 some FAIL (or a repair
 * action failed), 1 the EC2 API could not be used, 2 usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infra/aws_checks.h"
#include "infra/aws_creds.h"
#include "infra/aws_http.h"
#include "infra/aws_repair.h"
#include "infra/ec2.h"

#define MAX_ITEMS 32

struct args {
    struct aws_check_input in;
    struct aws_peering_spec peerings[MAX_ITEMS];
    struct aws_route_spec routes[MAX_ITEMS];
    struct aws_sg_spec sgs[MAX_ITEMS];
    char store[3 * MAX_ITEMS][3][128];
    size_t n_store;
    bool repair, yes;
};

static int usage(void)
{
    fprintf(stderr, "usage: aws_check_probe -r REGION [-e ENDPOINT] [-a ACCOUNT] "
                    "[-p PCX:DNS:required|optional] [-t RTB:CIDR:PCX] [-s SG:PORT:FROM] "
                    "[--repair [--yes]]\n");
    return 2;
}

/* Split "a:b:c" into three bounded strings of a->store. */
static char (*split3(struct args *a, const char *arg))[128]
{
    char(*f)[128];
    const char *p = arg;

    if (a->n_store == sizeof(a->store) / sizeof(a->store[0]))
        return NULL;
    f = a->store[a->n_store];
    for (int i = 0; i < 3; i++) {
        const char *end = i < 2 ? strchr(p, ':') : p + strlen(p);
        size_t len;
        if (!end)
            return NULL;
        len = (size_t)(end - p);
        if (len == 0 || len >= 128)
            return NULL;
        memcpy(f[i], p, len);
        f[i][len] = '\0';
        p = end + 1;
    }
    a->n_store++;
    return f;
}

static bool add_peering(struct args *a, const char *arg)
{
    static const char *const names[] = {"none", "both", "requester", "accepter", "off"};
    char(*f)[128] = split3(a, arg);
    struct aws_peering_spec *p;

    if (!f || a->in.n_peerings == MAX_ITEMS)
        return false;
    p = &a->peerings[a->in.n_peerings];
    p->id = f[0];
    p->dns_resolution = AWS_DNS_UNSET;
    for (int i = 0; i < 5; i++)
        if (strcmp(f[1], names[i]) == 0)
            p->dns_resolution = (enum aws_dns_want)i;
    p->required = strcmp(f[2], "optional") != 0;
    a->in.n_peerings++;
    return true;
}

static bool add_route(struct args *a, const char *arg)
{
    char(*f)[128] = split3(a, arg);

    if (!f || a->in.n_routes == MAX_ITEMS)
        return false;
    a->routes[a->in.n_routes++] = (struct aws_route_spec){f[0], f[1], f[2]};
    return true;
}

static bool add_sg(struct args *a, const char *arg)
{
    char(*f)[128] = split3(a, arg);
    char *end;
    long port;

    if (!f || a->in.n_security_groups == MAX_ITEMS)
        return false;
    port = strtol(f[1], &end, 10);
    if (*end || port < 1 || port > 65535)
        return false;
    a->sgs[a->in.n_security_groups++] = (struct aws_sg_spec){f[0], (int)port, f[2]};
    return true;
}

static bool parse_args(int argc, char **argv, struct args *a)
{
    a->in.peerings = a->peerings;
    a->in.routes = a->routes;
    a->in.security_groups = a->sgs;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(o, "--repair") == 0) {
            a->repair = true;
            continue;
        }
        if (strcmp(o, "--yes") == 0) {
            a->yes = true;
            continue;
        }
        if (!v)
            return false;
        i++;
        if (strcmp(o, "-r") == 0)
            a->in.region = v;
        else if (strcmp(o, "-e") == 0)
            a->in.endpoint = v;
        else if (strcmp(o, "-a") == 0)
            a->in.account_id = v;
        else if (!(strcmp(o, "-p") == 0 && add_peering(a, v)) &&
                 !(strcmp(o, "-t") == 0 && add_route(a, v)) &&
                 !(strcmp(o, "-s") == 0 && add_sg(a, v)))
            return false;
    }
    return a->in.region != NULL && (!a->yes || a->repair);
}

static int run_checks(struct ec2 *ec2, const struct args *a)
{
    struct check_report rep;
    struct infra_error err = {{0}};
    bool ok;
    int rc;

    check_report_init(&rep);
    ok = aws_checks_run(ec2, &a->in, &rep, &err);
    for (size_t i = 0; i < rep.n; i++)
        printf("%s\t%s\t%s\t%s\t%s\n", check_status_name(rep.items[i].status),
               rep.items[i].group, rep.items[i].subject, rep.items[i].detail,
               rep.items[i].remediation);
    rc = !ok ? 1 : check_report_failed(&rep) ? 3 : 0;
    if (!ok)
        fprintf(stderr, "aws_check_probe: %s\n", err.msg);
    check_report_free(&rep);
    return rc;
}

static int run_repair(struct ec2 *ec2, const struct args *a)
{
    struct aws_repair_plan plan = {0};
    struct infra_error err = {{0}};
    int rc = 0;

    if (!aws_repair_plan_build(ec2, &a->in, &plan, &err)) {
        fprintf(stderr, "aws_check_probe: %s\n", err.msg);
        aws_repair_plan_free(&plan);
        return 1;
    }
    for (size_t i = 0; i < plan.n_actions; i++)
        printf("plan\t%s\n", plan.actions[i].line);
    for (size_t i = 0; i < plan.n_notes; i++)
        printf("note\t%s\n", plan.notes[i]);
    if (a->yes) {
        if (!aws_repair_apply(ec2, &plan, 30000, &err)) {
            fprintf(stderr, "aws_check_probe: %s\n", err.msg);
            rc = 3;
        }
        for (size_t i = 0; i < plan.n_actions; i++)
            printf("applied\t%s\t%s\n", plan.actions[i].line, plan.actions[i].result);
    }
    aws_repair_plan_free(&plan);
    return rc;
}

int main(int argc, char **argv)
{
    static struct args a;
    struct infra_error err = {{0}};
    struct aws_creds_provider *creds = NULL;
    struct ec2 *ec2 = NULL;
    struct aws_http_options o = {0};
    int rc = 1;

    if (!parse_args(argc, argv, &a))
        return usage();
    o.max_attempts = 2;
    if (!aws_http_global_init(&err))
        goto out;
    creds = aws_creds_chain_new(NULL, &err);
    if (!creds)
        goto out;
    ec2 = ec2_new(a.in.region, a.in.endpoint, creds, &o, &err);
    if (!ec2)
        goto out;
    rc = a.repair ? run_repair(ec2, &a) : run_checks(ec2, &a);
out:
    if (rc == 1 && err.msg[0])
        fprintf(stderr, "aws_check_probe: %s\n", err.msg);
    ec2_free(ec2);
    aws_creds_provider_free(creds);
    aws_http_global_cleanup();
    return rc;
}
