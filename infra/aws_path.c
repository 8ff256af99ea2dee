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
#include <strings.h>
#include <sys/socket.h>

#include "infra/aws_ends.h"
#include "infra/aws_eval.h"
#include "infra/aws_failover.h"
#include "infra/aws_tgwhop.h"
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
    bool db_known;     /* the database's interface is in the view */
    const char *src;   /* where the address came from ("resolved", ...) */
    char src_via[300]; /* "resolved via NAME" when the host is an alias (CNAME) of NAME */
    int port;
    char db_at[64]; /* "10.10.5.20:5432", "[2600:1f18::5]:5432" */
};

static struct check_result *hop(struct leg *L, const char *name, const char *object,
                                enum check_status st)
{
    char group[24], subject[96];

    struct check_result *c;

    snprintf(group, sizeof(group), "path.%s", name);
    snprintf(subject, sizeof(subject), "%s %s", L->ep->name, object);
    c = check_report_add(L->rep, group, subject, st);
    /* the object without what follows it in parentheses ("acl-1 (subnet-2)": acl-1) */
    snprintf(c->object, sizeof(c->object), "%.*s", (int)strcspn(object, "("), object);
    for (size_t n = strlen(c->object); n > 0 && c->object[n - 1] == ' ';)
        c->object[--n] = '\0';
    return c;
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

/* An RDS instance's side from the RDS API: its subnet group's subnet in its zone, groups. */
static void side_from_member(struct side *s, const struct aws_path_member *m)
{
    s->vpc = m->vpc;
    s->subnet = m->subnet;
    s->n_groups = 0;
    for (size_t i = 0; i < m->n_groups && i < SIDE_GROUPS; i++)
        s->groups[s->n_groups++] = m->groups[i];
}

/* An address as a host block for a fix: "10.1.2.3/32", "2600:1f18::5/128". */
static const char *host_len(const struct cidr *c)
{
    return c->family == AF_INET6 ? "/128" : "/32";
}

/* The aws CLI option of a route destination of c's family. */
static const char *dest_flag(const struct cidr *c)
{
    return c->family == AF_INET6 ? "--destination-ipv6-cidr-block" : "--destination-cidr-block";
}

/* Does the VPC on side s of a peering hold addr (its secondary blocks too)? */
static bool side_holds(const struct aws_view *v, const struct ec2_vpc_side *s,
                       const struct cidr *addr)
{
    return aws_view_side_holds(v, s, addr, NULL, 0);
}

/* The RDS members' addresses into store (after n), their VPCs then groups into ids. */
static size_t member_request(const struct aws_path_input *in, const char **store, size_t n,
                             size_t store_n, const char **ids, size_t ids_n,
                             struct aws_view_request *req)
{
    size_t k = 0;

