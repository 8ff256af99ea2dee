/*
 * aws_path.c: the path.* hops (see aws_path.h).
 *
 * A "leg" is one database address seen from the job: both ends (address, VPC, subnet,
 * groups) are settled first, then each hop is judged on the view in packet order, the
 * request first (route, egress, ACLs, ingress), then the reply (ACLs, route back). A hop
 * that cannot be judged because an object is not visible is a WARN saying what to check
 * by hand; a hop that depends on a side nobody can see is a SKIP pointing at that WARN.
 */
#include "infra/aws_path.h"

#include <stdio.h>
#include <string.h>

#include "infra/aws_eval.h"
#include "infra/cidr.h"

#define SIDE_GROUPS 16

struct side {
    const char *ip;
    struct cidr addr;
    const char *vpc, *subnet;
    const char *groups[SIDE_GROUPS];
    size_t n_groups;
    const struct ec2_network_interface *eni;
};

struct leg {
    const struct aws_view *v;
    const struct aws_path_input *in;
    const struct aws_path_endpoint *ep;
    struct check_report *rep;
    struct side job, db;
    bool db_known; /* the database's interface is in the view */
    int port;
};

static struct check_result *hop(struct leg *L, const char *name, const char *object,
                                enum check_status st)
{
    char group[24], subject[96];

    snprintf(group, sizeof(group), "path.%s", name);
    snprintf(subject, sizeof(subject), "%s %s", L->ep->name, object);
    return check_report_add(L->rep, group, subject, st);
}

static const char *region(const struct leg *L)
{
    return L->in->region && L->in->region[0] ? L->in->region : "REGION";
}

/* "sg-a, sg-b" */
static void groups_text(const char *const *g, size_t n, char *buf, size_t size)
{
    size_t len = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < n && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? ", " : "", g[i]);
    if (n == 0)
        snprintf(buf, size, "none");
}

static void side_groups_from_eni(struct side *s, const struct ec2_network_interface *e)
{
    s->n_groups = 0;
    for (size_t i = 0; i < e->n_groups && i < SIDE_GROUPS; i++)
        s->groups[s->n_groups++] = e->groups[i];
}

const struct ec2_network_interface *aws_path_job_eni(const struct aws_view *v,
                                                     const struct aws_path_job *job)
{
    const struct ec2_network_interface *e = job->eni ? aws_view_eni_by_id(v, job->eni) : NULL;

    return e ? e : aws_view_eni_by_ip(v, job->ip);
}

void aws_path_request(const struct aws_path_input *in, const char **store, size_t store_n,
                      struct aws_view_request *req)
{
    size_t n = 0;

    req->path = true;
    req->job_ip = in->job.ip;
    req->job_eni = in->job.eni;
    for (size_t i = 0; i < in->n_endpoints; i++)
        for (size_t j = 0; j < in->endpoints[i].n_addrs && n < store_n; j++)
            store[n++] = in->endpoints[i].addrs[j];
    req->db_ips = store;
    req->n_db_ips = n;
    req->job_vpcs = in->job.vpc ? &in->job.vpc : NULL;
    req->n_job_vpcs = in->job.vpc ? 1 : 0;
    req->job_groups = in->job.groups;
    req->n_job_groups = in->job.n_groups;
}

/* ---- the job ---- */

static const char *fetch_problem(const struct aws_fetch *f)
{
    return f->failed ? f->err.base.msg : NULL;
}

/* Settle the job's side; one path.job result. False when nothing else can be judged. */
static bool job_hop(const struct aws_view *v, const struct aws_path_input *in, struct side *s,
                    struct check_report *rep)
{
    const struct aws_path_job *job = &in->job;
    const struct ec2_network_interface *e = aws_path_job_eni(v, job);
    const char *who = job->ip ? job->ip : job->eni;
    char subject[96], groups[256];
    struct check_result *c;

