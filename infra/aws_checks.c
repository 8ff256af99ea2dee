/*
 * aws_checks.c: the AWS preflight checks (see aws_checks.h).
 *
 * Everything is judged on one aws_view fetched first with batched Describe calls (so a
 * bad id cannot hide the others: filters skip it, and the check says "not found"). The
 * configured expectations (aws.peerings, aws.routes, aws.security_groups) are checked
 * against what the packets meet when the job's identity is known: a security group is
 * judged on the job's real address and groups, a route table that the job's subnet does
 * not use is flagged. The path analysis itself is infra/aws_path.c.
 * Errors that make every call fail (authentication, no network path, throttling) stop
 * the run with one FAIL; other errors are the FAIL of the check concerned.
 */
#include "infra/aws_checks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infra/aws_datapath.h"
#include "infra/aws_dnsopt.h"
#include "infra/aws_ends.h"
#include "infra/aws_eval.h"
#include "infra/aws_isolation.h"
#include "infra/aws_view.h"
#include "infra/cidr.h"
#include "infra/ec2.h"

struct run {
    struct ec2 *ec2;
    const struct aws_check_input *in;
    struct check_report *rep;
    struct aws_view v;
    const struct ec2_network_interface *job_eni;
};

static const char *region_or(const char *r, const struct run *run)
{
    return r && r[0] ? r : run->in->region ? run->in->region : "";
}

static void report_fatal(struct run *r, const struct ec2_error *e)
{
    struct check_result *c = check_report_add(r->rep, "peering", "EC2 API", CHECK_FAIL);

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
}

