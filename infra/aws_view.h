/*
 * aws_view.h: one snapshot of the EC2 objects the preflight judges, fetched with a fixed
 * number of batched Describe calls (filters, never one call per route, rule or id), so
 * that the number of API calls does not grow with the size of the route tables or of
 * the security groups.
 *
 * What is fetched, in this order (each step is one call, two for the interfaces):
 *   1. network interfaces by private IP (addresses.private-ip-address: the job's and the
 *      databases'), and the job's interface by id when the config names it;
 *   2. route tables: every table of the VPCs of step 1 (vpc-id), plus the configured
 *      tables that are elsewhere (route-table-id);
 *   3. network ACLs of the VPCs of step 1 (vpc-id);
 *   4. security groups: the interfaces' groups and the configured ones (group-id);
 *   5. VPC peerings: the configured ones and every peering a fetched route or security
 *      group rule points at (vpc-peering-connection-id);
 *   6. the entries of every managed prefix list a fetched route or rule names (one call
 *      per prefix list: the API takes one id);
 *   7. transit gateway attachments of the gateways fetched routes point at, in the VPCs
 *      of step 1 (transit-gateway-id, resource-id);
 *   8. the routes of the transit gateway route tables those attachments are associated
 *      with (SearchTransitGatewayRoutes, one call per table: the API takes one);
 *   9. for the path, the subnets of those VPC attachments (DescribeTransitGatewayVpc-
 *      Attachments) and the subnets of their VPCs with their zones (DescribeSubnets,
 *      vpc-id): a gateway takes packets only from the zones its attachment has a subnet in.
 * Filters never fail on an id that does not exist: a missing object is simply absent.
 *
 * An error that makes every call fail (authentication, no network path, throttling after
 * the transport's retries) stops the fetch: `fatal` is set and `fatal_err` holds it.
 * Any other error (a denied action) is kept for the kind of object concerned, and the
 * checks that need it report it.
 */
#ifndef AWS_VIEW_H
#define AWS_VIEW_H

#include <stdbool.h>
#include <stddef.h>

#include "infra/cidr.h"
#include "infra/ec2.h"
#include "infra/ec2_xml.h"
#include "infra/infra_error.h"

#define AWS_VIEW_MAX_IPS 32

struct aws_view_request {
    const char *const *peerings; /* configured pcx ids */
    size_t n_peerings;
    const char *const *route_tables; /* configured rtb ids */
    size_t n_route_tables;
    const char *const *security_groups; /* configured sg ids */
    size_t n_security_groups;
    const char *job_ip;  /* the job's private IPv4, or NULL */
    const char *job_eni; /* the job's interface id, or NULL */
    const char *const *db_ips;
    size_t n_db_ips;
    const char *const *job_vpcs; /* VPCs known without an interface (IMDS), or NULL */
    size_t n_job_vpcs;
    const char *const *job_groups; /* groups known without an interface (IMDS) */
    size_t n_job_groups;
    /* VPCs and groups of RDS instances known without an interface (the RDS API) */
    const char *const *db_vpcs;
    size_t n_db_vpcs;
    const char *const *db_groups;
    size_t n_db_groups;
    bool path; /* fetch what the path analysis needs (interfaces, ACLs, whole VPCs) */
};

/* The outcome of fetching one kind of object. */
struct aws_fetch {
    bool tried;
    bool failed;
    struct ec2_error err; /* when failed */
};

struct aws_prefix_list {
    char id[EC2_ID_MAX];
    struct ec2_prefix_entries entries;
    struct aws_fetch fetch;
};

struct aws_tgw_table {
    char id[EC2_ID_MAX];
    struct ec2_tgw_route_list routes;
    struct aws_fetch fetch;
};

