/*
 * aws_checks.c: the AWS preflight checks (see aws_checks.h).
 *
 * Peerings are described first (one call per id, so one bad id cannot hide the others)
 * and kept: the DNS option check reads them, and the route check uses them to catch a
 * route whose peering is no longer active (real EC2 then shows the route as blackhole;
 * simulators may not) and to check the destination lies inside the peer VPC's CIDRs.
 * Errors that make every call fail (authentication, no network path, throttling) stop
 * the run with one FAIL; other errors are the FAIL of the check concerned.
 */
#include "infra/aws_checks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infra/cidr.h"
#include "infra/ec2.h"

struct run {
    struct ec2 *ec2;
    const struct aws_check_input *in;
    struct check_report *rep;
    struct ec2_peering *pcx; /* per configured peering */
    bool *found;             /* described and found */
    bool fatal;
    struct infra_error *err;
};

static const char *region_or(const char *r, const struct run *run)
{
    return r && r[0] ? r : run->in->region ? run->in->region : "";
}

static bool is_fatal(const struct ec2_error *e)
{
    return e->kind == EC2_ERR_AUTH || e->kind == EC2_ERR_TRANSPORT ||
           e->kind == EC2_ERR_THROTTLED || e->kind == EC2_ERR_CLOCK_SKEW;
}

static void report_fatal(struct run *r, const char *group, const struct ec2_error *e)
{
    struct check_result *c = check_report_add(r->rep, group, "EC2 API", CHECK_FAIL);

    check_result_detail(c, "%s", e->base.msg);
    switch (e->kind) {
    case EC2_ERR_AUTH:
        check_result_fix(c, "check the AWS credentials the job uses (access key and secret key, "
                            "profile or role) and the system clock; `aws sts "
                            "get-caller-identity` with the same credentials must succeed");
        break;
    case EC2_ERR_THROTTLED:
        check_result_fix(c, "EC2 is throttling this account: retry later or reduce the "
                            "number of concurrent callers");
        break;
    case EC2_ERR_CLOCK_SKEW:
        check_result_fix(c, "synchronise the system clock (chrony/NTP; on EC2 the Amazon Time "
                            "Sync Service, 169.254.169.123)");
        break;
    default:
        check_result_fix(c,
                         "check the network path to the EC2 endpoint %s (VPC interface "
                         "endpoint or NAT, proxy, security group egress to 443)",
                         ec2_endpoint(r->ec2)[0] ? ec2_endpoint(r->ec2) : "of the region");
        break;
    }
    infra_error_set(r->err, "%s", e->base.msg);
    r->fatal = true;
}

/* A per-check API failure: fatal ones stop the run, the others are this check's result. */
static void api_problem(struct run *r, const char *group, const char *subject,
                        enum check_status sev, const struct ec2_error *e)
{
    struct check_result *c;

    if (is_fatal(e)) {
        report_fatal(r, group, e);
        return;
    }
    c = check_report_add(r->rep, group, subject, sev);
    check_result_detail(c, "%s", e->base.msg);
    if (e->kind == EC2_ERR_DENIED)
        check_result_fix(c,
                         "allow ec2:%s in the IAM policy of the job's credentials "
                         "(deploy/iam-policy.json)",
                         e->action);
    else
        check_result_fix(c, "see the EC2 error above; re-run with the same credentials "
                            "using the aws CLI to investigate");
}

static int find_peering(const struct run *r, const char *id)
{
    for (size_t i = 0; i < r->in->n_peerings; i++)
        if (id && r->in->peerings[i].id && strcmp(r->in->peerings[i].id, id) == 0)
            return (int)i;
    return -1;
}

/* "vpc-a (111111111111, us-east-1, 10.0.0.0/16)" */
static void side_text(const struct ec2_vpc_side *s, const struct run *r, char *buf, size_t size)
{
    snprintf(buf, size, "%s (%s, %s, %s)", s->vpc_id[0] ? s->vpc_id : "?",
             s->owner_id[0] ? s->owner_id : "?", region_or(s->region, r),
             s->n_cidrs ? s->cidrs[0] : "no CIDR");
}

