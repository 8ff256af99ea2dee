/*
 * ec2_xml.h: EC2 Query API responses (XML) parsed with libxml2 into plain structs.
 *
 * Only what the preflight checks, the path analysis and the repairs need is kept. Parsing matches
 * elements by local name and ignores the namespace (responses carry 2013-10-01 ... 2016-11-15) and
 * the order of elements; an empty list may be <x/>, <x></x> or missing. Strings are
 * copied into bounded arrays: a value longer than its array is a parse error, never a
 * silent truncation (free text such as status messages is truncated instead).
 *
 * The list parsers APPEND to the list they are given (one call per page), and replace
 * next_token with the page's <nextToken> (NULL when the page has none). Start a list
 * zeroed (`struct ec2_peering_list l = {0};`) and release it with its _free function.
 *
 * A body that is an EC2 error envelope (<Response><Errors><Error>...) makes every success
 * parser fail with "EC2 error CODE: MESSAGE"; ec2_xml_parse_error reads it explicitly.
 */
#ifndef EC2_XML_H
#define EC2_XML_H

#include <stdbool.h>
#include <stddef.h>

#include "infra/infra_error.h"

#define EC2_ID_MAX 64                /* ids (pcx-, rtb-, sg-, vpc-), account ids, regions, states */
#define EC2_CIDR_MAX 48              /* an IPv4 or IPv6 CIDR in text form */
#define EC2_TEXT_MAX 256             /* free text (status messages, names): truncated */
#define EC2_VPC_CIDRS_MAX 55         /* AWS maximum of CIDR blocks per VPC: 50 IPv4 and 5 IPv6 */
#define EC2_XML_MAX_BYTES (8u << 20) /* larger bodies are refused */
#define EC2_LIST_MAX 100000          /* items per list (across pages) */

/* ---- DescribeVpcPeeringConnections / AcceptVpcPeeringConnection ---- */

struct ec2_vpc_side {
    char owner_id[EC2_ID_MAX];
    char vpc_id[EC2_ID_MAX];
    char region[EC2_ID_MAX]; /* "" when the response omits it (same region) */
    /* <cidrBlock> first, then every <cidrBlockSet> entry not already listed, then the
     * IPv6 blocks (<ipv6CidrBlockSet>) */
    char cidrs[EC2_VPC_CIDRS_MAX][EC2_CIDR_MAX];
    size_t n_cidrs;
    bool has_options;           /* <peeringOptions> present */
    bool allow_dns_from_remote; /* peeringOptions/allowDnsResolutionFromRemoteVpc */
};

struct ec2_peering {
    char id[EC2_ID_MAX];
    char status[EC2_ID_MAX]; /* "active", "pending-acceptance", "deleted", ... */
    char status_message[EC2_TEXT_MAX];
    char expiration[EC2_ID_MAX]; /* ISO-8601 or "" */
    struct ec2_vpc_side requester, accepter;
};

struct ec2_peering_list {
    struct ec2_peering *items;
    size_t n, cap;
    char *next_token; /* NULL = last page */
};

/* ---- DescribeRouteTables ---- */

struct ec2_route {
    char dest_cidr[EC2_CIDR_MAX];      /* destinationCidrBlock or "" */
    char dest_ipv6_cidr[EC2_CIDR_MAX]; /* destinationIpv6CidrBlock or "" */
    char dest_prefix_list[EC2_ID_MAX]; /* destinationPrefixListId or "" */
    /* The route's target: vpcPeeringConnectionId, else gatewayId ("local", igw-, vgw-,
     * vpce-), natGatewayId, transitGatewayId, egressOnlyInternetGatewayId,
     * carrierGatewayId, localGatewayId, instanceId, networkInterfaceId, coreNetworkArn
     * (first present); "" when none is. */
    char target[160];
    char pcx[EC2_ID_MAX];   /* vpcPeeringConnectionId or "" */
    char state[EC2_ID_MAX]; /* "active", "blackhole", "filtered" */
    char origin[EC2_ID_MAX];
};

struct ec2_route_table {
    char id[EC2_ID_MAX];
    char vpc_id[EC2_ID_MAX];
    char owner_id[EC2_ID_MAX];
    bool main; /* an association with <main>true</main> */
    struct ec2_route *routes;
    size_t n_routes;
    char (*subnets)[EC2_ID_MAX]; /* associated subnet ids */
    size_t n_subnets;
};

