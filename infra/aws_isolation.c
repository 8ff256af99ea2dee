/*
 * aws_isolation.c: the data team cannot reach production (see aws_isolation.h).
 *
 * The data team's block is judged on the routes of the production database's subnet
 * table that meet it: the route that wins the longest match for the whole block, and every
 * route (or prefix-list entry) more specific than the block inside it, since the data
 * team may use any address of their VPC. The worst of them decides.
 */
#include "infra/aws_isolation.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "infra/aws_ends.h"
#include "infra/aws_eval.h"
#include "infra/aws_failover.h"
#include "infra/cidr.h"

#define ISO_GROUPS 16

/* The production database as the data team would meet it. */
struct iso_db {
    const struct aws_path_endpoint *ep;
    const char *ip;
    int port;
    const char *vpc, *subnet;
    const char *groups[ISO_GROUPS];
    size_t n_groups;
};

/* What one route meeting the data team's block does with the replies, worst last. */
enum iso_way { ISO_NONE = 0, ISO_UNKNOWN, ISO_LEAK };

struct iso_piece {
    const struct ec2_route *route; /* NULL: no route covers the block */
    struct cidr dest;              /* its block, or its prefix list's entry */
    enum iso_way way;
    char why[400];                 /* what it does, for the line */
    const struct ec2_peering *pcx; /* ISO_LEAK over a peering: it */
    const char *tgw;               /* ISO_LEAK over a transit gateway: it, and its route */
    const struct ec2_tgw_route *tgw_route;
    const char *tgw_table;
};

struct iso_ctx {
    const struct aws_view *v;
    const struct aws_path_input *in;
    const char *job_vpc;
    const struct ec2_peering *data; /* the data team's peering */
    const struct ec2_vpc_side *theirs;
    const struct ec2_route_table *t;
    const char *block_text;
    struct cidr block;
};

static const char *region(const struct iso_ctx *X)
{
    return X->in->region && X->in->region[0] ? X->in->region : "REGION";
}

static void route_text(const struct ec2_route *r, const struct cidr *dest, bool via_pl, char *buf,
                       size_t size)
{
    char d[CIDR_TEXT_MAX];

    cidr_format(dest, d, sizeof(d));
    if (via_pl)
        snprintf(buf, size, "route %s (entry %s) via %s", r->dest_prefix_list, d,
                 r->target[0] ? r->target : "?");
    else
        snprintf(buf, size, "route %s via %s", d, r->target[0] ? r->target : "?");
}

/* Is far the data team's: their VPC, or a VPC of their account holding part (their hosts
 * there get the replies)? A VPC of another account that reuses their addresses is not. */
static bool far_is_theirs(const struct iso_ctx *X, const struct ec2_vpc_side *far,
                          const struct cidr *part)
{
    const struct ec2_vpc_side *t = X->theirs;

    if (strcmp(far->vpc_id, t->vpc_id) == 0)
        return true;
    return far->owner_id[0] && t->owner_id[0] && strcmp(far->owner_id, t->owner_id) == 0 &&
           aws_view_side_holds(X->v, far, part, NULL, 0);
}

/* A route over a peering: where it leads decides. */
static void judge_peering(const struct iso_ctx *X, const char *db_vpc, struct iso_piece *p,
                          const char *rt)
{
    const struct ec2_peering *pcx = aws_view_peering(X->v, p->route->pcx);
    const struct ec2_vpc_side *far = pcx ? aws_peer_side(pcx, db_vpc) : NULL;
    /* the data team's part of what the route carries: the block, or the route's inside it */
    const struct cidr *part = p->dest.prefix > X->block.prefix ? &p->dest : &X->block;

    if (!pcx) {
        p->way = ISO_UNKNOWN;
        snprintf(p->why, sizeof(p->why),
                 "%s, a peering not visible here: where it leads is unknown", rt);
    } else if (strcmp(pcx->status, "active") != 0 || !far) {
        snprintf(p->why, sizeof(p->why), "%s, a peering that is %s: replies are dropped", rt,
                 !far ? "not attached to this VPC" : pcx->status);
    } else if (far_is_theirs(X, far, part)) {
        p->way = ISO_LEAK;
        p->pcx = pcx;
        snprintf(p->why, sizeof(p->why), "%s, an active peering straight to %s (%s%s%s), %s", rt,
                 far->vpc_id, far->owner_id[0] ? far->owner_id : "?", far->region[0] ? ", " : "",
                 far->region,
                 strcmp(far->vpc_id, X->theirs->vpc_id) == 0 ? "their VPC"
                                                             : "a VPC of theirs holding them");
    } else if (X->job_vpc && strcmp(far->vpc_id, X->job_vpc) == 0) {
        snprintf(p->why, sizeof(p->why),
                 "%s to %s, the isolated VPC, which does not send on what arrives over a "
                 "peering (peering is not transitive)",
                 rt, far->vpc_id);
    } else {
        snprintf(p->why, sizeof(p->why),
                 "%s to %s (%s), not the data team's: their hosts never get these replies, "
                 "and it does not send them on (peering is not transitive)",
                 rt, far->vpc_id, far->owner_id[0] ? far->owner_id : "?");
    }
}