/* ---- peering status ---- */

static bool status_in(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return true;
    return false;
}

static void check_peering_status(struct run *r, size_t i)
{
    const struct aws_peering_spec *spec = &r->in->peerings[i];
    enum check_status sev = spec->required ? CHECK_FAIL : CHECK_WARN;
    static const char *const dead[] = {"deleted", "deleting", "rejected",
                                       "failed",  "expired",  NULL};
    static const char *const transient[] = {"initiating-request", "provisioning", NULL};
    const struct ec2_peering *p = &r->pcx[i];
    char req[192], acc[192];
    struct check_result *c;
    struct ec2_error e;
    bool found;

    if (!ec2_describe_peering(r->ec2, spec->id, &r->pcx[i], &found, &e)) {
        api_problem(r, "peering", spec->id, sev, &e);
        return;
    }
    if (!found) {
        c = check_report_add(r->rep, "peering", spec->id, sev);
        check_result_detail(c, "peering %s not found in region %s", spec->id, region_or(NULL, r));
        check_result_fix(c,
                         "check aws.peerings[].id and aws.region: the peering must be "
                         "visible from %s with these credentials",
                         region_or(NULL, r));
        return;
    }
    r->found[i] = true;
    side_text(&p->requester, r, req, sizeof(req));
    side_text(&p->accepter, r, acc, sizeof(acc));
    if (strcmp(p->status, "active") == 0) {
        c = check_report_add(r->rep, "peering", spec->id, CHECK_PASS);
        check_result_detail(c, "active: %s <-> %s", req, acc);
        return;
    }
    c = check_report_add(r->rep, "peering", spec->id, sev);
    if (strcmp(p->status, "pending-acceptance") == 0) {
        const char *acc_region = region_or(p->accepter.region, r);
        /* what aws_repair can do: same account, accepter in the region we talk to */
        bool same = p->accepter.owner_id[0] &&
                    strcmp(p->accepter.owner_id, p->requester.owner_id) == 0 &&
                    strcmp(acc_region, region_or(NULL, r)) == 0;
        check_result_detail(c,
                            "pending-acceptance: account %s must accept it in region %s%s%s "
                            "(requester %s)",
                            p->accepter.owner_id[0] ? p->accepter.owner_id : "?", acc_region,
                            p->expiration[0] ? ", expires " : "", p->expiration, req);
        check_result_fix(c,
                         "%saccount %s accepts it in %s: aws ec2 accept-vpc-peering-connection "
                         "--vpc-peering-connection-id %s --region %s",
                         same ? "anonetl preflight --repair --yes, or " : "",
                         p->accepter.owner_id[0] ? p->accepter.owner_id : "?", acc_region, spec->id,
                         acc_region);
    } else if (status_in(p->status, transient)) {
        check_result_detail(c, "%s: not active yet (%s)", p->status, p->status_message);
        check_result_fix(c, "wait a minute and run anonetl preflight again");
    } else if (status_in(p->status, dead)) {
        check_result_detail(c, "%s: %s", p->status,
                            p->status_message[0] ? p->status_message : "unusable");
        check_result_fix(c,
                         "a %s peering cannot be used again: create a new one (Terraform in "
                         "infra/terraform) and put its id in aws.peerings",
                         p->status);
    } else {
        check_result_detail(c, "unexpected status \"%s\": %s", p->status, p->status_message);
        check_result_fix(c,
                         "inspect it: aws ec2 describe-vpc-peering-connections "
                         "--vpc-peering-connection-ids %s",
                         spec->id);
    }
}

/* ---- DNS resolution option ---- */

