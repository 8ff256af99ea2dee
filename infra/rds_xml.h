/*
 * rds_xml.h: RDS Query API responses (XML) parsed with libxml2 into plain structs, for the
 * path analysis of an RDS endpoint's members (infra/rds.h).
 *
 * Only what the failover judgement needs is kept: a cluster's endpoints and members, an
 * instance's endpoint address, availability zones, DB subnet group (VPC, subnets with
 * their zones) and VPC security groups. Elements are matched by local name (the namespace
 * and the order of elements never matter); a list may be empty or missing. A value longer
 * than its array, or more list entries than an array holds, is a parse error, never a
 * silent truncation. Documents with a DTD are refused.
 *
 * The list parsers APPEND to the list they are given (one call per page) and replace
 * marker with the page's <Marker> (NULL when the page has none). Start a list zeroed and
 * release it with its _free function. An error document (<ErrorResponse><Error>) makes
 * every success parser fail with "RDS error CODE: MESSAGE"; ec2_xml_parse_error
 * (infra/ec2_xml.h) reads its code and message.
 */
#ifndef RDS_XML_H
#define RDS_XML_H

#include <stdbool.h>
#include <stddef.h>

#include "infra/infra_error.h"

#define RDS_ID_MAX 72      /* identifiers (instance, cluster, vpc-, subnet-, sg-), zones */
#define RDS_HOST_MAX 256   /* an endpoint's DNS name */
#define RDS_MEMBERS_MAX 16 /* an Aurora cluster: a writer and up to 15 replicas */
#define RDS_CUSTOM_MAX 8   /* custom endpoints of a cluster (AWS allows 5) */
#define RDS_SUBNETS_MAX 32 /* subnets of a DB subnet group (AWS allows 20) */
#define RDS_GROUPS_MAX 16  /* VPC security groups of an instance */
#define RDS_LIST_MAX 10000 /* clusters or instances in one list (across pages) */

struct rds_cluster_member {
    char instance[RDS_ID_MAX];
    bool writer; /* IsClusterWriter */
};

/* DescribeDBClusters: one <DBCluster>. */
struct rds_cluster {
    char id[RDS_ID_MAX];
    char endpoint[RDS_HOST_MAX];        /* the writer (cluster) endpoint */
    char reader_endpoint[RDS_HOST_MAX]; /* "" when the cluster has none */
    char custom[RDS_CUSTOM_MAX][RDS_HOST_MAX];
    size_t n_custom;
    struct rds_cluster_member members[RDS_MEMBERS_MAX];
    size_t n_members;
};

struct rds_cluster_list {
    struct rds_cluster *items;
    size_t n, cap;
    char *marker; /* NULL = last page */
};

struct rds_subnet {
    char id[RDS_ID_MAX]; /* SubnetIdentifier */
    char az[RDS_ID_MAX]; /* SubnetAvailabilityZone/Name */
};

/* DescribeDBInstances: one <DBInstance>. */
struct rds_instance {
    char id[RDS_ID_MAX];
    char cluster[RDS_ID_MAX];      /* DBClusterIdentifier, "" for a lone instance */
    char status[RDS_ID_MAX];       /* DBInstanceStatus */
    char address[RDS_HOST_MAX];    /* Endpoint/Address, "" while it has none */
    char az[RDS_ID_MAX];           /* AvailabilityZone */
    char secondary_az[RDS_ID_MAX]; /* SecondaryAvailabilityZone: a Multi-AZ standby's */
    bool multi_az;                 /* MultiAZ */
    char vpc[RDS_ID_MAX];          /* DBSubnetGroup/VpcId */
    struct rds_subnet subnets[RDS_SUBNETS_MAX]; /* DBSubnetGroup/Subnets */
    size_t n_subnets;
    char groups[RDS_GROUPS_MAX][RDS_ID_MAX]; /* VpcSecurityGroups/.../VpcSecurityGroupId */
    size_t n_groups;
};

struct rds_instance_list {
    struct rds_instance *items;
    size_t n, cap;
    char *marker;
};

/* DescribeDBClusterEndpoints: one <DBClusterEndpointList> (a custom endpoint's members). */
struct rds_cluster_endpoint {
    char id[RDS_ID_MAX];          /* DBClusterEndpointIdentifier */
    char cluster[RDS_ID_MAX];     /* DBClusterIdentifier */
    char endpoint[RDS_HOST_MAX];  /* Endpoint */
    char custom_type[RDS_ID_MAX]; /* CustomEndpointType: READER, ANY ("" when not custom) */
    /* StaticMembers: only these; else every instance but ExcludedMembers */
    char static_members[RDS_MEMBERS_MAX][RDS_ID_MAX];
    size_t n_static;
    char excluded[RDS_MEMBERS_MAX][RDS_ID_MAX];
    size_t n_excluded;
};

struct rds_cluster_endpoint_list {
    struct rds_cluster_endpoint *items;
    size_t n, cap;
    char *marker;
};

/* DescribeDBClustersResponse: append every DBClusters/DBCluster. */
bool rds_xml_parse_clusters(const char *buf, size_t len, struct rds_cluster_list *out,
                            struct infra_error *err) INFRA_MUST_CHECK;
/* DescribeDBInstancesResponse: append every DBInstances/DBInstance. */
bool rds_xml_parse_instances(const char *buf, size_t len, struct rds_instance_list *out,
                             struct infra_error *err) INFRA_MUST_CHECK;

/* DescribeDBClusterEndpointsResponse: append every DBClusterEndpoints/DBClusterEndpointList. */
bool rds_xml_parse_cluster_endpoints(const char *buf, size_t len,
                                     struct rds_cluster_endpoint_list *out,
                                     struct infra_error *err) INFRA_MUST_CHECK;

void rds_cluster_list_free(struct rds_cluster_list *l);
void rds_cluster_endpoint_list_free(struct rds_cluster_endpoint_list *l);
/* Is instance one a custom endpoint can point to (its static members, else every one not
 * excluded)? */
bool rds_cluster_endpoint_has(const struct rds_cluster_endpoint *e, const char *instance);
void rds_instance_list_free(struct rds_instance_list *l);

/* The subnet of the group in zone az, or NULL. */
const struct rds_subnet *rds_instance_subnet_in(const struct rds_instance *i, const char *az);

#endif