/* A kind of object could not be described (not fatal): this check's result says so. */
static void api_problem(struct run *r, const char *group, const char *subject,
                        enum check_status sev, const struct ec2_error *e)
{
    struct check_result *c = check_report_add(r->rep, group, subject, sev);

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

static void peering_not_active(struct run *r, const struct aws_peering_spec *spec,
                               const struct ec2_peering *p, enum check_status sev, const char *req)
{
    static const char *const dead[] = {"deleted", "deleting", "rejected",
                                       "failed",  "expired",  NULL};
    static const char *const transient[] = {"initiating-request", "provisioning", NULL};
    struct check_result *c = check_report_add(r->rep, "peering", spec->id, sev);

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

static void check_peering_status(struct run *r, const struct aws_peering_spec *spec)
{
    enum check_status sev = spec->required ? CHECK_FAIL : CHECK_WARN;
    const struct ec2_peering *p = aws_view_peering(&r->v, spec->id);
    char req[192], acc[192];
    struct check_result *c;

    if (r->v.f_peerings.failed) {
        api_problem(r, "peering", spec->id, sev, &r->v.f_peerings.err);
        return;
    }
    if (!p) {
        c = check_report_add(r->rep, "peering", spec->id, sev);
        check_result_detail(c, "peering %s not found in region %s", spec->id, region_or(NULL, r));
        check_result_fix(c,
                         "check aws.peerings[].id and aws.region: the peering must be "
                         "visible from %s with these credentials",
                         region_or(NULL, r));
        return;
    }
    side_text(&p->requester, r, req, sizeof(req));
    side_text(&p->accepter, r, acc, sizeof(acc));
    if (strcmp(p->status, "active") != 0) {
        peering_not_active(r, spec, p, sev, req);
        return;
    }
    c = check_report_add(r->rep, "peering", spec->id, CHECK_PASS);
    check_result_detail(c, "active: %s <-> %s", req, acc);
}

/* ---- DNS resolution option (infra/aws_dnsopt.c) ---- */

/* The caller's account: given, else the owner of the job's interface, else of a
 * configured security group or route table (NULL when none says). */
static const char *our_account(const struct run *r)
{
    const struct aws_check_input *in = r->in;

    if (in->account_id && in->account_id[0])
        return in->account_id;
    if (r->job_eni && r->job_eni->owner_id[0])
        return r->job_eni->owner_id;
    for (size_t i = 0; i < in->n_security_groups; i++) {
        const struct ec2_security_group *g = aws_view_group(&r->v, in->security_groups[i].group);
        if (g && g->owner_id[0])
            return g->owner_id;
    }
    for (size_t i = 0; i < in->n_routes; i++) {
        const struct ec2_route_table *t = aws_view_table(&r->v, in->routes[i].route_table);
        if (t && t->owner_id[0])
            return t->owner_id;
    }
    return NULL;
}

static void check_dns(struct run *r, const struct aws_peering_spec *spec)
{
    const struct aws_path_input *pi = r->in->path;
    const struct aws_dnsopt_context ctx = {
        .v = &r->v,
        .path = pi,
        .job_vpc = r->job_eni ? r->job_eni->vpc_id
                   : pi       ? pi->job.vpc
                              : NULL,
        .our_account = our_account(r),
        .region = region_or(NULL, r),
    };

    aws_dnsopt_check(&ctx, spec, r->rep);
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

static bool tgw_allowed(const struct run *r, const char *tgw)
{
    const struct aws_path_input *pi = r->in->path;

    for (size_t i = 0; pi && i < pi->n_transit_gateways; i++)
        if (pi->transit_gateways[i] && strcmp(pi->transit_gateways[i], tgw) == 0)
            return true;
    return false;
}

/* The route is via the expected peering: check the peering behind it, the peer's CIDRs,
 * and that no more specific route sends part of the destination elsewhere. */
static void route_ok(struct run *r, const struct aws_route_spec *spec,
                     const struct ec2_route_table *t, const struct aws_route_hit *h,
                     const struct cidr *want, enum check_status sev, const char *subject)
{
    const struct ec2_peering *p = aws_view_peering(&r->v, spec->peering);
    const struct ec2_vpc_side *peer = p ? aws_peer_side(p, t->vpc_id) : NULL;
    struct aws_route_conflict inner;
    bool has_inner = aws_route_inner_conflict(&r->v, t, want, h->route, &inner);
    char part[CIDR_TEXT_MAX], args[96], what[128];
    struct check_result *c;

    if (p && strcmp(p->status, "active") != 0) {
        c = check_report_add(r->rep, "route", subject, sev);
        check_result_detail(c,
                            "route %s via %s exists but the peering is %s: traffic is "
                            "dropped (blackhole)",
                            aws_route_dest_text(h->route), spec->peering, p->status);
        check_result_fix(c, "fix the peering first (see the peering check of %s)", spec->peering);
        return;
    }
    if (p && t->vpc_id[0] && !peer) {
        c = check_report_add(r->rep, "route", subject, CHECK_WARN);
        check_result_detail(c, "route table %s is in %s, which is on neither side of %s", t->id,
                            t->vpc_id, spec->peering);
        check_result_fix(c, "check aws.routes[].route_table and .peering in the config");
        return;
    }
    if (peer && peer->n_cidrs && !aws_view_side_holds(&r->v, peer, want, NULL, 0)) {
        c = check_report_add(r->rep, "route", subject, CHECK_WARN);
        check_result_detail(c, "%s is outside the CIDRs of the peer VPC %s (%s%s)",
                            spec->destination, peer->vpc_id, peer->cidrs[0],
                            peer->n_cidrs > 1 ? ", ..." : "");
        check_result_fix(c, "check aws.routes[].destination: it should be (inside) the "
                            "peer VPC's CIDR");
        return;
    }
    if (has_inner) {
        bool appliance = aws_route_target_kind(inner.route) == AWS_TARGET_APPLIANCE &&
                         aws_route_active(inner.route);
        cidr_format(&inner.dest, part, sizeof(part));
        snprintf(what, sizeof(what), "%s%s%s%s", aws_route_dest_text(inner.route),
                 inner.via_prefix_list ? " (entry " : "", inner.via_prefix_list ? part : "",
                 inner.via_prefix_list ? ")" : "");
        c = check_report_add(r->rep, "route", subject, appliance ? CHECK_WARN : sev);
        if (appliance)
            check_result_detail(c,
                                "%s goes via %s, but the more specific route %s goes via %s (%s): "
                                "that part of %s goes through it, and the analysis does not "
                                "follow it",
                                spec->destination, spec->peering, what, inner.route->target,
                                aws_route_target_what(inner.route), spec->destination);
        else
            check_result_detail(c,
                                "%s goes via %s, but the more specific route %s goes via %s "
                                "(%s): that part of %s does not take the peering",
                                spec->destination, spec->peering, what,
                                inner.route->target[0] ? inner.route->target : "?",
                                inner.route->state[0] ? inner.route->state : "active",
                                spec->destination);
        if (inner.via_prefix_list) /* a static route wins over a prefix list's entry */
            check_result_fix(c,
                             "%saws ec2 create-route --route-table-id %s --destination-cidr-block "
                             "%s --vpc-peering-connection-id %s --region %s",
                             appliance ? "if that part must not go through it: " : "", t->id, part,
                             spec->peering, region_or(NULL, r));
        else {
            aws_route_dest_args(inner.route, args, sizeof(args));
            check_result_fix(c,
                             "%saws ec2 replace-route --route-table-id %s %s "
                             "--vpc-peering-connection-id %s --region %s (or delete that route)",
                             appliance ? "if that part must not go through it: " : "", t->id, args,
                             spec->peering, region_or(NULL, r));
        }
        return;
    }
    c = check_report_add(r->rep, "route", subject, CHECK_PASS);
    if (h->via_prefix_list)
        check_result_detail(c, "%s via %s (prefix list route %s, %s)", spec->destination,
                            spec->peering, h->route->dest_prefix_list,
                            h->route->state[0] ? h->route->state : "active");
    else
        check_result_detail(c, "%s via %s (route %s, %s)", spec->destination, spec->peering,
                            aws_route_dest_text(h->route),
                            h->route->state[0] ? h->route->state : "active");
}

/* A route via a transit gateway the config allows, with its attachment available. */
static bool route_via_allowed_tgw(struct run *r, const struct ec2_route_table *t,
                                  const struct aws_route_hit *h, const char *subject)
{
    const struct ec2_tgw_attachment *a;
    struct check_result *c;

    if (strncmp(h->route->target, "tgw-", 4) != 0 || !tgw_allowed(r, h->route->target))
        return false;
    a = aws_view_tgw_attachment(&r->v, h->route->target, t->vpc_id);
    c = check_report_add(r->rep, "route", subject,
                         a && strcmp(a->state, "available") == 0 ? CHECK_PASS : CHECK_WARN);
    check_result_detail(c,
                        "via %s, a transit gateway aws.transit_gateways allows (route %s; "
                        "attachment %s %s)",
                        h->route->target, aws_route_dest_text(h->route), a ? a->id : "of this VPC",
                        a ? a->state : "not visible");
    if (!a || strcmp(a->state, "available") != 0)
        check_result_fix(c, "check the attachment of %s to %s", h->route->target, t->vpc_id);
    return true;
}

static void route_verdict(struct run *r, const struct aws_route_spec *spec,
                          const struct ec2_route_table *t, enum check_status sev,
                          const char *subject)
{
    const char *reg = region_or(NULL, r);
    struct aws_route_hit h;
    struct infra_error ignored;
    struct check_result *c;
    struct cidr want;
    bool exact, appliance;
    char args[96];

    if (!spec->destination || !cidr_parse(spec->destination, &want, &ignored)) {
        c = check_report_add(r->rep, "route", subject, CHECK_FAIL);
        check_result_detail(c, "destination \"%s\" is not a CIDR", spec->destination);
        check_result_fix(c, "fix aws.routes[].destination in the config");
        return;
    }
    aws_route_match(&r->v, t, &want, &h);
    if (!h.route) {
        c = check_report_add(r->rep, "route", subject, sev);
        check_result_detail(c, "no route in %s covers %s%s%s", t->id, spec->destination,
                            h.unknown_prefix_list[0] ? " (unknown: the entries of " : "",
                            h.unknown_prefix_list[0] ? h.unknown_prefix_list : "");
        check_result_fix(c,
                         "add it: anonetl preflight --repair --yes, or aws ec2 create-route "
                         "--route-table-id %s --destination-cidr-block %s "
                         "--vpc-peering-connection-id %s --region %s",
                         t->id, spec->destination, spec->peering, reg);
        return;
    }
    exact = !h.via_prefix_list && cidr_equal(&h.dest, &want);
    if (spec->peering && strcmp(h.route->pcx, spec->peering) == 0 && aws_route_active(h.route)) {
        route_ok(r, spec, t, &h, &want, sev, subject);
        return;
    }
    if (aws_route_active(h.route) && route_via_allowed_tgw(r, t, &h, subject))
        return;
    appliance = aws_route_active(h.route) && aws_route_target_kind(h.route) == AWS_TARGET_APPLIANCE;
    c = check_report_add(r->rep, "route", subject, appliance ? CHECK_WARN : sev);
    if (!aws_route_active(h.route))
        check_result_detail(c, "route %s via %s is %s (its target is gone or not active)",
                            aws_route_dest_text(h.route),
                            h.route->target[0] ? h.route->target : "?", h.route->state);
    else if (appliance)
        check_result_detail(c,
                            "traffic to %s takes route %s via %s (%s), not %s: the analysis "
                            "does not follow it",
                            spec->destination, aws_route_dest_text(h.route), h.route->target,
                            aws_route_target_what(h.route), spec->peering);
    else
        check_result_detail(c, "traffic to %s takes route %s via %s, not %s", spec->destination,
                            aws_route_dest_text(h.route),
                            h.route->target[0] ? h.route->target : "?", spec->peering);
    /* the route for exactly this block is replaced; a wider one, or a prefix list's entry,
     * is beaten by a route for the block itself (longest match, then static first) */
    aws_route_dest_args(h.route, args, sizeof(args));
    if (exact)
        check_result_fix(c,
                         "%saws ec2 replace-route --route-table-id %s %s "
                         "--vpc-peering-connection-id %s --region %s",
                         appliance ? "if it must not go through it: " : "", t->id, args,
                         spec->peering, reg);
    else
        check_result_fix(c,
                         "%sadd the more specific route: anonetl preflight --repair "
                         "--yes, or aws ec2 create-route --route-table-id %s "
                         "--destination-cidr-block %s --vpc-peering-connection-id %s "
                         "--region %s",
                         appliance ? "if it must not go through it, " : "", t->id,
                         spec->destination, spec->peering, reg);
}

/* Does any database address of the path input lie in dest? *known: any address at all. */
static bool db_addr_in(const struct aws_path_input *pi, const struct cidr *dest, bool *known)
{
    struct cidr a;

    *known = false;
    for (size_t i = 0; pi && i < pi->n_endpoints; i++)
        for (size_t j = 0; j < pi->endpoints[i].n_addrs; j++) {
            if (!cidr_parse_addr(pi->endpoints[i].addrs[j], &a))
                continue;
            *known = true;
            if (cidr_covers(dest, &a))
                return true;
        }
    return false;
}

/* WARN when the subnet of `who` uses another table than t; true when it said so. */
static bool table_not_used_by(struct run *r, const struct ec2_route_table *t,
                              const struct ec2_network_interface *who, bool is_job,
                              const char *subject)
{
    bool explicit_assoc;
    const struct ec2_route_table *used =
        aws_view_subnet_table(&r->v, who->vpc_id, who->subnet_id, &explicit_assoc);
    struct check_result *c;

    if (!used || used == t)
        return false;
    c = check_report_add(r->rep, "route", subject, CHECK_WARN);
    check_result_detail(c,
                        "%s is not the table of %s's subnet %s, which uses %s (%s): no packet "
                        "of %s takes this table (see path.route)",
                        t->id, is_job ? "the job" : "the database", who->subnet_id, used->id,
                        explicit_assoc ? "explicit association" : "the VPC's main table",
                        is_job ? "the job" : "the database");
    check_result_fix(c, "point aws.routes[].route_table at %s, or associate %s with %s", used->id,
                     who->subnet_id, t->id);
    return true;
}

/*
 * A configured table (in a VPC whose tables are all in the view) that no packet of this
 * route takes. The route's senders are the job, when it is in the table's VPC and sends to
 * the destination (a database address inside it, or no address known), and a database in
 * the table's VPC when it replies to the job inside the destination. A database beside the
 * job (the target in the job's VPC) sends nothing to a peer VPC's range: it is no sender.
 */
static bool route_table_unused(struct run *r, const struct ec2_route_table *t,
                               const struct aws_route_spec *spec, const char *subject)
{
    const struct aws_path_input *pi = r->in->path;
    const struct ec2_network_interface *job = r->job_eni;
    const char *job_ip = job && pi && pi->job.ip ? pi->job.ip
                         : job                   ? job->private_ip
                         : pi                    ? pi->job.ip
                                                 : NULL;
    const char *job_vpc = job ? job->vpc_id : pi ? pi->job.vpc : NULL;
    const char *job_subnet = job ? job->subnet_id : pi ? pi->job.subnet : NULL;
    struct infra_error ignored;
    struct cidr dest, ja;
    bool any_db, to_db;

    if (!aws_view_has_vpc(&r->v, t->vpc_id) || !spec->destination ||
        !cidr_parse(spec->destination, &dest, &ignored))
        return false;
    to_db = db_addr_in(pi, &dest, &any_db);
    if (job && strcmp(job->vpc_id, t->vpc_id) == 0 && (to_db || !any_db))
        return table_not_used_by(r, t, job, true, subject);
    if (!job_ip || !cidr_parse_addr(job_ip, &ja) || !cidr_covers(&dest, &ja))
        return false;
    for (size_t i = 0; pi && i < pi->n_endpoints; i++)
        for (size_t j = 0; j < pi->endpoints[i].n_addrs; j++) {
            const struct ec2_network_interface *db =
                aws_ends_db_eni(&r->v, job_vpc, job_subnet, pi->endpoints[i].addrs[j], NULL);
            if (db && strcmp(db->vpc_id, t->vpc_id) == 0)
                return table_not_used_by(r, t, db, false, subject);
        }
    return false;
}

static void check_route(struct run *r, const struct aws_route_spec *spec)
{
    int j = find_peering(r, spec->peering);
    enum check_status sev = j >= 0 && !r->in->peerings[j].required ? CHECK_WARN : CHECK_FAIL;
    const struct ec2_route_table *t = aws_view_table(&r->v, spec->route_table);
    char subject[96];

    snprintf(subject, sizeof(subject), "%s -> %s", spec->route_table, spec->destination);
    if (!t && r->v.f_tables.failed) {
        api_problem(r, "route", subject, sev, &r->v.f_tables.err);
        return;
    }
    if (!t) {
        struct check_result *c = check_report_add(r->rep, "route", subject, sev);
        check_result_detail(c, "route table %s not found in region %s", spec->route_table,
                            region_or(NULL, r));
        check_result_fix(c, "check aws.routes[].route_table and aws.region in the config");
        return;
    }
    route_verdict(r, spec, t, sev, subject);
    (void)route_table_unused(r, t, spec, subject);
}

/* ---- security groups ---- */

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
        if (aws_perm_covers_tcp_port(p, port) && perm_covers_source(p, from)) {
            if (rule)
                *rule = p;
            return true;
        }
    }
    return false;
}

#define SG_BLOCKS_MAX 512

/* Every CIDR the group's ingress rules for `port` admit (prefix lists expanded) into
 * blocks; the rules together cover `from` when their union does. */
static size_t sg_blocks(const struct run *r, const struct ec2_security_group *g, int port,
                        struct cidr *blocks, size_t max)
{
    struct infra_error ignored;
    size_t n = 0;

