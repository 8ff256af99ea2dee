/*
 * aws_ends.h: the two ends of a database connection's path in an aws_view, for the path
 * analysis (infra/aws_path.h) and the checks judged on the job's identity
 * (infra/aws_checks.h): which interface is the job's, which the database's (the one the
 * job's route leads to, as VPCs of one region often reuse the same private ranges), and
 * where a subnet's route for an address leads.
 */
#ifndef AWS_ENDS_H
#define AWS_ENDS_H

#include <stdbool.h>
#include <stddef.h>

#include "infra/aws_path.h"
#include "infra/aws_view.h"
#include "infra/check_report.h"
#include "infra/cidr.h"

/* Does the interface hold ip (its primary, secondary or IPv6 addresses)? */
bool aws_ends_eni_has_ip(const struct ec2_network_interface *e, const char *ip);

/* The job's interface in the view: by id; else the one interface holding its address
 * that agrees with what the metadata said (MAC, subnet, VPC): VPCs of one region often
 * reuse the same private ranges, so an address alone may name several interfaces. NULL
 * when none or several do; *n_candidates (may be NULL) says how many. */
const struct ec2_network_interface *
aws_ends_job_eni(const struct aws_view *v, const struct aws_path_job *job, size_t *n_candidates);

/* The interface of a database address as the job's packets find it: of the interfaces
 * holding the address, the one in the VPC the job subnet's route leads to (the local
 * route: the job's VPC; a peering: its other side; a transit gateway: a VPC attached to
 * it). When that VPC is known and holds none of them, NULL: the database is not visible
 * (another account), whatever else reuses the address. When the route names no VPC (or
 * job_vpc is NULL), only a single interface holding the address counts. *n_candidates
 * (may be NULL): how many interfaces hold the address. */
const struct ec2_network_interface *aws_ends_db_eni(const struct aws_view *v, const char *job_vpc,
                                                    const char *job_subnet, const char *ip,
                                                    size_t *n_candidates);

/* Where the route of vpc/subnet's table for addr leads: *to_vpc (the local route, or the
 * other side of a peering in the view whose CIDRs hold addr) or *tgw (a transit gateway).
 * False when the route names no VPC (no route, another target, a peering not in the view
 * or to a VPC that cannot hold the address). */
bool aws_ends_route_leads_to(const struct aws_view *v, const char *vpc, const char *subnet,
                             const struct cidr *addr, const char **to_vpc, const char **tgw);

/* What carries the packets of vpc/subnet for addr out of the VPC: the peering (*pcx) or
 * the transit gateway (*tgw) its table's route for addr names; both NULL for the local
 * route, any other target, or no route. */
void aws_ends_carrier(const struct aws_view *v, const char *vpc, const char *subnet,
                      const struct cidr *addr, const char **pcx, const char **tgw);

/* A path.database WARN when the endpoint's network.endpoints[].ip is not one of the
 * addresses its name resolves to now (`--only path`, which resolves nothing, judges the
 * pinned one); nothing otherwise. */
void aws_ends_stale_pin(const struct aws_path_endpoint *ep, struct check_report *rep);

/* "eni-a in vpc-x, eni-b in vpc-y" for the interfaces holding ip */
void aws_ends_holders_text(const struct aws_view *v, const char *ip, char *buf, size_t size);

#endif