static void check_dns(struct run *r, size_t i)
{
    const struct aws_peering_spec *spec = &r->in->peerings[i];
    enum check_status sev = spec->required ? CHECK_FAIL : CHECK_WARN;
    const struct ec2_peering *p = &r->pcx[i];
    bool want_req =
        spec->dns_resolution == AWS_DNS_BOTH || spec->dns_resolution == AWS_DNS_REQUESTER;
    bool want_acc =
        spec->dns_resolution == AWS_DNS_BOTH || spec->dns_resolution == AWS_DNS_ACCEPTER;
    bool off_req, off_acc;
    struct check_result *c;

    if (!want_req && !want_acc)
        return;
    if (!r->found[i] || strcmp(p->status, "active") != 0) {
        c = check_report_add(r->rep, "dns-option", spec->id, CHECK_SKIP);
        check_result_detail(c, "not checked: the peering is %s",
                            r->found[i] ? p->status : "not available");
        return;
    }
    off_req = want_req && !p->requester.allow_dns_from_remote;
    off_acc = want_acc && !p->accepter.allow_dns_from_remote;
    if (!off_req && !off_acc) {
        c = check_report_add(r->rep, "dns-option", spec->id, CHECK_PASS);
        check_result_detail(c, "remote VPC DNS resolution enabled on the %s",
                            want_req && want_acc ? "requester and accepter sides"
                            : want_req           ? "requester side"
                                                 : "accepter side");
        return;
    }
    c = check_report_add(r->rep, "dns-option", spec->id, sev);
    check_result_detail(c,
                        "remote VPC DNS resolution is off on the %s (host names of the peer "
                        "resolve to public addresses)",
                        off_req && off_acc ? "requester and accepter sides"
                        : off_req          ? "requester side"
                                           : "accepter side");
    check_result_fix(c,
                     "enable DNS resolution: anonetl preflight --repair --yes, or aws ec2 "
                     "modify-vpc-peering-connection-options --vpc-peering-connection-id %s%s%s "
                     "--region %s",
                     spec->id,
                     off_req ? " --requester-peering-connection-options "
                               "AllowDnsResolutionFromRemoteVpc=true"
                             : "",
                     off_acc ? " --accepter-peering-connection-options "
                               "AllowDnsResolutionFromRemoteVpc=true"
                             : "",
                     region_or(off_req ? p->requester.region : p->accepter.region, r));
}

/* ---- routes ---- */

static const char *route_dest(const struct ec2_route *rt)
{
    return rt->dest_cidr[0] ? rt->dest_cidr : rt->dest_ipv6_cidr;
}

enum aws_route_verdict aws_route_lookup(const struct ec2_route_table *table,
                                        const char *destination, const char *peering,
                                        const struct ec2_route **match, bool *exact)
{
    struct cidr want, best_cidr;
    struct infra_error ignored;
    const struct ec2_route *best = NULL;

    *match = NULL;
    *exact = false;
    if (!destination || !cidr_parse(destination, &want, &ignored))
        return AWS_ROUTE_BAD_CIDR;
    for (size_t i = 0; i < table->n_routes; i++) {
        const struct ec2_route *rt = &table->routes[i];
        struct cidr rc;
        if (!route_dest(rt)[0] || !cidr_parse(route_dest(rt), &rc, &ignored))
            continue;
        if (!cidr_covers(&rc, &want))
            continue;
        if (!best || rc.prefix > best_cidr.prefix) {
            best = rt;
            best_cidr = rc;
        }
    }
    if (!best)
        return AWS_ROUTE_MISSING;
    *match = best;
    *exact = cidr_equal(&best_cidr, &want);
    if (best->state[0] && strcmp(best->state, "active") != 0)
        return AWS_ROUTE_BLACKHOLE;
    if (!peering || strcmp(best->pcx, peering) != 0)
        return AWS_ROUTE_WRONG_TARGET;
    return AWS_ROUTE_OK;
}