    for (size_t i = 0; i < in->n_endpoints; i++)
        for (size_t j = 0; j < in->endpoints[i].n_members; j++) {
            const struct aws_path_member *m = &in->endpoints[i].members[j];
            if (m->ip && n < store_n)
                store[n++] = m->ip;
            if (m->ip6 && n < store_n)
                store[n++] = m->ip6;
            if (m->vpc && k < ids_n)
                ids[k++] = m->vpc;
        }
    req->db_vpcs = ids;
    req->n_db_vpcs = k;
    for (size_t i = 0; i < in->n_endpoints; i++)
        for (size_t j = 0; j < in->endpoints[i].n_members; j++)
            for (size_t g = 0; g < in->endpoints[i].members[j].n_groups && k < ids_n; g++)
                ids[k++] = in->endpoints[i].members[j].groups[g];
    req->db_groups = ids + req->n_db_vpcs;
    req->n_db_groups = k - req->n_db_vpcs;
    return n;
}

void aws_path_request(const struct aws_path_input *in, const char **store, size_t store_n,
                      const char **ids, size_t ids_n, struct aws_view_request *req)
{
    size_t n = 0;

    req->path = true;
    req->job_ip = in->job.ip;
    req->job_eni = in->job.eni;
    for (size_t i = 0; i < in->n_endpoints; i++)
        for (size_t j = 0; j < in->endpoints[i].n_addrs && n < store_n; j++) {
            store[n++] = in->endpoints[i].addrs[j];
            if (in->endpoints[i].job_ips && in->endpoints[i].job_ips[j] && n < store_n)
                store[n++] = in->endpoints[i].job_ips[j]; /* its interface too */
        }
    n = member_request(in, store, n, store_n, ids, ids_n, req);
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
    size_t n_candidates;
    const struct ec2_network_interface *e = aws_ends_job_eni(v, job, &n_candidates);
    const char *who = job->ip ? job->ip : job->eni;
    char subject[96], groups[256], holders[300];
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
    if (!e && n_candidates > 1) {
        aws_ends_holders_text(v, job->ip, holders, sizeof(holders));
        c = check_report_add(rep, "path.job", subject, CHECK_WARN);
        check_result_detail(c,
                            "%zu network interfaces in region %s hold %s (%s): which one is the "
                            "job's is unknown, so the path is not judged",
                            n_candidates, in->region ? in->region : "?", job->ip, holders);
        check_result_fix(c, "set aws.job.network_interface to the job's interface (or run where "
                            "ECS task metadata v4 or IMDSv2 gives its MAC)");
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
    snprintf(c->object, sizeof(c->object), "%s", e ? e->id : s->ip);
    check_result_detail(c, "%s on %s in %s (%s), groups %s; from %s", s->ip,
                        e ? e->id : "an interface not described", s->subnet, s->vpc, groups,
                        job->source && job->source[0] ? job->source : "?");
    return true;
}

/* ---- the database ---- */

/* The side of the peering the job's route sends the database address over (*pcx), or
 * NULL when the route takes no peering in the view. */
static const struct ec2_vpc_side *route_far_side(const struct leg *L,
                                                 const struct ec2_peering **pcx)
{
    bool explicit_assoc;
    const struct ec2_route_table *t =
        aws_view_subnet_table(L->v, L->job.vpc, L->job.subnet, &explicit_assoc);
    struct aws_route_hit h;

    if (!t)
        return NULL;
    aws_route_match(L->v, t, &L->db.addr, &h);
    if (!h.route || !h.route->pcx[0] || !(*pcx = aws_view_peering(L->v, h.route->pcx)))
        return NULL;
    return aws_peer_side(*pcx, L->job.vpc);
}

/* The ports the replies go to: the job's client ports when known, else 1024-65535. */
static void client_range(const struct leg *L, int *lo, int *hi)
{
    *lo = L->in->client_from > 0 ? L->in->client_from : AWS_EPHEMERAL_FROM;
    *hi = L->in->client_from > 0 ? L->in->client_to : AWS_EPHEMERAL_TO;
}

static bool database_hop(struct leg *L)
{
    size_t n_candidates;
    const struct ec2_network_interface *e =
        aws_ends_db_eni(L->v, L->job.vpc, L->job.subnet, L->db.ip, &n_candidates);
    const char *to_vpc, *tgw;
    const struct ec2_peering *pcx = NULL;
    const struct ec2_vpc_side *far;
    const struct aws_path_member *m;
    struct check_result *c;
    char groups[256], holders[300], where[200];
    bool other_region, other_account;
    /* an IPv6 address's interface is looked up by another call */
    const struct aws_fetch *enis_fetch =
        L->db.addr.family == AF_INET6 ? &L->v->f_enis6 : &L->v->f_enis;
    int lo, hi;

    if (e) {
        L->db.eni = e;
        L->db.vpc = e->vpc_id;
        L->db.subnet = e->subnet_id;
        side_groups_from_eni(&L->db, e);
        L->db_known = true;
        groups_text(L->db.groups, L->db.n_groups, groups, sizeof(groups));
        c = hop(L, "database", e->id, CHECK_PASS);
        check_result_detail(c, "%s (%s) on %s%s%s%s in %s (%s), groups %s", L->db_at, L->src, e->id,
                            e->description[0] ? " \"" : "", e->description,
                            e->description[0] ? "\"" : "", e->subnet_id, e->vpc_id, groups);
        return true;
    }
    if ((m = aws_failover_current(L->ep, L->db.ip)) != NULL) {
        side_from_member(&L->db, m); /* where the RDS API says it runs */
        L->db_known = true;
        groups_text(L->db.groups, L->db.n_groups, groups, sizeof(groups));
        c = hop(L, "database", m->instance, CHECK_PASS);
        aws_failover_current_detail(c, m, L->db_at, L->src, groups);
        return true;
    }
    c = hop(L, "database", L->db.ip, CHECK_WARN);
    aws_ends_holders_text(L->v, L->db.ip, holders, sizeof(holders));
    far = route_far_side(L, &pcx);
    other_region = far && far->region[0] && L->in->region && strcmp(far->region, L->in->region);
    other_account = far && far->owner_id[0] && L->job.eni && L->job.eni->owner_id[0] &&
                    strcmp(far->owner_id, L->job.eni->owner_id) != 0;
    if (fetch_problem(enis_fetch))
        check_result_detail(c, "cannot describe the interface of %s: %s", L->db.ip,
                            fetch_problem(enis_fetch));
    else if (n_candidates == 0 && other_region)
        check_result_detail(c,
                            "%s (%s): not visible from region %s: the job's route leads over "
                            "%s to %s (account %s) in region %s, which this preflight does not "
                            "describe",
                            L->db_at, L->src, L->in->region, pcx->id, far->vpc_id,
                            far->owner_id[0] ? far->owner_id : "?", far->region);
    else if (n_candidates == 0 && other_account)
        check_result_detail(c,
                            "%s (%s): not visible from this account: the job's route leads "
                            "over %s to %s of account %s",
                            L->db_at, L->src, pcx->id, far->vpc_id, far->owner_id);
    else if (n_candidates == 0)
        check_result_detail(c,
                            "%s (%s): not visible from this account (no network interface "
                            "with this address: a peer VPC of another account, or a wrong "
                            "address)",
                            L->db_at, L->src);
    else if (aws_ends_route_leads_to(L->v, L->job.vpc, L->job.subnet, &L->db.addr, &to_vpc, &tgw) &&
             to_vpc)
        check_result_detail(c,
                            "%s (%s): not visible from this account in %s, where the job's "
                            "route leads; %s, holding the same address, %s not on the path",
                            L->db_at, L->src, to_vpc, holders, n_candidates == 1 ? "is" : "are");
    else
        check_result_detail(c,
                            "%s (%s): %zu network interfaces hold this address (%s) and the "
                            "job's route leads to none of their VPCs (see path.route): which "
                            "one is the database is unknown",
                            L->db_at, L->src, n_candidates, holders);
    if (other_region && n_candidates == 0)
        snprintf(where, sizeof(where),
                 "region %s (aws ec2 describe-network-interfaces --region %s --filters "
                 "Name=addresses.private-ip-address,Values=%s)",
                 far->region, far->region, L->db.ip);
    else if (other_account && n_candidates == 0)
        snprintf(where, sizeof(where), "account (%s)", far->owner_id);
    else
        snprintf(where, sizeof(where), "account");
    client_range(L, &lo, &hi);
    check_result_fix(c,
                     "check by hand in the database's %s: its security groups allow tcp/%d from "
                     "%s, its subnet's network ACL allows tcp/%d in and %d-%d out to %s, and its "
                     "route table sends %s back over the peering",
                     where, L->port, L->job.ip, L->port, lo, hi, L->job.ip, L->job.ip);
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

/* A peering in the view between from_vpc and the VPC holding addr (to_vpc when known): an
 * active one first (a deleted one of the same two VPCs may still be listed). */
static const struct ec2_peering *expected_peering(const struct aws_view *v, const char *from_vpc,
                                                  const char *to_vpc, const struct cidr *addr)
{
    const struct ec2_peering *any = NULL;

    for (size_t i = 0; i < v->peerings.n; i++) {
        const struct ec2_peering *p = &v->peerings.items[i];
        const struct ec2_vpc_side *other = aws_peer_side(p, from_vpc);
        if (!other || !(to_vpc ? strcmp(other->vpc_id, to_vpc) == 0 : side_holds(v, other, addr)))
            continue;
        if (strcmp(p->status, "active") == 0)
            return p;
        any = any ? any : p;
    }
    return any;
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
    const char *from_subnet;       /* where the packets leave from */
    const char *to_ip;
    const struct cidr *to;
};

/*
 * The fix for an address of the table's own VPC that a route more specific than the local
 * one sends elsewhere (allowed since 2021, for middleboxes): without that route the local
 * route carries it again. A VPC block's own route whose target was replaced is restored.
 */
static void own_vpc_fix(struct leg *L, struct check_result *c, const struct route_leg *R,
                        const struct aws_route_hit *h, const char *prefix)
{
    char args[96];

    if (!h->route) {
        check_result_fix(c, "%scheck by hand why no local route of %s covers %s", prefix, R->t->id,
                         R->to_ip);
        return;
    }
    aws_route_dest_args(h->route, args, sizeof(args));
    if (strcmp(h->route->origin, "CreateRouteTable") == 0)
        check_result_fix(c,
                         "%saws ec2 replace-route --route-table-id %s %s --local-target "
                         "--region %s (the VPC's own route back to its local target)",
                         prefix, R->t->id, args, region(L));
    else
        check_result_fix(c,
                         "%saws ec2 delete-route --route-table-id %s %s --region %s (%s is in %s: "
                         "the local route then carries it)%s%s",
                         prefix, R->t->id, args, region(L), R->to_ip, R->from_vpc,
                         h->via_prefix_list ? "; or remove the entry from " : "",
                         h->via_prefix_list ? h->route->dest_prefix_list : "");
}

/*
 * The fix for a route that does not reach: a route via the peering that wins the longest
 * match for the address. With no route, or a matched route wider than the block of the
 * peer VPC that holds the address (secondary blocks too), a route for that block; else
 * the matched route itself is replaced (a CIDR route), or beaten by a static route for
 * its prefix list entry (static before prefix list at the same length). `prefix` goes
 * before the command ("if ...: ").
 */
static void route_fix(struct leg *L, struct check_result *c, const struct route_leg *R,
                      const struct aws_route_hit *h, const char *prefix)
{
    const struct ec2_peering *p = expected_peering(L->v, R->from_vpc, R->to_vpc, R->to);
    const struct ec2_vpc_side *other = p ? aws_peer_side(p, R->from_vpc) : NULL;
    char block[CIDR_TEXT_MAX] = "", dest[CIDR_TEXT_MAX + 96], args[96];
    bool have_block = other && aws_view_side_holds(L->v, other, R->to, block, sizeof(block));
    struct infra_error ignored;
    struct cidr bc;
    bool replace = false;

    if (R->to_vpc && strcmp(R->to_vpc, R->from_vpc) == 0) {
        own_vpc_fix(L, c, R, h, prefix);
        return;
    }
    if (!p && R->to_vpc) {
        check_result_fix(c,
                         "%sno peering between %s and %s is visible: create and accept one "
                         "(aws ec2 create-vpc-peering-connection --vpc-id %s --peer-vpc-id %s "
                         "--region %s), then route %s via it in %s",
                         prefix, R->from_vpc, R->to_vpc, R->from_vpc, R->to_vpc, region(L),
                         R->to_ip, R->t->id);
        return;
    }
    if (have_block &&
        (!h->route || (cidr_parse(block, &bc, &ignored) && bc.prefix > h->dest.prefix)))
        snprintf(dest, sizeof(dest), "%s %s", dest_flag(R->to), block);
    else if (h->route && !h->via_prefix_list) {
        aws_route_dest_args(h->route, args, sizeof(args));
        snprintf(dest, sizeof(dest), "%s", args);
        replace = true;
    } else if (h->route) {
        cidr_format(&h->dest, args, sizeof(args));
        snprintf(dest, sizeof(dest), "%s %s", dest_flag(R->to), args);
    } else if (other) {
        snprintf(dest, sizeof(dest), "%s <the block of %s that holds %s>", dest_flag(R->to),
                 other->vpc_id[0] ? other->vpc_id : "the database's VPC", R->to_ip);
    } else {
        snprintf(dest, sizeof(dest), "%s %s%s", dest_flag(R->to), R->to_ip, host_len(R->to));
    }
    if (p)
        check_result_fix(c,
                         "%saws ec2 %s-route --route-table-id %s %s --vpc-peering-connection-id "
                         "%s --region %s%s",
                         prefix, replace ? "replace" : "create", R->t->id, dest, p->id, region(L),
                         replace && aws_route_active(h->route)
                             ? " (that route's other traffic then takes the peering too)"
                             : "");
    else
        check_result_fix(c,
                         "%saws ec2 %s-route --route-table-id %s %s --vpc-peering-connection-id "
                         "<the peering to the database's VPC> --region %s",
                         prefix, replace ? "replace" : "create", R->t->id, dest, region(L));
}

/* The local route: the address must be in this VPC. */
static void judge_local(struct leg *L, const char *name, const struct route_leg *R,
                        const char *assoc, const struct aws_route_hit *h, const char *rt)
{
    bool same = !R->to_vpc || strcmp(R->to_vpc, R->from_vpc) == 0;
    struct check_result *c = hop(L, name, R->t->id, same ? CHECK_PASS : CHECK_FAIL);

    check_result_detail(c, "%s (%s): %s to %s takes the local %s%s", R->t->id, assoc, R->from_vpc,
                        R->to_ip, rt, same ? "" : ", but it is in another VPC");
    if (!same)
        route_fix(L, c, R, h, "");
}

/* A route via a peering: active, and leading to the VPC of the address. */
static void judge_peering(struct leg *L, const char *name, const struct route_leg *R,
                          const char *assoc, const struct aws_route_hit *h, const char *rt)
{
    const struct ec2_route *r = h->route;
    const struct ec2_peering *p = aws_view_peering(L->v, r->pcx);
    const struct ec2_vpc_side *other = p ? aws_peer_side(p, R->from_vpc) : NULL;
    struct check_result *c;

    if (!p) {
        c = hop(L, name, R->t->id, CHECK_WARN);
        check_result_detail(
            c, "%s (%s): %s to %s takes %s, a peering not visible here%s%s", R->t->id, assoc,
            R->from_vpc, R->to_ip, rt, fetch_problem(&L->v->f_peerings) ? ": " : "",
            fetch_problem(&L->v->f_peerings) ? fetch_problem(&L->v->f_peerings) : "");
        check_result_fix(c,
                         "check %s by hand: aws ec2 describe-vpc-peering-connections "
                         "--vpc-peering-connection-ids %s --region %s (active, between %s and "
                         "the database's VPC)",
                         r->pcx, r->pcx, region(L), R->from_vpc);
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
        (R->to_vpc ? strcmp(other->vpc_id, R->to_vpc) != 0 : !side_holds(L->v, other, R->to))) {
        c = hop(L, name, R->t->id, CHECK_FAIL);
        check_result_detail(c, "%s (%s): %s to %s takes %s, which leads to %s (%s), not to %s%s",
                            R->t->id, assoc, R->from_vpc, R->to_ip, rt,
                            other ? other->vpc_id : "another VPC",
                            other && other->n_cidrs ? other->cidrs[0] : "?",
                            R->to_vpc ? R->to_vpc : "the VPC holding ", R->to_vpc ? "" : R->to_ip);
        route_fix(L, c, R, h, "");
        return;
    }
    c = hop(L, name, R->t->id, CHECK_PASS);
    check_result_detail(c, "%s (%s): %s to %s takes %s (active, to %s %s)", R->t->id, assoc,
                        R->from_vpc, R->to_ip, rt, other->vpc_id,
                        other->owner_id[0] ? other->owner_id : "");
}

/* Past the attachment: the transit gateway's route table associated with it must send the
 * address to the attachment of the VPC that holds it. One result. */
static void judge_tgw_table(struct leg *L, const char *name, const struct route_leg *R,
                            const char *rt, const struct ec2_tgw_attachment *a)
{
    const struct aws_tgw_table *T = aws_view_tgw_table(L->v, a->assoc_table);
    const char *tgw = a->tgw_id;
    const struct ec2_tgw_route *m;
    const struct ec2_tgw_attachment *to;
    char att[96], search[300], attach_first[300] = "";
    struct check_result *c;
    bool unknown_pl;

    snprintf(search, sizeof(search),
             "aws ec2 search-transit-gateway-routes --transit-gateway-route-table-id %s "
             "--filters Name=route-search.longest-prefix-match,Values=%s%s --region %s",
             a->assoc_table[0] ? a->assoc_table : "TABLE", R->to_ip, host_len(R->to), region(L));
    if (!a->assoc_table[0] || (a->assoc_state[0] && strcmp(a->assoc_state, "associated") != 0)) {
        c = hop(L, name, R->t->id, CHECK_FAIL);
        check_result_detail(c,
                            "%s: %s to %s takes %s; attachment %s is associated with no route "
                            "table of %s%s%s: the transit gateway drops the packets",
                            R->t->id, R->from_vpc, R->to_ip, rt, a->id, tgw,
                            a->assoc_state[0] ? ", association " : "", a->assoc_state);
        check_result_fix(c,
                         "aws ec2 associate-transit-gateway-route-table "
                         "--transit-gateway-route-table-id <a route table of %s> "
                         "--transit-gateway-attachment-id %s --region %s",
                         tgw, a->id, region(L));
        return;
    }
    if (!T || T->fetch.failed) {
        c = hop(L, name, R->t->id, CHECK_WARN);
        check_result_detail(c,
                            "%s: %s to %s takes %s, attachment %s available; its route table %s "
                            "cannot be read%s%s (a transit gateway of another account?)",
                            R->t->id, R->from_vpc, R->to_ip, rt, a->id, a->assoc_table,
                            T ? ": " : "", T ? T->fetch.err.base.msg : "");
        check_result_fix(c,
                         "check by hand in the transit gateway's account that %s leads to %s: %s",
                         R->to_ip, R->to_vpc ? R->to_vpc : "the database's VPC", search);
        return;
    }
    m = aws_tgw_route_match(&T->routes, R->to, &unknown_pl);
    if (!m || strcmp(m->state, "active") != 0) {
        c = hop(L, name, R->t->id, !m && (unknown_pl || T->routes.more) ? CHECK_WARN : CHECK_FAIL);
        if (m)
            check_result_detail(c,
                                "%s: %s to %s takes %s; in %s (the table of %s) route %s is %s: "
                                "the transit gateway drops the packets",
                                R->t->id, R->from_vpc, R->to_ip, rt, T->id, a->id, m->dest_cidr,
                                m->state);
        else
            check_result_detail(c,
                                "%s: %s to %s takes %s; no route of %s (the table of %s) covers "
                                "%s%s: the transit gateway drops the packets",
                                R->t->id, R->from_vpc, R->to_ip, rt, T->id, a->id, R->to_ip,
                                unknown_pl || T->routes.more
                                    ? " (unknown: its prefix-list routes, or routes it held back)"
                                    : "");
        to = R->to_vpc ? aws_view_tgw_attachment(L->v, tgw, R->to_vpc) : NULL;
        if (R->to_vpc && !to)
            snprintf(attach_first, sizeof(attach_first),
                     "attach %s first (aws ec2 create-transit-gateway-vpc-attachment "
                     "--transit-gateway-id %s --vpc-id %s --subnet-ids <one subnet per AZ>), "
                     "then ",
                     R->to_vpc, tgw, R->to_vpc);
        check_result_fix(
            c,
            "%saws ec2 %s-transit-gateway-route --transit-gateway-route-table-id %s "
            "--destination-cidr-block %s --transit-gateway-attachment-id %s "
            "--region %s",
            attach_first, m ? "replace" : "create", T->id,
            m ? m->dest_cidr
              : (R->to_vpc ? "<the CIDR of the database's VPC>" : "<the database's CIDR>"),
            aws_tgwhop_attachment_for(L->v, tgw, R->to_vpc, att, sizeof(att)), region(L));
        return;
    }
    if (m->n_attachments == 0 || !m->resource_id[0]) {
        c = hop(L, name, R->t->id, CHECK_WARN);
        check_result_detail(c,
                            "%s: %s to %s takes %s; %s (the table of %s) has route %s (%s, "
                            "active), but it names no attachment: where it leads is unknown",
                            R->t->id, R->from_vpc, R->to_ip, rt, T->id, a->id, m->dest_cidr,
                            m->type);
        check_result_fix(c, "check by hand that it leads to %s: %s",
                         R->to_vpc ? R->to_vpc : "the database's VPC", search);
        return;
    }
    if (strcmp(m->resource_type, "vpc") != 0) {
        c = hop(L, name, R->t->id, CHECK_WARN);
        check_result_detail(c,
                            "%s: %s to %s takes %s; %s sends it by route %s to %s (a %s "
                            "attachment, %s): the analysis does not follow it",
                            R->t->id, R->from_vpc, R->to_ip, rt, T->id, m->dest_cidr, m->attachment,
                            m->resource_type, m->resource_id);
        check_result_fix(c, "check by hand that %s reaches %s through %s", R->to_ip,
                         R->to_vpc ? R->to_vpc : "the database's VPC", m->attachment);
        return;
    }
    if (R->to_vpc && strcmp(m->resource_id, R->to_vpc) != 0) {
        c = hop(L, name, R->t->id, CHECK_FAIL);
        check_result_detail(c,
                            "%s: %s to %s takes %s; %s sends it by route %s to %s (%s), not to %s",
                            R->t->id, R->from_vpc, R->to_ip, rt, T->id, m->dest_cidr, m->attachment,
                            m->resource_id, R->to_vpc);
        check_result_fix(c,
                         "aws ec2 %s-transit-gateway-route --transit-gateway-route-table-id %s "
                         "--destination-cidr-block %s --transit-gateway-attachment-id %s "
                         "--region %s",
                         "replace", T->id, m->dest_cidr,
                         aws_tgwhop_attachment_for(L->v, tgw, R->to_vpc, att, sizeof(att)),
                         region(L));
        return;
    }
    to = aws_view_tgw_attachment(L->v, tgw, m->resource_id);
    if (to && strcmp(to->state, "available") != 0) {
        c = hop(L, name, R->t->id, CHECK_FAIL);
        check_result_detail(c, "%s: %s to %s takes %s; %s sends it to %s (%s), which is %s",
                            R->t->id, R->from_vpc, R->to_ip, rt, T->id, to->id, to->resource_id,
                            to->state);
        check_result_fix(c,
                         "check the attachment %s of %s (aws ec2 "
                         "describe-transit-gateway-attachments --transit-gateway-attachment-ids "
                         "%s --region %s)",
                         to->id, to->resource_id, to->id, region(L));
        return;
    }
    c = hop(L, name, R->t->id, CHECK_PASS);
    check_result_detail(c,
                        "%s: %s to %s takes %s (allowed), attachment %s available; its table %s "
                        "sends it by route %s (%s) to %s (%s)",
                        R->t->id, R->from_vpc, R->to_ip, rt, a->id, T->id, m->dest_cidr, m->type,
                        m->attachment, m->resource_id);
    check_result_rule(c, "%s; %s route %s to %s", rt, T->id, m->dest_cidr, m->attachment);
}

/* A route via a transit gateway: one the config allows, attached to this VPC, whose route
 * table sends the address on to the VPC that holds it. */
static void judge_tgw(struct leg *L, const char *name, const struct route_leg *R, const char *assoc,
                      const struct aws_route_hit *h, const char *rt)
{
    const struct ec2_route *r = h->route;
    const struct ec2_tgw_attachment *a = aws_view_tgw_attachment(L->v, r->target, R->from_vpc);
    struct check_result *c;
    char prefix[160], lead[300];
    struct aws_tgwhop_zone z;

    if (!aws_tgwhop_allowed(L->in, r->target)) {
        c = hop(L, name, R->t->id, CHECK_FAIL);
        check_result_detail(c,
                            "%s (%s): %s to %s takes %s, a transit gateway the config does not "
                            "allow",
                            R->t->id, assoc, R->from_vpc, R->to_ip, rt);
        snprintf(prefix, sizeof(prefix),
                 "if %s is the intended path, add it to aws.transit_gateways; else ", r->target);
        route_fix(L, c, R, h, prefix);
        return;
    }
    if (a && strcmp(a->state, "available") == 0) {
        aws_tgwhop_zone(L->v, a, R->from_subnet, &z);
        c = z.verdict == AWS_TGWHOP_NOT_SERVED ? hop(L, name, R->t->id, CHECK_FAIL) : NULL;
        snprintf(lead, sizeof(lead), "%s (%s): %s to %s takes %s (allowed transit gateway)",
                 R->t->id, assoc, R->from_vpc, R->to_ip, rt);
        if (c)
            aws_tgwhop_zone_fail(c, &z, a, R->from_subnet, lead, region(L));
        else
            judge_tgw_table(L, name, R, rt, a);
        aws_tgwhop_zone_unknown(&L->rep->items[L->rep->n - 1], &z, a, R->from_subnet, region(L));
        return;
    }
    c = hop(L, name, R->t->id, a ? CHECK_FAIL : CHECK_WARN);
    check_result_detail(c, "%s (%s): %s to %s takes %s (allowed transit gateway), attachment %s %s",
                        R->t->id, assoc, R->from_vpc, R->to_ip, rt, a ? a->id : "of this VPC",
                        a ? a->state : "not visible");
    check_result_fix(c,
                     "check the attachment of %s to %s (aws ec2 "
                     "describe-transit-gateway-attachments --filters "
                     "Name=transit-gateway-id,Values=%s Name=resource-id,Values=%s --region %s)",
                     r->target, R->from_vpc, r->target, R->from_vpc, region(L));
}

/* Judge where the matched route sends the packet; one result. */
static void judge_route(struct leg *L, const char *name, const struct route_leg *R,
                        const char *assoc)
{
    struct aws_route_hit h;
    const struct ec2_route *r;
    char rt[160], prefix[256];
    struct check_result *c;

    aws_route_match(L->v, R->t, R->to, &h);
    r = h.route;
    if (!r) {
        c = hop(L, name, R->t->id, h.unknown_prefix_list[0] ? CHECK_WARN : CHECK_FAIL);
        check_result_detail(
            c, "no route in %s (%s) covers %s%s%s: packets are dropped", R->t->id, assoc, R->to_ip,
            h.unknown_prefix_list[0] ? "; unknown: the entries of " : "", h.unknown_prefix_list);
        route_fix(L, c, R, &h, "");
        return;
    }
    route_text(&h, rt, sizeof(rt));
    if (!aws_route_active(r)) {
        c = hop(L, name, R->t->id, CHECK_FAIL);
        check_result_detail(c, "%s to %s takes %s, which is %s: packets are dropped", R->t->id,
                            R->to_ip, rt, r->state);
        route_fix(L, c, R, &h, "");
        return;
    }
    switch (aws_route_target_kind(r)) {
    case AWS_TARGET_LOCAL:
        judge_local(L, name, R, assoc, &h, rt);
        return;
    case AWS_TARGET_PEERING:
        judge_peering(L, name, R, assoc, &h, rt);
        return;
    case AWS_TARGET_TGW:
        judge_tgw(L, name, R, assoc, &h, rt);
        return;
    case AWS_TARGET_APPLIANCE:
        c = hop(L, name, R->t->id, CHECK_WARN);
        check_result_detail(c,
                            "%s (%s): %s to %s takes %s, through %s: the analysis does not "
                            "follow the packets past it",
                            R->t->id, assoc, R->from_vpc, R->to_ip, rt, aws_route_target_what(r));
        snprintf(prefix, sizeof(prefix),
                 "check by hand that %s sends tcp/%d for %s on to the peering (its subnet's "
                 "route table, its own rules); if the packets must not go through it: ",
                 r->target, L->port, R->to_ip);
        route_fix(L, c, R, &h, prefix);
        return;
    case AWS_TARGET_EXIT:
    case AWS_TARGET_NONE:
        break;
    }
    c = hop(L, name, R->t->id, CHECK_FAIL);
    check_result_detail(c, "%s (%s): %s to %s takes %s, which leaves through %s, not a peering",
                        R->t->id, assoc, R->from_vpc, R->to_ip, rt, aws_route_target_what(r));
    route_fix(L, c, R, &h, "");
}

/* The route that decided, on the hop just added (a transit gateway's hop has set its own,
 * with the gateway's route). */
static void route_rule(struct leg *L, const struct route_leg *R)
{
    struct check_result *c = L->rep->n ? &L->rep->items[L->rep->n - 1] : NULL;
    struct aws_route_hit h;
    char rt[160];

    if (!c || c->rule[0])
        return;
    aws_route_match(L->v, R->t, R->to, &h);
    if (!h.route)
        return;
    route_text(&h, rt, sizeof(rt));
    check_result_rule(c, "%s", rt);
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
    const struct route_leg R = {t,      from->vpc, to_known ? to->vpc : NULL, from->subnet,
                                to->ip, &to->addr};
    judge_route(L, name, &R, assoc);
    route_rule(L, &R);
}

/* ---- security groups ---- */

static void sg_hop(struct leg *L, const char *name, const struct side *owner,
                   const struct side *other, bool egress)
{
    const struct ec2_security_group *gs[SIDE_GROUPS];
    const char *missing = NULL;
    size_t n = 0;
    /* an interface not visible (the database in another account, the job without one)
     * has groups nobody knows: a rule naming a group may or may not let it through */
    struct aws_party party = {
        other->addr, other->groups, other->n_groups, !other->eni && other->n_groups == 0,
        NULL,        NULL};
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
    if (owner->vpc && other->vpc && strcmp(owner->vpc, other->vpc) != 0) /* the request's way */
        aws_ends_carrier(L->v, L->job.vpc, L->job.subnet, &L->db.addr, &party.via_pcx,
                         &party.via_tgw);
    aws_sg_judge(L->v, gs, n, egress, L->port, &party, &vd);
    if (vd.allowed) {
        aws_perm_text(vd.rule, perm, sizeof(perm));
        c = hop(L, name, vd.group->id, CHECK_PASS);
        check_result_detail(c, "%s %s rule %s %s %s allows tcp/%d %s %s", vd.group->id,
                            egress ? "egress" : "ingress", perm, egress ? "to" : "from", vd.matched,
                            L->port, egress ? "to" : "from", other->ip);
        check_result_rule(c, "%s %s rule %s %s %s", vd.group->id, egress ? "egress" : "ingress",
                          perm, egress ? "to" : "from", vd.matched);
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
    c = hop(L, name, object,
            vd.unknown_prefix_list[0] || vd.unknown_group[0] || vd.unknown_reference[0]
                ? CHECK_WARN
                : CHECK_FAIL);
    check_result_detail(
        c, "no %s rule of %s allows tcp/%d %s %s%s%s%s%s%s%s%s%s%s%s",
        egress ? "egress" : "ingress", groups, L->port, egress ? "to" : "from", other->ip,
        vd.stale_reference[0] ? "; stale reference " : "", vd.stale_reference,
        vd.unknown_prefix_list[0] ? "; unknown: the entries of " : "", vd.unknown_prefix_list,
        vd.unknown_group[0] ? "; unknown: whether " : "", vd.unknown_group[0] ? other->ip : "",
        vd.unknown_group[0] ? " is in " : "", vd.unknown_group,
        vd.unknown_reference[0] ? "; unknown: whether the gateway's security group referencing "
                                  "is on for "
                                : "",
        vd.unknown_reference);
    if (vd.unknown_reference[0] && !vd.unknown_prefix_list[0] && !vd.unknown_group[0])
        check_result_fix(c,
                         "check by hand that %s has security group referencing on, and both "
                         "its VPC attachments (aws ec2 describe-transit-gateways "
                         "--transit-gateway-ids %s --region %s); or allow %s%s in %s",
                         party.via_tgw, party.via_tgw, region(L), other->ip, host_len(&other->addr),
                         owner->groups[0]);
    else if (vd.unknown_group[0] && !vd.unknown_prefix_list[0])
        check_result_fix(c,
                         "check by hand whether %s belongs to %s (the rule naming it then "
                         "allows it); if not, allow %s tcp/%d %s %s%s in %s",
                         other->ip, vd.unknown_group, egress ? "egress" : "ingress", L->port,
                         egress ? "to" : "from", other->ip, host_len(&other->addr),
                         owner->groups[0]);
    else if (egress)
        check_result_fix(c,
                         "aws ec2 authorize-security-group-egress --group-id %s --ip-permissions "
                         "IpProtocol=tcp,FromPort=%d,ToPort=%d,%s=[{%s=%s%s}] "
                         "--region %s",
                         owner->groups[0], L->port, L->port,
                         other->addr.family == AF_INET6 ? "Ipv6Ranges" : "IpRanges",
                         other->addr.family == AF_INET6 ? "CidrIpv6" : "CidrIp", other->ip,
                         host_len(&other->addr), region(L));
    else if (other->n_groups && !party.via_tgw) /* no reference over a gateway by default */
        check_result_fix(c,
                         "allow the job's group: aws ec2 authorize-security-group-ingress "
                         "--group-id %s --protocol tcp --port %d --source-group %s --region %s "
                         "(a group in a peer VPC needs an active peering in the same region), "
                         "or --cidr with the job subnets",
                         owner->groups[0], L->port, other->groups[0], region(L));
    else if (other->addr.family == AF_INET6) /* --cidr takes IPv4 only */
        check_result_fix(c,
                         "aws ec2 authorize-security-group-ingress --group-id %s --ip-permissions "
                         "IpProtocol=tcp,FromPort=%d,ToPort=%d,Ipv6Ranges=[{CidrIpv6=%s/128}] "
                         "--region %s",
                         owner->groups[0], L->port, L->port, other->ip, region(L));
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

/* Is every refused part refused by a deny rule (none by the final "*" rule)? */
static bool only_deny_rules(const struct aws_acl_verdict *vd)
{
    for (size_t i = 0; i < vd->n_pieces; i++)
        if (!vd->pieces[i].allow && !vd->pieces[i].rule)
            return false;
    return !vd->more;
}

/* The first refused part that meets lo..hi, clipped to it, into *out; false when none. */
static bool first_refused(const struct aws_acl_verdict *vd, int lo, int hi,
                          struct aws_acl_piece *out)
{
    for (size_t i = 0; i < vd->n_pieces; i++) {
        const struct aws_acl_piece *p = &vd->pieces[i];
        if (p->allow || p->to < lo || p->from > hi)
            continue;
        *out = *p;
        out->from = p->from > lo ? p->from : lo;
        out->to = p->to < hi ? p->to : hi;
        return true;
    }
    return false;
}

/* Ports of from..to that vd refuses. */
static long refused_ports(const struct aws_acl_verdict *vd, int from, int to)
{
    long n = 0;

    for (size_t i = 0; i < vd->n_pieces; i++) {
        const struct aws_acl_piece *p = &vd->pieces[i];
        int lo = p->from > from ? p->from : from, hi = p->to < to ? p->to : to;
        if (!p->allow && lo <= hi)
            n += hi - lo + 1;
    }
    return n;
}

/* The fix for the first part of lo..hi that vd refuses (the whole lo..hi when none). */
static void acl_fix(struct leg *L, struct check_result *c, const struct ec2_network_acl *acl,
                    const struct side *remote, bool egress, const struct aws_acl_verdict *vd,
                    int lo, int hi)
{
    struct aws_acl_piece d;
    bool have_d = first_refused(vd, lo, hi, &d);
    char number[80];

    if (have_d && d.rule)
        snprintf(number, sizeof(number), "N below %d (rule %d denies it: check why first)",
                 d.rule->rule_number, d.rule->rule_number);
    else
        snprintf(number, sizeof(number), "N any free number (no rule matches it now)");
    check_result_fix(c,
                     "aws ec2 create-network-acl-entry --network-acl-id %s %s--rule-number N "
                     "--protocol tcp --port-range From=%d,To=%d --%scidr-block %s%s "
                     "--rule-action allow --region %s (%s; a wider CIDR for several hosts)",
                     acl->id, egress ? "--egress " : "--ingress ", have_d ? d.from : lo,
                     have_d ? d.to : hi, remote->addr.family == AF_INET6 ? "ipv6-" : "", remote->ip,
                     host_len(&remote->addr), region(L), number);
}

/* Replies when the job's client ports are known: exactly those must pass. */
static void reply_hop_known(struct leg *L, const char *name, const char *object,
                            const struct ec2_network_acl *acl, const struct side *remote,
                            bool egress)
{
    const struct aws_path_input *in = L->in;
    int lo = in->client_from, hi = in->client_to;
    struct aws_acl_verdict vd;
    struct check_result *c;
    char text[400];
    long refused;

    aws_acl_judge(acl, egress, &remote->addr, lo, hi, &vd);
    if (vd.all_allowed) {
        pieces_text(&vd, false, text, sizeof(text));
        c = hop(L, name, object, CHECK_PASS);
        check_result_detail(c, "%s %s replies %s %s pass on the job's client ports %d-%d (%s): %s",
                            acl->id, egress ? "outbound" : "inbound", egress ? "to" : "from",
                            remote->ip, lo, hi, in->client_source ? in->client_source : "?", text);
        check_result_rule(c, "%s", text);
        return;
    }
    refused = refused_ports(&vd, lo, hi);
    pieces_text(&vd, true, text, sizeof(text));
    c = hop(L, name, object, CHECK_FAIL);
    check_result_detail(c,
                        "%s %s replies %s %s: %ld of the job's %d client ports (%d-%d, %s) are "
                        "refused, so about %ld%% of its connections get no answer: %s",
                        acl->id, egress ? "outbound" : "inbound", egress ? "to" : "from",
                        remote->ip, refused, hi - lo + 1, lo, hi,
                        in->client_source ? in->client_source : "?",
                        (refused * 100 + (hi - lo + 1) / 2) / (hi - lo + 1), text);
    check_result_rule(c, "%s", text);
    acl_fix(L, c, acl, remote, egress, &vd, lo, hi);
}

/* One ACL hop: the ACL of `at`'s subnet, direction egress, remote = the other side's
 * address, ports from..to (the database port, or the reply range). */
static void acl_hop(struct leg *L, const char *name, const struct side *at,
                    const struct side *remote, bool egress, int from, int to)
{
    const struct ec2_network_acl *acl = aws_view_subnet_acl(L->v, at->vpc, at->subnet);
    struct aws_acl_verdict vd;
    char object[96], text[400], ports[24];
    bool reply = from != to, client_ports_pass;
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
    if (reply && L->in->client_from > 0) {
        reply_hop_known(L, name, object, acl, remote, egress);
        return;
    }
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
        check_result_rule(c, "%s", text);
        return;
    }
    pieces_text(&vd, true, text, sizeof(text));
    client_ports_pass =
        reply && aws_acl_allows(&vd, AWS_LINUX_EPHEMERAL_FROM, AWS_LINUX_EPHEMERAL_TO);
    if (client_ports_pass && only_deny_rules(&vd)) {
        /* a rule that denies some port on purpose (CIS: 22, 3389 from 0.0.0.0/0) outside
         * the job's client ports does not touch its replies */
        c = hop(L, name, object, CHECK_PASS);
        check_result_detail(c,
                            "%s %s replies %s %s pass for ports %d-%d (Linux's default client "
                            "ports; the job's range was not read); deny rules keep out others: "
                            "%s",
                            acl->id, egress ? "outbound" : "inbound", egress ? "to" : "from",
                            remote->ip, AWS_LINUX_EPHEMERAL_FROM, AWS_LINUX_EPHEMERAL_TO, text);
        pieces_text(&vd, false, text, sizeof(text));
        check_result_rule(c, "%s", text);
        return;
    }
    if (client_ports_pass) {
        c = hop(L, name, object, CHECK_WARN);
        check_result_detail(c,
                            "%s %s replies %s %s pass for ports %d-%d (Linux's default client "
                            "ports; the job's range was not read), but nothing allows these: %s",
                            acl->id, egress ? "outbound" : "inbound", egress ? "to" : "from",
                            remote->ip, AWS_LINUX_EPHEMERAL_FROM, AWS_LINUX_EPHEMERAL_TO, text);
    } else {
        c = hop(L, name, object, CHECK_FAIL);
        check_result_detail(c, "%s %s tcp %s %s %s is denied: %s", acl->id,
                            egress ? "outbound" : "inbound", ports, egress ? "to" : "from",
                            remote->ip, text);
    }
    check_result_rule(c, "%s", text); /* what refuses */
    if (client_ports_pass || !reply)
        acl_fix(L, c, acl, remote, egress, &vd, from, to);
    else
        acl_fix(L, c, acl, remote, egress, &vd, AWS_LINUX_EPHEMERAL_FROM, AWS_LINUX_EPHEMERAL_TO);
}

/* ---- one leg ---- */

/* A public address the config does not expect (outside expect_cidr, or none given): the
 * packets leave through an internet or NAT gateway, never the peering, so no route or
 * rule of the peering path is worth judging, nor any fix that would route it there. */
static bool public_leg(struct leg *L)
{
    static const char *const hops[] = {"route",      "sg-egress",   "job-nacl-out", "db-nacl-in",
                                       "sg-ingress", "db-nacl-out", "route-back",   "job-nacl-in"};
    struct infra_error ignored;
    struct check_result *c;
    struct cidr want;

    /* every IPv6 address of a VPC is a global one: its route table decides, as for any
     * address of the VPC */
    if (L->db.addr.family == AF_INET6 || !aws_addr_is_public(L->db.ip) ||
        (L->ep->expect_cidr && cidr_parse(L->ep->expect_cidr, &want, &ignored) &&
         cidr_covers(&want, &L->db.addr)))
        return false;
    c = hop(L, "database", L->db.ip, CHECK_FAIL);
    check_result_detail(c,
                        "%s (%s) is a public address%s%s: the packets leave the VPC through "
                        "an internet or NAT gateway, never the peering",
                        L->db_at, L->src, L->ep->expect_cidr ? ", outside expect_cidr " : "",
                        L->ep->expect_cidr ? L->ep->expect_cidr : "");
    check_result_fix(c,
                     "make %s resolve to the database's private address: enable remote VPC DNS "
                     "resolution on the database VPC's side of the peering (aws.peerings[]."
                     "dns_resolution, then anonetl preflight --repair --yes), or put the private "
                     "address in the DSN (hostaddr=)",
                     L->ep->host && L->ep->host[0] ? L->ep->host : "the host");
    for (size_t i = 0; i < sizeof(hops) / sizeof(hops[0]); i++) {
        c = hop(L, hops[i], L->db.ip, CHECK_SKIP);
        check_result_detail(c, "not checked: a public address does not take the peering (see "
                               "path.database)");
    }
    return true;
}

/* A transit gateway on the way from `from`: its attachment subnet's ACL (aws_tgwhop_acl). */
static void tgw_acl_hop(struct leg *L, const char *name, const struct side *from,
                        const struct side *to, int lo, int hi, bool reply)
{
    const struct aws_tgwhop_leg g = {
        name,        L->ep->name, from->vpc, from->subnet, from->ip,
        &from->addr, &to->addr,   lo,        hi,           reply && L->in->client_from <= 0,
        region(L)};

    aws_tgwhop_acl(L->v, &g, L->rep);
}

static void run_leg(struct leg *L)
{
    int lo, hi;

    client_range(L, &lo, &hi);
    if (public_leg(L))
        return;
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
    tgw_acl_hop(L, "tgw-nacl-in", &L->job, &L->db, L->port, L->port, false);
    acl_hop(L, "db-nacl-in", &L->db, &L->job, false, L->port, L->port);
    sg_hop(L, "sg-ingress", &L->db, &L->job, false);
    acl_hop(L, "db-nacl-out", &L->db, &L->job, true, AWS_EPHEMERAL_FROM, AWS_EPHEMERAL_TO);
    route_hop(L, "route-back", &L->db, &L->job, true);
    tgw_acl_hop(L, "tgw-nacl-back", &L->db, &L->job, lo, hi, true);
    acl_hop(L, "job-nacl-in", &L->job, &L->db, false, AWS_EPHEMERAL_FROM, AWS_EPHEMERAL_TO);
}

/*
 * The job's side for this leg when the kernel sends from src, not the metadata's address:
 * the interface of the job's instance that holds src (the metadata's own, or another one
 * attached to the instance), with a path.job line saying so. An address no interface of
 * the instance holds (a container bridge, NAT) leaves the side as it is.
 */
static void job_from_source(struct leg *L, const char *src)
{
    const struct ec2_network_interface *job_eni = L->job.eni, *e = NULL;
    char groups[256];
    struct check_result *c;
    struct cidr addr;

    if (!job_eni || !job_eni->instance_id[0] || !cidr_parse_addr(src, &addr))
        return;
    for (size_t i = 0; i < L->v->enis.n && !e; i++) {
        const struct ec2_network_interface *x = &L->v->enis.items[i];
        if (aws_ends_eni_has_ip(x, src) &&
            (x == job_eni || strcmp(x->instance_id, job_eni->instance_id) == 0))
            e = x;
    }
    if (!e || (e == job_eni && cidr_equal(&addr, &L->job.addr)))
        return;
    L->job.eni = e;
    L->job.ip = src;
    L->job.addr = addr;
    L->job.vpc = e->vpc_id;
    L->job.subnet = e->subnet_id;
    side_groups_from_eni(&L->job, e);
    if (e == job_eni)
        return;
    groups_text(L->job.groups, L->job.n_groups, groups, sizeof(groups));
    c = hop(L, "job", e->id, CHECK_PASS);
    check_result_detail(c,
                        "to %s the job's packets leave from %s on %s in %s (%s), groups %s: the "
                        "address this host's kernel sends from, on another interface of %s than "
                        "the metadata's %s",
                        L->db_at, src, e->id, e->subnet_id, e->vpc_id, groups, e->instance_id,
                        job_eni->id);
}

/* Does the endpoint have an address of the family that is not `family`? */
static bool has_other_family(const struct aws_path_endpoint *ep, int family)
{
    struct cidr c;

    for (size_t j = 0; j < ep->n_addrs; j++)
        if (cidr_parse_addr(ep->addrs[j], &c) && c.family != family)
            return true;
    return false;
}

/*
 * The job's address of the database address's family: the packets to an IPv6 address
 * leave from the job's IPv6 address (its interface's), to an IPv4 one from its private
 * IPv4 address. An interface without an IPv6 address gives the job no IPv6 route: its
 * connect fails at once and libpq tries the DSN's next address. False when the leg is
 * not analysed (its path.database result added).
 */
static bool job_for_family(struct leg *L)
{
    const struct ec2_network_interface *e = L->job.eni;
    int family = L->db.addr.family;
    const char *ip = NULL;
    struct check_result *c;

    if (L->job.addr.family == family)
        return true;
    if (e && family == AF_INET6 && e->n_ipv6s)
        ip = e->ipv6s[0];
    else if (e && family == AF_INET && e->private_ip[0])
        ip = e->private_ip;
    if (ip && cidr_parse_addr(ip, &L->job.addr) && L->job.addr.family == family) {
        L->job.ip = ip;
        return true;
    }
    if (!e) {
        c = hop(L, "database", L->db.ip, CHECK_WARN);
        check_result_detail(c,
                            "%s (%s): the job's IPv%d address is not known (its interface is "
                            "not described): this path is not analysed",
                            L->db_at, L->src, family == AF_INET6 ? 6 : 4);
        check_result_fix(c, "set aws.job.network_interface to the job's interface, or give the "
                            "database's address in network.endpoints[].ip");
        return false;
    }
    if (has_other_family(L->ep, family)) {
        c = hop(L, "database", L->db.ip, CHECK_INFO);
        check_result_detail(c,
                            "%s (%s): not used: the job's interface %s has no IPv%d address, "
                            "so connecting there fails at once and libpq tries the next address",
                            L->db_at, L->src, e->id, family == AF_INET6 ? 6 : 4);
        return false;
    }
    c = hop(L, "database", L->db.ip, CHECK_FAIL);
    check_result_detail(c,
                        "%s (%s): the job cannot reach it: its interface %s has no IPv%d "
                        "address (no route of that family)",
                        L->db_at, L->src, e->id, family == AF_INET6 ? 6 : 4);
    check_result_fix(c,
                     "give the job an address of that family (aws ec2 assign-ipv6-addresses "
                     "--network-interface-id %s --ipv6-address-count 1 --region %s, in a subnet "
                     "with an IPv6 block), or make the DSN host resolve to the database's "
                     "address of the job's family",
                     e->id, region(L));
    return false;
}

static void endpoint_skip(const struct aws_path_endpoint *ep, struct check_report *rep,
                          const char *why)
{
    struct check_result *c = check_report_add(rep, "path.database", ep->name, CHECK_SKIP);

    check_result_detail(c, "not analysed: %s", why);
}

/* A pinned address the name no longer resolves to: this run follows the name, but a
 * `--only path` run (no dns check) would judge the pin. */
/*
 * The hops of a leg to member m of an RDS endpoint, as if the name pointed at it, into out
 * (a scratch report infra/aws_failover.c sums up). Its side is the interface holding its
 * address when one is visible, else its subnet and groups from the RDS API. Without an
 * address (a Multi-AZ standby has none of its own, or its endpoint did not resolve) only
 * the database's side of the path is judged: its ACL, groups and route back to the job.
 */
static void member_hops(const struct aws_view *v, const struct aws_path_input *in,
                        const struct aws_path_endpoint *ep, const struct side *job,
                        const struct aws_path_member *m, const char *ip, struct check_report *out)
{
    struct leg L = {.v = v,
                    .in = in,
                    .ep = ep,
                    .rep = out,
                    .job = *job,
                    .port = ep->port > 0 ? ep->port : 5432,
                    .src = "its instance endpoint"};
    const struct ec2_network_interface *e = NULL;
    bool have_ip = ip && cidr_parse_addr(ip, &L.db.addr);

    L.db.ip = have_ip ? ip : m->instance;
    snprintf(L.db_at, sizeof(L.db_at), L.db.addr.family == AF_INET6 ? "[%s]:%d" : "%s:%d", L.db.ip,
             L.port);
    if (have_ip)
        e = aws_ends_db_eni(v, job->vpc, job->subnet, ip, NULL);
    if (e) {
        L.db.eni = e;
        L.db.vpc = e->vpc_id;
        L.db.subnet = e->subnet_id;
        side_groups_from_eni(&L.db, e);
    } else {
        side_from_member(&L.db, m);
    }
    L.db_known = true;
    if (have_ip && !job_for_family(&L))
        return; /* the job has no address of its family: said by job_for_family */
    if (have_ip) {
        route_hop(&L, "route", &L.job, &L.db, true);
        sg_hop(&L, "sg-egress", &L.job, &L.db, true);
        acl_hop(&L, "job-nacl-out", &L.job, &L.db, true, L.port, L.port);
    }
    acl_hop(&L, "db-nacl-in", &L.db, &L.job, false, L.port, L.port);
    sg_hop(&L, "sg-ingress", &L.db, &L.job, false);
    acl_hop(&L, "db-nacl-out", &L.db, &L.job, true, AWS_EPHEMERAL_FROM, AWS_EPHEMERAL_TO);
    route_hop(&L, "route-back", &L.db, &L.job, true);
    if (have_ip)
        acl_hop(&L, "job-nacl-in", &L.job, &L.db, false, AWS_EPHEMERAL_FROM, AWS_EPHEMERAL_TO);
}

/* Every other instance an RDS endpoint can point to, one path.failover line each. */
static void members_run(const struct aws_view *v, const struct aws_path_input *in,
                        const struct aws_path_endpoint *ep, const struct side *job,
                        struct check_report *rep)
{
    for (size_t k = 0; k < ep->n_members; k++) {
        const struct aws_path_member *m = &ep->members[k];
        struct check_report hops;
        if (m->current)
            continue;
        check_report_init(&hops);
        if (m->subnet || m->ip)
            member_hops(v, in, ep, job, m, m->ip, &hops);
        if (m->ip6) /* a dual-stack instance: libpq tries its IPv6 address too */
            member_hops(v, in, ep, job, m, m->ip6, &hops);
        aws_failover_member(ep, m, &hops, rep);
        check_report_free(&hops);
    }
    aws_failover_summary(ep, rep);
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
            if (!cidr_parse_addr(ep->addrs[j], &L.db.addr))
                continue;
            L.db.ip = ep->addrs[j];
            snprintf(L.db_at, sizeof(L.db_at), L.db.addr.family == AF_INET6 ? "[%s]:%d" : "%s:%d",
                     L.db.ip, L.port);
            L.src = ep->addr_sources && ep->addr_sources[j] ? ep->addr_sources[j]
                    : ep->addr_source                       ? ep->addr_source
                                                            : "address";
            if (ep->addr_canonicals && ep->addr_canonicals[j]) {
                snprintf(L.src_via, sizeof(L.src_via), "%s via %s", L.src, ep->addr_canonicals[j]);
                L.src = L.src_via;
            }
            if (ep->job_ips && ep->job_ips[j])
                job_from_source(&L, ep->job_ips[j]);
            if (job_for_family(&L))
                run_leg(&L);
            analysed++;
        }
        if (analysed == 0)
            endpoint_skip(ep, rep, "no IP address (give network.endpoints[].ip)");
        aws_ends_stale_pin(ep, rep);
        if (ep->rds_kind)
            members_run(v, in, ep, &job, rep);
    }
}
