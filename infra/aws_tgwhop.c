/*
 * aws_tgwhop.c: a transit gateway on the path's route hops (see aws_tgwhop.h).
 */
#include "infra/aws_tgwhop.h"

#include <stdio.h>
#include <string.h>

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
