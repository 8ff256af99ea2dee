/*
 * aws_repair.h: `anonetl preflight --repair`: a plan of the AWS fixes the seed scenario
 * knows, and applying it (only with --yes; the caller decides).
 *
 * Only three kinds of drift are repaired, and nothing is ever deleted or replaced:
 *   - accept a pending-acceptance peering that our account may accept (the accepter is
 *     the requester's account, or the caller's account) in our region;
 *   - enable remote VPC DNS resolution on the sides of a peering that our account owns,
 *     once the peering is active (or will be, after an accept in the same plan);
 *   - create a route to the configured peering where a new route is enough: nothing covers
 *     the destination, or only a wider route or a prefix list's entry does.
 * Anything else found wrong goes into the plan's notes (one line each, what a human
 * must do), not into its actions.
 */
#ifndef AWS_REPAIR_H
#define AWS_REPAIR_H

#include <stdbool.h>
#include <stddef.h>

#include "infra/aws_checks.h"
#include "infra/ec2_xml.h"
#include "infra/infra_error.h"

struct ec2; /* infra/ec2.h */

enum aws_repair_kind {
    AWS_REPAIR_ACCEPT_PEERING,
    AWS_REPAIR_ENABLE_DNS,
    AWS_REPAIR_CREATE_ROUTE,
};

enum aws_repair_state { AWS_REPAIR_PENDING = 0, AWS_REPAIR_DONE, AWS_REPAIR_FAILED };

struct aws_repair_action {
    enum aws_repair_kind kind;
    char peering[EC2_ID_MAX];
    bool requester_side, accepter_side; /* ENABLE_DNS */
    char route_table[EC2_ID_MAX];       /* CREATE_ROUTE */
    char destination[EC2_CIDR_MAX];     /* CREATE_ROUTE */
    char line[512]; /* human: "accept peering pcx-... (requester 1111..., vpc-...)" */
    /* filled by aws_repair_apply: */
    enum aws_repair_state state;
    char result[1024]; /* "done" or the error */
};

struct aws_repair_plan {
    struct aws_repair_action *actions;
    size_t n_actions;
    char (*notes)[512]; /* drift seen but not repairable here */
    size_t n_notes;
    size_t cap_actions, cap_notes;
    unsigned long ec2_calls; /* EC2 requests the planning made */
};

/*
 * Describe the current state (one aws_view: a fixed number of batched calls) and build
 * the plan (actions in the order they must run: accepts, DNS options, routes). An empty
 * plan (n_actions 0) means nothing to repair. Returns false when the EC2 API cannot be
 * used (err filled); a kind of object that cannot be described is a note. Start with a
 * zeroed plan; free it with aws_repair_plan_free.
 */
bool aws_repair_plan_build(struct ec2 *ec2, const struct aws_check_input *in,
                           struct aws_repair_plan *plan, struct infra_error *err) INFRA_MUST_CHECK;

/*
 * Apply every action in order; each action gets state and result. A DNS action waits (up
 * to wait_active_ms, polling every second) for its peering to become active after an
 * accept. Actions after a failed one still run unless they depend on it (DNS options of
 * a peering whose accept failed). Returns true when every action is DONE; otherwise
 * false with err naming the first failure.
 */
bool aws_repair_apply(struct ec2 *ec2, struct aws_repair_plan *plan, long wait_active_ms,
                      struct infra_error *err) INFRA_MUST_CHECK;

void aws_repair_plan_free(struct aws_repair_plan *plan);

#endif