/* The route is fine in the table: check the peering behind it and the peer's CIDRs. */
static void route_ok(struct run *r, const struct aws_route_spec *spec,
                     const struct ec2_route_table *t, const struct ec2_route *m,
                     enum check_status sev, const char *subject)
{
    int j = find_peering(r, spec->peering);
    const struct ec2_peering *p = j >= 0 && r->found[j] ? &r->pcx[j] : NULL;
    const struct ec2_vpc_side *peer = NULL;
    struct check_result *c;

    if (p && strcmp(p->status, "active") != 0) {
        c = check_report_add(r->rep, "route", subject, sev);
        check_result_detail(c,
                            "route %s via %s exists but the peering is %s: traffic is "
                            "dropped (blackhole)",
                            route_dest(m), spec->peering, p->status);
        check_result_fix(c, "fix the peering first (see the peering check of %s)", spec->peering);
        return;
    }
    if (p && strcmp(t->vpc_id, p->requester.vpc_id) == 0)
        peer = &p->accepter;
    else if (p && strcmp(t->vpc_id, p->accepter.vpc_id) == 0)
        peer = &p->requester;
    if (p && t->vpc_id[0] && !peer) {
        c = check_report_add(r->rep, "route", subject, CHECK_WARN);
        check_result_detail(c, "route table %s is in %s, which is on neither side of %s", t->id,
                            t->vpc_id, spec->peering);
        check_result_fix(c, "check aws.routes[].route_table and .peering in the config");
        return;
    }
    if (peer && peer->n_cidrs) {
        struct cidr want, pc;
        struct infra_error ignored;
        bool inside = false;
        if (cidr_parse(spec->destination, &want, &ignored))
            for (size_t k = 0; k < peer->n_cidrs && !inside; k++)
                inside = cidr_parse(peer->cidrs[k], &pc, &ignored) && cidr_covers(&pc, &want);
        if (!inside) {
            c = check_report_add(r->rep, "route", subject, CHECK_WARN);
            check_result_detail(c, "%s is outside the CIDRs of the peer VPC %s (%s%s)",
                                spec->destination, peer->vpc_id, peer->cidrs[0],
                                peer->n_cidrs > 1 ? ", ..." : "");
            check_result_fix(c, "check aws.routes[].destination: it should be (inside) the "
                                "peer VPC's CIDR");
            return;
        }
    }
    c = check_report_add(r->rep, "route", subject, CHECK_PASS);
    check_result_detail(c, "%s via %s (route %s, %s)", spec->destination, spec->peering,
                        route_dest(m), m->state[0] ? m->state : "active");
}

static void route_verdict(struct run *r, const struct aws_route_spec *spec,
                          const struct ec2_route_table *t, enum check_status sev,
                          const char *subject)
{
    const struct ec2_route *m;
    bool exact;
    const char *reg = region_or(NULL, r);
    struct check_result *c;

    switch (aws_route_lookup(t, spec->destination, spec->peering, &m, &exact)) {
    case AWS_ROUTE_OK:
        route_ok(r, spec, t, m, sev, subject);
        return;
    case AWS_ROUTE_BAD_CIDR:
        c = check_report_add(r->rep, "route", subject, CHECK_FAIL);
        check_result_detail(c, "destination \"%s\" is not a CIDR", spec->destination);
        check_result_fix(c, "fix aws.routes[].destination in the config");
        return;
    case AWS_ROUTE_MISSING:
        c = check_report_add(r->rep, "route", subject, sev);
        check_result_detail(c, "no route in %s covers %s", t->id, spec->destination);
        check_result_fix(c,
                         "add it: anonetl preflight --repair --yes, or aws ec2 create-route "
                         "--route-table-id %s --destination-cidr-block %s "
                         "--vpc-peering-connection-id %s --region %s",
                         t->id, spec->destination, spec->peering, reg);
        return;
    case AWS_ROUTE_BLACKHOLE:
        c = check_report_add(r->rep, "route", subject, sev);
        check_result_detail(c, "route %s via %s is %s (its target is gone or not active)",
                            route_dest(m), m->target[0] ? m->target : "?", m->state);
        check_result_fix(c,
                         "point it at the peering: aws ec2 replace-route --route-table-id %s "
                         "--destination-cidr-block %s --vpc-peering-connection-id %s "
                         "--region %s",
                         t->id, route_dest(m), spec->peering, reg);
        return;
    case AWS_ROUTE_WRONG_TARGET:
        c = check_report_add(r->rep, "route", subject, sev);
        check_result_detail(c, "traffic to %s takes route %s via %s, not %s", spec->destination,
                            route_dest(m), m->target[0] ? m->target : "?", spec->peering);
        if (exact)
            check_result_fix(c,
                             "aws ec2 replace-route --route-table-id %s "
                             "--destination-cidr-block %s --vpc-peering-connection-id %s "
                             "--region %s",
                             t->id, route_dest(m), spec->peering, reg);
        else
            check_result_fix(c,
                             "add the more specific route: anonetl preflight --repair --yes, "
                             "or aws ec2 create-route --route-table-id %s "
                             "--destination-cidr-block %s --vpc-peering-connection-id %s "
                             "--region %s",
                             t->id, spec->destination, spec->peering, reg);
        return;
    }
}

