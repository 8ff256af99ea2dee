/*
 * rds.h: the RDS Query API calls the path analysis needs to know every instance an RDS
 * endpoint name can point to (infra/aws_failover.h), over the signed transport of
 * infra/aws_http.h, with the responses parsed by infra/rds_xml.h.
 *
 * Describe calls follow <Marker> until the last page. An error answer becomes a struct
 * rds_error whose message names the IAM action when it is a refusal
 * ("rds:DescribeDBClusters"); nothing secret is ever in it.
 */
#ifndef RDS_H
#define RDS_H

#include <stdbool.h>
#include <stddef.h>

#include "infra/infra_error.h"
#include "infra/rds_xml.h"

struct aws_creds_provider; /* infra/aws_creds.h */
struct aws_http_options;   /* infra/aws_http.h */
struct aws_form;           /* infra/aws_http.h */
struct aws_http_response;  /* infra/aws_http.h */

#define RDS_API_VERSION "2014-10-31"
#define RDS_MAX_PAGES 100

enum rds_error_kind {
    RDS_OK = 0,
    RDS_ERR_DENIED,    /* the IAM policy does not allow the action */
    RDS_ERR_NOT_FOUND, /* DBClusterNotFoundFault, DBInstanceNotFound */
    RDS_ERR_OTHER,     /* transport, authentication, throttling, parse ... */
};

struct rds_error {
    enum rds_error_kind kind;
    char action[48];         /* "DescribeDBClusters" */
    struct infra_error base; /* base.msg: one line for an operator */
};

/* Same contract as ec2_send_fn (infra/ec2.h): tests answer from fixtures. */
typedef bool (*rds_send_fn)(void *ctx, const struct aws_form *form, struct aws_http_response *resp,
                            struct infra_error *err);

struct rds;

/* A client over aws_client("rds", region, endpoint, creds, opts); creds is borrowed. After
 * a transport failure (no answer after the retries) every later call fails at once with
 * that message. */
struct rds *rds_new(const char *region, const char *endpoint, struct aws_creds_provider *creds,
                    const struct aws_http_options *opts, struct infra_error *err);
struct rds *rds_new_with_transport(rds_send_fn send, void *ctx, struct infra_error *err);
void rds_free(struct rds *c);

/* DescribeDBClusters: one cluster by identifier (id non-NULL), else every cluster of the
 * region. Appends to *out. A cluster that does not exist is RDS_ERR_NOT_FOUND. */
bool rds_describe_clusters(struct rds *c, const char *id, struct rds_cluster_list *out,
                           struct rds_error *e) INFRA_MUST_CHECK;
/* DescribeDBClusterEndpoints of one custom endpoint (its identifier: the first label of
 * its DNS name) of cluster. Appends to *out. */
bool rds_describe_cluster_endpoints(struct rds *c, const char *cluster, const char *id,
                                    struct rds_cluster_endpoint_list *out,
                                    struct rds_error *e) INFRA_MUST_CHECK;
/* DescribeDBInstances: one instance by identifier (id), or the members of a cluster
 * (cluster: Filters db-cluster-id). Appends to *out. */
bool rds_describe_instances(struct rds *c, const char *id, const char *cluster,
                            struct rds_instance_list *out, struct rds_error *e) INFRA_MUST_CHECK;

#endif
