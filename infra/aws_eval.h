/*
 * aws_eval.h: how AWS decides the fate of one TCP packet, judged on objects already in an
 * aws_view (no API call here). The rules follow the AWS VPC documentation:
 *
 *   route tables  longest prefix match; for the same prefix a static route wins over a
 *                 prefix-list route, which wins over a propagated one; prefix-list routes
 *                 are expanded with their entries;
 *   security      stateful and additive: a packet passes when any rule of any group of the
 *   groups        interface allows it (a CIDR holding the address, a reference to one of the
 *                 other end's groups, over an active peering when the group is in a peer
 *                 VPC and the packets take that peering, or a managed prefix list holding
 *                 the address);
 *   network ACLs  stateless: rules in rule-number order, the first that matches the
 *                 protocol (tcp, or -1: all; ICMP and others never match), the address and
 *                 the port decides; nothing matching = deny (the "*" rule, 32767).
 *                 Judged over a port range (the replies' ephemeral ports), each port by the
 *                 first rule that matches it.
 */
#ifndef AWS_EVAL_H
#define AWS_EVAL_H

#include <stdbool.h>
#include <stddef.h>

#include "infra/aws_view.h"
#include "infra/cidr.h"
#include "infra/ec2_xml.h"

/* ---- routes ---- */

struct aws_route_hit {
    const struct ec2_route *route; /* NULL: no route covers the destination */
    struct cidr dest;              /* the matched block: the route's or its prefix list entry's */
    bool via_prefix_list;          /* matched through an entry of route->dest_prefix_list */
    /* a prefix-list route could not be expanded (its entries are unknown): the match may
     * be wrong; the id is kept for the message */
    char unknown_prefix_list[EC2_ID_MAX];
};

/* The route that carries packets to `dest` (a host block for a packet; a wider block asks
 * for the route that covers all of it). */
void aws_route_match(const struct aws_view *v, const struct ec2_route_table *t,
                     const struct cidr *dest, struct aws_route_hit *hit);
/* A route (or a prefix-list route's entry) strictly inside `outer` (more specific than it)
 * that does not go where `via` goes, or is not active: part of the block is routed
 * elsewhere. False when there is none. */
struct aws_route_conflict {
    const struct ec2_route *route;
    struct cidr dest;     /* the route's block, or its prefix list's entry */
    bool via_prefix_list; /* dest is an entry of route->dest_prefix_list */
};
bool aws_route_inner_conflict(const struct aws_view *v, const struct ec2_route_table *t,
                              const struct cidr *outer, const struct ec2_route *via,
                              struct aws_route_conflict *out);
/* The route's destination as text: CIDR, IPv6 CIDR or prefix list id. */
const char *aws_route_dest_text(const struct ec2_route *r);
/* The route's destination as aws CLI arguments: "--destination-cidr-block 10.0.0.0/16",
 * "--destination-ipv6-cidr-block ...", "--destination-prefix-list-id pl-..." */
void aws_route_dest_args(const struct ec2_route *r, char *buf, size_t size);
/* "active" unless the route says otherwise. */
bool aws_route_active(const struct ec2_route *r);

/* Where a route's target sends a packet, for the path: */
enum aws_target_kind {
    AWS_TARGET_NONE = 0,  /* no target */
    AWS_TARGET_LOCAL,     /* the VPC itself */
    AWS_TARGET_PEERING,   /* a VPC peering (route->pcx) */
    AWS_TARGET_TGW,       /* a transit gateway */
    AWS_TARGET_APPLIANCE, /* a hop the analysis cannot follow: an interface or instance (a
                             firewall, a proxy), a Gateway Load Balancer or Network Firewall
                             endpoint (vpce-), a Cloud WAN core network */
    AWS_TARGET_EXIT,      /* out of the VPCs: internet, egress-only, NAT, VPN, local and
                             carrier gateways */
};
enum aws_target_kind aws_route_target_kind(const struct ec2_route *r);
/* "an internet gateway", "a network interface (an appliance)", ... */
const char *aws_route_target_what(const struct ec2_route *r);

/* The route of a transit gateway route table that carries packets to dest: longest
 * prefix, a static route before a propagated one of the same length; NULL when none.
 * *unknown_pl (may be NULL): a prefix-list route was skipped (its entries are not
 * fetched), so the match may be wrong. */
