/*
 * aws_datapath.c: the data team's way to the anonymised database (see aws_datapath.h).
 *
 * Each hop is judged for their whole block: an ACL rule or a security group rule matches
 * when its CIDR covers the block; one that meets only part of it decides for some of their
 * hosts and not others, so it makes the line a WARN naming it.
 */
#include "infra/aws_datapath.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "infra/aws_ends.h"
#include "infra/aws_eval.h"
#include "infra/cidr.h"

#define DP_GROUPS 16

struct dp {
    const struct aws_view *v;
    const char *region;
    const struct ec2_peering *pcx;     /* the data team's peering */
    const struct ec2_vpc_side *theirs; /* its far side */
    const char *block_text;            /* one block of their VPC */
    struct cidr block;
    const struct ec2_network_interface *tgt; /* the target's interface */
    const char *ip;                          /* the target's address judged */
    int port;
    char pass[400]; /* what let them through, hop by hop */
};

static bool overlaps(const struct cidr *a, const struct cidr *b)
{
    return cidr_covers(a, b) || cidr_covers(b, a);
}

/* An ACL rule of that direction for tcp that meets only part of the block, or NULL. */
static const struct ec2_acl_entry *acl_partial(const struct dp *D, const struct ec2_network_acl *a,
                                               bool egress)
{
    struct infra_error ignored;
    struct cidr c;

    for (size_t i = 0; i < a->n_entries; i++) {
        const struct ec2_acl_entry *e = &a->entries[i];
        if (e->egress != egress || e->rule_number >= AWS_ACL_RULE_ANY ||
            !cidr_parse(e->cidr, &c, &ignored) || !overlaps(&c, &D->block) ||
            cidr_covers(&c, &D->block))
            continue;
        if (strcmp(e->protocol, "-1") == 0 || strcmp(e->protocol, "all") == 0 ||
            strcmp(e->protocol, "6") == 0 || strcmp(e->protocol, "tcp") == 0)
            return e;
    }
    return NULL;
}

/* One direction of the target subnet's ACL; false (a WARN added) when it refuses. */
static bool acl_ok(struct dp *D, const struct ec2_network_acl *a, bool egress, int lo, int hi,
                   struct check_result *c)
{
    const struct ec2_acl_entry *part = acl_partial(D, a, egress);
    struct aws_acl_verdict vd;
    char rule[128];

    aws_acl_judge(a, egress, &D->block, lo, hi, &vd);
    if (vd.all_allowed && !part) {
        aws_acl_rule_text(vd.pieces[0].rule, rule, sizeof(rule));
        snprintf(D->pass + strlen(D->pass), sizeof(D->pass) - strlen(D->pass), "%s%s %s",
                 D->pass[0] ? "; " : "", a->id, rule);
        return true;
    }
    c->status = CHECK_WARN;
    snprintf(c->object, sizeof(c->object), "%s", a->id);
    if (part) {
        aws_acl_rule_text(part, rule, sizeof(rule));
        check_result_detail(c,
                            "whether the data team (%s over %s) reaches %s:%d is not one answer: "
                            "%s %s %s applies to part of their block only",
                            D->block_text, D->pcx->id, D->ip, D->port, a->id,
                            egress ? "outbound" : "inbound", rule);
        check_result_fix(c, "check with the data team which of their hosts %s must let %s", rule,
                         egress ? "have the replies" : "in");
        return false;
    }
    aws_acl_rule_text(vd.n_pieces ? vd.pieces[0].rule : NULL, rule, sizeof(rule));
    for (size_t i = 0; i < vd.n_pieces; i++)
        if (!vd.pieces[i].allow) {
            aws_acl_rule_text(vd.pieces[i].rule, rule, sizeof(rule));
            break;
        }
    check_result_detail(c,
                        "the data team (%s over %s) cannot reach %s:%d: %s %s tcp %d-%d %s them "
                        "is refused (%s)",
                        D->block_text, D->pcx->id, D->ip, D->port, a->id,
                        egress ? "outbound" : "inbound", lo, hi, egress ? "to" : "from", rule);
    check_result_fix(c,
                     "aws ec2 create-network-acl-entry --network-acl-id %s %s--rule-number N "
                     "--protocol tcp --port-range From=%d,To=%d --%scidr-block %s --rule-action "
                     "allow --region %s (N below any rule that denies it)",
                     a->id, egress ? "--egress " : "--ingress ", lo, hi,
                     D->block.family == AF_INET6 ? "ipv6-" : "", D->block_text, D->region);
    return false;
}