static void check_route(struct run *r, const struct aws_route_spec *spec)
{
    int j = find_peering(r, spec->peering);
    enum check_status sev = j >= 0 && !r->in->peerings[j].required ? CHECK_WARN : CHECK_FAIL;
    const char *ids[1] = {spec->route_table};
    struct ec2_route_table_list l = {0};
    const struct ec2_route_table *t = NULL;
    char subject[96];
    struct ec2_error e;

    snprintf(subject, sizeof(subject), "%s -> %s", spec->route_table, spec->destination);
    if (!ec2_describe_route_tables(r->ec2, ids, 1, NULL, 0, &l, &e) &&
        e.kind != EC2_ERR_NOT_FOUND) {
        api_problem(r, "route", subject, sev, &e);
        goto out;
    }
    for (size_t i = 0; i < l.n && !t; i++)
        if (strcmp(l.items[i].id, spec->route_table) == 0)
            t = &l.items[i];
    if (!t) {
        struct check_result *c = check_report_add(r->rep, "route", subject, sev);
        check_result_detail(c, "route table %s not found in region %s", spec->route_table,
                            region_or(NULL, r));
        check_result_fix(c, "check aws.routes[].route_table and aws.region in the config");
        goto out;
    }
    route_verdict(r, spec, t, sev, subject);
out:
    ec2_route_table_list_free(&l);
}

/* ---- security groups ---- */

static bool perm_covers_port(const struct ec2_ip_permission *p, int port)
{
    if (strcmp(p->protocol, "-1") == 0)
        return true;
    if (strcmp(p->protocol, "tcp") != 0 && strcmp(p->protocol, "6") != 0)
        return false;
    if (!p->has_ports || p->from_port == -1)
        return true;
    return p->from_port <= port && port <= p->to_port;
}

static bool perm_covers_source(const struct ec2_ip_permission *p, const char *from)
{
    struct cidr want, rc;
    struct infra_error ignored;

    if (strncmp(from, "sg-", 3) == 0) {
        for (size_t i = 0; i < p->n_groups; i++)
            if (strcmp(p->groups[i].group_id, from) == 0)
                return true;
        return false;
    }
    if (!cidr_parse(from, &want, &ignored))
        return false;
    for (size_t i = 0; i < p->n_cidrs; i++)
        if (cidr_parse(p->cidrs[i], &rc, &ignored) && cidr_covers(&rc, &want))
            return true;
    return false;
}

