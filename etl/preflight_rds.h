/*
 * preflight_rds.h: the instances an RDS endpoint name of the config can point to, looked
 * up in the RDS API for the path analysis (infra/aws_failover.h).
 *
 * A DSN host named like an RDS endpoint (*.rds.amazonaws.com, *.rds.amazonaws.com.cn and
 * *.rds.REGION.amazonaws.com.cn) is one of:
 *   ID.cluster-HASH.REGION...         an Aurora (or Multi-AZ DB) cluster's writer endpoint
 *   ID.cluster-ro-HASH.REGION...      its reader endpoint
 *   NAME.cluster-custom-HASH.REGION...  a custom endpoint
 *   ID.HASH.REGION...                 an instance endpoint
 * A cluster endpoint: DescribeDBClusters (by identifier; a custom endpoint: every cluster,
 * the one listing it), then DescribeDBInstances of its members (filter db-cluster-id):
 * every member can take the writer's role or a reader's after a failover. A custom endpoint
 * points only to its static members, else to every member it does not exclude
 * (DescribeDBClusterEndpoints; when that cannot be read, every member, with a WARN). An instance
 * endpoint: DescribeDBInstances; a Multi-AZ instance's standby (its subnet in
 * SecondaryAvailabilityZone) is the other instance. Each member's instance endpoint is
 * resolved as the job would (when names are resolved) to find its interface.
 */
#ifndef PREFLIGHT_RDS_H
#define PREFLIGHT_RDS_H

#include <stdbool.h>
#include <stddef.h>

#include "infra/aws_path.h"

struct rds;

enum pfrds_kind { PFRDS_NONE = 0, PFRDS_CLUSTER, PFRDS_READER, PFRDS_CUSTOM, PFRDS_INSTANCE };

/* What kind of RDS endpoint host is (an RDS Proxy endpoint, *.proxy-HASH..., is none), its first
 * label (the cluster or instance identifier, or the custom endpoint's name) into id, and its region
 * (when the name says) into region. PFRDS_NONE when it is no RDS name. */
enum pfrds_kind pfrds_host_kind(const char *host, char *id, size_t id_size, char *region,
                                size_t region_size);

struct pfrds_store;

/* Look up ep's RDS endpoint (the first DSN host that is one) with rds and fill ep's
 * rds_kind, members and members_problem, pointing into the store returned (free it with
 * pfrds_store_free after the path ran). region: the region described. resolve: resolve the
 * members' instance endpoints. An instance endpoint's own instance, when the name resolves
 * to its address, is a current member (the path judges it from its RDS subnet when its
 * interface is not visible); a single-AZ one leaves rds_kind NULL (no failover line). NULL
 * when ep names no RDS endpoint, nothing is known of it (or out of memory). */
struct pfrds_store *pfrds_lookup(struct rds *rds, const char *region, bool resolve,
                                 struct aws_path_endpoint *ep);
void pfrds_store_free(struct pfrds_store *s);

#endif