/* The target's groups; false (a WARN added) when they do not admit the whole block. */
static bool sg_ok(struct dp *D, struct check_result *c)
{
    const struct ec2_security_group *gs[DP_GROUPS];
    struct aws_party party = {D->block, NULL, 0, false, NULL, NULL};
    struct aws_sg_verdict vd;
    size_t n = 0;
    char perm[64];

    for (size_t i = 0; i < D->tgt->n_groups && n < DP_GROUPS; i++)
        if ((gs[n] = aws_view_group(D->v, D->tgt->groups[i])) != NULL)
            n++;
    aws_sg_judge(D->v, gs, n, false, D->port, &party, &vd);
    if (vd.allowed) {
        aws_perm_text(vd.rule, perm, sizeof(perm));
        snprintf(D->pass + strlen(D->pass), sizeof(D->pass) - strlen(D->pass),
                 "; %s ingress %s from %s", vd.group->id, perm, vd.matched);
        return true;
    }
    c->status = CHECK_WARN;
    snprintf(c->object, sizeof(c->object), "%s", D->tgt->n_groups ? D->tgt->groups[0] : "?");
    check_result_detail(c,
                        "the data team (%s over %s) cannot reach %s:%d: no ingress rule of the "
                        "target's groups admits all of %s on tcp/%d%s",
                        D->block_text, D->pcx->id, D->ip, D->port, D->block_text, D->port,
                        n < D->tgt->n_groups ? " (some groups not visible)" : "");
    check_result_fix(c,
                     "aws ec2 authorize-security-group-ingress --group-id %s --ip-permissions "
                     "IpProtocol=tcp,FromPort=%d,ToPort=%d,%s=[{%s=%s}] --region %s (or the "
                     "subnets of theirs that need it)",
                     D->tgt->n_groups ? D->tgt->groups[0] : "<the target's group>", D->port,
                     D->port, D->block.family == AF_INET6 ? "Ipv6Ranges" : "IpRanges",
                     D->block.family == AF_INET6 ? "CidrIpv6" : "CidrIp", D->block_text, D->region);
    return false;
}

/* The target subnet's route back to the block: the data team's peering, for all of it. */
static bool route_ok(struct dp *D, const struct ec2_route_table *t, struct check_result *c)
{
    struct aws_route_hit h;
    struct aws_route_conflict in;
    const char *why = NULL;
    char dest[CIDR_TEXT_MAX], args[120];

    aws_route_match(D->v, t, &D->block, &h);
    if (!h.route)
        why = "no route covers";
    else if (!aws_route_active(h.route) || strcmp(h.route->pcx, D->pcx->id) != 0)
        why = "the route does not send over the data team's peering";
    if (!why && aws_route_inner_conflict(D->v, t, &D->block, h.route, &in)) {
        cidr_format(&in.dest, dest, sizeof(dest));
        c->status = CHECK_WARN;
        snprintf(c->object, sizeof(c->object), "%s", t->id);
        check_result_detail(c,
                            "the data team (%s over %s) reaches %s:%d only in part: %s sends "
                            "replies to %s by route %s via %s",
                            D->block_text, D->pcx->id, D->ip, D->port, t->id, dest,
                            aws_route_dest_text(in.route), in.route->target);
        aws_route_dest_args(in.route, args, sizeof(args));
        check_result_fix(c,
                         "if %s is theirs: aws ec2 replace-route --route-table-id %s %s "
                         "--vpc-peering-connection-id %s --region %s",
                         dest, t->id, args, D->pcx->id, D->region);
        return false;
    }
    if (!why) {
        snprintf(D->pass + strlen(D->pass), sizeof(D->pass) - strlen(D->pass),
                 "; %s route %s via %s", t->id, aws_route_dest_text(h.route), h.route->target);
        return true;
    }
    c->status = CHECK_WARN;
    snprintf(c->object, sizeof(c->object), "%s", t->id);
    check_result_detail(c,
                        "the data team (%s over %s) cannot reach %s:%d: %s, the table of %s, "
                        "sends no reply to them over it: %s%s%s",
                        D->block_text, D->pcx->id, D->ip, D->port, t->id, D->tgt->subnet_id, why,
                        h.route ? " (route via " : " their block",
                        h.route ? (h.route->target[0] ? h.route->target : "?") : "");
    if (h.route)
        snprintf(c->detail + strlen(c->detail), sizeof(c->detail) - strlen(c->detail), ", %s)",
                 aws_route_active(h.route) ? "active" : h.route->state);
    check_result_fix(c,
                     "aws ec2 %s-route --route-table-id %s --destination-%scidr-block %s "
                     "--vpc-peering-connection-id %s --region %s",
                     h.route && cidr_equal(&h.dest, &D->block) ? "replace" : "create", t->id,
                     D->block.family == AF_INET6 ? "ipv6-" : "", D->block_text, D->pcx->id,
                     D->region);
    return false;
}