/* A route to a transit gateway: production's attachment, its route table's route for the
 * part decide (a route naming no attachment, or another VPC, which may forward it: not
 * followed). */
static void judge_tgw(const struct iso_ctx *X, const char *db_vpc, struct iso_piece *p,
                      const char *rt)
{
    const char *tgw = p->route->target;
    const struct ec2_tgw_attachment *a = aws_view_tgw_attachment(X->v, tgw, db_vpc);
    const struct aws_tgw_table *T = a ? aws_view_tgw_table(X->v, a->assoc_table) : NULL;
    const struct cidr *part = p->dest.prefix > X->block.prefix ? &p->dest : &X->block;
    const struct ec2_tgw_route *m;
    bool unknown_pl = false;
    char leads[96] = "";

    p->way = ISO_UNKNOWN;
    if (!X->v->f_tgw.failed && !a) {
        p->way = ISO_NONE;
        snprintf(p->why, sizeof(p->why),
                 "%s, a transit gateway %s is not attached to: replies "
                 "are dropped",
                 rt, db_vpc);
        return;
    }
    m = T && !T->fetch.failed ? aws_tgw_route_match(&T->routes, part, &unknown_pl) : NULL;
    if (T && !T->fetch.failed && !unknown_pl && !T->routes.more &&
        (!m || strcmp(m->state, "active") != 0)) {
        p->way = ISO_NONE;
        snprintf(p->why, sizeof(p->why), "%s, whose table %s %s: replies are dropped", rt, T->id,
                 m ? "has it as a blackhole" : "has no route for them");
        return;
    }
    if (m && strcmp(m->resource_type, "vpc") == 0 &&
        strcmp(m->resource_id, X->theirs->vpc_id) == 0) {
        p->way = ISO_LEAK;
        p->tgw = tgw;
        p->tgw_route = m;
        p->tgw_table = T->id;
        snprintf(p->why, sizeof(p->why),
                 "%s, whose table %s sends them by route %s to %s, "
                 "their VPC",
                 rt, T->id, m->dest_cidr, m->attachment);
        return;
    }
    if (m)
        snprintf(leads, sizeof(leads), " (its route leads to %s)",
                 m->resource_id[0] ? m->resource_id : "an attachment it does not name");
    snprintf(p->why, sizeof(p->why),
             "%s, a transit gateway the analysis does not follow here%s: it may carry them to "
             "the data team",
             rt, leads);
}

/* Judge one route meeting the block into p (p->route, p->dest set). */
static void judge_piece(const struct iso_ctx *X, const char *db_vpc, bool via_pl,
                        struct iso_piece *p)
{
    char rt[160];