    snprintf(subject, sizeof(subject), "job %s", who ? who : "?");
    memset(s, 0, sizeof(*s));
    if (!who) {
        c = check_report_add(rep, "path.job", "job", CHECK_WARN);
        check_result_detail(c, "where the job runs is unknown (%s): the path cannot be judged",
                            job->unknown_why && job->unknown_why[0] ? job->unknown_why
                                                                    : "no metadata");
        check_result_fix(c, "set aws.job.ip (or aws.job.network_interface) in the config, or "
                            "run where ECS task metadata v4 or IMDSv2 answers");
        return false;
    }
    if (e) {
        s->eni = e;
        s->ip = job->ip ? job->ip : e->private_ip;
        s->vpc = e->vpc_id;
        s->subnet = e->subnet_id;
        side_groups_from_eni(s, e);
    } else if (job->ip && job->subnet && job->vpc) {
        s->ip = job->ip;
        s->vpc = job->vpc;
        s->subnet = job->subnet;
        for (size_t i = 0; i < job->n_groups && i < SIDE_GROUPS; i++)
            s->groups[s->n_groups++] = job->groups[i];
    } else {
        c = check_report_add(rep, "path.job", subject, CHECK_WARN);
        if (fetch_problem(&v->f_enis))
            check_result_detail(c, "cannot describe the job's interface: %s",
                                fetch_problem(&v->f_enis));
        else
            check_result_detail(c,
                                "no network interface with %s is visible in region %s with "
                                "these credentials",
                                who, in->region ? in->region : "?");
        check_result_fix(c, "check aws.job and aws.region, and that the job's credentials may "
                            "call ec2:DescribeNetworkInterfaces");
        return false;
    }
    if (!cidr_parse_addr(s->ip, &s->addr)) {
        c = check_report_add(rep, "path.job", subject, CHECK_WARN);
        check_result_detail(c, "the job's address \"%s\" is not an IP address", s->ip);
        check_result_fix(c, "fix aws.job.ip");
        return false;
    }
    groups_text(s->groups, s->n_groups, groups, sizeof(groups));
    c = check_report_add(rep, "path.job", subject, CHECK_PASS);
    check_result_detail(c, "%s on %s in %s (%s), groups %s; from %s", s->ip,
                        e ? e->id : "an interface not described", s->subnet, s->vpc, groups,
                        job->source && job->source[0] ? job->source : "?");
    return true;
}

/* ---- the database ---- */

static bool database_hop(struct leg *L)
{
    const struct ec2_network_interface *e = aws_view_eni_by_ip(L->v, L->db.ip);
    struct check_result *c;
    char groups[256];

    if (e) {
        L->db.eni = e;
        L->db.vpc = e->vpc_id;
        L->db.subnet = e->subnet_id;
        side_groups_from_eni(&L->db, e);
        L->db_known = true;
        groups_text(L->db.groups, L->db.n_groups, groups, sizeof(groups));
        c = hop(L, "database", e->id, CHECK_PASS);
        check_result_detail(c, "%s:%d (%s) on %s%s%s%s in %s (%s), groups %s", L->db.ip, L->port,
                            L->ep->addr_source ? L->ep->addr_source : "address", e->id,
                            e->description[0] ? " \"" : "", e->description,
                            e->description[0] ? "\"" : "", e->subnet_id, e->vpc_id, groups);
        return true;
    }
    c = hop(L, "database", L->db.ip, CHECK_WARN);
    if (fetch_problem(&L->v->f_enis))
        check_result_detail(c, "cannot describe the interface of %s: %s", L->db.ip,
                            fetch_problem(&L->v->f_enis));
    else
        check_result_detail(c,
                            "%s:%d (%s): not visible from this account (no network interface "
                            "with this address: a peer VPC of another account, or a wrong "
                            "address)",
                            L->db.ip, L->port, L->ep->addr_source ? L->ep->addr_source : "address");
    check_result_fix(c,
                     "check by hand in the database's account: its security groups allow "
                     "tcp/%d from %s, its subnet's network ACL allows tcp/%d in and "
                     "%d-%d out to %s, and its route table sends %s back over the peering",
                     L->port, L->job.ip, L->port, AWS_EPHEMERAL_FROM, AWS_EPHEMERAL_TO, L->job.ip,
                     L->job.ip);
    return false;
}

static struct check_result *skip_db_side(struct leg *L, const char *name)
{
    struct check_result *c = hop(L, name, L->db.ip, CHECK_SKIP);

    check_result_detail(c, "not checked: the database's interface is not visible (see "
                           "path.database)");
    return c;
}

/* ---- routes ---- */

