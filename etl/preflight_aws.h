/*
 * preflight_aws.h: the AWS half of `anonetl preflight` (etl/preflight.c), private to it:
 * the config turned into the plain input of infra/aws_checks.h (strings borrowed from the
 * config), the database endpoints' addresses and the job's identity for the path analysis,
 * the region, credentials and EC2 client.
 *
 * Where the addresses come from, per endpoint: network.endpoints[].ip when the config pins
 * it; else a literal address in the DSN (hostaddr or host); else the DSN host name resolved
 * the way the job resolves it (only when the dns check runs: `--only path` makes no live
 * probe); a unix socket or a loopback host has no VPC path.
 * Where the job runs: aws.job; else ECS task metadata v4; else IMDSv2 (infra/aws_metadata.h).
 * From metadata (the preflight runs as the job), each database address is also asked of
 * this host's kernel: the address it sends from there (a second interface of the instance,
 * when its routes say so) is where the packets leave (infra/aws_path.h job_ips).
 */
#ifndef PREFLIGHT_AWS_H
#define PREFLIGHT_AWS_H

#include <stdbool.h>
#include <stddef.h>

#include "anonymise/config.h"
#include "infra/aws_checks.h"
#include "infra/aws_creds.h"
#include "infra/check_report.h"
#include "infra/ec2.h"

struct pfaws_options {
    bool resolve_names;   /* the dns check runs: resolve DSN host names for the path */
    bool want_identity;   /* look up the job's identity (path, sg, route selected) */
    bool run_path;        /* add the path.* results */
    bool skip_configured; /* only the path */
};

struct pfaws_input; /* the aws_check_input and the storage behind it */

struct pfaws_input *pfaws_input_new(const struct config *cfg, const char *region,
                                    const struct pfaws_options *opt);
const struct aws_check_input *pfaws_input_get(const struct pfaws_input *s);
void pfaws_input_free(struct pfaws_input *s);

/* Region, credential chain and EC2 client; false with ierr set. */
bool pfaws_open(const struct config *cfg, char *region, size_t rsize,
                struct aws_creds_provider **creds, struct ec2 **ec2, struct infra_error *ierr);
void pfaws_close(struct aws_creds_provider *creds, struct ec2 *ec2);

/* Run the AWS checks into r (every group: the caller keeps the ones selected).
 * *calls: the EC2 requests made (0 when the client could not be made). False when the
 * EC2 API could not be used at all (the FAIL saying so is in r). */
bool pfaws_run(const struct config *cfg, const struct pfaws_options *opt, struct check_report *r,
               unsigned long *calls);

#endif