const struct ec2_tgw_route *aws_tgw_route_match(const struct ec2_tgw_route_list *l,
                                                const struct cidr *dest, bool *unknown_pl);

/* ---- security groups ---- */

/* One end of the connection, as a security group sees it. */
struct aws_party {
    struct cidr addr; /* the host address */
    const char *const *groups;
    size_t n_groups;
    bool groups_unknown; /* its groups cannot be known (an interface not visible) */
    /* When it is in another VPC than the groups judged: how the packets go between the
     * two (NULL both: not known, or not asked). A rule referencing one of its groups holds
     * only for packets over the peering the reference names; over a transit gateway only
     * for an inbound rule, and only with the gateway's security group referencing on
     * (off by default) and its VPC attachments'. */
    const char *via_pcx, *via_tgw;
};

struct aws_sg_verdict {
    bool allowed;
    const struct ec2_security_group *group; /* whose rule allowed */
    const struct ec2_ip_permission *rule;
    char matched[96]; /* "10.20.1.0/24", "sg-0abc (peer VPC, pcx-0def)", "pl-0123 (10.20.0.0/16)" */
    /* when not allowed, what might have: a prefix list whose entries are unknown, or a
     * reference to one of the party's groups over a peering that is not active */
    char unknown_prefix_list[EC2_ID_MAX];
    char stale_reference[200];
    /* when not allowed and the party's groups are unknown: a group a rule for the port
     * references, which the party may belong to */
    char unknown_group[EC2_ID_MAX];
    /* when not allowed: an inbound reference to one of the party's groups over a transit
     * gateway ("sg-1 over tgw-2"), which holds only if the gateway's security group
     * referencing is on (not read here) */
    char unknown_reference[96];
};

/* Do the groups (inbound rules when !egress) allow TCP `port` with the party? */
void aws_sg_judge(const struct aws_view *v, const struct ec2_security_group *const *groups,
                  size_t n_groups, bool egress, int port, const struct aws_party *party,
                  struct aws_sg_verdict *out);
/* Does the permission cover TCP `port`? (protocol tcp/6 or all; a missing range = all) */
bool aws_perm_covers_tcp_port(const struct ec2_ip_permission *p, int port);
/* "tcp 5432-5432", "tcp (all ports)", "all protocols" */
void aws_perm_text(const struct ec2_ip_permission *p, char *buf, size_t size);

/* Are all addresses of target inside the union of blocks? (IPv4: the blocks together;
 * IPv6: one block must cover it.) *overlap (may be NULL) says whether any block meets it. */
bool aws_cidrs_cover(const struct cidr *target, const struct cidr *blocks, size_t n, bool *overlap);

/* ---- network ACLs ---- */

#define AWS_ACL_PIECES 16
#define AWS_ACL_RULE_ANY 32767 /* the number DescribeNetworkAcls gives the final "*" rule */

struct aws_acl_piece {
    int from, to;
    bool allow;
    const struct ec2_acl_entry *rule; /* NULL: no rule matched (the final "*" deny) */
};

struct aws_acl_verdict {
    bool all_allowed;
    bool none_allowed;
    /* the port range cut by the rule that decided each part, in port order (merged when
     * consecutive parts have the same rule); `more` when there were more parts */
    struct aws_acl_piece pieces[AWS_ACL_PIECES];
    size_t n_pieces;
    bool more;
};

/* TCP ports from..to with `remote` (the source address for inbound rules, the destination
 * for outbound ones), through the ACL's rules of that direction. */
void aws_acl_judge(const struct ec2_network_acl *acl, bool egress, const struct cidr *remote,
                   int from, int to, struct aws_acl_verdict *out);
/* Are all ports from..to allowed in v? (from..to inside the range judged) */
bool aws_acl_allows(const struct aws_acl_verdict *v, int from, int to);
/* "rule 100 allow tcp 5432 from 10.20.0.0/16" (or "rule * deny") into buf */
void aws_acl_rule_text(const struct ec2_acl_entry *e, char *buf, size_t size);

/* Is the address (text) a public one (not private, shared, loopback or link-local)? */
bool aws_addr_is_public(const char *ip);

#endif