static bool side_holds(const struct ec2_vpc_side *s, const struct cidr *addr)
{
    struct infra_error ignored;
    struct cidr c;

    for (size_t i = 0; i < s->n_cidrs; i++)
        if (cidr_parse(s->cidrs[i], &c, &ignored) && cidr_covers(&c, addr))
            return true;
    return false;
}

static const char *side_cidr_for(const struct ec2_vpc_side *s, const struct cidr *addr)
{
    struct infra_error ignored;
    struct cidr c;

    for (size_t i = 0; i < s->n_cidrs; i++)
        if (cidr_parse(s->cidrs[i], &c, &ignored) && cidr_covers(&c, addr))
            return s->cidrs[i];
    return s->n_cidrs ? s->cidrs[0] : NULL;
}

/* A peering in the view between from_vpc and the VPC holding addr (to_vpc when known). */
static const struct ec2_peering *expected_peering(const struct aws_view *v, const char *from_vpc,
                                                  const char *to_vpc, const struct cidr *addr)
{
    for (size_t i = 0; i < v->peerings.n; i++) {
        const struct ec2_peering *p = &v->peerings.items[i];
        const struct ec2_vpc_side *other = aws_peer_side(p, from_vpc);
        if (!other)
            continue;
        if (to_vpc ? strcmp(other->vpc_id, to_vpc) == 0 : side_holds(other, addr))
            return p;
    }
    return NULL;
}

static bool tgw_allowed(const struct aws_path_input *in, const char *tgw)
{
    for (size_t i = 0; i < in->n_transit_gateways; i++)
        if (in->transit_gateways[i] && strcmp(in->transit_gateways[i], tgw) == 0)
            return true;
    return false;
}

/* What a route is for the message: "route 10.10.0.0/16 via pcx-0abc" (prefix list: its
 * entry too). */
static void route_text(const struct aws_route_hit *h, char *buf, size_t size)
{
    char dest[CIDR_TEXT_MAX];

    cidr_format(&h->dest, dest, sizeof(dest));
    if (h->via_prefix_list)
        snprintf(buf, size, "route %s (entry %s) via %s", h->route->dest_prefix_list, dest,
                 h->route->target[0] ? h->route->target : "?");
    else
        snprintf(buf, size, "route %s via %s", dest, h->route->target[0] ? h->route->target : "?");
}

struct route_leg {
    const struct ec2_route_table *t;
    const char *from_vpc, *to_vpc; /* to_vpc NULL when the far side is not visible */
    const char *to_ip;
    const struct cidr *to;
};

/* The fix for a route that does not reach: create (or replace) it via the peering. */
static void route_fix(struct leg *L, struct check_result *c, const struct route_leg *R,
                      const struct aws_route_hit *h, bool replace)
{
    const struct ec2_peering *p = expected_peering(L->v, R->from_vpc, R->to_vpc, R->to);
    const struct ec2_vpc_side *other = p ? aws_peer_side(p, R->from_vpc) : NULL;
    const char *dest = other ? side_cidr_for(other, R->to) : NULL;
    char exact[CIDR_TEXT_MAX];

    if (replace && h->route && !h->via_prefix_list) {
        cidr_format(&h->dest, exact, sizeof(exact));
        dest = exact;
    }
    check_result_fix(c,
                     "aws ec2 %s-route --route-table-id %s --destination-cidr-block %s%s "
                     "--vpc-peering-connection-id %s --region %s",
                     replace ? "replace" : "create", R->t->id, dest ? dest : R->to_ip,
                     dest ? "" : "/32", p ? p->id : "PCX", region(L));
}