    for (size_t i = 0; i < g->n_ingress; i++) {
        const struct ec2_ip_permission *p = &g->ingress[i];
        if (!aws_perm_covers_tcp_port(p, port))
            continue;
        for (size_t k = 0; k < p->n_cidrs && n < max; k++)
            if (cidr_parse(p->cidrs[k], &blocks[n], &ignored))
                n++;
        for (size_t k = 0; k < p->n_prefix_lists; k++) {
            const struct aws_prefix_list *pl = aws_view_prefix_list(&r->v, p->prefix_lists[k]);
            for (size_t e = 0; pl && !pl->fetch.failed && e < pl->entries.n && n < max; e++)
                if (cidr_parse(pl->entries.cidrs[e], &blocks[n], &ignored))
                    n++;
        }
    }
    return n;
}

static void sg_fix(struct run *r, struct check_result *c, const struct aws_sg_spec *spec)
{
    bool is_sg = spec->from && strncmp(spec->from, "sg-", 3) == 0;

    check_result_fix(c,
                     "aws ec2 authorize-security-group-ingress --group-id %s --protocol tcp "
                     "--port %d %s %s --region %s",
                     spec->group, spec->port, is_sg ? "--source-group" : "--cidr",
                     spec->from ? spec->from : "?", region_or(NULL, r));
}

static void sg_for_from(struct run *r, const struct aws_sg_spec *spec,
                        const struct ec2_security_group *g, const char *subject);

/* The job's identity is known: the rules must let its address or one of its groups in. */
static void sg_for_job(struct run *r, const struct aws_sg_spec *spec,
                       const struct ec2_security_group *g, const char *subject)
{
    const struct aws_path_job *job = &r->in->path->job;
    const char *groups[16];
    struct aws_party party = {.groups = groups};
    const char *ip = r->job_eni ? (job->ip ? job->ip : r->job_eni->private_ip) : job->ip;
    struct aws_sg_verdict vd;
    char perm[64];
    struct check_result *c;

    if (r->job_eni)
        for (size_t i = 0; i < r->job_eni->n_groups && party.n_groups < 16; i++)
            groups[party.n_groups++] = r->job_eni->groups[i];
    else
        for (size_t i = 0; i < job->n_groups && party.n_groups < 16; i++)
            groups[party.n_groups++] = job->groups[i];
    /* the address without an interface (not visible, or several hold it): its groups are
     * unknown, so a rule naming a group might let it in */
    party.groups_unknown = !r->job_eni && party.n_groups == 0;
    if (!ip || !cidr_parse_addr(ip, &party.addr)) {
        sg_for_from(r, spec, g, subject);
        return;
    }
    aws_sg_judge(&r->v, &g, 1, false, spec->port, &party, &vd);
    if (vd.allowed) {
        aws_perm_text(vd.rule, perm, sizeof(perm));
        c = check_report_add(r->rep, "sg", subject, CHECK_PASS);
        check_result_detail(c, "lets the job in (%s%s%s) by an ingress rule %s from %s", ip,
                            party.n_groups ? ", group " : "", party.n_groups ? groups[0] : "", perm,
                            vd.matched);
        return;
    }
    c = check_report_add(r->rep, "sg", subject,
                         vd.unknown_prefix_list[0] || vd.unknown_group[0] ? CHECK_WARN
                                                                          : CHECK_FAIL);
    check_result_detail(
        c, "no ingress rule of %s allows tcp/%d from the job (%s%s%s)%s%s%s%s%s%s", spec->group,
        spec->port, ip, party.n_groups ? ", group " : "", party.n_groups ? groups[0] : "",
        vd.stale_reference[0] ? "; stale reference " : "", vd.stale_reference,
        vd.unknown_prefix_list[0] ? "; unknown: the entries of " : "", vd.unknown_prefix_list,
        vd.unknown_group[0] ? "; unknown: whether the job is in " : "", vd.unknown_group);
    sg_fix(r, c, spec);
}

/* The job is unknown: the rules together must cover the configured source. */
static void sg_for_from(struct run *r, const struct aws_sg_spec *spec,
                        const struct ec2_security_group *g, const char *subject)
{
    const struct ec2_ip_permission *rule;
    struct infra_error ignored;
    struct check_result *c;
    struct cidr want;
    char perm[64];
    bool overlap = false;
    size_t n;

    if (aws_sg_allows(g, spec->port, spec->from, &rule)) {
        aws_perm_text(rule, perm, sizeof(perm));
        c = check_report_add(r->rep, "sg", subject, CHECK_PASS);
        check_result_detail(c, "allowed by an ingress rule %s", perm);
        return;
    }
    if (spec->from && strncmp(spec->from, "sg-", 3) != 0 &&
        cidr_parse(spec->from, &want, &ignored)) {
        struct cidr *blocks = calloc(SG_BLOCKS_MAX, sizeof(*blocks));
        bool covered;
        n = blocks ? sg_blocks(r, g, spec->port, blocks, SG_BLOCKS_MAX) : 0;
        covered = blocks && aws_cidrs_cover(&want, blocks, n, &overlap);
        free(blocks);
        if (covered) {
            c = check_report_add(r->rep, "sg", subject, CHECK_PASS);
            check_result_detail(c,
                                "allowed by the ingress rules for tcp/%d together (%zu "
                                "blocks cover %s)",
                                spec->port, n, spec->from);
            return;
        }
    }
    if (overlap) {
        c = check_report_add(r->rep, "sg", subject, CHECK_WARN);
        check_result_detail(c,
                            "the ingress rules of %s for tcp/%d cover only part of %s; whether "
                            "they cover the job is unknown (its address is not known)",
                            spec->group, spec->port, spec->from);
        check_result_fix(c, "set aws.job (or run where ECS task metadata or IMDSv2 answers) so "
                            "the job's real address is judged, or narrow "
                            "aws.security_groups[].from");
        return;
    }
    c = check_report_add(r->rep, "sg", subject, CHECK_FAIL);
    check_result_detail(c, "no ingress rule of %s allows tcp/%d from %s", spec->group, spec->port,
                        spec->from ? spec->from : "?");
    sg_fix(r, c, spec);
}

static bool job_known(const struct run *r)
{
    const struct aws_path_input *pi = r->in->path;

    return r->job_eni || (pi && pi->job.ip);
}

static void check_sg(struct run *r, const struct aws_sg_spec *spec)
{
    const struct ec2_security_group *g = aws_view_group(&r->v, spec->group);
    char subject[96];

    snprintf(subject, sizeof(subject), "%s tcp/%d from %s", spec->group, spec->port,
             spec->from ? spec->from : "?");
    if (!g && r->v.f_groups.failed) {
        api_problem(r, "sg", subject, CHECK_FAIL, &r->v.f_groups.err);
        return;
    }
    if (!g) {
        struct check_result *c = check_report_add(r->rep, "sg", subject, CHECK_FAIL);
        check_result_detail(c, "security group %s not found in region %s", spec->group,
                            region_or(NULL, r));
        check_result_fix(c, "check aws.security_groups[].group and aws.region in the config");
        return;
    }
    if (job_known(r))
        sg_for_job(r, spec, g, subject);
    else
        sg_for_from(r, spec, g, subject);
}

/* ---- run ---- */

struct request_store {
    const char **pcx, **rtb, **sg;
    const char **data; /* the data team's peerings (required: false), for path.isolation */
    size_t n_data;
    const char *ips[AWS_VIEW_MAX_IPS];
    const char *ids[AWS_VIEW_MAX_IPS * 4]; /* the RDS members' VPCs and groups */
};

static bool build_request(const struct aws_check_input *in, struct request_store *s,
                          struct aws_view_request *req)
{
    memset(req, 0, sizeof(*req));
    s->pcx = calloc(in->n_peerings + 1, sizeof(*s->pcx));
    s->rtb = calloc(in->n_routes + 1, sizeof(*s->rtb));
    s->sg = calloc(in->n_security_groups + 1, sizeof(*s->sg));
    s->data = calloc(in->n_peerings + 1, sizeof(*s->data));
    if (!s->pcx || !s->rtb || !s->sg || !s->data)
        return false;
    for (size_t i = 0; i < in->n_peerings; i++) {
        s->pcx[i] = in->peerings[i].id;
        if (!in->peerings[i].required)
            s->data[s->n_data++] = in->peerings[i].id;
    }
    for (size_t i = 0; i < in->n_routes; i++)
        s->rtb[i] = in->routes[i].route_table;
    for (size_t i = 0; i < in->n_security_groups; i++)
        s->sg[i] = in->security_groups[i].group;
    if (in->path && (in->run_path || in->path->job.ip || in->path->job.eni))
        aws_path_request(in->path, s->ips, AWS_VIEW_MAX_IPS, s->ids,
                         sizeof(s->ids) / sizeof(s->ids[0]), req);
    if (in->run_path) { /* path.isolation reads the data team's peerings */
        req->peerings = s->data;
        req->n_peerings = s->n_data;
    }
    if (!in->skip_configured) {
        req->peerings = s->pcx;
        req->n_peerings = in->n_peerings;
        req->route_tables = s->rtb;
        req->n_route_tables = in->n_routes;
        req->security_groups = s->sg;
        req->n_security_groups = in->n_security_groups;
    }
    return true;
}

bool aws_checks_run(struct ec2 *ec2, const struct aws_check_input *in, struct check_report *rep,
                    struct infra_error *err)
{
    struct run r = {.ec2 = ec2, .in = in, .rep = rep};
    struct request_store s = {0};
    struct aws_view_request req;
    bool ok = false;

