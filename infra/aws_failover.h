/*
 * aws_failover.h: the instances an RDS endpoint name can point to, judged for the path
 * analysis (infra/aws_path.h).
 *
 * An Aurora cluster endpoint (writer), reader or custom endpoint, or an RDS Multi-AZ
 * instance's endpoint, resolves to one instance at a time: after a failover the name
 * points at another one, maybe in another subnet and zone whose route table, network ACL
 * or security groups differ. The path.* lines judge the instance the name points at now
 * (a FAIL there stops the job today); each other instance gets one line:
 *   path.failover  "<endpoint> <instance>"  PASS when every hop judged passes, else a WARN
 *                  naming the instance, its subnet and zone, and what is missing (the
 *                  first hop that would refuse, with its fix)
 * and, when the RDS API could not say which instances there are (permission denied,
 * cluster not found), one WARN "<endpoint> rds" naming the missing permission; a WARN too
 * when a custom endpoint's own members could not be read (every member is judged then).
 */
#ifndef AWS_FAILOVER_H
#define AWS_FAILOVER_H

#include "infra/aws_path.h"
#include "infra/check_report.h"

/* Sum up the hops judged for member m (hops: a scratch report of path.* lines) into one
 * path.failover line of rep. An empty hops: the member could not be placed (no address
 * and no subnet): a WARN. */
void aws_failover_member(const struct aws_path_endpoint *ep, const struct aws_path_member *m,
                         const struct check_report *hops, struct check_report *rep);

/* The instance the name points at now, when the RDS API knows it: a current member (its
 * address is ip) whose subnet is known, else NULL. The path.* lines judge it from that
 * subnet and its groups when no interface holding ip is visible (another account's view,
 * credentials that cannot describe it; moto makes none for RDS). */
const struct aws_path_member *aws_failover_current(const struct aws_path_endpoint *ep,
                                                   const char *ip);

/* The path.database line c of the current member m judged from its RDS subnet: db_at
 * ("10.10.6.20:5432"), src (where the address came from), groups ("sg-a, sg-b"). */
void aws_failover_current_detail(struct check_result *c, const struct aws_path_member *m,
                                 const char *db_at, const char *src, const char *groups);

/* After the members: a WARN when the RDS API could not say (ep->members_problem) or said
 * too little (ep->members_note), an INFO when the name can point to no other instance. */
void aws_failover_summary(const struct aws_path_endpoint *ep, struct check_report *rep);

#endif
