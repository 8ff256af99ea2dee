/*
 * aws_metadata.h: where the job runs, asked of the metadata services the way the AWS SDKs
 * find them, for the path analysis (infra/aws_path.h):
 *
 *   1. the ECS task metadata endpoint v4 (ECS_CONTAINER_METADATA_URI_V4): GET {uri}/task,
 *      the private IPv4 (and MAC) of a container network in awsvpc mode (Fargate, or EC2
 *      with awsvpc);
 *      a task in bridge or host mode uses the instance's interface, so the search goes on;
 *   2. IMDSv2, unless AWS_EC2_METADATA_DISABLED=true: PUT /latest/api/token, then
 *      local-ipv4, mac, and by MAC network/interfaces/macs/MAC/{interface-id, subnet-id,
 *      vpc-id, security-group-ids}. The endpoint is AWS_EC2_METADATA_SERVICE_ENDPOINT, else
 *      http://169.254.169.254 (http://[fd00:ec2::254] with
 *      AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6). Short timeouts (1 s per request, one
 *      attempt), like botocore's, so a machine outside AWS, or a container whose IMDSv2
 *      answers are dropped by the hop limit, is not held up.
 * The IMDS session token never leaves this file. Nothing here prints.
 */
#ifndef AWS_METADATA_H
#define AWS_METADATA_H

#include <stdbool.h>
#include <stddef.h>

#include "infra/infra_error.h"

#define AWS_METADATA_GROUPS_MAX 16

struct aws_job_identity {
    char ip[64];
    char eni[64];    /* "" when the source does not say */
    char mac[64];    /* the interface's MAC ("0a:1b:..."): tells apart interfaces that share
                        the address in different VPCs; "" when the source does not say */
    char subnet[64]; /* IMDS only */
    char vpc[64];    /* IMDS only */
    char groups[AWS_METADATA_GROUPS_MAX][64];
    size_t n_groups;
    char source[48]; /* "ECS task metadata v4" or "IMDSv2" */
};

/*
 * Fill *out from the first source that answers. False when none does: err says what was
 * tried ("no ECS_CONTAINER_METADATA_URI_V4; IMDSv2 disabled (AWS_EC2_METADATA_DISABLED)").
 */
bool aws_metadata_job_identity(struct aws_job_identity *out,
                               struct infra_error *err) INFRA_MUST_CHECK;

/* The parts, for tests: parse an ECS v4 task metadata document. */
bool aws_metadata_parse_ecs_task(const char *json, size_t len, struct aws_job_identity *out,
                                 struct infra_error *err) INFRA_MUST_CHECK;

#endif
