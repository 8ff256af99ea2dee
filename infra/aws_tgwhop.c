/*
 * aws_tgwhop.c: a transit gateway on the path's route hops (see aws_tgwhop.h).
 */
#include "infra/aws_tgwhop.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "infra/aws_ends.h"

bool aws_tgwhop_allowed(const struct aws_path_input *in, const char *tgw)
{
    for (size_t i = 0; i < in->n_transit_gateways; i++)
        if (in->transit_gateways[i] && strcmp(in->transit_gateways[i], tgw) == 0)
            return true;
    return false;
}

const char *aws_tgwhop_attachment_for(const struct aws_view *v, const char *tgw, const char *vpc,
                                      char *buf, size_t size)
{
    const struct ec2_tgw_attachment *a = vpc ? aws_view_tgw_attachment(v, tgw, vpc) : NULL;

    if (a)
        return a->id;
    snprintf(buf, size, "<the attachment of %s>", vpc ? vpc : "the database's VPC");
    return buf;
}

static bool same_zone(const struct ec2_subnet *x, const struct ec2_subnet *y)
{
    if (x->az_id[0] && y->az_id[0])
        return strcmp(x->az_id, y->az_id) == 0;
    return x->az[0] && strcmp(x->az, y->az) == 0;
}

static void zone_unknown(struct aws_tgwhop_zone *out, const char *fmt, const char *what)
{
    out->verdict = AWS_TGWHOP_ZONE_UNKNOWN;
    snprintf(out->why, sizeof(out->why), fmt, what);
}

void aws_tgwhop_zone(const struct aws_view *v, const struct ec2_tgw_attachment *a,
                     const char *subnet, struct aws_tgwhop_zone *out)
{
    const struct ec2_tgw_vpc_attachment *va = aws_view_tgw_vpc_attachment(v, a->id);
    const struct ec2_subnet *from = aws_view_subnet(v, subnet);
    size_t len = 0;

    memset(out, 0, sizeof(*out));
    if (v->f_tgw_zones.failed) {
        zone_unknown(out, "%s", v->f_tgw_zones.err.base.msg);
        return;
    }
    if (!va) {
        zone_unknown(out, "its subnets are not listed (%s)",
                     "DescribeTransitGatewayVpcAttachments");
        return;
    }
    if (!from || (!from->az[0] && !from->az_id[0])) {
        zone_unknown(out, "the zone of %s is not known", subnet ? subnet : "the subnet");
        return;
    }
    snprintf(out->zone, sizeof(out->zone), "%s", from->az[0] ? from->az : from->az_id);
    out->verdict = AWS_TGWHOP_NOT_SERVED;
    for (size_t i = 0; i < va->n_subnets; i++) {
        const struct ec2_subnet *s = aws_view_subnet(v, va->subnets[i]);
        if (s && same_zone(s, from)) {
            out->verdict = AWS_TGWHOP_SERVED;
            return;
        }
        if (len < sizeof(out->served))
            len += (size_t)snprintf(out->served + len, sizeof(out->served) - len, "%s%s in %s",
                                    len ? ", " : "", va->subnets[i],
                                    s ? (s->az[0] ? s->az : s->az_id) : "an unknown zone");
    }
    /* a subnet of the attachment whose zone is unknown might be the subnet's zone */
    for (size_t i = 0; i < va->n_subnets; i++)
        if (!aws_view_subnet(v, va->subnets[i]))
            zone_unknown(out, "the zone of %s (a subnet of the attachment) is not known",
                         va->subnets[i]);
}

void aws_tgwhop_zone_fail(struct check_result *c, const struct aws_tgwhop_zone *z,
                          const struct ec2_tgw_attachment *a, const char *subnet, const char *lead,
                          const char *region)
{
    check_result_detail(c,
                        "%s, but attachment %s has no subnet in %s, the zone of %s (its subnets: "
                        "%s): the transit gateway takes no packets from that zone",
                        lead, a->id, z->zone, subnet, z->served[0] ? z->served : "none");
    check_result_fix(c,
                     "aws ec2 modify-transit-gateway-vpc-attachment "
                     "--transit-gateway-attachment-id %s --add-subnet-ids <a subnet of %s in %s, "
                     "e.g. %s> --region %s",
                     a->id, a->resource_id, z->zone, subnet, region);
}

void aws_tgwhop_zone_unknown(struct check_result *c, const struct aws_tgwhop_zone *z,
                             const struct ec2_tgw_attachment *a, const char *subnet,
                             const char *region)
{
    size_t len = strlen(c->detail);

    if (z->verdict != AWS_TGWHOP_ZONE_UNKNOWN ||
        (c->status != CHECK_PASS && c->status != CHECK_WARN))
        return;
    snprintf(c->detail + len, sizeof(c->detail) - len,
             "; unknown: whether %s has a subnet in the zone of %s (%s)", a->id, subnet, z->why);
    if (c->status == CHECK_WARN) /* its own fix stays: what it could not judge comes first */
        return;
    c->status = CHECK_WARN;
    check_result_fix(c,
                     "check by hand that attachment %s has a subnet in the zone of %s (aws ec2 "
                     "describe-transit-gateway-vpc-attachments --transit-gateway-attachment-ids "
                     "%s --region %s; aws ec2 describe-subnets --subnet-ids %s)",
                     a->id, subnet, a->id, region, subnet);
}