bool aws_sg_allows(const struct ec2_security_group *g, int port, const char *from,
                   const struct ec2_ip_permission **rule)
{
    if (rule)
        *rule = NULL;
    if (!from)
        return false;
    for (size_t i = 0; i < g->n_ingress; i++) {
        const struct ec2_ip_permission *p = &g->ingress[i];
        if (perm_covers_port(p, port) && perm_covers_source(p, from)) {
            if (rule)
                *rule = p;
            return true;
        }
    }
    return false;
}

static void check_sg(struct run *r, const struct aws_sg_spec *spec)
{
    const char *ids[1] = {spec->group};
    struct ec2_sg_list l = {0};
    const struct ec2_security_group *g = NULL;
    const struct ec2_ip_permission *rule;
    bool is_sg = spec->from && strncmp(spec->from, "sg-", 3) == 0;
    struct check_result *c;
    char subject[96];
    struct ec2_error e;

    snprintf(subject, sizeof(subject), "%s tcp/%d from %s", spec->group, spec->port,
             spec->from ? spec->from : "?");
    if (!ec2_describe_security_groups(r->ec2, ids, 1, NULL, 0, &l, &e) &&
        e.kind != EC2_ERR_NOT_FOUND) {
        api_problem(r, "sg", subject, CHECK_FAIL, &e);
        goto out;
    }
    for (size_t i = 0; i < l.n && !g; i++)
        if (strcmp(l.items[i].id, spec->group) == 0)
            g = &l.items[i];
    if (!g) {
        c = check_report_add(r->rep, "sg", subject, CHECK_FAIL);
        check_result_detail(c, "security group %s not found in region %s", spec->group,
                            region_or(NULL, r));
        check_result_fix(c, "check aws.security_groups[].group and aws.region in the config");
        goto out;
    }
    if (aws_sg_allows(g, spec->port, spec->from, &rule)) {
        c = check_report_add(r->rep, "sg", subject, CHECK_PASS);
        if (rule->has_ports && rule->from_port != -1)
            check_result_detail(c, "allowed by an ingress rule %s %d-%d", rule->protocol,
                                rule->from_port, rule->to_port);
        else
            check_result_detail(c, "allowed by an ingress rule %s (all ports)",
                                strcmp(rule->protocol, "-1") == 0 ? "all protocols"
                                                                  : rule->protocol);
        goto out;
    }
    c = check_report_add(r->rep, "sg", subject, CHECK_FAIL);
    check_result_detail(c, "no ingress rule of %s allows tcp/%d from %s", spec->group, spec->port,
                        spec->from ? spec->from : "?");
    check_result_fix(c,
                     "aws ec2 authorize-security-group-ingress --group-id %s --protocol tcp "
                     "--port %d %s %s --region %s",
                     spec->group, spec->port, is_sg ? "--source-group" : "--cidr",
                     spec->from ? spec->from : "?", region_or(NULL, r));
out:
    ec2_sg_list_free(&l);
}

/* ---- run ---- */

bool aws_checks_run(struct ec2 *ec2, const struct aws_check_input *in, struct check_report *rep,
                    struct infra_error *err)
{
    struct run r = {ec2, in, rep, NULL, NULL, false, err};
    bool ok = false;

    if (in->n_peerings) {
        r.pcx = calloc(in->n_peerings, sizeof(*r.pcx));
        r.found = calloc(in->n_peerings, sizeof(*r.found));
        if (!r.pcx || !r.found) {
            infra_error_set(err, "out of memory");
            goto out;
        }
    }
    for (size_t i = 0; i < in->n_peerings && !r.fatal; i++) {
        check_peering_status(&r, i);
        if (!r.fatal)
            check_dns(&r, i);
    }
    for (size_t i = 0; i < in->n_routes && !r.fatal; i++)
        check_route(&r, &in->routes[i]);
    for (size_t i = 0; i < in->n_security_groups && !r.fatal; i++)
        check_sg(&r, &in->security_groups[i]);
    ok = !r.fatal;
out:
    free(r.pcx);
    free(r.found);
    return ok;
}
