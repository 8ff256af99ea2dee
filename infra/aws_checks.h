/*
 * aws_checks.h: the AWS half of the preflight: the configured expectations (VPC
 * peerings, their DNS resolution options, routes, security groups) and the path analysis
 * (infra/aws_path.h), judged on one aws_view (infra/aws_view.h) fetched through the EC2 API
 * (infra/ec2.h) with a fixed number of batched calls, into a struct check_report.
 *
 * infra/ does not include the config loader (anonymise/config.h), so the checks take
 * their own plain input, which mirrors `aws:` of the config (struct cfg_aws); etl/ copies
 * the config into it (the strings are borrowed, not copied).
 *
 * Groups and subjects of the results:
 *   "peering"    pcx-...                 active / pending-acceptance / deleted ... / not found
 *   "dns-option" pcx-...                 allowDnsResolutionFromRemoteVpc on the sides expected,
 *                                        each judged on its own (infra/aws_dnsopt.h): off is a
 *                                        FAIL only when the name of a database in that side's
 *                                        VPC resolves to a public address (or nothing says how
 *                                        it resolves); INFO when the job runs on that side, no
 *                                        database of it is there, or each one there is reached
 *                                        by address or already resolves privately
 *   "route"      rtb-... -> CIDR         longest-prefix match (prefix-list routes expanded) is
 *                                        active and via the peering, or via a transit gateway
 *                                        of aws.transit_gateways; no more specific route sends
 *                                        part of the CIDR elsewhere; WARN when the job's (or
 *                                        the database's) subnet uses another table
 *   "sg"         sg-... tcp/PORT from X  the group's rules together let the job in (its real
 *                                        address or groups, when known), else cover X
 *   "path.*"     see infra/aws_path.h
 *   "path.isolation"  the data team (peerings marked required: false) cannot reach production
 *                     (infra/aws_isolation.h); never overruled by the live probes
 *   "path.data-team"  their way to the target database on our side of their peering
 *                     (infra/aws_datapath.h): WARN at most
 * A problem with a peering marked required: false (the data team's) is a WARN, not a FAIL;
 * so is a problem with a route via such a peering.
 */
#ifndef AWS_CHECKS_H
#define AWS_CHECKS_H

#include <stdbool.h>
#include <stddef.h>

#include "infra/aws_path.h"
#include "infra/check_report.h"
#include "infra/ec2_xml.h"
#include "infra/infra_error.h"

struct ec2; /* infra/ec2.h */

/* Same values and order as the config's CFG_DNS_* (anonymise/config.h). */
enum aws_dns_want {
    AWS_DNS_UNSET = 0, /* not configured: not checked */
    AWS_DNS_BOTH,      /* requester and accepter sides */
    AWS_DNS_REQUESTER, /* the requester side only */
    AWS_DNS_ACCEPTER,  /* the accepter side only */
    AWS_DNS_OFF,       /* expected off: not checked */
};

struct aws_peering_spec {
    const char *id;
    enum aws_dns_want dns_resolution;
    bool required; /* false: problems are WARN */
};

struct aws_route_spec {
    const char *route_table;
    const char *destination; /* CIDR */
    const char *peering;     /* pcx-... */
};

struct aws_sg_spec {
    const char *group; /* sg-... */
    int port;
    const char *from; /* a CIDR, or a security group id (sg-...) */
};

struct aws_check_input {
    const char *region;
    const char *endpoint; /* NULL = standard resolution (for ec2_new) */
    const struct aws_peering_spec *peerings;
    size_t n_peerings;
    const struct aws_route_spec *routes;
    size_t n_routes;
    const struct aws_sg_spec *security_groups;
    size_t n_security_groups;
    /* The caller's account id when known (NULL/""): used by the repair to decide which
     * side of a peering is ours. When unset, the owner of the configured route tables or
     * security groups is taken as ours. */
    const char *account_id;
    /* Where the job runs, the databases' addresses and the transit gateways allowed (NULL:
     * none known). The configured checks use them too: a security group is judged on the
     * job's real address and groups, the DNS option on how the names resolve. */
    const struct aws_path_input *path;
    bool run_path;        /* add the path.* results */
    bool skip_configured; /* only the path (--only path) */
};

/*
 * Run every AWS check and append one result per check to rep (ec2_call_count tells how
 * many EC2 requests it made).
 * Returns true when every check could run (the report may still hold FAILs: test with
 * check_report_failed). Returns false when the EC2 API cannot be used at all
 * (authentication failure, no network path, still throttled after retries): a FAIL result
 * saying so is appended, err holds the same message, and the remaining checks are not run.
 * Missing permissions (UnauthorizedOperation) are FAILs of the check concerned, naming
 * the IAM action to allow.
 */
bool aws_checks_run(struct ec2 *ec2, const struct aws_check_input *in, struct check_report *rep,
                    struct infra_error *err) INFRA_MUST_CHECK;

/* ---- building blocks, shared with infra/aws_repair.c and the tests ---- */

enum aws_route_verdict {
    AWS_ROUTE_OK = 0,       /* longest match is active and via the expected peering */
    AWS_ROUTE_MISSING,      /* no route covers the destination */
    AWS_ROUTE_BLACKHOLE,    /* the longest match is in state blackhole (or not active) */
    AWS_ROUTE_WRONG_TARGET, /* the longest match goes elsewhere (igw-, nat-, tgw-, another pcx,
                               local) */
    AWS_ROUTE_BAD_CIDR,     /* the destination in the input is not a CIDR */
};

/*
 * Longest-prefix match of destination (a CIDR) in table, against the routes with a CIDR
 * destination (prefix-list routes are skipped), judged against the expected peering.
 * *match points into table (NULL when MISSING or BAD_CIDR). *exact says whether the
 * matched route's destination equals the destination exactly.
 */
enum aws_route_verdict aws_route_lookup(const struct ec2_route_table *table,
                                        const char *destination, const char *peering,
                                        const struct ec2_route **match, bool *exact);

/* Does some ingress permission of g allow TCP `port` from `from` (CIDR or sg-id)?
 * *rule (may be NULL) receives the permission that does. */
bool aws_sg_allows(const struct ec2_security_group *g, int port, const char *from,
                   const struct ec2_ip_permission **rule);

#endif