    route_text(p->route, &p->dest, via_pl, rt, sizeof(rt));
    p->way = ISO_NONE;
    if (!aws_route_active(p->route)) {
        snprintf(p->why, sizeof(p->why), "%s, which is %s: replies are dropped", rt,
                 p->route->state);
        return;
    }
    switch (aws_route_target_kind(p->route)) {
    case AWS_TARGET_PEERING:
        judge_peering(X, db_vpc, p, rt);
        return;
    case AWS_TARGET_TGW:
        judge_tgw(X, db_vpc, p, rt);
        return;
    case AWS_TARGET_APPLIANCE:
        p->way = ISO_UNKNOWN;
        snprintf(p->why, sizeof(p->why),
                 "%s, %s the analysis does not follow: it may carry them to the data team", rt,
                 aws_route_target_what(p->route));
        return;
    case AWS_TARGET_LOCAL:
        snprintf(p->why, sizeof(p->why), "%s: production's own VPC, not the data team's", rt);
        return;
    case AWS_TARGET_EXIT:
    case AWS_TARGET_NONE:
        break;
    }
    snprintf(p->why, sizeof(p->why),
             "%s, %s: private replies to the data team do not come back through it", rt,
             aws_route_target_what(p->route));
}

/* Keep the worse of *worst and p in *worst. */
static void keep_worst(struct iso_piece *worst, const struct iso_piece *p)
{
    if (!worst->route || p->way > worst->way)
        *worst = *p;
}

/* Every route more specific than the block inside it (prefix-list entries too). */
static void inner_pieces(const struct iso_ctx *X, const char *db_vpc, struct iso_piece *worst)
{
    struct infra_error ignored;

    for (size_t i = 0; i < X->t->n_routes; i++) {
        const struct ec2_route *r = &X->t->routes[i];
        const struct aws_prefix_list *pl;
        struct iso_piece p = {.route = r};
        if (r->dest_cidr[0] || r->dest_ipv6_cidr[0]) {
            if (cidr_parse(aws_route_dest_text(r), &p.dest, &ignored) &&
                p.dest.prefix > X->block.prefix && cidr_covers(&X->block, &p.dest)) {
                judge_piece(X, db_vpc, false, &p);
                keep_worst(worst, &p);
            }
            continue;
        }
        pl = r->dest_prefix_list[0] ? aws_view_prefix_list(X->v, r->dest_prefix_list) : NULL;
        for (size_t j = 0; pl && !pl->fetch.failed && j < pl->entries.n; j++)
            if (cidr_parse(pl->entries.cidrs[j], &p.dest, &ignored) &&
                p.dest.prefix > X->block.prefix && cidr_covers(&X->block, &p.dest)) {
                judge_piece(X, db_vpc, true, &p);
                keep_worst(worst, &p);
            }
    }
}

/* "; its groups admit it (sg-x rule ...)" or that they do not, into buf. */
static void groups_say(const struct iso_ctx *X, const struct iso_db *db, const struct cidr *dest,
                       char *buf, size_t size)
{
    const struct ec2_security_group *gs[ISO_GROUPS];
    struct aws_party party = {*dest, NULL, 0, false, NULL, NULL};
    struct aws_sg_verdict vd;
    size_t n = 0;
    char perm[64];

    for (size_t i = 0; i < db->n_groups; i++)
        if ((gs[n] = aws_view_group(X->v, db->groups[i])) != NULL)
            n++;
    aws_sg_judge(X->v, gs, n, false, db->port, &party, &vd);
    if (vd.allowed) {
        aws_perm_text(vd.rule, perm, sizeof(perm));
        snprintf(buf, size, "; %s admits them (%s from %s)", vd.group->id, perm, vd.matched);
    } else {
        snprintf(buf, size, "; only its groups keep them from port %d", db->port);
    }
}