struct ec2_route_table_list {
    struct ec2_route_table *items;
    size_t n, cap;
    char *next_token;
};

/* ---- DescribeSecurityGroups ---- */

struct ec2_sg_ref { /* ipPermissions/item/groups/item */
    char group_id[EC2_ID_MAX];
    char user_id[EC2_ID_MAX];
    char vpc_id[EC2_ID_MAX];
    char pcx[EC2_ID_MAX];
    char peering_status[EC2_ID_MAX];
};

struct ec2_ip_permission {
    char protocol[EC2_ID_MAX];   /* "tcp", "udp", "icmp", "-1" (all) or a number */
    bool has_ports;              /* fromPort/toPort present */
    int from_port, to_port;      /* -1 = all (icmp: type/code) */
    char (*cidrs)[EC2_CIDR_MAX]; /* ipRanges/item/cidrIp and ipv6Ranges/item/cidrIpv6 */
    size_t n_cidrs;
    struct ec2_sg_ref *groups;
    size_t n_groups;
    char (*prefix_lists)[EC2_ID_MAX]; /* prefixListIds/item/prefixListId */
    size_t n_prefix_lists;
};

struct ec2_security_group {
    char id[EC2_ID_MAX];
    char name[EC2_TEXT_MAX];
    char vpc_id[EC2_ID_MAX];
    char owner_id[EC2_ID_MAX];
    struct ec2_ip_permission *ingress; /* ipPermissions */
    size_t n_ingress;
    struct ec2_ip_permission *egress; /* ipPermissionsEgress */
    size_t n_egress;
};

struct ec2_sg_list {
    struct ec2_security_group *items;
    size_t n, cap;
    char *next_token;
};

/* ---- DescribeNetworkInterfaces ---- */

struct ec2_network_interface {
    char id[EC2_ID_MAX];
    char subnet_id[EC2_ID_MAX];
    char vpc_id[EC2_ID_MAX];
    char owner_id[EC2_ID_MAX];
    char status[EC2_ID_MAX];         /* "in-use", "available", ... */
    char interface_type[EC2_ID_MAX]; /* "interface", "lambda", "nat_gateway", ... or "" */
    char requester_id[EC2_ID_MAX];   /* "amazon-rds" for an RDS instance, or "" */
    bool requester_managed;
    char description[EC2_TEXT_MAX]; /* "RDSNetworkInterface", ...: truncated */
    char instance_id[EC2_ID_MAX];   /* attachment/instanceId or "" */
    char mac[EC2_ID_MAX];           /* macAddress ("0a:1b:..."), or "" */
    char private_ip[EC2_CIDR_MAX];  /* the primary private IPv4 address */
    char (*ips)[EC2_CIDR_MAX];      /* every private IPv4 (privateIpAddressesSet) */
    size_t n_ips;
    char (*ipv6s)[EC2_CIDR_MAX]; /* every IPv6 address (ipv6AddressesSet/item/ipv6Address) */
    size_t n_ipv6s;
    char (*groups)[EC2_ID_MAX]; /* groupSet/item/groupId */
    size_t n_groups;
};

struct ec2_eni_list {
    struct ec2_network_interface *items;
    size_t n, cap;
    char *next_token;
};

/* ---- DescribeNetworkAcls ---- */

struct ec2_acl_entry {
    int rule_number;           /* 1..32766; 32767 is the final "*" rule */
    char protocol[EC2_ID_MAX]; /* "-1" (all), "6" (tcp), "17", "1", ... as sent */
    bool allow;                /* ruleAction allow (else deny) */
    bool egress;               /* an outbound rule */
    char cidr[EC2_CIDR_MAX];   /* cidrBlock, else ipv6CidrBlock */
    bool has_ports;            /* portRange present */
    int from_port, to_port;
};

struct ec2_network_acl {
    char id[EC2_ID_MAX];
    char vpc_id[EC2_ID_MAX];
    char owner_id[EC2_ID_MAX];
    bool is_default; /* <default>: the VPC's default ACL */
    struct ec2_acl_entry *entries;
    size_t n_entries;
    char (*subnets)[EC2_ID_MAX]; /* associationSet/item/subnetId */
    size_t n_subnets;
};