/* Judge where the matched route sends the packet; one result. */
static void judge_route(struct leg *L, const char *name, const struct route_leg *R,
                        const char *assoc)
{
    struct aws_route_hit h;
    const struct ec2_route *r;
    char rt[160];
    struct check_result *c;

    aws_route_match(L->v, R->t, R->to, &h);
    r = h.route;
    if (!r) {
        c = hop(L, name, R->t->id, h.unknown_prefix_list[0] ? CHECK_WARN : CHECK_FAIL);
        check_result_detail(
            c, "no route in %s (%s) covers %s%s%s: packets are dropped", R->t->id, assoc, R->to_ip,
            h.unknown_prefix_list[0] ? "; unknown: the entries of " : "", h.unknown_prefix_list);
        route_fix(L, c, R, &h, false);
        return;
    }
    route_text(&h, rt, sizeof(rt));
    if (!aws_route_active(r)) {
        c = hop(L, name, R->t->id, CHECK_FAIL);
        check_result_detail(c, "%s to %s takes %s, which is %s: packets are dropped", R->t->id,
                            R->to_ip, rt, r->state);
        route_fix(L, c, R, &h, true);
        return;
    }
    if (strcmp(r->target, "local") == 0) {
        bool same = !R->to_vpc || strcmp(R->to_vpc, R->from_vpc) == 0;
        c = hop(L, name, R->t->id, same ? CHECK_PASS : CHECK_FAIL);
        check_result_detail(c, "%s (%s): %s to %s takes the local %s%s", R->t->id, assoc,
                            R->from_vpc, R->to_ip, rt, same ? "" : ", but it is in another VPC");
        if (!same)
            route_fix(L, c, R, &h, false);
        return;
    }
    if (r->pcx[0]) {
        const struct ec2_peering *p = aws_view_peering(L->v, r->pcx);
        const struct ec2_vpc_side *other = p ? aws_peer_side(p, R->from_vpc) : NULL;
        if (!p) {
            c = hop(L, name, R->t->id, CHECK_WARN);
            check_result_detail(
                c, "%s (%s): %s to %s takes %s, a peering not visible here%s%s", R->t->id, assoc,
                R->from_vpc, R->to_ip, rt, fetch_problem(&L->v->f_peerings) ? ": " : "",
                fetch_problem(&L->v->f_peerings) ? fetch_problem(&L->v->f_peerings) : "");
            check_result_fix(c, "check %s by hand: active, and between %s and the database's VPC",
                             r->pcx, R->from_vpc);
            return;
        }
        if (strcmp(p->status, "active") != 0) {
            c = hop(L, name, R->t->id, CHECK_FAIL);
            check_result_detail(c,
                                "%s (%s): %s to %s takes %s, whose peering is %s: packets are "
                                "dropped",
                                R->t->id, assoc, R->from_vpc, R->to_ip, rt, p->status);
            check_result_fix(c, "fix the peering %s first (see the peering check)", p->id);
            return;
        }
        if (!other ||
            (R->to_vpc ? strcmp(other->vpc_id, R->to_vpc) != 0 : !side_holds(other, R->to))) {
            c = hop(L, name, R->t->id, CHECK_FAIL);
            check_result_detail(
                c, "%s (%s): %s to %s takes %s, which leads to %s (%s), not to %s%s", R->t->id,
                assoc, R->from_vpc, R->to_ip, rt, other ? other->vpc_id : "another VPC",
                other && other->n_cidrs ? other->cidrs[0] : "?",
                R->to_vpc ? R->to_vpc : "the VPC holding ", R->to_vpc ? "" : R->to_ip);
            route_fix(L, c, R, &h, !h.via_prefix_list && h.dest.prefix == R->to->prefix);
            return;
        }
        c = hop(L, name, R->t->id, CHECK_PASS);
        check_result_detail(c, "%s (%s): %s to %s takes %s (active, to %s %s)", R->t->id, assoc,
                            R->from_vpc, R->to_ip, rt, other->vpc_id,
                            other->owner_id[0] ? other->owner_id : "");
        return;
    }
    if (strncmp(r->target, "tgw-", 4) == 0) {
        const struct ec2_tgw_attachment *a = aws_view_tgw_attachment(L->v, r->target, R->from_vpc);
        if (!tgw_allowed(L->in, r->target)) {
            c = hop(L, name, R->t->id, CHECK_FAIL);
            check_result_detail(c,
                                "%s (%s): %s to %s takes %s, a transit gateway the config "
                                "does not allow",
                                R->t->id, assoc, R->from_vpc, R->to_ip, rt);
            check_result_fix(c,
                             "if %s is the intended path, add it to aws.transit_gateways; "
                             "else route the database via the peering",
                             r->target);
            return;
        }
        c = hop(L, name, R->t->id,
                a && strcmp(a->state, "available") == 0 ? CHECK_PASS
                : a                                     ? CHECK_FAIL
                                                        : CHECK_WARN);
        check_result_detail(c,
                            "%s (%s): %s to %s takes %s (allowed transit gateway), attachment "
                            "%s %s",
                            R->t->id, assoc, R->from_vpc, R->to_ip, rt, a ? a->id : "of this VPC",
                            a ? a->state : "not visible");
        if (!a || strcmp(a->state, "available") != 0)
            check_result_fix(c,
                             "check the attachment of %s to %s (aws ec2 "
                             "describe-transit-gateway-attachments --region %s)",
                             r->target, R->from_vpc, region(L));
        return;
    }
    c = hop(L, name, R->t->id, CHECK_FAIL);
    check_result_detail(c, "%s (%s): %s to %s takes %s, which leaves through %s, not a peering",
                        R->t->id, assoc, R->from_vpc, R->to_ip, rt,
                        strncmp(r->target, "igw-", 4) == 0   ? "an internet gateway"
                        : strncmp(r->target, "nat-", 4) == 0 ? "a NAT gateway"
                        : strncmp(r->target, "vgw-", 4) == 0 ? "a VPN gateway"
                                                             : "another target");
    route_fix(L, c, R, &h, !h.via_prefix_list && h.dest.prefix == R->to->prefix);
}

