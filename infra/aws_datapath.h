/*
 * aws_datapath.h: the data team's way to the anonymised database. Their VPC (the far side,
 * seen from the job's VPC, of each peering the config marks `required: false`) reaches the
 * target database in the isolated VPC over that peering; on our side the packets meet, in
 * order, the target subnet's network ACL (in: the database port from their block), the
 * target's security groups, the ACL again (out: replies to their client ports, 1024-65535:
 * their hosts' range is not known) and the target subnet's route table (the replies to
 * their block must take the peering). Their side (their route to us, their groups and
 * ACLs) is in their account and is not judged.
 *
 * Group "path.data-team", subject "data-team target <address>", one line per block of
 * their VPC and address of the target database that is in the job's VPC: PASS when every
 * hop lets the whole block through (the line names what decided each), else a WARN naming
 * the first hop that refuses (part of) it, with the fix (the peering is not required: the
 * job runs without it, so nothing here is a FAIL). A rule that covers only part of their
 * block, an ACL rule or a more specific route, is a WARN too: which of their hosts it
 * touches is theirs to say.
 */
#ifndef AWS_DATAPATH_H
#define AWS_DATAPATH_H

#include <stddef.h>

#include "infra/aws_path.h"
#include "infra/aws_view.h"
#include "infra/check_report.h"

/* Append the path.data-team lines for the data team's peerings (ids) to rep. */
void aws_datapath_run(const struct aws_view *v, const struct aws_path_input *in,
                      const char *const *data_peerings, size_t n_data_peerings,
                      struct check_report *rep);

#endif