static void judge_block(const struct iso_ctx *X, const struct iso_db *db, struct check_report *rep)
{
    struct iso_piece worst = {0};
    struct aws_route_hit h;
    struct check_result *c;
    char subject[96], args[120], sg[300] = "";

    snprintf(subject, sizeof(subject), "data-team %s %s", db->ep->name, db->ip);
    aws_route_match(X->v, X->t, &X->block, &h);
    if (h.route) {
        struct iso_piece p = {.route = h.route, .dest = h.dest};
        judge_piece(X, db->vpc, h.via_prefix_list, &p);
        keep_worst(&worst, &p);
    }
    inner_pieces(X, db->vpc, &worst);
    if (!worst.route) {
        c = check_report_add(rep, "path.isolation", subject, CHECK_PASS);
        snprintf(c->object, sizeof(c->object), "%s", X->t->id);
        check_result_detail(c,
                            "the data team (%s over %s) cannot reach %s:%d: no route of %s (the "
                            "table of %s) covers %s, so replies to them are dropped%s",
                            X->block_text, X->data->id, db->ip, db->port, X->t->id, db->subnet,
                            X->block_text,
                            h.unknown_prefix_list[0] ? " (unknown: a prefix list's entries)" : "");
        check_result_rule(c, "no route covers %s", X->block_text);
        return;
    }
    if (worst.way == ISO_NONE) {
        c = check_report_add(rep, "path.isolation", subject, CHECK_PASS);
        snprintf(c->object, sizeof(c->object), "%s", X->t->id);
        check_result_detail(c,
                            "the data team (%s over %s) cannot reach %s:%d: %s (the table of %s) "
                            "sends replies to them by %s",
                            X->block_text, X->data->id, db->ip, db->port, X->t->id, db->subnet,
                            worst.why);
        check_result_rule(c, "%s", worst.why);
        return;
    }
    aws_route_dest_args(worst.route, args, sizeof(args));
    if (worst.way == ISO_UNKNOWN) {
        c = check_report_add(rep, "path.isolation", subject, CHECK_WARN);
        snprintf(c->object, sizeof(c->object), "%s", X->t->id);
        check_result_detail(c,
                            "whether the data team (%s over %s) can reach %s:%d is not known: %s "
                            "(the table of %s) sends replies to them by %s",
                            X->block_text, X->data->id, db->ip, db->port, X->t->id, db->subnet,
                            worst.why);
        check_result_rule(c, "%s", worst.why);
        check_result_fix(c,
                         "check by hand that %s carries nothing between production and %s (the "
                         "data team's VPC), or remove the route: aws ec2 delete-route "
                         "--route-table-id %s %s --region %s",
                         worst.route->target, X->theirs->vpc_id, X->t->id, args, region(X));
        return;
    }
    groups_say(X, db, worst.dest.prefix > X->block.prefix ? &worst.dest : &X->block, sg,
               sizeof(sg));
    c = check_report_add(rep, "path.isolation", subject, CHECK_FAIL);
    snprintf(c->object, sizeof(c->object), "%s", worst.pcx ? worst.pcx->id : worst.tgw);
    check_result_detail(c,
                        "the data team (%s, over %s) can reach production's %s:%d: %s "
                        "(%s's table) sends replies by %s: the isolated VPC is not the only way "
                        "in%s",
                        X->block_text, X->data->id, db->ip, db->port, X->t->id, db->subnet,
                        worst.why, sg);
    check_result_rule(c, "%s", worst.why);
    if (worst.tgw)
        check_result_fix(c,
                         "aws ec2 delete-route --route-table-id %s %s --region %s, and in the "
                         "transit gateway's account: aws ec2 delete-transit-gateway-route "
                         "--transit-gateway-route-table-id %s --destination-cidr-block %s (or "
                         "keep production's attachment and theirs in tables that do not "
                         "propagate to each other)",
                         X->t->id, args, region(X), worst.tgw_table, worst.tgw_route->dest_cidr);
    else
        check_result_fix(c,
                         "aws ec2 delete-route --route-table-id %s %s --region %s, and delete "
                         "the peering between production and the data team if nothing else "
                         "needs it: aws ec2 delete-vpc-peering-connection "
                         "--vpc-peering-connection-id %s --region %s",
                         X->t->id, args, region(X), worst.pcx->id, region(X));
}

/* The production database's side of an address: its interface, else the RDS instance the
 * name points to now. False when neither is known (the path says why), or when it is in
 * the job's own VPC (the target: the data team is meant to reach it). */
static bool db_side(const struct aws_view *v, const struct aws_path_endpoint *ep, const char *ip,
                    const char *job_vpc, const char *job_subnet, struct iso_db *db)
{
    const struct ec2_network_interface *e = aws_ends_db_eni(v, job_vpc, job_subnet, ip, NULL);
    const struct aws_path_member *m = e ? NULL : aws_failover_current(ep, ip);

    memset(db, 0, sizeof(*db));
    db->ep = ep;
    db->ip = ip;
    db->port = ep->port > 0 ? ep->port : 5432;
    if (e) {
        db->vpc = e->vpc_id;
        db->subnet = e->subnet_id;
        for (size_t i = 0; i < e->n_groups && i < ISO_GROUPS; i++)
            db->groups[db->n_groups++] = e->groups[i];
    } else if (m) {
        db->vpc = m->vpc;
        db->subnet = m->subnet;
        for (size_t i = 0; i < m->n_groups && i < ISO_GROUPS; i++)
            db->groups[db->n_groups++] = m->groups[i];
    }
    return db->vpc && db->subnet && !(job_vpc && strcmp(db->vpc, job_vpc) == 0);
}