/* The route hop from one side's subnet to the other side's address. */
static void route_hop(struct leg *L, const char *name, const struct side *from,
                      const struct side *to, bool to_known)
{
    bool explicit_assoc;
    const struct ec2_route_table *t =
        aws_view_subnet_table(L->v, from->vpc, from->subnet, &explicit_assoc);
    char assoc[96];
    struct check_result *c;

    if (!t) {
        c = hop(L, name, from->subnet, CHECK_WARN);
        if (fetch_problem(&L->v->f_tables))
            check_result_detail(c, "cannot describe the route tables of %s: %s", from->vpc,
                                fetch_problem(&L->v->f_tables));
        else
            check_result_detail(c, "no route table of %s is visible for %s", from->vpc,
                                from->subnet);
        check_result_fix(c, "check by hand that %s's route table sends %s via the peering",
                         from->subnet, to->ip);
        return;
    }
    if (explicit_assoc)
        snprintf(assoc, sizeof(assoc), "associated with %s", from->subnet);
    else
        snprintf(assoc, sizeof(assoc), "main table: %s has no association", from->subnet);
    const struct route_leg R = {t, from->vpc, to_known ? to->vpc : NULL, to->ip, &to->addr};
    judge_route(L, name, &R, assoc);
}

/* ---- security groups ---- */

static void sg_hop(struct leg *L, const char *name, const struct side *owner,
                   const struct side *other, bool egress)
{
    const struct ec2_security_group *gs[SIDE_GROUPS];
    const char *missing = NULL;
    size_t n = 0;
    struct aws_party party = {other->addr, other->groups, other->n_groups};
    struct aws_sg_verdict vd;
    char groups[256], perm[64], object[96];
    struct check_result *c;

    for (size_t i = 0; i < owner->n_groups; i++) {
        const struct ec2_security_group *g = aws_view_group(L->v, owner->groups[i]);
        if (g)
            gs[n++] = g;
        else if (!missing)
            missing = owner->groups[i];
    }
    groups_text(owner->groups, owner->n_groups, groups, sizeof(groups));
    snprintf(object, sizeof(object), "%s", groups);
    aws_sg_judge(L->v, gs, n, egress, L->port, &party, &vd);
    if (vd.allowed) {
        aws_perm_text(vd.rule, perm, sizeof(perm));
        c = hop(L, name, vd.group->id, CHECK_PASS);
        check_result_detail(c, "%s %s rule %s %s %s allows tcp/%d %s %s", vd.group->id,
                            egress ? "egress" : "ingress", perm, egress ? "to" : "from", vd.matched,
                            L->port, egress ? "to" : "from", other->ip);
        return;
    }
    if (missing || owner->n_groups == 0) {
        c = hop(L, name, object, CHECK_WARN);
        if (!missing)
            check_result_detail(c, "cannot judge: the interface's groups are not known");
        else if (fetch_problem(&L->v->f_groups))
            check_result_detail(c, "cannot judge: group %s not described: %s", missing,
                                fetch_problem(&L->v->f_groups));
        else
            check_result_detail(c, "cannot judge: group %s is not visible from this account",
                                missing);
        check_result_fix(c, "check by hand that %s allow %s tcp/%d %s %s", groups,
                         egress ? "egress" : "ingress", L->port, egress ? "to" : "from", other->ip);
        return;
    }
    c = hop(L, name, object, vd.unknown_prefix_list[0] ? CHECK_WARN : CHECK_FAIL);
    check_result_detail(
        c, "no %s rule of %s allows tcp/%d %s %s%s%s%s%s", egress ? "egress" : "ingress", groups,
        L->port, egress ? "to" : "from", other->ip,
        vd.stale_reference[0] ? "; stale reference " : "", vd.stale_reference,
        vd.unknown_prefix_list[0] ? "; unknown: the entries of " : "", vd.unknown_prefix_list);
    if (egress)
        check_result_fix(c,
                         "aws ec2 authorize-security-group-egress --group-id %s --ip-permissions "
                         "IpProtocol=tcp,FromPort=%d,ToPort=%d,IpRanges=[{CidrIp=%s/32}] "
                         "--region %s",
                         owner->groups[0], L->port, L->port, other->ip, region(L));
    else if (other->n_groups)
        check_result_fix(c,
                         "allow the job's group: aws ec2 authorize-security-group-ingress "
                         "--group-id %s --protocol tcp --port %d --source-group %s --region %s "
                         "(a group in a peer VPC needs an active peering in the same region), "
                         "or --cidr with the job subnets",
                         owner->groups[0], L->port, other->groups[0], region(L));
    else
        check_result_fix(c,
                         "aws ec2 authorize-security-group-ingress --group-id %s --protocol tcp "
                         "--port %d --cidr %s/32 --region %s",
                         owner->groups[0], L->port, other->ip, region(L));
}