struct ec2_acl_list {
    struct ec2_network_acl *items;
    size_t n, cap;
    char *next_token;
};

/* ---- GetManagedPrefixListEntries ---- */

struct ec2_prefix_entries {
    char (*cidrs)[EC2_CIDR_MAX];
    size_t n, cap;
    char *next_token;
};

/* ---- DescribeTransitGatewayAttachments ---- */

struct ec2_tgw_attachment {
    char id[EC2_ID_MAX];
    char tgw_id[EC2_ID_MAX];
    char resource_type[EC2_ID_MAX]; /* "vpc", "vpn", "peering", ... */
    char resource_id[EC2_ID_MAX];   /* the VPC id for a VPC attachment */
    char resource_owner[EC2_ID_MAX];
    char state[EC2_ID_MAX];       /* "available", "pending", "deleted", ... */
    char assoc_table[EC2_ID_MAX]; /* association/transitGatewayRouteTableId or "" */
    char assoc_state[EC2_ID_MAX]; /* association/state: "associated", ... or "" */
};

struct ec2_tgw_attachment_list {
    struct ec2_tgw_attachment *items;
    size_t n, cap;
    char *next_token;
};

/* ---- DescribeTransitGatewayVpcAttachments ---- */

/* A VPC attachment's subnets: the transit gateway takes packets only from resources in the
 * zones of these subnets (one per zone). */
struct ec2_tgw_vpc_attachment {
    char id[EC2_ID_MAX];
    char vpc_id[EC2_ID_MAX];
    char (*subnets)[EC2_ID_MAX]; /* subnetIds/item */
    size_t n_subnets;
};

struct ec2_tgw_vpc_attachment_list {
    struct ec2_tgw_vpc_attachment *items;
    size_t n, cap;
    char *next_token;
};

/* ---- DescribeSubnets ---- */

struct ec2_subnet {
    char id[EC2_ID_MAX];
    char vpc_id[EC2_ID_MAX];
    char az[EC2_ID_MAX];    /* availabilityZone: "us-east-1a" (names differ per account) */
    char az_id[EC2_ID_MAX]; /* availabilityZoneId: "use1-az6" (the same in every account) */
};

struct ec2_subnet_list {
    struct ec2_subnet *items;
    size_t n, cap;
    char *next_token;
};

/* ---- SearchTransitGatewayRoutes ---- */

struct ec2_tgw_route {
    char dest_cidr[EC2_CIDR_MAX]; /* destinationCidrBlock or "" */
    char prefix_list[EC2_ID_MAX]; /* prefixListId or "" */
    char type[EC2_ID_MAX];        /* "static", "propagated" */
    char state[EC2_ID_MAX];       /* "active", "blackhole" */
    /* the first of transitGatewayAttachments (several: equal-cost paths) */
    char attachment[EC2_ID_MAX];    /* transitGatewayAttachmentId or "" */
    char resource_id[EC2_ID_MAX];   /* resourceId: "vpc-...", "vpn-...", or "" */
    char resource_type[EC2_ID_MAX]; /* "vpc", "vpn", "peering", "connect", ... */
    size_t n_attachments;
};

struct ec2_tgw_route_list {
    struct ec2_tgw_route *items;
    size_t n, cap;
    char *next_token;
    bool more; /* additionalRoutesAvailable: the answer is not every route */
};

/* ---- ModifyVpcPeeringConnectionOptions ---- */

struct ec2_peering_options_result {
    bool has_requester, requester_dns; /* requesterPeeringConnectionOptions */
    bool has_accepter, accepter_dns;   /* accepterPeeringConnectionOptions */
};

/* ---- errors ---- */

struct ec2_api_error {
    char code[EC2_TEXT_MAX]; /* "UnauthorizedOperation", "AuthFailure", ... */
    char message[768];       /* truncated */
    char request_id[EC2_ID_MAX];
};

/* DescribeVpcPeeringConnectionsResponse: append every <vpcPeeringConnectionSet> item. */
bool ec2_xml_parse_peerings(const char *buf, size_t len, struct ec2_peering_list *out,
                            struct infra_error *err) INFRA_MUST_CHECK;
