/*
 * aws_isolation.h: the data team cannot reach production. Their VPC is peered with the
 * isolated VPC only, and a VPC does not forward what arrives over a peering (peering is
 * not transitive: a packet from the data team is delivered to an address of the isolated
 * VPC or dropped, never sent on over the production peering, a transit gateway or a NAT
 * gateway). That holds as long as production has no way back to them of its own: a TCP
 * connection needs the replies too, and those leave by the route table of the production
 * database's subnet. So, judged there for every block of the data team's VPC (the far
 * side of each peering the config marks `required: false`, seen from the job's VPC):
 *
 *   PASS  no route covers the block, or each route that does (the longest match and every
 *         more specific one, prefix-list entries included) is not active, leaves the VPCs
 *         (internet, NAT gateway), or is a peering to a VPC that is not theirs (the
 *         isolated VPC among them: it does not forward the replies; or a VPC of another
 *         account reusing their addresses: their hosts never get the replies), or goes to
 *         a transit gateway production is not attached to, or whose route table (the one
 *         production's attachment is associated with) has no active route for them;
 *   FAIL  a route sends (part of) the block over an active peering to their VPC, or to a
 *         VPC of their account holding it, or to a transit gateway whose table sends it to
 *         their VPC's attachment: production is joined to the data team directly, the
 *         isolated VPC is no longer the only way in (the line says whether production's
 *         groups admit the block too);
 *   WARN  a transit gateway's route leads elsewhere (another VPC may forward it: an
 *         inspection VPC), names no attachment, or its table cannot be read; a route to an
 *         appliance (an instance, interface or endpoint); the table cannot be seen.
 *
 * Group "path.isolation", subject "data-team <endpoint> <address>", one line per data team
 * block and address of a database outside the job's VPC whose side is known (its interface,
 * or the RDS instance the name points to now), and per other instance an RDS endpoint can
 * point to after a failover (its DB subnet group's subnet in its zone; a standby without an
 * address of its own is named by its instance); object: the route table, or the peering or
 * transit gateway that breaks the isolation. What this cannot see: a proxy or NAT instance in the
 * isolated VPC the data team connects to (its own connections to production start there).
 */
#ifndef AWS_ISOLATION_H
#define AWS_ISOLATION_H

#include <stddef.h>

#include "infra/aws_path.h"
#include "infra/aws_view.h"
#include "infra/check_report.h"

/* Append the path.isolation lines for the data team's peerings (ids) to rep. */
void aws_isolation_run(const struct aws_view *v, const struct aws_path_input *in,
                       const char *const *data_peerings, size_t n_data_peerings,
                       struct check_report *rep);

#endif