    if (!build_request(in, &s, &req)) {
        infra_error_set(err, "out of memory");
        goto out;
    }
    if (!aws_view_fetch(ec2, &req, &r.v, err)) {
        if (r.v.fatal)
            report_fatal(&r, &r.v.fatal_err);
        goto out;
    }
    if (in->path)
        r.job_eni = aws_ends_job_eni(&r.v, &in->path->job, NULL);
    for (size_t i = 0; !in->skip_configured && i < in->n_peerings; i++) {
        check_peering_status(&r, &in->peerings[i]);
        check_dns(&r, &in->peerings[i]);
    }
    for (size_t i = 0; !in->skip_configured && i < in->n_routes; i++)
        check_route(&r, &in->routes[i]);
    for (size_t i = 0; !in->skip_configured && i < in->n_security_groups; i++)
        check_sg(&r, &in->security_groups[i]);
    if (in->run_path && in->path) {
        aws_path_run(&r.v, in->path, rep);
        aws_isolation_run(&r.v, in->path, s.data, s.n_data, rep);
        aws_datapath_run(&r.v, in->path, s.data, s.n_data, rep);
    }
    ok = true;
out:
    aws_view_free(&r.v);
    free(s.pcx);
    free(s.rtb);
    free(s.sg);
    free(s.data);
    return ok;
}
