/*
 * aws_tgwhop.h: what the path's route hops (infra/aws_path.c) need to know of a transit
 * gateway besides its route tables: whether the config allows it, the attachment id for a
 * fix, and whether its VPC attachment takes packets from the zone they leave from.
 *
 * AWS takes a packet into a transit gateway only from resources in an Availability Zone
 * where the VPC's attachment has a subnet ("any resources in Availability Zones where
 * there is no transit gateway attachment cannot reach the transit gateway", AWS Transit
 * Gateway guide, VPC attachments): a subnet whose route table sends the database (or the
 * job, for the replies) to the gateway, in a zone the attachment does not cover, loses
 * every packet, though the route, the attachment and the gateway's table are all fine.
 * Zones are compared by zone id (the same in every account) when both subnets have one,
 * else by name.
 */
#ifndef AWS_TGWHOP_H
#define AWS_TGWHOP_H

#include <stdbool.h>
#include <stddef.h>

#include "infra/aws_eval.h"
#include "infra/aws_path.h"
#include "infra/aws_view.h"
#include "infra/check_report.h"

/* Is tgw one of aws.transit_gateways? */
bool aws_tgwhop_allowed(const struct aws_path_input *in, const char *tgw);

/* The id of the attachment of tgw to vpc for a fix ("<the attachment of vpc-x>" in buf when
 * it is not in the view). */
const char *aws_tgwhop_attachment_for(const struct aws_view *v, const char *tgw, const char *vpc,
                                      char *buf, size_t size);

enum aws_tgwhop_zone_verdict {
    AWS_TGWHOP_SERVED = 0,   /* the attachment has a subnet in the subnet's zone */
    AWS_TGWHOP_NOT_SERVED,   /* it has none: the packets are dropped */
    AWS_TGWHOP_ZONE_UNKNOWN, /* not known (the calls were refused, a subnet not visible) */
};

struct aws_tgwhop_zone {
    enum aws_tgwhop_zone_verdict verdict;
    char zone[EC2_ID_MAX]; /* the subnet's zone name, "" when unknown */
    char served[256];      /* "subnet-a in us-east-1a, subnet-c in us-east-1c" */
    char why[300];         /* ZONE_UNKNOWN: why */
};

/* Does VPC attachment a take packets from `subnet` (the subnet they leave from)? */
void aws_tgwhop_zone(const struct aws_view *v, const struct ec2_tgw_attachment *a,
                     const char *subnet, struct aws_tgwhop_zone *out);

/* The FAIL's detail and fix: `lead` says what the route hop found ("rtb-1 (associated
 * with subnet-2): vpc-3 to 10.10.5.20 takes route 10.10.0.0/16 via tgw-4"). */
void aws_tgwhop_zone_fail(struct check_result *c, const struct aws_tgwhop_zone *z,
                          const struct ec2_tgw_attachment *a, const char *subnet, const char *lead,
                          const char *region);

/* When the zone is unknown: a hop the gateway's table let through (c, a PASS) becomes a
 * WARN saying so, with the command to check by hand; a WARN says so too (its fix stays); a
 * FAIL is left as it is. */
void aws_tgwhop_zone_unknown(struct check_result *c, const struct aws_tgwhop_zone *z,
                             const struct ec2_tgw_attachment *a, const char *subnet,
                             const char *region);

/* The packets entering a transit gateway, one path.<name> result ("tgw-nacl-in" for the
 * request, "tgw-nacl-back" for the replies), none when the route of from_subnet's table for
 * `to` takes no transit gateway or its attachment is not available or does not serve the
 * zone (path.route says so). AWS judges packets from a VPC's resources into the gateway by
 * the inbound rules of the network ACL of the attachment's subnet in their zone, on their
 * source address and destination port (Transit Gateway guide, network ACLs): when that
 * subnet is from_subnet itself, its ACL must let its own address in. src is the sender
 * (the job, or the database for the replies), ports lo..hi the destination ports (the
 * database port, or the job's client ports); linux_only: the client ports are not known,
 * and replies passing only for Linux's default range are a WARN. */
struct aws_tgwhop_leg {
    const char *name;     /* "tgw-nacl-in", "tgw-nacl-back" */
    const char *endpoint; /* "source", "target" */
    const char *from_vpc, *from_subnet;
    const char *src_ip;
    const struct cidr *src, *to;
    int lo, hi;
    bool linux_only;
    const char *region;
};
void aws_tgwhop_acl(const struct aws_view *v, const struct aws_tgwhop_leg *g,
                    struct check_report *rep);

#endif