/* The attachment's subnet in the zone of subnet (NULL: none, or not known). */
static const char *attachment_subnet(const struct aws_view *v, const struct ec2_tgw_attachment *a,
                                     const char *subnet)
{
    const struct ec2_tgw_vpc_attachment *va = aws_view_tgw_vpc_attachment(v, a->id);
    const struct ec2_subnet *from = aws_view_subnet(v, subnet);

    for (size_t i = 0; va && from && i < va->n_subnets; i++) {
        const struct ec2_subnet *s = aws_view_subnet(v, va->subnets[i]);
        if (s && same_zone(s, from))
            return s->id;
    }
    return NULL;
}

static struct check_result *acl_result(struct check_report *rep, const struct aws_tgwhop_leg *g,
                                       const char *object, enum check_status st)
{
    char group[24], subject[96];
    struct check_result *c;

    snprintf(group, sizeof(group), "path.%s", g->name);
    snprintf(subject, sizeof(subject), "%s %s", g->endpoint, object);
    c = check_report_add(rep, group, subject, st);
    snprintf(c->object, sizeof(c->object), "%s", object);
    return c;
}

/* The rules that decided, "5432 by rule 100 allow ..." (the refused parts when !allowed). */
static void decided_text(const struct aws_acl_verdict *vd, bool allowed, char *buf, size_t size)
{
    size_t len = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < vd->n_pieces && len < size; i++) {
        char rule[128];
        if (vd->pieces[i].allow != allowed)
            continue;
        aws_acl_rule_text(vd->pieces[i].rule, rule, sizeof(rule));
        len += (size_t)snprintf(buf + len, size - len, "%s%d-%d by %s", len ? "; " : "",
                                vd->pieces[i].from, vd->pieces[i].to, rule);
    }
}

void aws_tgwhop_acl(const struct aws_view *v, const struct aws_tgwhop_leg *g,
                    struct check_report *rep)
{
    const char *pcx, *tgw, *tsub;
    const struct ec2_tgw_attachment *a;
    const struct ec2_network_acl *acl;
    struct aws_tgwhop_zone z;
    struct aws_acl_verdict vd;
    struct check_result *c;
    char text[300], where[160];
    bool all, linux_ok;

    aws_ends_carrier(v, g->from_vpc, g->from_subnet, g->to, &pcx, &tgw);
    a = tgw ? aws_view_tgw_attachment(v, tgw, g->from_vpc) : NULL;
    if (!a || strcmp(a->state, "available") != 0)
        return;
    aws_tgwhop_zone(v, a, g->from_subnet, &z);
    tsub = z.verdict == AWS_TGWHOP_SERVED ? attachment_subnet(v, a, g->from_subnet) : NULL;
    if (!tsub)
        return; /* path.route says why */
    snprintf(where, sizeof(where), "%s, the subnet of %s in %s%s", tsub, a->id, z.zone,
             strcmp(tsub, g->from_subnet) == 0 ? ", the sender's own" : "");
    acl = aws_view_subnet_acl(v, g->from_vpc, tsub);
    if (!acl) {
        c = acl_result(rep, g, tsub, CHECK_WARN);
        check_result_detail(c, "the network ACL of %s is not visible", where);
        check_result_fix(c, "check by hand that the network ACL of %s allows tcp %d-%d in from %s",
                         tsub, g->lo, g->hi, g->src_ip);
        return;
    }
    aws_acl_judge(acl, false, g->src, g->lo, g->hi, &vd);
    all = aws_acl_allows(&vd, g->lo, g->hi);
    linux_ok =
        g->linux_only && aws_acl_allows(&vd, AWS_LINUX_EPHEMERAL_FROM, AWS_LINUX_EPHEMERAL_TO);
    decided_text(&vd, all, text, sizeof(text));
    c = acl_result(rep, g, acl->id, all ? CHECK_PASS : linux_ok ? CHECK_WARN : CHECK_FAIL);
    check_result_detail(c,
                        "%s (%s): packets from %s enter %s through it, judged by its inbound "
                        "rules: tcp %s %s%s",
                        acl->id, where, g->src_ip, tgw, all ? "allowed" : "refused", text,
                        linux_ok ? " (Linux's default client ports 32768-60999 pass)" : "");
    if (all) {
        check_result_rule(c, "%s inbound %s", acl->id, text);
        return;
    }
    check_result_fix(c,
                     "aws ec2 create-network-acl-entry --network-acl-id %s --ingress --rule-number "
                     "N --protocol tcp --port-range From=%d,To=%d --%scidr-block %s%s "
                     "--rule-action allow --region %s (N below any rule denying it)",
                     acl->id, g->lo, g->hi, g->src->family == AF_INET6 ? "ipv6-" : "", g->src_ip,
                     g->src->family == AF_INET6 ? "/128" : "/32", g->region);
}