/* ---- network ACLs ---- */

static void pieces_text(const struct aws_acl_verdict *vd, bool denied, char *buf, size_t size)
{
    size_t len = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < vd->n_pieces && len < size; i++) {
        const struct aws_acl_piece *p = &vd->pieces[i];
        char rule[128];
        if (p->allow == denied)
            continue;
        aws_acl_rule_text(p->rule, rule, sizeof(rule));
        if (p->from == p->to)
            len += (size_t)snprintf(buf + len, size - len, "%s%d by %s", len ? "; " : "", p->from,
                                    rule);
        else
            len += (size_t)snprintf(buf + len, size - len, "%s%d-%d by %s", len ? "; " : "",
                                    p->from, p->to, rule);
    }
}

/* One ACL hop: the ACL of `at`'s subnet, direction egress, remote = the other side's
 * address, ports from..to (the database port, or the reply range). */
static void acl_hop(struct leg *L, const char *name, const struct side *at,
                    const struct side *remote, bool egress, int from, int to)
{
    const struct ec2_network_acl *acl = aws_view_subnet_acl(L->v, at->vpc, at->subnet);
    struct aws_acl_verdict vd;
    char object[96], text[400], ports[24];
    bool reply = from != to;
    struct check_result *c;

    if (L->db_known && strcmp(L->job.subnet, L->db.subnet) == 0) {
        c = hop(L, name, at->subnet, CHECK_PASS);
        check_result_detail(c, "the job and the database share %s: network ACLs do not apply",
                            at->subnet);
        return;
    }
    if (!acl) {
        c = hop(L, name, at->subnet, CHECK_WARN);
        check_result_detail(c, "cannot judge the network ACL of %s: %s", at->subnet,
                            fetch_problem(&L->v->f_acls) ? fetch_problem(&L->v->f_acls)
                                                         : "not visible");
        check_result_fix(c, "check by hand that the network ACL of %s allows tcp %d-%d %s %s",
                         at->subnet, from, to, egress ? "to" : "from", remote->ip);
        return;
    }
    snprintf(object, sizeof(object), "%s (%s)", acl->id, at->subnet);
    if (from == to)
        snprintf(ports, sizeof(ports), "%d", from);
    else
        snprintf(ports, sizeof(ports), "%d-%d", from, to);
    aws_acl_judge(acl, egress, &remote->addr, from, to, &vd);
    if (vd.all_allowed) {
        pieces_text(&vd, false, text, sizeof(text));
        c = hop(L, name, object, CHECK_PASS);
        check_result_detail(c, "%s %s tcp %s %s %s: %s", acl->id, egress ? "outbound" : "inbound",
                            ports, egress ? "to" : "from", remote->ip, text);
        return;
    }
    pieces_text(&vd, true, text, sizeof(text));
    if (reply && aws_acl_allows(&vd, AWS_LINUX_EPHEMERAL_FROM, AWS_LINUX_EPHEMERAL_TO)) {
        c = hop(L, name, object, CHECK_WARN);
        check_result_detail(c,
                            "%s %s replies %s %s pass for ports %d-%d (the job's Linux "
                            "client ports), but these are denied: %s",
                            acl->id, egress ? "outbound" : "inbound", egress ? "to" : "from",
                            remote->ip, AWS_LINUX_EPHEMERAL_FROM, AWS_LINUX_EPHEMERAL_TO, text);
    } else {
        c = hop(L, name, object, CHECK_FAIL);
        check_result_detail(c, "%s %s tcp %s %s %s is denied: %s", acl->id,
                            egress ? "outbound" : "inbound", ports, egress ? "to" : "from",
                            remote->ip, text);
    }
    check_result_fix(c,
                     "aws ec2 create-network-acl-entry --network-acl-id %s %s--rule-number N "
                     "--protocol tcp --port-range From=%d,To=%d --cidr-block %s/32 "
                     "--rule-action allow --region %s (N below the rule that denies; a wider "
                     "CIDR for several hosts)",
                     acl->id, egress ? "--egress " : "--ingress ", from, to, remote->ip, region(L));
}

