/*
 * aws_dnsopt.h: the "dns-option" check of the AWS preflight: remote VPC DNS resolution
 * (AllowDnsResolutionFromRemoteVpc) on the sides of a VPC peering the config expects,
 * judged on whether the job needs it.
 *
 * The option of one side makes the public DNS names of that side's VPC (an EC2
 * instance's, a publicly accessible RDS instance's) resolve to their private addresses
 * when queried from the other side. The job only queries the names of its databases, so
 * a side's option matters to it when the job runs on the other side and a database of the
 * job is in that side's VPC (an address it connects to, else its expect_cidr, in the VPC's
 * blocks) and is reached by a name. Per side the config wants on and finds off:
 *   FAIL  a name of a database there resolves to a public address (the traffic would
 *         leave through an internet or NAT gateway), or nothing shows how it resolves
 *         (the dns check did not run, the name does not resolve, a unix socket or a
 *         loopback proxy hides the upstream): fail closed
 *   INFO  the job runs in that VPC; no database of the job is there; every database
 *         there is reached by address (hostaddr, a literal) or its name already resolves
 *         to a private address there (a private RDS instance, a private hosted zone)
 * A peering marked required: false gets WARN instead of FAIL. The fix names who can make
 * the change: the side's owner account, in the side's region (each account changes its
 * own side; an inter-region peering's side is changed in that side's region), and
 * `anonetl preflight --repair` only for a side of ours in the region the preflight uses.
 */
#ifndef AWS_DNSOPT_H
#define AWS_DNSOPT_H

#include "infra/aws_checks.h"
#include "infra/aws_view.h"
#include "infra/check_report.h"

struct aws_dnsopt_context {
    const struct aws_view *v;
    const struct aws_path_input *path; /* the endpoints and the job; NULL when unknown */
    const char *job_vpc;               /* the job's VPC, or NULL when unknown */
    const char *our_account;           /* the caller's account, or NULL when unknown */
    const char *region;                /* the region the preflight talks to */
};

/* Append the dns-option result of the configured peering (none when the config does not
 * ask for the option). */
void aws_dnsopt_check(const struct aws_dnsopt_context *ctx, const struct aws_peering_spec *spec,
                      struct check_report *rep);

#endif