struct aws_view {
    struct ec2_eni_list enis;
    struct ec2_route_table_list tables;
    struct ec2_acl_list acls;
    struct ec2_sg_list groups;
    struct ec2_peering_list peerings;
    struct ec2_tgw_attachment_list tgw_attachments;
    struct ec2_tgw_vpc_attachment_list tgw_vpc_attachments; /* step 9 */
    struct ec2_subnet_list subnets;                         /* step 9 */
    struct aws_prefix_list *prefix_lists;
    size_t n_prefix_lists;
    struct aws_tgw_table *tgw_tables;
    size_t n_tgw_tables;
    char (*vpcs)[EC2_ID_MAX]; /* the VPCs whose tables and ACLs were fetched whole */
    size_t n_vpcs;
    struct aws_fetch f_enis, f_tables, f_acls, f_groups, f_peerings, f_tgw;
    struct aws_fetch f_tgw_zones; /* step 9 (either call) */
    /* the interfaces of the databases' IPv6 addresses (filter ipv6-addresses.ipv6-address):
     * a failure there leaves the IPv4 analysis whole */
    struct aws_fetch f_enis6;
    bool fatal;
    struct ec2_error fatal_err;
    unsigned long calls; /* EC2 requests made for this view */
};

/* Fetch into v (zeroed here). False only when the API is unusable (v->fatal) or out of
 * memory (err); a denied action is recorded in the kind's aws_fetch and is not false. */
bool aws_view_fetch(struct ec2 *ec2, const struct aws_view_request *req, struct aws_view *v,
                    struct infra_error *err) INFRA_MUST_CHECK;
void aws_view_free(struct aws_view *v);

/* ---- lookups (NULL when absent) ---- */

const struct ec2_network_interface *aws_view_eni_by_ip(const struct aws_view *v, const char *ip);
const struct ec2_network_interface *aws_view_eni_by_id(const struct aws_view *v, const char *id);
const struct ec2_route_table *aws_view_table(const struct aws_view *v, const char *id);
/* The table a subnet's packets use: its explicit association, else the VPC's main table.
 * *explicit_assoc says which. */
const struct ec2_route_table *aws_view_subnet_table(const struct aws_view *v, const char *vpc,
                                                    const char *subnet, bool *explicit_assoc);
/* The network ACL of a subnet: its association, else the VPC's default ACL. */
const struct ec2_network_acl *aws_view_subnet_acl(const struct aws_view *v, const char *vpc,
                                                  const char *subnet);
const struct ec2_security_group *aws_view_group(const struct aws_view *v, const char *id);
const struct ec2_peering *aws_view_peering(const struct aws_view *v, const char *id);
/* The prefix list (fetched or failed), or NULL when it was never asked for. */
const struct aws_prefix_list *aws_view_prefix_list(const struct aws_view *v, const char *id);
/* The attachment of tgw to vpc, or NULL. */
const struct ec2_tgw_attachment *aws_view_tgw_attachment(const struct aws_view *v, const char *tgw,
                                                         const char *vpc);
/* A VPC attachment's subnets (step 9), by attachment id. */
const struct ec2_tgw_vpc_attachment *aws_view_tgw_vpc_attachment(const struct aws_view *v,
                                                                 const char *id);
/* A subnet of a VPC attached to a transit gateway (step 9), with its zone. */
const struct ec2_subnet *aws_view_subnet(const struct aws_view *v, const char *id);
/* A transit gateway route table (fetched or failed), or NULL when it was never asked for. */
const struct aws_tgw_table *aws_view_tgw_table(const struct aws_view *v, const char *id);
/* Is the VPC's table set complete in the view (its tables were fetched by vpc-id)? */
bool aws_view_has_vpc(const struct aws_view *v, const char *vpc);

/* The side of peering p that is not `vpc` (NULL when vpc is on neither side). */
const struct ec2_vpc_side *aws_peer_side(const struct ec2_peering *p, const char *vpc);

/* Does the VPC on side s of a peering hold addr (a host or a block)? Its blocks are those
 * the peering lists for it and, when its route tables are in the view, the destinations of
 * their local routes: a VPC has one per IPv4 block, secondary blocks included, which a
 * peering's description may lack. block (may be NULL) receives the block that holds addr. */
bool aws_view_side_holds(const struct aws_view *v, const struct ec2_vpc_side *s,
                         const struct cidr *addr, char *block, size_t size);

#endif