/* ---- one leg ---- */

static void run_leg(struct leg *L)
{
    if (!database_hop(L)) {
        route_hop(L, "route", &L->job, &L->db, false);
        sg_hop(L, "sg-egress", &L->job, &L->db, true);
        acl_hop(L, "job-nacl-out", &L->job, &L->db, true, L->port, L->port);
        skip_db_side(L, "db-nacl-in");
        skip_db_side(L, "sg-ingress");
        skip_db_side(L, "db-nacl-out");
        skip_db_side(L, "route-back");
        acl_hop(L, "job-nacl-in", &L->job, &L->db, false, AWS_EPHEMERAL_FROM, AWS_EPHEMERAL_TO);
        return;
    }
    route_hop(L, "route", &L->job, &L->db, true);
    sg_hop(L, "sg-egress", &L->job, &L->db, true);
    acl_hop(L, "job-nacl-out", &L->job, &L->db, true, L->port, L->port);
    acl_hop(L, "db-nacl-in", &L->db, &L->job, false, L->port, L->port);
    sg_hop(L, "sg-ingress", &L->db, &L->job, false);
    acl_hop(L, "db-nacl-out", &L->db, &L->job, true, AWS_EPHEMERAL_FROM, AWS_EPHEMERAL_TO);
    route_hop(L, "route-back", &L->db, &L->job, true);
    acl_hop(L, "job-nacl-in", &L->job, &L->db, false, AWS_EPHEMERAL_FROM, AWS_EPHEMERAL_TO);
}

static void endpoint_skip(const struct aws_path_endpoint *ep, struct check_report *rep,
                          const char *why)
{
    struct check_result *c = check_report_add(rep, "path.database", ep->name, CHECK_SKIP);

    check_result_detail(c, "not analysed: %s", why);
}

void aws_path_run(const struct aws_view *v, const struct aws_path_input *in,
                  struct check_report *rep)
{
    struct side job;

    if (!job_hop(v, in, &job, rep))
        return;
    for (size_t i = 0; i < in->n_endpoints; i++) {
        const struct aws_path_endpoint *ep = &in->endpoints[i];
        size_t analysed = 0;
        if (ep->skip_why) {
            endpoint_skip(ep, rep, ep->skip_why);
            continue;
        }
        for (size_t j = 0; j < ep->n_addrs && analysed < 4; j++) {
            struct leg L = {.v = v,
                            .in = in,
                            .ep = ep,
                            .rep = rep,
                            .job = job,
                            .port = ep->port > 0 ? ep->port : 5432};
            if (!cidr_parse_addr(ep->addrs[j], &L.db.addr) || L.db.addr.family != AF_INET)
                continue; /* the path of an IPv6 address is not analysed */
            L.db.ip = ep->addrs[j];
            run_leg(&L);
            analysed++;
        }
        if (analysed == 0)
            endpoint_skip(ep, rep, "no IPv4 address (give network.endpoints[].ip)");
    }
}