/* One block to one target address: the first hop that refuses, else a PASS. */
static void judge(struct dp *D, struct check_report *rep)
{
    const struct ec2_network_acl *a = aws_view_subnet_acl(D->v, D->tgt->vpc_id, D->tgt->subnet_id);
    bool explicit_assoc;
    const struct ec2_route_table *t =
        aws_view_subnet_table(D->v, D->tgt->vpc_id, D->tgt->subnet_id, &explicit_assoc);
    char subject[96];
    struct check_result *c;

    snprintf(subject, sizeof(subject), "data-team target %s", D->ip);
    c = check_report_add(rep, "path.data-team", subject, CHECK_PASS);
    snprintf(c->object, sizeof(c->object), "%s", D->pcx->id);
    D->pass[0] = '\0';
    if (strcmp(D->pcx->status, "active") != 0) {
        c->status = CHECK_WARN;
        check_result_detail(c, "the data team (%s) cannot reach %s:%d: %s is %s", D->block_text,
                            D->ip, D->port, D->pcx->id, D->pcx->status);
        check_result_fix(c, "see the peering check of %s", D->pcx->id);
        return;
    }
    if (!a || !t) {
        c->status = CHECK_WARN;
        snprintf(c->object, sizeof(c->object), "%s", D->tgt->subnet_id);
        check_result_detail(c,
                            "the %s of %s is not visible: the data team's way to %s is not judged",
                            !a ? "network ACL" : "route table", D->tgt->subnet_id, D->ip);
        check_result_fix(c, "check by hand that %s lets %s in on tcp/%d and routes it back over %s",
                         D->tgt->subnet_id, D->block_text, D->port, D->pcx->id);
        return;
    }
    if (!acl_ok(D, a, false, D->port, D->port, c) || !sg_ok(D, c) ||
        !acl_ok(D, a, true, AWS_EPHEMERAL_FROM, AWS_EPHEMERAL_TO, c) || !route_ok(D, t, c))
        return;
    check_result_detail(c, "the data team (%s over %s) reaches %s:%d: %s", D->block_text,
                        D->pcx->id, D->ip, D->port, D->pass);
    check_result_rule(c, "%s", D->pass);
}

void aws_datapath_run(const struct aws_view *v, const struct aws_path_input *in,
                      const char *const *data_peerings, size_t n_data_peerings,
                      struct check_report *rep)
{
    const struct ec2_network_interface *job = aws_ends_job_eni(v, &in->job, NULL);
    const char *job_vpc = job ? job->vpc_id : in->job.vpc;
    const char *job_subnet = job ? job->subnet_id : in->job.subnet;
    struct infra_error ignored;
    struct cidr addr;
    struct dp D = {.v = v, .region = in->region && in->region[0] ? in->region : "REGION"};

    for (size_t k = 0; job_vpc && k < n_data_peerings; k++) {
        D.pcx = aws_view_peering(v, data_peerings[k]);
        D.theirs = D.pcx ? aws_peer_side(D.pcx, job_vpc) : NULL;
        for (size_t i = 0; D.theirs && i < in->n_endpoints; i++) {
            const struct aws_path_endpoint *ep = &in->endpoints[i];
            if (strcmp(ep->name, "target") != 0 || ep->skip_why)
                continue;
            D.port = ep->port > 0 ? ep->port : 5432;
            for (size_t j = 0; j < ep->n_addrs && j < 4; j++) {
                D.ip = ep->addrs[j];
                D.tgt = aws_ends_db_eni(v, job_vpc, job_subnet, D.ip, NULL);
                if (!D.tgt || strcmp(D.tgt->vpc_id, job_vpc) != 0 ||
                    !cidr_parse_addr(ep->addrs[j], &addr))
                    continue; /* not seen, or not in the isolated VPC: not over this peering */
                for (size_t b = 0; b < D.theirs->n_cidrs; b++) {
                    D.block_text = D.theirs->cidrs[b];
                    if (cidr_parse(D.block_text, &D.block, &ignored) &&
                        D.block.family == addr.family)
                        judge(&D, rep);
                }
            }
        }
    }
}