/* AcceptVpcPeeringConnectionResponse: the single <vpcPeeringConnection>. */
bool ec2_xml_parse_accept_peering(const char *buf, size_t len, struct ec2_peering *out,
                                  struct infra_error *err) INFRA_MUST_CHECK;
/* DescribeRouteTablesResponse: append every <routeTableSet> item. */
bool ec2_xml_parse_route_tables(const char *buf, size_t len, struct ec2_route_table_list *out,
                                struct infra_error *err) INFRA_MUST_CHECK;
/* DescribeSecurityGroupsResponse: append every <securityGroupInfo> item. */
bool ec2_xml_parse_security_groups(const char *buf, size_t len, struct ec2_sg_list *out,
                                   struct infra_error *err) INFRA_MUST_CHECK;
/* DescribeNetworkInterfacesResponse: append every <networkInterfaceSet> item. */
bool ec2_xml_parse_network_interfaces(const char *buf, size_t len, struct ec2_eni_list *out,
                                      struct infra_error *err) INFRA_MUST_CHECK;
/* DescribeNetworkAclsResponse: append every <networkAclSet> item. */
bool ec2_xml_parse_network_acls(const char *buf, size_t len, struct ec2_acl_list *out,
                                struct infra_error *err) INFRA_MUST_CHECK;
/* GetManagedPrefixListEntriesResponse: append every <entrySet> cidr. */
bool ec2_xml_parse_prefix_entries(const char *buf, size_t len, struct ec2_prefix_entries *out,
                                  struct infra_error *err) INFRA_MUST_CHECK;
/* DescribeTransitGatewayAttachmentsResponse: append every <transitGatewayAttachments> item. */
bool ec2_xml_parse_tgw_attachments(const char *buf, size_t len, struct ec2_tgw_attachment_list *out,
                                   struct infra_error *err) INFRA_MUST_CHECK;
/* DescribeTransitGatewayVpcAttachmentsResponse: append every <transitGatewayVpcAttachments>
 * item. */
bool ec2_xml_parse_tgw_vpc_attachments(const char *buf, size_t len,
                                       struct ec2_tgw_vpc_attachment_list *out,
                                       struct infra_error *err) INFRA_MUST_CHECK;
/* DescribeSubnetsResponse: append every <subnetSet> item. */
bool ec2_xml_parse_subnets(const char *buf, size_t len, struct ec2_subnet_list *out,
                           struct infra_error *err) INFRA_MUST_CHECK;
/* SearchTransitGatewayRoutesResponse: append every <routeSet> item. */
bool ec2_xml_parse_tgw_routes(const char *buf, size_t len, struct ec2_tgw_route_list *out,
                              struct infra_error *err) INFRA_MUST_CHECK;
bool ec2_xml_parse_peering_options(const char *buf, size_t len,
                                   struct ec2_peering_options_result *out,
                                   struct infra_error *err) INFRA_MUST_CHECK;
/* A "<{action}Response><return>true|false</return>" body (CreateRoute and the like).
 * `action` is the expected action name, e.g. "CreateRoute". */
bool ec2_xml_parse_return(const char *buf, size_t len, const char *action, bool *ret,
                          struct infra_error *err) INFRA_MUST_CHECK;
/* True when the body is an EC2 error envelope; fills *out with the first <Error>. */
bool ec2_xml_parse_error(const char *buf, size_t len, struct ec2_api_error *out);

void ec2_peering_list_free(struct ec2_peering_list *l);
void ec2_route_table_list_free(struct ec2_route_table_list *l);
void ec2_sg_list_free(struct ec2_sg_list *l);
void ec2_eni_list_free(struct ec2_eni_list *l);
void ec2_acl_list_free(struct ec2_acl_list *l);
void ec2_prefix_entries_free(struct ec2_prefix_entries *l);
void ec2_tgw_attachment_list_free(struct ec2_tgw_attachment_list *l);
void ec2_tgw_route_list_free(struct ec2_tgw_route_list *l);
void ec2_tgw_vpc_attachment_list_free(struct ec2_tgw_vpc_attachment_list *l);
void ec2_subnet_list_free(struct ec2_subnet_list *l);

#endif