/* Every block of the data team's VPC of the address's family, for one database address. */
static void judge_db(struct iso_ctx *X, const struct iso_db *db, struct check_report *rep)
{
    struct infra_error ignored;
    struct cidr addr;
    bool explicit_assoc;
    struct check_result *c;
    char subject[96];

    if (!cidr_parse_addr(db->ip, &addr))
        addr.family = AF_INET; /* a member without an address (a standby): its IPv4 side */
    X->t = aws_view_subnet_table(X->v, db->vpc, db->subnet, &explicit_assoc);
    for (size_t b = 0; b < X->theirs->n_cidrs; b++) {
        X->block_text = X->theirs->cidrs[b];
        if (!cidr_parse(X->block_text, &X->block, &ignored) || X->block.family != addr.family)
            continue;
        if (X->t) {
            judge_block(X, db, rep);
            continue;
        }
        snprintf(subject, sizeof(subject), "data-team %s %s", db->ep->name, db->ip);
        c = check_report_add(rep, "path.isolation", subject, CHECK_WARN);
        snprintf(c->object, sizeof(c->object), "%s", db->subnet);
        check_result_detail(c,
                            "whether the data team (%s over %s) can reach %s is not known: no "
                            "route table of %s is visible for %s",
                            X->block_text, X->data->id, db->ip, db->vpc, db->subnet);
        check_result_fix(c,
                         "check by hand that %s's route table has no route to %s except "
                         "over the peering to the isolated VPC",
                         db->subnet, X->block_text);
    }
}

/* The other instances an RDS endpoint can point to after a failover (their subnets are
 * often another zone's, on tables of their own): each one's subnet from the RDS API. */
static void members(struct iso_ctx *X, const struct aws_path_endpoint *ep, struct check_report *rep)
{
    for (size_t k = 0; k < ep->n_members; k++) {
        const struct aws_path_member *m = &ep->members[k];
        struct iso_db db = {.ep = ep, .port = ep->port > 0 ? ep->port : 5432};
        if (m->current || !m->vpc || !m->subnet || (X->job_vpc && !strcmp(m->vpc, X->job_vpc)))
            continue;
        db.ip = m->ip ? m->ip : m->instance;
        db.vpc = m->vpc;
        db.subnet = m->subnet;
        for (size_t i = 0; i < m->n_groups && i < ISO_GROUPS; i++)
            db.groups[db.n_groups++] = m->groups[i];
        judge_db(X, &db, rep);
    }
}

void aws_isolation_run(const struct aws_view *v, const struct aws_path_input *in,
                       const char *const *data_peerings, size_t n_data_peerings,
                       struct check_report *rep)
{
    const struct ec2_network_interface *job = aws_ends_job_eni(v, &in->job, NULL);
    struct iso_ctx X = {.v = v, .in = in};
    const char *job_subnet = job ? job->subnet_id : in->job.subnet;

    X.job_vpc = job ? job->vpc_id : in->job.vpc;
    if (!X.job_vpc)
        return; /* where the job runs is unknown: path.job says so */
    for (size_t k = 0; k < n_data_peerings; k++) {
        X.data = aws_view_peering(v, data_peerings[k]);
        X.theirs = X.data ? aws_peer_side(X.data, X.job_vpc) : NULL;
        if (!X.theirs)
            continue; /* not visible (the peering check says so) or not the job VPC's */
        for (size_t i = 0; i < in->n_endpoints; i++) {
            const struct aws_path_endpoint *ep = &in->endpoints[i];
            for (size_t j = 0; !ep->skip_why && j < ep->n_addrs && j < 4; j++) {
                struct iso_db db;
                if (db_side(v, ep, ep->addrs[j], X.job_vpc, job_subnet, &db))
                    judge_db(&X, &db, rep);
            }
            members(&X, ep, rep);
        }
    }
}
